internal import COpenSSL

/// AES-256-GCM through OpenSSL's EVP API, with one encryption and one decryption context.
///
/// The cipher is fetched once and each context is initialised with it once; a call then only
/// sets the nonce (and the key, when it differs from the previous call's — key expansion is
/// skipped while the same key is reused, as in a run with few data keys). The nonce is 96 bits
/// and the tag 128 bits, GCM's recommended sizes. Not thread-safe: one instance per thread.
final class AESGCM {
    /// Tag size in bytes.
    static let tagBytes = 16

    /// Outcome of a decryption.
    enum OpenResult: Equatable {
        case ok
        case tagMismatch
        case failure(operation: String, code: UInt)
    }

    private let cipher: OpaquePointer
    private let encryptContext: OpaquePointer
    private let decryptContext: OpaquePointer
    private var encryptKey: (UInt64, UInt64, UInt64, UInt64)?
    private var decryptKey: (UInt64, UInt64, UInt64, UInt64)?

    init() throws(ShardError) {
        guard let c = EVP_CIPHER_fetch(nil, "AES-256-GCM", nil) else {
            throw .openSSL(operation: "EVP_CIPHER_fetch(AES-256-GCM)", code: AESGCM.takeError())
        }
        guard let e = EVP_CIPHER_CTX_new() else {
            EVP_CIPHER_free(c)
            throw .openSSL(operation: "EVP_CIPHER_CTX_new", code: AESGCM.takeError())
        }
        guard let d = EVP_CIPHER_CTX_new() else {
            EVP_CIPHER_CTX_free(e); EVP_CIPHER_free(c)
            throw .openSSL(operation: "EVP_CIPHER_CTX_new", code: AESGCM.takeError())
        }
        guard EVP_EncryptInit_ex(e, c, nil, nil, nil) == 1, EVP_DecryptInit_ex(d, c, nil, nil, nil) == 1 else {
            let code = AESGCM.takeError()
            EVP_CIPHER_CTX_free(d); EVP_CIPHER_CTX_free(e); EVP_CIPHER_free(c)
            throw .openSSL(operation: "EVP_CipherInit_ex(AES-256-GCM)", code: code)
        }
        cipher = c; encryptContext = e; decryptContext = d
    }

    deinit {
        EVP_CIPHER_CTX_free(decryptContext)
        EVP_CIPHER_CTX_free(encryptContext)
        EVP_CIPHER_free(cipher)
    }

    /// The oldest queued OpenSSL error code (0 if none); clears the queue so that a later
    /// failure reports its own code.
    static func takeError() -> UInt {
        let code = ERR_get_error()
        ERR_clear_error()
        return code
    }

    /// Encrypts and authenticates.
    /// - Parameters:
    ///   - nonce: 12 bytes.
    ///   - aad: authenticated, not encrypted.
    ///   - plaintext: `count` bytes (may alias `ciphertext` exactly).
    ///   - ciphertext: `count` writable bytes.
    ///   - tag: 16 writable bytes.
    func seal(key: DataKey, nonce: UnsafeRawPointer, aad: UnsafeRawBufferPointer,
              plaintext: UnsafeRawPointer?, count: Int, ciphertext: UnsafeMutableRawPointer?,
              tag: UnsafeMutableRawPointer) throws(ShardError) {
        precondition(count >= 0 && count <= Int(Int32.max) && aad.count <= Int(Int32.max), "GCM sizes out of range")
        let ctx = encryptContext
        var ok: Int32
        if let installed = encryptKey, installed == key.material {
            ok = EVP_EncryptInit_ex(ctx, nil, nil, nil, nonce.assumingMemoryBound(to: UInt8.self))
        } else {
            ok = key.withKeyBytes { k in
                EVP_EncryptInit_ex(ctx, nil, nil, k.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                   nonce.assumingMemoryBound(to: UInt8.self))
            }
            encryptKey = ok == 1 ? key.material : nil
        }
        guard ok == 1 else { throw .openSSL(operation: "EVP_EncryptInit_ex", code: AESGCM.takeError()) }
        var outl: Int32 = 0
        if aad.count > 0 {
            // A NULL output pointer makes EVP_EncryptUpdate take the input as AAD.
            guard EVP_EncryptUpdate(ctx, nil, &outl, aad.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(aad.count)) == 1 else {
                throw .openSSL(operation: "EVP_EncryptUpdate(aad)", code: AESGCM.takeError())
            }
        }
        var produced: Int32 = 0
        if count > 0 {
            guard let plaintext, let ciphertext else { preconditionFailure("GCM seal: nil buffer for \(count) bytes") }
            guard EVP_EncryptUpdate(ctx, ciphertext.assumingMemoryBound(to: UInt8.self), &produced,
                                    plaintext.assumingMemoryBound(to: UInt8.self), Int32(count)) == 1 else {
                throw .openSSL(operation: "EVP_EncryptUpdate", code: AESGCM.takeError())
            }
        }
        // GCM is a stream mode: Final writes nothing, but must run to compute the tag. Give it
        // the tag buffer as a harmless, valid output address.
        var finalLength: Int32 = 0
        guard EVP_EncryptFinal_ex(ctx, tag.assumingMemoryBound(to: UInt8.self), &finalLength) == 1 else {
            throw .openSSL(operation: "EVP_EncryptFinal_ex", code: AESGCM.takeError())
        }
        precondition(Int(produced) == count && finalLength == 0, "GCM produced \(produced)+\(finalLength) bytes for \(count)")
        guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, Int32(AESGCM.tagBytes), tag) == 1 else {
            throw .openSSL(operation: "EVP_CIPHER_CTX_ctrl(GET_TAG)", code: AESGCM.takeError())
        }
    }

    /// Decrypts and verifies. On `.tagMismatch` the plaintext buffer holds unauthenticated bytes
    /// that the caller must discard.
    func open(key: DataKey, nonce: UnsafeRawPointer, aad: UnsafeRawBufferPointer,
              ciphertext: UnsafeRawPointer?, count: Int, tag: UnsafeRawPointer,
              plaintext: UnsafeMutableRawPointer?) -> OpenResult {
        precondition(count >= 0 && count <= Int(Int32.max) && aad.count <= Int(Int32.max), "GCM sizes out of range")
        let ctx = decryptContext
        var ok: Int32
        if let installed = decryptKey, installed == key.material {
            ok = EVP_DecryptInit_ex(ctx, nil, nil, nil, nonce.assumingMemoryBound(to: UInt8.self))
        } else {
            ok = key.withKeyBytes { k in
                EVP_DecryptInit_ex(ctx, nil, nil, k.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                   nonce.assumingMemoryBound(to: UInt8.self))
            }
            decryptKey = ok == 1 ? key.material : nil
        }
        guard ok == 1 else { return .failure(operation: "EVP_DecryptInit_ex", code: AESGCM.takeError()) }
        var outl: Int32 = 0
        if aad.count > 0 {
            guard EVP_DecryptUpdate(ctx, nil, &outl, aad.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(aad.count)) == 1 else {
                return .failure(operation: "EVP_DecryptUpdate(aad)", code: AESGCM.takeError())
            }
        }
        var produced: Int32 = 0
        if count > 0 {
            guard let ciphertext, let plaintext else { preconditionFailure("GCM open: nil buffer for \(count) bytes") }
            guard EVP_DecryptUpdate(ctx, plaintext.assumingMemoryBound(to: UInt8.self), &produced,
                                    ciphertext.assumingMemoryBound(to: UInt8.self), Int32(count)) == 1 else {
                return .failure(operation: "EVP_DecryptUpdate", code: AESGCM.takeError())
            }
        }
        guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, Int32(AESGCM.tagBytes), UnsafeMutableRawPointer(mutating: tag)) == 1 else {
            return .failure(operation: "EVP_CIPHER_CTX_ctrl(SET_TAG)", code: AESGCM.takeError())
        }
        var finalLength: Int32 = 0
        var scratch: UInt8 = 0
        let final = EVP_DecryptFinal_ex(ctx, &scratch, &finalLength)
        if final <= 0 {
            // A tag mismatch queues no error in OpenSSL 3; clear anything queued anyway.
            ERR_clear_error()
            return .tagMismatch
        }
        precondition(Int(produced) == count && finalLength == 0, "GCM produced \(produced)+\(finalLength) bytes for \(count)")
        return .ok
    }
}
