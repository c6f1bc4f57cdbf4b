import Foundation

/// The aggregate of a sweep: distributions of the key figures over seeds, P(loss), MTTDL,
/// SLO failures and the worst seeds, plus its writers (`sweep.json`, text, Markdown, CSV,
/// JUnit, HTML) and the part-file format.
///
/// Computed from results sorted by seed, in a fixed order, so `sweep.json` is the same
/// bytes for any `--jobs` and for a merge of any `--shard` split.
public struct SweepSummary: Sendable {
    public struct FigureStats: Sendable {
        public var figure: KeyFigure?
        public var name: String
        /// Seeds with a value for this figure.
        public var count: Int
        public var mean, standardDeviation, min, p50, p90, p99, max: Double
    }

    public struct WorstSeed: Sendable {
        public var seed: UInt64
        public var reason: String
        public var replay: String
    }

    public var header: SweepHeader
    public var results: [SweepSeedResult]
    public var figures: [FigureStats]
    public var seedsFailed: Int
    /// Per SLO (as written in the header): how many seeds failed it.
    public var bySLO: [(slo: String, failedSeeds: Int)]
    public var seedsWithLoss: Int
    public var lossShare: Double
    public var lossShareCI: (lower: Double, upper: Double)
    public var exposureSeconds: Double
    public var mttdl: (estimate: Double?, lower: Double, upper: Double?)
    public var worst: [WorstSeed]

    /// How many seeds `worst` names.
    public static let worstCount = 5

    public init(_ part: SweepPart) {
        let header = part.header
        let results = part.results.sorted { $0.seed < $1.seed }
        self.header = header
        self.results = results
        let index = Dictionary(uniqueKeysWithValues: header.figures.enumerated().map { ($1, $0) })
        figures = header.figures.enumerated().map { i, name in
            let values = results.compactMap { i < $0.figures.count ? $0.figures[i] : nil }
            let sorted = values.sorted()
            return FigureStats(figure: KeyFigures.named(name), name: name, count: values.count,
                               mean: Statistics.mean(values), standardDeviation: Statistics.standardDeviation(values),
                               min: sorted.first ?? .nan, p50: Statistics.percentile(sorted: sorted, 0.5),
                               p90: Statistics.percentile(sorted: sorted, 0.9), p99: Statistics.percentile(sorted: sorted, 0.99),
                               max: sorted.last ?? .nan)
        }
        seedsFailed = results.filter { !$0.slosPassed }.count
        bySLO = header.slos.map { slo in
            let metric = String(slo.split(separator: " ").first ?? "")
            return (slo, results.filter { $0.failedSLOs.contains(metric) }.count)
        }
        let lostIndex = index["lost_acked_writes"]
        func lost(_ r: SweepSeedResult) -> Double { lostIndex.flatMap { r.figures[$0] } ?? 0 }
        // A seed lost data if a shard became unrecoverable at any time (first_loss_s), or —
        // for part files written before first losses were tracked — if it ended with losses.
        seedsWithLoss = results.filter { $0.firstLossSeconds != nil || lost($0) > 0 }.count
        lossShare = results.isEmpty ? 0 : Double(seedsWithLoss) / Double(results.count)
        lossShareCI = Statistics.wilson95(successes: seedsWithLoss, trials: results.count)
        exposureSeconds = results.reduce(0) { $0 + $1.exposureSeconds }
        mttdl = Statistics.mttdl(losses: seedsWithLoss, exposure: exposureSeconds)

        // Worst first: most lost writes, most failed SLOs, lowest availability, highest p99
        // write latency; ties by seed.
        let availability = index["availability"], p99 = index["p99_write_latency_ms"]
        func value(_ r: SweepSeedResult, _ i: Int?) -> Double { i.flatMap { r.figures[$0] } ?? 0 }
        let ranked = results.sorted { a, b in
            if lost(a) != lost(b) { return lost(a) > lost(b) }
            if a.failedSLOs.count != b.failedSLOs.count { return a.failedSLOs.count > b.failedSLOs.count }
            if value(a, availability) != value(b, availability) { return value(a, availability) < value(b, availability) }
            if value(a, p99) != value(b, p99) { return value(a, p99) > value(b, p99) }
            return a.seed < b.seed
        }
        let replay = header.replay
        worst = ranked.prefix(SweepSummary.worstCount).map { r in
            var why: [String] = []
            if lost(r) > 0 { why.append("\(Format.num(lost(r))) lost acknowledged writes") }
            if !r.failedSLOs.isEmpty { why.append("failed " + r.failedSLOs.joined(separator: ", ")) }
            if availability != nil { why.append("availability " + Format.percent(value(r, availability))) }
            if p99 != nil { why.append("p99 write " + Format.num(value(r, p99)) + " ms") }
            return WorstSeed(seed: r.seed, reason: why.joined(separator: "; "), replay: "\(replay) --seed \(r.seed)")
        }
    }

    public var passed: Bool { seedsFailed == 0 }

    // MARK: JSON

    static func headerPairs(_ h: SweepHeader) -> [(String, JSONValue)] {
        [
            ("schema_version", .int(Int64(Sweep.schemaVersion))),
            ("dcsim_version", .string(h.version)),
            ("scenario", .object([
                ("name", .string(h.scenario)), ("source", .string(h.source)), ("scenario_hash", .string(h.scenarioHash)),
                ("topology", .string(h.topology)), ("topology_hash", .string(h.topologyHash)),
                ("strategy", .string(h.strategy)), ("duration", .string(h.duration)), ("warmup", .string(h.warmup)),
                ("payload", .string(h.payload)),
            ])),
            ("slos", .array(h.slos.map { .string($0) })),
            ("seeds", .object([("spec", .string(h.seeds)), ("count", .int(Int64(h.seedCount)))])),
            ("replay", .string(h.replay)),
        ]
    }

    static func resultsValue(_ h: SweepHeader, _ results: [SweepSeedResult]) -> JSONValue {
        .object([
            ("columns", .array((["seed"] + h.figures + ["slos_passed", "failed_slos", "first_loss_s", "exposure_s"]).map { .string($0) })),
            ("rows", .array(results.map { r in
                .array([.int(Int64(bitPattern: r.seed))] + r.figures.map { $0.map(JSONValue.double) ?? .null }
                       + [.bool(r.slosPassed), .string(r.failedSLOs.joined(separator: " ")),
                          r.firstLossSeconds.map(JSONValue.double) ?? .null, .double(r.exposureSeconds)])
            })),
        ])
    }

    /// `sweep.json` (schema in docs/REPORT.md).
    public func json() -> String {
        func d(_ x: Double) -> JSONValue { x.isFinite ? .double(JSONReport.round6(x)) : .null }
        var pairs: [(String, JSONValue)] = [("kind", .string("dcsim-sweep"))] + SweepSummary.headerPairs(header)
        pairs.append(("verdict", .object([
            ("slos_passed", .bool(passed)),
            ("seeds_passed", .int(Int64(results.count - seedsFailed))),
            ("seeds_failed", .int(Int64(seedsFailed))),
            ("by_slo", .array(bySLO.map { .object([("slo", .string($0.slo)), ("seeds_failed", .int(Int64($0.failedSeeds)))]) })),
        ])))
        pairs.append(("loss", .object([
            ("seeds_with_loss", .int(Int64(seedsWithLoss))),
            ("p_loss", d(lossShare)),
            ("p_loss_ci95", .array([d(lossShareCI.lower), d(lossShareCI.upper)])),
            ("exposure_s", d(exposureSeconds)),
            ("mttdl_s", mttdl.estimate.map(d) ?? .null),
            ("mttdl_ci95_s", .array([d(mttdl.lower), mttdl.upper.map(d) ?? .null])),
        ])))
        pairs.append(("figures", .object(figures.map { f in
            (f.name, .object([
                ("better", .string((f.figure?.better ?? .neither).rawValue)), ("count", .int(Int64(f.count))),
                ("mean", d(f.mean)), ("stddev", d(f.standardDeviation)), ("min", d(f.min)), ("p50", d(f.p50)),
                ("p90", d(f.p90)), ("p99", d(f.p99)), ("max", d(f.max)),
            ]))
        })))
        pairs.append(("worst_seeds", .array(worst.map { w in
            .object([("seed", .int(Int64(bitPattern: w.seed))), ("reason", .string(w.reason)), ("replay", .string(w.replay))])
        })))
        pairs.append(("results", SweepSummary.resultsValue(header, results)))
        return JSONValue.object(pairs).serialized()
    }

    /// A part file (`sweep-part-I-of-N.json`): the header, the shard and its seeds' results.
    public static func partJSON(_ part: SweepPart) -> String {
        var pairs: [(String, JSONValue)] = [("kind", .string("dcsim-sweep-part"))] + headerPairs(part.header)
        pairs.append(("shard", .object([("index", .int(Int64(part.shard.index))), ("count", .int(Int64(part.shard.count)))])))
        pairs.append(("results", resultsValue(part.header, part.results)))
        return JSONValue.object(pairs).serialized()
    }

    /// The file name of a part: `sweep-part-3-of-16.json`.
    public static func partFileName(_ shard: Shard) -> String { "sweep-part-\(shard.index)-of-\(shard.count).json" }

    /// Reads a part file written by ``partJSON(_:)``.
    /// - Throws: ``Sweep/MergeError`` naming the file and the field that is missing or wrong.
    public static func readPart(_ text: String, name: String) throws -> SweepPart {
        func fail(_ m: String) -> Sweep.MergeError { Sweep.MergeError(description: "\(name): \(m)") }
        let v: JSONValue
        do { v = try JSONValue.parse(text) } catch { throw fail("not JSON (\(error))") }
        switch v["kind"]?.string {
        case "dcsim-sweep-part": break
        case "dcsim-sweep": throw fail("is a merged sweep.json, not a part file; merge the sweep-part-*.json files")
        default: throw fail("not a sweep part file (no \"kind\": \"dcsim-sweep-part\")")
        }
        guard v["schema_version"]?.number == Double(Sweep.schemaVersion) else {
            throw fail("schema_version \(v["schema_version"].map { $0.serialized().dropLast() } ?? "missing"), this dcsim reads \(Sweep.schemaVersion)")
        }
        func str(_ path: String) throws -> String {
            guard let s = v.at(path)?.string else { throw fail("missing or non-string field '\(path)'") }
            return s
        }
        func int(_ path: String) throws -> Int {
            guard let x = v.at(path)?.number, x == x.rounded(), abs(x) < 1e15 else { throw fail("missing or non-integer field '\(path)'") }
            return Int(x)
        }
        guard let slos = v["slos"]?.array?.compactMap(\.string) else { throw fail("missing field 'slos'") }
        guard let columns = v.at("results.columns")?.array?.compactMap(\.string), columns.first == "seed", columns.count >= 5 else {
            throw fail("missing or malformed 'results.columns'")
        }
        let figureNames = Array(columns.dropFirst().dropLast(4))
        let header = SweepHeader(
            version: try str("dcsim_version"), scenario: try str("scenario.name"), source: try str("scenario.source"),
            scenarioHash: try str("scenario.scenario_hash"), topology: try str("scenario.topology"),
            topologyHash: try str("scenario.topology_hash"), strategy: try str("scenario.strategy"),
            duration: try str("scenario.duration"), warmup: try str("scenario.warmup"), payload: try str("scenario.payload"),
            slos: slos, seeds: try str("seeds.spec"), seedCount: try int("seeds.count"), replay: try str("replay"),
            figures: figureNames)
        let index = try int("shard.index"), count = try int("shard.count")
        guard count >= 1, index >= 1, index <= count else { throw fail("shard \(index)/\(count) is not a valid shard") }
        guard let rows = v.at("results.rows")?.array else { throw fail("missing 'results.rows'") }
        var results: [SweepSeedResult] = []
        for (k, row) in rows.enumerated() {
            guard let cells = row.array, cells.count == columns.count, case .int(let seed) = cells[0],
                  let passed = cells[cells.count - 4].bool, let failed = cells[cells.count - 3].string,
                  let exposure = cells[cells.count - 1].number else {
                throw fail("results.rows[\(k)] does not match results.columns")
            }
            results.append(SweepSeedResult(
                seed: UInt64(bitPattern: seed), figures: cells[1..<(cells.count - 4)].map(\.number), slosPassed: passed,
                failedSLOs: failed.split(separator: " ").map(String.init),
                firstLossSeconds: cells[cells.count - 2].number, exposureSeconds: exposure))
        }
        return SweepPart(header: header, shard: Shard(index: index, count: count), results: results.sorted { $0.seed < $1.seed })
    }

    // MARK: Text and Markdown

    public func text() -> String {
        let h = header
        var out = "dcsim sweep — \(h.scenario) · \(h.strategy) · \(results.count) seeds (\(h.seeds)) · \(h.duration) each\n"
        if h.slos.isEmpty {
            out += "SLOs: none set\n\n"
        } else {
            out += "SLOs: " + (passed ? "met by all \(results.count) seeds" : "\(seedsFailed) of \(results.count) seeds failed") + "\n"
            for s in bySLO { out += "  \(s.failedSeeds == 0 ? "PASS" : "FAIL")  \(s.slo): \(s.failedSeeds) seeds failed\n" }
            out += "\n"
        }
        out += lossLine() + "\n\n"
        var rows = [["figure", "mean", "p50", "p90", "p99", "max"]]
        for f in figures {
            let fmt: (Double) -> String = { f.figure?.format($0) ?? Format.num($0) }
            rows.append([f.name, fmt(f.mean), fmt(f.p50), fmt(f.p90), fmt(f.p99), fmt(f.max)])
        }
        out += Format.table(rows) + "\n"
        out += "Worst seeds:\n"
        for w in worst { out += "  \(w.seed): \(w.reason)\n    \(w.replay)\n" }
        return out
    }

    func lossLine() -> String {
        var s = "P(loss) = \(Format.percent(lossShare)) (\(seedsWithLoss) of \(results.count) seeds lost acknowledged writes; 95% CI \(Format.percent(lossShareCI.lower))–\(Format.percent(lossShareCI.upper)))"
        s += " · MTTDL "
        if let e = mttdl.estimate {
            s += "\(Format.seconds(e)) (95% CI \(Format.seconds(mttdl.lower))–\(mttdl.upper.map(Format.seconds) ?? "∞"))"
        } else {
            s += "> \(Format.seconds(mttdl.lower)) (95% lower bound; no loss in \(Format.seconds(exposureSeconds)) simulated)"
        }
        return s
    }

    public func markdown() -> String {
        let h = header
        var out = "### dcsim sweep: \(Format.md(h.scenario)) · \(Format.md(h.strategy)) · \(results.count) seeds — "
        out += h.slos.isEmpty ? "no SLOs set" : passed ? "✅ SLOs met by every seed" : "❌ \(seedsFailed) of \(results.count) seeds failed an SLO"
        out += "\n\n"
        if !bySLO.isEmpty {
            out += "| SLO | seeds failed | verdict |\n|---|---:|---|\n"
            for s in bySLO { out += "| \(Format.md(s.slo)) | \(s.failedSeeds) | \(s.failedSeeds == 0 ? "✅ pass" : "❌ **FAIL**") |\n" }
            out += "\n"
        }
        out += Format.md(lossLine()) + "\n\n"
        out += "| figure | mean | p50 | p90 | p99 | max |\n|---|---:|---:|---:|---:|---:|\n"
        for f in figures {
            let fmt: (Double) -> String = { f.figure?.format($0) ?? Format.num($0) }
            out += "| \(f.name) | \(fmt(f.mean)) | \(fmt(f.p50)) | \(fmt(f.p90)) | \(fmt(f.p99)) | \(fmt(f.max)) |\n"
        }
        out += "\nWorst seeds:\n\n"
        for w in worst { out += "- seed \(w.seed): \(Format.md(w.reason)) — `\(w.replay)`\n" }
        return out
    }

    /// `sweep.csv`: one row per seed.
    public func csv() -> String {
        var out = (["seed"] + header.figures + ["slos_passed", "failed_slos"]).map(Format.csv).joined(separator: ",") + "\n"
        for r in results {
            out += (["\(r.seed)"] + r.figures.map { $0.map(CSVReport.number) ?? "" }
                    + [r.slosPassed ? "true" : "false", Format.csv(r.failedSLOs.joined(separator: " "))]).joined(separator: ",") + "\n"
        }
        return out
    }

    /// JUnit: one suite for the sweep, one test case per SLO, failing when any seed failed it.
    public func junit() -> String {
        let h = header
        let failures = bySLO.filter { $0.failedSeeds > 0 }.count
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuites name=\"dcsim sweep\" tests=\"\(bySLO.count)\" failures=\"\(failures)\" errors=\"0\">\n"
        out += "  <testsuite name=\"\(Format.xml("\(h.scenario) · \(h.strategy) · seeds \(h.seeds)"))\" tests=\"\(bySLO.count)\" failures=\"\(failures)\" errors=\"0\" skipped=\"0\">\n"
        out += "    <properties>\n"
        for (k, v) in [("dcsim_version", h.version), ("scenario", h.scenario), ("scenario_hash", h.scenarioHash),
                       ("topology_hash", h.topologyHash), ("strategy", h.strategy), ("seeds", h.seeds),
                       ("duration", h.duration), ("p_loss", Format.num(lossShare))] {
            out += "      <property name=\"\(Format.xml(k))\" value=\"\(Format.xml(v))\"/>\n"
        }
        out += "    </properties>\n"
        for s in bySLO {
            out += "    <testcase classname=\"\(Format.xml("dcsim.sweep.\(h.scenario).\(h.strategy)"))\" name=\"\(Format.xml(s.slo))\""
            if s.failedSeeds == 0 { out += "/>\n"; continue }
            let metric = String(s.slo.split(separator: " ").first ?? "")
            let seeds = results.filter { $0.failedSLOs.contains(metric) }.map(\.seed)
            let message = "\(s.slo) failed in \(s.failedSeeds) of \(results.count) seeds"
            out += ">\n      <failure type=\"SLO\" message=\"\(Format.xml(message))\">\(Format.xml(message + "; seeds " + seeds.prefix(20).map(String.init).joined(separator: ", ") + (seeds.count > 20 ? "…" : "") + "\nreproduce: \(h.replay) --seed \(seeds[0])"))</failure>\n    </testcase>\n"
        }
        out += "  </testsuite>\n</testsuites>\n"
        return out
    }

    // MARK: HTML

    /// `sweep.html`: the verdict, P(loss) and MTTDL, a histogram per key figure over seeds,
    /// and the worst seeds.
    public func html() -> String {
        let h = header
        let x = Format.xml
        var body = "<h1>dcsim sweep — \(x(h.scenario))</h1>\n"
        body += "<p class=\"sub\">strategy <b>\(x(h.strategy))</b> · \(results.count) seeds (\(x(h.seeds))) · \(x(h.duration)) simulated each (warm-up \(x(h.warmup))) · payload \(x(h.payload))</p>\n"
        body += h.slos.isEmpty ? "<div class=\"verdict none\">no SLOs set</div>\n"
            : passed ? "<div class=\"verdict pass\">✔ SLOs met by every seed</div>\n"
            : "<div class=\"verdict fail\">✘ \(seedsFailed) of \(results.count) seeds failed an SLO</div>\n"
        if !bySLO.isEmpty {
            body += "<h2>SLOs</h2>\n<table>\n<tr><th class=\"l\">SLO</th><th>seeds failed</th></tr>\n"
            for s in bySLO { body += "<tr><td class=\"l\">\(x(s.slo))</td><td>\(s.failedSeeds)</td></tr>\n" }
            body += "</table>\n"
        }
        body += "<h2>Data loss</h2>\n<p>\(x(lossLine()))</p>\n"
        body += "<h2>Distributions over seeds</h2>\n<table>\n<tr><th class=\"l\">figure</th><th>mean</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>\n"
        for f in figures {
            let fmt: (Double) -> String = { f.figure?.format($0) ?? Format.num($0) }
            body += "<tr><td class=\"l\">\(x(f.name))</td><td>\(x(fmt(f.mean)))</td><td>\(x(fmt(f.p50)))</td><td>\(x(fmt(f.p90)))</td><td>\(x(fmt(f.p99)))</td><td>\(x(fmt(f.max)))</td></tr>\n"
        }
        body += "</table>\n<div class=\"grid2\">\n"
        for (i, f) in figures.enumerated() where f.count > 0 && f.max > f.min {
            let values = results.compactMap { i < $0.figures.count ? $0.figures[i] : nil }
            body += histogram(f, values: values)
        }
        body += "</div>\n<h2>Worst seeds</h2>\n<table>\n<tr><th class=\"l\">seed</th><th class=\"l\">why</th><th class=\"l\">replay</th></tr>\n"
        for w in worst { body += "<tr><td class=\"l\">\(w.seed)</td><td class=\"l\">\(x(w.reason))</td><td class=\"l\"><code>\(x(w.replay))</code></td></tr>\n" }
        body += "</table>\n<footer><p>dcsim \(x(h.version)) · scenario \(x(h.scenarioHash)) · topology \(x(h.topologyHash))</p></footer>\n"
        return HTMLReport.page(title: "dcsim sweep — \(h.scenario) · \(h.strategy)", body: body)
    }

    func histogram(_ f: FigureStats, values: [Double]) -> String {
        let bins = min(20, max(5, Int(Double(values.count).squareRoot())))
        let width = (f.max - f.min) / Double(bins)
        var counts = [Double](repeating: 0, count: bins)
        for v in values { counts[min(Int((v - f.min) / width), bins - 1)] += 1 }
        let fmt: (Double) -> String = { f.figure?.format($0) ?? Format.num($0) }
        let groups = counts.enumerated().map { i, n in
            (label: i % max(1, bins / 5) == 0 ? fmt(f.min + width * Double(i)) : "",
             bars: [SVG.Bar(name: "seeds", value: n, color: SVG.palette[0])])
        }
        return SVG.groupedBars(title: f.name, unit: "seeds", groups: groups, format: { Format.num($0) }, width: 540, height: 200)
    }
}
