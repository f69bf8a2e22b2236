#!/usr/bin/env python3
"""interop_pyramid.py — the judge of ``arco convert --pyramid``: overview
levels read by xarray and compared with xarray's own ``coarsen``.

For each case below (real files under tests/data/real: ERA5 on a
latitude/longitude grid, a GOES geostationary product with packed unsigned
integers and quality flags, a Lambert conformal grid with odd sizes, a
Cloud-Optimized GeoTIFF; nearest resampling; Zarr v2) it runs
``arco convert FILE OUT.zarr --pyramid ...`` and checks:

* ``[root]`` ``xarray.open_zarr(OUT)`` is the source: every variable and
  coordinate of ``xarray.open_dataset(FILE)`` (``engine="rasterio"`` for the
  TIFF, its single band squeezed as arco models it) with the same dims and
  values (NaN == NaN; the TIFF's pixel-centre coordinates to 1e-12, as
  scripts/interop_tiff.py compares them). A packed variable with a float32 ``scale_factor``
  decodes to float64 from Zarr (attributes are JSON): compared to float32
  precision, as scripts/interop_convert.py does;
* ``[multiscales]`` the root group's metadata validates against the
  convention's JSON schema (vendored: tests/data/schemas/), the layout lists
  exactly the level groups ``1..N``, each derived from the one before with
  scale ``[2, 2]``, and ``--pyramid-levels`` (or the default stopping rule:
  stop before a level under 256 cells along both horizontal dimensions) gave
  the expected number of levels;
* ``[level k]`` ``xarray.open_zarr(OUT, group="k")`` opens as a dataset whose
  horizontal dimensions are ``ceil(n / 2**k)`` long, holding every source
  data variable on the grid, and whose values equal the expected level,
  computed by xarray from the source level by level
  (``E_k = E_{k-1}.coarsen({y: 2, x: 2}, boundary="pad").mean()``, which
  skips NaN and averages what lies inside the array at odd edges):
    - float variables and horizontal coordinates: within float rounding
      (arco averages in float64 and rounds once per level; xarray averages in
      the data's own precision): ``|level - E_k| <= rtol * |E_k| + atol``
      with rtol 2e-6 (float32) or 1e-12 (float64), atol the same times the
      largest ``|E_k|``; missing exactly where E_k is missing;
    - packed integers (arco re-packs into the stored type, rounding half to
      even): the stored values exactly equal xarray's coarsen of the stored
      values (masked, ``_Unsigned`` applied), rounded half to even; and the
      decoded values within k/2 quanta of the unrounded E_k;
    - categorical variables (``flag_values``/``flag_meanings``), times, and
      every data variable with ``--pyramid-resampling nearest``: exactly the
      top-left value, ``E_{k-1}.isel({y: slice(None, None, 2), ...})``;
    - variables without horizontal dimensions: exactly the source's;
* ``[verify]`` ``arco verify FILE OUT.zarr`` exits 0; once, with one value of
  level 1 altered through zarr-python, it exits 1 naming the level array and
  the index (``[verify catches]``).

Output: one PASS / FAIL / SKIP line per check, then

    interop-pyramid: N passed, M failed, K skipped

Exit code 1 if anything failed.

    .peers-venv/bin/python scripts/interop_pyramid.py [--arco target/debug/arco] [--only NAME] [-v] [--keep]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from interop_common import REPO, Judge, find_arco, first_line, short  # noqa: E402
import jsonschema  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402
import zarr  # noqa: E402

warnings.simplefilter("ignore")

SCHEMA = os.path.join(REPO, "tests/data/schemas/zarr-conventions-multiscales-v1.schema.json")
REAL = os.path.join(REPO, "tests/data/real")

CASES = [
    {
        "name": "era5",
        "file": "netcdf4/era5-levels-members.nc",
        "args": ["--pyramid-levels", "2"],
        "hdims": ("latitude", "longitude"),
        "levels": 2,
    },
    {
        "name": "goes-cloud-top-height",
        "file": "netcdf4/20171025_2056.Cloud_Top_Height.nc",
        "args": ["--pyramid-levels", "2"],
        "hdims": ("y", "x"),
        "levels": 2,
    },
    {
        # Its precipitation is zero everywhere: this case checks shapes and
        # coordinates at odd edges over three levels (values are checked by
        # the other files).
        "name": "lcc-odd-edges",
        "file": "netcdf4/lcc_km.nc",
        "args": ["--pyramid-levels", "3"],
        "hdims": ("y", "x"),
        "levels": 3,
        "alter": "prcp",
    },
    {
        "name": "lcc-default-rule",
        "file": "netcdf4/lcc_km.nc",
        "args": [],
        "hdims": ("y", "x"),
        "levels": 1,  # 310 x 285, then 155 x 143 would be under 256 both ways
    },
    {
        "name": "cog-nearest",
        "file": "geotiff/co_elevation_roi.tif",
        "args": ["--pyramid-levels", "2", "--pyramid-resampling", "nearest"],
        "hdims": ("y", "x"),
        "levels": 2,
        "nearest": True,
        "tiff": True,
    },
    {
        "name": "cog",
        "file": "geotiff/co_elevation_roi.tif",
        "args": [],
        "hdims": ("y", "x"),
        "levels": 1,  # 1007 x 633 -> 504 x 317; 252 x 159 would be under 256
        "tiff": True,
    },
    {
        "name": "era5-zarr-v2",
        "file": "netcdf4/era5-levels-members.nc",
        "args": ["--pyramid-levels", "1", "--zarr-format", "2"],
        "hdims": ("latitude", "longitude"),
        "levels": 1,
        "v2": True,
    },
]


# ------------------------------------------------------------------ helpers


def source_dataset(case: dict, **kw) -> xr.Dataset:
    path = os.path.join(REAL, case["file"])
    if case.get("tiff"):
        ds = xr.open_dataset(path, engine="rasterio", **kw)
        if ds.sizes.get("band") == 1:
            ds = ds.squeeze("band", drop=True)
        return ds
    return xr.open_dataset(path, decode_timedelta=False, **kw)


def same(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape:
        return False
    if a.dtype.kind in "fc" or b.dtype.kind in "fc":
        a64, b64 = a.astype("float64"), b.astype("float64")
        return bool(np.array_equal(a64, b64, equal_nan=True))
    if a.dtype.kind == "M" or b.dtype.kind == "M":
        return bool(np.array_equal(a.astype("datetime64[ns]"), b.astype("datetime64[ns]"), equal_nan=True))
    return bool(np.array_equal(a, b))


def first_difference(a: np.ndarray, b: np.ndarray) -> str:
    try:
        a64, b64 = a.astype("float64"), b.astype("float64")
        bad = ~((a64 == b64) | (np.isnan(a64) & np.isnan(b64)))
    except (TypeError, ValueError):
        bad = a != b
    idx = np.argwhere(bad)
    if len(idx) == 0:
        return "shapes or types differ"
    i = tuple(int(x) for x in idx[0])
    return f"{int(bad.sum())} differ, first at {list(i)}: expected {a[i]!r}, got {b[i]!r}"


def close(expected: np.ndarray, got: np.ndarray, rtol: float) -> tuple[bool, str]:
    e = expected.astype("float64")
    g = got.astype("float64")
    if e.shape != g.shape:
        return False, f"shape {g.shape}, expected {e.shape}"
    if not np.array_equal(np.isnan(e), np.isnan(g)):
        diff = np.argwhere(np.isnan(e) != np.isnan(g))[0]
        i = tuple(int(x) for x in diff)
        return False, f"missing values differ, first at {list(i)}: expected {e[i]}, got {g[i]}"
    finite = ~np.isnan(e)
    if not finite.any():
        return True, ""
    atol = rtol * float(np.max(np.abs(e[finite])))
    err = np.abs(e - g)
    bad = finite & (err > atol + rtol * np.abs(e))
    if bad.any():
        i = tuple(int(x) for x in np.argwhere(bad)[0])
        return False, (f"{int(bad.sum())} beyond float rounding, first at {list(i)}: "
                       f"expected {e[i]!r}, got {g[i]!r}")
    return True, ""


def rtol_of(dtype) -> float:
    return 2e-6 if np.dtype(dtype) == np.float32 else 1e-12


def coarsen_mean(da: xr.DataArray, hdims) -> xr.DataArray:
    dims = {d: 2 for d in hdims if d in da.dims}
    if not dims:
        return da
    return da.coarsen(dims, boundary="pad").mean()


def every_other(da: xr.DataArray, hdims) -> xr.DataArray:
    return da.isel({d: slice(None, None, 2) for d in hdims if d in da.dims})


def is_categorical(da: xr.DataArray) -> bool:
    return any(a in da.attrs for a in ("flag_values", "flag_masks", "flag_meanings"))


def stored_numbers(raw: np.ndarray, attrs: dict) -> np.ndarray:
    """Stored integers as float64, ``_Unsigned`` applied, fill values NaN."""
    x = raw
    if str(attrs.get("_Unsigned", "")).lower() == "true" and x.dtype.kind == "i":
        x = x.view(x.dtype.str.replace("i", "u"))
    fills = []
    for k in ("_FillValue", "missing_value"):
        v = attrs.get(k)
        if v is not None:
            fills.extend(np.atleast_1d(np.asarray(v).astype(raw.dtype).view(x.dtype)).tolist())
    out = x.astype("float64")
    for f in fills:
        out[x == f] = np.nan
    return out


def packed_info(src_raw: xr.Dataset, name: str):
    """(scale, offset, raw attrs) of a packed integer variable, else None."""
    if name not in src_raw.variables:
        return None
    v = src_raw[name]
    if v.dtype.kind not in "iu" or not ("scale_factor" in v.attrs or "add_offset" in v.attrs):
        return None
    return (float(np.asarray(v.attrs.get("scale_factor", 1.0))),
            float(np.asarray(v.attrs.get("add_offset", 0.0))), dict(v.attrs))


# ------------------------------------------------------------------ checks


def check_root(j: Judge, case: dict, out: str):
    what = f"[root] {case['name']}: xarray.open_zarr(OUT) is the source"
    try:
        src = source_dataset(case)
        got = xr.open_zarr(out)
    except Exception as e:  # noqa: BLE001
        j.report("FAIL", what, [f"cannot open: {short(e)}"])
        return
    reasons = []
    for name in list(src.variables):
        if name not in got.variables:
            reasons.append(f"{name} missing")
            continue
        a, b = src[name], got[name]
        if a.dims != b.dims:
            reasons.append(f"{name}: dims {b.dims}, expected {a.dims}")
            continue
        av, bv = a.values, b.values
        if same(av, bv):
            continue
        if case.get("tiff") and name in ("x", "y") and av.dtype == bv.dtype == np.float64:
            # Pixel centres computed from the geotransform: arco and
            # rioxarray may differ in the last bit (scripts/interop_tiff.py
            # accepts 1e-12 too).
            ok, why = close(av, bv, 1e-12)
            if ok:
                continue
            reasons.append(f"{name}: {why}")
            continue
        if av.dtype == np.float32 and bv.dtype == np.float64:
            ok, why = close(av, bv, 1e-6)
            if ok:
                if j.verbose:
                    print(f"NOTE {case['name']}: {name} float32 in the source, float64 from Zarr (packed, JSON attributes)")
                continue
            reasons.append(f"{name}: {why}")
            continue
        reasons.append(f"{name}: {first_difference(av, bv)}")
    for name in got.data_vars:
        if name not in src.variables:
            reasons.append(f"{name} only in the output")
    j.report("FAIL" if reasons else "PASS", what, reasons)


def root_document(out: str, v2: bool) -> dict:
    if v2:
        with open(os.path.join(out, ".zattrs")) as f:
            attrs = json.load(f)
        return {"zarr_format": 2, "node_type": "group", "attributes": attrs}
    with open(os.path.join(out, "zarr.json")) as f:
        doc = json.load(f)
    doc.pop("consolidated_metadata", None)
    return doc


def check_multiscales(j: Judge, case: dict, out: str) -> list[str]:
    what = f"[multiscales] {case['name']}: the root declares {case['levels']} level(s) per the convention's schema"
    try:
        doc = root_document(out, case.get("v2", False))
        with open(SCHEMA) as f:
            schema = json.load(f)
    except Exception as e:  # noqa: BLE001
        j.report("FAIL", what, [f"cannot read: {short(e)}"])
        return []
    reasons = []
    validator = jsonschema.Draft7Validator(schema)
    for err in sorted(validator.iter_errors(doc), key=lambda e: list(e.path)):
        reasons.append(f"schema: {'/'.join(str(p) for p in err.path)}: {err.message}")
    layout = doc.get("attributes", {}).get("multiscales", {}).get("layout", [])
    names = [e.get("asset") for e in layout]
    want = [str(k) for k in range(1, case["levels"] + 1)]
    if names != want:
        reasons.append(f"layout assets {names}, expected {want}")
    for i, e in enumerate(layout):
        if e.get("transform", {}).get("scale") != [2.0, 2.0]:
            reasons.append(f"{e.get('asset')}: scale {e.get('transform', {}).get('scale')}, expected [2.0, 2.0]")
        if i > 0 and e.get("derived_from") != layout[i - 1].get("asset"):
            reasons.append(f"{e.get('asset')}: derived_from {e.get('derived_from')!r}")
        if not os.path.isdir(os.path.join(out, str(e.get("asset")))):
            reasons.append(f"level group {e.get('asset')} is not in the store")
    extra = sorted(n for n in os.listdir(out) if n.isdigit() and n not in want)
    if extra:
        reasons.append(f"groups {extra} not in the layout")
    j.report("FAIL" if reasons else "PASS", what, reasons)
    return names


def check_levels(j: Judge, case: dict, out: str, levels: list[str]):
    hdims = case["hdims"]
    nearest = case.get("nearest", False)
    try:
        src = source_dataset(case)
        src_raw = source_dataset(case, mask_and_scale=False) if not case.get("tiff") else src
    except Exception as e:  # noqa: BLE001
        j.report("FAIL", f"[level] {case['name']}: cannot open the source", [short(e)])
        return
    on_grid = [n for n, v in src.data_vars.items() if all(d in v.dims for d in hdims)]
    # Expected decoded values (xarray's coarsen chain) and, for packed
    # variables, expected stored values.
    prev = {n: xr.DataArray(src[n].variable.to_base_variable()) for n in src.variables}
    prev_raw = {}
    for n in src.variables:
        p = packed_info(src_raw, n)
        if p is not None:
            raw = src_raw[n].variable.to_base_variable()
            prev_raw[n] = xr.DataArray(raw.copy(data=stored_numbers(raw.values, p[2])))
    for k in range(1, len(levels) + 1):
        what = f"[level {k}] {case['name']}: open_zarr(OUT, group='{k}') == coarsen of the source"
        try:
            lev = xr.open_zarr(out, group=str(k))
            lev_raw = xr.open_zarr(out, group=str(k), mask_and_scale=False)
        except Exception as e:  # noqa: BLE001
            j.report("FAIL", what, [f"cannot open: {short(e)}"])
            continue
        reasons = []
        for d in hdims:
            want = math.ceil(src.sizes[d] / 2 ** k)
            if lev.sizes.get(d) != want:
                reasons.append(f"dimension {d}: {lev.sizes.get(d)}, expected {want}")
        for n in on_grid:
            if n not in lev.data_vars:
                reasons.append(f"{n} missing")
        compared = 0
        for n in list(lev.variables):
            if n not in src.variables:
                reasons.append(f"{n}: not in the source")
                continue
            got = lev[n]
            base = src[n]
            exp_prev = prev[n]
            horizontal = [d for d in base.dims if d in hdims]
            if not horizontal:
                if not same(base.values, got.values):
                    reasons.append(f"{n} (copied): {first_difference(base.values, got.values)}")
                compared += 1
                continue
            is_coord = n in hdims
            time_like = base.dtype.kind in "mM"
            packed = packed_info(src_raw, n)
            if not is_coord and (nearest or is_categorical(base) or time_like):
                expected = every_other(exp_prev, hdims)
                if not same(expected.values, got.values):
                    reasons.append(f"{n} (nearest): {first_difference(expected.values, got.values)}")
                prev[n] = expected
                if n in prev_raw:
                    prev_raw[n] = every_other(prev_raw[n], hdims)
                compared += 1
                continue
            expected = coarsen_mean(exp_prev, hdims)
            if packed is not None and not is_coord:
                scale, offset, attrs = packed
                want_raw = np.round(coarsen_mean(prev_raw[n], hdims).values)
                got_raw = stored_numbers(lev_raw[n].values, attrs)
                if not same(want_raw, got_raw):
                    reasons.append(f"{n} (stored, packed): {first_difference(want_raw, got_raw)}")
                prev_raw[n] = coarsen_mean(prev_raw[n], hdims).copy(data=want_raw)
                e = expected.values.astype("float64")
                g = got.values.astype("float64")
                tol = k * abs(scale) / 2 * (1 + 1e-6) + 1e-6 * np.nanmax(np.abs(e), initial=0.0)
                if not np.array_equal(np.isnan(e), np.isnan(g)):
                    reasons.append(f"{n} (decoded): missing values differ")
                elif np.nanmax(np.abs(e - g), initial=0.0) > tol:
                    reasons.append(f"{n} (decoded): off by {np.nanmax(np.abs(e - g))}, more than {k}/2 quanta ({tol})")
            else:
                ok, why = close(expected.values, got.values, rtol_of(base.dtype if base.dtype.kind == "f" else np.float64))
                if not ok:
                    reasons.append(f"{n}: {why}")
            prev[n] = expected
            compared += 1
        if compared == 0:
            reasons.append("nothing compared")
        j.report("FAIL" if reasons else "PASS", f"{what} ({compared} variables)", reasons)


def check_verify(j: Judge, case: dict, out: str):
    what = f"[verify] {case['name']}: arco verify FILE OUT exits 0"
    code, stdout, stderr = j.run("verify", os.path.join(REAL, case["file"]), out)
    lines = [ln for ln in stdout.splitlines() if ln.startswith("overview level")]
    if code != 0:
        j.report("FAIL", what, [f"exit {code}", first_line(stdout + stderr)])
    elif len(lines) != case["levels"]:
        j.report("FAIL", what, [f"{len(lines)} overview level lines, expected {case['levels']}"])
    else:
        j.report("PASS", what)
    var = case.get("alter")
    if not var:
        return
    what = f"[verify catches] {case['name']}: an altered value of /1/{var} makes verify exit 1 naming it"
    try:
        g = zarr.open_group(out, mode="r+")
        a = g[f"1/{var}"]
        idx = tuple(s // 2 for s in a.shape)
        a[idx] = np.asarray(a[idx]) + 1000
    except Exception as e:  # noqa: BLE001
        j.report("FAIL", what, [f"cannot alter: {short(e)}"])
        return
    code, stdout, stderr = j.run("verify", os.path.join(REAL, case["file"]), out)
    name = f"/1/{var}[{', '.join(str(i) for i in idx)}]"
    if code == 1 and name in stdout:
        j.report("PASS", what)
    else:
        j.report("FAIL", what, [f"exit {code}", f"{name} not named: {short(stdout + stderr, 300)}"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arco", default="target/debug/arco")
    ap.add_argument("--only", help="only cases whose name contains this")
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("--keep", action="store_true", help="keep the outputs (their folder is printed)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    arco = find_arco(args.arco, "interop-pyramid")
    if arco is None:
        return 2
    j = Judge(arco, args.verbose, args.timeout)
    for case in CASES:
        if args.only and args.only not in case["name"]:
            continue
        src = os.path.join(REAL, case["file"])
        if not os.path.isfile(src):
            j.report("SKIP", f"{case['name']}: {case['file']} is not there")
            continue
        out = os.path.join(j.tmp, case["name"] + ".zarr")
        code, stdout, stderr = j.run("convert", src, out, "--pyramid", *case["args"])
        what = f"[convert] {case['name']}: arco convert {case['file']} --pyramid {' '.join(case['args'])}"
        if code != 0:
            j.report("FAIL", what, [f"exit {code}", first_line(stderr)])
            continue
        j.report("PASS", what)
        check_root(j, case, out)
        levels = check_multiscales(j, case, out)
        check_levels(j, case, out, levels)
        check_verify(j, case, out)
    if args.keep:
        print(f"outputs kept in {j.tmp}")
    else:
        shutil.rmtree(j.tmp, ignore_errors=True)
    print(f"interop-pyramid: {j.passed} passed, {j.failed} failed, {j.skipped} skipped")
    return 1 if j.failed else 0


if __name__ == "__main__":
    sys.exit(main())
