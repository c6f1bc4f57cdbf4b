import SimCore
import Yams

/// A small typed reader over a Yams syntax tree that records every problem as a located
/// ``ConfigError`` and keeps going.
///
/// Each accessor returns `nil` after recording an error, so callers continue with the next
/// field and one pass reports every independent mistake. Mappings are read through
/// ``YMap``, which rejects keys outside a declared list (with a "did you mean" suggestion) so
/// a typo never silently falls back to a default.
///
/// Scalars are interpreted from their text, not from YAML 1.1 tag resolution: `no` in
/// `jurisdiction: no` is the string "no" (Norway), and `"5ms"` quoted or not is a duration.

// MARK: - Diagnostics

/// Collects the errors of one load. A reference type so that every ``YNode`` of a document
/// appends to the same list.
final class Diagnostics {
    private(set) var errors: [ConfigError] = []

    func add(_ error: ConfigError) { errors.append(error) }
    func add(contentsOf more: [ConfigError]) { errors.append(contentsOf: more) }

    var isEmpty: Bool { errors.isEmpty }

    /// Errors sorted by file (in order of first appearance), then line, then column; the
    /// sort is stable so errors at one place keep their order.
    var sorted: [ConfigError] {
        var fileOrder: [String: Int] = [:]
        for e in errors where fileOrder[e.file] == nil { fileOrder[e.file] = fileOrder.count }
        return errors.enumerated().sorted { a, b in
            let fa = fileOrder[a.element.file] ?? 0, fb = fileOrder[b.element.file] ?? 0
            if fa != fb { return fa < fb }
            let la = a.element.line ?? 0, lb = b.element.line ?? 0
            if la != lb { return la < lb }
            let ca = a.element.column ?? 0, cb = b.element.column ?? 0
            if ca != cb { return ca < cb }
            return a.offset < b.offset
        }.map(\.element)
    }

    /// Throws ``ConfigErrors`` if anything was recorded.
    func throwIfAny() throws {
        if !errors.isEmpty { throw ConfigErrors(sorted) }
    }
}

// MARK: - Parsing a document

/// A parsed YAML document: its root node, or nil for an empty file.
struct YAMLDocument {
    var root: YNode?

    /// Parses `text`; syntax errors become located ``ConfigError``s in `diagnostics`.
    static func parse(_ text: String, file: String, diagnostics: Diagnostics) -> YAMLDocument? {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            diagnostics.add(syntaxError(error, file: file, text: text))
            return nil
        } catch {
            diagnostics.add(ConfigError(file: file, line: nil, column: nil, field: "",
                                        message: "cannot parse YAML: \(error)"))
            return nil
        }
        return YAMLDocument(root: node.map { YNode(node: $0, path: "", file: file, diagnostics: diagnostics) })
    }

    /// A ``ConfigError`` for a YAML syntax error, keeping libyaml's position and wording
    /// (which is precise) and adding a hint for the common mistakes.
    static func syntaxError(_ error: YamlError, file: String, text: String) -> ConfigError {
        func make(_ mark: Mark, _ problem: String, _ context: YamlError.Context?) -> ConfigError {
            var message = "invalid YAML: " + problem
            if let context { message += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))" }
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let lineText = mark.line >= 1 && mark.line <= lines.count ? String(lines[mark.line - 1]) : ""
            if lineText.contains(": >=") || lineText.contains(": >") {
                message += "; a value starting with '>' must be quoted, e.g. availability: \">= 0.999\""
            } else if lineText.contains("\t") {
                message += "; YAML does not allow tabs for indentation, use spaces"
            } else if problem.contains("mapping values are not allowed") {
                message += "; check the indentation, or quote a value that contains ': '"
            }
            return ConfigError(file: file, line: mark.line, column: mark.column, field: "", message: message)
        }
        switch error {
        case let .scanner(context, problem, mark, _): return make(mark, problem, context)
        case let .parser(context, problem, mark, _): return make(mark, problem, context)
        case let .composer(context, problem, mark, _):
            // The "expected a single document" context points at line 1; report the problem.
            return make(mark, problem, context?.mark.line == 1 && context?.mark.column == 1 ? nil : context)
        case let .duplicatedKeysInMapping(duplicates, context):
            let keys = quotedList(duplicates, conjunction: "and")
            return ConfigError(file: file, line: context.mark.line, column: context.mark.column, field: "",
                               message: "duplicate key \(keys) in one mapping; each key may appear once")
        case let .reader(problem, offset, _, _):
            var line: Int?, column: Int?
            if let offset {
                let prefix = text.prefix(offset)
                line = prefix.filter { $0 == "\n" }.count + 1
                column = (prefix.lastIndex(of: "\n").map { prefix.distance(from: $0, to: prefix.endIndex) } ?? offset + 1)
            }
            return ConfigError(file: file, line: line, column: column, field: "",
                               message: "cannot read the file as UTF-8 YAML: \(problem)")
        default:
            return ConfigError(file: file, line: nil, column: nil, field: "", message: "invalid YAML: \(error)")
        }
    }
}

// MARK: - Nodes

/// One node of the document with its key path, for typed reads with located errors.
struct YNode {
    let node: Node
    /// Key path from the root: `datacenters[2].node.servers`.
    let path: String
    let file: String
    let diagnostics: Diagnostics
    /// Set for trees rebuilt from a ``ConfigValue`` (which keeps only its parameter's
    /// location): every node of such a tree reports this place.
    var fixedLocation: SourceLocation? = nil

    init(node: Node, path: String, file: String, diagnostics: Diagnostics, fixedLocation: SourceLocation? = nil) {
        self.node = node; self.path = path; self.file = file
        self.diagnostics = diagnostics; self.fixedLocation = fixedLocation
    }

    var location: SourceLocation {
        if let fixedLocation { return fixedLocation }
        let mark = node.mark
        return SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    /// A child node's path: `path.key` or `path[index]`.
    func childPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
    func childPath(_ index: Int) -> String { "\(path)[\(index)]" }

    func child(_ node: Node, key: String) -> YNode {
        YNode(node: node, path: childPath(key), file: file, diagnostics: diagnostics, fixedLocation: fixedLocation)
    }

    /// A node elsewhere in the same tree (same file, same diagnostics).
    func sibling(_ node: Node, path: String) -> YNode {
        YNode(node: node, path: path, file: file, diagnostics: diagnostics, fixedLocation: fixedLocation)
    }

    /// Records an error at this node and returns nil (so `return fail(...)` reads well).
    @discardableResult
    func fail<T>(_ message: String, field: String? = nil, as: T.Type = T.self) -> T? {
        let loc = location
        diagnostics.add(ConfigError(file: loc.file, line: loc.line, column: loc.column,
                                    field: field ?? path, message: message))
        return nil
    }

    func error(_ message: String, field: String? = nil) { let _: Bool? = fail(message, field: field) }

    // MARK: Shape

    /// A plain empty scalar, `~` or `null`: the key is present but has no value.
    var isNull: Bool {
        guard case let .scalar(s) = node, s.style == .plain || s.style == .any else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(s.string)
    }

    /// What the node is, for "found …" in messages: `a mapping`, `a list`, `'text'`.
    var found: String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case let .scalar(s):
            if isNull { return "nothing (an empty value)" }
            let text = s.string.count > 60 ? String(s.string.prefix(57)) + "…" : s.string
            return "'\(text)'"
        }
    }

    /// The scalar's text, or nil (with an error naming `expected`) for mappings, lists and
    /// empty values.
    func scalar(expected: String) -> String? {
        guard case let .scalar(s) = node, !isNull else {
            return fail("expected \(expected), found \(found)")
        }
        return s.string
    }

    /// Whether the scalar was quoted in the file (quoted text is never a number or bool).
    var isQuoted: Bool {
        guard case let .scalar(s) = node else { return false }
        return s.style == .singleQuoted || s.style == .doubleQuoted
    }

    // MARK: Typed scalars

    func string(expected: String = "a string") -> String? {
        scalar(expected: expected)
    }

    /// A non-empty string that is a valid id: letters, digits, `-`, `_`, `.`, starting with a
    /// letter or digit (ids appear in fault targets such as `region:eu` and `a->b`).
    func identifier(what: String) -> String? {
        guard let s = scalar(expected: "\(what) (letters, digits, '-', '_', '.')") else { return nil }
        guard let first = s.unicodeScalars.first, isIdentifierStart(first),
              s.unicodeScalars.allSatisfy(isIdentifierChar) else {
            return fail("'\(s)' is not a valid \(what): use letters, digits, '-', '_' and '.', starting with a letter or digit")
        }
        return s
    }

    func bool() -> Bool? {
        guard let s = scalar(expected: "true or false") else { return nil }
        switch s.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: return fail("expected true or false, found '\(s)'")
        }
    }

    /// A whole number in `range`.
    func int(_ range: ClosedRange<Int64>, what: String = "a whole number") -> Int? {
        guard let s = scalar(expected: what) else { return nil }
        guard let v = Units.integer(s) else {
            if let x = Units.number(s) {
                return fail("expected \(what) \(describe(range)), found '\(s)'" + (x.rounded() != x ? " (not a whole number)" : ""))
            }
            return fail("expected \(what) \(describe(range)), found '\(s)'")
        }
        guard range.contains(v) else { return fail("expected \(what) \(describe(range)), found '\(s)'") }
        return Int(v)
    }

    /// A plain number in `range` (percentages are not accepted here; see ``ratio()``).
    func number(_ range: ClosedRange<Double> = -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude,
                exclusiveLower: Bool = false, what: String = "a number") -> Double? {
        guard let s = scalar(expected: what) else { return nil }
        var bound = exclusiveLower ? "greater than \(fmtNumber(range.lowerBound))" : describe(range)
        if !bound.isEmpty { bound = " " + bound }
        guard let x = Units.number(s) else { return fail("expected \(what)\(bound), found '\(s)'") }
        if exclusiveLower ? x <= range.lowerBound : x < range.lowerBound {
            return fail("expected \(what)\(bound), found '\(s)'")
        }
        if x > range.upperBound { return fail("expected \(what)\(bound), found '\(s)'") }
        return x
    }

    /// A weight: a number ≥ 0 (or `> 0` when `positive`), or a percentage.
    func weight(positive: Bool = false) -> Double? {
        guard let s = scalar(expected: "a weight (a number ≥ 0)") else { return nil }
        let t = s.trimmingSpaces()
        let x = t.hasSuffix("%") ? Units.scaledNumber(String(t.dropLast()), scale: 2) : Units.number(String(t))
        guard let x else { return fail("expected a weight (a number such as 0.3 or 30%), found '\(s)'") }
        if positive ? x <= 0 : x < 0 {
            return fail("expected a weight \(positive ? "greater than 0" : "≥ 0"), found '\(s)'")
        }
        return x
    }

    /// A probability or share in `0…1`: `0.05`, `5%`, `500ppm`.
    func ratio() -> Double? {
        guard let s = scalar(expected: Units.probabilityHelp) else { return nil }
        return unwrap(Units.probability(s))
    }

    func duration() -> SimDuration? {
        guard let s = scalar(expected: Units.durationHelp) else { return nil }
        return unwrap(Units.duration(s)).map { SimDuration(nanoseconds: $0.whole) }
    }

    /// A duration in nanoseconds as a `Double` (for distribution parameters).
    func durationNanoseconds() -> Double? {
        guard let s = scalar(expected: Units.durationHelp) else { return nil }
        return unwrap(Units.duration(s)).map(\.ns)
    }

    func size() -> Int64? {
        guard let s = scalar(expected: Units.sizeHelp) else { return nil }
        return unwrap(Units.size(s)).map(\.whole)
    }

    func sizeBytes() -> Double? {
        guard let s = scalar(expected: Units.sizeHelp) else { return nil }
        return unwrap(Units.size(s)).map(\.bytes)
    }

    func bandwidth() -> Int64? {
        guard let s = scalar(expected: Units.bandwidthHelp) else { return nil }
        return unwrap(Units.bandwidth(s))
    }

    func rate() -> Double? {
        guard let s = scalar(expected: Units.rateHelp) else { return nil }
        return unwrap(Units.rate(s))
    }

    func unwrap<T>(_ r: Result<T, Units.Failure>) -> T? {
        switch r {
        case .success(let v): return v
        case .failure(let f): return fail(f.message)
        }
    }

    /// One of `allowed` (with a did-you-mean).
    func choice(_ allowed: [String], what: String) -> String? {
        guard let s = scalar(expected: "\(what): \(quotedList(allowed))") else { return nil }
        guard allowed.contains(s) else {
            return fail("unknown \(what) '\(s)'\(suggestion(for: s, among: allowed)); allowed: \(quotedList(allowed))")
        }
        return s
    }

    // MARK: Collections

    /// The node as a mapping whose keys must be among `allowed` (unknown keys are reported,
    /// with a suggestion and the allowed list). Pass `allowed: nil` for open mappings whose
    /// keys are names (regions, message classes, metrics).
    func mapping(allowed: [String]?, what: String = "a mapping") -> YMap? {
        guard case let .mapping(m) = node else {
            return fail("expected \(what), found \(found)")
        }
        var entries: [YMap.Entry] = []
        var merged: [YMap.Entry] = []
        for (k, v) in m {
            guard case let .scalar(ks) = k else {
                sibling(k, path: path)
                    .error("mapping keys must be plain names, found \(sibling(k, path: path).found)")
                continue
            }
            let key = ks.string
            if key == "<<" && !(ks.style == .singleQuoted || ks.style == .doubleQuoted) {
                // YAML merge key: `<<: *defaults` copies the keys the mapping does not set.
                let sources: [Node]
                if case let .sequence(seq) = v { sources = Array(seq) } else { sources = [v] }
                for source in sources {
                    let sn = sibling(source, path: path)
                    guard let sm = sn.mapping(allowed: nil, what: "a mapping to merge (<<)") else { continue }
                    merged.append(contentsOf: sm.entries)
                }
                continue
            }
            entries.append(YMap.Entry(key: key, keyNode: sibling(k, path: childPath(key)),
                                      value: child(v, key: key)))
        }
        for e in merged where !entries.contains(where: { $0.key == e.key }) {
            entries.append(YMap.Entry(key: e.key, keyNode: e.keyNode,
                                      value: sibling(e.value.node, path: childPath(e.key))))
        }
        let map = YMap(owner: self, entries: entries, allowed: allowed)
        if let allowed { map.rejectUnknown(allowed: allowed) }
        return map
    }

    /// The node as a list; a single scalar is not promoted to a list.
    func list(what: String = "a list") -> [YNode]? {
        guard case let .sequence(seq) = node else {
            return fail("expected \(what), found \(found)")
        }
        return seq.enumerated().map { i, n in sibling(n, path: childPath(i)) }
    }

    /// The node converted to an untyped ``ConfigValue`` for plug-in parameters.
    func configValue() -> ConfigValue {
        switch node {
        case let .scalar(s):
            if isNull { return .string("") }
            if isQuoted { return .string(s.string) }
            switch s.string {
            case "true": return .bool(true)
            case "false": return .bool(false)
            default: break
            }
            if let x = Units.number(s.string) { return .number(x) }
            return .string(s.string)
        case .sequence:
            return .list((list() ?? []).map { $0.configValue() })
        case .mapping:
            guard let m = mapping(allowed: nil) else { return .map([]) }
            return .map(m.entries.map { $0.parameter() })
        case .alias:
            return .string("")
        }
    }
}

// MARK: - Mappings

/// A mapping's entries in file order, with lookups by key.
struct YMap {
    struct Entry {
        var key: String
        var keyNode: YNode
        var value: YNode

        func parameter() -> StrategyConfig.Parameter {
            StrategyConfig.Parameter(key: key, value: value.configValue(), location: keyNode.location)
        }
    }

    let owner: YNode
    let entries: [Entry]
    /// The keys declared when the mapping was read (nil for open mappings).
    var allowed: [String]? = nil

    var isEmpty: Bool { entries.isEmpty }
    var keys: [String] { entries.map(\.key) }

    /// Reports every key not in `allowed`, at the key, with a suggestion and the full list.
    func rejectUnknown(allowed: [String]) {
        // (Called once per mapping, by ``YNode/mapping(allowed:what:)`` or by readers whose
        // allowed keys depend on a value, such as a distribution's `dist:`.)
        for e in entries where !allowed.contains(e.key) {
            let hint = suggestion(for: e.key, among: allowed)
            e.keyNode.error("unknown key '\(e.key)'\(hint); allowed here: \(allowed.joined(separator: ", "))")
        }
    }

    /// The value of `key`, or nil when absent or empty (`key:` with nothing, `~`, `null`):
    /// an empty value means "use the default".
    subscript(key: String) -> YNode? {
        guard let e = entries.first(where: { $0.key == key }), !e.value.isNull else { return nil }
        return e.value
    }

    /// The value of `key`, or nil after reporting it missing at the mapping.
    func required(_ key: String, expected: String) -> YNode? {
        if let v = self[key] { return v }
        if let e = entries.first(where: { $0.key == key }) {
            return e.value.fail("'\(key)' needs a value: \(expected)")
        }
        // A misspelt key already reported as "unknown key 'x' (did you mean 'key'?)" is
        // not reported a second time as missing.
        if let allowed, entries.contains(where: { !allowed.contains($0.key) && closest(to: $0.key, among: allowed) == key }) {
            return nil
        }
        return owner.fail("missing required key '\(key)' (\(expected))", field: owner.childPath(key))
    }

    func has(_ key: String) -> Bool { self[key] != nil }
}

// MARK: - Helpers

func isIdentifierStart(_ c: Unicode.Scalar) -> Bool {
    c.properties.isAlphabetic || ("0"..."9").contains(c)
}

func isIdentifierChar(_ c: Unicode.Scalar) -> Bool {
    isIdentifierStart(c) || c == "-" || c == "_" || c == "."
}

func describe(_ range: ClosedRange<Int64>) -> String {
    if range.upperBound == .max { return "≥ \(range.lowerBound)" }
    return "from \(range.lowerBound) to \(range.upperBound)"
}

func describe(_ range: ClosedRange<Double>) -> String {
    let lo = range.lowerBound, hi = range.upperBound
    if hi >= .greatestFiniteMagnitude {
        return lo <= -.greatestFiniteMagnitude ? "" : "≥ \(fmtNumber(lo))"
    }
    return "from \(fmtNumber(lo)) to \(fmtNumber(hi))"
}

/// A number without a trailing `.0`, for messages.
func fmtNumber(_ x: Double) -> String {
    if x == x.rounded() && abs(x) < 1e15 { return String(Int64(x)) }
    return String(x)
}
