import SimCore
import Replication

/// Live redundancy of every shard over time, kept incrementally (O(1) per stored copy, O(copies
/// on a node) per crash or restart — never a scan of all shards per event).
///
/// A shard's *units* are its intact copies or fragments on nodes that are up. Its *margin* is
/// units − needed (needed = 1 for whole copies, k for erasure-coded fragments): a margin of 0
/// means one more failure loses readability ("at risk"); below 0 it is unreadable now. A shard
/// is *under-replicated* while its units are below its placement's count.
struct RedundancyTracker {
    /// Live units per shard (saturating at 255).
    var units: [UInt8] = []
    /// Placement count per shard (its target).
    var target: [UInt8] = []
    let needed: Int
    /// Shards per margin: index m + 1 for margin m in -1…14 (clipped).
    var marginHistogram = [Int](repeating: 0, count: 16)
    var under = 0
    var lastChange = SimTime.zero
    /// ∫ under-replicated shards dt, in shard-nanoseconds (as Double to avoid overflow).
    var underShardNanoseconds = 0.0
    /// Lowest margin any shard reached while the run was past warm-up (nil before any shard).
    var minMargin: Int? = nil
    var atRiskPeak = 0
    let warmupEnd: SimTime

    /// Recovery bookkeeping: when a fault ended with shards under-replicated, and how long
    /// until none was.
    var recoveringSince: SimTime? = nil
    var recoveryTimes: [SimDuration] = []

    init(needed: Int, warmupEnd: SimTime) {
        self.needed = max(1, needed)
        self.warmupEnd = warmupEnd
    }

    @inline(__always) func bucket(_ units: Int) -> Int { min(max(units - needed + 1, 0), 15) }

    mutating func advance(to now: SimTime) {
        if now > lastChange {
            underShardNanoseconds += Double(under) * Double((now - lastChange).nanoseconds)
            lastChange = now
        }
    }

    /// A new shard with `target` placed units (none stored yet).
    mutating func added(target t: Int, now: SimTime) {
        advance(to: now)
        units.append(0)
        target.append(UInt8(clamping: t))
        marginHistogram[bucket(0)] += 1
        if t > 0 { under += 1 }
    }

    /// Shard `i` gained (`+1`) or lost (`-1`) a live unit.
    mutating func change(_ i: Int, by delta: Int, now: SimTime) {
        guard i < units.count else { return }
        advance(to: now)
        let before = Int(units[i])
        let after = max(0, min(255, before + delta))
        guard after != before else { return }
        marginHistogram[bucket(before)] -= 1
        marginHistogram[bucket(after)] += 1
        let t = Int(target[i])
        if before < t && after >= t { under -= 1 } else if before >= t && after < t { under += 1 }
        units[i] = UInt8(after)
        if now >= warmupEnd, delta < 0 {
            let m = after - needed
            if minMargin == nil || m < minMargin! { minMargin = m }
            let atRisk = marginHistogram[bucket(needed)]
            if atRisk > atRiskPeak { atRiskPeak = atRisk }
        }
        if under == 0, let since = recoveringSince {
            recoveryTimes.append(now - since)
            recoveringSince = nil
        }
    }

    /// A fault ended: if shards are under-replicated, time how long until none is.
    mutating func faultEnded(at now: SimTime) {
        if under > 0 && recoveringSince == nil { recoveringSince = now }
    }

    /// The lowest margin among shards that exist right now (nil with no shards).
    var currentMinMargin: Int? {
        guard let b = marginHistogram.firstIndex(where: { $0 > 0 }) else { return nil }
        return b - 1
    }

    /// Shards whose margin is 0 now (one more failure from unreadable).
    var atRiskNow: Int { marginHistogram[bucket(needed)] }
}

/// Time-weighted availability that needs no traffic: a fixed set of probe shard groups (the
/// strategy's placement for probe keys of every home DC) is readable or writable at each
/// instant by the strategy's quorum sizes, counting only replicas that are up and reachable
/// from the group's home DC, and whose key is reachable. Updated at every fault change, so a
/// simulated year costs only its faults.
struct AvailabilityTracker {
    struct Group {
        var home: Int
        var nodes: [Int]
        var keys: KeyHolders
        /// How many probe keys share this layout (identical layouts are evaluated once).
        var weight: Int
    }
    var groups: [Group] = []
    var readable: [Bool] = []
    var writable: [Bool] = []
    var readableCount = 0
    var writableCount = 0
    var last = SimTime.zero
    var readableNs = 0.0
    var writableNs = 0.0
    var totalNs = 0.0
    var probes = 0
    let start: SimTime
    static let probesPerDC = 16

    init(start: SimTime) { self.start = start }

    mutating func setUp<S>(engine e: Engine<S>) {
        for home in e.world.topology.datacenters.indices {
            for i in 0..<Self.probesPerDC {
                let key = ShardKey(UInt64.max - UInt64(home * Self.probesPerDC + i))
                let nodes = e.strategy.placement(of: key, home: home)
                let keys = e.keyHolders[home][KeyHolders.bucket(of: key)]
                if let g = groups.firstIndex(where: { $0.home == home && $0.nodes == nodes && $0.keys.dcs == keys.dcs && $0.keys.threshold == keys.threshold }) {
                    groups[g].weight += 1
                } else {
                    groups.append(Group(home: home, nodes: nodes, keys: keys, weight: 1))
                }
            }
        }
        probes = groups.reduce(0) { $0 + $1.weight }
        readable = Array(repeating: true, count: groups.count)
        writable = Array(repeating: true, count: groups.count)
        readableCount = probes
        writableCount = probes
    }

    mutating func accumulate(to now: SimTime) {
        let from = max(last, start)
        if now > from {
            let dt = Double((now - from).nanoseconds)
            readableNs += dt * Double(readableCount)
            writableNs += dt * Double(writableCount)
            totalNs += dt * Double(probes)
        }
        last = now
    }

    mutating func update<S>(engine e: Engine<S>) {
        accumulate(to: e.now)
        readableCount = 0
        writableCount = 0
        let r = e.strategy.replicasToRead, w = e.strategy.replicasToWrite
        for (g, group) in groups.enumerated() {
            var live = 0
            for n in group.nodes where e.liveness.isUp(n) {
                let dc = e.world.datacenter(of: n)
                if dc == group.home || (e.network.isReachable(from: group.home, to: dc) && e.network.isReachable(from: dc, to: group.home)) {
                    live += 1
                }
            }
            let keyOK = e.keyReachable(group.keys, from: group.home)
            readable[g] = keyOK && live >= r
            writable[g] = keyOK && live >= w
            if readable[g] { readableCount += group.weight }
            if writable[g] { writableCount += group.weight }
        }
    }

    var readShare: Double { totalNs == 0 ? 1 : readableNs / totalNs }
    var writeShare: Double { totalNs == 0 ? 1 : writableNs / totalNs }
}
