import SimCore

extension Quorum {
    /// One node's state. Coordinator operations, disk requests in flight and armed timers
    /// are volatile; hints, the tombstone purge queue and the anti-entropy index are durable
    /// (see ``nodeDown(_:diskLost:now:)``).
    struct NodeState {
        var nextToken: UInt64 = 0
        var nextRid: UInt64 = 1
        var nextBatch: UInt64 = 0
        /// Operations this node coordinates, by request id.
        var writes: [UInt64: WriteOp] = [:]
        var reads: [UInt64: ReadOp] = [:]
        /// What to do when each disk request completes, by token.
        var disk: [UInt64: DiskTask] = [:]
        var hintTimerArmed = false
        var gcTimerArmed = false
        var antiEntropyArmed = false
        /// Hint targets with a handoff batch in flight, and the batch.
        var handoffInFlight: [Int: UInt64] = [:]
        /// Handoff batches this node is storing, by (holder, batch).
        var handoffReceiving: [BatchRef: HandoffReceipt] = [:]

        // Durable.
        var hints = HintStore()
        var tombstones = TombstoneQueue()
        /// Per-key versions and per-peer Merkle leaves (only with anti-entropy).
        var index: AntiEntropyIndex?
        /// Hint copies whose drop was interrupted by a crash, to drop after restart.
        var redrops: [ShardKey] = []

        init(antiEntropy: Bool, depth: Int) {
            index = antiEntropy ? AntiEntropyIndex(depth: depth) : nil
        }
    }

    struct BatchRef: Hashable { var holder: Int; var batch: UInt64 }

    struct HandoffReceipt {
        var remaining: Int
        var stored: [TreeEntry] = []
    }

    /// What a node does when one of its disk requests completes.
    enum DiskTask {
        /// A replica storing a coordinator's write; answers with a write ack.
        case replicaWrite(rid: UInt64, coordinator: Int32, Value)
        /// A hint holder storing a write meant for `target`.
        case hintWrite(rid: UInt64, coordinator: Int32, target: Int32, Value)
        /// A replica reading for a coordinator.
        case replicaRead(rid: UInt64, coordinator: Int32, data: Bool, bytes: Int32)
        /// A replica storing a read repair.
        case repairWrite(rid: UInt64, coordinator: Int32, Value)
        /// A replica storing a hint handed over by `holder`.
        case handoffStore(holder: Int32, batch: UInt64, Value)
        /// A replica storing a key streamed by anti-entropy.
        case streamStore(Value)
        /// Reading a key to stream it to `peer` (anti-entropy).
        case streamRead(peer: Int32, bytes: Int32, home: Int32)
        /// Garbage-collecting a tombstone.
        case purge(ShardKey, Stamp)
        /// Dropping a hint holder's copy once every hint for the key is handed over.
        case dropHintCopy(ShardKey)
        /// Re-storing a hint copy a drop raced with.
        case hintCopy
    }

    // MARK: Coordinator operations

    enum TargetState: UInt8 { case pending, acked, failed }

    /// A node a write was sent to: a replica, or a hint holder standing in for one.
    struct WriteTarget {
        var node: Int32
        /// The index in the replica list of the replica this target stands for.
        var replica: Int16
        var hint: Bool
        var state: TargetState = .pending
        /// Handled after a timeout or failure (replaced by another node, or given up).
        var resolved = false
    }

    struct WriteOp {
        var client: OperationID
        var value: Value
        var replicas: [Int]
        var requirement: QuorumRequirement
        var targets: [WriteTarget] = []
        /// Replicas not contacted yet (`write_fanout: quorum`), in the order to try them.
        var untried: [Int] = []
        var replied = false
        var rounds = 0
    }

    enum RepairPlan: UInt8 { case none, blocking, background }
    enum RepairState: UInt8 { case none, pending, acked, failed }

    /// A replica a read was sent to.
    struct ReadTarget {
        var node: Int32
        var replica: Int16
        var state: TargetState = .pending
        var result: ReplicaRead = .missing
        /// This replica's answer carried the value itself (not only a digest).
        var hasData = false
        /// The value was asked of this replica.
        var askedData: Bool
        var repair: RepairState = .none
        var resolved = false
    }

    struct ReadOp {
        var client: OperationID
        var key: ShardKey
        var home: Int32
        var bytes: Int32
        var replicas: [Int]
        var requirement: QuorumRequirement
        var targets: [ReadTarget] = []
        var untried: [Int] = []
        var plan: RepairPlan
        var replied = false
        /// The newest answer, once the read is decided (nil before).
        var answer: ReplicaRead?
        var rounds = 0
    }
}
