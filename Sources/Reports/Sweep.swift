import Foundation
import SimConfig
import SimCore
import Simulation

// MARK: - Seed lists and shards

/// The seeds of a sweep, from `--seeds`: `1...1000`, `1..<100`, `7`, or a comma-separated
/// mix (`1...10,42,100...110`), in the order written.
public struct SeedList: Sendable, Equatable {
    /// The text as given (recorded in sweep files, so merges can check they agree).
    public var spec: String
    public var seeds: [UInt64]

    /// The largest sweep one command may ask for (a bound, so a typo cannot run for a year).
    public static let maxCount = 10_000_000

    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// - Throws: ``ParseError`` for malformed ranges, empty or reversed ranges, repeated
    ///   seeds and lists longer than ``maxCount``.
    public static func parse(_ spec: String) throws -> SeedList {
        func fail(_ m: String) -> ParseError {
            ParseError(description: "--seeds '\(spec)': \(m); e.g. --seeds 1...1000, --seeds 1..<500 or --seeds 3,7,42")
        }
        var seeds: [UInt64] = []
        var seen = Set<UInt64>()
        for raw in spec.split(separator: ",", omittingEmptySubsequences: false) {
            let part = String(raw).trimmedSpaces()
            guard !part.isEmpty else { throw fail("empty item") }
            var range: ClosedRange<UInt64>
            if let r = part.firstRange(of: "...") ?? part.firstRange(of: "..<") {
                let closed = part[r] == "..."
                guard let lo = UInt64(part[..<r.lowerBound].trimmingPrefix(" ")),
                      let hiRaw = UInt64(String(part[r.upperBound...]).trimmedSpaces()) else {
                    throw fail("'\(part)' is not a range of non-negative integers")
                }
                if closed {
                    guard lo <= hiRaw else { throw fail("'\(part)' is empty (the start is after the end)") }
                    range = lo...hiRaw
                } else {
                    guard lo < hiRaw else { throw fail("'\(part)' is empty") }
                    range = lo...(hiRaw - 1)
                }
            } else if let s = UInt64(part) {
                range = s...s
            } else {
                throw fail("'\(part)' is not a seed (a non-negative integer) or a range")
            }
            guard UInt64(seeds.count) + (range.upperBound - range.lowerBound) < UInt64(maxCount) else {
                throw fail("more than \(maxCount) seeds")
            }
            for s in range {
                guard seen.insert(s).inserted else { throw fail("seed \(s) appears twice") }
                seeds.append(s)
            }
        }
        return SeedList(spec: spec, seeds: seeds)
    }
}

/// One part of a sweep split across machines: `--shard i/n` (1-based).
///
/// Seeds go to shards round-robin by position in the seed list (seed list position p goes
/// to shard p mod n + 1), so parts have equal sizes ±1 and similar cost even when cost
/// drifts with the seed number.
public struct Shard: Sendable, Equatable {
    public var index: Int
    public var count: Int

    public static let whole = Shard(index: 1, count: 1)

    public init(index: Int, count: Int) {
        precondition(count >= 1 && index >= 1 && index <= count, "Shard: need 1 <= index <= count")
        self.index = index; self.count = count
    }

    /// - Throws: ``SeedList/ParseError`` for anything but `i/n` with 1 ≤ i ≤ n.
    public static func parse(_ text: String) throws -> Shard {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, n <= 1_000_000, i >= 1, i <= n else {
            throw SeedList.ParseError(description: "--shard '\(text)': expected INDEX/COUNT with 1 <= INDEX <= COUNT, e.g. --shard 3/16")
        }
        return Shard(index: i, count: n)
    }

    /// This shard's seeds, in list order.
    public func select(_ seeds: [UInt64]) -> [UInt64] {
        seeds.enumerated().filter { $0.offset % count == index - 1 }.map(\.element)
    }
}

// MARK: - Results

/// What a sweep keeps of one seed's run: the key figures and the verdict.
public struct SweepSeedResult: Sendable, Equatable {
    public var seed: UInt64
    /// Index-aligned with ``SweepHeader/figures``.
    public var figures: [Double?]
    public var slosPassed: Bool
    public var failedSLOs: [String]
    /// Simulated seconds from the start of the run to the first moment an acknowledged
    /// shard became unrecoverable (nil: no loss).
    public var firstLossSeconds: Double?
    /// Simulated seconds this seed was exposed to data loss: the whole run, or up to the
    /// first loss.
    public var exposureSeconds: Double
}

/// What every part of one sweep shares: the same scenario, version, seeds and figures.
public struct SweepHeader: Sendable, Equatable {
    public var version: String
    public var scenario: String
    public var source: String
    public var scenarioHash: String
    public var topology: String
    public var topologyHash: String
    public var strategy: String
    public var duration: String
    public var warmup: String
    public var payload: String
    public var slos: [String]
    public var seeds: String
    public var seedCount: Int
    /// The command that replays one seed, without `--seed`.
    public var replay: String
    public var figures: [String]
}

/// One shard's results (a part file), or a whole sweep's before aggregation.
public struct SweepPart: Sendable {
    public var header: SweepHeader
    public var shard: Shard
    /// Sorted by seed.
    public var results: [SweepSeedResult]
}

// MARK: - Running

public enum Sweep {
    public static let schemaVersion = 1

    /// When the run's first acknowledged shard became unrecoverable, in seconds from the
    /// start (the engine tracks it as it happens; see `RedundancyFigures.firstLoss`).
    static func firstLoss(_ r: SimulationReport) -> Double? { r.redundancy.firstLoss.map { roundTrip($0.seconds) } }

    /// Runs `seeds` (after `shard` selection) of `scenario` on `jobs` threads.
    /// - Parameters:
    ///   - replay: the command that replays one seed, without `--seed` (e.g. `dcsim run ams-outage`).
    ///   - progress: called with (finished, total) after each seed.
    /// - Throws: the first (lowest seed) setup error; the scenario should be checked first.
    public static func run(_ scenario: Scenario, seeds: SeedList, shard: Shard = .whole, jobs: Int,
                           version: String, replay: String,
                           progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> SweepPart {
        let mine = shard.select(seeds.seeds)
        let figures = KeyFigures.all
        let header = SweepHeader(
            version: version, scenario: scenario.name, source: scenario.source, scenarioHash: scenario.contentHash,
            topology: scenario.topology.name, topologyHash: scenario.topology.contentHash,
            strategy: scenario.strategy.name, duration: scenario.duration.description,
            warmup: scenario.warmup.description, payload: scenario.payload.rawValue,
            slos: scenario.slos.map { "\($0.metric) \($0.comparison.rawValue) \(Format.num($0.threshold))" },
            seeds: seeds.spec, seedCount: seeds.seeds.count, replay: replay, figures: figures.map(\.name))
        // Exposure runs from the start: data written during the warm-up can be lost too.
        let window = scenario.duration.seconds
        let total = mine.count
        var perJob: (@Sendable (Int) -> Void)?
        if let progress { perJob = { done in progress(done, total) } }
        let results = try Parallel.map(count: total, jobs: jobs, progress: perJob) { i -> SweepSeedResult in
            let r = try Simulator.run(scenario.overriding(seed: mine[i]))
            return Sweep.result(r, seed: mine[i], figures: figures, window: window)
        }
        return SweepPart(header: header, shard: shard, results: results.sorted { $0.seed < $1.seed })
    }

    static func result(_ r: SimulationReport, seed: UInt64, figures: [KeyFigure], window: Double) -> SweepSeedResult {
        // Values go through the JSON number form now, so a merged sweep (which reads them
        // back from part files) aggregates exactly the same doubles.
        let values = figures.map { f -> Double? in
            let v = f.read(r)
            return v.isFinite ? roundTrip(v) : nil
        }
        let first = firstLoss(r)
        return SweepSeedResult(seed: seed, figures: values, slosPassed: r.slosPassed,
                               failedSLOs: r.slos.filter { !$0.passed }.map(\.metric),
                               firstLossSeconds: first, exposureSeconds: first ?? window)
    }

    static func roundTrip(_ v: Double) -> Double {
        var s = JSONValue.double(v).serialized()
        s.removeLast()
        return Double(s) ?? v
    }

    // MARK: Merging

    /// Why part files could not be merged (usage error, exit code 2).
    public struct MergeError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Joins the parts of one sweep. They must share a header and cover shards 1…n of one
    /// split exactly once; the result equals an unsharded sweep's.
    /// - Parameter names: file names, for error messages (index-aligned with `parts`).
    /// - Throws: ``MergeError`` naming the file and what differs or is missing.
    public static func merge(_ parts: [SweepPart], names: [String]) throws -> SweepPart {
        guard let first = parts.first else { throw MergeError(description: "merge: no part files given") }
        let n = first.shard.count
        var seen = [String?](repeating: nil, count: n + 1)
        for (k, p) in parts.enumerated() {
            let name = k < names.count ? names[k] : "part \(k + 1)"
            if p.header != first.header {
                throw MergeError(description: "\(name): not from the same sweep as \(names.first ?? "the first part") (\(difference(first.header, p.header)))")
            }
            if p.shard.count != n {
                throw MergeError(description: "\(name): shard \(p.shard.index)/\(p.shard.count), but \(names.first ?? "the first part") is from a split into \(n)")
            }
            if let other = seen[p.shard.index] {
                throw MergeError(description: "\(name): shard \(p.shard.index)/\(n) given twice (also \(other))")
            }
            seen[p.shard.index] = name
        }
        let missing = (1...n).filter { seen[$0] == nil }
        if !missing.isEmpty {
            throw MergeError(description: "merge: missing shard\(missing.count == 1 ? "" : "s") \(missing.prefix(20).map { "\($0)/\(n)" }.joined(separator: ", "))\(missing.count > 20 ? "…" : "") of the sweep")
        }
        let results = parts.flatMap(\.results).sorted { $0.seed < $1.seed }
        let expected = try SeedList.parse(first.header.seeds).seeds.sorted()
        guard results.map(\.seed) == expected else {
            throw MergeError(description: "merge: the parts' seeds do not match the sweep's seed list '\(first.header.seeds)' (a part file was edited or truncated)")
        }
        return SweepPart(header: first.header, shard: .whole, results: results)
    }

    static func difference(_ a: SweepHeader, _ b: SweepHeader) -> String {
        let fields: [(String, String, String)] = [
            ("dcsim version", a.version, b.version), ("scenario", a.scenario, b.scenario),
            ("scenario hash", a.scenarioHash, b.scenarioHash), ("topology hash", a.topologyHash, b.topologyHash),
            ("strategy", a.strategy, b.strategy), ("duration", a.duration, b.duration), ("warm-up", a.warmup, b.warmup),
            ("payload", a.payload, b.payload), ("slos", a.slos.joined(separator: "; "), b.slos.joined(separator: "; ")),
            ("seeds", a.seeds, b.seeds), ("replay", a.replay, b.replay),
            ("figures", a.figures.joined(separator: ","), b.figures.joined(separator: ",")),
        ]
        return fields.filter { $0.1 != $0.2 }.map { "\($0.0): '\($0.1)' vs '\($0.2)'" }.joined(separator: "; ")
    }
}
