// The kernel benchmark: the hold model on the real `EventQueue`.
//
// P events are pending at all times; each popped event schedules exactly one new event at
// now + Exp(1 s), drawn from `SimRandom`; N pops in total. This is the same loop as
// `../shared/reference-bench/hold_c.c` (a bare C binary heap), so `Scripts/bench.sh kernel`
// can run both side by side and report dcsim's events/s as a ratio of the C loop's.
//
// Like the C program, the timed region includes filling the queue with the first P events,
// and the output line is `key=value` pairs:
//   impl=dcsim-eventqueue N=… P=… sim_time=… check=… secs=… events_per_s=… ns_per_event=…
// `check` sums a few bits of every popped payload so the optimiser cannot drop the work.
//
// The wall clock is read here, in the benchmark driver, and never in SimCore.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SimCore

enum KernelBench {
    static let usage = """
        usage: dcsim-bench kernel [N=10000000] [P=10000] [seed=42]
          Hold model on SimCore.EventQueue: P pending events, N pops, each pop schedules one
          event at now + Exp(1 s). Prints one key=value line (same keys as hold_c.c).
        """

    static func run(_ args: [String]) {
        if args.contains(where: { $0 == "-h" || $0 == "--help" }) {
            print(usage)
            return
        }
        func argument(_ i: Int, default value: UInt64) -> UInt64 {
            guard i < args.count else { return value }
            guard let v = UInt64(args[i].filter { $0 != "_" }) else {
                print("dcsim-bench kernel: '\(args[i])' is not a non-negative integer\n\(usage)")
                exit(2)
            }
            return v
        }
        let n = argument(0, default: 10_000_000)
        let p = argument(1, default: 10_000)
        let seed = argument(2, default: 42)
        guard n >= 1, p >= 1, p < (1 << 24) else {
            print("dcsim-bench kernel: need N >= 1 and P in 1..<16777216, got N=\(n) P=\(p)")
            exit(2)
        }
        let result = hold(pops: Int(n), pending: Int(p), seed: seed)
        let perSecond = Double(n) / result.seconds
        print("impl=dcsim-eventqueue N=\(n) P=\(p) sim_time=\(fixed(result.simTime.seconds, 6))"
              + " check=\(result.check) secs=\(fixed(result.seconds, 4))"
              + " events_per_s=\(fixed(perSecond, 0)) ns_per_event=\(fixed(result.seconds * 1e9 / Double(n), 1))")
    }

    /// Runs the hold model and returns the wall time it took (fill included, as in hold_c.c).
    @inline(never)
    static func hold(pops n: Int, pending p: Int, seed: UInt64) -> (seconds: Double, simTime: SimTime, check: UInt64) {
        var rng = SimRandom(root: seed, label: "kernel-bench")
        // The payload stands for a driver's small event value (an index into its own tables).
        var queue = EventQueue<UInt32>(capacity: p)
        let meanNanoseconds = 1e9
        var next: UInt32 = 0
        let t0 = monotonicSeconds()
        for _ in 0..<p {
            let delay = SimDuration(sampledNanoseconds: -meanNanoseconds * log(rng.unitOpenClosed()))
            queue.schedule(next, at: .zero + delay)
            next &+= 1
        }
        var now = SimTime.zero
        var check: UInt64 = 0
        for _ in 0..<n {
            // The queue never runs dry: every pop is followed by one schedule.
            guard let event = queue.pop() else { break }
            now = event.time
            check &+= UInt64(event.payload & 1023)
            let delay = SimDuration(sampledNanoseconds: -meanNanoseconds * log(rng.unitOpenClosed()))
            queue.schedule(next, at: now + delay)
            next &+= 1
        }
        let seconds = monotonicSeconds() - t0
        return (seconds, now, check)
    }

    static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// `x` with `digits` decimals, no exponent (deterministic, locale-free).
    static func fixed(_ x: Double, _ digits: Int) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        _ = withVaList([x]) { vsnprintf(&buffer, buffer.count, "%.\(digits)f", $0) }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
