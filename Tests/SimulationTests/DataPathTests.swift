import XCTest
import Replication
import ShardPipeline
import SimConfig
import SimCore
import SimTestSupport
@testable import Simulation

/// The engine's shard data path: real sealed bytes shared by replicas, real verification on
/// read, bit rot in real bytes, RS fragments with CRCs, and key placement from the scenario.
final class DataPathTests: XCTestCase {
    func scenario(_ payload: String, seed: UInt64 = 9, keys: String = "other-jurisdiction",
                  mix: String = "") throws -> Scenario {
        try ConfigLoader.loadScenario(yaml: """
            name: data-path
            topology: telegram-5
            seed: \(seed)
            duration: 10s
            payload: \(payload)
            key_placement: \(keys)
            workload:
              users: 10
              rate: 1/s
            \(mix)
            """, source: "test:data-path", baseDirectory: nil)
    }

    /// Message classes of the default mix: 0 text, 1 photo, 2 video, 3 document.
    static let text = 0, photo = 1

    func copy(_ version: UInt32 = 1, fragment: Int16 = -1, corrupt: Bool = false, tombstone: Bool = false) -> NodeStore.Copy {
        NodeStore.Copy(stamp: Stamp(version: version), tombstone: tombstone, storedBytes: 0, corrupt: corrupt, fragment: fragment)
    }

    func testStoredSizesComeFromTheModelInBothModes() throws {
        var full = try DataPath(scenario: scenario("full"))
        var sizes = try DataPath(scenario: scenario("sizes"))
        let model = ShardSizeModel.standard
        for (i, (cls, n)) in [(Self.text, 0), (Self.text, 1), (Self.text, 300), (Self.photo, 200_000), (Self.text, 4000)].enumerated() {
            let key = ShardKey(UInt64(i))
            let a = full.seal(key: key, home: i % 5, messageClass: cls, plaintextBytes: n, version: 1)
            let b = sizes.seal(key: key, home: i % 5, messageClass: cls, plaintextBytes: n, version: 1)
            XCTAssertEqual(a, b, "shard \(i)")
            XCTAssertEqual(a, model.sealedBytes(kind: cls == Self.text ? .text : .media, plaintextBytes: n), "shard \(i)")
            // Media is kept raw, so its real size is the model's exactly.
            if cls == Self.photo { XCTAssertEqual(full.sharedBytes(key: key, version: 1)?.count, a) }
        }
        XCTAssertNil(sizes.sharedBytes(key: ShardKey(0), version: 1), "sizes mode holds no bytes")
        XCTAssertEqual(DataPath.fragmentBytes(storedBytes: 1000, k: 6), Fragment.headerBytes + 167)
    }

    /// Replicas share one buffer; bit rot gives one replica its own damaged bytes, which fail
    /// to open, while the other replicas still open. Both modes answer the same and draw the
    /// same random values.
    func testBitRotDamagesOneReplicaAndIsDetectedFromTheBytes() throws {
        for mode in ["full", "sizes"] {
            var path = try DataPath(scenario: scenario(mode))
            let key = ShardKey(0)
            _ = path.seal(key: key, home: 1, messageClass: Self.photo, plaintextBytes: 30_000, version: 1)
            let before = path.sharedBytes(key: key, version: 1)
            XCTAssertTrue(path.readIntact(key: key, node: 3, copy: copy()), mode)
            var rng = SimRandom(seed: 77)
            path.corrupt(key: key, node: 3, copy: copy(), bits: 3, rng: &rng)
            var reference = SimRandom(seed: 77)
            for _ in 0..<3 { _ = reference.next() }
            XCTAssertEqual(rng.next(), reference.next(), "\(mode): bit rot draws exactly one value per bit")
            XCTAssertFalse(path.readIntact(key: key, node: 3, copy: copy(corrupt: true)), mode)
            XCTAssertTrue(path.readIntact(key: key, node: 4, copy: copy()), "\(mode): other replicas unharmed")
            XCTAssertEqual(path.sharedBytes(key: key, version: 1), before, "\(mode): the shared buffer is untouched")
            XCTAssertEqual(path.stats.damageDetected, 1, mode)
            // Repaired (the store overwrote the copy and cleared its flag): reads intact again.
            XCTAssertTrue(path.readIntact(key: key, node: 3, copy: copy()), mode)
        }
    }

    /// A copy flagged corrupt without going through `corrupt` (a fault that only sets the
    /// store's flag) still fails on its bytes: the damage is materialised deterministically.
    func testFlaggedCopyWithoutExplicitDamageFailsOnItsBytes() throws {
        var path = try DataPath(scenario: scenario("full"))
        let key = ShardKey(0)
        _ = path.seal(key: key, home: 0, messageClass: Self.text, plaintextBytes: 2000, version: 1)
        XCTAssertFalse(path.readIntact(key: key, node: 2, copy: copy(corrupt: true)))
        XCTAssertEqual(path.stats.damageDetected, 1)
        XCTAssertTrue(path.readIntact(key: key, node: 2, copy: copy()))
        // Tombstones carry no sealed bytes: intact unless flagged.
        XCTAssertTrue(path.readIntact(key: key, node: 2, copy: copy(2, tombstone: true)))
        XCTAssertFalse(path.readIntact(key: key, node: 2, copy: copy(2, corrupt: true, tombstone: true)))
    }

    /// Sealed shards derive from (seed, shard, version): a version re-seals to the same header,
    /// nonce and plaintext (media byte for byte; a text body may pick other LZ4 matches, see
    /// `LZ4BlockCodec`), every version was opened when written, and another seed gives other
    /// bytes. No sealed buffer is kept: each request re-seals.
    func testSealedBytesAreReproducible() throws {
        var path = try DataPath(scenario: scenario("full"))
        var other = try DataPath(scenario: scenario("full", seed: 10))
        for i in 0..<20 {
            let key = ShardKey(UInt64(i))
            _ = path.seal(key: key, home: i % 5, messageClass: i % 2, plaintextBytes: 500 + i * 97, version: 1)
            _ = other.seal(key: key, home: i % 5, messageClass: i % 2, plaintextBytes: 500 + i * 97, version: 1)
        }
        _ = path.seal(key: ShardKey(3), home: 3, messageClass: 1, plaintextBytes: 999, version: 2)
        XCTAssertEqual(path.stats.sealed, 21)
        XCTAssertEqual(path.stats.opened, 21, "every version is opened and verified when written")
        XCTAssertEqual(path.stats.resealed, 0)
        for i in 0..<20 {
            let key = ShardKey(UInt64(i))
            let a = try XCTUnwrap(path.sharedBytes(key: key, version: 1)), b = try XCTUnwrap(path.sharedBytes(key: key, version: 1))
            let prefix = ShardFormat.headerBytes + ShardFormat.nonceBytes
            XCTAssertEqual(a.prefix(prefix), b.prefix(prefix), "shard \(i): same header and nonce")
            if i % 2 == Self.photo { XCTAssertEqual(a, b, "shard \(i): media is sealed raw, byte for byte") }
            XCTAssertNotEqual(a, other.sharedBytes(key: key, version: 1), "shard \(i)")
            XCTAssertTrue(path.readIntact(key: key, node: 0, copy: copy()), "shard \(i)")
        }
        XCTAssertEqual(path.stats.resealed, 40)
        // A lagging replica still holding version 1 of an edited shard: v1 keeps its own size.
        XCTAssertEqual(path.sharedBytes(key: ShardKey(3), version: 2)?.count, 999 + ShardFormat.overheadBytes)
        XCTAssertEqual(path.sharedBytes(key: ShardKey(3), version: 1)?.count, 500 + 3 * 97 + ShardFormat.overheadBytes)
        XCTAssertTrue(path.readIntact(key: ShardKey(3), node: 1, copy: copy(1)))
        // A damaged copy of that old version is materialised from it and fails on its bytes.
        XCTAssertFalse(path.readIntact(key: ShardKey(3), node: 1, copy: copy(1, corrupt: true)))
        XCTAssertEqual(path.stats.damageDetected, 1)
        path.finish()
    }

    /// Fragmented shards: real ISA-L fragments of the real sealed bytes, CRC-checked on read;
    /// a rotted fragment fails its CRC.
    func testFragmentsAreEncodedAndCheckedForReal() throws {
        for mode in ["full", "sizes"] {
            var path = try DataPath(scenario: scenario(mode))
            let key = ShardKey(0)
            _ = path.seal(key: key, home: 2, messageClass: Self.photo, plaintextBytes: 40_000, version: 1)
            for i in 0..<6 { path.fragmentStored(key: key, version: 1, index: i, k: 4, n: 6) }
            XCTAssertEqual(path.stats.fragmentSetsEncoded, mode == "full" ? 1 : 0, mode)
            for i in 0..<6 {
                XCTAssertTrue(path.readIntact(key: key, node: i, copy: copy(fragment: Int16(i))), "\(mode) fragment \(i)")
            }
            var rng = SimRandom(seed: 1)
            path.corrupt(key: key, node: 4, copy: copy(fragment: 4), rng: &rng)
            XCTAssertFalse(path.readIntact(key: key, node: 4, copy: copy(fragment: 4, corrupt: true)), mode)
            XCTAssertTrue(path.readIntact(key: key, node: 5, copy: copy(fragment: 5)), mode)
            XCTAssertEqual(path.stats.fragmentsUnverified, 0, mode)
            XCTAssertEqual(path.stats.fragmentsChecked, 8, mode)
        }
    }

    /// A write with the strategy's stripe encodes the fragments from the bytes it sealed; a
    /// budget too small for two sets evicts the older, which is re-sealed and re-encoded when
    /// read again — and still verifies.
    func testFragmentSetsAreEncodedOnWriteAndReencodedAfterEviction() throws {
        var path = try DataPath(scenario: scenario("full"), bufferBudgetBytes: 60_000)
        for i in 0..<2 {
            let key = ShardKey(UInt64(i))
            _ = path.seal(key: key, home: 2, messageClass: Self.photo, plaintextBytes: 40_000, version: 1, stripe: (4, 6))
            for f in 0..<6 { path.fragmentStored(key: key, version: 1, index: f, k: 4, n: 6) }
        }
        XCTAssertEqual(path.stats.fragmentSetsEncoded, 2)
        XCTAssertEqual(path.stats.resealed, 0, "encoded from the bytes sealed on write")
        XCTAssertEqual(path.stats.evictions, 1)
        for f in 0..<6 { XCTAssertTrue(path.readIntact(key: ShardKey(0), node: f, copy: copy(fragment: Int16(f)))) }
        XCTAssertEqual(path.stats.resealed, 1)
        XCTAssertEqual(path.stats.fragmentSetsEncoded, 3)
        XCTAssertEqual(path.stats.fragmentsUnverified, 0)
        path.finish()
    }

    /// The scenario's key placement is the pipeline's policy, applied per shard: holders and
    /// decryptability agree with `KeyPlacementPolicy` itself.
    func testKeyHoldersFollowTheScenarioPolicy() throws {
        let s = try scenario("sizes", keys: "{split: {k: 2, n: 3}}")
        XCTAssertEqual(s.keyPlacement, .split(k: 2, n: 3))
        var path = try DataPath(scenario: s)
        let jurisdiction = s.topology.datacenters.map(\.jurisdiction)
        var holdersSeen = Set<Int>()
        for raw in 0..<200 as Range<UInt64> {
            let key = ShardKey(raw)
            let home = Int(raw % 5)
            let kp = path.keyHolders(home: home, key: key)
            XCTAssertEqual(kp.threshold, 2)
            XCTAssertEqual(Set(kp.holders.map { jurisdiction[$0] }).count, 3, "one share per jurisdiction")
            holdersSeen.formUnion(kp.holders)
            XCTAssertTrue(path.canDecrypt(key: key, home: home, reachable: DCSet(kp.holders)))
            XCTAssertTrue(path.canDecrypt(key: key, home: home, reachable: DCSet(kp.holders.prefix(2))))
            XCTAssertFalse(path.canDecrypt(key: key, home: home, reachable: DCSet(kp.holders.prefix(1))))
            XCTAssertFalse(path.adversaryCanDecrypt(key: key, home: home, seized: DCSet(kp.holders.prefix(2)), dataDCs: [99]))
            XCTAssertTrue(path.adversaryCanDecrypt(key: key, home: home, seized: DCSet(kp.holders.prefix(2)), dataDCs: [kp.holders[0]]))
        }
        XCTAssertEqual(holdersSeen.count, 5, "keys spread over every DC")

        let foreign = try scenario("sizes", keys: "other-jurisdiction")
        var other = try DataPath(scenario: foreign)
        for raw in 0..<100 as Range<UInt64> {
            let home = Int(raw % 5)
            let kp = other.keyHolders(home: home, key: ShardKey(raw))
            XCTAssertEqual(kp.holders.count, 1)
            XCTAssertNotEqual(jurisdiction[kp.holders[0]], jurisdiction[home])
            XCTAssertEqual(other.dataKeyID(key: ShardKey(raw), home: home).jurisdiction, UInt32(jurisdiction[kp.holders[0]]))
        }
    }

    /// Full payloads need every message to fit one shard; sizes mode does not.
    func testFullModeRefusesUnboundedMessageSizes() throws {
        let mix = """
              mix:
                photo: {weight: 0.1, size: {dist: lognormal, median: 200KB, sigma: 0.5}}
            """
        XCTAssertThrowsError(try DataPath(scenario: scenario("full", mix: mix))) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("workload.mix.photo.size"), text)
            XCTAssertTrue(text.contains("--payload sizes"), text)
        }
        XCTAssertNoThrow(try DataPath(scenario: scenario("sizes", mix: mix)))
    }
}
