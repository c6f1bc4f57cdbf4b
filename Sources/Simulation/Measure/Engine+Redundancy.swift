import SimCore
import Replication

// The engine's side of redundancy and durability accounting: every change to what a node's
// disk holds goes through one of these calls, so the live and durable unit counts of
// `RedundancyTracker` always match the stores (`RedundancyCensus` recounts them from scratch
// at the end, and the tests compare the two).

extension Engine {
    /// What `copy` counts as for shard `i`: nothing if absent, rotted or older than the
    /// shard's newest acknowledged version (before any acknowledgement, every version
    /// counts); else a whole copy or its fragment index.
    @inline(__always) func redundancyUnit(_ copy: NodeStore.Copy?, shard i: Int) -> RedundancyUnit {
        guard let c = copy, !c.corrupt, i < shards.count else { return .none }
        let acked = shards[i].acked
        if acked > .none && c.stamp < acked { return .none }
        return c.fragment < 0 ? .whole : .fragment(Int(c.fragment))
    }

    /// The unit `node` holds of `key` now.
    @inline(__always) func redundancyUnit(node: Int, key: ShardKey) -> RedundancyUnit {
        redundancyUnit(stores[node].get(key), shard: Int(key.raw))
    }

    /// `node`'s copy of `key` changed from `before` to what it holds now (a disk write,
    /// removal or rot). The node's disk exists; the unit is live if the node is up.
    /// - Parameter written: a disk wrote it (for the re-replication count).
    func redundancyChanged(node: Int, key: ShardKey, before: RedundancyUnit, written: Bool = false) {
        let after = redundancyUnit(node: node, key: key)
        guard after != before else { return }
        let i = Int(key.raw)
        let up = liveness.isUp(node)
        // Add before removing, so a replaced unit never shows a transient loss.
        if !after.isNone {
            redundancy.durableChange(i, after, by: 1, now: now)
            if up { redundancy.liveChange(i, after, by: 1, now: now, written: written) }
        }
        if !before.isNone {
            if up { redundancy.liveChange(i, before, by: -1, now: now) }
            redundancy.durableChange(i, before, by: -1, now: now)
        }
    }

    /// The counted units on `node`'s disk, in key order (deterministic peaks and first-loss
    /// order however the store hashes).
    func countedUnits(node: Int, where include: (NodeStore.Copy) -> Bool = { _ in true }) -> [(Int, RedundancyUnit)] {
        var units: [(Int, RedundancyUnit)] = []
        for (key, copy) in stores[node].copies where include(copy) {
            let u = redundancyUnit(copy, shard: Int(key.raw))
            if !u.isNone { units.append((Int(key.raw), u)) }
        }
        units.sort { $0.0 < $1.0 }
        return units
    }

    /// `node` went down: its units stop being live (its disk, and so durability, is
    /// unchanged).
    func redundancyNodeDown(_ node: Int) {
        for (i, u) in countedUnits(node: node) { redundancy.liveChange(i, u, by: -1, now: now) }
    }

    /// `node` came back up: its surviving units are live again.
    func redundancyNodeUp(_ node: Int) {
        for (i, u) in countedUnits(node: node) { redundancy.liveChange(i, u, by: 1, now: now) }
    }

    /// `node`'s disk is about to be wiped (call before `loseEverything`): every unit on it
    /// is gone, live ones too.
    func redundancyDiskLost(_ node: Int) {
        let up = liveness.isUp(node)
        for (i, u) in countedUnits(node: node) {
            if up { redundancy.liveChange(i, u, by: -1, now: now) }
            redundancy.durableChange(i, u, by: -1, now: now)
        }
    }

    /// `node` (down) is about to lose the writes at or after `since` with its page cache.
    func redundancyUnflushedLost(_ node: Int, since: SimTime) {
        let up = liveness.isUp(node)
        for (i, u) in countedUnits(node: node, where: { $0.storedAt >= since }) {
            if up { redundancy.liveChange(i, u, by: -1, now: now) }
            redundancy.durableChange(i, u, by: -1, now: now)
        }
    }

    /// Shard `i`'s newest acknowledged stamp moved from `previous` to `shards[i].acked`:
    /// copies older than it stop counting (a scan of the nodes' stores for this key only,
    /// skipped for a first write's acknowledgement, where no older copy can exist), then the
    /// shard counts as acknowledged for durability.
    /// - Parameter deleted: the acknowledged operation was a delete (a lost tombstone is not
    ///   a lost write).
    func redundancyAcknowledged(_ i: Int, previous: Stamp, deleted: Bool) {
        let acked = shards[i].acked
        if previous > .none || acked.version > 1 {
            let key = ShardKey(UInt64(i))
            for node in stores.indices {
                guard let c = stores[node].get(key), !c.corrupt, c.stamp < acked else { continue }
                // Counted before (as any version, or as ≥ previous), not now.
                guard previous == .none || c.stamp >= previous else { continue }
                let u: RedundancyUnit = c.fragment < 0 ? .whole : .fragment(Int(c.fragment))
                if liveness.isUp(node) { redundancy.liveChange(i, u, by: -1, now: now) }
                redundancy.durableChange(i, u, by: -1, now: now)
            }
            // A new version (edit, delete) is being replicated for the first time: filling its
            // placement is not re-replication until it has been complete once.
            redundancy.newVersionAcknowledged(i)
        }
        redundancy.acknowledged(i, deleted: deleted, now: now)
    }

    /// A new shard, placed by the strategy.
    func redundancyShardAdded(key: ShardKey, home: Int) {
        let placed = strategy.placement(of: key, home: home).count
        let group = home * KeyHolders.buckets + KeyHolders.bucket(of: key)
        keyGroupShards[group].append(UInt32(redundancy.shardCount))
        redundancy.added(wholeTarget: placed, stripeWidth: strategy.stripeWidth(of: key, home: home),
                         keyReachable: !keyGroupDown[group], now: now)
    }

    /// Faults changed who is up or reachable: refresh the time-weighted availability and,
    /// per key group (home DC × key bucket), whether a reader in the home DC can obtain the
    /// data key — a group whose key went out of reach makes its shards unreadable (margin
    /// −1) until it comes back. O(home DCs × buckets) per fault change, plus the shards of a
    /// group whose reachability flipped.
    func reachabilityChanged() {
        availability.update(engine: self)
        for home in 0..<world.nodesByDC.count {
            for b in 0..<KeyHolders.buckets {
                let g = home * KeyHolders.buckets + b
                let down = !keyReachable(keyHolders[home][b], from: home)
                guard down != keyGroupDown[g] else { continue }
                keyGroupDown[g] = down
                for i in keyGroupShards[g] { redundancy.setKeyReachable(Int(i), !down, now: now) }
            }
        }
    }

    /// The first loss ended the run (`stop_at_first_loss`): stop the loop at this instant.
    func redundancyCheckStop() {
        if scenario.stopAtFirstLoss, redundancy.firstLoss != nil, end > now { end = now }
    }
}
