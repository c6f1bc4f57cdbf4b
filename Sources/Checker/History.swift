/// The history model: operations on one versioned register per key.
///
/// A *history* is what clients saw: each operation was invoked at some time and completed at a
/// later time (or never, as far as the client knows). The register of one key holds either a
/// version (`UInt64`) or nothing ("not found": never written, or deleted). Three operations act
/// on it:
///
/// - `write(v)` stores version `v`. The simulator writes unique versions per key, but the
///   checker does not rely on that.
/// - `delete` stores a tombstone: reads after it see "not found" (`nil`).
/// - `read` returns the stored version, or `nil` for not found.
///
/// Every key starts as not found. Outcomes follow Jepsen:
///
/// - `ok`: the operation took effect exactly once, at some instant between its invocation and
///   its completion.
/// - `fail`: the operation definitely did not take effect. Failed operations are dropped.
/// - `unknown` (Jepsen's `info`): it may or may not have taken effect. Its completion is
///   treated as +infinity, so it may take effect at any instant after its invocation, or never.
///   A read with an unknown outcome observed nothing and is dropped.
///
/// Real-time order: `a` precedes `b` when `a` completed strictly before `b` was invoked.
/// Operations whose intervals touch (`a.complete == b.invoke`) are concurrent; equal
/// timestamps never produce a false alarm.

// MARK: - Operations

/// What an operation does to its key's register.
public enum OperationKind: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case write, read, delete

    /// The name used in JSON lines (`"f"`) and in printed counterexamples.
    public var description: String {
        switch self {
        case .write: "write"
        case .read: "read"
        case .delete: "delete"
        }
    }
}

/// How an operation ended, as its client saw it.
public enum Outcome: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// It took effect, once, between invocation and completion.
    case ok
    /// It definitely did not take effect.
    case fail
    /// It may or may not have taken effect (a timeout, a lost reply, or never completed).
    case unknown

    /// The JSON-lines event type of the completion (`ok`, `fail`, `info`).
    public var eventType: String {
        switch self {
        case .ok: "ok"
        case .fail: "fail"
        case .unknown: "info"
        }
    }

    public var description: String {
        switch self {
        case .ok: "ok"
        case .fail: "fail"
        case .unknown: "unknown"
        }
    }
}

/// One operation of a key's history.
public struct HistoryOperation: Sendable, Equatable {
    /// The operation's id, unique within the history it came from.
    public var id: UInt64
    /// The client (process, device) that issued it. Informational: the checker orders
    /// operations by time, not by process.
    public var process: UInt64
    public var kind: OperationKind
    /// For a write, the version written. For a read, the version returned (`nil`: not found;
    /// meaningful only when `outcome == .ok`). Always `nil` for a delete.
    public var value: UInt64?
    /// When the client invoked it, in nanoseconds.
    public var invokeTime: Int64
    /// When the client learned the outcome, in nanoseconds; `nil` for `.unknown` (+infinity).
    public var completeTime: Int64?
    public var outcome: Outcome

    public init(id: UInt64, process: UInt64, kind: OperationKind, value: UInt64?,
                invokeTime: Int64, completeTime: Int64?, outcome: Outcome) {
        precondition(kind != .delete || value == nil, "HistoryOperation: a delete carries no value (op \(id))")
        precondition(outcome == .unknown || completeTime != nil,
                     "HistoryOperation: an \(outcome) operation needs a completion time (op \(id))")
        precondition(completeTime.map { $0 >= invokeTime } ?? true,
                     "HistoryOperation: op \(id) completes before it is invoked")
        self.id = id
        self.process = process
        self.kind = kind
        self.value = value
        self.invokeTime = invokeTime
        self.completeTime = outcome == .unknown ? nil : completeTime
        self.outcome = outcome
    }

    /// Whether the checker must consider it: ok operations, and writes or deletes whose
    /// outcome is unknown. Failed operations and unknown reads constrain nothing.
    public var isRelevant: Bool {
        switch outcome {
        case .ok: true
        case .fail: false
        case .unknown: kind != .read
        }
    }
}

/// The operations on one key, in invocation order (ties by id).
public struct KeyHistory: Sendable, Equatable {
    /// The key, as text (the recorder's numeric keys print in decimal).
    public var key: String
    public var operations: [HistoryOperation]

    public init(key: String, operations: [HistoryOperation]) {
        self.key = key
        self.operations = operations.sorted(by: KeyHistory.invocationOrder)
    }

    /// Invocation order: invoke time, then id.
    static func invocationOrder(_ a: HistoryOperation, _ b: HistoryOperation) -> Bool {
        (a.invokeTime, a.id) < (b.invokeTime, b.id)
    }

    /// The order histories are listed in: keys that are decimal numbers first, numerically;
    /// then the other keys by their UTF-8 bytes. Deterministic, and the same for a recorder's
    /// histories and for the same histories read back from JSON lines.
    public static func keyOrder(_ a: String, _ b: String) -> Bool {
        switch (decimalKey(a), decimalKey(b)) {
        case let (x?, y?): return x < y
        case (.some, nil): return true
        case (nil, .some): return false
        case (nil, nil): return a.utf8.lexicographicallyPrecedes(b.utf8)
        }
    }

    /// The key as a number when it is the canonical decimal form of a `UInt64`.
    static func decimalKey(_ key: String) -> UInt64? {
        guard let n = UInt64(key), String(n) == key else { return nil }
        return n
    }
}
