"""Judge for arco-icechunk: icechunk-python opens each repository and every
variable equals what xarray reads from the source file, element by element,
after CF decoding.

Usage: python icechunk_judge.py CASES.json, where CASES.json is a list of
{"src": path, "repo": path, "containers": [url prefix, ...]}.
Prints one line per file (OK / FAIL with reasons); exits 1 if any failed.
"""
import json
import sys
import warnings

import icechunk
import netCDF4
import numpy as np
import xarray as xr

warnings.simplefilter("ignore")


def groups(path):
    """Group paths of a netCDF-4/HDF5 file ('/' first); ['/'] if netCDF4 cannot open it."""
    try:
        ds = netCDF4.Dataset(path)
    except Exception:
        return ["/"]
    out = []

    def walk(g, p):
        out.append(p)
        for name, sub in g.groups.items():
            walk(sub, f"{p.rstrip('/')}/{name}")

    walk(ds, "/")
    ds.close()
    return out


def open_source(path, gp):
    group = None if gp == "/" else gp
    try:
        return xr.open_dataset(path, group=group, engine="netcdf4", decode_timedelta=False)
    except Exception:
        return xr.open_dataset(path, group=group, engine="h5netcdf", phony_dims="sort",
                               decode_timedelta=False)


def same_values(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return f"shape {b.shape} != source {a.shape}"
    if a.dtype.kind in "fc" and b.dtype.kind in "fc":
        ok = np.array_equal(a, b, equal_nan=True)
    elif a.dtype.kind == "M" and b.dtype.kind == "M":
        ok = np.array_equal(a.astype("datetime64[ns]"), b.astype("datetime64[ns]"), equal_nan=True)
    else:
        ok = np.array_equal(a, b)
        if not ok and a.dtype.kind in "OSU" and b.dtype.kind in "OSU":
            norm = lambda x: np.vectorize(lambda s: s.decode() if isinstance(s, bytes) else str(s),
                                          otypes=[object])(x) if x.size else x
            ok = np.array_equal(norm(a), norm(b))
    if ok:
        return None
    return f"values differ (dtype {b.dtype} vs source {a.dtype})"


def raw(path, gp, session):
    """Stored (not unpacked, not masked) values of group gp of the source, or
    through the repository when session is given."""
    group = None if gp == "/" else gp
    if session is None:
        try:
            return xr.open_dataset(path, group=group, engine="netcdf4", mask_and_scale=False,
                                   decode_times=False, decode_timedelta=False)
        except Exception:
            return xr.open_dataset(path, group=group, engine="h5netcdf", phony_dims="sort",
                                   mask_and_scale=False, decode_times=False, decode_timedelta=False)
    return xr.open_zarr(session.store, group=None if gp == "/" else gp.strip("/"), consolidated=False,
                        mask_and_scale=False, decode_times=False, decode_timedelta=False)


def check(case):
    reasons, compared = [], 0
    repo = icechunk.Repository.open(
        icechunk.local_filesystem_storage(case["repo"]),
        authorize_virtual_chunk_access={p: None for p in case["containers"]},
    )
    session = repo.readonly_session("main")
    for gp in groups(case["src"]):
        try:
            src = open_source(case["src"], gp)
        except Exception as e:
            print(f"  note: xarray cannot open source group {gp}: {str(e)[:100]}")
            continue
        try:
            dst = xr.open_zarr(session.store, group=None if gp == "/" else gp.strip("/"),
                               consolidated=False, decode_timedelta=False)
        except Exception as e:
            reasons.append(f"group {gp}: icechunk/xarray cannot open it: {type(e).__name__}: {str(e)[:200]}")
            continue
        for name in src.variables:
            if name not in dst.variables:
                reasons.append(f"{gp}{name}: missing")
                continue
            try:
                a, b = src[name].values, dst[name].values
                why = same_values(a, b)
                if why and a.dtype.kind == "f" and b.dtype.kind == "f" and a.dtype != b.dtype:
                    # Zarr attributes hold scale_factor/add_offset as JSON numbers, so
                    # xarray unpacks into float64 where netCDF4's float32 attributes
                    # give float32: then the stored values must be equal exactly and
                    # the unpacked ones within the narrower type's precision of the
                    # variable's largest magnitude.
                    raw_a = raw(case["src"], gp, None)[name].values
                    raw_b = raw(case["src"], gp, session)[name].values
                    eps = max(np.finfo(a.dtype).eps, np.finfo(b.dtype).eps)
                    if same_values(raw_a, raw_b) is None and np.allclose(a, b, rtol=0, atol=4 * eps * float(np.nanmax(np.abs(a), initial=1.0)), equal_nan=True):
                        why = None
                        print(f"  note: {gp}{name}: unpacked as {b.dtype} (source {a.dtype}); stored values equal")
            except Exception as e:
                why = f"{type(e).__name__}: {str(e)[:200]}"
            compared += 1
            if why:
                reasons.append(f"{gp}{name}: {why}")
    return reasons, compared


def main():
    cases = json.load(open(sys.argv[1]))
    failed = 0
    print(f"icechunk-python {icechunk.__version__}")
    for case in cases:
        try:
            reasons, compared = check(case)
        except Exception as e:
            reasons, compared = [f"{type(e).__name__}: {str(e)[:300]}"], 0
        if compared == 0 and not reasons:
            reasons = ["no variable compared"]
        if reasons:
            failed += 1
            print(f"FAIL {case['src']}")
            for r in reasons:
                print(f"  {r}")
        else:
            print(f"OK {case['src']} ({compared} variables)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
