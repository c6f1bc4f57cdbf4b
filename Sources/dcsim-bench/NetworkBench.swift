// The message-delivery benchmark: messages in flight through the real network model
// (`SimNetwork.Network`) and the real event queue (`SimCore.EventQueue`).
//
// M messages are in flight at all times; each delivery at a DC sends one new message from that
// DC to a DC drawn uniformly (a random link, the intra-DC link included) through
// `Network.send` — which draws loss, the link's delay distribution and serialisation behind
// earlier messages on the link — and schedules its delivery. N deliveries in total. This is
// the engine's per-message cost without a strategy or disks: a flat figure across M is what
// "allocation-light, no per-event class or closure" buys.
//
// The world: nine DCs at the cities of the nine-DC global layout, one-way delay log-normal
// with the median from the great-circle distance (5 µs/km × route factor 1.5, + 0.5 ms) and
// sigma 0.1, 100 µs inside a DC, 10 Gbit/s links, 1 KiB messages, no loss.
//
// Output, one key=value line (Scripts/bench.sh puts it next to hold_c.c's events/s):
//   impl=dcsim-network N=… M=… sim_time=… check=… secs=… msgs_per_s=… ns_per_msg=…
// The wall clock is read here, in the benchmark driver, never in the simulation modules.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SimCore
import SimNetwork

enum NetworkBench {
    static let usage = """
        usage: dcsim-bench network [N=5000000] [M=10000] [seed=42]
          M messages in flight through SimNetwork + EventQueue; each delivery sends a new
          message on a random link. N deliveries. Prints one key=value line.
        """

    /// (latitude, longitude) of the nine DCs (Miami, São Paulo, Ashburn, Amsterdam,
    /// Frankfurt, London, Singapore, Tokyo, Sydney).
    static let cities: [(Double, Double)] = [
        (25.76, -80.19), (-23.55, -46.63), (39.04, -77.49), (52.37, 4.90), (50.11, 8.68),
        (51.51, -0.13), (1.35, 103.82), (35.68, 139.69), (-33.87, 151.21),
    ]
    static let messageBytes = 1024

    static func run(_ args: [String]) {
        if args.contains(where: { $0 == "-h" || $0 == "--help" }) {
            print(usage)
            return
        }
        func argument(_ i: Int, default value: UInt64) -> UInt64 {
            guard i < args.count else { return value }
            guard let v = UInt64(args[i].filter { $0 != "_" }) else {
                print("dcsim-bench network: '\(args[i])' is not a non-negative integer\n\(usage)")
                exit(2)
            }
            return v
        }
        let n = argument(0, default: 5_000_000)
        let m = argument(1, default: 10_000)
        let seed = argument(2, default: 42)
        guard n >= 1, m >= 1, m <= 10_000_000 else {
            print("dcsim-bench network: need N >= 1 and M in 1...10000000, got N=\(n) M=\(m)")
            exit(2)
        }
        let result = deliver(count: Int(n), inFlight: Int(m), seed: seed)
        print("impl=dcsim-network N=\(n) M=\(m) sim_time=\(KernelBench.fixed(result.simTime.seconds, 6))"
              + " check=\(result.check) secs=\(KernelBench.fixed(result.seconds, 4))"
              + " msgs_per_s=\(KernelBench.fixed(Double(n) / result.seconds, 0))"
              + " ns_per_msg=\(KernelBench.fixed(result.seconds * 1e9 / Double(n), 1))")
    }

    /// The nine-DC link matrix (row-major by source DC).
    static func links() -> [LinkModel] {
        let d = cities.count
        var links: [LinkModel] = []
        for a in 0..<d {
            for b in 0..<d {
                let median: Double
                if a == b {
                    median = 100_000
                } else {
                    let km = greatCircleKm(cities[a], cities[b])
                    median = km * 5_000 * 1.5 + 500_000
                }
                links.append(LinkModel(latency: .logNormal(median: median, sigma: 0.1), lossPPM: 0,
                                       bandwidthBitsPerSecond: 10_000_000_000))
            }
        }
        return links
    }

    static func greatCircleKm(_ p: (Double, Double), _ q: (Double, Double)) -> Double {
        let r = Double.pi / 180
        let dLat = (q.0 - p.0) * r, dLon = (q.1 - p.1) * r
        let h = sin(dLat / 2) * sin(dLat / 2) + cos(p.0 * r) * cos(q.0 * r) * sin(dLon / 2) * sin(dLon / 2)
        return 2 * 6371 * asin(min(1, h.squareRoot()))
    }

    /// Runs the delivery loop and returns the wall time it took (the initial sends included,
    /// as the hold model includes its fill).
    @inline(never)
    static func deliver(count n: Int, inFlight m: Int, seed: UInt64) -> (seconds: Double, simTime: SimTime, check: UInt64) {
        let dcs = cities.count
        var network = Network(links: links(), datacenterCount: dcs, accessLatency: .constant(0))
        var netRNG = SimRandom(root: seed, label: "network-bench/network")
        var pick = SimRandom(root: seed, label: "network-bench/links")
        // The payload is the destination DC, as an engine's event carries a small slot index.
        var queue = EventQueue<UInt32>(capacity: m)
        var check: UInt64 = 0
        var now = SimTime.zero

        @inline(__always) func send(from source: Int, _ queue: inout EventQueue<UInt32>) {
            let target = Int(pick.below(UInt64(dcs)))
            let transit = network.send(from: Endpoint(datacenter: source, isDevice: false),
                                       to: Endpoint(datacenter: target, isDevice: false),
                                       sizeBytes: messageBytes, kind: .replication, now: now, rng: &netRNG)
            switch transit {
            case .delivered(let at): queue.schedule(UInt32(target), at: at)
            case .duplicated(let first, _): queue.schedule(UInt32(target), at: first)
            case .lost, .blocked: queue.schedule(UInt32(source), at: now)   // never happens: no loss, no partition
            }
        }

        let t0 = KernelBench.monotonicSeconds()
        for i in 0..<m { send(from: i % dcs, &queue) }
        for _ in 0..<n {
            // The queue never runs dry: every delivery is followed by one send.
            guard let event = queue.pop() else { break }
            now = event.time
            check &+= UInt64(event.payload)
            send(from: Int(event.payload), &queue)
        }
        let seconds = KernelBench.monotonicSeconds() - t0
        return (seconds, now, check &+ network.counters(from: 0, to: 1).messages)
    }
}
