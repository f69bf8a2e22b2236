#!/usr/bin/env python3
"""Expected values for arco-render's tests, from the reference tools titiler uses.

    .peers-venv/bin/python crates/render/tests/data/make_expected.py

Writes expected.json beside this script (committed). Needs, in the peers venv
(scripts/setup-peers.sh, group "raster"): morecantile, rio-tiler, titiler.core,
rasterio, rioxarray, xarray, numpy, matplotlib.

* "tms": for WebMercatorQuad and WorldCRS84Quad, morecantile's TMS 2.0 document
  (what titiler serves at /tileMatrixSets/{id}), tile bounds (xy and lon/lat),
  the lon/lat of pixel centres of tiles rendered at 256 and 512 pixels
  (rasterio's ``from_bounds`` transform, as GDAL sees the warp destination,
  then morecantile's ``lnglat``), ``zoom_for_res`` with each strategy,
  ``tile`` for points, ``tiles`` for boxes (one crossing the antimeridian), and
  rio-tiler's ``minzoom``/``maxzoom`` of lon/lat grids (XarrayReader). Boxes are
  stored as the tile count and the sorted columns and rows.
* "colormaps": for every rio-tiler colormap that matplotlib also has (and its
  ``_r``), a hash of its 256 RGBA entries and a few entries in clear.
* "render": tiles rendered by ``titiler.core.utils.render_image`` (PNG decoded
  back with rasterio: band-major pixel bytes) and ``.npy`` bytes, for known
  arrays, with colormaps parsed by titiler's own colormap dependency.
"""

import io
import json
import pathlib
import warnings

import morecantile
import numpy
import rasterio
import rioxarray  # noqa: F401  (registers .rio)
import xarray
from rasterio.io import MemoryFile
from rasterio.transform import from_bounds
from rio_tiler.colormap import cmap as rio_cmaps
from rio_tiler.io import XarrayReader
from rio_tiler.models import ImageData
from titiler.core.dependencies import create_colormap_dependency
from titiler.core.resources.enums import ImageType
from titiler.core.utils import render_image

HERE = pathlib.Path(__file__).resolve().parent
warnings.simplefilter("ignore")

# Pixel indices whose centres are checked (row, col pairs from these).
PICK = {256: [0, 1, 128, 255], 512: [0, 256, 511]}
TILES = {
    "WebMercatorQuad": [(0, 0, 0), (1, 1, 0), (3, 4, 2), (7, 37, 50), (12, 2047, 1365), (24, 123456, 16777215)],
    "WorldCRS84Quad": [(0, 0, 0), (0, 1, 0), (1, 3, 1), (7, 37, 50), (12, 4095, 2047), (23, 123456, 8388607)],
}
RESOLUTIONS = {
    "WebMercatorQuad": [200000.0, 156543.03392804097, 100000.0, 78271.51696402048, 27829.872, 1000.0, 611.5, 30.0, 0.5, 0.00001],
    "WorldCRS84Quad": [1.0, 0.703125, 0.5, 0.25, 0.1, 0.01, 0.0001, 1e-7, 1e-9],
}
POINTS = [(0.0, 0.0), (-180.0, 85.0), (179.999, -85.0), (12.5, 41.9), (-73.98, 40.75), (180.0, 90.0), (-180.0, -90.0), (100.0, 89.0)]
BOXES = [
    [-10.0, 35.0, 30.0, 60.0],
    [-180.0, -90.0, 180.0, 90.0],
    [170.0, -20.0, -170.0, 10.0],
    [0.0, 0.0, 0.0001, 0.0001],
    [-0.5, -0.5, 0.5, 0.5],
]
BOX_ZOOMS = [0, 1, 3, 6]
# lon/lat grids (bounds = cell edges, width, height) for rio-tiler's zoom range
GRIDS = [
    ([-180.0, -90.0, 180.0, 90.0], 1440, 721),
    ([-180.0, -90.0, 180.0, 90.0], 360, 180),
    ([-10.0, 35.0, 30.0, 60.0], 400, 250),
    ([5.0, 45.0, 6.0, 46.0], 1000, 1000),
    ([-130.0, 20.0, -60.0, 55.0], 7000, 3500),
    ([100.0, -10.0, 101.0, -9.5], 20, 10),
]


def tms_expected():
    out = {}
    for tms_id, tiles in TILES.items():
        tms = morecantile.tms.get(tms_id)
        doc = json.loads(tms.model_dump_json(exclude_none=True))
        entry = {"document": doc, "tiles": [], "zoom_for_res": [], "tile_for_lonlat": [], "tiles_for_bbox": [], "grid_zooms": []}
        for z, x, y in tiles:
            t = morecantile.Tile(x, y, z)
            xy = tms.xy_bounds(t)
            ll = tms.bounds(t)
            centres = {}
            for size, pick in PICK.items():
                tr = from_bounds(*xy, size, size)
                pts = []
                for row in pick:
                    for col in pick:
                        px, py = tr * (col + 0.5, row + 0.5)
                        lon, lat = tms.lnglat(px, py)
                        pts.append([row, col, px, py, lon, lat])
                centres[str(size)] = pts
            entry["tiles"].append({"tile": [z, x, y], "xy_bounds": list(xy), "bounds": list(ll), "centres": centres})
        for res in RESOLUTIONS[tms_id]:
            entry["zoom_for_res"].append({
                "res": res,
                "auto": tms.zoom_for_res(res),
                "lower": tms.zoom_for_res(res, zoom_level_strategy="lower"),
                "upper": tms.zoom_for_res(res, zoom_level_strategy="upper"),
            })
        for lon, lat in POINTS:
            for z in (0, 2, 9, 17):
                t = tms.tile(lon, lat, z)
                entry["tile_for_lonlat"].append({"lon": lon, "lat": lat, "z": z, "tile": [t.z, t.x, t.y]})
        for box in BOXES:
            for z in BOX_ZOOMS:
                tiles = {(t.x, t.y) for t in tms.tiles(*box, zooms=[z])}
                entry["tiles_for_bbox"].append({
                    "bbox": box, "z": z, "count": len(tiles),
                    "xs": sorted({x for x, _ in tiles}), "ys": sorted({y for _, y in tiles}),
                })
        for bounds, width, height in GRIDS:
            w, s, e, n = bounds
            dx, dy = (e - w) / width, (n - s) / height
            da = xarray.DataArray(
                numpy.zeros((height, width), dtype="float32"),
                dims=("y", "x"),
                coords={"y": n - dy * (numpy.arange(height) + 0.5), "x": w + dx * (numpy.arange(width) + 0.5)},
            ).rio.write_crs("EPSG:4326")
            with XarrayReader(da, tms=tms) as r:
                entry["grid_zooms"].append({"bounds": bounds, "width": width, "height": height, "minzoom": r.minzoom, "maxzoom": r.maxzoom})
        out[tms_id] = entry
    return out


# ---------------------------------------------------------------- render


def base_array():
    """16×16 float32: a ramp from -10 to 40 with NaN, nodata (-9999) and extremes."""
    a = numpy.linspace(-10.0, 40.0, 256, dtype="float64").astype("float32").reshape(16, 16)
    a[0, 0] = numpy.nan
    a[3, 5] = -9999.0
    a[7, 7] = numpy.inf
    a[8, 8] = -numpy.inf
    a[9, 9] = 1e30
    a[10, 3] = 29.999998  # just below the top of rescale=-5,30
    a[10, 4] = -5.0
    a[10, 5] = 30.0
    return a


def masked(a, nodata):
    """rio-tiler's XarrayReader mask: NaN (``to_masked_array``) or == nodata (compared
    in the array's dtype, as NumPy 2 does with a Python float)."""
    mask = numpy.isnan(a) if a.dtype.kind == "f" else numpy.zeros(a.shape, bool)
    if nodata is not None:
        mask |= a == nodata
    # a copy: render_image rescales the ImageData in place
    return numpy.ma.MaskedArray(a[None].copy(), mask=mask[None])


CMAP_DEP = create_colormap_dependency(rio_cmaps)


def parse_cmap(name=None, json_text=None):
    return CMAP_DEP(colormap_name=name, colormap=json_text)


def decode_png(content):
    with MemoryFile(content) as mem, mem.open() as ds:
        data = ds.read()
    return data


LUT_JSON = json.dumps({str(i): [i, 255 - i, (i * 7) % 256, 200] for i in range(256)})
CASES = [
    # name, array maker, dtype, nodata, rescale, colormap_name, colormap json, return_mask
    ("viridis_rescale", "ramp", "float32", -9999.0, (-5.0, 30.0), "viridis", None, True),
    ("grey_rescale", "ramp", "float32", -9999.0, (-5.0, 30.0), None, None, True),
    ("grey_rescale_nomask", "ramp", "float32", -9999.0, (-5.0, 30.0), None, None, False),
    ("rdbu_r_nomask", "ramp", "float32", -9999.0, (0.0, 25.0), "rdbu_r", None, False),
    ("twilight_r_f64", "ramp", "float64", -9999.0, (-7.3, 33.1), "twilight_r", None, True),
    ("f32_nodata_rounding", "ramp_odd_nodata", "float32", -9999.9, (-10.0, 40.0), "terrain", None, True),
    ("lut_json", "ramp", "float32", -9999.0, (-10.0, 40.0), None, LUT_JSON, True),
    ("discrete_categories", "classes", "uint8", 0.0, None, None, json.dumps({"1": [255, 0, 0], "2": "#00ff0080", "3": [0, 0, 255, 255], "7": "#abc"}), True),
    ("discrete_after_rescale", "ramp", "float32", -9999.0, (0.0, 3.0), None, json.dumps({"0": [9, 9, 9], "85": [1, 2, 3], "170": [4, 5, 6], "255": [7, 8, 9]}), True),
    ("intervals_raw", "ramp", "float32", -9999.0, None, None, json.dumps([[[-10, 0], [0, 0, 255, 255]], [[0, 20], "#00ff00"], [[15, 35], [255, 0, 0, 128]]]), True),
    # .npy only (titiler stretches a float PNG over the dtype's range: not compared)
    ("npy_raw_f32", "ramp", "float32", -9999.0, None, None, None, True),
    ("npy_raw_f64_nomask", "ramp", "float64", -9999.0, None, None, None, False),
    ("npy_raw_i16", "classes", "int16", 0.0, None, None, None, True),
]


def make_array(kind):
    if kind == "ramp":
        return base_array()
    if kind == "ramp_odd_nodata":
        a = base_array()
        a[3, 5] = numpy.float32(-9999.9)
        return a
    if kind == "classes":
        return (numpy.arange(256) % 9).astype("uint8").reshape(16, 16)
    raise ValueError(kind)


def hexbytes(arr):
    return numpy.ascontiguousarray(arr).tobytes().hex()


def render_expected():
    out, arrays = [], {}
    for name, kind, dtype, nodata, rescale, cmap_name, cmap_json, return_mask in CASES:
        a = make_array(kind).astype(dtype)
        cmap = parse_cmap(cmap_name, cmap_json)
        key = f"{kind}_{dtype}"
        # little-endian float64 bytes: exact, NaN and infinities included
        arrays[key] = hexbytes(a.astype("<f8").ravel())
        entry = {
            "name": name,
            "dtype": dtype,
            "values": key,
            "width": a.shape[1],
            "height": a.shape[0],
            "nodata": nodata,
            "rescale": list(rescale) if rescale else None,
            "colormap_name": cmap_name,
            "colormap": cmap_json,
            "return_mask": return_mask,
        }
        if not name.startswith("npy_"):
            img = ImageData(masked(a, nodata))
            content, media = render_image(
                img, colormap=cmap, output_format=ImageType.png, add_mask=return_mask,
                rescale=[rescale] if rescale else None,
            )
            assert media == "image/png"
            bands = decode_png(content)
            entry["png_bands"] = bands.shape[0]
            entry["png_pixels"] = hexbytes(bands.astype("uint8"))
        img = ImageData(masked(a, nodata))
        content, media = render_image(
            img, colormap=cmap, output_format=ImageType.npy, add_mask=return_mask,
            rescale=[rescale] if rescale else None,
        )
        entry["npy"] = content.hex()
        arr = numpy.load(io.BytesIO(content))
        entry["npy_shape"] = list(arr.shape)
        entry["npy_dtype"] = str(arr.dtype)
        out.append(entry)
    return {"arrays": arrays, "cases": out}


def fnv1a64(data: bytes) -> str:
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def colormaps_expected():
    """Every rio-tiler table arco has (as the 1024 RGBA bytes' FNV-1a 64 hash, plus a
    few entries in clear): the committed tables must equal titiler's."""
    import matplotlib

    have = {n.lower() for n in matplotlib.colormaps}
    out = {}
    for name in sorted(rio_cmaps.list()):
        base = name[:-2] if name.endswith("_r") else name
        if base not in have:
            continue
        cm = rio_cmaps.get(name)
        table = numpy.array([cm[i] for i in range(256)], dtype="uint8")
        out[name] = {
            "fnv1a64": fnv1a64(table.tobytes()),
            "entries": {str(i): table[i].tolist() for i in (0, 128, 255)},
        }
    return out


def main():
    expected = {
        "versions": {
            "morecantile": morecantile.__version__,
            "rio_tiler": __import__("rio_tiler").__version__,
            "titiler.core": __import__("titiler.core").core.__version__,
            "rasterio": rasterio.__version__,
            "gdal": rasterio.__gdal_version__,
            "numpy": numpy.__version__,
        },
        "tms": tms_expected(),
        "render": render_expected(),
        "colormaps": colormaps_expected(),
    }
    path = HERE / "expected.json"
    path.write_text(json.dumps(expected, separators=(",", ":"), allow_nan=False) + "\n")
    print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
