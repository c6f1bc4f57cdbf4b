import SimCore
import SimNetwork

// MARK: - Log entries, messages and timers of Raft

extension Raft {
    /// One entry of a group's replicated log.
    public struct Entry: Sendable, Equatable {
        public enum Kind: UInt8, Sendable {
            /// The blank entry a new leader appends to commit entries of earlier terms (§5.4.2, §8).
            case noop
            /// A client write or edit: a `.put` of `key` at `stamp` on every member as it applies.
            case write
            /// A client delete: a tombstone put.
            case delete
            /// A read ordered through the log (`read: log`); applying it changes nothing.
            case read
            /// A membership change: `config` becomes the group's voter set (one slot at a time).
            case config
        }
        /// The term of the leader that created the entry.
        public var term: UInt64
        public var kind: Kind
        public var key: ShardKey
        public var stamp: Stamp
        /// The stored size of the shard (writes), carried on the wire with the entry.
        public var storedBytes: Int32
        /// For `.config`: the voter incarnation per member slot (0 = not a voter).
        public var config: [UInt64]?

        public init(term: UInt64, kind: Kind, key: ShardKey = ShardKey(0), stamp: Stamp = .none,
                    storedBytes: Int32 = 0, config: [UInt64]? = nil) {
            self.term = term; self.kind = kind; self.key = key; self.stamp = stamp
            self.storedBytes = storedBytes; self.config = config
        }

        /// Bytes this entry takes in an AppendEntries message: a fixed header (index, term,
        /// kind, key, stamp) plus the shard for writes and the voter list for config entries.
        @inlinable public var wireBytes: Int {
            switch kind {
            case .write: return 40 + Int(storedBytes)
            case .config: return 40 + 8 * (config?.count ?? 0)
            case .noop, .delete, .read: return 40
            }
        }
    }

    /// AppendEntries (§5.3): the leader's replication message and heartbeat.
    public struct AppendEntries: Sendable {
        public var group: Int32
        public var term: UInt64
        public var prevLogIndex: Int
        public var prevLogTerm: UInt64
        public var entries: [Entry]
        public var leaderCommit: Int
        /// The leader's heartbeat round when sent (echoed back; confirms leadership for
        /// ReadIndex and leases).
        public var round: UInt64
    }

    /// The answer to AppendEntries.
    public struct AppendReply: Sendable {
        public var group: Int32
        public var term: UInt64
        public var success: Bool
        /// On success: the index up to which the follower's log now matches the leader's.
        /// On failure: where the leader should retry from (the follower's log end + 1, or the
        /// first index of the conflicting term).
        public var index: Int
        public var round: UInt64
        /// The responder's incarnation (a new one after a disk loss), so the leader counts
        /// only acknowledgements of current voters.
        public var incarnation: UInt64
    }

    /// RequestVote (§5.2).
    public struct VoteRequest: Sendable {
        public var group: Int32
        public var term: UInt64
        public var lastLogIndex: Int
        public var lastLogTerm: UInt64
    }

    /// The answer to RequestVote.
    public struct VoteReply: Sendable {
        public var group: Int32
        public var term: UInt64
        public var granted: Bool
        public var incarnation: UInt64
    }

    public enum Message: Sendable {
        case append(AppendEntries)
        case appendReply(AppendReply)
        case vote(VoteRequest)
        case voteReply(VoteReply)
        /// A client request a non-leader passes to the leader it knows (`hops` bounds
        /// forwarding between members with stale views).
        case forward(ClientRequest, hops: Int)
    }

    public enum Timer: Sendable {
        /// Check the election deadline (only the latest `generation` counts).
        case election(group: Int32, generation: UInt32)
        /// A leader's heartbeat tick for `term`.
        case heartbeat(group: Int32, term: UInt64)
        /// Ship batched entries (`batch_interval` > 0).
        case flush(group: Int32, term: UInt64)
        /// Retry the puts of applied entries that failed (disk error, key unreachable).
        case retryApplies(group: Int32)
    }

    /// Wire sizes of the fixed-size messages, in bytes.
    static let appendHeaderBytes = 64
    static let replyBytes = 48
    static let voteBytes = 48
    static let forwardHeaderBytes = 64
}
