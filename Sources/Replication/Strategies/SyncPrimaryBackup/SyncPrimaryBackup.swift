import SimCore
import SimNetwork
import SimConfig

/// Synchronous primary-backup replication.
///
/// Protocol: the primary (the first node of the key's ``Placement``, in the home DC by
/// default) stores each write and sends it to every backup at once; it acknowledges the
/// client when its own copy and the backups named by `ack` have stored it — all of them
/// (`ack: all`, the default), any `k` of them (`ack: 2`), or every member in the named DCs
/// (`ack: [fra, ams1]`). Unacknowledged writes are retransmitted after `retransmit_timeout`.
/// Reads go to the primary, which answers from its disk under a lease from every backup,
/// after any in-flight write to the same key is acknowledged (linearizable); `read: any`
/// answers at the replica the client reaches (nearest), possibly stale.
///
/// Failures: views are numbered and carried in every message. When the primary fails, the
/// next member in view order that sees every member before it failed proposes the next view
/// with itself as primary, collects the logs of the members it keeps (which must meet every
/// possible ack set, so it holds every acknowledged write), re-sends them, and takes over.
/// A returning old primary is fenced: backups refuse its lower view, and it cannot read
/// without a fresh lease, which carries the news that it was replaced. A returning node is
/// copied up to date and appended as the last backup. See ``ViewReplication`` for the shared
/// mechanism and docs/STRATEGIES.md for parameters and limits.
public struct SyncPrimaryBackup: ViewReplicatedStrategy {
    public typealias Message = ViewReplication.Message
    public typealias Timer = ViewReplication.Timer

    var core: ViewReplication
    let ackText: String
    let readAny: Bool

    public init(world: StrategyWorld, config: StrategyConfig) throws {
        var p = StrategyParameters(config, strategy: "sync-primary-backup")
        let layout = try Placement(&p, world: world, defaultCopies: 3)
        let (ack, text) = try Self.ackRule(&p, world: world, copies: layout.copies)
        let read = try p.choice("read", default: "primary", allowed: ["primary", "any"])
        let settings = try ViewReplication.Settings.read(&p, shape: .primaryBackup(ack: ack, readAny: read == "any"),
                                                         copies: layout.copies, nodes: world.topology.nodes.count)
        try p.finish()
        core = ViewReplication(world: world, layout: layout, settings: settings)
        ackText = text
        readAny = read == "any"
    }

    /// Parses `ack: all | k | [dc, …]`.
    static func ackRule(_ p: inout StrategyParameters, world: StrategyWorld, copies: Int) throws -> (ViewReplication.AckRule, String) {
        guard let param = p.raw("ack") else { return (.all, "all") }
        let dcIDs = world.topology.datacenters.map(\.id)
        let usage = "use all, a number of backups (1…\(max(1, copies - 1))), or a list of DC ids such as [\(dcIDs.prefix(2).joined(separator: ", "))]"
        func datacenter(_ name: String) throws -> Int {
            guard let dc = world.topology.datacenterIndex(named: name) else {
                throw ConfigErrors([param.error("unknown datacenter '\(name)'\(didYouMean(name, among: dcIDs)); allowed: \(dcIDs.joined(separator: ", "))")])
            }
            return dc
        }
        switch param.value {
        case .string("all"):
            return (.all, "all")
        case .number:
            guard copies > 1 else { throw ConfigErrors([param.error("a count needs at least 2 copies (there are \(copies)); \(usage)")]) }
            let k = try param.integer(in: 1...(copies - 1))
            return (.count(k), "\(k)")
        case .list(let items):
            guard !items.isEmpty else { throw ConfigErrors([param.error("the list of DCs is empty; \(usage)")]) }
            var dcs: [Int] = []
            for item in items {
                guard case .string(let name) = item else { throw ConfigErrors([param.error("'\(item)' is not a DC id; \(usage)")]) }
                let dc = try datacenter(name)
                if !dcs.contains(dc) { dcs.append(dc) }
            }
            return (.datacenters(dcs), "[" + dcs.map { dcIDs[$0] }.joined(separator: ", ") + "]")
        case .string(let name):
            if world.topology.datacenterIndex(named: name) != nil { return (.datacenters([try datacenter(name)]), "[\(name)]") }
            throw ConfigErrors([param.error("'\(name)' is not allowed; \(usage)")])
        default:
            throw ConfigErrors([param.error("'\(param.value)' is not allowed; \(usage)")])
        }
    }

    public var summary: String {
        "sync-primary-backup \(core.layout.summary) ack=\(ackText) read=\(readAny ? "any" : "primary") \(core.settings.summary)"
    }
}
