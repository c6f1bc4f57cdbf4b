import SimCore
import SimNetwork
import SimConfig

/// Dynamo/Cassandra-style quorum replication.
///
/// Protocol: a key has N replicas where ``Placement`` puts them (by default `copies: 3` on
/// distinct DCs in consistent-hash `ring` order, or per-DC counts with `per_dc`, like
/// Cassandra's NetworkTopologyStrategy). A client contacts a coordinator — a live node in its
/// own DC, a replica of the key when that DC holds one (token-aware routing), any node
/// otherwise. The coordinator sends the write to the replicas (all N, or only a smallest set
/// that meets W) and acknowledges the client once the write level is met; it reads from the
/// replicas (all N, or a random smallest set that meets R), one answering with the data and
/// the others with a digest (the version), and answers with the newest version among the
/// answers it waited for.
///
/// Mechanisms, each of which can be turned off and whose traffic is counted as
/// ``MessageKind/repair`` (see the files next to this one):
/// - hinted handoff (`Quorum+HintedHandoff.swift`): a replica that does not answer within
///   `replica_timeout` has its write stored at the next node on the ring as a durable hint,
///   handed over when the replica is back; with `sloppy: true` the hint holder's
///   acknowledgement counts towards W (Dynamo's sloppy quorum);
/// - read repair (`Quorum+ReadRepair.swift`): replicas that answered a read with an older
///   version are written the newest one, before the answer (`blocking`) or after it with
///   probability `read_repair_chance` (`probabilistic`);
/// - anti-entropy (`Quorum+AntiEntropy.swift`): every `anti_entropy_interval` each node
///   compares a Merkle tree of the keys it shares with each peer, descends where the hashes
///   differ and streams only the keys that differ;
/// - tombstone garbage collection (`Quorum+Replica.swift`): a replica purges a tombstone
///   `gc_grace` after storing it — a replica that missed the delete and returns later can
///   resurrect the message through read repair or anti-entropy, as in Cassandra.
///
/// Conflicts: with `conflict: lww` the coordinator stamps each write with its own clock
/// (`stamp.tiebreak`) and replicas keep the highest timestamp (`putLWW`), so clock skew can
/// make an older edit win. With `conflict: version` versions are compared causally: a
/// version vector with one entry per writer; the workload has one author per message, so the
/// vector has a single entry and the order is the version order (a tie between different
/// stamps — concurrent siblings — would be resolved by `tiebreak`, deterministically).
///
/// Durability: hints, the tombstone purge queue and the anti-entropy index are on disk (they
/// survive a crash and go with a lost disk); coordinator state is volatile.
public struct Quorum: ReplicationStrategy {
    /// How concurrent versions of a key are ordered.
    public enum Conflict: String, Sendable { case lww, version }
    /// Which replicas a coordinator contacts.
    public enum Fanout: String, Sendable { case all, quorum }
    public enum ReadRepairMode: String, Sendable { case off, blocking, probabilistic }

    /// One version of a key as it travels between nodes.
    public struct Value: Sendable, Equatable {
        public var key: ShardKey
        public var stamp: Stamp
        public var storedBytes: Int32
        public var tombstone: Bool
        /// The key's home DC (its placement depends on it).
        public var home: Int32
        public init(key: ShardKey, stamp: Stamp, storedBytes: Int, tombstone: Bool, home: Int) {
            self.key = key; self.stamp = stamp; self.storedBytes = Int32(clamping: storedBytes)
            self.tombstone = tombstone; self.home = Int32(home)
        }
        /// Bytes of the value on the wire.
        var wireBytes: Int { tombstone ? 0 : Int(storedBytes) }
    }

    /// A replica's answer to a read.
    public enum ReplicaRead: Sendable, Equatable {
        case value(Stamp, tombstone: Bool)
        case missing
        /// The replica's disk failed the read.
        case failed
    }

    /// A Merkle tree node's hash, by index within its level.
    public struct TreeHash: Sendable, Equatable {
        public var index: UInt32
        public var hash: UInt64
    }

    /// A key's version as listed in an anti-entropy leaf exchange.
    public struct TreeEntry: Sendable, Equatable {
        public var key: ShardKey
        public var stamp: Stamp
        public var tombstone: Bool
    }

    public enum Message {
        // Write path (coordinator ↔ replicas).
        /// Store `value`; `hintFor` ≥ 0 makes the receiver a hint holder for that replica.
        case write(rid: UInt64, Value, hintFor: Int32)
        case writeAck(rid: UInt64, ok: Bool)
        // Read path.
        /// Read `key`; `data` asks for the value itself, otherwise a digest (the version).
        case read(rid: UInt64, key: ShardKey, data: Bool, bytes: Int32)
        case readReply(rid: UInt64, ReplicaRead, data: Bool)
        // Read repair.
        case repair(rid: UInt64, Value)
        case repairAck(rid: UInt64, ok: Bool)
        // Hinted handoff (hint holder ↔ the replica the hints are for).
        case hintProbe
        case hintProbeAck
        case handoff(batch: UInt64, [Value])
        case handoffAck(batch: UInt64, stored: [TreeEntry])
        // Anti-entropy.
        case treeCompare(level: UInt8, [TreeHash])
        case treeLeaves(leaves: [UInt32], entries: [TreeEntry])
        case streamRequest(keys: [ShardKey])
        case stream(Value)
    }

    public enum Timer {
        /// Replicas of operation `rid` have had `replica_timeout` to answer.
        case replicaTimeout(rid: UInt64)
        /// Operation `rid` has run out of time (`request_timeout`).
        case requestTimeout(rid: UInt64)
        case hintDelivery
        case tombstoneGC
        case antiEntropy
    }

    // MARK: Parameters

    public let layout: Placement
    public var n: Int { layout.copies }
    public let readLevel: ConsistencyLevel
    public let writeLevel: ConsistencyLevel
    public let writeFanout: Fanout
    public let readFanout: Fanout
    public let readRepair: ReadRepairMode
    /// Probability of a read repair with `read_repair: probabilistic`, parts per million.
    public let readRepairChancePPM: UInt32
    public let hintedHandoff: Bool
    public let sloppy: Bool
    public let hintRetryInterval: SimDuration
    /// nil when anti-entropy is off.
    public let antiEntropyInterval: SimDuration?
    public let merkleDepth: Int
    public let conflict: Conflict
    public let gcGrace: SimDuration
    public let replicaTimeout: SimDuration
    public let requestTimeout: SimDuration
    let analysis: QuorumAnalysis
    let world: StrategyWorld
    var nodes: [NodeState]

    /// How many times a coordinator re-examines an operation after `replica_timeout`
    /// (each round replaces replicas that have not answered).
    static let replicaTimeoutRounds = 2
    /// Hints handed over per message.
    static let handoffBatch = 64
    /// Wire sizes (headers: ids, key, stamp, sizes).
    static let headerBytes = 64
    static let ackBytes = 48

    public init(world: StrategyWorld, config: StrategyConfig) throws {
        var p = StrategyParameters(config, strategy: "quorum")
        let maxN = Swift.min(64, world.topology.nodes.count)
        let nGiven = try p.int("n", default: 0, in: 1...maxN)
        layout = try Placement(&p, world: world, defaultCopies: nGiven > 0 ? nGiven : 3,
                               defaultOrder: .ring, defaultHomeFirst: false, maxCopies: maxN)
        if nGiven > 0 && nGiven != layout.copies {
            throw StrategyError(strategy: "quorum", parameter: "n",
                                message: "n is \(nGiven) but copies/per_dc place \(layout.copies) replicas; give one of them",
                                location: p.location(of: "n"))
        }
        let layouts = Self.distinctLayouts(layout)
        readLevel = try Self.level(&p, count: "r", name: "read_consistency", layouts: layouts)
        writeLevel = try Self.level(&p, count: "w", name: "write_consistency", layouts: layouts)
        writeFanout = Fanout(rawValue: try p.choice("write_fanout", default: "all", allowed: ["all", "quorum"]))!
        readFanout = Fanout(rawValue: try p.choice("read_fanout", default: "all", allowed: ["all", "quorum"]))!
        if case .bool(let on)? = p.find("read_repair")?.value {
            // `read_repair: true | false` reads as blocking | off.
            _ = try p.bool("read_repair", default: true)
            readRepair = on ? .blocking : .off
        } else {
            readRepair = ReadRepairMode(rawValue: try p.choice("read_repair", default: "blocking",
                                                               allowed: ["off", "blocking", "probabilistic"]))!
        }
        let chance = try p.probability("read_repair_chance", default: 0.1)
        readRepairChancePPM = UInt32((chance * 1_000_000).rounded())
        hintedHandoff = try p.bool("hinted_handoff", default: true)
        sloppy = try p.bool("sloppy", default: false)
        hintRetryInterval = try p.duration("hint_retry_interval", default: .seconds(10), minimum: .milliseconds(1))
        if let raw = p.find("anti_entropy_interval"), raw.value == .string("off") {
            _ = try p.choice("anti_entropy_interval", default: "off", allowed: ["off"])
            antiEntropyInterval = nil
        } else {
            let d = try p.duration("anti_entropy_interval", default: .zero, minimum: .zero)
            antiEntropyInterval = d > .zero ? d : nil
        }
        merkleDepth = try p.int("merkle_depth", default: 10, in: 1...16)
        conflict = Conflict(rawValue: try p.choice("conflict", default: "lww", allowed: ["lww", "version"]))!
        gcGrace = try p.duration("gc_grace", default: .hours(240), minimum: .zero)
        replicaTimeout = try p.duration("replica_timeout", default: .seconds(1), minimum: .microseconds(1))
        requestTimeout = try p.duration("request_timeout", default: .seconds(3), minimum: replicaTimeout)
        // Parameters that would be silently ignored are errors.
        func requires(_ key: String, _ condition: Bool, _ what: String) throws {
            if p.has(key) && !condition {
                throw StrategyError(strategy: "quorum", parameter: key, message: "is used only with \(what)",
                                    location: p.location(of: key))
            }
        }
        try requires("read_repair_chance", readRepair == .probabilistic, "read_repair: probabilistic")
        try requires("hint_retry_interval", hintedHandoff, "hinted_handoff: true")
        try requires("merkle_depth", antiEntropyInterval != nil, "anti_entropy_interval")
        if sloppy && !hintedHandoff {
            throw StrategyError(strategy: "quorum", parameter: "sloppy",
                                message: "a sloppy quorum writes to hint holders, so it needs hinted_handoff: true",
                                location: p.location(of: "sloppy"))
        }
        try p.finish()
        analysis = QuorumAnalysis(read: readLevel, write: writeLevel, layouts: layouts)
        self.world = world
        let depth = merkleDepth, ae = antiEntropyInterval != nil
        nodes = Array(repeating: NodeState(antiEntropy: ae, depth: depth), count: world.topology.nodes.count)
    }

    /// Every distinct replica layout (DC → count) the placement produces, first seen first.
    static func distinctLayouts(_ layout: Placement) -> [[DCCount]] {
        var seen: [[DCCount]] = []
        for perHome in layout.selections {
            for selection in perHome {
                let l = selection.map { DCCount(dc: $0.dc, count: $0.count) }
                let sorted = l.sorted { $0.dc < $1.dc }
                if !seen.contains(where: { $0.sorted { $0.dc < $1.dc } == sorted }) { seen.append(l) }
            }
        }
        return seen
    }

    /// Reads a level given as a count (`r`/`w`) or a name (`read_consistency`/`write_consistency`).
    static func level(_ p: inout StrategyParameters, count: String, name: String,
                      layouts: [[DCCount]]) throws -> ConsistencyLevel {
        let n = layouts[0].reduce(0) { $0 + $1.count }
        let k = try p.int(count, default: 0, in: 1...n)
        let named = try p.choice(name, default: "quorum", allowed: ConsistencyLevel.named.map(\.name))
        if k > 0 && p.has(name) {
            throw StrategyError(strategy: "quorum", parameter: count, message: "give either \(count) or \(name), not both",
                                location: p.location(of: count))
        }
        let level = k > 0 ? ConsistencyLevel.count(k) : ConsistencyLevel.named.first { $0.name == named }!.level
        if !level.isLocal, layouts.contains(where: { level.requirement(layout: $0, localDC: $0[0].dc) == nil }) {
            throw StrategyError(strategy: "quorum", parameter: k > 0 ? count : name,
                                message: "\(level) needs more replicas than the \(n) placed (N = \(n))",
                                location: p.location(of: k > 0 ? count : name))
        }
        return level
    }

    public var summary: String {
        var s = "quorum N=\(n) \(layout.summary) R=\(describe(readLevel)) W=\(describe(writeLevel))"
        if !analysis.strong {
            s += " (eventual: R+W<=N)"
        } else if sloppy {
            s += " (eventual: sloppy quorum)"
        } else {
            s += " (strong: R+W>N)"
        }
        s += " write_fanout=\(writeFanout.rawValue) read_fanout=\(readFanout.rawValue)"
        s += " read_repair=\(readRepair.rawValue)"
        if readRepair == .probabilistic { s += " read_repair_chance=\(Double(readRepairChancePPM) / 1_000_000)" }
        s += " hinted_handoff=\(hintedHandoff ? "on" : "off") sloppy=\(sloppy ? "on" : "off")"
        s += " anti_entropy=\(antiEntropyInterval.map { "\($0) merkle_depth=\(merkleDepth)" } ?? "off")"
        s += " conflict=\(conflict.rawValue) gc_grace=\(gcGrace) replica_timeout=\(replicaTimeout) request_timeout=\(requestTimeout)"
        return s
    }

    /// A level with its replica count, e.g. `quorum(2)` or `local_quorum(2 of 3 in the coordinator's DC)`.
    func describe(_ level: ConsistencyLevel) -> String {
        if case .count = level { return level.description }
        let layouts = Self.distinctLayouts(layout)
        let first = layouts[0]
        guard let req = level.requirement(layout: first, localDC: first[0].dc) else { return level.description }
        switch level {
        case .localOne, .localQuorum:
            let counts = Set(layouts.flatMap { $0.map(\.count) }).sorted()
            let ks = counts.map { level == .localOne ? 1 : $0 / 2 + 1 }
            if counts.count == 1 { return "\(level)(\(ks[0]) of \(counts[0]) in the coordinator's DC)" }
            return "\(level)(⌊n_local/2⌋+1 in the coordinator's DC)"
        case .eachQuorum:
            return "\(level)(\(req.perDC.map { "\($0.count)" }.joined(separator: "+")) in \(req.perDC.count) DCs = \(req.minimumReplicas))"
        default:
            return "\(level)(\(req.minimumReplicas))"
        }
    }

    // MARK: What the engine asks

    public func placement(of key: ShardKey, home: Int) -> [Int] { layout.nodes(for: key, home: home) }

    public var replicasToRead: Int { analysis.readReplicas }
    public var replicasToWrite: Int { analysis.writeReplicas }

    /// Whole DCs and nodes that may be down with both levels still met (clients fail over);
    /// disk loss is within tolerance when an acknowledged write is on more nodes and more DCs
    /// than may fail.
    public var tolerance: FaultTolerance {
        let a = analysis
        return FaultTolerance(datacenters: a.datacentersTolerated, nodes: a.nodesTolerated,
                              diskLoss: a.writeNodesMin > a.nodesTolerated && a.writeDCsMin > a.datacentersTolerated,
                              partitions: a.datacentersTolerated >= 1)
    }

    /// A live node in the client's DC — for a local level, in the nearest DC that holds
    /// replicas of the key — preferring a replica of the key (token-aware routing).
    public func coordinator(for request: ClientRequest, clientDC: Int, up: NodeLiveness) -> Int? {
        let replicas = placement(of: request.key, home: request.homeDC)
        let level = request.kind == .read ? readLevel : writeLevel
        var dc = clientDC
        if level.isLocal && !replicas.contains(where: { world.datacenter(of: $0) == clientDC }) {
            guard let nearest = world.nearestDCs[clientDC].first(where: { d in
                replicas.contains { world.datacenter(of: $0) == d }
            }) else { return nil }
            dc = nearest
        }
        if let r = replicas.first(where: { world.datacenter(of: $0) == dc && up.isUp($0) }) { return r }
        let members = world.nodesByDC[dc]
        let first = world.node(in: dc, for: request.key)
        let start = members.firstIndex(of: first) ?? 0
        for i in 0..<members.count where up.isUp(members[(start + i) % members.count]) {
            return members[(start + i) % members.count]
        }
        return nil
    }

    // MARK: Inputs

    public mutating func clientRequest(_ request: ClientRequest, at node: Int, now: SimTime,
                                       rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        armBackgroundWork(node, rng: &rng, effects: &effects)
        switch request.kind {
        case .write, .delete: coordinateWrite(request, at: node, now: now, rng: &rng, effects: &effects)
        case .read: coordinateRead(request, at: node, now: now, rng: &rng, effects: &effects)
        }
    }

    public mutating func receive(_ message: Message, from source: Int, at node: Int, now: SimTime,
                                 rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        armBackgroundWork(node, rng: &rng, effects: &effects)
        switch message {
        case .write(let rid, let value, let hintFor):
            replicaWrite(rid, value, hintFor: Int(hintFor), from: source, at: node, now: now, rng: &rng, effects: &effects)
        case .writeAck(let rid, let ok):
            writeAcknowledged(rid, ok: ok, from: source, at: node, now: now, rng: &rng, effects: &effects)
        case .read(let rid, let key, let data, let bytes):
            replicaRead(rid, key, data: data, bytes: bytes, from: source, at: node, effects: &effects)
        case .readReply(let rid, let result, let data):
            readAnswered(rid, result, data: data, from: source, at: node, now: now, rng: &rng, effects: &effects)
        case .repair(let rid, let value):
            replicaRepair(rid, value, from: source, at: node, effects: &effects)
        case .repairAck(let rid, let ok):
            repairAcknowledged(rid, ok: ok, from: source, at: node, now: now, rng: &rng, effects: &effects)
        case .hintProbe:
            send(.hintProbeAck, from: node, to: source, sizeBytes: 32, kind: .repair, now: now, rng: &rng, effects: &effects)
        case .hintProbeAck:
            hintTargetIsBack(source, at: node, now: now, rng: &rng, effects: &effects)
        case .handoff(let batch, let values):
            receiveHandoff(batch, values, from: source, at: node, now: now, rng: &rng, effects: &effects)
        case .handoffAck(let batch, let stored):
            handoffAcknowledged(batch, stored, from: source, at: node, now: now, rng: &rng, effects: &effects)
        case .treeCompare(let level, let hashes):
            compareTree(level: Int(level), hashes, from: source, at: node, now: now, rng: &rng, effects: &effects)
        case .treeLeaves(let leaves, let entries):
            compareLeaves(leaves, entries, from: source, at: node, now: now, rng: &rng, effects: &effects)
        case .streamRequest(let keys):
            for key in keys { streamKey(key, to: source, at: node, effects: &effects) }
        case .stream(let value):
            storeReplica(value, at: node, task: .streamStore(value), effects: &effects)
        }
    }

    public mutating func timer(_ timer: Timer, at node: Int, now: SimTime,
                               rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        switch timer {
        case .replicaTimeout(let rid):
            if nodes[node].writes[rid] != nil {
                writeReplicaTimeout(rid, at: node, now: now, rng: &rng, effects: &effects)
            } else if nodes[node].reads[rid] != nil {
                readReplicaTimeout(rid, at: node, now: now, rng: &rng, effects: &effects)
            }
        case .requestTimeout(let rid):
            if let op = nodes[node].writes.removeValue(forKey: rid), !op.replied {
                effects.reply(op.client, .failed)
            }
            if let op = nodes[node].reads.removeValue(forKey: rid), !op.replied {
                effects.reply(op.client, .failed)
            }
        case .hintDelivery:
            nodes[node].hintTimerArmed = false
            deliverHints(at: node, now: now, rng: &rng, effects: &effects)
        case .tombstoneGC:
            nodes[node].gcTimerArmed = false
            collectTombstones(at: node, now: now, effects: &effects)
        case .antiEntropy:
            nodes[node].antiEntropyArmed = false
            startAntiEntropy(at: node, now: now, rng: &rng, effects: &effects)
        }
    }

    public mutating func storageCompleted(_ completion: StorageCompletion, at node: Int, now: SimTime,
                                          rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        guard let task = nodes[node].disk.removeValue(forKey: completion.token) else {
            preconditionFailure("Quorum: storage completion with unknown token \(completion.token) at node \(node)")
        }
        diskDone(task, completion, at: node, now: now, rng: &rng, effects: &effects)
    }

    /// Volatile state (coordinator operations, disk requests in flight, armed timers) is lost;
    /// hints, the purge queue and the anti-entropy index are on disk and survive unless the
    /// disk is lost. A purge or hint-copy drop that was in flight is redone after restart.
    public mutating func nodeDown(_ node: Int, diskLost: Bool, now: SimTime) {
        let old = nodes[node]
        var fresh = NodeState(antiEntropy: antiEntropyInterval != nil, depth: merkleDepth)
        fresh.nextToken = old.nextToken
        fresh.nextRid = old.nextRid
        fresh.nextBatch = old.nextBatch
        if !diskLost {
            fresh.hints = old.hints
            fresh.tombstones = old.tombstones
            fresh.index = old.index
            fresh.redrops = old.redrops
            var purges: [TombstoneQueue.Entry] = []
            for token in old.disk.keys.sorted() {
                switch old.disk[token]! {
                case .purge(let key, let stamp): purges.append(.init(key: key, stamp: stamp, due: .zero))
                case .dropHintCopy(let key): fresh.redrops.append(key)
                default: break
                }
            }
            fresh.tombstones.requeue(purges)
        }
        nodes[node] = fresh
    }

    public mutating func nodeUp(_ node: Int, now: SimTime, rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        armBackgroundWork(node, rng: &rng, effects: &effects)
        if !nodes[node].hints.isEmpty { armHintDelivery(node, effects: &effects) }
        if !nodes[node].tombstones.isEmpty { armTombstoneGC(node, now: now, effects: &effects) }
        let redrops = nodes[node].redrops
        nodes[node].redrops = []
        for key in redrops where nodes[node].hints.holdCount(key) == 0 {
            issue(.drop(key), task: .dropHintCopy(key), at: node, effects: &effects)
        }
    }

    // MARK: Helpers shared by the mechanisms

    /// Sends `message` to `target`; a message to the node itself is handled at once without
    /// touching the network (a coordinator that is also a replica reads its own disk).
    mutating func send(_ message: Message, from node: Int, to target: Int, sizeBytes: Int, kind: MessageKind,
                       now: SimTime, rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        if target == node {
            receive(message, from: node, at: node, now: now, rng: &rng, effects: &effects)
        } else {
            effects.send(message, to: target, sizeBytes: sizeBytes, kind: kind)
        }
    }

    /// Asks the node's disk for `request`, remembering what to do on completion.
    mutating func issue(_ request: StorageRequest, task: DiskTask, at node: Int, effects: inout Effects<Message, Timer>) {
        let token = nodes[node].nextToken
        nodes[node].nextToken &+= 1
        nodes[node].disk[token] = task
        effects.store(request, token: token)
    }

    /// The storage request that stores `value` under the configured conflict rule.
    func putRequest(_ value: Value) -> StorageRequest {
        switch conflict {
        case .lww: return .putLWW(value.key, value.stamp, storedBytes: Int(value.storedBytes), tombstone: value.tombstone)
        case .version: return .put(value.key, value.stamp, storedBytes: Int(value.storedBytes), tombstone: value.tombstone)
        }
    }

    /// Whether stamp `a` wins over `b` under the conflict rule: the higher timestamp for
    /// last-writer-wins; for versions, the causally later one (with one writer per key, the
    /// higher version — equal versions with different stamps are siblings, ordered by
    /// tiebreak so every replica picks the same one).
    func newer(_ a: Stamp, than b: Stamp) -> Bool { Self.newer(a, than: b, under: conflict) }

    static func newer(_ a: Stamp, than b: Stamp, under conflict: Conflict) -> Bool {
        switch conflict {
        case .lww: return (a.tiebreak, a.version) > (b.tiebreak, b.version)
        case .version: return a > b
        }
    }

    /// The replicas' DCs, for a replica list in placement order.
    func datacenters(of replicas: [Int]) -> [Int] { replicas.map { world.datacenter(of: $0) } }

    /// The replica layout (DC → count) of a replica list, in placement order.
    func layoutOf(_ replicas: [Int]) -> [DCCount] {
        var result: [DCCount] = []
        for r in replicas {
            let dc = world.datacenter(of: r)
            if let i = result.firstIndex(where: { $0.dc == dc }) { result[i].count += 1 } else { result.append(DCCount(dc: dc, count: 1)) }
        }
        return result
    }

    mutating func newRid(_ node: Int) -> UInt64 {
        let rid = nodes[node].nextRid
        nodes[node].nextRid &+= 1
        return rid
    }

    /// Periodic work a node starts on its first input (the strategy has no start-up hook).
    mutating func armBackgroundWork(_ node: Int, rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        if let interval = antiEntropyInterval, !nodes[node].antiEntropyArmed {
            nodes[node].antiEntropyArmed = true
            // A random phase, so a pair's two sessions do not run at the same moment.
            let phase = SimDuration(sampledNanoseconds: Double(interval.nanoseconds) * rng.unit())
            effects.setTimer(after: Swift.max(.microseconds(1), phase), .antiEntropy)
        }
    }
}
