/// Shrinking a counterexample to a few operations.
///
/// A subset of a non-linearizable history need not be non-linearizable, and the converse
/// trap is worse: dropping the write a read observed makes *any* history fail ("read 7, but
/// nobody wrote 7"), which would print a misleading counterexample. So shrinking uses only
/// steps that preserve the implication "the smaller history fails ⇒ the original fails":
///
/// 0. **Cut at quiescent points** (where no operation is running), after the segment the
///    search failed in, and before as many earlier segments as possible (keeping the writes
///    and deletes that reads of the kept segments observe; see 3).
/// 1. **Cut at an event**: keep the events up to some point in time order (invocations
///    before completions at equal times); operations still running at the cut become
///    unknown, and reads still running are dropped. Every prefix of a linearizable history is
///    linearizable, so the shortest failing prefix is found by binary search. Operations the
///    cut made unknown then get their recorded outcome back, which only adds constraints.
/// 2. **Drop reads**: a read changes no state, so dropping one never breaks a linearization.
/// 3. **Drop unobserved writes and deletes**: a write of `v` that no remaining read returns
///    (a delete, when no remaining read returns not-found) is never the write a read sees in
///    a linearization, so removing it from one leaves a valid linearization.
///
/// Steps 2 and 3 run delta-debugging style: drop chunks (halves, quarters, …) and keep a drop
/// when the rest still fails, down to single operations, until nothing more can go. Each
/// re-check is a full search; all of them share one budget (the checker's budget again), so
/// shrinking stays bounded; a counterexample whose shrinking ran out says so.
extension LinearizabilityChecker {
    /// - Parameters:
    ///   - example: all relevant operations of a key that is not linearizable.
    ///   - failedSegment: the quiescent segment the search could not get through, if known.
    func shrunk(_ example: Counterexample, failedSegment: Int?) -> Counterexample {
        var stepsLeft = budget
        var ops = example.operations
        var exhausted = false

        /// True only when `candidate` is proven not linearizable within the steps left.
        func fails(_ candidate: [HistoryOperation]) -> Bool {
            if stepsLeft <= 0 { exhausted = true; return false }
            switch isLinearizable(candidate, stepsLeft: &stepsLeft) {
            case false?: return true
            case true?: return false
            case nil: exhausted = true; return false
            }
        }

        // 0. Quiescent segments (see LinearizabilitySearch): cut after the failing one (a cut
        // where nothing is running), then keep as few segments before it as still fail. Going
        // back from segment j, earlier operations are dropped except writes and deletes the
        // kept reads observe; the fewer segments kept, the smaller the history, and if keeping
        // from j fails then so does keeping from any earlier segment, so gallop and bisect.
        if let k = failedSegment {
            let segments = LinearizabilitySearch.segments(ops)
            ops = Array(ops[..<segments[k].upperBound])
            func keepingFrom(_ j: Int) -> [HistoryOperation] {
                let tail = ops[segments[j].lowerBound...]
                var values: [UInt64] = []
                var notFound = false
                for o in tail where o.kind == .read {
                    if let v = o.value { values.append(v) } else { notFound = true }
                }
                values.sort()
                let earlier = ops[..<segments[j].lowerBound].filter { o in
                    switch o.kind {
                    case .read: false
                    case .delete: notFound
                    case .write: LinearizabilityChecker.contains(values, o.value ?? 0)
                    }
                }
                return earlier + tail
            }
            var failing = 0         // keepingFrom(0) is ops itself, known to fail
            var passing = k + 1     // smallest j known (or assumed) not to fail
            var step = 1
            var j = k
            while j > 0 && !exhausted {
                if fails(keepingFrom(j)) { failing = j; break }
                passing = j
                j = Swift.max(0, k - 2 * step + 1)
                step *= 2
            }
            while passing - failing > 1 && !exhausted {
                let mid = failing + (passing - failing) / 2
                if fails(keepingFrom(mid)) { failing = mid } else { passing = mid }
            }
            ops = keepingFrom(failing)
        }

        // 1. The shortest failing prefix of the event sequence.
        struct Event { var time: Int64; var isCall: Bool; var op: Int }
        var events: [Event] = []
        for (i, o) in ops.enumerated() {
            events.append(Event(time: o.invokeTime, isCall: true, op: i))
            if let t = o.completeTime { events.append(Event(time: t, isCall: false, op: i)) }
        }
        events.sort { a, b in
            if a.time != b.time { return a.time < b.time }
            if a.isCall != b.isCall { return a.isCall }
            return a.op < b.op
        }
        /// The operations invoked within the first `m` events, with those not completed by
        /// then unknown (reads dropped); `restore` keeps recorded outcomes instead.
        func prefix(_ m: Int, restore: Bool) -> [HistoryOperation] {
            var invoked = [Bool](repeating: false, count: ops.count)
            var completed = [Bool](repeating: false, count: ops.count)
            for e in events[0..<m] {
                if e.isCall { invoked[e.op] = true } else { completed[e.op] = true }
            }
            var out: [HistoryOperation] = []
            for (i, o) in ops.enumerated() where invoked[i] {
                if completed[i] || o.outcome == .unknown { out.append(o); continue }
                if o.kind == .read { continue }
                if restore { out.append(o); continue }
                var pending = o
                pending.outcome = .unknown
                pending.completeTime = nil
                out.append(pending)
            }
            return out
        }
        var low = 0, high = events.count   // prefix(low) is not known to fail; prefix(high) fails
        while high - low > 1 && !exhausted {
            let mid = low + (high - low) / 2
            if fails(prefix(mid, restore: false)) { high = mid } else { low = mid }
        }
        ops = prefix(high, restore: true)

        // 2 and 3. Drop reads and unobserved writes and deletes, chunk by chunk.
        /// `current` without the removable operations among `chunk` (indices into it).
        func dropping(_ chunk: Range<Int>, from current: [HistoryOperation]) -> [HistoryOperation]? {
            var keep = [Bool](repeating: true, count: current.count)
            for i in chunk where current[i].kind == .read { keep[i] = false }
            var readValues: [UInt64] = []
            var readsNotFound = false
            for (i, o) in current.enumerated() where keep[i] && o.kind == .read {
                if let v = o.value { readValues.append(v) } else { readsNotFound = true }
            }
            readValues.sort()
            for i in chunk where current[i].kind != .read {
                let observed = current[i].kind == .delete
                    ? readsNotFound
                    : LinearizabilityChecker.contains(readValues, current[i].value ?? 0)
                if !observed { keep[i] = false }
            }
            if !keep.contains(false) { return nil }
            return current.indices.filter { keep[$0] }.map { current[$0] }
        }
        var chunk = Swift.max(1, ops.count / 2)
        while !exhausted {
            var changed = false
            var start = 0
            while start < ops.count && !exhausted {
                let range = start..<Swift.min(ops.count, start + chunk)
                if let candidate = dropping(range, from: ops), fails(candidate) {
                    ops = candidate
                    changed = true
                } else {
                    start += chunk
                }
            }
            if chunk > 1 {
                chunk = Swift.max(1, chunk / 2)
            } else if !changed {
                break
            }
        }
        return Counterexample(key: example.key, operations: ops, keyOperationCount: example.keyOperationCount,
                              isShrunk: !exhausted)
    }

    /// Binary search in a sorted array.
    static func contains(_ sorted: [UInt64], _ v: UInt64) -> Bool {
        var lo = 0, hi = sorted.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if sorted[mid] < v { lo = mid + 1 } else { hi = mid }
        }
        return lo < sorted.count && sorted[lo] == v
    }
}
