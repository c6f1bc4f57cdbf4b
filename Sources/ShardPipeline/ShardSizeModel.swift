import SimCore

/// The stored size of a shard as the *simulation* accounts it, in both payload modes.
///
/// Why a model: for the same seed, `--payload full` and `--payload sizes` must give the same
/// simulated metrics, and disk usage, WAN bytes and transfer times all depend on shard sizes.
/// Sizes mode has no bytes to compress, so the size cannot come from the real compressor
/// there; and if full mode used its real compressed sizes, its reports would also depend on the
/// system's liblz4 version. So in both modes the simulation uses this deterministic function of
/// (payload kind, plaintext length); full mode additionally produces, stores and verifies the
/// real bytes (their real size is available for diagnostics, outside the deterministic report).
///
/// The model mirrors the sealer's rule exactly where it is exact — media is kept raw (LZ4 never
/// shrinks already-compressed bytes), an empty payload has an empty body — and is a measured
/// average elsewhere: for text, the expected body per plaintext byte in each power-of-two length
/// bucket, measured with the sealer's own LZ4 settings on ``PayloadSynthesizer`` text
/// (``calibrate(samplesPerBucket:bytesPerBucket:seed:)``; a test re-measures it). The ratio is
/// an integer in parts per million, so the size is exact integer arithmetic on every machine.
public struct ShardSizeModel: Sendable, Equatable {
    /// Number of length buckets: bucket b holds plaintext lengths in [2^b, 2^(b+1)); longer
    /// payloads use the last bucket.
    public static let bucketCount = 32
    /// Buckets above this are not measured (too slow to be worth it) and copy its ratio.
    public static let lastMeasuredBucket = 20

    /// Expected text body bytes per million plaintext bytes, per length bucket (≤ 1,000,000:
    /// the sealer never stores a body longer than its payload).
    public let textBodyPPM: [UInt32]

    public init(textBodyPPM: [UInt32]) {
        precondition(textBodyPPM.count == ShardSizeModel.bucketCount,
                     "textBodyPPM needs \(ShardSizeModel.bucketCount) buckets, got \(textBodyPPM.count)")
        precondition(textBodyPPM.allSatisfy { $0 <= 1_000_000 }, "a body ratio above 1,000,000 ppm is impossible")
        self.textBodyPPM = textBodyPPM
    }

    /// The bucket of a plaintext length ≥ 1.
    @inlinable public static func bucket(_ plaintextBytes: Int) -> Int {
        Swift.min(bucketCount - 1, Int.bitWidth - 1 - plaintextBytes.leadingZeroBitCount)
    }

    /// The modelled body size (compressed, or raw when that is not smaller).
    public func bodyBytes(kind: PayloadKind, plaintextBytes n: Int) -> Int {
        precondition(n >= 0, "negative payload size \(n)")
        guard n > 0, kind != .media else { return n }
        let ppm = Int(textBodyPPM[ShardSizeModel.bucket(n)])
        return Swift.min(n, Swift.max(1, (n * ppm + 999_999) / 1_000_000))
    }

    /// The modelled sealed size: body plus ``ShardFormat/overheadBytes``.
    public func sealedBytes(kind: PayloadKind, plaintextBytes: Int) -> Int {
        ShardFormat.sealedBytes(bodyBytes: bodyBytes(kind: kind, plaintextBytes: plaintextBytes))
    }

    /// The modelled sealed size of a described payload.
    public func sealedBytes(_ payload: PayloadDescriptor) -> Int {
        sealedBytes(kind: payload.kind, plaintextBytes: payload.plaintextBytes)
    }

    /// The modelled stored size of each fragment when the sealed shard is RS(k, ·)-coded.
    public func fragmentStoredBytes(_ payload: PayloadDescriptor, k: Int) -> Int {
        Fragment.storedBytes(shardBytes: sealedBytes(payload), k: k)
    }

    /// The measured default (liblz4 1.9.4, `LZ4_compress_fast_continue` at acceleration 1 after
    /// `LZ4_resetStream_fast`, on ``PayloadSynthesizer`` text; `calibrate()` reproduces it).
    public static let standard = ShardSizeModel(textBodyPPM: [
        1_000_000, 1_000_000, 1_000_000, 1_000_000, 993_531, 984_241, 957_492, 916_247,
        868_584, 812_390, 752_151, 694_094, 642_956, 601_733, 573_918, 556_723,
        540_084, 524_939, 516_741, 517_075, 511_549, 511_549, 511_549, 511_549,
        511_549, 511_549, 511_549, 511_549, 511_549, 511_549, 511_549, 511_549,
    ])

    /// Measures the text table with the real compressor: for each bucket up to
    /// ``lastMeasuredBucket``, synthesises text payloads of uniformly drawn lengths in the
    /// bucket, compresses each exactly as the sealer does (keeping it raw when not smaller) and
    /// records total body bytes / total plaintext bytes. Deterministic for a given liblz4.
    ///
    /// - Parameters:
    ///   - samplesPerBucket: payloads per bucket, at most.
    ///   - bytesPerBucket: plaintext budget per bucket (large buckets take fewer samples, at least 8).
    public static func calibrate(samplesPerBucket: Int = 4000, bytesPerBucket: Int = 16 << 20,
                                 seed: UInt64 = 0xCA1B) throws(ShardError) -> ShardSizeModel {
        let codec = try LZ4BlockCodec()
        var rng = SimRandom(seed: seed)
        var table: [UInt32] = []
        let maxLength = 1 << (lastMeasuredBucket + 1)
        let input = UnsafeMutableRawBufferPointer.allocate(byteCount: maxLength, alignment: 16)
        let output = UnsafeMutableRawPointer.allocate(byteCount: LZ4BlockCodec.bound(maxLength), alignment: 16)
        defer { input.deallocate(); output.deallocate() }
        for b in 0...lastMeasuredBucket {
            let lo = 1 << b, hi = 1 << (b + 1)
            let samples = Swift.max(8, Swift.min(samplesPerBucket, bytesPerBucket / lo))
            var plain = 0, body = 0
            for _ in 0..<samples {
                let n = lo + Int(rng.below(UInt64(hi - lo)))
                let buffer = UnsafeMutableRawBufferPointer(rebasing: input[0..<n])
                PayloadSynthesizer.fill(buffer, kind: .text, seed: rng.next())
                let c = codec.compress(UnsafeRawBufferPointer(buffer), into: output, capacity: LZ4BlockCodec.bound(n))
                plain += n
                body += (c > 0 && c < n) ? c : n
            }
            table.append(UInt32((body * 1_000_000 + plain / 2) / plain))
        }
        while table.count < bucketCount { table.append(table[lastMeasuredBucket]) }
        return ShardSizeModel(textBodyPPM: table)
    }
}
