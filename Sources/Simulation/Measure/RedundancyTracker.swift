import SimCore
import Replication

/// What one node's copy of a shard counts as for redundancy: nothing, a whole copy, or
/// erasure-coded fragment `index`.
///
/// A copy counts only while it is intact (not rotted) and of the shard's newest acknowledged
/// version or newer (any version before the first acknowledgement); see
/// `Engine.redundancyUnit(_:shard:)`.
struct RedundancyUnit: Equatable {
    /// -2 none, -1 whole copy, 0… fragment index.
    var raw: Int16
    static let none = RedundancyUnit(raw: -2)
    static let whole = RedundancyUnit(raw: -1)
    static func fragment(_ index: Int) -> RedundancyUnit { RedundancyUnit(raw: Int16(index)) }
    var isNone: Bool { raw == -2 }
    var isWhole: Bool { raw == -1 }
    var fragmentIndex: Int? { raw >= 0 ? Int(raw) : nil }
}

/// Whole copies and distinct fragments of one shard, and what they make of it.
///
/// The definitions every redundancy figure shares (docs/REPORT.md, "Redundancy"):
/// - **readable** iff `whole ≥ 1` or `fragments ≥ k` (k = the strategy's
///   `fragmentsNeededToRead`; distinct fragment indices of one version);
/// - **margin** = the further unit losses it survives = `whole + max(0, fragments − k + 1) − 1`
///   (replication: `whole − 1`; pure RS: `fragments − k`; a hybrid shard counts both tiers;
///   −1 when unreadable);
/// - **fully redundant** iff `whole ≥` its placement's count or `fragments ≥` its stripe
///   width (k + m); otherwise under-replicated.
struct UnitCount: Equatable {
    var whole: Int
    var fragments: Int

    @inline(__always) func readable(k: Int) -> Bool { whole >= 1 || fragments >= k }
    @inline(__always) func margin(k: Int) -> Int { whole + max(0, fragments - k + 1) - 1 }
    @inline(__always) func full(wholeTarget: Int, stripeWidth: Int) -> Bool {
        whole >= wholeTarget || fragments >= stripeWidth
    }
    /// Units for the copies histogram: whole copies plus distinct fragments.
    var units: Int { whole + fragments }
}

/// The units of every shard, as a set of counters that change one unit at a time: whole
/// copies, and a bit mask of fragment indices with a side table for the rare index held by
/// more than one node (so losing one of two holders of an index keeps the index).
///
/// O(1) per change. Fragment masks are allocated on the first fragment (replication
/// strategies never pay for them).
struct UnitSet {
    var whole: [UInt8] = []
    var mask: [UInt64] = []
    /// Extra holders of (shard << 6 | index) beyond the first. Never iterated.
    var extra: [UInt64: UInt16] = [:]

    mutating func append() {
        whole.append(0)
        if !mask.isEmpty { mask.append(0) }
    }

    func count(_ i: Int) -> UnitCount {
        UnitCount(whole: Int(whole[i]), fragments: mask.isEmpty ? 0 : mask[i].nonzeroBitCount)
    }

    /// Adds (`delta` +1) or removes (−1) one unit of shard `i`.
    mutating func change(_ i: Int, _ unit: RedundancyUnit, by delta: Int) {
        if unit.isWhole {
            whole[i] = UInt8(clamping: Int(whole[i]) + delta)
            return
        }
        guard let index = unit.fragmentIndex else { return }
        precondition(index < 64, "RedundancyTracker: fragment index \(index) ≥ 64")
        if mask.isEmpty { mask = [UInt64](repeating: 0, count: whole.count) }
        let bit = UInt64(1) << UInt64(index)
        let slot = UInt64(i) << 6 | UInt64(index)
        if delta > 0 {
            if mask[i] & bit == 0 { mask[i] |= bit } else { extra[slot, default: 0] += 1 }
        } else if let n = extra[slot] {
            extra[slot] = n > 1 ? n - 1 : nil
        } else {
            mask[i] &= ~bit
        }
    }
}

/// Redundancy of every shard over time, kept incrementally: O(1) per unit change, O(units on
/// a node) per crash, restart or lost disk — never a scan of all shards per event.
///
/// Two views of the same units:
/// - **live**: units on nodes that are up — the margin, under-replication, shards at risk
///   and the timeline's redundancy columns;
/// - **durable**: units on every disk that still exists, up or down — whether an
///   acknowledged shard is still recoverable at all. The first moment an acknowledged shard
///   is not (no whole copy and fewer than k distinct fragments anywhere) is the run's
///   *first loss*.
struct RedundancyTracker {
    var live = UnitSet()
    var durable = UnitSet()
    /// Per shard: its placement's count, and its stripe width (k + m; the placement count for
    /// strategies without fragments).
    var wholeTarget: [UInt8] = []
    var stripeWidth: [UInt8] = []
    /// Per shard: bit 0 acknowledged, bit 1 newest acknowledged operation was a delete,
    /// bit 2 unrecoverable now (acknowledged, not a delete), bit 3 was fully redundant once.
    var flags: [UInt8] = []
    static let ackedBit: UInt8 = 1, deletedBit: UInt8 = 2, lostBit: UInt8 = 4, fullOnceBit: UInt8 = 8
    /// The shard's data key is out of reach (its key holders down or cut off): unreadable
    /// whatever its copies, so its margin counts as −1 (see ``setKeyReachable(_:_:now:)``).
    static let keyDownBit: UInt8 = 16

    /// Fragments needed to read (the strategy's k).
    let needed: Int
    /// Shards per margin: index m + 1 for margin m in -1…14 (clipped).
    var marginHistogram = [Int](repeating: 0, count: 16)
    var under = 0
    var lastChange = SimTime.zero
    /// ∫ under-replicated shards dt, in shard-nanoseconds (as Double to avoid overflow).
    var underShardNanoseconds = 0.0
    /// Lowest margin any shard reached while the run was past warm-up (nil before any shard).
    var minMargin: Int? = nil
    var atRiskPeak = 0
    let warmupEnd: SimTime

    /// Recovery bookkeeping: when a fault ended with shards under-replicated, and how long
    /// until none was.
    var recoveringSince: SimTime? = nil
    var recoveryTimes: [SimDuration] = []

    /// Durability: acknowledged shards unrecoverable now, how many times one became so, and
    /// the first time.
    var lostNow = 0
    var lossEvents = 0
    var firstLoss: SimTime? = nil
    /// Units written by a disk to a shard that was fully redundant once and is not now
    /// (re-replication and repair, not a first write).
    var reReplicatedUnits: UInt64 = 0

    init(needed: Int, warmupEnd: SimTime) {
        self.needed = max(1, needed)
        self.warmupEnd = warmupEnd
    }

    @inline(__always) func bucket(_ c: UnitCount) -> Int { min(max(c.margin(k: needed) + 1, 0), 15) }
    /// Shard `i`'s histogram bucket: by its live units, or −1 (bucket 0) while its key is out of reach.
    @inline(__always) func bucket(_ i: Int, _ c: UnitCount) -> Int { flags[i] & Self.keyDownBit != 0 ? 0 : bucket(c) }

    @inline(__always) func isFull(_ i: Int, _ c: UnitCount) -> Bool {
        c.full(wholeTarget: Int(wholeTarget[i]), stripeWidth: Int(stripeWidth[i]))
    }

    mutating func advance(to now: SimTime) {
        if now > lastChange {
            underShardNanoseconds += Double(under) * Double((now - lastChange).nanoseconds)
            lastChange = now
        }
    }

    /// A new shard placed on `wholeTarget` nodes, stored as whole copies or as fragments of
    /// a stripe `stripeWidth` wide (none stored yet).
    mutating func added(wholeTarget t: Int, stripeWidth sw: Int, keyReachable: Bool = true, now: SimTime) {
        advance(to: now)
        live.append()
        durable.append()
        wholeTarget.append(UInt8(clamping: t))
        stripeWidth.append(UInt8(clamping: sw))
        flags.append(keyReachable ? 0 : Self.keyDownBit)
        let i = flags.count - 1
        let c = live.count(i)
        marginHistogram[bucket(i, c)] += 1
        if !isFull(i, c) { under += 1 }
    }

    var shardCount: Int { flags.count }

    /// Shard `i` gained (`+1`) or lost (`-1`) a live unit (a unit on an up node).
    /// - Parameter written: the unit was just written by a disk (counts as re-replication
    ///   when the shard was fully redundant before and is not now).
    mutating func liveChange(_ i: Int, _ unit: RedundancyUnit, by delta: Int, now: SimTime, written: Bool = false) {
        guard i < flags.count, !unit.isNone else { return }
        advance(to: now)
        let before = live.count(i)
        live.change(i, unit, by: delta)
        let after = live.count(i)
        guard after != before else { return }
        marginHistogram[bucket(i, before)] -= 1
        marginHistogram[bucket(i, after)] += 1
        let fullBefore = isFull(i, before), fullAfter = isFull(i, after)
        if written && delta > 0 && !fullBefore && flags[i] & Self.fullOnceBit != 0 { reReplicatedUnits += 1 }
        if fullBefore && !fullAfter { under += 1 } else if !fullBefore && fullAfter { under -= 1 }
        if fullAfter { flags[i] |= Self.fullOnceBit }
        if now >= warmupEnd, delta < 0 {
            let m = flags[i] & Self.keyDownBit != 0 ? -1 : max(after.margin(k: needed), -1)
            if minMargin == nil || m < minMargin! { minMargin = m }
            let atRisk = marginHistogram[1]
            if atRisk > atRiskPeak { atRiskPeak = atRisk }
        }
        if under == 0, let since = recoveringSince {
            recoveryTimes.append(now - since)
            recoveringSince = nil
        }
    }

    /// Shard `i`'s data key came within reach again, or went out of reach: a shard whose key
    /// no reader can obtain is unreadable (margin −1) however many copies it has.
    mutating func setKeyReachable(_ i: Int, _ reachable: Bool, now: SimTime) {
        guard i < flags.count, (flags[i] & Self.keyDownBit == 0) != reachable else { return }
        advance(to: now)
        let c = live.count(i)
        marginHistogram[bucket(i, c)] -= 1
        if reachable { flags[i] &= ~Self.keyDownBit } else { flags[i] |= Self.keyDownBit }
        marginHistogram[bucket(i, c)] += 1
        if now >= warmupEnd, !reachable {
            if minMargin == nil || -1 < minMargin! { minMargin = -1 }
        }
        let atRisk = marginHistogram[1]
        if now >= warmupEnd, atRisk > atRiskPeak { atRiskPeak = atRisk }
    }

    /// Shard `i` gained or lost a unit on a disk that exists (up or down).
    mutating func durableChange(_ i: Int, _ unit: RedundancyUnit, by delta: Int, now: SimTime) {
        guard i < flags.count, !unit.isNone else { return }
        durable.change(i, unit, by: delta)
        updateLoss(i, now: now)
    }

    /// Re-evaluates whether acknowledged shard `i` is recoverable from the disks that exist.
    mutating func updateLoss(_ i: Int, now: SimTime) {
        let f = flags[i]
        let counts = f & Self.ackedBit != 0 && f & Self.deletedBit == 0
        let lost = counts && !durable.count(i).readable(k: needed)
        if lost && f & Self.lostBit == 0 {
            flags[i] |= Self.lostBit
            lostNow += 1
            lossEvents += 1
            if firstLoss == nil { firstLoss = now }
        } else if !lost && f & Self.lostBit != 0 {
            flags[i] &= ~Self.lostBit
            lostNow -= 1
        }
    }

    /// Shard `i`'s newest acknowledged operation changed (a write, or a delete when
    /// `deleted`); call after its units were re-counted for the new version.
    mutating func acknowledged(_ i: Int, deleted: Bool, now: SimTime) {
        guard i < flags.count else { return }
        flags[i] |= Self.ackedBit
        if deleted { flags[i] |= Self.deletedBit } else { flags[i] &= ~Self.deletedBit }
        updateLoss(i, now: now)
    }

    /// A newer version of shard `i` was acknowledged (its older copies no longer count): it
    /// has been fully redundant once only if its new version already is.
    mutating func newVersionAcknowledged(_ i: Int) {
        guard i < flags.count else { return }
        if isFull(i, live.count(i)) { flags[i] |= Self.fullOnceBit } else { flags[i] &= ~Self.fullOnceBit }
    }

    func isAcknowledged(_ i: Int) -> Bool { flags[i] & Self.ackedBit != 0 }
    func isDeleted(_ i: Int) -> Bool { flags[i] & Self.deletedBit != 0 }
    func isLost(_ i: Int) -> Bool { flags[i] & Self.lostBit != 0 }

    /// A fault ended: if shards are under-replicated, time how long until none is.
    mutating func faultEnded(at now: SimTime) {
        if under > 0 && recoveringSince == nil { recoveringSince = now }
    }

    /// The lowest margin among shards that exist right now (nil with no shards).
    var currentMinMargin: Int? {
        guard let b = marginHistogram.firstIndex(where: { $0 > 0 }) else { return nil }
        return b - 1
    }

    /// Shards whose margin is 0 now (one more failure from unreadable).
    var atRiskNow: Int { marginHistogram[1] }
}
