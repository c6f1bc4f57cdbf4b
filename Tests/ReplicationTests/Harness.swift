import SimCore
import SimNetwork
import SimConfig
@testable import Replication
@testable import Simulation

/// A tiny deterministic driver for one strategy, for unit tests: fixed (or per-pair) message
/// latency, a disk per node with a fixed service time (the engine's own `NodeStore`, so
/// stamps, tombstones, LWW and fragments behave exactly as in a real run), node crashes with
/// or without disk loss, blocked links (one-way), per-node clock skew, and recorded client
/// replies and sent messages.
///
/// It is not the engine: no service queues, no bandwidth, no client retries — a test drives
/// those decisions itself (e.g. re-submits after a `.failed`). What it gives is full control
/// of ordering and failures, so protocol corner cases can be set up by hand.
///
///     var h = try Harness<Quorum>(parameters: [("copies", .number(3))])
///     let op = h.write(key: 1, version: 1, clientDC: 0)
///     h.run(for: .seconds(1))
///     XCTAssertEqual(h.result(op), .acknowledged)
struct Harness<S: ReplicationStrategy> {
    enum Event {
        case deliver(from: Int, to: Int, S.Message)
        case request(node: Int, ClientRequest)
        case reply(OperationID, ClientResult, from: Int)
        case timer(node: Int, epoch: UInt32, S.Timer)
        case disk(node: Int, epoch: UInt32, token: UInt64, StorageRequest)
    }

    struct Sent {
        var time: SimTime
        var from: Int
        var to: Int
        var kind: MessageKind
        var bytes: Int
        var delivered: Bool
    }

    var strategy: S
    let world: StrategyWorld
    var now = SimTime.zero
    var queue = EventQueue<Event>()
    var rng: SimRandom
    var effects = Effects<S.Message, S.Timer>()
    var liveness: NodeLiveness
    var epochs: [UInt32]
    var disks: [NodeStore]
    /// Directed node pairs whose messages are dropped.
    var blocked: Set<[Int]> = []
    /// Message latency between nodes in the same DC, and between DCs.
    var localLatency = SimDuration.milliseconds(1)
    var remoteLatency = SimDuration.milliseconds(20)
    /// Client ↔ coordinator latency.
    var clientLatency = SimDuration.milliseconds(5)
    var diskTime = SimDuration.milliseconds(1)
    /// Per-node clock offset (the node's `now` = true time + skew).
    var skew: [SimDuration]
    /// Every client reply, in arrival order.
    var replies: [(op: OperationID, result: ClientResult, time: SimTime, from: Int)] = []
    var sent: [Sent] = []
    var ioErrorNodes: Set<Int> = []
    private var nextOp: UInt64 = 0

    /// A harness on a built-in topology (default telegram-5) with the strategy's parameters.
    init(topology: String = "telegram-5", parameters: [(String, ConfigValue)] = [], seed: UInt64 = 1) throws {
        let topo = try ConfigLoader.builtinTopology(named: topology)
        world = StrategyWorld(topology: topo)
        strategy = try S(world: world, config: StrategyConfig(name: "test", parameters: parameters.map {
            StrategyConfig.Parameter(key: $0.0, value: $0.1)
        }))
        rng = SimRandom(root: seed, label: "harness")
        let n = topo.nodes.count
        liveness = NodeLiveness(count: n)
        epochs = Array(repeating: 0, count: n)
        disks = Array(repeating: NodeStore(), count: n)
        skew = Array(repeating: .zero, count: n)
    }

    // MARK: Clients

    mutating func makeID() -> OperationID { defer { nextOp += 1 }; return OperationID(nextOp) }

    /// Submits `request` from a client in `clientDC` to the strategy's coordinator; returns
    /// the coordinator, or nil when the strategy names none (the client would fail over).
    @discardableResult
    mutating func submit(_ request: ClientRequest, clientDC: Int) -> Int? {
        guard let node = strategy.coordinator(for: request, clientDC: clientDC, up: liveness) else { return nil }
        submit(request, at: node)
        return node
    }

    /// Submits `request` directly to `node`.
    mutating func submit(_ request: ClientRequest, at node: Int) {
        _ = queue.schedule(.request(node: node, request), at: now + clientLatency)
    }

    /// A write (or edit) of `key` at `version`, from a client in `clientDC`.
    @discardableResult
    mutating func write(key: UInt64, version: UInt32 = 1, bytes: Int = 1000, home: Int = 0, clientDC: Int = 0) -> OperationID {
        let id = makeID()
        submit(ClientRequest(id: id, kind: .write, key: ShardKey(key), stamp: Stamp(version: version),
                             storedBytes: bytes, homeDC: home), clientDC: clientDC)
        return id
    }

    /// A delete of `key` (a tombstone at `version`).
    @discardableResult
    mutating func delete(key: UInt64, version: UInt32, home: Int = 0, clientDC: Int = 0) -> OperationID {
        let id = makeID()
        submit(ClientRequest(id: id, kind: .delete, key: ShardKey(key), stamp: Stamp(version: version),
                             storedBytes: 0, homeDC: home), clientDC: clientDC)
        return id
    }

    /// A read of `key`.
    @discardableResult
    mutating func read(key: UInt64, home: Int = 0, clientDC: Int = 0) -> OperationID {
        let id = makeID()
        submit(ClientRequest(id: id, kind: .read, key: ShardKey(key), stamp: .none, storedBytes: 0, homeDC: home),
               clientDC: clientDC)
        return id
    }

    /// The first reply to `op`, if any.
    func result(_ op: OperationID) -> ClientResult? { replies.first { $0.op == op }?.result }

    // MARK: Faults

    mutating func crash(_ node: Int, diskLost: Bool = false) {
        guard liveness.up[node] else { return }
        liveness.up[node] = false
        epochs[node] &+= 1
        if diskLost { disks[node].loseEverything() }
        strategy.nodeDown(node, diskLost: diskLost, now: clock(node))
    }

    mutating func restart(_ node: Int) {
        guard !liveness.up[node] else { return }
        liveness.up[node] = true
        strategy.nodeUp(node, now: clock(node), rng: &rng, effects: &effects)
        perform(at: node)
    }

    /// Crashes every node of DC `dc`.
    mutating func crashDC(_ dc: Int, diskLost: Bool = false) { for n in world.nodesByDC[dc] { crash(n, diskLost: diskLost) } }
    mutating func restartDC(_ dc: Int) { for n in world.nodesByDC[dc] { restart(n) } }

    /// Drops messages from `a` to `b` (one way) until healed.
    mutating func block(from a: Int, to b: Int) { blocked.insert([a, b]) }
    /// Cuts every link between the two DC sets, both ways.
    mutating func partition(_ side: [Int], _ other: [Int]) {
        for x in side { for y in other { for a in world.nodesByDC[x] { for b in world.nodesByDC[y] {
            blocked.insert([a, b]); blocked.insert([b, a])
        } } } }
    }
    mutating func heal() { blocked.removeAll() }

    // MARK: Running

    func clock(_ node: Int) -> SimTime { now + skew[node] }

    func latency(_ a: Int, _ b: Int) -> SimDuration {
        world.datacenter(of: a) == world.datacenter(of: b) ? localLatency : remoteLatency
    }

    /// Runs events until `duration` of simulated time has passed.
    mutating func run(for duration: SimDuration) { run(until: now + duration) }

    mutating func run(until end: SimTime) {
        while let t = queue.peekTime(), t <= end, let (time, event) = queue.pop() {
            now = time
            handle(event)
        }
        now = end
    }

    /// Handles the next event if it is due by `end` (for checking an invariant after every
    /// event); returns false, with the clock at `end`, when none is.
    mutating func step(until end: SimTime) -> Bool {
        guard let t = queue.peekTime(), t <= end, let (time, event) = queue.pop() else { now = end; return false }
        now = time
        handle(event)
        return true
    }

    /// Runs until no event is pending (or `limit` passes — timers may re-arm forever).
    mutating func runUntilQuiet(limit: SimDuration = .seconds(600)) {
        let end = now + limit
        run(until: end)
    }

    mutating func handle(_ event: Event) {
        switch event {
        case .deliver(let from, let to, let message):
            guard liveness.isUp(to) else { return }
            strategy.receive(message, from: from, at: to, now: clock(to), rng: &rng, effects: &effects)
            perform(at: to)
        case .request(let node, let request):
            guard liveness.isUp(node) else { return }
            strategy.clientRequest(request, at: node, now: clock(node), rng: &rng, effects: &effects)
            perform(at: node)
        case .reply(let op, let result, let from):
            replies.append((op, result, now, from))
        case .timer(let node, let epoch, let timer):
            guard liveness.isUp(node), epochs[node] == epoch else { return }
            strategy.timer(timer, at: node, now: clock(node), rng: &rng, effects: &effects)
            perform(at: node)
        case .disk(let node, let epoch, let token, let request):
            guard epochs[node] == epoch else { return }
            let outcome = apply(request, at: node)
            strategy.storageCompleted(StorageCompletion(token: token, key: request.key, outcome: outcome),
                                      at: node, now: clock(node), rng: &rng, effects: &effects)
            perform(at: node)
        }
    }

    mutating func apply(_ request: StorageRequest, at node: Int) -> StorageCompletion.Outcome {
        if ioErrorNodes.contains(node) { return .ioError }
        switch request {
        case .put(let key, let stamp, let bytes, let tombstone, let fragment):
            if let held = disks[node].put(key, stamp, storedBytes: bytes, tombstone: tombstone, fragment: fragment) { return .superseded(held) }
            return .stored
        case .putLWW(let key, let stamp, let bytes, let tombstone):
            if let held = disks[node].putLWW(key, stamp, storedBytes: bytes, tombstone: tombstone) { return .superseded(held) }
            return .stored
        case .get(let key):
            guard let c = disks[node].get(key), !c.corrupt else { return .missing }
            return c.fragment < 0 ? .found(c.stamp, tombstone: c.tombstone)
                : .foundFragment(c.stamp, index: Int(c.fragment), tombstone: c.tombstone)
        case .purge(let key, let upTo):
            return disks[node].remove(key, tombstoneUpTo: upTo) ? .stored : .missing
        case .drop(let key):
            return disks[node].remove(key) ? .stored : .missing
        }
    }

    mutating func perform(at node: Int) {
        let actions = effects.actions
        effects.removeAll()
        for action in actions {
            switch action {
            case .send(let target, let message, let size, let kind):
                let ok = !blocked.contains([node, target])
                sent.append(Sent(time: now, from: node, to: target, kind: kind, bytes: size, delivered: ok))
                if ok { _ = queue.schedule(.deliver(from: node, to: target, message), at: now + latency(node, target)) }
            case .store(let request, let token):
                _ = queue.schedule(.disk(node: node, epoch: epochs[node], token: token, request), at: now + diskTime)
            case .reply(let op, let result):
                _ = queue.schedule(.reply(op, result, from: node), at: now + clientLatency)
            case .setTimer(let delay, let timer):
                _ = queue.schedule(.timer(node: node, epoch: epochs[node], timer), at: now + delay)
            }
        }
    }

    // MARK: Inspection

    /// The copy `node`'s disk holds for `key`.
    func stored(_ key: UInt64, at node: Int) -> NodeStore.Copy? { disks[node].get(ShardKey(key)) }

    /// Nodes holding an intact, non-tombstone copy of `key` at `version` or newer.
    func holders(of key: UInt64, atLeast version: UInt32) -> [Int] {
        disks.indices.filter { n in
            guard let c = disks[n].get(ShardKey(key)), !c.corrupt else { return false }
            return c.stamp.version >= version
        }
    }

    /// Messages sent of `kind` (count, bytes).
    func traffic(_ kind: MessageKind) -> (messages: Int, bytes: Int) {
        sent.reduce((0, 0)) { $1.kind == kind ? ($0.0 + 1, $0.1 + $1.bytes) : $0 }
    }
}
