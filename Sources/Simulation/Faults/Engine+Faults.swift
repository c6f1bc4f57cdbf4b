import SimCore
import SimNetwork
import SimConfig
import Replication
import ShardPipeline

/// Per-node and per-DC fault state the engine consults on its hot paths (dense arrays, no
/// lookups by name). Overlapping faults stack: counts for on/off states, products for
/// factors, recomputed from the active faults when one starts or ends.
struct FaultState {
    /// How many active faults hold each node down.
    var downCount: [Int16]
    /// Disk service-time multiplier per node.
    var slowFactor: [Double]
    /// Probability (ppm) that a disk operation fails, per node.
    var errorPPM: [UInt32]
    /// Active disk-full faults per node.
    var fullCount: [Int16]
    /// Clock offset (ns) and drift (ppm, from `driftSince`) per node.
    var clockOffset: [Int64]
    var clockDriftPPM: [Double]
    var driftSince: [SimTime]
    /// Active key-holder outages per DC.
    var keyServiceDown: [Int16]
    /// Indices of active faults (into the plan).
    var active: [Int] = []

    init(nodes: Int, datacenters: Int) {
        downCount = Array(repeating: 0, count: nodes)
        slowFactor = Array(repeating: 1, count: nodes)
        errorPPM = Array(repeating: 0, count: nodes)
        fullCount = Array(repeating: 0, count: nodes)
        clockOffset = Array(repeating: 0, count: nodes)
        clockDriftPPM = Array(repeating: 0, count: nodes)
        driftSince = Array(repeating: .zero, count: nodes)
        keyServiceDown = Array(repeating: 0, count: datacenters)
    }
}

/// One fault as applied, for the report's fault timeline.
public struct FaultRecord: Sendable {
    public var kind: String
    public var target: String
    public var start: SimDuration
    /// `nil` = permanent (lasted to the end of the run).
    public var end: SimDuration?
    public var origin: String
    public var detail: String
}

extension Engine {
    /// Schedules every planned fault's start and end.
    func scheduleFaults() {
        for (i, f) in plan.enumerated() {
            guard f.start <= end else { continue }
            queue.schedule(.fault(UInt32(i), begin: true), at: f.start)
            if let e = f.end, e <= end { queue.schedule(.fault(UInt32(i), begin: false), at: e) }
        }
    }

    /// The local clock of `node`: true time plus its skew and drift.
    @inline(__always) func clock(_ node: Int) -> SimTime {
        let offset = faultState.clockOffset[node]
        let ppm = faultState.clockDriftPPM[node]
        if offset == 0 && ppm == 0 { return now }
        let drift = ppm == 0 ? 0 : Int64(Double((now - faultState.driftSince[node]).nanoseconds) * ppm / 1e6)
        return SimTime(nanoseconds: now.nanoseconds &+ offset &+ drift)
    }

    func handleFault(_ index: Int, begin: Bool) {
        let f = plan[index]
        if begin { faultState.active.append(index) } else {
            faultState.active.removeAll { $0 == index }
            redundancy.faultEnded(at: now)
        }
        metrics.faultChanged(index: index, begin: begin, at: now)
        switch f.effect {
        case .nodesDown(let nodes, let diskLost, let unflushed):
            for n in nodes {
                if begin {
                    faultState.downCount[n] += 1
                    if faultState.downCount[n] == 1 { crash(n, diskLost: diskLost, unflushed: unflushed) }
                    else if diskLost { loseDisk(n) }
                } else {
                    faultState.downCount[n] -= 1
                    if faultState.downCount[n] == 0 { restart(n) }
                }
            }
            reachabilityChanged()
        case .links(let pairs, let change):
            for p in pairs {
                if begin { network.impair(from: p.from, to: p.to, id: index, change) }
                else { network.restore(from: p.from, to: p.to, id: index) }
            }
            reachabilityChanged()
        case .slowDisk(let nodes, _), .failingDisk(let nodes, _), .diskFull(let nodes), .clockSkew(let nodes, _, _):
            for n in nodes { recomputeNodeFaults(n) }
        case .bitRot(let nodes, let fraction, let perHour):
            guard begin else { return }
            if fraction > 0 { for n in nodes { rot(node: n, fraction: fraction) } }
            if perHour > 0 { scheduleRot(index, nodes: nodes.count, perHour: perHour) }
        case .keyHolderOutage(let dcs):
            for dc in dcs { faultState.keyServiceDown[dc] += begin ? 1 : -1 }
            reachabilityChanged()
        case .seizure(let dcs):
            if begin { metrics.seizure(dcs: dcs, engine: self) }
        }
    }

    /// Recomputes a node's stacked disk and clock faults from the active list.
    func recomputeNodeFaults(_ node: Int) {
        var slow = 1.0, ok = 1.0, full: Int16 = 0, offset: Int64 = 0, drift = 0.0
        for i in faultState.active {
            switch plan[i].effect {
            case .slowDisk(let nodes, let factor) where nodes.contains(node): slow *= factor
            case .failingDisk(let nodes, let ppm) where nodes.contains(node): ok *= 1 - Double(ppm) / 1e6
            case .diskFull(let nodes) where nodes.contains(node): full += 1
            case .clockSkew(let nodes, let o, let d) where nodes.contains(node): offset += o.nanoseconds; drift += d
            default: break
            }
        }
        faultState.slowFactor[node] = slow
        faultState.errorPPM[node] = UInt32(((1 - ok) * 1e6).rounded())
        faultState.fullCount[node] = full
        if faultState.clockOffset[node] != offset || faultState.clockDriftPPM[node] != drift {
            // Fold the drift accumulated so far into the offset before changing it.
            let current = clock(node).nanoseconds - now.nanoseconds
            faultState.clockOffset[node] = drift == faultState.clockDriftPPM[node] ? offset : current - faultState.clockOffset[node] + offset
            faultState.clockDriftPPM[node] = drift
            faultState.driftSince[node] = now
        }
    }

    // MARK: Crash and restart

    func crash(_ node: Int, diskLost: Bool, unflushed: SimDuration) {
        guard liveness.isUp(node) else { return }
        liveness.up[node] = false
        epochs[node] &+= 1
        // Queued and in-service disk work is gone with the process.
        for slot in stations[node].reset() { _ = jobs.remove(slot) }
        redundancyNodeDown(node)
        if diskLost {
            loseDisk(node)
        } else if unflushed > .zero {
            redundancyUnflushedLost(node, since: now - unflushed)
            let lost = stores[node].loseWritesSince(now - unflushed)
            metrics.unflushedLost += UInt64(lost)
        }
        strategy.nodeDown(node, diskLost: diskLost, now: clock(node))
    }

    func loseDisk(_ node: Int) {
        metrics.disksLost += 1
        redundancyDiskLost(node)
        stores[node].loseEverything()
    }

    func restart(_ node: Int) {
        guard !liveness.isUp(node) else { return }
        liveness.up[node] = true
        redundancyNodeUp(node)
        strategy.nodeUp(node, now: clock(node), rng: &strategyRNG, effects: &effects)
        perform(at: node)
    }

    // MARK: Bit rot

    /// Corrupts a `fraction` of the intact copies on `node` (chosen by key order and the
    /// fault stream, so the choice is deterministic).
    func rot(node: Int, fraction: Double) {
        let keys = stores[node].copies.keys.sorted()
        for k in keys where faultRNG.unit() < fraction {
            let before = redundancyUnit(node: node, key: k)
            if stores[node].corrupt(k) {
                metrics.copiesRotted += 1
                redundancyChanged(node: node, key: k, before: before)
            }
        }
    }

    func scheduleRot(_ index: Int, nodes: Int, perHour: Double) {
        let rate = perHour * Double(nodes) / 3600e9   // per ns
        let gap = Distribution.exponential(mean: 1 / rate).sample(&faultRNG)
        queue.schedule(.rot(UInt32(index)), at: now + SimDuration(sampledNanoseconds: gap))
    }

    /// One bit-rot event of an active `bit-rot` fault: a random copy of a random target node.
    func handleRot(_ index: Int) {
        guard faultState.active.contains(index), case .bitRot(let nodes, _, let perHour) = plan[index].effect else { return }
        let node = nodes[Int(faultRNG.below(UInt64(nodes.count)))]
        // Probe a few random keys; a node holds a fraction of all shards.
        if !shards.isEmpty {
            for _ in 0..<16 {
                let k = ShardKey(faultRNG.below(UInt64(shards.count)))
                if stores[node].get(k) != nil {
                    let before = redundancyUnit(node: node, key: k)
                    if stores[node].corrupt(k) {
                        metrics.copiesRotted += 1
                        redundancyChanged(node: node, key: k, before: before)
                    }
                    break
                }
            }
        }
        scheduleRot(index, nodes: nodes.count, perHour: perHour)
    }

    // MARK: Disk faults

    /// The outcome a disk fault imposes on `request` at `node`, if any.
    func diskFault(_ request: StorageRequest, at node: Int) -> StorageCompletion.Outcome? {
        let ppm = faultState.errorPPM[node]
        if ppm > 0 && (ppm >= 1_000_000 || faultRNG.chance(ppm: ppm)) { metrics.diskErrors += 1; return .ioError }
        if faultState.fullCount[node] > 0 {
            switch request {
            case .put(_, _, _, let tombstone, _), .putLWW(_, _, _, let tombstone):
                if !tombstone { metrics.diskErrors += 1; return .ioError }
            default: break
            }
        }
        // A shard's key must be reachable from the node's DC to seal or open it.
        let key = request.key
        if Int(key.raw) < shards.count,
           !keyReachable(keyHolders[Int(shards[Int(key.raw)].homeDC)][KeyHolders.bucket(of: key)], from: world.datacenter(of: node)) {
            switch request {
            case .put, .putLWW, .get: metrics.keyUnavailable += 1; return .ioError
            default: break
            }
        }
        return nil
    }

    /// Whether enough of `holders` are up and reachable from `dc`.
    func keyReachable(_ holders: KeyHolders, from dc: Int) -> Bool {
        var reachable = 0
        for h in holders.dcs where faultState.keyServiceDown[h] == 0 && dcUp(h) && network.isReachable(from: dc, to: h)
            && network.isReachable(from: h, to: dc) {
            reachable += 1
        }
        return reachable >= holders.threshold
    }

    /// Whether any node of DC `dc` is up.
    func dcUp(_ dc: Int) -> Bool { world.nodesByDC[dc].contains { liveness.isUp($0) } }

    /// The fault timeline as applied, for the report.
    var faultRecords: [FaultRecord] {
        plan.filter { $0.start <= end }.map {
            FaultRecord(kind: $0.kind, target: $0.target, start: $0.start - .zero,
                        end: $0.end.flatMap { $0 <= end ? $0 - .zero : nil }, origin: $0.origin, detail: $0.detail)
        }
    }
}

/// The DCs holding a shard's data key, and how many of them must be reachable — from the
/// pipeline's ``KeyPlacementPolicy`` (the one definition of key placement), tabulated per
/// home DC and key bucket so the hot path does no allocation.
struct KeyHolders: Sendable {
    var dcs: [Int]
    var threshold: Int

    /// Buckets a shard's key-placement choice falls into.
    static let buckets = 64
    /// The placement choice for a shard: a hash of its key, bucketed.
    @inline(__always) static func bucket(of key: ShardKey) -> Int { Int(mix64(key.raw ^ 0x6B65_7973) & UInt64(buckets - 1)) }

    /// `[home][bucket]` key holders for a policy.
    static func table(_ policy: KeyPlacementPolicy, topology: Topology) throws -> [[KeyHolders]] {
        let kt = KeyPlacementTopology(jurisdictionOfDC: topology.datacenters.map(\.jurisdiction),
                                      regionOfDC: topology.datacenters.map(\.region))
        return try topology.datacenters.indices.map { home in
            try (0..<buckets).map { b in
                let p = try policy.place(dataDC: home, topology: kt, choice: UInt64(b))
                return KeyHolders(dcs: p.holders, threshold: p.threshold)
            }
        }
    }
}
