#!/usr/bin/env python3
"""Judge arco's map tiles against an independent reference rendering.

Starts `arco serve` on a folder of real files and, for tiles of
WebMercatorQuad and WorldCRS84Quad at several zooms, compares every pixel
of arco's PNG with a rendering computed here from the source file:

- pixel centres from the tile matrix set's definition (OGC 17-083r4),
  computed with numpy (no code shared with arco);
- the value of each pixel: the nearest grid cell by xarray's coordinates
  (longitude distance taken around the circle; pixels beyond the outer cell
  edges are empty), after xarray's CF decoding;
- colours by rio-tiler's `linear_rescale` and its viridis colormap
  (titiler's renderer), alpha 0 where the value is missing.

Pixels whose centre lies within 1e-9 of the midpoint between two cells (a
tie either rounding may take) are left out and counted. Also checks the
4xx answers for a bad tile, an unknown variable and a bad sel, and that
`sel` picks the step it names.

Exit status 1 on any failure.
"""

import argparse
import io
import json
import math
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import xarray as xr
from PIL import Image
from rio_tiler.colormap import cmap as rio_cmap
from rio_tiler.utils import linear_rescale

REPO = Path(__file__).resolve().parent.parent
REAL = REPO / "tests" / "data" / "real"
R = 6378137.0
HALF = math.pi * R

failures = 0


def report(ok, what, detail=""):
    global failures
    if not ok:
        failures += 1
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
    return p, json.loads(line)["url"]


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


def centres(tms, z, x, y, size=256):
    """(lon per column, lat per row) of a tile's pixel centres."""
    i = np.arange(size) + 0.5
    if tms == "WebMercatorQuad":
        res = 2 * HALF / (size * 2**z)
        xm = -HALF + (x * size + i) * res
        ym = HALF - (y * size + i) * res
        lon = np.degrees(xm / R)
        lat = np.degrees(2 * np.arctan(np.exp(ym / R)) - math.pi / 2)
    else:  # WorldCRS84Quad: 2x1 tiles at zoom 0
        res = 180.0 / (size * 2**z)
        lon = -180.0 + (x * size + i) * res
        lat = 90.0 - (y * size + i) * res
    return lon, lat


def nearest_index(coord, values, circular):
    """Index of the nearest cell, -1 outside the outer edges; tie mask."""
    c = np.asarray(coord, dtype="f8")
    step0 = abs(c[1] - c[0]) if len(c) > 1 else 1.0
    d = values[:, None] - c[None, :]
    if circular:
        d = (d + 180.0) % 360.0 - 180.0
    ad = np.abs(d)
    idx = ad.argmin(axis=1)
    s = np.sort(ad, axis=1)
    tie = (s[:, 1] - s[:, 0]) < 1e-9 if len(c) > 1 else np.zeros(len(values), bool)
    lo, hi = c.min() - step0 / 2, c.max() + step0 / 2
    if circular and (hi - lo) >= 359.999:
        inside = np.ones(len(values), bool)
    elif circular:
        w = ((values - lo) % 360.0) <= (hi - lo)
        inside = w
    else:
        inside = (values >= lo) & (values <= hi)
    return np.where(inside, idx, -1), tie & inside


def reference(field, lat_name, lon_name, tms, z, x, y, rescale):
    lon, lat = centres(tms, z, x, y)
    cols, tie_c = nearest_index(field[lon_name].values, lon, circular=True)
    rows, tie_r = nearest_index(field[lat_name].values, lat, circular=False)
    data = field.transpose(lat_name, lon_name).values.astype("f8")
    vals = np.full((len(lat), len(lon)), np.nan)
    ok = (rows[:, None] >= 0) & (cols[None, :] >= 0)
    rr = np.clip(rows, 0, None)[:, None].repeat(len(lon), 1)
    cc = np.clip(cols, 0, None)[None, :].repeat(len(lat), 0)
    vals[ok] = data[rr[ok], cc[ok]]
    ties = tie_r[:, None] | tie_c[None, :]
    mask = np.isfinite(vals)
    scaled = linear_rescale(np.where(mask, vals, rescale[0]), in_range=rescale, out_range=(0, 255))
    idx = np.clip(scaled, 0, 255).astype("uint8")
    lut = rio_cmap.get("viridis")
    rgba = np.zeros((len(lat), len(lon), 4), "uint8")
    for k in range(256):
        rgba[idx == k] = lut[k]
    rgba[..., 3] = np.where(mask, 255, 0)
    return rgba, ties


def tile_of(lon, lat, z):
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def compare(base, ds_id, var, field, lat_name, lon_name, sel, tiles, rescale, levels=None):
    """Compare tiles; `levels` maps a multiscale level arco names in its
    X-Arco-Level header to the reference field of that level."""
    for tms, z, x, y in tiles:
        q = f"variable={var}&rescale={rescale[0]},{rescale[1]}&colormap_name=viridis" + "".join(
            f"&sel={s}" for s in sel
        )
        url = f"{base}collections/{ds_id}/tiles/{tms}/{z}/{x}/{y}.png?{q}"
        status, body, headers = get(url)
        level = {k.lower(): v for k, v in headers.items()}.get("x-arco-level", var)
        ref = field if level == var else (levels or {}).get(level)
        if ref is None:
            report(False, f"{ds_id} {tms} {z}/{x}/{y}", f"arco drew level {level}, which the judge does not know")
            continue
        if status != 200:
            report(False, f"{ds_id} {tms} {z}/{x}/{y}", f"HTTP {status}: {body[:200]!r}")
            continue
        got = np.asarray(Image.open(io.BytesIO(body)).convert("RGBA"))
        want, ties = reference(ref, lat_name, lon_name, tms, z, x, y, rescale)
        differ = np.any(got != want, axis=2) & ~ties
        # Fully transparent pixels match whatever their colour.
        differ &= ~((got[..., 3] == 0) & (want[..., 3] == 0))
        n = int(differ.sum())
        report(
            n == 0,
            f"{ds_id}:{var} {tms} {z}/{x}/{y} pixels equal the reference",
            f"level {level}: {n} of {differ.size} differ, {int(ties.sum())} ties left out"
            + (f"; first at {np.argwhere(differ)[0].tolist()}" if n else ""),
        )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arco", default=str(REPO / "target" / "debug" / "arco"))
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="arco-tiles-"))
    try:
        src = REAL / "netcdf4" / "era5-levels-members.nc"
        shutil.copy(src, tmp / src.name)
        tif = REAL / "geotiff" / "co_elevation_roi.tif"
        shutil.copy(tif, tmp / tif.name)
        # A Zarr with overview levels made by arco convert --pyramid.
        subprocess.run(
            [args.arco, "convert", str(tif), str(tmp / "dem.zarr"), "--pyramid", "--no-stac"],
            check=True, capture_output=True,
        )
        proc, base = start(args.arco, tmp)
        try:
            ds = xr.open_dataset(src)
            field = ds["t"].sel(number=1, time="2017-01-01T12:00:00", isobaricInhPa=500)
            sel = ["number=1", "time=2017-01-01T12:00:00", "isobaricInhPa=500"]
            tiles = [
                ("WebMercatorQuad", 0, 0, 0),
                ("WebMercatorQuad", 1, 1, 0),
                ("WebMercatorQuad", 2, 3, 2),
                ("WebMercatorQuad", 3, 0, 7),
                ("WorldCRS84Quad", 0, 0, 0),
                ("WorldCRS84Quad", 1, 3, 1),
            ]
            compare(base, "era5-levels-members", "t", field, "latitude", "longitude", sel, tiles, (220, 300))
            # The default selection is each dimension's first label.
            first = ds["t"].isel(number=0, time=0, isobaricInhPa=0)
            compare(base, "era5-levels-members", "t", first, "latitude", "longitude", [], tiles[:2], (220, 300))
            # nearest:: picks the closest time.
            near = ds["t"].sel(number=2, isobaricInhPa=850).isel(time=1)
            compare(
                base, "era5-levels-members", "t", near, "latitude", "longitude",
                ["number=2", "time=nearest::2017-01-01T10:00", "isobaricInhPa=850"], tiles[:1], (220, 300),
            )
            # A GeoTIFF (NAD83 longitude/latitude, 256x256 tiles), read by rioxarray.
            import rioxarray  # noqa: F401

            dem = xr.open_dataset(tif, engine="rasterio", mask_and_scale=True)["band_data"].isel(band=0)
            overviews = {
                f"overview_{k + 1}/band_data": rioxarray.open_rasterio(
                    tif, masked=True, overview_level=k
                ).isel(band=0)
                for k in range(3)
            }
            tiles = []
            for z in (11, 13, 15):
                x, y = tile_of(-107.1, 38.97, z)
                tiles.append(("WebMercatorQuad", z, x, y))
            compare(base, "co_elevation_roi", "band_data", dem, "y", "x", [], tiles, (2200, 3600), overviews)
            # The pyramid's level 1 is drawn where its cells are no larger than a pixel.
            z0 = xr.open_zarr(tmp / "dem.zarr")["band_data"]
            z1 = xr.open_zarr(tmp / "dem.zarr", group="1")["band_data"]
            compare(
                base, "dem", "band_data", z0, "y", "x", [], tiles, (2200, 3600),
                {"1/band_data": z1},
            )
            # Refusals.
            e = f"{base}collections/era5-levels-members/tiles/WebMercatorQuad"
            for what, url, code in [
                ("tile beyond the matrix", f"{e}/2/9/0.png?variable=t", 400),
                ("unknown variable", f"{e}/0/0/0.png?variable=nope", 404),
                ("unknown tile matrix set", f"{base}collections/era5-levels-members/tiles/Nope/0/0/0.png?variable=t", 404),
                ("sel value not on the axis", f"{e}/0/0/0.png?variable=t&sel=time=2030-01-01", 400),
                ("sel on an unknown dimension", f"{e}/0/0/0.png?variable=t&sel=depth=1", 400),
                ("unknown colormap", f"{e}/0/0/0.png?variable=t&colormap_name=nope", 400),
                ("unknown collection", f"{base}collections/nope/tiles/WebMercatorQuad/0/0/0.png", 404),
            ]:
                status, body, headers = get(url)
                try:
                    desc = json.loads(body).get("description", "")
                except ValueError:
                    desc = ""
                report(status == code and bool(desc), f"{what} -> {code}", f"got {status}: {desc[:160]}")
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{'FAILED' if failures else 'OK'}: {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
