import ArgumentParser
import Foundation
import Reports

struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "What got worse between two report.json (or two sweep.json) files, for regression gates.",
        discussion: """
            Compares every key figure (the `figures` of report.json; the per-figure means of \
            sweep.json). Direction-aware: latency, losses and stale reads up are worse; \
            availability down is worse. A regression fails the gate only when it exceeds the \
            allowance given for its figure (--max-regression NAME=PERCENT, or '*=PERCENT' for \
            every figure); without an allowance it is listed but does not gate. From a zero \
            baseline any increase is an infinite regression.

            Examples:
              dcsim diff base/report.json new/report.json
              dcsim diff base/report.json new/report.json --max-regression p99_write_latency_ms=10 --max-regression lost_acked_writes=0
              dcsim diff base/sweep.json new/sweep.json --max-regression '*=5' --format markdown >> "$GITHUB_STEP_SUMMARY"

            Exit codes: 0 no regression over its allowance, 1 one or more, 2 bad input or usage.
            """)

    @Argument(help: "The baseline report.json or sweep.json.")
    var baseline: String

    @Argument(help: "The new report.json or sweep.json.")
    var new: String

    @Option(name: .customLong("max-regression"), help: ArgumentHelp(
        "Allowed regression of a figure in percent, e.g. p99_write_latency_ms=10, or '*=5' for every figure (repeatable).",
        valueName: "metric=pct"))
    var maxRegression: [String] = []

    @Option(help: "Output: text or markdown.")
    var format: String = "text"

    func run() throws {
        guard ["text", "markdown", "md"].contains(format) else {
            printError("error: --format: unknown format '\(format)'; allowed: text, markdown")
            throw Exit.badInput
        }
        do {
            let allowances = try maxRegression.map(Diff.Allowance.parse)
            let base = try Diff.read(try read(baseline), name: baseline)
            let new = try Diff.read(try read(self.new), name: self.new)
            guard base.kind == new.kind else {
                printError("error: cannot diff a \(base.kind) (\(baseline)) with a \(new.kind) (\(self.new)); give two report.json or two sweep.json files")
                throw Exit.badInput
            }
            let rows = Diff.compare(base, new, allowances: allowances)
            print(format == "text" ? Diff.text(rows, base: base, new: new) : Diff.markdown(rows, base: base, new: new), terminator: "")
            if !Diff.passed(rows) { throw Exit.sloFailed }
        } catch let e as Diff.InputError {
            printError("error: \(e.description)")
            throw Exit.badInput
        }
    }

    func read(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            printError("error: cannot read '\(path)' (missing, a directory, or unreadable)")
            throw Exit.badInput
        }
        return String(decoding: data, as: UTF8.self)
    }
}
