import XCTest
@testable import SimConfig

/// Broken files give errors that name the file, line, column and field, quote the bad value
/// and say what is allowed — and never crash.
final class ConfigErrorTests: XCTestCase {
    private let dc = "{id: ams, lat: 52.37, lon: 4.90, region: europe, jurisdiction: nl, nodes: 2}"

    func testDescriptionFormat() {
        let e = ConfigError(file: "a.yaml", line: 3, column: 7, field: "datacenters[0].nodes", message: "bad")
        XCTAssertEqual(e.description, "a.yaml:3:7: error: datacenters[0].nodes: bad")
        XCTAssertEqual(ConfigError(file: "a.yaml", line: nil, column: nil, field: "", message: "no such file").description,
                       "a.yaml: error: no such file")
        XCTAssertEqual(ConfigErrors([e, e]).description, e.description + "\n" + e.description)
    }

    func testUnknownKeyWithSuggestion() throws {
        let yaml = """
            defaults:
              intra_dc: {latncy: 1ms}
            datacenters:
              - \(dc)
            """
        let e = try XCTUnwrap(Fixture.single(Fixture.topologyErrors(yaml)))
        XCTAssertEqual(e.description,
                       "t.yaml:2:14: error: defaults.intra_dc.latncy: unknown key 'latncy' (did you mean 'latency'?); allowed here: latency, loss, bandwidth")
    }

    func testUnknownTopLevelKey() throws {
        let e = try XCTUnwrap(Fixture.single(Fixture.topologyErrors("datacenter:\n  - \(dc)\n")))
        XCTAssertEqual(e.line, 1)
        XCTAssertEqual(e.column, 1)
        XCTAssertTrue(e.message.contains("did you mean 'datacenters'?"), e.message)
        // The typo explains the missing 'datacenters': it is not reported a second time.
    }

    func testWrongType() throws {
        let yaml = """
            datacenters:
              - {id: ams, lat: north, lon: 4.90, region: europe, jurisdiction: nl, nodes: 2}
            """
        let e = try XCTUnwrap(Fixture.single(Fixture.topologyErrors(yaml)))
        XCTAssertEqual(e.line, 2)
        XCTAssertEqual(e.column, 20)
        XCTAssertEqual(e.field, "datacenters[0].lat")
        XCTAssertEqual(e.message, "expected a latitude in degrees from -90 to 90, found 'north'")

        let list = Fixture.topologyErrors("datacenters: {id: ams}\n")
        XCTAssertEqual(list.first?.field, "datacenters")
        XCTAssertEqual(list.first?.message, "expected a list of datacenters, found a mapping")

        let nodes = try XCTUnwrap(Fixture.single(Fixture.topologyErrors(
            "datacenters:\n  - {id: a, lat: 0, lon: 0, region: r, jurisdiction: j, nodes: 2.5}\n")))
        XCTAssertTrue(nodes.message.contains("(not a whole number)"), nodes.message)
    }

    func testMissingField() throws {
        let yaml = """
            datacenters:
              - {id: ams, lat: 52.37, lon: 4.90, jurisdiction: nl, nodes: 2}
            """
        let e = try XCTUnwrap(Fixture.single(Fixture.topologyErrors(yaml)))
        XCTAssertEqual(e.line, 2)
        XCTAssertEqual(e.column, 5)
        XCTAssertEqual(e.field, "datacenters[0].region")
        XCTAssertEqual(e.message, "missing required key 'region' (a region name such as 'europe')")

        let noDCs = try XCTUnwrap(Fixture.single(Fixture.topologyErrors("name: x\n")))
        XCTAssertEqual(noDCs.field, "datacenters")
        XCTAssertTrue(noDCs.message.contains("missing required key 'datacenters'"))
        XCTAssertTrue(Fixture.topologyErrors("datacenters: []\n").first?.message.contains("at least one datacenter") == true)
        XCTAssertTrue(Fixture.topologyErrors("").first?.message.contains("empty") == true)
    }

    func testNegativeLatency() throws {
        let yaml = """
            datacenters:
              - \(dc)
              - {id: sin, lat: 1.35, lon: 103.82, region: asia, jurisdiction: sg, nodes: 2}
            links:
              - {between: [ams, sin], latency: -80ms}
            """
        let e = try XCTUnwrap(Fixture.single(Fixture.topologyErrors(yaml)))
        XCTAssertEqual(e.description, "t.yaml:5:36: error: links[0].latency: durations cannot be negative, found '-80ms'")

        let normal = Fixture.topologyErrors("""
            defaults:
              intra_dc: {latency: {dist: normal, mean: 1ms, stddev: 1ms}}
            datacenters:
              - \(dc)
            """)
        XCTAssertEqual(normal.first?.line, 2)
        XCTAssertTrue(normal.first?.message.contains("add 'min: 0'") == true)

        let offset = Fixture.topologyErrors("defaults:\n  access: {dist: constant, value: -1ms}\ndatacenters:\n  - \(dc)\n")
        XCTAssertTrue(offset.first?.message.contains("cannot be negative") == true)
    }

    func testUnknownDatacenterInLink() throws {
        let yaml = """
            datacenters:
              - \(dc)
              - {id: sin, lat: 1.35, lon: 103.82, region: asia, jurisdiction: sg, nodes: 2}
            links:
              - {from: ams, to: sni, loss: 0.1%}
            """
        let e = try XCTUnwrap(Fixture.single(Fixture.topologyErrors(yaml)))
        XCTAssertEqual(e.description,
                       "t.yaml:5:21: error: links[0].to: unknown datacenter 'sni' (did you mean 'sin'?); datacenters: ams, sin")
        let both = Fixture.topologyErrors(yaml.replacingOccurrences(of: "{from: ams, to: sni", with: "{between: [ams, ams]"))
        XCTAssertTrue(both.first?.message.contains("two different datacenters") == true)
        let twice = Fixture.topologyErrors(yaml.replacingOccurrences(of: "sni", with: "sin") + "\n  - {between: [sin, ams], loss: 0}")
        XCTAssertTrue(Fixture.single(twice)?.message.contains("already overridden at line 5") == true)
    }

    func testDuplicateDatacenterId() throws {
        let yaml = """
            datacenters:
              - \(dc)
              - {id: ams, lat: 52.3, lon: 4.8, region: europe, jurisdiction: nl, nodes: 1}
            """
        let e = try XCTUnwrap(Fixture.single(Fixture.topologyErrors(yaml)))
        XCTAssertEqual(e.line, 3)
        XCTAssertEqual(e.column, 10)
        XCTAssertEqual(e.field, "datacenters[1].id")
        XCTAssertEqual(e.message, "duplicate datacenter id 'ams' (first defined at line 2); ids must be unique")
    }

    func testDuplicateKeyInMapping() throws {
        let e = try XCTUnwrap(Fixture.single(Fixture.topologyErrors("name: a\nname: b\ndatacenters:\n  - \(dc)\n")))
        XCTAssertEqual(e.line, 1)
        XCTAssertTrue(e.message.contains("duplicate key 'name'"), e.message)
    }

    func testEmpiricalPercentilesUnsorted() throws {
        let yaml = """
            defaults:
              access:
                dist: empirical
                percentiles: {p0: 1ms, p90: 20ms, p50: 5ms, p100: 80ms}
            datacenters:
              - \(dc)
            """
        let e = try XCTUnwrap(Fixture.single(Fixture.topologyErrors(yaml)))
        XCTAssertEqual(e.line, 4)
        XCTAssertEqual(e.column, 39)
        XCTAssertEqual(e.field, "defaults.access.percentiles.p50")
        XCTAssertEqual(e.message, "percentiles must be listed in strictly increasing order: 'p50' comes after 'p90'")
    }

    func testMalformedYAML() throws {
        let yaml = """
            datacenters:
              - {id: ams, lat: 52.37
              - {id: sin}
            """
        let e = try XCTUnwrap(Fixture.single(Fixture.topologyErrors(yaml)))
        XCTAssertEqual(e.file, "t.yaml")
        XCTAssertEqual(e.line, 3)
        XCTAssertEqual(e.column, 5)
        XCTAssertTrue(e.message.hasPrefix("invalid YAML: "), e.message)

        let tabs = Fixture.topologyErrors("datacenters:\n\t- {id: a}\n")
        XCTAssertTrue(tabs.first?.message.contains("tabs") == true, "\(tabs)")

        let gt = Fixture.scenarioErrors("topology: telegram-5\nduration: 1m\nslo:\n  availability: >= 0.999\n")
        XCTAssertEqual(gt.first?.line, 4)
        XCTAssertTrue(gt.first?.message.contains("must be quoted") == true, "\(gt)")

        let two = Fixture.topologyErrors("datacenters: []\n---\nname: x\n")
        XCTAssertTrue(two.first?.message.contains("another document") == true, "\(two)")
    }

    func testOutOfRangeValues() {
        let yaml = """
            defaults:
              node: {servers: 0, disk: 8Tb}
              wan: {route_factor: 0.5, loss: 2}
            datacenters:
              - {id: "a b", lat: 91, lon: -181, region: r, jurisdiction: j, nodes: 0}
            """
        let errors = Fixture.topologyErrors(yaml)
        let fields = errors.map(\.field)
        XCTAssertEqual(fields, ["defaults.node.servers", "defaults.node.disk", "defaults.wan.route_factor",
                                "defaults.wan.loss", "datacenters[0].id", "datacenters[0].lat",
                                "datacenters[0].lon", "datacenters[0].nodes"], errors.map(\.description).joined(separator: "\n"))
        XCTAssertTrue(errors.allSatisfy { $0.line != nil && $0.column != nil })
    }

    func testSizeBounds() {
        let many = (0..<11).map { "  - {id: d\($0), lat: 0, lon: \($0), region: r, jurisdiction: j, nodes: 100000}" }
        let errors = Fixture.topologyErrors("datacenters:\n" + many.joined(separator: "\n") + "\n")
        XCTAssertTrue(Fixture.single(errors)?.message.contains("1100000 nodes in all is more than the supported 1000000") == true)
    }

    func testErrorsAreSortedByPosition() {
        let yaml = """
            links:
              - {between: [x, y]}
            datacenters:
              - {id: a, lat: 100, lon: 0, region: r, jurisdiction: j, nodes: 1}
            """
        let lines = Fixture.topologyErrors(yaml).compactMap(\.line)
        XCTAssertEqual(lines, lines.sorted())
        XCTAssertEqual(lines.count, 3)
    }

    // MARK: Scenario errors

    func testBadRegionWeight() throws {
        let yaml = """
            topology: telegram-5
            duration: 10m
            workload:
              regions: {americas: 0.3, eurpoe: 0.5, asia: 0.2}
            """
        let e = try XCTUnwrap(Fixture.single(Fixture.scenarioErrors(yaml)))
        XCTAssertEqual(e.description,
                       "s.yaml:4:28: error: workload.regions.eurpoe: unknown region 'eurpoe' (did you mean 'europe'?); topology 'telegram-5' has regions americas, europe, asia")
        let negative = Fixture.scenarioErrors("topology: telegram-5\nduration: 1m\nworkload: {regions: {europe: -1}}\n")
        XCTAssertEqual(Fixture.single(negative)?.message, "expected a weight ≥ 0, found '-1'")
        let zero = Fixture.scenarioErrors("topology: telegram-5\nduration: 1m\nworkload: {regions: {europe: 0}}\n")
        XCTAssertTrue(Fixture.single(zero)?.message.contains("greater than 0") == true)
    }

    func testUnknownTopology() throws {
        let e = try XCTUnwrap(Fixture.single(Fixture.scenarioErrors("topology: telegram5\nduration: 1m\n")))
        XCTAssertEqual(e.line, 1)
        XCTAssertEqual(e.column, 11)
        XCTAssertTrue(e.message.contains("did you mean 'telegram-5'?"), e.message)
        let missingFile = Fixture.scenarioErrors("topology: ./nope.yaml\nduration: 1m\n", baseDirectory: "/nonexistent")
        XCTAssertTrue(Fixture.single(missingFile)?.message.contains("no such file") == true)
    }

    func testTopologyErrorsNameTheTopologyFile() throws {
        let yaml = """
            topology:
              datacenters:
                - {id: a, lat: 0, lon: 0, region: r, jurisdiction: j, nodes: many}
            duration: 1m
            """
        let e = try XCTUnwrap(Fixture.single(Fixture.scenarioErrors(yaml)))
        XCTAssertEqual(e.line, 3)
        XCTAssertEqual(e.field, "topology.datacenters[0].nodes")
    }

    func testScenarioCollectsSeveralErrors() {
        let yaml = """
            topology: telegram-5
            duration: 10
            warmup: -1m
            payload: ful
            seed: -3
            fault_budget: maybe
            durration: 1m
            """
        let errors = Fixture.scenarioErrors(yaml)
        XCTAssertEqual(errors.map(\.field), ["duration", "warmup", "payload", "seed", "fault_budget", "durration"],
                       errors.map(\.description).joined(separator: "\n"))
        XCTAssertTrue(errors[2].message.contains("did you mean 'full'?"))
        XCTAssertTrue(errors[4].message.contains("tolerated"), errors[4].message)
        XCTAssertTrue(errors[5].message.contains("did you mean 'duration'?"))
    }

    func testNoCrashOnOddInput() {
        // Every one of these must come back as errors, not a trap.
        let inputs = ["[]", "42", "~", "{", "topology: [1, 2]\nduration: {}", "datacenters: [[]]",
                      "datacenters:\n  - ? [a]\n    : b", "topology: telegram-5\nduration: 1m\nfaults: [1]\nslo: [1]",
                      "topology: telegram-5\nduration: 1m\nworkload: {mix: {text: 3}, bursts: {}}",
                      "topology: telegram-5\nduration: 99999999999d", "\u{FEFF}datacenters: x",
                      "topology: *a", "a: &x [*x]"]
        for input in inputs {
            let t = Fixture.topologyErrors(input), s = Fixture.scenarioErrors(input)
            XCTAssertFalse(t.isEmpty && s.isEmpty, input)
        }
    }
}
