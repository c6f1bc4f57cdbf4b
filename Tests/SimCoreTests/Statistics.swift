#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Small, self-contained statistics for the kernel's statistical tests.
///
/// Every tolerance in these tests is a critical value times a standard error, at a stated
/// significance level. Seeds are fixed, so each test is deterministic; the significance level
/// says how unlikely it is that a *correct* implementation would have failed for a given seed
/// (which is why a new seed should pass too), and the standard error says how small an error
/// the test can see.
enum Stats {
    /// Two-sided significance level used by the tests: 1 in 10,000 per check.
    static let alpha = 1e-4

    /// The standard normal CDF Φ(x).
    static func normalCDF(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }

    /// The standard normal quantile Φ⁻¹(p), by Acklam's rational approximation refined with one
    /// Halley step (relative error below 1e-12 over (0, 1)).
    static func normalQuantile(_ p: Double) -> Double {
        precondition(p > 0 && p < 1, "normalQuantile: p must be in (0, 1), got \(p)")
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                 -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        let low = 0.02425
        var x: Double
        if p < low {
            let q = (-2 * log(p)).squareRoot()
            x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        } else if p <= 1 - low {
            let q = p - 0.5, r = q * q
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
                / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        } else {
            let q = (-2 * log(1 - p)).squareRoot()
            x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        let e = normalCDF(x) - p
        let u = e * (2 * Double.pi).squareRoot() * exp(x * x / 2)
        x -= u / (1 + x * u / 2)
        return x
    }

    /// The two-sided critical value z with P(|Z| > z) = alpha (3.89 for 1e-4).
    static var z: Double { normalQuantile(1 - alpha / 2) }

    /// Student's t quantile by the Cornish–Fisher expansion (Abramowitz & Stegun 26.7.5);
    /// accurate to about 1e-3 for 10 or more degrees of freedom, which is all the tests use.
    static func tQuantile(_ p: Double, degreesOfFreedom nu: Int) -> Double {
        precondition(nu >= 10, "tQuantile: the expansion needs at least 10 degrees of freedom")
        let x = normalQuantile(p), n = Double(nu)
        let x3 = x * x * x, x5 = x3 * x * x, x7 = x5 * x * x, x9 = x7 * x * x
        let g1 = (x3 + x) / 4
        let g2 = (5 * x5 + 16 * x3 + 3 * x) / 96
        let g3 = (3 * x7 + 19 * x5 + 17 * x3 - 15 * x) / 384
        let g4 = (79 * x9 + 776 * x7 + 1482 * x5 - 1920 * x3 - 945 * x) / 92160
        return x + g1 / n + g2 / (n * n) + g3 / (n * n * n) + g4 / (n * n * n * n)
    }

    /// The upper `alpha` critical value of χ² with k degrees of freedom (Wilson–Hilferty).
    static func chiSquareCritical(degreesOfFreedom k: Int, alpha: Double = Stats.alpha) -> Double {
        let kk = Double(k)
        let h = 2 / (9 * kk)
        let t = 1 - h + normalQuantile(1 - alpha) * h.squareRoot()
        return kk * t * t * t
    }

    /// The Kolmogorov–Smirnov critical value for n samples at level `alpha` (asymptotic:
    /// sqrt(-ln(alpha/2)/2)/sqrt(n); 1.95/sqrt(n) at 1e-3, 2.15/sqrt(n) at 1e-4).
    static func ksCritical(n: Int, alpha: Double = Stats.alpha) -> Double {
        (-log(alpha / 2) / 2).squareRoot() / Double(n).squareRoot()
    }

    /// Mean and sample standard deviation.
    static func meanAndSD(_ xs: [Double]) -> (mean: Double, sd: Double) {
        var mean = 0.0, m2 = 0.0, n = 0.0
        for x in xs {  // Welford: stable for large counts
            n += 1
            let d = x - mean
            mean += d / n
            m2 += d * (x - mean)
        }
        return (mean, (m2 / (n - 1)).squareRoot())
    }

    /// The KS statistic sup |F_n(x) − F(x)| for samples against a continuous CDF.
    static func ksStatistic(_ samples: [Double], cdf: (Double) -> Double) -> Double {
        let sorted = samples.sorted()
        let n = Double(sorted.count)
        var d = 0.0
        for (i, x) in sorted.enumerated() {
            let f = cdf(x)
            d = Swift.max(d, f - Double(i) / n, Double(i + 1) / n - f)
        }
        return d
    }

    /// Batch means: splits a sequence of observations into `batches` consecutive batches and
    /// returns the grand mean and the standard error estimated from the batch means. With
    /// batches much longer than the correlation time of the sequence, the batch means are
    /// nearly independent and normal, so the standard error is honest for autocorrelated data
    /// such as successive waiting times in a queue.
    static func batchMeans(_ xs: [Double], batches: Int) -> (mean: Double, standardError: Double) {
        let size = xs.count / batches
        var means: [Double] = []
        for b in 0..<batches {
            var s = 0.0
            for x in xs[(b * size)..<((b + 1) * size)] { s += x }
            means.append(s / Double(size))
        }
        let (m, sd) = meanAndSD(means)
        return (m, sd / Double(batches).squareRoot())
    }
}
