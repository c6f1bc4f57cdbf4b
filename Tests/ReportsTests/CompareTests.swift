import XCTest
@testable import Reports
import SimConfig
import Simulation

final class CompareTests: XCTestCase {
    nonisolated(unsafe) static var cached: Comparison?

    /// Two strategies on the tiny scenario, run in parallel.
    static func comparison() throws -> Comparison {
        if let cached { return cached }
        let scenario = try Fixtures.tinyScenario()
        let c = try Comparison.run(scenario, strategies: [StrategyConfig(name: "async-geo"), StrategyConfig(name: "single-dc")],
                                   jobs: 2, context: ReportContext(version: "test", replay: "dcsim run tiny.yaml --seed 1"))
        cached = c
        return c
    }

    /// Every strategy sees the same workload (same seed, same messages) and its own strategy.
    func testSameWorkloadDifferentStrategies() throws {
        let c = try Self.comparison()
        XCTAssertEqual(c.strategies, ["async-geo", "single-dc"])
        XCTAssertEqual(c.reports[0].workload.messages, c.reports[1].workload.messages)
        XCTAssertEqual(c.reports[0].workload.logicalBytes, c.reports[1].workload.logicalBytes)
        XCTAssertEqual(c.reports[0].scenario.seed, c.reports[1].scenario.seed)
        XCTAssertGreaterThan(c.reports[0].redundancy.storedBytes, c.reports[1].redundancy.storedBytes,
                             "three copies store more than one")
        // The same as running each strategy alone.
        let alone = try Simulator.run(Fixtures.tinyScenario(), strategy: StrategyConfig(name: "single-dc"))
        XCTAssertEqual(JSONReport.render(alone, version: "t"), JSONReport.render(c.reports[1], version: "t"))
    }

    func testBestIsMarkedByDirection() throws {
        XCTAssertEqual(Comparison.best([3, 1, 1, 2], better: .lower), [1, 2])
        XCTAssertEqual(Comparison.best([0.9, 0.99, 0.95], better: .higher), [1])
        XCTAssertEqual(Comparison.best([5, 5], better: .lower), [], "all equal: nothing to mark")
        XCTAssertEqual(Comparison.best([1, 2], better: .neither), [])
        let c = try Self.comparison()
        let stored = try XCTUnwrap(c.rows.first { $0.figure.name == "stored_bytes" })
        XCTAssertEqual(stored.best, [1])
        XCTAssertTrue(c.text(color: false).contains(" *"))
        XCTAssertTrue(c.markdown().contains("★"))
    }

    func testJSONAndCSV() throws {
        let c = try Self.comparison()
        let v = try JSONValue.parse(c.json())
        XCTAssertEqual(v["kind"]?.string, "dcsim-compare")
        XCTAssertEqual(v["strategies"]?.array?.count, 2)
        let overhead = v["figures"]?.array?.first { $0["name"]?.string == "stored_bytes" }
        XCTAssertEqual(overhead?["best"], .array([.string("single-dc")]))
        XCTAssertEqual(c.csv().split(separator: "\n").first, "figure,better,async-geo,single-dc")
        XCTAssertTrue(c.junit().contains("--strategy single-dc"), "each suite replays its own strategy")
    }
}
