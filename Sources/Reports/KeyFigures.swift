import Simulation

/// A named figure of a run that reports put side by side: in `report.json`'s `figures`, the
/// Markdown summary, `dcsim compare` rows, `dcsim sweep` distributions and `dcsim diff`.
///
/// Names are the SLO metric names (``SLOEvaluator/metrics``) plus a few traffic figures, so
/// every figure a scenario can gate on is compared, summarised and diffed the same way. A
/// metric the simulation adds to ``SLOEvaluator/metrics`` appears here with no change.
public struct KeyFigure: Sendable {
    /// Which way is better, for marking the best strategy and for `diff`'s regressions.
    public enum Better: String, Sendable {
        case lower, higher
        /// Neither: a change is reported, never called a regression.
        case neither
    }

    /// How a value prints.
    public enum Unit: String, Sendable {
        /// Milliseconds (`_ms` names).
        case milliseconds = "ms"
        /// A ratio in 0…1, printed as a percentage.
        case ratio
        /// Bytes, printed in binary units.
        case bytes
        /// A count or a plain number.
        case plain
    }

    public var name: String
    public var summary: String
    public var better: Better
    public var unit: Unit
    public var read: @Sendable (SimulationReport) -> Double

    /// The value for display: `12.5 ms`, `99.95%`, `1.2 MiB`, `3`.
    public func format(_ x: Double?) -> String {
        guard let x else { return "n/a" }
        switch unit {
        case .milliseconds: return Format.num(x) + " ms"
        case .ratio: return Format.percent(x)
        case .bytes: return Format.bytes(x)
        case .plain: return Format.num(x)
        }
    }
}

public enum KeyFigures {
    /// Every key figure, in report order: the SLO metrics, then traffic figures.
    public static var all: [KeyFigure] {
        SLOEvaluator.metrics.map { m in
            KeyFigure(name: m.name, summary: m.summary, better: better(for: m.name), unit: unit(for: m.name), read: m.read)
        } + extra
    }

    /// Figures that are not SLO metrics but belong in comparisons.
    static let extra: [KeyFigure] = [
        KeyFigure(name: "wan_bytes", summary: "bytes sent between different DCs", better: .lower, unit: .bytes,
                  read: { Double($0.network.wanBytes) }),
        KeyFigure(name: "messages_per_operation", summary: "network messages per client operation", better: .lower,
                  unit: .plain, read: { $0.network.messagesPerOperation }),
        KeyFigure(name: "stored_bytes", summary: "bytes on all disks after compression and encryption",
                  better: .lower, unit: .bytes, read: { Double($0.redundancy.storedBytes) }),
    ]

    /// The figure named `name`, if any.
    public static func named(_ name: String) -> KeyFigure? { all.first { $0.name == name } }

    /// Direction by name: explicit for the names whose meaning is known, otherwise higher is
    /// better for availability, goodput, throughput and margins, lower for everything else
    /// (latencies, losses, stale reads, exposure, overhead). Metrics with no better side are
    /// listed in ``neutral``.
    static func better(for name: String) -> KeyFigure.Better {
        if neutral.contains(name) { return .neither }
        let higher = ["availability", "goodput", "throughput", "margin", "readable"]
        return higher.contains { name.contains($0) } ? .higher : .lower
    }

    /// Figures where neither direction is better (none yet; e.g. offered load would be one).
    static let neutral: Set<String> = []

    static func unit(for name: String) -> KeyFigure.Unit {
        if name.hasSuffix("_ms") { return .milliseconds }
        if name.hasSuffix("_bytes") { return .bytes }
        if name.contains("availability") || name.hasSuffix("_ratio") || name.hasSuffix("_share") { return .ratio }
        return .plain
    }
}
