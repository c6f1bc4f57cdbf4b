import SimConfig
import Simulation

/// `--slo 'metric<=value'` on the command line: SLOs that add to or override a scenario's.
public enum SLOOverride {
    /// Why an `--slo` was refused (a usage error, exit code 2).
    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// The metric names an SLO may use.
    public static var metricNames: [String] { SLOEvaluator.metrics.map(\.name) }

    /// Parses `availability>=0.999`, `availability >= 99.9%`, `p99_write_latency_ms<=400ms`,
    /// `lost_acked_writes<=0`. The value is a number, a percentage, or — for a metric whose
    /// name ends in a unit (`_ms`, `_s`, `_us`, `_ns`, `_bytes`) — a duration or size
    /// converted to that unit, exactly as in a scenario's `slo:` (docs/FORMAT.md).
    /// - Throws: ``ParseError`` for a malformed bound or an unknown metric (listing the
    ///   allowed names).
    public static func parse(_ text: String) throws -> SLOSpec {
        let operators: [(String, SLOSpec.Comparison)] = [("<=", .atMost), (">=", .atLeast), ("≤", .atMost), ("≥", .atLeast)]
        var found: (Range<String.Index>, SLOSpec.Comparison)?
        for (op, cmp) in operators {
            if let r = text.firstRange(of: op), found.map({ r.lowerBound < $0.0.lowerBound }) ?? true { found = (r, cmp) }
        }
        guard let (range, comparison) = found else {
            let hint = text.contains("<") || text.contains(">") || text.contains("=") ? "only '<=' and '>=' bounds are supported" : "expected METRIC<=VALUE or METRIC>=VALUE"
            throw ParseError(description: "--slo '\(text)': \(hint), e.g. --slo 'availability>=0.999' or --slo 'p99_write_latency_ms<=400ms'")
        }
        let metric = String(text[..<range.lowerBound]).trimmedSpaces()
        let valueText = String(text[range.upperBound...]).trimmedSpaces()
        let names = metricNames
        guard names.contains(metric) else {
            throw ParseError(description: "--slo '\(text)': unknown metric '\(metric)'\(didYouMean(metric, among: names)); allowed: \(names.joined(separator: ", "))")
        }
        guard let threshold = value(valueText, metric: metric) else {
            throw ParseError(description: "--slo '\(text)': '\(valueText)' is not a number, a percentage\(unitHint(metric)); e.g. \(metric)\(comparison.rawValue)\(example(metric))")
        }
        return SLOSpec(metric: metric, comparison: comparison, threshold: threshold, location: nil)
    }

    /// `slos` with each override replacing the SLO on the same metric (in place) or appended.
    public static func apply(_ overrides: [SLOSpec], to slos: [SLOSpec]) -> [SLOSpec] {
        var out = slos
        for o in overrides {
            if let i = out.firstIndex(where: { $0.metric == o.metric }) { out[i] = o } else { out.append(o) }
        }
        return out
    }

    static func value(_ t: String, metric: String) -> Double? {
        if let x = Double(t), x.isFinite { return x }
        if t.hasSuffix("%"), let x = Double(String(t.dropLast()).trimmedSpaces()), x.isFinite { return x / 100 }
        let timeSuffixes: [(String, Double)] = [("_ns", 1), ("_us", 1e3), ("_ms", 1e6), ("_s", 1e9)]
        if let unit = timeSuffixes.first(where: { metric.hasSuffix($0.0) }), let d = try? ConfigUnits.duration(t) {
            return Double(d.nanoseconds) / unit.1
        }
        if metric.hasSuffix("_bytes"), let b = try? ConfigUnits.sizeBytes(t) { return Double(b) }
        return nil
    }

    static func unitHint(_ metric: String) -> String {
        if ["_ns", "_us", "_ms", "_s"].contains(where: { metric.hasSuffix($0) }) { return " or a duration (400ms, 2s)" }
        if metric.hasSuffix("_bytes") { return " or a size (4KiB)" }
        return ""
    }

    static func example(_ metric: String) -> String {
        if metric.hasSuffix("_ms") { return "400ms" }
        if metric.contains("availability") { return "99.9%" }
        return "0"
    }
}

extension String {
    /// Without leading and trailing spaces.
    func trimmedSpaces() -> String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
