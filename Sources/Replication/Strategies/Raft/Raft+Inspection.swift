import SimCore

// MARK: - Inspection (tests, and the engine's measurements later)

extension Raft {
    /// One member's state as seen from outside (a copy; the log is copied too, so this is
    /// for tests and occasional sampling, not for every event).
    public struct MemberView: Sendable {
        public var node: Int
        public var group: Int
        public var role: Role
        public var term: UInt64
        /// The node this member voted for in `term`, if any.
        public var votedFor: Int?
        /// The leader it follows in `term`, if known.
        public var leader: Int?
        public var commitIndex: Int
        public var applied: Int
        public var log: [Entry]
        public var incarnation: UInt64
        public var isVoter: Bool
        /// Voter incarnation per slot (0 = not a voter).
        public var config: [UInt64]
    }

    /// The state of the member of `group` on `node`, or nil if `node` is not a member.
    public func member(group: Int, node: Int) -> MemberView? {
        guard let r = replicaIndex(group: group, node: node) else { return nil }
        let rep = replicas[r]
        let members = groupMembers[group]
        return MemberView(node: node, group: group, role: rep.role, term: rep.term,
                          votedFor: rep.votedFor >= 0 ? members[Int(rep.votedFor)] : nil,
                          leader: rep.leader >= 0 ? members[Int(rep.leader)] : nil,
                          commitIndex: rep.commitIndex, applied: rep.applied, log: rep.log,
                          incarnation: rep.incarnation, isVoter: rep.isVoter, config: rep.config)
    }

    /// The node that acts as leader of `group` in the highest term any member holds a
    /// leadership in, or nil if none does. (During a partition a deposed leader may still
    /// believe it leads in an older term; it is not returned.)
    public func leader(ofGroup group: Int) -> Int? {
        var best: (term: UInt64, node: Int)?
        for (slot, node) in groupMembers[group].enumerated() {
            let rep = replicas[replicaBase[group] + slot]
            if rep.role == .leader, best == nil || rep.term > best!.term { best = (rep.term, node) }
        }
        return best?.node
    }

    /// The highest term any member of `group` has reached.
    public func term(ofGroup group: Int) -> UInt64 {
        var t: UInt64 = 0
        for slot in groupMembers[group].indices { t = Swift.max(t, replicas[replicaBase[group] + slot].term) }
        return t
    }

    /// Every member currently acting as leader, with its term (for "one leader per term").
    public func leaders(ofGroup group: Int) -> [(node: Int, term: UInt64)] {
        groupMembers[group].enumerated().compactMap { slot, node in
            let rep = replicas[replicaBase[group] + slot]
            return rep.role == .leader ? (node, rep.term) : nil
        }
    }
}

// MARK: - Observations (safety properties in tests)

extension Raft {
    /// What a run did that Raft's safety properties talk about: every election won (for
    /// "at most one leader per term") and every entry each member learned was committed
    /// (for "a committed entry is never lost or changed"). Recorded only while
    /// ``Raft/observations`` is non-nil; the protocol never reads it.
    public struct Observations: Sendable {
        public struct Election: Sendable, Equatable {
            public var group: Int
            public var term: UInt64
            public var node: Int
            /// The winner's local clock.
            public var time: SimTime
        }

        /// A member's commit index passed `index`: it now holds `entry` there as committed.
        public struct Commit: Sendable {
            public var group: Int
            public var index: Int
            public var node: Int
            public var entry: Entry
            /// The member's local clock.
            public var time: SimTime
        }

        public var elections: [Election] = []
        public var commits: [Commit] = []
        public init() {}
    }

    mutating func observeElection(_ r: Int, now: SimTime) {
        observations!.elections.append(.init(group: Int(replicas[r].group), term: replicas[r].term,
                                             node: Int(replicas[r].node), time: now))
    }

    /// Records the entries in (commit index, `index`] of the member as committed.
    mutating func observeCommits(_ r: Int, upTo index: Int, now: SimTime) {
        let (group, node) = (Int(replicas[r].group), Int(replicas[r].node))
        for i in (replicas[r].commitIndex + 1)...index {
            observations!.commits.append(.init(group: group, index: i, node: node, entry: replicas[r].log[i - 1], time: now))
        }
    }
}
