import SimCore
import SimNetwork

// MARK: - Log replication, commitment and apply (§5.3, §5.4)

extension Raft {
    /// Appends `entry` to the member's log (a config entry takes effect at once, §6 / thesis
    /// §4.1); returns its index.
    mutating func append(_ r: Int, _ entry: Entry) -> Int {
        replicas[r].log.append(entry)
        let index = replicas[r].log.count
        if entry.kind == .config, let c = entry.config {
            replicas[r].config = c
            replicas[r].configIndex = index
        }
        return index
    }

    /// Removes entries from `index` on (a conflict with the leader's log).
    mutating func truncate(_ r: Int, from index: Int) {
        precondition(index > replicas[r].commitIndex,
                     "Raft: group \(replicas[r].group) node \(replicas[r].node) would truncate committed entry \(index) (commit index \(replicas[r].commitIndex)) — a safety violation")
        replicas[r].log.removeSubrange((index - 1)...)
        if replicas[r].configIndex >= index {
            replicas[r].recomputeConfig(bootstrap: replicas[r].config.count)
        }
    }

    // MARK: Leader side

    /// Sends AppendEntries to the member in `slot`, from its next index (up to
    /// `max_entries`). A pipelined member's next index advances at once; a probed one's
    /// stays until it answers, so a lost probe is simply resent at the next heartbeat.
    mutating func sendAppend(_ r: Int, to s: Int, effects: inout Effects<Message, Timer>) {
        // (Scalars only: holding a copy of the replica while mutating it would copy its arrays.)
        guard replicas[r].lead != nil else { return }
        let prev = replicas[r].lead!.next[s] - 1
        let end = Swift.min(replicas[r].lastIndex, prev + maxEntriesPerMessage)
        let entries = end > prev ? Array(replicas[r].log[prev..<end]) : []
        var bytes = Self.appendHeaderBytes
        for e in entries { bytes += e.wireBytes }
        let commitIndex = replicas[r].commitIndex
        // Entries already committed go to a member catching up (after a crash, a partition or
        // a disk loss): that is repair traffic; new entries are replication; none, a heartbeat.
        let kind: MessageKind = entries.isEmpty ? .control : (end <= commitIndex ? .repair : .replication)
        if !replicas[r].lead!.probing[s] { replicas[r].lead!.next[s] = end + 1 }
        let message = AppendEntries(group: replicas[r].group, term: replicas[r].term, prevLogIndex: prev,
                                    prevLogTerm: replicas[r].term(at: prev), entries: entries,
                                    leaderCommit: commitIndex, round: replicas[r].lead!.round)
        effects.send(.append(message), to: node(r, slot: s), sizeBytes: bytes, kind: kind)
    }

    /// A new heartbeat round to every other member (carrying any unsent entries).
    mutating func broadcast(_ r: Int, now: SimTime, effects: inout Effects<Message, Timer>) {
        guard replicas[r].lead != nil else { return }
        replicas[r].lead!.round += 1
        let round = replicas[r].lead!.round
        let i = Int(round % UInt64(Self.roundRing))
        replicas[r].lead!.roundOfSlot[i] = round
        replicas[r].lead!.roundSentAt[i] = now
        let me = Int(replicas[r].slot)
        for s in replicas[r].config.indices where s != me { sendAppend(r, to: s, effects: &effects) }
        updateConfirmed(r, now: now, effects: &effects)
    }

    /// New entries were appended at the leader: send them now (pipelined) or at the next
    /// batch tick.
    mutating func replicateNew(_ r: Int, now: SimTime, effects: inout Effects<Message, Timer>) {
        if batchInterval > .zero {
            if !replicas[r].lead!.flushArmed {
                replicas[r].lead!.flushArmed = true
                effects.setTimer(after: batchInterval, .flush(group: replicas[r].group, term: replicas[r].term))
            }
        } else {
            let me = Int(replicas[r].slot)
            for s in replicas[r].config.indices where s != me && !replicas[r].lead!.probing[s] {
                sendAppend(r, to: s, effects: &effects)
            }
        }
        advanceCommit(r, now: now, effects: &effects)
    }

    /// The heartbeat tick: check-quorum, a membership step if one is due, then a round.
    mutating func heartbeat(_ r: Int, now: SimTime, rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        let (since, confirmedAt) = (replicas[r].lead!.since, replicas[r].lead!.confirmedAt)
        if now - since >= electionTimeoutMin && confirmedAt + electionTimeoutMin <= now {
            // No majority acknowledged a round within an election timeout: another leader
            // may be elected on the other side of a partition; stop acting as leader.
            becomeFollower(r, term: replicas[r].term, leader: -1, now: now, rng: &rng, effects: &effects)
            return
        }
        membershipStep(r, now: now, effects: &effects)
        broadcast(r, now: now, effects: &effects)
        effects.setTimer(after: heartbeatInterval, .heartbeat(group: replicas[r].group, term: replicas[r].term))
    }

    mutating func handleAppendReply(_ m: AppendReply, from s: Int, _ r: Int, now: SimTime,
                                    rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        if m.term > replicas[r].term {
            becomeFollower(r, term: m.term, leader: -1, now: now, rng: &rng, effects: &effects)
            return
        }
        guard replicas[r].role == .leader, m.term == replicas[r].term else { return }
        if replicas[r].lead!.peerIncarnation[s] != m.incarnation {
            // First word from this member in the term, or it came back as a new incarnation:
            // what it acknowledged before says nothing about its log now.
            replicas[r].lead!.peerIncarnation[s] = m.incarnation
            replicas[r].lead!.match[s] = 0
            replicas[r].lead!.ackedRound[s] = 0
            replicas[r].lead!.probing[s] = true
        }
        if m.round > replicas[r].lead!.ackedRound[s] { replicas[r].lead!.ackedRound[s] = m.round }
        let wasProbing = replicas[r].lead!.probing[s]
        if m.success {
            if m.index > replicas[r].lead!.match[s] { replicas[r].lead!.match[s] = m.index }
            let match = replicas[r].lead!.match[s]
            if replicas[r].lead!.next[s] <= match { replicas[r].lead!.next[s] = match + 1 }
            replicas[r].lead!.probing[s] = false
            advanceCommit(r, now: now, effects: &effects)
            if replicas[r].role == .leader, replicas[r].lead!.next[s] <= replicas[r].lastIndex,
               wasProbing || batchInterval == .zero {
                sendAppend(r, to: s, effects: &effects)
            }
        } else {
            let match = replicas[r].lead!.match[s]
            replicas[r].lead!.next[s] = Swift.max(match + 1, Swift.min(m.index, replicas[r].lead!.next[s]))
            replicas[r].lead!.probing[s] = true
            sendAppend(r, to: s, effects: &effects)
        }
        if replicas[r].role == .leader { updateConfirmed(r, now: now, effects: &effects) }
    }

    /// The largest value that at least `k` of the current voters have reached (the
    /// leader's own value for its slot; a member's value counts only from its voting
    /// incarnation). No allocation: a stack buffer and an insertion sort over ≤ copies values.
    func quorumValue(_ r: Int, k: Int, own: UInt64, _ value: (LeaderState, Int) -> UInt64) -> UInt64 {
        let rep = replicas[r]
        let lead = rep.lead!
        let n = rep.config.count
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: n) { buf in
            var m = 0
            for s in 0..<n where rep.config[s] != 0 {
                let v: UInt64
                if s == Int(rep.slot) { v = rep.config[s] == rep.incarnation ? own : 0 }
                else { v = lead.peerIncarnation[s] == rep.config[s] ? value(lead, s) : 0 }
                // Insert in descending order.
                var j = m
                while j > 0 && buf[j - 1] < v { buf[j] = buf[j - 1]; j -= 1 }
                buf[j] = v
                m += 1
            }
            return k <= m ? buf[k - 1] : 0
        }
    }

    /// Commits the highest index a majority of voters hold, if it is of the current term.
    mutating func advanceCommit(_ r: Int, now: SimTime, effects: inout Effects<Message, Timer>) {
        guard replicas[r].role == .leader else { return }
        let n = Int(quorumValue(r, k: replicas[r].majority, own: UInt64(replicas[r].lastIndex)) { UInt64($0.match[$1]) })
        guard n > replicas[r].commitIndex, replicas[r].term(at: n) == replicas[r].term else { return }
        if observations != nil { observeCommits(r, upTo: n, now: now) }
        replicas[r].commitIndex = n
        applyCommitted(r, effects: &effects)
        progressReads(r, now: now, effects: &effects)
    }

    /// Recomputes the highest heartbeat round a majority acknowledged: leadership was
    /// certain when it was sent (ReadIndex, the lease, check-quorum).
    mutating func updateConfirmed(_ r: Int, now: SimTime, effects: inout Effects<Message, Timer>) {
        guard replicas[r].lead != nil else { return }
        let confirmed = quorumValue(r, k: replicas[r].majority, own: replicas[r].lead!.round) { $0.ackedRound[$1] }
        if confirmed > replicas[r].lead!.confirmedRound {
            replicas[r].lead!.confirmedRound = confirmed
            if let at = replicas[r].lead!.sentAt(confirmed) {
                if at > replicas[r].lead!.confirmedAt { replicas[r].lead!.confirmedAt = at }
                replicas[r].lead!.leaseStart = at
            }
            progressReads(r, now: now, effects: &effects)
            // Reads that arrived while that round was in flight need a round of their own.
            if let l = replicas[r].lead, l.round <= l.confirmedRound, l.reads.contains(where: { $0.round > l.round }) {
                broadcast(r, now: now, effects: &effects)
            }
        }
    }

    // MARK: Follower side

    mutating func handleAppend(_ m: AppendEntries, from s: Int, _ r: Int, now: SimTime,
                               rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        if m.term < replicas[r].term {
            reply(r, to: s, success: false, index: 0, round: m.round, effects: &effects)
            return
        }
        if replicas[r].role == .leader {
            precondition(m.term > replicas[r].term,
                         "Raft: two leaders in term \(m.term) of group \(m.group): nodes \(replicas[r].node) and \(node(r, slot: s))")
        }
        if m.term > replicas[r].term || replicas[r].role != .follower {
            becomeFollower(r, term: m.term, leader: Int32(s), now: now, rng: &rng, effects: &effects)
        }
        replicas[r].leader = Int32(s)
        replicas[r].noVoteBefore = now + electionTimeoutMin
        resetElectionTimer(r, now: now, rng: &rng, effects: &effects)
        if !replicas[r].held.isEmpty { releaseHeld(r, now: now, rng: &rng, effects: &effects) }

        let prev = m.prevLogIndex
        if prev > replicas[r].lastIndex {
            reply(r, to: s, success: false, index: replicas[r].lastIndex + 1, round: m.round, effects: &effects)
            return
        }
        let conflictTerm = replicas[r].term(at: prev)
        if conflictTerm != m.prevLogTerm {
            // Hint the first index of the conflicting term, so the leader skips it whole.
            var i = prev
            while i > 1 && replicas[r].term(at: i - 1) == conflictTerm { i -= 1 }
            reply(r, to: s, success: false, index: Swift.max(i, replicas[r].commitIndex + 1), round: m.round, effects: &effects)
            return
        }
        var index = prev
        for e in m.entries {
            index += 1
            if index <= replicas[r].lastIndex {
                if replicas[r].log[index - 1].term == e.term { continue }
                truncate(r, from: index)
            }
            _ = append(r, e)
        }
        let matched = prev + m.entries.count
        let commit = Swift.min(m.leaderCommit, matched)
        if commit > replicas[r].commitIndex {
            if observations != nil { observeCommits(r, upTo: commit, now: now) }
            replicas[r].commitIndex = commit
            applyCommitted(r, effects: &effects)
        }
        reply(r, to: s, success: true, index: matched, round: m.round, effects: &effects)
    }

    func reply(_ r: Int, to s: Int, success: Bool, index: Int, round: UInt64, effects: inout Effects<Message, Timer>) {
        let rep = replicas[r]
        effects.send(.appendReply(AppendReply(group: rep.group, term: rep.term, success: success, index: index,
                                              round: round, incarnation: rep.incarnation)),
                     to: node(r, slot: s), sizeBytes: Self.replyBytes, kind: .control)
    }

    // MARK: Apply

    /// Applies committed entries in log order: a put per write or delete (several may be on
    /// the disk at once, up to a window), nothing for the others.
    mutating func applyCommitted(_ r: Int, effects: inout Effects<Message, Timer>) {
        repeat {
            while replicas[r].applyIssued < replicas[r].commitIndex
                    && replicas[r].applyIssued - replicas[r].applied < Self.applyWindow {
                let index = replicas[r].applyIssued + 1
                replicas[r].applyIssued = index
                switch replicas[r].log[index - 1].kind {
                case .write, .delete: issueApply(r, index: index, effects: &effects)
                case .noop, .read, .config: replicas[r].applyDone[index % Self.applyWindow] = true
                }
            }
        } while advanceApplied(r, effects: &effects)
    }

    func issueApply(_ r: Int, index: Int, retry: Bool = false, effects: inout Effects<Message, Timer>) {
        let e = replicas[r].log[index - 1]
        effects.store(.put(e.key, e.stamp, storedBytes: Int(e.storedBytes), tombstone: e.kind == .delete),
                      token: Self.applyToken(group: replicas[r].group, index: index, retry: retry))
    }

    /// An entry's put completed. A failed one counts as applied (so it does not hold up
    /// the entries behind it) and is retried in the background until it succeeds.
    mutating func applyCompleted(_ r: Int, index: Int, failed: Bool, now: SimTime, rng: inout SimRandom,
                                 effects: inout Effects<Message, Timer>) {
        guard index > replicas[r].applied, index <= replicas[r].applyIssued else { return }
        if failed {
            let key = replicas[r].log[index - 1].key
            replicas[r].failed[index] = FailedApply(key: key)
            replicas[r].failedKeys[key, default: 0] += 1
            armRetry(r, effects: &effects)
        }
        replicas[r].applyDone[index % Self.applyWindow] = true
        applyCommitted(r, effects: &effects)
        if replicas[r].role == .leader { progressReads(r, now: now, effects: &effects) }
    }

    /// Moves the applied index over completed entries; the leader acknowledges the writes
    /// now applied. Returns whether more entries can be issued.
    mutating func advanceApplied(_ r: Int, effects: inout Effects<Message, Timer>) -> Bool {
        var moved = false
        while replicas[r].applied < replicas[r].applyIssued
                && replicas[r].applyDone[(replicas[r].applied + 1) % Self.applyWindow] {
            replicas[r].applied += 1
            replicas[r].applyDone[replicas[r].applied % Self.applyWindow] = false
            moved = true
        }
        guard moved else { return false }
        if replicas[r].lead != nil { acknowledgeApplied(r, effects: &effects) }
        return replicas[r].applyIssued < replicas[r].commitIndex
    }

    /// Answers the leader's writes that are committed and applied: acknowledged if the put
    /// on its own store succeeded, `.failed` if it did not (the entry stays committed and
    /// its put is retried, but the write is not acknowledged; the client retries).
    mutating func acknowledgeApplied(_ r: Int, effects: inout Effects<Message, Timer>) {
        let applied = replicas[r].applied
        var head = replicas[r].lead!.acksHead
        let count = replicas[r].lead!.acks.count
        guard head < count, replicas[r].lead!.acks[head].index <= applied else { return }
        while head < count, replicas[r].lead!.acks[head].index <= applied {
            let ack = replicas[r].lead!.acks[head]
            effects.reply(ack.op, replicas[r].failed[ack.index] == nil ? .acknowledged : .failed)
            head += 1
        }
        leaderHint[Int(replicas[r].group)] = replicas[r].node
        if head == count {
            replicas[r].lead!.acks.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64 && head * 2 >= count {
            replicas[r].lead!.acks.removeFirst(head)
            head = 0
        }
        replicas[r].lead!.acksHead = head
    }
}

// MARK: - Retrying failed puts

extension Raft {
    /// Schedules a retry round if failed puts wait and none is scheduled or running.
    mutating func armRetry(_ r: Int, effects: inout Effects<Message, Timer>) {
        guard !replicas[r].failed.isEmpty, !replicas[r].retryArmed else { return }
        replicas[r].retryArmed = true
        if replicas[r].retryBackoff < heartbeatInterval { replicas[r].retryBackoff = heartbeatInterval }
        effects.setTimer(after: replicas[r].retryBackoff, .retryApplies(group: replicas[r].group))
    }

    /// Re-issues the oldest failed puts (up to a batch).
    mutating func retryFailedApplies(_ r: Int, effects: inout Effects<Message, Timer>) {
        let waiting = replicas[r].failed.filter { !$0.value.inFlight }.keys.sorted().prefix(Self.retryBatch)
        guard !waiting.isEmpty else { replicas[r].retryArmed = replicas[r].retryOutstanding > 0; return }
        replicas[r].retrySucceeded = false
        for index in waiting {
            replicas[r].failed[index]!.inFlight = true
            replicas[r].retryOutstanding += 1
            issueApply(r, index: index, retry: true, effects: &effects)
        }
    }

    /// A retried put completed. When a round is over: go on after a heartbeat interval if
    /// it made progress, else back off (doubling, up to 5 s).
    mutating func retryCompleted(_ r: Int, index: Int, ok: Bool, effects: inout Effects<Message, Timer>) {
        guard let f = replicas[r].failed[index], f.inFlight else { return }
        replicas[r].retryOutstanding -= 1
        if ok {
            replicas[r].failed[index] = nil
            let left = replicas[r].failedKeys[f.key, default: 1] - 1
            replicas[r].failedKeys[f.key] = left > 0 ? left : nil
            replicas[r].retrySucceeded = true
        } else {
            replicas[r].failed[index]!.inFlight = false
        }
        guard replicas[r].retryOutstanding == 0 else { return }
        replicas[r].retryArmed = false
        if replicas[r].retrySucceeded {
            replicas[r].retryBackoff = .zero
        } else {
            replicas[r].retryBackoff = Swift.min(replicas[r].retryBackoff * 2, Self.retryBackoffMax)
        }
        armRetry(r, effects: &effects)
    }
}
