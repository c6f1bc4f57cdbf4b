import XCTest
import Reports
import Replication
import ShardPipeline
import SimConfig
import SimTestSupport
@testable import Simulation

/// `--payload full` (real LZ4 + AES-256-GCM bytes, opened on every read) and `--payload sizes`
/// (digests only) must give the same simulated metrics for the same seed.
final class FullVersusSizesTests: XCTestCase {
    /// A light scenario with small payloads (debug builds synthesise and compare every payload
    /// byte), a split key, reads by every device, and bit rot on half the copies mid-run. Both
    /// modes load the same file (same content hash) and override the payload as `--payload` does.
    static func scenario(seed: UInt64, payload: PayloadMode) throws -> Scenario {
        try ConfigLoader.loadScenario(yaml: """
            name: payload-modes
            topology: telegram-5
            seed: \(seed)
            duration: 40s
            warmup: 5s
            strategy: async-geo
            key_placement: {split: {k: 2, n: 3}}
            workload:
              users: 150
              rate: 15/s
              mix:
                text:     {weight: 0.7, size: {dist: lognormal, median: 120B, sigma: 0.9, min: 1B, max: 4KiB}, compressible: true}
                photo:    {weight: 0.2, size: {dist: lognormal, median: 8KB, sigma: 0.5, min: 1KB, max: 64KB}}
                video:    {weight: 0.05, size: {dist: uniform, low: 10KB, high: 100KB}}
                document: {weight: 0.05, size: {dist: lognormal, median: 4KB, sigma: 1.0, min: 0B, max: 128KB}}
            faults:
              - {kind: bit-rot, target: "*", at: 15s, permanent: true, fraction: 0.5}
            """, source: "test:payload-modes", baseDirectory: nil).overriding(payload: payload)
    }

    /// Runs a scenario on the async-geo engine, keeping the engine for its data-path figures.
    func run(_ scenario: Scenario) throws -> (json: String, stats: DataPath.Stats, report: SimulationReport) {
        let (_, config, _) = try StrategyRegistry.resolve(scenario.strategy)
        let engine = try Engine<AsyncPrimaryBackup>(scenario: scenario, config: config)
        let report = engine.run()
        return (JSONReport.render(report, version: "test"), engine.dataPath.stats, report)
    }

    /// The JSON with its one legitimately different field normalised.
    func normalised(_ json: String, mode: String) -> String {
        let field = "\"payload\": \"\(mode)\""
        XCTAssertEqual(json.components(separatedBy: field).count, 2, "the report names its payload mode once")
        return json.replacingOccurrences(of: field, with: "\"payload\": \"*\"")
    }

    func testFullAndSizesPayloadsGiveIdenticalReports() throws {
        for seed: UInt64 in [3, 11] {
            let full = try run(Self.scenario(seed: seed, payload: .full))
            let sizes = try run(Self.scenario(seed: seed, payload: .sizes))
            XCTAssertEqual(normalised(full.json, mode: "full"), normalised(sizes.json, mode: "sizes"), "seed \(seed)")

            // The run really exercised the data path: real shards were sealed and opened, and
            // rotted copies were caught by their bytes (full) as by their flags (sizes).
            XCTAssertGreaterThan(full.stats.sealed, 300, "seed \(seed)")
            XCTAssertGreaterThan(full.stats.sealedRealBytes, 0, "seed \(seed)")
            XCTAssertEqual(sizes.stats.sealedRealBytes, 0, "sizes mode holds no bytes (seed \(seed))")
            // Every read of a whole copy either opened real bytes or reused the verdict of the
            // very same shared buffer opened intact before (a cache of work, not skipped work):
            // reads outnumber versions sealed, and both paths were taken.
            XCTAssertGreaterThan(full.stats.opened + full.stats.openedBefore, full.stats.sealed,
                                 "every device read opens a copy or reuses its verified buffer (seed \(seed))")
            XCTAssertGreaterThan(full.stats.opened, 0, "seed \(seed)")
            XCTAssertGreaterThan(full.stats.openedBefore, 0, "seed \(seed)")
            XCTAssertGreaterThan(full.stats.damageDetected, 0, "seed \(seed)")
            XCTAssertEqual(full.stats.damageDetected, sizes.stats.damageDetected, "seed \(seed)")
            XCTAssertEqual(UInt64(full.stats.damageDetected), full.report.redundancy.corruptionDetected, "seed \(seed)")
        }
    }

    /// Reads of versions whose buffers were evicted re-seal them: results do not depend on the
    /// buffer budget (only wall time does).
    func testBufferBudgetDoesNotChangeResults() throws {
        let scenario = try Self.scenario(seed: 5, payload: .full)
        let (_, config, _) = try StrategyRegistry.resolve(scenario.strategy)
        let roomy = try Engine<AsyncPrimaryBackup>(scenario: scenario, config: config)
        let tight = try Engine<AsyncPrimaryBackup>(scenario: scenario, config: config)
        tight.dataPath = try DataPath(scenario: scenario, bufferBudgetBytes: 64 << 10)
        let a = JSONReport.render(roomy.run(), version: "test")
        let b = JSONReport.render(tight.run(), version: "test")
        XCTAssertEqual(a, b)
        XCTAssertEqual(roomy.dataPath.stats.resealed, 0)
        XCTAssertGreaterThan(tight.dataPath.stats.evictions, 0)
        XCTAssertGreaterThan(tight.dataPath.stats.resealed, 0, "reads of evicted versions re-seal them")
    }
}
