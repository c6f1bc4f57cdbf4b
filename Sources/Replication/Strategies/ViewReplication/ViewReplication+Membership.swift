import SimCore
import SimNetwork

// Membership: heartbeats and leases, the tick, view changes (propose / accept / install),
// demotion records.
extension ViewReplication {
    // MARK: Heartbeats and leases

    mutating func onHeartbeat(from reader: Int, at node: Int, sentAt: SimTime, seen: UInt64, now: SimTime,
                              _ effects: inout Effects<Message, Timer>) {
        addPeer(node, reader, now: now)
        var peer = nodes[node].peers[reader]!
        peer.lastHeard = now
        peer.grantedUntil = now + settings.lease
        if seen > 0 { peer.demotionRecords.removeAll { $0.counter <= seen } }
        nodes[node].peers[reader] = peer
        let records = peer.demotionRecords
        let bytes = 48 + records.reduce(0) { $0 + 24 + 12 * $1.members.count }
        effects.send(.heartbeatAck(echo: sentAt, amnesia: nodes[node].amnesia, demotions: peer.demotionCount, records: records),
                     to: reader, sizeBytes: bytes, kind: .control)
    }

    mutating func onHeartbeatAck(from granter: Int, at node: Int, echo: SimTime, amnesia: UInt32, count: UInt64,
                                 records: [Demotion], now: SimTime, _ effects: inout Effects<Message, Timer>) {
        addPeer(node, granter, now: now)
        nodes[node].peers[granter]!.lastHeard = now
        if nodes[node].peers[granter]!.amnesia != amnesia { nodes[node].fullScans = fullScanTicks }
        nodes[node].peers[granter]!.amnesia = amnesia
        var known = nodes[node].peers[granter]!.knownDemotions
        if count < known { known = 0 }   // the granter lost its disk and its records
        for record in records where record.counter > known {
            // A view replaced me as read server while I could not hear about it.
            if let s = nodes[node].slots[record.group] {
                if states[s].view < record.view {
                    adoptView(slot: s, view: record.view, members: record.members, epochs: record.epochs,
                              at: node, now: now, &effects)
                }
            } else {
                _ = addSlot(node, GroupState(group: record.group, voters: directory.voters[Int(record.group)],
                                             view: record.view, members: record.members, epochs: record.epochs), now: now)
            }
        }
        nodes[node].peers[granter]!.knownDemotions = max(known, count)
        let until = echo + readerLease
        if until > nodes[node].peers[granter]!.leaseUntil { nodes[node].peers[granter]!.leaseUntil = until }
        retryWaitingReads(at: node, now: now, &effects)
    }

    /// Records that this node accepted a view removing `reader` as read server, for the reader
    /// to learn through heartbeat answers.
    mutating func recordDemotion(of reader: Int, group: Int32, view: UInt32, members: [Int], epochs: [UInt32],
                                 at node: Int, now: SimTime) {
        addPeer(node, reader, now: now)
        var peer = nodes[node].peers[reader]!
        peer.demotionCount += 1
        peer.demotionRecords.append(Demotion(counter: peer.demotionCount, group: group, view: view, members: members, epochs: epochs))
        nodes[node].peers[reader] = peer
    }

    // MARK: Tick

    mutating func tick(_ node: Int, now: SimTime, _ effects: inout Effects<Message, Timer>) {
        for p in nodes[node].peerOrder {
            nodes[node].peers[p]!.probeSentAt = now
            effects.send(.heartbeat(sentAt: now, demotionsSeen: nodes[node].peers[p]!.knownDemotions),
                         to: p, sizeBytes: 48, kind: .control)
            let suspect = suspected(node, p, now: now)
            if suspect != nodes[node].peers[p]!.wasSuspected {
                nodes[node].peers[p]!.wasSuspected = suspect
                nodes[node].fullScans = fullScanTicks
            }
        }
        let full = nodes[node].fullScans > 0
        if full { nodes[node].fullScans -= 1 }
        for g in nodes[node].groupOrder {
            if let s = nodes[node].slots[g], full || busy(slot: s, at: node) { maintain(slot: s, at: node, now: now, &effects) }
        }
        retryWaitingReads(at: node, now: now, &effects)
    }

    /// Whether a group has work in progress that its tick must drive (retransmissions, a
    /// proposal, a catch-up, a missing member, an unpublished watermark). Groups at rest are
    /// maintained only during full scans, which follow any change of the failure detector.
    func busy(slot s: Int, at node: Int) -> Bool {
        let st = states[s]
        if st.proposal != nil || !st.log.isEmpty || !st.pending.isEmpty || st.catchUp != nil
            || st.learning != nil || !st.forceExclude.isEmpty || !st.recovered { return true }
        guard st.members.first == node else { return false }
        return !st.active || st.members.count < directory.placements[Int(st.group)].count
            || st.watermarkSent < st.fullThrough
    }

    /// One group's duties on a tick: drive a proposal, replace failed members, take over
    /// from failed predecessors, retransmit, catch up a returning member.
    mutating func maintain(slot s: Int, at node: Int, now: SimTime, _ effects: inout Effects<Message, Timer>) {
        if !states[s].recovered { startRecovery(slot: s, at: node, now: now, &effects) }
        let members = states[s].members
        guard let rank = members.firstIndex(of: node), validMember(slot: s, at: node) else { return }
        if let p = states[s].proposal {
            if !p.proposing { advance(slot: s, at: node, now: now, &effects) }
            guard let p = states[s].proposal else { return }
            if now - p.sentAt < settings.failureTimeout {
                if now - p.resentAt >= settings.retransmitTimeout {
                    states[s].proposal!.resentAt = now
                    sendProposal(slot: s, at: node, &effects)
                }
                return
            }
            states[s].proposal = nil   // abandoned; try again below
        }
        if rank == 0 {
            let silent = silentMembers(slot: s, now: now)
            let failed = members.filter { isFailed(node, s, $0, now: now) || silent.contains($0) }
            if !states[s].active || !failed.isEmpty {
                startViewChange(slot: s, members: members.filter { !failed.contains($0) }, at: node, now: now, &effects)
                return
            }
            if isChain { chainTick(slot: s, at: node, now: now, &effects) } else { primaryTick(slot: s, at: node, now: now, &effects) }
            catchUpTick(slot: s, at: node, now: now, &effects)
        } else {
            if members[..<rank].allSatisfy({ isFailed(node, s, $0, now: now) }) {
                let kept = [node] + members[(rank + 1)...].filter { !isFailed(node, s, $0, now: now) }
                startViewChange(slot: s, members: kept, at: node, now: now, &effects)
                return
            }
            if isChain { chainTick(slot: s, at: node, now: now, &effects) }
        }
    }

    // MARK: View changes

    /// Starts a view change towards `newMembers` (this node first, as leader), unless this
    /// node is in its restart grace, still promises its lease to the read server being
    /// removed, or (taking over a primary) could miss acknowledged writes. Phase 1: prepare.
    mutating func startViewChange(slot s: Int, members newMembers: [Int], at node: Int, now: SimTime,
                                  _ effects: inout Effects<Message, Timer>) {
        precondition(newMembers.first == node, "ViewReplication: a proposer leads its own view")
        guard now >= nodes[node].noAcceptUntil else { return }
        guard states[s].recovered else { return startRecovery(slot: s, at: node, now: now, &effects) }
        let old = states[s].members
        if !mayRemoveReader(slot: s, new: newMembers, at: node, now: now) { return }
        if old.first != node && !safeTakeover(old: old, new: newMembers) { return }
        // The new view records each voter's latest known disk-loss count (a member whose count
        // rises later has lost the data it held as a member).
        let recorded = states[s].epochs
        let epochs = states[s].voters.enumerated().map { i, v -> UInt32 in
            v == node ? nodes[node].amnesia : Swift.max(recorded[i], nodes[node].peers[v]?.amnesia ?? 0)
        }
        let view = max(states[s].view, states[s].promised, states[s].highest) + 1
        stepDown(slot: s, at: node, now: now, &effects)
        states[s].promised = view
        states[s].promisedTo = node
        states[s].highest = view
        var merged: [ShardKey: LogEntry] = [:]
        for r in states[s].log { Self.merge(r.log, into: &merged) }
        states[s].proposal = Proposal(view: view, derivedFrom: states[s].view, members: newMembers, epochs: epochs,
                                      promised: [node], newest: (states[s].view, old, states[s].epochs), merged: merged,
                                      maxSeq: states[s].maxSeq, sentAt: now, resentAt: now)
        sendProposal(slot: s, at: node, &effects)
        advance(slot: s, at: node, now: now, &effects)
    }

    var majorityOf: (Int) -> Int { { $0 / 2 + 1 } }

    /// Moves a proposal on: to phase 2 once a majority and every kept member promised (or
    /// back to the newest accepted view, if a promise reports one newer than the proposal's
    /// origin); to installation once a majority and every kept member accepted.
    mutating func advance(slot s: Int, at node: Int, now: SimTime, _ effects: inout Effects<Message, Timer>) {
        guard let p = states[s].proposal else { return }
        let majority = majorityOf(states[s].voters.count)
        if !p.proposing {
            guard p.promised.count >= majority, p.members.allSatisfy({ p.promised.contains($0) }) else { return }
            // Waiting for promises, this node may have granted a lease to the read server it
            // removes, or restarted: re-check (the tick calls this again).
            guard now >= nodes[node].noAcceptUntil, mayRemoveReader(slot: s, new: p.members, at: node, now: now) else { return }
            if p.newest.view > p.derivedFrom {
                // A view newer than the one this proposal derives from may have been
                // installed: adopt it and decide again from there on the next tick.
                states[s].proposal = nil
                adoptView(slot: s, view: p.newest.view, members: p.newest.members, epochs: p.newest.epochs,
                          at: node, now: now, &effects)
                return
            }
            adoptView(slot: s, view: p.view, members: p.members, epochs: p.epochs, at: node, now: now, &effects)
            states[s].proposal = p
            states[s].proposal!.proposing = true
            states[s].proposal!.resentAt = now
            states[s].proposal!.accepted = [node]
            sendProposal(slot: s, at: node, &effects)
        }
        let q = states[s].proposal!
        if q.proposing && q.accepted.count >= majority && q.members.allSatisfy({ q.accepted.contains($0) }) {
            install(slot: s, at: node, now: now, &effects)
        }
    }

    /// The lease promise: a node does not help remove the read server of its current view
    /// (other than itself) from that role while a lease it granted to it may still run, unless
    /// the read server stays a member (it then accepts the view itself before writes resume)
    /// or has lost its disk since the view recorded it (it cannot serve that view's reads).
    func mayRemoveReader(slot s: Int, new: [Int], at node: Int, now: SimTime) -> Bool {
        let old = states[s].members
        guard let reader = readServer(old), reader != node, readServer(new) != reader, !new.contains(reader) else { return true }
        guard let peer = nodes[node].peers[reader] else { return true }
        if peer.amnesia > states[s].epoch(of: reader) { return true }
        return peer.grantedUntil <= now
    }

    /// Whether this node is a member of its view as the view recorded it (not an older
    /// incarnation that lost its disk since).
    func validMember(slot s: Int, at node: Int) -> Bool {
        states[s].members.contains(node) && states[s].epoch(of: node) == nodes[node].amnesia
    }

    /// Sends the current phase's request to the voters that have not answered it.
    func sendProposal(slot s: Int, at node: Int, _ effects: inout Effects<Message, Timer>) {
        guard let p = states[s].proposal else { return }
        let g = states[s].group
        for v in states[s].voters where v != node {
            if p.proposing {
                guard !p.accepted.contains(v) else { continue }
                effects.send(.propose(group: g, view: p.view, members: p.members, epochs: p.epochs),
                             to: v, sizeBytes: 48 + 12 * states[s].voters.count, kind: .control)
            } else {
                guard !p.promised.contains(v) else { continue }
                effects.send(.prepare(group: g, view: p.view), to: v, sizeBytes: 40, kind: .control)
            }
        }
    }

    static func merge(_ e: LogEntry, into merged: inout [ShardKey: LogEntry]) {
        if let cur = merged[e.entry.key] {
            if cur.entry.stamp > e.entry.stamp { return }
            if cur.entry.stamp == e.entry.stamp && (cur.op != nil || e.op == nil) { return }
        }
        merged[e.entry.key] = e
    }

    /// Drops this node's leader state for the view it led (its writes are in its log, which
    /// goes to the next leader); requests queued or waiting here are re-routed (or refused,
    /// while no view is decided: the client retries).
    mutating func stepDown(slot s: Int, at node: Int, now: SimTime, _ effects: inout Effects<Message, Timer>) {
        states[s].active = false
        states[s].proposal = nil
        states[s].pending = [:]
        states[s].pendingPerKey = [:]
        states[s].fullDone = []
        states[s].fullThrough = 0
        states[s].sendableFrom = 0
        states[s].watermarkSent = 0
        states[s].catchUp = nil
        states[s].forceExclude = []
        let waiting = states[s].queued + states[s].waitingReads
        states[s].queued = []
        states[s].waitingReads = []
        for (r, hops) in waiting { handleRequest(r, hops: hops, at: node, now: now, &effects) }
    }

    /// Adopts a view — accepted in phase 2, or learnt as the newest known — durably.
    mutating func adoptView(slot s: Int, view: UInt32, members: [Int], epochs: [UInt32], at node: Int,
                            now: SimTime, _ effects: inout Effects<Message, Timer>) {
        let old = states[s].members
        if let reader = readServer(old), reader != node, readServer(members) != reader {
            recordDemotion(of: reader, group: states[s].group, view: view, members: members, epochs: epochs, at: node, now: now)
        }
        states[s].view = view
        states[s].promised = max(states[s].promised, view)
        states[s].highest = max(states[s].highest, view)
        states[s].members = members
        if epochs.count == states[s].voters.count { states[s].epochs = epochs }
        for m in members where m != node { addPeer(node, m, now: now) }
        if members.contains(node) { states[s].learning = nil }
        stepDown(slot: s, at: node, now: now, &effects)
    }

    /// Phase 1 at a voter.
    mutating func onPrepare(_ g: Int32, view: UInt32, from proposer: Int, at node: Int, now: SimTime,
                            _ effects: inout Effects<Message, Timer>) {
        guard directory.voters[Int(g)].contains(node) else { return }
        let s = slot(node, g, now: now)
            ?? addSlot(node, GroupState(group: g, voters: directory.voters[Int(g)], view: 0, members: [], epochs: []), now: now)
        states[s].highest = max(states[s].highest, view)
        // After a disk loss, recover what a majority promised and accepted before answering
        // (the proposer asks again).
        guard states[s].recovered else { return startRecovery(slot: s, at: node, now: now, &effects) }
        if view < states[s].promised || (view == states[s].promised && states[s].promisedTo != proposer) {
            return sendReject(slot: s, to: proposer, at: node, &effects)
        }
        // Leader stickiness (Raft's §4.2.3 rule): while the leader of this node's view is alive
        // as far as this node can tell, only it may change the view. A node back from a
        // partition or a flaky link then learns the current view instead of disrupting it.
        if let leader = states[s].members.first, leader != proposer {
            let alive = leader == node ? states[s].active : !isFailed(node, s, leader, now: now)
            if alive { return sendReject(slot: s, to: proposer, at: node, &effects) }
        }
        if view > states[s].promised {
            states[s].promised = view
            states[s].promisedTo = proposer
            // No data from older views from now on: stop leading them.
            if states[s].members.first == node { stepDown(slot: s, at: node, now: now, &effects) }
        }
        let st = states[s]
        let log = st.log.map(\.log)
        effects.send(.promise(group: g, view: view, accepted: st.view, members: st.members, epochs: st.epochs, log: log,
                              maxSeq: st.maxSeq, amnesia: nodes[node].amnesia),
                     to: proposer, sizeBytes: 64 + 12 * st.members.count + Self.wireBytes(log), kind: .repair)
    }

    mutating func onPromise(_ g: Int32, view: UInt32, accepted: UInt32, members: [Int], epochs: [UInt32], log: [LogEntry],
                            maxSeq: UInt64, amnesia: UInt32, from voter: Int, at node: Int, now: SimTime,
                            _ effects: inout Effects<Message, Timer>) {
        guard let s = nodes[node].slots[g], var p = states[s].proposal, p.view == view, !p.proposing,
              let vi = states[s].voters.firstIndex(of: voter), !p.promised.contains(voter) else { return }
        if p.members.contains(voter) && amnesia != p.epochs[vi] {
            // It lost its disk since we last heard: it cannot be counted as a full member.
            states[s].forceExclude.append(voter)
            states[s].proposal = nil
            return
        }
        p.promised.append(voter)
        if accepted > p.newest.view { p.newest = (accepted, members, epochs) }
        for e in log { Self.merge(e, into: &p.merged) }
        p.maxSeq = max(p.maxSeq, maxSeq)
        states[s].proposal = p
        advance(slot: s, at: node, now: now, &effects)
    }

    /// Phase 2 at a voter.
    mutating func onPropose(_ g: Int32, view: UInt32, members: [Int], epochs: [UInt32], from proposer: Int, at node: Int,
                            now: SimTime, _ effects: inout Effects<Message, Timer>) {
        guard directory.voters[Int(g)].contains(node) else { return }
        let isMember = members.contains(node)
        guard let s = nodes[node].slots[g] ?? slot(node, g, now: now), !(isMember && states[s].view == 0) else {
            // A member that knows nothing of the group (it lost its disk) cannot join this way.
            effects.send(.reject(group: g, promised: 0, view: 0, members: [], epochs: [], unknown: true),
                         to: proposer, sizeBytes: 48, kind: .control)
            return
        }
        guard states[s].recovered else { return startRecovery(slot: s, at: node, now: now, &effects) }
        states[s].highest = max(states[s].highest, view)
        let current = states[s]
        if view < current.promised || (view == current.promised && current.promisedTo != proposer) {
            return sendReject(slot: s, to: proposer, at: node, &effects)
        }
        if view > current.view {
            // Every voter honours its restart grace and the leases it granted (leases are per
            // node, so a voter outside the view may have granted one to its read server).
            guard now >= nodes[node].noAcceptUntil, mayRemoveReader(slot: s, new: members, at: node, now: now) else { return }
            adoptView(slot: s, view: view, members: members, epochs: epochs, at: node, now: now, &effects)
            states[s].promisedTo = proposer
        } else if current.members != members {
            return sendReject(slot: s, to: proposer, at: node, &effects)
        }
        effects.send(.accept(group: g, view: view, amnesia: nodes[node].amnesia), to: proposer, sizeBytes: 40, kind: .control)
    }

    mutating func onAccept(_ g: Int32, view: UInt32, amnesia: UInt32, from voter: Int, at node: Int, now: SimTime,
                           _ effects: inout Effects<Message, Timer>) {
        guard let s = nodes[node].slots[g], var p = states[s].proposal, p.view == view, p.proposing,
              let vi = states[s].voters.firstIndex(of: voter), !p.accepted.contains(voter) else { return }
        if p.members.contains(voter) && amnesia != p.epochs[vi] {
            states[s].forceExclude.append(voter)
            states[s].proposal = nil
            return
        }
        p.accepted.append(voter)
        states[s].proposal = p
        advance(slot: s, at: node, now: now, &effects)
    }

    mutating func onReject(_ g: Int32, promised: UInt32, view: UInt32, members: [Int], epochs: [UInt32], unknown: Bool,
                           from source: Int, at node: Int, now: SimTime, _ effects: inout Effects<Message, Timer>) {
        guard let s = nodes[node].slots[g] else { return }
        if unknown {
            let wanted = states[s].proposal?.members.contains(source) ?? states[s].members.contains(source)
            if wanted && !states[s].forceExclude.contains(source) {
                states[s].forceExclude.append(source)
                states[s].proposal = nil
            }
            return
        }
        states[s].highest = max(states[s].highest, promised, view)
        // Out-numbered, or a newer view exists: give up this proposal. (A refusal because the
        // sender's leader is alive leaves it running; the prepare is sent again.)
        if let p = states[s].proposal, promised >= p.view || view > p.derivedFrom { states[s].proposal = nil }
        if view > states[s].view {
            // A newer view exists (perhaps not installed): take it as this node's knowledge;
            // any later proposal re-derives from what a majority accepted.
            adoptView(slot: s, view: view, members: members, epochs: epochs, at: node, now: now, &effects)
        } else if promised > states[s].promised && states[s].members.first == node {
            // A view change is under way elsewhere: stop leading.
            states[s].promised = promised
            stepDown(slot: s, at: node, now: now, &effects)
        }
    }

    /// Every kept member and a majority of voters accepted: merge the logs, re-issue every
    /// entry in the new view, and only then take new writes.
    mutating func install(slot s: Int, at node: Int, now: SimTime, _ effects: inout Effects<Message, Timer>) {
        guard let p = states[s].proposal else { return }
        states[s].proposal = nil
        states[s].active = true
        states[s].maxSeq = max(states[s].maxSeq, p.maxSeq)
        states[s].fullThrough = states[s].maxSeq
        states[s].fullDone = []
        states[s].log = []
        for key in p.merged.keys.sorted() {
            let e = p.merged[key]!
            issue(e.entry, op: e.op, slot: s, at: node, now: now, &effects)
        }
        states[s].sendableFrom = states[s].maxSeq
        let queued = states[s].queued
        states[s].queued = []
        for (r, hops) in queued { handleRequest(r, hops: hops, at: node, now: now, &effects) }
        if !states[s].waitingReads.isEmpty && !nodes[node].readWaiters.contains(s) { nodes[node].readWaiters.append(s) }
        retryWaitingReads(at: node, now: now, &effects)
    }

    // MARK: Acceptor recovery after a disk loss

    /// Asks the other voters for their promise and newest accepted view.
    mutating func startRecovery(slot s: Int, at node: Int, now: SimTime, _ effects: inout Effects<Message, Timer>) {
        if let r = states[s].recovery, now - r.askedAt < settings.retransmitTimeout { return }
        let answered = states[s].recovery?.answered ?? []
        states[s].recovery = (answered, now)
        for v in states[s].voters where v != node && !answered.contains(v) {
            effects.send(.query(group: states[s].group), to: v, sizeBytes: 40, kind: .control)
        }
    }

    mutating func onQuery(_ g: Int32, from voter: Int, at node: Int, now: SimTime, _ effects: inout Effects<Message, Timer>) {
        guard directory.voters[Int(g)].contains(node) else { return }
        guard let s = slot(node, g, now: now), states[s].recovered else {
            effects.send(.queryReply(group: g, promised: 0, view: 0, members: [], epochs: [], blank: true),
                         to: voter, sizeBytes: 40, kind: .control)
            return
        }
        let st = states[s]
        effects.send(.queryReply(group: g, promised: st.promised, view: st.view, members: st.members, epochs: st.epochs, blank: false),
                     to: voter, sizeBytes: 48 + 12 * st.voters.count, kind: .control)
    }

    /// Adopts the highest promise and the newest accepted view reported; recovered once a
    /// majority of the voters other than this one answered (any majority this node was part
    /// of before its disk loss shares a voter with them).
    mutating func onQueryReply(_ g: Int32, promised: UInt32, view: UInt32, members: [Int], epochs: [UInt32], blank: Bool,
                               from voter: Int, at node: Int, now: SimTime, _ effects: inout Effects<Message, Timer>) {
        guard !blank, let s = nodes[node].slots[g], !states[s].recovered, var r = states[s].recovery,
              !r.answered.contains(voter) else { return }
        r.answered.append(voter)
        states[s].recovery = r
        states[s].promised = max(states[s].promised, promised)
        states[s].highest = max(states[s].highest, promised, view)
        if view > states[s].view {
            adoptView(slot: s, view: view, members: members, epochs: epochs, at: node, now: now, &effects)
        }
        guard r.answered.count >= majorityOf(states[s].voters.count) else { return }
        states[s].recovered = true
        states[s].recovery = nil
        if let leader = states[s].members.first, leader != node {
            effects.send(.recovered(group: g, amnesia: nodes[node].amnesia), to: leader, sizeBytes: 40, kind: .control)
        }
    }

    // MARK: Catch-up (leader side)

    mutating func catchUpTick(slot s: Int, at node: Int, now: SimTime, _ effects: inout Effects<Message, Timer>) {
        if let c = states[s].catchUp {
            if suspected(node, c.target, now: now) {
                states[s].catchUp = nil
                return
            }
            if c.transferDone && c.copies.isEmpty {
                startViewChange(slot: s, members: states[s].members + [c.target], at: node, now: now, &effects)
                return
            }
            if !c.transferDone && now - c.batchSentAt >= settings.retransmitTimeout { sendBatch(slot: s, now: now, &effects) }
            for seq in c.copies.keys.sorted() {
                guard let copy = states[s].catchUp!.copies[seq], now - copy.sentAt >= settings.retransmitTimeout else { continue }
                states[s].catchUp!.copies[seq]!.sentAt = now
                sendCopy(copy.entry, slot: s, to: c.target, &effects)
            }
            return
        }
        let g = Int(states[s].group)
        let placement = directory.placements[g]
        if let target = placement.first(where: { !states[s].members.contains($0) && !suspected(node, $0, now: now) }) {
            return startCatchUp(slot: s, target: target, at: node, now: now, &effects)
        }
        // A witness that lost its disk is told to recover for this group (so it can vote when
        // it is needed, not only once a failover has begun).
        for w in directory.voters[g].dropFirst(placement.count)
        where !suspected(node, w, now: now) && (nodes[node].peers[w]?.amnesia ?? 0) > states[s].epoch(of: w) {
            effects.send(.recover(group: states[s].group), to: w, sizeBytes: 40, kind: .control)
        }
    }

    mutating func startCatchUp(slot s: Int, target: Int, at node: Int, now: SimTime, _ effects: inout Effects<Message, Timer>) {
        states[s].catchUp = CatchUp(target: target, keys: states[s].index.keys.sorted())
        // Writes in flight reach the learner as copies; later ones are copied as issued.
        for r in states[s].log { copyToLearner(r.log, slot: s, now: now, &effects) }
        sendBatch(slot: s, now: now, &effects)
    }

    mutating func copyToLearner(_ log: LogEntry, slot s: Int, now: SimTime, _ effects: inout Effects<Message, Timer>) {
        guard let target = states[s].catchUp?.target else { return }
        states[s].catchUp!.copies[log.seq] = (log, now)
        sendCopy(log, slot: s, to: target, &effects)
    }

    func sendCopy(_ log: LogEntry, slot s: Int, to target: Int, _ effects: inout Effects<Message, Timer>) {
        effects.send(.replicate(group: states[s].group, view: states[s].view, log, watermark: 0, learner: true),
                     to: target, sizeBytes: 64 + Self.wireBytes(log.entry), kind: .repair)
    }

    mutating func sendBatch(slot s: Int, now: SimTime, _ effects: inout Effects<Message, Timer>) {
        guard let c = states[s].catchUp else { return }
        let end = min(c.next + settings.transferBatch, c.keys.count)
        let entries = c.keys[c.next..<end].compactMap { k in states[s].index[k].map { LogEntry(seq: 0, entry: $0, op: nil) } }
        states[s].catchUp!.batchSentAt = now
        let st = states[s]
        effects.send(.transfer(group: st.group, view: st.view, members: st.members, batch: c.batch, entries: entries,
                               last: end == c.keys.count),
                     to: c.target, sizeBytes: 64 + Self.wireBytes(entries), kind: .repair)
    }

    mutating func onTransferAck(_ g: Int32, view: UInt32, batch: UInt32, from learner: Int, at node: Int, now: SimTime,
                                _ effects: inout Effects<Message, Timer>) {
        guard let s = nodes[node].slots[g], states[s].view == view, var c = states[s].catchUp,
              c.target == learner, c.batch == batch, !c.transferDone else { return }
        c.next = min(c.next + settings.transferBatch, c.keys.count)
        c.batch += 1
        if c.next >= c.keys.count { c.transferDone = true }
        states[s].catchUp = c
        if !c.transferDone { sendBatch(slot: s, now: now, &effects) }
    }

    // MARK: Catch-up (learner side)

    /// Makes this node a learner of `leader`'s view `view` for group `g` (creating the group
    /// if it lost its disk), or returns nil if it knows a newer view.
    mutating func learnerSlot(_ g: Int32, view: UInt32, members: [Int]?, leader: Int, at node: Int, now: SimTime,
                              _ effects: inout Effects<Message, Timer>) -> Int? {
        let s: Int
        if let existing = nodes[node].slots[g] {
            s = existing
        } else {
            s = addSlot(node, GroupState(group: g, voters: directory.voters[Int(g)], view: view, members: members ?? [], epochs: []), now: now)
        }
        if states[s].view > view {
            sendReject(slot: s, to: leader, at: node, &effects)
            return nil
        }
        // A member of this very view is not a learner (a stale copy after its join).
        if states[s].view == view && states[s].members.contains(node) { return nil }
        // Without the member list (a copy that overtook the first batch), the leader is
        // all this node knows of the view; the transfer brings the rest.
        let known = members ?? (states[s].members.first == leader ? states[s].members : [leader])
        if states[s].view < view || states[s].members != known {
            adoptView(slot: s, view: view, members: known, epochs: [], at: node, now: now, &effects)
        }
        if let l = states[s].learning, l.leader == leader, l.view == view { return s }
        states[s].learning = Learning(leader: leader, view: view)
        return s
    }

    mutating func learnerCopy(_ g: Int32, view: UInt32, _ log: LogEntry, from leader: Int, at node: Int, now: SimTime,
                              _ effects: inout Effects<Message, Timer>) {
        guard let s = learnerSlot(g, view: view, members: nil, leader: leader, at: node, now: now, &effects) else { return }
        if let seen = states[s].learning!.seen[log.entry.key], seen.stamp >= log.entry.stamp {} else {
            states[s].learning!.seen[log.entry.key] = log.entry
        }
        acceptCopy(log, slot: s, from: leader, view: view, learner: true, at: node, now: now, &effects)
    }

    mutating func onTransfer(_ g: Int32, view: UInt32, members: [Int], batch: UInt32, entries: [LogEntry], last: Bool,
                             from leader: Int, at node: Int, now: SimTime, _ effects: inout Effects<Message, Timer>) {
        guard let s = learnerSlot(g, view: view, members: members, leader: leader, at: node, now: now, &effects) else { return }
        var l = states[s].learning!
        if batch < l.doneBelow {
            effects.send(.transferAck(group: g, view: view, batch: batch), to: leader, sizeBytes: 40, kind: .control)
            return
        }
        guard batch == l.doneBelow, l.remaining == 0 || l.batch != batch else { return }
        l.batch = batch
        l.last = last
        l.remaining = entries.count
        l.cleaning = false
        for e in entries {
            if let seen = l.seen[e.entry.key], seen.stamp >= e.entry.stamp {} else { l.seen[e.entry.key] = e.entry }
        }
        states[s].learning = l
        for e in entries {
            let x = e.entry
            effects.store(.put(x.key, x.stamp, storedBytes: x.storedBytes, tombstone: x.tombstone),
                          token: token(node, .transferStore(group: g, batch: batch, entry: x)))
        }
        if entries.isEmpty {
            states[s].learning!.remaining = 1
            learnerStoreDone(g, batch: batch, at: node, now: now, &effects)
        }
    }

    mutating func onTransferStored(_ g: Int32, batch: UInt32, entry: Entry, _ outcome: StorageCompletion.Outcome,
                                   at node: Int, now: SimTime, _ effects: inout Effects<Message, Timer>) {
        guard let s = nodes[node].slots[g], let l = states[s].learning, l.batch == batch else { return }
        switch outcome {
        case .stored:
            states[s].noteStored(entry)
        case .superseded(let held):
            let newest = l.seen[entry.key]?.stamp ?? entry.stamp
            if held > newest {
                // This node holds a version the leader never had (a write that did not
                // replicate before this node failed): roll it back.
                effects.store(.drop(entry.key), token: token(node, .rollbackDrop(group: g, batch: batch, key: entry.key)))
                return
            }
        case .ioError:
            effects.store(.put(entry.key, entry.stamp, storedBytes: entry.storedBytes, tombstone: entry.tombstone),
                          token: token(node, .transferStore(group: g, batch: batch, entry: entry)))
            return
        case .found, .foundFragment, .missing:
            preconditionFailure("ViewReplication: a put completed as a get at node \(node)")
        }
        learnerStoreDone(g, batch: batch, at: node, now: now, &effects)
    }

    mutating func onRollbackDropped(_ g: Int32, batch: UInt32, key: ShardKey, _ outcome: StorageCompletion.Outcome,
                                    at node: Int, now: SimTime, _ effects: inout Effects<Message, Timer>) {
        guard let s = nodes[node].slots[g] else { return }
        if outcome == .stored { states[s].index[key] = nil }
        if let e = states[s].learning?.seen[key] {
            effects.store(.put(e.key, e.stamp, storedBytes: e.storedBytes, tombstone: e.tombstone),
                          token: token(node, .rollbackPut(group: g, batch: batch, entry: e)))
            return
        }
        learnerStoreDone(g, batch: batch, at: node, now: now, &effects)
    }

    /// One store of the current batch finished; after the last batch, drop the keys the
    /// leader does not have, then acknowledge.
    mutating func learnerStoreDone(_ g: Int32, batch: UInt32, at node: Int, now: SimTime,
                                   _ effects: inout Effects<Message, Timer>) {
        guard let s = nodes[node].slots[g], var l = states[s].learning, l.batch == batch, l.remaining > 0 else { return }
        l.remaining -= 1
        if l.remaining == 0 {
            if l.last && !l.cleaning {
                // Records kept from before this node became a learner are either with the
                // leader (who sent them again) or never replicated: discard them, like the
                // writes rolled back on disk, so a view change cannot bring them back.
                states[s].log.removeAll { !$0.learned }
                let extras = states[s].index.keys.filter { l.seen[$0] == nil }.sorted()
                if !extras.isEmpty {
                    l.cleaning = true
                    l.remaining = extras.count
                    states[s].learning = l
                    for k in extras {
                        effects.store(.drop(k), token: token(node, .rollbackDrop(group: g, batch: batch, key: k)))
                    }
                    return
                }
            }
            l.doneBelow = batch + 1
            effects.send(.transferAck(group: g, view: l.view, batch: batch), to: l.leader, sizeBytes: 40, kind: .control)
        }
        states[s].learning = l
    }
}
