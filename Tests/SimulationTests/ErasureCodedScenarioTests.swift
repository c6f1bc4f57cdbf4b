import XCTest
import SimConfig
import SimTestSupport
@testable import Simulation

/// Erasure-coded and hybrid storage through the real engine, on telegram-5 with a light load.
final class ErasureCodedScenarioTests: XCTestCase {
    /// With no faults, RS(6,3) loses no acknowledged write and, since any 6 holders a read
    /// covers overlap the 7 an acknowledged write reached, never reads stale.
    func testRS63NoFaultsLosesNothingAndNeverReadsStaleAcrossSeeds() throws {
        for seed in UInt64(1)...2 {
            let r = try Simulator.run(TestScenarios.small(seed: seed, duration: "20s", strategy: "rs-6-3"))
            XCTAssertGreaterThan(r.redundancy.acknowledgedWrites, 200, "seed \(seed)")
            XCTAssertEqual(r.redundancy.lostAcknowledgedWrites, 0, "seed \(seed)")
            XCTAssertEqual(r.operations.first { $0.kind == "write" }?.failed, 0, "seed \(seed)")
            XCTAssertGreaterThan(r.consistency.reads, 500, "seed \(seed)")
            XCTAssertEqual(r.consistency.staleReads, 0, "seed \(seed)")
            XCTAssertEqual(r.operations.first { $0.kind == "read" }?.failed, 0, "seed \(seed)")
            XCTAssertTrue(r.scenario.strategySummary.contains("k=6 m=3 ack_fragments=7"), r.scenario.strategySummary)
        }
    }

    /// RS(k, m) stores (k + m) / k of one copy, plus a 24-byte header per fragment; three
    /// whole copies store three.
    func testStorageOverheadIsAboutKPlusMOverKOfOneCopy() throws {
        let one = try Simulator.run(TestScenarios.small(seed: 4, duration: "20s", strategy: "single-dc"))
        let three = try Simulator.run(TestScenarios.small(seed: 4, duration: "20s", strategy: "async-geo"))
        for (preset, k, m) in [("rs-6-3", 6, 3), ("rs-4-2", 4, 2)] {
            let ec = try Simulator.run(TestScenarios.small(seed: 4, duration: "20s", strategy: preset))
            XCTAssertEqual(ec.redundancy.lostAcknowledgedWrites, 0, preset)
            let ratio = Double(ec.redundancy.storedBytes) / Double(one.redundancy.storedBytes)
            let code = Double(k + m) / Double(k)
            // Headers and rounding: at most (k + m) × 25 bytes per shard.
            let headers = Double((k + m) * 25) * Double(ec.redundancy.shards) / Double(one.redundancy.storedBytes)
            // Fragments of the last writes may still be in flight when the run ends.
            XCTAssertGreaterThanOrEqual(ratio, code * 0.98, preset)
            XCTAssertLessThanOrEqual(ratio, code + headers, preset)
            XCTAssertLessThan(ec.redundancy.storedBytes, three.redundancy.storedBytes * 2 / 3, "\(preset) vs three copies")
        }
    }

    /// Hybrid: nothing lost, no stale reads, and keys older than `transcode_after` are coded,
    /// so the run ends between three copies and RS(4,2)'s 1.5.
    func testHybridTranscodesOldKeysWithoutLosingOrStaleReads() throws {
        let one = try Simulator.run(TestScenarios.small(seed: 2, duration: "30s", strategy: "single-dc"))
        var s = try TestScenarios.small(seed: 2, duration: "30s", strategy: "hybrid")
        s.strategy = StrategyConfig(name: "hybrid", parameters: [.init(key: "transcode_after", value: .string("8s"))])
        let r = try Simulator.run(s)
        XCTAssertGreaterThan(r.redundancy.acknowledgedWrites, 300)
        XCTAssertEqual(r.redundancy.lostAcknowledgedWrites, 0)
        XCTAssertEqual(r.consistency.staleReads, 0)
        XCTAssertEqual(r.operations.first { $0.kind == "read" }?.failed, 0)
        let ratio = Double(r.redundancy.storedBytes) / Double(one.redundancy.storedBytes)
        XCTAssertLessThan(ratio, 2.6, "most keys were transcoded")
        XCTAssertGreaterThan(ratio, 1.5, "the last 8 s are still three copies")
        XCTAssertGreaterThan(r.network.messagesByKind.first { $0.kind == "replication" }?.bytes ?? 0, 0, "transcoding traffic")
    }

    /// Same seed, same figures.
    func testErasureCodedRunsAreDeterministic() throws {
        let a = try Simulator.run(TestScenarios.small(seed: 9, duration: "10s", strategy: "rs-6-3"))
        let b = try Simulator.run(TestScenarios.small(seed: 9, duration: "10s", strategy: "rs-6-3"))
        XCTAssertEqual(a.redundancy.storedBytes, b.redundancy.storedBytes)
        XCTAssertEqual(a.network.wanBytes, b.network.wanBytes)
        XCTAssertEqual(a.kernel.events, b.kernel.events)
        XCTAssertEqual(a.consistency.reads, b.consistency.reads)
    }

    /// Bad parameters are located configuration errors.
    func testBadParametersAreClearErrors() throws {
        var s = try TestScenarios.small(strategy: "rs-6-3")
        s.strategy = StrategyConfig(name: "rs-6-3", parameters: [
            .init(key: "ack_fragments", value: .number(5), location: SourceLocation(file: "x.yaml", line: 4, column: 7))])
        XCTAssertThrowsError(try Simulator.run(s)) { e in XCTAssertTrue("\(e)".contains("x.yaml:4:7"), "\(e)") }
        s.strategy = StrategyConfig(name: "hybrid", parameters: [.init(key: "transcode_afer", value: .string("1h"))])
        XCTAssertThrowsError(try Simulator.run(s)) { e in XCTAssertTrue("\(e)".contains("did you mean 'transcode_after'"), "\(e)") }
    }
}
