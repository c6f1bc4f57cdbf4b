import SimCore

/// A 96-bit AES-GCM nonce.
///
/// A nonce must never repeat under one key. dcsim draws nonces from a seeded ``SimRandom``
/// stream (96 random bits: a repeat among 2^32 shards under one key has probability below
/// 2^-32) so that a run's shard bytes are reproducible. **This is for simulation only**: real
/// systems take nonces from a CSPRNG or a persistent counter.
public struct Nonce: Sendable, Equatable, CustomStringConvertible {
    /// Nonce size in bytes.
    public static let byteCount = 12

    @usableFromInline var raw: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)

    /// Creates a nonce from 12 bytes.
    /// - Precondition: `bytes.count == 12`.
    public init(bytes: [UInt8]) {
        precondition(bytes.count == Nonce.byteCount, "Nonce needs \(Nonce.byteCount) bytes, got \(bytes.count)")
        raw = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &raw) { dst in bytes.withUnsafeBytes { dst.copyMemory(from: $0) } }
    }

    init(_ pointer: UnsafeRawPointer) {
        raw = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &raw) { $0.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: Nonce.byteCount)) }
    }

    /// Draws a nonce from a simulation stream (12 bytes: one full word and half of the next).
    public static func random(using rng: inout SimRandom) -> Nonce {
        var n = Nonce(prefix: 0, counter: 0)
        withUnsafeMutableBytes(of: &n.raw) { rng.fill($0) }
        return n
    }

    /// A counter nonce: 4 bytes of `prefix` then 8 bytes of `counter`, little-endian (the layout
    /// the C reference benchmark uses; unique while the counter does not wrap).
    public init(prefix: UInt32, counter: UInt64) {
        raw = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &raw) { p in
            p.storeBytes(of: prefix.littleEndian, toByteOffset: 0, as: UInt32.self)
            p.storeBytes(of: counter.littleEndian, toByteOffset: 4, as: UInt64.self)
        }
    }

    /// The 12 bytes.
    public var bytes: [UInt8] { withUnsafeBytes(of: raw) { Array($0) } }

    @inlinable func withNonceBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        withUnsafeBytes(of: raw) { body($0) }
    }

    public static func == (a: Nonce, b: Nonce) -> Bool {
        withUnsafeBytes(of: a.raw) { x in withUnsafeBytes(of: b.raw) { y in x.elementsEqual(y) } }
    }

    /// Lowercase hex (nonces are not secret).
    public var description: String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
