import XCTest
@testable import ShardPipeline

/// AES-256-GCM known-answer tests through the EVP wrapper: test cases 13–16 of McGrew and
/// Viega, "The Galois/Counter Mode of Operation (GCM)" (the 256-bit-key cases with 96-bit IVs,
/// also in NIST's CAVP gcmEncryptExtIV256 set).
final class AEADTests: XCTestCase {
    struct Vector {
        let name: String, key: String, iv: String, plaintext: String, aad: String, ciphertext: String, tag: String
    }

    static let zeroKey = String(repeating: "00", count: 32)
    static let key15 = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"
    static let vectors: [Vector] = [
        Vector(name: "TC13", key: zeroKey, iv: "000000000000000000000000", plaintext: "", aad: "",
               ciphertext: "", tag: "530f8afbc74536b9a963b4f1c4cb738b"),
        Vector(name: "TC14", key: zeroKey, iv: "000000000000000000000000",
               plaintext: "00000000000000000000000000000000", aad: "",
               ciphertext: "cea7403d4d606b6e074ec5d3baf39d18", tag: "d0d1c8a799996bf0265b98b5d48ab919"),
        Vector(name: "TC15", key: key15, iv: "cafebabefacedbaddecaf888",
               plaintext: """
               d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72\
               1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255
               """, aad: "",
               ciphertext: """
               522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa\
               8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad
               """, tag: "b094dac5d93471bdec1a502270e3cc6c"),
        Vector(name: "TC16", key: key15, iv: "cafebabefacedbaddecaf888",
               plaintext: """
               d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72\
               1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39
               """, aad: "feedfacedeadbeeffeedfacedeadbeefabaddad2",
               ciphertext: """
               522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa\
               8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662
               """, tag: "76fc6ece0f4e1768cddf8853bb2d551b"),
    ]

    func seal(_ gcm: AESGCM, _ v: Vector) throws -> (ciphertext: [UInt8], tag: [UInt8]) {
        let key = DataKey(id: DataKeyID(jurisdiction: 0, keyID: 0), bytes: hex(v.key))
        let iv = hex(v.iv), p = hex(v.plaintext), aad = hex(v.aad)
        var c = [UInt8](repeating: 0, count: p.count)
        var tag = [UInt8](repeating: 0, count: 16)
        try iv.withUnsafeBytes { ivb in
            try aad.withUnsafeBytes { ab in
                try p.withUnsafeBytes { pb in
                    try c.withUnsafeMutableBytes { cb in
                        try tag.withUnsafeMutableBytes { tb in
                            try gcm.seal(key: key, nonce: ivb.baseAddress!, aad: ab, plaintext: pb.baseAddress, count: pb.count,
                                         ciphertext: cb.baseAddress, tag: tb.baseAddress!)
                        }
                    }
                }
            }
        }
        return (c, tag)
    }

    func open(_ gcm: AESGCM, _ v: Vector, ciphertext: [UInt8], tag: [UInt8]) -> (AESGCM.OpenResult, [UInt8]) {
        let key = DataKey(id: DataKeyID(jurisdiction: 0, keyID: 0), bytes: hex(v.key))
        let iv = hex(v.iv), aad = hex(v.aad)
        var p = [UInt8](repeating: 0, count: ciphertext.count)
        let r = iv.withUnsafeBytes { ivb in
            aad.withUnsafeBytes { ab in
                ciphertext.withUnsafeBytes { cb in
                    tag.withUnsafeBytes { tb in
                        p.withUnsafeMutableBytes { pb in
                            gcm.open(key: key, nonce: ivb.baseAddress!, aad: ab, ciphertext: cb.baseAddress, count: cb.count,
                                     tag: tb.baseAddress!, plaintext: pb.baseAddress)
                        }
                    }
                }
            }
        }
        return (r, p)
    }

    func testKnownAnswerVectorsEncrypt() throws {
        let gcm = try AESGCM()
        // Twice through the same contexts: the second pass exercises the reused-key path.
        for pass in 0..<2 {
            for v in Self.vectors {
                let (c, tag) = try seal(gcm, v)
                XCTAssertEqual(hexString(c), hex(v.ciphertext).map { String(format: "%02x", $0) }.joined(), "\(v.name) ciphertext, pass \(pass)")
                XCTAssertEqual(hexString(tag), v.tag, "\(v.name) tag, pass \(pass)")
            }
        }
    }

    func testKnownAnswerVectorsDecryptAndRejectTampering() throws {
        let gcm = try AESGCM()
        for v in Self.vectors {
            let c = hex(v.ciphertext), tag = hex(v.tag)
            let (ok, p) = open(gcm, v, ciphertext: c, tag: tag)
            XCTAssertEqual(ok, .ok, v.name)
            XCTAssertEqual(p, hex(v.plaintext), v.name)
            var badTag = tag
            badTag[15] ^= 0x01
            XCTAssertEqual(open(gcm, v, ciphertext: c, tag: badTag).0, .tagMismatch, "\(v.name) flipped tag bit")
            if !c.isEmpty {
                var badC = c
                badC[c.count / 2] ^= 0x80
                XCTAssertEqual(open(gcm, v, ciphertext: badC, tag: tag).0, .tagMismatch, "\(v.name) flipped ciphertext bit")
            }
            // And the good one still opens after failures (contexts recover).
            XCTAssertEqual(open(gcm, v, ciphertext: c, tag: tag).0, .ok, "\(v.name) after failures")
        }
    }
}
