#!/usr/bin/env python3
"""interop_concat.py — `arco convert` of many files along one dimension, and
every refusal.

Writes, with netCDF4-python, one small CF dataset split along ``time`` into
three files ``tas_000.nc``, ``tas_001.nc``, ``tas_002.nc`` (float32 ``tas``,
packed int16 ``pr`` with scale_factor / add_offset / _FillValue, CF time on an
unlimited dimension, lat / lon coordinates), then checks:

* ``arco convert 'DIR/tas_*.nc' OUT.zarr --concat-dim time`` (and again
  without ``--concat-dim``: the unlimited dimension is the default) exits 0,
  and ``xarray.open_zarr(OUT)`` equals ``xarray.open_mfdataset(files,
  combine="nested", concat_dim="time")`` variable by variable (dims, dtypes,
  attributes, CF encoding, decoded values; the comparison of
  scripts/interop_convert.py), zarr-python's raw arrays equal the concatenated
  netCDF4-python raw values, ``arco:provenance`` names every input's SHA-256,
  and ``arco verify 'DIR/tas_*.nc' OUT.zarr`` exits 0;
* each refusal exits 1, with a message that names the offending file(s) and
  what differs, and leaves nothing at the destination:

  | case | change | the message must name |
  |---|---|---|
  | overlap | tas_001 starts inside tas_000's times | tas_000, tas_001, "overlap" |
  | unordered | tas_000 holds later times than tas_001 | tas_000, tas_001, "order" |
  | lat | tas_002's lat shifted by half a cell | tas_002, "lat" |
  | units | tas_001's tas in degC | tas_001, "units" |
  | time units | tas_002's time in hours since ... | tas_002, "units" |
  | scale_factor | tas_001's pr packed with another scale_factor | tas_001, "scale_factor" |

Combining files that lack the dimension, or whose encodings differ (each
case through ``arco convert`` → ``xarray.open_zarr`` and ``arco virtualize``
→ xarray through fsspec's reference file system, compared element by element,
decoded coordinates included, with xarray's own combine of the same files):

* "names": daily NetCDF maps ``tas_YYYYMMDD.nc`` without ``time``,
  ``--coord-from-name 'tas_{time:%Y%m%d}.nc'`` against
  ``open_mfdataset(combine="nested", concat_dim="time",
  preprocess=expand_dims(time=[date from the name]))``; ``arco verify``
  with the same options exits 0;
* "attribute": the same maps with a global ``valid_at`` ISO 8601 attribute
  (6-hourly), ``--coord-from-attr time=valid_at``;
* "geotiff names": one GeoTIFF per date written by rasterio,
  ``--coord-from-name 'ndvi_{time:%Y-%m-%d}.tif'`` against rioxarray-like
  ``band_data`` stacked by xarray (values and x / y);
* "split": four files along ``time`` whose ``pr`` changes scale_factor after
  two: refused without ``--split-mismatched`` naming the third file; with it,
  ``pr``/``tas``/``time`` equal xarray's concat of the first two files and
  ``pr_1``/``tas_1``/``time_1`` that of the last two;
* refusals naming the files: a new dimension without a coordinate source
  (the message names ``--coord-from-name``), names out of order, a name that
  disagrees with the file's own ``time``.

Output: one PASS / FAIL line per case, then
``interop-concat: N passed, M failed, K skipped``; exit 1 on any failure.

Usage: .peers-venv/bin/python scripts/interop_concat.py [--arco target/debug/arco] [-v] [--keep]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from interop_common import REPO, Judge, find_arco, first_line  # noqa: E402
import netCDF4  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402
import zarr  # noqa: E402

from interop_convert import (  # noqa: E402
    PROVENANCE,
    compare_arrays,
    compare_datasets,
    sha256,
    zarr_dims,
)

warnings.simplefilter("ignore")

NT, NLAT, NLON = 12, 5, 8
SPLITS = [(0, 4), (4, 8), (8, 12)]


def base_fields():
    rng = np.random.default_rng(7)
    tas = (280 + 10 * rng.standard_normal((NT, NLAT, NLON))).astype(np.float32)
    tas[2, 1, 1] = np.nan
    pr = np.round(rng.uniform(0, 20, (NT, NLAT, NLON)), 2)
    pr[5, 0, 0] = np.nan  # masked in the packed variable
    return tas, pr


def write_part(path: str, t0: int, t1: int, *, times=None, lat_shift=0.0, tas_units="K",
               time_units="days since 2000-01-01", time_scale=1, pr_scale=0.01):
    tas, pr = base_fields()
    times = np.arange(t0, t1) if times is None else np.asarray(times)
    with netCDF4.Dataset(path, "w", format="NETCDF4") as ds:
        ds.createDimension("time", None)
        ds.createDimension("lat", NLAT)
        ds.createDimension("lon", NLON)
        ds.title = "arco concatenation test"
        ds.Conventions = "CF-1.8"
        t = ds.createVariable("time", "i4", ("time",))
        t.units = time_units
        t.calendar = "standard"
        t.standard_name = "time"
        t[:] = times * time_scale
        la = ds.createVariable("lat", "f8", ("lat",))
        la.units = "degrees_north"
        la[:] = np.linspace(-40, 40, NLAT) + lat_shift
        lo = ds.createVariable("lon", "f8", ("lon",))
        lo.units = "degrees_east"
        lo[:] = np.linspace(0, 315, NLON)
        v = ds.createVariable("tas", "f4", ("time", "lat", "lon"), zlib=True, chunksizes=(1, NLAT, NLON))
        v.units = tas_units
        v.standard_name = "air_temperature"
        vals = tas[times % NT] if tas_units == "K" else tas[times % NT] - np.float32(273.15)
        v[:] = vals
        p = ds.createVariable("pr", "i2", ("time", "lat", "lon"), fill_value=np.int16(-32767))
        p.scale_factor = np.float32(pr_scale)
        p.add_offset = np.float32(0.0)
        p.units = "mm/day"
        p.set_auto_maskandscale(True)
        p[:] = np.ma.masked_invalid(pr[times % NT])


def write_set(d: str, case: str) -> list[str]:
    os.makedirs(d, exist_ok=True)
    files = [os.path.join(d, f"tas_{i:03d}.nc") for i in range(3)]
    for i, ((t0, t1), f) in enumerate(zip(SPLITS, files)):
        kw = {}
        if case == "overlap" and i == 1:
            kw["times"] = np.arange(t0 - 1, t1 - 1)
        if case == "unordered":
            kw["times"] = np.arange(*SPLITS[[1, 0, 2][i]])
        if case == "lat" and i == 2:
            kw["lat_shift"] = 0.5
        if case == "units" and i == 1:
            kw["tas_units"] = "degC"
        if case == "time units" and i == 2:
            kw["time_units"], kw["time_scale"] = "hours since 2000-01-01", 24
        if case == "scale_factor" and i == 1:
            kw["pr_scale"] = 0.1
        write_part(f, t0, t1, **kw)
    return files


REFUSALS = [
    ("overlap", ["tas_000", "tas_001"], "overlap"),
    ("unordered", ["tas_000", "tas_001"], "order"),
    ("lat", ["tas_002"], "lat"),
    ("units", ["tas_001"], "units"),
    ("time units", ["tas_002"], "units"),
    ("scale_factor", ["tas_001"], "scale_factor"),
]


def check_ok(j: Judge, d: str, files: list[str], with_dim: bool):
    tag = "concat 3 files" + (" --concat-dim time" if with_dim else " (default: the unlimited dim)")
    dest = os.path.join(j.tmp, "concat-ok" + ("-dim" if with_dim else "") + ".zarr")
    shutil.rmtree(dest, ignore_errors=True)
    pattern = os.path.join(d, "tas_*.nc")
    rc, so, se = j.run("convert", pattern, dest, *(["--concat-dim", "time"] if with_dim else []))
    if rc != 0:
        j.report("FAIL", tag, [f"convert exit {rc}: {first_line(se)}"])
        return
    reasons, notes = [], []
    try:
        src = xr.open_mfdataset(files, combine="nested", concat_dim="time", data_vars="minimal",
                                coords="minimal", compat="override", decode_timedelta=False).load()
        dst = xr.open_zarr(dest, consolidated=False, chunks=None, decode_timedelta=False)
        reasons += compare_datasets("/", src, dst, set(), set(), notes)
        root = zarr.open_group(dest, mode="r")
        # raw: concatenation of netCDF4-python's stored values
        dss = [netCDF4.Dataset(f) for f in files]
        for ds in dss:
            ds.set_auto_maskandscale(False)
        for name, var in dss[0].variables.items():
            parts = [np.asarray(ds.variables[name][...]) for ds in dss]
            ref = np.concatenate(parts) if "time" in var.dimensions else parts[0]
            if name not in root:
                reasons.append(f"/{name}: no Zarr array")
                continue
            why = compare_arrays(f"/{name} (zarr)", ref, np.asarray(root[name][...]))
            if why:
                reasons.append(why)
            zd = zarr_dims(root[name], 3)
            if list(zd or []) != list(var.dimensions):
                reasons.append(f"/{name}: dimension names {zd}, expected {list(var.dimensions)}")
        for ds in dss:
            ds.close()
        prov = json.dumps(dict(root.attrs).get(PROVENANCE))
        missing = [os.path.basename(f) for f in files if sha256(f) not in prov]
        if missing:
            reasons.append(f"{PROVENANCE} does not name the SHA-256 of {missing}")
        src.close()
        dst.close()
    except Exception as e:
        reasons.append(f"judge error {type(e).__name__}: {str(e)[:200]}")
    rc, so, se = j.run("verify", pattern, dest)
    if rc != 0:
        reasons.append(f"verify exit {rc}: {first_line(se or so)}")
    j.report("FAIL" if reasons else "PASS", tag, reasons)


def check_refusal(j: Judge, d: str, case: str, names: list[str], what: str):
    tag = f"concat refuses {case}"
    dest = os.path.join(j.tmp, f"concat-{case.replace(' ', '-')}.zarr")
    shutil.rmtree(dest, ignore_errors=True)
    rc, so, se = j.run("convert", os.path.join(d, "tas_*.nc"), dest, "--concat-dim", "time")
    msg = se.strip()
    reasons = []
    if rc != 1:
        reasons.append(f"convert exit {rc} (want 1): {first_line(se)}")
    else:
        unnamed = [n for n in names if n not in msg]
        if unnamed:
            reasons.append(f"the message does not name {unnamed}: {first_line(se)}")
        # the keyword must be in the words, not in a path
        words = msg.replace(d, "").lower()
        for i in range(3):
            words = words.replace(f"tas_{i:03d}.nc", "")
        if what.lower() not in words:
            reasons.append(f"the message does not say {what!r}: {first_line(se)}")
    if os.path.exists(dest):
        reasons.append(f"{os.path.basename(dest)} exists after a refusal")
    j.report("FAIL" if reasons else "PASS", tag, reasons or ([f"exit 1: {first_line(se)}"] if j.verbose else []))



# =========================================================================== combining


def values_equal(name: str, want, got) -> str | None:
    """Element by element, NaN equal to NaN, datetimes exactly."""
    w, g = np.asarray(want), np.asarray(got)
    if w.shape != g.shape:
        return f"{name}: shape {g.shape}, expected {w.shape}"
    if w.dtype.kind == "M" or g.dtype.kind == "M":
        if w.dtype.kind != g.dtype.kind or not np.array_equal(w.astype("datetime64[ns]"), g.astype("datetime64[ns]")):
            return f"{name}: times {g[:4]}…, expected {w[:4]}…"
        return None
    if w.dtype.kind in "fc" or g.dtype.kind in "fc":
        # Packed values decode to float32 in one reader and float64 in the
        # other (the scale_factor's type): compare at the lower precision.
        kind = "f4" if "float32" in (str(w.dtype), str(g.dtype)) else "f8"
        if not np.array_equal(w.astype(kind), g.astype(kind), equal_nan=True):
            return f"{name}: values differ (first {g.ravel()[:4]}, expected {w.ravel()[:4]})"
        return None
    if not np.array_equal(w, g):
        return f"{name}: values differ"
    return None


def compare_combined(ref: xr.Dataset, got: xr.Dataset, rename: dict | None = None) -> list[str]:
    """Every variable (data and coordinates) of `ref` in `got` (names mapped
    by `rename`), with the same dimensions and decoded values."""
    rename = rename or {}
    out = []
    for name in list(ref.data_vars) + list(ref.coords):
        var = ref[name]
        other = rename.get(name, name)
        if other not in got.variables:
            out.append(f"{other}: missing (have {sorted(got.variables)})")
            continue
        g = got[other]
        dims = [rename.get(d, d) for d in var.dims]
        if list(g.dims) != dims:
            out.append(f"{other}: dims {list(g.dims)}, expected {dims}")
            continue
        out.append(values_equal(other, var.values, g.values))
    return [r for r in out if r]


def open_refs(path: str) -> xr.Dataset:
    so = {"fo": path, "skip_instance_cache": True, "remote_protocol": "file"}
    return xr.open_dataset("reference://", engine="zarr", chunks=None, decode_timedelta=False,
                           backend_kwargs={"consolidated": False, "storage_options": so})


def write_map(path: str, t: int, *, attrs=None, pr_scale=0.01, time_value=None):
    """One day's map: tas(lat, lon) float32 (deflate), packed pr(lat, lon),
    lat / lon coordinates; a 1-step `time` when time_value is given."""
    tas, pr = base_fields()
    with netCDF4.Dataset(path, "w", format="NETCDF4") as ds:
        for k, v in (attrs or {}).items():
            setattr(ds, k, v)
        dims = ("lat", "lon")
        if time_value is not None:
            ds.createDimension("time", 1)
            tv = ds.createVariable("time", "f8", ("time",))
            tv.units = "days since 2000-01-01"
            tv[:] = [time_value]
            dims = ("time", "lat", "lon")
        ds.createDimension("lat", NLAT)
        ds.createDimension("lon", NLON)
        la = ds.createVariable("lat", "f8", ("lat",))
        la.units = "degrees_north"
        la[:] = np.linspace(-40, 40, NLAT)
        lo = ds.createVariable("lon", "f8", ("lon",))
        lo.units = "degrees_east"
        lo[:] = np.linspace(0, 315, NLON)
        v = ds.createVariable("tas", "f4", dims, zlib=True)
        v.units = "K"
        v[:] = tas[t % NT].reshape(v.shape)
        p = ds.createVariable("pr", "i2", dims, fill_value=np.int16(-32767))
        p.scale_factor = np.float32(pr_scale)
        p.add_offset = np.float32(0.0)
        p.set_auto_maskandscale(True)
        p[:] = np.ma.masked_invalid(pr[t % NT]).reshape(v.shape)


def both_outputs(j: Judge, tag: str, sources: list[str], opts: list[str]):
    """convert and virtualize with `opts`; returns (reasons, zarr ds, refs ds)."""
    reasons = []
    dest = os.path.join(j.tmp, f"{tag}.zarr")
    refs = os.path.join(j.tmp, f"{tag}.json")
    shutil.rmtree(dest, ignore_errors=True)
    if os.path.exists(refs):
        os.remove(refs)
    zds = rds = None
    rc, so, se = j.run("convert", *sources, dest, *opts)
    if rc != 0:
        reasons.append(f"convert exit {rc}: {first_line(se)}")
    else:
        zds = xr.open_zarr(dest, consolidated=False, chunks=None, decode_timedelta=False)
        rc, so, se = j.run("verify", *sources, dest, *opts)
        if rc != 0:
            reasons.append(f"verify exit {rc}: {first_line(se or so)}")
    rc, so, se = j.run("virtualize", *sources, refs, "--no-stac", *opts)
    if rc != 0:
        reasons.append(f"virtualize exit {rc}: {first_line(se)}")
    else:
        rds = open_refs(refs)
    return reasons, zds, rds


def judge_both(j: Judge, tag: str, sources, opts, ref: xr.Dataset, rename=None, extra=None):
    reasons, zds, rds = both_outputs(j, tag, sources, opts)
    try:
        for label, got in (("zarr", zds), ("refs", rds)):
            if got is not None:
                reasons += [f"{label} {r}" for r in compare_combined(ref, got, rename)]
                if extra:
                    reasons += [f"{label} {r}" for r in extra(got)]
    except Exception as e:
        reasons.append(f"judge error {type(e).__name__}: {str(e)[:200]}")
    j.report("FAIL" if reasons else "PASS", f"combine {tag}", reasons)


def day(name: str) -> np.datetime64:
    stem = os.path.basename(name).split("_")[-1].split(".")[0]
    return np.datetime64(f"{stem[:4]}-{stem[4:6]}-{stem[6:8]}", "ns")


def check_names(j: Judge):
    d = os.path.join(j.tmp, "names")
    os.makedirs(d, exist_ok=True)
    dates = ["20000101", "20000102", "20000105", "20000106"]
    files = [os.path.join(d, f"tas_{x}.nc") for x in dates]
    for t, f in enumerate(files):
        write_map(f, t)
    ref = xr.open_mfdataset(files, combine="nested", concat_dim="time", data_vars="minimal",
                            coords="minimal", compat="override",
                            preprocess=lambda ds: ds.expand_dims(time=[day(ds.encoding["source"])])).load()
    judge_both(j, "names", [os.path.join(d, "tas_*.nc")], ["--coord-from-name", "tas_{time:%Y%m%d}.nc"], ref)
    return d, files


def check_attribute(j: Judge):
    d = os.path.join(j.tmp, "attribute")
    os.makedirs(d, exist_ok=True)
    stamps = ["2000-01-01T00:00:00Z", "2000-01-01T06:00:00Z", "2000-01-01T12:00:00Z"]
    files = [os.path.join(d, f"map_{i}.nc") for i in range(len(stamps))]
    for t, (f, st) in enumerate(zip(files, stamps)):
        write_map(f, t, attrs={"valid_at": st})
    ref = xr.concat([xr.open_dataset(f).expand_dims(time=[np.datetime64(st.rstrip("Z"), "ns")])
                     for f, st in zip(files, stamps)], dim="time", data_vars="minimal",
                    coords="minimal", compat="override").load()
    ref.attrs = {}
    judge_both(j, "attribute", files, ["--coord-from-attr", "time=valid_at"], ref)


def check_geotiff(j: Judge):
    try:
        import rasterio
        from rasterio.transform import from_origin
    except ImportError:
        j.report("SKIP", "combine geotiff names", ["rasterio is not installed"])
        return
    d = os.path.join(j.tmp, "tiff")
    os.makedirs(d, exist_ok=True)
    dates = ["2001-03-01", "2001-03-11", "2001-03-21"]
    files = []
    rng = np.random.default_rng(3)
    for x in dates:
        f = os.path.join(d, f"ndvi_{x}.tif")
        data = rng.uniform(-1, 1, (1, 16, 24)).astype("float32")
        with rasterio.open(f, "w", driver="GTiff", width=24, height=16, count=1, dtype="float32",
                           crs="EPSG:4326", transform=from_origin(5.0, 47.0, 0.25, 0.25),
                           tiled=True, blockxsize=16, blockysize=16, compress="deflate") as w:
            w.write(data)
        files.append(f)
    # rioxarray's view of each file, built with rasterio: band_data(band, y, x).
    parts = []
    for f, x in zip(files, dates):
        with rasterio.open(f) as r:
            a = r.read()
            t = r.transform
            ys = t.f + t.e * (np.arange(r.height) + 0.5)
            xs = t.c + t.a * (np.arange(r.width) + 0.5)
        # One band: band_data(y, x) (arco's model: rioxarray's with the
        # band squeezed).
        ds = xr.Dataset({"band_data": (("y", "x"), a[0])}, coords={"y": ys, "x": xs})
        parts.append(ds.expand_dims(time=[np.datetime64(x, "ns")]))
    ref = xr.concat(parts, dim="time")
    judge_both(j, "geotiff names", [os.path.join(d, "ndvi_*.tif")],
               ["--coord-from-name", "ndvi_{time:%Y-%m-%d}.tif"], ref)


def check_split(j: Judge):
    d = os.path.join(j.tmp, "split")
    os.makedirs(d, exist_ok=True)
    files = [os.path.join(d, f"tas_{i:03d}.nc") for i in range(4)]
    for i, f in enumerate(files):
        write_part(f, 3 * i, 3 * i + 3, pr_scale=0.01 if i < 2 else 0.02)
    pattern = os.path.join(d, "tas_*.nc")
    dest = os.path.join(j.tmp, "split-refused.zarr")
    rc, so, se = j.run("convert", pattern, dest)
    reasons = []
    if rc != 1 or "tas_002.nc" not in se or "--split-mismatched" not in se:
        reasons.append(f"without --split-mismatched: exit {rc}: {first_line(se)}")
    j.report("FAIL" if reasons else "PASS", "combine refuses differing scale_factor, naming the file", reasons)

    def group(fs):
        return xr.open_mfdataset(fs, combine="nested", concat_dim="time", data_vars="minimal",
                                 coords="minimal", compat="override", decode_timedelta=False).load()

    first, second = group(files[:2]), group(files[2:])

    def second_matches(got):
        out = compare_combined(second.drop_vars(["lat", "lon"]), got,
                               {"time": "time_1", "tas": "tas_1", "pr": "pr_1"})
        recorded = got["pr_1"].attrs.get("arco:concat_files")
        if recorded is None or [os.path.basename(x) for x in recorded] != ["tas_002.nc", "tas_003.nc"]:
            out.append(f"pr_1 arco:concat_files is {recorded}")
        if got["pr_1"].encoding.get("scale_factor") != np.float32(0.02):
            out.append(f"pr_1 scale_factor {got['pr_1'].encoding.get('scale_factor')}")
        return out

    judge_both(j, "split", [pattern], ["--split-mismatched"], first, extra=second_matches)


def check_combine_refusals(j: Judge, names_dir: str, files: list[str]):
    cases = []
    # A new dimension without a coordinate source.
    cases.append(("a new dimension without a coordinate", [os.path.join(names_dir, "tas_*.nc"), "--concat-dim", "time"],
                  ["tas_20000101.nc", "--coord-from-name", "--coord-from-attr"]))
    # Names out of order (given explicitly).
    cases.append(("names out of order", [files[1], files[0], "--coord-from-name", "tas_{time:%Y%m%d}.nc"],
                  ["tas_20000101.nc", "tas_20000102.nc", "order"]))
    # A name that disagrees with the file's own time.
    d = os.path.join(j.tmp, "disagree")
    os.makedirs(d, exist_ok=True)
    own = [os.path.join(d, f"tas_2000010{i + 1}.nc") for i in range(3)]
    for i, f in enumerate(own):
        write_map(f, i, time_value=float(i if i < 2 else 7))
    cases.append(("a name that disagrees with the file's time", [os.path.join(d, "tas_*.nc"), "--coord-from-name",
                  "tas_{time:%Y%m%d}.nc"], ["tas_20000103.nc", "2000-01-08"]))
    for tag, args, needles in cases:
        for cmd in ("convert", "virtualize"):
            dest = os.path.join(j.tmp, "refused." + ("zarr" if cmd == "convert" else "json"))
            shutil.rmtree(dest, ignore_errors=True)
            if os.path.exists(dest):
                os.remove(dest)
            srcs = [a for a in args if not a.startswith("--") and (a.endswith(".nc") or "*" in a) and "{" not in a]
            opts = [a for a in args if a not in srcs]
            rc, so, se = j.run(cmd, *srcs, dest, *opts)
            reasons = []
            if rc != 1:
                reasons.append(f"exit {rc} (want 1): {first_line(se)}")
            else:
                missing = [n for n in needles if n not in se]
                if missing:
                    reasons.append(f"the message does not name {missing}: {first_line(se)}")
            if os.path.exists(dest):
                reasons.append("the destination exists after a refusal")
            j.report("FAIL" if reasons else "PASS", f"combine {cmd} refuses {tag}", reasons)


def main() -> int:
    ap = argparse.ArgumentParser(description="arco convert multi-file checks (see the module docstring)")
    ap.add_argument("--arco", default=os.path.join(REPO, "target/debug/arco"))
    ap.add_argument("--timeout", type=int, default=120)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    arco = find_arco(args.arco, "interop-concat")
    if arco is None:
        print("interop-concat: 0 passed, 1 failed, 0 skipped")
        return 1
    j = Judge(arco, args.verbose, args.timeout)
    d = os.path.join(j.tmp, "ok")
    files = write_set(d, "ok")
    assert sorted(glob.glob(os.path.join(d, "tas_*.nc"))) == files
    check_ok(j, d, files, with_dim=True)
    check_ok(j, d, files, with_dim=False)
    for k, (case, names, what) in enumerate(REFUSALS):
        cd = os.path.join(j.tmp, f"refusal{k}")
        write_set(cd, case)
        check_refusal(j, cd, case, names, what)
    names_dir, name_files = check_names(j)
    check_attribute(j)
    check_geotiff(j)
    check_split(j)
    check_combine_refusals(j, names_dir, name_files)
    if args.keep:
        print(f"files kept in {j.tmp}")
    else:
        shutil.rmtree(j.tmp, ignore_errors=True)
    print(f"interop-concat: {j.passed} passed, {j.failed} failed, {j.skipped} skipped")
    return 1 if j.failed else 0


if __name__ == "__main__":
    sys.exit(main())
