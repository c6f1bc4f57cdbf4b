#!/usr/bin/env bash
# Installs what dcsim needs on Debian/Ubuntu, idempotently: quiet when everything is present.
#   C libraries: liblz4 (compression), OpenSSL libcrypto (AES-256-GCM, HKDF), Intel ISA-L
#   (Reed–Solomon), pkg-config (SwiftPM finds them with it), and the lz4 command-line tool
#   (the tests check that frames interoperate with it). libxml2-utils provides xmllint, with
#   which the report tests validate junit.xml against the JUnit schema.
set -euo pipefail

packages=(liblz4-dev lz4 libssl-dev pkg-config libisal-dev libxml2-utils)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >/dev/null
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "setup: the Swift toolchain (6.0 or later) is not on PATH; install it from swift.org" >&2
  exit 1
fi
