import SimCore
import Simulation

/// Turns a ``SimulationReport`` into the documented JSON schema (docs/REPORT.md).
public enum JSONReport {
    /// The report as JSON. Deterministic: no wall-clock figures (see ``performance(_:)``).
    public static func render(_ r: SimulationReport, version: String) -> String {
        value(r, version: version).serialized()
    }

    /// The run's wall-clock figures, for `performance.json` (not deterministic).
    public static func performance(_ p: PerformanceFigures) -> String {
        JSONValue.object([
            ("wall_seconds", .double(round3(p.wallSeconds))),
            ("events", .int(Int64(p.events))),
            ("events_per_second", .double(p.eventsPerSecond.rounded())),
            ("simulated_seconds", .double(p.simulatedSeconds)),
            ("simulated_to_wall", .double(p.simulatedToWall.rounded())),
            ("client_operations_per_second", .double(p.operationsPerSecond.rounded())),
        ]).serialized()
    }

    static func round3(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }
    static func round6(_ x: Double) -> Double { (x * 1_000_000).rounded() / 1_000_000 }

    static func latency(_ l: LatencySummary) -> JSONValue {
        .object([("count", .int(Int64(l.count))), ("mean_ms", .double(l.mean)), ("p50_ms", .double(l.p50)),
                 ("p90_ms", .double(l.p90)), ("p99_ms", .double(l.p99)), ("p999_ms", .double(l.p999)),
                 ("max_ms", .double(l.max))])
    }

    static func ops(_ o: OperationFigures) -> JSONValue {
        .object([("kind", .string(o.kind)), ("issued", .int(Int64(o.issued))), ("ok", .int(Int64(o.ok))),
                 ("failed", .int(Int64(o.failed))), ("unknown", .int(Int64(o.unknown))),
                 ("abandoned", .int(Int64(o.abandoned))), ("retries", .int(Int64(o.retries))),
                 ("availability", .double(round6(o.availability))), ("latency", latency(o.latency))])
    }

    /// The timeline as named columns and rows, the one definition that `report.json`,
    /// `timeline.csv` and the HTML charts share: a new ``TimelineSample`` field is one column
    /// here (and the HTML page charts it; see ``HTMLReport``'s timeline groups).
    public static func timelineTable(_ r: SimulationReport) -> (columns: [String], rows: [[Double]]) {
        let columns = ["time_s", "writes_ok", "writes_failed", "reads_ok", "reads_failed", "stale_reads",
                       "mean_latency_ms", "nodes_up"]
        let rows = r.timeline.map { t -> [Double] in
            [t.time.seconds, Double(t.writesOK), Double(t.writesFailed), Double(t.readsOK), Double(t.readsFailed),
             Double(t.staleReads), t.meanLatency, Double(t.nodesUp)]
        }
        return (columns, rows)
    }

    /// The report as an ordered JSON tree (what ``render(_:version:)`` serialises).
    public static func value(_ r: SimulationReport, version: String) -> JSONValue {
        let s = r.scenario
        return .object([
            ("schema_version", .int(Int64(SimulationReport.schemaVersion))),
            ("dcsim_version", .string(version)),
            ("scenario", .object([
                ("name", .string(s.name)), ("source", .string(s.source)), ("scenario_hash", .string(s.scenarioHash)),
                ("topology", .string(s.topology)), ("topology_hash", .string(s.topologyHash)),
                ("seed", .int(Int64(bitPattern: s.seed))), ("duration", .string(s.duration.description)),
                ("warmup", .string(s.warmup.description)), ("payload", .string(s.payload)),
                ("strategy", .string(s.strategy)), ("strategy_parameters", .string(s.strategySummary)),
                ("key_placement", .string(s.keyPlacement)),
                ("datacenters", .array(s.datacenters.map { .string($0) })), ("nodes", .int(Int64(s.nodeCount))),
            ])),
            ("verdict", .object([
                ("slos_passed", .bool(r.slosPassed)),
                ("slos", .array(r.slos.map { slo in
                    .object([("metric", .string(slo.metric)), ("comparison", .string(slo.comparison)),
                             ("threshold", .double(slo.threshold)), ("value", slo.value.map { .double(round6($0)) } ?? .null),
                             ("passed", .bool(slo.passed)), ("detail", .string(slo.detail))])
                })),
            ])),
            ("figures", .object(KeyFigures.all.map { ($0.name, .double(round6($0.read(r)))) })),
            ("workload", .object([
                ("users", .int(Int64(r.workload.users))), ("devices", .int(Int64(r.workload.devices))),
                ("messages", .int(Int64(r.workload.messages))), ("secret_messages", .int(Int64(r.workload.secretMessages))),
                ("logical_bytes", .int(Int64(r.workload.logicalBytes))),
                ("messages_by_class", .object(r.workload.messagesByClass.map { ($0.name, .int(Int64($0.count))) })),
            ])),
            ("operations", .array(r.operations.map(ops))),
            ("phases", .array(r.phases.map { p in
                .object([("name", .string(p.name)), ("start", .string(p.start.description)),
                         ("end", .string(p.end.description)), ("operations", .array(p.operations.map(ops)))])
            })),
            ("redundancy", .object([
                ("shards", .int(Int64(r.redundancy.shards))),
                ("acknowledged_writes", .int(Int64(r.redundancy.acknowledgedWrites))),
                ("lost_acknowledged_writes", .int(Int64(r.redundancy.lostAcknowledgedWrites))),
                ("under_replicated_at_end", .int(Int64(r.redundancy.underReplicatedAtEnd))),
                ("stored_bytes", .int(Int64(r.redundancy.storedBytes))),
                ("logical_bytes", .int(Int64(r.redundancy.logicalBytes))),
                ("storage_overhead", .double(round6(r.redundancy.storageOverhead))),
                ("copies_histogram", .array(r.redundancy.copiesHistogram.map { .int(Int64($0)) })),
                ("corruption_detected", .int(Int64(r.redundancy.corruptionDetected))),
            ])),
            ("consistency", .object([
                ("reads", .int(Int64(r.consistency.reads))), ("stale_reads", .int(Int64(r.consistency.staleReads))),
                ("stale_ratio", .double(round6(r.consistency.staleRatio))),
                ("stale_versions", .array(r.consistency.staleVersions.map { .int(Int64($0)) })),
                ("staleness", latency(r.consistency.staleness)),
            ])),
            ("network", .object([
                ("wan_bytes", .int(Int64(r.network.wanBytes))),
                ("messages_per_operation", .double(r.network.messagesPerOperation)),
                ("by_kind", .array(r.network.messagesByKind.map {
                    .object([("kind", .string($0.kind)), ("messages", .int(Int64($0.messages))), ("bytes", .int(Int64($0.bytes)))])
                })),
                ("links", .array(r.network.links.map { l in
                    .object([("from", .string(l.from)), ("to", .string(l.to)), ("messages", .int(Int64(l.messages))),
                             ("bytes", .int(Int64(l.bytes))), ("lost", .int(Int64(l.lost))), ("blocked", .int(Int64(l.blocked)))])
                })),
            ])),
            ("nodes", .array(r.nodes.map { n in
                .object([("name", .string(n.name)), ("datacenter", .string(n.datacenter)), ("served", .int(Int64(n.served))),
                         ("rejected", .int(Int64(n.rejected))), ("used_bytes", .int(n.usedBytes)),
                         ("wait", latency(n.wait)), ("response", latency(n.response))])
            })),
            ("timeline", {
                let t = timelineTable(r)
                return .object([("columns", .array(t.columns.map { .string($0) })),
                                ("rows", .array(t.rows.map { .array($0.map { .double($0) }) }))])
            }()),
            ("kernel", .object([("events", .int(Int64(r.kernel.events))),
                                ("max_pending_events", .int(Int64(r.kernel.maxPendingEvents))),
                                ("simulated_seconds", .double(r.kernel.simulatedSeconds))])),
        ])
    }
}
