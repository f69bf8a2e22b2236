#!/usr/bin/env python3
"""interop_serve.py — the values judge of `arco serve`'s data endpoints.

Starts ``arco serve DIR --addr 127.0.0.1:0 --json`` on a temporary folder
holding copies of real files (a global longitude/latitude grid with times,
levels and members; a Lambert conformal grid in km; a rotated-pole grid) and
compares what the server answers with xarray on the same files, element by
element:

* ``/timeseries`` at random points, nearest (``da.sel(lat=.., lon=..,
  method="nearest")``, the longitude first wrapped into the grid's range so
  that the nearest cell is taken around the circle) and bilinear
  (``da.interp(lat=.., lon=..)``), with random ``sel`` of the other
  dimensions and random ``datetime`` intervals; the time labels against
  xarray's decoded times;
* ``/timeseries`` over random boxes and triangles: mean, min, max and count
  against ``da.where(mask).mean(dim=[y, x])`` (``.min``, ``.max``,
  ``.count``), the mask being the cells whose centres lie inside (computed
  here with numpy; projected grids through pyproj);
* EDR ``/position`` (POINT and MULTIPOINT) against the nearest cell, and
  ``/area`` and ``/cube`` (CoverageJSON grids) against the masked window;
  the grid's x/y axes against the file's coordinates.

Projected grids are located with pyproj (``CRS.from_cf`` of the grid
mapping). Float32 data are compared at float32 precision (exactly for
nearest values, to 2e-6 relative for blends and means), float64 data to
1e-12; NaN must meet ``null``.

Output: one PASS / FAIL line per check, then a summary; exit status 1 on
any failure.

Usage (from the repository root, with the peers venv):

    .peers-venv/bin/python scripts/interop_serve.py --arco target/debug/arco [--seed N] [-v]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
from pathlib import Path

import numpy as np
import pyproj
import xarray as xr

warnings.filterwarnings("ignore")

REPO = Path(__file__).resolve().parent.parent
REAL = REPO / "tests" / "data" / "real"

counts = {"pass": 0, "fail": 0}
VERBOSE = False


def report(ok, what, detail=""):
    counts["pass" if ok else "fail"] += 1
    if ok and not VERBOSE:
        print(f"PASS {what}", flush=True)
    else:
        print(f"{'PASS' if ok else 'FAIL'} {what}{(': ' + detail) if detail else ''}", flush=True)


def start(arco, folder):
    p = subprocess.Popen(
        [arco, "serve", str(folder), "--addr", "127.0.0.1:0", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = p.stdout.readline()
    if not line:
        raise SystemExit(f"arco serve did not start: {p.stderr.read()}")
    return p, json.loads(line)["url"].rstrip("/")


def get(base, path, params):
    url = f"{base}{path}?{urllib.parse.urlencode(params, doseq=True)}"
    try:
        with urllib.request.urlopen(url, timeout=120) as r:
            return r.status, r.read(), url
    except urllib.error.HTTPError as e:
        return e.code, e.read(), url


def get_json(base, path, params):
    status, body, url = get(base, path, params)
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    return status, doc, url


def arr(values):
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def compare(got, want, dtype, exact):
    """(ok, detail) of two float arrays (flattened); NaN must meet NaN."""
    got = np.asarray(got, dtype=np.float64).ravel()
    want = np.asarray(want, dtype=np.float64).ravel()
    if got.shape != want.shape:
        return False, f"{got.size} values, expected {want.size}"
    gn, wn = np.isnan(got), np.isnan(want)
    if not np.array_equal(gn, wn):
        k = int(np.argwhere(gn != wn)[0][0])
        return False, f"missing values differ first at {k}: got {got[k]!r}, expected {want[k]!r}"
    g, w = got[~gn], want[~wn]
    if dtype == np.float32:
        if exact:
            bad = g.astype(np.float32) != w.astype(np.float32)
        else:
            bad = ~np.isclose(g, w, rtol=2e-6, atol=0)
    else:
        bad = ~np.isclose(g, w, rtol=1e-12, atol=0)
    if bad.any():
        k = int(np.argwhere(bad)[0][0])
        return False, f"{int(bad.sum())} of {bad.size} differ; first: {g[k]!r} vs {w[k]!r}"
    return True, f"{g.size} values ({int(gn.sum())} missing)"


def iso(times):
    return [str(t) + "Z" for t in np.datetime_as_string(np.asarray(times), unit="s")]


def in_polygon(rings, x, y):
    """Even-odd rule over every ring (holes included), numpy arrays x, y."""
    inside = np.zeros(np.shape(x), dtype=bool)
    for ring in rings:
        n = len(ring)
        for i in range(n):
            xi, yi = ring[i]
            xj, yj = ring[i - 1]
            cross = (yi > y) != (yj > y)
            with np.errstate(divide="ignore", invalid="ignore"):
                xint = (xj - xi) * (y - yi) / (yj - yi) + xi
            inside ^= cross & (x < xint)
    return inside


class Grid:
    """A variable's grid as the judge sees it: names, and where cells are."""

    def __init__(self, ds, spec):
        self.ds = ds
        self.x, self.y = spec["x"], spec["y"]
        self.unit = spec.get("unit", 1.0)
        self.crs = None
        if spec.get("grid_mapping"):
            self.crs = pyproj.CRS.from_cf(ds[spec["grid_mapping"]].attrs)
            self.fwd = pyproj.Transformer.from_crs("EPSG:4326", self.crs, always_xy=True)
            self.inv = pyproj.Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)
        xs = ds[self.x].values.astype(np.float64)
        ys = ds[self.y].values.astype(np.float64)
        self.xs, self.ys = xs, ys
        dx = abs(xs[1] - xs[0])
        self.lon0 = xs.min() - dx / 2  # the west edge longitudes are wrapped from

    def to_grid(self, lon, lat):
        if self.crs is None:
            return self.lon0 + (lon - self.lon0) % 360.0, lat
        x, y = self.fwd.transform(lon, lat)
        return x / self.unit, y / self.unit

    def cell_lonlat(self):
        """(lon, lat) of every cell centre, shaped (y, x)."""
        X, Y = np.meshgrid(self.xs, self.ys)
        if self.crs is None:
            return X, Y
        lon, lat = self.inv.transform(X * self.unit, Y * self.unit)
        return np.asarray(lon), np.asarray(lat)

    def mask(self, inside):
        """Cells whose centres satisfy inside(lon, lat) (geographic: ±360 too)."""
        lon, lat = self.cell_lonlat()
        m = inside(lon, lat)
        if self.crs is None:
            m = m | inside(lon - 360.0, lat) | inside(lon + 360.0, lat)
        return xr.DataArray(m, dims=(self.y, self.x), coords={self.y: self.ds[self.y], self.x: self.ds[self.x]})

    def random_point(self, rng):
        """A longitude/latitude inside the grid, not near a tie between two cells."""
        while True:
            fx = rng.uniform(0.6, len(self.xs) - 1.6)
            fy = rng.uniform(0.6, len(self.ys) - 1.6)
            if abs(fx - round(fx) - 0.5) < 0.02 or abs(fy - round(fy) - 0.5) < 0.02:
                continue
            i, j = int(fx), int(fy)
            x = self.xs[i] + (fx - i) * (self.xs[i + 1] - self.xs[i])
            y = self.ys[j] + (fy - j) * (self.ys[j + 1] - self.ys[j])
            if self.crs is None:
                # Either longitude convention: the grid's, or shifted a turn west.
                return float(x if rng.random() < 0.5 else x - 360.0), float(y)
            lon, lat = self.inv.transform(x * self.unit, y * self.unit)
            return float(lon), float(lat)

    def random_box(self, rng, cells=6):
        """A small lon/lat box around a random point, a few cells wide."""
        lon, lat = self.random_point(rng)
        if self.crs is None:
            dx = abs(self.xs[1] - self.xs[0]) * rng.uniform(1.2, cells)
            dy = abs(self.ys[1] - self.ys[0]) * rng.uniform(1.2, cells)
        else:
            # A few cells of a projected grid, in degrees near the point.
            x, y = self.to_grid(lon, lat)
            step = abs(self.xs[1] - self.xs[0]) * rng.uniform(1.2, cells)
            l2, b2 = self.inv.transform((x + step) * self.unit, (y + step) * self.unit)
            dx, dy = abs(l2 - lon), abs(b2 - lat)
        w, e = lon - dx / 2, lon + dx / 2
        s, n = max(lat - dy / 2, -89.9), min(lat + dy / 2, 89.9)
        return [round(float(v), 6) for v in (w, s, e, n)]


SPECS = [
    {
        "file": "netcdf4/era5-levels-members.nc",
        "id": "era5-levels-members",
        "vars": ["t", "z"],
        "x": "longitude",
        "y": "latitude",
        "time": "time",
        "z": "isobaricInhPa",
        "others": ["number"],
    },
    {
        "file": "netcdf4/lcc_km.nc",
        "id": "lcc_km",
        "vars": ["prcp"],
        "x": "x",
        "y": "y",
        "unit": 1000.0,
        "grid_mapping": "lambert_conformal_conic",
        "time": "time",
        "z": None,
        "others": [],
    },
    {
        "file": "netcdf4/cordex.nc",
        "id": "cordex",
        "vars": ["sfcWind"],
        "x": "rlon",
        "y": "rlat",
        "grid_mapping": "rotated_latitude_longitude",
        "time": "time",
        "z": None,
        "others": [],
    },
]


def label(v):
    """A coordinate label as a query value."""
    v = v.item() if hasattr(v, "item") else v
    if isinstance(v, float) and v.is_integer():
        return str(int(v)) if abs(v) < 1e15 else repr(v)
    return str(v)


def check_dataset(base, spec, rng, rounds):
    ds = xr.open_dataset(REAL / spec["file"])
    grid = Grid(ds, spec)
    X, Y, T, Z = spec["x"], spec["y"], spec["time"], spec["z"]
    times = iso(ds[T].values)
    cid = spec["id"]
    for var in spec["vars"]:
        da_all = ds[var]
        dtype = np.float32 if da_all.dtype == np.float32 else np.float64
        for r in range(rounds):
            # The other dimensions at random labels.
            sel, isel_da = [], da_all
            extra = {}
            for d in spec["others"] + ([Z] if Z else []):
                k = rng.randrange(ds.sizes[d])
                isel_da = isel_da.isel({d: k})
                lab = label(ds[d].values[k])
                sel.append(f"{d}={lab}")
                extra[d] = lab
            da = isel_da.transpose(T, Y, X)
            # A random datetime interval (every other round: all times).
            nt = len(times)
            if r % 2 and nt > 1:
                i = rng.randrange(nt)
                j = rng.randrange(i, nt)
                dt = {"datetime": f"{times[i]}/{times[j]}"}
                steps = slice(i, j + 1)
            else:
                dt, steps = {}, slice(0, nt)
            lon, lat = grid.random_point(rng)
            gx, gy = grid.to_grid(lon, lat)
            where = f"{cid}:{var} ({lon:.4f}, {lat:.4f}) {' '.join(sel)} {dt.get('datetime', '')}".rstrip()
            # Nearest.
            want = da.sel({Y: gy, X: gx}, method="nearest").values[steps]
            status, doc, url = get_json(base, f"/collections/{cid}/timeseries", {"variable": var, "lon": lon, "lat": lat, "sel": sel, **dt})
            if status != 200:
                report(False, f"timeseries nearest {where}", f"{status} {doc} ({url})")
            else:
                ok, detail = compare(arr(doc["values"]), want, dtype, exact=True)
                report(ok, f"timeseries nearest {where}", detail)
                report(doc["index"] == times[steps], f"timeseries labels {where}", f"{doc['index']} vs {times[steps]}")
            # Bilinear.
            want = da.interp({Y: gy, X: gx}).values[steps]
            status, doc, url = get_json(
                base, f"/collections/{cid}/timeseries", {"variable": var, "lon": lon, "lat": lat, "method": "bilinear", "sel": sel, **dt}
            )
            if status != 200:
                report(False, f"timeseries bilinear {where}", f"{status} {doc} ({url})")
            else:
                ok, detail = compare(arr(doc["values"]), want, dtype, exact=False)
                report(ok, f"timeseries bilinear {where}", detail)
            # EDR position at the same point.
            params = {"coords": f"POINT({lon} {lat})", "parameter-name": var, **extra, **dt}
            status, doc, url = get_json(base, f"/collections/{cid}/position", params)
            if status != 200:
                report(False, f"position {where}", f"{status} {doc} ({url})")
            else:
                want = da.sel({Y: gy, X: gx}, method="nearest").values[steps]
                ok, detail = compare(arr(doc["ranges"][var]["values"]), want, dtype, exact=True)
                report(ok and doc["domain"]["axes"]["t"]["values"] == times[steps], f"position {where}", detail)
            # Area statistics over a box and a triangle.
            box = grid.random_box(rng)
            w, s, e, n = box
            tri = [[w, s], [e, s], [w + (e - w) * rng.uniform(0.2, 0.8), n], [w, s]]
            for kind, params, inside in [
                ("bbox", {"bbox": ",".join(map(str, box))}, lambda lo, la: (lo >= w) & (lo <= e) & (la >= s) & (la <= n)),
                (
                    "polygon",
                    {"geometry": json.dumps({"type": "Polygon", "coordinates": [tri]})},
                    lambda lo, la: in_polygon([tri], lo, la),
                ),
            ]:
                mask = grid.mask(inside)
                if int(mask.sum()) == 0:
                    continue
                masked = da.where(mask)
                what = f"{cid}:{var} {kind} {box} {' '.join(sel)}"
                for stat in ["mean", "min", "max", "count"]:
                    status, doc, url = get_json(
                        base, f"/collections/{cid}/timeseries", {"variable": var, "stat": stat, "sel": sel, **params, **dt}
                    )
                    if status != 200:
                        report(False, f"timeseries {stat} {what}", f"{status} {doc} ({url})")
                        continue
                    ref = getattr(masked, stat)(dim=[Y, X]).values[steps]
                    ok, detail = compare(arr(doc["values"]), ref, dtype, exact=stat == "count")
                    report(ok, f"timeseries {stat} {what}", detail)
                # EDR area: the masked window as a grid.
                if kind == "polygon":
                    ring = ", ".join(f"{x} {y}" for x, y in tri)
                    q = {"coords": f"POLYGON(({ring}))", "parameter-name": var, **extra, **dt}
                    path = f"/collections/{cid}/area"
                else:
                    q = {"bbox": ",".join(map(str, box)), "parameter-name": var, **extra, **dt}
                    path = f"/collections/{cid}/cube"
                status, doc, url = get_json(base, path, q)
                if status != 200:
                    report(False, f"{path.rsplit('/', 1)[1]} {what}", f"{status} {doc} ({url})")
                    continue
                axes = doc["domain"]["axes"]
                xs = np.array(axes["x"]["values"]) / grid.unit
                ys = np.array(axes["y"]["values"]) / grid.unit
                ix = [int(np.argmin(np.abs(grid.xs - v))) for v in xs]
                iy = [int(np.argmin(np.abs(grid.ys - v))) for v in ys]
                coords_ok, cdetail = compare(xs, grid.xs[ix], np.float32, exact=False)
                coords_ok2, _ = compare(ys, grid.ys[iy], np.float32, exact=False)
                window = masked.isel({Y: iy, X: ix}).values[steps]
                # (t, z of one level, y, x) and (t, y, x) share their order.
                ok, detail = compare(arr(doc["ranges"][var]["values"]), window, dtype, exact=True)
                report(ok and coords_ok and coords_ok2, f"{path.rsplit('/', 1)[1]} {what}", detail if coords_ok else cdetail)
    # MULTIPOINT: one coverage per point.
    var = spec["vars"][0]
    da = ds[var]
    extra = {}
    for d in spec["others"] + ([Z] if Z else []):
        da = da.isel({d: 0})
        extra[d] = label(ds[d].values[0])
    da = da.transpose(T, Y, X)
    pts = [grid.random_point(rng) for _ in range(3)]
    mp = ", ".join(f"({x} {y})" for x, y in pts)
    status, doc, url = get_json(base, f"/collections/{cid}/position", {"coords": f"MULTIPOINT({mp})", "parameter-name": var, **extra})
    if status != 200 or doc.get("type") != "CoverageCollection":
        report(False, f"{cid}:{var} MULTIPOINT", f"{status} {doc} ({url})")
    else:
        for (lon, lat), cov in zip(pts, doc["coverages"]):
            gx, gy = grid.to_grid(lon, lat)
            want = da.sel({Y: gy, X: gx}, method="nearest").values
            ok, detail = compare(arr(cov["ranges"][var]["values"]), want, np.float32 if da.dtype == np.float32 else np.float64, exact=True)
            report(ok, f"{cid}:{var} MULTIPOINT ({lon:.4f}, {lat:.4f})", detail)


def main():
    global VERBOSE
    ap = argparse.ArgumentParser()
    ap.add_argument("--arco", default=str(REPO / "target" / "debug" / "arco"))
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    VERBOSE = args.verbose
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="arco-serve-judge-"))
    try:
        for spec in SPECS:
            src = REAL / spec["file"]
            shutil.copy(src, tmp / src.name)
        proc, base = start(args.arco, tmp)
        try:
            for spec in SPECS:
                check_dataset(base, spec, rng, args.rounds)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"interop-serve: {counts['pass']} passed, {counts['fail']} failed (seed {args.seed})")
    return 1 if counts["fail"] else 0


if __name__ == "__main__":
    sys.exit(main())
