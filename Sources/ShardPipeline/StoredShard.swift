import SimCore

/// Whether shards carry real bytes.
public enum PayloadMode: String, Sendable, CaseIterable, Codable {
    /// Real bytes: every shard is really compressed, encrypted, stored and verified.
    case full
    /// Sizes and checksum identities only, for runs too large for real bytes. Same simulated
    /// metrics as `full` for the same seed (see ``ShardSizeModel`` and ``ShardCodec``).
    case sizes
}

/// What the simulation knows about one stored copy in either mode: its accounted size, the
/// identity of its content, its key, and whether a fault has corrupted it.
public struct ShardDigest: Sendable, Hashable {
    /// Bytes this copy occupies on disk and on the wire (from ``ShardSizeModel``, identical in
    /// both payload modes). Accounted per replica even when replicas share one buffer.
    public var storedBytes: Int
    /// Content identity: a 64-bit mix of shard id, version, key id, kind, length and content
    /// seed. Replicas of the same version agree; anti-entropy can compare it in both modes.
    public var checksum: UInt64
    /// The key the shard was sealed with.
    public var keyID: DataKeyID
    /// Ground truth: an injected fault changed this copy's bytes. In sizes mode this flag *is*
    /// the corruption; in full mode the bytes are really damaged and the read path must detect
    /// it from the bytes alone (debug builds assert that it does).
    public var isCorrupted: Bool

    public init(storedBytes: Int, checksum: UInt64, keyID: DataKeyID, isCorrupted: Bool = false) {
        self.storedBytes = storedBytes
        self.checksum = checksum
        self.keyID = keyID
        self.isCorrupted = isCorrupted
    }

    /// The content identity of a shard version (specified: SplitMix64 finaliser over the
    /// fields in this order, so it is the same on every machine and Swift version).
    public static func checksum(shardID: UInt64, version: UInt32, keyID: DataKeyID, payload: PayloadDescriptor) -> UInt64 {
        var h: UInt64 = 0x5348_4152_4431_0001  // "SHARD1", version 1
        for word in [shardID, UInt64(version), UInt64(keyID.jurisdiction) << 32 | UInt64(keyID.keyID),
                     UInt64(payload.kind.code), UInt64(payload.plaintextBytes), payload.contentSeed] {
            var sm = SplitMix64(seed: h ^ word)
            h = sm.next()
        }
        return h
    }
}

/// One stored replica of a shard: its digest, and in full mode its sealed bytes.
///
/// Replicas share bytes: assigning a `StoredShard` copies a reference to one `[UInt8]` buffer
/// (copy-on-write), so three replicas of a 500 KB shard hold one buffer until bit rot hits one
/// of them, which then gets its own damaged copy. Storage accounting uses
/// ``ShardDigest/storedBytes`` per replica regardless.
public struct StoredShard: Sendable, Equatable {
    public internal(set) var digest: ShardDigest
    /// The sealed shard (full mode), `nil` in sizes mode.
    public internal(set) var bytes: [UInt8]?
    /// Bits flipped by injected rot so far (full mode), kept so that later rot never flips a
    /// bit back: a corrupted copy stays corrupted, as its ground-truth flag says.
    var flippedBits: [Int] = []

    public init(digest: ShardDigest, bytes: [UInt8]?) {
        self.digest = digest
        self.bytes = bytes
    }

    public var storedBytes: Int { digest.storedBytes }
    public var isCorrupted: Bool { digest.isCorrupted }
    /// The real sealed size in full mode (diagnostics; the simulation accounts ``storedBytes``).
    public var realBytes: Int? { bytes?.count }

    /// Injects bit rot: flips `bits` distinct bits of this copy.
    ///
    /// Draws exactly `bits` values from `rng` in *both* modes, so the fault stream stays in step
    /// between full and sizes runs. In full mode each value picks a bit of the real bytes (the
    /// next unflipped bit if it was already flipped); in sizes mode the values are discarded.
    /// Either way the copy is marked corrupted.
    public mutating func injectBitRot(bits: Int = 1, using rng: inout SimRandom) {
        precondition(bits >= 1, "bit rot must flip at least one bit")
        if bytes != nil {
            BitRot.flipDistinct(in: &bytes!, count: bits, flipped: &flippedBits, using: &rng)
        } else {
            for _ in 0..<bits { _ = rng.next() }
        }
        digest.isCorrupted = true
    }
}

/// One stored fragment of an erasure-coded shard: the shard's digest, the fragment's accounted
/// size, and in full mode its bytes. Position in the fragment array is its index.
public struct StoredFragment: Sendable, Equatable {
    /// The digest of the whole shard this fragment belongs to (its `isCorrupted` is unused).
    public var shard: ShardDigest
    /// Bytes this fragment occupies (``Fragment/storedBytes(shardBytes:k:)`` of the modelled
    /// shard size; identical in both modes).
    public var storedBytes: Int
    /// Ground truth: an injected fault changed this fragment.
    public internal(set) var isCorrupted: Bool
    /// The fragment (full mode), `nil` in sizes mode.
    public internal(set) var fragment: Fragment?
    var flippedBits: [Int] = []

    public init(shard: ShardDigest, storedBytes: Int, isCorrupted: Bool = false, fragment: Fragment?) {
        self.shard = shard
        self.storedBytes = storedBytes
        self.isCorrupted = isCorrupted
        self.fragment = fragment
    }

    /// Injects bit rot, as ``StoredShard/injectBitRot(bits:using:)``.
    public mutating func injectBitRot(bits: Int = 1, using rng: inout SimRandom) {
        precondition(bits >= 1, "bit rot must flip at least one bit")
        if fragment != nil {
            BitRot.flipDistinct(in: &fragment!.bytes, count: bits, flipped: &flippedBits, using: &rng)
        } else {
            for _ in 0..<bits { _ = rng.next() }
        }
        isCorrupted = true
    }
}

/// Bit flips in stored bytes (the "bit rot" fault).
public enum BitRot {
    /// Flips bit `bit` (0 = least significant bit of byte 0) of `bytes`. Copy-on-write: if the
    /// buffer is shared with other copies, this copy gets its own buffer first.
    public static func flip(bit: Int, in bytes: inout [UInt8]) {
        precondition(bit >= 0 && bit < bytes.count * 8, "bit \(bit) outside \(bytes.count) bytes")
        bytes[bit >> 3] ^= UInt8(1) << UInt8(bit & 7)
    }

    /// Flips `count` distinct bits chosen by `rng` (one draw per bit) and returns them.
    public static func flipRandomBits(in bytes: inout [UInt8], count: Int, using rng: inout SimRandom) -> [Int] {
        var flipped: [Int] = []
        flipDistinct(in: &bytes, count: count, flipped: &flipped, using: &rng)
        return flipped
    }

    /// Flips `count` bits not in `flipped` (kept sorted), drawing exactly `count` values.
    static func flipDistinct(in bytes: inout [UInt8], count: Int, flipped: inout [Int], using rng: inout SimRandom) {
        let total = bytes.count * 8
        for _ in 0..<count {
            let draw = rng.next()
            guard total > flipped.count else { continue }  // every bit already flipped
            var bit = Int(draw.multipliedFullWidth(by: UInt64(total)).high)
            var slot = lowerBound(flipped, bit)
            while slot < flipped.count && flipped[slot] == bit {
                bit = (bit + 1) % total
                slot = bit == 0 ? 0 : slot + 1
            }
            flipped.insert(bit, at: slot)
            flip(bit: bit, in: &bytes)
        }
    }

    private static func lowerBound(_ a: [Int], _ x: Int) -> Int {
        var lo = 0, hi = a.count
        while lo < hi { let mid = (lo + hi) / 2; if a[mid] < x { lo = mid + 1 } else { hi = mid } }
        return lo
    }
}
