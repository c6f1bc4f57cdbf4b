import SimConfig

/// Evaluates a scenario's SLOs against a finished report.
///
/// Metric names are the report's figures (see docs/REPORT.md). An unknown name is a
/// configuration error caught before the run by ``SLOEvaluator/unknownMetrics(_:)``.
public enum SLOEvaluator {
    /// The figures an SLO can name, with how to read each from a report.
    public static let metrics: [(name: String, summary: String, read: @Sendable (SimulationReport) -> Double)] = [
        ("lost_acked_writes", "acknowledged writes with no surviving copy", { Double($0.redundancy.lostAcknowledgedWrites) }),
        ("availability", "share of finished client operations that succeeded", { r in
            let ok = r.operations.reduce(0) { $0 + $1.ok }
            let done = r.operations.reduce(0) { $0 + $1.ok + $1.failed + $1.unknown }
            return done == 0 ? 1 : Double(ok) / Double(done) }),
        ("write_availability", "share of finished writes that succeeded", { r in r.operations.first { $0.kind == "write" }?.availability ?? 1 }),
        ("read_availability", "share of finished reads that succeeded", { r in r.operations.first { $0.kind == "read" }?.availability ?? 1 }),
        ("p50_write_latency_ms", "median write latency", { r in r.operations.first { $0.kind == "write" }?.latency.p50 ?? 0 }),
        ("p99_write_latency_ms", "99th percentile write latency", { r in r.operations.first { $0.kind == "write" }?.latency.p99 ?? 0 }),
        ("p999_write_latency_ms", "99.9th percentile write latency", { r in r.operations.first { $0.kind == "write" }?.latency.p999 ?? 0 }),
        ("p50_read_latency_ms", "median read latency", { r in r.operations.first { $0.kind == "read" }?.latency.p50 ?? 0 }),
        ("p99_read_latency_ms", "99th percentile read latency", { r in r.operations.first { $0.kind == "read" }?.latency.p99 ?? 0 }),
        ("p999_read_latency_ms", "99.9th percentile read latency", { r in r.operations.first { $0.kind == "read" }?.latency.p999 ?? 0 }),
        ("stale_read_ratio", "share of reads older than the newest acknowledged version", { $0.consistency.staleRatio }),
        ("under_replicated_at_end", "shards below their placement's copy count at the end", { Double($0.redundancy.underReplicatedAtEnd) }),
        ("storage_overhead", "stored bytes over logical bytes", { $0.redundancy.storageOverhead }),
        ("resurrected_deletes", "acknowledged-deleted messages that became readable again", { Double($0.consistency.deletes.resurrected) }),
        ("stale_reads_after_delete", "reads after an acknowledged delete that still returned the message", { Double($0.consistency.deletes.staleReadsAfterDelete) }),
        ("seizure_exposure", "largest share of messages an adversary could decrypt in any seizure", { r in
            r.security.seizures.map(\.exposedShare).max() ?? 0 }),
        ("sync_lag_p99_ms", "99th percentile device sync lag", { $0.consistency.syncLag.p99 }),
        ("ryw_violations", "reads by a user's device older than that user's own acknowledged write", {
            Double($0.consistency.sessions.readYourWritesViolations) }),
        ("monotonic_read_violations", "reads by a user's device older than an earlier completed read by that user", {
            Double($0.consistency.sessions.monotonicViolations) }),
        ("loss_events", "times an acknowledged shard became unrecoverable (durability)", { Double($0.redundancy.lossEvents) }),
        ("diverged_keys", "keys whose replicas still disagree after the final heal and the quiet period", {
            Double($0.consistency.divergence?.divergedKeys ?? 0) }),
        ("time_weighted_read_availability", "share of simulated time shard groups were readable (no traffic needed)", {
            $0.availability.timeWeightedRead }),
        ("time_weighted_write_availability", "share of simulated time shard groups were writable", {
            $0.availability.timeWeightedWrite }),
    ]

    /// SLOs naming a metric dcsim does not report, as (slo, suggestion) pairs.
    public static func unknownMetrics(_ slos: [SLOSpec]) -> [SLOSpec] {
        slos.filter { slo in !metrics.contains { $0.name == slo.metric } }
    }

    static func evaluate(_ slos: [SLOSpec], report: SimulationReport) -> [SLOResult] {
        slos.map { slo in
            guard let m = metrics.first(where: { $0.name == slo.metric }) else {
                return SLOResult(metric: slo.metric, comparison: slo.comparison.rawValue, threshold: slo.threshold,
                                 value: nil, passed: false, detail: "unknown metric")
            }
            let v = m.read(report)
            let ok = slo.comparison == .atMost ? v <= slo.threshold : v >= slo.threshold
            return SLOResult(metric: slo.metric, comparison: slo.comparison.rawValue, threshold: slo.threshold,
                             value: v, passed: ok,
                             detail: ok ? "" : "\(slo.metric) = \(v), required \(slo.comparison.rawValue) \(slo.threshold)")
        }
    }
}
