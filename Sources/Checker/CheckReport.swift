/// The linearizability check of many keys, aggregated, with text and JSON renderings.
public struct CheckReport: Sendable, Equatable {
    /// How many undecided keys are listed by name.
    public static let undecidedKeysMax = 20

    /// The overall answer: not linearizable if any key is not; otherwise unknown if any key
    /// is undecided; otherwise linearizable.
    public enum Summary: String, Sendable {
        case linearizable
        case notLinearizable = "not_linearizable"
        case unknown
    }

    /// Search steps allowed per key.
    public var budget: Int
    public var keys = 0
    /// Relevant operations over all keys (ok ones, and writes or deletes with unknown outcomes).
    public var operations = 0
    public var linearizable = 0
    public var notLinearizable = 0
    public var unknown = 0
    /// Search steps spent deciding, over all keys (shrinking not included).
    public var steps = 0
    /// The first counterexamples, in key order.
    public var counterexamples: [Counterexample] = []
    /// The first undecided keys, in key order (at most ``undecidedKeysMax``).
    public var undecidedKeys: [String] = []

    public init(budget: Int) { self.budget = budget }

    public var summary: Summary {
        notLinearizable > 0 ? .notLinearizable : unknown > 0 ? .unknown : .linearizable
    }

    /// A readable report: the verdict, the counts, the counterexamples.
    public func text() -> String {
        var out: String
        switch summary {
        case .linearizable:
            out = "linearizable: all \(keys) keys (\(operations) operations)\n"
        case .notLinearizable:
            out = "NOT linearizable: \(notLinearizable) of \(keys) keys (\(operations) operations)\n"
        case .unknown:
            out = "could not decide: \(unknown) of \(keys) keys ran out of the search budget (\(budget) steps per key); the others are linearizable\n"
        }
        out += "keys: \(linearizable) linearizable, \(notLinearizable) not linearizable, \(unknown) undecided; \(steps) search steps\n"
        if !undecidedKeys.isEmpty {
            out += "undecided keys\(unknown > undecidedKeys.count ? " (first \(undecidedKeys.count))" : ""): "
                + undecidedKeys.map(HistoryJSONL.quoted).joined(separator: ", ")
                + "; a larger --budget may decide them\n"
        }
        if !counterexamples.isEmpty {
            out += "\n"
            if notLinearizable > counterexamples.count {
                out += "first \(counterexamples.count) counterexamples:\n"
            }
            for c in counterexamples { out += c.description + "\n" }
        }
        return out
    }

    /// The report as JSON (two-space indentation, fields in a fixed order, integers exact).
    public func json() -> String {
        var out = "{\n"
        out += "  \"verdict\": \"\(summary.rawValue)\",\n"
        out += "  \"budget\": \(budget),\n"
        out += "  \"keys\": {\"total\": \(keys), \"linearizable\": \(linearizable), \"not_linearizable\": \(notLinearizable), \"unknown\": \(unknown)},\n"
        out += "  \"operations\": \(operations),\n"
        out += "  \"steps\": \(steps),\n"
        out += "  \"undecided_keys\": [" + undecidedKeys.map(HistoryJSONL.quoted).joined(separator: ", ") + "],\n"
        out += "  \"counterexamples\": ["
        for (i, c) in counterexamples.enumerated() {
            out += i == 0 ? "\n" : ",\n"
            out += "    {\n"
            out += "      \"key\": \(HistoryJSONL.quoted(c.key)),\n"
            out += "      \"key_operations\": \(c.keyOperationCount),\n"
            out += "      \"shrunk\": \(c.isShrunk),\n"
            out += "      \"operations\": [\n"
            for (j, o) in c.operations.enumerated() {
                out += "        {\"op\": \(o.id), \"process\": \(o.process), \"f\": \"\(o.kind)\", "
                out += "\"value\": \(o.value.map(String.init) ?? "null"), \"invoke\": \(o.invokeTime), "
                out += "\"complete\": \(o.completeTime.map(String.init) ?? "null"), \"outcome\": \"\(o.outcome.eventType)\"}"
                out += j + 1 < c.operations.count ? ",\n" : "\n"
            }
            out += "      ]\n    }"
        }
        out += counterexamples.isEmpty ? "]\n" : "\n  ]\n"
        out += "}\n"
        return out
    }
}
