#!/usr/bin/env bash
# Debian's Chromium 150 (bookworm main), the last Debian build that registers and refreshes
# Device Bound Sessions (docs/DBSC-PROBE.md: 156 ignores Secure-Session-Registration under every
# switch). Fetched with `apt-get download` from Debian's archive and unpacked with `dpkg-deb -x`
# into a cache folder; it runs by path with the installed Chromium's shared libraries.
# Idempotent: a cached unpack is reused. Prints the binary's path on the last line; any failure
# exits non-zero (the end-to-end test fails loudly, it never skips).
set -euo pipefail
VERSION="${DBSC_CHROMIUM_VERSION:-150.0.7871.100-1~deb12u1}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${DBSC_CHROMIUM_CACHE:-$ROOT/.cache/chromium-dbsc}"
DEST="$CACHE/$VERSION"
BIN="$DEST/usr/lib/chromium/chromium"
if [ -x "$BIN" ] && [ -f "$DEST/.complete" ]; then echo "$BIN"; exit 0; fi
rm -rf "$DEST" && mkdir -p "$DEST/debs"
cd "$DEST/debs"
if ! apt-get download "chromium=$VERSION" "chromium-common=$VERSION" >&2; then
  # The package lists may be stale or absent on a fresh machine.
  if [ "$(id -u)" = 0 ]; then apt-get update -qq >&2; else sudo -n apt-get update -qq >&2; fi
  apt-get download "chromium=$VERSION" "chromium-common=$VERSION" >&2
fi
for deb in ./*.deb; do dpkg-deb -x "$deb" "$DEST"; done
rm -rf "$DEST/debs"
[ -x "$BIN" ] || { echo "chromium-dbsc: $BIN missing after unpacking $VERSION" >&2; exit 1; }
"$BIN" --version >&2
touch "$DEST/.complete"
echo "$BIN"
