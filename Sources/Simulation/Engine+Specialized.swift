import SimConfig
import Replication

// Why this file exists: `StrategyRegistry` hands the simulator an existential metatype
// (`any ReplicationStrategy.Type`). Opening it generically runs `Engine<S>` as *unspecialised*
// generic code: every access to `Engine<S>.Operation`, `Event`, `Wire`, the event queue and the
// strategy's `Message`/`Timer` goes through runtime metadata lookups and value witnesses
// (`swift_getGenericMetadata` was a third of a sizes-mode run's time). Naming each concrete
// strategy type here gives the compiler a call site per strategy, so it specialises the whole
// engine for it. A registry entry not listed here still runs (generically, slower).

extension Simulator {
    /// Builds the engine for `type`, specialised for every strategy dcsim ships.
    static func openSpecialized(_ type: any ReplicationStrategy.Type, scenario: Scenario,
                                config: StrategyConfig) throws -> () -> SimulationReport {
        switch type {
        case is AsyncPrimaryBackup.Type: return try open(AsyncPrimaryBackup.self, scenario: scenario, config: config)
        case is Quorum.Type: return try open(Quorum.self, scenario: scenario, config: config)
        case is Raft.Type: return try open(Raft.self, scenario: scenario, config: config)
        case is SyncPrimaryBackup.Type: return try open(SyncPrimaryBackup.self, scenario: scenario, config: config)
        case is ChainReplication.Type: return try open(ChainReplication.self, scenario: scenario, config: config)
        case is ErasureCoded.Type: return try open(ErasureCoded.self, scenario: scenario, config: config)
        case is Hybrid.Type: return try open(Hybrid.self, scenario: scenario, config: config)
        default: return try open(type, scenario: scenario, config: config)
        }
    }
}
