import Simulation

/// JUnit XML, so CI systems list each SLO as a test in their test tabs.
///
/// One `<testsuite>` per scenario run (scenario · strategy · seed), one `<testcase>` per
/// SLO; a failed SLO is a `<failure>` whose message states the figure and the threshold; an
/// SLO that could not be evaluated is an `<error>`. The output validates against the
/// Jenkins/Ant JUnit schema (Tests/ReportsTests/Resources/junit.xsd). No wall-clock `time`
/// or `timestamp` attributes: the file is deterministic like the other reports.
public enum JUnitReport {
    /// One run (`dcsim run`).
    public static func render(_ r: SimulationReport, context: ReportContext) -> String {
        render([(r, context)])
    }

    /// Several runs in one file (`dcsim compare`: one suite per strategy).
    public static func render(_ runs: [(report: SimulationReport, context: ReportContext)]) -> String {
        let tests = runs.reduce(0) { $0 + $1.report.slos.count }
        let failures = runs.reduce(0) { $0 + $1.report.slos.filter { !$0.passed && $0.value != nil }.count }
        let errors = runs.reduce(0) { $0 + $1.report.slos.filter { $0.value == nil }.count }
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuites name=\"dcsim\" tests=\"\(tests)\" failures=\"\(failures)\" errors=\"\(errors)\">\n"
        for (r, context) in runs { out += suite(r, context: context) }
        out += "</testsuites>\n"
        return out
    }

    static func suite(_ r: SimulationReport, context: ReportContext) -> String {
        let s = r.scenario
        let name = "\(s.name) · \(s.strategy) · seed \(s.seed)"
        let classname = "dcsim.\(s.name).\(s.strategy)"
        let failures = r.slos.filter { !$0.passed && $0.value != nil }.count
        let errors = r.slos.filter { $0.value == nil }.count
        var out = "  <testsuite name=\"\(x(name))\" tests=\"\(r.slos.count)\" failures=\"\(failures)\" errors=\"\(errors)\" skipped=\"0\">\n"
        out += "    <properties>\n"
        let properties: [(String, String)] = [
            ("dcsim_version", context.version), ("scenario", s.name), ("source", s.source),
            ("scenario_hash", s.scenarioHash), ("topology", s.topology), ("topology_hash", s.topologyHash),
            ("strategy", s.strategy), ("strategy_parameters", s.strategySummary), ("seed", "\(s.seed)"),
            ("duration", s.duration.description), ("warmup", s.warmup.description), ("payload", s.payload),
        ] + (context.replay.map { [("replay", $0)] } ?? [])
        for (k, v) in properties { out += "      <property name=\"\(x(k))\" value=\"\(x(v))\"/>\n" }
        out += "    </properties>\n"
        for slo in r.slos {
            let figure = KeyFigures.named(slo.metric)
            let threshold = figure?.format(slo.threshold) ?? Format.num(slo.threshold)
            let testName = "\(slo.metric) \(slo.comparison) \(threshold)"
            out += "    <testcase classname=\"\(x(classname))\" name=\"\(x(testName))\""
            if slo.passed { out += "/>\n"; continue }
            out += ">\n"
            if let v = slo.value {
                let value = figure?.format(v) ?? Format.num(v)
                let message = "\(slo.metric) = \(value), required \(slo.comparison) \(threshold)"
                out += "      <failure type=\"SLO\" message=\"\(x(message))\">\(x(message + (figure.map { " (\($0.summary))" } ?? "")))"
                if let replay = context.replay { out += "\nreproduce: \(x(replay))" }
                out += "</failure>\n"
            } else {
                out += "      <error type=\"SLO\" message=\"\(x(slo.metric + ": " + slo.detail))\"/>\n"
            }
            out += "    </testcase>\n"
        }
        if let replay = context.replay { out += "    <system-out>reproduce: \(x(replay))</system-out>\n" }
        out += "  </testsuite>\n"
        return out
    }

    static func x(_ s: String) -> String { Format.xml(s) }
}
