#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Large scratch buffers that are reused for every shard: anonymous memory mapped directly and,
/// from 2 MiB up, aligned to 2 MiB and offered to the kernel for transparent huge pages
/// (`MADV_HUGEPAGE`; Linux's default THP mode, `madvise`, uses huge pages only where asked).
///
/// Why: a full-payload run touches its scratch buffers up to the largest shard it meets (tens
/// of MiB) once each. With 4 KiB pages that is one page fault per 4 KiB — about a tenth of a
/// run's CPU time went to the kernel faulting and clearing them; with 2 MiB pages it is one
/// fault per 2 MiB. Where huge pages are unavailable the memory behaves as ordinary pages.
/// The contents start zeroed (fresh anonymous pages) but callers must not rely on it.
public enum ScratchMemory {
    /// Requests from this size up are mapped directly (smaller ones use the allocator).
    public static let hugePageBytes = 2 << 20

    /// Allocates `byteCount` bytes, 64-byte aligned (2 MiB aligned from ``hugePageBytes`` up).
    public static func allocate(byteCount: Int) -> UnsafeMutableRawBufferPointer {
        precondition(byteCount >= 0, "negative scratch size \(byteCount)")
        guard byteCount >= hugePageBytes else {
            return .allocate(byteCount: Swift.max(byteCount, 1), alignment: 64)
        }
        let size = roundUp(byteCount)
        #if os(Linux)
        // Map one huge page more than needed, then unmap the slack so the region is aligned.
        let raw = mmap(nil, size + hugePageBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let raw, raw != MAP_FAILED else {
            preconditionFailure("cannot map \(size >> 20) MiB of scratch memory (errno \(errno))")
        }
        let start = Int(bitPattern: raw)
        let aligned = roundUp(start)
        if aligned > start { munmap(raw, aligned - start) }
        let tail = aligned + size, end = start + size + hugePageBytes
        if end > tail { munmap(UnsafeMutableRawPointer(bitPattern: tail), end - tail) }
        let base = UnsafeMutableRawPointer(bitPattern: aligned)!
        _ = madvise(base, size, 14 /* MADV_HUGEPAGE */)
        return UnsafeMutableRawBufferPointer(start: base, count: size)
        #else
        return .allocate(byteCount: size, alignment: hugePageBytes)
        #endif
    }

    /// Frees a buffer from ``allocate(byteCount:)``.
    public static func deallocate(_ buffer: UnsafeMutableRawBufferPointer) {
        guard buffer.count >= hugePageBytes else { buffer.deallocate(); return }
        #if os(Linux)
        munmap(buffer.baseAddress, buffer.count)
        #else
        buffer.deallocate()
        #endif
    }

    /// A buffer of at least `bytes` in place of `buffer` (whose contents are dropped), grown by
    /// doubling up to 1 MiB and past that straight to `limit`: only the pages written are
    /// faulted in, so reserving the limit costs nothing until a shard needs it.
    public static func reserve(_ buffer: inout UnsafeMutableRawBufferPointer, _ bytes: Int, limit: Int) {
        guard bytes > buffer.count else { return }
        deallocate(buffer)
        let grown = bytes <= 1 << 20 ? buffer.count * 2 : limit
        buffer = allocate(byteCount: Swift.max(bytes, grown))
    }

    private static func roundUp(_ n: Int) -> Int { (n + hugePageBytes - 1) & ~(hugePageBytes - 1) }
}
