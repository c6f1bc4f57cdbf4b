import SimCore
import SimNetwork

// The data path: client requests, writes (primary-backup fan-out or the chain), reads at the
// read server under a lease, and log pruning.
extension ViewReplication {
    // MARK: Routing requests

    /// Serves, queues or forwards a client request that reached `node` after `hops` forwards.
    mutating func handleRequest(_ r: ClientRequest, hops: Int, at node: Int, now: SimTime,
                                _ effects: inout Effects<Message, Timer>) {
        let g = groupID(for: r.key, home: r.homeDC)
        if r.kind == .read, case .primaryBackup(_, true) = settings.shape {
            // `read: any`: every replica answers from its own disk (possibly stale).
            effects.store(.get(r.key), token: token(node, .read(r, group: g, hops: hops)))
            return
        }
        guard let s = slot(node, g, now: now), !states[s].members.isEmpty else {
            forwardAlongPlacement(r, hops: hops, group: g, at: node, &effects)
            return
        }
        let members = states[s].members
        // A node named in its view as an older incarnation (it lost its disk since) is not
        // that member: it passes the request on.
        if members.contains(node) && !validMember(slot: s, at: node) {
            return forwardAlongPlacement(r, hops: hops, group: g, at: node, &effects)
        }
        switch r.kind {
        case .write, .delete:
            guard members[0] == node else { return forward(r, hops: hops, to: members[0], at: node, &effects) }
            guard states[s].active, states[s].proposal == nil else {
                if states[s].queued.count >= Self.queueLimit { effects.reply(r.id, .failed) } else { states[s].queued.append((r, hops)) }
                return
            }
            let entry = Entry(key: r.key, stamp: r.stamp, storedBytes: r.storedBytes, tombstone: r.kind == .delete, home: r.homeDC)
            issue(entry, op: r.id, slot: s, at: node, now: now, &effects)
        case .read:
            let reader = readServer(members)!
            guard reader == node else { return forward(r, hops: hops, to: reader, at: node, &effects) }
            tryRead(r, hops: hops, slot: s, at: node, now: now, &effects)
        }
    }

    /// Passes a request on; a request that went around more than the group's size fails
    /// (the client retries).
    func forward(_ r: ClientRequest, hops: Int, to target: Int, at node: Int, _ effects: inout Effects<Message, Timer>) {
        guard target != node, hops < layout.copies + 2 else { return effects.reply(r.id, .failed) }
        let size = 64 + (r.kind == .read ? 0 : r.storedBytes)
        effects.send(.forward(r, hops: hops + 1), to: target, sizeBytes: size,
                     kind: r.kind == .read ? .readRequest : .writeRequest)
    }

    /// A node that does not know the group (it lost its disk) passes the request to the next
    /// node of the placement.
    func forwardAlongPlacement(_ r: ClientRequest, hops: Int, group g: Int32, at node: Int,
                               _ effects: inout Effects<Message, Timer>) {
        let placement = directory.placements[Int(g)]
        let next = placement.firstIndex(of: node).map { placement[($0 + 1) % placement.count] } ?? placement[0]
        forward(r, hops: hops, to: next, at: node, &effects)
    }

    // MARK: Writes

    /// The leader issues a write in its current view: a new sequence number, its own copy,
    /// and (primary-backup) the copies to every backup; the chain forwards once stored.
    mutating func issue(_ entry: Entry, op: OperationID?, slot s: Int, at node: Int, now: SimTime,
                        _ effects: inout Effects<Message, Timer>) {
        states[s].maxSeq += 1
        let log = LogEntry(seq: states[s].maxSeq, entry: entry, op: op)
        states[s].log.append(Record(log: log, stored: false, sentAt: now, learned: false, since: now))
        let g = states[s].group
        effects.store(.put(entry.key, entry.stamp, storedBytes: entry.storedBytes, tombstone: entry.tombstone),
                      token: token(node, .leaderStore(group: g, log)))
        if !isChain {
            states[s].pending[log.seq] = PendingWrite(sentAt: now)
            states[s].pendingPerKey[entry.key, default: 0] += 1
            let watermark = watermarkToSend(s)
            for m in states[s].members.dropFirst() {
                effects.send(.replicate(group: g, view: states[s].view, log, watermark: watermark, learner: false),
                             to: m, sizeBytes: 64 + Self.wireBytes(entry), kind: .replication)
            }
        }
        if states[s].catchUp != nil { copyToLearner(log, slot: s, now: now, &effects) }
    }

    mutating func onLeaderStored(_ g: Int32, _ log: LogEntry, _ outcome: StorageCompletion.Outcome,
                                 at node: Int, now: SimTime, _ effects: inout Effects<Message, Timer>) {
        guard let s = nodes[node].slots[g] else { return }
        switch outcome {
        case .stored: states[s].noteStored(log.entry)
        case .superseded: break
        case .ioError:
            // The record stays; the leader retries the store on its next tick.
            if let i = states[s].logIndex(seq: log.seq) { states[s].log[i].failed = true }
            return
        case .found, .foundFragment, .missing:
            preconditionFailure("ViewReplication: a put completed as a get at node \(node)")
        }
        guard let i = states[s].logIndex(seq: log.seq) else { return }  // re-issued by a view change
        states[s].log[i].stored = true
        states[s].log[i].failed = false
        if isChain {
            chainStored(slot: s, seq: log.seq, at: node, now: now, &effects)
        } else {
            checkProgress(slot: s, seq: log.seq, at: node, now: now, &effects)
        }
    }

    /// A backup's, chain member's or learner's store completed.
    mutating func onReplicaStored(_ g: Int32, _ log: LogEntry, from: Int, view: UInt32, learner: Bool,
                                  _ outcome: StorageCompletion.Outcome, at node: Int, now: SimTime,
                                  _ effects: inout Effects<Message, Timer>) {
        guard let s = nodes[node].slots[g] else { return }
        switch outcome {
        case .stored: states[s].noteStored(log.entry)
        case .superseded: break
        case .ioError:
            // Forget it: the sender retransmits and the store is tried again.
            if let i = states[s].logIndex(seq: log.seq), !states[s].log[i].stored { states[s].log.remove(at: i) }
            return
        case .found, .foundFragment, .missing:
            preconditionFailure("ViewReplication: a put completed as a get at node \(node)")
        }
        if let i = states[s].logIndex(seq: log.seq) { states[s].log[i].stored = true }
        if learner {
            effects.send(.replicateAck(group: g, view: view, seq: log.seq), to: from, sizeBytes: 40, kind: .control)
            return
        }
        guard states[s].view == view else { return }   // the new leader re-issues it
        if isChain {
            chainStored(slot: s, seq: log.seq, at: node, now: now, &effects)
        } else {
            effects.send(.replicateAck(group: g, view: view, seq: log.seq), to: from, sizeBytes: 40, kind: .control)
        }
    }

    // MARK: Primary-backup

    /// A write (or a learner copy) from the leader.
    mutating func onReplicate(_ g: Int32, view: UInt32, _ log: LogEntry, watermark: UInt64, learner: Bool,
                              from leader: Int, at node: Int, now: SimTime, _ effects: inout Effects<Message, Timer>) {
        if learner { return learnerCopy(g, view: view, log, from: leader, at: node, now: now, &effects) }
        guard let s = slot(node, g, now: now) else {
            effects.send(.reject(group: g, promised: 0, view: 0, members: [], epochs: [], unknown: true), to: leader, sizeBytes: 48, kind: .control)
            return
        }
        // Data from a view below the one promised or accepted is refused (fencing).
        if view < states[s].promised { return sendReject(slot: s, to: leader, at: node, &effects) }
        guard view == states[s].view, states[s].members.first == leader, validMember(slot: s, at: node) else { return }
        if watermark > 0 { prune(s, through: watermark) }
        acceptCopy(log, slot: s, from: leader, view: view, learner: false, at: node, now: now, &effects)
    }

    /// Stores an incoming copy unless this node already holds it (or a newer version), and
    /// acknowledges it to `from` — at once if held, else when the store completes (see
    /// ``onReplicaStored``).
    mutating func acceptCopy(_ log: LogEntry, slot s: Int, from: Int, view: UInt32, learner: Bool, at node: Int,
                             now: SimTime, _ effects: inout Effects<Message, Timer>) {
        let ack = Message.replicateAck(group: states[s].group, view: view, seq: log.seq)
        if let i = states[s].logIndex(seq: log.seq) {
            if states[s].log[i].stored { effects.send(ack, to: from, sizeBytes: 40, kind: .control) }
            return
        }
        if let held = states[s].index[log.entry.key], held.stamp >= log.entry.stamp {
            states[s].insertRecord(Record(log: log, stored: true, sentAt: now, learned: learner, since: now))
            effects.send(ack, to: from, sizeBytes: 40, kind: .control)
            return
        }
        states[s].insertRecord(Record(log: log, stored: false, sentAt: now, learned: learner, since: now))
        let e = log.entry
        effects.store(.put(e.key, e.stamp, storedBytes: e.storedBytes, tombstone: e.tombstone),
                      token: token(node, .replicaStore(group: states[s].group, log, from: from, view: view, learner: learner)))
    }

    mutating func onReplicateAck(_ g: Int32, view: UInt32, seq: UInt64, from member: Int, at node: Int,
                                 now: SimTime, _ effects: inout Effects<Message, Timer>) {
        guard let s = nodes[node].slots[g], states[s].view == view else { return }
        if states[s].catchUp?.target == member {
            states[s].catchUp!.copies[seq] = nil
            return
        }
        guard !isChain, states[s].members.contains(member), var p = states[s].pending[seq] else { return }
        if !p.acked.contains(member) { p.acked.append(member) }
        states[s].pending[seq] = p
        checkProgress(slot: s, seq: seq, at: node, now: now, &effects)
    }

    /// Acknowledges a primary-backup write once its ack rule holds (and the primary's own
    /// copy is stored); retires it once every member holds it.
    mutating func checkProgress(slot s: Int, seq: UInt64, at node: Int, now: SimTime,
                                _ effects: inout Effects<Message, Timer>) {
        guard var p = states[s].pending[seq], let i = states[s].logIndex(seq: seq), states[s].log[i].stored else { return }
        let record = states[s].log[i]
        let members = states[s].members
        if !p.committed && ackSatisfied(p.acked, members: members) {
            p.committed = true
            if let op = record.log.op { effects.reply(op, .acknowledged) }
            releaseKey(record.log.entry.key, slot: s, at: node)
        }
        if members.dropFirst().allSatisfy({ p.acked.contains($0) }) {
            if !p.committed {
                // The ack rule cannot hold in this view (no member in the named DCs): the
                // write is everywhere it can be but its durability condition is unmet.
                if let op = record.log.op { effects.reply(op, .failed) }
                releaseKey(record.log.entry.key, slot: s, at: node)
            }
            states[s].pending[seq] = nil
            states[s].log.remove(at: i)
            markFull(slot: s, seq: seq)
        } else {
            states[s].pending[seq] = p
        }
    }

    mutating func releaseKey(_ key: ShardKey, slot s: Int, at node: Int) {
        let left = (states[s].pendingPerKey[key] ?? 1) - 1
        states[s].pendingPerKey[key] = left > 0 ? left : nil
        if left <= 0, !states[s].waitingReads.isEmpty, !nodes[node].readWaiters.contains(s) {
            nodes[node].readWaiters.append(s)
        }
    }

    func ackSatisfied(_ acked: [Int], members: [Int]) -> Bool {
        guard case .primaryBackup(let rule, _) = settings.shape else { return true }
        switch rule {
        case .all:
            return members.dropFirst().allSatisfy { acked.contains($0) }
        case .count(let k):
            return members.dropFirst().filter { acked.contains($0) }.count >= k
        case .datacenters(let dcs):
            let required = members.filter { dcs.contains(world.datacenter(of: $0)) }
            return !required.isEmpty && required.allSatisfy { $0 == members[0] || acked.contains($0) }
        }
    }

    /// Whether a backup taking over from a failed primary certainly holds, among the members
    /// it keeps, one copy of every acknowledged write: the kept old backups must meet every
    /// possible ack set of the old view.
    func safeTakeover(old: [Int], new: [Int]) -> Bool {
        guard case .primaryBackup(let rule, _) = settings.shape else { return true }
        let keptBackups = old.dropFirst().filter { new.contains($0) }
        switch rule {
        case .all:
            return !keptBackups.isEmpty
        case .count(let k):
            return keptBackups.count >= (old.count - 1) - k + 1
        case .datacenters(let dcs):
            return keptBackups.contains { dcs.contains(world.datacenter(of: $0)) }
        }
    }

    mutating func markFull(slot s: Int, seq: UInt64) {
        if seq == states[s].fullThrough + 1 {
            states[s].fullThrough = seq
            while states[s].fullDone.remove(states[s].fullThrough + 1) != nil { states[s].fullThrough += 1 }
        } else if seq > states[s].fullThrough {
            states[s].fullDone.insert(seq)
        }
    }

    /// The watermark backups may prune to: nothing until the writes re-issued at the view's
    /// installation are all on every member (their older copies sit in logs below them).
    mutating func watermarkToSend(_ s: Int) -> UInt64 {
        guard states[s].fullThrough >= states[s].sendableFrom, states[s].fullThrough > 0 else { return 0 }
        states[s].watermarkSent = max(states[s].watermarkSent, states[s].fullThrough)
        return states[s].fullThrough
    }

    /// Drops log records up to `watermark` (they are on every member).
    mutating func prune(_ s: Int, through watermark: UInt64) {
        guard let first = states[s].log.first, first.seq <= watermark else { return }
        let cut = states[s].log.firstIndex { $0.seq > watermark } ?? states[s].log.count
        states[s].log.removeFirst(cut)
    }

    /// Primary duties on a tick: retransmit unacknowledged writes, retry failed local
    /// stores, publish the watermark.
    mutating func primaryTick(slot s: Int, at node: Int, now: SimTime, _ effects: inout Effects<Message, Timer>) {
        let g = states[s].group
        let view = states[s].view
        for seq in states[s].pending.keys.sorted() {
            guard let p = states[s].pending[seq], now - p.sentAt >= settings.retransmitTimeout,
                  let i = states[s].logIndex(seq: seq) else { continue }
            let record = states[s].log[i]
            if record.failed {
                states[s].log[i].failed = false
                let e = record.log.entry
                effects.store(.put(e.key, e.stamp, storedBytes: e.storedBytes, tombstone: e.tombstone),
                              token: token(node, .leaderStore(group: g, record.log)))
            }
            let watermark = watermarkToSend(s)
            for m in states[s].members.dropFirst() where !p.acked.contains(m) {
                effects.send(.replicate(group: g, view: view, record.log, watermark: watermark, learner: false),
                             to: m, sizeBytes: 64 + Self.wireBytes(record.log.entry), kind: .replication)
            }
            states[s].pending[seq]!.sentAt = now
        }
        let before = states[s].watermarkSent
        let watermark = watermarkToSend(s)
        if watermark > before {
            for m in states[s].members.dropFirst() {
                effects.send(.commit(group: g, view: view, watermark: watermark), to: m, sizeBytes: 40, kind: .control)
            }
        }
    }

    /// Members that left a write unacknowledged for the failure timeout, as the leader sees
    /// it: the backups missing from an old write's acks; in a chain, the head's successor
    /// (the head cannot tell which link downstream is cut; removing its successor restores
    /// progress, and a wrongly removed member rejoins through catch-up).
    ///
    /// Silence counts after twice the failure timeout, so that a crash further down is
    /// detected (and the chain repaired) first.
    func silentMembers(slot s: Int, now: SimTime) -> [Int] {
        let st = states[s]
        guard st.members.count > 1, st.active else { return [] }
        let limit = settings.failureTimeout * 2
        if isChain {
            let stuck = st.log.contains { $0.stored && !$0.learned && now - $0.since > limit }
            return stuck ? [st.members[1]] : []
        }
        var silent: [Int] = []
        for (seq, p) in st.pending {
            guard let i = st.logIndex(seq: seq), now - st.log[i].since > limit else { continue }
            for m in st.members.dropFirst() where !p.acked.contains(m) && !silent.contains(m) { silent.append(m) }
        }
        return silent
    }

    // MARK: Chain

    /// A chain member's (or the head's) copy is stored: the tail answers the client and
    /// acknowledges upstream; any other member passes the write to its successor.
    mutating func chainStored(slot s: Int, seq: UInt64, at node: Int, now: SimTime,
                              _ effects: inout Effects<Message, Timer>) {
        guard let i = states[s].logIndex(seq: seq), states[s].log[i].stored,
              let rank = states[s].members.firstIndex(of: node) else { return }
        let members = states[s].members
        let record = states[s].log[i]
        if rank == members.count - 1 {
            if let op = record.log.op { effects.reply(op, .acknowledged) }
            pruneKey(s, record.log.entry.key, upTo: record.log.entry.stamp)
            if rank > 0 {
                effects.send(.chainAck(group: states[s].group, view: states[s].view, key: record.log.entry.key,
                                       stamp: record.log.entry.stamp), to: members[rank - 1], sizeBytes: 48, kind: .control)
            }
        } else {
            states[s].log[i].sentAt = now
            effects.send(.chainWrite(group: states[s].group, view: states[s].view, record.log),
                         to: members[rank + 1], sizeBytes: 64 + Self.wireBytes(record.log.entry), kind: .replication)
        }
    }

    mutating func onChainWrite(_ g: Int32, view: UInt32, _ log: LogEntry, from source: Int, at node: Int,
                               now: SimTime, _ effects: inout Effects<Message, Timer>) {
        guard let s = slot(node, g, now: now) else { return }
        if view < states[s].promised { return sendReject(slot: s, to: source, at: node, &effects) }
        let members = states[s].members
        guard view == states[s].view, let rank = members.firstIndex(of: node), rank > 0,
              members[rank - 1] == source, validMember(slot: s, at: node) else { return }
        let isTail = rank == members.count - 1
        if let i = states[s].logIndex(seq: log.seq) {
            // A retransmission: the tail acknowledges again (its ack may have been lost).
            if isTail && states[s].log[i].stored { chainStored(slot: s, seq: log.seq, at: node, now: now, &effects) }
            return
        }
        if let held = states[s].index[log.entry.key], held.stamp >= log.entry.stamp {
            // Already here (acknowledged earlier, or superseded by a newer version).
            if isTail, let op = log.op { effects.reply(op, .acknowledged) }
            pruneKey(s, log.entry.key, upTo: log.entry.stamp)
            effects.send(.chainAck(group: g, view: view, key: log.entry.key, stamp: log.entry.stamp),
                         to: source, sizeBytes: 48, kind: .control)
            return
        }
        states[s].insertRecord(Record(log: log, stored: false, sentAt: now, learned: false, since: now))
        let e = log.entry
        effects.store(.put(e.key, e.stamp, storedBytes: e.storedBytes, tombstone: e.tombstone),
                      token: token(node, .replicaStore(group: g, log, from: source, view: view, learner: false)))
    }

    mutating func onChainAck(_ g: Int32, view: UInt32, key: ShardKey, stamp: Stamp, from source: Int, at node: Int,
                             now: SimTime, _ effects: inout Effects<Message, Timer>) {
        guard let s = nodes[node].slots[g], states[s].view == view,
              let rank = states[s].members.firstIndex(of: node), rank + 1 < states[s].members.count,
              states[s].members[rank + 1] == source else { return }
        pruneKey(s, key, upTo: stamp)
        if rank > 0 {
            effects.send(.chainAck(group: g, view: view, key: key, stamp: stamp), to: states[s].members[rank - 1],
                         sizeBytes: 48, kind: .control)
        }
    }

    mutating func pruneKey(_ s: Int, _ key: ShardKey, upTo stamp: Stamp) {
        states[s].log.removeAll { $0.log.entry.key == key && $0.log.entry.stamp <= stamp }
    }

    /// Chain duties on a tick: a node that became the tail answers and acknowledges what it
    /// holds (it is on every member upstream); the others retransmit what their successor
    /// has not acknowledged; the head retries failed local stores.
    mutating func chainTick(slot s: Int, at node: Int, now: SimTime, _ effects: inout Effects<Message, Timer>) {
        guard let rank = states[s].members.firstIndex(of: node) else { return }
        let members = states[s].members
        let g = states[s].group
        if rank == 0 {
            for i in states[s].log.indices where states[s].log[i].failed {
                states[s].log[i].failed = false
                let record = states[s].log[i]
                let e = record.log.entry
                effects.store(.put(e.key, e.stamp, storedBytes: e.storedBytes, tombstone: e.tombstone),
                              token: token(node, .leaderStore(group: g, record.log)))
            }
        }
        if rank == members.count - 1 {
            let ready = states[s].log.filter { $0.stored && !$0.learned }
            for record in ready { chainStored(slot: s, seq: record.seq, at: node, now: now, &effects) }
        } else {
            for i in states[s].log.indices where states[s].log[i].stored && !states[s].log[i].learned
                && now - states[s].log[i].sentAt >= settings.retransmitTimeout {
                states[s].log[i].sentAt = now
                let log = states[s].log[i].log
                effects.send(.chainWrite(group: g, view: states[s].view, log), to: members[rank + 1],
                             sizeBytes: 64 + Self.wireBytes(log.entry), kind: .replication)
            }
        }
    }

    // MARK: Reads

    /// A linearizable read at the read server: answered from disk once the view is installed
    /// (primary-backup: and no write to the key is awaiting its acknowledgement) and the
    /// node holds a lease from every other member; otherwise it waits.
    mutating func tryRead(_ r: ClientRequest, hops: Int, slot s: Int, at node: Int, now: SimTime,
                          _ effects: inout Effects<Message, Timer>) {
        if readBlocked(r.key, slot: s, at: node, now: now) {
            if states[s].waitingReads.count >= Self.queueLimit { return effects.reply(r.id, .failed) }
            states[s].waitingReads.append((r, hops))
            if !nodes[node].readWaiters.contains(s) { nodes[node].readWaiters.append(s) }
            requestLeases(slot: s, at: node, now: now, &effects)
            return
        }
        effects.store(.get(r.key), token: token(node, .read(r, group: states[s].group, hops: hops)))
    }

    func readBlocked(_ key: ShardKey, slot s: Int, at node: Int, now: SimTime) -> Bool {
        let st = states[s]
        let leads = !isChain || st.members.count == 1
        if leads && (!st.active || st.proposal != nil) { return true }
        if !isChain && st.pendingPerKey[key] != nil { return true }
        return !leaseValid(slot: s, at: node, now: now)
    }

    func leaseValid(slot s: Int, at node: Int, now: SimTime) -> Bool {
        for m in states[s].members where m != node {
            guard let p = nodes[node].peers[m], p.leaseUntil > now else { return false }
        }
        return true
    }

    /// Sends an early heartbeat to members whose lease lapsed (at most one per half interval).
    mutating func requestLeases(slot s: Int, at node: Int, now: SimTime, _ effects: inout Effects<Message, Timer>) {
        let half = SimDuration(nanoseconds: settings.heartbeatInterval.nanoseconds / 2)
        for m in states[s].members where m != node {
            guard let p = nodes[node].peers[m], p.leaseUntil <= now, now - p.probeSentAt >= half else { continue }
            nodes[node].peers[m]!.probeSentAt = now
            effects.send(.heartbeat(sentAt: now, demotionsSeen: p.knownDemotions), to: m, sizeBytes: 48, kind: .control)
        }
    }

    mutating func onReadDone(_ r: ClientRequest, group g: Int32, hops: Int, _ outcome: StorageCompletion.Outcome,
                             at node: Int, now: SimTime, _ effects: inout Effects<Message, Timer>) {
        if case .primaryBackup(_, true) = settings.shape {
            return effects.reply(r.id, Self.result(of: outcome))
        }
        // The disk answered now: the conditions must still hold now.
        guard let s = nodes[node].slots[g], readServer(states[s].members) == node,
              !readBlocked(r.key, slot: s, at: node, now: now) else {
            return handleRequest(r, hops: hops, at: node, now: now, &effects)
        }
        effects.reply(r.id, Self.result(of: outcome))
    }

    static func result(of outcome: StorageCompletion.Outcome) -> ClientResult {
        switch outcome {
        case .found(let stamp, let tombstone): return .found(stamp, tombstone: tombstone)
        case .missing, .foundFragment: return .notFound
        case .ioError: return .failed
        case .stored, .superseded: preconditionFailure("ViewReplication: a get completed as a put")
        }
    }

    /// Re-routes the reads waiting at slots flagged ready.
    mutating func retryWaitingReads(at node: Int, now: SimTime, _ effects: inout Effects<Message, Timer>) {
        guard !nodes[node].readWaiters.isEmpty else { return }
        let slots = nodes[node].readWaiters
        nodes[node].readWaiters = []
        for s in slots {
            let waiting = states[s].waitingReads
            states[s].waitingReads = []
            for (r, hops) in waiting { handleRequest(r, hops: hops, at: node, now: now, &effects) }
        }
    }

    func sendReject(slot s: Int, to target: Int, at node: Int, _ effects: inout Effects<Message, Timer>) {
        let st = states[s]
        effects.send(.reject(group: st.group, promised: st.promised, view: st.view, members: st.members, epochs: st.epochs, unknown: false),
                     to: target, sizeBytes: 48 + 12 * st.members.count, kind: .control)
    }
}
