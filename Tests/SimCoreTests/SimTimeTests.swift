import XCTest
@testable import SimCore

/// Virtual time: integer nanoseconds, arithmetic, rounding of sampled delays and the short
/// human format (which the YAML layer reads back).
final class SimTimeTests: XCTestCase {

    func testDurationConstructors() {
        XCTAssertEqual(SimDuration.nanoseconds(7).nanoseconds, 7)
        XCTAssertEqual(SimDuration.microseconds(3).nanoseconds, 3_000)
        XCTAssertEqual(SimDuration.milliseconds(3).nanoseconds, 3_000_000)
        XCTAssertEqual(SimDuration.seconds(2).nanoseconds, 2_000_000_000)
        XCTAssertEqual(SimDuration.minutes(5).nanoseconds, 300_000_000_000)
        XCTAssertEqual(SimDuration.hours(2).nanoseconds, 7_200_000_000_000)
        XCTAssertEqual(SimDuration.zero.nanoseconds, 0)
    }

    func testArithmetic() {
        let t = SimTime(nanoseconds: 1_000)
        let d = SimDuration.nanoseconds(250)
        XCTAssertEqual((t + d).nanoseconds, 1_250)
        XCTAssertEqual((t - d).nanoseconds, 750)
        XCTAssertEqual(SimTime(nanoseconds: 5_000) - t, .nanoseconds(4_000))
        XCTAssertEqual(t - SimTime(nanoseconds: 5_000), .nanoseconds(-4_000))
        var u = t
        u += .microseconds(1)
        XCTAssertEqual(u.nanoseconds, 2_000)
        XCTAssertEqual(d + d, .nanoseconds(500))
        XCTAssertEqual(d - .nanoseconds(50), .nanoseconds(200))
        XCTAssertEqual(d * 4, .microseconds(1))
        XCTAssertEqual(SimTime.zero + .seconds(3) - .seconds(3), .zero)
    }

    func testOrdering() {
        XCTAssertLessThan(SimTime.zero, SimTime(nanoseconds: 1))
        XCTAssertLessThan(SimTime(nanoseconds: -1), SimTime.zero)
        XCTAssertLessThan(SimTime(nanoseconds: .max - 1), SimTime.never)
        XCTAssertLessThan(SimDuration.milliseconds(999), SimDuration.seconds(1))
        XCTAssertEqual([SimTime(nanoseconds: 3), .zero, SimTime(nanoseconds: 2)].sorted(),
                       [.zero, SimTime(nanoseconds: 2), SimTime(nanoseconds: 3)])
    }

    func testArithmeticWrapsInsteadOfTrapping() {
        // `never` plus a delay must not crash a run; it wraps (documented `&+`).
        let wrapped = SimTime.never + .nanoseconds(1)
        XCTAssertEqual(wrapped.nanoseconds, .min)
    }

    func testSecondsConversions() {
        XCTAssertEqual(SimTime(nanoseconds: 1_500_000_000).seconds, 1.5)
        XCTAssertEqual(SimDuration.milliseconds(250).seconds, 0.25)
        XCTAssertEqual(SimDuration.microseconds(1_500).milliseconds, 1.5)
    }

    func testSampledNanosecondsRoundsAndSaturates() {
        XCTAssertEqual(SimDuration(sampledNanoseconds: 1.4).nanoseconds, 1)
        XCTAssertEqual(SimDuration(sampledNanoseconds: 1.5).nanoseconds, 2)
        XCTAssertEqual(SimDuration(sampledNanoseconds: 2.5).nanoseconds, 3, "ties away from zero")
        XCTAssertEqual(SimDuration(sampledNanoseconds: 1e9).nanoseconds, 1_000_000_000)
        XCTAssertEqual(SimDuration(sampledNanoseconds: 0).nanoseconds, 0)
        XCTAssertEqual(SimDuration(sampledNanoseconds: -5).nanoseconds, 0, "negative delays clamp to 0")
        XCTAssertEqual(SimDuration(sampledNanoseconds: -.infinity).nanoseconds, 0)
        XCTAssertEqual(SimDuration(sampledNanoseconds: .nan).nanoseconds, 0)
        // Huge samples (heavy tails) saturate far below Int64.max, so now + delay cannot wrap.
        XCTAssertEqual(SimDuration(sampledNanoseconds: 1e300).nanoseconds, .max / 4)
        XCTAssertEqual(SimDuration(sampledNanoseconds: .infinity).nanoseconds, .max / 4)
        XCTAssertEqual(SimDuration(sampledNanoseconds: 9.1e18).nanoseconds, 9_100_000_000_000_000_000)
        let later = SimTime(nanoseconds: .max / 2) + SimDuration(sampledNanoseconds: 1e300)
        XCTAssertGreaterThan(later, SimTime(nanoseconds: .max / 2))
    }

    func testFormat() {
        let cases: [(Int64, String)] = [
            (0, "0"),
            (1, "1ns"),
            (750, "750ns"),
            (999, "999ns"),
            (1_000, "1µs"),
            (12_500, "12.5µs"),
            (1_234, "1.234µs"),
            (3_000_000, "3ms"),
            (3_250_000, "3.25ms"),
            (1_000_000_000, "1s"),
            (1_250_000_000, "1.25s"),
            (59_000_000_000, "59s"),
            (60_000_000_000, "1m"),
            (90_000_000_000, "1m30s"),
            (300_000_000_000, "5m"),
            (3_600_000_000_000, "1h"),
            (9_000_000_000_000, "2h30m"),
            (9_005_000_000_000, "2h30m5s"),
            (86_400_000_000_000, "1d"),
            (259_200_000_000_000, "3d"),
            (90_000_000_000_000, "1d1h"),
            (1_500_000_000 + 60_000_000_000, "1.025m"),  // not whole seconds: decimal in the largest unit
            (-3_000_000, "-3ms"),
            (-9_000_000_000_000, "-2h30m"),
        ]
        for (ns, want) in cases {
            XCTAssertEqual(SimDuration.format(ns), want, "format(\(ns))")
            XCTAssertEqual(SimDuration(nanoseconds: ns).description, want, "description of \(ns)ns")
        }
        XCTAssertEqual(SimTime(nanoseconds: 1_250_000_000).description, "t+1.25s")
        XCTAssertEqual(SimTime.zero.description, "t+0")
    }

    func testFormatRoundsToThreeDecimals() {
        XCTAssertEqual(SimDuration.format(1_234_567), "1.235ms")
        XCTAssertEqual(SimDuration.format(1_000_400), "1ms")
        XCTAssertEqual(SimDuration.format(1_050_000), "1.05ms")
        XCTAssertEqual(SimDuration.format(1_005_000), "1.005ms")
    }
}
