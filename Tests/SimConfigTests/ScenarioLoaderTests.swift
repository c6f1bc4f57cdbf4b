import XCTest
@testable import SimConfig
import SimCore
import ShardPipeline

/// Scenario files: defaults, workload, strategies, key placement, faults and their targets,
/// and SLOs.
final class ScenarioLoaderTests: XCTestCase {
    private func load(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> Scenario? {
        do { return try ConfigLoader.loadScenario(yaml: yaml, source: "s.yaml", baseDirectory: nil) } catch {
            XCTFail("\(error)", file: file, line: line)
            return nil
        }
    }

    private func errorText(_ yaml: String) -> String {
        Fixture.scenarioErrors(yaml).map(\.description).joined(separator: "\n")
    }

    func testMinimalScenarioTakesDefaults() throws {
        let s = try XCTUnwrap(load(Fixture.scenario))
        XCTAssertEqual(s.name, "s")
        XCTAssertEqual(s.summary, "")
        XCTAssertEqual(s.source, "s.yaml")
        XCTAssertEqual(s.seed, ScenarioDefaults.seed)
        XCTAssertEqual(s.duration, .minutes(10))
        XCTAssertEqual(s.warmup, .zero)
        XCTAssertEqual(s.payload, .full)
        XCTAssertEqual(s.strategy.name, "async-geo")
        XCTAssertEqual(s.compareStrategies, [])
        XCTAssertEqual(s.keyPlacement, .sameDC)
        XCTAssertEqual(s.workload, WorkloadConfig.defaults(regionCount: 3))
        XCTAssertEqual(s.faults, [])
        XCTAssertEqual(s.slos, [])
        XCTAssertEqual(s.sampleInterval, .seconds(1))
    }

    func testDefaultWorkloadIsARealisticMessenger() {
        let w = WorkloadConfig.defaults(regionCount: 3)
        XCTAssertEqual(w.regionWeights, [1, 1, 1])
        XCTAssertEqual(w.messageMix.map(\.name), ["text", "photo", "video", "document"])
        XCTAssertEqual(w.messageMix.map(\.weight).reduce(0, +), 1, accuracy: 1e-12)
        XCTAssertEqual(w.devices.map(\.weight).reduce(0, +), 1, accuracy: 1e-12)
        // Text ~85% with a ~100 B median; photos ~200 KB; video a few MB.
        XCTAssertEqual(w.messageMix[0].weight, 0.85)
        var rng = SimRandom(seed: 9)
        func median(_ d: Distribution) -> Double {
            let xs = (0..<4001).map { _ in d.sample(&rng) }.sorted()
            return xs[2000]
        }
        XCTAssertEqual(median(w.messageMix[0].size), 100, accuracy: 10)
        XCTAssertEqual(median(w.messageMix[1].size), 200_000, accuracy: 15_000)
        XCTAssertEqual(median(w.messageMix[2].size), 4_000_000, accuracy: 400_000)
        XCTAssertTrue(w.messageMix[0].compressible)
        XCTAssertFalse(w.messageMix[1].compressible)
        XCTAssertEqual(w.devicesPerUser.mean ?? 0, 1.73, accuracy: 0.001)
        for d in [w.devicesPerUser, w.groupSize, w.chatsPerUser, w.ttl, w.mutationDelay] {
            XCTAssertGreaterThanOrEqual(d.lowerBound, 0)
        }
    }

    func testFullWorkload() throws {
        let yaml = """
            topology: telegram-5
            duration: 2h
            workload:
              users: 5000
              regions: {europe: 2, asia: 1}
              devices: {phone: 70%, watch: 30%}
              devices_per_user: 2
              rate: 12000/h
              daily_curve: [0.3, 0.2, 0.2, 0.2, 0.3, 0.5, 0.8, 1.0, 1.2, 1.3, 1.3, 1.3,
                            1.4, 1.3, 1.3, 1.3, 1.3, 1.4, 1.5, 1.6, 1.6, 1.4, 1.0, 0.6]
              bursts: [{at: 5m, for: 1m, factor: 3}]
              mix:
                text: {weight: 0.8}
                video: {weight: 0}
                sticker: {weight: 0.05, size: {dist: uniform, low: 10KB, high: 30KB}}
              secret_chats: 0.05
              groups: 20%
              group_size: {dist: pareto, scale: 3, shape: 1.2, max: 1000}
              chat_zipf: 1.2
              chats_per_user: {dist: empirical, percentiles: {p0: 1, p50: 8, p100: 200}}
              edits: 0.05
              deletes: 0.02
              ttl: {share: 0.03, after: {dist: exponential, mean: 1h}}
              mutation_delay: 30s
              device_sync: false
              history_reads: 0.01/s
              client: {timeout: 2s, retries: 5, backoff: 100ms, failover: false}
            """
        let w = try XCTUnwrap(load(yaml)).workload
        XCTAssertEqual(w.users, 5000)
        XCTAssertEqual(w.regionWeights, [0, 2, 1])     // americas left out → 0
        XCTAssertEqual(w.devices, [.init(name: "phone", weight: 0.7), .init(name: "watch", weight: 0.3)])
        XCTAssertEqual(w.devicesPerUser, .constant(2))
        XCTAssertEqual(w.messagesPerSecond, 12000.0 / 3600)
        XCTAssertEqual(w.dailyCurve.count, 24)
        XCTAssertEqual(w.bursts, [.init(start: .minutes(5), duration: .minutes(1), factor: 3)])
        // Named default classes keep what is not given; weight 0 removes; new ones are added.
        XCTAssertEqual(w.messageMix.map(\.name), ["text", "photo", "document", "sticker"])
        XCTAssertEqual(w.messageMix[0].weight, 0.8)
        XCTAssertEqual(w.messageMix[0].size, WorkloadConfig.defaultMessageMix[0].size)
        XCTAssertEqual(w.messageMix[3].size, .uniform(10_000, 30_000))
        XCTAssertFalse(w.messageMix[3].compressible)
        XCTAssertEqual(w.secretChatShare, 0.05)
        XCTAssertEqual(w.groupShare, 0.2)
        XCTAssertEqual(w.groupSize, Distribution(.pareto(scale: 3, shape: 1.2), max: 1000))
        XCTAssertEqual(w.chatZipf, 1.2)
        XCTAssertEqual(w.editShare, 0.05)
        XCTAssertEqual(w.deleteShare, 0.02)
        XCTAssertEqual(w.ttlShare, 0.03)
        XCTAssertEqual(w.ttl, .exponential(mean: 3_600e9))
        XCTAssertEqual(w.mutationDelay, .constant(30e9))
        XCTAssertFalse(w.deviceSync)
        XCTAssertEqual(w.historyReadsPerUserPerSecond, 0.01)
        XCTAssertEqual(w.client, .init(timeout: .seconds(2), retries: 5, backoff: .milliseconds(100), failover: false))
    }

    func testWorkloadErrors() {
        let t = errorText("""
            topology: telegram-5
            duration: 10m
            workload:
              users: 0
              rate: -1/s
              mix: {sticker: {weight: 0.1}, photo: {sise: 1KB}}
              daily_curve: [1, 2]
              bursts: [{at: 20m, for: 1m, factor: 2}]
              secret_chats: 1.5
              client: {retries: -1}
            """)
        for needle in ["workload.users: expected a whole number of users from 1 to 100000000, found '0'",
                       "workload.rate: rates cannot be negative",
                       "workload.mix.sticker.size: missing required key 'size'",
                       "workload.mix.photo.sise: unknown key 'sise' (did you mean 'size'?)",
                       "workload.daily_curve: expected 24 hourly multipliers",
                       "workload.bursts[0].at: the burst starts at 20m, after the run ends (duration 10m)",
                       "workload.secret_chats: '1.5' is outside 0…1",
                       "workload.client.retries: expected a whole number of retries from 0 to 100, found '-1'"] {
            XCTAssertTrue(t.contains(needle), "missing: \(needle)\n\(t)")
        }
    }

    func testStrategiesAndCompare() throws {
        let yaml = """
            topology: telegram-5
            duration: 1m
            strategy: {name: quorum, n: 3, r: 2, w: 2, read_repair: true, levels: [ONE, QUORUM], lag: 500ms, per_dc: {ams1: 2}}
            compare: [async-geo, {name: raft, replicas: 5}]
            """
        let s = try XCTUnwrap(load(yaml))
        XCTAssertEqual(s.strategy.name, "quorum")
        XCTAssertEqual(s.strategy.parameters.map(\.key), ["n", "r", "w", "read_repair", "levels", "lag", "per_dc"])
        XCTAssertEqual(s.strategy.parameters.map(\.value), [
            .number(3), .number(2), .number(2), .bool(true), .list([.string("ONE"), .string("QUORUM")]),
            .string("500ms"), .map([.init(key: "ams1", value: .number(2), location: SourceLocation(file: "s.yaml", line: 3, column: 107))]),
        ])
        XCTAssertEqual(s.strategy.location, SourceLocation(file: "s.yaml", line: 3, column: 11))
        XCTAssertEqual(s.strategy.parameters[0].location, SourceLocation(file: "s.yaml", line: 3, column: 26))
        XCTAssertEqual(try s.strategy.parameters[5].duration(), .milliseconds(500))
        XCTAssertEqual(s.compareStrategies.map(\.name), ["async-geo", "raft"])
        XCTAssertEqual(s.compareStrategies[1].parameters.first?.value, .number(5))
        // A plug-in's own error comes out located like the loader's.
        XCTAssertEqual(s.strategy.parameters[1].error("r (2) > n").description, "s.yaml:3:32: error: r: r (2) > n")

        XCTAssertTrue(errorText("topology: telegram-5\nduration: 1m\nstrategy: ''\n").contains("the strategy name is empty"))
        XCTAssertTrue(errorText("topology: telegram-5\nduration: 1m\nstrategy: [a]\n").contains("expected a strategy name"))
        XCTAssertTrue(errorText("topology: telegram-5\nduration: 1m\nstrategy: {n: 3}\n").contains("missing required key 'name'"))
    }

    func testKeyPlacement() throws {
        func kp(_ v: String) -> KeyPlacementPolicy? { load("topology: telegram-5\nduration: 1m\nkey_placement: \(v)\n")?.keyPlacement }
        XCTAssertEqual(kp("same-dc"), .sameDC)
        XCTAssertEqual(kp("other-dc"), .otherDC)
        XCTAssertEqual(kp("other-jurisdiction"), .otherJurisdiction)
        XCTAssertEqual(kp("{split: {k: 2, n: 3}}"), .split(k: 2, n: 3))
        let base = "topology: telegram-5\nduration: 1m\nkey_placement: "
        XCTAssertTrue(errorText(base + "{split: {k: 3, n: 2}}").contains("k (3) must not exceed n (2)"))
        XCTAssertTrue(errorText(base + "{split: {k: 2, n: 4}}").contains("but topology 'telegram-5' has 3 (us, nl, sg)"))
        XCTAssertTrue(errorText(base + "other-jurisdicton").contains("did you mean 'other-jurisdiction'?"))
        let oneJurisdiction = """
            topology:
              datacenters: [{id: a, lat: 0, lon: 0, region: r, jurisdiction: j, nodes: 1}]
            duration: 1m
            key_placement: other-jurisdiction
            """
        XCTAssertTrue(errorText(oneJurisdiction).contains("needs at least two jurisdictions"))
    }

    func testFaults() throws {
        let yaml = """
            topology: telegram-5
            duration: 1h
            faults:
              - {kind: seizure, target: "jurisdiction:nl", at: 40m, permanent: true}
              - {kind: dc-outage, target: ams1, at: 2m, for: 30m, disks: kept}
              - {kind: partition, target: "region:europe<->region:americas", at: 10m, for: 5m}
              - {kind: one-way-partition, target: "mia1,mia2->sin", at: 10m, for: 5m}
              - {kind: latency, target: "ams1->*", at: 1m, for: 1m, extra: {dist: exponential, mean: 20ms}}
              - {kind: node-crash, target: "node:ams1-3", at: 5m, for: 10s, lose_unflushed: true}
              - {kind: clock-skew, target: "*", at: 0, permanent: true, skew: {dist: uniform, low: 0, high: 50ms}}
            """
        let s = try XCTUnwrap(load(yaml))
        // Sorted by start; equal starts keep file order.
        XCTAssertEqual(s.faults.map(\.kind), ["clock-skew", "latency", "dc-outage", "node-crash", "partition",
                                              "one-way-partition", "seizure"])
        let outage = s.faults[2]
        XCTAssertEqual(outage.target, "ams1")
        XCTAssertEqual(outage.start, .minutes(2))
        XCTAssertEqual(outage.duration, .minutes(30))
        XCTAssertEqual(outage.parameters, [.init(key: "disks", value: .string("kept"),
                                                 location: SourceLocation(file: "s.yaml", line: 5, column: 55))])
        XCTAssertEqual(outage.location, SourceLocation(file: "s.yaml", line: 5, column: 5))
        XCTAssertNil(s.faults[6].duration, "permanent")
        XCTAssertEqual(try s.faults[1].parameters[0].distribution(.duration), .exponential(mean: 20_000_000))
        XCTAssertEqual(try s.faults[0].parameters[0].distribution(.duration), .uniform(0, 50_000_000))
        XCTAssertEqual(FaultSpec.knownKinds.count, 17)
    }

    func testFaultErrors() {
        let t = errorText("""
            topology: telegram-5
            duration: 30m
            faults:
              - {kind: dc-outge, target: ams1, at: 2m, for: 30m}
              - {kind: partition, target: "region:europ->ams3", at: 1m}
              - {kind: loss, target: ams1, at: 1h, for: 1m, rate: 1%}
              - {kind: loss, target: "ams1->node:sin-1", at: 1m, for: 1m, permanent: true}
              - {kind: node-crash, target: "node:ams1-9", at: 1m, for: 1m}
              - {kind: node-crash, target: europe, at: 1m, for: 0}
              - {kind: node-crash, target: "place:x", at: 1m, permanent: false}
              - {kind: loss, target: "ams1,,sin", at: 1m, for: 1m}
              - {kind: loss, target: ams1,mia1, at: 1m, for: 1m}
            """)
        for needle in ["s.yaml:4:12: error: faults[0].kind: unknown fault kind 'dc-outge' (did you mean 'dc-outage'?)",
                       "s.yaml:5:5: error: faults[1].for: missing 'for: DURATION' (how long the fault lasts) or 'permanent: true'",
                       "faults[1].target: in 'region:europ->ams3': unknown region 'europ' (did you mean 'region:europe'?)",
                       "faults[1].target: in 'region:europ->ams3': unknown datacenter 'ams3' (did you mean 'ams1'?)",
                       "faults[2].at: the fault starts at 1h, after the run ends (duration 30m)",
                       "faults[3].permanent: give either 'for: DURATION' or 'permanent: true', not both",
                       "faults[3].target: in 'ams1->node:sin-1': links join datacenters",
                       "faults[4].target: unknown node 'ams1-9'; datacenter 'ams1' has nodes ams1-1 to ams1-8",
                       "faults[5].target: unknown datacenter 'europe' (for the region, write 'region:europe')",
                       "faults[5].for: a fault must last longer than 0",
                       "faults[6].target: unknown selector 'place:'",
                       "faults[6].permanent: 'permanent: false' needs 'for: DURATION' instead",
                       "faults[7].target: in 'ams1,,sin': an empty selector",
                       "faults[8].mia1: 'mia1' has no value; inside {…} a comma separates keys"] {
            XCTAssertTrue(t.contains(needle), "missing: \(needle)\n\(t)")
        }
    }

    func testSLOs() throws {
        let yaml = """
            topology: telegram-5
            duration: 1m
            slo:
              lost_acked_writes: "<= 0"
              availability: ">= 99.9%"
              p99_write_latency_ms: "<= 400ms"
              p50_read_latency_s: "<= 1.5s"
              storage_overhead: {max: 3}
              visibility_p99_ms: ≤ 2s
              stored_bytes: "<= 4KiB"
              seizure_exposure: {min: 0}
            """
        let s = try XCTUnwrap(load(yaml))
        XCTAssertEqual(s.slos.map(\.metric), ["lost_acked_writes", "availability", "p99_write_latency_ms",
                                              "p50_read_latency_s", "storage_overhead", "visibility_p99_ms",
                                              "stored_bytes", "seizure_exposure"])
        XCTAssertEqual(s.slos.map(\.comparison), [.atMost, .atLeast, .atMost, .atMost, .atMost, .atMost, .atMost, .atLeast])
        XCTAssertEqual(s.slos.map(\.threshold), [0, 0.999, 400, 1.5, 3, 2000, 4096, 0])
        XCTAssertEqual(s.slos[0].location, SourceLocation(file: "s.yaml", line: 4, column: 3))

        let t = errorText("""
            topology: telegram-5
            duration: 1m
            slo:
              a: "< 1"
              b: 5
              p99_read_latency: "<= 400ms"
              c: {max: 1, min: 0}
              d: "<= lots"
            """)
        for needle in ["slo.a: only '<=' and '>=' bounds are supported",
                       "slo.b: expected a bound such as \"<= 0\" or \">= 0.999\" (quoted), found '5'",
                       "slo.p99_read_latency: '400ms' is a duration, but metric 'p99_read_latency' has no time unit",
                       "slo.c: give one bound per metric",
                       "slo.d: expected a number or a percentage after the comparison, found 'lots'"] {
            XCTAssertTrue(t.contains(needle), "missing: \(needle)\n\(t)")
        }
    }

    func testTimingChecks() {
        XCTAssertTrue(errorText("topology: telegram-5\nduration: 0\n").contains("the duration must be greater than 0"))
        XCTAssertTrue(errorText("topology: telegram-5\nduration: 1m\nwarmup: 1m\n").contains("must be shorter than the duration"))
        XCTAssertTrue(errorText("topology: telegram-5\nduration: 1m\nreport: {sample_interval: 0}\n").contains("greater than 0"))
        XCTAssertTrue(errorText("topology: telegram-5\nduration: 1m\nreport: {formats: [json]}\n").contains("unknown key 'formats'"))
        XCTAssertTrue(errorText("topology: telegram-5\n").contains("missing required key 'duration'"))
        XCTAssertTrue(errorText("duration: 1m\n").contains("missing required key 'topology'"))
    }

    func testSeedAndPayload() throws {
        let s = try XCTUnwrap(load("topology: telegram-5\nduration: 1m\nseed: 18446744073709551615\npayload: sizes\n"))
        XCTAssertEqual(s.seed, .max)
        XCTAssertEqual(s.payload, .sizes)
        let o = s.overriding(seed: 7, duration: .seconds(5), payload: .full)
        XCTAssertEqual([o.seed], [7])
        XCTAssertEqual(o.duration, .seconds(5))
        XCTAssertTrue(errorText("topology: telegram-5\nduration: 1m\nseed: 1.5\n").contains("seed: expected a whole number"))
    }

    func testBuiltinScenarioCannotNameFiles() {
        // Simulate by loading through the built-in path with a path topology.
        let d = Diagnostics()
        _ = ConfigLoader.scenario(text: "topology: ./x.yaml\nduration: 1m\n", source: "builtin:x", hash: "0",
                                  defaultName: "x", baseDirectory: nil, builtin: true, diagnostics: d)
        XCTAssertTrue(d.errors.first?.message.contains("can only name built-in topologies") == true)
    }

    func testInlineTopology() throws {
        let yaml = """
            name: inline-test
            topology:
              name: pair
              datacenters:
                - {id: a, lat: 0, lon: 0, region: r1, jurisdiction: j1, nodes: 1}
                - {id: b, lat: 0, lon: 10, region: r2, jurisdiction: j2, nodes: 1}
            duration: 1m
            workload: {regions: {r2: 1}}
            """
        let s = try XCTUnwrap(load(yaml))
        XCTAssertEqual(s.name, "inline-test")
        XCTAssertEqual(s.topology.name, "pair")
        XCTAssertEqual(s.topology.contentHash, s.contentHash)
        XCTAssertEqual(s.workload.regionWeights, [0, 1])
    }
}
