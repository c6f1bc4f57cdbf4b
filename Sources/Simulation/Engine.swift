import SimCore
import SimNetwork
import SimConfig
import Replication
import Checker

/// The simulation driver for one strategy: owns the clock, the event queue, the network,
/// the nodes' service queues and disks, the clients, and the measurements.
///
/// One thread, one explicit loop: pop the earliest event, advance the clock to it, handle
/// it, repeat until the run's duration. A strategy's actions are performed here — a send
/// goes through the network model, a store through the node's service queue, a reply back
/// over the network to the client, a timer into the event queue — so a strategy never sees
/// anything but its inputs. Generic over the strategy, so the compiler specialises the loop
/// for each one (no existential dispatch per event).
final class Engine<S: ReplicationStrategy> {
    enum Event {
        case arrival
        case deliver(UInt32)          // a wire slot
        case timer(UInt32)            // a timer slot
        case diskDone(UInt32)         // a disk-job slot
        case clientTimeout(OpRef, attempt: UInt16)
        case clientRetry(OpRef)
        case push(device: UInt32, pts: UInt32)   // an update reaches a device (sync)
        case mutation(shard: UInt32, MutationKind)
        case historyRead
        case sample
        case divergenceSnapshot           // replicas compared after the final heal and a quiet period
        case fault(UInt32, begin: Bool)   // a planned fault starts or ends
        case rot(UInt32)                  // a bit-rot event of an active fault
    }

    enum Wire {
        case protocolMessage(from: Int32, to: Int32, S.Message, epoch: UInt32)
        /// A client's request and the coordinator's answer. An answer to any attempt of an
        /// open operation counts (it is the same operation); one to a finished operation is
        /// ignored.
        case request(OpRef, to: Int32)
        case reply(OpRef, ClientResult)
    }

    /// An open client operation, as events and wires name it: its slot in `ops` and the low
    /// 32 bits of its number. A finished operation leaves `ops` at once and its slot is
    /// reused, so a late timeout, retry or reply finds another number there (or nothing)
    /// and is ignored — as it was ignored when every operation was kept.
    struct OpRef: Equatable {
        var slot: UInt32
        var serial: UInt32
    }

    struct DiskJob {
        var node: Int32
        var epoch: UInt32
        var token: UInt64
        var request: StorageRequest
        var arrived: SimTime
        var started: SimTime
    }

    struct PendingTimer {
        var node: Int32
        var epoch: UInt32
        var timer: S.Timer
    }

    /// What happens to a message after it was sent (drawn with the message, see Workload).
    enum MutationKind: UInt8, Comparable {
        case none = 0, edit, delete, expire
        static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    }

    /// A logical shard: one cloud message. 56 bytes (one per message, kept for the whole
    /// run): fields widest first, and stamps kept as versions — the workload's stamps have
    /// tiebreak 0 (`acked` and `written` check it).
    struct Shard {
        /// Newest acknowledged stamp's time.
        var ackedAt: SimTime = .never
        var homeDC: Int32
        var chat: Int32 = -1
        /// Its author and the device it was sent from (edits and deletes come from there).
        var author: Int32 = -1
        var authorDevice: Int32 = -1
        var logicalBytes: Int32
        var storedBytes: Int32
        /// The write, edit or delete in flight (its slot in `ops`; a client never pipelines
        /// on one message).
        var openOp: Int32 = -1
        var ackedVersion: UInt32 = 0
        var writtenVersion: UInt32 = 0
        /// Index of the message class (text, photo…) in the workload's mix.
        var messageClass: UInt8 = 0
        /// A mutation that came due while `openOp` was in flight (issued when it finishes).
        var pending: MutationKind = .none
        /// The newest acknowledged stamp is a delete (or expiry).
        var ackedDeleted = false
        /// A delete or expiry was issued (no edit follows it).
        var deleteIssued = false
        /// The system forgot the acknowledged delete at some point (see `tombstoneRemoved`).
        var resurrected = false

        init(homeDC: Int32, logicalBytes: Int32, storedBytes: Int32, messageClass: UInt8) {
            self.homeDC = homeDC; self.logicalBytes = logicalBytes; self.storedBytes = storedBytes
            self.messageClass = messageClass
        }

        /// Newest acknowledged stamp.
        var acked: Stamp {
            get { Stamp(version: ackedVersion) }
            set { precondition(newValue.tiebreak == 0, "workload stamps have tiebreak 0"); ackedVersion = newValue.version }
        }
        /// Newest stamp written (acknowledged or not).
        var written: Stamp {
            get { Stamp(version: writtenVersion) }
            set { precondition(newValue.tiebreak == 0, "workload stamps have tiebreak 0"); writtenVersion = newValue.version }
        }
    }

    enum OpState: UInt8 { case open, ok, failed, unknown }

    /// Why an operation exists (for the workload figures).
    enum Origin: UInt8 { case message, edit, delete, expiry, sync, catchUp, history }

    /// Fields are declared widest first, so the initialiser is spelled out. Only open
    /// operations are kept (see `ops`).
    struct Operation {
        var key: ShardKey
        var stamp: Stamp
        /// For reads: the newest stamp acknowledged before the read began, and whether it
        /// was a delete.
        var ackedAtIssue: Stamp = .none
        var issued: SimTime
        var ackedAtIssueTime: SimTime = .never
        /// The operation's number: its order of issue in the run (history ids, strategies'
        /// `OperationID.raw`).
        var serial: UInt64 = 0
        var clientDC: Int32
        /// The user and device that issued it (-1: the system, e.g. a self-destruct timer).
        var user: Int32 = -1
        var device: Int32 = -1
        /// Device sync: for a sync read, the update it fetches (an index in `updates`).
        var parent: Int32 = -1
        var attempt: UInt16 = 0
        var retriesLeft: Int16
        var kind: ClientRequest.Kind
        var state: OpState = .open
        var ackedAtIssueDeleted = false
        var origin: Origin = .message

        init(kind: ClientRequest.Kind, key: ShardKey, stamp: Stamp, clientDC: Int32, issued: SimTime, retriesLeft: Int16) {
            self.kind = kind; self.key = key; self.stamp = stamp; self.clientDC = clientDC
            self.issued = issued; self.retriesLeft = retriesLeft
        }
    }

    let scenario: Scenario
    let world: StrategyWorld
    var strategy: S
    var queue = EventQueue<Event>(capacity: 1 << 12)
    var network: Network
    var now = SimTime.zero
    /// When the run stops: the scenario's duration, or the first loss (`stop_at_first_loss`).
    var end: SimTime

    // Random streams, one per component, derived from the root seed by label.
    var netRNG: SimRandom
    var diskRNG: SimRandom
    var strategyRNG: SimRandom
    var clientRNG: SimRandom
    var workload: WorkloadGenerator

    var stations: [ServiceStation<UInt32>]
    var stores: [NodeStore]
    var liveness: NodeLiveness
    var epochs: [UInt32]
    var effects = Effects<S.Message, S.Timer>()
    var spareActions: [Effects<S.Message, S.Timer>.Action] = []
    var wires = Slab<Wire>()
    var timers = Slab<PendingTimer>()
    var jobs = Slab<DiskJob>()
    var shards: [Shard] = []
    /// The open client operations. A finished one leaves at once (memory follows the
    /// operations in flight, not the length of the run); `opsIssued` counts them all.
    var ops = Slab<Operation>()
    var opsIssued: UInt64 = 0
    /// Tests only: when set, every finished operation is appended here, with the time its
    /// client learned the outcome.
    var finishedOps: [(op: Operation, at: SimTime)]? = nil
    var dataPath: DataPath
    var metrics: Metrics
    // Faults: the plan (scripted + random), the per-node state they impose, their stream.
    var plan: [PlannedFault] = []
    var faultState: FaultState
    var faultRNG: SimRandom
    /// Key holders per home DC and key bucket (from the scenario's key placement).
    var keyHolders: [[KeyHolders]]
    var availability: AvailabilityTracker
    /// Every client operation, for the linearizability checker and `history.jsonl`.
    var history = HistoryRecorder(operationsMax: Engine.historyLimit)
    var redundancy: RedundancyTracker
    /// Replicas compared after the final heal and a quiet period (nil until taken).
    var divergence: DivergenceFigures? = nil
    /// Device sync: every update (an acknowledged message, edit or delete of a chat with
    /// members), each user's update sequence (indices in `updates`; pts = position + 1), and
    /// each device's last applied pts.
    var updates: [Update] = []
    var updateLog: [[UInt32]]
    var devicePts: [UInt32]
    /// Each device's user.
    var deviceOwner: [Int32]
    /// A chat's messages in send order (for history reads).
    var chatMessages: [[UInt32]]
    var workloadCounts = WorkloadCounts()
    /// Shards per key group (home DC × key bucket), and whether the group's data key is out
    /// of reach from its home DC (see `reachabilityChanged`).
    var keyGroupShards: [[UInt32]]
    var keyGroupDown: [Bool]
    /// Session guarantees per user and operations per client region (Measure/).
    var sessions = SessionTracker()
    var breakdown = RegionBreakdown()
    var events: UInt64 = 0
    var maxPending = 0

    init(scenario: Scenario, config: StrategyConfig) throws {
        self.scenario = scenario
        let topology = scenario.topology
        world = StrategyWorld(topology: topology)
        strategy = try S(world: world, config: config)
        end = SimTime.zero + scenario.duration
        let dcCount = topology.datacenters.count
        network = Network(links: topology.links.map {
            LinkModel(latency: $0.latency, lossPPM: $0.lossPPM, bandwidthBitsPerSecond: $0.bandwidthBitsPerSecond)
        }, datacenterCount: dcCount, accessLatency: topology.accessLatency)
        for (kind, delay) in scenario.messageDelays {
            // Scenario.messageKinds lists the kinds in MessageKind's order.
            if let i = Scenario.messageKinds.firstIndex(of: kind) { network.kindDelay[i] = delay }
        }
        let seed = scenario.seed
        netRNG = SimRandom(root: seed, label: "network")
        diskRNG = SimRandom(root: seed, label: "disks")
        strategyRNG = SimRandom(root: seed, label: "strategy")
        clientRNG = SimRandom(root: seed, label: "clients")
        workload = WorkloadGenerator(config: scenario.workload, topology: topology,
                                     rng: SimRandom(root: seed, label: "workload"),
                                     syncRNG: SimRandom(root: seed, label: "workload.sync"),
                                     historyRNG: SimRandom(root: seed, label: "workload.history"))
        updateLog = Array(repeating: [], count: workload.users.count)
        devicePts = Array(repeating: 0, count: workload.deviceCount)
        let users = workload.users
        deviceOwner = users.indices.flatMap { u in Array(repeating: Int32(u), count: Int(users[u].devices)) }
        chatMessages = Array(repeating: [], count: workload.chats.count)
        keyGroupShards = Array(repeating: [], count: dcCount * KeyHolders.buckets)
        keyGroupDown = Array(repeating: false, count: dcCount * KeyHolders.buckets)
        stations = topology.nodes.map { ServiceStation(servers: $0.servers, capacity: $0.queueCapacity) }
        stores = Array(repeating: NodeStore(), count: topology.nodes.count)
        liveness = NodeLiveness(count: topology.nodes.count)
        epochs = Array(repeating: 0, count: topology.nodes.count)
        dataPath = try DataPath(scenario: scenario)
        faultState = FaultState(nodes: topology.nodes.count, datacenters: dcCount)
        faultRNG = SimRandom(root: seed, label: "faults")
        keyHolders = try KeyHolders.table(scenario.keyPlacement, topology: topology)
        availability = AvailabilityTracker(start: SimTime.zero + scenario.warmup)
        redundancy = RedundancyTracker(needed: strategy.fragmentsNeededToRead, warmupEnd: SimTime.zero + scenario.warmup)
        plan = try FaultPlanner.plan(scenario, tolerance: strategy.tolerance)
        metrics = Metrics(scenario: scenario, faults: plan)
    }

    // MARK: Run loop

    func run() -> SimulationReport {
        if let first = workload.nextArrival(after: .zero), first < end { queue.schedule(.arrival, at: first) }
        if let first = workload.nextHistoryRead(after: .zero), first < end { queue.schedule(.historyRead, at: first) }
        queue.schedule(.sample, at: SimTime.zero + scenario.sampleInterval)
        availability.setUp(engine: self)
        scheduleFaults()
        scheduleDivergenceSnapshot()
        while let t = queue.peekTime(), t <= end, let (time, event) = queue.pop() {
            now = time
            events &+= 1
            handle(event)
            if queue.count > maxPending { maxPending = queue.count }
            if redundancy.firstLoss != nil && scenario.stopAtFirstLoss && end > now { end = now }
        }
        now = end
        if divergence == nil { takeDivergenceSnapshot() }
        availability.accumulate(to: end)
        redundancy.advance(to: end)
        dataPath.finish()
        return metrics.finish(engine: self)
    }

    func handle(_ event: Event) {
        switch event {
        case .arrival: handleArrival()
        case .deliver(let slot): handleDelivery(wires.remove(slot))
        case .timer(let slot):
            let t = timers.remove(slot)
            let node = Int(t.node)
            guard liveness.isUp(node), epochs[node] == t.epoch else { return }
            strategy.timer(t.timer, at: node, now: clock(node), rng: &strategyRNG, effects: &effects)
            perform(at: node)
        case .diskDone(let slot): handleDiskDone(slot)
        case .clientTimeout(let ref, let attempt): if let i = openOp(ref) { handleTimeout(op: i, attempt: attempt) }
        case .clientRetry(let ref): if let i = openOp(ref) { attempt(op: i) }
        case .push(let device, let pts): handlePush(device: Int(device), pts: pts)
        case .mutation(let shard, let kind): handleMutation(shard: Int(shard), kind)
        case .historyRead: handleHistoryRead()
        case .fault(let index, let begin): handleFault(Int(index), begin: begin)
        case .rot(let index): handleRot(Int(index))
        case .divergenceSnapshot: takeDivergenceSnapshot()
        case .sample:
            metrics.sample(at: now, nodesUp: liveness.up.lazy.filter { $0 }.count, redundancy: redundancy)
            let next = now + scenario.sampleInterval
            if next <= end { queue.schedule(.sample, at: next) }
        }
    }

    // MARK: Workload and clients

    /// A new client operation: numbered, given a slot among the open ones. Returns the slot.
    func issue(_ op: Operation) -> Int {
        var op = op
        op.serial = opsIssued
        opsIssued += 1
        return Int(ops.insert(op))
    }

    /// The slot of the open operation `ref` names, or nil when it finished.
    @inline(__always) func openOp(_ ref: OpRef) -> Int? {
        guard let op = ops.element(at: ref.slot), UInt32(truncatingIfNeeded: op.serial) == ref.serial,
              op.state == .open else { return nil }
        return Int(ref.slot)
    }

    @inline(__always) func ref(_ op: Operation, slot: Int) -> OpRef {
        OpRef(slot: UInt32(slot), serial: UInt32(truncatingIfNeeded: op.serial))
    }

    /// Sends (or re-sends) an operation's request to its coordinator.
    func attempt(op index: Int) {
        var op = ops[UInt32(index)]
        guard op.state == .open else { return }
        op.attempt &+= 1
        if op.attempt == 1, op.kind == .read {
            let shard = shards[Int(op.key.raw)]
            op.ackedAtIssue = shard.acked
            op.ackedAtIssueTime = shard.ackedAt
            op.ackedAtIssueDeleted = shard.ackedDeleted
            op.issued = now
        }
        if op.attempt == 1 { recordInvoke(op); measureBegan(op) }
        ops[UInt32(index)] = op
        let request = clientRequest(for: op, slot: index)
        var clientDC = Int(op.clientDC)
        // Failover: after the first attempt, a client may try the next-nearest DC.
        if op.attempt > 1 && scenario.workload.client.failover {
            let order = [clientDC] + world.nearestDCs[clientDC]
            clientDC = order[Int(op.attempt - 1) % order.count]
        }
        let timeout = scenario.workload.client.timeout
        queue.schedule(.clientTimeout(ref(op, slot: index), attempt: op.attempt), at: now + timeout)
        guard let node = strategy.coordinator(for: request, clientDC: clientDC, up: liveness) else { return }
        let size = (op.kind == .write ? Int(shards[Int(op.key.raw)].storedBytes) : 0) + 64
        let kind: MessageKind = op.kind == .read ? .readRequest : .writeRequest
        let transit = network.send(from: Endpoint(datacenter: Int(op.clientDC), isDevice: true),
                                   to: Endpoint(datacenter: world.datacenter(of: node), isDevice: false),
                                   sizeBytes: size, kind: kind, now: now, rng: &netRNG)
        deliver(.request(ref(op, slot: index), to: Int32(node)), transit)
    }

    func clientRequest(for op: Operation, slot: Int) -> ClientRequest {
        let shard = shards[Int(op.key.raw)]
        let route = OperationID.Route(slot: UInt32(slot), key: UInt32(op.key.raw), clientDC: UInt16(op.clientDC),
                                      isRead: op.kind == .read)
        return ClientRequest(id: OperationID(op.serial, route: route), kind: op.kind, key: op.key, stamp: op.stamp,
                             storedBytes: op.kind == .delete ? Self.tombstoneBytes : Int(shard.storedBytes),
                             homeDC: Int(shard.homeDC))
    }

    func handleTimeout(op index: Int, attempt: UInt16) {
        var op = ops[UInt32(index)]
        guard op.state == .open, op.attempt == attempt else { return }
        if op.retriesLeft > 0 {
            op.retriesLeft -= 1
            ops[UInt32(index)] = op
            metrics.retried(op.kind)
            let base = scenario.workload.client.backoff.nanoseconds
            let exp = min(Int64(op.attempt - 1), 5)
            let backoff = Double(base << exp) * (0.5 + clientRNG.unit())
            queue.schedule(.clientRetry(ref(op, slot: index)), at: now + SimDuration(sampledNanoseconds: backoff))
        } else {
            finish(op: index, state: op.kind == .read ? .failed : .unknown, result: nil)
        }
    }

    func handleReply(_ ref: OpRef, _ result: ClientResult) {
        // A late answer (the client finished already): ignored.
        guard let index = openOp(ref) else { return }
        let op = ops[UInt32(index)]
        switch result {
        case .failed:
            // A definite refusal: retry like a timeout would (after backoff).
            handleTimeout(op: index, attempt: op.attempt)
        case .acknowledged, .found, .notFound:
            finish(op: index, state: .ok, result: result)
        }
    }

    /// The client learned the outcome: the operation is measured and leaves `ops`.
    func finish(op index: Int, state: OpState, result: ClientResult?) {
        var op = ops.remove(UInt32(index))
        op.state = state
        finishedOps?.append((op, now))
        metrics.completed(op: op, state: state, result: result, at: now)
        recordCompletion(op, state: state, result: result)
        measureFinished(op, state: state, result: result)
        if op.kind == .read {
            readFinished(op, state: state, result: result)
            return
        }
        let k = Int(op.key.raw)
        if shards[k].openOp == Int32(index) { shards[k].openOp = -1 }
        if state == .ok {
            if shards[k].acked < op.stamp {
                let previous = shards[k].acked
                shards[k].acked = op.stamp
                shards[k].ackedAt = now
                shards[k].ackedDeleted = op.kind == .delete
                redundancyAcknowledged(k, previous: previous, deleted: op.kind == .delete)
            }
            metrics.acknowledged(op.kind)
            publishUpdate(op)
        }
        issuePendingMutation(shard: k)
    }

    // MARK: Network

    func deliver(_ wire: Wire, _ transit: Transit) {
        switch transit {
        case .delivered(let at):
            queue.schedule(.deliver(wires.insert(wire)), at: at)
        case .duplicated(let first, let second):
            queue.schedule(.deliver(wires.insert(wire)), at: first)
            queue.schedule(.deliver(wires.insert(wire)), at: second)
        case .lost, .blocked:
            break
        }
    }

    func handleDelivery(_ wire: Wire) {
        switch wire {
        case .protocolMessage(let from, let to, let message, _):
            let node = Int(to)
            guard liveness.isUp(node) else { return }
            strategy.receive(message, from: Int(from), at: node, now: clock(node), rng: &strategyRNG, effects: &effects)
            perform(at: node)
        case .request(let ref, let to):
            let node = Int(to)
            guard liveness.isUp(node), let i = openOp(ref) else { return }
            let request = clientRequest(for: ops[UInt32(i)], slot: i)
            strategy.clientRequest(request, at: node, now: clock(node), rng: &strategyRNG, effects: &effects)
            perform(at: node)
        case .reply(let ref, let result):
            handleReply(ref, result)
        }
    }

    // MARK: Performing a strategy's actions

    func perform(at node: Int) {
        guard !effects.actions.isEmpty else { return }
        // Swap buffers instead of copying: the strategy appends into the spare (kept capacity),
        // so no allocation per event; a nested perform (a rejected disk job) just finds none.
        var actions = spareActions
        spareActions = []
        swap(&actions, &effects.actions)
        defer { actions.removeAll(keepingCapacity: true); spareActions = actions }
        for action in actions {
            switch action {
            case .send(let target, let message, let size, let kind):
                let transit = network.send(from: Endpoint(datacenter: world.datacenter(of: node), isDevice: false),
                                           to: Endpoint(datacenter: world.datacenter(of: target), isDevice: false),
                                           sizeBytes: size, kind: kind, now: now, rng: &netRNG)
                deliver(.protocolMessage(from: Int32(node), to: Int32(target), message, epoch: epochs[node]), transit)
            case .store(let request, let token):
                submitDisk(node: node, token: token, request: request)
            case .reply(let id, let result):
                // Routed by the identifier: the client may have finished (a late answer still
                // crosses the network, and is ignored on arrival).
                let route = id.route
                precondition(route.isSet, "a strategy answered operation \(id.raw) with an identifier it did not get from the engine")
                let kind: MessageKind = route.isRead ? .readResponse : .writeAck
                var size = 64
                if case .found = result, route.isRead { size += Int(shards[Int(route.key)].storedBytes) }
                let transit = network.send(from: Endpoint(datacenter: world.datacenter(of: node), isDevice: false),
                                           to: Endpoint(datacenter: Int(route.clientDC), isDevice: true),
                                           sizeBytes: size, kind: kind, now: now, rng: &netRNG)
                let ref = OpRef(slot: route.slot, serial: UInt32(truncatingIfNeeded: id.raw))
                deliver(.reply(ref, result), transit)
            case .setTimer(let delay, let timer):
                let slot = timers.insert(PendingTimer(node: Int32(node), epoch: epochs[node], timer: timer))
                queue.schedule(.timer(slot), at: now + delay)
            }
        }
    }

    // MARK: Disks (node service queues)

    func submitDisk(node: Int, token: UInt64, request: StorageRequest) {
        let slot = jobs.insert(DiskJob(node: Int32(node), epoch: epochs[node], token: token,
                                       request: request, arrived: now, started: now))
        switch stations[node].arrive(slot) {
        case .started: startDisk(slot)
        case .queued: metrics.diskQueued(node: node, waiting: stations[node].waiting)
        case .rejected:
            let job = jobs.remove(slot)
            metrics.diskRejected(node: node)
            complete(job, outcome: .ioError)
        }
    }

    func startDisk(_ slot: UInt32) {
        let node = Int(jobs[slot].node)
        let kind: SimConfig.OperationKind
        switch jobs[slot].request {
        case .put(_, _, _, let tombstone, _), .putLWW(_, _, _, let tombstone): kind = tombstone ? .delete : .write
        case .get: kind = .read
        case .purge, .drop: kind = .delete
        }
        var service = scenario.topology.nodes[node].serviceTime(for: kind).sample(&diskRNG)
        service *= faultState.slowFactor[node]
        jobs[slot].started = now
        queue.schedule(.diskDone(slot), at: now + SimDuration(sampledNanoseconds: service))
    }


    func handleDiskDone(_ slot: UInt32) {
        let job = jobs.remove(slot)
        let node = Int(job.node)
        guard job.epoch == epochs[node] else { return }  // the node crashed meanwhile
        metrics.diskServed(node: node, waited: job.started - job.arrived, response: now - job.arrived)
        if let next = stations[node].complete() { startDisk(next) }
        let shardIndex = Int(job.request.key.raw)
        let unitBefore = redundancyUnit(node: node, key: job.request.key)
        let outcome: StorageCompletion.Outcome
        if let forced = diskFault(job.request, at: node) {
            outcome = forced
        } else {
        switch job.request {
        case .put(let key, let stamp, let bytes, let tombstone, let fragment):
            if let held = stores[node].put(key, stamp, storedBytes: bytes, tombstone: tombstone, fragment: fragment, at: now) {
                outcome = .superseded(held)
            } else {
                outcome = .stored
                if fragment >= 0 && !tombstone { fragmentStored(key: key, version: stamp.version, index: fragment) }
            }
        case .putLWW(let key, let stamp, let bytes, let tombstone):
            if let held = stores[node].putLWW(key, stamp, storedBytes: bytes, tombstone: tombstone, at: now) {
                outcome = .superseded(held)
            } else {
                outcome = .stored
            }
        case .get(let key):
            if let copy = stores[node].get(key) {
                if !dataPath.readIntact(key: key, node: node, copy: copy) {
                    metrics.corruptionDetected()
                    outcome = .missing
                } else {
                    outcome = copy.fragment < 0 ? .found(copy.stamp, tombstone: copy.tombstone)
                        : .foundFragment(copy.stamp, index: Int(copy.fragment), tombstone: copy.tombstone)
                }
            } else {
                outcome = .missing
            }
        case .purge(let key, let upTo):
            outcome = stores[node].remove(key, tombstoneUpTo: upTo) ? .stored : .missing
            if outcome == .stored { tombstoneRemoved(shardIndex) }
        case .drop(let key):
            outcome = stores[node].remove(key) ? .stored : .missing
            if outcome == .stored { tombstoneRemoved(shardIndex) }
        }
        }
        redundancyChanged(node: node, key: job.request.key, before: unitBefore, written: outcome == .stored)
        complete(job, outcome: outcome)
    }

    func complete(_ job: DiskJob, outcome: StorageCompletion.Outcome) {
        let node = Int(job.node)
        strategy.storageCompleted(StorageCompletion(token: job.token, key: job.request.key, outcome: outcome),
                                  at: node, now: now, rng: &strategyRNG, effects: &effects)
        perform(at: node)
    }
}
