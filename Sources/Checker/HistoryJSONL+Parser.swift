/// A strict reader for one JSON object per line, and typed access to its fields.
///
/// Only what the history format needs: an object whose values are strings, integers, `null`
/// or booleans. Arrays, objects and fractional numbers are parsed (so fields outside the
/// format may hold them and are ignored) but rejected where the format expects a scalar.
/// Integers are kept exact up to 64 bits; nesting is bounded so hostile input cannot exhaust
/// the stack.

/// A parsed JSON value, as far as the format cares.
enum JSONScalar: Equatable {
    case string(String)
    /// An integer that fits in 64 bits of magnitude.
    case integer(negative: Bool, magnitude: UInt64)
    case null
    case bool(Bool)
    /// A number with a fraction or exponent, or an integer beyond 64 bits (its source text).
    case number(String)
    /// An array or an object ("an array" / "an object").
    case composite(String)

    /// How the value reads in an error message.
    var shown: String {
        switch self {
        case .string(let s): HistoryJSONL.quoted(s)
        case let .integer(negative, magnitude): (negative ? "-" : "") + String(magnitude)
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .number(let text): text
        case .composite(let what): what
        }
    }
}

/// Scans one line (bytes `start..<end` of the file).
struct LineScanner {
    let bytes: [UInt8]
    var pos: Int
    let start: Int
    let end: Int
    let source: String
    let line: Int
    static let depthMax = 64

    init(bytes: [UInt8], start: Int, end: Int, source: String, line: Int) {
        self.bytes = bytes
        self.pos = start
        self.start = start
        self.end = end
        self.source = source
        self.line = line
    }

    var isBlank: Bool {
        var i = start
        while i < end {
            if !LineScanner.isSpace(bytes[i]) { return false }
            i += 1
        }
        return true
    }

    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D }

    func error(_ message: String) -> HistoryError {
        .syntax(source: source, line: line, column: pos - start + 1, message: message)
    }

    var peek: UInt8? { pos < end ? bytes[pos] : nil }

    mutating func skipSpace() {
        while pos < end && LineScanner.isSpace(bytes[pos]) { pos += 1 }
    }

    mutating func expect(_ c: Character, _ message: String) throws {
        guard peek == c.asciiValue else { throw error(message) }
        pos += 1
    }

    /// Parses the whole line as one object; nothing but spaces may follow it.
    mutating func parseObject() throws -> [(String, JSONScalar)] {
        skipSpace()
        guard peek == UInt8(ascii: "{") else {
            throw error("expected '{' to open an object (one event per line)")
        }
        pos += 1
        var fields: [(String, JSONScalar)] = []
        skipSpace()
        if peek == UInt8(ascii: "}") {
            pos += 1
        } else {
            while true {
                skipSpace()
                guard peek == UInt8(ascii: "\"") else { throw error("expected a field name in double quotes") }
                let name = try parseString()
                if fields.contains(where: { $0.0 == name }) {
                    throw HistoryError.field(source: source, line: line, field: name, message: "appears twice in one event")
                }
                skipSpace()
                try expect(":", "expected ':' after the field name")
                skipSpace()
                let value = try parseValue(depth: 1)
                fields.append((name, value))
                skipSpace()
                if peek == UInt8(ascii: ",") { pos += 1; continue }
                if peek == UInt8(ascii: "}") { pos += 1; break }
                throw error("expected ',' or '}' after a field's value")
            }
        }
        skipSpace()
        if pos < end { throw error("unexpected text after the object (one event per line)") }
        return fields
    }

    mutating func parseValue(depth: Int) throws -> JSONScalar {
        guard depth <= LineScanner.depthMax else { throw error("nested deeper than \(LineScanner.depthMax) levels") }
        guard let c = peek else { throw error("expected a value, found the end of the line") }
        switch c {
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "["):
            pos += 1
            skipSpace()
            if peek == UInt8(ascii: "]") { pos += 1; return .composite("an array") }
            while true {
                skipSpace()
                _ = try parseValue(depth: depth + 1)
                skipSpace()
                if peek == UInt8(ascii: ",") { pos += 1; continue }
                if peek == UInt8(ascii: "]") { pos += 1; return .composite("an array") }
                throw error("expected ',' or ']' in an array")
            }
        case UInt8(ascii: "{"):
            pos += 1
            skipSpace()
            if peek == UInt8(ascii: "}") { pos += 1; return .composite("an object") }
            while true {
                skipSpace()
                guard peek == UInt8(ascii: "\"") else { throw error("expected a field name in double quotes") }
                _ = try parseString()
                skipSpace()
                try expect(":", "expected ':' after the field name")
                skipSpace()
                _ = try parseValue(depth: depth + 1)
                skipSpace()
                if peek == UInt8(ascii: ",") { pos += 1; continue }
                if peek == UInt8(ascii: "}") { pos += 1; return .composite("an object") }
                throw error("expected ',' or '}' in an object")
            }
        default:
            throw error("expected a value (a string, number, null, true, false, array or object)")
        }
    }

    mutating func literal(_ word: String) throws {
        for b in word.utf8 {
            guard peek == b else { throw error("expected '\(word)'") }
            pos += 1
        }
    }

    /// Parses a number; integers stay exact, anything else keeps its text.
    mutating func parseNumber() throws -> JSONScalar {
        let begin = pos
        var negative = false
        if peek == UInt8(ascii: "-") { negative = true; pos += 1 }
        guard let first = peek, first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9") else {
            throw error("expected a digit")
        }
        var magnitude: UInt64 = 0
        var overflow = false
        if first == UInt8(ascii: "0") {
            pos += 1
            if let d = peek, d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") {
                throw error("numbers must not have leading zeros")
            }
        } else {
            while let d = peek, d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") {
                let (m1, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (m2, o2) = m1.addingReportingOverflow(UInt64(d - UInt8(ascii: "0")))
                overflow = overflow || o1 || o2
                magnitude = m2
                pos += 1
            }
        }
        var fractional = false
        if peek == UInt8(ascii: ".") {
            fractional = true
            pos += 1
            guard let d = peek, d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") else { throw error("expected a digit after '.'") }
            while let d = peek, d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") { pos += 1 }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            fractional = true
            pos += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { pos += 1 }
            guard let d = peek, d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") else { throw error("expected a digit in the exponent") }
            while let d = peek, d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") { pos += 1 }
        }
        if fractional || overflow {
            return .number(String(decoding: bytes[begin..<pos], as: UTF8.self))
        }
        return .integer(negative: negative && magnitude != 0, magnitude: magnitude)
    }

    /// Parses a string literal (the scanner is on its opening quote).
    mutating func parseString() throws -> String {
        pos += 1
        var out: [UInt8] = []
        while true {
            guard let c = peek else { throw error("unterminated string") }
            pos += 1
            switch c {
            case UInt8(ascii: "\""):
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard let e = peek else { throw error("unterminated escape") }
                pos += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        // A high surrogate must be followed by an escaped low surrogate.
                        guard peek == UInt8(ascii: "\\") else { throw error("a \\u high surrogate must be followed by a low surrogate") }
                        pos += 1
                        guard peek == UInt8(ascii: "u") else { throw error("a \\u high surrogate must be followed by a low surrogate") }
                        pos += 1
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("invalid \\u low surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        throw error("unpaired \\u low surrogate")
                    }
                    // The ranges above leave only valid scalars, so this cannot fail.
                    out.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar)!)).utf8))
                default:
                    pos -= 1
                    throw error("unknown escape '\\\(Character(Unicode.Scalar(e)))'")
                }
            default:
                if c < 0x20 { pos -= 1; throw error("control character in a string (escape it)") }
                out.append(c)
            }
        }
    }

    mutating func hex4() throws -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard let c = peek else { throw error("expected four hex digits after \\u") }
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw error("expected four hex digits after \\u")
            }
            v = v * 16 + d
            pos += 1
        }
        return v
    }
}

// MARK: - Typed fields

/// The fields of one event, with typed accessors whose errors name the field and the values
/// it allows.
struct EventFields {
    let fields: [(String, JSONScalar)]
    let source: String
    let line: Int

    subscript(name: String) -> JSONScalar? { fields.first { $0.0 == name }?.1 }

    func error(_ field: String, _ message: String) -> HistoryError {
        .field(source: source, line: line, field: field, message: message)
    }

    static let unsignedRange = "a non-negative integer (0 to 18446744073709551615)"
    static let signedRange = "an integer number of nanoseconds (-9223372036854775808 to 9223372036854775807)"

    func string(_ name: String, allowed: [String]) throws -> String {
        guard let s = try optionalString(name, allowed: allowed) else {
            throw error(name, "missing; expected one of \(allowed.joined(separator: ", "))")
        }
        return s
    }

    func optionalString(_ name: String, allowed: [String]) throws -> String? {
        guard let v = self[name] else { return nil }
        let list = allowed.joined(separator: ", ")
        guard case .string(let s) = v else { throw error(name, "expected a string, one of \(list); got \(v.shown)") }
        guard allowed.contains(s) else { throw error(name, "expected one of \(list); got \(v.shown)") }
        return s
    }

    func unsigned(_ name: String, context: String? = nil) throws -> UInt64 {
        guard let n = try optionalUnsigned(name) else {
            throw error(name, "missing; expected \(EventFields.unsignedRange)" + (context.map { " (\($0))" } ?? ""))
        }
        return n
    }

    func optionalUnsigned(_ name: String) throws -> UInt64? {
        guard let v = self[name] else { return nil }
        guard case let .integer(negative, magnitude) = v, !negative else {
            throw error(name, "expected \(EventFields.unsignedRange); got \(v.shown)")
        }
        return magnitude
    }

    func signed(_ name: String) throws -> Int64 {
        guard let v = self[name] else { throw error(name, "missing; expected \(EventFields.signedRange)") }
        guard case let .integer(negative, magnitude) = v else {
            throw error(name, "expected \(EventFields.signedRange); got \(v.shown)")
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { throw error(name, "expected \(EventFields.signedRange); got \(v.shown)") }
            return magnitude == UInt64(Int64.max) + 1 ? .min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { throw error(name, "expected \(EventFields.signedRange); got \(v.shown)") }
        return Int64(magnitude)
    }

    /// A version or `null`, which must be present.
    func unsignedOrNull(_ name: String, context: String) throws -> UInt64? {
        guard let v = self[name] else { throw error(name, "missing; \(context)") }
        if v == .null { return nil }
        guard case let .integer(negative, magnitude) = v, !negative else {
            throw error(name, "expected \(EventFields.unsignedRange) or null; got \(v.shown) (\(context))")
        }
        return magnitude
    }

    func requireNullOrAbsent(_ name: String, context: String) throws {
        if let v = self[name], v != .null { throw error(name, "expected null or no field; got \(v.shown) (\(context))") }
    }

    /// The key: a string, or a non-negative integer taken as its decimal text.
    func key() throws -> String {
        guard let k = try optionalKey() else { throw error("key", "missing; expected a string (or a non-negative integer)") }
        return k
    }

    func optionalKey() throws -> String? {
        guard let v = self["key"] else { return nil }
        switch v {
        case .string(let s): return s
        case let .integer(false, magnitude): return String(magnitude)
        default: throw error("key", "expected a string (or a non-negative integer); got \(v.shown)")
        }
    }
}
