/// Deterministic pseudo-random numbers for the simulation.
///
/// dcsim owns its generator instead of using `SystemRandomNumberGenerator` or the standard
/// library's `random(in:using:)`: the standard library documents that the exact values those
/// helpers draw may change between Swift versions, and a run must give the same bytes for the
/// same seed on every version. Everything here is specified bit for bit and pinned by tests.
///
/// Streams: the run has one root seed. Each component (the network, each node, the workload,
/// the fault injector…) gets its own child stream derived from the root seed and a stable
/// label, so adding a component or drawing more numbers in one never changes another's.

/// SplitMix64 (Steele, Lea, Flood 2014): used to expand seeds into generator state.
public struct SplitMix64: Sendable {
    public var state: UInt64
    @inlinable public init(seed: UInt64) { state = seed }
    @inlinable public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256** 1.0 (Blackman and Vigna, 2018): the simulation's generator.
///
/// Fast, 256 bits of state, passes BigCrush. State is seeded through SplitMix64 as the authors
/// recommend, so any 64-bit seed (including 0) gives a valid, well-mixed state.
public struct SimRandom: RandomNumberGenerator, Sendable {
    @usableFromInline var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// Creates a generator from a 64-bit seed.
    @inlinable public init(seed: UInt64) {
        var sm = SplitMix64(seed: seed)
        s0 = sm.next(); s1 = sm.next(); s2 = sm.next(); s3 = sm.next()
    }

    /// Creates the child stream for a component, from the run's root seed and a stable label
    /// (for example `"network"`, `"workload"`, or `"node"` with index 7).
    ///
    /// The label is hashed with FNV-1a (specified, unlike `Hasher`, which is seeded per process)
    /// and mixed with the root seed, so the child depends only on the root seed, the label and
    /// the index — not on how many other streams exist or in what order they were made.
    public init(root: UInt64, label: String, index: UInt64 = 0) {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in label.utf8 {
            h ^= UInt64(byte)
            h &*= 0x0000_0100_0000_01B3
        }
        var mix = SplitMix64(seed: root ^ h)
        let a = mix.next()
        var mix2 = SplitMix64(seed: a ^ (index &* 0xD1B5_4A32_D192_ED03))
        self.init(seed: mix2.next())
    }

    @inlinable public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    @inlinable func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 &- k)) }

    /// A uniform integer in `0..<bound` without modulo bias (Lemire's multiply-and-reject).
    /// - Precondition: `bound > 0`.
    @inlinable public mutating func below(_ bound: UInt64) -> UInt64 {
        precondition(bound > 0, "SimRandom.below: bound must be positive")
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold {
                m = next().multipliedFullWidth(by: bound)
            }
        }
        return m.high
    }

    /// A uniform `Int` in `range` (closed or half-open via the two overloads).
    @inlinable public mutating func int(in range: Range<Int>) -> Int {
        precondition(!range.isEmpty, "SimRandom.int(in:): empty range")
        return range.lowerBound + Int(below(UInt64(range.count)))
    }
    @inlinable public mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(below(UInt64(range.count)))
    }

    /// A uniform `Double` in `[0, 1)` with 53 random bits.
    @inlinable public mutating func unit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A uniform `Double` in `(0, 1]` — safe to pass to `log`.
    @inlinable public mutating func unitOpenClosed() -> Double {
        Double((next() >> 11) + 1) * 0x1.0p-53
    }

    /// True with probability `ppm / 1_000_000` (probabilities as parts per million keep
    /// comparisons exact and free of floating-point rounding).
    @inlinable public mutating func chance(ppm: UInt32) -> Bool {
        if ppm == 0 { return false }
        if ppm >= 1_000_000 { return true }
        return below(1_000_000) < UInt64(ppm)
    }

    /// Shuffles `array` in place (Fisher–Yates with ``below(_:)``), identically on every
    /// Swift version.
    @inlinable public mutating func shuffle<T>(_ array: inout [T]) {
        var i = array.count
        while i > 1 {
            let j = Int(below(UInt64(i)))
            i -= 1
            array.swapAt(i, j)
        }
    }

    /// A uniformly chosen element, or `nil` for an empty collection.
    @inlinable public mutating func element<C: RandomAccessCollection>(of c: C) -> C.Element? where C.Index == Int {
        c.isEmpty ? nil : c[c.startIndex + Int(below(UInt64(c.count)))]
    }

    /// Fills a buffer with random bytes (keys and nonces *in simulation only*: these come from
    /// the seed so that runs are reproducible; they are not secret and must never be used to
    /// protect real data).
    public mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress else { return }
        let count = buffer.count
        var i = 0
        // Whole words first (unaligned 8-byte stores), then the tail byte by byte: the same
        // bytes as storing each word's little-endian bytes in turn.
        while i + 8 <= count {
            base.storeBytes(of: next().littleEndian, toByteOffset: i, as: UInt64.self)
            i += 8
        }
        if i < count {
            var word = next().littleEndian
            withUnsafeBytes(of: &word) { src in
                for k in 0..<(count - i) { base.storeBytes(of: src[k], toByteOffset: i + k, as: UInt8.self) }
            }
        }
    }

    /// `count` random bytes (simulation only; see ``fill(_:)``).
    public mutating func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { fill($0) }
        return out
    }
}
