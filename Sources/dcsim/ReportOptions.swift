import ArgumentParser
import Foundation
import Replication
import Reports
import SimConfig
import ShardPipeline
import SimCore
import Simulation

/// Options shared by `compare` and `sweep`: what to run and how to gate it.
struct ScenarioOptions: ParsableArguments {
    @Argument(help: "A scenario file or built-in scenario name (default: the built-in default).")
    var scenario: String?

    @Option(help: "Simulated duration, e.g. 90s, 10m, 2h (overrides the scenario's `duration`).")
    var duration: String?

    @Option(help: "Payload mode: full (real bytes, real crypto) or sizes (sizes and checksums only).")
    var payload: String?

    @Option(name: .customLong("slo"), help: ArgumentHelp(
        "An SLO that adds to or overrides the scenario's, e.g. 'availability>=0.999' or 'p99_write_latency_ms<=400ms' (repeatable).",
        valueName: "metric<=value"))
    var slos: [String] = []

    /// The scenario with `--duration`, `--payload` and `--slo` applied; usage errors exit 2.
    func load(seed: UInt64? = nil) throws -> Scenario {
        try loadScenario(scenario, seed: seed, duration: duration, payload: payload, slos: slos)
    }

    /// The `dcsim run …` command line (without `--seed`) that replays one run of these options.
    func replay(strategy: String? = nil) -> String {
        var parts = ["dcsim", "run", scenario ?? "default"]
        if let duration { parts += ["--duration", duration] }
        if let payload { parts += ["--payload", payload] }
        if let strategy { parts += ["--strategy", strategy] }
        for slo in slos { parts += ["--slo", slo] }
        return parts.map(shellQuote).joined(separator: " ")
    }
}

/// Parses `--slo` values; an unknown metric or malformed bound exits 2 with the allowed names.
func parseSLOs(_ texts: [String]) throws -> [SLOSpec] {
    do {
        return try texts.map(SLOOverride.parse)
    } catch let e as SLOOverride.ParseError {
        printError("error: \(e.description)")
        throw Exit.badInput
    }
}

/// The formats to write: `--format` as given, or text (plus json when `--report` is set).
/// Formats other than text need `--report DIR`; usage errors exit 2.
func reportFormats(_ format: String?, report: String?) throws -> [ReportFormat] {
    guard let format else { return report == nil ? [.text] : [.text, .json] }
    let formats: [ReportFormat]
    do { formats = try ReportFormat.parseList(format) } catch let e as ReportFormat.ParseError {
        printError("error: \(e.description)")
        throw Exit.badInput
    }
    if report == nil, let f = formats.first(where: { $0 != .text }) {
        printError("error: --format \(f.rawValue) writes files; give --report DIR (where to write them)")
        throw Exit.badInput
    }
    return formats
}

/// Writes named files into `dir` (created if missing); an I/O failure exits 2 (the
/// directory is user input).
func writeFiles(_ files: [(name: String, text: String)], into dir: String) throws {
    do {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for f in files {
            try Data(f.text.utf8).write(to: URL(fileURLWithPath: dir).appendingPathComponent(f.name), options: .atomic)
        }
    } catch {
        printError("error: cannot write reports to '\(dir)': \(error.localizedDescription)")
        throw Exit.badInput
    }
}

/// Runs `body`, mapping configuration errors to exit 2 and anything unexpected to exit 3.
func mappingRunErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as ExitCode {
        throw e
    } catch let e as StrategyError {
        printError(e.description)
        throw Exit.badInput
    } catch let e as ConfigErrors {
        printError(e.description)
        throw Exit.badInput
    } catch let e as Simulator.SetupError {
        printError(e.description)
        throw Exit.badInput
    } catch {
        printError("internal error: \(error)")
        throw Exit.internalError
    }
}

/// `--jobs`: worker threads (default: the machine's cores).
func resolveJobs(_ jobs: Int?) throws -> Int {
    let n = jobs ?? ProcessInfo.processInfo.activeProcessorCount
    guard n >= 1, n <= 4096 else {
        printError("error: --jobs must be between 1 and 4096, got \(n)")
        throw Exit.badInput
    }
    return n
}

/// Quotes a shell word when it needs it (`'p99_write_latency_ms<=400ms'`).
func shellQuote(_ s: String) -> String {
    let safe = s.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "-_./:,=@+%".unicodeScalars.contains($0) }
    return safe && !s.isEmpty ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// A progress bar with ETA on standard error, drawn only on a terminal and never in CI
/// (`CI` set): CI logs stay free of carriage-return noise. Wall-clock time is used for the
/// ETA only; nothing of it reaches a report.
final class ProgressBar: @unchecked Sendable {
    let total: Int
    let label: String
    let enabled: Bool
    let clock = ContinuousClock()
    let started: ContinuousClock.Instant
    var lastDraw: ContinuousClock.Instant?
    let lock = NSLock()

    init(total: Int, label: String, quiet: Bool) {
        self.total = total
        self.label = label
        let env = ProcessInfo.processInfo.environment
        enabled = !quiet && total > 1 && isatty(STDERR_FILENO) == 1 && (env["CI"] ?? "").isEmpty
        started = clock.now
    }

    /// Call with the number finished so far (any thread).
    func update(_ done: Int) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        let now = clock.now
        if done < total, let last = lastDraw, now - last < .milliseconds(100) { return }
        lastDraw = now
        let elapsed = seconds(now - started)
        let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
        let width = 30
        let filled = total > 0 ? width * done / total : width
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let line = "\r\(label) \(bar) \(done)/\(total) · \(format(elapsed)) elapsed · ETA \(done > 0 ? format(eta) : "…")  "
        FileHandle.standardError.write(Data(line.utf8))
        if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    func format(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? "\(t / 3600)h\(String(format: "%02d", t / 60 % 60))m" : t >= 60 ? "\(t / 60)m\(String(format: "%02d", t % 60))s" : "\(t)s"
    }
}

/// Loads SCENARIO (a file or built-in name) with the command line's `--seed`, `--duration`,
/// `--payload` and `--slo` applied — the one place `run`, `compare` and `sweep` parse them.
/// Usage errors are printed and exit 2.
func loadScenario(_ name: String?, seed: UInt64?, duration: String?, payload: String?, slos: [String]) throws -> Scenario {
    var parsedDuration: SimDuration?
    if let duration {
        guard let d = try? ConfigUnits.duration(duration), d > .zero else {
            printError("error: --duration: '\(duration)' is not a positive duration; use e.g. 90s, 10m, 2h")
            throw Exit.badInput
        }
        parsedDuration = d
    }
    var parsedPayload: PayloadMode?
    if let payload {
        guard let p = PayloadMode(rawValue: payload) else {
            printError("error: --payload: '\(payload)' is not a payload mode; allowed: full, sizes")
            throw Exit.badInput
        }
        parsedPayload = p
    }
    let overrides = try parseSLOs(slos)
    var s = try loadScenario(name).overriding(seed: seed, duration: parsedDuration, payload: parsedPayload)
    s.slos = SLOOverride.apply(overrides, to: s.slos)
    if s.warmup >= s.duration {
        printError("error: the warm-up (\(s.warmup)) must be shorter than the duration (\(s.duration))")
        throw Exit.badInput
    }
    return s
}
