//! `arco verify` end to end: exit codes, the human lines and the JSON report,
//! against Zarr v3 stores written by hand (zarr.json documents and raw
//! little-endian chunks) from the real sample `sub.nc`, and against the output
//! of `arco convert`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/run.rs"]
mod run;
use arco_core::{AttrValue, Selection, Values};
use arco_storage::OpenOptions;
use run::arco;
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};
use std::process::Output;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sub_nc() -> String {
    repo()
        .join("tests/data/real/netcdf3/sub.nc")
        .to_string_lossy()
        .into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            stdout(out),
            stderr(out)
        )
    })
}

/// One array of a hand-written store: metadata and values.
struct Array {
    path: String,
    meta: Value,
    values: Values,
}

/// A Zarr v3 copy of `src` written by hand: one uncompressed chunk per
/// array (`bytes` codec, little endian), attributes as JSON.
struct HandZarr {
    root_attributes: Map<String, Value>,
    arrays: Vec<Array>,
}

fn attr_json(v: &AttrValue) -> Value {
    let items: Vec<Value> = match v {
        AttrValue::Text(t) => return json!(t),
        AttrValue::Array(Values::I16(x)) => x.iter().map(|n| json!(n)).collect(),
        AttrValue::Array(Values::I32(x)) => x.iter().map(|n| json!(n)).collect(),
        AttrValue::Array(Values::F32(x)) => x.iter().map(|n| json!(f64::from(*n))).collect(),
        AttrValue::Array(Values::F64(x)) => x.iter().map(|n| json!(n)).collect(),
        other => panic!("{other:?} not supported here"),
    };
    if items.len() == 1 {
        items.into_iter().next().unwrap()
    } else {
        Value::Array(items)
    }
}

fn attrs_json(attrs: &[arco_core::Attribute]) -> Map<String, Value> {
    attrs
        .iter()
        .map(|a| (a.name.clone(), attr_json(&a.value)))
        .collect()
}

impl HandZarr {
    fn copy_of(src: &str) -> Self {
        let source = arco_storage::open(src, &OpenOptions::default()).unwrap();
        let reader = arco_formats::open(source).unwrap();
        let ds = reader.dataset();
        let arrays = ds
            .root
            .variables
            .iter()
            .map(|v| {
                let values = reader.read(&v.path, &Selection::all(&v.shape)).unwrap().values;
                let chunk: Vec<u64> = v.shape.iter().map(|&n| n.max(1)).collect();
                Array {
                    path: v.path.clone(),
                    meta: json!({
                        "zarr_format": 3,
                        "node_type": "array",
                        "shape": v.shape,
                        "data_type": v.dtype.name(),
                        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": chunk}},
                        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
                        "fill_value": 0,
                        "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
                        "attributes": attrs_json(&v.attributes),
                        "dimension_names": v.dims,
                    }),
                    values,
                }
            })
            .collect();
        HandZarr {
            root_attributes: attrs_json(&ds.root.attributes),
            arrays,
        }
    }

    fn values(&mut self, path: &str) -> &mut Values {
        &mut self
            .arrays
            .iter_mut()
            .find(|a| a.path == path)
            .unwrap()
            .values
    }

    fn write(&self, dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        let root =
            json!({"zarr_format": 3, "node_type": "group", "attributes": self.root_attributes});
        std::fs::write(dir.join("zarr.json"), root.to_string()).unwrap();
        for a in &self.arrays {
            let adir = dir.join(a.path.trim_start_matches('/'));
            let rank = a.meta["shape"].as_array().unwrap().len();
            let mut chunk_dir = adir.join("c");
            for _ in 1..rank {
                chunk_dir = chunk_dir.join("0");
            }
            std::fs::create_dir_all(&chunk_dir).unwrap();
            std::fs::write(adir.join("zarr.json"), a.meta.to_string()).unwrap();
            let bytes: Vec<u8> = match &a.values {
                Values::I16(x) => x.iter().flat_map(|n| n.to_le_bytes()).collect(),
                Values::I32(x) => x.iter().flat_map(|n| n.to_le_bytes()).collect(),
                Values::F32(x) => x.iter().flat_map(|n| n.to_le_bytes()).collect(),
                Values::F64(x) => x.iter().flat_map(|n| n.to_le_bytes()).collect(),
                other => panic!("{other:?} not supported here"),
            };
            let key = if rank == 0 {
                adir.join("c")
            } else {
                chunk_dir.join("0")
            };
            std::fs::write(key, bytes).unwrap();
        }
    }
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("arco-cli-verify-")
        .tempdir()
        .unwrap()
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn an_identical_copy_exits_0_and_says_all_equal() {
    let dir = temp_dir();
    let dest = dir.path().join("sub.zarr");
    HandZarr::copy_of(&sub_nc()).write(&dest);
    let out = arco(&["verify", &sub_nc(), path_str(&dest)]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    // A hand-made store records no provenance: said in a note, not a problem.
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with("note: ")).collect();
    assert_eq!(
        lines,
        vec!["verified: 6 variables, 3270 values, 26 attributes, all equal"]
    );
    assert!(text.contains("records no arco:provenance"), "{text}");
}

#[test]
fn one_altered_value_exits_1_naming_the_variable_index_and_both_values() {
    let dir = temp_dir();
    let dest = dir.path().join("sub.zarr");
    let mut z = HandZarr::copy_of(&sub_nc());
    // u(time=10, level=2, latitude=9, longitude=9) at [7, 1, 4, 6].
    let Values::I16(u) = z.values("/u") else {
        panic!("u is int16")
    };
    let i = ((7 * 2 + 1) * 9 + 4) * 9 + 6;
    let before = u[i];
    u[i] = before.wrapping_add(100);
    z.write(&dest);
    let out = arco(&["verify", &sub_nc(), path_str(&dest)]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with("note: ")).collect();
    assert_eq!(
        lines,
        vec![
            format!(
                "/u[7, 1, 4, 6]: source {before}, destination {}",
                before.wrapping_add(100)
            )
            .as_str(),
            "checked 6 variables, 3270 values, 26 attributes: 1 difference",
        ]
    );
    assert!(
        stderr(&out).contains("does not match its sources (1 problem)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn json_prints_the_report_with_the_same_exit_codes() {
    let dir = temp_dir();
    let dest = dir.path().join("sub.zarr");
    let mut z = HandZarr::copy_of(&sub_nc());
    z.write(&dest);
    let out = arco(&["verify", &sub_nc(), path_str(&dest), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let j = stdout_json(&out);
    assert_eq!(j["ok"], true);
    assert_eq!(j["variables_checked"], 6);
    assert_eq!(j["elements_checked"], 3270);
    assert_eq!(j["differences"], json!([]));

    let Values::F32(lat) = z.values("/latitude") else {
        panic!("latitude is float32")
    };
    lat[2] = f32::NAN;
    z.write(&dest);
    let out = arco(&["verify", &sub_nc(), path_str(&dest), "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let j = stdout_json(&out);
    assert_eq!(j["ok"], false);
    assert_eq!(j["difference_count"], 1);
    let d = &j["differences"][0];
    assert_eq!(d["kind"], "value");
    assert_eq!(d["variable"], "/latitude");
    assert_eq!(d["index"], json!([2]));
    assert_eq!(d["destination"], "NaN");
    assert!(d["source"].is_number());
    // The error goes to stderr as JSON too.
    let e: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert!(e["error"].as_str().unwrap().contains("does not match"));
}

#[test]
fn a_missing_variable_and_a_changed_attribute_are_each_one_line() {
    let dir = temp_dir();
    let dest = dir.path().join("sub.zarr");
    let mut z = HandZarr::copy_of(&sub_nc());
    z.arrays.retain(|a| a.path != "/level");
    let v = z.arrays.iter_mut().find(|a| a.path == "/v").unwrap();
    v.meta["attributes"]["units"] = json!("m/s");
    z.write(&dest);
    let out = arco(&["verify", &sub_nc(), path_str(&dest)]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("/level: missing from the destination\n"),
        "{text}"
    );
    assert!(
        text.contains("/v: attribute units: source \"m s**-1\", destination \"m/s\"\n"),
        "{text}"
    );
    assert!(text.ends_with(": 1 difference, 1 missing\n"), "{text}");
}

#[test]
fn too_few_paths_is_a_usage_error() {
    let out = arco(&["verify", &sub_nc()]);
    assert_eq!(out.status.code(), Some(2));
    let out = arco(&["verify", &sub_nc(), "x.zarr", "--max-differences", "many"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_destination_that_is_not_zarr_exits_1_and_names_it() {
    let dir = temp_dir();
    let dest = dir.path().join("nothing.zarr");
    std::fs::create_dir_all(&dest).unwrap();
    let out = arco(&["verify", &sub_nc(), path_str(&dest)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("nothing.zarr"), "{}", stderr(&out));
}

#[test]
fn a_source_changed_since_conversion_is_reported_by_size_and_with_checksum_by_digest() {
    let dir = temp_dir();
    let src = dir.path().join("sub.nc");
    std::fs::copy(sub_nc(), &src).unwrap();
    let size = std::fs::metadata(&src).unwrap().len();
    let dest = dir.path().join("sub.zarr");
    let write = |size: u64, sha: &str| {
        let mut z = HandZarr::copy_of(path_str(&src));
        z.root_attributes.insert(
            "arco:provenance".into(),
            json!({"arco_version": "0.1.0", "inputs": [
                {"location": path_str(&src), "size": size, "sha256": sha}
            ]}),
        );
        z.write(&dest);
    };

    write(size + 1, "00");
    let out = arco(&["verify", path_str(&src), path_str(&dest)]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("source changed since conversion"), "{text}");
    assert!(
        text.contains(&format!("size was {} bytes", size + 1)),
        "{text}"
    );

    // Sizes agree; the digest is only read with --checksum.
    write(size, &"ab".repeat(32));
    let out = arco(&["verify", path_str(&src), path_str(&dest)]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = arco(&["verify", path_str(&src), path_str(&dest), "--checksum"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("SHA-256"), "{}", stdout(&out));
}

#[test]
fn the_output_of_arco_convert_verifies_and_a_tampered_attribute_does_not() {
    let dir = temp_dir();
    let dest = dir.path().join("sub.zarr");
    let out = arco(&["convert", &sub_nc(), path_str(&dest)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = arco(&["verify", &sub_nc(), path_str(&dest), "--checksum"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).ends_with("all equal\n"));

    let meta_path = dest.join("u/zarr.json");
    let mut meta: Value = serde_json::from_slice(&std::fs::read(&meta_path).unwrap()).unwrap();
    meta["attributes"]["scale_factor"] = json!(0.5);
    std::fs::write(&meta_path, meta.to_string()).unwrap();
    let out = arco(&["verify", &sub_nc(), path_str(&dest), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let j = stdout_json(&out);
    assert_eq!(
        j["differences"],
        json!([{
            "kind": "attribute",
            "path": "/u",
            "attribute": "scale_factor",
            "source": 0.00027093437217759085,
            "destination": 0.5
        }])
    );
}
