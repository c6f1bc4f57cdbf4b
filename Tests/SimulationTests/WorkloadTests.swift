import XCTest
import Foundation
import SimCore
import SimConfig
import Replication
@testable import Simulation

/// The workload generator against its configured distributions (issue 5): rates with the
/// daily curve and bursts, the message mix, sizes, users per region, devices, chats and their
/// Zipf activity, mutation shares and history reads — each within sampling error (|z| ≤ 4.5
/// on fixed seeds, so a pass is not luck and a wrong model fails by a wide margin). Then the
/// engine's side: edits, deletes and expiries through the strategy, device sync through the
/// per-user update sequence with gap detection and catch-up.
final class WorkloadTests: XCTestCase {
    static let zMax = 4.5

    func scenario(_ workload: String, duration: String = "1h", strategy: String = "async-geo",
                  extra: String = "") throws -> Scenario {
        try ConfigLoader.loadScenario(yaml: """
            name: workload-test
            topology: telegram-5
            seed: 7
            duration: \(duration)
            payload: sizes
            strategy: \(strategy)
            workload:
            \(workload.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
            \(extra)
            """, source: "test:workload", baseDirectory: nil)
    }

    func generator(_ s: Scenario, seed: UInt64 = 11) -> WorkloadGenerator {
        WorkloadGenerator(config: s.workload, topology: s.topology, rng: SimRandom(root: seed, label: "workload"),
                          syncRNG: SimRandom(root: seed, label: "workload.sync"),
                          historyRNG: SimRandom(root: seed, label: "workload.history"))
    }

    /// z of an observed count against a binomial(n, p) expectation.
    func zBinomial(_ k: Int, n: Int, p: Double) -> Double {
        let sd = (Double(n) * p * (1 - p)).squareRoot()
        return sd == 0 ? (Double(k) == Double(n) * p ? 0 : .infinity) : (Double(k) - Double(n) * p) / sd
    }

    /// z of a Poisson count against its mean.
    func zPoisson(_ k: Int, mean: Double) -> Double { (Double(k) - mean) / mean.squareRoot() }

    func assertZ(_ z: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertLessThanOrEqual(abs(z), Self.zMax, "\(what): z = \(z)", file: file, line: line)
    }

    /// Arrival times over [0, end).
    func arrivals(_ g: inout WorkloadGenerator, until end: SimTime) -> [SimTime] {
        var out: [SimTime] = []
        var t = SimTime.zero
        while let next = g.nextArrival(after: t), next < end { out.append(next); t = next }
        return out
    }

    func testFlatRateIsPoisson() throws {
        let s = try scenario("users: 500\nrate: 40/s")
        var g = generator(s)
        let times = arrivals(&g, until: SimTime.zero + .seconds(3600))
        assertZ(zPoisson(times.count, mean: 40 * 3600), "messages in an hour at 40/s")
        // Inter-arrival times are exponential: their coefficient of variation is 1.
        let gaps = zip(times.dropFirst(), times).map { Double(($0 - $1).nanoseconds) }
        let mean = gaps.reduce(0, +) / Double(gaps.count)
        let sd = (gaps.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(gaps.count - 1)).squareRoot()
        XCTAssertEqual(sd / mean, 1, accuracy: 0.03, "exponential gaps have CV 1")
    }

    func testDailyCurveAndBurstsShapeTheRate() throws {
        // Hours 0-3 of a curve 1, 3, 0.5, 2 (the rest 1), and a 3x burst over minutes 10-20.
        let curve = ([1, 3, 0.5, 2] + Array(repeating: 1.0, count: 20)).map { String($0) }.joined(separator: ", ")
        let s = try scenario("users: 500\nrate: 5/s\ndaily_curve: [\(curve)]\nbursts: [{at: 10m, for: 10m, factor: 3}]",
                             duration: "4h")
        var g = generator(s)
        let times = arrivals(&g, until: SimTime.zero + .seconds(4 * 3600))
        // Expected count over [a, b) is ∫ rate × factor dt (the curve is linear within hours).
        func expected(_ a: Double, _ b: Double) -> Double {
            var sum = 0.0
            let steps = 2000
            for i in 0..<steps {
                let t = a + (b - a) * (Double(i) + 0.5) / Double(steps)
                sum += g.rateFactor(at: SimTime.zero + .nanoseconds(Int64(t * 1e9)))
            }
            return 5 * sum * (b - a) / Double(steps)
        }
        for (a, b) in [(0.0, 600.0), (600, 1200), (1200, 3600), (3600, 7200), (7200, 10800), (10800, 14400)] {
            let k = times.filter { $0.seconds >= a && $0.seconds < b }.count
            assertZ(zPoisson(k, mean: expected(a, b)), "arrivals in [\(a), \(b)) s")
        }
        // Inside the burst: 3 × the curve interpolated a quarter of the way from 1 to 3.
        XCTAssertEqual(g.rateFactor(at: SimTime.zero + .seconds(900)), 3 * 1.5, accuracy: 1e-9)
        XCTAssertEqual(g.rateFactor(at: SimTime.zero + .seconds(1500)), 1 + 2 * 1500 / 3600, accuracy: 1e-9)
    }

    func testMessageMixSizesAndFates() throws {
        let s = try scenario("""
            users: 2000
            mix:
              text: {weight: 0.7, size: {dist: lognormal, median: 100B, sigma: 0.5, min: 1B, max: 1MB}}
              photo: {weight: 0.3, size: {dist: uniform, low: 10KB, high: 30KB}}
              video: {weight: 0}
              document: {weight: 0}
            edits: 10%
            deletes: 5%
            ttl: {share: 2%, after: 1h}
            secret_chats: 0
            """)
        var g = generator(s)
        let n = 40_000
        var cls = [0, 0], edits = 0, deletes = 0, ttls = 0
        var textLogs: [Double] = [], photo: [Double] = []
        for _ in 0..<n {
            let m = g.nextMessage()
            cls[m.messageClass] += 1
            if m.messageClass == 0 { textLogs.append(log(Double(m.sizeBytes))) } else { photo.append(Double(m.sizeBytes)) }
            if m.editAfter != nil { edits += 1 }
            if m.deleteAfter != nil { deletes += 1 }
            if let ttl = m.expireAfter { ttls += 1; XCTAssertEqual(ttl, .seconds(3600)) }
        }
        assertZ(zBinomial(cls[0], n: n, p: 0.7), "text share")
        assertZ(zBinomial(edits, n: n, p: 0.10), "edit share")
        assertZ(zBinomial(deletes, n: n, p: 0.05), "delete share")
        assertZ(zBinomial(ttls, n: n, p: 0.02), "self-destruct share")
        // Log-normal text sizes: mean of log size = log(100) (rounding to whole bytes adds
        // < 0.5 % noise), standard error sigma/sqrt(n).
        let mu = textLogs.reduce(0, +) / Double(textLogs.count)
        assertZ((mu - log(100)) / (0.5 / Double(textLogs.count).squareRoot()), "mean log text size")
        // Uniform photo sizes: mean 20 kB, sd (20 kB)/sqrt(12).
        let pm = photo.reduce(0, +) / Double(photo.count)
        assertZ((pm - 20_000) / (20_000 / 12.0.squareRoot() / Double(photo.count).squareRoot()), "mean photo size")
    }

    func testUsersDevicesAndChats() throws {
        let s = try scenario("""
            users: 20000
            regions: {americas: 0.2, europe: 0.5, asia: 0.3}
            devices: {phone: 0.6, desktop: 0.4}
            devices_per_user: {dist: uniform, low: 0.5, high: 3.5}
            groups: 25%
            group_size: {dist: uniform, low: 3, high: 9}
            chats_per_user: {dist: uniform, low: 4, high: 12}
            secret_chats: 10%
            """)
        let g = generator(s)
        let topo = s.topology
        // Users per region.
        var perRegion = [Int](repeating: 0, count: topo.regions.count)
        for u in g.users { perRegion[topo.datacenters[Int(u.homeDC)].region] += 1 }
        for (name, p) in [("americas", 0.2), ("europe", 0.5), ("asia", 0.3)] {
            let r = try XCTUnwrap(topo.regions.firstIndex(of: name))
            assertZ(zBinomial(perRegion[r], n: g.users.count, p: p), "users in \(name)")
        }
        // Devices: 1, 2 or 3 with equal probability (uniform 0.5-3.5, rounded); kinds 60/40.
        let devices = g.users.reduce(0) { $0 + Int($1.devices) }
        XCTAssertEqual(devices, g.deviceCount)
        assertZ((Double(devices) / Double(g.users.count) - 2) / ((2.0 / 3).squareRoot() / Double(g.users.count).squareRoot()),
                "mean devices per user")
        let phones = g.deviceKind.filter { $0 == 0 }.count
        assertZ(zBinomial(phones, n: devices, p: 0.6), "phone share")
        // Chats: group share, group sizes within bounds, members distinct, secret chats only
        // among one-to-one chats at their share, every user's chat list consistent.
        let groups = g.chats.filter { $0.memberCount > 2 }
        assertZ(zBinomial(groups.count, n: g.chats.count, p: 0.25), "group share")
        XCTAssertTrue(groups.allSatisfy { $0.memberCount >= 3 && $0.memberCount <= 9 && !$0.secret })
        let oneToOne = g.chats.filter { $0.memberCount == 2 }
        assertZ(zBinomial(oneToOne.filter(\.secret).count, n: oneToOne.count, p: 0.1), "secret share of one-to-one chats")
        for c in g.chats.indices.prefix(2000) {
            let m = Array(g.chatMembers(c))
            XCTAssertEqual(Set(m).count, m.count, "chat \(c) has distinct members")
            XCTAssertEqual(g.chats[c].homeDC, g.users[Int(m[0])].homeDC, "a chat lives in its creator's DC")
        }
        // Mean chats per user ≈ the configured mean (8): memberships are drawn in proportion
        // to what users want, so the total matches up to the rounding of the chat count.
        let memberships = g.users.reduce(0) { $0 + Int($1.chatCount) }
        XCTAssertEqual(Double(memberships) / Double(g.users.count), 8, accuracy: 0.25)
        // A user who wants more chats gets more: users wanting the most are in ≥ 1.5× the chats
        // of those wanting the fewest (here checked by chat count quartiles being spread).
        let sorted = g.users.map(\.chatCount).sorted()
        XCTAssertGreaterThan(Double(sorted[sorted.count * 9 / 10]), 1.5 * Double(sorted[sorted.count / 10]))
    }

    func testChatActivityIsZipf() throws {
        let s = try scenario("users: 3000\nchat_zipf: 1.2\nsecret_chats: 0")
        var g = generator(s)
        let n = 60_000
        var perChat = [Int](repeating: 0, count: g.chats.count)
        for _ in 0..<n { perChat[g.nextMessage().chat] += 1 }
        // The rank-r chat gets 1/r^s / H(N, s) of the messages; check ranks 1, 2, 5 and 10
        // against the observed ordering's counts.
        let h = (1...g.chats.count).reduce(0.0) { $0 + 1 / pow(Double($1), 1.2) }
        let observed = perChat.sorted(by: >)
        for r in [1, 2, 5, 10] {
            assertZ(zBinomial(observed[r - 1], n: n, p: 1 / pow(Double(r), 1.2) / h), "messages of the rank-\(r) chat")
        }
    }

    func testHistoryReadRate() throws {
        let s = try scenario("users: 1000\nhistory_reads: 0.01/s")
        var g = generator(s)
        var t = SimTime.zero
        var count = 0
        while let next = g.nextHistoryRead(after: t), next < SimTime.zero + .seconds(3600) { count += 1; t = next }
        assertZ(zPoisson(count, mean: 0.01 * 1000 * 3600), "history reads in an hour")
    }

    // MARK: Through the engine

    func run<S: ReplicationStrategy>(_ type: S.Type, _ s: Scenario) throws -> (Engine<S>, SimulationReport) {
        let (_, config, _) = try StrategyRegistry.resolve(s.strategy)
        let engine = try Engine<S>(scenario: s, config: config)
        engine.finishedOps = []
        let report = engine.run()
        return (engine, report)
    }

    /// Every device of every member but the sending one reads every update of its user's
    /// sequence exactly once — in order from its push, or through a catch-up after a gap —
    /// and pushes arriving out of order (a wide sync delay) really produce gaps.
    func testDeviceSyncReadsEveryUpdateOnceWithGapDetection() throws {
        let s = try scenario("""
            users: 300
            rate: 15/s
            sync_delay: {dist: uniform, low: 0, high: 3s}
            edits: 10%
            deletes: 10%
            mutation_delay: {dist: uniform, low: 1s, high: 30s}
            """, duration: "3m")
        let (e, report) = try run(AsyncPrimaryBackup.self, s)
        var readsBy = [Int: Set<Int>]()   // device → updates (indices in e.updates) it read
        var syncReads: [Engine<AsyncPrimaryBackup>.Operation] = []
        for (op, _) in e.finishedOps! where op.parent >= 0 { syncReads.append(op) }
        e.ops.forEach { if $0.parent >= 0 { syncReads.append($0) } }
        for op in syncReads {
            XCTAssertTrue(readsBy[Int(op.device), default: []].insert(Int(op.parent)).inserted, "a device read one update twice")
            XCTAssertNotEqual(op.device, e.updates[Int(op.parent)].device, "the sending device does not sync its own update")
            XCTAssertEqual(e.deviceOwner[Int(op.device)], op.user)
        }
        // Each device has read exactly the updates of its user up to its position in the
        // sequence, except the ones it sent itself.
        var checked = 0
        for d in 0..<e.devicePts.count {
            let log = e.updateLog[Int(e.deviceOwner[d])]
            XCTAssertLessThanOrEqual(Int(e.devicePts[d]), log.count)
            let expected = Set(log.prefix(Int(e.devicePts[d])).map(Int.init).filter { e.updates[$0].device != Int32(d) })
            XCTAssertEqual(readsBy[d] ?? [], expected, "device \(d)")
            checked += expected.count
        }
        XCTAssertGreaterThan(checked, 5000)
        XCTAssertEqual(report.workload.syncReads, UInt64(syncReads.count))
        XCTAssertGreaterThan(report.workload.syncGaps, 100, "a 0-3 s push delay reorders updates: gaps are detected")
        XCTAssertGreaterThanOrEqual(report.workload.catchUpReads, report.workload.syncGaps)
        // Edits and deletes went through the strategy as versions and tombstones.
        XCTAssertGreaterThan(report.workload.edits, 50)
        XCTAssertGreaterThan(report.workload.deletes, 50)
        let deleted = e.shards.filter(\.ackedDeleted)
        XCTAssertEqual(UInt64(deleted.count), report.consistency.deletes.acknowledged)
        XCTAssertTrue(deleted.allSatisfy { $0.acked.version >= 2 })
        XCTAssertEqual(report.consistency.deletes.resurrected, 0, "async-geo never purges tombstones")
    }

    /// Edits and deletes write new versions to every replica: that first fill of a new version
    /// is replication, not repair — with no fault, nothing is re-replicated.
    func testNewVersionsAreNotReReplication() throws {
        let s = try scenario("""
            users: 200
            rate: 20/s
            edits: 30%
            deletes: 20%
            mutation_delay: {dist: uniform, low: 1s, high: 20s}
            """, duration: "2m")
        let r = try Simulator.run(s)
        XCTAssertGreaterThan(r.workload.edits + r.workload.deletes, 300)
        XCTAssertEqual(r.redundancy.reReplicatedUnits, 0)
        XCTAssertEqual(r.redundancy.lostAcknowledgedWrites, 0)
    }

    /// A delete acknowledged while one quorum replica is down, tombstones purged after a short
    /// gc_grace with no repair meanwhile: when the replica returns with its old copy, the
    /// system has forgotten the delete (Cassandra's zombie) — reported as resurrected. With a
    /// grace period longer than the outage, nothing is.
    func testQuorumTombstoneGCResurrectsDeletes() throws {
        func report(gcGrace: String) throws -> SimulationReport {
            let s = try scenario("""
                users: 200
                rate: 5/s
                deletes: 30%
                mutation_delay: {dist: uniform, low: 1s, high: 20s}
                """, duration: "5m", strategy: "{name: quorum, copies: 3, read_consistency: quorum, write_consistency: quorum, read_repair: off, anti_entropy_interval: off, hinted_handoff: false, gc_grace: \(gcGrace)}",
                extra: """
                faults:
                  - {kind: dc-outage, target: ams1, at: 1m, for: 3m, disks: kept}
                """)
            return try Simulator.run(s)
        }
        let short = try report(gcGrace: "30s")
        let long = try report(gcGrace: "1h")
        XCTAssertGreaterThan(short.consistency.deletes.acknowledged, 50)
        XCTAssertGreaterThan(short.consistency.deletes.resurrected, 0, "short gc_grace forgets deletes a replica missed")
        XCTAssertEqual(long.consistency.deletes.resurrected, 0, "tombstones kept past the outage remember every delete")
    }
}
