#!/usr/bin/env python3
"""bench/virtual/run.py — `arco virtualize` against kerchunk, side by side in
one run. See bench/virtual/README.md.

    .peers-venv/bin/python bench/virtual/run.py [--size full|quick] [--arco target/release/arco]
        [--reps 3] [--cases c,b] [--results bench/virtual/results.json]

Cases (inputs written once, cached under target/arco-checks/virtual/):

(c) NetCDF-3 (CDF-2, 64-bit offset) written by netCDF4-python: 20 record
    variables float32 v00..v19(time, y=16, x=16) × 4,000 records (full; 400
    quick), plus the record coordinate ``time``: 84,000 chunk references
    (80,000 for the 20 variables, 4,000 for ``time``).
(b) one HDF5 file written by h5py: float32 ``data(2048, 2048)`` in chunks of
    (8, 8) with shuffle + gzip 1: 65,536 chunks (full; 64 × 64 = 4,096 quick).

Per case, per repetition (the best and median kept):

* arco: ``arco virtualize SRC OUT.json --inline-threshold 0`` as a child
  process (wall time includes process start and writing the JSON);
* kerchunk: ``NetCDF3ToZarr(SRC, inline_threshold=0).translate()`` /
  ``SingleHdf5ToZarr(SRC, inline_threshold=0).translate()`` in this process,
  then ``ujson.dump`` of the result to a file (interpreter start and imports
  are not counted: that favours kerchunk).

Inlining is off for both so that both produce one byte-range reference per
chunk. References/s = chunk references / wall seconds. Checks (untimed):
both reference sets have the same chunk keys with the same byte ranges
(except kerchunk's known extra record in the one-record-variable case, not
hit here).

Writes a table to stdout and ``results.json`` (machine, versions, every run,
ratios: R = T_kerchunk / T_arco, goal ≥ 10; arco refs/s, goal ≥ 1,000,000 on (c)).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "scripts"))

from interop_common import run_measured  # noqa: E402  (imports h5py before netCDF4)
import h5py  # noqa: E402
import netCDF4  # noqa: E402
import numpy as np  # noqa: E402

CACHE = os.path.join(REPO, "target", "arco-checks", "virtual")
SIZES = {
    "full": {"records": 4000, "variables": 20, "h5": (2048, 2048)},
    "quick": {"records": 400, "variables": 20, "h5": (512, 512)},
}
NY, NX = 16, 16
H5_CHUNK = (8, 8)


def make_nc3(path: str, records: int, nvars: int) -> None:
    if os.path.exists(path):
        return
    tmp = path + ".tmp"
    rng = np.random.default_rng(0)
    with netCDF4.Dataset(tmp, "w", format="NETCDF3_64BIT_OFFSET") as ds:
        ds.createDimension("time", None)
        ds.createDimension("y", NY)
        ds.createDimension("x", NX)
        t = ds.createVariable("time", "f8", ("time",))
        t.units = "hours since 2000-01-01"
        t[:] = np.arange(records, dtype="f8")
        for i in range(nvars):
            v = ds.createVariable(f"v{i:02d}", "f4", ("time", "y", "x"))
            v.units = "1"
            v[:] = rng.standard_normal((records, NY, NX)).astype("f4")
    os.replace(tmp, path)


def make_h5(path: str, shape: tuple[int, int]) -> None:
    if os.path.exists(path):
        return
    tmp = path + ".tmp"
    y = np.linspace(0, 8, shape[0], dtype="f4")[:, None]
    x = np.linspace(0, 8, shape[1], dtype="f4")[None, :]
    with h5py.File(tmp, "w") as f:
        f.create_dataset("data", data=np.sin(y) * np.cos(x), chunks=H5_CHUNK, shuffle=True,
                         compression="gzip", compression_opts=1)
    os.replace(tmp, path)


def run_arco(arco: str, src: str, out: str) -> dict:
    if os.path.exists(out):
        os.remove(out)
    r = run_measured([arco, "--json", "virtualize", src, out, "--inline-threshold", "0"],
                     env={"RAYON_NUM_THREADS": str(os.cpu_count() or 2)})
    if r["rc"] != 0:
        raise RuntimeError(f"arco failed: {r['stderr'][-500:]}")
    s = json.loads(r["stdout"])
    return {"wall_s": r["wall_s"], "cpu_s": r["cpu_s"], "peak_rss": r["peak_rss"],
            "references": s["references"], "bytes": s["bytes_written"]}


def run_kerchunk(case: str, src: str, out: str) -> dict:
    import ujson
    t0 = time.perf_counter()
    c0 = time.process_time()
    if case == "c":
        from kerchunk.netCDF3 import NetCDF3ToZarr
        refs = NetCDF3ToZarr(src, inline_threshold=0).translate()
    else:
        from kerchunk.hdf import SingleHdf5ToZarr
        h = SingleHdf5ToZarr(src, inline_threshold=0)
        refs = h.translate()
        h.close()
    with open(out, "w") as f:
        ujson.dump(refs, f)
    wall = time.perf_counter() - t0
    n = sum(1 for k in refs["refs"] if "/.z" not in k and not k.startswith(".z"))
    return {"wall_s": wall, "cpu_s": time.process_time() - c0, "references": n,
            "bytes": os.path.getsize(out)}


def same_ranges(arco_out: str, kerchunk_out: str, src: str) -> list[str]:
    import fsspec
    ours = fsspec.filesystem("reference", fo=arco_out, skip_instance_cache=True).references
    with open(kerchunk_out) as f:
        theirs = json.load(f)["refs"]
    real = os.path.realpath(src)
    bad = []
    for k, v in theirs.items():
        if isinstance(v, list) and len(v) == 3:
            mine = ours.get(k)
            if not (isinstance(mine, (list, tuple)) and os.path.realpath(mine[0]) == real
                    and [mine[1], mine[2]] == v[1:]):
                bad.append(f"{k}: ours {mine}, kerchunk {v}")
    extra = [k for k, v in ours.items() if isinstance(v, (list, tuple)) and k not in theirs]
    if extra:
        bad.append(f"{len(extra)} keys only in arco's references, like {extra[:2]}")
    return bad


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", choices=sorted(SIZES), default="full")
    ap.add_argument("--arco", default=os.path.join(REPO, "target", "release", "arco"))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--cases", default="c,b")
    ap.add_argument("--results", default=os.path.join(HERE, "results.json"))
    args = ap.parse_args()
    if not os.path.isfile(args.arco):
        print(f"arco binary {args.arco} not found (cargo build --release -p arco-cli)", file=sys.stderr)
        return 1
    size = SIZES[args.size]
    os.makedirs(CACHE, exist_ok=True)
    inputs = {
        "c": os.path.join(CACHE, f"nc3-{size['variables']}x{size['records']}.nc"),
        "b": os.path.join(CACHE, f"h5-{size['h5'][0]}x{size['h5'][1]}-chunks8x8.h5"),
    }
    results = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                           "python": platform.python_version()},
               "size": args.size, "arco": args.arco, "cases": {}}
    # Imported before any timing: kerchunk's import cost is not counted.
    import kerchunk
    import kerchunk.hdf  # noqa: F401
    import kerchunk.netCDF3  # noqa: F401
    import ujson  # noqa: F401
    results["kerchunk_version"] = kerchunk.__version__
    print(f"{'case':40s} {'tool':9s} {'refs':>8s} {'best s':>8s} {'median s':>9s} {'refs/s':>12s} {'out MB':>7s}")
    for case in args.cases.split(","):
        src = inputs[case]
        if case == "c":
            make_nc3(src, size["records"], size["variables"])
            label = f"(c) NetCDF-3 {size['variables']} vars x {size['records']} records"
        else:
            make_h5(src, size["h5"])
            n = (size["h5"][0] // H5_CHUNK[0]) * (size["h5"][1] // H5_CHUNK[1])
            label = f"(b) HDF5 {n} chunks"
        runs = {"arco": [], "kerchunk": []}
        out_a = os.path.join(CACHE, f"out-{case}-arco.json")
        out_k = os.path.join(CACHE, f"out-{case}-kerchunk.json")
        for _ in range(args.reps):
            runs["arco"].append(run_arco(args.arco, src, out_a))
            runs["kerchunk"].append(run_kerchunk(case, src, out_k))
        checks = same_ranges(out_a, out_k, src)
        row = {"input": src, "input_bytes": os.path.getsize(src), "runs": runs, "checks": checks}
        for tool, rs in runs.items():
            walls = [r["wall_s"] for r in rs]
            best, med = min(walls), statistics.median(walls)
            refs = rs[0]["references"]
            row[tool] = {"best_s": best, "median_s": med, "references": refs,
                         "refs_per_s": refs / best if best else None}
            print(f"{label:40s} {tool:9s} {refs:8d} {best:8.3f} {med:9.3f} {refs / best:12,.0f} "
                  f"{rs[0]['bytes'] / 1e6:7.2f}")
        row["ratio_kerchunk_over_arco"] = row["kerchunk"]["best_s"] / row["arco"]["best_s"]
        print(f"{'':40s} ratio T_kerchunk / T_arco = {row['ratio_kerchunk_over_arco']:.1f}"
              + (f"; CHECK FAILED: {checks[:2]}" if checks else "; same byte ranges"))
        results["cases"][case] = row
    with open(args.results, "w") as f:
        json.dump(results, f, indent=1)
    print(f"results in {os.path.relpath(args.results, REPO)}")
    return 1 if any(r["checks"] for r in results["cases"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
