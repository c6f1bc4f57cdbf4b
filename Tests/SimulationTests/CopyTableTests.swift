import XCTest
import Replication
import SimCore
@testable import Simulation

/// The compact copy table behind `NodeStore`: layout, key mapping, probe chains that wrap,
/// and a long randomized differential run of `NodeStore` against the dictionary-backed store
/// it replaced.
final class CopyTableTests: XCTestCase {
    typealias Copy = NodeStore.Copy

    /// The previous `NodeStore`, verbatim but for the name: a `[ShardKey: Copy]` dictionary.
    struct ReferenceStore {
        var copies: [ShardKey: Copy] = [:]
        var usedBytes: Int64 = 0

        mutating func put(_ key: ShardKey, _ stamp: Stamp, storedBytes: Int, tombstone: Bool, fragment: Int = -1,
                          at time: SimTime = .zero) -> Stamp? {
            if let old = copies[key], !old.corrupt, old.stamp > stamp || (old.stamp == stamp && old.fragment == Int16(fragment)) {
                return old.stamp
            }
            let bytes = Int32(tombstone ? 0 : storedBytes)
            usedBytes += Int64(bytes) - Int64(copies[key]?.storedBytes ?? 0)
            copies[key] = Copy(stamp: stamp, tombstone: tombstone, storedBytes: bytes, corrupt: false, fragment: Int16(fragment),
                               storedAt: time)
            return nil
        }

        mutating func putLWW(_ key: ShardKey, _ stamp: Stamp, storedBytes: Int, tombstone: Bool, at time: SimTime = .zero) -> Stamp? {
            if let old = copies[key], !old.corrupt,
               (old.stamp.tiebreak, old.stamp.version) >= (stamp.tiebreak, stamp.version) {
                return old.stamp
            }
            let bytes = Int32(tombstone ? 0 : storedBytes)
            usedBytes += Int64(bytes) - Int64(copies[key]?.storedBytes ?? 0)
            copies[key] = Copy(stamp: stamp, tombstone: tombstone, storedBytes: bytes, corrupt: false, storedAt: time)
            return nil
        }

        mutating func loseWritesSince(_ since: SimTime) -> Int {
            let lost = copies.filter { $0.value.storedAt >= since }.map(\.key)
            for k in lost { _ = remove(k) }
            return lost.count
        }

        func intactKeys() -> [ShardKey] { copies.filter { !$0.value.corrupt }.map(\.key).sorted() }

        mutating func remove(_ key: ShardKey, tombstoneUpTo: Stamp? = nil) -> Bool {
            guard let old = copies[key] else { return false }
            if let limit = tombstoneUpTo, !(old.tombstone && old.stamp <= limit) { return false }
            usedBytes -= Int64(old.storedBytes)
            copies[key] = nil
            return true
        }

        mutating func corrupt(_ key: ShardKey) -> Bool {
            guard let old = copies[key], !old.corrupt else { return false }
            copies[key]!.corrupt = true
            return true
        }

        mutating func loseEverything() {
            copies.removeAll()
            usedBytes = 0
        }
    }

    /// A copy's fields as one comparable string.
    func describe(_ c: Copy?) -> String {
        guard let c else { return "none" }
        return "v\(c.stamp.version)/\(c.stamp.tiebreak) at \(c.storedAt.nanoseconds) \(c.storedBytes)B frag \(c.fragment)"
            + (c.tombstone ? " tomb" : "") + (c.corrupt ? " corrupt" : "")
    }

    func copy(_ version: UInt32, bytes: Int32 = 10) -> Copy {
        Copy(stamp: Stamp(version: version), tombstone: false, storedBytes: bytes, corrupt: false)
    }

    // MARK: Layout and keys

    func testEntryIsThirtyTwoBytes() {
        XCTAssertEqual(MemoryLayout<CopyTable.Entry>.stride, 32)
        XCTAssertEqual(MemoryLayout<CopyTable.Entry>.size, 31)
    }

    func testKeysMapToUInt32AndBack() {
        let keys: [UInt64] = [0, 1, 2, 77, 1 << 20, CopyTable.shardKeyLimit - 1,
                              UInt64.max, UInt64.max - 1, UInt64.max - 15, UInt64.max - 0xFFFF]
        var stored = Set<UInt32>()
        for raw in keys {
            let e = CopyTable.encode(ShardKey(raw))
            XCTAssertEqual(CopyTable.decode(e).raw, raw, "key \(raw) round trip")
            stored.insert(e)
        }
        XCTAssertEqual(stored.count, keys.count, "distinct keys stay distinct")
        XCTAssertEqual(CopyTable.encode(ShardKey(UInt64.max)), UInt32.max)
        XCTAssertEqual(CopyTable.encode(ShardKey(UInt64.max - 0xFFFF)), UInt32(CopyTable.shardKeyLimit))
        XCTAssertEqual(CopyTable.encode(ShardKey(CopyTable.shardKeyLimit - 1)), UInt32(CopyTable.shardKeyLimit - 1))
    }

    func testSequentialKeysSpreadOverTheSlots() {
        // Identity hashing would fill 0..<n in order; the mix must scatter sequential keys.
        let capacity = 1024
        var used = Set<Int>()
        for k in UInt32(0)..<512 { used.insert(CopyTable.homeSlot(k, capacity: capacity)) }
        XCTAssertGreaterThan(used.count, 350, "512 sequential keys into 1024 home slots")
        XCTAssertLessThan(used.filter { $0 < 512 }.count, 400, "not packed into the low half")
    }

    func testEmptyTableHasNoStorageAndGrowsByDoubling() {
        var t = CopyTable()
        XCTAssertEqual(t.capacity, 0)
        XCTAssertNil(t[ShardKey(3)])
        XCTAssertFalse(t.hasIntact(ShardKey(3)))
        XCTAssertNil(t.remove(ShardKey(3)))
        t.set(ShardKey(3), copy(1))
        XCTAssertEqual(t.capacity, CopyTable.initialCapacity)
        var capacities = [t.capacity]
        for k in UInt64(4)..<2000 {
            t.set(ShardKey(k), copy(1))
            if t.capacity != capacities.last! { capacities.append(t.capacity) }
            XCTAssertLessThanOrEqual(t.count * 8, t.capacity * 7, "load at most 7/8")
        }
        XCTAssertEqual(capacities, [8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096])
        XCTAssertGreaterThan(t.count * 8, t.capacity * 3, "not over-allocated after growth")
        XCTAssertNil(t.checkInvariants())
        t.removeAll()
        XCTAssertEqual(t.capacity, 0, "a lost disk frees the table")
        XCTAssertEqual(t.count, 0)
    }

    // MARK: Probe chains

    /// Stored keys (shard keys) whose home slot is `slot` in a table of `capacity` slots.
    func keys(homingAt slot: Int, capacity: Int, count: Int, from start: UInt32 = 0) -> [UInt32] {
        var out: [UInt32] = []
        var k = start
        while out.count < count {
            if CopyTable.homeSlot(k, capacity: capacity) == slot { out.append(k) }
            k += 1
        }
        return out
    }

    func testRemovalFromAChainThatWrapsAroundTheEnd() {
        // Capacity 8 holds up to 7 entries: three keys homing at slot 7 fill 7, 0, 1; a key
        // homing at slot 0 goes to 2, one homing at 1 to 3.
        let last: [UInt64] = keys(homingAt: 7, capacity: 8, count: 3).map { UInt64($0) }
        let zero = UInt64(keys(homingAt: 0, capacity: 8, count: 1)[0])
        let one = UInt64(keys(homingAt: 1, capacity: 8, count: 1)[0])
        let all: [UInt64] = last + [zero, one]
        func layout(_ t: CopyTable) -> [UInt64?] { t.slotKeys.map { $0?.raw } }
        func version(_ t: CopyTable, _ k: UInt64) -> UInt32? { t[ShardKey(k)]?.stamp.version }
        var t0 = CopyTable()
        for (i, k) in all.enumerated() { t0.set(ShardKey(k), copy(UInt32(i + 1))) }
        XCTAssertEqual(t0.capacity, 8)
        var expected: [UInt64?] = [last[1], last[2], zero, one, nil, nil, nil, last[0]]
        XCTAssertEqual(layout(t0), expected)

        // Remove the chain's head at the array's end: everything shifts back across the wrap.
        var t = t0
        XCTAssertEqual(t.remove(ShardKey(last[0]))?.stamp.version, 1)
        expected = [last[2], zero, one, nil, nil, nil, nil, last[1]]
        XCTAssertEqual(layout(t), expected)
        XCTAssertNil(t.checkInvariants())
        for (i, k) in all.enumerated() where i > 0 {
            XCTAssertEqual(version(t, k), UInt32(i + 1), "key \(k) still found")
        }
        XCTAssertNil(version(t, last[0]))

        // Remove from the middle of the wrapped part: the entry homing at 7 moves back to 0,
        // the ones homing at 0 and 1 move back one slot each, still at or after their homes.
        t = t0
        _ = t.remove(ShardKey(last[1]))
        expected = [last[2], zero, one, nil, nil, nil, nil, last[0]]
        XCTAssertEqual(layout(t), expected)
        XCTAssertNil(t.checkInvariants())

        // Remove the last entry homing at 7: the entries after it shift back, the ones before
        // it stay.
        t = t0
        _ = t.remove(ShardKey(last[2]))
        expected = [last[1], zero, one, nil, nil, nil, nil, last[0]]
        XCTAssertEqual(layout(t), expected)
        XCTAssertNil(t.checkInvariants())

        // Re-insert after remove: the key goes to the chain's first free slot and is found.
        _ = t.remove(ShardKey(zero))
        XCTAssertNil(version(t, zero))
        XCTAssertEqual(t.set(ShardKey(zero), copy(9, bytes: 33)), 0, "nothing replaced")
        XCTAssertEqual(version(t, zero), 9)
        XCTAssertEqual(t.set(ShardKey(zero), copy(10, bytes: 44)), 33, "replaced in place")
        XCTAssertEqual(version(t, zero), 10)
        XCTAssertEqual(t.count, 4)
        XCTAssertNil(t.checkInvariants())
    }

    func testRemoveAllWhereAcrossAWrappedChain() {
        // Fill a table of 16 with chains homing near the end, then drop every other entry.
        var t = CopyTable()
        var ks: [UInt32] = keys(homingAt: 14, capacity: 16, count: 4)
        ks += keys(homingAt: 15, capacity: 16, count: 4)
        ks += keys(homingAt: 0, capacity: 16, count: 3)
        ks += keys(homingAt: 2, capacity: 16, count: 2)
        XCTAssertEqual(ks.count, 13)
        for (i, k) in ks.enumerated() { t.set(ShardKey(UInt64(k)), copy(UInt32(i), bytes: Int32(i))) }
        XCTAssertEqual(t.capacity, 16)
        let removed = t.removeAll { $0.stamp.version % 2 == 0 }
        XCTAssertEqual(removed.count, 7)
        XCTAssertEqual(removed.bytes, 0 + 2 + 4 + 6 + 8 + 10 + 12)
        XCTAssertNil(t.checkInvariants())
        for (i, k) in ks.enumerated() {
            XCTAssertEqual(t[ShardKey(UInt64(k))]?.stamp.version, i % 2 == 0 ? nil : UInt32(i))
        }
    }

    func testProbeKeysLiveBesideShardKeys() {
        var s = NodeStore()
        for j in UInt64(0)..<40 { _ = s.put(ShardKey(UInt64.max - j), Stamp(version: 1), storedBytes: 5, tombstone: false) }
        for k in UInt64(0)..<40 { _ = s.put(ShardKey(k), Stamp(version: 2), storedBytes: 7, tombstone: false) }
        XCTAssertEqual(s.copies.count, 80)
        XCTAssertEqual(s.usedBytes, 40 * 5 + 40 * 7)
        XCTAssertEqual(s.get(ShardKey(UInt64.max - 3))?.stamp.version, 1)
        XCTAssertEqual(s.get(ShardKey(3))?.stamp.version, 2)
        var expected: Set<UInt64> = []
        for j in UInt64(0)..<40 { expected.insert(UInt64.max - j); expected.insert(j) }
        XCTAssertEqual(Set(s.copies.keys.map(\.raw)), expected)
        XCTAssertTrue(s.corrupt(ShardKey(UInt64.max)))
        XCTAssertFalse(s.hasIntact(ShardKey(UInt64.max)))
        XCTAssertEqual(s.intactKeys().count, 79)
        XCTAssertEqual(s.intactKeys().last, ShardKey(UInt64.max - 1))
    }

    // MARK: Differential

    /// ~100k mixed operations on `NodeStore` and on the dictionary-backed store it replaced,
    /// over dense keys (dense and sparse phases: many collisions, growth, shrinking by
    /// removal) and probe keys: every answer, every copy, the byte count and the
    /// table's invariants must agree throughout.
    func testDifferentialAgainstDictionaryStore() {
        var rng = SimRandom(seed: 0xC0_71E5)
        var store = NodeStore()
        var reference = ReferenceStore()
        var now: Int64 = 0
        var checks = 0

        func compareAll(_ step: Int) {
            checks += 1
            XCTAssertEqual(store.copies.count, reference.copies.count, "count at step \(step)")
            XCTAssertEqual(store.usedBytes, reference.usedBytes, "usedBytes at step \(step)")
            XCTAssertEqual(store.intactKeys(), reference.intactKeys(), "intactKeys at step \(step)")
            let mine = store.copies.sorted { $0.key < $1.key }.map { "\($0.key.raw): \(describe($0.value))" }
            let theirs = reference.copies.sorted { $0.key < $1.key }.map { "\($0.key.raw): \(describe($0.value))" }
            XCTAssertEqual(mine, theirs, "contents at step \(step)")
            XCTAssertEqual(store.copies.keys.sorted(), reference.copies.keys.sorted())
            if let broken = store.copies.checkInvariants() { XCTFail("step \(step): \(broken)") }
        }

        let steps = 100_000
        for step in 0..<steps {
            // Phases: the key universe widens and narrows so the table grows, fills to its
            // load limit, and empties by removals.
            let universe: UInt64 = [64, 3_000, 600, 12_000, 200][(step / 20_000) % 5]
            let key: ShardKey = rng.below(50) == 0
                ? ShardKey(UInt64.max - rng.below(64))
                : ShardKey(rng.below(universe) &* (step % 3 == 0 ? 1 : 7))
            now += Int64(rng.below(1_000))
            let stamp = Stamp(version: UInt32(1 + rng.below(6)), tiebreak: rng.below(4))
            let bytes = Int(rng.below(5_000))
            let tombstone = rng.below(8) == 0
            switch rng.below(100) {
            case 0..<40:
                let fragment = rng.below(3) == 0 ? Int(rng.below(9)) : -1
                XCTAssertEqual(store.put(key, stamp, storedBytes: bytes, tombstone: tombstone, fragment: fragment, at: SimTime(nanoseconds: now)),
                               reference.put(key, stamp, storedBytes: bytes, tombstone: tombstone, fragment: fragment, at: SimTime(nanoseconds: now)),
                               "put at step \(step)")
            case 40..<50:
                XCTAssertEqual(store.putLWW(key, stamp, storedBytes: bytes, tombstone: tombstone, at: SimTime(nanoseconds: now)),
                               reference.putLWW(key, stamp, storedBytes: bytes, tombstone: tombstone, at: SimTime(nanoseconds: now)),
                               "putLWW at step \(step)")
            case 50..<68:
                let limit: Stamp? = rng.below(2) == 0 ? stamp : nil
                XCTAssertEqual(store.remove(key, tombstoneUpTo: limit), reference.remove(key, tombstoneUpTo: limit),
                               "remove at step \(step)")
            case 68..<76:
                XCTAssertEqual(store.corrupt(key), reference.corrupt(key), "corrupt at step \(step)")
            case 76..<77 where rng.below(10) == 0:
                let since = SimTime(nanoseconds: now - Int64(rng.below(200_000)))
                XCTAssertEqual(store.loseWritesSince(since), reference.loseWritesSince(since), "loseWritesSince at step \(step)")
                XCTAssertNil(store.copies.checkInvariants())
            case 77..<78 where rng.below(400) == 0:
                store.loseEverything()
                reference.loseEverything()
                XCTAssertEqual(store.copies.capacity, 0)
            default:
                XCTAssertEqual(describe(store.get(key)), describe(reference.copies[key]), "get at step \(step)")
                XCTAssertEqual(store.hasIntact(key), reference.copies[key].map { !$0.corrupt } ?? false, "hasIntact at step \(step)")
            }
            if step % 2_500 == 2_499 { compareAll(step) }
        }
        compareAll(steps)
        XCTAssertEqual(checks, steps / 2_500 + 1)
    }
}
