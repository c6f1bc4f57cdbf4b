import SimCore
import XCTest
@testable import Checker

/// The checker against the definition (``BruteForce``) on thousands of small random histories.
final class BruteForceCrossCheckTests: XCTestCase {
    /// A random history of at most `opsMax` operations on one key.
    ///
    /// Half the time the reads come from a real atomic register (each operation takes effect
    /// at a random instant inside its interval, unknown writes maybe never), so the history is
    /// linearizable unless a read was then corrupted; the rest of the reads are arbitrary. Times
    /// are small integers so intervals often overlap and touch; versions come from a small set
    /// so repeated versions occur.
    static func randomHistory(_ rng: inout SimRandom, opsMax: Int) -> [HistoryOperation] {
        let n = rng.int(in: 1...opsMax)
        struct Draft { var kind: OperationKind; var value: UInt64?; var invoke: Int64; var complete: Int64
                       var outcome: Outcome; var effect: Int64? }
        var drafts: [Draft] = []
        for _ in 0..<n {
            let roll = rng.below(100)
            let kind: OperationKind = roll < 40 ? .write : roll < 85 ? .read : .delete
            let invoke = Int64(rng.below(20))
            let complete = invoke + Int64(rng.below(8))
            let o = rng.below(100)
            let outcome: Outcome = o < 80 ? .ok : o < 92 ? .unknown : .fail
            // When the operation takes effect (times doubled so effects fall strictly inside
            // intervals and never tie with each other by accident of rounding).
            var effect: Int64? = 2 * invoke + Int64(rng.below(UInt64(2 * (complete - invoke) + 1)))
            if outcome == .fail { effect = nil }
            if outcome == .unknown {
                if rng.chance(ppm: 500_000) { effect = nil } else { effect = 2 * invoke + Int64(rng.below(40)) }
            }
            let value: UInt64? = kind == .write ? 1 + rng.below(3) : nil
            drafts.append(Draft(kind: kind, value: value, invoke: invoke, complete: complete, outcome: outcome, effect: effect))
        }
        let fromRegister = rng.chance(ppm: 500_000)
        if fromRegister {
            // Replay effects in time order (ties by index) to fill in what reads returned.
            let order = drafts.indices.filter { drafts[$0].effect != nil }
                .sorted { (drafts[$0].effect!, $0) < (drafts[$1].effect!, $1) }
            var state: UInt64? = nil
            for i in order {
                switch drafts[i].kind {
                case .write: state = drafts[i].value
                case .delete: state = nil
                case .read: drafts[i].value = state
                }
            }
            // Sometimes corrupt one read.
            if rng.chance(ppm: 300_000), let r = rng.element(of: drafts.indices.filter({ drafts[$0].kind == .read })) {
                drafts[r].value = rng.chance(ppm: 250_000) ? nil : 1 + rng.below(3)
            }
        } else {
            for i in drafts.indices where drafts[i].kind == .read {
                drafts[i].value = rng.chance(ppm: 250_000) ? nil : 1 + rng.below(3)
            }
        }
        return drafts.enumerated().map { i, d in
            HistoryOperation(id: UInt64(i), process: UInt64(i % 3), kind: d.kind,
                             value: d.kind == .read && d.outcome != .ok ? nil : d.value,
                             invokeTime: d.invoke, completeTime: d.outcome == .unknown ? nil : d.complete,
                             outcome: d.outcome)
        }
    }

    func testAgreesWithBruteForceOnRandomHistories() {
        var rng = SimRandom(root: 2024, label: "checker-cross-check")
        let checker = LinearizabilityChecker()
        var counts = (linearizable: 0, not: 0)
        for trial in 0..<4_000 {
            let ops = BruteForceCrossCheckTests.randomHistory(&rng, opsMax: 7)
            let expected = BruteForce.isLinearizable(ops)
            let result = checker.check(KeyHistory(key: "k", operations: ops))
            switch result.verdict {
            case .linearizable:
                counts.linearizable += 1
                XCTAssertTrue(expected, "trial \(trial): checker says linearizable, brute force says not: \(ops)")
            case .notLinearizable(let c):
                counts.not += 1
                XCTAssertFalse(expected, "trial \(trial): checker says not linearizable, brute force says it is: \(ops)")
                // The counterexample: recorded operations of this history, failing on its own.
                for o in c.operations {
                    XCTAssertTrue(ops.contains(o), "trial \(trial): counterexample operation \(o) is not in the history")
                }
                XCTAssertFalse(BruteForce.isLinearizable(c.operations), "trial \(trial): counterexample is linearizable: \(c)")
                XCTAssertTrue(c.isShrunk, "trial \(trial)")
            case .unknown:
                XCTFail("trial \(trial): a history of \(ops.count) operations exhausted the default budget")
            }
        }
        // Both answers must be well represented, or the cross-check proves little.
        XCTAssertGreaterThan(counts.linearizable, 1_000, "\(counts)")
        XCTAssertGreaterThan(counts.not, 1_000, "\(counts)")
    }

    func testShrunkCounterexamplesAreOneMinimalUnderAllowedRemovals() {
        // Removing any one more removable operation from a shrunk counterexample makes it
        // linearizable (reads always; writes and deletes that no read observes).
        var rng = SimRandom(root: 77, label: "checker-minimality")
        let checker = LinearizabilityChecker()
        var checked = 0
        for trial in 0..<1_500 {
            let ops = BruteForceCrossCheckTests.randomHistory(&rng, opsMax: 7)
            guard let c = checker.check(KeyHistory(key: "k", operations: ops)).verdict.counterexample else { continue }
            XCTAssertTrue(c.isShrunk, "trial \(trial)")
            checked += 1
            let readValues = c.operations.filter { $0.kind == .read }.map(\.value)
            for (i, o) in c.operations.enumerated() {
                let removable = switch o.kind {
                case .read: true
                case .write: !readValues.contains(o.value)
                case .delete: !readValues.contains(nil)
                }
                guard removable else { continue }
                var smaller = c.operations
                smaller.remove(at: i)
                XCTAssertTrue(BruteForce.isLinearizable(smaller), "trial \(trial): \(c) still fails without op \(o.id)")
            }
        }
        XCTAssertGreaterThan(checked, 300)
    }

    func testAgreesWithBruteForceOnDenserHistories() {
        // Fewer, wider histories: up to 8 operations, all overlapping heavily.
        var rng = SimRandom(root: 5, label: "checker-dense")
        let checker = LinearizabilityChecker()
        for trial in 0..<300 {
            var ops = BruteForceCrossCheckTests.randomHistory(&rng, opsMax: 8)
            for i in ops.indices {
                let invoke = ops[i].invokeTime
                ops[i].invokeTime = invoke / 4
                if let t = ops[i].completeTime { ops[i].completeTime = invoke / 4 + (t - invoke) }
            }
            let expected = BruteForce.isLinearizable(ops)
            let v = checker.check(KeyHistory(key: "k", operations: ops)).verdict
            XCTAssertEqual(v.isLinearizable, expected, "trial \(trial): \(ops)")
            XCTAssertFalse(v.isUnknown, "trial \(trial)")
        }
    }
}
