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
                                config: StrategyConfig, payloadThreads: Int) throws -> () -> SimulationReport {
        func make<S: ReplicationStrategy>(_ t: S.Type) throws -> () -> SimulationReport {
            try open(t, scenario: scenario, config: config, payloadThreads: payloadThreads)
        }
        switch type {
        case is AsyncPrimaryBackup.Type: return try make(AsyncPrimaryBackup.self)
        case is Quorum.Type: return try make(Quorum.self)
        case is Raft.Type: return try make(Raft.self)
        case is SyncPrimaryBackup.Type: return try make(SyncPrimaryBackup.self)
        case is ChainReplication.Type: return try make(ChainReplication.self)
        case is ErasureCoded.Type: return try make(ErasureCoded.self)
        case is Hybrid.Type: return try make(Hybrid.self)
        default: return try open(type, scenario: scenario, config: config, payloadThreads: payloadThreads)
        }
    }
}
