import SimCore
import SimConfig
import Replication

/// The entry point: runs a scenario with its strategy and returns the report.
public enum Simulator {
    /// A problem that stops a run before it starts (bad strategy parameters, unknown SLO
    /// metric…): a usage error, exit code 2.
    public struct SetupError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Checks everything about a scenario that the config layer leaves to plug-ins (the
    /// strategy and its parameters, SLO metric names) without running it.
    public static func check(_ scenario: Scenario) throws {
        _ = try makeRunner(scenario, strategy: scenario.strategy)
        try checkSLOs(scenario)
    }

    /// The SLO half of ``check(_:)``.
    static func checkSLOs(_ scenario: Scenario) throws {
        let unknown = SLOEvaluator.unknownMetrics(scenario.slos)
        if let slo = unknown.first {
            let names = SLOEvaluator.metrics.map(\.name)
            let hint = didYouMean(slo.metric, among: names)
            let place = slo.location.map { "\($0): " } ?? "\(scenario.source): "
            throw SetupError(description: "\(place)error: slo.\(slo.metric): unknown metric\(hint); allowed: \(names.joined(separator: ", "))")
        }
    }

    /// Runs `scenario` with `strategy` (default: the scenario's own).
    /// - Throws: ``StrategyError`` or ``SetupError`` for configuration problems.
    /// - Parameter payloadThreads: background threads for the full-payload byte work (sealing,
    ///   opening, erasure coding); 0 runs it on the simulation thread. The report is
    ///   byte-identical either way; use threads for a single run on a machine with free cores,
    ///   not inside a parallel sweep.
    public static func run(_ scenario: Scenario, strategy: StrategyConfig? = nil,
                           payloadThreads: Int = 0) throws -> SimulationReport {
        var s = scenario
        if let strategy { s.strategy = strategy }
        // The same checks as `check`, in the same order, but the engine is built once (a
        // sweep runs this per seed; building the world is not free for 100k users).
        let runner = try makeRunner(s, strategy: s.strategy, payloadThreads: payloadThreads)
        try checkSLOs(s)
        return runner()
    }

    static func makeRunner(_ scenario: Scenario, strategy: StrategyConfig,
                           payloadThreads: Int = 0) throws -> () -> SimulationReport {
        let (entry, config, _) = try StrategyRegistry.resolve(strategy)
        return try openSpecialized(entry.type, scenario: scenario, config: config, payloadThreads: payloadThreads)
    }

    static func open<S: ReplicationStrategy>(_ type: S.Type, scenario: Scenario, config: StrategyConfig,
                                             payloadThreads: Int) throws -> () -> SimulationReport {
        let engine = try Engine<S>(scenario: scenario, config: config)
        return {
            if payloadThreads > 0 { engine.dataPath.runBytesInBackground(threads: payloadThreads) }
            return engine.run()
        }
    }
}
