import XCTest
import SimConfig
import Replication
import SimTestSupport
@testable import Simulation

/// Issue 4: with random faults kept inside each strategy's stated tolerance
/// (`fault_budget: tolerated`, the default), no acknowledged write is ever lost — for every
/// preset — and strong strategies stay linearizable. Raft's own safety properties are in
/// StrategyPropertyRaftTests. Seeds: see ``PropertyRuns``.
final class StrategyPropertyFaultTests: XCTestCase {
    /// Failure/repair processes for every DC and node, fast enough that a 20 s run sees
    /// several (the budget drops those beyond the tolerance, and disk loss unless the
    /// strategy's tolerance includes it).
    static let chaos = "chaos: {dc_mttf: {dist: exponential, mean: 15s}, dc_mttr: {dist: exponential, mean: 4s}, node_mttf: {dist: exponential, mean: 20s}, node_mttr: {dist: exponential, mean: 3s}, disk_loss: 0.3}"
    /// Each seed's own mix of faults of every kind (partitions, loss, duplication,
    /// reordering, slow and failing disks, bit rot, clock skew…), within the budget.
    static let swarm = "swarm: {faults: 5, mean_length: 4s}"
    /// The same without clock jumps: leases (chain and sync reads, Raft `read: lease`) assume
    /// clocks that do not jump (docs/STRATEGIES.md), so their linearizability is checked
    /// under every other kind of fault.
    static let swarmSteadyClocks = "swarm: {faults: 5, mean_length: 4s, kinds: [dc-outage, node-crash, partition, latency, loss, duplication, reordering, slow-disk, failing-disk, bit-rot]}"

    func run(_ strategy: String, seed: UInt64, faults: String) throws -> SimulationReport {
        try PropertyRuns.run(seed: seed, strategy: strategy, duration: "20s", extra: faults)
    }

    /// Every preset, chaos and swarm: nothing acknowledged is lost, no read returns a version
    /// that was never written. The budget really lets faults through (whole DCs or nodes
    /// down, for every preset that tolerates any): random runs are not fault-free runs.
    func testNoPresetLosesAnAcknowledgedWriteWithinItsTolerance() throws {
        for preset in StrategyRegistry.presets.map(\.name) {
            var outages = 0
            for seed in PropertyRuns.seeds(2) {
                for (mode, faults) in [("chaos", Self.chaos), ("swarm", Self.swarm)] {
                    let r = try run(preset, seed: seed, faults: faults)
                    let label = "\(preset) seed \(seed) \(mode) (\(r.faults.count) faults: \(r.faults.map { "\($0.kind) \($0.target) \($0.detail)" }))"
                    assertNothingLost(r, label)
                    assertNoReadFromNowhere(r, label)
                    outages += r.faults.filter { $0.kind == "dc-outage" || $0.kind == "node-crash" }.count
                }
            }
            if preset != "single-dc" { XCTAssertGreaterThan(outages, 0, "\(preset): no outage admitted") }
        }
    }

    /// Chain replication and sync primary-backup under tolerated random faults (clocks that
    /// do not jump): nothing lost, no stale read, linearizable.
    func testChainAndSyncStayLinearizableUnderToleratedFaults() throws {
        for strategy in ["chain-3", "sync-3dc", "sync-2dc"] {
            for seed in PropertyRuns.seeds(3) {
                for (mode, faults) in [("chaos", Self.chaos), ("swarm", Self.swarmSteadyClocks)] {
                    let r = try run(strategy, seed: seed, faults: faults)
                    let label = "\(strategy) seed \(seed) \(mode) (\(r.faults.map { "\($0.kind) \($0.target) \($0.start)+\($0.detail)" }))"
                    assertNothingLost(r, label)
                    XCTAssertEqual(r.consistency.staleReads, 0, label)
                    assertLinearizable(r, label)
                }
            }
        }
    }

    /// Strict quorums (R + W > N, hints not counted toward W) stay fresh within their
    /// tolerance: a DC or node down, partitions, slow or failing disks. Clocks do not jump:
    /// last-writer-wins on skewed clocks lets an older write win (measured, documented).
    func testStrictQuorumsNeverReadStaleUnderToleratedFaults() throws {
        for strategy in ["quorum-3dc", "each-quorum"] {
            for seed in PropertyRuns.seeds(2) {
                for (mode, faults) in [("chaos", Self.chaos), ("swarm", Self.swarmSteadyClocks)] {
                    let r = try run(strategy, seed: seed, faults: faults)
                    let label = "\(strategy) seed \(seed) \(mode) (\(r.faults.map { "\($0.kind) \($0.target) \($0.start)+\($0.detail)" }))"
                    assertNothingLost(r, label)
                    XCTAssertEqual(r.consistency.staleReads, 0, label)
                }
            }
        }
    }
}
