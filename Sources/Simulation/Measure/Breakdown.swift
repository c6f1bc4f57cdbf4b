import SimCore
import Replication

/// Client operations per (client region, operation kind): counts, offered load versus
/// goodput, and an HDR latency histogram each.
///
/// The client region is the region of the DC the operation's client is attached to (a
/// user's home DC; for a self-destruct expiry, which the system issues, the message's home
/// DC). An operation counts when it began after warm-up, as in the totals: `issued` when its
/// first attempt is sent, the outcome when it finishes; one still open at the end is
/// `abandoned`. `retries` counts attempts beyond the first of finished operations.
struct RegionBreakdown {
    struct Counters {
        var issued: UInt64 = 0, ok: UInt64 = 0, failed: UInt64 = 0, unknown: UInt64 = 0, retries: UInt64 = 0
        var latency = LatencyRecorder()
    }

    /// Index = region × 3 + kind (write, read, delete); grown on first use of a region.
    private(set) var cells: [Counters] = []

    private mutating func cell(region: Int, kind: Int) -> Int {
        let i = region * 3 + kind
        if i >= cells.count { cells.append(contentsOf: repeatElement(Counters(), count: i + 1 - cells.count)) }
        return i
    }

    mutating func began(region: Int, kind: Int) {
        cells[cell(region: region, kind: kind)].issued += 1
    }

    mutating func finished(region: Int, kind: Int, ok: Bool, unknown: Bool, attempts: Int, latency: SimDuration) {
        let i = cell(region: region, kind: kind)
        if ok {
            cells[i].ok += 1
            cells[i].latency.record(latency)
        } else if unknown {
            cells[i].unknown += 1
        } else {
            cells[i].failed += 1
        }
        cells[i].retries += UInt64(max(0, attempts - 1))
    }

    /// One row per region that issued operations (topology order), each with the operation
    /// kinds it issued (write, read, delete order), over `window` (the post-warm-up run).
    func figures(regions: [String], window: SimDuration) -> [RegionFigures] {
        let kinds = ["write", "read", "delete"]
        var rows: [RegionFigures] = []
        for (r, name) in regions.enumerated() {
            var ops: [OperationFigures] = []
            for k in 0..<3 where r * 3 + k < cells.count {
                let c = cells[r * 3 + k]
                guard c.issued > 0 else { continue }
                let done = c.ok + c.failed + c.unknown
                var f = OperationFigures(kind: kinds[k], issued: c.issued, ok: c.ok, failed: c.failed,
                                         unknown: c.unknown, abandoned: c.issued - min(done, c.issued),
                                         retries: c.retries, latency: c.latency.summary)
                f.window = window
                ops.append(f)
            }
            if !ops.isEmpty { rows.append(RegionFigures(region: name, operations: ops)) }
        }
        return rows
    }
}

/// Client operations of one region (see ``SimulationReport/byRegion``).
public struct RegionFigures: Sendable {
    public var region: String
    /// Per operation kind the region issued (write, read, delete order).
    public var operations: [OperationFigures]
}

// MARK: The engine's measurement hooks

extension Engine {
    /// Names of ``Origin`` cases in reports, by raw value.
    static var originNames: [String] { ["message", "edit", "delete", "expiry", "sync", "catch_up", "history"] }

    /// An operation's first attempt is being sent (called from `attempt(op:)`).
    func measureBegan(_ op: Operation) {
        if op.issued >= SimTime.zero + scenario.warmup {
            breakdown.began(region: scenario.topology.datacenters[Int(op.clientDC)].region, kind: op.kind.rawValue)
        }
        if op.kind == .read { sessions.readBegan(op: Int(op.serial), user: op.user, key: op.key.raw) }
    }

    /// An operation finished (called from `finish(op:state:result:)`).
    func measureFinished(_ op: Operation, state: OpState, result: ClientResult?) {
        let counted = op.issued >= SimTime.zero + scenario.warmup
        if counted {
            breakdown.finished(region: scenario.topology.datacenters[Int(op.clientDC)].region, kind: op.kind.rawValue,
                               ok: state == .ok, unknown: state == .unknown, attempts: Int(op.attempt),
                               latency: now - op.issued)
        }
        let k = Int(op.key.raw)
        if op.kind == .read {
            var observed = Stamp.none
            var succeeded = false
            if state == .ok {
                switch result {
                case .found(let got, _): observed = got; succeeded = true
                // "Not found" after a delete was issued may be that delete (see SessionTracker).
                case .notFound: observed = shards[k].deleteIssued ? shards[k].written : .none; succeeded = true
                default: break
                }
            }
            sessions.readFinished(op: Int(op.serial), user: op.user, key: op.key.raw, origin: Int(op.origin.rawValue),
                                  succeeded: succeeded, observed: observed, counted: counted)
        } else if state == .ok {
            sessions.writeAcknowledged(user: op.user, key: op.key.raw, stamp: op.stamp)
        }
    }

    /// Session guarantees, per-region figures and offered load / goodput windows.
    func addBreakdowns(to report: inout SimulationReport) {
        let warm = SimTime.zero + scenario.warmup
        let window = end > warm ? end - warm : .zero
        report.consistency.sessions = sessions.figures { i in i < Self.originNames.count ? Self.originNames[i] : "origin \(i)" }
        report.byRegion = breakdown.figures(regions: scenario.topology.regions, window: window)
        for i in report.operations.indices { report.operations[i].window = window }
        for p in report.phases.indices {
            let stop = min(report.phases[p].end, end - .zero)
            let span = stop > report.phases[p].start ? stop - report.phases[p].start : .zero
            for i in report.phases[p].operations.indices { report.phases[p].operations[i].window = span }
        }
    }
}
