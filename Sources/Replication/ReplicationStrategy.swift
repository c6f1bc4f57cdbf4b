import SimCore
import SimNetwork
import SimConfig

/// A replication strategy: a deterministic state machine per node, driven by the engine.
///
/// The engine delivers inputs — a client request arriving at a node, a protocol message, a
/// timer, a local storage completion, a node going down or coming back — and the strategy
/// answers by appending actions to an ``Effects`` buffer (send, store, reply, set timer).
/// It never touches the network, the clock or the PRNG itself: `now` and a generator are
/// parameters, and the engine performs the actions (through the network model, the node
/// service queues and the event queue). The buffer is reused by the engine, so a step
/// allocates nothing on the hot path (the STYLE's "return [Action]", without the array).
///
/// Adding a strategy is adding a folder under `Strategies/` and one line in
/// ``StrategyRegistry``; the engine is generic over this protocol and is specialised per
/// strategy, so there is no existential dispatch per event.
///
/// Time: the `now` a node's handler receives is **that node's local clock** (true simulated
/// time plus the node's clock skew and drift, which clock faults set). A strategy never sees
/// true time, so last-writer-wins timestamps and leases suffer skew as they would in a real
/// system. Timers are relative (`setTimer(after:)`) and fire after that much true time.
///
/// Durability: state a real node would keep on disk (a log, an outbox, hints, a key index)
/// must survive ``nodeDown(_:diskLost:now:)`` when `diskLost` is false and be dropped when
/// it is true; everything else is volatile and is lost on every crash.
public protocol ReplicationStrategy: SendableMetatype {
    /// Messages exchanged between nodes (the protocol's wire format, as a value).
    associatedtype Message
    /// Timer payloads.
    associatedtype Timer

    /// Creates the strategy for a world, validating its own parameters.
    /// - Throws: ``StrategyError`` naming the parameter, the bad value and what is allowed.
    init(world: StrategyWorld, config: StrategyConfig) throws

    /// A one-line description of the effective parameters, for the run header and reports.
    var summary: String { get }

    /// The node a client in `clientDC` contacts for `request` (the coordinator), or `nil` if
    /// no node the strategy would use is up (the client then fails over or fails).
    func coordinator(for request: ClientRequest, clientDC: Int, up: NodeLiveness) -> Int?

    /// A client request arrived at `node`.
    mutating func clientRequest(_ request: ClientRequest, at node: Int, now: SimTime,
                                rng: inout SimRandom, effects: inout Effects<Message, Timer>)
    /// A protocol message from node `source` arrived at `node`.
    mutating func receive(_ message: Message, from source: Int, at node: Int, now: SimTime,
                          rng: inout SimRandom, effects: inout Effects<Message, Timer>)
    /// A timer set by `node` fired.
    mutating func timer(_ timer: Timer, at node: Int, now: SimTime,
                        rng: inout SimRandom, effects: inout Effects<Message, Timer>)
    /// A storage operation `node` asked for completed.
    mutating func storageCompleted(_ completion: StorageCompletion, at node: Int, now: SimTime,
                                   rng: inout SimRandom, effects: inout Effects<Message, Timer>)
    /// `node` crashed (its volatile state is gone; its disk survives unless `diskLost`).
    /// Timers it set are cancelled by the engine; messages to it are dropped while down.
    mutating func nodeDown(_ node: Int, diskLost: Bool, now: SimTime)
    /// `node` is back up.
    mutating func nodeUp(_ node: Int, now: SimTime, rng: inout SimRandom, effects: inout Effects<Message, Timer>)
    /// The nodes that should hold `key`, whose data belongs to DC `home` (for routing and
    /// redundancy accounting), primary first.
    func placement(of key: ShardKey, home: Int) -> [Int]
    /// How many distinct intact fragments are needed to read a key stored as fragments
    /// (erasure coding's k). A whole copy (``StorageRequest/put`` with `fragment: -1`) is
    /// readable alone. Default 1.
    var fragmentsNeededToRead: Int { get }
    /// How many fragments make up `key`'s full stripe when it is stored as fragments (the
    /// code's k + m), for encoding real fragments and for redundancy accounting (a shard is
    /// fully redundant with its whole placement of copies or its full stripe). Default: the
    /// placement's size — a strategy whose fragments are placed apart from a placement of a
    /// different size (hybrid) must give the width itself.
    func stripeWidth(of key: ShardKey, home: Int) -> Int
    /// How many of ``placement(of:home:)``'s nodes must be up (and reachable) for a read /
    /// a write to succeed — the quorum sizes. Used for time-weighted availability, which
    /// needs no traffic. Defaults: `fragmentsNeededToRead` and 1.
    var replicasToRead: Int { get }
    var replicasToWrite: Int { get }
    /// What this configuration survives (see ``FaultTolerance``). Default: nothing.
    var tolerance: FaultTolerance { get }
}

extension ReplicationStrategy {
    public var fragmentsNeededToRead: Int { 1 }
    public func stripeWidth(of key: ShardKey, home: Int) -> Int { placement(of: key, home: home).count }
    public var replicasToRead: Int { fragmentsNeededToRead }
    public var replicasToWrite: Int { 1 }
    public var tolerance: FaultTolerance { FaultTolerance() }
}

/// What a strategy, as configured, promises to survive without losing an acknowledged write
/// or becoming unavailable. The fault planner's default budget draws random faults only
/// within it (so any loss is a bug); `fault_budget: unlimited` lifts it.
public struct FaultTolerance: Sendable, Equatable, CustomStringConvertible {
    /// Datacenters that may be down at once (disks kept).
    public var datacenters: Int
    /// Nodes that may be down at once (disks kept), anywhere.
    public var nodes: Int
    /// Whether those failures may also lose their disks.
    public var diskLoss: Bool
    /// Whether network partitions are within tolerance.
    public var partitions: Bool
    public init(datacenters: Int = 0, nodes: Int = 0, diskLoss: Bool = false, partitions: Bool = false) {
        self.datacenters = datacenters; self.nodes = nodes; self.diskLoss = diskLoss; self.partitions = partitions
    }
    public var description: String {
        "\(datacenters) DC(s), \(nodes) node(s) down at once\(diskLoss ? " with disk loss" : ", disks kept")\(partitions ? ", partitions" : "")"
    }
}

/// What a strategy knows of the world it runs in: the topology and derived tables.
public struct StrategyWorld: Sendable {
    public let topology: Topology
    /// Node indices per datacenter.
    public let nodesByDC: [[Int]]
    /// For each DC, the other DCs sorted by mean one-way latency from it (nearest first).
    public let nearestDCs: [[Int]]

    public init(topology: Topology) {
        self.topology = topology
        self.nodesByDC = topology.datacenters.map { Array($0.nodes) }
        let n = topology.datacenters.count
        self.nearestDCs = (0..<n).map { from in
            (0..<n).filter { $0 != from }.sorted { a, b in
                let la = topology.link(from: from, to: a).latency.mean ?? topology.link(from: from, to: a).latency.lowerBound
                let lb = topology.link(from: from, to: b).latency.mean ?? topology.link(from: from, to: b).latency.lowerBound
                return la != lb ? la < lb : a < b
            }
        }
    }

    /// The datacenter of `node`.
    @inlinable public func datacenter(of node: Int) -> Int { topology.nodes[node].datacenter }

    /// A node of DC `dc` chosen deterministically by `key` (rendezvous over the DC's nodes).
    public func node(in dc: Int, for key: ShardKey) -> Int {
        let nodes = nodesByDC[dc]
        return nodes[Int(mix64(key.raw ^ UInt64(dc) &* 0x9E37_79B9) % UInt64(nodes.count))]
    }
}

/// Which nodes are up, as the engine sees it (strategies may read it for routing decisions
/// a real client library would make from its failure detector).
public struct NodeLiveness: Sendable {
    public var up: [Bool]
    public init(count: Int) { up = Array(repeating: true, count: count) }
    @inlinable public func isUp(_ node: Int) -> Bool { up[node] }
}

/// A 64-bit finaliser (SplitMix64's), for deterministic hashing of keys.
@inlinable public func mix64(_ x: UInt64) -> UInt64 {
    var z = x &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

/// A stored item's key: one message (or one media chunk), dense and unique in a run.
public struct ShardKey: Hashable, Sendable, Comparable {
    public var raw: UInt64
    @inlinable public init(_ raw: UInt64) { self.raw = raw }
    @inlinable public static func < (a: ShardKey, b: ShardKey) -> Bool { a.raw < b.raw }
}

/// A client operation's identity (dense, unique in a run).
public struct OperationID: Hashable, Sendable {
    /// The operation's number, unique in a run (a strategy may pack it into a disk token).
    public var raw: UInt64
    /// Where the engine finds the client and sends its answer. Opaque to strategies: they
    /// hand the whole identifier back in `Effects.reply`.
    public var route: Route

    /// The engine's routing for an answer: the client's slot among open operations, the
    /// shard, the client's DC and whether the operation is a read. It travels with the
    /// identifier because the engine forgets a finished operation at once, while a
    /// strategy may still answer it (a late reply still crosses the network).
    public struct Route: Hashable, Sendable {
        public var slot: UInt32
        public var key: UInt32
        public var clientDC: UInt16
        /// Bit 0: set by the engine; bit 1: a read.
        public var flags: UInt8
        @inlinable public init(slot: UInt32, key: UInt32, clientDC: UInt16, isRead: Bool) {
            self.slot = slot; self.key = key; self.clientDC = clientDC; self.flags = 1 | (isRead ? 2 : 0)
        }
        @inlinable public init() { slot = 0; key = 0; clientDC = 0; flags = 0 }
        @inlinable public var isSet: Bool { flags & 1 != 0 }
        @inlinable public var isRead: Bool { flags & 2 != 0 }
    }

    /// An identifier without a route (tests that drive a strategy directly).
    @inlinable public init(_ raw: UInt64) { self.raw = raw; self.route = Route() }
    @inlinable public init(_ raw: UInt64, route: Route) { self.raw = raw; self.route = route }
}

/// A version stamp: higher stamps win. `version` counts edits of a message (1 = first
/// write); `tiebreak` orders concurrent writers (e.g. a node-clock timestamp for LWW).
public struct Stamp: Hashable, Sendable, Comparable {
    public var version: UInt32
    public var tiebreak: UInt64
    @inlinable public init(version: UInt32, tiebreak: UInt64 = 0) { self.version = version; self.tiebreak = tiebreak }
    public static let none = Stamp(version: 0)
    @inlinable public static func < (a: Stamp, b: Stamp) -> Bool {
        a.version != b.version ? a.version < b.version : a.tiebreak < b.tiebreak
    }
}

/// A client request as a strategy sees it.
public struct ClientRequest: Sendable {
    public enum Kind: Int, Sendable { case write = 0, read, delete }
    public var id: OperationID
    public var kind: Kind
    public var key: ShardKey
    /// The version being written (writes, deletes); ignored for reads.
    public var stamp: Stamp
    /// Stored size of the shard in bytes (after compression and encryption), for writes.
    public var storedBytes: Int
    /// The DC the data belongs to (the chat's home DC).
    public var homeDC: Int
    public init(id: OperationID, kind: Kind, key: ShardKey, stamp: Stamp, storedBytes: Int, homeDC: Int) {
        self.id = id; self.kind = kind; self.key = key; self.stamp = stamp
        self.storedBytes = storedBytes; self.homeDC = homeDC
    }
}

/// The answer to a client.
public enum ClientResult: Sendable, Equatable {
    /// A write or delete was acknowledged.
    case acknowledged
    /// A read found this version (`tombstone` = it was deleted).
    case found(Stamp, tombstone: Bool)
    /// A read found nothing.
    case notFound
    /// The strategy refused or could not complete the operation (e.g. no quorum).
    case failed
}

/// A local storage operation a strategy asks its node to perform.
public enum StorageRequest: Sendable {
    /// Store a copy if `stamp` is newer than what the node has (a tombstone for deletes).
    /// `fragment` is -1 for a whole copy, or the index of an erasure-coded fragment
    /// (`storedBytes` is then the fragment's size).
    case put(ShardKey, Stamp, storedBytes: Int, tombstone: Bool, fragment: Int)
    /// Last-writer-wins store: keep this copy if its `stamp.tiebreak` (a node-clock
    /// timestamp the coordinator chose) is higher than the held copy's, whatever the
    /// versions say — so clock skew can make an older write win, as in Cassandra.
    case putLWW(ShardKey, Stamp, storedBytes: Int, tombstone: Bool)
    /// Read the node's copy (or fragment).
    case get(ShardKey)
    /// Remove the node's copy of `key` if it is a tombstone no newer than `upTo` (tombstone
    /// garbage collection after a grace period). Completes `.stored` if removed, `.missing`
    /// otherwise.
    case purge(ShardKey, upTo: Stamp)
    /// Remove the node's copy or fragment of `key` unconditionally (e.g. a replica dropped
    /// after transcoding to fragments). Completes `.stored` if removed, `.missing` otherwise.
    case drop(ShardKey)

    /// A whole-copy put (the common case).
    @inlinable public static func put(_ key: ShardKey, _ stamp: Stamp, storedBytes: Int, tombstone: Bool) -> StorageRequest {
        .put(key, stamp, storedBytes: storedBytes, tombstone: tombstone, fragment: -1)
    }

    /// The key this request is about.
    @inlinable public var key: ShardKey {
        switch self {
        case .put(let k, _, _, _, _), .putLWW(let k, _, _, _), .get(let k), .purge(let k, _), .drop(let k): return k
        }
    }
}

/// The result of a storage operation.
public struct StorageCompletion: Sendable {
    /// The token the strategy gave with the request.
    public var token: UInt64
    public var key: ShardKey
    public var outcome: Outcome
    public enum Outcome: Sendable, Equatable {
        /// A put was applied (newer than the stored copy).
        case stored
        /// A put was ignored because the node already had `Stamp` or newer.
        case superseded(Stamp)
        /// A get found an intact copy (or, for fragments, the fragment with that index in
        /// `fragment`; -1 for a whole copy).
        case found(Stamp, tombstone: Bool)
        /// A get found an intact erasure-coded fragment.
        case foundFragment(Stamp, index: Int, tombstone: Bool)
        /// A get found no copy, or only a corrupt one (corruption is counted by the engine).
        case missing
        /// The disk failed the operation (a disk fault).
        case ioError
    }
    public init(token: UInt64, key: ShardKey, outcome: Outcome) { self.token = token; self.key = key; self.outcome = outcome }
}

/// The actions a strategy asks for during one step. Reused by the engine between steps.
public struct Effects<Message, Timer> {
    public enum Action {
        case send(to: Int, Message, sizeBytes: Int, kind: MessageKind)
        case store(StorageRequest, token: UInt64)
        case reply(OperationID, ClientResult)
        case setTimer(after: SimDuration, Timer)
    }
    public var actions: [Action] = []
    public init() { actions.reserveCapacity(16) }

    /// Sends `message` (of `sizeBytes` on the wire) to node `target`.
    @inlinable public mutating func send(_ message: Message, to target: Int, sizeBytes: Int, kind: MessageKind) {
        actions.append(.send(to: target, message, sizeBytes: sizeBytes, kind: kind))
    }
    /// Asks the node's disk to perform `request`; completion comes back with `token`.
    @inlinable public mutating func store(_ request: StorageRequest, token: UInt64) {
        actions.append(.store(request, token: token))
    }
    /// Answers the client that issued `operation`.
    @inlinable public mutating func reply(_ operation: OperationID, _ result: ClientResult) {
        actions.append(.reply(operation, result))
    }
    /// Fires `timer` at this node after `delay`.
    @inlinable public mutating func setTimer(after delay: SimDuration, _ timer: Timer) {
        actions.append(.setTimer(after: delay, timer))
    }
    /// Empties the buffer, keeping its capacity (engine use).
    public mutating func removeAll() { actions.removeAll(keepingCapacity: true) }
}

/// A strategy's configuration problem (bad preset, parameter or value).
public struct StrategyError: Error, CustomStringConvertible, Sendable {
    public var strategy: String
    public var parameter: String?
    public var message: String
    public var location: SourceLocation?
    public init(strategy: String, parameter: String? = nil, message: String, location: SourceLocation? = nil) {
        self.strategy = strategy; self.parameter = parameter; self.message = message; self.location = location
    }
    public var description: String {
        let place = location.map { "\($0): " } ?? ""
        let field = parameter.map { "strategy \(strategy).\($0)" } ?? "strategy \(strategy)"
        return "\(place)error: \(field): \(message)"
    }
}
