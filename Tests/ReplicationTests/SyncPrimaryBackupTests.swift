import XCTest
import SimCore
import SimConfig
import SimNetwork
@testable import Replication

final class SyncPrimaryBackupTests: XCTestCase {
    typealias H = Harness<SyncPrimaryBackup>

    // MARK: Normal path

    func testAcknowledgesAfterEveryBackupStoredAndReadsAtThePrimary() throws {
        var h = try H()
        let placed = h.placed(1)
        XCTAssertEqual(Set(placed.map { h.world.datacenter(of: $0) }).count, 3, "3 copies in 3 DCs")
        let op = h.write(key: 1)
        h.runUntilAnswered(op)
        XCTAssertEqual(h.result(op), .acknowledged)
        XCTAssertEqual(h.answerer(op), placed[0], "the primary answers")
        XCTAssertEqual(Set(h.holders(of: 1, atLeast: 1)), Set(placed), "every backup stored it before the ack")
        // Client → primary → backups → primary → client: at least one WAN round trip.
        XCTAssertGreaterThanOrEqual(h.replies[0].time, SimTime.zero + h.clientLatency * 2 + h.remoteLatency * 2)

        let read = h.read(key: 1, clientDC: 3)
        h.runUntilAnswered(read)
        XCTAssertEqual(h.result(read), .found(Stamp(version: 1), tombstone: false))
        XCTAssertEqual(h.answerer(read), placed[0])
        let del = h.delete(key: 1, version: 2)
        h.runUntilAnswered(del)
        let read2 = h.read(key: 1)
        h.runUntilAnswered(read2)
        XCTAssertEqual(h.result(read2), .found(Stamp(version: 2), tombstone: true))
        h.run(for: .seconds(2))
        for n in placed { XCTAssertEqual(h.logCount(of: 1, at: n), 0, "logs pruned by the watermark at node \(n)") }
    }

    func testAckAllWaitsForASilentBackupUntilItIsRemoved() throws {
        var h = try H()
        let placed = h.placed(1)
        h.block(from: placed[0], to: placed[2])   // one way: the backup's heartbeats still arrive
        let op = h.write(key: 1)
        h.run(for: .seconds(1))
        XCTAssertNil(h.result(op), "ack: all needs the unreachable backup")
        h.runUntilAnswered(op)
        XCTAssertEqual(h.result(op), .acknowledged, "acknowledged after the silent backup left the view")
        XCTAssertEqual(h.view(of: 1, at: placed[0])?.members, [placed[0], placed[1]])
        XCTAssertGreaterThan(h.replies[0].time, SimTime.zero + .seconds(3))
        // Healed, it is copied up to date and rejoins as the last backup.
        h.heal()
        h.run(for: .seconds(10))
        XCTAssertEqual(h.view(of: 1, at: placed[0])?.members, [placed[0], placed[1], placed[2]])
        XCTAssertEqual(h.version(1, at: placed[2]), 1)
    }

    func testAckCountAndAckDatacentersNameWhichBackupsMatter() throws {
        var h = try H(parameters: [("ack", .number(1))])
        let placed = h.placed(1)
        h.block(from: placed[0], to: placed[2])
        let op = h.write(key: 1)
        h.run(for: .milliseconds(200))
        XCTAssertEqual(h.result(op), .acknowledged, "one backup is enough")

        let dc1 = h.world.topology.datacenters[h.world.datacenter(of: placed[1])].id
        var d = try H(parameters: [("ack", .list([.string(dc1)]))])
        d.block(from: placed[0], to: placed[2])
        let a = d.write(key: 1)
        d.run(for: .milliseconds(200))
        XCTAssertEqual(d.result(a), .acknowledged, "the backup in \(dc1) has it")
        d.heal()
        d.block(from: placed[0], to: placed[1])
        let b = d.write(key: d.groupKeys(2)[1])
        d.run(for: .seconds(1))
        XCTAssertNil(d.result(b), "the backup in \(dc1) is unreachable")
    }

    func testReadWaitsForAnInFlightWriteToTheSameKey() throws {
        var h = try H()
        let placed = h.placed(1)
        let w1 = h.write(key: 1)
        h.runUntilAnswered(w1)
        h.block(from: placed[0], to: placed[1])
        _ = h.write(key: 1, version: 2)
        h.run(for: .milliseconds(100))
        XCTAssertEqual(h.version(1, at: placed[0]), 2, "the primary stored v2, not yet acknowledged")
        let read = h.read(key: 1)
        h.run(for: .milliseconds(500))
        XCTAssertNil(h.result(read), "the primary does not return an unacknowledged version")
        h.heal()
        h.runUntilAnswered(read)
        XCTAssertEqual(h.result(read), .found(Stamp(version: 2), tombstone: false))
    }

    func testReadAnyAnswersAtTheNearestReplicaWithoutWaiting() throws {
        var h = try H(parameters: [("read", .string("any"))])
        let placed = h.placed(1)
        let w = h.write(key: 1)
        h.runUntilAnswered(w)
        let dc2 = h.world.datacenter(of: placed[2])
        let read = h.read(key: 1, clientDC: dc2)
        h.runUntilAnswered(read)
        XCTAssertEqual(h.answerer(read), placed[2])
        XCTAssertEqual(h.result(read), .found(Stamp(version: 1), tombstone: false))
    }

    // MARK: Failures

    func testPrimaryCrashPromotesTheNextBackupWhichHoldsEveryAcknowledgedWrite() throws {
        var h = try H()
        let placed = h.placed(1)
        let keys = h.groupKeys(6)
        var ops: [OperationID] = []
        for k in keys.prefix(5) { ops.append(h.write(key: k)) }
        h.run(for: .seconds(1))
        XCTAssertTrue(ops.allSatisfy { h.result($0) == .acknowledged })
        h.crash(placed[0], diskLost: true)
        h.run(for: .seconds(8))   // failure timeout, then the lease of the old primary
        let w = h.write(key: keys[5])
        h.runUntilAnswered(w)
        XCTAssertEqual(h.result(w), .acknowledged)
        XCTAssertEqual(h.answerer(w), placed[1], "the first backup took over")
        let v = h.view(of: 1, at: placed[1])!
        XCTAssertEqual(v.members, [placed[1], placed[2]])
        XCTAssertEqual(v.number, 2)
        for k in keys.prefix(5) {
            let r = h.read(key: k)
            h.runUntilAnswered(r)
            XCTAssertEqual(h.result(r), .found(Stamp(version: 1), tombstone: false), "key \(k)")
        }
        // The old primary returns without its disk: caught up, then the last backup.
        h.restart(placed[0])
        h.run(for: .seconds(15))
        XCTAssertEqual(h.view(of: 1, at: placed[1])?.members, [placed[1], placed[2], placed[0]])
        for k in keys { XCTAssertEqual(h.version(k, at: placed[0]), 1, "key \(k) copied back") }
    }

    func testBackupCrashIsRemovedAndWritesContinue() throws {
        var h = try H()
        let placed = h.placed(1)
        h.crash(placed[1])
        let w = h.write(key: 1)
        h.runUntilAnswered(w)
        XCTAssertEqual(h.result(w), .acknowledged)
        XCTAssertEqual(h.view(of: 1, at: placed[0])?.members, [placed[0], placed[2]])
        XCTAssertEqual(h.version(1, at: placed[1]), 0)
        h.restart(placed[1])
        h.run(for: .seconds(10))
        XCTAssertEqual(h.view(of: 1, at: placed[0])?.members, [placed[0], placed[2], placed[1]])
        XCTAssertEqual(h.version(1, at: placed[1]), 1, "caught up on rejoining")
    }

    /// A primary cut off from its backups is replaced; it can neither acknowledge a write
    /// (backups refuse its old view) nor serve a stale read (its lease lapsed), and after the
    /// partition heals it learns the new view and forwards to the new primary.
    func testAPartitionedOldPrimaryIsFenced() throws {
        var h = try H()
        let placed = h.placed(1)
        let keys = h.groupKeys(3)
        let w1 = h.write(key: 1)
        h.runUntilAnswered(w1)
        h.isolate(placed[0], from: placed)
        h.run(for: .seconds(3))
        let stale = ClientRequest(id: h.makeID(), kind: .write, key: ShardKey(keys[1]), stamp: Stamp(version: 1), storedBytes: 100, homeDC: 0)
        h.submit(stale, at: placed[0])
        // The backups take over (after the failure timeout and the old primary's lease).
        h.run(for: .seconds(4))
        let w2 = ClientRequest(id: h.makeID(), kind: .write, key: ShardKey(1), stamp: Stamp(version: 2), storedBytes: 100, homeDC: 0)
        h.submit(w2, at: placed[1])
        h.runUntilAnswered(w2.id)
        XCTAssertEqual(h.result(w2.id), .acknowledged)
        XCTAssertEqual(h.answerer(w2.id), placed[1])
        let oldRead = ClientRequest(id: h.makeID(), kind: .read, key: ShardKey(1), stamp: .none, storedBytes: 0, homeDC: 0)
        h.submit(oldRead, at: placed[0])
        h.run(for: .seconds(5))
        XCTAssertNil(h.result(oldRead.id), "no stale answer from the cut-off primary")
        XCTAssertNil(h.result(stale.id), "the cut-off primary cannot acknowledge")
        XCTAssertEqual(h.version(keys[1], at: placed[1]), 0)
        h.heal()
        h.runUntilAnswered(oldRead.id)
        XCTAssertEqual(h.result(oldRead.id), .found(Stamp(version: 2), tombstone: false), "forwarded to the new primary")
        XCTAssertNotEqual(h.result(stale.id), .acknowledged)
        // A write sent to the old primary now goes to the new one.
        let w3 = ClientRequest(id: h.makeID(), kind: .write, key: ShardKey(keys[2]), stamp: Stamp(version: 1), storedBytes: 100, homeDC: 0)
        h.submit(w3, at: placed[0])
        h.runUntilAnswered(w3.id)
        XCTAssertEqual(h.result(w3.id), .acknowledged)
        XCTAssertEqual(h.answerer(w3.id), placed[1])
    }

    /// A primary that stored a write it never replicated, crashed with its disk and came
    /// back, has that write rolled back to the new primary's version when it rejoins.
    func testReturningPrimaryRollsBackItsUnreplicatedWrite() throws {
        var h = try H()
        let placed = h.placed(1)
        let w1 = h.write(key: 1)
        h.runUntilAnswered(w1)
        h.block(from: placed[0], to: placed[1])
        h.block(from: placed[0], to: placed[2])
        _ = h.write(key: 1, version: 2)
        h.run(for: .milliseconds(50))
        XCTAssertEqual(h.version(1, at: placed[0]), 2)
        h.crash(placed[0])
        h.heal()
        h.run(for: .seconds(8))
        XCTAssertEqual(h.view(of: 1, at: placed[1])?.members.first, placed[1])
        h.restart(placed[0])
        h.run(for: .seconds(15))
        XCTAssertEqual(h.view(of: 1, at: placed[1])?.members, [placed[1], placed[2], placed[0]])
        XCTAssertEqual(h.version(1, at: placed[0]), 1, "the unreplicated v2 was rolled back")
        let r = h.read(key: 1)
        h.runUntilAnswered(r)
        XCTAssertEqual(h.result(r), .found(Stamp(version: 1), tombstone: false))
    }

    /// Two copies and a witness in a third DC: a partition that cuts the primary off lets the
    /// backup take over with the witness's vote, while the primary — in the minority — can
    /// neither drop the backup nor acknowledge anything: never two primaries.
    func testTwoCopiesWithAWitnessFailOverAndNeverSplit() throws {
        var h = try H(parameters: [("copies", .number(2))])
        let placed = h.placed(1)
        let keys = h.groupKeys(3)
        let w1 = h.write(key: keys[0])
        h.runUntilAnswered(w1)
        let g = h.strategy.core.directory.ids[placed]!
        let voters = h.strategy.core.directory.voters[Int(g)]
        XCTAssertEqual(voters.count, 3, "one witness by default for an even number of copies")
        XCTAssertEqual(Set(voters.map { h.world.datacenter(of: $0) }).count, 3, "the witness is in a third DC")
        h.isolate(placed[0], from: voters)
        let cutOff = h.write(key: keys[1])   // reaches the old primary, which cannot get it acknowledged
        h.run(for: .seconds(10))
        XCTAssertNil(h.result(cutOff))
        XCTAssertEqual(h.view(of: 1, at: placed[0])?.members.first, placed[0], "the cut-off primary still thinks it leads")
        XCTAssertEqual(h.view(of: 1, at: placed[1])?.members, [placed[1]], "the backup took over with the witness's vote")
        let w2 = h.write(key: keys[2], clientDC: h.world.datacenter(of: placed[1]))
        h.runUntilAnswered(w2)
        XCTAssertEqual(h.result(w2), .acknowledged)
        XCTAssertEqual(h.answerer(w2), placed[1])
        h.heal()
        var views: [UInt32] = [h.view(of: 1, at: placed[1])!.number]
        for _ in 0..<150 {
            h.run(for: .milliseconds(100))
            let v = h.view(of: 1, at: placed[1])!.number
            if v != views.last { views.append(v) }
        }
        XCTAssertEqual(h.view(of: 1, at: placed[0])?.members, [placed[1], placed[0]], "the old primary rejoined as the backup")
        XCTAssertEqual(views.count, 2, "only the rejoin changed the view (the returning primary did not disrupt it): \(views)")
        XCTAssertEqual(h.version(keys[2], at: placed[0]), 1)
    }

    /// A witness that lost its disk may have forgotten a promise: it takes no part until it
    /// has recovered the others' promises and views (the primary tells it to) — after which
    /// it can again carry a failover.
    func testAWitnessThatLostItsDiskRecoversBeforeItVotesAgain() throws {
        var h = try H(parameters: [("copies", .number(2))])
        let placed = h.placed(1)
        let keys = h.groupKeys(3)
        let w1 = h.write(key: keys[0])
        h.runUntilAnswered(w1)
        let core0 = h.strategy.core
        let g = core0.directory.ids[placed]!
        let witness = core0.directory.voters[Int(g)][2]
        h.crash(witness, diskLost: true)
        h.run(for: .seconds(1))
        h.restart(witness)
        h.run(for: .seconds(5))
        let core = h.strategy.core
        let ws = try XCTUnwrap(core.nodes[witness].slots[g], "the primary told the witness to recover for the group")
        XCTAssertTrue(core.states[ws].recovered)
        XCTAssertEqual(core.states[ws].view, core.states[core.nodes[placed[0]].slots[g]!].view, "it learnt the current view")
        XCTAssertEqual(core.states[core.nodes[placed[0]].slots[g]!].epoch(of: witness), 1)
        // Now the primary fails: the backup and the recovered witness form the majority.
        h.crash(placed[0])
        h.run(for: .seconds(8))
        let w2 = h.write(key: keys[1], clientDC: h.world.datacenter(of: placed[1]))
        h.runUntilAnswered(w2)
        XCTAssertEqual(h.result(w2), .acknowledged)
        XCTAssertTrue(h.leads(1, at: placed[1]))
    }

    /// The witness lost its disk and the primary crashed before it could recover: it cannot
    /// recover (it needs both other voters) and so cannot vote — two failures, beyond a
    /// group of three voters' tolerance: writes stall, nothing is lost.
    func testAnAmnesicWitnessVoteIsNotCounted() throws {
        var h = try H(parameters: [("copies", .number(2))])
        let placed = h.placed(1)
        let w1 = h.write(key: 1)
        h.runUntilAnswered(w1)
        let g = h.strategy.core.directory.ids[placed]!
        let witness = h.strategy.core.directory.voters[Int(g)][2]
        // The witness loses its disk and the primary crashes before any view records it.
        h.crash(witness, diskLost: true)
        h.crash(placed[0])
        h.restart(witness)
        h.run(for: .seconds(15))
        XCTAssertFalse(h.leads(1, at: placed[1]), "the backup's proposal got only an uncountable second vote")
        h.restart(placed[0])
        h.run(for: .seconds(10))
        let r = h.read(key: 1)
        h.runUntilAnswered(r)
        XCTAssertEqual(h.result(r), .found(Stamp(version: 1), tombstone: false))
    }

    /// Without a witness, two copies cannot fail over at all (no majority of 2 survives a
    /// failure): writes stall until the primary returns — and nothing is lost.
    func testTwoCopiesWithoutAWitnessStallButLoseNothing() throws {
        var h = try H(parameters: [("copies", .number(2)), ("witnesses", .number(0))])
        let placed = h.placed(1)
        let keys = h.groupKeys(2)
        let w1 = h.write(key: keys[0])
        h.runUntilAnswered(w1)
        h.crash(placed[0])
        let w2 = h.write(key: keys[1])
        h.run(for: .seconds(15))
        XCTAssertNil(h.result(w2))
        XCTAssertFalse(h.leads(1, at: placed[1]), "its proposal never wins a majority of two")
        h.restart(placed[0])
        let w3 = h.write(key: keys[1])
        h.runUntilAnswered(w3)
        XCTAssertEqual(h.result(w3), .acknowledged)
        let r = h.read(key: keys[0])
        h.runUntilAnswered(r)
        XCTAssertEqual(h.result(r), .found(Stamp(version: 1), tombstone: false))
    }

    /// A primary cut off for a long time keeps proposing ever higher view numbers; after the
    /// partition heals, its proposals still lose (they derive from an old view), so it cannot
    /// come back as a primary missing the writes acknowledged meanwhile.
    func testACutOffPrimaryWithHigherViewNumbersCannotWinAfterHealing() throws {
        var h = try H()
        let placed = h.placed(1)
        let keys = h.groupKeys(4)
        let w0 = h.write(key: keys[0])
        h.runUntilAnswered(w0)
        h.isolate(placed[0], from: placed)
        h.run(for: .seconds(30))
        let core = h.strategy.core
        let g = core.directory.ids[placed]!
        XCTAssertGreaterThan(core.states[core.nodes[placed[0]].slots[g]!].promised, h.view(of: 1, at: placed[1])!.number,
                             "the minority side numbered its failed proposals higher")
        var ops: [OperationID] = []
        for k in keys { ops.append(h.write(key: k, clientDC: h.world.datacenter(of: placed[1]))) }
        h.run(for: .seconds(1))
        XCTAssertTrue(ops.allSatisfy { h.result($0) == .acknowledged })
        h.heal()
        h.run(for: .seconds(20))
        XCTAssertEqual(h.view(of: 1, at: placed[1])?.members.first, placed[1])
        XCTAssertEqual(h.view(of: 1, at: placed[0])?.members.first, placed[1], "the old primary adopted the newer view")
        for k in keys {
            let r = h.read(key: k)   // from the home DC: the old primary forwards
            h.runUntilAnswered(r)
            XCTAssertEqual(h.result(r), .found(Stamp(version: 1), tombstone: false), "key \(k)")
        }
    }

    func testNoAcknowledgedWriteIsLostWithOneFailureAnywhere() throws {
        for position in 0..<3 {
            for diskLost in [false, true] {
                try checkNoAcknowledgedWriteLost(SyncPrimaryBackup.self, parameters: [], fault: { h in
                    h.crash(h.placed(1)[position], diskLost: diskLost)
                }, label: "crash position \(position) diskLost \(diskLost)")
            }
            try checkNoAcknowledgedWriteLost(SyncPrimaryBackup.self, parameters: [], fault: { h in
                let placed = h.placed(1)
                h.isolate(placed[position], from: placed)
            }, label: "partition position \(position)")
        }
        try checkNoAcknowledgedWriteLost(SyncPrimaryBackup.self, parameters: [("ack", .number(1))], fault: { h in
            h.crash(h.placed(1)[0], diskLost: true)
        }, label: "ack 1, primary disk lost")
    }

    // MARK: Parameters

    func testStatedToleranceFollowsCopiesWitnessesAndTheAckRule() throws {
        func tolerance(_ p: [(String, ConfigValue)]) throws -> FaultTolerance { try H(parameters: p).strategy.tolerance }
        XCTAssertEqual(try tolerance([]), FaultTolerance(datacenters: 1, nodes: 1, diskLoss: false, partitions: true))
        XCTAssertEqual(try tolerance([("copies", .number(2))]).nodes, 1, "two copies and the default witness")
        XCTAssertEqual(try tolerance([("copies", .number(2)), ("witnesses", .number(0))]).nodes, 0)
        XCTAssertEqual(try tolerance([("copies", .number(5))]).nodes, 2, "a majority of five")
        XCTAssertEqual(try tolerance([("copies", .number(4)), ("ack", .number(1))]).nodes, 1, "k = 1 backup")
        XCTAssertEqual(try tolerance([("ack", .list([.string("ams1")]))]).nodes, 0, "a named DC is a single point for writes")
        XCTAssertEqual(try Harness<ChainReplication>(parameters: [("copies", .number(5))]).strategy.tolerance.nodes, 2)
    }


    func testParameterErrorsNameTheParameterAndAllowedValues() throws {
        XCTAssertThrowsError(try H(parameters: [("ack", .number(3))])) { XCTAssertTrue("\($0)".contains("ack"), "\($0)") }
        XCTAssertThrowsError(try H(parameters: [("ack", .list([.string("amz1")]))])) {
            XCTAssertTrue("\($0)".contains("did you mean 'ams1'"), "\($0)")
        }
        XCTAssertThrowsError(try H(parameters: [("ack", .string("most"))])) { XCTAssertTrue("\($0)".contains("use all"), "\($0)") }
        XCTAssertThrowsError(try H(parameters: [("read", .string("tail"))])) { XCTAssertTrue("\($0)".contains("primary, any"), "\($0)") }
        XCTAssertThrowsError(try H(parameters: [("lease", .string("100ms"))])) { XCTAssertTrue("\($0)".contains("heartbeat_interval"), "\($0)") }
        XCTAssertThrowsError(try H(parameters: [("acks", .string("all"))])) { XCTAssertTrue("\($0)".contains("did you mean 'ack'"), "\($0)") }
        let ok = try H(parameters: [("copies", .number(2)), ("ack", .list([.string("ams1")]))])
        XCTAssertTrue(ok.strategy.summary.contains("ack=[ams1]"), ok.strategy.summary)
    }
}
