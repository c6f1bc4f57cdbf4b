internal import CISAL

/// Reed–Solomon RS(k, m) erasure coding with Intel ISA-L: a shard becomes k data fragments
/// (its bytes, split and zero-padded) and m parity fragments; any k intact fragments rebuild it.
///
/// The generator is ISA-L's Cauchy matrix (`gf_gen_cauchy1_matrix`): identity on top (the code
/// is systematic), Cauchy rows below, so *every* k×k submatrix is invertible and every set of k
/// fragments decodes (a Vandermonde matrix, `gf_gen_rs_matrix`, does not guarantee this for all
/// k and m). Decoding inverts the submatrix of the surviving rows (`gf_invert_matrix`), expands
/// the rows of the missing data fragments (`ec_init_tables`) and recomputes them
/// (`ec_encode_data`). Inverted tables are cached per survivor set (bounded).
///
/// Integrity: each fragment carries a CRC-32C over its header and payload. A fragment that
/// fails it (or whose header disagrees with its position) is *corrupt* and treated as missing;
/// with fewer than k intact fragments, decoding throws ``ShardError/unrecoverable(intact:needed:corrupt:missing:)``
/// and returns no bytes. The CRC catches every corruption of up to 3 bits per fragment and
/// others with probability 1 − 2^-32; the shard's GCM tag, checked when the decoded shard is
/// opened, catches the rest — so the read path never returns wrong data.
///
/// Not thread-safe (scratch buffers and the table cache): one coder per simulation or thread.
public final class ErasureCoder {
    /// The largest k + m supported (fragment sets are tracked as 64-bit masks).
    public static let maxFragments = 64

    public let k: Int
    public let m: Int
    /// k + m.
    public var n: Int { k + m }

    /// The (k+m)×k generator matrix, row-major.
    private let matrix: [UInt8]
    /// ec_init_tables expansion of the m parity rows.
    private let encodeTables: [UInt8]
    /// Survivor mask → expanded tables of the missing data rows (bounded; cleared when full).
    private var decodeTables: [UInt64: [UInt8]] = [:]
    private static let decodeCacheLimit = 4096

    private let sourcePointers: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>
    private let targetPointers: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>
    private var scratch: UnsafeMutableRawPointer
    private var scratchCapacity: Int

    /// - Throws: ``ShardError/invalidErasureParameters(k:m:reason:)`` unless 1 ≤ k, 1 ≤ m and
    ///   k + m ≤ ``maxFragments``.
    public init(k: Int, m: Int) throws(ShardError) {
        guard k >= 1 else { throw .invalidErasureParameters(k: k, m: m, reason: "k must be at least 1") }
        guard m >= 1 else { throw .invalidErasureParameters(k: k, m: m, reason: "m must be at least 1 (m = 0 is plain striping)") }
        guard k + m <= ErasureCoder.maxFragments else {
            throw .invalidErasureParameters(k: k, m: m, reason: "k + m = \(k + m) exceeds \(ErasureCoder.maxFragments)")
        }
        self.k = k
        self.m = m
        var a = [UInt8](repeating: 0, count: (k + m) * k)
        a.withUnsafeMutableBufferPointer { gf_gen_cauchy1_matrix($0.baseAddress, Int32(k + m), Int32(k)) }
        matrix = a
        var tables = [UInt8](repeating: 0, count: 32 * k * m)
        a.withUnsafeMutableBufferPointer { rows in
            tables.withUnsafeMutableBufferPointer { t in
                ec_init_tables(Int32(k), Int32(m), rows.baseAddress! + k * k, t.baseAddress)
            }
        }
        encodeTables = tables
        sourcePointers = .allocate(capacity: k + m)
        targetPointers = .allocate(capacity: k + m)
        scratchCapacity = 4096
        scratch = .allocate(byteCount: scratchCapacity, alignment: 64)
    }

    deinit {
        sourcePointers.deallocate()
        targetPointers.deallocate()
        scratch.deallocate()
    }

    private func reserveScratch(_ bytes: Int) {
        guard bytes > scratchCapacity else { return }
        scratch.deallocate()
        scratchCapacity = Swift.max(bytes, scratchCapacity * 2)
        scratch = .allocate(byteCount: scratchCapacity, alignment: 64)
    }

    /// The generator matrix row for fragment `index` (k coefficients).
    public func generatorRow(_ index: Int) -> [UInt8] { Array(matrix[index * k..<(index + 1) * k]) }

    // MARK: Encode

    /// Encodes a shard into k + m fragments (index order: data 0..<k, parity k..<k+m).
    /// - Parameter stripeID: recorded in every fragment; decoding refuses to mix stripes.
    /// - Precondition: `shard.count` fits in 32 bits.
    public func encode(_ shard: UnsafeRawBufferPointer, stripeID: UInt64 = 0) -> [Fragment] {
        let length = shard.count
        precondition(length <= Int(UInt32.max), "shard of \(length) bytes is too large to erasure-code")
        let p = Fragment.payloadBytes(shardBytes: length, k: k)
        let stored = Fragment.headerBytes + p
        var fragments: [Fragment] = []
        fragments.reserveCapacity(n)

        // Data pointers: straight into the shard where a whole fragment is available; the
        // (zero-padded) tail and any all-padding fragments come from scratch.
        reserveScratch(Swift.max(k * p, 1))
        for i in 0..<k where p > 0 {
            let start = i * p
            if start + p <= length {
                sourcePointers[i] = UnsafeMutablePointer(mutating: shard.baseAddress!.assumingMemoryBound(to: UInt8.self) + start)
            } else {
                let dst = scratch + i * p
                let have = Swift.max(0, length - start)
                if have > 0 { dst.copyMemory(from: shard.baseAddress! + start, byteCount: have) }
                (dst + have).initializeMemory(as: UInt8.self, repeating: 0, count: p - have)
                sourcePointers[i] = dst.assumingMemoryBound(to: UInt8.self)
            }
        }
        for i in 0..<k {
            fragments.append(Fragment(bytes: [UInt8](unsafeUninitializedCapacity: stored) { buf, count in
                if p > 0 { (buf.baseAddress! + Fragment.headerBytes).initialize(from: sourcePointers[i]!, count: p) }
                count = stored
            }))
        }
        // Parity arrays are built nested, so that all m output buffers are live (and their
        // addresses valid) while ISA-L writes them, without an extra copy.
        var parity: [[UInt8]] = []
        buildParity(0, payload: p, into: &parity)
        // buildParity appended the innermost (last) parity first. Popping moves each buffer
        // out of `parity`, so the header write below mutates it in place instead of copying.
        while let bytes = parity.popLast() { fragments.append(Fragment(bytes: bytes)) }
        for i in 0..<n {
            fragments[i].bytes.withUnsafeMutableBytes { b in
                Fragment.writeHeader(b.baseAddress!, index: i, k: k, m: m, stripeID: stripeID, originalLength: length)
                b.storeBytes(of: Fragment.computeCRC(UnsafeRawBufferPointer(b)).littleEndian, toByteOffset: 20, as: UInt32.self)
            }
        }
        return fragments
    }

    private func buildParity(_ j: Int, payload p: Int, into out: inout [[UInt8]]) {
        let stored = Fragment.headerBytes + p
        let bytes = [UInt8](unsafeUninitializedCapacity: stored) { buf, count in
            targetPointers[j] = buf.baseAddress! + Fragment.headerBytes
            if j + 1 < m {
                buildParity(j + 1, payload: p, into: &out)
            } else if p > 0 {
                encodeTables.withUnsafeBufferPointer { t in
                    ec_encode_data(Int32(p), Int32(k), Int32(m), UnsafeMutablePointer(mutating: t.baseAddress!),
                                   sourcePointers, targetPointers)
                }
            }
            count = stored
        }
        out.append(bytes)
    }

    /// Encodes a shard held in an array.
    public func encode(_ shard: [UInt8], stripeID: UInt64 = 0) -> [Fragment] {
        shard.withUnsafeBytes { encode($0, stripeID: stripeID) }
    }

    // MARK: Check and decode

    /// Checks one stored fragment: size, magic, version, its CRC, that it is fragment `index`
    /// of this RS(k, m), and that its payload size matches its original length.
    /// - Returns: `nil` if intact, else the reason it is corrupt.
    public func check(_ fragment: Fragment, index: Int) -> String? {
        fragment.bytes.withUnsafeBytes { b -> String? in
            guard b.count >= Fragment.headerBytes else { return "truncated to \(b.count) bytes" }
            guard b[0] == Fragment.magic.0, b[1] == Fragment.magic.1 else { return "bad magic" }
            guard b[2] == Fragment.currentVersion else { return "unsupported format version \(b[2])" }
            let stored = UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 20, as: UInt32.self))
            guard Fragment.computeCRC(b) == stored else { return "CRC-32C mismatch" }
            // Past the CRC the header is as written; these catch fragments placed wrongly.
            guard Int(b[3]) == index else { return "holds index \(b[3]), expected \(index)" }
            guard Int(b[4]) == k, Int(b[5]) == m else { return "is RS(\(b[4]), \(b[5])), expected RS(\(k), \(m))" }
            let length = Int(UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 16, as: UInt32.self)))
            guard b.count - Fragment.headerBytes == Fragment.payloadBytes(shardBytes: length, k: k) else {
                return "payload size \(b.count - Fragment.headerBytes) does not match length \(length)"
            }
            return nil
        }
    }

    /// The result of a successful decode.
    public struct Decoded: Sendable, Equatable {
        /// The shard's bytes, exactly as encoded.
        public var bytes: [UInt8]
        /// Indices of fragments that were present but corrupt (detected, not used) — count
        /// them and rewrite them (see ``ErasureCoder/reconstruct(_:)``).
        public var corrupt: [Int]
        /// Indices that were absent (`nil`).
        public var missing: [Int]
        /// The stripe id the intact fragments carry.
        public var stripeID: UInt64
    }

    /// Rebuilds the shard from any k intact fragments.
    ///
    /// - Parameter fragments: k + m entries, entry i being fragment i or `nil` if unavailable.
    /// - Returns: the shard and which fragments were corrupt or missing.
    /// - Throws: ``ShardError/unrecoverable(intact:needed:corrupt:missing:)`` with fewer than k
    ///   intact fragments (never wrong data); ``ShardError/inconsistentFragments(detail:)`` if
    ///   intact fragments belong to different stripes.
    public func decode(_ fragments: [Fragment?]) throws(ShardError) -> Decoded {
        precondition(fragments.count == n, "decode needs \(n) entries (nil for missing), got \(fragments.count)")
        var intact: [Int] = []
        var corrupt: [Int] = [], missing: [Int] = []
        for (i, f) in fragments.enumerated() {
            guard let f else { missing.append(i); continue }
            if check(f, index: i) == nil { intact.append(i) } else { corrupt.append(i) }
        }
        guard intact.count >= k else {
            throw .unrecoverable(intact: intact.count, needed: k, corrupt: corrupt.count, missing: missing.count)
        }
        let first = fragments[intact[0]]!
        let length = first.originalLength, stripe = first.stripeID
        for i in intact.dropFirst() {
            let f = fragments[i]!
            guard f.originalLength == length, f.stripeID == stripe else {
                throw .inconsistentFragments(detail: "fragment \(intact[0]) is stripe \(stripe) of \(length) bytes, fragment \(i) is stripe \(f.stripeID) of \(f.originalLength) bytes")
            }
        }
        let p = Fragment.payloadBytes(shardBytes: length, k: k)
        let survivors = Array(intact.prefix(k))   // ascending: every intact data fragment is in it
        let lost = (0..<k).filter { !survivors.contains($0) }
        if !lost.isEmpty && p > 0 {
            let tables = decodeTables(survivors: survivors, lost: lost)
            reserveScratch(lost.count * p)
            for (r, _) in lost.enumerated() { targetPointers[r] = (scratch + r * p).assumingMemoryBound(to: UInt8.self) }
            withPayloadPointers(fragments, survivors, 0) {
                tables.withUnsafeBufferPointer { t in
                    ec_encode_data(Int32(p), Int32(k), Int32(lost.count), UnsafeMutablePointer(mutating: t.baseAddress!),
                                   sourcePointers, targetPointers)
                }
            }
        }
        let bytes = [UInt8](unsafeUninitializedCapacity: length) { buf, count in
            for i in 0..<k where i * p < length {
                let take = Swift.min(p, length - i * p)
                let dst = UnsafeMutableRawPointer(buf.baseAddress! + i * p)
                if let r = lost.firstIndex(of: i) {
                    dst.copyMemory(from: scratch + r * p, byteCount: take)
                } else {
                    fragments[i]!.bytes.withUnsafeBytes { dst.copyMemory(from: $0.baseAddress! + Fragment.headerBytes, byteCount: take) }
                }
            }
            count = length
        }
        return Decoded(bytes: bytes, corrupt: corrupt, missing: missing, stripeID: stripe)
    }

    /// Rebuilds all k + m fragments (repair after loss or corruption): decode, then encode
    /// again. The result is byte-identical to the original encoding.
    /// - Throws: as ``decode(_:)``.
    public func reconstruct(_ fragments: [Fragment?]) throws(ShardError) -> [Fragment] {
        let decoded = try decode(fragments)
        return encode(decoded.bytes, stripeID: decoded.stripeID)
    }

    /// Whether a set with `intact` intact fragments can be decoded (sizes mode).
    @inlinable public func canDecode(intact: Int) -> Bool { intact >= k }

    /// Points `sourcePointers[0..<indices.count]` at the payloads of `fragments[indices]`,
    /// nesting one `withUnsafeBytes` per fragment so every pointer is valid while `body` runs.
    private func withPayloadPointers(_ fragments: [Fragment?], _ indices: [Int], _ level: Int, _ body: () -> Void) {
        if level == indices.count { return body() }
        fragments[indices[level]]!.bytes.withUnsafeBytes { b in
            sourcePointers[level] = UnsafeMutablePointer(mutating: b.baseAddress!.assumingMemoryBound(to: UInt8.self) + Fragment.headerBytes)
            withPayloadPointers(fragments, indices, level + 1, body)
        }
    }

    /// The expanded decode tables that recompute data fragments `lost` from `survivors`.
    private func decodeTables(survivors: [Int], lost: [Int]) -> [UInt8] {
        let mask = survivors.reduce(UInt64(0)) { $0 | (1 << UInt64($1)) }
        if let cached = decodeTables[mask] { return cached }
        var b = [UInt8](repeating: 0, count: k * k)
        for (r, s) in survivors.enumerated() {
            for c in 0..<k { b[r * k + c] = matrix[s * k + c] }
        }
        var inverse = [UInt8](repeating: 0, count: k * k)
        let status = b.withUnsafeMutableBufferPointer { bp in
            inverse.withUnsafeMutableBufferPointer { ip in gf_invert_matrix(bp.baseAddress, ip.baseAddress, Int32(k)) }
        }
        // Every k×k submatrix of a Cauchy generator is invertible; failure is a bug here.
        precondition(status == 0, "gf_invert_matrix failed for survivors \(survivors) of RS(\(k), \(m))")
        // Row i of the inverse maps survivor payloads to data fragment i.
        var rows = [UInt8](repeating: 0, count: lost.count * k)
        for (r, i) in lost.enumerated() {
            for c in 0..<k { rows[r * k + c] = inverse[i * k + c] }
        }
        var tables = [UInt8](repeating: 0, count: 32 * k * lost.count)
        rows.withUnsafeMutableBufferPointer { rp in
            tables.withUnsafeMutableBufferPointer { tp in ec_init_tables(Int32(k), Int32(lost.count), rp.baseAddress, tp.baseAddress) }
        }
        if decodeTables.count >= ErasureCoder.decodeCacheLimit { decodeTables.removeAll(keepingCapacity: true) }
        decodeTables[mask] = tables
        return tables
    }
}
