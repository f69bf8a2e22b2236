//! `arco verify SRC REFS` and `arco inspect`/`dump` through arco's own
//! kerchunk reader, and the freshness check of `arco:sources`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/run.rs"]
mod run;
use run::{arco, text};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/fixtures")
        .join(name)
}

/// Copy a fixture into `dir` and virtualize it to `dest`.
fn virtualized(dir: &Path, name: &str, dest: &str) -> (String, String) {
    let src = dir.join(name);
    std::fs::copy(fixture(name), &src).unwrap();
    let src = src.to_string_lossy().into_owned();
    let dest = dir.join(dest).to_string_lossy().into_owned();
    let o = arco(&["virtualize", &src, &dest]);
    assert!(o.status.success(), "{}", text(&o));
    (src, dest)
}

#[test]
fn verify_reads_json_and_parquet_references_back_equal_to_the_source() {
    let dir = tempfile::tempdir().unwrap();
    for dest in ["refs.json", "refs.parq"] {
        let (src, refs) = virtualized(dir.path(), "nc4_groups.nc", dest);
        let o = arco(&["verify", &src, &refs]);
        assert!(o.status.success(), "{dest}: {}", text(&o));
        assert!(text(&o).contains("all equal"), "{}", text(&o));
        let o = arco(&["inspect", &refs]);
        assert!(
            o.status.success() && text(&o).starts_with("kerchunk"),
            "{}",
            text(&o)
        );
        std::fs::remove_file(&src).unwrap();
    }
}

#[test]
fn a_grib_file_verifies_through_references_with_the_grib_codec() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("m.grib2");
    std::fs::copy(fixture("grib/complex.grib2"), &src).unwrap();
    let src = src.to_string_lossy().into_owned();
    let refs = dir.path().join("g.json").to_string_lossy().into_owned();
    assert!(arco(&["virtualize", &src, &refs]).status.success());
    let json = std::fs::read_to_string(&refs).unwrap();
    assert!(
        json.contains(r#"\"id\": \"grib\""#) || json.contains(r#"\"id\":\"grib\""#),
        "{json}"
    );
    let o = arco(&["verify", &src, &refs]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn verify_reports_a_source_modified_after_virtualizing() {
    let dir = tempfile::tempdir().unwrap();
    let (src, refs) = virtualized(dir.path(), "nc4_cf.nc", "refs.json");
    // Same bytes, one more: the size differs whatever the clock says.
    let mut bytes = std::fs::read(&src).unwrap();
    bytes.push(0);
    std::fs::write(&src, &bytes).unwrap();
    let o = arco(&["verify", &src, &refs]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains(&src) && t.contains("size was"), "{t}");
}

#[test]
fn dump_reads_values_through_references() {
    let dir = tempfile::tempdir().unwrap();
    let (src, refs) = virtualized(dir.path(), "nc4_cf.nc", "refs.json");
    let a = arco(&["dump", &src, "--var", "precip", "--json"]);
    let b = arco(&["dump", &refs, "--var", "precip", "--json"]);
    assert!(a.status.success() && b.status.success(), "{}", text(&b));
    let va: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
    let vb: serde_json::Value = serde_json::from_slice(&b.stdout).unwrap();
    assert_eq!(va["values"], vb["values"]);
    assert!(va["values"].is_array());
}
