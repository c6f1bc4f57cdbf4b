import ArgumentParser
import Foundation
import SimConfig
import Simulation

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check topology and scenario files; print every error with file:line:column.",
        discussion: """
            Examples:
              dcsim validate Topologies/telegram-5.yaml
              dcsim validate Topologies/*.yaml Topologies/scenarios/*.yaml

            Exit code 0 when every file is valid, 2 otherwise.
            """)

    @Argument(help: "Files to check.")
    var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one file to validate") }
    }

    func run() throws {
        var failed = false
        for file in files {
            var errors = ConfigLoader.validate(path: file).map(\.description)
            if errors.isEmpty, let scenario = try? ConfigLoader.loadScenario(path: file) {
                do { try Simulator.check(scenario) } catch { errors.append("\(error)") }
            }
            if errors.isEmpty {
                print("\(file): ok")
            } else {
                failed = true
                for e in errors { printError(e) }
            }
        }
        if failed { throw Exit.badInput }
    }
}
