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
    public static func run(_ scenario: Scenario, strategy: StrategyConfig? = nil) throws -> SimulationReport {
        var s = scenario
        if let strategy { s.strategy = strategy }
        try check(s)
        return try makeRunner(s, strategy: s.strategy)()
    }

    static func makeRunner(_ scenario: Scenario, strategy: StrategyConfig) throws -> () -> SimulationReport {
        let (entry, config, _) = try StrategyRegistry.resolve(strategy)
        return try open(entry.type, scenario: scenario, config: config)
    }

    static func open<S: ReplicationStrategy>(_ type: S.Type, scenario: Scenario,
                                             config: StrategyConfig) throws -> () -> SimulationReport {
        let engine = try Engine<S>(scenario: scenario, config: config)
        return { engine.run() }
    }
}
