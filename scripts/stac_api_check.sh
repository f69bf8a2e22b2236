#!/usr/bin/env bash
# stac_api_check.sh — the STAC API of `arco serve`, judged by stac-api-validator
# (conformance classes core, features, collections, item-search, filter) on
# both backends, with the real binary on 127.0.0.1:0:
#   1. a synthetic static catalog (crates/server/examples/stac_catalog.rs,
#      written with the stac crate);
#   2. embedded backend: `arco serve CATALOG`, then the validator;
#   3. pgstac backend: a throwaway PostgreSQL + PostGIS + pgstac
#      (scripts/pgstac.sh), `arco serve --pgstac URL CATALOG` (loads, then
#      serves), then the validator; then arco-server's Rust tests that need the
#      database (the two backends answer alike, pgstac errors are JSON);
#   4. the static catalog `arco catalog` writes for two NetCDF fixtures
#      (STAC extensions and all), served by the embedded backend;
#   5. stops everything.
# The validator runs through crates/server/tests/offline_stac_api_validator.py,
# which points the STAC/GeoJSON JSON-schema URLs at pystac's bundled copies
# (no internet needed).
#
# Usage: scripts/stac_api_check.sh [--arco target/debug/arco]
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
export ARCO_PEERS_VENV=${ARCO_PEERS_VENV:-$REPO/.peers-venv}
PY="$ARCO_PEERS_VENV/bin/python"
ARCO=target/debug/arco
if [ "${1:-}" = "--arco" ]; then ARCO=$2; fi
[ -x "$ARCO" ] || cargo build --quiet -p arco-cli
cargo build --quiet -p arco-server --example stac_catalog
"$PY" -c "import stac_api_validator" 2>/dev/null || { echo "stac-api-validator missing in $ARCO_PEERS_VENV: run scripts/setup-peers.sh" >&2; exit 1; }

WORK=$(mktemp -d /tmp/arco-stac-check.XXXXXX)
SERVER_PID=
PG_STARTED=0
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [ "$PG_STARTED" = 1 ]; then ARCO_PGSTAC_DIR=$ARCO_PGSTAC_DIR bash scripts/pgstac.sh stop || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

CATALOG=$WORK/catalog
target/debug/examples/stac_catalog "$CATALOG" --items 400 --collections 2 --seed 7
COLLECTION=optical-a
GEOMETRY='{"type": "Polygon", "coordinates": [[[-180, -70], [180, -70], [180, 70], [-180, 70], [-180, -70]]]}'

# Start `arco serve "$@" --addr 127.0.0.1:0 --json` and set URL from its
# "listening" event.
start_server() {
  local out=$WORK/serve.out
  : > "$out"
  "$ARCO" serve "$@" --addr 127.0.0.1:0 --json > "$out" 2> "$WORK/serve.err" &
  SERVER_PID=$!
  URL=
  for _ in $(seq 1 600); do
    URL=$("$PY" -c "import json,sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get('event') == 'listening': print(e['url']); break" "$out" 2>/dev/null || true)
    [ -n "$URL" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.err" >&2; echo "arco serve exited" >&2; return 1; }
    sleep 0.1
  done
  [ -n "$URL" ] || { echo "arco serve did not print its URL" >&2; return 1; }
  echo "   serving at $URL"
}

stop_server() {
  kill -TERM "$SERVER_PID"
  wait "$SERVER_PID" || { echo "arco serve did not stop cleanly on SIGTERM" >&2; return 1; }
  SERVER_PID=
}

validate() {
  "$PY" crates/server/tests/offline_stac_api_validator.py --root-url "$URL" \
    --conformance core --conformance features --conformance collections \
    --conformance item-search --conformance filter \
    --collection "$COLLECTION" --geometry "$GEOMETRY" --log-level WARNING
}

status=0
echo "== stac-api-validator: embedded backend"
start_server "$CATALOG"
validate || status=1
stop_server || status=1

echo "== stac-api-validator: a catalog written by arco catalog, embedded backend"
"$ARCO" catalog --out "$WORK/arco-catalog" --license CC-BY-4.0 \
  tests/data/fixtures/nc4_cf.nc tests/data/fixtures/nc3_classic.nc > /dev/null
start_server "$WORK/arco-catalog"
COLLECTION=arco validate || status=1
stop_server || status=1

echo "== stac-api-validator: pgstac backend"
eval "$(bash scripts/pgstac.sh start)"
PG_STARTED=1
start_server --pgstac "$ARCO_PGSTAC_URL" "$CATALOG"
validate || status=1
stop_server || status=1

echo "== arco catalog --load-pgstac, then arco serve --pgstac finds those items"
"$ARCO" catalog --out "$WORK/arco-catalog-pg" --license CC-BY-4.0 --check \
  --load-pgstac "$ARCO_PGSTAC_URL" tests/data/real/netcdf4/era5-levels-members.nc tests/data/real/netcdf4/lcc_km.nc > /dev/null || status=1
start_server --pgstac "$ARCO_PGSTAC_URL"
"$PY" - "$URL" <<'PYEOF' || status=1
import json, sys, urllib.request
url = sys.argv[1].rstrip("/")
body = json.dumps({"collections": ["arco"], "ids": ["era5-levels-members", "lcc_km"]}).encode()
req = urllib.request.Request(url + "/search", data=body, headers={"Content-Type": "application/json"})
got = sorted(f["id"] for f in json.load(urllib.request.urlopen(req))["features"])
assert got == ["era5-levels-members", "lcc_km"], got
print("   pgstac serves the items arco catalog loaded:", got)
PYEOF
stop_server || status=1

echo "== arco-server tests against pgstac (the backends answer alike)"
ARCO_PGSTAC_URL=$ARCO_PGSTAC_URL cargo nextest run -p arco-server --test pgstac --test validator --no-fail-fast || status=1
exit $status
