import Foundation
import SimCore
import XCTest
@testable import ShardPipeline

/// dcsim stores LZ4 *blocks* (see docs/SHARD-FORMAT.md for why not frames). The `lz4` CLI
/// reads and writes blocks inside its legacy container (`lz4 -l`: magic 0x184C2102, then
/// per block a little-endian u32 compressed size and the block), so the tests check interop in
/// both directions through it.
final class LZ4Tests: XCTestCase {
    static let legacyMagic: [UInt8] = [0x02, 0x21, 0x4C, 0x18]
    static let legacyBlockBytes = 8 << 20

    func lz4Executable() throws -> URL {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let url = URL(fileURLWithPath: String(dir)).appendingPathComponent("lz4")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        throw XCTSkip("the lz4 command-line tool is not installed (apt-get install lz4)")
    }

    /// Runs `lz4 args` with `input` on stdin; returns stdout.
    func runLZ4(_ args: [String], input: [UInt8]) throws -> [UInt8] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dcsim-lz4-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let inURL = dir.appendingPathComponent("in"), outURL = dir.appendingPathComponent("out")
        try Data(input).write(to: inURL)
        let p = Process()
        p.executableURL = try lz4Executable()
        p.arguments = args + ["-q", "-f", inURL.path, outURL.path]
        let err = Pipe()
        p.standardError = err
        try p.run()
        p.waitUntilExit()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(p.terminationStatus, 0, "lz4 \(args) failed: \(message)")
        return [UInt8](try Data(contentsOf: outURL))
    }

    func compressBlock(_ codec: LZ4BlockCodec, _ input: [UInt8]) -> [UInt8] {
        let bound = LZ4BlockCodec.bound(input.count)
        var out = [UInt8](repeating: 0, count: bound)
        let n = input.withUnsafeBytes { src in out.withUnsafeMutableBytes { codec.compress(src, into: $0.baseAddress!, capacity: bound) } }
        return Array(out.prefix(n))
    }

    func decompressBlock(_ block: [UInt8], capacity: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: capacity)
        let n = block.withUnsafeBytes { src in out.withUnsafeMutableBytes { LZ4BlockCodec.decompress(src, into: $0.baseAddress!, count: capacity) } }
        return n < 0 ? nil : Array(out.prefix(Int(n)))
    }

    func samplePayloads() -> [(String, [UInt8])] {
        var rng = SimRandom(seed: 2024)
        return [
            ("chat text 120 B", PayloadSynthesizer.bytes(PayloadDescriptor(kind: .text, plaintextBytes: 120, contentSeed: 1))),
            ("chat text 60 KB", PayloadSynthesizer.bytes(PayloadDescriptor(kind: .text, plaintextBytes: 60_000, contentSeed: 2))),
            ("chat text 3 MB", PayloadSynthesizer.bytes(PayloadDescriptor(kind: .text, plaintextBytes: 3_000_000, contentSeed: 3))),
            ("random 100 KB", rng.bytes(100_000)),
            ("zeros 1 MB", [UInt8](repeating: 0, count: 1 << 20)),
            ("one byte", [0x41]),
        ]
    }

    func testBlocksWrittenByDcsimDecompressWithTheLZ4Tool() throws {
        _ = try lz4Executable()
        let codec = try LZ4BlockCodec()
        for (name, payload) in samplePayloads() {
            // One block per 8 MiB chunk, as the legacy container requires; ours are < 8 MiB.
            let block = compressBlock(codec, payload)
            XCTAssertGreaterThan(block.count, 0, name)
            var container = Self.legacyMagic
            withUnsafeBytes(of: UInt32(block.count).littleEndian) { container.append(contentsOf: $0) }
            container += block
            XCTAssertEqual(try runLZ4(["-d"], input: container), payload, "lz4 -d of dcsim's block for \(name)")
        }
    }

    func testBlocksWrittenByTheLZ4ToolOpenInDcsim() throws {
        _ = try lz4Executable()
        for (name, payload) in samplePayloads() {
            let container = try runLZ4(["-l", "-1"], input: payload)
            XCTAssertEqual(Array(container.prefix(4)), Self.legacyMagic, name)
            var offset = 4
            var rebuilt: [UInt8] = []
            while offset + 4 <= container.count {
                let size = Int(container[offset]) | Int(container[offset + 1]) << 8 | Int(container[offset + 2]) << 16 | Int(container[offset + 3]) << 24
                offset += 4
                let block = Array(container[offset..<offset + size])
                offset += size
                guard let part = decompressBlock(block, capacity: Self.legacyBlockBytes) else { return XCTFail("\(name): block did not decompress") }
                rebuilt += part
            }
            XCTAssertEqual(offset, container.count, name)
            XCTAssertEqual(rebuilt, payload, "dcsim decompression of lz4 -l output for \(name)")
        }
    }

    func testBlocksAreIndependentAcrossReusedStateAndDeterministicPerSequence() throws {
        // The reused state must not leak a dictionary from one block into the next: each block
        // decompresses alone. liblz4's fast reset keeps stale (out-of-range) hash entries, so a
        // block's exact bytes may depend on what the state compressed before — but the same
        // sequence of calls on a fresh codec gives the same blocks, which is what a
        // deterministic run needs.
        let inputs = (0..<20).map { i in
            PayloadSynthesizer.bytes(PayloadDescriptor(kind: .text, plaintextBytes: 100 + 400 * i, contentSeed: UInt64(i)))
        }
        func run() throws -> [[UInt8]] {
            let codec = try LZ4BlockCodec()
            return inputs.map { compressBlock(codec, $0) }
        }
        let first = try run(), second = try run()
        XCTAssertEqual(first, second)
        for (i, block) in first.enumerated() {
            XCTAssertEqual(decompressBlock(block, capacity: inputs[i].count), inputs[i], "block \(i) alone")
        }
    }

    func testMalformedBlocksAreRejectedNotOverrun() throws {
        let codec = try LZ4BlockCodec()
        let payload = PayloadSynthesizer.bytes(PayloadDescriptor(kind: .text, plaintextBytes: 5000, contentSeed: 5))
        let block = compressBlock(codec, payload)
        // Too small an output buffer is an error, never an overrun.
        XCTAssertNil(decompressBlock(block, capacity: payload.count - 1))
        XCTAssertNil(decompressBlock(Array(block.prefix(block.count / 2)), capacity: payload.count))
    }
}
