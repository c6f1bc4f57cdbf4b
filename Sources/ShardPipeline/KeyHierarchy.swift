import SimCore

/// Master keys per jurisdiction and the data keys derived from them with HKDF-SHA256.
///
/// Each jurisdiction has one 256-bit master key, held by that jurisdiction's key-holder data
/// centers (which DCs hold which key for a shard is ``KeyPlacementPolicy``'s business). A
/// data key is
///
///     HKDF-SHA256(ikm: master[j], salt: "dcsim/shard-key/v1",
///                 info: "dcsim data key" ‖ u32le(j) ‖ u32le(keyID), length: 32)
///
/// so it is a pure function of (jurisdiction, keyID): derive it again or cache it, the bytes
/// are the same.
///
/// **Simulation only.** Master keys are drawn from the run's seed (one ``SimRandom`` child
/// stream per jurisdiction, label `"shard-pipeline/master-key"`), so every run with the same
/// seed has the same keys and the same shard bytes. That makes runs reproducible and is
/// exactly why these keys protect nothing: anyone with the seed has them. Keys never appear in
/// `description`, reports or logs.
public struct KeyHierarchy: Sendable, CustomStringConvertible, CustomReflectable {
    /// The HKDF salt (a fixed domain-separation string).
    public static let salt: [UInt8] = Array("dcsim/shard-key/v1".utf8)
    /// The fixed prefix of the HKDF info string.
    public static let infoPrefix: [UInt8] = Array("dcsim data key".utf8)
    /// The SimRandom label of the master-key streams.
    public static let streamLabel = "shard-pipeline/master-key"

    private let masterKeys: [[UInt8]]
    private let kdf: HKDFSHA256

    /// Number of jurisdictions (valid jurisdiction indices are `0..<jurisdictionCount`).
    public var jurisdictionCount: Int { masterKeys.count }

    /// Draws one master key per jurisdiction from the run's root seed (simulation only).
    public init(seed: UInt64, jurisdictions: Int) throws(ShardError) {
        precondition(jurisdictions >= 0, "negative jurisdiction count \(jurisdictions)")
        var keys: [[UInt8]] = []
        for j in 0..<jurisdictions {
            var stream = SimRandom(root: seed, label: KeyHierarchy.streamLabel, index: UInt64(j))
            keys.append(stream.bytes(DataKey.byteCount))
        }
        try self.init(masterKeys: keys)
    }

    /// Uses the given master keys (index = jurisdiction). Each must be 32 bytes.
    public init(masterKeys: [[UInt8]]) throws(ShardError) {
        for (j, key) in masterKeys.enumerated() where key.count != DataKey.byteCount {
            throw .invalidKey(reason: "master key of jurisdiction \(j) has \(key.count) bytes, \(DataKey.byteCount) needed")
        }
        self.masterKeys = masterKeys
        kdf = try HKDFSHA256()
    }

    /// The HKDF info string for a data key.
    public static func info(jurisdiction: UInt32, keyID: UInt32) -> [UInt8] {
        var info = infoPrefix
        withUnsafeBytes(of: jurisdiction.littleEndian) { info.append(contentsOf: $0) }
        withUnsafeBytes(of: keyID.littleEndian) { info.append(contentsOf: $0) }
        return info
    }

    /// Derives the data key `keyID` of `jurisdiction`'s master key.
    /// - Throws: ``ShardError/invalidKey(reason:)`` for an unknown jurisdiction, or an OpenSSL error.
    public func dataKey(jurisdiction: Int, keyID: UInt32) throws(ShardError) -> DataKey {
        guard jurisdiction >= 0 && jurisdiction < masterKeys.count else {
            throw .invalidKey(reason: "jurisdiction \(jurisdiction) has no master key (there are \(masterKeys.count))")
        }
        let id = DataKeyID(jurisdiction: UInt32(jurisdiction), keyID: keyID)
        let bytes = try kdf.derive(ikm: masterKeys[jurisdiction], salt: KeyHierarchy.salt,
                                   info: KeyHierarchy.info(jurisdiction: id.jurisdiction, keyID: keyID),
                                   count: DataKey.byteCount)
        return DataKey(id: id, bytes: bytes)
    }

    /// Derives the data key with the given id.
    public func dataKey(_ id: DataKeyID) throws(ShardError) -> DataKey {
        try dataKey(jurisdiction: Int(id.jurisdiction), keyID: id.keyID)
    }

    public var description: String { "KeyHierarchy(\(masterKeys.count) jurisdictions, master keys: <redacted>)" }
    public var customMirror: Mirror {
        Mirror(self, children: ["jurisdictionCount": masterKeys.count, "masterKeys": "<redacted>"], displayStyle: .struct)
    }
}

/// A bounded, direct-mapped cache of derived data keys (derivation costs a few microseconds;
/// a simulation asks for the same few keys over and over).
///
/// Slot `i` holds the last key whose id hashes to `i` (a specified multiplicative hash, not
/// `Hasher`), so memory is fixed and nothing depends on hash-table iteration order. Cached or
/// not, the returned key is the same.
public final class DataKeyCache {
    public let hierarchy: KeyHierarchy
    private var slots: [DataKey?]
    /// Lookups answered from the cache / by deriving.
    public private(set) var hits = 0, misses = 0

    /// - Parameter capacity: number of slots (at least 1).
    public init(hierarchy: KeyHierarchy, capacity: Int = 1024) {
        precondition(capacity >= 1, "DataKeyCache capacity must be at least 1, got \(capacity)")
        self.hierarchy = hierarchy
        slots = Array(repeating: nil, count: capacity)
    }

    /// The data key with the given id, derived on a miss.
    public func key(_ id: DataKeyID) throws(ShardError) -> DataKey {
        let h = (UInt64(id.jurisdiction) << 32 | UInt64(id.keyID)) &* 0x9E37_79B9_7F4A_7C15
        let slot = Int(h.multipliedFullWidth(by: UInt64(slots.count)).high)
        if let cached = slots[slot], cached.id == id {
            hits += 1
            return cached
        }
        misses += 1
        let key = try hierarchy.dataKey(id)
        slots[slot] = key
        return key
    }

    /// The data key `keyID` of `jurisdiction`.
    public func key(jurisdiction: Int, keyID: UInt32) throws(ShardError) -> DataKey {
        precondition(jurisdiction >= 0, "negative jurisdiction \(jurisdiction)")
        return try key(DataKeyID(jurisdiction: UInt32(jurisdiction), keyID: keyID))
    }
}
