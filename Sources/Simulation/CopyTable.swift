import SimCore
import Replication

/// One node's copies, keyed by shard: a compact open-addressing hash table.
///
/// Memory is the point (issue 8: 10 M messages x 3 copies in 4 GB). A `[ShardKey: Copy]`
/// dictionary spends 40 bytes per entry at a load factor of at most 0.75; this table keeps
/// one 32-byte ``Entry`` per copy in one contiguous array at a load factor of up to 7/8:
///
/// - keys are stored as `UInt32`: shard keys are dense shard indices (below
///   `2^32 - 2^16`, checked), and the availability tracker's probe keys (`UInt64.max - j`,
///   `j < 2^16`) map into the top `2^16` values of the `UInt32` range and back;
/// - linear probing from a mixed hash of the key (keys are sequential, so the identity
///   would cluster), capacity a power of two, doubled when the table would pass 7/8 full;
/// - deletion by backward shift, so no tombstone slots ever lengthen a probe chain;
/// - an empty slot is one without the `occupied` flag, which every stored copy has, so no
///   key value is reserved;
/// - the table starts without storage (a node with few copies costs a few hundred bytes).
///
/// Lookups, updates and insertions without growth do not allocate. Iteration order is the
/// slot order: deterministic for a given history of operations, but callers must not
/// depend on it (all of them sort or sum).
///
/// Complexity: expected O(1) per lookup, insertion and removal; O(capacity) per scan.
struct CopyTable: Sequence {
    /// One slot: a copy and its key, 32 bytes (fields ordered so that nothing pads but the
    /// last byte).
    struct Entry {
        var key: UInt32
        var version: UInt32
        var tiebreak: UInt64
        /// ``SimTime`` nanoseconds when the copy was written.
        var storedAt: Int64
        var storedBytes: Int32
        var fragment: Int16
        /// ``Flags`` bits; zero in an empty slot.
        var flags: UInt8

        static let empty = Entry(key: 0, version: 0, tiebreak: 0, storedAt: 0, storedBytes: 0, fragment: 0, flags: 0)

        @inline(__always) var isOccupied: Bool { flags & Flags.occupied != 0 }

        @inline(__always) init(key: UInt32, version: UInt32, tiebreak: UInt64, storedAt: Int64, storedBytes: Int32,
                               fragment: Int16, flags: UInt8) {
            self.key = key; self.version = version; self.tiebreak = tiebreak; self.storedAt = storedAt
            self.storedBytes = storedBytes; self.fragment = fragment; self.flags = flags
        }

        @inline(__always) init(key: UInt32, copy c: NodeStore.Copy) {
            self.init(key: key, version: c.stamp.version, tiebreak: c.stamp.tiebreak, storedAt: c.storedAt.nanoseconds,
                      storedBytes: c.storedBytes, fragment: c.fragment,
                      flags: Flags.occupied | (c.tombstone ? Flags.tombstone : 0) | (c.corrupt ? Flags.corrupt : 0))
        }

        @inline(__always) var copy: NodeStore.Copy {
            NodeStore.Copy(stamp: Stamp(version: version, tiebreak: tiebreak), tombstone: flags & Flags.tombstone != 0,
                           storedBytes: storedBytes, corrupt: flags & Flags.corrupt != 0, fragment: fragment,
                           storedAt: SimTime(nanoseconds: storedAt))
        }
    }

    enum Flags {
        static let occupied: UInt8 = 1
        static let tombstone: UInt8 = 2
        static let corrupt: UInt8 = 4
    }

    /// Keys at or above this are probe keys (`UInt64.max - j`, `j < 2^16`).
    static let probeKeyBase: UInt64 = UInt64.max - 0xFFFF
    /// Shard keys must stay below this (the top `2^16` `UInt32` values are the probe keys').
    static let shardKeyLimit: UInt64 = (1 << 32) - (1 << 16)
    /// Capacity of the first allocation.
    static let initialCapacity = 8

    /// The slots; empty (no storage) or a power of two long.
    private var slots: [Entry] = []
    /// Occupied slots.
    private(set) var count = 0

    init() {}

    var isEmpty: Bool { count == 0 }
    var underestimatedCount: Int { count }
    /// Slots allocated (a power of two, or 0): memory is `capacity * 32` bytes.
    var capacity: Int { slots.count }

    // MARK: Keys and hashing

    /// The stored form of `key`. Precondition: a shard key below ``shardKeyLimit`` or a
    /// probe key at or above ``probeKeyBase``.
    @inline(__always) static func encode(_ key: ShardKey) -> UInt32 {
        if key.raw < shardKeyLimit { return UInt32(truncatingIfNeeded: key.raw) }
        precondition(key.raw >= probeKeyBase,
                     "CopyTable: shard key \(key.raw) out of range (shard keys must stay below \(shardKeyLimit))")
        return UInt32(truncatingIfNeeded: key.raw)
    }

    /// The key whose stored form is `stored` (inverse of ``encode(_:)``).
    @inline(__always) static func decode(_ stored: UInt32) -> ShardKey {
        UInt64(stored) < shardKeyLimit ? ShardKey(UInt64(stored)) : ShardKey(UInt64.max - 0xFFFF_FFFF + UInt64(stored))
    }

    /// A 32-bit mix with full avalanche (Wellons' "lowbias32"), independent of the
    /// `mix64`-based placement hashes (a node's keys are a placement-selected subset).
    @inline(__always) static func hash(_ k: UInt32) -> UInt32 {
        var x = k
        x ^= x >> 16; x &*= 0x7FEB_352D
        x ^= x >> 15; x &*= 0x846C_A68B
        x ^= x >> 16
        return x
    }

    /// The slot where a probe for the stored key `k` starts, in a table of `capacity` slots.
    @inline(__always) static func homeSlot(_ k: UInt32, capacity: Int) -> Int { Int(hash(k)) & (capacity - 1) }

    /// The slot holding stored key `k`, or nil.
    @inline(__always) private func find(_ k: UInt32) -> Int? {
        guard !slots.isEmpty else { return nil }
        return slots.withUnsafeBufferPointer { s in
            let mask = s.count - 1
            var i = Self.homeSlot(k, capacity: s.count)
            while s[i].isOccupied {
                if s[i].key == k { return i }
                i = (i + 1) & mask
            }
            return nil
        }
    }

    // MARK: Lookup

    /// The copy of `key`, if any.
    @inline(__always) subscript(key: ShardKey) -> NodeStore.Copy? {
        guard let i = find(Self.encode(key)) else { return nil }
        return slots[i].copy
    }

    /// Whether a copy of `key` is held and not corrupt (no `Copy` built).
    @inline(__always) func hasIntact(_ key: ShardKey) -> Bool {
        guard let i = find(Self.encode(key)) else { return false }
        return slots[i].flags & Flags.corrupt == 0
    }

    // MARK: Mutation

    /// Stores `copy` as the copy of `key`, replacing any. Returns the replaced copy's
    /// `storedBytes` (0 if there was none).
    @discardableResult
    mutating func set(_ key: ShardKey, _ copy: NodeStore.Copy) -> Int32 {
        let k = Self.encode(key)
        if let i = find(k) {
            let old = slots[i].storedBytes
            slots[i] = Entry(key: k, copy: copy)
            return old
        }
        if count + 1 > maxCount { grow() }
        insertNew(Entry(key: k, copy: copy))
        count += 1
        return 0
    }

    /// Marks the copy of `key` corrupt. Returns whether there was an intact copy.
    mutating func markCorrupt(_ key: ShardKey) -> Bool {
        guard let i = find(Self.encode(key)), slots[i].flags & Flags.corrupt == 0 else { return false }
        slots[i].flags |= Flags.corrupt
        return true
    }

    /// Removes the copy of `key` if `shouldRemove` accepts it. Returns the removed copy.
    @inline(__always)
    mutating func remove(_ key: ShardKey, if shouldRemove: (NodeStore.Copy) -> Bool = { _ in true }) -> NodeStore.Copy? {
        guard let i = find(Self.encode(key)) else { return nil }
        let old = slots[i].copy
        guard shouldRemove(old) else { return nil }
        removeSlot(i)
        return old
    }

    /// Removes every copy `shouldRemove` accepts, in one pass over the slots. Returns the
    /// removed copies' count and total `storedBytes`.
    mutating func removeAll(where shouldRemove: (NodeStore.Copy) -> Bool) -> (count: Int, bytes: Int64) {
        var removed = 0, bytes: Int64 = 0
        var i = 0
        // A removal shifts later entries of the chain back into slot i, so slot i is looked
        // at again; an entry shifted from the front of the array (a chain wrapping around)
        // to its end was looked at already and is looked at again with the same answer.
        while i < slots.count {
            if slots[i].isOccupied, shouldRemove(slots[i].copy) {
                bytes += Int64(slots[i].storedBytes)
                removeSlot(i)
                removed += 1
            } else {
                i += 1
            }
        }
        return (removed, bytes)
    }

    /// Empties the table and frees its storage.
    mutating func removeAll() {
        slots = []
        count = 0
    }

    // MARK: Internals

    /// Most entries before the table doubles: 7/8 of the capacity.
    private var maxCount: Int { slots.count - slots.count / 8 }

    /// Puts an entry whose key is not in the table into the first free slot of its chain.
    /// Precondition: a free slot exists.
    @inline(__always) private mutating func insertNew(_ e: Entry) {
        slots.withUnsafeMutableBufferPointer { s in
            let mask = s.count - 1
            var i = Self.homeSlot(e.key, capacity: s.count)
            while s[i].isOccupied { i = (i + 1) & mask }
            s[i] = e
        }
    }

    /// Empties slot `i` by backward shift: each later entry of the chain that may live
    /// closer to its home slot moves into the hole, so every chain stays unbroken.
    private mutating func removeSlot(_ i: Int) {
        slots.withUnsafeMutableBufferPointer { s in
            let mask = s.count - 1
            var hole = i
            var j = (i + 1) & mask
            while s[j].isOccupied {
                let home = Self.homeSlot(s[j].key, capacity: s.count)
                // The entry at j may move to the hole if the hole lies on its probe path,
                // i.e. cyclically within [home, j).
                if (j - home) & mask >= (j - hole) & mask {
                    s[hole] = s[j]
                    hole = j
                }
                j = (j + 1) & mask
            }
            s[hole] = .empty
        }
        count -= 1
    }

    /// Doubles the capacity (or allocates the first slots) and re-inserts every entry.
    private mutating func grow() {
        let old = slots
        slots = [Entry](repeating: .empty, count: old.isEmpty ? Self.initialCapacity : old.count * 2)
        for e in old where e.isOccupied { insertNew(e) }
    }

    // MARK: Sequence

    /// Yields `(key, copy)` pairs in slot order.
    struct Iterator: IteratorProtocol {
        fileprivate let slots: [Entry]
        fileprivate var i = 0
        mutating func next() -> (key: ShardKey, value: NodeStore.Copy)? {
            while i < slots.count {
                let e = slots[i]
                i += 1
                if e.isOccupied { return (CopyTable.decode(e.key), e.copy) }
            }
            return nil
        }
    }

    func makeIterator() -> Iterator { Iterator(slots: slots) }

    /// The keys held, in slot order (sort them for a deterministic order).
    var keys: LazyMapSequence<CopyTable, ShardKey> { lazy.map(\.key) }

    // MARK: Checks (tests)

    /// The stored keys slot by slot (nil for an empty slot), for tests of the layout.
    var slotKeys: [ShardKey?] { slots.map { $0.isOccupied ? Self.decode($0.key) : nil } }

    /// Checks the table's invariants (for tests): the count, the load bound, and that every
    /// entry is reachable from its home slot without crossing an empty slot.
    func checkInvariants() -> String? {
        let occupied = slots.reduce(0) { $0 + ($1.isOccupied ? 1 : 0) }
        if occupied != count { return "count \(count) but \(occupied) occupied slots" }
        if !slots.isEmpty && (slots.count & (slots.count - 1)) != 0 { return "capacity \(slots.count) not a power of two" }
        if !slots.isEmpty && count > maxCount { return "\(count) entries over the load limit of \(slots.count) slots" }
        let mask = slots.count - 1
        var seen = Set<UInt32>()
        for (j, e) in slots.enumerated() where e.isOccupied {
            if !seen.insert(e.key).inserted { return "key \(e.key) twice" }
            var i = Self.homeSlot(e.key, capacity: slots.count)
            while i != j {
                if !slots[i].isOccupied { return "slot \(j) (key \(e.key)) unreachable: empty slot \(i) on its chain" }
                i = (i + 1) & mask
            }
        }
        return nil
    }
}
