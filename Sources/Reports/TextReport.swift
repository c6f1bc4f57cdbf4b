import SimCore
import Simulation

/// The terminal summary: aligned tables, colour only when asked (the CLI asks on a TTY).
public enum TextReport {
    public static func render(_ r: SimulationReport, performance: PerformanceFigures?, color: Bool) -> String {
        func bold(_ s: String) -> String { color ? "\u{1B}[1m\(s)\u{1B}[0m" : s }
        func green(_ s: String) -> String { color ? "\u{1B}[32m\(s)\u{1B}[0m" : s }
        func red(_ s: String) -> String { color ? "\u{1B}[31m\(s)\u{1B}[0m" : s }
        let s = r.scenario
        var out = ""
        out += bold("dcsim — \(s.name)") + "\n"
        out += "topology \(s.topology) (\(s.datacenters.count) DCs, \(s.nodeCount) nodes) · strategy \(s.strategy) · seed \(s.seed) · \(s.duration) simulated (warm-up \(s.warmup)) · payload \(s.payload)\n"
        out += "  \(s.strategySummary) · keys: \(s.keyPlacement)\n\n"

        // The verdict first: it decides the exit code, and CI logs are read top down.
        if r.slos.isEmpty {
            out += bold("SLOs") + ": none set (exit code 0)\n\n"
        } else {
            let failed = r.slos.filter { !$0.passed }.count
            out += bold("SLOs") + ": " + (failed == 0 ? green("all \(r.slos.count) met") : red("\(failed) of \(r.slos.count) failed")) + "\n"
            let width = r.slos.map(\.metric.count).max() ?? 0
            for slo in r.slos {
                let figure = KeyFigures.named(slo.metric)
                let v = figure.map { $0.format(slo.value) } ?? (slo.value.map { num($0) } ?? "n/a")
                let bound = figure?.format(slo.threshold) ?? num(slo.threshold)
                out += "  " + (slo.passed ? green("PASS") : red("FAIL")) + "  " + slo.metric.padding(width)
                    + "  \(v) (required \(slo.comparison) \(bound))\n"
            }
            out += "\n"
        }

        out += bold("Workload") + "\n"
        let classes = r.workload.messagesByClass.map { "\($0.name) \($0.count)" }.joined(separator: ", ")
        out += "  \(r.workload.users) users, \(r.workload.devices) devices, \(r.workload.chats) chats; \(r.workload.messages) cloud messages (\(classes)); \(r.workload.secretMessages) secret (relayed, not stored)\n"
        out += "  \(r.workload.edits) edits, \(r.workload.deletes) deletes, \(r.workload.expiries) self-destructs; \(r.workload.historyReads) history reads; device sync: \(r.workload.syncReads) reads, \(r.workload.syncGaps) gaps caught up with \(r.workload.catchUpReads) reads\n\n"

        out += bold("Operations (after warm-up)") + "\n"
        var rows = [["op", "issued", "ok", "failed", "unknown", "avail", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms"]]
        for o in r.operations {
            rows.append([o.kind, "\(o.issued)", "\(o.ok)", "\(o.failed)", "\(o.unknown)", pct(o.availability),
                         num(o.latency.p50), num(o.latency.p90), num(o.latency.p99), num(o.latency.p999), num(o.latency.max)])
        }
        out += table(rows) + "\n"
        if r.byRegion.count > 1 {
            out += bold("By client region") + "\n"
            var regionRows = [["region", "op", "issued", "ok", "offered/s", "goodput/s", "p50 ms", "p99 ms", "p99.9 ms"]]
            for g in r.byRegion {
                for o in g.operations {
                    regionRows.append([g.region, o.kind, "\(o.issued)", "\(o.ok)", num(o.offeredPerSecond), num(o.goodputPerSecond),
                                       num(o.latency.p50), num(o.latency.p99), num(o.latency.p999)])
                }
            }
            out += table(regionRows) + "\n"
        }

        out += bold("Redundancy") + "\n"
        let rd = r.redundancy
        out += "  shards \(rd.shards) · acknowledged writes \(rd.acknowledgedWrites) · lost acknowledged writes \(rd.lostAcknowledgedWrites) (\(pct(rd.lostAcknowledgedShare)) of acknowledged shards)\n"
        out += "  under-replicated at end \(rd.underReplicatedAtEnd) · storage overhead \(num(rd.storageOverhead))× (\(bytes(rd.storedBytes)) stored / \(bytes(rd.logicalBytes)) logical)\n"
        out += "  min margin \(rd.minMargin.map(String.init) ?? "–") · under-replicated \(num(rd.underReplicatedShardSeconds)) shard·s · at risk (peak) \(rd.atRiskPeak)"
        if let worst = rd.recoveryTimes.max() { out += " · back to full redundancy within \(worst)" }
        out += "\n"
        if rd.disksLost + rd.copiesRotted + rd.diskErrors + rd.unflushedWritesLost + rd.keyUnavailable + rd.corruptionDetected > 0 {
            out += "  disks lost \(rd.disksLost) · copies rotted \(rd.copiesRotted) (detected on read \(rd.corruptionDetected)) · unflushed writes lost \(rd.unflushedWritesLost) · disk errors \(rd.diskErrors) · key unreachable \(rd.keyUnavailable)\n"
        }
        if let first = rd.firstLoss {
            out += "  first loss at \(first) (\(rd.lossEvents) shard\(rd.lossEvents == 1 ? "" : "s") became unrecoverable)"
            out += rd.stoppedAtFirstLoss ? " · run stopped there (stop_at_first_loss)\n" : "\n"
        }
        if rd.repairMessages + rd.reReplicatedUnits > 0 {
            out += "  repair traffic \(rd.repairMessages) messages, \(bytes(rd.repairBytes)) · re-replicated units \(rd.reReplicatedUnits)\n"
        }
        let hurt = rd.byDatacenter.filter { $0.lost + $0.underReplicated > 0 }
        if !hurt.isEmpty {
            out += "  by home DC: " + hurt.map { "\($0.datacenter) lost \($0.lost), under-replicated \($0.underReplicated)" }.joined(separator: " · ") + "\n"
        }
        out += "  availability over time: readable \(pct(r.availability.timeWeightedRead)), writable \(pct(r.availability.timeWeightedWrite))\n\n"

        if !r.faults.isEmpty {
            out += bold("Faults applied (\(r.faults.count))") + "\n"
            for f in r.faults.prefix(40) {
                let until = f.end.map { "until \($0)" } ?? "to the end of the run"
                out += "  \(f.start) \(until) · \(f.kind) \(f.target)\(f.detail.isEmpty ? "" : " (\(f.detail))")\(f.origin == "scripted" ? "" : " [\(f.origin)]")\n"
            }
            if r.faults.count > 40 { out += "  … and \(r.faults.count - 40) more (all in report.json)\n" }
            out += "\n"
        }
        for z in r.security.seizures {
            out += bold("Seizure of \(z.datacenters.joined(separator: ", ")) at \(z.time)") + "\n"
            out += "  \(z.storedInSeized) of \(z.messages) messages on the seized disks; plaintext recoverable: \(z.exposed) (\(pct(z.exposedShare))); secret chats exposed: \(z.secretChatExposed)\n\n"
        }

        out += bold("Consistency") + "\n"
        out += "  reads \(r.consistency.reads) · stale \(r.consistency.staleReads) (\(pct(r.consistency.staleRatio)))"
        if r.consistency.staleReads > 0 { out += " · staleness p50 \(num(r.consistency.staleness.p50)) ms, p99 \(num(r.consistency.staleness.p99)) ms" }
        out += "\n"
        if let t = r.consistency.visibilityT99 { out += "  visibility: 99% of reads see a write \(t) after its ack" }
        else if !r.consistency.visibility.isEmpty { out += "  visibility: reads do not reach 99% fresh within 60 s of an ack" }
        if let t = r.consistency.visibilityT999 { out += ", 99.9% after \(t)" }
        if !r.consistency.visibility.isEmpty { out += "\n" }
        let sessions = r.consistency.sessions
        if sessions.readsChecked > 0 {
            out += "  sessions: read-your-writes violations \(sessions.readYourWritesViolations) of \(sessions.readYourWritesChecked) reads after the user's own write · monotonic-read violations \(sessions.monotonicViolations) of \(sessions.monotonicChecked) reads after an earlier read\n"
        }
        if r.consistency.syncLag.count > 0 {
            out += "  device sync lag p50 \(num(r.consistency.syncLag.p50)) ms, p99 \(num(r.consistency.syncLag.p99)) ms\n"
        }
        if let d = r.consistency.divergence, d.keysCompared > 0 || d.healedAt != nil {
            out += "  divergence at \(d.time): \(d.divergedKeys) of \(d.keysCompared) keys still disagree (\(d.missingOnUpNode) missing on an up node, \(d.stampMismatch) with different versions)"
            out += d.quietPeriodElapsed ? "" : " · quiet period of \(d.quietPeriod) not fully elapsed"
            out += "\n"
        }
        let d = r.consistency.deletes
        if d.acknowledged > 0 {
            out += "  deletes acknowledged \(d.acknowledged) · reads after a delete still returning the message \(d.staleReadsAfterDelete) of \(d.readsAfterDelete) · resurrected \(d.resurrected)\n"
        }
        if let l = r.consistency.linearizability {
            out += "  linearizability (\(l.keys) of \(l.keysRecorded) keys checked): \(l.linearizable) linearizable, \(l.notLinearizable) not, \(l.unknown) undecided\n"
            if let c = l.counterexamples.first { out += "    first counterexample:\n" + c.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n") + "\n" }
        }
        out += "\n"

        out += bold("Network") + "\n"
        out += "  WAN \(bytes(r.network.wanBytes)) · \(num(r.network.messagesPerOperation)) messages per client operation\n\n"

        if let p = performance {
            out += bold("Simulator speed (wall clock; not part of the deterministic report)") + "\n"
            out += "  \(num(p.wallSeconds)) s wall · \(p.events) events · \(Int(p.eventsPerSecond)) events/s · \(Int(p.simulatedToWall))× real time\n"
        }
        return out
    }

    static func num(_ x: Double) -> String {
        if x == x.rounded() && abs(x) < 1e12 { return String(Int64(x)) }
        let digits = abs(x) >= 100 ? 1 : abs(x) >= 1 ? 2 : 3
        var s = String(format3(x, digits))
        while s.contains(".") && (s.hasSuffix("0") || s.hasSuffix(".")) { s.removeLast() }
        return s
    }

    static func format3(_ x: Double, _ digits: Int) -> String {
        var p = 1.0
        for _ in 0..<digits { p *= 10 }
        let v = (x * p).rounded() / p
        return "\(v)"
    }

    static func pct(_ x: Double) -> String { num(x * 100) + "%" }

    static func bytes(_ b: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(b)
        var i = 0
        while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        return num(v) + " " + units[i]
    }

    static func table(_ rows: [[String]]) -> String {
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            "  " + row.enumerated().map { i, cell in
                i == 0 ? cell.padding(widths[i]) : cell.leftPadding(widths[i])
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}

extension String {
    func padding(_ n: Int) -> String { self + String(repeating: " ", count: max(0, n - count)) }
    func leftPadding(_ n: Int) -> String { String(repeating: " ", count: max(0, n - count)) + self }
}
