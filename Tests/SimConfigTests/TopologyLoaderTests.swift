import XCTest
@testable import SimConfig
import SimCore

/// Topology files: defaults and their layering, derived and overridden links, the model's
/// dense indexing.
final class TopologyLoaderTests: XCTestCase {
    func testMinimalTopologyTakesDefaults() throws {
        let t = try ConfigLoader.loadTopology(yaml: Fixture.topology, source: "tiny.yaml")
        XCTAssertEqual(t.name, "tiny")
        XCTAssertEqual(t.source, "tiny.yaml")
        XCTAssertEqual(t.regions, ["europe", "asia"])
        XCTAssertEqual(t.jurisdictions, ["nl", "de", "sg"])
        XCTAssertEqual(t.datacenters.map(\.region), [0, 0, 1])
        XCTAssertEqual(t.nodes.map(\.name), ["ams-1", "ams-2", "fra-1", "sin-1", "sin-2", "sin-3"])
        XCTAssertEqual(t.datacenters.map(\.nodes), [0..<2, 2..<3, 3..<6])
        XCTAssertEqual(t.nodes.map(\.datacenter), [0, 0, 1, 2, 2, 2])
        let n = t.nodes[0]
        XCTAssertEqual(n.servers, TopologyDefaults.servers)
        XCTAssertEqual(n.queueCapacity, TopologyDefaults.queueCapacity)
        XCTAssertEqual(n.diskBytes, TopologyDefaults.diskBytes)
        XCTAssertEqual(n.serviceTime, TopologyDefaults.serviceTime)
        XCTAssertEqual(t.accessLatency, TopologyDefaults.access)
        XCTAssertEqual(t.link(from: 0, to: 0).latency, TopologyDefaults.intraLatency)
        XCTAssertEqual(t.link(from: 0, to: 0).distanceKm, 0)
        XCTAssertEqual(t.link(from: 0, to: 1).bandwidthBitsPerSecond, TopologyDefaults.wanBandwidth)
        XCTAssertEqual(t.contentHash.count, 16)
        XCTAssertEqual(t.datacenters[0].city, "Amsterdam")
    }

    func testNameDefaultsToFileName() throws {
        let yaml = Fixture.topology.replacingOccurrences(of: "name: tiny\n", with: "")
        XCTAssertEqual(try ConfigLoader.loadTopology(yaml: yaml, source: "dir/my-layout.yaml").name, "my-layout")
    }

    func testGreatCircleAmsterdamSingapore() throws {
        let km = greatCircleKm(lat1: 52.3676, lon1: 4.9041, lat2: 1.3521, lon2: 103.8198)
        XCTAssertEqual(km, 10_500, accuracy: 100)   // published figure: about 10,490 km
        XCTAssertEqual(greatCircleKm(lat1: 10, lon1: 20, lat2: 10, lon2: 20), 0)
        // Antipodes: half the circumference.
        XCTAssertEqual(greatCircleKm(lat1: 0, lon1: 0, lat2: 0, lon2: 180), Double.pi * 6371, accuracy: 0.001)

        let t = try ConfigLoader.loadTopology(yaml: Fixture.topology, source: "tiny.yaml")
        let link = t.link(from: 0, to: 2)
        XCTAssertEqual(link.distanceKm, km, accuracy: 1e-6)
        XCTAssertEqual(t.link(from: 2, to: 0).distanceKm, km, accuracy: 1e-6)
        // Derived delay: distance × 5 µs/km × 1.4 as the offset of the default jitter.
        XCTAssertEqual(link.latency.shape, TopologyDefaults.wanJitter.shape)
        XCTAssertEqual(link.latency.offset, km * 5_000 * 1.4, accuracy: 1)
        XCTAssertEqual(link.latency.offset / 1e6, 73.5, accuracy: 1)   // ≈ 73 ms one way
    }

    func testDefaultsAndPerDCOverridesLayer() throws {
        let yaml = """
            defaults:
              node: {servers: 4, disk: 2TB, service: {write: 3ms}}
              intra_dc: {latency: 100us, bandwidth: 40Gbps}
              wan: {per_km: 10us, route_factor: 1, jitter: 0, loss: 0.1%, bandwidth: 1Gbps}
              access: {dist: exponential, mean: 10ms}
            datacenters:
              - {id: a, lat: 0, lon: 0, region: r, jurisdiction: j, nodes: 1,
                 node: {servers: 32, service: {read: {dist: exponential, mean: 1ms}}},
                 intra_dc: {loss: 1%}}
              - {id: b, lat: 0, lon: 1, region: r, jurisdiction: j, nodes: 1}
            """
        let t = try ConfigLoader.loadTopology(yaml: yaml, source: "t.yaml")
        let a = t.nodes[0], b = t.nodes[1]
        XCTAssertEqual(a.servers, 32)
        XCTAssertEqual(b.servers, 4)
        XCTAssertEqual(a.diskBytes, 2_000_000_000_000)
        XCTAssertEqual(a.serviceTime(for: .write), .constant(3_000_000))
        XCTAssertEqual(b.serviceTime(for: .write), .constant(3_000_000))
        XCTAssertEqual(a.serviceTime(for: .read), .exponential(mean: 1_000_000))
        XCTAssertEqual(b.serviceTime(for: .read), TopologyDefaults.serviceTime[0])
        XCTAssertEqual(a.serviceTime(for: .repair), TopologyDefaults.serviceTime[3])
        XCTAssertEqual(t.link(from: 0, to: 0).lossPPM, 10_000)
        XCTAssertEqual(t.link(from: 1, to: 1).lossPPM, 0)
        XCTAssertEqual(t.link(from: 0, to: 0).latency, .constant(100_000))
        XCTAssertEqual(t.link(from: 1, to: 1).bandwidthBitsPerSecond, 40_000_000_000)
        XCTAssertEqual(t.link(from: 0, to: 1).lossPPM, 1_000)
        XCTAssertEqual(t.link(from: 0, to: 1).bandwidthBitsPerSecond, 1_000_000_000)
        // One degree of longitude at the equator ≈ 111.2 km × 10 µs × 1.
        let km = greatCircleKm(lat1: 0, lon1: 0, lat2: 0, lon2: 1)
        XCTAssertEqual(t.link(from: 0, to: 1).latency, .constant(km * 10_000))
        XCTAssertEqual(t.accessLatency, .exponential(mean: 10_000_000))
    }

    func testLinkOverridesAndMatrix() throws {
        let yaml = Fixture.topology + """

            latency_matrix:
              ams: {sin: 80ms}
              sin: {fra: 90ms}
            links:
              - {between: [ams, fra], latency: {dist: lognormal, median: 8ms, sigma: 0.1}, loss: 0.001, bandwidth: 1Gbps}
              - {from: fra, to: sin, jitter: {dist: exponential, mean: 2ms, max: 10ms}}
              - {from: sin, to: ams, bandwidth: unlimited}
            """
        let t = try ConfigLoader.loadTopology(yaml: yaml, source: "t.yaml")
        let ams = 0, fra = 1, sin = 2
        // `between` sets both directions, replacing the derived delay.
        XCTAssertEqual(t.link(from: ams, to: fra).latency, .logNormal(median: 8_000_000, sigma: 0.1))
        XCTAssertEqual(t.link(from: fra, to: ams).latency, .logNormal(median: 8_000_000, sigma: 0.1))
        XCTAssertEqual(t.link(from: fra, to: ams).lossPPM, 1_000)
        XCTAssertEqual(t.link(from: ams, to: fra).bandwidthBitsPerSecond, 1_000_000_000)
        // The matrix sets a base delay both ways unless the reverse is given; jitter is added.
        XCTAssertEqual(t.link(from: ams, to: sin).latency.offset, 80_000_000 + TopologyDefaults.wanJitter.offset)
        XCTAssertEqual(t.link(from: sin, to: ams).latency.offset, 80_000_000)
        XCTAssertEqual(t.link(from: sin, to: fra).latency.offset, 90_000_000)
        // fra→sin: the matrix base (90 ms from sin's row) plus a replaced jitter, clamps shifted.
        XCTAssertEqual(t.link(from: fra, to: sin).latency,
                       Distribution(.exponential(mean: 2_000_000), offset: 90_000_000, max: 100_000_000))
        XCTAssertEqual(t.link(from: sin, to: ams).bandwidthBitsPerSecond, 0)
        XCTAssertEqual(t.link(from: ams, to: sin).bandwidthBitsPerSecond, TopologyDefaults.wanBandwidth)
    }

    func testMergeKeysAndAnchors() throws {
        let yaml = """
            datacenters:
              - &dc {id: a, lat: 0, lon: 0, region: r, jurisdiction: j, nodes: 2}
              - {<<: *dc, id: b, lon: 1}
            """
        let t = try ConfigLoader.loadTopology(yaml: yaml, source: "t.yaml")
        XCTAssertEqual(t.datacenters.map(\.id), ["a", "b"])
        XCTAssertEqual(t.datacenters[1].longitude, 1)
        XCTAssertEqual(t.datacenters[1].nodes.count, 2)
    }

    func testLoadFromFileAndValidate() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("simconfig-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let topo = dir.appendingPathComponent("tiny.yaml").path
        try Fixture.topology.write(toFile: topo, atomically: true, encoding: .utf8)
        let scenario = dir.appendingPathComponent("s.yaml").path
        try "topology: tiny.yaml\nduration: 1m\n".write(toFile: scenario, atomically: true, encoding: .utf8)

        let t = try ConfigLoader.loadTopology(path: topo)
        XCTAssertEqual(t.source, topo)
        let s = try ConfigLoader.loadScenario(path: scenario)
        XCTAssertEqual(s.topology.name, "tiny")
        XCTAssertEqual(s.topology.source, dir.path + "/tiny.yaml")
        XCTAssertEqual(s.topology.contentHash, t.contentHash)
        XCTAssertEqual(s.name, "s")
        XCTAssertEqual(ConfigLoader.validate(path: topo), [])
        XCTAssertEqual(ConfigLoader.validate(path: scenario), [])

        let neither = dir.appendingPathComponent("n.yaml").path
        try "name: x\n".write(toFile: neither, atomically: true, encoding: .utf8)
        XCTAssertTrue(ConfigLoader.validate(path: neither).first?.message.contains("cannot tell") == true)
        let missing = ConfigLoader.validate(path: dir.appendingPathComponent("nope.yaml").path)
        XCTAssertEqual(missing.first?.message, "no such file")
        XCTAssertNil(missing.first?.line)
        XCTAssertTrue(ConfigLoader.validate(path: dir.path).first?.message.contains("directory") == true)
    }

    func testContentHashIsFNV1a() {
        // FNV-1a 64 test vectors.
        XCTAssertEqual(fnv1aHex("".utf8), "cbf29ce484222325")
        XCTAssertEqual(fnv1aHex("a".utf8), "af63dc4c8601ec8c")
        XCTAssertEqual(fnv1aHex("foobar".utf8), "85944171f73967e8")
    }
}
