import XCTest
import SimCore
import SimConfig
@testable import Replication
@testable import Simulation

/// Raft under random faults kept within its tolerance (node crashes with and without disk
/// loss, DC outages, DC partitions, one-way link cuts — affecting at most a minority of
/// every group at once), across seeds and read modes. After every event the checker
/// verifies election safety, that committed entries never change or disappear, and leader
/// completeness; at the end, that every acknowledged write is on every member, that every
/// member applied the same committed log and is a voter again, and that the reads of each
/// key were linearizable.
final class RaftFaultTests: XCTestCase {
    struct Outcome { var acked = 0, reads = 0, faults = 0, diskLosses = 0, leaders = 0 }

    enum Fault {
        case crash([Int], diskLost: Bool)
        case partition(dcs: [Int])
        case oneWay(from: Int, to: Int)
    }

    func chaos(seed: UInt64, copies: Int, read: String, duration: SimDuration = .seconds(45)) throws -> Outcome {
        let context = "seed \(seed) copies \(copies) read \(read)"
        var h = try Harness<Raft>(parameters: [("copies", .number(Double(copies))), ("groups", .number(4)),
                                               ("read", .string(read))], seed: seed)
        var rng = SimRandom(root: seed, label: "raft-chaos")
        let keys = (0..<4).flatMap { g in [h.key(inGroup: g, from: 1), h.key(inGroup: g, from: 10_000)] }
        var client = RetryingClient(keys: keys)
        var checker = RaftChecker(h.strategy)
        var out = Outcome()
        let memberNodes = Array(Set((0..<4).flatMap { h.strategy.members(ofGroup: $0) })).sorted()
        let dcs = h.world.topology.datacenters.count
        // Faults at once: a minority of each group (members sit in distinct DCs).
        let atOnce = (copies - 1) / 2
        var active: [Fault] = []
        var healAt = SimTime.zero
        var nextFault = SimTime.zero + .seconds(3)
        let end = SimTime.zero + duration

        func healthy(_ h: Harness<Raft>) -> Bool {
            for g in 0..<4 {
                guard h.strategy.leader(ofGroup: g) != nil else { return false }
                for n in h.strategy.members(ofGroup: g) {
                    guard h.liveness.isUp(n), h.strategy.member(group: g, node: n)!.isVoter else { return false }
                }
            }
            return true
        }

        while h.now < end {
            h.run(until: h.now + .milliseconds(50)) { checker.check($0.strategy) }
            client.tick(h: &h, rng: &rng)
            if !active.isEmpty, h.now >= healAt {
                for f in active {
                    switch f {
                    case .crash(let nodes, _): for n in nodes { h.restart(n) }
                    case .partition, .oneWay: h.heal()
                    }
                }
                active = []
                nextFault = h.now + SimDuration(nanoseconds: Int64(rng.int(in: 300...2_500)) * 1_000_000)
            } else if active.isEmpty, h.now >= nextFault, healthy(h) {
                // Disjoint DCs for simultaneous faults, so no group loses a majority.
                var pool = Array(0..<dcs)
                rng.shuffle(&pool)
                // Half the time, hit the DC of some group's leader (to force elections).
                if rng.chance(ppm: 500_000), let leader = h.strategy.leader(ofGroup: Int(rng.below(4))) {
                    let dc = h.world.datacenter(of: leader)
                    pool.removeAll { $0 == dc }
                    pool.insert(dc, at: 0)
                }
                for i in 0..<atOnce {
                    let dc = pool[i]
                    let inDC = memberNodes.filter { h.world.datacenter(of: $0) == dc }
                    let leaders = (0..<4).compactMap { h.strategy.leader(ofGroup: $0) }.filter { inDC.contains($0) }
                    guard let node = rng.element(of: leaders.isEmpty ? inDC : leaders) else { continue }
                    let f: Fault
                    switch rng.below(5) {
                    case 0: f = .crash([node], diskLost: false)
                    case 1: f = .crash([node], diskLost: true); out.diskLosses += 1
                    case 2: f = .crash(h.world.nodesByDC[dc], diskLost: false)
                    case 3: f = .partition(dcs: [dc])
                    default:
                        let others = memberNodes.filter { h.world.datacenter(of: $0) != dc }
                        f = rng.chance(ppm: 500_000) ? .oneWay(from: node, to: rng.element(of: others)!)
                                                     : .oneWay(from: rng.element(of: others)!, to: node)
                    }
                    switch f {
                    case .crash(let nodes, let diskLost): for n in nodes { h.crash(n, diskLost: diskLost) }
                    case .partition(let side): h.partition(side, (0..<dcs).filter { !side.contains($0) })
                    case .oneWay(let a, let b): h.block(from: a, to: b)
                    }
                    active.append(f)
                    out.faults += 1
                }
                healAt = h.now + SimDuration(nanoseconds: Int64(rng.int(in: 300...4_000)) * 1_000_000)
            }
        }
        // Heal everything; let the clients finish what they started.
        for n in 0..<h.liveness.up.count where !h.liveness.isUp(n) { h.restart(n) }
        h.heal()
        client.issuing = false
        var waited = 0
        while !client.open.isEmpty || waited < 100 {
            h.run(until: h.now + .milliseconds(100)) { checker.check($0.strategy) }
            client.tick(h: &h, rng: &rng)
            waited += 1
            if waited > 400 { break }
        }
        XCTAssertEqual(checker.violations, [], context)
        XCTAssertEqual(client.open.count, 0, "\(context): operations still open after healing")
        XCTAssertEqual(client.linearizabilityViolations().prefix(5), [], context)
        checker.checkConverged(h.strategy, up: h.liveness, context)
        let missing = client.acknowledgedWrites.filter { w in
            let members = h.members(ofKey: w.key)
            return Set(h.holders(of: w.key, atLeast: w.version)).intersection(members) != Set(members)
        }
        XCTAssertEqual(missing.count, 0, "\(context): acknowledged writes not on every member, e.g. " +
                       missing.prefix(3).map { "key \($0.key) v\($0.version)" }.joined(separator: ", "))
        out.acked = client.acknowledgedWrites.count
        out.reads = client.completedReads.count
        out.leaders = checker.leadersSeen
        return out
    }

    func testThreeMembersUnderRandomFaultsAcrossSeedsAndReadModes() throws {
        var total = Outcome()
        for seed in UInt64(1)...5 {
            for read in ["read_index", "lease", "log"] {
                let o = try chaos(seed: seed, copies: 3, read: read)
                XCTAssertGreaterThan(o.acked, 100, "seed \(seed) \(read)")
                XCTAssertGreaterThan(o.reads, 100, "seed \(seed) \(read)")
                XCTAssertGreaterThan(o.faults, 4, "seed \(seed) \(read)")
                total.faults += o.faults; total.diskLosses += o.diskLosses; total.leaders += o.leaders
            }
        }
        XCTAssertGreaterThan(total.diskLosses, 5, "disk losses were exercised")
        XCTAssertGreaterThan(total.leaders, 100, "many elections")
    }

    func testFiveMembersSurviveTwoSimultaneousFaults() throws {
        for seed in UInt64(11)...14 {
            let o = try chaos(seed: seed, copies: 5, read: seed % 2 == 0 ? "lease" : "read_index")
            XCTAssertGreaterThan(o.acked, 100, "seed \(seed)")
            XCTAssertGreaterThan(o.faults, 8, "seed \(seed)")
        }
    }
}
