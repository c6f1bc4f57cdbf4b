import SimConfig

/// A fault target resolved against the topology: the DCs and nodes it names, or the
/// one-way inter-DC links it covers.
///
/// Grammar (checked at load time by SimConfig; see docs/FORMAT.md "Targets"): `SET`,
/// `SET->SET` (links one way) or `SET<->SET` (both ways); a SET is comma-separated
/// selectors — a DC id, `region:NAME`, `jurisdiction:NAME`, `node:DC-N` or `*`.
struct FaultTarget: Sendable, Equatable {
    /// DCs named by the (first) set, ascending.
    var datacenters: [Int]
    /// Nodes named: every node of `datacenters` plus `node:` selectors, ascending.
    var nodes: [Int]
    /// For link targets: the one-way DC pairs, in (from, to) order; `nil` for set targets.
    var links: [DCPair]?

    struct DCPair: Hashable, Sendable, Comparable {
        var from: Int
        var to: Int
        static func < (a: DCPair, b: DCPair) -> Bool { (a.from, a.to) < (b.from, b.to) }
    }

    /// Whether the target named `node:` selectors (which only node-level faults accept).
    var namesSingleNodes: Bool

    init(_ text: String, topology: Topology) {
        func resolveSet(_ side: Substring) -> (dcs: Set<Int>, nodes: Set<Int>, single: Bool) {
            var dcs = Set<Int>(), nodes = Set<Int>(), single = false
            for raw in side.split(separator: ",") {
                let sel = raw.trimmingCharacters(in: " ")
                if sel == "*" {
                    dcs.formUnion(topology.datacenters.indices)
                } else if sel.hasPrefix("region:") {
                    let name = String(sel.dropFirst(7))
                    if let r = topology.regions.firstIndex(of: name) {
                        dcs.formUnion(topology.datacenters.indices.filter { topology.datacenters[$0].region == r })
                    }
                } else if sel.hasPrefix("jurisdiction:") {
                    let name = String(sel.dropFirst(13))
                    if let j = topology.jurisdictions.firstIndex(of: name) {
                        dcs.formUnion(topology.datacenters.indices.filter { topology.datacenters[$0].jurisdiction == j })
                    }
                } else if sel.hasPrefix("node:") {
                    let name = String(sel.dropFirst(5))
                    if let n = topology.nodes.firstIndex(where: { $0.name == name }) { nodes.insert(n); single = true }
                } else if let dc = topology.datacenterIndex(named: sel) {
                    dcs.insert(dc)
                }
            }
            for dc in dcs { nodes.formUnion(topology.datacenters[dc].nodes) }
            return (dcs, nodes, single)
        }
        if let r = text.range(of: "<->") ?? text.range(of: "->") {
            let both = text[r] == "<->"
            let a = resolveSet(text[..<r.lowerBound]).dcs, b = resolveSet(text[r.upperBound...]).dcs
            var pairs = Set<DCPair>()
            for x in a { for y in b where x != y {
                pairs.insert(DCPair(from: x, to: y))
                if both { pairs.insert(DCPair(from: y, to: x)) }
            } }
            datacenters = a.sorted()
            nodes = []
            links = pairs.sorted()
            namesSingleNodes = false
        } else {
            let s = resolveSet(Substring(text))
            datacenters = s.dcs.sorted()
            nodes = s.nodes.sorted()
            links = nil
            namesSingleNodes = s.single
        }
    }

    /// For a set target used where links are meant: every link between the set and the
    /// rest of the topology (`bothWays`), or only those leaving the set.
    func isolating(datacenterCount: Int, bothWays: Bool) -> [DCPair] {
        let inside = Set(datacenters)
        var pairs: [DCPair] = []
        for a in 0..<datacenterCount {
            for b in 0..<datacenterCount where a != b && inside.contains(a) != inside.contains(b) {
                if inside.contains(a) || bothWays { pairs.append(DCPair(from: a, to: b)) }
            }
        }
        return pairs
    }
}

private extension Substring {
    func trimmingCharacters(in set: Character) -> String {
        var s = self
        while s.first == set { s.removeFirst() }
        while s.last == set { s.removeLast() }
        return String(s)
    }
}
