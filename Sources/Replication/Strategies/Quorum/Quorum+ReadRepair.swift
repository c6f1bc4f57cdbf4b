import SimCore
import SimNetwork

/// Read repair: when the answers to a read disagree, the coordinator writes the newest
/// version to the replicas that answered with an older one (or with nothing).
///
/// - `blocking` (Cassandra 4): the client's answer waits until the stale replicas among the
///   answers acknowledged the repair, so a later read at the same level cannot see an older
///   version; a repair that fails or times out fails the read. Replicas answering after the
///   client was answered are repaired in the background.
/// - `probabilistic` (Cassandra 3's `read_repair_chance`): with that probability a read is
///   sent to every replica and stale ones are repaired in the background; the answer does
///   not wait.
/// - `off`: nothing; divergent replicas stay divergent until a write, a hint or
///   anti-entropy reaches them.
///
/// Repairs and their acknowledgements travel as ``MessageKind/repair``. A repair is an
/// ordinary replica write: a replica that missed a delete and lost its tombstone to
/// `gc_grace` can make the coordinator repair the old value back onto the others — a
/// resurrection, measured, not hidden.
extension Quorum {
    mutating func sendRepair(_ rid: UInt64, _ t: Int, at node: Int, now: SimTime,
                             rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        guard let op = nodes[node].reads[rid], case .value(let stamp, let tombstone) = op.answer ?? newestAnswer(op) else { return }
        nodes[node].reads[rid]!.targets[t].repair = .pending
        let value = Value(key: op.key, stamp: stamp, storedBytes: Int(op.bytes), tombstone: tombstone, home: Int(op.home))
        send(.repair(rid: rid, value), from: node, to: Int(op.targets[t].node),
             sizeBytes: Self.headerBytes + value.wireBytes, kind: .repair, now: now, rng: &rng, effects: &effects)
    }

    /// A replica answered after the client had its answer: repair it in the background if
    /// it is stale (blocking and probabilistic modes alike).
    mutating func lateReadAnswer(_ rid: UInt64, _ t: Int, at node: Int, now: SimTime,
                                 rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        if let op = nodes[node].reads[rid], op.plan != .none, let answer = op.answer,
           op.targets[t].state == .acked, op.targets[t].repair == .none,
           isStale(op.targets[t].result, comparedWith: answer) {
            sendRepair(rid, t, at: node, now: now, rng: &rng, effects: &effects)
        }
        forgetReadIfDone(rid, at: node)
    }

    mutating func repairAcknowledged(_ rid: UInt64, ok: Bool, from source: Int, at node: Int, now: SimTime,
                                     rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        guard let op = nodes[node].reads[rid],
              let t = op.targets.firstIndex(where: { Int($0.node) == source }),
              op.targets[t].repair == .pending else { return }
        nodes[node].reads[rid]!.targets[t].repair = ok ? .acked : .failed
        if !op.replied { progressRead(rid, at: node, now: now, rng: &rng, effects: &effects) }
    }

    /// A replica stores a repair and acknowledges it.
    mutating func replicaRepair(_ rid: UInt64, _ value: Value, from coordinator: Int, at node: Int,
                                effects: inout Effects<Message, Timer>) {
        issue(putRequest(value), task: .repairWrite(rid: rid, coordinator: Int32(coordinator), value), at: node, effects: &effects)
    }
}
