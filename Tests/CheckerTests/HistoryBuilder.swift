import Checker

/// A compact way to write histories in tests: each case is one operation with its interval;
/// ids are the positions in the list, processes are distinct unless given.
enum Op {
    /// An ok write of `value` over `[from, to]`.
    case write(UInt64, Int64, Int64)
    /// An ok read that returned `value` (`nil`: not found) over `[from, to]`.
    case read(UInt64?, Int64, Int64)
    /// An ok delete over `[from, to]`.
    case delete(Int64, Int64)
    /// A write invoked at `from` whose outcome is unknown.
    case unknownWrite(UInt64, Int64)
    /// A delete invoked at `from` whose outcome is unknown.
    case unknownDelete(Int64)
    /// A read invoked at `from`, outcome unknown, that claims `value` (must be ignored).
    case unknownRead(UInt64?, Int64)
    /// A write over `[from, to]` that definitely failed.
    case failedWrite(UInt64, Int64, Int64)
}

func operations(_ ops: [Op]) -> [HistoryOperation] {
    ops.enumerated().map { i, op in
        let id = UInt64(i)
        let p = UInt64(i)
        switch op {
        case let .write(v, a, b):
            return HistoryOperation(id: id, process: p, kind: .write, value: v, invokeTime: a, completeTime: b, outcome: .ok)
        case let .read(v, a, b):
            return HistoryOperation(id: id, process: p, kind: .read, value: v, invokeTime: a, completeTime: b, outcome: .ok)
        case let .delete(a, b):
            return HistoryOperation(id: id, process: p, kind: .delete, value: nil, invokeTime: a, completeTime: b, outcome: .ok)
        case let .unknownWrite(v, a):
            return HistoryOperation(id: id, process: p, kind: .write, value: v, invokeTime: a, completeTime: nil, outcome: .unknown)
        case let .unknownDelete(a):
            return HistoryOperation(id: id, process: p, kind: .delete, value: nil, invokeTime: a, completeTime: nil, outcome: .unknown)
        case let .unknownRead(v, a):
            return HistoryOperation(id: id, process: p, kind: .read, value: v, invokeTime: a, completeTime: nil, outcome: .unknown)
        case let .failedWrite(v, a, b):
            return HistoryOperation(id: id, process: p, kind: .write, value: v, invokeTime: a, completeTime: b, outcome: .fail)
        }
    }
}

func history(_ ops: [Op], key: String = "k") -> KeyHistory {
    KeyHistory(key: key, operations: operations(ops))
}

func verdict(_ ops: [Op], budget: Int = LinearizabilityChecker.defaultBudget) -> Verdict {
    LinearizabilityChecker(budget: budget).check(history(ops)).verdict
}

extension Verdict {
    var isLinearizable: Bool { if case .linearizable = self { true } else { false } }
    var isNotLinearizable: Bool { if case .notLinearizable = self { true } else { false } }
    var isUnknown: Bool { if case .unknown = self { true } else { false } }
    var counterexample: Counterexample? { if case .notLinearizable(let c) = self { c } else { nil } }
}

/// The definition, checked by exhaustion: some subset of the unknown writes and deletes, with
/// every ok operation, has a total order that respects real time and is a legal register run.
/// No memoisation, no just-in-time tricks: every linear extension of the real-time order is
/// generated and then replayed.
enum BruteForce {
    static func isLinearizable(_ all: [HistoryOperation]) -> Bool {
        let ops = all.filter { $0.outcome == .ok || ($0.outcome == .unknown && $0.kind != .read) }
        let optional = ops.indices.filter { ops[$0].outcome == .unknown }
        for mask in 0..<(1 << optional.count) {
            var included = ops.indices.filter { ops[$0].outcome == .ok }
            for (bit, i) in optional.enumerated() where mask & (1 << bit) != 0 { included.append(i) }
            let chosen = included.map { ops[$0] }
            if someOrderIsLegal(chosen) { return true }
        }
        return false
    }

    /// `a` must come before `b` when it completed strictly before `b` was invoked.
    static func precedes(_ a: HistoryOperation, _ b: HistoryOperation) -> Bool {
        guard let end = a.completeTime else { return false }
        return end < b.invokeTime
    }

    static func someOrderIsLegal(_ ops: [HistoryOperation]) -> Bool {
        var placed = [Bool](repeating: false, count: ops.count)
        var order: [Int] = []
        func extend() -> Bool {
            if order.count == ops.count { return replay(order.map { ops[$0] }) }
            for i in ops.indices where !placed[i] {
                // Every operation that must precede i is already placed.
                if ops.indices.contains(where: { !placed[$0] && $0 != i && precedes(ops[$0], ops[i]) }) { continue }
                placed[i] = true
                order.append(i)
                if extend() { return true }
                order.removeLast()
                placed[i] = false
            }
            return false
        }
        return extend()
    }

    static func replay(_ sequence: [HistoryOperation]) -> Bool {
        var state: UInt64? = nil
        for o in sequence {
            switch o.kind {
            case .write: state = o.value
            case .delete: state = nil
            case .read: if o.value != state { return false }
            }
        }
        return true
    }
}
