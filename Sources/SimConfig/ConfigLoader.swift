import Foundation
import SimCore

/// Loads topology and scenario files: YAML → syntax tree → typed reading and validation →
/// immutable ``Topology`` / ``Scenario``.
///
/// Every problem becomes a located ``ConfigError``; loading goes on after an error where it
/// can, and the loaders throw all of them at once as ``ConfigErrors``. Nothing here traps on
/// bad input. The formats are documented key by key in `docs/FORMAT.md`.
public enum ConfigLoader {
    // MARK: Scenarios

    /// Loads a scenario file; a `topology:` path inside it is relative to the file's folder.
    /// - Throws: ``ConfigErrors``.
    public static func loadScenario(path: String) throws -> Scenario {
        let diagnostics = Diagnostics()
        var scenario: Scenario?
        if let (text, hash) = readFile(path, diagnostics: diagnostics) {
            scenario = Self.scenario(text: text, source: path, hash: hash, defaultName: baseName(path),
                                     baseDirectory: directory(of: path), builtin: false, diagnostics: diagnostics)
        }
        try diagnostics.throwIfAny()
        return try unwrap(scenario, source: path)
    }

    /// Loads a scenario from text. `source` names it in errors and reports; a `topology:`
    /// path is relative to `baseDirectory` (the current directory when nil).
    /// - Throws: ``ConfigErrors``.
    public static func loadScenario(yaml: String, source: String, baseDirectory: String?) throws -> Scenario {
        let diagnostics = Diagnostics()
        let s = scenario(text: yaml, source: source, hash: fnv1aHex(yaml.utf8), defaultName: baseName(source),
                         baseDirectory: baseDirectory ?? ".", builtin: false, diagnostics: diagnostics)
        try diagnostics.throwIfAny()
        return try unwrap(s, source: source)
    }

    // MARK: Topologies

    /// Loads a topology file.
    /// - Throws: ``ConfigErrors``.
    public static func loadTopology(path: String) throws -> Topology {
        let diagnostics = Diagnostics()
        var topology: Topology?
        if let (text, hash) = readFile(path, diagnostics: diagnostics) {
            topology = Self.topology(text: text, source: path, hash: hash, defaultName: baseName(path),
                                     diagnostics: diagnostics)
        }
        try diagnostics.throwIfAny()
        return try unwrap(topology, source: path)
    }

    /// Loads a topology from text; `source` names it in errors and reports.
    /// - Throws: ``ConfigErrors``.
    public static func loadTopology(yaml: String, source: String) throws -> Topology {
        let diagnostics = Diagnostics()
        let t = topology(text: yaml, source: source, hash: fnv1aHex(yaml.utf8), defaultName: baseName(source),
                         diagnostics: diagnostics)
        try diagnostics.throwIfAny()
        return try unwrap(t, source: source)
    }

    // MARK: Validation

    /// Checks a topology or scenario file and returns every error (empty when valid).
    ///
    /// The kind is detected from the top-level keys: a scenario has `topology:`, a topology
    /// has `datacenters:`.
    public static func validate(path: String) -> [ConfigError] {
        let diagnostics = Diagnostics()
        guard let (text, hash) = readFile(path, diagnostics: diagnostics) else { return diagnostics.sorted }
        guard let document = YAMLDocument.parse(text, file: path, diagnostics: diagnostics) else { return diagnostics.sorted }
        let keys: [String]
        if let root = document.root, case let .mapping(m) = root.node {
            keys = m.keys.compactMap(\.string)
        } else {
            keys = []
        }
        if keys.contains("topology") {
            _ = ScenarioReader(diagnostics: diagnostics, resolveTopology: topologyResolver(
                source: path, hash: hash, baseDirectory: directory(of: path), builtin: false, diagnostics: diagnostics))
                .read(document.root, defaultName: baseName(path), source: path, contentHash: hash)
        } else if keys.contains("datacenters") {
            _ = TopologyReader(diagnostics: diagnostics)
                .read(document.root, defaultName: baseName(path), source: path, contentHash: hash)
        } else {
            let location = document.root?.location
            diagnostics.add(ConfigError(file: path, line: location?.line, column: location?.column, field: "",
                                        message: "cannot tell what this file is: a scenario has a 'topology:' key, a topology has 'datacenters:'"))
        }
        return diagnostics.sorted
    }

    // MARK: Internals

    static func scenario(text: String, source: String, hash: String, defaultName: String, baseDirectory: String?,
                         builtin: Bool, diagnostics: Diagnostics) -> Scenario? {
        guard let document = YAMLDocument.parse(text, file: source, diagnostics: diagnostics) else { return nil }
        let reader = ScenarioReader(diagnostics: diagnostics, resolveTopology: topologyResolver(
            source: source, hash: hash, baseDirectory: baseDirectory, builtin: builtin, diagnostics: diagnostics))
        return reader.read(document.root, defaultName: defaultName, source: source, contentHash: hash)
    }

    static func topology(text: String, source: String, hash: String, defaultName: String,
                         diagnostics: Diagnostics) -> Topology? {
        guard let document = YAMLDocument.parse(text, file: source, diagnostics: diagnostics) else { return nil }
        return TopologyReader(diagnostics: diagnostics)
            .read(document.root, defaultName: defaultName, source: source, contentHash: hash)
    }

    /// Resolves a scenario's `topology:` value:
    /// - a mapping is an inline topology (its hash is the scenario file's);
    /// - a value containing `/` or ending in `.yaml`/`.yml` is a path, relative to the
    ///   scenario's folder (built-in scenarios cannot name files);
    /// - anything else is a built-in topology name.
    static func topologyResolver(source: String, hash: String, baseDirectory: String?, builtin: Bool,
                                 diagnostics: Diagnostics) -> (YNode) -> Topology? {
        return { node in
            if case .mapping = node.node {
                return TopologyReader(diagnostics: diagnostics)
                    .read(node, defaultName: "inline", source: source, contentHash: hash)
            }
            guard let ref = node.string(expected: "a built-in topology name such as 'telegram-5', a path, or an inline mapping") else {
                return nil
            }
            let isPath = ref.contains("/") || ref.hasSuffix(".yaml") || ref.hasSuffix(".yml")
            guard isPath else {
                guard let text = builtinText(path: "\(ref).yaml") else {
                    let names = builtinTopologyNames
                    return node.fail("unknown built-in topology '\(ref)'\(suggestion(for: ref, among: names)); built-in: \(names.joined(separator: ", ")) (for a file, write a path such as ./\(ref).yaml)")
                }
                return topology(text: text, source: "builtin:\(ref)", hash: fnv1aHex(text.utf8), defaultName: ref,
                                diagnostics: diagnostics)
            }
            if builtin {
                return node.fail("a built-in scenario can only name built-in topologies, found the path '\(ref)'")
            }
            let path = ref.hasPrefix("/") || baseDirectory == nil ? ref : "\(baseDirectory ?? ".")/\(ref)"
            let fileErrors = Diagnostics()
            guard let (text, fileHash) = readFile(path, diagnostics: fileErrors) else {
                return node.fail(fileErrors.errors.first.map { "cannot load topology '\(ref)': \($0.message)" } ?? "cannot read '\(path)'")
            }
            return topology(text: text, source: path, hash: fileHash, defaultName: baseName(path), diagnostics: diagnostics)
        }
    }

    /// Reads a file as UTF-8 and hashes its bytes; records an error and returns nil otherwise.
    static func readFile(_ path: String, diagnostics: Diagnostics) -> (String, String)? {
        func fail(_ message: String) -> (String, String)? {
            diagnostics.add(ConfigError(file: path, line: nil, column: nil, field: "", message: message))
            return nil
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return fail("no such file")
        }
        if isDirectory.boolValue { return fail("is a directory, not a YAML file") }
        guard let data = FileManager.default.contents(atPath: path) else { return fail("cannot read the file (permissions?)") }
        guard let text = String(data: data, encoding: .utf8) else { return fail("the file is not valid UTF-8 text") }
        return (text, fnv1aHex(data))
    }

    /// Returns the value when present; otherwise throws a generic error (readers record a
    /// specific error whenever they return nil, so this is a safety net, not a message path).
    static func unwrap<T>(_ value: T?, source: String) throws -> T {
        guard let value else {
            throw ConfigErrors([ConfigError(file: source, line: nil, column: nil, field: "",
                                            message: "could not be loaded (no specific error was recorded; please report this)")])
        }
        return value
    }

    /// `Topologies/ams-outage.yaml` → `ams-outage`.
    static func baseName(_ path: String) -> String {
        var name = path.split(separator: "/").last.map(String.init) ?? path
        if name.hasPrefix("builtin:") { name = String(name.dropFirst(8)) }
        for ext in [".yaml", ".yml"] where name.hasSuffix(ext) { name = String(name.dropLast(ext.count)) }
        return name
    }

    /// The folder of `path` (`.` for a bare file name).
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

/// FNV-1a 64 of `bytes`, as 16 lowercase hex digits (the files' content hash in the
/// reproduction key).
func fnv1aHex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for b in bytes {
        h ^= UInt64(b)
        h &*= 0x0000_0100_0000_01B3
    }
    let hex = String(h, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
}
