import XCTest
import SimConfig
import SimTestSupport
@testable import Simulation

final class AsyncPrimaryBackupScenarioTests: XCTestCase {
    /// With no faults, async primary-backup loses nothing, and once shipping has had time
    /// every acknowledged shard has its three copies.
    func testNoFaultsLosesNothingAcrossSeeds() throws {
        for seed in UInt64(1)...5 {
            let r = try Simulator.run(TestScenarios.small(seed: seed))
            XCTAssertGreaterThan(r.redundancy.acknowledgedWrites, 500, "seed \(seed)")
            XCTAssertEqual(r.redundancy.lostAcknowledgedWrites, 0, "seed \(seed)")
            // Shards written in the last batch interval may not have shipped yet; nothing else.
            XCTAssertLessThan(Double(r.redundancy.underReplicatedAtEnd), Double(r.redundancy.shards) * 0.1, "seed \(seed)")
            XCTAssertEqual(r.operations.first { $0.kind == "write" }?.failed, 0, "seed \(seed)")
        }
    }

    /// Readers outside the home DC read a local backup that may not have the batch yet:
    /// async replication shows stale reads; a single-DC strategy (one copy, read at home)
    /// never does.
    func testAsyncIsStaleButSingleCopyIsNot() throws {
        let async = try Simulator.run(TestScenarios.small(seed: 3))
        XCTAssertGreaterThan(async.consistency.staleReads, 0)
        let single = try Simulator.run(TestScenarios.small(seed: 3, strategy: "single-dc"))
        XCTAssertEqual(single.consistency.staleReads, 0)
        XCTAssertGreaterThan(single.consistency.reads, 1000)
    }

    /// Every strategy sees the same messages: the workload does not depend on the strategy.
    func testWorkloadIsIndependentOfStrategy() throws {
        let a = try Simulator.run(TestScenarios.small(seed: 5, duration: "30s"))
        let b = try Simulator.run(TestScenarios.small(seed: 5, duration: "30s", strategy: "single-dc"))
        XCTAssertEqual(a.redundancy.shards, b.redundancy.shards)
        XCTAssertEqual(a.workload.logicalBytes, b.workload.logicalBytes)
    }

    /// Storage overhead follows the copy count: three copies store about three times what one does.
    func testStorageOverheadScalesWithCopies() throws {
        let three = try Simulator.run(TestScenarios.small(seed: 4, duration: "30s"))
        let one = try Simulator.run(TestScenarios.small(seed: 4, duration: "30s", strategy: "single-dc"))
        let ratio = Double(three.redundancy.storedBytes) / Double(one.redundancy.storedBytes)
        XCTAssertEqual(ratio, 3, accuracy: 0.3, "stored bytes ratio three copies / one copy")
    }

    /// Strategy parameters parse with the file syntax and fail with a located message.
    func testBadStrategyParametersAreLocatedErrors() throws {
        let base = try TestScenarios.small()
        var s = base
        s.strategy = StrategyConfig(name: "async-geo", parameters: [
            .init(key: "copies", value: .number(99), location: SourceLocation(file: "x.yaml", line: 7, column: 3))])
        XCTAssertThrowsError(try Simulator.run(s)) { error in
            XCTAssertTrue("\(error)".contains("x.yaml:7:3"), "\(error)")
        }
        s.strategy = StrategyConfig(name: "async-geo", parameters: [.init(key: "batch_intervall", value: .string("1s"))])
        XCTAssertThrowsError(try Simulator.run(s)) { error in
            XCTAssertTrue("\(error)".contains("did you mean 'batch_interval'"), "\(error)")
        }
        s.strategy = StrategyConfig(name: "async-geo", parameters: [.init(key: "batch_interval", value: .string("250ms"))])
        XCTAssertTrue(try Simulator.run(s).scenario.strategySummary.contains("batch_interval=250ms"))
    }

    /// An unknown strategy is a configuration error naming the closest preset.
    func testUnknownStrategyIsAClearError() throws {
        XCTAssertThrowsError(try Simulator.run(TestScenarios.small(strategy: "async-goe"))) { error in
            XCTAssertTrue("\(error)".contains("did you mean 'async-geo'"), "\(error)")
        }
    }
}
