import XCTest
@testable import SimCore

/// `SimRandom.fill` writes whole words with unaligned stores; its bytes must stay exactly the
/// little-endian bytes of successive `next()` values (payloads, keys and nonces derive from
/// them), for every length and every alignment of the destination.
final class RandomFillTests: XCTestCase {
    /// The specification: each word's little-endian bytes in turn, the last word truncated.
    private func reference(seed: UInt64, count: Int) -> [UInt8] {
        var rng = SimRandom(seed: seed)
        var out: [UInt8] = []
        while out.count < count {
            let word = rng.next()
            for k in 0..<8 where out.count < count { out.append(UInt8(truncatingIfNeeded: word >> (8 * UInt64(k)))) }
        }
        return out
    }

    func testFillMatchesWordBytesForEveryLengthAndOffset() {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 + 8, alignment: 16)
        defer { storage.deallocate() }
        for seed: UInt64 in [0, 1, 0xDEAD_BEEF] {
            for count in 0...64 {
                for offset in 0..<8 {
                    storage.initializeMemory(as: UInt8.self, repeating: 0xA5)
                    var rng = SimRandom(seed: seed)
                    rng.fill(UnsafeMutableRawBufferPointer(rebasing: storage[offset..<(offset + count)]))
                    XCTAssertEqual(Array(storage[offset..<(offset + count)]), reference(seed: seed, count: count),
                                   "seed \(seed), \(count) bytes at offset \(offset)")
                    // Nothing outside the buffer is touched.
                    XCTAssertTrue(storage[..<offset].allSatisfy { $0 == 0xA5 }, "bytes before the buffer changed")
                    XCTAssertTrue(storage[(offset + count)...].allSatisfy { $0 == 0xA5 }, "bytes after the buffer changed")
                }
            }
        }
    }

    func testFillConsumesOneDrawPerStartedWord() {
        for count in [0, 1, 7, 8, 9, 16, 17] {
            var a = SimRandom(seed: 42), b = SimRandom(seed: 42)
            a.bytes(count).withUnsafeBytes { _ in }
            _ = a.bytes(count)
            for _ in 0..<(2 * ((count + 7) / 8)) { _ = b.next() }
            XCTAssertEqual(a.next(), b.next(), "\(count) bytes must draw \((count + 7) / 8) words")
        }
    }
}
