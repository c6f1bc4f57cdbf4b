/// One of the k+m Reed–Solomon fragments of a shard, as stored: a 24-byte header then the
/// fragment's payload.
///
/// ```
/// offset size field
///      0    2 magic "DF"
///      2    1 format version (1)
///      3    1 fragment index (0..<k are data, k..<k+m parity)
///      4    1 k
///      5    1 m
///      6    2 reserved, 0
///      8    8 stripe id (the caller's shard identity, so fragments of different shards never mix)
///     16    4 original length: bytes of the encoded shard
///     20    4 CRC-32C of bytes 0..<20 followed by the payload
///     24    p payload, p = ceil(original length / k) (data fragments zero-padded)
/// ```
///
/// The CRC covers the header too, so a flipped index, length or stripe id is caught like a
/// flipped payload byte. A fragment that fails any check is treated as missing by
/// ``ErasureCoder/decode(_:)``. The bytes are a value (`[UInt8]`, copy-on-write): copies of a
/// fragment share storage until one is changed.
public struct Fragment: Sendable, Equatable {
    /// Header size in bytes.
    public static let headerBytes = 24
    /// "DF".
    public static let magic: (UInt8, UInt8) = (0x44, 0x46)
    /// The format version this build writes and reads.
    public static let currentVersion: UInt8 = 1

    /// The stored bytes: header and payload.
    public internal(set) var bytes: [UInt8]

    /// Wraps stored bytes (unchecked: ``ErasureCoder/check(_:index:)`` validates them).
    public init(bytes: [UInt8]) { self.bytes = bytes }

    // Unchecked field accessors: meaningful only for a fragment that passed its checks.
    public var index: Int { Int(bytes[3]) }
    public var k: Int { Int(bytes[4]) }
    public var m: Int { Int(bytes[5]) }
    public var stripeID: UInt64 { bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) } }
    public var originalLength: Int { bytes.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 16, as: UInt32.self))) } }
    public var storedCRC: UInt32 { bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 20, as: UInt32.self)) } }
    public var payloadBytes: Int { bytes.count - Fragment.headerBytes }

    /// The payload size of each fragment of a `shardBytes`-byte shard under RS(k, ·).
    @inlinable public static func payloadBytes(shardBytes: Int, k: Int) -> Int { (shardBytes + k - 1) / k }

    /// The stored size (header and payload) of each fragment of a `shardBytes`-byte shard.
    @inlinable public static func storedBytes(shardBytes: Int, k: Int) -> Int { headerBytes + payloadBytes(shardBytes: shardBytes, k: k) }

    /// Writes a header (everything but the CRC) at `p`.
    static func writeHeader(_ p: UnsafeMutableRawPointer, index: Int, k: Int, m: Int, stripeID: UInt64, originalLength: Int) {
        p.storeBytes(of: magic.0, toByteOffset: 0, as: UInt8.self)
        p.storeBytes(of: magic.1, toByteOffset: 1, as: UInt8.self)
        p.storeBytes(of: currentVersion, toByteOffset: 2, as: UInt8.self)
        p.storeBytes(of: UInt8(index), toByteOffset: 3, as: UInt8.self)
        p.storeBytes(of: UInt8(k), toByteOffset: 4, as: UInt8.self)
        p.storeBytes(of: UInt8(m), toByteOffset: 5, as: UInt8.self)
        p.storeBytes(of: UInt16(0), toByteOffset: 6, as: UInt16.self)
        p.storeBytes(of: stripeID.littleEndian, toByteOffset: 8, as: UInt64.self)
        p.storeBytes(of: UInt32(originalLength).littleEndian, toByteOffset: 16, as: UInt32.self)
    }

    /// The CRC-32C of a stored fragment's bytes 0..<20 and payload.
    static func computeCRC(_ b: UnsafeRawBufferPointer) -> UInt32 {
        var crc = CRC32C.update(CRC32C.seed, UnsafeRawBufferPointer(rebasing: b[0..<20]))
        crc = CRC32C.update(crc, UnsafeRawBufferPointer(rebasing: b[headerBytes...]))
        return crc ^ CRC32C.seed
    }
}
