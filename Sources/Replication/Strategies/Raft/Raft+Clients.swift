import SimCore
import SimNetwork

// MARK: - Client requests, reads and membership changes

extension Raft {
    /// A request at a member: the leader takes it; a follower forwards it to the leader it
    /// knows; a member that knows none holds it until one is elected.
    mutating func handleClient(_ request: ClientRequest, _ r: Int, hops: Int, now: SimTime,
                               rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        if replicas[r].role == .leader {
            leaderAccept(request, r, now: now, effects: &effects)
            return
        }
        let leader = replicas[r].leader
        if leader >= 0 {
            guard hops < 2 else { refuse(request, r, effects: &effects); return }
            let bytes = Self.forwardHeaderBytes + (request.kind == .write ? request.storedBytes : 0)
            effects.send(.forward(request, hops: hops + 1), to: node(r, slot: Int(leader)), sizeBytes: bytes,
                         kind: request.kind == .read ? .readRequest : .writeRequest)
            return
        }
        guard replicas[r].held.count < Self.heldLimit else { refuse(request, r, effects: &effects); return }
        replicas[r].held.append(request)
        // A group that never had a leader wakes on its first request: stand at once rather
        // than wait out a first election timeout.
        if replicas[r].term == 0 && replicas[r].role == .follower && replicas[r].isVoter {
            campaign(r, now: now, rng: &rng, effects: &effects)
        }
    }

    /// Answers `.failed` (the client retries) and moves the clients' hint along.
    mutating func refuse(_ request: ClientRequest, _ r: Int, effects: inout Effects<Message, Timer>) {
        effects.reply(request.id, .failed)
        let g = Int(replicas[r].group)
        leaderHint[g] = -1
        hintRotation[g] &+= 1
    }

    /// A leader became known (or this member became leader): pass the held requests on.
    mutating func releaseHeld(_ r: Int, now: SimTime, rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        let held = replicas[r].held
        replicas[r].held = []
        for request in held { handleClient(request, r, hops: 0, now: now, rng: &rng, effects: &effects) }
    }

    /// No leader within an election timeout: the held requests fail (clients retry).
    mutating func failHeld(_ r: Int, effects: inout Effects<Message, Timer>) {
        guard !replicas[r].held.isEmpty else { return }
        let held = replicas[r].held
        replicas[r].held = []
        for request in held { refuse(request, r, effects: &effects) }
    }

    /// The leader takes a client request.
    mutating func leaderAccept(_ request: ClientRequest, _ r: Int, now: SimTime, effects: inout Effects<Message, Timer>) {
        let term = replicas[r].term
        switch request.kind {
        case .write, .delete:
            let entry = Entry(term: term, kind: request.kind == .write ? .write : .delete, key: request.key,
                              stamp: request.stamp, storedBytes: Int32(clamping: request.storedBytes))
            let index = append(r, entry)
            replicas[r].lead!.acks.append((index, request.id))
            replicateNew(r, now: now, effects: &effects)
        case .read:
            switch readMode {
            case .log:
                let index = append(r, Entry(term: term, kind: .read, key: request.key))
                replicas[r].lead!.reads.append(PendingRead(op: request.id, key: request.key, readIndex: index, round: 0))
                replicateNew(r, now: now, effects: &effects)
            case .lease where leaseHolds(r, now: now) && ownTermCommitted(r):
                replicas[r].lead!.reads.append(PendingRead(op: request.id, key: request.key,
                                                           readIndex: replicas[r].commitIndex, round: 0))
                progressReads(r, now: now, effects: &effects)
            case .lease, .readIndex:
                // ReadIndex (thesis §6.4): the commit index once the leader has committed an
                // entry of its term, confirmed by a heartbeat round sent after the read arrived.
                let (round, confirmed) = (replicas[r].lead!.round, replicas[r].lead!.confirmedRound)
                replicas[r].lead!.reads.append(PendingRead(op: request.id, key: request.key,
                                                           readIndex: ownTermCommitted(r) ? replicas[r].commitIndex : -1,
                                                           round: round + 1))
                if round <= confirmed {
                    broadcast(r, now: now, effects: &effects)   // no round in flight: start one now
                }
            }
        }
    }

    /// Whether the leader has committed an entry of its own term (its no-op): only then
    /// does its commit index cover everything committed before it was elected.
    func ownTermCommitted(_ r: Int) -> Bool {
        replicas[r].commitIndex >= replicas[r].lead!.noopIndex
    }

    /// Whether the leader's lease holds by its own clock: a majority acknowledged a round
    /// sent less than `lease_duration` ago. Followers that acknowledged it will not vote
    /// for another leader for `election_timeout_min` after receiving it, so with clocks
    /// that measure time alike no other leader can exist meanwhile. A clock that runs slow
    /// or jumps back breaks that — and the read may be stale.
    func leaseHolds(_ r: Int, now: SimTime) -> Bool {
        guard let start = replicas[r].lead?.leaseStart else { return false }
        return now < start + leaseDuration
    }

    /// Serves the reads whose index is known, whose leadership is confirmed and whose index
    /// the leader has applied: a get on its store (behind every applied put in the disk's
    /// FIFO queue).
    mutating func progressReads(_ r: Int, now: SimTime, effects: inout Effects<Message, Timer>) {
        guard replicas[r].lead?.reads.isEmpty == false else { return }
        let committed = ownTermCommitted(r)
        let commitIndex = replicas[r].commitIndex
        let applied = replicas[r].applied
        let confirmed = replicas[r].lead!.confirmedRound
        var i = 0
        while i < replicas[r].lead!.reads.count {
            if replicas[r].lead!.reads[i].readIndex < 0 && committed { replicas[r].lead!.reads[i].readIndex = commitIndex }
            let read = replicas[r].lead!.reads[i]
            if read.readIndex >= 0 && (read.round == 0 || confirmed >= read.round) && applied >= read.readIndex {
                if replicas[r].failedKeys[read.key] != nil {
                    // A committed put of this key failed here: the store may be behind.
                    effects.reply(read.op, .failed)
                } else {
                    replicas[r].readsAtDisk[read.op.raw, default: (read.op, 0)].gets += 1
                    effects.store(.get(read.key), token: Self.readTag | read.op.raw)
                }
                replicas[r].lead!.reads.remove(at: i)
            } else {
                i += 1
            }
        }
    }

    /// One step of replacing a member that came back as a new incarnation (after a disk
    /// loss): first remove the old incarnation, then — once the new one has caught up to
    /// the commit index — add it. Single-member changes, one at a time, each committed
    /// before the next, and only after the leader committed an entry of its term (the fix
    /// to single-server changes in Ongaro's 2015 raft-dev note).
    mutating func membershipStep(_ r: Int, now: SimTime, effects: inout Effects<Message, Timer>) {
        guard let lead = replicas[r].lead, replicas[r].commitIndex >= lead.noopIndex,
              replicas[r].configIndex <= replicas[r].commitIndex else { return }
        let (slot, commitIndex, term) = (Int(replicas[r].slot), replicas[r].commitIndex, replicas[r].term)
        for s in replicas[r].config.indices where s != slot {
            let incarnation = lead.peerIncarnation[s]
            guard incarnation != 0, incarnation != replicas[r].config[s] else { continue }
            var config = replicas[r].config
            if config[s] != 0 {
                config[s] = 0
            } else if lead.match[s] >= commitIndex {
                config[s] = incarnation
            } else {
                continue
            }
            _ = append(r, Entry(term: term, kind: .config, config: config))
            replicateNew(r, now: now, effects: &effects)
            return
        }
    }
}
