#!/usr/bin/env bash
# viewer_check.sh — the map viewer (/viewer) of `arco serve`, driven by
# headless Chromium (tests/browser/viewer_check.mjs, Playwright's
# playwright-core with Debian's chromium; nothing downloaded at test time
# beyond those two packages):
#   1. ensures chromium (apt-get) and the pinned playwright-core (npm ci in
#      tests/browser/, from the committed package-lock.json);
#   2. serves two real files with `arco serve DIR --addr 127.0.0.1:0 --json`:
#      tests/data/real/netcdf4/era5-levels-members.nc (ERA5 t and z, 4 time
#      steps x 2 levels x 10 members, 3 deg global grid) and
#      tests/data/real/geotiff/co_elevation_roi.tif (a regional COG DEM);
#   3. loads /viewer: tiles drawn (map not blank), the pickers, one slider per
#      dimension, the time slider reloads the tiles, a click draws the time
#      series (one point per time step), the colormap, the address
#      reproducing the view, a server error (click outside the DEM) shown in
#      the page, no console errors, no request off the server;
#   4. stops the server (also on failure).
# Screenshots go to OUT_DIR (default target/viewer-check/).
#
# Usage: scripts/viewer_check.sh [--arco target/debug/arco] [--out DIR]
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
ARCO=target/debug/arco
OUT=$REPO/target/viewer-check
while [ $# -gt 0 ]; do
  case "$1" in
    --arco) ARCO=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "usage: scripts/viewer_check.sh [--arco target/debug/arco] [--out DIR]" >&2; exit 2 ;;
  esac
done
[ -x "$ARCO" ] || cargo build --quiet -p arco-cli

WORK=$(mktemp -d /tmp/arco-viewer-check.XXXXXX)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== browser and driver"
if ! command -v chromium >/dev/null 2>&1; then
  echo "   installing Debian's chromium (apt-get)"
  if ! (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) > "$WORK/apt.log" 2>&1; then
    cat "$WORK/apt.log" >&2
    echo "could not install chromium: run 'apt-get install chromium' (as root) and retry" >&2
    exit 1
  fi
fi
command -v node >/dev/null 2>&1 || { echo "node (>= 20) is needed: apt-get install nodejs npm" >&2; exit 1; }
WANT=$(node -p "require('./tests/browser/package.json').dependencies['playwright-core']")
HAVE=$(node -p "require('./tests/browser/node_modules/playwright-core/package.json').version" 2>/dev/null || true)
if [ "$HAVE" != "$WANT" ]; then
  echo "   npm ci in tests/browser (playwright-core $WANT)"
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error > "$WORK/npm.log" 2>&1) || { cat "$WORK/npm.log" >&2; exit 1; }
fi
echo "   $(chromium --version 2>/dev/null | head -n 1), playwright-core $WANT"

echo "== arco serve"
mkdir -p "$WORK/data"
cp tests/data/real/netcdf4/era5-levels-members.nc tests/data/real/geotiff/co_elevation_roi.tif "$WORK/data/"
"$ARCO" serve "$WORK/data" --addr 127.0.0.1:0 --json > "$WORK/serve.out" 2> "$WORK/serve.err" &
SERVER_PID=$!
URL=
for _ in $(seq 1 600); do
  URL=$(node -e '
    const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n");
    for (const l of lines) { try { const e = JSON.parse(l); if (e.event === "listening") { console.log(e.url); break; } } catch {} }
  ' "$WORK/serve.out" 2>/dev/null || true)
  [ -n "$URL" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.err" >&2; echo "arco serve exited before listening" >&2; exit 1; }
  sleep 0.1
done
[ -n "$URL" ] || { cat "$WORK/serve.err" >&2; echo "arco serve did not print its URL" >&2; exit 1; }
echo "   serving $WORK/data at $URL"

echo "== the viewer in headless Chromium"
status=0
node tests/browser/viewer_check.mjs "$URL" "$OUT" || status=1
if [ $status -ne 0 ]; then
  echo "--- arco serve stderr (last 40 lines)" >&2
  tail -n 40 "$WORK/serve.err" >&2 || true
fi
exit $status
