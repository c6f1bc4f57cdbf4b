/// Fixed sizes and constants of the sealed-shard byte layout (see docs/SHARD-FORMAT.md).
///
/// ```
/// offset  size  field
///      0    32  header (ShardHeader, little-endian; authenticated as AES-GCM AAD)
///     32    12  nonce
///     44     n  body: AES-256-GCM ciphertext of the LZ4 block, or of the raw payload
///   44+n    16  GCM tag
/// ```
public enum ShardFormat {
    /// "DS": the first two bytes of every sealed shard.
    public static let magic: (UInt8, UInt8) = (0x44, 0x53)
    /// The format version this build writes and reads.
    public static let currentVersion: UInt8 = 1
    /// Header size in bytes.
    public static let headerBytes = 32
    /// Nonce size in bytes.
    public static let nonceBytes = Nonce.byteCount
    /// GCM tag size in bytes.
    public static let tagBytes = 16
    /// Bytes a sealed shard adds to its body: header, nonce and tag (60).
    public static let overheadBytes = headerBytes + nonceBytes + tagBytes
    /// Default largest payload per shard (64 MiB): messages and media *chunks*; larger media is
    /// split into several shards by the caller.
    public static let defaultMaxPayloadBytes = 64 << 20
    /// The hard ceiling for `maxPayloadBytes`: what liblz4 accepts (about 2 GiB).
    public static let hardMaxPayloadBytes = LZ4BlockCodec.maxInputBytes

    /// The sealed size of a shard whose body (compressed or raw payload) is `bodyBytes` long.
    @inlinable public static func sealedBytes(bodyBytes: Int) -> Int { overheadBytes + bodyBytes }
}

/// The 32-byte header at the start of every sealed shard. It is the AES-GCM additional
/// authenticated data, so any change to it makes the tag fail.
///
/// ```
/// offset size field
///      0    2 magic "DS"
///      2    1 format version (1)
///      3    1 flags: bit 0 = body is an LZ4 block; other bits must be 0
///      4    8 shard id
///     12    4 shard version (message edit number)
///     16    4 key jurisdiction  } the data key's public id
///     20    4 key id            }
///     24    4 plaintext size (bytes of the payload)
///     28    4 body size (bytes between nonce and tag)
/// ```
public struct ShardHeader: Sendable, Equatable {
    /// Header flag bits.
    public struct Flags: OptionSet, Sendable, Equatable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// The body is an LZ4 block (otherwise the raw payload was kept: it did not shrink).
        public static let compressed = Flags(rawValue: 1)
        /// All bits this version defines.
        public static let known: Flags = [.compressed]
    }

    public var formatVersion: UInt8
    public var flags: Flags
    public var shardID: UInt64
    public var version: UInt32
    public var keyID: DataKeyID
    public var plaintextBytes: UInt32
    public var bodyBytes: UInt32

    public init(formatVersion: UInt8 = ShardFormat.currentVersion, flags: Flags, shardID: UInt64, version: UInt32,
                keyID: DataKeyID, plaintextBytes: UInt32, bodyBytes: UInt32) {
        self.formatVersion = formatVersion
        self.flags = flags
        self.shardID = shardID
        self.version = version
        self.keyID = keyID
        self.plaintextBytes = plaintextBytes
        self.bodyBytes = bodyBytes
    }

    /// Whether the body is LZ4-compressed.
    public var isCompressed: Bool { flags.contains(.compressed) }

    /// The total sealed size this header describes.
    public var sealedBytes: Int { ShardFormat.sealedBytes(bodyBytes: Int(bodyBytes)) }

    /// Writes the 32 header bytes at `p`.
    func encode(into p: UnsafeMutableRawPointer) {
        p.storeBytes(of: ShardFormat.magic.0, toByteOffset: 0, as: UInt8.self)
        p.storeBytes(of: ShardFormat.magic.1, toByteOffset: 1, as: UInt8.self)
        p.storeBytes(of: formatVersion, toByteOffset: 2, as: UInt8.self)
        p.storeBytes(of: flags.rawValue, toByteOffset: 3, as: UInt8.self)
        p.storeBytes(of: shardID.littleEndian, toByteOffset: 4, as: UInt64.self)
        p.storeBytes(of: version.littleEndian, toByteOffset: 12, as: UInt32.self)
        p.storeBytes(of: keyID.jurisdiction.littleEndian, toByteOffset: 16, as: UInt32.self)
        p.storeBytes(of: keyID.keyID.littleEndian, toByteOffset: 20, as: UInt32.self)
        p.storeBytes(of: plaintextBytes.littleEndian, toByteOffset: 24, as: UInt32.self)
        p.storeBytes(of: bodyBytes.littleEndian, toByteOffset: 28, as: UInt32.self)
    }

    /// The header's 32 bytes.
    public var bytes: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: ShardFormat.headerBytes) { buf, n in
            encode(into: UnsafeMutableRawPointer(buf.baseAddress!))
            n = ShardFormat.headerBytes
        }
    }

    /// Parses and checks the header of a whole sealed shard. This checks structure only
    /// (magic, version, flags, sizes against each other and against `shard.count`); it does not
    /// authenticate: only ``ShardSealer/open(_:key:)`` and ``ShardSealer/verify(_:key:)`` do.
    ///
    /// - Parameter maxPlaintextBytes: a larger plaintext size is reported as malformed.
    /// - Throws: ``ShardError/malformedShard(shardID:reason:)``.
    public init(parsing shard: UnsafeRawBufferPointer, maxPlaintextBytes: Int = ShardFormat.hardMaxPayloadBytes) throws(ShardError) {
        guard shard.count >= ShardFormat.overheadBytes, let p = shard.baseAddress else {
            throw .malformedShard(shardID: nil, reason: .truncated(bytes: shard.count, minimum: ShardFormat.overheadBytes))
        }
        guard p.load(fromByteOffset: 0, as: UInt8.self) == ShardFormat.magic.0,
              p.load(fromByteOffset: 1, as: UInt8.self) == ShardFormat.magic.1 else {
            throw .malformedShard(shardID: nil, reason: .badMagic)
        }
        formatVersion = p.load(fromByteOffset: 2, as: UInt8.self)
        flags = Flags(rawValue: p.load(fromByteOffset: 3, as: UInt8.self))
        shardID = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt64.self))
        version = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        keyID = DataKeyID(jurisdiction: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 16, as: UInt32.self)),
                          keyID: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 20, as: UInt32.self)))
        plaintextBytes = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 24, as: UInt32.self))
        bodyBytes = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 28, as: UInt32.self))
        try check(shardBytes: shard.count, maxPlaintextBytes: maxPlaintextBytes)
    }

    /// The structural invariants, checked when a shard is written and again when it is read.
    func check(shardBytes: Int, maxPlaintextBytes: Int) throws(ShardError) {
        func bad(_ reason: ShardError.MalformedReason) -> ShardError { .malformedShard(shardID: shardID, reason: reason) }
        guard formatVersion == ShardFormat.currentVersion else { throw bad(.unsupportedFormatVersion(formatVersion)) }
        guard flags.subtracting(.known).isEmpty else { throw bad(.unknownFlags(flags.rawValue)) }
        let body = Int(bodyBytes), plain = Int(plaintextBytes)
        guard ShardFormat.sealedBytes(bodyBytes: body) == shardBytes else {
            throw bad(.sizeMismatch(field: "body size", header: body, actual: shardBytes - ShardFormat.overheadBytes))
        }
        guard plain <= maxPlaintextBytes else {
            throw bad(.sizeMismatch(field: "plaintext size (limit)", header: plain, actual: maxPlaintextBytes))
        }
        if isCompressed {
            // The sealer keeps a compressed body only when it is strictly smaller.
            guard body > 0, body < plain else { throw bad(.sizeMismatch(field: "compressed body size", header: body, actual: plain)) }
        } else {
            guard body == plain else { throw bad(.sizeMismatch(field: "raw body size", header: body, actual: plain)) }
        }
    }
}
