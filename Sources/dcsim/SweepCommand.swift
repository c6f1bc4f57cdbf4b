import ArgumentParser
import Foundation
import Reports
import SimConfig
import Simulation

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run a scenario over many seeds in parallel; distributions, P(loss), MTTDL, worst seeds.",
        discussion: """
            Each seed is one deterministic, single-threaded run; --jobs runs that many at once. \
            sweep.json is the same bytes for any --jobs. --shard I/N runs only part I of N \
            (seeds dealt round-robin) and writes DIR/sweep-part-I-of-N.json; `dcsim merge` \
            joins the parts into exactly the sweep.json a single sweep gives (docs/CI.md shows \
            a CI job matrix and a Kubernetes Indexed Job).

            Examples:
              dcsim sweep ams-outage --seeds 1...100 --duration 10m
              dcsim sweep ams-outage --seeds 1...1000 --jobs 8 --report out --format text,json,md
              dcsim sweep ams-outage --seeds 1...1000 --shard 3/16 --report parts
              dcsim merge parts/sweep-part-*.json --report out

            Files in --report DIR: sweep.json (default with --report), sweep.txt, sweep.md, \
            sweep.html, sweep.csv (one row per seed), junit.xml (one test case per SLO).
            A progress bar with ETA appears on standard error when it is a terminal and CI is \
            not set.
            Exit codes: 0 every seed met every SLO (and always 0 for a --shard part: the \
            verdict comes from merge), 1 a seed failed an SLO, 2 bad input or usage, \
            3 internal error.
            """)

    @OptionGroup var options: ScenarioOptions

    @Option(help: "Seeds: a range (1...1000, 1..<500), a list (3,7,42), or a mix.")
    var seeds: String

    @Option(help: "Strategy preset or protocol (overrides the scenario's `strategy`).")
    var strategy: String?

    @Option(help: "Seeds run in parallel on this many threads (default: the number of cores).")
    var jobs: Int?

    @Option(help: "Run only part I of N of the seeds (e.g. 3/16) and write a part file for `dcsim merge`.")
    var shard: String?

    @Option(help: "Directory for report files (created if missing).")
    var report: String?

    @Option(help: "Comma-separated formats: text, json, markdown (md), junit, html, csv, or all (default: text; text,json with --report).")
    var format: String?

    @Flag(help: "Print nothing but errors (reports are still written).")
    var quiet = false

    func run() throws {
        let seedList: SeedList
        var part: Shard = .whole
        do {
            seedList = try SeedList.parse(seeds)
            if let shard { part = try Shard.parse(shard) }
        } catch let e as SeedList.ParseError {
            printError("error: \(e.description)")
            throw Exit.badInput
        }
        if shard != nil {
            guard report != nil else {
                printError("error: --shard writes a part file; give --report DIR (where to write sweep-part-I-of-N.json)")
                throw Exit.badInput
            }
            if format != nil {
                printError("error: --format does not apply with --shard (a part file is always JSON); format the merged sweep: dcsim merge PARTS… --format …")
                throw Exit.badInput
            }
        }
        let formats = try reportFormats(format, report: report)
        let jobs = try resolveJobs(self.jobs)
        var scenario = try options.load()
        if let strategy { scenario.strategy = StrategyConfig(name: strategy) }
        let checked = scenario
        try mappingRunErrors { try Simulator.check(checked) }
        let replay = options.replay(strategy: strategy)
        let count = part.select(seedList.seeds).count
        if !quiet {
            printError("dcsim \(dcsimVersion) · sweep \(scenario.name) (\(scenario.source), \(scenario.contentHash)) · \(scenario.strategy.name) · \(count) seeds\(shard.map { " (shard \($0) of \(seedList.seeds.count))" } ?? "") on \(min(jobs, max(count, 1))) threads")
        }
        let bar = ProgressBar(total: count, label: "sweep", quiet: quiet)
        let result = try mappingRunErrors {
            try Sweep.run(checked, seeds: seedList, shard: part, jobs: jobs, version: dcsimVersion, replay: replay,
                          progress: { done, _ in bar.update(done) })
        }
        if shard != nil, let dir = report {
            let name = SweepSummary.partFileName(part)
            try writeFiles([(name, SweepSummary.partJSON(result))], into: dir)
            if !quiet {
                let failed = result.results.filter { !$0.slosPassed }.count
                print("shard \(part.index)/\(part.count): \(result.results.count) seeds, \(failed) failed an SLO → \(dir)/\(name)")
            }
            return
        }
        try emit(SweepSummary(result), formats: formats, report: report, quiet: quiet)
    }
}

/// Writes a sweep's files and prints its summary; exit 1 when a seed failed an SLO.
func emit(_ summary: SweepSummary, formats: [ReportFormat], report: String?, quiet: Bool) throws {
    if let dir = report {
        var files: [(name: String, text: String)] = []
        for f in formats {
            switch f {
            case .text: files.append(("sweep.txt", summary.text()))
            case .json: files.append(("sweep.json", summary.json()))
            case .markdown: files.append(("sweep.md", summary.markdown()))
            case .junit: files.append(("junit.xml", summary.junit()))
            case .html: files.append(("sweep.html", summary.html()))
            case .csv: files.append(("sweep.csv", summary.csv()))
            }
        }
        try writeFiles(files, into: dir)
    }
    if !quiet && formats.contains(.text) { print(summary.text(), terminator: "") }
    if !summary.passed { throw Exit.sloFailed }
}

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Join the part files of a sharded sweep into the sweep.json a single sweep gives.",
        discussion: """
            The parts must come from the same sweep (same scenario, dcsim version, seeds, \
            SLOs and split) and cover every shard exactly once.

            Examples:
              dcsim merge parts/sweep-part-*.json --report out
              dcsim merge parts/*.json --report out --format text,json,md,junit

            Exit codes: 0 every seed met every SLO, 1 a seed failed an SLO, 2 bad input \
            (missing, repeated or mismatched parts), 3 internal error.
            """)

    @Argument(help: "Part files written by `dcsim sweep --shard I/N`.")
    var parts: [String]

    @Option(help: "Directory for sweep.json and the other files (default: the current directory).")
    var report: String = "."

    @Option(help: "Comma-separated formats: text, json, markdown (md), junit, html, csv, or all (default: text,json).")
    var format: String?

    @Flag(help: "Print nothing but errors (files are still written).")
    var quiet = false

    func validate() throws {
        if parts.isEmpty { throw ValidationError("give the part files to merge, e.g. dcsim merge parts/sweep-part-*.json") }
    }

    func run() throws {
        let formats = try reportFormats(format, report: report)
        var loaded: [SweepPart] = []
        do {
            for path in parts {
                guard let data = FileManager.default.contents(atPath: path) else {
                    printError("error: cannot read part file '\(path)' (missing, a directory, or unreadable)")
                    throw Exit.badInput
                }
                loaded.append(try SweepSummary.readPart(String(decoding: data, as: UTF8.self), name: path))
            }
            let merged = try Sweep.merge(loaded, names: parts)
            try emit(SweepSummary(merged), formats: formats, report: report, quiet: quiet)
        } catch let e as Sweep.MergeError {
            printError("error: \(e.description)")
            throw Exit.badInput
        }
    }
}
