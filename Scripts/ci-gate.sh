#!/usr/bin/env bash
# The CI gate: runs a set of scenarios with dcsim, writes every report format for each,
# appends the Markdown summaries to the CI step summary when there is one
# ($GITHUB_STEP_SUMMARY), and exits with the gate's verdict:
#   0 every scenario met its SLOs · 1 an SLO failed · 2 bad input or usage · 3 internal error
# (when scenarios disagree, the most serious wins: 3, then 2, then 1).
#
# Usage:
#   bash Scripts/ci-gate.sh [--out DIR] [--dcsim BINARY] [SCENARIO …] [-- DCSIM-RUN-ARGS …]
#
#   SCENARIO          scenario files or built-in names (default: Topologies/scenarios/*.yaml)
#   --out DIR         where reports go, one folder per scenario (default: out/ci-gate)
#   --dcsim BINARY    the dcsim to use (default: $DCSIM, else a release build of this checkout)
#   -- ARGS           passed to every `dcsim run`, e.g. -- --duration 10m --slo 'availability>=0.999'
#
# Files: DIR/<scenario>/{report.txt,report.json,performance.json,report.md,junit.xml,
# report.html,timeline.csv,operations.csv}, DIR/<scenario>/stderr.txt, and DIR/summary.md
# (the verdict table followed by each scenario's report.md). Point the CI's test reporter at
# DIR/*/junit.xml.
set -uo pipefail
cd "$(dirname "$0")/.."

out="out/ci-gate"
dcsim="${DCSIM:-}"
scenarios=()
run_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) [ $# -ge 2 ] || { echo "ci-gate: --out needs a directory" >&2; exit 2; }; out="$2"; shift 2 ;;
    --dcsim) [ $# -ge 2 ] || { echo "ci-gate: --dcsim needs a path" >&2; exit 2; }; dcsim="$2"; shift 2 ;;
    --) shift; run_args=("$@"); break ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "ci-gate: unknown option '$1' (options: --out DIR, --dcsim BINARY, -- DCSIM-RUN-ARGS)" >&2; exit 2 ;;
    *) scenarios+=("$1"); shift ;;
  esac
done

if [ ${#scenarios[@]} -eq 0 ]; then
  for f in Topologies/scenarios/*.yaml; do scenarios+=("$f"); done
fi
if [ ${#scenarios[@]} -eq 0 ]; then
  echo "ci-gate: no scenarios given and none in Topologies/scenarios" >&2
  exit 2
fi

if [ -z "$dcsim" ]; then
  bash Scripts/setup.sh || exit 3
  if ! swift build -c release --product dcsim >&2; then
    echo "ci-gate: building dcsim failed" >&2
    exit 3
  fi
  dcsim="$(swift build -c release --show-bin-path)/dcsim"
fi
if [ ! -x "$dcsim" ]; then
  echo "ci-gate: no dcsim binary at '$dcsim'" >&2
  exit 2
fi

mkdir -p "$out" || exit 2
summary="$out/summary.md"
verdict=0
rows=""
details=""
# Severity order for the overall verdict: 0 < 1 < 2 < 3.
for scenario in "${scenarios[@]}"; do
  name="$(basename "$scenario" .yaml)"
  dir="$out/$name"
  mkdir -p "$dir"
  "$dcsim" run "$scenario" --report "$dir" --format all --quiet "${run_args[@]}" 2>"$dir/stderr.txt"
  code=$?
  case $code in
    0) label="✅ SLOs met" ;;
    1) label="❌ SLO failed" ;;
    2) label="⚠️ bad input (exit 2)" ;;
    *) label="💥 internal error (exit $code)"; code=3 ;;
  esac
  [ $code -gt $verdict ] && verdict=$code
  echo "ci-gate: $scenario → exit $code ($label)" >&2
  [ $code -ge 2 ] && sed 's/^/  /' "$dir/stderr.txt" >&2
  rows+="| \`$scenario\` | $label |"$'\n'
  if [ -f "$dir/report.md" ] && [ $code -le 1 ]; then
    details+=$'\n'"$(cat "$dir/report.md")"$'\n'
  else
    details+=$'\n'"### $scenario — $label"$'\n\n'"\`\`\`"$'\n'"$(head -c 4000 "$dir/stderr.txt")"$'\n'"\`\`\`"$'\n'
  fi
done

case $verdict in
  0) headline="✅ dcsim gate: every scenario met its SLOs" ;;
  1) headline="❌ dcsim gate: an SLO failed" ;;
  2) headline="⚠️ dcsim gate: bad input" ;;
  *) headline="💥 dcsim gate: internal error" ;;
esac
{
  echo "## $headline"
  echo
  echo "| scenario | verdict |"
  echo "|---|---|"
  printf '%s' "$rows"
  printf '%s' "$details"
} >"$summary"

if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  cat "$summary" >>"$GITHUB_STEP_SUMMARY"
fi
echo "ci-gate: $headline (exit $verdict); reports in $out, summary in $summary" >&2
exit $verdict
