import ArgumentParser
import Foundation
import Replication
import Reports
import SimConfig
import SimCore
import Simulation

/// dcsim's version, printed in reports and part of the reproduction key.
let dcsimVersion = "0.1.0"

/// Exit codes (documented in README.md): 0 all SLOs met, 1 an SLO failed, 2 bad input or
/// usage, 3 internal error.
enum Exit {
    static let sloFailed = ExitCode(1)
    static let badInput = ExitCode(2)
    static let internalError = ExitCode(3)
}

@main
struct DCSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dcsim",
        abstract: "Simulate geo-replicated, encrypted message storage under outages.",
        discussion: """
            Runs deterministic simulations of datacenters whose nodes store and replicate \
            LZ4-compressed, AES-256-GCM-encrypted message shards, injects faults, and reports \
            redundancy, consistency and throughput.

            Examples:
              dcsim run                                   # the built-in default scenario
              dcsim run Topologies/scenarios/ams-outage.yaml --seed 7 --report out --format text,json
              dcsim compare ams-outage --strategies async-geo,single-dc --report out --format all
              dcsim sweep ams-outage --seeds 1...1000 --jobs 8 --report out
              dcsim diff base/report.json new/report.json --max-regression p99_write_latency_ms=10
              dcsim validate Topologies/*.yaml Topologies/scenarios/*.yaml
              dcsim topologies telegram-5
              dcsim check history.jsonl                   # linearizability of a recorded history

            Exit codes: 0 all SLOs met, 1 an SLO failed, 2 bad input or usage, 3 internal error.
            """,
        version: dcsimVersion,
        subcommands: [Run.self, Compare.self, SweepCommand.self, Merge.self, DiffCommand.self,
                      Validate.self, Topologies.self, Strategies.self, Check.self],
        defaultSubcommand: nil)

    /// Parses and runs, mapping every error to dcsim's exit codes (ArgumentParser's own
    /// usage errors would otherwise exit 64).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                exit(withError: error)   // --help, --version: prints and exits 0
            }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            // Usage errors (unknown flag, bad value, failed validation) are bad input; any
            // other error that escaped a command is dcsim's own fault.
            Foundation.exit(code == .validationFailure ? Exit.badInput.rawValue : Exit.internalError.rawValue)
        }
    }
}

/// Prints to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message.hasSuffix("\n") ? message : message + "\n").utf8))
}

/// Loads a scenario from a path, or a built-in scenario by name; reports errors and throws
/// the bad-input exit code.
func loadScenario(_ argument: String?) throws -> Scenario {
    do {
        guard let argument else { return try ConfigLoader.builtinScenario(named: "default") }
        if FileManager.default.fileExists(atPath: argument) {
            return try ConfigLoader.loadScenario(path: argument)
        }
        if ConfigLoader.builtinScenarioNames.contains(argument) {
            return try ConfigLoader.builtinScenario(named: argument)
        }
        printError("error: no scenario file '\(argument)', and no built-in scenario by that name; built-in: \(ConfigLoader.builtinScenarioNames.joined(separator: ", "))")
        throw Exit.badInput
    } catch let e as ConfigErrors {
        printError(e.description)
        throw Exit.badInput
    } catch let e as ConfigError {
        printError(e.description)
        throw Exit.badInput
    }
}
