import SimCore
import SimConfig

/// Where a key's replicas (or erasure-coded fragments) live: chosen by failure domain over a
/// deterministic hash ring, under constraints such as "3 copies in 3 DCs in 2 jurisdictions"
/// or explicit per-DC counts. Every strategy reads its placement through this one type, so
/// the same scenario parameters mean the same thing for every protocol.
///
/// Parameters (all optional; see docs/FORMAT.md, "Placement"):
/// - `copies`: how many replicas or fragments (default: the strategy's).
/// - `per_dc`: a map `{ams: 2, mia: 1}` of explicit counts per DC (replaces `copies`);
///   `"*": n` puts n in every DC (at most its node count), named DCs overriding it.
/// - `order`: `nearest` (the home DC, then DCs by latency from it — a messenger's home-DC
///   layout) or `ring` (DCs in the order a consistent-hash ring gives the key — Dynamo).
/// - `home_first`: whether the key's home DC (its chat's DC) always holds the first copy.
/// - `min_jurisdictions`, `min_regions`: the copies must span at least this many.
///
/// Copies go to distinct DCs as long as there are DCs left, then to further distinct nodes of
/// the chosen DCs in the same order; within a DC, nodes are picked by rendezvous hashing of
/// the key, so a key's nodes never change while the topology does not.
public struct Placement: Sendable {
    public enum Order: String, Sendable { case nearest, ring }

    public let copies: Int
    public let order: Order
    public let homeFirst: Bool
    public let minJurisdictions: Int
    public let minRegions: Int
    /// Explicit per-DC counts (DC index → copies), when `per_dc` was given.
    public let perDC: [(dc: Int, count: Int)]?
    let world: StrategyWorld
    /// Ring positions per DC (virtual nodes), for `ring` order.
    static let ringBuckets = 256
    /// Precomputed DC lists: `[home][bucket]` (bucket 0 only for `nearest`).
    let dcLists: [[[Int]]]
    /// The chosen DCs and copy counts per `[home][bucket]`, computed once.
    private(set) var selections: [[[(dc: Int, count: Int)]]] = []

    /// Reads the placement parameters from `p`.
    /// - Throws: when a constraint cannot be met by the topology (naming the parameter).
    public init(_ p: inout StrategyParameters, world: StrategyWorld, defaultCopies: Int,
                defaultOrder: Order = .nearest, defaultHomeFirst: Bool = true,
                maxCopies: Int? = nil) throws {
        let topology = world.topology
        let dcs = topology.datacenters.count
        let nodeCount = topology.nodes.count
        let limit = maxCopies ?? nodeCount
        self.world = world
        order = Order(rawValue: try p.choice("order", default: defaultOrder.rawValue, allowed: ["nearest", "ring"]))!
        homeFirst = try p.bool("home_first", default: defaultHomeFirst)
        minJurisdictions = try p.int("min_jurisdictions", default: 1, in: 1...Swift.max(1, topology.jurisdictions.count))
        minRegions = try p.int("min_regions", default: 1, in: 1...Swift.max(1, topology.regions.count))
        if let map = try p.map("per_dc") {
            // `"*": n` = n in every DC (at most its node count); named DCs override it.
            var perIndex = [Int](repeating: 0, count: dcs)
            var listed: [Int] = []   // DCs in the order written (every DC, in topology order, with "*")
            if let every = map.last(where: { $0.key == "*" }) {
                let n = try every.integer(in: 0...1_000)
                for dc in 0..<dcs { perIndex[dc] = Swift.min(n, topology.datacenters[dc].nodes.count) }
                listed = Array(0..<dcs)
            }
            for entry in map where entry.key != "*" {
                guard let dc = topology.datacenterIndex(named: entry.key) else {
                    throw ConfigErrors([entry.error("unknown datacenter '\(entry.key)'\(didYouMean(entry.key, among: topology.datacenters.map(\.id))); allowed: \(topology.datacenters.map(\.id).joined(separator: ", ")), or \"*\" for every DC")])
                }
                perIndex[dc] = try entry.integer(in: 0...topology.datacenters[dc].nodes.count)
                if !listed.contains(dc) { listed.append(dc) }
            }
            let counts: [(dc: Int, count: Int)] = listed.compactMap { perIndex[$0] > 0 ? ($0, perIndex[$0]) : nil }
            guard !counts.isEmpty else {
                throw StrategyError(strategy: p.strategy, parameter: "per_dc", message: "needs at least one DC with a count above 0",
                                    location: p.location(of: "per_dc"))
            }
            perDC = counts
            copies = counts.reduce(0) { $0 + $1.count }
            _ = try p.int("copies", default: copies, in: copies...copies)
        } else {
            perDC = nil
            copies = try p.int("copies", default: Swift.min(defaultCopies, limit), in: 1...Swift.max(1, limit))
        }
        // Precompute DC orders.
        let buckets = order == .ring ? Self.ringBuckets : 1
        let order = self.order, homeFirst = self.homeFirst
        dcLists = (0..<dcs).map { home in
            (0..<buckets).map { bucket in
                var base: [Int]
                switch order {
                case .nearest: base = [home] + world.nearestDCs[home]
                case .ring:
                    base = (0..<dcs).sorted { a, b in
                        let ha = mix64(UInt64(bucket) &* 0x1000_0000_01B3 ^ UInt64(a))
                        let hb = mix64(UInt64(bucket) &* 0x1000_0000_01B3 ^ UInt64(b))
                        return ha != hb ? ha < hb : a < b
                    }
                    if homeFirst { base.removeAll { $0 == home }; base.insert(home, at: 0) }
                }
                return base
            }
        }
        selections = dcLists.map { $0.map { selectDCs($0) } }
        // Check the constraints can be met at all (from every home).
        for home in 0..<dcs {
            let dcsUsed = Set(selections[home][0].map { $0.dc })
            let j = Set(dcsUsed.map { topology.datacenters[$0].jurisdiction }).count
            let r = Set(dcsUsed.map { topology.datacenters[$0].region }).count
            if j < minJurisdictions {
                throw StrategyError(strategy: p.strategy, parameter: "min_jurisdictions",
                                    message: "\(copies) copies cannot span \(minJurisdictions) jurisdictions from DC \(topology.datacenters[home].id)",
                                    location: p.location(of: "min_jurisdictions"))
            }
            if r < minRegions {
                throw StrategyError(strategy: p.strategy, parameter: "min_regions",
                                    message: "\(copies) copies cannot span \(minRegions) regions from DC \(topology.datacenters[home].id)",
                                    location: p.location(of: "min_regions"))
            }
        }
    }

    /// A one-line description for summaries.
    public var summary: String {
        if let perDC {
            return "per_dc={" + perDC.map { "\(world.topology.datacenters[$0.dc].id): \($0.count)" }.joined(separator: ", ") + "}"
        }
        var s = "copies=\(copies) order=\(order.rawValue)"
        if minJurisdictions > 1 { s += " min_jurisdictions=\(minJurisdictions)" }
        if minRegions > 1 { s += " min_regions=\(minRegions)" }
        return s
    }

    /// Chooses DCs with copy counts from an ordered candidate list, honouring the
    /// constraints: first DCs that add a missing jurisdiction or region, then the rest in
    /// order, one copy each; leftover copies go round-robin to the chosen DCs' further nodes.
    func selectDCs(_ candidates: [Int]) -> [(dc: Int, count: Int)] {
        if let perDC {
            // Explicit counts, in candidate order (the home DC first when it has copies).
            return candidates.compactMap { dc in perDC.first { $0.dc == dc }.map { (dc, $0.count) } }
        }
        let topology = world.topology
        var chosen: [Int] = []
        let target = Swift.min(copies, candidates.count)
        if homeFirst, let first = candidates.first { chosen.append(first) }
        func add(where ok: (Int) -> Bool) {
            if chosen.count < target, let dc = candidates.first(where: { !chosen.contains($0) && ok($0) }) { chosen.append(dc) }
        }
        while Set(chosen.map { topology.datacenters[$0].jurisdiction }).count < minJurisdictions && chosen.count < target {
            let have = Set(chosen.map { topology.datacenters[$0].jurisdiction })
            let before = chosen.count
            add { !have.contains(topology.datacenters[$0].jurisdiction) }
            if chosen.count == before { break }
        }
        while Set(chosen.map { topology.datacenters[$0].region }).count < minRegions && chosen.count < target {
            let have = Set(chosen.map { topology.datacenters[$0].region })
            let before = chosen.count
            add { !have.contains(topology.datacenters[$0].region) }
            if chosen.count == before { break }
        }
        for dc in candidates where chosen.count < target && !chosen.contains(dc) { chosen.append(dc) }
        // Restore candidate order (home first), then spread leftover copies over nodes.
        chosen.sort { candidates.firstIndex(of: $0)! < candidates.firstIndex(of: $1)! }
        var counts = chosen.map { (dc: $0, count: 1) }
        var left = copies - counts.count
        var progress = true
        while left > 0 && progress {
            progress = false
            for i in counts.indices where left > 0 && counts[i].count < topology.datacenters[counts[i].dc].nodes.count {
                counts[i].count += 1; left -= 1; progress = true
            }
        }
        return counts
    }

    /// The nodes that hold `key` (home DC `home`), in placement order: the first is the
    /// primary / head / first fragment.
    public func nodes(for key: ShardKey, home: Int) -> [Int] {
        let bucket = order == .ring ? Int(mix64(key.raw ^ 0x5EED) % UInt64(Self.ringBuckets)) : 0
        var result: [Int] = []
        result.reserveCapacity(copies)
        for (dc, count) in selectDCsCached(home: home, bucket: bucket) {
            let nodes = world.nodesByDC[dc]
            if count == 1 {
                result.append(world.node(in: dc, for: key))
            } else {
                // Rendezvous: the `count` nodes with the highest hash of (key, node).
                let ranked = nodes.sorted { a, b in
                    let ha = mix64(key.raw &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(a)), hb = mix64(key.raw &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(b))
                    return ha != hb ? ha > hb : a < b
                }
                result.append(contentsOf: ranked.prefix(count))
            }
        }
        return result
    }

    @inline(__always) func selectDCsCached(home: Int, bucket: Int) -> [(dc: Int, count: Int)] {
        selections[home][bucket]
    }

    /// The DCs of `nodes(for:home:)`, in order (each once).
    public func datacenters(for key: ShardKey, home: Int) -> [Int] {
        let bucket = order == .ring ? Int(mix64(key.raw ^ 0x5EED) % UInt64(Self.ringBuckets)) : 0
        return selectDCsCached(home: home, bucket: bucket).map(\.dc)
    }
}
