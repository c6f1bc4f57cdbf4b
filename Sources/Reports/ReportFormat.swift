import Foundation
import Simulation

/// The report formats `--format` accepts, and the files each writes into `--report DIR`.
public enum ReportFormat: String, CaseIterable, Sendable {
    /// The terminal summary (standard output; `report.txt` in DIR).
    case text
    /// `report.json` (schema in docs/REPORT.md) and `performance.json` (wall clock).
    case json
    /// `report.md`, for CI step summaries.
    case markdown
    /// `junit.xml`: one test case per SLO.
    case junit
    /// `report.html`: self-contained page with SVG charts.
    case html
    /// `timeline.csv` and `operations.csv`.
    case csv

    /// Accepted spellings besides the case names.
    static let aliases: [String: ReportFormat] = ["md": .markdown, "xml": .junit, "txt": .text]

    /// Why a `--format` list was refused.
    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Parses `text,json,md` (`all` = every format), keeping the order of ``allCases`` and
    /// dropping repeats.
    /// - Throws: ``ParseError`` naming the unknown format and the allowed ones.
    public static func parseList(_ list: String) throws -> [ReportFormat] {
        var chosen = Set<ReportFormat>()
        for raw in list.split(separator: ",", omittingEmptySubsequences: false) {
            let word = raw.trimmingCharacters(in: .whitespaces).lowercased()
            if word == "all" { chosen.formUnion(allCases); continue }
            guard let f = ReportFormat(rawValue: word) ?? aliases[word] else {
                let names = allCases.map(\.rawValue) + ["md", "all"]
                throw ParseError(description: "--format: unknown format '\(word)'; allowed: \(names.joined(separator: ", "))")
            }
            chosen.insert(f)
        }
        return allCases.filter(chosen.contains)
    }
}

/// Writes a run's report files.
public enum ReportWriter {
    /// Writes every format in `formats` into `directory` (created if missing).
    /// - Returns: the paths written, in format order.
    /// - Throws: file-system errors from Foundation.
    @discardableResult
    public static func write(_ r: SimulationReport, performance: PerformanceFigures?, formats: [ReportFormat],
                             directory: String, context: ReportContext) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var written: [String] = []
        func put(_ name: String, _ text: String) throws {
            let path = (directory as NSString).appendingPathComponent(name)
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            written.append(path)
        }
        for f in formats {
            switch f {
            case .text: try put("report.txt", TextReport.render(r, performance: nil, color: false))
            case .json:
                try put("report.json", JSONReport.render(r, version: context.version))
                if let performance { try put("performance.json", JSONReport.performance(performance)) }
            case .markdown: try put("report.md", MarkdownReport.render(r, context: context))
            case .junit: try put("junit.xml", JUnitReport.render(r, context: context))
            case .html: try put("report.html", HTMLReport.render(r, context: context))
            case .csv:
                try put("timeline.csv", CSVReport.timeline(r))
                try put("operations.csv", CSVReport.operations(r))
            }
        }
        return written
    }
}
