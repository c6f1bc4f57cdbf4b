import XCTest
@testable import SimCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The node service model: unit behaviour of `ServiceStation` and `RingBuffer`, and queueing
/// theory checks of the station driven by the real `EventQueue` with Poisson arrivals and
/// exponential service (M/M/1, M/M/c against Erlang C, M/M/1/K blocking).
///
/// Successive waiting times in a queue are strongly autocorrelated, so the confidence
/// intervals come from batch means (consecutive customers in long batches), not from the
/// per-customer standard deviation, which would be far too optimistic.
final class ServiceStationTests: XCTestCase {

    // MARK: Unit behaviour

    func testJobsStartWhileServersAreFreeThenQueueFIFO() {
        var s = ServiceStation<Int>(servers: 2, capacity: 10)
        XCTAssertEqual(s.arrive(1), .started)
        XCTAssertEqual(s.arrive(2), .started)
        XCTAssertEqual(s.arrive(3), .queued)
        XCTAssertEqual(s.arrive(4), .queued)
        XCTAssertEqual(s.busy, 2)
        XCTAssertEqual(s.waiting, 2)
        XCTAssertEqual(s.complete(), 3, "the head of the line takes the freed server")
        XCTAssertEqual(s.busy, 2)
        XCTAssertEqual(s.complete(), 4)
        XCTAssertEqual(s.complete(), nil, "no one waiting: the server goes idle")
        XCTAssertEqual(s.busy, 1)
        XCTAssertEqual(s.arrive(5), .started)
        XCTAssertEqual(s.complete(), nil)
        XCTAssertEqual(s.complete(), nil)
        XCTAssertEqual(s.busy, 0)
        XCTAssertEqual(s.waiting, 0)
        XCTAssertEqual(s.rejected, 0)
    }

    func testRejectsWhenTheLineIsFull() {
        var s = ServiceStation<String>(servers: 1, capacity: 2)
        XCTAssertEqual(s.arrive("a"), .started)
        XCTAssertEqual(s.arrive("b"), .queued)
        XCTAssertEqual(s.arrive("c"), .queued)
        XCTAssertEqual(s.arrive("d"), .rejected)
        XCTAssertEqual(s.arrive("e"), .rejected)
        XCTAssertEqual(s.rejected, 2)
        XCTAssertEqual(s.waiting, 2)
        XCTAssertEqual(s.complete(), "b")
        XCTAssertEqual(s.arrive("f"), .queued, "room again after a job left the line")
        XCTAssertEqual(s.complete(), "c")
        XCTAssertEqual(s.complete(), "f")
        XCTAssertEqual(s.complete(), nil)
        XCTAssertEqual(s.rejected, 2)
    }

    func testZeroCapacityMeansNoWaiting() {
        var s = ServiceStation<Int>(servers: 1, capacity: 0)
        XCTAssertEqual(s.arrive(1), .started)
        XCTAssertEqual(s.arrive(2), .rejected)
        XCTAssertEqual(s.complete(), nil)
        XCTAssertEqual(s.arrive(3), .started)
    }

    func testResetDropsTheLineAndFreesServers() {
        var s = ServiceStation<Int>(servers: 1, capacity: 5)
        for i in 0..<4 { _ = s.arrive(i) }
        XCTAssertEqual(s.reset(), [1, 2, 3])
        XCTAssertEqual(s.busy, 0)
        XCTAssertEqual(s.waiting, 0)
        XCTAssertEqual(s.arrive(9), .started)
    }

    func testRingBufferMatchesAnArrayQueue() {
        var rng = SimRandom(seed: 31)
        var ring = RingBuffer<Int>()
        var model: [Int] = []
        var next = 0
        for step in 0..<20_000 {
            // Biased towards growth early, shrinking later: exercises wrap-around and growth.
            if rng.chance(ppm: step < 10_000 ? 600_000 : 400_000) {
                ring.append(next)
                model.append(next)
                next += 1
            } else {
                XCTAssertEqual(ring.popFirst(), model.isEmpty ? nil : model.removeFirst(), "step \(step)")
            }
            XCTAssertEqual(ring.count, model.count, "step \(step)")
            XCTAssertEqual(ring.first, model.first, "step \(step)")
            XCTAssertEqual(ring.isEmpty, model.isEmpty)
        }
    }

    // MARK: Queueing theory

    struct Job: Sendable { var id: Int; var arrived: SimTime }

    enum Event { case arrival, departure(Job) }

    struct Outcome {
        /// Per customer, in arrival order: waiting time in line and time in system (ns);
        /// NaN for rejected customers.
        var wait: [Double]
        var sojourn: [Double]
        var rejected: [Bool]
    }

    /// Simulates `customers` arrivals to a station with `servers` exponential servers (mean
    /// service `1/mu`) and Poisson arrivals at rate `lambda` (rates per millisecond), driven by
    /// the real `EventQueue`.
    static func simulate(servers: Int, capacity: Int, lambda: Double, mu: Double,
                         customers: Int, seed: UInt64) -> Outcome {
        let interarrival = Distribution.exponential(mean: 1e6 / lambda)  // ns
        let service = Distribution.exponential(mean: 1e6 / mu)
        var arrivalRNG = SimRandom(root: seed, label: "arrivals")
        var serviceRNG = SimRandom(root: seed, label: "service")
        var station = ServiceStation<Job>(servers: servers, capacity: capacity)
        var queue = EventQueue<Event>()
        var out = Outcome(wait: Array(repeating: .nan, count: customers),
                          sojourn: Array(repeating: .nan, count: customers),
                          rejected: Array(repeating: false, count: customers))
        var arrived = 0
        queue.schedule(.arrival, at: SimTime.zero + SimDuration(sampledNanoseconds: interarrival.sample(&arrivalRNG)))
        while let (now, event) = queue.pop() {
            switch event {
            case .arrival:
                let job = Job(id: arrived, arrived: now)
                arrived += 1
                switch station.arrive(job) {
                case .started:
                    out.wait[job.id] = 0
                    queue.schedule(.departure(job), at: now + SimDuration(sampledNanoseconds: service.sample(&serviceRNG)))
                case .queued:
                    break
                case .rejected:
                    out.rejected[job.id] = true
                }
                if arrived < customers {
                    queue.schedule(.arrival, at: now + SimDuration(sampledNanoseconds: interarrival.sample(&arrivalRNG)))
                }
            case .departure(let job):
                out.sojourn[job.id] = Double((now - job.arrived).nanoseconds)
                if let next = station.complete() {
                    out.wait[next.id] = Double((now - next.arrived).nanoseconds)
                    queue.schedule(.departure(next), at: now + SimDuration(sampledNanoseconds: service.sample(&serviceRNG)))
                }
            }
        }
        return out
    }

    /// Checks a batch-means estimate against theory with a t-based interval at `Stats.alpha`.
    func assertMatches(_ xs: [Double], theory: Double, batches: Int = 40, _ what: String,
                       file: StaticString = #filePath, line: UInt = #line) {
        let (mean, se) = Stats.batchMeans(xs, batches: batches)
        let t = Stats.tQuantile(1 - Stats.alpha / 2, degreesOfFreedom: batches - 1)
        XCTAssertEqual(mean, theory, accuracy: t * se,
                       "\(what): estimate \(mean) ± \(t)·\(se) (batch means), theory \(theory)",
                       file: file, line: line)
        // The interval must also be tight enough to mean something: within 8% of theory.
        XCTAssertLessThan(t * se, 0.08 * abs(theory), "\(what): interval too wide to be a test", file: file, line: line)
    }

    func testMM1AtLoadPoint8MatchesQueueingTheory() {
        // λ = 0.8/ms, μ = 1/ms: ρ = 0.8, E[T] = 1/(μ−λ) = 5 ms, E[W] = ρ/(μ−λ) = 4 ms,
        // P(W = 0) = 1 − ρ = 0.2.
        let lambda = 0.8, mu = 1.0, rho = lambda / mu
        let seed: UInt64 = 2024
        let customers = 1_000_000
        let out = Self.simulate(servers: 1, capacity: .max, lambda: lambda, mu: mu, customers: customers, seed: seed)
        // Drop a warm-up prefix (the queue starts empty), then batch.
        let warm = customers / 40
        let sojournMs = out.sojourn[warm...].map { $0 / 1e6 }
        let waitMs = out.wait[warm...].map { $0 / 1e6 }
        let noWait = out.wait[warm...].map { $0 == 0 ? 1.0 : 0.0 }
        XCTAssertFalse(sojournMs.contains { $0.isNaN }, "seed \(seed): every customer departs")
        assertMatches(Array(sojournMs), theory: 1 / (mu - lambda), "M/M/1 ρ=0.8 seed \(seed): mean time in system (ms)")
        assertMatches(Array(waitMs), theory: rho / (mu - lambda), "M/M/1 ρ=0.8 seed \(seed): mean wait (ms)")
        assertMatches(Array(noWait), theory: 1 - rho, "M/M/1 ρ=0.8 seed \(seed): P(wait = 0)")
        XCTAssertFalse(out.rejected.contains(true))
    }

    func testMMcMatchesErlangC() {
        // c = 4, ρ = λ/(cμ) = 0.7: offered load a = 2.8.
        let c = 4, mu = 1.0, rho = 0.7
        let lambda = rho * Double(c) * mu
        let a = lambda / mu
        var sum = 0.0, term = 1.0
        for k in 0..<c {
            if k > 0 { term *= a / Double(k) }
            sum += term
        }
        let top = term * a / Double(c) * Double(c) / (Double(c) - a)  // a^c/c! · c/(c−a)
        let erlangC = top / (sum + top)
        let meanWait = erlangC / (Double(c) * mu - lambda)
        let seed: UInt64 = 77
        let customers = 1_000_000
        let out = Self.simulate(servers: c, capacity: .max, lambda: lambda, mu: mu, customers: customers, seed: seed)
        let warm = customers / 40
        assertMatches(out.wait[warm...].map { $0 == 0 ? 0.0 : 1.0 }, theory: erlangC,
                      "M/M/4 ρ=0.7 seed \(seed): P(wait > 0) (Erlang C \(erlangC))")
        assertMatches(out.wait[warm...].map { $0 / 1e6 }, theory: meanWait, "M/M/4 ρ=0.7 seed \(seed): mean wait (ms)")
        assertMatches(out.sojourn[warm...].map { $0 / 1e6 }, theory: meanWait + 1 / mu,
                      "M/M/4 ρ=0.7 seed \(seed): mean time in system (ms)")
    }

    func testMM1KBlockingProbability() {
        // One server and a line of 4: at most K = 5 in the system. By PASTA an arrival is
        // rejected with the stationary probability of a full system, (1−ρ)ρ^K / (1−ρ^(K+1)).
        let lambda = 0.9, mu = 1.0, rho = lambda / mu
        let lineCapacity = 4, k = Double(lineCapacity + 1)
        let blocking = (1 - rho) * pow(rho, k) / (1 - pow(rho, k + 1))
        let seed: UInt64 = 5
        let customers = 200_000
        let out = Self.simulate(servers: 1, capacity: lineCapacity, lambda: lambda, mu: mu, customers: customers, seed: seed)
        assertMatches(out.rejected.map { $0 ? 1.0 : 0.0 }, theory: blocking, "M/M/1/5 ρ=0.9 seed \(seed): P(rejected)")
        // Rejected customers never wait or depart; everyone else does.
        for i in 0..<customers {
            XCTAssertEqual(out.rejected[i], out.sojourn[i].isNaN, "seed \(seed) customer \(i)")
            if out.rejected[i] != out.sojourn[i].isNaN { break }
        }
    }

    func testQueueSimulationIsDeterministic() {
        let a = Self.simulate(servers: 2, capacity: 3, lambda: 1.5, mu: 1, customers: 5_000, seed: 9)
        let b = Self.simulate(servers: 2, capacity: 3, lambda: 1.5, mu: 1, customers: 5_000, seed: 9)
        XCTAssertEqual(a.sojourn.map(\.bitPattern), b.sojourn.map(\.bitPattern))
        XCTAssertEqual(a.rejected, b.rejected)
        let c = Self.simulate(servers: 2, capacity: 3, lambda: 1.5, mu: 1, customers: 5_000, seed: 10)
        XCTAssertNotEqual(a.sojourn.map(\.bitPattern), c.sojourn.map(\.bitPattern))
    }
}
