import Collections

/// Runs a ``ShardBytes`` store's jobs in submission order: on the caller's thread (the
/// default), or on one background thread after ``startThread()``.
///
/// The background thread is the one place the simulator uses a second core within a run: the
/// byte work (payload synthesis, LZ4, AES-256-GCM, ISA-L) never feeds back into the simulated
/// outcome — the model half decides it and the bytes only confirm it — so it can run behind
/// the event loop. One thread and FIFO order keep the store's state and statistics identical
/// to an inline run. The queue is bounded (``maxQueuedJobs``): a simulation that outruns its
/// byte work waits rather than queueing without limit.
final class ByteLane {
    /// The store. Read it on the submitting thread only after ``drain()``.
    let store: ShardBytes
    private var thread: ByteThread?
    private var batch: [ByteJob] = []

    /// Jobs handed to the thread at once (fewer hand-offs; a seal job is tens of µs of work).
    static let batchJobs = 16
    /// Jobs queued before the submitter waits.
    static let maxQueuedJobs = 4096

    init(store: ShardBytes) { self.store = store }

    deinit { thread?.stop() }

    /// Whether jobs run on a background thread.
    var isThreaded: Bool { thread != nil }

    /// Moves job execution to a background thread (call before submitting anything that
    /// should run there; jobs already run stay run).
    func startThread() {
        guard thread == nil else { return }
        thread = ByteThread(store: store)
    }

    /// Waits for every job, stops the background thread, and runs later jobs inline.
    func stopThread() {
        drain()
        thread?.stop()
        thread = nil
    }

    func submit(_ job: ByteJob) {
        guard let thread else { store.run(job); return }
        batch.append(job)
        if batch.count >= ByteLane.batchJobs { flush(thread) }
    }

    /// Waits until every submitted job has run.
    func drain() {
        guard let thread else { return }
        flush(thread)
        thread.waitIdle()
    }

    private func flush(_ thread: ByteThread) {
        guard !batch.isEmpty else { return }
        thread.push(batch)
        batch = []
        batch.reserveCapacity(ByteLane.batchJobs)
    }
}

/// The background thread of a ``ByteLane``: a FIFO of job batches under a mutex, two
/// condition variables (work arrived; progress made).
private final class ByteThread: @unchecked Sendable {
    private let store: ShardBytes
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let work = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let progress = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var queue = Deque<[ByteJob]>()
    private var queuedJobs = 0
    private var busy = false
    private var stopping = false
    private var thread = pthread_t()

    init(store: ShardBytes) {
        self.store = store
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(work, nil)
        pthread_cond_init(progress, nil)
        let created = pthread_create(&thread, nil, { context in
            Unmanaged<ByteThread>.fromOpaque(context!).takeUnretainedValue().loop()
            return nil
        }, Unmanaged.passUnretained(self).toOpaque())
        precondition(created == 0, "cannot start the payload thread (pthread_create: \(created))")
    }

    /// Queues a batch (waits while the queue is full).
    func push(_ jobs: [ByteJob]) {
        pthread_mutex_lock(mutex)
        while queuedJobs >= ByteLane.maxQueuedJobs { pthread_cond_wait(progress, mutex) }
        queue.append(jobs)
        queuedJobs += jobs.count
        pthread_cond_signal(work)
        pthread_mutex_unlock(mutex)
    }

    /// Waits until the queue is empty and no batch is running.
    func waitIdle() {
        pthread_mutex_lock(mutex)
        while !queue.isEmpty || busy { pthread_cond_wait(progress, mutex) }
        pthread_mutex_unlock(mutex)
    }

    /// Finishes the queued work, then ends the thread and frees the primitives.
    func stop() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_signal(work)
        pthread_mutex_unlock(mutex)
        pthread_join(thread, nil)
        pthread_cond_destroy(progress); pthread_cond_destroy(work); pthread_mutex_destroy(mutex)
        progress.deallocate(); work.deallocate(); mutex.deallocate()
    }

    private func loop() {
        pthread_mutex_lock(mutex)
        while true {
            while queue.isEmpty && !stopping { pthread_cond_wait(work, mutex) }
            guard let jobs = queue.popFirst() else { break }   // empty and stopping
            busy = true
            pthread_mutex_unlock(mutex)
            for job in jobs { store.run(job) }
            pthread_mutex_lock(mutex)
            busy = false
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
