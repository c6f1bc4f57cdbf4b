// The pipeline benchmark: dcsim's real ShardSealer on the workload of
// `../shared/reference-bench/repl_bench.c`, so `Scripts/bench.sh pipeline` can run both side by
// side and report dcsim's figures as ratios of the C program's.
//
// Same workload, message for message: the message mix is drawn with the same SplitMix64
// stream and seed as the C program (95% text of log-normal size, median 120 B, sigma 0.9,
// 2...4000 B, sliced from CORPUS/chat.txt; 5% media of 50...500 KB sliced from a 64 MiB pool of
// SplitMix64 words), the same 96-bit counter nonces, a 32-byte authenticated header, 16-byte
// tag, and 3 pre-allocated, pre-touched in-memory stores that receive a copy of every shard.
// Passes, each timed as a whole loop: write all; read all (GCM verify + LZ4 decompress of
// replica i % 3); untimed verification; read text only; read media only; write text only;
// write media only. Then dcsim-only figures: RS(6,3) encode/decode with `ErasureCoder`
// against ISA-L called directly on the same shards. The write and read paths use the sealer's `into:` API with one reused buffer each,
// exactly where the C program uses its static `shard` and `dbuf` buffers.
//
// Output: one line per pass, `name: key=value ...`, with the C program's keys.
// The wall clock is read here, in the benchmark driver, never in the simulation modules.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ShardPipeline
import SimCore

enum PipelineBench {
    static let usage = """
        usage: dcsim-bench pipeline CORPUS_DIR [messages=100000] [seed=7] [rs-messages=20000]
          Replicates repl_bench.c (write path with 3 replica copies, read path, text-only and
          media-only passes) with ShardPipeline.ShardSealer, then RS(6,3) with ErasureCoder
          versus ISA-L called directly on the first rs-messages shards (0 skips it).
          CORPUS_DIR must hold chat.txt from make_corpus.py.
        """

    static let replicas = 3
    static let mediaPoolBytes = 64 << 20
    static let mediaMax = 500_000

    struct Message {
        var source: UnsafeRawPointer
        var length: Int
        var media: Bool
        var offset: (Int, Int, Int) = (0, 0, 0)
        var sealedBytes = 0
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    static func fail(_ message: String) -> Never {
        let line = "dcsim-bench pipeline: \(message)\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
        exit(1)
    }

    /// `x` with `digits` decimals (printf's `%.Nf`, without Foundation).
    static func f(_ x: Double, _ digits: Int = 1) -> String {
        guard x.isFinite else { return "\(x)" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = Int64((abs(x) * scale).rounded())
        let whole = scaled / Int64(scale), fraction = scaled % Int64(scale)
        var text = (x < 0 && scaled != 0 ? "-" : "") + String(whole)
        if digits > 0 {
            let frac = String(fraction)
            text += "." + String(repeating: "0", count: digits - frac.count) + frac
        }
        return text
    }

    static func run(_ args: [String]) {
        if args.isEmpty || args.contains(where: { $0 == "-h" || $0 == "--help" }) {
            print(usage)
            exit(args.isEmpty ? 2 : 0)
        }
        let corpusPath = args[0] + "/chat.txt"
        let count = args.count > 1 ? Int(args[1]) ?? -1 : 100_000
        let seed = args.count > 2 ? UInt64(args[2]) ?? 0 : 7
        let rsCount = args.count > 3 ? Int(args[3]) ?? -1 : 20_000
        guard count > 0, rsCount >= 0 else { print(usage); exit(2) }

        // ---- inputs and buffers (untimed), drawn exactly as repl_bench.c draws them ----
        guard let file = fopen(corpusPath, "rb") else { fail("cannot open \(corpusPath) (run make_corpus.py first)") }
        fseek(file, 0, SEEK_END)
        let textBytes = ftell(file)
        fseek(file, 0, SEEK_SET)
        let text = UnsafeMutableRawPointer.allocate(byteCount: textBytes, alignment: 64)
        guard fread(text, 1, textBytes, file) == textBytes else { fail("short read of \(corpusPath)") }
        fclose(file)
        var rnd = SplitMix64(seed: seed)
        func unif() -> Double { Double((rnd.next() >> 11) + 1) * 0x1.0p-53 }
        let media = UnsafeMutableRawPointer.allocate(byteCount: mediaPoolBytes, alignment: 64)
        for i in 0..<(mediaPoolBytes / 8) { media.storeBytes(of: rnd.next(), toByteOffset: i * 8, as: UInt64.self) }
        var messages: [Message] = []
        messages.reserveCapacity(count)
        var inText = 0, inMedia = 0, nText = 0, nMedia = 0
        for _ in 0..<count {
            if unif() < 0.05 {
                let length = 50_000 + Int(rnd.next() % UInt64(mediaMax - 50_000 + 1))
                let offset = Int(rnd.next() % UInt64(mediaPoolBytes - length))
                messages.append(Message(source: UnsafeRawPointer(media + offset), length: length, media: true))
                inMedia += length
                nMedia += 1
            } else {
                // Box–Muller as in the C program, whose compiled code draws the log(u) operand
                // first (checked: this order gives the same text byte total as repl_bench.c).
                let u1 = unif(), u2 = unif()
                let z = (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
                let l = exp(log(120.0) + 0.9 * z)
                let length = l < 2 ? 2 : l > 4000 ? 4000 : Int(l)
                let offset = Int(rnd.next() % UInt64(textBytes - length))
                messages.append(Message(source: UnsafeRawPointer(text + offset), length: length, media: false))
                inText += length
                nText += 1
            }
        }
        let storeBytes = inText + inMedia + count * (ShardFormat.overheadBytes + 64)
        let stores = (0..<replicas).map { _ in
            let s = UnsafeMutableRawPointer.allocate(byteCount: storeBytes, alignment: 64)
            memset(s, 0xA5, storeBytes)  // pre-touch, like the C program
            return s
        }
        let keyBytes = (0..<DataKey.byteCount).map { _ in UInt8(truncatingIfNeeded: rnd.next()) }
        let key = DataKey(id: DataKeyID(jurisdiction: 0, keyID: 0), bytes: keyBytes)
        let sealer: ShardSealer
        do { sealer = try ShardSealer(maxPayloadBytes: mediaMax) } catch { fail("\(error)") }
        var counter: UInt64 = 0
        let total = inText + inMedia
        // Like the C program's `shard` and `dbuf`: one reused output buffer each for the write
        // and read paths (the sealer's `into:` API writes there without allocating).
        let shardBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: ShardSealer.sealedBytesBound(payloadBytes: mediaMax), alignment: 64)
        let plainBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: mediaMax + 64, alignment: 64)
        defer { shardBuffer.deallocate(); plainBuffer.deallocate() }

        print("impl=dcsim-repl lz4=faststate messages=\(count) text=\(nText) media=\(nMedia) plaintext_MB=\(f(Double(total) / 1e6)) (text \(f(Double(inText) / 1e6)), media \(f(Double(inMedia) / 1e6)))")

        // ---- write path: seal, then copy the shard into the 3 stores ----
        func writePass(_ which: Bool?) -> (secs: Double, n: Int, bytes: Int, stored: Int) {
            var position = [0, 0, 0]
            let t0 = now()
            do {
                for i in messages.indices {
                    let m = messages[i]
                    if let which, m.media != which { continue }
                    counter &+= 1
                    let n = try sealer.seal(payload: UnsafeRawBufferPointer(start: m.source, count: m.length),
                                            shardID: UInt64(i), version: 0, key: key, nonce: Nonce(prefix: 1, counter: counter),
                                            into: shardBuffer)
                    for r in 0..<replicas { (stores[r] + position[r]).copyMemory(from: shardBuffer.baseAddress!, byteCount: n) }
                    messages[i].offset = (position[0], position[1], position[2])
                    messages[i].sealedBytes = n
                    for r in 0..<replicas { position[r] += n }
                }
            } catch {
                fail("seal failed: \(error)")
            }
            let secs = now() - t0
            var n = 0, bytes = 0, stored = 0
            for m in messages where which == nil || m.media == which! {
                n += 1
                bytes += m.length
                stored += replicas * m.sealedBytes
            }
            return (secs, n, bytes, stored)
        }

        let w = writePass(nil)
        var rawKept = 0, textBodies = 0
        for m in messages {
            let flags = stores[0].load(fromByteOffset: m.offset.0 + 3, as: UInt8.self)
            if flags & 1 == 0 { rawKept += 1 }
            if !m.media { textBodies += m.sealedBytes - ShardFormat.overheadBytes }
        }
        print("write_all : secs=\(f(w.secs, 4)) msgs_per_s=\(f(Double(w.n) / w.secs, 0)) plaintext_MBs=\(f(Double(w.bytes) / 1e6 / w.secs)) stored_MBs=\(f(Double(w.stored) / 1e6 / w.secs)) ns_per_msg=\(f(w.secs * 1e9 / Double(w.n), 0)) stored_MB=\(f(Double(w.stored) / 1e6)) raw_kept=\(rawKept) text_lz4_ratio=\(f(Double(inText) / Double(textBodies), 3))")

        // ---- read path: open replica i % 3 (GCM verify + LZ4 decompress) ----
        func replica(_ i: Int) -> UnsafeRawBufferPointer {
            let m = messages[i]
            let r = i % replicas
            let offset = r == 0 ? m.offset.0 : r == 1 ? m.offset.1 : m.offset.2
            return UnsafeRawBufferPointer(start: stores[r] + offset, count: m.sealedBytes)
        }
        var sink = 0
        let t0 = now()
        do {
            for i in messages.indices {
                let n = try sealer.open(replica(i), key: key, into: plainBuffer)
                sink &+= n &+ Int(plainBuffer[0])
            }
        } catch {
            fail("open failed: \(error)")
        }
        let tr = now() - t0
        print("read_all  : secs=\(f(tr, 4)) msgs_per_s=\(f(Double(count) / tr, 0)) plaintext_MBs=\(f(Double(total) / 1e6 / tr)) ns_per_msg=\(f(tr * 1e9 / Double(count), 0)) (sink \(sink & 0xff))")

        // ---- untimed: every message round-trips, replicas are identical ----
        for i in messages.indices {
            let m = messages[i]
            guard let p = try? sealer.open(replica(i), key: key), p.count == m.length,
                  p.withUnsafeBytes({ memcmp($0.baseAddress!, m.source, m.length) }) == 0 else { fail("round-trip mismatch at message \(i)") }
            if memcmp(stores[1] + m.offset.1, stores[0] + m.offset.0, m.sealedBytes) != 0
                || memcmp(stores[2] + m.offset.2, stores[0] + m.offset.0, m.sealedBytes) != 0 { fail("replica mismatch at message \(i)") }
        }
        print("verify    : all \(count) messages round-trip, \(replicas) replicas identical")

        // ---- read path per class (Scripts/bench.sh pipeline adds the same passes to the C
        // program through a wrapper, so text-only reads have a reference too) ----
        for (name, wantMedia) in [("read_text", false), ("read_media", true)] {
            var n = 0, bytes = 0
            let t = now()
            do {
                for i in messages.indices where messages[i].media == wantMedia {
                    let got = try sealer.open(replica(i), key: key, into: plainBuffer)
                    sink &+= got &+ Int(plainBuffer[0])
                    n += 1
                    bytes += got
                }
            } catch {
                fail("open failed: \(error)")
            }
            let secs = now() - t
            if n > 0 {
                print("\(name): secs=\(f(secs, 4)) msgs_per_s=\(f(Double(n) / secs, 0)) plaintext_MBs=\(f(Double(bytes) / 1e6 / secs)) ns_per_msg=\(f(secs * 1e9 / Double(n), 0)) (sink \(sink & 0xff))")
            }
        }

        let wt = writePass(false)
        print("write_text: secs=\(f(wt.secs, 4)) msgs_per_s=\(f(Double(wt.n) / wt.secs, 0)) plaintext_MBs=\(f(Double(wt.bytes) / 1e6 / wt.secs)) ns_per_msg=\(f(wt.secs * 1e9 / Double(wt.n), 0))")
        let wm = writePass(true)
        print("write_media: secs=\(f(wm.secs, 4)) msgs_per_s=\(f(Double(wm.n) / wm.secs, 0)) plaintext_MBs=\(f(Double(wm.bytes) / 1e6 / wm.secs)) stored_MBs=\(f(Double(wm.stored) / 1e6 / wm.secs))")

        // ---- RS(6,3): ErasureCoder vs ISA-L directly, on the sealed shards in store 0 ----
        if rsCount > 0 { erasureBench(messages: Array(messages.prefix(rsCount)), store: stores[0]) }
        for s in stores { s.deallocate() }
        media.deallocate()
        text.deallocate()
    }

    /// Encode: `ErasureCoder.encode` (fragment arrays with headers and CRC-32C) against ISA-L
    /// `ec_encode_data` over the same shard, pre-padded. Decode with data fragments 0, 1, 2 lost
    /// (the most work RS(6,3) can need): `ErasureCoder.decode` (CRC checks, cached tables,
    /// output assembly) against invert + tables + `ec_encode_data` per shard.
    ///
    /// Both sides work shard by shard on warm memory (dcsim's fragments are dropped after each
    /// shard, so the allocator reuses the same pages; the baseline reuses one set of buffers)
    /// and both are timed per operation with the same two clock reads, so the ratio compares
    /// coding work, not page faults or clock overhead.
    static func erasureBench(messages: [Message], store: UnsafeMutableRawPointer) {
        let k = 6, m = 3, lost = 3
        let coder: ErasureCoder
        do { coder = try ErasureCoder(k: k, m: m) } catch { fail("\(error)") }
        let baseline = ErasureBaseline(k: k, m: m)
        let maxShard = messages.map(\.sealedBytes).max() ?? 0
        let maxBlock = max(1, Fragment.payloadBytes(shardBytes: maxShard, k: k))
        let data = UnsafeMutableRawPointer.allocate(byteCount: k * maxBlock, alignment: 64)
        let parity = UnsafeMutableRawPointer.allocate(byteCount: m * maxBlock, alignment: 64)
        let recovered = UnsafeMutableRawPointer.allocate(byteCount: lost * maxBlock, alignment: 64)
        defer { data.deallocate(); parity.deallocate(); recovered.deallocate() }

        for (label, media) in [("mixed", nil), ("text", false), ("media", true)] as [(String, Bool?)] {
            let chosen = messages.filter { media == nil || $0.media == media! }
            guard !chosen.isEmpty else { continue }
            var bytes = 0
            var dcsimEncode = 0.0, isalEncode = 0.0, dcsimDecode = 0.0, isalDecode = 0.0
            // The first 300 shards run twice: once untimed, to warm the heap, caches and
            // decode tables on both sides, then timed with the rest.
            let warmup = min(300, chosen.count)
            for (index, message) in (chosen.prefix(warmup) + chosen).enumerated() {
                let timed = index >= warmup
                let shard = Array(UnsafeRawBufferPointer(start: store + message.offset.0, count: message.sealedBytes))
                if timed { bytes += shard.count }
                var t = now()
                var fragments: [Fragment?] = coder.encode(shard)
                if timed { dcsimEncode += now() - t }
                for j in 0..<lost { fragments[j] = nil }
                t = now()
                let decoded: [UInt8]
                do { decoded = try coder.decode(fragments).bytes } catch { fail("RS decode failed: \(error)") }
                if timed { dcsimDecode += now() - t }
                guard decoded == shard else { fail("RS decode returned different bytes") }

                let block = Fragment.payloadBytes(shardBytes: shard.count, k: k)
                shard.withUnsafeBytes { data.copyMemory(from: $0.baseAddress!, byteCount: shard.count) }
                memset(data + shard.count, 0, k * block - shard.count)
                t = now()
                baseline.encode(data: data, parity: parity, blockBytes: block)
                if timed { isalEncode += now() - t }
                t = now()
                baseline.decode(data: data, parity: parity, blockBytes: block, lost: lost, output: recovered)
                if timed { isalDecode += now() - t }
                if memcmp(recovered, data, lost * block) != 0 { fail("ISA-L baseline decode mismatch") }
            }
            let mb = Double(bytes) / 1e6, n = Double(chosen.count)
            print("rs63_encode_\(label): shards=\(chosen.count) MB=\(f(mb)) dcsim_MBs=\(f(mb / dcsimEncode)) isal_MBs=\(f(mb / isalEncode)) ratio=\(f(isalEncode / dcsimEncode, 3)) dcsim_shards_per_s=\(f(n / dcsimEncode, 0)) isal_shards_per_s=\(f(n / isalEncode, 0))")
            print("rs63_decode_\(label): shards=\(chosen.count) MB=\(f(mb)) lost=\(lost) dcsim_MBs=\(f(mb / dcsimDecode)) isal_MBs=\(f(mb / isalDecode)) ratio=\(f(isalDecode / dcsimDecode, 3)) dcsim_shards_per_s=\(f(n / dcsimDecode, 0)) isal_shards_per_s=\(f(n / isalDecode, 0))")
        }
    }
}
