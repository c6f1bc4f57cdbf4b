import Foundation
import XCTest
@testable import Reports
import SimConfig
import Simulation

final class SweepTests: XCTestCase {
    static let replay = "dcsim run tiny.yaml"

    /// A sweep of the tiny scenario (or one shard of it).
    static func sweep(seeds: String, shard: Shard = .whole, jobs: Int) throws -> SweepPart {
        try Sweep.run(Fixtures.tinyScenario(), seeds: SeedList.parse(seeds), shard: shard, jobs: jobs,
                      version: "test", replay: replay)
    }

    /// The headline property: merging the parts of a split gives exactly the bytes of the
    /// unsharded sweep — whatever the split and the number of worker threads.
    func testMergeOfShardsEqualsUnshardedSweepByteForByte() throws {
        let seeds = "1...6"
        let whole = SweepSummary(try Self.sweep(seeds: seeds, jobs: 1)).json()
        let parallel = SweepSummary(try Self.sweep(seeds: seeds, jobs: 3)).json()
        XCTAssertEqual(whole, parallel, "sweep.json must not depend on --jobs")

        // Parts go through their files' bytes, as on separate machines.
        let texts = try (1...4).map { i in SweepSummary.partJSON(try Self.sweep(seeds: seeds, shard: Shard(index: i, count: 4), jobs: 2)) }
        let parts = try texts.enumerated().map { try SweepSummary.readPart($0.element, name: "part\($0.offset + 1)") }
        // Any order of part files.
        let merged = try Sweep.merge(parts.reversed(), names: ["p4", "p3", "p2", "p1"])
        XCTAssertEqual(SweepSummary(merged).json(), whole)
        XCTAssertEqual(parts.map(\.results.count), [2, 2, 1, 1])
    }

    func testSweepJSONCarriesDistributionsLossAndWorstSeeds() throws {
        let summary = SweepSummary(try Self.sweep(seeds: "1...4", jobs: 2))
        let v = try JSONValue.parse(summary.json())
        XCTAssertEqual(v["kind"]?.string, "dcsim-sweep")
        XCTAssertEqual(v.at("seeds.count")?.number, 4)
        XCTAssertEqual(v.at("results.rows")?.array?.count, 4)
        XCTAssertNotNil(v.at("figures.p99_write_latency_ms.p99")?.number)
        XCTAssertEqual(v.at("loss.seeds_with_loss")?.number, 0)
        XCTAssertEqual(v.at("loss.mttdl_s"), .null, "no loss: no point estimate")
        let lower = try XCTUnwrap(v.at("loss.mttdl_ci95_s")?.array?.first?.number)
        // 4 seeds × 8 s each (exposure counts from the start, warm-up included) = 32 s;
        // 95% lower bound 2T/χ²(0.975; 2) = 64/7.3778.
        XCTAssertEqual(lower, 64 / 7.377758908227871, accuracy: 1e-5)
        let worst = try XCTUnwrap(v["worst_seeds"]?.array)
        XCTAssertEqual(worst.count, 4)
        XCTAssertTrue(worst[0]["replay"]?.string?.hasPrefix(Self.replay + " --seed ") == true)
        // The seeds' own runs agree with the sweep's per-seed figures.
        let seed2 = try Simulator.run(Fixtures.tinyScenario().overriding(seed: 2))
        let row = try XCTUnwrap(summary.results.first { $0.seed == 2 })
        let i = try XCTUnwrap(summary.header.figures.firstIndex(of: "p99_write_latency_ms"))
        XCTAssertEqual(row.figures[i], seed2.operations.first { $0.kind == "write" }?.latency.p99)
        XCTAssertEqual(row.slosPassed, seed2.slosPassed)
    }

    /// Worst seeds come first by lost writes, then failed SLOs, then availability.
    func testWorstSeedsRanking() {
        let names = ["lost_acked_writes", "availability", "p99_write_latency_ms"]
        let header = SweepHeader(version: "t", scenario: "s", source: "s", scenarioHash: "h", topology: "t", topologyHash: "h",
                                 strategy: "x", duration: "1m", warmup: "0", payload: "sizes", slos: ["availability >= 0.99"],
                                 seeds: "1...4", seedCount: 4, replay: "dcsim run s", figures: names)
        func r(_ seed: UInt64, _ lost: Double, _ avail: Double, failed: [String] = []) -> SweepSeedResult {
            SweepSeedResult(seed: seed, figures: [lost, avail, 10], slosPassed: failed.isEmpty, failedSLOs: failed,
                            firstLossSeconds: nil, exposureSeconds: 60)
        }
        let s = SweepSummary(SweepPart(header: header, shard: .whole, results: [
            r(1, 0, 0.999), r(2, 3, 0.999), r(3, 0, 0.95, failed: ["availability"]), r(4, 0, 0.998)]))
        XCTAssertEqual(s.worst.map(\.seed), [2, 3, 4, 1])
        XCTAssertEqual(s.seedsWithLoss, 1)
        XCTAssertEqual(s.lossShare, 0.25)
        XCTAssertEqual(s.mttdl.estimate, 240)
        XCTAssertEqual(s.bySLO.map(\.failedSeeds), [1])
        XCTAssertFalse(s.passed)
        XCTAssertEqual(s.worst[0].replay, "dcsim run s --seed 2")
    }

    func testSeedListParsing() throws {
        XCTAssertEqual(try SeedList.parse("1...5").seeds, [1, 2, 3, 4, 5])
        XCTAssertEqual(try SeedList.parse("1..<4").seeds, [1, 2, 3])
        XCTAssertEqual(try SeedList.parse("9, 3...4,100").seeds, [9, 3, 4, 100])
        for bad in ["", "1...", "5...1", "3..<3", "a", "1,1", "1...3,2", "-1", "1...100000000"] {
            XCTAssertThrowsError(try SeedList.parse(bad), "'\(bad)' must be refused") { e in
                XCTAssertTrue("\(e)".contains("--seeds"), "\(e)")
            }
        }
    }

    func testShardsPartitionTheSeedList() throws {
        let seeds = Array(UInt64(1)...23)
        for n in 1...7 {
            let parts = (1...n).map { Shard(index: $0, count: n).select(seeds) }
            XCTAssertEqual(parts.flatMap { $0 }.sorted(), seeds, "shards of \(n) cover every seed once")
            XCTAssertLessThanOrEqual((parts.map(\.count).max() ?? 0) - (parts.map(\.count).min() ?? 0), 1)
        }
        XCTAssertEqual(try Shard.parse("3/16"), Shard(index: 3, count: 16))
        for bad in ["0/4", "5/4", "3", "a/b", "1/0", "-1/2"] { XCTAssertThrowsError(try Shard.parse(bad), bad) }
    }

    func testMergeRefusesIncompleteRepeatedAndMismatchedParts() throws {
        let p1 = try Self.sweep(seeds: "1...3", shard: Shard(index: 1, count: 2), jobs: 1)
        let p2 = try Self.sweep(seeds: "1...3", shard: Shard(index: 2, count: 2), jobs: 1)
        XCTAssertThrowsError(try Sweep.merge([p1], names: ["a"])) { XCTAssertTrue("\($0)".contains("missing shard 2/2"), "\($0)") }
        XCTAssertThrowsError(try Sweep.merge([p1, p1, p2], names: ["a", "b", "c"])) { XCTAssertTrue("\($0)".contains("given twice"), "\($0)") }
        var other = p2
        other.header.scenarioHash = "0000"
        XCTAssertThrowsError(try Sweep.merge([p1, other], names: ["a", "b"])) { XCTAssertTrue("\($0)".contains("scenario hash"), "\($0)") }
        var truncated = p2
        truncated.results.removeAll()
        XCTAssertThrowsError(try Sweep.merge([p1, truncated], names: ["a", "b"])) { XCTAssertTrue("\($0)".contains("seeds do not match"), "\($0)") }
        XCTAssertThrowsError(try SweepSummary.readPart(SweepSummary(p1).json(), name: "sweep.json")) {
            XCTAssertTrue("\($0)".contains("not a part file"), "\($0)")
        }
        XCTAssertThrowsError(try SweepSummary.readPart("{\"kind\": 3", name: "bad.json")) { XCTAssertTrue("\($0)".contains("bad.json"), "\($0)") }
    }

    func testPartFileRoundTrips() throws {
        let p = try Self.sweep(seeds: "4...6", shard: Shard(index: 2, count: 2), jobs: 1)
        let text = SweepSummary.partJSON(p)
        let back = try SweepSummary.readPart(text, name: "p")
        XCTAssertEqual(back.header, p.header)
        XCTAssertEqual(back.results, p.results)
        XCTAssertEqual(SweepSummary.partJSON(back), text)
        XCTAssertEqual(SweepSummary.partFileName(Shard(index: 2, count: 2)), "sweep-part-2-of-2.json")
    }

    func testTextMarkdownAndCSV() throws {
        let s = SweepSummary(try Self.sweep(seeds: "1...3", jobs: 1))
        XCTAssertTrue(s.text().contains("P(loss) = 0%"), s.text())
        XCTAssertTrue(s.markdown().hasPrefix("### dcsim sweep: small"), s.markdown())
        let csv = s.csv().split(separator: "\n")
        XCTAssertEqual(csv.count, 4)
        XCTAssertTrue(csv[0].hasPrefix("seed,lost_acked_writes,"))
    }
}
