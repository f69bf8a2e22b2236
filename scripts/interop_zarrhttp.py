#!/usr/bin/env python3
"""interop_zarrhttp.py — the Zarr-over-HTTP judge: what ``arco serve`` answers
under ``/zarr/{id}/``, read by xarray and zarr-python through fsspec's HTTP
filesystem (aiohttp), compared with the sources read by their reference tools.

It copies real files into a temporary folder — NetCDF-4 with packing and fill
values (GOES cloud-top height, ERA5, CORDEX), NetCDF-4 groups, strings and
chars (fixtures), NetCDF-3 (``sub.nc``, ``nc3_classic.nc``), GeoTIFFs with
overviews (``co_elevation_roi.tif``, ``L7_ETMs.tif``), a GRIB file
(``era5-levels-members.grib``), a Zarr made with ``arco convert`` and one made
with ``arco convert --pyramid`` — plus a NetCDF-4 file written here that is
large enough for several chunks per variable with partial chunks at the edges
(float64 chunks of 8 MB, an int16 packed variable, a contiguous one), then
starts ``arco serve DIR --addr 127.0.0.1:0 --json`` and checks:

* netCDF: ``xarray.open_zarr(URL, group=G, consolidated=True)`` against
  ``xarray.open_dataset(FILE, group=G)``: dims, variables, coordinates,
  attributes, CF encoding and decoded values element by element (NaN == NaN),
  with the rules and known Zarr limitations of the conversion judge
  (``scripts/interop_convert.py``, whose comparison functions are reused);
  and ``zarr.open_group(URL)[var][:]`` (raw, undecoded) against
  netCDF4-python's raw values (auto mask and scale off) at every path.
* plain HDF5 (``h5_types.h5``, ``h5_groups_latest.h5``, ``tvlstr.h5``):
  ``zarr.open_group(URL)`` against h5py (every group and dataset, attributes,
  values; a compound as a group of one array per field), as the conversion
  judge checks a converted store.
* a variable with no Zarr type (``nc4_usertypes.nc``'s vlen ``ragged``) is
  left out and named in the root attribute ``arco:omitted``.
* Zarr stores made by ``arco convert`` (served from disk as they are): the
  served hierarchy equals the store opened locally (``assert_identical``,
  every group, pyramid levels included) and the conversion's source as above.
* GeoTIFF: the decoded ``band_data`` against ``xarray.open_dataset(FILE,
  engine="rasterio", mask_and_scale=True)`` (nodata masked, NaN == NaN), raw
  ``band_data`` and every ``overview_N/band_data`` against rasterio's
  ``read()`` exactly, and ``x``, ``y``, ``band`` against rioxarray.
* GRIB (in a child process, so that ecCodes and PROJ never share one): every
  data variable and coordinate of ``cfgrib.open_datasets(FILE)`` in the
  served dataset with the same dimensions, values within half the packing
  step (as ``scripts/interop_grib.py``), coordinates equal.
* HTTP: an in-grid chunk is a 200 (of a chunk's bytes), a chunk outside the
  grid and an unknown key 404s with a JSON body, a key with ``%2e%2e`` a 400,
  ``HEAD`` gives the length, and a ``Range`` a 206.

Output: one PASS / FAIL / SKIP line per check, then

    interop_zarrhttp: N passed, M failed, K skipped

Exit code 1 if anything failed.

    .peers-venv/bin/python scripts/interop_zarrhttp.py [--arco target/debug/arco] [-v] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

GRIB_FILE = "tests/data/real/grib/era5-levels-members.grib"


# =========================================================================== GRIB child


def grib_child(url: str, path: str) -> int:
    """Compare cfgrib's view of `path` with the served dataset at `url`;
    print a JSON list of reasons. Runs in its own process (ecCodes)."""
    reasons: list[str] = []
    try:
        import numpy as np
        import xarray as xr
        import cfgrib

        from interop_grib import close, message_keys, tolerance

        warnings.simplefilter("ignore")
        msgs = message_keys(path)
        refs = cfgrib.open_datasets(path, backend_kwargs={"indexpath": ""})
        got = xr.open_zarr(url, consolidated=True, chunks=None, decode_timedelta=False)
        seen = 0
        for ref in refs:
            for name, da in ref.data_vars.items():
                seen += 1
                if name not in got.data_vars:
                    reasons.append(f"{name}: not served (variables {sorted(got.data_vars)})")
                    continue
                g = got[name]
                if g.dims != da.dims:
                    reasons.append(f"{name}: dims {g.dims}, cfgrib {da.dims}")
                    continue
                tol, exact = tolerance(msgs, name)
                reasons += [f"{name}: {r}" for r in close(g.values, da.values, tol, exact)]
            for c, ca in ref.coords.items():
                if c not in got.coords and c not in got.variables:
                    reasons.append(f"coordinate {c}: not served")
                    continue
                gv, rv = got[c].values, ca.values
                if rv.dtype.kind == "m":
                    # arco keeps GRIB steps as numbers with units; cfgrib decodes timedeltas.
                    units = got[c].attrs.get("units", "hours")
                    scale = {"hours": 3600e9, "minutes": 60e9, "seconds": 1e9, "days": 86400e9}.get(units, 3600e9)
                    rv = rv.astype("timedelta64[ns]").astype(np.int64) / scale
                    gv = np.asarray(gv, dtype=np.float64)
                if rv.dtype.kind == "M":
                    same = gv.shape == rv.shape and (gv.astype("datetime64[m]") == rv.astype("datetime64[m]")).all()
                elif rv.dtype.kind == "f":
                    same = gv.shape == rv.shape and np.allclose(gv, rv, rtol=0, atol=1e-5)
                else:
                    same = gv.shape == rv.shape and (gv == rv).all()
                if not same:
                    reasons.append(f"coordinate {c}: served {str(gv)[:60]}, cfgrib {str(rv)[:60]}")
        if seen == 0:
            reasons.append("cfgrib found no data variables")
    except Exception as e:  # noqa: BLE001  (a judge error is a failure)
        reasons.append(f"judge error {type(e).__name__}: {str(e)[:200]}")
    print(json.dumps(reasons), flush=True)
    # ecCodes' wheels can crash while unloading: leave without running them.
    os._exit(0)


if len(sys.argv) == 4 and sys.argv[1] == "--grib-child":
    sys.exit(grib_child(sys.argv[2], sys.argv[3]))


# =========================================================================== the judge

from interop_common import REPO, Judge, find_arco, rel  # noqa: E402

import numpy as np  # noqa: E402
import netCDF4  # noqa: E402
import xarray as xr  # noqa: E402
import zarr  # noqa: E402

from interop_convert import (  # noqa: E402
    ZarrListError,
    compare_h5,
    compare_xarray,
    compare_zarr_raw_nc,
)
from interop import NetcdfRef  # noqa: E402

warnings.simplefilter("ignore")

NETCDF = [
    "tests/data/real/netcdf4/20171025_2056.Cloud_Top_Height.nc",
    "tests/data/real/netcdf4/era5-levels-members.nc",
    "tests/data/real/netcdf4/cordex.nc",
    "tests/data/real/netcdf3/sub.nc",
    "tests/data/fixtures/nc3_classic.nc",
    "tests/data/fixtures/nc4_types.nc",
    "tests/data/fixtures/nc4_groups.nc",
    "tests/data/fixtures/nc4_cf.nc",
    "tests/data/fixtures/nc4_usertypes.nc",
]
# Variables with no Zarr type (vlen of numbers): left out, named in the root
# attribute arco:omitted (what `arco convert` refuses unless --drop).
OMITTED = {"nc4_usertypes.nc": ["/ragged"]}
OMITTED_ATTR = "arco:omitted"
HDF5 = [
    "tests/data/fixtures/h5_types.h5",
    "tests/data/fixtures/h5_groups_latest.h5",
    "tests/data/real/hdf5-fixtures/tvlstr.h5",
]
TIFF = [
    "tests/data/real/geotiff/co_elevation_roi.tif",
    "tests/data/real/geotiff/L7_ETMs.tif",
]
# Converted with arco convert, then served as Zarr v3 stores on disk.
CONVERTED = {
    "converted.zarr": ("tests/data/real/netcdf4/issue672.nc", []),
    "pyramid.zarr": ("tests/data/real/netcdf4/lcc_km.nc", ["--pyramid"]),
}
BIG = "big.nc"
# Root attributes `arco convert --pyramid` adds (the Zarr multiscales convention).
PYRAMID_ATTRS = ("multiscales", "zarr_conventions")


def write_big(path: str) -> None:
    """A NetCDF-4 file with several chunks per variable and partial chunks at
    the edges: float64 source chunks of 8 MB (served as they are: 2 x 2 x 2
    chunks, the last ones mostly padding), a packed int16 with fill values, a
    contiguous float32, and a CF time coordinate."""
    nt, ny, nx = 2, 1100, 1100
    with netCDF4.Dataset(path, "w") as ds:
        ds.title = "arco interop_zarrhttp: several chunks per variable"
        ds.createDimension("time", nt)
        ds.createDimension("y", ny)
        ds.createDimension("x", nx)
        t = ds.createVariable("time", "f8", ("time",))
        t.units = "hours since 2000-01-01 00:00:00"
        t.calendar = "standard"
        t[:] = [0.0, 6.0]
        y = ds.createVariable("y", "f8", ("y",))
        y.units = "m"
        y[:] = np.arange(ny) * 1000.0
        x = ds.createVariable("x", "f8", ("x",))
        x.units = "m"
        x[:] = np.arange(nx) * 1000.0
        yy, xx = np.meshgrid(np.linspace(0, 6, ny), np.linspace(0, 6, nx), indexing="ij")
        field = np.stack([np.sin(yy + k) * np.cos(xx) * 20 + 10 for k in range(nt)])
        smooth = ds.createVariable("smooth", "f8", ("time", "y", "x"), chunksizes=(1, 1000, 1000),
                                   zlib=True, complevel=1, fill_value=-9999.0)
        smooth.units = "K"
        data = np.round(field, 2)
        data[:, 1050:, 1090:] = -9999.0  # missing in the corner chunk
        smooth[:] = data
        packed = ds.createVariable("packed", "i2", ("time", "y", "x"), chunksizes=(1, 1000, 1000),
                                   zlib=True, complevel=1, fill_value=-32767)
        packed.scale_factor = 0.01
        packed.add_offset = 10.0
        packed.set_auto_maskandscale(False)
        raw = np.round((field - 10.0) / 0.01).astype("i2")
        raw[:, :7, :5] = -32767
        packed[:] = raw
        contig = ds.createVariable("contig", "f4", ("time", "y", "x"), contiguous=True)
        contig.long_name = "contiguous"
        contig[:] = field.astype("f4")


class Server:
    """arco serve DIR on a free port of 127.0.0.1."""

    def __init__(self, arco: str, folder: str):
        self.proc = subprocess.Popen([arco, "serve", folder, "--addr", "127.0.0.1:0", "--json"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.url = None
        self.skipped: list[str] = []
        deadline = time.time() + 180
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if ev.get("event") == "skipped":
                self.skipped.append(f"{ev.get('location')}: {ev.get('reason')}")
            if ev.get("event") == "listening":
                self.url = ev["url"].rstrip("/")
                break
        if self.url is None:
            self.stop()
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise RuntimeError(f"arco serve did not start: {err.strip()[:300]}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def http(method: str, url: str, headers: dict | None = None):
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


IDS: dict[str, str] = {}


def assign_ids(names: list[str]) -> None:
    """The collection ids arco gives the files and stores of one folder: the
    name without its extension, with the extension appended where two share
    a name (``era5-levels-members-nc``, ``era5-levels-members-grib``)."""
    def stem(n):
        return n.rsplit(".", 1)[0] if "." in n else n
    stems = [stem(n) for n in names]
    for n, st in zip(names, stems):
        IDS[n] = f"{st}-{n.rsplit('.', 1)[1]}" if stems.count(st) > 1 and "." in n else st


def dataset_id(name: str) -> str:
    return IDS[name]


def open_url(url: str, gp: str):
    return xr.open_zarr(url, group=None if gp == "/" else gp.lstrip("/"), consolidated=True,
                        chunks=None, decode_timedelta=False)


# --------------------------------------------------------------------- checks


def check_netcdf(j: Judge, base: str, path: str, name: str):
    url = f"{base}/zarr/{dataset_id(name)}"
    notes: list[str] = []
    omitted = OMITTED.get(name, [])
    seen: list[str] = []

    def open_served(gp):
        ds = open_url(url, gp)
        if gp == "/" and OMITTED_ATTR in ds.attrs:
            seen.append(str(ds.attrs.pop(OMITTED_ATTR)))
        return ds

    ncref = NetcdfRef(path)
    try:
        reasons = compare_xarray(path, open_served, ncref, notes)
    except Exception as e:  # noqa: BLE001
        reasons = [f"judge error {type(e).__name__}: {str(e)[:200]}"]
    if omitted and not (seen and all(v in seen[0] for v in omitted)):
        reasons.append(f"root attribute {OMITTED_ATTR} should name {omitted}: {seen}")
    elif seen and not omitted:
        reasons.append(f"unexpected root attribute {OMITTED_ATTR}: {seen[0][:150]}")
    j.report("FAIL" if reasons else "PASS", f"{name}: xarray.open_zarr(URL) == xarray.open_dataset(FILE)", reasons)
    try:
        root = zarr.open_group(url, mode="r", zarr_format=3)
        reasons = compare_zarr_raw_nc(root, ncref, 3, notes)
    except ZarrListError as e:
        reasons = [str(e)]
    except Exception as e:  # noqa: BLE001
        reasons = [f"judge error {type(e).__name__}: {str(e)[:200]}"]
    finally:
        ncref.close()
    j.report("FAIL" if reasons else "PASS", f"{name}: zarr.open_group(URL)[var][:] == netCDF4 raw values", reasons)
    if j.verbose:
        for n in notes:
            print(f"NOTE {name}: {n}")


def check_hdf5(j: Judge, base: str, path: str, name: str):
    url = f"{base}/zarr/{dataset_id(name)}"
    notes: list[str] = []
    try:
        root = zarr.open_group(url, mode="r", zarr_format=3)
        reasons = compare_h5(path, root, url, 3, notes)
    except Exception as e:  # noqa: BLE001
        reasons = [f"judge error {type(e).__name__}: {str(e)[:200]}"]
    j.report("FAIL" if reasons else "PASS", f"{name}: zarr.open_group(URL) == h5py (groups, attributes, values)", reasons)
    if j.verbose:
        for n in notes:
            print(f"NOTE {name}: {n}")


def zarr_groups(store) -> list[str]:
    root = zarr.open_group(store, mode="r", zarr_format=3)
    return ["/"] + sorted("/" + n for n, o in root.members(max_depth=None) if isinstance(o, zarr.Group))


def check_converted(j: Judge, base: str, folder: str, name: str, source: str):
    url = f"{base}/zarr/{dataset_id(name)}"
    local = os.path.join(folder, name)
    reasons = []
    try:
        groups = zarr_groups(local)
        served_groups = zarr_groups(url)
        if groups != served_groups:
            reasons.append(f"groups {served_groups}, the store has {groups}")
        for gp in groups:
            a = xr.open_zarr(local, group=None if gp == "/" else gp.lstrip("/"), chunks=None, decode_timedelta=False)
            b = open_url(url, gp)
            try:
                xr.testing.assert_identical(a.load(), b.load())
            except AssertionError as e:
                reasons.append(f"group {gp}: {str(e)[:300]}")
        # Byte for byte: the root document is the store's file.
        status, _, body = http("GET", f"{url}/zarr.json")
        with open(os.path.join(local, "zarr.json"), "rb") as f:
            if status != 200 or body != f.read():
                reasons.append("the root zarr.json is not the store's file")
        status, _, _ = http("GET", f"{url}/.arco/complete")
        if status != 404:
            reasons.append(f".arco/complete answered {status}, not 404 (hidden entries are not served)")
    except Exception as e:  # noqa: BLE001
        reasons.append(f"judge error {type(e).__name__}: {str(e)[:200]}")
    j.report("FAIL" if reasons else "PASS", f"{name} (arco convert {rel(source)}): served == the store on disk", reasons)
    notes: list[str] = []

    def open_served(gp):
        ds = open_url(url, gp)
        if gp == "/":
            # What --pyramid adds to the root: the multiscales convention.
            for a in PYRAMID_ATTRS:
                ds.attrs.pop(a, None)
        return ds

    ncref = NetcdfRef(source)
    try:
        reasons = compare_xarray(source, open_served, ncref, notes)
    except Exception as e:  # noqa: BLE001
        reasons = [f"judge error {type(e).__name__}: {str(e)[:200]}"]
    finally:
        ncref.close()
    j.report("FAIL" if reasons else "PASS", f"{name}: xarray.open_zarr(URL) == xarray.open_dataset({os.path.basename(source)})", reasons)


def check_tiff(j: Judge, base: str, path: str, name: str):
    import rasterio
    import rioxarray  # noqa: F401

    url = f"{base}/zarr/{dataset_id(name)}"
    reasons = []
    try:
        with rasterio.open(path) as src:
            bands = src.count
            want_raw = src.read()
            overviews = src.overviews(1)
        got = open_url(url, "/")
        ref = xr.open_dataset(path, engine="rasterio", mask_and_scale=True)
        r = ref["band_data"].values
        if bands == 1:
            r = r[0]
        g = got["band_data"].values
        if g.shape != r.shape:
            reasons.append(f"decoded band_data shape {g.shape}, rioxarray {r.shape}")
        else:
            g64, r64 = g.astype("f8"), r.astype("f8")
            ng, nr = np.isnan(g64), np.isnan(r64)
            if (ng != nr).any():
                reasons.append(f"{int((ng != nr).sum())} values masked differently")
            ok = ~(ng | nr)
            if not np.array_equal(g64[ok], r64[ok]):
                reasons.append("decoded band_data differs from xarray engine='rasterio'")
        rx = ref
        for c in ("x", "y"):
            if c in rx.coords and not np.allclose(got[c].values, rx[c].values, rtol=1e-12, atol=0):
                reasons.append(f"coordinate {c} differs from rioxarray")
        if bands > 1 and list(got["band"].values) != list(rx["band"].values):
            reasons.append(f"band {list(got['band'].values)} != {list(rx['band'].values)}")
        root = zarr.open_group(url, mode="r", zarr_format=3)
        raw = np.asarray(root["band_data"][...])
        if bands == 1:
            want_raw = want_raw[0]
        if raw.dtype != want_raw.dtype or not np.array_equal(raw, want_raw, equal_nan=raw.dtype.kind == "f"):
            reasons.append(f"raw band_data ({raw.dtype}) differs from rasterio read() ({want_raw.dtype})")
        for i in range(len(overviews)):
            with rasterio.open(path, overview_level=i) as o:
                ow = o.read()
            if bands == 1:
                ow = ow[0]
            arr = np.asarray(root[f"overview_{i + 1}/band_data"][...])
            if not np.array_equal(arr, ow, equal_nan=arr.dtype.kind == "f"):
                reasons.append(f"overview_{i + 1}/band_data differs from rasterio read(overview_level={i})")
    except Exception as e:  # noqa: BLE001
        reasons.append(f"judge error {type(e).__name__}: {str(e)[:200]}")
    j.report("FAIL" if reasons else "PASS",
             f"{name}: band_data, overviews, x, y == rasterio / xarray engine='rasterio'", reasons)


def check_grib(j: Judge, base: str, path: str, name: str):
    url = f"{base}/zarr/{dataset_id(name)}"
    try:
        p = subprocess.run([sys.executable, os.path.abspath(__file__), "--grib-child", url, path],
                           capture_output=True, text=True, timeout=600)
        last = [ln for ln in p.stdout.splitlines() if ln.startswith("[")]
        reasons = json.loads(last[-1]) if last else [f"the GRIB check printed nothing: {p.stderr.strip()[-300:]}"]
    except Exception as e:  # noqa: BLE001
        reasons = [f"judge error {type(e).__name__}: {str(e)[:200]}"]
    j.report("FAIL" if reasons else "PASS", f"{name}: xarray.open_zarr(URL) == cfgrib", reasons)


def check_big_layout(j: Judge, base: str):
    """The big file is served in several chunks, edges included."""
    url = f"{base}/zarr/{dataset_id(BIG)}"
    reasons = []
    status, _, body = http("GET", f"{url}/smooth/zarr.json")
    doc = json.loads(body) if status == 200 else {}
    chunks = doc.get("chunk_grid", {}).get("configuration", {}).get("chunk_shape")
    if chunks != [1, 1000, 1000]:
        reasons.append(f"smooth: chunk shape {chunks}, expected the source's [1, 1000, 1000]")
    arr = zarr.open_group(url, mode="r", zarr_format=3)["smooth"]
    if arr.nchunks != 8:
        reasons.append(f"smooth: {arr.nchunks} chunks, expected 8")
    j.report("FAIL" if reasons else "PASS", f"{BIG}: 2 x 2 x 2 chunks of 8 MB, partial at the edges", reasons)


def check_http(j: Judge, base: str):
    url = f"{base}/zarr/{dataset_id(BIG)}"
    reasons = []
    s, h, body = http("GET", f"{url}/smooth/c/1/1/1")
    if s != 200 or h.get("Content-Type") != "application/octet-stream" or not h.get("ETag"):
        reasons.append(f"in-grid edge chunk: {s} {h.get('Content-Type')} ETag {h.get('ETag')}")
    hs, hh, hbody = http("HEAD", f"{url}/smooth/c/1/1/1")
    if hs != 200 or hbody or hh.get("Content-Length") != str(len(body)):
        reasons.append(f"HEAD: {hs}, Content-Length {hh.get('Content-Length')} for {len(body)} bytes")
    rs, rh, rbody = http("GET", f"{url}/smooth/c/1/1/1", {"Range": "bytes=10-19"})
    if rs != 206 or rbody != body[10:20]:
        reasons.append(f"Range bytes=10-19: {rs}, {len(rbody)} bytes")
    for key, want in [("smooth/c/2/0/0", 404), ("smooth/c/0/2/0", 404), ("smooth/c/0/0", 404),
                      ("nothing/zarr.json", 404), (".zgroup", 404), ("%2e%2e/%2e%2e/etc/passwd", 400)]:
        s, h, b = http("GET", f"{url}/{key}")
        if s != want:
            reasons.append(f"{key}: {s}, expected {want}")
            continue
        try:
            if not json.loads(b).get("code"):
                reasons.append(f"{key}: the {s} body has no code")
        except ValueError:
            reasons.append(f"{key}: the {s} body is not JSON")
    j.report("FAIL" if reasons else "PASS", "HTTP: 200 in the grid, 404 outside, 400 for traversal, HEAD, Range",
             reasons)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arco", default="target/debug/arco")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args()
    arco = find_arco(args.arco, "interop_zarrhttp")
    if arco is None:
        return 1
    j = Judge(arco, args.verbose, timeout=600)
    folder = os.path.join(j.tmp, "served")
    os.makedirs(folder)
    for f in NETCDF + HDF5 + TIFF + [GRIB_FILE]:
        shutil.copy(os.path.join(REPO, f), folder)
    write_big(os.path.join(folder, BIG))
    for name, (src, extra) in CONVERTED.items():
        rc, so, se = j.run("convert", os.path.join(REPO, src), os.path.join(folder, name), *extra)
        if rc != 0:
            j.report("FAIL", f"arco convert {rel(src)} {' '.join(extra)}", [se.strip()[:200]])
    server = None
    try:
        assign_ids(sorted(os.listdir(folder)))
        server = Server(arco, folder)
        j.report("FAIL" if server.skipped else "PASS", f"arco serve {len(os.listdir(folder))} datasets",
                 server.skipped)
        base = server.url
        for f in NETCDF + [BIG]:
            name = os.path.basename(f)
            check_netcdf(j, base, os.path.join(folder, name), name)
        for f in HDF5:
            name = os.path.basename(f)
            check_hdf5(j, base, os.path.join(folder, name), name)
        check_big_layout(j, base)
        for name, (src, _) in CONVERTED.items():
            if os.path.isdir(os.path.join(folder, name)):
                check_converted(j, base, folder, name, os.path.join(REPO, src))
        for f in TIFF:
            name = os.path.basename(f)
            check_tiff(j, base, os.path.join(folder, name), name)
        check_grib(j, base, os.path.join(folder, os.path.basename(GRIB_FILE)), os.path.basename(GRIB_FILE))
        check_http(j, base)
    except Exception as e:  # noqa: BLE001
        j.report("FAIL", "judge", [f"{type(e).__name__}: {str(e)[:300]}"])
    finally:
        if server is not None:
            server.stop()
        if args.keep:
            print(f"kept {j.tmp}")
        else:
            shutil.rmtree(j.tmp, ignore_errors=True)
    print(f"interop_zarrhttp: {j.passed} passed, {j.failed} failed, {j.skipped} skipped")
    return 1 if j.failed else 0


if __name__ == "__main__":
    sys.exit(main())
