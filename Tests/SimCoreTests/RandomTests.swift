import XCTest
@testable import SimCore

/// The simulation's PRNG: outputs pinned bit for bit against the reference C algorithms, child
/// streams, bounded integers, shuffles and the other helpers.
///
/// The expected values were produced by the C program at the end of this file (the published
/// reference implementations, compiled with `cc -O2 ref.c && ./ref`), not by the Swift code.
/// If one of these tests fails, every seeded run in the world changes: do not update the
/// numbers unless that is the intent, and then say so in the release notes.
final class RandomTests: XCTestCase {

    // MARK: Pinned outputs

    func testSplitMix64MatchesReference() {
        let expected: [UInt64: [UInt64]] = [
            0: [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F, 0xF88B_B8A8_724C_81EC, 0x1B39_896A_51A8_749B],
            1: [0x910A_2DEC_8902_5CC1, 0xBEEB_8DA1_658E_EC67, 0xF893_A2EE_FB32_555E, 0x71C1_8690_EE42_C90B, 0x71BB_54D8_D101_B5B9],
            42: [0xBDD7_3226_2FEB_6E95, 0x28EF_E333_B266_F103, 0x4752_6757_130F_9F52, 0x581C_E1FF_0E4A_E394, 0x09BC_585A_2448_23F2],
            0xDEAD_BEEF_CAFE_BABE: [0x0D7D_9356_0D19_29D2, 0x491D_FB74_0E50_D43F, 0x4272_2BF4_473E_5E7D, 0xD6CA_8A07_90FF_FC45, 0xB2D3_AB00_4CDB_504B],
            .max: [0xE4D9_7177_1B65_2C20, 0xE99F_F867_DBF6_82C9, 0x382F_F84C_B272_81E9, 0x6D1D_B36C_CBA9_82D2, 0xB4A0_472E_5780_69AE],
        ]
        for (seed, want) in expected.sorted(by: { $0.key < $1.key }) {
            var sm = SplitMix64(seed: seed)
            let got = (0..<want.count).map { _ in sm.next() }
            XCTAssertEqual(got, want, "SplitMix64 seed \(seed)")
        }
    }

    func testXoshiro256StarStarMatchesReferenceForSeeds() {
        let expected: [UInt64: [UInt64]] = [
            0: [0x99EC_5F36_CB75_F2B4, 0xBF6E_1F78_4956_452A, 0x1A5F_849D_4933_E6E0, 0x6AA5_94F1_262D_2D2C, 0xBBA5_AD4A_1F84_2E59, 0xFFEF_8375_D9EB_CACA],
            1: [0xB3F2_AF6D_0FC7_10C5, 0x853B_5596_4736_4CEA, 0x92F8_9756_082A_4514, 0x642E_1C7B_C266_A3A7, 0xB27A_48E2_9A23_3673, 0x24C1_2312_6FFD_A722],
            42: [0x1578_0B2E_0C2E_C716, 0x6104_D986_6D11_3A7E, 0xAE17_5332_39E4_99A1, 0xECB8_AD47_03B3_60A1, 0xFDE6_DC7F_E2EC_5E64, 0xC50D_A531_0179_5238],
            0xDEAD_BEEF_CAFE_BABE: [0x2299_B342_1AA7_8B66, 0x9AF6_5504_83E0_2887, 0xDA05_9CB5_EEC5_C979, 0xCF86_BD29_360F_FF98, 0x5CC8_83C9_4008_9820, 0xB006_10AC_ED04_900F],
            .max: [0x8F55_20D5_2A7E_AD08, 0xC476_A018_CAA1_802D, 0x81DE_31C0_D260_469E, 0xBF65_8D7E_065F_3C2F, 0x9135_93FD_A1BC_A32A, 0xBB53_5E93_941B_A525],
        ]
        for (seed, want) in expected.sorted(by: { $0.key < $1.key }) {
            var rng = SimRandom(seed: seed)
            let got = (0..<want.count).map { _ in rng.next() }
            XCTAssertEqual(got, want, "xoshiro256** seeded with SplitMix64(\(seed))")
        }
    }

    func testXoshiro256StarStarMatchesReferenceForExplicitState() {
        // The state {1, 2, 3, 4}: independent of seeding.
        var rng = SimRandom(seed: 0)
        rng.s0 = 1; rng.s1 = 2; rng.s2 = 3; rng.s3 = 4
        let got = (0..<6).map { _ in rng.next() }
        XCTAssertEqual(got, [0x0000_0000_0000_2D00, 0x0000_0000_0000_0000, 0x0000_0000_5A00_7080,
                             0x10E0_0000_0000_9D80, 0x10E0_B61C_E100_9D80, 0x0870_021C_E143_AD00])
    }

    func testBelowMatchesReference() {
        var rng = SimRandom(seed: 42)
        XCTAssertEqual((0..<8).map { _ in rng.below(6) }, [0, 2, 4, 5, 5, 4, 4, 5], "below(6), seed 42")
        rng = SimRandom(seed: 42)
        // A bound just above 2^63 rejects almost half the draws: exercises the rejection loop.
        XCTAssertEqual((0..<4).map { _ in rng.below(0x8000_0000_0000_0001) },
                       [0x7EF3_6E3F_F176_2F32, 0x6286_D298_80BC_A91C, 0x5C10_AA42_AD32_EED9, 0x6174_B739_374B_B23F],
                       "below(2^63+1), seed 42")
    }

    func testUnitMatchesReference() {
        var rng = SimRandom(seed: 7)
        let got = (0..<4).map { _ in rng.unit() }
        XCTAssertEqual(got, [0.7005764821796896, 0.27875122947378428, 0.83962746187641979, 0.98109772501493508])
    }

    func testChildStreamDerivationMatchesReference() {
        // FNV-1a(label) ^ root → SplitMix64 → ^ index·0xD1B54A32D192ED03 → SplitMix64 → seed.
        let cases: [(label: String, index: UInt64, want: [UInt64])] = [
            ("network", 0, [0xA0CD_F6FC_3123_F99D, 0xF4B2_FBD6_027E_2311, 0xF870_485F_6263_1A6C, 0x94DD_D808_606A_B56E]),
            ("node", 7, [0x94E0_D1C9_0D60_9CEB, 0x29CC_DAAA_ECFC_45C3, 0x7E68_C18A_0E6C_51E1, 0x024E_3AA1_5573_0FF4]),
            ("", 0, [0x8548_7118_12BE_BAFB, 0x5A77_8A95_2819_62FA, 0x8920_84B5_58FB_BB43, 0xBA25_25E8_D207_174A]),
        ]
        for c in cases {
            var rng = SimRandom(root: 42, label: c.label, index: c.index)
            XCTAssertEqual((0..<4).map { _ in rng.next() }, c.want, "child stream root 42 label '\(c.label)' index \(c.index)")
        }
    }

    func testShuffleMatchesReference() {
        var rng = SimRandom(seed: 2024)
        var a = Array(0..<10)
        rng.shuffle(&a)
        XCTAssertEqual(a, [2, 3, 8, 5, 6, 4, 1, 9, 7, 0])
    }

    // MARK: Child streams

    func testChildStreamsDoNotDependOnOtherStreams() {
        for root: UInt64 in [0, 1, 42, 0xFFFF_FFFF_FFFF_FFFF] {
            var alone = SimRandom(root: root, label: "workload")
            let reference = (0..<64).map { _ in alone.next() }
            // Create other streams first, draw heavily from them, interleave: no effect.
            var net = SimRandom(root: root, label: "network")
            var nodes = (0..<10).map { SimRandom(root: root, label: "node", index: UInt64($0)) }
            for _ in 0..<1_000 { _ = net.next(); _ = nodes[3].next() }
            var workload = SimRandom(root: root, label: "workload")
            var interleaved: [UInt64] = []
            for i in 0..<64 {
                interleaved.append(workload.next())
                _ = nodes[i % 10].next()
            }
            XCTAssertEqual(interleaved, reference, "root \(root)")
        }
    }

    func testChildStreamsDifferByLabelIndexAndRoot() {
        var firstWords: [UInt64: String] = [:]
        func record(_ root: UInt64, _ label: String, _ index: UInt64) {
            var r = SimRandom(root: root, label: label, index: index)
            let w = r.next()
            let name = "root \(root) '\(label)' #\(index)"
            if let other = firstWords[w] { XCTFail("\(name) and \(other) start with the same word \(w)") }
            firstWords[w] = name
        }
        for root: UInt64 in [0, 1, 2, 42] {
            for label in ["network", "workload", "faults", "node", "nodes", "a", "b", ""] {
                for index: UInt64 in 0..<20 { record(root, label, index) }
            }
        }
        XCTAssertEqual(firstWords.count, 4 * 8 * 20)
        // Also not equal to the plain seeded generator for the same root.
        var plain = SimRandom(seed: 42)
        var child = SimRandom(root: 42, label: "")
        XCTAssertNotEqual(plain.next(), child.next())
    }

    func testStreamsAreReproducible() {
        var a = SimRandom(root: 99, label: "x", index: 3)
        var b = SimRandom(root: 99, label: "x", index: 3)
        for i in 0..<1_000 { XCTAssertEqual(a.next(), b.next(), "draw \(i)") }
    }

    // MARK: Bounded integers

    func testBelowIsUnbiasedForSmallBounds() {
        // Chi-square goodness of fit against the uniform distribution on 0..<bound.
        let draws = 60_000
        for bound: UInt64 in [2, 3, 5, 6, 7, 10, 17, 100] {
            for seed: UInt64 in [1, 2] {
                var rng = SimRandom(root: seed, label: "below", index: bound)
                var counts = [Int](repeating: 0, count: Int(bound))
                for _ in 0..<draws {
                    let x = rng.below(bound)
                    XCTAssertLessThan(x, bound)
                    counts[Int(x)] += 1
                }
                let expected = Double(draws) / Double(bound)
                let chi2 = counts.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
                let critical = Stats.chiSquareCritical(degreesOfFreedom: Int(bound) - 1)
                XCTAssertLessThan(chi2, critical, "below(\(bound)) seed \(seed): χ²=\(chi2), counts \(counts)")
            }
        }
    }

    func testBelowIsUnbiasedForABoundWhereModuloWouldBeBiased() {
        // bound = 3·2^62: `next() % bound` would give the lowest 2^62 values twice the weight.
        let bound: UInt64 = 3 << 62
        var rng = SimRandom(seed: 5)
        var thirds = [0, 0, 0]
        let n = 30_000
        for _ in 0..<n { thirds[Int(rng.below(bound) >> 62)] += 1 }
        let expected = Double(n) / 3
        let chi2 = thirds.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
        XCTAssertLessThan(chi2, Stats.chiSquareCritical(degreesOfFreedom: 2), "thirds \(thirds)")
    }

    func testIntInRanges() {
        var rng = SimRandom(seed: 3)
        var seen = Set<Int>()
        for _ in 0..<2_000 {
            let x = rng.int(in: -3..<4)
            XCTAssertTrue((-3..<4).contains(x))
            seen.insert(x)
            let y = rng.int(in: 10...12)
            XCTAssertTrue((10...12).contains(y))
        }
        XCTAssertEqual(seen, Set(-3..<4))
        XCTAssertEqual(rng.int(in: 5...5), 5)
    }

    func testUnitRanges() {
        var rng = SimRandom(seed: 11)
        for _ in 0..<100_000 {
            let u = rng.unit()
            XCTAssertTrue(u >= 0 && u < 1)
            let v = rng.unitOpenClosed()
            XCTAssertTrue(v > 0 && v <= 1)
        }
        // The extremes of the mapping, from chosen generator words.
        XCTAssertEqual(Double(UInt64.max >> 11) * 0x1.0p-53, 1 - 0x1.0p-53)
        XCTAssertEqual(Double((UInt64(0) >> 11) + 1) * 0x1.0p-53, 0x1.0p-53)
    }

    func testChancePartsPerMillion() {
        var rng = SimRandom(seed: 8)
        XCTAssertFalse((0..<1_000).contains { _ in rng.chance(ppm: 0) })
        XCTAssertTrue((0..<1_000).allSatisfy { _ in rng.chance(ppm: 1_000_000) })
        XCTAssertTrue((0..<1_000).allSatisfy { _ in rng.chance(ppm: 2_000_000) })
        for ppm: UInt32 in [1_000, 250_000, 500_000, 990_000] {
            let n = 200_000
            var hits = 0
            for _ in 0..<n where rng.chance(ppm: ppm) { hits += 1 }
            let p = Double(ppm) / 1e6
            let se = (p * (1 - p) / Double(n)).squareRoot()
            XCTAssertEqual(Double(hits) / Double(n), p, accuracy: Stats.z * se, "chance(ppm: \(ppm))")
        }
    }

    // MARK: Shuffle and choice

    func testShuffleIsADeterministicPermutation() {
        for seed: UInt64 in 0..<50 {
            let original = Array(0..<Int(seed % 40))
            var a = original, b = original
            var r1 = SimRandom(seed: seed), r2 = SimRandom(seed: seed)
            r1.shuffle(&a)
            r2.shuffle(&b)
            XCTAssertEqual(a, b, "seed \(seed): same seed, same order")
            XCTAssertEqual(a.sorted(), original, "seed \(seed): a permutation")
        }
        var empty: [Int] = []
        var one = [7]
        var rng = SimRandom(seed: 1)
        rng.shuffle(&empty)
        rng.shuffle(&one)
        XCTAssertEqual(empty, [])
        XCTAssertEqual(one, [7])
    }

    func testShuffleIsUniformOverPermutationsOfThree() {
        // Fisher–Yates with an unbiased `below` gives each of the 6 permutations 1/6.
        var rng = SimRandom(seed: 12)
        var counts: [[Int]: Int] = [:]
        let n = 60_000
        for _ in 0..<n {
            var a = [0, 1, 2]
            rng.shuffle(&a)
            counts[a, default: 0] += 1
        }
        XCTAssertEqual(counts.count, 6)
        let expected = Double(n) / 6
        let chi2 = counts.values.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
        XCTAssertLessThan(chi2, Stats.chiSquareCritical(degreesOfFreedom: 5), "counts \(counts.sorted { $0.key.lexicographicallyPrecedes($1.key) })")
    }

    func testElementOf() {
        var rng = SimRandom(seed: 4)
        XCTAssertNil(rng.element(of: [Int]()))
        let xs = [10, 20, 30]
        var seen = Set<Int>()
        for _ in 0..<300 { seen.insert(rng.element(of: xs)!) }
        XCTAssertEqual(seen, [10, 20, 30])
    }

    // MARK: Bytes

    func testBytesAreLittleEndianGeneratorWords() {
        var a = SimRandom(seed: 21), b = SimRandom(seed: 21)
        let bytes = a.bytes(13)
        let w1 = b.next(), w2 = b.next()
        let expected = (0..<8).map { UInt8(truncatingIfNeeded: w1 >> (8 * $0)) }
            + (0..<5).map { UInt8(truncatingIfNeeded: w2 >> (8 * $0)) }
        XCTAssertEqual(bytes, expected)
        XCTAssertEqual(a.next(), b.next(), "a partial word consumes the whole word")
        XCTAssertEqual(a.bytes(0), [])
    }
}

/* The reference program (ref.c). SplitMix64 and xoshiro256** are copied from
   https://prng.di.unimi.it/ (splitmix64.c, xoshiro256starstar.c); `below` is Lemire's
   nearly-divisionless method; `child` is the documented child-stream derivation.

#include <stdint.h>
#include <stdio.h>
static uint64_t x;
static uint64_t sm_next(void) {
  uint64_t z = (x += 0x9e3779b97f4a7c15);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}
static inline uint64_t rotl(const uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
static uint64_t s[4];
uint64_t next(void) {
  const uint64_t result = rotl(s[1] * 5, 7) * 9;
  const uint64_t t = s[1] << 17;
  s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}
static void seed_xo(uint64_t seed) { x = seed; for (int i = 0; i < 4; i++) s[i] = sm_next(); }
static uint64_t below(uint64_t bound) {
  __uint128_t m = (__uint128_t)next() * bound;
  uint64_t l = (uint64_t)m;
  if (l < bound) {
    uint64_t t = -bound % bound;
    while (l < t) { m = (__uint128_t)next() * bound; l = (uint64_t)m; }
  }
  return m >> 64;
}
static uint64_t fnv1a(const char *str) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const unsigned char *p = (const unsigned char *)str; *p; p++) { h ^= *p; h *= 0x100000001b3ULL; }
  return h;
}
static void child(uint64_t root, const char *label, uint64_t index) {
  x = root ^ fnv1a(label);
  uint64_t a = sm_next();
  x = a ^ (index * 0xD1B54A32D192ED03ULL);
  seed_xo(sm_next());
}
// main(): prints sm_next() ×5 after x = seed, next() ×6 after seed_xo(seed), for seeds
// 0, 1, 42, 0xDEADBEEFCAFEBABE, UINT64_MAX; next() ×6 from s = {1,2,3,4}; below(6) ×8 and
// below(2^63+1) ×4 after seed_xo(42); (next() >> 11) * 0x1.0p-53 ×4 after seed_xo(7) with %.17g;
// next() ×4 after child(42, "network", 0), child(42, "node", 7), child(42, "", 0); and
// Fisher–Yates of 0..9 (for i = 10; i > 1: j = below(i); i--; swap a[i], a[j]) after seed_xo(2024).
*/
