import SimCore

/// Reads a topology file's syntax tree into a validated ``Topology``.
///
/// Layering of values, later wins: built-in ``TopologyDefaults`` → the file's `defaults:`
/// section → a datacenter's own `node:`/`intra_dc:` → for WAN links, `latency_matrix:` (base
/// delay) → `links:` (per-pair overrides).
///
/// The one-way WAN delay from A to B is, unless overridden, a constant propagation delay of
/// `haversine(A, B) × per_km × route_factor` plus the `jitter` distribution (the constant
/// is folded into the distribution's offset, and any clamps of the jitter move with it).
struct TopologyReader {
    let diagnostics: Diagnostics

    static let topKeys = ["name", "description", "defaults", "datacenters", "links", "latency_matrix"]
    static let defaultsKeys = ["node", "intra_dc", "wan", "access"]
    static let nodeKeys = ["servers", "queue_capacity", "disk", "service"]
    static let serviceKeys = OperationKind.allCases.map(\.description)
    static let intraKeys = ["latency", "loss", "bandwidth"]
    static let wanKeys = ["per_km", "route_factor", "jitter", "loss", "bandwidth"]
    static let dcKeys = ["id", "city", "lat", "lon", "region", "jurisdiction", "nodes", "node", "intra_dc"]
    static let linkKeys = ["between", "from", "to", "latency", "jitter", "loss", "bandwidth"]

    /// Bounds that keep a mistaken file from exhausting memory (links are count², nodes are
    /// materialised one by one).
    static let maxDatacenters = 1_000
    static let maxNodes = 1_000_000

    /// A node's settings while layers are applied.
    struct NodeTemplate {
        var servers = TopologyDefaults.servers
        var queueCapacity = TopologyDefaults.queueCapacity
        var diskBytes = TopologyDefaults.diskBytes
        var serviceTime = TopologyDefaults.serviceTime
    }

    /// A link's settings while layers are applied.
    struct LinkTemplate {
        var latency = TopologyDefaults.intraLatency
        var lossPPM = TopologyDefaults.intraLossPPM
        var bandwidth = TopologyDefaults.intraBandwidth
    }

    struct WANTemplate {
        var perKm = TopologyDefaults.wanPerKmNanoseconds
        var routeFactor = TopologyDefaults.wanRouteFactor
        var jitter = TopologyDefaults.wanJitter
        var lossPPM = TopologyDefaults.wanLossPPM
        var bandwidth = TopologyDefaults.wanBandwidth
    }

    /// A datacenter as read, before indices are assigned.
    struct RawDC {
        var id: String
        var city: String
        var lat: Double
        var lon: Double
        var region: String
        var jurisdiction: String
        var nodeCount: Int
        var node: NodeTemplate
        var intra: LinkTemplate
    }

    /// One directed WAN pair while layers are applied.
    struct Pair {
        var distanceKm: Double
        var base: Double            // propagation delay, ns
        var jitter: Distribution
        var latency: Distribution?  // a full replacement from `links:`
        var lossPPM: UInt32
        var bandwidth: Int64
        var setBy: SourceLocation?  // the `links:` entry that last set it
    }

    /// Reads the whole file. Returns nil when anything was wrong (errors are in diagnostics).
    func read(_ root: YNode?, defaultName: String, source: String, contentHash: String) -> Topology? {
        guard let root else {
            diagnostics.add(ConfigError(file: source, line: nil, column: nil, field: "",
                                        message: "the file is empty; a topology needs at least 'datacenters:'"))
            return nil
        }
        let errorsBefore = diagnostics.errors.count
        guard let top = root.mapping(allowed: Self.topKeys, what: "a topology (a mapping with 'datacenters:')") else {
            return nil
        }
        let name = top["name"]?.string() ?? defaultName
        let summary = top["description"]?.string() ?? ""

        // Defaults section.
        var node = NodeTemplate()
        var intra = LinkTemplate()
        var wan = WANTemplate()
        var access = TopologyDefaults.access
        if let d = top["defaults"]?.mapping(allowed: Self.defaultsKeys) {
            if let n = d["node"] { applyNode(n, to: &node) }
            if let n = d["intra_dc"] { applyIntra(n, to: &intra) }
            if let n = d["wan"] { applyWAN(n, to: &wan) }
            if let n = d["access"], let dist = n.distribution(.duration) { access = dist }
        }

        // Datacenters. `ids` holds every well-formed id, even of datacenters with other
        // errors, so links to them are not reported as unknown too.
        var dcs: [RawDC] = []
        var ids: [String] = []
        var allRead = true
        if let list = top.required("datacenters", expected: "a list of datacenters")?.list(what: "a list of datacenters") {
            if list.isEmpty {
                top["datacenters"]?.error("a topology needs at least one datacenter")
            } else if list.count > Self.maxDatacenters {
                top["datacenters"]?.error("\(list.count) datacenters is more than the supported \(Self.maxDatacenters) (links grow with the square of the count)")
                return nil
            }
            var seen: [String: SourceLocation] = [:]
            for item in list {
                let (id, idNode, dc) = readDC(item, node: node, intra: intra)
                if let id, let idNode {
                    if let first = seen[id] {
                        idNode.error("duplicate datacenter id '\(id)' (first defined at line \(first.line)); ids must be unique")
                        allRead = false
                        continue
                    }
                    seen[id] = idNode.location
                    ids.append(id)
                }
                if let dc { dcs.append(dc) } else { allRead = false }
            }
        } else {
            allRead = false
        }
        // Regions and jurisdictions, in order of first appearance.
        var regions: [String] = [], jurisdictions: [String] = []
        for dc in dcs {
            if !regions.contains(dc.region) { regions.append(dc.region) }
            if !jurisdictions.contains(dc.jurisdiction) { jurisdictions.append(dc.jurisdiction) }
        }

        // WAN pairs: derived from coordinates. When some datacenter could not be read, the
        // pairs are placeholders: links and the matrix are still checked, not built.
        let totalNodes = dcs.reduce(0) { $0 + $1.nodeCount }
        if totalNodes > Self.maxNodes {
            top["datacenters"]?.error("\(totalNodes) nodes in all is more than the supported \(Self.maxNodes)")
            allRead = false
        }
        let count = ids.count
        var pairs: [Pair] = []
        pairs.reserveCapacity(count * count)
        for i in 0..<count {
            for j in 0..<count {
                var km = 0.0
                if allRead, i != j {
                    km = greatCircleKm(lat1: dcs[i].lat, lon1: dcs[i].lon, lat2: dcs[j].lat, lon2: dcs[j].lon)
                }
                pairs.append(Pair(distanceKm: km, base: km * wan.perKm * wan.routeFactor, jitter: wan.jitter,
                                  latency: nil, lossPPM: wan.lossPPM, bandwidth: wan.bandwidth, setBy: nil))
            }
        }

        if let matrix = top["latency_matrix"] { applyMatrix(matrix, ids: ids, pairs: &pairs) }
        if let links = top["links"]?.list(what: "a list of link overrides") {
            for item in links { applyLink(item, ids: ids, pairs: &pairs) }
        }

        guard diagnostics.errors.count == errorsBefore, allRead, count > 0, dcs.count == count else { return nil }

        // Assemble the immutable model.
        var datacenters: [Datacenter] = []
        var nodes: [NodeSpec] = []
        for (i, dc) in dcs.enumerated() {
            let first = nodes.count
            for n in 1...dc.nodeCount {
                nodes.append(NodeSpec(name: "\(dc.id)-\(n)", datacenter: i, servers: dc.node.servers,
                                      queueCapacity: dc.node.queueCapacity, diskBytes: dc.node.diskBytes,
                                      serviceTime: dc.node.serviceTime))
            }
            datacenters.append(Datacenter(id: dc.id, city: dc.city, latitude: dc.lat, longitude: dc.lon,
                                          region: regions.firstIndex(of: dc.region) ?? 0,
                                          jurisdiction: jurisdictions.firstIndex(of: dc.jurisdiction) ?? 0,
                                          nodes: first..<nodes.count))
        }
        var links: [LinkSpec] = []
        links.reserveCapacity(count * count)
        for from in 0..<count {
            for to in 0..<count {
                if from == to {
                    let t = dcs[from].intra
                    links.append(LinkSpec(latency: t.latency, lossPPM: t.lossPPM,
                                          bandwidthBitsPerSecond: t.bandwidth, distanceKm: 0))
                } else {
                    let p = pairs[from * count + to]
                    links.append(LinkSpec(latency: p.latency ?? shifted(p.jitter, by: p.base), lossPPM: p.lossPPM,
                                          bandwidthBitsPerSecond: p.bandwidth, distanceKm: p.distanceKm))
                }
            }
        }
        return Topology(name: name, summary: summary, source: source, contentHash: contentHash,
                        regions: regions, jurisdictions: jurisdictions, datacenters: datacenters,
                        nodes: nodes, links: links, accessLatency: access)
    }

    // MARK: Sections

    func applyNode(_ n: YNode, to t: inout NodeTemplate) {
        guard let m = n.mapping(allowed: Self.nodeKeys) else { return }
        if let v = m["servers"]?.int(1...100_000, what: "a whole number of servers") { t.servers = v }
        if let v = m["queue_capacity"]?.int(0...100_000_000, what: "a whole number of queue slots") { t.queueCapacity = v }
        if let node = m["disk"], let v = node.size() {
            if v > 0 { t.diskBytes = v } else { node.error("a disk must have a capacity greater than 0, found '\(node.scalarText)'") }
        }
        if let s = m["service"]?.mapping(allowed: Self.serviceKeys) {
            for kind in OperationKind.allCases {
                if let d = s[kind.description]?.distribution(.duration) { t.serviceTime[kind.rawValue] = d }
            }
        }
    }

    func applyIntra(_ n: YNode, to t: inout LinkTemplate) {
        guard let m = n.mapping(allowed: Self.intraKeys) else { return }
        if let d = m["latency"]?.distribution(.duration) { t.latency = d }
        if let p = m["loss"]?.ratio() { t.lossPPM = Units.partsPerMillion(p) }
        if let b = m["bandwidth"]?.bandwidth() { t.bandwidth = b }
    }

    func applyWAN(_ n: YNode, to t: inout WANTemplate) {
        guard let m = n.mapping(allowed: Self.wanKeys) else { return }
        if let v = m["per_km"]?.durationNanoseconds() { t.perKm = v }
        if let v = m["route_factor"]?.number(1...10, what: "a route factor (fibre km per great-circle km)") { t.routeFactor = v }
        if let d = m["jitter"]?.distribution(.duration) { t.jitter = d }
        if let p = m["loss"]?.ratio() { t.lossPPM = Units.partsPerMillion(p) }
        if let b = m["bandwidth"]?.bandwidth() { t.bandwidth = b }
    }

    /// Reads one datacenter entry: its id (with the id's node, for duplicate checks) when
    /// well-formed, and the whole datacenter when every field is.
    func readDC(_ item: YNode, node: NodeTemplate, intra: LinkTemplate) -> (String?, YNode?, RawDC?) {
        guard let m = item.mapping(allowed: Self.dcKeys, what: "a datacenter (a mapping with id, lat, lon, region, jurisdiction, nodes)") else {
            return (nil, nil, nil)
        }
        let idNode = m.required("id", expected: "a short name such as 'ams'")
        let id = idNode?.identifier(what: "datacenter id")
        let city = m["city"]?.string()
        let lat = m.required("lat", expected: "latitude in degrees, -90 to 90")?.number(-90...90, what: "a latitude in degrees")
        let lon = m.required("lon", expected: "longitude in degrees, -180 to 180")?.number(-180...180, what: "a longitude in degrees")
        let region = m.required("region", expected: "a region name such as 'europe'")?.identifier(what: "region name")
        let jurisdiction = m.required("jurisdiction", expected: "a jurisdiction name such as 'nl'")?.identifier(what: "jurisdiction name")
        let count = m.required("nodes", expected: "the number of storage nodes, ≥ 1")?.int(1...100_000, what: "a whole number of nodes")
        var t = node
        if let n = m["node"] { applyNode(n, to: &t) }
        var i = intra
        if let n = m["intra_dc"] { applyIntra(n, to: &i) }
        guard let id, let lat, let lon, let region, let jurisdiction, let count else { return (id, idNode, nil) }
        return (id, idNode, RawDC(id: id, city: city ?? id, lat: lat, lon: lon, region: region,
                                  jurisdiction: jurisdiction, nodeCount: count, node: t, intra: i))
    }

    /// Resolves a datacenter id against the file's ids, with a suggestion when unknown.
    func dcIndex(_ n: YNode, ids: [String]) -> Int? {
        guard let s = n.string(expected: "a datacenter id") else { return nil }
        guard let i = ids.firstIndex(of: s) else {
            return n.fail("unknown datacenter '\(s)'\(suggestion(for: s, among: ids)); datacenters: \(ids.joined(separator: ", "))")
        }
        return i
    }

    /// `latency_matrix: {a: {b: 45ms, c: 80ms}, …}`: base one-way delays replacing the derived
    /// propagation delay (jitter is still added). An entry applies to both directions unless
    /// the reverse entry is also given.
    func applyMatrix(_ n: YNode, ids: [String], pairs: inout [Pair]) {
        guard let rows = n.mapping(allowed: nil, what: "a mapping from datacenter id to {datacenter id: delay}") else { return }
        let count = ids.count
        var explicit = Set<Int>()
        var entries: [(Int, Int, Double)] = []
        for row in rows.entries {
            guard let from = ids.firstIndex(of: row.key) else {
                row.keyNode.error("unknown datacenter '\(row.key)'\(suggestion(for: row.key, among: ids)); datacenters: \(ids.joined(separator: ", "))")
                continue
            }
            guard let cols = row.value.mapping(allowed: nil, what: "a mapping from datacenter id to one-way delay, e.g. {sin: 80ms}") else { continue }
            for col in cols.entries {
                guard let to = ids.firstIndex(of: col.key) else {
                    col.keyNode.error("unknown datacenter '\(col.key)'\(suggestion(for: col.key, among: ids)); datacenters: \(ids.joined(separator: ", "))")
                    continue
                }
                if from == to {
                    col.keyNode.error("the matrix diagonal is the network inside a DC; set it with 'intra_dc:' instead")
                    continue
                }
                guard let v = col.value.durationNanoseconds() else { continue }
                explicit.insert(from * count + to)
                entries.append((from, to, v))
            }
        }
        for (from, to, v) in entries {
            pairs[from * count + to].base = v
            if !explicit.contains(to * count + from) { pairs[to * count + from].base = v }
        }
    }

    /// One `links:` entry: `between: [a, b]` (both directions) or `from: a, to: b` (one way).
    func applyLink(_ item: YNode, ids: [String], pairs: inout [Pair]) {
        guard let m = item.mapping(allowed: Self.linkKeys, what: "a link override such as {between: [ams, sin], latency: 80ms}") else {
            return
        }
        let count = ids.count
        var directed: [(Int, Int)] = []
        switch (m["between"], m["from"], m["to"]) {
        case let (between?, nil, nil):
            if let ends = between.list(what: "a list of two datacenter ids, e.g. [ams, sin]") {
                let a = ends.count == 2 ? dcIndex(ends[0], ids: ids) : nil
                let b = ends.count == 2 ? dcIndex(ends[1], ids: ids) : nil
                if ends.count != 2 {
                    between.error("expected exactly two datacenter ids, e.g. [ams, sin], found \(ends.count)")
                } else if let a, let b {
                    if a == b {
                        between.error("a link joins two different datacenters; set the network inside '\(ids[a])' with its 'intra_dc:'")
                    } else {
                        directed = [(a, b), (b, a)]
                    }
                }
            }
        case let (nil, from?, to?):
            let a = dcIndex(from, ids: ids), b = dcIndex(to, ids: ids)
            if let a, let b {
                if a == b {
                    to.error("a link joins two different datacenters; set the network inside '\(ids[a])' with its 'intra_dc:'")
                } else {
                    directed = [(a, b)]
                }
            }
        case (nil, nil, nil):
            item.error("a link override needs 'between: [a, b]' (both directions) or 'from: a' and 'to: b' (one way)")
        case (nil, _?, nil):
            item.error("missing 'to:' (a one-way link needs both 'from' and 'to')")
        case (nil, nil, _?):
            item.error("missing 'from:' (a one-way link needs both 'from' and 'to')")
        default:
            item.error("give either 'between: [a, b]' or 'from:'/'to:', not both")
        }
        if m.has("latency") && m.has("jitter") {
            m["jitter"]?.error("give either 'latency' (the whole one-way delay) or 'jitter' (added to the distance-derived delay), not both")
            return
        }
        let latency = m["latency"]?.distribution(.duration)
        let jitter = m["jitter"]?.distribution(.duration)
        let loss = m["loss"]?.ratio()
        let bandwidth = m["bandwidth"]?.bandwidth()
        for (a, b) in directed {
            let i = a * count + b
            if let previous = pairs[i].setBy {
                item.error("the link \(ids[a])->\(ids[b]) is already overridden at line \(previous.line); give each pair once")
                return
            }
            pairs[i].setBy = item.location
            if let latency { pairs[i].latency = latency }
            if let jitter { pairs[i].jitter = jitter }
            if let loss { pairs[i].lossPPM = Units.partsPerMillion(loss) }
            if let bandwidth { pairs[i].bandwidth = bandwidth }
        }
    }
}

// MARK: - Geometry

/// Great-circle distance in km between two points (degrees), by the haversine formula on a
/// sphere of radius ``TopologyDefaults/earthRadiusKm``.
public func greatCircleKm(lat1: Double, lon1: Double, lat2: Double, lon2: Double) -> Double {
    let rad = Double.pi / 180
    let dLat = (lat2 - lat1) * rad, dLon = (lon2 - lon1) * rad
    let a = sin(dLat / 2) * sin(dLat / 2) + cos(lat1 * rad) * cos(lat2 * rad) * sin(dLon / 2) * sin(dLon / 2)
    return 2 * TopologyDefaults.earthRadiusKm * asin(Swift.min(1, a.squareRoot()))
}

/// `d + c`: the same distribution shifted by a constant (clamps move with it).
/// A constant stays a plain constant (so `jitter: 0` gives a constant link delay).
func shifted(_ d: Distribution, by c: Double) -> Distribution {
    if case .constant(let v) = d.shape {
        var x = v + d.offset + c
        if let lo = d.min { x = Swift.max(x, lo + c) }
        if let hi = d.max { x = Swift.min(x, hi + c) }
        return .constant(x)
    }
    return Distribution(d.shape, offset: d.offset + c, min: d.min.map { $0 + c }, max: d.max.map { $0 + c })
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
