import Foundation
import XCTest
import Reports
import Simulation

/// Every report format of a small fixed run against a saved file.
///
/// Goldens change legitimately when the simulation adds or changes a figure. Regenerate all
/// of them with one command and review the diff:
///
///     DCSIM_UPDATE_GOLDEN=1 swift test --filter ReportsTests.GoldenTests
final class GoldenTests: XCTestCase {
    static let regenerate = "DCSIM_UPDATE_GOLDEN=1 swift test --filter ReportsTests.GoldenTests"

    func check(_ name: String, _ actual: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let url = Fixtures.testsDirectory.appendingPathComponent("Golden").appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["DCSIM_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(actual.utf8).write(to: url)
            return
        }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            XCTFail("missing golden file \(url.path); create it with: \(Self.regenerate)", file: file, line: line)
            return
        }
        let expected = String(decoding: data, as: UTF8.self)
        guard expected != actual else { return }
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let first = zip(e, a).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(e.count, a.count)
        XCTFail("""
            \(name) differs from Tests/ReportsTests/Golden/\(name) at line \(first + 1):
              golden: \(first < e.count ? String(e[first]) : "<end of file>")
              actual: \(first < a.count ? String(a[first]) : "<end of file>")
            If the change is intended (a new or changed figure), regenerate the goldens and review the diff:
              \(Self.regenerate)
            """, file: file, line: line)
    }

    func testText() throws {
        try check("report.txt", TextReport.render(try Fixtures.goldenReport(), performance: nil, color: false))
    }

    func testJSON() throws {
        try check("report.json", JSONReport.render(try Fixtures.goldenReport(), version: "test"))
    }

    func testMarkdown() throws {
        try check("report.md", MarkdownReport.render(try Fixtures.goldenReport(), context: Fixtures.context))
    }

    func testJUnit() throws {
        try check("junit.xml", JUnitReport.render(try Fixtures.goldenReport(), context: Fixtures.context))
    }

    func testHTML() throws {
        try check("report.html", HTMLReport.render(try Fixtures.goldenReport(), context: Fixtures.context))
    }

    func testCSV() throws {
        let r = try Fixtures.goldenReport()
        try check("timeline.csv", CSVReport.timeline(r))
        try check("operations.csv", CSVReport.operations(r))
    }

    /// The golden run is a real run: its SLOs both pass and fail, so every format shows both.
    func testGoldenRunHasPassingAndFailingSLOs() throws {
        let r = try Fixtures.goldenReport()
        XCTAssertTrue(r.slos.contains { $0.passed })
        XCTAssertTrue(r.slos.contains { !$0.passed && $0.metric == "p99_write_latency_ms" })
        XCTAssertGreaterThan(r.timeline.count, 10)
    }

    /// ReportWriter writes every format's files, and the same bytes as the renderers.
    func testWriterWritesEveryFormat() throws {
        let dir = try Fixtures.tempDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let r = try Fixtures.goldenReport()
        let written = try ReportWriter.write(r, performance: nil, formats: ReportFormat.allCases, directory: dir.path,
                                             context: Fixtures.context)
        XCTAssertEqual(written.map { ($0 as NSString).lastPathComponent },
                       ["report.txt", "report.json", "report.md", "junit.xml", "report.html", "timeline.csv", "operations.csv"])
        let md = try String(contentsOf: dir.appendingPathComponent("report.md"), encoding: .utf8)
        XCTAssertEqual(md, MarkdownReport.render(r, context: Fixtures.context))
    }

    func testFormatListParsing() throws {
        XCTAssertEqual(try ReportFormat.parseList("md,json, text"), [.text, .json, .markdown])
        XCTAssertEqual(try ReportFormat.parseList("all"), ReportFormat.allCases)
        XCTAssertThrowsError(try ReportFormat.parseList("text,pdf")) { e in
            XCTAssertTrue("\(e)".contains("'pdf'") && "\(e)".contains("junit"), "\(e)")
        }
    }
}
