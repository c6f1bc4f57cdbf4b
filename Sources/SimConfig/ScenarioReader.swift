import SimCore
import ShardPipeline

/// Reads a scenario file's syntax tree into a validated ``Scenario``.
///
/// The topology is resolved first (a built-in name, a path, or an inline mapping), because
/// the workload's region weights and the faults' targets are checked against it.
struct ScenarioReader {
    let diagnostics: Diagnostics
    /// Loads the topology named by the `topology:` node; records its own errors.
    let resolveTopology: (YNode) -> Topology?

    static let topKeys = ["name", "description", "topology", "seed", "duration", "warmup", "payload", "strategy",
                          "compare", "key_placement", "workload", "faults", "chaos", "swarm", "fault_budget", "slo", "report",
                          "stop_at_first_loss", "quiet_period", "message_delays"]
    /// Keys reserved for later work; rejected with a clear message until then.
    static let reservedKeys: [String: String] = [:]
    static let workloadKeys = ["users", "regions", "devices", "devices_per_user", "rate", "daily_curve", "bursts", "mix",
                               "secret_chats", "groups", "group_size", "chat_zipf", "chats_per_user", "edits", "deletes",
                               "ttl", "mutation_delay", "device_sync", "sync_delay", "history_reads", "client"]
    static let mixKeys = ["weight", "size", "compressible"]
    static let burstKeys = ["at", "for", "factor"]
    static let ttlKeys = ["share", "after"]
    static let clientKeys = ["timeout", "retries", "backoff", "failover"]
    static let reportKeys = ["sample_interval"]
    static let keyPlacements = ["same-dc", "other-dc", "other-jurisdiction"]
    static let faultFixedKeys = ["kind", "at", "for", "permanent", "target"]

    func read(_ root: YNode?, defaultName: String, source: String, contentHash: String) -> Scenario? {
        guard let root else {
            diagnostics.add(ConfigError(file: source, line: nil, column: nil, field: "",
                                        message: "the file is empty; a scenario needs at least 'topology:' and 'duration:'"))
            return nil
        }
        let errorsBefore = diagnostics.errors.count
        guard let top = root.mapping(allowed: nil, what: "a scenario (a mapping with 'topology:' and 'duration:')") else {
            return nil
        }
        for e in top.entries where !Self.topKeys.contains(e.key) {
            if let purpose = Self.reservedKeys[e.key] {
                e.keyNode.error("'\(e.key)' is reserved for \(purpose), which is not supported yet; remove it")
            } else {
                e.keyNode.error("unknown key '\(e.key)'\(suggestion(for: e.key, among: Self.topKeys)); allowed here: \(Self.topKeys.joined(separator: ", "))")
            }
        }

        let name = top["name"]?.string() ?? defaultName
        let summary = top["description"]?.string() ?? ""
        let seed: UInt64? = top["seed"].map { n in
            guard let s = n.scalar(expected: "a whole number from 0 to 2^64-1") else { return nil }
            guard let v = UInt64(s.replacingUnderscores()) else {
                return n.fail("expected a whole number from 0 to 2^64-1, found '\(s)'")
            }
            return v
        } ?? ScenarioDefaults.seed
        let duration = top.required("duration", expected: "how long to simulate, e.g. 10m")?.duration()
        if let d = duration, d <= .zero { top["duration"]?.error("the duration must be greater than 0") }
        let warmup = top["warmup"].map { $0.duration() } ?? ScenarioDefaults.warmup
        if let duration, let warmup, warmup >= duration, duration > .zero {
            top["warmup"]?.error("the warmup (\(warmup)) must be shorter than the duration (\(duration))")
        }
        let payload = top["payload"].map { n in
            n.choice(PayloadMode.allCases.map(\.rawValue), what: "payload mode").flatMap(PayloadMode.init(rawValue:))
        } ?? ScenarioDefaults.payload
        let strategy = top["strategy"].map(readStrategy) ?? StrategyConfig(name: ScenarioDefaults.strategy)
        var compare: [StrategyConfig] = []
        if let list = top["compare"]?.list(what: "a list of strategies, e.g. [async-geo, quorum-3dc]") {
            compare = list.compactMap(readStrategy)
        }
        let sampleInterval: SimDuration? = top["report"].flatMap { n in
            n.mapping(allowed: Self.reportKeys)?["sample_interval"].map { node in
                guard let d = node.duration() else { return nil }
                return d > .zero ? d : node.fail("the sample interval must be greater than 0")
            }
        } ?? duration.map(ScenarioDefaults.sampleInterval(for:)) ?? ScenarioDefaults.sampleInterval

        // Everything below depends on the topology.
        guard let topoNode = top.required("topology", expected: "a built-in topology name such as 'telegram-5', or a path to a topology file") else {
            return nil
        }
        guard let topology = resolveTopology(topoNode) else { return nil }

        let keyPlacement = top["key_placement"].map { readKeyPlacement($0, topology) } ?? ScenarioDefaults.keyPlacement
        let workload = top["workload"].map { readWorkload($0, topology, duration: duration) }
            ?? WorkloadConfig.defaults(regionCount: topology.regions.count)
        var faults: [FaultSpec] = []
        if let list = top["faults"]?.list(what: "a list of faults") {
            faults = list.compactMap { readFault($0, topology, duration: duration) }
            // In start order; the sort is stable, so simultaneous faults keep file order.
            faults = faults.enumerated().sorted { ($0.element.start, $0.offset) < ($1.element.start, $1.offset) }.map(\.element)
        }
        // Random fault modes: open parameter blocks, validated by the fault planner (which
        // knows the strategy's tolerance), like strategy and fault parameters.
        func block(_ key: String, what: String) -> [StrategyConfig.Parameter]? {
            guard let n = top[key] else { return nil }
            guard let m = n.mapping(allowed: nil, what: what) else { return nil }
            guard emptyParameters(m.entries) else { return nil }
            return m.entries.map { $0.parameter() }
        }
        let chaos = block("chaos", what: "chaos settings, e.g. {dc_mttf: 30d, dc_mttr: 2h}")
        let swarm = block("swarm", what: "swarm settings, e.g. {faults: 3}")
        let faultBudget = top["fault_budget"].map { n in
            n.choice(["tolerated", "unlimited"], what: "fault budget")
        } ?? "tolerated"
        let stopAtFirstLoss = top["stop_at_first_loss"].map { $0.bool() } ?? false
        let quietPeriod: SimDuration? = top["quiet_period"].map { node in
            guard let d = node.duration() else { return nil }
            return d >= .zero ? d : node.fail("the quiet period must not be negative")
        } ?? ScenarioDefaults.quietPeriod
        var messageDelays: [(kind: String, delay: Distribution)] = []
        if let m = top["message_delays"]?.mapping(allowed: Scenario.messageKinds) {
            for e in m.entries {
                if let d = e.value.distribution(.duration) { messageDelays.append((e.key, d)) }
            }
        }
        var slos: [SLOSpec] = []
        if let m = top["slo"]?.mapping(allowed: nil, what: "a mapping from metric to bound, e.g. {availability: \">= 0.999\"}") {
            slos = m.entries.compactMap(readSLO)
        }

        guard diagnostics.errors.count == errorsBefore,
              let duration, let warmup, let payload, let strategy, let keyPlacement, let workload,
              let sampleInterval, let seed, let faultBudget, let stopAtFirstLoss, let quietPeriod else { return nil }
        var scenario = Scenario(name: name, summary: summary, source: source, contentHash: contentHash, topology: topology,
                                seed: seed, duration: duration, warmup: warmup, payload: payload, strategy: strategy,
                                compareStrategies: compare, keyPlacement: keyPlacement, workload: workload, faults: faults,
                                slos: slos, sampleInterval: sampleInterval)
        scenario.chaos = chaos.map { FaultModeConfig(parameters: $0, location: top["chaos"]?.location) }
        scenario.swarm = swarm.map { FaultModeConfig(parameters: $0, location: top["swarm"]?.location) }
        scenario.faultBudget = faultBudget == "unlimited" ? .unlimited : .tolerated
        scenario.stopAtFirstLoss = stopAtFirstLoss
        scenario.quietPeriod = quietPeriod
        scenario.messageDelays = messageDelays
        return scenario
    }

    // MARK: Strategy

    /// `async-geo`, or `{name: quorum, n: 3, r: 2, w: 2}`: the name plus parameters that the
    /// strategy registry validates.
    func readStrategy(_ n: YNode) -> StrategyConfig? {
        switch n.node {
        case .scalar:
            guard let name = n.string(expected: "a strategy name such as 'async-geo'") else { return nil }
            guard !name.trimmingSpaces().isEmpty else { return n.fail("the strategy name is empty") }
            return StrategyConfig(name: name, parameters: [], location: n.location)
        case .mapping:
            guard let m = n.mapping(allowed: nil) else { return nil }
            guard let nameNode = m.required("name", expected: "the strategy's preset or protocol name, e.g. 'quorum'"),
                  let name = nameNode.string(expected: "a strategy name such as 'quorum'") else { return nil }
            guard !name.trimmingSpaces().isEmpty else { return nameNode.fail("the strategy name is empty") }
            let extra = m.entries.filter { $0.key != "name" }
            guard emptyParameters(extra) else { return nil }
            let parameters = extra.map { $0.parameter() }
            return StrategyConfig(name: name, parameters: parameters, location: n.location)
        default:
            return n.fail("expected a strategy name such as 'async-geo', or a mapping such as {name: quorum, n: 3, r: 2, w: 2}, found \(n.found)")
        }
    }

    /// Reports parameters without a value and returns whether there were none. In a flow
    /// mapping, `{target: ams1,mia1}` silently makes `mia1` a key with no value; an open
    /// parameter list would otherwise keep it.
    func emptyParameters(_ entries: [YMap.Entry]) -> Bool {
        var ok = true
        for e in entries where e.value.isNull {
            e.keyNode.error("'\(e.key)' has no value; inside {…} a comma separates keys, so quote values that contain commas (target: \"a,b\")")
            ok = false
        }
        return ok
    }

    // MARK: Key placement

    func readKeyPlacement(_ n: YNode, _ topology: Topology) -> KeyPlacementPolicy? {
        let allowed = Self.keyPlacements
        let jurisdictionCount = topology.jurisdictions.count
        switch n.node {
        case .scalar:
            guard let s = n.choice(allowed + ["split"], what: "key placement") else { return nil }
            switch s {
            case "same-dc": return .sameDC
            case "other-dc":
                guard topology.datacenters.count >= 2 else {
                    return n.fail("'other-dc' needs at least two datacenters; topology '\(topology.name)' has one")
                }
                return .otherDC
            case "other-jurisdiction":
                guard jurisdictionCount >= 2 else {
                    return n.fail("'other-jurisdiction' needs at least two jurisdictions; topology '\(topology.name)' has only \(quotedList(topology.jurisdictions))")
                }
                return .otherJurisdiction
            default:
                return n.fail("'split' needs its parameters: {split: {k: 2, n: 3}}")
            }
        case .mapping:
            guard let m = n.mapping(allowed: ["split"], what: "a key placement") else { return nil }
            guard let split = m.required("split", expected: "{k: K, n: N}: key shares in N jurisdictions, any K of them decrypt")?
                    .mapping(allowed: ["k", "n"]) else { return nil }
            let k = split.required("k", expected: "shares needed, ≥ 1")?.int(1...64, what: "a whole number of shares")
            let total = split.required("n", expected: "jurisdictions holding shares, ≥ k")?.int(1...64, what: "a whole number of jurisdictions")
            guard let k, let total else { return nil }
            guard k <= total else { return split["k"]?.fail("k (\(k)) must not exceed n (\(total)): any k of n shares decrypt") }
            guard total <= jurisdictionCount else {
                return split["n"]?.fail("n = \(total) jurisdictions, but topology '\(topology.name)' has \(jurisdictionCount) (\(topology.jurisdictions.joined(separator: ", ")))")
            }
            return .split(k: k, n: total)
        default:
            return n.fail("expected a key placement: \(quotedList(allowed)), or {split: {k: 2, n: 3}}, found \(n.found)")
        }
    }

    // MARK: Workload

    func readWorkload(_ n: YNode, _ topology: Topology, duration: SimDuration?) -> WorkloadConfig? {
        var w = WorkloadConfig.defaults(regionCount: topology.regions.count)
        guard let m = n.mapping(allowed: Self.workloadKeys) else { return nil }
        let before = diagnostics.errors.count

        if let v = m["users"]?.int(1...100_000_000, what: "a whole number of users") { w.users = v }
        if let r = m["regions"] { w.regionWeights = readRegionWeights(r, topology) ?? w.regionWeights }
        if let d = m["devices"], let classes = readWeights(d, what: "device kind") {
            w.devices = classes.map { WorkloadConfig.DeviceClass(name: $0.0, weight: $0.1) }
        }
        if let d = m["devices_per_user"]?.distribution(.count) { w.devicesPerUser = d }
        if let node = m["rate"], let r = node.rate() {
            if r >= 0 { w.messagesPerSecond = r } else { node.error("the message rate must be 0 (no traffic, e.g. for chaos runs) or more, found '\(node.scalarText)'") }
        }
        if let c = m["daily_curve"] { w.dailyCurve = readDailyCurve(c) ?? w.dailyCurve }
        if let b = m["bursts"]?.list(what: "a list of bursts such as [{at: 5m, for: 1m, factor: 3}]") {
            w.bursts = b.compactMap { readBurst($0, duration: duration) }
        }
        if let mix = m["mix"] { w.messageMix = readMix(mix, base: w.messageMix) ?? w.messageMix }
        if let v = m["secret_chats"]?.ratio() { w.secretChatShare = v }
        if let v = m["groups"]?.ratio() { w.groupShare = v }
        if let d = m["group_size"]?.distribution(.count) { w.groupSize = d }
        if let v = m["chat_zipf"]?.number(0...10, what: "a Zipf exponent") { w.chatZipf = v }
        if let d = m["chats_per_user"]?.distribution(.count) { w.chatsPerUser = d }
        if let v = m["edits"]?.ratio() { w.editShare = v }
        if let v = m["deletes"]?.ratio() { w.deleteShare = v }
        if let t = m["ttl"]?.mapping(allowed: Self.ttlKeys) {
            if let v = t["share"]?.ratio() { w.ttlShare = v }
            if let d = t["after"]?.distribution(.duration) { w.ttl = d }
        }
        if let d = m["mutation_delay"]?.distribution(.duration) { w.mutationDelay = d }
        if let v = m["device_sync"]?.bool() { w.deviceSync = v }
        if let d = m["sync_delay"]?.distribution(.duration) { w.syncDelay = d }
        if let v = m["history_reads"]?.rate() { w.historyReadsPerUserPerSecond = v }
        if let c = m["client"]?.mapping(allowed: Self.clientKeys) {
            if let node = c["timeout"], let v = node.duration() {
                if v > .zero { w.client.timeout = v } else { node.error("the client timeout must be greater than 0") }
            }
            if let v = c["retries"]?.int(0...100, what: "a whole number of retries") { w.client.retries = v }
            if let v = c["backoff"]?.duration() { w.client.backoff = v }
            if let v = c["failover"]?.bool() { w.client.failover = v }
        }
        return diagnostics.errors.count == before ? w : nil
    }

    /// `{americas: 0.3, europe: 0.5}`: keys must be the topology's regions; regions left
    /// out get weight 0; the weights need not sum to 1 but must not all be 0.
    func readRegionWeights(_ n: YNode, _ topology: Topology) -> [Double]? {
        guard let m = n.mapping(allowed: nil, what: "a mapping from region to weight, e.g. {europe: 0.5, asia: 0.5}") else { return nil }
        var weights = Array(repeating: 0.0, count: topology.regions.count)
        var ok = true
        for e in m.entries {
            guard let i = topology.regions.firstIndex(of: e.key) else {
                e.keyNode.error("unknown region '\(e.key)'\(suggestion(for: e.key, among: topology.regions)); topology '\(topology.name)' has regions \(topology.regions.joined(separator: ", "))")
                ok = false
                continue
            }
            guard let w = e.value.weight() else { ok = false; continue }
            weights[i] = w
        }
        guard ok else { return nil }
        guard weights.contains(where: { $0 > 0 }) else {
            return n.fail("at least one region needs a weight greater than 0")
        }
        return weights
    }

    /// `{name: weight, …}` with weights ≥ 0, not all 0.
    func readWeights(_ n: YNode, what: String) -> [(String, Double)]? {
        guard let m = n.mapping(allowed: nil, what: "a mapping from \(what) to weight, e.g. {phone: 0.6, desktop: 0.4}") else { return nil }
        var out: [(String, Double)] = []
        var ok = true
        for e in m.entries {
            guard let w = e.value.weight() else { ok = false; continue }
            out.append((e.key, w))
        }
        guard ok else { return nil }
        guard out.contains(where: { $0.1 > 0 }) else { return n.fail("at least one \(what) needs a weight greater than 0") }
        return out
    }

    func readDailyCurve(_ n: YNode) -> [Double]? {
        guard let items = n.list(what: "a list of 24 hourly rate multipliers (or [] for a flat rate)") else { return nil }
        if items.isEmpty { return [] }
        guard items.count == 24 else {
            return n.fail("expected 24 hourly multipliers (hour 0 = midnight of simulated day 1), found \(items.count)")
        }
        let values = items.map { $0.number(0...1_000, what: "a rate multiplier") }
        guard values.allSatisfy({ $0 != nil }) else { return nil }
        let curve = values.compactMap { $0 }
        guard curve.contains(where: { $0 > 0 }) else { return n.fail("at least one hour needs a multiplier greater than 0") }
        return curve
    }

    func readBurst(_ n: YNode, duration: SimDuration?) -> WorkloadConfig.Burst? {
        guard let m = n.mapping(allowed: Self.burstKeys, what: "a burst such as {at: 5m, for: 1m, factor: 3}") else { return nil }
        let at = m.required("at", expected: "when the burst starts, e.g. 5m")?.duration()
        let length = m.required("for", expected: "how long it lasts, e.g. 1m")?.duration()
        let factor = m.required("factor", expected: "the rate multiplier, e.g. 3")?
            .number(0...1_000, exclusiveLower: true, what: "a rate multiplier")
        guard let at, let length, let factor else { return nil }
        if length <= .zero { return m["for"]?.fail("a burst must last longer than 0") }
        if let duration, at >= duration {
            return m["at"]?.fail("the burst starts at \(at), after the run ends (duration \(duration))")
        }
        return WorkloadConfig.Burst(start: at, duration: length, factor: factor)
    }

    /// Message classes by name. Classes named like a default (text, photo, video, document)
    /// start from the default and change only the keys given; new classes need `weight` and
    /// `size`. `weight: 0` removes a class.
    func readMix(_ n: YNode, base: [WorkloadConfig.MessageClass]) -> [WorkloadConfig.MessageClass]? {
        guard let m = n.mapping(allowed: nil, what: "a mapping from message class to {weight, size, compressible}") else { return nil }
        var classes = base
        var ok = true
        for e in m.entries {
            guard let cm = e.value.mapping(allowed: Self.mixKeys, what: "a message class such as {weight: 0.1, size: {dist: lognormal, median: 200KB, sigma: 0.5}}") else {
                ok = false
                continue
            }
            let existing = classes.firstIndex { $0.name == e.key }
            let prior = existing.map { classes[$0] }
            let weight: Double?, size: Distribution?, compressible: Bool?
            if let node = cm["weight"] { weight = node.weight() }
            else if let prior { weight = prior.weight }
            else { weight = cm.required("weight", expected: "the class's share of messages")?.weight() }
            if let node = cm["size"] { size = node.distribution(.size) }
            else if let prior { size = prior.size }
            else { size = cm.required("size", expected: "the payload size distribution, e.g. {dist: lognormal, median: 200KB, sigma: 0.5}")?.distribution(.size) }
            if let node = cm["compressible"] { compressible = node.bool() }
            else { compressible = prior?.compressible ?? false }
            guard let weight, let size, let compressible else { ok = false; continue }
            let c = WorkloadConfig.MessageClass(name: e.key, weight: weight, size: size, compressible: compressible)
            if let existing { classes[existing] = c } else { classes.append(c) }
        }
        guard ok else { return nil }
        classes.removeAll { $0.weight == 0 }
        guard !classes.isEmpty else { return n.fail("at least one message class needs a weight greater than 0") }
        return classes
    }

    // MARK: Faults

    /// One scripted fault. `kind`, `at`, `for`/`permanent` and `target` are checked here;
    /// every other key is kept, typed but open, for the fault injector to validate.
    func readFault(_ n: YNode, _ topology: Topology, duration: SimDuration?) -> FaultSpec? {
        guard let m = n.mapping(allowed: nil, what: "a fault such as {kind: dc-outage, target: ams, at: 2m, for: 30m}") else { return nil }
        let kind = m.required("kind", expected: "the fault type: \(FaultSpec.knownKinds.joined(separator: ", "))")?
            .choice(FaultSpec.knownKinds, what: "fault kind")
        let at = m.required("at", expected: "when it starts, from the start of the run, e.g. 2m")?.duration()
        var length: SimDuration??
        switch (m["for"], m["permanent"]) {
        case let (f?, nil):
            if let d = f.duration() {
                if d > .zero { length = .some(d) } else { f.error("a fault must last longer than 0 (or write 'permanent: true')") }
            }
        case let (nil, p?):
            if let b = p.bool() {
                if b { length = .some(nil) } else { p.error("'permanent: false' needs 'for: DURATION' instead") }
            }
        case (_?, _?):
            m["permanent"]?.error("give either 'for: DURATION' or 'permanent: true', not both")
        case (nil, nil):
            n.error("missing 'for: DURATION' (how long the fault lasts) or 'permanent: true'", field: n.childPath("for"))
        }
        let targetNode = m.required("target", expected: "a DC id, region:NAME, jurisdiction:NAME, node:DC-N, or A->B for links")
        let target = targetNode.flatMap { readTarget($0, topology) }
        guard let kind, let at, let length, let target else { return nil }
        if let duration, at >= duration {
            return m["at"]?.fail("the fault starts at \(at), after the run ends (duration \(duration))")
        }
        let extra = m.entries.filter { !Self.faultFixedKeys.contains($0.key) }
        guard emptyParameters(extra) else { return nil }
        let parameters = extra.map { $0.parameter() }
        return FaultSpec(kind: kind, start: at, duration: length, target: target, parameters: parameters, location: n.location)
    }

    /// Checks a fault target against the topology and returns it as written (trimmed).
    ///
    /// Grammar: `SET`, or `SET->SET` (links one way), or `SET<->SET` (both ways), where a SET
    /// is one or more comma-separated selectors: a DC id, `region:NAME`, `jurisdiction:NAME`,
    /// `node:DC-N` (not in links) or `*` (every DC).
    func readTarget(_ n: YNode, _ topology: Topology) -> String? {
        guard let raw = n.string(expected: "a fault target") else { return nil }
        let text = String(raw.trimmingSpaces())
        guard !text.isEmpty else { return n.fail("the fault target is empty") }
        var sides: [Substring]
        if let r = text.range(of: "<->") {
            sides = [text[..<r.lowerBound], text[r.upperBound...]]
        } else if let r = text.range(of: "->") {
            sides = [text[..<r.lowerBound], text[r.upperBound...]]
        } else {
            sides = [Substring(text)]
        }
        let isLink = sides.count == 2
        if isLink && (sides[1].contains("->")) {
            return n.fail("a link target has one arrow: 'A->B' or 'A<->B', found '\(text)'")
        }
        var ok = true
        for side in sides {
            let selectors = side.split(separator: ",", omittingEmptySubsequences: false).map { String($0.trimmingSpaces()) }
            for sel in selectors {
                if let problem = checkSelector(sel, topology, inLink: isLink) {
                    n.error(sel == text ? problem : "in '\(text)': \(problem)")
                    ok = false
                }
            }
        }
        return ok ? text : nil
    }

    /// nil when `sel` names something in the topology; otherwise the problem.
    func checkSelector(_ sel: String, _ topology: Topology, inLink: Bool) -> String? {
        let ids = topology.datacenters.map(\.id)
        if sel.isEmpty { return "an empty selector (check the commas and arrows)" }
        if sel == "*" { return nil }
        func known(_ name: String, _ all: [String], _ what: String, _ prefix: String) -> String? {
            if all.contains(name) { return nil }
            let hint = closest(to: name, among: all).map { " (did you mean '\(prefix)\($0)'?)" } ?? ""
            return "unknown \(what) '\(name)'\(hint); topology '\(topology.name)' has \(what == "region" ? "regions" : "jurisdictions") \(all.joined(separator: ", "))"
        }
        if sel.hasPrefix("region:") {
            return known(String(sel.dropFirst(7)), topology.regions, "region", "region:")
        }
        if sel.hasPrefix("jurisdiction:") {
            return known(String(sel.dropFirst(13)), topology.jurisdictions, "jurisdiction", "jurisdiction:")
        }
        if sel.hasPrefix("node:") {
            if inLink { return "links join datacenters, so 'node:' cannot appear in 'A->B'" }
            let name = String(sel.dropFirst(5))
            if topology.nodes.contains(where: { $0.name == name }) { return nil }
            if let dash = name.lastIndex(of: "-"), let dc = topology.datacenterIndex(named: String(name[..<dash])) {
                let id = topology.datacenters[dc].id, n = topology.datacenters[dc].nodes.count
                return "unknown node '\(name)'; datacenter '\(id)' has nodes \(id)-1 to \(id)-\(n)"
            }
            let hint = closest(to: name, among: topology.nodes.map(\.name)).map { " (did you mean 'node:\($0)'?)" } ?? ""
            let example = topology.nodes.first.map { ", e.g. node:\($0.name)" } ?? ""
            return "unknown node '\(name)'\(hint); nodes are named DC-N with N from 1\(example)"
        }
        if let colon = sel.firstIndex(of: ":") {
            let prefix = String(sel[..<colon])
            let hint = suggestion(for: prefix, among: ["region", "jurisdiction", "node"])
            return "unknown selector '\(prefix):'\(hint); use a DC id, region:NAME, jurisdiction:NAME, node:DC-N or *"
        }
        if ids.contains(sel) { return nil }
        var hint = suggestion(for: sel, among: ids)
        if hint.isEmpty {
            if topology.regions.contains(sel) { hint = " (for the region, write 'region:\(sel)')" }
            else if topology.jurisdictions.contains(sel) { hint = " (for the jurisdiction, write 'jurisdiction:\(sel)')" }
            else if topology.nodes.contains(where: { $0.name == sel }) { hint = " (for the node, write 'node:\(sel)')" }
        }
        return "unknown datacenter '\(sel)'\(hint); datacenters: \(ids.joined(separator: ", "))"
    }

    // MARK: SLOs

    /// `metric: "<= 0"`, `metric: ">= 99.9%"`, `p99_write_latency_ms: "<= 400ms"`, or
    /// `metric: {max: 0}` / `{min: 0.999}`.
    func readSLO(_ e: YMap.Entry) -> SLOSpec? {
        let metric = e.key
        guard metric.unicodeScalars.first.map(isIdentifierStart) == true,
              metric.unicodeScalars.allSatisfy(isIdentifierChar) else {
            return e.keyNode.fail("'\(metric)' is not a metric name (letters, digits, '_', '-', '.')")
        }
        let v = e.value
        switch v.node {
        case .scalar:
            guard let text = v.scalar(expected: "a bound such as \"<= 0\" or \">= 0.999\"") else { return nil }
            let t = text.trimmingSpaces()
            let comparison: SLOSpec.Comparison
            var rest: Substring
            if t.hasPrefix("<=") { comparison = .atMost; rest = t.dropFirst(2) }
            else if t.hasPrefix(">=") { comparison = .atLeast; rest = t.dropFirst(2) }
            else if t.hasPrefix("≤") { comparison = .atMost; rest = t.dropFirst(1) }
            else if t.hasPrefix("≥") { comparison = .atLeast; rest = t.dropFirst(1) }
            else if t.hasPrefix("<") || t.hasPrefix(">") || t.hasPrefix("=") || t.hasPrefix("!") {
                return v.fail("only '<=' and '>=' bounds are supported, found '\(text)'; e.g. \"<= 0\" or \">= 0.999\"")
            } else {
                return v.fail("expected a bound such as \"<= 0\" or \">= 0.999\" (quoted), found '\(text)'")
            }
            rest = rest.trimmingSpaces()
            guard let threshold = sloValue(String(rest), metric: metric, at: v) else { return nil }
            return SLOSpec(metric: metric, comparison: comparison, threshold: threshold, location: e.keyNode.location)
        case .mapping:
            guard let m = v.mapping(allowed: ["max", "min"], what: "{max: VALUE} or {min: VALUE}") else { return nil }
            switch (m["max"], m["min"]) {
            case let (hi?, nil):
                guard let s = hi.scalar(expected: "a number"), let x = sloValue(s, metric: metric, at: hi) else { return nil }
                return SLOSpec(metric: metric, comparison: .atMost, threshold: x, location: e.keyNode.location)
            case let (nil, lo?):
                guard let s = lo.scalar(expected: "a number"), let x = sloValue(s, metric: metric, at: lo) else { return nil }
                return SLOSpec(metric: metric, comparison: .atLeast, threshold: x, location: e.keyNode.location)
            case (_?, _?):
                return v.fail("give one bound per metric: {max: …} or {min: …}, not both")
            case (nil, nil):
                return v.fail("expected {max: VALUE} or {min: VALUE}")
            }
        default:
            return v.fail("expected a bound such as \"<= 0\" or \">= 0.999\", found \(v.found)")
        }
    }

    /// A threshold: a plain number, a percentage (`99.9%` → 0.999), or — for metrics whose
    /// name ends in a unit (`_ns`, `_us`, `_ms`, `_s`, `_bytes`) — a quantity converted to it.
    func sloValue(_ text: String, metric: String, at n: YNode) -> Double? {
        let t = String(text.trimmingSpaces())
        if let x = Units.number(t) { return x }
        if t.hasSuffix("%"), let x = Units.scaledNumber(String(t.dropLast().trimmingSpaces()), scale: 2) { return x }
        let timeSuffixes: [(String, Double)] = [("_ns", 1), ("_us", 1e3), ("_ms", 1e6), ("_s", 1e9)]
        if let unit = timeSuffixes.first(where: { metric.hasSuffix($0.0) }) {
            switch Units.duration(t) {
            case .success(let d): return d.ns / unit.1
            case .failure(let f): return n.fail(f.message)
            }
        }
        if metric.hasSuffix("_bytes") {
            switch Units.size(t) {
            case .success(let s): return s.bytes
            case .failure(let f): return n.fail(f.message)
            }
        }
        if case .success = Units.duration(t) {
            return n.fail("'\(t)' is a duration, but metric '\(metric)' has no time unit in its name; use a metric ending in _ms (or _s, _us, _ns), e.g. p99_write_latency_ms")
        }
        return n.fail("expected a number or a percentage after the comparison, found '\(t)'")
    }
}

extension FaultSpec {
    /// The fault kinds a scenario may name (the fault injector implements them).
    public static let knownKinds = [
        "dc-outage", "node-crash", "partition", "one-way-partition", "latency", "latency-spike", "loss",
        "duplication", "reordering", "bandwidth", "slow-disk", "failing-disk", "bit-rot", "disk-full",
        "clock-skew", "key-holder-outage", "seizure",
    ]
}
