/// Records per-key register histories on the simulation's hot path.
///
/// The engine calls ``invoke(op:process:key:kind:value:time:)`` when a client issues an
/// operation and ``complete(op:outcome:value:time:)`` when the client learns how it ended.
/// Each call appends or updates one fixed-size struct in an array: no per-operation objects,
/// no strings. Only the lookup of a pending operation by id uses a dictionary, and entries
/// leave it when they complete, so it holds only operations in flight; dictionary order never
/// reaches any output.
///
/// Operations still pending when the history is read are `unknown` (they may or may not have
/// taken effect), exactly as if the run had ended with their replies in flight.
///
/// Bound: with `operationsMax`, the recorder stops at the first invocation beyond the limit
/// and ignores every later event, invocations and completions alike. What remains is a prefix
/// of the event sequence, with operations in flight at the cut left unknown; a prefix of a
/// linearizable history is linearizable, so a truncated record can never raise a false alarm.
/// ``isTruncated`` reports that it happened.
public struct HistoryRecorder: Sendable {
    /// One operation, 64 bytes, no references.
    struct Record: Sendable {
        var id: UInt64
        var process: UInt64
        var key: UInt64
        var value: UInt64
        var invokeTime: Int64
        var completeTime: Int64
        /// Position of the completion in the event sequence (`UInt32.max` while pending).
        var completeEvent: UInt32
        /// Position of the invocation in the event sequence.
        var invokeEvent: UInt32
        var kind: OperationKind
        /// `nil` while pending.
        var outcome: Outcome?
        var hasValue: Bool
    }

    var records: [Record] = []
    var pending: [UInt64: Int32] = [:]
    var events: UInt32 = 0
    /// The most operations kept (`nil`: no bound).
    public let operationsMax: Int?
    /// True once an invocation arrived beyond ``operationsMax``; later events were ignored.
    public private(set) var isTruncated = false

    /// Creates an empty recorder.
    /// - Parameter operationsMax: the most operations to keep, or `nil` for no bound (at most
    ///   `Int32.max`, the recorder's own limit, either way).
    public init(operationsMax: Int? = nil) {
        precondition(operationsMax.map { $0 >= 0 } ?? true, "HistoryRecorder: operationsMax must not be negative")
        self.operationsMax = operationsMax
    }

    /// The number of operations recorded.
    public var count: Int { records.count }

    /// Records that a client invoked an operation.
    /// - Parameters:
    ///   - op: an id unique among this recorder's operations.
    ///   - process: the client (device) that issued it.
    ///   - key: the register it acts on.
    ///   - kind: write, read or delete.
    ///   - value: the version written (writes only; `nil` for reads and deletes).
    ///   - time: simulated nanoseconds.
    public mutating func invoke(op: UInt64, process: UInt64, key: UInt64, kind: OperationKind,
                                value: UInt64?, time: Int64) {
        if isTruncated { return }
        let limit = Swift.min(operationsMax ?? Int(Int32.max), Int(Int32.max))
        if records.count >= limit || events >= UInt32.max - 1 {
            isTruncated = true
            return
        }
        precondition(kind == .write ? value != nil : value == nil,
                     "HistoryRecorder.invoke: a write needs its version, reads and deletes carry none (op \(op))")
        precondition(pending[op] == nil, "HistoryRecorder.invoke: op \(op) is already in flight")
        pending[op] = Int32(records.count)
        records.append(Record(id: op, process: process, key: key, value: value ?? 0, invokeTime: time,
                              completeTime: 0, completeEvent: .max, invokeEvent: events, kind: kind,
                              outcome: nil, hasValue: value != nil))
        events += 1
    }

    /// Records how an operation ended, as its client saw it.
    /// - Parameters:
    ///   - op: the id given to ``invoke(op:process:key:kind:value:time:)``.
    ///   - outcome: ok, fail or unknown.
    ///   - value: for a read that is ok, the version read (`nil`: not found). Ignored otherwise.
    ///   - time: simulated nanoseconds, not before the invocation.
    public mutating func complete(op: UInt64, outcome: Outcome, value: UInt64? = nil, time: Int64) {
        if isTruncated { return }
        guard let index = pending.removeValue(forKey: op) else {
            preconditionFailure("HistoryRecorder.complete: op \(op) was never invoked or already completed")
        }
        let i = Int(index)
        precondition(time >= records[i].invokeTime, "HistoryRecorder.complete: op \(op) completes before it was invoked")
        records[i].outcome = outcome
        records[i].completeTime = time
        records[i].completeEvent = events
        if records[i].kind == .read {
            records[i].value = value ?? 0
            records[i].hasValue = value != nil
        }
        events += 1
    }

    // MARK: Reading the record

    /// The operation as the checker sees it (pending means unknown).
    func operation(_ r: Record) -> HistoryOperation {
        let outcome = r.outcome ?? .unknown
        return HistoryOperation(id: r.id, process: r.process, kind: r.kind,
                                value: r.hasValue && (r.kind == .write || outcome == .ok) ? r.value : nil,
                                invokeTime: r.invokeTime,
                                completeTime: outcome == .unknown ? nil : r.completeTime, outcome: outcome)
    }

    /// The histories, one per key, keys in ``KeyHistory/keyOrder(_:_:)`` (numeric) order and
    /// operations in invocation order.
    public func histories() -> [KeyHistory] { sampledHistories(keysMax: nil).histories }

    /// How many keys were recorded, and the histories of an evenly spaced sample of at most
    /// `keysMax` of them (every key when there are few, else every n-th key in key order,
    /// the first included; `nil`: all). Only the sampled histories are built, so a long
    /// run's check does not materialise millions of operations it will not look at.
    public func sampledHistories(keysMax: Int?) -> (keys: Int, histories: [KeyHistory]) {
        var order = Array(records.indices)
        order.sort { (records[$0].key, $0) < (records[$1].key, $1) }
        // Key boundaries in `order`.
        var starts: [Int] = []
        var i = 0
        while i < order.count {
            starts.append(i)
            let key = records[order[i]].key
            while i < order.count && records[order[i]].key == key { i += 1 }
        }
        let stride = keysMax.map { Swift.max(1, (starts.count + $0 - 1) / Swift.max(1, $0)) } ?? 1
        var out: [KeyHistory] = []
        out.reserveCapacity((starts.count + stride - 1) / stride)
        for k in Swift.stride(from: 0, to: starts.count, by: stride) {
            let start = starts[k], end = k + 1 < starts.count ? starts[k + 1] : order.count
            out.append(KeyHistory(key: String(records[order[start]].key),
                                  operations: order[start..<end].map { operation(records[$0]) }))
        }
        return (starts.count, out)
    }

    /// The record as JSON lines (see docs/HISTORY.md): every invocation and completion, one per
    /// line, in the order they were recorded. Operations still pending have no completion line.
    public func jsonLines() -> String {
        var lines: [(UInt32, String)] = []
        lines.reserveCapacity(records.count * 2)
        for r in records {
            let key = String(r.key)
            lines.append((r.invokeEvent, HistoryJSONL.line(type: "invoke", op: r.id, process: r.process, key: key,
                                                            kind: r.kind, value: r.kind == .write ? r.value : nil,
                                                            time: r.invokeTime)))
            if let outcome = r.outcome {
                let value: UInt64? = switch r.kind {
                case .write: r.value
                case .delete: nil
                case .read: outcome == .ok && r.hasValue ? r.value : nil
                }
                lines.append((r.completeEvent, HistoryJSONL.line(type: outcome.eventType, op: r.id, process: r.process,
                                                                  key: key, kind: r.kind, value: value,
                                                                  time: r.completeTime)))
            }
        }
        lines.sort { $0.0 < $1.0 }
        var out = ""
        for (_, line) in lines { out += line; out += "\n" }
        return out
    }
}
