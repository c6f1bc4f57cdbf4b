import Foundation

/// Runs the built `dcsim` binary, the one way every CLI test does it: `swift test` puts the
/// test bundle beside the executables it built, and `Scripts/test.sh` builds them first, so a
/// missing binary is an error (never a skip).
enum DCSimProcess {
    struct Result { var status: Int32; var stdout: String; var stderr: String }

    struct BinaryMissing: Error, CustomStringConvertible {
        var path: String
        var description: String { "dcsim binary not built at \(path); run `swift build` first" }
    }

    static var binary: URL { Bundle.main.bundleURL.appendingPathComponent("dcsim") }

    static func run(_ args: [String], cwd: URL? = nil, environment: [String: String]? = nil,
                    stdin: String? = nil) throws -> Result {
        guard FileManager.default.fileExists(atPath: binary.path) else { throw BinaryMissing(path: binary.path) }
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        if let cwd { p.currentDirectoryURL = cwd }
        if let environment { p.environment = environment }
        let out = Pipe(), err = Pipe(), input = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = input
        try p.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                      stderr: String(decoding: e, as: UTF8.self))
    }

    /// A fresh temporary directory.
    static func tempDir() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("dcsim-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }
}
