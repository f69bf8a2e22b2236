#!/usr/bin/env python3
"""STAC API search latency: arco's embedded backend against pgstac.

Generates a synthetic catalog (crates/server/examples/stac_catalog.rs, the
stac crate; default 100,000 items), serves it with

  * `arco serve CATALOG`                      (embedded backend),
  * `arco serve --pgstac URL CATALOG`         (arco over pgstac; loads first),
  * stac-fastapi-pgstac over the same database (with --fastapi-python),

fires the same searches at each — bbox + datetime, bbox + datetime + a CQL2
text filter, and a CQL2 JSON filter (S_INTERSECTS + T_INTERSECTS +
comparison) — one at a time over a keep-alive connection, and reports p50 and
p99 latencies side by side, as ratios to arco-embedded. It also checks that
every server returns the same first page for every query.

Usage (from the repository root):

    cargo build --release -p arco-cli && cargo build --release -p arco-server --example stac_catalog
    .peers-venv/bin/python bench/stac/run.py --arco target/release/arco \\
        [--items 100000] [--queries 300] [--fastapi-python /path/to/venv/bin/python]

The database comes from scripts/pgstac.sh (started and stopped here).
Results go to bench/stac/results.json (and stdout as a Markdown table).
"""

import argparse
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PLATFORMS = ["sentinel-2a", "sentinel-2b", "landsat-8", "landsat-9"]


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def make_queries(n, seed):
    """(kind, method, path, body) tuples, deterministic for the seed."""
    rnd = random.Random(seed)
    t0, t1 = 1420070400, 1735603200  # 2015-01-01 .. 2024-12-31
    out = []
    kinds = ["bbox+datetime", "bbox+datetime+cql2-text", "cql2-json"]
    for i in range(n):
        kind = kinds[i % 3]
        w = rnd.uniform(-175, 160)
        s = rnd.uniform(-70, 55)
        size = rnd.uniform(5, 15)
        box = [round(w, 3), round(s, 3), round(w + size, 3), round(min(s + size, 70), 3)]
        start = rnd.randint(t0, t1 - 400 * 86400)
        end = start + rnd.randint(90, 730) * 86400
        cloud = rnd.randint(10, 60)
        platform = rnd.choice(PLATFORMS)
        if kind == "bbox+datetime":
            q = {"bbox": ",".join(map(str, box)), "datetime": f"{rfc3339(start)}/{rfc3339(end)}", "limit": "10"}
            out.append((kind, "GET", "/search?" + urllib.parse.urlencode(q), None))
        elif kind == "bbox+datetime+cql2-text":
            q = {
                "bbox": ",".join(map(str, box)),
                "datetime": f"{rfc3339(start)}/{rfc3339(end)}",
                "filter": f"eo:cloud_cover < {cloud} AND platform = '{platform}'",
                "filter-lang": "cql2-text",
                "limit": "10",
            }
            out.append((kind, "GET", "/search?" + urllib.parse.urlencode(q), None))
        else:
            poly = {
                "type": "Polygon",
                "coordinates": [[[box[0], box[1]], [box[2], box[1]], [box[2], box[3]], [box[0], box[3]], [box[0], box[1]]]],
            }
            body = {
                "filter-lang": "cql2-json",
                "filter": {
                    "op": "and",
                    "args": [
                        {"op": "s_intersects", "args": [{"property": "geometry"}, poly]},
                        {"op": "t_intersects", "args": [{"property": "datetime"}, {"interval": [rfc3339(start), rfc3339(end)]}]},
                        {"op": "<", "args": [{"property": "eo:cloud_cover"}, cloud]},
                    ],
                },
                "limit": 10,
            }
            out.append((kind, "POST", "/search", body))
    return out


class Client:
    def __init__(self, base):
        u = urllib.parse.urlparse(base)
        self.host, self.port = u.hostname, u.port
        self.prefix = u.path.rstrip("/")
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)

    def request(self, method, path, body):
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data else {}
        for attempt in range(2):
            try:
                t = time.perf_counter()
                self.conn.request(method, self.prefix + path, body=data, headers=headers)
                r = self.conn.getresponse()
                raw = r.read()
                dt = time.perf_counter() - t
                return r.status, raw, dt
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
                if attempt:
                    raise
        raise RuntimeError("unreachable")


def start_arco(arco, args, log):
    """Start `arco serve ... --addr 127.0.0.1:0 --json`; return (process, url, seconds to listen)."""
    t = time.perf_counter()
    p = subprocess.Popen([arco, "serve", *args, "--addr", "127.0.0.1:0", "--json"], stdout=subprocess.PIPE, stderr=log, text=True)
    for line in p.stdout:
        ev = json.loads(line)
        if ev.get("event") == "listening":
            return p, ev["url"], time.perf_counter() - t
    raise RuntimeError(f"arco serve {' '.join(args)} exited with {p.wait()}")


def wait_http(url, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            c = Client(url)
            st, _, _ = c.request("GET", "/", None)
            if st == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer")


def first_page_ids(raw):
    return [f.get("id") for f in json.loads(raw).get("features", [])]


def measure(name, url, queries, rounds):
    c = Client(url)
    lat = {}
    pages = []
    for kind, method, path, body in queries:  # warm-up, and the pages to compare
        st, raw, _ = c.request(method, path, body)
        if st != 200:
            raise RuntimeError(f"{name}: {method} {path} {body} -> {st}: {raw[:300]!r}")
        pages.append(first_page_ids(raw))
    for _ in range(rounds):
        for kind, method, path, body in queries:
            _, _, dt = c.request(method, path, body)
            lat.setdefault(kind, []).append(dt * 1000)
            lat.setdefault("all", []).append(dt * 1000)
    return lat, pages


def pct(xs, p):
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1)))))
    return xs[k]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arco", default=os.path.join(REPO, "target/release/arco"))
    ap.add_argument("--make-catalog", default=None, help="the stac_catalog example binary (default: beside --arco)")
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--catalog", default=None, help="reuse a catalog directory made by an earlier run")
    ap.add_argument("--fastapi-python", default=None, help="a python with stac-fastapi-pgstac and uvicorn installed")
    ap.add_argument("--skip-pgstac", action="store_true")
    ap.add_argument("--out", default=os.path.join(REPO, "bench/stac/results.json"))
    ap.add_argument("--label", default="", help="a note saved with the results (build profile, machine)")
    ap.add_argument("--keep", action="store_true", help="keep the generated catalog (its path is printed)")
    a = ap.parse_args()

    arco = os.path.abspath(a.arco)
    make = a.make_catalog or os.path.join(os.path.dirname(arco), "examples", "stac_catalog")
    work = tempfile.mkdtemp(prefix="arco-stac-bench.")
    log = open(os.path.join(work, "servers.log"), "w")
    catalog = a.catalog or os.path.join(work, "catalog")
    if not a.catalog:
        t = time.perf_counter()
        subprocess.run([make, catalog, "--items", str(a.items), "--collections", "4", "--seed", "11"], check=True)
        print(f"catalog: {a.items} items in {time.perf_counter() - t:.1f} s ({catalog})", file=sys.stderr)

    queries = make_queries(a.queries, a.seed)
    results = {"items": a.items, "queries": a.queries, "rounds": a.rounds, "label": a.label, "servers": {}}
    procs = []
    env_pg = None
    try:
        p, url, load_s = start_arco(arco, [catalog], log)
        procs.append(p)
        print(f"arco-embedded: listening after {load_s:.1f} s (load + index)", file=sys.stderr)
        results["servers"]["arco-embedded"] = {"startup_s": load_s}
        servers = [("arco-embedded", url)]

        if not a.skip_pgstac:
            out = subprocess.run(["bash", os.path.join(REPO, "scripts/pgstac.sh"), "start"], check=True, capture_output=True, text=True)
            env_pg = dict(line.split(" ", 1)[1].split("=", 1) for line in out.stdout.splitlines() if line.startswith("export "))
            pg_url = env_pg["ARCO_PGSTAC_URL"]
            p2, url2, load2 = start_arco(arco, ["--pgstac", pg_url, catalog], log)
            procs.append(p2)
            print(f"arco-pgstac: loaded and listening after {load2:.1f} s", file=sys.stderr)
            subprocess.run(["psql", pg_url, "-qc", "VACUUM ANALYZE"], check=True)
            results["servers"]["arco-pgstac"] = {"startup_s": load2}
            servers.append(("arco-pgstac", url2))
            if a.fastapi_python:
                u = urllib.parse.urlparse(pg_url)
                port = subprocess.run([sys.executable, "-c", "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])"], capture_output=True, text=True).stdout.strip()
                env = dict(os.environ, PGUSER=u.username or "postgres", PGPASSWORD="unused", PGHOST=u.hostname, PGPORT=str(u.port), PGDATABASE=u.path.lstrip("/"))
                p3 = subprocess.Popen([a.fastapi_python, "-m", "uvicorn", "stac_fastapi.pgstac.app:create_app", "--factory", "--host", "127.0.0.1", "--port", port, "--log-level", "warning", "--no-access-log"], env=env, stdout=log, stderr=log)
                procs.append(p3)
                url3 = f"http://127.0.0.1:{port}/"
                wait_http(url3)
                results["servers"]["stac-fastapi-pgstac"] = {}
                servers.append(("stac-fastapi-pgstac", url3))

        pages = {}
        for name, u in servers:
            print(f"measuring {name} ...", file=sys.stderr)
            lat, pg = measure(name, u, queries, a.rounds)
            pages[name] = pg
            r = results["servers"][name]
            for kind, xs in lat.items():
                r[kind] = {"p50_ms": round(pct(xs, 50), 3), "p99_ms": round(pct(xs, 99), 3), "n": len(xs)}
        # Same first pages everywhere?
        ref = pages["arco-embedded"]
        results["same_first_pages"] = {name: sum(1 for x, y in zip(ref, pg) if x == y) for name, pg in pages.items()}
        with open(a.out, "w") as f:
            json.dump(results, f, indent=1)
        report(a, results)
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        if env_pg:
            subprocess.run(["bash", os.path.join(REPO, "scripts/pgstac.sh"), "stop"], env=dict(os.environ, ARCO_PGSTAC_DIR=env_pg["ARCO_PGSTAC_DIR"]))
        log.close()
        if not a.keep:
            print(f"removing {work}", file=sys.stderr)
            shutil.rmtree(work, ignore_errors=True)


def report(a, results):
    kinds = ["bbox+datetime", "bbox+datetime+cql2-text", "cql2-json", "all"]
    base = results["servers"]["arco-embedded"]
    print(f"\n{a.items} items, {a.queries} queries x {a.rounds} rounds, limit 10. {a.label}\n")
    print("| query | server | p50 ms | p99 ms | p50 / arco-embedded | p99 / arco-embedded |")
    print("|---|---|---:|---:|---:|---:|")
    for k in kinds:
        for name, r in results["servers"].items():
            if k not in r:
                continue
            print(f"| {k} | {name} | {r[k]['p50_ms']:.2f} | {r[k]['p99_ms']:.2f} | "
                  f"{r[k]['p50_ms'] / base[k]['p50_ms']:.1f}x | {r[k]['p99_ms'] / base[k]['p99_ms']:.1f}x |")
    print(f"\nsame first page as arco-embedded (of {a.queries}): {results['same_first_pages']}")


if __name__ == "__main__":
    main()
