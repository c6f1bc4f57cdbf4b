/// A set of data-center indices, as a bitset.
///
/// Iterates in ascending order (never hash order), compares and hashes by content, and
/// answers `contains` in constant time — what reachability and seizure questions need.
public struct DCSet: Sendable, Hashable, Sequence, ExpressibleByArrayLiteral, CustomStringConvertible {
    // Invariant: no trailing zero word, so equal sets have equal `words`.
    private var words: [UInt64] = []

    public init() {}

    public init<S: Sequence>(_ dcs: S) where S.Element == Int {
        for dc in dcs { insert(dc) }
    }

    public init(arrayLiteral dcs: Int...) { self.init(dcs) }

    /// All of `0..<count`.
    public static func all(_ count: Int) -> DCSet { DCSet(0..<count) }

    public func contains(_ dc: Int) -> Bool {
        guard dc >= 0 else { return false }
        let w = dc >> 6
        return w < words.count && words[w] & (1 << UInt64(dc & 63)) != 0
    }

    public mutating func insert(_ dc: Int) {
        precondition(dc >= 0, "DC index must be non-negative, got \(dc)")
        let w = dc >> 6
        if w >= words.count { words.append(contentsOf: repeatElement(0, count: w - words.count + 1)) }
        words[w] |= 1 << UInt64(dc & 63)
    }

    public mutating func remove(_ dc: Int) {
        guard dc >= 0, dc >> 6 < words.count else { return }
        words[dc >> 6] &= ~(1 << UInt64(dc & 63))
        while words.last == 0 { words.removeLast() }
    }

    public var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }
    public var isEmpty: Bool { words.isEmpty }

    public func union(_ other: DCSet) -> DCSet {
        var r = DCSet()
        r.words = (0..<Swift.max(words.count, other.words.count)).map {
            ($0 < words.count ? words[$0] : 0) | ($0 < other.words.count ? other.words[$0] : 0)
        }
        return r
    }

    public struct Iterator: IteratorProtocol {
        let words: [UInt64]
        var w = 0
        var current: UInt64
        init(_ words: [UInt64]) { self.words = words; current = words.first ?? 0 }
        public mutating func next() -> Int? {
            while current == 0 {
                w += 1
                guard w < words.count else { return nil }
                current = words[w]
            }
            let bit = current.trailingZeroBitCount
            current &= current - 1
            return w << 6 | bit
        }
    }

    public func makeIterator() -> Iterator { Iterator(words) }

    public var description: String { "{" + map(String.init).joined(separator: ", ") + "}" }
}
