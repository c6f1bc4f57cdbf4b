import SimCore
import XCTest
@testable import ShardPipeline

final class ErasureCoderTests: XCTestCase {
    static let codes: [(k: Int, m: Int)] = [(6, 3), (4, 2), (10, 4), (1, 1), (2, 1), (3, 3), (8, 1)]

    /// Every subset of `0..<n` with exactly `size` elements, ascending.
    func subsets(_ n: Int, _ size: Int) -> [[Int]] {
        if size == 0 { return [[]] }
        if size > n { return [] }
        return subsets(n - 1, size - 1).map { $0 + [n - 1] } + subsets(n - 1, size)
    }

    func testEveryPatternOfUpToMLostFragmentsDecodes() throws {
        for (k, m) in Self.codes {
            let coder = try ErasureCoder(k: k, m: m)
            var rng = SimRandom(seed: UInt64(k * 100 + m))
            // Several lengths: empty, shorter than k, not a multiple of k, large.
            for length in [0, 1, k - 1, k, 7 * k + 3, 1000, 65_537] where length >= 0 {
                let shard = rng.bytes(length)
                let fragments = coder.encode(shard, stripeID: 42)
                XCTAssertEqual(fragments.count, k + m)
                for (i, f) in fragments.enumerated() {
                    XCTAssertEqual(f.index, i)
                    XCTAssertEqual(f.bytes.count, Fragment.storedBytes(shardBytes: length, k: k))
                    XCTAssertNil(coder.check(f, index: i), "RS(\(k),\(m)) fragment \(i) fails its own check")
                }
                for lost in 0...m {
                    for pattern in subsets(k + m, lost) {
                        var available: [Fragment?] = fragments
                        for i in pattern { available[i] = nil }
                        let decoded = try coder.decode(available)
                        XCTAssertEqual(decoded.bytes, shard, "RS(\(k),\(m)) length \(length) lost \(pattern)")
                        XCTAssertEqual(decoded.missing, pattern)
                        XCTAssertEqual(decoded.corrupt, [])
                    }
                }
            }
        }
    }

    func testMorePlusOneLossesAreUnrecoverableNeverWrongData() throws {
        for (k, m) in Self.codes {
            let coder = try ErasureCoder(k: k, m: m)
            var rng = SimRandom(seed: UInt64(k * 31 + m))
            let shard = rng.bytes(777)
            let fragments = coder.encode(shard)
            for pattern in subsets(k + m, m + 1) {
                var available: [Fragment?] = fragments
                for i in pattern { available[i] = nil }
                XCTAssertThrowsError(try coder.decode(available), "RS(\(k),\(m)) lost \(pattern)") { e in
                    XCTAssertEqual(e as? ShardError, .unrecoverable(intact: k - 1, needed: k, corrupt: 0, missing: m + 1))
                }
            }
            XCTAssertThrowsError(try coder.decode(Array(repeating: nil, count: k + m)))
        }
    }

    func testCorruptFragmentsAreDetectedAndTreatedAsMissing() throws {
        for (k, m) in Self.codes {
            let coder = try ErasureCoder(k: k, m: m)
            for seed in UInt64(0)..<40 {
                var rng = SimRandom(seed: seed &* 977 &+ UInt64(k * 10 + m))
                let shard = rng.bytes(Int(rng.below(5000)))
                let fragments = coder.encode(shard, stripeID: seed)
                // Corrupt c fragments (random bits anywhere: header, CRC or payload) and lose l more.
                let c = 1 + Int(rng.below(UInt64(m)))
                let l = Int(rng.below(UInt64(m - c + 1)))
                var order = Array(0..<(k + m))
                rng.shuffle(&order)
                let corrupted = order.prefix(c).sorted(), lost = order.dropFirst(c).prefix(l).sorted()
                var available: [Fragment?] = fragments
                for i in corrupted {
                    var f = fragments[i]
                    let bits = 1 + Int(rng.below(3))
                    _ = BitRot.flipRandomBits(in: &f.bytes, count: bits, using: &rng)
                    XCTAssertNotNil(coder.check(f, index: i), "RS(\(k),\(m)) seed \(seed): \(bits)-bit rot in fragment \(i) undetected")
                    available[i] = f
                }
                for i in lost { available[i] = nil }
                let decoded = try coder.decode(available)
                XCTAssertEqual(decoded.bytes, shard, "RS(\(k),\(m)) seed \(seed) corrupt \(corrupted) lost \(lost)")
                XCTAssertEqual(decoded.corrupt, corrupted, "seed \(seed)")
                XCTAssertEqual(decoded.missing, lost, "seed \(seed)")
                // One more corruption than the code tolerates: refused, with the counts.
                if let extra = order.dropFirst(c + l).first {
                    var worse = available
                    var f = fragments[extra]
                    BitRot.flip(bit: 8 * Fragment.headerBytes - 1, in: &f.bytes)   // inside the CRC itself
                    worse[extra] = f
                    if c + l + 1 > m {
                        XCTAssertThrowsError(try coder.decode(worse), "seed \(seed)") { e in
                            XCTAssertEqual(e as? ShardError, .unrecoverable(intact: k + m - c - l - 1, needed: k, corrupt: c + 1, missing: l))
                        }
                    }
                }
            }
        }
    }

    func testEveryOneAndTwoBitErrorInAFragmentIsDetected() throws {
        let coder = try ErasureCoder(k: 4, m: 2)
        var rng = SimRandom(seed: 21)
        let fragments = coder.encode(rng.bytes(150), stripeID: 3)
        for index in [0, 5] {
            let original = fragments[index].bytes
            let bits = original.count * 8
            var bytes = original
            for a in 0..<bits {
                bytes[a >> 3] ^= 1 << UInt8(a & 7)
                XCTAssertNotNil(coder.check(Fragment(bytes: bytes), index: index), "fragment \(index): bit \(a)")
                for b in (a + 1)..<bits {
                    bytes[b >> 3] ^= 1 << UInt8(b & 7)
                    if coder.check(Fragment(bytes: bytes), index: index) == nil {
                        XCTFail("fragment \(index): bits \(a) and \(b) flipped but not detected")
                    }
                    bytes[b >> 3] ^= 1 << UInt8(b & 7)
                }
                bytes[a >> 3] ^= 1 << UInt8(a & 7)
            }
            XCTAssertEqual(bytes, original)
        }
    }

    func testMisplacedAndMixedFragmentsAreRejected() throws {
        let coder = try ErasureCoder(k: 4, m: 2)
        var rng = SimRandom(seed: 1)
        let a = coder.encode(rng.bytes(1000), stripeID: 1)
        let b = coder.encode(rng.bytes(1000), stripeID: 2)
        // A fragment in the wrong slot is corrupt (its CRC is fine; its index is not).
        XCTAssertNotNil(coder.check(a[1], index: 2))
        var swapped: [Fragment?] = a
        swapped.swapAt(0, 1)
        XCTAssertEqual(try coder.decode(swapped).corrupt, [0, 1])
        // Fragments of another stripe: refused rather than silently mixed.
        var mixed: [Fragment?] = a
        mixed[5] = b[5]
        mixed[0] = nil
        XCTAssertThrowsError(try coder.decode(mixed)) { e in
            guard case .inconsistentFragments = e as? ShardError else { return XCTFail("\(e)") }
        }
        // Another code's fragments are corrupt for this coder.
        let other = try ErasureCoder(k: 3, m: 3)
        XCTAssertNotNil(other.check(a[0], index: 0))
    }

    func testReconstructRebuildsIdenticalFragments() throws {
        let coder = try ErasureCoder(k: 6, m: 3)
        var rng = SimRandom(seed: 5)
        let fragments = coder.encode(rng.bytes(10_001), stripeID: 99)
        var damaged: [Fragment?] = fragments
        damaged[0] = nil
        damaged[4] = nil
        var f = fragments[7]
        BitRot.flip(bit: 300, in: &f.bytes)
        damaged[7] = f
        XCTAssertEqual(try coder.reconstruct(damaged), fragments)
    }

    /// Cross-checks ISA-L's parity against a plain GF(2^8) implementation (polynomial 0x11D,
    /// Cauchy rows 1/(i ⊕ j)), so the coder is known to compute RS, not just to round-trip.
    func testParityMatchesAReferenceGaloisFieldImplementation() throws {
        func gfMul(_ a: UInt8, _ b: UInt8) -> UInt8 {
            var a = UInt16(a), b = b, p: UInt16 = 0
            while b != 0 {
                if b & 1 != 0 { p ^= a }
                a <<= 1
                if a & 0x100 != 0 { a ^= 0x11D }
                b >>= 1
            }
            return UInt8(p)
        }
        func gfInv(_ a: UInt8) -> UInt8 { (1...255).map(UInt8.init).first { gfMul(a, $0) == 1 }! }
        for (k, m) in Self.codes {
            let coder = try ErasureCoder(k: k, m: m)
            var rng = SimRandom(seed: UInt64(k + m))
            let shard = rng.bytes(k * 64 + 5)
            let fragments = coder.encode(shard)
            let p = Fragment.payloadBytes(shardBytes: shard.count, k: k)
            let padded = shard + [UInt8](repeating: 0, count: k * p - shard.count)
            for r in 0..<m {
                let row = (0..<k).map { j in gfInv(UInt8(k + r) ^ UInt8(j)) }
                XCTAssertEqual(coder.generatorRow(k + r), row, "RS(\(k),\(m)) Cauchy row \(k + r)")
                var expected = [UInt8](repeating: 0, count: p)
                for j in 0..<k {
                    for b in 0..<p { expected[b] ^= gfMul(row[j], padded[j * p + b]) }
                }
                XCTAssertEqual(Array(fragments[k + r].bytes[Fragment.headerBytes...]), expected, "RS(\(k),\(m)) parity \(r)")
            }
            for i in 0..<k {
                XCTAssertEqual(Array(fragments[i].bytes[Fragment.headerBytes...]), Array(padded[i * p..<(i + 1) * p]), "systematic data \(i)")
            }
        }
    }

    func testBenchmarkBaselineComputesTheSameCode() throws {
        // dcsim-bench compares ErasureCoder with ErasureBaseline; both must compute the same RS.
        let coder = try ErasureCoder(k: 6, m: 3)
        let baseline = ErasureBaseline(k: 6, m: 3)
        var rng = SimRandom(seed: 12)
        let shard = rng.bytes(6 * 1000)
        let fragments = coder.encode(shard)
        var parity = [UInt8](repeating: 0, count: 3 * 1000), recovered = [UInt8](repeating: 0, count: 3 * 1000)
        shard.withUnsafeBytes { d in parity.withUnsafeMutableBytes { baseline.encode(data: d.baseAddress!, parity: $0.baseAddress!, blockBytes: 1000) } }
        for j in 0..<3 { XCTAssertEqual(Array(parity[j * 1000..<(j + 1) * 1000]), Array(fragments[6 + j].bytes[Fragment.headerBytes...])) }
        shard.withUnsafeBytes { d in
            parity.withUnsafeBytes { p in
                recovered.withUnsafeMutableBytes { baseline.decode(data: d.baseAddress!, parity: p.baseAddress!, blockBytes: 1000, lost: 3, output: $0.baseAddress!) }
            }
        }
        XCTAssertEqual(recovered, Array(shard.prefix(3000)))
    }

    func testInvalidParametersAreRefused() {
        for (k, m) in [(0, 2), (2, 0), (60, 5), (-1, 1)] {
            XCTAssertThrowsError(try ErasureCoder(k: k, m: m), "RS(\(k),\(m))") { e in
                guard case .invalidErasureParameters = e as? ShardError else { return XCTFail("\(e)") }
            }
        }
        XCTAssertNoThrow(try ErasureCoder(k: 60, m: 4))
    }

    func testSealedShardsSurviveErasureCodingEndToEnd() throws {
        // Seal → RS(6,3) → lose/corrupt ≤ 3 → decode → open: the payload, or a refusal.
        let sealer = try ShardSealer()
        let coder = try ErasureCoder(k: 6, m: 3)
        let key = testKey()
        for seed in UInt64(0)..<100 {
            var rng = SimRandom(seed: seed)
            let payload = mixedPayload(Int(rng.below(20_000)), using: &rng)
            let shard = try sealer.seal(payload: payload, shardID: seed, version: 1, key: key, nonce: .random(using: &rng))
            var fragments: [Fragment?] = coder.encode(shard, stripeID: seed)
            var order = Array(0..<9)
            rng.shuffle(&order)
            let damage = Int(rng.below(5))   // 0...4: 4 is one too many
            for (n, i) in order.prefix(damage).enumerated() {
                if n % 2 == 0 { fragments[i] = nil } else { BitRot.flip(bit: Int(rng.below(UInt64(fragments[i]!.bytes.count * 8))), in: &fragments[i]!.bytes) }
            }
            do {
                let decoded = try coder.decode(fragments)
                XCTAssertLessThanOrEqual(damage, 3, "seed \(seed)")
                XCTAssertEqual(try sealer.open(decoded.bytes, key: key), payload, "seed \(seed)")
            } catch {
                XCTAssertEqual(damage, 4, "seed \(seed): \(error)")
                XCTAssertTrue(error.isIntegrityFailure, "seed \(seed)")
            }
        }
    }
}
