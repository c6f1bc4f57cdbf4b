import SimCore
import SimConfig

/// Typed access to a strategy's parameters with the strictness of the config layer:
/// every key must be consumed (unknown keys are errors with a suggestion), and each error
/// names the parameter, the bad value, what is allowed and where it was written. Value
/// errors are ``ConfigErrors`` (from SimConfig's readers); an unknown parameter is a
/// ``StrategyError``.
public struct StrategyParameters {
    public let strategy: String
    let parameters: [StrategyConfig.Parameter]
    let location: SourceLocation?
    private(set) var used: Set<String> = []

    public init(_ config: StrategyConfig, strategy: String) {
        self.strategy = strategy
        self.parameters = config.parameters
        self.location = config.location
    }

    func find(_ key: String) -> StrategyConfig.Parameter? { parameters.last { $0.key == key } }

    // Each getter reads through SimConfig's typed parameter readers, so strategy parameters
    // parse with exactly the file syntax and messages (and locations) of built-in fields.

    /// A whole-number parameter in `range`, or `defaultValue` when absent.
    public mutating func int(_ key: String, default defaultValue: Int, in range: ClosedRange<Int>) throws -> Int {
        used.insert(key)
        return try find(key)?.integer(in: range) ?? defaultValue
    }

    /// A duration parameter (`500ms`, `2s`…) of at least `minimum`, or `defaultValue` when absent.
    public mutating func duration(_ key: String, default defaultValue: SimDuration,
                                  minimum: SimDuration = .zero) throws -> SimDuration {
        used.insert(key)
        guard let p = find(key) else { return defaultValue }
        let d = try p.duration()
        guard d >= minimum else { throw ConfigErrors([p.error("must be at least \(minimum), got \(d)")]) }
        return d
    }

    /// One of `allowed` words, or `defaultValue` when absent.
    public mutating func choice(_ key: String, default defaultValue: String, allowed: [String]) throws -> String {
        used.insert(key)
        guard let p = find(key) else { return defaultValue }
        let s = p.value.description
        guard allowed.contains(s) else {
            throw ConfigErrors([p.error("'\(s)' is not allowed; use one of: \(allowed.joined(separator: ", "))")])
        }
        return s
    }

    /// A boolean parameter, or `defaultValue` when absent.
    public mutating func bool(_ key: String, default defaultValue: Bool) throws -> Bool {
        used.insert(key)
        return try find(key)?.bool() ?? defaultValue
    }

    /// A map parameter (`{ams: 2, mia: 1}`) as its entries in file order, or `nil` when absent.
    public mutating func map(_ key: String) throws -> [StrategyConfig.Parameter]? {
        used.insert(key)
        guard let p = find(key) else { return nil }
        guard case .map(let entries) = p.value else {
            throw ConfigErrors([p.error("expected a map such as {ams: 2, mia: 1}, got '\(p.value)'")])
        }
        return entries.map { StrategyConfig.Parameter(key: $0.key, value: $0.value, location: $0.location ?? p.location) }
    }

    /// A probability parameter (`0.1`, `10%`), or `defaultValue` when absent.
    public mutating func probability(_ key: String, default defaultValue: Double) throws -> Double {
        used.insert(key)
        return try find(key)?.probability() ?? defaultValue
    }

    /// The raw parameter (for values that may take several forms, such as `ack: all | 2 |
    /// [ams1, fra]`), marked as used, or `nil` when absent.
    public mutating func raw(_ key: String) -> StrategyConfig.Parameter? {
        used.insert(key)
        return find(key)
    }

    /// Where `key` was written (or the strategy's own location), for errors.
    public func location(of key: String) -> SourceLocation? { find(key)?.location ?? location }

    /// Whether the scenario gave `key` explicitly.
    public func has(_ key: String) -> Bool { find(key) != nil }

    /// Throws for the first parameter no getter asked for.
    public func finish() throws {
        for p in parameters where !used.contains(p.key) {
            let known = used.sorted()
            throw StrategyError(strategy: strategy, parameter: p.key,
                                message: "unknown parameter\(didYouMean(p.key, among: known)); allowed: \(known.joined(separator: ", "))",
                                location: p.location ?? location)
        }
    }
}
