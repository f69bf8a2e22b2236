#!/usr/bin/env bash
# The whole test suite: Rust unit/integration/property tests (including range
# reads against a real S3-compatible server on 127.0.0.1), doc tests, and the
# interop judge that compares arco's values with netCDF4-python, h5py and
# xarray element by element. This is the README's test command.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
export ARCO_PEERS_VENV=${ARCO_PEERS_VENV:-$REPO/.peers-venv}
export ARCO_REQUIRE_PEERS=1

echo "== reference tools (Python venv at $ARCO_PEERS_VENV)"
bash scripts/setup-peers.sh

echo "== Rust tests"
if ! command -v cargo-nextest >/dev/null 2>&1; then
  echo "cargo-nextest not found; installing it (cargo install cargo-nextest --locked)"
  cargo install cargo-nextest --locked
fi
cargo nextest run --workspace --no-fail-fast
cargo test --workspace --doc --quiet

echo "== interop with the reference tools"
cargo build --quiet -p arco-cli
PY="$ARCO_PEERS_VENV/bin/python"
ARCO=target/debug/arco
status=0
"$PY" scripts/interop.py --arco "$ARCO" || status=1
echo "== GeoTIFF: arco against rasterio and rioxarray"
"$PY" scripts/interop_tiff.py --arco "$ARCO" || status=1
echo "== GRIB: arco against cfgrib and ecCodes"
"$PY" scripts/interop_grib.py --arco "$ARCO" || status=1
echo "== convert: xarray.open_zarr(out) == xarray.open_dataset(src), verify, S3, Zarr v2"
"$PY" scripts/interop_convert.py --arco "$ARCO" || status=1
echo "== convert: many files along a dimension, and every refusal"
"$PY" scripts/interop_concat.py --arco "$ARCO" || status=1
echo "== convert: peak memory within --memory"
"$PY" scripts/memory_check.py --arco "$ARCO" || status=1
echo "== convert: a killed run leaves nothing that looks complete, and resumes"
"$PY" scripts/interruption_check.py --arco "$ARCO" || status=1
echo "== convert --pyramid: overview levels vs xarray coarsen, the multiscales schema, verify"
"$PY" scripts/interop_pyramid.py --arco "$ARCO" || status=1
echo "== virtualize: kerchunk JSON and Parquet read by xarray through fsspec == the sources; vs kerchunk"
"$PY" scripts/interop_virtual.py --arco "$ARCO" || status=1
echo "== Icechunk inputs: repositories by icechunk-python, VirtualiZarr and arco (local, S3) read by arco == xarray; verify freshness"
"$PY" scripts/interop_icechunk.py --arco "$ARCO" || status=1
echo "== serve: map tiles pixel for pixel against an independent rendering (xarray, rioxarray, rio-tiler)"
"$PY" scripts/interop_tiles.py --arco "$ARCO" || status=1
echo "== serve: time series and EDR values against xarray"
"$PY" scripts/interop_serve.py --arco "$ARCO" || status=1
echo "== serve: Zarr v3 over HTTP (xarray / zarr-python through fsspec) == the sources"
"$PY" scripts/interop_zarrhttp.py --arco "$ARCO" || status=1
echo "== serve: 3,000 mixed requests at 16 connections (no 5xx, valid PNGs, RSS within idle + cache + 64 MiB)"
"$PY" scripts/serve_load_check.py --arco "$ARCO" || status=1
echo "== serve: the viewer in headless Chromium (tiles drawn, time slider, click -> chart)"
bash scripts/viewer_check.sh --arco "$ARCO" || status=1
echo "== STAC API: stac-api-validator on arco serve, embedded and pgstac backends"
bash scripts/stac_api_check.sh --arco "$ARCO" || status=1
exit $status
