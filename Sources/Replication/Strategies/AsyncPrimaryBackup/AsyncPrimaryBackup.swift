import SimCore
import SimNetwork
import SimConfig

/// Asynchronous primary-backup replication (Telegram-like cloud chats).
///
/// Protocol: each shard has a home DC (its chat's DC). A client write goes to the shard's
/// primary node in the home DC, which stores it and acknowledges at once. The primary keeps
/// an outbox per backup node and ships its contents in one batch per `batch_interval`; a
/// backup stores every entry of a batch and then acknowledges the batch; an unacknowledged
/// batch is shipped again after `ack_timeout`. Backups live where ``Placement`` puts them
/// (by default the `copies − 1` DCs nearest to the home DC).
///
/// Reads go to a replica in the reader's DC when that DC holds one (possibly stale: the
/// batch may not have arrived), otherwise to the primary.
///
/// Failures: when the primary is down, writes go to the first live backup, which acts as
/// primary for them (a promotion). The outbox is part of the node's durable log: it survives
/// a crash with the disk and resumes shipping on restart, but a disk loss destroys it — the
/// writes acknowledged and not yet shipped are then lost. That loss is this protocol's
/// defining weakness, and the engine counts it, never hides it.
public struct AsyncPrimaryBackup: ReplicationStrategy {
    public enum Message {
        /// A batch of writes from a primary to a backup.
        case ship(batch: UInt64, entries: [Entry])
        /// A backup has stored batch `batch`.
        case shipAck(batch: UInt64)
    }

    public enum Timer {
        /// Ship the outbox.
        case flush
        /// Re-send `batch` if still unacknowledged.
        case retransmit(batch: UInt64)
    }

    /// One replicated write.
    public struct Entry: Sendable {
        public var key: ShardKey
        public var stamp: Stamp
        public var storedBytes: Int
        public var tombstone: Bool
        public var home: Int
    }

    struct InFlightBatch {
        var target: Int
        var entries: [Entry]
    }

    enum Pending {
        /// A client write or delete waiting for the local disk.
        case clientWrite(OperationID, Entry)
        /// A client read waiting for the local disk.
        case clientRead(OperationID)
        /// One entry of a batch from `source` being stored.
        case backupStore(source: Int, batch: UInt64)
    }

    struct NodeState {
        /// Entries waiting to ship, per backup node (sorted by node for deterministic flush).
        var outbox: [Int: [Entry]] = [:]
        var inFlight: [UInt64: InFlightBatch] = [:]
        var pending: [UInt64: Pending] = [:]
        /// Remaining stores per received batch, keyed by (source, batch).
        var receiving: [BatchRef: Int] = [:]
        var nextToken: UInt64 = 0
        var nextBatch: UInt64 = 0
        var flushArmed = false
    }

    struct BatchRef: Hashable { var source: Int; var batch: UInt64 }

    public let layout: Placement
    public var copies: Int { layout.copies }
    public let batchInterval: SimDuration
    public let ackTimeout: SimDuration
    let world: StrategyWorld
    var nodes: [NodeState]
    /// Per-entry wire overhead (key, stamp, sizes) in bytes.
    static let entryHeaderBytes = 48

    public init(world: StrategyWorld, config: StrategyConfig) throws {
        var p = StrategyParameters(config, strategy: "async-primary-backup")
        layout = try Placement(&p, world: world, defaultCopies: 3)
        batchInterval = try p.duration("batch_interval", default: .seconds(1), minimum: .microseconds(1))
        ackTimeout = try p.duration("ack_timeout", default: .seconds(5), minimum: .milliseconds(1))
        try p.finish()
        self.world = world
        self.nodes = Array(repeating: NodeState(), count: world.topology.nodes.count)
    }

    public var summary: String {
        "async-primary-backup \(layout.summary) batch_interval=\(batchInterval) ack_timeout=\(ackTimeout)"
    }

    /// Up to `copies − 1` DCs may be down, disks kept (the outbox resumes); a disk loss of
    /// the primary loses what it had not shipped, so disk loss is outside the tolerance.
    public var tolerance: FaultTolerance {
        FaultTolerance(datacenters: copies - 1, nodes: copies - 1, diskLoss: false, partitions: true)
    }

    /// Replicas: by default the home DC, then the nearest others (see ``Placement``).
    public func placement(of key: ShardKey, home: Int) -> [Int] {
        layout.nodes(for: key, home: home)
    }

    public func coordinator(for request: ClientRequest, clientDC: Int, up: NodeLiveness) -> Int? {
        let replicas = placement(of: request.key, home: request.homeDC)
        switch request.kind {
        case .write, .delete:
            return replicas.first { up.isUp($0) }
        case .read:
            if let local = replicas.first(where: { world.datacenter(of: $0) == clientDC && up.isUp($0) }) {
                return local
            }
            return replicas.first { up.isUp($0) }
        }
    }

    public mutating func clientRequest(_ request: ClientRequest, at node: Int, now: SimTime,
                                       rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        let token = nodes[node].nextToken
        nodes[node].nextToken += 1
        switch request.kind {
        case .write, .delete:
            let entry = Entry(key: request.key, stamp: request.stamp, storedBytes: request.storedBytes,
                              tombstone: request.kind == .delete, home: request.homeDC)
            nodes[node].pending[token] = .clientWrite(request.id, entry)
            effects.store(.put(request.key, request.stamp, storedBytes: request.storedBytes,
                               tombstone: entry.tombstone), token: token)
        case .read:
            nodes[node].pending[token] = .clientRead(request.id)
            effects.store(.get(request.key), token: token)
        }
    }

    public mutating func storageCompleted(_ completion: StorageCompletion, at node: Int, now: SimTime,
                                          rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        guard let pending = nodes[node].pending.removeValue(forKey: completion.token) else {
            preconditionFailure("AsyncPrimaryBackup: storage completion with unknown token \(completion.token) at node \(node)")
        }
        switch pending {
        case .clientWrite(let op, let entry):
            switch completion.outcome {
            case .stored, .superseded:
                effects.reply(op, .acknowledged)
                for target in placement(of: entry.key, home: entry.home) where target != node {
                    nodes[node].outbox[target, default: []].append(entry)
                }
                armFlush(node, &effects)
            case .ioError:
                effects.reply(op, .failed)
            case .found, .foundFragment, .missing:
                preconditionFailure("AsyncPrimaryBackup: a put completed as a get at node \(node)")
            }
        case .clientRead(let op):
            switch completion.outcome {
            case .found(let stamp, let tombstone): effects.reply(op, .found(stamp, tombstone: tombstone))
            case .missing, .foundFragment: effects.reply(op, .notFound)
            case .ioError: effects.reply(op, .failed)
            case .stored, .superseded:
                preconditionFailure("AsyncPrimaryBackup: a get completed as a put at node \(node)")
            }
        case .backupStore(let source, let batch):
            let ref = BatchRef(source: source, batch: batch)
            guard let remaining = nodes[node].receiving[ref] else { return }
            if completion.outcome == .ioError {
                // Do not acknowledge: the primary will retransmit.
                nodes[node].receiving[ref] = nil
                return
            }
            if remaining <= 1 {
                nodes[node].receiving[ref] = nil
                effects.send(.shipAck(batch: batch), to: source, sizeBytes: 32, kind: .control)
            } else {
                nodes[node].receiving[ref] = remaining - 1
            }
        }
    }

    public mutating func receive(_ message: Message, from source: Int, at node: Int, now: SimTime,
                                 rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        switch message {
        case .ship(let batch, let entries):
            let ref = BatchRef(source: source, batch: batch)
            if nodes[node].receiving[ref] != nil { return }  // a duplicate while still storing
            if entries.isEmpty {
                effects.send(.shipAck(batch: batch), to: source, sizeBytes: 32, kind: .control)
                return
            }
            nodes[node].receiving[ref] = entries.count
            for e in entries {
                let token = nodes[node].nextToken
                nodes[node].nextToken += 1
                nodes[node].pending[token] = .backupStore(source: source, batch: batch)
                effects.store(.put(e.key, e.stamp, storedBytes: e.storedBytes, tombstone: e.tombstone), token: token)
            }
        case .shipAck(let batch):
            nodes[node].inFlight[batch] = nil
        }
    }

    public mutating func timer(_ timer: Timer, at node: Int, now: SimTime,
                               rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        switch timer {
        case .flush:
            nodes[node].flushArmed = false
            let outbox = nodes[node].outbox
            nodes[node].outbox = [:]
            for target in outbox.keys.sorted() {
                guard let entries = outbox[target], !entries.isEmpty else { continue }
                let batch = nodes[node].nextBatch
                nodes[node].nextBatch += 1
                nodes[node].inFlight[batch] = InFlightBatch(target: target, entries: entries)
                ship(batch, entries, to: target, &effects)
                effects.setTimer(after: ackTimeout, .retransmit(batch: batch))
            }
        case .retransmit(let batch):
            guard let b = nodes[node].inFlight[batch] else { return }
            ship(batch, b.entries, to: b.target, &effects)
            effects.setTimer(after: ackTimeout, .retransmit(batch: batch))
        }
    }

    func ship(_ batch: UInt64, _ entries: [Entry], to target: Int, _ effects: inout Effects<Message, Timer>) {
        var bytes = 64
        for e in entries { bytes += Self.entryHeaderBytes + (e.tombstone ? 0 : e.storedBytes) }
        effects.send(.ship(batch: batch, entries: entries), to: target, sizeBytes: bytes, kind: .replication)
    }

    mutating func armFlush(_ node: Int, _ effects: inout Effects<Message, Timer>) {
        guard !nodes[node].flushArmed else { return }
        nodes[node].flushArmed = true
        effects.setTimer(after: batchInterval, .flush)
    }

    public mutating func nodeDown(_ node: Int, diskLost: Bool, now: SimTime) {
        // Volatile state goes; the outbox and unacknowledged batches are the durable log.
        var kept = NodeState()
        if !diskLost {
            kept.outbox = nodes[node].outbox
            // In batch order: a dictionary's order changes from process to process.
            for batch in nodes[node].inFlight.keys.sorted() {
                let b = nodes[node].inFlight[batch]!
                kept.outbox[b.target, default: []].append(contentsOf: b.entries)
            }
        }
        kept.nextToken = nodes[node].nextToken
        kept.nextBatch = nodes[node].nextBatch
        nodes[node] = kept
    }

    public mutating func nodeUp(_ node: Int, now: SimTime, rng: inout SimRandom,
                                effects: inout Effects<Message, Timer>) {
        if !nodes[node].outbox.isEmpty { armFlush(node, &effects) }
    }
}
