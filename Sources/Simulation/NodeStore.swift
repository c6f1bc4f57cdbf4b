import Replication

/// What one node's disk holds: at most one copy per key, the newest stamp it has seen.
///
/// Storage fault model: a copy can be *corrupt* (bit rot): a read of a corrupt copy is
/// detected by the shard's authentication tag (full payloads) or checksum identity (sizes
/// mode), counted, and answered as missing — never returned. A lost disk empties the store.
struct NodeStore {
    struct Copy {
        var stamp: Stamp
        var tombstone: Bool
        var storedBytes: Int32
        var corrupt: Bool
    }

    private(set) var copies: [ShardKey: Copy] = [:]
    private(set) var usedBytes: Int64 = 0

    /// Stores a copy if `stamp` is newer than the one held. Returns the stamp already held
    /// when it is as new or newer (the put is superseded).
    mutating func put(_ key: ShardKey, _ stamp: Stamp, storedBytes: Int, tombstone: Bool) -> Stamp? {
        if let old = copies[key], !old.corrupt, old.stamp >= stamp { return old.stamp }
        let bytes = Int32(tombstone ? 0 : storedBytes)
        usedBytes += Int64(bytes) - Int64(copies[key]?.storedBytes ?? 0)
        copies[key] = Copy(stamp: stamp, tombstone: tombstone, storedBytes: bytes, corrupt: false)
        return nil
    }

    func get(_ key: ShardKey) -> Copy? { copies[key] }

    mutating func loseEverything() {
        copies.removeAll()
        usedBytes = 0
    }
}
