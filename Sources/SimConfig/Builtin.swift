/// The built-in topologies and scenarios: the files in `Topologies/` and
/// `Topologies/scenarios/`, embedded in the binary by `Scripts/embed-topologies.sh` (see
/// `BuiltinFiles.swift`) so `dcsim run` works from any directory.
extension ConfigLoader {
    /// Names of the built-in topologies (`Topologies/NAME.yaml`), sorted.
    public static var builtinTopologyNames: [String] {
        BuiltinFiles.files.map(\.path)
            .filter { !$0.contains("/") && $0.hasSuffix(".yaml") }
            .map { String($0.dropLast(5)) }
            .sorted()
    }

    /// Names of the built-in scenarios (`Topologies/scenarios/NAME.yaml`), sorted; includes
    /// `default`.
    public static var builtinScenarioNames: [String] {
        BuiltinFiles.files.map(\.path)
            .filter { $0.hasPrefix("scenarios/") && $0.hasSuffix(".yaml") }
            .map { String($0.dropFirst(10).dropLast(5)) }
            .filter { !$0.contains("/") }
            .sorted()
    }

    /// A built-in scenario by name (`default`, `ams-outage`…); its source is `builtin:NAME`.
    /// - Throws: ``ConfigErrors`` (an unknown name, with a suggestion).
    public static func builtinScenario(named name: String) throws -> Scenario {
        let source = "builtin:\(name)"
        guard let text = builtinText(path: "scenarios/\(name).yaml") else {
            let names = builtinScenarioNames
            throw ConfigErrors([ConfigError(file: source, line: nil, column: nil, field: "",
                                            message: "no built-in scenario '\(name)'\(suggestion(for: name, among: names)); built-in: \(names.joined(separator: ", "))")])
        }
        let diagnostics = Diagnostics()
        let scenario = scenario(text: text, source: source, hash: fnv1aHex(text.utf8), defaultName: name,
                                baseDirectory: nil, builtin: true, diagnostics: diagnostics)
        try diagnostics.throwIfAny()
        return try unwrap(scenario, source: source)
    }

    /// A built-in topology by name (`telegram-5`…); its source is `builtin:NAME`.
    /// - Throws: ``ConfigErrors`` (an unknown name, with a suggestion).
    public static func builtinTopology(named name: String) throws -> Topology {
        let source = "builtin:\(name)"
        guard let text = builtinText(path: "\(name).yaml") else {
            let names = builtinTopologyNames
            throw ConfigErrors([ConfigError(file: source, line: nil, column: nil, field: "",
                                            message: "no built-in topology '\(name)'\(suggestion(for: name, among: names)); built-in: \(names.joined(separator: ", "))")])
        }
        let diagnostics = Diagnostics()
        let topology = topology(text: text, source: source, hash: fnv1aHex(text.utf8), defaultName: name,
                                diagnostics: diagnostics)
        try diagnostics.throwIfAny()
        return try unwrap(topology, source: source)
    }

    /// The YAML text of a built-in file (path relative to `Topologies/`), if there is one.
    static func builtinText(path: String) -> String? {
        BuiltinFiles.files.first { $0.path == path }?.yaml
    }
}
