import SimCore
import SimNetwork

/// The replica side: storing writes, repairs, handed-over hints and streamed keys; reading
/// for coordinators; and tombstone garbage collection.
///
/// Tombstones: a delete is a write of a tombstone. A replica that stores one queues it for
/// purging `gc_grace` later (by its own clock); the queue is durable. Until then the
/// tombstone shadows older copies on other replicas (read repair and anti-entropy carry it to
/// them); after it is purged, a replica that missed the delete and still holds the old value
/// wins every comparison — it can resurrect the message. Cassandra's rule that every replica
/// must be repaired within `gc_grace` is the operator's to keep, and this simulator measures
/// what happens when it is not.
extension Quorum {
    mutating func replicaWrite(_ rid: UInt64, _ value: Value, hintFor: Int, from coordinator: Int, at node: Int,
                               now: SimTime, rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        if hintFor >= 0 {
            guard nodes[node].hints.count < HintStore.capacity else {
                // The hint store is full: refuse, the coordinator tries the next holder.
                send(.writeAck(rid: rid, ok: false), from: node, to: coordinator, sizeBytes: Self.ackBytes, kind: .repair,
                     now: now, rng: &rng, effects: &effects)
                return
            }
            issue(putRequest(value), task: .hintWrite(rid: rid, coordinator: Int32(coordinator), target: Int32(hintFor), value),
                  at: node, effects: &effects)
        } else {
            issue(putRequest(value), task: .replicaWrite(rid: rid, coordinator: Int32(coordinator), value),
                  at: node, effects: &effects)
        }
    }

    mutating func replicaRead(_ rid: UInt64, _ key: ShardKey, data: Bool, bytes: Int32, from coordinator: Int,
                              at node: Int, effects: inout Effects<Message, Timer>) {
        issue(.get(key), task: .replicaRead(rid: rid, coordinator: Int32(coordinator), data: data, bytes: bytes),
              at: node, effects: &effects)
    }

    /// Stores `value` as this node's replica of its key; `task` says what follows.
    mutating func storeReplica(_ value: Value, at node: Int, task: DiskTask, effects: inout Effects<Message, Timer>) {
        issue(putRequest(value), task: task, at: node, effects: &effects)
    }

    /// A replica's copy changed to `value`: index it for anti-entropy, queue a tombstone for
    /// garbage collection.
    mutating func replicaStored(_ value: Value, at node: Int, now: SimTime, effects: inout Effects<Message, Timer>) {
        if nodes[node].index != nil {
            let replicas = placement(of: value.key, home: Int(value.home))
            if replicas.contains(node) {
                nodes[node].index!.update(value.key, to: AntiEntropyIndex.Entry(value), replicas: replicas, at: node)
            }
        }
        if value.tombstone {
            nodes[node].tombstones.append(.init(key: value.key, stamp: value.stamp, due: now + gcGrace))
            armTombstoneGC(node, now: now, effects: &effects)
        }
    }

    // MARK: Disk completions

    mutating func diskDone(_ task: DiskTask, _ completion: StorageCompletion, at node: Int, now: SimTime,
                           rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        let outcome = completion.outcome
        let applied = outcome == .stored
        let ok: Bool
        switch outcome {
        case .stored, .superseded: ok = true
        default: ok = false
        }
        switch task {
        case .replicaWrite(let rid, let coordinator, let value):
            if applied { replicaStored(value, at: node, now: now, effects: &effects) }
            send(.writeAck(rid: rid, ok: ok), from: node, to: Int(coordinator), sizeBytes: Self.ackBytes, kind: .writeAck,
                 now: now, rng: &rng, effects: &effects)

        case .hintWrite(let rid, let coordinator, let target, let value):
            if ok {
                let rule = conflict
                nodes[node].hints.add(value, for: Int(target), newer: { Quorum.newer($0, than: $1, under: rule) })
                armHintDelivery(node, effects: &effects)
            }
            send(.writeAck(rid: rid, ok: ok), from: node, to: Int(coordinator), sizeBytes: Self.ackBytes, kind: .repair,
                 now: now, rng: &rng, effects: &effects)

        case .replicaRead(let rid, let coordinator, let data, let bytes):
            let result: ReplicaRead
            switch outcome {
            case .found(let stamp, let tombstone), .foundFragment(let stamp, _, let tombstone):
                result = .value(stamp, tombstone: tombstone)
            case .missing: result = .missing
            case .ioError, .stored, .superseded: result = .failed
            }
            var carries = false
            if data, case .value(_, false) = result { carries = true }
            send(.readReply(rid: rid, result, data: carries), from: node, to: Int(coordinator),
                 sizeBytes: carries ? Self.headerBytes + Int(bytes) : Self.ackBytes, kind: .readResponse,
                 now: now, rng: &rng, effects: &effects)

        case .repairWrite(let rid, let coordinator, let value):
            if applied { replicaStored(value, at: node, now: now, effects: &effects) }
            send(.repairAck(rid: rid, ok: ok), from: node, to: Int(coordinator), sizeBytes: Self.ackBytes, kind: .repair,
                 now: now, rng: &rng, effects: &effects)

        case .handoffStore(let holder, let batch, let value):
            if applied { replicaStored(value, at: node, now: now, effects: &effects) }
            handoffEntryStored(value, ok: ok, holder: Int(holder), batch: batch, at: node, now: now,
                               rng: &rng, effects: &effects)

        case .streamStore(let value):
            if applied { replicaStored(value, at: node, now: now, effects: &effects) }

        case .streamRead(let peer, let bytes, let home):
            if case .found(let stamp, let tombstone) = outcome {
                let value = Value(key: completion.key, stamp: stamp, storedBytes: Int(bytes), tombstone: tombstone, home: Int(home))
                send(.stream(value), from: node, to: Int(peer), sizeBytes: Self.headerBytes + value.wireBytes, kind: .repair,
                     now: now, rng: &rng, effects: &effects)
            }

        case .purge(let key, _):
            if applied { unindex(key, at: node) }

        case .dropHintCopy(let key):
            // A new hint for the key may have been stored while the drop was queued.
            if let copy = nodes[node].hints.copy(of: key) {
                issue(putRequest(copy), task: .hintCopy, at: node, effects: &effects)
            }

        case .hintCopy:
            break
        }
    }

    // MARK: Tombstone garbage collection

    mutating func armTombstoneGC(_ node: Int, now: SimTime, effects: inout Effects<Message, Timer>) {
        guard !nodes[node].gcTimerArmed, let due = nodes[node].tombstones.nextDue else { return }
        nodes[node].gcTimerArmed = true
        effects.setTimer(after: Swift.max(.microseconds(1), due - now), .tombstoneGC)
    }

    mutating func collectTombstones(at node: Int, now: SimTime, effects: inout Effects<Message, Timer>) {
        while let e = nodes[node].tombstones.popDue(now) {
            issue(.purge(e.key, upTo: e.stamp), task: .purge(e.key, e.stamp), at: node, effects: &effects)
        }
        armTombstoneGC(node, now: now, effects: &effects)
    }
}

/// Tombstones waiting for `gc_grace` to pass, in the order they were stored (so nearly in
/// due order; a clock jump backwards only delays a purge). Durable.
struct TombstoneQueue {
    struct Entry {
        var key: ShardKey
        var stamp: Stamp
        var due: SimTime
    }
    private(set) var entries: [Entry] = []
    private var head = 0

    var isEmpty: Bool { head >= entries.count }
    var count: Int { entries.count - head }
    var nextDue: SimTime? { isEmpty ? nil : entries[head].due }

    mutating func append(_ entry: Entry) { entries.append(entry) }

    /// Puts interrupted purges back at the front.
    mutating func requeue(_ list: [Entry]) { entries.insert(contentsOf: list, at: head) }

    /// The first entry if it is due at `now`.
    mutating func popDue(_ now: SimTime) -> Entry? {
        guard !isEmpty, entries[head].due <= now else { return nil }
        let e = entries[head]
        head += 1
        if head >= 1024 && head * 2 >= entries.count {
            entries.removeFirst(head)
            head = 0
        }
        return e
    }
}
