/// The shard pipeline as the simulation engine uses it, in either payload mode.
///
/// ``write(_:shardID:version:key:nonce:)`` and ``read(_:key:)`` (replicated shards) and
/// ``encode(_:coder:stripeID:)`` / ``decode(_:coder:)`` (erasure-coded shards) give the *same
/// simulated outcomes* in `full` and `sizes` mode for the same inputs:
///
/// - sizes come from ``ShardSizeModel`` in both modes;
/// - random draws are identical (the caller draws nonces in both modes; bit rot draws the same
///   values in both — see ``StoredShard/injectBitRot(bits:using:)``);
/// - a read's outcome is decided by the real bytes in full mode and by the ground-truth flags in
///   sizes mode, and these agree: GCM detects any change (forgery probability 2^-128), and the
///   fragment CRC-32C detects every rot of up to 3 bits per fragment (rot that flips more bits
///   escapes the CRC with probability 2^-32, and is then caught by the GCM tag when the
///   rebuilt shard is read). Debug builds assert the agreement on every read.
public final class ShardCodec {
    /// The outcome of reading one copy.
    public enum ReadOutcome: Sendable, Equatable {
        /// The copy verified.
        case intact
        /// The copy failed its integrity checks (bit rot): count it, read another copy, repair.
        case corrupt
        /// The key given is not the shard's (its id differs from the shard's key id).
        case wrongKey
    }

    public let mode: PayloadMode
    public let sizeModel: ShardSizeModel
    /// The sealer (full mode only).
    public let sealer: ShardSealer?
    /// The detailed error behind the last `.corrupt` outcome in full mode (diagnostics only:
    /// sizes mode has none, so never let it affect the simulation).
    public private(set) var lastIntegrityError: ShardError?
    private var payload: UnsafeMutableRawBufferPointer

    /// - Parameters:
    ///   - mode: full bytes or sizes only.
    ///   - sizeModel: the stored-size model (both modes).
    ///   - maxPayloadBytes: per-shard payload limit (both modes reject larger payloads).
    public init(mode: PayloadMode, sizeModel: ShardSizeModel = .standard,
                maxPayloadBytes: Int = ShardFormat.defaultMaxPayloadBytes) throws(ShardError) {
        self.mode = mode
        self.sizeModel = sizeModel
        sealer = mode == .full ? try ShardSealer(maxPayloadBytes: maxPayloadBytes) : nil
        payload = ScratchMemory.allocate(byteCount: mode == .full ? 4096 : 0)
        self.maxPayloadBytes = maxPayloadBytes
    }

    /// The per-shard payload limit.
    public let maxPayloadBytes: Int

    deinit { ScratchMemory.deallocate(payload) }

    // MARK: Replicated shards

    /// Seals a described payload (full mode: synthesises its bytes and seals them; sizes mode:
    /// computes the digest only).
    ///
    /// - Parameter nonce: draw it in both modes (e.g. ``Nonce/random(using:)``) so the random
    ///   streams stay in step; sizes mode does not use it.
    /// - Returns: one stored copy; assign it to each replica (they share its bytes).
    /// - Throws: ``ShardError/payloadTooLarge(bytes:limit:)`` in both modes; OpenSSL errors in full.
    public func write(_ content: PayloadDescriptor, shardID: UInt64, version: UInt32,
                      key: DataKey, nonce: Nonce) throws(ShardError) -> StoredShard {
        guard content.plaintextBytes <= maxPayloadBytes else {
            throw .payloadTooLarge(bytes: content.plaintextBytes, limit: maxPayloadBytes)
        }
        let digest = ShardDigest(storedBytes: sizeModel.sealedBytes(content),
                                 checksum: ShardDigest.checksum(shardID: shardID, version: version, keyID: key.id, payload: content),
                                 keyID: key.id)
        guard let sealer else { return StoredShard(digest: digest, bytes: nil) }
        ScratchMemory.reserve(&payload, content.plaintextBytes, limit: maxPayloadBytes)
        let buffer = UnsafeMutableRawBufferPointer(rebasing: payload[0..<content.plaintextBytes])
        PayloadSynthesizer.fill(buffer, kind: content.kind, seed: content.contentSeed)
        let bytes = try sealer.seal(payload: UnsafeRawBufferPointer(buffer), shardID: shardID, version: version, key: key, nonce: nonce)
        return StoredShard(digest: digest, bytes: bytes)
    }

    /// Reads (verifies) one copy with `key`.
    ///
    /// Full mode checks the header and the GCM tag of the real bytes; sizes mode reads the
    /// ground-truth flag. Both first compare `key.id` with the digest's key id.
    /// - Throws: only operating errors (OpenSSL failing, e.g. out of memory); integrity
    ///   failures are the `.corrupt` outcome.
    public func read(_ copy: StoredShard, key: DataKey) throws(ShardError) -> ReadOutcome {
        guard key.id == copy.digest.keyID else { return .wrongKey }
        guard let sealer, let bytes = copy.bytes else {
            precondition(mode == .sizes, "full-mode codec given a sizes-mode shard")
            return copy.isCorrupted ? .corrupt : .intact
        }
        do throws(ShardError) {
            _ = try sealer.verify(bytes, key: key)
            assert(!copy.isCorrupted, "bit rot went undetected by the GCM tag")
            return .intact
        } catch {
            guard error.isIntegrityFailure else { throw error }
            lastIntegrityError = error
            assert(copy.isCorrupted, "intact shard failed verification: \(error)")
            return .corrupt
        }
    }

    /// Opens one copy and returns its plaintext (full mode only; sizes mode has none).
    /// - Throws: the sealer's integrity failures.
    public func readPayload(_ copy: StoredShard, key: DataKey) throws(ShardError) -> [UInt8] {
        guard let sealer, let bytes = copy.bytes else { preconditionFailure("readPayload needs a full-mode shard") }
        return try sealer.open(bytes, key: key)
    }

    // MARK: Erasure-coded shards

    /// Splits a stored shard into k + m stored fragments.
    public func encode(_ shard: StoredShard, coder: ErasureCoder, stripeID: UInt64) -> [StoredFragment] {
        let size = Fragment.storedBytes(shardBytes: shard.storedBytes, k: coder.k)
        guard let bytes = shard.bytes else {
            return Array(repeating: StoredFragment(shard: shard.digest, storedBytes: size, fragment: nil), count: coder.n)
        }
        return coder.encode(bytes, stripeID: stripeID).map { StoredFragment(shard: shard.digest, storedBytes: size, fragment: $0) }
    }

    /// The result of rebuilding a shard from fragments.
    public struct Rebuilt: Sendable, Equatable {
        public var shard: StoredShard
        /// Fragments present but corrupt (detected; count and rewrite them).
        public var corrupt: [Int]
        /// Fragments absent.
        public var missing: [Int]
    }

    /// Rebuilds a shard from its fragments (`nil` = unavailable; position = index).
    /// - Throws: ``ShardError/unrecoverable(intact:needed:corrupt:missing:)`` with fewer than k
    ///   intact fragments, in both modes with the same counts.
    public func decode(_ fragments: [StoredFragment?], coder: ErasureCoder) throws(ShardError) -> Rebuilt {
        precondition(fragments.count == coder.n, "decode needs \(coder.n) entries, got \(fragments.count)")
        guard let template = fragments.first(where: { $0 != nil })??.shard else {
            throw .unrecoverable(intact: 0, needed: coder.k, corrupt: 0, missing: coder.n)
        }
        var digest = template
        digest.isCorrupted = false
        if mode == .sizes {
            var corrupt: [Int] = [], missing: [Int] = []
            for (i, f) in fragments.enumerated() {
                if f == nil { missing.append(i) } else if f!.isCorrupted { corrupt.append(i) }
            }
            let intact = coder.n - corrupt.count - missing.count
            guard coder.canDecode(intact: intact) else {
                throw .unrecoverable(intact: intact, needed: coder.k, corrupt: corrupt.count, missing: missing.count)
            }
            return Rebuilt(shard: StoredShard(digest: digest, bytes: nil), corrupt: corrupt, missing: missing)
        }
        let decoded = try coder.decode(fragments.map { $0?.fragment })
        assert(decoded.corrupt == fragments.indices.filter { fragments[$0]?.isCorrupted == true },
               "fragment corruption detected \(decoded.corrupt) differs from injected")
        return Rebuilt(shard: StoredShard(digest: digest, bytes: decoded.bytes), corrupt: decoded.corrupt, missing: decoded.missing)
    }
}
