import XCTest
import SimCore
import SimNetwork
@testable import Replication
@testable import Simulation

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

    /// A delete is a tombstone at the primary, acknowledged at once, shipped like a write;
    /// reads then say deleted (not the old version).
    func testDeleteIsATombstoneThatShipsToTheBackups() throws {
        var h = try Harness<AsyncPrimaryBackup>(parameters: [("batch_interval", .string("1s"))])
        h.write(key: 1, version: 1)
        h.run(for: .seconds(2))
        let del = h.delete(key: 1, version: 2)
        h.run(for: .milliseconds(100))
        XCTAssertEqual(h.result(del), .acknowledged)
        h.run(for: .seconds(2))
        let placed = h.strategy.placement(of: ShardKey(1), home: 0)
        for n in placed {
            XCTAssertEqual(h.stored(1, at: n)?.tombstone, true, "node \(n)")
            XCTAssertEqual(h.stored(1, at: n)?.stamp.version, 2, "node \(n)")
        }
        let read = h.read(key: 1)
        h.run(for: .milliseconds(100))
        XCTAssertEqual(h.result(read), .found(Stamp(version: 2), tombstone: true))
    }

    /// A reader in a backup's DC reads that backup: before the batch ships it answers "not
    /// found" (stale, and honest: no version it does not hold), after it the version.
    func testReadAtALocalBackupIsStaleUntilTheBatchArrives() throws {
        var h = try Harness<AsyncPrimaryBackup>(parameters: [("batch_interval", .string("1s"))])
        let placed = h.strategy.placement(of: ShardKey(1), home: 0)
        let backupDC = h.world.datacenter(of: placed[1])
        h.write(key: 1)
        h.run(for: .milliseconds(100))
        let early = h.read(key: 1, clientDC: backupDC)
        h.run(for: .milliseconds(100))
        XCTAssertEqual(h.result(early), .notFound)
        XCTAssertEqual(h.replies.last?.from, placed[1])
        h.run(for: .seconds(2))
        let late = h.read(key: 1, clientDC: backupDC)
        h.run(for: .milliseconds(100))
        XCTAssertEqual(h.result(late), .found(Stamp(version: 1), tombstone: false))
    }

    /// Edits ship in order and an older version arriving late never replaces a newer one.
    func testAnOlderVersionNeverOverwritesANewerOne() throws {
        var h = try Harness<AsyncPrimaryBackup>(parameters: [("batch_interval", .string("1s"))])
        h.write(key: 1, version: 2)
        h.run(for: .milliseconds(100))
        let old = h.write(key: 1, version: 1)   // a retried first write, late
        h.run(for: .seconds(2))
        XCTAssertEqual(h.result(old), .acknowledged, "the primary holds something newer: superseded, not an error")
        for n in h.strategy.placement(of: ShardKey(1), home: 0) {
            XCTAssertEqual(h.stored(1, at: n)?.stamp.version, 2, "node \(n)")
        }
    }

    /// A backup whose disk fails a batch does not acknowledge it; the primary ships it again
    /// after `ack_timeout` until it lands.
    func testABackupDiskErrorIsRetriedUntilStored() throws {
        var h = try Harness<AsyncPrimaryBackup>(parameters: [("batch_interval", .string("1s")), ("ack_timeout", .string("2s"))])
        let placed = h.strategy.placement(of: ShardKey(1), home: 0)
        h.ioErrorNodes = [placed[1]]
        h.write(key: 1)
        h.run(for: .seconds(4))
        XCTAssertFalse(h.holders(of: 1, atLeast: 1).contains(placed[1]))
        h.ioErrorNodes = []
        h.run(for: .seconds(4))
        XCTAssertEqual(Set(h.holders(of: 1, atLeast: 1)), Set(placed))
    }

    /// A primary that crashes (disk kept) with several batches in flight to the same backup
    /// ships them all again after restart; the backup ends with the newest version.
    func testCrashWithSeveralBatchesInFlightReshipsThemAll() throws {
        var h = try Harness<AsyncPrimaryBackup>(parameters: [("batch_interval", .string("1s")), ("ack_timeout", .string("30s"))])
        let placed = h.strategy.placement(of: ShardKey(1), home: 0)
        h.block(from: placed[0], to: placed[1])
        h.write(key: 1, version: 1)
        h.run(for: .milliseconds(1500))
        h.write(key: 1, version: 2)
        h.run(for: .milliseconds(1500))   // two batches in flight to placed[1], both dropped
        h.crash(placed[0])
        h.heal()
        h.restart(placed[0])
        h.run(for: .seconds(3))
        XCTAssertEqual(h.stored(1, at: placed[1])?.stamp.version, 2)
        XCTAssertEqual(h.traffic(.replication).messages, 2 * 2 + 1, "a batch per flush to each backup, then the two unacknowledged ones again as one")
    }
}
