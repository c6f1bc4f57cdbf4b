/// A handle to a scheduled event, used to cancel it (timers).
///
/// A handle stays valid after its event fired or was cancelled: cancelling a stale handle is
/// a harmless no-op, which is what timer code wants.
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
///   the sequence number is part of the key; this makes every run reproducible.
/// - Allocation: the heap holds 16-byte entries (time, sequence|slot) in one contiguous array
///   and payloads live in a slot table that is recycled through a free list, so once the queue
///   has grown to its high-water mark, scheduling and popping allocate nothing. There is no
///   closure or class instance per event: `Payload` is a plain value chosen by the driver.
/// - Cancellation is lazy: `cancel` marks the slot, and the entry is discarded when it
///   reaches the top. `count` counts live events only.
/// - Complexity: `schedule` and `pop` are O(log₄ n) (a 4-ary heap: shallower than a binary
///   heap, and a node's four children share one 64-byte cache line).
///
/// Limits (checked with `precondition`): at most 2^24 − 1 pending events (16.7 M) and 2^40
/// events scheduled over a run (about 1.1 × 10^12).
public struct EventQueue<Payload> {
    @usableFromInline struct Entry {
        @usableFromInline var time: Int64
        /// `seq << 24 | slot`: comparing keys compares sequence numbers, as seq is unique.
        @usableFromInline var key: UInt64
        @inlinable init(time: Int64, key: UInt64) { self.time = time; self.key = key }
        @inlinable func precedes(_ o: Entry) -> Bool {
            time < o.time || (time == o.time && key < o.key)
        }
    }

    @usableFromInline struct Slot {
        /// The sequence number of the event in this slot; the top bit marks it cancelled.
        @usableFromInline var seq: UInt64
        @usableFromInline var payload: Payload?
        @inlinable init(seq: UInt64, payload: Payload?) { self.seq = seq; self.payload = payload }
    }

    @usableFromInline static var slotBits: UInt64 { 24 }
    @usableFromInline static var slotMask: UInt64 { (1 << 24) - 1 }
    @usableFromInline static var cancelledBit: UInt64 { 1 << 63 }
    @usableFromInline static var arity: Int { 4 }

    @usableFromInline var heap: ContiguousArray<Entry> = []
    @usableFromInline var slots: ContiguousArray<Slot> = []
    @usableFromInline var freeSlots: ContiguousArray<UInt32> = []
    @usableFromInline var nextSeq: UInt64 = 0
    @usableFromInline var live: Int = 0

    public init() {}

    /// Creates a queue with room for `capacity` pending events before it grows.
    public init(capacity: Int) {
        heap.reserveCapacity(capacity)
        slots.reserveCapacity(capacity)
        freeSlots.reserveCapacity(capacity)
    }

    /// The number of pending (scheduled, not cancelled, not yet popped) events.
    @inlinable public var count: Int { live }
    @inlinable public var isEmpty: Bool { live == 0 }
    /// The number of events scheduled since the queue was created.
    @inlinable public var scheduledTotal: UInt64 { nextSeq }

    /// Schedules `payload` at `time` and returns a handle that can cancel it.
    @inlinable @discardableResult
    public mutating func schedule(_ payload: Payload, at time: SimTime) -> EventHandle {
        let seq = nextSeq
        nextSeq &+= 1
        precondition(seq < (1 << 40), "EventQueue: more than 2^40 events scheduled in one run")
        let slot: UInt32
        if let free = freeSlots.popLast() {
            slot = free
            slots[Int(free)] = Slot(seq: seq, payload: payload)
        } else {
            precondition(slots.count < Int(Self.slotMask), "EventQueue: more than 2^24-1 pending events")
            slot = UInt32(slots.count)
            slots.append(Slot(seq: seq, payload: payload))
        }
        live += 1
        siftUp(Entry(time: time.nanoseconds, key: seq << Self.slotBits | UInt64(slot)))
        return EventHandle(slot: slot, seq: seq)
    }

    /// Cancels a pending event. Returns `false` if it already fired or was cancelled.
    @inlinable @discardableResult
    public mutating func cancel(_ handle: EventHandle) -> Bool {
        let i = Int(handle.slot)
        guard i < slots.count, slots[i].seq == handle.seq else { return false }
        slots[i].seq |= Self.cancelledBit
        slots[i].payload = nil
        live -= 1
        return true
    }

    /// Whether the event behind `handle` is still pending.
    @inlinable public func isPending(_ handle: EventHandle) -> Bool {
        let i = Int(handle.slot)
        return i < slots.count && slots[i].seq == handle.seq
    }

    /// The time of the earliest pending event, or `nil` when none is pending.
    @inlinable public mutating func peekTime() -> SimTime? {
        dropCancelledTop()
        return heap.isEmpty ? nil : SimTime(nanoseconds: heap[0].time)
    }

    /// Removes and returns the earliest pending event.
    @inlinable public mutating func pop() -> (time: SimTime, payload: Payload)? {
        while !heap.isEmpty {
            let top = removeTop()
            let slot = Int(top.key & Self.slotMask)
            let s = slots[slot]
            slots[slot].payload = nil
            freeSlots.append(UInt32(slot))
            if s.seq & Self.cancelledBit == 0 {
                live -= 1
                // The payload of a live slot is always set.
                return (SimTime(nanoseconds: top.time), s.payload.unsafelyUnwrapped)
            }
        }
        return nil
    }

    // MARK: Heap internals

    @inlinable mutating func dropCancelledTop() {
        while let top = heap.first {
            let slot = Int(top.key & Self.slotMask)
            guard slots[slot].seq & Self.cancelledBit != 0 else { return }
            _ = removeTop()
            freeSlots.append(UInt32(slot))
        }
    }

    @inlinable mutating func siftUp(_ e: Entry) {
        heap.append(e)
        heap.withUnsafeMutableBufferPointer { h in
            var i = h.count - 1
            while i > 0 {
                let p = (i - 1) / Self.arity
                if !e.precedes(h[p]) { break }
                h[i] = h[p]
                i = p
            }
            h[i] = e
        }
    }

    @inlinable mutating func removeTop() -> Entry {
        let last = heap.removeLast()
        if heap.isEmpty { return last }
        return heap.withUnsafeMutableBufferPointer { h -> Entry in
            let top = h[0]
            let n = h.count
            var i = 0
            while true {
                let c = Self.arity * i + 1
                if c >= n { break }
                var best = c
                let end = Swift.min(c + Self.arity, n)
                var k = c + 1
                while k < end {
                    if h[k].precedes(h[best]) { best = k }
                    k += 1
                }
                if !h[best].precedes(last) { break }
                h[i] = h[best]
                i = best
            }
            h[i] = last
            return top
        }
    }
}
