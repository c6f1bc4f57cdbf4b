import SimConfig
import SimCore
import Simulation

/// What the writers need beyond the report itself: the version that produced it, the fault
/// windows to shade on charts, and the command that replays the run.
///
/// Everything here is deterministic (no wall clock), so every file a writer produces is
/// identical for the same scenario, seed and version.
public struct ReportContext: Sendable {
    /// dcsim's version, printed in every report.
    public var version: String
    /// Injected fault windows, shaded on timelines.
    public var faults: [FaultWindow]
    /// A command line that reproduces the run (`dcsim run ams-outage --seed 7`), or `nil`.
    public var replay: String?

    public init(version: String, faults: [FaultWindow] = [], replay: String? = nil) {
        self.version = version; self.faults = faults; self.replay = replay
    }

    /// The context for a run of `scenario`: its fault timeline as windows.
    public init(version: String, scenario: Scenario, replay: String? = nil) {
        self.init(version: version, faults: FaultWindow.windows(of: scenario), replay: replay)
    }

    /// The fault windows to draw for `r`: the faults the run applied (scripted, chaos and
    /// swarm, from `report.json`'s `faults`) when the report lists them, else ``faults``.
    public func faultWindows(of r: SimulationReport) -> [FaultWindow] {
        guard let applied = JSONReport.value(r, version: version)["faults"]?.array else { return faults }
        return applied.compactMap { f in
            guard let kind = f["kind"]?.string, let start = f["start"]?.string.flatMap({ try? ConfigUnits.duration($0) }) else {
                return nil
            }
            let end = f["end"]?.string.flatMap { try? ConfigUnits.duration($0) }
            let target = f["target"]?.string ?? ""
            return FaultWindow(label: target.isEmpty ? kind : "\(kind) \(target)", start: start, end: end)
        }
    }
}

/// A stretch of simulated time during which a fault is active, for shading charts.
public struct FaultWindow: Sendable, Equatable {
    /// A short label: `dc-outage ams1`.
    public var label: String
    public var start: SimDuration
    /// `nil` for a permanent fault (shaded to the end of the run).
    public var end: SimDuration?

    public init(label: String, start: SimDuration, end: SimDuration?) {
        self.label = label; self.start = start; self.end = end
    }

    /// The scenario's scripted faults, in start order.
    public static func windows(of scenario: Scenario) -> [FaultWindow] {
        scenario.faults.map { f in
            FaultWindow(label: "\(f.kind) \(f.target)", start: f.start, end: f.duration.map { f.start + $0 })
        }
    }
}
