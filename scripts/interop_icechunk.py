#!/usr/bin/env python3
"""interop_icechunk.py — the judge of Icechunk repositories as arco INPUTS.

Cases (each line of output names its case; any failure exits 1):

* "[python native]": icechunk-python (1.x, peers venv) writes a repository
  with native chunks (``xarray.Dataset.to_zarr`` on a writable session) from
  real NetCDF files; ``arco inspect --json`` lists the variables, shapes and
  dtypes xarray sees; ``arco dump --raw --npy`` of every variable equals
  zarr-python's stored values read from the same repository; ``arco convert
  REPO out.zarr`` equals, element by element and CF-decoded, xarray opening
  the repository.
* "[versions]": ``REPO@dev``, ``@branch:dev``, ``@tag:v1`` and
  ``@snapshot:ID`` (a repository by icechunk-python with a branch that
  changes one variable) read with ``arco dump`` equal zarr-python's read of
  that version, and differ from ``main`` where the branch does.
* "[python virtual]": VirtualiZarr (``vds.vz.to_icechunk``) writes virtual
  references to the same files; the same checks, arco following the
  references with the containers authorized.
* "[arco verify]": ``arco virtualize FILE REPO.icechunk`` from real files;
  ``arco verify FILE REPO`` exits 0; ``arco convert REPO out.zarr`` and
  ``arco verify REPO out.zarr`` exit 0; after the source is touched (a later
  modification time) or rewritten, ``arco verify FILE REPO`` exits 1 naming
  the source.
* "[s3]": a moto server on loopback: ``arco virtualize s3://b/src/FILE
  s3://b/x.icechunk``; icechunk-python opens it with ``s3_storage(
  endpoint_url=..., allow_http=True, force_path_style=True)`` and xarray
  reads every value of the source; ``arco convert s3://b/x.icechunk
  out.zarr`` equals the source too; a second virtualize without
  ``--overwrite`` is refused.

Usage: .peers-venv/bin/python scripts/interop_icechunk.py --arco target/debug/arco
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import xarray as xr
import zarr

try:
    import icechunk
except ImportError:  # pragma: no cover
    icechunk = None

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "tests" / "data" / "real"
FILES = ["netcdf4/cordex.nc", "netcdf4/lcc_km.nc", "netcdf3/sub.nc"]
VIRTUAL_FILES = ["netcdf4/cordex.nc", "netcdf4/lcc_km.nc"]

failures = []
warnings.filterwarnings("ignore")


def fail(case, message):
    failures.append(f"{case}: {message}")
    print(f"FAIL {case}: {message}", flush=True)


def ok(case, message):
    print(f"ok   {case}: {message}", flush=True)


def run(arco, *args, env=None, check=True):
    p = subprocess.run([arco, *args], capture_output=True, text=True, env=env)
    if check and p.returncode != 0:
        raise RuntimeError(f"arco {' '.join(args)} exited {p.returncode}: {p.stderr.strip()}")
    return p


def same_values(a, b):
    """Element by element, NaN equal to NaN, datetimes compared as such."""
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape:
        return f"shapes {a.shape} vs {b.shape}"
    if a.dtype.kind in "fc" or b.dtype.kind in "fc":
        try:
            eq = (a == b) | (np.isnan(a.astype("c16")) & np.isnan(b.astype("c16")))
        except (TypeError, ValueError):
            eq = a == b
    elif a.dtype.kind == "M" or b.dtype.kind == "M":
        eq = (a == b) | (np.isnat(a) & np.isnat(b))
    else:
        eq = a == b
    eq = np.asarray(eq)
    if not eq.all():
        i = np.argwhere(~eq)[0]
        return f"{int((~eq).sum())} of {a.size} differ, first at {tuple(int(x) for x in i)}: {a[tuple(i)]!r} vs {b[tuple(i)]!r}"
    return None


def compare_datasets(case, got, want):
    """Every variable of `want` is in `got` with equal values."""
    n = 0
    for name in list(want.variables):
        if name not in got.variables:
            fail(case, f"{name} missing from arco's output")
            continue
        why = same_values(got[name].values, want[name].values)
        if why:
            fail(case, f"{name}: {why}")
        n += want[name].size
    return n


def check_repo(arco, case, repo, xr_open, zarr_open, work, env=None):
    """inspect, dump --raw, convert of `repo` against the python readers."""
    ref = xr_open()
    info = json.loads(run(arco, "inspect", "--json", repo, env=env).stdout)
    arco_vars = {}

    def walk(g):
        for v in g.get("variables", []):
            arco_vars[v["path"].lstrip("/")] = v
        for c in g.get("groups", []):
            walk(c)

    walk(info["root"])
    for name in ref.variables:
        v = arco_vars.get(name)
        if v is None:
            fail(case, f"inspect: {name} missing")
            continue
        if list(v["shape"]) != list(ref[name].shape):
            fail(case, f"inspect: {name} shape {v['shape']} vs xarray {list(ref[name].shape)}")
    # Stored values, array by array, through arco dump --raw --npy.
    root = zarr_open()
    dumped = 0
    for name, v in arco_vars.items():
        npy = work / f"{name.replace('/', '_')}.npy"
        run(arco, "dump", "--raw", "--var", name, "--npy", str(npy), repo, env=env)
        got = np.load(npy, allow_pickle=False)
        want = root[name][...]
        why = same_values(got, np.asarray(want))
        if why:
            fail(case, f"dump --raw {name}: {why}")
        dumped += 1
    # CF-decoded values through arco convert.
    out = work / "out.zarr"
    if out.exists():
        shutil.rmtree(out)
    run(arco, "convert", "--no-stac", repo, str(out), env=env)
    got = xr.open_zarr(out, consolidated=False)
    n = compare_datasets(case, got, ref)
    ok(case, f"{repo}: {len(arco_vars)} variables inspected, {dumped} dumped raw, {n} decoded values compared")


def python_native(arco, work):
    case = "[python native]"
    for rel in FILES:
        src = REAL / rel
        d = work / f"native-{src.stem}"
        d.mkdir()
        repo_dir = d / "repo.icechunk"
        repo = icechunk.Repository.create(icechunk.local_filesystem_storage(str(repo_dir)))
        session = repo.writable_session("main")
        ds = xr.open_dataset(src)
        for v in ds.variables.values():
            v.encoding.pop("chunksizes", None)
            v.encoding.pop("contiguous", None)
            v.encoding.pop("original_shape", None)
        ds.to_zarr(session.store, consolidated=False, zarr_format=3)
        session.commit("native")

        def xr_open():
            s = icechunk.Repository.open(icechunk.local_filesystem_storage(str(repo_dir))).readonly_session("main")
            return xr.open_zarr(s.store, consolidated=False)

        def zarr_open():
            s = icechunk.Repository.open(icechunk.local_filesystem_storage(str(repo_dir))).readonly_session("main")
            return zarr.open_group(s.store, mode="r")

        try:
            check_repo(arco, f"{case} {rel}", str(repo_dir), xr_open, zarr_open, d)
        except Exception as e:  # noqa: BLE001
            fail(f"{case} {rel}", str(e))


def python_virtual(arco, work):
    case = "[python virtual]"
    try:
        from obspec_utils.registry import ObjectStoreRegistry
    except ImportError:
        from virtualizarr.registry import ObjectStoreRegistry
    from obstore.store import LocalStore
    from virtualizarr import open_virtual_dataset
    from virtualizarr.parsers import HDFParser

    for rel in VIRTUAL_FILES:
        d = work / f"virtual-{Path(rel).stem}"
        d.mkdir()
        src = d / Path(rel).name
        shutil.copy(REAL / rel, src)
        prefix = f"file://{d}/"
        registry = ObjectStoreRegistry({"file://": LocalStore()})
        vds = open_virtual_dataset(f"file://{src}", registry=registry, parser=HDFParser())
        repo_dir = d / "repo.icechunk"
        config = icechunk.RepositoryConfig.default()
        config.set_virtual_chunk_container(
            icechunk.VirtualChunkContainer(prefix, icechunk.local_filesystem_store(str(d)))
        )
        auth = {prefix: None}
        repo = icechunk.Repository.create(
            icechunk.local_filesystem_storage(str(repo_dir)),
            config=config,
            authorize_virtual_chunk_access=auth,
        )
        session = repo.writable_session("main")
        vds.vz.to_icechunk(session.store)
        session.commit("virtual")

        def opened():
            return icechunk.Repository.open(
                icechunk.local_filesystem_storage(str(repo_dir)),
                authorize_virtual_chunk_access=auth,
            ).readonly_session("main")

        def xr_open():
            return xr.open_zarr(opened().store, consolidated=False)

        def zarr_open():
            return zarr.open_group(opened().store, mode="r")

        try:
            check_repo(arco, f"{case} {rel}", str(repo_dir), xr_open, zarr_open, d)
            # And the values equal the source file's.
            got = xr.open_zarr(d / "out.zarr", consolidated=False)
            n = compare_datasets(f"{case} {rel} vs source", got, xr.open_dataset(src))
            ok(f"{case} {rel}", f"{n} values equal the source's")
        except Exception as e:  # noqa: BLE001
            fail(f"{case} {rel}", str(e))


def arco_verify(arco, work):
    case = "[arco verify]"
    for rel in FILES:
        d = work / f"verify-{Path(rel).stem}"
        d.mkdir()
        src = d / Path(rel).name
        shutil.copy(REAL / rel, src)
        # A modification time well in the past: "later" is then certain.
        os.utime(src, (1_600_000_000, 1_600_000_000))
        repo = str(d / "x.icechunk")
        try:
            run(arco, "virtualize", "--no-stac", str(src), repo)
            p = run(arco, "verify", str(src), repo, check=False)
            if p.returncode != 0:
                fail(f"{case} {rel}", f"fresh repository: exit {p.returncode}: {p.stdout}{p.stderr}")
                continue
            out = str(d / "out.zarr")
            run(arco, "convert", "--no-stac", repo, out)
            p = run(arco, "verify", repo, out, check=False)
            if p.returncode != 0:
                fail(f"{case} {rel}", f"verify REPO out.zarr: exit {p.returncode}: {p.stdout}{p.stderr}")
            # Touched: a later modification time.
            os.utime(src, None)
            p = run(arco, "verify", str(src), repo, check=False)
            if p.returncode != 1 or Path(rel).name not in p.stdout:
                fail(f"{case} {rel}", f"touched source: exit {p.returncode}, output {p.stdout!r}")
            # Rewritten with other bytes (one more at the end).
            with open(src, "ab") as f:
                f.write(b"\0")
            p = run(arco, "verify", "--json", str(src), repo, check=False)
            report = json.loads(p.stdout) if p.stdout.strip() else {}
            changes = report.get("source_changes", [])
            if p.returncode != 1 or not any(Path(rel).name in c.get("location", "") for c in changes):
                fail(f"{case} {rel}", f"rewritten source: exit {p.returncode}, changes {changes}")
            ok(f"{case} {rel}", "fresh: exit 0; REPO -> out.zarr: exit 0; touched and rewritten: exit 1 naming the source")
        except Exception as e:  # noqa: BLE001
            fail(f"{case} {rel}", str(e))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def s3_case(arco, work):
    case = "[s3]"
    moto = Path(sys.executable).parent / "moto_server"
    if not moto.exists():
        if os.environ.get("ARCO_REQUIRE_PEERS") == "1":
            fail(case, f"moto_server not found at {moto}")
        else:
            print(f"skipped {case}: moto_server not found at {moto}")
        return
    port = free_port()
    server = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import boto3

        endpoint = f"http://127.0.0.1:{port}"
        creds = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
        for _ in range(600):
            try:
                s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **creds)
                s3.list_buckets()
                break
            except Exception:  # noqa: BLE001
                time.sleep(0.1)
        s3.create_bucket(Bucket="ice")
        rel = "netcdf4/cordex.nc"
        s3.upload_file(str(REAL / rel), "ice", "src/cordex.nc")
        env = dict(
            os.environ,
            AWS_ACCESS_KEY_ID="test",
            AWS_SECRET_ACCESS_KEY="test",
            AWS_REGION="us-east-1",
        )
        env.pop("AWS_ENDPOINT_URL", None)
        ep = ["--s3-endpoint", endpoint]
        run(arco, *ep, "virtualize", "--no-stac", "s3://ice/src/cordex.nc", "s3://ice/x.icechunk", env=env)
        p = run(arco, *ep, "virtualize", "--no-stac", "s3://ice/src/cordex.nc", "s3://ice/x.icechunk", env=env, check=False)
        if p.returncode == 0 or "--overwrite" not in p.stderr:
            fail(case, f"a second virtualize without --overwrite: exit {p.returncode}: {p.stderr}")
        run(arco, *ep, "virtualize", "--no-stac", "--overwrite", "s3://ice/src/cordex.nc", "s3://ice/x.icechunk", env=env)
        storage = icechunk.s3_storage(
            bucket="ice",
            prefix="x.icechunk",
            endpoint_url=endpoint,
            allow_http=True,
            force_path_style=True,
            region="us-east-1",
            access_key_id="test",
            secret_access_key="test",
        )
        repo = icechunk.Repository.open(
            storage,
            authorize_virtual_chunk_access=icechunk.containers_credentials(
                {"s3://ice/": icechunk.s3_credentials(access_key_id="test", secret_access_key="test")}
            ),
        )
        got = xr.open_zarr(repo.readonly_session("main").store, consolidated=False)
        want = xr.open_dataset(REAL / rel)
        n = compare_datasets(f"{case} icechunk-python", got, want)
        ok(case, f"icechunk-python + xarray read s3://ice/x.icechunk: {n} values equal the source's")
        out = work / "s3-out.zarr"
        run(arco, *ep, "convert", "--no-stac", "s3://ice/x.icechunk", str(out), env=env)
        n = compare_datasets(f"{case} arco convert", xr.open_zarr(out, consolidated=False), want)
        ok(case, f"arco convert s3://ice/x.icechunk: {n} values equal the source's")
        p = run(arco, *ep, "verify", str(REAL / rel), "s3://ice/x.icechunk", env=env, check=False)
        if p.returncode != 0:
            fail(case, f"arco verify SRC s3://ice/x.icechunk: exit {p.returncode}: {p.stdout}{p.stderr}")
    except Exception as e:  # noqa: BLE001
        fail(case, str(e))
    finally:
        server.terminate()
        server.wait()


def versions(arco, work):
    """`REPO@BRANCH`, `@tag:NAME` and `@snapshot:ID` read that version:
    icechunk-python commits cordex.nc on main (tagged v1), then on a branch
    dev doubles sfcWind; arco dump of each version equals zarr-python's read
    of the same version."""
    case = "[versions]"
    before = len(failures)
    repo_dir = work / "versions.icechunk"
    repo = icechunk.Repository.create(icechunk.local_filesystem_storage(str(repo_dir)))
    s = repo.writable_session("main")
    ds = xr.open_dataset(REAL / "netcdf4/cordex.nc", mask_and_scale=False, decode_times=False)
    for v in ds.variables.values():
        v.encoding = {k: v.encoding[k] for k in ("dtype", "_FillValue") if k in v.encoding}
    ds.to_zarr(s.store, consolidated=False, zarr_format=3)
    snap = s.commit("first")
    repo.create_tag("v1", snap)
    repo.create_branch("dev", snap)
    s = repo.writable_session("dev")
    root = zarr.open_group(s.store, mode="r+")
    root["sfcWind"][...] = root["sfcWind"][...] * 2
    s.commit("doubled")
    n = 0
    for suffix, kw in (("", {"branch": "main"}), ("@dev", {"branch": "dev"}), ("@branch:dev", {"branch": "dev"}),
                       ("@tag:v1", {"tag": "v1"}), (f"@snapshot:{snap}", {"snapshot_id": snap})):
        npy = work / f"versions{n}.npy"
        n += 1
        try:
            run(arco, "dump", "--raw", "--var", "sfcWind", "--npy", str(npy), f"{repo_dir}{suffix}")
        except Exception as e:  # noqa: BLE001
            fail(case, f"{suffix or 'main'}: {e}")
            continue
        store = icechunk.Repository.open(icechunk.local_filesystem_storage(str(repo_dir))).readonly_session(**kw).store
        why = same_values(np.load(npy), zarr.open_group(store, mode="r")["sfcWind"][...])
        if why:
            fail(case, f"{suffix or 'main'}: {why}")
    main_v = np.load(work / "versions0.npy")
    dev_v = np.load(work / "versions1.npy") if (work / "versions1.npy").exists() else main_v
    if same_values(main_v, dev_v) is None:
        fail(case, "@dev reads like main: the suffix was not followed")
    if len(failures) == before:
        ok(case, f"main, @dev, @branch:dev, @tag:v1, @snapshot:{snap} each read as zarr-python reads them")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arco", default=str(ROOT / "target" / "debug" / "arco"))
    args = ap.parse_args()
    arco = str(Path(args.arco).resolve())
    if icechunk is None or not icechunk.__version__.startswith("1."):
        msg = "icechunk-python 1.x is not installed in this venv (run scripts/setup-peers.sh)"
        if os.environ.get("ARCO_REQUIRE_PEERS") == "1":
            print(f"FAIL: {msg}")
            return 1
        print(f"skipped: {msg}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        python_native(arco, work)
        versions(arco, work)
        python_virtual(arco, work)
        arco_verify(arco, work)
        s3_case(arco, work)
    if failures:
        print(f"\n{len(failures)} failure(s)")
        return 1
    print("\nall Icechunk input checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
