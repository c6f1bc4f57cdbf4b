/// A multi-server FIFO queue: the service model of a storage node.
///
/// A node has `servers` identical servers (c in Kendall's notation) and one FIFO waiting
/// line. A job that arrives while a server is free starts at once; otherwise it waits in
/// line. When a job completes, the job at the head of the line (if any) takes its server.
///
/// The station only keeps state: it does not draw service times or schedule completions.
/// The driver draws the service time from the node's distribution for the job's operation
/// kind when a job *starts*, and schedules its completion event. This keeps the station a
/// plain value, testable without a clock, and the simulation loop the single owner of time.
///
/// The line is bounded (`capacity` waiting jobs); an arrival to a full line is rejected and
/// counted, never silently dropped.
public struct ServiceStation<Job>: Sendable where Job: Sendable {
    /// The number of servers (c ≥ 1).
    public let servers: Int
    /// The largest number of jobs allowed to wait.
    public let capacity: Int
    /// Servers currently busy.
    public var busy: Int { busyCount }
    @usableFromInline var busyCount: Int = 0
    /// Jobs rejected because the line was full.
    public var rejected: UInt64 { rejectedCount }
    @usableFromInline var rejectedCount: UInt64 = 0

    @usableFromInline var line: RingBuffer<Job>

    public init(servers: Int, capacity: Int = 1 << 20) {
        precondition(servers >= 1, "ServiceStation needs at least one server, got \(servers)")
        precondition(capacity >= 0, "ServiceStation capacity must be non-negative")
        self.servers = servers
        self.capacity = capacity
        self.line = RingBuffer()
    }

    /// The number of jobs waiting (not in service).
    public var waiting: Int { line.count }

    /// What happened to an arriving job.
    public enum Admission: Equatable, Sendable {
        /// A server was free: the job starts now.
        case started
        /// All servers were busy: the job waits in line.
        case queued
        /// The line was full: the job is refused.
        case rejected
    }

    /// A job arrives.
    @inlinable
    public mutating func arrive(_ job: Job) -> Admission {
        if busyCount < servers {
            busyCount += 1
            return .started
        }
        if line.count >= capacity {
            rejectedCount += 1
            return .rejected
        }
        line.append(job)
        return .queued
    }

    /// A job in service completes. Returns the next job to start on the freed server, if one
    /// was waiting (its server stays busy), or `nil` (the server becomes idle).
    @inlinable
    public mutating func complete() -> Job? {
        precondition(busyCount > 0, "ServiceStation.complete() with no job in service")
        if let next = line.popFirst() { return next }
        busyCount -= 1
        return nil
    }

    /// Drops every waiting job (a crash) and frees all servers. Returns the dropped jobs so the
    /// driver can fail them; jobs that were in service are the driver's to forget.
    public mutating func reset() -> [Job] {
        var dropped: [Job] = []
        while let j = line.popFirst() { dropped.append(j) }
        busyCount = 0
        return dropped
    }
}

/// A growable FIFO ring buffer of values (amortised O(1), no per-element allocation).
public struct RingBuffer<Element>: Sendable where Element: Sendable {
    @usableFromInline var storage: ContiguousArray<Element?> = []
    @usableFromInline var head = 0
    @usableFromInline var countStorage = 0

    public init() {}

    @inlinable public var count: Int { countStorage }
    @inlinable public var isEmpty: Bool { countStorage == 0 }

    @inlinable public mutating func append(_ e: Element) {
        if countStorage == storage.count { grow() }
        storage[(head + countStorage) % storage.count] = e
        countStorage += 1
    }

    @inlinable public mutating func popFirst() -> Element? {
        guard countStorage > 0 else { return nil }
        let e = storage[head]
        storage[head] = nil
        head = (head + 1) % storage.count
        countStorage -= 1
        return e
    }

    @inlinable public var first: Element? { countStorage > 0 ? storage[head] : nil }

    @usableFromInline mutating func grow() {
        let newCapacity = Swift.max(16, storage.count * 2)
        var fresh = ContiguousArray<Element?>(repeating: nil, count: newCapacity)
        for i in 0..<countStorage { fresh[i] = storage[(head + i) % storage.count] }
        storage = fresh
        head = 0
    }
}
