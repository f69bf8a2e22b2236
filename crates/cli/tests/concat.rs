//! End-to-end tests of combining files with `arco convert`, `verify` and
//! `virtualize`: a new dimension whose coordinate comes from the file names,
//! and the refusals that name the files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/run.rs"]
mod run;
use arco_core::{Selection, Values};
use run::arco;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn sonde() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/real/netcdf3/example_arm_sonde.cdf")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The ARM sonde file copied under two dated names.
fn dated(dir: &Path) -> Vec<String> {
    ["sonde_20000101.cdf", "sonde_20000103.cdf"]
        .iter()
        .map(|n| {
            let p = dir.join(n);
            std::fs::copy(sonde(), &p).unwrap();
            p.to_string_lossy().into_owned()
        })
        .collect()
}

fn original_pres() -> Vec<f32> {
    let bytes = std::fs::read(sonde()).unwrap();
    let r = arco_formats::open(Arc::new(arco_storage::MemSource::new("sonde", bytes))).unwrap();
    match r.read("pres", &Selection::all(&[839])).unwrap().values {
        Values::F32(v) => v,
        other => panic!("{other:?}"),
    }
}

const PATTERN: &str = "sonde_{day:%Y%m%d}.cdf";

#[test]
fn files_named_by_date_convert_with_a_new_leading_dimension_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let files = dated(dir.path());
    let glob = dir
        .path()
        .join("sonde_*.cdf")
        .to_string_lossy()
        .into_owned();
    let dest = dir.path().join("out.zarr");
    let dest_s = dest.to_str().unwrap();
    let out = arco(&["convert", &glob, dest_s, "--coord-from-name", PATTERN]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let store = arco_zarr::ZarrStore::open(dest_s, &Default::default()).unwrap();
    assert_eq!(
        store.read("day", &Selection::all(&[2])).unwrap().values,
        Values::I64(vec![0, 2])
    );
    let ds = store.dataset().unwrap();
    let day = ds.variable("day").unwrap();
    assert_eq!(
        day.attr("units").and_then(|a| a.as_str()),
        Some("days since 2000-01-01")
    );
    let pres = ds.variable("pres").unwrap();
    assert_eq!(pres.dims, ["day", "time"]);
    let mut twice = original_pres();
    twice.extend(original_pres());
    assert_eq!(
        store
            .read("pres", &Selection::all(&[2, 839]))
            .unwrap()
            .values,
        Values::F32(twice)
    );
    // verify re-opens the sources the same way.
    let ok = arco(&[
        "verify",
        &files[0],
        &files[1],
        dest_s,
        "--coord-from-name",
        PATTERN,
    ]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    // Without the pattern the same files overlap.
    let bad = arco(&["verify", &files[0], &files[1], dest_s]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        text(&bad.stderr).contains("overlap"),
        "{}",
        text(&bad.stderr)
    );
}

#[test]
fn virtualized_files_named_by_date_point_each_step_into_its_own_file() {
    let dir = tempfile::tempdir().unwrap();
    let files = dated(dir.path());
    let refs = dir.path().join("refs.json");
    let out = arco(&[
        "virtualize",
        &files[0],
        &files[1],
        refs.to_str().unwrap(),
        "--coord-from-name",
        PATTERN,
        "--inline-threshold",
        "0",
        "--no-stac",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&refs).unwrap()).unwrap();
    let r = &json["refs"];
    let zarray: serde_json::Value =
        serde_json::from_str(r["pres/.zarray"].as_str().unwrap()).unwrap();
    assert_eq!(zarray["shape"], serde_json::json!([2, 839]));
    assert_eq!(zarray["chunks"][0], 1);
    // The URL of a reference, its template resolved.
    let url = |key: &str| -> String {
        let u = r[key][0].as_str().unwrap().to_string();
        match u.strip_prefix("{{").and_then(|x| x.strip_suffix("}}")) {
            Some(t) => json["templates"][t].as_str().unwrap().to_string(),
            None => u,
        }
    };
    assert!(
        url("pres/0.0").ends_with("sonde_20000101.cdf"),
        "{}",
        url("pres/0.0")
    );
    assert!(
        url("pres/1.0").ends_with("sonde_20000103.cdf"),
        "{}",
        url("pres/1.0")
    );
}

#[test]
fn a_new_dimension_without_a_coordinate_is_refused_naming_the_file_and_the_options() {
    let dir = tempfile::tempdir().unwrap();
    let files = dated(dir.path());
    let dest = dir.path().join("out.zarr");
    let out = arco(&[
        "convert",
        &files[0],
        &files[1],
        dest.to_str().unwrap(),
        "--concat-dim",
        "day",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let e = text(&out.stderr);
    assert!(
        e.contains("sonde_20000101.cdf")
            && e.contains("--coord-from-name")
            && e.contains("--coord-from-attr"),
        "{e}"
    );
    assert!(!dest.exists());
}

#[test]
fn malformed_coordinate_options_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let files = dated(dir.path());
    let dest = dir.path().join("out.zarr");
    let dest = dest.to_str().unwrap();
    let out = arco(&["convert", &files[0], dest, "--coord-from-attr", "date"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("DIM=ATTRIBUTE"),
        "{}",
        text(&out.stderr)
    );
    let out = arco(&[
        "convert",
        &files[0],
        dest,
        "--coord-from-name",
        "sonde_{day:%Q}.cdf",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("%Q"), "{}", text(&out.stderr));
    // A name that does not fit the pattern is named.
    let out = arco(&[
        "convert",
        &files[0],
        dest,
        "--coord-from-name",
        "tas_{day:%Y%m%d}.cdf",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let e = text(&out.stderr);
    assert!(
        e.contains("sonde_20000101.cdf") && e.contains("does not match"),
        "{e}"
    );
}
