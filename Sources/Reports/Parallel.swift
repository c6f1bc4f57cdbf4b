import Foundation

/// Runs independent jobs on worker threads and returns their results in index order.
///
/// Each job (one simulation) is single-threaded and owns all its state, so jobs may run
/// concurrently; the results do not depend on the number of workers or on which finishes
/// first, because each lands in its own slot.
public enum Parallel {
    /// Worker stack size: a simulation's deepest frames are well below this.
    static let stackBytes = 64 << 20

    /// Calls `body(i)` for every `i` in `0..<count` on `jobs` threads.
    /// - Parameters:
    ///   - progress: called after each job with the number finished so far (from a worker
    ///     thread, one call at a time).
    /// - Returns: `body`'s results, index-aligned.
    /// - Throws: the error of the lowest-indexed failed job (later jobs are not started
    ///   once one has failed).
    public static func map<T: Sendable>(count: Int, jobs: Int, progress: (@Sendable (Int) -> Void)? = nil,
                                        _ body: @escaping @Sendable (Int) throws -> T) throws -> [T] {
        precondition(jobs >= 1, "Parallel.map: jobs must be at least 1, got \(jobs)")
        let state = State<T>(count: count)
        let workers = min(jobs, count)
        if workers <= 1 {
            for i in 0..<count {
                state.store(i, Result { try body(i) })
                if let progress { progress(i + 1) }
                if state.failed { break }
            }
        } else {
            let group = DispatchGroup()
            for _ in 0..<workers {
                group.enter()
                let thread = Thread {
                    while let i = state.next() {
                        let done = state.store(i, Result { try body(i) })
                        if let progress { state.locked { progress(done) } }
                    }
                    group.leave()
                }
                thread.stackSize = stackBytes
                thread.start()
            }
            group.wait()
        }
        return try state.results()
    }

    /// The shared work queue and result slots, behind one lock.
    final class State<T: Sendable>: @unchecked Sendable {
        let lock = NSLock()
        let reportLock = NSLock()
        var nextIndex = 0
        var finished = 0
        var slots: [Result<T, Error>?]
        var failed = false

        init(count: Int) { slots = Array(repeating: nil, count: count) }

        func next() -> Int? {
            lock.lock(); defer { lock.unlock() }
            guard !failed, nextIndex < slots.count else { return nil }
            nextIndex += 1
            return nextIndex - 1
        }

        @discardableResult
        func store(_ i: Int, _ r: Result<T, Error>) -> Int {
            lock.lock(); defer { lock.unlock() }
            slots[i] = r
            if case .failure = r { failed = true }
            finished += 1
            return finished
        }

        /// Serialises progress callbacks (which may write to a terminal).
        func locked(_ f: () -> Void) {
            reportLock.lock(); defer { reportLock.unlock() }
            f()
        }

        func results() throws -> [T] {
            var out: [T] = []
            out.reserveCapacity(slots.count)
            for slot in slots {
                switch slot {
                case .success(let v)?: out.append(v)
                case .failure(let e)?: throw e
                case nil: break  // not started after an earlier failure; that failure is thrown first
                }
            }
            return out
        }
    }
}
