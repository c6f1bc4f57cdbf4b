import SimCore
import Replication

/// The redundancy end figures of the shards whose home is one DC.
public struct DatacenterRedundancy: Sendable, Equatable {
    public var datacenter: String
    /// Shards whose home is this DC, and those acknowledged.
    public var shards: UInt64
    public var acknowledged: UInt64
    /// Of those: unrecoverable, under-replicated and at margin 0 at the end (definitions as
    /// in ``RedundancyFigures``).
    public var lost: UInt64
    public var underReplicated: UInt64
    public var atRisk: UInt64
}

/// The redundancy of every shard recounted from the nodes' stores at the end of a run, with
/// no help from the incremental ``RedundancyTracker`` (so each checks the other: the tests
/// compare them).
///
/// One pass over every stored copy (O(copies)), then one over the shards; counts are sums
/// and bit masks, so the stores' hash order cannot change them.
struct RedundancyCensus {
    /// Units on up nodes, and on every disk that exists.
    var live = UnitSet()
    var durable = UnitSet()

    var lost: UInt64 = 0
    var under: UInt64 = 0
    var atRisk: UInt64 = 0
    var histogram: [UInt64] = []
    var liveLogical: UInt64 = 0
    var byDatacenter: [DatacenterRedundancy] = []

    init<S>(engine e: Engine<S>) {
        let n = e.shards.count
        live.whole = [UInt8](repeating: 0, count: n)
        durable.whole = [UInt8](repeating: 0, count: n)
        for node in e.stores.indices {
            let up = e.liveness.isUp(node)
            for (key, copy) in e.stores[node].copies {
                let i = Int(key.raw)
                guard i < n else { continue }
                let u = e.redundancyUnit(copy, shard: i)
                guard !u.isNone else { continue }
                durable.change(i, u, by: 1)
                if up { live.change(i, u, by: 1) }
            }
        }
        let k = max(1, e.strategy.fragmentsNeededToRead)
        let topology = e.world.topology
        byDatacenter = topology.datacenters.map {
            DatacenterRedundancy(datacenter: $0.id, shards: 0, acknowledged: 0, lost: 0, underReplicated: 0, atRisk: 0)
        }
        var widest = 8
        var counts = [UInt64](repeating: 0, count: 65)
        for (i, shard) in e.shards.enumerated() {
            let dc = Int(shard.homeDC)
            byDatacenter[dc].shards += 1
            guard shard.acked > .none else { continue }
            byDatacenter[dc].acknowledged += 1
            let key = ShardKey(UInt64(i))
            let home = Int(shard.homeDC)
            let placed = e.strategy.placement(of: key, home: home).count
            let width = e.strategy.stripeWidth(of: key, home: home)
            widest = max(widest, max(placed, width) + 1)
            let l = live.count(i)
            if !shard.ackedDeleted && !durable.count(i).readable(k: k) { lost += 1; byDatacenter[dc].lost += 1 }
            if !l.full(wholeTarget: placed, stripeWidth: width) { under += 1; byDatacenter[dc].underReplicated += 1 }
            if l.margin(k: k) == 0 { atRisk += 1; byDatacenter[dc].atRisk += 1 }
            counts[min(l.units, counts.count - 1)] += 1
            if !shard.ackedDeleted { liveLogical += UInt64(shard.logicalBytes) }
        }
        widest = min(widest, counts.count)
        histogram = Array(counts[0..<widest])
        histogram[widest - 1] += counts[widest...].reduce(0, +)
    }
}
