import Collections

/// Runs the byte half's jobs (``ByteJob``) on one or more ``ShardBytes`` stores: on the
/// caller's thread (one store, the default), or on background threads, one store each, after
/// ``startThreads(_:)`` — with the caller's thread helping whenever they fall behind.
///
/// The background threads are the one place the simulator uses more cores within a run: the
/// byte work (payload synthesis, LZ4, AES-256-GCM, ISA-L) never feeds back into the simulated
/// outcome — the model half decides it and the bytes only confirm it — so it can run behind
/// the event loop. Jobs that touch a store's state (fragment sets, damaged copies) go to the
/// lane that owns the shard (`owner`) and run there in submission order, so each store's state
/// evolves exactly as inline. Stateless jobs — sealing and verifying a replicated version,
/// most of the work — go to whichever thread is free (shard sizes are heavy-tailed: a fixed
/// split would leave one thread with the 60 MB videos), including the submitting thread: when
/// more than ``helpAfterJobs`` shared jobs wait, it runs a batch itself on its own store
/// before going on with the simulation, so one background thread and the simulation thread
/// share two cores without oversubscribing them. Statistics are sums over the stores,
/// so they do not depend on which thread ran what. The queues are bounded
/// (``maxQueuedJobs``): a simulation that outruns its byte work waits rather than queueing
/// without limit.
final class ByteLanes {
    /// Every store: one per lane, then (threaded) the submitting thread's. Read them on the
    /// submitting thread only after ``drain()``.
    private(set) var stores: [ShardBytes]
    /// Lanes that own shards (1 inline).
    private(set) var count = 1
    private var pool: WorkerPool?
    /// Jobs not yet handed over: one batch per lane, then the shared batch.
    private var batches: [[ByteJob]] = []
    private let makeStore: (_ lanes: Int) -> ShardBytes

    /// Jobs handed to the threads at once (fewer hand-offs; a seal job is tens of µs of work).
    static let batchJobs = 16
    /// Jobs queued before the submitter waits.
    static let maxQueuedJobs = 4096
    /// Shared jobs waiting before the submitting thread runs a batch itself.
    static let helpAfterJobs = 4 * batchJobs

    /// - Parameter makeStore: makes one lane's store, given the number of lanes (called once
    ///   now, and once per thread).
    init(makeStore: @escaping (_ lanes: Int) -> ShardBytes) {
        self.makeStore = makeStore
        stores = [makeStore(1)]
    }

    deinit { pool?.stop() }

    /// Moves job execution to `threads` background threads with a store each (call before any
    /// job is submitted: the inline store is replaced).
    func startThreads(_ threads: Int) {
        precondition(pool == nil && threads >= 1, "start the byte threads once, with at least one")
        let lanes = (0..<threads).map { _ in makeStore(threads) }
        stores = lanes + [stores[0]]   // the inline store becomes the submitting thread's
        count = threads
        batches = Array(repeating: [], count: threads + 1)
        pool = WorkerPool(stores: lanes)
    }

    /// Waits for every job, stops the background threads, and runs later jobs inline on the
    /// first store.
    func stopThreads() {
        drain()
        pool?.stop()
        pool = nil
    }

    /// Runs `job` on the lane `owner` (`nil`: any lane; only for jobs that touch no store state).
    func submit(_ job: ByteJob, owner: Int?) {
        guard let pool else { stores[0].run(job); return }
        let queue = owner ?? count
        batches[queue].append(job)
        if batches[queue].count >= ByteLanes.batchJobs { flush(queue, to: pool) }
    }

    /// Waits until every submitted job has run (helping with the shared ones).
    func drain() {
        guard let pool else { return }
        for queue in batches.indices { flush(queue, to: pool) }
        help(pool, whileAtLeast: 1)
        pool.waitIdle()
    }

    private func flush(_ queue: Int, to pool: WorkerPool) {
        guard !batches[queue].isEmpty else { return }
        pool.push(batches[queue], queue: queue)
        batches[queue] = []
        batches[queue].reserveCapacity(ByteLanes.batchJobs)
        if queue == count { help(pool, whileAtLeast: ByteLanes.helpAfterJobs) }
    }

    /// Runs shared batches on the submitting thread's store while at least `jobs` wait.
    private func help(_ pool: WorkerPool, whileAtLeast jobs: Int) {
        let own = stores[count]
        while let batch = pool.takeShared(ifAtLeast: jobs) {
            for job in batch { own.run(job) }
            pool.finished(batch)
        }
    }
}

/// The background threads of ``ByteLanes``: thread `i` runs the batches of queue `i` (its own
/// lane, in order) and, when that is empty, batches from the shared queue (the last one).
/// One mutex; condition variables for "work arrived" and "progress made".
private final class WorkerPool: @unchecked Sendable {
    private let stores: [ShardBytes]
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let work = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let progress = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var queues: [Deque<[ByteJob]>]
    private var queuedJobs = 0, sharedJobs = 0
    private var busy = 0
    private var stopping = false
    private var threads: [pthread_t] = []

    init(stores: [ShardBytes]) {
        self.stores = stores
        queues = Array(repeating: [], count: stores.count + 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(work, nil)
        pthread_cond_init(progress, nil)
        for index in stores.indices {
            let context = Unmanaged.passRetained(Context(pool: self, index: index)).toOpaque()
            var thread = pthread_t()
            let created = pthread_create(&thread, nil, { raw in
                let context = Unmanaged<Context>.fromOpaque(raw!).takeRetainedValue()
                context.pool.loop(context.index)
                return nil
            }, context)
            precondition(created == 0, "cannot start a payload thread (pthread_create: \(created))")
            threads.append(thread)
        }
    }

    private final class Context {
        unowned let pool: WorkerPool
        let index: Int
        init(pool: WorkerPool, index: Int) { self.pool = pool; self.index = index }
    }

    /// Queues a batch on queue `queue` (waits while too much is queued).
    func push(_ jobs: [ByteJob], queue: Int) {
        pthread_mutex_lock(mutex)
        while queuedJobs >= ByteLanes.maxQueuedJobs { pthread_cond_wait(progress, mutex) }
        queues[queue].append(jobs)
        queuedJobs += jobs.count
        if queue == queues.count - 1 { sharedJobs += jobs.count }
        pthread_cond_broadcast(work)
        pthread_mutex_unlock(mutex)
    }

    /// Takes a shared batch for the caller to run if at least `jobs` shared jobs wait; the
    /// caller reports it with ``finished(_:)``.
    func takeShared(ifAtLeast jobs: Int) -> [ByteJob]? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard sharedJobs >= jobs, let batch = queues[queues.count - 1].popFirst() else { return nil }
        sharedJobs -= batch.count
        busy += 1
        return batch
    }

    /// A batch from ``takeShared(ifAtLeast:)`` has run.
    func finished(_ batch: [ByteJob]) {
        pthread_mutex_lock(mutex)
        busy -= 1
        queuedJobs -= batch.count
        pthread_cond_broadcast(progress)
        pthread_mutex_unlock(mutex)
    }

    /// Waits until every queue is empty and no batch is running.
    func waitIdle() {
        pthread_mutex_lock(mutex)
        while queuedJobs > 0 || busy > 0 { pthread_cond_wait(progress, mutex) }
        pthread_mutex_unlock(mutex)
    }

    /// Finishes the queued work, then ends the threads and frees the primitives.
    func stop() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_broadcast(work)
        pthread_mutex_unlock(mutex)
        for thread in threads { pthread_join(thread, nil) }
        pthread_cond_destroy(progress); pthread_cond_destroy(work); pthread_mutex_destroy(mutex)
        progress.deallocate(); work.deallocate(); mutex.deallocate()
    }

    private func loop(_ index: Int) {
        let shared = queues.count - 1
        pthread_mutex_lock(mutex)
        while true {
            while queues[index].isEmpty && queues[shared].isEmpty && !stopping { pthread_cond_wait(work, mutex) }
            let jobs: [ByteJob]
            if let own = queues[index].popFirst() {
                jobs = own
            } else if let next = queues[shared].popFirst() {
                jobs = next
                sharedJobs -= next.count
            } else {
                break   // empty and stopping
            }
            busy += 1
            pthread_mutex_unlock(mutex)
            for job in jobs { stores[index].run(job) }
            pthread_mutex_lock(mutex)
            busy -= 1
            queuedJobs -= jobs.count
            pthread_cond_broadcast(progress)
        }
        pthread_mutex_unlock(mutex)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
