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
            // Every version was opened right after it was sealed (write-path verification), and
            // every damaged copy read was opened from its own bytes; intact reads reuse the
            // verdict of the very same shared bytes (a cache of work, not skipped work).
            XCTAssertEqual(full.stats.opened, full.stats.sealed + full.stats.damageDetected, "seed \(seed)")
            XCTAssertGreaterThan(full.stats.openedBefore, 0, "seed \(seed)")
            XCTAssertGreaterThan(full.stats.damageDetected, 0, "seed \(seed)")
            XCTAssertEqual(full.stats.damageDetected, sizes.stats.damageDetected, "seed \(seed)")
            XCTAssertEqual(UInt64(full.stats.damageDetected), full.report.redundancy.corruptionDetected, "seed \(seed)")
        }
    }

    /// Fragment sets evicted by a tight budget are re-encoded from a re-seal when a read or a
    /// store needs them again: results do not depend on the buffer budget (only wall time does).
    func testBufferBudgetDoesNotChangeResults() throws {
        var scenario = try Self.scenario(seed: 5, payload: .full)
        scenario.strategy = StrategyConfig(name: "rs-4-2")
        let (_, config, _) = try StrategyRegistry.resolve(scenario.strategy)
        let roomy = try Engine<ErasureCoded>(scenario: scenario, config: config)
        let tight = try Engine<ErasureCoded>(scenario: scenario, config: config)
        tight.dataPath = try DataPath(scenario: scenario, bufferBudgetBytes: 64 << 10)
        let a = JSONReport.render(roomy.run(), version: "test")
        let b = JSONReport.render(tight.run(), version: "test")
        XCTAssertEqual(a, b)
        XCTAssertEqual(roomy.dataPath.stats.resealed, 0, "every fragment set was encoded from the bytes sealed on write")
        XCTAssertGreaterThan(roomy.dataPath.stats.fragmentsChecked, 1000)
        XCTAssertEqual(roomy.dataPath.stats.fragmentsUnverified, 0)
        XCTAssertGreaterThan(tight.dataPath.stats.evictions, 0)
        XCTAssertGreaterThan(tight.dataPath.stats.resealed, 0, "reads of evicted fragment sets re-seal and re-encode them")
    }

    static func run<S: ReplicationStrategy>(_ type: S.Type, _ scenario: Scenario, threads: Int) throws -> (String, DataPath.Stats) {
        let (_, config, _) = try StrategyRegistry.resolve(scenario.strategy)
        let engine = try Engine<S>(scenario: scenario, config: config)
        if threads > 0 { engine.dataPath.runBytesInBackground(threads: threads) }
        let report = engine.run()
        return (JSONReport.render(report, version: "test"), engine.dataPath.stats)
    }

    /// The byte work on background threads gives the same report, and — one FIFO per thread,
    /// each owning a fixed set of shards — the same verdicts: with one thread, every figure of
    /// the inline run; with two, every figure that does not depend on how the fragment budget
    /// is split.
    func testBackgroundByteWorkChangesNothing() throws {
        for strategy in ["async-geo", "rs-4-2"] {
            var scenario = try Self.scenario(seed: 7, payload: .full)
            scenario.strategy = StrategyConfig(name: strategy)
            func run(threads: Int) throws -> (String, DataPath.Stats) {
                strategy == "rs-4-2" ? try Self.run(ErasureCoded.self, scenario, threads: threads)
                    : try Self.run(AsyncPrimaryBackup.self, scenario, threads: threads)
            }
            let (inline, inlineStats) = try run(threads: 0)
            let (one, oneStats) = try run(threads: 1)
            let (two, twoStats) = try run(threads: 2)
            XCTAssertEqual(inline, one, strategy)
            XCTAssertEqual(inline, two, strategy)
            XCTAssertEqual(inlineStats, oneStats, strategy)
            XCTAssertGreaterThan(inlineStats.damageDetected, 0, strategy)
            for field in [\DataPath.Stats.sealed, \.sealedRealBytes, \.opened, \.openedBefore, \.fragmentsChecked,
                          \.damageDetected, \.fragmentsUnverified] {
                XCTAssertEqual(inlineStats[keyPath: field], twoStats[keyPath: field], "\(strategy) \(field)")
            }
        }
    }
}
