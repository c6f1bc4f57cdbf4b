import SimCore
import SimNetwork

/// Anti-entropy with Merkle trees (Dynamo; Cassandra's repair).
///
/// Each replica keeps an index of the versions it holds (key → stamp; durable, lost with the
/// disk) and, for every peer it shares keys with, the leaves of a Merkle tree over those
/// shared keys: 2^`merkle_depth` leaves, a key's leaf chosen by a hash of the key, a leaf's
/// hash the XOR of its keys' (key, version) hashes — updated in O(1) on every store — and an
/// inner node's hash a hash of its two children.
///
/// Every `anti_entropy_interval` (from a random phase per node) a node sends each peer the
/// root of their shared tree. A peer whose root differs answers with its hashes of the
/// children; the two walk down only where hashes differ, alternating. At the leaves, the side
/// that found the difference lists its entries in the differing leaves; the other compares
/// key by key, streams the keys where it is newer or the peer has nothing, and asks for the
/// keys where the peer is newer. Only differing keys travel. A streamed key is read from disk
/// first, so a copy lost to bit rot is not streamed (the index does not see bit rot; read
/// repair finds it). A tombstone is a version like any other — and a purged one is absence,
/// so a replica still holding the deleted value streams it back (a resurrection).
///
/// All anti-entropy traffic is ``MessageKind/repair``.
extension Quorum {
    mutating func startAntiEntropy(at node: Int, now: SimTime, rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        guard let interval = antiEntropyInterval, let index = nodes[node].index else { return }
        for peer in index.peers {
            let root = index.hash(peer: peer, level: 0, index: 0)
            send(.treeCompare(level: 0, [TreeHash(index: 0, hash: root)]), from: node, to: peer,
                 sizeBytes: 32 + 12, kind: .repair, now: now, rng: &rng, effects: &effects)
        }
        nodes[node].antiEntropyArmed = true
        effects.setTimer(after: interval, .antiEntropy)
    }

    /// Compares a peer's hashes at `level` with this node's; walks down the differing ones,
    /// or lists this node's entries of the differing leaves.
    mutating func compareTree(level: Int, _ hashes: [TreeHash], from peer: Int, at node: Int, now: SimTime,
                              rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        guard let index = nodes[node].index, level <= index.depth else { return }
        let differing = hashes.filter { index.hash(peer: peer, level: level, index: Int($0.index)) != $0.hash }.map(\.index)
        guard !differing.isEmpty else { return }
        if level == index.depth {
            let entries = differing.flatMap { leafEntries(Int($0), sharedWith: peer, at: node) }
            send(.treeLeaves(leaves: differing, entries: entries), from: node, to: peer,
                 sizeBytes: 32 + 4 * differing.count + 24 * entries.count, kind: .repair, now: now, rng: &rng, effects: &effects)
        } else {
            var children: [TreeHash] = []
            children.reserveCapacity(differing.count * 2)
            for i in differing {
                for c in [2 * Int(i), 2 * Int(i) + 1] {
                    children.append(TreeHash(index: UInt32(c), hash: index.hash(peer: peer, level: level + 1, index: c)))
                }
            }
            send(.treeCompare(level: UInt8(level + 1), children), from: node, to: peer,
                 sizeBytes: 32 + 12 * children.count, kind: .repair, now: now, rng: &rng, effects: &effects)
        }
    }

    /// This node's entries in `leaf` for keys `peer` also replicates, by key.
    func leafEntries(_ leaf: Int, sharedWith peer: Int, at node: Int) -> [TreeEntry] {
        guard let index = nodes[node].index else { return [] }
        return index.buckets[leaf].keys.sorted().compactMap { key in
            let e = index.buckets[leaf][key]!
            guard placement(of: key, home: Int(e.home)).contains(peer) else { return nil }
            return TreeEntry(key: key, stamp: e.stamp, tombstone: e.tombstone)
        }
    }

    /// A peer listed its entries of leaves that differ: stream what this node has newer,
    /// ask for what the peer has newer.
    mutating func compareLeaves(_ leaves: [UInt32], _ theirs: [TreeEntry], from peer: Int, at node: Int, now: SimTime,
                                rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        guard nodes[node].index != nil else { return }
        var theirByKey: [ShardKey: TreeEntry] = [:]
        for e in theirs { theirByKey[e.key] = e }
        var mineByKey: [ShardKey: TreeEntry] = [:]
        for leaf in leaves {
            for mine in leafEntries(Int(leaf), sharedWith: peer, at: node) {
                mineByKey[mine.key] = mine
                if let t = theirByKey[mine.key], !newer(mine.stamp, than: t.stamp) { continue }
                streamKey(mine.key, to: peer, at: node, effects: &effects)
            }
        }
        var wanted: [ShardKey] = []
        for t in theirs {
            if let mine = mineByKey[t.key], !newer(t.stamp, than: mine.stamp) { continue }
            wanted.append(t.key)
        }
        if !wanted.isEmpty {
            send(.streamRequest(keys: wanted), from: node, to: peer, sizeBytes: 32 + 8 * wanted.count, kind: .repair,
                 now: now, rng: &rng, effects: &effects)
        }
    }

    /// Reads `key` from disk to stream it to `peer` (if this node indexes it).
    mutating func streamKey(_ key: ShardKey, to peer: Int, at node: Int, effects: inout Effects<Message, Timer>) {
        guard let e = nodes[node].index?.entry(key) else { return }
        issue(.get(key), task: .streamRead(peer: Int32(peer), bytes: e.storedBytes, home: e.home), at: node, effects: &effects)
    }

    /// Removes `key` from the index (its tombstone was purged).
    mutating func unindex(_ key: ShardKey, at node: Int) {
        guard let e = nodes[node].index?.entry(key) else { return }
        let replicas = placement(of: key, home: Int(e.home))
        nodes[node].index!.update(key, to: nil, replicas: replicas, at: node)
    }
}

/// A replica's anti-entropy state: the versions it holds, bucketed by Merkle leaf, and per
/// peer the leaf hashes over the keys both replicate. Durable (rebuilt from the data in a
/// real system; lost with the disk here as there).
struct AntiEntropyIndex {
    struct Entry: Equatable {
        var stamp: Stamp
        var tombstone: Bool
        var storedBytes: Int32
        var home: Int32
        init(_ v: Quorum.Value) { stamp = v.stamp; tombstone = v.tombstone; storedBytes = v.storedBytes; home = v.home }
    }

    let depth: Int
    /// Index entries per leaf.
    private(set) var buckets: [[ShardKey: Entry]]
    /// Per peer, the 2^depth leaf hashes of the keys shared with it.
    private(set) var trees: [Int: [UInt64]] = [:]

    init(depth: Int) {
        self.depth = depth
        buckets = Array(repeating: [:], count: 1 << depth)
    }

    /// Peers this node shares keys with, in node order.
    var peers: [Int] { trees.keys.sorted() }

    func leaf(of key: ShardKey) -> Int { Int(mix64(key.raw ^ 0xA076_1D64_78BD_642F) >> UInt64(64 - depth)) }

    func entry(_ key: ShardKey) -> Entry? { buckets[leaf(of: key)][key] }

    /// The hash of one key's version.
    static func hash(_ key: ShardKey, _ e: Entry) -> UInt64 {
        mix64(key.raw &* 0x9E37_79B9_7F4A_7C15 ^ mix64(UInt64(e.stamp.version) << 1 | (e.tombstone ? 1 : 0)) ^ mix64(e.stamp.tiebreak))
    }

    /// Sets `key`'s entry (nil removes it), updating the leaf hash shared with every other
    /// replica of the key.
    mutating func update(_ key: ShardKey, to new: Entry?, replicas: [Int], at node: Int) {
        let b = leaf(of: key)
        let old = buckets[b][key]
        guard old != new else { return }
        let delta = (old.map { Self.hash(key, $0) } ?? 0) ^ (new.map { Self.hash(key, $0) } ?? 0)
        buckets[b][key] = new
        for peer in replicas where peer != node {
            if trees[peer] == nil { trees[peer] = Array(repeating: 0, count: 1 << depth) }
            trees[peer]![b] ^= delta
        }
    }

    /// The hash of tree node `index` at `level` (0 = root, `depth` = leaves) for `peer`;
    /// an empty subtree hashes to 0.
    func hash(peer: Int, level: Int, index: Int) -> UInt64 {
        guard let leaves = trees[peer], index >= 0, index < (1 << level) else { return 0 }
        return Self.node(leaves, depth: depth, level: level, index: index)
    }

    static func node(_ leaves: [UInt64], depth: Int, level: Int, index: Int) -> UInt64 {
        if level == depth { return leaves[index] }
        let l = node(leaves, depth: depth, level: level + 1, index: 2 * index)
        let r = node(leaves, depth: depth, level: level + 1, index: 2 * index + 1)
        if l | r == 0 { return 0 }
        return mix64(l ^ (r << 23 | r >> 41) ^ 0x5851_F42D_4C95_7F2D)
    }
}
