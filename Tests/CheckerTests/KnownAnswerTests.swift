import XCTest
@testable import Checker

/// Hand-written histories whose answers are known; times are in nanoseconds.
final class KnownAnswerTests: XCTestCase {
    func testEmptyHistoryIsLinearizable() {
        XCTAssertTrue(verdict([]).isLinearizable)
    }

    func testReadAfterCompletedWriteSeesIt() {
        XCTAssertTrue(verdict([.write(1, 0, 10), .read(1, 20, 30)]).isLinearizable)
    }

    func testStaleReadAfterCompletedWriteIsNotLinearizable() {
        let v = verdict([.write(1, 0, 10), .write(2, 20, 30), .read(1, 40, 50)])
        let c = try! XCTUnwrap(v.counterexample)
        // Every operation is needed: without write 2 the read is fine; without write 1 the
        // read would be unexplained (so write 1 may not be dropped).
        XCTAssertEqual(c.operations.map(\.id), [0, 1, 2])
        XCTAssertTrue(c.isShrunk)
        XCTAssertEqual(c.keyOperationCount, 3)
    }

    func testReadOfNotFoundBeforeAnyWriteIsLinearizable() {
        XCTAssertTrue(verdict([.read(nil, 0, 5), .write(1, 10, 20)]).isLinearizable)
    }

    func testReadFromTheFutureIsNotLinearizable() {
        // Cut where the read completes: the write was not even invoked yet.
        let c = verdict([.read(1, 0, 5), .write(1, 10, 20)]).counterexample
        XCTAssertEqual(c?.operations.map(\.id), [0])
        XCTAssertTrue(c?.explanation.contains("no write of it that could have taken effect") ?? false, c?.explanation ?? "")
    }

    func testConcurrentReadMaySeeEitherValueButNothingElse() {
        // write 2 runs over [20, 40]; a read inside it may see the old or the new version.
        XCTAssertTrue(verdict([.write(1, 0, 10), .write(2, 20, 40), .read(1, 25, 30)]).isLinearizable)
        XCTAssertTrue(verdict([.write(1, 0, 10), .write(2, 20, 40), .read(2, 25, 30)]).isLinearizable)
        XCTAssertTrue(verdict([.write(1, 0, 10), .write(2, 20, 40), .read(nil, 25, 30)]).isNotLinearizable)
        XCTAssertTrue(verdict([.write(1, 0, 10), .write(2, 20, 40), .read(3, 25, 30)]).isNotLinearizable)
    }

    func testNewOldInversionIsNotLinearizable() {
        // Once a read saw the slow write, a later read may not miss it.
        XCTAssertTrue(verdict([.write(1, 0, 100), .read(1, 10, 20), .read(nil, 30, 40)]).isNotLinearizable)
        XCTAssertTrue(verdict([.write(1, 0, 100), .read(nil, 10, 20), .read(1, 30, 40)]).isLinearizable)
    }

    func testConcurrentWritesSeenInTwoOrdersAreNotLinearizable() {
        let ops: [Op] = [.write(1, 0, 100), .write(2, 0, 100), .read(1, 10, 20), .read(2, 30, 40)]
        XCTAssertTrue(verdict(ops).isLinearizable)
        XCTAssertTrue(verdict(ops + [.read(1, 50, 60)]).isNotLinearizable)
    }

    func testUnknownWriteMayAppearLaterButNotVanish() {
        let base: [Op] = [.write(1, 0, 10), .unknownWrite(2, 20), .read(1, 30, 40), .read(2, 50, 60)]
        XCTAssertTrue(verdict(base).isLinearizable, "an unknown write may take effect long after its invocation")
        XCTAssertTrue(verdict(base + [.read(1, 70, 80)]).isNotLinearizable, "once seen, it cannot be undone")
        XCTAssertTrue(verdict([.write(1, 0, 10), .unknownWrite(2, 20), .read(1, 30, 40)]).isLinearizable,
                      "an unknown write may never take effect")
    }

    func testUnknownWriteCannotBeSeenBeforeItsInvocation() {
        XCTAssertTrue(verdict([.read(2, 0, 5), .unknownWrite(2, 10)]).isNotLinearizable)
        XCTAssertTrue(verdict([.read(2, 0, 10), .unknownWrite(2, 10)]).isLinearizable, "touching intervals are concurrent")
    }

    func testFailedWriteMustNotBeSeen() {
        let c = verdict([.failedWrite(1, 0, 10), .read(1, 20, 30)]).counterexample
        XCTAssertEqual(c?.operations.map(\.id), [1])
        XCTAssertTrue(c?.explanation.contains("no write of it that could have taken effect") ?? false)
        XCTAssertTrue(verdict([.failedWrite(1, 0, 10), .read(nil, 20, 30)]).isLinearizable)
    }

    func testUnknownAndFailedReadsAreIgnored() {
        XCTAssertTrue(verdict([.write(1, 0, 10), .unknownRead(7, 20), .read(1, 30, 40)]).isLinearizable)
    }

    func testDeleteThenReadSeesNotFound() {
        XCTAssertTrue(verdict([.write(1, 0, 10), .delete(20, 30), .read(nil, 40, 50)]).isLinearizable)
        XCTAssertTrue(verdict([.write(1, 0, 10), .delete(20, 30), .read(1, 40, 50)]).isNotLinearizable)
        // A read concurrent with the delete may see either.
        XCTAssertTrue(verdict([.write(1, 0, 10), .delete(20, 30), .read(1, 25, 35)]).isLinearizable)
        XCTAssertTrue(verdict([.write(1, 0, 10), .delete(20, 30), .read(nil, 25, 35)]).isLinearizable)
    }

    func testWriteAfterDeleteIsVisibleAgain() {
        XCTAssertTrue(verdict([.write(1, 0, 10), .delete(20, 30), .write(2, 40, 50), .read(2, 60, 70)]).isLinearizable)
        XCTAssertTrue(verdict([.write(1, 0, 10), .delete(20, 30), .write(2, 40, 50), .read(nil, 60, 70)]).isNotLinearizable)
    }

    func testUnknownDeleteMayTakeEffectLater() {
        let ops: [Op] = [.write(1, 0, 10), .unknownDelete(20), .read(1, 30, 40), .read(nil, 50, 60)]
        XCTAssertTrue(verdict(ops).isLinearizable)
        XCTAssertTrue(verdict(ops + [.read(1, 70, 80)]).isNotLinearizable)
    }

    func testTouchingIntervalsAreConcurrent() {
        XCTAssertTrue(verdict([.write(1, 0, 10), .read(nil, 10, 20)]).isLinearizable)
        XCTAssertTrue(verdict([.write(1, 0, 10), .read(nil, 11, 20)]).isNotLinearizable)
    }

    func testWriteOfTheSameVersionTwiceIsAllowed() {
        // The checker does not rely on unique versions.
        XCTAssertTrue(verdict([.write(1, 0, 10), .write(2, 20, 30), .write(1, 40, 50), .read(1, 60, 70)]).isLinearizable)
    }

    func testTinyBudgetAnswersUnknown() {
        let ops: [Op] = (0..<8).map { .write(UInt64($0), 0, 100) } + [.read(3, 150, 160), .read(5, 170, 180)]
        XCTAssertTrue(verdict(ops, budget: 3).isUnknown)
        XCTAssertTrue(verdict(ops).isNotLinearizable)
    }

    func testStepsAreDeterministic() {
        let h = history((0..<6).map { .write(UInt64($0), 0, 100) } + [.read(2, 150, 160), .read(4, 170, 180)])
        let a = LinearizabilityChecker().check(h)
        let b = LinearizabilityChecker().check(h)
        XCTAssertEqual(a, b)
        XCTAssertGreaterThan(a.steps, 0)
    }

    func testLongSequentialHistoryIsCheckedSegmentBySegment() {
        // 20 000 sequential operations: quiescent splitting keeps this linear.
        var ops: [Op] = []
        var t: Int64 = 0
        for v in 1...5_000 {
            ops.append(.write(UInt64(v), t, t + 5)); t += 10
            ops.append(.read(UInt64(v), t, t + 5)); t += 10
            ops.append(.read(UInt64(v), t, t + 20))
            ops.append(.read(UInt64(v), t + 1, t + 25)); t += 30
        }
        let checker = LinearizabilityChecker(budget: 200_000)
        let good = checker.check(history(ops))
        XCTAssertEqual(good.verdict, .linearizable)
        ops.append(.read(17, t + 100, t + 200))   // a stale read at the very end
        let bad = checker.check(history(ops))
        let c = try! XCTUnwrap(bad.verdict.counterexample)
        XCTAssertLessThanOrEqual(c.operations.count, 3, c.description)
        XCTAssertEqual(c.operations.last?.value, 17)
        XCTAssertTrue(c.isShrunk)
    }

    func testCounterexampleTextListsOperations() {
        let c = try! XCTUnwrap(verdict([.write(1, 0, 1_000_000), .write(2, 2_000_000, 3_000_000),
                                        .read(1, 4_000_000, 5_500_000)]).counterexample)
        let text = c.description
        XCTAssertTrue(text.contains("key \"k\": not linearizable. These 3 of its 3 operations already cannot be linearized"), text)
        XCTAssertTrue(text.contains("read -> 1"), text)
        XCTAssertTrue(text.contains("invoked 4ms"), text)
        XCTAssertTrue(text.contains("completed 5.5ms"), text)
        XCTAssertEqual(Counterexample.time(1_000_000_123), "1.000000123s")
        XCTAssertEqual(Counterexample.time(999), "999ns")
        XCTAssertEqual(Counterexample.time(-1_500), "-1.5µs")
    }

    func testReportAggregatesKeysInOrder() {
        let histories = [
            history([.write(1, 0, 10), .read(1, 20, 30)], key: "1"),
            history([.write(1, 0, 10), .write(2, 20, 30), .read(1, 40, 50)], key: "2"),
            history((0..<8).map { .write(UInt64($0), 0, 100) } + [.read(3, 150, 160), .read(5, 170, 180)], key: "3"),
            history([.read(9, 0, 1)], key: "4"),
        ]
        let report = LinearizabilityChecker(budget: 50).check(histories, counterexamplesMax: 1)
        XCTAssertEqual(report.keys, 4)
        XCTAssertEqual(report.linearizable, 1)
        XCTAssertEqual(report.notLinearizable, 2)
        XCTAssertEqual(report.unknown, 1)
        XCTAssertEqual(report.undecidedKeys, ["3"])
        XCTAssertEqual(report.counterexamples.map(\.key), ["2"])
        XCTAssertEqual(report.summary, .notLinearizable)
        XCTAssertEqual(report.operations, 2 + 3 + 10 + 1)
        XCTAssertTrue(report.text().hasPrefix("NOT linearizable: 2 of 4 keys"), report.text())
        let json = report.json()
        XCTAssertTrue(json.contains("\"verdict\": \"not_linearizable\""), json)
        XCTAssertTrue(json.contains("\"undecided_keys\": [\"3\"]"), json)
    }
}
