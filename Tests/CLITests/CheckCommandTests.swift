import Foundation
import XCTest

/// `dcsim check`: exit codes and output on small history files.
final class CheckCommandTests: XCTestCase {
    typealias Result = DCSimProcess.Result

    func dcsim(_ args: [String], stdin: String? = nil) throws -> Result {
        try DCSimProcess.run(args, stdin: stdin)
    }

    func file(_ text: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("dcsim-check-\(UUID().uuidString).jsonl")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// A line for each event: (type, op, f, value, time); process 1, key "k".
    func lines(_ events: [(String, Int, String, String, Int)]) -> String {
        events.map { t, op, f, v, time in
            "{\"type\":\"\(t)\",\"op\":\(op),\"process\":\(op),\"key\":\"k\",\"f\":\"\(f)\",\"value\":\(v),\"time\":\(time)}"
        }.joined(separator: "\n") + "\n"
    }

    var staleRead: String {
        lines([("invoke", 1, "write", "1", 0), ("ok", 1, "write", "1", 10),
               ("invoke", 2, "write", "2", 20), ("ok", 2, "write", "2", 30),
               ("invoke", 3, "read", "null", 40), ("ok", 3, "read", "1", 50)])
    }

    func testLinearizableHistoryExitsZero() throws {
        let path = try file(lines([("invoke", 1, "write", "1", 0), ("invoke", 2, "read", "null", 5),
                                   ("ok", 1, "write", "1", 10), ("ok", 2, "read", "1", 12)]))
        let r = try dcsim(["check", path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("linearizable: all 1 keys (2 operations)"), r.stdout)
    }

    func testStaleReadExitsOneWithCounterexample() throws {
        let r = try dcsim(["check", try file(staleRead)])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("NOT linearizable: 1 of 1 keys"), r.stdout)
        XCTAssertTrue(r.stdout.contains("key \"k\": not linearizable. These 3 of its 3 operations already cannot be linearized"), r.stdout)
        XCTAssertTrue(r.stdout.contains("read -> 1"), r.stdout)
    }

    func testJSONFormatIsDeterministicJSON() throws {
        let path = try file(staleRead)
        let a = try dcsim(["check", path, "--format", "json"])
        let b = try dcsim(["check", "-", "--format", "json"], stdin: staleRead)
        XCTAssertEqual(a.status, 1)
        XCTAssertEqual(a.stdout, b.stdout)
        let object = try JSONSerialization.jsonObject(with: Data(a.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(object?["verdict"] as? String, "not_linearizable")
        let examples = object?["counterexamples"] as? [[String: Any]]
        XCTAssertEqual((examples?.first?["operations"] as? [Any])?.count, 3)
    }

    func testExhaustedBudgetSaysCouldNotDecide() throws {
        var events: [(String, Int, String, String, Int)] = []
        for op in 1...8 { events.append(("invoke", op, "write", "\(op)", 0)) }
        for op in 1...8 { events.append(("ok", op, "write", "\(op)", 100)) }
        events += [("invoke", 9, "read", "null", 150), ("ok", 9, "read", "3", 160)]
        let r = try dcsim(["check", try file(lines(events)), "--budget", "5"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stdout.hasPrefix("could not decide"), r.stdout)
        XCTAssertTrue(r.stdout.contains("\"k\""), r.stdout)
        XCTAssertEqual(try dcsim(["check", try file(lines(events))]).status, 0)
    }

    func testBadInputExitsTwoNamingLineAndField() throws {
        let path = try file(lines([("invoke", 1, "write", "1", 0)]) + "{\"type\":\"invoke\",\"op\":2,\"process\":1,\"key\":\"k\",\"f\":\"wrte\",\"time\":1}\n")
        let r = try dcsim(["check", path])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("\(path):2: field \"f\": expected one of write, read, delete; got \"wrte\""), r.stderr)
        XCTAssertFalse(r.stderr.contains("Fatal error"), r.stderr)
        XCTAssertEqual(try dcsim(["check", "/nonexistent/history.jsonl"]).status, 2)
        XCTAssertEqual(try dcsim(["check", path, "--format", "xml"]).status, 2)
        XCTAssertEqual(try dcsim(["check", path, "--budget", "0"]).status, 2)
    }
}
