import SimCore
import XCTest
@testable import ShardPipeline

final class ShardSealerTests: XCTestCase {
    let key = testKey(seed: 1, jurisdiction: 2, keyID: 9)

    func seal(_ sealer: ShardSealer, _ payload: [UInt8], id: UInt64 = 7, version: UInt32 = 3, nonce: Nonce? = nil) throws -> [UInt8] {
        try sealer.seal(payload: payload, shardID: id, version: version, key: key,
                        nonce: nonce ?? Nonce(prefix: 1, counter: id))
    }

    /// Asserts that opening `shard` fails with an integrity failure (never returns data).
    func assertRejected(_ sealer: ShardSealer, _ shard: [UInt8], key: DataKey? = nil, _ message: @autoclosure () -> String,
                        file: StaticString = #filePath, line: UInt = #line) {
        do {
            let p = try sealer.open(shard, key: key ?? self.key)
            XCTFail("\(message()): opened (\(p.count) bytes) instead of failing", file: file, line: line)
        } catch {
            XCTAssertTrue(error.isIntegrityFailure, "\(message()): \(error) is not an integrity failure", file: file, line: line)
        }
        do {
            _ = try sealer.verify(shard, key: key ?? self.key)
            XCTFail("\(message()): verified instead of failing", file: file, line: line)
        } catch {
            XCTAssertTrue(error.isIntegrityFailure, "\(message()): verify gave \(error)", file: file, line: line)
        }
    }

    // MARK: Round trips

    func testRoundTripsAcrossSizesAndContentWithExactHeader() throws {
        let sealer = try ShardSealer()
        for seed in UInt64(0)..<300 {
            var rng = SimRandom(seed: seed)
            let sizes = [0, 1, 2, 12, 13, 16, 100, 120, 4000, 65_535, 65_536, 70_000]
            let n = seed < UInt64(sizes.count) ? sizes[Int(seed)] : Int(rng.below(seed % 10 == 0 ? 600_000 : 5000))
            let payload = mixedPayload(n, using: &rng)
            let id = rng.next(), version = UInt32(truncatingIfNeeded: rng.next())
            let shard = try sealer.seal(payload: payload, shardID: id, version: version, key: key, nonce: .random(using: &rng))
            let header = try shard.withUnsafeBytes { try ShardHeader(parsing: $0) }
            XCTAssertEqual(header.shardID, id, "seed \(seed)")
            XCTAssertEqual(header.version, version, "seed \(seed)")
            XCTAssertEqual(header.keyID, key.id, "seed \(seed)")
            XCTAssertEqual(Int(header.plaintextBytes), n, "seed \(seed)")
            XCTAssertEqual(shard.count, ShardFormat.overheadBytes + Int(header.bodyBytes), "seed \(seed)")
            XCTAssertTrue(header.isCompressed ? Int(header.bodyBytes) < n : Int(header.bodyBytes) == n, "seed \(seed): \(header)")
            XCTAssertEqual(try sealer.open(shard, key: key), payload, "seed \(seed), \(n) bytes")
            XCTAssertEqual(try sealer.verify(shard, key: key), header, "seed \(seed)")
        }
    }

    func testCompressibleTextIsCompressedAndRandomBytesAreKeptRaw() throws {
        let sealer = try ShardSealer()
        var rng = SimRandom(seed: 3)
        let text = PayloadSynthesizer.bytes(PayloadDescriptor(kind: .text, plaintextBytes: 3000, contentSeed: 4))
        let textShard = try seal(sealer, text)
        let th = try textShard.withUnsafeBytes { try ShardHeader(parsing: $0) }
        XCTAssertTrue(th.isCompressed)
        XCTAssertLessThan(Int(th.bodyBytes), 2500)
        let random = rng.bytes(50_000)
        let rawShard = try seal(sealer, random)
        let rh = try rawShard.withUnsafeBytes { try ShardHeader(parsing: $0) }
        XCTAssertFalse(rh.isCompressed)
        XCTAssertEqual(rawShard.count, 50_000 + ShardFormat.overheadBytes)
        XCTAssertEqual(try sealer.open(rawShard, key: key), random)
    }

    func testEmptyPayloadRoundTrips() throws {
        let sealer = try ShardSealer()
        let shard = try seal(sealer, [])
        XCTAssertEqual(shard.count, ShardFormat.overheadBytes)
        XCTAssertEqual(try sealer.open(shard, key: key), [])
        // Even an empty payload is authenticated: every bit of it is checked.
        for bit in 0..<shard.count * 8 {
            var bad = shard
            BitRot.flip(bit: bit, in: &bad)
            assertRejected(sealer, bad, "empty payload, bit \(bit)")
        }
    }

    func testMaximumSizePayloadsRoundTripAndOneMoreByteIsRefused() throws {
        let sealer = try ShardSealer()
        let max = ShardFormat.defaultMaxPayloadBytes
        XCTAssertEqual(sealer.maxPayloadBytes, max)
        let text = PayloadSynthesizer.bytes(PayloadDescriptor(kind: .text, plaintextBytes: max, contentSeed: 99))
        let textShard = try seal(sealer, text)
        XCTAssertLessThan(textShard.count, max)
        XCTAssertEqual(try sealer.open(textShard, key: key), text)
        var words = [UInt64](repeating: 0, count: max / 8)
        var sm = SplitMix64(seed: 5)
        for i in words.indices { words[i] = sm.next() }
        let random = words.withUnsafeBytes { Array($0) }
        let rawShard = try seal(sealer, random)
        XCTAssertEqual(rawShard.count, max + ShardFormat.overheadBytes)
        XCTAssertEqual(try sealer.open(rawShard, key: key), random)
        XCTAssertThrowsError(try seal(sealer, random + [0])) { e in
            XCTAssertEqual(e as? ShardError, .payloadTooLarge(bytes: max + 1, limit: max))
        }
        // A smaller configured limit is enforced on both sides.
        let small = try ShardSealer(maxPayloadBytes: 1024)
        XCTAssertEqual(try small.open(try seal(small, Array(random.prefix(1024))), key: key), Array(random.prefix(1024)))
        XCTAssertThrowsError(try seal(small, Array(random.prefix(1025))))
        let big = try seal(sealer, Array(random.prefix(1025)))
        XCTAssertThrowsError(try small.open(big, key: key)) { e in
            XCTAssertTrue((e as! ShardError).isIntegrityFailure, "\(e)")
        }
    }

    func testSealingIsDeterministicForTheSameNonceAndDiffersOtherwise() throws {
        let payload = PayloadSynthesizer.bytes(PayloadDescriptor(kind: .text, plaintextBytes: 500, contentSeed: 1))
        let a = try seal(try ShardSealer(), payload, nonce: Nonce(prefix: 1, counter: 1))
        let b = try seal(try ShardSealer(), payload, nonce: Nonce(prefix: 1, counter: 1))
        let c = try seal(try ShardSealer(), payload, nonce: Nonce(prefix: 1, counter: 2))
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
        XCTAssertEqual(Array(a[0..<32]), Array(c[0..<32]), "the header does not depend on the nonce")
    }

    func testCallerOwnedBuffersGiveTheSameBytes() throws {
        let sealer = try ShardSealer()
        for seed in UInt64(0)..<100 {
            var rng = SimRandom(seed: seed)
            let payload = mixedPayload(Int(rng.below(seed % 10 == 0 ? 200_000 : 3000)), using: &rng)
            let nonce = Nonce.random(using: &rng)
            let viaArray = try sealer.seal(payload: payload, shardID: seed, version: 2, key: key, nonce: nonce)
            var out = [UInt8](repeating: 0xEE, count: ShardSealer.sealedBytesBound(payloadBytes: payload.count) + 7)
            let n = try payload.withUnsafeBytes { p in
                try out.withUnsafeMutableBytes { try sealer.seal(payload: p, shardID: seed, version: 2, key: key, nonce: nonce, into: $0) }
            }
            XCTAssertEqual(Array(out.prefix(n)), viaArray, "seed \(seed)")
            // With room for LZ4's worst case the block is compressed into the output and
            // encrypted in place: the same bytes.
            var roomy = [UInt8](repeating: 0xEE, count: ShardSealer.sealingRoomBound(payloadBytes: payload.count))
            let m = try payload.withUnsafeBytes { p in
                try roomy.withUnsafeMutableBytes { try sealer.seal(payload: p, shardID: seed, version: 2, key: key, nonce: nonce, into: $0) }
            }
            XCTAssertEqual(Array(roomy.prefix(m)), viaArray, "seed \(seed), in place")
            var plain = [UInt8](repeating: 0, count: payload.count)
            let got = try viaArray.withUnsafeBytes { s in try plain.withUnsafeMutableBytes { try sealer.open(s, key: key, into: $0) } }
            XCTAssertEqual(got, payload.count, "seed \(seed)")
            XCTAssertEqual(plain, payload, "seed \(seed)")
            if !payload.isEmpty {
                var small = [UInt8](repeating: 0, count: payload.count - 1)
                XCTAssertThrowsError(try viaArray.withUnsafeBytes { s in try small.withUnsafeMutableBytes { try sealer.open(s, key: key, into: $0) } }) { e in
                    XCTAssertEqual(e as? ShardError, .payloadTooLarge(bytes: payload.count, limit: payload.count - 1), "seed \(seed)")
                }
            }
        }
    }

    func testNoncesAreSeededReproducibleAndDistinct() {
        var a = SimRandom(seed: 5), b = SimRandom(seed: 5)
        var seen = Set<[UInt8]>()
        for i in 0..<10_000 {
            let n = Nonce.random(using: &a)
            XCTAssertEqual(n, Nonce.random(using: &b), "draw \(i)")
            XCTAssertTrue(seen.insert(n.bytes).inserted, "draw \(i) repeated a nonce")
        }
        let counter = Nonce(prefix: 1, counter: 0x0102)
        XCTAssertEqual(counter.bytes, [1, 0, 0, 0, 2, 1, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual("\(counter)", "010000000201000000000000")
        XCTAssertEqual(Nonce(bytes: counter.bytes), counter)
    }

    // MARK: Integrity

    func testEverySingleBitFlipIsDetectedExhaustively() throws {
        let sealer = try ShardSealer()
        var rng = SimRandom(seed: 11)
        let compressed = try seal(sealer, PayloadSynthesizer.bytes(PayloadDescriptor(kind: .text, plaintextBytes: 200, contentSeed: 3)))
        let raw = try seal(sealer, rng.bytes(40))
        for (name, shard) in [("compressed", compressed), ("raw", raw)] {
            for bit in 0..<shard.count * 8 {
                var bad = shard
                BitRot.flip(bit: bit, in: &bad)
                assertRejected(sealer, bad, "\(name) shard, bit \(bit) (byte \(bit / 8))")
            }
            XCTAssertNoThrow(try sealer.open(shard, key: key), "\(name) original still opens")
        }
    }

    func testRandomSingleAndMultipleBitFlipsAreAlwaysDetected() throws {
        let sealer = try ShardSealer()
        for seed in UInt64(0)..<1500 {
            var rng = SimRandom(seed: seed)
            let n = Int(rng.below(seed % 25 == 0 ? 300_000 : 3000))
            let payload = mixedPayload(n, using: &rng)
            let shard = try sealer.seal(payload: payload, shardID: seed, version: 1, key: key, nonce: .random(using: &rng))
            var one = shard
            let bit = BitRot.flipRandomBits(in: &one, count: 1, using: &rng)
            assertRejected(sealer, one, "seed \(seed): single flip at bit \(bit) of \(shard.count * 8)")
            var many = shard
            let count = 2 + Int(rng.below(63))
            let bits = BitRot.flipRandomBits(in: &many, count: count, using: &rng)
            XCTAssertEqual(Set(bits).count, count, "seed \(seed): flips must be distinct")
            assertRejected(sealer, many, "seed \(seed): \(count) flips at \(bits)")
            // A burst: a whole random byte range overwritten with random bytes.
            var burst = shard
            let start = Int(rng.below(UInt64(shard.count)))
            let end = Swift.min(shard.count, start + 1 + Int(rng.below(64)))
            for i in start..<end { burst[i] ^= UInt8(truncatingIfNeeded: rng.next() | 1) }
            assertRejected(sealer, burst, "seed \(seed): burst \(start)..<\(end)")
        }
    }

    func testTruncatedOrExtendedShardsAreMalformed() throws {
        let sealer = try ShardSealer()
        let shard = try seal(sealer, PayloadSynthesizer.bytes(PayloadDescriptor(kind: .text, plaintextBytes: 300, contentSeed: 2)))
        for cut in [0, 1, 31, 59, shard.count - 1] {
            assertRejected(sealer, Array(shard.prefix(cut)), "truncated to \(cut)")
        }
        assertRejected(sealer, shard + [0], "one byte appended")
        XCTAssertThrowsError(try sealer.open(Array(shard.prefix(10)), key: key)) { e in
            XCTAssertEqual(e as? ShardError, .malformedShard(shardID: nil, reason: .truncated(bytes: 10, minimum: 60)))
        }
    }

    func testWrongKeyFails() throws {
        let sealer = try ShardSealer()
        for seed in UInt64(0)..<200 {
            var rng = SimRandom(seed: seed)
            let payload = mixedPayload(Int(rng.below(2000)), using: &rng)
            let shard = try sealer.seal(payload: payload, shardID: seed, version: 0, key: key, nonce: .random(using: &rng))
            // Same id, other material (a wrong master key): the tag fails.
            let impostor = DataKey(id: key.id, bytes: rng.bytes(32))
            XCTAssertThrowsError(try sealer.open(shard, key: impostor), "seed \(seed)") { e in
                XCTAssertEqual(e as? ShardError, .authenticationFailed(shardID: seed, shardKey: key.id, givenKey: key.id), "seed \(seed)")
            }
            // Another key id: also an authentication failure, and the error names both ids.
            let other = testKey(seed: seed + 1000, jurisdiction: 0, keyID: 1)
            XCTAssertThrowsError(try sealer.open(shard, key: other), "seed \(seed)") { e in
                XCTAssertEqual(e as? ShardError, .authenticationFailed(shardID: seed, shardKey: key.id, givenKey: other.id))
                XCTAssertTrue("\(e)".contains("j0/k1") && "\(e)".contains("j2/k9"), "\(e)")
            }
            // And the right key still works on the same sealer after the failures.
            XCTAssertEqual(try sealer.open(shard, key: key), payload, "seed \(seed)")
        }
    }

    func testHeaderStructureErrorsAreNamed() throws {
        let sealer = try ShardSealer()
        let shard = try seal(sealer, PayloadSynthesizer.bytes(PayloadDescriptor(kind: .text, plaintextBytes: 300, contentSeed: 2)))
        func reason(_ mutate: (inout [UInt8]) -> Void) -> ShardError.MalformedReason? {
            var s = shard
            mutate(&s)
            do { _ = try sealer.open(s, key: key); return nil } catch {
                if case let .malformedShard(_, r) = error { return r }
                return nil
            }
        }
        XCTAssertEqual(reason { $0[0] = 0 }, .badMagic)
        XCTAssertEqual(reason { $0[2] = 2 }, .unsupportedFormatVersion(2))
        XCTAssertEqual(reason { $0[3] |= 0x80 }, .unknownFlags(shard[3] | 0x80))
        guard case .sizeMismatch? = reason({ $0[28] ^= 1 }) else { return XCTFail("body size flip") }
    }

    // MARK: Replicas share bytes until rot

    func testReplicasShareOneBufferUntilOneIsCorrupted() throws {
        let codec = try ShardCodec(mode: .full)
        var rng = SimRandom(seed: 8)
        let original = try codec.write(PayloadDescriptor(kind: .media, plaintextBytes: 100_000, contentSeed: 1),
                                       shardID: 1, version: 1, key: key, nonce: .random(using: &rng))
        var replicas = [original, original, original]
        func address(_ s: StoredShard) -> UnsafeRawPointer? { s.bytes!.withUnsafeBytes { $0.baseAddress } }
        XCTAssertEqual(address(replicas[0]), address(replicas[1]))
        XCTAssertEqual(address(replicas[1]), address(replicas[2]))
        replicas[1].injectBitRot(bits: 3, using: &rng)
        XCTAssertNotEqual(address(replicas[1]), address(replicas[0]), "the rotted replica got its own buffer")
        XCTAssertEqual(address(replicas[0]), address(replicas[2]), "the others still share")
        XCTAssertEqual(replicas[1].flippedBits.count, 3)
        XCTAssertEqual(try codec.read(replicas[0], key: key), .intact)
        XCTAssertEqual(try codec.read(replicas[1], key: key), .corrupt)
        XCTAssertEqual(try codec.read(replicas[2], key: key), .intact)
        // Repair: copy a good replica back.
        replicas[1] = replicas[0]
        XCTAssertEqual(try codec.read(replicas[1], key: key), .intact)
        XCTAssertEqual(replicas.map(\.storedBytes), Array(repeating: original.storedBytes, count: 3), "accounting is per replica")
    }

    func testRepeatedRotNeverUndoesItself() throws {
        // Rot of every bit of a tiny shard, far more flips than bits: each flip hits a new bit, so
        // the copy stays corrupted (and stops flipping once every bit is flipped).
        var rng = SimRandom(seed: 1)
        var bytes = [UInt8](repeating: 0, count: 4)
        var flipped: [Int] = []
        BitRot.flipDistinct(in: &bytes, count: 20, flipped: &flipped, using: &rng)
        XCTAssertEqual(flipped, flipped.sorted(), "kept sorted")
        XCTAssertEqual(Set(flipped).count, 20)
        BitRot.flipDistinct(in: &bytes, count: 40, flipped: &flipped, using: &rng)
        XCTAssertEqual(flipped, Array(0..<32))
        XCTAssertEqual(bytes, [0xFF, 0xFF, 0xFF, 0xFF])
    }
}
