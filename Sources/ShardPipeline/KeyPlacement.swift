/// Where a shard's data key is held, independently of where its data is.
///
/// A key-holder DC holds a jurisdiction's master key (or, for `split`, one share of the data
/// key). A read needs the data *and* the key: a shard whose key holders are unreachable is
/// stored but unreadable; an adversary who seizes DCs reads a shard only if the seized set holds
/// a copy of the data and enough of its key.
public enum KeyPlacementPolicy: Sendable, Hashable, CustomStringConvertible {
    /// The key lives in the data's own DC (one holder).
    case sameDC
    /// The key lives in one other DC: one in the data DC's region if there is one, else any.
    case otherDC
    /// The key lives in one DC of another jurisdiction: in the data DC's region if possible.
    case otherJurisdiction
    /// The key is split k-of-n (threshold secret sharing) over n DCs in n distinct
    /// jurisdictions; any k shares rebuild it.
    case split(k: Int, n: Int)

    public var description: String {
        switch self {
        case .sameDC: return "same-dc"
        case .otherDC: return "other-dc"
        case .otherJurisdiction: return "other-jurisdiction"
        case let .split(k, n): return "split-\(k)-of-\(n)"
        }
    }

    /// Chooses the key holders for data stored in `dataDC`.
    ///
    /// Deterministic: the same inputs give the same holders. `choice` spreads keys over the
    /// candidates (pass a well-mixed value, such as a hash of the shard or chat id):
    ///
    /// - `sameDC`: holders `[dataDC]`, threshold 1.
    /// - `otherDC`: candidates are the DCs ≠ `dataDC` in `dataDC`'s region, or if there are none
    ///   all DCs ≠ `dataDC`; the holder is `candidates[choice % candidates.count]` (candidates in
    ///   ascending index order). Threshold 1.
    /// - `otherJurisdiction`: candidates are the DCs whose jurisdiction differs from `dataDC`'s,
    ///   restricted to `dataDC`'s region if that leaves any; chosen as for `otherDC`. Threshold 1.
    /// - `split(k, n)`: the distinct jurisdictions in ascending order `J[0..<t]`; the n
    ///   jurisdictions `J[(s + i) % t]` for `i in 0..<n`, with `s = choice % t`; in each, the DC
    ///   `dcs[(choice / t) % dcs.count]` of its DCs in ascending order. Threshold k.
    ///
    /// The key's derivation jurisdiction (``KeyPlacement/keyJurisdiction``) is the first holder's.
    ///
    /// - Throws: ``ShardError/invalidKeyPlacement(policy:reason:)`` when the topology cannot satisfy
    ///   the policy (one DC only for `otherDC`, one jurisdiction for `otherJurisdiction`, fewer
    ///   than n jurisdictions or k ∉ 1...n for `split`).
    public func place(dataDC: Int, topology: KeyPlacementTopology, choice: UInt64) throws(ShardError) -> KeyPlacement {
        precondition(dataDC >= 0 && dataDC < topology.dcCount, "data DC \(dataDC) outside 0..<\(topology.dcCount)")
        let dcs = 0..<topology.dcCount
        func pick(_ candidates: [Int]) -> Int { candidates[Int(choice % UInt64(candidates.count))] }
        func preferRegion(_ candidates: [Int]) -> [Int] {
            let near = candidates.filter { topology.regionOfDC[$0] == topology.regionOfDC[dataDC] }
            return near.isEmpty ? candidates : near
        }
        switch self {
        case .sameDC:
            return KeyPlacement(holders: [dataDC], threshold: 1, keyJurisdiction: topology.jurisdictionOfDC[dataDC])
        case .otherDC:
            let others = dcs.filter { $0 != dataDC }
            guard !others.isEmpty else { throw .invalidKeyPlacement(policy: description, reason: "the topology has a single data center") }
            let holder = pick(preferRegion(others))
            return KeyPlacement(holders: [holder], threshold: 1, keyJurisdiction: topology.jurisdictionOfDC[holder])
        case .otherJurisdiction:
            let home = topology.jurisdictionOfDC[dataDC]
            let foreign = dcs.filter { topology.jurisdictionOfDC[$0] != home }
            guard !foreign.isEmpty else { throw .invalidKeyPlacement(policy: description, reason: "every data center is in jurisdiction \(home)") }
            let holder = pick(preferRegion(foreign))
            return KeyPlacement(holders: [holder], threshold: 1, keyJurisdiction: topology.jurisdictionOfDC[holder])
        case let .split(k, n):
            let jurisdictions = topology.jurisdictions
            let t = jurisdictions.count
            guard k >= 1 && k <= n else { throw .invalidKeyPlacement(policy: description, reason: "k must be in 1...n") }
            guard n <= t else { throw .invalidKeyPlacement(policy: description, reason: "n = \(n) but only \(t) jurisdictions exist") }
            let start = Int(choice % UInt64(t))
            let within = choice / UInt64(t)
            var holders: [Int] = []
            for i in 0..<n {
                let j = jurisdictions[(start + i) % t]
                let members = dcs.filter { topology.jurisdictionOfDC[$0] == j }
                holders.append(members[Int(within % UInt64(members.count))])
            }
            return KeyPlacement(holders: holders, threshold: k, keyJurisdiction: topology.jurisdictionOfDC[holders[0]])
        }
    }

    /// Checks that the topology can satisfy this policy for every data DC.
    public func validate(topology: KeyPlacementTopology) throws(ShardError) {
        for dc in 0..<topology.dcCount { _ = try place(dataDC: dc, topology: topology, choice: 0) }
    }
}

/// What key placement needs to know about the topology: each DC's jurisdiction and region, as
/// dense indices chosen by the engine.
public struct KeyPlacementTopology: Sendable, Equatable {
    public let jurisdictionOfDC: [Int]
    public let regionOfDC: [Int]

    /// - Parameters:
    ///   - jurisdictionOfDC: jurisdiction index per DC index.
    ///   - regionOfDC: region index per DC index; `nil` puts every DC in one region.
    public init(jurisdictionOfDC: [Int], regionOfDC: [Int]? = nil) {
        precondition(regionOfDC == nil || regionOfDC!.count == jurisdictionOfDC.count,
                     "regionOfDC has \(regionOfDC?.count ?? 0) entries for \(jurisdictionOfDC.count) DCs")
        self.jurisdictionOfDC = jurisdictionOfDC
        self.regionOfDC = regionOfDC ?? Array(repeating: 0, count: jurisdictionOfDC.count)
    }

    public var dcCount: Int { jurisdictionOfDC.count }
    /// The distinct jurisdictions, ascending.
    public var jurisdictions: [Int] { Array(Set(jurisdictionOfDC)).sorted() }
    /// The DCs of jurisdiction `j`, ascending.
    public func dcs(inJurisdiction j: Int) -> DCSet { DCSet(jurisdictionOfDC.indices.filter { jurisdictionOfDC[$0] == j }) }
}

/// The key holders of one shard and how many of them a decryption needs.
public struct KeyPlacement: Sendable, Hashable, CustomStringConvertible {
    /// Key-holder DCs (for `split`, one per share, in share order).
    public let holders: [Int]
    /// How many holders must be available (1 unless the key is split).
    public let threshold: Int
    /// The jurisdiction whose master key derives the data key.
    public let keyJurisdiction: Int

    public init(holders: [Int], threshold: Int, keyJurisdiction: Int) {
        precondition(threshold >= 1 && threshold <= holders.count, "threshold \(threshold) for \(holders.count) holders")
        self.holders = holders
        self.threshold = threshold
        self.keyJurisdiction = keyJurisdiction
    }

    /// Whether a reader who can reach `reachable` can obtain the key.
    public func canDecrypt(reachable: DCSet) -> Bool {
        canDecrypt { reachable.contains($0) }
    }

    /// Whether a reader can obtain the key, given a reachability test per DC.
    public func canDecrypt(where isReachable: (Int) -> Bool) -> Bool {
        var available = 0
        for holder in holders where isReachable(holder) {
            available += 1
            if available >= threshold { return true }
        }
        return false
    }

    /// Whether an adversary holding every disk in `seized` can read the shard's plaintext: it
    /// needs the key (``threshold`` of the holders seized) and the data — at least
    /// `copiesNeeded` of the copies listed in `dataDCs` (1 for replicas; k for RS(k, m)
    /// fragments, listing each fragment's DC, repeats allowed).
    public func adversaryCanDecrypt<S: Sequence>(seized: DCSet, dataDCs: S, copiesNeeded: Int = 1) -> Bool where S.Element == Int {
        precondition(copiesNeeded >= 1, "copiesNeeded must be at least 1")
        guard canDecrypt(reachable: seized) else { return false }
        var copies = 0
        for dc in dataDCs where seized.contains(dc) {
            copies += 1
            if copies >= copiesNeeded { return true }
        }
        return false
    }

    public var description: String {
        threshold == 1 && holders.count == 1 ? "key@dc\(holders[0])" : "key \(threshold)-of-\(holders.map { "dc\($0)" }.joined(separator: ","))"
    }
}
