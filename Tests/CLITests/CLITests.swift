import Foundation
import XCTest
import SimTestSupport

/// Runs the real `dcsim` binary and checks output and exit codes.
final class CLITests: XCTestCase {
    typealias Result = DCSimProcess.Result

    func dcsim(_ args: [String], cwd: URL? = nil) throws -> Result {
        try DCSimProcess.run(args, cwd: cwd)
    }

    /// A fresh directory, removed when the test ends.
    func tempDir() throws -> URL {
        let d = try DCSimProcess.tempDir()
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    func testRunDefaultFromAnyDirectoryPrintsSummary() throws {
        let r = try dcsim(["run", "--duration", "90s"], cwd: try tempDir())
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("Operations"), r.stdout)
        XCTAssertTrue(r.stdout.contains("lost acknowledged writes 0"), r.stdout)
    }

    func testJSONReportIsByteIdenticalAcrossProcesses() throws {
        let a = try tempDir(), b = try tempDir()
        XCTAssertEqual(try dcsim(["run", "--duration", "75s", "--seed", "9", "--report", a.path, "--format", "json", "--quiet"]).status, 0)
        XCTAssertEqual(try dcsim(["run", "--duration", "75s", "--seed", "9", "--report", b.path, "--format", "json", "--quiet"]).status, 0)
        let ja = try Data(contentsOf: a.appendingPathComponent("report.json"))
        let jb = try Data(contentsOf: b.appendingPathComponent("report.json"))
        XCTAssertEqual(ja, jb)
        XCTAssertTrue(FileManager.default.fileExists(atPath: a.appendingPathComponent("performance.json").path))
        let object = try JSONSerialization.jsonObject(with: ja) as? [String: Any]
        XCTAssertEqual(object?["schema_version"] as? Int, 1)
    }

    func testValidateBrokenFileNamesLineAndExitsTwo() throws {
        let dir = try tempDir()
        let file = dir.appendingPathComponent("broken.yaml")
        try """
            name: broken
            topology: telegram-5
            duration: 10m
            workload:
              users: 100
              rtae: 20/s
            """.write(to: file, atomically: true, encoding: .utf8)
        let r = try dcsim(["validate", file.path])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("broken.yaml:6"), r.stderr)
        XCTAssertTrue(r.stderr.contains("rate"), "a did-you-mean suggestion: \(r.stderr)")
        XCTAssertFalse(r.stderr.contains("Fatal error"), r.stderr)
    }

    func testValidateShippedFilesPass() throws {
        let root = TestScenarios.repositoryRoot.appendingPathComponent("Topologies")
        let files = try FileManager.default.contentsOfDirectory(atPath: root.path).filter { $0.hasSuffix(".yaml") }.map { root.appendingPathComponent($0).path }
            + FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("scenarios").path).filter { $0.hasSuffix(".yaml") }.map { root.appendingPathComponent("scenarios/\($0)").path }
        XCTAssertGreaterThanOrEqual(files.count, 5)
        let r = try dcsim(["validate"] + files)
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    /// `--payload-threads` moves full-payload byte work to other threads; the report must not
    /// change, and a count outside 0...16 is a usage error.
    func testPayloadThreadsChangeNothingButWallTime() throws {
        let a = try tempDir(), b = try tempDir()
        for (dir, threads) in [(a, "0"), (b, "3")] {
            let r = try dcsim(["run", "--duration", "75s", "--seed", "4", "--payload", "full", "--payload-threads", threads,
                               "--report", dir.path, "--format", "json", "--quiet"])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        XCTAssertEqual(try Data(contentsOf: a.appendingPathComponent("report.json")),
                       try Data(contentsOf: b.appendingPathComponent("report.json")))
        let bad = try dcsim(["run", "--payload-threads", "17"])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("--payload-threads") && bad.stderr.contains("allowed: 0 to 16"), bad.stderr)
        XCTAssertFalse(bad.stderr.contains("Fatal error"), bad.stderr)
    }

    func testUsageErrorsExitTwo() throws {
        XCTAssertEqual(try dcsim(["run", "--format", "pdf"]).status, 2)
        XCTAssertEqual(try dcsim(["run", "--duration", "soon"]).status, 2)
        XCTAssertEqual(try dcsim(["run", "no-such-scenario"]).status, 2)
        XCTAssertEqual(try dcsim(["run", "--strategy", "nope"]).status, 2)
        XCTAssertEqual(try dcsim(["frobnicate"]).status, 2)
    }

    func testHelpAndTopologies() throws {
        let help = try dcsim(["run", "--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("Examples"), help.stdout)
        let list = try dcsim(["topologies"])
        XCTAssertEqual(list.status, 0)
        XCTAssertTrue(list.stdout.contains("telegram-5"), list.stdout)
        let show = try dcsim(["topologies", "telegram-5"])
        XCTAssertEqual(show.status, 0)
        XCTAssertTrue(show.stdout.contains("latency"), show.stdout)
    }

    func testFailingSLOExitsOne() throws {
        let dir = try tempDir()
        let file = dir.appendingPathComponent("strict.yaml")
        try """
            name: strict
            topology: telegram-5
            duration: 30s
            workload: {users: 100, rate: 10/s}
            slo:
              p99_write_latency_ms: "<= 0.001"
            """.write(to: file, atomically: true, encoding: .utf8)
        let r = try dcsim(["run", file.path])
        XCTAssertEqual(r.status, 1, r.stderr + r.stdout)
        XCTAssertTrue(r.stdout.contains("FAIL"), r.stdout)
    }
}
