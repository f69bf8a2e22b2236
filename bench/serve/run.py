#!/usr/bin/env python3
"""bench/serve/run.py — `arco serve` against titiler, titiler.xarray and
xpublish (xpublish-tiles, xpublish-edr): map tiles and point time series,
side by side in one run. See bench/serve/README.md.

    python3 bench/serve/run.py [--quick] [--arco target/release/arco]
        [--duration 10] [--servers arco,titiler,titiler-xarray,xpublish]
        [--results bench/serve/results.json]

The peers live in their own venv, bench/serve/.venv, made by this script from
bench/serve/requirements.txt (exact pins) the first time and whenever that
file changes; the script then re-runs itself inside it. `wrk` (Debian) is the
load generator (`apt-get install -y wrk`; done here when missing and root).

Data (cached under target/arco-checks/serve/): a synthetic ERA5-like float32
t2m(time=48, lat=721, lon=1440) on a global 0.25° grid (the formula of
scripts/interop_common.write_era5like, longitudes -180..179.75), written as
NetCDF-3 by xarray; from it (a) a COG of time step 0 by rio-cogeo (deflate,
512² blocks, nearest overviews), (b) `arco convert --layout map --chunks
time=1,lat=256,lon=256` (map.zarr), (c) the same plus `--pyramid` when arco
has that flag (pyramid.zarr), (d) `arco convert --layout timeseries`
(ts.zarr). Every server reads the same files.

Requests: tiles = a 9 × 7 viewport burst around (0°, 0°) at each zoom 0–6 of
WebMercatorQuad (clipped to the matrix: 266 tiles), PNG, rescale 250,320,
colormap viridis, time step 0; series = 1,000 random points (seed 0) inside
the grid, the whole time axis. Per server: a check pass (every URL once,
4 connections: all 200, every tile a 256 × 256 PNG, every series 48 values;
it is also the first warm-up), a 2-second wrk warm-up at 16 connections, then
wrk at 2 and at 16 connections for --duration seconds each, rotating through
the URL list. CPU seconds of the server (its whole process tree) and of wrk
are recorded for every measurement, to show that wrk is not the bottleneck.
Finally arco's tiles are compared pixel by pixel with titiler's (COG) and
titiler.xarray's (Zarr), and arco's series with xpublish-edr's.

Writes a markdown table to stdout and results.json (machine, versions, every
measurement, checks, ratios arco/peer, the goals).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import io
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
VENV = os.path.join(HERE, ".venv")
REQUIREMENTS = os.path.join(HERE, "requirements.txt")
CACHE = os.path.join(REPO, "target", "arco-checks", "serve")
DATA = os.path.join(CACHE, "data")
LUA = os.path.join(HERE, "rotate.lua")

STEPS, NLAT, NLON = 48, 721, 1440
VAR = "t2m"
T0 = "2000-01-01T00:00:00"
RESCALE = (250, 320)
ZOOMS = range(0, 7)
VIEW_W, VIEW_H = 9, 7
N_POINTS = 1000
SEED = 0


# ---------------------------------------------------------------- the venv


def venv_stamp() -> str:
    h = hashlib.sha256()
    with open(REQUIREMENTS, "rb") as f:
        h.update(f.read())
    h.update(sys.version.split()[0].encode())
    return h.hexdigest()


def ensure_venv() -> None:
    """Create or update bench/serve/.venv from requirements.txt, then re-run
    this script inside it (once)."""
    py = os.path.join(VENV, "bin", "python")
    stamp_path = os.path.join(VENV, ".bench-serve-stamp")
    want = venv_stamp()
    have = open(stamp_path).read().strip() if os.path.exists(stamp_path) else ""
    if have != want:
        if not os.path.exists(py):
            print(f"[serve-bench] creating {VENV}", flush=True)
            base = getattr(sys, "_base_executable", None) or sys.executable
            subprocess.run([base, "-m", "venv", VENV], check=True)
        print(f"[serve-bench] installing the pinned peers from {REQUIREMENTS} (a few minutes the first time)",
              flush=True)
        subprocess.run([py, "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", REQUIREMENTS],
                       check=True)
        with open(stamp_path, "w") as f:
            f.write(want + "\n")
    if os.path.realpath(sys.prefix) != os.path.realpath(VENV):
        os.execv(py, [py, os.path.abspath(__file__), *sys.argv[1:]])


def ensure_wrk() -> str:
    w = shutil.which("wrk")
    if w:
        return w
    if os.geteuid() == 0:
        print("[serve-bench] installing wrk (apt-get install -y wrk)", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        w = shutil.which("wrk")
    if not w:
        sys.exit("wrk not found: apt-get install -y wrk")
    return w


# ---------------------------------------------------------------- data


def make_source(path: str) -> None:
    """The ERA5-like field of scripts/interop_common.write_era5like on
    -180..179.75 longitudes, as NetCDF-3 (xarray's scipy engine)."""
    if os.path.exists(path):
        return
    import numpy as np
    import pandas as pd
    import xarray as xr

    lat = np.linspace(90, -90, NLAT)
    lon = np.linspace(-180, 180, NLON, endpoint=False)
    slat = np.sin(np.deg2rad(lat))[:, None].astype(np.float32)
    rlon = np.deg2rad(lon)[None, :].astype(np.float32)
    rng = np.random.default_rng(SEED)
    data = np.empty((STEPS, NLAT, NLON), np.float32)
    for k in range(STEPS):
        data[k] = (280 + 20 * slat * np.cos(rlon + np.float32(0.05 * k)) + np.float32(5 * np.sin(2 * np.pi * k / 24))
                   + rng.uniform(-0.25, 0.25, (NLAT, NLON)).astype(np.float32))
    ds = xr.Dataset(
        {VAR: (("time", "lat", "lon"), data,
               {"units": "K", "long_name": "2 metre temperature", "standard_name": "air_temperature"})},
        coords={"time": pd.date_range("2000-01-01", periods=STEPS, freq="h"),
                "lat": ("lat", lat, {"units": "degrees_north", "standard_name": "latitude"}),
                "lon": ("lon", lon, {"units": "degrees_east", "standard_name": "longitude"})},
        attrs={"title": "ERA5-like synthetic 2 m temperature (arco serve benchmark input)",
               "Conventions": "CF-1.8"})
    ds.time.encoding.update(units="hours since 2000-01-01 00:00:00", calendar="proleptic_gregorian", dtype="int32")
    tmp = path + ".tmp"
    ds.to_netcdf(tmp, format="NETCDF3_64BIT")
    os.replace(tmp, path)


def make_cog(src: str, dest: str) -> None:
    """Time step 0 as a COG: a plain GeoTIFF by rasterio, then rio-cogeo's
    deflate profile (512 × 512 blocks, overviews by nearest)."""
    if os.path.exists(dest):
        return
    import rasterio
    import xarray as xr
    from rasterio.transform import from_origin
    from rio_cogeo.cogeo import cog_translate
    from rio_cogeo.profiles import cog_profiles

    with xr.open_dataset(src) as ds:
        a = ds[VAR].isel(time=0).values.astype("float32")
        lat0, lon0 = float(ds.lat[0]), float(ds.lon[0])
    res = 360 / NLON
    plain = dest + ".plain.tif"
    with rasterio.open(plain, "w", driver="GTiff", height=a.shape[0], width=a.shape[1], count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_origin(lon0 - res / 2, lat0 + res / 2, res, res)) as d:
        d.write(a, 1)
    tmp = dest + ".tmp.tif"
    cog_translate(plain, tmp, cog_profiles.get("deflate"), overview_resampling="nearest", quiet=True)
    os.remove(plain)
    os.replace(tmp, dest)


def arco_has_flag(arco: str, sub: str, flag: str) -> bool:
    p = subprocess.run([arco, sub, "--help"], capture_output=True, text=True)
    return flag in p.stdout


def arco_convert(arco: str, src: str, dest: str, args: list[str]) -> dict:
    """`arco convert` into dest unless the same binary already made it with the
    same arguments (a stamp file in CACHE)."""
    st = os.stat(arco)
    stamp = json.dumps({"arco": os.path.realpath(arco), "size": st.st_size, "mtime": st.st_mtime, "args": args})
    stamp_path = os.path.join(CACHE, os.path.basename(dest) + ".stamp")  # outside the served folder
    if os.path.isdir(dest) and os.path.exists(stamp_path) and open(stamp_path).read() == stamp:
        return {"cached": True}
    t = time.perf_counter()
    p = subprocess.run([arco, "convert", src, dest, *args, "--no-stac", "--overwrite"], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"arco convert {' '.join(args)} failed: {p.stderr.strip()[-800:]}")
    with open(stamp_path, "w") as f:
        f.write(stamp)
    return {"cached": False, "wall_s": time.perf_counter() - t}


def chunk_shape(store: str) -> list[int] | None:
    try:
        with open(os.path.join(store, VAR, "zarr.json")) as f:
            meta = json.load(f)
        return meta["chunk_grid"]["configuration"]["chunk_shape"]
    except (OSError, KeyError, ValueError):
        return None


# ---------------------------------------------------------------- requests


def viewport(z: int) -> list[tuple[int, int, int]]:
    """A VIEW_W × VIEW_H burst of tiles around (0°, 0°) at zoom z, clipped."""
    n = 1 << z
    cx = cy = n // 2
    xs = [x for x in range(cx - VIEW_W // 2, cx + VIEW_W // 2 + 1) if 0 <= x < n]
    ys = [y for y in range(cy - VIEW_H // 2, cy + VIEW_H // 2 + 1) if 0 <= y < n]
    return [(z, x, y) for y in ys for x in xs]


def tiles() -> list[tuple[int, int, int]]:
    return [t for z in ZOOMS for t in viewport(z)]


def points() -> list[tuple[float, float]]:
    import numpy as np

    rng = np.random.default_rng(SEED)
    lon = rng.uniform(-180.0, 180.0 - 360 / NLON, N_POINTS)
    lat = rng.uniform(-90.0, 90.0, N_POINTS)
    return [(round(float(a), 4), round(float(b), 4)) for a, b in zip(lon, lat)]


def q(params: list[tuple[str, str]]) -> str:
    return urllib.parse.urlencode(params, safe=":,/()", quote_via=urllib.parse.quote)


class Urls:
    """Per server, the request paths of each case."""

    @staticmethod
    def arco_tile(cid: str, variable: str, sel: list[str], t: tuple[int, int, int]) -> str:
        z, x, y = t
        params = [("variable", variable), *[("sel", s) for s in sel],
                  ("rescale", f"{RESCALE[0]},{RESCALE[1]}"), ("colormap_name", "viridis")]
        return f"/collections/{cid}/tiles/WebMercatorQuad/{z}/{x}/{y}.png?{q(params)}"

    @staticmethod
    def arco_series(cid: str, p: tuple[float, float]) -> str:
        return f"/collections/{cid}/timeseries?{q([('variable', VAR), ('lon', str(p[0])), ('lat', str(p[1]))])}"

    @staticmethod
    def arco_edr(cid: str, p: tuple[float, float]) -> str:
        return f"/collections/{cid}/position?{q([('coords', f'POINT({p[0]} {p[1]})'), ('parameter-name', VAR)])}"

    @staticmethod
    def titiler_cog(path: str, t: tuple[int, int, int]) -> str:
        z, x, y = t
        params = [("url", path), ("rescale", f"{RESCALE[0]},{RESCALE[1]}"), ("colormap_name", "viridis")]
        return f"/cog/tiles/WebMercatorQuad/{z}/{x}/{y}.png?{q(params)}"

    @staticmethod
    def titiler_xarray(path: str, t: tuple[int, int, int]) -> str:
        z, x, y = t
        params = [("url", path), ("variable", VAR), ("sel", f"time={T0}"),
                  ("rescale", f"{RESCALE[0]},{RESCALE[1]}"), ("colormap_name", "viridis")]
        return f"/tiles/WebMercatorQuad/{z}/{x}/{y}.png?{q(params)}"

    @staticmethod
    def xpublish_tile(t: tuple[int, int, int]) -> str:
        z, x, y = t
        # OGC order: {tileMatrix}/{tileRow}/{tileCol}; f= must be given (0.4.3's default is not converted).
        params = [("variables", VAR), ("colorscalerange", f"{RESCALE[0]},{RESCALE[1]}"),
                  ("style", "raster/viridis"), ("width", "256"), ("height", "256"), ("f", "image/png"),
                  ("time", T0)]
        return f"/datasets/map/tiles/WebMercatorQuad/{z}/{y}/{x}?{q(params)}"

    @staticmethod
    def xpublish_edr(p: tuple[float, float]) -> str:
        return f"/datasets/ts/edr/position?{q([('coords', f'POINT({p[0]} {p[1]})'), ('parameter-name', VAR)])}"


# ---------------------------------------------------------------- HTTP


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(base: str, path: str, timeout: float = 60) -> tuple[int, dict, bytes]:
    u = urllib.parse.urlsplit(base)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def fetch_all(base: str, paths: list[str], conns: int = 4) -> list[tuple[int, str, bytes, float]]:
    """Every path once over `conns` keep-alive connections; (status,
    content-type, body, seconds) in the order of paths."""
    u = urllib.parse.urlsplit(base)
    out: list = [None] * len(paths)
    lock = threading.Lock()
    nxt = [0]

    def worker():
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
        while True:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= len(paths):
                break
            t = time.perf_counter()
            try:
                c.request("GET", paths[i])
                r = c.getresponse()
                body = r.read()
                out[i] = (r.status, r.getheader("content-type", ""), body, time.perf_counter() - t)
            except (OSError, http.client.HTTPException) as e:
                c.close()
                c = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
                out[i] = (-1, "", repr(e).encode(), time.perf_counter() - t)
        c.close()

    threads = [threading.Thread(target=worker) for _ in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


# ---------------------------------------------------------------- processes


def proc_tree(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
            ppid = int(s[s.rindex(")") + 2:].split()[1])
            children.setdefault(ppid, []).append(int(d))
        except (OSError, ValueError, IndexError):
            pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_seconds(pids: list[int]) -> float:
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                s = f.read()
            fields = s[s.rindex(")") + 2:].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, ValueError, IndexError):
            pass
    return total / tick


def rss_bytes(pids: list[int], key: str = "VmRSS") -> int:
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith(key + ":"):
                        total += int(line.split()[1]) * 1024
        except (OSError, ValueError):
            pass
    return total


class Server:
    """One server process (and its children) in its own process group."""

    def __init__(self, name: str, cmd: list[str], env: dict | None, health: str, how: str, workers: str):
        self.name, self.cmd, self.health, self.how, self.workers = name, cmd, health, how, workers
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen | None = None
        self.base = ""
        self.log = tempfile.NamedTemporaryFile(prefix=f"serve-bench-{name}-", suffix=".log", delete=False)

    def start(self, port: int | None) -> None:
        arco = port is None
        self.proc = subprocess.Popen(self.cmd, env=self.env, start_new_session=True,
                                     stdout=subprocess.PIPE if arco else self.log, stderr=self.log, text=arco)
        if arco:
            line = self.proc.stdout.readline()
            try:
                ev = json.loads(line)
                self.base = ev["url"].rstrip("/")
            except (ValueError, KeyError):
                self.stop()
                raise RuntimeError(f"{self.name} did not print its address: {line!r} {self.tail()}")
            threading.Thread(target=lambda: self.proc.stdout.read(), daemon=True).start()
        else:
            self.base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 90
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}: {self.tail()}")
            try:
                if get(self.base, self.health, timeout=5)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"{self.name} not ready after 90 s: {self.tail()}")

    def pids(self) -> list[int]:
        return proc_tree(self.proc.pid) if self.proc else []

    def tail(self) -> str:
        try:
            with open(self.log.name, errors="replace") as f:
                return f.read()[-1500:]
        except OSError:
            return ""

    def stop(self) -> None:
        if not self.proc or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def run_wrk(wrk: str, server: Server, paths: list[str], conns: int, duration: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="serve-bench-wrk-") as d:
        pf, of = os.path.join(d, "paths.txt"), os.path.join(d, "out.json")
        with open(pf, "w") as f:
            f.write("\n".join(paths) + "\n")
        pids = server.pids()
        load = os.getloadavg()[0]
        cpu0 = cpu_seconds(pids)
        t0 = time.perf_counter()
        p = subprocess.Popen([wrk, "-t1", f"-c{conns}", f"-d{max(1, int(round(duration)))}s", "--timeout", "10s", "-s", LUA,
                              server.base + "/"], env={**os.environ, "WRK_PATHS": pf, "WRK_OUT": of},
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = p.stdout.read()
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        cpu1 = cpu_seconds(pids)
        if p.returncode != 0 or not os.path.exists(of):
            raise RuntimeError(f"wrk failed ({p.returncode}): {out.decode(errors='replace')[-800:]}")
        with open(of) as f:
            r = json.load(f)
    secs = r["duration_us"] / 1e6
    lat = r["latency_us"]
    return {
        "connections": conns, "requests": r["requests"], "seconds": round(secs, 3),
        "rps": round(r["requests"] / secs, 1) if secs else 0.0,
        "p50_ms": lat["p50"] / 1e3, "p90_ms": lat["p90"] / 1e3, "p99_ms": lat["p99"] / 1e3,
        "max_ms": lat["max"] / 1e3, "mean_ms": round(lat["mean"] / 1e3, 3),
        "non_2xx": r["errors"]["status"],
        "socket_errors": {k: v for k, v in r["errors"].items() if k != "status"},
        "server_cpu_s": round(cpu1 - cpu0, 2), "wrk_cpu_s": round(ru.ru_utime + ru.ru_stime, 2),
        "server_cpu_pct": round(100 * (cpu1 - cpu0) / wall, 1),
        "wrk_cpu_pct": round(100 * (ru.ru_utime + ru.ru_stime) / wall, 1),
        "loadavg_1min_before": round(load, 2),
    }


# ---------------------------------------------------------------- checks


def check_tiles(res: list[tuple[int, str, bytes, float]]) -> dict:
    from PIL import Image

    bad = []
    for i, (status, ctype, body, _) in enumerate(res):
        if status != 200:
            bad.append(f"#{i}: HTTP {status} {body[:200]!r}")
            continue
        try:
            im = Image.open(io.BytesIO(body))
            im.load()
            if im.format != "PNG" or im.size != (256, 256):
                bad.append(f"#{i}: {im.format} {im.size}, want PNG 256 x 256")
        except Exception as e:  # noqa: BLE001  (any decoder error is a failed check)
            bad.append(f"#{i}: not a PNG ({e}); content-type {ctype}")
    return {"requests": len(res), "ok": len(res) - len(bad), "failures": bad[:10], "passed": not bad}


def series_values(body: bytes, kind: str) -> list:
    doc = json.loads(body)
    if kind == "arco":
        return doc["values"]
    # CoverageJSON (arco's EDR and xpublish-edr)
    rng = doc["ranges"][VAR] if "ranges" in doc else doc["coverages"][0]["ranges"][VAR]
    return rng["values"]


def check_series(res: list[tuple[int, str, bytes, float]], kind: str) -> dict:
    bad = []
    for i, (status, _, body, _) in enumerate(res):
        if status != 200:
            bad.append(f"#{i}: HTTP {status} {body[:200]!r}")
            continue
        try:
            n = len(series_values(body, kind))
            if n != STEPS:
                bad.append(f"#{i}: {n} values, want {STEPS}")
        except (ValueError, KeyError, IndexError, TypeError) as e:
            bad.append(f"#{i}: unreadable ({e!r}): {body[:200]!r}")
    return {"requests": len(res), "ok": len(res) - len(bad), "failures": bad[:10], "passed": not bad}


def compare_tiles(a: list, b: list, label: str) -> dict:
    """Pixel-by-pixel comparison of two servers' renderings of the same tiles."""
    import numpy as np
    from PIL import Image

    total = differ = differ8 = 0
    maxd = 0
    identical_tiles = 0
    per_zoom: dict[int, list[int]] = {}
    for (za, ra), (_, rb) in zip(a, b):
        if ra[0] != 200 or rb[0] != 200:
            continue
        ia = np.asarray(Image.open(io.BytesIO(ra[2])).convert("RGBA"), dtype=np.int16)
        ib = np.asarray(Image.open(io.BytesIO(rb[2])).convert("RGBA"), dtype=np.int16)
        if ia.shape != ib.shape:
            continue
        d = np.abs(ia - ib).max(axis=2)
        n = d.size
        k = int((d > 0).sum())
        total += n
        differ += k
        differ8 += int((d > 8).sum())
        maxd = max(maxd, int(d.max()))
        identical_tiles += k == 0
        pz = per_zoom.setdefault(za, [0, 0])
        pz[0] += n
        pz[1] += k
    return {"pair": label, "pixels": total,
            "differing_fraction": round(differ / total, 6) if total else None,
            "differing_by_more_than_8_fraction": round(differ8 / total, 6) if total else None,
            "max_channel_difference": maxd, "identical_tiles": identical_tiles, "tiles": len(a),
            "differing_fraction_by_zoom": {z: round(v[1] / v[0], 4) for z, v in sorted(per_zoom.items())}}


def compare_series(a: list, b: list, ka: str, kb: str, label: str) -> dict:
    import numpy as np

    worst = 0.0
    n = unequal = 0
    for ra, rb in zip(a, b):
        if ra[0] != 200 or rb[0] != 200:
            continue
        va = np.array([np.nan if v is None else v for v in series_values(ra[2], ka)], dtype=float)
        vb = np.array([np.nan if v is None else v for v in series_values(rb[2], kb)], dtype=float)
        n += 1
        if va.shape != vb.shape:
            unequal += 1
            continue
        d = float(np.nanmax(np.abs(va - vb))) if va.size else 0.0
        worst = max(worst, d)
        unequal += d > 1e-4
    return {"pair": label, "points": n, "points_differing": unequal, "max_abs_difference": worst}


# ---------------------------------------------------------------- main


def machine() -> dict:
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version(),
            "loadavg_at_start": os.getloadavg()}


def versions(arco: str, wrk: str) -> dict:
    import importlib.metadata as m

    out = {}
    for n in ["titiler.application", "titiler.core", "titiler.xarray", "rio-tiler", "rasterio", "xpublish",
              "xpublish-tiles", "xpublish-edr", "uvicorn", "uvloop", "httptools", "xarray", "zarr", "numpy",
              "rio-cogeo", "fastapi"]:
        try:
            out[n] = m.version(n)
        except m.PackageNotFoundError:
            out[n] = None
    try:
        import rasterio
        out["gdal"] = rasterio.__gdal_version__
    except ImportError:
        pass
    p = subprocess.run([arco, "--version"], capture_output=True, text=True)
    out["arco"] = (p.stdout or p.stderr).strip()
    p = subprocess.run([wrk, "--version"], capture_output=True, text=True)
    out["wrk"] = (p.stdout or p.stderr).strip().splitlines()[0] if (p.stdout or p.stderr) else ""
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arco", default=None, help="arco binary (default target/release/arco, else target/debug/arco)")
    ap.add_argument("--quick", action="store_true", help="short measurements (2 s each) for a smoke run")
    ap.add_argument("--duration", type=float, default=None, help="seconds per measurement (default 10; quick 2)")
    ap.add_argument("--servers", default="arco,titiler,titiler-xarray,xpublish",
                    help="comma-separated subset of arco,titiler,titiler-xarray,xpublish")
    ap.add_argument("--workers", default="default,2", help="uvicorn variants: default (one process) and/or 2")
    ap.add_argument("--results", default=os.path.join(HERE, "results.json"))
    args = ap.parse_args()

    ensure_venv()
    wrk = ensure_wrk()
    if args.arco:
        arco = args.arco
    else:
        # The release build when it has the data endpoints (serve --cache-size), else the debug build.
        cands = [p for p in (os.path.join(REPO, "target", "release", "arco"),
                             os.path.join(REPO, "target", "debug", "arco")) if os.path.exists(p)]
        arco = next((p for p in cands if arco_has_flag(p, "serve", "--cache-size")), cands[0] if cands else None)
    if not arco or not os.path.exists(arco):
        sys.exit("no arco binary: cargo build --release -p arco-cli, or --arco PATH")
    arco = os.path.abspath(arco)
    if not arco_has_flag(arco, "serve", "--cache-size"):
        print(f"[serve-bench] WARNING: {arco} serve has no --cache-size: it may predate the data endpoints", flush=True)
    if "release" not in arco:
        print(f"[serve-bench] WARNING: {arco} is not a release build: its timings are not arco's", flush=True)
    duration = args.duration or (2.0 if args.quick else 10.0)
    warm_s = 1.0 if args.quick else 2.0
    want = set(args.servers.split(","))
    variants = [w for w in args.workers.split(",") if w]

    # ---- data
    os.makedirs(DATA, exist_ok=True)
    src = os.path.join(CACHE, f"era5like-serve-{STEPS}.nc")
    print(f"[serve-bench] data in {CACHE}", flush=True)
    make_source(src)
    cog = os.path.join(DATA, "cog.tif")
    make_cog(src, cog)
    stores = {"map": os.path.join(DATA, "map.zarr"), "ts": os.path.join(DATA, "ts.zarr")}
    conversions = {
        "map": ["--layout", "map", "--chunks", "time=1,lat=256,lon=256"],
        "ts": ["--layout", "timeseries"],
    }
    pyramid_note = None
    if arco_has_flag(arco, "convert", "--pyramid"):
        stores["pyramid"] = os.path.join(DATA, "pyramid.zarr")
        conversions["pyramid"] = ["--layout", "map", "--chunks", "time=1,lat=256,lon=256", "--pyramid"]
    else:
        pyramid_note = "skipped: this arco convert has no --pyramid flag"
        old = os.path.join(DATA, "pyramid.zarr")
        if os.path.isdir(old):
            shutil.rmtree(old)
    convert_info = {}
    for k, dest in stores.items():
        convert_info[k] = arco_convert(arco, src, dest, conversions[k])
        convert_info[k]["args"] = conversions[k]
        convert_info[k]["chunks"] = chunk_shape(dest)
        print(f"[serve-bench] {k}.zarr: chunks {convert_info[k]['chunks']}"
              f"{' (cached)' if convert_info[k]['cached'] else ''}", flush=True)

    tile_list = tiles()
    point_list = points()
    print(f"[serve-bench] {len(tile_list)} tiles (zoom 0-6), {len(point_list)} points", flush=True)

    results: dict = {"machine": machine(), "versions": versions(arco, wrk), "arco": arco,
                     "duration_s": duration, "quick": args.quick, "tiles": len(tile_list),
                     "points": len(point_list), "conversions": convert_info, "pyramid": pyramid_note,
                     "runs": [], "checks": [], "comparisons": [], "errors": []}
    # (case, server label) -> check-pass responses, for the comparisons
    bodies: dict[tuple[str, str], list] = {}

    def measure(server: Server, case: str, label: str, paths: list[str], kind: str) -> None:
        t = time.perf_counter()
        res = fetch_all(server.base, paths)
        first_pass = time.perf_counter() - t
        chk = check_tiles(res) if kind == "tile" else check_series(res, kind)
        chk.update({"case": case, "server": label, "first_pass_s": round(first_pass, 2)})
        results["checks"].append(chk)
        print(f"  {case:<22} {label:<26} check: {chk['ok']}/{chk['requests']} ok"
              f"{'' if chk['passed'] else ' FAILED ' + '; '.join(chk['failures'][:3])}", flush=True)
        bodies[(case, label)] = res
        run_wrk(wrk, server, paths, 16, warm_s)  # warm-up at 16 connections (both workers of a 2-worker server)
        for conns in (2, 16):
            r = run_wrk(wrk, server, paths, conns, duration)
            r.update({"case": case, "server": label, "workers": server.workers, "how": server.how})
            results["runs"].append(r)
            print(f"  {case:<22} {label:<26} c={conns:<3} {r['rps']:>9.1f} req/s  p50 {r['p50_ms']:7.2f} ms"
                  f"  p99 {r['p99_ms']:8.2f} ms  non-2xx {r['non_2xx']}  cpu server {r['server_cpu_pct']}%"
                  f" wrk {r['wrk_cpu_pct']}%", flush=True)

    def run_server(server: Server, port: int | None, cases) -> None:
        print(f"[serve-bench] {server.name}: {server.how}", flush=True)
        try:
            server.start(port)
        except RuntimeError as e:
            results["errors"].append({"server": server.name, "error": str(e)})
            print(f"  {server.name}: could not start: {e}", flush=True)
            return
        try:
            idle = rss_bytes(server.pids())
            for case, label, paths, kind in cases(server):
                try:
                    measure(server, case, label, paths, kind)
                except Exception as e:  # noqa: BLE001  (one failed case must not lose the others)
                    results["errors"].append({"server": label, "case": case, "error": repr(e)})
                    print(f"  {case} {label}: FAILED {e!r}", flush=True)
            results.setdefault("rss", []).append({"server": server.name, "idle_rss": idle,
                                                  "rss_after": rss_bytes(server.pids()),
                                                  "peak_rss": rss_bytes(server.pids(), "VmHWM")})
        finally:
            server.stop()

    uv = os.path.join(VENV, "bin", "uvicorn")

    def uvicorn(app: str, port: int, workers: str, extra: list[str] | None = None) -> list[str]:
        cmd = [uv, app, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"]
        if workers != "default":
            cmd += ["--workers", workers]
        return cmd + (extra or [])

    # ---- arco
    if "arco" in want:
        s = Server("arco", [arco, "serve", DATA, "--addr", "127.0.0.1:0", "--json"], {}, "/healthz",
                   f"{arco} serve {DATA} --addr 127.0.0.1:0 (tokio runtime, one worker thread per core)", "default")

        def arco_cases(server: Server):
            st, _, body = get(server.base, "/datasets")
            if st != 200:
                raise RuntimeError(f"arco /datasets answered {st}: {body[:300]!r}")
            ids = {d["id"]: d for d in json.loads(body)["datasets"]}
            results["arco_datasets"] = sorted(ids)

            def tile_paths(cid: str) -> list[str]:
                d = ids[cid]
                var = next(v for v in d["variables"] if v.get("map"))
                st, _, ib = get(server.base, f"/collections/{cid}/info?{q([('variable', var['name'])])}")
                if st != 200:
                    raise RuntimeError(f"/collections/{cid}/info answered {st}: {ib[:300]!r}")
                info = json.loads(ib)
                horizontal = set(info.get("dims", [])[-2:])
                sel = [f"{dim['name']}={dim['values'][0]}" for dim in info.get("dimensions", [])
                       if dim.get("values") and dim.get("name") not in horizontal]
                return [Urls.arco_tile(cid, var["name"], sel, t) for t in tile_list]

            out = []
            for cid, case in (("cog", "tiles COG"), ("map", "tiles Zarr map"), ("pyramid", "tiles Zarr pyramid")):
                if cid in ids:
                    out.append((case, "arco", tile_paths(cid), "tile"))
                elif cid in stores or cid == "cog":
                    results["errors"].append({"server": "arco", "case": case, "error": f"no dataset {cid} in /datasets"})
            if "ts" in ids:
                out.append(("series Zarr timeseries", "arco", [Urls.arco_series("ts", p) for p in point_list], "arco"))
                out.append(("series Zarr timeseries", "arco EDR position",
                            [Urls.arco_edr("ts", p) for p in point_list], "covjson"))
            return out

        try:
            run_server(s, None, arco_cases)
        except RuntimeError as e:
            results["errors"].append({"server": "arco", "error": str(e)})
            print(f"  arco: {e}", flush=True)

    # ---- peers
    for w in variants:
        wl = "1 process" if w == "default" else f"{w} workers"
        if "titiler" in want:
            port = free_port()
            s = Server(f"titiler ({wl})", uvicorn("titiler.application.main:app", port, w), {}, "/healthz",
                       " ".join(uvicorn("titiler.application.main:app", 0, w)).replace(" --port 0", " --port PORT"),
                       w)
            run_server(s, port, lambda srv, wl=wl: [
                ("tiles COG", f"titiler ({wl})", [Urls.titiler_cog(cog, t) for t in tile_list], "tile")])
        if "titiler-xarray" in want:
            port = free_port()
            s = Server(f"titiler.xarray ({wl})", uvicorn("titiler.xarray.main:app", port, w), {}, "/healthz",
                       " ".join(uvicorn("titiler.xarray.main:app", 0, w)).replace(" --port 0", " --port PORT"), w)
            run_server(s, port, lambda srv, wl=wl: [
                ("tiles Zarr map", f"titiler.xarray ({wl})",
                 [Urls.titiler_xarray(stores["map"], t) for t in tile_list], "tile")])
        if "xpublish" in want:
            port = free_port()
            extra = ["--app-dir", HERE]
            env = {"BENCH_XPUBLISH_DATASETS": f"map={stores['map']},ts={stores['ts']}"}
            s = Server(f"xpublish ({wl})", uvicorn("xpublish_app:app", port, w, extra), env, "/datasets",
                       " ".join(uvicorn("xpublish_app:app", 0, w, extra)).replace(" --port 0", " --port PORT")
                       + " (bench/serve/xpublish_app.py: xpublish.Rest + TilesPlugin + CfEdrPlugin)", w)
            run_server(s, port, lambda srv, wl=wl: [
                ("tiles Zarr map", f"xpublish-tiles ({wl})", [Urls.xpublish_tile(t) for t in tile_list], "tile"),
                ("series Zarr timeseries", f"xpublish-edr ({wl})", [Urls.xpublish_edr(p) for p in point_list],
                 "covjson")])

    # ---- comparisons (untimed)
    def pair(case_a, la, case_b, lb, label):
        a, b = bodies.get((case_a, la)), bodies.get((case_b, lb))
        if a is None or b is None:
            return
        results["comparisons"].append(compare_tiles(list(zip([t[0] for t in tile_list], a)),
                                                    list(zip([t[0] for t in tile_list], b)), label))

    titiler1 = next((lbl for (c, lbl) in bodies if c == "tiles COG" and lbl.startswith("titiler")), None)
    txr1 = next((lbl for (c, lbl) in bodies if c == "tiles Zarr map" and lbl.startswith("titiler.xarray")), None)
    if titiler1:
        pair("tiles COG", "arco", "tiles COG", titiler1, f"arco COG vs {titiler1} COG")
    if txr1:
        pair("tiles Zarr map", "arco", "tiles Zarr map", txr1, f"arco map.zarr vs {txr1} map.zarr")
    if titiler1 and txr1:
        pair("tiles COG", titiler1, "tiles Zarr map", txr1, f"{titiler1} COG vs {txr1} map.zarr")
    pair("tiles COG", "arco", "tiles Zarr map", "arco", "arco COG vs arco map.zarr")
    pair("tiles Zarr map", "arco", "tiles Zarr pyramid", "arco", "arco map.zarr vs arco pyramid.zarr")
    xpt = next((lbl for (c, lbl) in bodies if c == "tiles Zarr map" and lbl.startswith("xpublish-tiles")), None)
    if xpt:
        pair("tiles Zarr map", "arco", "tiles Zarr map", xpt, f"arco map.zarr vs {xpt} map.zarr (datashader's shading)")
    edr = next((lbl for (c, lbl) in bodies if c == "series Zarr timeseries" and lbl.startswith("xpublish-edr")), None)
    if edr and ("series Zarr timeseries", "arco") in bodies:
        results["comparisons"].append(compare_series(bodies[("series Zarr timeseries", "arco")],
                                                     bodies[("series Zarr timeseries", edr)], "arco", "covjson",
                                                     f"arco timeseries vs {edr}"))
    for c in results["comparisons"]:
        print(f"[serve-bench] compare {c['pair']}: {json.dumps({k: v for k, v in c.items() if k != 'pair'})}",
              flush=True)

    summarize(results)
    with open(args.results, "w") as f:
        json.dump(results, f, indent=1)
    print(f"[serve-bench] wrote {args.results}")
    print(markdown(results))
    failed = [c for c in results["checks"] if not c["passed"]]
    return 1 if failed or results["errors"] else 0


def summarize(results: dict) -> None:
    runs = results["runs"]
    ratios = []
    for r in runs:
        if r["server"].startswith("arco"):
            continue
        for a in runs:
            if a["case"] == r["case"] and a["server"].startswith("arco") and a["connections"] == r["connections"] \
                    and r["rps"] and a["p50_ms"]:
                ratios.append({"case": r["case"], "peer": r["server"], "arco": a["server"],
                               "connections": r["connections"],
                               "rps_arco_over_peer": round(a["rps"] / r["rps"], 1),
                               "p50_peer_over_arco": round(r["p50_ms"] / a["p50_ms"], 1)})
    results["ratios"] = ratios

    goals = {}

    def arco_run(case, conns, server="arco"):
        return next((x for x in runs if x["case"] == case and x["server"] == server and x["connections"] == conns),
                    None)

    for case in ("tiles COG", "tiles Zarr map", "tiles Zarr pyramid"):
        a2, a16 = arco_run(case, 2), arco_run(case, 16)
        if a2:
            goals[f"{case}: p50 <= 10 ms warm (2 connections)"] = {"value_ms": a2["p50_ms"], "met": a2["p50_ms"] <= 10}
        if a16:
            goals[f"{case}: p99 <= 50 ms at 16 connections"] = {"value_ms": a16["p99_ms"], "met": a16["p99_ms"] <= 50}
    for conns in (2, 16):
        a = arco_run("tiles COG", conns)
        peers = [x for x in runs if x["case"] == "tiles COG" and x["server"].startswith("titiler")
                 and x["connections"] == conns]
        if a and peers:
            best = max(peers, key=lambda x: x["rps"])
            goals[f"tiles COG: >= 10x titiler's req/s ({conns} connections, best titiler variant)"] = {
                "ratio": round(a["rps"] / best["rps"], 1), "met": a["rps"] >= 10 * best["rps"]}
    for conns in (2, 16):
        a = arco_run("series Zarr timeseries", conns)
        if a:
            goals[f"series: p50 <= 5 ms warm on the time-chunked store ({conns} connections)"] = {
                "value_ms": a["p50_ms"], "met": a["p50_ms"] <= 5}
    results["goals"] = goals


def markdown(results: dict) -> str:
    runs = results["runs"]
    lines = ["| case | server | conns | req/s | p50 ms | p99 ms | arco req/s ÷ peer | non-2xx | server CPU | wrk CPU |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in runs:
        base = "arco EDR position" if r["server"].startswith("xpublish-edr") else "arco"
        ratio = next((x["rps_arco_over_peer"] for x in results.get("ratios", []) if x["case"] == r["case"]
                      and x["peer"] == r["server"] and x["arco"] == base
                      and x["connections"] == r["connections"]), None)
        lines.append(f"| {r['case']} | {r['server']} | {r['connections']} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | "
                     f"{r['p99_ms']:.2f} | {'' if ratio is None else f'{ratio}×'} | {r['non_2xx']} | "
                     f"{r['server_cpu_pct']:.0f}% | {r['wrk_cpu_pct']:.0f}% |")
    if results.get("goals"):
        lines += ["", "| goal | value | met |", "|---|---:|---|"]
        for k, v in results["goals"].items():
            val = f"{v['value_ms']:.2f} ms" if "value_ms" in v else f"{v['ratio']}×"
            lines.append(f"| {k} | {val} | {'yes' if v['met'] else '**no**'} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
