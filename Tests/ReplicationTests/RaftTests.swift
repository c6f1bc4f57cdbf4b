import XCTest
import SimCore
import SimNetwork
import SimConfig
@testable import Replication
@testable import Simulation

final class RaftTests: XCTestCase {
    typealias H = Harness<Raft>

    /// A harness with one group (every key in it) unless told otherwise.
    func harness(_ parameters: [(String, ConfigValue)] = [], seed: UInt64 = 1) throws -> H {
        var p: [(String, ConfigValue)] = [("groups", .number(1))]
        p += parameters
        return try H(parameters: p, seed: seed)
    }

    /// Writes `key` at `version` through the coordinator and runs until it is answered.
    @discardableResult
    func write(_ h: inout H, key: UInt64, version: UInt32 = 1, clientDC: Int = 0, within: SimDuration = .seconds(3)) -> ClientResult? {
        let op = h.write(key: key, version: version, clientDC: clientDC)
        h.run(for: within)
        return h.result(op)
    }

    // MARK: Election and replication

    func testFirstRequestElectsALeaderThatCommitsAndEveryMemberApplies() throws {
        var h = try harness()
        XCTAssertEqual(write(&h, key: 1), .acknowledged)
        let leader = try XCTUnwrap(h.leader(ofKey: 1))
        let members = h.members(ofKey: 1)
        XCTAssertEqual(members.count, 3)
        XCTAssertEqual(Set(members.map { h.world.datacenter(of: $0) }).count, 3, "3 members in 3 DCs")
        XCTAssertEqual(h.strategy.leaders(ofGroup: 0).count, 1)
        h.run(for: .milliseconds(500))
        XCTAssertEqual(Set(h.holders(of: 1, atLeast: 1)), Set(members), "every member applied the write")
        for m in members {
            let v = h.view(1, at: m)
            XCTAssertEqual(v.log.map(\.kind), [.noop, .write], "node \(m)")
            XCTAssertEqual(v.leader, leader)
        }
        // The client now knows the leader.
        XCTAssertEqual(h.strategy.coordinator(for: ClientRequest(id: OperationID(99), kind: .write, key: ShardKey(1),
                                                                 stamp: Stamp(version: 2), storedBytes: 1, homeDC: 0),
                                              clientDC: 4, up: h.liveness), leader)
    }

    func testAFollowerForwardsToTheLeaderWhichAnswers() throws {
        var h = try harness()
        XCTAssertEqual(write(&h, key: 1), .acknowledged)
        let leader = try XCTUnwrap(h.leader(ofKey: 1))
        let follower = try XCTUnwrap(h.members(ofKey: 1).first { $0 != leader })
        h.submit(.write, key: 1, version: 2, id: OperationID(500), at: follower)
        h.run(for: .seconds(1))
        let reply = try XCTUnwrap(h.replies.first { $0.op == OperationID(500) })
        XCTAssertEqual(reply.result, .acknowledged)
        XCTAssertEqual(reply.from, leader, "the leader answers a forwarded request")
        XCTAssertEqual(h.traffic(.writeRequest).messages, 1, "one forward hop")
    }

    func testElectionAfterLeaderCrashAndTheNewLeaderKeepsCommittedWrites() throws {
        var h = try harness()
        XCTAssertEqual(write(&h, key: 1), .acknowledged)
        let old = try XCTUnwrap(h.leader(ofKey: 1))
        let oldTerm = h.strategy.term(ofGroup: 0)
        h.crash(old)
        h.run(for: .seconds(4))
        let new = try XCTUnwrap(h.leader(ofKey: 1), "a new leader within two election timeouts")
        XCTAssertNotEqual(new, old)
        XCTAssertGreaterThan(h.strategy.term(ofGroup: 0), oldTerm)
        XCTAssertTrue(h.view(1, at: new).log.contains { $0.kind == .write && $0.key == ShardKey(1) })
        XCTAssertEqual(write(&h, key: 1, version: 2, clientDC: 3), .acknowledged)
        // The old leader returns as a follower and catches up.
        h.restart(old)
        h.run(for: .seconds(3))
        XCTAssertEqual(h.view(1, at: old).role, .follower)
        XCTAssertEqual(h.view(1, at: old).commitIndex, h.view(1, at: new).commitIndex)
        XCTAssertEqual(h.stored(1, at: old)?.stamp.version, 2)
    }

    func testSplitVoteIsResolvedByRandomizedTimeouts() throws {
        var h = try harness()
        XCTAssertEqual(write(&h, key: 1), .acknowledged)
        let old = try XCTUnwrap(h.leader(ofKey: 1))
        let rest = h.members(ofKey: 1).filter { $0 != old }
        h.crash(old)
        // Past every member's no-vote window, make both survivors stand at the same instant:
        // each votes for itself, so neither can win that term.
        h.run(for: .milliseconds(1_050))
        var rng = SimRandom(seed: 9)
        let term = h.strategy.term(ofGroup: 0)
        for n in rest {
            let r = h.strategy.replica(group: 0, node: n)
            XCTAssertEqual(h.strategy.replicas[r].role, .follower, "no natural timeout yet")
            h.strategy.campaign(r, now: h.clock(n), rng: &rng, effects: &h.effects)
            h.perform(at: n)
        }
        h.run(for: .milliseconds(200))
        XCTAssertNil(h.leader(ofKey: 1), "split vote in term \(term + 1)")
        for n in rest { XCTAssertEqual(h.view(1, at: n).role, .candidate) }
        h.run(for: .seconds(5))
        let leader = try XCTUnwrap(h.leader(ofKey: 1), "randomized timeouts break the tie")
        XCTAssertGreaterThanOrEqual(h.strategy.term(ofGroup: 0), term + 2)
        XCTAssertTrue(rest.contains(leader))
    }

    func testMinorityPartitionedLeaderCannotCommitStepsDownAndLosesItsUncommittedEntry() throws {
        var h = try harness()
        XCTAssertEqual(write(&h, key: 1), .acknowledged)
        let old = try XCTUnwrap(h.leader(ofKey: 1))
        let oldDC = h.world.datacenter(of: old)
        h.partition([oldDC], (0..<5).filter { $0 != oldDC })
        h.submit(.write, key: 1, version: 2, id: OperationID(700), at: old)
        h.run(for: .milliseconds(500))
        XCTAssertEqual(h.view(1, at: old).log.last?.stamp.version, 2, "appended on the isolated leader")
        let uncommitted = h.view(1, at: old).log.count
        h.run(for: .seconds(4))
        XCTAssertNotEqual(h.result(OperationID(700)), .acknowledged, "a minority leader never acknowledges")
        XCTAssertNotEqual(h.view(1, at: old).role, .leader, "check-quorum: it stepped down")
        XCTAssertEqual(h.result(OperationID(700)), .failed, "its pending write was refused on stepping down")
        let new = try XCTUnwrap(h.leader(ofKey: 1))
        XCTAssertNotEqual(new, old)
        XCTAssertEqual(write(&h, key: 2, version: 1, clientDC: h.world.datacenter(of: new)), .acknowledged)
        h.heal()
        h.run(for: .seconds(5))
        let now = try XCTUnwrap(h.leader(ofKey: 1))
        let v = h.view(1, at: old)
        XCTAssertEqual(v.log, h.view(1, at: now).log, "the old leader's log now matches the leader's")
        XCTAssertGreaterThanOrEqual(v.log.count, uncommitted)
        XCTAssertFalse(v.log.contains { $0.key == ShardKey(1) && $0.stamp.version == 2 }, "its uncommitted entry was truncated")
        XCTAssertNotEqual(h.stored(1, at: old)?.stamp.version, 2, "never applied")
    }

    // MARK: AppendEntries consistency check and truncation (fed by hand)

    func testConsistencyCheckAndConflictTruncation() throws {
        let topo = try ConfigLoader.builtinTopology(named: "telegram-5")
        var raft = try Raft(world: StrategyWorld(topology: topo), config: StrategyConfig(name: "raft", parameters: [
            .init(key: "groups", value: .number(1))]))
        let members = raft.members(ofGroup: 0)
        let (oldLeader, newLeader, follower) = (members[0], members[1], members[2])
        var rng = SimRandom(seed: 1)
        var fx = Effects<Raft.Message, Raft.Timer>()
        func e(_ term: UInt64, _ key: UInt64) -> Raft.Entry {
            Raft.Entry(term: term, kind: .write, key: ShardKey(key), stamp: Stamp(version: 1), storedBytes: 10)
        }
        func send(_ m: Raft.AppendEntries, from: Int) -> Raft.AppendReply {
            fx.removeAll()
            raft.receive(.append(m), from: from, at: follower, now: .zero + .seconds(1), rng: &rng, effects: &fx)
            for case .send(_, .appendReply(let reply), _, _) in fx.actions { return reply }
            XCTFail("no reply"); return Raft.AppendReply(group: 0, term: 0, success: false, index: 0, round: 0, incarnation: 0)
        }
        // Term 1 leader: two entries committed, then two more of term 2 never committed.
        var r = send(.init(group: 0, term: 1, prevLogIndex: 0, prevLogTerm: 0, entries: [e(1, 1), e(1, 2)], leaderCommit: 2, round: 1), from: oldLeader)
        XCTAssertTrue(r.success); XCTAssertEqual(r.index, 2)
        r = send(.init(group: 0, term: 2, prevLogIndex: 2, prevLogTerm: 1, entries: [e(2, 3), e(2, 4)], leaderCommit: 2, round: 1), from: oldLeader)
        XCTAssertTrue(r.success); XCTAssertEqual(r.index, 4)
        // Term 3 leader probes beyond the follower's log: refused, hint = log end + 1.
        r = send(.init(group: 0, term: 3, prevLogIndex: 6, prevLogTerm: 3, entries: [], leaderCommit: 2, round: 1), from: newLeader)
        XCTAssertFalse(r.success); XCTAssertEqual(r.index, 5); XCTAssertEqual(r.term, 3)
        // Mismatch at index 4 (term 2 here, 3 at the leader): hint the first index of term 2.
        r = send(.init(group: 0, term: 3, prevLogIndex: 4, prevLogTerm: 3, entries: [], leaderCommit: 2, round: 2), from: newLeader)
        XCTAssertFalse(r.success); XCTAssertEqual(r.index, 3)
        // A stale leader is refused with the current term.
        r = send(.init(group: 0, term: 2, prevLogIndex: 2, prevLogTerm: 1, entries: [], leaderCommit: 2, round: 9), from: oldLeader)
        XCTAssertFalse(r.success); XCTAssertEqual(r.term, 3)
        // Matching prefix at 2: the conflicting suffix goes, the leader's entries replace it.
        r = send(.init(group: 0, term: 3, prevLogIndex: 2, prevLogTerm: 1, entries: [e(3, 5)], leaderCommit: 3, round: 3), from: newLeader)
        XCTAssertTrue(r.success); XCTAssertEqual(r.index, 3)
        var v = raft.member(group: 0, node: follower)!
        XCTAssertEqual(v.log, [e(1, 1), e(1, 2), e(3, 5)])
        XCTAssertEqual(v.commitIndex, 3)
        XCTAssertEqual(v.leader, newLeader)
        // A delayed duplicate of an older message must not truncate matching entries.
        r = send(.init(group: 0, term: 3, prevLogIndex: 0, prevLogTerm: 0, entries: [e(1, 1)], leaderCommit: 1, round: 1), from: newLeader)
        XCTAssertTrue(r.success)
        v = raft.member(group: 0, node: follower)!
        XCTAssertEqual(v.log.count, 3, "an older, matching AppendEntries keeps the later entries")
        XCTAssertEqual(v.commitIndex, 3, "and never lowers the commit index")
        // The applies were asked of the disk in log order, one put per committed write.
        XCTAssertEqual(v.applied, 0, "applied only once the puts complete")
    }

    /// §5.4.2: a leader never commits an entry of an earlier term by counting replicas,
    /// only through an entry of its own term (Figure 8 of the paper).
    func testLeaderCommitsEarlierTermEntriesOnlyThroughItsOwnTerm() throws {
        let topo = try ConfigLoader.builtinTopology(named: "telegram-5")
        var raft = try Raft(world: StrategyWorld(topology: topo), config: StrategyConfig(name: "raft", parameters: [
            .init(key: "groups", value: .number(1))]))
        let m = raft.members(ofGroup: 0)
        var rng = SimRandom(seed: 1)
        var fx = Effects<Raft.Message, Raft.Timer>()
        let r = raft.replica(group: 0, node: m[0])
        // A candidate of term 3 holding [term 1, term 2] wins; it appends its no-op (index 3).
        raft.replicas[r].log = [Raft.Entry(term: 1, kind: .noop), Raft.Entry(term: 2, kind: .write, key: ShardKey(5), stamp: Stamp(version: 1))]
        raft.replicas[r].term = 3
        raft.replicas[r].started = true
        raft.becomeLeader(r, now: .zero, rng: &rng, effects: &fx)
        XCTAssertEqual(raft.member(group: 0, node: m[0])!.log.last?.kind, .noop)
        func ack(_ index: Int, from node: Int) {
            raft.receive(.appendReply(.init(group: 0, term: 3, success: true, index: index, round: 1, incarnation: 1)),
                         from: node, at: m[0], now: .zero + .milliseconds(10), rng: &rng, effects: &fx)
        }
        ack(2, from: m[1])
        XCTAssertEqual(raft.member(group: 0, node: m[0])!.commitIndex, 0,
                       "entry 2 (term 2) is on a majority but must not commit by counting")
        ack(3, from: m[1])
        XCTAssertEqual(raft.member(group: 0, node: m[0])!.commitIndex, 3, "the no-op of term 3 commits, and entry 2 with it")
    }

    func testVoteRequiresAnUpToDateLogAndOneVotePerTerm() throws {
        let topo = try ConfigLoader.builtinTopology(named: "telegram-5")
        var raft = try Raft(world: StrategyWorld(topology: topo), config: StrategyConfig(name: "raft", parameters: [
            .init(key: "groups", value: .number(1))]))
        let m = raft.members(ofGroup: 0)
        var rng = SimRandom(seed: 1)
        var fx = Effects<Raft.Message, Raft.Timer>()
        let t0 = SimTime.zero + .seconds(10)
        func ask(_ req: Raft.VoteRequest, from: Int) -> Bool {
            fx.removeAll()
            raft.receive(.vote(req), from: from, at: m[2], now: t0, rng: &rng, effects: &fx)
            for case .send(_, .voteReply(let reply), _, _) in fx.actions { return reply.granted }
            return false
        }
        // Give the voter a log of [term 1, term 2].
        fx.removeAll()
        raft.receive(.append(.init(group: 0, term: 2, prevLogIndex: 0, prevLogTerm: 0,
                                   entries: [Raft.Entry(term: 1, kind: .noop), Raft.Entry(term: 2, kind: .noop)],
                                   leaderCommit: 0, round: 1)), from: m[0], at: m[2], now: .zero, rng: &rng, effects: &fx)
        XCTAssertFalse(ask(.init(group: 0, term: 5, lastLogIndex: 9, lastLogTerm: 1), from: m[1]), "older last term")
        XCTAssertFalse(ask(.init(group: 0, term: 5, lastLogIndex: 1, lastLogTerm: 2), from: m[1]), "shorter log of the same term")
        XCTAssertTrue(ask(.init(group: 0, term: 5, lastLogIndex: 2, lastLogTerm: 2), from: m[1]))
        XCTAssertFalse(ask(.init(group: 0, term: 5, lastLogIndex: 2, lastLogTerm: 2), from: m[0]), "one vote per term")
        XCTAssertTrue(ask(.init(group: 0, term: 5, lastLogIndex: 2, lastLogTerm: 2), from: m[1]), "the same candidate again")
        // A member that just heard from a leader ignores vote requests (thesis §4.2.3).
        fx.removeAll()
        raft.receive(.append(.init(group: 0, term: 6, prevLogIndex: 2, prevLogTerm: 2, entries: [], leaderCommit: 0, round: 1)),
                     from: m[0], at: m[2], now: t0, rng: &rng, effects: &fx)
        XCTAssertFalse(ask(.init(group: 0, term: 7, lastLogIndex: 5, lastLogTerm: 6), from: m[1]))
        XCTAssertEqual(raft.member(group: 0, node: m[2])!.term, 6, "and does not adopt the candidate's term")
    }

    // MARK: Reads

    func testReadIndexAndLogReadsSeeTheLatestAcknowledgedWriteAndDeletes() throws {
        for mode in ["read_index", "lease", "log"] {
            var h = try harness([("read", .string(mode))])
            XCTAssertEqual(write(&h, key: 1), .acknowledged, mode)
            XCTAssertEqual(write(&h, key: 1, version: 2, clientDC: 2), .acknowledged, mode)
            var op = h.read(key: 1, clientDC: 4)
            h.run(for: .seconds(1))
            XCTAssertEqual(h.result(op), .found(Stamp(version: 2), tombstone: false), mode)
            op = h.delete(key: 1, version: 3, clientDC: 1)
            h.run(for: .seconds(1))
            XCTAssertEqual(h.result(op), .acknowledged, mode)
            op = h.read(key: 1, clientDC: 3)
            h.run(for: .seconds(1))
            XCTAssertEqual(h.result(op), .found(Stamp(version: 3), tombstone: true), mode)
            op = h.read(key: 77, clientDC: 0)
            h.run(for: .seconds(1))
            XCTAssertEqual(h.result(op), .notFound, mode)
            if mode == "log" {
                let leader = try XCTUnwrap(h.leader(ofKey: 1))
                XCTAssertEqual(h.view(1, at: leader).log.filter { $0.kind == .read }.count, 3, "log reads are entries")
            }
        }
    }

    func testLeaseReadNeedsNoRoundTripButReadIndexDoes() throws {
        for mode in ["lease", "read_index"] {
            var h = try harness([("read", .string(mode))])
            XCTAssertEqual(write(&h, key: 1), .acknowledged)
            let leader = try XCTUnwrap(h.leader(ofKey: 1))
            h.run(for: .milliseconds(330))
            h.submit(.read, key: 1, id: OperationID(900), at: leader)
            // Client hop 5 ms, disk 1 ms, reply 5 ms: a lease read is back in 11 ms; a
            // ReadIndex read first needs a heartbeat round trip (2 × 20 ms).
            h.run(for: .milliseconds(20))
            if mode == "lease" {
                XCTAssertEqual(h.result(OperationID(900)), .found(Stamp(version: 1), tombstone: false), mode)
            } else {
                XCTAssertNil(h.result(OperationID(900)), mode)
                h.run(for: .milliseconds(40))
                XCTAssertEqual(h.result(OperationID(900)), .found(Stamp(version: 1), tombstone: false), mode)
            }
        }
    }

    /// A lease is judged by the leader's own clock. An isolated leader whose clock jumps
    /// back keeps believing its lease holds while the majority elects a new leader and
    /// commits a newer version: its lease read is stale. ReadIndex, in the same situation,
    /// cannot confirm leadership and serves nothing.
    func testLeaseReadOnAStaleLeaderWithClockSkewCanBeStaleButReadIndexIsNot() throws {
        for mode in ["lease", "read_index"] {
            var h = try harness([("read", .string(mode))])
            XCTAssertEqual(write(&h, key: 1), .acknowledged)
            let old = try XCTUnwrap(h.leader(ofKey: 1))
            let oldDC = h.world.datacenter(of: old)
            h.skew[old] = .seconds(-30)   // the isolated leader's clock jumps back 30 s
            h.partition([oldDC], (0..<5).filter { $0 != oldDC })
            h.run(for: .seconds(4))
            let new = try XCTUnwrap(h.leader(ofKey: 1))
            XCTAssertNotEqual(new, old, mode)
            h.submit(.write, key: 1, version: 2, id: OperationID(800), at: new)
            h.run(for: .seconds(1))
            XCTAssertEqual(h.result(OperationID(800)), .acknowledged, mode)
            XCTAssertEqual(h.view(1, at: old).role, .leader, "\(mode): by its clock, check-quorum has not expired")
            h.submit(.read, key: 1, id: OperationID(801), at: old)
            h.run(for: .milliseconds(500))
            if mode == "lease" {
                XCTAssertEqual(h.result(OperationID(801)), .found(Stamp(version: 1), tombstone: false),
                               "stale: version 2 was acknowledged before the read began")
            } else {
                XCTAssertNil(h.result(OperationID(801)), "read_index: no majority confirms the round, nothing served")
            }
        }
    }

    // MARK: Disk loss

    /// A member that lost its disk comes back as a new incarnation, is not a voter until
    /// the leader has removed its old incarnation and added the new one, and catches up
    /// from the log (its store gets every write back).
    func testMemberThatLostItsDiskRejoinsThroughMembershipChanges() throws {
        var h = try harness()
        for v in UInt32(1)...5 { XCTAssertEqual(write(&h, key: UInt64(v), version: 1, within: .milliseconds(500)), .acknowledged) }
        let leader = try XCTUnwrap(h.leader(ofKey: 1))
        let lost = try XCTUnwrap(h.members(ofKey: 1).first { $0 != leader })
        h.crash(lost, diskLost: true)
        h.run(for: .seconds(1))
        h.restart(lost)
        h.run(for: .milliseconds(50))
        let fresh = h.view(1, at: lost)
        XCTAssertNotEqual(fresh.incarnation, 1)
        XCTAssertFalse(fresh.isVoter)
        h.run(for: .seconds(3))
        let v = h.view(1, at: lost)
        let lv = h.view(1, at: leader)
        XCTAssertTrue(v.isVoter, "re-added: config \(v.config)")
        XCTAssertEqual(lv.config.filter { $0 == v.incarnation }.count, 1)
        XCTAssertEqual(lv.log.filter { $0.kind == .config }.count, 2, "remove, then add")
        XCTAssertEqual(v.log, lv.log)
        for k in UInt64(1)...5 { XCTAssertEqual(h.stored(k, at: lost)?.stamp.version, 1, "key \(k) restored") }
        XCTAssertGreaterThan(h.traffic(.repair).messages, 0, "catch-up of committed entries counts as repair")
    }

    /// The case that breaks naive Raft: an entry committed on the leader and one follower
    /// only; that follower loses its disk and the leader crashes. The third member must not
    /// be elected with the amnesiac's vote (it would lack the committed entry): the group
    /// waits for the old leader, and the acknowledged write survives.
    func testAmnesiacVoteCannotElectALeaderLackingCommittedEntries() throws {
        var h = try harness()
        XCTAssertEqual(write(&h, key: 1), .acknowledged)
        let leader = try XCTUnwrap(h.leader(ofKey: 1))
        let others = h.members(ofKey: 1).filter { $0 != leader }
        let (witness, behind) = (others[0], others[1])
        h.block(from: leader, to: behind)
        XCTAssertEqual(write(&h, key: 2, within: .milliseconds(300)), .acknowledged)
        XCTAssertNil(h.stored(2, at: behind), "committed on leader + witness only")
        var checker = RaftChecker(h.strategy)
        h.crash(witness, diskLost: true)
        h.crash(leader)
        h.heal()
        h.run(for: .milliseconds(10))
        h.restart(witness)
        h.run(until: h.now + .seconds(10)) { checker.check($0.strategy) }
        XCTAssertNil(h.leader(ofKey: 1), "no leader without a majority of real voters")
        h.restart(leader)
        h.run(until: h.now + .seconds(10)) { checker.check($0.strategy) }
        XCTAssertEqual(checker.violations, [])
        let l = try XCTUnwrap(h.leader(ofKey: 1))
        XCTAssertTrue(h.view(1, at: l).log.contains { $0.key == ShardKey(2) && $0.kind == .write })
        XCTAssertEqual(Set(h.holders(of: 2, atLeast: 1)), Set(h.members(ofKey: 1)), "the acknowledged write is everywhere again")
    }

    // MARK: Failed puts

    /// A put that fails (a disk error, or the shard's key unreachable) must not block the
    /// entries behind it: the leader answers `.failed` for a write its own store could not
    /// take, keeps acknowledging others, refuses reads of that key (its store may be behind),
    /// and retries the put in the background until it succeeds.
    func testFailedPutsDoNotBlockTheGroupAndAreRetried() throws {
        var h = try harness([("read", .string("lease"))])   // a lease read is decided on arrival
        XCTAssertEqual(write(&h, key: 1), .acknowledged)
        let leader = try XCTUnwrap(h.leader(ofKey: 1))
        let followers = h.members(ofKey: 1).filter { $0 != leader }
        // A follower's disk fails: writes are still acknowledged (leader + the other one).
        h.ioErrorNodes.insert(followers[0])
        XCTAssertEqual(write(&h, key: 2, within: .milliseconds(300)), .acknowledged)
        XCTAssertNil(h.stored(2, at: followers[0]))
        // The leader's disk fails: its write is refused, promptly, and so is a read of it.
        h.ioErrorNodes.insert(leader)
        XCTAssertEqual(write(&h, key: 3, within: .milliseconds(120)), .failed)
        h.ioErrorNodes.remove(leader)
        let r = h.strategy.replica(group: 0, node: leader)
        XCTAssertNotNil(h.strategy.replicas[r].failed.values.first { $0.key == ShardKey(3) }, "key 3's put awaits a retry")
        h.submit(.read, key: 3, id: OperationID(300), at: leader)
        h.run(for: .milliseconds(15))
        XCTAssertEqual(h.result(OperationID(300)), .failed, "key 3's put failed on the leader's store: not served")
        XCTAssertEqual(write(&h, key: 4, within: .milliseconds(300)), .acknowledged, "no head-of-line blocking")
        // Disks repaired: the background retries fill every store.
        h.ioErrorNodes.removeAll()
        h.run(for: .seconds(6))
        for k in UInt64(1)...4 {
            XCTAssertEqual(Set(h.holders(of: k, atLeast: 1)), Set(h.members(ofKey: 1)), "key \(k) on every member")
        }
        let again = h.read(key: 3)
        h.run(for: .milliseconds(100))
        XCTAssertEqual(h.result(again), .found(Stamp(version: 1), tombstone: false))
    }

    // MARK: Batching, parameters

    func testBatchingShipsManyWritesInOneAppendEntries() throws {
        var h = try harness([("batch_interval", .string("50ms"))])
        XCTAssertEqual(write(&h, key: 1), .acknowledged)
        h.run(for: .milliseconds(20))
        let before = h.traffic(.replication).messages
        let ops = (2...21).map { h.write(key: UInt64($0), clientDC: 0) }
        h.run(for: .seconds(1))
        for op in ops { XCTAssertEqual(h.result(op), .acknowledged) }
        let sent = h.traffic(.replication).messages - before
        XCTAssertLessThanOrEqual(sent, 4, "20 writes in ≤ 2 batches per follower, got \(sent) messages")
        var p = try harness()
        XCTAssertEqual(write(&p, key: 1), .acknowledged)
        p.run(for: .milliseconds(20))
        let b2 = p.traffic(.replication).messages
        let ops2 = (2...21).map { p.write(key: UInt64($0), clientDC: 0) }
        p.run(for: .seconds(1))
        for op in ops2 { XCTAssertEqual(p.result(op), .acknowledged) }
        XCTAssertEqual(p.traffic(.replication).messages - b2, 40, "pipelined: one AppendEntries per write per follower")
    }

    func testGroupsSpreadKeysAndLeaders() throws {
        var h = try H(parameters: [("groups", .number(16))])
        var groupsSeen = Set<Int>()
        for k in UInt64(1)...200 { groupsSeen.insert(h.strategy.groupOf(ShardKey(k))) }
        XCTAssertEqual(groupsSeen.count, 16)
        for g in 0..<16 { h.write(key: h.key(inGroup: g), clientDC: g % 5) }
        h.run(for: .seconds(3))
        let leaderDCs = Set((0..<16).compactMap { h.strategy.leader(ofGroup: $0) }.map { h.world.datacenter(of: $0) })
        XCTAssertEqual((0..<16).compactMap { h.strategy.leader(ofGroup: $0) }.count, 16)
        XCTAssertGreaterThanOrEqual(leaderDCs.count, 3, "leaders spread over DCs")
        let memberDCs = Set((0..<16).flatMap { h.strategy.members(ofGroup: $0) }.map { h.world.datacenter(of: $0) })
        XCTAssertEqual(memberDCs.count, 5)
    }

    func testParameterErrorsNameTheParameter() throws {
        func error(_ p: [(String, ConfigValue)]) -> String {
            do { _ = try H(parameters: p); return "no error" } catch { return "\(error)" }
        }
        XCTAssertTrue(error([("election_timeout_min", .string("1s")), ("election_timeout_max", .string("1s"))]).contains("election_timeout_max"))
        XCTAssertTrue(error([("heartbeat_interval", .string("800ms"))]).contains("heartbeat_interval"))
        XCTAssertTrue(error([("lease_duration", .string("2s"))]).contains("lease_duration"))
        let mode = error([("read", .string("quorum"))])
        XCTAssertTrue(mode.contains("lease, read_index, log"), mode)
        let unknown = error([("hearbeat_interval", .string("100ms"))])
        XCTAssertTrue(unknown.contains("did you mean 'heartbeat_interval'"), unknown)
        XCTAssertTrue(error([("groups", .number(0))]).contains("groups"))
        let raft5 = try H(parameters: [("copies", .number(5))])
        XCTAssertEqual(raft5.strategy.tolerance.nodes, 2)
        XCTAssertEqual(raft5.strategy.tolerance.datacenters, 2)
        XCTAssertEqual(raft5.strategy.replicasToWrite, 3)
        XCTAssertTrue(raft5.strategy.summary.contains("copies=5"), raft5.strategy.summary)
    }
}
