internal import COpenSSL

/// HKDF-SHA256 (RFC 5869) through OpenSSL's `EVP_KDF` API.
///
/// The `EVP_KDF` algorithm object is fetched once and shared (OpenSSL documents fetched
/// algorithm objects as reference-counted and safe to share between threads); each derivation
/// makes and frees its own `EVP_KDF_CTX`, so a derivation is a pure function of its inputs.
final class HKDFSHA256: @unchecked Sendable {
    // @unchecked: the only stored property is an immutable, thread-safe EVP_KDF handle.
    private let kdf: OpaquePointer

    /// Longest output RFC 5869 allows for SHA-256: 255 × 32 bytes.
    static let maxOutputBytes = 255 * 32

    init() throws(ShardError) {
        guard let k = EVP_KDF_fetch(nil, "HKDF", nil) else {
            throw .openSSL(operation: "EVP_KDF_fetch(HKDF)", code: AESGCM.takeError())
        }
        kdf = k
    }

    deinit { EVP_KDF_free(kdf) }

    /// Derives `count` bytes: HKDF-Expand(HKDF-Extract(salt, ikm), info, count).
    /// - Throws: ``ShardError/openSSL(operation:code:)`` if OpenSSL refuses (for example `count`
    ///   over 8160 bytes).
    func derive(ikm: [UInt8], salt: [UInt8], info: [UInt8], count: Int) throws(ShardError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let status: (Int32, UInt) = ikm.withUnsafeBytes { ikmBuf in
            salt.withUnsafeBytes { saltBuf in
                info.withUnsafeBytes { infoBuf in
                    out.withUnsafeMutableBytes { outBuf in
                        guard let ctx = EVP_KDF_CTX_new(kdf) else { return (0, AESGCM.takeError()) }
                        defer { EVP_KDF_CTX_free(ctx) }
                        // OSSL_PARAM keeps the key and value pointers until EVP_KDF_derive
                        // returns: names are static strings, values live for this closure.
                        // An empty octet string still needs a non-NULL address.
                        var empty: UInt8 = 0
                        return withUnsafeMutablePointer(to: &empty) { emptyPtr in
                            func octets(_ b: UnsafeRawBufferPointer) -> UnsafeMutableRawPointer {
                                b.count > 0 ? UnsafeMutableRawPointer(mutating: b.baseAddress!) : UnsafeMutableRawPointer(emptyPtr)
                            }
                            var params: [OSSL_PARAM] = [
                                OSSL_PARAM_construct_utf8_string(HKDFSHA256.cString("digest"),
                                                                 UnsafeMutablePointer(mutating: HKDFSHA256.cString("SHA256")), 0),
                                OSSL_PARAM_construct_octet_string(HKDFSHA256.cString("key"), octets(ikmBuf), ikmBuf.count),
                                OSSL_PARAM_construct_octet_string(HKDFSHA256.cString("salt"), octets(saltBuf), saltBuf.count),
                                OSSL_PARAM_construct_octet_string(HKDFSHA256.cString("info"), octets(infoBuf), infoBuf.count),
                                OSSL_PARAM_construct_end(),
                            ]
                            let r = params.withUnsafeMutableBufferPointer { p in
                                EVP_KDF_derive(ctx, outBuf.baseAddress!.assumingMemoryBound(to: UInt8.self), outBuf.count, p.baseAddress)
                            }
                            return (r, r == 1 ? 0 : AESGCM.takeError())
                        }
                    }
                }
            }
        }
        guard status.0 == 1 else { throw .openSSL(operation: "EVP_KDF_derive(HKDF-SHA256)", code: status.1) }
        return out
    }

    /// A NUL-terminated C string for a static Swift literal (valid for the process lifetime).
    private static func cString(_ s: StaticString) -> UnsafePointer<CChar> {
        UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)
    }
}
