import XCTest
import SimCore
import SimNetwork
import SimConfig
@testable import Replication
@testable import Simulation

final class HybridTests: XCTestCase {
    typealias H = Harness<Hybrid>
    let v1 = ClientResult.found(Stamp(version: 1), tombstone: false)

    /// 3 copies (ack after 2), then RS(4,2) after 10 s.
    func harness(_ extra: [(String, ConfigValue)] = []) throws -> H {
        try H(parameters: [("copies", .number(3)), ("k", .number(4)), ("m", .number(2)),
                           ("transcode_after", .string("10s")), ("scrub_interval", .string("0s"))] + extra)
    }

    func replicaHolders(_ h: H, _ key: UInt64) -> [Int] { h.strategy.replicas.nodes(for: ShardKey(key), home: 0) }
    func fragmentHolders(_ h: H, _ key: UInt64) -> [Int] { h.strategy.stripes.placement(of: ShardKey(key), home: 0) }

    /// Intact whole copies and distinct intact fragments of `key` at `version` or newer.
    func units(_ h: H, _ key: UInt64, version: UInt32 = 1) -> (copies: Int, fragments: Int) {
        var copies = 0
        var fragments = Set<Int16>()
        for disk in h.disks {
            guard let c = disk.get(ShardKey(key)), !c.corrupt, c.stamp.version >= version else { continue }
            if c.fragment < 0 { copies += 1 } else { fragments.insert(c.fragment) }
        }
        return (copies, fragments.count)
    }

    func usedBytes(_ h: H) -> Int64 { h.disks.reduce(0) { $0 + $1.usedBytes } }

    // MARK: Replicated tier

    func testRecentWritesAreReplicatedAndAcknowledgedAfterAckCopies() throws {
        var h = try harness()
        let copies = replicaHolders(h, 1)
        h.crash(copies[2])
        let op = h.write(key: 1, bytes: 6000)
        h.run(for: .seconds(1))
        XCTAssertEqual(h.result(op), .acknowledged, "2 of 3 copies suffice")
        XCTAssertEqual(h.holders(of: 1, atLeast: 1).sorted(), copies.prefix(2).sorted())
        XCTAssertEqual(h.strategy.placement(of: ShardKey(1), home: 0), copies)
        XCTAssertFalse(h.strategy.isCoded(ShardKey(1)))
        for n in copies.prefix(2) { XCTAssertEqual(h.stored(1, at: n)?.fragment, -1, "whole copies") }

        var h2 = try harness()
        h2.crash(copies[1]); h2.crash(copies[2])
        let refused = h2.write(key: 1)
        h2.run(for: .seconds(10))
        XCTAssertEqual(h2.result(refused), .failed)
    }

    // MARK: Transcoding

    func testTranscodesAfterTheAgeAndFreesSpace() throws {
        var h = try harness()
        let op = h.write(key: 1, bytes: 6000)
        h.run(for: .seconds(5))
        XCTAssertEqual(h.result(op), .acknowledged)
        XCTAssertEqual(usedBytes(h), 3 * 6000, "three whole copies")
        XCTAssertFalse(h.strategy.isCoded(ShardKey(1)), "not before transcode_after")
        h.run(for: .seconds(10))
        XCTAssertTrue(h.strategy.isCoded(ShardKey(1)))
        XCTAssertEqual(h.strategy.transcoded, 1)
        let fragments = fragmentHolders(h, 1)
        XCTAssertEqual(fragments.count, 6)
        XCTAssertTrue(Set(fragments).isDisjoint(with: replicaHolders(h, 1)), "a node holds a replica or a fragment, never both")
        XCTAssertEqual(h.strategy.placement(of: ShardKey(1), home: 0), fragments, "placement reports the current layout")
        for (i, n) in fragments.enumerated() {
            XCTAssertEqual(h.stored(1, at: n)?.fragment, Int16(i))
            XCTAssertEqual(h.stored(1, at: n)?.storedBytes, 24 + 1500)
        }
        for n in replicaHolders(h, 1) { XCTAssertNil(h.stored(1, at: n), "replica dropped") }
        // (k + m) / k of one copy, plus six fragment headers.
        XCTAssertEqual(usedBytes(h), 6 * (24 + 1500))
        XCTAssertEqual(Double(usedBytes(h)) / 6000, 1.5, accuracy: 0.03)
        XCTAssertGreaterThan(h.traffic(.replication).bytes, 6 * 1500, "fragments ship as replication traffic")
        for dc in 0..<5 {
            let r = h.read(key: 1, clientDC: dc)
            h.run(for: .seconds(1))
            XCTAssertEqual(h.result(r), v1, "readable from DC \(dc) once coded")
        }
    }

    /// The promise: at every instant a written key has its full replicas or its full stripe,
    /// and reads keep working, all through the transition.
    func testNeverLessThanThePromisedRedundancyAndReadableThroughoutTranscoding() throws {
        var h = try harness()
        let keys: [UInt64] = [1, 2, 3, 4, 5]
        for key in keys { h.write(key: key, bytes: 3000 + Int(key) * 100) }
        var complete = Set<UInt64>()
        var reads: [OperationID] = []
        var nextRead = SimTime.zero + .milliseconds(200)
        var events = 0
        let end = SimTime.zero + .seconds(20)
        // One fragment holder of key 1 is unreachable around transcode time, so its stripe
        // stays incomplete for a few seconds (a replica dropped early would show).
        let slow = fragmentHolders(h, 1)[4]
        var blocked = false, healed = false
        while h.step(until: end) {
            events += 1
            if !blocked && h.now >= SimTime.zero + .seconds(9) {
                blocked = true
                for n in h.world.topology.nodes.indices { h.block(from: n, to: slow) }
            }
            if !healed && h.now >= SimTime.zero + .milliseconds(12_500) { healed = true; h.heal() }
            for key in keys {
                let u = units(h, key)
                if u.copies == 3 { complete.insert(key) }
                guard complete.contains(key) else { continue }
                XCTAssertTrue(u.copies == 3 || u.fragments == 6,
                              "key \(key) at \(h.now): \(u.copies) copies, \(u.fragments) fragments")
            }
            if h.now >= nextRead {
                reads.append(h.read(key: keys[reads.count % keys.count], clientDC: reads.count % 5))
                nextRead = nextRead + .milliseconds(97)
            }
        }
        h.run(for: .seconds(3))
        XCTAssertGreaterThan(events, 200)
        XCTAssertEqual(complete, Set(keys))
        for key in keys {
            XCTAssertTrue(h.strategy.isCoded(ShardKey(key)))
            XCTAssertEqual(units(h, key).copies, 0)
            XCTAssertEqual(units(h, key).fragments, 6)
        }
        XCTAssertGreaterThan(reads.count, 150)
        for r in reads { XCTAssertEqual(h.result(r), v1, "read \(r.raw)") }
    }

    func testAFragmentHolderDownKeepsTheReplicasUntilTheStripeIsComplete() throws {
        var h = try harness([("repair_retry", .string("2s"))])
        h.write(key: 1)
        h.run(for: .seconds(1))
        let down = fragmentHolders(h, 1)[3]
        h.crash(down)
        h.run(for: .seconds(20))
        XCTAssertFalse(h.strategy.isCoded(ShardKey(1)), "five of six fragments are not enough to drop a replica")
        XCTAssertEqual(units(h, 1).copies, 3)
        h.restart(down)
        h.run(for: .seconds(10))
        XCTAssertTrue(h.strategy.isCoded(ShardKey(1)))
        XCTAssertEqual(units(h, 1).fragments, 6)
        XCTAssertEqual(units(h, 1).copies, 0)
    }

    func testATranscoderCrashResumesFromItsDurableQueue() throws {
        var h = try harness()
        h.write(key: 1)
        h.run(for: .seconds(1))
        let primary = replicaHolders(h, 1)[0]
        h.run(for: .milliseconds(9_050))  // the transcode is due at ~10 s after the ack
        h.crash(primary)
        h.run(for: .seconds(5))
        XCTAssertFalse(h.strategy.isCoded(ShardKey(1)))
        XCTAssertEqual(units(h, 1).copies, 3, "nothing dropped: the crashed primary's copy is on its kept disk")
        h.restart(primary)
        h.run(for: .seconds(5))
        XCTAssertTrue(h.strategy.isCoded(ShardKey(1)))
        XCTAssertEqual(units(h, 1).copies, 0)
    }

    // MARK: After transcoding

    func testEditOfACodedKeyMakesItHotAgainAndItIsRecodedLater() throws {
        var h = try harness()
        h.write(key: 1, version: 1, bytes: 4000)
        h.run(for: .seconds(12))
        XCTAssertTrue(h.strategy.isCoded(ShardKey(1)))
        let edit = h.write(key: 1, version: 2, bytes: 4400)
        h.run(for: .seconds(1))
        XCTAssertEqual(h.result(edit), .acknowledged)
        XCTAssertFalse(h.strategy.isCoded(ShardKey(1)))
        XCTAssertEqual(h.strategy.placement(of: ShardKey(1), home: 0), replicaHolders(h, 1))
        XCTAssertEqual(units(h, 1, version: 2).copies, 3)
        let r = h.read(key: 1, clientDC: 4)
        h.run(for: .seconds(1))
        XCTAssertEqual(h.result(r), .found(Stamp(version: 2), tombstone: false), "the edit, not the old stripe")
        h.run(for: .seconds(12))
        XCTAssertTrue(h.strategy.isCoded(ShardKey(1)))
        XCTAssertEqual(units(h, 1, version: 2).fragments, 6)
        XCTAssertEqual(units(h, 1).copies, 0)
        XCTAssertEqual(usedBytes(h), 6 * (24 + 1100))
    }

    func testDeleteOfACodedKeyTombstonesItsFragments() throws {
        var h = try harness()
        h.write(key: 1, bytes: 4000)
        h.run(for: .seconds(12))
        XCTAssertTrue(h.strategy.isCoded(ShardKey(1)))
        let del = h.delete(key: 1, version: 2)
        h.run(for: .seconds(2))
        XCTAssertEqual(h.result(del), .acknowledged)
        XCTAssertEqual(usedBytes(h), 0, "no data left anywhere")
        for n in fragmentHolders(h, 1) { XCTAssertEqual(h.stored(1, at: n)?.tombstone, true) }
        let r = h.read(key: 1, clientDC: 2)
        h.run(for: .seconds(1))
        XCTAssertEqual(h.result(r), .found(Stamp(version: 2), tombstone: true))
        h.run(for: .seconds(20))
        XCTAssertFalse(h.strategy.isCoded(ShardKey(1)), "a tombstone is never transcoded")
    }

    func testACodedKeyReadsWithMFragmentHoldersAndEveryReplicaHolderDown() throws {
        var h = try harness()
        h.write(key: 1)
        h.run(for: .seconds(12))
        XCTAssertTrue(h.strategy.isCoded(ShardKey(1)))
        for n in replicaHolders(h, 1) { h.crash(n) }
        let fragments = fragmentHolders(h, 1)
        h.crash(fragments[0]); h.crash(fragments[5])
        let r = h.read(key: 1, clientDC: 3)
        h.run(for: .seconds(3))
        XCTAssertEqual(h.result(r), v1)
        h.crash(fragments[2])
        let fails = h.read(key: 1, clientDC: 3)
        h.run(for: .seconds(5))
        XCTAssertEqual(h.result(fails), .failed, "m + 1 fragments gone: unreadable, and said so")
    }

    func testAFragmentLostWithItsDiskIsRebuiltByTheCodedTier() throws {
        var h = try harness()
        h.write(key: 1, bytes: 2000)
        h.run(for: .seconds(12))
        let victim = fragmentHolders(h, 1)[2]
        h.crash(victim, diskLost: true)
        h.run(for: .seconds(1))
        h.restart(victim)
        h.run(for: .seconds(5))
        XCTAssertEqual(h.stored(1, at: victim)?.fragment, 2)
        XCTAssertEqual(h.strategy.stripes.fragmentsRepaired, 1)
        XCTAssertGreaterThan(h.traffic(.repair).bytes, 4 * 500)
    }

    // MARK: Configuration

    func testParametersAreValidated() throws {
        XCTAssertThrowsError(try harness([("ack_copies", .number(4))])) { e in XCTAssertTrue("\(e)".contains("ack_copies"), "\(e)") }
        XCTAssertThrowsError(try H(parameters: [("k", .number(26)), ("m", .number(3))])) { e in
            XCTAssertTrue("\(e)".contains("strategy hybrid.m") && "\(e)".contains("only 27 are available"), "\(e)")
        }
        XCTAssertThrowsError(try harness([("transcode_afer", .string("1h"))])) { e in
            XCTAssertTrue("\(e)".contains("did you mean 'transcode_after'"), "\(e)")
        }
        let h = try harness()
        XCTAssertEqual(h.strategy.readCopies, 2, "copies − ack_copies + 1")
        XCTAssertEqual(h.strategy.fragmentsNeededToRead, 4)
        XCTAssertEqual(h.strategy.tolerance, FaultTolerance(datacenters: 1, nodes: 1, diskLoss: true, partitions: true))
    }
}
