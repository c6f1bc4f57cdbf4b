import XCTest
import Histogram
import SimCore
@testable import Simulation

/// `LatencyRecorder` keeps HdrHistogram's mean as it records (the library's `mean` walks every
/// bucket); it must be exactly the library's.
final class LatencyRecorderTests: XCTestCase {
    func testMeanIsTheLibrarysMean() {
        var rng = SimRandom(seed: 42)
        var recorder = LatencyRecorder()
        var reference = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000,
                                          numberOfSignificantValueDigits: .three)
        XCTAssertEqual(recorder.mean, 0)
        for i in 0..<50_000 {
            // Log-uniform from 1 µs to over an hour (values past an hour are clamped to it).
            let us = UInt64(exp(rng.unit() * log(5e9)))
            let d = SimDuration(nanoseconds: Int64(us) * 1_000)
            recorder.record(d)
            _ = reference.record(max(1, min(us, 3_600_000_000)))
            if i % 9_973 == 0 { XCTAssertEqual(recorder.mean, reference.mean, "after \(i + 1) values") }
        }
        XCTAssertEqual(recorder.count, reference.totalCount)
        XCTAssertEqual(recorder.mean, reference.mean)
        XCTAssertGreaterThan(recorder.overflow, 0)
        XCTAssertEqual(recorder.summary.mean, (reference.mean / 1000 * 1000).rounded() / 1000)
    }

    /// The closed-form median equivalent is the library's, at every bucket boundary.
    func testMedianEquivalentMatchesTheLibrary() {
        let h = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000,
                                  numberOfSignificantValueDigits: .three)
        var values: [UInt64] = Array(1...5000)
        for shift in 11..<32 { let p = UInt64(1) << UInt64(shift); values += [p - 1, p, p + 1, p + p / 3, 2 * p - 1] }
        values.append(3_600_000_000)
        for v in values { XCTAssertEqual(LatencyRecorder.medianEquivalent(v), h.medianEquivalentForValue(v), "value \(v)") }
    }
}
