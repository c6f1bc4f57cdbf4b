import SimCore
import SimNetwork

/// Hinted handoff: a write a replica did not acknowledge within `replica_timeout` is stored
/// at another node — the next on the ring, see ``Quorum/hintHolder(for:key:replicas:excluding:coordinator:)``
/// — together with a hint naming the replica. The hint holder keeps the data on its disk and
/// the hint in a durable store (both survive a crash, both go with a lost disk). Every
/// `hint_retry_interval` it probes each replica it holds hints for; a replica that answers is
/// back, and the holder hands its hints over in batches, each acknowledged after the replica
/// stored it; handed-over hints are forgotten and the holder's copy is dropped.
///
/// With `sloppy: true` a hint holder's acknowledgement counts towards W for the replica it
/// stands in for (Dynamo's sloppy quorum: writes stay available when replicas are not, and
/// reads at R may miss them until the handoff — R + W > N no longer guarantees fresh reads).
/// Without it hints only speed up convergence (Cassandra).
///
/// All hinted-handoff traffic (hinted writes and their acks, probes, batches) is
/// ``MessageKind/repair``.
extension Quorum {
    mutating func armHintDelivery(_ node: Int, effects: inout Effects<Message, Timer>) {
        guard !nodes[node].hintTimerArmed else { return }
        nodes[node].hintTimerArmed = true
        effects.setTimer(after: hintRetryInterval, .hintDelivery)
    }

    /// Probes every replica this node holds hints for (periodic retry: the answer is how a
    /// holder learns the replica is back).
    mutating func deliverHints(at node: Int, now: SimTime, rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        // A batch not acknowledged by now is lost or its target is gone: send it again later.
        nodes[node].handoffInFlight = [:]
        let targets = nodes[node].hints.targets
        for target in targets {
            send(.hintProbe, from: node, to: target, sizeBytes: 32, kind: .repair, now: now, rng: &rng, effects: &effects)
        }
        if !targets.isEmpty { armHintDelivery(node, effects: &effects) }
    }

    mutating func hintTargetIsBack(_ target: Int, at node: Int, now: SimTime, rng: inout SimRandom,
                                   effects: inout Effects<Message, Timer>) {
        guard nodes[node].handoffInFlight[target] == nil else { return }
        sendHandoffBatch(to: target, at: node, now: now, rng: &rng, effects: &effects)
    }

    mutating func sendHandoffBatch(to target: Int, at node: Int, now: SimTime, rng: inout SimRandom,
                                   effects: inout Effects<Message, Timer>) {
        let values = nodes[node].hints.batch(for: target, limit: Self.handoffBatch)
        guard !values.isEmpty else { return }
        let batch = nodes[node].nextBatch
        nodes[node].nextBatch &+= 1
        nodes[node].handoffInFlight[target] = batch
        let bytes = values.reduce(Self.headerBytes) { $0 + Self.ackBytes + $1.wireBytes }
        send(.handoff(batch: batch, values), from: node, to: target, sizeBytes: bytes, kind: .repair,
             now: now, rng: &rng, effects: &effects)
    }

    /// The replica stores each handed-over value, then acknowledges the batch.
    mutating func receiveHandoff(_ batch: UInt64, _ values: [Value], from holder: Int, at node: Int, now: SimTime,
                                 rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        let ref = BatchRef(holder: holder, batch: batch)
        guard nodes[node].handoffReceiving[ref] == nil else { return }  // a duplicate still being stored
        guard !values.isEmpty else {
            send(.handoffAck(batch: batch, stored: []), from: node, to: holder, sizeBytes: 32, kind: .repair,
                 now: now, rng: &rng, effects: &effects)
            return
        }
        nodes[node].handoffReceiving[ref] = HandoffReceipt(remaining: values.count)
        for v in values {
            storeReplica(v, at: node, task: .handoffStore(holder: Int32(holder), batch: batch, v), effects: &effects)
        }
    }

    mutating func handoffEntryStored(_ value: Value, ok: Bool, holder: Int, batch: UInt64, at node: Int, now: SimTime,
                                     rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        let ref = BatchRef(holder: holder, batch: batch)
        guard var receipt = nodes[node].handoffReceiving[ref] else { return }
        if ok { receipt.stored.append(TreeEntry(key: value.key, stamp: value.stamp, tombstone: value.tombstone)) }
        receipt.remaining -= 1
        if receipt.remaining > 0 {
            nodes[node].handoffReceiving[ref] = receipt
            return
        }
        nodes[node].handoffReceiving[ref] = nil
        send(.handoffAck(batch: batch, stored: receipt.stored), from: node, to: holder,
             sizeBytes: 32 + 16 * receipt.stored.count, kind: .repair, now: now, rng: &rng, effects: &effects)
    }

    /// The replica has the hints: forget them, drop copies no hint needs, send the next batch.
    mutating func handoffAcknowledged(_ batch: UInt64, _ stored: [TreeEntry], from target: Int, at node: Int,
                                      now: SimTime, rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        for e in stored where nodes[node].hints.remove(e.key, stamp: e.stamp, for: target) {
            issue(.drop(e.key), task: .dropHintCopy(e.key), at: node, effects: &effects)
        }
        if nodes[node].handoffInFlight[target] == batch {
            nodes[node].handoffInFlight[target] = nil
            sendHandoffBatch(to: target, at: node, now: now, rng: &rng, effects: &effects)
        }
    }
}

/// A hint holder's durable hints: per target replica, the newest value of each key, in
/// arrival order (so batches are deterministic and nothing is scanned twice), and for each
/// key the newest value among all targets (the copy kept on this node's disk).
struct HintStore {
    /// The most hints one node keeps; a holder that is full refuses further hints.
    static let capacity = 1_000_000

    struct Queue {
        var order: [ShardKey] = []
        var head = 0
        var latest: [ShardKey: Quorum.Value] = [:]
    }

    private(set) var byTarget: [Int: Queue] = [:]
    /// Per key: how many targets hold a hint for it, and the newest value.
    private var copies: [ShardKey: (count: Int, value: Quorum.Value)] = [:]
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    /// Targets with hints, in node order.
    var targets: [Int] { byTarget.keys.filter { !byTarget[$0]!.latest.isEmpty }.sorted() }

    func holdCount(_ key: ShardKey) -> Int { copies[key]?.count ?? 0 }
    func copy(of key: ShardKey) -> Quorum.Value? { copies[key]?.value }
    func hints(for target: Int) -> Int { byTarget[target]?.latest.count ?? 0 }

    /// Records `value` for `target`, keeping the newer of it and a hint already held.
    mutating func add(_ value: Quorum.Value, for target: Int, newer: (Stamp, Stamp) -> Bool) {
        var q = byTarget[target] ?? Queue()
        if let old = q.latest[value.key] {
            guard newer(value.stamp, old.stamp) else { return }
            q.latest[value.key] = value
        } else {
            q.latest[value.key] = value
            q.order.append(value.key)
            count += 1
            copies[value.key, default: (0, value)].count += 1
        }
        byTarget[target] = q
        if let c = copies[value.key], newer(value.stamp, c.value.stamp) { copies[value.key]!.value = value }
    }

    /// Up to `limit` hints for `target`, oldest first.
    mutating func batch(for target: Int, limit: Int) -> [Quorum.Value] {
        guard var q = byTarget[target] else { return [] }
        while q.head < q.order.count && q.latest[q.order[q.head]] == nil { q.head += 1 }
        if q.head >= 1024 && q.head * 2 >= q.order.count {
            q.order.removeFirst(q.head)
            q.head = 0
        }
        var result: [Quorum.Value] = []
        var i = q.head
        while i < q.order.count && result.count < limit {
            if let v = q.latest[q.order[i]], !result.contains(where: { $0.key == v.key }) { result.append(v) }
            i += 1
        }
        byTarget[target] = q
        return result
    }

    /// Forgets `target`'s hint for `key` if it is still the one at `stamp` (a newer hint that
    /// arrived meanwhile stays). Returns true when no hint for the key remains on this node
    /// (its copy can be dropped).
    mutating func remove(_ key: ShardKey, stamp: Stamp, for target: Int) -> Bool {
        guard var q = byTarget[target], let v = q.latest[key], v.stamp == stamp else { return false }
        q.latest[key] = nil
        if q.latest.isEmpty { byTarget[target] = nil } else { byTarget[target] = q }
        count -= 1
        let left = copies[key]!.count - 1
        if left == 0 {
            copies[key] = nil
            return true
        }
        copies[key]!.count = left
        return false
    }
}
