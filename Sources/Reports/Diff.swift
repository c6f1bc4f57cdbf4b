import Foundation
import SimConfig

/// `dcsim diff BASELINE.json NEW.json`: which key figures got worse between two runs (two
/// `report.json`) or two sweeps (two `sweep.json`, comparing means), for regression gates.
///
/// Direction-aware: a figure's ``KeyFigure/better`` side decides whether a change is a
/// regression (latency up, availability down). A regression fails the gate (exit 1) when it
/// exceeds the allowance given for that figure (`--max-regression NAME=PCT`, or `*=PCT` for
/// every figure); a figure with no allowance is listed but does not gate.
public enum Diff {
    /// Why the inputs or flags were refused (usage error, exit code 2).
    public struct InputError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// The figures of one input file.
    public struct Input: Sendable {
        /// `report` or `sweep`.
        public var kind: String
        public var label: String
        public var figures: [(name: String, value: Double)]
    }

    /// Reads a `report.json` (its `figures`) or a `sweep.json` (each figure's `mean`).
    /// - Throws: ``InputError`` naming the file and what is wrong.
    public static func read(_ text: String, name: String) throws -> Input {
        let v: JSONValue
        do { v = try JSONValue.parse(text) } catch { throw InputError(description: "\(name): not JSON (\(error))") }
        if v["kind"]?.string == "dcsim-sweep" {
            guard let figures = v["figures"]?.pairs else { throw InputError(description: "\(name): sweep.json without 'figures'") }
            let label = "\(v.at("scenario.name")?.string ?? "?") · \(v.at("scenario.strategy")?.string ?? "?") · seeds \(v.at("seeds.spec")?.string ?? "?")"
            return Input(kind: "sweep", label: label, figures: figures.compactMap { name, f in f["mean"]?.number.map { (name, $0) } })
        }
        if v["schema_version"] != nil, v["scenario"] != nil, v["kind"] == nil {
            guard let figures = v["figures"]?.pairs else {
                throw InputError(description: "\(name): report.json without a 'figures' section (written by an older dcsim; re-run it)")
            }
            let label = "\(v.at("scenario.name")?.string ?? "?") · \(v.at("scenario.strategy")?.string ?? "?") · seed \(v.at("scenario.seed")?.number.map(Format.num) ?? "?")"
            return Input(kind: "report", label: label, figures: figures.compactMap { name, x in x.number.map { (name, $0) } })
        }
        if let kind = v["kind"]?.string {
            throw InputError(description: "\(name): a \(kind) file; diff compares two report.json files or two sweep.json files")
        }
        throw InputError(description: "\(name): not a dcsim report.json or sweep.json")
    }

    /// An allowed regression: `p99_write_latency_ms=10` (percent), or `*=5` for every figure.
    public struct Allowance: Sendable, Equatable {
        public var metric: String
        public var percent: Double

        /// - Throws: ``InputError`` for a malformed allowance or an unknown figure (listing
        ///   the allowed names).
        public static func parse(_ text: String) throws -> Allowance {
            let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let names = KeyFigures.all.map(\.name)
            guard parts.count == 2 else {
                throw InputError(description: "--max-regression '\(text)': expected METRIC=PERCENT, e.g. --max-regression p99_write_latency_ms=10 or '*=5'")
            }
            let metric = String(parts[0]).trimmedSpaces()
            var number = String(parts[1]).trimmedSpaces()
            if number.hasSuffix("%") { number.removeLast() }
            guard let pct = Double(number), pct >= 0, pct.isFinite else {
                throw InputError(description: "--max-regression '\(text)': '\(parts[1])' is not a non-negative percentage")
            }
            guard metric == "*" || names.contains(metric) else {
                throw InputError(description: "--max-regression '\(text)': unknown metric '\(metric)'\(didYouMean(metric, among: names)); allowed: *, \(names.joined(separator: ", "))")
            }
            return Allowance(metric: metric, percent: pct)
        }
    }

    public enum Status: String, Sendable {
        /// Worse by more than the allowance: fails the gate.
        case regressionOverAllowance = "REGRESSION"
        /// Worse, within the allowance or with none.
        case worse
        case better
        /// Changed, with no better side.
        case changed
        case same
        case onlyInBaseline = "only in baseline"
        case onlyInNew = "only in new"
    }

    public struct Row: Sendable {
        public var name: String
        public var baseline: Double?
        public var new: Double?
        /// (new − baseline) / |baseline| × 100; ±∞ from a zero baseline.
        public var changePercent: Double?
        public var allowance: Double?
        public var status: Status
    }

    /// Compares figure by figure, in the baseline's order (then figures only in `new`).
    public static func compare(_ base: Input, _ new: Input, allowances: [Allowance]) -> [Row] {
        var rows: [Row] = []
        func allowance(_ name: String) -> Double? {
            (allowances.last { $0.metric == name } ?? allowances.last { $0.metric == "*" })?.percent
        }
        for (name, b) in base.figures {
            guard let n = new.figures.first(where: { $0.name == name })?.value else {
                rows.append(Row(name: name, baseline: b, new: nil, changePercent: nil, allowance: nil, status: .onlyInBaseline))
                continue
            }
            let change: Double = b == n ? 0 : b == 0 ? (n > 0 ? .infinity : -.infinity) : (n - b) / abs(b) * 100
            let better = KeyFigures.named(name)?.better ?? .neither
            let worse = (better == .lower && n > b) || (better == .higher && n < b)
            let allowed = allowance(name)
            let status: Status
            if b == n { status = .same }
            else if better == .neither { status = .changed }
            else if worse { status = allowed.map { abs(change) > $0 } == true ? .regressionOverAllowance : .worse }
            else { status = .better }
            rows.append(Row(name: name, baseline: b, new: n, changePercent: change, allowance: allowed, status: status))
        }
        for (name, n) in new.figures where !base.figures.contains(where: { $0.name == name }) {
            rows.append(Row(name: name, baseline: nil, new: n, changePercent: nil, allowance: nil, status: .onlyInNew))
        }
        return rows
    }

    /// True when no regression exceeds its allowance.
    public static func passed(_ rows: [Row]) -> Bool { !rows.contains { $0.status == .regressionOverAllowance } }

    /// Rows in report order: regressions over allowance, then worse, better, changed, and
    /// the rest.
    static func ordered(_ rows: [Row]) -> [Row] {
        let rank: [Status: Int] = [.regressionOverAllowance: 0, .worse: 1, .better: 2, .changed: 3,
                                   .onlyInBaseline: 4, .onlyInNew: 5, .same: 6]
        return rows.enumerated().sorted { a, b in
            let (ra, rb) = (rank[a.element.status] ?? 9, rank[b.element.status] ?? 9)
            return ra != rb ? ra < rb : a.offset < b.offset
        }.map(\.element)
    }

    static func cells(_ r: Row) -> [String] {
        let f = KeyFigures.named(r.name)
        func v(_ x: Double?) -> String { x.map { f?.format($0) ?? Format.num($0) } ?? "—" }
        let change = r.changePercent.map { c in c.isInfinite ? (c > 0 ? "+∞%" : "−∞%") : (c > 0 ? "+" : "") + Format.num(c) + "%" } ?? ""
        return [r.name, v(r.baseline), v(r.new), change, r.allowance.map { Format.num($0) + "%" } ?? "—", r.status.rawValue]
    }

    public static func text(_ rows: [Row], base: Input, new: Input) -> String {
        let shown = ordered(rows).filter { $0.status != .same }
        let same = rows.count - shown.count
        var out = "dcsim diff — baseline: \(base.label)\n                new: \(new.label)\n\n"
        let over = rows.filter { $0.status == .regressionOverAllowance }.count
        let worse = rows.filter { $0.status == .worse }.count
        out += over > 0 ? "\(over) regression(s) over their allowance" : "no regression over its allowance"
        out += " · \(worse) worse within allowance or ungated · \(rows.filter { $0.status == .better }.count) better · \(same) unchanged\n\n"
        if !shown.isEmpty { out += Format.table([["figure", "baseline", "new", "change", "allowed", "status"]] + shown.map(cells)) }
        return out
    }

    public static func markdown(_ rows: [Row], base: Input, new: Input) -> String {
        let shown = ordered(rows).filter { $0.status != .same }
        var out = "### dcsim diff — " + (passed(rows) ? "✅ no regression over its allowance" : "❌ \(rows.filter { $0.status == .regressionOverAllowance }.count) regression(s) over their allowance") + "\n\n"
        out += "baseline: \(Format.md(base.label)) · new: \(Format.md(new.label)) · \(rows.count - shown.count) figures unchanged\n\n"
        guard !shown.isEmpty else { return out }
        out += "| figure | baseline | new | change | allowed | status |\n|---|---:|---:|---:|---:|---|\n"
        for r in shown {
            var c = cells(r).map(Format.md)
            if r.status == .regressionOverAllowance { c[5] = "❌ **REGRESSION**" } else if r.status == .worse { c[5] = "⚠️ worse" }
            out += "| " + c.joined(separator: " | ") + " |\n"
        }
        return out
    }
}
