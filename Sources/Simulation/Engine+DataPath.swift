import SimCore
import Replication
import ShardPipeline

// The engine's side of the shard data path (see `DataPath`): the calls that need both the
// engine's per-node stores and the data path's bytes.

extension Engine {
    /// Bit rot on `node`'s copy of `key`: marks the copy corrupt in the node's store and, in
    /// full mode, gives that replica its own copy of the bytes with `bits` real flipped bits
    /// (sizes mode flags its digest). Draws exactly `bits` values from `rng` whenever the node
    /// holds a copy, in both payload modes.
    ///
    /// Use this rather than `stores[node].corrupt(key)` so the bits flipped come from the
    /// fault stream; a copy flagged directly still reads as corrupt (the data path then flips
    /// bits chosen by a stream derived from the seed, node, shard and version).
    /// - Returns: whether the node held an intact copy (as `NodeStore.corrupt`).
    @discardableResult
    func corruptCopy(_ key: ShardKey, node: Int, bits: Int = 1, rng: inout SimRandom) -> Bool {
        guard let copy = stores[node].get(key) else { return false }
        let before = redundancyUnit(copy, shard: Int(key.raw))
        let wasIntact = stores[node].corrupt(key)
        redundancyChanged(node: node, key: key, before: before)
        dataPath.corrupt(key: key, node: node, copy: copy, bits: bits, rng: &rng)
        return wasIntact
    }

    /// A node stored fragment `index` of `key`'s version `version`: lets the data path encode
    /// the real RS(k, m) fragments (full mode), with k the strategy's `fragmentsNeededToRead`
    /// and k + m its `stripeWidth(of:home:)` for the key (a hybrid key's fragments are
    /// written before its placement becomes the stripe's).
    func fragmentStored(key: ShardKey, version: UInt32, index: Int) {
        guard dataPath.mode == .full else { return }
        let k = strategy.fragmentsNeededToRead
        let n = strategy.stripeWidth(of: key, home: Int(shards[Int(key.raw)].homeDC))
        dataPath.fragmentStored(key: key, version: version, index: index, k: k, n: n)
    }

    /// `(k, n)` when the strategy stores `key` as RS(k, n - k) fragments (at once, or after a
    /// transcode), so the data path can encode them from the freshly sealed bytes; `nil` for
    /// replicas.
    func stripe(of key: ShardKey, home: Int) -> (k: Int, n: Int)? {
        guard dataPath.mode == .full else { return nil }
        let k = strategy.fragmentsNeededToRead
        return k > 1 ? (k, strategy.stripeWidth(of: key, home: home)) : nil
    }

    /// The DCs holding `key`'s data key and the threshold a decryption needs (the same holders
    /// as `keyHolders[home][KeyHolders.bucket(of: key)]`; the data key derives from the first
    /// holder's jurisdiction).
    func keyPlacement(of key: ShardKey) -> KeyPlacement {
        dataPath.keyHolders(home: Int(shards[Int(key.raw)].homeDC), key: key)
    }

    /// Whether a reader who can reach the DCs in `reachable` can obtain `key`'s data key.
    func canDecrypt(_ key: ShardKey, reachable: DCSet) -> Bool {
        keyPlacement(of: key).canDecrypt(reachable: reachable)
    }

    /// Whether an adversary holding every disk in `seized` reads `key`'s plaintext: enough key
    /// holders and `copiesNeeded` of the copies in `dataDCs` (1 for replicas, k for fragments).
    func adversaryCanDecrypt<DCs: Sequence>(_ key: ShardKey, seized: DCSet, dataDCs: DCs, copiesNeeded: Int = 1) -> Bool
    where DCs.Element == Int {
        keyPlacement(of: key).adversaryCanDecrypt(seized: seized, dataDCs: dataDCs, copiesNeeded: copiesNeeded)
    }
}
