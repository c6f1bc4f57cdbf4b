import XCTest
@testable import Reports
import SimConfig
import Simulation
import SimTestSupport

/// P(loss) and MTTDL across a sweep, against numbers worked out by hand.
final class SweepDurabilityTests: XCTestCase {
    /// Four seeds of 100 s; one loses data at 40 s. Exposure = 40 + 3 × 100 = 340 s, so
    /// MTTDL = 340 s with the exact Poisson interval [2T/χ²(0.975; 4), 2T/χ²(0.025; 2)] =
    /// [680/11.143287, 680/0.0506356]; P(loss) = 1/4 with the Wilson interval
    /// (p + z²/2n ∓ z√(p(1−p)/n + z²/4n²)) / (1 + z²/n), z = 1.959964, n = 4.
    func testHandComputedMTTDLAndLossProbability() {
        let header = SweepHeader(version: "t", scenario: "s", source: "s", scenarioHash: "h", topology: "t", topologyHash: "h",
                                 strategy: "x", duration: "100s", warmup: "0s", payload: "sizes", slos: [], seeds: "1...4",
                                 seedCount: 4, replay: "r", figures: ["lost_acked_writes"])
        func result(_ seed: UInt64, lost: Double, firstLoss: Double?, exposure: Double) -> SweepSeedResult {
            SweepSeedResult(seed: seed, figures: [lost], slosPassed: true, failedSLOs: [],
                            firstLossSeconds: firstLoss, exposureSeconds: exposure)
        }
        let results = [result(1, lost: 0, firstLoss: nil, exposure: 100), result(2, lost: 7, firstLoss: 40, exposure: 40),
                       result(3, lost: 0, firstLoss: nil, exposure: 100), result(4, lost: 0, firstLoss: nil, exposure: 100)]
        let summary = SweepSummary(SweepPart(header: header, shard: .whole, results: results))
        XCTAssertEqual(summary.seedsWithLoss, 1)
        XCTAssertEqual(summary.lossShare, 0.25)
        XCTAssertEqual(summary.exposureSeconds, 340)
        XCTAssertEqual(summary.mttdl.estimate, 340)
        XCTAssertEqual(summary.mttdl.lower, 680 / 11.143287, accuracy: 1e-3)
        XCTAssertEqual(summary.mttdl.upper ?? 0, 680 / 0.0506356, accuracy: 0.5)
        // Wilson by hand: z² = 3.841459; centre 0.25 + 0.480182 = 0.730182; spread
        // 1.959964 × √(0.046875 + 0.060023) = 0.640815; divisor 1.960365.
        XCTAssertEqual(summary.lossShareCI.lower, (0.730182 - 0.640815) / 1.960365, accuracy: 1e-5)
        XCTAssertEqual(summary.lossShareCI.upper, (0.730182 + 0.640815) / 1.960365, accuracy: 1e-5)
    }

    /// A seed whose loss healed by the end (first loss recorded, no loss left at the end)
    /// still counts as a seed with loss.
    func testATransientLossCountsAsLoss() {
        let header = SweepHeader(version: "t", scenario: "s", source: "s", scenarioHash: "h", topology: "t", topologyHash: "h",
                                 strategy: "x", duration: "100s", warmup: "0s", payload: "sizes", slos: [], seeds: "1",
                                 seedCount: 1, replay: "r", figures: ["lost_acked_writes"])
        let r = SweepSeedResult(seed: 1, figures: [0], slosPassed: true, failedSLOs: [], firstLossSeconds: 12, exposureSeconds: 12)
        let summary = SweepSummary(SweepPart(header: header, shard: .whole, results: [r]))
        XCTAssertEqual(summary.seedsWithLoss, 1)
        XCTAssertEqual(summary.mttdl.estimate, 12)
    }

    /// End to end: single-dc, ams1 dark with its disks lost at 20 s, stop at the first loss.
    /// Every seed loses data exactly at 20 s, so exposure = 3 × 20 s and MTTDL = 20 s.
    func testSweepOfStopAtFirstLossRuns() throws {
        let scenario = try TestScenarios.small(seed: 1, duration: "60s", strategy: "single-dc", extra: """
            stop_at_first_loss: true
            faults:
              - {kind: dc-outage, target: ams1, at: 20s, permanent: true, disks: lost}
            """)
        let part = try Sweep.run(scenario, seeds: SeedList.parse("1...3"), jobs: 1, version: "t", replay: "r")
        XCTAssertEqual(part.results.map(\.firstLossSeconds), [20, 20, 20])
        XCTAssertEqual(part.results.map(\.exposureSeconds), [20, 20, 20])
        let summary = SweepSummary(part)
        XCTAssertEqual(summary.seedsWithLoss, 3)
        XCTAssertEqual(summary.lossShare, 1)
        XCTAssertEqual(summary.mttdl.estimate, 20)
        let v = try JSONValue.parse(summary.json())
        XCTAssertEqual(v.at("loss.mttdl_s")?.number, 20)
        XCTAssertEqual(v.at("loss.exposure_s")?.number, 60)
    }
}
