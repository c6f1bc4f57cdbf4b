import SimCore
import Yams

/// Typed reading of open parameters for plug-ins.
///
/// Strategies and the fault injector receive their extra keys as ``StrategyConfig/Parameter``s
/// (`lag: 500ms`, `latency: {dist: exponential, mean: 20ms}`). These helpers read them with
/// exactly the file syntax and messages of the built-in fields, and throw ``ConfigErrors``
/// located at the parameter's key, so a plug-in never reimplements unit parsing.
///
///     let lag = try parameter.duration()                       // SimDuration
///     let extra = try parameter.distribution(.duration)         // Distribution in ns
extension StrategyConfig.Parameter {
    /// A duration (`500ms`, `1h30m`, `0`).
    public func duration(field: String? = nil) throws -> SimDuration {
        try read(field) { $0.duration() }
    }

    /// A size in bytes (`4KiB`, `200KB`).
    public func size(field: String? = nil) throws -> Int64 {
        try read(field) { $0.size() }
    }

    /// A probability in 0…1 (`0.001`, `0.1%`, `1000ppm`).
    public func probability(field: String? = nil) throws -> Double {
        try read(field) { $0.ratio() }
    }

    /// A rate in events per second (`200/s`, `12000/h`).
    public func rate(field: String? = nil) throws -> Double {
        try read(field) { $0.rate() }
    }

    /// A bandwidth in bits per second (`10Gbps`; `unlimited` is 0).
    public func bandwidth(field: String? = nil) throws -> Int64 {
        try read(field) { $0.bandwidth() }
    }

    /// A distribution of `quantity` values (a constant or a `{dist: …}` mapping), checked to
    /// never go negative.
    public func distribution(_ quantity: ConfigQuantity, field: String? = nil) throws -> Distribution {
        try read(field) { $0.distribution(quantity) }
    }

    /// A whole number in `range`.
    public func integer(in range: ClosedRange<Int>, field: String? = nil) throws -> Int {
        try read(field) { $0.int(Int64(range.lowerBound)...Int64(range.upperBound)) }
    }

    /// A number in `range`.
    public func number(in range: ClosedRange<Double>, field: String? = nil) throws -> Double {
        try read(field) { $0.number(range) }
    }

    /// `true` or `false`.
    public func bool(field: String? = nil) throws -> Bool {
        try read(field) { $0.bool() }
    }

    private func read<T>(_ field: String?, _ body: (YNode) -> T?) throws -> T {
        let diagnostics = Diagnostics()
        let loc = location ?? SourceLocation(file: "<parameter>", line: 1, column: 1)
        let node = YNode(node: value.yamlNode, path: field ?? key, file: loc.file, diagnostics: diagnostics,
                         fixedLocation: location)
        let result = body(node)
        try diagnostics.throwIfAny()
        guard let result else {
            throw ConfigErrors([error("could not be read (no specific error was recorded; please report this)", field: field)])
        }
        return result
    }
}

extension ConfigValue {
    /// The value as a YAML node again (unquoted scalars), for re-reading with units.
    var yamlNode: Node {
        switch self {
        case .string(let s): return Node(s)
        case .number(let x): return Node(fmtNumber(x))
        case .bool(let b): return Node(b ? "true" : "false")
        case .list(let items): return Node(items.map(\.yamlNode))
        case .map(let params): return Node(params.map { (Node($0.key), $0.value.yamlNode) })
        }
    }
}

extension DistributionSyntax {
    /// Parses one distribution from YAML text (for tests and tools).
    /// - Throws: ``ConfigErrors``.
    static func parse(yaml: String, _ quantity: ConfigQuantity, source: String = "<distribution>") throws -> Distribution {
        let diagnostics = Diagnostics()
        let root = YAMLDocument.parse(yaml, file: source, diagnostics: diagnostics)?.root
        let d = root?.distribution(quantity)
        if root == nil && diagnostics.isEmpty {
            diagnostics.add(ConfigError(file: source, line: nil, column: nil, field: "", message: "empty"))
        }
        try diagnostics.throwIfAny()
        return try ConfigLoader.unwrap(d, source: source)
    }
}
