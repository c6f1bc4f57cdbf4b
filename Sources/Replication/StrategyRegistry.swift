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
        Entry(name: "raft",
              summary: "Raft per shard group: leader election, log replication, commit on majority, lease/read-index/log reads",
              type: Raft.self),
    ]

    public static let presets: [Preset] = [
        Preset(name: "async-geo", protocolName: "async-primary-backup",
               summary: "3 copies in 3 DCs, home DC acks, 1 s shipping batches",
               parameters: [("copies", .number(3)), ("batch_interval", .string("1s"))]),
        Preset(name: "single-dc", protocolName: "async-primary-backup",
               summary: "1 copy in the home DC only (a baseline with no geo-redundancy)",
               parameters: [("copies", .number(1))]),
        Preset(name: "raft-3", protocolName: "raft",
               summary: "Raft groups of 3 members in 3 DCs (ring placement), ReadIndex reads",
               parameters: [("copies", .number(3))]),
        Preset(name: "raft-5", protocolName: "raft",
               summary: "Raft groups of 5 members over 5 DCs (ring placement), ReadIndex reads",
               parameters: [("copies", .number(5))]),
    ]

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
