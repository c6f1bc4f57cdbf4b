import XCTest
@testable import ShardPipeline

final class CRC32CTests: XCTestCase {
    func testCheckValueAndChaining() {
        let data = Array("123456789".utf8)
        XCTAssertEqual(data.withUnsafeBytes { CRC32C.checksum($0) }, 0xE306_9283)
        let chained = data.withUnsafeBytes { b in
            CRC32C.update(CRC32C.update(CRC32C.seed, UnsafeRawBufferPointer(rebasing: b[0..<4])),
                          UnsafeRawBufferPointer(rebasing: b[4...])) ^ CRC32C.seed
        }
        XCTAssertEqual(chained, 0xE306_9283)
        XCTAssertEqual([UInt8]().withUnsafeBytes { CRC32C.checksum($0) }, 0)
    }
}
