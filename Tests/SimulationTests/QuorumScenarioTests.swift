import XCTest
import Reports
import SimConfig
import SimTestSupport
@testable import Simulation

/// The quorum strategy through the real engine (telegram-5, light load, no faults).
final class QuorumScenarioTests: XCTestCase {
    /// The PBS configuration: one replica written, one read, nothing else propagates.
    static let oneOne = "{name: quorum, r: 1, w: 1, write_fanout: quorum, read_fanout: quorum, read_repair: off, hinted_handoff: false}"

    /// R + W > N without faults: no read is ever stale, nothing acknowledged is lost, no
    /// write fails — across seeds.
    func testStrongQuorumNeverReadsStaleAcrossSeeds() throws {
        for seed in UInt64(1)...4 {
            let r = try Simulator.run(TestScenarios.small(seed: seed, duration: "25s", strategy: "quorum-3dc"))
            XCTAssertGreaterThan(r.consistency.reads, 500, "seed \(seed)")
            XCTAssertEqual(r.consistency.staleReads, 0, "seed \(seed)")
            XCTAssertGreaterThan(r.redundancy.acknowledgedWrites, 300, "seed \(seed)")
            XCTAssertEqual(r.redundancy.lostAcknowledgedWrites, 0, "seed \(seed)")
            XCTAssertEqual(r.operations.first { $0.kind == "write" }?.failed, 0, "seed \(seed)")
            XCTAssertTrue(r.scenario.strategySummary.contains("(strong"), r.scenario.strategySummary)
        }
    }

    /// Reads by QUORUM with EACH_QUORUM writes are strong too, on the per-DC layout.
    func testEachQuorumNeverReadsStale() throws {
        let r = try Simulator.run(TestScenarios.small(seed: 2, duration: "25s", strategy: "each-quorum"))
        XCTAssertGreaterThan(r.consistency.reads, 500)
        XCTAssertEqual(r.consistency.staleReads, 0)
        XCTAssertEqual(r.redundancy.lostAcknowledgedWrites, 0)
    }

    /// R = W = 1 of N = 3 with every propagation mechanism off: reads miss writes — the knob
    /// matters — while a strong configuration on the same workload does not.
    func testOneOneWithPropagationOffReadsStale() throws {
        let weak = try Simulator.run(TestScenarios.small(seed: 3, duration: "25s", strategy: Self.oneOne))
        XCTAssertGreaterThan(weak.consistency.reads, 500)
        XCTAssertGreaterThan(Double(weak.consistency.staleReads), Double(weak.consistency.reads) * 0.2,
                             "about two reads in three miss the one written replica")
        XCTAssertEqual(weak.redundancy.lostAcknowledgedWrites, 0)
        // Only W = 1 copy of each shard exists.
        let histogram = weak.redundancy.copiesHistogram
        XCTAssertEqual(histogram[1], histogram.reduce(0, +), "\(histogram)")
        XCTAssertEqual(weak.network.messagesByKind.first { $0.0 == "repair" }?.1, 0)
    }

    /// The same seed gives byte-identical reports.
    func testSameSeedSameReport() throws {
        let s = try TestScenarios.small(seed: 9, duration: "15s",
                                        strategy: "{name: quorum, anti_entropy_interval: 5s, read_repair: probabilistic, read_repair_chance: 0.5, read_fanout: quorum}")
        XCTAssertEqual(JSONReport.render(try Simulator.run(s), version: "t"), JSONReport.render(try Simulator.run(s), version: "t"))
    }
}
