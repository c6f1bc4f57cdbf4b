import SimCore

/// A validated, immutable topology: datacenters, their nodes, and the links between them.
///
/// Built only by ``ConfigLoader`` from a topology file (YAML → syntax tree → validation →
/// this value). Everything is indexed densely: `datacenters[i]` is datacenter `i`, `nodes[j]`
/// is node `j`, `links[from * count + to]` is the one-way link from DC `from` to DC `to`
/// (the diagonal is the network inside a DC). Dense indices keep lookups in the simulation
/// loop free of hashing and of hash order.
public struct Topology: Sendable {
    /// The topology's name (`name:` in the file, or the file's base name).
    public var name: String
    /// Free text from `description:`.
    public var summary: String
    /// Where it was loaded from (`builtin:NAME` for embedded files).
    public var source: String
    /// FNV-1a 64 of the file's bytes, as 16 hex digits: part of the reproduction key.
    public var contentHash: String

    /// Region names, in order of first appearance in the file.
    public var regions: [String]
    /// Jurisdiction names, in order of first appearance in the file.
    public var jurisdictions: [String]
    public var datacenters: [Datacenter]
    /// All nodes, grouped by datacenter in datacenter order.
    public var nodes: [NodeSpec]
    /// One-way links, `count × count`, row-major by source DC.
    public var links: [LinkSpec]
    /// One-way delay between a user's device and its datacenter (the "last mile"), in ns.
    public var accessLatency: Distribution

    public init(name: String, summary: String, source: String, contentHash: String,
                regions: [String], jurisdictions: [String], datacenters: [Datacenter],
                nodes: [NodeSpec], links: [LinkSpec], accessLatency: Distribution) {
        self.name = name; self.summary = summary; self.source = source; self.contentHash = contentHash
        self.regions = regions; self.jurisdictions = jurisdictions; self.datacenters = datacenters
        self.nodes = nodes; self.links = links; self.accessLatency = accessLatency
    }

    /// The one-way link from datacenter `from` to datacenter `to`.
    @inlinable public func link(from: Int, to: Int) -> LinkSpec { links[from * datacenters.count + to] }

    /// The index of the datacenter with this id, if any.
    public func datacenterIndex(named id: String) -> Int? { datacenters.firstIndex { $0.id == id } }
}

/// A datacenter: a site with nodes, a location, a region and a jurisdiction.
public struct Datacenter: Sendable, Hashable {
    /// Short id used everywhere in files and reports (`ams`, `mia`…).
    public var id: String
    public var city: String
    /// Degrees, WGS84.
    public var latitude: Double
    public var longitude: Double
    /// Index into ``Topology/regions``.
    public var region: Int
    /// Index into ``Topology/jurisdictions``.
    public var jurisdiction: Int
    /// The indices of this DC's nodes in ``Topology/nodes``.
    public var nodes: Range<Int>

    public init(id: String, city: String, latitude: Double, longitude: Double,
                region: Int, jurisdiction: Int, nodes: Range<Int>) {
        self.id = id; self.city = city; self.latitude = latitude; self.longitude = longitude
        self.region = region; self.jurisdiction = jurisdiction; self.nodes = nodes
    }
}

/// The kinds of work a storage node serves, each with its own service-time distribution.
public enum OperationKind: Int, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    case read = 0, write, delete, repair
    public var description: String { ["read", "write", "delete", "repair"][rawValue] }
}

/// A storage node: its service model (c servers, FIFO line, service times) and its disk.
public struct NodeSpec: Sendable, Hashable {
    /// `DCID-N`, 1-based within the DC (`ams-1`, `ams-2`…).
    public var name: String
    /// Index of its datacenter.
    public var datacenter: Int
    /// Number of parallel servers (c ≥ 1).
    public var servers: Int
    /// Maximum number of requests waiting for a server; more are rejected.
    public var queueCapacity: Int
    /// Disk capacity in bytes.
    public var diskBytes: Int64
    /// Service time per operation kind, in ns, indexed by ``OperationKind/rawValue``.
    public var serviceTime: [Distribution]

    public init(name: String, datacenter: Int, servers: Int, queueCapacity: Int,
                diskBytes: Int64, serviceTime: [Distribution]) {
        precondition(serviceTime.count == OperationKind.allCases.count,
                     "NodeSpec needs one service-time distribution per OperationKind")
        self.name = name; self.datacenter = datacenter; self.servers = servers
        self.queueCapacity = queueCapacity; self.diskBytes = diskBytes; self.serviceTime = serviceTime
    }

    @inlinable public func serviceTime(for kind: OperationKind) -> Distribution { serviceTime[kind.rawValue] }
}

/// A one-way network link between two datacenters (or inside one).
public struct LinkSpec: Sendable, Hashable {
    /// One-way delay in ns (propagation + jitter).
    public var latency: Distribution
    /// Probability that a message is lost, in parts per million.
    public var lossPPM: UInt32
    /// Capacity in bits per second; 0 means unlimited (no serialisation delay).
    public var bandwidthBitsPerSecond: Int64
    /// Great-circle distance in km (0 inside a DC), for reports.
    public var distanceKm: Double

    public init(latency: Distribution, lossPPM: UInt32, bandwidthBitsPerSecond: Int64, distanceKm: Double) {
        self.latency = latency; self.lossPPM = lossPPM
        self.bandwidthBitsPerSecond = bandwidthBitsPerSecond; self.distanceKm = distanceKm
    }
}
