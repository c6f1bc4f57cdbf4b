/// Everything that can go wrong in the shard pipeline, as one typed error.
///
/// Two families share this enum:
///
/// - **Integrity failures** (``isIntegrityFailure``): the stored bytes are not what was written —
///   bit rot, a truncated or misplaced shard, or a key that does not match. The read path reports
///   these and never returns data; a simulation counts them and repairs from another replica or
///   fragment set. They are *outcomes*, not bugs.
/// - **Operating errors**: bad parameters (a payload over the size limit, an impossible RS(k, m))
///   or a C library failing (out of memory). Each carries the library's own code when it has one.
///
/// A simulated fault is never thrown *by the simulation*; the engine turns these errors into
/// counted events.
public enum ShardError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Why a shard or fragment could not even be parsed.
    public enum MalformedReason: Sendable, Equatable, CustomStringConvertible {
        /// Fewer bytes than the fixed header, nonce and tag need.
        case truncated(bytes: Int, minimum: Int)
        /// The magic bytes are not dcsim's.
        case badMagic
        /// A format version this build does not read.
        case unsupportedFormatVersion(UInt8)
        /// Flag bits this version does not define are set.
        case unknownFlags(UInt8)
        /// The sizes in the header disagree with each other or with the byte count.
        case sizeMismatch(field: String, header: Int, actual: Int)

        public var description: String {
            switch self {
            case let .truncated(bytes, minimum): return "truncated: \(bytes) bytes, at least \(minimum) needed"
            case .badMagic: return "bad magic bytes"
            case let .unsupportedFormatVersion(v): return "unsupported format version \(v)"
            case let .unknownFlags(f): return "unknown flag bits 0x\(String(f, radix: 16))"
            case let .sizeMismatch(field, header, actual): return "\(field) says \(header) but is \(actual)"
            }
        }
    }

    /// The payload is larger than the sealer's limit (`ShardSealer.maxPayloadBytes`).
    case payloadTooLarge(bytes: Int, limit: Int)
    /// A shard's header is unreadable or inconsistent (bit rot in the header, or not a shard).
    case malformedShard(shardID: UInt64?, reason: MalformedReason)
    /// The AES-GCM tag did not verify: the header, nonce, body or tag changed since sealing, or
    /// the key is not the one the shard was sealed with (GCM cannot tell these apart).
    case authenticationFailed(shardID: UInt64, shardKey: DataKeyID, givenKey: DataKeyID)
    /// The authenticated body did not decompress to the size the header promises. Unreachable
    /// unless GCM was forged; kept so that the read path checks every step.
    case decompressionFailed(shardID: UInt64, code: Int32)
    /// An erasure-coded fragment failed its CRC or header checks; it was treated as missing.
    case corruptFragment(index: Int, reason: String)
    /// Fewer than k intact fragments: the shard cannot be rebuilt from this set (it may be
    /// repairable from another). Never a wrong answer: the decoder refuses instead.
    case unrecoverable(intact: Int, needed: Int, corrupt: Int, missing: Int)
    /// Intact fragments disagree on the code, stripe or length (fragments of different shards
    /// were mixed up by the caller).
    case inconsistentFragments(detail: String)
    /// RS(k, m) parameters ISA-L cannot provide.
    case invalidErasureParameters(k: Int, m: Int, reason: String)
    /// A key placement policy that the topology cannot satisfy.
    case invalidKeyPlacement(policy: String, reason: String)
    /// A master key or derivation input is unusable.
    case invalidKey(reason: String)
    /// An OpenSSL call failed; `code` is `ERR_get_error()` (0 if OpenSSL queued none).
    case openSSL(operation: String, code: UInt)
    /// An LZ4 call failed with the given return value.
    case lz4(operation: String, code: Int32)
    /// Memory for a C context or scratch buffer could not be allocated.
    case outOfMemory(what: String, bytes: Int)

    /// True when the error means "these stored bytes are not intact" (count it, repair it),
    /// as opposed to a usage or library error.
    public var isIntegrityFailure: Bool {
        switch self {
        case .malformedShard, .authenticationFailed, .decompressionFailed, .corruptFragment, .unrecoverable:
            return true
        default:
            return false
        }
    }

    public var description: String {
        switch self {
        case let .payloadTooLarge(bytes, limit):
            return "payload of \(bytes) bytes exceeds the shard limit of \(limit) bytes; chunk large media into several shards or raise maxPayloadBytes"
        case let .malformedShard(id, reason):
            let who = id.map { "shard \($0)" } ?? "shard"
            return "\(who) is malformed (\(reason)); its stored bytes are damaged: read another replica or fragment set and repair this one"
        case let .authenticationFailed(id, shardKey, givenKey):
            if shardKey != givenKey {
                return "shard \(id) failed authentication: it names key \(shardKey) but key \(givenKey) was given; pass the key the shard was sealed with (or the header is damaged: read another replica)"
            }
            return "shard \(id) failed authentication (AES-GCM tag mismatch): the stored bytes changed since sealing or the key is wrong; read another replica and repair this one"
        case let .decompressionFailed(id, code):
            return "shard \(id) authenticated but did not decompress (LZ4 returned \(code)); this indicates a sealer bug: report it with the seed"
        case let .corruptFragment(index, reason):
            return "fragment \(index) is corrupt (\(reason)) and was treated as missing; rebuild it from the other fragments"
        case let .unrecoverable(intact, needed, corrupt, missing):
            return "shard is unrecoverable from this fragment set: \(intact) intact fragments, \(needed) needed (\(corrupt) corrupt, \(missing) missing); fetch fragments from other nodes or a replica"
        case let .inconsistentFragments(detail):
            return "fragments from different stripes or codes were passed together (\(detail)); pass the k+m fragments of one shard, in index order"
        case let .invalidErasureParameters(k, m, reason):
            return "RS(\(k), \(m)) is not supported: \(reason); use 1 ≤ k, 1 ≤ m, k + m ≤ \(ErasureCoder.maxFragments)"
        case let .invalidKeyPlacement(policy, reason):
            return "key placement \(policy) cannot be satisfied: \(reason); choose another policy or add data centers/jurisdictions"
        case let .invalidKey(reason):
            return "invalid key material: \(reason)"
        case let .openSSL(operation, code):
            return "OpenSSL \(operation) failed (error 0x\(String(code, radix: 16))); check that libcrypto 3.x is installed"
        case let .lz4(operation, code):
            return "LZ4 \(operation) failed (returned \(code))"
        case let .outOfMemory(what, bytes):
            return "could not allocate \(bytes) bytes for \(what); lower the shard size limit or free memory"
        }
    }
}
