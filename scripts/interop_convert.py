#!/usr/bin/env python3
"""interop_convert.py — the conversion judge: what `arco convert` writes, read
back by the reference tools and compared value for value with the source.

For every NetCDF / HDF5 file under tests/data/real/{netcdf3,netcdf4,hdf5-fixtures}
and tests/data/fixtures/ it runs ``arco convert FILE OUT.zarr`` (in a temporary
folder) and checks:

* the store: ``zarr.json`` at the root (``.zgroup`` with ``--zarr-format 2``),
  no ``OUT.zarr.arco-partial`` left behind, and ``arco:provenance`` in the root
  attributes naming the input's SHA-256;
* netCDF files, per group, ``xarray.open_zarr(OUT, group=G, consolidated=False)``
  against ``xarray.open_dataset(FILE, group=G)`` (both with
  ``decode_timedelta=False``): the same dimensions and sizes, data variables,
  coordinates, per variable the dims, decoded dtype, attributes (``arco:provenance``
  ignored at the root), the CF encoding (``units``, ``calendar``, ``scale_factor``,
  ``add_offset``, ``_FillValue``, ``missing_value``, stored ``dtype``) and the
  decoded values: exact, NaN == NaN, NaT == NaT, cftime dates equal;
* netCDF files, ``zarr.open_group(OUT)`` (zarr-python 3) against netCDF4-python's
  raw values (auto mask/scale off): every variable at its path with the stored
  dtype (byte order aside), its dimension names and exactly its values; a
  compound variable as a group of one array per field (``events/mean``);
* plain HDF5 files, ``zarr.open_group(OUT)`` against h5py: every group and
  dataset at its path, attributes kept, values exact; a compound dataset as a
  group of one array per field (``Events/mean``) with the dataset's attributes;
  and every group opens with ``xarray.open_zarr``;
* a plain ``xarray.open_zarr(OUT)`` (consolidated metadata, when written)
  sees the same root variables as ``consolidated=False``;
* ``arco verify FILE OUT.zarr`` exits 0; and on nc4_cf.nc with one value
  altered (``tas[1, 2, 3]``), then one attribute (``precip@units``), verify
  exits 1 naming the variable and index, then the attribute ("[verify catches]").

A few files are converted again with ``--zarr-format 2`` and read with xarray
and zarr-python as Zarr v2 ("[zarr v2]" lines). The deliberately broken
fixtures (tests/data/fixtures/README.md) must make ``arco convert`` exit 1 with
a message naming the file and leave nothing at the destination ("[broken on
purpose]" lines). Unless ``--no-s3``: a conversion from and to a moto S3 server
on loopback ("[s3]" lines), read back with xarray through s3fs.

Known limitations of Zarr that the judge accepts (each printed as a NOTE with -v):

* attributes are JSON, so an attribute's numeric type is not kept: values are
  compared, a float32 attribute in float32 precision. For a packed variable
  with float32 ``scale_factor``/``add_offset`` xarray therefore decodes float64
  from Zarr where it decodes float32 from netCDF: accepted when the values
  agree to float32 precision;
* a vlen (ragged) variable of numbers has no Zarr data type: not compared;
* text may come back as another of numpy's str dtypes (<U, object,
  StringDType) than the source's: compared as text. Bytes (|S) stay bytes.

Output: one line per file and check, PASS / FAIL / SKIP with the reasons, then

    interop-convert: N passed, M failed, K skipped

Exit code 1 if anything failed.

Usage (from the repository root, with the peers venv of scripts/setup-peers.sh):

    .peers-venv/bin/python scripts/interop_convert.py [--arco target/debug/arco] [FILE ...]
    .peers-venv/bin/python scripts/interop_convert.py --only nc4_ -v --keep
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from interop_common import (  # noqa: E402  (imports h5py and hdf5plugin before netCDF4)
    BAD_FILES,
    HDF5_EXTS,
    REPO,
    Judge,
    MotoServer,
    discover,
    find_arco,
    first_line,
    is_cftime,
    rel,
    short,
    to_text,
    unsupported,
)
import h5py  # noqa: E402
import netCDF4  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402
import zarr  # noqa: E402

from interop import Hdf5Ref, NetcdfRef  # noqa: E402  (reference readers of the reading judge)

warnings.simplefilter("ignore")

# Converted again with --zarr-format 2.
V2_FILES = [
    "tests/data/fixtures/nc4_cf.nc",
    "tests/data/fixtures/nc3_classic.nc",
    "tests/data/real/netcdf3/sub.nc",
    "tests/data/real/netcdf4/cordex.nc",
]
# Converted from and to S3.
S3_FILE = "tests/data/real/netcdf4/cordex.nc"

PROVENANCE = "arco:provenance"
# CF attributes that xarray moves from attrs to encoding; compared there.
CF_ENCODING = ("units", "calendar", "scale_factor", "add_offset", "_FillValue", "missing_value", "dtype")
# HDF5 attributes that hold object references (dimension scales): no JSON form.
H5_REF_ATTRS = {"DIMENSION_LIST", "REFERENCE_LIST"}
# Attributes zarr-python shows for Zarr v2 arrays that are xarray's, not the source's.
V2_ATTRS = {"_ARRAY_DIMENSIONS"}

EPS32 = float(np.finfo(np.float32).eps)


# =========================================================================== comparison


def first_diff(ref: np.ndarray, got: np.ndarray, bad: np.ndarray) -> str:
    idx = np.argwhere(bad)
    i = tuple(int(x) for x in idx[0]) if ref.ndim else ()
    more = f" ({len(idx)} values differ)" if len(idx) > 1 else ""
    return f"at index {list(i)}: got {short(got[i], 50)}, expected {short(ref[i], 50)}{more}"


def as_text_array(a: np.ndarray) -> np.ndarray:
    flat = [None if x is None else to_text(x) for x in np.asarray(a, dtype=object).reshape(-1)]
    out = np.empty(len(flat), dtype=object)
    out[:] = flat
    return out.reshape(np.shape(a))


def compare_arrays(where: str, ref, got, tol=None) -> str | None:
    """Element by element; None when equal. Exact for integers, strings and
    times; floats exact with NaN == NaN, or within tol (an array or scalar of
    absolute tolerances) when given."""
    ref = np.asarray(ref)
    got = np.asarray(got)
    if ref.shape != got.shape:
        return f"{where}: shape {list(got.shape)}, expected {list(ref.shape)}"
    if ref.dtype.names:
        if not got.dtype.names or set(got.dtype.names) != set(ref.dtype.names):
            return f"{where}: fields {got.dtype.names}, expected {ref.dtype.names}"
        for n in ref.dtype.names:
            why = compare_arrays(f"{where}.{n}", ref[n], got[n])
            if why:
                return why
        return None
    if ref.size == 0:
        return None
    rk, gk = ref.dtype.kind, got.dtype.kind
    if rk == "M" or gk == "M":
        if rk != gk:
            return f"{where}: dtype {got.dtype}, expected {ref.dtype}"
        r = ref.astype("datetime64[ns]").view("i8")
        g = got.astype("datetime64[ns]").view("i8")
        bad = r != g
        return f"{where}: times differ {first_diff(ref, got, bad)}" if bad.any() else None
    if rk == "O" and is_cftime(ref.reshape(-1)[0]) or gk == "O" and got.size and is_cftime(got.reshape(-1)[0]):
        bad = np.array([not (a == b) for a, b in zip(ref.reshape(-1), got.reshape(-1))]).reshape(ref.shape)
        return f"{where}: dates differ {first_diff(ref, got, bad)}" if bad.any() else None
    if rk in "OSUT" or gk in "OSUT":
        r, g = as_text_array(ref), as_text_array(got)
        bad = np.array([a != b for a, b in zip(r.reshape(-1), g.reshape(-1))]).reshape(ref.shape)
        return f"{where}: text differs {first_diff(r, g, bad)}" if bad.any() else None
    if rk == "f" or gk == "f":
        r = ref.astype(np.float64)
        g = got.astype(np.float64)
        nan_r, nan_g = np.isnan(r), np.isnan(g)
        if tol is None:
            bad = (r != g) & ~(nan_r & nan_g)
        else:
            with np.errstate(invalid="ignore"):
                bad = ~(np.abs(r - g) <= tol) & ~(nan_r & nan_g)
        bad |= nan_r != nan_g
        return f"{where}: values differ {first_diff(ref, got, bad)}" if bad.any() else None
    if rk in "iub" and gk in "iub":
        bad = ref.astype(object) != got.astype(object) if (rk == "u") != (gk == "u") else ref != got
        bad = np.asarray(bad, dtype=bool)
        return f"{where}: values differ {first_diff(ref, got, bad)}" if bad.any() else None
    return f"{where}: dtype {got.dtype} cannot be compared with {ref.dtype}"


def attr_value_equal(ref, got) -> bool:
    """One attribute: values equal (JSON keeps no numeric type, so a float32
    attribute is compared in float32, strings as text, 1-element lists as scalars)."""
    if isinstance(ref, h5py.Empty):
        return got is None or got == [] or got == ""
    if isinstance(ref, (str, bytes, np.bytes_, np.str_)):
        if isinstance(got, (list, np.ndarray)) and len(got) == 1:
            got = got[0]
        return isinstance(got, (str, bytes, np.bytes_, np.str_)) and to_text(ref) == to_text(got)
    r = np.asarray(ref if not isinstance(ref, (list, tuple)) else np.array(ref, dtype=object))
    if r.dtype.names:
        return True  # compound attributes have no JSON form; names compared by the caller
    g = np.asarray(got if not isinstance(got, (list, tuple)) else np.array(got, dtype=object))
    if r.size != g.size:
        return False
    r, g = r.reshape(-1), g.reshape(-1)
    if r.dtype.kind in "OSU":
        return all(to_text(a) == to_text(b) for a, b in zip(r, g))
    try:
        if r.dtype.kind == "f":
            gf = np.array([np.nan if b is None or (isinstance(b, str) and b.lower() == "nan") else b
                           for b in g], dtype=np.float64).astype(r.dtype)
            return bool(np.array_equal(r, gf, equal_nan=True))
        if r.dtype.kind == "b":
            return all(bool(a) == bool(b) for a, b in zip(r, g))
        return all(int(a) == int(b) for a, b in zip(r, g))
    except (TypeError, ValueError):
        return False


def compare_attr_dicts(where: str, ref: dict, got: dict, ignore=frozenset()) -> list[str]:
    ref = {k: v for k, v in ref.items() if k not in ignore}
    got = {k: v for k, v in got.items() if k not in ignore}
    out = []
    if set(ref) - set(got):
        out.append(f"{where}: attributes missing {sorted(set(ref) - set(got))}")
    if set(got) - set(ref):
        out.append(f"{where}: unexpected attributes {sorted(set(got) - set(ref))}")
    for k in sorted(set(ref) & set(got)):
        if not attr_value_equal(ref[k], got[k]):
            out.append(f"{where}@{k} = {short(got[k], 70)}, expected {short(ref[k], 70)}")
    return out


def norm_dtype(dt) -> np.dtype:
    dt = np.dtype(dt)
    return dt.newbyteorder("=") if dt.byteorder in "<>" else dt


def same_stored_dtype(ref, got) -> bool:
    """The stored dtype survived (byte order aside; text kinds by kind)."""
    if ref is None or got is None:
        return ref is got
    r, g = np.dtype(ref), np.dtype(got)
    if r.kind in "OUST" and g.kind in "OUST":  # T: numpy's StringDType
        return r.kind == g.kind or {r.kind, g.kind} <= {"O", "U", "T"} or (r == np.dtype("S1") and g == r)
    return norm_dtype(r) == norm_dtype(g)


def is_float32_scaled(var) -> bool:
    enc = var.encoding
    return any(isinstance(enc.get(k), np.float32) for k in ("scale_factor", "add_offset"))


# =========================================================================== readers


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def vlen_variables(path: str) -> list[str]:
    """Full paths of the vlen-of-numbers variables of a netCDF file (none for plain HDF5)."""
    out = []
    try:
        with netCDF4.Dataset(path) as ds:
            def walk(g, prefix):
                for n, v in g.variables.items():
                    if vlen_numeric(v):
                        out.append(f"{prefix}/{n}")
                for name, child in g.groups.items():
                    walk(child, f"{prefix}/{name}")
            walk(ds, "")
    except Exception:
        return []
    return out


def vlen_numeric(var) -> bool:
    return isinstance(var.datatype, netCDF4.VLType) and var.datatype.dtype != str


def open_src(path: str, gp: str):
    return xr.open_dataset(path, group=None if gp == "/" else gp, engine="netcdf4", decode_timedelta=False)


def zarr_open_dst(store, zarr_format: int, storage_options=None):
    def opener(gp: str):
        return xr.open_zarr(store, group=None if gp == "/" else gp.lstrip("/"), consolidated=False,
                            zarr_format=zarr_format, chunks=None, decode_timedelta=False,
                            storage_options=storage_options)
    return opener


class ZarrListError(Exception):
    """zarr-python could not list the store (a fault of the store, not the judge)."""


def zarr_members(root) -> tuple[dict, dict]:
    """{path: group}, {path: array} of a zarr-python group, recursively."""
    groups, arrays = {"/": root}, {}
    try:
        members = list(root.members(max_depth=None))
    except Exception as e:
        raise ZarrListError(f"zarr-python cannot list the store's members (consolidated metadata "
                            f"used when present): {type(e).__name__}: {str(e)[:150]}") from e
    for name, obj in members:
        p = "/" + name
        if isinstance(obj, zarr.Group):
            groups[p] = obj
        else:
            arrays[p] = obj
    return groups, arrays


def zarr_dims(arr, zarr_format: int):
    if zarr_format == 3:
        d = getattr(arr.metadata, "dimension_names", None)
        return list(d) if d is not None else None
    return arr.attrs.get("_ARRAY_DIMENSIONS")


def read_zarr(arr) -> np.ndarray:
    a = arr[...]
    return np.asarray(a)


# =========================================================================== netCDF checks


def compare_xarray(path: str, open_dst, ncref: NetcdfRef, notes: list[str]) -> list[str]:
    out = []
    for gp, g in ncref.groups():
        skip_vars = {n for n, v in g.variables.items() if vlen_numeric(v)}
        for n in sorted(skip_vars):
            notes.append(f"{gp.rstrip('/')}/{n}: vlen of numbers, no Zarr type, not compared")
        compound = {n for n, v in g.variables.items() if isinstance(v.datatype, netCDF4.CompoundType)}
        try:
            src = open_src(path, gp)
        except Exception as e:
            notes.append(f"xarray cannot open source group {gp}: {str(e)[:100]}")
            continue
        try:
            dst = open_dst(gp)
        except Exception as e:
            out.append(f"xarray.open_zarr group {gp}: {type(e).__name__}: {str(e)[:150]}")
            src.close()
            continue
        try:
            out += compare_datasets(gp, src, dst, skip_vars, compound, notes)
        finally:
            src.close()
            dst.close()
    return out


def compare_datasets(gp: str, src: xr.Dataset, dst: xr.Dataset, skip_vars, compound, notes) -> list[str]:
    out = []
    w = gp.rstrip("/") or "/"
    sdims = {k: v for k, v in src.sizes.items()}
    ddims = {k: v for k, v in dst.sizes.items()}
    # a dimension used only by skipped variables may be absent
    used = {d for n, v in src.variables.items() if n not in skip_vars | compound for d in v.dims}
    if {k: v for k, v in sdims.items() if k in used} != {k: v for k, v in ddims.items() if k in used} \
            or set(ddims) - set(sdims):
        out.append(f"{w}: dimensions {ddims}, expected {sdims}")
    sv = set(src.data_vars) - skip_vars - compound
    dv = set(dst.data_vars) - skip_vars
    if sv != dv:
        out.append(f"{w}: data variables missing {sorted(sv - dv)}, unexpected {sorted(dv - sv)}")
    if set(src.coords) != set(dst.coords):
        out.append(f"{w}: coordinates {sorted(dst.coords)}, expected {sorted(src.coords)}")
    ignore = {PROVENANCE} if gp == "/" else set()
    out += compare_attr_dicts(w, dict(src.attrs), dict(dst.attrs), ignore)
    for name in sorted(set(src.variables) - skip_vars - compound):
        if name not in dst.variables:
            continue
        out += compare_variable(f"{w.rstrip('/')}/{name}", src.variables[name], dst.variables[name], notes)
    return out


def compare_variable(vp: str, s: xr.Variable, d: xr.Variable, notes) -> list[str]:
    out = []
    if s.dims != d.dims:
        out.append(f"{vp}: dims {d.dims}, expected {s.dims}")
    out += compare_attr_dicts(vp, dict(s.attrs), dict(d.attrs))
    # CF encoding: what xarray moved out of attrs
    for k in CF_ENCODING:
        sv, dv = s.encoding.get(k), d.encoding.get(k)
        if k == "dtype":
            if not same_stored_dtype(sv, dv):
                out.append(f"{vp}: stored dtype {dv}, expected {sv}")
            continue
        if sv is None and dv is None:
            continue
        if sv is None:
            stored = np.dtype(d.encoding.get("dtype", d.dtype))
            if k == "_FillValue" and stored.kind == "f" and np.isnan(np.float64(dv)):
                continue  # NaN fill on floats: masks nothing that is not NaN already
            out.append(f"{vp}: encoding {k} = {short(dv, 50)} added")
        elif dv is None:
            out.append(f"{vp}: encoding {k} missing (expected {short(sv, 50)})")
        elif not attr_value_equal(sv, dv):
            out.append(f"{vp}: encoding {k} = {short(dv, 50)}, expected {short(sv, 50)}")
    # decoded dtype and values
    tol = None
    if s.dtype != d.dtype:
        if s.dtype.kind in "UOT" and d.dtype.kind in "UOT":
            notes.append(f"{vp}: text as {d.dtype} where the source gives {s.dtype} (compared as text)")
        elif s.dtype == np.float32 and d.dtype == np.float64 and is_float32_scaled(s):
            notes.append(f"{vp}: float32 scale_factor/add_offset become JSON numbers, "
                         "xarray decodes float64 (compared to float32 precision)")
            sval = np.asarray(s.values, dtype=np.float64)
            off = abs(float(s.encoding.get("add_offset", 0.0)))
            tol = 4 * EPS32 * (np.abs(sval) + off)
        else:
            out.append(f"{vp}: decoded dtype {d.dtype}, expected {s.dtype}")
            return out
    try:
        why = compare_arrays(vp, s.values, d.values, tol)
    except Exception as e:
        why = f"{vp}: cannot read values: {type(e).__name__}: {str(e)[:120]}"
    if why:
        out.append(why)
    return out


def compare_zarr_raw_nc(out_root, ncref: NetcdfRef, zarr_format: int, notes) -> list[str]:
    """zarr-python's arrays against netCDF4-python's stored values."""
    out = []
    zgroups, zarrays = zarr_members(out_root)
    want_groups = {gp for gp, _ in ncref.groups()}
    want_arrays = set()
    for vp, gp, name, var in ncref.variables():
        if vlen_numeric(var):
            continue
        raw = ncref.raw(var)
        if isinstance(var.datatype, netCDF4.CompoundType):
            want_groups.add(vp)
            if vp not in zgroups:
                out.append(f"{vp}: compound variable should be a group of fields, "
                           f"found {'an array' if vp in zarrays else 'nothing'}")
                continue
            for field in raw.dtype.names:
                fp = f"{vp}/{field}"
                want_arrays.add(fp)
                if fp not in zarrays:
                    out.append(f"{fp}: missing (compound field)")
                    continue
                out += compare_zarr_array(fp, zarrays[fp], raw[field], list(var.dimensions), zarr_format)
            continue
        want_arrays.add(vp)
        if vp not in zarrays:
            out.append(f"{vp}: no Zarr array at this path")
            continue
        ref = raw
        if var.dtype == np.dtype("S1"):
            ref = raw.view("u1") if raw.dtype == np.dtype("S1") else raw
        out += compare_zarr_array(vp, zarrays[vp], ref, list(var.dimensions), zarr_format,
                                  stored=var.dtype if var.dtype != str else None)
    if set(zgroups) != want_groups:
        out.append(f"zarr groups missing {sorted(want_groups - set(zgroups))}, "
                   f"unexpected {sorted(set(zgroups) - want_groups)}")
    extra = set(zarrays) - want_arrays
    if extra:
        out.append(f"unexpected zarr arrays {sorted(extra)}")
    return out


def compare_zarr_array(where: str, arr, ref: np.ndarray, dims, zarr_format: int, stored=None) -> list[str]:
    out = []
    if tuple(arr.shape) != tuple(ref.shape):
        return [f"{where}: zarr shape {list(arr.shape)}, expected {list(ref.shape)}"]
    if dims is not None:
        zd = zarr_dims(arr, zarr_format)
        if zd is None and not dims:
            zd = []  # a scalar needs no dimension names
        if zd is None or list(zd) != list(dims):
            out.append(f"{where}: dimension names {zd}, expected {dims}")
    got = read_zarr(arr)
    if stored is not None and np.dtype(stored) == np.dtype("S1"):
        if got.dtype == np.dtype("S1"):
            got = got.view("u1")
        if got.dtype != np.dtype("u1"):
            out.append(f"{where}: zarr dtype {got.dtype} for a char array, expected S1 or uint8")
            return out
    elif ref.dtype.kind not in "OUS" and not same_stored_dtype(ref.dtype, got.dtype):
        out.append(f"{where}: zarr dtype {got.dtype}, expected {norm_dtype(ref.dtype)}")
        return out
    why = compare_arrays(f"{where} (zarr)", ref, got)
    if why:
        out.append(why)
    return out


# =========================================================================== plain HDF5


def compare_h5(path: str, out_root, store, zarr_format: int, notes) -> list[str]:
    out = []
    ref = Hdf5Ref(path)
    try:
        hgroups, hdsets = ref.walk()
        zgroups, zarrays = zarr_members(out_root)
        want_groups, want_arrays = set(hgroups), set()
        v2_ignore = V2_ATTRS if zarr_format == 2 else set()
        for gp, g in hgroups.items():
            if gp not in zgroups:
                out.append(f"{gp}: group missing")
                continue
            ignore = ({PROVENANCE} if gp == "/" else set()) | H5_REF_ATTRS | v2_ignore
            out += compare_attr_dicts(gp, dict(g.attrs.items()), dict(zgroups[gp].attrs), ignore)
        for dp, d in hdsets.items():
            attrs = dict(d.attrs.items())
            if d.shape is None:
                notes.append(f"{dp}: empty (null dataspace) dataset, not compared")
                continue
            raw = np.asarray(d[()])
            if d.dtype.names:
                want_groups.add(dp)
                if dp not in zgroups:
                    out.append(f"{dp}: compound dataset should be a group of fields, "
                               f"found {'an array' if dp in zarrays else 'nothing'}")
                    continue
                out += compare_attr_dicts(dp, attrs, dict(zgroups[dp].attrs), H5_REF_ATTRS | v2_ignore)
                for field in d.dtype.names:
                    fp = f"{dp}/{field}"
                    want_arrays.add(fp)
                    if fp not in zarrays:
                        out.append(f"{fp}: missing (compound field)")
                        continue
                    out += compare_zarr_array(fp, zarrays[fp], raw[field], None, zarr_format)
                continue
            want_arrays.add(dp)
            if dp not in zarrays:
                out.append(f"{dp}: no Zarr array at this path")
                continue
            out += compare_attr_dicts(dp, attrs, dict(zarrays[dp].attrs), H5_REF_ATTRS | v2_ignore)
            zd = zarr_dims(zarrays[dp], zarr_format)
            if (zd is None and raw.ndim) or (zd is not None and len(zd) != raw.ndim):
                out.append(f"{dp}: dimension names {zd} for rank {raw.ndim}")
            out += compare_zarr_array(dp, zarrays[dp], raw, None, zarr_format)
        if set(zgroups) != want_groups:
            out.append(f"zarr groups missing {sorted(want_groups - set(zgroups))}, "
                       f"unexpected {sorted(set(zgroups) - want_groups)}")
        extra = set(zarrays) - want_arrays
        if extra:
            out.append(f"unexpected zarr arrays {sorted(extra)}")
        # the output is for xarray users: every group must open
        for gp in sorted(zgroups):
            try:
                xr.open_zarr(store, group=None if gp == "/" else gp.lstrip("/"), consolidated=False,
                             zarr_format=zarr_format, chunks=None).close()
            except Exception as e:
                out.append(f"xarray.open_zarr group {gp}: {type(e).__name__}: {str(e)[:120]}")
    finally:
        ref.close()
    return out


# =========================================================================== per-file checks


def check_store_layout(dest: str, zarr_format: int) -> list[str]:
    out = []
    marker = "zarr.json" if zarr_format == 3 else ".zgroup"
    if not os.path.isfile(os.path.join(dest, marker)):
        out.append(f"no {marker} at the store root")
    if zarr_format == 2 and os.path.exists(os.path.join(dest, "zarr.json")):
        out.append("--zarr-format 2 wrote a zarr.json at the root")
    if os.path.exists(dest + ".arco-partial"):
        out.append(f"{os.path.basename(dest)}.arco-partial left behind")
    return out


def check_default_open(dest: str, zarr_format: int) -> list[str]:
    """A user's plain `xarray.open_zarr(DEST)` (consolidated metadata when
    present) must see what consolidated=False sees at the root."""
    try:
        a = xr.open_zarr(dest, chunks=None, zarr_format=zarr_format)
        b = xr.open_zarr(dest, chunks=None, zarr_format=zarr_format, consolidated=False)
    except Exception as e:
        return [f"plain xarray.open_zarr: {type(e).__name__}: {str(e)[:150]}"]
    out = []
    if set(a.variables) != set(b.variables) or dict(a.sizes) != dict(b.sizes):
        out.append(f"plain xarray.open_zarr sees variables {sorted(a.variables)}, "
                   f"consolidated=False {sorted(b.variables)}")
    a.close()
    b.close()
    return out


def check_provenance(attrs: dict, digest: str) -> list[str]:
    prov = attrs.get(PROVENANCE)
    if prov is None:
        return [f"root attribute {PROVENANCE} missing"]
    text = json.dumps(prov)
    if digest not in text:
        return [f"{PROVENANCE} does not name the input's SHA-256 {digest[:12]}…"]
    return []


def check_file(j: Judge, path: str, zarr_format: int = 3, keep: bool = False):
    tag = f"{rel(path)}" + (" [zarr v2]" if zarr_format == 2 else "")
    dest = os.path.join(j.tmp, os.path.basename(path) + (".v2" if zarr_format == 2 else "") + ".zarr")
    shutil.rmtree(dest, ignore_errors=True)
    args = ["convert", path, dest] + (["--zarr-format", "2"] if zarr_format == 2 else [])
    # A vlen of numbers has no Zarr type: arco refuses it unless it is left out
    # on purpose, which the provenance records (and verify honours).
    ragged = vlen_variables(path)
    if ragged:
        args += ["--drop", ",".join(ragged)]
    rc, so, se = j.run(*args)
    if rc != 0:
        u = unsupported(se)
        if rc == 1 and u:
            j.report("SKIP", tag, [f"arco: {u}"])
        else:
            j.report("FAIL", tag, [f"convert exit {rc}: {first_line(se)}"])
        return
    reasons, notes = check_store_layout(dest, zarr_format), []
    try:
        root = zarr.open_group(dest, mode="r", zarr_format=zarr_format)
    except Exception as e:
        j.report("FAIL", tag, reasons + [f"zarr.open_group: {type(e).__name__}: {str(e)[:150]}"])
        return
    reasons += check_provenance(dict(root.attrs), sha256(path))
    is_h5 = path.lower().endswith(HDF5_EXTS)
    try:
        if is_h5:
            reasons += compare_h5(path, root, dest, zarr_format, notes)
        else:
            ncref = NetcdfRef(path)
            try:
                reasons += compare_xarray(path, zarr_open_dst(dest, zarr_format), ncref, notes)
                reasons += compare_zarr_raw_nc(root, ncref, zarr_format, notes)
            finally:
                ncref.close()
    except ZarrListError as e:
        reasons.append(str(e))
    except Exception as e:  # a judge or reference-tool error: count it as a failure
        reasons.append(f"judge error {type(e).__name__}: {str(e)[:200]}")
    reasons += check_default_open(dest, zarr_format)
    rc, so, se = j.run("verify", path, dest)
    if rc != 0:
        reasons.append(f"verify exit {rc}: {first_line(se or so)}")
    if j.verbose:
        for n in notes:
            print(f"NOTE {tag}: {n}")
    j.report("FAIL" if reasons else "PASS", tag, reasons)
    if not keep:
        shutil.rmtree(dest, ignore_errors=True)


def check_broken(j: Judge, path: str):
    """A deliberately broken input: exit 1, the file named, nothing at DEST."""
    name = os.path.basename(path)
    tag = f"{rel(path)} [broken on purpose]"
    dest = os.path.join(j.tmp, name + ".zarr")
    shutil.rmtree(dest, ignore_errors=True)
    rc, so, se = j.run("convert", path, dest)
    reasons = []
    if rc != 1:
        reasons.append(f"convert exit {rc} (want 1): {first_line(se)}")
    elif name not in se:
        reasons.append(f"convert exit 1 but the message does not name {name}: {first_line(se)}")
    if os.path.exists(dest):
        looks = [m for m in ("zarr.json", ".zgroup") if os.path.exists(os.path.join(dest, m))]
        reasons.append(f"{os.path.basename(dest)} exists after a failed conversion"
                       + (f" with {looks[0]} (looks complete)" if looks else ""))
    j.report("FAIL" if reasons else "PASS", tag, reasons or ([f"exit 1: {first_line(se)}"] if j.verbose else []))
    shutil.rmtree(dest, ignore_errors=True)
    shutil.rmtree(dest + ".arco-partial", ignore_errors=True)


def check_verify_catches(j: Judge):
    """`arco verify` must catch one altered value (naming variable and index)
    and one altered attribute (naming it)."""
    path = os.path.join(REPO, "tests/data/fixtures/nc4_cf.nc")
    dest = os.path.join(j.tmp, "verify-catches.zarr")
    shutil.rmtree(dest, ignore_errors=True)
    rc, so, se = j.run("convert", path, dest)
    if rc != 0:
        j.report("FAIL", "[verify catches] convert nc4_cf.nc", [f"convert exit {rc}: {first_line(se)}"])
        return
    g = zarr.open_group(dest, mode="r+")
    a = g["tas"]
    v = a[...]
    v[1, 2, 3] += 1
    a[...] = v
    rc, so, se = j.run("verify", path, dest)
    text = (so + se).replace(" ", "")
    reasons = []
    if rc != 1:
        reasons.append(f"verify exit {rc} (want 1) after tas[1, 2, 3] += 1")
    if "tas" not in text or "[1,2,3]" not in text:
        reasons.append(f"the report does not name tas and [1, 2, 3]: {first_line(se or so)}")
    j.report("FAIL" if reasons else "PASS", "[verify catches] one altered value: tas[1, 2, 3]", reasons)
    v[1, 2, 3] -= 1  # restore the value; now alter an attribute only
    a[...] = v
    g["precip"].attrs["units"] = "mm/h"
    rc, so, se = j.run("verify", path, dest)
    reasons = []
    if rc != 1:
        reasons.append(f"verify exit {rc} (want 1) after precip@units changed")
    if "precip" not in so + se or "units" not in so + se:
        reasons.append(f"the report does not name precip and units: {first_line(se or so)}")
    j.report("FAIL" if reasons else "PASS", "[verify catches] one altered attribute: precip@units", reasons)
    shutil.rmtree(dest, ignore_errors=True)


# =========================================================================== S3


def check_s3(j: Judge):
    """Convert from S3 to S3, S3 to local and local to S3 on a moto server;
    read back with xarray (s3fs) and compare with the local source."""
    src_local = os.path.join(REPO, S3_FILE)
    name = os.path.basename(src_local)
    try:
        server = MotoServer().__enter__()
    except Exception as e:
        j.report("SKIP", "[s3] moto server", [f"cannot start moto_server: {e}"])
        return
    try:
        s3 = server.client()
        s3.create_bucket(Bucket="arco")
        s3.upload_file(src_local, "arco", f"in/{name}")
        env = dict(MotoServer.ENV)
        ep = ["--s3-endpoint", server.endpoint]
        ncref = NetcdfRef(src_local)
        try:
            cases = [
                ("s3 -> s3", f"s3://arco/in/{name}", "s3://arco/out/a.zarr"),
                ("s3 -> local", f"s3://arco/in/{name}", os.path.join(j.tmp, "s3-b.zarr")),
                ("local -> s3", src_local, "s3://arco/out/c.zarr"),
            ]
            for what, src, dest in cases:
                tag = f"[s3] {what} {rel(src_local)}"
                shutil.rmtree(dest, ignore_errors=True) if not dest.startswith("s3://") else None
                rc, so, se = j.run("convert", src, dest, *ep, env=env)
                if rc != 0:
                    j.report("FAIL", tag, [f"convert exit {rc}: {first_line(se)}"])
                    continue
                reasons, notes = [], []
                try:
                    if dest.startswith("s3://"):
                        prefix = dest[len("s3://arco/"):]
                        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="arco", Prefix=prefix + "/")
                                .get("Contents", [])]
                        if f"{prefix}/zarr.json" not in keys:
                            reasons.append(f"no {prefix}/zarr.json in the bucket ({len(keys)} objects)")
                        opener = zarr_open_dst(dest, 3, server.storage_options())
                    else:
                        reasons += check_store_layout(dest, 3)
                        opener = zarr_open_dst(dest, 3)
                    reasons += compare_xarray(src_local, opener, ncref, notes)
                    root = zarr.open_group(dest, mode="r", zarr_format=3,
                                           storage_options=server.storage_options()
                                           if dest.startswith("s3://") else None)
                    reasons += compare_zarr_raw_nc(root, ncref, 3, notes)
                    prov = json.dumps(dict(root.attrs).get(PROVENANCE))
                    if dict(root.attrs).get(PROVENANCE) is None:
                        reasons.append(f"root attribute {PROVENANCE} missing")
                    elif src.startswith("s3://") and name not in prov:
                        reasons.append(f"{PROVENANCE} does not name the input {src}")
                except Exception as e:
                    reasons.append(f"judge error {type(e).__name__}: {str(e)[:200]}")
                rc, so, se = j.run("verify", src, dest, *ep, env=env)
                if rc != 0:
                    reasons.append(f"verify exit {rc}: {first_line(se or so)}")
                j.report("FAIL" if reasons else "PASS", tag, reasons)
        finally:
            ncref.close()
    finally:
        server.__exit__(None, None, None)


# =========================================================================== main


def main() -> int:
    ap = argparse.ArgumentParser(description="arco convert interop judge (see the module docstring)")
    ap.add_argument("files", nargs="*", help="files to check (default: every sample and fixture)")
    ap.add_argument("--arco", default=os.path.join(REPO, "target/debug/arco"), help="the arco binary")
    ap.add_argument("--only", help="check only files whose path contains this")
    ap.add_argument("--timeout", type=int, default=300, help="seconds per arco command")
    ap.add_argument("--no-s3", action="store_true", help="skip the S3 checks")
    ap.add_argument("--no-v2", action="store_true", help="skip the --zarr-format 2 checks")
    ap.add_argument("--keep", action="store_true", help="keep the converted stores (printed at the end)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    arco = find_arco(args.arco, "interop-convert")
    if arco is None:
        print("interop-convert: 0 passed, 1 failed, 0 skipped")
        return 1
    j = Judge(arco, args.verbose, args.timeout)
    files = discover(list(args.files), args.only)
    for f in files:
        name = os.path.basename(f)
        broken = name in BAD_FILES and os.path.dirname(os.path.abspath(f)).endswith("fixtures")
        try:
            check_broken(j, f) if broken else check_file(j, f, keep=args.keep)
        except Exception as e:
            j.report("FAIL", rel(f), [f"judge error {type(e).__name__}: {str(e)[:200]}"])
    if not args.no_v2:
        for f in V2_FILES:
            full = os.path.join(REPO, f)
            if args.files or (args.only and args.only not in full):
                continue
            try:
                check_file(j, full, zarr_format=2, keep=args.keep)
            except Exception as e:
                j.report("FAIL", f"{f} [zarr v2]", [f"judge error {type(e).__name__}: {str(e)[:200]}"])
    if not args.files and not args.only:
        try:
            check_verify_catches(j)
        except Exception as e:
            j.report("FAIL", "[verify catches]", [f"judge error {type(e).__name__}: {str(e)[:200]}"])
    if not args.no_s3 and not args.files and not args.only:
        check_s3(j)
    if j.skips:
        print(f"\nskipped ({len(j.skips)}):")
        for s in j.skips:
            print("  " + s)
    if args.keep:
        print(f"stores kept in {j.tmp}")
    else:
        shutil.rmtree(j.tmp, ignore_errors=True)
    print(f"interop-convert: {j.passed} passed, {j.failed} failed, {j.skipped} skipped")
    return 1 if j.failed else 0


if __name__ == "__main__":
    sys.exit(main())
