import SimCore
import SimNetwork
import SimConfig

/// A strategy that is a thin configuration of ``ViewReplication`` (chain replication and
/// sync primary-backup): it reads its own parameters into `core` and names itself in
/// `summary`; every protocol input is forwarded to the shared core here, once.
protocol ViewReplicatedStrategy: ReplicationStrategy
where Message == ViewReplication.Message, Timer == ViewReplication.Timer {
    var core: ViewReplication { get set }
}

extension ViewReplicatedStrategy {
    public func placement(of key: ShardKey, home: Int) -> [Int] { core.placement(of: key, home: home) }

    public var tolerance: FaultTolerance { core.tolerance }
    /// Reads and writes need the group to be able to install a view: all but the tolerated
    /// failures of the copies up.
    public var replicasToRead: Int { core.layout.copies - core.toleratedFailures }
    public var replicasToWrite: Int { core.layout.copies - core.toleratedFailures }

    public func coordinator(for request: ClientRequest, clientDC: Int, up: NodeLiveness) -> Int? {
        core.coordinator(for: request, clientDC: clientDC, up: up)
    }

    public mutating func clientRequest(_ request: ClientRequest, at node: Int, now: SimTime,
                                       rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        core.clientRequest(request, at: node, now: now, effects: &effects)
    }

    public mutating func receive(_ message: Message, from source: Int, at node: Int, now: SimTime,
                                 rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        core.receive(message, from: source, at: node, now: now, effects: &effects)
    }

    public mutating func timer(_ timer: Timer, at node: Int, now: SimTime,
                               rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        core.timer(timer, at: node, now: now, effects: &effects)
    }

    public mutating func storageCompleted(_ completion: StorageCompletion, at node: Int, now: SimTime,
                                          rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        core.storageCompleted(completion, at: node, now: now, effects: &effects)
    }

    public mutating func nodeDown(_ node: Int, diskLost: Bool, now: SimTime) {
        core.nodeDown(node, diskLost: diskLost, now: now)
    }

    public mutating func nodeUp(_ node: Int, now: SimTime, rng: inout SimRandom, effects: inout Effects<Message, Timer>) {
        core.nodeUp(node, now: now, effects: &effects)
    }
}
