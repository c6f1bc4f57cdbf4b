import XCTest
@testable import Reports
import Simulation

final class FormatTests: XCTestCase {
    func testNumbers() {
        XCTAssertEqual(Format.fixed(1.125, 2), "1.13")
        XCTAssertEqual(Format.fixed(-0.5, 0), "-1")
        XCTAssertEqual(Format.fixed(12.3, 3), "12.300")
        XCTAssertEqual(Format.num(3), "3")
        XCTAssertEqual(Format.num(12.3456), "12.35")
        XCTAssertEqual(Format.num(0.0001234), "0.000123")
        XCTAssertEqual(Format.percent(0.99995), "99.995%")
        XCTAssertEqual(Format.percent(1), "100%")
        XCTAssertEqual(Format.percent(0.351), "35.1%")
        XCTAssertEqual(Format.bytes(1536), "1.5 KiB")
        XCTAssertEqual(Format.seconds(90), "90s")
        XCTAssertEqual(Format.seconds(7200), "2.0h")
    }

    func testEscaping() {
        XCTAssertEqual(Format.xml("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;?")
        XCTAssertEqual(Format.csv("a,b"), "\"a,b\"")
        XCTAssertEqual(Format.csv("say \"hi\""), "\"say \"\"hi\"\"\"")
        XCTAssertEqual(Format.md("a|b"), "a\\|b")
    }

    func testKeyFigureDirections() {
        XCTAssertEqual(KeyFigures.named("availability")?.better, .higher)
        XCTAssertEqual(KeyFigures.named("p99_write_latency_ms")?.better, .lower)
        XCTAssertEqual(KeyFigures.named("lost_acked_writes")?.better, .lower)
        XCTAssertEqual(KeyFigures.better(for: "min_margin"), .higher)
        XCTAssertEqual(KeyFigures.better(for: "seizure_exposure"), .lower)
        // Every SLO metric is a key figure (so compare, sweep and diff cover what CI gates on).
        XCTAssertEqual(Set(SLOEvaluator.metrics.map(\.name)).subtracting(KeyFigures.all.map(\.name)), [])
    }
}
