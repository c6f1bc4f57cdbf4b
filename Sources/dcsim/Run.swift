import ArgumentParser
import Foundation
import Replication
import Reports
import SimConfig
import ShardPipeline
import SimCore
import Simulation

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a scenario and print (or write) its report.",
        discussion: """
            SCENARIO is a scenario file, or the name of a built-in scenario (see \
            `dcsim topologies` for topologies; built-in scenarios are embedded in the binary). \
            Without SCENARIO, the built-in default scenario runs.

            Examples:
              dcsim run
              dcsim run ams-outage --seed 7
              dcsim run Topologies/scenarios/default.yaml --duration 2m --report out --format text,json
              dcsim run ams-outage --slo 'availability>=0.999' --report out --format all
              dcsim run --strategy single-dc --payload sizes

            Reports: text goes to standard output (and DIR/report.txt); json writes \
            DIR/report.json (byte-identical for the same scenario, seed and version) and \
            DIR/performance.json (wall-clock figures, which differ run to run); markdown \
            writes DIR/report.md (for $GITHUB_STEP_SUMMARY); junit writes DIR/junit.xml (one \
            test case per SLO); html writes DIR/report.html (self-contained, SVG charts); csv \
            writes DIR/timeline.csv and DIR/operations.csv. Formats are described in \
            docs/REPORT.md.

            SLOs: the scenario's `slo:` block, plus --slo METRIC<=VALUE / METRIC>=VALUE \
            (repeatable; replaces the scenario's SLO on the same metric).
            Exit codes: 0 all SLOs met, 1 an SLO failed, 2 bad input or usage, 3 internal error.
            """)

    @Argument(help: "A scenario file or built-in scenario name (default: the built-in default).")
    var scenario: String?

    @Option(help: "Root seed (overrides the scenario's `seed`).")
    var seed: UInt64?

    @Option(help: "Simulated duration, e.g. 90s, 10m, 2h (overrides the scenario's `duration`).")
    var duration: String?

    @Option(help: "Payload mode: full (real bytes, real crypto) or sizes (sizes and checksums only).")
    var payload: String?

    @Option(help: "Strategy preset or protocol (overrides the scenario's `strategy`); see `dcsim strategies`.")
    var strategy: String?

    @Option(help: "Directory for report files (created if missing).")
    var report: String?

    @Option(help: "Comma-separated report formats: text, json, markdown (md), junit, html, csv, or all.")
    var format: String = "text"

    @Option(name: .customLong("slo"), help: ArgumentHelp(
        "An SLO that adds to or overrides the scenario's, e.g. 'availability>=0.999' or 'p99_write_latency_ms<=400ms' (repeatable).",
        valueName: "metric<=value"))
    var slos: [String] = []

    @Flag(help: "Print nothing but errors (reports are still written).")
    var quiet = false

    @Option(help: ArgumentHelp(
        "Background threads for the full-payload byte work (sealing, opening, erasure coding), 0 to 16; the simulation thread helps them when they fall behind, and 0 keeps all of it on the simulation thread. Reports are identical. Default: one less than the number of cores.",
        valueName: "n"))
    var payloadThreads: Int?

    func validate() throws {
        if let payloadThreads, !(0...16).contains(payloadThreads) {
            throw ValidationError("--payload-threads: \(payloadThreads) is not allowed; allowed: 0 to 16")
        }
    }

    func run() throws {
        let formats = try reportFormats(format, report: report)
        var scenario = try loadScenario(self.scenario, seed: seed, duration: duration, payload: payload, slos: slos)
        if let strategy { scenario.strategy = StrategyConfig(name: strategy) }

        var replayWords = ["dcsim", "run", self.scenario ?? "default", "--seed", "\(scenario.seed)"]
        if let duration { replayWords += ["--duration", duration] }
        if let payload { replayWords += ["--payload", payload] }
        if let strategy { replayWords += ["--strategy", strategy] }
        for slo in slos { replayWords += ["--slo", slo] }
        let replay = replayWords.map(shellQuote).joined(separator: " ")
        if !quiet {
            printError("dcsim \(dcsimVersion) · scenario \(scenario.name) (\(scenario.source), \(scenario.contentHash)) · topology \(scenario.topology.name) (\(scenario.topology.contentHash)) · seed \(scenario.seed)")
            printError("reproduce: \(replay)")
        }
        let clock = ContinuousClock()
        let started = clock.now
        let threads = payloadThreads ?? min(16, max(0, ProcessInfo.processInfo.activeProcessorCount - 1))
        let result = try mappingRunErrors { try Simulator.run(scenario, payloadThreads: threads) }
        let elapsed = clock.now - started
        let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let ops = result.operations.reduce(UInt64(0)) { $0 + $1.issued }
        let perf = PerformanceFigures(wallSeconds: wall, events: result.kernel.events,
                                      simulatedSeconds: result.kernel.simulatedSeconds,
                                      operationsPerSecond: wall > 0 ? Double(ops) / wall : 0)

        if let dir = report {
            do {
                try ReportWriter.write(result, performance: perf, formats: formats, directory: dir,
                                       context: ReportContext(version: dcsimVersion, scenario: scenario, replay: replay))
            } catch {
                printError("error: cannot write reports to '\(dir)': \(error.localizedDescription)")
                throw Exit.badInput
            }
        }
        if !quiet && formats.contains(.text) {
            print(TextReport.render(result, performance: perf, color: isatty(STDOUT_FILENO) == 1), terminator: "")
        }
        if !result.slosPassed { throw Exit.sloFailed }
    }
}
