import Simulation

/// A concise Markdown summary for a CI step summary (`$GITHUB_STEP_SUMMARY`) or a pull
/// request comment: the SLO verdicts first, then the key figures and the operations table.
///
/// GitHub-flavoured Markdown (pipe tables); deterministic for the same report and context.
public enum MarkdownReport {
    public static func render(_ r: SimulationReport, context: ReportContext) -> String {
        let s = r.scenario
        var out = "### dcsim: \(Format.md(s.name)) · \(Format.md(s.strategy)) · seed \(s.seed) — \(verdict(r.slos))\n\n"
        out += "topology `\(s.topology)` (\(s.datacenters.count) DCs, \(s.nodeCount) nodes) · \(s.duration) simulated (warm-up \(s.warmup)) · payload \(s.payload) · keys \(s.keyPlacement) · dcsim \(Format.md(context.version))\n\n"
        out += sloTable(r.slos)

        out += "\n| figure | value |\n|---|---:|\n"
        for f in KeyFigures.all {
            out += "| \(f.name) | \(f.format(f.read(r))) |\n"
        }

        out += "\n| operation | issued | ok | failed | unknown | availability | p50 ms | p99 ms | p99.9 ms | max ms |\n"
        out += "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        for o in r.operations {
            let l = o.latency
            out += "| \(o.kind) | \(o.issued) | \(o.ok) | \(o.failed) | \(o.unknown) | \(Format.percent(o.availability)) | \(Format.num(l.p50)) | \(Format.num(l.p99)) | \(Format.num(l.p999)) | \(Format.num(l.max)) |\n"
        }
        if r.byRegion.count > 1 {
            out += "\n| region | operation | issued | ok | offered/s | goodput/s | p50 ms | p99 ms | p99.9 ms |\n"
            out += "|---|---|---:|---:|---:|---:|---:|---:|---:|\n"
            for g in r.byRegion {
                for o in g.operations {
                    let l = o.latency
                    out += "| \(Format.md(g.region)) | \(o.kind) | \(o.issued) | \(o.ok) | \(Format.num(o.offeredPerSecond)) | \(Format.num(o.goodputPerSecond)) | \(Format.num(l.p50)) | \(Format.num(l.p99)) | \(Format.num(l.p999)) |\n"
                }
            }
        }
        let rd = r.redundancy
        if let first = rd.firstLoss {
            out += "\nFirst loss at \(first): \(rd.lossEvents) acknowledged shards became unrecoverable\(rd.stoppedAtFirstLoss ? " (the run stopped there)" : "")\n"
        }
        if let d = r.consistency.divergence, d.divergedKeys > 0 {
            out += "\nDivergence at \(d.time): \(d.divergedKeys) of \(d.keysCompared) keys still disagree\(d.quietPeriodElapsed ? "" : " (quiet period not fully elapsed)")\n"
        }
        let faults = context.faultWindows(of: r)
        if !faults.isEmpty {
            out += "\nFaults: " + faults.map { f in
                "\(Format.md(f.label)) at \(f.start)" + (f.end.map { "–\($0)" } ?? " (permanent)")
            }.joined(separator: "; ") + "\n"
        }
        if let replay = context.replay {
            out += "\nReproduce: `\(replay)`\n"
        }
        return out
    }

    /// `✅ all 3 SLOs met`, `❌ 1 of 3 SLOs failed`, or `no SLOs set`.
    static func verdict(_ slos: [SLOResult]) -> String {
        if slos.isEmpty { return "no SLOs set" }
        let failed = slos.filter { !$0.passed }.count
        return failed == 0 ? "✅ all \(slos.count) SLOs met" : "❌ \(failed) of \(slos.count) SLOs failed"
    }

    /// The SLO table (empty string when no SLO is set).
    static func sloTable(_ slos: [SLOResult]) -> String {
        guard !slos.isEmpty else { return "" }
        var out = "| SLO | value | required | verdict |\n|---|---:|---|---|\n"
        for slo in slos {
            let unit = KeyFigures.named(slo.metric)
            let value = unit.map { $0.format(slo.value) } ?? (slo.value.map(Format.num) ?? "n/a")
            let bound = unit.map { $0.format(slo.threshold) } ?? Format.num(slo.threshold)
            out += "| \(Format.md(slo.metric)) | \(value) | \(Format.md(slo.comparison)) \(bound) | \(slo.passed ? "✅ pass" : "❌ **FAIL**") |\n"
        }
        return out
    }
}
