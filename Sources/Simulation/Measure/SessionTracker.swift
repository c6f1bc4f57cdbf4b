import SimCore
import Replication

/// Session guarantees per user across all of the user's devices (Terry et al., 1994):
/// **read-your-writes** and **monotonic reads**, checked on every successful read a user's
/// device makes.
///
/// Definitions (a "session" is a user: every device of the user shares it):
/// - *Read-your-writes*: a read of key K by any device of user U, begun after a write, edit
///   or delete of K by U was acknowledged to U, returns that version or a newer one (for a
///   delete: "not found", or the tombstone).
/// - *Monotonic reads*: a read of K by any device of U never returns an older version than a
///   read of K by U's devices that completed before it began.
///
/// What a read "returns", as a version: `found(v)` is v (a tombstone too); "not found" is the
/// message's delete when one had been issued by the time the read completed (the read may
/// have seen that delete), otherwise nothing (older than every version). A "not found" after
/// a delete was issued is therefore never called a violation, even when the replica simply
/// missed the message: the check errs towards no false alarms.
///
/// Cost: O(1) expected per operation, no scan of the history. State is kept per (user, key)
/// pair that the user wrote or read — the newest version written by U and acknowledged, and
/// the newest version U's completed reads returned — plus, for each read in flight that has
/// a floor, the two floors captured when it began (so overlapping reads are judged exactly:
/// a read is held only to the reads that completed before it began). Memory is bounded: at
/// most `entriesMax` pairs are kept; beyond that the oldest-inserted pair is forgotten
/// (first in, first out — deterministic, and the oldest pairs are the least likely to be read
/// again). A read of a forgotten pair is checked against nothing, so the counts are a lower
/// bound once `evicted > 0` (the report says how many were forgotten).
struct SessionTracker {
    /// Per (user, key): the newest stamp U wrote and had acknowledged, and the newest stamp
    /// U's completed reads returned.
    struct Entry {
        var written: Stamp = .none
        var observed: Stamp = .none
    }

    /// The floors of a read in flight, captured when it began.
    struct Floors {
        var written: Stamp
        var observed: Stamp
    }

    /// Counters per operation origin (index = `Engine.Origin.rawValue`).
    struct Counts {
        var checked: UInt64 = 0
        var rywChecked: UInt64 = 0
        var rywViolations: UInt64 = 0
        var monotonicChecked: UInt64 = 0
        var monotonicViolations: UInt64 = 0
    }

    /// Default bound on the (user, key) pairs kept: about 64 MiB of state at most.
    static let entriesMaxDefault = 1 << 20

    let entriesMax: Int
    private(set) var entries: [UInt64: Entry] = [:]
    /// Pairs in insertion order (a ring once full), for first-in-first-out eviction.
    private var order: [UInt64] = []
    private var orderHead = 0
    private(set) var open: [UInt32: Floors] = [:]
    private(set) var counts = [Counts](repeating: Counts(), count: 8)
    private(set) var evicted: UInt64 = 0
    private(set) var peak = 0

    init(entriesMax: Int = SessionTracker.entriesMaxDefault) {
        precondition(entriesMax >= 1, "SessionTracker: entriesMax must be at least 1")
        self.entriesMax = entriesMax
    }

    /// The dictionary key of (user, key): shard indices and users both fit in 32 bits.
    @inline(__always) static func pair(user: Int32, key: UInt64) -> UInt64 {
        precondition(user >= 0 && key <= UInt64(UInt32.max), "SessionTracker: user \(user) or key \(key) out of range")
        return key << 32 | UInt64(UInt32(user))
    }

    /// A read by `user` of `key` began (its first attempt): remember the floors it must meet.
    mutating func readBegan(op: Int, user: Int32, key: UInt64) {
        guard user >= 0, let e = entries[Self.pair(user: user, key: key)],
              e.written > .none || e.observed > .none else { return }
        open[UInt32(op)] = Floors(written: e.written, observed: e.observed)
    }

    /// A write, edit or delete by `user` of `key` was acknowledged with `stamp`.
    mutating func writeAcknowledged(user: Int32, key: UInt64, stamp: Stamp) {
        guard user >= 0 else { return }
        update(Self.pair(user: user, key: key)) { if $0.written < stamp { $0.written = stamp } }
    }

    /// A read by `user` finished: `succeeded` (it returned an answer), and `observed`, the
    /// version it returned (see the type's discussion; ignored when it failed); `counted`
    /// says whether it counts in the figures (it began after warm-up). Returns the violations
    /// found, for tests.
    @discardableResult
    mutating func readFinished(op: Int, user: Int32, key: UInt64, origin: Int, succeeded: Bool = true,
                               observed: Stamp, counted: Bool) -> (readYourWrites: Bool, monotonic: Bool) {
        let floors = open.removeValue(forKey: UInt32(op))
        guard user >= 0, succeeded else { return (false, false) }
        var ryw = false, mono = false
        if counted {
            counts[origin].checked += 1
            if let f = floors {
                if f.written > .none {
                    counts[origin].rywChecked += 1
                    if observed < f.written { ryw = true; counts[origin].rywViolations += 1 }
                }
                if f.observed > .none {
                    counts[origin].monotonicChecked += 1
                    if observed < f.observed { mono = true; counts[origin].monotonicViolations += 1 }
                }
            }
        }
        if observed > .none {
            update(Self.pair(user: user, key: key)) { if $0.observed < observed { $0.observed = observed } }
        }
        return (ryw, mono)
    }

    private mutating func update(_ pair: UInt64, _ change: (inout Entry) -> Void) {
        if entries[pair] != nil {
            change(&entries[pair]!)
            return
        }
        var e = Entry()
        change(&e)
        if entries.count >= entriesMax {
            // Full: forget the oldest-inserted pair and reuse its slot in the ring.
            let oldest = order[orderHead]
            entries[oldest] = nil
            order[orderHead] = pair
            orderHead = (orderHead + 1) % order.count
            evicted += 1
        } else {
            order.append(pair)
        }
        entries[pair] = e
        if entries.count > peak { peak = entries.count }
    }

    /// The figures, with per-origin rows named by `originName` (origins with no checked read
    /// are left out; rows in origin order).
    func figures(originName: (Int) -> String) -> SessionFigures {
        var total = Counts()
        var rows: [SessionFigures.Origin] = []
        for (i, c) in counts.enumerated() where c.checked > 0 {
            total.checked += c.checked
            total.rywChecked += c.rywChecked
            total.rywViolations += c.rywViolations
            total.monotonicChecked += c.monotonicChecked
            total.monotonicViolations += c.monotonicViolations
            rows.append(SessionFigures.Origin(origin: originName(i), readsChecked: c.checked,
                                              readYourWritesChecked: c.rywChecked,
                                              readYourWritesViolations: c.rywViolations,
                                              monotonicChecked: c.monotonicChecked,
                                              monotonicViolations: c.monotonicViolations))
        }
        return SessionFigures(readsChecked: total.checked, readYourWritesChecked: total.rywChecked,
                              readYourWritesViolations: total.rywViolations,
                              monotonicChecked: total.monotonicChecked, monotonicViolations: total.monotonicViolations,
                              byOrigin: rows, pairsPeak: UInt64(peak), pairsMax: UInt64(entriesMax), pairsEvicted: evicted)
    }
}

/// Session guarantees per user across their devices (see `SessionTracker` for the exact
/// definitions): successful reads by users' devices after warm-up, those a guarantee
/// applied to, and the violations.
public struct SessionFigures: Sendable {
    /// One row per operation origin that made reads (`sync`, `catch_up`, `history`).
    public struct Origin: Sendable {
        public var origin: String
        public var readsChecked: UInt64
        public var readYourWritesChecked: UInt64
        public var readYourWritesViolations: UInt64
        public var monotonicChecked: UInt64
        public var monotonicViolations: UInt64
    }

    /// Successful reads by a user's device that began after warm-up.
    public var readsChecked: UInt64 = 0
    /// Of those, reads that began after the user's own write of the key was acknowledged
    /// (read-your-writes applies), and those that returned an older version.
    public var readYourWritesChecked: UInt64 = 0
    public var readYourWritesViolations: UInt64 = 0
    /// Reads that began after an earlier read of the key by the same user completed
    /// (monotonic reads applies), and those that returned an older version than it.
    public var monotonicChecked: UInt64 = 0
    public var monotonicViolations: UInt64 = 0
    public var byOrigin: [Origin] = []
    /// (user, key) pairs tracked at most at once, the bound, and pairs forgotten at the bound
    /// (reads of a forgotten pair are checked against nothing: counts are then lower bounds).
    public var pairsPeak: UInt64 = 0
    public var pairsMax: UInt64 = 0
    public var pairsEvicted: UInt64 = 0

    /// Violations over the reads each guarantee applied to (0 when none applied).
    public var readYourWritesShare: Double {
        readYourWritesChecked == 0 ? 0 : Double(readYourWritesViolations) / Double(readYourWritesChecked)
    }
    public var monotonicShare: Double {
        monotonicChecked == 0 ? 0 : Double(monotonicViolations) / Double(monotonicChecked)
    }

    public init() {}

    init(readsChecked: UInt64, readYourWritesChecked: UInt64, readYourWritesViolations: UInt64,
         monotonicChecked: UInt64, monotonicViolations: UInt64, byOrigin: [Origin],
         pairsPeak: UInt64, pairsMax: UInt64, pairsEvicted: UInt64) {
        self.readsChecked = readsChecked
        self.readYourWritesChecked = readYourWritesChecked
        self.readYourWritesViolations = readYourWritesViolations
        self.monotonicChecked = monotonicChecked
        self.monotonicViolations = monotonicViolations
        self.byOrigin = byOrigin
        self.pairsPeak = pairsPeak
        self.pairsMax = pairsMax
        self.pairsEvicted = pairsEvicted
    }
}
