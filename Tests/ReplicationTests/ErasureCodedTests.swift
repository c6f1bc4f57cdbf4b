import XCTest
import SimCore
import SimNetwork
import SimConfig
@testable import Replication
@testable import Simulation

/// All subsets of `0..<n` with exactly `size` elements, in lexicographic order.
func subsets(of n: Int, size: Int) -> [[Int]] {
    guard size > 0 else { return [[]] }
    guard size <= n else { return [] }
    var result: [[Int]] = []
    func extend(_ prefix: [Int], from start: Int) {
        if prefix.count == size { result.append(prefix); return }
        for i in start..<n { extend(prefix + [i], from: i + 1) }
    }
    extend([], from: 0)
    return result
}

final class ErasureCodedTests: XCTestCase {
    typealias H = Harness<ErasureCoded>

    func harness(k: Int = 4, m: Int = 2, _ extra: [(String, ConfigValue)] = []) throws -> H {
        try H(parameters: [("k", .number(Double(k))), ("m", .number(Double(m)))] + extra)
    }

    func holders(_ h: H, _ key: UInt64, home: Int = 0) -> [Int] { h.strategy.placement(of: ShardKey(key), home: home) }

    // MARK: Writes

    func testWriteStoresOneFragmentPerHolderWithTheRealFragmentSize() throws {
        var h = try harness()
        let op = h.write(key: 1, bytes: 1000)
        h.run(for: .seconds(1))
        XCTAssertEqual(h.result(op), .acknowledged)
        let placed = holders(h, 1)
        XCTAssertEqual(placed.count, 6)
        XCTAssertEqual(Set(placed).count, 6, "distinct nodes")
        XCTAssertEqual(Set(placed.map { h.world.datacenter(of: $0) }).count, 5, "spread over all five DCs first")
        for (i, node) in placed.enumerated() {
            let copy = try XCTUnwrap(h.stored(1, at: node), "fragment \(i)")
            XCTAssertEqual(Int(copy.fragment), i)
            XCTAssertEqual(copy.stamp.version, 1)
            XCTAssertEqual(Int(copy.storedBytes), 24 + 250, "24-byte fragment header + ceil(1000 / 4)")
        }
        XCTAssertEqual(h.disks.reduce(0) { $0 + $1.usedBytes }, 6 * 274)
        XCTAssertGreaterThan(h.traffic(.writeRequest).bytes, 5 * 250, "fragments cross the network as write requests")
    }

    func testAcknowledgesWithOneHolderDownButNotWithTwo() throws {
        // RS(4,2): ack_fragments defaults to max(k, m) + 1 = 5.
        var h = try harness()
        XCTAssertEqual(h.strategy.ackFragments, 5)
        let placed = holders(h, 1)
        h.crash(placed[5])
        let ok = h.write(key: 1)
        h.run(for: .seconds(1))
        XCTAssertEqual(h.result(ok), .acknowledged)

        var h2 = try harness()
        h2.crash(placed[4]); h2.crash(placed[5])
        let refused = h2.write(key: 1)
        h2.run(for: .seconds(10))
        XCTAssertEqual(h2.result(refused), .failed, "4 of 6 stored is below ack_fragments: never acknowledged")
        XCTAssertEqual(h2.replies.filter { $0.op == refused }.count, 1)
    }

    // MARK: Reads under missing holders

    /// Makes the holders at `positions` unavailable: alternately crashed (no answer) and
    /// with their fragment rotted (answers missing).
    func lose(_ positions: [Int], of key: UInt64, in h: inout H, pattern: Int) {
        let placed = holders(h, key)
        for (j, p) in positions.enumerated() {
            if (j + pattern) % 2 == 0 { h.crash(placed[p]) } else { _ = h.disks[placed[p]].corrupt(ShardKey(key)) }
        }
    }

    func checkEveryPatternOfUpToMMissingHoldersReads(k: Int, m: Int) throws {
        var patterns = 0
        for size in 0...m {
            for (index, pattern) in subsets(of: k + m, size: size).enumerated() {
                var h = try harness(k: k, m: m, [("read_repair", .bool(false))])
                XCTAssertEqual(h.result(h.write(key: 7, bytes: 600)), nil)
                h.run(for: .seconds(1))
                XCTAssertEqual(h.holders(of: 7, atLeast: 1).count, k + m)
                lose(pattern, of: 7, in: &h, pattern: index)
                let near = h.read(key: 7, clientDC: 0)
                let far = h.read(key: 7, clientDC: 4)
                h.run(for: .seconds(3))
                XCTAssertEqual(h.result(near), .found(Stamp(version: 1), tombstone: false), "RS(\(k),\(m)) missing \(pattern)")
                XCTAssertEqual(h.result(far), .found(Stamp(version: 1), tombstone: false), "RS(\(k),\(m)) missing \(pattern), from sin")
                patterns += 1
            }
        }
        XCTAssertEqual(patterns, (0...m).reduce(0) { $0 + subsets(of: k + m, size: $1).count })
    }

    func testEveryPatternOfUpToMMissingHoldersStillReadsRS42() throws {
        try checkEveryPatternOfUpToMMissingHoldersReads(k: 4, m: 2)
    }

    func testEveryPatternOfUpToMMissingHoldersStillReadsRS63() throws {
        try checkEveryPatternOfUpToMMissingHoldersReads(k: 6, m: 3)
    }

    func testEveryPatternOfMPlusOneMissingHoldersFailsTheRead() throws {
        for (index, pattern) in subsets(of: 6, size: 3).enumerated() {
            var h = try harness(k: 4, m: 2)
            h.write(key: 3)
            h.run(for: .seconds(1))
            lose(pattern, of: 3, in: &h, pattern: index)
            let op = h.read(key: 3)
            h.run(for: .seconds(5))
            XCTAssertEqual(h.result(op), .failed, "missing \(pattern): k − 1 fragments must not decode into anything")
        }
    }

    func testNeverReturnsAnOlderVersionWhenTheNewestCannotBeDecoded() throws {
        var h = try harness(k: 4, m: 2, [("scrub_interval", .string("0s"))])
        let placed = holders(h, 1)
        h.write(key: 1, version: 1)
        h.run(for: .seconds(1))
        // v2 misses holder 2 (down) and is acknowledged by the other five; the coordinator's
        // hint for holder 2 is blocked, so holder 2 keeps its v1 fragment.
        let coordinator = placed[0]
        h.crash(placed[2])
        let v2 = h.write(key: 1, version: 2, clientDC: 0)
        h.run(for: .milliseconds(500))
        XCTAssertEqual(h.result(v2), .acknowledged)
        XCTAssertEqual(h.replies.first { $0.op == v2 }?.from, coordinator)
        h.block(from: coordinator, to: placed[2])
        h.restart(placed[2])
        h.run(for: .seconds(1))
        XCTAssertEqual(h.stored(1, at: placed[2])?.stamp.version, 1)
        // Two v2 holders go down. Left: three v2 fragments and one v1 — neither decodes.
        h.crash(placed[0]); h.crash(placed[1])
        let read = h.read(key: 1, clientDC: 4)
        h.run(for: .seconds(5))
        XCTAssertEqual(h.result(read), .failed, "never the superseded version, never a guess")
    }

    func testReadOfAKeyNeverWrittenIsNotFound() throws {
        var h = try harness()
        let op = h.read(key: 42)
        h.run(for: .seconds(1))
        XCTAssertEqual(h.result(op), .notFound)
    }

    func testReadRepairRewritesAMissingFragment() throws {
        var h = try harness()
        h.write(key: 1)
        h.run(for: .seconds(1))
        let placed = holders(h, 1)
        _ = h.disks[placed[0]].corrupt(ShardKey(1))
        let op = h.read(key: 1, clientDC: 0)
        h.run(for: .seconds(1))
        XCTAssertEqual(h.result(op), .found(Stamp(version: 1), tombstone: false))
        let copy = try XCTUnwrap(h.stored(1, at: placed[0]))
        XCTAssertFalse(copy.corrupt, "the read wrote fragment 0 back")
        XCTAssertEqual(copy.fragment, 0)
        XCTAssertEqual(h.strategy.fragmentsRepaired, 1)
    }

    // MARK: Deletes

    func testDeleteTombstonesEveryFragmentAndFreesTheSpace() throws {
        var h = try harness()
        h.write(key: 1, version: 1, bytes: 4000)
        h.run(for: .seconds(1))
        XCTAssertGreaterThan(h.disks.reduce(0) { $0 + $1.usedBytes }, 4000)
        let del = h.delete(key: 1, version: 2)
        h.run(for: .seconds(1))
        XCTAssertEqual(h.result(del), .acknowledged)
        for node in holders(h, 1) { XCTAssertEqual(h.stored(1, at: node)?.tombstone, true) }
        XCTAssertEqual(h.disks.reduce(0) { $0 + $1.usedBytes }, 0)
        let read = h.read(key: 1, clientDC: 3)
        h.run(for: .seconds(1))
        XCTAssertEqual(h.result(read), .found(Stamp(version: 2), tombstone: true))
    }

    // MARK: Repair

    func testDiskLossIsRepairedOnRejoinAndItsTrafficCounted() throws {
        var h = try harness(k: 4, m: 2, [("scrub_interval", .string("0s"))])
        for key in 0..<40 { h.write(key: UInt64(key), bytes: 2000) }
        h.run(for: .seconds(2))
        let victim = holders(h, 0)[1]
        let mine = (0..<40).filter { holders(h, UInt64($0)).contains(victim) }
        XCTAssertGreaterThan(mine.count, 5)
        let repairBefore = h.traffic(.repair).bytes
        h.crash(victim, diskLost: true)
        h.run(for: .seconds(1))
        // Reads still work with the victim down (one of m = 2).
        let read = h.read(key: UInt64(mine[0]), clientDC: h.world.datacenter(of: victim))
        h.run(for: .seconds(3))
        XCTAssertEqual(h.result(read), .found(Stamp(version: 1), tombstone: false))
        h.restart(victim)
        h.run(for: .seconds(30))
        for key in mine {
            let copy = try XCTUnwrap(h.stored(UInt64(key), at: victim), "key \(key) rebuilt on the rejoined node")
            XCTAssertEqual(Int(copy.fragment), holders(h, UInt64(key)).firstIndex(of: victim))
            XCTAssertEqual(copy.stamp.version, 1)
            XCTAssertEqual(Int(copy.storedBytes), 24 + 500)
        }
        for key in 0..<40 { XCTAssertEqual(h.holders(of: UInt64(key), atLeast: 1).count, 6, "full redundancy for key \(key)") }
        // Each rebuilt fragment costs k fragment reads and one fragment write, as repair traffic.
        let repaired = h.traffic(.repair).bytes - repairBefore
        XCTAssertGreaterThanOrEqual(repaired, mine.count * 5 * 524)
        XCTAssertEqual(h.strategy.fragmentsRepaired, mine.count)
        XCTAssertEqual(h.strategy.abandonedRepairs, 0)
    }

    func testScrubFindsAndRebuildsARottedFragment() throws {
        var h = try harness(k: 4, m: 2, [("scrub_interval", .string("2s")), ("read_repair", .bool(false))])
        for key in 0..<5 { h.write(key: UInt64(key)) }
        h.run(for: .seconds(1))
        let node = holders(h, 3)[4]
        XCTAssertTrue(h.disks[node].corrupt(ShardKey(3)))
        h.run(for: .seconds(10))
        let copy = try XCTUnwrap(h.stored(3, at: node))
        XCTAssertFalse(copy.corrupt, "rebuilt by the scrub")
        XCTAssertEqual(copy.fragment, 4)
        XCTAssertEqual(h.strategy.fragmentsRepaired, 1)
    }

    func testAHolderThatMissedAWriteWhileDownGetsItFromTheHint() throws {
        var h = try harness(k: 4, m: 2, [("scrub_interval", .string("0s"))])
        let placed = holders(h, 1)
        h.crash(placed[3])
        let op = h.write(key: 1)
        h.run(for: .seconds(8))   // past write_timeout × (write_retries + 1): handed to repair
        XCTAssertEqual(h.result(op), .acknowledged)
        XCTAssertNil(h.stored(1, at: placed[3]))
        XCTAssertEqual((0..<h.world.topology.nodes.count).reduce(0) { $0 + h.strategy.repairBacklog($1) }, 1)
        h.restart(placed[3])   // its hello wakes the deferred repair at once
        h.run(for: .seconds(2))
        XCTAssertEqual(h.stored(1, at: placed[3])?.fragment, 3)
        h.run(for: .seconds(30))
        XCTAssertEqual((0..<h.world.topology.nodes.count).reduce(0) { $0 + h.strategy.repairBacklog($1) }, 0, "the queue drains")
        XCTAssertEqual(h.strategy.abandonedRepairs, 0)
    }

    func testFragmentsOwedByACrashedCoordinatorAreRepairedAfterItsRestart() throws {
        var h = try harness(k: 4, m: 2, [("scrub_interval", .string("0s"))])
        let placed = holders(h, 1)
        let coordinator = try XCTUnwrap(h.strategy.coordinator(for: ClientRequest(id: OperationID(0), kind: .write, key: ShardKey(1),
                                                                                  stamp: Stamp(version: 1), storedBytes: 1000, homeDC: 0),
                                                               clientDC: 0, up: h.liveness))
        h.block(from: coordinator, to: placed[5])
        let op = h.write(key: 1)
        h.run(for: .milliseconds(500))
        XCTAssertEqual(h.result(op), .acknowledged)
        h.crash(coordinator)          // disk kept: the owed fragment is in its log
        h.heal()
        h.run(for: .seconds(5))
        XCTAssertNil(h.stored(1, at: placed[5]))
        h.restart(coordinator)
        h.run(for: .seconds(2))
        XCTAssertEqual(h.stored(1, at: placed[5])?.fragment, 5)
    }

    // MARK: Partitions

    func testAPartitionedMinorityCannotWriteOrReadAndRecoversAfterHeal() throws {
        var h = try harness()
        h.write(key: 2)
        h.run(for: .seconds(1))
        // DC 0 holds 2 of the 6 fragments: cut off, it can neither reach 5 for a write nor 4 for a read.
        h.partition([0], [1, 2, 3, 4])
        let w = h.write(key: 1, clientDC: 0)
        let r = h.read(key: 2, clientDC: 0)
        h.run(for: .seconds(10))
        XCTAssertEqual(h.result(w), .failed)
        XCTAssertEqual(h.result(r), .failed, "fails rather than guessing")
        h.heal()
        let again = h.write(key: 1, clientDC: 0)
        let r2 = h.read(key: 2, clientDC: 0)
        h.run(for: .seconds(1))
        XCTAssertEqual(h.result(again), .acknowledged)
        XCTAssertEqual(h.result(r2), .found(Stamp(version: 1), tombstone: false))
    }

    // MARK: Configuration

    func testParametersAreValidatedWithClearErrors() throws {
        XCTAssertThrowsError(try harness(k: 4, m: 2, [("copies", .number(5))])) { e in
            XCTAssertTrue("\(e)".contains("copies") && "\(e)".contains("k + m = 6"), "\(e)")
        }
        XCTAssertThrowsError(try harness(k: 4, m: 2, [("ack_fragments", .number(3))])) { e in
            XCTAssertTrue("\(e)".contains("ack_fragments"), "\(e)")
        }
        XCTAssertThrowsError(try harness(k: 4, m: 2, [("ack_fragment", .number(5))])) { e in
            XCTAssertTrue("\(e)".contains("did you mean 'ack_fragments'"), "\(e)")
        }
        XCTAssertThrowsError(try harness(k: 30, m: 3)) { e in XCTAssertTrue("\(e)".contains("k"), "\(e)") }
    }

    func testToleranceFollowsTheCodeAndTheAckCount() throws {
        let rs63 = try harness(k: 6, m: 3).strategy
        XCTAssertEqual(rs63.fragmentsNeededToRead, 6)
        XCTAssertEqual(rs63.replicasToWrite, 7)
        // Writes need 7 of 9 up: two nodes, or one DC (at most two fragments per DC), disks kept.
        XCTAssertEqual(rs63.tolerance, FaultTolerance(datacenters: 1, nodes: 2, diskLoss: false, partitions: true))
        // Waiting for 8 fragments: one node down, and an acked write survives one lost disk.
        let strict = try harness(k: 6, m: 3, [("ack_fragments", .number(8))]).strategy
        XCTAssertEqual(strict.tolerance, FaultTolerance(datacenters: 0, nodes: 1, diskLoss: true, partitions: false))
    }
}
