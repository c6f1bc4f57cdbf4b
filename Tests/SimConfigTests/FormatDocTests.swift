import Foundation
import XCTest
@testable import SimConfig

/// The commented examples in docs/FORMAT.md load, and the defaults it documents are the
/// loader's.
final class FormatDocTests: XCTestCase {
    static let document: String? = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let path = url.appendingPathComponent("docs/FORMAT.md").resolvingSymlinksInPath().path
        return FileManager.default.contents(atPath: path).flatMap { String(data: $0, encoding: .utf8) }
    }()

    /// The first ```yaml block after the heading `### TITLE`.
    private func example(after heading: String) throws -> String {
        let doc = try XCTUnwrap(Self.document, "docs/FORMAT.md not found")
        let start = try XCTUnwrap(doc.range(of: "### \(heading)\n"), "no heading \(heading)")
        let rest = doc[start.upperBound...]
        let open = try XCTUnwrap(rest.range(of: "```yaml\n"))
        let close = try XCTUnwrap(rest[open.upperBound...].range(of: "```\n"))
        return String(rest[open.upperBound..<close.lowerBound])
    }

    func testTopologyExampleLoads() throws {
        let yaml = try example(after: "Topology example")
        let t = try ConfigLoader.loadTopology(yaml: yaml, source: "FORMAT.md")
        XCTAssertEqual(t.datacenters.count, 5)
        // The example's defaults section spells out the built-in defaults.
        let plain = try ConfigLoader.loadTopology(yaml: """
            datacenters:
              - {id: a, lat: 0, lon: 0, region: r, jurisdiction: j, nodes: 1}
            """, source: "plain.yaml")
        let mia2 = try XCTUnwrap(t.datacenterIndex(named: "mia2"))
        XCTAssertEqual(t.nodes[t.datacenters[mia2].nodes.lowerBound].serviceTime, plain.nodes[0].serviceTime)
        XCTAssertEqual(t.nodes[t.datacenters[mia2].nodes.lowerBound].servers, plain.nodes[0].servers)
        XCTAssertEqual(t.nodes[t.datacenters[mia2].nodes.lowerBound].diskBytes, plain.nodes[0].diskBytes)
        XCTAssertEqual(t.link(from: mia2, to: mia2), plain.links[0])
        XCTAssertEqual(t.accessLatency, plain.accessLatency)
    }

    func testScenarioExampleLoads() throws {
        let yaml = try example(after: "Scenario example")
        let s = try ConfigLoader.loadScenario(yaml: yaml, source: "FORMAT.md", baseDirectory: nil)
        XCTAssertEqual(s.name, "ams-outage")
        XCTAssertEqual(s.faults.count, 1)
        XCTAssertTrue(s.workload.messageMix.contains { $0.name == "voice" })
    }

    func testDocumentedFaultKindsMatch() throws {
        let doc = try XCTUnwrap(Self.document)
        for kind in FaultSpec.knownKinds {
            XCTAssertTrue(doc.contains("`\(kind)`"), "docs/FORMAT.md does not list fault kind \(kind)")
        }
        for key in ScenarioReader.workloadKeys {
            XCTAssertTrue(doc.contains("`\(key)") , "docs/FORMAT.md does not document workload.\(key)")
        }
        for key in TopologyReader.dcKeys + TopologyReader.wanKeys + TopologyReader.nodeKeys + TopologyReader.topKeys {
            XCTAssertTrue(doc.contains("`\(key)`"), "docs/FORMAT.md does not document \(key)")
        }
    }
}
