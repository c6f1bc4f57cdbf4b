import SimCore

/// How many replicas must answer a read or acknowledge a write: Cassandra's consistency
/// levels, plus a plain count (Dynamo's R and W).
///
/// A level turns into a ``QuorumRequirement`` for one key once the key's replica layout
/// (replicas per DC) and the coordinator's DC are known: `QUORUM` is ⌊N/2⌋+1 of all N
/// replicas, `LOCAL_QUORUM` is ⌊n_local/2⌋+1 of the replicas in the coordinator's DC,
/// `EACH_QUORUM` is ⌊n_d/2⌋+1 in every DC d that holds replicas, `ALL` is N.
public enum ConsistencyLevel: Equatable, Sendable, CustomStringConvertible {
    case one, two, three, quorum, all
    case localOne, localQuorum, eachQuorum
    /// Exactly this many replicas, anywhere (Dynamo's `r`/`w`).
    case count(Int)

    /// The names accepted in scenario files.
    static let named: [(name: String, level: ConsistencyLevel)] = [
        ("one", .one), ("two", .two), ("three", .three), ("quorum", .quorum),
        ("local_one", .localOne), ("local_quorum", .localQuorum), ("each_quorum", .eachQuorum), ("all", .all),
    ]

    public var description: String {
        if case .count(let k) = self { return "\(k)" }
        return Self.named.first { $0.level == self }!.name
    }

    /// Whether the level counts replicas in the coordinator's DC only.
    public var isLocal: Bool { self == .localOne || self == .localQuorum }

    /// The requirement for a key whose replicas are spread as `layout` (DC → replicas),
    /// coordinated from `localDC`; nil when this layout cannot meet the level at all (more
    /// replicas asked for than exist, or a local level in a DC with no replica).
    public func requirement(layout: [DCCount], localDC: Int) -> QuorumRequirement? {
        let n = layout.reduce(0) { $0 + $1.count }
        func total(_ k: Int) -> QuorumRequirement? { k <= n ? QuorumRequirement(total: k, perDC: []) : nil }
        switch self {
        case .one: return total(1)
        case .two: return total(2)
        case .three: return total(3)
        case .count(let k): return total(k)
        case .quorum: return total(n / 2 + 1)
        case .all: return total(n)
        case .localOne, .localQuorum:
            guard let local = layout.first(where: { $0.dc == localDC }), local.count > 0 else { return nil }
            let k = self == .localOne ? 1 : local.count / 2 + 1
            return QuorumRequirement(total: 0, perDC: [DCCount(dc: localDC, count: k)])
        case .eachQuorum:
            return QuorumRequirement(total: 0, perDC: layout.map { DCCount(dc: $0.dc, count: $0.count / 2 + 1) })
        }
    }
}

/// A number of replicas in one datacenter.
public struct DCCount: Equatable, Sendable {
    public var dc: Int
    public var count: Int
    public init(dc: Int, count: Int) { self.dc = dc; self.count = count }
}

/// What one read or write needs: at least `total` answering replicas overall, and at least
/// `perDC[i].count` of them in DC `perDC[i].dc`.
public struct QuorumRequirement: Equatable, Sendable {
    public var total: Int
    public var perDC: [DCCount]

    /// The smallest number of replicas that meets it.
    public var minimumReplicas: Int { Swift.max(total, perDC.reduce(0) { $0 + $1.count }) }

    /// Whether replicas in these DCs (one entry per distinct answering replica) meet it.
    public func isMet<C: Collection>(byReplicasIn dcs: C) -> Bool where C.Element == Int {
        guard dcs.count >= total else { return false }
        for need in perDC where need.count > 0 {
            var have = 0
            for dc in dcs where dc == need.dc { have += 1 }
            if have < need.count { return false }
        }
        return true
    }

    /// Whether `available` replicas per DC (indexed like `layout`) could still meet it.
    func isSatisfiable(layout: [DCCount], available: [Int]) -> Bool {
        guard available.reduce(0, +) >= total else { return false }
        for need in perDC {
            guard let i = layout.firstIndex(where: { $0.dc == need.dc }), available[i] >= need.count else { return false }
        }
        return true
    }

    /// A smallest set of replicas that meets the requirement, chosen at random: for each DC
    /// with a count, that many of its replicas; then random others up to `total`. Returns
    /// indices into `replicaDCs` (the DC of each replica, in placement order), and the
    /// remaining indices in random order (to try next if a chosen one does not answer).
    public func pick(replicaDCs: [Int], rng: inout SimRandom) -> (chosen: [Int], rest: [Int]) {
        var order = Array(replicaDCs.indices)
        rng.shuffle(&order)
        var chosen: [Int] = []
        for need in perDC {
            var taken = 0
            for i in order where taken < need.count && replicaDCs[i] == need.dc && !chosen.contains(i) {
                chosen.append(i); taken += 1
            }
        }
        for i in order where chosen.count < total && !chosen.contains(i) { chosen.append(i) }
        return (chosen, order.filter { !chosen.contains($0) })
    }
}

// MARK: Static analysis of a configuration

/// Properties of a read level and a write level over every replica layout a placement
/// produces, computed once when the strategy is built (for its summary, the fault planner's
/// tolerance and time-weighted availability).
struct QuorumAnalysis {
    /// Every read quorum meets every write quorum, whatever the coordinators' DCs (R + W > N,
    /// generalised to per-DC levels).
    var strong: Bool
    /// Smallest read and write sets (for the first layout, coordinated from its first DC).
    var readReplicas: Int
    var writeReplicas: Int
    /// Whole DCs, and nodes, that may be down while reads and writes can still be met.
    var datacentersTolerated: Int
    var nodesTolerated: Int
    /// The fewest nodes, and DCs, an acknowledged write can be on.
    var writeNodesMin: Int
    var writeDCsMin: Int

    /// Layouts larger than this many DCs are analysed by removing the largest DCs first
    /// instead of trying every subset.
    static let exhaustiveDCLimit = 12
    /// Layouts over more DCs than this have node failures taken from the largest DCs first
    /// instead of trying every spread.
    static let exhaustiveNodeSpreadLimit = 6

    init(read: ConsistencyLevel, write: ConsistencyLevel, layouts: [[DCCount]]) {
        var strong = true
        var dcTol = Int.max, nodeTol = Int.max
        var writeNodes = Int.max, writeDCs = Int.max
        for layout in layouts {
            let locals = layout.map(\.dc)
            // Strong: for no choice of local DCs can a read set and a write set be disjoint.
            for rl in (read.isLocal ? locals : [locals[0]]) {
                for wl in (write.isLocal ? locals : [locals[0]]) {
                    guard let r = read.requirement(layout: layout, localDC: rl),
                          let w = write.requirement(layout: layout, localDC: wl) else { continue }
                    if Self.canBeDisjoint(r, w, layout: layout) { strong = false }
                }
            }
            // The smallest acknowledged write.
            for wl in (write.isLocal ? locals : [locals[0]]) {
                guard let w = write.requirement(layout: layout, localDC: wl) else { continue }
                writeNodes = Swift.min(writeNodes, w.minimumReplicas)
                writeDCs = Swift.min(writeDCs, Self.fewestDCs(w, layout: layout))
            }
            dcTol = Swift.min(dcTol, Self.datacentersTolerated(read, write, layout: layout))
            nodeTol = Swift.min(nodeTol, Self.nodesTolerated(read, write, layout: layout))
        }
        let first = layouts[0]
        self.strong = strong
        readReplicas = read.requirement(layout: first, localDC: first[0].dc)?.minimumReplicas ?? 1
        writeReplicas = write.requirement(layout: first, localDC: first[0].dc)?.minimumReplicas ?? 1
        datacentersTolerated = dcTol == .max ? 0 : dcTol
        nodesTolerated = nodeTol == .max ? 0 : nodeTol
        writeNodesMin = writeNodes == .max ? 1 : writeNodes
        writeDCsMin = writeDCs == .max ? 1 : writeDCs
    }

    /// Whether a read set meeting `r` and a write set meeting `w` can share no replica.
    static func canBeDisjoint(_ r: QuorumRequirement, _ w: QuorumRequirement, layout: [DCCount]) -> Bool {
        var slack = 0, rFixed = 0, wFixed = 0
        for d in layout {
            let rd = r.perDC.first { $0.dc == d.dc }?.count ?? 0
            let wd = w.perDC.first { $0.dc == d.dc }?.count ?? 0
            if rd + wd > d.count { return false }
            slack += d.count - rd - wd
            rFixed += rd; wFixed += wd
        }
        return Swift.max(0, r.total - rFixed) + Swift.max(0, w.total - wFixed) <= slack
    }

    /// The fewest DCs a set meeting `w` can span.
    static func fewestDCs(_ w: QuorumRequirement, layout: [DCCount]) -> Int {
        var used = layout.filter { d in w.perDC.contains { $0.dc == d.dc && $0.count > 0 } }
        var capacity = used.reduce(0) { $0 + $1.count }
        let others = layout.filter { d in !used.contains { $0.dc == d.dc } }.sorted { $0.count > $1.count }
        for d in others where capacity < w.total { used.append(d); capacity += d.count }
        return Swift.max(1, used.count)
    }

    /// Whether both levels can still be met with `available` replicas per DC, for some
    /// coordinator DC (clients fail over to another DC).
    static func survives(_ read: ConsistencyLevel, _ write: ConsistencyLevel, layout: [DCCount], available: [Int]) -> Bool {
        func ok(_ level: ConsistencyLevel) -> Bool {
            let locals = level.isLocal ? layout.indices.filter { available[$0] > 0 }.map { layout[$0].dc } : [layout[0].dc]
            return locals.contains { dc in
                level.requirement(layout: layout, localDC: dc)?.isSatisfiable(layout: layout, available: available) ?? false
            }
        }
        return ok(read) && ok(write)
    }

    /// The most whole DCs of `layout` that may be down at once.
    static func datacentersTolerated(_ read: ConsistencyLevel, _ write: ConsistencyLevel, layout: [DCCount]) -> Int {
        let m = layout.count
        if m > exhaustiveDCLimit {
            // Remove the largest DCs first.
            let bySize = layout.indices.sorted { layout[$0].count > layout[$1].count }
            var available = layout.map(\.count)
            for (k, i) in bySize.enumerated() {
                available[i] = 0
                if !survives(read, write, layout: layout, available: available) { return k }
            }
            return m
        }
        var tolerated = 0
        for k in 1...m {
            for mask in 0..<(1 << m) where mask.nonzeroBitCount == k {
                let available = layout.indices.map { mask & (1 << $0) != 0 ? 0 : layout[$0].count }
                if !survives(read, write, layout: layout, available: available) { return tolerated }
            }
            tolerated = k
        }
        return tolerated
    }

    /// The most nodes holding replicas of one key that may be down at once (worst spread).
    static func nodesTolerated(_ read: ConsistencyLevel, _ write: ConsistencyLevel, layout: [DCCount]) -> Int {
        let n = layout.reduce(0) { $0 + $1.count }
        var tolerated = 0
        for k in 1...n {
            var allSurvive = true
            if layout.count > exhaustiveNodeSpreadLimit {
                // Take the downs from the largest DCs first.
                var available = layout.map(\.count)
                var left = k
                for i in layout.indices.sorted(by: { layout[$0].count > layout[$1].count }) where left > 0 {
                    let t = Swift.min(left, available[i]); available[i] -= t; left -= t
                }
                allSurvive = survives(read, write, layout: layout, available: available)
            } else {
                // Every way to spread k downs over the DCs.
                var available = layout.map(\.count)
                func spread(_ i: Int, _ left: Int) {
                    guard allSurvive else { return }
                    if i == layout.count {
                        if left == 0 && !survives(read, write, layout: layout, available: available) { allSurvive = false }
                        return
                    }
                    for t in 0...Swift.min(left, layout[i].count) {
                        available[i] = layout[i].count - t
                        spread(i + 1, left - t)
                    }
                    available[i] = layout[i].count
                }
                spread(0, k)
            }
            if !allSurvive { return tolerated }
            tolerated = k
        }
        return tolerated
    }
}
