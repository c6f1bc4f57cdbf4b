import XCTest
import Foundation
import SimCore
import SimConfig
import SimTestSupport
@testable import Simulation

/// Queue figures through the whole engine against queueing theory (issue 6): one node with
/// exponential service times and Poisson message arrivals (a Poisson process shifted by a
/// constant network delay stays Poisson), nothing else touching the disk (one copy, no sync,
/// no edits, deletes, expiries or history reads). The node's mean queue wait
/// (`NodeFigures.wait`) must match M/M/1, Wq = ρ / (μ − λ), and with `servers: c` M/M/c,
/// Wq = C(c, λ/μ) / (cμ − λ) with Erlang's C formula — within sampling error, estimated from
/// independent replications (one run per seed: the replication means are independent and
/// nearly normal, which per-job waits, strongly autocorrelated, are not).
final class QueueTheoryTests: XCTestCase {
    /// Runs one replication per seed and returns the node's mean wait and mean response (s).
    func replications(servers: Int, serviceMean: Double, rate: Double, seeds: ClosedRange<UInt64>,
                      duration: String) throws -> (waits: [Double], responses: [Double], served: [UInt64]) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dcsim-queue-\(getpid())-\(servers)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let service = "{dist: exponential, mean: \(Int(serviceMean * 1e6))us}"
        let topology = dir.appendingPathComponent("solo.yaml")
        try """
            name: solo
            description: one DC, one node with exponential service times (queueing tests)
            defaults:
              node: {servers: \(servers), queue_capacity: 1000000, disk: 1TiB,
                     service: {read: \(service), write: \(service), delete: \(service), repair: \(service)}}
              intra_dc: {latency: 100us, loss: 0, bandwidth: unlimited}
              access: 5ms
            datacenters:
              - {id: solo, city: Ashburn, lat: 39.04, lon: -77.49, region: us, jurisdiction: us, nodes: 1}
            """.write(to: topology, atomically: true, encoding: .utf8)
        var waits: [Double] = [], responses: [Double] = [], served: [UInt64] = []
        for seed in seeds {
            let s = try ConfigLoader.loadScenario(yaml: """
                name: queue-theory
                topology: \(topology.path)
                seed: \(seed)
                duration: \(duration)
                warmup: 0
                payload: sizes
                strategy: single-dc
                workload:
                  users: 50
                  rate: \(rate)/s
                  secret_chats: 0
                  edits: 0
                  deletes: 0
                  ttl: {share: 0}
                  device_sync: false
                  history_reads: 0/s
                """, source: "test:queue", baseDirectory: nil)
            let r = try Simulator.run(s)
            XCTAssertEqual(r.nodes.count, 1)
            XCTAssertEqual(r.nodes[0].rejected, 0)
            waits.append(r.nodes[0].wait.mean / 1000)
            responses.append(r.nodes[0].response.mean / 1000)
            served.append(r.nodes[0].served)
        }
        return (waits, responses, served)
    }

    /// Erlang's C formula: the probability that an arrival waits in M/M/c with offered load a = λ/μ.
    func erlangC(servers c: Int, load a: Double) -> Double {
        var term = 1.0, sum = 0.0
        for k in 0..<c {
            if k > 0 { term *= a / Double(k) }
            sum += term
        }
        let top = term * a / Double(c) * Double(c) / (Double(c) - a)   // a^c / c! · c / (c − a)
        return top / (sum + top)
    }

    func meanAndStandardError(_ xs: [Double]) -> (mean: Double, se: Double) {
        let n = Double(xs.count)
        let mean = xs.reduce(0, +) / n
        let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
        return (mean, (variance / n).squareRoot())
    }

    /// Asserts the replication mean is within 4.5 standard errors of theory (t with 15 degrees
    /// of freedom: P(|t| > 4.5) ≈ 0.04%), and that the test has power: the standard error is
    /// small next to the value (a wrong model, e.g. service time counted as wait, fails widely).
    func assertMatches(_ xs: [Double], theory: Double, what: String, file: StaticString = #filePath, line: UInt = #line) {
        let (mean, se) = meanAndStandardError(xs)
        XCTAssertLessThan(se, theory * 0.08, "\(what): standard error \(se) s too large for a useful test", file: file, line: line)
        XCTAssertLessThanOrEqual(abs(mean - theory), 4.5 * se, "\(what): mean \(mean) s vs theory \(theory) s (se \(se))",
                                 file: file, line: line)
    }

    /// M/M/1 at ρ = 0.6: Wq = ρ / (μ − λ) = 15 ms; response W = 1 / (μ − λ) = 25 ms.
    func testSingleServerMatchesMM1() throws {
        let mu = 100.0, lambda = 60.0
        let r = try replications(servers: 1, serviceMean: 1 / mu, rate: lambda, seeds: 1...16, duration: "30s")
        let rho = lambda / mu
        assertMatches(r.waits, theory: rho / (mu - lambda), what: "M/M/1 Wq")
        assertMatches(r.responses, theory: 1 / (mu - lambda), what: "M/M/1 W")
        // Every message was one disk job: λ·T of them, within Poisson error.
        let jobs = Double(r.served.reduce(0, +)) / Double(r.served.count)
        XCTAssertEqual(jobs, lambda * 30, accuracy: 4.5 * (lambda * 30 / 16).squareRoot())
    }

    /// M/M/3 at ρ = 0.7 (a = 2.1): Wq = C(3, 2.1) / (3μ − λ) ≈ 5.5 ms.
    func testMultiServerMatchesErlangC() throws {
        let mu = 100.0, lambda = 210.0, c = 3
        let r = try replications(servers: c, serviceMean: 1 / mu, rate: lambda, seeds: 101...116, duration: "20s")
        let wq = erlangC(servers: c, load: lambda / mu) / (Double(c) * mu - lambda)
        assertMatches(r.waits, theory: wq, what: "M/M/3 Wq")
        assertMatches(r.responses, theory: wq + 1 / mu, what: "M/M/3 W")
        // The M/M/1 formula at the same utilisation would be far off: the check discriminates.
        let mm1 = 0.7 / (mu - 0.7 * mu)
        XCTAssertGreaterThan(abs(meanAndStandardError(r.waits).mean - mm1), 0.01)
    }

    /// Erlang C against values computed by hand.
    func testErlangCFormula() {
        XCTAssertEqual(erlangC(servers: 1, load: 0.6), 0.6, accuracy: 1e-12)   // M/M/1: P(wait) = ρ
        // c = 2, a = 1: (1/2 · 2) / (1 + 1 + 1) = 1/3.
        XCTAssertEqual(erlangC(servers: 2, load: 1), 1.0 / 3, accuracy: 1e-12)
        // c = 3, a = 2.4: a³/3! · 3/0.6 = 2.304 · 5 = 11.52; Σ = 1 + 2.4 + 2.88 = 6.28 → 11.52 / 17.8.
        XCTAssertEqual(erlangC(servers: 3, load: 2.4), 11.52 / 17.8, accuracy: 1e-12)
    }
}
