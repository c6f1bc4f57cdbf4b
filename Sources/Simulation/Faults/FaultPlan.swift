import SimCore
import SimConfig
import SimNetwork
import Replication

/// What a fault does while it is active, resolved to dense indices.
enum FaultEffect: Sendable {
    /// Nodes down; with `diskLost` their disks are wiped; `unflushed` is the window of
    /// recent writes lost with the page cache on a crash (zero = every completed write was
    /// durable).
    case nodesDown([Int], diskLost: Bool, unflushed: SimDuration)
    /// One-way link changes (partition, latency, loss, duplication, reordering, bandwidth).
    case links([FaultTarget.DCPair], LinkImpairment)
    /// Disk service times multiplied by `factor`.
    case slowDisk([Int], factor: Double)
    /// Each disk operation fails with probability `errorPPM` / 10⁶.
    case failingDisk([Int], errorPPM: UInt32)
    /// Puts fail (the disk is full); reads still work.
    case diskFull([Int])
    /// At the start a `fraction` of the copies on the nodes rot; during the fault, copies
    /// rot at `perHour` per node per hour.
    case bitRot([Int], fraction: Double, perHour: Double)
    /// The nodes' clocks are off by `offset` and drift by `driftPPM` from the start.
    case clockSkew([Int], offset: SimDuration, driftPPM: Double)
    /// The key service of these DCs is down (their data may be up).
    case keyHolderOutage([Int])
    /// An adversary obtains every disk of these DCs at the start.
    case seizure([Int])
}

/// One fault of the run, scripted or drawn, with its resolved effect.
struct PlannedFault: Sendable {
    var kind: String
    var target: String
    var start: SimTime
    /// `nil` = permanent.
    var end: SimTime?
    var effect: FaultEffect
    /// `scripted`, `chaos` or `swarm`.
    var origin: String
    /// The effective parameters, for the printed timeline.
    var detail: String
}

/// Turns a scenario's scripted faults and random fault modes into one timeline.
///
/// Random modes draw from their own seeded streams (`faults.chaos`, `faults.swarm`), so the
/// same seed gives the same timeline, and the timeline is printed so it can be replayed as a
/// scripted one. The fault budget (`tolerated` by default) keeps random faults within the
/// strategy's stated ``FaultTolerance``.
enum FaultPlanner {
    static func plan(_ scenario: Scenario, tolerance: FaultTolerance) throws -> [PlannedFault] {
        var errors: [ConfigError] = []
        var faults: [PlannedFault] = []
        for spec in scenario.faults {
            do { faults.append(contentsOf: try scripted(spec, scenario.topology)) } catch let e as ConfigErrors {
                errors.append(contentsOf: e.errors)
            }
        }
        if let chaos = scenario.chaos {
            do { faults.append(contentsOf: try Self.chaos(chaos, scenario, tolerance: tolerance)) } catch let e as ConfigErrors {
                errors.append(contentsOf: e.errors)
            }
        }
        if let swarm = scenario.swarm {
            do { faults.append(contentsOf: try Self.swarm(swarm, scenario, tolerance: tolerance)) } catch let e as ConfigErrors {
                errors.append(contentsOf: e.errors)
            }
        }
        if !errors.isEmpty { throw ConfigErrors(errors) }
        // Start order; ties keep plan order (scripted, then chaos, then swarm).
        return faults.enumerated().sorted { ($0.element.start, $0.offset) < ($1.element.start, $1.offset) }.map(\.element)
    }

    // MARK: Scripted faults

    static func scripted(_ spec: FaultSpec, _ topology: Topology) throws -> [PlannedFault] {
        var p = Params(spec.parameters, context: "faults: \(spec.kind)", location: spec.location)
        let target = FaultTarget(spec.target, topology: topology)
        let start = SimTime.zero + spec.start
        let end = spec.duration.map { start + $0 }
        let dcCount = topology.datacenters.count
        func nodesOnly() throws -> [Int] {
            if target.links != nil { throw ConfigErrors([spec.error("'\(spec.kind)' needs a DC or node target, not links ('\(spec.target)')", field: "target")]) }
            return target.nodes
        }
        func dcsOnly() throws -> [Int] {
            if target.links != nil || target.namesSingleNodes {
                throw ConfigErrors([spec.error("'\(spec.kind)' needs datacenters (a DC, region:, jurisdiction: or *), found '\(spec.target)'", field: "target")])
            }
            return target.datacenters
        }
        func links(bothWaysForSets: Bool) -> [FaultTarget.DCPair] {
            target.links ?? target.isolating(datacenterCount: dcCount, bothWays: bothWaysForSets)
        }
        var detail: [String] = []
        let effect: FaultEffect
        var windows: [(SimTime, SimTime?)] = [(start, end)]
        switch spec.kind {
        case "dc-outage", "node-crash":
            let nodes = try nodesOnly()
            if spec.kind == "dc-outage" && target.namesSingleNodes {
                throw ConfigErrors([spec.error("'dc-outage' takes datacenters; use 'node-crash' for node:\(spec.target.dropFirst(5))", field: "target")])
            }
            let disks = try p.choice("disks", default: "kept", allowed: ["kept", "lost"])
            let unflushed = try p.duration("lose_unflushed", default: .zero)
            detail.append("disks \(disks)")
            if unflushed > .zero { detail.append("loses writes of the last \(unflushed)") }
            effect = .nodesDown(nodes, diskLost: disks == "lost", unflushed: unflushed)
        case "partition", "one-way-partition":
            let pattern = try p.choice("pattern", default: "isolate", allowed: ["isolate", "split-regions", "split-jurisdictions"])
            var pairs: [FaultTarget.DCPair]
            switch pattern {
            case "split-regions", "split-jurisdictions":
                let group: (Int) -> Int = pattern == "split-regions"
                    ? { topology.datacenters[$0].region } : { topology.datacenters[$0].jurisdiction }
                let inside = Set(target.datacenters)
                pairs = []
                for a in 0..<dcCount where inside.contains(a) {
                    for b in 0..<dcCount where inside.contains(b) && group(a) != group(b) {
                        pairs.append(.init(from: a, to: b))
                    }
                }
                detail.append(pattern)
            default:
                pairs = links(bothWaysForSets: spec.kind == "partition")
            }
            if spec.kind == "one-way-partition" && target.links == nil && pattern == "isolate" {
                detail.append("outgoing only")
            }
            effect = .links(pairs, LinkImpairment(blocks: true))
        case "latency":
            let extra = try p.distribution("extra", quantity: .duration, required: true)!
            detail.append("extra \(extra)")
            effect = .links(links(bothWaysForSets: true), LinkImpairment(extraDelay: extra))
        case "latency-spike":
            let extra = try p.distribution("extra", quantity: .duration, required: false) ?? .constant(500e6)
            let every = try p.duration("every", default: .seconds(30), minimum: .milliseconds(1))
            let length = try p.duration("length", default: .seconds(2), minimum: .microseconds(1))
            detail.append("extra \(extra) for \(length) every \(every)")
            effect = .links(links(bothWaysForSets: true), LinkImpairment(extraDelay: extra))
            windows = []
            var t = start
            let stop = end ?? SimTime.zero + .seconds(Int64(1) << 40)
            while t < stop && windows.count < 100_000 {
                windows.append((t, min(t + length, stop)))
                t = t + every
            }
        case "loss":
            let rate = try p.probability("rate", required: true)
            detail.append("rate \(rate)")
            effect = .links(links(bothWaysForSets: true), LinkImpairment(extraLossPPM: UInt32((rate * 1e6).rounded())))
        case "duplication":
            let rate = try p.probability("rate", required: true)
            detail.append("rate \(rate)")
            effect = .links(links(bothWaysForSets: true), LinkImpairment(duplicatePPM: UInt32((rate * 1e6).rounded())))
        case "reordering":
            // A share of messages is held back by up to `window`, so later ones overtake it.
            let rate = try p.probability("rate", default: 0.1)
            let window = try p.duration("window", default: .milliseconds(50), minimum: .microseconds(1))
            detail.append("rate \(rate) window \(window)")
            let delay = Distribution(.mixture([
                .init(weight: rate, distribution: .uniform(0, Double(window.nanoseconds))),
                .init(weight: 1 - rate, distribution: .constant(0)),
            ]))
            effect = .links(links(bothWaysForSets: true), LinkImpairment(extraDelay: delay))
        case "bandwidth":
            let factor = try p.number("factor", default: 0.1, in: 1e-9...1)
            detail.append("factor \(factor)")
            effect = .links(links(bothWaysForSets: true), LinkImpairment(bandwidthFactor: factor))
        case "slow-disk":
            let factor = try p.number("factor", default: 10, in: 1...1e6)
            detail.append("service × \(factor)")
            effect = .slowDisk(try nodesOnly(), factor: factor)
        case "failing-disk":
            let rate = try p.probability("error_rate", default: 1)
            detail.append("error rate \(rate)")
            effect = .failingDisk(try nodesOnly(), errorPPM: UInt32((rate * 1e6).rounded()))
        case "disk-full":
            effect = .diskFull(try nodesOnly())
        case "bit-rot":
            let fraction = try p.probability("fraction", default: 0)
            let perHour = try p.number("per_hour", default: 0, in: 0...1e9)
            if fraction == 0 && perHour == 0 {
                throw ConfigErrors([spec.error("'bit-rot' needs 'fraction' (share of stored copies corrupted at the start) and/or 'per_hour' (copies per node per hour)", field: "faults: bit-rot")])
            }
            if fraction > 0 { detail.append("fraction \(fraction)") }
            if perHour > 0 { detail.append("\(perHour) per node per hour") }
            effect = .bitRot(try nodesOnly(), fraction: fraction, perHour: perHour)
        case "clock-skew":
            let offset = try p.signedDuration("offset", default: .zero)
            let drift = try p.number("drift_ppm", default: 0, in: -1e6...1e6)
            detail.append("offset \(offset)")
            if drift != 0 { detail.append("drift \(drift) ppm") }
            effect = .clockSkew(try nodesOnly(), offset: offset, driftPPM: drift)
        case "key-holder-outage":
            effect = .keyHolderOutage(try dcsOnly())
        case "seizure":
            effect = .seizure(try dcsOnly())
        default:
            throw ConfigErrors([spec.error("unknown fault kind '\(spec.kind)'", field: "kind")])
        }
        try p.finish()
        return windows.map { w in
            PlannedFault(kind: spec.kind, target: spec.target, start: w.0, end: w.1, effect: effect,
                         origin: "scripted", detail: detail.joined(separator: ", "))
        }
    }

    // MARK: Chaos: failure and repair processes

    /// Per-DC and per-node failure/repair processes: up for a time drawn from the MTTF
    /// distribution, then down for one drawn from the MTTR distribution, repeated over the
    /// run. Each DC and node draws from its own child stream (`faults.chaos`, index), so
    /// adding a node does not change the others' histories. Work is per failure, not per
    /// unit of time, so a year with no traffic costs only its failures.
    static func chaos(_ config: FaultModeConfig, _ scenario: Scenario, tolerance: FaultTolerance) throws -> [PlannedFault] {
        var p = Params(config.parameters, context: "chaos", location: config.location)
        let topology = scenario.topology
        let dcMTTF = try p.distribution("dc_mttf", quantity: .duration, required: false)
        let dcMTTR = try p.distribution("dc_mttr", quantity: .duration, required: false) ?? .exponential(mean: 3600e9)
        let nodeMTTF = try p.distribution("node_mttf", quantity: .duration, required: false)
        let nodeMTTR = try p.distribution("node_mttr", quantity: .duration, required: false) ?? .exponential(mean: 600e9)
        let diskLoss = try p.probability("disk_loss", default: 0)
        let from = try p.duration("start", default: scenario.warmup)
        try p.finish()
        if dcMTTF == nil && nodeMTTF == nil {
            throw ConfigErrors([ConfigError(at: config.location, field: "chaos",
                                            message: "give 'dc_mttf' and/or 'node_mttf' (mean time to failure, e.g. 30d), with optional 'dc_mttr'/'node_mttr'")])
        }
        let budget = scenario.faultBudget == .tolerated
        let end = SimTime.zero + scenario.duration
        var candidates: [(start: SimTime, end: SimTime, dc: Int?, node: Int?, diskLost: Bool)] = []
        func process(_ mttf: Distribution, _ mttr: Distribution, index: Int, emit: (SimTime, SimTime, Bool) -> Void) {
            var rng = SimRandom(root: scenario.seed, label: "faults.chaos", index: UInt64(index))
            var t = SimTime.zero + from
            while true {
                t = t + SimDuration(sampledNanoseconds: mttf.sample(&rng))
                guard t < end else { return }
                let down = SimDuration(sampledNanoseconds: Swift.max(1, mttr.sample(&rng)))
                let lost = diskLoss > 0 && rng.unit() < diskLoss
                emit(t, t + down, lost)
                t = t + down
            }
        }
        if let dcMTTF {
            for dc in topology.datacenters.indices {
                process(dcMTTF, dcMTTR, index: dc) { candidates.append(($0, $1, dc, nil, $2)) }
            }
        }
        if let nodeMTTF {
            for n in topology.nodes.indices {
                process(nodeMTTF, nodeMTTR, index: 1_000 + n) { candidates.append(($0, $1, nil, n, $2)) }
            }
        }
        candidates.sort { ($0.start, $0.dc ?? -1, $0.node ?? -1) < ($1.start, $1.dc ?? -1, $1.node ?? -1) }
        // The budget: admit a failure only while the concurrent failures stay within the
        // strategy's tolerance (DCs and nodes counted separately; a DC counts as one DC).
        var active: [(end: SimTime, dc: Int?, node: Int?)] = []
        var faults: [PlannedFault] = []
        for c in candidates {
            active.removeAll { $0.end <= c.start }
            var lost = c.diskLost
            if budget {
                if lost && !tolerance.diskLoss { lost = false }
                // Each DC down and each node down outside them is one failure unit; a
                // replica set survives as many units as the tolerance states (DC-level
                // when any DC is down, node-level otherwise).
                let dcsDown = Set(active.compactMap(\.dc)).union(c.dc.map { [$0] } ?? [])
                let nodesOutside = Set(active.compactMap(\.node) + (c.node.map { [$0] } ?? []))
                    .filter { !dcsDown.contains(topology.nodes[$0].datacenter) }
                let units = dcsDown.count + nodesOutside.count
                if units > (dcsDown.isEmpty ? tolerance.nodes : tolerance.datacenters) { continue }
            }
            active.append((c.end, c.dc, c.node))
            let name = c.dc.map { topology.datacenters[$0].id } ?? "node:" + topology.nodes[c.node!].name
            let nodes = c.dc.map { Array(topology.datacenters[$0].nodes) } ?? [c.node!]
            faults.append(PlannedFault(kind: c.dc != nil ? "dc-outage" : "node-crash", target: name,
                                       start: c.start, end: Swift.min(c.end, end + .nanoseconds(1)),
                                       effect: .nodesDown(nodes, diskLost: lost, unflushed: .zero),
                                       origin: "chaos", detail: "disks \(lost ? "lost" : "kept")"))
        }
        return faults
    }

    // MARK: Swarm: per-seed fault parameters

    /// Each seed draws its own fault mix: how many faults, which kinds, where, when and for
    /// how long (FoundationDB/TigerBeetle-style swarm testing), from `faults.swarm`.
    static func swarm(_ config: FaultModeConfig, _ scenario: Scenario, tolerance: FaultTolerance) throws -> [PlannedFault] {
        var p = Params(config.parameters, context: "swarm", location: config.location)
        let maxFaults = try p.int("faults", default: 3, in: 1...1000)
        let allKinds = ["dc-outage", "node-crash", "partition", "latency", "loss", "duplication", "reordering",
                        "slow-disk", "failing-disk", "bit-rot", "clock-skew"]
        let kinds = try p.list("kinds", default: allKinds, allowed: allKinds)
        let meanLength = try p.duration("mean_length", default: SimDuration(nanoseconds: scenario.duration.nanoseconds / 10),
                                        minimum: .milliseconds(1))
        try p.finish()
        let budget = scenario.faultBudget == .tolerated
        let topology = scenario.topology
        var rng = SimRandom(root: scenario.seed, label: "faults.swarm")
        let usable = kinds.filter { kind in
            guard budget else { return true }
            switch kind {
            case "dc-outage": return tolerance.datacenters > 0
            case "node-crash": return tolerance.nodes > 0 || tolerance.datacenters > 0
            case "partition": return tolerance.partitions
            case "failing-disk": return tolerance.nodes > 0 || tolerance.datacenters > 0
            default: return true
            }
        }
        guard !usable.isEmpty else { return [] }
        let count = 1 + Int(rng.below(UInt64(maxFaults)))
        let from = scenario.warmup.nanoseconds
        let span = Swift.max(1, scenario.duration.nanoseconds * 8 / 10 - from)
        var faults: [PlannedFault] = []
        var nodeFaultWindows: [(SimTime, SimTime, Int)] = []   // for the budget: (start, end, dc)
        for _ in 0..<count {
            let kind = usable[Int(rng.below(UInt64(usable.count)))]
            let start = SimTime.zero + .nanoseconds(from + Int64(rng.below(UInt64(span))))
            let length = SimDuration(sampledNanoseconds: Swift.max(1e6, Distribution.exponential(mean: Double(meanLength.nanoseconds)).sample(&rng)))
            let end = start + length
            let dc = Int(rng.below(UInt64(topology.datacenters.count)))
            let dcNodes = Array(topology.datacenters[dc].nodes)
            let node = dcNodes[Int(rng.below(UInt64(dcNodes.count)))]
            var other = Int(rng.below(UInt64(topology.datacenters.count)))
            if other == dc { other = (other + 1) % topology.datacenters.count }
            let effect: FaultEffect, target: String, detail: String
            switch kind {
            case "dc-outage", "node-crash", "failing-disk":
                let isDC = kind == "dc-outage"
                if budget {
                    let overlapping = Set(nodeFaultWindows.filter { $0.0 < end && start < $0.1 }.map(\.2)).union([dc])
                    if overlapping.count > Swift.max(tolerance.datacenters, isDC ? 0 : Swift.min(1, tolerance.nodes)) { continue }
                }
                nodeFaultWindows.append((start, end, dc))
                if kind == "failing-disk" {
                    effect = .failingDisk([node], errorPPM: 1_000_000); target = "node:" + topology.nodes[node].name; detail = "error rate 1"
                } else {
                    effect = .nodesDown(isDC ? dcNodes : [node], diskLost: false, unflushed: .zero)
                    target = isDC ? topology.datacenters[dc].id : "node:" + topology.nodes[node].name
                    detail = "disks kept"
                }
            case "partition":
                effect = .links([.init(from: dc, to: other), .init(from: other, to: dc)], LinkImpairment(blocks: true))
                target = "\(topology.datacenters[dc].id)<->\(topology.datacenters[other].id)"; detail = ""
            case "latency":
                let mean = 10e6 + rng.unit() * 490e6
                effect = .links([.init(from: dc, to: other), .init(from: other, to: dc)], LinkImpairment(extraDelay: .exponential(mean: mean)))
                target = "\(topology.datacenters[dc].id)<->\(topology.datacenters[other].id)"
                detail = "extra exponential mean \(SimDuration(sampledNanoseconds: mean))"
            case "loss", "duplication":
                let rate = 0.01 + rng.unit() * 0.2
                let ppm = UInt32(rate * 1e6)
                effect = .links([.init(from: dc, to: other), .init(from: other, to: dc)],
                                kind == "loss" ? LinkImpairment(extraLossPPM: ppm) : LinkImpairment(duplicatePPM: ppm))
                target = "\(topology.datacenters[dc].id)<->\(topology.datacenters[other].id)"
                detail = "rate \((rate * 1000).rounded() / 1000)"
            case "reordering":
                effect = .links([.init(from: dc, to: other)], LinkImpairment(extraDelay: Distribution(.mixture([
                    .init(weight: 0.2, distribution: .uniform(0, 50e6)), .init(weight: 0.8, distribution: .constant(0))]))))
                target = "\(topology.datacenters[dc].id)->\(topology.datacenters[other].id)"; detail = "rate 0.2 window 50ms"
            case "slow-disk":
                let factor = (2 + rng.unit() * 48).rounded()
                effect = .slowDisk([node], factor: factor); target = "node:" + topology.nodes[node].name; detail = "service × \(factor)"
            case "bit-rot":
                effect = .bitRot([node], fraction: 0.01, perHour: 0); target = "node:" + topology.nodes[node].name; detail = "fraction 0.01"
            default: // clock-skew
                let offset = SimDuration(sampledNanoseconds: (rng.unit() * 2 - 1) * 2e9)
                effect = .clockSkew([node], offset: offset, driftPPM: 0); target = "node:" + topology.nodes[node].name
                detail = "offset \(offset)"
            }
            faults.append(PlannedFault(kind: kind, target: target, start: start, end: end, effect: effect,
                                       origin: "swarm", detail: detail))
        }
        return faults
    }
}

/// Typed reading of a fault's (or random mode's) parameters, with the config layer's
/// strictness: every parameter must be read (unknown ones are errors with a suggestion) and
/// every error names the file, line and parameter.
struct Params {
    let parameters: [StrategyConfig.Parameter]
    let context: String
    let location: SourceLocation?
    var used: Set<String> = []

    init(_ parameters: [StrategyConfig.Parameter], context: String, location: SourceLocation?) {
        self.parameters = parameters; self.context = context; self.location = location
    }

    func find(_ key: String) -> StrategyConfig.Parameter? { parameters.last { $0.key == key } }
    func fail(_ p: StrategyConfig.Parameter, _ message: String) -> ConfigErrors {
        ConfigErrors([p.error(message, field: "\(context).\(p.key)")])
    }
    func missing(_ key: String, _ what: String) -> ConfigErrors {
        ConfigErrors([ConfigError(at: location, field: "\(context).\(key)", message: "missing '\(key)': \(what)")])
    }

    mutating func choice(_ key: String, default d: String, allowed: [String]) throws -> String {
        used.insert(key)
        guard let p = find(key) else { return d }
        let s = p.value.description
        guard allowed.contains(s) else { throw fail(p, "'\(s)' is not allowed; use one of: \(allowed.joined(separator: ", "))") }
        return s
    }

    mutating func list(_ key: String, default d: [String], allowed: [String]) throws -> [String] {
        used.insert(key)
        guard let p = find(key) else { return d }
        guard case .list(let items) = p.value else { throw fail(p, "expected a list such as [\(allowed.prefix(2).joined(separator: ", "))]") }
        let names = items.map(\.description)
        if let bad = names.first(where: { !allowed.contains($0) }) {
            throw fail(p, "'\(bad)' is not allowed\(didYouMean(bad, among: allowed)); use any of: \(allowed.joined(separator: ", "))")
        }
        return names
    }

    mutating func duration(_ key: String, default d: SimDuration, minimum: SimDuration = .zero) throws -> SimDuration {
        used.insert(key)
        guard let p = find(key) else { return d }
        let v = try p.duration(field: "\(context).\(key)")
        guard v >= minimum else { throw fail(p, "must be at least \(minimum), got \(v)") }
        return v
    }

    /// A duration that may be negative (`-500ms`), e.g. a clock running behind.
    mutating func signedDuration(_ key: String, default d: SimDuration) throws -> SimDuration {
        used.insert(key)
        guard let p = find(key) else { return d }
        var text = p.value.description.trimmingCharacters(in: .whitespaces)
        var sign: Int64 = 1
        if text.hasPrefix("-") { sign = -1; text.removeFirst() } else if text.hasPrefix("+") { text.removeFirst() }
        guard let v = try? ConfigUnits.duration(text) else {
            throw fail(p, "expected a duration such as 500ms or -2s, got '\(p.value)'")
        }
        return SimDuration(nanoseconds: sign * v.nanoseconds)
    }

    mutating func probability(_ key: String, default d: Double? = nil, required: Bool = false) throws -> Double {
        used.insert(key)
        guard let p = find(key) else {
            if let d { return d }
            throw missing(key, "a probability such as 0.01, 1% or 500ppm")
        }
        return try p.probability(field: "\(context).\(key)")
    }

    mutating func number(_ key: String, default d: Double, in range: ClosedRange<Double>) throws -> Double {
        used.insert(key)
        guard let p = find(key) else { return d }
        guard case .number(let x) = p.value, range.contains(x) else {
            throw fail(p, "expected a number from \(range.lowerBound) to \(range.upperBound), got '\(p.value)'")
        }
        return x
    }

    mutating func int(_ key: String, default d: Int, in range: ClosedRange<Int>) throws -> Int {
        used.insert(key)
        guard let p = find(key) else { return d }
        return try p.integer(in: range, field: "\(context).\(key)")
    }

    mutating func distribution(_ key: String, quantity: ConfigQuantity, required: Bool) throws -> Distribution? {
        used.insert(key)
        guard let p = find(key) else {
            if required { throw missing(key, "a duration or distribution, e.g. 20ms or {dist: exponential, mean: 20ms}") }
            return nil
        }
        return try p.distribution(quantity, field: "\(context).\(key)")
    }

    func finish() throws {
        for p in parameters where !used.contains(p.key) {
            let known = used.sorted()
            throw fail(p, "unknown parameter '\(p.key)'\(didYouMean(p.key, among: known)); allowed: \(known.joined(separator: ", "))")
        }
    }
}
