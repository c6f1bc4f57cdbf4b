import SimCore
import SimNetwork
import SimConfig
import Replication

/// Collects the figures of a run as it happens, and turns them into a report at the end.
struct Metrics {
    struct OpCounters {
        var issued: UInt64 = 0, ok: UInt64 = 0, failed: UInt64 = 0, unknown: UInt64 = 0, retries: UInt64 = 0
        var latency = LatencyRecorder()
    }

    struct Phase {
        var name: String
        var start: SimTime
        var end: SimTime
        var ops = [OpCounters](repeating: OpCounters(), count: 3)
    }

    let scenario: Scenario
    var phases: [Phase]
    var total = [OpCounters](repeating: OpCounters(), count: 3)
    var messages: UInt64 = 0
    var secretMessages: UInt64 = 0
    var logicalBytes: UInt64 = 0
    var byClass: [UInt64]
    var acknowledged: UInt64 = 0
    var reads: UInt64 = 0
    var staleReads: UInt64 = 0
    var staleVersions = [UInt64](repeating: 0, count: 8)
    var staleness = LatencyRecorder()
    var corruption: UInt64 = 0
    var nodeWait: [LatencyRecorder]
    var nodeResponse: [LatencyRecorder]
    var nodeServed: [UInt64]
    var nodeRejected: [UInt64]
    var nodeMaxWaiting: [Int]
    var timeline: [TimelineSample] = []
    var interval = TimelineSample()
    var intervalLatencySum = 0.0
    var intervalCount = 0
    // Fault effects on storage.
    var disksLost: UInt64 = 0
    var copiesRotted: UInt64 = 0
    var unflushedLost: UInt64 = 0
    var diskErrors: UInt64 = 0
    var keyUnavailable: UInt64 = 0
    var seizures: [SeizureFigures] = []
    /// Visibility curve buckets (reads, fresh reads) by time since the ack; last = beyond grid.
    static let visibilityGrid: [SimDuration] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000]
        .map { SimDuration.milliseconds(Int64($0)) }
    var visibilityReads = [UInt64](repeating: 0, count: Metrics.visibilityGrid.count + 1)
    var visibilityFresh = [UInt64](repeating: 0, count: Metrics.visibilityGrid.count + 1)
    var syncLag = LatencyRecorder()
    var readsAfterDelete: UInt64 = 0
    var staleReadsAfterDelete: UInt64 = 0

    init(scenario: Scenario, faults: [PlannedFault] = []) {
        self.scenario = scenario
        let warm = SimTime.zero + scenario.warmup
        let end = SimTime.zero + scenario.duration
        var phases: [Phase] = []
        if scenario.warmup > .zero { phases.append(Phase(name: "warmup", start: .zero, end: warm)) }
        phases.append(Phase(name: "steady", start: warm, end: end))
        // Before, during and after each scripted fault (random faults are too many to
        // phase one by one; their effect shows in the totals and the timeline).
        for (i, f) in faults.enumerated() where f.origin == "scripted" && f.start < end {
            let label = "fault \(i + 1) \(f.kind) \(f.target)"
            let stop = min(f.end ?? end, end)
            if f.start > warm { phases.append(Phase(name: "\(label): before", start: warm, end: f.start)) }
            phases.append(Phase(name: "\(label): during", start: f.start, end: stop))
            if stop < end { phases.append(Phase(name: "\(label): after", start: stop, end: end)) }
            if phases.count > 64 { break }
        }
        self.phases = phases
        byClass = Array(repeating: 0, count: scenario.workload.messageMix.count)
        let n = scenario.topology.nodes.count
        nodeWait = Array(repeating: LatencyRecorder(), count: n)
        nodeResponse = Array(repeating: LatencyRecorder(), count: n)
        nodeServed = Array(repeating: 0, count: n)
        nodeRejected = Array(repeating: 0, count: n)
        nodeMaxWaiting = Array(repeating: 0, count: n)
    }

    mutating func messageSent(class cls: Int, secret: Bool, logicalBytes bytes: Int) {
        if secret { secretMessages += 1; return }
        messages += 1
        byClass[cls] += 1
        logicalBytes += UInt64(bytes)
    }

    mutating func retried(_ kind: ClientRequest.Kind) { total[kind.rawValue].retries += 1 }
    mutating func acknowledged(_ kind: ClientRequest.Kind) { acknowledged += 1 }
    mutating func corruptionDetected() { corruption += 1 }
    mutating func diskRejected(node: Int) { nodeRejected[node] += 1 }
    /// A disk job joined `node`'s line, now `waiting` long: the longest line is reported.
    @inline(__always) mutating func diskQueued(node: Int, waiting: Int) {
        if waiting > nodeMaxWaiting[node] { nodeMaxWaiting[node] = waiting }
    }
    mutating func diskServed(node: Int, waited: SimDuration, response: SimDuration) {
        nodeServed[node] += 1
        nodeWait[node].record(waited)
        nodeResponse[node].record(response)
    }

    /// An operation finished (the issue time decides its phase; warm-up operations count
    /// only in the warm-up phase, not in the totals).
    mutating func completed<S>(op: Engine<S>.Operation, state: Engine<S>.OpState, result: ClientResult?, at now: SimTime) {
        let k = op.kind.rawValue
        let latency = now - op.issued
        let steady = op.issued >= SimTime.zero + scenario.warmup
        func count(_ c: inout OpCounters) {
            c.issued += 1
            switch state {
            case .ok: c.ok += 1; c.latency.record(latency)
            case .failed: c.failed += 1
            case .unknown: c.unknown += 1
            case .open: break
            }
        }
        if steady { count(&total[k]) }
        for p in phases.indices where op.issued >= phases[p].start && op.issued < phases[p].end { count(&phases[p].ops[k]) }

        var stale = false
        if op.kind == .read, state == .ok, steady {
            reads += 1
            if op.ackedAtIssue > .none {
                // Fresh: the newest version acknowledged before the read began, or newer; when
                // that was a delete, "not found" (or its tombstone) is the fresh answer.
                var fresh = false
                var behind = Int(op.ackedAtIssue.version)   // versions missed ("not found": all)
                switch result {
                case .found(let got, _):
                    fresh = got >= op.ackedAtIssue
                    behind = Int(op.ackedAtIssue.version) - Int(got.version)
                case .notFound: fresh = op.ackedAtIssueDeleted
                default: break
                }
                let age = op.issued - op.ackedAtIssueTime
                let b = Self.visibilityGrid.firstIndex { age <= $0 } ?? Self.visibilityGrid.count
                visibilityReads[b] += 1
                if fresh { visibilityFresh[b] += 1 }
                if !fresh {
                    stale = true
                    staleVersions[min(max(behind, 1), staleVersions.count) - 1] += 1
                }
                if op.ackedAtIssueDeleted {
                    readsAfterDelete += 1
                    if !fresh { staleReadsAfterDelete += 1 }
                }
            }
            if stale {
                staleReads += 1
                staleness.record(op.issued - op.ackedAtIssueTime)
            }
        }
        switch (op.kind, state) {
        case (.read, .ok): interval.readsOK += 1
        case (.read, _): interval.readsFailed += 1
        case (_, .ok): interval.writesOK += 1
        default: interval.writesFailed += 1
        }
        if stale { interval.staleReads += 1 }
        if state == .ok { intervalLatencySum += latency.milliseconds; intervalCount += 1 }
    }

    mutating func faultChanged(index: Int, begin: Bool, at now: SimTime) {}

    /// An adversary seized every disk of `dcs`: which messages can it read (a copy — or k
    /// fragments — in the seized set, and enough of the key's holders in it too)?
    mutating func seizure<S>(dcs: [Int], engine e: Engine<S>) {
        let seized = Set(dcs)
        var units = [UInt8](repeating: 0, count: e.shards.count)
        var whole = [Bool](repeating: false, count: e.shards.count)
        for dc in dcs {
            for node in e.world.nodesByDC[dc] {
                for (key, c) in e.stores[node].copies where !c.tombstone {
                    let i = Int(key.raw)
                    guard i < units.count else { continue }
                    if c.fragment < 0 { whole[i] = true } else { units[i] &+= 1 }
                }
            }
        }
        let k = e.strategy.fragmentsNeededToRead
        let classes = scenario.workload.messageMix.count
        var stored = [UInt64](repeating: 0, count: classes)
        var exposed = [UInt64](repeating: 0, count: classes)
        for (i, shard) in e.shards.enumerated() {
            let cls = Int(shard.messageClass)
            guard whole[i] || Int(units[i]) >= k else { continue }
            stored[cls] += 1
            let holders = e.keyHolders[Int(shard.homeDC)][KeyHolders.bucket(of: ShardKey(UInt64(i)))]
            if holders.dcs.filter({ seized.contains($0) }).count >= holders.threshold { exposed[cls] += 1 }
        }
        let topo = scenario.topology
        let total = e.shards.count
        let exposedTotal = exposed.reduce(0, +)
        seizures.append(SeizureFigures(
            time: e.now - .zero, datacenters: dcs.map { topo.datacenters[$0].id },
            messages: UInt64(total), storedInSeized: stored.reduce(0, +), exposed: exposedTotal,
            exposedShare: total == 0 ? 0 : Double(exposedTotal) / Double(total),
            byClass: (0..<classes).map { (scenario.workload.messageMix[$0].name, stored[$0], exposed[$0]) },
            secretChatMessages: secretMessages, secretChatExposed: 0))
    }

    mutating func sample(at now: SimTime, nodesUp: Int, redundancy: RedundancyTracker) {
        interval.time = now - .zero
        interval.nodesUp = nodesUp
        interval.minMargin = redundancy.currentMinMargin
        interval.underReplicated = UInt64(redundancy.under)
        interval.atRisk = UInt64(redundancy.atRiskNow)
        interval.meanLatency = intervalCount == 0 ? 0 : (intervalLatencySum / Double(intervalCount) * 1000).rounded() / 1000
        timeline.append(interval)
        interval = TimelineSample()
        intervalLatencySum = 0
        intervalCount = 0
    }

    // MARK: The report

    func figures(_ c: OpCounters, kind: String, abandoned: UInt64) -> OperationFigures {
        OperationFigures(kind: kind, issued: c.issued + abandoned, ok: c.ok, failed: c.failed, unknown: c.unknown,
                         abandoned: abandoned, retries: c.retries, latency: c.latency.summary)
    }

    func finish<S>(engine e: Engine<S>) -> SimulationReport {
        let topo = scenario.topology
        let kinds = ["write", "read", "delete"]
        var abandoned = [UInt64](repeating: 0, count: 3)
        e.ops.forEach { op in
            if op.state == .open && op.issued >= SimTime.zero + scenario.warmup { abandoned[op.kind.rawValue] += 1 }
        }
        let operations = (0..<3).map { figures(total[$0], kind: kinds[$0], abandoned: abandoned[$0]) }
            .filter { $0.issued > 0 || $0.kind != "delete" }
        let phaseFigures = phases.map { p in
            PhaseFigures(name: p.name, start: p.start - .zero, end: p.end - .zero,
                         operations: (0..<3).map { figures(p.ops[$0], kind: kinds[$0], abandoned: 0) }
                            .filter { $0.issued > 0 || $0.kind != "delete" })
        }

        // Redundancy at the end, recounted from the stores (RedundancyCensus: whole copies
        // and distinct fragments of the newest acknowledged version; lost = unrecoverable
        // from every disk that survives).
        let census = RedundancyCensus(engine: e)
        let lost = census.lost, under = census.under, histogram = census.histogram, liveLogical = census.liveLogical
        let stored = e.stores.reduce(UInt64(0)) { $0 + UInt64($1.usedBytes) }
        var redundancy = RedundancyFigures(shards: UInt64(e.shards.count), acknowledgedWrites: acknowledged,
                                           lostAcknowledgedWrites: lost, underReplicatedAtEnd: under,
                                           storedBytes: stored, logicalBytes: liveLogical,
                                           copiesHistogram: histogram, corruptionDetected: corruption,
                                           minMargin: e.redundancy.minMargin,
                                           underReplicatedShardSeconds: (e.redundancy.underShardNanoseconds / 1e9 * 1000).rounded() / 1000,
                                           atRiskPeak: UInt64(e.redundancy.atRiskPeak),
                                           recoveryTimes: e.redundancy.recoveryTimes,
                                           disksLost: disksLost, copiesRotted: copiesRotted,
                                           unflushedWritesLost: unflushedLost, diskErrors: diskErrors,
                                           keyUnavailable: keyUnavailable)
        redundancy.firstLoss = e.redundancy.firstLoss.map { $0 - .zero }
        redundancy.lossEvents = UInt64(e.redundancy.lossEvents)
        redundancy.stoppedAtFirstLoss = e.end < SimTime.zero + scenario.duration
        redundancy.repairMessages = e.network.messagesByKind[MessageKind.repair.rawValue]
        redundancy.repairBytes = e.network.bytesByKind[MessageKind.repair.rawValue]
        redundancy.reReplicatedUnits = e.redundancy.reReplicatedUnits
        redundancy.byDatacenter = census.byDatacenter
        let consistency = ConsistencyFigures(reads: reads, staleReads: staleReads, staleVersions: staleVersions,
                                             staleness: staleness.summary)

        var links: [LinkFigures] = []
        var wan: UInt64 = 0
        let n = topo.datacenters.count
        for a in 0..<n {
            for b in 0..<n {
                let c = e.network.counters(from: a, to: b)
                guard c.messages > 0 else { continue }
                if a != b { wan += c.bytes }
                links.append(LinkFigures(from: topo.datacenters[a].id, to: topo.datacenters[b].id,
                                         messages: c.messages, bytes: c.bytes, lost: c.lost, blocked: c.blocked))
                links[links.count - 1].duplicated = c.duplicated
                links[links.count - 1].reordered = c.reordered
            }
        }
        let byKind = MessageKind.allCases.map { ($0.description, e.network.messagesByKind[$0.rawValue],
                                                  e.network.bytesByKind[$0.rawValue]) }
        let totalMessages = e.network.messagesByKind.reduce(0, +)
        let clientOps = max(1, Int(e.opsIssued))
        let network = NetworkFigures(links: links, messagesByKind: byKind, wanBytes: wan,
                                     messagesPerOperation: (Double(totalMessages) / Double(clientOps) * 1000).rounded() / 1000)
        let nodes = topo.nodes.indices.map { i in
            NodeFigures(name: topo.nodes[i].name, datacenter: topo.datacenters[topo.nodes[i].datacenter].id,
                        served: nodeServed[i], rejected: nodeRejected[i], maxWaiting: nodeMaxWaiting[i],
                        wait: nodeWait[i].summary, response: nodeResponse[i].summary, usedBytes: e.stores[i].usedBytes)
        }
        let info = ScenarioInfo(name: scenario.name, source: scenario.source, scenarioHash: scenario.contentHash,
                                topology: topo.name, topologyHash: topo.contentHash, seed: scenario.seed,
                                duration: scenario.duration, warmup: scenario.warmup, payload: scenario.payload.rawValue,
                                strategy: scenario.strategy.name, strategySummary: e.strategy.summary,
                                keyPlacement: scenario.keyPlacement.description,
                                datacenters: topo.datacenters.map(\.id), nodeCount: topo.nodes.count)
        let workloadFigures = WorkloadFigures(users: e.workload.users.count, devices: e.workload.deviceCount,
                                              messages: messages, secretMessages: secretMessages,
                                              logicalBytes: logicalBytes,
                                              messagesByClass: scenario.workload.messageMix.indices.map {
                                                  (scenario.workload.messageMix[$0].name, byClass[$0]) })
        var report = SimulationReport(scenario: info, workload: workloadFigures, operations: operations,
                                      phases: phaseFigures, redundancy: redundancy, consistency: consistency,
                                      network: network, nodes: nodes, timeline: timeline,
                                      kernel: KernelFigures(events: e.events, maxPendingEvents: e.maxPending,
                                                            simulatedSeconds: (e.end - SimTime.zero).seconds),
                                      slos: [])
        report.faults = e.faultRecords
        report.availability = AvailabilityFigures(
            timeWeightedRead: (e.availability.readShare * 1e6).rounded() / 1e6,
            timeWeightedWrite: (e.availability.writeShare * 1e6).rounded() / 1e6,
            probeGroups: e.availability.probes)
        report.security = SecurityFigures(seizures: seizures)
        // Visibility: cumulative by t (reads that started at most t after the ack).
        var cumReads: UInt64 = 0, cumFresh: UInt64 = 0
        var points: [VisibilityPoint] = []
        for (i, t) in Self.visibilityGrid.enumerated() {
            cumReads += visibilityReads[i]; cumFresh += visibilityFresh[i]
            let bucketReads = visibilityReads[i]
            guard bucketReads > 0 else { continue }
            let share = Double(visibilityFresh[i]) / Double(bucketReads)
            points.append(VisibilityPoint(t: t, reads: bucketReads, fresh: (share * 1e6).rounded() / 1e6))
        }
        report.consistency.visibility = points
        // The first t from which every later bucket stays at or above the level.
        func reaches(_ level: Double) -> SimDuration? {
            guard let last = points.lastIndex(where: { $0.fresh < level }) else { return points.first?.t }
            return last + 1 < points.count ? points[last + 1].t : nil
        }
        report.consistency.visibilityT99 = reaches(0.99)
        report.consistency.visibilityT999 = reaches(0.999)
        report.consistency.linearizability = e.checkHistories()
        report.consistency.syncLag = syncLag.summary
        report.consistency.divergence = e.divergence
        report.consistency.deletes = e.deleteFigures(readsAfterDelete: readsAfterDelete, stale: staleReadsAfterDelete)
        e.addWorkloadFigures(to: &report.workload)
        report.history = e.history
        e.addBreakdowns(to: &report)
        report.slos = SLOEvaluator.evaluate(scenario.slos, report: report)
        return report
    }
}
