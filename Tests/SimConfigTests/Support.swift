import XCTest
@testable import SimConfig

/// Small inline files and helpers shared by the loader tests.
enum Fixture {
    /// Three DCs, two regions, two jurisdictions; nothing but required keys.
    static let topology = """
        name: tiny
        datacenters:
          - {id: ams, city: Amsterdam, lat: 52.3676, lon: 4.9041, region: europe, jurisdiction: nl, nodes: 2}
          - {id: fra, city: Frankfurt, lat: 50.1109, lon: 8.6821, region: europe, jurisdiction: de, nodes: 1}
          - {id: sin, city: Singapore, lat: 1.3521, lon: 103.8198, region: asia, jurisdiction: sg, nodes: 3}
        """

    /// A scenario on the built-in telegram-5 topology with every optional key left out.
    static let scenario = """
        topology: telegram-5
        duration: 10m
        """

    /// The errors of loading `yaml` as a topology (empty when it loads).
    static func topologyErrors(_ yaml: String, source: String = "t.yaml") -> [ConfigError] {
        do {
            _ = try ConfigLoader.loadTopology(yaml: yaml, source: source)
            return []
        } catch let e as ConfigErrors {
            return e.errors
        } catch {
            return [ConfigError(file: source, line: nil, column: nil, field: "", message: "unexpected \(error)")]
        }
    }

    /// The errors of loading `yaml` as a scenario (empty when it loads).
    static func scenarioErrors(_ yaml: String, source: String = "s.yaml", baseDirectory: String? = nil) -> [ConfigError] {
        do {
            _ = try ConfigLoader.loadScenario(yaml: yaml, source: source, baseDirectory: baseDirectory)
            return []
        } catch let e as ConfigErrors {
            return e.errors
        } catch {
            return [ConfigError(file: source, line: nil, column: nil, field: "", message: "unexpected \(error)")]
        }
    }

    /// Exactly one error is expected: returns it, or fails listing what came instead.
    static func single(_ errors: [ConfigError], file: StaticString = #filePath, line: UInt = #line) -> ConfigError? {
        guard errors.count == 1 else {
            XCTFail("expected one error, got \(errors.count):\n" + errors.map(\.description).joined(separator: "\n"),
                    file: file, line: line)
            return errors.first
        }
        return errors[0]
    }
}
