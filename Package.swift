// swift-tools-version:6.0
//
// dcsim — a deterministic, multi-datacenter storage cluster simulator.
//
// Layering (each module imports only those above it):
//   SimCore            virtual time, event queue, PRNG, distributions, service queues (no I/O)
//   SimNetwork         links, delays, loss, bandwidth, partitions
//   ShardPipeline      LZ4 + AES-256-GCM + HKDF + Reed–Solomon (the only importer of C libraries)
//   SimConfig          YAML → typed, validated, immutable topology and scenario
//   Replication        strategy plug-ins (one folder each): state machines that return actions
//   Checker            history recording, JSON lines, the linearizability checker (needs SimCore only)
//   Simulation         the driver: builds the world from a scenario and runs it
//   Reports            text / JSON writers over a finished report
//   dcsim              the command line (thin)
import PackageDescription

// Release builds of the simulation layers skip Swift's run-time exclusivity checks (every
// access to a class's stored property, e.g. the engine's, otherwise costs a call; they were
// 12% of a run). Debug builds, and so the tests, keep them.
let hotLoop: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "dcsim",
    products: [
        .executable(name: "dcsim", targets: ["dcsim"]),
        .library(name: "SimCore", targets: ["SimCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // MARK: C libraries (system-library targets; pkg-config names and apt providers)
        .systemLibrary(name: "CLZ4", path: "Sources/CLZ4", pkgConfig: "liblz4",
                       providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CISAL", path: "Sources/CISAL", pkgConfig: "libisal",
                       providers: [.apt(["libisal-dev"])]),

        // MARK: Simulation layers
        .target(name: "SimCore", swiftSettings: hotLoop),
        .target(name: "SimNetwork", dependencies: ["SimCore"], swiftSettings: hotLoop),
        .target(name: "ShardPipeline", dependencies: ["SimCore", "CLZ4", "COpenSSL", "CISAL"]),
        .target(name: "SimConfig", dependencies: [
            "SimCore", "ShardPipeline",
            .product(name: "Yams", package: "Yams"),
        ]),
        .target(name: "Replication", dependencies: ["SimCore", "SimNetwork", "SimConfig"], swiftSettings: hotLoop),
        .target(name: "Checker", dependencies: ["SimCore"]),
        .target(name: "Simulation", dependencies: [
            "SimCore", "SimNetwork", "SimConfig", "Replication", "ShardPipeline", "Checker",
            .product(name: "Histogram", package: "hdrhistogram-swift"),
            .product(name: "Collections", package: "swift-collections"),
        ], swiftSettings: hotLoop),
        .target(name: "Reports", dependencies: ["Simulation", "SimConfig", "SimCore", "Checker"]),
        .executableTarget(name: "dcsim", dependencies: [
            "Simulation", "Reports", "SimConfig", "SimCore", "ShardPipeline", "Checker",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], resources: []),
        .executableTarget(name: "dcsim-bench", dependencies: ["SimCore", "SimNetwork", "ShardPipeline"],
                          path: "Sources/dcsim-bench"),

        // MARK: Tests
        .target(name: "SimTestSupport", dependencies: ["SimCore", "SimConfig", "Simulation"],
                path: "Tests/SimTestSupport"),
        .testTarget(name: "SimCoreTests", dependencies: ["SimCore"]),
        .testTarget(name: "SimNetworkTests", dependencies: ["SimNetwork", "SimCore"]),
        .testTarget(name: "ShardPipelineTests", dependencies: ["ShardPipeline", "SimCore"]),
        .testTarget(name: "ReplicationTests", dependencies: ["Replication", "Simulation", "SimCore", "SimNetwork", "SimConfig"]),
        .testTarget(name: "SimConfigTests", dependencies: ["SimConfig", "SimCore", "ShardPipeline", "SimTestSupport"]),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "Reports", "SimConfig", "SimTestSupport",
                                                     "Replication", "ShardPipeline", "SimCore",
                                                     .product(name: "Histogram", package: "hdrhistogram-swift")]),
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "Simulation", "SimConfig", "SimTestSupport"],
                    exclude: ["Golden", "Resources"]),
        .testTarget(name: "CLITests", dependencies: ["SimTestSupport"]),
        .testTarget(name: "CheckerTests", dependencies: ["Checker", "SimCore"]),
    ]
)
