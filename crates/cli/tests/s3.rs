//! `arco inspect` and `arco dump` on s3:// URLs against a real S3-compatible
//! server (moto) on 127.0.0.1: same answers as the local file, and header
//! parsing reads only a small part of the object.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arco_storage::testing::Moto;
use std::path::PathBuf;
use std::process::{Command, Output};

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data")
        .join(rel)
}

fn arco(moto: &Moto, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_arco"))
        .args(args)
        .args(["--s3-endpoint", &moto.endpoint()])
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_SESSION_TOKEN")
        .output()
        .expect("run arco")
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "arco failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

fn upload(moto: &Moto, bucket: &str, rel: &str) -> (String, u64) {
    let bytes = std::fs::read(data(rel)).unwrap();
    let key = rel.rsplit('/').next().unwrap().to_string();
    moto.put(bucket, &key, &bytes, false);
    (format!("s3://{bucket}/{key}"), bytes.len() as u64)
}

#[test]
fn inspecting_a_netcdf4_file_on_s3_reads_a_small_part_of_it() {
    let Some(moto) = Moto::start() else { return };
    moto.create_bucket("era5");
    let (url, size) = upload(&moto, "era5", "real/netcdf4/era5-levels-members.nc");
    let remote = json(&arco(&moto, &["inspect", &url, "--json", "--stats"]));
    let io = &remote["io"];
    let bytes = io["bytes"].as_u64().unwrap();
    let requests = io["requests"].as_u64().unwrap();
    assert!(
        bytes * 10 < size,
        "header parsing read {bytes} of {size} bytes in {requests} requests"
    );
    assert!(requests <= 20, "{requests} requests");

    let local_path = data("real/netcdf4/era5-levels-members.nc");
    let local = json(&arco(
        &moto,
        &["inspect", local_path.to_str().unwrap(), "--json"],
    ));
    assert_eq!(remote["root"], local["root"]);
    assert_eq!(remote["format"], "netcdf4");
}

#[test]
fn dumping_from_s3_gives_the_same_values_as_the_local_file() {
    let Some(moto) = Moto::start() else { return };
    moto.create_bucket("nc3");
    let (url, _) = upload(&moto, "nc3", "real/netcdf3/example_arm_sonde.cdf");
    let local = data("real/netcdf3/example_arm_sonde.cdf");
    for var in ["pres", "tdry", "time"] {
        let args = |src: &str| ["dump", src, "--var", var, "--raw", "--json"].map(String::from);
        let remote = json(&arco(&moto, &args(&url).each_ref().map(String::as_str)));
        let here = json(&arco(
            &moto,
            &args(local.to_str().unwrap()).each_ref().map(String::as_str),
        ));
        assert_eq!(remote["values"], here["values"], "{var}");
        assert_eq!(remote["shape"], serde_json::json!([839]), "{var}");
    }
}

#[test]
fn a_missing_s3_object_is_a_clear_error() {
    let Some(moto) = Moto::start() else { return };
    moto.create_bucket("empty");
    let out = arco(&moto, &["inspect", "s3://empty/nothing.nc"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("s3://empty/nothing.nc") && err.contains("not found"),
        "{err}"
    );
}
