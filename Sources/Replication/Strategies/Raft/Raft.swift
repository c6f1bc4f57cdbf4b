import SimCore
import SimNetwork
import SimConfig

/// Raft consensus per shard group (Ongaro & Ousterhout, "In Search of an Understandable
/// Consensus Algorithm", 2014, and Ongaro's thesis, 2014).
///
/// Keys hash into `groups` shard groups; each group is a Raft cluster of `copies` members
/// placed across DCs by ``Placement`` (the group id is the placement key; default
/// `order: ring`, `home_first: false`, so groups — and their leaders — spread over the DCs;
/// with `order: nearest` group `g` is clustered around DC `g mod DCs`). Every member of a
/// group holds a copy of each of the group's shards.
///
/// Protocol, per group: randomized election timeouts drawn from the strategy's generator;
/// RequestVote with the log up-to-date check; AppendEntries with the consistency check and
/// conflict truncation; commitment by a majority of the current voters, only for entries
/// of the leader's current term (§5.4.2), after a no-op the new leader appends; heartbeats
/// every `heartbeat_interval`. A leader that has not heard a majority acknowledge a
/// heartbeat round sent within the minimum election timeout steps down (check-quorum), and
/// a member that heard from a leader within that timeout ignores RequestVote (thesis
/// §4.2.3), which is what makes leases safe. Pre-vote is not implemented: a member coming
/// back from a partition with a higher term makes the leader step down once.
///
/// Clients: writes, deletes and reads go to the node the client believes leads the group
/// (a leader hint per group, learned from the leader's replies); a member that is not the
/// leader forwards the request to the leader it knows (at most two hops) or, knowing none,
/// holds it until one is elected (refusing with `.failed` at its next election timeout).
/// The leader appends, replicates, and each member applies committed entries to its store
/// in log order (a `.put` per write or delete); the leader acknowledges after the entry
/// is committed and applied on its own store.
///
/// Reads (`read:`): `read_index` (default) — the leader records its commit index, confirms
/// it is still leader with a heartbeat round acknowledged by a majority, waits to have
/// applied that index, then reads its store; `lease` — the same without the round while the
/// leader's lease holds by its own clock (a majority acknowledged a round sent less than
/// `lease_duration` ago), so a leader whose clock runs slow or jumps back can serve a stale
/// read; `log` — the read is a log entry, served when committed and applied.
///
/// Durability: term, vote, log, incarnation and applied index survive a crash with the
/// disk. A member that **lost its disk** comes back as a new incarnation with an empty log:
/// it does not count as a voter (its votes and acknowledgements are ignored, so its
/// amnesia cannot elect a leader lacking committed entries or commit an entry on fewer
/// than a majority) until the leader, by two single-member configuration changes committed
/// through the log, removes its old incarnation and adds the new one once it has caught
/// up — the real-world fix (a membership change). If a majority of a group loses its disks
/// the group cannot commit the change and stays unavailable, and the engine counts the
/// acknowledged writes that were only on lost disks as lost: beyond tolerance, never silent.
///
/// Not modelled: snapshots and log compaction (the log is kept whole; a member catching
/// up replays it from the leader), and the disk cost of appending to the log (the log is
/// durable state of the strategy; the disk is charged for applying each entry).
public struct Raft: ReplicationStrategy {
    public enum ReadMode: String, Sendable, CaseIterable {
        case lease
        case readIndex = "read_index"
        case log
    }

    public let layout: Placement
    public var copies: Int { layout.copies }
    /// How many shard groups keys hash into.
    public let groups: Int
    public let electionTimeoutMin: SimDuration
    public let electionTimeoutMax: SimDuration
    public let heartbeatInterval: SimDuration
    public let leaseDuration: SimDuration
    /// 0: every new entry is sent at once (pipelined); otherwise entries ship in one
    /// AppendEntries per member every `batch_interval`.
    public let batchInterval: SimDuration
    public let maxEntriesPerMessage: Int
    public let readMode: ReadMode

    let world: StrategyWorld
    /// Member nodes per group, in placement order (a member's index is its slot).
    let groupMembers: [[Int]]
    /// Index of a group's first replica in `replicas`.
    let replicaBase: [Int]
    /// Per group and client DC: member slots, nearest first.
    let memberOrder: [[[Int32]]]
    /// Replica indices per node.
    let replicasOfNode: [[Int32]]
    var replicas: [Replica]
    /// The clients' belief of each group's leader (-1 unknown), and a rotation to spread
    /// retries over members when the hint failed.
    var leaderHint: [Int32]
    var hintRotation: [UInt32]
    /// Elections won and entries committed, recorded only when set (tests set it before a
    /// run to check Raft's safety properties; `nil`, the default, records nothing and costs
    /// one branch). Never read by the protocol, so it cannot change behaviour.
    public var observations: Observations? = nil

    public init(world: StrategyWorld, config: StrategyConfig) throws {
        var p = StrategyParameters(config, strategy: "raft")
        layout = try Placement(&p, world: world, defaultCopies: 3, defaultOrder: .ring, defaultHomeFirst: false)
        groups = try p.int("groups", default: 16, in: 1...65_536)
        electionTimeoutMin = try p.duration("election_timeout_min", default: .seconds(1), minimum: .microseconds(10))
        electionTimeoutMax = try p.duration("election_timeout_max", default: electionTimeoutMin * 2, minimum: .microseconds(10))
        heartbeatInterval = try p.duration("heartbeat_interval", default: .milliseconds(100), minimum: .microseconds(1))
        readMode = ReadMode(rawValue: try p.choice("read", default: ReadMode.readIndex.rawValue,
                                                   allowed: ReadMode.allCases.map(\.rawValue)))!
        leaseDuration = try p.duration("lease_duration", default: SimDuration(nanoseconds: electionTimeoutMin.nanoseconds / 10 * 9),
                                       minimum: .zero)
        batchInterval = try p.duration("batch_interval", default: .zero)
        maxEntriesPerMessage = try p.int("max_entries", default: 256, in: 1...1_000_000)
        try p.finish()
        // Relations between parameters, once each is valid on its own.
        guard electionTimeoutMax > electionTimeoutMin else {
            throw StrategyError(strategy: "raft", parameter: "election_timeout_max",
                                message: "must be greater than election_timeout_min (\(electionTimeoutMin)), got \(electionTimeoutMax)",
                                location: p.location(of: "election_timeout_max"))
        }
        guard heartbeatInterval * 2 <= electionTimeoutMin else {
            throw StrategyError(strategy: "raft", parameter: "heartbeat_interval",
                                message: "must be at most half of election_timeout_min (\(electionTimeoutMin)), got \(heartbeatInterval)",
                                location: p.location(of: "heartbeat_interval"))
        }
        guard leaseDuration <= electionTimeoutMin else {
            throw StrategyError(strategy: "raft", parameter: "lease_duration",
                                message: "must be at most election_timeout_min (\(electionTimeoutMin)), or a new leader could be elected while the old lease holds; got \(leaseDuration)",
                                location: p.location(of: "lease_duration"))
        }

        self.world = world
        let dcs = world.topology.datacenters.count
        let layout = self.layout
        let members: [[Int]] = (0..<groups).map { g in layout.nodes(for: ShardKey(UInt64(g)), home: g % dcs) }
        groupMembers = members
        var base: [Int] = []
        var total = 0
        for m in members { base.append(total); total += m.count }
        replicaBase = base
        // Distance rank of each DC from each DC (0 = itself), for client routing.
        var rank = Array(repeating: [Int](repeating: 0, count: dcs), count: dcs)
        for from in 0..<dcs { for (i, dc) in world.nearestDCs[from].enumerated() { rank[from][dc] = i + 1 } }
        memberOrder = members.map { ms in
            (0..<dcs).map { dc in
                ms.indices.sorted { a, b in
                    let ra = rank[dc][world.datacenter(of: ms[a])], rb = rank[dc][world.datacenter(of: ms[b])]
                    return ra != rb ? ra < rb : a < b
                }.map(Int32.init)
            }
        }
        var ofNode = Array(repeating: [Int32](), count: world.topology.nodes.count)
        var reps: [Replica] = []
        reps.reserveCapacity(total)
        for (g, ms) in members.enumerated() {
            for (slot, node) in ms.enumerated() {
                ofNode[node].append(Int32(reps.count))
                reps.append(Replica(group: g, slot: slot, node: node, members: ms.count))
            }
        }
        replicasOfNode = ofNode
        replicas = reps
        leaderHint = Array(repeating: -1, count: groups)
        hintRotation = Array(repeating: 0, count: groups)
    }

    public var summary: String {
        var s = "raft \(layout.summary) groups=\(groups) read=\(readMode.rawValue)"
        s += " election_timeout=\(electionTimeoutMin)..\(electionTimeoutMax) heartbeat_interval=\(heartbeatInterval)"
        if readMode == .lease { s += " lease_duration=\(leaseDuration)" }
        if batchInterval > .zero { s += " batch_interval=\(batchInterval)" }
        return s
    }

    /// A majority of members must be up for reads and writes.
    public var replicasToRead: Int { copies / 2 + 1 }
    public var replicasToWrite: Int { copies / 2 + 1 }

    /// A minority of each group's members may be down (and the DCs holding them), and
    /// partitions are tolerated (the majority side carries on). Disk loss is handled safely
    /// (the member rejoins through a membership change) but is left out of the random fault
    /// budget: until the new incarnation has caught up and been re-added, the group
    /// tolerates one failure less, and the planner does not model that catch-up time.
    public var tolerance: FaultTolerance {
        let f = (copies - 1) / 2
        // DCs: for each group, how many of its DCs (largest member counts first) can go
        // while a majority survives; the worst group decides.
        var dcTolerance = Int.max
        for ms in groupMembers {
            var perDC: [Int: Int] = [:]
            for n in ms { perDC[world.datacenter(of: n), default: 0] += 1 }
            let counts = perDC.values.sorted(by: >)
            var left = ms.count, k = 0
            for c in counts { if left - c >= ms.count / 2 + 1 { left -= c; k += 1 } else { break } }
            dcTolerance = Swift.min(dcTolerance, k)
        }
        return FaultTolerance(datacenters: dcTolerance == .max ? 0 : dcTolerance, nodes: f, diskLoss: false, partitions: true)
    }

    // MARK: Groups and routing

    /// The shard group `key` belongs to.
    public func groupOf(_ key: ShardKey) -> Int {
        Int(mix64(key.raw ^ 0x7261_6674) % UInt64(groups))
    }

    /// The member nodes of group `group`, in slot order.
    public func members(ofGroup group: Int) -> [Int] { groupMembers[group] }

    /// The group's members: every one holds a copy of each of its shards.
    public func placement(of key: ShardKey, home: Int) -> [Int] {
        groupMembers[groupOf(key)]
    }

    /// The leader hint if that node is up; otherwise a live member near the client (which
    /// forwards to the leader it knows), rotating after failures.
    public func coordinator(for request: ClientRequest, clientDC: Int, up: NodeLiveness) -> Int? {
        let g = groupOf(request.key)
        let hint = leaderHint[g]
        if hint >= 0, up.isUp(Int(hint)) { return Int(hint) }
        let order = memberOrder[g][clientDC]
        let members = groupMembers[g]
        var live = 0
        for s in order where up.isUp(members[Int(s)]) { live += 1 }
        guard live > 0 else { return nil }
        var skip = Int(hintRotation[g] % UInt32(live))
        for s in order where up.isUp(members[Int(s)]) {
            if skip == 0 { return members[Int(s)] }
            skip -= 1
        }
        return nil
    }

    /// The replica of group `group` on `node`, if `node` is a member.
    func replicaIndex(group: Int, node: Int) -> Int? {
        let ms = groupMembers[group]
        for i in ms.indices where ms[i] == node { return replicaBase[group] + i }
        return nil
    }

    func replica(group: Int, node: Int) -> Int {
        guard let r = replicaIndex(group: group, node: node) else {
            preconditionFailure("Raft: node \(node) is not a member of group \(group) (members \(groupMembers[group]))")
        }
        return r
    }

    func slot(of node: Int, inGroup group: Int) -> Int {
        replica(group: group, node: node) - replicaBase[group]
    }

    /// The node of slot `slot` of the replica's group.
    @inline(__always) func node(_ r: Int, slot: Int) -> Int {
        groupMembers[Int(replicas[r].group)][slot]
    }

    // MARK: Storage tokens

    static let applyTag: UInt64 = 1 << 62
    static let readTag: UInt64 = 2 << 62
    static let retryTag: UInt64 = 3 << 62
    static let tagMask: UInt64 = 3 << 62

    static func applyToken(group: Int32, index: Int, retry: Bool = false) -> UInt64 {
        (retry ? retryTag : applyTag) | UInt64(group) << 40 | UInt64(index)
    }

    // MARK: Inputs

    public mutating func clientRequest(_ request: ClientRequest, at node: Int, now: SimTime,
                                       rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        let r = replica(group: groupOf(request.key), node: node)
        ensureStarted(r, now: now, rng: &rng, effects: &effects)
        handleClient(request, r, hops: 0, now: now, rng: &rng, effects: &effects)
    }

    public mutating func receive(_ message: Message, from source: Int, at node: Int, now: SimTime,
                                 rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        switch message {
        case .append(let m):
            let r = replica(group: Int(m.group), node: node)
            ensureStarted(r, now: now, rng: &rng, effects: &effects)
            handleAppend(m, from: slot(of: source, inGroup: Int(m.group)), r, now: now, rng: &rng, effects: &effects)
        case .appendReply(let m):
            let r = replica(group: Int(m.group), node: node)
            ensureStarted(r, now: now, rng: &rng, effects: &effects)
            handleAppendReply(m, from: slot(of: source, inGroup: Int(m.group)), r, now: now, rng: &rng, effects: &effects)
        case .vote(let m):
            let r = replica(group: Int(m.group), node: node)
            ensureStarted(r, now: now, rng: &rng, effects: &effects)
            handleVote(m, from: slot(of: source, inGroup: Int(m.group)), r, now: now, rng: &rng, effects: &effects)
        case .voteReply(let m):
            let r = replica(group: Int(m.group), node: node)
            ensureStarted(r, now: now, rng: &rng, effects: &effects)
            handleVoteReply(m, from: slot(of: source, inGroup: Int(m.group)), r, now: now, rng: &rng, effects: &effects)
        case .forward(let request, let hops):
            let r = replica(group: groupOf(request.key), node: node)
            ensureStarted(r, now: now, rng: &rng, effects: &effects)
            handleClient(request, r, hops: hops, now: now, rng: &rng, effects: &effects)
        }
    }

    public mutating func timer(_ timer: Timer, at node: Int, now: SimTime,
                               rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        switch timer {
        case .election(let group, let generation):
            let r = replica(group: Int(group), node: node)
            guard replicas[r].electionGeneration == generation else { return }
            replicas[r].electionFireAt = .never
            guard replicas[r].role != .leader else { return }
            if now < replicas[r].electionDeadline {
                armElection(r, now: now, effects: &effects)
            } else {
                electionTimeout(r, now: now, rng: &rng, effects: &effects)
            }
        case .heartbeat(let group, let term):
            let r = replica(group: Int(group), node: node)
            guard replicas[r].role == .leader, replicas[r].term == term else { return }
            heartbeat(r, now: now, rng: &rng, effects: &effects)
        case .flush(let group, let term):
            let r = replica(group: Int(group), node: node)
            guard replicas[r].role == .leader, replicas[r].term == term else { return }
            replicas[r].lead!.flushArmed = false
            broadcast(r, now: now, effects: &effects)
        case .retryApplies(let group):
            retryFailedApplies(replica(group: Int(group), node: node), effects: &effects)
        }
    }

    public mutating func storageCompleted(_ completion: StorageCompletion, at node: Int, now: SimTime,
                                          rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        let token = completion.token
        switch token & Self.tagMask {
        case Self.applyTag:
            let group = Int((token & ~Self.tagMask) >> 40)
            let index = Int(token & ((1 << 40) - 1))
            let r = replica(group: group, node: node)
            switch completion.outcome {
            case .stored, .superseded:
                applyCompleted(r, index: index, failed: false, now: now, rng: &rng, effects: &effects)
            case .ioError:
                applyCompleted(r, index: index, failed: true, now: now, rng: &rng, effects: &effects)
            case .found, .foundFragment, .missing:
                preconditionFailure("Raft: a put of entry \(index) of group \(group) completed as a get at node \(node)")
            }
        case Self.retryTag:
            let group = Int((token & ~Self.tagMask) >> 40)
            let index = Int(token & ((1 << 40) - 1))
            retryCompleted(replica(group: group, node: node), index: index, ok: completion.outcome != .ioError,
                           effects: &effects)
        case Self.readTag:
            let group = groupOf(completion.key)
            let raw = token & ~Self.tagMask
            let r = replica(group: group, node: node)
            var op = OperationID(raw)
            if let waiting = replicas[r].readsAtDisk[raw] {
                op = waiting.op
                if waiting.gets > 1 { replicas[r].readsAtDisk[raw]!.gets -= 1 } else { replicas[r].readsAtDisk[raw] = nil }
            }
            switch completion.outcome {
            case .found(let stamp, let tombstone):
                effects.reply(op, .found(stamp, tombstone: tombstone))
                leaderHint[group] = Int32(node)
            case .missing, .foundFragment:
                effects.reply(op, .notFound)
                leaderHint[group] = Int32(node)
            case .ioError:
                effects.reply(op, .failed)
            case .stored, .superseded:
                preconditionFailure("Raft: a read's get completed as a put at node \(node)")
            }
        default:
            preconditionFailure("Raft: storage completion with unknown token \(token) at node \(node)")
        }
    }

    public mutating func nodeDown(_ node: Int, diskLost: Bool, now: SimTime) {
        for r in replicasOfNode[node] {
            replicas[Int(r)].crash(diskLost: diskLost)
        }
    }

    public mutating func nodeUp(_ node: Int, now: SimTime, rng: inout SimRandom,
                                effects: inout Effects<Message, Timer>) {
        for r32 in replicasOfNode[node] {
            let r = Int(r32)
            if replicas[r].incarnation == 0 {
                // A new identity after a disk loss (never 0, never the bootstrap 1).
                var inc: UInt64 = 0
                while inc <= 1 { inc = rng.next() }
                replicas[r].incarnation = inc
            }
            // Do not vote for a while: before the crash this member may have acknowledged a
            // leader whose lease still holds.
            replicas[r].noVoteBefore = now + electionTimeoutMin
            replicas[r].started = false
            ensureStarted(r, now: now, rng: &rng, effects: &effects)
            armRetry(r, effects: &effects)
        }
    }

    /// Arms the member's election timer the first time it hears of anything (members start
    /// lazily: the engine has no start-up input, so a group wakes on its first request).
    mutating func ensureStarted(_ r: Int, now: SimTime, rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        guard !replicas[r].started else { return }
        replicas[r].started = true
        resetElectionTimer(r, now: now, rng: &rng, effects: &effects)
    }
}
