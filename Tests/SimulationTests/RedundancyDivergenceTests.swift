import XCTest
import SimCore
import SimConfig
import SimTestSupport
@testable import Simulation

/// Divergence after the final heal and a quiet period: when the snapshot is taken, and which
/// strategies leave replicas disagreeing after a partition.
final class RedundancyDivergenceTests: XCTestCase {
    func run(_ strategy: String, duration: String = "50s", quiet: String = "10s", faults: String) throws -> SimulationReport {
        try Simulator.run(TestScenarios.small(seed: 4, duration: duration, strategy: strategy, extra: """
            quiet_period: \(quiet)
            faults:
            \(faults)
            """))
    }

    static let partition = "  - {kind: partition, target: sin, at: 10s, for: 15s}"

    /// Quorum with every propagation mechanism off (no hints, no read repair, no anti-entropy):
    /// writes acknowledged by a quorum while sin was cut off never reach sin's replicas, so
    /// keys still disagree after the heal and a quiet period.
    func testQuorumWithoutRepairStaysDivergedAfterAPartition() throws {
        let r = try run("{name: quorum-3dc, hinted_handoff: false, read_repair: false, anti_entropy_interval: off}",
                        faults: Self.partition)
        let d = try XCTUnwrap(r.consistency.divergence)
        XCTAssertEqual(d.healedAt, .seconds(25))
        XCTAssertEqual(d.time, .seconds(35), "heal + quiet period")
        XCTAssertTrue(d.quietPeriodElapsed)
        XCTAssertEqual(d.faultsActive, 0)
        XCTAssertGreaterThan(d.keysCompared, 300)
        XCTAssertGreaterThan(d.divergedKeys, 20)
        // Most missed writes are new messages (missing on sin's replica); a missed edit leaves
        // an older version there instead.
        XCTAssertGreaterThan(d.missingOnUpNode, d.divergedKeys * 9 / 10)
        XCTAssertLessThanOrEqual(d.divergedKeys, d.missingOnUpNode + d.stampMismatch)
    }

    /// The same with Merkle-tree anti-entropy every 2 s: converged within the quiet period.
    func testQuorumWithMerkleAntiEntropyConverges() throws {
        let r = try run("{name: quorum-3dc, hinted_handoff: false, read_repair: false, anti_entropy_interval: 2s}",
                        faults: Self.partition)
        let d = try XCTUnwrap(r.consistency.divergence)
        XCTAssertGreaterThan(d.keysCompared, 300)
        XCTAssertEqual(d.divergedKeys, 0)
    }

    /// Asynchronous primary-backup keeps its unshipped batches and re-sends them after the heal
    /// (an outbox, not anti-entropy): converged too.
    func testAsyncGeoResendsAfterAPartition() throws {
        let r = try run("async-geo", faults: Self.partition)
        let d = try XCTUnwrap(r.consistency.divergence)
        XCTAssertGreaterThan(d.keysCompared, 300)
        XCTAssertEqual(d.divergedKeys, 0)
    }

    /// A heal too late for the quiet period: the snapshot is at the end of the run and says
    /// the period did not elapse; a permanent fault never heals; no fault: at the end.
    func testSnapshotTimeAndQuietPeriodFlag() throws {
        let late = try run("async-geo", duration: "30s", faults: Self.partition)
        XCTAssertEqual(late.consistency.divergence?.time, .seconds(30))
        XCTAssertEqual(late.consistency.divergence?.healedAt, .seconds(25))
        XCTAssertEqual(late.consistency.divergence?.quietPeriodElapsed, false)

        let never = try run("async-geo", duration: "30s", faults: "  - {kind: partition, target: sin, at: 10s, permanent: true}")
        XCTAssertEqual(never.consistency.divergence?.time, .seconds(30))
        XCTAssertNil(never.consistency.divergence?.healedAt)
        XCTAssertEqual(never.consistency.divergence?.faultsActive, 1)
        XCTAssertEqual(never.consistency.divergence?.quietPeriodElapsed, false)

        let calm = try Simulator.run(TestScenarios.small(seed: 4, duration: "20s", strategy: "async-geo", extra: "quiet_period: 5s"))
        let d = try XCTUnwrap(calm.consistency.divergence)
        XCTAssertEqual(d.time, .seconds(20))
        XCTAssertNil(d.healedAt)
        XCTAssertTrue(d.quietPeriodElapsed)
        XCTAssertGreaterThan(d.keysCompared, 100, "keys acknowledged before 15 s")
        XCTAssertEqual(d.divergedKeys, 0, "1 s batches ship well within 5 s")
    }
}
