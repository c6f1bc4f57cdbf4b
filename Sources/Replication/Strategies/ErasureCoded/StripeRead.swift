import SimCore

/// What one holder answered to a read of its copy or fragment of a key.
public enum FragmentAnswer: Sendable, Equatable {
    /// A whole copy (a replica) of this version.
    case whole(Stamp, tombstone: Bool)
    /// Erasure-coded fragment `index` of this version.
    case fragment(Stamp, index: UInt8, tombstone: Bool)
    /// Nothing there, or only a corrupt copy (the engine never returns rot).
    case missing
    /// The disk failed the read.
    case ioError

    /// The answer a storage completion of a `.get` gives.
    init(_ outcome: StorageCompletion.Outcome, node: Int) {
        switch outcome {
        case .found(let s, let t): self = .whole(s, tombstone: t)
        case .foundFragment(let s, let i, let t): self = .fragment(s, index: UInt8(truncatingIfNeeded: i), tombstone: t)
        case .missing: self = .missing
        case .ioError: self = .ioError
        case .stored, .superseded:
            preconditionFailure("StripeRead: a get completed as a put at node \(node)")
        }
    }

    /// The stamp found, if any.
    var stamp: Stamp? {
        switch self {
        case .whole(let s, _), .fragment(let s, _, _): return s
        case .missing, .ioError: return nil
        }
    }
}

/// One read of a key's stripe, as its coordinator tallies it: which holders were asked and
/// answered, and which versions were found as whole copies or as fragments.
///
/// Positions `0..<replicas` are whole-copy holders (the hybrid strategy's replicas) and the
/// rest are fragment holders (fragment index = position − replicas). A version is
/// *decodable* when it is a tombstone (it carries no data), when a whole copy was found, or
/// when `k` distinct fragments of it were found.
///
/// The read answers only once it has *covered* the stripe: `k` definite fragment answers
/// (found or missing), or, with replicas, `readQuorum` definite replica answers — all of
/// them found, or `k` fragment answers besides. A write acknowledged after W > m fragments
/// (or W replicas with W + readQuorum > replicas) must then have shown up in the answers, so
/// a covered read that decodes the newest version it saw never misses an acknowledged write
/// (barring disk loss). Without coverage the read fails rather than guess.
///
/// With replicas, `k` fragment answers alone cover the read only when `fragmentsSuffice`
/// (the hybrid's directory said, when the read began, that the key is coded: any later write
/// is concurrent with the read). Such a read asks fragments first and replicas only if the
/// fragments cannot cover it.
///
/// All sets are bit masks over positions (at most 64), so a read allocates only its ask order.
struct StripeRead {
    struct Tally {
        var stamp: Stamp
        var tombstone: Bool
        /// Positions that returned this version (whole or fragment).
        var positions: UInt64 = 0
        /// Distinct fragment indices of this version.
        var fragments: UInt64 = 0
        /// Whether a whole copy was found.
        var whole = false
    }

    enum Decision: Equatable {
        case found(Stamp, tombstone: Bool)
        case notFound
        case failed
        case wait
    }

    let replicas: Int
    let readQuorum: Int
    let k: Int
    let replicaMask: UInt64
    let fragmentMask: UInt64
    /// Positions nearest to the coordinator first.
    let order: [UInt8]
    /// Positions never asked (e.g. the targets a repair is rebuilding).
    let excluded: UInt64
    let extra: Int
    var asked: UInt64 = 0
    /// Positions that answered found or missing.
    var answered: UInt64 = 0
    /// Positions that answered with a disk error.
    var errors: UInt64 = 0
    var found: UInt64 = 0
    /// Whether fragments are being read (always for pure erasure coding).
    var fragmentStage: Bool
    /// Whether replicas are being read.
    var replicaStage: Bool
    /// Whether `k` fragment answers cover the read on their own.
    let fragmentsSuffice: Bool
    var tallies: [Tally] = []

    /// The mask of the first `n` positions.
    @inline(__always) static func mask(first n: Int) -> UInt64 { n >= 64 ? ~0 : (1 << UInt64(n)) - 1 }

    init(positions count: Int, replicas: Int = 0, readQuorum: Int = 0, k: Int, order: [UInt8],
         excluded: UInt64 = 0, extra: Int = 0, fragmentsSuffice: Bool = true) {
        precondition(count <= 64 && replicas <= count && readQuorum <= replicas, "StripeRead: bad shape \(count)/\(replicas)/\(readQuorum)")
        self.replicas = replicas
        self.readQuorum = readQuorum
        self.k = k
        let all = Self.mask(first: count)
        replicaMask = Self.mask(first: replicas)
        fragmentMask = all & ~replicaMask & ~excluded
        self.order = order
        self.excluded = excluded
        self.extra = extra
        self.fragmentsSuffice = fragmentsSuffice || replicas == 0
        self.fragmentStage = self.fragmentsSuffice
        self.replicaStage = replicas > 0 && !self.fragmentsSuffice
    }

    /// The positions to ask first: the nearest `readQuorum` replicas, and (in the fragment
    /// stage) the nearest `k + extra` fragment holders.
    mutating func start() -> UInt64 {
        var ask: UInt64 = 0
        if replicaStage { ask |= self.ask(readQuorum, among: replicaMask) }
        if fragmentStage { ask |= self.ask(k + extra, among: fragmentMask) }
        return ask
    }

    /// Asks the `n` nearest not-yet-asked positions of `mask`; returns them.
    mutating func ask(_ n: Int, among mask: UInt64) -> UInt64 {
        var picked: UInt64 = 0
        var left = n
        for p in order where left > 0 {
            let bit: UInt64 = 1 << UInt64(p)
            if mask & bit != 0 && (asked | excluded) & bit == 0 { picked |= bit; left -= 1 }
        }
        asked |= picked
        return picked
    }

    /// Asks every position not asked yet (a hedge after a slow answer); returns them.
    mutating func askAll() -> UInt64 {
        fragmentStage = true
        replicaStage = replicas > 0
        return ask(64, among: replicaMask | fragmentMask)
    }

    /// Records `answer` from `position`. Returns false for a duplicate or unasked answer.
    @discardableResult
    mutating func record(_ position: Int, _ answer: FragmentAnswer) -> Bool {
        let bit: UInt64 = 1 << UInt64(position)
        guard asked & bit != 0, (answered | errors) & bit == 0 else { return false }
        switch answer {
        case .ioError:
            errors |= bit
            return true
        case .missing:
            answered |= bit
            return true
        case .whole(let stamp, let tombstone):
            answered |= bit; found |= bit
            tally(stamp, tombstone) { $0.whole = true; $0.positions |= bit }
        case .fragment(let stamp, let index, let tombstone):
            answered |= bit; found |= bit
            tally(stamp, tombstone) { $0.fragments |= 1 << UInt64(index); $0.positions |= bit }
        }
        return true
    }

    private mutating func tally(_ stamp: Stamp, _ tombstone: Bool, _ update: (inout Tally) -> Void) {
        if let i = tallies.firstIndex(where: { $0.stamp == stamp }) {
            tallies[i].tombstone = tallies[i].tombstone || tombstone
            update(&tallies[i])
        } else {
            var t = Tally(stamp: stamp, tombstone: tombstone)
            update(&t)
            tallies.append(t)
        }
    }

    func decodable(_ t: Tally) -> Bool { t.tombstone || t.whole || t.fragments.nonzeroBitCount >= k }

    /// The newest version seen, and the newest decodable one.
    var newest: (seen: Tally?, best: Tally?) {
        var seen: Tally?, best: Tally?
        for t in tallies {
            if seen == nil || seen!.stamp < t.stamp { seen = t }
            if decodable(t) && (best == nil || best!.stamp < t.stamp) { best = t }
        }
        return (seen, best)
    }

    /// Whether enough holders answered definitely that an acknowledged write would show.
    var covered: Bool {
        let replicaAnswers = (answered & replicaMask).nonzeroBitCount
        let replicaFound = (found & replicaMask).nonzeroBitCount
        let fragmentAnswers = (answered & fragmentMask).nonzeroBitCount
        let byReplicas = replicas > 0 && replicaAnswers >= readQuorum && (replicaFound >= readQuorum || fragmentAnswers >= k)
        return byReplicas || (fragmentsSuffice && fragmentAnswers >= k)
    }

    /// Decides from the answers so far: answer, or wait (after asking the positions in the
    /// returned mask, which the caller must send to).
    mutating func decide() -> (Decision, ask: UInt64) {
        let (seen, best) = newest
        let outstanding = asked & ~answered & ~errors
        // A missing or failing replica, or a version seen only as fragments, needs fragments.
        if (answered & replicaMask & ~found) != 0 || (errors & replicaMask) != 0 { fragmentStage = true }
        if let seen, !decodable(seen) { fragmentStage = true }
        var more: UInt64 = 0
        let isCovered = covered
        if isCovered {
            guard let seen else { return (.notFound, 0) }
            if let best, best.stamp == seen.stamp { return (.found(best.stamp, tombstone: best.tombstone), 0) }
            // The newest version is short of k fragments: look for the rest.
            let need = k - seen.fragments.nonzeroBitCount - (outstanding & fragmentMask).nonzeroBitCount
            if need > 0 { more = ask(need, among: fragmentMask) }
        } else {
            if fragmentStage {
                let need = k - (answered & fragmentMask).nonzeroBitCount - (outstanding & fragmentMask).nonzeroBitCount
                if need > 0 { more |= ask(need, among: fragmentMask) }
                // Fragments alone cannot cover it any more: the replicas may.
                if more == 0 && (outstanding & fragmentMask) == 0 && replicas > 0 { replicaStage = true }
            }
            if replicaStage {
                let need = readQuorum - (answered & replicaMask).nonzeroBitCount - (outstanding & replicaMask).nonzeroBitCount
                if need > 0 { more |= ask(need, among: replicaMask) }
            }
        }
        if more == 0 && outstanding == 0 {
            // Everyone asked has answered and nobody is left to ask.
            if isCovered, let best { return (.found(best.stamp, tombstone: best.tombstone), 0) }
            return (.failed, 0)
        }
        return (.wait, more)
    }

    /// Fragment positions that answered missing or with a version older than `stamp`: the
    /// holders a read repair should rewrite.
    func behind(_ stamp: Stamp) -> UInt64 {
        var mask = answered & ~found & fragmentMask
        for t in tallies where t.stamp < stamp { mask |= t.positions & fragmentMask }
        return mask
    }
}
