internal import CLZ4

/// LZ4 *block* compression through liblz4, with one reusable compression state.
///
/// dcsim stores one independent LZ4 block per shard, not an LZ4 frame: the shard header
/// already records both sizes, and the AES-GCM tag authenticates every byte, so a frame's
/// magic, descriptor, content size and xxHash checksums would be redundant bytes on every
/// small chat message and extra work on every call (see docs/SHARD-FORMAT.md). A block is the
/// standard LZ4 block format: the same bytes an `lz4 -l` (legacy format) file carries after its
/// 4-byte size prefix, which the tests use to cross-check with the `lz4` command-line tool.
///
/// The state is reset with `LZ4_resetStream_fast` before each block, which keeps every block
/// independent (no dictionary from the previous one) without re-clearing the 16 KiB hash
/// table on every call the way `LZ4_compress_default` does. The stale, out-of-range entries
/// it leaves mean a block's exact bytes can depend on what the state compressed before (the
/// block is still standard and decompresses alone); the same sequence of calls always gives
/// the same blocks, so a deterministic run still writes identical bytes.
final class LZ4BlockCodec {
    /// The largest input liblz4 accepts (`LZ4_MAX_INPUT_SIZE`).
    static let maxInputBytes = 0x7E00_0000

    private let stream: UnsafeMutablePointer<LZ4_stream_t>

    init() throws(ShardError) {
        guard let s = LZ4_createStream() else {
            throw .outOfMemory(what: "LZ4 compression state", bytes: Int(LZ4_sizeofState()))
        }
        stream = s
    }

    deinit { LZ4_freeStream(stream) }

    /// The worst-case compressed size of `count` input bytes.
    /// - Precondition: `0 ≤ count ≤ maxInputBytes`.
    static func bound(_ count: Int) -> Int {
        precondition(count >= 0 && count <= maxInputBytes, "LZ4 input of \(count) bytes is out of range")
        return Int(dcsim_lz4_compress_bound(Int32(count)))
    }

    /// Compresses `source` into one independent block at `destination`.
    /// - Parameters:
    ///   - destination: at least `capacity` writable bytes.
    ///   - capacity: should be `bound(source.count)`; a smaller capacity may make liblz4 give up.
    /// - Returns: the compressed size, or 0 if it did not fit (or the input is empty).
    func compress(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawPointer, capacity: Int) -> Int {
        guard let base = source.baseAddress, source.count > 0 else { return 0 }
        precondition(source.count <= LZ4BlockCodec.maxInputBytes && capacity <= Int(Int32.max),
                     "LZ4 sizes out of range: \(source.count) in, \(capacity) out")
        LZ4_resetStream_fast(stream)
        let n = LZ4_compress_fast_continue(stream, base.assumingMemoryBound(to: CChar.self),
                                           destination.assumingMemoryBound(to: CChar.self),
                                           Int32(source.count), Int32(capacity), 1)
        return Int(max(n, 0))
    }

    /// Decompresses one block into exactly `count` bytes at `destination`.
    /// - Returns: the number of bytes produced, or a negative liblz4 error (malformed input or
    ///   output larger than `count`). `LZ4_decompress_safe` never reads or writes out of bounds.
    static func decompress(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawPointer, count: Int) -> Int32 {
        guard let base = source.baseAddress else { return count == 0 ? 0 : -1 }
        precondition(source.count <= Int(Int32.max) && count <= Int(Int32.max), "LZ4 sizes out of range")
        return LZ4_decompress_safe(base.assumingMemoryBound(to: CChar.self),
                                   destination.assumingMemoryBound(to: CChar.self),
                                   Int32(source.count), Int32(count))
    }
}
