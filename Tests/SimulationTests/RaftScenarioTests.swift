import XCTest
import Reports
import SimConfig
import SimTestSupport
@testable import Simulation

/// Raft through the real engine (service queues, WAN latencies of telegram-5, client
/// timeouts and retries), without faults.
final class RaftScenarioTests: XCTestCase {
    /// No faults: nothing acknowledged is lost, no read is stale, no write fails, and
    /// every acknowledged shard ends on all of its group's members.
    func testRaft3LosesNothingAndNeverReadsStaleAcrossSeeds() throws {
        for seed in UInt64(1)...3 {
            let r = try Simulator.run(TestScenarios.small(seed: seed, duration: "30s", strategy: "raft-3"))
            XCTAssertGreaterThan(r.redundancy.acknowledgedWrites, 300, "seed \(seed)")
            XCTAssertEqual(r.redundancy.lostAcknowledgedWrites, 0, "seed \(seed)")
            XCTAssertGreaterThan(r.consistency.reads, 300, "seed \(seed)")
            XCTAssertEqual(r.consistency.staleReads, 0, "seed \(seed)")
            XCTAssertEqual(r.operations.first { $0.kind == "write" }?.failed, 0, "seed \(seed)")
            XCTAssertEqual(r.operations.first { $0.kind == "write" }?.unknown, 0, "seed \(seed)")
            // Writes of the last round trip may not have been applied everywhere yet.
            XCTAssertLessThan(Double(r.redundancy.underReplicatedAtEnd), Double(r.redundancy.shards) * 0.05, "seed \(seed)")
        }
    }

    func testRaft5AndEveryReadModeStayConsistent() throws {
        for (seed, strategy) in [(UInt64(4), "raft-5"), (5, "{name: raft-3, read: lease}"), (6, "{name: raft-3, read: log}"),
                                 (7, "{name: raft, copies: 3, batch_interval: 20ms, groups: 4}")] {
            let r = try Simulator.run(TestScenarios.small(seed: seed, duration: "20s", strategy: strategy))
            XCTAssertGreaterThan(r.redundancy.acknowledgedWrites, 150, strategy)
            XCTAssertEqual(r.redundancy.lostAcknowledgedWrites, 0, strategy)
            XCTAssertEqual(r.consistency.staleReads, 0, strategy)
            XCTAssertEqual(r.operations.first { $0.kind == "write" }?.failed, 0, strategy)
        }
    }

    /// Consensus costs a majority round trip across the WAN: raft-5's writes are slower
    /// than raft-3's, and both slower than async primary-backup, which acknowledges at home.
    func testWriteLatencyReflectsTheMajorityRoundTrip() throws {
        func p50(_ strategy: String) throws -> Double {
            try XCTUnwrap(Simulator.run(TestScenarios.small(seed: 8, duration: "20s", strategy: strategy))
                .operations.first { $0.kind == "write" }).latency.p50
        }
        let async = try p50("async-geo"), raft3 = try p50("raft-3"), raft5 = try p50("raft-5")
        XCTAssertLessThan(async, raft3)
        XCTAssertLessThan(raft3, raft5)
    }

    func testSameSeedGivesIdenticalJSON() throws {
        let scenario = try TestScenarios.small(seed: 9, duration: "15s", strategy: "raft-3")
        XCTAssertEqual(JSONReport.render(try Simulator.run(scenario), version: "test"),
                       JSONReport.render(try Simulator.run(scenario), version: "test"))
    }
}
