/// Seals payloads into shards and opens them again: LZ4 block compression, then AES-256-GCM
/// with the shard header as authenticated data.
///
/// Seal: payload → LZ4 block (kept only if strictly smaller; otherwise the raw payload is kept
/// and the `compressed` flag is clear) → header | nonce | GCM(body) | tag.
///
/// Open: parse and check the header → GCM decrypt and verify the tag (header, nonce, body and
/// tag are all covered) → LZ4 decompress into exactly the header's plaintext size. Nothing is
/// returned unless every step succeeds.
///
/// One sealer per simulation (or per thread): it owns the EVP cipher contexts, the LZ4 state and
/// one scratch buffer, all reused across calls and freed in `deinit`. Apart from the returned
/// array, `seal` and `open` allocate nothing once the scratch buffer has grown to the largest
/// shard seen; the `into:` variants write into caller-owned memory and allocate nothing at all
/// (use them where shards of hundreds of KB are made and dropped at a high rate: glibc serves
/// such sizes with fresh `mmap`s, and the page faults cost more than the crypto).
public final class ShardSealer {
    /// The largest payload this sealer accepts, and the largest plaintext size it will believe
    /// in a header it reads.
    public let maxPayloadBytes: Int

    private let lz4: LZ4BlockCodec
    private let aead: AESGCM
    private var scratchBuffer: UnsafeMutableRawBufferPointer
    private var scratch: UnsafeMutableRawPointer { scratchBuffer.baseAddress! }

    /// - Parameter maxPayloadBytes: per-shard payload limit, at most
    ///   ``ShardFormat/hardMaxPayloadBytes``.
    /// - Throws: ``ShardError`` if OpenSSL or liblz4 cannot create their contexts.
    public init(maxPayloadBytes: Int = ShardFormat.defaultMaxPayloadBytes) throws(ShardError) {
        precondition(maxPayloadBytes >= 0 && maxPayloadBytes <= ShardFormat.hardMaxPayloadBytes,
                     "maxPayloadBytes \(maxPayloadBytes) outside 0...\(ShardFormat.hardMaxPayloadBytes)")
        self.maxPayloadBytes = maxPayloadBytes
        lz4 = try LZ4BlockCodec()
        aead = try AESGCM()
        scratchBuffer = ScratchMemory.allocate(byteCount: 4096)
    }

    deinit { ScratchMemory.deallocate(scratchBuffer) }

    /// Past 1 MiB, straight to the largest body this sealer can meet (see ``ScratchMemory``).
    private func reserveScratch(_ bytes: Int) {
        ScratchMemory.reserve(&scratchBuffer, bytes, limit: LZ4BlockCodec.bound(maxPayloadBytes))
    }

    // MARK: Seal

    /// The most bytes sealing a `payloadBytes` payload can produce: the body is never longer
    /// than the payload (an LZ4 block that does not shrink it is not kept).
    @inlinable public static func sealedBytesBound(payloadBytes: Int) -> Int {
        ShardFormat.sealedBytes(bodyBytes: payloadBytes)
    }

    /// Seals a payload into a shard.
    ///
    /// - Parameters:
    ///   - payload: the message or media chunk, at most ``maxPayloadBytes``.
    ///   - shardID, version: recorded in the authenticated header.
    ///   - key: the data key; its id is recorded in the header.
    ///   - nonce: must be unique for this key (see ``Nonce``: simulation nonces are seeded).
    /// - Returns: the sealed shard, `ShardFormat.overheadBytes` + body bytes.
    /// - Throws: ``ShardError/payloadTooLarge(bytes:limit:)``, or an OpenSSL error.
    public func seal(payload: UnsafeRawBufferPointer, shardID: UInt64, version: UInt32,
                     key: DataKey, nonce: Nonce) throws(ShardError) -> [UInt8] {
        let (header, body) = try compress(payload, shardID: shardID, version: version, key: key)
        var failure: ShardError?
        let out = [UInt8](unsafeUninitializedCapacity: header.sealedBytes) { buffer, initialized in
            do throws(ShardError) {
                try encrypt(header, body, key: key, nonce: nonce, into: UnsafeMutableRawPointer(buffer.baseAddress!))
            } catch {
                failure = error
            }
            initialized = header.sealedBytes
        }
        if let failure { throw failure }
        return out
    }

    /// Seals a payload into caller-owned memory (no allocation): for callers that keep shards
    /// in their own arenas or copy them onward, as the replication benchmark does.
    ///
    /// - Parameter output: at least ``sealedBytesBound(payloadBytes:)`` bytes; with
    ///   ``sealingRoomBound(payloadBytes:)`` bytes the LZ4 block is written straight into the
    ///   output and encrypted in place (no scratch memory; the same bytes either way).
    /// - Returns: the number of bytes written at the start of `output`.
    public func seal(payload: UnsafeRawBufferPointer, shardID: UInt64, version: UInt32, key: DataKey, nonce: Nonce,
                     into output: UnsafeMutableRawBufferPointer) throws(ShardError) -> Int {
        precondition(output.count >= ShardSealer.sealedBytesBound(payloadBytes: payload.count),
                     "seal(into:) needs \(ShardSealer.sealedBytesBound(payloadBytes: payload.count)) bytes, got \(output.count)")
        let inPlace = output.count >= ShardSealer.sealingRoomBound(payloadBytes: payload.count)
        let bodyArea = output.baseAddress! + ShardFormat.headerBytes + Nonce.byteCount
        let (header, body) = try compress(payload, shardID: shardID, version: version, key: key,
                                          into: inPlace ? bodyArea : nil)
        try encrypt(header, body, key: key, nonce: nonce, into: output.baseAddress!)
        return header.sealedBytes
    }

    /// Output room with which ``seal(payload:shardID:version:key:nonce:into:)`` needs no
    /// scratch memory: the header and nonce, then room for LZ4's worst case.
    public static func sealingRoomBound(payloadBytes: Int) -> Int {
        ShardFormat.headerBytes + Nonce.byteCount + Swift.max(LZ4BlockCodec.bound(payloadBytes), payloadBytes) + ShardFormat.tagBytes
    }

    /// Seals a payload held in an array. See ``seal(payload:shardID:version:key:nonce:)-(UnsafeRawBufferPointer,_,_,_,_)``.
    public func seal(payload: [UInt8], shardID: UInt64, version: UInt32, key: DataKey, nonce: Nonce) throws(ShardError) -> [UInt8] {
        let result: Result<[UInt8], ShardError> = payload.withUnsafeBytes { p in
            do throws(ShardError) { return .success(try seal(payload: p, shardID: shardID, version: version, key: key, nonce: nonce)) }
            catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Step 1 of sealing: LZ4 into scratch, kept only if strictly smaller. Returns the header
    /// and the body to encrypt (in scratch, or the payload itself).
    /// - Parameter destination: where to put the block (room for `LZ4BlockCodec.bound`), or
    ///   `nil` for the scratch buffer.
    private func compress(_ payload: UnsafeRawBufferPointer, shardID: UInt64, version: UInt32,
                          key: DataKey, into destination: UnsafeMutableRawPointer? = nil) throws(ShardError) -> (ShardHeader, UnsafeRawBufferPointer) {
        let n = payload.count
        guard n <= maxPayloadBytes else { throw .payloadTooLarge(bytes: n, limit: maxPayloadBytes) }
        var body = payload
        var flags: ShardHeader.Flags = []
        if n > 0 {
            let bound = LZ4BlockCodec.bound(n)
            if destination == nil { reserveScratch(bound) }
            let block = destination ?? scratch
            let c = lz4.compress(payload, into: block, capacity: bound)
            if c > 0 && c < n {
                body = UnsafeRawBufferPointer(start: block, count: c)
                flags = .compressed
            }
        }
        let header = ShardHeader(flags: flags, shardID: shardID, version: version, keyID: key.id,
                                 plaintextBytes: UInt32(n), bodyBytes: UInt32(body.count))
        assert((try? header.check(shardBytes: header.sealedBytes, maxPlaintextBytes: maxPayloadBytes)) != nil,
               "sealer wrote an inconsistent header \(header)")
        return (header, body)
    }

    /// Step 2 of sealing: header | nonce | GCM(body) | tag at `p` (`header.sealedBytes` bytes).
    private func encrypt(_ header: ShardHeader, _ body: UnsafeRawBufferPointer, key: DataKey, nonce: Nonce,
                         into p: UnsafeMutableRawPointer) throws(ShardError) {
        header.encode(into: p)
        let noncePointer = p + ShardFormat.headerBytes
        nonce.withNonceBytes { noncePointer.copyMemory(from: $0.baseAddress!, byteCount: Nonce.byteCount) }
        let bodyPointer = noncePointer + Nonce.byteCount
        try aead.seal(key: key, nonce: noncePointer, aad: UnsafeRawBufferPointer(start: p, count: ShardFormat.headerBytes),
                      plaintext: body.baseAddress, count: body.count, ciphertext: bodyPointer, tag: bodyPointer + body.count)
    }

    // MARK: Open

    /// Opens a sealed shard: checks the header, verifies the GCM tag, decompresses.
    ///
    /// - Returns: the payload, exactly as sealed.
    /// - Throws: an integrity failure (``ShardError/isIntegrityFailure``) if any byte changed
    ///   or the key is wrong — ``ShardError/malformedShard(shardID:reason:)`` when the header's
    ///   structure is broken, ``ShardError/authenticationFailed(shardID:shardKey:givenKey:)``
    ///   otherwise. Never returns unauthenticated bytes.
    public func open(_ shard: UnsafeRawBufferPointer, key: DataKey) throws(ShardError) -> [UInt8] {
        let plain = Int(try ShardHeader(parsing: shard, maxPlaintextBytes: maxPayloadBytes).plaintextBytes)
        var failure: ShardError?
        let out = [UInt8](unsafeUninitializedCapacity: plain) { buffer, initialized in
            do throws(ShardError) {
                _ = try open(shard, key: key, into: UnsafeMutableRawBufferPointer(buffer))
            } catch {
                failure = error
            }
            initialized = plain
        }
        if let failure { throw failure }
        return out
    }

    /// Opens a sealed shard into caller-owned memory (no allocation).
    ///
    /// - Parameter output: room for the payload (``maxPayloadBytes`` always suffices).
    /// - Returns: the payload size, written at the start of `output`. If the call throws,
    ///   `output` may hold unauthenticated bytes: discard them.
    /// - Throws: as ``open(_:key:)-(UnsafeRawBufferPointer,_)``, and
    ///   ``ShardError/payloadTooLarge(bytes:limit:)`` if `output` is too small.
    public func open(_ shard: UnsafeRawBufferPointer, key: DataKey, into output: UnsafeMutableRawBufferPointer) throws(ShardError) -> Int {
        let header = try ShardHeader(parsing: shard, maxPlaintextBytes: maxPayloadBytes)
        let body = Int(header.bodyBytes), plain = Int(header.plaintextBytes)
        guard output.count >= plain else { throw .payloadTooLarge(bytes: plain, limit: output.count) }
        if !header.isCompressed {
            // Raw payload: decrypt straight into the output.
            try authenticate(shard, header, key: key, bodyTo: output.baseAddress)
            return plain
        }
        reserveScratch(body)
        try authenticate(shard, header, key: key, bodyTo: scratch)
        let produced = LZ4BlockCodec.decompress(UnsafeRawBufferPointer(start: scratch, count: body),
                                                into: output.baseAddress!, count: plain)
        guard Int(produced) == plain else { throw .decompressionFailed(shardID: header.shardID, code: produced) }
        return plain
    }

    /// GCM-decrypts the body of a parsed shard to `destination` (body bytes) and verifies the
    /// tag over header, nonce and body.
    private func authenticate(_ shard: UnsafeRawBufferPointer, _ header: ShardHeader, key: DataKey,
                              bodyTo destination: UnsafeMutableRawPointer?) throws(ShardError) {
        let p = shard.baseAddress!
        let noncePointer = p + ShardFormat.headerBytes
        let bodyPointer = noncePointer + Nonce.byteCount
        let body = Int(header.bodyBytes)
        switch aead.open(key: key, nonce: noncePointer, aad: UnsafeRawBufferPointer(start: p, count: ShardFormat.headerBytes),
                         ciphertext: bodyPointer, count: body, tag: bodyPointer + body, plaintext: destination) {
        case .ok: return
        case .tagMismatch: throw .authenticationFailed(shardID: header.shardID, shardKey: header.keyID, givenKey: key.id)
        case let .failure(operation, code): throw .openSSL(operation: operation, code: code)
        }
    }

    /// Opens a sealed shard held in an array. See ``open(_:key:)-(UnsafeRawBufferPointer,_)``.
    public func open(_ shard: [UInt8], key: DataKey) throws(ShardError) -> [UInt8] {
        let result: Result<[UInt8], ShardError> = shard.withUnsafeBytes { p in
            do throws(ShardError) { return .success(try open(p, key: key)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Verifies a shard's integrity (header structure and GCM tag) without decompressing or
    /// returning the payload: what a scrubber or a read that only needs "intact?" does.
    ///
    /// - Returns: the authenticated header.
    /// - Throws: the same integrity failures as ``open(_:key:)-(UnsafeRawBufferPointer,_)``.
    public func verify(_ shard: [UInt8], key: DataKey) throws(ShardError) -> ShardHeader {
        let result: Result<ShardHeader, ShardError> = shard.withUnsafeBytes { s in
            do throws(ShardError) {
                let header = try ShardHeader(parsing: s, maxPlaintextBytes: maxPayloadBytes)
                reserveScratch(Int(header.bodyBytes))
                try authenticate(s, header, key: key, bodyTo: scratch)
                return .success(header)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}
