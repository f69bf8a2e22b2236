//! End-to-end tests of `arco convert --pyramid` and `arco verify` on its
//! output: the summary, JSON events, resume after an interruption, a level
//! verify catches, and the option rules.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arco_core::{NdArray, Selection, Values};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn data(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data")
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

fn arco(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_arco"));
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run arco")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn read(dest: &Path, array: &str) -> NdArray {
    let store = arco_zarr::ZarrStore::open(dest.to_str().unwrap(), &Default::default()).unwrap();
    let a = store.array(array).unwrap();
    a.read(&Selection::all(&a.spec().shape)).unwrap()
}

/// nc4_cf.nc: tas, qc and precip on a Lambert conformal y/x grid.
#[test]
fn a_pyramid_conversion_writes_levels_that_verify_recomputes() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("cf.zarr");
    let src = data("fixtures/nc4_cf.nc");
    let out = arco(
        &[
            "convert",
            &src,
            dest.to_str().unwrap(),
            "--pyramid",
            "--pyramid-levels",
            "2",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("2 overview levels"),
        "{}",
        text(&out.stdout)
    );
    let full = read(&dest, "/tas");
    let l1 = read(&dest, "/1/tas");
    let l2 = read(&dest, "/2/tas");
    let half = |n: u64| n.div_ceil(2);
    assert_eq!(
        l1.shape,
        vec![full.shape[0], half(full.shape[1]), half(full.shape[2])]
    );
    assert_eq!(
        l2.shape,
        vec![full.shape[0], half(l1.shape[1]), half(l1.shape[2])]
    );
    // Packed int16 stays int16 with its encoding.
    assert!(matches!(l1.values, Values::I16(_)));

    let out = arco(&["verify", &src, dest.to_str().unwrap()], &[]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("overview level 1 (/1, 1/2)"), "{stdout}");
    assert!(stdout.contains("overview level 2 (/2, 1/4)"), "{stdout}");

    // One altered value of level 2: verify exits 1 naming array and index.
    let store = arco_zarr::ZarrStore::open(dest.to_str().unwrap(), &Default::default()).unwrap();
    let a = store.array("/2/precip").unwrap();
    let rank = a.spec().shape.len();
    a.write_region(
        &vec![0; rank],
        &NdArray {
            shape: vec![1; rank],
            values: Values::F32(vec![12345.0]),
        },
    )
    .unwrap();
    let out = arco(&["verify", &src, dest.to_str().unwrap()], &[]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let index = vec!["0"; rank].join(", ");
    assert!(stdout.contains(&format!("/2/precip[{index}]")), "{stdout}");
    assert!(stdout.contains("12345"), "{stdout}");
}

#[test]
fn json_events_announce_each_level_and_the_summary_counts_them() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("cf.zarr");
    let out = arco(
        &[
            "--json",
            "convert",
            &data("fixtures/nc4_cf.nc"),
            dest.to_str().unwrap(),
            "--pyramid",
            "--pyramid-levels",
            "1",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let events: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(events.iter().any(|e| e["event"] == "phase"
        && e["name"] == "pyramid"
        && e["message"]
            .as_str()
            .unwrap()
            .starts_with("level 1 (/1, 1/2)")));
    let done = events
        .iter()
        .filter(|e| e["event"] == "task_done" && e["id"].as_str().unwrap().starts_with("p1."))
        .count();
    assert!(done > 0);
    let finished = events.iter().find(|e| e["event"] == "finished").unwrap();
    assert_eq!(finished["pyramid_levels"], 1);
}

#[test]
fn an_interrupted_pyramid_conversion_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("cf.zarr");
    let src = data("fixtures/nc4_cf.nc");
    let args = [
        "--json",
        "convert",
        src.as_str(),
        dest.to_str().unwrap(),
        "--pyramid",
        "--pyramid-levels",
        "2",
        "--threads",
        "1",
    ];
    // Count the full-resolution tasks, then stop a few tasks into the levels.
    let probe = dir.path().join("probe.zarr");
    let mut probe_args = args.to_vec();
    probe_args[3] = probe.to_str().unwrap();
    let out = arco(&probe_args, &[]);
    let events = text(&out.stdout);
    let base = events
        .lines()
        .filter(|l| l.contains("\"task_done\"") && !l.contains("\"id\":\"p"))
        .count();
    let stop = (base + 2).to_string();
    let out = arco(&args, &[("ARCO_TEST_FAIL_AFTER_TASKS", &stop)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(!dest.exists());
    let out = arco(&args, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let events = text(&out.stdout);
    let skipped = events
        .lines()
        .filter(|l| l.contains("\"task_done\"") && l.contains("\"skipped\":true"))
        .count();
    assert_eq!(skipped, base + 2, "{events}");
    assert_eq!(read(&dest, "/2/precip"), read(&probe, "/2/precip"));
    let out = arco(&["verify", &src, dest.to_str().unwrap()], &[]);
    assert!(out.status.success(), "{}", text(&out.stdout));
}

#[test]
fn pyramid_options_need_pyramid_and_a_valid_method() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("x.zarr");
    let src = data("fixtures/nc4_cf.nc");
    let d = dest.to_str().unwrap();
    for args in [
        vec!["convert", src.as_str(), d, "--pyramid-levels", "2"],
        vec![
            "convert",
            src.as_str(),
            d,
            "--pyramid-resampling",
            "nearest",
        ],
        vec![
            "convert",
            src.as_str(),
            d,
            "--pyramid",
            "--pyramid-resampling",
            "bilinear",
        ],
        vec![
            "convert",
            src.as_str(),
            d,
            "--pyramid",
            "--pyramid-levels",
            "0",
        ],
    ] {
        let out = arco(&args, &[]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(!dest.exists());
    }
}
