import ArgumentParser
import Foundation
import Reports
import SimConfig
import Simulation

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run several strategies on the same seed, workload and faults; one table, best value marked.",
        discussion: """
            Every strategy runs the same scenario with the same seed, so the workload and the \
            fault timeline are identical; only the strategy differs. Without --strategies, the \
            scenario's `compare:` list is used.

            Examples:
              dcsim compare ams-outage --strategies async-geo,single-dc
              dcsim compare Topologies/scenarios/ams-outage.yaml --seed 3 --report out --format text,html,md
              dcsim compare ams-outage --slo 'availability>=0.999' --report out --format junit

            Files in --report DIR: compare.txt, compare.json, compare.md, compare.html, \
            compare.csv, junit.xml (one test suite per strategy).
            Exit codes: 0 every strategy met every SLO, 1 one failed, 2 bad input or usage, \
            3 internal error.
            """)

    @OptionGroup var options: ScenarioOptions

    @Option(help: "Comma-separated strategy presets or protocols (default: the scenario's `compare:` list).")
    var strategies: String?

    @Option(help: "Root seed (overrides the scenario's `seed`); the same for every strategy.")
    var seed: UInt64?

    @Option(help: "Directory for report files (created if missing).")
    var report: String?

    @Option(help: "Comma-separated formats: text, json, markdown (md), junit, html, csv, or all (default: text; text,json with --report).")
    var format: String?

    @Option(help: "Strategies run in parallel on this many threads (default: the number of cores).")
    var jobs: Int?

    @Flag(help: "Print nothing but errors (reports are still written).")
    var quiet = false

    func run() throws {
        let formats = try reportFormats(format, report: report)
        let jobs = try resolveJobs(self.jobs)
        let scenario = try options.load(seed: seed)
        var configs: [StrategyConfig]
        if let strategies {
            configs = strategies.split(separator: ",").map { StrategyConfig(name: String($0).trimmingCharacters(in: .whitespaces)) }
            if configs.isEmpty || configs.contains(where: { $0.name.isEmpty }) {
                printError("error: --strategies: expected a comma-separated list of strategies, e.g. async-geo,single-dc")
                throw Exit.badInput
            }
        } else {
            configs = scenario.compareStrategies
        }
        if configs.isEmpty {
            printError("error: nothing to compare: give --strategies a,b (see `dcsim strategies`) or add `compare:` to the scenario")
            throw Exit.badInput
        }
        let names = configs.map(\.name)
        if let dup = names.enumerated().first(where: { names[..<$0.offset].contains($0.element) }) {
            printError("error: --strategies: '\(dup.element)' is listed twice")
            throw Exit.badInput
        }
        // Check every strategy before running any, so a typo in the last costs nothing.
        for c in configs {
            var s = scenario
            s.strategy = c
            try mappingRunErrors { try Simulator.check(s) }
        }
        if !quiet {
            printError("dcsim \(dcsimVersion) · compare \(scenario.name) (\(scenario.source), \(scenario.contentHash)) · seed \(scenario.seed) · \(names.joined(separator: ", "))")
        }
        let context = ReportContext(version: dcsimVersion, scenario: scenario,
                                    replay: options.replay() + " --seed \(scenario.seed)")
        let bar = ProgressBar(total: configs.count, label: "compare", quiet: quiet)
        let comparison = try mappingRunErrors {
            try Comparison.run(scenario, strategies: configs, jobs: jobs, context: context, progress: { bar.update($0) })
        }
        if let dir = report {
            var files: [(name: String, text: String)] = []
            for f in formats {
                switch f {
                case .text: files.append(("compare.txt", comparison.text(color: false)))
                case .json: files.append(("compare.json", comparison.json()))
                case .markdown: files.append(("compare.md", comparison.markdown()))
                case .junit: files.append(("junit.xml", comparison.junit()))
                case .html: files.append(("compare.html", comparison.html()))
                case .csv: files.append(("compare.csv", comparison.csv()))
                }
            }
            try writeFiles(files, into: dir)
        }
        if !quiet && formats.contains(.text) {
            print(comparison.text(color: isatty(STDOUT_FILENO) == 1), terminator: "")
        }
        if !comparison.slosPassed { throw Exit.sloFailed }
    }
}
