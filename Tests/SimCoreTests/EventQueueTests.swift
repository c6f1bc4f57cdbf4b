import XCTest
@testable import SimCore

/// The future-event list: total order by (time, sequence number), cancellation semantics,
/// `count`, growth, copy on write, and a randomized comparison against a trivially correct
/// reference model.
final class EventQueueTests: XCTestCase {

    // MARK: Order

    func testPopsInTimeOrderAndFIFOAmongEqualTimes() {
        for seed: UInt64 in 1...20 {
            var rng = SimRandom(seed: seed)
            var queue = EventQueue<Int>()
            var scheduled: [(time: Int64, index: Int)] = []
            // Few distinct times, so most events tie with others.
            for index in 0..<2_000 {
                let time = Int64(rng.below(50))
                queue.schedule(index, at: SimTime(nanoseconds: time))
                scheduled.append((time, index))
            }
            // Stable sort by time = order by (time, insertion index).
            let expected = scheduled.enumerated().sorted {
                ($0.element.time, $0.offset) < ($1.element.time, $1.offset)
            }.map(\.element)
            var popped: [(time: Int64, index: Int)] = []
            while let e = queue.pop() { popped.append((e.time.nanoseconds, e.payload)) }
            XCTAssertEqual(popped.count, expected.count, "seed \(seed)")
            for (k, (got, want)) in zip(popped, expected).enumerated() where got != want {
                XCTFail("seed \(seed): pop #\(k) gave (t=\(got.time), #\(got.index)), expected (t=\(want.time), #\(want.index))")
                break
            }
        }
    }

    func testEventsScheduledAtTheSameTimeDuringPoppingStillComeAfterEarlierOnes() {
        // An event scheduled "now" by a handler runs after everything already due now.
        var queue = EventQueue<String>()
        let t = SimTime(nanoseconds: 100)
        queue.schedule("a", at: t)
        queue.schedule("b", at: t)
        XCTAssertEqual(queue.pop()?.payload, "a")
        queue.schedule("c", at: t)
        queue.schedule("early", at: SimTime(nanoseconds: 50))
        XCTAssertEqual(queue.pop()?.payload, "early")
        XCTAssertEqual(queue.pop()?.payload, "b")
        XCTAssertEqual(queue.pop()?.payload, "c")
        XCTAssertNil(queue.pop())
    }

    func testExtremeTimesOrderCorrectly() {
        var queue = EventQueue<Int>()
        let times: [Int64] = [.max, 0, -1, .min, 1, .max, .min]
        for (i, t) in times.enumerated() { queue.schedule(i, at: SimTime(nanoseconds: t)) }
        var got: [Int] = []
        while let e = queue.pop() { got.append(e.payload) }
        XCTAssertEqual(got, [3, 6, 2, 1, 4, 0, 5])
    }

    // MARK: Count and peek

    func testCountPeekAndScheduledTotal() {
        var queue = EventQueue<Int>()
        XCTAssertTrue(queue.isEmpty)
        XCTAssertNil(queue.peekTime())
        XCTAssertNil(queue.pop())
        queue.schedule(1, at: SimTime(nanoseconds: 30))
        let h = queue.schedule(2, at: SimTime(nanoseconds: 10))
        queue.schedule(3, at: SimTime(nanoseconds: 20))
        XCTAssertEqual(queue.count, 3)
        XCTAssertEqual(queue.scheduledTotal, 3)
        XCTAssertEqual(queue.peekTime(), SimTime(nanoseconds: 10))
        XCTAssertTrue(queue.cancel(h))
        XCTAssertEqual(queue.count, 2)
        // peekTime skips the cancelled head.
        XCTAssertEqual(queue.peekTime(), SimTime(nanoseconds: 20))
        XCTAssertEqual(queue.count, 2)
        XCTAssertEqual(queue.pop()?.payload, 3)
        XCTAssertEqual(queue.count, 1)
        XCTAssertEqual(queue.scheduledTotal, 3)
        XCTAssertEqual(queue.pop()?.payload, 1)
        XCTAssertTrue(queue.isEmpty)
        XCTAssertNil(queue.peekTime())
    }

    // MARK: Cancellation

    func testCancelPendingEvent() {
        var queue = EventQueue<String>()
        queue.schedule("keep1", at: SimTime(nanoseconds: 1))
        let h = queue.schedule("drop", at: SimTime(nanoseconds: 2))
        queue.schedule("keep2", at: SimTime(nanoseconds: 3))
        XCTAssertTrue(queue.isPending(h))
        XCTAssertTrue(queue.cancel(h))
        XCTAssertFalse(queue.isPending(h))
        XCTAssertEqual(queue.count, 2)
        var got: [String] = []
        while let e = queue.pop() { got.append(e.payload) }
        XCTAssertEqual(got, ["keep1", "keep2"])
    }

    func testCancelAfterFireIsANoOp() {
        var queue = EventQueue<Int>()
        let h = queue.schedule(1, at: SimTime(nanoseconds: 5))
        queue.schedule(2, at: SimTime(nanoseconds: 6))
        XCTAssertEqual(queue.pop()?.payload, 1)
        XCTAssertFalse(queue.isPending(h))
        XCTAssertFalse(queue.cancel(h), "cancelling a fired event must report false")
        XCTAssertEqual(queue.count, 1, "cancelling a fired event must not change count")
        XCTAssertEqual(queue.pop()?.payload, 2)
        XCTAssertEqual(queue.count, 0)
    }

    func testDoubleCancel() {
        var queue = EventQueue<Int>()
        let h = queue.schedule(1, at: SimTime(nanoseconds: 5))
        queue.schedule(2, at: SimTime(nanoseconds: 6))
        XCTAssertTrue(queue.cancel(h))
        XCTAssertFalse(queue.cancel(h))
        XCTAssertEqual(queue.count, 1)
        XCTAssertEqual(queue.pop()?.payload, 2)
        XCTAssertFalse(queue.cancel(h), "still a no-op after the cancelled entry was discarded")
        XCTAssertEqual(queue.count, 0)
    }

    func testStaleHandleDoesNotCancelTheEventThatReusedItsSlot() {
        var queue = EventQueue<String>()
        // Fired, then the slot is reused.
        let old = queue.schedule("old", at: SimTime(nanoseconds: 1))
        XCTAssertEqual(queue.pop()?.payload, "old")
        let new = queue.schedule("new", at: SimTime(nanoseconds: 2))
        XCTAssertEqual(new.slot, old.slot, "test premise: the freed slot is reused")
        XCTAssertFalse(queue.cancel(old))
        XCTAssertTrue(queue.isPending(new))
        XCTAssertEqual(queue.count, 1)
        // Cancelled and discarded, then the slot is reused.
        XCTAssertTrue(queue.cancel(new))
        XCTAssertNil(queue.pop())  // discards nothing: no live event; the entry stays until purged or reached
        let newer = queue.schedule("newer", at: SimTime(nanoseconds: 3))
        XCTAssertFalse(queue.cancel(new))
        XCTAssertFalse(queue.cancel(old))
        XCTAssertTrue(queue.isPending(newer))
        XCTAssertEqual(queue.pop()?.payload, "newer")
        let newest = queue.schedule("newest", at: SimTime(nanoseconds: 4))
        XCTAssertFalse(queue.cancel(new))
        XCTAssertFalse(queue.cancel(newer))
        XCTAssertEqual(queue.pop()?.payload, "newest")
        _ = newest
    }

    func testHandlesOlderThan2To32SchedulesAreStillExact() {
        // Slots keep only the low 32 bits of the sequence number; jump the counter to make an
        // event with the same slot and the same low bits as a fired one.
        var queue = EventQueue<String>()
        let old = queue.schedule("old", at: SimTime(nanoseconds: 1))
        let keeper = queue.schedule("keeper", at: SimTime(nanoseconds: 1_000))
        XCTAssertEqual(queue.pop()?.payload, "old")
        queue.nextSeq = old.seq + (1 << 32)
        let alias = queue.schedule("alias", at: SimTime(nanoseconds: 2))
        XCTAssertEqual(alias.slot, old.slot, "test premise: the slot is reused")
        XCTAssertEqual(UInt32(truncatingIfNeeded: alias.seq), UInt32(truncatingIfNeeded: old.seq), "test premise: same low bits")
        XCTAssertFalse(queue.isPending(old))
        XCTAssertFalse(queue.cancel(old), "a stale handle must not cancel the event that aliases it")
        XCTAssertTrue(queue.isPending(alias))
        // An old handle whose event is still pending is found in the heap.
        XCTAssertTrue(queue.isPending(keeper))
        XCTAssertTrue(queue.cancel(keeper))
        XCTAssertFalse(queue.isPending(keeper))
        XCTAssertEqual(queue.pop()?.payload, "alias")
        XCTAssertNil(queue.pop())
    }

    func testCancelledEntriesArePurgedSoTimersCannotFillTheQueue() {
        // A request-timeout pattern: every event arms a far-future timer and cancels the
        // previous one. Without purging, the heap would hold every cancelled timer.
        var queue = EventQueue<Int>()
        var timer: EventHandle?
        var maxStored = 0
        for i in 0..<50_000 {
            if let t = timer { XCTAssertTrue(queue.cancel(t)) }
            timer = queue.schedule(i, at: SimTime(nanoseconds: 1_000_000_000 + Int64(i)))
            maxStored = max(maxStored, queue.storedEntries)
        }
        XCTAssertEqual(queue.count, 1)
        XCTAssertLessThanOrEqual(maxStored, 2 * EventQueue<Int>.purgeMinimum + 2,
                                 "cancelled entries must be purged (max stored \(maxStored))")
        XCTAssertEqual(queue.pop()?.payload, 49_999)
        XCTAssertNil(queue.pop())
    }

    func testPurgeKeepsOrderAndHandles() {
        var rng = SimRandom(seed: 77)
        var queue = EventQueue<Int>()
        var handles: [EventHandle] = []
        var times: [Int64] = []
        for i in 0..<6_000 {
            let t = Int64(rng.below(1_000))
            times.append(t)
            handles.append(queue.schedule(i, at: SimTime(nanoseconds: t)))
        }
        // Cancel all but every fifth: cancelled entries exceed live ones, so a purge runs.
        for i in 0..<6_000 where i % 5 != 0 { XCTAssertTrue(queue.cancel(handles[i])) }
        XCTAssertLessThan(queue.storedEntries, 6_000, "a purge should have run")
        XCTAssertEqual(queue.count, 1_200)
        for i in 0..<6_000 { XCTAssertEqual(queue.isPending(handles[i]), i % 5 == 0, "event \(i)") }
        let expected = (0..<6_000).filter { $0 % 5 == 0 }.sorted { (times[$0], $0) < (times[$1], $1) }
        var got: [Int] = []
        while let e = queue.pop() { got.append(e.payload) }
        XCTAssertEqual(got, expected)
    }

    // MARK: Payloads with references (moves, not copies; no leaks)

    final class Token {
        nonisolated(unsafe) static var alive = 0
        let id: Int
        init(_ id: Int) { self.id = id; Token.alive += 1 }
        deinit { Token.alive -= 1 }
    }

    func testReferencePayloadsAreReleasedWhenPoppedCancelledOrDropped() {
        Token.alive = 0
        do {
            var queue = EventQueue<Token>()
            var handles: [EventHandle] = []
            for i in 0..<3_000 { handles.append(queue.schedule(Token(i), at: SimTime(nanoseconds: Int64((i * 7919) % 1000)))) }
            XCTAssertEqual(Token.alive, 3_000)
            for i in stride(from: 0, to: 3_000, by: 2) { queue.cancel(handles[i]) }  // triggers a purge
            var last = (time: Int64.min, id: -1)
            for _ in 0..<500 {
                let e = queue.pop()!
                XCTAssertEqual(e.payload.id % 2, 1)
                XCTAssertTrue((last.time, last.id) < (e.time.nanoseconds, e.payload.id) || last.id == -1)
                last = (e.time.nanoseconds, e.payload.id)
            }
            var copy = queue  // shares storage until mutated: then payloads are copied
            XCTAssertEqual(copy.count, 1_000)
            XCTAssertEqual(copy.pop()?.payload.id, queue.pop()?.payload.id)
            copy.schedule(Token(-1), at: .zero)
            XCTAssertEqual(copy.count, 1_000)
            XCTAssertEqual(queue.count, 999)
        }
        XCTAssertEqual(Token.alive, 0, "every payload must be released exactly once")
    }

    // MARK: Value semantics

    func testCopiesAreIndependent() {
        var a = EventQueue<Int>()
        for i in 0..<100 { a.schedule(i, at: SimTime(nanoseconds: Int64(100 - i))) }
        var b = a
        let h = b.schedule(1000, at: SimTime(nanoseconds: 0))
        XCTAssertEqual(a.count, 100)
        XCTAssertEqual(b.count, 101)
        XCTAssertFalse(a.isPending(h), "a handle from b is not pending in a (slot beyond a's slots)")
        XCTAssertEqual(a.pop()?.payload, 99)
        XCTAssertEqual(b.pop()?.payload, 1000)
        XCTAssertEqual(b.pop()?.payload, 99)
        var c = b
        while c.pop() != nil {}
        XCTAssertEqual(b.count, 99)
        XCTAssertEqual(c.count, 0)
    }

    // MARK: Growth

    func testGrowsTo100kPendingEvents() {
        var rng = SimRandom(seed: 100_000)
        var queue = EventQueue<UInt32>()  // starts small: grows many times
        let n = 100_000
        var times = [Int64](repeating: 0, count: n)
        for i in 0..<n {
            times[i] = Int64(rng.below(1 << 40))
            queue.schedule(UInt32(i), at: SimTime(nanoseconds: times[i]))
        }
        XCTAssertEqual(queue.count, n)
        var previous: (Int64, UInt32)? = nil
        var popped = 0
        while let e = queue.pop() {
            XCTAssertEqual(e.time.nanoseconds, times[Int(e.payload)])
            if let p = previous, !(p < (e.time.nanoseconds, e.payload)) {
                XCTFail("out of order at pop \(popped): \(p) then \((e.time.nanoseconds, e.payload))")
                break
            }
            previous = (e.time.nanoseconds, e.payload)
            popped += 1
        }
        XCTAssertEqual(popped, n)
    }

    func testHoldModelKeepsSizeConstantAndTimeMonotone() {
        // The benchmark's loop, small: each pop schedules one event later than now.
        var rng = SimRandom(seed: 9)
        var queue = EventQueue<UInt32>(capacity: 1_000)
        for i in 0..<1_000 { queue.schedule(UInt32(i), at: SimTime(nanoseconds: Int64(rng.below(1_000_000)))) }
        var now = SimTime.zero
        for i in 0..<50_000 {
            guard let e = queue.pop() else { return XCTFail("queue ran dry at \(i)") }
            XCTAssertGreaterThanOrEqual(e.time, now)
            now = e.time
            queue.schedule(UInt32(i), at: now + .nanoseconds(Int64(rng.below(1_000_000))))
            XCTAssertEqual(queue.count, 1_000)
        }
    }

    // MARK: Randomized comparison with a reference model

    /// A trivially correct future-event list: an array searched linearly for the minimum.
    struct ReferenceQueue {
        struct Item { var time: Int64; var seq: Int; var payload: Int; var live: Bool }
        var items: [Item] = []
        var nextSeq = 0
        mutating func schedule(_ payload: Int, at time: Int64) -> Int {
            items.append(Item(time: time, seq: nextSeq, payload: payload, live: true))
            nextSeq += 1
            return nextSeq - 1
        }
        mutating func cancel(_ seq: Int) -> Bool {
            guard let i = items.firstIndex(where: { $0.seq == seq && $0.live }) else { return false }
            items.remove(at: i)
            return true
        }
        func isPending(_ seq: Int) -> Bool { items.contains { $0.seq == seq } }
        var minIndex: Int? {
            items.indices.min { (items[$0].time, items[$0].seq) < (items[$1].time, items[$1].seq) }
        }
        mutating func pop() -> (Int64, Int)? {
            guard let i = minIndex else { return nil }
            let item = items.remove(at: i)
            return (item.time, item.payload)
        }
        var peekTime: Int64? { minIndex.map { items[$0].time } }
    }

    func testRandomOperationsMatchReferenceModel() {
        for seed: UInt64 in 1...150 {
            var rng = SimRandom(root: seed, label: "eventqueue-model")
            var queue = EventQueue<Int>()
            var model = ReferenceQueue()
            var handles: [(EventHandle, Int)] = []  // queue handle, model seq
            var now: Int64 = 0
            // Vary the mix per seed: some runs grow, some drain, some cancel heavily.
            let schedulePPM = UInt32(300_000 + rng.below(400_000))
            let cancelPPM = UInt32(rng.below(500_000))
            let timeSpan = UInt64(1) << rng.below(12)
            let ops = 400 + Int(rng.below(800))
            for step in 0..<ops {
                let where_ = "seed \(seed) step \(step)"
                if rng.chance(ppm: schedulePPM) {
                    let t = now + Int64(rng.below(timeSpan))
                    let payload = step
                    let h = queue.schedule(payload, at: SimTime(nanoseconds: t))
                    let s = model.schedule(payload, at: t)
                    handles.append((h, s))
                } else if !handles.isEmpty && rng.chance(ppm: cancelPPM) {
                    let (h, s) = handles[Int(rng.below(UInt64(handles.count)))]
                    XCTAssertEqual(queue.isPending(h), model.isPending(s), where_)
                    XCTAssertEqual(queue.cancel(h), model.cancel(s), "cancel: " + where_)
                } else if rng.chance(ppm: 200_000) {
                    XCTAssertEqual(queue.peekTime()?.nanoseconds, model.peekTime, "peek: " + where_)
                } else {
                    let got = queue.pop()
                    let want = model.pop()
                    XCTAssertEqual(got?.time.nanoseconds, want?.0, "pop time: " + where_)
                    XCTAssertEqual(got?.payload, want?.1, "pop payload: " + where_)
                    if let t = got?.time.nanoseconds { now = t }
                }
                XCTAssertEqual(queue.count, model.items.count, "count: " + where_)
                if queue.count != model.items.count { return }
            }
            // Drain and compare the rest.
            while let want = model.pop() {
                let got = queue.pop()
                XCTAssertEqual(got?.time.nanoseconds, want.0, "drain: seed \(seed)")
                XCTAssertEqual(got?.payload, want.1, "drain: seed \(seed)")
            }
            XCTAssertNil(queue.pop(), "seed \(seed)")
            for (h, _) in handles { XCTAssertFalse(queue.isPending(h), "seed \(seed)") }
        }
    }

    func testRandomOperationsWithManyCancellationsMatchReferenceModel() {
        // Large enough to cross the purge threshold and the branch-free size limit.
        for seed: UInt64 in 1...3 {
            var rng = SimRandom(root: seed, label: "eventqueue-purge")
            var queue = EventQueue<Int>()
            var live: [Int: (EventHandle, Int64)] = [:]  // payload → handle (lookups only, never iterated for order)
            var order: [Int] = []  // payloads in scheduling order
            let n = EventQueue<Int>.branchFreeLimit + 5_000
            for i in 0..<n {
                let t = Int64(rng.below(10_000))
                live[i] = (queue.schedule(i, at: SimTime(nanoseconds: t)), t)
                order.append(i)
            }
            for i in order where rng.chance(ppm: 700_000) {
                XCTAssertTrue(queue.cancel(live[i]!.0), "seed \(seed) cancel \(i)")
                live[i] = nil
            }
            XCTAssertEqual(queue.count, live.count, "seed \(seed)")
            let expected = order.filter { live[$0] != nil }.sorted { (live[$0]!.1, $0) < (live[$1]!.1, $1) }
            var got: [Int] = []
            got.reserveCapacity(expected.count)
            while let e = queue.pop() { got.append(e.payload) }
            XCTAssertEqual(got.count, expected.count, "seed \(seed)")
            XCTAssertTrue(got == expected, "seed \(seed): pop order differs from (time, seq) order")
        }
    }
}
