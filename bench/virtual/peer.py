#!/usr/bin/env python3
"""peer.py — one timed run of a peer tool for bench/virtual/run.py.

    .peers-venv/bin/python bench/virtual/peer.py TOOL CASE OUT.json SRC...

TOOL is ``kerchunk`` or ``virtualizarr``; CASE is a, b, c or d (see run.py).
Imports happen before the clock starts (that favours the peer); the clock
covers scanning every source, combining (case a, d) and writing OUT.json.
Prints one JSON line: wall_s, cpu_s, references (chunk references in OUT:
keys not ending in Zarr metadata, byte ranges or inlined), peak_rss (this
process's VmHWM in bytes, imports included).
"""

from __future__ import annotations

import json
import os
import sys
import time


def vm_hwm() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def kerchunk_run(case: str, srcs: list[str], out: str) -> dict:
    import ujson
    from kerchunk.combine import MultiZarrToZarr
    from kerchunk.grib2 import scan_grib
    from kerchunk.hdf import SingleHdf5ToZarr
    from kerchunk.netCDF3 import NetCDF3ToZarr

    t0, c0 = time.perf_counter(), time.process_time()
    if case == "a":
        parts = []
        for s in srcs:
            h = SingleHdf5ToZarr(s, inline_threshold=0)
            parts.append(h.translate())
            h.close()
        refs = MultiZarrToZarr(parts, concat_dims=["time"], identical_dims=["lat", "lon"]).translate()
    elif case == "b":
        h = SingleHdf5ToZarr(srcs[0], inline_threshold=0)
        refs = h.translate()
        h.close()
    elif case == "c":
        refs = NetCDF3ToZarr(srcs[0], inline_threshold=0).translate()
    else:
        # One reference set per message; combined along step, as kerchunk's
        # GRIB documentation does.
        parts = scan_grib(srcs[0])
        refs = MultiZarrToZarr(parts, concat_dims=["step"],
                               identical_dims=["latitude", "longitude", "isobaricInhPa", "time"]).translate()
    with open(out, "w") as f:
        ujson.dump(refs, f)
    return {"wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
            "parts": len(srcs) if case != "d" else len(parts)}


def virtualizarr_run(case: str, srcs: list[str], out: str) -> dict:
    import xarray as xr
    from obspec_utils.registry import ObjectStoreRegistry
    from obstore.store import LocalStore
    from virtualizarr import open_virtual_dataset
    from virtualizarr.parsers import HDFParser, NetCDF3Parser

    t0, c0 = time.perf_counter(), time.process_time()
    registry = ObjectStoreRegistry({"file://": LocalStore()})
    parser = NetCDF3Parser() if case == "c" else HDFParser()
    dss = [open_virtual_dataset("file://" + os.path.abspath(s), registry=registry, parser=parser)
           for s in srcs]
    ds = dss[0] if len(dss) == 1 else xr.concat(dss, dim="time", coords="minimal", compat="override")
    ds.vz.to_kerchunk(out, format="json")
    return {"wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0, "parts": len(srcs)}


def count_refs(out: str) -> int:
    with open(out) as f:
        refs = json.load(f)["refs"]
    return sum(1 for k in refs if not k.rsplit("/", 1)[-1].startswith(".z"))


def main() -> int:
    tool, case, out, srcs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    if tool == "kerchunk":
        import kerchunk.combine  # noqa: F401
        import kerchunk.grib2  # noqa: F401
        import kerchunk.hdf  # noqa: F401
        import kerchunk.netCDF3  # noqa: F401
        import ujson  # noqa: F401
        r = kerchunk_run(case, srcs, out)
    else:
        import virtualizarr  # noqa: F401
        import virtualizarr.parsers  # noqa: F401
        import xarray  # noqa: F401
        r = virtualizarr_run(case, srcs, out)
    r["references"] = count_refs(out)
    r["bytes"] = os.path.getsize(out)
    r["peak_rss"] = vm_hwm()
    print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
