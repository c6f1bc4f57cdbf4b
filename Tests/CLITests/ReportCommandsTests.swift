import Foundation
import XCTest
import SimTestSupport

/// The report commands through the real `dcsim` binary: files written, exit codes for pass,
/// fail and bad input (0/1/2), and sharded sweeps merged byte for byte.
final class ReportCommandsTests: XCTestCase {
    typealias Result = DCSimProcess.Result

    func dcsim(_ args: [String], environment: [String: String]? = nil) throws -> Result {
        try DCSimProcess.run(args, environment: environment)
    }

    /// A fresh directory, removed when the test ends.
    func tempDir() throws -> URL {
        let d = try DCSimProcess.tempDir()
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    /// A tiny scenario file: 3 measured seconds, sizes only, one SLO it meets.
    func tinyScenario(in dir: URL) throws -> String {
        let file = dir.appendingPathComponent("tiny.yaml")
        try """
            name: tiny
            topology: telegram-5
            seed: 1
            duration: 8s
            warmup: 5s
            payload: sizes
            workload: {users: 200, rate: 20/s}
            slo:
              availability: ">= 0.5"
            """.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    func files(_ dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    }

    func testRunWritesEveryFormatAndGatesOnSLOOverrides() throws {
        let dir = try tempDir()
        let scenario = try tinyScenario(in: dir)
        let out = dir.appendingPathComponent("out")
        let pass = try dcsim(["run", scenario, "--report", out.path, "--format", "all", "--quiet"])
        XCTAssertEqual(pass.status, 0, pass.stderr)
        XCTAssertEqual(try files(out), ["junit.xml", "operations.csv", "performance.json", "report.html", "report.json",
                                        "report.md", "report.txt", "timeline.csv"])
        let fail = try dcsim(["run", scenario, "--slo", "p99_write_latency_ms<=1us"])
        XCTAssertEqual(fail.status, 1, fail.stderr)
        XCTAssertTrue(fail.stdout.contains("FAIL  p99_write_latency_ms"), fail.stdout)
        XCTAssertTrue(fail.stderr.contains("--slo 'p99_write_latency_ms<=1us'"), "the reproduce line carries --slo: \(fail.stderr)")
        // Overriding the scenario's own SLO with one that cannot be met.
        XCTAssertEqual(try dcsim(["run", scenario, "--slo", "availability>=1.5", "--quiet"]).status, 1)
    }

    func testBadInputExitsTwoWithTheAllowedValues() throws {
        let dir = try tempDir()
        let scenario = try tinyScenario(in: dir)
        let slo = try dcsim(["run", scenario, "--slo", "availabilty>=0.9"])
        XCTAssertEqual(slo.status, 2)
        XCTAssertTrue(slo.stderr.contains("did you mean 'availability'") && slo.stderr.contains("allowed: lost_acked_writes"), slo.stderr)
        let format = try dcsim(["run", scenario, "--report", dir.path, "--format", "html,pdf"])
        XCTAssertEqual(format.status, 2)
        XCTAssertTrue(format.stderr.contains("allowed: text, json, markdown, junit, html, csv"), format.stderr)
        XCTAssertEqual(try dcsim(["run", scenario, "--format", "html"]).status, 2, "html needs --report")
        XCTAssertEqual(try dcsim(["sweep", scenario, "--seeds", "5...1"]).status, 2)
        XCTAssertEqual(try dcsim(["sweep", scenario, "--seeds", "1...2", "--shard", "3/2", "--report", dir.path]).status, 2)
        XCTAssertEqual(try dcsim(["sweep", scenario, "--seeds", "1...2", "--shard", "1/2"]).status, 2, "a shard needs --report")
        XCTAssertEqual(try dcsim(["sweep", scenario, "--seeds", "1...2", "--jobs", "0"]).status, 2)
        XCTAssertEqual(try dcsim(["compare", scenario, "--strategies", "async-geo,nope"]).status, 2)
        XCTAssertEqual(try dcsim(["compare", scenario]).status, 2, "no --strategies and no compare: list")
        XCTAssertEqual(try dcsim(["diff", dir.appendingPathComponent("missing.json").path, scenario]).status, 2)
        XCTAssertEqual(try dcsim(["merge", scenario]).status, 2)
    }

    func testCompareRunsStrategiesSideBySide() throws {
        let dir = try tempDir()
        let scenario = try tinyScenario(in: dir)
        let out = dir.appendingPathComponent("cmp")
        let r = try dcsim(["compare", scenario, "--strategies", "async-geo,single-dc", "--report", out.path, "--format", "all"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("async-geo") && r.stdout.contains("single-dc") && r.stdout.contains(" *"), r.stdout)
        XCTAssertEqual(try files(out), ["compare.csv", "compare.html", "compare.json", "compare.md", "compare.txt", "junit.xml"])
        let failing = try dcsim(["compare", scenario, "--strategies", "async-geo,single-dc", "--slo", "p99_write_latency_ms<=1us", "--quiet"])
        XCTAssertEqual(failing.status, 1)
    }

    /// The same sweep three ways — one process, two threads; two shards merged — gives the
    /// same sweep.json bytes.
    func testShardedSweepMergesToTheUnshardedBytes() throws {
        let dir = try tempDir()
        let scenario = try tinyScenario(in: dir)
        let whole = dir.appendingPathComponent("whole"), parts = dir.appendingPathComponent("parts"), merged = dir.appendingPathComponent("merged")
        let r = try dcsim(["sweep", scenario, "--seeds", "1...4", "--jobs", "2", "--report", whole.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("Worst seeds") && r.stdout.contains("dcsim run"), r.stdout)
        XCTAssertFalse(r.stderr.contains("\r"), "no progress bar when stderr is not a terminal")
        for i in 1...2 {
            let s = try dcsim(["sweep", scenario, "--seeds", "1...4", "--jobs", "1", "--shard", "\(i)/2", "--report", parts.path, "--quiet"])
            XCTAssertEqual(s.status, 0, s.stderr)
        }
        XCTAssertEqual(try files(parts), ["sweep-part-1-of-2.json", "sweep-part-2-of-2.json"])
        let m = try dcsim(["merge"] + (try files(parts)).map { parts.appendingPathComponent($0).path } + ["--report", merged.path, "--quiet"])
        XCTAssertEqual(m.status, 0, m.stderr)
        XCTAssertEqual(try Data(contentsOf: merged.appendingPathComponent("sweep.json")),
                       try Data(contentsOf: whole.appendingPathComponent("sweep.json")))
        let missing = try dcsim(["merge", parts.appendingPathComponent("sweep-part-1-of-2.json").path, "--report", merged.path])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("missing shard 2/2"), missing.stderr)
        // A sweep whose seeds fail an SLO exits 1.
        XCTAssertEqual(try dcsim(["sweep", scenario, "--seeds", "1...2", "--slo", "p99_write_latency_ms<=1us", "--quiet"]).status, 1)
    }

    func testDiffGatesOnAllowances() throws {
        let dir = try tempDir()
        let scenario = try tinyScenario(in: dir)
        let base = dir.appendingPathComponent("base")
        XCTAssertEqual(try dcsim(["run", scenario, "--report", base.path, "--format", "json", "--quiet"]).status, 0)
        let baseJSON = base.appendingPathComponent("report.json")
        // A copy whose p99 write latency doubled.
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: baseJSON)) as? [String: Any])
        var figures = try XCTUnwrap(object["figures"] as? [String: Any])
        let p99 = try XCTUnwrap(figures["p99_write_latency_ms"] as? Double)
        figures["p99_write_latency_ms"] = p99 * 2
        object["figures"] = figures
        let worse = dir.appendingPathComponent("worse.json")
        try JSONSerialization.data(withJSONObject: object).write(to: worse)

        let same = try dcsim(["diff", baseJSON.path, baseJSON.path, "--max-regression", "*=0"])
        XCTAssertEqual(same.status, 0, same.stdout + same.stderr)
        let over = try dcsim(["diff", baseJSON.path, worse.path, "--max-regression", "p99_write_latency_ms=10"])
        XCTAssertEqual(over.status, 1, over.stdout + over.stderr)
        XCTAssertTrue(over.stdout.contains("REGRESSION") && over.stdout.contains("+100%"), over.stdout)
        XCTAssertEqual(try dcsim(["diff", baseJSON.path, worse.path, "--max-regression", "p99_write_latency_ms=150"]).status, 0)
        XCTAssertEqual(try dcsim(["diff", baseJSON.path, worse.path]).status, 0, "no allowance: listed, not gating")
        XCTAssertEqual(try dcsim(["diff", worse.path, baseJSON.path, "--max-regression", "*=0"]).status, 0, "an improvement is no regression")
        let bad = try dcsim(["diff", baseJSON.path, worse.path, "--max-regression", "p99=10"])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("allowed: *, lost_acked_writes"), bad.stderr)
    }
}
