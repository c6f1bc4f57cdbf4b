import XCTest
import SimCore
@testable import Simulation

/// The redundancy definitions on hand-built unit changes: margins of whole copies, RS
/// fragments and hybrid shards, distinct fragment indices, durability versus liveness.
final class RedundancyTrackerTests: XCTestCase {
    let t0 = SimTime.zero

    func margin(_ r: RedundancyTracker) -> Int? { r.currentMinMargin }

    /// Three whole copies: margin 2, 1, 0 (at risk), −1 (unreadable); under-replicated below 3.
    func testReplicationMarginIsCopiesMinusOne() {
        var r = RedundancyTracker(needed: 1, warmupEnd: t0)
        r.added(wholeTarget: 3, stripeWidth: 3, now: t0)
        XCTAssertEqual(margin(r), -1)
        XCTAssertEqual(r.under, 1)
        for n in 1...3 {
            r.liveChange(0, .whole, by: 1, now: t0)
            XCTAssertEqual(margin(r), n - 1)
        }
        XCTAssertEqual(r.under, 0)
        r.liveChange(0, .whole, by: -1, now: t0)
        XCTAssertEqual(margin(r), 1)
        XCTAssertEqual(r.under, 1)
        r.liveChange(0, .whole, by: -1, now: t0)
        XCTAssertEqual(r.atRiskNow, 1)
        XCTAssertEqual(r.minMargin, 0)
        r.liveChange(0, .whole, by: -1, now: t0)
        XCTAssertEqual(r.minMargin, -1)
        XCTAssertEqual(r.atRiskPeak, 1)
    }

    /// RS(4, 2): margin = distinct fragments − 4; a second holder of one index adds nothing,
    /// and losing one of the two keeps the index.
    func testRSMarginCountsDistinctFragmentIndices() {
        var r = RedundancyTracker(needed: 4, warmupEnd: t0)
        r.added(wholeTarget: 6, stripeWidth: 6, now: t0)
        for i in 0..<6 { r.liveChange(0, .fragment(i), by: 1, now: t0) }
        XCTAssertEqual(margin(r), 2)
        XCTAssertEqual(r.under, 0)
        r.liveChange(0, .fragment(5), by: -1, now: t0)
        XCTAssertEqual(margin(r), 1)
        XCTAssertEqual(r.under, 1)
        // Index 0 on a second node: still 5 distinct.
        r.liveChange(0, .fragment(0), by: 1, now: t0)
        XCTAssertEqual(margin(r), 1)
        r.liveChange(0, .fragment(0), by: -1, now: t0)
        XCTAssertEqual(margin(r), 1, "the other holder of index 0 remains")
        r.liveChange(0, .fragment(0), by: -1, now: t0)
        XCTAssertEqual(margin(r), 0)
        XCTAssertEqual(r.atRiskNow, 1)
        r.liveChange(0, .fragment(1), by: -1, now: t0)
        XCTAssertEqual(margin(r), -1, "3 of the 4 needed: unreadable")
        r.liveChange(0, .fragment(2), by: -1, now: t0)
        XCTAssertEqual(margin(r), -1, "margins clip at −1")
    }

    /// Hybrid, 3 replicas then RS(4, 2): 3 copies → 2; 3 copies + 6 fragments → 3 + 3 − 1 = 5
    /// (lose all 3 copies and 2 fragments and it still reads); copies dropped → 2; never
    /// under-replicated while either tier is complete.
    func testHybridMarginCountsBothTiers() {
        var r = RedundancyTracker(needed: 4, warmupEnd: t0)
        r.added(wholeTarget: 3, stripeWidth: 6, now: t0)
        for _ in 0..<3 { r.liveChange(0, .whole, by: 1, now: t0) }
        XCTAssertEqual(margin(r), 2)
        XCTAssertEqual(r.under, 0)
        for i in 0..<3 { r.liveChange(0, .fragment(i), by: 1, now: t0) }
        XCTAssertEqual(margin(r), 2, "3 fragments of k = 4 add nothing yet")
        r.liveChange(0, .fragment(3), by: 1, now: t0)
        XCTAssertEqual(margin(r), 3, "k fragments: one more way to read")
        for i in 4..<6 { r.liveChange(0, .fragment(i), by: 1, now: t0) }
        XCTAssertEqual(margin(r), 5)
        for _ in 0..<3 {
            r.liveChange(0, .whole, by: -1, now: t0)
            XCTAssertEqual(r.under, 0, "the full stripe is there")
        }
        XCTAssertEqual(margin(r), 2)
        r.liveChange(0, .fragment(0), by: -1, now: t0)
        XCTAssertEqual(r.under, 1)
        XCTAssertEqual(margin(r), 1)
    }

    /// Durability counts disks, not liveness: a shard whose units are all on down nodes is
    /// not lost; losing the disks is. The first loss is the time of the change that made it.
    func testLossNeedsDisksGoneNotNodesDown() {
        var r = RedundancyTracker(needed: 2, warmupEnd: t0)
        r.added(wholeTarget: 3, stripeWidth: 3, now: t0)
        for i in 0..<3 {
            r.liveChange(0, .fragment(i), by: 1, now: t0)
            r.durableChange(0, .fragment(i), by: 1, now: t0)
        }
        r.acknowledged(0, deleted: false, now: t0)
        for i in 0..<3 { r.liveChange(0, .fragment(i), by: -1, now: .zero + .seconds(1)) }
        XCTAssertEqual(margin(r), -1, "unreadable now")
        XCTAssertNil(r.firstLoss, "every disk survives")
        r.durableChange(0, .fragment(0), by: -1, now: .zero + .seconds(2))
        XCTAssertNil(r.firstLoss, "2 of k = 2 fragments remain on disk")
        r.durableChange(0, .fragment(1), by: -1, now: .zero + .seconds(3))
        XCTAssertEqual(r.firstLoss, .zero + .seconds(3))
        XCTAssertEqual(r.lostNow, 1)
        XCTAssertEqual(r.lossEvents, 1)
        // A unit coming back (a resend from memory) makes it recoverable again; the first
        // loss stays where it was.
        r.durableChange(0, .fragment(1), by: 1, now: .zero + .seconds(4))
        XCTAssertEqual(r.lostNow, 0)
        XCTAssertEqual(r.firstLoss, .zero + .seconds(3))
    }

    /// Unacknowledged shards and acknowledged deletes are never lost; an acknowledgement of a
    /// shard with nothing on disk is a loss at that instant.
    func testOnlyAcknowledgedWritesCanBeLost() {
        var r = RedundancyTracker(needed: 1, warmupEnd: t0)
        r.added(wholeTarget: 1, stripeWidth: 1, now: t0)
        r.added(wholeTarget: 1, stripeWidth: 1, now: t0)
        r.acknowledged(1, deleted: true, now: t0)
        XCTAssertNil(r.firstLoss, "nothing on disk, but a shard never acknowledged and a delete are not losses")
        r.acknowledged(0, deleted: false, now: .zero + .seconds(5))
        XCTAssertEqual(r.firstLoss, .zero + .seconds(5))
    }

    /// A disk write to a shard that had been complete and is not counts as re-replication;
    /// the first writes do not.
    func testReReplicationCountsOnlyRepairs() {
        var r = RedundancyTracker(needed: 1, warmupEnd: t0)
        r.added(wholeTarget: 2, stripeWidth: 2, now: t0)
        r.liveChange(0, .whole, by: 1, now: t0, written: true)
        r.liveChange(0, .whole, by: 1, now: t0, written: true)
        XCTAssertEqual(r.reReplicatedUnits, 0)
        r.liveChange(0, .whole, by: -1, now: t0)
        r.liveChange(0, .whole, by: 1, now: t0, written: false)
        XCTAssertEqual(r.reReplicatedUnits, 0, "a node coming back is not a repair")
        r.liveChange(0, .whole, by: -1, now: t0)
        r.liveChange(0, .whole, by: 1, now: t0, written: true)
        XCTAssertEqual(r.reReplicatedUnits, 1)
    }

    /// Under-replicated shard-seconds integrate the count over time.
    func testUnderReplicatedShardSecondsIntegrate() {
        var r = RedundancyTracker(needed: 1, warmupEnd: t0)
        r.added(wholeTarget: 1, stripeWidth: 1, now: t0)
        r.added(wholeTarget: 1, stripeWidth: 1, now: t0)
        r.liveChange(0, .whole, by: 1, now: .zero + .seconds(2))
        r.liveChange(1, .whole, by: 1, now: .zero + .seconds(5))
        r.advance(to: .zero + .seconds(9))
        XCTAssertEqual(r.underShardNanoseconds / 1e9, 2 * 2 + 3 * 1, accuracy: 1e-9)
    }
}
