import SimCore

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
    /// Acknowledged writes with no surviving intact copy of that version or newer at the end.
    public var lostAcknowledgedWrites: UInt64
    /// Shards with fewer intact copies on live nodes than the strategy places, at the end.
    public var underReplicatedAtEnd: UInt64
    /// Bytes on all disks (every replica, after compression and encryption).
    public var storedBytes: UInt64
    /// Bytes of the newest version of every live shard before compression and encryption.
    public var logicalBytes: UInt64
    public var storageOverhead: Double { logicalBytes == 0 ? 0 : Double(storedBytes) / Double(logicalBytes) }
    /// Copies per shard at the end: index i = shards with exactly i intact copies.
    public var copiesHistogram: [UInt64]
    /// Reads that hit a corrupt copy (detected and not returned).
    public var corruptionDetected: UInt64
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
}

public struct LinkFigures: Sendable {
    public var from: String
    public var to: String
    public var messages: UInt64
    public var bytes: UInt64
    public var lost: UInt64
    public var blocked: UInt64
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
