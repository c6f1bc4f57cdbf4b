import XCTest
import Reports

final class StatisticsTests: XCTestCase {
    /// Chi-square quantiles against published table values.
    func testChiSquareQuantiles() {
        let table: [(p: Double, df: Double, x: Double)] = [
            (0.975, 2, 7.377758908), (0.025, 2, 0.050635616), (0.975, 10, 20.483177350),
            (0.025, 10, 3.246972780), (0.95, 1, 3.841458821), (0.5, 30, 29.336039),
            (0.999, 4, 18.466826),
        ]
        for t in table {
            XCTAssertEqual(Statistics.chiSquareQuantile(t.p, degrees: t.df), t.x, accuracy: t.x * 1e-6, "χ²(\(t.p); \(t.df))")
        }
    }

    func testMTTDLInterval() {
        // 3 losses in 3000 h: estimate 1000 h; exact Poisson 95% bounds 2T/χ²(0.975; 8), 2T/χ²(0.025; 6).
        let m = Statistics.mttdl(losses: 3, exposure: 3000)
        XCTAssertEqual(m.estimate, 1000)
        XCTAssertEqual(m.lower, 6000 / 17.534546, accuracy: 0.01)
        XCTAssertEqual(m.upper ?? 0, 6000 / 1.237344, accuracy: 0.1)
        let none = Statistics.mttdl(losses: 0, exposure: 100)
        XCTAssertNil(none.estimate)
        XCTAssertNil(none.upper)
        XCTAssertEqual(none.lower, 200 / 7.377758908, accuracy: 1e-6)
    }

    func testWilsonInterval() {
        let w = Statistics.wilson95(successes: 0, trials: 10)
        XCTAssertEqual(w.lower, 0)
        XCTAssertEqual(w.upper, 0.2775, accuracy: 1e-4)
        let h = Statistics.wilson95(successes: 50, trials: 100)
        XCTAssertEqual(h.lower, 0.4038, accuracy: 1e-4)
        XCTAssertEqual(h.upper, 0.5962, accuracy: 1e-4)
    }

    func testPercentileMeanDeviation() {
        let v = (1...100).map(Double.init)
        XCTAssertEqual(Statistics.percentile(sorted: v, 0.5), 50)
        XCTAssertEqual(Statistics.percentile(sorted: v, 0.99), 99)
        XCTAssertEqual(Statistics.percentile(sorted: v, 1), 100)
        XCTAssertEqual(Statistics.percentile(sorted: [7], 0.9), 7)
        XCTAssertEqual(Statistics.mean([1, 2, 3, 4]), 2.5)
        XCTAssertEqual(Statistics.standardDeviation([2, 4, 4, 4, 5, 5, 7, 9]), 2.138089935, accuracy: 1e-9)
    }
}
