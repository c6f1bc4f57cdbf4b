import SimCore
import SimNetwork
import SimConfig

/// Hybrid storage: recent messages are replicated whole; once a message has gone
/// `transcode_after` without a write, the node that coordinated its last write transcodes it
/// to RS(k, m) fragments in the background and then drops the replicas.
///
/// Protocol:
/// - **Write** (edit, delete): the client's request goes to the key's first live replica
///   holder (``Placement``: `copies`, by default 3 in the home DC and the nearest DCs). It
///   stores its copy and sends the others theirs; the client is acknowledged after
///   `ack_copies` copies are stored, the rest are re-sent after `write_timeout`. A write
///   makes the key "hot" again (it is replicated, and its old fragments are stale); a delete
///   of a coded key also writes tombstone fragments, so old fragments stop taking space.
/// - **Transcode**: the write's coordinator keeps a durable queue of written keys. When an
///   entry is `transcode_after` old it reads its replica, encodes it and writes all `k + m`
///   fragments through the embedded ``ErasureCoded`` tier (on nodes disjoint from the
///   replicas, since a node keeps one copy per key). Only when **all** fragments are stored
///   does it publish the key as coded and ask each replica holder to drop its copy — and a
///   holder drops only the version that was coded (a newer edit is never dropped). So at
///   every instant the key has its full replicas or its full stripe: never less redundancy
///   than promised. A write that arrives meanwhile makes the transcode moot.
/// - **Read**: a coordinator in the reader's DC asks the `read_copies` nearest replicas
///   (default `copies − ack_copies + 1`, so reads overlap acknowledged writes); when one is
///   missing (dropped after transcoding) it also reads `k` fragments (``StripeRead``), and
///   answers the newest version it can decode. When the directory says the key is coded it
///   reads the `k` nearest fragments alone (a write flips the directory before it can be
///   acknowledged, so such a read can only miss a write concurrent with it).
/// - **Repair** of the coded tier (hints, scrub, rejoin after disk loss) is the erasure-coded
///   strategy's. The replica tier re-sends writes but has no background repair: a replica
///   lost before transcoding comes back as fragments when the key is transcoded.
///
/// The layout directory (is a key coded, and the version of its last write) is one `UInt32`
/// per dense key. It stands for a metadata service both tiers consult; updates are visible
/// at once, and reads never depend on it alone (they fall back to the other tier).
///
/// Durability: the transcode queue survives a crash with the disk (transcodes in flight go
/// back to it); drop locks and operations are volatile.
public struct Hybrid: ReplicationStrategy {
    public enum Message {
        /// A message of the coded tier.
        case stripe(ErasureCoded.Message)
        /// Store a whole copy (replica) of `key`.
        case putReplica(op: UInt64, key: ShardKey, stamp: Stamp, tombstone: Bool)
        case putReplicaDone(op: UInt64, ok: Bool)
        /// Read your copy or fragment of `key`.
        case get(op: UInt64, key: ShardKey, traffic: ErasureCoded.Traffic)
        case getDone(op: UInt64, answer: FragmentAnswer)
        /// Drop your replica of `key` if it is still version `stamp` (the key was transcoded).
        case dropReplica(key: ShardKey, stamp: Stamp)
    }

    public enum Timer {
        case stripe(ErasureCoded.Timer)
        case write(op: UInt64)
        case hedge(op: UInt64)
        case giveUp(op: UInt64)
        case transcode
    }

    struct WriteOp {
        var client: OperationID
        var key: ShardKey
        var home: Int
        var stamp: Stamp
        var tombstone: Bool
        var holders: [Int]
        var stored: UInt64 = 0
        var failed: UInt64 = 0
        var attempts = 1
        var answered = false
    }

    struct ReadOp {
        var client: OperationID
        var key: ShardKey
        /// Replica holders, then fragment holders.
        var holders: [Int]
        var read: StripeRead
    }

    /// A key waiting to be transcoded (or being read for it).
    struct Entry {
        var key: ShardKey
        var home: Int
        var stamp: Stamp
        var due: SimTime
        var attempts = 0
    }

    enum Op {
        case write(WriteOp)
        case read(ReadOp)
        case transcodeRead(Entry, source: Int)
    }

    enum Pending {
        case put(from: Int, op: UInt64)
        case get(from: Int, op: UInt64, traffic: ErasureCoded.Traffic)
        /// Check the replica is still `stamp` before dropping it.
        case checkDrop(Stamp)
        case drop
    }

    struct NodeState {
        var nextToken: UInt64 = 0
        var nextOp: UInt64 = 0
        var pending: [UInt64: Pending] = [:]
        var ops: [UInt64: Op] = [:]
        /// Durable: keys to transcode, in write order.
        var queue: [Entry] = []
        var queueHead = 0
        var transcodeArmed = false
        /// Stripes being written: key → the entry (volatile; back to the queue on a crash).
        var transcoding: [ShardKey: Entry] = [:]
        /// Replica reads in flight for transcodes.
        var transcodeReads = 0
        /// Keys whose replica is being dropped, with replica puts held until the drop is done.
        var dropping: [ShardKey: [(from: Int, op: UInt64, stamp: Stamp, tombstone: Bool)]] = [:]
    }

    public let replicas: Placement
    public let ackCopies: Int
    public let readCopies: Int
    public let transcodeAfter: SimDuration
    public let transcodeConcurrency: Int
    let settings: StripeSettings
    let world: StrategyWorld
    var stripes: ErasureCoded
    var stripeEffects = Effects<ErasureCoded.Message, ErasureCoded.Timer>()
    var nodes: [NodeState]
    /// The layout directory: bit 31 = coded, bits 0..<31 = version of the last write begun.
    var directory: [UInt32] = []
    static let codedBit: UInt32 = 1 << 31
    /// Tags the coded tier's storage tokens.
    static let stripeTokenTag: UInt64 = 1 << 63

    /// Transcodes that finished (replicas dropped), for tests and summaries.
    public private(set) var transcoded = 0

    public init(world: StrategyWorld, config: StrategyConfig) throws {
        var p = StrategyParameters(config, strategy: "hybrid")
        let nodeCount = world.topology.nodes.count
        replicas = try Placement(&p, world: world, defaultCopies: 3, maxCopies: Swift.min(16, Swift.max(1, nodeCount - 2)))
        let copies = replicas.copies
        ackCopies = try p.int("ack_copies", default: Swift.min(2, copies), in: 1...copies)
        readCopies = try p.int("read_copies", default: copies - ackCopies + 1, in: 1...copies)
        // Fragments go to nodes that hold no replica of the key.
        let room = Swift.min(StripeSettings.maxFragments, nodeCount - copies)
        settings = try StripeSettings.read(&p, defaultK: Swift.max(1, Swift.min(4, room - 2)), defaultM: Swift.min(2, Swift.max(0, room - 1)),
                                           nodesAvailable: room)
        transcodeAfter = try p.duration("transcode_after", default: .minutes(5), minimum: .milliseconds(1))
        transcodeConcurrency = try p.int("transcode_concurrency", default: 16, in: 1...10_000)
        try p.finish()
        self.world = world
        // Fragments: the same placement rules, over copies + k + m nodes, minus the replicas.
        var fp = StrategyParameters(StrategyConfig(name: "hybrid", parameters: [
            .init(key: "copies", value: .number(Double(copies + settings.count))),
            .init(key: "order", value: .string(replicas.order.rawValue)),
            .init(key: "home_first", value: .bool(replicas.homeFirst)),
            .init(key: "min_jurisdictions", value: .number(Double(replicas.minJurisdictions))),
            .init(key: "min_regions", value: .number(Double(replicas.minRegions))),
        ]), strategy: "hybrid")
        let spread = try Placement(&fp, world: world, defaultCopies: copies + settings.count)
        stripes = try ErasureCoded(world: world, settings: settings,
                                   layout: FragmentLayout(placement: spread, avoiding: replicas, count: settings.count),
                                   ackFragments: settings.count, readRepair: false, tokenTag: Self.stripeTokenTag)
        nodes = Array(repeating: NodeState(), count: nodeCount)
    }

    public var summary: String {
        "hybrid \(replicas.summary) ack_copies=\(ackCopies) read_copies=\(readCopies) then k=\(settings.k) m=\(settings.m) after transcode_after=\(transcodeAfter) \(settings.summary)"
    }

    public var fragmentsNeededToRead: Int { settings.k }
    /// The coded tier's k + m, whether or not `key` is coded yet (fragments are written
    /// before the directory says so).
    public func stripeWidth(of key: ShardKey, home: Int) -> Int { settings.count }
    /// New keys are replicated: reads need `read_copies`, writes `ack_copies`.
    public var replicasToRead: Int { readCopies }
    public var replicasToWrite: Int { ackCopies }

    /// The weaker of the two tiers. Replicas: writes need `ack_copies` and reads
    /// `read_copies` of `copies` up; an acknowledged write survives `ack_copies − 1` lost
    /// disks. Fragments: reads need `k` of `k + m`; a transcoded key survives `m` lost disks.
    /// Whole DCs count per tier (a DC may take two fragments of a key but one replica).
    public var tolerance: FaultTolerance {
        let copies = replicas.copies
        let replicaUnits = Swift.min(copies - ackCopies, copies - readCopies)
        let nodes = Swift.min(replicaUnits, settings.m)
        let replicaDCs = FragmentLayout(placement: replicas, avoiding: nil, count: copies)
            .datacentersTolerated(within: replicaUnits, world: world)
        let dcs = Swift.min(replicaDCs, stripes.layout.datacentersTolerated(within: settings.m, world: world))
        return FaultTolerance(datacenters: dcs, nodes: nodes, diskLoss: nodes > 0 && ackCopies - 1 >= nodes,
                              partitions: dcs >= 1)
    }

    /// Whether `key` is stored as fragments now.
    public func isCoded(_ key: ShardKey) -> Bool {
        key.raw < UInt64(directory.count) && directory[Int(key.raw)] & Self.codedBit != 0
    }

    /// Replica holders before transcoding, fragment holders after.
    public func placement(of key: ShardKey, home: Int) -> [Int] {
        isCoded(key) ? stripes.placement(of: key, home: home) : replicas.nodes(for: key, home: home)
    }

    public func coordinator(for request: ClientRequest, clientDC: Int, up: NodeLiveness) -> Int? {
        let copies = replicas.nodes(for: request.key, home: request.homeDC)
        switch request.kind {
        case .write, .delete:
            return copies.first { up.isUp($0) }
        case .read:
            // A holder of the current layout in the client's DC (or the nearest live DC), else a gateway there.
            let preferred = isCoded(request.key) ? stripes.placement(of: request.key, home: request.homeDC) : copies
            return ErasureCoded.nearestCoordinator(preferring: preferred, clientDC: clientDC, key: request.key,
                                                   world: world, up: up)
        }
    }

    // MARK: Inputs

    public mutating func clientRequest(_ request: ClientRequest, at node: Int, now: SimTime,
                                       rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        stripes.noteMeta(request.key, home: request.homeDC, bytes: request.kind == .write ? request.storedBytes : nil)
        switch request.kind {
        case .write, .delete:
            startWrite(request, at: node, now: now, effects: &effects)
        case .read:
            let copies = replicas.nodes(for: request.key, home: request.homeDC)
            let holders = copies + stripes.placement(of: request.key, home: request.homeDC)
            var read = StripeRead(positions: holders.count, replicas: copies.count, readQuorum: readCopies, k: settings.k,
                                  order: stripes.nearestOrder(from: node, holders, now: now), extra: settings.readExtra,
                                  fragmentsSuffice: isCoded(request.key))
            let ask = read.start()
            let id = newOp(node)
            nodes[node].ops[id] = .read(ReadOp(client: request.id, key: request.key, holders: holders, read: read))
            sendGets(at: node, op: id, key: request.key, holders: holders, mask: ask, traffic: .client, effects: &effects)
            effects.setTimer(after: settings.hedgeAfter, .hedge(op: id))
            effects.setTimer(after: settings.readTimeout, .giveUp(op: id))
        }
    }

    public mutating func receive(_ message: Message, from source: Int, at node: Int, now: SimTime,
                                 rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        switch message {
        case .stripe: break
        default: stripes.heard(from: source, at: node)
        }
        switch message {
        case .stripe(let m):
            forward(at: node, now: now, effects: &effects) { $0.receive(m, from: source, at: node, now: now, rng: &rng, effects: &$1) }
        case .putReplica(let op, let key, let stamp, let tombstone):
            storeReplica(at: node, for: source, op: op, key: key, stamp: stamp, tombstone: tombstone, effects: &effects)
        case .putReplicaDone(let op, let ok):
            putDone(at: node, from: source, op: op, ok: ok, now: now, effects: &effects)
        case .get(let op, let key, let traffic):
            let token = newToken(node)
            nodes[node].pending[token] = .get(from: source, op: op, traffic: traffic)
            effects.store(.get(key), token: token)
        case .getDone(let op, let answer):
            getDone(at: node, from: source, op: op, answer: answer, now: now, effects: &effects)
        case .dropReplica(let key, let stamp):
            let token = newToken(node)
            nodes[node].pending[token] = .checkDrop(stamp)
            effects.store(.get(key), token: token)
        }
    }

    public mutating func timer(_ timer: Timer, at node: Int, now: SimTime,
                               rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        switch timer {
        case .stripe(let t):
            forward(at: node, now: now, effects: &effects) { $0.timer(t, at: node, now: now, rng: &rng, effects: &$1) }
        case .write(let op):
            guard case .write(var w)? = nodes[node].ops[op] else { return }
            if w.attempts <= settings.writeRetries {
                w.attempts += 1
                w.failed = 0
                nodes[node].ops[op] = .write(w)
                sendPuts(at: node, op: op, w, mask: StripeRead.mask(first: w.holders.count) & ~w.stored, effects: &effects)
                effects.setTimer(after: settings.writeTimeout, .write(op: op))
            } else {
                // Give up re-sending; the transcoder (from this copy) restores full redundancy.
                nodes[node].ops[op] = nil
                if !w.answered { effects.reply(w.client, .failed) }
            }
        case .hedge(let op):
            guard case .read(var r)? = nodes[node].ops[op] else { return }
            stripes.suspect(r.holders, r.read.asked & ~r.read.answered & ~r.read.errors, at: node, now: now)
            let more = r.read.askAll()
            nodes[node].ops[op] = .read(r)
            sendGets(at: node, op: op, key: r.key, holders: r.holders, mask: more, traffic: .client, effects: &effects)
        case .giveUp(let op):
            switch nodes[node].ops[op] {
            case .read(let r)?:
                nodes[node].ops[op] = nil
                let (seen, best) = r.read.newest
                if r.read.covered, seen == nil {
                    effects.reply(r.client, .notFound)
                } else if r.read.covered, let best {
                    effects.reply(r.client, .found(best.stamp, tombstone: best.tombstone))
                } else {
                    effects.reply(r.client, .failed)
                }
            case .transcodeRead(let e, _)?:
                nodes[node].ops[op] = nil
                nodes[node].transcodeReads -= 1
                retry(e, at: node, now: now, effects: &effects)
            case .write?, nil:
                break
            }
        case .transcode:
            nodes[node].transcodeArmed = false
            runTranscodes(at: node, now: now, effects: &effects)
        }
    }

    public mutating func storageCompleted(_ completion: StorageCompletion, at node: Int, now: SimTime,
                                          rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        if completion.token & Self.stripeTokenTag != 0 {
            forward(at: node, now: now, effects: &effects) { $0.storageCompleted(completion, at: node, now: now, rng: &rng, effects: &$1) }
            return
        }
        guard let pending = nodes[node].pending.removeValue(forKey: completion.token) else {
            preconditionFailure("Hybrid: storage completion with unknown token \(completion.token) at node \(node)")
        }
        let key = completion.key
        switch pending {
        case .put(let from, let op):
            let ok: Bool
            switch completion.outcome {
            case .stored, .superseded: ok = true
            case .ioError: ok = false
            case .found, .foundFragment, .missing: preconditionFailure("Hybrid: a put completed as a get at node \(node)")
            }
            if from == node {
                putDone(at: node, from: node, op: op, ok: ok, now: now, effects: &effects)
            } else {
                effects.send(.putReplicaDone(op: op, ok: ok), to: from, sizeBytes: ErasureCoded.smallMessageBytes, kind: .writeAck)
            }
        case .get(let from, let op, let traffic):
            let answer = FragmentAnswer(completion.outcome, node: node)
            if from == node {
                getDone(at: node, from: node, op: op, answer: answer, now: now, effects: &effects)
            } else {
                effects.send(.getDone(op: op, answer: answer), to: from, sizeBytes: stripes.answerBytes(key, answer),
                             kind: traffic == .client ? .readResponse : .replication)
            }
        case .checkDrop(let stamp):
            guard case .found(let held, false) = completion.outcome, held == stamp, nodes[node].dropping[key] == nil else { return }
            nodes[node].dropping[key] = []
            let token = newToken(node)
            nodes[node].pending[token] = .drop
            effects.store(.drop(key), token: token)
        case .drop:
            // Release the replica writes that arrived during the drop.
            let held = nodes[node].dropping.removeValue(forKey: key) ?? []
            for h in held {
                storeReplica(at: node, for: h.from, op: h.op, key: key, stamp: h.stamp, tombstone: h.tombstone, effects: &effects)
            }
        }
    }

    public mutating func nodeDown(_ node: Int, diskLost: Bool, now: SimTime) {
        stripes.nodeDown(node, diskLost: diskLost, now: now)
        let old = nodes[node]
        var kept = NodeState()
        kept.nextToken = old.nextToken
        kept.nextOp = old.nextOp
        if !diskLost {
            // Transcodes in flight go back to the durable queue, due at once.
            var back: [Entry] = old.transcoding.keys.sorted().map { old.transcoding[$0]! }
            for id in old.ops.keys.sorted() { if case .transcodeRead(let e, _)? = old.ops[id] { back.append(e) } }
            kept.queue = back.map { var e = $0; e.due = now; return e } + old.queue[old.queueHead...]
        }
        nodes[node] = kept
    }

    public mutating func nodeUp(_ node: Int, now: SimTime, rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        forward(at: node, now: now, effects: &effects) { $0.nodeUp(node, now: now, rng: &rng, effects: &$1) }
        armTranscode(at: node, now: now, effects: &effects)
    }

    // MARK: Replica writes

    mutating func startWrite(_ request: ClientRequest, at node: Int, now: SimTime, effects: inout Effects<Message, Timer>) {
        let wasCoded = isCoded(request.key)
        setDirectory(request.key, version: request.stamp.version, coded: false)
        let w = WriteOp(client: request.id, key: request.key, home: request.homeDC, stamp: request.stamp,
                        tombstone: request.kind == .delete, holders: replicas.nodes(for: request.key, home: request.homeDC))
        let id = newOp(node)
        nodes[node].ops[id] = .write(w)
        sendPuts(at: node, op: id, w, mask: StripeRead.mask(first: w.holders.count), effects: &effects)
        effects.setTimer(after: settings.writeTimeout, .write(op: id))
        if wasCoded && w.tombstone {
            // The old fragments go too (tombstones carry no data).
            let all = StripeRead.mask(first: settings.count)
            forward(at: node, now: now, effects: &effects) {
                $0.startWrite(at: node, origin: .transcode, key: w.key, home: w.home, stamp: w.stamp, tombstone: true,
                              targets: all, ackAt: 0, traffic: .transcode, effects: &$1)
            }
        }
    }

    mutating func sendPuts(at node: Int, op: UInt64, _ w: WriteOp, mask: UInt64, effects: inout Effects<Message, Timer>) {
        var bits = mask
        while bits != 0 {
            let p = bits.trailingZeroBitCount
            bits &= bits - 1
            let target = w.holders[p]
            if target == node {
                storeReplica(at: node, for: node, op: op, key: w.key, stamp: w.stamp, tombstone: w.tombstone, effects: &effects)
            } else {
                let body = w.tombstone ? 0 : stripes.shardBytes(w.key)
                effects.send(.putReplica(op: op, key: w.key, stamp: w.stamp, tombstone: w.tombstone), to: target,
                             sizeBytes: ErasureCoded.wireHeaderBytes + body, kind: .writeRequest)
            }
        }
    }

    mutating func storeReplica(at node: Int, for source: Int, op: UInt64, key: ShardKey, stamp: Stamp, tombstone: Bool,
                               effects: inout Effects<Message, Timer>) {
        if nodes[node].dropping[key] != nil {
            nodes[node].dropping[key]!.append((source, op, stamp, tombstone))
            return
        }
        let token = newToken(node)
        nodes[node].pending[token] = .put(from: source, op: op)
        effects.store(.put(key, stamp, storedBytes: tombstone ? 0 : stripes.shardBytes(key), tombstone: tombstone), token: token)
    }

    mutating func putDone(at node: Int, from source: Int, op: UInt64, ok: Bool, now: SimTime, effects: inout Effects<Message, Timer>) {
        guard case .write(var w)? = nodes[node].ops[op], let p = w.holders.firstIndex(of: source) else { return }
        let bit: UInt64 = 1 << UInt64(p)
        guard w.stored & bit == 0 else { return }
        if ok { w.stored |= bit; w.failed &= ~bit } else { w.failed |= bit }
        if !w.answered {
            if w.stored.nonzeroBitCount >= ackCopies {
                w.answered = true
                effects.reply(w.client, .acknowledged)
                if !w.tombstone { enqueue(Entry(key: w.key, home: w.home, stamp: w.stamp, due: now + transcodeAfter), at: node, now: now, effects: &effects) }
            } else if (StripeRead.mask(first: w.holders.count) & ~w.failed).nonzeroBitCount < ackCopies {
                effects.reply(w.client, .failed)
                nodes[node].ops[op] = nil
                return
            }
        }
        nodes[node].ops[op] = w.stored == StripeRead.mask(first: w.holders.count) ? nil : .write(w)
    }

    // MARK: Reads

    mutating func sendGets(at node: Int, op: UInt64, key: ShardKey, holders: [Int], mask: UInt64,
                           traffic: ErasureCoded.Traffic, effects: inout Effects<Message, Timer>) {
        var bits = mask
        while bits != 0 {
            let p = bits.trailingZeroBitCount
            bits &= bits - 1
            if holders[p] == node {
                let token = newToken(node)
                nodes[node].pending[token] = .get(from: node, op: op, traffic: traffic)
                effects.store(.get(key), token: token)
            } else {
                effects.send(.get(op: op, key: key, traffic: traffic), to: holders[p], sizeBytes: ErasureCoded.wireHeaderBytes,
                             kind: traffic == .client ? .readRequest : .replication)
            }
        }
    }

    mutating func getDone(at node: Int, from source: Int, op: UInt64, answer: FragmentAnswer, now: SimTime,
                          effects: inout Effects<Message, Timer>) {
        switch nodes[node].ops[op] {
        case .read(var r)?:
            guard let position = r.holders.firstIndex(of: source), r.read.record(position, answer) else { return }
            let (decision, more) = r.read.decide()
            if more != 0 { sendGets(at: node, op: op, key: r.key, holders: r.holders, mask: more, traffic: .client, effects: &effects) }
            switch decision {
            case .wait: nodes[node].ops[op] = .read(r); return
            case .found(let stamp, let tombstone): effects.reply(r.client, .found(stamp, tombstone: tombstone))
            case .notFound: effects.reply(r.client, .notFound)
            case .failed: effects.reply(r.client, .failed)
            }
            nodes[node].ops[op] = nil
        case .transcodeRead(let e, let holder)?:
            guard source == holder else { return }
            nodes[node].ops[op] = nil
            nodes[node].transcodeReads -= 1
            switch answer {
            case .whole(let stamp, false) where stamp >= e.stamp:
                guard currentVersion(e.key) <= stamp.version, !isCoded(e.key) else { runTranscodes(at: node, now: now, effects: &effects); return }
                var started = e
                started.stamp = stamp
                nodes[node].transcoding[e.key] = started
                let all = StripeRead.mask(first: settings.count)
                forward(at: node, now: now, effects: &effects) {
                    $0.startWrite(at: node, origin: .transcode, key: e.key, home: e.home, stamp: stamp, tombstone: false,
                                  targets: all, ackAt: 0, traffic: .transcode, effects: &$1)
                }
            case .whole:
                // Deleted, or superseded by a newer write (which has its own entry).
                runTranscodes(at: node, now: now, effects: &effects)
            case .missing, .ioError, .fragment:
                retry(e, at: node, now: now, effects: &effects)
            }
        case .write?, nil:
            return
        }
    }

    // MARK: Transcoding

    mutating func enqueue(_ e: Entry, at node: Int, now: SimTime, effects: inout Effects<Message, Timer>) {
        nodes[node].queue.append(e)
        armTranscode(at: node, now: now, effects: &effects)
    }

    mutating func armTranscode(at node: Int, now: SimTime, effects: inout Effects<Message, Timer>) {
        let n = nodes[node]
        guard !n.transcodeArmed, n.queueHead < n.queue.count else { return }
        nodes[node].transcodeArmed = true
        let due = n.queue[n.queueHead].due
        effects.setTimer(after: due > now ? due - now : .milliseconds(1), .transcode)
    }

    /// Starts due transcodes up to `transcode_concurrency`.
    mutating func runTranscodes(at node: Int, now: SimTime, effects: inout Effects<Message, Timer>) {
        while nodes[node].queueHead < nodes[node].queue.count, inFlight(node) < transcodeConcurrency {
            let e = nodes[node].queue[nodes[node].queueHead]
            guard e.due <= now else { break }
            nodes[node].queueHead += 1
            // Skip keys already coded, superseded by a newer write, or being transcoded here.
            if isCoded(e.key) || currentVersion(e.key) > e.stamp.version || nodes[node].transcoding[e.key] != nil { continue }
            let copies = replicas.nodes(for: e.key, home: e.home)
            let source = copies.contains(node) ? node : copies[0]
            let id = newOp(node)
            nodes[node].ops[id] = .transcodeRead(e, source: source)
            nodes[node].transcodeReads += 1
            sendGets(at: node, op: id, key: e.key, holders: [source], mask: 1, traffic: .transcode, effects: &effects)
            effects.setTimer(after: settings.readTimeout, .giveUp(op: id))
        }
        if nodes[node].queueHead > 1024 && nodes[node].queueHead * 2 > nodes[node].queue.count {
            nodes[node].queue.removeFirst(nodes[node].queueHead)
            nodes[node].queueHead = 0
        }
        if inFlight(node) < transcodeConcurrency { armTranscode(at: node, now: now, effects: &effects) }
    }

    func inFlight(_ node: Int) -> Int { nodes[node].transcoding.count + nodes[node].transcodeReads }

    /// Tries a transcode again later (bounded by `repair_attempts`).
    mutating func retry(_ e: Entry, at node: Int, now: SimTime, effects: inout Effects<Message, Timer>) {
        var again = e
        again.attempts += 1
        if again.attempts < settings.repairAttempts {
            again.due = now + settings.repairRetry
            // Keep the queue in due order: retries go after everything due sooner.
            let n = nodes[node]
            let at = n.queue[n.queueHead...].firstIndex { $0.due > again.due } ?? n.queue.count
            nodes[node].queue.insert(again, at: at)
        }
        runTranscodes(at: node, now: now, effects: &effects)
    }

    /// A stripe of the coded tier finished.
    mutating func stripeFinished(at node: Int, key: ShardKey, stamp: Stamp, ok: Bool, now: SimTime,
                                 effects: inout Effects<Message, Timer>) {
        guard let e = nodes[node].transcoding[key], e.stamp == stamp else { return }
        nodes[node].transcoding[key] = nil
        if !ok {
            retry(e, at: node, now: now, effects: &effects)
            return
        }
        if currentVersion(key) <= stamp.version && !isCoded(key) {
            // Every fragment is durable: publish the coded layout, then drop the replicas.
            setDirectory(key, version: currentVersion(key), coded: true)
            transcoded += 1
            for holder in replicas.nodes(for: key, home: e.home) {
                if holder == node {
                    let token = newToken(node)
                    nodes[node].pending[token] = .checkDrop(stamp)
                    effects.store(.get(key), token: token)
                } else {
                    effects.send(.dropReplica(key: key, stamp: stamp), to: holder, sizeBytes: ErasureCoded.wireHeaderBytes, kind: .control)
                }
            }
        }
        runTranscodes(at: node, now: now, effects: &effects)
    }

    // MARK: Helpers

    /// Runs a step of the coded tier and translates its actions into this strategy's.
    mutating func forward(at node: Int, now: SimTime, effects: inout Effects<Message, Timer>,
                          _ body: (inout ErasureCoded, inout Effects<ErasureCoded.Message, ErasureCoded.Timer>) -> Void) {
        body(&stripes, &stripeEffects)
        for action in stripeEffects.actions {
            switch action {
            case .send(let target, let m, let size, let kind): effects.send(.stripe(m), to: target, sizeBytes: size, kind: kind)
            case .store(let request, let token): effects.store(request, token: token)
            case .reply(let id, let result): effects.reply(id, result)
            case .setTimer(let delay, let t): effects.setTimer(after: delay, .stripe(t))
            }
        }
        stripeEffects.removeAll()
        while !stripes.finishedStripes.isEmpty {
            let done = stripes.finishedStripes.removeFirst()
            stripeFinished(at: done.node, key: done.key, stamp: done.stamp, ok: done.ok, now: now, effects: &effects)
        }
    }

    mutating func setDirectory(_ key: ShardKey, version: UInt32, coded: Bool) {
        let i = Int(key.raw)
        if i >= directory.count {
            directory.append(contentsOf: repeatElement(0, count: Swift.max(i + 1, directory.count * 2, 1024) - directory.count))
        }
        let v = Swift.max(directory[i] & ~Self.codedBit, Swift.min(version, ~Self.codedBit))
        directory[i] = v | (coded ? Self.codedBit : 0)
    }

    func currentVersion(_ key: ShardKey) -> UInt32 {
        key.raw < UInt64(directory.count) ? directory[Int(key.raw)] & ~Self.codedBit : 0
    }

    mutating func newToken(_ node: Int) -> UInt64 {
        let t = nodes[node].nextToken
        nodes[node].nextToken += 1
        return t
    }

    mutating func newOp(_ node: Int) -> UInt64 {
        let id = nodes[node].nextOp
        nodes[node].nextOp += 1
        return id
    }
}
