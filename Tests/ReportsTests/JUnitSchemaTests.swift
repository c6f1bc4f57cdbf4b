import Foundation
import XCTest
import Reports
@testable import Simulation

/// junit.xml validates against the Jenkins/Ant JUnit schema (Resources/junit.xsd) with
/// xmllint, and says what failed.
final class JUnitSchemaTests: XCTestCase {
    var xsd: URL { Fixtures.testsDirectory.appendingPathComponent("Resources/junit.xsd") }

    /// `xmllint --schema junit.xsd FILE`; xmllint is installed by Scripts/setup.sh
    /// (libxml2-utils). Its absence is a test failure, not a silent skip.
    func validate(_ xml: String, name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let candidates = ["/usr/bin/xmllint", "/usr/local/bin/xmllint", "/opt/homebrew/bin/xmllint"]
        guard let xmllint = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            XCTFail("xmllint not found (\(candidates.joined(separator: ", "))); install it with `bash Scripts/setup.sh` (apt package libxml2-utils)",
                    file: file, line: line)
            return
        }
        let dir = try Fixtures.tempDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent(name)
        try Data(xml.utf8).write(to: path)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: xmllint)
        p.arguments = ["--noout", "--schema", xsd.path, path.path]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = Pipe()
        try p.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "\(name) does not validate against junit.xsd:\n\(message)", file: file, line: line)
    }

    func testRunJUnitValidatesAndStatesFigureAndThreshold() throws {
        let r = try Fixtures.goldenReport()
        let xml = JUnitReport.render(r, context: Fixtures.context)
        try validate(xml, name: "junit.xml")
        let parsed = XMLCheck.parse(xml)
        XCTAssertNil(parsed.error)
        XCTAssertEqual(parsed.elements.filter { $0 == "testcase" }.count, r.slos.count)
        let failures = parsed.attributes.enumerated().filter { parsed.elements[$0.offset] == "failure" }.map(\.element)
        XCTAssertEqual(failures.count, r.slos.filter { !$0.passed }.count)
        let p99 = try XCTUnwrap(r.slos.first { $0.metric == "p99_write_latency_ms" }?.value)
        let message = try XCTUnwrap(failures.first?["message"])
        XCTAssertTrue(message.contains("p99_write_latency_ms = ") && message.contains("required <= 1 ms"), message)
        XCTAssertTrue(message.contains(String(Int(p99.rounded(.down)))), "the figure \(p99) appears in: \(message)")
    }

    func testSuitePerRunForComparisons() throws {
        let r = try Fixtures.goldenReport()
        var other = r
        other.scenario.strategy = "other"
        let xml = JUnitReport.render([(r, Fixtures.context), (other, Fixtures.context)])
        try validate(xml, name: "compare-junit.xml")
        XCTAssertEqual(XMLCheck.parse(xml).elements.filter { $0 == "testsuite" }.count, 2)
    }

    func testNoSLOsIsAnEmptyValidSuite() throws {
        var r = try Fixtures.goldenReport()
        r.slos = []
        try validate(JUnitReport.render(r, context: Fixtures.context), name: "empty.xml")
    }

    func testUnevaluatedSLOIsAnError() throws {
        var r = try Fixtures.goldenReport()
        r.slos = [SLOResult(metric: "future_metric", comparison: "<=", threshold: 1, value: nil, passed: false, detail: "unknown metric")]
        let xml = JUnitReport.render(r, context: Fixtures.context)
        try validate(xml, name: "error.xml")
        XCTAssertTrue(xml.contains("<error type=\"SLO\""), xml)
        XCTAssertTrue(xml.contains("errors=\"1\""), xml)
    }

    func testSweepJUnitValidates() throws {
        let part = try SweepTests.sweep(seeds: "1...4", jobs: 1)
        try validate(SweepSummary(part).junit(), name: "sweep-junit.xml")
    }

    /// Hostile text (quotes, ampersands, angle brackets, control characters) stays valid XML.
    func testEscaping() throws {
        var r = try Fixtures.goldenReport()
        r.scenario.name = "a<b & \"c\" 'd'\u{1}"
        let xml = JUnitReport.render(r, context: ReportContext(version: "t&t", replay: "dcsim run 'x<y'"))
        try validate(xml, name: "escaped.xml")
        XCTAssertNil(XMLCheck.parse(xml).error)
    }
}
