#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! A repository with native chunks, written by icechunk-python 1.x (peers
//! venv) with zarr-python from a real NetCDF file's stored values, reads
//! back through `open_reader` with the values arco reads from the file.
//! Skipped with a message when the venv or its icechunk is missing, unless
//! `ARCO_REQUIRE_PEERS=1`.

#[path = "support/common.rs"]
mod common;

use arco_core::Selection;
use arco_storage::OpenOptions;
use std::path::PathBuf;
use std::process::Command;

/// The peers venv's python, if it has icechunk 1.x and the modules used here.
fn python() -> Option<PathBuf> {
    arco_testkit::peers_python_where(
        &["icechunk", "zarr", "netCDF4"],
        "assert icechunk.__version__.startswith('1.')",
    )
}

const WRITE: &str = r#"
import sys, icechunk, zarr, netCDF4, numpy as np
src, dest = sys.argv[1], sys.argv[2]
repo = icechunk.Repository.create(icechunk.local_filesystem_storage(dest))
session = repo.writable_session("main")
root = zarr.group(store=session.store, zarr_format=3)
nc = netCDF4.Dataset(src)
nc.set_auto_maskandscale(False)
for name, v in nc.variables.items():
    data = np.asarray(v[...])
    chunks = tuple(max(1, s // 2) for s in data.shape)
    a = root.create_array(name, shape=data.shape, dtype=data.dtype, chunks=chunks,
                          dimension_names=list(v.dimensions), fill_value=0)
    a[...] = data
session.commit("native chunks")
"#;

#[test]
fn a_repository_with_native_chunks_reads_back_with_the_values_of_the_source() {
    let Some(py) = python() else { return };
    let src = common::real_dir().join("netcdf4/cordex.nc");
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("native.icechunk");
    let out = Command::new(&py)
        .args(["-c", WRITE, src.to_str().unwrap(), dest.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "icechunk-python: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want =
        arco_formats::open(arco_storage::open(src.to_str().unwrap(), &Default::default()).unwrap())
            .unwrap();
    let got = arco_icechunk::open_reader(dest.to_str().unwrap(), &OpenOptions::default()).unwrap();
    let mut compared = 0;
    for v in want.dataset().root.all_variables() {
        let sel = Selection::all(&v.shape);
        let a = want.read(&v.path, &sel).unwrap();
        let b = got
            .read(&v.path, &sel)
            .unwrap_or_else(|e| panic!("{} through the repository: {e}", v.path));
        assert_eq!(a.shape, b.shape, "{}", v.path);
        assert!(
            serde_json::to_string(&a).unwrap() == serde_json::to_string(&b).unwrap(),
            "{}: values differ",
            v.path
        );
        compared += 1;
    }
    assert!(compared > 5, "only {compared} variables compared");
}
