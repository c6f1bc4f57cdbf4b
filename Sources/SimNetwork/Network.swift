import SimCore

// The network model.
//
// Fault model, in prose: every message between two endpoints crosses exactly one one-way
// link, chosen by the endpoints' datacenters (the diagonal link for traffic inside a DC).
// Devices reach their DC over an extra "access" hop. A link has a base one-way delay
// distribution, a loss probability, and a bandwidth. Bandwidth is modelled as a FIFO
// serialisation queue per link: a message occupies the link for size/bandwidth, so a
// bandwidth cut builds a queue and delays everything behind it, as on a real WAN.
// Faults change a link's *dynamic* state: extra delay (a distribution of its own), extra
// loss, duplication, a bandwidth factor, and "blocked" (a partition; one-way partitions block
// one direction only). Several faults may overlap on one link: blocks are counted, extra
// delays and losses add, bandwidth factors multiply — removing a fault undoes exactly its
// own contribution. Reordering is not a separate mechanism: per-message random delay already
// reorders messages, and a reordering fault widens that spread with extra jitter.
//
// Per message kind (write request, write ack, read request, read response, repair…) an
// optional delay distribution may *replace* the link's base delay: this is what PBS/WARS
// experiments need (independent W, A, R, S delay distributions).

/// What a message is, for per-kind delays and per-kind accounting.
public enum MessageKind: Int, CaseIterable, Sendable, CustomStringConvertible {
    case writeRequest = 0, writeAck, readRequest, readResponse, replication, repair, control
    public var description: String {
        ["write-request", "write-ack", "read-request", "read-response", "replication", "repair", "control"][rawValue]
    }
}

/// One end of a message: a storage node or a user's device, located in a datacenter.
public struct Endpoint: Hashable, Sendable {
    /// The datacenter index (for a device: the DC it is attached to).
    public var datacenter: Int32
    /// True for a user's device (adds the access hop).
    public var isDevice: Bool
    @inlinable public init(datacenter: Int, isDevice: Bool) {
        self.datacenter = Int32(datacenter); self.isDevice = isDevice
    }
}

/// The static description of a one-way link.
public struct LinkModel: Sendable {
    /// One-way delay in ns.
    public var latency: Distribution
    public var lossPPM: UInt32
    /// Bits per second; 0 = unlimited.
    public var bandwidthBitsPerSecond: Int64
    public init(latency: Distribution, lossPPM: UInt32, bandwidthBitsPerSecond: Int64) {
        self.latency = latency; self.lossPPM = lossPPM; self.bandwidthBitsPerSecond = bandwidthBitsPerSecond
    }
}

/// A change a fault applies to a link, undone exactly when the fault ends.
public struct LinkImpairment: Sendable, Hashable {
    /// Blocks the link (a partition).
    public var blocks: Bool = false
    /// Extra delay added to every message, in ns (its own distribution).
    public var extraDelay: Distribution? = nil
    /// Extra loss probability in ppm (losses add, capped at 100%).
    public var extraLossPPM: UInt32 = 0
    /// Probability that a message is delivered twice (ppm).
    public var duplicatePPM: UInt32 = 0
    /// Multiplies the bandwidth (0.1 = a 90% cut). 1 = unchanged.
    public var bandwidthFactor: Double = 1
    public init(blocks: Bool = false, extraDelay: Distribution? = nil, extraLossPPM: UInt32 = 0,
                duplicatePPM: UInt32 = 0, bandwidthFactor: Double = 1) {
        self.blocks = blocks; self.extraDelay = extraDelay; self.extraLossPPM = extraLossPPM
        self.duplicatePPM = duplicatePPM; self.bandwidthFactor = bandwidthFactor
    }
}

/// The fate of one message.
public enum Transit: Equatable, Sendable {
    /// Delivered once at `at`.
    case delivered(at: SimTime)
    /// Delivered twice (a duplication fault).
    case duplicated(first: SimTime, second: SimTime)
    /// Lost to random loss.
    case lost
    /// Dropped because the link is blocked by a partition.
    case blocked
}

/// Counters per one-way DC link (the diagonal is intra-DC traffic).
public struct LinkCounters: Sendable, Hashable {
    public var messages: UInt64 = 0
    public var bytes: UInt64 = 0
    public var lost: UInt64 = 0
    public var blocked: UInt64 = 0
    /// Messages delivered twice (a duplication fault); the copy is not counted in `messages`.
    public var duplicated: UInt64 = 0
    /// Messages that arrive before a message sent earlier on the same link (overtaking it).
    public var reordered: UInt64 = 0
    public init() {}
}

/// The simulated network between datacenters: delays, loss, bandwidth queues, partitions.
///
/// A value type owned by the simulation driver; it never reads a clock or creates
/// randomness: the caller passes `now` and a generator (the network's own stream).
public struct Network: Sendable {
    public let datacenterCount: Int
    var base: [LinkModel]
    /// Active impairments per link, in the order applied (ids let a fault remove its own).
    var impairments: [[(id: Int, change: LinkImpairment)]]
    /// Derived per-link dynamic state (recomputed when impairments change).
    var blockedCount: [Int32]
    var lossPPM: [UInt32]
    var duplicatePPM: [UInt32]
    var bandwidth: [Double]    // bits per ns; 0 = unlimited
    var linkFreeAt: [Int64]    // FIFO serialisation queue per link
    var latestArrival: [Int64] // the latest arrival so far per link (for `reordered`)
    /// Access hop (device ↔ DC), one-way.
    public var accessLatency: Distribution
    /// Per message kind, a delay that replaces the link's base delay (PBS/WARS experiments).
    public var kindDelay: [Distribution?]
    /// Traffic and drop counters, row-major by source DC.
    public private(set) var counters: [LinkCounters]
    /// Messages by kind (all links).
    public private(set) var messagesByKind: [UInt64]
    public private(set) var bytesByKind: [UInt64]

    /// Creates a network from `links` (`count × count`, row-major by source DC).
    public init(links: [LinkModel], datacenterCount: Int, accessLatency: Distribution) {
        precondition(links.count == datacenterCount * datacenterCount,
                     "Network: need \(datacenterCount * datacenterCount) links, got \(links.count)")
        self.datacenterCount = datacenterCount
        self.base = links
        self.impairments = Array(repeating: [], count: links.count)
        self.blockedCount = Array(repeating: 0, count: links.count)
        self.lossPPM = links.map(\.lossPPM)
        self.duplicatePPM = Array(repeating: 0, count: links.count)
        self.bandwidth = links.map { Double($0.bandwidthBitsPerSecond) / 1e9 }
        self.linkFreeAt = Array(repeating: 0, count: links.count)
        self.latestArrival = Array(repeating: 0, count: links.count)
        self.accessLatency = accessLatency
        self.kindDelay = Array(repeating: nil, count: MessageKind.allCases.count)
        self.counters = Array(repeating: LinkCounters(), count: links.count)
        self.messagesByKind = Array(repeating: 0, count: MessageKind.allCases.count)
        self.bytesByKind = Array(repeating: 0, count: MessageKind.allCases.count)
    }

    // MARK: Sending

    /// Decides the fate of one message of `sizeBytes` from `source` to `target` sent at `now`.
    ///
    /// Draws from `rng` in a fixed pattern (loss, base delay, extra delay, duplication), so
    /// the network's stream advances identically whatever the outcome.
    public mutating func send(from source: Endpoint, to target: Endpoint, sizeBytes: Int,
                              kind: MessageKind, now: SimTime, rng: inout SimRandom) -> Transit {
        let li = Int(source.datacenter) * datacenterCount + Int(target.datacenter)
        counters[li].messages &+= 1
        counters[li].bytes &+= UInt64(sizeBytes)
        messagesByKind[kind.rawValue] &+= 1
        bytesByKind[kind.rawValue] &+= UInt64(sizeBytes)

        let lossRoll = rng.below(1_000_000)
        var delay = (kindDelay[kind.rawValue] ?? base[li].latency).sample(&rng)
        if source.isDevice { delay += accessLatency.sample(&rng) }
        if target.isDevice { delay += accessLatency.sample(&rng) }
        if blockedCount[li] > 0 {
            counters[li].blocked &+= 1
            return .blocked
        }
        if lossRoll < UInt64(lossPPM[li]) {
            counters[li].lost &+= 1
            return .lost
        }
        for imp in impairments[li] {
            if let extra = imp.change.extraDelay { delay += extra.sample(&rng) }
        }
        // Serialisation on a bandwidth-limited link: FIFO behind earlier messages.
        var departure = now.nanoseconds
        let bw = bandwidth[li]
        if bw > 0 {
            let busyNs = Int64((Double(sizeBytes * 8) / bw).rounded(.up))
            departure = Swift.max(departure, linkFreeAt[li]) + busyNs
            linkFreeAt[li] = departure
        }
        let at = SimTime(nanoseconds: departure) + SimDuration(sampledNanoseconds: delay)
        if at.nanoseconds < latestArrival[li] { counters[li].reordered &+= 1 } else { latestArrival[li] = at.nanoseconds }
        if duplicatePPM[li] > 0 && rng.below(1_000_000) < UInt64(duplicatePPM[li]) {
            let again = at + SimDuration(sampledNanoseconds: base[li].latency.sample(&rng))
            counters[li].duplicated &+= 1
            return .duplicated(first: at, second: again)
        }
        return .delivered(at: at)
    }

    /// Whether messages from DC `from` to DC `to` currently get through a partition.
    public func isReachable(from: Int, to: Int) -> Bool {
        blockedCount[from * datacenterCount + to] == 0
    }

    // MARK: Faults

    /// Applies `change` to the one-way link `from → to` under fault id `id`.
    public mutating func impair(from: Int, to: Int, id: Int, _ change: LinkImpairment) {
        let li = from * datacenterCount + to
        impairments[li].append((id, change))
        recompute(li)
    }

    /// Removes every change fault `id` applied to the link `from → to`.
    public mutating func restore(from: Int, to: Int, id: Int) {
        let li = from * datacenterCount + to
        impairments[li].removeAll { $0.id == id }
        recompute(li)
    }

    mutating func recompute(_ li: Int) {
        var blocked: Int32 = 0
        var loss = UInt64(base[li].lossPPM)
        var dup: UInt64 = 0
        var factor = 1.0
        for (_, c) in impairments[li] {
            if c.blocks { blocked += 1 }
            loss += UInt64(c.extraLossPPM)
            dup += UInt64(c.duplicatePPM)
            factor *= c.bandwidthFactor
        }
        blockedCount[li] = blocked
        lossPPM[li] = UInt32(Swift.min(loss, 1_000_000))
        duplicatePPM[li] = UInt32(Swift.min(dup, 1_000_000))
        bandwidth[li] = Double(base[li].bandwidthBitsPerSecond) / 1e9 * factor
    }

    /// The link model from `from` to `to`, for reports.
    public func model(from: Int, to: Int) -> LinkModel { base[from * datacenterCount + to] }
    /// Counters of the link `from → to`.
    public func counters(from: Int, to: Int) -> LinkCounters { counters[from * datacenterCount + to] }
}
