#!/usr/bin/env python3
"""serve_load_check.py — `arco serve` under concurrent mixed load: correct
answers and bounded memory. A correctness and boundedness test, not a
benchmark (the benchmark is bench/serve/run.py); standard library only.

1. In a temporary folder, `arco convert` two real files of tests/data/real/
   (netcdf4/era5-levels-members.nc with --layout map, netcdf3/sub.nc) to Zarr,
   and copy the COG geotiff/co_elevation_roi.tif beside them.
2. `arco serve DIR --addr 127.0.0.1:0 --json --cache-size 16MiB`; reads the
   address from its first JSON line; waits for /healthz; measures the idle
   RSS (VmRSS of /proc/PID/status); lists /datasets and each map variable's
   /collections/{id}/info.
3. Builds a fixed (seeded) list of --requests requests (default 3,000) and
   sends them over --connections (16) keep-alive connections (threads +
   http.client), in a shuffled order:
   * ~60 % PNG tiles: WebMercatorQuad and WorldCRS84Quad, every zoom from the
     variable's minzoom to its maxzoom (at most 8), tiles that meet the data's
     bounds, random labels of the other dimensions (`sel=dim=value`, some
     `dim=nearest::value`), rescale from the variable's values, a few
     colormaps, some tilesize=512 and resampling=bilinear;
   * ~22 % point time series (`/timeseries?lon=&lat=`) at random points inside
     the bounds, of variables with a time dimension;
   * ~5 % EDR position queries (CoverageJSON) on variables whose only other
     dimension is time or a vertical one;
   * ~6 % metadata (/datasets, tilejson, /tileMatrixSets, /colorMaps, /healthz);
   * ~7 % requests that must fail with 4xx (unknown dataset, variable, TMS,
     colormap or dimension, tile outside its matrix, a bad rescale, a point
     outside the grid, missing lon/lat, bad WKT, an unknown path).
4. Asserts: no connection error, no 5xx; every request that should succeed
   answered 2xx, every provoked one 4xx with a JSON {"code", "description"}
   body; every tile a valid PNG (signature, chunk CRCs, IHDR size = the tile
   size, IDAT inflates to exactly the rows it declares) and every series as
   many values as the time dimension; the server's peak RSS, sampled every
   20 ms during the load, below idle RSS + cache bound + --allowance
   (64 MiB: tokio's worker stacks, 16 connections' buffers, the per-request
   windows of decoded values and PNG buffers, the allocator's retained pages);
   the server still answers /healthz afterwards and stops on SIGTERM.

Output: PASS / FAIL lines, then `serve-load-check: N passed, M failed`;
exit 1 if anything failed. The whole run is bounded by --deadline seconds.

    python3 scripts/serve_load_check.py --arco target/debug/arco [--requests 3000]
        [--connections 16] [--cache-size 16MiB] [--allowance 64MiB] [--keep] [-v]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import zlib
from math import floor, log, pi, radians, tan, cos

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REAL = os.path.join(REPO, "tests", "data", "real")
MIB = 1 << 20


def parse_size(s: str) -> int:
    s = s.strip()
    units = {"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "kb": 1000, "mb": 10 ** 6, "gb": 10 ** 9, "b": 1}
    low = s.lower()
    for u, m in units.items():
        if low.endswith(u):
            return int(float(low[: -len(u)]) * m)
    return int(s)


class Report:
    def __init__(self) -> None:
        self.passed = self.failed = 0

    def check(self, ok: bool, what: str, reasons: list[str] | None = None) -> bool:
        line = f"{'PASS' if ok else 'FAIL'} {what}"
        if reasons and not ok:
            shown = [r if len(r) <= 300 else r[:300] + "…" for r in reasons[:5]]
            line += ": " + "; ".join(shown) + (f" (+{len(reasons) - 5} more)" if len(reasons) > 5 else "")
        print(line, flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        return ok


# ---------------------------------------------------------------- PNG


def png_size(body: bytes) -> tuple[int, int]:
    """(width, height) of a PNG after checking it byte by byte: signature,
    every chunk's CRC, IHDR first and IEND last, and the IDAT stream
    inflating to exactly height × (1 + row bytes) with valid filter types.
    Raises ValueError saying what is wrong."""
    if body[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"no PNG signature (starts {body[:16]!r})")
    pos, idat, ihdr, end = 8, [], None, False
    while pos < len(body):
        if pos + 8 > len(body):
            raise ValueError(f"truncated chunk header at byte {pos}")
        n, typ = struct.unpack(">I4s", body[pos:pos + 8])
        data = body[pos + 8:pos + 8 + n]
        if len(data) != n or pos + 12 + n > len(body):
            raise ValueError(f"chunk {typ!r} at byte {pos} runs past the end")
        (crc,) = struct.unpack(">I", body[pos + 8 + n:pos + 12 + n])
        if zlib.crc32(typ + data) & 0xFFFFFFFF != crc:
            raise ValueError(f"bad CRC in chunk {typ!r} at byte {pos}")
        if ihdr is None and typ != b"IHDR":
            raise ValueError(f"first chunk is {typ!r}, not IHDR")
        if typ == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", data)
        elif typ == b"IDAT":
            idat.append(data)
        elif typ == b"IEND":
            end = True
            pos += 12 + n
            break
        pos += 12 + n
    if not end:
        raise ValueError("no IEND chunk")
    if pos != len(body):
        raise ValueError(f"{len(body) - pos} bytes after IEND")
    w, h, depth, ctype, _, _, interlace = ihdr
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(ctype)
    if channels is None or depth not in (1, 2, 4, 8, 16) or interlace != 0:
        raise ValueError(f"unexpected IHDR: colour type {ctype}, depth {depth}, interlace {interlace}")
    raw = zlib.decompress(b"".join(idat))
    row = (w * channels * depth + 7) // 8
    if len(raw) != h * (row + 1):
        raise ValueError(f"IDAT inflates to {len(raw)} bytes, {h} rows of {row + 1} expected")
    if any(raw[i * (row + 1)] > 4 for i in range(h)):
        raise ValueError("a row has a filter type > 4")
    return w, h


# ---------------------------------------------------------------- tiles


def merc_tiles(bounds: list[float], z: int) -> tuple[range, range]:
    n = 1 << z
    w, s, e, nn = bounds

    def tx(lon: float) -> int:
        return min(n - 1, max(0, floor((lon + 180) / 360 * n)))

    def ty(lat: float) -> int:
        lat = max(-85.0511, min(85.0511, lat))
        r = radians(lat)
        return min(n - 1, max(0, floor((1 - log(tan(r) + 1 / cos(r)) / pi) / 2 * n)))

    return range(tx(w), tx(e) + 1), range(ty(nn), ty(s) + 1)


def crs84_tiles(bounds: list[float], z: int) -> tuple[range, range]:
    size = 180 / (1 << z)
    nx, ny = 2 << z, 1 << z
    w, s, e, n = bounds
    return (range(min(nx - 1, max(0, floor((w + 180) / size))), min(nx - 1, max(0, floor((e + 180) / size))) + 1),
            range(min(ny - 1, max(0, floor((90 - n) / size))), min(ny - 1, max(0, floor((90 - s) / size))) + 1))


# ---------------------------------------------------------------- server


class Arco:
    def __init__(self, arco: str, root: str, cache: str, log_path: str):
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen([arco, "serve", root, "--addr", "127.0.0.1:0", "--json",
                                      "--cache-size", cache], stdout=subprocess.PIPE, stderr=self.log,
                                     text=True, start_new_session=True)
        line = self.proc.stdout.readline()
        try:
            self.url = json.loads(line)["url"].rstrip("/")
        except (ValueError, KeyError):
            self.stop()
            raise RuntimeError(f"arco serve printed no address: {line!r}; stderr: {self.stderr_tail()}")
        self.rest: list[str] = []
        threading.Thread(target=lambda: self.rest.extend(self.proc.stdout), daemon=True).start()
        u = urllib.parse.urlsplit(self.url)
        self.host, self.port = u.hostname, u.port

    def stderr_tail(self) -> str:
        self.log.flush()
        try:
            with open(self.log.name, errors="replace") as f:
                return f.read()[-1000:]
        except OSError:
            return ""

    def vm(self, key: str) -> int:
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith(key + ":"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def stop(self, timeout: float = 15) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        return self.proc.returncode


def get(host: str, port: int, path: str, timeout: float = 60) -> tuple[int, str, bytes]:
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.getheader("content-type", ""), r.read()
    finally:
        c.close()


def q(params: list[tuple[str, str]]) -> str:
    return urllib.parse.urlencode(params, quote_via=urllib.parse.quote)


# ---------------------------------------------------------------- the request list


def describe(srv: Arco, rep: Report) -> list[dict]:
    """Every map variable of every dataset: id, name, info, a rescale range
    and a time-series length (when it has a time dimension)."""
    st, _, body = get(srv.host, srv.port, "/datasets")
    if not rep.check(st == 200, f"GET /datasets answers 200 (got {st})", [body[:300].decode(errors="replace")]):
        return []
    out = []
    for d in json.loads(body)["datasets"]:
        for v in d.get("variables", []):
            if not v.get("map"):
                continue
            st, _, ib = get(srv.host, srv.port, f"/collections/{d['id']}/info?{q([('variable', v['name'])])}")
            if not rep.check(st == 200, f"GET /collections/{d['id']}/info?variable={v['name']} answers 200",
                             [f"{st}: {ib[:300].decode(errors='replace')}"]):
                continue
            out.append({"id": d["id"], "var": v["name"], "info": json.loads(ib)})
    return out


def other_dims(info: dict) -> list[dict]:
    """The non-horizontal dimensions of an /info document (the horizontal
    ones are the last two of "dims", in case "dimensions" lists them too)."""
    horizontal = set(info.get("dims", [])[-2:])
    return [d for d in info.get("dimensions", []) if d.get("name") not in horizontal]


def sel_params(rng: random.Random, info: dict, skip_time: bool) -> list[tuple[str, str]]:
    out = []
    for dim in other_dims(info):
        if skip_time and dim.get("kind") == "time":
            continue
        vals = dim.get("values")
        if not vals:
            continue
        v = rng.choice(vals)
        method = "nearest::" if dim.get("kind") == "numeric" and rng.random() < 0.3 else ""
        out.append(("sel", f"{dim['name']}={method}{v}"))
    return out


def inner(bounds: list[float]) -> list[float]:
    w, s, e, n = bounds
    w, e = max(w, -180.0), min(e, 180.0)
    s, n = max(s, -90.0), min(n, 90.0)
    dx, dy = (e - w) * 0.02, (n - s) * 0.02
    return [w + dx, s + dy, e - dx, n - dy]


def build(srv: Arco, variables: list[dict], n: int, seed: int, rep: Report) -> list[dict]:
    rng = random.Random(seed)
    # A rescale per variable from its first series or a zoom-0 npy is not needed:
    # valid_range when the server knows it, else a probe time series.
    for v in variables:
        info = v["info"]
        vr = info.get("valid_range")
        v["rescale"] = f"{vr[0]},{vr[1]}" if vr else None
        v["times"] = next((d["size"] for d in other_dims(info) if d.get("kind") == "time"), None)
        b = inner(info["bounds"])
        if v["rescale"] is None and v["times"]:
            st, _, body = get(srv.host, srv.port, f"/collections/{v['id']}/timeseries?" + q(
                [("variable", v["var"]), ("lon", f"{(b[0] + b[2]) / 2:.4f}"), ("lat", f"{(b[1] + b[3]) / 2:.4f}"),
                 *sel_params(random.Random(0), info, True)]))
            if st == 200:
                vals = [x for x in json.loads(body).get("values", []) if isinstance(x, (int, float))]
                if vals:
                    lo, hi = min(vals), max(vals)
                    pad = (hi - lo) * 0.5 or abs(hi) * 0.1 or 1.0
                    v["rescale"] = f"{lo - pad:g},{hi + pad:g}"
        v["edr"] = bool(v["times"]) and all(
            d.get("kind") == "time" or d["name"].lower() in ("level", "isobaricinhpa", "depth", "height", "z", "lev",
                                                            "plev", "pressure")
            for d in other_dims(info))
    cmaps = ["viridis"]
    st, _, body = get(srv.host, srv.port, "/colorMaps")
    if st == 200:
        try:
            doc = json.loads(body)
            names = doc.get("colorMaps", doc) if isinstance(doc, dict) else doc
            names = [x if isinstance(x, str) else x.get("id") or x.get("name") for x in names]
            cmaps = [c for c in ("viridis", "magma", "plasma", "greys", "rdbu") if c in names] or cmaps
        except (ValueError, AttributeError, TypeError):
            pass

    def tile(v: dict) -> dict:
        info = v["info"]
        tms = "WebMercatorQuad" if rng.random() < 0.8 else "WorldCRS84Quad"
        zmin = int(info.get("minzoom") or 0)
        zmax = max(zmin, min(int(info.get("maxzoom") if info.get("maxzoom") is not None else 6), zmin + 8))
        z = rng.randint(zmin, zmax)
        xs, ys = (merc_tiles if tms == "WebMercatorQuad" else crs84_tiles)(inner(info["bounds"]), z)
        x, y = rng.choice(xs), rng.choice(ys)
        size = 512 if rng.random() < 0.1 else 256
        params = [("variable", v["var"]), *sel_params(rng, info, False), ("colormap_name", rng.choice(cmaps))]
        if v["rescale"]:
            params.append(("rescale", v["rescale"]))
        if size == 512:
            params.append(("tilesize", "512"))
        if rng.random() < 0.15:
            params.append(("resampling", "bilinear"))
        return {"kind": "tile", "size": size,
                "path": f"/collections/{v['id']}/tiles/{tms}/{z}/{x}/{y}.png?{q(params)}"}

    def point(v: dict) -> tuple[str, str]:
        b = inner(v["info"]["bounds"])
        return f"{rng.uniform(b[0], b[2]):.4f}", f"{rng.uniform(b[1], b[3]):.4f}"

    def series(v: dict) -> dict:
        lon, lat = point(v)
        params = [("variable", v["var"]), ("lon", lon), ("lat", lat), *sel_params(rng, v["info"], True)]
        return {"kind": "series", "n": v["times"], "path": f"/collections/{v['id']}/timeseries?{q(params)}"}

    def edr(v: dict) -> dict:
        lon, lat = point(v)
        return {"kind": "edr", "path": f"/collections/{v['id']}/position?"
                + q([("coords", f"POINT({lon} {lat})"), ("parameter-name", v["var"])])}

    v0 = variables[0]
    bad = [
        f"/collections/no_such_dataset/tiles/WebMercatorQuad/0/0/0.png?{q([('variable', v0['var'])])}",
        f"/collections/{v0['id']}/tiles/WebMercatorQuad/0/0/0.png?variable=no_such_variable",
        f"/collections/{v0['id']}/tiles/WebMercatorQuad/3/99/0.png?{q([('variable', v0['var'])])}",
        f"/collections/{v0['id']}/tiles/NoSuchMatrixSet/0/0/0.png?{q([('variable', v0['var'])])}",
        f"/collections/{v0['id']}/tiles/WebMercatorQuad/0/0/0.png?{q([('variable', v0['var']), ('rescale', 'abc')])}",
        f"/collections/{v0['id']}/tiles/WebMercatorQuad/0/0/0.png?"
        + q([("variable", v0["var"]), ("colormap_name", "no_such_colormap")]),
        f"/collections/{v0['id']}/tiles/WebMercatorQuad/0/0/0.png?"
        + q([("variable", v0["var"]), ("sel", "no_such_dimension=1")]),
        "/no/such/path",
    ]
    with_time = [v for v in variables if v["times"]]
    if with_time:
        vt = with_time[0]
        bad += [
            f"/collections/{vt['id']}/timeseries?{q([('variable', vt['var']), ('lon', '0'), ('lat', '100')])}",
            f"/collections/{vt['id']}/timeseries?{q([('variable', vt['var'])])}",
            f"/collections/{vt['id']}/position?{q([('coords', 'POINT(abc)'), ('parameter-name', vt['var'])])}",
        ]
    meta = ["/datasets", "/healthz", "/tileMatrixSets", "/tileMatrixSets/WebMercatorQuad", "/colorMaps",
            "/colorMaps/viridis"] + [f"/collections/{v['id']}/tiles/WebMercatorQuad/tilejson.json?"
                                     + q([("variable", v["var"])]) for v in variables]
    edr_vars = [v for v in variables if v["edr"]]
    if not with_time:
        rep.check(False, "some served variable has a time dimension (for the time-series requests)")
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.60 or not with_time:
            out.append(tile(rng.choice(variables)))
        elif r < 0.82:
            out.append(series(rng.choice(with_time)))
        elif r < 0.87:
            out.append(edr(rng.choice(edr_vars)) if edr_vars else series(rng.choice(with_time)))
        elif r < 0.93:
            out.append({"kind": "meta", "path": rng.choice(meta)})
        else:
            out.append({"kind": "bad", "path": rng.choice(bad)})
    return out


# ---------------------------------------------------------------- the load


def judge(req: dict, status: int, ctype: str, body: bytes) -> str | None:
    """None when the answer is right, else what is wrong."""
    if status >= 500:
        return f"HTTP {status}"
    if req["kind"] == "bad":
        if not 400 <= status < 500:
            return f"HTTP {status}, a 4xx expected"
        try:
            doc = json.loads(body)
            if not (isinstance(doc, dict) and "code" in doc and "description" in doc):
                return f"4xx body is not {{code, description}}: {body[:120]!r}"
        except ValueError:
            return f"4xx body is not JSON: {body[:120]!r}"
        return None
    if not 200 <= status < 300:
        return f"HTTP {status}: {body[:200]!r}"
    try:
        if req["kind"] == "tile":
            w, h = png_size(body)
            if (w, h) != (req["size"], req["size"]):
                return f"PNG is {w} x {h}, {req['size']} x {req['size']} expected"
        elif req["kind"] == "series":
            vals = json.loads(body)["values"]
            if len(vals) != req["n"]:
                return f"{len(vals)} values, {req['n']} expected"
        elif req["kind"] == "edr":
            doc = json.loads(body)
            if doc.get("type") not in ("Coverage", "CoverageCollection"):
                return f"not CoverageJSON: {body[:120]!r}"
    except (ValueError, KeyError, TypeError, zlib.error, struct.error) as e:
        return f"{e}"
    return None


def load(srv: Arco, reqs: list[dict], conns: int, deadline: float) -> dict:
    lock = threading.Lock()
    nxt = [0]
    stats = {"done": 0, "conn_errors": [], "wrong": [], "by_kind": {}, "status": {}, "timed_out": False}

    def worker():
        c = http.client.HTTPConnection(srv.host, srv.port, timeout=60)
        while True:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= len(reqs):
                break
            if time.monotonic() > deadline:
                stats["timed_out"] = True
                break
            req = reqs[i]
            try:
                c.request("GET", req["path"])
                r = c.getresponse()
                body = r.read()
                status, ctype = r.status, r.getheader("content-type", "")
            except (OSError, http.client.HTTPException) as e:
                c.close()
                c = http.client.HTTPConnection(srv.host, srv.port, timeout=60)
                with lock:
                    stats["conn_errors"].append(f"{req['path']}: {e!r}")
                continue
            why = judge(req, status, ctype, body)
            with lock:
                stats["done"] += 1
                k = stats["by_kind"].setdefault(req["kind"], [0, 0])
                k[0] += 1
                k[1] += why is None
                stats["status"][status] = stats["status"].get(status, 0) + 1
                if why:
                    stats["wrong"].append(f"{req['path']} -> {why}")
        c.close()

    threads = [threading.Thread(target=worker) for _ in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return stats


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arco", default=os.path.join(REPO, "target", "debug", "arco"))
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--cache-size", default="16MiB", help="arco serve --cache-size (default 16MiB)")
    ap.add_argument("--allowance", default="64MiB",
                    help="RSS allowed above idle + cache (default 64MiB)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--deadline", type=float, default=600, help="seconds for the whole load (default 600)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    rep = Report()
    cache, allowance = parse_size(args.cache_size), parse_size(args.allowance)
    arco = os.path.abspath(args.arco)
    if not os.path.exists(arco):
        print(f"FAIL no arco binary at {arco}: cargo build -p arco-cli")
        print("serve-load-check: 0 passed, 1 failed")
        return 1
    tmp = tempfile.mkdtemp(prefix="arco-serve-load-")
    root = os.path.join(tmp, "data")
    os.makedirs(root)
    srv = None
    try:
        # ---- 1. the data
        for src, dest, extra in (("netcdf4/era5-levels-members.nc", "era5.zarr", ["--layout", "map"]),
                                 ("netcdf3/sub.nc", "sub.zarr", [])):
            p = subprocess.run([arco, "convert", os.path.join(REAL, src), os.path.join(root, dest), "--no-stac",
                                *extra], capture_output=True, text=True, timeout=300)
            if not rep.check(p.returncode == 0, f"arco convert {src} {dest} {' '.join(extra)}".rstrip(),
                             [p.stderr.strip()[-400:]]):
                return finish(rep)
        shutil.copy(os.path.join(REAL, "geotiff", "co_elevation_roi.tif"), os.path.join(root, "elevation.tif"))

        # ---- 2. the server
        p = subprocess.run([arco, "serve", "--help"], capture_output=True, text=True)
        if not rep.check("--cache-size" in p.stdout, "arco serve has --cache-size"):
            return finish(rep)
        try:
            srv = Arco(arco, root, args.cache_size, os.path.join(tmp, "serve.stderr"))
        except RuntimeError as e:
            rep.check(False, "arco serve starts", [str(e)])
            return finish(rep)
        t_end = time.monotonic() + 60
        healthy = False
        while time.monotonic() < t_end and not healthy:
            try:
                healthy = get(srv.host, srv.port, "/healthz", 5)[0] == 200
            except OSError:
                time.sleep(0.2)
        if not rep.check(healthy, f"arco serve answers /healthz at {srv.url}", [srv.stderr_tail()]):
            return finish(rep)
        time.sleep(0.5)
        idle = srv.vm("VmRSS")
        variables = describe(srv, rep)
        ids = sorted({v["id"] for v in variables})
        if not rep.check(len(ids) >= 3, f"three datasets with map variables: {ids}"):
            return finish(rep)
        reqs = build(srv, variables, args.requests, args.seed, rep)
        kinds: dict[str, int] = {}
        for r in reqs:
            kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
        print(f"     {len(reqs)} requests over {args.connections} connections: "
              + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
              + f"; idle RSS {idle / MIB:.1f} MiB, cache bound {cache / MIB:.0f} MiB", flush=True)

        # ---- 3. the load, with RSS sampling
        peak = [idle]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                peak[0] = max(peak[0], srv.vm("VmRSS"))
                stop.wait(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        t0 = time.monotonic()
        stats = load(srv, reqs, args.connections, t0 + args.deadline)
        wall = time.monotonic() - t0
        stop.set()
        sampler.join()
        hwm = srv.vm("VmHWM")

        # ---- 4. the verdicts
        print(f"     {stats['done']} answered in {wall:.1f} s ({stats['done'] / wall:.0f}/s); statuses "
              + ", ".join(f"{k}: {n}" for k, n in sorted(stats["status"].items())), flush=True)
        rep.check(not stats["timed_out"], f"all {len(reqs)} requests sent within {args.deadline:.0f} s")
        rep.check(not stats["conn_errors"], f"no connection errors ({len(stats['conn_errors'])})",
                  stats["conn_errors"])
        five = [w for w in stats["wrong"] if "-> HTTP 5" in w]
        rep.check(not five, f"no 5xx ({len(five)})", five)
        for kind, (n, ok) in sorted(stats["by_kind"].items()):
            wrong = [w for w in stats["wrong"] if w not in five and kind_of(w, reqs) == kind]
            what = {"tile": "tiles are valid PNGs of the tile size", "series": "time series have every time step",
                    "edr": "EDR positions are CoverageJSON", "meta": "metadata requests answer 2xx",
                    "bad": "provoked errors answer 4xx with a JSON {code, description}"}[kind]
            rep.check(ok == n, f"{what}: {ok}/{n}", wrong)
        bound = idle + cache + allowance
        rep.check(peak[0] <= bound,
                  f"peak RSS during the load {peak[0] / MIB:.1f} MiB <= idle {idle / MIB:.1f} + cache "
                  f"{cache / MIB:.0f} + allowance {allowance / MIB:.0f} = {bound / MIB:.1f} MiB "
                  f"(VmHWM {hwm / MIB:.1f} MiB)")
        st = get(srv.host, srv.port, "/healthz", 10)[0]
        rep.check(st == 200, f"/healthz still answers 200 after the load (got {st})")
        if args.verbose:
            st, _, body = get(srv.host, srv.port, "/metrics", 10)
            if st == 200:
                print("\n".join("     " + ln for ln in body.decode(errors="replace").splitlines()
                                if "cache" in ln and not ln.startswith("#")))
        rc = srv.stop()
        rep.check(rc is not None, f"arco serve stops on SIGTERM (exit {rc})", [srv.stderr_tail()])
        srv = None
    finally:
        if srv is not None:
            srv.stop()
        if args.keep:
            print(f"     kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return finish(rep)


def kind_of(line: str, reqs: list[dict], _index: dict = {}) -> str:  # noqa: B006  (a memo)
    if not _index:
        _index.update({r["path"]: r["kind"] for r in reqs})
    return _index.get(line.split(" -> ", 1)[0], "?")


def finish(rep: Report) -> int:
    print(f"serve-load-check: {rep.passed} passed, {rep.failed} failed", flush=True)
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main())
