import XCTest
import SimCore
import SimConfig
import Checker
import Replication
import SimTestSupport
@testable import Simulation

/// Shared driver of issue 4's property tests (StrategyProperty*Tests): many seeds of short,
/// small runs through the real engine, in sizes payload mode.
///
/// Seeds: each test runs a few seeds per strategy in CI. For a local soak, set
/// `DCSIM_PROPERTY_SEEDS` (e.g. 500) and every test runs that many seeds per strategy:
///
///     DCSIM_PROPERTY_SEEDS=500 swift test --skip-build --scratch-path .build-x --filter StrategyProperty
///
/// A failure names the strategy and the seed; rerun that one scenario with `dcsim run` (the
/// test prints the YAML it ran) to see its report and `history.jsonl`.
enum PropertyRuns {
    /// Seeds `1...n`: `ci` by default, `DCSIM_PROPERTY_SEEDS` when set.
    static func seeds(_ ci: Int) -> ClosedRange<UInt64> {
        if let text = ProcessInfo.processInfo.environment["DCSIM_PROPERTY_SEEDS"], let n = UInt64(text), n > 0 {
            return 1...n
        }
        return 1...UInt64(ci)
    }

    /// A small topology with telegram-5's DC names (so every preset, including the per-DC
    /// quorum layouts, runs on it) and few nodes: three in the DCs the per-DC presets use,
    /// one in the others. Fixed WAN latencies keep runs short and easy to read.
    static let topology = """
        name: telegram-5-mini
        description: telegram-5's DCs with few nodes, for property tests
        defaults:
          node: {servers: 4, queue_capacity: 10000, disk: 1TiB,
                 service: {read: 0.4ms, write: 1ms, delete: 0.3ms, repair: 5ms}}
          intra_dc: {latency: 250us, loss: 0, bandwidth: 25Gbps}
          wan: {per_km: 5us, route_factor: 1.4, jitter: {dist: exponential, mean: 0.5ms}, loss: 0, bandwidth: 10Gbps}
          access: 15ms
        datacenters:
          - {id: mia1, city: Miami,     lat: 25.7823, lon: -80.1933, region: americas, jurisdiction: us, nodes: 3}
          - {id: ams1, city: Amsterdam, lat: 52.3559, lon: 4.9518,   region: europe,   jurisdiction: nl, nodes: 3}
          - {id: mia2, city: Miami,     lat: 25.8195, lon: -80.3553, region: americas, jurisdiction: us, nodes: 1}
          - {id: ams2, city: Amsterdam, lat: 52.2934, lon: 4.7758,   region: europe,   jurisdiction: nl, nodes: 1}
          - {id: sin,  city: Singapore, lat: 1.3521,  lon: 103.8198, region: asia,     jurisdiction: sg, nodes: 3}
        links:
          - {between: [mia1, mia2], latency: 0.5ms, bandwidth: 100Gbps}
          - {between: [ams1, ams2], latency: 0.5ms, bandwidth: 100Gbps}
        """

    /// The scenario YAML of one run: a light load with many edits and deletes that follow
    /// their message within seconds (so keys have several versions within a short run), and
    /// the devices' sync reads right after each acknowledgement.
    static func yaml(seed: UInt64, strategy: String, duration: String, extra: String) -> String {
        """
        name: property
        topology:
        \(topology.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n"))
        seed: \(seed)
        duration: \(duration)
        warmup: 2s
        payload: sizes
        strategy: \(strategy)
        workload:
          users: 60
          rate: 12/s
          groups: 5%
          devices_per_user: 1
          edits: 30%
          deletes: 10%
          mutation_delay: {dist: exponential, mean: 2s}
          history_reads: 0.05/s
          client: {timeout: 2s, retries: 3, backoff: 100ms, failover: true}
        \(extra)
        """
    }

    static func scenario(seed: UInt64, strategy: String, duration: String = "10s", extra: String = "") throws -> Scenario {
        try ConfigLoader.loadScenario(yaml: yaml(seed: seed, strategy: strategy, duration: duration, extra: extra),
                                      source: "test:property", baseDirectory: nil)
    }

    static func run(seed: UInt64, strategy: String, duration: String = "10s", extra: String = "") throws -> SimulationReport {
        try Simulator.run(scenario(seed: seed, strategy: strategy, duration: duration, extra: extra))
    }

    /// A Raft run whose strategy value (with its observations) stays readable afterwards.
    static func runRaft(seed: UInt64, strategy: String, duration: String = "10s",
                        extra: String = "") throws -> (report: SimulationReport, raft: Raft) {
        let s = try scenario(seed: seed, strategy: strategy, duration: duration, extra: extra)
        let (_, config, _) = try StrategyRegistry.resolve(s.strategy)
        let engine = try Engine<Raft>(scenario: s, config: config)
        engine.strategy.observations = Raft.Observations()
        let report = engine.run()
        return (report, engine.strategy)
    }

    /// Every recorded key checked with a generous budget (the report's own check samples
    /// keys and stops early to stay cheap; these histories are tiny).
    static func linearizability(_ report: SimulationReport) -> CheckReport {
        LinearizabilityChecker(budget: 200_000).check(report.history?.histories() ?? [], counterexamplesMax: 1)
    }

    /// Ok reads that returned a version no write of that key had produced by the time the
    /// read completed — data from nowhere, or newer than any write. Empty when honest.
    static func readsFromNowhere(_ report: SimulationReport) -> [String] {
        var bad: [String] = []
        for h in report.history?.histories() ?? [] {
            // (version, invoked at) of every write of the key, whatever its outcome: a write
            // that failed or timed out may still have reached some copy.
            let writes = h.operations.filter { $0.kind == .write }.compactMap { w in w.value.map { ($0, w.invokeTime) } }
            for r in h.operations where r.kind == .read && r.outcome == .ok {
                guard let v = r.value, let done = r.completeTime else { continue }
                if !writes.contains(where: { $0.0 == v && $0.1 <= done }) {
                    bad.append("key \(h.key): read (invoked \(SimDuration(nanoseconds: r.invokeTime))) returned version \(v), never written before \(SimDuration(nanoseconds: done)); writes: \(writes.map(\.0))")
                }
            }
        }
        return bad
    }
}

extension XCTestCase {
    /// Asserts the no-loss and honesty figures every run must meet, naming strategy and seed.
    func assertNothingLost(_ r: SimulationReport, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertGreaterThan(r.redundancy.acknowledgedWrites, 50, "\(label): too little traffic to mean anything", file: file, line: line)
        XCTAssertEqual(r.redundancy.lostAcknowledgedWrites, 0, "\(label): lost acknowledged writes", file: file, line: line)
    }

    /// Every key's history is linearizable: the report's own check when it covered every
    /// key and decided each one, else a full check with a larger budget.
    func assertLinearizable(_ r: SimulationReport, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        if let lin = r.consistency.linearizability, lin.keys == lin.keysRecorded, lin.unknown == 0, !lin.truncated {
            XCTAssertGreaterThan(lin.keys, 20, "\(label): keys checked", file: file, line: line)
            XCTAssertEqual(lin.notLinearizable, 0, "\(label): \(lin.counterexamples.first ?? "")", file: file, line: line)
            return
        }
        let check = PropertyRuns.linearizability(r)
        XCTAssertGreaterThan(check.keys, 20, "\(label): keys checked", file: file, line: line)
        XCTAssertEqual(check.notLinearizable, 0, "\(label): \(check.counterexamples.first.map { "\($0)" } ?? "")", file: file, line: line)
        XCTAssertEqual(check.unknown, 0, "\(label): keys the checker could not decide", file: file, line: line)
    }

    func assertNoReadFromNowhere(_ r: SimulationReport, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        let bad = PropertyRuns.readsFromNowhere(r)
        XCTAssertTrue(bad.isEmpty, "\(label): \(bad.count) reads returned data never written: \(bad.prefix(3))", file: file, line: line)
    }
}

/// Issue 4's properties without faults, across seeds (see ``PropertyRuns`` for the soak).
final class StrategyPropertyTests: XCTestCase {
    /// Quorum configurations with R + W > N never return a stale read.
    func testQuorumsWithOverlappingReadAndWriteSetsNeverReadStale() throws {
        let strategies = [
            "quorum-3dc",
            "each-quorum",
            "{name: quorum, copies: 3, read_consistency: one, write_consistency: all}",
            "{name: quorum, copies: 3, read_consistency: all, write_consistency: one, read_repair: off}",
            "{name: quorum, copies: 5, read_consistency: quorum, write_consistency: quorum, write_fanout: quorum, read_fanout: quorum}",
        ]
        for strategy in strategies {
            for seed in PropertyRuns.seeds(4) {
                let r = try PropertyRuns.run(seed: seed, strategy: strategy)
                let label = "\(strategy) seed \(seed)"
                assertNothingLost(r, label)
                XCTAssertGreaterThan(r.consistency.reads, 50, label)
                XCTAssertEqual(r.consistency.staleReads, 0, label)
                assertNoReadFromNowhere(r, label)
            }
        }
    }

    /// Raft (every read mode), chain replication and sync primary-backup: every key's history
    /// is linearizable, nothing is lost, no read is stale.
    func testStrongStrategiesAreLinearizable() throws {
        let strategies = ["raft-3", "raft-5", "{name: raft-3, read: lease}", "{name: raft-3, read: log}",
                          "chain-3", "sync-2dc", "sync-3dc"]
        for strategy in strategies {
            for seed in PropertyRuns.seeds(4) {
                let r = try PropertyRuns.run(seed: seed, strategy: strategy)
                let label = "\(strategy) seed \(seed)"
                assertNothingLost(r, label)
                XCTAssertEqual(r.consistency.staleReads, 0, label)
                assertLinearizable(r, label)
            }
        }
    }

    /// Async primary-backup may read stale (measured), but loses nothing and never returns a
    /// version that was not written; the same for the erasure-coded and hybrid presets.
    func testWeakerStrategiesLoseNothing() throws {
        for strategy in ["async-geo", "single-dc", "local-quorum", "rs-6-3", "rs-4-2", "hybrid"] {
            for seed in PropertyRuns.seeds(4) {
                let r = try PropertyRuns.run(seed: seed, strategy: strategy)
                let label = "\(strategy) seed \(seed)"
                assertNothingLost(r, label)
                assertNoReadFromNowhere(r, label)
            }
        }
    }
}
