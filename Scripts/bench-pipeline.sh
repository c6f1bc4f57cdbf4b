#!/usr/bin/env bash
# Pipeline benchmark: dcsim's real ShardSealer against the C reference
# (../shared/reference-bench/repl_bench.c), side by side on the same machine and corpus.
#
#   Scripts/bench-pipeline.sh [MESSAGES=100000]        (env: ROUNDS=3, RS_MESSAGES=20000)
#
# Builds repl_bench.c with cc, makes the deterministic corpus with make_corpus.py into the
# gitignored bench-corpus/, builds dcsim-bench in release mode, then runs ROUNDS interleaved
# rounds of: C (lz4=default, the reference as shipped), C (lz4=faststate, the LZ4 mode dcsim
# uses), dcsim. Prints each program's raw lines, then the medians and the dcsim/C ratios of
# messages/s for the write and read paths (mixed, text-only, media-only), and dcsim's RS(6,3)
# encode/decode throughput against ISA-L called directly on the same shards.
# Only ratios measured in the same run mean anything on a shared, noisy machine.
set -euo pipefail
cd "$(dirname "$0")/.."

MESSAGES=${1:-100000}
ROUNDS=${ROUNDS:-3}
RS_MESSAGES=${RS_MESSAGES:-20000}
REF=${REF_DIR:-../shared/reference-bench}
SCRATCH=${SCRATCH_PATH:-.build-pipeline}
CORPUS=bench-corpus
OUT="$SCRATCH/bench-pipeline"
mkdir -p "$OUT"

[ -f "$REF/repl_bench.c" ] || { echo "bench-pipeline: $REF/repl_bench.c not found (set REF_DIR)" >&2; exit 2; }
# The reference has no per-class read pass. This wrapper includes repl_bench.c unchanged, runs
# its main, then times text-only and media-only reads with the reference's own read_one() over
# the stores its last (diagnostic) write pass left behind, printing lines in the same format.
cat > "$OUT/repl_bench_ext.c" <<'C'
#define main repl_bench_main
#include "repl_bench.c"
#undef main
static void read_class(const char *name, int which) {
  uint64_t sink = 0, n = 0, bytes = 0;
  double t0 = now_s();
  for (size_t i = 0; i < NMSG; i++) {
    if (msgs[i].media != which) continue;
    const uint8_t *p; int l = read_one(i, &p); sink += l + p[0]; n++; bytes += l;
  }
  double dt = now_s() - t0;
  printf("%s: secs=%.4f msgs_per_s=%.0f plaintext_MBs=%.1f ns_per_msg=%.0f (sink %llu)\n",
         name, dt, n / dt, bytes / 1e6 / dt, dt * 1e9 / n, (unsigned long long)(sink & 0xff));
}
int main(int argc, char **argv) {
  int rc = repl_bench_main(argc, argv);
  read_class("read_text", 0);
  read_class("read_media", 1);
  return rc;
}
C
cc -O2 -march=native -I "$REF" -o "$OUT/repl_bench" "$OUT/repl_bench_ext.c" -llz4 -lcrypto -lm
[ -f "$CORPUS/chat.txt" ] || python3 "$REF/make_corpus.py" "$CORPUS" 16 >/dev/null
swift build -c release --scratch-path "$SCRATCH" --product dcsim-bench >&2

run_dcsim() { swift run -c release --skip-build --scratch-path "$SCRATCH" dcsim-bench pipeline "$@"; }

rm -f "$OUT"/round-*.txt
for round in $(seq 1 "$ROUNDS"); do
  rs=0
  [ "$round" -eq "$ROUNDS" ] && rs=$RS_MESSAGES   # RS(6,3) figures once, in the last round
  echo "== round $round/$ROUNDS"
  "$OUT/repl_bench" "$CORPUS/chat.txt" "$MESSAGES" default 7 | tee "$OUT/round-$round-c-default.txt"
  "$OUT/repl_bench" "$CORPUS/chat.txt" "$MESSAGES" faststate 7 | tee "$OUT/round-$round-c-faststate.txt"
  run_dcsim "$CORPUS" "$MESSAGES" 7 "$rs" | tee "$OUT/round-$round-dcsim.txt"
done

python3 - "$OUT" "$ROUNDS" <<'PY'
import re, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def figures(path):
    passes = {}
    for line in open(path):
        m = re.match(r"^(\w+)\s*:\s*(.*)$", line)
        if m:
            passes[m.group(1)] = dict(re.findall(r"(\w+)=([-\d.]+)", m.group(2)))
    return passes
impls = ["c-default", "c-faststate", "dcsim"]
runs = {i: [figures(f"{out}/round-{r}-{i}.txt") for r in range(1, rounds + 1)] for i in impls}
def median(impl, name, key="msgs_per_s"):
    return statistics.median(float(run[name][key]) for run in runs[impl])
print(f"\npipeline medians over {rounds} rounds (messages/s)")
print(f"{'pass':<12}{'C default':>12}{'C faststate':>13}{'dcsim':>12}{'dcsim/C':>9}{'dcsim/Cfast':>12}")
summary = []
for name in ["write_all", "write_text", "write_media", "read_all", "read_text", "read_media"]:
    c, cf, d = (median(i, name) for i in impls)
    print(f"{name:<12}{c:>12.0f}{cf:>13.0f}{d:>12.0f}{d / c:>9.3f}{d / cf:>12.3f}")
    summary.append(f"{name}_ratio={d / c:.3f} {name}_ratio_faststate={d / cf:.3f}")
print("\n" + " ".join(summary))
targets = ["write_all", "write_text", "read_all", "read_text"]
worst = min(median("dcsim", n) / median("c-default", n) for n in targets)
print(f"target: dcsim/C >= 0.8 for {', '.join(targets)}: worst ratio {worst:.3f} -> {'met' if worst >= 0.8 else 'NOT met'}")
rs = runs["dcsim"][-1]
for name in sorted(k for k in rs if k.startswith("rs63_")):
    f = rs[name]
    print(f"{name}: dcsim {float(f['dcsim_MBs']):.0f} MB/s, ISA-L direct {float(f['isal_MBs']):.0f} MB/s, ratio {float(f['ratio']):.3f}")
PY
