#!/usr/bin/env bash
# Sets up the machine, builds dcsim in release mode and runs it; arguments go to `dcsim`
# (default: `run`, the built-in default scenario).
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/setup.sh
swift build -c release --product dcsim >&2
if [ $# -eq 0 ]; then set -- run; fi
exec .build/release/dcsim "$@"
