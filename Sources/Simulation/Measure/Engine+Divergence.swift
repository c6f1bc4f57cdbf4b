import SimCore
import Replication

/// Replica divergence after the final heal: do the replicas of each key still disagree once
/// the faults are over and the strategy had a quiet period to converge?
///
/// The snapshot is taken at the last fault's end + `quiet_period` (scenario field, default
/// 60 s), or at the end of the run if that is earlier, or if a fault never ends, or if there
/// were no faults. It compares every key whose newest acknowledged operation is at least
/// `quiet_period` old at the snapshot (younger keys are still converging normally): a key
/// *diverged* if one of its placement's nodes that is up holds no intact copy (or fragment)
/// of it, or if the up placement nodes do not all hold the same newest stamp. Nodes that are
/// down at the snapshot are not compared (they cannot converge while down).
public struct DivergenceFigures: Sendable, Equatable {
    /// When the snapshot was taken (simulated time since the start).
    public var time: SimDuration
    /// When the last fault ended (nil: no fault, or a fault that never ended).
    public var healedAt: SimDuration?
    /// Faults still active at the snapshot (permanent ones, or ones ending after it).
    public var faultsActive: Int
    public var quietPeriod: SimDuration
    /// Whether the quiet period fully elapsed after the final heal before the snapshot
    /// (false when the run ended first or a fault was still active).
    public var quietPeriodElapsed: Bool
    /// Keys compared (acknowledged at least `quietPeriod` before the snapshot).
    public var keysCompared: UInt64
    /// Keys whose replicas disagree (either reason below; a key is counted once).
    public var divergedKeys: UInt64
    /// Keys missing (or only rotted) on an up node of their placement.
    public var missingOnUpNode: UInt64
    /// Keys whose up placement nodes hold different newest stamps.
    public var stampMismatch: UInt64
    /// Nodes down at the snapshot.
    public var nodesDown: Int

    public var divergedShare: Double { keysCompared == 0 ? 0 : Double(divergedKeys) / Double(keysCompared) }

    public init(time: SimDuration, healedAt: SimDuration?, faultsActive: Int, quietPeriod: SimDuration,
                quietPeriodElapsed: Bool, keysCompared: UInt64, divergedKeys: UInt64, missingOnUpNode: UInt64,
                stampMismatch: UInt64, nodesDown: Int) {
        self.time = time; self.healedAt = healedAt; self.faultsActive = faultsActive; self.quietPeriod = quietPeriod
        self.quietPeriodElapsed = quietPeriodElapsed; self.keysCompared = keysCompared; self.divergedKeys = divergedKeys
        self.missingOnUpNode = missingOnUpNode; self.stampMismatch = stampMismatch; self.nodesDown = nodesDown
    }
}

extension Engine {
    /// The last end of a fault that starts within the run, or nil with no fault or a fault
    /// that never ends; and the snapshot time.
    func divergenceSchedule() -> (healedAt: SimTime?, at: SimTime) {
        let started = plan.filter { $0.start <= end }
        guard !started.isEmpty, started.allSatisfy({ $0.end != nil }) else { return (nil, end) }
        let healed = started.compactMap(\.end).max()!
        return (healed, min(end, healed + scenario.quietPeriod))
    }

    /// Schedules the snapshot if it falls before the end of the run (otherwise the run takes
    /// it at its end).
    func scheduleDivergenceSnapshot() {
        let (_, at) = divergenceSchedule()
        if at < end { queue.schedule(.divergenceSnapshot, at: at) }
    }

    /// Compares the replicas of every settled key now (once per run).
    func takeDivergenceSnapshot() {
        guard divergence == nil else { return }
        let (healedAt, _) = divergenceSchedule()
        let quiet = scenario.quietPeriod
        let cutoff = now - quiet
        var compared: UInt64 = 0, diverged: UInt64 = 0, missing: UInt64 = 0, mismatch: UInt64 = 0
        for (i, shard) in shards.enumerated() where shard.acked > .none && shard.ackedAt <= cutoff && now >= SimTime.zero + quiet {
            compared += 1
            let key = ShardKey(UInt64(i))
            var newest: Stamp? = nil
            var isMissing = false, isMismatch = false
            for node in strategy.placement(of: key, home: Int(shard.homeDC)) where liveness.isUp(node) {
                guard let c = stores[node].get(key), !c.corrupt else { isMissing = true; continue }
                if let n = newest, n != c.stamp { isMismatch = true }
                if newest == nil || c.stamp > newest! { newest = c.stamp }
            }
            if isMissing { missing += 1 }
            if isMismatch { mismatch += 1 }
            if isMissing || isMismatch { diverged += 1 }
        }
        let active = plan.filter { $0.start <= now && ($0.end == nil || $0.end! > now) }.count
        let elapsed = active == 0 && now - (healedAt ?? .zero) >= quiet
        divergence = DivergenceFigures(time: now - .zero, healedAt: healedAt.map { $0 - .zero }, faultsActive: active,
                                       quietPeriod: quiet, quietPeriodElapsed: elapsed, keysCompared: compared,
                                       divergedKeys: diverged, missingOnUpNode: missing, stampMismatch: mismatch,
                                       nodesDown: liveness.up.lazy.filter { !$0 }.count)
    }
}
