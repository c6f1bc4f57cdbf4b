import SimCore
import Simulation

/// `report.html`: one self-contained page (inline CSS and SVG, no scripts, no network
/// fetches) with the verdict, key figures, timelines with fault windows shaded, latency
/// percentiles per operation, phases, per-DC figures and the link traffic matrix.
///
/// The page is XHTML-compatible (every element closed, text escaped), so it parses as XML;
/// the tests check that, and `Scripts/render-html.sh` screenshots it in headless Chromium.
public enum HTMLReport {
    /// A group of timeline columns drawn on one chart.
    struct TimelineGroup {
        var title: String
        var unit: String
        var columns: [String]
    }

    /// Timeline columns drawn together. A column of ``JSONReport/timelineTable(_:)`` that no
    /// group names gets a chart of its own, so a new timeline field is charted without a
    /// change here; naming it in a group only decides its title and neighbours.
    static let timelineGroups = [
        TimelineGroup(title: "Client operations per interval", unit: "operations",
                      columns: ["writes_ok", "writes_failed", "reads_ok", "reads_failed", "stale_reads"]),
        TimelineGroup(title: "Mean latency of operations completed in the interval", unit: "ms",
                      columns: ["mean_latency_ms"]),
        TimelineGroup(title: "Nodes up", unit: "nodes", columns: ["nodes_up"]),
        TimelineGroup(title: "Redundancy margin (live copies above the minimum needed)", unit: "copies",
                      columns: ["min_margin", "mean_margin"]),
        TimelineGroup(title: "Shards below their placement's copy count, and at risk (one failure from unreadable)",
                      unit: "shards", columns: ["under_replicated", "at_risk"]),
    ]

    public static func render(_ r: SimulationReport, context given: ReportContext) -> String {
        let s = r.scenario
        var context = given
        context.faults = context.faultWindows(of: r)
        var body = header(r, context: context)
        body += section("SLOs", sloTable(r.slos))
        body += section("Key figures", figureTable(r))
        body += section("Timelines", timelines(r, context: context))
        body += section("Latency percentiles per operation", latencyBars(r))
        if let curve = visibilityCurve(r) { body += section("Visibility after acknowledgement", curve) }
        body += section("Phases", phaseTable(r))
        body += section("Datacenters", datacenterTable(r))
        body += section("Durability and divergence", durabilityTable(r))
        body += section("Link traffic", linkMatrix(r))
        body += footer(context: context)
        return page(title: "dcsim — \(s.name) · \(s.strategy) · seed \(s.seed)", body: body)
    }

    // MARK: Page

    static func page(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html xmlns="http://www.w3.org/1999/xhtml" lang="en">
        <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title>\(x(title))</title>
        <style>
        \(css)
        </style>
        </head>
        <body>
        \(body)</body>
        </html>

        """
    }

    static let css = """
        body { font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1b1f24; margin: 24px auto; max-width: 1100px; padding: 0 16px; }
        h1 { font-size: 22px; margin: 0 0 4px; }
        h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
        .sub { color: #57606a; margin: 2px 0; }
        .verdict { display: inline-block; padding: 3px 10px; border-radius: 12px; font-weight: 600; margin: 8px 0; }
        .pass { background: #dafbe1; color: #116329; }
        .fail { background: #ffebe9; color: #a40e26; }
        .none { background: #eaeef2; color: #57606a; }
        table { border-collapse: collapse; margin: 6px 0 10px; }
        th, td { border: 1px solid #d0d7de; padding: 3px 8px; text-align: right; }
        th { background: #f6f8fa; }
        td.l, th.l { text-align: left; }
        td.best { font-weight: 700; background: #dafbe1; }
        svg.chart { display: block; margin: 8px 0; border: 1px solid #eaeef2; }
        svg .ct { font-size: 13px; font-weight: 600; fill: #1b1f24; }
        svg .yl { font-size: 11px; fill: #57606a; text-anchor: end; }
        svg .xl { font-size: 11px; fill: #57606a; text-anchor: middle; }
        svg .al { font-size: 11px; fill: #57606a; text-anchor: middle; }
        svg .lg { font-size: 11px; fill: #1b1f24; }
        svg .bv { font-size: 10px; fill: #1b1f24; text-anchor: middle; }
        svg .mv { font-size: 10px; fill: #1b1f24; text-anchor: middle; }
        svg .band { font-size: 10px; fill: #a40e26; }
        svg .grid { stroke: #eaeef2; stroke-width: 1; }
        svg .axis { stroke: #8c959f; stroke-width: 1; }
        .grid2 { display: flex; flex-wrap: wrap; gap: 8px; }
        code { background: #f6f8fa; padding: 1px 4px; border-radius: 4px; }
        footer { color: #57606a; margin-top: 28px; font-size: 12px; }
        """

    static func x(_ s: String) -> String { Format.xml(s) }

    static func section(_ title: String, _ content: String) -> String {
        "<h2>\(x(title))</h2>\n" + content
    }

    static func verdictBadge(_ slos: [SLOResult]) -> String {
        if slos.isEmpty { return "<div class=\"verdict none\">no SLOs set</div>\n" }
        let failed = slos.filter { !$0.passed }.count
        return failed == 0
            ? "<div class=\"verdict pass\">✔ all \(slos.count) SLOs met</div>\n"
            : "<div class=\"verdict fail\">✘ \(failed) of \(slos.count) SLOs failed</div>\n"
    }

    static func header(_ r: SimulationReport, context: ReportContext) -> String {
        let s = r.scenario
        var out = "<h1>dcsim — \(x(s.name))</h1>\n"
        out += "<p class=\"sub\">topology <b>\(x(s.topology))</b> (\(s.datacenters.count) DCs, \(s.nodeCount) nodes) · strategy <b>\(x(s.strategy))</b> · seed <b>\(s.seed)</b> · \(x(s.duration.description)) simulated (warm-up \(x(s.warmup.description))) · payload \(x(s.payload))</p>\n"
        out += "<p class=\"sub\">\(x(s.strategySummary)) · keys: \(x(s.keyPlacement))</p>\n"
        out += verdictBadge(r.slos)
        return out
    }

    static func footer(context: ReportContext) -> String {
        var out = "<footer>\n"
        if let replay = context.replay { out += "<p>Reproduce: <code>\(x(replay))</code></p>\n" }
        out += "<p>dcsim \(x(context.version)) · deterministic report: the same scenario, seed and version give the same page.</p>\n"
        out += "</footer>\n"
        return out
    }

    // MARK: Tables

    static func sloTable(_ slos: [SLOResult]) -> String {
        guard !slos.isEmpty else { return "<p>No SLOs set (add <code>slo:</code> to the scenario or pass <code>--slo</code>).</p>\n" }
        var out = "<table>\n<tr><th class=\"l\">SLO</th><th>value</th><th class=\"l\">required</th><th class=\"l\">verdict</th></tr>\n"
        for slo in slos {
            let f = KeyFigures.named(slo.metric)
            let value = f.map { $0.format(slo.value) } ?? (slo.value.map(Format.num) ?? "n/a")
            let bound = f.map { $0.format(slo.threshold) } ?? Format.num(slo.threshold)
            out += "<tr><td class=\"l\">\(x(slo.metric))</td><td>\(x(value))</td><td class=\"l\">\(x(slo.comparison + " " + bound))</td>"
            out += slo.passed ? "<td class=\"l\"><span class=\"verdict pass\">pass</span></td></tr>\n"
                : "<td class=\"l\"><span class=\"verdict fail\">FAIL</span></td></tr>\n"
        }
        return out + "</table>\n"
    }

    static func figureTable(_ r: SimulationReport) -> String {
        var out = "<table>\n<tr><th class=\"l\">figure</th><th>value</th><th class=\"l\">meaning</th></tr>\n"
        for f in KeyFigures.all {
            out += "<tr><td class=\"l\">\(x(f.name))</td><td>\(x(f.format(f.read(r))))</td><td class=\"l\">\(x(f.summary))</td></tr>\n"
        }
        return out + "</table>\n"
    }

    static func phaseTable(_ r: SimulationReport) -> String {
        var out = "<table>\n<tr><th class=\"l\">phase</th><th class=\"l\">from</th><th class=\"l\">to</th><th class=\"l\">operation</th><th>issued</th><th>ok</th><th>failed</th><th>unknown</th><th>availability</th><th>p50 ms</th><th>p99 ms</th></tr>\n"
        for p in r.phases {
            for o in p.operations {
                out += "<tr><td class=\"l\">\(x(p.name))</td><td class=\"l\">\(x(p.start.description))</td><td class=\"l\">\(x(p.end.description))</td><td class=\"l\">\(x(o.kind))</td><td>\(o.issued)</td><td>\(o.ok)</td><td>\(o.failed)</td><td>\(o.unknown)</td><td>\(x(Format.percent(o.availability)))</td><td>\(x(Format.num(o.latency.p50)))</td><td>\(x(Format.num(o.latency.p99)))</td></tr>\n"
            }
        }
        return out + "</table>\n"
    }

    /// Node figures summed per DC (in the report's DC order).
    static func datacenterTable(_ r: SimulationReport) -> String {
        var out = "<table>\n<tr><th class=\"l\">DC</th><th>nodes</th><th>disk operations</th><th>rejected</th><th>stored</th><th>worst node p99 response ms</th><th>sent</th><th>received</th></tr>\n"
        for dc in r.scenario.datacenters {
            let nodes = r.nodes.filter { $0.datacenter == dc }
            let served = nodes.reduce(UInt64(0)) { $0 + $1.served }
            let rejected = nodes.reduce(UInt64(0)) { $0 + $1.rejected }
            let used = nodes.reduce(Int64(0)) { $0 + $1.usedBytes }
            let p99 = nodes.map(\.response.p99).max() ?? 0
            let sent = r.network.links.filter { $0.from == dc && $0.to != dc }.reduce(UInt64(0)) { $0 + $1.bytes }
            let received = r.network.links.filter { $0.to == dc && $0.from != dc }.reduce(UInt64(0)) { $0 + $1.bytes }
            out += "<tr><td class=\"l\">\(x(dc))</td><td>\(nodes.count)</td><td>\(served)</td><td>\(rejected)</td><td>\(x(Format.bytes(Double(used))))</td><td>\(x(Format.num(p99)))</td><td>\(x(Format.bytes(Double(sent))))</td><td>\(x(Format.bytes(Double(received))))</td></tr>\n"
        }
        return out + "</table>\n"
    }

    /// First loss, repair traffic, divergence after the final heal, and the end figures per
    /// home DC of the shards.
    static func durabilityTable(_ r: SimulationReport) -> String {
        let rd = r.redundancy
        var rows: [(String, String)] = [
            ("first loss", rd.firstLoss.map { "\($0) (\(rd.lossEvents) shards became unrecoverable)\(rd.stoppedAtFirstLoss ? "; the run stopped there" : "")" } ?? "none"),
            ("repair traffic", "\(rd.repairMessages) messages, \(Format.bytes(Double(rd.repairBytes))); \(rd.reReplicatedUnits) units re-replicated"),
        ]
        if let d = r.consistency.divergence {
            rows.append(("divergence", "\(d.divergedKeys) of \(d.keysCompared) keys at \(d.time) (\(d.missingOnUpNode) missing on an up node, \(d.stampMismatch) with different versions)\(d.quietPeriodElapsed ? "" : "; quiet period of \(d.quietPeriod) not fully elapsed")"))
        }
        var out = "<table>\n"
        for (k, v) in rows { out += "<tr><td class=\"l\">\(x(k))</td><td class=\"l\">\(x(v))</td></tr>\n" }
        out += "</table>\n<table>\n<tr><th class=\"l\">home DC</th><th>shards</th><th>acknowledged</th><th>lost</th><th>under-replicated</th><th>at risk</th></tr>\n"
        for d in rd.byDatacenter {
            out += "<tr><td class=\"l\">\(x(d.datacenter))</td><td>\(d.shards)</td><td>\(d.acknowledged)</td><td>\(d.lost)</td><td>\(d.underReplicated)</td><td>\(d.atRisk)</td></tr>\n"
        }
        return out + "</table>\n"
    }

    // MARK: Charts

    /// Fault windows (red) and the warm-up (grey) as chart bands.
    static func bands(_ r: SimulationReport, context: ReportContext) -> [SVG.Band] {
        var out: [SVG.Band] = []
        if r.scenario.warmup > .zero {
            out.append(SVG.Band(label: "warm-up", x0: 0, x1: r.scenario.warmup.seconds, fill: "#8c959f"))
        }
        for f in context.faults {
            out.append(SVG.Band(label: f.label, x0: f.start.seconds, x1: (f.end ?? r.scenario.duration).seconds,
                                fill: "#d62728"))
        }
        return out
    }

    static func timelines(_ r: SimulationReport, context: ReportContext) -> String {
        let table = JSONReport.timelineTable(r)
        guard !table.rows.isEmpty, let timeIndex = table.columns.firstIndex(of: "time_s") else {
            return "<p>No timeline samples (the run was shorter than one sample interval).</p>\n"
        }
        let shaded = bands(r, context: context)
        let xMax = r.scenario.duration.seconds
        func column(_ name: String) -> [(x: Double, y: Double)]? {
            table.columns.firstIndex(of: name).map { i in table.rows.map { ($0[timeIndex], $0[i]) } }
        }
        var groups: [(title: String, unit: String, columns: [String])] = []
        for g in timelineGroups {
            let present = g.columns.filter { table.columns.contains($0) }
            if !present.isEmpty { groups.append((g.title, g.unit, present)) }
        }
        let grouped = Set(timelineGroups.flatMap(\.columns))
        for name in table.columns where name != "time_s" && !grouped.contains(name) {
            groups.append((name.replacing("_", with: " "), KeyFigures.unit(for: name) == .milliseconds ? "ms" : "", [name]))
        }
        var out = ""
        // Availability per interval, derived from the operation counts.
        if let wOK = column("writes_ok"), let wF = column("writes_failed"), let rOK = column("reads_ok"), let rF = column("reads_failed") {
            func ratio(_ ok: [(x: Double, y: Double)], _ failed: [(x: Double, y: Double)]) -> [(x: Double, y: Double)] {
                zip(ok, failed).compactMap { a, b in a.y + b.y > 0 ? (a.x, a.y / (a.y + b.y)) : nil }
            }
            out += SVG.lineChart(title: "Availability per interval (share of completed operations that succeeded)",
                                 yLabel: "share", series: [
                                    SVG.Series(name: "writes", color: SVG.palette[0], points: ratio(wOK, wF)),
                                    SVG.Series(name: "reads", color: SVG.palette[2], points: ratio(rOK, rF), dashed: true),
                                 ], bands: shaded, xMax: xMax, yMax: 1)
        }
        for g in groups {
            let series = g.columns.enumerated().compactMap { i, name in
                column(name).map { SVG.Series(name: name, color: SVG.palette[i % SVG.palette.count], points: $0) }
            }
            out += SVG.lineChart(title: g.title, yLabel: g.unit, series: series, bands: shaded, xMax: xMax)
        }
        return out
    }

    static func latencyBars(_ r: SimulationReport) -> String {
        let measured = r.operations.filter { $0.latency.count > 0 }
        guard !measured.isEmpty else { return "<p>No successful operations after warm-up.</p>\n" }
        let groups = measured.map { o in
            (label: o.kind, bars: percentileBars(o.latency))
        }
        return SVG.groupedBars(title: "Latency of successful operations (ms)", unit: "ms", groups: groups)
    }

    static func percentileBars(_ l: LatencySummary, marked: Bool = false) -> [SVG.Bar] {
        [("p50", l.p50), ("p90", l.p90), ("p99", l.p99), ("p99.9", l.p999), ("max", l.max)].enumerated().map { i, p in
            SVG.Bar(name: p.0, value: p.1, color: SVG.palette[i], marked: marked)
        }
    }

    /// The visibility curve, when the report carries one (`consistency.visibility` in
    /// `report.json`: P(a read started t ms after a write's ack sees it)).
    static func visibilityCurve(_ r: SimulationReport) -> String? {
        guard let v = JSONReport.value(r, version: "").at("consistency.visibility") else { return nil }
        return visibilityChart(v)
    }

    /// Draws a visibility curve given as an array of `{t_ms, fresh}` objects, or as a table
    /// (`columns` + `rows`, first column t in ms, second the share).
    static func visibilityChart(_ v: JSONValue) -> String? {
        var points: [(x: Double, y: Double)] = []
        if let rows = v["rows"]?.array {
            points = rows.compactMap { row in
                guard let cells = row.array, cells.count >= 2, let t = cells[0].number, let p = cells[1].number else { return nil }
                return (t, p)
            }
        } else if let items = v.array {
            points = items.compactMap { item in
                guard let t = item["t_ms"]?.number, let p = (item["fresh"] ?? item["p_visible"])?.number else { return nil }
                return (t, p)
            }
        }
        guard let last = points.map(\.x).max(), last > 0 else { return nil }
        // The x axis of lineChart is in seconds; the curve's t is in ms.
        let series = SVG.Series(name: "P(read sees the write)", color: SVG.palette[4],
                                points: points.map { ($0.x / 1000, $0.y) })
        return SVG.lineChart(title: "Visibility: share of reads that see a write, by time after its acknowledgement",
                             yLabel: "share", series: [series], bands: [], xMax: last / 1000, yMax: 1,
                             xLabel: "read start after the write's acknowledgement")
    }

    static func linkMatrix(_ r: SimulationReport) -> String {
        let dcs = r.scenario.datacenters
        guard !r.network.links.isEmpty else { return "<p>No network traffic.</p>\n" }
        var values = [[Double?]](repeating: [Double?](repeating: nil, count: dcs.count), count: dcs.count)
        for l in r.network.links {
            guard let i = dcs.firstIndex(of: l.from), let j = dcs.firstIndex(of: l.to) else { continue }
            values[i][j] = Double(l.bytes)
        }
        var out = "<p class=\"sub\">Bytes sent per one-way link: row = from, column = to; the diagonal is traffic inside a DC, including device access. WAN total \(x(Format.bytes(Double(r.network.wanBytes)))).</p>\n"
        out += SVG.matrix(title: "Bytes per link", rows: dcs, columns: dcs, values: values, format: Format.bytes)
        let lossy = r.network.links.filter { $0.lost > 0 || $0.blocked > 0 }
        if !lossy.isEmpty {
            out += "<table>\n<tr><th class=\"l\">link</th><th>messages</th><th>lost</th><th>blocked</th></tr>\n"
            for l in lossy {
                out += "<tr><td class=\"l\">\(x(l.from + " → " + l.to))</td><td>\(l.messages)</td><td>\(l.lost)</td><td>\(l.blocked)</td></tr>\n"
            }
            out += "</table>\n"
        }
        return out
    }
}
