import SimCore
import XCTest
@testable import ShardPipeline

final class PayloadModeTests: XCTestCase {
    // MARK: Size model

    func testCalibrationReproducesTheStandardModel() throws {
        let measured = try ShardSizeModel.calibrate()
        for (b, (got, standard)) in zip(measured.textBodyPPM, ShardSizeModel.standard.textBodyPPM).enumerated() {
            // Exact with liblz4 1.9.4; another liblz4 may compress slightly differently.
            XCTAssertLessThanOrEqual(abs(Int(got) - Int(standard)), 10_000,
                                     "bucket \(b) (\(1 << b)..<\(2 << b) B): measured \(got) ppm, standard \(standard) ppm — re-run calibrate() and update ShardSizeModel.standard")
        }
    }

    func testModelFollowsTheSealersExactRules() {
        let model = ShardSizeModel.standard
        XCTAssertEqual(model.sealedBytes(kind: .text, plaintextBytes: 0), ShardFormat.overheadBytes)
        XCTAssertEqual(model.sealedBytes(kind: .media, plaintextBytes: 0), ShardFormat.overheadBytes)
        for n in [1, 7, 15, 100, 1000, 123_456, 64 << 20] {
            XCTAssertEqual(model.bodyBytes(kind: .media, plaintextBytes: n), n, "media is kept raw")
            let text = model.bodyBytes(kind: .text, plaintextBytes: n)
            XCTAssertTrue(text >= 1 && text <= n, "text body \(text) for \(n)")
            XCTAssertEqual(model.sealedBytes(kind: .text, plaintextBytes: n), text + 60)
        }
        XCTAssertEqual(model.bodyBytes(kind: .text, plaintextBytes: 10), 10, "tiny text does not compress")
        XCTAssertEqual(model.bodyBytes(kind: .text, plaintextBytes: 1000), 813, "bucket 9 (512..<1024): ceil(1000 × 812390 ppm)")
        let d = PayloadDescriptor(kind: .text, plaintextBytes: 1000, contentSeed: 1)
        XCTAssertEqual(model.fragmentStoredBytes(d, k: 6), Fragment.headerBytes + (813 + 60 + 5) / 6)
    }

    func testModelTracksTheRealCompressorOnRealisticMessages() throws {
        // Chat-like lengths (log-normal, median 120 B): the model's total is within 3% of the
        // real sealed total; media matches exactly.
        let sealer = try ShardSealer()
        let key = testKey()
        var rng = SimRandom(seed: 17)
        var real = 0, model = 0
        for i in 0..<3000 {
            let z = (-2 * log(rng.unitOpenClosed())).squareRoot() * cos(2 * Double.pi * rng.unit())
            let n = Swift.min(4000, Swift.max(2, Int(exp(log(120.0) + 0.9 * z))))
            let d = PayloadDescriptor(kind: .text, plaintextBytes: n, contentSeed: rng.next())
            real += try sealer.seal(payload: PayloadSynthesizer.bytes(d), shardID: UInt64(i), version: 0, key: key, nonce: .random(using: &rng)).count
            model += ShardSizeModel.standard.sealedBytes(d)
        }
        XCTAssertLessThan(abs(Double(real - model) / Double(real)), 0.03, "real \(real) B vs model \(model) B")
        for seed in UInt64(0)..<20 {
            let d = PayloadDescriptor(kind: .media, plaintextBytes: 1 + Int(seed) * 7919, contentSeed: seed)
            let shard = try sealer.seal(payload: PayloadSynthesizer.bytes(d), shardID: seed, version: 0, key: key, nonce: .random(using: &rng))
            XCTAssertEqual(shard.count, ShardSizeModel.standard.sealedBytes(d), "media seed \(seed)")
        }
    }

    func testSynthesizedPayloadsAreDeterministic() {
        for kind in PayloadKind.all {
            let d = PayloadDescriptor(kind: kind, plaintextBytes: 300_000, contentSeed: 5)
            XCTAssertEqual(PayloadSynthesizer.bytes(d), PayloadSynthesizer.bytes(d))
            XCTAssertNotEqual(PayloadSynthesizer.bytes(d), PayloadSynthesizer.bytes(PayloadDescriptor(kind: kind, plaintextBytes: 300_000, contentSeed: 6)))
        }
        // Pinned so that the synthetic text (and the model measured on it) cannot drift unnoticed.
        XCTAssertEqual(PayloadSynthesizer.textPool.count, PayloadSynthesizer.textPoolBytes)
        XCTAssertEqual(PayloadSynthesizer.textPool.withUnsafeBytes { CRC32C.checksum($0) }, Self.pinnedTextPoolCRC)
        XCTAssertEqual(PayloadKind(name: "media"), .media)
        XCTAssertNil(PayloadKind(name: "video"))
    }

    static let pinnedTextPoolCRC: UInt32 = 2_342_588_861

    func testDigestChecksumIsSpecified() {
        let id = DataKeyID(jurisdiction: 1, keyID: 2)
        let d = PayloadDescriptor(kind: .text, plaintextBytes: 100, contentSeed: 3)
        let c = ShardDigest.checksum(shardID: 4, version: 5, keyID: id, payload: d)
        XCTAssertEqual(c, Self.pinnedChecksum, "the checksum identity is part of the format; do not change it silently")
        XCTAssertNotEqual(c, ShardDigest.checksum(shardID: 4, version: 6, keyID: id, payload: d))
        XCTAssertNotEqual(c, ShardDigest.checksum(shardID: 5, version: 5, keyID: id, payload: d))
    }

    static let pinnedChecksum: UInt64 = 5_259_697_128_538_636_030

    // MARK: Full and sizes modes give the same simulated outcomes

    struct Trace: Equatable {
        var storedBytes = 0
        var events: [String] = []
        var streamsAfter: [UInt64] = []
    }

    /// A miniature simulation: writes (replicated ×3, every third shard also RS(4,2)), bit rot
    /// and fragment loss from a fault stream, then reads of every replica (some with the wrong
    /// key) and rebuilds of every stripe. Everything the engine would count goes in the trace.
    func simulate(_ mode: PayloadMode, seed: UInt64) throws -> Trace {
        let codec = try ShardCodec(mode: mode)
        let keys = DataKeyCache(hierarchy: try KeyHierarchy(seed: seed, jurisdictions: 3))
        let coder = try ErasureCoder(k: 4, m: 2)
        var workload = SimRandom(root: seed, label: "workload")
        var faults = SimRandom(root: seed, label: "faults")
        var nonces = SimRandom(root: seed, label: "nonces")
        var trace = Trace()
        var replicas: [[StoredShard]] = [], originals: [StoredShard] = [], shardKeys: [DataKey] = [], stripes: [(Int, [StoredFragment?])] = []
        for i in 0..<90 {
            let media = workload.below(8) == 0
            let d = PayloadDescriptor(kind: media ? .media : .text,
                                      plaintextBytes: media ? 1000 + Int(workload.below(40_000)) : Int(workload.below(2500)),
                                      contentSeed: workload.next())
            let key = try keys.key(jurisdiction: Int(workload.below(3)), keyID: UInt32(workload.below(4)))
            let stored = try codec.write(d, shardID: UInt64(i), version: 1, key: key, nonce: .random(using: &nonces))
            trace.storedBytes += 3 * stored.storedBytes
            trace.events.append("w\(i):\(stored.storedBytes):\(stored.digest.checksum)")
            replicas.append([stored, stored, stored])
            originals.append(stored)
            shardKeys.append(key)
            if i % 3 == 0 {
                let fragments = codec.encode(stored, coder: coder, stripeID: UInt64(i))
                trace.storedBytes += fragments.reduce(0) { $0 + $1.storedBytes }
                stripes.append((i, fragments))
            }
        }
        for _ in 0..<70 {
            let i = Int(faults.below(UInt64(replicas.count))), r = Int(faults.below(3))
            replicas[i][r].injectBitRot(bits: 1 + Int(faults.below(40)), using: &faults)
        }
        for _ in 0..<50 {
            let s = Int(faults.below(UInt64(stripes.count))), f = Int(faults.below(6))
            if faults.below(2) == 0 {
                stripes[s].1[f] = nil
            } else if stripes[s].1[f] != nil {
                stripes[s].1[f]!.injectBitRot(bits: 1 + Int(faults.below(3)), using: &faults)
            }
        }
        for (i, copies) in replicas.enumerated() {
            for (r, copy) in copies.enumerated() {
                trace.events.append("r\(i).\(r):\(try codec.read(copy, key: shardKeys[i]))")
            }
            if i % 7 == 0 {
                let wrong = try keys.key(jurisdiction: 0, keyID: 99)
                trace.events.append("wrongkey\(i):\(try codec.read(copies[0], key: wrong))")
            }
        }
        for (i, fragments) in stripes {
            do {
                let rebuilt = try codec.decode(fragments, coder: coder)
                trace.events.append("ec\(i):ok corrupt=\(rebuilt.corrupt) missing=\(rebuilt.missing) read=\(try codec.read(rebuilt.shard, key: shardKeys[i]))")
                XCTAssertEqual(rebuilt.shard, originals[i], "seed \(seed) stripe \(i): rebuilt shard differs from the one written")
            } catch {
                trace.events.append("ec\(i):\(error)")
            }
        }
        trace.streamsAfter = [workload.next(), faults.next(), nonces.next()]
        return trace
    }

    func testFullAndSizesModesGiveIdenticalOutcomesOverManySeeds() throws {
        for seed in UInt64(0)..<25 {
            let full = try simulate(.full, seed: seed)
            let sizes = try simulate(.sizes, seed: seed)
            XCTAssertEqual(full.storedBytes, sizes.storedBytes, "seed \(seed)")
            XCTAssertEqual(full.streamsAfter, sizes.streamsAfter, "seed \(seed): random streams out of step")
            XCTAssertEqual(full.events.count, sizes.events.count, "seed \(seed)")
            for (a, b) in zip(full.events, sizes.events) where a != b {
                XCTFail("seed \(seed): full \(a) ≠ sizes \(b)")
                break
            }
            XCTAssertTrue(full.events.contains { $0.hasSuffix(":corrupt") }, "seed \(seed): the run should exercise detection")
            XCTAssertTrue(full.events.contains { $0.hasSuffix(":intact") }, "seed \(seed)")
        }
    }

    func testFullModeRebuildsTheExactShardBytes() throws {
        let codec = try ShardCodec(mode: .full)
        let coder = try ErasureCoder(k: 6, m: 3)
        let key = testKey()
        var rng = SimRandom(seed: 4)
        let stored = try codec.write(PayloadDescriptor(kind: .text, plaintextBytes: 7000, contentSeed: 1), shardID: 1, version: 1,
                                     key: key, nonce: .random(using: &rng))
        var fragments: [StoredFragment?] = codec.encode(stored, coder: coder, stripeID: 1)
        fragments[2] = nil
        fragments[5]!.injectBitRot(using: &rng)
        fragments[8] = nil
        let rebuilt = try codec.decode(fragments, coder: coder)
        XCTAssertEqual(rebuilt.shard.bytes, stored.bytes)
        XCTAssertEqual(rebuilt.corrupt, [5])
        XCTAssertEqual(rebuilt.missing, [2, 8])
        XCTAssertEqual(try codec.readPayload(rebuilt.shard, key: key),
                       PayloadSynthesizer.bytes(PayloadDescriptor(kind: .text, plaintextBytes: 7000, contentSeed: 1)))
    }

    func testBothModesRefuseOversizedPayloads() throws {
        for mode in PayloadMode.allCases {
            let codec = try ShardCodec(mode: mode, maxPayloadBytes: 1000)
            var rng = SimRandom(seed: 1)
            XCTAssertThrowsError(try codec.write(PayloadDescriptor(kind: .text, plaintextBytes: 1001, contentSeed: 0), shardID: 0, version: 0,
                                                 key: testKey(), nonce: .random(using: &rng)), "\(mode)") { e in
                XCTAssertEqual(e as? ShardError, .payloadTooLarge(bytes: 1001, limit: 1000))
            }
        }
    }
}
