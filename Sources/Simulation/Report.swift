import SimCore
import Checker

/// The finished result of one run: every deterministic figure, and nothing else.
///
/// Same scenario, seed and dcsim version ⇒ the same report, field for field (the JSON
/// writer in `Reports` turns it into byte-identical files). Wall-clock figures are kept in
/// ``PerformanceFigures``, outside this value.
public struct SimulationReport: Sendable {
    public static let schemaVersion = 1

    public var scenario: ScenarioInfo
    public var workload: WorkloadFigures
    /// Per operation kind (write, read, delete), over the whole run after warm-up.
    public var operations: [OperationFigures]
    /// The same figures per phase (warmup, steady, and before/during/after each fault).
    public var phases: [PhaseFigures]
    public var redundancy: RedundancyFigures
    public var consistency: ConsistencyFigures
    public var network: NetworkFigures
    public var nodes: [NodeFigures]
    public var timeline: [TimelineSample]
    public var kernel: KernelFigures
    public var slos: [SLOResult]
    /// The fault timeline as applied (scripted, chaos and swarm), in start order.
    public var faults: [FaultRecord] = []
    public var availability = AvailabilityFigures()
    public var security = SecurityFigures()
    /// Client operations per client region (topology order) and kind: counts, offered load,
    /// goodput, latency percentiles.
    public var byRegion: [RegionFigures] = []
    /// The recorded per-key operation histories (for `history.jsonl`; not part of report.json).
    public var history: HistoryRecorder? = nil

    /// True when every SLO passed (or none was set).
    public var slosPassed: Bool { slos.allSatisfy(\.passed) }
}

public struct ScenarioInfo: Sendable {
    public var name: String
    public var source: String
    public var scenarioHash: String
    public var topology: String
    public var topologyHash: String
    public var seed: UInt64
    public var duration: SimDuration
    public var warmup: SimDuration
    public var payload: String
    public var strategy: String
    public var strategySummary: String
    public var keyPlacement: String
    public var datacenters: [String]
    public var nodeCount: Int
}

public struct WorkloadFigures: Sendable {
    public var users: Int
    public var devices: Int
    /// Cloud-chat messages sent (each one a write).
    public var messages: UInt64
    /// Secret-chat messages relayed device to device (never stored).
    public var secretMessages: UInt64
    /// Payload bytes of cloud messages before compression and encryption.
    public var logicalBytes: UInt64
    public var messagesByClass: [(name: String, count: UInt64)]
    /// Chats (all, and secret ones) and devices per kind.
    public var chats = 0
    public var secretChats = 0
    public var devicesByKind: [(name: String, count: Int)] = []
    /// Edits, deletes and self-destruct expiries issued (each a client operation), and the
    /// mutations not issued because their message was never acknowledged.
    public var edits: UInt64 = 0
    public var deletes: UInt64 = 0
    public var expiries: UInt64 = 0
    public var mutationsDropped: UInt64 = 0
    /// History reads issued, and those that found the opened chat empty (no operation).
    public var historyReads: UInt64 = 0
    public var historyReadsEmpty: UInt64 = 0
    /// Device sync: pushes sent, reads issued (in order or by catch-up), gaps detected in a
    /// device's update sequence and the reads their catch-ups made.
    public var pushes: UInt64 = 0
    public var syncReads: UInt64 = 0
    public var syncGaps: UInt64 = 0
    public var catchUpReads: UInt64 = 0
}

/// Deletes and self-destruct expiries, and whether deleted messages came back.
public struct DeleteFigures: Sendable {
    /// Deletes (including expiries) acknowledged to their client.
    public var acknowledged: UInt64
    /// Reads that began after a delete was acknowledged and still returned the message's content.
    public var readsAfterDelete: UInt64
    public var staleReadsAfterDelete: UInt64
    /// Resurrected deletes: acknowledged-deleted messages the system forgot were deleted — no
    /// intact tombstone left on any surviving disk while the content survives (a whole copy,
    /// or k fragments), so a replica that missed the delete can serve or repair it back.
    /// Checked whenever a replica drops or purges a copy (tombstone garbage collection:
    /// `duringRun`) and at the end of the run (`atEnd`); `resurrected` counts each message once.
    public var resurrectedDuringRun: UInt64
    public var resurrectedAtEnd: UInt64
    public var resurrected: UInt64
}

/// Latency percentiles in milliseconds (from an HDR histogram with 3 significant digits).
public struct LatencySummary: Sendable {
    public var count: UInt64
    public var mean: Double
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var p999: Double
    public var max: Double
}

public struct OperationFigures: Sendable {
    public var kind: String
    public var issued: UInt64
    public var ok: UInt64
    public var failed: UInt64
    /// Writes whose outcome the client never learned (timed out after all retries).
    public var unknown: UInt64
    /// Still in flight when the run ended.
    public var abandoned: UInt64
    public var retries: UInt64
    /// Latency of successful operations, first attempt to final answer.
    public var latency: LatencySummary
    /// Share of finished operations that succeeded.
    public var availability: Double { let done = ok + failed + unknown; return done == 0 ? 1 : Double(ok) / Double(done) }
    /// The span these operations were issued in (the post-warm-up run, or the phase), for rates.
    public var window: SimDuration = .zero
    /// Offered load (operations issued per second of `window`) and goodput (successful ones).
    public var offeredPerSecond: Double { window > .zero ? Double(issued) / window.seconds : 0 }
    public var goodputPerSecond: Double { window > .zero ? Double(ok) / window.seconds : 0 }
}

public struct PhaseFigures: Sendable {
    public var name: String
    public var start: SimDuration
    public var end: SimDuration
    public var operations: [OperationFigures]
}

public struct RedundancyFigures: Sendable {
    /// Cloud shards written (keys).
    public var shards: UInt64
    public var acknowledgedWrites: UInt64
    /// Lost acknowledged writes as a share of the shards with an acknowledged write.
    public var lostAcknowledgedShare: Double {
        let acked = byDatacenter.reduce(UInt64(0)) { $0 + $1.acknowledged }
        return acked == 0 ? 0 : Double(lostAcknowledgedWrites) / Double(acked)
    }
    /// Shards whose newest acknowledged write is unrecoverable at the end: no intact whole
    /// copy of that version or newer and fewer than k distinct intact fragments of it on any
    /// disk that survives (up or down). A shard whose newest acknowledged operation is a
    /// delete is never lost.
    public var lostAcknowledgedWrites: UInt64
    /// Shards neither fully copied (intact whole copies on up nodes < placement count) nor
    /// fully striped (distinct intact fragments on up nodes < k + m), at the end.
    public var underReplicatedAtEnd: UInt64
    /// Bytes on all disks (every replica, after compression and encryption).
    public var storedBytes: UInt64
    /// Bytes of the newest version of every live shard before compression and encryption.
    public var logicalBytes: UInt64
    public var storageOverhead: Double { logicalBytes == 0 ? 0 : Double(storedBytes) / Double(logicalBytes) }
    /// Units per acknowledged shard at the end: index i = shards with exactly i intact units
    /// on up nodes (whole copies plus distinct fragments of the newest acknowledged version);
    /// at least 8 entries, more when a placement or stripe is wider, the last one open-ended.
    public var copiesHistogram: [UInt64]
    /// Reads that hit a corrupt copy (detected and not returned).
    public var corruptionDetected: UInt64
    /// The lowest margin (live intact units − units needed to read) any shard reached after
    /// warm-up; 0 = one failure from unreadable, negative = unreadable for a while.
    public var minMargin: Int? = nil
    /// ∫ (shards below their placement's count) dt, in shard-seconds.
    public var underReplicatedShardSeconds: Double = 0
    /// The most shards at margin 0 at once.
    public var atRiskPeak: UInt64 = 0
    /// After each fault that left shards under-replicated: time until none was.
    public var recoveryTimes: [SimDuration] = []
    /// Fault effects on storage: disks wiped, copies rotted, writes lost with the page cache
    /// in crashes, disk I/O errors, and disk operations refused for want of a reachable key.
    public var disksLost: UInt64 = 0
    public var copiesRotted: UInt64 = 0
    public var unflushedWritesLost: UInt64 = 0
    public var diskErrors: UInt64 = 0
    public var keyUnavailable: UInt64 = 0
    /// Durability: when an acknowledged shard first became unrecoverable (simulated time
    /// since the start; nil: never), how many times one did, and whether the run stopped
    /// there (`stop_at_first_loss`).
    public var firstLoss: SimDuration? = nil
    public var lossEvents: UInt64 = 0
    public var stoppedAtFirstLoss = false
    /// Repair traffic: messages and bytes of kind `repair`, and units a disk wrote to a shard
    /// that had been fully redundant and was not (re-replication).
    public var repairMessages: UInt64 = 0
    public var repairBytes: UInt64 = 0
    public var reReplicatedUnits: UInt64 = 0
    /// The end figures per home DC of the shards (DC order of the topology).
    public var byDatacenter: [DatacenterRedundancy] = []
}

/// Availability that needs no traffic: the share of (post-warm-up) time the strategy's probe
/// shard groups were readable / writable by its quorum sizes (see AvailabilityTracker).
public struct AvailabilityFigures: Sendable {
    public var timeWeightedRead: Double = 1
    public var timeWeightedWrite: Double = 1
    public var probeGroups: Int = 0
}

/// What an adversary who seized DCs can decrypt.
public struct SecurityFigures: Sendable {
    public var seizures: [SeizureFigures] = []
    /// The worst exposed share over all seizures (0 with none).
    public var maxExposedShare: Double { seizures.map(\.exposedShare).max() ?? 0 }
}

public struct SeizureFigures: Sendable {
    public var time: SimDuration
    public var datacenters: [String]
    /// Cloud messages written so far.
    public var messages: UInt64
    /// Messages with a readable copy (or k fragments) on the seized disks.
    public var storedInSeized: UInt64
    /// Messages whose plaintext the adversary can recover (data and key both seized).
    public var exposed: UInt64
    public var exposedShare: Double
    public var byClass: [(name: String, stored: UInt64, exposed: UInt64)]
    /// Secret-chat messages are never stored in a DC: always 0 exposed.
    public var secretChatMessages: UInt64
    public var secretChatExposed: UInt64
}

public struct ConsistencyFigures: Sendable {
    public var reads: UInt64
    /// Reads that returned a version older than the newest acknowledged before they began
    /// (including "not found" when a version had been acknowledged).
    public var staleReads: UInt64
    public var staleRatio: Double { reads == 0 ? 0 : Double(staleReads) / Double(reads) }
    /// Staleness in versions (k) of stale reads: index k-1 = count (last bucket = k ≥ buckets).
    public var staleVersions: [UInt64]
    /// Age of the newest acknowledged version a stale read missed, from its ack to the read's start.
    public var staleness: LatencySummary
    /// The visibility curve: P(a read starting t after a write's acknowledgement sees that
    /// write or newer), on a grid of t.
    public var visibility: [VisibilityPoint] = []
    /// The t at which the curve first reaches 99% and 99.9% (nil: not within the grid).
    public var visibilityT99: SimDuration? = nil
    public var visibilityT999: SimDuration? = nil
    /// Per-key linearizability of the recorded histories.
    public var linearizability: LinearizabilityFigures? = nil
    /// Device sync lag: from a message's acknowledgement until the last device of its
    /// recipients (and the sender's other devices) has read it.
    public var syncLag = LatencySummary(count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0)
    /// Replicas still disagreeing after the final heal and a quiet period.
    public var divergence: DivergenceFigures? = nil
    /// Deletes and resurrections.
    public var deletes = DeleteFigures(acknowledged: 0, readsAfterDelete: 0, staleReadsAfterDelete: 0,
                                       resurrectedDuringRun: 0, resurrectedAtEnd: 0, resurrected: 0)
    /// Session guarantees per user across devices: read-your-writes and monotonic reads.
    public var sessions = SessionFigures()
}

public struct VisibilityPoint: Sendable {
    /// Upper edge of the bucket: reads that started within (previous t, t] after the ack.
    public var t: SimDuration
    public var reads: UInt64
    /// Share of those reads that saw the write or newer.
    public var fresh: Double
}

public struct LinearizabilityFigures: Sendable {
    /// Keys checked (a deterministic, evenly spaced sample when there are many).
    public var keys: Int
    /// Keys with a recorded history.
    public var keysRecorded: Int
    public var operations: Int
    public var linearizable: Int
    public var notLinearizable: Int
    public var unknown: Int
    /// The recorder hit its operation limit; later operations were not checked.
    public var truncated: Bool
    public var budgetPerKey: Int
    /// Up to three minimal counterexamples, human-readable.
    public var counterexamples: [String]
}

public struct LinkFigures: Sendable {
    public var from: String
    public var to: String
    public var messages: UInt64
    public var bytes: UInt64
    public var lost: UInt64
    public var blocked: UInt64
    /// Messages the link delivered twice, and messages that arrived before one sent earlier.
    public var duplicated: UInt64 = 0
    public var reordered: UInt64 = 0
}

public struct NetworkFigures: Sendable {
    /// Links that carried traffic, row-major by source DC.
    public var links: [LinkFigures]
    public var messagesByKind: [(kind: String, messages: UInt64, bytes: UInt64)]
    /// Bytes that crossed between different DCs.
    public var wanBytes: UInt64
    /// Network messages per client operation (all kinds).
    public var messagesPerOperation: Double
}

public struct NodeFigures: Sendable {
    public var name: String
    public var datacenter: String
    public var served: UInt64
    public var rejected: UInt64
    public var maxWaiting: Int
    /// Time waiting for a server, and time in system (wait + service), in ms.
    public var wait: LatencySummary
    public var response: LatencySummary
    public var usedBytes: Int64
}

/// One row of the time series (per `sample_interval`).
public struct TimelineSample: Sendable {
    public var time: SimDuration
    public var writesOK: UInt64
    public var writesFailed: UInt64
    public var readsOK: UInt64
    public var readsFailed: UInt64
    public var staleReads: UInt64
    /// Mean latency of operations completed in the interval, ms (0 when none).
    public var meanLatency: Double
    public var nodesUp: Int
    /// Redundancy at the sample instant: the lowest shard margin, shards below their
    /// placement count, and shards at margin 0.
    public var minMargin: Int? = nil
    public var underReplicated: UInt64 = 0
    public var atRisk: UInt64 = 0

    public init(time: SimDuration = .zero, writesOK: UInt64 = 0, writesFailed: UInt64 = 0, readsOK: UInt64 = 0,
                readsFailed: UInt64 = 0, staleReads: UInt64 = 0, meanLatency: Double = 0, nodesUp: Int = 0) {
        self.time = time; self.writesOK = writesOK; self.writesFailed = writesFailed; self.readsOK = readsOK
        self.readsFailed = readsFailed; self.staleReads = staleReads; self.meanLatency = meanLatency; self.nodesUp = nodesUp
    }
}

public struct KernelFigures: Sendable {
    public var events: UInt64
    public var maxPendingEvents: Int
    public var simulatedSeconds: Double
}

public struct SLOResult: Sendable {
    public var metric: String
    public var comparison: String
    public var threshold: Double
    public var value: Double?
    public var passed: Bool
    /// Why it failed or could not be evaluated.
    public var detail: String
}

/// Wall-clock figures of a run: how fast the simulator itself was. Not deterministic, so
/// never part of ``SimulationReport``; reports print it in a separate block that
/// `--deterministic` omits.
public struct PerformanceFigures: Sendable {
    public var wallSeconds: Double
    public var events: UInt64
    public var simulatedSeconds: Double
    public var eventsPerSecond: Double { wallSeconds > 0 ? Double(events) / wallSeconds : 0 }
    public var simulatedToWall: Double { wallSeconds > 0 ? simulatedSeconds / wallSeconds : 0 }
    public var operationsPerSecond: Double
    public init(wallSeconds: Double, events: UInt64, simulatedSeconds: Double, operationsPerSecond: Double) {
        self.wallSeconds = wallSeconds; self.events = events; self.simulatedSeconds = simulatedSeconds
        self.operationsPerSecond = operationsPerSecond
    }
}
