import SimCore

// MARK: - One member's state

extension Raft {
    public enum Role: String, Sendable { case follower, candidate, leader }

    /// A client read waiting at the leader: for its read index to be known (the leader must
    /// first commit an entry of its term), for leadership to be confirmed by a heartbeat
    /// round (ReadIndex), and for the leader to have applied up to the read index.
    struct PendingRead {
        var op: OperationID
        var key: ShardKey
        /// The commit index the read must observe; -1 until the leader has committed an
        /// entry of its own term.
        var readIndex: Int
        /// The heartbeat round a majority must acknowledge (0 = no confirmation needed:
        /// a valid lease, or a read that went through the log).
        var round: UInt64
    }

    /// What only a leader keeps (volatile; rebuilt at each election).
    struct LeaderState {
        /// Per member slot: next index to send, highest index known replicated.
        var next: [Int]
        var match: [Int]
        /// The incarnation each member last reported (0 = not heard yet in this term).
        var peerIncarnation: [UInt64]
        /// Whether the member is being probed (one AppendEntries at a time, no pipelining)
        /// after a consistency-check failure or at the start of the term.
        var probing: [Bool]
        /// The latest heartbeat round each member acknowledged in this term.
        var ackedRound: [UInt64]
        /// Heartbeat rounds: the current one and when recent ones were sent (a ring).
        var round: UInt64 = 0
        var roundSentAt: [SimTime]
        var roundOfSlot: [UInt64]
        /// The highest round a majority of voters acknowledged, and when it was sent: the
        /// leader was certainly leader then. Drives ReadIndex, the lease and check-quorum.
        var confirmedRound: UInt64 = 0
        var confirmedAt: SimTime
        /// When the round that backs the lease was sent (nil until a majority acknowledged
        /// one); the lease holds until `leaseStart + lease_duration` by the leader's clock.
        var leaseStart: SimTime?
        /// Writes waiting for commit and apply on the leader, in log order.
        var acks: [(index: Int, op: OperationID)] = []
        var acksHead = 0
        var reads: [PendingRead] = []
        /// When this leadership began (local clock), and the index of its no-op entry.
        var since: SimTime
        var noopIndex: Int
        var flushArmed = false

        init(members: Int, lastIndex: Int, now: SimTime) {
            next = Array(repeating: lastIndex + 1, count: members)
            match = Array(repeating: 0, count: members)
            peerIncarnation = Array(repeating: 0, count: members)
            probing = Array(repeating: true, count: members)
            ackedRound = Array(repeating: 0, count: members)
            roundSentAt = Array(repeating: .never, count: Raft.roundRing)
            roundOfSlot = Array(repeating: .max, count: Raft.roundRing)
            confirmedAt = now
            since = now
            noopIndex = lastIndex + 1
        }

        /// When round `r` was sent, if still remembered.
        func sentAt(_ r: UInt64) -> SimTime? {
            let i = Int(r % UInt64(Raft.roundRing))
            return roundOfSlot[i] == r ? roundSentAt[i] : nil
        }
    }

    /// One member of one group on one node.
    ///
    /// Durable (survives a crash with its disk, lost with it): `term`, `votedFor`, `log`,
    /// `incarnation`, the configuration (it lives in the log), and `applied` (the applied
    /// index is kept with the state machine — here the node's store — as etcd and TiKV do, so
    /// a restart does not re-apply the whole log). Everything else is volatile.
    struct Replica {
        let group: Int32
        let slot: Int32
        let node: Int32

        // Durable.
        var term: UInt64 = 0
        /// The slot this member voted for in `term` (-1 none).
        var votedFor: Int32 = -1
        /// Entry `i` (1-based) is `log[i - 1]`. No snapshots: the log is kept whole.
        var log: [Entry] = []
        /// This member's identity as a voter: 1 at bootstrap, a fresh random value after a
        /// disk loss (0 while down after one, until restart draws it).
        var incarnation: UInt64 = 1
        /// The voter set in effect (the latest config entry in the log, or the bootstrap
        /// set): the incarnation per slot, 0 for a slot that is not a voter.
        var config: [UInt64]
        var configIndex = 0
        /// Highest index applied to the node's store (every entry up to it completed).
        var applied = 0
        /// Applied entries whose put failed (a disk error, or the shard's key unreachable
        /// from this DC), by index, retried in the background: a failed put must not hold
        /// up the entries behind it. Kept with the applied index. `inFlight` is volatile.
        var failed: [Int: FailedApply] = [:]
        /// How many failed entries each key has (reads of such a key are refused: the
        /// store may hold an older version).
        var failedKeys: [ShardKey: Int] = [:]

        // Volatile.
        var role = Role.follower
        /// The leader's slot in `term`, if known (-1 none).
        var leader: Int32 = -1
        var commitIndex = 0
        /// Entries up to `applyIssued` have been sent to the disk (or need none).
        var applyIssued = 0
        /// Completion flags of entries in (applied, applyIssued], by index modulo the window.
        var applyDone: [Bool]
        var started = false
        var electionDeadline = SimTime.zero
        /// When the armed election timer fires (`.never` = none armed), and its generation.
        var electionFireAt = SimTime.never
        var electionGeneration: UInt32 = 0
        /// No vote is granted before this time (local clock): a member that heard from a
        /// leader within the minimum election timeout, or restarted within it, ignores
        /// RequestVote (Raft thesis §4.2.3) — which also keeps leader leases safe.
        var noVoteBefore = SimTime(nanoseconds: .min)
        /// Votes received as candidate: the voter's incarnation per slot (0 = none).
        var votes: [UInt64]
        /// Failed-put retries: whether a round is scheduled or running, and the backoff.
        var retryArmed = false
        var retryOutstanding = 0
        var retrySucceeded = false
        var retryBackoff = SimDuration.zero
        var lead: LeaderState?
        /// Client requests waiting for a leader to be known.
        var held: [ClientRequest] = []
        /// Reads whose get is at the disk, by operation number (the disk token carries only
        /// the number; the reply needs the whole identifier), with how many gets of it are
        /// there (a client's retry can reach the same leader while its first get is queued).
        var readsAtDisk: [UInt64: (op: OperationID, gets: Int32)] = [:]

        init(group: Int, slot: Int, node: Int, members: Int) {
            self.group = Int32(group); self.slot = Int32(slot); self.node = Int32(node)
            config = Array(repeating: 1, count: members)
            applyDone = Array(repeating: false, count: Raft.applyWindow)
            votes = Array(repeating: 0, count: members)
        }

        @inline(__always) var lastIndex: Int { log.count }
        @inline(__always) var lastTerm: UInt64 { log.last?.term ?? 0 }
        @inline(__always) func term(at index: Int) -> UInt64 { index == 0 ? 0 : log[index - 1].term }
        /// Whether this member is a voter in the configuration it holds.
        @inline(__always) var isVoter: Bool { config[Int(slot)] == incarnation && incarnation != 0 }
        /// Voters in the configuration.
        var voterCount: Int { config.reduce(0) { $0 + ($1 != 0 ? 1 : 0) } }
        var majority: Int { voterCount / 2 + 1 }

        /// Rebuilds the configuration from the log (after a truncation removed a config entry).
        mutating func recomputeConfig(bootstrap: Int) {
            config = Array(repeating: 1, count: bootstrap)
            configIndex = 0
            var i = log.count
            while i > 0 {
                if log[i - 1].kind == .config, let c = log[i - 1].config {
                    config = c; configIndex = i; return
                }
                i -= 1
            }
        }

        /// The crash: volatile state goes; with `diskLost`, everything goes and the member
        /// will come back as a new incarnation that is not a voter.
        mutating func crash(diskLost: Bool) {
            let members = config.count
            if diskLost {
                self = Replica(group: Int(group), slot: Int(slot), node: Int(node), members: members)
                incarnation = 0
                return
            }
            role = .follower
            leader = -1
            commitIndex = applied
            applyIssued = applied
            for i in applyDone.indices { applyDone[i] = false }
            started = false
            electionFireAt = .never
            electionGeneration &+= 1
            votes = Array(repeating: 0, count: members)
            lead = nil
            held = []
            readsAtDisk = [:]
            for i in failed.keys { failed[i]!.inFlight = false }
            retryArmed = false
            retryOutstanding = 0
            retrySucceeded = false
            retryBackoff = .zero
        }
    }

    struct FailedApply {
        var key: ShardKey
        var inFlight = false
    }

    static let heldLimit = 256
    /// Failed puts retried at once per round.
    static let retryBatch = 64
    static let retryBackoffMax = SimDuration.seconds(5)
    static let applyWindow = 512
    static let roundRing = 64
}
