/// A problem with a topology or scenario file, located precisely enough to fix it.
///
/// Every error names the file, the line and column (when the problem has a place in the
/// file), the key path of the field (`datacenters[2].nodes`, `workload.mix.photo.size`;
/// list indices are 0-based), and a message that quotes the bad value and says what is
/// allowed. ``description`` renders the compiler-style line the CLI prints:
///
///     Topologies/bad.yaml:12:14: error: datacenters[1].node.servers: expected a whole number ≥ 1, found '0'
public struct ConfigError: Error, CustomStringConvertible, Sendable, Hashable {
    /// The file as it was named when loading (`builtin:NAME` for embedded files).
    public var file: String
    /// 1-based line, or `nil` for problems without a place (a file that cannot be read).
    public var line: Int?
    /// 1-based column, counted in Unicode scalars.
    public var column: Int?
    /// The key path of the offending field; empty for whole-file problems.
    public var field: String
    /// What is wrong, with the bad value and what is allowed.
    public var message: String

    public init(file: String, line: Int?, column: Int?, field: String, message: String) {
        self.file = file; self.line = line; self.column = column
        self.field = field; self.message = message
    }

    /// An error at a known source location.
    public init(at location: SourceLocation?, file: String? = nil, field: String, message: String) {
        self.init(file: location?.file ?? file ?? "<unknown>", line: location?.line,
                  column: location?.column, field: field, message: message)
    }

    /// `FILE:LINE:COL: error: FIELD: MESSAGE` (the position and field parts are left out when
    /// unknown), one line, as compilers print it so editors can jump to the place.
    public var description: String {
        var s = file
        if let line {
            s += ":\(line)"
            if let column { s += ":\(column)" }
        }
        s += ": error: "
        if !field.isEmpty { s += field + ": " }
        return s + message
    }
}

/// One or more ``ConfigError``s from loading a file: validation goes on after the first
/// problem where it can, so a user fixes several mistakes per run.
public struct ConfigErrors: Error, CustomStringConvertible, Sendable {
    /// In file order (then line, then column).
    public var errors: [ConfigError]

    public init(_ errors: [ConfigError]) { self.errors = errors }
    public init(errors: [ConfigError]) { self.errors = errors }

    /// One ``ConfigError/description`` per line.
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

// MARK: - Parameter helpers for plug-ins

extension StrategyConfig.Parameter {
    /// An error about this parameter, located where it was written, for plug-ins (strategies,
    /// faults) that validate their own parameters. `field` defaults to the parameter's key.
    public func error(_ message: String, field: String? = nil) -> ConfigError {
        ConfigError(at: location, field: field ?? key, message: message)
    }
}

extension StrategyConfig {
    /// An error about the strategy as a whole (unknown preset, impossible quorum), located
    /// where it was written.
    public func error(_ message: String, field: String = "strategy") -> ConfigError {
        ConfigError(at: location, field: field, message: message)
    }
}

extension FaultSpec {
    /// An error about this fault, located where it was written.
    public func error(_ message: String, field: String = "faults") -> ConfigError {
        ConfigError(at: location, field: field, message: message)
    }
}
