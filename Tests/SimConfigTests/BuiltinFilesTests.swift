import Foundation
import XCTest
@testable import SimConfig
import SimCore

/// The shipped files load, and the copies embedded in the binary match the files on disk.
final class BuiltinFilesTests: XCTestCase {
    /// `Topologies/` of this checkout, found from this file's path.
    static let topologiesDirectory: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }   // the file, SimConfigTests, Tests
        return url.appendingPathComponent("Topologies").resolvingSymlinksInPath().path
    }()

    func testEmbeddedFilesAreInSyncWithDisk() throws {
        let root = Self.topologiesDirectory
        var onDisk: [String] = []
        let e = try XCTUnwrap(FileManager.default.enumerator(atPath: root))
        while let p = e.nextObject() as? String {
            if p.hasSuffix(".yaml") { onDisk.append(p) }
        }
        onDisk.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        XCTAssertFalse(onDisk.isEmpty, "no YAML files under \(root)")
        let embedded = BuiltinFiles.files.map(\.path)
        XCTAssertEqual(embedded, onDisk,
                       "the embedded file list differs from Topologies/; run Scripts/embed-topologies.sh")
        for (path, yaml) in BuiltinFiles.files {
            let data = try XCTUnwrap(FileManager.default.contents(atPath: "\(root)/\(path)"))
            XCTAssertTrue(Array(yaml.utf8) == Array(data),
                          "Topologies/\(path) changed since it was embedded; run Scripts/embed-topologies.sh")
        }
    }

    func testBuiltinNames() {
        XCTAssertEqual(ConfigLoader.builtinTopologyNames, ["cloud-3region", "global-9", "telegram-5"])
        XCTAssertEqual(ConfigLoader.builtinScenarioNames, ConfigLoader.builtinScenarioNames.sorted())
        for name in ["default", "ams-outage", "partition-eu-us", "seizure"] {
            XCTAssertTrue(ConfigLoader.builtinScenarioNames.contains(name), name)
        }
    }

    func testEveryBuiltinTopologyLoads() throws {
        for name in ConfigLoader.builtinTopologyNames {
            do {
                let t = try ConfigLoader.builtinTopology(named: name)
                XCTAssertEqual(t.name, name, "the file's name: should match its file name")
                XCTAssertEqual(t.source, "builtin:\(name)")
                XCTAssertEqual(t.links.count, t.datacenters.count * t.datacenters.count)
                XCTAssertFalse(t.summary.isEmpty, "\(name) has no description")
                // The same file from disk gives the same model and hash.
                let path = "\(Self.topologiesDirectory)/\(name).yaml"
                let fromDisk = try ConfigLoader.loadTopology(path: path)
                XCTAssertEqual(fromDisk.contentHash, t.contentHash)
                XCTAssertEqual(fromDisk.datacenters, t.datacenters)
                XCTAssertEqual(fromDisk.links, t.links)
                XCTAssertEqual(fromDisk.nodes, t.nodes)
                XCTAssertEqual(ConfigLoader.validate(path: path), [])
            } catch {
                XCTFail("built-in topology \(name) does not load:\n\(error)")
            }
        }
    }

    func testEveryBuiltinScenarioLoads() throws {
        for name in ConfigLoader.builtinScenarioNames {
            do {
                let s = try ConfigLoader.builtinScenario(named: name)
                XCTAssertEqual(s.name, name, "the file's name: should match its file name")
                XCTAssertEqual(s.source, "builtin:\(name)")
                XCTAssertFalse(s.summary.isEmpty, "\(name) has no description")
                let path = "\(Self.topologiesDirectory)/scenarios/\(name).yaml"
                let fromDisk = try ConfigLoader.loadScenario(path: path)
                XCTAssertEqual(fromDisk.contentHash, s.contentHash)
                XCTAssertEqual(fromDisk.workload, s.workload)
                XCTAssertEqual(fromDisk.faults.map(\.kind), s.faults.map(\.kind))
                XCTAssertEqual(ConfigLoader.validate(path: path), [])
            } catch {
                XCTFail("built-in scenario \(name) does not load:\n\(error)")
            }
        }
    }

    func testDefaultScenario() throws {
        let s = try ConfigLoader.builtinScenario(named: "default")
        XCTAssertEqual(s.topology.name, "telegram-5")
        XCTAssertEqual(s.topology.source, "builtin:telegram-5")
        XCTAssertEqual(s.seed, 42)
        XCTAssertEqual(s.duration, .minutes(10))
        XCTAssertEqual(s.warmup, .minutes(1))
        XCTAssertEqual(s.payload, .full)
        XCTAssertEqual(s.strategy.name, "async-geo")
        XCTAssertEqual(s.compareStrategies.map(\.name), ["async-geo", "quorum-3dc", "raft-5", "rs-6-3"])
        XCTAssertEqual(s.keyPlacement, .otherJurisdiction)
        XCTAssertTrue(s.faults.isEmpty)
        XCTAssertEqual(s.slos.map(\.metric), ["lost_acked_writes", "availability"])
        XCTAssertEqual(s.slos.map(\.comparison), [.atMost, .atLeast])
        XCTAssertEqual(s.slos.map(\.threshold), [0, 0.99])
        XCTAssertEqual(s.topology.regions, ["americas", "europe", "asia"])
        XCTAssertEqual(s.workload.regionWeights, [0.3, 0.5, 0.2])
        XCTAssertEqual(s.sampleInterval, .seconds(1))
        XCTAssertEqual(s.contentHash.count, 16)
        // The mix written in the file is the default mix.
        XCTAssertEqual(s.workload.messageMix, WorkloadConfig.defaultMessageMix)
    }

    func testFaultScenarios() throws {
        let outage = try ConfigLoader.builtinScenario(named: "ams-outage")
        XCTAssertEqual(outage.faults.count, 1)
        let f = try XCTUnwrap(outage.faults.first)
        XCTAssertEqual(f.kind, "dc-outage")
        XCTAssertEqual(f.target, "ams1")
        XCTAssertEqual(f.start, .minutes(15))
        XCTAssertEqual(f.duration, .minutes(30))
        XCTAssertEqual(f.parameters.map(\.key), ["disks"])
        XCTAssertEqual(f.parameters.first?.value, .string("kept"))
        XCTAssertEqual(f.location?.file, "builtin:ams-outage")

        let seizure = try ConfigLoader.builtinScenario(named: "seizure")
        XCTAssertEqual(seizure.faults.first?.kind, "seizure")
        XCTAssertEqual(seizure.faults.first?.target, "jurisdiction:nl")
        XCTAssertEqual(seizure.faults.first?.duration, .some(nil), "permanent")

        let partition = try ConfigLoader.builtinScenario(named: "partition-eu-us")
        XCTAssertEqual(partition.faults.first?.target, "region:europe<->region:americas")
    }

    func testTelegramLayout() throws {
        let t = try ConfigLoader.builtinTopology(named: "telegram-5")
        XCTAssertEqual(t.datacenters.map(\.id), ["mia1", "ams1", "mia2", "ams2", "sin"])
        XCTAssertEqual(t.jurisdictions, ["us", "nl", "sg"])
        XCTAssertEqual(t.nodes.first?.name, "mia1-1")
        let ams1 = try XCTUnwrap(t.datacenterIndex(named: "ams1"))
        XCTAssertEqual(t.datacenters[ams1].nodes.count, 8)
        XCTAssertEqual(t.nodes[t.datacenters[ams1].nodes.lowerBound].servers, 16)
        XCTAssertEqual(t.nodes[t.datacenters[ams1].nodes.lowerBound].name, "ams1-1")
        let sin = try XCTUnwrap(t.datacenterIndex(named: "sin"))
        XCTAssertEqual(t.nodes[t.datacenters[sin].nodes.lowerBound].servers, 8)
        // The metro link override replaces the derived delay in both directions.
        let ams2 = try XCTUnwrap(t.datacenterIndex(named: "ams2"))
        XCTAssertEqual(t.link(from: ams1, to: ams2).latency, .logNormal(median: 500_000, sigma: 0.2))
        XCTAssertEqual(t.link(from: ams2, to: ams1).bandwidthBitsPerSecond, 100_000_000_000)
    }

    func testOtherLayouts() throws {
        let g = try ConfigLoader.builtinTopology(named: "global-9")
        XCTAssertEqual(g.datacenters.count, 9)
        XCTAssertGreaterThanOrEqual(g.jurisdictions.count, 5)
        XCTAssertGreaterThanOrEqual(g.regions.count, 4)
        let c = try ConfigLoader.builtinTopology(named: "cloud-3region")
        XCTAssertEqual(c.regions, ["us-east", "eu-west", "ap-southeast"])
        XCTAssertLessThanOrEqual(c.datacenters.count, 9)
    }

    func testUnknownBuiltinNamesSuggest() {
        XCTAssertThrowsError(try ConfigLoader.builtinScenario(named: "ams-outag")) { error in
            XCTAssertTrue("\(error)".contains("did you mean 'ams-outage'?"), "\(error)")
        }
        XCTAssertThrowsError(try ConfigLoader.builtinTopology(named: "telegram5")) { error in
            XCTAssertTrue("\(error)".contains("did you mean 'telegram-5'?"), "\(error)")
        }
    }
}
