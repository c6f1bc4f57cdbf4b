import XCTest
import SimCore
import SimNetwork
@testable import Replication

final class AsyncPrimaryBackupTests: XCTestCase {
    func testHomeAcksAtOnceAndBackupsFollowAfterTheBatch() throws {
        var h = try Harness<AsyncPrimaryBackup>(parameters: [("batch_interval", .string("1s"))])
        let op = h.write(key: 1, home: 0, clientDC: 0)
        h.run(for: .milliseconds(100))
        XCTAssertEqual(h.result(op), .acknowledged)
        XCTAssertEqual(h.holders(of: 1, atLeast: 1).count, 1, "only the primary before the batch ships")
        h.run(for: .seconds(2))
        let placed = h.strategy.placement(of: ShardKey(1), home: 0)
        XCTAssertEqual(Set(h.holders(of: 1, atLeast: 1)), Set(placed))
        XCTAssertEqual(h.traffic(.replication).messages, 2, "one batch per backup")
    }

    func testDiskLossOfThePrimaryBeforeShippingLosesTheAcknowledgedWrite() throws {
        var h = try Harness<AsyncPrimaryBackup>(parameters: [("batch_interval", .string("1s"))])
        let op = h.write(key: 1)
        h.run(for: .milliseconds(100))
        XCTAssertEqual(h.result(op), .acknowledged)
        let primary = h.strategy.placement(of: ShardKey(1), home: 0)[0]
        h.crash(primary, diskLost: true)
        h.run(for: .seconds(5))
        XCTAssertTrue(h.holders(of: 1, atLeast: 1).isEmpty, "the acknowledged write is gone with the outbox")
    }

    func testCrashWithDiskKeptShipsTheOutboxAfterRestart() throws {
        var h = try Harness<AsyncPrimaryBackup>(parameters: [("batch_interval", .string("1s"))])
        h.write(key: 1)
        h.run(for: .milliseconds(100))
        let placed = h.strategy.placement(of: ShardKey(1), home: 0)
        h.crash(placed[0])
        h.run(for: .seconds(5))
        XCTAssertEqual(h.holders(of: 1, atLeast: 1), [placed[0]])
        h.restart(placed[0])
        h.run(for: .seconds(3))
        XCTAssertEqual(Set(h.holders(of: 1, atLeast: 1)), Set(placed))
    }

    func testLostBatchIsRetransmittedUntilAcknowledged() throws {
        var h = try Harness<AsyncPrimaryBackup>(parameters: [("batch_interval", .string("1s")), ("ack_timeout", .string("2s"))])
        h.write(key: 1)
        h.run(for: .milliseconds(100))
        let placed = h.strategy.placement(of: ShardKey(1), home: 0)
        h.block(from: placed[0], to: placed[1])
        h.run(for: .seconds(4))
        XCTAssertFalse(h.holders(of: 1, atLeast: 1).contains(placed[1]))
        h.heal()
        h.run(for: .seconds(4))
        XCTAssertTrue(h.holders(of: 1, atLeast: 1).contains(placed[1]), "retransmitted after the link healed")
    }

    func testPrimaryDownPromotesTheFirstLiveBackupForWrites() throws {
        var h = try Harness<AsyncPrimaryBackup>()
        let placed = h.strategy.placement(of: ShardKey(1), home: 0)
        h.crash(placed[0])
        let op = h.write(key: 1)
        h.run(for: .milliseconds(200))
        XCTAssertEqual(h.result(op), .acknowledged)
        XCTAssertEqual(h.replies.first?.from, placed[1])
    }
}
