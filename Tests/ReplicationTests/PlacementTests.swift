import XCTest
import SimConfig
@testable import Replication

final class PlacementTests: XCTestCase {
    func world(_ name: String = "telegram-5") throws -> StrategyWorld {
        StrategyWorld(topology: try ConfigLoader.builtinTopology(named: name))
    }

    func placement(_ params: [(String, ConfigValue)], world: StrategyWorld, defaultCopies: Int = 3) throws -> Placement {
        var p = StrategyParameters(StrategyConfig(name: "t", parameters: params.map { .init(key: $0.0, value: $0.1) }), strategy: "t")
        let placement = try Placement(&p, world: world, defaultCopies: defaultCopies)
        try p.finish()
        return placement
    }

    func testNearestPutsHomeFirstThenNearestDCsOnDistinctDCs() throws {
        let w = try world()
        let pl = try placement([], world: w)
        for home in 0..<w.topology.datacenters.count {
            for k in 0..<200 {
                let nodes = pl.nodes(for: ShardKey(UInt64(k)), home: home)
                XCTAssertEqual(nodes.count, 3)
                let dcs = nodes.map { w.datacenter(of: $0) }
                XCTAssertEqual(dcs, [home] + w.nearestDCs[home].prefix(2))
                XCTAssertEqual(pl.nodes(for: ShardKey(UInt64(k)), home: home), nodes, "deterministic")
            }
        }
    }

    func testJurisdictionConstraintIsMet() throws {
        let w = try world()
        let t = w.topology
        // From mia1 the two nearest DCs are in the same jurisdiction (us) or nearby; demand 3.
        let pl = try placement([("copies", .number(3)), ("min_jurisdictions", .number(3))], world: w)
        for home in 0..<t.datacenters.count {
            for k in 0..<100 {
                let dcs = pl.nodes(for: ShardKey(UInt64(k)), home: home).map { w.datacenter(of: $0) }
                XCTAssertEqual(Set(dcs).count, 3)
                XCTAssertEqual(Set(dcs.map { t.datacenters[$0].jurisdiction }).count, 3, "home \(t.datacenters[home].id)")
                XCTAssertEqual(dcs.first, home)
            }
        }
    }

    func testImpossibleConstraintIsAnError() throws {
        let w = try world()
        XCTAssertThrowsError(try placement([("copies", .number(2)), ("min_jurisdictions", .number(3))], world: w)) { e in
            XCTAssertTrue("\(e)".contains("min_jurisdictions"), "\(e)")
        }
    }

    func testPerDCCountsPlaceExactlyThoseCopiesOnDistinctNodes() throws {
        let w = try world()
        let t = w.topology
        let ams = t.datacenterIndex(named: "ams1")!, mia = t.datacenterIndex(named: "mia1")!
        let pl = try placement([("per_dc", .map([.init(key: "ams1", value: .number(2)), .init(key: "mia1", value: .number(1))]))], world: w)
        XCTAssertEqual(pl.copies, 3)
        for k in 0..<200 {
            let nodes = pl.nodes(for: ShardKey(UInt64(k)), home: ams)
            XCTAssertEqual(Set(nodes).count, 3, "distinct nodes")
            XCTAssertEqual(nodes.filter { w.datacenter(of: $0) == ams }.count, 2)
            XCTAssertEqual(nodes.filter { w.datacenter(of: $0) == mia }.count, 1)
        }
        XCTAssertThrowsError(try placement([("per_dc", .map([.init(key: "amz1", value: .number(2))]))], world: w)) { e in
            XCTAssertTrue("\(e)".contains("did you mean"), "\(e)")
        }
    }

    /// `"*": n` puts n copies in every DC (at most its node count); named DCs override it,
    /// 0 leaves one out.
    func testPerDCEveryDCSpelling() throws {
        let w = try world()
        let t = w.topology
        let every = try placement([("per_dc", .map([.init(key: "*", value: .number(3))]))], world: w)
        XCTAssertEqual(every.copies, 3 * t.datacenters.count)
        XCTAssertEqual(every.perDC?.map(\.dc), Array(t.datacenters.indices))
        let sin = t.datacenterIndex(named: "sin")!, mia2 = t.datacenterIndex(named: "mia2")!
        let some = try placement([("per_dc", .map([.init(key: "*", value: .number(2)), .init(key: "mia2", value: .number(0)),
                                                   .init(key: "sin", value: .number(1))]))], world: w)
        XCTAssertEqual(some.copies, 2 * (t.datacenters.count - 2) + 1)
        for k in 0..<100 {
            let nodes = some.nodes(for: ShardKey(UInt64(k)), home: 0)
            XCTAssertEqual(Set(nodes).count, nodes.count, "distinct nodes")
            XCTAssertEqual(nodes.filter { w.datacenter(of: $0) == mia2 }.count, 0)
            XCTAssertEqual(nodes.filter { w.datacenter(of: $0) == sin }.count, 1)
        }
        let many = try placement([("per_dc", .map([.init(key: "*", value: .number(100))]))], world: w)
        XCTAssertEqual(many.copies, t.nodes.count, "capped at each DC's node count")
        XCTAssertThrowsError(try placement([("per_dc", .map([.init(key: "*", value: .number(0))]))], world: w))
    }

    func testRingOrderSpreadsPrimariesOverDCs() throws {
        let w = try world()
        let pl = try placement([("order", .string("ring")), ("home_first", .bool(false))], world: w)
        var firsts = [Int](repeating: 0, count: w.topology.datacenters.count)
        for k in 0..<5000 {
            let nodes = pl.nodes(for: ShardKey(UInt64(k)), home: 0)
            XCTAssertEqual(Set(nodes.map { w.datacenter(of: $0) }).count, 3)
            firsts[w.datacenter(of: nodes[0])] += 1
        }
        // Every DC leads a fair share (each ~1000 of 5000).
        for c in firsts { XCTAssertGreaterThan(c, 700); XCTAssertLessThan(c, 1300) }
    }

    func testMoreCopiesThanDCsUseFurtherNodes() throws {
        let w = try world()
        let n = w.topology.datacenters.count
        let pl = try placement([("copies", .number(Double(n + 2)))], world: w)
        let nodes = pl.nodes(for: ShardKey(7), home: 1)
        XCTAssertEqual(nodes.count, n + 2)
        XCTAssertEqual(Set(nodes).count, n + 2)
        XCTAssertEqual(Set(nodes.map { w.datacenter(of: $0) }).count, n)
    }
}
