#!/usr/bin/env bash
# setup-peers.sh — idempotent installer of the reference ("peer") tools that
# arco is compared against (issue "Foundation I": netCDF / HDF5 reading;
# "Foundation II": conversion to Zarr).
#
# Installs into a Python virtual environment at
#     ${ARCO_PEERS_VENV:-<repo>/.peers-venv}
# exactly the versions pinned in scripts/peers-constraints.txt:
#     numpy xarray netCDF4 h5py h5netcdf hdf5plugin scipy pandas cftime
#     moto[server] boto3 zarr numcodecs dask[array] s3fs pystac rasterio rioxarray
#     pyproj (arco-crs: crates/crs/tests/pyproj_judge.rs)
#     stac-api-validator pypgstac[psycopg] (arco-server: scripts/stac_api_check.sh)
#     kerchunk fastparquet ujson imagecodecs tifffile (arco virtualize: scripts/interop_virtual.py)
#     virtualizarr[hdf] (bench/virtual: the VirtualiZarr columns)
#     cfgrib eccodes (GRIB: scripts/interop_grib.py, make_grib_fixtures.py)
#     icechunk<2 (arco-icechunk: crates/icechunk/tests/python_interop.rs; 1.x reads spec version 1)
#     morecantile rio-tiler titiler.core matplotlib (arco-render: crates/render/tests/data/make_expected.py,
#       scripts/make_colormaps.py)
# Later issues add their peers (zarr, kerchunk, rasterio, eccodes, ...) here;
# the tested full recipe is /work/shared/tools/peers-setup.sh.
#
# Usage (from anywhere):
#     scripts/setup-peers.sh            # install or verify
#     ARCO_PEERS_VENV=/tmp/pv scripts/setup-peers.sh
#
# Environment knobs:
#   ARCO_PEERS_VENV=<repo>/.peers-venv  where the venv lives
#   PEERS_PINNED=1    1: install the exact pins of peers-constraints.txt, 0: newest
#   PEERS_SKIP_APT=1  0: also apt-get install the optional CLI peers
#                     (ncdump/ncgen from netcdf-bin, h5dump/h5ls from hdf5-tools)
#   PEERS_FORCE=0     1: ignore the stamp file and run pip again
#
# Re-running is cheap: when the venv's stamp file records the same hash of
# (constraints, requirement list, python version) and every peer imports, the
# script returns without calling pip. Otherwise an existing venv is reused and
# pip only installs what is missing or at another version.
#
# ecCodes note: the PyPI "eccodes" package pulls the binary wheels
# eccodeslib/eckitlib. findlibs preloads all of eckit's shared objects with
# RTLD_GLOBAL, which brings a second PROJ into the global symbol scope and
# makes any process that also loads pyproj/rasterio (xarray loads the
# rioxarray backend, and cfgrib's, whenever it guesses an engine) crash at
# exit with "double free or corruption" (eccodes 2.50.0 / eckitlib 2.5.0.33).
# So, as the shared recipe does, this script installs Debian's libeccodes
# (always, not only with PEERS_SKIP_APT=0) and drops a .pth into the venv
# that sets FINDLIBS_DISABLE_PACKAGE=yes by default: the Python bindings use
# Debian's library. The GRIB judge (scripts/interop_grib.py) and its fixture
# script set FINDLIBS_DISABLE_PACKAGE=no for the wheel's ecCodes 2.50 (the
# judge's expectations are 2.50's) and keep pyproj out of that process.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
PEERS_VENV=${ARCO_PEERS_VENV:-$REPO/.peers-venv}
PEERS_PINNED=${PEERS_PINNED:-1}
PEERS_SKIP_APT=${PEERS_SKIP_APT:-1}
PEERS_FORCE=${PEERS_FORCE:-0}
CONSTRAINTS=${PEERS_CONSTRAINTS:-$HERE/peers-constraints.txt}
STAMP=$PEERS_VENV/.arco-peers-stamp
LOGDIR=$PEERS_VENV/setup-logs

log() { printf '[setup-peers] %s\n' "$*"; }

# name|requirements (space separated); installed group by group so that one
# failure does not block the rest.
GROUPS_SPEC=(
  "core|numpy xarray netCDF4 h5py h5netcdf hdf5plugin scipy pandas cftime"
  "moto|moto[server] boto3"
  "zarr|zarr numcodecs dask[array] s3fs aiohttp"
  "stac|pystac"
  "raster|rasterio rioxarray morecantile rio-tiler titiler.core matplotlib"
  "crs|pyproj"
  "stacapi|stac-api-validator pypgstac[psycopg]"
  "virtual|kerchunk fastparquet ujson imagecodecs tifffile virtualizarr[hdf]"
  "grib|cfgrib eccodes"
  "icechunk|icechunk<2"
)
# import names checked by the fast path and at the end
IMPORTS="numpy xarray netCDF4 h5py h5netcdf hdf5plugin scipy pandas cftime moto boto3 werkzeug flask zarr numcodecs dask s3fs aiohttp pystac rasterio rioxarray pyproj stac_api_validator pypgstac psycopg kerchunk fastparquet ujson cfgrib eccodes icechunk imagecodecs tifffile virtualizarr morecantile rio_tiler titiler.core matplotlib"

# ---------------------------------------------------------------- 1. apt (optional)
APT_PKGS=(netcdf-bin hdf5-tools)
if [ "$PEERS_SKIP_APT" != 1 ]; then
  missing=()
  for p in "${APT_PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "apt: installing ${missing[*]}"
    SUDO=; [ "$(id -u)" != 0 ] && SUDO=sudo
    $SUDO apt-get update -qq || log "apt-get update failed (continuing)"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" \
      || log "apt-get install failed for some of: ${missing[*]} (CLI peers are optional)"
  else
    log "apt: ${APT_PKGS[*]} already installed"
  fi
fi

# ecCodes from Debian for every process but the GRIB judge (see the note above).
if ! ldconfig -p 2>/dev/null | grep -q 'libeccodes.so'; then
  log "apt: installing libeccodes0 libeccodes-data (see the ecCodes note)"
  SUDO=; [ "$(id -u)" != 0 ] && SUDO=sudo
  $SUDO apt-get update -qq || log "apt-get update failed (continuing)"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends libeccodes0 libeccodes-data \
    || log "WARNING: libeccodes0 not installed: processes that guess xarray engines may crash at exit"
fi

# ---------------------------------------------------------------- 2. venv
if [ ! -x "$PEERS_VENV/bin/python" ]; then
  log "creating venv $PEERS_VENV"
  python3 -m venv "$PEERS_VENV" || { log "FATAL: python3 -m venv $PEERS_VENV failed"; exit 1; }
fi
PY=$PEERS_VENV/bin/python
PIP=("$PY" -m pip --disable-pip-version-check)
# ecCodes workaround (see the note at the top), also on the fast path.
SITE=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo 'import os; os.environ.setdefault("FINDLIBS_DISABLE_PACKAGE", "yes")' > "$SITE/zz_arco_findlibs.pth"

want_stamp() {
  {
    echo "pinned=$PEERS_PINNED"
    [ "$PEERS_PINNED" = 1 ] && [ -f "$CONSTRAINTS" ] && cat "$CONSTRAINTS"
    printf '%s\n' "${GROUPS_SPEC[@]}"
    "$PY" -c 'import sys; print(sys.version)'
  } | sha256sum | cut -d' ' -f1
}
imports_ok() {
  "$PY" -c "import importlib, sys
for n in sys.argv[1:]: importlib.import_module(n)" $IMPORTS >/dev/null 2>&1
}

WANT=$(want_stamp)
if [ "$PEERS_FORCE" != 1 ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && imports_ok; then
  log "peers up to date in $PEERS_VENV (stamp matches; PEERS_FORCE=1 to reinstall)"
  exit 0
fi

mkdir -p "$LOGDIR"
"${PIP[@]}" install -q -U pip wheel setuptools > "$LOGDIR/00-pip.log" 2>&1 || log "pip self-upgrade failed (continuing)"

CARGS=()
if [ "$PEERS_PINNED" = 1 ] && [ -f "$CONSTRAINTS" ]; then
  CARGS=(-c "$CONSTRAINTS"); log "pinned install with $CONSTRAINTS"
else
  log "unpinned install (newest versions)"
fi

# ---------------------------------------------------------------- 3. groups
OK=(); FAIL=()
for spec in "${GROUPS_SPEC[@]}"; do
  name=${spec%%|*}; reqs=${spec#*|}
  # shellcheck disable=SC2086
  if "${PIP[@]}" install "${CARGS[@]}" $reqs > "$LOGDIR/group-$name.log" 2>&1; then
    OK+=("$name"); log "group $name: ok"
  else
    FAIL+=("$name"); log "group $name: FAILED (see $LOGDIR/group-$name.log)"
    tail -5 "$LOGDIR/group-$name.log" | sed 's/^/    /'
  fi
done

# ---------------------------------------------------------------- 4. record
"${PIP[@]}" freeze > "$PEERS_VENV/peers-freeze.txt" 2>/dev/null
"${PIP[@]}" check > "$LOGDIR/pip-check.log" 2>&1 && log "pip check: no broken requirements" \
  || { log "pip check reports problems:"; sed 's/^/    /' "$LOGDIR/pip-check.log"; }
log "versions:"
"$PY" - <<'EOF' 2>/dev/null
import importlib.metadata as m
for n in ["numpy", "xarray", "netCDF4", "h5py", "h5netcdf", "hdf5plugin", "scipy",
          "pandas", "cftime", "moto", "boto3", "zarr", "numcodecs", "dask", "s3fs", "pystac", "rasterio", "rioxarray", "morecantile", "rio-tiler", "titiler.core", "matplotlib", "pyproj", "cfgrib", "eccodes", "stac-api-validator", "pypgstac", "kerchunk", "fastparquet", "ujson", "virtualizarr"]:
    try:
        v = m.version(n)
    except Exception:
        v = "NOT INSTALLED"
    print(f"    {n:12s} {v}")
EOF
for t in ncdump h5dump; do
  command -v $t >/dev/null && log "cli $t: $(command -v $t)" || log "cli $t: missing (optional)"
done

if [ ${#FAIL[@]} -gt 0 ]; then log "groups FAILED: ${FAIL[*]}"; rm -f "$STAMP"; exit 1; fi
if ! imports_ok; then log "FATAL: some of [$IMPORTS] do not import"; rm -f "$STAMP"; exit 1; fi
echo "$WANT" > "$STAMP"
log "done; venv $PEERS_VENV, freeze in $PEERS_VENV/peers-freeze.txt"
