import Foundation
import SimConfig
import Simulation

/// `dcsim compare`: several strategies on the same scenario, seed, workload and fault
/// timeline, side by side, with the best value of each figure marked.
public struct Comparison: Sendable {
    /// One report per strategy, in the order asked.
    public var reports: [SimulationReport]
    public var context: ReportContext

    public init(reports: [SimulationReport], context: ReportContext) {
        self.reports = reports; self.context = context
    }

    /// Runs every strategy on `scenario` (its seed, workload and faults) on `jobs` threads.
    /// - Throws: a strategy's configuration error (``StrategyError``) or setup error.
    public static func run(_ scenario: Scenario, strategies: [StrategyConfig], jobs: Int, context: ReportContext,
                           progress: (@Sendable (Int) -> Void)? = nil) throws -> Comparison {
        let reports = try Parallel.map(count: strategies.count, jobs: jobs, progress: progress) { i in
            try Simulator.run(scenario, strategy: strategies[i])
        }
        return Comparison(reports: reports, context: context)
    }

    public var strategies: [String] { reports.map(\.scenario.strategy) }

    /// True when every strategy met every SLO.
    public var slosPassed: Bool { reports.allSatisfy(\.slosPassed) }

    /// One row of the comparison: a figure's value per strategy and which are best.
    public struct Row: Sendable {
        public var figure: KeyFigure
        public var values: [Double]
        /// Indices of the best values (empty when all are equal or no side is better).
        public var best: [Int]
    }

    public var rows: [Row] {
        KeyFigures.all.map { f in
            let values = reports.map(f.read)
            return Row(figure: f, values: values, best: Comparison.best(values, better: f.better))
        }
    }

    /// The indices holding the best value; none when every value is the same.
    public static func best(_ values: [Double], better: KeyFigure.Better) -> [Int] {
        let finite = values.filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max(), lo != hi else { return [] }
        switch better {
        case .lower: return values.indices.filter { values[$0] == lo }
        case .higher: return values.indices.filter { values[$0] == hi }
        case .neither: return []
        }
    }

    // MARK: Writers

    /// The terminal table: one column per strategy, `*` on the best value of each row.
    public func text(color: Bool) -> String {
        let s = reports.first?.scenario
        var out = "dcsim compare — \(s?.name ?? "") · seed \(s?.seed ?? 0) · \(s?.duration.description ?? "") simulated · \(reports.count) strategies\n\n"
        var table = [["figure"] + strategies]
        for row in rows {
            table.append([row.figure.name] + row.values.enumerated().map { i, v in
                row.figure.format(v) + (row.best.contains(i) ? " *" : "  ")
            })
        }
        table.append(["SLOs"] + reports.map { r in
            (r.slos.isEmpty ? "none" : r.slosPassed ? "pass" : "FAIL \(r.slos.filter { !$0.passed }.count)") + "  "
        })
        var rendered = Format.table(table)
        if color { rendered = rendered.replacing(" *", with: " \u{1B}[32m*\u{1B}[0m") }
        out += rendered
        out += "\n* best value in the row (lower or higher as the figure demands; none marked when all are equal)\n"
        return out
    }

    public func markdown() -> String {
        let s = reports.first?.scenario
        var out = "### dcsim compare: \(Format.md(s?.name ?? "")) · seed \(s?.seed ?? 0) — "
        out += slosPassed ? "✅ every strategy met its SLOs" : "❌ \(reports.filter { !$0.slosPassed }.count) of \(reports.count) strategies failed an SLO"
        out += "\n\n| figure | " + strategies.map(Format.md).joined(separator: " | ") + " |\n"
        out += "|---|" + String(repeating: "---:|", count: reports.count) + "\n"
        for row in rows {
            out += "| \(row.figure.name) | " + row.values.enumerated().map { i, v in
                row.best.contains(i) ? "**\(row.figure.format(v))** ★" : row.figure.format(v)
            }.joined(separator: " | ") + " |\n"
        }
        out += "| SLOs | " + reports.map { r in
            r.slos.isEmpty ? "none" : r.slosPassed ? "✅ pass" : "❌ \(r.slos.filter { !$0.passed }.map(\.metric).joined(separator: ", "))"
        }.joined(separator: " | ") + " |\n"
        out += "\n★ best value in the row.\n"
        if let replay = context.replay { out += "\nReproduce one: `\(replay) --strategy STRATEGY`\n" }
        return out
    }

    /// `compare.json` (schema in docs/REPORT.md).
    public func json() -> String {
        let s = reports.first?.scenario
        return JSONValue.object([
            ("kind", .string("dcsim-compare")),
            ("schema_version", .int(Int64(SimulationReport.schemaVersion))),
            ("dcsim_version", .string(context.version)),
            ("scenario", .object([
                ("name", .string(s?.name ?? "")), ("source", .string(s?.source ?? "")),
                ("scenario_hash", .string(s?.scenarioHash ?? "")), ("topology", .string(s?.topology ?? "")),
                ("topology_hash", .string(s?.topologyHash ?? "")),
                ("seed", .int(Int64(bitPattern: s?.seed ?? 0))), ("duration", .string(s?.duration.description ?? "")),
                ("warmup", .string(s?.warmup.description ?? "")), ("payload", .string(s?.payload ?? "")),
            ])),
            ("slos_passed", .bool(slosPassed)),
            ("strategies", .array(reports.map { r in
                .object([
                    ("strategy", .string(r.scenario.strategy)), ("strategy_parameters", .string(r.scenario.strategySummary)),
                    ("slos_passed", .bool(r.slosPassed)),
                    ("failed_slos", .array(r.slos.filter { !$0.passed }.map { .string($0.metric) })),
                ])
            })),
            ("figures", .array(rows.map { row in
                .object([
                    ("name", .string(row.figure.name)), ("better", .string(row.figure.better.rawValue)),
                    ("values", .array(row.values.map { .double(JSONReport.round6($0)) })),
                    ("best", .array(row.best.map { .string(strategies[$0]) })),
                ])
            })),
        ]).serialized()
    }

    /// `compare.csv`: one row per figure, one column per strategy.
    public func csv() -> String {
        var out = (["figure", "better"] + strategies).map(Format.csv).joined(separator: ",") + "\n"
        for row in rows {
            out += ([row.figure.name, row.figure.better.rawValue] + row.values.map(CSVReport.number)).joined(separator: ",") + "\n"
        }
        return out
    }

    /// `junit.xml`: one test suite per strategy run.
    public func junit() -> String {
        JUnitReport.render(reports.map { r in
            var c = context
            c.replay = context.replay.map { "\($0) --strategy \(r.scenario.strategy)" }
            return (r, c)
        })
    }

    /// `compare.html`: the table, then side-by-side bars per figure, latency percentiles per
    /// strategy and overlaid timelines.
    public func html() -> String {
        let x = Format.xml
        let s = reports.first?.scenario
        let colors = strategies.indices.map { SVG.palette[$0 % SVG.palette.count] }
        var body = "<h1>dcsim compare — \(x(s?.name ?? ""))</h1>\n"
        body += "<p class=\"sub\">topology <b>\(x(s?.topology ?? ""))</b> · seed <b>\(s?.seed ?? 0)</b> · \(x(s?.duration.description ?? "")) simulated (warm-up \(x(s?.warmup.description ?? ""))) · payload \(x(s?.payload ?? "")) · same workload and fault timeline for every strategy</p>\n"
        body += slosPassed ? "<div class=\"verdict pass\">✔ every strategy met its SLOs</div>\n"
            : "<div class=\"verdict fail\">✘ \(reports.filter { !$0.slosPassed }.count) of \(reports.count) strategies failed an SLO</div>\n"
        body += "<h2>Side by side</h2>\n<table>\n<tr><th class=\"l\">figure</th>" + strategies.map { "<th>\(x($0))</th>" }.joined() + "</tr>\n"
        for row in rows {
            body += "<tr><td class=\"l\">\(x(row.figure.name))</td>"
            for (i, v) in row.values.enumerated() {
                body += row.best.contains(i) ? "<td class=\"best\">★ \(x(row.figure.format(v)))</td>" : "<td>\(x(row.figure.format(v)))</td>"
            }
            body += "</tr>\n"
        }
        body += "<tr><td class=\"l\">SLOs</td>" + reports.map { r in
            r.slos.isEmpty ? "<td>none</td>" : r.slosPassed ? "<td><span class=\"verdict pass\">pass</span></td>"
                : "<td><span class=\"verdict fail\">FAIL</span></td>"
        }.joined() + "</tr>\n</table>\n"
        body += "<p class=\"sub\">★ best value in the row (lower or higher as the figure demands).</p>\n"
        body += "<h2>Figures</h2>\n<div class=\"grid2\">\n"
        for row in rows where row.values.contains(where: { $0 != 0 }) {
            let bars = row.values.enumerated().map { i, v in
                SVG.Bar(name: strategies[i], value: v, color: colors[i], marked: row.best.contains(i))
            }
            body += SVG.horizontalBars(title: "\(row.figure.name) (\(row.figure.better == .lower ? "lower" : row.figure.better == .higher ? "higher" : "no side") is better)",
                                       rows: bars, format: { row.figure.format($0) }, width: 540)
        }
        body += "</div>\n"
        for kind in ["write", "read"] {
            let groups = reports.compactMap { r -> (label: String, bars: [SVG.Bar])? in
                guard let o = r.operations.first(where: { $0.kind == kind }), o.latency.count > 0 else { return nil }
                return (r.scenario.strategy, HTMLReport.percentileBars(o.latency))
            }
            if !groups.isEmpty {
                body += "<h2>\(kind.capitalized) latency percentiles</h2>\n"
                body += SVG.groupedBars(title: "\(kind) latency of successful operations (ms)", unit: "ms", groups: groups)
            }
        }
        body += "<h2>Timelines</h2>\n" + timelines(colors: colors)
        body += "<footer>\n"
        if let replay = context.replay { body += "<p>Reproduce one: <code>\(x(replay)) --strategy STRATEGY</code></p>\n" }
        body += "<p>dcsim \(x(context.version))</p>\n</footer>\n"
        return HTMLReport.page(title: "dcsim compare — \(s?.name ?? "")", body: body)
    }

    func timelines(colors: [String]) -> String {
        guard let first = reports.first else { return "" }
        var applied = context
        applied.faults = context.faultWindows(of: first)
        let bands = HTMLReport.bands(first, context: applied)
        let xMax = first.scenario.duration.seconds
        func series(_ f: (SimulationReport) -> [(x: Double, y: Double)]) -> [SVG.Series] {
            reports.enumerated().map { i, r in SVG.Series(name: r.scenario.strategy, color: colors[i], points: f(r)) }
        }
        var out = SVG.lineChart(title: "Write availability per interval", yLabel: "share", series: series { r in
            r.timeline.compactMap { t in t.writesOK + t.writesFailed > 0 ? (t.time.seconds, Double(t.writesOK) / Double(t.writesOK + t.writesFailed)) : nil }
        }, bands: bands, xMax: xMax, yMax: 1)
        out += SVG.lineChart(title: "Mean latency of operations completed in the interval", yLabel: "ms", series: series { r in
            r.timeline.map { ($0.time.seconds, $0.meanLatency) }
        }, bands: bands, xMax: xMax)
        out += SVG.lineChart(title: "Nodes up", yLabel: "nodes", series: series { r in
            r.timeline.map { ($0.time.seconds, Double($0.nodesUp)) }
        }, bands: bands, xMax: xMax)
        return out
    }
}
