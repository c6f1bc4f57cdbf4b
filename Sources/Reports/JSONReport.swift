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
                 ("availability", .double(round6(o.availability))),
                 ("offered_per_s", .double(round6(o.offeredPerSecond))), ("goodput_per_s", .double(round6(o.goodputPerSecond))),
                 ("latency", latency(o.latency))])
    }

    static func sessionsJSON(_ r: SimulationReport) -> JSONValue {
        let s = r.consistency.sessions
        func n(_ v: UInt64) -> JSONValue { .int(Int64(v)) }
        return .object([
            ("reads_checked", n(s.readsChecked)),
            ("ryw_checked", n(s.readYourWritesChecked)), ("ryw_violations", n(s.readYourWritesViolations)),
            ("ryw_share", .double(round6(s.readYourWritesShare))),
            ("monotonic_checked", n(s.monotonicChecked)), ("monotonic_violations", n(s.monotonicViolations)),
            ("monotonic_share", .double(round6(s.monotonicShare))),
            ("by_origin", .array(s.byOrigin.map { o in
                .object([("origin", .string(o.origin)), ("reads_checked", n(o.readsChecked)),
                         ("ryw_checked", n(o.readYourWritesChecked)), ("ryw_violations", n(o.readYourWritesViolations)),
                         ("monotonic_checked", n(o.monotonicChecked)), ("monotonic_violations", n(o.monotonicViolations))])
            })),
            ("pairs_peak", n(s.pairsPeak)), ("pairs_max", n(s.pairsMax)), ("pairs_evicted", n(s.pairsEvicted)),
        ])
    }

    static func byRegionJSON(_ r: SimulationReport) -> JSONValue {
        .array(r.byRegion.map { g in
            .object([("region", .string(g.region)), ("operations", .array(g.operations.map(ops)))])
        })
    }

    /// The timeline as named columns and rows, the one definition that `report.json`,
    /// `timeline.csv` and the HTML charts share: a new ``TimelineSample`` field is one column
    /// here (and the HTML page charts it; see ``HTMLReport``'s timeline groups).
    public static func timelineTable(_ r: SimulationReport) -> (columns: [String], rows: [[Double]]) {
        let columns = ["time_s", "writes_ok", "writes_failed", "reads_ok", "reads_failed", "stale_reads",
                       "mean_latency_ms", "nodes_up", "min_margin", "under_replicated", "at_risk"]
        let rows = r.timeline.map { t -> [Double] in
            [t.time.seconds, Double(t.writesOK), Double(t.writesFailed), Double(t.readsOK), Double(t.readsFailed),
             Double(t.staleReads), t.meanLatency, Double(t.nodesUp), t.minMargin.map(Double.init) ?? .nan,
             Double(t.underReplicated), Double(t.atRisk)]
        }
        return (columns, rows)
    }

    static func redundancyJSON(_ r: SimulationReport) -> JSONValue {
        let fields: [(String, JSONValue)] = [
                ("shards", .int(Int64(r.redundancy.shards))),
                ("acknowledged_writes", .int(Int64(r.redundancy.acknowledgedWrites))),
                ("lost_acknowledged_writes", .int(Int64(r.redundancy.lostAcknowledgedWrites))),
                ("lost_acknowledged_share", .double(round6(r.redundancy.lostAcknowledgedShare))),
                ("under_replicated_at_end", .int(Int64(r.redundancy.underReplicatedAtEnd))),
                ("stored_bytes", .int(Int64(r.redundancy.storedBytes))),
                ("logical_bytes", .int(Int64(r.redundancy.logicalBytes))),
                ("storage_overhead", .double(round6(r.redundancy.storageOverhead))),
                ("copies_histogram", .array(r.redundancy.copiesHistogram.map { .int(Int64($0)) })),
                ("corruption_detected", .int(Int64(r.redundancy.corruptionDetected))),
                ("min_margin", r.redundancy.minMargin.map { .int(Int64($0)) } ?? .null),
                ("under_replicated_shard_seconds", .double(r.redundancy.underReplicatedShardSeconds)),
                ("at_risk_peak", .int(Int64(r.redundancy.atRiskPeak))),
                ("recovery_times", .array(r.redundancy.recoveryTimes.map { .string($0.description) })),
                ("disks_lost", .int(Int64(r.redundancy.disksLost))),
                ("copies_rotted", .int(Int64(r.redundancy.copiesRotted))),
                ("unflushed_writes_lost", .int(Int64(r.redundancy.unflushedWritesLost))),
                ("disk_errors", .int(Int64(r.redundancy.diskErrors))),
                ("key_unavailable", .int(Int64(r.redundancy.keyUnavailable))),
                ("first_loss", r.redundancy.firstLoss.map { .string($0.description) } ?? .null),
                ("loss_events", .int(Int64(r.redundancy.lossEvents))),
                ("stopped_at_first_loss", .bool(r.redundancy.stoppedAtFirstLoss)),
                ("repair_messages", .int(Int64(r.redundancy.repairMessages))),
                ("repair_bytes", .int(Int64(r.redundancy.repairBytes))),
                ("re_replicated_units", .int(Int64(r.redundancy.reReplicatedUnits))),
                ("by_datacenter", .array(r.redundancy.byDatacenter.map { d in
                    .object([("datacenter", .string(d.datacenter)), ("shards", .int(Int64(d.shards))),
                             ("acknowledged", .int(Int64(d.acknowledged))), ("lost", .int(Int64(d.lost))),
                             ("under_replicated", .int(Int64(d.underReplicated))), ("at_risk", .int(Int64(d.atRisk)))])
                })),
        ]
        return .object(fields)
    }

    static func consistencyJSON(_ r: SimulationReport) -> JSONValue {
        let fields: [(String, JSONValue)] = [
                ("reads", .int(Int64(r.consistency.reads))), ("stale_reads", .int(Int64(r.consistency.staleReads))),
                ("stale_ratio", .double(round6(r.consistency.staleRatio))),
                ("stale_versions", .array(r.consistency.staleVersions.map { .int(Int64($0)) })),
                ("staleness", latency(r.consistency.staleness)),
                ("visibility", visibilityJSON(r)),
                ("visibility_t99_ms", r.consistency.visibilityT99.map { .double($0.milliseconds) } ?? .null),
                ("visibility_t999_ms", r.consistency.visibilityT999.map { .double($0.milliseconds) } ?? .null),
                ("linearizability", linearizabilityJSON(r)),
                ("sync_lag", latency(r.consistency.syncLag)),
                ("divergence", divergenceJSON(r)),
                ("deletes", deletesJSON(r)),
                ("sessions", sessionsJSON(r)),
        ]
        return .object(fields)
    }

    static func workloadJSON(_ r: SimulationReport) -> JSONValue {
        let w = r.workload
        func n(_ v: UInt64) -> JSONValue { .int(Int64(v)) }
        let fields: [(String, JSONValue)] = [
            ("users", .int(Int64(w.users))), ("devices", .int(Int64(w.devices))),
            ("devices_by_kind", .object(w.devicesByKind.map { ($0.name, .int(Int64($0.count))) })),
            ("chats", .int(Int64(w.chats))), ("secret_chats", .int(Int64(w.secretChats))),
            ("messages", n(w.messages)), ("secret_messages", n(w.secretMessages)),
            ("logical_bytes", n(w.logicalBytes)),
            ("messages_by_class", .object(w.messagesByClass.map { ($0.name, n($0.count)) })),
            ("edits", n(w.edits)), ("deletes", n(w.deletes)), ("expiries", n(w.expiries)),
            ("mutations_dropped", n(w.mutationsDropped)),
            ("history_reads", n(w.historyReads)), ("history_reads_empty", n(w.historyReadsEmpty)),
            ("sync", .object([("pushes", n(w.pushes)), ("reads", n(w.syncReads)), ("gaps", n(w.syncGaps)),
                              ("catch_up_reads", n(w.catchUpReads))])),
        ]
        return .object(fields)
    }

    static func deletesJSON(_ r: SimulationReport) -> JSONValue {
        let d = r.consistency.deletes
        func n(_ v: UInt64) -> JSONValue { .int(Int64(v)) }
        return .object([("acknowledged", n(d.acknowledged)), ("reads_after_delete", n(d.readsAfterDelete)),
                        ("stale_reads_after_delete", n(d.staleReadsAfterDelete)),
                        ("resurrected", n(d.resurrected)), ("resurrected_during_run", n(d.resurrectedDuringRun)),
                        ("resurrected_at_end", n(d.resurrectedAtEnd))])
    }

    static func divergenceJSON(_ r: SimulationReport) -> JSONValue {
        guard let d = r.consistency.divergence else { return .null }
        return .object([
            ("time", .string(d.time.description)), ("healed_at", d.healedAt.map { .string($0.description) } ?? .null),
            ("faults_active", .int(Int64(d.faultsActive))), ("quiet_period", .string(d.quietPeriod.description)),
            ("quiet_period_elapsed", .bool(d.quietPeriodElapsed)), ("keys_compared", .int(Int64(d.keysCompared))),
            ("diverged_keys", .int(Int64(d.divergedKeys))), ("diverged_share", .double(round6(d.divergedShare))),
            ("missing_on_up_node", .int(Int64(d.missingOnUpNode))), ("stamp_mismatch", .int(Int64(d.stampMismatch))),
            ("nodes_down", .int(Int64(d.nodesDown))),
        ])
    }

    static func availabilityJSON(_ r: SimulationReport) -> JSONValue {
        .object([("time_weighted_read", .double(r.availability.timeWeightedRead)),
                 ("time_weighted_write", .double(r.availability.timeWeightedWrite)),
                 ("probe_groups", .int(Int64(r.availability.probeGroups)))])
    }

    static func visibilityJSON(_ r: SimulationReport) -> JSONValue {
        .array(r.consistency.visibility.map { v -> JSONValue in
            .object([("t_ms", .double(v.t.milliseconds)), ("reads", .int(Int64(v.reads))), ("fresh", .double(v.fresh))])
        })
    }

    static func linearizabilityJSON(_ r: SimulationReport) -> JSONValue {
        guard let l = r.consistency.linearizability else { return .null }
        let fields: [(String, JSONValue)] = [
            ("keys_checked", .int(Int64(l.keys))), ("keys_recorded", .int(Int64(l.keysRecorded))),
            ("operations", .int(Int64(l.operations))), ("linearizable", .int(Int64(l.linearizable))),
            ("not_linearizable", .int(Int64(l.notLinearizable))), ("unknown", .int(Int64(l.unknown))),
            ("truncated", .bool(l.truncated)), ("budget_per_key", .int(Int64(l.budgetPerKey))),
            ("counterexamples", .array(l.counterexamples.map { .string($0) })),
        ]
        return .object(fields)
    }

    static func securityJSON(_ r: SimulationReport) -> JSONValue {
        let seizures: [JSONValue] = r.security.seizures.map { z in
            let classes: [JSONValue] = z.byClass.map { c in
                .object([("class", .string(c.name)), ("stored", .int(Int64(c.stored))), ("exposed", .int(Int64(c.exposed)))])
            }
            let fields: [(String, JSONValue)] = [
                ("time", .string(z.time.description)), ("datacenters", .array(z.datacenters.map { .string($0) })),
                ("messages", .int(Int64(z.messages))), ("stored_in_seized", .int(Int64(z.storedInSeized))),
                ("exposed", .int(Int64(z.exposed))), ("exposed_share", .double(round6(z.exposedShare))),
                ("by_class", .array(classes)),
                ("secret_chat_messages", .int(Int64(z.secretChatMessages))),
                ("secret_chat_exposed", .int(Int64(z.secretChatExposed))),
            ]
            return .object(fields)
        }
        return .object([("max_exposed_share", .double(round6(r.security.maxExposedShare))), ("seizures", .array(seizures))])
    }

    static func faultsJSON(_ r: SimulationReport) -> JSONValue {
        .array(r.faults.map { f -> JSONValue in
            let fields: [(String, JSONValue)] = [
                ("kind", .string(f.kind)), ("target", .string(f.target)), ("start", .string(f.start.description)),
                ("end", f.end.map { .string($0.description) } ?? .null), ("origin", .string(f.origin)),
                ("detail", .string(f.detail)),
            ]
            return .object(fields)
        })
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
            ("workload", workloadJSON(r)),
            ("operations", .array(r.operations.map(ops))),
            ("phases", .array(r.phases.map { p in
                .object([("name", .string(p.name)), ("start", .string(p.start.description)),
                         ("end", .string(p.end.description)), ("operations", .array(p.operations.map(ops)))])
            })),
            ("by_region", byRegionJSON(r)),
            ("redundancy", redundancyJSON(r)),
            ("availability", availabilityJSON(r)),
            ("consistency", consistencyJSON(r)),
            ("security", securityJSON(r)),
            ("faults", faultsJSON(r)),
            ("network", .object([
                ("wan_bytes", .int(Int64(r.network.wanBytes))),
                ("messages_per_operation", .double(r.network.messagesPerOperation)),
                ("by_kind", .array(r.network.messagesByKind.map {
                    .object([("kind", .string($0.kind)), ("messages", .int(Int64($0.messages))), ("bytes", .int(Int64($0.bytes)))])
                })),
                ("links", .array(r.network.links.map { l in
                    .object([("from", .string(l.from)), ("to", .string(l.to)), ("messages", .int(Int64(l.messages))),
                             ("bytes", .int(Int64(l.bytes))), ("lost", .int(Int64(l.lost))), ("blocked", .int(Int64(l.blocked))),
                             ("duplicated", .int(Int64(l.duplicated))), ("reordered", .int(Int64(l.reordered)))])
                })),
            ])),
            ("nodes", .array(r.nodes.map { n in
                .object([("name", .string(n.name)), ("datacenter", .string(n.datacenter)), ("served", .int(Int64(n.served))),
                         ("rejected", .int(Int64(n.rejected))), ("max_waiting", .int(Int64(n.maxWaiting))),
                         ("used_bytes", .int(n.usedBytes)),
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
