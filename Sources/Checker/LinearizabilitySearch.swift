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
/// Two register-specific prunings keep the search small: a read that matches the register
/// is linearized at once with no alternatives tried (doing so never loses a solution), and
/// the memo key stores the linearized set relative to the first ok operation not yet
/// linearized, so an entry's size follows the operations in flight, not the history's length.
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
    ///
    /// The set is stored compactly, relative to `low`, the first ok operation (in invocation
    /// order) not yet linearized: every ok operation before it is linearized, so only the
    /// unknown ones before it that are *not* linearized need listing, and after it only the
    /// bitset words up to the last linearized operation. The search keeps `low` moving
    /// forward, so an entry costs words for the operations in flight around `low`, not for
    /// the whole segment.
    struct CacheKey: Hashable {
        var low: Int32
        var state: UInt64?
        /// The count of skipped unknown operations, their indices, then the bitset words from
        /// the one holding `low` to the one holding the last linearized operation.
        var words: [UInt64]
        /// Zobrist hash of the whole set, maintained incrementally.
        var zobrist: UInt64

        func hash(into hasher: inout Hasher) {
            hasher.combine(zobrist)
            hasher.combine(state)
        }

        static func == (a: CacheKey, b: CacheKey) -> Bool {
            a.zobrist == b.zobrist && a.low == b.low && a.state == b.state && a.words == b.words
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

        var bits = [UInt64](repeating: 0, count: (n + 63) / 64)
        @inline(__always) func isSet(_ i: Int) -> Bool { bits[i >> 6] & (1 << UInt64(i & 63)) != 0 }
        let unknowns = ops.indices.filter { ops[$0].outcome == .unknown }.map { $0 - base }
        var state = start
        var zobrist: UInt64 = 0
        var low = 0                 // first ok operation not linearized (n: none)
        while low < n && ops[base + low].outcome != .ok { low += 1 }
        var high = -1               // last linearized operation
        var cache = Set<CacheKey>()
        var cacheWords = 0
        struct Frame { var entry: Int32; var state: UInt64?; var low: Int32; var high: Int32; var forced: Bool }
        var calls: [Frame] = []
        var okRemaining = ops.reduce(0) { $0 + ($1.outcome == .ok ? 1 : 0) }
        var ends: [UInt64?] = []
        var entry = Int(next[0])

        @inline(__always) func toggle(_ i: Int) {
            bits[i >> 6] ^= 1 << UInt64(i & 63)
            zobrist ^= zobristOf[i]
        }

        /// The cache key of the current set with `state`, `low` and `high`.
        func cacheKey(state: UInt64?, low: Int, high: Int) -> CacheKey {
            var words: [UInt64] = [0]
            for u in unknowns {
                if u >= low { break }
                if !isSet(u) { words.append(UInt64(u)) }
            }
            words[0] = UInt64(words.count - 1)
            if high >= low { words.append(contentsOf: bits[(low >> 6)...(high >> 6)]) }
            return CacheKey(low: Int32(low), state: state, words: words, zobrist: zobrist)
        }

        /// Undoes the most recent free choice (and the forced reads after it), so the walk
        /// resumes with the next candidate; false when there is none.
        func backtrack() -> Bool {
            while let frame = calls.popLast() {
                let top = Int(frame.entry)
                let i = Int(entries[top].op)
                state = frame.state
                low = Int(frame.low)
                high = Int(frame.high)
                toggle(i)
                if ops[base + i].outcome == .ok { okRemaining += 1 }
                unlift(top)
                entry = Int(next[top])
                if !frame.forced { return true }
            }
            return false
        }

        while true {
            if okRemaining == 0 {
                if !collectEnds { return .linearizable([]) }
                ends.append(state)
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
                case .read: newState = state == o.value ? .some(state) : nil
                }
                if let s = newState {
                    toggle(i)
                    var newLow = low
                    if i == low {
                        newLow += 1
                        while newLow < n && (ops[base + newLow].outcome != .ok || isSet(newLow)) { newLow += 1 }
                    }
                    let newHigh = Swift.max(high, i)
                    let key = cacheKey(state: s, low: newLow, high: newHigh)
                    let keyWords = key.words.count
                    // A read that matches the register can be linearized now without loss:
                    // any way to finish without it here also works with it here (it changes
                    // nothing, and everything that must precede it already has). So it is
                    // forced: no alternatives are tried in its place, and if the resulting
                    // configuration was already explored, this one is finished too.
                    let forced = o.kind == .read
                    if cache.insert(key).inserted {
                        cacheWords += keyWords + 8
                        if cacheWords > cacheWordsMax { return .exhausted }
                        calls.append(Frame(entry: Int32(entry), state: state, low: Int32(low), high: Int32(high),
                                           forced: forced))
                        state = s
                        low = newLow
                        high = newHigh
                        if o.outcome == .ok { okRemaining -= 1 }
                        lift(entry)
                        entry = Int(next[0])
                        continue
                    }
                    toggle(i)
                    if forced {
                        if !backtrack() { break }
                        continue
                    }
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
