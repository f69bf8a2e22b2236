"""bench/serve/xpublish_app.py — the xpublish peer of bench/serve/run.py.

An ASGI app for uvicorn (``uvicorn xpublish_app:app --app-dir bench/serve``):
xpublish.Rest over the benchmark's Zarr stores, opened once per worker with
``xarray.open_zarr`` (dask-backed, the stores' own chunks), with the plugins
xpublish-tiles (``/datasets/{id}/tiles/...``) and xpublish-edr
(``/datasets/{id}/edr/position``). Stores come from the environment:
``BENCH_XPUBLISH_DATASETS="map=/path/map.zarr,ts=/path/ts.zarr"``.
"""

from __future__ import annotations

import os

import xarray as xr
import xpublish
from xpublish_edr.plugin import CfEdrPlugin
from xpublish_tiles.xpublish.tiles import TilesPlugin


def _datasets() -> dict[str, xr.Dataset]:
    spec = os.environ.get("BENCH_XPUBLISH_DATASETS", "")
    out = {}
    for item in filter(None, spec.split(",")):
        name, path = item.split("=", 1)
        out[name] = xr.open_zarr(path, consolidated=None)
    if not out:
        raise SystemExit("BENCH_XPUBLISH_DATASETS is empty: give name=path.zarr,...")
    return out


rest = xpublish.Rest(_datasets(), plugins={"tiles": TilesPlugin(), "edr": CfEdrPlugin()})
app = rest.app
