import XCTest
import Foundation
import Checker
import SimCore
import SimConfig
import Replication
import SimTestSupport
@testable import Simulation

/// Session guarantees per user across devices (issue 6): read-your-writes and monotonic reads.
/// The tracker on hand-written sequences with known answers; then whole runs cross-checked
/// against a brute-force recount from the recorded history (every read against every earlier
/// operation of its user on its key); then a two-DC scenario whose violations are predicted
/// from the protocol; async-geo shows read-your-writes violations, quorum-3dc (R + W > N) none.
final class SessionGuaranteeTests: XCTestCase {
    static let sync = Int(Engine<AsyncPrimaryBackup>.Origin.sync.rawValue)
    static let history = Int(Engine<AsyncPrimaryBackup>.Origin.history.rawValue)

    func v(_ n: UInt32) -> Stamp { Stamp(version: n) }

    // MARK: The tracker, by hand

    func testReadYourWritesByHand() {
        var t = SessionTracker()
        // Read 0 by user 1 of key 5 begins before the user's write is acknowledged: no floor.
        t.readBegan(op: 0, user: 1, key: 5)
        t.writeAcknowledged(user: 1, key: 5, stamp: v(1))
        XCTAssertEqual(t.readFinished(op: 0, user: 1, key: 5, origin: Self.sync, observed: Stamp.none, counted: true).readYourWrites, false)
        // Reads 1…3 begin after it: "not found" is a violation, v1 and v2 are not.
        t.readBegan(op: 1, user: 1, key: 5)
        t.readBegan(op: 2, user: 1, key: 5)
        t.readBegan(op: 3, user: 1, key: 5)
        XCTAssertEqual(t.readFinished(op: 1, user: 1, key: 5, origin: Self.sync, observed: Stamp.none, counted: true).readYourWrites, true)
        XCTAssertEqual(t.readFinished(op: 2, user: 1, key: 5, origin: Self.sync, observed: v(1), counted: true).readYourWrites, false)
        XCTAssertEqual(t.readFinished(op: 3, user: 1, key: 5, origin: Self.sync, observed: v(2), counted: true).readYourWrites, false)
        // Another user reading "not found": not their write, no read-your-writes floor.
        t.readBegan(op: 4, user: 2, key: 5)
        XCTAssertEqual(t.readFinished(op: 4, user: 2, key: 5, origin: Self.sync, observed: Stamp.none, counted: true).readYourWrites, false)
        // A delete (v3) acknowledged: "not found" that is the delete (v3) is fresh; v2 is not.
        t.writeAcknowledged(user: 1, key: 5, stamp: v(3))
        t.readBegan(op: 5, user: 1, key: 5)
        t.readBegan(op: 6, user: 1, key: 5)
        XCTAssertEqual(t.readFinished(op: 5, user: 1, key: 5, origin: Self.history, observed: v(3), counted: true).readYourWrites, false)
        XCTAssertEqual(t.readFinished(op: 6, user: 1, key: 5, origin: Self.history, observed: v(2), counted: true).readYourWrites, true)

        let f = t.figures { Engine<AsyncPrimaryBackup>.originNames[$0] }
        XCTAssertEqual(f.readsChecked, 7)
        XCTAssertEqual(f.readYourWritesChecked, 5)     // reads 1, 2, 3, 5, 6
        XCTAssertEqual(f.readYourWritesViolations, 2)  // reads 1 and 6
        XCTAssertEqual(f.readYourWritesShare, 0.4, accuracy: 1e-12)
        XCTAssertEqual(f.byOrigin.map(\.origin), ["sync", "history"])
        XCTAssertEqual(f.byOrigin.map(\.readYourWritesViolations), [1, 1])
    }

    func testMonotonicReadsByHand() {
        var t = SessionTracker()
        // Read A (user 7, key 9) returns v2. Read B began before A completed: held to nothing.
        t.readBegan(op: 10, user: 7, key: 9)
        t.readBegan(op: 11, user: 7, key: 9)
        XCTAssertEqual(t.readFinished(op: 10, user: 7, key: 9, origin: Self.sync, observed: v(2), counted: true).monotonic, false)
        XCTAssertEqual(t.readFinished(op: 11, user: 7, key: 9, origin: Self.sync, observed: v(1), counted: true).monotonic, false)
        // Read C began after A completed: v1 is older than A's v2 (violation); D's v2 is not.
        t.readBegan(op: 12, user: 7, key: 9)
        t.readBegan(op: 13, user: 7, key: 9)
        XCTAssertEqual(t.readFinished(op: 12, user: 7, key: 9, origin: Self.sync, observed: v(1), counted: true).monotonic, true)
        XCTAssertEqual(t.readFinished(op: 13, user: 7, key: 9, origin: Self.sync, observed: v(2), counted: true).monotonic, false)
        // Another user has no earlier read of the key; another key of this user neither.
        t.readBegan(op: 14, user: 8, key: 9)
        t.readBegan(op: 15, user: 7, key: 10)
        XCTAssertEqual(t.readFinished(op: 14, user: 8, key: 9, origin: Self.sync, observed: Stamp.none, counted: true).monotonic, false)
        XCTAssertEqual(t.readFinished(op: 15, user: 7, key: 10, origin: Self.sync, observed: Stamp.none, counted: true).monotonic, false)
        // A failed read checks nothing and observes nothing; "not found" after v2 is a violation.
        t.readBegan(op: 16, user: 7, key: 9)
        t.readFinished(op: 16, user: 7, key: 9, origin: Self.sync, succeeded: false, observed: v(9), counted: true)
        t.readBegan(op: 17, user: 7, key: 9)
        XCTAssertEqual(t.readFinished(op: 17, user: 7, key: 9, origin: Self.sync, observed: Stamp.none, counted: true).monotonic, true)

        let f = t.figures { Engine<AsyncPrimaryBackup>.originNames[$0] }
        XCTAssertEqual(f.readsChecked, 7)        // 10…15 and 17 (16 failed)
        XCTAssertEqual(f.monotonicChecked, 3)    // 12, 13, 17
        XCTAssertEqual(f.monotonicViolations, 2) // 12, 17
        XCTAssertEqual(f.readYourWritesChecked, 0)
        XCTAssertTrue(t.open.isEmpty, "every read's floors are released when it finishes")
    }

    /// Reads that began in warm-up are not counted, but what they observed still sets floors.
    func testWarmupReadsSetFloorsButDoNotCount() {
        var t = SessionTracker()
        t.readBegan(op: 0, user: 1, key: 1)
        t.readFinished(op: 0, user: 1, key: 1, origin: Self.sync, observed: v(4), counted: false)
        t.readBegan(op: 1, user: 1, key: 1)
        t.readFinished(op: 1, user: 1, key: 1, origin: Self.sync, observed: v(3), counted: true)
        let f = t.figures { Engine<AsyncPrimaryBackup>.originNames[$0] }
        XCTAssertEqual(f.readsChecked, 1)
        XCTAssertEqual(f.monotonicViolations, 1)
    }

    /// At the bound the oldest-inserted pair is forgotten: its reads have no floor any more.
    func testEvictionIsFirstInFirstOutAndCounted() {
        var t = SessionTracker(entriesMax: 2)
        t.writeAcknowledged(user: 1, key: 1, stamp: v(1))   // pair A
        t.writeAcknowledged(user: 1, key: 2, stamp: v(1))   // pair B
        t.writeAcknowledged(user: 1, key: 1, stamp: v(2))   // A again: no new pair
        t.writeAcknowledged(user: 2, key: 1, stamp: v(1))   // pair C: A is forgotten
        XCTAssertEqual(t.entries.count, 2)
        XCTAssertEqual(t.evicted, 1)
        t.readBegan(op: 0, user: 1, key: 1)
        t.readBegan(op: 1, user: 1, key: 2)
        XCTAssertFalse(t.readFinished(op: 0, user: 1, key: 1, origin: Self.sync, observed: Stamp.none, counted: true).readYourWrites)
        XCTAssertTrue(t.readFinished(op: 1, user: 1, key: 2, origin: Self.sync, observed: Stamp.none, counted: true).readYourWrites)
        let f = t.figures { Engine<AsyncPrimaryBackup>.originNames[$0] }
        XCTAssertEqual(f.pairsMax, 2)
        XCTAssertEqual(f.pairsPeak, 2)
        XCTAssertEqual(f.pairsEvicted, 1)
    }

    // MARK: Whole runs against a brute-force recount

    /// Recounts both guarantees from the recorded history and the engine's operations, the
    /// slow way: every successful read of a user (begun after warm-up) against every write of
    /// that user acknowledged before it began, and every read of that user completed before
    /// it began. Returns (ryw checked, ryw violations, monotonic checked, monotonic violations).
    func bruteForce<S>(_ e: Engine<S>, _ r: SimulationReport) -> (UInt64, UInt64, UInt64, UInt64) {
        let warm = (SimTime.zero + e.scenario.warmup).nanoseconds
        var ryw: (UInt64, UInt64) = (0, 0)
        var mono: (UInt64, UInt64) = (0, 0)
        // Every operation by its number: the finished ones the engine kept for the test, and
        // the ones still open at the end.
        var byNumber = [Int: Engine<S>.Operation]()
        for (op, _) in e.finishedOps! { byNumber[Int(op.serial)] = op }
        e.ops.forEach { byNumber[Int($0.serial)] = $0 }
        XCTAssertEqual(byNumber.count, Int(e.opsIssued))
        for h in r.history!.histories() {
            // The delete of the message (at most one), and when it was issued.
            let delete = h.operations.first { byNumber[Int($0.id)]!.kind == .delete }
            func observed(_ o: HistoryOperationView) -> UInt32 {
                if let v = o.value { return UInt32(v) }
                // "Not found" (or a tombstone): the delete when one had been issued by then.
                if let d = delete, d.invokeTime <= o.complete { return byNumber[Int(d.id)]!.stamp.version }
                return 0
            }
            let ops = h.operations.map { HistoryOperationView($0, byNumber[Int($0.id)]!) }
            for read in ops where read.isRead && read.ok && read.user >= 0 && read.invoke >= warm {
                var writeFloor: UInt32 = 0, readFloor: UInt32 = 0
                for o in ops where o.user == read.user && o.ok && o.complete < read.invoke {
                    if o.isRead { readFloor = max(readFloor, observed(o)) } else { writeFloor = max(writeFloor, o.version) }
                }
                let got = observed(read)
                if writeFloor > 0 { ryw.0 += 1; if got < writeFloor { ryw.1 += 1 } }
                if readFloor > 0 { mono.0 += 1; if got < readFloor { mono.1 += 1 } }
            }
        }
        return (ryw.0, ryw.1, mono.0, mono.1)
    }

    func run<S: ReplicationStrategy>(_ type: S.Type, _ s: Scenario) throws -> (Engine<S>, SimulationReport) {
        let (_, config, _) = try StrategyRegistry.resolve(s.strategy)
        let engine = try Engine<S>(scenario: s, config: config)
        engine.finishedOps = []
        return (engine, engine.run())
    }

    func scenario(strategy: String, seed: UInt64 = 3, duration: String = "40s") throws -> Scenario {
        try TestScenarios.small(seed: seed, duration: duration, strategy: strategy, extra: """
              edits: 20%
              deletes: 10%
              mutation_delay: {dist: uniform, low: 1s, high: 10s}
              history_reads: 0.05/s
            """)
    }

    /// async-geo: a user's other devices read the local replica, which the 1 s shipping batch
    /// has often not reached — read-your-writes violations, exactly as many as the recount.
    func testAsyncGeoViolatesReadYourWritesAndMatchesBruteForce() throws {
        let (e, r) = try run(AsyncPrimaryBackup.self, scenario(strategy: "async-geo"))
        let s = r.consistency.sessions
        let expected = bruteForce(e, r)
        XCTAssertGreaterThan(s.readYourWritesViolations, 0)
        XCTAssertEqual(s.readYourWritesChecked, expected.0)
        XCTAssertEqual(s.readYourWritesViolations, expected.1)
        XCTAssertEqual(s.monotonicChecked, expected.2)
        XCTAssertEqual(s.monotonicViolations, expected.3)
        XCTAssertEqual(s.pairsEvicted, 0)
        XCTAssertEqual(s.byOrigin.reduce(0) { $0 + $1.readYourWritesViolations }, s.readYourWritesViolations)
        XCTAssertGreaterThan(s.monotonicChecked, 0, "history reads re-read keys the user read before")
    }

    /// quorum-3dc (R + W > N): every read overlaps the write quorum — no violation of either.
    func testQuorumHasNoSessionViolations() throws {
        let (e, r) = try run(Quorum.self, scenario(strategy: "quorum-3dc"))
        let s = r.consistency.sessions
        XCTAssertGreaterThan(s.readYourWritesChecked, 100)
        XCTAssertGreaterThan(s.monotonicChecked, 0)
        XCTAssertEqual(s.readYourWritesViolations, 0)
        XCTAssertEqual(s.monotonicViolations, 0)
        let expected = bruteForce(e, r)
        XCTAssertEqual(s.readYourWritesChecked, expected.0)
        XCTAssertEqual(s.monotonicChecked, expected.2)
    }

    // MARK: A scenario predicted from the protocol

    /// Two DCs, async primary-backup with 2 copies whose batches never ship within the run:
    /// the home-DC primary has every write, the other DC's backup nothing. Every device reads
    /// its user's DC. So a user's read of their own message is a violation exactly when the
    /// user lives in the other DC than the chat (the backup answers "not found"), and never
    /// when they live in the chat's DC; nobody ever observes a version and then loses it.
    func testTwoDCNoShippingPredictedCount() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dcsim-sessions-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let topology = dir.appendingPathComponent("two-dc.yaml")
        try TestScenarios.twoDCTopology.write(to: topology, atomically: true, encoding: .utf8)
        let s = try ConfigLoader.loadScenario(yaml: """
            name: sessions-two-dc
            topology: \(topology.path)
            seed: 5
            duration: 60s
            warmup: 0
            payload: sizes
            strategy: {name: async-primary-backup, copies: 2, batch_interval: 1h}
            workload:
              users: 40
              rate: 5/s
              edits: 30%
              deletes: 0
              ttl: {share: 0}
              secret_chats: 0
              mutation_delay: {dist: uniform, low: 1s, high: 5s}
              history_reads: 0/s
              sync_delay: {dist: exponential, mean: 100ms}
            """, source: "test:sessions", baseDirectory: nil)
        let (e, r) = try run(AsyncPrimaryBackup.self, s)
        // The prediction: successful reads by an author of their own message (after its first
        // acknowledgement), split by where the author lives.
        var predictedChecked: UInt64 = 0, predictedViolations: UInt64 = 0
        var ackTimes = [Int: [(user: Int32, at: SimTime)]]()
        for (op, at) in e.finishedOps! where op.kind != .read && op.state == .ok {
            ackTimes[Int(op.key.raw), default: []].append((op.user, at))
        }
        for (op, _) in e.finishedOps! where op.kind == .read && op.state == .ok && op.user >= 0 {
            let k = Int(op.key.raw)
            guard (ackTimes[k] ?? []).contains(where: { $0.user == op.user && $0.at < op.issued }) else { continue }
            predictedChecked += 1
            if e.workload.users[Int(op.user)].homeDC != e.shards[k].homeDC { predictedViolations += 1 }
        }
        let f = r.consistency.sessions
        XCTAssertGreaterThan(predictedViolations, 10)
        XCTAssertGreaterThan(predictedChecked, predictedViolations, "authors in the chat's own DC read their writes")
        XCTAssertEqual(f.readYourWritesChecked, predictedChecked)
        XCTAssertEqual(f.readYourWritesViolations, predictedViolations)
        XCTAssertEqual(f.monotonicViolations, 0)
    }
}

/// A recorded operation with the engine's view of it (user, kind, version written).
struct HistoryOperationView {
    var id: UInt64
    var isRead: Bool
    var ok: Bool
    var user: Int32
    var version: UInt32
    var value: UInt64?
    var invoke: Int64
    var complete: Int64

    init<S>(_ h: Checker.HistoryOperation, _ op: Engine<S>.Operation) {
        id = h.id
        isRead = op.kind == .read
        ok = h.outcome == .ok
        user = op.user
        version = op.stamp.version
        value = h.value
        invoke = h.invokeTime
        complete = h.completeTime ?? .max
    }
}
