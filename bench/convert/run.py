#!/usr/bin/env python3
"""bench/convert/run.py — benchmark B1 of docs: netCDF4 -> Zarr v3, arco against
xarray + dask + zarr-python 3, with the codec floor. See bench/convert/README.md.

    .peers-venv/bin/python bench/convert/run.py --size quick [--arco target/release/arco]
        [--threads 2] [--memory 1GiB] [--reps 1] [--layouts map,timeseries] [--cold]

Steps:
1. input: the ERA5-like NetCDF-4 file (scripts/interop_common.write_era5like):
   float32 t2m(time, 721, 1440), chunks (1, 721, 1440), shuffle + deflate 1;
   quick = 48 steps (199 MB of values), full = 730 steps (3.03 GB). Cached
   under target/arco-checks/ (shared with scripts/memory_check.py).
2. per repetition, per layout, each as its own process with its wall time,
   CPU seconds and peak RSS (interop_common.run_measured: the child's VmHWM):
   * arco convert SRC OUT --layout L --threads T --memory M
   * bench/convert/xarray_peer.py: xarray.open_dataset(SRC, chunks={}) ->
     .chunk(arco's chunk shape) -> to_zarr(zarr_format=3) with arco's codec
     chain (read from arco's zarr.json), dask threaded scheduler with T
     workers and zarr-python's pool of T threads.
3. checks (untimed): `arco verify SRC OUT` for arco's outputs; the peer's t2m
   equals arco's at the first, middle and last time step.
4. the codec floor on the same bytes (see `codec_floor`): every stored chunk
   of SRC read raw with h5py (read_direct_chunk, not timed), then timed on one
   core: inflate (CPython's zlib, the C zlib) + arco's output codec chain
   (numcodecs: blosc/zstd from the same C libraries zarr-python uses), best of
   3, summed over all chunks and divided by T cores. HDF5's byte-unshuffle is
   timed and reported but not included, and disk I/O (the input is in the page
   cache unless --cold) and any rechunking copy are left out, so it is a lower
   bound for a conversion that must decode and encode every value once.

Writes a table to stdout and bench/convert/results.json (ratios: R = T_xarray /
T_arco per layout, E = T_floor / T_arco, peak RSS / budget). Each run's CPU
seconds (user + system, from wait4) are recorded too: on a machine shared with
other work the wall times stretch, the CPU seconds much less, so
CPU_arco / CPU_floor(one core) and CPU_xarray / CPU_arco are the steadier ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "scripts"))

from interop_common import mib, parse_size, run_measured, write_era5like  # noqa: E402
import h5py  # noqa: E402
import numpy as np  # noqa: E402

SIZES = {"quick": 48, "full": 730}
VAR = "t2m"


# ---------------------------------------------------------------- helpers


def du(path: str) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total


def evict(path: str):
    """Drop a file's pages from the page cache (drop_caches is not permitted)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def warm(path: str):
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def zarr_json(dest: str) -> dict | None:
    try:
        with open(os.path.join(dest, VAR, "zarr.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def machine() -> dict:
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_bytes": mem, "kernel": platform.release(),
            "python": platform.python_version(), "loadavg_at_start": os.getloadavg()}


def versions(arco: str) -> dict:
    import importlib.metadata as md
    out = {}
    try:
        out["arco"] = subprocess.run([arco, "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        out["arco"] = None
    for n in ["xarray", "dask", "zarr", "numcodecs", "netCDF4", "h5py", "numpy"]:
        try:
            out[n] = md.version(n)
        except md.PackageNotFoundError:
            out[n] = None
    try:
        out["git"] = subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty"], capture_output=True,
                                    text=True).stdout.strip()
    except OSError:
        pass
    return out


# ---------------------------------------------------------------- the codec floor


def numcodecs_chain(chain: list[dict], itemsize: int):
    """arco's Zarr v3 codec JSON -> a list of encode functions (bytes -> bytes)."""
    import numcodecs

    numcodecs.blosc.use_threads = False
    numcodecs.blosc.set_nthreads(1)
    fns = []
    for c in chain:
        name, cfg = c["name"], c.get("configuration", {}) or {}
        if name == "bytes":
            continue  # little-endian input stays as it is
        if name in ("zstd", "numcodecs.zstd"):
            fns.append((name, numcodecs.Zstd(level=cfg.get("level", 0), checksum=cfg.get("checksum", False)).encode))
        elif name == "numcodecs.shuffle":
            fns.append((name, numcodecs.Shuffle(elementsize=cfg.get("elementsize", itemsize)).encode))
        elif name == "blosc":
            shuf = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}.get(cfg.get("shuffle", "shuffle"), 1)
            blosc = numcodecs.Blosc(cname=cfg.get("cname", "zstd"), clevel=cfg.get("clevel", 5),
                                    shuffle=shuf, blocksize=cfg.get("blocksize", 0))
            typesize = cfg.get("typesize") or itemsize
            # numcodecs takes Blosc's typesize from the buffer's item size
            fns.append((name, lambda b, blosc=blosc, ts=typesize: blosc.encode(np.frombuffer(b, f"u{ts}"))))
        elif name == "gzip":
            fns.append((name, numcodecs.GZip(level=cfg.get("level", 5)).encode))
        elif name in ("crc32c", "numcodecs.crc32c"):
            fns.append((name, numcodecs.CRC32C().encode))
        elif name in ("numcodecs.lz4", "lz4"):
            fns.append((name, numcodecs.LZ4(acceleration=cfg.get("acceleration", 1)).encode))
        else:
            raise ValueError(f"no floor model for codec {name}")
    return fns


def codec_floor(src: str, chain: list[dict], threads: int, reps: int = 3) -> dict:
    """One core, every stored chunk: inflate, unshuffle, encode with arco's codecs, each timed.
    Floor = inflate + encode (best of `reps` each), divided by `threads`."""
    with h5py.File(src, "r") as f:
        d = f[VAR]
        itemsize = d.dtype.itemsize
        blobs = []
        n = d.id.get_num_chunks()
        for i in range(n):
            info = d.id.get_chunk_info(i)
            blobs.append(d.id.read_direct_chunk(info.chunk_offset)[1])
    fns = numcodecs_chain(chain, itemsize)
    best = {"inflate": 1e99, "unshuffle": 1e99, "encode": 1e99}
    raw_bytes = enc_bytes = 0
    for _ in range(reps):
        t_inf = t_uns = t_enc = 0.0
        raw_bytes = enc_bytes = 0
        for b in blobs:
            t0 = time.perf_counter()
            x = zlib.decompress(b)
            t1 = time.perf_counter()
            y = np.frombuffer(x, np.uint8).reshape(itemsize, -1).T.tobytes()
            t2 = time.perf_counter()
            for _, fn in fns:
                y = fn(y)
            t3 = time.perf_counter()
            t_inf += t1 - t0
            t_uns += t2 - t1
            t_enc += t3 - t2
            raw_bytes += len(x)
            enc_bytes += len(y)
        best["inflate"] = min(best["inflate"], t_inf)
        best["unshuffle"] = min(best["unshuffle"], t_uns)
        best["encode"] = min(best["encode"], t_enc)
    # The floor is the "inflate + zstd encode per core": the unshuffle of
    # HDF5's filter is timed and reported but left out (numpy's strided copy is
    # far slower than a real byte-shuffle), which makes the floor stricter.
    one_core = best["inflate"] + best["encode"]
    return {
        "what": "per core, all chunks: zlib inflate + arco's codec chain (numcodecs), divided by threads; "
                "HDF5 unshuffle reported apart, not included; no disk I/O, no rechunk copy",
        "codecs": [c["name"] for c in chain],
        "chunks": len(blobs),
        "raw_bytes": raw_bytes,
        "encoded_bytes": enc_bytes,
        "inflate_s": best["inflate"],
        "unshuffle_s": best["unshuffle"],
        "encode_s": best["encode"],
        "one_core_s": one_core,
        "threads": threads,
        "floor_s": one_core / threads,
    }


# ---------------------------------------------------------------- runs


def same_values(a: str, b: str, nt: int) -> str | None:
    import zarr
    za, zb = zarr.open_array(os.path.join(a, VAR), mode="r"), zarr.open_array(os.path.join(b, VAR), mode="r")
    if za.shape != zb.shape:
        return f"shape {zb.shape} != {za.shape}"
    for t in sorted({0, nt // 2, nt - 1}):
        x, y = za[t], zb[t]
        if not np.array_equal(x, y, equal_nan=True):
            return f"t2m[{t}] differs"
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description="arco convert benchmark (see the module docstring)")
    ap.add_argument("--size", choices=sorted(SIZES), default="quick")
    ap.add_argument("--steps", type=int, help="override the number of time steps")
    ap.add_argument("--arco", default=os.path.join(REPO, "target/release/arco"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--memory", default="1GiB", help="arco's --memory budget")
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--layouts", default="map,timeseries")
    ap.add_argument("--no-peer", action="store_true", help="skip xarray + dask (slow on full)")
    ap.add_argument("--cold", action="store_true", help="evict the input from the page cache before each run")
    ap.add_argument("--workdir", help="where outputs go (default: a temp dir beside the input)")
    ap.add_argument("--results", default=os.path.join(HERE, "results.json"))
    args = ap.parse_args()

    arco = os.path.abspath(args.arco)
    if not os.access(arco, os.X_OK):
        print(f"bench: arco binary {arco} not found (cargo build --release -p arco-cli)", file=sys.stderr)
        return 1
    steps = args.steps or SIZES[args.size]
    cache = os.path.join(REPO, "target", "arco-checks")  # shared with scripts/memory_check.py
    os.makedirs(cache, exist_ok=True)
    src = os.path.join(cache, f"era5like-{steps}.nc")
    if not os.path.exists(src):
        print(f"writing {os.path.relpath(src, REPO)} ({steps} steps) ...", flush=True)
        t0 = time.perf_counter()
        write_era5like(src, steps)
        print(f"  {mib(os.path.getsize(src))} in {time.perf_counter() - t0:.0f} s", flush=True)
    raw = steps * 721 * 1440 * 4
    budget = parse_size(args.memory)
    work = tempfile.mkdtemp(prefix="arco-bench-", dir=args.workdir or cache)
    env = {"RAYON_NUM_THREADS": str(args.threads), "OMP_NUM_THREADS": "1", "BLOSC_NTHREADS": "1"}
    layouts = [x for x in args.layouts.split(",") if x]
    runs = []
    print(f"input {os.path.relpath(src, REPO)}: {steps} steps, {mib(raw)} of values, "
          f"{mib(os.path.getsize(src))} on disk; {args.threads} threads; arco --memory {args.memory}", flush=True)

    def one(tool: str, layout: str, rep: int, cmd: list[str], dest: str) -> dict:
        shutil.rmtree(dest, ignore_errors=True)
        if args.cold:
            evict(src)
        else:
            warm(src)
        r = run_measured(cmd, env=env, timeout=7200)
        rec = {"tool": tool, "layout": layout, "rep": rep, "rc": r["rc"], "wall_s": r["wall_s"], "cpu_s": r["cpu_s"],
               "peak_rss": r["peak_rss"], "out_bytes": du(dest) if r["rc"] == 0 else None,
               "error": None if r["rc"] == 0 else (r["stderr"].strip().splitlines() or ["?"])[-1][:300]}
        runs.append(rec)
        status = (f"{r['wall_s']:7.2f} s  cpu {r['cpu_s']:6.2f} s ({r['cpu_s'] / r['wall_s']:.2f} cores)  "
                  f"peak {mib(r['peak_rss']):>10}") if r["rc"] == 0 else f"FAILED: {rec['error']}"
        print(f"  rep {rep} {tool:7s} {layout:10s} {status}", flush=True)
        return rec

    outs = {}
    try:
        for rep in range(args.reps):
            for layout in layouts:
                adest = os.path.join(work, f"arco-{layout}.zarr")
                a = one("arco", layout, rep, [arco, "convert", src, adest, "--layout", layout, "--threads",
                                              str(args.threads), "--memory", args.memory], adest)
                outs[("arco", layout)] = adest if a["rc"] == 0 else None
                if args.no_peer:
                    continue
                meta = zarr_json(adest)
                if meta is None:
                    print(f"  rep {rep} xarray  {layout:10s} skipped: no arco zarr.json to copy chunks/codecs from")
                    continue
                pdest = os.path.join(work, f"xarray-{layout}.zarr")
                zj = os.path.join(work, f"arco-{layout}.zarr.json")
                shutil.copy(os.path.join(adest, VAR, "zarr.json"), zj)
                p = one("xarray", layout, rep, [sys.executable, os.path.join(HERE, "xarray_peer.py"), src, pdest,
                                                "--zarr-json", zj, "--workers", str(args.threads)], pdest)
                outs[("xarray", layout)] = pdest if p["rc"] == 0 else None

        # checks (untimed)
        checks = {}
        for layout in layouts:
            ad, pd = outs.get(("arco", layout)), outs.get(("xarray", layout))
            if ad:
                v = run_measured([arco, "verify", src, ad], timeout=7200)
                checks[f"arco verify {layout}"] = "ok" if v["rc"] == 0 else \
                    f"exit {v['rc']}: {(v['stderr'] or v['stdout']).strip()[:200]}"
            if ad and pd:
                why = same_values(ad, pd, steps)
                checks[f"xarray output equals arco {layout}"] = why or "ok"
        for k, v in checks.items():
            print(f"  check {k}: {v}")

        # the floor, with arco's codec chain (from the map output, else the first that exists)
        floor = None
        for layout in layouts:
            meta = zarr_json(outs.get(("arco", layout)) or "")
            if meta:
                try:
                    floor = codec_floor(src, meta["codecs"], args.threads)
                except ValueError as e:
                    floor = {"error": str(e)}
                break
        if floor and "floor_s" in floor:
            print(f"  floor ({'+'.join(floor['codecs'])}): inflate {floor['inflate_s']:.2f} s + encode "
                  f"{floor['encode_s']:.2f} s on one core = {floor['one_core_s']:.2f} s; / {args.threads} = "
                  f"{floor['floor_s']:.2f} s (HDF5 unshuffle, not included: {floor['unshuffle_s']:.2f} s)")

        # summary
        def best(tool, layout):
            xs = [r["wall_s"] for r in runs if r["tool"] == tool and r["layout"] == layout and r["rc"] == 0]
            return (min(xs), statistics.median(xs)) if xs else (None, None)

        def cpu(tool, layout):
            xs = [r["cpu_s"] for r in runs if r["tool"] == tool and r["layout"] == layout and r["rc"] == 0]
            return min(xs) if xs else None

        def peak(tool, layout):
            xs = [r["peak_rss"] for r in runs if r["tool"] == tool and r["layout"] == layout and r["rc"] == 0]
            return max(xs) if xs else None

        summary = {}
        print()
        print(f"| layout | arco s (MB/s) | xarray+dask s | R = xarray/arco | floor s | E = floor/arco "
              f"| CPU s arco / xarray / floor | arco peak RSS / budget | xarray peak RSS |")
        print("|---|---|---|---|---|---|---|---|---|")
        for layout in layouts:
            (a_min, a_med), (x_min, x_med) = best("arco", layout), best("xarray", layout)
            ap_, xp = peak("arco", layout), peak("xarray", layout)
            fs = floor.get("floor_s") if floor else None
            f1 = floor.get("one_core_s") if floor else None
            a_cpu, x_cpu = cpu("arco", layout), cpu("xarray", layout)
            s = {"arco_s_min": a_min, "arco_s_median": a_med, "xarray_s_min": x_min, "xarray_s_median": x_med,
                 "R_xarray_over_arco": (x_min / a_min) if a_min and x_min else None,
                 "floor_s": fs, "E_floor_over_arco": (fs / a_min) if fs and a_min else None,
                 "arco_over_floor": (a_min / fs) if fs and a_min else None,
                 "arco_cpu_s_min": a_cpu, "xarray_cpu_s_min": x_cpu,
                 "R_cpu_xarray_over_arco": (x_cpu / a_cpu) if a_cpu and x_cpu else None,
                 "arco_cpu_over_floor_cpu": (a_cpu / f1) if a_cpu and f1 else None,
                 "arco_peak_rss": ap_, "budget": budget, "arco_peak_over_budget": (ap_ / budget) if ap_ else None,
                 "xarray_peak_rss": xp,
                 "arco_out_bytes": next((r["out_bytes"] for r in runs if r["tool"] == "arco"
                                         and r["layout"] == layout and r["rc"] == 0), None),
                 "xarray_out_bytes": next((r["out_bytes"] for r in runs if r["tool"] == "xarray"
                                           and r["layout"] == layout and r["rc"] == 0), None),
                 "chunks": (zarr_json(outs.get(("arco", layout)) or "") or {}).get("chunk_grid", {})
                 .get("configuration", {}).get("chunk_shape")}
            summary[layout] = s

            def f(x, fmt="{:.2f}"):
                return fmt.format(x) if x is not None else "—"
            mbs = f"{raw / a_min / 1e6:.0f}" if a_min else "—"
            print(f"| {layout} {s['chunks'] or ''} | {f(a_min)} ({mbs}) | {f(x_min)} | {f(s['R_xarray_over_arco'])}× "
                  f"| {f(fs)} | {f(s['E_floor_over_arco'])} | {f(a_cpu)} / {f(x_cpu)} / {f(f1)} | "
                  f"{mib(ap_) if ap_ else '—'} / {mib(budget)} ({f(s['arco_peak_over_budget'])}) "
                  f"| {mib(xp) if xp else '—'} |")
        res = {
            "benchmark": "B1 netCDF4 -> Zarr v3 (bench/convert/run.py)",
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": machine(),
            "versions": versions(arco),
            "params": {"size": args.size, "steps": steps, "threads": args.threads, "memory": args.memory,
                       "reps": args.reps, "cold": args.cold, "raw_bytes": raw, "input_bytes": os.path.getsize(src),
                       "arco": os.path.relpath(arco, REPO)},
            "runs": runs,
            "checks": checks,
            "floor": floor,
            "summary": summary,
            "goals": {"R_xarray_over_arco": ">= 5", "arco_over_floor": "<= 1.7", "arco_peak_over_budget": "<= 1"},
        }
        with open(args.results, "w") as fh:
            json.dump(res, fh, indent=2)
        print(f"\nresults in {os.path.relpath(args.results, REPO)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
