import XCTest
@testable import SimConfig
import SimCore

/// Each distribution form parses to the right `Distribution` in base units, and bad
/// parameters are rejected with a located message.
final class DistributionSyntaxTests: XCTestCase {
    private func d(_ yaml: String, _ q: ConfigQuantity = .duration,
                   file: StaticString = #filePath, line: UInt = #line) -> Distribution? {
        do { return try DistributionSyntax.parse(yaml: yaml, q) } catch {
            XCTFail("\(yaml): \(error)", file: file, line: line)
            return nil
        }
    }

    private func errors(_ yaml: String, _ q: ConfigQuantity = .duration) -> [ConfigError] {
        do {
            _ = try DistributionSyntax.parse(yaml: yaml, q)
            return []
        } catch let e as ConfigErrors {
            return e.errors
        } catch {
            return [ConfigError(file: "?", line: nil, column: nil, field: "", message: "\(error)")]
        }
    }

    private func message(_ yaml: String, _ q: ConfigQuantity = .duration) -> String {
        errors(yaml, q).map(\.description).joined(separator: "\n")
    }

    func testConstantScalar() {
        XCTAssertEqual(d("2ms"), .constant(2_000_000))
        XCTAssertEqual(d("120B", .size), .constant(120))
        XCTAssertEqual(d("3", .count), .constant(3))
        XCTAssertEqual(d("{dist: constant, value: 2ms}"), .constant(2_000_000))
    }

    func testShapes() {
        XCTAssertEqual(d("{dist: exponential, mean: 5ms}"), .exponential(mean: 5_000_000))
        XCTAssertEqual(d("{dist: uniform, low: 1ms, high: 3ms}"), .uniform(1_000_000, 3_000_000))
        XCTAssertEqual(d("{dist: normal, mean: 10ms, stddev: 2ms, min: 0}"),
                       Distribution(.normal(mean: 10_000_000, stddev: 2_000_000), min: 0))
        XCTAssertEqual(d("{dist: lognormal, median: 120B, sigma: 0.9}", .size), .logNormal(median: 120, sigma: 0.9))
        XCTAssertEqual(d("{dist: lognormal, mu: 4.5, sigma: 0.9}", .size), Distribution(.logNormal(mu: 4.5, sigma: 0.9)))
        XCTAssertEqual(d("{dist: pareto, scale: 1KB, shape: 1.5}", .size), Distribution(.pareto(scale: 1_000, shape: 1.5)))
    }

    func testOffsetAndClamps() {
        XCTAssertEqual(d("{dist: exponential, mean: 1ms, offset: 40ms, max: 2s}"),
                       Distribution(.exponential(mean: 1_000_000), offset: 40_000_000, max: 2_000_000_000))
        XCTAssertEqual(d("{dist: lognormal, median: 120B, sigma: 0.9, min: 2B, max: 4000B}", .size),
                       Distribution(.logNormal(mu: log(120), sigma: 0.9), min: 2, max: 4000))
    }

    func testMixture() {
        let yaml = """
            dist: mixture
            of:
              - {weight: 0.9, dist: exponential, mean: 1ms}
              - {weight: 0.1, dist: constant, value: 50ms}
            """
        XCTAssertEqual(d(yaml), Distribution(.mixture([
            .init(weight: 0.9, distribution: .exponential(mean: 1_000_000)),
            .init(weight: 0.1, distribution: .constant(50_000_000)),
        ])))
        // Nested mixtures and per-component clamps.
        let nested = "{dist: mixture, of: [{weight: 1, dist: mixture, of: [{weight: 2, dist: constant, value: 1}]}]}"
        XCTAssertNotNil(d(nested, .count))
    }

    func testEmpirical() {
        XCTAssertEqual(d("{dist: empirical, percentiles: {p0: 1ms, p50: 3ms, p99.9: 20ms, p100: 50ms}}"),
                       Distribution(.empirical([
                           .init(percentile: 0, value: 1_000_000), .init(percentile: 50, value: 3_000_000),
                           .init(percentile: 99.9, value: 20_000_000), .init(percentile: 100, value: 50_000_000),
                       ])))
        // Equal neighbouring values are allowed (a point mass).
        XCTAssertNotNil(d("{dist: empirical, percentiles: {p0: 1, p50: 1, p100: 2}}", .count))
    }

    func testRejectsBadParameters() {
        XCTAssertTrue(message("{dist: lognormal, median: 1ms, sigma: 0}").contains("sigma: expected a number greater than 0, found '0'"))
        XCTAssertTrue(message("{dist: lognormal, median: 1ms, mu: 3, sigma: 1}").contains("either 'median' or 'mu'"))
        XCTAssertTrue(message("{dist: lognormal, sigma: 1}").contains("'median'"))
        XCTAssertTrue(message("{dist: pareto, scale: 1ms, shape: -1}").contains("shape: expected a number greater than 0"))
        XCTAssertTrue(message("{dist: pareto, scale: 0, shape: 1}").contains("'scale' must be greater than 0"))
        XCTAssertTrue(message("{dist: exponential, mean: 0}").contains("'mean' must be greater than 0"))
        XCTAssertTrue(message("{dist: uniform, low: 3ms, high: 1ms}").contains("'low' (3ms) is greater than 'high' (1ms)"))
        XCTAssertTrue(message("{dist: mixture, of: [{weight: 0, dist: constant, value: 1ms}]}").contains("weight greater than 0"))
        XCTAssertTrue(message("{dist: mixture, of: []}").contains("at least one component"))
        XCTAssertTrue(message("{dist: mixture, of: [{dist: constant, value: 1ms}]}").contains("missing required key 'weight'"))
        XCTAssertTrue(message("{dist: exponential, mean: 1ms, min: 5ms, max: 2ms}").contains("'min' (5ms) is greater than 'max' (2ms)"))
        XCTAssertTrue(message("{dist: exponental, mean: 1ms}").contains("unknown distribution 'exponental' (did you mean 'exponential'?)"))
        XCTAssertTrue(message("{dist: exponential, mean: 1ms, stddev: 2ms}").contains("unknown key 'stddev'"))
        XCTAssertTrue(message("{mean: 1ms}").contains("missing required key 'dist'"))
        XCTAssertTrue(message("[1ms, 2ms]").contains("found a list"))
        XCTAssertTrue(message("{dist: exponential, mean: 5}").contains("'5' has no unit"))
        XCTAssertTrue(message("{dist: exponential, mean: 5ms}", .size).contains("unknown size unit 'ms'"))
    }

    func testNormalDurationsNeedAFloor() {
        let m = message("{dist: normal, mean: 10ms, stddev: 2ms}")
        XCTAssertTrue(m.contains("a normal distribution can go below zero") && m.contains("add 'min: 0'"), m)
        XCTAssertTrue(message("{dist: normal, mean: 10, stddev: 2}", .count).contains("min: 0"))
        XCTAssertTrue(message("{dist: normal, mean: 10ms, stddev: 2ms, min: 1ms}").isEmpty)
    }

    func testNegativeValuesRejected() {
        XCTAssertTrue(message("-3", .count).contains("can go negative"))
        XCTAssertTrue(message("{dist: uniform, low: -1, high: 3}", .count).contains("lowest value is -1"))
        XCTAssertTrue(message("-2ms").contains("durations cannot be negative, found '-2ms'"))
    }

    func testEmpiricalValidation() {
        XCTAssertTrue(message("{dist: empirical, percentiles: {p0: 1ms, p90: 5ms, p50: 3ms, p100: 9ms}}")
            .contains("strictly increasing order: 'p50' comes after 'p90'"))
        XCTAssertTrue(message("{dist: empirical, percentiles: {p0: 5ms, p50: 3ms, p100: 9ms}}")
            .contains("values must not decrease"))
        XCTAssertTrue(message("{dist: empirical, percentiles: {p10: 1ms, p100: 9ms}}").contains("missing 'p0'"))
        XCTAssertTrue(message("{dist: empirical, percentiles: {p0: 1ms, p99: 9ms}}").contains("missing 'p100'"))
        XCTAssertTrue(message("{dist: empirical, percentiles: {p0: 1ms, x50: 2ms, p100: 9ms}}").contains("percentile keys"))
        XCTAssertTrue(message("{dist: empirical, percentiles: {p0: 1ms, p101: 2ms}}").contains("percentile keys"))
    }

    func testErrorLocationAndPath() throws {
        let yaml = """
            dist: mixture
            of:
              - {weight: 0.5, dist: exponential, mean: 1ms}
              - {weight: 0.5, dist: lognormal, median: 2ms, sigma: abc}
            """
        let e = try XCTUnwrap(errors(yaml).first)
        XCTAssertEqual(e.line, 4)
        XCTAssertEqual(e.column, 56)
        XCTAssertEqual(e.field, "of[1].sigma")
        XCTAssertTrue(e.message.contains("found 'abc'"))
    }

    func testSamplingMatchesParsedUnits() {
        // A parsed distribution samples in base units.
        guard let dist = d("{dist: uniform, low: 1ms, high: 3ms}") else { return }
        var rng = SimRandom(seed: 1)
        for _ in 0..<1000 {
            let x = dist.sample(&rng)
            XCTAssertTrue(x >= 1_000_000 && x < 3_000_000)
        }
    }

    func testParameterHelpers() throws {
        let p = StrategyConfig.Parameter(key: "lag", value: .string("500ms"),
                                         location: SourceLocation(file: "s.yaml", line: 3, column: 5))
        XCTAssertEqual(try p.duration(), .milliseconds(500))
        let dist = StrategyConfig.Parameter(key: "extra", value: .map([
            .init(key: "dist", value: .string("exponential")), .init(key: "mean", value: .string("20ms")),
        ]), location: SourceLocation(file: "s.yaml", line: 7, column: 9))
        XCTAssertEqual(try dist.distribution(.duration), .exponential(mean: 20_000_000))
        let bad = StrategyConfig.Parameter(key: "lag", value: .number(5),
                                           location: SourceLocation(file: "s.yaml", line: 3, column: 5))
        XCTAssertThrowsError(try bad.duration()) { error in
            XCTAssertEqual("\(error)", "s.yaml:3:5: error: lag: '5' has no unit; expected \(Units.durationHelp)")
        }
        let n = StrategyConfig.Parameter(key: "n", value: .number(3), location: nil)
        XCTAssertEqual(try n.integer(in: 1...9), 3)
        XCTAssertThrowsError(try n.integer(in: 5...9))
    }
}
