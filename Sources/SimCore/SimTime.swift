/// Simulated time, in integer nanoseconds since the start of a run.
///
/// Integer time keeps event order exact and reproducible on every platform: two events
/// scheduled for "the same" instant compare equal, and ties are broken by sequence number
/// in the ``EventQueue``. An `Int64` of nanoseconds spans about 292 years of simulated time,
/// enough for long chaos runs.
public struct SimTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Nanoseconds since the start of the run.
    public var nanoseconds: Int64

    @inlinable public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    /// The start of every run.
    public static let zero = SimTime(nanoseconds: 0)
    /// A time later than any event (used as "never").
    public static let never = SimTime(nanoseconds: .max)

    @inlinable public static func < (a: SimTime, b: SimTime) -> Bool { a.nanoseconds < b.nanoseconds }
    @inlinable public static func + (t: SimTime, d: SimDuration) -> SimTime {
        SimTime(nanoseconds: t.nanoseconds &+ d.nanoseconds)
    }
    @inlinable public static func - (t: SimTime, d: SimDuration) -> SimTime {
        SimTime(nanoseconds: t.nanoseconds &- d.nanoseconds)
    }
    @inlinable public static func - (a: SimTime, b: SimTime) -> SimDuration {
        SimDuration(nanoseconds: a.nanoseconds &- b.nanoseconds)
    }
    @inlinable public static func += (t: inout SimTime, d: SimDuration) { t = t + d }

    /// Seconds since the start, as a `Double` (for reports only; never for ordering).
    public var seconds: Double { Double(nanoseconds) / 1e9 }

    public var description: String { "t+" + SimDuration(nanoseconds: nanoseconds).description }
}

/// A span of simulated time, in integer nanoseconds.
public struct SimDuration: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var nanoseconds: Int64

    @inlinable public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    public static let zero = SimDuration(nanoseconds: 0)
    @inlinable public static func nanoseconds(_ n: Int64) -> SimDuration { SimDuration(nanoseconds: n) }
    @inlinable public static func microseconds(_ n: Int64) -> SimDuration { SimDuration(nanoseconds: n * 1_000) }
    @inlinable public static func milliseconds(_ n: Int64) -> SimDuration { SimDuration(nanoseconds: n * 1_000_000) }
    @inlinable public static func seconds(_ n: Int64) -> SimDuration { SimDuration(nanoseconds: n * 1_000_000_000) }
    @inlinable public static func minutes(_ n: Int64) -> SimDuration { .seconds(n * 60) }
    @inlinable public static func hours(_ n: Int64) -> SimDuration { .seconds(n * 3_600) }

    /// Rounds a non-negative number of nanoseconds given as a `Double` (a sampled delay).
    /// Values beyond `Int64` saturate, so a heavy-tailed sample can never trap.
    @inlinable public init(sampledNanoseconds x: Double) {
        if !(x > 0) { self.nanoseconds = 0 }  // also maps NaN to 0
        else if x >= 9.2e18 { self.nanoseconds = .max / 4 }
        else { self.nanoseconds = Int64(x.rounded()) }
    }

    @inlinable public static func < (a: SimDuration, b: SimDuration) -> Bool { a.nanoseconds < b.nanoseconds }
    @inlinable public static func + (a: SimDuration, b: SimDuration) -> SimDuration {
        SimDuration(nanoseconds: a.nanoseconds &+ b.nanoseconds)
    }
    @inlinable public static func - (a: SimDuration, b: SimDuration) -> SimDuration {
        SimDuration(nanoseconds: a.nanoseconds &- b.nanoseconds)
    }
    @inlinable public static func * (a: SimDuration, k: Int64) -> SimDuration {
        SimDuration(nanoseconds: a.nanoseconds &* k)
    }

    public var seconds: Double { Double(nanoseconds) / 1e9 }
    public var milliseconds: Double { Double(nanoseconds) / 1e6 }

    /// A short human form: `0`, `750ns`, `12.5µs`, `3ms`, `1.25s`, `5m`, `2h30m`, `3d`.
    public var description: String { SimDuration.format(nanoseconds) }

    /// Formats nanoseconds in the same syntax the YAML files accept, so printed durations can
    /// be pasted back into a scenario.
    public static func format(_ ns: Int64) -> String {
        if ns == 0 { return "0" }
        if ns < 0 { return "-" + format(-ns) }
        let units: [(Int64, String)] = [(86_400_000_000_000, "d"), (3_600_000_000_000, "h"),
                                        (60_000_000_000, "m"), (1_000_000_000, "s"),
                                        (1_000_000, "ms"), (1_000, "µs"), (1, "ns")]
        // Whole multiples of large units print as compound forms (2h30m); the rest as decimals.
        if ns >= 60_000_000_000 && ns % 1_000_000_000 == 0 {
            var rest = ns
            var out = ""
            for (size, name) in units where size >= 1_000_000_000 && rest >= size {
                out += "\(rest / size)\(name)"
                rest %= size
            }
            return out
        }
        for (size, name) in units where ns >= size {
            return trimmed(Double(ns) / Double(size)) + name
        }
        return "\(ns)ns"
    }

    static func trimmed(_ x: Double) -> String {
        // Up to three decimals, trailing zeros removed; deterministic (no locale).
        let scaled = (x * 1000).rounded()
        let whole = Int64(scaled) / 1000
        var frac = Int64(scaled) % 1000
        if frac == 0 { return "\(whole)" }
        var digits = 3
        while frac % 10 == 0 { frac /= 10; digits -= 1 }
        let fracString = String(frac)
        return "\(whole)." + String(repeating: "0", count: digits - fracString.count) + fracString
    }
}
