import SimCore
import SimNetwork
import SimConfig

/// Chain replication (van Renesse & Schneider, OSDI 2004).
///
/// Protocol: a key's ``Placement`` nodes form a chain, head first. A write enters at the
/// head, which stores it and passes it to its successor; each member stores it and passes it
/// on; the tail stores it, answers the client directly and sends an acknowledgement back up
/// the chain, one hop at a time, so each member can drop the write from its "sent" list
/// (its log). A member retransmits what its successor has not acknowledged after
/// `retransmit_timeout`. Reads go to the tail, which answers from its disk under a lease from
/// every other member: everything on the tail's disk is on every member (linearizable).
///
/// Reconfiguration without an external master: the chain's view (numbered, carried in every
/// message) is changed by the head, or — when the head fails — by the first member that sees
/// every member before it failed. Head failure: the successor becomes head. Tail failure:
/// the predecessor becomes tail and answers for the writes in its log. Middle failure: the
/// predecessor's successor changes. In every case the proposer merges the logs of the
/// members it keeps and re-sends those writes down the new chain, which subsumes the paper's
/// "resend the sent list to the new successor". A returning member is copied up to date by
/// the head and rejoins as the new tail. See ``ViewReplication`` for the shared mechanism and
/// docs/STRATEGIES.md for parameters and limits.
public struct ChainReplication: ViewReplicatedStrategy {
    public typealias Message = ViewReplication.Message
    public typealias Timer = ViewReplication.Timer

    var core: ViewReplication

    public init(world: StrategyWorld, config: StrategyConfig) throws {
        var p = StrategyParameters(config, strategy: "chain")
        let layout = try Placement(&p, world: world, defaultCopies: 3)
        let settings = try ViewReplication.Settings.read(&p, shape: .chain,
                                                         copies: layout.copies, nodes: world.topology.nodes.count)
        try p.finish()
        core = ViewReplication(world: world, layout: layout, settings: settings)
    }

    public var summary: String { "chain \(core.layout.summary) \(core.settings.summary)" }
}
