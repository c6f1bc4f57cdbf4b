#!/usr/bin/env bash
# dcsim's benchmarks, each side by side with its reference in the same run:
#
#   Scripts/bench.sh [kernel|network|pipeline|scenario|scale|sweep|all]...   (default: all)
#
#   kernel    hold model on SimCore.EventQueue (P pending, each pop schedules one event at
#             now + Exp(1 s)) vs the C binary heap ../shared/reference-bench/hold_c.c, at
#             P = 10k and 1M; plus SimPy (hold_simpy.py) at P = 10k when python3 + simpy are
#             available (simpy is pip-installed if missing and pip allows it).
#             Target (issues 2, 8): dcsim >= 0.9x the C loop's events/s at both sizes.
#   network   message delivery through SimNetwork + EventQueue with M = 1k, 10k, 100k messages
#             in flight (each delivery sends a new message on a random link): ns per message,
#             the ratio of messages/s to hold_c's events/s at P = M (same run), and the
#             flatness of the per-message cost (ns at 100k / ns at 1k; target: flat).
#   pipeline  ShardSealer write path (seal + 3 replicas) and read path vs repl_bench.c on the
#             make_corpus.py corpus (mixed, text-only, media-only), and RS(6,3) vs ISA-L
#             called directly. Target (issue 3): >= 0.8x for mixed and text, write and read.
#   scenario  `dcsim run`, full payloads: the built-in default scenario, and the telegram-5
#             outage scenario ams-outage with its own strategy and the quorum-3dc, raft-3 and
#             rs-6-3 presets: client operations/s, events/s, simulated-to-wall ratio (from
#             performance.json; the default scenario is the median of SCENARIO_ROUNDS runs, and
#             once more with --payload-threads 0, everything on one thread, for reference).
#             Target (issue 8): the default scenario at >= 1000x real time.
#   scale     sizes mode, nine-DC topology (global-9), three copies (async-geo), SCALE_SIZES
#             messages (default "1000000 3000000 10000000"; 5000 messages/s, 100k users; the
#             scenario is generated into the scratch dir): wall time and peak RSS
#             (/usr/bin/time -v), per message, and their growth against the message count.
#             Target (issue 8): peak RSS <= 4 GB at 10M, time and memory no worse than linear.
#             Takes minutes (the 10M run is ~400M events).
#   sweep     `dcsim sweep` of the default scenario over SWEEP_SEEDS seeds (default 16,
#             SWEEP_DURATION 5m, full payloads) with --jobs 1 and --jobs 2: seeds per wall
#             second and the ratio. Target (issue 8): >= 1.9x on 2 cores (needs 2 idle cores).
#
# Environment: ROUNDS (interleaved rounds per size, default 5 kernel/network, 3 pipeline),
# REF_DIR (default ../shared/reference-bench), SCRATCH_PATH (default .build-release: release
# builds never wait on the debug build lock), SIMPY=0 to skip SimPy, PIPELINE_MESSAGES
# (default 100000), RS_MESSAGES (20000), KERNEL_SIZES ("10000:10000000 1000000:4000000"),
# NETWORK_SIZES ("1000:4000000 10000:4000000 100000:4000000"), SCENARIO_ROUNDS (3),
# SCALE_SIZES, SWEEP_SEEDS, SWEEP_DURATION; DCSIM_BIN (a dcsim binary to use for scenario,
# scale and sweep instead of building one).
#
# C references are built with `cc -O2` (the reference README's command). Only ratios measured
# in the same run mean anything on a shared, noisy machine: every figure below is a median of
# interleaved rounds (C, then dcsim, then C…), so both see the same machine state.
set -euo pipefail
cd "$(dirname "$0")/.."

REF=${REF_DIR:-../shared/reference-bench}
SCRATCH=${SCRATCH_PATH:-.build-release}
OUT="$SCRATCH/bench"
SEED=42
mkdir -p "$OUT"

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0" | sed 's/^# \{0,1\}//'; }

suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(all)
for s in "${suites[@]}"; do
  case "$s" in
    kernel|network|pipeline|scenario|scale|sweep|all) ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench.sh: unknown suite '$s' (allowed: kernel, network, pipeline, scenario, scale, sweep, all)" >&2; exit 2 ;;
  esac
done
if [[ " ${suites[*]} " == *" all "* ]]; then suites=(kernel network pipeline scenario sweep scale); fi

[ -f "$REF/hold_c.c" ] || { echo "bench.sh: $REF/hold_c.c not found (set REF_DIR)" >&2; exit 2; }

echo "== machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(uname -m)"
echo "== commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo '+dirty'), $(date -u +%Y-%m-%d)"

bench_bin() {
  swift build -c release --scratch-path "$SCRATCH" --product dcsim-bench >&2
  DCSIM_BENCH="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/dcsim-bench"
}

hold_c() {
  [ -x "$OUT/hold_c" ] && [ "$OUT/hold_c" -nt "$REF/hold_c.c" ] || cc -O2 -o "$OUT/hold_c" "$REF/hold_c.c" -lm
}

# Medians of `key=` figures in files, and their ratio tables (python3 is part of the set-up).
summarise() { python3 - "$@"; }

# MARK: kernel

run_kernel() {
  local rounds=${ROUNDS:-5} sizes=${KERNEL_SIZES:-"10000:10000000 1000000:4000000"}
  local simpy_sizes=${SIMPY_SIZES:-"10000:1000000"} simpy_rounds=${SIMPY_ROUNDS:-3} simpy=${SIMPY:-1}
  hold_c; bench_bin
  rm -f "$OUT"/kernel-*.txt
  for size in $sizes; do
    local p=${size%%:*} n=${size##*:}
    for round in $(seq 1 "$rounds"); do
      echo "== kernel P=$p N=$n round $round/$rounds"
      "$OUT/hold_c" "$n" "$p" "$SEED" | tee -a "$OUT/kernel-c-$p.txt"
      "$DCSIM_BENCH" kernel "$n" "$p" "$SEED" | tee -a "$OUT/kernel-dcsim-$p.txt"
    done
  done
  local simpy_note=""
  if [ "$simpy" = 1 ]; then
    if ! python3 -c 'import simpy' 2>/dev/null; then
      echo "== installing simpy (pip)" >&2
      python3 -m pip install --quiet --user simpy >&2 2>/dev/null \
        || python3 -m pip install --quiet --user --break-system-packages simpy >&2 2>/dev/null || true
    fi
    if python3 -c 'import simpy' 2>/dev/null; then
      for size in $simpy_sizes; do
        local p=${size%%:*} n=${size##*:}
        for round in $(seq 1 "$simpy_rounds"); do
          echo "== SimPy P=$p N=$n round $round/$simpy_rounds"
          python3 "$REF/hold_simpy.py" process "$n" "$p" "$SEED" | tee -a "$OUT/kernel-simpy-$p.txt"
        done
      done
    else
      simpy_note="skipped: simpy missing"
    fi
  else
    simpy_note="skipped: SIMPY=0"
  fi
  summarise "$OUT" "$sizes" "$simpy_note" <<'PY'
import os, re, statistics, sys
out, sizes, simpy_note = sys.argv[1], sys.argv[2].split(), sys.argv[3]
def rates(path):
    if not os.path.exists(path): return []
    return [float(m.group(1)) for line in open(path) if (m := re.search(r"events_per_s=([\d.]+)", line))]
print("\nkernel: hold model, medians of interleaved runs (events/s; ratio = dcsim / reference)")
print(f"{'P':>9} {'C heap':>12} {'dcsim':>12} {'dcsim/C':>8}   {'SimPy':>10} {'dcsim/SimPy':>11}")
for size in sizes:
    p = size.split(":")[0]
    c, d = rates(f"{out}/kernel-c-{p}.txt"), rates(f"{out}/kernel-dcsim-{p}.txt")
    mc, md = statistics.median(c), statistics.median(d)
    line = f"{p:>9} {mc/1e6:>10.2f} M {md/1e6:>10.2f} M {md/mc:>8.2f}"
    s = rates(f"{out}/kernel-simpy-{p}.txt")
    line += f"   {statistics.median(s)/1e6:>8.3f} M {md/statistics.median(s):>11.1f}" if s else f"   {'-':>10} {'-':>11}"
    verdict = "meets" if md / mc >= 0.9 else "MISSES"
    print(line + f"   ({verdict} the 0.9x target)")
if simpy_note: print(f"SimPy: {simpy_note}")
PY
}

# MARK: network

run_network() {
  local rounds=${ROUNDS:-5} sizes=${NETWORK_SIZES:-"1000:4000000 10000:4000000 100000:4000000"}
  hold_c; bench_bin
  rm -f "$OUT"/network-*.txt
  for size in $sizes; do
    local m=${size%%:*} n=${size##*:}
    for round in $(seq 1 "$rounds"); do
      echo "== network M=$m N=$n round $round/$rounds"
      "$OUT/hold_c" "$n" "$m" "$SEED" | tee -a "$OUT/network-c-$m.txt"
      "$DCSIM_BENCH" network "$n" "$m" "$SEED" | tee -a "$OUT/network-dcsim-$m.txt"
    done
  done
  summarise "$OUT" "$sizes" <<'PY'
import re, statistics, sys
out, sizes = sys.argv[1], sys.argv[2].split()
def figures(path, key):
    return [float(m.group(1)) for line in open(path) if (m := re.search(key + r"=([\d.]+)", line))]
print("\nnetwork: message delivery through SimNetwork + EventQueue, medians of interleaved runs")
print(f"{'in flight':>10} {'ns/msg':>8} {'dcsim msgs/s':>13} {'C hold ev/s':>12} {'dcsim/C':>8} {'network ns':>11}")
ns, ratio = {}, {}
for size in sizes:
    m = size.split(":")[0]
    d = statistics.median(figures(f"{out}/network-dcsim-{m}.txt", "msgs_per_s"))
    c = statistics.median(figures(f"{out}/network-c-{m}.txt", "events_per_s"))
    ns[m] = statistics.median(figures(f"{out}/network-dcsim-{m}.txt", "ns_per_msg"))
    ratio[m] = d / c
    # What a message costs beyond a bare heap event at the same queue size: the network model.
    print(f"{m:>10} {ns[m]:>8.1f} {d/1e6:>11.2f} M {c/1e6:>10.2f} M {d/c:>8.2f} {ns[m] - 1e9 / c:>11.1f}")
keys = [s.split(":")[0] for s in sizes]
if len(keys) >= 2:
    lo, hi = keys[0], keys[-1]
    grow, keep = ns[hi] / ns[lo], ratio[hi] / ratio[lo]
    print(f"per-message cost from {lo} to {hi} in flight: x{grow:.2f}; the same-run C heap's per-event cost: "
          f"x{grow * keep:.2f}; dcsim/C goes {ratio[lo]:.2f} -> {ratio[hi]:.2f} "
          f"({'flat: no growth beyond the heap' if keep >= 0.8 else 'NOT flat: grows faster than the heap'})")
PY
}

# MARK: pipeline

run_pipeline() {
  local rounds=${ROUNDS:-3} messages=${PIPELINE_MESSAGES:-100000} rs_messages=${RS_MESSAGES:-20000}
  local corpus=bench-corpus
  [ -f "$REF/repl_bench.c" ] || { echo "bench.sh: $REF/repl_bench.c not found (set REF_DIR)" >&2; exit 2; }
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
  cc -O2 -I "$REF" -o "$OUT/repl_bench" "$OUT/repl_bench_ext.c" -llz4 -lcrypto -lm
  [ -f "$corpus/chat.txt" ] || python3 "$REF/make_corpus.py" "$corpus" 16 >/dev/null
  bench_bin
  rm -f "$OUT"/pipeline-round-*.txt
  for round in $(seq 1 "$rounds"); do
    local rs=0
    [ "$round" -eq "$rounds" ] && rs=$rs_messages   # RS(6,3) figures once, in the last round
    echo "== pipeline round $round/$rounds"
    "$OUT/repl_bench" "$corpus/chat.txt" "$messages" default 7 | tee "$OUT/pipeline-round-$round-c-default.txt"
    "$OUT/repl_bench" "$corpus/chat.txt" "$messages" faststate 7 | tee "$OUT/pipeline-round-$round-c-faststate.txt"
    "$DCSIM_BENCH" pipeline "$corpus" "$messages" 7 "$rs" | tee "$OUT/pipeline-round-$round-dcsim.txt"
  done
  summarise "$OUT" "$rounds" <<'PY'
import re, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def figures(path):
    passes = {}
    for line in open(path):
        m = re.match(r"^(\w+)\s*:\s*(.*)$", line)
        if m: passes[m.group(1)] = dict(re.findall(r"(\w+)=([-\d.]+)", m.group(2)))
    return passes
impls = ["c-default", "c-faststate", "dcsim"]
runs = {i: [figures(f"{out}/pipeline-round-{r}-{i}.txt") for r in range(1, rounds + 1)] for i in impls}
def median(impl, name, key="msgs_per_s"):
    return statistics.median(float(run[name][key]) for run in runs[impl])
print(f"\npipeline: medians over {rounds} rounds (messages/s; ratio = dcsim / repl_bench.c)")
print(f"{'pass':<12}{'C default':>12}{'C faststate':>13}{'dcsim':>12}{'dcsim/C':>9}{'dcsim/Cfast':>12}")
for name in ["write_all", "write_text", "write_media", "read_all", "read_text", "read_media"]:
    c, cf, d = (median(i, name) for i in impls)
    print(f"{name:<12}{c:>12.0f}{cf:>13.0f}{d:>12.0f}{d / c:>9.3f}{d / cf:>12.3f}")
targets = ["write_all", "write_text", "read_all", "read_text"]
worst = min(median("dcsim", n) / median("c-default", n) for n in targets)
print(f"target: dcsim/C >= 0.8 for {', '.join(targets)}: worst ratio {worst:.3f} -> {'met' if worst >= 0.8 else 'NOT met'}")
rs = runs["dcsim"][-1]
for name in sorted(k for k in rs if k.startswith("rs63_")):
    f = rs[name]
    print(f"{name}: dcsim {float(f['dcsim_MBs']):.0f} MB/s, ISA-L direct {float(f['isal_MBs']):.0f} MB/s, ratio {float(f['ratio']):.3f}")
PY
}

# MARK: scenario

dcsim_bin() {
  if [ -n "${DCSIM_BIN:-}" ]; then DCSIM=$DCSIM_BIN; return; fi
  swift build -c release --scratch-path "$SCRATCH" --product dcsim >&2
  DCSIM="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/dcsim"
}

# `dcsim run` exits 1 when an SLO fails: a result, not a benchmark failure (2 and 3 are).
slo_ok() { local rc=$?; [ "$rc" -eq 1 ] || { echo "bench.sh: dcsim failed with exit code $rc" >&2; exit "$rc"; }; }

run_scenario() {
  local rounds=${SCENARIO_ROUNDS:-3}
  dcsim_bin
  rm -rf "$OUT/scenario"; mkdir -p "$OUT/scenario"
  for round in $(seq 1 "$rounds"); do
    echo "== scenario: default (built in, full payloads) round $round/$rounds"
    /usr/bin/time -f "%U %S" -o "$OUT/scenario/default-$round.cpu" \
      "$DCSIM" run --report "$OUT/scenario/default-$round" --format json --quiet >/dev/null || slo_ok
  done
  echo "== scenario: default, all byte work on the simulation thread (--payload-threads 0)"
  /usr/bin/time -f "%U %S" -o "$OUT/scenario/default-inline.cpu" \
    "$DCSIM" run --payload-threads 0 --report "$OUT/scenario/default-inline" --format json --quiet >/dev/null || slo_ok
  for strategy in own quorum-3dc raft-3 rs-6-3; do
    echo "== scenario: ams-outage, strategy $strategy (full payloads)"
    local flag=(); [ "$strategy" != own ] && flag=(--strategy "$strategy")
    /usr/bin/time -f "%U %S" -o "$OUT/scenario/ams-outage-$strategy.cpu" \
      "$DCSIM" run Topologies/scenarios/ams-outage.yaml --payload full "${flag[@]}" \
      --report "$OUT/scenario/ams-outage-$strategy" --format json --quiet >/dev/null || slo_ok
  done
  summarise "$OUT/scenario" "$rounds" <<'PY'
import json, os, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def perf(name):
    p = json.load(open(f"{out}/{name}/performance.json"))
    # user + system seconds (the last line: time(1) first notes a non-zero exit status)
    p["cpu"] = sum(map(float, open(f"{out}/{name}.cpu").read().splitlines()[-1].split()))
    return p
print("\nscenario: dcsim run, release build, full payloads (wall-clock figures from performance.json;")
print("CPU = user + system seconds of the whole process, which a busy shared machine inflates less)")
print(f"{'scenario':<26}{'events':>11}{'events/s':>12}{'client ops/s':>14}{'sim/wall':>10}{'wall s':>8}{'cpu s':>7}{'sim/cpu':>9}")
runs = sorted((perf(f"default-{r}") for r in range(1, rounds + 1)), key=lambda p: p["wall_seconds"])
rows = [(f"default (median of {rounds})", runs[len(runs) // 2]), ("default, 1 thread", perf("default-inline"))]
rows += [(f"ams-outage {s}", perf(f"ams-outage-{s}")) for s in ["own", "quorum-3dc", "raft-3", "rs-6-3"]]
for name, p in rows:
    print(f"{name:<26}{p['events']:>11}{p['events_per_second']:>12}{p['client_operations_per_second']:>14}"
          f"{p['simulated_to_wall']:>10}{p['wall_seconds']:>8}{p['cpu']:>7.2f}{p['simulated_seconds'] / p['cpu']:>9.0f}")
ratio = rows[0][1]["simulated_to_wall"]
print(f"target: default scenario >= 1000x real time: {ratio}x -> {'met' if ratio >= 1000 else 'NOT met'}")
PY
}

# MARK: scale

scale_scenario() {   # scale_scenario MESSAGES FILE
  local messages=$1 rate=5000
  cat > "$2" <<YAML
# Generated by Scripts/bench.sh scale: $messages messages on the nine-DC topology, three copies.
name: scale-$messages
description: $messages messages on global-9, async-geo (three copies), sizes mode
topology: global-9
seed: 42
duration: $(( messages / rate ))s
payload: sizes
strategy: async-geo
workload:
  users: 100000
  rate: $rate/s
YAML
}

run_scale() {
  local sizes=${SCALE_SIZES:-"1000000 3000000 10000000"}
  dcsim_bin
  mkdir -p "$OUT/scale"
  rm -f "$OUT"/scale/*.time
  for m in $sizes; do
    scale_scenario "$m" "$OUT/scale/scale-$m.yaml"
    echo "== scale: $m messages (sizes mode, global-9, async-geo)"
    /usr/bin/time -v -o "$OUT/scale/scale-$m.time" "$DCSIM" run "$OUT/scale/scale-$m.yaml" \
      --report "$OUT/scale/scale-$m" --format json --quiet >/dev/null || slo_ok
  done
  summarise "$OUT/scale" "$sizes" <<'PY'
import json, re, sys
out, sizes = sys.argv[1], sys.argv[2].split()
def usage(m):
    t = open(f"{out}/scale-{m}.time").read()
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) * 1024
    cpu = float(re.search(r"User time \(seconds\): ([\d.]+)", t).group(1)) + float(re.search(r"System time \(seconds\): ([\d.]+)", t).group(1))
    return rss, cpu
print("\nscale: sizes mode, global-9, three copies (async-geo); peak RSS and CPU time from /usr/bin/time -v")
print(f"{'messages':>10}{'events':>12}{'wall s':>9}{'cpu s':>9}{'peak RSS':>11}{'B/message':>11}{'us cpu/msg':>11}")
rows = []
for m in sizes:
    p = json.load(open(f"{out}/scale-{m}/performance.json"))
    r = json.load(open(f"{out}/scale-{m}/report.json"))
    msgs = r["workload"]["messages"]
    rss, cpu = usage(m)
    rows.append((int(m), msgs, rss, cpu))
    print(f"{m:>10}{p['events']:>12}{p['wall_seconds']:>9}{cpu:>9.1f}{rss / 2**30:>9.2f} G{rss / msgs:>11.0f}{cpu / msgs * 1e6:>11.2f}")
if len(rows) >= 2:
    (m0, n0, r0, c0), (m1, n1, r1, c1) = rows[0], rows[-1]
    print(f"from {m0} to {m1} messages (x{n1 / n0:.2f}): peak RSS x{r1 / r0:.2f}, CPU time x{c1 / c0:.2f} "
          f"({'no worse than linear' if r1 / r0 <= 1.05 * n1 / n0 and c1 / c0 <= 1.1 * n1 / n0 else 'WORSE than linear'})")
big = rows[-1]
if big[0] >= 10_000_000:
    print(f"target: peak RSS <= 4 GB at {big[0]} messages: {big[2] / 1e9:.2f} GB -> {'met' if big[2] <= 4e9 else 'NOT met'}")
elif len(rows) >= 2:
    # Not run at 10M: extrapolate the last two points' slope (bytes per extra message).
    (ma, _, ra, _), (mb, _, rb, _) = rows[-2], rows[-1]
    slope = (rb - ra) / (mb - ma)
    at10 = rb + slope * (10_000_000 - mb)
    print(f"target: peak RSS <= 4 GB at 10M messages: not run; {slope:.0f} B per extra message projects "
          f"{at10 / 1e9:.1f} GB -> {'met' if at10 <= 4e9 else 'NOT met'}")
PY
}

# MARK: sweep

run_sweep() {
  local seeds=${SWEEP_SEEDS:-16} duration=${SWEEP_DURATION:-5m}
  dcsim_bin
  rm -rf "$OUT/sweep"; mkdir -p "$OUT/sweep"
  for jobs in 1 2; do
    echo "== sweep: default scenario, seeds 1...$seeds, --duration $duration, --jobs $jobs"
    local t0 t1
    t0=$(date +%s.%N)
    "$DCSIM" sweep --seeds "1...$seeds" --duration "$duration" --jobs "$jobs" \
      --report "$OUT/sweep/jobs-$jobs" --format json --quiet >/dev/null || true
    t1=$(date +%s.%N)
    echo "$t0 $t1" > "$OUT/sweep/jobs-$jobs.wall"
  done
  cmp -s "$OUT/sweep/jobs-1/sweep.json" "$OUT/sweep/jobs-2/sweep.json" && same=identical || same=DIFFERENT
  summarise "$OUT/sweep" "$seeds" "$same" <<'PY'
import sys
out, seeds, same = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def wall(j):
    a, b = map(float, open(f"{out}/jobs-{j}.wall").read().split())
    return b - a
w1, w2 = wall(1), wall(2)
print(f"\nsweep: {seeds} seeds of the default scenario (sweep.json for --jobs 1 and 2: {same})")
print(f"{'jobs':>5}{'wall s':>9}{'seeds/s':>9}")
print(f"{1:>5}{w1:>9.2f}{seeds / w1:>9.3f}\n{2:>5}{w2:>9.2f}{seeds / w2:>9.3f}")
print(f"--jobs 2 / --jobs 1 throughput: x{w1 / w2:.2f} (target >= 1.9x on 2 idle cores) -> {'met' if w1 / w2 >= 1.9 else 'NOT met'}")
PY
}

for s in "${suites[@]}"; do "run_$s"; done
