#!/usr/bin/env python3
"""interruption_check.py — a killed conversion never leaves something that
looks complete, and rerunning the same command finishes the work.

Uses the ERA5-like input of scripts/memory_check.py (cached under
target/arco-checks/). For each kill time K in --kill-after (default 0.5 s,
then 1.5 s):

    arco convert SRC DEST --layout timeseries --memory 64MiB      (SIGKILL after K s)

and asserts that DEST does not look complete: DEST is absent, or it has no
``zarr.json`` / ``.zgroup`` at its root and ``xarray.open_zarr(DEST)`` fails.
What was left (for example ``DEST.arco-partial`` and its file count) is printed.
The kills run back to back on the same destination, so the second one
interrupts a resumed run. Then the same command runs to the end: exit 0,
``DEST.arco-partial`` gone, ``arco verify SRC DEST`` exit 0.

A run that finishes its work before its kill proves nothing: that kill is a
SKIP (DEST then must verify), and if no kill interrupted anything the check
FAILs, asking for a larger --steps (the check must be able to fail).

Output: PASS / FAIL lines and ``interruption-check: N passed, M failed, K skipped``;
exit 1 on any failure.

Usage:
    .peers-venv/bin/python scripts/interruption_check.py [--arco target/debug/arco]
        [--kill-after 0.5,1.5] [--steps 48] [--memory 64MiB]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from interop_common import REPO, Judge, find_arco, first_line, run_measured  # noqa: E402
from memory_check import era5like  # noqa: E402
import xarray as xr  # noqa: E402

warnings.simplefilter("ignore")


def count_files(path: str) -> int:
    return sum(len(files) for _, _, files in os.walk(path)) if os.path.isdir(path) else 0


def looks_complete(dest: str) -> list[str]:
    """Reasons DEST looks like a finished store (empty: it does not)."""
    if not os.path.exists(dest):
        return []
    out = []
    for m in ("zarr.json", ".zgroup"):
        if os.path.exists(os.path.join(dest, m)):
            out.append(f"{os.path.basename(dest)}/{m} exists")
    try:
        xr.open_zarr(dest, consolidated=False, chunks=None).close()
        out.append("xarray.open_zarr opens it")
    except Exception:
        pass
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description="arco convert interruption check (see the module docstring)")
    ap.add_argument("--arco", default=os.path.join(REPO, "target/debug/arco"))
    ap.add_argument("--kill-after", default="0.5,1.5", help="seconds before each SIGKILL, comma-separated")
    ap.add_argument("--steps", type=int, default=48)
    ap.add_argument("--memory", default="64MiB")
    ap.add_argument("--layout", default="timeseries")
    ap.add_argument("--timeout", type=int, default=900)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    arco = find_arco(args.arco, "interruption-check")
    if arco is None:
        print("interruption-check: 0 passed, 1 failed, 0 skipped")
        return 1
    j = Judge(arco, args.verbose, args.timeout)
    src = era5like(args.steps)
    tmp = tempfile.mkdtemp(prefix="arco-interrupt-")
    dest = os.path.join(tmp, "out.zarr")
    partial = dest + ".arco-partial"
    cmd = [arco, "convert", src, dest, "--layout", args.layout, "--memory", args.memory]
    interrupted = 0
    try:
        for k in [float(x) for x in args.kill_after.split(",") if x]:
            tag = f"SIGKILL after {k:g} s"
            r = run_measured(cmd, kill_after=k, timeout=args.timeout)
            left = (f"left: {os.path.basename(dest)} {'present' if os.path.exists(dest) else 'absent'}, "
                    f"{os.path.basename(partial)} with {count_files(partial)} files")
            why = looks_complete(dest)
            done = not r["killed"]
            if why:
                # complete-looking: fine only if the work was in fact all done
                v = run_measured([arco, "verify", src, dest], timeout=args.timeout)
                if v["rc"] == 0:
                    done = True
                else:
                    j.report("FAIL", f"{tag}: {left}", why + [f"but verify exit {v['rc']}: "
                                                              f"{first_line(v['stderr'] or v['stdout'])}"])
                    interrupted += 1
                    continue
            if done:
                j.report("SKIP", f"{tag}: the conversion finished its work first "
                                 f"(exit {r['rc']}, {r['wall_s']:.2f} s); nothing to judge")
                shutil.rmtree(dest, ignore_errors=True)
                continue
            interrupted += 1
            j.report("PASS", f"{tag}: {left}")
        if not interrupted:
            j.report("FAIL", "interruption", ["no kill interrupted a conversion: use a larger --steps"])
        r = run_measured(cmd, timeout=args.timeout)
        tag = f"rerun to the end ({r['wall_s']:.1f} s)"
        reasons = []
        if r["rc"] != 0:
            reasons.append(f"exit {r['rc']}: {first_line(r['stderr'])}")
        else:
            if os.path.exists(partial):
                reasons.append(f"{os.path.basename(partial)} still there after success")
            if not os.path.isfile(os.path.join(dest, "zarr.json")):
                reasons.append("no zarr.json at the root after success")
            v = run_measured([arco, "verify", src, dest], timeout=args.timeout)
            if v["rc"] != 0:
                reasons.append(f"verify exit {v['rc']}: {first_line(v['stderr'] or v['stdout'])}")
        j.report("FAIL" if reasons else "PASS", tag, reasons)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"interruption-check: {j.passed} passed, {j.failed} failed, {j.skipped} skipped")
    return 1 if j.failed else 0


if __name__ == "__main__":
    sys.exit(main())
