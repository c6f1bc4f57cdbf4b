import Collections
import SimCore
import ShardPipeline
import Replication

// The byte half of the full-mode data path: real LZ4 + AES-256-GCM sealing, real opens, real
// RS fragments and real bit flips. `DataPath` (the model half) decides every simulated outcome
// from sizes and ground-truth flags, identically in both payload modes; it hands this store
// jobs that redo each outcome on real bytes, and the store checks that the bytes agree. The
// jobs run in submission order — on the simulation thread, or on one background thread
// (`ByteLanes`) — so the stores' state, their summed statistics and their verdicts are the
// same either way.

/// A version of a shard: the unit of sealed bytes.
struct VersionKey: Hashable, Sendable {
    var key: UInt64
    var version: UInt32
    init(_ key: ShardKey, _ version: UInt32) { self.key = key.raw; self.version = version }
}

/// One node's copy of a shard.
struct ReplicaKey: Hashable, Sendable {
    var key: UInt64
    var node: Int32
}

/// Everything needed to (re)produce a version's sealed bytes: pure functions of the scenario
/// seed, shard id and version, computed by the model half (which owns the shard records).
struct VersionSpec: Sendable {
    var version: VersionKey
    var payload: PayloadDescriptor
    var key: DataKey
    var nonce: Nonce
}

/// Work on real bytes, with the outcome the model already decided.
enum ByteJob: Sendable {
    /// A version was written: synthesise its payload, seal it, open the sealed bytes and check
    /// their identity (write-path verification); with a non-zero RS code (`k << 8 | m`), also
    /// encode its fragments from those bytes. Every later read of an intact shared copy is
    /// answered by this verdict: the shared bytes are immutable.
    case seal(VersionSpec, code: UInt16)
    /// A node stored a fragment of a version stored under RS code `code`: have its fragment set.
    case fragmentStored(VersionSpec, code: UInt16)
    /// Bit rot: flip `bits` bits of the replica's own copy, drawing from `rng` (the values the
    /// fault stream drew).
    case corrupt(ReplicaKey, VersionSpec, fragment: Int16, code: UInt16, bits: Int, rng: SimRandom)
    /// A read of a copy that is not an intact shared whole copy: a fragment (CRC-32C checked),
    /// or a corrupt copy (its own damaged bytes opened, which must fail). `corrupt` is the
    /// model's ground truth; code 0 = the version's RS code is unknown.
    case read(ReplicaKey, VersionSpec, fragment: Int16, code: UInt16, corrupt: Bool)
    /// The replica's damaged bytes were overwritten or repaired: drop them.
    case forget(ReplicaKey)
}

/// The full-mode byte store: scratch memory for sealing and opening, the RS fragment sets (a
/// cache bounded by a byte budget, oldest first), and replicas' own damaged bytes.
///
/// **Memory.** No sealed buffer outlives its job: a version is sealed, opened and verified in
/// scratch memory that is reused for the next (no page faults once it has grown). Fragment
/// sets are kept while the budget allows; an evicted set, a damaged copy's starting bytes or a
/// test's request re-seal the version (same header, nonce and plaintext; media byte for byte;
/// a text body may pick other LZ4 matches, see `LZ4BlockCodec`). The budget changes wall time
/// only.
final class ShardBytes {
    private let sealer: ShardSealer
    /// The first ``comparedPrefixBytes`` of the payload an open must produce.
    private let expected = UnsafeMutableRawBufferPointer.allocate(byteCount: ShardBytes.comparedPrefixBytes, alignment: 64)
    private var payload = ScratchMemory.allocate(byteCount: 4096)
    /// Media payloads are slices of this, not bytes written out per payload.
    private let media: MediaPool
    private var sealed = ScratchMemory.allocate(byteCount: 4096)
    private let rotRoot: UInt64
    let bufferBudgetBytes: Int

    private var fragmentSets: [VersionKey: (code: UInt16, set: [StoredFragment], bytes: Int)] = [:]
    private var cacheOrder = Deque<VersionKey>()
    private var cachedBytes = 0
    private var coders: [UInt16: ErasureCoder] = [:]
    private var damaged: [ReplicaKey: DamagedCopy] = [:]

    /// Work done (the byte half of ``DataPath/Stats``).
    private(set) var stats = DataPath.Stats()
    /// Jobs whose bytes disagreed with the model's outcome (a dcsim bug; `DataPath.finish`
    /// stops the run), and the first of them.
    private(set) var mismatches = 0
    private(set) var firstMismatch: String?

    /// - Parameters:
    ///   - rotRoot: root of the streams that materialise damage on copies flagged corrupt
    ///     without an explicit `corrupt` job.
    ///   - media: the media payloads (one pool may serve every store of a run).
    init(maxPayloadBytes: Int, bufferBudgetBytes: Int, rotRoot: UInt64, media: MediaPool) throws(ShardError) {
        sealer = try ShardSealer(maxPayloadBytes: maxPayloadBytes)
        self.media = media
        self.bufferBudgetBytes = bufferBudgetBytes
        self.rotRoot = rotRoot
    }

    deinit { ScratchMemory.deallocate(payload); ScratchMemory.deallocate(sealed); expected.deallocate() }

    func run(_ job: ByteJob) {
        switch job {
        case let .seal(spec, code): sealAndVerify(spec, code: code)
        case let .fragmentStored(spec, code): _ = fragments(spec, code: code)
        case .corrupt(let rk, let spec, let fragment, let code, let bits, var rng):
            damage(rk, spec, fragment: fragment, code: code, bits: bits, rng: &rng)
        case let .read(rk, spec, fragment, code, corrupt): read(rk, spec, fragment: fragment, code: code, corrupt: corrupt)
        case let .forget(rk): damaged[rk] = nil
        }
    }

    /// The shared sealed bytes of a version, re-sealed (tests and diagnostics).
    func sharedBytes(_ spec: VersionSpec) -> [UInt8] { reseal(spec) }

    // MARK: Jobs

    private func sealAndVerify(_ spec: VersionSpec, code: UInt16) {
        let n = spec.payload.plaintextBytes
        grow(&sealed, to: ShardSealer.sealingRoomBound(payloadBytes: n))   // LZ4 writes here too: no scratch
        let plain = synthesise(spec.payload)
        let count: Int
        do throws(ShardError) {
            count = try sealer.seal(payload: plain, shardID: spec.version.key,
                                    version: spec.version.version, key: spec.key, nonce: spec.nonce, into: sealed)
        } catch {
            // `DataPath.init` checked every payload fits; what remains is OpenSSL or liblz4
            // failing (out of memory): an internal error, not a simulated outcome.
            preconditionFailure("sealing shard \(spec.version.key) v\(spec.version.version) failed: \(error)")
        }
        stats.sealedRealBytes += count
        let bytes = UnsafeRawBufferPointer(rebasing: sealed[0..<count])
        stats.opened += 1
        let prefix = Swift.min(n, ShardBytes.comparedPrefixBytes)
        if prefix > 0 { expected.baseAddress!.copyMemory(from: plain.baseAddress!, byteCount: prefix) }
        let intact = openAndCompare(bytes, spec)   // into the payload scratch: `plain` is not needed after this
        expect(intact, true, "a freshly sealed copy of shard \(spec.version.key) v\(spec.version.version) failed to open")
        if code != 0 { _ = fragments(spec, code: code, sealedBytes: bytes) }
    }

    private func read(_ rk: ReplicaKey, _ spec: VersionSpec, fragment: Int16, code: UInt16, corrupt: Bool) {
        let vk = spec.version
        guard corrupt else {
            // Only fragments come here intact: whole shared copies were verified when sealed.
            let set = fragments(spec, code: code)
            let intact = fragment >= 0 && Int(fragment) < set.count
                ? fragmentIntact(set[Int(fragment)], index: Int(fragment), code: code)
                : unverified(flaggedCorrupt: false)
            expect(intact, true, "intact fragment \(fragment) of shard \(vk.key) v\(vk.version) on node \(rk.node) failed its check")
            return
        }
        // A corrupt copy: its own damaged bytes (materialised now, from a stream derived from
        // the seed, node, shard and version, if the fault did not go through `corrupt`).
        if damaged[rk].map({ $0.version != vk.version || $0.index != fragment }) ?? true {
            var rng = SimRandom(seed: mix64(rotRoot ^ mix64(vk.key ^ UInt64(rk.node) << 40) ^ UInt64(vk.version)))
            damage(rk, spec, fragment: fragment, code: code, bits: 1, rng: &rng)
        }
        let d = damaged[rk]!
        let intact: Bool
        if let piece = d.piece {
            intact = fragmentIntact(piece, index: Int(fragment), code: code)
        } else {
            stats.opened += 1
            let prefix = Swift.min(spec.payload.plaintextBytes, ShardBytes.comparedPrefixBytes)
            PayloadSynthesizer.fill(UnsafeMutableRawBufferPointer(rebasing: expected[0..<prefix]),
                                    kind: spec.payload.kind, seed: spec.payload.contentSeed)   // a prefix of the payload
            intact = d.shard!.bytes!.withUnsafeBytes { openAndCompare($0, spec) }
        }
        expect(intact, false, "bit rot on shard \(vk.key) v\(vk.version), node \(rk.node) went undetected")
        if !intact { stats.damageDetected += 1 }
    }

    /// Flips bits of a replica's own copy (starting from its current damage if it has the same
    /// version and fragment, else from the intact bytes).
    private func damage(_ rk: ReplicaKey, _ spec: VersionSpec, fragment: Int16, code: UInt16, bits: Int, rng: inout SimRandom) {
        let vk = spec.version
        var d: DamagedCopy
        if let old = damaged[rk], old.version == vk.version, old.index == fragment {
            d = old
        } else if fragment < 0 {
            d = DamagedCopy(version: vk.version, index: -1, shard: StoredShard(digest: digest(spec), bytes: reseal(spec)), piece: nil)
        } else {
            let set = fragments(spec, code: code)
            let f = Int(fragment) < set.count ? set[Int(fragment)] : StoredFragment(shard: digest(spec), storedBytes: 0, fragment: nil)
            d = DamagedCopy(version: vk.version, index: fragment, shard: nil, piece: f)
        }
        damaged[rk] = nil   // drop the dictionary's reference: the flip below then copies only shared bytes
        if d.piece != nil { d.piece!.injectBitRot(bits: bits, using: &rng) } else { d.shard!.injectBitRot(bits: bits, using: &rng) }
        damaged[rk] = d
    }

    // MARK: Bytes

    /// Plaintext bytes compared with the payload on every open.
    static let comparedPrefixBytes = 256

    /// Opens `shard` into the payload scratch (header checks, GCM tag over every byte, LZ4),
    /// then checks the identity: the header names this shard, version and key, the plaintext
    /// has the payload's length, and its first ``comparedPrefixBytes`` are the payload's, which
    /// the caller put in `expected` (a content check that catches a copy of another shard or
    /// version; the GCM tag already proves the rest is what was sealed). Any failure —
    /// integrity or identity — means the copy is not intact.
    private func openAndCompare(_ shard: UnsafeRawBufferPointer, _ spec: VersionSpec) -> Bool {
        let n = spec.payload.plaintextBytes
        grow(&payload, to: n)
        do throws(ShardError) {
            let got = try sealer.open(shard, key: spec.key, into: UnsafeMutableRawBufferPointer(rebasing: payload[0..<n]))
            let header = try ShardHeader(parsing: shard)
            guard got == n, header.shardID == spec.version.key, header.version == spec.version.version,
                  header.keyID == spec.key.id else { return false }
        } catch {
            return false
        }
        let prefix = Swift.min(n, ShardBytes.comparedPrefixBytes)
        return prefix == 0 || memcmp(payload.baseAddress!, expected.baseAddress!, prefix) == 0
    }

    /// Seals a version into a new array (a damaged copy's starting bytes, an evicted fragment
    /// set's source, a test's request).
    private func reseal(_ spec: VersionSpec) -> [UInt8] {
        let plain = synthesise(spec.payload)
        stats.resealed += 1
        do throws(ShardError) {
            return try sealer.seal(payload: plain, shardID: spec.version.key,
                                   version: spec.version.version, key: spec.key, nonce: spec.nonce)
        } catch {
            preconditionFailure("re-sealing shard \(spec.version.key) v\(spec.version.version) failed: \(error)")
        }
    }

    /// The payload's bytes: a slice of the media pool, or text written into scratch (valid
    /// until the next call).
    private func synthesise(_ payload: PayloadDescriptor) -> UnsafeRawBufferPointer {
        let n = payload.plaintextBytes
        if payload.kind != .text { return media.payload(seed: payload.contentSeed, count: n) }
        grow(&self.payload, to: n)
        let plain = UnsafeMutableRawBufferPointer(rebasing: self.payload[0..<n])
        PayloadSynthesizer.fill(plain, kind: .text, seed: payload.contentSeed)
        return UnsafeRawBufferPointer(plain)
    }

    /// The fragment set of a version under RS code `code` (cached; encoded with ISA-L from
    /// `sealedBytes`, or from a re-seal); none for code 0 (the version's code is unknown).
    private func fragments(_ spec: VersionSpec, code: UInt16, sealedBytes: UnsafeRawBufferPointer? = nil) -> [StoredFragment] {
        guard code != 0 else { return [] }
        let vk = spec.version
        if let cached = fragmentSets[vk], cached.code == code { return cached.set }
        let coder = self.coder(code)
        let encoded: [Fragment]
        if let sealedBytes {
            encoded = coder.encode(sealedBytes, stripeID: vk.key)
        } else {
            encoded = reseal(spec).withUnsafeBytes { coder.encode($0, stripeID: vk.key) }
        }
        let shard = digest(spec)
        let set = encoded.map { StoredFragment(shard: shard, storedBytes: 0, fragment: $0) }
        stats.fragmentSetsEncoded += 1
        let bytes = encoded.reduce(0) { $0 + $1.bytes.count }
        if let replaced = fragmentSets.updateValue((code, set, bytes), forKey: vk) {
            cachedBytes -= replaced.bytes   // another code for the same version
        } else {
            cacheOrder.append(vk)
        }
        cachedBytes += bytes
        evict()
        return set
    }

    private func evict() {
        while cachedBytes > bufferBudgetBytes, cacheOrder.count > 1, let old = cacheOrder.popFirst() {
            if let entry = fragmentSets.removeValue(forKey: old) { cachedBytes -= entry.bytes }
            stats.evictions += 1
        }
    }

    private func coder(_ code: UInt16) -> ErasureCoder {
        if let c = coders[code] { return c }
        let k = Int(code >> 8), m = Int(code & 0xFF)
        do throws(ShardError) {
            let c = try ErasureCoder(k: k, m: m)
            coders[code] = c
            return c
        } catch {
            preconditionFailure("RS(\(k), \(m)) passed the bounds check but failed: \(error)")
        }
    }

    /// Checks a fragment's real bytes (CRC-32C, index, code, length).
    private func fragmentIntact(_ piece: StoredFragment, index: Int, code: UInt16) -> Bool {
        guard code != 0, let fragment = piece.fragment else { return unverified(flaggedCorrupt: piece.isCorrupted) }
        return coder(code).check(fragment, index: index) == nil
    }

    /// A fragment read with no real fragment to check (its code was never reported): answered
    /// by its flag, and counted.
    private func unverified(flaggedCorrupt: Bool) -> Bool {
        stats.fragmentsUnverified += 1
        return !flaggedCorrupt
    }

    private func digest(_ spec: VersionSpec) -> ShardDigest {
        ShardDigest(storedBytes: 0, checksum: 0, keyID: spec.key.id)
    }

    private func expect(_ got: Bool, _ want: Bool, _ what: @autoclosure () -> String) {
        guard got != want else { return }
        mismatches += 1
        if firstMismatch == nil { firstMismatch = what() }
    }

    private func grow(_ buffer: inout UnsafeMutableRawBufferPointer, to bytes: Int) {
        ScratchMemory.reserve(&buffer, bytes, limit: ShardSealer.sealingRoomBound(payloadBytes: sealer.maxPayloadBytes))
    }

    /// A replica's own damaged bytes: a whole copy (`shard`) or fragment `index` (`piece`).
    private struct DamagedCopy {
        var version: UInt32
        var index: Int16
        var shard: StoredShard?
        var piece: StoredFragment?
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
