/// A handle to a scheduled event, used to cancel it (timers).
///
/// A handle stays valid after its event fired or was cancelled: cancelling a stale handle is
/// a harmless no-op that returns `false`, which is what timer code wants. A handle belongs to
/// the queue that returned it.
public struct EventHandle: Hashable, Sendable {
    @usableFromInline let slot: UInt32
    @usableFromInline let seq: UInt64
    @inlinable init(slot: UInt32, seq: UInt64) { self.slot = slot; self.seq = seq }
}

/// The simulation's future-event list: a priority queue of payloads ordered totally by
/// (time, sequence number).
///
/// - Ordering: events pop in order of time; events at the same time pop in the order they were
///   scheduled (FIFO by a global sequence number). A heap alone keeps no order among equals, so
///   the sequence number is part of the key; this makes every run reproducible. The order is a
///   property of the keys only, never of the heap's layout.
/// - Layout: a 4-ary heap of 16-byte entries (time, sequence|slot). The buffer is 64-byte
///   aligned with the root placed so that a node's four children fill exactly one cache line.
///   Each pending event owns a *slot* (recycled through a last-in-first-out free list) that
///   holds its payload next to the low 32 bits of its sequence number (so a stale handle never
///   matches a reused slot), plus one bit in a pending-bitset. Popping reads the heap, the
///   bitset (small enough to stay in cache) and the slot; the next `schedule` reuses the slot
///   just freed, so its writes hit a cache line that is already loaded. Keep `Payload` small
///   (the engine's is an enum of indices): slots are read at random when popping.
/// - Allocation: none per event once the queue has reached its high-water mark. There is no
///   closure or class instance per event: `Payload` is a plain value chosen by the driver.
/// - Cancellation: `cancel` clears the pending bit and releases the payload at once; the heap
///   entry is discarded when it reaches the top. When cancelled entries outnumber live ones
///   (and there are at least ``purgeMinimum``), the heap is rebuilt without them, so timers
///   that are almost always cancelled cost O(1) amortised and cannot fill the queue. `count`
///   counts live events only.
/// - Complexity: `schedule` and `pop` are O(log₄ n). `pop` uses Floyd's bottom-up sift (walk
///   the hole to a leaf along the smaller children, then sift the last entry up): three
///   comparisons per level. While the heap is small (``branchFreeLimit``) the smallest child is
///   chosen without branches (comparison results are unpredictable); beyond that it branches,
///   because speculating down the predicted child starts the next cache miss early, which
///   matters more there than a mispredict.
/// - Value semantics: copies share storage until one of them is mutated (copy on write).
///
/// Limits (checked with `precondition`): at most 2^24 − 1 events in the heap at once (16.7 M)
/// and 2^40 events scheduled over a run (about 1.1 × 10^12).
public struct EventQueue<Payload> {
    /// A pending event's slot.
    @usableFromInline struct Slot {
        @usableFromInline var payload: Payload
        /// The low 32 bits of the event's sequence number. A handle with the same slot and
        /// tag belongs to this event if it was issued fewer than 2^32 schedules ago: every
        /// event scheduled since has a different tag. 32 bits rather than 64 keep slots small
        /// (the whole table is read at random), and older handles fall back to a heap lookup.
        @usableFromInline var seqTag: UInt32
        @inlinable @inline(__always) init(payload: Payload, seqTag: UInt32) {
            self.payload = payload
            self.seqTag = seqTag
        }
    }

    @usableFromInline struct Entry {
        @usableFromInline var time: Int64
        /// `seq << 24 | slot`: comparing keys compares sequence numbers, as seq is unique.
        @usableFromInline var key: UInt64
        @inlinable @inline(__always) init(time: Int64, key: UInt64) { self.time = time; self.key = key }
    }

    /// The buffers behind a queue, all sized for `capacity` slots. The fields are constants
    /// (growth makes a new `Storage`), so reading them needs no exclusivity checks; the class
    /// exists to own and free the memory and to detect sharing for copy on write.
    @usableFromInline final class Storage {
        @usableFromInline let capacity: Int
        /// The raw heap allocation, 64-byte aligned.
        @usableFromInline let heapAllocation: UnsafeMutableRawPointer
        /// Heap entry 0 (the root), placed three entries into the allocation so that the
        /// children of entry i, 4i+1 … 4i+4, start on a cache-line boundary.
        @usableFromInline let heap: UnsafeMutablePointer<Entry>
        /// The slots; initialised exactly where the pending bit is set.
        @usableFromInline let slots: UnsafeMutablePointer<Slot>
        /// One bit per slot: the slot's event is pending (scheduled, not fired, not cancelled).
        @usableFromInline let pendingBits: UnsafeMutablePointer<UInt64>
        /// The free list: a stack of slot numbers.
        @usableFromInline let free: UnsafeMutablePointer<UInt32>

        @usableFromInline init(capacity: Int) {
            self.capacity = capacity
            heapAllocation = UnsafeMutableRawPointer.allocate(
                byteCount: (capacity + EventQueue.heapPadding) * MemoryLayout<Entry>.stride, alignment: 64)
            heap = heapAllocation.bindMemory(to: Entry.self, capacity: capacity + EventQueue.heapPadding)
                + EventQueue.heapPadding
            slots = .allocate(capacity: capacity)
            pendingBits = .allocate(capacity: EventQueue.bitWords(capacity))
            pendingBits.initialize(repeating: 0, count: EventQueue.bitWords(capacity))
            free = .allocate(capacity: capacity)
        }

        /// A new storage of `capacity` (at least the current one) holding a copy of this one.
        @usableFromInline func copy(capacity: Int, heapCount: Int, slotCount: Int, freeCount: Int) -> Storage {
            let new = Storage(capacity: capacity)
            new.heap.initialize(from: heap, count: heapCount)
            new.pendingBits.update(from: pendingBits, count: EventQueue.bitWords(slotCount))
            new.free.initialize(from: free, count: freeCount)
            forEachPending(below: slotCount) { (new.slots + $0).initialize(to: slots[$0]) }
            return new
        }

        /// Calls `body` with every pending slot below `limit`.
        @usableFromInline func forEachPending(below limit: Int, _ body: (Int) -> Void) {
            for w in 0..<EventQueue.bitWords(limit) {
                var bits = pendingBits[w]
                while bits != 0 {
                    body(w << 6 | bits.trailingZeroBitCount)
                    bits &= bits &- 1
                }
            }
        }

        deinit {
            forEachPending(below: capacity) { (slots + $0).deinitialize(count: 1) }
            heapAllocation.deallocate()
            slots.deallocate()
            pendingBits.deallocate()
            free.deallocate()
        }
    }

    @usableFromInline static var slotBits: UInt64 { 24 }
    @usableFromInline static var slotMask: UInt64 { (1 << 24) - 1 }
    @usableFromInline static var heapPadding: Int { 3 }
    @inlinable static func bitWords(_ slots: Int) -> Int { (slots + 63) >> 6 }
    /// Cancelled entries are purged only once there are at least this many of them.
    public static var purgeMinimum: Int { 1024 }
    /// Heaps up to this many entries (2 MiB) pick the smallest child without branches; larger
    /// ones branch (see the type's discussion). Measured with the hold model on a 2-core EPYC
    /// (1 MiB L2 per core, 32 MiB shared L3): branch-free is ~10% faster up to 100k entries, and the
    /// two cross between 120k and 150k; at 1M branch-free is 1.7× slower.
    @usableFromInline static var branchFreeLimit: Int { 1 << 17 }

    @usableFromInline var storage: Storage
    /// Entries in the heap: live plus cancelled-but-not-yet-discarded.
    @usableFromInline var heapCount = 0
    /// Slots ever handed out (`slotCount - freeCount` are owned by heap entries).
    @usableFromInline var slotCount = 0
    @usableFromInline var freeCount = 0
    /// Pending events.
    @usableFromInline var live = 0
    @usableFromInline var nextSeq: UInt64 = 0

    public init() { self.init(capacity: 16) }

    /// Creates a queue with room for `capacity` pending events before it grows.
    public init(capacity: Int) {
        storage = Storage(capacity: Swift.max(16, Swift.min(capacity, Int(Self.slotMask))))
    }

    /// The number of pending (scheduled, not cancelled, not yet popped) events.
    @inlinable public var count: Int { live }
    @inlinable public var isEmpty: Bool { live == 0 }
    /// The number of events scheduled since the queue was created.
    @inlinable public var scheduledTotal: UInt64 { nextSeq }

    /// Schedules `payload` at `time` and returns a handle that can cancel it.
    @inlinable @discardableResult
    public mutating func schedule(_ payload: Payload, at time: SimTime) -> EventHandle {
        makeUnique()
        let seq = nextSeq
        precondition(seq < (1 << 40), "EventQueue: more than 2^40 events scheduled in one run")
        nextSeq = seq &+ 1
        let slot: Int
        if freeCount > 0 {
            freeCount &-= 1
            slot = Int(storage.free[freeCount])
        } else {
            if slotCount == storage.capacity { grow() }
            slot = slotCount
            slotCount &+= 1
        }
        let s = storage
        (s.slots + slot).initialize(to: Slot(payload: payload, seqTag: UInt32(truncatingIfNeeded: seq)))
        s.pendingBits[slot >> 6] |= 1 << UInt64(slot & 63)
        live &+= 1
        let key = seq << Self.slotBits | UInt64(truncatingIfNeeded: slot)
        let t = time.nanoseconds
        // Sift up: move parents down into the hole until the new entry's place is found.
        let h = s.heap
        var i = heapCount
        heapCount = i &+ 1
        while i > 0 {
            let p = (i &- 1) >> 2
            if Self.precedence(t, key, h[p].time, h[p].key) == 0 { break }
            h[i] = h[p]
            i = p
        }
        h[i] = Entry(time: t, key: key)
        return EventHandle(slot: UInt32(truncatingIfNeeded: slot), seq: seq)
    }

    /// Cancels a pending event and releases its payload. Returns `false` if the event already
    /// fired or was cancelled.
    @inlinable @discardableResult
    public mutating func cancel(_ handle: EventHandle) -> Bool {
        guard isPending(handle) else { return false }
        makeUnique()
        let slot = Int(handle.slot)
        storage.pendingBits[slot >> 6] &= ~(1 << UInt64(slot & 63))
        (storage.slots + slot).deinitialize(count: 1)
        live &-= 1
        let cancelled = heapCount &- live
        if cancelled >= Self.purgeMinimum && cancelled > live { purgeCancelled() }
        return true
    }

    /// Whether the event behind `handle` is still pending.
    ///
    /// O(1), except for a handle whose event was scheduled 2^32 or more events ago, which is
    /// looked up in the heap in O(n) (see ``Slot/seqTag``).
    @inlinable public func isPending(_ handle: EventHandle) -> Bool {
        let slot = Int(handle.slot)
        guard slot < slotCount, isPendingSlot(slot),
              storage.slots[slot].seqTag == UInt32(truncatingIfNeeded: handle.seq) else { return false }
        if nextSeq &- handle.seq <= 1 << 32 { return true }
        // The slot's owner has the same low 32 bits but may be a later event: the handle's
        // event is pending exactly if its key is still in the heap.
        let key = handle.seq << Self.slotBits | UInt64(slot)
        for i in 0..<heapCount where storage.heap[i].key == key { return true }
        return false
    }

    /// The time of the earliest pending event, or `nil` when none is pending.
    @inlinable public mutating func peekTime() -> SimTime? {
        if live == 0 { return nil }
        if heapCount != live {
            makeUnique()
            // Some entry is live, so the heap never runs empty here.
            while !isPendingSlot(Int(storage.heap[0].key & Self.slotMask)) { discardTop() }
        }
        return SimTime(nanoseconds: storage.heap[0].time)
    }

    /// Removes and returns the earliest pending event.
    @inlinable public mutating func pop() -> (time: SimTime, payload: Payload)? {
        if live == 0 { return nil }
        makeUnique()
        if heapCount != live {
            while !isPendingSlot(Int(storage.heap[0].key & Self.slotMask)) { discardTop() }
        }
        let top = storage.heap[0]
        let slot = Int(top.key & Self.slotMask)
        // Read the slot before the sift so its cache miss overlaps the heap walk.
        let payload = (storage.slots + slot).move().payload
        removeTop()
        storage.pendingBits[slot >> 6] &= ~(1 << UInt64(slot & 63))
        release(slot)
        live &-= 1
        return (SimTime(nanoseconds: top.time), payload)
    }

    // MARK: Internals

    /// 1 if `(t1, k1)` precedes `(t2, k2)`, else 0: flag arithmetic, so that callers can use
    /// the result without a branch.
    @inlinable @inline(__always)
    static func precedence(_ t1: Int64, _ k1: UInt64, _ t2: Int64, _ k2: UInt64) -> Int {
        let before: UInt8 = t1 < t2 ? 1 : 0
        let tied: UInt8 = t1 == t2 ? 1 : 0
        let earlier: UInt8 = k1 < k2 ? 1 : 0
        return Int(before | (tied & earlier))
    }

    @inlinable @inline(__always) func isPendingSlot(_ slot: Int) -> Bool {
        storage.pendingBits[slot >> 6] & (1 << UInt64(slot & 63)) != 0
    }

    /// Pushes `slot` on the free list.
    @inlinable @inline(__always) mutating func release(_ slot: Int) {
        storage.free[freeCount] = UInt32(truncatingIfNeeded: slot)
        freeCount &+= 1
    }

    /// Removes a cancelled entry from the top (its payload is already released).
    @inlinable mutating func discardTop() {
        let slot = Int(storage.heap[0].key & Self.slotMask)
        removeTop()
        release(slot)
    }

    @inlinable @inline(__always) mutating func makeUnique() {
        if _slowPath(!isKnownUniquelyReferenced(&storage)) {
            storage = storage.copy(capacity: storage.capacity, heapCount: heapCount,
                                   slotCount: slotCount, freeCount: freeCount)
        }
    }

    @usableFromInline mutating func grow() {
        precondition(storage.capacity < Int(Self.slotMask), "EventQueue: more than 2^24-1 events in the heap")
        storage = storage.copy(capacity: Swift.min(storage.capacity * 2, Int(Self.slotMask)),
                               heapCount: heapCount, slotCount: slotCount, freeCount: freeCount)
    }

    /// Removes the root (Floyd's bottom-up variant): the hole left at the root moves down along
    /// the smaller children to a leaf, then the former last entry is sifted up from there.
    /// Requires a non-empty heap.
    @inlinable @inline(__always) mutating func removeTop() {
        let h = storage.heap
        let n = heapCount &- 1
        heapCount = n
        if n == 0 { return }
        var i = 0
        if n <= Self.branchFreeLimit {
            while true {
                let c = 4 &* i &+ 1
                if c &+ 3 >= n { break }
                // A tournament whose winners are computed by arithmetic on comparison flags.
                let a = c &+ 1 &- Self.precedence(h[c].time, h[c].key, h[c &+ 1].time, h[c &+ 1].key)
                let b = c &+ 3 &- Self.precedence(h[c &+ 2].time, h[c &+ 2].key, h[c &+ 3].time, h[c &+ 3].key)
                let best = Self.precedence(h[a].time, h[a].key, h[b].time, h[b].key) != 0 ? a : b
                h[i] = h[best]
                i = best
            }
        } else {
            while true {
                let c = 4 &* i &+ 1
                if c &+ 3 >= n { break }
                var best = c
                var bt = h[c].time, bk = h[c].key
                // Unrolled, with branches on purpose (see the type's discussion).
                var t = h[c &+ 1].time, k = h[c &+ 1].key
                if t < bt || (t == bt && k < bk) { best = c &+ 1; bt = t; bk = k }
                t = h[c &+ 2].time; k = h[c &+ 2].key
                if t < bt || (t == bt && k < bk) { best = c &+ 2; bt = t; bk = k }
                t = h[c &+ 3].time; k = h[c &+ 3].key
                if t < bt || (t == bt && k < bk) { best = c &+ 3 }
                h[i] = h[best]
                i = best
            }
        }
        // A last, partial group of children (fewer than four).
        let c = 4 &* i &+ 1
        if c < n {
            var best = c
            var k = c &+ 1
            while k < n {
                if Self.precedence(h[k].time, h[k].key, h[best].time, h[best].key) != 0 { best = k }
                k &+= 1
            }
            h[i] = h[best]
            i = best
        }
        // Sift the former last entry (at index n, now outside the heap) up from the hole.
        let last = h[n]
        while i > 0 {
            let p = (i &- 1) >> 2
            if Self.precedence(last.time, last.key, h[p].time, h[p].key) == 0 { break }
            h[i] = h[p]
            i = p
        }
        h[i] = last
    }

    /// Drops every cancelled entry from the heap, frees their slots and rebuilds the heap
    /// (Floyd's heapify, O(n)). Pop order is unchanged: it depends on the keys only.
    @usableFromInline mutating func purgeCancelled() {
        let h = storage.heap
        var kept = 0
        for k in 0..<heapCount {
            let e = h[k]
            let slot = Int(e.key & Self.slotMask)
            if isPendingSlot(slot) {
                h[kept] = e
                kept += 1
            } else {
                release(slot)
            }
        }
        heapCount = kept
        var i = (kept - 2) >> 2
        while i >= 0 {
            siftDown(from: i)
            i -= 1
        }
    }

    /// Textbook sift-down of the entry at `start` (used by heapify only).
    @usableFromInline func siftDown(from start: Int) {
        let h = storage.heap
        let e = h[start]
        var i = start
        while true {
            let c = 4 * i + 1
            if c >= heapCount { break }
            var best = c
            for k in (c + 1)..<Swift.min(c + 4, heapCount)
            where Self.precedence(h[k].time, h[k].key, h[best].time, h[best].key) != 0 {
                best = k
            }
            if Self.precedence(h[best].time, h[best].key, e.time, e.key) == 0 { break }
            h[i] = h[best]
            i = best
        }
        h[i] = e
    }

    // MARK: Inspection (tests)

    /// Entries physically in the heap, including cancelled ones not yet discarded.
    @usableFromInline var storedEntries: Int { heapCount }
}
