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
    if args.keep:
        print(f"files kept in {j.tmp}")
    else:
        shutil.rmtree(j.tmp, ignore_errors=True)
    print(f"interop-concat: {j.passed} passed, {j.failed} failed, {j.skipped} skipped")
    return 1 if j.failed else 0


if __name__ == "__main__":
    sys.exit(main())
