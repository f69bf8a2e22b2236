"""Write expected.json: what h5py and netCDF4-python report for every fixture.

Run from the repository root with the peers venv:
    .peers-venv/bin/python crates/hdf5/tests/reference/make_expected.py
Tool versions are recorded in the output ("tools").
"""
import hashlib, json, pathlib, sys
import h5py, netCDF4, numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[4]
FILES = (sorted((ROOT / "tests/data/real/netcdf4").glob("*.nc"))
         + sorted((ROOT / "tests/data/real/hdf5-fixtures").glob("*.h5"))
         + sorted((ROOT / "tests/data/fixtures").glob("h5_*.h5"))
         + sorted((ROOT / "tests/data/fixtures").glob("unknown_filter.h5"))
         + sorted((ROOT / "tests/data/fixtures").glob("nc4_*.nc")))


def chunks_of(ds):
    """(grid index, byte offset, stored size, filter mask) of every stored chunk, by lookup.

    HDF5 2.0's H5Dget_chunk_info_by_coord disagrees with its own read path for
    extensible arrays whose unlimited dimension is not the first (DSET_EA in
    h5fc_ext_none.h5); the test checks those against "values" instead.
    """
    if ds.chunks is None:
        off = ds.id.get_offset()
        return None if off is None else [[[0] * ds.ndim, off, ds.id.get_storage_size(), 0]]
    out = []
    grid = [-(-s // c) for s, c in zip(ds.shape, ds.chunks)]
    for idx in np.ndindex(*grid):
        coord = tuple(i * c for i, c in zip(idx, ds.chunks))
        info = ds.id.get_chunk_info_by_coord(coord)
        if info.byte_offset is not None:
            out.append([list(idx), info.byte_offset, info.size, info.filter_mask])
    return out


def nc_group(g):
    out = {"dims": [[d.name, len(d), d.isunlimited()] for d in g.dimensions.values()],
           "attrs": list(g.ncattrs()), "vars": {}, "groups": {},
           "var_order": list(g.variables), "group_order": list(g.groups)}
    for v in g.variables.values():
        out["vars"][v.name] = {"dims": list(v.dimensions), "shape": list(v.shape), "attrs": list(v.ncattrs())}
    for c in g.groups.values():
        out["groups"][c.name] = nc_group(c)
    return out


def h5_vars(f):
    out = {}
    def visit(name, obj):
        if not isinstance(obj, h5py.Dataset):
            return
        dcpl = obj.id.get_create_plist()
        filters = [[int(fid), [int(x) for x in params]] for fid, _, params, _ in
                   (dcpl.get_filter(i) for i in range(dcpl.get_nfilters()))]
        rec = {"shape": list(obj.shape), "dtype": obj.dtype.str if obj.dtype.names is None else "compound",
               "chunks": list(obj.chunks) if obj.chunks else None, "filters": filters,
               "layout": int(dcpl.get_layout()), "stored": chunks_of(obj)}
        if obj.dtype.kind in "iuf" and not filters and 0 < obj.size <= 4096:
            rec["values"] = [None if np.isnan(x) else float(x) for x in obj[...].ravel()]  # NaN as null
        out["/" + name] = rec
    f.visititems(visit)
    return out


result = {"tools": {"h5py": h5py.__version__, "hdf5": h5py.version.hdf5_version,
                    "netCDF4": netCDF4.__version__, "netcdf-c": netCDF4.__netcdf4libversion__},
          "files": {}}
for p in FILES:
    rel = str(p.relative_to(ROOT))
    with h5py.File(p, "r") as f:
        rec = {"h5": h5_vars(f), "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
    with netCDF4.Dataset(p) as d:
        rec["nc"] = nc_group(d)
        rec["data_model"] = d.data_model
    result["files"][rel] = rec
out = pathlib.Path(__file__).with_name("expected.json")
out.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
print("wrote", out, file=sys.stderr)
