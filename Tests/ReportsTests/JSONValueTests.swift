import XCTest
import Reports

final class JSONValueTests: XCTestCase {
    /// Reading report.json and writing it again gives the same bytes (key order, integers,
    /// shortest doubles, escapes).
    func testReportRoundTripsByteForByte() throws {
        let text = JSONReport.render(try Fixtures.goldenReport(), version: "test")
        XCTAssertEqual(try JSONValue.parse(text).serialized(), text)
    }

    func testParsesTheGrammar() throws {
        let v = try JSONValue.parse(#" {"b": [1, -2.5e3, true, false, null], "a": "x\"\\\/\n\u00e9\ud83d\ude00", "c": {}} "#)
        XCTAssertEqual(v.pairs?.map(\.0), ["b", "a", "c"], "key order kept")
        XCTAssertEqual(v["b"]?.array?[0], .int(1))
        XCTAssertEqual(v["b"]?.array?[1].number, -2500)
        XCTAssertEqual(v["a"]?.string, "x\"\\/\né😀")
        XCTAssertEqual(v.at("c"), .object([]))
        XCTAssertEqual(try JSONValue.parse("12345678901234567890").number, 12345678901234567890, "too big for Int64: a double")
    }

    func testErrorsCarryLineAndColumn() {
        for (bad, line) in [("{\"a\": }", 1), ("[1,\n2,\n", 3), ("{\"a\" 1}", 1), ("\"\\q\"", 1), ("[1] 2", 1), ("tru", 1), ("-", 1)] {
            XCTAssertThrowsError(try JSONValue.parse(bad), bad) { e in
                XCTAssertEqual((e as? JSONValue.ParseError)?.line, line, "\(bad): \(e)")
            }
        }
        let deep = String(repeating: "[", count: 10_000)
        XCTAssertThrowsError(try JSONValue.parse(deep)) { XCTAssertTrue("\($0)".contains("nested deeper"), "\($0)") }
    }

    /// report.json's `figures` holds every key figure, for scripts and `dcsim diff`.
    func testReportHasFigures() throws {
        let r = try Fixtures.goldenReport()
        let v = try JSONValue.parse(JSONReport.render(r, version: "test"))
        XCTAssertEqual(v["figures"]?.pairs?.map(\.0), KeyFigures.all.map(\.name))
        XCTAssertEqual(v.at("figures.lost_acked_writes")?.number, Double(r.redundancy.lostAcknowledgedWrites))
    }
}
