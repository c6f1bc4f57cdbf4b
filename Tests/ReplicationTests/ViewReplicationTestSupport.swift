import XCTest
import SimCore
import SimConfig
@testable import Replication
@testable import Simulation

/// Inspection helpers shared by the sync primary-backup and chain tests.
protocol ViewReplicated: ReplicationStrategy {
    var core: ViewReplication { get }
}
extension SyncPrimaryBackup: ViewReplicated {}
extension ChainReplication: ViewReplicated {}

extension Harness where S: ViewReplicated {
    /// The placement of `key` (home DC 0), primary / head first.
    func placed(_ key: UInt64, home: Int = 0) -> [Int] { strategy.placement(of: ShardKey(key), home: home) }

    /// `count` keys (key 1 first) whose group is key 1's: keys spread over groups by
    /// rendezvous hashing within each DC.
    func groupKeys(_ count: Int, home: Int = 0) -> [UInt64] {
        let target = placed(1, home: home)
        return Array((UInt64(1)...).lazy.filter { self.placed($0, home: home) == target }.prefix(count))
    }

    /// The view `node` holds for `key`'s group, if it knows the group.
    func view(of key: UInt64, home: Int = 0, at node: Int) -> (number: UInt32, members: [Int])? {
        let core = strategy.core
        guard let g = core.directory.ids[placed(key, home: home)], let s = core.nodes[node].slots[g] else { return nil }
        return (core.states[s].view, core.states[s].members)
    }

    /// Whether `node` is the installed (active) leader of `key`'s group.
    func leads(_ key: UInt64, home: Int = 0, at node: Int) -> Bool {
        let core = strategy.core
        guard let g = core.directory.ids[placed(key, home: home)], let s = core.nodes[node].slots[g] else { return false }
        return core.states[s].active && core.states[s].members.first == node
    }

    /// `node`'s log length for `key`'s group.
    func logCount(of key: UInt64, home: Int = 0, at node: Int) -> Int {
        let core = strategy.core
        guard let g = core.directory.ids[placed(key, home: home)], let s = core.nodes[node].slots[g] else { return 0 }
        return core.states[s].log.count
    }

    /// The version `node`'s disk holds for `key` (0 if none).
    func version(_ key: UInt64, at node: Int) -> UInt32 { stored(key, at: node)?.stamp.version ?? 0 }

    /// The node that answered `op`.
    func answerer(_ op: OperationID) -> Int? { replies.first { $0.op == op }?.from }

    /// Runs in small steps until `op` has a reply or `limit` passes.
    mutating func runUntilAnswered(_ op: OperationID, limit: SimDuration = .seconds(30)) {
        let end = now + limit
        while result(op) == nil, step(until: end) {}
    }

    /// Cuts every link between `node` and `others`, both ways.
    mutating func isolate(_ node: Int, from others: [Int]) {
        for o in others where o != node { block(from: node, to: o); block(from: o, to: node) }
    }
}

/// A workload for the "no acknowledged write lost with one failure" tests: writes `keys`
/// keys of key 1's group (two versions each) while `fault` strikes after `faultAfter` writes, runs on,
/// then reads every key back through the protocol and checks each read returns at least
/// the newest acknowledged version.
func checkNoAcknowledgedWriteLost<S: ViewReplicated>(
    _ type: S.Type, parameters: [(String, ConfigValue)], keys: UInt64 = 12, faultAfter: UInt64 = 5,
    fault: (inout Harness<S>) -> Void, label: String, file: StaticString = #filePath, line: UInt = #line
) throws {
    var h = try Harness<S>(parameters: parameters)
    var acked: [UInt64: UInt32] = [:]
    var ops: [(key: UInt64, version: UInt32, op: OperationID)] = []
    let groupKeys = h.groupKeys(Int(keys))
    for (i, k) in groupKeys.enumerated() {
        if i == faultAfter { fault(&h) }
        for v in UInt32(1)...2 {
            ops.append((k, v, h.write(key: k, version: v)))
            h.run(for: .milliseconds(150))
        }
    }
    h.run(for: .seconds(20))
    for (k, v, op) in ops where h.result(op) == .acknowledged { acked[k] = max(acked[k] ?? 0, v) }
    XCTAssertGreaterThanOrEqual(acked.count, Int(faultAfter), "\(label): the writes before the fault are acknowledged", file: file, line: line)
    for (k, v) in acked.sorted(by: { $0.key < $1.key }) {
        var op = h.read(key: k)
        h.runUntilAnswered(op)
        // A client that gets no answer retries, failing over to the DCs of the other members.
        for dc in h.placed(k).map({ h.world.datacenter(of: $0) }).dropFirst() where h.result(op) == nil || h.result(op) == .failed {
            op = h.read(key: k, clientDC: dc)
            h.runUntilAnswered(op)
        }
        guard case .found(let stamp, _)? = h.result(op) else {
            XCTFail("\(label): key \(k) acked at v\(v) reads \(String(describing: h.result(op)))", file: file, line: line)
            continue
        }
        XCTAssertGreaterThanOrEqual(stamp.version, v, "\(label): key \(k) lost its acknowledged version", file: file, line: line)
    }
}
