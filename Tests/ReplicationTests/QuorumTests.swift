import XCTest
import SimCore
import SimNetwork
import SimConfig
@testable import Replication
@testable import Simulation

/// The quorum strategy, driven through the in-memory harness on telegram-5 (DCs: 0 mia1,
/// 1 ams1, 2 mia2, 3 ams2, 4 sin). Latencies: 1 ms in a DC, 20 ms between DCs, 5 ms client
/// hop, 1 ms disk.
final class QuorumTests: XCTestCase {
    typealias Params = [(String, ConfigValue)]

    func harness(_ params: Params) throws -> Harness<Quorum> { try Harness<Quorum>(parameters: params) }

    func replicas(_ h: Harness<Quorum>, _ key: UInt64, home: Int = 0) -> [Int] {
        h.strategy.placement(of: ShardKey(key), home: home)
    }

    /// A write coordinated by `node` (bypassing the client's choice).
    @discardableResult
    func write(_ h: inout Harness<Quorum>, key: UInt64, version: UInt32, bytes: Int = 1000, at node: Int,
               delete: Bool = false) -> OperationID {
        let id = h.makeID()
        h.submit(ClientRequest(id: id, kind: delete ? .delete : .write, key: ShardKey(key), stamp: Stamp(version: version),
                               storedBytes: bytes, homeDC: 0), at: node)
        return id
    }

    /// A read coordinated by `node`.
    @discardableResult
    func read(_ h: inout Harness<Quorum>, key: UInt64, bytes: Int = 1000, at node: Int) -> OperationID {
        let id = h.makeID()
        h.submit(ClientRequest(id: id, kind: .read, key: ShardKey(key), stamp: .none, storedBytes: bytes, homeDC: 0), at: node)
        return id
    }

    func version(_ result: ClientResult?) -> UInt32? {
        if case .found(let s, false)? = result { return s.version }
        return nil
    }

    // MARK: Consistency levels and their arithmetic

    func testConsistencyLevelArithmeticForPerDCCounts() {
        let layout = [DCCount(dc: 0, count: 3), DCCount(dc: 1, count: 3), DCCount(dc: 4, count: 3)]
        XCTAssertEqual(ConsistencyLevel.one.requirement(layout: layout, localDC: 0), QuorumRequirement(total: 1, perDC: []))
        XCTAssertEqual(ConsistencyLevel.quorum.requirement(layout: layout, localDC: 0)?.total, 5, "⌊9/2⌋+1")
        XCTAssertEqual(ConsistencyLevel.all.requirement(layout: layout, localDC: 0)?.total, 9)
        XCTAssertEqual(ConsistencyLevel.localQuorum.requirement(layout: layout, localDC: 1),
                       QuorumRequirement(total: 0, perDC: [DCCount(dc: 1, count: 2)]))
        XCTAssertEqual(ConsistencyLevel.localOne.requirement(layout: layout, localDC: 4)?.minimumReplicas, 1)
        XCTAssertNil(ConsistencyLevel.localQuorum.requirement(layout: layout, localDC: 2), "no replica in the coordinator's DC")
        let each = ConsistencyLevel.eachQuorum.requirement(layout: layout, localDC: 0)
        XCTAssertEqual(each?.perDC.map(\.count), [2, 2, 2])
        XCTAssertEqual(each?.minimumReplicas, 6)
        let uneven = [DCCount(dc: 0, count: 5), DCCount(dc: 1, count: 2)]
        XCTAssertEqual(ConsistencyLevel.eachQuorum.requirement(layout: uneven, localDC: 0)?.perDC.map(\.count), [3, 2])
        XCTAssertEqual(ConsistencyLevel.quorum.requirement(layout: uneven, localDC: 0)?.total, 4)
        XCTAssertNil(ConsistencyLevel.three.requirement(layout: [DCCount(dc: 0, count: 2)], localDC: 0))

        // Meeting a requirement counts replicas per DC.
        let lq = QuorumRequirement(total: 0, perDC: [DCCount(dc: 1, count: 2)])
        XCTAssertFalse(lq.isMet(byReplicasIn: [1, 0, 4]))
        XCTAssertTrue(lq.isMet(byReplicasIn: [1, 0, 1]))
        XCTAssertFalse(each!.isMet(byReplicasIn: [0, 0, 1, 1, 4]))
        XCTAssertTrue(each!.isMet(byReplicasIn: [0, 0, 1, 1, 4, 4]))
    }

    func testRandomPickMeetsTheRequirementWithTheFewestReplicas() {
        var rng = SimRandom(seed: 9)
        let dcs = [0, 0, 0, 1, 1, 1, 4, 4, 4]
        let each = QuorumRequirement(total: 0, perDC: [DCCount(dc: 0, count: 2), DCCount(dc: 1, count: 2), DCCount(dc: 4, count: 2)])
        var seen = Set<[Int]>()
        for _ in 0..<50 {
            let (chosen, rest) = each.pick(replicaDCs: dcs, rng: &rng)
            XCTAssertEqual(chosen.count, 6)
            XCTAssertTrue(each.isMet(byReplicasIn: chosen.map { dcs[$0] }))
            XCTAssertEqual(Set(chosen + rest), Set(0..<9))
            seen.insert(chosen.sorted())
        }
        XCTAssertGreaterThan(seen.count, 5, "the choice is random")
        let r2 = QuorumRequirement(total: 2, perDC: [])
        let (c, _) = r2.pick(replicaDCs: [0, 1, 4], rng: &rng)
        XCTAssertEqual(c.count, 2)
    }

    func testStrongOnlyWhenEveryReadQuorumMeetsEveryWriteQuorum() {
        let three = [[DCCount(dc: 0, count: 1), DCCount(dc: 1, count: 1), DCCount(dc: 4, count: 1)]]
        XCTAssertTrue(QuorumAnalysis(read: .quorum, write: .quorum, layouts: three).strong)
        XCTAssertTrue(QuorumAnalysis(read: .count(1), write: .all, layouts: three).strong)
        XCTAssertFalse(QuorumAnalysis(read: .count(1), write: .count(2), layouts: three).strong)
        XCTAssertFalse(QuorumAnalysis(read: .one, write: .one, layouts: three).strong)
        let nine = [[DCCount(dc: 0, count: 3), DCCount(dc: 1, count: 3), DCCount(dc: 4, count: 3)]]
        XCTAssertFalse(QuorumAnalysis(read: .localQuorum, write: .localQuorum, layouts: nine).strong,
                       "a read in one DC and a write in another need not meet")
        XCTAssertTrue(QuorumAnalysis(read: .localQuorum, write: .eachQuorum, layouts: nine).strong)
        XCTAssertTrue(QuorumAnalysis(read: .quorum, write: .quorum, layouts: nine).strong)
        XCTAssertFalse(QuorumAnalysis(read: .localQuorum, write: .quorum, layouts: nine).strong)
    }

    func testPresetsStateTheirLevelsAndTolerance() throws {
        func preset(_ name: String) throws -> Quorum {
            let p = StrategyRegistry.presets.first { $0.name == name }!
            XCTAssertEqual(p.protocolName, "quorum")
            return try harness(p.parameters).strategy
        }
        let q3 = try preset("quorum-3dc")
        XCTAssertTrue(q3.summary.contains("N=3"), q3.summary)
        XCTAssertTrue(q3.summary.contains("R=quorum(2) W=quorum(2) (strong"), q3.summary)
        XCTAssertEqual(q3.tolerance, FaultTolerance(datacenters: 1, nodes: 1, diskLoss: true, partitions: true))
        XCTAssertEqual(q3.replicasToRead, 2)
        XCTAssertEqual(q3.replicasToWrite, 2)

        let local = try preset("local-quorum")
        XCTAssertTrue(local.summary.contains("N=9"), local.summary)
        XCTAssertTrue(local.summary.contains("R=local_quorum(2 of 3 in the coordinator's DC)"), local.summary)
        XCTAssertTrue(local.summary.contains("(eventual"), local.summary)
        // Any two DCs may go (clients fail over to the third); a write acknowledged in one DC
        // can be lost with that DC's disks.
        XCTAssertEqual(local.tolerance.datacenters, 2)
        XCTAssertEqual(local.tolerance.nodes, 5)
        XCTAssertFalse(local.tolerance.diskLoss)

        let each = try preset("each-quorum")
        XCTAssertTrue(each.summary.contains("W=each_quorum(2+2+2 in 3 DCs = 6)"), each.summary)
        XCTAssertTrue(each.summary.contains("(strong"), each.summary)
        XCTAssertEqual(each.tolerance, FaultTolerance(datacenters: 0, nodes: 1, diskLoss: true, partitions: false))
    }

    func testBadParametersAreClearErrors() throws {
        func error(_ params: Params) -> String {
            do { _ = try harness(params); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(error([("copies", .number(3)), ("r", .number(4))]).contains("r"), "R > N")
        XCTAssertTrue(error([("copies", .number(3)), ("r", .number(4))]).contains("from 1 to 3"), error([("copies", .number(3)), ("r", .number(4))]))
        XCTAssertTrue(error([("r", .number(2)), ("read_consistency", .string("one"))]).contains("not both"))
        XCTAssertTrue(error([("read_consistency", .string("quorom"))]).contains("local_quorum"))
        XCTAssertTrue(error([("copies", .number(2)), ("write_consistency", .string("three"))]).contains("N = 2"))
        XCTAssertTrue(error([("sloppy", .bool(true)), ("hinted_handoff", .bool(false))]).contains("hinted_handoff: true"))
        XCTAssertTrue(error([("read_repair_chance", .number(0.5))]).contains("read_repair: probabilistic"))
        XCTAssertTrue(error([("merkle_depth", .number(8))]).contains("anti_entropy_interval"))
        XCTAssertTrue(error([("n", .number(3)), ("copies", .number(4))]).contains("give one of them"))
        XCTAssertTrue(error([("read_fanuot", .string("all"))]).contains("did you mean 'read_fanout'"))
        XCTAssertTrue(error([("replica_timeout", .string("2s")), ("request_timeout", .string("1s"))]).contains("at least"))
        XCTAssertEqual(error([("n", .number(3)), ("r", .number(1)), ("w", .number(3)), ("anti_entropy_interval", .string("off"))]), "")
        XCTAssertEqual(try harness([("n", .number(5))]).strategy.n, 5)
        XCTAssertEqual(try harness([("read_repair", .bool(false))]).strategy.readRepair, .off, "true/false read as blocking/off")
        XCTAssertTrue(try harness([("sloppy", .bool(true))]).strategy.summary.contains("(eventual: sloppy quorum)"))
    }

    // MARK: The write and read paths

    func testWriteIsAcknowledgedAtTheLevelAndReachesEveryReplica() throws {
        var h = try harness([("copies", .number(3))])
        let placed = replicas(h, 7)
        XCTAssertEqual(Set(placed.map { h.world.datacenter(of: $0) }).count, 3, "three DCs")
        let w = h.write(key: 7, version: 1, clientDC: 0)
        h.run(for: .seconds(1))
        XCTAssertEqual(h.result(w), .acknowledged)
        XCTAssertEqual(Set(h.holders(of: 7, atLeast: 1)), Set(placed))
        XCTAssertEqual(h.traffic(.writeRequest).messages, 3 - (placed.contains { h.world.datacenter(of: $0) == 0 } ? 1 : 0),
                       "a coordinator that is a replica writes its own copy without the network")
        XCTAssertEqual(h.traffic(.repair).messages, 0)
        let r = read(&h, key: 7, at: placed[1])
        h.run(for: .seconds(1))
        XCTAssertEqual(version(h.result(r)), 1)
    }

    func testReadsUseOneDataAnswerAndDigestsFromTheOthers() throws {
        var h = try harness([("copies", .number(3))])
        let placed = replicas(h, 11)
        write(&h, key: 11, version: 1, bytes: 5000, at: placed[0])
        h.run(for: .seconds(1))
        let before = h.sent.count
        let r = read(&h, key: 11, bytes: 5000, at: placed[0])
        h.run(for: .seconds(1))
        XCTAssertEqual(version(h.result(r)), 1)
        let answers = h.sent[before...].filter { $0.kind == .readResponse }
        // The coordinator's own replica answers with the data locally; the two others send digests.
        XCTAssertEqual(answers.count, 2)
        XCTAssertTrue(answers.allSatisfy { $0.bytes == Quorum.ackBytes }, "\(answers.map(\.bytes))")
        let remote = read(&h, key: 11, bytes: 5000, at: h.world.nodesByDC[2].first { !placed.contains($0) }!)
        h.run(for: .seconds(1))
        XCTAssertEqual(version(h.result(remote)), 1)
        let data = h.sent.filter { $0.kind == .readResponse && $0.bytes == Quorum.headerBytes + 5000 }
        XCTAssertEqual(data.count, 1, "one data answer for the non-replica coordinator")
    }

    func testQuorumReadSeesTheNewestWriteWhenOneReplicaMissedIt() throws {
        var h = try harness([("copies", .number(3)), ("hinted_handoff", .bool(false)), ("read_repair", .string("off"))])
        let placed = replicas(h, 7)
        write(&h, key: 7, version: 1, at: placed[0])
        h.run(for: .seconds(1))
        h.crash(placed[2])
        let w2 = write(&h, key: 7, version: 2, at: placed[0])
        h.run(for: .seconds(4))
        XCTAssertEqual(h.result(w2), .acknowledged, "W=2 of 3")
        h.restart(placed[2])
        XCTAssertEqual(h.stored(7, at: placed[2])?.stamp.version, 1, "the returning replica is stale")
        // Coordinated at the stale replica: its own (old) answer arrives first, yet R=2 meets W=2.
        let r = read(&h, key: 7, at: placed[2])
        h.run(for: .seconds(1))
        XCTAssertEqual(version(h.result(r)), 2)
        XCTAssertEqual(h.stored(7, at: placed[2])?.stamp.version, 1, "read repair is off: still stale")
        XCTAssertEqual(h.traffic(.repair).messages, 0)
    }

    func testBlockingReadRepairFixesAStaleReplicaBeforeAnswering() throws {
        var h = try harness([("copies", .number(3)), ("hinted_handoff", .bool(false)), ("read_repair", .string("blocking")),
                             ("read_consistency", .string("all"))])
        let placed = replicas(h, 7)
        write(&h, key: 7, version: 1, at: placed[0])
        h.run(for: .seconds(1))
        h.crash(placed[2])
        write(&h, key: 7, version: 2, at: placed[0])
        h.run(for: .seconds(4))
        h.restart(placed[2])
        let start = h.sent.count
        let r = read(&h, key: 7, at: placed[0])
        h.run(for: .seconds(1))
        XCTAssertEqual(version(h.result(r)), 2)
        XCTAssertEqual(h.stored(7, at: placed[2])?.stamp.version, 2, "repaired")
        let repairs = h.sent[start...].filter { $0.kind == .repair }
        XCTAssertEqual(repairs.map(\.to), [placed[2], placed[0]], "a repair write and its acknowledgement")
        // The answer left the coordinator only after the acknowledgement arrived.
        let answered = h.replies.first { $0.op == r }!.time - h.clientLatency
        XCTAssertGreaterThanOrEqual(answered, repairs[1].time + h.remoteLatency)
    }

    func testBackgroundReadRepairReachesLateStaleReplicas() throws {
        var h = try harness([("copies", .number(3)), ("hinted_handoff", .bool(false)),
                             ("read_repair", .string("probabilistic")), ("read_repair_chance", .number(1))])
        let placed = replicas(h, 8)
        write(&h, key: 8, version: 1, at: placed[0])
        h.run(for: .seconds(1))
        h.crash(placed[1])
        write(&h, key: 8, version: 2, at: placed[0])
        h.run(for: .seconds(4))
        h.restart(placed[1])
        let r = read(&h, key: 8, at: placed[0])
        h.run(for: .seconds(1))
        XCTAssertEqual(version(h.result(r)), 2)
        XCTAssertEqual(h.stored(8, at: placed[1])?.stamp.version, 2, "repaired in the background")
        XCTAssertEqual(h.traffic(.repair).messages, 2, "one repair write and its ack")
        // With chance 0, nothing is repaired.
        var h0 = try harness([("copies", .number(3)), ("hinted_handoff", .bool(false)),
                              ("read_repair", .string("probabilistic")), ("read_repair_chance", .number(0))])
        write(&h0, key: 8, version: 1, at: placed[0])
        h0.run(for: .seconds(1))
        h0.crash(placed[1])
        write(&h0, key: 8, version: 2, at: placed[0])
        h0.run(for: .seconds(4))
        h0.restart(placed[1])
        read(&h0, key: 8, at: placed[0])
        h0.run(for: .seconds(1))
        XCTAssertEqual(h0.stored(8, at: placed[1])?.stamp.version, 1)
    }

    func testDiskErrorsAtChosenReplicasAreReplacedByUntriedOnes() throws {
        var requests = 0
        for seed in UInt64(1)...8 {
            var h = try Harness<Quorum>(parameters: [("copies", .number(3)), ("w", .number(1)), ("write_fanout", .string("quorum")),
                                                     ("hinted_handoff", .bool(false))], seed: seed)
            let placed = replicas(h, 4)
            h.ioErrorNodes = [placed[1], placed[2]]
            let coordinator = h.world.nodesByDC[2].first { !placed.contains($0) }!
            let w = write(&h, key: 4, version: 1, at: coordinator)
            h.run(for: .milliseconds(500))
            XCTAssertEqual(h.result(w), .acknowledged, "seed \(seed): before replica_timeout, failures are answered at once")
            XCTAssertEqual(h.holders(of: 4, atLeast: 1), [placed[0]], "seed \(seed)")
            requests += h.traffic(.writeRequest).messages
        }
        XCTAssertGreaterThan(requests, 8, "some first choices failed and were replaced")
    }

    func testWriteFailsWhenTheLevelIsOutOfReach() throws {
        var h = try harness([("copies", .number(3)), ("write_consistency", .string("all")), ("hinted_handoff", .bool(false))])
        let placed = replicas(h, 5)
        h.crash(placed[2])
        let w = write(&h, key: 5, version: 1, at: placed[0])
        h.run(for: .seconds(5))
        XCTAssertEqual(h.result(w), .failed)
    }

    func testPartitionedReplicaDoesNotStopAQuorum() throws {
        var h = try harness([("copies", .number(3)), ("hinted_handoff", .bool(false))])
        let placed = replicas(h, 12)
        let dcs = placed.map { h.world.datacenter(of: $0) }
        h.partition([dcs[0], dcs[1]], [dcs[2]])
        let w = write(&h, key: 12, version: 1, at: placed[0])
        h.run(for: .seconds(1))
        XCTAssertEqual(h.result(w), .acknowledged)
        let r = read(&h, key: 12, at: placed[1])
        h.run(for: .seconds(1))
        XCTAssertEqual(version(h.result(r)), 1)
        // The isolated side cannot reach a quorum.
        let cut = write(&h, key: 12, version: 2, at: placed[2])
        h.run(for: .seconds(5))
        XCTAssertEqual(h.result(cut), .failed)
        let isolated = read(&h, key: 12, at: placed[2])
        h.run(for: .seconds(5))
        XCTAssertEqual(h.result(isolated), .failed)
    }

    // MARK: Hinted handoff

    func testHintIsStoredNearTheDownReplicaAndDeliveredWhenItReturns() throws {
        var h = try harness([("copies", .number(3)), ("read_repair", .string("off")), ("hint_retry_interval", .string("5s"))])
        let placed = replicas(h, 9)
        let down = placed[1]
        h.crash(down)
        let w = write(&h, key: 9, version: 1, at: placed[0])
        h.run(for: .seconds(2))
        XCTAssertEqual(h.result(w), .acknowledged)
        let holders = h.holders(of: 9, atLeast: 1)
        XCTAssertEqual(holders.count, 3, "two replicas and a hint holder")
        let holder = holders.first { !placed.contains($0) }!
        XCTAssertEqual(h.world.datacenter(of: holder), h.world.datacenter(of: down), "the next node on the ring in the replica's DC")
        h.run(for: .seconds(20))
        XCTAssertNil(h.stored(9, at: down))
        let probes = h.traffic(.repair).messages
        XCTAssertGreaterThan(probes, 3, "the holder keeps probing")
        h.restart(down)
        h.run(for: .seconds(8))
        XCTAssertEqual(h.stored(9, at: down)?.stamp.version, 1, "handed over")
        XCTAssertNil(h.stored(9, at: holder), "the holder dropped its copy")
        XCTAssertEqual(Set(h.holders(of: 9, atLeast: 1)), Set(placed))
        XCTAssertTrue(h.strategy.nodes[holder].hints.isEmpty)
    }

    func testHintsSurviveAHolderCrashButNotItsDiskLoss() throws {
        for diskLost in [false, true] {
            var h = try harness([("copies", .number(3)), ("read_repair", .string("off")), ("hint_retry_interval", .string("5s"))])
            let placed = replicas(h, 9)
            let down = placed[2]
            h.crash(down)
            write(&h, key: 9, version: 1, at: placed[0])
            h.run(for: .seconds(2))
            let holder = h.holders(of: 9, atLeast: 1).first { !placed.contains($0) }!
            h.crash(holder, diskLost: diskLost)
            h.run(for: .seconds(1))
            h.restart(holder)
            h.restart(down)
            h.run(for: .seconds(12))
            if diskLost {
                XCTAssertNil(h.stored(9, at: down), "the hint went with the holder's disk")
            } else {
                XCTAssertEqual(h.stored(9, at: down)?.stamp.version, 1, "the durable hint was delivered after the holder restarted")
            }
        }
    }

    func testSloppyQuorumCountsHintHoldersTowardsW() throws {
        for sloppy in [false, true] {
            var h = try harness([("copies", .number(3)), ("write_consistency", .string("all")), ("sloppy", .bool(sloppy))])
            let placed = replicas(h, 6)
            h.crash(placed[2])
            let w = write(&h, key: 6, version: 1, at: placed[0])
            h.run(for: .seconds(4))
            XCTAssertEqual(h.result(w), sloppy ? .acknowledged : .failed, "sloppy \(sloppy)")
            XCTAssertEqual(h.holders(of: 6, atLeast: 1).count, 3, "a hint was stored either way")
        }
    }

    func testHintsForADarkDCLandInTheCoordinatorsDCAndReturnWithIt() throws {
        var h = try harness([("copies", .number(3)), ("write_consistency", .string("all")), ("sloppy", .bool(true)),
                             ("read_repair", .string("off")), ("hint_retry_interval", .string("5s"))])
        let placed = replicas(h, 21)
        let dark = h.world.datacenter(of: placed[1])
        h.crashDC(dark)
        let w = write(&h, key: 21, version: 1, at: placed[0])
        h.run(for: .seconds(4))
        XCTAssertEqual(h.result(w), .acknowledged, "the second attempt found a live hint holder")
        let holder = h.holders(of: 21, atLeast: 1).first { !placed.contains($0) }
        XCTAssertEqual(holder.map { h.world.datacenter(of: $0) }, h.world.datacenter(of: placed[0]))
        h.restartDC(dark)
        h.run(for: .seconds(8))
        XCTAssertEqual(Set(h.holders(of: 21, atLeast: 1)), Set(placed), "handed over, the holder's copy dropped")
    }

    // MARK: Anti-entropy

    /// Key k is written with 5000 + k bytes, so a streamed key is recognisable by its size.
    func streamedKeys(_ h: Harness<Quorum>, since start: Int, to node: Int) -> [Int] {
        h.sent[start...].filter { $0.kind == .repair && $0.to == node && $0.bytes > Quorum.headerBytes + 5000 }
            .map { $0.bytes - Quorum.headerBytes - 5000 }
    }

    func testMerkleAntiEntropyConvergesDivergedReplicasSendingOnlyDifferingKeys() throws {
        var h = try harness([("copies", .number(3)), ("hinted_handoff", .bool(false)), ("read_repair", .string("off")),
                             ("anti_entropy_interval", .string("5s")), ("merkle_depth", .number(6))])
        let target = replicas(h, 1)[2]
        let keys = (1...90).map { UInt64($0) }
        for k in keys { write(&h, key: k, version: 1, bytes: 5000 + Int(k), at: replicas(h, k)[0]) }
        h.run(for: .seconds(2))
        let shared = keys.filter { replicas(h, $0).contains(target) }
        XCTAssertGreaterThanOrEqual(shared.count, 5)
        // Converged replicas exchange roots only.
        var start = h.sent.count
        h.run(for: .seconds(12))
        XCTAssertTrue(streamedKeys(h, since: start, to: target).isEmpty)
        XCTAssertTrue(h.sent[start...].allSatisfy { $0.kind != .repair || $0.bytes == 32 + 12 }, "roots only")
        // The target misses edits of five of its keys.
        h.crash(target)
        let edited = Array(shared.prefix(5))
        for k in edited { write(&h, key: k, version: 2, bytes: 5000 + Int(k), at: replicas(h, k).first { $0 != target }!) }
        h.run(for: .seconds(4))
        h.restart(target)
        for k in edited { XCTAssertEqual(h.stored(k, at: target)?.stamp.version, 1) }
        start = h.sent.count
        h.run(for: .seconds(30))
        for k in edited { XCTAssertEqual(h.stored(k, at: target)?.stamp.version, 2, "key \(k) converged") }
        let streamed = streamedKeys(h, since: start, to: target)
        XCTAssertEqual(Set(streamed), Set(edited.map { Int($0) }), "only the differing keys")
        XCTAssertLessThanOrEqual(streamed.count, 4 * edited.count, "each by the other replicas, at most once per session")
    }

    func testAntiEntropyRefillsAReplicaThatLostItsDisk() throws {
        var h = try harness([("copies", .number(3)), ("hinted_handoff", .bool(false)), ("read_repair", .string("off")),
                             ("anti_entropy_interval", .string("5s"))])
        let target = replicas(h, 1)[0]
        let keys = (1...40).map { UInt64($0) }.filter { replicas(h, $0).contains(target) }
        for k in keys { write(&h, key: k, version: 1, bytes: 5000 + Int(k), at: replicas(h, k)[1]) }
        h.run(for: .seconds(2))
        h.crash(target, diskLost: true)
        h.restart(target)
        for k in keys { XCTAssertNil(h.stored(k, at: target)) }
        let start = h.sent.count
        h.run(for: .seconds(30))
        for k in keys { XCTAssertEqual(h.stored(k, at: target)?.stamp.version, 1, "key \(k)") }
        XCTAssertEqual(Set(streamedKeys(h, since: start, to: target)), Set(keys.map { Int($0) }))
    }

    // MARK: Conflicts

    func testLastWriterWinsLetsAnOlderEditWinUnderClockSkew() throws {
        for conflict in ["lww", "version"] {
            var h = try harness([("copies", .number(3)), ("conflict", .string(conflict))])
            let placed = replicas(h, 5)
            h.skew[placed[0]] = .seconds(10)   // this coordinator's clock runs 10 s ahead
            write(&h, key: 5, version: 1, at: placed[0])
            h.run(for: .seconds(1))
            let edit = write(&h, key: 5, version: 2, at: placed[1])
            h.run(for: .seconds(1))
            XCTAssertEqual(h.result(edit), .acknowledged, conflict)
            let r = read(&h, key: 5, at: placed[2])
            h.run(for: .seconds(1))
            if conflict == "lww" {
                XCTAssertEqual(version(h.result(r)), 1, "the skewed clock's older write wins")
                XCTAssertEqual(h.stored(5, at: placed[2])?.stamp.version, 1)
            } else {
                XCTAssertEqual(version(h.result(r)), 2, "versions ignore clocks")
            }
        }
    }

    // MARK: Tombstones and gc_grace

    /// A replica misses a delete and returns after `returnAfter`; then a read coordinated at it.
    func deleteWhileAReplicaIsDown(gcGrace: String, returnAfter: SimDuration, mechanism: Params)
        throws -> (h: Harness<Quorum>, placed: [Int], read: OperationID?) {
        var h = try harness([("copies", .number(3)), ("hinted_handoff", .bool(false)), ("gc_grace", .string(gcGrace))] + mechanism)
        let placed = replicas(h, 3)
        write(&h, key: 3, version: 1, at: placed[0])
        h.run(for: .seconds(1))
        h.crash(placed[2])
        let d = write(&h, key: 3, version: 2, at: placed[0], delete: true)
        h.run(for: returnAfter)
        XCTAssertEqual(h.result(d), .acknowledged)
        h.restart(placed[2])
        let usesReads = mechanism.contains { $0.0 == "read_repair" && $0.1 != .string("off") }
        let r = usesReads ? read(&h, key: 3, at: placed[2]) : nil
        h.run(for: .seconds(20))
        return (h, placed, r)
    }

    func testReturningAfterGCGraceResurrectsThroughReadRepair() throws {
        let (h, placed, r) = try deleteWhileAReplicaIsDown(gcGrace: "2s", returnAfter: .seconds(5),
                                                           mechanism: [("read_repair", .string("blocking"))])
        XCTAssertEqual(version(h.result(r!)), 1, "the deleted message is readable again")
        XCTAssertEqual(Set(h.holders(of: 3, atLeast: 1)), Set(placed), "and repaired onto every replica")
        XCTAssertTrue(placed.allSatisfy { h.stored(3, at: $0)?.tombstone == false })
    }

    func testReturningWithinGCGraceGetsTheTombstone() throws {
        let (h, placed, r) = try deleteWhileAReplicaIsDown(gcGrace: "60s", returnAfter: .seconds(5),
                                                           mechanism: [("read_repair", .string("blocking"))])
        XCTAssertEqual(h.result(r!), .found(h.stored(3, at: placed[0])!.stamp, tombstone: true))
        XCTAssertEqual(h.stored(3, at: placed[2])?.tombstone, true, "repaired with the tombstone")
    }

    func testReturningAfterGCGraceResurrectsThroughAntiEntropy() throws {
        let (h, placed, _) = try deleteWhileAReplicaIsDown(gcGrace: "2s", returnAfter: .seconds(5),
                                                           mechanism: [("read_repair", .string("off")),
                                                                       ("anti_entropy_interval", .string("5s"))])
        XCTAssertTrue(placed.allSatisfy { h.stored(3, at: $0)?.tombstone == false && h.stored(3, at: $0)?.stamp.version == 1 },
                      "anti-entropy streamed the old value back")
    }

    func testTombstonesArePurgedAfterGCGraceEvenAcrossACrash() throws {
        var h = try harness([("copies", .number(3)), ("gc_grace", .string("10s"))])
        let placed = replicas(h, 3)
        write(&h, key: 3, version: 1, at: placed[0])
        h.run(for: .seconds(1))
        write(&h, key: 3, version: 2, at: placed[0], delete: true)
        h.run(for: .seconds(1))
        XCTAssertTrue(placed.allSatisfy { h.stored(3, at: $0)?.tombstone == true })
        h.crash(placed[1])
        h.run(for: .seconds(12))
        h.restart(placed[1])
        h.run(for: .seconds(1))
        XCTAssertTrue(placed.allSatisfy { h.stored(3, at: $0) == nil }, "purged, the crashed replica after restart")
    }

    // MARK: PBS configuration: the W writes are the only propagation

    func testQuorumFanoutWithMechanismsOffWritesOnlyWReplicas() throws {
        let off: Params = [("copies", .number(3)), ("write_fanout", .string("quorum")), ("read_fanout", .string("quorum")),
                           ("read_repair", .string("off")), ("hinted_handoff", .bool(false))]
        var h = try harness(off + [("w", .number(1)), ("r", .number(1))])
        let keys = (100..<130).map { UInt64($0) }
        for k in keys { write(&h, key: k, version: 1, at: h.world.nodesByDC[2][0]) }
        h.run(for: .seconds(30))
        for k in keys { XCTAssertEqual(h.holders(of: k, atLeast: 1).count, 1, "key \(k): only W = 1 replica") }
        XCTAssertEqual(h.traffic(.repair).messages, 0)
        var found = 0, missed = 0
        for k in keys {
            for _ in 0..<3 {
                let r = read(&h, key: k, at: h.world.nodesByDC[2][0])
                h.run(for: .seconds(1))
                if version(h.result(r)) == 1 { found += 1 } else { missed += 1 }
            }
        }
        XCTAssertGreaterThan(found, 0)
        XCTAssertGreaterThan(missed, 0, "R = W = 1 of N = 3 reads miss writes")

        var strong = try harness(off + [("w", .number(2)), ("r", .number(2))])
        for k in keys { write(&strong, key: k, version: 1, at: strong.world.nodesByDC[2][0]) }
        strong.run(for: .seconds(5))
        for k in keys {
            XCTAssertEqual(strong.holders(of: k, atLeast: 1).count, 2)
            let r = read(&strong, key: k, at: strong.world.nodesByDC[2][0])
            strong.run(for: .seconds(1))
            XCTAssertEqual(version(strong.result(r)), 1, "R + W > N always meets the write")
        }
    }

    // MARK: Determinism

    func testSameSeedSameTraffic() throws {
        func run() throws -> [Int] {
            var h = try harness([("copies", .number(3)), ("write_fanout", .string("quorum")), ("read_fanout", .string("quorum")),
                                 ("anti_entropy_interval", .string("3s"))])
            for k in 0..<20 { h.write(key: UInt64(k), version: 1, clientDC: k % 5) }
            h.run(for: .seconds(1))
            h.crash(replicas(h, 3)[0])
            for k in 0..<20 { h.read(key: UInt64(k), clientDC: (k + 2) % 5) }
            h.run(for: .seconds(10))
            return h.sent.map { $0.to * 100_000 + $0.bytes }
        }
        XCTAssertEqual(try run(), try run())
    }
}
