#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A probability distribution for a timing or a size.
///
/// Every delay, service time, message size and inter-arrival time in a topology or scenario
/// file is a `Distribution`. Values are unitless `Double`s in the base unit of the field that
/// holds them: **nanoseconds** for durations, **bytes** for sizes. The YAML layer converts
/// `5ms` or `4KiB` into base units.
///
/// A distribution is a ``Shape`` plus an optional constant `offset` (added to every sample,
/// e.g. a propagation floor under a jittery queueing delay) and optional `min`/`max` clamps
/// (e.g. message sizes between 2 B and 4000 B). Sampling draws from a caller-owned
/// ``SimRandom``: a distribution holds no state, so the same value can be shared freely.
public struct Distribution: Hashable, Sendable, CustomStringConvertible {
    /// The shape of the distribution, before `offset` and clamping.
    public indirect enum Shape: Hashable, Sendable {
        /// Always `value`.
        case constant(Double)
        /// Uniform on `[low, high)`.
        case uniform(low: Double, high: Double)
        /// Exponential with the given mean (rate = 1/mean).
        case exponential(mean: Double)
        /// Normal with mean and standard deviation (samples below 0 are possible; clamp with
        /// `min` where the field cannot be negative; the YAML layer rejects an unclamped normal
        /// for durations, sizes and counts rather than clamping it silently).
        case normal(mean: Double, stddev: Double)
        /// Log-normal: `exp(N(mu, sigma))`; the median is `exp(mu)`.
        case logNormal(mu: Double, sigma: Double)
        /// Pareto (type I) with scale `xm` (the minimum) and shape `alpha`.
        case pareto(scale: Double, shape: Double)
        /// A weighted mixture: choose a component with probability weight/Σweights.
        case mixture([Component])
        /// An empirical distribution from a percentile table, linearly interpolated between
        /// points. Points are sorted by percentile, which runs from 0 to 100 inclusive.
        case empirical([Point])
    }

    /// One weighted component of a mixture.
    public struct Component: Hashable, Sendable {
        public var weight: Double
        public var distribution: Distribution
        public init(weight: Double, distribution: Distribution) {
            self.weight = weight
            self.distribution = distribution
        }
    }

    /// One point of an empirical percentile table: `value` at `percentile` (0…100).
    public struct Point: Hashable, Sendable {
        public var percentile: Double
        public var value: Double
        public init(percentile: Double, value: Double) {
            self.percentile = percentile
            self.value = value
        }
    }

    public var shape: Shape
    /// Added to every sample of the shape.
    public var offset: Double
    /// Samples below `min` are raised to it.
    public var min: Double?
    /// Samples above `max` are lowered to it.
    public var max: Double?

    public init(_ shape: Shape, offset: Double = 0, min: Double? = nil, max: Double? = nil) {
        self.shape = shape
        self.offset = offset
        self.min = min
        self.max = max
    }

    /// A distribution that always returns `value`.
    public static func constant(_ value: Double) -> Distribution { Distribution(.constant(value)) }
    public static func exponential(mean: Double) -> Distribution { Distribution(.exponential(mean: mean)) }
    public static func uniform(_ low: Double, _ high: Double) -> Distribution { Distribution(.uniform(low: low, high: high)) }
    /// A log-normal with the given median and sigma (`mu = ln(median)`).
    public static func logNormal(median: Double, sigma: Double) -> Distribution {
        Distribution(.logNormal(mu: log(median), sigma: sigma))
    }

    // MARK: Sampling

    /// Draws one sample.
    ///
    /// Uses a fixed number of generator outputs per shape (mixtures: one more for the choice),
    /// so a change of parameters never shifts the stream of another component.
    @inlinable
    public func sample(_ rng: inout SimRandom) -> Double {
        var x = Distribution.sampleShape(shape, &rng) + offset
        if let lo = min, x < lo { x = lo }
        if let hi = max, x > hi { x = hi }
        return x
    }

    @usableFromInline
    static func sampleShape(_ shape: Shape, _ rng: inout SimRandom) -> Double {
        switch shape {
        case .constant(let v):
            return v
        case .uniform(let lo, let hi):
            return lo + (hi - lo) * rng.unit()
        case .exponential(let mean):
            return -mean * log(rng.unitOpenClosed())
        case .normal(let mean, let sd):
            return mean + sd * standardNormal(&rng)
        case .logNormal(let mu, let sigma):
            return exp(mu + sigma * standardNormal(&rng))
        case .pareto(let xm, let alpha):
            return xm / pow(rng.unitOpenClosed(), 1 / alpha)
        case .mixture(let components):
            var total = 0.0
            for c in components { total += c.weight }
            var u = rng.unit() * total
            for c in components {
                if u < c.weight { return c.distribution.sample(&rng) }
                u -= c.weight
            }
            return components[components.count - 1].distribution.sample(&rng)
        case .empirical(let points):
            return interpolate(points, percentile: rng.unit() * 100)
        }
    }

    /// A standard normal deviate by Box–Muller, using exactly two generator outputs.
    @inlinable
    static func standardNormal(_ rng: inout SimRandom) -> Double {
        let u1 = rng.unitOpenClosed()
        let u2 = rng.unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// The value at percentile `p` of a table: linear between points, the first value below
    /// the first point and the last value above the last point (never extrapolated).
    @usableFromInline
    static func interpolate(_ points: [Point], percentile p: Double) -> Double {
        var lo = points[0]
        if p <= lo.percentile { return lo.value }
        for hi in points.dropFirst() {
            if p <= hi.percentile {
                let span = hi.percentile - lo.percentile
                if span <= 0 { return hi.value }
                return lo.value + (hi.value - lo.value) * (p - lo.percentile) / span
            }
            lo = hi
        }
        return points[points.count - 1].value
    }

    // MARK: Theory (for validation, reports and tests)

    /// The exact mean, where it exists and clamps are absent; `nil` otherwise
    /// (for example Pareto with shape ≤ 1, or a clamped distribution).
    public var mean: Double? {
        guard min == nil, max == nil, let m = Distribution.shapeMean(shape) else { return nil }
        return m + offset
    }

    static func shapeMean(_ shape: Shape) -> Double? {
        switch shape {
        case .constant(let v): return v
        case .uniform(let lo, let hi): return (lo + hi) / 2
        case .exponential(let mean): return mean
        case .normal(let mean, _): return mean
        case .logNormal(let mu, let sigma): return exp(mu + sigma * sigma / 2)
        case .pareto(let xm, let alpha): return alpha > 1 ? alpha * xm / (alpha - 1) : nil
        case .mixture(let cs):
            var total = 0.0, acc = 0.0
            for c in cs {
                guard let m = c.distribution.mean else { return nil }
                total += c.weight; acc += c.weight * m
            }
            return total > 0 ? acc / total : nil
        case .empirical(let points):
            // Piecewise-linear CDF: the mean is the average of segment midpoints weighted by span,
            // plus the mass below the first and above the last point, which `interpolate` puts
            // on the first and last values.
            guard let first = points.first, let last = points.last else { return nil }
            var acc = first.percentile / 100 * first.value + (100 - last.percentile) / 100 * last.value
            for i in points.indices.dropFirst() {
                let w = (points[i].percentile - points[i - 1].percentile) / 100
                acc += w * (points[i].value + points[i - 1].value) / 2
            }
            return acc
        }
    }

    /// The exact quantile `q` (0 < q < 1) for single shapes without clamps; `nil` for
    /// mixtures and normals (no closed form needed here).
    public func quantile(_ q: Double) -> Double? {
        guard min == nil, max == nil else { return nil }
        let base: Double?
        switch shape {
        case .constant(let v): base = v
        case .uniform(let lo, let hi): base = lo + (hi - lo) * q
        case .exponential(let mean): base = -mean * log(1 - q)
        case .pareto(let xm, let alpha): base = xm / pow(1 - q, 1 / alpha)
        case .empirical(let points): base = Distribution.interpolate(points, percentile: q * 100)
        case .logNormal, .normal, .mixture: base = nil
        }
        return base.map { $0 + offset }
    }

    /// The smallest value a sample can take (used by validation, e.g. to reject a latency
    /// that can go negative). `-infinity` for a normal without a `min` clamp.
    public var lowerBound: Double {
        var lb: Double
        switch shape {
        case .constant(let v): lb = v
        case .uniform(let lo, let hi): lb = Swift.min(lo, hi)
        case .exponential: lb = 0
        case .normal: lb = -.infinity
        case .logNormal: lb = 0
        case .pareto(let xm, _): lb = xm
        case .mixture(let cs): lb = cs.map(\.distribution.lowerBound).min() ?? 0
        case .empirical(let points): lb = points.map(\.value).min() ?? 0
        }
        lb += offset
        // Same order as `sample`: raise to `min`, then lower to `max`.
        if let lo = min { lb = Swift.max(lb, lo) }
        if let hi = max { lb = Swift.min(lb, hi) }
        return lb
    }

    // MARK: Description

    /// A compact, stable description in the YAML syntax's vocabulary (units not applied).
    public var description: String {
        var s = Distribution.describe(shape)
        if offset != 0 { s += "+\(fmt(offset))" }
        if let lo = min { s += " min \(fmt(lo))" }
        if let hi = max { s += " max \(fmt(hi))" }
        return s
    }

    static func describe(_ shape: Shape) -> String {
        switch shape {
        case .constant(let v): return fmt(v)
        case .uniform(let lo, let hi): return "uniform(\(fmt(lo)), \(fmt(hi)))"
        case .exponential(let m): return "exponential(mean \(fmt(m)))"
        case .normal(let m, let sd): return "normal(\(fmt(m)), sd \(fmt(sd)))"
        case .logNormal(let mu, let sigma): return "lognormal(median \(fmt(exp(mu))), sigma \(fmt(sigma)))"
        case .pareto(let xm, let a): return "pareto(scale \(fmt(xm)), shape \(fmt(a)))"
        case .mixture(let cs): return "mixture(" + cs.map { "\(fmt($0.weight))×\($0.distribution)" }.joined(separator: ", ") + ")"
        case .empirical(let ps): return "empirical(" + ps.map { "p\(fmt($0.percentile))=\(fmt($0.value))" }.joined(separator: ", ") + ")"
        }
    }
}

/// Formats a double compactly and deterministically (no locale, no exponent for ordinary values).
@usableFromInline
func fmt(_ x: Double) -> String {
    if x == x.rounded() && abs(x) < 1e15 { return String(Int64(x)) }
    return String(x)
}
