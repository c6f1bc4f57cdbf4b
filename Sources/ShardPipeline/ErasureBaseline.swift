internal import CISAL

/// ISA-L called directly, with no fragment format: the yardstick that `dcsim-bench pipeline`
/// measures ``ErasureCoder`` against ("ISA-L's own speed on the same buffers").
///
/// It does what a minimal C integration does and nothing more: no headers, no CRCs, no
/// per-fragment arrays, no table cache. Encoding reads k contiguous, already padded data blocks
/// and writes m contiguous parity blocks; decoding rebuilds the first `lost` data blocks from
/// the remaining data blocks and the first `lost` parity blocks, inverting the matrix on every
/// call (as ISA-L's own `ec_simple_example` does). Lives here, not in the benchmark, because
/// ShardPipeline is the only module that imports the C libraries.
public final class ErasureBaseline {
    public let k: Int, m: Int
    private var matrix: [UInt8]
    private var encodeTables: [UInt8]
    private let sources: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>
    private let targets: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>
    private var sub: [UInt8], inverse: [UInt8], rows: [UInt8], decodeTables: [UInt8]

    /// - Precondition: 1 ≤ k, 1 ≤ m, k + m ≤ 255.
    public init(k: Int, m: Int) {
        precondition(k >= 1 && m >= 1 && k + m <= 255, "RS(\(k), \(m)) out of range")
        self.k = k
        self.m = m
        var a = [UInt8](repeating: 0, count: (k + m) * k)
        a.withUnsafeMutableBufferPointer { gf_gen_cauchy1_matrix($0.baseAddress, Int32(k + m), Int32(k)) }
        var t = [UInt8](repeating: 0, count: 32 * k * m)
        a.withUnsafeMutableBufferPointer { ap in
            t.withUnsafeMutableBufferPointer { ec_init_tables(Int32(k), Int32(m), ap.baseAddress! + k * k, $0.baseAddress) }
        }
        matrix = a
        encodeTables = t
        sources = .allocate(capacity: k + m)
        targets = .allocate(capacity: k + m)
        sub = [UInt8](repeating: 0, count: k * k)
        inverse = sub
        rows = [UInt8](repeating: 0, count: k * m)
        decodeTables = [UInt8](repeating: 0, count: 32 * k * m)
    }

    deinit {
        sources.deallocate()
        targets.deallocate()
    }

    /// `ec_encode_data` over k blocks at `data` into m blocks at `parity` (each `blockBytes`).
    public func encode(data: UnsafeRawPointer, parity: UnsafeMutableRawPointer, blockBytes: Int) {
        guard blockBytes > 0 else { return }
        for i in 0..<k { sources[i] = UnsafeMutablePointer(mutating: (data + i * blockBytes).assumingMemoryBound(to: UInt8.self)) }
        for j in 0..<m { targets[j] = (parity + j * blockBytes).assumingMemoryBound(to: UInt8.self) }
        encodeTables.withUnsafeMutableBufferPointer { ec_encode_data(Int32(blockBytes), Int32(k), Int32(m), $0.baseAddress, sources, targets) }
    }

    /// Rebuilds data blocks `0..<lost` into `output` from data blocks `lost..<k` and parity
    /// blocks `0..<lost`: invert, expand tables, `ec_encode_data`.
    public func decode(data: UnsafeRawPointer, parity: UnsafeRawPointer, blockBytes: Int, lost: Int, output: UnsafeMutableRawPointer) {
        precondition(lost >= 1 && lost <= m, "lost must be in 1...m")
        guard blockBytes > 0 else { return }
        let survivors = Array(lost..<k) + Array(k..<(k + lost))
        for (r, s) in survivors.enumerated() {
            for c in 0..<k { sub[r * k + c] = matrix[s * k + c] }
            sources[r] = UnsafeMutablePointer(mutating: (s < k ? data + s * blockBytes : parity + (s - k) * blockBytes).assumingMemoryBound(to: UInt8.self))
        }
        let ok = sub.withUnsafeMutableBufferPointer { s in inverse.withUnsafeMutableBufferPointer { gf_invert_matrix(s.baseAddress, $0.baseAddress, Int32(k)) } }
        precondition(ok == 0, "Cauchy submatrix not invertible")
        for r in 0..<lost {
            for c in 0..<k { rows[r * k + c] = inverse[r * k + c] }
            targets[r] = (output + r * blockBytes).assumingMemoryBound(to: UInt8.self)
        }
        rows.withUnsafeMutableBufferPointer { rp in
            decodeTables.withUnsafeMutableBufferPointer { tp in
                ec_init_tables(Int32(k), Int32(lost), rp.baseAddress, tp.baseAddress)
                ec_encode_data(Int32(blockBytes), Int32(k), Int32(lost), tp.baseAddress, sources, targets)
            }
        }
    }
}
