//! Icechunk repositories as inputs of `arco inspect`, `dump`, `convert` and
//! `verify` (cargo feature `icechunk`, on by default), and the freshness of
//! their sources.
#![cfg(feature = "icechunk")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/run.rs"]
mod run;
use run::{arco, text};
use std::path::{Path, PathBuf};

fn real(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/real")
        .join(name)
}

/// Copy a real file into `dir` (with an old modification time) and
/// virtualize it into `dir/x.icechunk`.
fn repository(dir: &Path, name: &str) -> (String, String) {
    let src = dir.join(Path::new(name).file_name().unwrap());
    std::fs::copy(real(name), &src).unwrap();
    let past = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
    std::fs::File::options()
        .write(true)
        .open(&src)
        .unwrap()
        .set_modified(past)
        .unwrap();
    let src = src.to_string_lossy().into_owned();
    let repo = dir.join("x.icechunk").to_string_lossy().into_owned();
    let o = arco(&["virtualize", "--no-stac", &src, &repo]);
    assert!(o.status.success(), "{}", text(&o));
    (src, repo)
}

#[test]
fn a_repository_verifies_against_its_source_until_the_source_changes() {
    let dir = tempfile::tempdir().unwrap();
    let (src, repo) = repository(dir.path(), "netcdf4/cordex.nc");
    let o = arco(&["verify", &src, &repo]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("all equal"), "{}", text(&o));

    std::fs::File::options()
        .write(true)
        .open(&src)
        .unwrap()
        .set_modified(std::time::SystemTime::now())
        .unwrap();
    let o = arco(&["verify", &src, &repo]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("cordex.nc"), "{}", text(&o));
    assert!(text(&o).contains("source changed"), "{}", text(&o));
}

#[test]
fn a_repository_converts_inspects_and_dumps_like_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let (src, repo) = repository(dir.path(), "netcdf3/sub.nc");
    let out = dir.path().join("out.zarr").to_string_lossy().into_owned();
    let o = arco(&["convert", "--no-stac", &repo, &out]);
    assert!(o.status.success(), "{}", text(&o));
    // The repository as a source, and the output against the file itself.
    let o = arco(&["verify", &repo, &out]);
    assert!(o.status.success(), "{}", text(&o));
    let o = arco(&["--json", "inspect", &repo]);
    assert!(o.status.success(), "{}", text(&o));
    let got: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let o = arco(&["--json", "inspect", &src]);
    let want: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let names = |v: &serde_json::Value| -> Vec<(String, serde_json::Value)> {
        let mut n: Vec<_> = v["root"]["variables"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| (x["path"].as_str().unwrap().to_string(), x["shape"].clone()))
            .collect();
        n.sort_by(|a, b| a.0.cmp(&b.0));
        n
    };
    assert_eq!(names(&got), names(&want));
    let var = names(&want)
        .into_iter()
        .find(|(_, s)| s.as_array().is_some_and(|a| !a.is_empty()))
        .unwrap()
        .0;
    let a = arco(&["--json", "dump", "--var", &var, &repo]);
    let b = arco(&["--json", "dump", "--var", &var, &src]);
    assert!(a.status.success(), "{}", text(&a));
    let a: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
    let b: serde_json::Value = serde_json::from_slice(&b.stdout).unwrap();
    assert_eq!(a["values"], b["values"], "{var}");
}

#[test]
fn a_missing_branch_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let (_, repo) = repository(dir.path(), "netcdf3/sub.nc");
    let o = arco(&["inspect", &format!("{repo}@main")]);
    assert!(o.status.success(), "{}", text(&o));
    let o = arco(&["inspect", &format!("{repo}@nosuch")]);
    assert!(!o.status.success());
    assert!(text(&o).contains("nosuch"), "{}", text(&o));
}
