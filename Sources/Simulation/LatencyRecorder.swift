import Histogram
import SimCore

/// An HDR histogram of durations, recorded in microseconds (1 µs … 1 h, 3 significant
/// digits), summarised in milliseconds.
struct LatencyRecorder {
    private var histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000,
                                              numberOfSignificantValueDigits: .three)
    private(set) var overflow: UInt64 = 0
    /// The sum of every recorded value's median-equivalent value (the numerator of HdrHistogram's
    /// mean), kept as values are recorded: `Histogram.mean` walks every bucket through
    /// unspecialised generic code, which cost an eighth of a sizes-mode run for ~100 recorders.
    /// Exact, so the mean is the library's (whose `Double` sum is exact below 2^53).
    private var medianSum: UInt64 = 0

    mutating func record(_ d: SimDuration) {
        let us = UInt64(max(1, min(d.nanoseconds / 1_000, 3_600_000_000)))
        if d.nanoseconds / 1_000 > 3_600_000_000 { overflow += 1 }
        _ = histogram.record(us)
        medianSum &+= LatencyRecorder.medianEquivalent(us)
    }

    /// HdrHistogram's `medianEquivalentForValue` for this configuration (unit 1, 3 significant
    /// digits: 2048 sub-buckets, so values below 2048 are exact and each doubling above halves
    /// the resolution): the middle, rounded up, of the range of values counted with `v`.
    /// Tested against the library.
    @inline(__always) static func medianEquivalent(_ v: UInt64) -> UInt64 {
        guard v >= 2048 else { return v }
        let size = UInt64(1) << UInt64(63 - v.leadingZeroBitCount - 10)
        return (v & ~(size - 1)) + size >> 1
    }

    /// HdrHistogram's mean: the median-equivalent values' average.
    var mean: Double { histogram.totalCount == 0 ? 0 : Double(medianSum) / Double(histogram.totalCount) }

    var count: UInt64 { histogram.totalCount }

    var summary: LatencySummary {
        guard histogram.totalCount > 0 else {
            return LatencySummary(count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0)
        }
        func ms(_ us: UInt64) -> Double { Double(us) / 1000 }
        return LatencySummary(count: histogram.totalCount, mean: (mean / 1000 * 1000).rounded() / 1000,
                              p50: ms(histogram.valueAtPercentile(50)), p90: ms(histogram.valueAtPercentile(90)),
                              p99: ms(histogram.valueAtPercentile(99)), p999: ms(histogram.valueAtPercentile(99.9)),
                              max: ms(histogram.max))
    }
}
