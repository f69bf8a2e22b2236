//! End-to-end tests of `arco convert`: exit codes, summaries, JSON progress
//! events, resume after an interruption, refusals, and multi-file inputs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arco_core::{Selection, Values};
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

fn read(dest: &Path, array: &str, shape: &[u64]) -> Values {
    let store = arco_zarr::ZarrStore::open(dest.to_str().unwrap(), &Default::default()).unwrap();
    store.read(array, &Selection::all(shape)).unwrap().values
}

#[test]
fn converting_a_netcdf3_file_prints_a_summary_and_writes_every_value() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("sub.zarr");
    let src = data("real/netcdf3/sub.nc");
    let out = arco(
        &[
            "convert",
            &src,
            dest.to_str().unwrap(),
            "--layout",
            "map",
            "--threads",
            "2",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let summary = text(&out.stdout);
    assert!(
        summary.contains("6 arrays") && summary.contains("chunks"),
        "{summary}"
    );
    let reader =
        arco_formats::open(arco_storage::open(&src, &Default::default()).unwrap()).unwrap();
    let want = reader
        .read("/u", &Selection::all(&[10, 2, 9, 9]))
        .unwrap()
        .values;
    assert_eq!(read(&dest, "/u", &[10, 2, 9, 9]), want);
}

#[test]
fn json_progress_is_one_event_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("c.zarr");
    let out = arco(
        &[
            "--json",
            "convert",
            &data("real/netcdf4/cordex.nc"),
            dest.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let events: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(events[0]["event"], "planned");
    let tasks = events[0]["tasks"].as_u64().unwrap();
    let done = events.iter().filter(|e| e["event"] == "task_done").count() as u64;
    assert_eq!(done, tasks);
    let last = events.last().unwrap();
    assert_eq!(last["event"], "finished");
    assert_eq!(last["arrays"], 11);
    assert!(last["bytes_out"].as_u64().unwrap() > 0);
}

#[test]
fn an_interrupted_conversion_leaves_no_final_name_and_a_rerun_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("era5.zarr");
    let partial = dir.path().join("era5.zarr.arco-partial");
    let src = data("real/netcdf4/era5-levels-members.nc");
    let args = [
        "convert",
        &src,
        dest.to_str().unwrap(),
        "--layout",
        "timeseries",
        "--chunk-size",
        "64KiB",
        "--memory",
        "256KiB",
        "--threads",
        "1",
    ];
    let out = arco(&args, &[("ARCO_TEST_FAIL_AFTER_TASKS", "3")]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("rerun the same command"), "{err}");
    assert!(!dest.exists() && partial.is_dir());
    let out = arco(&args, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let summary = text(&out.stdout);
    assert!(summary.contains("3 tasks already done"), "{summary}");
    assert!(summary.contains("rechunked /z"), "{summary}");
    assert!(dest.is_dir() && !partial.exists());
    let reader =
        arco_formats::open(arco_storage::open(&src, &Default::default()).unwrap()).unwrap();
    let shape = [10, 4, 2, 61, 120];
    let want = reader.read("/z", &Selection::all(&shape)).unwrap().values;
    assert_eq!(read(&dest, "/z", &shape), want);
}

#[test]
fn an_existing_or_unwritable_destination_exits_1_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    let src = data("real/netcdf3/sub.nc");
    let bad = file.join("out.zarr");
    let out = arco(&["convert", &src, bad.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("plain-file"),
        "{}",
        text(&out.stderr)
    );

    let dest = dir.path().join("s.zarr");
    assert_eq!(
        arco(&["convert", &src, dest.to_str().unwrap()], &[])
            .status
            .code(),
        Some(0)
    );
    let out = arco(&["convert", &src, dest.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--overwrite"),
        "{}",
        text(&out.stderr)
    );
    let out = arco(
        &["convert", &src, dest.to_str().unwrap(), "--overwrite"],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn bad_options_are_usage_errors_or_name_the_option() {
    let src = data("real/netcdf3/sub.nc");
    for args in [
        vec!["convert", &src, "/tmp/x.zarr", "--layout", "diagonal"],
        vec!["convert", &src, "/tmp/x.zarr", "--zarr-format", "4"],
        vec!["convert", &src, "/tmp/x.zarr", "--threads", "0"],
        vec!["convert", &src, "/tmp/x.zarr", "--to", "cog"],
        vec!["convert", &src],
    ] {
        assert_eq!(arco(&args, &[]).status.code(), Some(2), "{args:?}");
    }
    for (flag, value, says) in [
        ("--memory", "lots", "lots"),
        ("--chunks", "time=0", "at least 1"),
        ("--codec", "lzma:9", "lzma"),
    ] {
        let out = arco(&["convert", &src, "/tmp/never.zarr", flag, value], &[]);
        assert_eq!(out.status.code(), Some(1), "{flag}");
        assert!(text(&out.stderr).contains(says), "{}", text(&out.stderr));
        assert!(!Path::new("/tmp/never.zarr").exists());
    }
}

/// A NetCDF-3 classic file with `time(time)` (days since 2000-01-01) from
/// `t0` and `tas(time, lat=2, lon=3)` float32 equal to `time * 10 + cell`.
fn nc3(t0: u32, n: u32) -> Vec<u8> {
    fn name(out: &mut Vec<u8>, s: &str) {
        out.extend((s.len() as u32).to_be_bytes());
        out.extend(s.as_bytes());
        out.resize(out.len().div_ceil(4) * 4, 0);
    }
    let header = |begins: [u32; 2]| {
        let mut h = b"CDF\x01".to_vec();
        h.extend(0u32.to_be_bytes()); // numrecs
        h.extend(10u32.to_be_bytes()); // NC_DIMENSION
        h.extend(3u32.to_be_bytes());
        for (d, len) in [("time", n), ("lat", 2), ("lon", 3)] {
            name(&mut h, d);
            h.extend(len.to_be_bytes());
        }
        h.extend([0u8; 8]); // no global attributes
        h.extend(11u32.to_be_bytes()); // NC_VARIABLE
        h.extend(2u32.to_be_bytes());
        // time(time), double, with units.
        name(&mut h, "time");
        h.extend(1u32.to_be_bytes());
        h.extend(0u32.to_be_bytes());
        h.extend(12u32.to_be_bytes()); // NC_ATTRIBUTE
        h.extend(1u32.to_be_bytes());
        name(&mut h, "units");
        h.extend(2u32.to_be_bytes()); // NC_CHAR
        name(&mut h, "days since 2000-01-01");
        h.extend(6u32.to_be_bytes()); // NC_DOUBLE
        h.extend((8 * n).to_be_bytes());
        h.extend(begins[0].to_be_bytes());
        // tas(time, lat, lon), float.
        name(&mut h, "tas");
        h.extend(3u32.to_be_bytes());
        for id in 0u32..3 {
            h.extend(id.to_be_bytes());
        }
        h.extend([0u8; 8]);
        h.extend(5u32.to_be_bytes()); // NC_FLOAT
        h.extend((24 * n).to_be_bytes());
        h.extend(begins[1].to_be_bytes());
        h
    };
    let len = header([0, 0]).len() as u32;
    let mut f = header([len, len + 8 * n]);
    for t in t0..t0 + n {
        f.extend(f64::from(t).to_be_bytes());
    }
    for t in t0..t0 + n {
        for cell in 0..6 {
            f.extend((t as f32 * 10.0 + cell as f32).to_be_bytes());
        }
    }
    f
}

#[test]
fn globbed_sources_are_concatenated_in_name_order() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tas_1.nc"), nc3(0, 3)).unwrap();
    std::fs::write(dir.path().join("tas_2.nc"), nc3(3, 4)).unwrap();
    let pattern = dir.path().join("tas_*.nc");
    let dest = dir.path().join("tas.zarr");
    let out = arco(
        &[
            "convert",
            pattern.to_str().unwrap(),
            dest.to_str().unwrap(),
            "--concat-dim",
            "time",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let want: Vec<f32> = (0..7)
        .flat_map(|t| (0..6).map(move |c| t as f32 * 10.0 + c as f32))
        .collect();
    assert_eq!(read(&dest, "/tas", &[7, 2, 3]), Values::F32(want));
    assert_eq!(
        read(&dest, "/time", &[7]),
        Values::F64((0..7).map(f64::from).collect())
    );
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dest.join("zarr.json")).unwrap()).unwrap();
    let inputs = meta["attributes"]["arco:provenance"]["inputs"]
        .as_array()
        .unwrap();
    assert_eq!(inputs.len(), 2);

    // Out of order: refused, naming the files, nothing written.
    let dest = dir.path().join("bad.zarr");
    let a = dir.path().join("tas_1.nc");
    let b = dir.path().join("tas_2.nc");
    let out = arco(
        &[
            "convert",
            b.to_str().unwrap(),
            a.to_str().unwrap(),
            dest.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("tas_1.nc") && err.contains("tas_2.nc"),
        "{err}"
    );
    assert!(!dest.exists());
    assert!(!dir.path().join("bad.zarr.arco-partial").exists());

    let out = arco(
        &[
            "convert",
            &dir.path().join("none_*.nc").to_string_lossy(),
            "x.zarr",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no file matches"));
}

#[test]
fn converting_s3_to_s3_writes_the_root_metadata_last_and_resumes() {
    use arco_storage::testing::Moto;
    let Some(moto) = Moto::start() else { return };
    moto.create_bucket("arco");
    let bytes = std::fs::read(data("real/netcdf3/sub.nc")).unwrap();
    moto.put("arco", "in/sub.nc", &bytes, false);
    let s3 = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_arco"));
        c.args(args)
            .args(["--s3-endpoint", &moto.endpoint()])
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env_remove("AWS_SESSION_TOKEN");
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().expect("run arco")
    };
    let args = [
        "convert",
        "s3://arco/in/sub.nc",
        "s3://arco/out/sub.zarr",
        "--layout",
        "map",
        "--chunk-size",
        "1KiB",
        "--threads",
        "1",
    ];
    let out = s3(&args, &[("ARCO_TEST_FAIL_AFTER_TASKS", "2")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let opts = moto.options(&rt);
    let store =
        arco_zarr::ZarrStore::create("s3://arco/out/sub.zarr", &opts, Default::default()).unwrap();
    assert!(
        store.get_bytes("zarr.json").unwrap().is_none(),
        "root metadata before completion"
    );
    assert!(store.get_bytes(".arco/complete").unwrap().is_none());
    assert!(store.get_bytes(".arco/plan.json").unwrap().is_some());

    let out = s3(&args, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("2 tasks already done"),
        "{}",
        text(&out.stdout)
    );
    assert!(store.get_bytes("zarr.json").unwrap().is_some());
    assert!(store.get_bytes(".arco/complete").unwrap().is_some());
    // The remote input is recorded with the ETag the store gave for it.
    let root: serde_json::Value =
        serde_json::from_slice(&store.get_bytes("zarr.json").unwrap().unwrap()).unwrap();
    let input = &root["attributes"]["arco:provenance"]["inputs"][0];
    assert!(
        input["etag"].as_str().is_some_and(|e| !e.is_empty()),
        "{input}"
    );
    let done = arco_zarr::ZarrStore::open("s3://arco/out/sub.zarr", &opts).unwrap();
    let got = done
        .read("/u", &Selection::all(&[10, 2, 9, 9]))
        .unwrap()
        .values;
    let src = data("real/netcdf3/sub.nc");
    let reader =
        arco_formats::open(arco_storage::open(&src, &Default::default()).unwrap()).unwrap();
    assert_eq!(
        got,
        reader
            .read("/u", &Selection::all(&[10, 2, 9, 9]))
            .unwrap()
            .values
    );

    // A complete output is refused without --overwrite.
    let out = s3(&args, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--overwrite"),
        "{}",
        text(&out.stderr)
    );
    drop(rt);
}
