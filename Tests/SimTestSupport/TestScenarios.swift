import Foundation
import SimConfig
import Simulation

/// Small, fast scenarios for tests, built from YAML through the real loader.
public enum TestScenarios {
    /// A two-DC topology with one node each and fixed latencies: easy to reason about by hand.
    public static let twoDCTopology = """
        name: two-dc
        description: two DCs, one node each, for tests
        defaults:
          node: {servers: 1, queue_capacity: 1000, disk: 1TiB,
                 service: {read: 1ms, write: 2ms, delete: 1ms, repair: 2ms}}
          intra_dc: {latency: 100us, loss: 0, bandwidth: 10Gbps}
          access: 5ms
        datacenters:
          - {id: east, city: Ashburn, lat: 39.04, lon: -77.49, region: us, jurisdiction: us, nodes: 1}
          - {id: west, city: Portland, lat: 45.52, lon: -122.68, region: us, jurisdiction: us, nodes: 1}
        links:
          - {between: [east, west], latency: 30ms}
        """

    /// A scenario on the built-in telegram-5 topology with a light load.
    public static func small(seed: UInt64 = 1, duration: String = "60s", strategy: String = "async-geo",
                             payload: String = "sizes", extra: String = "") throws -> Scenario {
        try ConfigLoader.loadScenario(yaml: """
            name: small
            topology: telegram-5
            seed: \(seed)
            duration: \(duration)
            warmup: 5s
            payload: \(payload)
            strategy: \(strategy)
            workload:
              users: 200
              rate: 20/s
            \(extra)
            """, source: "test:small", baseDirectory: nil)
    }

    /// The path of the repository's root (for tests that read shipped files).
    public static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}
