#!/usr/bin/env python3
"""interop_common.py — the harness shared by arco's Python-side judges.

Used by scripts/interop.py (reading), scripts/interop_convert.py,
scripts/interop_concat.py, scripts/memory_check.py,
scripts/interruption_check.py (conversion) and bench/convert/run.py:

* the sample files and fixtures to check (``discover``) and the deliberately
  broken ones (``BAD_FILES``);
* ``Judge``: runs the arco binary, prints one PASS / FAIL / SKIP line per check
  and counts them;
* ``run_measured``: runs a command as a child process and returns its exit code,
  output, wall time and peak resident memory (the child's own VmHWM; see there
  why ``ru_maxrss`` alone would be wrong);
* ``write_era5like``: the ERA5-like NetCDF-4 test file of the benchmark plan
  (float32 ``t2m(time, lat, lon)``, chunks (1, lat, lon), shuffle + deflate 1);
* ``MotoServer``: an S3-compatible server (moto) on loopback for S3 checks.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

# Import order matters: hdf5plugin must register its filters in h5py's HDF5
# before netCDF4 points HDF5_PLUGIN_PATH at its own plugin builds.
import h5py  # noqa: E402,F401
import hdf5plugin  # noqa: E402,F401
import netCDF4  # noqa: E402
import numpy as np  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEARCH_DIRS = [
    "tests/data/real/netcdf3",
    "tests/data/real/netcdf4",
    "tests/data/real/hdf5-fixtures",
    "tests/data/fixtures",
]
EXTS = (".nc", ".cdf", ".nc4", ".h5", ".hdf5", ".he5")
HDF5_EXTS = (".h5", ".hdf5", ".he5")

# Deliberately broken files: what must fail.
#   "open": arco inspect must exit 1 (or, when the damage lies beyond the
#           metadata, at least one variable dump must exit 1; none may crash)
#   list of variable paths: dumping these must exit 1; everything else in the
#           file is checked as usual
# `arco convert` of any of them must exit 1 (scripts/interop_convert.py).
BAD_FILES = {
    "corrupt_fletcher32.h5": ["/data"],
    "unknown_filter.h5": ["/data"],
    "truncated.nc": "open",
    "not_a_netcdf.nc": "open",
}

# Attributes netCDF-C hides from the netCDF API but that a reader may show.
NC_VIRTUAL_ATTRS = {"_NCProperties", "_IsNetcdf4", "_SuperblockVersion", "_Format"}
MAX_REASONS = 6



class Judge:
    def __init__(self, arco: str, verbose: bool, timeout: int):
        self.arco = arco
        self.verbose = verbose
        self.timeout = timeout
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.skips: list[str] = []
        self.fails: list[str] = []
        self.tmp = tempfile.mkdtemp(prefix="arco-interop-")

    def report(self, status: str, what: str, reasons=()):
        reasons = [r for r in reasons if r]
        line = f"{status} {what}"
        if reasons:
            shown = reasons[:MAX_REASONS]
            more = f" (+{len(reasons) - MAX_REASONS} more)" if len(reasons) > MAX_REASONS else ""
            line += ": " + "; ".join(shown) + more
        print(line, flush=True)
        if status == "PASS":
            self.passed += 1
        elif status == "FAIL":
            self.failed += 1
            self.fails.append(line)
        else:
            self.skipped += 1
            self.skips.append(line)

    def run(self, *args, env: dict | None = None, timeout: int | None = None):
        """Run `arco ARGS...`; returns (exit code, stdout, stderr)."""
        cmd = [self.arco, *args]
        timeout = timeout or self.timeout
        try:
            p = subprocess.run(cmd, capture_output=True, timeout=timeout,
                               env=None if env is None else {**os.environ, **env})
        except subprocess.TimeoutExpired:
            return -9, "", f"timed out after {timeout}s: {' '.join(cmd)}"
        except OSError as e:
            return -1, "", f"cannot run {cmd[0]}: {e}"
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def short(x, n=120) -> str:
    s = repr(x)
    return s if len(s) <= n else s[: n - 3] + "..."


def rel(path: str) -> str:
    try:
        return os.path.relpath(path, REPO)
    except ValueError:
        return path


def unsupported(stderr: str) -> str | None:
    """An arco error that declares a feature unsupported (a SKIP, not a FAIL)."""
    for line in stderr.splitlines():
        if re.search(r"\bunsupported\b|\bnot supported\b|\bnot (yet )?implemented\b", line, re.I):
            return line.strip()[:200]
    return None


def first_line(stderr: str) -> str:
    s = stderr.strip().splitlines()
    return s[0][:200] if s else "(no message)"



def is_cftime(x) -> bool:
    return type(x).__module__.startswith("cftime")



def to_text(x):
    if isinstance(x, (bytes, np.bytes_)):
        return bytes(x).rstrip(b"\0").decode("utf-8", "replace")
    return str(x)



def join(parent: str, name: str) -> str:
    return parent.rstrip("/") + "/" + name



def discover(files: list[str], only: str | None) -> list[str]:
    if not files:
        for d in SEARCH_DIRS:
            full = os.path.join(REPO, d)
            if not os.path.isdir(full):
                continue
            for n in sorted(os.listdir(full)):
                if n.lower().endswith(EXTS):
                    files.append(os.path.join(full, n))
    if only:
        files = [f for f in files if only in f]
    return files




def find_arco(arco: str, who: str) -> str | None:
    """The arco binary as an absolute path, or None (after saying why)."""
    path = arco if os.path.isabs(arco) else os.path.join(os.getcwd(), arco)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        print(f"{who}: arco binary {arco} not found (cargo build -p arco-cli?)", file=sys.stderr)
        return None
    return path


def peers_bin(name: str) -> str:
    """A console script of the peers venv (the one running this Python)."""
    return os.path.join(os.path.dirname(sys.executable), name)


# ---------------------------------------------------------------- child processes


def _vm_hwm(pid: int, cmdline: bytes) -> int | None:
    """VmHWM of pid in bytes, once pid runs cmdline (not before its exec)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            if f.read() != cmdline:
                return None
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


def run_measured(cmd: list[str], env: dict | None = None, timeout: float | None = None,
                 kill_after: float | None = None, cwd: str | None = None, poll: float = 0.005) -> dict:
    """Run cmd as a child; return rc, stdout, stderr, wall_s, peak_rss (bytes),
    killed (True when kill_after seconds passed and it got SIGKILL) and
    timed_out (killed by the timeout; rc -9).

    Peak RSS. The kernel's ru_maxrss of a child started from this (large)
    Python process is useless on its own: fork/vfork + exec carry the parent's
    high-water mark over into the child (exec_mmap keeps the old mm's hiwater
    in signal->maxrss), so every child would "peak" at Python's size. So the
    child's own VmHWM (/proc/PID/status, a per-mm high-water mark that starts
    afresh at exec) is sampled every `poll` seconds once /proc/PID/cmdline shows
    cmd; being a high-water mark, a sample misses only growth in the last
    interval before exit. ru_maxrss from wait4 is used too when it exceeds
    this process's own maxrss (then it cannot be the inherited value)."""
    import resource

    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    want = b"".join(os.fsencode(c) + b"\0" for c in cmd)
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=cwd,
                         env=None if env is None else {**os.environ, **env})
    killed = timed_out = False
    status = ru = None
    hwm = 0
    while True:
        h = _vm_hwm(p.pid, want)
        if h:
            hwm = max(hwm, h)
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            break
        el = time.perf_counter() - t0
        if kill_after is not None and el >= kill_after and not killed:
            os.kill(p.pid, signal.SIGKILL)
            killed = True
        if timeout is not None and el >= timeout and not killed:
            os.kill(p.pid, signal.SIGKILL)
            killed = timed_out = True
        time.sleep(poll)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    ru_child = ru.ru_maxrss * 1024  # KiB on Linux
    ru_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    peak = max(hwm, ru_child if ru_child > ru_self else 0)
    out.seek(0)
    err.seek(0)
    return {
        "rc": p.returncode,
        "stdout": out.read().decode("utf-8", "replace"),
        "stderr": err.read().decode("utf-8", "replace"),
        "wall_s": wall,
        "cpu_s": ru.ru_utime + ru.ru_stime,  # the child's own user + system time
        "peak_rss": peak,
        "peak_rss_sampled": hwm,
        "peak_rss_known": bool(hwm) or ru_child > ru_self,  # False: ended before the first sample
        "killed": killed,
        "timed_out": timed_out,
    }


def mib(n: float) -> str:
    return f"{n / 2**20:.1f} MiB"


def parse_size(s: str) -> int:
    """'64MiB', '2GiB', '500MB', '1048576' -> bytes."""
    m = re.fullmatch(r"\s*([0-9.]+)\s*([KMGT]?)(i?)B?\s*", s, re.I)
    if not m:
        raise ValueError(f"not a size: {s!r}")
    num, unit, i = m.groups()
    base = 1024 if (i or not unit) else 1000
    return int(float(num) * base ** "_KMGT".index(unit.upper() or "_"))


# ---------------------------------------------------------------- the ERA5-like file


def write_era5like(path: str, steps: int, nlat: int = 721, nlon: int = 1440, seed: int = 0,
                   complevel: int = 1) -> int:
    """Write the benchmark plan's ERA5-like NetCDF-4 file with netCDF4-python:
    float32 t2m(time, lat, lon) = 280 + 20 sin(lat) cos(lon + 0.05 t)
    + 5 sin(2 pi t / 24) + U(-0.25, 0.25), chunks (1, nlat, nlon), shuffle +
    deflate level `complevel`; CF time (hours since 2000-01-01), lat, lon.
    Deterministic for a seed. Returns the file size in bytes."""
    rng = np.random.default_rng(seed)
    lat = np.linspace(90, -90, nlat)
    lon = np.linspace(0, 360, nlon, endpoint=False)
    slat = np.sin(np.deg2rad(lat))[:, None].astype(np.float32)
    rlon = np.deg2rad(lon)[None, :].astype(np.float32)
    tmp = path + ".tmp"
    with netCDF4.Dataset(tmp, "w", format="NETCDF4") as ds:
        ds.createDimension("time", None)
        ds.createDimension("lat", nlat)
        ds.createDimension("lon", nlon)
        t = ds.createVariable("time", "i4", ("time",))
        t.units = "hours since 2000-01-01 00:00:00"
        t.calendar = "gregorian"
        t.standard_name = "time"
        t.axis = "T"
        la = ds.createVariable("lat", "f8", ("lat",))
        la.units = "degrees_north"
        la.standard_name = "latitude"
        la[:] = lat
        lo = ds.createVariable("lon", "f8", ("lon",))
        lo.units = "degrees_east"
        lo.standard_name = "longitude"
        lo[:] = lon
        v = ds.createVariable("t2m", "f4", ("time", "lat", "lon"), zlib=True, complevel=complevel,
                              shuffle=True, chunksizes=(1, nlat, nlon))
        v.units = "K"
        v.long_name = "2 metre temperature"
        v.standard_name = "air_temperature"
        ds.title = "ERA5-like synthetic 2 m temperature (arco benchmark input)"
        ds.Conventions = "CF-1.8"
        for k in range(steps):
            f = 280 + 20 * slat * np.cos(rlon + np.float32(0.05 * k)) + np.float32(5 * np.sin(2 * np.pi * k / 24))
            f = f + rng.uniform(-0.25, 0.25, size=(nlat, nlon)).astype(np.float32)
            v[k] = f.astype(np.float32)
            t[k] = k
    os.replace(tmp, path)
    return os.path.getsize(path)


# ---------------------------------------------------------------- S3 on loopback


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MotoServer:
    """`moto_server -H 127.0.0.1 -p PORT` from the peers venv, as a context
    manager; .endpoint is its URL, .client() a boto3 S3 client for it."""

    ENV = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1",
           "AWS_DEFAULT_REGION": "us-east-1"}

    def __init__(self):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def __enter__(self):
        exe = peers_bin("moto_server")
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        self.__exit__(None, None, None)
        raise RuntimeError(f"moto_server did not start on port {self.port}")

    def client(self):
        import boto3
        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id="test",
                            aws_secret_access_key="test", region_name="us-east-1")

    def storage_options(self) -> dict:
        """For fsspec/s3fs (xarray.open_zarr(..., storage_options=...))."""
        return {"key": "test", "secret": "test", "client_kwargs": {"endpoint_url": self.endpoint,
                                                                    "region_name": "us-east-1"}}

    def __exit__(self, *exc):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return False
