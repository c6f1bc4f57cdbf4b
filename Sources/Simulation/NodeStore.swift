import SimCore
import Replication

/// What one node's disk holds: at most one copy per key, the newest stamp it has seen.
///
/// Storage fault model: a copy can be *corrupt* (bit rot): a read of a corrupt copy is
/// detected by the shard's authentication tag (full payloads) or checksum identity (sizes
/// mode), counted, and answered as missing — never returned. A lost disk empties the store.
struct NodeStore {
    /// Fields ordered widest first: 32 bytes instead of 40 (one per copy per node).
    struct Copy {
        var stamp: Stamp
        /// When this copy was written (for crash loss of unflushed writes).
        var storedAt: SimTime
        var storedBytes: Int32
        /// -1 for a whole copy, else the erasure-coded fragment index.
        var fragment: Int16
        var tombstone: Bool
        var corrupt: Bool

        init(stamp: Stamp, tombstone: Bool, storedBytes: Int32, corrupt: Bool, fragment: Int16 = -1,
             storedAt: SimTime = .zero) {
            self.stamp = stamp; self.storedAt = storedAt; self.storedBytes = storedBytes
            self.fragment = fragment; self.tombstone = tombstone; self.corrupt = corrupt
        }
    }

    /// The copies, 32 bytes per copy in one open-addressing table (see ``CopyTable``).
    /// Iterates as `(key, copy)` pairs in no meaningful order.
    private(set) var copies = CopyTable()
    private(set) var usedBytes: Int64 = 0

    /// Stores a copy if `stamp` is newer than the one held. Returns the stamp already held
    /// when it is as new or newer (the put is superseded).
    mutating func put(_ key: ShardKey, _ stamp: Stamp, storedBytes: Int, tombstone: Bool, fragment: Int = -1,
                      at time: SimTime = .zero) -> Stamp? {
        if let old = copies[key], !old.corrupt, old.stamp > stamp || (old.stamp == stamp && old.fragment == Int16(fragment)) {
            return old.stamp
        }
        let bytes = Int32(tombstone ? 0 : storedBytes)
        let replaced = copies.set(key, Copy(stamp: stamp, tombstone: tombstone, storedBytes: bytes, corrupt: false,
                                            fragment: Int16(fragment), storedAt: time))
        usedBytes += Int64(bytes) - Int64(replaced)
        return nil
    }

    /// Last-writer-wins by timestamp (`stamp.tiebreak`), then version.
    mutating func putLWW(_ key: ShardKey, _ stamp: Stamp, storedBytes: Int, tombstone: Bool, at time: SimTime = .zero) -> Stamp? {
        if let old = copies[key], !old.corrupt,
           (old.stamp.tiebreak, old.stamp.version) >= (stamp.tiebreak, stamp.version) {
            return old.stamp
        }
        let bytes = Int32(tombstone ? 0 : storedBytes)
        let replaced = copies.set(key, Copy(stamp: stamp, tombstone: tombstone, storedBytes: bytes, corrupt: false, storedAt: time))
        usedBytes += Int64(bytes) - Int64(replaced)
        return nil
    }

    func get(_ key: ShardKey) -> Copy? { copies[key] }

    /// Whether the node holds an intact (not rotted) copy or fragment of `key`.
    @inline(__always) func hasIntact(_ key: ShardKey) -> Bool { copies.hasIntact(key) }

    /// Drops copies written at or after `since` (a crash losing the page cache). Returns how
    /// many were lost.
    mutating func loseWritesSince(_ since: SimTime) -> Int {
        let lost = copies.removeAll { $0.storedAt >= since }
        usedBytes -= lost.bytes
        return lost.count
    }

    /// Keys with an intact copy, ascending (deterministic order).
    func intactKeys() -> [ShardKey] {
        var keys: [ShardKey] = []
        keys.reserveCapacity(copies.count)
        for (key, copy) in copies where !copy.corrupt { keys.append(key) }
        return keys.sorted()
    }

    /// Removes the copy of `key`; with `tombstoneUpTo`, only a tombstone no newer than it.
    /// Returns whether something was removed.
    mutating func remove(_ key: ShardKey, tombstoneUpTo: Stamp? = nil) -> Bool {
        let removed = copies.remove(key) { old in
            guard let limit = tombstoneUpTo else { return true }
            return old.tombstone && old.stamp <= limit
        }
        guard let old = removed else { return false }
        usedBytes -= Int64(old.storedBytes)
        return true
    }

    /// Marks the copy of `key` corrupt (bit rot). Returns whether there was an intact copy.
    mutating func corrupt(_ key: ShardKey) -> Bool { copies.markCorrupt(key) }

    /// A lost disk: every copy gone, the table's memory freed.
    mutating func loseEverything() {
        copies.removeAll()
        usedBytes = 0
    }
}
