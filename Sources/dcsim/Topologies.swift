import ArgumentParser
import Foundation
import SimConfig

struct Topologies: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the built-in topologies, or show one: its DCs and one-way latency matrix.",
        discussion: """
            Examples:
              dcsim topologies
              dcsim topologies telegram-5
              dcsim topologies my-topology.yaml
            """)

    @Argument(help: "A built-in topology name or a topology file.")
    var name: String?

    func run() throws {
        guard let name else {
            for n in ConfigLoader.builtinTopologyNames {
                if let t = try? ConfigLoader.builtinTopology(named: n) {
                    print("\(n.padded(16)) \(t.datacenters.count) DCs, \(t.nodes.count) nodes, \(t.regions.count) regions, \(t.jurisdictions.count) jurisdictions — \(t.summary)")
                }
            }
            return
        }
        let topology: Topology
        do {
            if FileManager.default.fileExists(atPath: name) {
                topology = try ConfigLoader.loadTopology(path: name)
            } else if ConfigLoader.builtinTopologyNames.contains(name) {
                topology = try ConfigLoader.builtinTopology(named: name)
            } else {
                printError("error: no topology file '\(name)' and no built-in topology by that name; built-in: \(ConfigLoader.builtinTopologyNames.joined(separator: ", "))")
                throw Exit.badInput
            }
        } catch let e as ConfigErrors {
            printError(e.description)
            throw Exit.badInput
        }
        print("\(topology.name): \(topology.summary)\n")
        print("id".padded(8) + "city".padded(16) + "region".padded(14) + "jurisdiction".padded(14) + "nodes".padded(7) + "lat,lon")
        for dc in topology.datacenters {
            print(dc.id.padded(8) + dc.city.padded(16) + topology.regions[dc.region].padded(14)
                  + topology.jurisdictions[dc.jurisdiction].padded(14) + "\(dc.nodes.count)".padded(7)
                  + "\(dc.latitude),\(dc.longitude)")
        }
        print("\nmean one-way latency, ms (row = from, column = to)")
        let ids = topology.datacenters.map(\.id)
        print("".padded(8) + ids.map { $0.leftPadded(9) }.joined())
        for (i, from) in ids.enumerated() {
            var row = from.padded(8)
            for j in ids.indices {
                let d = topology.link(from: i, to: j).latency
                let ms = (d.mean ?? d.lowerBound) / 1e6
                row += String(format: "%9.2f", ms)
            }
            print(row)
        }
    }
}

extension String {
    func padded(_ n: Int) -> String { self + String(repeating: " ", count: max(1, n - count)) }
    func leftPadded(_ n: Int) -> String { String(repeating: " ", count: max(1, n - count)) + self }
}
