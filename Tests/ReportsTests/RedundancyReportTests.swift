import XCTest
@testable import Reports
import Simulation

/// How the redundancy and divergence figures appear in the report files.
final class RedundancyReportTests: XCTestCase {
    /// A timeline sample taken before any shard existed has no margin: `null` in JSON, an
    /// empty cell in CSV — never a made-up number.
    func testMinMarginWithoutShardsIsNullNotZero() throws {
        var r = try Fixtures.goldenReport()
        r.timeline[0].minMargin = nil
        r.timeline[1].minMargin = 2
        let v = try JSONValue.parse(JSONReport.render(r, version: "t"))
        let columns = try XCTUnwrap(v.at("timeline.columns")?.array?.compactMap(\.string))
        let c = try XCTUnwrap(columns.firstIndex(of: "min_margin"))
        let rows = try XCTUnwrap(v.at("timeline.rows")?.array)
        XCTAssertEqual(rows[0].array?[c], .null)
        XCTAssertEqual(rows[1].array?[c].number, 2)
        let csv = CSVReport.timeline(r).split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(csv[1].split(separator: ",", omittingEmptySubsequences: false)[c], "")
        XCTAssertEqual(csv[2].split(separator: ",", omittingEmptySubsequences: false)[c], "2")
    }

    /// First loss, the stop and divergence reach JSON and the text summary.
    func testFirstLossAndDivergenceAreReported() throws {
        var r = try Fixtures.goldenReport()
        r.redundancy.firstLoss = .seconds(12)
        r.redundancy.lossEvents = 3
        r.redundancy.stoppedAtFirstLoss = true
        r.consistency.divergence = DivergenceFigures(time: .seconds(19), healedAt: .seconds(9), faultsActive: 0,
                                                     quietPeriod: .seconds(10), quietPeriodElapsed: true, keysCompared: 40,
                                                     divergedKeys: 4, missingOnUpNode: 3, stampMismatch: 1, nodesDown: 0)
        let v = try JSONValue.parse(JSONReport.render(r, version: "t"))
        XCTAssertEqual(v.at("redundancy.first_loss")?.string, "12s")
        XCTAssertEqual(v.at("redundancy.stopped_at_first_loss")?.bool, true)
        XCTAssertEqual(v.at("consistency.divergence.diverged_keys")?.number, 4)
        XCTAssertEqual(v.at("consistency.divergence.diverged_share")?.number, 0.1)
        let text = TextReport.render(r, performance: nil, color: false)
        XCTAssertTrue(text.contains("first loss at 12s (3 shards became unrecoverable) · run stopped there"), text)
        XCTAssertTrue(text.contains("divergence at 19s: 4 of 40 keys still disagree"), text)
    }
}
