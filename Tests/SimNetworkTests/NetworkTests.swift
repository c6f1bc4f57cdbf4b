import XCTest
import SimCore
@testable import SimNetwork

/// The network model against its definition (Sources/SimNetwork/Network.swift): loss against
/// the configured probability (binomial), partitions one way only, per-kind delays replacing
/// the base delay (PBS/WARS), bandwidth serialisation size/bandwidth in FIFO order,
/// duplication and reordering with their counters, impairments undone exactly, and the flat
/// per-link counters.
final class NetworkTests: XCTestCase {
    static let ms = 1_000_000.0

    /// `count` DCs, every link with `latency` (ns), `lossPPM`, `bandwidth` (bits/s, 0 = none).
    func network(_ count: Int, latency: Distribution = .constant(10 * NetworkTests.ms), lossPPM: UInt32 = 0,
                 bandwidth: Int64 = 0, access: Distribution = .constant(0)) -> Network {
        Network(links: Array(repeating: LinkModel(latency: latency, lossPPM: lossPPM, bandwidthBitsPerSecond: bandwidth),
                             count: count * count),
                datacenterCount: count, accessLatency: access)
    }

    func node(_ dc: Int) -> Endpoint { Endpoint(datacenter: dc, isDevice: false) }
    func device(_ dc: Int) -> Endpoint { Endpoint(datacenter: dc, isDevice: true) }
    func at(_ ms: Double) -> SimTime { SimTime(nanoseconds: Int64(ms * NetworkTests.ms)) }

    /// |z| of a binomial count.
    func z(_ k: UInt64, n: Int, p: Double) -> Double {
        (Double(k) - Double(n) * p) / (Double(n) * p * (1 - p)).squareRoot()
    }

    func testLossRateIsBinomialAroundTheConfiguredLoss() {
        for (ppm, seed) in [(UInt32(10_000), UInt64(1)), (100_000, 2), (500_000, 3)] {
            var net = network(2, lossPPM: ppm)
            var rng = SimRandom(seed: seed)
            let n = 40_000
            var lost: UInt64 = 0
            for i in 0..<n {
                if net.send(from: node(0), to: node(1), sizeBytes: 100, kind: .replication, now: at(Double(i)), rng: &rng) == .lost {
                    lost += 1
                }
            }
            let p = Double(ppm) / 1e6
            XCTAssertLessThanOrEqual(abs(z(lost, n: n, p: p)), 4.5, "loss \(p): \(lost) of \(n)")
            XCTAssertEqual(net.counters(from: 0, to: 1).lost, lost)
            XCTAssertEqual(net.counters(from: 0, to: 1).messages, UInt64(n), "lost messages are still sent (counted)")
        }
    }

    func testExtraLossFromFaultsAddsAndIsUndoneExactly() {
        var net = network(2, lossPPM: 100_000)
        net.impair(from: 0, to: 1, id: 1, LinkImpairment(extraLossPPM: 200_000))
        net.impair(from: 0, to: 1, id: 2, LinkImpairment(extraLossPPM: 300_000))
        func lossShare(_ n: Int, seed: UInt64) -> Double {
            var rng = SimRandom(seed: seed)
            var lost = 0
            for i in 0..<n where net.send(from: node(0), to: node(1), sizeBytes: 10, kind: .control, now: at(Double(i)), rng: &rng) == .lost {
                lost += 1
            }
            return Double(lost) / Double(n)
        }
        XCTAssertEqual(lossShare(20_000, seed: 4), 0.6, accuracy: 4.5 * (0.24 / 20_000).squareRoot())
        net.restore(from: 0, to: 1, id: 2)
        XCTAssertEqual(lossShare(20_000, seed: 5), 0.3, accuracy: 4.5 * (0.21 / 20_000).squareRoot())
        net.restore(from: 0, to: 1, id: 1)
        XCTAssertEqual(net.lossPPM[1], 100_000, "back to the link's own loss")
        // Losses add but cap at 100%.
        net.impair(from: 0, to: 1, id: 3, LinkImpairment(extraLossPPM: 990_000))
        XCTAssertEqual(net.lossPPM[1], 1_000_000)
    }

    func testOneWayPartitionBlocksOneDirectionOnly() {
        var net = network(2)
        var rng = SimRandom(seed: 9)
        net.impair(from: 0, to: 1, id: 7, LinkImpairment(blocks: true))
        XCTAssertFalse(net.isReachable(from: 0, to: 1))
        XCTAssertTrue(net.isReachable(from: 1, to: 0))
        XCTAssertEqual(net.send(from: node(0), to: node(1), sizeBytes: 10, kind: .writeRequest, now: at(0), rng: &rng), .blocked)
        XCTAssertEqual(net.send(from: node(1), to: node(0), sizeBytes: 10, kind: .writeAck, now: at(0), rng: &rng),
                       .delivered(at: at(10)))
        // Two overlapping partitions: the link stays blocked until both are gone.
        net.impair(from: 0, to: 1, id: 8, LinkImpairment(blocks: true))
        net.restore(from: 0, to: 1, id: 7)
        XCTAssertEqual(net.send(from: node(0), to: node(1), sizeBytes: 10, kind: .writeRequest, now: at(1), rng: &rng), .blocked)
        net.restore(from: 0, to: 1, id: 8)
        XCTAssertEqual(net.send(from: node(0), to: node(1), sizeBytes: 10, kind: .writeRequest, now: at(2), rng: &rng),
                       .delivered(at: at(12)))
        XCTAssertEqual(net.counters(from: 0, to: 1).blocked, 2)
        XCTAssertEqual(net.counters(from: 1, to: 0).blocked, 0)
    }

    /// PBS/WARS: a per-kind distribution replaces the link's base delay for that kind only;
    /// the access hop and fault delays still add.
    func testPerKindDelayReplacesTheBaseDelay() {
        var net = network(2, access: .constant(2 * NetworkTests.ms))
        net.kindDelay[MessageKind.writeAck.rawValue] = .constant(42 * NetworkTests.ms)
        net.kindDelay[MessageKind.readResponse.rawValue] = .exponential(mean: 5 * NetworkTests.ms)
        var rng = SimRandom(seed: 3)
        XCTAssertEqual(net.send(from: node(0), to: node(1), sizeBytes: 10, kind: .writeAck, now: at(0), rng: &rng),
                       .delivered(at: at(42)))
        XCTAssertEqual(net.send(from: node(0), to: node(1), sizeBytes: 10, kind: .writeRequest, now: at(0), rng: &rng),
                       .delivered(at: at(10)))
        XCTAssertEqual(net.send(from: node(0), to: device(1), sizeBytes: 10, kind: .writeAck, now: at(0), rng: &rng),
                       .delivered(at: at(44)), "the device's access hop still adds")
        net.impair(from: 0, to: 1, id: 1, LinkImpairment(extraDelay: .constant(100 * NetworkTests.ms)))
        XCTAssertEqual(net.send(from: node(0), to: node(1), sizeBytes: 10, kind: .writeAck, now: at(0), rng: &rng),
                       .delivered(at: at(142)), "a fault's extra delay adds on top")
        net.restore(from: 0, to: 1, id: 1)
        // An exponential per-kind delay: its sample mean within sampling error of 5 ms.
        let n = 20_000
        var sum = 0.0
        for _ in 0..<n {
            guard case .delivered(let t) = net.send(from: node(1), to: node(0), sizeBytes: 10, kind: .readResponse,
                                                    now: .zero, rng: &rng) else { return XCTFail("not delivered") }
            sum += Double(t.nanoseconds)
        }
        let mean = sum / Double(n) / NetworkTests.ms
        XCTAssertEqual(mean, 5, accuracy: 4.5 * 5 / Double(n).squareRoot())
    }

    /// A message occupies a bandwidth-limited link for size/bandwidth; messages queue FIFO.
    func testBandwidthSerialisationDelay() {
        var net = network(2, bandwidth: 8_000_000)   // 8 Mbps: 1000 bytes take 1 ms
        var rng = SimRandom(seed: 1)
        XCTAssertEqual(net.send(from: node(0), to: node(1), sizeBytes: 1000, kind: .replication, now: at(0), rng: &rng),
                       .delivered(at: at(11)))
        // Sent at the same instant: waits for the first to leave the link.
        XCTAssertEqual(net.send(from: node(0), to: node(1), sizeBytes: 3000, kind: .replication, now: at(0), rng: &rng),
                       .delivered(at: at(14)))
        // The reverse direction has its own queue; an idle link starts at once.
        XCTAssertEqual(net.send(from: node(1), to: node(0), sizeBytes: 1000, kind: .replication, now: at(0), rng: &rng),
                       .delivered(at: at(11)))
        XCTAssertEqual(net.send(from: node(0), to: node(1), sizeBytes: 1000, kind: .replication, now: at(20), rng: &rng),
                       .delivered(at: at(31)))
        // A 90% bandwidth cut: ten times as long, restored exactly.
        net.impair(from: 0, to: 1, id: 1, LinkImpairment(bandwidthFactor: 0.1))
        XCTAssertEqual(net.send(from: node(0), to: node(1), sizeBytes: 1000, kind: .replication, now: at(100), rng: &rng),
                       .delivered(at: at(120)))
        net.restore(from: 0, to: 1, id: 1)
        XCTAssertEqual(net.send(from: node(0), to: node(1), sizeBytes: 1000, kind: .replication, now: at(200), rng: &rng),
                       .delivered(at: at(211)))
    }

    func testDuplicationIsBinomialAndCounted() {
        var net = network(2, latency: .uniform(5 * NetworkTests.ms, 15 * NetworkTests.ms))
        net.impair(from: 0, to: 1, id: 1, LinkImpairment(duplicatePPM: 250_000))
        var rng = SimRandom(seed: 12)
        let n = 20_000
        var duplicated: UInt64 = 0
        for i in 0..<n {
            if case .duplicated(let first, let second) = net.send(from: node(0), to: node(1), sizeBytes: 10, kind: .control,
                                                                   now: at(Double(i)), rng: &rng) {
                duplicated += 1
                // The copy follows the first delivery by one more base delay (5…15 ms).
                XCTAssertGreaterThanOrEqual(second - first, .milliseconds(5))
                XCTAssertLessThanOrEqual(second - first, .milliseconds(15))
            }
        }
        XCTAssertLessThanOrEqual(abs(z(duplicated, n: n, p: 0.25)), 4.5)
        XCTAssertEqual(net.counters(from: 0, to: 1).duplicated, duplicated)
        XCTAssertEqual(net.counters(from: 0, to: 1).messages, UInt64(n))
        net.restore(from: 0, to: 1, id: 1)
        XCTAssertEqual(net.duplicatePPM[1], 0)
    }

    /// Random per-message delay reorders: the counter equals a recount from the arrival times
    /// (a message that arrives before the latest arrival of those sent before it), constant
    /// delay never reorders, and a reordering fault's extra jitter reorders more.
    func testReorderingCounterMatchesArrivalTimes() {
        func run(_ net: inout Network, seed: UInt64) -> (counted: UInt64, recount: UInt64) {
            var rng = SimRandom(seed: seed)
            var latest = Int64.min, recount: UInt64 = 0
            for i in 0..<5_000 {
                guard case .delivered(let t) = net.send(from: node(0), to: node(1), sizeBytes: 10, kind: .control,
                                                        now: at(Double(i) * 2), rng: &rng) else { continue }
                if t.nanoseconds < latest { recount += 1 } else { latest = t.nanoseconds }
            }
            return (net.counters(from: 0, to: 1).reordered, recount)
        }
        var constant = network(2)
        XCTAssertEqual(run(&constant, seed: 1).counted, 0)
        var jittery = network(2, latency: .uniform(5 * NetworkTests.ms, 15 * NetworkTests.ms))
        let plain = run(&jittery, seed: 2)
        XCTAssertGreaterThan(plain.counted, 100)
        XCTAssertEqual(plain.counted, plain.recount)
        var faulty = network(2, latency: .uniform(5 * NetworkTests.ms, 15 * NetworkTests.ms))
        faulty.impair(from: 0, to: 1, id: 1, LinkImpairment(extraDelay: .exponential(mean: 20 * NetworkTests.ms)))
        let more = run(&faulty, seed: 2)
        XCTAssertEqual(more.counted, more.recount)
        XCTAssertGreaterThan(more.counted, plain.counted)
    }

    /// Counters are one flat array, row-major by source DC: each directed pair (and the
    /// diagonal, traffic inside a DC) counts its own messages and bytes; per kind too.
    func testFlatPerLinkCounters() {
        var net = network(3)
        var rng = SimRandom(seed: 5)
        var expected = [[(UInt64, UInt64)]](repeating: [(UInt64, UInt64)](repeating: (0, 0), count: 3), count: 3)
        var byKind = [UInt64](repeating: 0, count: MessageKind.allCases.count)
        for i in 0..<300 {
            let a = i % 3, b = (i / 3) % 3
            let size = 10 + i
            let kind = MessageKind.allCases[i % MessageKind.allCases.count]
            _ = net.send(from: i % 2 == 0 ? node(a) : device(a), to: node(b), sizeBytes: size, kind: kind, now: at(Double(i)), rng: &rng)
            expected[a][b].0 += 1
            expected[a][b].1 += UInt64(size)
            byKind[kind.rawValue] += 1
        }
        for a in 0..<3 {
            for b in 0..<3 {
                XCTAssertEqual(net.counters(from: a, to: b).messages, expected[a][b].0, "\(a)→\(b)")
                XCTAssertEqual(net.counters(from: a, to: b).bytes, expected[a][b].1, "\(a)→\(b)")
                XCTAssertEqual(net.counters[a * 3 + b], net.counters(from: a, to: b))
            }
        }
        XCTAssertEqual(net.messagesByKind, byKind)
        XCTAssertEqual(net.bytesByKind.reduce(0, +), expected.flatMap { $0 }.reduce(0) { $0 + $1.1 })
    }

    /// Devices reach their DC over the access hop, once per device end.
    func testAccessHopPerDeviceEnd() {
        var net = network(2, access: .constant(3 * NetworkTests.ms))
        var rng = SimRandom(seed: 1)
        XCTAssertEqual(net.send(from: device(0), to: node(1), sizeBytes: 1, kind: .control, now: at(0), rng: &rng), .delivered(at: at(13)))
        XCTAssertEqual(net.send(from: device(0), to: device(1), sizeBytes: 1, kind: .control, now: at(0), rng: &rng), .delivered(at: at(16)))
        XCTAssertEqual(net.send(from: node(0), to: node(0), sizeBytes: 1, kind: .control, now: at(0), rng: &rng), .delivered(at: at(10)))
    }

    /// The same seed gives the same fates and times.
    func testDeterministicForASeed() {
        func fates(_ seed: UInt64) -> [Transit] {
            var net = network(2, latency: .exponential(mean: 10 * NetworkTests.ms), lossPPM: 50_000)
            net.impair(from: 0, to: 1, id: 1, LinkImpairment(duplicatePPM: 100_000))
            var rng = SimRandom(seed: seed)
            return (0..<500).map { net.send(from: node(0), to: node(1), sizeBytes: 100, kind: .control, now: at(Double($0)), rng: &rng) }
        }
        XCTAssertEqual(fates(77), fates(77))
        XCTAssertNotEqual(fates(77), fates(78))
    }
}
