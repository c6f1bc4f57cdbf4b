import SimConfig

/// The strategies dcsim knows, and the named presets users pick from the command line.
///
/// Adding a strategy: add a folder under `Strategies/` with a type conforming to
/// ``ReplicationStrategy``, and one entry in ``protocols``. The engine opens the entry's
/// type generically, so nothing else changes.
public enum StrategyRegistry {
    /// A protocol family.
    public struct Entry: Sendable {
        public let name: String
        public let summary: String
        public let type: any ReplicationStrategy.Type
    }

    /// A named configuration of a protocol.
    public struct Preset: Sendable {
        public let name: String
        public let protocolName: String
        public let summary: String
        /// Parameters as they would be written in a scenario file.
        public let parameters: [(String, ConfigValue)]
    }

    public static let protocols: [Entry] = [
        Entry(name: "async-primary-backup",
              summary: "home DC acknowledges; copies ship to other DCs in batches after a lag (Telegram-like)",
              type: AsyncPrimaryBackup.self),
        Entry(name: "quorum",
              summary: "Dynamo/Cassandra quorums: N, R/W or consistency levels, hinted handoff, read repair, Merkle anti-entropy, LWW or versions",
              type: Quorum.self),
        Entry(name: "raft",
              summary: "Raft per shard group: leader election, log replication, commit on majority, lease/read-index/log reads",
              type: Raft.self),
        Entry(name: "sync-primary-backup",
              summary: "primary in the home DC acks after all (or a named set of) backups stored the write; view-numbered failover with fencing",
              type: SyncPrimaryBackup.self),
        Entry(name: "chain",
              summary: "chain replication: writes enter at the head, the tail acks and serves reads; the chain reconfigures around failed members",
              type: ChainReplication.self),
        Entry(name: "erasure-coded",
              summary: "Reed-Solomon RS(k, m) fragments on k + m nodes across DCs; ack after ack_fragments, reads decode the nearest k, background repair",
              type: ErasureCoded.self),
        Entry(name: "hybrid",
              summary: "recent messages replicated whole; after transcode_after, encoded to RS(k, m) fragments and the replicas dropped",
              type: Hybrid.self),
    ]

    public static let presets: [Preset] = [
        Preset(name: "async-geo", protocolName: "async-primary-backup",
               summary: "3 copies in 3 DCs, home DC acks, 1 s shipping batches",
               parameters: [("copies", .number(3)), ("batch_interval", .string("1s"))]),
        Preset(name: "single-dc", protocolName: "async-primary-backup",
               summary: "1 copy in the home DC only (a baseline with no geo-redundancy)",
               parameters: [("copies", .number(1))]),
        Preset(name: "quorum-3dc", protocolName: "quorum",
               summary: "N=3 on 3 DCs (ring), R=QUORUM(2) W=QUORUM(2): strong; hinted handoff, blocking read repair",
               parameters: [("copies", .number(3)), ("read_consistency", .string("quorum")),
                            ("write_consistency", .string("quorum"))]),
        Preset(name: "local-quorum", protocolName: "quorum",
               summary: "telegram-5: N=9 (3 each in mia1, ams1, sin), R=W=LOCAL_QUORUM (2 of the 3 in the coordinator's DC): local latency, stale across DCs",
               parameters: [("per_dc", Self.threeByThree), ("read_consistency", .string("local_quorum")),
                            ("write_consistency", .string("local_quorum"))]),
        Preset(name: "each-quorum", protocolName: "quorum",
               summary: "telegram-5: N=9 (3 each in mia1, ams1, sin), W=EACH_QUORUM (2 in every DC = 6) R=LOCAL_QUORUM (2 local): strong, writes wait for every DC",
               parameters: [("per_dc", Self.threeByThree), ("read_consistency", .string("local_quorum")),
                            ("write_consistency", .string("each_quorum"))]),
        Preset(name: "raft-3", protocolName: "raft",
               summary: "Raft groups of 3 members in 3 DCs (ring placement), ReadIndex reads",
               parameters: [("copies", .number(3))]),
        Preset(name: "raft-5", protocolName: "raft",
               summary: "Raft groups of 5 members over 5 DCs (ring placement), ReadIndex reads",
               parameters: [("copies", .number(5))]),
        Preset(name: "sync-2dc", protocolName: "sync-primary-backup",
               summary: "2 copies in 2 DCs (home + nearest) and a witness in a third DC (votes on failover); primary acks after the backup stored it",
               parameters: [("copies", .number(2)), ("ack", .string("all")), ("witnesses", .number(1))]),
        Preset(name: "sync-3dc", protocolName: "sync-primary-backup",
               summary: "3 copies in 3 DCs (home + 2 nearest), primary acks after both backups stored it; reads at the primary",
               parameters: [("copies", .number(3)), ("ack", .string("all"))]),
        Preset(name: "chain-3", protocolName: "chain",
               summary: "chains of 3 members in 3 DCs (home DC at the head, nearest DCs after); reads at the tail",
               parameters: [("copies", .number(3))]),
        Preset(name: "rs-6-3", protocolName: "erasure-coded",
               summary: "RS(6,3): 9 fragments over the home DC and the nearest DCs (1.5x storage), ack after 7, reads decode the nearest 6",
               parameters: [("k", .number(6)), ("m", .number(3))]),
        Preset(name: "rs-4-2", protocolName: "erasure-coded",
               summary: "RS(4,2): 6 fragments over the home DC and the nearest DCs (1.5x storage), ack after 5, reads decode the nearest 4",
               parameters: [("k", .number(4)), ("m", .number(2))]),
        Preset(name: "hybrid", protocolName: "hybrid",
               summary: "3 copies in 3 DCs (ack after 2) for 2 minutes, then RS(4,2) fragments on 6 other nodes and the copies dropped",
               parameters: [("copies", .number(3)), ("ack_copies", .number(2)), ("k", .number(4)), ("m", .number(2)),
                            ("transcode_after", .string("2m"))]),
    ]

    /// Cassandra's canonical NetworkTopologyStrategy layout on telegram-5: 3 replicas in each
    /// of Miami, Amsterdam and Singapore (mia2/ams2 clients coordinate in mia1/ams1).
    static let threeByThree = ConfigValue.map([
        .init(key: "mia1", value: .number(3)), .init(key: "ams1", value: .number(3)), .init(key: "sin", value: .number(3)),
    ])

    /// Resolves a scenario's strategy (a preset or a protocol name, plus overrides) to its
    /// protocol entry and the full parameter list (preset first, overrides after).
    /// - Throws: ``StrategyError`` for an unknown name, with a suggestion.
    public static func resolve(_ config: StrategyConfig) throws -> (entry: Entry, config: StrategyConfig, preset: String?) {
        if let preset = presets.first(where: { $0.name == config.name }),
           let entry = protocols.first(where: { $0.name == preset.protocolName }) {
            let base = preset.parameters.map { StrategyConfig.Parameter(key: $0.0, value: $0.1) }
            return (entry, StrategyConfig(name: entry.name, parameters: base + config.parameters,
                                          location: config.location), preset.name)
        }
        if let entry = protocols.first(where: { $0.name == config.name }) {
            return (entry, config, nil)
        }
        let names = presets.map(\.name) + protocols.map(\.name)
        let hint = didYouMean(config.name, among: names)
        throw StrategyError(strategy: config.name,
                            message: "unknown strategy\(hint); presets: \(presets.map(\.name).joined(separator: ", ")); protocols: \(protocols.map(\.name).joined(separator: ", "))",
                            location: config.location)
    }
}
