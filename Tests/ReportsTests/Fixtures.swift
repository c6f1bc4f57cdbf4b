import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
import Reports
import SimConfig
import SimTestSupport
import Simulation

/// The fixed runs the report tests share, computed once per process.
enum Fixtures {
    /// A small, fast scenario with a fault window on the timeline and SLOs that both pass
    /// and fail (p99 write latency under 1 ms cannot be met across DCs).
    static func goldenScenario(seed: UInt64 = 3) throws -> Scenario {
        try TestScenarios.small(seed: seed, duration: "20s", extra: """
            faults:
              - {kind: dc-outage, target: ams1, at: 10s, for: 4s}
            slo:
              lost_acked_writes: "<= 0"
              availability: ">= 50%"
              p99_write_latency_ms: "<= 1ms"
            """)
    }

    /// A tiny scenario for sweeps and comparisons (many runs).
    static func tinyScenario() throws -> Scenario {
        try TestScenarios.small(seed: 1, duration: "8s", extra: """
            slo:
              availability: ">= 0.5"
              p99_write_latency_ms: "<= 60ms"
            """)
    }

    static let context = ReportContext(version: "test", faults: [FaultWindow(label: "dc-outage ams1", start: .seconds(10), end: .seconds(14))],
                                       replay: "dcsim run golden.yaml --seed 3")

    nonisolated(unsafe) private static var cached: SimulationReport?
    private static let lock = NSLock()

    /// The golden run (simulated once, then shared).
    static func goldenReport() throws -> SimulationReport {
        lock.lock(); defer { lock.unlock() }
        if let cached { return cached }
        let r = try Simulator.run(goldenScenario())
        cached = r
        return r
    }

    static var testsDirectory: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent() }

    static func tempDirectory() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("dcsim-reports-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }
}

/// Parses text as XML with Foundation's parser; returns the element names in document order
/// or the parser's error.
final class XMLCheck: NSObject, XMLParserDelegate {
    var elements: [String] = []
    var attributes: [[String: String]] = []

    static func parse(_ text: String) -> (elements: [String], attributes: [[String: String]], error: Error?) {
        let parser = XMLParser(data: Data(text.utf8))
        let delegate = XMLCheck()
        parser.delegate = delegate
        let ok = parser.parse()
        return (delegate.elements, delegate.attributes, ok ? nil : (parser.parserError ?? NSError(domain: "XMLParser", code: -1)))
    }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        elements.append(elementName)
        attributes.append(attributeDict)
    }
}
