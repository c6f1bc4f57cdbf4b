import ArgumentParser
import Replication

struct Strategies: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List replication strategy presets and protocols with their parameters.",
        discussion: """
            Use a preset or protocol name as `strategy:` in a scenario or with --strategy.
            Examples:
              dcsim strategies
              dcsim run --strategy single-dc
            """)

    func run() throws {
        print("Presets:")
        for p in StrategyRegistry.presets {
            let params = p.parameters.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
            print("  \(p.name.padded(14)) \(p.protocolName) \(params)\n  \("".padded(14)) \(p.summary)")
        }
        print("\nProtocols:")
        for e in StrategyRegistry.protocols {
            print("  \(e.name.padded(22)) \(e.summary)")
        }
    }
}
