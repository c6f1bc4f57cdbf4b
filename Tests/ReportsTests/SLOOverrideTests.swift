import XCTest
import Reports
import SimConfig
import Simulation

final class SLOOverrideTests: XCTestCase {
    func testParsing() throws {
        let a = try SLOOverride.parse("availability>=0.999")
        XCTAssertEqual(a.metric, "availability")
        XCTAssertEqual(a.comparison, .atLeast)
        XCTAssertEqual(a.threshold, 0.999)
        XCTAssertEqual(try SLOOverride.parse("availability >= 99.9%").threshold, 0.999, accuracy: 1e-12)
        XCTAssertEqual(try SLOOverride.parse("p99_write_latency_ms<=2s").threshold, 2000)
        XCTAssertEqual(try SLOOverride.parse("p99_write_latency_ms ≤ 400").threshold, 400)
        XCTAssertEqual(try SLOOverride.parse("lost_acked_writes<=0").comparison, .atMost)
    }

    func testErrorsNameTheProblemAndTheAllowedMetrics() {
        XCTAssertThrowsError(try SLOOverride.parse("availabilty>=0.9")) { e in
            XCTAssertTrue("\(e)".contains("did you mean 'availability'"), "\(e)")
            XCTAssertTrue("\(e)".contains("allowed: lost_acked_writes, availability"), "\(e)")
        }
        XCTAssertThrowsError(try SLOOverride.parse("availability>0.9")) { XCTAssertTrue("\($0)".contains("only '<=' and '>='"), "\($0)") }
        XCTAssertThrowsError(try SLOOverride.parse("availability")) { XCTAssertTrue("\($0)".contains("METRIC<=VALUE"), "\($0)") }
        XCTAssertThrowsError(try SLOOverride.parse("availability>=2s")) { XCTAssertTrue("\($0)".contains("not a number"), "\($0)") }
    }

    /// An override replaces the scenario's SLO on the same metric in place; a new one is added;
    /// and the run is gated on the result.
    func testOverridesReplaceAndAddAndGate() throws {
        let scenario = try Fixtures.goldenScenario()
        var s = scenario
        s.slos = SLOOverride.apply([try SLOOverride.parse("p99_write_latency_ms<=1h"), try SLOOverride.parse("stale_read_ratio<=1")],
                                   to: scenario.slos)
        XCTAssertEqual(s.slos.map(\.metric), ["lost_acked_writes", "availability", "p99_write_latency_ms", "stale_read_ratio"])
        XCTAssertEqual(s.slos[2].threshold, 3_600_000)
        XCTAssertFalse(try Fixtures.goldenReport().slosPassed, "the scenario's own 1 ms bound fails")
        XCTAssertTrue(try Simulator.run(s).slosPassed, "overridden with a bound the run meets")
    }
}
