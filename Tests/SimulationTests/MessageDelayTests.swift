import XCTest
import SimCore
import SimNetwork
import SimConfig
@testable import Simulation

/// `message_delays`: a delay distribution per message kind replacing the links' base delay,
/// for PBS/WARS-style experiments (issue 6) — quorum writes to W replicas or all, reads from R
/// random replicas, propagation mechanisms off, and the delays of each leg chosen by kind.
final class MessageDelayTests: XCTestCase {
    func scenario(_ delays: String, seed: UInt64 = 5) throws -> Scenario {
        try ConfigLoader.loadScenario(yaml: """
            name: pbs
            topology: telegram-5
            seed: \(seed)
            duration: 3m
            warmup: 10s
            payload: sizes
            strategy: {name: quorum, copies: 3, write_consistency: one, read_consistency: one, write_fanout: all, read_fanout: quorum, read_repair: off, anti_entropy_interval: off, hinted_handoff: false}
            workload: {users: 300, rate: 10/s, edits: 0, deletes: 0, ttl: {share: 0}}
            \(delays)
            """, source: "test:pbs", baseDirectory: nil)
    }

    /// The names the scenario accepts are the network's kinds, in its order (the engine maps
    /// them by position).
    func testKindNamesFollowTheNetworksOrder() {
        XCTAssertEqual(Scenario.messageKinds,
                       MessageKind.allCases.map { $0.description.replacingOccurrences(of: "-", with: "_") })
    }

    func testKindsAreValidatedWithLocations() {
        XCTAssertThrowsError(try scenario("message_delays: {write_requests: 5ms}")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("write_requests"), text)
            XCTAssertTrue(text.contains("write_request"), "suggests the right name: \(text)")
        }
        XCTAssertThrowsError(try scenario("message_delays: {write_ack: 5}")) { error in
            XCTAssertTrue("\(error)".contains("no unit"), "\(error)")
        }
    }

    /// A constant write-ack delay lands on every acknowledged write (the reply to the client
    /// is a write ack) and on no read.
    func testAKindsDelayAppliesToThatKindOnly() throws {
        let plain = try Simulator.run(try scenario(""))
        let slowAcks = try Simulator.run(try scenario("message_delays: {write_ack: 300ms}"))
        let w = try XCTUnwrap(slowAcks.operations.first { $0.kind == "write" })
        let r = try XCTUnwrap(slowAcks.operations.first { $0.kind == "read" })
        XCTAssertGreaterThan(w.latency.p50, 300)
        XCTAssertGreaterThanOrEqual(w.latency.count, 1000)
        let plainRead = try XCTUnwrap(plain.operations.first { $0.kind == "read" })
        XCTAssertEqual(r.latency.p50, plainRead.latency.p50, accuracy: plainRead.latency.p50 * 0.2 + 1,
                       "reads do not carry write acks")
        XCTAssertLessThan(r.latency.p50, 300)
    }

    /// WARS: with W = 1 and R = 1, a write acknowledged by its first replica reaches the
    /// others only after their own write-request delay; spreading that delay (uniform up to 2 s)
    /// makes reads soon after the ack stale far more often and pushes the visibility curve out.
    func testSlowWritePropagationShiftsTheVisibilityCurve() throws {
        let fast = try Simulator.run(try scenario("message_delays: {write_request: 1ms}"))
        let slow = try Simulator.run(try scenario("message_delays: {write_request: {dist: uniform, low: 0, high: 2s}}"))
        XCTAssertGreaterThan(slow.consistency.staleRatio, fast.consistency.staleRatio + 0.05,
                             "fast \(fast.consistency.staleRatio), slow \(slow.consistency.staleRatio)")
        let fastT = fast.consistency.visibilityT99.map(\.nanoseconds) ?? .max
        let slowT = slow.consistency.visibilityT99.map(\.nanoseconds) ?? .max
        XCTAssertGreaterThan(slowT, fastT)
        // Late reads (beyond the 2 s spread) always see the write.
        for p in slow.consistency.visibility where p.t > .seconds(2) && p.reads > 50 {
            XCTAssertGreaterThanOrEqual(p.fresh, 0.99, "t = \(p.t)")
        }
    }
}
