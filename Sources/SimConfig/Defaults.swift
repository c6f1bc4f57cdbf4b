import SimCore
import ShardPipeline

// Every default of both file formats, in one place. docs/FORMAT.md documents the same
// numbers; change both together.

/// Defaults for topology files: what a datacenter's nodes and links are when neither the
/// file's `defaults:` section nor the datacenter says otherwise.
public enum TopologyDefaults {
    /// Parallel servers per node (`defaults.node.servers`).
    public static let servers = 8
    /// Requests that may wait for a server (`defaults.node.queue_capacity`).
    public static let queueCapacity = 10_000
    /// Disk capacity per node (`defaults.node.disk`): 8 TiB.
    public static let diskBytes: Int64 = 8 << 40

    /// Service time per operation, indexed by ``OperationKind/rawValue``: log-normal, in ns.
    /// Read 0.4 ms median (SSD read plus request handling), write 1 ms (a synced append),
    /// delete 0.3 ms, repair 5 ms (a shard streamed to or from a peer).
    public static let serviceTime: [Distribution] = [
        .logNormal(median: 400_000, sigma: 0.5),
        .logNormal(median: 1_000_000, sigma: 0.5),
        .logNormal(median: 300_000, sigma: 0.5),
        .logNormal(median: 5_000_000, sigma: 0.6),
    ]

    /// One-way delay inside a datacenter (`defaults.intra_dc.latency`): 250 µs median.
    public static let intraLatency = Distribution.logNormal(median: 250_000, sigma: 0.3)
    /// Loss inside a datacenter, in parts per million.
    public static let intraLossPPM: UInt32 = 0
    /// Bandwidth inside a datacenter: 25 Gbps.
    public static let intraBandwidth: Int64 = 25_000_000_000

    /// Propagation delay per km of great-circle distance (`defaults.wan.per_km`): 5 µs,
    /// light in fibre (refractive index ≈ 1.47).
    public static let wanPerKmNanoseconds = 5_000.0
    /// Fibre path length over great-circle distance (`defaults.wan.route_factor`).
    public static let wanRouteFactor = 1.4
    /// Queueing jitter added to every WAN message (`defaults.wan.jitter`): exponential, 0.5 ms mean.
    public static let wanJitter = Distribution.exponential(mean: 500_000)
    /// WAN loss in parts per million (0: the transport retransmits; inject loss with faults).
    public static let wanLossPPM: UInt32 = 0
    /// WAN bandwidth per DC pair and direction: 10 Gbps.
    public static let wanBandwidth: Int64 = 10_000_000_000

    /// Device ↔ its datacenter, one way (`defaults.access`): log-normal, 15 ms median.
    public static let access = Distribution.logNormal(median: 15_000_000, sigma: 0.5)

    /// Earth's mean radius for the haversine distance, in km.
    public static let earthRadiusKm = 6371.0
}

/// Defaults for scenario files (everything except the workload, which is
/// ``WorkloadConfig/defaults(regionCount:)``).
public enum ScenarioDefaults {
    public static let seed: UInt64 = 1
    public static let warmup = SimDuration.zero
    public static let payload = PayloadMode.full
    /// Telegram-like: the home DC acknowledges, copies ship to other DCs later.
    public static let strategy = "async-geo"
    public static let keyPlacement = KeyPlacementPolicy.sameDC
    public static let sampleInterval = SimDuration.seconds(1)
    /// Time after the last fault ends before replica divergence is measured: long enough
    /// for hints, anti-entropy rounds and batched shipping with default settings.
    public static let quietPeriod = SimDuration.seconds(60)
    /// The default sample interval for a run of `duration`: 1 s, or longer for long runs so
    /// a time series has at most about 2000 points (a simulated year of chaos samples daily
    /// rather than 31 million times).
    public static func sampleInterval(for duration: SimDuration) -> SimDuration {
        let seconds = (duration.nanoseconds + 1_999_999_999_999) / 2_000_000_000_000
        return .seconds(Swift.max(1, seconds))
    }
}

extension WorkloadConfig {
    /// A realistic, modest messenger workload: every `workload:` key a scenario leaves out
    /// takes its value from here.
    ///
    /// Sources of the shapes: message sizes follow the heavy-tailed log-normals reported for
    /// chat traffic (most texts under a few hundred bytes; photos re-encoded by the client to
    /// a few hundred KB; videos a few MB); most users have one or two devices; group sizes and
    /// chat activity are skewed (Zipf).
    ///
    /// - Parameter regionCount: the topology's number of regions; users are spread over
    ///   them with equal weights.
    public static func defaults(regionCount: Int) -> WorkloadConfig {
        WorkloadConfig(
            users: 1_000,
            regionWeights: Array(repeating: 1, count: Swift.max(regionCount, 1)),
            devices: [
                DeviceClass(name: "phone", weight: 0.6),
                DeviceClass(name: "desktop", weight: 0.3),
                DeviceClass(name: "tablet", weight: 0.1),
            ],
            // 1 device 45%, 2 devices 40%, 3 devices 12%, 4 devices 3% (mean 1.73).
            devicesPerUser: Distribution(.mixture([
                .init(weight: 0.45, distribution: .constant(1)),
                .init(weight: 0.40, distribution: .constant(2)),
                .init(weight: 0.12, distribution: .constant(3)),
                .init(weight: 0.03, distribution: .constant(4)),
            ])),
            messagesPerSecond: 20,
            dailyCurve: [],
            bursts: [],
            messageMix: defaultMessageMix,
            secretChatShare: 0.02,
            groupShare: 0.3,
            groupSize: Distribution(.logNormal(mu: log(8), sigma: 1.0), min: 3, max: 200),
            chatZipf: 1.1,
            chatsPerUser: Distribution(.logNormal(mu: log(10), sigma: 0.8), min: 1, max: 500),
            editShare: 0.03,
            deleteShare: 0.02,
            ttlShare: 0.01,
            // Auto-delete timers: 1 day 50%, 1 week 30%, 1 month 20%.
            ttl: Distribution(.mixture([
                .init(weight: 0.5, distribution: .constant(86_400e9)),
                .init(weight: 0.3, distribution: .constant(7 * 86_400e9)),
                .init(weight: 0.2, distribution: .constant(30 * 86_400e9)),
            ])),
            // Most edits and deletes follow the message within a minute.
            mutationDelay: Distribution(.logNormal(mu: log(30e9), sigma: 1.5), min: 1e9),
            deviceSync: true,
            historyReadsPerUserPerSecond: 0.001,
            client: ClientPolicy(timeout: .seconds(5), retries: 3, backoff: .milliseconds(200), failover: true),
            // Push delivery to a device (notification service + wake-up + fetch start).
            syncDelay: Distribution(.exponential(mean: 200e6))
        )
    }

    /// The default message classes: text, photo, video, document (weights sum to 1).
    public static let defaultMessageMix: [MessageClass] = [
        // Median 100 B, p99 about 800 B; 1 B to 4 KiB (Telegram's text limit is 4096 characters).
        MessageClass(name: "text", weight: 0.85,
                     size: Distribution(.logNormal(mu: log(100), sigma: 0.9), min: 1, max: 4096),
                     compressible: true),
        // Client-compressed JPEG: median 200 KB, 10 KB to 10 MB.
        MessageClass(name: "photo", weight: 0.10,
                     size: Distribution(.logNormal(mu: log(200_000), sigma: 0.5), min: 10_000, max: 10_000_000),
                     compressible: false),
        // Median 4 MB, 100 KB to 64 MiB (capped so full-payload runs stay in memory).
        MessageClass(name: "video", weight: 0.01,
                     size: Distribution(.logNormal(mu: log(4_000_000), sigma: 0.8), min: 100_000, max: 67_108_864),
                     compressible: false),
        // PDFs, archives, office files: median 100 KB, 1 KB to 64 MiB.
        MessageClass(name: "document", weight: 0.04,
                     size: Distribution(.logNormal(mu: log(100_000), sigma: 1.2), min: 1_000, max: 67_108_864),
                     compressible: false),
    ]
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
