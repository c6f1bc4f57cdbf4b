import XCTest
import SimCore
import SimConfig
import Replication
import SimTestSupport
@testable import Simulation

/// Lost acknowledged writes, time to first loss and `stop_at_first_loss` on tiny scenarios
/// whose answers follow by hand; and the incremental tracker against a recount from the
/// stores.
final class DurabilityScenarioTests: XCTestCase {
    /// Six DCs of one node each: an RS(4, 2) stripe puts exactly one fragment in each DC.
    static func sixDCs(strategy: String, faults: String, duration: String = "16s", payload: String = "sizes",
                       extra: String = "") throws -> Scenario {
        try ConfigLoader.loadScenario(yaml: """
            name: six
            topology:
              name: six
              defaults:
                node: {servers: 4, queue_capacity: 1000, disk: 1TiB,
                       service: {read: 1ms, write: 2ms, delete: 1ms, repair: 2ms}}
              datacenters:
                - {id: d1, lat: 52.4, lon: 4.9, region: eu, jurisdiction: nl, nodes: 1}
                - {id: d2, lat: 50.1, lon: 8.7, region: eu, jurisdiction: de, nodes: 1}
                - {id: d3, lat: 48.9, lon: 2.4, region: eu, jurisdiction: fr, nodes: 1}
                - {id: d4, lat: 51.5, lon: -0.1, region: eu, jurisdiction: uk, nodes: 1}
                - {id: d5, lat: 59.3, lon: 18.1, region: eu, jurisdiction: se, nodes: 1}
                - {id: d6, lat: 41.4, lon: 2.2, region: eu, jurisdiction: es, nodes: 1}
            seed: 1
            duration: \(duration)
            payload: \(payload)
            strategy: \(strategy)
            workload: {users: 100, rate: 20/s, edits: 0, deletes: 0, ttl: {share: 0}}
            faults:
            \(faults)
            \(extra)
            """, source: "test:six", baseDirectory: nil)
    }

    static let rs42 = "{name: erasure-coded, k: 4, m: 2, ack_fragments: 6}"

    func acknowledged(_ r: SimulationReport) -> UInt64 { r.redundancy.byDatacenter.reduce(0) { $0 + $1.acknowledged } }

    /// RS(4, 2), acknowledged only with all 6 fragments stored. Three DCs lose their disks at
    /// 10 s: every acknowledged shard keeps 3 < 4 fragments, so every one is lost, and the
    /// first loss is the fault's instant. (The old count — "no intact unit anywhere" — said 0.)
    func testRS42LosingThreeDisksLosesEveryAcknowledgedShardAtTheFaultTime() throws {
        let r = try Simulator.run(Self.sixDCs(strategy: Self.rs42,
            faults: "  - {kind: dc-outage, target: \"d1,d2,d3\", at: 10s, permanent: true, disks: lost}"))
        let acked = acknowledged(r)
        XCTAssertGreaterThan(acked, 100)
        XCTAssertEqual(r.redundancy.lostAcknowledgedWrites, acked)
        XCTAssertEqual(r.redundancy.firstLoss, .seconds(10))
        XCTAssertEqual(r.redundancy.lossEvents, acked, "each shard lost once, none recovered")
        XCTAssertEqual(r.redundancy.byDatacenter.map(\.lost), r.redundancy.byDatacenter.map(\.acknowledged))
        XCTAssertFalse(r.redundancy.stoppedAtFirstLoss)
    }

    /// The same with two disks lost: 4 = k fragments survive everywhere — nothing lost, but
    /// every acknowledged shard is under-replicated (4 < 6) and at margin 0 — with its key
    /// still reachable (any one of three jurisdictions holds it); with keys only in the home
    /// DC, the shards of d1 and d2 become unreadable (margin −1) though no data is lost.
    func testRS42LosingTwoDisksLosesNothing() throws {
        let r = try Simulator.run(Self.sixDCs(strategy: Self.rs42,
            faults: "  - {kind: dc-outage, target: \"d1,d2\", at: 10s, permanent: true, disks: lost}",
            extra: "key_placement: {split: {k: 1, n: 3}}"))
        let keysAtHome = try Simulator.run(Self.sixDCs(strategy: Self.rs42,
            faults: "  - {kind: dc-outage, target: \"d1,d2\", at: 10s, permanent: true, disks: lost}",
            extra: "key_placement: same-dc"))
        XCTAssertEqual(keysAtHome.redundancy.minMargin, -1)
        XCTAssertEqual(keysAtHome.redundancy.lostAcknowledgedWrites, 0)
        let acked = acknowledged(r)
        XCTAssertGreaterThan(acked, 100)
        XCTAssertEqual(r.redundancy.lostAcknowledgedWrites, 0)
        XCTAssertNil(r.redundancy.firstLoss)
        XCTAssertEqual(r.redundancy.underReplicatedAtEnd, acked)
        XCTAssertEqual(r.redundancy.byDatacenter.reduce(0) { $0 + $1.atRisk }, acked)
        // Histogram by live units (distinct fragments): all at 4.
        XCTAssertEqual(r.redundancy.copiesHistogram[4], acked)
        XCTAssertEqual(r.redundancy.minMargin, 0)
    }

    /// Three DCs down, but one keeps its disks: 3 fragments live (unreadable now), 4 on disks
    /// that exist — recoverable, so not lost.
    func testDownNodesWithDisksKeptStillCountForDurability() throws {
        let r = try Simulator.run(Self.sixDCs(strategy: Self.rs42, faults: """
              - {kind: dc-outage, target: "d1,d2", at: 10s, permanent: true, disks: lost}
              - {kind: dc-outage, target: d3, at: 10s, permanent: true, disks: kept}
            """))
        let acked = acknowledged(r)
        XCTAssertGreaterThan(acked, 100)
        XCTAssertEqual(r.redundancy.lostAcknowledgedWrites, 0)
        XCTAssertNil(r.redundancy.firstLoss)
        XCTAssertEqual(r.redundancy.underReplicatedAtEnd, acked)
        XCTAssertEqual(r.redundancy.copiesHistogram[3], acked)
        XCTAssertEqual(r.redundancy.minMargin, -1, "unreadable while d3 is down")
    }

    /// single-dc keeps one copy in the home DC: ams1 dark with its disks lost at 20 s loses
    /// exactly the acknowledged shards homed there, first at 20 s.
    func testSingleDCOutageWithDisksLostFirstLossIsTheFaultTime() throws {
        let r = try Simulator.run(TestScenarios.small(seed: 5, duration: "30s", strategy: "single-dc", extra: """
            faults:
              - {kind: dc-outage, target: ams1, at: 20s, permanent: true, disks: lost}
            """))
        XCTAssertEqual(r.redundancy.firstLoss, .seconds(20))
        let ams = try XCTUnwrap(r.redundancy.byDatacenter.first { $0.datacenter == "ams1" })
        XCTAssertGreaterThan(ams.acknowledged, 20)
        XCTAssertEqual(ams.lost, ams.acknowledged)
        XCTAssertEqual(r.redundancy.lostAcknowledgedWrites, ams.lost, "other DCs lose nothing")
        XCTAssertGreaterThanOrEqual(r.redundancy.lossEvents, ams.lost)
    }

    /// `stop_at_first_loss: true` ends the run at that instant, and the report says so.
    func testStopAtFirstLossEndsTheRunThere() throws {
        let r = try Simulator.run(TestScenarios.small(seed: 5, duration: "60s", strategy: "single-dc", extra: """
            stop_at_first_loss: true
            faults:
              - {kind: dc-outage, target: ams1, at: 20s, permanent: true, disks: lost}
            """))
        XCTAssertEqual(r.redundancy.firstLoss, .seconds(20))
        XCTAssertTrue(r.redundancy.stoppedAtFirstLoss)
        XCTAssertEqual(r.kernel.simulatedSeconds, 20)
        XCTAssertLessThanOrEqual(r.timeline.last?.time ?? .zero, .seconds(20))
        // Without a loss the option changes nothing.
        let calm = try Simulator.run(TestScenarios.small(seed: 5, duration: "10s", strategy: "single-dc",
                                                        extra: "stop_at_first_loss: true"))
        XCTAssertNil(calm.redundancy.firstLoss)
        XCTAssertFalse(calm.redundancy.stoppedAtFirstLoss)
        XCTAssertEqual(calm.kernel.simulatedSeconds, 10)
    }

    func testStopAtFirstLossAndQuietPeriodAreValidated() {
        XCTAssertThrowsError(try TestScenarios.small(extra: "stop_at_first_loss: maybe")) { e in
            XCTAssertTrue("\(e)".contains("stop_at_first_loss"), "\(e)")
        }
        XCTAssertThrowsError(try TestScenarios.small(extra: "quiet_period: -5s")) { e in
            XCTAssertTrue("\(e)".contains("quiet_period"), "\(e)")
        }
        XCTAssertThrowsError(try TestScenarios.small(extra: "stop_at_first_los: true")) { e in
            XCTAssertTrue("\(e)".contains("did you mean 'stop_at_first_loss'"), "\(e)")
        }
    }

    // MARK: Tracker against a recount

    /// Runs `scenario` and checks that the incremental tracker's live and durable counts of
    /// every shard equal a recount from the stores, and its losses equal the census's.
    func checkTrackerAgreesWithCensus<S: ReplicationStrategy>(_ type: S.Type, _ scenario: Scenario,
                                                              file: StaticString = #filePath, line: UInt = #line) throws {
        let (_, config, _) = try StrategyRegistry.resolve(scenario.strategy)
        let engine = try Engine<S>(scenario: scenario, config: config)
        let report = engine.run()
        let census = RedundancyCensus(engine: engine)
        let t = engine.redundancy
        var liveMismatch = 0, durableMismatch = 0
        for i in engine.shards.indices {
            if t.live.count(i) != census.live.count(i) { liveMismatch += 1 }
            if t.durable.count(i) != census.durable.count(i) { durableMismatch += 1 }
        }
        let name = scenario.strategy.name
        XCTAssertEqual(liveMismatch, 0, "\(name): live units", file: file, line: line)
        XCTAssertEqual(durableMismatch, 0, "\(name): durable units", file: file, line: line)
        XCTAssertEqual(UInt64(t.lostNow), report.redundancy.lostAcknowledgedWrites, "\(name): lost", file: file, line: line)
        XCTAssertEqual(t.firstLoss != nil, t.lossEvents > 0, name, file: file, line: line)
    }

    func testTrackerAgreesWithARecountUnderCrashesDiskLossAndRot() throws {
        let faults = """
            fault_budget: unlimited
            faults:
              - {kind: dc-outage, target: ams1, at: 6s, for: 4s, disks: lost}
              - {kind: node-crash, target: "node:mia1-1", at: 8s, for: 3s, lose_unflushed: 1s}
              - {kind: dc-outage, target: sin, at: 12s, permanent: true, disks: kept}
              - {kind: bit-rot, target: ams2, at: 9s, permanent: true, fraction: 0.3}
            """
        func scenario(_ strategy: String) throws -> Scenario {
            try TestScenarios.small(seed: 11, duration: "16s", strategy: strategy, extra: faults)
        }
        try checkTrackerAgreesWithCensus(AsyncPrimaryBackup.self, scenario("async-geo"))
        try checkTrackerAgreesWithCensus(Quorum.self, scenario("quorum-3dc"))
        try checkTrackerAgreesWithCensus(ErasureCoded.self, scenario("rs-6-3"))
        try checkTrackerAgreesWithCensus(Hybrid.self, scenario("{name: hybrid, transcode_after: 2s}"))
    }

    // MARK: Hybrid fragments in full payload mode

    /// Hybrid fragments are written before the key's placement becomes the stripe's: the data
    /// path must still encode real RS(k, m) fragments for them (stripe width, not the replica
    /// count), so every fragment read is verified.
    func testHybridFragmentsAreRealInFullPayloadMode() throws {
        let s = try TestScenarios.small(seed: 3, duration: "14s", strategy: "{name: hybrid, transcode_after: 3s}", payload: "full")
        let (_, config, _) = try StrategyRegistry.resolve(s.strategy)
        let engine = try Engine<Hybrid>(scenario: s, config: config)
        let r = engine.run()
        XCTAssertGreaterThan(engine.strategy.transcoded, 50)
        XCTAssertGreaterThan(engine.dataPath.stats.fragmentSetsEncoded, 50)
        // Read back every stored fragment through the data path: each verifies against real bytes.
        var checked = 0
        for node in engine.stores.indices {
            for (key, copy) in engine.stores[node].copies.sorted(by: { $0.key < $1.key }) where copy.fragment >= 0 && !copy.tombstone {
                XCTAssertTrue(engine.dataPath.readIntact(key: key, node: node, copy: copy), "shard \(key.raw) on node \(node)")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 300)
        XCTAssertEqual(engine.dataPath.stats.fragmentsUnverified, 0)
        XCTAssertEqual(r.redundancy.corruptionDetected, 0)
        XCTAssertEqual(r.redundancy.lostAcknowledgedWrites, 0)
    }
}
