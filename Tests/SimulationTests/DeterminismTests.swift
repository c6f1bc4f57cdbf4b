import XCTest
import Reports
import SimConfig
import SimTestSupport
@testable import Simulation

final class DeterminismTests: XCTestCase {
    func json(_ scenario: Scenario) throws -> String {
        JSONReport.render(try Simulator.run(scenario), version: "test")
    }

    /// The same scenario and seed give byte-identical JSON, run after run.
    func testSameSeedGivesByteIdenticalJSON() throws {
        let scenario = try TestScenarios.small(seed: 7)
        let a = try json(scenario)
        let b = try json(scenario)
        XCTAssertEqual(a, b)
        XCTAssertTrue(a.contains("\"seed\": 7"))
    }

    /// The built-in default scenario too (full payloads, the real data path).
    func testDefaultScenarioIsDeterministic() throws {
        let scenario = try ConfigLoader.builtinScenario(named: "default").overriding(duration: .seconds(90))
        XCTAssertEqual(try json(scenario), try json(scenario))
    }

    /// A different seed gives a different run (the seed really drives the randomness).
    func testDifferentSeedsDiffer() throws {
        XCTAssertNotEqual(try json(TestScenarios.small(seed: 1)), try json(TestScenarios.small(seed: 2)))
    }
}
