import SimCore
import ShardPipeline

/// A validated, immutable scenario: what to simulate, for how long, under which load,
/// strategy and faults, and which SLOs gate the result.
///
/// Built only by ``ConfigLoader``. Every field has a documented default (docs/FORMAT.md);
/// CLI flags override named fields through ``Scenario/overriding(seed:duration:payload:)``.
public struct Scenario: Sendable {
    public var name: String
    public var summary: String
    /// Where it was loaded from (`builtin:default` for the embedded default).
    public var source: String
    /// FNV-1a 64 of the scenario file's bytes (hex): part of the reproduction key.
    public var contentHash: String
    public var topology: Topology

    /// The root seed; every random stream in the run derives from it.
    public var seed: UInt64
    /// Simulated time to run, after which the run stops (in-flight work is abandoned and
    /// reported as such).
    public var duration: SimDuration
    /// Simulated time at the start excluded from steady-state figures (the `warmup` phase).
    public var warmup: SimDuration
    /// `full` (real bytes, real crypto) or `sizes` (sizes and checksums only).
    public var payload: PayloadMode
    /// The replication strategy to run.
    public var strategy: StrategyConfig
    /// Strategies for `dcsim compare` when none are named on the command line.
    public var compareStrategies: [StrategyConfig]
    /// Where the keys that decrypt a shard are held, independent of data placement. The
    /// pipeline's own policy type: its semantics (which DCs hold a shard's key) are defined
    /// once, in ``KeyPlacementPolicy/place(dataDC:topology:choice:)``; the file only names it.
    public var keyPlacement: KeyPlacementPolicy
    public var workload: WorkloadConfig
    /// The scripted fault timeline, in start order.
    public var faults: [FaultSpec]
    /// Service-level objectives that gate the run (exit code 1 when one fails).
    public var slos: [SLOSpec]
    /// How often time series are sampled for reports.
    public var sampleInterval: SimDuration
    /// Random failure/repair processes (`chaos:`), validated by the fault planner.
    public var chaos: FaultModeConfig?
    /// Per-seed random fault parameters (`swarm:`), validated by the fault planner.
    public var swarm: FaultModeConfig?
    /// Which random faults may be drawn: only those the strategy is configured to survive
    /// (so any loss is a bug), or any.
    public var faultBudget: FaultBudget = .tolerated
    /// End the run at the first moment an acknowledged shard becomes unrecoverable
    /// (`stop_at_first_loss`), e.g. for time-to-first-loss sweeps.
    public var stopAtFirstLoss = false
    /// How long after the last fault ends replicas may take to converge before divergence is
    /// measured (`quiet_period`).
    public var quietPeriod = ScenarioDefaults.quietPeriod
    /// Per message kind, a one-way delay that replaces the links' base delay for messages of
    /// that kind (`message_delays`; PBS/WARS-style experiments), as (kind, distribution in ns),
    /// kinds from ``Scenario/messageKinds``.
    public var messageDelays: [(kind: String, delay: Distribution)] = []
    /// The message kinds `message_delays` may name, in the network's order.
    public static let messageKinds = ["write_request", "write_ack", "read_request", "read_response",
                                      "replication", "repair", "control"]

    public init(name: String, summary: String, source: String, contentHash: String, topology: Topology,
                seed: UInt64, duration: SimDuration, warmup: SimDuration, payload: PayloadMode,
                strategy: StrategyConfig, compareStrategies: [StrategyConfig], keyPlacement: KeyPlacementPolicy,
                workload: WorkloadConfig, faults: [FaultSpec], slos: [SLOSpec], sampleInterval: SimDuration) {
        self.name = name; self.summary = summary; self.source = source; self.contentHash = contentHash
        self.topology = topology; self.seed = seed; self.duration = duration; self.warmup = warmup
        self.payload = payload; self.strategy = strategy; self.compareStrategies = compareStrategies
        self.keyPlacement = keyPlacement; self.workload = workload; self.faults = faults
        self.slos = slos; self.sampleInterval = sampleInterval
    }

    /// A copy with command-line overrides applied (each `nil` keeps the file's value).
    public func overriding(seed: UInt64? = nil, duration: SimDuration? = nil,
                           payload: PayloadMode? = nil) -> Scenario {
        var s = self
        if let seed { s.seed = seed }
        if let duration { s.duration = duration }
        if let payload { s.payload = payload }
        return s
    }
}

/// A replication strategy: a named preset or protocol plus its parameters.
///
/// The config layer checks the preset/protocol name and keeps the parameters as an ordered
/// list of typed values; the strategy plug-in validates its own parameters (so adding a
/// strategy never edits the config layer) and reports errors with the same file/line context.
public struct StrategyConfig: Sendable, Hashable {
    /// A preset name (`async-geo`, `quorum-3dc`…) or protocol name (`quorum`, `raft`…).
    public var name: String
    /// Parameters overriding the preset's, in file order.
    public var parameters: [Parameter]
    /// Where it was written, for error messages from the strategy's own validation.
    public var location: SourceLocation?

    public init(name: String, parameters: [Parameter] = [], location: SourceLocation? = nil) {
        self.name = name; self.parameters = parameters; self.location = location
    }

    /// One `key: value` parameter with its location.
    public struct Parameter: Sendable, Hashable {
        public var key: String
        public var value: ConfigValue
        public var location: SourceLocation?
        public init(key: String, value: ConfigValue, location: SourceLocation? = nil) {
            self.key = key; self.value = value; self.location = location
        }
    }
}

/// An untyped configuration value kept for plug-ins that validate their own parameters.
public indirect enum ConfigValue: Sendable, Hashable, CustomStringConvertible {
    case string(String)
    case number(Double)
    case bool(Bool)
    case list([ConfigValue])
    case map([StrategyConfig.Parameter])

    public var description: String {
        switch self {
        case .string(let s): return s
        case .number(let x): return x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x)
        case .bool(let b): return String(b)
        case .list(let l): return "[" + l.map(\.description).joined(separator: ", ") + "]"
        case .map(let m): return "{" + m.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
        }
    }
}

/// A position in a configuration file, for error messages.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    /// 1-based.
    public var line: Int
    /// 1-based, counted in Unicode scalars.
    public var column: Int
    public init(file: String, line: Int, column: Int) { self.file = file; self.line = line; self.column = column }
    public var description: String { "\(file):\(line):\(column)" }
}

/// The messenger workload (see docs/FORMAT.md for every default).
public struct WorkloadConfig: Sendable, Hashable {
    /// Number of users.
    public var users: Int
    /// Users per region, as weights over ``Topology/regions`` (index-aligned; sums to > 0).
    /// A user's home DC is drawn uniformly among its region's DCs.
    public var regionWeights: [Double]
    /// Device kinds and their shares (phone, desktop, tablet…).
    public var devices: [DeviceClass]
    /// Devices per user (sampled, rounded, at least 1).
    public var devicesPerUser: Distribution
    /// Mean messages sent per second across all users (before the daily curve and bursts).
    public var messagesPerSecond: Double
    /// 24 hourly multipliers of the rate (simulated time 0 is midnight); empty = flat.
    public var dailyCurve: [Double]
    /// Rate bursts on top of the curve.
    public var bursts: [Burst]
    /// Message classes (text, photo, video, document) with weights and payload sizes (bytes).
    public var messageMix: [MessageClass]
    /// Fraction of chats that are secret (end-to-end, device-only, never stored in a DC).
    public var secretChatShare: Double
    /// Fraction of cloud chats that are groups; the rest are one-to-one.
    public var groupShare: Double
    /// Group sizes (members).
    public var groupSize: Distribution
    /// Zipf exponent of chat activity (which chat a message goes to).
    public var chatZipf: Double
    /// Chats per user.
    public var chatsPerUser: Distribution
    /// Per sent message: probability of a later edit (new version), a delete, and a TTL.
    public var editShare: Double
    public var deleteShare: Double
    public var ttlShare: Double
    /// Self-destruct timers.
    public var ttl: Distribution
    /// Delay between a message and its edit or delete (ns).
    public var mutationDelay: Distribution
    /// Every device of every recipient syncs new messages of its cloud chats.
    public var deviceSync: Bool
    /// Delay from a write's acknowledgement to the push reaching each device that syncs it (ns).
    public var syncDelay: Distribution
    /// History reads per second per online user, beyond sync.
    public var historyReadsPerUserPerSecond: Double
    /// Client behaviour: request timeout, retries and backoff.
    public var client: ClientPolicy

    public init(users: Int, regionWeights: [Double], devices: [DeviceClass], devicesPerUser: Distribution,
                messagesPerSecond: Double, dailyCurve: [Double], bursts: [Burst], messageMix: [MessageClass],
                secretChatShare: Double, groupShare: Double, groupSize: Distribution, chatZipf: Double,
                chatsPerUser: Distribution, editShare: Double, deleteShare: Double, ttlShare: Double,
                ttl: Distribution, mutationDelay: Distribution, deviceSync: Bool,
                historyReadsPerUserPerSecond: Double, client: ClientPolicy,
                syncDelay: Distribution = Distribution(.exponential(mean: 200e6))) {
        self.users = users; self.regionWeights = regionWeights; self.devices = devices
        self.devicesPerUser = devicesPerUser; self.messagesPerSecond = messagesPerSecond
        self.dailyCurve = dailyCurve; self.bursts = bursts; self.messageMix = messageMix
        self.secretChatShare = secretChatShare; self.groupShare = groupShare; self.groupSize = groupSize
        self.chatZipf = chatZipf; self.chatsPerUser = chatsPerUser; self.editShare = editShare
        self.deleteShare = deleteShare; self.ttlShare = ttlShare; self.ttl = ttl
        self.mutationDelay = mutationDelay; self.deviceSync = deviceSync
        self.historyReadsPerUserPerSecond = historyReadsPerUserPerSecond; self.client = client
        self.syncDelay = syncDelay
    }

    public struct DeviceClass: Sendable, Hashable {
        public var name: String
        public var weight: Double
        public init(name: String, weight: Double) { self.name = name; self.weight = weight }
    }

    public struct MessageClass: Sendable, Hashable {
        /// `text`, `photo`, `video`, `document` (or any name the file gives).
        public var name: String
        public var weight: Double
        /// Payload size in bytes before compression.
        public var size: Distribution
        /// Whether the payload compresses like text (`true`) or is already compressed media.
        public var compressible: Bool
        public init(name: String, weight: Double, size: Distribution, compressible: Bool) {
            self.name = name; self.weight = weight; self.size = size; self.compressible = compressible
        }
    }

    public struct Burst: Sendable, Hashable {
        public var start: SimDuration
        public var duration: SimDuration
        /// Rate multiplier during the burst.
        public var factor: Double
        public init(start: SimDuration, duration: SimDuration, factor: Double) {
            self.start = start; self.duration = duration; self.factor = factor
        }
    }

    public struct ClientPolicy: Sendable, Hashable {
        /// A request not answered within this time is abandoned (outcome `unknown` for
        /// writes, `failed` for reads) and retried if retries remain.
        public var timeout: SimDuration
        public var retries: Int
        /// Backoff before retry i is `backoff × 2^i` (capped at 32×), plus jitter.
        public var backoff: SimDuration
        /// Whether a client whose DC is unreachable fails over to the next-nearest DC.
        public var failover: Bool
        public init(timeout: SimDuration, retries: Int, backoff: SimDuration, failover: Bool) {
            self.timeout = timeout; self.retries = retries; self.backoff = backoff; self.failover = failover
        }
    }
}

/// The parameters of a random fault mode (`chaos:` or `swarm:`), kept typed-but-open with
/// their locations; the fault planner validates them.
public struct FaultModeConfig: Sendable, Hashable {
    public var parameters: [StrategyConfig.Parameter]
    public var location: SourceLocation?
    public init(parameters: [StrategyConfig.Parameter], location: SourceLocation?) {
        self.parameters = parameters; self.location = location
    }
}

/// Which random faults the planner may draw.
public enum FaultBudget: String, Sendable, Hashable {
    /// Only faults within the strategy's stated tolerance.
    case tolerated
    /// Any fault (loss and unavailability are then expected findings).
    case unlimited
}

/// One scripted fault: what, where, when, for how long. Parameters beyond these are kept
/// typed-but-open for the fault injector to validate (like strategies).
public struct FaultSpec: Sendable, Hashable {
    /// `dc-outage`, `node-crash`, `partition`, `latency`, `loss`, `bit-rot`, `seizure`…
    public var kind: String
    /// When it starts, from the start of the run.
    public var start: SimDuration
    /// How long it lasts; `nil` = permanent.
    public var duration: SimDuration?
    /// The target as written (`ams`, `region:europe`, `jurisdiction:nl`, `ams->sin`…).
    public var target: String
    public var parameters: [StrategyConfig.Parameter]
    public var location: SourceLocation?
    public init(kind: String, start: SimDuration, duration: SimDuration?, target: String,
                parameters: [StrategyConfig.Parameter], location: SourceLocation?) {
        self.kind = kind; self.start = start; self.duration = duration; self.target = target
        self.parameters = parameters; self.location = location
    }
}

/// A service-level objective: a named figure and a bound.
public struct SLOSpec: Sendable, Hashable {
    /// The figure's name in the report (`lost_acked_writes`, `availability`, `p99_write_latency_ms`…).
    public var metric: String
    public var comparison: Comparison
    public var threshold: Double
    public var location: SourceLocation?
    public enum Comparison: String, Sendable, Hashable { case atMost = "<=", atLeast = ">=" }
    public init(metric: String, comparison: Comparison, threshold: Double, location: SourceLocation?) {
        self.metric = metric; self.comparison = comparison; self.threshold = threshold; self.location = location
    }
}
