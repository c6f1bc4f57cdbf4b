import XCTest
@testable import Reports

final class DiffTests: XCTestCase {
    func input(_ figures: [(String, Double)], kind: String = "report") -> Diff.Input {
        Diff.Input(kind: kind, label: kind, figures: figures.map { (name: $0.0, value: $0.1) })
    }

    func testDirectionAware() {
        let base = input([("p99_write_latency_ms", 100), ("availability", 0.999), ("lost_acked_writes", 0), ("wan_bytes", 1000)])
        let new = input([("p99_write_latency_ms", 90), ("availability", 0.99), ("lost_acked_writes", 0), ("wan_bytes", 1100)])
        let rows = Diff.compare(base, new, allowances: [])
        XCTAssertEqual(rows.map(\.status), [.better, .worse, .same, .worse], "latency down is better; availability down is worse")
        XCTAssertTrue(Diff.passed(rows), "no allowance given: listed, not gating")
        XCTAssertEqual(rows[0].changePercent ?? 0, -10, accuracy: 1e-9)
    }

    func testAllowances() throws {
        let base = input([("p99_write_latency_ms", 100), ("p50_write_latency_ms", 10), ("lost_acked_writes", 0)])
        let new = input([("p99_write_latency_ms", 111), ("p50_write_latency_ms", 10.5), ("lost_acked_writes", 1)])
        let a = try [Diff.Allowance.parse("p99_write_latency_ms=10"), Diff.Allowance.parse("*=5%")]
        let rows = Diff.compare(base, new, allowances: a)
        XCTAssertEqual(rows.map(\.status), [.regressionOverAllowance, .worse, .regressionOverAllowance])
        XCTAssertEqual(rows[1].allowance, 5, "'*' applies to figures without their own allowance")
        XCTAssertEqual(rows[2].changePercent, .infinity, "from zero, any increase is unbounded")
        XCTAssertFalse(Diff.passed(rows))
        let text = Diff.text(rows, base: base, new: new)
        XCTAssertTrue(text.contains("REGRESSION") && text.contains("+∞%"), text)
        // Over-allowance regressions are listed first.
        XCTAssertLessThan(text.range(of: "lost_acked_writes")!.lowerBound, text.range(of: "p50_write_latency_ms")!.lowerBound)
        XCTAssertTrue(Diff.markdown(rows, base: base, new: new).contains("❌ **REGRESSION**"))
    }

    func testAllowanceParsing() {
        XCTAssertEqual(try Diff.Allowance.parse("availability=0.1"), Diff.Allowance(metric: "availability", percent: 0.1))
        for bad in ["availability", "availability=-1", "availability=lots", "nope=5"] {
            XCTAssertThrowsError(try Diff.Allowance.parse(bad), bad)
        }
        XCTAssertThrowsError(try Diff.Allowance.parse("p99_write_latncy_ms=5")) { e in
            XCTAssertTrue("\(e)".contains("did you mean 'p99_write_latency_ms'"), "\(e)")
            XCTAssertTrue("\(e)".contains("allowed: *, lost_acked_writes"), "\(e)")
        }
    }

    func testReadsReportAndSweepFiles() throws {
        let report = JSONReport.render(try Fixtures.goldenReport(), version: "test")
        let r = try Diff.read(report, name: "report.json")
        XCTAssertEqual(r.kind, "report")
        XCTAssertEqual(r.figures.map(\.name), KeyFigures.all.map(\.name))
        let sweep = SweepSummary(try SweepTests.sweep(seeds: "1...2", jobs: 1)).json()
        let s = try Diff.read(sweep, name: "sweep.json")
        XCTAssertEqual(s.kind, "sweep")
        XCTAssertFalse(s.figures.isEmpty)
        XCTAssertThrowsError(try Diff.read("{\"kind\": \"dcsim-compare\"}", name: "c.json")) { XCTAssertTrue("\($0)".contains("c.json"), "\($0)") }
        XCTAssertThrowsError(try Diff.read("[1,", name: "x.json")) { XCTAssertTrue("\($0)".contains("not JSON"), "\($0)") }
        // The same file against itself: nothing changed.
        XCTAssertTrue(Diff.compare(r, r, allowances: [Diff.Allowance(metric: "*", percent: 0)]).allSatisfy { $0.status == .same })
    }
}
