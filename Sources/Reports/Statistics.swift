import Foundation

/// Summary statistics for sweeps: percentiles, binomial and Poisson confidence intervals.
///
/// Pure functions of their inputs, evaluated in a fixed order, so a sweep's aggregate is
/// the same bytes however its seeds were scheduled.
public enum Statistics {
    /// The nearest-rank percentile (`q` in 0…1) of values sorted ascending.
    public static func percentile(sorted v: [Double], _ q: Double) -> Double {
        guard !v.isEmpty else { return .nan }
        let rank = Int((q * Double(v.count)).rounded(.up))
        return v[min(max(rank, 1), v.count) - 1]
    }

    /// The arithmetic mean, summed in the given order.
    public static func mean(_ v: [Double]) -> Double {
        v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count)
    }

    /// The sample standard deviation (n − 1); 0 for fewer than two values.
    public static func standardDeviation(_ v: [Double]) -> Double {
        guard v.count > 1 else { return 0 }
        let m = mean(v)
        return (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - 1)).squareRoot()
    }

    /// The Wilson score interval for a binomial share `k / n` at 95 % confidence.
    public static func wilson95(successes k: Int, trials n: Int) -> (lower: Double, upper: Double) {
        guard n > 0 else { return (0, 1) }
        let z = 1.959963984540054
        let p = Double(k) / Double(n), nn = Double(n)
        let centre = p + z * z / (2 * nn)
        let spread = z * (p * (1 - p) / nn + z * z / (4 * nn * nn)).squareRoot()
        let d = 1 + z * z / nn
        return (max(0, (centre - spread) / d), min(1, (centre + spread) / d))
    }

    /// Mean time to data loss from `losses` loss events over `exposure` (any time unit),
    /// with the exact two-sided 95 % Poisson (chi-square) interval:
    /// [2T / χ²(0.975; 2k+2), 2T / χ²(0.025; 2k)]. With no loss the estimate and the upper
    /// bound are unbounded (`nil`); the lower bound still says "at least this long".
    public static func mttdl(losses k: Int, exposure t: Double) -> (estimate: Double?, lower: Double, upper: Double?) {
        let lower = 2 * t / chiSquareQuantile(0.975, degrees: Double(2 * k + 2))
        guard k > 0 else { return (nil, lower, nil) }
        return (t / Double(k), lower, 2 * t / chiSquareQuantile(0.025, degrees: Double(2 * k)))
    }

    /// The `p` quantile of the chi-square distribution with `degrees` degrees of freedom
    /// (bisection on the regularised gamma function; exact to ~1e-12 relative).
    public static func chiSquareQuantile(_ p: Double, degrees: Double) -> Double {
        precondition(p > 0 && p < 1 && degrees > 0, "chiSquareQuantile: p in (0,1), degrees > 0")
        let a = degrees / 2
        var lo = 0.0, hi = max(1.0, degrees)
        while regularizedGammaP(a, hi / 2) < p { hi *= 2 }
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if regularizedGammaP(a, mid / 2) < p { lo = mid } else { hi = mid }
            if hi - lo <= hi * 1e-15 { break }
        }
        return (lo + hi) / 2
    }

    /// P(a, x), the regularised lower incomplete gamma function (series below a + 1,
    /// Lentz continued fraction above; Numerical Recipes §6.2).
    static func regularizedGammaP(_ a: Double, _ x: Double) -> Double {
        guard x > 0 else { return 0 }
        let logPrefix = -x + a * log(x) - lgamma(a)
        if x < a + 1 {
            var sum = 1 / a, term = 1 / a, n = a
            for _ in 0..<10_000 {
                n += 1
                term *= x / n
                sum += term
                if abs(term) < abs(sum) * 1e-16 { break }
            }
            return sum * exp(logPrefix)
        }
        let tiny = 1e-300
        var b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d
        for i in 1...10_000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-16 { break }
        }
        return 1 - exp(logPrefix) * h
    }
}
