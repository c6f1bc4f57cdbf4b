import SimCore
import SimNetwork

// MARK: - Leader election (§5.2, §5.4.1)

extension Raft {
    /// Draws a new election deadline in [election_timeout_min, election_timeout_max).
    mutating func resetElectionTimer(_ r: Int, now: SimTime, rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        let span = UInt64((electionTimeoutMax - electionTimeoutMin).nanoseconds)
        replicas[r].electionDeadline = now + electionTimeoutMin + SimDuration(nanoseconds: Int64(rng.below(span)))
        armElection(r, now: now, effects: &effects)
    }

    /// Makes sure a timer fires by the election deadline. Timers cannot be cancelled, so
    /// one is armed only when none would fire early enough; a later deadline is found when
    /// the armed one fires (one timer per timeout per member, not one per heartbeat).
    mutating func armElection(_ r: Int, now: SimTime, effects: inout Effects<Message, Timer>) {
        let deadline = replicas[r].electionDeadline
        guard replicas[r].electionFireAt == .never || deadline < replicas[r].electionFireAt else { return }
        replicas[r].electionGeneration &+= 1
        replicas[r].electionFireAt = deadline
        let delay = deadline - now
        effects.setTimer(after: delay > .zero ? delay : .zero,
                         .election(group: replicas[r].group, generation: replicas[r].electionGeneration))
    }

    /// No leader was heard within the election timeout: give up on held requests and, as a
    /// voter, stand for election.
    mutating func electionTimeout(_ r: Int, now: SimTime, rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        failHeld(r, effects: &effects)
        replicas[r].leader = -1
        if replicas[r].isVoter {
            campaign(r, now: now, rng: &rng, effects: &effects)
        } else {
            resetElectionTimer(r, now: now, rng: &rng, effects: &effects)
        }
    }

    /// Becomes a candidate in a new term, votes for itself and asks every other voter.
    mutating func campaign(_ r: Int, now: SimTime, rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        precondition(replicas[r].isVoter, "Raft: a non-voter of group \(replicas[r].group) at node \(replicas[r].node) campaigned")
        replicas[r].term += 1
        replicas[r].votedFor = replicas[r].slot
        replicas[r].role = .candidate
        replicas[r].leader = -1
        for s in replicas[r].votes.indices { replicas[r].votes[s] = 0 }
        replicas[r].votes[Int(replicas[r].slot)] = replicas[r].incarnation
        resetElectionTimer(r, now: now, rng: &rng, effects: &effects)
        if votesGranted(r) >= replicas[r].majority {
            becomeLeader(r, now: now, rng: &rng, effects: &effects)
            return
        }
        let rep = replicas[r]
        let request = VoteRequest(group: rep.group, term: rep.term, lastLogIndex: rep.lastIndex, lastLogTerm: rep.lastTerm)
        for s in rep.config.indices where s != Int(rep.slot) && rep.config[s] != 0 {
            effects.send(.vote(request), to: node(r, slot: s), sizeBytes: Self.voteBytes, kind: .control)
        }
    }

    /// Votes of current voters (the voter's incarnation must match the configuration).
    func votesGranted(_ r: Int) -> Int {
        let rep = replicas[r]
        var n = 0
        for s in rep.config.indices where rep.config[s] != 0 && rep.votes[s] == rep.config[s] { n += 1 }
        return n
    }

    mutating func handleVote(_ m: VoteRequest, from s: Int, _ r: Int, now: SimTime,
                             rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        var granted = false
        if m.term >= replicas[r].term && replicas[r].role != .leader && now >= replicas[r].noVoteBefore {
            if m.term > replicas[r].term {
                becomeFollower(r, term: m.term, leader: -1, now: now, rng: &rng, effects: &effects)
            }
            let rep = replicas[r]
            let upToDate = m.lastLogTerm > rep.lastTerm || (m.lastLogTerm == rep.lastTerm && m.lastLogIndex >= rep.lastIndex)
            if (rep.votedFor == -1 || rep.votedFor == Int32(s)) && upToDate {
                replicas[r].votedFor = Int32(s)
                granted = true
                resetElectionTimer(r, now: now, rng: &rng, effects: &effects)
            }
        }
        // Otherwise: a stale term, a leader, or a member that heard from a leader within the
        // minimum election timeout (thesis §4.2.3) refuses without adopting the term.
        let rep = replicas[r]
        effects.send(.voteReply(VoteReply(group: rep.group, term: rep.term, granted: granted, incarnation: rep.incarnation)),
                     to: node(r, slot: s), sizeBytes: Self.voteBytes, kind: .control)
    }

    mutating func handleVoteReply(_ m: VoteReply, from s: Int, _ r: Int, now: SimTime,
                                  rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        if m.term > replicas[r].term {
            becomeFollower(r, term: m.term, leader: -1, now: now, rng: &rng, effects: &effects)
            return
        }
        guard replicas[r].role == .candidate, m.term == replicas[r].term, m.granted else { return }
        replicas[r].votes[s] = m.incarnation
        if votesGranted(r) >= replicas[r].majority {
            becomeLeader(r, now: now, rng: &rng, effects: &effects)
        }
    }

    /// Wins the election: appends a no-op of the new term (so entries of earlier terms can
    /// commit, §5.4.2), sends the first heartbeat round, and takes the held requests.
    mutating func becomeLeader(_ r: Int, now: SimTime, rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        let (group, term) = (replicas[r].group, replicas[r].term)
        replicas[r].role = .leader
        replicas[r].leader = replicas[r].slot
        replicas[r].lead = LeaderState(members: replicas[r].config.count, lastIndex: replicas[r].lastIndex, now: now)
        if observations != nil { observeElection(r, now: now) }
        _ = append(r, Entry(term: term, kind: .noop))
        broadcast(r, now: now, effects: &effects)
        advanceCommit(r, now: now, effects: &effects)
        effects.setTimer(after: heartbeatInterval, .heartbeat(group: group, term: term))
        let held = replicas[r].held
        replicas[r].held = []
        for request in held { leaderAccept(request, r, now: now, effects: &effects) }
    }

    /// Follows `leader` (or nobody) in `term` ≥ the current one; a leader stepping down
    /// fails the requests it was holding.
    mutating func becomeFollower(_ r: Int, term: UInt64, leader: Int32, now: SimTime,
                                 rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        precondition(term >= replicas[r].term, "Raft: group \(replicas[r].group) node \(replicas[r].node) went back from term \(replicas[r].term) to \(term)")
        if term > replicas[r].term {
            replicas[r].term = term
            replicas[r].votedFor = -1
        }
        let wasLeader = replicas[r].role == .leader
        if wasLeader { stepDown(r, effects: &effects) }
        replicas[r].role = .follower
        replicas[r].leader = leader
        if wasLeader || replicas[r].electionFireAt == .never {
            resetElectionTimer(r, now: now, rng: &rng, effects: &effects)
        }
    }

    /// Ends a leadership: writes not yet acknowledged and reads not yet served are answered
    /// `.failed` (their outcome is unknown to this node; the client retries), and clients
    /// stop believing this node leads.
    mutating func stepDown(_ r: Int, effects: inout Effects<Message, Timer>) {
        guard let lead = replicas[r].lead else { return }
        for i in lead.acksHead..<lead.acks.count { effects.reply(lead.acks[i].op, .failed) }
        for read in lead.reads { effects.reply(read.op, .failed) }
        replicas[r].lead = nil
        let g = Int(replicas[r].group)
        if leaderHint[g] == replicas[r].node {
            leaderHint[g] = -1
            hintRotation[g] &+= 1
        }
    }
}
