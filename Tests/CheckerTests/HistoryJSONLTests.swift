import SimCore
import XCTest
@testable import Checker

/// The recorder, the JSON-lines format, and its errors.
final class HistoryJSONLTests: XCTestCase {
    /// The example from docs/HISTORY.md.
    static let documentedExample = """
        {"type":"invoke","op":1,"process":1,"key":"42","f":"write","value":7,"time":1000}
        {"type":"invoke","op":2,"process":2,"key":"42","f":"read","value":null,"time":1500}
        {"type":"ok","op":1,"process":1,"key":"42","f":"write","value":7,"time":2000}
        {"type":"ok","op":2,"process":2,"key":"42","f":"read","value":7,"time":2500}
        {"type":"invoke","op":3,"process":1,"key":"42","f":"delete","value":null,"time":3000}
        {"type":"info","op":3,"process":1,"key":"42","f":"delete","value":null,"time":9000}
        {"type":"invoke","op":4,"process":3,"key":"chat/9","f":"write","value":1,"time":3100}
        {"type":"fail","op":4,"process":3,"key":"chat/9","f":"write","value":1,"time":3200}
        {"type":"invoke","op":5,"process":2,"key":"42","f":"read","value":null,"time":9500}
        {"type":"ok","op":5,"process":2,"key":"42","f":"read","value":null,"time":9600}

        """

    func testDocumentedExampleParses() throws {
        let histories = try HistoryJSONL.parse(HistoryJSONLTests.documentedExample, source: "example.jsonl")
        XCTAssertEqual(histories.map(\.key), ["42", "chat/9"])
        let ops = histories[0].operations
        XCTAssertEqual(ops.map(\.id), [1, 2, 3, 5])
        XCTAssertEqual(ops[0], HistoryOperation(id: 1, process: 1, kind: .write, value: 7, invokeTime: 1000, completeTime: 2000, outcome: .ok))
        XCTAssertEqual(ops[1].value, 7)
        XCTAssertEqual(ops[2].outcome, .unknown)
        XCTAssertNil(ops[2].completeTime)
        XCTAssertEqual(ops[3], HistoryOperation(id: 5, process: 2, kind: .read, value: nil, invokeTime: 9500, completeTime: 9600, outcome: .ok))
        XCTAssertEqual(histories[1].operations.first?.outcome, .fail)
        XCTAssertEqual(LinearizabilityChecker().check(histories).summary, .linearizable)
    }

    func testNeverCompletedIsUnknownAndIntegerKeysAndCRLFAreAccepted() throws {
        let text = "{\"type\":\"invoke\",\"op\":9,\"process\":0,\"key\":5,\"f\":\"write\",\"value\":18446744073709551615,\"time\":-3}\r\n\r\n"
        let h = try HistoryJSONL.parse(text, source: "t")
        XCTAssertEqual(h.first?.key, "5")
        XCTAssertEqual(h.first?.operations, [HistoryOperation(id: 9, process: 0, kind: .write, value: .max, invokeTime: -3,
                                                               completeTime: nil, outcome: .unknown)])
    }

    func testRecorderRoundTripsThroughJSONLines() throws {
        var rng = SimRandom(seed: 11)
        var recorder = HistoryRecorder()
        var open: [UInt64] = []
        var t: Int64 = 0
        var nextOp: UInt64 = 100
        for _ in 0..<2_000 {
            t += Int64(rng.below(5))
            if !open.isEmpty && rng.chance(ppm: 500_000) {
                let i = Int(rng.below(UInt64(open.count)))
                let op = open.remove(at: i)
                let o = rng.below(10)
                recorder.complete(op: op, outcome: o < 7 ? .ok : o < 9 ? .unknown : .fail,
                                  value: rng.chance(ppm: 200_000) ? nil : rng.below(1_000), time: t)
            } else {
                let kind = OperationKind.allCases[Int(rng.below(3))]
                recorder.invoke(op: nextOp, process: rng.below(7), key: rng.below(12), kind: kind,
                                value: kind == .write ? rng.next() : nil, time: t)
                open.append(nextOp)
                nextOp += 1 + rng.below(3)
            }
        }
        XCTAssertFalse(open.isEmpty, "some operations stay pending")
        let histories = recorder.histories()
        XCTAssertEqual(histories.map(\.key), (0..<12).map(String.init), "keys in numeric order")
        let lines = recorder.jsonLines()
        XCTAssertEqual(try HistoryJSONL.parse(lines, source: "recorded"), histories)
        // Exporting the histories gives the same histories back, and is stable.
        let exported = HistoryJSONL.export(histories)
        XCTAssertEqual(try HistoryJSONL.parse(exported, source: "exported"), histories)
        XCTAssertEqual(HistoryJSONL.export(try HistoryJSONL.parse(exported, source: "again")), exported)
        // Recorded lines come in the order the events happened.
        XCTAssertEqual(lines.split(separator: "\n").count, recorder.count * 2 - open.count)
    }

    func testRecorderOutcomesAndValues() {
        var r = HistoryRecorder()
        r.invoke(op: 1, process: 1, key: 10, kind: .write, value: 5, time: 0)
        r.invoke(op: 2, process: 2, key: 9, kind: .read, value: nil, time: 1)
        r.invoke(op: 3, process: 2, key: 10, kind: .read, value: nil, time: 2)
        r.invoke(op: 4, process: 3, key: 10, kind: .delete, value: nil, time: 3)
        r.complete(op: 1, outcome: .ok, time: 4)
        r.complete(op: 2, outcome: .ok, value: nil, time: 5)
        r.complete(op: 3, outcome: .unknown, value: 5, time: 6)
        let h = r.histories()
        XCTAssertEqual(h.map(\.key), ["9", "10"])
        XCTAssertEqual(h[0].operations, [HistoryOperation(id: 2, process: 2, kind: .read, value: nil, invokeTime: 1, completeTime: 5, outcome: .ok)])
        XCTAssertEqual(h[1].operations.map(\.outcome), [.ok, .unknown, .unknown], "op 4 is still pending")
        XCTAssertEqual(h[1].operations.map(\.value), [5, nil, nil], "an unknown read returned nothing")
    }

    func testRecorderRecordsAreCompact() {
        XCTAssertLessThanOrEqual(MemoryLayout<HistoryRecorder.Record>.stride, 64)
    }

    func testRecorderBoundKeepsAnEventPrefix() {
        var r = HistoryRecorder(operationsMax: 2)
        r.invoke(op: 1, process: 1, key: 1, kind: .write, value: 1, time: 0)
        r.invoke(op: 2, process: 2, key: 1, kind: .read, value: nil, time: 1)
        r.invoke(op: 3, process: 3, key: 1, kind: .write, value: 2, time: 2)   // beyond the bound
        r.complete(op: 1, outcome: .ok, time: 3)                               // after the cut: ignored
        XCTAssertTrue(r.isTruncated)
        XCTAssertEqual(r.count, 2)
        XCTAssertEqual(r.histories()[0].operations.map(\.outcome), [.unknown, .unknown])
    }

    /// The sample the checker takes is every n-th key of the full, key-ordered histories
    /// (the first included), built without building the rest.
    func testSampledHistoriesAreEveryNthKeyOfTheFullHistories() {
        var r = HistoryRecorder()
        var op: UInt64 = 0
        for round in 0..<3 {
            for key in [UInt64](stride(from: 2_500, through: 0, by: -1)) where key % 7 != 3 {
                r.invoke(op: op, process: op, key: key * 11, kind: .write, value: UInt64(round + 1), time: Int64(op))
                if key % 5 != 0 { r.complete(op: op, outcome: .ok, time: Int64(op) + 1) }
                op += 1
            }
        }
        let all = r.histories()
        XCTAssertEqual(all.count, 2_501 - 357)
        for keysMax in [1, 7, 1_000, 2_144, 5_000] {
            let (keys, sample) = r.sampledHistories(keysMax: keysMax)
            XCTAssertEqual(keys, all.count)
            let stride = max(1, (all.count + keysMax - 1) / keysMax)
            let expected = all.enumerated().filter { $0.offset % stride == 0 }.map(\.element)
            XCTAssertLessThanOrEqual(sample.count, keysMax)
            XCTAssertEqual(sample.map(\.key), expected.map(\.key), "keysMax \(keysMax)")
            XCTAssertEqual(sample.map { $0.operations.map(\.id) }, expected.map { $0.operations.map(\.id) })
            XCTAssertEqual(sample.map { $0.operations.map(\.outcome) }, expected.map { $0.operations.map(\.outcome) })
        }
    }

    func testKeyOrderPutsNumbersFirstNumerically() {
        let keys = ["b", "10", "9", "a", "007", "0"]
        XCTAssertEqual(keys.sorted(by: KeyHistory.keyOrder), ["0", "9", "10", "007", "a", "b"])
    }

    func testStringsWithEscapesRoundTrip() throws {
        let key = "chat \"x\"\\y\n\u{1}é😀"
        let h = [KeyHistory(key: key, operations: [HistoryOperation(id: 1, process: 2, kind: .read, value: nil, invokeTime: 0, completeTime: 1, outcome: .ok)])]
        let text = HistoryJSONL.export(h)
        XCTAssertTrue(text.contains("\\u0001"), text)
        XCTAssertEqual(try HistoryJSONL.parse(text, source: "t"), h)
        let escaped = try HistoryJSONL.parse(#"{"type":"invoke","op":1,"process":0,"key":"\ud83d\ude00\u00e9\/","f":"read","time":0}"#, source: "t")
        XCTAssertEqual(escaped.first?.key, "😀é/")
    }

    // MARK: Errors

    func assertError(_ text: String, line: Int, contains parts: [String], file: StaticString = #filePath, fileLine: UInt = #line) {
        XCTAssertThrowsError(try HistoryJSONL.parse(text, source: "h.jsonl"), file: file, line: fileLine) { error in
            guard let e = error as? HistoryError else { return XCTFail("not a HistoryError: \(error)", file: file, line: fileLine) }
            let message = e.description
            XCTAssertTrue(message.hasPrefix("h.jsonl:\(line):"), message, file: file, line: fileLine)
            for p in parts { XCTAssertTrue(message.contains(p), "\(message) lacks \(p)", file: file, line: fileLine) }
        }
    }

    static let invoke = #"{"type":"invoke","op":1,"process":1,"key":"k","f":"write","value":3,"time":10}"#

    func testErrorsNameLineAndField() {
        let good = HistoryJSONLTests.invoke
        assertError("\n\(good)\n{\"type\":\"ok\",\"op\":1,\"time\":5}", line: 3, contains: ["\"time\"", "before its invocation", "line 2"])
        assertError(#"{"type":"invoke","op":1,"process":1,"key":"k","f":"wrte","value":3,"time":1}"#, line: 1,
                    contains: ["\"f\"", "write, read, delete", "\"wrte\""])
        assertError(#"{"type":"done","op":1}"#, line: 1, contains: ["\"type\"", "invoke, ok, fail, info"])
        assertError(#"{"type":"invoke","process":1,"key":"k","f":"read","time":1}"#, line: 1, contains: ["\"op\"", "missing"])
        assertError(#"{"type":"invoke","op":-1,"process":1,"key":"k","f":"read","time":1}"#, line: 1, contains: ["\"op\"", "non-negative", "-1"])
        assertError(#"{"type":"invoke","op":1,"process":1,"key":"k","f":"write","time":1}"#, line: 1, contains: ["\"value\"", "missing", "version it writes"])
        assertError(#"{"type":"invoke","op":1,"process":1,"key":"k","f":"write","value":"3","time":1}"#, line: 1, contains: ["\"value\"", "got \"3\""])
        assertError(#"{"type":"invoke","op":1,"process":1,"key":"k","f":"write","value":18446744073709551616,"time":1}"#, line: 1, contains: ["\"value\"", "18446744073709551616"])
        assertError(#"{"type":"invoke","op":1,"process":1,"key":"k","f":"read","value":3,"time":1}"#, line: 1, contains: ["\"value\"", "null"])
        assertError(#"{"type":"invoke","op":1,"process":1,"key":"k","f":"read","time":1.5}"#, line: 1, contains: ["\"time\"", "1.5"])
        assertError(#"{"type":"invoke","op":1,"process":1,"key":["k"],"f":"read","time":1}"#, line: 1, contains: ["\"key\"", "an array"])
        assertError("\(good)\n\(good)", line: 2, contains: ["\"op\"", "already invoked on line 1"])
        assertError(#"{"type":"ok","op":4,"time":1}"#, line: 1, contains: ["\"op\"", "never invoked"])
        assertError("\(good)\n{\"type\":\"ok\",\"op\":1,\"time\":20}\n{\"type\":\"ok\",\"op\":1,\"time\":30}", line: 3, contains: ["already completed on line 2"])
        assertError("\(good)\n{\"type\":\"ok\",\"op\":1,\"key\":\"j\",\"time\":20}", line: 2, contains: ["\"key\"", "\"k\"", "\"j\""])
        assertError("\(good)\n{\"type\":\"ok\",\"op\":1,\"value\":4,\"time\":20}", line: 2, contains: ["\"value\"", "3", "4"])
        assertError(#"{"type":"invoke","op":1,"process":1,"key":"k","f":"read","time":1}"# + "\n" + #"{"type":"ok","op":1,"time":2}"#,
                    line: 2, contains: ["\"value\"", "ok read must say what it read"])
        assertError(#"{"type":"invoke","op":1,"op":2}"#, line: 1, contains: ["\"op\"", "appears twice"])
    }

    func testSyntaxErrorsNameLineAndColumn() {
        assertError("\(HistoryJSONLTests.invoke)\n{\"type\":\"invoke\" \"op\":1}", line: 2, contains: ["2:18:", "expected ',' or '}'"])
        assertError("[1,2]", line: 1, contains: ["1:1:", "expected '{'"])
        assertError("{\"type\":\"invoke\"} x", line: 1, contains: ["1:19:", "unexpected text"])
        assertError("{\"type\":\"inv", line: 1, contains: ["unterminated string"])
        assertError("{\"a\":01}", line: 1, contains: ["leading zeros"])
        assertError("{\"a\":tru}", line: 1, contains: ["expected 'true'"])
        assertError("{\"a\":\"\\q\"}", line: 1, contains: ["unknown escape"])
        assertError("{\"a\":" + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "}", line: 1, contains: ["nested deeper"])
    }

    func testUnknownFieldsAreIgnored() throws {
        let text = #"{"type":"invoke","op":1,"process":1,"key":"k","f":"read","time":1,"index":0,"extra":{"a":[1,2.5,null,true]}}"#
        XCTAssertEqual(try HistoryJSONL.parse(text, source: "t").first?.operations.count, 1)
    }
}
