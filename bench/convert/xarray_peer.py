#!/usr/bin/env python3
"""The peer of bench/convert/run.py: xarray + dask `to_zarr` with zarr-python 3.

    xarray_peer.py SRC DEST --zarr-json ARCO_OUT/t2m/zarr.json [--workers 2]

Opens SRC with xarray on its own chunks (dask), rechunks to the chunk shape
arco chose (read from arco's zarr.json for the variable) and writes Zarr v3
with the same codec chain (filters / serializer / compressors rebuilt from
arco's codec JSON by zarr-python's registry), using dask's threaded scheduler
with `--workers` threads and zarr-python's thread pool of the same size. Runs
as its own process so that its peak memory is its own. Prints one JSON line:
{"chunks": [...], "codecs": [...], "seconds": ...}.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings

warnings.simplefilter("ignore")


def codecs_from_json(chain: list[dict]):
    """arco's codec chain -> (filters, serializer, compressors) of zarr-python."""
    from zarr.abc.codec import ArrayArrayCodec, ArrayBytesCodec, BytesBytesCodec
    from zarr.registry import get_codec_class

    filters, serializer, compressors = [], None, []
    for c in chain:
        cls = get_codec_class(c["name"])
        obj = cls.from_dict(c)
        if isinstance(obj, ArrayArrayCodec):
            filters.append(obj)
        elif isinstance(obj, ArrayBytesCodec):
            serializer = obj
        elif isinstance(obj, BytesBytesCodec):
            compressors.append(obj)
        else:
            raise ValueError(f"codec {c['name']} of unknown kind")
    return filters, serializer, compressors


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dest")
    ap.add_argument("--zarr-json", required=True, help="arco's zarr.json of the variable")
    ap.add_argument("--var", default="t2m")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()

    import dask
    import xarray as xr
    import zarr

    meta = json.load(open(args.zarr_json))
    chunks = meta["chunk_grid"]["configuration"]["chunk_shape"]
    filters, serializer, compressors = codecs_from_json(meta["codecs"])
    zarr.config.set({"threading.max_workers": args.workers})
    t0 = time.perf_counter()
    with dask.config.set(scheduler="threads", num_workers=args.workers):
        ds = xr.open_dataset(args.src, engine="netcdf4", chunks={})
        var = ds[args.var]
        ds = ds.chunk(dict(zip(var.dims, chunks)))
        enc = {args.var: {"chunks": tuple(chunks), "filters": filters, "compressors": compressors}}
        if serializer is not None:
            enc[args.var]["serializer"] = serializer
        ds.to_zarr(args.dest, mode="w", zarr_format=3, consolidated=False, encoding=enc)
    secs = time.perf_counter() - t0
    print(json.dumps({"chunks": chunks, "codecs": meta["codecs"], "seconds": secs}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
