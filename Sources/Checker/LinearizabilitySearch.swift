import SimCore

/// The search at the heart of the linearizability check, for one key.
///
/// Wing and Gong's algorithm with Lowe's just-in-time linearization and memoisation (as in
/// Porcupine): the invocations and completions of a key's operations form a doubly linked
/// list in time order. The search walks it from the head; at an invocation it tries to
/// linearize that operation now (apply it to the register; a read must see the current
/// value), lifts the operation out of the list and restarts from the head; at a completion
/// whose operation is not yet linearized it backtracks. A cache of (linearized set, register
/// state) pairs already explored prunes repeated work: two paths reaching the same pair have
/// the same futures.
///
/// Unknown writes and deletes have no completion in the list (their completion is at
/// +infinity), so nothing ever forces them: they may be linearized after their invocation or
/// not at all. The search succeeds once every ok operation is linearized.
///
/// Quiescent splitting: where no operation spans an instant (every earlier one has completed
/// before every later one is invoked), the history splits into segments searched one after
/// the other, carrying the set of register states the previous segment can end in. This keeps
/// the cache's bitsets as small as a segment, so long, mostly sequential histories cost
/// linear time and memory rather than quadratic.
///
/// Every loop iteration is one *step*; the search gives up (`exhausted`) after the budget,
/// which is a count, not a time, so the answer is the same on every machine.
struct LinearizabilitySearch {
    enum Result: Equatable {
        case linearizable
        case notLinearizable
        case exhausted
    }

    /// Relevant operations (ok, or unknown writes and deletes), sorted by invocation.
    let operations: [HistoryOperation]
    /// Steps left; shared by every segment and start state.
    var stepsLeft: Int
    /// After ``run()`` answers `notLinearizable`: the segment (index into
    /// ``segments(_:)``) no start state could get through.
    var failedSegment: Int?
    /// The most memo-cache words (bitset words plus overhead) one segment may hold, so a
    /// wide, highly concurrent segment exhausts the budget instead of memory.
    let cacheWordsMax: Int

    init(operations: [HistoryOperation], budget: Int, cacheWordsMax: Int = 32 << 20) {
        self.operations = operations
        self.stepsLeft = budget
        self.cacheWordsMax = cacheWordsMax
    }

    /// Runs the search over all segments.
    mutating func run() -> Result {
        var states: [UInt64?] = [nil]   // every key starts as not found
        let segments = LinearizabilitySearch.segments(operations)
        for (s, range) in segments.enumerated() {
            let last = s == segments.count - 1
            var ends: [UInt64?] = []
            for start in states {
                switch searchSegment(range, start: start, collectEnds: !last) {
                case .exhausted: return .exhausted
                case .linearizable(let e):
                    if last { return .linearizable }
                    ends.append(contentsOf: e)
                case .notLinearizable: continue
                }
            }
            // The last segment collects no end states: reaching here means none got through.
            if ends.isEmpty {
                failedSegment = s
                return .notLinearizable
            }
            states = LinearizabilitySearch.sortedUnique(ends)
        }
        return .linearizable
    }

    /// Splits sorted operations at instants no operation spans. Unknown operations span to
    /// +infinity, so everything after one's invocation is a single segment.
    static func segments(_ ops: [HistoryOperation]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var start = 0
        var reach = Int64.min   // latest completion so far; .max for unknown
        for (i, o) in ops.enumerated() {
            if i > start && reach < o.invokeTime {
                out.append(start..<i)
                start = i
            }
            reach = Swift.max(reach, o.completeTime ?? .max)
        }
        if start < ops.count { out.append(start..<ops.count) }
        return out
    }

    static func sortedUnique(_ states: [UInt64?]) -> [UInt64?] {
        var sorted = states.sorted { a, b in
            switch (a, b) {
            case (nil, .some): true
            case let (x?, y?): x < y
            default: false
            }
        }
        var i = 1
        while i < sorted.count {
            if sorted[i] == sorted[i - 1] { sorted.remove(at: i) } else { i += 1 }
        }
        return sorted
    }

    // MARK: One segment

    enum SegmentResult {
        /// With `collectEnds`, every state the segment can end in (sorted, unique).
        case linearizable([UInt64?])
        case notLinearizable
        case exhausted
    }

    /// A memo-cache entry: the set of linearized operations and the register state.
    struct CacheKey: Hashable {
        var bits: [UInt64]
        var state: UInt64?
        /// Zobrist hash of `bits`, maintained incrementally.
        var zobrist: UInt64

        func hash(into hasher: inout Hasher) {
            hasher.combine(zobrist)
            hasher.combine(state)
        }

        static func == (a: CacheKey, b: CacheKey) -> Bool {
            a.zobrist == b.zobrist && a.state == b.state && a.bits == b.bits
        }
    }

    /// Searches operations `range` from register state `start`.
    mutating func searchSegment(_ range: Range<Int>, start: UInt64?, collectEnds: Bool) -> SegmentResult {
        let ops = operations[range]
        let n = ops.count
        let base = range.lowerBound

        // Entries: index 0 is the head sentinel; 1... are invocations and completions in time
        // order, invocations first at equal times (touching intervals are concurrent).
        struct Entry { var time: Int64; var isCall: Bool; var op: Int32 }
        var entries: [Entry] = [Entry(time: .min, isCall: false, op: -1)]
        entries.reserveCapacity(2 * n + 1)
        for (i, o) in ops.enumerated() {
            entries.append(Entry(time: o.invokeTime, isCall: true, op: Int32(i)))
            if let t = o.completeTime { entries.append(Entry(time: t, isCall: false, op: Int32(i))) }
        }
        entries[1...].sort { a, b in
            if a.time != b.time { return a.time < b.time }
            if a.isCall != b.isCall { return a.isCall }
            return a.op < b.op
        }
        var match = [Int32](repeating: -1, count: entries.count)   // call -> its completion
        var callOf = [Int32](repeating: -1, count: n)
        for e in 1..<entries.count where entries[e].isCall { callOf[Int(entries[e].op)] = Int32(e) }
        for e in 1..<entries.count where !entries[e].isCall { match[Int(callOf[Int(entries[e].op)])] = Int32(e) }
        var next = [Int32](repeating: -1, count: entries.count)
        var prev = [Int32](repeating: -1, count: entries.count)
        for e in 0..<entries.count {
            next[e] = e + 1 < entries.count ? Int32(e + 1) : -1
            prev[e] = Int32(e - 1)
        }

        func lift(_ e: Int) {
            next[Int(prev[e])] = next[e]
            if next[e] >= 0 { prev[Int(next[e])] = prev[e] }
            let m = Int(match[e])
            if m >= 0 {
                next[Int(prev[m])] = next[m]
                if next[m] >= 0 { prev[Int(next[m])] = prev[m] }
            }
        }
        func unlift(_ e: Int) {
            let m = Int(match[e])
            if m >= 0 {
                next[Int(prev[m])] = Int32(m)
                if next[m] >= 0 { prev[Int(next[m])] = Int32(m) }
            }
            next[Int(prev[e])] = Int32(e)
            if next[e] >= 0 { prev[Int(next[e])] = Int32(e) }
        }

        var zobristOf = [UInt64](repeating: 0, count: n)
        var mix = SplitMix64(seed: 0x6C69_6E65_6172_697A)   // fixed: "lineariz"
        for i in 0..<n { zobristOf[i] = mix.next() }

        let words = (n + 63) / 64
        var key = CacheKey(bits: [UInt64](repeating: 0, count: words), state: start, zobrist: 0)
        var cache = Set<CacheKey>()
        var cacheWords = 0
        var calls: [(entry: Int32, state: UInt64?)] = []
        var okRemaining = ops.reduce(0) { $0 + ($1.outcome == .ok ? 1 : 0) }
        var ends: [UInt64?] = []
        var entry = Int(next[0])

        @inline(__always) func toggle(_ i: Int) {
            key.bits[i >> 6] ^= 1 << UInt64(i & 63)
            key.zobrist ^= zobristOf[i]
        }

        /// Undoes the most recent linearization; false when there is none.
        func backtrack() -> Bool {
            guard let (top, state) = calls.popLast() else { return false }
            let i = Int(entries[Int(top)].op)
            key.state = state
            toggle(i)
            if ops[base + i].outcome == .ok { okRemaining += 1 }
            unlift(Int(top))
            entry = Int(next[Int(top)])
            return true
        }

        while true {
            if okRemaining == 0 {
                if !collectEnds { return .linearizable([]) }
                ends.append(key.state)
                if !backtrack() { break }
                continue
            }
            if stepsLeft <= 0 { return .exhausted }
            stepsLeft -= 1
            precondition(entry > 0, "LinearizabilitySearch: walked off the entry list with \(okRemaining) ok operations left")
            let e = entries[entry]
            if e.isCall {
                let i = Int(e.op)
                let o = ops[base + i]
                let newState: UInt64??
                switch o.kind {
                case .write: newState = .some(o.value)
                case .delete: newState = .some(nil)
                case .read: newState = key.state == o.value ? .some(key.state) : nil
                }
                if let s = newState {
                    let before = key.state
                    toggle(i)
                    key.state = s
                    if cache.insert(key).inserted {
                        cacheWords += words + 4
                        if cacheWords > cacheWordsMax { return .exhausted }
                        calls.append((Int32(entry), before))
                        if o.outcome == .ok { okRemaining -= 1 }
                        lift(entry)
                        entry = Int(next[0])
                        continue
                    }
                    toggle(i)
                    key.state = before
                }
                entry = Int(next[entry])
            } else {
                if !backtrack() { break }
            }
        }
        if collectEnds && !ends.isEmpty { return .linearizable(LinearizabilitySearch.sortedUnique(ends)) }
        return .notLinearizable
    }
}
