/// JSON lines for histories: one operation event per line (format in docs/HISTORY.md).
///
/// ```
/// {"type":"invoke","op":12,"process":3,"key":"42","f":"write","value":7,"time":1234}
/// {"type":"ok","op":12,"process":3,"key":"42","f":"write","value":7,"time":2234}
/// ```
///
/// The reader is a small, strict JSON parser of its own (no Foundation): it keeps 64-bit
/// integers exact, and every error names the line, and the column or the field.

// MARK: - Errors

/// Why a JSON-lines history could not be read. Each case names the source and line.
public enum HistoryError: Error, Equatable, CustomStringConvertible {
    /// The line is not a JSON object; `column` counts bytes from 1.
    case syntax(source: String, line: Int, column: Int, message: String)
    /// A field is missing, has the wrong type, or a value outside the allowed ones.
    case field(source: String, line: Int, field: String, message: String)
    /// The event contradicts an earlier one: an op invoked twice, completed twice, completed
    /// without an invocation, completed before it was invoked, or a completion whose fields
    /// disagree with its invocation.
    case sequence(source: String, line: Int, field: String, message: String)

    public var description: String {
        switch self {
        case let .syntax(source, line, column, message):
            "\(source):\(line):\(column): not a JSON object: \(message)"
        case let .field(source, line, field, message):
            "\(source):\(line): field \"\(field)\": \(message)"
        case let .sequence(source, line, field, message):
            "\(source):\(line): field \"\(field)\": \(message)"
        }
    }
}

// MARK: - Writing

public enum HistoryJSONL {
    /// One event line (no newline): fields in the documented order, `value` always present.
    public static func line(type: String, op: UInt64, process: UInt64, key: String, kind: OperationKind,
                            value: UInt64?, time: Int64) -> String {
        var out = "{\"type\":\"\(type)\",\"op\":\(op),\"process\":\(process),\"key\":"
        quote(key, into: &out)
        out += ",\"f\":\"\(kind)\",\"value\":"
        out += value.map { String($0) } ?? "null"
        out += ",\"time\":\(time)}"
        return out
    }

    /// Writes histories as JSON lines: all events of all keys ordered by time, invocations
    /// before completions at equal times, then by key order and op id. Unknown operations get
    /// no completion line (an `info` line would say the same); failed ones get a `fail` line.
    public static func export(_ histories: [KeyHistory]) -> String {
        struct Event { var time: Int64; var rank: Int; var keyIndex: Int; var op: UInt64; var line: String }
        var events: [Event] = []
        for (k, h) in histories.enumerated() {
            for o in h.operations {
                events.append(Event(time: o.invokeTime, rank: 0, keyIndex: k, op: o.id,
                                    line: line(type: "invoke", op: o.id, process: o.process, key: h.key, kind: o.kind,
                                               value: o.kind == .write ? o.value : nil, time: o.invokeTime)))
                if let t = o.completeTime {
                    let value = o.kind == .write || (o.kind == .read && o.outcome == .ok) ? o.value : nil
                    events.append(Event(time: t, rank: 1, keyIndex: k, op: o.id,
                                        line: line(type: o.outcome.eventType, op: o.id, process: o.process, key: h.key,
                                                   kind: o.kind, value: value, time: t)))
                }
            }
        }
        events.sort { ($0.time, $0.rank, $0.keyIndex, $0.op) < ($1.time, $1.rank, $1.keyIndex, $1.op) }
        var out = ""
        for e in events { out += e.line; out += "\n" }
        return out
    }

    /// Appends `s` as a JSON string literal (RFC 8259 escapes; the one JSON string writer of
    /// the project — the report writer uses it too).
    public static func quote(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    /// A JSON string literal.
    static func quoted(_ s: String) -> String {
        var out = ""
        quote(s, into: &out)
        return out
    }
}

// MARK: - Reading

extension HistoryJSONL {
    /// Reads JSON lines into per-key histories, keys in ``KeyHistory/keyOrder(_:_:)`` order.
    /// Blank lines are skipped; fields not in the format are ignored. Operations invoked but
    /// never completed are `unknown`.
    /// - Parameters:
    ///   - text: the file's contents.
    ///   - source: the name used in error messages (a path, or `<stdin>`).
    /// - Throws: ``HistoryError`` naming the first bad line.
    public static func parse(_ text: String, source: String) throws -> [KeyHistory] {
        try parse(bytes: Array(text.utf8), source: source)
    }

    /// Reads JSON lines from UTF-8 bytes; see ``parse(_:source:)``.
    public static func parse(bytes: [UInt8], source: String) throws -> [KeyHistory] {
        struct Open { var id: UInt64; var key: String; var kind: OperationKind; var process: UInt64; var value: UInt64?
                      var invokeTime: Int64; var line: Int; var completedLine: Int?
                      var completeTime: Int64?; var outcome: Outcome; var readValue: UInt64? }
        var ops: [Open] = []
        var byID: [UInt64: Int] = [:]
        var lineNumber = 0
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
            lineNumber += 1
            var lineEnd = end
            if lineEnd > start && bytes[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
            defer { start = end + 1 }
            var scanner = LineScanner(bytes: bytes, start: start, end: lineEnd, source: source, line: lineNumber)
            if scanner.isBlank { continue }
            let fields = try scanner.parseObject()
            let ev = EventFields(fields: fields, source: source, line: lineNumber)

            let type = try ev.string("type", allowed: ["invoke", "ok", "fail", "info"])
            let op = try ev.unsigned("op")
            if type == "invoke" {
                if let earlier = byID[op] {
                    throw HistoryError.sequence(source: source, line: lineNumber, field: "op",
                                                message: "op \(op) was already invoked on line \(ops[earlier].line); op ids must be unique")
                }
                let process = try ev.unsigned("process")
                let key = try ev.key()
                let kindName = try ev.string("f", allowed: ["write", "read", "delete"])
                let kind = OperationKind.allCases.first { $0.description == kindName }!  // allowed list above
                let value: UInt64?
                switch kind {
                case .write: value = try ev.unsigned("value", context: "a write's invocation needs the version it writes")
                case .read, .delete:
                    try ev.requireNullOrAbsent("value", context: "a \(kind)'s invocation carries no value")
                    value = nil
                }
                let time = try ev.signed("time")
                byID[op] = ops.count
                ops.append(Open(id: op, key: key, kind: kind, process: process, value: value, invokeTime: time, line: lineNumber,
                                completedLine: nil, completeTime: nil, outcome: .unknown, readValue: nil))
            } else {
                guard let index = byID[op] else {
                    throw HistoryError.sequence(source: source, line: lineNumber, field: "op",
                                                message: "op \(op) completes (\"\(type)\") but was never invoked on an earlier line")
                }
                var o = ops[index]
                if let earlier = o.completedLine {
                    throw HistoryError.sequence(source: source, line: lineNumber, field: "op",
                                                message: "op \(op) already completed on line \(earlier)")
                }
                let mismatch = { (field: String, was: String, now: String) in
                    HistoryError.sequence(source: source, line: lineNumber, field: field,
                                          message: "op \(op) was invoked on line \(o.line) with \(field) \(was), but completes with \(now)")
                }
                if let process = try ev.optionalUnsigned("process"), process != o.process {
                    throw mismatch("process", String(o.process), String(process))
                }
                if let key = try ev.optionalKey(), key != o.key {
                    throw mismatch("key", quoted(o.key), quoted(key))
                }
                if let kindName = try ev.optionalString("f", allowed: ["write", "read", "delete"]), kindName != o.kind.description {
                    throw mismatch("f", quoted(o.kind.description), quoted(kindName))
                }
                let outcome: Outcome = type == "ok" ? .ok : type == "fail" ? .fail : .unknown
                switch o.kind {
                case .write:
                    if let v = try ev.optionalUnsigned("value"), v != o.value {
                        throw mismatch("value", o.value.map(String.init) ?? "null", String(v))
                    }
                case .delete:
                    try ev.requireNullOrAbsent("value", context: "a delete carries no value")
                case .read:
                    if outcome == .ok {
                        o.readValue = try ev.unsignedOrNull("value",
                            context: "an ok read must say what it read: a version, or null for not found")
                    }
                }
                let time = try ev.signed("time")
                if time < o.invokeTime {
                    throw HistoryError.sequence(source: source, line: lineNumber, field: "time",
                                                message: "op \(op) completes at \(time), before its invocation at \(o.invokeTime) (line \(o.line))")
                }
                o.completedLine = lineNumber
                o.completeTime = time
                o.outcome = outcome
                ops[index] = o
            }
        }

        // Group by key; the order comes from sorting the keys, never from the dictionary.
        var keyIndex: [String: Int] = [:]
        var keys: [String] = []
        var grouped: [[HistoryOperation]] = []
        for o in ops {
            let k: Int
            if let existing = keyIndex[o.key] { k = existing } else {
                k = keys.count
                keyIndex[o.key] = k
                keys.append(o.key)
                grouped.append([])
            }
            grouped[k].append(HistoryOperation(id: o.id, process: o.process, kind: o.kind,
                                               value: o.kind == .read ? (o.outcome == .ok ? o.readValue : nil) : o.value,
                                               invokeTime: o.invokeTime, completeTime: o.completeTime, outcome: o.outcome))
        }
        return keys.indices.sorted { KeyHistory.keyOrder(keys[$0], keys[$1]) }
            .map { KeyHistory(key: keys[$0], operations: grouped[$0]) }
    }
}
