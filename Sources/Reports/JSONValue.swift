import Checker

/// A JSON value with ordered object keys, and a deterministic serialiser.
///
/// Reports are written through this type rather than `JSONEncoder` so that key order is
/// the order the schema documents (not alphabetical, not hash order), numbers print the
/// same way on every run (shortest round-trip form for doubles, integers as integers), and
/// the bytes are identical for identical reports.
public indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool { a.serialized() == b.serialized() }

    /// Serialises with two-space indentation and a trailing newline.
    public func serialized() -> String {
        var out = ""
        write(into: &out, indent: 0)
        out += "\n"
        return out
    }

    func write(into out: inout String, indent: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            if !d.isFinite { out += "null" }
            else if d == d.rounded() && abs(d) < 1e15 { out += String(Int64(d)) }
            else { out += "\(d)" }
        case .string(let s): JSONValue.quote(s, into: &out)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            let scalar = items.allSatisfy { if case .array = $0 { return false }; if case .object = $0 { return false }; return true }
            if scalar {
                out += "["
                for (i, v) in items.enumerated() {
                    if i > 0 { out += ", " }
                    v.write(into: &out, indent: indent)
                }
                out += "]"
                return
            }
            out += "[\n"
            for (i, v) in items.enumerated() {
                out += String(repeating: " ", count: indent + 2)
                v.write(into: &out, indent: indent + 2)
                out += i + 1 < items.count ? ",\n" : "\n"
            }
            out += String(repeating: " ", count: indent) + "]"
        case .object(let pairs):
            if pairs.isEmpty { out += "{}"; return }
            out += "{\n"
            for (i, (k, v)) in pairs.enumerated() {
                out += String(repeating: " ", count: indent + 2)
                JSONValue.quote(k, into: &out)
                out += ": "
                v.write(into: &out, indent: indent + 2)
                out += i + 1 < pairs.count ? ",\n" : "\n"
            }
            out += String(repeating: " ", count: indent) + "}"
        }
    }

    static func quote(_ s: String, into out: inout String) { HistoryJSONL.quote(s, into: &out) }
}

// MARK: - Reading

extension JSONValue {
    /// Why a JSON text did not parse: the 1-based line and column, and what was expected.
    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public var line: Int
        public var column: Int
        public var message: String
        public var description: String { "line \(line), column \(column): \(message)" }
    }

    /// Parses JSON text, keeping object keys in file order and integers as integers (a
    /// number without a fraction or exponent that fits in `Int64`), so that reading a file
    /// this module wrote and serialising it again gives the same bytes.
    /// - Throws: ``ParseError`` naming the line and column of the first problem.
    public static func parse(_ text: String) throws -> JSONValue {
        var p = JSONParser(Array(text.utf8))
        let v = try p.value(depth: 0)
        p.skipSpace()
        if p.i < p.b.count { throw p.error("unexpected text after the JSON value") }
        return v
    }

    /// The value under `key` of an object (the first, if repeated), or `nil`.
    public subscript(key: String) -> JSONValue? {
        if case .object(let pairs) = self { return pairs.first { $0.0 == key }?.1 }
        return nil
    }

    /// The value at a dotted path (`"verdict.slos_passed"`), or `nil`.
    public func at(_ path: String) -> JSONValue? {
        var v: JSONValue? = self
        for part in path.split(separator: ".") { v = v?[String(part)] }
        return v
    }

    /// A number as `Double` (integers converted), or `nil` for anything else.
    public var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    public var string: String? { if case .string(let s) = self { return s }; return nil }
    public var bool: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var array: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    public var pairs: [(String, JSONValue)]? { if case .object(let p) = self { return p }; return nil }
}

/// A small recursive-descent JSON reader (RFC 8259) over UTF-8 bytes.
struct JSONParser {
    let b: [UInt8]
    var i = 0
    /// Nesting bound, so a hostile file cannot exhaust the stack.
    static let maxDepth = 512

    init(_ bytes: [UInt8]) { b = bytes }

    func error(_ message: String) -> JSONValue.ParseError {
        var line = 1, column = 1
        for k in 0..<min(i, b.count) {
            if b[k] == UInt8(ascii: "\n") { line += 1; column = 1 } else if b[k] & 0xC0 != 0x80 { column += 1 }
        }
        return JSONValue.ParseError(line: line, column: column, message: message)
    }

    mutating func skipSpace() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    mutating func literal(_ word: String, _ v: JSONValue) throws -> JSONValue {
        let w = Array(word.utf8)
        guard i + w.count <= b.count, Array(b[i..<i + w.count]) == w else { throw error("expected a JSON value") }
        i += w.count
        return v
    }

    mutating func value(depth: Int) throws -> JSONValue {
        skipSpace()
        guard depth < JSONParser.maxDepth else { throw error("nested deeper than \(JSONParser.maxDepth) levels") }
        guard i < b.count else { throw error("unexpected end of input, expected a JSON value") }
        switch b[i] {
        case UInt8(ascii: "{"):
            i += 1
            var pairs: [(String, JSONValue)] = []
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return .object(pairs) }
            while true {
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw error("expected a string key") }
                let k = try string()
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: ":") else { throw error("expected ':' after a key") }
                i += 1
                pairs.append((k, try value(depth: depth + 1)))
                skipSpace()
                guard i < b.count else { throw error("unexpected end of input in an object") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "}") { i += 1; return .object(pairs) }
                throw error("expected ',' or '}' in an object")
            }
        case UInt8(ascii: "["):
            i += 1
            var items: [JSONValue] = []
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            while true {
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard i < b.count else { throw error("unexpected end of input in an array") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                throw error("expected ',' or ']' in an array")
            }
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        default: return try number()
        }
    }

    mutating func number() throws -> JSONValue {
        let start = i
        var integral = true
        if i < b.count, b[i] == UInt8(ascii: "-") { i += 1 }
        while i < b.count {
            let c = b[i]
            if c >= 0x30 && c <= 0x39 { i += 1; continue }
            if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E")
                || c == UInt8(ascii: "+") || c == UInt8(ascii: "-") { integral = false; i += 1; continue }
            break
        }
        let text = String(decoding: b[start..<i], as: UTF8.self)
        if integral, let n = Int64(text) { return .int(n) }
        guard !text.isEmpty, text != "-", let d = Double(text), d.isFinite else {
            i = start
            throw error(text.isEmpty ? "expected a JSON value" : "'\(text)' is not a number")
        }
        return .double(d)
    }

    mutating func hex4() throws -> UInt32 {
        guard i + 4 <= b.count, let v = UInt32(String(decoding: b[i..<i + 4], as: UTF8.self), radix: 16) else {
            throw error("expected four hex digits after \\u")
        }
        i += 4
        return v
    }

    mutating func string() throws -> String {
        i += 1  // the opening quote
        var out = [UInt8]()
        while true {
            guard i < b.count else { throw error("unterminated string") }
            let c = b[i]
            i += 1
            if c == UInt8(ascii: "\"") { break }
            if c < 0x20 { throw error("control character in a string") }
            if c != UInt8(ascii: "\\") { out.append(c); continue }
            guard i < b.count else { throw error("unterminated escape") }
            let e = b[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    guard i + 2 <= b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") else {
                        throw error("unpaired surrogate in \\u escape")
                    }
                    i += 2
                    let low = try hex4()
                    guard low >= 0xDC00 && low < 0xE000 else { throw error("unpaired surrogate in \\u escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let u = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default: throw error("unknown escape '\\\(Character(Unicode.Scalar(e)))'")
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
