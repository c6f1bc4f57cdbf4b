#!/usr/bin/env bash
# Renders dcsim HTML reports in headless Chromium and saves a full-page PNG screenshot of
# each, as a manual or CI check that the self-contained pages open and draw in a real
# browser (the tests check well-formedness; this checks rendering).
#
#   bash Scripts/render-html.sh out/report.html [out/compare.html …]   # → out/report.png …
#   WIDTH=1280 HEIGHT=6000 bash Scripts/render-html.sh out/report.html
#
# Needs Chromium (Debian: `apt-get install chromium`; also chromium-browser or
# google-chrome if on PATH). Network access is disabled for the page, so a report that
# tried to fetch anything would render without it. Exit 0 when every page rendered,
# 1 when one did not, 2 on usage errors or no browser.
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 REPORT.html [MORE.html …]" >&2
  exit 2
fi
browser=""
for b in chromium chromium-browser google-chrome google-chrome-stable; do
  if command -v "$b" >/dev/null 2>&1; then browser="$b"; break; fi
done
if [ -z "$browser" ]; then
  echo "render-html: no Chromium found; install it with: apt-get install -y chromium" >&2
  exit 2
fi

width="${WIDTH:-1200}"
height="${HEIGHT:-4000}"
status=0
for page in "$@"; do
  if [ ! -f "$page" ]; then
    echo "render-html: no such file: $page" >&2
    status=1
    continue
  fi
  png="${page%.html}.png"
  abs="$(cd "$(dirname "$page")" && pwd)/$(basename "$page")"
  profile="$(mktemp -d)"
  # --no-sandbox: CI containers often run as root, where Chromium's sandbox refuses to start.
  if "$browser" --headless=new --no-sandbox --disable-gpu --hide-scrollbars \
       --user-data-dir="$profile" --no-first-run --disable-extensions \
       --proxy-server="127.0.0.1:9" --proxy-bypass-list="<-loopback>" \
       --window-size="${width},${height}" --screenshot="$(cd "$(dirname "$png")" && pwd)/$(basename "$png")" \
       "file://$abs" >/dev/null 2>&1 && [ -s "$png" ]; then
    echo "render-html: $page → $png ($(wc -c <"$png") bytes)"
  else
    echo "render-html: Chromium could not render $page" >&2
    status=1
  fi
  rm -rf "$profile"
done
exit $status
