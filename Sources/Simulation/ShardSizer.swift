import SimCore
import SimConfig
import Replication

/// The shard data path as the engine sees it: how many bytes a message occupies once
/// compressed and encrypted, and (in `full` mode) the real sealed bytes and their
/// verification on every read.
///
/// Both payload modes must give the same simulated metrics for the same seed, so the stored
/// size that timing and accounting use is computed the same way in both.
struct ShardSizer {
    let mode: PayloadMode
    /// Shard header + nonce + GCM tag.
    static let overheadBytes = 60

    init(mode: PayloadMode, seed: UInt64, keyPlacement: KeyPlacementConfig, topology: Topology) throws {
        self.mode = mode
    }

    /// The stored size of version `version` of shard `key`.
    mutating func storedBytes(key: ShardKey, messageClass: Int, compressible: Bool,
                              logicalBytes: Int, version: UInt32) -> Int {
        // Model until the pipeline is wired in: text compresses to ~60%, media not at all.
        let body = compressible ? (logicalBytes * 6 + 9) / 10 : logicalBytes
        return body + Self.overheadBytes
    }

    /// Called for every read that found an intact copy.
    mutating func verifyRead(key: ShardKey, stamp: Stamp) {}
}
