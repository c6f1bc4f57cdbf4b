import XCTest
@testable import SimCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Distributions against theory: sample means within z·σ/√n of the exact mean, empirical CDF
/// values at theoretical quantiles within z·√(q(1−q)/n) of q (a distribution-free check that
/// needs no density estimate), and a Kolmogorov–Smirnov test over the whole CDF; z and the KS
/// bound are at significance 1e-4 (see `Stats`). Seeds are fixed, so the tests are
/// deterministic.
final class DistributionTests: XCTestCase {
    static let n = 100_000

    /// A shape under test: the distribution, its exact CDF, and its exact standard deviation
    /// (nil where the variance is infinite).
    struct Case: Sendable {
        var name: String
        var distribution: Distribution
        var cdf: @Sendable (Double) -> Double
        var mean: Double?
        var sd: Double?
        /// The exact quantile function, for shapes where `Distribution.quantile` is nil.
        var quantile: (@Sendable (Double) -> Double)? = nil
    }

    static let mu = log(2.0), sigma = 0.5
    static let table: [Distribution.Point] = [
        .init(percentile: 0, value: 10), .init(percentile: 50, value: 20),
        .init(percentile: 90, value: 100), .init(percentile: 100, value: 1_000),
    ]

    /// The exact CDF of a piecewise-linear percentile table.
    static func empiricalCDF(_ points: [Distribution.Point]) -> @Sendable (Double) -> Double {
        { x in
            if x < points[0].value { return 0 }
            for i in 1..<points.count where x < points[i].value {
                let (a, b) = (points[i - 1], points[i])
                return (a.percentile + (b.percentile - a.percentile) * (x - a.value) / (b.value - a.value)) / 100
            }
            return points[points.count - 1].percentile / 100
        }
    }

    static let cases: [Case] = [
        Case(name: "uniform(2, 5)", distribution: .uniform(2, 5),
             cdf: { min(max(($0 - 2) / 3, 0), 1) }, mean: 3.5, sd: 3 / 12.0.squareRoot()),
        Case(name: "exponential(mean 4)", distribution: .exponential(mean: 4),
             cdf: { $0 <= 0 ? 0 : 1 - exp(-$0 / 4) }, mean: 4, sd: 4),
        Case(name: "normal(10, sd 3)", distribution: Distribution(.normal(mean: 10, stddev: 3)),
             cdf: { Stats.normalCDF(($0 - 10) / 3) }, mean: 10, sd: 3,
             quantile: { 10 + 3 * Stats.normalQuantile($0) }),
        Case(name: "lognormal(mu ln 2, sigma 0.5)", distribution: Distribution(.logNormal(mu: mu, sigma: sigma)),
             cdf: { $0 <= 0 ? 0 : Stats.normalCDF((log($0) - mu) / sigma) },
             mean: exp(mu + sigma * sigma / 2),
             sd: ((exp(sigma * sigma) - 1) * exp(2 * mu + sigma * sigma)).squareRoot(),
             quantile: { exp(mu + sigma * Stats.normalQuantile($0)) }),
        Case(name: "pareto(scale 2, shape 3.5)", distribution: Distribution(.pareto(scale: 2, shape: 3.5)),
             cdf: { $0 < 2 ? 0 : 1 - pow(2 / $0, 3.5) }, mean: 3.5 * 2 / 2.5,
             sd: (4 * 3.5 / (2.5 * 2.5 * 1.5)).squareRoot()),
        // Infinite variance: quantiles and KS only.
        Case(name: "pareto(scale 1, shape 1.5)", distribution: Distribution(.pareto(scale: 1, shape: 1.5)),
             cdf: { $0 < 1 ? 0 : 1 - pow(1 / $0, 1.5) }, mean: 3, sd: nil),
        Case(name: "empirical table", distribution: Distribution(.empirical(table)),
             cdf: empiricalCDF(table),
             mean: 0.5 * 15 + 0.4 * 60 + 0.1 * 550,
             sd: {
                 // Piecewise uniform: E[X²] = Σ w·(a² + ab + b²)/3.
                 let m = 0.5 * 15 + 0.4 * 60 + 0.1 * 550
                 let m2 = 0.5 * (100 + 200 + 400) / 3 + 0.4 * (400 + 2_000 + 10_000) / 3 + 0.1 * (10_000 + 100_000 + 1_000_000) / 3
                 return (m2 - m * m).squareRoot()
             }()),
        Case(name: "mixture 3×exp(1) + 1×exp(10)",
             distribution: Distribution(.mixture([.init(weight: 3, distribution: .exponential(mean: 1)),
                                                  .init(weight: 1, distribution: .exponential(mean: 10))])),
             cdf: { $0 <= 0 ? 0 : 0.75 * (1 - exp(-$0)) + 0.25 * (1 - exp(-$0 / 10)) },
             mean: 0.75 * 1 + 0.25 * 10,
             sd: ((0.75 * 2 + 0.25 * 200) - 3.25 * 3.25).squareRoot()),
        Case(name: "exponential(mean 4) + offset 100", distribution: Distribution(.exponential(mean: 4), offset: 100),
             cdf: { $0 <= 100 ? 0 : 1 - exp(-($0 - 100) / 4) }, mean: 104, sd: 4),
    ]

    static func samples(_ d: Distribution, seed: UInt64, count: Int = n) -> [Double] {
        var rng = SimRandom(root: seed, label: "distribution-test")
        return (0..<count).map { _ in d.sample(&rng) }
    }

    // MARK: Against theory

    func testSampleMeansMatchTheory() {
        for (i, c) in Self.cases.enumerated() {
            let seed = UInt64(1_000 + i)
            XCTAssertEqual(c.distribution.mean ?? .nan, c.mean ?? .nan, accuracy: 1e-9 * abs(c.mean ?? 1),
                           "\(c.name): Distribution.mean")
            guard let mean = c.mean, let sd = c.sd else { continue }
            let xs = Self.samples(c.distribution, seed: seed)
            let (m, _) = Stats.meanAndSD(xs)
            let se = sd / Double(xs.count).squareRoot()
            XCTAssertEqual(m, mean, accuracy: Stats.z * se,
                           "\(c.name) seed \(seed): sample mean \(m), theory \(mean) ± \(Stats.z)·\(se)")
        }
    }

    func testEmpiricalCDFAtTheoreticalQuantiles() {
        let qs = [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99]
        for (i, c) in Self.cases.enumerated() {
            let seed = UInt64(2_000 + i)
            let xs = Self.samples(c.distribution, seed: seed).sorted()
            for q in qs {
                let x = c.distribution.quantile(q) ?? c.quantile?(q) ?? Self.invert(c.cdf, q)
                XCTAssertEqual(c.cdf(x), q, accuracy: 1e-9, "\(c.name): CDF(quantile(\(q)))")
                // Fraction of samples ≤ x is Binomial(n, q)/n.
                let below = Double(Self.countAtMost(xs, x)) / Double(xs.count)
                let se = (q * (1 - q) / Double(xs.count)).squareRoot()
                XCTAssertEqual(below, q, accuracy: Stats.z * se,
                               "\(c.name) seed \(seed): F̂(Q(\(q))) = \(below), expected \(q) ± \(Stats.z)·\(se)")
            }
        }
    }

    func testKolmogorovSmirnov() {
        for (i, c) in Self.cases.enumerated() {
            let seed = UInt64(3_000 + i)
            let xs = Self.samples(c.distribution, seed: seed)
            let d = Stats.ksStatistic(xs, cdf: c.cdf)
            let critical = Stats.ksCritical(n: xs.count)
            XCTAssertLessThan(d, critical, "\(c.name) seed \(seed): KS D = \(d) ≥ \(critical)")
        }
    }

    func testTheKolmogorovSmirnovCheckHasPower() {
        // Guard against a vacuous test: a 2% error in the exponential mean is detected.
        let xs = Self.samples(.exponential(mean: 4.08), seed: 1)
        let d = Stats.ksStatistic(xs) { $0 <= 0 ? 0 : 1 - exp(-$0 / 4) }
        XCTAssertGreaterThan(d, Stats.ksCritical(n: xs.count))
    }

    /// Solves cdf(x) = q by bisection (for shapes without a closed-form quantile).
    static func invert(_ cdf: (Double) -> Double, _ q: Double) -> Double {
        var lo = -1.0, hi = 1.0
        while cdf(lo) > q { lo *= 2 }
        while cdf(hi) < q { hi *= 2 }
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if cdf(mid) < q { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }

    static func countAtMost(_ sorted: [Double], _ x: Double) -> Int {
        var lo = 0, hi = sorted.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if sorted[mid] <= x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    // MARK: Exact quantiles

    func testQuantileFunctions() {
        XCTAssertEqual(Distribution.uniform(2, 6).quantile(0.25), 3)
        XCTAssertEqual(Distribution.exponential(mean: 2).quantile(0.5)!, 2 * log(2), accuracy: 1e-12)
        XCTAssertEqual(Distribution(.pareto(scale: 3, shape: 2)).quantile(0.75)!, 6, accuracy: 1e-12)
        XCTAssertEqual(Distribution.constant(7).quantile(0.3), 7)
        XCTAssertEqual(Distribution(.exponential(mean: 2), offset: 10).quantile(0.5)!, 10 + 2 * log(2), accuracy: 1e-12)
        XCTAssertNil(Distribution(.normal(mean: 0, stddev: 1)).quantile(0.5))
        XCTAssertNil(Distribution(.exponential(mean: 1), max: 3).quantile(0.5), "clamped: no closed form")
    }

    // MARK: Mixtures

    func testMixtureWeights() {
        let d = Distribution(.mixture([
            .init(weight: 1, distribution: .constant(1)),
            .init(weight: 0, distribution: .constant(2)),
            .init(weight: 3, distribution: .constant(3)),
            .init(weight: 6, distribution: .constant(4)),
        ]))
        let xs = Self.samples(d, seed: 44)
        let expected: [Double: Double] = [1: 0.1, 2: 0, 3: 0.3, 4: 0.6]
        for (value, p) in expected.sorted(by: { $0.key < $1.key }) {
            let freq = Double(xs.filter { $0 == value }.count) / Double(xs.count)
            if p == 0 {
                XCTAssertEqual(freq, 0, "a zero-weight component is never chosen")
            } else {
                let se = (p * (1 - p) / Double(xs.count)).squareRoot()
                XCTAssertEqual(freq, p, accuracy: Stats.z * se, "mixture seed 44: frequency of \(value)")
            }
        }
        XCTAssertEqual(d.mean!, 0.1 + 0.9 + 2.4, accuracy: 1e-12)
    }

    func testNestedMixtureMeanAndLowerBound() {
        let inner = Distribution(.mixture([.init(weight: 1, distribution: .constant(10)),
                                           .init(weight: 1, distribution: .constant(20))]), offset: 5)
        let outer = Distribution(.mixture([.init(weight: 1, distribution: inner),
                                           .init(weight: 1, distribution: .uniform(0, 2))]))
        XCTAssertEqual(inner.mean, 20)
        XCTAssertEqual(outer.mean, 10.5)
        XCTAssertEqual(outer.lowerBound, 0)
        XCTAssertNil(Distribution(.mixture([.init(weight: 1, distribution: Distribution(.pareto(scale: 1, shape: 1)))])).mean)
    }

    // MARK: Empirical tables

    func testEmpiricalInterpolation() {
        let d = Distribution(.empirical(Self.table))
        XCTAssertEqual(d.quantile(0.0), 10)
        XCTAssertEqual(d.quantile(0.25), 15)
        XCTAssertEqual(d.quantile(0.5), 20)
        XCTAssertEqual(d.quantile(0.7)!, 60, accuracy: 1e-9)
        XCTAssertEqual(d.quantile(0.95)!, 550, accuracy: 1e-9)
        XCTAssertEqual(d.quantile(1.0), 1_000)
        XCTAssertEqual(d.lowerBound, 10)
        var rng = SimRandom(seed: 5)
        for _ in 0..<10_000 {
            let x = d.sample(&rng)
            XCTAssertTrue(x >= 10 && x <= 1_000)
        }
    }

    func testEmpiricalStepAndTablesNotCoveringZeroTo100() {
        // A repeated percentile is a jump: half the mass at 1, half at 5.
        let step = Distribution(.empirical([.init(percentile: 0, value: 1), .init(percentile: 50, value: 1),
                                            .init(percentile: 50, value: 5), .init(percentile: 100, value: 5)]))
        let xs = Self.samples(step, seed: 6, count: 20_000)
        XCTAssertEqual(Set(xs), [1, 5])
        XCTAssertEqual(step.mean, 3)
        // Below the first percentile the first value holds, above the last the last value holds
        // (no extrapolation), and the mean agrees with what sampling does.
        let partial = Distribution(.empirical([.init(percentile: 10, value: 100), .init(percentile: 90, value: 200)]))
        XCTAssertEqual(partial.quantile(0.05), 100)
        XCTAssertEqual(partial.quantile(0.95), 200)
        XCTAssertEqual(partial.lowerBound, 100)
        let ys = Self.samples(partial, seed: 7)
        XCTAssertEqual(ys.min(), 100)
        XCTAssertEqual(ys.max(), 200)
        XCTAssertEqual(partial.mean!, 0.1 * 100 + 0.8 * 150 + 0.1 * 200, accuracy: 1e-9)
        let (m, _) = Stats.meanAndSD(ys)
        // Variance: the mixture of two atoms and a uniform, computed exactly.
        let atoms: Double = 0.1 * 100 * 100 + 0.1 * 200 * 200
        let segment: Double = 0.8 * (100.0 * 100 + 100 * 200 + 200 * 200) / 3
        let m2 = atoms + segment
        let sd = (m2 - 150 * 150).squareRoot()
        XCTAssertEqual(m, partial.mean!, accuracy: Stats.z * sd / Double(ys.count).squareRoot(), "seed 7")
        // A single point is a constant.
        let single = Distribution(.empirical([.init(percentile: 50, value: 42)]))
        XCTAssertEqual(Self.samples(single, seed: 8, count: 100), Array(repeating: 42, count: 100))
        XCTAssertEqual(single.mean, 42)
    }

    // MARK: Offset and clamps

    func testOffsetShiftsEverything() {
        let d = Distribution(.uniform(low: 0, high: 1), offset: 1_000)
        XCTAssertEqual(d.mean, 1_000.5)
        XCTAssertEqual(d.lowerBound, 1_000)
        XCTAssertEqual(d.quantile(0.5), 1_000.5)
        let xs = Self.samples(d, seed: 9, count: 10_000)
        XCTAssertTrue(xs.allSatisfy { $0 >= 1_000 && $0 < 1_001 })
    }

    func testClampsPutTheCutMassOnTheBounds() {
        let d = Distribution(.normal(mean: 0, stddev: 1), min: -1, max: 1.5)
        XCTAssertNil(d.mean, "no closed-form mean with clamps")
        XCTAssertEqual(d.lowerBound, -1)
        let xs = Self.samples(d, seed: 10)
        XCTAssertTrue(xs.allSatisfy { $0 >= -1 && $0 <= 1.5 })
        let n = Double(xs.count)
        for (value, p) in [(-1.0, Stats.normalCDF(-1)), (1.5, 1 - Stats.normalCDF(1.5))] {
            let freq = Double(xs.filter { $0 == value }.count) / n
            XCTAssertEqual(freq, p, accuracy: Stats.z * (p * (1 - p) / n).squareRoot(), "seed 10: mass at \(value)")
        }
        // Clamps apply after the offset.
        let shifted = Distribution(.constant(5), offset: 10, min: 0, max: 12)
        var rng = SimRandom(seed: 1)
        XCTAssertEqual(shifted.sample(&rng), 12)
        XCTAssertEqual(shifted.lowerBound, 12, "the max clamp bounds the lower bound too")
    }

    func testLowerBound() {
        XCTAssertEqual(Distribution.constant(3).lowerBound, 3)
        XCTAssertEqual(Distribution.uniform(5, 2).lowerBound, 2)
        XCTAssertEqual(Distribution.exponential(mean: 9).lowerBound, 0)
        XCTAssertEqual(Distribution(.normal(mean: 5, stddev: 1)).lowerBound, -.infinity)
        XCTAssertEqual(Distribution(.normal(mean: 5, stddev: 1), min: 0).lowerBound, 0)
        XCTAssertEqual(Distribution(.logNormal(mu: 3, sigma: 1)).lowerBound, 0)
        XCTAssertEqual(Distribution(.pareto(scale: 4, shape: 2)).lowerBound, 4)
        XCTAssertEqual(Distribution(.pareto(scale: 4, shape: 2), offset: 1).lowerBound, 5)
        XCTAssertEqual(Distribution(.exponential(mean: 1), offset: 2, min: 1).lowerBound, 2, "min below the shape's bound")
        XCTAssertEqual(Distribution(.exponential(mean: 1), offset: 2, min: 3).lowerBound, 3)
        XCTAssertEqual(Distribution(.constant(10), max: 5).lowerBound, 5)
        XCTAssertEqual(Distribution(.mixture([.init(weight: 1, distribution: .constant(7)),
                                              .init(weight: 1, distribution: .exponential(mean: 1))])).lowerBound, 0)
        XCTAssertEqual(Distribution(.empirical(Self.table), offset: -10).lowerBound, 0)
        // Every sample respects the bound.
        for (i, c) in Self.cases.enumerated() {
            let xs = Self.samples(c.distribution, seed: UInt64(i), count: 2_000)
            XCTAssertGreaterThanOrEqual(xs.min()!, c.distribution.lowerBound, c.name)
        }
    }

    // MARK: Generator use

    func testEachShapeUsesAFixedNumberOfGeneratorOutputs() {
        // So that changing a parameter never shifts the stream of draws that follow.
        let cases: [(Distribution, Int)] = [
            (.constant(1), 0),
            (.uniform(0, 1), 1),
            (.exponential(mean: 1), 1),
            (Distribution(.normal(mean: 0, stddev: 1)), 2),
            (Distribution(.logNormal(mu: 0, sigma: 1)), 2),
            (Distribution(.pareto(scale: 1, shape: 2)), 1),
            (Distribution(.empirical(Self.table)), 1),
            (Distribution(.mixture([.init(weight: 1, distribution: .constant(1)),
                                    .init(weight: 1, distribution: .constant(2))])), 1),
            (Distribution(.mixture([.init(weight: 1, distribution: Distribution(.normal(mean: 0, stddev: 1))),
                                    .init(weight: 1, distribution: Distribution(.logNormal(mu: 0, sigma: 1)))])), 3),
            (Distribution(.exponential(mean: 1), offset: 3, min: 3.5, max: 4), 1),
        ]
        for (d, draws) in cases {
            for seed: UInt64 in 0..<20 {
                var a = SimRandom(seed: seed), b = SimRandom(seed: seed)
                _ = d.sample(&a)
                for _ in 0..<draws { _ = b.next() }
                XCTAssertEqual(a.next(), b.next(), "\(d) seed \(seed): expected \(draws) draws")
            }
        }
    }

    func testSamplingIsDeterministic() {
        for c in Self.cases {
            XCTAssertEqual(Self.samples(c.distribution, seed: 5, count: 500),
                           Self.samples(c.distribution, seed: 5, count: 500), c.name)
        }
    }

    func testConvenienceConstructorsAndDescription() {
        XCTAssertEqual(Distribution.logNormal(median: 8, sigma: 0.3).shape, .logNormal(mu: log(8), sigma: 0.3))
        XCTAssertEqual(Distribution.exponential(mean: 5).description, "exponential(mean 5)")
        XCTAssertEqual(Distribution(.uniform(low: 1, high: 2.5), offset: 3, min: 0, max: 9).description,
                       "uniform(1, 2.5)+3 min 0 max 9")
        XCTAssertEqual(Distribution(.empirical([.init(percentile: 0, value: 1), .init(percentile: 100, value: 2)])).description,
                       "empirical(p0=1, p100=2)")
    }
}
