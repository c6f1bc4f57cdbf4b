import Foundation
import SimCore
@testable import ShardPipeline

/// Bytes from a hex string (whitespace ignored). Traps on bad input: test data only.
func hex(_ s: String) -> [UInt8] {
    let digits = s.filter { !$0.isWhitespace }
    precondition(digits.count % 2 == 0, "odd hex length")
    var out: [UInt8] = []
    var i = digits.startIndex
    while i < digits.endIndex {
        let j = digits.index(i, offsetBy: 2)
        out.append(UInt8(digits[i..<j], radix: 16)!)
        i = j
    }
    return out
}

func hexString(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }

/// A fixed data key for tests (simulation-style: derived from a seed).
func testKey(seed: UInt64 = 1, jurisdiction: UInt32 = 0, keyID: UInt32 = 0) -> DataKey {
    var rng = SimRandom(seed: seed)
    return DataKey(id: DataKeyID(jurisdiction: jurisdiction, keyID: keyID), bytes: rng.bytes(32))
}

/// A payload of `count` bytes whose content class is drawn from `rng`: chat text (compresses),
/// random bytes (does not), or a constant run (compresses extremely well).
func mixedPayload(_ count: Int, using rng: inout SimRandom) -> [UInt8] {
    switch rng.below(3) {
    case 0: return PayloadSynthesizer.bytes(PayloadDescriptor(kind: .text, plaintextBytes: count, contentSeed: rng.next()))
    case 1: return rng.bytes(count)
    default: return [UInt8](repeating: UInt8(truncatingIfNeeded: rng.next()), count: count)
    }
}
