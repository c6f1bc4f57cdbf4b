import XCTest
import SimConfig
import SimTestSupport
@testable import Simulation

/// Sync primary-backup and chain replication through the real engine: no stale read and no
/// loss without faults, linearizable histories, and one failure inside the stated tolerance
/// (a DC down, disks kept or lost; a DC cut off) losing nothing.
final class SyncChainScenarioTests: XCTestCase {
    static let strong = ["sync-3dc", "chain-3", "sync-2dc"]

    func run(_ strategy: String, seed: UInt64, duration: String = "40s", faults: String? = nil) throws -> SimulationReport {
        try Simulator.run(TestScenarios.small(seed: seed, duration: duration, strategy: strategy,
                                              extra: faults.map { "faults:\n\($0)" } ?? ""))
    }

    func assertStrong(_ r: SimulationReport, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertGreaterThan(r.redundancy.acknowledgedWrites, 300, label, file: file, line: line)
        XCTAssertEqual(r.redundancy.lostAcknowledgedWrites, 0, "\(label): lost acknowledged writes", file: file, line: line)
        XCTAssertEqual(r.consistency.staleReads, 0, "\(label): stale reads", file: file, line: line)
        XCTAssertGreaterThan(r.consistency.reads, 300, label, file: file, line: line)
        if let lin = r.consistency.linearizability {
            XCTAssertEqual(lin.notLinearizable, 0, "\(label): \(lin.counterexamples.first ?? "")", file: file, line: line)
        }
    }

    func testNoFaultsNoStaleReadsNoLossAndLinearizableAcrossSeeds() throws {
        for strategy in Self.strong {
            for seed in UInt64(1)...2 {
                let r = try run(strategy, seed: seed)
                assertStrong(r, "\(strategy) seed \(seed)")
                XCTAssertEqual(r.operations.first { $0.kind == "write" }?.failed, 0, "\(strategy) seed \(seed)")
                XCTAssertEqual(r.redundancy.underReplicatedAtEnd, 0, "\(strategy) seed \(seed): every acked write is on every copy")
            }
        }
    }

    /// Synchronous replication pays a WAN round trip on writes that async replication does not.
    func testSyncWritesAreSlowerThanAsyncButNeverStale() throws {
        let sync = try run("sync-3dc", seed: 4)
        let async = try run("async-geo", seed: 4)
        let p50 = { (r: SimulationReport) in r.operations.first { $0.kind == "write" }!.latency.p50 }
        XCTAssertGreaterThan(p50(sync), p50(async) * 2)
        XCTAssertEqual(sync.consistency.staleReads, 0)
        XCTAssertGreaterThan(async.consistency.staleReads, 0)
        // Acknowledging after one backup and reading at the nearest replica trades the
        // guarantee for latency: the backup left out of the ack may not have it yet.
        let any = try run("{name: sync-3dc, read: any, ack: 1}", seed: 4)
        XCTAssertGreaterThan(any.consistency.staleReads, 0)
        XCTAssertEqual(any.redundancy.lostAcknowledgedWrites, 0)
    }

    func repairBytes(_ r: SimulationReport) -> UInt64 { r.network.messagesByKind.first { $0.kind == "repair" }?.bytes ?? 0 }

    /// ams1 (a copy of every group homed in Amsterdam, and of many others) goes down and
    /// comes back without its disks: groups reconfigure around it, copy it back up to date
    /// (repair traffic), and nothing acknowledged is lost or read stale.
    func testOneDCOutageWithDisksLostLosesNothing() throws {
        for strategy in Self.strong {
            let r = try run(strategy, seed: 3, faults: "  - {kind: dc-outage, target: ams1, at: 10s, for: 12s, disks: lost}")
            assertStrong(r, "\(strategy) ams1 down, disks lost")
            XCTAssertGreaterThan(repairBytes(r), 1_000_000, "\(strategy): view changes and catch-up moved data")
            // Only groups first written in the last seconds (still failing over from their
            // amnesic home node) may lack a copy; a catch-up that did not work would leave
            // hundreds.
            XCTAssertLessThanOrEqual(r.redundancy.underReplicatedAtEnd, 3, "\(strategy): ams1 caught up and rejoined")
        }
    }

    /// mia1 is cut off from every other DC: its groups fail over on the majority side; its
    /// nodes, still up, neither acknowledge nor answer stale reads.
    func testACutOffDCLosesNothingAndServesNoStaleRead() throws {
        for strategy in Self.strong {
            let r = try run(strategy, seed: 5, faults: "  - {kind: partition, target: mia1, at: 10s, for: 15s}")
            assertStrong(r, "\(strategy) mia1 cut off")
            XCTAssertGreaterThan(repairBytes(r), 0, "\(strategy): the groups reconfigured")
        }
    }
}
