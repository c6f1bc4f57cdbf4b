import SimCore
import SimConfig

/// The tunables of erasure-coded storage shared by `erasure-coded` and `hybrid`: the code,
/// timeouts of reads and writes, and the background repair and scrub.
struct StripeSettings: Sendable {
    /// Data fragments: any `k` distinct fragments rebuild the shard.
    var k: Int
    /// Parity fragments: a stripe survives the loss of any `m` fragments.
    var m: Int
    /// Fragment holders asked beyond the `k` a read needs (hedging against a slow or missing one).
    var readExtra: Int
    /// A read asks every remaining holder when an answer is this late.
    var hedgeAfter: SimDuration
    /// A read (or repair fetch, or scrub probe) gives up after this long.
    var readTimeout: SimDuration
    /// Unacknowledged fragment puts are sent again after this long…
    var writeTimeout: SimDuration
    /// …at most this many times.
    var writeRetries: Int
    /// Stripes a node rebuilds at once.
    var repairConcurrency: Int
    /// A failed repair is tried again after this long, doubling per attempt (up to 64×).
    var repairRetry: SimDuration
    /// A repair is abandoned (and counted) after this many failed attempts.
    var repairAttempts: Int
    /// Each node checks `scrubBatch` of its fragments (and their successors') per interval;
    /// zero turns scrubbing off.
    var scrubInterval: SimDuration
    var scrubBatch: Int

    var count: Int { k + m }

    /// Size in bytes of one stored fragment of a `shardBytes`-byte shard: the 24-byte
    /// fragment header (magic, version, index, k, m, stripe id, length, CRC-32C; see
    /// ShardPipeline's `Fragment`, whose layout this mirrors) and ⌈shard / k⌉ payload bytes.
    @inlinable func fragmentBytes(shardBytes: Int) -> Int {
        Self.fragmentHeaderBytes + (shardBytes + k - 1) / k
    }

    /// `Fragment.headerBytes` in ShardPipeline (Replication does not link the C libraries).
    static let fragmentHeaderBytes = 24

    /// The most fragments a stripe can have (positions are bits of a 64-bit mask, and
    /// ShardPipeline's `ErasureCoder.maxFragments` is 64 as well).
    static let maxFragments = 64

    /// Reads the code and its tunables.
    /// - Parameter nodesAvailable: distinct nodes the fragments can go to.
    /// - Throws: when `k + m` exceeds 64 or the nodes available.
    static func read(_ p: inout StrategyParameters, defaultK: Int, defaultM: Int, nodesAvailable: Int) throws -> StripeSettings {
        let k = try p.int("k", default: defaultK, in: 1...maxFragments - 1)
        let m = try p.int("m", default: defaultM, in: 0...maxFragments - k)
        if k + m > nodesAvailable {
            let key = p.has("m") ? "m" : "k"
            throw StrategyError(strategy: p.strategy, parameter: key,
                                message: "k + m = \(k + m) fragments need as many distinct nodes; only \(nodesAvailable) are available",
                                location: p.location(of: key))
        }
        return StripeSettings(
            k: k, m: m,
            readExtra: try p.int("read_extra", default: 0, in: 0...m),
            hedgeAfter: try p.duration("hedge_after", default: .milliseconds(500), minimum: .microseconds(1)),
            readTimeout: try p.duration("read_timeout", default: .seconds(2), minimum: .microseconds(1)),
            writeTimeout: try p.duration("write_timeout", default: .seconds(1), minimum: .microseconds(1)),
            writeRetries: try p.int("write_retries", default: 3, in: 0...100),
            repairConcurrency: try p.int("repair_concurrency", default: 8, in: 1...10_000),
            repairRetry: try p.duration("repair_retry", default: .seconds(10), minimum: .milliseconds(1)),
            repairAttempts: try p.int("repair_attempts", default: 20, in: 1...1_000),
            scrubInterval: try p.duration("scrub_interval", default: .seconds(60)),
            scrubBatch: try p.int("scrub_batch", default: 64, in: 1...1_000_000))
    }

    var summary: String {
        var s = "read_extra=\(readExtra) hedge_after=\(hedgeAfter) read_timeout=\(readTimeout) write_timeout=\(writeTimeout)"
        s += scrubInterval > .zero ? " scrub_interval=\(scrubInterval) scrub_batch=\(scrubBatch)" : " scrub=off"
        return s
    }
}

/// Where a key's fragments live: a ``Placement`` of `k + m` nodes, or (for the hybrid
/// strategy) the first `k + m` nodes of a larger placement that are not among the key's
/// replica holders, so a node never holds a replica and a fragment of the same key (a node
/// keeps one copy per key).
struct FragmentLayout: Sendable {
    let placement: Placement
    let avoiding: Placement?
    let count: Int

    func nodes(for key: ShardKey, home: Int) -> [Int] {
        var nodes = placement.nodes(for: key, home: home)
        if let avoiding {
            let replicas = avoiding.nodes(for: key, home: home)
            nodes.removeAll { replicas.contains($0) }
            if nodes.count > count { nodes.removeLast(nodes.count - count) }
        }
        return nodes
    }

    /// How many whole datacenters can be down while no key loses more than `units` of its
    /// holders (the worst case: its largest per-DC groups). Checked over keys from every home DC: one key per home when the layout cannot
    /// vary by key (nearest order, no replicas to avoid), else 256 keys.
    func datacentersTolerated(within units: Int, world: StrategyWorld) -> Int {
        let samples: UInt64 = placement.order == .nearest && avoiding == nil ? 1 : 256
        var dcs = Int.max
        for home in world.topology.datacenters.indices {
            for raw in 0..<samples {
                var perDC = [Int](repeating: 0, count: world.topology.datacenters.count)
                for n in nodes(for: ShardKey(raw), home: home) { perDC[world.datacenter(of: n)] += 1 }
                var used = 0, d = 0
                for c in perDC.sorted(by: >) where c > 0 {
                    guard used + c <= units else { break }
                    used += c; d += 1
                }
                dcs = Swift.min(dcs, d)
            }
        }
        return dcs == .max ? 0 : dcs
    }
}
