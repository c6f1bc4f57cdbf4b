import XCTest
import SimCore
import SimConfig
@testable import Replication

// MARK: - Raft test support: invariant checker, a retrying client, and harness helpers

extension Harness where S == Raft {
    /// A key of `group` (the smallest at or above `from`).
    func key(inGroup group: Int, from: UInt64 = 1) -> UInt64 {
        var k = from
        while strategy.groupOf(ShardKey(k)) != group { k += 1 }
        return k
    }

    func members(ofKey key: UInt64) -> [Int] { strategy.members(ofGroup: strategy.groupOf(ShardKey(key))) }
    func leader(ofKey key: UInt64) -> Int? { strategy.leader(ofGroup: strategy.groupOf(ShardKey(key))) }
    func view(_ key: UInt64, at node: Int) -> Raft.MemberView {
        strategy.member(group: strategy.groupOf(ShardKey(key)), node: node)!
    }

    /// Runs event by event until `end`, calling `check` after each one.
    mutating func run(until end: SimTime, checking check: (inout Self) -> Void) {
        while let t = queue.peekTime(), t <= end, let (time, event) = queue.pop() {
            now = time
            handle(event)
            check(&self)
        }
        now = end
    }

    /// Submits a request straight to `node` with a given operation id.
    mutating func submit(_ kind: ClientRequest.Kind, key: UInt64, version: UInt32 = 0, id: OperationID, at node: Int) {
        submit(ClientRequest(id: id, kind: kind, key: ShardKey(key), stamp: Stamp(version: version),
                             storedBytes: kind == .write ? 1000 : 0, homeDC: 0), at: node)
    }
}

/// Checks Raft's safety properties on the live state of every member after every event:
/// election safety (at most one leader per term), that a committed entry is never lost or
/// changed (every member's committed prefix agrees with one growing list per group, and a
/// log never loses a checked entry unless its disk was lost), and leader completeness (a
/// member that becomes leader holds every entry committed so far).
struct RaftChecker {
    var leaderOfTerm: [[UInt64: Int]]
    var committed: [[Raft.Entry]]
    /// Per replica: entries of its log already compared with `committed`, and the
    /// incarnation they belong to.
    var verified: [Int]
    var incarnation: [UInt64]
    var violations: [String] = []
    var leadersSeen = 0

    init(_ raft: Raft) {
        leaderOfTerm = Array(repeating: [:], count: raft.groups)
        committed = Array(repeating: [], count: raft.groups)
        verified = Array(repeating: 0, count: raft.replicas.count)
        incarnation = raft.replicas.map(\.incarnation)
    }

    mutating func fail(_ s: String) { if violations.count < 20 { violations.append(s) } }

    mutating func check(_ raft: Raft) {
        for r in raft.replicas.indices {
            let rep = raft.replicas[r]
            let g = Int(rep.group)
            if rep.incarnation != incarnation[r] {
                // Disk lost: the member starts over (it is not a voter until re-added).
                incarnation[r] = rep.incarnation
                verified[r] = 0
            }
            if rep.log.count < verified[r] {
                fail("group \(g) node \(rep.node): log shrank to \(rep.log.count) below checked committed prefix \(verified[r])")
                verified[r] = rep.log.count
            }
            let c = Swift.min(rep.commitIndex, rep.log.count)
            if rep.commitIndex > rep.log.count { fail("group \(g) node \(rep.node): commit \(rep.commitIndex) beyond log \(rep.log.count)") }
            if rep.applied > rep.commitIndex { fail("group \(g) node \(rep.node): applied \(rep.applied) beyond commit \(rep.commitIndex)") }
            if c > verified[r] {
                for i in verified[r]..<c {
                    if i < committed[g].count {
                        if rep.log[i] != committed[g][i] {
                            fail("group \(g) node \(rep.node): committed entry \(i + 1) is \(rep.log[i]) but was \(committed[g][i])")
                        }
                    } else {
                        committed[g].append(rep.log[i])
                    }
                }
                verified[r] = c
            }
            if rep.role == .leader {
                if let other = leaderOfTerm[g][rep.term] {
                    if other != Int(rep.node) { fail("group \(g): two leaders in term \(rep.term): nodes \(other) and \(rep.node)") }
                } else {
                    leaderOfTerm[g][rep.term] = Int(rep.node)
                    leadersSeen += 1
                    // Leader completeness: every entry committed so far is in its log.
                    let known = committed[g]
                    if rep.log.count < known.count || !rep.log.prefix(known.count).elementsEqual(known) {
                        fail("group \(g): node \(rep.node) leads term \(rep.term) without all \(known.count) committed entries (log \(rep.log.count))")
                    }
                }
            }
        }
    }

    /// After the final heal: every live member of every group applied the same committed
    /// prefix, and is a voter again.
    func checkConverged(_ raft: Raft, up: NodeLiveness, file: StaticString = #filePath, line: UInt = #line, _ context: String) {
        for g in 0..<raft.groups {
            let members = raft.members(ofGroup: g)
            guard let leader = raft.leader(ofGroup: g), let lv = raft.member(group: g, node: leader) else {
                XCTFail("\(context): group \(g) has no leader after healing", file: file, line: line); continue
            }
            for node in members where up.isUp(node) {
                let v = raft.member(group: g, node: node)!
                XCTAssertEqual(v.commitIndex, lv.commitIndex, "\(context): group \(g) node \(node) commit", file: file, line: line)
                XCTAssertEqual(v.applied, v.commitIndex, "\(context): group \(g) node \(node) applied", file: file, line: line)
                XCTAssertTrue(v.log.prefix(v.commitIndex).elementsEqual(lv.log.prefix(v.commitIndex)),
                              "\(context): group \(g) node \(node) committed log differs", file: file, line: line)
                XCTAssertTrue(v.isVoter, "\(context): group \(g) node \(node) is not a voter again (config \(v.config), incarnation \(v.incarnation))",
                              file: file, line: line)
            }
        }
    }
}

/// A client population for harness runs: one writer per key issuing increasing versions
/// (the next only after the previous is acknowledged), readers, retries after `.failed`
/// or a timeout; it records what a linearizability check of a register needs.
struct RetryingClient {
    struct Op {
        var id: OperationID
        var kind: ClientRequest.Kind
        var key: UInt64
        var version: UInt32
        var start: SimTime
        var lastSent: SimTime
        var retryAt: SimTime?
        var end: SimTime?
        var result: ClientResult?
    }

    var keys: [UInt64]
    var ops: [Op] = []
    var open: [Int] = []
    /// Per key: the version of the write in flight or last acknowledged.
    var writeVersion: [UInt64: UInt32] = [:]
    var writing: Set<UInt64> = []
    var repliesSeen = 0
    /// Whether new operations are issued (off while draining at the end of a run).
    var issuing = true
    var nextID: UInt64 = 1_000_000
    let timeout = SimDuration.seconds(3)

    init(keys: [UInt64]) { self.keys = keys }

    mutating func issue(_ kind: ClientRequest.Kind, key: UInt64, version: UInt32, h: inout Harness<Raft>, clientDC: Int) {
        let id = OperationID(nextID); nextID += 1
        ops.append(Op(id: id, kind: kind, key: key, version: version, start: h.now, lastSent: h.now))
        open.append(ops.count - 1)
        send(ops.count - 1, h: &h, clientDC: clientDC)
    }

    func send(_ i: Int, h: inout Harness<Raft>, clientDC: Int) {
        let o = ops[i]
        h.submit(ClientRequest(id: o.id, kind: o.kind, key: ShardKey(o.key), stamp: Stamp(version: o.version),
                               storedBytes: o.kind == .write ? 800 : 0, homeDC: 0), clientDC: clientDC)
    }

    /// One client tick: consume replies, retry, and issue new operations.
    mutating func tick(h: inout Harness<Raft>, rng: inout SimRandom) {
        while repliesSeen < h.replies.count {
            let reply = h.replies[repliesSeen]; repliesSeen += 1
            guard let i = open.first(where: { ops[$0].id == reply.op }) else { continue }
            if reply.result == .failed {
                if ops[i].retryAt == nil { ops[i].retryAt = h.now + .milliseconds(100) }
                continue
            }
            ops[i].end = reply.time
            ops[i].result = reply.result
            open.removeAll { $0 == i }
            if ops[i].kind == .write { writing.remove(ops[i].key) }
        }
        for i in open {
            let due = ops[i].retryAt.map { h.now >= $0 } ?? (h.now - ops[i].lastSent >= timeout)
            if due {
                ops[i].retryAt = nil
                ops[i].lastSent = h.now
                send(i, h: &h, clientDC: Int(rng.below(5)))
            }
        }
        guard issuing else { return }
        for key in keys where !writing.contains(key) && rng.chance(ppm: 300_000) {
            let v = (writeVersion[key] ?? 0) + 1
            writeVersion[key] = v
            writing.insert(key)
            issue(.write, key: key, version: v, h: &h, clientDC: Int(rng.below(5)))
        }
        if rng.chance(ppm: 500_000), let key = rng.element(of: keys) {
            issue(.read, key: key, version: 0, h: &h, clientDC: Int(rng.below(5)))
        }
    }

    var acknowledgedWrites: [Op] { ops.filter { $0.kind == .write && $0.result == .acknowledged } }
    var completedReads: [Op] { ops.filter { $0.kind == .read && $0.result != nil } }

    /// Linearizability of each key as a register written with increasing versions by one
    /// writer: a read returns at least the newest version acknowledged before it started,
    /// at most the newest version whose write started before it ended, and reads that do
    /// not overlap never go backwards.
    func linearizabilityViolations() -> [String] {
        var out: [String] = []
        func version(_ r: ClientResult?) -> UInt32 {
            if case .found(let s, _) = r { return s.version }
            return 0
        }
        for key in keys {
            let writes = ops.filter { $0.kind == .write && $0.key == key }
            let reads = ops.filter { $0.kind == .read && $0.key == key && $0.end != nil }.sorted { $0.start < $1.start }
            for r in reads {
                let v = version(r.result)
                let mustSee = writes.filter { $0.result == .acknowledged && $0.end! < r.start }.map(\.version).max() ?? 0
                let mayInvoke = writes.filter { $0.start < r.end! }.map(\.version).max() ?? 0
                if v < mustSee { out.append("key \(key): read at \(r.start) saw v\(v), but v\(mustSee) was acknowledged before it began") }
                if v > mayInvoke { out.append("key \(key): read saw v\(v) before that write began") }
                for earlier in reads where earlier.end! < r.start && version(earlier.result) > v {
                    out.append("key \(key): read at \(r.start) saw v\(v) after an earlier read saw v\(version(earlier.result))")
                    break
                }
            }
        }
        return out
    }
}
