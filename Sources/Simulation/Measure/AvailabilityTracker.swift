import SimCore
import Replication

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
