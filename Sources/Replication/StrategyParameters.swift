import SimCore
import SimConfig

/// Typed access to a strategy's parameters with the strictness of the config layer:
/// every key must be consumed (unknown keys are errors with a suggestion), and each error
/// names the parameter, the bad value, what is allowed and where it was written.
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

    func error(_ key: String, _ message: String) -> StrategyError {
        StrategyError(strategy: strategy, parameter: key, message: message, location: find(key)?.location ?? location)
    }

    /// An integer parameter in `range`, or `defaultValue` when absent.
    public mutating func int(_ key: String, default defaultValue: Int, in range: ClosedRange<Int>) throws -> Int {
        used.insert(key)
        guard let p = find(key) else { return defaultValue }
        guard case .number(let x) = p.value, x == x.rounded(), let v = Int(exactly: x) else {
            throw error(key, "expected a whole number in \(range.lowerBound)...\(range.upperBound), got '\(p.value)'")
        }
        guard range.contains(v) else {
            throw error(key, "\(v) is out of range; allowed \(range.lowerBound)...\(range.upperBound)")
        }
        return v
    }

    /// A duration parameter (`500ms`, `2s`…), or `defaultValue` when absent.
    public mutating func duration(_ key: String, default defaultValue: SimDuration,
                                  minimum: SimDuration = .zero) throws -> SimDuration {
        used.insert(key)
        guard let p = find(key) else { return defaultValue }
        guard case .string(let s) = p.value, let d = DurationSyntax.parse(s) else {
            throw error(key, "expected a duration such as 500ms, 2s or 1m, got '\(p.value)'")
        }
        guard d >= minimum else { throw error(key, "must be at least \(minimum), got \(d)") }
        return d
    }

    /// One of `allowed` words, or `defaultValue` when absent.
    public mutating func choice(_ key: String, default defaultValue: String, allowed: [String]) throws -> String {
        used.insert(key)
        guard let p = find(key) else { return defaultValue }
        let s = p.value.description
        guard allowed.contains(s) else {
            throw error(key, "'\(s)' is not allowed; use one of: \(allowed.joined(separator: ", "))")
        }
        return s
    }

    /// A boolean parameter, or `defaultValue` when absent.
    public mutating func bool(_ key: String, default defaultValue: Bool) throws -> Bool {
        used.insert(key)
        guard let p = find(key) else { return defaultValue }
        guard case .bool(let b) = p.value else { throw error(key, "expected true or false, got '\(p.value)'") }
        return b
    }

    /// Throws for the first parameter no getter asked for.
    public func finish() throws {
        for p in parameters where !used.contains(p.key) {
            let known = used.sorted()
            let hint = known.min { editDistance($0, p.key) < editDistance($1, p.key) }
                .flatMap { editDistance($0, p.key) <= 2 ? " (did you mean '\($0)'?)" : nil } ?? ""
            throw StrategyError(strategy: strategy, parameter: p.key,
                                message: "unknown parameter\(hint); allowed: \(known.joined(separator: ", "))",
                                location: p.location ?? location)
        }
    }
}

/// Parses the duration syntax of the YAML files (`250ns`, `12us`, `5ms`, `1.5s`, `2m`, `1h`,
/// `3d`, compounds like `1h30m`, and `0`). Kept here, small, so strategy parameters that
/// arrive as strings parse exactly like file durations.
public enum DurationSyntax {
    public static func parse(_ text: String) -> SimDuration? {
        let s = text.trimmingCharacters(in: .whitespaces)
        if s == "0" { return .zero }
        var total: Double = 0
        var rest = Substring(s)
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let num = rest.prefix { $0.isNumber || $0 == "." }
            guard !num.isEmpty, let value = Double(num) else { return nil }
            rest = rest.dropFirst(num.count)
            let unit = rest.prefix { $0.isLetter || $0 == "µ" }
            rest = rest.dropFirst(unit.count)
            let scale: Double
            switch unit {
            case "ns": scale = 1
            case "us", "µs": scale = 1e3
            case "ms": scale = 1e6
            case "s": scale = 1e9
            case "m", "min": scale = 60e9
            case "h": scale = 3600e9
            case "d": scale = 86400e9
            default: return nil
            }
            total += value * scale
        }
        return SimDuration(sampledNanoseconds: total)
    }
}

extension String {
    func trimmingCharacters(in set: CharacterSetLike) -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
/// A tiny stand-in so this module needs no Foundation.
struct CharacterSetLike { static let whitespaces = CharacterSetLike() }

/// Levenshtein distance, for "did you mean" suggestions.
public func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var prev = Array(0...b.count)
    var cur = Array(repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        cur[0] = i
        for j in 1...b.count {
            cur[j] = Swift.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&prev, &cur)
    }
    return prev[b.count]
}
