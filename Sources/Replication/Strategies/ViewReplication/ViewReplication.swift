import SimCore
import SimNetwork
import SimConfig

/// The shared machinery of the two synchronous, view-based protocols: sync primary-backup
/// (``SyncPrimaryBackup``) and chain replication (``ChainReplication``).
///
/// Fault model. Nodes crash and restart (with or without their disk), links lose, delay,
/// duplicate and reorder messages, and partitions cut links, possibly in one direction only.
/// There is no external master: every key's replica group (its ``Placement`` nodes, in order)
/// reconfigures itself through a small, deterministic view protocol among its members.
///
/// Views. Each group has a numbered *view*: an ordered member list. Members[0] is the
/// *leader* (the primary, or the chain's head) and the only node that issues writes; the
/// *read server* is the primary (primary-backup) or the tail (chain). Every protocol message
/// carries the sender's view number, and a member never accepts a message from a lower view,
/// so a deposed leader cannot get a write acknowledged (fencing).
///
/// Failure detection. Nodes send heartbeats to the nodes they share a group with, every
/// `heartbeat_interval`; a member is *failed* when nothing was heard from it for
/// `failure_timeout`, or when it reports that it lost its disk since it joined the view.
///
/// Reconfiguration. The proposer of a new view is the lowest-ranked member that considers
/// every member ranked before it failed (so normally the leader, which drops failed members;
/// when the leader fails, the next member in view order, which becomes the leader). The
/// group's *voters* are its placement nodes plus `witnesses` (nodes in other DCs that store
/// nothing and only vote). A view change is a two-phase exchange with the voters, Paxos
/// style, the view number acting as the ballot:
/// 1. *prepare v*: a voter that has not promised a view ≥ v promises v (durably) — it then
///    refuses data from older views, which fences the old leader — and answers with the
///    latest view it accepted and its *log* (the writes it holds that are not yet known to
///    be on every member).
/// 2. With promises from a majority of voters and from every member it keeps, the proposer
///    checks that no promise reports an accepted view newer than the one it derived its
///    member list from — otherwise it adopts that view and starts over from it — and sends
///    *propose v* (members); a voter that promised nothing newer accepts and adopts it. With
///    every kept member and a majority accepting, the view is installed: the new leader
///    re-issues the merged logs in it and only then takes new writes.
/// Any two majorities share a voter, so a view that may have been installed is seen by every
/// later proposer, and each installed view derives from the previous one: a partition
/// cannot leave two leaders that both acknowledge writes (the minority side stalls), and a
/// stale node — cut off, or back from a crash with an old view — cannot install a member
/// list that forgets newer writes. Because every acknowledged write is either on every
/// member or in the logs of the members of its ack set, and the proposer only proceeds with
/// at least one member of every possible ack set (see ``AckRule``), the new leader holds
/// every acknowledged write. A voter that lost its disk (and its promises with it) takes no
/// part until it has asked a majority of the other voters for their promises and newest
/// accepted view and adopted the highest (acceptor recovery): any majority it promised or
/// accepted something with meets that one.
///
/// Reads and leases. The read server answers reads from its own disk only while it holds a
/// *lease* from every other member: each heartbeat answer promises, on the granting node's
/// clock, not to accept a view that removes the requester as read server for `lease`; the
/// requester counts the lease from when it sent the heartbeat, minus a 10 % margin for clock
/// drift. A node that restarts accepts no view for one `lease` (its promises were volatile).
/// Each node also keeps, per peer, the list of views it accepted that demoted that peer;
/// heartbeat answers carry the entries the peer has not acknowledged, so a read server that
/// was cut off learns it was replaced before its next lease can be valid.
///
/// Rejoining. The leader probes placement members that are not in the view through the
/// heartbeats; when one answers, the leader copies its whole key index to it (`transfer`
/// batches, counted as repair traffic), sends it every new write meanwhile, and when all of
/// that is stored it pauses writes and proposes a view with the newcomer appended at the end
/// (a new last backup, or the chain's new tail). A rejoining node that kept its disk drops any
/// write it holds that the leader does not (an update that never replicated before it failed).
///
/// Durability across crashes: a node's views, log, key index and demotion lists live on its
/// disk (kept unless the disk is lost); leases, pending client operations, proposals and
/// catch-up progress are volatile.
///
/// Known limits (documented in docs/STRATEGIES.md): partitions are safe (fencing, leases and
/// the ack-set rule) but can leave a group unavailable; lease safety assumes clocks drift by
/// less than 10 % over one lease; a disk that keeps failing stalls writes rather than being
/// treated as a failed node.
public struct ViewReplication {
    /// The two data paths over the shared view machinery.
    public enum Shape: Sendable, Equatable {
        /// The primary stores and sends each write to every backup; it acknowledges when the
        /// ack rule holds; reads at the primary (or, with `readAny`, at any replica).
        case primaryBackup(ack: AckRule, readAny: Bool)
        /// The head stores and forwards; each member stores and forwards to its successor;
        /// the tail replies to the client and acknowledges back up the chain; reads at the tail.
        case chain
    }

    /// Which backups must hold a write before the primary acknowledges it.
    public enum AckRule: Sendable, Equatable {
        /// Every backup of the current view.
        case all
        /// Any `k` backups of the current view.
        case count(Int)
        /// Every member of the current view located in one of these DCs (indices).
        case datacenters([Int])
    }

    /// Protocol timing and sizes.
    public struct Settings: Sendable {
        public var shape: Shape
        public var heartbeatInterval: SimDuration
        public var failureTimeout: SimDuration
        public var lease: SimDuration
        public var retransmitTimeout: SimDuration
        public var transferBatch: Int
        /// Extra voters per group that store nothing (so two copies can still fail over).
        public var witnesses: Int
        public init(shape: Shape, heartbeatInterval: SimDuration, failureTimeout: SimDuration,
                    lease: SimDuration, retransmitTimeout: SimDuration, transferBatch: Int, witnesses: Int) {
            self.shape = shape; self.heartbeatInterval = heartbeatInterval; self.failureTimeout = failureTimeout
            self.lease = lease; self.retransmitTimeout = retransmitTimeout; self.transferBatch = transferBatch
            self.witnesses = witnesses
        }

        /// Reads the parameters shared by both protocols from `p` (after the placement's).
        static func read(_ p: inout StrategyParameters, shape: Shape, copies: Int, nodes: Int) throws -> Settings {
            // An odd number of voters by default: a witness for an even number of copies.
            let witnesses = try p.int("witnesses", default: copies % 2 == 0 ? 1 : 0, in: 0...Swift.max(0, Swift.min(9, nodes - copies)))
            let heartbeat = try p.duration("heartbeat_interval", default: .milliseconds(500), minimum: .milliseconds(1))
            let failure = try p.duration("failure_timeout", default: .seconds(3), minimum: .milliseconds(1))
            let lease = try p.duration("lease", default: .seconds(2), minimum: .milliseconds(1))
            let retransmit = try p.duration("retransmit_timeout", default: .seconds(1), minimum: .milliseconds(1))
            let batch = try p.int("transfer_batch", default: 256, in: 1...1_000_000)
            guard heartbeat < lease else {
                throw StrategyError(strategy: p.strategy, parameter: "lease",
                                    message: "must be longer than heartbeat_interval (\(heartbeat)), got \(lease); leases are renewed by heartbeats",
                                    location: p.location(of: "lease"))
            }
            guard heartbeat < failure else {
                throw StrategyError(strategy: p.strategy, parameter: "failure_timeout",
                                    message: "must be longer than heartbeat_interval (\(heartbeat)), got \(failure)",
                                    location: p.location(of: "failure_timeout"))
            }
            return Settings(shape: shape, heartbeatInterval: heartbeat, failureTimeout: failure, lease: lease,
                            retransmitTimeout: retransmit, transferBatch: batch, witnesses: witnesses)
        }

        var summary: String {
            "witnesses=\(witnesses) heartbeat_interval=\(heartbeatInterval) failure_timeout=\(failureTimeout) lease=\(lease) retransmit_timeout=\(retransmitTimeout)"
        }
    }

    // MARK: Wire types

    /// One replicated write (or delete: `tombstone`).
    public struct Entry: Sendable, Equatable {
        public var key: ShardKey
        public var stamp: Stamp
        public var storedBytes: Int
        public var tombstone: Bool
        public var home: Int
    }

    /// A write as it travels and sits in logs: its sequence number in its group (assigned by
    /// the leader that issued it; 0 for a committed entry in a transfer) and the client
    /// operation to answer, if any.
    public struct LogEntry: Sendable {
        public var seq: UInt64
        public var entry: Entry
        public var op: OperationID?
    }

    /// A view a node accepted that removed `reader`'s role as read server, kept until the
    /// reader acknowledges it.
    public struct Demotion: Sendable {
        public var counter: UInt64
        public var group: Int32
        public var view: UInt32
        public var members: [Int]
        public var epochs: [UInt32]
    }

    public enum Message {
        /// Failure detection and lease request; `demotionsSeen` acknowledges demotion records.
        case heartbeat(sentAt: SimTime, demotionsSeen: UInt64)
        /// Lease grant (valid from `echo`), the sender's disk-loss count, unacknowledged demotions.
        case heartbeatAck(echo: SimTime, amnesia: UInt32, demotions: UInt64, records: [Demotion])
        /// A client request passed on to the node that can serve it.
        case forward(ClientRequest, hops: Int)
        /// Primary → backup (or leader → catching-up node, `learner`): store this write.
        case replicate(group: Int32, view: UInt32, LogEntry, watermark: UInt64, learner: Bool)
        /// The write `seq` is stored.
        case replicateAck(group: Int32, view: UInt32, seq: UInt64)
        /// Every write up to `watermark` is on every member: prune logs.
        case commit(group: Int32, view: UInt32, watermark: UInt64)
        /// Chain: a write passed to the successor.
        case chainWrite(group: Int32, view: UInt32, LogEntry)
        /// Chain: the tail holds this write (and every newer member upstream prunes it).
        case chainAck(group: Int32, view: UInt32, key: ShardKey, stamp: Stamp)
        /// View change, phase 1: promise no view below `view`.
        case prepare(group: Int32, view: UInt32)
        /// The sender promised `view`; it last accepted view `accepted` (`members`, `epochs`)
        /// and hands over its log.
        case promise(group: Int32, view: UInt32, accepted: UInt32, members: [Int], epochs: [UInt32],
                     log: [LogEntry], maxSeq: UInt64, amnesia: UInt32)
        /// View change, phase 2: adopt this view (with the voters' disk-loss counts).
        case propose(group: Int32, view: UInt32, members: [Int], epochs: [UInt32])
        /// The sender adopted `view`.
        case accept(group: Int32, view: UInt32, amnesia: UInt32)
        /// The sender promised `promised` (above the request's view) and last accepted `view`
        /// (`members`), or (`unknown`) does not know the group.
        case reject(group: Int32, promised: UInt32, view: UInt32, members: [Int], epochs: [UInt32], unknown: Bool)
        /// Acceptor recovery: a voter that lost its disk asks for the others' promise and view.
        case query(group: Int32)
        /// The answer (`blank`: the sender has nothing to tell, being in recovery itself).
        case queryReply(group: Int32, promised: UInt32, view: UInt32, members: [Int], epochs: [UInt32], blank: Bool)
        /// The leader tells a voter that lost its disk to recover for this group; the voter
        /// answers `recovered` once done.
        case recover(group: Int32)
        case recovered(group: Int32, amnesia: UInt32)
        /// Catch-up: a batch of the leader's key index (entries with `seq != 0` are still in
        /// the leader's log and are logged by the learner).
        case transfer(group: Int32, view: UInt32, members: [Int], batch: UInt32, entries: [LogEntry], last: Bool)
        case transferAck(group: Int32, view: UInt32, batch: UInt32)
    }

    public enum Timer {
        /// The per-node heartbeat and maintenance tick.
        case tick
    }

    // MARK: Node-local state

    /// A log entry as a node keeps it.
    struct Record {
        var log: LogEntry
        /// The local store completed.
        var stored: Bool
        /// When it was last sent downstream (chain) — for retransmission.
        var sentAt: SimTime
        /// Received during catch-up, not through the chain (never acknowledged upstream).
        var learned: Bool
        /// The local store failed (a disk fault); the leader retries it on its next tick.
        var failed = false
        /// When this node first took it (for the "silent successor" rule).
        var since: SimTime
        var seq: UInt64 { log.seq }
    }

    /// A primary's write waiting for backups.
    struct PendingWrite {
        var acked: [Int] = []
        var committed = false
        var sentAt: SimTime
    }

    struct Proposal {
        var view: UInt32
        /// The view the member list was derived from.
        var derivedFrom: UInt32
        var members: [Int]
        /// The voters' disk-loss counts recorded by the new view.
        var epochs: [UInt32]
        /// Phase 2 (propose) once a majority promised.
        var proposing = false
        /// Voters that promised / accepted.
        var promised: [Int]
        var accepted: [Int] = []
        /// The newest view accepted by a voter that promised.
        var newest: (view: UInt32, members: [Int], epochs: [UInt32])
        var merged: [ShardKey: LogEntry]
        var maxSeq: UInt64
        var sentAt: SimTime
        var resentAt: SimTime
    }

    struct CatchUp {
        var target: Int
        var keys: [ShardKey]
        var next = 0
        var batch: UInt32 = 0
        var batchSentAt: SimTime = .never
        var transferDone = false
        /// Writes sent to the learner and not yet acknowledged, by seq.
        var copies: [UInt64: (entry: LogEntry, sentAt: SimTime)] = [:]
    }

    struct Learning {
        var leader: Int
        var view: UInt32
        /// The newest entry received per key during this catch-up.
        var seen: [ShardKey: Entry] = [:]
        var batch: UInt32 = 0
        var remaining = 0
        var last = false
        /// Batches below this are done (stored and acknowledged).
        var doneBelow: UInt32 = 0
        var cleaning = false
    }

    /// One node's state for one group.
    struct GroupState {
        let group: Int32
        /// The group's voters (placement nodes, then witnesses); `epochs` is aligned with it.
        let voters: [Int]
        // Durable (survives a crash with the disk).
        /// The latest view accepted (the one data moves in).
        var view: UInt32
        /// The highest view promised in phase 1 (no data from below it, no lower proposal).
        var promised: UInt32
        var promisedTo: Int = -1
        /// The highest view number seen (new proposals number above it).
        var highest: UInt32
        /// False for a group learnt after a disk loss until acceptor recovery completed.
        var recovered = true
        var members: [Int]
        var epochs: [UInt32]
        var log: [Record] = []
        var index: [ShardKey: Entry] = [:]
        var maxSeq: UInt64 = 0
        // Volatile.
        var active = false
        var proposal: Proposal?
        var queued: [(request: ClientRequest, hops: Int)] = []
        var pending: [UInt64: PendingWrite] = [:]
        var pendingPerKey: [ShardKey: Int] = [:]
        var waitingReads: [(request: ClientRequest, hops: Int)] = []
        var fullThrough: UInt64 = 0
        var fullDone: Set<UInt64> = []
        var sendableFrom: UInt64 = 0
        var watermarkSent: UInt64 = 0
        var catchUp: CatchUp?
        var learning: Learning?
        var forceExclude: [Int] = []
        /// Acceptor recovery in progress: the voters that answered, and when it was asked.
        var recovery: (answered: [Int], askedAt: SimTime)?

        init(group: Int32, voters: [Int], view: UInt32, members: [Int], epochs: [UInt32]) {
            self.group = group; self.voters = voters; self.view = view; self.promised = view; self.highest = view
            self.members = members
            self.epochs = epochs.count == voters.count ? epochs : Array(repeating: 0, count: voters.count)
        }

        mutating func resetVolatile() {
            active = false; proposal = nil; queued = []; pending = [:]; pendingPerKey = [:]
            waitingReads = []; fullThrough = 0; fullDone = []; sendableFrom = 0; watermarkSent = 0
            catchUp = nil; learning = nil; forceExclude = []; recovery = nil
            // A record whose store never completed was never durable.
            log.removeAll { !$0.stored }
        }

        func logIndex(seq: UInt64) -> Int? {
            var lo = 0, hi = log.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if log[mid].seq < seq { lo = mid + 1 } else { hi = mid }
            }
            return lo < log.count && log[lo].seq == seq ? lo : nil
        }

        mutating func insertRecord(_ r: Record) {
            var lo = 0, hi = log.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if log[mid].seq < r.seq { lo = mid + 1 } else { hi = mid }
            }
            log.insert(r, at: lo)
        }

        mutating func noteStored(_ e: Entry) {
            if let held = index[e.key], held.stamp >= e.stamp { return }
            index[e.key] = e
        }

        /// The disk-loss count this view records for `voter`.
        func epoch(of voter: Int) -> UInt32 {
            voters.firstIndex(of: voter).map { epochs[$0] } ?? 0
        }
    }

    /// What a node knows of a peer.
    struct Peer {
        // Volatile.
        var lastHeard: SimTime
        var leaseUntil: SimTime = .zero
        var grantedUntil: SimTime = .zero
        var probeSentAt: SimTime = .zero
        var amnesia: UInt32 = 0
        /// Whether it was suspected at the last tick (a change triggers full scans).
        var wasSuspected = false
        // Durable: demotions of this peer that I accepted (as grantor) and the count of
        // demotions of me it reported (as reader).
        var demotionCount: UInt64 = 0
        var demotionRecords: [Demotion] = []
        var knownDemotions: UInt64 = 0
    }

    /// What a storage completion belongs to.
    enum IO {
        /// The leader's own copy of a write it issued.
        case leaderStore(group: Int32, LogEntry)
        /// A backup's, chain member's or learner's copy.
        case replicaStore(group: Int32, LogEntry, from: Int, view: UInt32, learner: Bool)
        /// A client read.
        case read(ClientRequest, group: Int32, hops: Int)
        /// A learner storing a transferred entry of batch `batch`.
        case transferStore(group: Int32, batch: UInt32, entry: Entry)
        /// A learner removing a write the leader does not have; re-stores the leader's
        /// version afterwards (rollback) or nothing (cleanup).
        case rollbackDrop(group: Int32, batch: UInt32, key: ShardKey)
        /// A learner re-storing the leader's version after a rollback drop.
        case rollbackPut(group: Int32, batch: UInt32, entry: Entry)
    }

    struct NodeState {
        var amnesic = false
        var amnesia: UInt32 = 0
        var incarnation: UInt32 = 0
        var noAcceptUntil = SimTime.zero
        var tickArmed = false
        var nextToken: UInt64 = 0
        var io: [UInt64: IO] = [:]
        var slots: [Int32: Int] = [:]
        var groupOrder: [Int32] = []
        var peers: [Int: Peer] = [:]
        var peerOrder: [Int] = []
        /// Slots with reads waiting for a lease, a commit or an installation.
        var readWaiters: [Int] = []
        /// Ticks left during which every group is maintained (after a failure-detector
        /// change); otherwise only groups with work in progress are.
        var fullScans = 0
    }

    /// Interned replica groups: a group is a placement (ordered node list) and its voters.
    struct Directory {
        var ids: [[Int]: Int32] = [:]
        var placements: [[Int]] = []
        var voters: [[Int]] = []
    }

    // MARK: Properties

    public let settings: Settings
    public let layout: Placement
    let world: StrategyWorld
    var directory = Directory()
    var nodes: [NodeState]
    var states: [GroupState] = []
    /// Per-entry wire overhead (key, stamp, sizes, seq, op) in bytes.
    static let entryHeaderBytes = 56
    /// Bound on client requests queued at a node during a view change.
    static let queueLimit = 4096

    public init(world: StrategyWorld, layout: Placement, settings: Settings) {
        self.world = world
        self.layout = layout
        self.settings = settings
        self.nodes = Array(repeating: NodeState(), count: world.topology.nodes.count)
    }

    var isChain: Bool { settings.shape == .chain }
    /// Ticks of full scans after a failure-detector change: long enough for the grants and
    /// restart graces that may block a view change to run out.
    var fullScanTicks: Int {
        Int((settings.lease.nanoseconds * 2 + settings.failureTimeout.nanoseconds) / settings.heartbeatInterval.nanoseconds) + 2
    }
    /// The reader's lease: the grant minus a 10 % margin for clock drift.
    var readerLease: SimDuration { settings.lease - SimDuration(nanoseconds: settings.lease.nanoseconds / 10) }

    /// The node that answers linearizable reads in a view.
    func readServer(_ members: [Int]) -> Int? { isChain ? members.last : members.first }

    // MARK: What the configuration survives

    /// Simultaneous member failures a group survives without losing an acknowledged write
    /// or its availability: a view change needs a majority of the voters, and (primary-backup)
    /// the kept backups must meet every ack set — `k` backups for `ack: k`; a DC list makes
    /// each named DC's members a single point of failure for writes, so nothing is promised.
    public var toleratedFailures: Int {
        let copies = layout.copies
        let voters = copies + settings.witnesses
        var f = Swift.min(copies - 1, (voters - 1) / 2)
        if case .primaryBackup(let ack, _) = settings.shape {
            switch ack {
            case .all: break
            case .count(let k): f = Swift.min(f, k)
            case .datacenters: f = 0
            }
        }
        return Swift.max(0, f)
    }

    /// See ``ReplicationStrategy/tolerance``. Disk loss is handled (the member is excluded,
    /// copied up to date and re-added) but left out of the random fault budget, whose model
    /// does not include that catch-up time; partitions are safe (the majority side carries on).
    public var tolerance: FaultTolerance {
        let f = toleratedFailures
        // One copy (and one witness) per DC when there are enough DCs and no explicit counts.
        let distinctDCs = layout.perDC == nil && layout.copies + settings.witnesses <= world.topology.datacenters.count
        return FaultTolerance(datacenters: distinctDCs ? f : 0, nodes: f, diskLoss: false, partitions: true)
    }

    // MARK: Routing

    public func placement(of key: ShardKey, home: Int) -> [Int] { layout.nodes(for: key, home: home) }

    /// A live member in the client's DC (it serves or forwards to the leader / read server it
    /// knows), else the leader (writes, primary reads) or the tail (chain reads) by the
    /// placement order. Writers sit in the home DC, so writes normally reach the primary or
    /// head directly; when a client fails over to another DC, it reaches a member there
    /// that knows the current view — the way past a leader that is up but cut off.
    public func coordinator(for request: ClientRequest, clientDC: Int, up: NodeLiveness) -> Int? {
        let replicas = placement(of: request.key, home: request.homeDC)
        if let local = replicas.first(where: { world.datacenter(of: $0) == clientDC && up.isUp($0) }) { return local }
        if request.kind == .read && isChain { return replicas.last { up.isUp($0) } }
        return replicas.first { up.isUp($0) }
    }

    // MARK: Entry points

    public mutating func clientRequest(_ request: ClientRequest, at node: Int, now: SimTime,
                                       effects: inout Effects<Message, Timer>) {
        armTick(node, &effects)
        handleRequest(request, hops: 0, at: node, now: now, &effects)
    }

    public mutating func receive(_ message: Message, from source: Int, at node: Int, now: SimTime,
                                 effects: inout Effects<Message, Timer>) {
        armTick(node, &effects)
        if var peer = nodes[node].peers[source] {
            peer.lastHeard = now
            nodes[node].peers[source] = peer
        }
        switch message {
        case .heartbeat(let sentAt, let seen):
            onHeartbeat(from: source, at: node, sentAt: sentAt, seen: seen, now: now, &effects)
        case .heartbeatAck(let echo, let amnesia, let count, let records):
            onHeartbeatAck(from: source, at: node, echo: echo, amnesia: amnesia, count: count, records: records, now: now, &effects)
        case .forward(let request, let hops):
            handleRequest(request, hops: hops, at: node, now: now, &effects)
        case .replicate(let g, let view, let entry, let watermark, let learner):
            onReplicate(g, view: view, entry, watermark: watermark, learner: learner, from: source, at: node, now: now, &effects)
        case .replicateAck(let g, let view, let seq):
            onReplicateAck(g, view: view, seq: seq, from: source, at: node, now: now, &effects)
        case .commit(let g, let view, let watermark):
            if let s = nodes[node].slots[g], states[s].view == view { prune(s, through: watermark) }
        case .chainWrite(let g, let view, let entry):
            onChainWrite(g, view: view, entry, from: source, at: node, now: now, &effects)
        case .chainAck(let g, let view, let key, let stamp):
            onChainAck(g, view: view, key: key, stamp: stamp, from: source, at: node, now: now, &effects)
        case .prepare(let g, let view):
            onPrepare(g, view: view, from: source, at: node, now: now, &effects)
        case .promise(let g, let view, let accepted, let members, let epochs, let log, let maxSeq, let amnesia):
            onPromise(g, view: view, accepted: accepted, members: members, epochs: epochs, log: log, maxSeq: maxSeq,
                      amnesia: amnesia, from: source, at: node, now: now, &effects)
        case .propose(let g, let view, let members, let epochs):
            onPropose(g, view: view, members: members, epochs: epochs, from: source, at: node, now: now, &effects)
        case .accept(let g, let view, let amnesia):
            onAccept(g, view: view, amnesia: amnesia, from: source, at: node, now: now, &effects)
        case .reject(let g, let promised, let view, let members, let epochs, let unknown):
            onReject(g, promised: promised, view: view, members: members, epochs: epochs, unknown: unknown,
                     from: source, at: node, now: now, &effects)
        case .query(let g):
            onQuery(g, from: source, at: node, now: now, &effects)
        case .queryReply(let g, let promised, let view, let members, let epochs, let blank):
            onQueryReply(g, promised: promised, view: view, members: members, epochs: epochs, blank: blank,
                         from: source, at: node, now: now, &effects)
        case .recover(let g):
            if directory.voters[Int(g)].contains(node) {
                let s = slot(node, g, now: now)
                    ?? addSlot(node, GroupState(group: g, voters: directory.voters[Int(g)], view: 0, members: [], epochs: []), now: now)
                if states[s].recovered {
                    effects.send(.recovered(group: g, amnesia: nodes[node].amnesia), to: source, sizeBytes: 40, kind: .control)
                } else {
                    startRecovery(slot: s, at: node, now: now, &effects)
                }
            }
        case .recovered(let g, let amnesia):
            if let s = nodes[node].slots[g], let i = states[s].voters.firstIndex(of: source), states[s].epochs[i] < amnesia {
                states[s].epochs[i] = amnesia
            }
        case .transfer(let g, let view, let members, let batch, let entries, let last):
            onTransfer(g, view: view, members: members, batch: batch, entries: entries, last: last, from: source, at: node, now: now, &effects)
        case .transferAck(let g, let view, let batch):
            onTransferAck(g, view: view, batch: batch, from: source, at: node, now: now, &effects)
        }
    }

    public mutating func timer(_ timer: Timer, at node: Int, now: SimTime, effects: inout Effects<Message, Timer>) {
        switch timer {
        case .tick:
            nodes[node].tickArmed = false
            tick(node, now: now, &effects)
            armTick(node, &effects)
        }
    }

    public mutating func storageCompleted(_ completion: StorageCompletion, at node: Int, now: SimTime,
                                          effects: inout Effects<Message, Timer>) {
        guard let io = nodes[node].io.removeValue(forKey: completion.token) else {
            preconditionFailure("ViewReplication: storage completion with unknown token \(completion.token) at node \(node)")
        }
        switch io {
        case .leaderStore(let g, let log):
            onLeaderStored(g, log, completion.outcome, at: node, now: now, &effects)
        case .replicaStore(let g, let log, let from, let view, let learner):
            onReplicaStored(g, log, from: from, view: view, learner: learner, completion.outcome, at: node, now: now, &effects)
        case .read(let request, let g, let hops):
            onReadDone(request, group: g, hops: hops, completion.outcome, at: node, now: now, &effects)
        case .transferStore(let g, let batch, let entry):
            onTransferStored(g, batch: batch, entry: entry, completion.outcome, at: node, now: now, &effects)
        case .rollbackDrop(let g, let batch, let key):
            onRollbackDropped(g, batch: batch, key: key, completion.outcome, at: node, now: now, &effects)
        case .rollbackPut(let g, let batch, let entry):
            if completion.outcome == .stored, let s = nodes[node].slots[g] { states[s].noteStored(entry) }
            learnerStoreDone(g, batch: batch, at: node, now: now, &effects)
        }
    }

    public mutating func nodeDown(_ node: Int, diskLost: Bool, now: SimTime) {
        var n = nodes[node]
        n.tickArmed = false
        n.io = [:]
        n.readWaiters = []
        if diskLost {
            for s in n.slots.values { states[s] = GroupState(group: states[s].group, voters: [], view: 0, members: [], epochs: []) }
            n.slots = [:]
            n.groupOrder = []
            n.peers = [:]
            n.peerOrder = []
            n.amnesic = true
            n.amnesia &+= 1
        } else {
            for s in n.slots.values { states[s].resetVolatile() }
            for p in n.peerOrder {
                n.peers[p]!.leaseUntil = .zero
                n.peers[p]!.grantedUntil = .zero
                n.peers[p]!.probeSentAt = .zero
            }
        }
        nodes[node] = n
    }

    public mutating func nodeUp(_ node: Int, now: SimTime, effects: inout Effects<Message, Timer>) {
        nodes[node].incarnation &+= 1
        // Promises granted before the crash were volatile: accept no view for one lease.
        nodes[node].noAcceptUntil = now + settings.lease
        nodes[node].fullScans = fullScanTicks
        for p in nodes[node].peerOrder { nodes[node].peers[p]!.lastHeard = now }
        armTick(node, &effects)
    }

    // MARK: Helpers shared by the data path and membership

    mutating func token(_ node: Int, _ io: IO) -> UInt64 {
        let t = nodes[node].nextToken
        nodes[node].nextToken &+= 1
        nodes[node].io[t] = io
        return t
    }

    mutating func armTick(_ node: Int, _ effects: inout Effects<Message, Timer>) {
        guard !nodes[node].tickArmed else { return }
        nodes[node].tickArmed = true
        effects.setTimer(after: settings.heartbeatInterval, .tick)
    }

    /// The group of a request's key.
    mutating func groupID(for key: ShardKey, home: Int) -> Int32 {
        let nodes = placement(of: key, home: home)
        if let id = directory.ids[nodes] { return id }
        let id = Int32(directory.placements.count)
        directory.placements.append(nodes)
        directory.voters.append(nodes + witnesses(for: nodes))
        directory.ids[nodes] = id
        return id
    }

    /// A group's witnesses: nodes outside the placement, in the DCs nearest to the first
    /// member's that hold no copy (then in the others), picked by rendezvous hashing.
    func witnesses(for placement: [Int]) -> [Int] {
        guard settings.witnesses > 0, let first = placement.first else { return [] }
        let home = world.datacenter(of: first)
        let used = Set(placement.map { world.datacenter(of: $0) })
        let order = [home] + world.nearestDCs[home]
        let candidates = order.filter { !used.contains($0) } + order.filter { used.contains($0) }
        let seed = placement.reduce(UInt64(0x5717_0E55)) { mix64($0 ^ UInt64($1)) }
        var result: [Int] = []
        for dc in candidates where result.count < settings.witnesses {
            let ranked = world.nodesByDC[dc].sorted { a, b in
                let ha = mix64(seed ^ UInt64(a)), hb = mix64(seed ^ UInt64(b))
                return ha != hb ? ha < hb : a < b
            }
            if let n = ranked.first(where: { !placement.contains($0) && !result.contains($0) }) { result.append(n) }
        }
        return result
    }

    /// The node's state slot for group `g`, creating the implicit initial view (view 1 = the
    /// placement) for a node that never lost its disk. An amnesic node knows no group it has
    /// not (re)learned. Lazily created groups are active leaders only on a node that never
    /// restarted: after a restart the view may have moved on without it.
    mutating func slot(_ node: Int, _ g: Int32, now: SimTime) -> Int? {
        if let s = nodes[node].slots[g] { return s }
        guard !nodes[node].amnesic else { return nil }
        let placement = directory.placements[Int(g)]
        var state = GroupState(group: g, voters: directory.voters[Int(g)], view: 1, members: placement, epochs: [])
        state.active = placement.first == node && nodes[node].incarnation == 0
        return addSlot(node, state, now: now)
    }

    mutating func addSlot(_ node: Int, _ state: GroupState, now: SimTime) -> Int {
        let s = states.count
        let g = state.group
        var state = state
        // After a disk loss, anything this node promised in the group is forgotten.
        state.recovered = !nodes[node].amnesic
        states.append(state)
        nodes[node].slots[g] = s
        var order = nodes[node].groupOrder
        let at = order.firstIndex { $0 > g } ?? order.count
        order.insert(g, at: at)
        nodes[node].groupOrder = order
        for p in directory.voters[Int(g)] where p != node { addPeer(node, p, now: now) }
        return s
    }

    mutating func addPeer(_ node: Int, _ peer: Int, now: SimTime) {
        guard nodes[node].peers[peer] == nil else { return }
        nodes[node].peers[peer] = Peer(lastHeard: now)
        let order = nodes[node].peerOrder
        let at = order.firstIndex { $0 > peer } ?? order.count
        nodes[node].peerOrder.insert(peer, at: at)
    }

    func suspected(_ node: Int, _ peer: Int, now: SimTime) -> Bool {
        guard let p = nodes[node].peers[peer] else { return true }
        return now - p.lastHeard > settings.failureTimeout
    }

    /// Whether `member` counts as failed for `node` in slot `s`: silent for the failure
    /// timeout, lost its disk since it joined the view, refused the group as unknown, or (seen
    /// by the leader) left a write unacknowledged for the failure timeout — which catches
    /// one-way cuts, where the member's heartbeats still arrive.
    func isFailed(_ node: Int, _ s: Int, _ member: Int, now: SimTime) -> Bool {
        guard member != node else { return false }
        if suspected(node, member, now: now) { return true }
        if let p = nodes[node].peers[member], p.amnesia > states[s].epoch(of: member) { return true }
        return states[s].forceExclude.contains(member)
    }

    static func wireBytes(_ e: Entry) -> Int { entryHeaderBytes + (e.tombstone ? 0 : e.storedBytes) }
    static func wireBytes(_ log: [LogEntry]) -> Int { log.reduce(0) { $0 + wireBytes($1.entry) } }
}
