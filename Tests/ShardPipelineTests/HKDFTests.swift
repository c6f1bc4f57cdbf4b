import XCTest
import SimCore
@testable import ShardPipeline

/// RFC 5869 appendix A, test cases 1–3 (HKDF-SHA256), through OpenSSL EVP_KDF.
final class HKDFTests: XCTestCase {
    func testRFC5869Vectors() throws {
        let kdf = try HKDFSHA256()
        let tc1 = try kdf.derive(ikm: [UInt8](repeating: 0x0b, count: 22), salt: hex("000102030405060708090a0b0c"),
                                 info: hex("f0f1f2f3f4f5f6f7f8f9"), count: 42)
        XCTAssertEqual(hexString(tc1), "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
        let tc2 = try kdf.derive(ikm: Array(0x00...0x4f), salt: Array(0x60...0xaf), info: Array(0xb0...0xff), count: 82)
        XCTAssertEqual(hexString(tc2), """
            b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c\
            59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71\
            cc30c58179ec3e87c14c01d5c1f3434f1d87
            """)
        let tc3 = try kdf.derive(ikm: [UInt8](repeating: 0x0b, count: 22), salt: [], info: [], count: 42)
        XCTAssertEqual(hexString(tc3), "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8")
    }

    func testOversizedOutputIsAnOpenSSLError() throws {
        let kdf = try HKDFSHA256()
        XCTAssertThrowsError(try kdf.derive(ikm: [1, 2, 3], salt: [], info: [], count: HKDFSHA256.maxOutputBytes + 1)) { e in
            guard case .openSSL = e as? ShardError else { return XCTFail("expected an OpenSSL error, got \(e)") }
        }
    }

    func testKeyHierarchyIsDeterministicAndSeparatesJurisdictionsAndIDs() throws {
        let a = try KeyHierarchy(seed: 42, jurisdictions: 3)
        let b = try KeyHierarchy(seed: 42, jurisdictions: 3)
        let c = try KeyHierarchy(seed: 43, jurisdictions: 3)
        XCTAssertEqual(try a.dataKey(jurisdiction: 1, keyID: 7), try b.dataKey(jurisdiction: 1, keyID: 7))
        XCTAssertNotEqual(try a.dataKey(jurisdiction: 1, keyID: 7).material.0, try c.dataKey(jurisdiction: 1, keyID: 7).material.0)
        var seen = Set<[UInt8]>()
        for j in 0..<3 {
            for id in UInt32(0)..<50 {
                let k = try a.dataKey(jurisdiction: j, keyID: id)
                XCTAssertEqual(k.id, DataKeyID(jurisdiction: UInt32(j), keyID: id))
                XCTAssertTrue(seen.insert(k.withKeyBytes { Array($0) }).inserted, "duplicate key for j\(j)/k\(id)")
            }
        }
        XCTAssertThrowsError(try a.dataKey(jurisdiction: 3, keyID: 0))
    }

    func testDataKeyDerivationFollowsTheDocumentedConstruction() throws {
        // Master key from the documented stream, data key = HKDF(master, salt, info).
        var stream = SimRandom(root: 9, label: KeyHierarchy.streamLabel, index: 2)
        let master = stream.bytes(32)
        let expected = try HKDFSHA256().derive(ikm: master, salt: Array("dcsim/shard-key/v1".utf8),
                                               info: Array("dcsim data key".utf8) + [2, 0, 0, 0, 0x39, 0x30, 0, 0], count: 32)
        let key = try KeyHierarchy(seed: 9, jurisdictions: 3).dataKey(jurisdiction: 2, keyID: 12345)
        XCTAssertEqual(key.withKeyBytes { Array($0) }, expected)
    }

    func testKeysNeverPrint() throws {
        let h = try KeyHierarchy(seed: 5, jurisdictions: 2)
        let key = try h.dataKey(jurisdiction: 1, keyID: 3)
        let material = key.withKeyBytes { Array($0) }
        let forbidden = [hexString(material), hexString(Array(material.prefix(4))), String(material[0]) + ", " + String(material[1])]
        var dumped = ""
        dump(key, to: &dumped)
        var dumpedHierarchy = ""
        dump(h, to: &dumpedHierarchy)
        for text in ["\(key)", String(reflecting: key), "\([key])", "\(Optional(key) as Any)", dumped, "\(h)", dumpedHierarchy] {
            for f in forbidden { XCTAssertFalse(text.contains(f), "key material leaked in: \(text)") }
            XCTAssertTrue(text.contains("redacted"), "no redaction marker in: \(text)")
        }
        XCTAssertTrue("\(key)".contains("j1/k3"))
    }

    func testDataKeyCacheReturnsTheSameKeysBounded() throws {
        let h = try KeyHierarchy(seed: 77, jurisdictions: 4)
        let cache = DataKeyCache(hierarchy: h, capacity: 8)
        for round in 0..<3 {
            for j in 0..<4 {
                for id in UInt32(0)..<20 {
                    XCTAssertEqual(try cache.key(jurisdiction: j, keyID: id), try h.dataKey(jurisdiction: j, keyID: id), "round \(round)")
                }
            }
        }
        let small = DataKeyCache(hierarchy: h, capacity: 64)
        for _ in 0..<10 { _ = try small.key(jurisdiction: 0, keyID: 1) }
        XCTAssertEqual(small.misses, 1)
        XCTAssertEqual(small.hits, 9)
    }
}
