#!/usr/bin/env python3
"""bench/virtual/run.py — `arco virtualize` against kerchunk and VirtualiZarr,
side by side in one run. See bench/virtual/README.md.

    .peers-venv/bin/python bench/virtual/run.py [--size full|quick] [--arco target/release/arco]
        [--reps 3] [--cases a,b,c,d] [--results bench/virtual/results.json]
        [--scaling 25,100,400] [--scaling-peers 400]

Cases (inputs written once, cached under target/arco-checks/virtual/):

(a) 100 hourly NetCDF-4 files (24 quick) written by netCDF4-python, each
    float32 ``tas(time=1, lat=180, lon=360)`` in chunks (1, 90, 180) with
    shuffle + deflate 1, CF time ``hours since 2000-01-01``: combined along
    time. Peak RSS and wall time are also measured at several numbers of
    files (--scaling, default 25, 100, 400; 6, 24, 96 quick), for arco and,
    up to --scaling-peers files, for the peers: arco's should not grow with
    the number of files.
(b) one HDF5 file written by h5py: float32 ``data(2048, 2048)`` in chunks of
    (8, 8) with shuffle + gzip 1: 65,536 chunks (full; 64 × 64 = 4,096 quick).
(c) NetCDF-3 (CDF-2, 64-bit offset) written by netCDF4-python: 20 record
    variables float32 v00..v19(time, y=16, x=16) × 4,000 records (full; 400
    quick), plus the record coordinate ``time``: 84,000 chunk references
    (80,000 for the 20 variables, 4,000 for ``time``).
(d) one GRIB2 file written by ecCodes (bench/virtual/make_grib.py): 10
    parameters × 40 steps (4 quick) on a 0.5° global grid: 400 messages.

Per case, per repetition (the best and median kept):

* arco: ``arco virtualize SRC... OUT.json --inline-threshold 0 --no-stac``
  (+ ``--concat-dim time`` for (a)) as a child process (wall time includes
  process start and writing the JSON);
* kerchunk and VirtualiZarr: bench/virtual/peer.py as a child process that
  imports everything first and then times scanning, combining and writing
  the JSON (interpreter start and imports are not counted: that favours the
  peers; their peak RSS includes the imports). kerchunk:
  ``SingleHdf5ToZarr`` (a, b; a then ``MultiZarrToZarr(concat_dims=["time"])``),
  ``NetCDF3ToZarr`` (c), ``scan_grib`` + ``MultiZarrToZarr(concat_dims=["step"])``
  (d), all with ``inline_threshold=0`` except scan_grib (its default).
  VirtualiZarr: ``open_virtual_dataset(url, registry, parser=HDFParser()``
  or ``NetCDF3Parser())``, ``xr.concat(..., dim="time", coords="minimal",
  compat="override")`` for (a), ``.vz.to_kerchunk(out, format="json")``;
  VirtualiZarr has no GRIB parser, so (d) is arco against kerchunk only.

Checks (untimed): every byte-range reference of the peer has the same file
and byte range in arco's references read through fsspec's reference file
system (which expands arco's URL templates), arco has no extra ones, and
(a, d) a variable read through xarray from both reference sets is equal.

Writes a markdown table to stdout and ``results.json`` (machine, versions,
every run, ratios R = T_peer / T_arco, goal ≥ 10; arco refs/s, goal
≥ 1,000,000 on (c); arco's peak RSS against the number of files in (a)).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "scripts"))

from interop_common import run_measured  # noqa: E402  (imports h5py before netCDF4)
import h5py  # noqa: E402
import netCDF4  # noqa: E402
import numpy as np  # noqa: E402

CACHE = os.path.join(REPO, "target", "arco-checks", "virtual")
SIZES = {
    "full": {"records": 4000, "variables": 20, "h5": (2048, 2048), "files": 100,
             "file_series": (25, 100, 400), "grib_steps": 40},
    "quick": {"records": 400, "variables": 20, "h5": (512, 512), "files": 24,
              "file_series": (6, 24, 96), "grib_steps": 4},
}
NY, NX = 16, 16
H5_CHUNK = (8, 8)
NLAT, NLON = 180, 360
PEERS = ("kerchunk", "virtualizarr")


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


def make_hourly(d: str, n: int) -> list[str]:
    """n hourly NetCDF-4 files tas_0000.nc..., one time step each."""
    os.makedirs(d, exist_ok=True)
    lat = np.linspace(-89.5, 89.5, NLAT)
    lon = np.linspace(0.5, 359.5, NLON)
    field = (np.cos(np.deg2rad(lat))[:, None] * 30 + np.sin(np.deg2rad(lon))[None, :]).astype("f4")
    rng = np.random.default_rng(1)
    paths = []
    for i in range(n):
        path = os.path.join(d, f"tas_{i:04d}.nc")
        paths.append(path)
        if os.path.exists(path):
            continue
        tmp = path + ".tmp"
        with netCDF4.Dataset(tmp, "w", format="NETCDF4") as ds:
            ds.title = "bench/virtual case (a): hourly near-surface air temperature"
            ds.Conventions = "CF-1.8"
            ds.createDimension("time", None)
            ds.createDimension("lat", NLAT)
            ds.createDimension("lon", NLON)
            t = ds.createVariable("time", "f8", ("time",))
            t.units = "hours since 2000-01-01 00:00:00"
            t.calendar = "standard"
            t.standard_name = "time"
            t[:] = [float(i)]
            la = ds.createVariable("lat", "f8", ("lat",))
            la.units, la.standard_name = "degrees_north", "latitude"
            la[:] = lat
            lo = ds.createVariable("lon", "f8", ("lon",))
            lo.units, lo.standard_name = "degrees_east", "longitude"
            lo[:] = lon
            v = ds.createVariable("tas", "f4", ("time", "lat", "lon"), zlib=True, complevel=1,
                                  shuffle=True, chunksizes=(1, 90, 180))
            v.units, v.standard_name = "K", "air_temperature"
            v.long_name = "Near-surface air temperature"
            v[0] = 273.15 + field + rng.normal(0, 0.5, (NLAT, NLON)).astype("f4")
        os.replace(tmp, path)
    return paths


def make_grib(path: str, steps: int) -> None:
    if os.path.exists(path):
        return
    # Its own process: the eccodes wheel's ecCodes (see make_grib.py).
    subprocess.run([sys.executable, os.path.join(HERE, "make_grib.py"), path, str(steps)], check=True,
                   env={**os.environ, "FINDLIBS_DISABLE_PACKAGE": "no"})


def run_arco(arco: str, srcs: list[str], out: str, case: str) -> dict:
    if os.path.exists(out):
        os.remove(out)
    extra = ["--concat-dim", "time"] if case == "a" else []
    r = run_measured([arco, "--json", "virtualize", *srcs, out, "--inline-threshold", "0", "--no-stac",
                      *extra], env={"RAYON_NUM_THREADS": str(os.cpu_count() or 2)})
    if r["rc"] != 0:
        raise RuntimeError(f"arco failed: {r['stderr'][-500:]}")
    s = json.loads(r["stdout"])
    return {"wall_s": r["wall_s"], "cpu_s": r["cpu_s"], "peak_rss": r["peak_rss"],
            "references": s["references"], "bytes": s["bytes_written"]}


def run_peer(tool: str, case: str, srcs: list[str], out: str) -> dict:
    if os.path.exists(out):
        os.remove(out)
    p = subprocess.run([sys.executable, os.path.join(HERE, "peer.py"), tool, case, out, *srcs],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{tool} failed on ({case}): {p.stderr.strip()[-800:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def load_refs(path: str) -> dict:
    """The references as fsspec's reference file system expands them."""
    import fsspec
    return fsspec.filesystem("reference", fo=path, skip_instance_cache=True).references


def norm(url: str) -> str:
    return os.path.realpath(url[len("file://"):] if url.startswith("file://") else url)


def ranges(refs: dict) -> dict:
    return {k: (norm(v[0]), int(v[1]), int(v[2])) for k, v in refs.items()
            if isinstance(v, (list, tuple)) and len(v) == 3}


def same_ranges(arco_out: str, peer_out: str) -> tuple[list[str], list[str]]:
    """Every byte range of the peer is in arco's references under the same key,
    and arco has no extra byte ranges, except in variables the peer inlined
    (VirtualiZarr loads coordinates): those are returned, to be compared by
    value. When the variable names differ (GRIB parameters named differently),
    the sets of (file, offset, length) must be equal instead."""
    theirs_all = load_refs(peer_out)
    ours, theirs = ranges(load_refs(arco_out)), ranges(theirs_all)
    if set(ours) != set(theirs) and set(ours.values()) == set(theirs.values()):
        return [], []
    bad = [f"{k}: ours {ours.get(k)}, peer {v}" for k, v in theirs.items() if ours.get(k) != v]
    ranged = {k.rsplit("/", 1)[0] for k in theirs}
    inlined = sorted({k.rsplit("/", 1)[0] for k in theirs_all if "/" in k} - ranged)
    extra = [k for k in ours if k not in theirs and k.rsplit("/", 1)[0] not in inlined]
    if extra:
        bad.append(f"{len(extra)} byte ranges only in arco's references, like {extra[:2]}")
    return bad, [v for v in inlined if any(k.startswith(v + "/") for k in ours)]


def open_refs(path: str):
    import xarray as xr
    return xr.open_dataset("reference://", engine="zarr", decode_times=False,
                           backend_kwargs={"consolidated": False,
                                           "storage_options": {"fo": path, "remote_protocol": "file"}})


def same_values(arco_out: str, peer_out: str, case: str, inlined: list[str]) -> list[str]:
    """(a): tas at the first, middle and last time step and the time values;
    (d): the first step of ``t`` and ``u``; any case: the variables the peer
    inlined while arco referenced them. Equal through xarray."""
    if case not in ("a", "d") and not inlined:
        return []
    if case == "d":
        import kerchunk.codecs  # noqa: F401  (registers the grib codec)
    a, p = open_refs(arco_out), open_refs(peer_out)
    bad = []
    for v in inlined:
        if not np.array_equal(a[v].values, p[v].values, equal_nan=True):
            bad.append(f"{v} (inlined by the peer) differs")
    if case == "a":
        n = a.sizes["time"]
        if a.sizes != p.sizes:
            bad.append(f"sizes: ours {dict(a.sizes)}, peer {dict(p.sizes)}")
        else:
            if not np.array_equal(a["time"].values, p["time"].values):
                bad.append("time values differ")
            for i in sorted({0, n // 2, n - 1}):
                if not np.array_equal(a["tas"][i].values, p["tas"][i].values, equal_nan=True):
                    bad.append(f"tas[{i}] differs")
    elif case == "d":
        for v in ("t", "u"):
            x, y = a[v].isel(step=0).values, p[v].isel(step=0).values
            if x.shape != y.shape or not np.allclose(x, y, equal_nan=True):
                bad.append(f"{v}[step=0] differs")
    return bad


def scaling_table(args, size: dict, versions: dict) -> dict:
    """Case (a) at several numbers of files: peak RSS and wall time of arco
    (and of the peers at up to --scaling-peers files), best of --reps."""
    counts = args.scaling or list(size["file_series"])
    srcs = make_hourly(os.path.join(CACHE, "hourly"), max(counts))
    peers = [t for t in PEERS if versions.get(t)] if args.scaling_peers else []
    table = {}
    print(f"{'':34s} memory against the number of files (case a):")
    for n in counts:
        table[n] = {}
        for t in ["arco", *peers]:
            if t != "arco" and n > args.scaling_peers:
                continue
            out = os.path.join(CACHE, f"out-a-{t}-{n}.json")
            try:
                rs = [run_arco(args.arco, srcs[:n], out, "a") if t == "arco"
                      else run_peer(t, "a", srcs[:n], out) for _ in range(args.reps)]
            except RuntimeError as e:
                if t == "arco":
                    raise
                print(f"{'':34s}   {n:5d} files {t:12s} failed: {str(e)[-200:]}")
                continue
            table[n][t] = {"peak_rss": max(r["peak_rss"] for r in rs),
                           "best_s": min(r["wall_s"] for r in rs),
                           "references": rs[0]["references"]}
            print(f"{'':34s}   {n:5d} files {t:12s} {table[n][t]['peak_rss'] / 2**20:7.1f} MB "
                  f"{table[n][t]['best_s']:8.3f} s {table[n][t]['references']:8d} refs", flush=True)
    return table


def md_scaling(table: dict) -> str:
    tools = ["arco", *[t for t in PEERS if any(t in row for row in table.values())]]
    rows = ["| files | " + " | ".join(f"{t} peak RSS MB | {t} s" for t in tools) + " |",
            "|---:|" + "---:|---:|" * len(tools)]
    for n, row in table.items():
        cells = []
        for t in tools:
            r = row.get(t)
            cells += ([f"{r['peak_rss'] / 2**20:.1f}", f"{r['best_s']:.3f}"] if r else ["", ""])
        rows.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def md_table(results: dict) -> str:
    rows = ["| case | tool | references | best s | median s | refs/s | T_tool / T_arco | peak RSS MB |",
            "|---|---|---:|---:|---:|---:|---:|---:|"]
    for row in results["cases"].values():
        for tool in ("arco", *PEERS):
            t = row.get(tool)
            if t is None:
                rows.append(f"| {row['label']} | {tool} | n/a: {row['notes'].get(tool, '')} | | | | | |")
                continue
            ratio = "1" if tool == "arco" else f"{row['ratios'][tool]:.1f}"
            rows.append(f"| {row['label']} | {tool} | {t['references']:,} | {t['best_s']:.3f} | "
                        f"{t['median_s']:.3f} | {t['refs_per_s']:,.0f} | {ratio} | "
                        f"{t['peak_rss'] / 2**20:.0f} |")
    out = "\n".join(rows)
    scaling = results["cases"].get("a", {}).get("scaling")
    if scaling:
        out += "\n\nPeak RSS and wall time against the number of files in (a):\n\n" + md_scaling(scaling)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", choices=sorted(SIZES), default="full")
    ap.add_argument("--arco", default=os.path.join(REPO, "target", "release", "arco"))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--cases", default="a,b,c,d")
    ap.add_argument("--results", default=os.path.join(HERE, "results.json"))
    ap.add_argument("--scaling", type=lambda v: [int(x) for x in v.split(",") if x],
                    help="numbers of files for case (a)'s memory table, like 25,100,400 "
                         "(default: 25,100,400; quick: 6,24,96)")
    ap.add_argument("--scaling-peers", type=int, default=0, metavar="N",
                    help="also run kerchunk and VirtualiZarr in the memory table, at up to N files "
                         "(default 0: arco only; they take seconds per 100 files)")
    args = ap.parse_args()
    if not os.path.isfile(args.arco):
        print(f"arco binary {args.arco} not found (cargo build --release -p arco-cli)", file=sys.stderr)
        return 1
    size = SIZES[args.size]
    os.makedirs(CACHE, exist_ok=True)
    import importlib.metadata as md
    versions = {}
    for n in ("kerchunk", "virtualizarr", "xarray", "zarr", "fsspec", "eccodes"):
        try:
            versions[n] = md.version(n)
        except md.PackageNotFoundError:
            versions[n] = None
    results = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                           "python": platform.python_version()},
               "size": args.size, "arco": args.arco, "versions": versions, "cases": {}}
    print(f"{'case':34s} {'tool':12s} {'refs':>8s} {'best s':>8s} {'median s':>9s} {'refs/s':>12s} "
          f"{'R':>6s} {'RSS MB':>7s}")
    failed = False
    for case in args.cases.split(","):
        notes = {}
        if case == "a":
            srcs = make_hourly(os.path.join(CACHE, "hourly"), size["files"])
            label = f"(a) {len(srcs)} hourly NetCDF-4 files"
        elif case == "b":
            src = os.path.join(CACHE, f"h5-{size['h5'][0]}x{size['h5'][1]}-chunks8x8.h5")
            make_h5(src, size["h5"])
            srcs = [src]
            n = (size["h5"][0] // H5_CHUNK[0]) * (size["h5"][1] // H5_CHUNK[1])
            label = f"(b) HDF5 {n} chunks"
        elif case == "c":
            src = os.path.join(CACHE, f"nc3-{size['variables']}x{size['records']}.nc")
            make_nc3(src, size["records"], size["variables"])
            srcs = [src]
            label = f"(c) NetCDF-3 {size['variables']} vars x {size['records']} rec"
        elif case == "d":
            src = os.path.join(CACHE, f"grib-10x{size['grib_steps']}.grib2")
            make_grib(src, size["grib_steps"])
            srcs = [src]
            label = f"(d) GRIB2 {10 * size['grib_steps']} messages"
            notes["virtualizarr"] = f"VirtualiZarr {versions['virtualizarr']} has no GRIB parser"
        else:
            print(f"unknown case {case!r} (a, b, c, d)", file=sys.stderr)
            return 2
        tools = ["arco"] + [t for t in PEERS if t not in notes]
        if versions["virtualizarr"] is None and "virtualizarr" in tools:
            tools.remove("virtualizarr")
            notes["virtualizarr"] = "not installed (scripts/setup-peers.sh)"
        runs = {t: [] for t in tools}
        outs = {t: os.path.join(CACHE, f"out-{case}-{t}.json") for t in tools}
        for _ in range(args.reps):
            for t in tools:
                try:
                    r = (run_arco(args.arco, srcs, outs[t], case) if t == "arco"
                         else run_peer(t, case, srcs, outs[t]))
                except RuntimeError as e:
                    if t == "arco":
                        raise
                    notes[t] = f"failed: {str(e)[-300:]}"
                    break
                runs[t].append(r)
        runs = {t: rs for t, rs in runs.items() if rs and t not in notes}
        checks, notes_inlined = {}, {}
        for t in runs:
            if t != "arco":
                bad, inlined = same_ranges(outs["arco"], outs[t])
                checks[t] = bad + same_values(outs["arco"], outs[t], case, inlined)
                if inlined:
                    notes_inlined[t] = inlined
        row = {"label": label, "inputs": len(srcs), "input_bytes": sum(os.path.getsize(s) for s in srcs),
               "runs": runs, "checks": checks, "notes": notes, "ratios": {},
               "inlined_by_peer": notes_inlined}
        for tool, rs in runs.items():
            walls = [r["wall_s"] for r in rs]
            best, med = min(walls), statistics.median(walls)
            refs = rs[0]["references"]
            row[tool] = {"best_s": best, "median_s": med, "references": refs,
                         "refs_per_s": refs / best if best else None,
                         "peak_rss": max(r["peak_rss"] for r in rs)}
            if tool != "arco":
                row["ratios"][tool] = best / row["arco"]["best_s"]
            ratio = "" if tool == "arco" else f"{row['ratios'][tool]:6.1f}"
            print(f"{label:34s} {tool:12s} {refs:8d} {best:8.3f} {med:9.3f} {refs / best:12,.0f} "
                  f"{ratio:>6s} {row[tool]['peak_rss'] / 2**20:7.1f}", flush=True)
        for t, why in notes.items():
            print(f"{label:34s} {t:12s} n/a: {why}")
        for t, bad in checks.items():
            also = (f"; {', '.join(notes_inlined[t])} inlined by {t}, same values"
                    if t in notes_inlined else "")
            print(f"{'':34s} check vs {t}: " + (f"FAILED: {bad[:3]}" if bad else "same byte ranges"
                                                + (" and values" if case in ("a", "d") else "") + also))
            failed |= bool(bad)
        if case == "a":
            row["scaling"] = scaling_table(args, size, versions)
            row["arco_rss_by_files"] = {n: t["arco"]["peak_rss"] for n, t in row["scaling"].items()}
        results["cases"][case] = row
    with open(args.results, "w") as f:
        json.dump(results, f, indent=1)
    print()
    print(md_table(results))
    print(f"\nresults in {os.path.relpath(args.results, REPO)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
