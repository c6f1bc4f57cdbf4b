import XCTest
import SimCore
import SimConfig
import Reports
@testable import Simulation
import SimTestSupport

/// One scenario per fault kind, each showing the fault's effect in the report.
final class FaultScenarioTests: XCTestCase {
    func run(_ faults: String, strategy: String = "async-geo", seed: UInt64 = 3, duration: String = "60s",
             extra: String = "") throws -> SimulationReport {
        try Simulator.run(TestScenarios.small(seed: seed, duration: duration, strategy: strategy,
                                              extra: "faults:\n\(faults)\n\(extra)"))
    }

    func link(_ r: SimulationReport, _ from: String, _ to: String) -> LinkFigures? {
        r.network.links.first { $0.from == from && $0.to == to }
    }

    func testDCOutageTakesItsNodesDownAndIsInTheTimeline() throws {
        let r = try run("  - {kind: dc-outage, target: ams1, at: 20s, for: 20s}")
        XCTAssertEqual(r.faults.count, 1)
        XCTAssertEqual(r.faults[0].kind, "dc-outage")
        XCTAssertEqual(r.faults[0].start, .seconds(20))
        XCTAssertEqual(r.faults[0].end, .seconds(40))
        let all = r.scenario.nodeCount
        let during = r.timeline.filter { $0.time > .seconds(21) && $0.time < .seconds(39) }
        XCTAssertFalse(during.isEmpty)
        XCTAssertTrue(during.allSatisfy { $0.nodesUp == all - 8 }, "ams1's 8 nodes down")
        XCTAssertEqual(r.timeline.last?.nodesUp, all)
        XCTAssertLessThan(r.availability.timeWeightedWrite, 1)
        XCTAssertEqual(r.redundancy.lostAcknowledgedWrites, 0, "disks kept: nothing lost")
        XCTAssertTrue(r.phases.contains { $0.name.hasSuffix("during") })
    }

    func testDCOutageWithDisksLostLosesUnshippedAcknowledgedWritesOfAsyncReplication() throws {
        let r = try run("  - {kind: dc-outage, target: ams1, at: 30s, permanent: true, disks: lost}",
                        strategy: "{name: async-geo, batch_interval: 5s}")
        XCTAssertEqual(r.redundancy.disksLost, 8)
        XCTAssertGreaterThan(r.redundancy.lostAcknowledgedWrites, 0, "writes acked by ams1 and not yet shipped")
    }

    func testOneWayPartitionBlocksOnlyOneDirection() throws {
        let r = try run("  - {kind: one-way-partition, target: \"ams1->mia1\", at: 10s, for: 30s}")
        XCTAssertGreaterThan(link(r, "ams1", "mia1")?.blocked ?? 0, 0)
        XCTAssertEqual(link(r, "mia1", "ams1")?.blocked ?? 0, 0)
    }

    func testSymmetricPartitionOfASetIsolatesIt() throws {
        let r = try run("  - {kind: partition, target: sin, at: 10s, for: 30s}")
        XCTAssertGreaterThan(r.network.links.filter { $0.from == "sin" || $0.to == "sin" }.reduce(0) { $0 + $1.blocked }, 0)
        XCTAssertEqual(r.network.links.filter { $0.from != "sin" && $0.to != "sin" }.reduce(0) { $0 + $1.blocked }, 0)
    }

    func testLatencyFaultRaisesLatencyOnlyWhileActive() throws {
        let base = try run("  - {kind: latency, target: \"*<->*\", at: 59s, for: 1s, extra: 1ms}")
        let slow = try run("  - {kind: latency, target: \"*<->*\", at: 10s, for: 40s, extra: 300ms}")
        // Writes are acknowledged by the home DC (no WAN hop); reads from DCs without a
        // replica cross the WAN, so their tail grows by about the extra delay (both ways).
        let r0 = base.operations.first { $0.kind == "read" }!.latency.p99
        let r1 = slow.operations.first { $0.kind == "read" }!.latency.p99
        XCTAssertGreaterThan(r1, r0 + 300)
        let w0 = base.operations.first { $0.kind == "write" }!.latency.p50
        let w1 = slow.operations.first { $0.kind == "write" }!.latency.p50
        XCTAssertEqual(w1, w0, accuracy: w0 * 0.2, "home-DC acknowledgements do not cross the WAN")
    }

    func testLossAndDuplicationAreCountedOnTheirLinks() throws {
        let r = try run("""
              - {kind: loss, target: "ams1<->mia1", at: 5s, for: 50s, rate: 0.3}
            """)
        XCTAssertGreaterThan((link(r, "ams1", "mia1")?.lost ?? 0) + (link(r, "mia1", "ams1")?.lost ?? 0), 0)
    }

    func testSlowDiskRaisesThatNodesResponseTime() throws {
        let base = try run("  - {kind: slow-disk, target: \"node:ams1-1\", at: 59s, for: 1s, factor: 1}")
        let slow = try run("  - {kind: slow-disk, target: \"node:ams1-1\", at: 5s, for: 55s, factor: 50}")
        let n0 = base.nodes.first { $0.name == "ams1-1" }!, n1 = slow.nodes.first { $0.name == "ams1-1" }!
        XCTAssertGreaterThan(n1.response.p50, n0.response.p50 * 10)
    }

    func testFailingAndFullDisksProduceIOErrors() throws {
        let failing = try run("  - {kind: failing-disk, target: ams1, at: 10s, for: 20s}")
        XCTAssertGreaterThan(failing.redundancy.diskErrors, 0)
        let full = try run("  - {kind: disk-full, target: ams1, at: 10s, for: 20s}")
        XCTAssertGreaterThan(full.redundancy.diskErrors, 0)
    }

    func testBitRotIsDetectedOnReadAndNeverReturned() throws {
        let r = try run("  - {kind: bit-rot, target: \"*\", at: 30s, permanent: true, fraction: 0.5}")
        XCTAssertGreaterThan(r.redundancy.copiesRotted, 0)
        XCTAssertGreaterThan(r.redundancy.corruptionDetected, 0)
        XCTAssertLessThan(r.redundancy.minMargin ?? 99, 2, "rotted copies lower the margin")
    }

    func testNodeCrashLosingUnflushedWritesCountsThem() throws {
        let r = try run("  - {kind: dc-outage, target: ams1, at: 30s, for: 10s, lose_unflushed: 2s}")
        XCTAssertGreaterThan(r.redundancy.unflushedWritesLost, 0)
    }

    func testKeyHolderOutageMakesShardsUnreadableWhileDataIsUp() throws {
        let r = try run("  - {kind: key-holder-outage, target: \"*\", at: 20s, for: 20s}")
        XCTAssertGreaterThan(r.redundancy.keyUnavailable, 0)
        XCTAssertLessThan(r.availability.timeWeightedRead, 1)
    }

    /// A shard is readable only with its key: while the key holders are out (every copy still
    /// live) the lowest margin reached is −1, and every timeline sample inside the outage shows
    /// it; without the outage no copy is ever lost, so no margin was recorded below 0.
    func testKeysOutOfReachMakeMarginsMinusOneWhileCopiesStayLive() throws {
        let r = try run("  - {kind: key-holder-outage, target: \"*\", at: 20s, for: 20s}")
        XCTAssertEqual(r.redundancy.minMargin, -1)
        for sample in r.timeline where sample.time.seconds > 21 && sample.time.seconds < 40 {
            XCTAssertEqual(sample.minMargin, -1, "t = \(sample.time)")
        }
        XCTAssertEqual(r.redundancy.lostAcknowledgedWrites, 0, "an unreachable key loses nothing")
        let calm = try run("  - {kind: latency, target: ams1, at: 20s, for: 20s, extra: 1ms}")
        XCTAssertNotEqual(calm.redundancy.minMargin, -1)
    }

    /// Keys in another jurisdiction: seizing a jurisdiction that holds the data of a
    /// single-DC strategy exposes nothing; keys in the same DC expose everything seized.
    func testSeizureExposesOnlyWhenDataAndKeysAreBothSeized() throws {
        let apart = try run("  - {kind: seizure, target: \"jurisdiction:nl\", at: 50s, permanent: true}",
                            strategy: "single-dc", extra: "key_placement: other-jurisdiction")
        let s = try XCTUnwrap(apart.security.seizures.first)
        XCTAssertGreaterThan(s.storedInSeized, 0)
        XCTAssertEqual(s.exposed, 0)
        XCTAssertEqual(s.secretChatExposed, 0)
        let together = try run("  - {kind: seizure, target: \"jurisdiction:nl\", at: 50s, permanent: true}",
                               strategy: "single-dc", extra: "key_placement: same-dc")
        let t = try XCTUnwrap(together.security.seizures.first)
        XCTAssertEqual(t.exposed, t.storedInSeized)
        XCTAssertGreaterThan(t.exposed, 0)
    }

    func testFaultParametersAreValidatedWithLocations() throws {
        XCTAssertThrowsError(try run("  - {kind: dc-outage, target: ams1, at: 5s, for: 5s, diskz: lost}")) { e in
            XCTAssertTrue("\(e)".contains("did you mean 'disks'"), "\(e)")
            XCTAssertTrue("\(e)".contains("test:small:"), "\(e)")
        }
        XCTAssertThrowsError(try run("  - {kind: latency, target: ams1, at: 5s, for: 5s}")) { e in
            XCTAssertTrue("\(e)".contains("extra"), "\(e)")
        }
    }

    func testRunsWithFaultsAreDeterministic() throws {
        let faults = """
              - {kind: dc-outage, target: ams1, at: 20s, for: 10s}
              - {kind: loss, target: "mia1<->sin", at: 5s, for: 30s, rate: 0.05}
            """
        let a = JSONReport.render(try run(faults), version: "test")
        let b = JSONReport.render(try run(faults), version: "test")
        XCTAssertEqual(a, b)
    }

    // MARK: Random modes

    func testSwarmDrawsAReproducibleTimelinePerSeed() throws {
        let swarm = "fault_budget: unlimited\nswarm: {faults: 6}"
        let a = try Simulator.run(TestScenarios.small(seed: 5, duration: "30s", extra: swarm))
        let b = try Simulator.run(TestScenarios.small(seed: 5, duration: "30s", extra: swarm))
        let c = try Simulator.run(TestScenarios.small(seed: 6, duration: "30s", extra: swarm))
        XCTAssertFalse(a.faults.isEmpty)
        XCTAssertTrue(a.faults.allSatisfy { $0.origin == "swarm" })
        XCTAssertEqual(a.faults.map { "\($0.kind) \($0.target) \($0.start)" }, b.faults.map { "\($0.kind) \($0.target) \($0.start)" })
        XCTAssertNotEqual(a.faults.map { "\($0.kind) \($0.target) \($0.start)" }, c.faults.map { "\($0.kind) \($0.target) \($0.start)" })
    }

    /// Time-weighted availability under independent DC outages matches the binomial formula:
    /// a DC is down a share q = MTTR / (MTTF + MTTR) of the time; one copy is readable with
    /// probability 1 − q, three copies in three DCs with 1 − q³ (keys split 1-of-3 so the key
    /// is reachable whenever any of the three DCs is up).
    func testChaosAvailabilityMatchesTheBinomialFormula() throws {
        func scenario(_ strategy: String) throws -> Scenario {
            try ConfigLoader.loadScenario(yaml: """
                name: chaos
                topology:
                  name: three
                  datacenters:
                    - {id: a, city: Ashburn, lat: 39.04, lon: -77.49, region: us, jurisdiction: us, nodes: 1}
                    - {id: b, city: Dublin, lat: 53.35, lon: -6.26, region: eu, jurisdiction: ie, nodes: 1}
                    - {id: c, city: Singapore, lat: 1.35, lon: 103.82, region: asia, jurisdiction: sg, nodes: 1}
                seed: 9
                duration: 2920d
                strategy: \(strategy)
                key_placement: {split: {k: 1, n: 3}}
                workload: {rate: 0/s}
                chaos: {dc_mttf: {dist: exponential, mean: 9h}, dc_mttr: {dist: exponential, mean: 1h}}
                fault_budget: unlimited
                """, source: "test:chaos", baseDirectory: nil)
        }
        let one = try Simulator.run(try scenario("{name: async-primary-backup, copies: 1}"))
        let q = 0.1
        XCTAssertEqual(one.availability.timeWeightedRead, 1 - q, accuracy: 0.01)
        let three = try Simulator.run(try scenario("{name: async-primary-backup, copies: 3}"))
        let unavailable = 1 - three.availability.timeWeightedRead
        XCTAssertGreaterThan(unavailable, q * q * q / 2.5)
        XCTAssertLessThan(unavailable, q * q * q * 2.5)
    }

    func testChaosBudgetKeepsFailuresWithinTheStrategysTolerance() throws {
        let s = try ConfigLoader.loadScenario(yaml: """
            name: chaos
            topology: telegram-5
            seed: 2
            duration: 1825d
            strategy: async-geo
            workload: {rate: 0/s}
            chaos: {dc_mttf: 2d, dc_mttr: 12h, disk_loss: 0.5}
            """, source: "test:chaos", baseDirectory: nil)
        let r = try Simulator.run(s)
        XCTAssertFalse(r.faults.isEmpty)
        XCTAssertTrue(r.faults.allSatisfy { $0.detail == "disks kept" }, "async replication does not tolerate disk loss")
        // At most copies − 1 = 2 DCs down at once.
        var events: [(SimDuration, Int)] = []
        for f in r.faults { events.append((f.start, 1)); if let e = f.end { events.append((e, -1)) } }
        events.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        var down = 0, peak = 0
        for e in events { down += e.1; peak = max(peak, down) }
        XCTAssertLessThanOrEqual(peak, 2)
    }
}
