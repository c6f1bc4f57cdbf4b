import XCTest
@testable import Checker

final class KnownAnswerTests: XCTestCase {
    func testPlaceholder() {}
}
