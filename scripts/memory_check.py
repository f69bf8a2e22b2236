#!/usr/bin/env python3
"""memory_check.py — a conversion larger than its --memory budget stays within it.

Writes (once, cached under target/arco-checks/) the ERA5-like NetCDF-4 file of
the benchmark plan: float32 t2m(time, 721, 1440), chunks (1, 721, 1440),
shuffle + deflate 1; 48 steps by default, about 200 MB of values (4.15 MB a
step), several times the budget. Then, for each layout (timeseries first: the
one that must rechunk through a temporary store):

    arco convert SRC OUT.zarr --layout L --memory 64MiB

as a child process, with its peak resident memory taken from the kernel: the
child's own VmHWM high-water mark, sampled every 5 ms (``ru_maxrss`` alone
would report this Python process's size: see interop_common.run_measured;
the two agree with GNU time's %M), and asserts

    peak RSS <= budget + ALLOWANCE        (exit 0 required too)

then ``arco verify SRC OUT.zarr`` must exit 0 (its peak is printed, not judged).

ALLOWANCE = 48 MiB is the part of the process that no budget governs: the
executable's mapped code and data (tens of MB for a debug build), the Rust runtime, the thread stacks of the rayon and tokio pools
and the allocator's slack. The baseline printed first (``arco convert`` of a
40 KB fixture) shows what that part weighs on this machine; it must itself
stay under the allowance.

This is a test, not a benchmark: wall times are printed, never asserted.

Output: one PASS / FAIL line per check and ``memory-check: N passed, M failed, K skipped``;
exit 1 on any failure.

Usage:
    .peers-venv/bin/python scripts/memory_check.py [--arco target/debug/arco]
        [--memory 64MiB] [--steps 48] [--allowance 48MiB] [--layouts timeseries,map]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from interop_common import (  # noqa: E402
    REPO,
    Judge,
    find_arco,
    first_line,
    mib,
    parse_size,
    run_measured,
    write_era5like,
)

ALLOWANCE = "48MiB"
SMALL = os.path.join(REPO, "tests/data/fixtures/nc4_cf.nc")


def era5like(steps: int) -> str:
    """The cached ERA5-like input with this many steps (written on first use)."""
    d = os.path.join(REPO, "target", "arco-checks")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, f"era5like-{steps}.nc")
    if not os.path.exists(path):
        print(f"writing {os.path.relpath(path, REPO)} ({steps} steps of 721 x 1440 float32) ...", flush=True)
        write_era5like(path, steps)
    return path


def chunk_shape(dest: str, var: str = "t2m"):
    try:
        with open(os.path.join(dest, var, "zarr.json")) as f:
            meta = json.load(f)
        return meta["chunk_grid"]["configuration"]["chunk_shape"]
    except (OSError, KeyError, ValueError):
        return None


def main() -> int:
    ap = argparse.ArgumentParser(description="arco convert peak-memory check (see the module docstring)")
    ap.add_argument("--arco", default=os.path.join(REPO, "target/debug/arco"))
    ap.add_argument("--memory", default="64MiB", help="the --memory budget given to arco")
    ap.add_argument("--allowance", default=ALLOWANCE, help="fixed allowance for the binary itself")
    ap.add_argument("--steps", type=int, default=48, help="time steps of the input (4.15 MB each)")
    ap.add_argument("--layouts", default="timeseries,map")
    ap.add_argument("--timeout", type=int, default=900)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    arco = find_arco(args.arco, "memory-check")
    if arco is None:
        print("memory-check: 0 passed, 1 failed, 0 skipped")
        return 1
    budget, allowance = parse_size(args.memory), parse_size(args.allowance)
    limit = budget + allowance
    j = Judge(arco, args.verbose, args.timeout)
    src = era5like(args.steps)
    raw = args.steps * 721 * 1440 * 4
    print(f"input {os.path.relpath(src, REPO)}: {mib(os.path.getsize(src))} on disk, {mib(raw)} of values; "
          f"budget {mib(budget)} + allowance {mib(allowance)} = limit {mib(limit)}")
    tmp = tempfile.mkdtemp(prefix="arco-memory-")
    try:
        # baseline: the binary converting a tiny file
        r = run_measured([arco, "convert", SMALL, os.path.join(tmp, "small.zarr")], timeout=args.timeout)
        if r["rc"] != 0:
            j.report("FAIL", "baseline convert of nc4_cf.nc", [f"exit {r['rc']}: {first_line(r['stderr'])}"])
        else:
            why = [] if r["peak_rss"] <= allowance else [f"the binary alone exceeds the allowance {mib(allowance)}"]
            j.report("FAIL" if why else "PASS", f"baseline convert of a 40 KB file: peak RSS {mib(r['peak_rss'])}",
                     why)
        for layout in [x for x in args.layouts.split(",") if x]:
            dest = os.path.join(tmp, f"{layout}.zarr")
            shutil.rmtree(dest, ignore_errors=True)
            cmd = [arco, "convert", src, dest, "--layout", layout, "--memory", args.memory]
            r = run_measured(cmd, timeout=args.timeout)
            tag = f"convert --layout {layout} --memory {args.memory}"
            if r["rc"] != 0:
                j.report("FAIL", tag, [f"exit {r['rc']} after {r['wall_s']:.1f} s: {first_line(r['stderr'])}"])
                continue
            peak = r["peak_rss"]
            if not r["peak_rss_known"]:
                j.report("FAIL", tag, ["the process ended before its memory could be sampled"])
                continue
            facts = (f"peak RSS {mib(peak)} (limit {mib(limit)}), {r['wall_s']:.1f} s, "
                     f"{mib(raw / r['wall_s'])}/s, chunks {chunk_shape(dest)}")
            j.report("PASS" if peak <= limit else "FAIL", f"{tag}: {facts}",
                     [] if peak <= limit else [f"peak exceeds budget + allowance by {mib(peak - limit)}"])
            v = run_measured([arco, "verify", src, dest], timeout=args.timeout)
            vt = f"verify after --layout {layout}: peak RSS {mib(v['peak_rss'])}, {v['wall_s']:.1f} s"
            j.report("PASS" if v["rc"] == 0 else "FAIL", vt,
                     [] if v["rc"] == 0 else [f"exit {v['rc']}: {first_line(v['stderr'] or v['stdout'])}"])
            shutil.rmtree(dest, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"memory-check: {j.passed} passed, {j.failed} failed, {j.skipped} skipped")
    return 1 if j.failed else 0


if __name__ == "__main__":
    sys.exit(main())
