import SimCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What kind of bytes a payload holds, which decides how well it compresses.
///
/// A struct rather than an enum so that kinds can be added without breaking exhaustive
/// switches elsewhere.
public struct PayloadKind: Hashable, Sendable, CustomStringConvertible {
    /// Stable numeric code (part of ``ShardDigest/checksum``).
    public let code: UInt8
    /// Stable name (for configuration and reports).
    public let name: String

    private init(code: UInt8, name: String) { self.code = code; self.name = name }

    /// Chat text: compressible; see ``ShardSizeModel`` for how much.
    public static let text = PayloadKind(code: 0, name: "text")
    /// Photos, video, documents: already-compressed formats, so LZ4 does not shrink them and
    /// the sealer keeps them raw.
    public static let media = PayloadKind(code: 1, name: "media")

    /// Every kind, in code order.
    public static let all: [PayloadKind] = [.text, .media]

    /// The kind with the given name (`"text"`, `"media"`).
    public init?(name: String) {
        guard let k = PayloadKind.all.first(where: { $0.name == name }) else { return nil }
        self = k
    }

    public var description: String { name }
}

/// A payload described instead of held: its kind, length and content seed. In full mode the
/// bytes are synthesised from it (``PayloadSynthesizer``); in sizes mode only the length and
/// kind matter. Either way the description is all a run needs to reproduce the payload.
public struct PayloadDescriptor: Sendable, Hashable {
    public var kind: PayloadKind
    public var plaintextBytes: Int
    /// Seed of the content (for example drawn from the workload stream per message).
    public var contentSeed: UInt64

    public init(kind: PayloadKind, plaintextBytes: Int, contentSeed: UInt64) {
        precondition(plaintextBytes >= 0, "negative payload size \(plaintextBytes)")
        self.kind = kind
        self.plaintextBytes = plaintextBytes
        self.contentSeed = contentSeed
    }
}

/// Deterministic payload bytes for full mode: the same descriptor always gives the same bytes.
///
/// - Text is a slice of a fixed 256 KiB pool of chat-like text (Zipf-weighted chat words,
///   mentions, numbers, links and emoji, one message per line), generated once per process
///   from a fixed seed, at an offset drawn from the content seed; longer payloads concatenate
///   further slices. ``ShardSizeModel/standard`` was measured with the real compressor on
///   exactly this text.
/// - Media is a run of random bytes: ``MediaStream`` from an offset that the content seed picks
///   among ``mediaOffsets`` (4 Mi) byte offsets. Incompressible, like the JPEG/MP4 bytes it
///   stands for; two payloads may overlap in the stream (nothing in dcsim deduplicates), and
///   because any slice can be computed directly, a sealer can encrypt straight from a
///   ``MediaPool`` instead of writing each payload out first.
public enum PayloadSynthesizer {
    /// Size of the text pool in bytes.
    public static let textPoolBytes = 256 << 10

    /// Fills `buffer` with the payload for (`kind`, `buffer.count`, `seed`).
    public static func fill(_ buffer: UnsafeMutableRawBufferPointer, kind: PayloadKind, seed: UInt64) {
        guard kind == .text else {
            MediaStream.fill(buffer, from: mediaOffset(seed: seed))
            return
        }
        var rng = SimRandom(root: seed, label: "payload/text")
        textPool.withUnsafeBytes { pool in
            var filled = 0
            while filled < buffer.count {
                let offset = Int(rng.below(UInt64(pool.count)))
                let take = Swift.min(buffer.count - filled, pool.count - offset)
                buffer.baseAddress!.advanced(by: filled).copyMemory(from: pool.baseAddress! + offset, byteCount: take)
                filled += take
            }
        }
    }

    /// Media payloads start at one of this many byte offsets of the ``MediaStream``.
    public static let mediaOffsets = 4 << 20

    /// Where the media payload with content seed `seed` starts in the ``MediaStream``.
    public static func mediaOffset(seed: UInt64) -> Int {
        var rng = SimRandom(root: seed, label: "payload/media")
        return Int(rng.below(UInt64(mediaOffsets)))
    }

    /// The payload for a descriptor, as an array.
    public static func bytes(_ d: PayloadDescriptor) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: d.plaintextBytes) { buf, n in
            fill(UnsafeMutableRawBufferPointer(buf), kind: d.kind, seed: d.contentSeed)
            n = d.plaintextBytes
        }
    }

    /// The fixed text pool (generated on first use; identical in every process and version).
    static let textPool: [UInt8] = makeTextPool(bytes: textPoolBytes, seed: 0x7E57_C0DE)

    private static let words = """
        the i you to a and it is that of in for me on this be my was have so not just \
        what do we are with at can but like if no know get all yeah ok okay good lol \
        your about will up out one now time go how there when see think they going \
        really then from here back well some more would want did too today tomorrow \
        tonight meeting call later sure thanks thank great love sounds work home soon \
        yes maybe need lunch dinner coffee weekend morning send sent photo pic video \
        link check looks nice haha omg wait what's i'm it's don't can't that's let's \
        please sorry happy birthday congrats deploy release build server cluster \
        datacenter replica shard latency failover migration outage ticket review \
        merge branch fix bug test flaky prod staging rollback on-call alert page \
        minutes hours traffic train bus airport flight hotel booked ticket price \
        left right new old big small first last next week month year again still \
        already almost never always everyone anyone someone nothing something
        """.split(separator: " ").map { Array($0.utf8) }
    private static let names = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"].map { Array($0.utf8) }
    private static let emoji = ["\u{1F602}", "\u{1F44D}", "\u{2764}\u{FE0F}", "\u{1F64F}", "\u{1F60A}", "\u{1F389}"].map { Array($0.utf8) }

    /// Chat-like text: messages of log-normal length (median 120 B) made of Zipf-weighted
    /// words, the occasional mention, number, link or emoji, one message per line.
    static func makeTextPool(bytes: Int, seed: UInt64) -> [UInt8] {
        var rng = SimRandom(seed: seed)
        // Zipf(1.07) weights as integers (parts per billion of the first word's weight).
        let weights = words.indices.map { UInt64(1e9 / pow107($0 + 1)) }
        var cumulative: [UInt64] = []
        var total: UInt64 = 0
        for w in weights { total += w; cumulative.append(total) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes + 5000)
        while out.count < bytes {
            // Log-normal length by Box–Muller on SimRandom (median 120, sigma 0.9, 2...4000).
            let u1 = rng.unitOpenClosed(), u2 = rng.unit()
            let z = (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
            let target = Swift.min(4000, Swift.max(2, Int(exp(log(120.0) + 0.9 * z))))
            var size = 0
            var first = true
            while size < target {
                let r = rng.below(100)
                var word: [UInt8]
                switch r {
                case 0..<3: word = rng.element(of: emoji)!
                case 3..<5: word = Array("@".utf8) + rng.element(of: names)!
                case 5: word = Array("https://example.com/".utf8) + words[Int(rng.below(UInt64(words.count)))] + Array("/\(rng.below(1_000_000))".utf8)
                case 6..<8: word = Array(String(rng.below(2000) + 1).utf8)
                default:
                    let x = rng.below(total)
                    var lo = 0, hi = cumulative.count - 1
                    while lo < hi { let mid = (lo + hi) / 2; if cumulative[mid] > x { hi = mid } else { lo = mid + 1 } }
                    word = words[lo]
                }
                if first, let c = word.first, c >= 0x61, c <= 0x7A { word[0] = c - 0x20 }
                if !first { out.append(0x20) }
                first = false
                out.append(contentsOf: word)
                size += word.count + 1
                if rng.below(100) < 8 { out.append([0x2E, 0x21, 0x3F, 0x2C][Int(rng.below(4))]) }
            }
            out.append(0x0A)
        }
        return Array(out.prefix(bytes))
    }

    private static func pow107(_ x: Int) -> Double { exp(1.07 * log(Double(x))) }
}

/// The media byte stream: SplitMix64 outputs from a fixed seed as little-endian words, so byte
/// `b` is byte `b % 8` of word `b / 8`, and word `i` is computable directly
/// (`SplitMix64(seed: seed + i·γ).next()`): any slice is cheap to produce.
public enum MediaStream {
    /// The stream's seed ("MEDIA1"; fixed: media bytes do not depend on the run's seed, only
    /// their offsets do).
    public static let seed: UInt64 = 0x4D45_4449_4131_0001

    @inlinable static func word(_ index: Int) -> UInt64 {
        var sm = SplitMix64(seed: seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
        return sm.next().littleEndian
    }

    /// Writes stream bytes `offset ..< offset + buffer.count` into `buffer`.
    public static func fill(_ buffer: UnsafeMutableRawBufferPointer, from offset: Int) {
        precondition(offset >= 0, "negative media stream offset \(offset)")
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        var out = 0, index = offset >> 3
        var skip = offset & 7
        while out < buffer.count {
            if skip == 0 && buffer.count - out >= 8 {
                base.storeBytes(of: word(index), toByteOffset: out, as: UInt64.self)
                out += 8
            } else {
                var w = word(index)
                let take = Swift.min(8 - skip, buffer.count - out)
                withUnsafeBytes(of: &w) { (base + out).copyMemory(from: $0.baseAddress! + skip, byteCount: take) }
                out += take
                skip = 0
            }
            index += 1
        }
    }
}

/// The start of the ``MediaStream``, generated as far as it has been asked for (up to
/// ``PayloadSynthesizer/mediaOffsets`` + the largest payload), so media payloads are slices of
/// it rather than bytes written out per payload. Thread-safe: one pool can serve every thread
/// of a run (generation happens under a lock; generated bytes never change).
public final class MediaPool: @unchecked Sendable {
    private let storage: UnsafeMutableRawBufferPointer
    private var generated = 0
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    /// - Parameter maxPayloadBytes: the largest media payload to be asked for.
    public init(maxPayloadBytes: Int) {
        // Reserved, not touched: pages are faulted in as the stream is generated.
        storage = ScratchMemory.allocate(byteCount: PayloadSynthesizer.mediaOffsets + maxPayloadBytes + 8)
        pthread_mutex_init(lock, nil)
    }

    deinit {
        ScratchMemory.deallocate(storage)
        pthread_mutex_destroy(lock)
        lock.deallocate()
    }

    /// The media payload with content seed `seed` and `count` bytes (valid until the pool is
    /// freed): the same bytes as ``PayloadSynthesizer/fill(_:kind:seed:)`` writes.
    public func payload(seed: UInt64, count: Int) -> UnsafeRawBufferPointer {
        let start = PayloadSynthesizer.mediaOffset(seed: seed)
        let end = start + count
        precondition(end <= storage.count - 8, "media payload of \(count) bytes exceeds the pool")
        pthread_mutex_lock(lock)
        if end > generated {
            let upTo = (end + 7) & ~7
            MediaStream.fill(UnsafeMutableRawBufferPointer(rebasing: storage[generated..<upTo]), from: generated)
            generated = upTo
        }
        pthread_mutex_unlock(lock)
        return UnsafeRawBufferPointer(rebasing: storage[start..<end])
    }
}
