import SimCore
import SimNetwork
import Replication

// The engine's side of the messenger workload (see `WorkloadGenerator` for the model): new
// messages, their edits, deletes and self-destruct timers, device sync through each user's
// update sequence with gap detection and catch-up, and history reads.
//
// Every message, edit, delete and expiry is a client operation through the strategy's own
// write path (a delete is a `.delete` request: tombstones, log entries… whatever the strategy
// does with it). A client never pipelines on one message: a mutation that comes due while
// the previous operation on the message is in flight waits for it.

/// Counts of what the workload did (reported in `WorkloadFigures`).
struct WorkloadCounts {
    var edits: UInt64 = 0
    var deletes: UInt64 = 0
    var expiries: UInt64 = 0
    /// Mutations not issued because the message was never acknowledged.
    var mutationsDropped: UInt64 = 0
    var historyReads: UInt64 = 0
    /// History reads of a chat with no stored message (nothing to read, no operation).
    var historyReadsEmpty: UInt64 = 0
    var pushes: UInt64 = 0
    var syncReads: UInt64 = 0
    /// Gaps in a device's update sequence, and the reads its catch-ups issued.
    var syncGaps: UInt64 = 0
    var catchUpReads: UInt64 = 0
}

/// One update of the users' sequences (device sync): an acknowledged message, edit or
/// delete, and the sync reads of it still open. 32 bytes (one per update, ~1 per message).
struct Update {
    /// When it was acknowledged (the start of its sync lag).
    var ackedAt: SimTime
    var key: UInt32
    /// The version written (workload stamps have tiebreak 0).
    var version: UInt32
    /// The device it came from (-1: the system, a self-destruct timer).
    var device: Int32
    /// Sync reads of it still open, whether one missed it, and whether its lag is measured
    /// (a new message issued after the warm-up).
    var syncOpen: Int32 = 0
    var isDelete: Bool
    var syncMissed = false
    var measuresLag: Bool

    var stamp: Stamp { Stamp(version: version) }
}

extension Engine {
    /// Bytes a delete request carries (a tombstone: key, version, flags), instead of the shard.
    static var tombstoneBytes: Int { 48 }

    // MARK: New messages

    func handleArrival() {
        let m = workload.nextMessage()
        let sender = workload.users[m.sender]
        let chat = workload.chats[m.chat]
        metrics.messageSent(class: m.messageClass, secret: m.secret, logicalBytes: m.sizeBytes)
        if m.secret {
            // Secret chats: end-to-end between devices, relayed by the sender's DC, never
            // stored. The relay traffic is real; no shard is created.
            let dc = Int(sender.homeDC)
            let bytes = m.sizeBytes + 60
            for member in workload.chatMembers(m.chat) where Int(member) != m.sender {
                let target = Int(workload.users[Int(member)].homeDC)
                _ = network.send(from: Endpoint(datacenter: dc, isDevice: true),
                                 to: Endpoint(datacenter: target, isDevice: true),
                                 sizeBytes: bytes, kind: .control, now: now, rng: &netRNG)
            }
        } else {
            let index = shards.count
            let key = ShardKey(UInt64(index))
            let home = Int(chat.homeDC)
            let stored = dataPath.seal(key: key, home: home, messageClass: m.messageClass,
                                       plaintextBytes: m.sizeBytes, version: 1, stripe: stripe(of: key, home: home))
            let stamp = Stamp(version: 1, tiebreak: 0)
            var shard = Shard(homeDC: chat.homeDC, logicalBytes: Int32(clamping: m.sizeBytes),
                              storedBytes: Int32(clamping: stored), messageClass: UInt8(clamping: m.messageClass))
            shard.chat = Int32(m.chat)
            shard.author = Int32(m.sender)
            shard.authorDevice = Int32(m.device)
            shard.written = stamp
            shards.append(shard)
            chatMessages[m.chat].append(UInt32(index))
            redundancyShardAdded(key: key, home: home)
            var op = Operation(kind: .write, key: key, stamp: stamp, clientDC: sender.homeDC, issued: now,
                               retriesLeft: Int16(scenario.workload.client.retries))
            op.user = Int32(m.sender)
            op.device = Int32(m.device)
            let slot = issue(op)
            shards[index].openOp = Int32(slot)
            attempt(op: slot)
            for (after, kind) in [(m.editAfter, MutationKind.edit), (m.deleteAfter, .delete), (m.expireAfter, .expire)] {
                guard let after, now + after <= end else { continue }
                queue.schedule(.mutation(shard: UInt32(index), kind), at: now + after)
            }
        }
        if let next = workload.nextArrival(after: now), next <= end { queue.schedule(.arrival, at: next) }
    }

    // MARK: Edits, deletes, self-destruct

    func handleMutation(shard k: Int, _ kind: MutationKind) {
        guard !shards[k].deleteIssued else { return }   // deleted already: nothing to edit or delete
        if shards[k].openOp >= 0 {
            shards[k].pending = max(shards[k].pending, kind)
            return
        }
        issueMutation(shard: k, kind)
    }

    /// A mutation that came due while an operation on the message was in flight.
    func issuePendingMutation(shard k: Int) {
        let kind = shards[k].pending
        guard kind != .none, shards[k].openOp < 0 else { return }
        shards[k].pending = .none
        guard !shards[k].deleteIssued else { return }
        issueMutation(shard: k, kind)
    }

    func issueMutation(shard k: Int, _ kind: MutationKind) {
        var s = shards[k]
        // A message whose send never got through (failed, or unknown to its client) is not
        // edited or deleted by its author; a self-destruct timer would not start either.
        guard s.acked > .none else { workloadCounts.mutationsDropped += 1; return }
        let key = ShardKey(UInt64(k))
        let stamp = Stamp(version: s.written.version + 1, tiebreak: 0)
        var op: Operation
        let retries = Int16(scenario.workload.client.retries)
        switch kind {
        case .edit:
            let stored = dataPath.seal(key: key, home: Int(s.homeDC), messageClass: Int(s.messageClass),
                                       plaintextBytes: Int(s.logicalBytes), version: stamp.version,
                                       stripe: stripe(of: key, home: Int(s.homeDC)))
            s.storedBytes = Int32(clamping: stored)
            op = Operation(kind: .write, key: key, stamp: stamp, clientDC: workload.users[Int(s.author)].homeDC,
                           issued: now, retriesLeft: retries)
            op.origin = .edit
            workloadCounts.edits += 1
        case .delete:
            s.deleteIssued = true
            op = Operation(kind: .delete, key: key, stamp: stamp, clientDC: workload.users[Int(s.author)].homeDC,
                           issued: now, retriesLeft: retries)
            op.origin = .delete
            workloadCounts.deletes += 1
        case .expire, .none:
            // The self-destruct timer fires in the chat's DC: the system deletes the message.
            s.deleteIssued = true
            op = Operation(kind: .delete, key: key, stamp: stamp, clientDC: s.homeDC, issued: now, retriesLeft: retries)
            op.origin = .expiry
            workloadCounts.expiries += 1
        }
        if op.origin != .expiry {
            op.user = s.author
            op.device = s.authorDevice
        }
        s.written = stamp
        let slot = issue(op)
        s.openOp = Int32(slot)
        shards[k] = s
        attempt(op: slot)
    }

    // MARK: Device sync

    /// An acknowledged message, edit or delete becomes the next update of every member of its
    /// chat; each of their devices but the one it came from gets a push after a sync delay.
    func publishUpdate(_ op: Operation) {
        guard scenario.workload.deviceSync else { return }
        let origin = op.device
        let chat = Int(shards[Int(op.key.raw)].chat)
        guard chat >= 0 else { return }
        let index = updates.count
        updates.append(Update(ackedAt: now, key: UInt32(op.key.raw), version: op.stamp.version, device: origin,
                              isDelete: op.kind == .delete,
                              measuresLag: op.origin == .message && op.issued >= SimTime.zero + scenario.warmup))
        for member in workload.chatMembers(chat) {
            let u = Int(member)
            updateLog[u].append(UInt32(index))
            let pts = UInt32(updateLog[u].count)
            let user = workload.users[u]
            for d in Int(user.firstDevice)..<Int(user.firstDevice + user.devices) {
                if d == Int(origin) {
                    // The sending device learns its update's pts from the acknowledgement.
                    handlePush(device: d, pts: pts)
                    continue
                }
                updates[index].syncOpen += 1
                workloadCounts.pushes += 1
                queue.schedule(.push(device: UInt32(d), pts: pts), at: now + workload.syncDelay())
            }
        }
    }

    /// A push with update `pts` reached device `d` (or, for the device that sent it, its
    /// acknowledgement did). In order: read that update (not its own). Ahead of the device's
    /// sequence (an earlier push is still on its way): a gap — catch up by reading every
    /// missing update first. Behind it: already fetched by a catch-up; nothing to do.
    func handlePush(device d: Int, pts: UInt32) {
        let have = devicePts[d]
        guard pts > have else { return }
        let u = Int(deviceOwner[d])
        if pts > have + 1 {
            var fetched: UInt64 = 0
            for p in (have + 1)..<pts {
                let update = Int(updateLog[u][Int(p) - 1])
                if updates[update].device == Int32(d) { continue }   // its own update: it has it
                issueSyncRead(update: update, user: u, device: d, origin: .catchUp)
                fetched += 1
            }
            if fetched > 0 {
                workloadCounts.syncGaps += 1
                workloadCounts.catchUpReads += fetched
            }
        }
        let update = Int(updateLog[u][Int(pts) - 1])
        if updates[update].device != Int32(d) { issueSyncRead(update: update, user: u, device: d, origin: .sync) }
        devicePts[d] = pts
    }

    func issueSyncRead(update: Int, user u: Int, device d: Int, origin: Origin) {
        var read = Operation(kind: .read, key: ShardKey(UInt64(updates[update].key)), stamp: .none, clientDC: workload.users[u].homeDC,
                             issued: now, retriesLeft: Int16(scenario.workload.client.retries))
        read.parent = Int32(update)
        read.user = Int32(u)
        read.device = Int32(d)
        read.origin = origin
        workloadCounts.syncReads += 1
        attempt(op: issue(read))
    }

    // MARK: History reads

    func handleHistoryRead() {
        let (user, device, chat) = workload.nextHistoryReader()
        if let chat, !chatMessages[chat].isEmpty {
            let list = chatMessages[chat]
            let key = list[list.count - 1 - workload.historyDepth(available: list.count)]
            var read = Operation(kind: .read, key: ShardKey(UInt64(key)), stamp: .none,
                                 clientDC: workload.users[user].homeDC, issued: now,
                                 retriesLeft: Int16(scenario.workload.client.retries))
            read.user = Int32(user)
            read.device = Int32(device)
            read.origin = .history
            workloadCounts.historyReads += 1
            attempt(op: issue(read))
        } else {
            workloadCounts.historyReadsEmpty += 1
        }
        if let next = workload.nextHistoryRead(after: now), next <= end { queue.schedule(.historyRead, at: next) }
    }

    // MARK: Reads finishing

    /// A read finished: a device sync read counts towards its update's sync lag (fresh if
    /// it saw the update's version or newer — for a delete, "not found" or the tombstone).
    func readFinished(_ op: Operation, state: OpState, result: ClientResult?) {
        guard op.parent >= 0 else { return }
        let update = updates[Int(op.parent)]
        var fresh = false
        if state == .ok {
            switch result {
            case .found(let got, let tombstone): fresh = got >= update.stamp && (tombstone || !update.isDelete)
            case .notFound: fresh = update.isDelete
            default: break
            }
        }
        syncReadFinished(parent: Int(op.parent), fresh: fresh)
    }

    /// Whether the system has forgotten `k`'s acknowledged delete: no intact tombstone on any
    /// node whose disk survives, while its content does (a whole copy, or k fragments) — a
    /// replica that missed the delete can now bring the message back (a resurrection).
    func deleteForgotten(_ k: Int) -> Bool {
        guard shards[k].ackedDeleted else { return false }
        let key = ShardKey(UInt64(k))
        var fragments = 0
        var whole = false
        for store in stores {
            guard let c = store.get(key), !c.corrupt else { continue }
            if c.tombstone { return false }
            if c.fragment < 0 { whole = true } else { fragments += 1 }
        }
        return whole || fragments >= strategy.fragmentsNeededToRead
    }

    /// A replica dropped or purged its copy of `k` (tombstone garbage collection): if that
    /// was the last memory of an acknowledged delete while content survives, the message is
    /// resurrected.
    func tombstoneRemoved(_ k: Int) {
        guard k < shards.count, !shards[k].resurrected, deleteForgotten(k) else { return }
        shards[k].resurrected = true
    }

    /// A device finished reading an update: when the last one has it, record the sync lag
    /// (for new messages).
    func syncReadFinished(parent: Int, fresh: Bool) {
        updates[parent].syncOpen -= 1
        if !fresh { updates[parent].syncMissed = true }
        let p = updates[parent]
        if p.syncOpen == 0 && !p.syncMissed && p.measuresLag {
            metrics.syncLag.record(now - p.ackedAt)
        }
    }
}

// MARK: Figures

extension Engine {
    /// Deletes and resurrections at the end of the run (see ``DeleteFigures``).
    func deleteFigures(readsAfterDelete: UInt64, stale: UInt64) -> DeleteFigures {
        var acknowledged: UInt64 = 0, during: UInt64 = 0, atEnd: UInt64 = 0, total: UInt64 = 0
        for (i, s) in shards.enumerated() where s.ackedDeleted {
            acknowledged += 1
            let forgotten = deleteForgotten(i)
            if s.resurrected { during += 1 }
            if forgotten { atEnd += 1 }
            if s.resurrected || forgotten { total += 1 }
        }
        return DeleteFigures(acknowledged: acknowledged, readsAfterDelete: readsAfterDelete,
                             staleReadsAfterDelete: stale, resurrectedDuringRun: during,
                             resurrectedAtEnd: atEnd, resurrected: total)
    }

    func addWorkloadFigures(to w: inout WorkloadFigures) {
        let c = workloadCounts
        w.chats = workload.chats.count
        w.secretChats = workload.chats.reduce(0) { $0 + ($1.secret ? 1 : 0) }
        var kinds = [Int](repeating: 0, count: scenario.workload.devices.count)
        for k in workload.deviceKind where Int(k) < kinds.count { kinds[Int(k)] += 1 }
        w.devicesByKind = scenario.workload.devices.indices.map { (scenario.workload.devices[$0].name, kinds[$0]) }
        w.edits = c.edits
        w.deletes = c.deletes
        w.expiries = c.expiries
        w.mutationsDropped = c.mutationsDropped
        w.historyReads = c.historyReads
        w.historyReadsEmpty = c.historyReadsEmpty
        w.pushes = c.pushes
        w.syncReads = c.syncReads
        w.syncGaps = c.syncGaps
        w.catchUpReads = c.catchUpReads
    }
}
