import XCTest
@testable import SimConfig
import SimCore

/// Units in files convert exactly to base units, and bad ones say what is allowed.
final class UnitsTests: XCTestCase {
    private func ns(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> Int64? {
        switch Units.duration(text) {
        case .success(let v):
            XCTAssertEqual(v.ns, Double(v.whole), "exact double for \(text)", file: file, line: line)
            return v.whole
        case .failure: return nil
        }
    }

    private func failure<T>(_ r: Result<T, Units.Failure>) -> String {
        if case .failure(let f) = r { return f.message }
        return "<no failure>"
    }

    func testDurations() {
        XCTAssertEqual(ns("250ns"), 250)
        XCTAssertEqual(ns("12us"), 12_000)
        XCTAssertEqual(ns("12µs"), 12_000)
        XCTAssertEqual(ns("12μs"), 12_000)        // Greek mu too
        XCTAssertEqual(ns("5ms"), 5_000_000)
        XCTAssertEqual(ns("0.4ms"), 400_000)      // exact, not 399999.99…
        XCTAssertEqual(ns("1.5s"), 1_500_000_000)
        XCTAssertEqual(ns("2m"), 120_000_000_000)
        XCTAssertEqual(ns("1h"), 3_600_000_000_000)
        XCTAssertEqual(ns("3d"), 3 * 86_400_000_000_000)
        XCTAssertEqual(ns("1h30m"), 5_400_000_000_000)
        XCTAssertEqual(ns("1m30.5s"), 90_500_000_000)
        XCTAssertEqual(ns("0"), 0)
        XCTAssertEqual(ns("0ms"), 0)
        XCTAssertEqual(ns(" 5 ms "), 5_000_000)
        XCTAssertEqual(ns("1_000ms"), 1_000_000_000)
    }

    func testBadDurations() {
        XCTAssertNil(ns("-5ms"))
        XCTAssertTrue(failure(Units.duration("-5ms")).contains("cannot be negative"))
        XCTAssertNil(ns("5"))
        XCTAssertTrue(failure(Units.duration("5")).contains("has no unit"))
        XCTAssertTrue(failure(Units.duration("5mss")).contains("unknown duration unit 'mss'"))
        XCTAssertTrue(failure(Units.duration("5sec")).contains("unknown duration unit 'sec'"))
        XCTAssertTrue(failure(Units.duration("30m1h")).contains("largest to smallest"))
        XCTAssertTrue(failure(Units.duration("1h30")).contains("without a unit"))
        XCTAssertNil(ns("ms"))
        XCTAssertNil(ns(""))
        XCTAssertNil(ns("100000000d"))            // beyond Int64 nanoseconds
    }

    func testSizes() {
        func bytes(_ t: String) -> Int64? { if case .success(let v) = Units.size(t) { return v.whole }; return nil }
        XCTAssertEqual(bytes("120B"), 120)
        XCTAssertEqual(bytes("4KB"), 4_000)
        XCTAssertEqual(bytes("4kB"), 4_000)
        XCTAssertEqual(bytes("4KiB"), 4_096)
        XCTAssertEqual(bytes("200KB"), 200_000)
        XCTAssertEqual(bytes("1.5MB"), 1_500_000)
        XCTAssertEqual(bytes("64MiB"), 67_108_864)
        XCTAssertEqual(bytes("8TiB"), 8 << 40)
        XCTAssertEqual(bytes("2GB"), 2_000_000_000)
        XCTAssertEqual(bytes("0"), 0)
        XCTAssertNil(bytes("120"))
        XCTAssertTrue(failure(Units.size("8Tb")).contains("bits"))
        XCTAssertTrue(failure(Units.size("4KIB")).contains("did you mean 'KiB'?"))
        XCTAssertTrue(failure(Units.size("-1KB")).contains("negative"))
    }

    func testRates() {
        func rate(_ t: String) -> Double? { if case .success(let v) = Units.rate(t) { return v }; return nil }
        XCTAssertEqual(rate("200/s"), 200)
        XCTAssertEqual(rate("12000/h"), 12000.0 / 3600)
        XCTAssertEqual(rate("90/m"), 1.5)
        XCTAssertEqual(rate("86400/d"), 1)
        XCTAssertEqual(rate("0.01/s"), 0.01)
        XCTAssertEqual(rate("5 / min"), 5.0 / 60)
        XCTAssertNil(rate("200"))
        XCTAssertTrue(failure(Units.rate("200")).contains("no time unit"))
        XCTAssertTrue(failure(Units.rate("200/x")).contains("unknown time unit"))
    }

    func testBandwidth() {
        func bw(_ t: String) -> Int64? { if case .success(let v) = Units.bandwidth(t) { return v }; return nil }
        XCTAssertEqual(bw("10Gbps"), 10_000_000_000)
        XCTAssertEqual(bw("500Mbps"), 500_000_000)
        XCTAssertEqual(bw("1.5Gbps"), 1_500_000_000)
        XCTAssertEqual(bw("unlimited"), 0)
        XCTAssertNil(bw("0"))
        XCTAssertNil(bw("10"))
        XCTAssertTrue(failure(Units.bandwidth("1GB/s")).contains("bits per second"))
        XCTAssertTrue(failure(Units.bandwidth("0Gbps")).contains("greater than 0"))
    }

    func testProbabilities() {
        func p(_ t: String) -> Double? { if case .success(let v) = Units.probability(t) { return v }; return nil }
        XCTAssertEqual(p("0.001"), 0.001)
        XCTAssertEqual(p("0.1%"), 0.001)
        XCTAssertEqual(p("1000ppm"), 0.001)
        XCTAssertEqual(p("0"), 0)
        XCTAssertEqual(p("1"), 1)
        XCTAssertNil(p("1.5"))
        XCTAssertNil(p("-0.1"))
        XCTAssertNil(p("abc"))
        XCTAssertEqual(Units.partsPerMillion(0.001), 1_000)
        XCTAssertEqual(Units.partsPerMillion(0.0001), 100)
        XCTAssertEqual(Units.partsPerMillion(1), 1_000_000)
    }

    func testPublicEntryPoints() throws {
        XCTAssertEqual(try ConfigUnits.duration("1h30m"), .minutes(90))
        XCTAssertEqual(try ConfigUnits.sizeBytes("4KiB"), 4096)
        XCTAssertEqual(try ConfigUnits.ratePerSecond("120/m"), 2)
        XCTAssertEqual(try ConfigUnits.bandwidthBitsPerSecond("10Gbps"), 10_000_000_000)
        XCTAssertEqual(try ConfigUnits.probability("5%"), 0.05)
        XCTAssertThrowsError(try ConfigUnits.duration("90")) { error in
            XCTAssertTrue("\(error)".hasPrefix("'90' has no unit"), "\(error)")
        }
    }

    func testNumbers() {
        XCTAssertEqual(Units.number("10_000"), 10_000)
        XCTAssertEqual(Units.number("1e-4"), 1e-4)
        XCTAssertNil(Units.number("inf"))
        XCTAssertNil(Units.number("nan"))
        XCTAssertNil(Units.number("0x10"))
        XCTAssertNil(Units.number("."))
    }

    func testSuggestions() {
        XCTAssertEqual(closest(to: "latncy", among: ["latency", "loss", "bandwidth"]), "latency")
        XCTAssertEqual(closest(to: "queue-capacity", among: ["servers", "queue_capacity"]), "queue_capacity")
        XCTAssertEqual(closest(to: "lsos", among: ["latency", "loss"]), "loss")   // transposition
        XCTAssertNil(closest(to: "xyz", among: ["latency", "loss"]))
    }
}
