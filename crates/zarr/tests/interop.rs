//! Interop: zarr-python and xarray (from the peers venv) open what arco
//! writes and agree with the source value for value.
//!
//! The venv is `$ARCO_PEERS_VENV` or `<repo>/.peers-venv`. Without it these
//! tests print a line and pass, unless `ARCO_REQUIRE_PEERS=1`, where they fail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arco_core::{DType, Group, NdArray, Selection};
use arco_storage::OpenOptions;
use arco_zarr::{array_spec_for, default_compression, GroupSpec, ZarrFormat, ZarrStore};
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The venv's python with zarr and xarray, or `None` (after saying so).
fn python() -> Option<PathBuf> {
    arco_testkit::peers_python(&["zarr", "xarray", "numcodecs"])
}

fn run_python(py: &Path, script: &str, args: &[&str]) -> String {
    let out = Command::new(py)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "python failed:\n{stdout}\n{stderr}");
    stdout
}

/// A minimal conversion (what the engine does, without planning): every
/// fixed-size variable written whole, one chunk per 64k elements along the
/// first dimension. Returns the group paths and the variables skipped
/// (compound and ragged types, which the engine handles) per group.
fn convert(
    src: &Path,
    dest: &Path,
    format: ZarrFormat,
) -> (Vec<String>, serde_json::Map<String, serde_json::Value>) {
    let source = arco_storage::open(src.to_str().unwrap(), &OpenOptions::default()).unwrap();
    let reader = arco_formats::open(source).unwrap();
    let ds = reader.dataset().clone();
    let store = ZarrStore::create(dest.to_str().unwrap(), &OpenOptions::default(), format).unwrap();
    let mut groups = Vec::new();
    fn walk(g: &Group, out: &mut Vec<Group>) {
        out.push(g.clone());
        for c in &g.groups {
            walk(c, out);
        }
    }
    let mut all = Vec::new();
    walk(&ds.root, &mut all);
    let mut skipped = serde_json::Map::new();
    for g in &all {
        store
            .create_group(&GroupSpec {
                path: g.path.clone(),
                attributes: arco_zarr::attributes_json(&g.attributes),
            })
            .unwrap();
        groups.push(g.path.clone());
        for var in &g.variables {
            if matches!(var.dtype, DType::Compound { .. } | DType::VarLen { .. }) {
                skipped
                    .entry(g.path.clone())
                    .or_insert_with(|| serde_json::json!([]))
                    .as_array_mut()
                    .unwrap()
                    .push(var.name.clone().into());
                continue;
            }
            let mut chunk = var.shape.iter().map(|n| (*n).max(1)).collect::<Vec<_>>();
            if let Some(first) = chunk.first_mut() {
                let rest: u64 = var.shape.iter().skip(1).product::<u64>().max(1);
                *first = (*first).min((65536 / rest).max(1));
            }
            let spec = array_spec_for(var, chunk, None, default_compression(&var.dtype));
            let array = store.create_array(&spec).unwrap();
            let data: NdArray = reader.read(&var.path, &Selection::all(&var.shape)).unwrap();
            array
                .write_region(&vec![0; var.shape.len()], &data)
                .unwrap();
        }
    }
    store.consolidate().unwrap();
    (groups, skipped)
}

/// Compares `xr.open_dataset(src)` with `xr.open_zarr(out)` per group with
/// `assert_identical`, after allowing exactly two documented deviations
/// (docs/design/zarr-encoding.md): non-finite float attributes are the
/// strings "NaN"/"Infinity"/"-Infinity" in Zarr (valid JSON), and a variable
/// packed with float32 `scale_factor`/`add_offset` decodes to float64 from
/// Zarr (JSON numbers are Python floats) with the same values to float32
/// precision. Prints one JSON line per group.
const COMPARE: &str = r#"
import sys, json, math, warnings
import numpy as np, xarray as xr
warnings.simplefilter("ignore")
src, out, fmt = sys.argv[1], sys.argv[2], int(sys.argv[3])
groups = json.loads(sys.argv[4]); skipped = json.loads(sys.argv[5])

def as_written(v):
    arr = np.asarray(v)
    if arr.dtype.kind != "f" or np.all(np.isfinite(arr)):
        return v
    def one(x):
        x = float(x)
        return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity") if math.isinf(x) else x
    return one(arr) if arr.ndim == 0 or arr.size == 1 else [one(x) for x in arr.ravel()]

def normalise_attrs(attrs):
    return {k: as_written(v) for k, v in attrs.items()}

for g in groups:
    grp = None if g == "/" else g
    try:
        a = xr.open_dataset(src, group=grp).load()
    except Exception as e:
        print(json.dumps({"skip": f"{g}: xarray cannot open the source: {type(e).__name__}: {e}"}))
        continue
    raw = xr.open_dataset(src, group=grp, decode_cf=False)
    # Consolidated metadata written by arco must open without falling back.
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        b = xr.open_zarr(out, group=grp, zarr_format=fmt, consolidated=True).load()
    a = a.drop_vars([n for n in skipped.get(g, []) if n in a.variables])
    notes = []
    a.attrs = normalise_attrs(a.attrs)
    for name in list(a.variables):
        a[name].attrs = normalise_attrs(a[name].attrs)
        if name not in b.variables:
            continue
        packed = [raw[name].attrs.get(k) for k in ("scale_factor", "add_offset")]
        if (a[name].dtype == np.float32 and b[name].dtype == np.float64
                and any(isinstance(p, np.float32) for p in packed)):
            # float32 arithmetic loses up to an ulp of the largest term.
            scale = float(np.nanmax(np.abs(a[name].values))) if a[name].size else 0.0
            np.testing.assert_allclose(b[name].values, a[name].values, rtol=1e-6, atol=1e-6 * scale, equal_nan=True)
            b[name] = b[name].astype(np.float32).copy(data=a[name].values)
            notes.append(f"{name}: float32-packed, float64 from Zarr, equal to float32 precision")
    try:
        xr.testing.assert_identical(a, b)
        problems = []
    except AssertionError as e:
        problems = [f"{g}: {e}"]
    print(json.dumps({"problems": problems, "notes": notes}))
"#;

fn sources() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in [
        "tests/data/real/netcdf4",
        "tests/data/real/netcdf3",
        "tests/data/fixtures",
    ] {
        let Ok(entries) = std::fs::read_dir(repo().join(dir)) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            if (name.ends_with(".nc") || name.ends_with(".cdf"))
                && !matches!(name.as_str(), "not_a_netcdf.nc" | "truncated.nc")
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn files_round_trip(format: ZarrFormat) {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for src in sources() {
        let name = src.file_name().unwrap().to_string_lossy().to_string();
        let dest = dir.path().join(format!("{name}.zarr"));
        let (groups, skipped) = convert(&src, &dest, format);
        let fmt = if format == ZarrFormat::V3 { "3" } else { "2" };
        let out = run_python(
            &py,
            COMPARE,
            &[
                src.to_str().unwrap(),
                dest.to_str().unwrap(),
                fmt,
                &serde_json::to_string(&groups).unwrap(),
                &serde_json::to_string(&skipped).unwrap(),
            ],
        );
        for line in out.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            if let Some(s) = v.get("skip") {
                eprintln!("{name}: {s}");
            }
            for n in v["notes"].as_array().into_iter().flatten() {
                eprintln!("{name}: {}", n.as_str().unwrap());
            }
            for p in v["problems"].as_array().into_iter().flatten() {
                failures.push(format!("{name} {}", p.as_str().unwrap()));
            }
        }
        eprintln!("checked {name}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn xarray_reads_converted_netcdf_files_identically_in_zarr_v3() {
    files_round_trip(ZarrFormat::V3);
}

#[test]
fn xarray_reads_converted_netcdf_files_identically_in_zarr_v2() {
    files_round_trip(ZarrFormat::V2);
}

const ZARR_READ: &str = r#"
import sys, json, math, warnings
import numpy as np, zarr
warnings.simplefilter("ignore")
root = zarr.open_group(sys.argv[1], mode="r")
out = {}
def plain(x):
    if isinstance(x, bytes):
        return x.decode("latin-1")
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    return x
for name, arr in sorted(root.arrays()):
    data = arr[...]
    if data.dtype.kind == "V":
        vals = [list(bytes(v)) for v in data.ravel()]
    else:
        vals = [plain(v) for v in data.ravel().tolist()]
    out[name] = {"dtype": str(data.dtype), "values": vals, "attrs": dict(arr.attrs),
                 "shape": list(arr.shape), "shards": list(arr.shards) if arr.shards else None}
print(json.dumps(out))
"#;

#[test]
fn zarr_python_reads_every_dtype_arco_writes() {
    use arco_core::Values;
    use arco_zarr::ArraySpec;
    let Some(py) = python() else { return };
    let cases: Vec<(DType, Values, &str, serde_json::Value)> = vec![
        (
            DType::Bool,
            Values::Bool(vec![true, false, true]),
            "bool",
            serde_json::json!([true, false, true]),
        ),
        (
            DType::I8,
            Values::I8(vec![-128, 0, 127]),
            "int8",
            serde_json::json!([-128, 0, 127]),
        ),
        (
            DType::U16,
            Values::U16(vec![0, 1, 65535]),
            "uint16",
            serde_json::json!([0, 1, 65535]),
        ),
        (
            DType::I64,
            Values::I64(vec![i64::MIN, 0, i64::MAX]),
            "int64",
            serde_json::json!([i64::MIN, 0, i64::MAX]),
        ),
        (
            DType::U64,
            Values::U64(vec![0, 1, u64::MAX]),
            "uint64",
            serde_json::json!([0, 1, u64::MAX]),
        ),
        (
            DType::F32,
            Values::F32(vec![1.5, f32::NAN, -0.0]),
            "float32",
            serde_json::json!([1.5, "nan", -0.0]),
        ),
        (
            DType::F64,
            Values::F64(vec![f64::INFINITY, 1e300, 2.0]),
            "float64",
            serde_json::json!(["inf", 1e300, 2.0]),
        ),
        (
            DType::Char,
            Values::U8(vec![b'a', 0, b'z']),
            "|S1",
            serde_json::json!(["a", "", "z"]),
        ),
        (
            DType::FixedString { size: 4 },
            Values::Str(vec!["abcd".into(), "".into(), "xy".into()]),
            "|S4",
            serde_json::json!(["abcd", "", "xy"]),
        ),
        (
            DType::String,
            Values::Str(vec!["é".into(), "".into(), "long text".into()]),
            "",
            serde_json::json!(["é", "", "long text"]),
        ),
    ];
    for (format, shard) in [
        (ZarrFormat::V3, false),
        (ZarrFormat::V3, true),
        (ZarrFormat::V2, false),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("t.zarr");
        let store =
            ZarrStore::create(dest.to_str().unwrap(), &OpenOptions::default(), format).unwrap();
        store
            .create_group(&GroupSpec {
                path: "/".into(),
                attributes: Default::default(),
            })
            .unwrap();
        for (k, (dtype, values, _, _)) in cases.iter().enumerate() {
            let spec = ArraySpec {
                path: format!("/a{k}"),
                shape: vec![3],
                chunk_shape: vec![2],
                shard_shape: shard.then(|| vec![4]),
                dtype: dtype.clone(),
                fill_value: None,
                dimension_names: vec!["x".into()],
                attributes: serde_json::json!({"units": "m", "n": [1, 2]})
                    .as_object()
                    .unwrap()
                    .clone(),
                // Alternate the default (blosc) with shuffle + zstd, which
                // zarr-python reads through numcodecs.
                compression: if k % 2 == 0 {
                    default_compression(dtype)
                } else {
                    arco_zarr::Compression::Zstd {
                        level: 3,
                        shuffle: true,
                    }
                },
            };
            store
                .create_array(&spec)
                .unwrap()
                .write_region(
                    &[0],
                    &NdArray {
                        shape: vec![3],
                        values: values.clone(),
                    },
                )
                .unwrap();
        }
        let out = run_python(&py, ZARR_READ, &[dest.to_str().unwrap()]);
        let got: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        for (k, (dtype, _, np_dtype, expect)) in cases.iter().enumerate() {
            let a = &got[format!("a{k}")];
            assert_eq!(
                &a["values"], expect,
                "{format:?} shard={shard} {dtype}: {a}"
            );
            if !np_dtype.is_empty() {
                assert_eq!(a["dtype"], *np_dtype, "{format:?} {dtype}");
            }
            assert_eq!(a["attrs"]["units"], "m");
            assert_eq!(a["attrs"]["n"], serde_json::json!([1, 2]));
            if shard {
                assert_eq!(a["shards"], serde_json::json!([4]));
            }
        }
    }
}
