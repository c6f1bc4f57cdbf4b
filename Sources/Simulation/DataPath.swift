import Collections
import SimCore
import SimConfig
import Replication
import ShardPipeline

// The shard data path as the engine drives it: every cloud message version becomes a sealed
// shard (full mode: real LZ4 + AES-256-GCM bytes; sizes mode: a size), every read that finds
// a copy is answered intact or corrupt, bit rot damages real bytes, and key placement says who
// can decrypt.
//
// Storage fault model, in prose: a node's copy of a shard is either *intact* (its bytes are
// the shared sealed bytes of that version, or that version's RS fragment) or *corrupt* (bit
// rot flipped bits of that replica's own copy of the bytes). A read of a corrupt copy detects
// it — any flipped bit fails the header checks or the GCM tag (a replica) or the CRC-32C (a
// fragment) — and the engine counts it and answers missing, never returning it. The engine's
// `NodeStore` keeps the per-copy `corrupt` flag (the ground truth, identical in both payload
// modes), and this type answers reads from it; in full mode a `ShardBytes` store redoes every
// outcome on real bytes and checks that they agree (a disagreement is a dcsim bug and stops
// the run, see `finish`).
//
// Determinism: nothing here draws from the engine's streams. Keys, nonces and payload
// contents derive from the scenario seed by specified functions of (shard id, version), so
// both payload modes see exactly the same random streams and the same simulated metrics —
// and full mode can re-seal any version whenever it needs its bytes again.
//
// **Simulation only.** Master keys, data keys and nonces all derive from the run's seed (see
// `KeyHierarchy`), so a run is reproducible byte for byte — and anyone who knows the seed can
// decrypt everything. The cryptography is real so that its cost, sizes and failure behaviour
// are real; its secrecy is not. Keys never appear in reports or logs.

/// The engine's shard data path in either payload mode: the *model* half (shard records,
/// sizes, keys, which versions are fragmented, outcomes) and, in full mode, a ``ByteLanes``
/// that runs the *byte* half (``ShardBytes``).
///
/// **What is real.** Full mode: every write of a version seals real bytes (synthesised payload,
/// LZ4, AES-256-GCM with a seed-derived key and nonce) and opens them again at once (header
/// checks, GCM tag, LZ4, and the identity: the header's shard id, version and key id, the
/// plaintext length and its first 256 bytes) — write-path verification. Replicas share those
/// immutable bytes, so a read of an intact replica is answered by that verdict (counted in
/// ``Stats/openedBefore``); a replica hit by bit rot gets its own damaged bytes, opened on
/// every read. Erasure-coded versions get real ISA-L fragments of the real sealed bytes
/// (CRC-32C each), checked on every fragment read. Not real: the RS *decode* a strategy
/// performs when it has k fragments happens inside the strategy's state machine, which sees
/// only completions, so fragments are verified where they are read, not the reassembled shard.
/// Sizes mode keeps 16 bytes per shard and answers from the flags.
///
/// **Threads.** The byte half never changes an outcome, so ``runBytesInBackground()`` can move
/// it to a second core (what `dcsim run` does); its jobs run in order either way, and reports
/// are byte-identical. Storage is still accounted per replica (the engine's `NodeStore`).
struct DataPath {
    /// Shards per data key: shard `s` uses key number `s / shardsPerDataKey` of its key
    /// jurisdiction (a key epoch), so a run derives one data key per 256 shards.
    static let shardsPerDataKey: UInt64 = 256
    /// Default cap on cached RS fragment sets (full mode).
    static let defaultBufferBudgetBytes = 256 << 20
    /// The per-shard payload limit in full mode (a message larger than this would be several
    /// shards — chunks — in a real system; dcsim's workload keeps messages to one shard).
    static let maxPayloadBytes = ShardFormat.defaultMaxPayloadBytes

    let mode: PayloadMode
    let policy: KeyPlacementPolicy
    /// Cap on the bytes of RS fragment sets kept (full mode).
    let bufferBudgetBytes: Int

    private let sizeModel = ShardSizeModel.standard
    private let keys: DataKeyCache
    private let keyTopology: KeyPlacementTopology
    /// Payload kind per message class (text → `.text`, compressible flag false → `.media`).
    private let kindOfClass: [PayloadKind]
    /// Roots of the derived streams (from the scenario seed, by label).
    private let contentRoot: UInt64, nonceRoot: UInt64

    /// Per shard, dense by shard id.
    private var shards: [ShardRecord] = []
    /// Sizes of versions that a newer version superseded (rarely needed: lagging replicas).
    private var olderVersions: [VersionKey: Int32] = [:]
    /// Key placements by `home * KeyHolders.buckets + bucket` (the same choice as the engine's
    /// key-reachability table, `KeyHolders`, so sealing and reachability agree on the holders).
    private let placements: [KeyPlacement]
    /// RS(k, m) per fragmented version, packed as `k << 8 | m` (from ``fragmentStored``).
    private var codes: [VersionKey: UInt16] = [:]
    /// Replicas whose own damaged bytes the byte store holds (full mode).
    private var damagedReplicas = Set<ReplicaKey>()
    /// The byte half (full mode): one lane inline, or one per background thread, each owning
    /// the shards `key % lanes`.
    private let bytes: ByteLanes?

    /// Work counted by the model half; ``stats`` adds the byte half's.
    private var modelStats = Stats()

    /// Work done (diagnostics for performance figures; never part of the deterministic report).
    /// Waits for outstanding byte work.
    var stats: Stats {
        guard let bytes else { return modelStats }
        bytes.drain()
        return bytes.stores.reduce(modelStats) { $0 + $1.stats }
    }

    struct Stats: Sendable, Equatable {
        /// Versions sealed on write (both modes), and re-sealed because their bytes were needed
        /// again (full mode: a damaged copy's start, an evicted fragment set, a test).
        var sealed = 0, resealed = 0
        /// Real sealed bytes produced on write (full mode; the report accounts modelled sizes).
        var sealedRealBytes = 0
        /// Whole copies opened for real (full mode: on write, and every read of a damaged copy;
        /// sizes mode: whole-copy reads answered from the flag), fragment reads, corrupt copies
        /// detected (full mode: by their bytes).
        var opened = 0, fragmentsChecked = 0, damageDetected = 0
        /// Reads of intact whole copies answered by their shared bytes' write-time verdict
        /// (full mode).
        var openedBefore = 0
        /// Fragment sets encoded with ISA-L (full mode).
        var fragmentSetsEncoded = 0
        /// Fragment reads whose code was unknown (stored without ``fragmentStored``).
        var fragmentsUnverified = 0
        /// Fragment sets evicted from the cache (full mode).
        var evictions = 0

        static func + (a: Stats, b: Stats) -> Stats {
            Stats(sealed: a.sealed + b.sealed, resealed: a.resealed + b.resealed,
                  sealedRealBytes: a.sealedRealBytes + b.sealedRealBytes, opened: a.opened + b.opened,
                  fragmentsChecked: a.fragmentsChecked + b.fragmentsChecked, damageDetected: a.damageDetected + b.damageDetected,
                  openedBefore: a.openedBefore + b.openedBefore, fragmentSetsEncoded: a.fragmentSetsEncoded + b.fragmentSetsEncoded,
                  fragmentsUnverified: a.fragmentsUnverified + b.fragmentsUnverified, evictions: a.evictions + b.evictions)
        }
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
        contentRoot = roots.next(); nonceRoot = roots.next()
        let rotRoot = roots.next()
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
            keys = DataKeyCache(hierarchy: try KeyHierarchy(seed: seed, jurisdictions: topology.jurisdictions.count),
                                capacity: 4096)
        } catch {
            preconditionFailure("the key hierarchy could not start: \(error)")
        }
        guard mode == .full else { bytes = nil; return }
        let media = MediaPool(maxPayloadBytes: DataPath.maxPayloadBytes)
        bytes = ByteLanes { [bufferBudgetBytes] lanes in
            do throws(ShardError) {
                return try ShardBytes(maxPayloadBytes: DataPath.maxPayloadBytes, bufferBudgetBytes: bufferBudgetBytes / lanes,
                                      rotRoot: rotRoot, media: media)
            } catch {
                // OpenSSL or liblz4 could not create a context: an internal error (exit code 3).
                preconditionFailure("the shard pipeline could not start: \(error)")
            }
        }
    }

    /// Runs the byte half on `threads` background threads from now on (full mode; no effect
    /// in sizes mode), each owning the shards `key % threads`, with its own scratch memory and
    /// an equal share of the fragment budget; the calling thread helps with the shared work.
    /// Call it before the first write. Results are identical; wall time is shorter when cores
    /// are free.
    func runBytesInBackground(threads: Int) {
        precondition(shards.isEmpty, "move the byte work before the first write")
        bytes?.startThreads(threads)
    }

    /// Ends the run's byte work: waits for it, stops the background threads (later calls run
    /// inline) and checks that the bytes agreed with every outcome.
    /// - Precondition: no disagreement (one would be a bug in dcsim, never a simulated outcome).
    func finish() {
        guard let bytes else { return }
        bytes.stopThreads()
        let mismatches = bytes.stores.reduce(0) { $0 + $1.mismatches }
        precondition(mismatches == 0, "full-mode bytes disagreed with the simulated outcome \(mismatches) times; "
                     + "first: \(bytes.stores.lazy.compactMap(\.firstMismatch).first ?? "?")")
    }

    /// The lane that owns `key`'s bytes (full mode).
    private func owner(_ key: UInt64) -> Int {
        let lanes = bytes?.count ?? 1
        return lanes == 1 ? 0 : Int(key % UInt64(lanes))
    }

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
    /// Full mode also has the byte half synthesise the payload (``PayloadSynthesizer``; content
    /// seed from the scenario seed, shard id and version), seal it with the shard's data key and
    /// a seed-derived nonce, and open it again (write-path verification).
    /// - Parameters:
    ///   - home: the shard's home DC (its key placement follows from it).
    ///   - messageClass: index into the scenario's message mix.
    ///   - stripe: for a strategy that stores RS(k, n - k) fragments, `(k, n)`: the byte half
    ///     then encodes the fragments from the freshly sealed bytes (``fragmentStored`` would
    ///     otherwise re-seal them). `nil` for replicas.
    mutating func seal(key: ShardKey, home: Int, messageClass: Int, plaintextBytes: Int, version: UInt32,
                       stripe: (k: Int, n: Int)? = nil) -> Int {
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
        let vk = VersionKey(key, version)
        modelStats.sealed += 1
        if let bytes {
            // Sealing a replicated version touches no store state: any lane may do it.
            let code = stripe.flatMap { DataPath.code(k: $0.k, n: $0.n) } ?? 0
            bytes.submit(.seal(spec(vk), code: code), owner: code == 0 ? nil : owner(vk.key))
        }
        return sizeModel.sealedBytes(descriptor(vk))
    }

    /// Records that a node stored fragment `index` of version `version` under RS(k, n - k):
    /// in full mode, the byte half has the real fragments (ISA-L, CRC-32C each) of the real
    /// sealed bytes. Best effort: without this call a fragment read is not verified against
    /// real bytes (counted in ``Stats/fragmentsUnverified``).
    /// - Parameters:
    ///   - k: fragments needed to read (the strategy's `fragmentsNeededToRead`).
    ///   - n: fragments in all (the strategy's placement size for the key).
    mutating func fragmentStored(key: ShardKey, version: UInt32, index: Int, k: Int, n: Int) {
        guard let bytes, index >= 0, let code = DataPath.code(k: k, n: n), Int(key.raw) < shards.count else { return }
        let vk = VersionKey(key, version)
        guard codes[vk] == nil else { return }
        codes[vk] = code
        bytes.submit(.fragmentStored(spec(vk), code: code), owner: owner(vk.key))
    }

    /// RS(k, n - k) packed as `k << 8 | m`, or `nil` outside what ISA-L codes.
    private static func code(k: Int, n: Int) -> UInt16? {
        guard k >= 1, n > k, n <= ErasureCoder.maxFragments else { return nil }
        return UInt16(k) << 8 | UInt16(n - k)
    }

    // MARK: Reading

    /// Whether `node`'s copy of `key` reads intact. Call it for every read that found a copy;
    /// `false` means corruption detected (count it, answer `.missing`).
    ///
    /// The answer is the copy's ground-truth flag in both modes. Full mode has the byte half
    /// confirm it on real bytes: a corrupt copy's own damaged bytes must fail to open (a whole
    /// copy: header, GCM tag, LZ4, identity) or their CRC-32C (a fragment); an intact fragment
    /// must pass its CRC; an intact whole copy was opened when it was written.
    /// A tombstone carries no sealed bytes: it reads intact unless flagged corrupt.
    mutating func readIntact(key: ShardKey, node: Int, copy: NodeStore.Copy) -> Bool {
        if copy.tombstone { return !copy.corrupt }
        guard Int(key.raw) < shards.count else {
            assertionFailure("read of shard \(key.raw) that was never sealed")
            return !copy.corrupt
        }
        let vk = VersionKey(key, copy.stamp.version)
        let rk = ReplicaKey(key: key.raw, node: Int32(node))
        if copy.fragment >= 0 { modelStats.fragmentsChecked += 1 }
        guard let bytes else {
            if copy.fragment < 0 { modelStats.opened += 1 }
            if copy.corrupt { modelStats.damageDetected += 1 }
            return !copy.corrupt
        }
        if copy.corrupt {
            damagedReplicas.insert(rk)
        } else if !damagedReplicas.isEmpty, damagedReplicas.remove(rk) != nil {
            bytes.submit(.forget(rk), owner: owner(rk.key))   // repaired or overwritten since
        }
        if copy.corrupt || copy.fragment >= 0 {
            bytes.submit(.read(rk, spec(vk), fragment: copy.fragment, code: codes[vk] ?? 0, corrupt: copy.corrupt),
                         owner: owner(rk.key))
        } else {
            modelStats.openedBefore += 1
        }
        return !copy.corrupt
    }

    // MARK: Bit rot

    /// Bit rot on `node`'s copy of `key` (the copy the engine's `NodeStore` holds, `copy`):
    /// that replica gets its own copy of the bytes with `bits` real flipped bits (full mode;
    /// sizes mode has only the flag). Draws exactly `bits` values from `rng` in both modes.
    /// The caller marks the copy corrupt in its `NodeStore` (see `Engine.corruptCopy`).
    mutating func corrupt(key: ShardKey, node: Int, copy: NodeStore.Copy, bits: Int = 1, rng: inout SimRandom) {
        precondition(bits >= 1, "bit rot must flip at least one bit")
        let draws = rng
        for _ in 0..<bits { _ = rng.next() }   // one value per bit, whatever the copy holds
        guard let bytes, !copy.tombstone, Int(key.raw) < shards.count else { return }
        let vk = VersionKey(key, copy.stamp.version)
        let rk = ReplicaKey(key: key.raw, node: Int32(node))
        damagedReplicas.insert(rk)
        bytes.submit(.corrupt(rk, spec(vk), fragment: copy.fragment, code: codes[vk] ?? 0, bits: bits, rng: draws),
                     owner: owner(rk.key))
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

    /// The shared sealed bytes of a version (full mode; re-sealed), for tests and diagnostics.
    /// Never logged: they are ciphertext, but the keys behind them derive from the seed.
    func sharedBytes(key: ShardKey, version: UInt32) -> [UInt8]? {
        guard let bytes, Int(key.raw) < shards.count else { return nil }
        bytes.drain()
        return bytes.stores[owner(key.raw)].sharedBytes(spec(VersionKey(key, version)))
    }

    // MARK: Internals

    /// The payload of a version, as a description (both modes).
    private func descriptor(_ vk: VersionKey) -> PayloadDescriptor {
        let r = shards[Int(vk.key)]
        let size = vk.version == r.newestVersion ? r.plaintextBytes : (olderVersions[vk] ?? r.plaintextBytes)
        return PayloadDescriptor(kind: r.kind == PayloadKind.text.code ? .text : .media, plaintextBytes: Int(size),
                                 contentSeed: mix64(contentRoot ^ mix64(vk.key) ^ UInt64(vk.version) &* 0x9E37_79B9_7F4A_7C15))
    }

    /// What the byte half needs to (re)produce a version's bytes: payload, key and nonce
    /// (deterministic: the same every time).
    private func spec(_ vk: VersionKey) -> VersionSpec {
        var nonceStream = SimRandom(seed: mix64(nonceRoot ^ mix64(vk.key) ^ UInt64(vk.version) &* 0xD1B5_4A32_D192_ED03))
        return VersionSpec(version: vk, payload: descriptor(vk), key: dataKey(vk), nonce: Nonce.random(using: &nonceStream))
    }

    private func dataKey(_ vk: VersionKey) -> DataKey {
        let id = dataKeyID(key: ShardKey(vk.key), home: Int(shards[Int(vk.key)].home))
        do throws(ShardError) { return try keys.key(id) } catch {
            preconditionFailure("deriving data key \(id) failed: \(error)")
        }
    }

    // MARK: Types

    private struct ShardRecord {
        var home: Int32
        var kind: UInt8
        var newestVersion: UInt32
        var plaintextBytes: Int32
    }
}
