import XCTest
import SimCore
import SimConfig
import Replication
import SimTestSupport
@testable import Simulation

/// Issue 4: with faults beyond a strategy's tolerance, loss and unavailability are reported,
/// never silent wrong data — no read returns a version that was never written (or one newer
/// than any write), and reads of a shard whose data is gone return "not found", a failure,
/// or an older version that the report counts as stale — never the lost version.
final class StrategyPropertyBeyondToleranceTests: XCTestCase {
    static let heavy = [
        ("unlimited chaos", "fault_budget: unlimited\nchaos: {dc_mttf: {dist: exponential, mean: 10s}, dc_mttr: {dist: exponential, mean: 4s}, node_mttf: {dist: exponential, mean: 15s}, node_mttr: {dist: exponential, mean: 3s}, disk_loss: 0.5}"),
        ("unlimited swarm", "fault_budget: unlimited\nswarm: {faults: 8, mean_length: 5s}"),
    ]

    func testNoPresetReturnsDataFromNowhereUnderHeavyFaults() throws {
        for preset in StrategyRegistry.presets.map(\.name) {
            for seed in PropertyRuns.seeds(1) {
                for (mode, faults) in Self.heavy {
                    let r = try PropertyRuns.run(seed: seed, strategy: preset, duration: "20s", extra: faults)
                    assertNoReadFromNowhere(r, "\(preset) seed \(seed) \(mode)")
                }
            }
        }
    }

    /// Runs a scenario on the engine of a concrete strategy type and returns the keys whose
    /// newest acknowledged version has no intact copy left anywhere (the report's lost
    /// acknowledged writes), with that version.
    func lostKeys<S: ReplicationStrategy>(_ type: S.Type, _ scenario: Scenario) throws -> (SimulationReport, [UInt64: UInt32]) {
        let (_, config, _) = try StrategyRegistry.resolve(scenario.strategy)
        let engine = try Engine<S>(scenario: scenario, config: config)
        let report = engine.run()
        // Readable: a whole intact copy of the acknowledged version or newer, or k distinct
        // intact fragments of one such version.
        var whole = Set<UInt64>()
        var fragments: [UInt64: [Stamp: Set<Int16>]] = [:]
        for store in engine.stores {
            for (key, copy) in store.copies where !copy.corrupt && copy.stamp >= engine.shards[Int(key.raw)].acked {
                if copy.fragment < 0 { whole.insert(key.raw) } else { fragments[key.raw, default: [:]][copy.stamp, default: []].insert(copy.fragment) }
            }
        }
        // A message whose acknowledged delete is gone with every copy has lost no data (its
        // newest acknowledged version is the delete): not a lost write.
        var deleted = Set<UInt64>()
        for h in report.history?.histories() ?? [] where h.operations.contains(where: { $0.kind == .delete && $0.outcome == .ok }) {
            if let key = UInt64(h.key) { deleted.insert(key) }
        }
        let k = engine.strategy.fragmentsNeededToRead
        var lost: [UInt64: UInt32] = [:]
        for (i, shard) in engine.shards.enumerated() where shard.acked > .none && !whole.contains(UInt64(i)) && !deleted.contains(UInt64(i)) {
            if fragments[UInt64(i)]?.values.contains(where: { $0.count >= k }) == true { continue }
            lost[UInt64(i)] = shard.acked.version
        }
        return (report, lost)
    }

    /// Amsterdam and Miami-1 lose their disks for good at 8 s (two of five DCs: beyond the
    /// tolerance of every replicated preset here). The loss is reported, and no read that
    /// began after it returns a lost version.
    func testReadsOfLostShardsNeverReturnTheLostVersion() throws {
        let outage = """
            faults:
              - {kind: dc-outage, target: ams1, at: 8s, permanent: true, disks: lost}
              - {kind: dc-outage, target: mia1, at: 8s, permanent: true, disks: lost}
            """
        let lossAt = Int64(8_000_000_000)
        func check<S: ReplicationStrategy>(_ type: S.Type, _ strategy: String, expectLoss: Bool) throws {
            for seed in PropertyRuns.seeds(2) {
                let s = try PropertyRuns.scenario(seed: seed, strategy: strategy, duration: "16s", extra: outage)
                let (r, lost) = try lostKeys(type, s)
                let label = "\(strategy) seed \(seed)"
                XCTAssertEqual(UInt64(lost.count), r.redundancy.lostAcknowledgedWrites, "\(label): the report counts what is gone")
                if expectLoss { XCTAssertGreaterThan(lost.count, 0, "\(label): the scenario should lose data") }
                assertNoReadFromNowhere(r, label)
                for h in r.history?.histories() ?? [] {
                    guard let key = UInt64(h.key), let gone = lost[key] else { continue }
                    for op in h.operations where op.kind == .read && op.outcome == .ok && op.invokeTime > lossAt {
                        if let v = op.value {
                            XCTAssertLessThan(v, UInt64(gone), "\(label): key \(key) read v\(v) after its acknowledged v\(gone) was lost")
                        }
                    }
                }
            }
        }
        try check(AsyncPrimaryBackup.self, "{name: async-geo, batch_interval: 5s}", expectLoss: true)
        try check(AsyncPrimaryBackup.self, "single-dc", expectLoss: true)
        try check(Quorum.self, "{name: quorum, copies: 2, read_consistency: one, write_consistency: one}", expectLoss: true)
        try check(Raft.self, "raft-3", expectLoss: false)
        try check(SyncPrimaryBackup.self, "sync-2dc", expectLoss: false)
        try check(ErasureCoded.self, "rs-6-3", expectLoss: false)
        try check(Hybrid.self, "hybrid", expectLoss: false)
    }
}
