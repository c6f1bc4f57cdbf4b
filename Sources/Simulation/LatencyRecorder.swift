import Histogram
import SimCore

/// An HDR histogram of durations, recorded in microseconds (1 µs … 1 h, 3 significant
/// digits), summarised in milliseconds.
struct LatencyRecorder {
    private var histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000,
                                              numberOfSignificantValueDigits: .three)
    private(set) var overflow: UInt64 = 0

    mutating func record(_ d: SimDuration) {
        let us = UInt64(max(1, min(d.nanoseconds / 1_000, 3_600_000_000)))
        if d.nanoseconds / 1_000 > 3_600_000_000 { overflow += 1 }
        _ = histogram.record(us)
    }

    var count: UInt64 { histogram.totalCount }

    var summary: LatencySummary {
        guard histogram.totalCount > 0 else {
            return LatencySummary(count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0)
        }
        func ms(_ us: UInt64) -> Double { Double(us) / 1000 }
        return LatencySummary(count: histogram.totalCount, mean: (histogram.mean / 1000 * 1000).rounded() / 1000,
                              p50: ms(histogram.valueAtPercentile(50)), p90: ms(histogram.valueAtPercentile(90)),
                              p99: ms(histogram.valueAtPercentile(99)), p999: ms(histogram.valueAtPercentile(99.9)),
                              max: ms(histogram.max))
    }
}
