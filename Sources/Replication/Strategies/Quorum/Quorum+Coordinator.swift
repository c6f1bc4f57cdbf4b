import SimCore
import SimNetwork

/// The coordinator: sends a client's write or read to the key's replicas, waits for the
/// consistency level, replaces replicas that do not answer within `replica_timeout` (another
/// replica with `*_fanout: quorum`, a hint holder with hinted handoff), and answers the
/// client — `.failed` when the level cannot be met within `request_timeout`.
extension Quorum {
    // MARK: Writes

    mutating func coordinateWrite(_ request: ClientRequest, at node: Int, now: SimTime,
                                  rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        let replicas = placement(of: request.key, home: request.homeDC)
        guard let requirement = writeLevel.requirement(layout: layoutOf(replicas), localDC: world.datacenter(of: node)) else {
            // A local level at a coordinator whose DC holds no replica: Cassandra's Unavailable.
            effects.reply(request.id, .failed)
            return
        }
        var stamp = request.stamp
        if conflict == .lww {
            // Last-writer-wins: the coordinator's clock, skew and all, decides.
            stamp.tiebreak = UInt64(Swift.max(0, now.nanoseconds))
        }
        let value = Value(key: request.key, stamp: stamp, storedBytes: request.storedBytes,
                          tombstone: request.kind == .delete, home: request.homeDC)
        var chosen = Array(replicas.indices)
        var untried: [Int] = []
        if writeFanout == .quorum {
            (chosen, untried) = requirement.pick(replicaDCs: datacenters(of: replicas), rng: &rng)
        }
        let rid = newRid(node)
        nodes[node].writes[rid] = WriteOp(client: request.id, value: value, replicas: replicas,
                                          requirement: requirement, untried: untried)
        effects.setTimer(after: replicaTimeout, .replicaTimeout(rid: rid))
        effects.setTimer(after: requestTimeout, .requestTimeout(rid: rid))
        for i in chosen {
            sendWrite(rid, to: replicas[i], replica: i, hint: false, at: node, now: now, rng: &rng, effects: &effects)
        }
    }

    /// Sends operation `rid`'s value to `target`, standing for replica `replica`.
    mutating func sendWrite(_ rid: UInt64, to target: Int, replica: Int, hint: Bool, at node: Int, now: SimTime,
                            rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        guard let op = nodes[node].writes[rid] else { return }
        nodes[node].writes[rid]!.targets.append(WriteTarget(node: Int32(target), replica: Int16(replica), hint: hint))
        let hintFor = hint ? Int32(op.replicas[replica]) : -1
        send(.write(rid: rid, op.value, hintFor: hintFor), from: node, to: target,
             sizeBytes: Self.headerBytes + op.value.wireBytes, kind: hint ? .repair : .writeRequest,
             now: now, rng: &rng, effects: &effects)
    }

    mutating func writeAcknowledged(_ rid: UInt64, ok: Bool, from source: Int, at node: Int, now: SimTime,
                                    rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        guard let op = nodes[node].writes[rid],
              let t = op.targets.firstIndex(where: { Int($0.node) == source }),
              op.targets[t].state == .pending else { return }
        nodes[node].writes[rid]!.targets[t].state = ok ? .acked : .failed
        if !ok { replaceWriteTarget(rid, t, at: node, now: now, rng: &rng, effects: &effects) }
        progressWrite(rid, at: node, effects: &effects)
    }

    /// Whether the acknowledgements so far meet the write level: each acknowledging replica
    /// counts once, a hint holder counts for its replica only in a sloppy quorum.
    func writeLevelMet(_ op: WriteOp) -> Bool {
        var credited: [Int] = []
        for t in op.targets where t.state == .acked && (!t.hint || sloppy) && !credited.contains(Int(t.replica)) {
            credited.append(Int(t.replica))
        }
        return op.requirement.isMet(byReplicasIn: credited.lazy.map { self.world.datacenter(of: op.replicas[$0]) })
    }

    /// Answers the client when the level is met (or can no longer be), and forgets the
    /// operation once nothing more can happen to it.
    mutating func progressWrite(_ rid: UInt64, at node: Int, effects: inout Effects<Message, Timer>) {
        guard var op = nodes[node].writes[rid] else { return }
        if !op.replied && writeLevelMet(op) {
            effects.reply(op.client, .acknowledged)
            op.replied = true
        }
        let pending = op.targets.contains { $0.state == .pending }
        if !op.replied && !pending && !op.targets.contains(where: { $0.state != .acked && !$0.resolved }) {
            // Every target answered or was replaced, and the level is out of reach.
            effects.reply(op.client, .failed)
            op.replied = true
        }
        if op.replied && !op.targets.contains(where: { $0.state != .acked && !$0.resolved }) && !pending {
            nodes[node].writes[rid] = nil
        } else {
            nodes[node].writes[rid] = op
        }
    }

    mutating func writeReplicaTimeout(_ rid: UInt64, at node: Int, now: SimTime,
                                      rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        guard let op = nodes[node].writes[rid] else { return }
        nodes[node].writes[rid]!.rounds += 1
        for t in op.targets.indices where op.targets[t].state != .acked && !op.targets[t].resolved {
            replaceWriteTarget(rid, t, at: node, now: now, rng: &rng, effects: &effects)
        }
        if let op = nodes[node].writes[rid], op.rounds < Self.replicaTimeoutRounds,
           op.targets.contains(where: { $0.state != .acked && !$0.resolved }) {
            effects.setTimer(after: replicaTimeout, .replicaTimeout(rid: rid))
        }
        progressWrite(rid, at: node, effects: &effects)
    }

    /// A target did not acknowledge (timeout or disk failure): while the client waits, try a
    /// replica not contacted yet (`write_fanout: quorum`); with hinted handoff, also store a
    /// hint for the replica at the next node on the ring.
    mutating func replaceWriteTarget(_ rid: UInt64, _ t: Int, at node: Int, now: SimTime,
                                     rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        guard let op = nodes[node].writes[rid], !op.targets[t].resolved else { return }
        nodes[node].writes[rid]!.targets[t].resolved = true
        let target = op.targets[t]
        if !op.replied && !target.hint, let next = op.untried.first {
            nodes[node].writes[rid]!.untried.removeFirst()
            sendWrite(rid, to: op.replicas[next], replica: next, hint: false, at: node, now: now, rng: &rng, effects: &effects)
        }
        if hintedHandoff {
            if let holder = hintHolder(for: op.replicas[Int(target.replica)], key: op.value.key, replicas: op.replicas,
                                       excluding: op.targets.map { Int($0.node) }, coordinator: node) {
                sendWrite(rid, to: holder, replica: Int(target.replica), hint: true, at: node, now: now,
                          rng: &rng, effects: &effects)
            }
        }
    }

    /// The next node on the ring for `replica`'s hint, skipping nodes this write already
    /// used. The order is DC-aware and fixed per key: the first non-replica node (by
    /// rendezvous hash of the key) of the replica's DC, then the coordinator's DC's nodes, then
    /// the replica's DC's other nodes, then the DCs nearest the replica's. So one crashed
    /// node's hint stays in its DC, and when the whole DC is dark the next attempt lands in
    /// the coordinator's.
    func hintHolder(for replica: Int, key: ShardKey, replicas: [Int], excluding used: [Int], coordinator: Int) -> Int? {
        let dc = world.datacenter(of: replica)
        let home = world.datacenter(of: coordinator)
        func ranked(_ d: Int) -> [Int] {
            world.nodesByDC[d].filter { !replicas.contains($0) }.sorted { a, b in
                let ha = mix64(key.raw &* 0xD6E8_FEB8_6659_FD93 ^ UInt64(a)), hb = mix64(key.raw &* 0xD6E8_FEB8_6659_FD93 ^ UInt64(b))
                return ha != hb ? ha > hb : a < b
            }
        }
        let own = ranked(dc)
        var order = Array(own.prefix(1))
        if home != dc { order += ranked(home) }
        order += own.dropFirst()
        if let next = order.first(where: { !used.contains($0) }) { return next }
        for d in world.nearestDCs[dc] where d != home {
            if let next = ranked(d).first(where: { !used.contains($0) }) { return next }
        }
        return nil
    }

    // MARK: Reads

    mutating func coordinateRead(_ request: ClientRequest, at node: Int, now: SimTime,
                                 rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        let replicas = placement(of: request.key, home: request.homeDC)
        guard let requirement = readLevel.requirement(layout: layoutOf(replicas), localDC: world.datacenter(of: node)) else {
            effects.reply(request.id, .failed)
            return
        }
        let plan: RepairPlan
        switch readRepair {
        case .off: plan = .none
        case .blocking: plan = .blocking
        case .probabilistic: plan = rng.chance(ppm: readRepairChancePPM) ? .background : .none
        }
        var chosen = Array(replicas.indices)
        var untried: [Int] = []
        // A probabilistic repair reads from every replica (Cassandra's read_repair_chance).
        if readFanout == .quorum && plan != .background {
            (chosen, untried) = requirement.pick(replicaDCs: datacenters(of: replicas), rng: &rng)
        }
        let dataIndex = closest(chosen, of: replicas, to: node)
        let rid = newRid(node)
        var op = ReadOp(client: request.id, key: request.key, home: Int32(request.homeDC),
                        bytes: Int32(clamping: request.storedBytes), replicas: replicas, requirement: requirement,
                        untried: untried, plan: plan)
        op.targets = chosen.map { ReadTarget(node: Int32(replicas[$0]), replica: Int16($0), askedData: $0 == dataIndex) }
        nodes[node].reads[rid] = op
        effects.setTimer(after: replicaTimeout, .replicaTimeout(rid: rid))
        effects.setTimer(after: requestTimeout, .requestTimeout(rid: rid))
        for t in op.targets {
            send(.read(rid: rid, key: request.key, data: t.askedData, bytes: op.bytes), from: node, to: Int(t.node),
                 sizeBytes: Self.headerBytes, kind: .readRequest, now: now, rng: &rng, effects: &effects)
        }
    }

    /// Of replicas `indices`, the one nearest `node`: itself, then its DC, then the nearest DCs.
    func closest(_ indices: [Int], of replicas: [Int], to node: Int) -> Int {
        let dc = world.datacenter(of: node)
        func rank(_ i: Int) -> Int {
            let r = replicas[i]
            if r == node { return -2 }
            let d = world.datacenter(of: r)
            if d == dc { return -1 }
            return world.nearestDCs[dc].firstIndex(of: d) ?? Int.max
        }
        return indices.min { (rank($0), $0) < (rank($1), $1) } ?? 0
    }

    mutating func readAnswered(_ rid: UInt64, _ result: ReplicaRead, data: Bool, from source: Int, at node: Int,
                               now: SimTime, rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        guard let op = nodes[node].reads[rid],
              let t = op.targets.firstIndex(where: { Int($0.node) == source }) else { return }
        if result == .failed {
            guard op.targets[t].state != .failed else { return }
            nodes[node].reads[rid]!.targets[t].state = .failed
            if !op.replied { replaceReadTarget(rid, t, at: node, now: now, rng: &rng, effects: &effects) }
        } else {
            nodes[node].reads[rid]!.targets[t].state = .acked
            nodes[node].reads[rid]!.targets[t].result = result
            if data { nodes[node].reads[rid]!.targets[t].hasData = true }
        }
        if op.replied {
            lateReadAnswer(rid, t, at: node, now: now, rng: &rng, effects: &effects)
        } else {
            progressRead(rid, at: node, now: now, rng: &rng, effects: &effects)
        }
    }

    /// A replica that failed or did not answer a read: with `read_fanout: quorum`, ask one
    /// not contacted yet.
    mutating func replaceReadTarget(_ rid: UInt64, _ t: Int, at node: Int, now: SimTime,
                                    rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        guard let op = nodes[node].reads[rid], !op.targets[t].resolved else { return }
        nodes[node].reads[rid]!.targets[t].resolved = true
        guard let next = op.untried.first else { return }
        nodes[node].reads[rid]!.untried.removeFirst()
        let target = op.replicas[next]
        nodes[node].reads[rid]!.targets.append(ReadTarget(node: Int32(target), replica: Int16(next), askedData: false))
        send(.read(rid: rid, key: op.key, data: false, bytes: op.bytes), from: node, to: target,
             sizeBytes: Self.headerBytes, kind: .readRequest, now: now, rng: &rng, effects: &effects)
    }

    /// The newest of the answers so far (`.missing` when no replica has the key).
    func newestAnswer(_ op: ReadOp) -> ReplicaRead {
        var newest = ReplicaRead.missing
        for t in op.targets where t.state == .acked {
            guard case .value(let s, _) = t.result else { continue }
            if case .value(let best, _) = newest, !newer(s, than: best) { continue }
            newest = t.result
        }
        return newest
    }

    /// Whether a replica's answer is older than `newest` (it needs a repair).
    func isStale(_ answer: ReplicaRead, comparedWith newest: ReplicaRead) -> Bool {
        guard case .value(let best, _) = newest else { return false }
        switch answer {
        case .missing: return true
        case .value(let s, _): return newer(best, than: s)
        case .failed: return false
        }
    }

    /// Decides a read once the level is met and the newest value's data is in hand; with
    /// blocking read repair, only after the stale replicas among the answers acknowledged it.
    mutating func progressRead(_ rid: UInt64, at node: Int, now: SimTime,
                               rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        guard let op = nodes[node].reads[rid], !op.replied else { return }
        var answered: [Int] = []
        for t in op.targets where t.state == .acked && !answered.contains(Int(t.replica)) { answered.append(Int(t.replica)) }
        guard op.requirement.isMet(byReplicasIn: answered.map { world.datacenter(of: op.replicas[$0]) }) else {
            if !op.targets.contains(where: { $0.state == .pending }) && op.untried.isEmpty {
                finishRead(rid, .failed, at: node, effects: &effects)
            }
            return
        }
        let newest = newestAnswer(op)
        if case .value(_, let tombstone) = newest, !tombstone,
           !op.targets.contains(where: { $0.state == .acked && $0.hasData && $0.result == newest }) {
            // Digest mismatch: fetch the value from a replica that has the newest version.
            if let h = op.targets.firstIndex(where: { $0.state == .acked && $0.result == newest && !$0.askedData }) {
                nodes[node].reads[rid]!.targets[h].askedData = true
                send(.read(rid: rid, key: op.key, data: true, bytes: op.bytes), from: node, to: Int(op.targets[h].node),
                     sizeBytes: Self.headerBytes, kind: .readRequest, now: now, rng: &rng, effects: &effects)
            }
            return
        }
        nodes[node].reads[rid]!.answer = newest
        if op.plan != .none {
            for t in op.targets.indices where op.targets[t].state == .acked && op.targets[t].repair == .none
                && isStale(op.targets[t].result, comparedWith: newest) {
                sendRepair(rid, t, at: node, now: now, rng: &rng, effects: &effects)
            }
        }
        guard let op = nodes[node].reads[rid] else { return }
        if op.plan == .blocking {
            if op.targets.contains(where: { $0.repair == .pending }) { return }
            if op.targets.contains(where: { $0.repair == .failed }) {
                finishRead(rid, .failed, at: node, effects: &effects)
                return
            }
        }
        let result: ClientResult
        switch newest {
        case .value(let s, let tombstone): result = .found(s, tombstone: tombstone)
        case .missing, .failed: result = .notFound
        }
        finishRead(rid, result, at: node, effects: &effects)
    }

    /// Answers the client; the operation stays while replicas may still answer (late
    /// answers can still be repaired).
    mutating func finishRead(_ rid: UInt64, _ result: ClientResult, at node: Int, effects: inout Effects<Message, Timer>) {
        guard let op = nodes[node].reads[rid], !op.replied else { return }
        effects.reply(op.client, result)
        nodes[node].reads[rid]!.replied = true
        forgetReadIfDone(rid, at: node)
    }

    mutating func forgetReadIfDone(_ rid: UInt64, at node: Int) {
        guard let op = nodes[node].reads[rid], op.replied else { return }
        if !op.targets.contains(where: { $0.state == .pending && !$0.resolved }) { nodes[node].reads[rid] = nil }
    }

    mutating func readReplicaTimeout(_ rid: UInt64, at node: Int, now: SimTime,
                                     rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        guard let op = nodes[node].reads[rid] else { return }
        nodes[node].reads[rid]!.rounds += 1
        if !op.replied {
            for t in op.targets.indices {
                let target = op.targets[t]
                if target.state == .pending && !target.resolved {
                    replaceReadTarget(rid, t, at: node, now: now, rng: &rng, effects: &effects)
                } else if target.state == .acked && target.askedData && !target.hasData {
                    // Asked for the value and silent since: ask another holder.
                    nodes[node].reads[rid]!.targets[t].state = .failed
                }
            }
            if op.plan == .blocking && op.targets.contains(where: { $0.repair == .pending }) {
                // Blocking read repair could not confirm the repair in time: a read timeout.
                finishRead(rid, .failed, at: node, effects: &effects)
            } else {
                progressRead(rid, at: node, now: now, rng: &rng, effects: &effects)
            }
        }
        if let op = nodes[node].reads[rid], op.rounds < Self.replicaTimeoutRounds,
           op.targets.contains(where: { $0.state == .pending && !$0.resolved }) || !op.replied {
            effects.setTimer(after: replicaTimeout, .replicaTimeout(rid: rid))
        }
        forgetReadIfDone(rid, at: node)
    }
}
