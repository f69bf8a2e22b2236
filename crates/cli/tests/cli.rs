//! End-to-end tests of the `arco` binary: exit codes, JSON output, errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/run.rs"]
mod run;
use run::arco;
use std::path::PathBuf;
use std::process::Output;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn data(rel: &str) -> String {
    repo()
        .join("tests/data")
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

fn stdout_json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn usage_errors_exit_with_code_2() {
    let out = arco(&["inspect"]);
    assert_eq!(out.status.code(), Some(2));
    let out = arco(&["no-such-command"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_missing_file_exits_1_and_names_the_path() {
    let out = arco(&["inspect", "/nonexistent/dir/era5.nc"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/dir/era5.nc"), "{err}");
    assert!(err.contains("not found"), "{err}");
}

#[test]
fn errors_are_json_on_stderr_with_the_json_flag() {
    let out = arco(&["inspect", "/nonexistent/x.nc", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stderr).expect("json error");
    assert!(v["error"].as_str().unwrap().contains("/nonexistent/x.nc"));
}

#[test]
fn a_file_of_unknown_format_is_refused_with_its_magic_bytes() {
    let out = arco(&["inspect", &repo().join("Cargo.toml").to_string_lossy()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown format"), "{err}");
}

#[test]
fn inspect_json_describes_a_netcdf3_record_file() {
    let out = arco(&[
        "inspect",
        &data("real/netcdf3/example_arm_sonde.cdf"),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = stdout_json(&out);
    assert_eq!(v["format"], "netcdf3-classic");
    let time = &v["root"]["dimensions"][0];
    assert_eq!(time["name"], "time");
    assert_eq!(time["unlimited"], true);
    assert_eq!(time["size"], 839);
    let pres = v["root"]["variables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "pres")
        .expect("pres");
    assert_eq!(pres["layout"], "record");
    assert_eq!(pres["chunks"], 839);
    assert_eq!(pres["stored_bytes"], 839 * 4);
}

#[test]
fn inspect_json_reports_chunking_and_filters_of_netcdf4() {
    let out = arco(&["inspect", &data("real/netcdf4/lcc_km.nc"), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = stdout_json(&out);
    assert_eq!(v["format"], "netcdf4-classic");
    let vars = v["root"]["variables"].as_array().unwrap();
    let wind = vars.iter().find(|x| x["name"] == "prcp").expect("prcp");
    assert_eq!(wind["chunk_shape"], serde_json::json!([1, 569, 619]));
    assert_eq!(wind["layout"], "chunked");
    let codecs: Vec<&str> = wind["codecs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(codecs, ["shuffle", "deflate"]);
    assert!(wind["stored_bytes"].as_u64().unwrap() > 0);
    assert!(wind["stored_bytes"].as_u64() < wind["uncompressed_bytes"].as_u64());
}

#[test]
fn dump_writes_npy_that_matches_json_values() {
    let dir = tempdir();
    let npy = dir.join("pres.npy");
    let src = data("real/netcdf3/example_arm_sonde.cdf");
    let out = arco(&[
        "dump",
        &src,
        "--var",
        "pres",
        "--slice",
        "time=0:5",
        "--raw",
        "--npy",
        npy.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&npy).unwrap();
    assert_eq!(&bytes[..6], b"\x93NUMPY");
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
    assert!(header.contains("'descr': '<f4'"), "{header}");
    assert!(header.contains("'shape': (5,)"), "{header}");
    let body = &bytes[10 + header_len..];
    let npy_values: Vec<f32> = body
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let out = arco(&[
        "dump", &src, "--var", "pres", "--slice", "time=0:5", "--raw", "--json",
    ]);
    let v = stdout_json(&out);
    let json_values: Vec<f32> = v["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect();
    assert_eq!(npy_values, json_values);
    assert_eq!(npy_values.len(), 5);
}

#[test]
fn a_bad_slice_names_the_dimensions() {
    let src = data("real/netcdf3/example_arm_sonde.cdf");
    let out = arco(&["dump", &src, "--var", "pres", "--slice", "depth=0"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no dimension 'depth'") && err.contains("time"),
        "{err}"
    );
}

#[test]
fn an_unknown_variable_lists_the_variables() {
    let src = data("real/netcdf3/example_arm_sonde.cdf");
    let out = arco(&["dump", &src, "--var", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("variable 'nope' not found") && err.contains("/pres"),
        "{err}"
    );
}

fn tempdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "arco-cli-test-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn inspect_and_dump_read_what_convert_wrote() {
    let dir = tempdir();
    let out = dir.join("sonde.zarr");
    let src = data("real/netcdf3/example_arm_sonde.cdf");
    let done = arco(&["convert", &src, out.to_str().unwrap()]);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );

    let v = stdout_json(&arco(&["inspect", out.to_str().unwrap(), "--json"]));
    assert_eq!(v["format"], "zarr-v3");
    let vars = v["root"]["variables"].as_array().unwrap();
    assert!(vars
        .iter()
        .any(|x| x["name"] == "pres" && x["shape"] == serde_json::json!([839])));

    for var in ["pres", "time"] {
        let a = stdout_json(&arco(&["dump", &src, "--var", var, "--json"]));
        let b = stdout_json(&arco(&[
            "dump",
            out.to_str().unwrap(),
            "--var",
            var,
            "--json",
        ]));
        assert_eq!(a["values"], b["values"], "{var}");
        assert_eq!(a["dtype"], b["dtype"], "{var}");
    }
}
