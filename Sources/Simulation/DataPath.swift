import Collections
import SimCore
import SimConfig
import Replication
import ShardPipeline

// The shard data path as the engine drives it: every cloud message version becomes a sealed
// shard (full mode: real LZ4 + AES-256-GCM bytes; sizes mode: a digest), every read that finds
// a copy verifies it, bit rot damages real bytes, and key placement says who can decrypt.
//
// Storage fault model, in prose: a node's copy of a shard is either *intact* (its bytes are
// the shared sealed buffer of that version, or that version's RS fragment) or *corrupt* (bit
// rot flipped bits of that replica's own copy of the bytes). A read opens the node's bytes:
// any flipped bit fails the header checks or the GCM tag (a replica) or the CRC-32C (a
// fragment), so corruption is detected, counted by the engine and answered as missing —
// never returned. The engine's `NodeStore` keeps the per-copy `corrupt` flag (the ground
// truth, identical in both payload modes); this type keeps the bytes behind it and decides
// the read from the bytes in full mode (debug builds assert the two agree).
//
// Determinism: nothing here draws from the engine's streams. Keys, nonces and payload
// contents derive from the scenario seed by specified functions of (shard id, version), so
// both payload modes see exactly the same random streams and the same simulated metrics —
// and full mode can re-seal any version after dropping its buffer.
//
// **Simulation only.** Master keys, data keys and nonces all derive from the run's seed (see
// `KeyHierarchy`), so a run is reproducible byte for byte — and anyone who knows the seed can
// decrypt everything. The cryptography is real so that its cost, sizes and failure behaviour
// are real; its secrecy is not. Keys never appear in reports or logs.

/// The engine's shard data path in either payload mode.
///
/// **Memory.** Replicas share bytes: one sealed buffer per (shard, version) serves every
/// replica, however many nodes hold it; storage is still accounted per replica (the engine's
/// `NodeStore` counts `storedBytes` per copy). A replica hit by bit rot gets its own damaged
/// copy. Shared buffers (and RS fragment sets) live in a cache bounded by
/// ``bufferBudgetBytes``, evicted oldest first: since a version's payload, key and nonce are
/// pure functions of the seed, shard id and version, an evicted buffer that a read (or a
/// lagging replica holding an old version) needs again is re-sealed — the same header, nonce
/// and plaintext; media byte for byte; a text body may differ in the LZ4 matches chosen,
/// because the sealer's fast-reset LZ4 state remembers earlier blocks (`LZ4BlockCodec`), and
/// it is opened and compared like any other. Reports never depend on the bytes (sizes come
/// from ``ShardSizeModel``), so the budget changes wall time only. This is the choice over
/// "free a version when no replica can still need it": it needs no reference counts across the
/// strategies' puts, drops and disk losses, bounds memory for any run length, and costs one
/// re-seal only for reads of versions older than the cache holds. Sizes mode holds no bytes:
/// 16 bytes per shard (kind, size, home, newest version).
///
/// **What is real.** Full mode: every first write of a version seals real bytes (synthesised
/// payload, LZ4, AES-256-GCM with a seed-derived key and nonce); every read that finds a whole
/// copy opens it for real (header checks, GCM tag, LZ4) and checks its identity: the header's
/// shard id, version and key id, the plaintext length, and the plaintext's first 256 bytes
/// against the payload it must be — once per distinct byte buffer: replicas share one
/// immutable sealed buffer, so a later read of the same intact buffer reuses its verdict
/// (`verified`), while every damaged copy (its own bytes) is opened on every read;
/// a fragment read checks the real fragment (CRC-32C, index, code, length) produced by ISA-L
/// from the real sealed bytes. Not real: the RS *decode* a strategy performs when it has k
/// fragments happens inside the strategy's state machine, which sees only completions, so the
/// engine verifies each fragment where it is read, not the reassembled shard. Sizes mode
/// compares content checksums and reads the ground-truth flag.
struct DataPath {
    /// Shards per data key: shard `s` uses key number `s / shardsPerDataKey` of its key
    /// jurisdiction (a key epoch), so a run derives one data key per 256 shards.
    static let shardsPerDataKey: UInt64 = 256
    /// Default cap on cached sealed bytes (full mode).
    static let defaultBufferBudgetBytes = 256 << 20
    /// The per-shard payload limit in full mode (a message larger than this would be several
    /// shards — chunks — in a real system; dcsim's workload keeps messages to one shard).
    static let maxPayloadBytes = ShardFormat.defaultMaxPayloadBytes

    let mode: PayloadMode
    let policy: KeyPlacementPolicy
    /// Cap on the bytes of shared sealed buffers and fragment sets kept (full mode).
    let bufferBudgetBytes: Int

    private let codec: ShardCodec
    private let keys: DataKeyCache
    private let keyTopology: KeyPlacementTopology
    /// Payload kind per message class (text → `.text`, compressible flag false → `.media`).
    private let kindOfClass: [PayloadKind]
    /// Roots of the derived streams (from the scenario seed, by label).
    private let contentRoot: UInt64, nonceRoot: UInt64, rotRoot: UInt64

    /// Per shard, dense by shard id.
    private var shards: [ShardRecord] = []
    /// Sizes of versions that a newer version superseded (rarely needed: lagging replicas).
    private var olderVersions: [VersionKey: Int32] = [:]
    /// Key placements by `home * KeyHolders.buckets + bucket` (the same choice as the engine's
    /// key-reachability table, `KeyHolders`, so sealing and reachability agree on the holders).
    private let placements: [KeyPlacement]

    // Full mode only.
    private var sealed: [VersionKey: StoredShard] = [:]
    private var fragmentSets: [VersionKey: [StoredFragment]] = [:]
    /// RS(k, m) per fragmented version, packed as `k << 8 | m`.
    private var codes: [VersionKey: UInt16] = [:]
    private var coders: [UInt16: ErasureCoder] = [:]
    /// Cache entries, oldest first (eviction order never affects results, only wall time).
    private var cacheOrder = Deque<CacheEntry>()
    private var cachedBytes = 0
    private let scratch: ReadScratch?
    /// Cached shared buffers that have already been opened and verified intact (full mode).
    /// A shared buffer never changes (bit rot damages a replica's own copy, see `damage`), so
    /// opening it again with the same key would redo identical work with the identical result;
    /// the mark lives exactly as long as the buffer (eviction clears it, a re-seal is opened
    /// afresh). Damaged copies are always opened.
    private var verified = Set<VersionKey>()

    /// Damaged replicas (both modes: in sizes mode a digest flagged corrupted).
    private var damaged: [ReplicaKey: DamagedCopy] = [:]

    /// Work done (diagnostics for performance figures; never part of the deterministic report).
    private(set) var stats = Stats()

    struct Stats: Sendable, Equatable {
        /// Versions sealed on write, and re-sealed after eviction (full mode).
        var sealed = 0, resealed = 0
        /// Real sealed bytes produced (full mode; the report accounts modelled sizes).
        var sealedRealBytes = 0
        /// Whole copies opened, fragments checked, copies found damaged by the bytes.
        var opened = 0, fragmentsChecked = 0, damageDetected = 0
        /// Intact reads of a shared buffer that was already opened and verified (full mode).
        var openedBefore = 0
        /// Fragment sets encoded with ISA-L (full mode).
        var fragmentSetsEncoded = 0
        /// Fragment reads whose code was unknown (stored without ``fragmentStored``).
        var fragmentsUnverified = 0
        /// Cache evictions (full mode).
        var evictions = 0
    }

    /// Builds the data path for a scenario: derives the master keys, checks the key placement
    /// against the topology and, in full mode, that every message fits one shard.
    /// - Throws: ``Simulator/SetupError`` naming the problem and the fix.
    init(scenario: Scenario, bufferBudgetBytes: Int = DataPath.defaultBufferBudgetBytes) throws {
        let topology = scenario.topology
        mode = scenario.payload
        policy = scenario.keyPlacement
        self.bufferBudgetBytes = bufferBudgetBytes
        keyTopology = KeyPlacementTopology(jurisdictionOfDC: topology.datacenters.map(\.jurisdiction),
                                           regionOfDC: topology.datacenters.map(\.region))
        kindOfClass = scenario.workload.messageMix.map { $0.compressible ? .text : .media }
        let seed = scenario.seed
        var roots = SimRandom(root: seed, label: "shard-pipeline/derivation")
        contentRoot = roots.next(); nonceRoot = roots.next(); rotRoot = roots.next()
        if mode == .full {
            for c in scenario.workload.messageMix {
                let largest = DataPath.upperBound(c.size)
                guard largest <= Double(DataPath.maxPayloadBytes) else {
                    throw Simulator.SetupError(description: "\(scenario.source): error: workload.mix.\(c.name).size: "
                        + "with payload 'full' every message must fit one shard of at most \(DataPath.maxPayloadBytes >> 20) MiB, "
                        + "but this size distribution \(largest.isFinite ? "reaches \(Int(largest)) bytes" : "is unbounded"); "
                        + "add 'max: 64MiB' to it, or run with --payload sizes")
                }
            }
        }
        do throws(ShardError) {
            try policy.validate(topology: keyTopology)
            var table: [KeyPlacement] = []
            for home in 0..<keyTopology.dcCount {
                for bucket in 0..<KeyHolders.buckets {
                    table.append(try policy.place(dataDC: home, topology: keyTopology, choice: UInt64(bucket)))
                }
            }
            placements = table
        } catch {
            throw Simulator.SetupError(description: "\(scenario.source): error: key_placement: \(error)")
        }
        do throws(ShardError) {
            codec = try ShardCodec(mode: mode, maxPayloadBytes: DataPath.maxPayloadBytes)
            keys = DataKeyCache(hierarchy: try KeyHierarchy(seed: seed, jurisdictions: topology.jurisdictions.count),
                                capacity: 4096)
        } catch {
            // OpenSSL or liblz4 could not create a context: an internal error (exit code 3).
            preconditionFailure("the shard pipeline could not start: \(error)")
        }
        scratch = mode == .full ? ReadScratch() : nil
        if mode == .full { _ = DataPath.reuseFreedBuffers }
    }

    /// Full mode allocates and frees a sealed buffer (up to 64 MiB) per version. glibc serves
    /// blocks above 128 KiB with fresh `mmap`s and unmaps them on free, so every byte sealed
    /// paid a page fault and a page clear (a fifth of a full run); keeping blocks up to
    /// glibc's largest threshold (32 MiB on 64-bit) in the heap lets evicted buffers' memory
    /// be reused. Process-wide, set once; changes wall time only.
    static let reuseFreedBuffers: Void = {
        #if os(Linux)
        _ = glibcMallopt(-3 /* M_MMAP_THRESHOLD */, Int32(4 * 1024 * 1024 * MemoryLayout<Int>.size))
        _ = glibcMallopt(-1 /* M_TRIM_THRESHOLD */, Int32(DataPath.defaultBufferBudgetBytes))
        #endif
    }()

    // MARK: Sizes

    /// The largest value `d` can sample (`+infinity` for an unbounded shape without `max`).
    static func upperBound(_ d: Distribution) -> Double {
        var ub: Double
        switch d.shape {
        case .constant(let v): ub = v
        case .uniform(let lo, let hi): ub = Swift.max(lo, hi)
        case .exponential, .normal, .logNormal, .pareto: ub = .infinity
        case .mixture(let cs): ub = cs.map { upperBound($0.distribution) }.max() ?? 0
        case .empirical(let points): ub = points.map(\.value).max() ?? 0
        }
        ub += d.offset
        // Same order as `Distribution.sample`: raise to `min`, then lower to `max`.
        if let lo = d.min { ub = Swift.max(ub, lo) }
        if let hi = d.max { ub = Swift.min(ub, hi) }
        return ub
    }

    /// The stored size of each RS(k, ·) fragment of a shard of `storedBytes` (the real
    /// 24-byte fragment header plus `ceil(storedBytes / k)`), in both modes.
    static func fragmentBytes(storedBytes: Int, k: Int) -> Int {
        precondition(k >= 1, "k must be at least 1, got \(k)")
        return Fragment.storedBytes(shardBytes: storedBytes, k: k)
    }

    // MARK: Writing

    /// Seals version `version` of shard `key` (a new message, or an edit) and returns its
    /// stored size, identical in both modes (``ShardSizeModel``).
    ///
    /// Full mode synthesises the payload (``PayloadSynthesizer``; content seed from the scenario
    /// seed, shard id and version), seals it with the shard's data key and a seed-derived nonce,
    /// and keeps the sealed buffer for every replica to share. Sizes mode computes the digest.
    /// - Parameters:
    ///   - home: the shard's home DC (its key placement follows from it).
    ///   - messageClass: index into the scenario's message mix.
    mutating func seal(key: ShardKey, home: Int, messageClass: Int, plaintextBytes: Int, version: UInt32) -> Int {
        precondition(plaintextBytes >= 0 && plaintextBytes <= Int(Int32.max), "payload size \(plaintextBytes) out of range")
        let index = Int(key.raw)
        precondition(index <= shards.count, "shard ids must be dense: got \(key.raw) after \(shards.count) shards")
        let record = ShardRecord(home: Int32(home), kind: kindOfClass[messageClass].code,
                                 newestVersion: version, plaintextBytes: Int32(plaintextBytes))
        if index == shards.count {
            shards.append(record)
        } else if version != shards[index].newestVersion {
            let old = shards[index]
            if version > old.newestVersion {
                olderVersions[VersionKey(key, old.newestVersion)] = old.plaintextBytes
                shards[index] = record
            } else {
                olderVersions[VersionKey(key, version)] = Int32(plaintextBytes)
            }
        }
        let shard = makeShard(key: key, version: version, plaintextBytes: plaintextBytes)
        stats.sealed += 1
        if mode == .full { cache(shard, VersionKey(key, version)) }
        return shard.storedBytes
    }

    /// Records that a node stored fragment `index` of version `version` under RS(k, n - k):
    /// in full mode, the first such store encodes the real fragments (ISA-L, CRC-32C each) from
    /// the real sealed bytes. Best effort: without this call a fragment read is not verified
    /// against real bytes (counted in ``Stats/fragmentsUnverified``).
    /// - Parameters:
    ///   - k: fragments needed to read (the strategy's `fragmentsNeededToRead`).
    ///   - n: fragments in all (the strategy's placement size for the key).
    mutating func fragmentStored(key: ShardKey, version: UInt32, index: Int, k: Int, n: Int) {
        guard mode == .full, index >= 0, k >= 1, n > k, n <= ErasureCoder.maxFragments,
              Int(key.raw) < shards.count else { return }
        let vk = VersionKey(key, version)
        guard codes[vk] == nil else { return }
        codes[vk] = UInt16(k) << 8 | UInt16(n - k)
        _ = fragments(vk)
    }

    // MARK: Reading

    /// Whether `node`'s copy of `key` reads intact. Call it for every read that found a copy;
    /// `false` means corruption detected (count it, answer `.missing`).
    ///
    /// Full mode opens the node's real bytes (a whole copy: header, GCM tag, LZ4, plaintext and
    /// identity compared; a fragment: its CRC-32C and header), so a corrupt copy fails because
    /// its bytes fail. Sizes mode checks the content checksum and the corruption flag.
    /// A tombstone carries no sealed bytes: it reads intact unless flagged corrupt.
    mutating func readIntact(key: ShardKey, node: Int, copy: NodeStore.Copy) -> Bool {
        if copy.tombstone { return !copy.corrupt }
        let index = Int(key.raw)
        guard index < shards.count else {
            assertionFailure("read of shard \(key.raw) that was never sealed")
            return !copy.corrupt
        }
        let vk = VersionKey(key, copy.stamp.version)
        let rk = ReplicaKey(key: key.raw, node: Int32(node))
        if !copy.corrupt {
            if damaged[rk] != nil { damaged[rk] = nil }   // repaired or overwritten since
            let intact: Bool
            if copy.fragment < 0 {
                if verified.contains(vk) {
                    // These very bytes (the shared buffer, unchanged since) opened intact before.
                    stats.openedBefore += 1
                    intact = true
                } else {
                    let shared = shard(vk)
                    intact = wholeCopyIntact(vk, shared)
                    if intact, mode == .full, sealed[vk] != nil { verified.insert(vk) }
                }
            } else {
                intact = fragmentIntact(vk, index: Int(copy.fragment), nil)
            }
            assert(intact, "intact copy of shard \(key.raw) v\(copy.stamp.version) on node \(node) failed verification")
            return intact
        }
        // A corrupt copy: its own damaged bytes (materialised now, from a stream derived from
        // the seed, node, shard and version, if the fault did not go through `corrupt`).
        if damaged[rk].map({ $0.version != vk.version || $0.index != copy.fragment }) ?? true {
            var rng = SimRandom(seed: mix64(rotRoot ^ mix64(key.raw ^ UInt64(node) << 40) ^ UInt64(vk.version)))
            damage(rk, vk, fragment: Int(copy.fragment), bits: 1, rng: &rng)
        }
        let d = damaged[rk]!
        let intact = d.piece.map { fragmentIntact(vk, index: Int(copy.fragment), $0) } ?? wholeCopyIntact(vk, d.shard!)
        assert(!intact, "bit rot on shard \(key.raw) v\(vk.version), node \(node) went undetected")
        if !intact { stats.damageDetected += 1 }
        return intact
    }

    // MARK: Bit rot

    /// Bit rot on `node`'s copy of `key` (the copy the engine's `NodeStore` holds, `copy`):
    /// that replica gets its own copy of the bytes with `bits` real flipped bits (full mode;
    /// sizes mode flags its digest). Draws exactly `bits` values from `rng` in both modes.
    /// The caller marks the copy corrupt in its `NodeStore` (see `Engine.corruptCopy`).
    mutating func corrupt(key: ShardKey, node: Int, copy: NodeStore.Copy, bits: Int = 1, rng: inout SimRandom) {
        precondition(bits >= 1, "bit rot must flip at least one bit")
        guard !copy.tombstone, Int(key.raw) < shards.count else {
            for _ in 0..<bits { _ = rng.next() }   // same draws whatever the copy holds
            return
        }
        damage(ReplicaKey(key: key.raw, node: Int32(node)), VersionKey(key, copy.stamp.version),
               fragment: Int(copy.fragment), bits: bits, rng: &rng)
    }

    /// Flips bits of a replica's own copy (starting from its current damage if it has the same
    /// version and fragment, else from the intact bytes).
    private mutating func damage(_ rk: ReplicaKey, _ vk: VersionKey, fragment: Int, bits: Int, rng: inout SimRandom) {
        var d: DamagedCopy
        if let old = damaged[rk], old.version == vk.version, old.index == Int16(fragment) {
            d = old
        } else if fragment < 0 {
            d = DamagedCopy(version: vk.version, index: -1, shard: shard(vk), piece: nil)
        } else {
            let set = fragments(vk)
            let f = fragment < set.count ? set[fragment] : StoredFragment(shard: shard(vk).digest, storedBytes: 0, fragment: nil)
            d = DamagedCopy(version: vk.version, index: Int16(fragment), shard: nil, piece: f)
        }
        damaged[rk] = nil   // drop the dictionary's reference: the flip below then copies only shared bytes
        if d.piece != nil { d.piece!.injectBitRot(bits: bits, using: &rng) } else { d.shard!.injectBitRot(bits: bits, using: &rng) }
        damaged[rk] = d
    }

    // MARK: Keys

    /// The DCs holding the key of shard `key` whose data belongs to DC `home`, and how many of
    /// them a decryption needs: the scenario's ``KeyPlacementPolicy`` placed with the shard's
    /// `KeyHolders.bucket(of:)` as its choice (tabulated at start; no allocation).
    func keyHolders(home: Int, key: ShardKey) -> KeyPlacement {
        placements[home * KeyHolders.buckets + KeyHolders.bucket(of: key)]
    }

    /// Whether a reader who can reach the DCs in `reachable` can obtain the key of `key`
    /// ("readable copies need a reachable key": a shard whose holders are all unreachable is
    /// stored but unreadable).
    func canDecrypt(key: ShardKey, home: Int, reachable: DCSet) -> Bool {
        keyHolders(home: home, key: key).canDecrypt(reachable: reachable)
    }

    /// Whether an adversary holding every disk in `seized` can read `key`'s plaintext: enough
    /// key holders *and* enough data (`copiesNeeded` of the copies whose DCs are `dataDCs`:
    /// 1 for replicas, k for RS(k, m) fragments).
    func adversaryCanDecrypt<S: Sequence>(key: ShardKey, home: Int, seized: DCSet, dataDCs: S,
                                                   copiesNeeded: Int = 1) -> Bool where S.Element == Int {
        keyHolders(home: home, key: key).adversaryCanDecrypt(seized: seized, dataDCs: dataDCs, copiesNeeded: copiesNeeded)
    }

    /// The public id of the data key that seals `key` (derivation inputs, never key material).
    func dataKeyID(key: ShardKey, home: Int) -> DataKeyID {
        DataKeyID(jurisdiction: UInt32(keyHolders(home: home, key: key).keyJurisdiction),
                  keyID: UInt32(truncatingIfNeeded: key.raw / DataPath.shardsPerDataKey))
    }

    /// The shared sealed bytes of a version (full mode; re-sealed if evicted), for tests and
    /// diagnostics. Never logged: they are ciphertext, but the keys behind them derive from the seed.
    mutating func sharedBytes(key: ShardKey, version: UInt32) -> [UInt8]? {
        guard Int(key.raw) < shards.count else { return nil }
        return shard(VersionKey(key, version)).bytes
    }

    // MARK: Internals

    /// The payload of a version, as a description (both modes).
    private func descriptor(_ vk: VersionKey) -> PayloadDescriptor {
        let r = shards[Int(vk.key)]
        let size = vk.version == r.newestVersion ? r.plaintextBytes : (olderVersions[vk] ?? r.plaintextBytes)
        return PayloadDescriptor(kind: r.kind == PayloadKind.text.code ? .text : .media, plaintextBytes: Int(size),
                                 contentSeed: mix64(contentRoot ^ mix64(vk.key) ^ UInt64(vk.version) &* 0x9E37_79B9_7F4A_7C15))
    }

    /// Seals a version (deterministic: the same bytes every time).
    private mutating func makeShard(key: ShardKey, version: UInt32, plaintextBytes: Int) -> StoredShard {
        let vk = VersionKey(key, version)
        let dataKey = self.dataKey(vk)
        var nonceStream = SimRandom(seed: mix64(nonceRoot ^ mix64(key.raw) ^ UInt64(version) &* 0xD1B5_4A32_D192_ED03))
        do throws(ShardError) {
            let shard = try codec.write(descriptor(vk), shardID: key.raw, version: version,
                                        key: dataKey, nonce: Nonce.random(using: &nonceStream))
            stats.sealedRealBytes += shard.realBytes ?? 0
            return shard
        } catch {
            // `init` checked every payload fits; what remains is OpenSSL or liblz4 failing
            // (out of memory): an internal error, not a simulated outcome.
            preconditionFailure("sealing shard \(key.raw) v\(version) failed: \(error)")
        }
    }

    private mutating func dataKey(_ vk: VersionKey) -> DataKey {
        let id = dataKeyID(key: ShardKey(vk.key), home: Int(shards[Int(vk.key)].home))
        do throws(ShardError) { return try keys.key(id) } catch {
            preconditionFailure("deriving data key \(id) failed: \(error)")
        }
    }

    /// The shared sealed copy of a version: cached, or re-sealed (full mode); the digest (sizes).
    private mutating func shard(_ vk: VersionKey) -> StoredShard {
        if let s = sealed[vk] { return s }
        let s = makeShard(key: ShardKey(vk.key), version: vk.version, plaintextBytes: descriptor(vk).plaintextBytes)
        if mode == .full {
            stats.resealed += 1
            cache(s, vk)
        }
        return s
    }

    /// The shared fragment set of a fragmented version (full mode), encoding it if needed.
    private mutating func fragments(_ vk: VersionKey) -> [StoredFragment] {
        if let f = fragmentSets[vk] { return f }
        guard let code = codes[vk] else { return [] }
        let k = Int(code >> 8), m = Int(code & 0xFF)
        let coder: ErasureCoder
        if let c = coders[code] { coder = c } else {
            do throws(ShardError) { coder = try ErasureCoder(k: k, m: m) } catch {
                preconditionFailure("RS(\(k), \(m)) passed the bounds check but failed: \(error)")
            }
            coders[code] = coder
        }
        let set = codec.encode(shard(vk), coder: coder, stripeID: vk.key)
        stats.fragmentSetsEncoded += 1
        fragmentSets[vk] = set
        addToCache(.fragments(vk), bytes: set.reduce(0) { $0 + ($1.fragment?.bytes.count ?? 0) })
        return set
    }

    /// Opens a whole copy for real (full mode) or checks its digest (sizes mode).
    private mutating func wholeCopyIntact(_ vk: VersionKey, _ copy: StoredShard) -> Bool {
        stats.opened += 1
        let key = dataKey(vk)
        guard let scratch, let sealer = codec.sealer, let bytes = copy.bytes else {
            let expected = ShardDigest.checksum(shardID: vk.key, version: vk.version, keyID: key.id, payload: descriptor(vk))
            do throws(ShardError) {
                return try codec.read(copy, key: key) == .intact && copy.digest.checksum == expected
            } catch {
                preconditionFailure("sizes-mode read failed: \(error)")
            }
        }
        let payload = descriptor(vk)
        return scratch.openAndCompare(bytes, sealer: sealer, key: key, payload: payload, shardID: vk.key, version: vk.version)
    }

    /// Checks a fragment (full mode: the real bytes; sizes mode or unknown code: the flag).
    private mutating func fragmentIntact(_ vk: VersionKey, index: Int, _ own: StoredFragment?) -> Bool {
        stats.fragmentsChecked += 1
        guard mode == .full, let code = codes[vk] else {
            if mode == .full { stats.fragmentsUnverified += 1 }
            return !(own?.isCorrupted ?? false)
        }
        let f = own ?? { let set = fragments(vk); return index < set.count ? set[index] : nil }()
        guard let fragment = f?.fragment, let coder = coders[code] else {
            stats.fragmentsUnverified += 1
            return !(own?.isCorrupted ?? false)
        }
        return coder.check(fragment, index: index) == nil
    }

    private mutating func cache(_ shard: StoredShard, _ vk: VersionKey) {
        guard sealed[vk] == nil else { return }
        sealed[vk] = shard
        addToCache(.shard(vk), bytes: shard.realBytes ?? 0)
    }

    private mutating func addToCache(_ entry: CacheEntry, bytes: Int) {
        cacheOrder.append(entry)
        cachedBytes += bytes
        while cachedBytes > bufferBudgetBytes, cacheOrder.count > 1, let old = cacheOrder.popFirst() {
            switch old {
            case .shard(let vk):
                if let s = sealed.removeValue(forKey: vk) { cachedBytes -= s.realBytes ?? 0 }
                verified.remove(vk)
            case .fragments(let vk):
                if let set = fragmentSets.removeValue(forKey: vk) {
                    cachedBytes -= set.reduce(0) { $0 + ($1.fragment?.bytes.count ?? 0) }
                }
            }
            stats.evictions += 1
        }
    }

    // MARK: Types

    private struct ShardRecord {
        var home: Int32
        var kind: UInt8
        var newestVersion: UInt32
        var plaintextBytes: Int32
    }

    private struct VersionKey: Hashable {
        var key: UInt64
        var version: UInt32
        init(_ key: ShardKey, _ version: UInt32) { self.key = key.raw; self.version = version }
    }

    private struct ReplicaKey: Hashable {
        var key: UInt64
        var node: Int32
    }

    /// A replica's own damaged bytes: a whole copy (`shard`) or fragment `index` (`piece`).
    private struct DamagedCopy {
        var version: UInt32
        var index: Int16
        var shard: StoredShard?
        var piece: StoredFragment?
    }

    private enum CacheEntry {
        case shard(VersionKey)
        case fragments(VersionKey)
    }
}

/// Scratch memory for opening shards and synthesising the payload they must hold (full mode).
private final class ReadScratch {
    private var plain = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 64)
    private let expected = UnsafeMutableRawBufferPointer.allocate(byteCount: ReadScratch.comparedPrefixBytes, alignment: 64)

    deinit { plain.deallocate(); expected.deallocate() }

    private func reserve(_ bytes: Int) {
        guard bytes > plain.count else { return }
        plain.deallocate()
        // Past 1 MiB, straight to the limit: its pages are faulted in once, not per doubling.
        let grown = bytes <= 1 << 20 ? plain.count * 2 : DataPath.maxPayloadBytes
        plain = .allocate(byteCount: Swift.max(bytes, grown), alignment: 64)
    }

    /// Plaintext bytes compared with the synthesised payload on every read.
    static let comparedPrefixBytes = 256

    /// Opens `bytes` (header checks, GCM tag over every byte, LZ4), then checks the identity:
    /// the header names this shard, version and key, the plaintext has the payload's length,
    /// and its first ``comparedPrefixBytes`` are the payload's (a content check that catches a
    /// copy of another shard or version; the GCM tag already proves the rest is what was
    /// sealed). Any failure — integrity or identity — means the copy is not intact.
    func openAndCompare(_ bytes: [UInt8], sealer: ShardSealer, key: DataKey, payload: PayloadDescriptor,
                        shardID: UInt64, version: UInt32) -> Bool {
        let n = payload.plaintextBytes
        reserve(Swift.max(n, ReadScratch.comparedPrefixBytes))
        return bytes.withUnsafeBytes { shard -> Bool in
            do throws(ShardError) {
                let got = try sealer.open(shard, key: key, into: UnsafeMutableRawBufferPointer(rebasing: plain[0..<n]))
                let header = try ShardHeader(parsing: shard)
                guard got == n, header.shardID == shardID, header.version == version, header.keyID == key.id else { return false }
            } catch {
                return false
            }
            let prefix = Swift.min(n, ReadScratch.comparedPrefixBytes)
            let target = UnsafeMutableRawBufferPointer(rebasing: expected[0..<prefix])
            PayloadSynthesizer.fill(target, kind: payload.kind, seed: payload.contentSeed)   // a prefix of the payload
            return prefix == 0 || memcmp(plain.baseAddress!, expected.baseAddress!, prefix) == 0
        }
    }
}

#if os(Linux)
/// glibc's `mallopt` (declared in <malloc.h>, which the Glibc module does not export).
@_silgen_name("mallopt") private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
