internal import CISAL

/// CRC-32C (Castagnoli, the iSCSI polynomial 0x1EDC6F41) through ISA-L's `crc32_iscsi`, which
/// uses the SSE4.2 `crc32` instruction.
///
/// CRC-32C detects every error burst up to 32 bits and, for messages below about 2^31 bits,
/// every error of at most 3 flipped bits (Hamming distance 4, Koopman 2002); other corruption
/// escapes with probability 2^-32.
enum CRC32C {
    /// The initial register value (and final XOR) of the standard CRC-32C.
    static let seed: UInt32 = 0xFFFF_FFFF

    /// Continues a running CRC register over `bytes`. Start with ``seed``; finish with
    /// `register ^ seed`.
    static func update(_ register: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return register }
        precondition(bytes.count <= Int(Int32.max), "CRC input of \(bytes.count) bytes is too long")
        return UInt32(crc32_iscsi(UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: UInt8.self)),
                                  Int32(bytes.count), register))
    }

    /// The standard CRC-32C of `bytes` (check value of "123456789" is 0xE3069283).
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        update(seed, bytes) ^ seed
    }
}
