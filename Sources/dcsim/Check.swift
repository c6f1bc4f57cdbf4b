import ArgumentParser
import Checker
import Foundation

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a recorded history (JSON lines) for linearizability, key by key.",
        discussion: """
            FILE holds one operation event per line (format: docs/HISTORY.md), recorded by \
            dcsim or by any other system; `-` reads standard input. Each key is a register \
            (write, read, delete); each is checked on its own with a Wing–Gong/Lowe search \
            bounded by a step budget, so the answer is the same on every machine. A key that \
            is not linearizable gets a shrunk counterexample: a few of its operations that \
            already cannot be ordered.

            Examples:
              dcsim check history.jsonl
              dcsim check history.jsonl --budget 10000000 --format json > check.json

            Exit codes: 0 linearizable; 1 not linearizable, or could not decide within the \
            budget (the message says which); 2 bad input or usage; 3 internal error.
            """)

    @Argument(help: "A JSON-lines history file, or - for standard input.")
    var file: String

    @Option(help: "Search steps per key before giving up on it (answer: could not decide).")
    var budget: Int = LinearizabilityChecker.defaultBudget

    @Option(help: "Output format: text or json.")
    var format: String = "text"

    @Option(help: "How many counterexamples to shrink and print (the first keys in order).")
    var counterexamples: Int = 3

    func validate() throws {
        if budget <= 0 { throw ValidationError("--budget must be a positive number of steps, got \(budget)") }
        if !["text", "json"].contains(format) {
            throw ValidationError("--format: unknown format '\(format)'; allowed: text, json")
        }
        if counterexamples < 0 { throw ValidationError("--counterexamples must not be negative, got \(counterexamples)") }
    }

    func run() throws {
        let bytes: [UInt8]
        let source = file == "-" ? "<stdin>" : file
        if file == "-" {
            bytes = Array(FileHandle.standardInput.readDataToEndOfFile())
        } else {
            guard let data = FileManager.default.contents(atPath: file) else {
                printError("error: cannot read history file '\(file)' (missing, a directory, or unreadable)")
                throw Exit.badInput
            }
            bytes = Array(data)
        }
        let histories: [KeyHistory]
        do {
            histories = try HistoryJSONL.parse(bytes: bytes, source: source)
        } catch let e as HistoryError {
            printError("error: \(e.description)")
            throw Exit.badInput
        } catch {
            printError("internal error while reading \(source): \(error)")
            throw Exit.internalError
        }
        let report = LinearizabilityChecker(budget: budget).check(histories, counterexamplesMax: counterexamples)
        print(format == "json" ? report.json() : report.text(), terminator: "")
        switch report.summary {
        case .linearizable: return
        case .notLinearizable: throw Exit.sloFailed
        case .unknown:
            if format == "json" {
                printError("could not decide: \(report.unknown) keys ran out of the budget of \(budget) steps")
            }
            throw Exit.sloFailed
        }
    }
}
