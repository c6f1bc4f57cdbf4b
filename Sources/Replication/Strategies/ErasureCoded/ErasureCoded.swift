import SimCore
import SimNetwork
import SimConfig

/// Reed–Solomon erasure-coded storage: each shard is cut into `k` data and `m` parity
/// fragments on `k + m` distinct nodes (spread over DCs by ``Placement``); any `k` rebuild it.
///
/// Protocol:
/// - **Write** (and delete, as tombstone fragments): the client's request goes to a
///   coordinator in the client's DC (a fragment holder there if one is up, else any node of
///   the DC — a gateway). It encodes the shard and sends fragment `i` to holder `i`; each
///   holder stores it with `.put(…, fragment: i)` and answers. The client is acknowledged
///   once `ack_fragments` (default `max(k, m) + 1`) holders have stored their fragment; the
///   coordinator keeps pushing the rest, re-sending after `write_timeout`, and hands any
///   fragment still missing after `write_retries` to its repair queue (a durable hint).
/// - **Read**: the coordinator asks the `k` (+ `read_extra`) holders nearest to it, and
///   decodes once `k` distinct fragments of the newest version it has seen arrive; it asks
///   further holders when one answers missing or with an older version, every remaining
///   holder after `hedge_after`, and fails after `read_timeout` if fewer than `k` holders
///   answered. Any `k` holders overlap the `ack_fragments > m` holders of an acknowledged
///   write, so a read never misses one (see ``StripeRead``). Holders found missing or behind
///   get the decoded version written back (read repair, `read_repair`).
/// - **Repair**: a node rebuilds fragments from any `k` others (fetch, decode, re-encode,
///   store), counted as `repair` traffic, `repair_concurrency` stripes at a time. Work comes
///   from write hints, read repair, a **scrub** (every `scrub_interval` each node checks
///   `scrub_batch` of its fragments against their ring successors' and queues the
///   successor's when it is missing or behind — this catches bit rot and writes a down
///   holder missed), and
///   **rejoin**: a node that comes back with an empty disk asks its peers which stripes it
///   belongs to and rebuilds its fragments.
///
/// Durability (what survives a crash with the disk): the fragment index (which keys this
/// node holds fragments of), the repair queue, and the fragments still owed by acknowledged
/// writes in flight. Everything else is volatile. A disk loss empties all of it, and the
/// rejoin protocol restores it.
///
/// Stripe metadata (a key's home DC and shard size) travels in every fragment's header; the
/// strategy keeps it once per key in dense arrays (`homeOf`, `bytesOf`) instead of once per
/// holder, and a node consults it only for keys it holds or is told about.
public struct ErasureCoded: ReplicationStrategy {
    /// Which kind of traffic a message belongs to (sets its ``MessageKind``).
    public enum Traffic: UInt8, Sendable {
        case client, repair, transcode
        var requestKind: MessageKind {
            switch self { case .client: return .writeRequest; case .repair: return .repair; case .transcode: return .replication }
        }
        var ackKind: MessageKind {
            switch self { case .client: return .writeAck; case .repair: return .repair; case .transcode: return .replication }
        }
        var readKind: MessageKind { self == .client ? .readRequest : .repair }
        var answerKind: MessageKind { self == .client ? .readResponse : .repair }
    }

    public enum Message {
        /// Store fragment `index` of `key` at `stamp` (for the sender's operation `op`).
        case putFragment(op: UInt64, key: ShardKey, stamp: Stamp, index: UInt8, tombstone: Bool, traffic: Traffic)
        /// Fragment `index` was stored (or the holder's disk failed: `ok` false).
        case putDone(op: UInt64, index: UInt8, ok: Bool)
        /// Read your fragment of `key`.
        case getFragment(op: UInt64, key: ShardKey, traffic: Traffic)
        /// The answer to a `getFragment`.
        case getDone(op: UInt64, answer: FragmentAnswer)
        /// The sender is back up; `rejoin` if it lost its disk and needs its stripes listed.
        case hello(rejoin: Bool)
        /// Keys whose stripes include the receiver (the answer to a rejoin).
        case shared([ShardKey])
    }

    public enum Timer {
        /// Re-send a write's missing fragments, or give it up.
        case write(op: UInt64)
        /// Ask every remaining holder.
        case hedge(op: UInt64)
        /// Finish a read, fetch or scrub probe with what has arrived.
        case giveUp(op: UInt64)
        /// Wake deferred repairs.
        case repairRetry
        /// Scrub the next batch.
        case scrub
    }

    // MARK: Per-node state

    enum Origin {
        case client(OperationID)
        /// A rebuild: `task` when it belongs to the node's repair queue (else a read repair).
        case repair(task: Bool)
        /// A stripe written on behalf of the hybrid strategy's transcoder.
        case transcode
    }

    struct WriteOp {
        var origin: Origin
        var key: ShardKey
        var home: Int
        var stamp: Stamp
        var tombstone: Bool
        var holders: [Int]
        var targets: UInt64
        var stored: UInt64 = 0
        var failed: UInt64 = 0
        var attempts = 1
        /// The client has its answer (always true for non-client writes).
        var answered: Bool
        var ackAt: Int
        var traffic: Traffic
    }

    enum ReadPurpose {
        case client(OperationID)
        /// A repair fetch for the fragments at `targets`.
        case repair(targets: UInt64)
    }

    struct ReadOp {
        var purpose: ReadPurpose
        var key: ShardKey
        var home: Int
        var holders: [Int]
        var read: StripeRead
    }

    struct ScrubOp {
        var key: ShardKey
        var home: Int
        var holders: [Int]
        var own: Int
        var successor: Int
        var ownAnswer: FragmentAnswer?
        var successorAnswer: FragmentAnswer?
    }

    enum Op {
        case write(WriteOp)
        case read(ReadOp)
        case scrub(ScrubOp)
    }

    enum Pending {
        /// Store a fragment for `op` of node `from` (this node itself for its own fragment).
        case put(from: Int, op: UInt64, index: UInt8, traffic: Traffic)
        /// Read this node's fragment for `op` of node `from`.
        case get(from: Int, op: UInt64, traffic: Traffic)
    }

    struct RepairTask {
        enum State { case ready, running, deferred }
        var home: Int
        /// Fragment positions to rebuild.
        var targets: UInt64
        var state: State = .ready
        var attempts = 0
        var notBefore = SimTime.zero
    }

    struct NodeState {
        var nextToken: UInt64 = 0
        var nextOp: UInt64 = 0
        var pending: [UInt64: Pending] = [:]
        var ops: [UInt64: Op] = [:]
        /// Durable: keys this node holds a fragment of (a bitset over dense key values).
        var index: [UInt64] = []
        /// Durable: the repair queue (looked up by key; order lives in `ready`/`deferred`).
        var tasks: [ShardKey: RepairTask] = [:]
        var ready: [ShardKey] = []
        var readyHead = 0
        var deferred: [ShardKey] = []
        var repairsRunning = 0
        var retryArmed = false
        var scrubArmed = false
        var scrubCursor = 0
        /// The disk was lost: ask peers for our stripes when back up.
        var mustRejoin = false
        /// Peers that missed a read's hedge deadline, until when (a local failure detector:
        /// they are asked last until heard from again).
        var suspects: [Int: SimTime] = [:]

        func holds(_ key: ShardKey) -> Bool {
            let w = Int(key.raw >> 6)
            return w < index.count && index[w] & (1 << (key.raw & 63)) != 0
        }
    }

    // MARK: Configuration

    let settings: StripeSettings
    let layout: FragmentLayout
    /// Acknowledge a client write after this many fragments are stored.
    public let ackFragments: Int
    /// Write back the decoded version to holders a read found missing or behind.
    public let readRepair: Bool
    let world: StrategyWorld
    /// `dcRank[a * dcs + b]`: how near DC `b` is to DC `a` (0 = nearest other DC).
    let dcRank: [Int32]
    /// Or-ed into every storage token, so an embedding strategy can route completions.
    let tokenTag: UInt64
    var nodes: [NodeState]
    /// Stripe metadata per dense key (see the type's discussion).
    var homeOf: [UInt16] = []
    var bytesOf: [Int32] = []

    // MARK: Observable counters (for tests and the embedding strategy)

    /// Repairs given up after `repair_attempts` failures.
    public private(set) var abandonedRepairs = 0
    /// Fragments rebuilt and stored by repairs (including read repairs).
    public private(set) var fragmentsRepaired = 0
    /// Stripes written for the embedding strategy that finished: (node, key, stamp, all stored).
    var finishedStripes: [(node: Int, key: ShardKey, stamp: Stamp, ok: Bool)] = []

    /// How long a holder that missed a hedge deadline is asked last (unless heard from).
    static let suspicion = SimDuration.seconds(10)
    /// Per-message wire overhead (operation, key, stamp, index) in bytes.
    static let wireHeaderBytes = 48
    static let smallMessageBytes = 32

    public init(world: StrategyWorld, config: StrategyConfig) throws {
        var p = StrategyParameters(config, strategy: "erasure-coded")
        let maxFragments = Swift.min(StripeSettings.maxFragments, world.topology.nodes.count)
        let settings = try StripeSettings.read(&p, defaultK: Swift.max(1, Swift.min(6, maxFragments - 3)),
                                               defaultM: Swift.min(3, Swift.max(0, maxFragments - 1)), nodesAvailable: maxFragments)
        let placement = try Placement(&p, world: world, defaultCopies: settings.count, maxCopies: maxFragments)
        if placement.copies != settings.count {
            let key = placement.perDC != nil ? "per_dc" : "copies"
            throw StrategyError(strategy: p.strategy, parameter: key,
                                message: "places \(placement.copies) fragments but k + m = \(settings.count); give k + m copies (or leave copies out)",
                                location: p.location(of: key))
        }
        // Default: one more than both k and m, so an acknowledged write survives the loss of a
        // holder at once and any k holders a read asks overlap it (k + ack > k + m).
        let ack = try p.int("ack_fragments", default: Swift.min(Swift.max(settings.k, settings.m) + 1, settings.count),
                            in: settings.k...settings.count)
        let readRepair = try p.bool("read_repair", default: true)
        try p.finish()
        try self.init(world: world, settings: settings, layout: FragmentLayout(placement: placement, avoiding: nil, count: settings.count),
                      ackFragments: ack, readRepair: readRepair, tokenTag: 0)
    }

    /// Creates the stripe store for an embedding strategy (the hybrid's coded tier).
    init(world: StrategyWorld, settings: StripeSettings, layout: FragmentLayout, ackFragments: Int,
         readRepair: Bool, tokenTag: UInt64) throws {
        self.settings = settings
        self.layout = layout
        self.ackFragments = ackFragments
        self.readRepair = readRepair
        self.world = world
        self.tokenTag = tokenTag
        let dcs = world.topology.datacenters.count
        var rank = [Int32](repeating: 0, count: dcs * dcs)
        for a in 0..<dcs { for (i, b) in world.nearestDCs[a].enumerated() { rank[a * dcs + b] = Int32(i) } }
        dcRank = rank
        nodes = Array(repeating: NodeState(), count: world.topology.nodes.count)
        // Every home must give k + m distinct nodes.
        for home in 0..<dcs {
            let n = layout.nodes(for: ShardKey(0), home: home)
            precondition(n.count == settings.count && Set(n).count == n.count,
                         "ErasureCoded: placement from DC \(home) gives \(n.count) nodes for k + m = \(settings.count)")
        }
    }

    public var summary: String {
        "erasure-coded k=\(settings.k) m=\(settings.m) ack_fragments=\(ackFragments) \(layout.placement.summary) \(settings.summary)"
            + (readRepair ? "" : " read_repair=off")
    }

    public var fragmentsNeededToRead: Int { settings.k }
    public func stripeWidth(of key: ShardKey, home: Int) -> Int { settings.count }
    public var k: Int { settings.k }
    public var m: Int { settings.m }
    /// A read needs `k` holders; a write needs `ack_fragments`.
    public var replicasToRead: Int { settings.k }
    public var replicasToWrite: Int { ackFragments }

    /// Nodes down at once: reads need `k` of `k + m` holders and writes `ack_fragments`, so
    /// `min(m, k + m − ack_fragments)`. Datacenters: as many as the largest per-DC fragment
    /// counts allow within that. Disk loss: an acknowledged write is on `ack_fragments`
    /// holders until the rest land, so it survives `ack_fragments − k` lost disks at once —
    /// within tolerance only when that covers the nodes counted.
    public var tolerance: FaultTolerance {
        let nodes = Swift.min(settings.m, settings.count - ackFragments)
        let dcs = layout.datacentersTolerated(within: nodes, world: world)
        // The DCs counted hold at most `nodes` holders of a key, so `nodes` bounds both.
        return FaultTolerance(datacenters: dcs, nodes: nodes,
                              diskLoss: nodes > 0 && ackFragments - settings.k >= nodes,
                              partitions: dcs >= 1)
    }

    /// The fragment holders, fragment 0 first.
    public func placement(of key: ShardKey, home: Int) -> [Int] { layout.nodes(for: key, home: home) }

    /// A fragment holder in the client's DC, else any live node there (a gateway); when the
    /// whole DC is down, the same in the nearest DC with a live node.
    public func coordinator(for request: ClientRequest, clientDC: Int, up: NodeLiveness) -> Int? {
        let holders = placement(of: request.key, home: request.homeDC)
        return Self.nearestCoordinator(preferring: holders, clientDC: clientDC, key: request.key, world: world, up: up)
    }

    /// A live node of `preferring` in the client's DC, else a live gateway there; else the
    /// same in the next-nearest DC.
    static func nearestCoordinator(preferring holders: [Int], clientDC: Int, key: ShardKey, world: StrategyWorld,
                                   up: NodeLiveness) -> Int? {
        for dc in CollectionOfOne(clientDC) + world.nearestDCs[clientDC] {
            if let h = holders.first(where: { world.datacenter(of: $0) == dc && up.isUp($0) }) { return h }
            if let gateway = gateway(in: dc, for: key, world: world, up: up) { return gateway }
        }
        return nil
    }

    /// A live node of `dc`, chosen by the key (rendezvous start, then in order).
    static func gateway(in dc: Int, for key: ShardKey, world: StrategyWorld, up: NodeLiveness) -> Int? {
        let local = world.nodesByDC[dc]
        guard !local.isEmpty else { return nil }
        let first = world.node(in: dc, for: key)
        let start = local.firstIndex(of: first) ?? 0
        for j in 0..<local.count where up.isUp(local[(start + j) % local.count]) {
            return local[(start + j) % local.count]
        }
        return nil
    }

    // MARK: Inputs

    public mutating func clientRequest(_ request: ClientRequest, at node: Int, now: SimTime,
                                       rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        noteMeta(request.key, home: request.homeDC, bytes: request.kind == .write ? request.storedBytes : nil)
        switch request.kind {
        case .write, .delete:
            let all = StripeRead.mask(first: settings.count)
            startWrite(at: node, origin: .client(request.id), key: request.key, home: request.homeDC,
                       stamp: request.stamp, tombstone: request.kind == .delete, targets: all,
                       ackAt: ackFragments, traffic: .client, effects: &effects)
        case .read:
            startRead(at: node, purpose: .client(request.id), key: request.key, home: request.homeDC,
                      excluded: 0, now: now, effects: &effects)
        }
    }

    public mutating func receive(_ message: Message, from source: Int, at node: Int, now: SimTime,
                                 rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        heard(from: source, at: node)
        switch message {
        case .putFragment(let op, let key, let stamp, let index, let tombstone, let traffic):
            storeFragment(at: node, for: source, op: op, key: key, stamp: stamp, index: index,
                          tombstone: tombstone, traffic: traffic, effects: &effects)
        case .putDone(let op, let index, let ok):
            putDone(at: node, op: op, position: Int(index), ok: ok, now: now, effects: &effects)
        case .getFragment(let op, let key, let traffic):
            let token = newToken(node)
            nodes[node].pending[token] = .get(from: source, op: op, traffic: traffic)
            effects.store(.get(key), token: token)
        case .getDone(let op, let answer):
            getDone(at: node, from: source, op: op, answer: answer, now: now, effects: &effects)
        case .hello(let rejoin):
            resendOwed(to: source, at: node, effects: &effects)
            wakeDeferred(node, now: now, all: true, effects: &effects)
            if rejoin { listShared(with: source, at: node, effects: &effects) }
        case .shared(let keys):
            for key in keys {
                let home = Int(homeOf[Int(key.raw)])
                guard let p = placement(of: key, home: home).firstIndex(of: node) else { continue }
                addTask(node, key: key, home: home, targets: 1 << UInt64(p), now: now, effects: &effects)
            }
        }
    }

    public mutating func timer(_ timer: Timer, at node: Int, now: SimTime,
                               rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        switch timer {
        case .write(let op): writeTimedOut(at: node, op: op, now: now, effects: &effects)
        case .hedge(let op):
            guard case .read(var r)? = nodes[node].ops[op] else { return }
            suspect(r.holders, r.read.asked & ~r.read.answered & ~r.read.errors, at: node, now: now)
            let more = r.read.askAll()
            nodes[node].ops[op] = .read(r)
            sendGets(at: node, op: op, key: r.key, holders: r.holders, mask: more, traffic: traffic(of: r), effects: &effects)
        case .giveUp(let op):
            switch nodes[node].ops[op] {
            case .read(let r)?:
                nodes[node].ops[op] = nil
                let (seen, best) = r.read.newest
                var decision = StripeRead.Decision.failed
                if r.read.covered {
                    if seen == nil { decision = .notFound } else if let best { decision = .found(best.stamp, tombstone: best.tombstone) }
                }
                readFinished(at: node, r, decision, now: now, effects: &effects)
            case .scrub(let s)?:
                nodes[node].ops[op] = nil
                scrubFinished(at: node, s, now: now, effects: &effects)
            case .write?, nil:
                break
            }
        case .repairRetry:
            nodes[node].retryArmed = false
            wakeDeferred(node, now: now, all: false, effects: &effects)
        case .scrub:
            nodes[node].scrubArmed = false
            scrub(at: node, effects: &effects)
        }
    }

    public mutating func storageCompleted(_ completion: StorageCompletion, at node: Int, now: SimTime,
                                          rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        guard let pending = nodes[node].pending.removeValue(forKey: completion.token) else {
            preconditionFailure("ErasureCoded: storage completion with unknown token \(completion.token) at node \(node)")
        }
        switch pending {
        case .put(let from, let op, let index, let traffic):
            let ok: Bool
            switch completion.outcome {
            case .stored, .superseded: ok = true
            case .ioError: ok = false
            case .found, .foundFragment, .missing:
                preconditionFailure("ErasureCoded: a put completed as a get at node \(node)")
            }
            if ok { markHeld(node, completion.key, effects: &effects) }
            if from == node {
                putDone(at: node, op: op, position: Int(index), ok: ok, now: now, effects: &effects)
            } else {
                effects.send(.putDone(op: op, index: index, ok: ok), to: from, sizeBytes: Self.smallMessageBytes, kind: traffic.ackKind)
            }
        case .get(let from, let op, let traffic):
            let answer = FragmentAnswer(completion.outcome, node: node)
            if from == node {
                getDone(at: node, from: node, op: op, answer: answer, now: now, effects: &effects)
            } else {
                effects.send(.getDone(op: op, answer: answer), to: from,
                             sizeBytes: answerBytes(completion.key, answer), kind: traffic.answerKind)
            }
        }
    }

    public mutating func nodeDown(_ node: Int, diskLost: Bool, now: SimTime) {
        let old = nodes[node]
        var kept = NodeState()
        kept.nextToken = old.nextToken
        kept.nextOp = old.nextOp
        if diskLost {
            kept.mustRejoin = true
        } else {
            kept.index = old.index
            kept.scrubCursor = old.scrubCursor
            kept.mustRejoin = old.mustRejoin
            kept.tasks = old.tasks
            // Fragments still owed by acknowledged writes were logged with the write.
            for id in old.ops.keys.sorted() {
                guard case .write(let w)? = old.ops[id], w.answered, w.targets & ~w.stored != 0 else { continue }
                if case .transcode = w.origin { continue }
                kept.tasks[w.key, default: RepairTask(home: w.home, targets: 0)].targets |= w.targets & ~w.stored
            }
            for key in kept.tasks.keys.sorted() {
                kept.tasks[key]!.state = .ready
                kept.ready.append(key)
            }
        }
        nodes[node] = kept
    }

    public mutating func nodeUp(_ node: Int, now: SimTime, rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        let rejoin = nodes[node].mustRejoin
        nodes[node].mustRejoin = false
        for other in 0..<nodes.count where other != node {
            effects.send(.hello(rejoin: rejoin), to: other, sizeBytes: Self.smallMessageBytes, kind: rejoin ? .repair : .control)
        }
        armScrub(node, effects: &effects)
        pump(node, now: now, effects: &effects)
    }

    // MARK: Writes

    mutating func startWrite(at node: Int, origin: Origin, key: ShardKey, home: Int, stamp: Stamp, tombstone: Bool,
                             targets: UInt64, ackAt: Int, traffic: Traffic, effects: inout Effects<Message, Timer>) {
        let id = newOp(node)
        var answered = true
        if case .client = origin { answered = false }
        let w = WriteOp(origin: origin, key: key, home: home, stamp: stamp, tombstone: tombstone,
                        holders: placement(of: key, home: home), targets: targets, answered: answered,
                        ackAt: ackAt, traffic: traffic)
        nodes[node].ops[id] = .write(w)
        sendPuts(at: node, op: id, w, mask: targets, effects: &effects)
        effects.setTimer(after: settings.writeTimeout, .write(op: id))
    }

    mutating func sendPuts(at node: Int, op: UInt64, _ w: WriteOp, mask: UInt64, effects: inout Effects<Message, Timer>) {
        var bits = mask
        while bits != 0 {
            let p = bits.trailingZeroBitCount
            bits &= bits - 1
            let target = w.holders[p]
            if target == node {
                storeFragment(at: node, for: node, op: op, key: w.key, stamp: w.stamp, index: UInt8(p),
                              tombstone: w.tombstone, traffic: w.traffic, effects: &effects)
            } else {
                let body = w.tombstone ? StripeSettings.fragmentHeaderBytes : fragmentBytes(w.key)
                effects.send(.putFragment(op: op, key: w.key, stamp: w.stamp, index: UInt8(p), tombstone: w.tombstone, traffic: w.traffic),
                             to: target, sizeBytes: Self.wireHeaderBytes + body, kind: w.traffic.requestKind)
            }
        }
    }

    mutating func storeFragment(at node: Int, for source: Int, op: UInt64, key: ShardKey, stamp: Stamp, index: UInt8,
                                tombstone: Bool, traffic: Traffic, effects: inout Effects<Message, Timer>) {
        let token = newToken(node)
        nodes[node].pending[token] = .put(from: source, op: op, index: index, traffic: traffic)
        effects.store(.put(key, stamp, storedBytes: tombstone ? 0 : fragmentBytes(key), tombstone: tombstone,
                           fragment: Int(index)), token: token)
    }

    mutating func putDone(at node: Int, op: UInt64, position: Int, ok: Bool, now: SimTime, effects: inout Effects<Message, Timer>) {
        guard case .write(var w)? = nodes[node].ops[op], position < 64 else { return }
        let bit: UInt64 = 1 << UInt64(position)
        guard w.targets & bit != 0, w.stored & bit == 0 else { return }
        if ok { w.stored |= bit; w.failed &= ~bit } else { w.failed |= bit }
        if !w.answered, case .client(let id) = w.origin {
            if w.stored.nonzeroBitCount >= w.ackAt {
                w.answered = true
                effects.reply(id, .acknowledged)
            } else if (w.targets & ~w.failed).nonzeroBitCount < w.ackAt {
                // Too many disks refused: this write cannot reach its durability condition.
                effects.reply(id, .failed)
                nodes[node].ops[op] = nil
                return
            }
        }
        if w.stored == w.targets {
            finishWrite(at: node, op: op, w, now: now, effects: &effects)
        } else {
            nodes[node].ops[op] = .write(w)
        }
    }

    mutating func writeTimedOut(at node: Int, op: UInt64, now: SimTime, effects: inout Effects<Message, Timer>) {
        guard case .write(var w)? = nodes[node].ops[op] else { return }
        suspect(w.holders, w.targets & ~w.stored & ~w.failed, at: node, now: now)
        if w.attempts <= settings.writeRetries {
            w.attempts += 1
            w.failed = 0
            nodes[node].ops[op] = .write(w)
            sendPuts(at: node, op: op, w, mask: w.targets & ~w.stored, effects: &effects)
            effects.setTimer(after: settings.writeTimeout, .write(op: op))
        } else {
            finishWrite(at: node, op: op, w, now: now, effects: &effects)
        }
    }

    mutating func finishWrite(at node: Int, op: UInt64, _ w: WriteOp, now: SimTime, effects: inout Effects<Message, Timer>) {
        nodes[node].ops[op] = nil
        let missing = w.targets & ~w.stored
        switch w.origin {
        case .client(let id):
            if !w.answered {
                effects.reply(id, .failed)
            } else if missing != 0 {
                // Acknowledged, but some holders never stored their fragment: a hint.
                addTask(node, key: w.key, home: w.home, targets: missing, now: now, effects: &effects)
            }
        case .repair(let task):
            fragmentsRepaired += w.stored.nonzeroBitCount
            if task {
                repairWritten(node, key: w.key, stored: w.stored, missing: missing, now: now, effects: &effects)
            } else if missing != 0 {
                addTask(node, key: w.key, home: w.home, targets: missing, now: now, effects: &effects)
            }
        case .transcode:
            finishedStripes.append((node, w.key, w.stamp, missing == 0))
        }
    }

    // MARK: Reads

    mutating func startRead(at node: Int, purpose: ReadPurpose, key: ShardKey, home: Int, excluded: UInt64,
                            now: SimTime, effects: inout Effects<Message, Timer>) {
        let holders = placement(of: key, home: home)
        var read = StripeRead(positions: holders.count, k: settings.k, order: nearestOrder(from: node, holders, now: now),
                              excluded: excluded, extra: settings.readExtra)
        let ask = read.start()
        let r = ReadOp(purpose: purpose, key: key, home: home, holders: holders, read: read)
        let id = newOp(node)
        nodes[node].ops[id] = .read(r)
        sendGets(at: node, op: id, key: key, holders: holders, mask: ask, traffic: traffic(of: r), effects: &effects)
        effects.setTimer(after: settings.hedgeAfter, .hedge(op: id))
        effects.setTimer(after: settings.readTimeout, .giveUp(op: id))
    }

    func traffic(of r: ReadOp) -> Traffic {
        if case .client = r.purpose { return .client }
        return .repair
    }

    mutating func sendGets(at node: Int, op: UInt64, key: ShardKey, holders: [Int], mask: UInt64, traffic: Traffic,
                           effects: inout Effects<Message, Timer>) {
        var bits = mask
        while bits != 0 {
            let p = bits.trailingZeroBitCount
            bits &= bits - 1
            let target = holders[p]
            if target == node {
                let token = newToken(node)
                nodes[node].pending[token] = .get(from: node, op: op, traffic: traffic)
                effects.store(.get(key), token: token)
            } else {
                effects.send(.getFragment(op: op, key: key, traffic: traffic), to: target,
                             sizeBytes: Self.wireHeaderBytes, kind: traffic.readKind)
            }
        }
    }

    mutating func getDone(at node: Int, from source: Int, op: UInt64, answer: FragmentAnswer, now: SimTime,
                          effects: inout Effects<Message, Timer>) {
        switch nodes[node].ops[op] {
        case .read(var r)?:
            guard let position = r.holders.firstIndex(of: source), r.read.record(position, answer) else { return }
            let (decision, more) = r.read.decide()
            if more != 0 {
                sendGets(at: node, op: op, key: r.key, holders: r.holders, mask: more, traffic: traffic(of: r), effects: &effects)
            }
            if decision == .wait {
                nodes[node].ops[op] = .read(r)
            } else {
                nodes[node].ops[op] = nil
                readFinished(at: node, r, decision, now: now, effects: &effects)
            }
        case .scrub(var s)?:
            if source == s.holders[s.own] && s.ownAnswer == nil { s.ownAnswer = answer }
            else if source == s.holders[s.successor] && s.successorAnswer == nil { s.successorAnswer = answer }
            else { return }
            if s.ownAnswer != nil && s.successorAnswer != nil {
                nodes[node].ops[op] = nil
                scrubFinished(at: node, s, now: now, effects: &effects)
            } else {
                nodes[node].ops[op] = .scrub(s)
            }
        case .write?, nil:
            return
        }
    }

    mutating func readFinished(at node: Int, _ r: ReadOp, _ decision: StripeRead.Decision, now: SimTime,
                               effects: inout Effects<Message, Timer>) {
        switch r.purpose {
        case .client(let id):
            switch decision {
            case .found(let stamp, let tombstone):
                effects.reply(id, .found(stamp, tombstone: tombstone))
                let behind = r.read.behind(stamp)
                if readRepair && behind != 0 {
                    startWrite(at: node, origin: .repair(task: false), key: r.key, home: r.home, stamp: stamp,
                               tombstone: tombstone, targets: behind, ackAt: 0, traffic: .repair, effects: &effects)
                }
            case .notFound: effects.reply(id, .notFound)
            case .failed, .wait: effects.reply(id, .failed)
            }
        case .repair(let targets):
            switch decision {
            case .found(let stamp, let tombstone):
                startWrite(at: node, origin: .repair(task: true), key: r.key, home: r.home, stamp: stamp,
                           tombstone: tombstone, targets: targets, ackAt: 0, traffic: .repair, effects: &effects)
            case .notFound:
                // Nothing of the key survives (never written, or purged): nothing to rebuild.
                nodes[node].tasks[r.key] = nil
                nodes[node].repairsRunning -= 1
                pump(node, now: now, effects: &effects)
            case .failed, .wait:
                nodes[node].repairsRunning -= 1
                deferTask(node, key: r.key, now: now, effects: &effects)
                pump(node, now: now, effects: &effects)
            }
        }
    }

    // MARK: Repair queue

    mutating func addTask(_ node: Int, key: ShardKey, home: Int, targets: UInt64, now: SimTime,
                          effects: inout Effects<Message, Timer>) {
        if var t = nodes[node].tasks[key] {
            t.targets |= targets
            if t.state == .deferred {
                // New work: try now (the deferred entry is skipped when it comes up).
                t.state = .ready
                nodes[node].ready.append(key)
            }
            nodes[node].tasks[key] = t
        } else {
            nodes[node].tasks[key] = RepairTask(home: home, targets: targets)
            nodes[node].ready.append(key)
        }
        pump(node, now: now, effects: &effects)
    }

    /// Starts ready repairs up to `repair_concurrency`.
    mutating func pump(_ node: Int, now: SimTime, effects: inout Effects<Message, Timer>) {
        while nodes[node].repairsRunning < settings.repairConcurrency && nodes[node].readyHead < nodes[node].ready.count {
            let key = nodes[node].ready[nodes[node].readyHead]
            nodes[node].readyHead += 1
            guard var t = nodes[node].tasks[key], t.state == .ready else { continue }
            if t.targets == 0 { nodes[node].tasks[key] = nil; continue }
            t.state = .running
            nodes[node].tasks[key] = t
            nodes[node].repairsRunning += 1
            startRead(at: node, purpose: .repair(targets: t.targets), key: key, home: t.home, excluded: t.targets,
                      now: now, effects: &effects)
        }
        if nodes[node].readyHead == nodes[node].ready.count {
            nodes[node].ready.removeAll(keepingCapacity: true)
            nodes[node].readyHead = 0
        } else if nodes[node].readyHead > 1024 && nodes[node].readyHead * 2 > nodes[node].ready.count {
            nodes[node].ready.removeFirst(nodes[node].readyHead)
            nodes[node].readyHead = 0
        }
    }

    mutating func repairWritten(_ node: Int, key: ShardKey, stored: UInt64, missing: UInt64, now: SimTime,
                                effects: inout Effects<Message, Timer>) {
        nodes[node].repairsRunning -= 1
        if var t = nodes[node].tasks[key] {
            t.targets &= ~stored
            if t.targets == 0 {
                nodes[node].tasks[key] = nil
            } else if missing & t.targets != 0 {
                nodes[node].tasks[key] = t
                deferTask(node, key: key, now: now, effects: &effects)
            } else {
                t.state = .ready
                nodes[node].tasks[key] = t
                nodes[node].ready.append(key)
            }
        }
        pump(node, now: now, effects: &effects)
    }

    /// Puts a failed repair aside with exponential backoff, or abandons it after `repair_attempts`.
    mutating func deferTask(_ node: Int, key: ShardKey, now: SimTime, effects: inout Effects<Message, Timer>) {
        guard var t = nodes[node].tasks[key] else { return }
        t.attempts += 1
        if t.attempts >= settings.repairAttempts {
            nodes[node].tasks[key] = nil
            abandonedRepairs += 1
            return
        }
        t.state = .deferred
        t.notBefore = now + settings.repairRetry * Int64(1 << Swift.min(t.attempts - 1, 6))
        nodes[node].tasks[key] = t
        nodes[node].deferred.append(key)
        if !nodes[node].retryArmed {
            nodes[node].retryArmed = true
            effects.setTimer(after: settings.repairRetry, .repairRetry)
        }
    }

    /// Moves deferred repairs that are due (or all of them, when a peer came back) to the
    /// ready queue.
    mutating func wakeDeferred(_ node: Int, now: SimTime, all: Bool, effects: inout Effects<Message, Timer>) {
        guard !nodes[node].deferred.isEmpty else { return }
        var still: [ShardKey] = []
        for key in nodes[node].deferred {
            guard var t = nodes[node].tasks[key], t.state == .deferred else { continue }
            if all || t.notBefore <= now {
                t.state = .ready
                nodes[node].tasks[key] = t
                nodes[node].ready.append(key)
            } else {
                still.append(key)
            }
        }
        nodes[node].deferred = still
        if !still.isEmpty && !nodes[node].retryArmed {
            nodes[node].retryArmed = true
            effects.setTimer(after: settings.repairRetry, .repairRetry)
        }
        pump(node, now: now, effects: &effects)
    }

    /// Sends a peer that is back the fragments this node's writes in flight still owe it.
    mutating func resendOwed(to peer: Int, at node: Int, effects: inout Effects<Message, Timer>) {
        for id in nodes[node].ops.keys.sorted() {
            guard case .write(let w)? = nodes[node].ops[id], let p = w.holders.firstIndex(of: peer) else { continue }
            let bit: UInt64 = 1 << UInt64(p)
            if w.targets & ~w.stored & bit != 0 { sendPuts(at: node, op: id, w, mask: bit, effects: &effects) }
        }
    }

    /// Answers a rejoining peer with the keys whose stripes include it.
    mutating func listShared(with peer: Int, at node: Int, effects: inout Effects<Message, Timer>) {
        var keys: [ShardKey] = []
        forEachHeld(node) { key in
            if placement(of: key, home: Int(homeOf[Int(key.raw)])).contains(peer) { keys.append(key) }
        }
        guard !keys.isEmpty else { return }
        effects.send(.shared(keys), to: peer, sizeBytes: Self.wireHeaderBytes + 8 * keys.count, kind: .repair)
    }

    // MARK: Scrub

    mutating func armScrub(_ node: Int, effects: inout Effects<Message, Timer>) {
        guard settings.scrubInterval > .zero, !nodes[node].scrubArmed, !nodes[node].index.isEmpty else { return }
        nodes[node].scrubArmed = true
        effects.setTimer(after: settings.scrubInterval, .scrub)
    }

    /// Checks the next `scrub_batch` held keys: compares this node's fragment with its ring
    /// successor's and rebuilds the successor's when it is missing or older. (A node's own
    /// rot or gap is its predecessor's to find, so each hole is found once; a node that
    /// missed a write has no index entry for it, and its predecessor still finds it.)
    mutating func scrub(at node: Int, effects: inout Effects<Message, Timer>) {
        let total = nodes[node].index.count * 64
        var key = nodes[node].scrubCursor
        var scanned = 0, started = 0
        while started < settings.scrubBatch && scanned < total {
            if key >= total { key = 0 }
            let word = nodes[node].index[key >> 6] >> UInt64(key & 63)
            if word == 0 {
                let skip = 64 - (key & 63)
                key += skip; scanned += skip
                continue
            }
            let zeros = word.trailingZeroBitCount
            key += zeros; scanned += zeros
            startScrub(at: node, key: ShardKey(UInt64(key)), effects: &effects)
            started += 1
            key += 1; scanned += 1
        }
        nodes[node].scrubCursor = key
        armScrub(node, effects: &effects)
    }

    mutating func startScrub(at node: Int, key: ShardKey, effects: inout Effects<Message, Timer>) {
        let home = Int(homeOf[Int(key.raw)])
        let holders = placement(of: key, home: home)
        guard let own = holders.firstIndex(of: node), holders.count > 1 else { return }
        let s = ScrubOp(key: key, home: home, holders: holders, own: own, successor: (own + 1) % holders.count)
        let id = newOp(node)
        nodes[node].ops[id] = .scrub(s)
        sendGets(at: node, op: id, key: key, holders: holders, mask: (1 << UInt64(s.own)) | (1 << UInt64(s.successor)),
                 traffic: .repair, effects: &effects)
        effects.setTimer(after: settings.readTimeout, .giveUp(op: id))
    }

    mutating func scrubFinished(at node: Int, _ s: ScrubOp, now: SimTime, effects: inout Effects<Message, Timer>) {
        guard let own = s.ownAnswer, let next = s.successorAnswer, own != .ioError, next != .ioError else { return }
        guard let mine = own.stamp else { return }
        if let theirs = next.stamp, !(theirs < mine) { return }
        addTask(node, key: s.key, home: s.home, targets: 1 << UInt64(s.successor), now: now, effects: &effects)
    }

    // MARK: Helpers

    mutating func newToken(_ node: Int) -> UInt64 {
        let t = nodes[node].nextToken
        nodes[node].nextToken += 1
        return t | tokenTag
    }

    mutating func newOp(_ node: Int) -> UInt64 {
        let id = nodes[node].nextOp
        nodes[node].nextOp += 1
        return id
    }

    /// Records the stripe metadata of `key` (bytes: the newest written shard size).
    mutating func noteMeta(_ key: ShardKey, home: Int, bytes: Int?) {
        let i = Int(key.raw)
        if i >= homeOf.count {
            let n = Swift.max(i + 1, homeOf.count * 2, 1024)
            homeOf.append(contentsOf: repeatElement(0, count: n - homeOf.count))
            bytesOf.append(contentsOf: repeatElement(0, count: n - bytesOf.count))
        }
        homeOf[i] = UInt16(home)
        if let bytes { bytesOf[i] = Int32(clamping: bytes) }
    }

    /// The newest written size of `key`'s shard.
    func shardBytes(_ key: ShardKey) -> Int {
        key.raw < UInt64(bytesOf.count) ? Int(bytesOf[Int(key.raw)]) : 0
    }

    func fragmentBytes(_ key: ShardKey) -> Int { settings.fragmentBytes(shardBytes: shardBytes(key)) }

    func answerBytes(_ key: ShardKey, _ answer: FragmentAnswer) -> Int {
        switch answer {
        case .fragment(_, _, false): return Self.smallMessageBytes + fragmentBytes(key)
        case .whole(_, false): return Self.smallMessageBytes + shardBytes(key)
        default: return Self.smallMessageBytes
        }
    }

    mutating func markHeld(_ node: Int, _ key: ShardKey, effects: inout Effects<Message, Timer>) {
        let w = Int(key.raw >> 6)
        if w >= nodes[node].index.count {
            nodes[node].index.append(contentsOf: repeatElement(0, count: Swift.max(w + 1, nodes[node].index.count * 2) - nodes[node].index.count))
        }
        nodes[node].index[w] |= 1 << (key.raw & 63)
        armScrub(node, effects: &effects)
    }

    func forEachHeld(_ node: Int, _ body: (ShardKey) -> Void) {
        for (w, word) in nodes[node].index.enumerated() where word != 0 {
            var bits = word
            while bits != 0 {
                body(ShardKey(UInt64(w * 64 + bits.trailingZeroBitCount)))
                bits &= bits - 1
            }
        }
    }

    /// Positions of `holders` by distance from `node`: itself, its DC, then DCs by latency,
    /// with suspected holders last; ties in fragment order (data fragments first, which a
    /// systematic code reads without decoding).
    func nearestOrder(from node: Int, _ holders: [Int], now: SimTime) -> [UInt8] {
        let dcs = world.topology.datacenters.count
        let here = world.datacenter(of: node)
        let suspects = nodes[node].suspects
        func rank(_ n: Int) -> Int {
            if n == node { return 0 }
            let dc = world.datacenter(of: n)
            let r = dc == here ? 1 : 2 + Int(dcRank[here * dcs + dc])
            if !suspects.isEmpty, let until = suspects[n], until > now { return r + 1 << 30 }
            return r
        }
        var order = (0..<holders.count).map { UInt8($0) }
        order.sort { a, b in
            let ra = rank(holders[Int(a)]), rb = rank(holders[Int(b)])
            return ra != rb ? ra < rb : a < b
        }
        return order
    }

    /// Suspects the holders at the positions of `mask` (they missed a hedge or write deadline).
    mutating func suspect(_ holders: [Int], _ mask: UInt64, at node: Int, now: SimTime) {
        var bits = mask
        while bits != 0 {
            let p = bits.trailingZeroBitCount
            bits &= bits - 1
            if holders[p] != node { nodes[node].suspects[holders[p]] = now + Self.suspicion }
        }
    }

    /// A message from `peer` arrived: it is alive.
    mutating func heard(from peer: Int, at node: Int) {
        if !nodes[node].suspects.isEmpty { nodes[node].suspects[peer] = nil }
    }

    /// Whether `node` holds a fragment of `key` by its durable index (for tests).
    func holds(_ node: Int, _ key: ShardKey) -> Bool { nodes[node].holds(key) }
    /// Repairs queued or running at `node` (for tests).
    func repairBacklog(_ node: Int) -> Int { nodes[node].tasks.count }
}
