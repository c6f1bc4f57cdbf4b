import SimCore
import Replication
import Checker

/// Per-key operation histories for the linearizability checker: every client operation is
/// recorded when first attempted and when its client learns the outcome (ok, fail, or
/// unknown for a write that timed out after all retries; operations still open at the end
/// stay pending = unknown). Each operation is its own process (clients never pipeline on one
/// key), values are message versions, and a read of a deleted message reads "nothing".
extension Engine {
    /// Search steps per key: bounded and deterministic (never wall time), so reports stay
    /// byte-identical; a key that needs more is reported `unknown`.
    static var linearizabilityBudget: Int { 5_000 }
    /// Keys checked at most per run (an evenly spaced, deterministic sample beyond it).
    static var keysChecked: Int { 1_000 }
    /// Operations recorded at most (beyond it the history is marked truncated).
    static var historyLimit: Int { 4_000_000 }

    func recordInvoke(_ op: Operation) {
        let kind: Checker.OperationKind
        switch op.kind {
        case .write: kind = .write
        case .read: kind = .read
        case .delete: kind = .delete
        }
        history.invoke(op: op.serial, process: op.serial, key: op.key.raw, kind: kind,
                       value: op.kind == .write ? UInt64(op.stamp.version) : nil, time: now.nanoseconds)
    }

    func recordCompletion(_ op: Operation, state: OpState, result: ClientResult?) {
        let outcome: Checker.Outcome
        var value: UInt64? = nil
        switch state {
        case .ok:
            outcome = .ok
            if case .found(let stamp, let tombstone) = result, !tombstone { value = UInt64(stamp.version) }
        case .failed: outcome = .fail
        case .unknown, .open: outcome = .unknown
        }
        history.complete(op: op.serial, outcome: outcome, value: value, time: now.nanoseconds)
    }

    /// Checks every key's history within a deterministic step budget.
    func checkHistories() -> LinearizabilityFigures {
        let checker = LinearizabilityChecker(budget: Self.linearizabilityBudget)
        // A deterministic sample of keys keeps the check's cost bounded in long runs: every
        // key when there are few, else an evenly spaced subset (the figures say how many).
        let (recorded, sample) = history.sampledHistories(keysMax: Self.keysChecked)
        let report = checker.check(sample, counterexamplesMax: 3)
        return LinearizabilityFigures(keys: report.keys, keysRecorded: recorded, operations: report.operations,
                                      linearizable: report.linearizable, notLinearizable: report.notLinearizable,
                                      unknown: report.unknown, truncated: history.isTruncated,
                                      budgetPerKey: report.budget,
                                      counterexamples: report.counterexamples.map(\.description))
    }
}
