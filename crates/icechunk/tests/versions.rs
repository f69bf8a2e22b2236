#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `REPO@branch`, `REPO@tag:NAME` and `REPO@snapshot:ID` read that version:
//! icechunk-python 1.x (peers venv) commits an array on `main` (tagged
//! `v1`), then on a branch `dev` the same array plus 100, and `open_reader`
//! reads each version with its own values. Skipped with a message when the
//! venv or its icechunk is missing, unless `ARCO_REQUIRE_PEERS=1`.

use arco_core::{NdArray, Selection, Values};
use arco_storage::OpenOptions;
use std::path::PathBuf;
use std::process::Command;

/// The peers venv's python, if it has icechunk 1.x and the modules used here.
fn python() -> Option<PathBuf> {
    arco_testkit::peers_python_where(
        &["icechunk", "zarr"],
        "assert icechunk.__version__.startswith('1.')",
    )
}

/// Prints main's snapshot id.
const WRITE: &str = r#"
import sys, icechunk, zarr, numpy as np
repo = icechunk.Repository.create(icechunk.local_filesystem_storage(sys.argv[1]))
s = repo.writable_session("main")
root = zarr.group(store=s.store, zarr_format=3)
a = root.create_array("x", shape=(6,), dtype="int32", chunks=(4,), dimension_names=["i"], fill_value=0)
a[...] = np.arange(6, dtype="int32")
snap = s.commit("first")
repo.create_tag("v1", snap)
repo.create_branch("dev", snap)
s = repo.writable_session("dev")
zarr.open_group(s.store, mode="r+")["x"][...] = np.arange(6, dtype="int32") + 100
s.commit("plus 100")
print(snap)
"#;

fn values(location: &str) -> NdArray {
    let r = arco_icechunk::open_reader(location, &OpenOptions::default())
        .unwrap_or_else(|e| panic!("{location}: {e}"));
    r.read("/x", &Selection::all(&[6])).unwrap()
}

#[test]
fn a_version_suffix_reads_that_branch_tag_or_snapshot() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("v.icechunk");
    let out = Command::new(&py)
        .args(["-c", WRITE, repo.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The last line: icechunk-python may log warnings on stdout first.
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let snap = stdout
        .lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap()
        .trim()
        .to_string();
    let base = repo.to_str().unwrap();
    let first = values(base);
    let plus = values(&format!("{base}@dev"));
    assert_ne!(first, plus, "the branch dev reads like main");
    assert_eq!(values(&format!("{base}@branch:dev")), plus);
    assert_eq!(values(&format!("{base}@main")), first);
    assert_eq!(values(&format!("{base}@tag:v1")), first);
    assert_eq!(values(&format!("{base}@snapshot:{snap}")), first);
    // The values themselves, not only their equality.
    assert_eq!(first.values, Values::I32((0..6).collect()), "main");
    assert_eq!(plus.values, Values::I32((100..106).collect()), "dev");
}
