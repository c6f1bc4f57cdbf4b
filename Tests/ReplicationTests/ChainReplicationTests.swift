import XCTest
import SimCore
import SimConfig
import SimNetwork
@testable import Replication

final class ChainReplicationTests: XCTestCase {
    typealias H = Harness<ChainReplication>

    // MARK: Normal path

    func testWritesFlowHeadToTailTheTailAnswersAndAcksPruneTheSentLists() throws {
        var h = try H()
        let placed = h.placed(1)
        let op = h.write(key: 1)
        h.runUntilAnswered(op)
        XCTAssertEqual(h.result(op), .acknowledged)
        XCTAssertEqual(h.answerer(op), placed[2], "the tail answers the client")
        XCTAssertEqual(Set(h.holders(of: 1, atLeast: 1)), Set(placed))
        // The write went down the chain hop by hop: head → middle → tail.
        let writes = h.sent.filter { $0.kind == .replication }.map { [$0.from, $0.to] }
        XCTAssertEqual(writes, [[placed[0], placed[1]], [placed[1], placed[2]]])
        h.run(for: .milliseconds(200))
        for n in placed { XCTAssertEqual(h.logCount(of: 1, at: n), 0, "acks pruned node \(n)'s sent list") }

        let read = h.read(key: 1, clientDC: 1)
        h.runUntilAnswered(read)
        XCTAssertEqual(h.answerer(read), placed[2], "reads at the tail")
        XCTAssertEqual(h.result(read), .found(Stamp(version: 1), tombstone: false))
    }

    func testALostChainWriteIsRetransmitted() throws {
        var h = try H()
        let placed = h.placed(1)
        h.block(from: placed[1], to: placed[2])
        let op = h.write(key: 1)
        h.run(for: .milliseconds(1500))
        XCTAssertNil(h.result(op))
        h.heal()
        h.runUntilAnswered(op)
        XCTAssertEqual(h.result(op), .acknowledged)
        XCTAssertEqual(h.view(of: 1, at: placed[0])?.number, 1, "no reconfiguration needed")
    }

    // MARK: Failures, one position at a time

    func testHeadFailureMakesTheSuccessorTheHead() throws {
        var h = try H()
        let placed = h.placed(1)
        let w1 = h.write(key: 1)
        h.runUntilAnswered(w1)
        h.crash(placed[0])
        h.run(for: .seconds(5))
        let w2 = h.write(key: h.groupKeys(2)[1])   // the client's next choice is the first live member
        h.runUntilAnswered(w2)
        XCTAssertEqual(h.result(w2), .acknowledged)
        XCTAssertEqual(h.view(of: 1, at: placed[2])?.members, [placed[1], placed[2]])
        let r = h.read(key: 1)
        h.runUntilAnswered(r)
        XCTAssertEqual(h.result(r), .found(Stamp(version: 1), tombstone: false))
    }

    func testTailFailureMakesThePredecessorTheTailWhichAcknowledgesItsSentList() throws {
        var h = try H()
        let placed = h.placed(1)
        h.block(from: placed[1], to: placed[2])
        let op = h.write(key: 1)
        h.run(for: .milliseconds(200))
        XCTAssertEqual(h.version(1, at: placed[1]), 1, "stored up to the middle")
        XCTAssertNil(h.result(op))
        h.crash(placed[2], diskLost: true)
        h.heal()
        h.runUntilAnswered(op)
        XCTAssertEqual(h.result(op), .acknowledged)
        XCTAssertEqual(h.answerer(op), placed[1], "the new tail answers for the write in its sent list")
        XCTAssertEqual(h.view(of: 1, at: placed[0])?.members, [placed[0], placed[1]])
        let r = h.read(key: 1)
        h.runUntilAnswered(r)
        XCTAssertEqual(h.answerer(r), placed[1])
        XCTAssertEqual(h.result(r), .found(Stamp(version: 1), tombstone: false))
    }

    func testMiddleFailureResendsThePredecessorsSentListToTheNewSuccessor() throws {
        var h = try H()
        let placed = h.placed(1)
        h.block(from: placed[1], to: placed[2])
        let op = h.write(key: 1)
        h.run(for: .milliseconds(200))
        XCTAssertEqual(h.version(1, at: placed[2]), 0)
        h.crash(placed[1], diskLost: true)
        h.heal()
        h.runUntilAnswered(op)
        XCTAssertEqual(h.result(op), .acknowledged)
        XCTAssertEqual(h.answerer(op), placed[2])
        XCTAssertEqual(h.view(of: 1, at: placed[0])?.members, [placed[0], placed[2]])
        XCTAssertEqual(h.version(1, at: placed[2]), 1, "the head resent its unacknowledged write to its new successor")
    }

    func testAReturningMemberCatchesUpAndRejoinsAsTheTail() throws {
        var h = try H()
        let placed = h.placed(1)
        h.crash(placed[1], diskLost: true)
        let keys = h.groupKeys(5)
        var ops: [OperationID] = []
        for k in keys.prefix(4) { ops.append(h.write(key: k)); h.run(for: .milliseconds(100)) }
        h.run(for: .seconds(5))
        XCTAssertTrue(ops.allSatisfy { h.result($0) == .acknowledged })
        h.restart(placed[1])
        h.run(for: .seconds(10))
        XCTAssertEqual(h.view(of: 1, at: placed[0])?.members, [placed[0], placed[2], placed[1]], "rejoined at the tail")
        for k in keys.prefix(4) { XCTAssertEqual(h.version(k, at: placed[1]), 1, "key \(k) copied") }
        XCTAssertGreaterThan(h.traffic(.repair).bytes, 4 * 1000, "catch-up counted as repair traffic")
        let r = h.read(key: 1)   // the client tries the last placement node, which forwards to the new tail
        h.runUntilAnswered(r)
        XCTAssertEqual(h.answerer(r), placed[1])
        XCTAssertEqual(h.result(r), .found(Stamp(version: 1), tombstone: false))
        let w = h.write(key: keys[4])
        h.runUntilAnswered(w)
        XCTAssertEqual(h.answerer(w), placed[1], "the new tail acknowledges")
    }

    /// A tail cut off from the chain is replaced; it must not answer reads from its stale
    /// disk once its lease lapsed, and after healing it learns it was demoted.
    func testAPartitionedOldTailServesNoStaleRead() throws {
        var h = try H()
        let placed = h.placed(1)
        let w1 = h.write(key: 1)
        h.runUntilAnswered(w1)
        h.isolate(placed[2], from: placed)
        h.run(for: .seconds(8))
        XCTAssertEqual(h.view(of: 1, at: placed[0])?.members, [placed[0], placed[1]])
        let w2 = h.write(key: 1, version: 2)
        h.runUntilAnswered(w2)
        XCTAssertEqual(h.answerer(w2), placed[1])
        let read = ClientRequest(id: h.makeID(), kind: .read, key: ShardKey(1), stamp: .none, storedBytes: 0, homeDC: 0)
        h.submit(read, at: placed[2])
        h.run(for: .seconds(5))
        XCTAssertNil(h.result(read.id), "no stale answer from the cut-off tail")
        h.heal()
        h.runUntilAnswered(read.id)
        XCTAssertEqual(h.result(read.id), .found(Stamp(version: 2), tombstone: false))
        h.run(for: .seconds(10))
        XCTAssertEqual(h.view(of: 1, at: placed[0])?.members, [placed[0], placed[1], placed[2]], "rejoined after healing")
    }

    /// A head that stored a write it never forwarded, crashed with its disk and came back,
    /// has the write rolled back when it rejoins (at the tail, where reads would see it).
    func testReturningHeadRollsBackItsUnforwardedWrite() throws {
        var h = try H()
        let placed = h.placed(1)
        let w1 = h.write(key: 1)
        h.runUntilAnswered(w1)
        h.block(from: placed[0], to: placed[1])
        _ = h.write(key: 1, version: 2)
        h.run(for: .milliseconds(50))
        h.crash(placed[0])
        h.heal()
        h.run(for: .seconds(8))
        h.restart(placed[0])
        h.run(for: .seconds(15))
        XCTAssertEqual(h.view(of: 1, at: placed[1])?.members, [placed[1], placed[2], placed[0]])
        XCTAssertEqual(h.version(1, at: placed[0]), 1, "the unforwarded v2 was rolled back")
        let r = h.read(key: 1)
        h.runUntilAnswered(r)
        XCTAssertEqual(h.answerer(r), placed[0])
        XCTAssertEqual(h.result(r), .found(Stamp(version: 1), tombstone: false))
    }

    func testNoAcknowledgedWriteIsLostWithOneFailureAnywhere() throws {
        for position in 0..<3 {
            for diskLost in [false, true] {
                try checkNoAcknowledgedWriteLost(ChainReplication.self, parameters: [], fault: { h in
                    h.crash(h.placed(1)[position], diskLost: diskLost)
                }, label: "crash position \(position) diskLost \(diskLost)")
            }
            try checkNoAcknowledgedWriteLost(ChainReplication.self, parameters: [], fault: { h in
                let placed = h.placed(1)
                h.isolate(placed[position], from: placed)
            }, label: "partition position \(position)")
        }
    }

    func testParameterErrorsNameTheParameter() throws {
        XCTAssertThrowsError(try H(parameters: [("ack", .string("all"))])) { XCTAssertTrue("\($0)".contains("unknown parameter"), "\($0)") }
        XCTAssertThrowsError(try H(parameters: [("failure_timeout", .string("100ms"))])) {
            XCTAssertTrue("\($0)".contains("failure_timeout"), "\($0)")
        }
        XCTAssertTrue(try H(parameters: [("copies", .number(4))]).strategy.summary.contains("copies=4"))
    }
}
