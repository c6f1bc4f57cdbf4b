import XCTest
import SimConfig
@testable import Replication
import Reports
import SimTestSupport
@testable import Simulation

/// Raft's safety properties over runs with random faults, read from the strategy's
/// observations (``Raft/Observations``): at most one leader per term; a committed entry is
/// never changed (every member that commits an index commits the same entry) and, within
/// the tolerance, never lost (it is in a majority of the group's logs at the end). Beyond
/// the tolerance (disk loss, unlimited faults) the first two must still hold.
final class StrategyPropertyRaftTests: XCTestCase {
    static let tolerated = [
        ("chaos", StrategyPropertyFaultTests.chaos),
        ("swarm", StrategyPropertyFaultTests.swarm),
    ]
    static let beyond = [
        ("unlimited chaos", "fault_budget: unlimited\nchaos: {dc_mttf: {dist: exponential, mean: 10s}, dc_mttr: {dist: exponential, mean: 4s}, node_mttf: {dist: exponential, mean: 15s}, node_mttr: {dist: exponential, mean: 3s}, disk_loss: 0.5}"),
        ("unlimited swarm", "fault_budget: unlimited\nswarm: {faults: 8, mean_length: 5s}"),
    ]

    /// Violations of "one leader per term" and "a committed entry never changes".
    static func safetyViolations(_ raft: Raft) -> [String] {
        guard let o = raft.observations else { return ["no observations recorded"] }
        var bad: [String] = []
        var leaders: [[UInt64: Int]] = Array(repeating: [:], count: raft.groups)
        for e in o.elections {
            if let other = leaders[e.group][e.term], other != e.node {
                bad.append("group \(e.group) term \(e.term): leaders \(other) and \(e.node)")
            }
            leaders[e.group][e.term] = e.node
        }
        var committed: [[Int: Raft.Entry]] = Array(repeating: [:], count: raft.groups)
        for c in o.commits {
            if let first = committed[c.group][c.index] {
                if first != c.entry {
                    bad.append("group \(c.group) index \(c.index): committed \(first) and, at node \(c.node), \(c.entry)")
                }
            } else {
                committed[c.group][c.index] = c.entry
            }
        }
        return bad
    }

    /// Committed entries missing from a majority of their group's final logs.
    static func lostCommits(_ raft: Raft) -> [String] {
        guard let o = raft.observations else { return ["no observations recorded"] }
        var committed: [[Int: Raft.Entry]] = Array(repeating: [:], count: raft.groups)
        for c in o.commits where committed[c.group][c.index] == nil { committed[c.group][c.index] = c.entry }
        var bad: [String] = []
        for g in 0..<raft.groups {
            let logs = raft.members(ofGroup: g).compactMap { raft.member(group: g, node: $0)?.log }
            for (index, entry) in committed[g].sorted(by: { $0.key < $1.key }) {
                let holders = logs.filter { $0.count >= index && $0[index - 1] == entry }.count
                if holders < logs.count / 2 + 1 {
                    bad.append("group \(g) index \(index) (\(entry.kind) key \(entry.key.raw) v\(entry.stamp.version)): on \(holders) of \(logs.count) logs")
                }
            }
        }
        return bad
    }

    func testOneLeaderPerTermAndCommittedEntriesNeverLostWithinTolerance() throws {
        for strategy in ["raft-3", "raft-5", "{name: raft-3, read: lease}"] {
            for seed in PropertyRuns.seeds(3) {
                for (mode, var faults) in Self.tolerated {
                    // Leases trust the leader's clock: no clock jumps for them (documented).
                    if strategy.contains("lease") && mode == "swarm" { faults = StrategyPropertyFaultTests.swarmSteadyClocks }
                    let (r, raft) = try PropertyRuns.runRaft(seed: seed, strategy: strategy, duration: "20s", extra: faults)
                    let label = "\(strategy) seed \(seed) \(mode) (\(r.faults.map { "\($0.kind) \($0.target) \($0.start)+\($0.detail)" }))"
                    let o = try XCTUnwrap(raft.observations)
                    XCTAssertFalse(o.elections.isEmpty, label)
                    XCTAssertGreaterThan(o.commits.count, 100, label)
                    let unsafe = Self.safetyViolations(raft)
                    XCTAssertTrue(unsafe.isEmpty, "\(label): \(unsafe.prefix(3))")
                    let lost = Self.lostCommits(raft)
                    XCTAssertTrue(lost.isEmpty, "\(label): \(lost.count) committed entries lost: \(lost.prefix(3))")
                    assertNothingLost(r, label)
                    assertNoReadFromNowhere(r, label)
                    XCTAssertEqual(r.consistency.staleReads, 0, label)
                    assertLinearizable(r, label)
                }
            }
        }
    }

    func testOneLeaderPerTermAndCommittedEntriesNeverChangeBeyondTolerance() throws {
        for strategy in ["raft-3", "raft-5"] {
            for seed in PropertyRuns.seeds(2) {
                for (mode, faults) in Self.beyond {
                    let (r, raft) = try PropertyRuns.runRaft(seed: seed, strategy: strategy, duration: "20s", extra: faults)
                    let label = "\(strategy) seed \(seed) \(mode)"
                    let unsafe = Self.safetyViolations(raft)
                    XCTAssertTrue(unsafe.isEmpty, "\(label): \(unsafe.prefix(3))")
                    assertNoReadFromNowhere(r, label)
                }
            }
        }
    }

    /// The checks themselves can fail: two leaders in one term, two different entries
    /// committed at one index, and a committed entry on no log are all reported.
    func testTheSafetyChecksCatchViolations() throws {
        let s = try PropertyRuns.scenario(seed: 1, strategy: "raft-3")
        let (_, config, _) = try StrategyRegistry.resolve(s.strategy)
        var raft = try Raft(world: StrategyWorld(topology: s.topology), config: config)
        raft.observations = Raft.Observations()
        let members = raft.members(ofGroup: 2)
        raft.observations!.elections = [.init(group: 2, term: 4, node: members[0], time: .zero),
                                        .init(group: 2, term: 5, node: members[1], time: .zero)]
        XCTAssertEqual(Self.safetyViolations(raft), [])
        raft.observations!.elections.append(.init(group: 2, term: 5, node: members[2], time: .zero))
        XCTAssertEqual(Self.safetyViolations(raft).count, 1)
        raft.observations!.elections.removeLast()
        let a = Raft.Entry(term: 4, kind: .write, key: ShardKey(7), stamp: Stamp(version: 1))
        var b = a
        b.stamp = Stamp(version: 2)
        raft.observations!.commits = [.init(group: 2, index: 1, node: members[0], entry: a, time: .zero),
                                      .init(group: 2, index: 1, node: members[1], entry: a, time: .zero)]
        XCTAssertEqual(Self.safetyViolations(raft), [])
        XCTAssertEqual(Self.lostCommits(raft).count, 1, "no member's log holds it")
        raft.observations!.commits.append(.init(group: 2, index: 1, node: members[2], entry: b, time: .zero))
        XCTAssertEqual(Self.safetyViolations(raft).count, 1)
    }

    /// The hook observes and nothing else: a run with observations on gives the same report.
    func testObservationsDoNotChangeTheRun() throws {
        let s = try PropertyRuns.scenario(seed: 3, strategy: "raft-3", extra: StrategyPropertyFaultTests.swarm)
        let plain = try Simulator.run(s)
        let (observed, raft) = try PropertyRuns.runRaft(seed: 3, strategy: "raft-3", extra: StrategyPropertyFaultTests.swarm)
        XCTAssertGreaterThan(raft.observations?.commits.count ?? 0, 0)
        XCTAssertEqual(JSONReport.render(plain, version: "test"), JSONReport.render(observed, version: "test"))
    }
}
