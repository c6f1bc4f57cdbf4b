/// Checks per-key register histories for linearizability.
///
/// A history is *linearizable* when every ok operation, and any subset of the unknown writes
/// and deletes, can be put in one total order that (1) respects real time — an operation that
/// completed before another was invoked comes first — and (2) is a legal register run: every
/// read returns the version of the latest write before it, or `nil` when there is none or a
/// delete came later. Linearizability is compositional (Herlihy and Wing's locality; Horn and
/// Kroening's P-compositionality), so each key is checked on its own.
///
/// The answer is deterministic: the search is bounded by a step budget, not by time.
public struct LinearizabilityChecker: Sendable {
    /// The default budget: search steps per key (a step is one move of the search, roughly
    /// 100 ns in a release build).
    public static let defaultBudget = 1_000_000

    /// Search steps per key before answering `unknown`. Shrinking a counterexample may spend
    /// as many again.
    public var budget: Int

    public init(budget: Int = LinearizabilityChecker.defaultBudget) {
        precondition(budget > 0, "LinearizabilityChecker: the budget must be positive")
        self.budget = budget
    }

    /// Checks one key.
    /// - Parameters:
    ///   - history: the key's operations.
    ///   - shrink: whether to shrink a counterexample (otherwise it lists every relevant
    ///     operation of the key).
    public func check(_ history: KeyHistory, shrink: Bool = true) -> KeyCheck {
        let relevant = history.operations.filter(\.isRelevant)
        let searched = LinearizabilityChecker.droppingUnobservedUnknowns(relevant)
        var search = LinearizabilitySearch(operations: searched, budget: budget)
        let result = search.run()
        let steps = budget - search.stepsLeft
        let verdict: Verdict
        switch result {
        case .linearizable: verdict = .linearizable
        case .exhausted: verdict = .unknown
        case .notLinearizable:
            var example = Counterexample(key: history.key, operations: searched, keyOperationCount: relevant.count,
                                         isShrunk: false)
            if shrink { example = shrunk(example, failedSegment: search.failedSegment) }
            verdict = .notLinearizable(example)
        }
        return KeyCheck(key: history.key, operationCount: relevant.count, steps: steps, verdict: verdict)
    }

    /// Checks every key and aggregates the answers.
    /// - Parameters:
    ///   - histories: one per key, in the order to report them.
    ///   - counterexamplesMax: how many counterexamples to shrink and keep (the first ones in
    ///     key order).
    public func check(_ histories: [KeyHistory], counterexamplesMax: Int = 3) -> CheckReport {
        var report = CheckReport(budget: budget)
        for h in histories {
            let result = check(h, shrink: report.counterexamples.count < counterexamplesMax)
            report.keys += 1
            report.operations += result.operationCount
            report.steps += result.steps
            switch result.verdict {
            case .linearizable:
                report.linearizable += 1
            case .unknown:
                report.unknown += 1
                if report.undecidedKeys.count < CheckReport.undecidedKeysMax { report.undecidedKeys.append(h.key) }
            case .notLinearizable(let example):
                report.notLinearizable += 1
                if report.counterexamples.count < counterexamplesMax { report.counterexamples.append(example) }
            }
        }
        return report
    }

    /// Drops unknown writes no read observed (no ok read returned their version) and unknown
    /// deletes when no ok read returned not found. This changes no answer: such an operation
    /// may be left out of any linearization (it may never have happened), and leaving it out
    /// of one that has it keeps it valid (no read sees its effect). It helps the search, since
    /// an unknown operation spans to +infinity and would prevent every later quiescent split.
    static func droppingUnobservedUnknowns(_ operations: [HistoryOperation]) -> [HistoryOperation] {
        guard operations.contains(where: { $0.outcome == .unknown }) else { return operations }
        var values: [UInt64] = []
        var notFound = false
        for o in operations where o.kind == .read {
            if let v = o.value { values.append(v) } else { notFound = true }
        }
        values.sort()
        return operations.filter { o in
            guard o.outcome == .unknown else { return true }
            return o.kind == .delete ? notFound : contains(values, o.value ?? 0)
        }
    }

    /// Whether `operations` (relevant, invocation order) are linearizable, spending from
    /// `stepsLeft`. `nil`: undecided within the steps.
    func isLinearizable(_ operations: [HistoryOperation], stepsLeft: inout Int) -> Bool? {
        let allowed = Swift.min(budget, stepsLeft)
        if allowed <= 0 { return nil }
        var search = LinearizabilitySearch(operations: operations, budget: allowed)
        let result = search.run()
        stepsLeft -= allowed - search.stepsLeft
        switch result {
        case .linearizable: return true
        case .notLinearizable: return false
        case .exhausted: return nil
        }
    }
}

// MARK: - Results

/// The answer for one key.
public enum Verdict: Sendable, Equatable {
    case linearizable
    /// Not linearizable; a small subset of the key's operations that already is not.
    case notLinearizable(Counterexample)
    /// The step budget ran out before the search decided.
    case unknown
}

/// One key's check.
public struct KeyCheck: Sendable, Equatable {
    public var key: String
    /// Relevant operations (ok ones, and writes or deletes with unknown outcomes).
    public var operationCount: Int
    /// Search steps spent deciding (not counting shrinking).
    public var steps: Int
    public var verdict: Verdict
}

/// Operations of one key that together are not linearizable: proof that the key's whole
/// history is not.
///
/// Every operation appears as recorded (times, outcome, value). The subset is sound: it is
/// reached only by steps that cannot turn a linearizable history into a non-linearizable one
/// (cutting the history at an instant, dropping reads, dropping writes and deletes that no
/// remaining read observed).
public struct Counterexample: Sendable, Equatable, CustomStringConvertible {
    public var key: String
    /// The operations, in invocation order.
    public var operations: [HistoryOperation]
    /// How many relevant operations the key has in all.
    public var keyOperationCount: Int
    /// True when shrinking finished: removing any one more operation that may be removed
    /// gives a linearizable history. False when it was skipped or ran out of budget.
    public var isShrunk: Bool

    public init(key: String, operations: [HistoryOperation], keyOperationCount: Int, isShrunk: Bool) {
        self.key = key
        self.operations = operations
        self.keyOperationCount = keyOperationCount
        self.isShrunk = isShrunk
    }

    /// A readable list, one operation per line, with a sentence on why it fails.
    public var description: String {
        var out = "key \(HistoryJSONL.quoted(key)): not linearizable. These \(operations.count) of its \(keyOperationCount) operations already cannot be linearized"
        out += isShrunk ? ":\n" : " (not fully shrunk):\n"
        let rows = operations.map { o -> [String] in
            let what: String = switch o.kind {
            case .write: "write \(o.value.map(String.init) ?? "?")"
            case .delete: "delete"
            case .read: "read -> \(o.value.map(String.init) ?? "not found")"
            }
            return ["op \(o.id)", "process \(o.process)", what,
                    "invoked \(Counterexample.time(o.invokeTime))",
                    o.completeTime.map { "completed \(Counterexample.time($0))" } ?? "never completed",
                    o.outcome.description]
        }
        var widths = [Int](repeating: 0, count: 6)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = Swift.max(widths[i], c.count) } }
        for r in rows {
            out += "  "
            for (i, c) in r.enumerated() {
                out += c
                if i + 1 < r.count { out += String(repeating: " ", count: widths[i] - c.count + 2) }
            }
            out += "\n"
        }
        out += Counterexample.wrapped(explanation, width: 100, indent: "  ")
        return out
    }

    /// Word-wraps `text` to lines of at most `width` characters (longer words stand alone).
    static func wrapped(_ text: String, width: Int, indent: String) -> String {
        var out = ""
        var line = indent
        for word in text.split(separator: " ") {
            if line.count > indent.count && line.count + 1 + word.count > width {
                out += line + "\n"
                line = indent
            }
            line += (line.count > indent.count ? " " : "") + word
        }
        return out + line + "\n"
    }

    /// Why these operations fail, in one sentence.
    public var explanation: String {
        if operations.count == 1, let o = operations.first, o.kind == .read, let v = o.value {
            return "Version \(v) is read, but there is no write of it that could have taken effect: none that was "
                + "invoked before the read completed and did not fail."
        }
        return "No order of these operations respects both real time (an operation that completed before another "
            + "was invoked comes first) and the register (a read returns the latest write; not found when there is "
            + "none or after a delete; unknown writes and deletes may take effect after their invocation, or never)."
    }

    /// Nanoseconds, exactly, in the largest unit that keeps the number readable.
    static func time(_ ns: Int64) -> String {
        let magnitude = ns.magnitude
        let sign = ns < 0 ? "-" : ""
        let units: [(UInt64, String)] = [(1_000_000_000, "s"), (1_000_000, "ms"), (1_000, "µs")]
        for (size, name) in units where magnitude >= size {
            let whole = magnitude / size
            var frac = magnitude % size
            if frac == 0 { return "\(sign)\(whole)\(name)" }
            var digits = String(size).count - 1
            while frac % 10 == 0 { frac /= 10; digits -= 1 }
            let f = String(frac)
            return "\(sign)\(whole)." + String(repeating: "0", count: digits - f.count) + f + name
        }
        return "\(ns)ns"
    }
}
