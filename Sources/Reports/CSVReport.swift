import Simulation

/// CSV time series and tables for people who plot elsewhere (RFC 4180, header row, `\n`
/// line ends, numbers in their shortest round-trip form as in `report.json`).
public enum CSVReport {
    /// `timeline.csv`: one row per sample interval; the columns of `report.json`'s
    /// `timeline` (``JSONReport/timelineTable(_:)``), so the two never disagree.
    public static func timeline(_ r: SimulationReport) -> String {
        let t = JSONReport.timelineTable(r)
        var out = t.columns.map(Format.csv).joined(separator: ",") + "\n"
        for row in t.rows { out += row.map(number).joined(separator: ",") + "\n" }
        return out
    }

    /// `operations.csv`: per operation kind, for the whole run after warm-up (`phase` =
    /// `all`) and then per phase.
    public static func operations(_ r: SimulationReport) -> String {
        var out = "phase,phase_start_s,phase_end_s,kind,issued,ok,failed,unknown,abandoned,retries,availability,latency_count,mean_ms,p50_ms,p90_ms,p99_ms,p999_ms,max_ms\n"
        func line(_ phase: String, _ start: Double, _ end: Double, _ o: OperationFigures) -> String {
            let l = o.latency
            let cells = [Format.csv(phase), number(start), number(end), Format.csv(o.kind), "\(o.issued)", "\(o.ok)",
                         "\(o.failed)", "\(o.unknown)", "\(o.abandoned)", "\(o.retries)", number(o.availability),
                         "\(l.count)", number(l.mean), number(l.p50), number(l.p90), number(l.p99), number(l.p999),
                         number(l.max)]
            return cells.joined(separator: ",") + "\n"
        }
        for o in r.operations { out += line("all", r.scenario.warmup.seconds, r.scenario.duration.seconds, o) }
        for p in r.phases {
            for o in p.operations { out += line(p.name, p.start.seconds, p.end.seconds, o) }
        }
        return out
    }

    /// A number as `report.json` prints it (integers without a fraction, empty when not finite).
    static func number(_ x: Double) -> String {
        guard x.isFinite else { return "" }
        var s = JSONValue.double(x).serialized()
        s.removeLast()
        return s
    }
}
