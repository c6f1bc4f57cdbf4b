import Foundation
import XCTest
@testable import Reports
import Simulation

/// The HTML pages parse as XML (so every inline SVG is well-formed), are self-contained, and
/// draw the charts they promise.
final class HTMLTests: XCTestCase {
    func assertSelfContainedXML(_ html: String, minimumCharts: Int, file: StaticString = #filePath, line: UInt = #line) {
        let parsed = XMLCheck.parse(html)
        XCTAssertNil(parsed.error, "not well-formed XML: \(String(describing: parsed.error))", file: file, line: line)
        XCTAssertGreaterThanOrEqual(parsed.elements.filter { $0 == "svg" }.count, minimumCharts, file: file, line: line)
        for forbidden in ["<script", "<link", "<img", "<iframe", "@import", "url(", "src="] {
            XCTAssertFalse(html.contains(forbidden), "external or active content '\(forbidden)'", file: file, line: line)
        }
        // The only URLs are XML namespace names, which browsers never fetch.
        let urls = html.components(separatedBy: "http").dropFirst().map { String($0.prefix(40)) }
        for u in urls {
            XCTAssertTrue(u.hasPrefix("://www.w3.org/2000/svg\"") || u.hasPrefix("://www.w3.org/1999/xhtml\""),
                          "unexpected URL http\(u)", file: file, line: line)
        }
    }

    func testRunReportIsWellFormedAndSelfContained() throws {
        let html = HTMLReport.render(try Fixtures.goldenReport(), context: Fixtures.context)
        // Availability, operations, latency, nodes up, redundancy margin (when reported),
        // latency percentiles, link matrix.
        assertSelfContainedXML(html, minimumCharts: 5)
        XCTAssertTrue(html.contains("dc-outage ams1"), "the fault window is labelled")
        XCTAssertTrue(html.contains("Link traffic"))
    }

    /// Each SVG also parses on its own (what a viewer extracting one chart sees).
    func testEverySVGParsesAlone() throws {
        let html = HTMLReport.render(try Fixtures.goldenReport(), context: Fixtures.context)
        let svgs = html.components(separatedBy: "<svg ").dropFirst().map { "<svg " + $0.components(separatedBy: "</svg>")[0] + "</svg>" }
        XCTAssertGreaterThanOrEqual(svgs.count, 5)
        for svg in svgs { XCTAssertNil(XMLCheck.parse(svg).error, String(svg.prefix(200))) }
    }

    /// A fault window is drawn as a shaded band at the right place on every timeline.
    func testFaultWindowIsShadedOnTimelines() throws {
        let r = try Fixtures.goldenReport()
        let svg = SVG.lineChart(title: "t", yLabel: "y", series: [SVG.Series(name: "s", color: "#000", points: [(0, 1), (20, 2)])],
                                bands: HTMLReport.bands(r, context: Fixtures.context), xMax: 20)
        // Plot area 62…650 px for 0…20 s: the window 10 s–14 s starts at 356 px, 117.6 px wide.
        XCTAssertTrue(svg.contains("<rect x=\"356.0\" y=\"28.0\" width=\"117.6\""), svg)
        XCTAssertTrue(svg.contains("warm-up"), "the warm-up is shaded too")
    }

    /// A timeline column the page has never heard of still gets a chart.
    func testVisibilityCurveAndUnknownColumnsAreDrawn() throws {
        let curve = JSONValue.object([("columns", .array([.string("after_ms"), .string("p_visible")])),
                                      ("rows", .array([.array([.double(0), .double(0.2)]), .array([.double(50), .double(0.9)]),
                                                       .array([.double(200), .double(1)])]))])
        let svg = try XCTUnwrap(HTMLReport.visibilityChart(curve))
        XCTAssertNil(XMLCheck.parse(svg).error)
        XCTAssertTrue(svg.contains("<polyline"))
        XCTAssertNil(HTMLReport.visibilityChart(.object([])))
        // The engine's shape: an array of {t_ms, reads, fresh}.
        let points = JSONValue.array([0, 20, 100].map { t in
            .object([("t_ms", .double(t)), ("reads", .int(10)), ("fresh", .double(min(1, 0.5 + t / 200)))])
        })
        let drawn = try XCTUnwrap(HTMLReport.visibilityChart(points))
        XCTAssertNil(XMLCheck.parse(drawn).error)
        XCTAssertTrue(drawn.contains("read start after the write"), "the x axis says what t is")
    }

    /// A margin below zero is drawn below the zero line, not clamped to it.
    func testNegativeValuesExtendTheAxis() {
        let svg = SVG.lineChart(title: "margin", yLabel: "copies", series: [SVG.Series(name: "m", color: "#000", points: [(0, 1), (1, -1), (2, 2)])],
                                bands: [], xMax: 2)
        XCTAssertTrue(svg.contains(">-1</text>") || svg.contains(">-2</text>"), svg)
        XCTAssertNil(XMLCheck.parse(svg).error)
    }

    func testLongSeriesAreReducedToAnEnvelope() {
        var points: [(x: Double, y: Double)] = (0..<100_000).map { (Double($0), 1) }
        points[54_321].y = 99   // a spike
        points[77_777].y = -5   // a dip
        let reduced = SVG.envelope(points, columns: 500)
        XCTAssertLessThanOrEqual(reduced.count, 1000)
        XCTAssertTrue(reduced.contains { $0.y == 99 })
        XCTAssertTrue(reduced.contains { $0.y == -5 })
        XCTAssertEqual(reduced.map(\.x), reduced.map(\.x).sorted())
    }

    func testComparisonAndSweepPagesAreWellFormed() throws {
        let comparison = try CompareTests.comparison()
        assertSelfContainedXML(comparison.html(), minimumCharts: 6)
        let summary = SweepSummary(try SweepTests.sweep(seeds: "1...4", jobs: 1))
        assertSelfContainedXML(summary.html(), minimumCharts: 1)
    }

    func testTicksAreRound() {
        XCTAssertEqual(SVG.ticks(0, 100, count: 5), [0, 20, 40, 60, 80, 100])
        XCTAssertEqual(SVG.ticks(0, 1, count: 4), [0, 0.2, 0.4, 0.6, 0.8, 1])
        XCTAssertEqual(SVG.ticks(0, 0.3, count: 3), [0, 0.1, 0.2, 0.3])
        XCTAssertEqual(SVG.niceMax(87), 100)
    }
}
