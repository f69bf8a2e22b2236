//! `verify` end to end: sources (a NetCDF-3 file written here byte by byte,
//! and the repository's fixtures) against Zarr v3 stores written by hand
//! (`zarr.json` documents and raw little-endian chunks with the `bytes`
//! codec) or through `arco_zarr`'s writer, read back through
//! `arco_zarr::ZarrStore` — and an in-memory destination, to show that the
//! destination trait is open to other kinds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arco_core::{
    AttrValue, DType, Dataset, Endian, Group, NdArray, Selection, StorageLayout, Values, Variable,
};
use arco_engine::verify::{
    verify, DestView, Difference, ReadableDestination, VerifyOptions, VerifyReport,
};
use arco_formats::Reader;
use arco_storage::{DynSource, MemSource, OpenOptions};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

// ---------------------------------------------------------------------------
// A NetCDF-3 classic file, written byte by byte (fixed-size variables only).

const NC_SHORT: u32 = 3;
const NC_INT: u32 = 4;
const NC_FLOAT: u32 = 5;
const NC_DOUBLE: u32 = 6;
const NC_CHAR: u32 = 2;

struct NcAttr {
    name: &'static str,
    nc_type: u32,
    data: Vec<u8>,
}

fn text(name: &'static str, s: &str) -> NcAttr {
    NcAttr {
        name,
        nc_type: NC_CHAR,
        data: s.as_bytes().to_vec(),
    }
}

fn floats(name: &'static str, v: &[f32]) -> NcAttr {
    NcAttr {
        name,
        nc_type: NC_FLOAT,
        data: v.iter().flat_map(|x| x.to_be_bytes()).collect(),
    }
}

fn shorts(name: &'static str, v: &[i16]) -> NcAttr {
    NcAttr {
        name,
        nc_type: NC_SHORT,
        data: v.iter().flat_map(|x| x.to_be_bytes()).collect(),
    }
}

fn ints(name: &'static str, v: &[i32]) -> NcAttr {
    NcAttr {
        name,
        nc_type: NC_INT,
        data: v.iter().flat_map(|x| x.to_be_bytes()).collect(),
    }
}

struct NcVar {
    name: &'static str,
    dimids: Vec<u32>,
    attrs: Vec<NcAttr>,
    nc_type: u32,
    data: Vec<u8>,
}

fn type_size(t: u32) -> usize {
    match t {
        NC_SHORT => 2,
        NC_INT | NC_FLOAT => 4,
        NC_DOUBLE => 8,
        _ => 1,
    }
}

fn put_u32(out: &mut Vec<u8>, x: u32) {
    out.extend_from_slice(&x.to_be_bytes());
}

fn put_name(out: &mut Vec<u8>, name: &str) {
    put_u32(out, name.len() as u32);
    out.extend_from_slice(name.as_bytes());
    out.resize(out.len().div_ceil(4) * 4, 0);
}

fn put_attrs(out: &mut Vec<u8>, attrs: &[NcAttr]) {
    if attrs.is_empty() {
        put_u32(out, 0);
        put_u32(out, 0);
        return;
    }
    put_u32(out, 0x0C);
    put_u32(out, attrs.len() as u32);
    for a in attrs {
        put_name(out, a.name);
        put_u32(out, a.nc_type);
        put_u32(out, (a.data.len() / type_size(a.nc_type)) as u32);
        out.extend_from_slice(&a.data);
        out.resize(out.len().div_ceil(4) * 4, 0);
    }
}

/// A CDF-1 file with these dimensions, global attributes and variables.
fn netcdf3(dims: &[(&str, u32)], gatts: &[NcAttr], vars: &[NcVar]) -> Vec<u8> {
    let header = |begins: &[u32]| {
        let mut h = b"CDF\x01".to_vec();
        put_u32(&mut h, 0);
        put_u32(&mut h, 0x0A);
        put_u32(&mut h, dims.len() as u32);
        for (name, len) in dims {
            put_name(&mut h, name);
            put_u32(&mut h, *len);
        }
        put_attrs(&mut h, gatts);
        put_u32(&mut h, 0x0B);
        put_u32(&mut h, vars.len() as u32);
        for (v, begin) in vars.iter().zip(begins) {
            put_name(&mut h, v.name);
            put_u32(&mut h, v.dimids.len() as u32);
            for d in &v.dimids {
                put_u32(&mut h, *d);
            }
            put_attrs(&mut h, &v.attrs);
            put_u32(&mut h, v.nc_type);
            put_u32(&mut h, v.data.len().div_ceil(4) as u32 * 4);
            put_u32(&mut h, *begin);
        }
        h
    };
    let len = header(&vec![0; vars.len()]).len();
    let mut begins = Vec::new();
    let mut at = len as u32;
    for v in vars {
        begins.push(at);
        at += v.data.len().div_ceil(4) as u32 * 4;
    }
    let mut file = header(&begins);
    for v in vars {
        file.extend_from_slice(&v.data);
        file.resize(file.len().div_ceil(4) * 4, 0);
    }
    file
}

/// The test source: `temp(time, x)` float32 with a NaN, `count(x)` int32,
/// `flag(time)` int16 with a `_FillValue`, `scale()` float64; global
/// attributes of three types.
fn source_bytes() -> Vec<u8> {
    let temp: Vec<f32> = vec![
        270.5,
        271.0,
        0.0,
        f32::NAN,
        -1.5,
        280.25,
        1e-30,
        f32::INFINITY,
        3.0,
        4.0,
        5.0,
        6.0,
    ];
    netcdf3(
        &[("time", 4), ("x", 3)],
        &[
            text("title", "verify test"),
            ints("version", &[3]),
            floats("ratio", &[0.1]),
        ],
        &[
            NcVar {
                name: "temp",
                dimids: vec![0, 1],
                attrs: vec![
                    text("units", "K"),
                    floats("_FillValue", &[f32::NAN]),
                    floats("valid_range", &[0.0, 400.0]),
                ],
                nc_type: NC_FLOAT,
                data: temp.iter().flat_map(|x| x.to_be_bytes()).collect(),
            },
            NcVar {
                name: "count",
                dimids: vec![1],
                attrs: vec![text("long_name", "a count")],
                nc_type: NC_INT,
                data: [7i32, -8, i32::MAX]
                    .iter()
                    .flat_map(|x| x.to_be_bytes())
                    .collect(),
            },
            NcVar {
                name: "flag",
                dimids: vec![0],
                attrs: vec![shorts("_FillValue", &[-1])],
                nc_type: NC_SHORT,
                data: [1i16, -1, 3, 4]
                    .iter()
                    .flat_map(|x| x.to_be_bytes())
                    .collect(),
            },
            NcVar {
                name: "scale",
                dimids: vec![],
                attrs: vec![],
                nc_type: NC_DOUBLE,
                data: 0.5f64.to_be_bytes().to_vec(),
            },
        ],
    )
}

fn source_reader() -> (Box<dyn Reader>, DynSource) {
    let src: DynSource = Arc::new(MemSource::new("test.nc", source_bytes()));
    (arco_formats::open(src.clone()).unwrap(), src)
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn open_file(rel: &str) -> Box<dyn Reader> {
    let path = repo().join(rel);
    let src = arco_storage::open(path.to_str().unwrap(), &OpenOptions::default()).unwrap();
    arco_formats::open(src).unwrap()
}

// ---------------------------------------------------------------------------
// Zarr v3 by hand: one chunk per array, the `bytes` codec, little endian.

struct HandArray {
    dims: Vec<String>,
    shape: Vec<u64>,
    data_type: &'static str,
    attributes: Map<String, Value>,
    values: Values,
}

struct HandZarr {
    root_attributes: Map<String, Value>,
    arrays: Vec<(String, HandArray)>,
}

fn float_json(x: f64) -> Value {
    if x.is_nan() {
        json!("NaN")
    } else if x.is_infinite() {
        json!(if x > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        json!(x)
    }
}

fn attr_json(v: &AttrValue) -> Value {
    let items: Vec<Value> = match v {
        AttrValue::Text(t) => return json!(t),
        AttrValue::Array(Values::I16(x)) => x.iter().map(|n| json!(n)).collect(),
        AttrValue::Array(Values::I32(x)) => x.iter().map(|n| json!(n)).collect(),
        AttrValue::Array(Values::F32(x)) => x.iter().map(|n| float_json(f64::from(*n))).collect(),
        AttrValue::Array(Values::F64(x)) => x.iter().map(|n| float_json(*n)).collect(),
        other => panic!("attribute value {other:?} not supported by the hand writer"),
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

fn le_bytes(v: &Values) -> Vec<u8> {
    match v {
        Values::I16(x) => x.iter().flat_map(|n| n.to_le_bytes()).collect(),
        Values::I32(x) => x.iter().flat_map(|n| n.to_le_bytes()).collect(),
        Values::F32(x) => x.iter().flat_map(|n| n.to_le_bytes()).collect(),
        Values::F64(x) => x.iter().flat_map(|n| n.to_le_bytes()).collect(),
        other => panic!("values {other:?} not supported by the hand writer"),
    }
}

impl HandZarr {
    /// Every variable of `reader`, values and attributes copied faithfully.
    fn copy_of(reader: &dyn Reader) -> Self {
        let ds = reader.dataset();
        let arrays = ds
            .root
            .variables
            .iter()
            .map(|v| {
                let data_type = match v.dtype {
                    DType::I16 => "int16",
                    DType::I32 => "int32",
                    DType::F32 => "float32",
                    DType::F64 => "float64",
                    ref other => panic!("{other} not supported by the hand writer"),
                };
                let values = reader
                    .read(&v.path, &Selection::all(&v.shape))
                    .unwrap()
                    .values;
                (
                    v.path.clone(),
                    HandArray {
                        dims: v.dims.clone(),
                        shape: v.shape.clone(),
                        data_type,
                        attributes: attrs_json(&v.attributes),
                        values,
                    },
                )
            })
            .collect();
        HandZarr {
            root_attributes: attrs_json(&ds.root.attributes),
            arrays,
        }
    }

    fn array(&mut self, path: &str) -> &mut HandArray {
        &mut self.arrays.iter_mut().find(|(p, _)| p == path).unwrap().1
    }

    fn remove(&mut self, path: &str) {
        self.arrays.retain(|(p, _)| p != path);
    }

    fn write(&self, dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        let root =
            json!({"zarr_format": 3, "node_type": "group", "attributes": self.root_attributes});
        std::fs::write(dir.join("zarr.json"), root.to_string()).unwrap();
        for (path, a) in &self.arrays {
            let adir = dir.join(path.trim_start_matches('/'));
            std::fs::create_dir_all(&adir).unwrap();
            let chunk: Vec<u64> = a.shape.iter().map(|&n| n.max(1)).collect();
            let meta = json!({
                "zarr_format": 3,
                "node_type": "array",
                "shape": a.shape,
                "data_type": a.data_type,
                "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": chunk}},
                "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
                "fill_value": 0,
                "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
                "attributes": a.attributes,
                "dimension_names": a.dims,
            });
            std::fs::write(adir.join("zarr.json"), meta.to_string()).unwrap();
            // The one chunk: `c/0/0` (or `c` for a scalar).
            let mut key = adir.join("c");
            if !a.shape.is_empty() {
                std::fs::create_dir_all(&key).unwrap();
                for _ in 0..a.shape.len() - 1 {
                    key = key.join("0");
                    std::fs::create_dir_all(&key).unwrap();
                }
                key = key.join("0");
            }
            std::fs::write(key, le_bytes(&a.values)).unwrap();
        }
    }
}

fn temp_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("arco-verify-{name}-"))
        .tempdir()
        .unwrap()
}

fn run(reader: &dyn Reader, dest: &Path, options: &VerifyOptions) -> VerifyReport {
    let view = DestView::open_zarr(dest.to_str().unwrap(), &OpenOptions::default()).unwrap();
    verify(reader, &view, options).unwrap()
}

fn explain(r: &VerifyReport) -> String {
    serde_json::to_string_pretty(r).unwrap()
}

// ---------------------------------------------------------------------------
// Hand-made Zarr through arco_zarr's reader.

#[test]
fn an_identical_copy_verifies_with_every_value_counted() {
    let (reader, _) = source_reader();
    let dir = temp_dir("identical");
    HandZarr::copy_of(reader.as_ref()).write(dir.path());
    let r = run(reader.as_ref(), dir.path(), &VerifyOptions::default());
    assert!(r.ok, "{}", explain(&r));
    assert_eq!(r.variables_checked, 4);
    assert_eq!(r.elements_checked, 12 + 3 + 4 + 1);
    assert_eq!(r.difference_count, 0);
    assert!(r.differences.is_empty() && r.missing.is_empty() && r.extra.is_empty());
    // 3 global + 3 + 1 + 1 variable attributes.
    assert_eq!(r.attributes_checked, 8);
}

#[test]
fn one_altered_value_is_one_difference_naming_the_variable_index_and_both_values() {
    let (reader, _) = source_reader();
    let dir = temp_dir("altered");
    let mut z = HandZarr::copy_of(reader.as_ref());
    let Values::F32(t) = &mut z.array("/temp").values else {
        panic!("temp is float32")
    };
    t[3 + 2] = 280.5; // [1, 2]: 280.25 in the source
    z.write(dir.path());
    let r = run(reader.as_ref(), dir.path(), &VerifyOptions::default());
    assert!(!r.ok);
    assert_eq!(r.difference_count, 1, "{}", explain(&r));
    assert_eq!(
        r.differences,
        vec![Difference::Value {
            variable: "/temp".into(),
            index: vec![1, 2],
            source: json!(280.25),
            destination: json!(280.5),
        }]
    );
    let per_var = r.variables.iter().find(|v| v.variable == "/temp").unwrap();
    assert_eq!((per_var.elements, per_var.value_differences), (12, 1));
    assert_eq!(
        r.differences[0].to_string(),
        "/temp[1, 2]: source 280.25, destination 280.5"
    );
}

#[test]
fn an_altered_integer_in_small_blocks_keeps_its_full_index() {
    // A tiny memory budget compares in many blocks; the index is still global.
    let reader = open_file("tests/data/real/netcdf3/sub.nc");
    let dir = temp_dir("blocks");
    let mut z = HandZarr::copy_of(reader.as_ref());
    let Values::I16(u) = &mut z.array("/u").values else {
        panic!("u is int16")
    };
    // u(time=10, level=2, latitude=9, longitude=9) at [7, 1, 4, 6].
    let i = ((7 * 2 + 1) * 9 + 4) * 9 + 6;
    let before = u[i];
    u[i] = before.wrapping_add(1);
    z.write(dir.path());
    let options = VerifyOptions {
        memory_bytes: 1,
        ..VerifyOptions::default()
    };
    let r = run(reader.as_ref(), dir.path(), &options);
    assert_eq!(r.difference_count, 1, "{}", explain(&r));
    assert_eq!(
        r.differences[0],
        Difference::Value {
            variable: "/u".into(),
            index: vec![7, 1, 4, 6],
            source: json!(before),
            destination: json!(before.wrapping_add(1)),
        }
    );
    assert_eq!(r.elements_checked, 9 + 2 + 9 + 10 + 1620 + 1620);
}

#[test]
fn every_differing_value_is_counted_but_the_list_is_capped() {
    let reader = open_file("tests/data/real/netcdf3/sub.nc");
    let dir = temp_dir("capped");
    let mut z = HandZarr::copy_of(reader.as_ref());
    let Values::I16(v) = &mut z.array("/v").values else {
        panic!("v is int16")
    };
    for x in v.iter_mut().skip(100).take(30) {
        *x = x.wrapping_sub(7);
    }
    z.write(dir.path());
    let options = VerifyOptions {
        max_differences: 5,
        memory_bytes: 1,
        ..VerifyOptions::default()
    };
    let r = run(reader.as_ref(), dir.path(), &options);
    assert_eq!(r.difference_count, 30);
    assert_eq!(r.differences.len(), 5);
    // The first five in C order: flat 100..105 of (10, 2, 9, 9).
    let firsts: Vec<Vec<u64>> = r
        .differences
        .iter()
        .map(|d| match d {
            Difference::Value { index, .. } => index.clone(),
            other => panic!("{other}"),
        })
        .collect();
    assert_eq!(
        firsts,
        vec![
            vec![0, 1, 2, 1],
            vec![0, 1, 2, 2],
            vec![0, 1, 2, 3],
            vec![0, 1, 2, 4],
            vec![0, 1, 2, 5]
        ]
    );
    assert!(
        r.notes.iter().any(|n| n.contains("/v: 30 values differ")),
        "{:?}",
        r.notes
    );
}

#[test]
fn a_missing_variable_is_listed_as_missing() {
    let (reader, _) = source_reader();
    let dir = temp_dir("missing");
    let mut z = HandZarr::copy_of(reader.as_ref());
    z.remove("/count");
    z.write(dir.path());
    let r = run(reader.as_ref(), dir.path(), &VerifyOptions::default());
    assert!(!r.ok);
    assert_eq!(r.missing, vec!["/count".to_string()]);
    assert_eq!(r.difference_count, 0, "{}", explain(&r));
    assert_eq!(r.variables_checked, 4);
}

#[test]
fn an_array_only_in_the_destination_is_listed_as_extra() {
    let (reader, _) = source_reader();
    let dir = temp_dir("extra");
    let mut z = HandZarr::copy_of(reader.as_ref());
    let count = z.arrays.iter().find(|(p, _)| p == "/count").unwrap();
    let copy = HandArray {
        dims: count.1.dims.clone(),
        shape: count.1.shape.clone(),
        data_type: count.1.data_type,
        attributes: Map::new(),
        values: count.1.values.clone(),
    };
    z.arrays.push(("/stray".into(), copy));
    z.write(dir.path());
    let r = run(reader.as_ref(), dir.path(), &VerifyOptions::default());
    assert!(!r.ok);
    assert_eq!(r.extra, vec!["/stray".to_string()]);
}

#[test]
fn a_changed_attribute_names_the_variable_the_attribute_and_both_values() {
    let (reader, _) = source_reader();
    let dir = temp_dir("attribute");
    let mut z = HandZarr::copy_of(reader.as_ref());
    z.array("/temp")
        .attributes
        .insert("units".into(), json!("degC"));
    z.root_attributes.insert("ratio".into(), json!(0.10000001));
    z.write(dir.path());
    let r = run(reader.as_ref(), dir.path(), &VerifyOptions::default());
    assert!(!r.ok);
    assert_eq!(r.difference_count, 2, "{}", explain(&r));
    assert!(r.differences.contains(&Difference::Attribute {
        path: "/temp".into(),
        attribute: "units".into(),
        source: Some(json!("K")),
        destination: Some(json!("degC")),
    }));
    assert!(r.differences.iter().any(|d| matches!(
        d,
        Difference::Attribute { path, attribute, .. } if path == "/" && attribute == "ratio"
    )));
}

#[test]
fn a_missing_or_extra_attribute_is_a_difference_but_arco_provenance_is_not() {
    let (reader, _) = source_reader();
    let dir = temp_dir("attr-missing");
    let mut z = HandZarr::copy_of(reader.as_ref());
    z.array("/count").attributes.remove("long_name");
    z.array("/flag")
        .attributes
        .insert("comment".into(), json!("new"));
    z.root_attributes.insert(
        "arco:provenance".into(),
        json!({"arco_version": "0.1.0", "inputs": []}),
    );
    z.write(dir.path());
    let r = run(reader.as_ref(), dir.path(), &VerifyOptions::default());
    assert_eq!(r.difference_count, 2, "{}", explain(&r));
    assert!(r.differences.contains(&Difference::Attribute {
        path: "/count".into(),
        attribute: "long_name".into(),
        source: Some(json!("a count")),
        destination: None,
    }));
    assert!(r.differences.contains(&Difference::Attribute {
        path: "/flag".into(),
        attribute: "comment".into(),
        source: None,
        destination: Some(json!("new")),
    }));
}

#[test]
fn nan_equals_nan_in_values_and_attributes() {
    // temp holds a NaN and its _FillValue is NaN (written as "NaN" in JSON).
    let (reader, _) = source_reader();
    let dir = temp_dir("nan");
    let z = HandZarr::copy_of(reader.as_ref());
    assert_eq!(z.arrays[0].1.attributes["_FillValue"], json!("NaN"));
    z.write(dir.path());
    let r = run(reader.as_ref(), dir.path(), &VerifyOptions::default());
    assert!(r.ok, "{}", explain(&r));
}

#[test]
fn nan_against_a_number_is_a_difference_shown_as_the_string_nan() {
    let (reader, _) = source_reader();
    let dir = temp_dir("nan-differs");
    let mut z = HandZarr::copy_of(reader.as_ref());
    let Values::F32(t) = &mut z.array("/temp").values else {
        panic!("float32")
    };
    t[3] = 0.0; // [1, 0] is NaN in the source
    t[7] = f32::NAN; // [2, 1] is +Infinity in the source
    z.write(dir.path());
    let r = run(reader.as_ref(), dir.path(), &VerifyOptions::default());
    assert_eq!(r.difference_count, 2, "{}", explain(&r));
    assert_eq!(
        r.differences,
        vec![
            Difference::Value {
                variable: "/temp".into(),
                index: vec![1, 0],
                source: json!("NaN"),
                destination: json!(0.0),
            },
            Difference::Value {
                variable: "/temp".into(),
                index: vec![2, 1],
                source: json!("Infinity"),
                destination: json!("NaN"),
            },
        ]
    );
}

#[test]
fn negative_zero_against_zero_is_equal_but_noted() {
    let (reader, _) = source_reader();
    let dir = temp_dir("zero");
    let mut z = HandZarr::copy_of(reader.as_ref());
    let Values::F32(t) = &mut z.array("/temp").values else {
        panic!("float32")
    };
    t[2] = -0.0; // [0, 2] is 0.0 in the source
    z.write(dir.path());
    let r = run(reader.as_ref(), dir.path(), &VerifyOptions::default());
    assert!(r.ok, "{}", explain(&r));
    let temp = r.variables.iter().find(|v| v.variable == "/temp").unwrap();
    assert_eq!(temp.signed_zeros, 1);
    assert!(r.notes.iter().any(|n| n.contains("-0.0")), "{:?}", r.notes);
}

#[test]
fn a_different_dtype_shape_or_dimension_is_reported() {
    let (reader, _) = source_reader();
    let dir = temp_dir("structure");
    let mut z = HandZarr::copy_of(reader.as_ref());
    // count as float64 with equal values: a dtype difference, values equal.
    let count = z.array("/count");
    count.data_type = "float64";
    count.values = Values::F64(vec![7.0, -8.0, f64::from(i32::MAX)]);
    // flag with a renamed dimension.
    z.array("/flag").dims = vec!["t".into()];
    // scale with another shape.
    let scale = z.array("/scale");
    scale.shape = vec![1];
    scale.dims = vec!["one".into()];
    z.write(dir.path());
    let r = run(reader.as_ref(), dir.path(), &VerifyOptions::default());
    assert!(!r.ok);
    assert!(r.differences.contains(&Difference::Dtype {
        variable: "/count".into(),
        source: "int32".into(),
        destination: "float64".into(),
    }));
    assert!(r.differences.contains(&Difference::Dimensions {
        variable: "/flag".into(),
        source: vec!["time".into()],
        destination: vec!["t".into()],
    }));
    assert!(r.differences.contains(&Difference::Shape {
        variable: "/scale".into(),
        source: vec![],
        destination: vec![1],
    }));
    // No value differences: count's values are equal as numbers.
    assert!(!r
        .differences
        .iter()
        .any(|d| matches!(d, Difference::Value { .. })));
}

#[test]
fn a_missing_chunk_reads_as_fill_and_differs() {
    let (reader, _) = source_reader();
    let dir = temp_dir("chunk");
    HandZarr::copy_of(reader.as_ref()).write(dir.path());
    std::fs::remove_file(dir.path().join("count/c/0")).unwrap();
    let r = run(reader.as_ref(), dir.path(), &VerifyOptions::default());
    assert_eq!(r.difference_count, 3, "{}", explain(&r));
    assert!(r.differences.contains(&Difference::Value {
        variable: "/count".into(),
        index: vec![1],
        source: json!(-8),
        destination: json!(0),
    }));
}

#[test]
fn a_corrupt_chunk_is_an_unreadable_block_not_an_abort() {
    let (reader, _) = source_reader();
    let dir = temp_dir("corrupt");
    HandZarr::copy_of(reader.as_ref()).write(dir.path());
    std::fs::write(dir.path().join("count/c/0"), [1u8, 2, 3]).unwrap();
    let r = run(reader.as_ref(), dir.path(), &VerifyOptions::default());
    assert!(!r.ok);
    assert_eq!(r.difference_count, 1, "{}", explain(&r));
    assert!(matches!(
        &r.differences[0],
        Difference::Unreadable { variable, side, .. }
            if variable == "/count" && *side == arco_engine::verify::Side::Destination
    ));
    // The other variables were still compared.
    assert_eq!(r.elements_checked, 12 + 4 + 1);
}

#[test]
fn the_report_serializes_to_json_with_kinds() {
    let (reader, _) = source_reader();
    let dir = temp_dir("json");
    let mut z = HandZarr::copy_of(reader.as_ref());
    let Values::I16(f) = &mut z.array("/flag").values else {
        panic!("int16")
    };
    f[3] = 40;
    z.write(dir.path());
    let r = run(reader.as_ref(), dir.path(), &VerifyOptions::default());
    let j = serde_json::to_value(&r).unwrap();
    assert_eq!(j["ok"], false);
    assert_eq!(j["difference_count"], 1);
    assert_eq!(
        j["differences"][0],
        json!({"kind": "value", "variable": "/flag", "index": [3], "source": 4, "destination": 40})
    );
    assert_eq!(j["variables_checked"], 4);
    assert!(j["missing"].as_array().unwrap().is_empty());
}

// ---------------------------------------------------------------------------
// Freshness against the recorded provenance.

fn with_provenance(dir: &Path, reader: &dyn Reader, inputs: Value) {
    let mut z = HandZarr::copy_of(reader);
    z.root_attributes.insert(
        "arco:provenance".into(),
        json!({"arco_version": "0.1.0", "inputs": inputs}),
    );
    z.write(dir);
}

#[test]
fn a_source_whose_size_changed_since_conversion_is_reported() {
    let (reader, src) = source_reader();
    let dir = temp_dir("fresh-size");
    with_provenance(
        dir.path(),
        reader.as_ref(),
        json!([{"location": "test.nc", "size": src.len() + 4, "sha256": "00"}]),
    );
    let options = VerifyOptions {
        sources: vec![src.clone()],
        ..VerifyOptions::default()
    };
    let r = run(reader.as_ref(), dir.path(), &options);
    assert!(!r.ok);
    assert_eq!(r.difference_count, 0);
    assert_eq!(r.source_changes.len(), 1, "{}", explain(&r));
    assert!(r.source_changes[0]
        .to_string()
        .contains("source changed since conversion"));
    assert!(r.source_changes[0].message.contains("size"));
}

#[test]
fn a_sources_digest_is_compared_only_with_checksum() {
    let (reader, src) = source_reader();
    let good = arco_engine::verify::sha256_hex(&src).unwrap();
    let dir = temp_dir("fresh-sha");
    with_provenance(
        dir.path(),
        reader.as_ref(),
        json!([{"location": "/elsewhere/test.nc", "size": src.len(), "sha256": "ff".repeat(32)}]),
    );
    let mut options = VerifyOptions {
        sources: vec![src.clone()],
        ..VerifyOptions::default()
    };
    let r = run(reader.as_ref(), dir.path(), &options);
    assert!(
        r.ok,
        "sizes agree and the digest is not read: {}",
        explain(&r)
    );
    options.checksum = true;
    let r = run(reader.as_ref(), dir.path(), &options);
    assert!(!r.ok);
    assert!(
        r.source_changes[0].message.contains("SHA-256"),
        "{}",
        explain(&r)
    );

    let dir = temp_dir("fresh-ok");
    with_provenance(
        dir.path(),
        reader.as_ref(),
        json!([{"location": "test.nc", "size": src.len(), "sha256": good}]),
    );
    let r = run(reader.as_ref(), dir.path(), &options);
    assert!(r.ok, "{}", explain(&r));
}

// ---------------------------------------------------------------------------
// Destinations written through arco_zarr's writer: every type the fixtures
// hold (char, scalars, records, compounds, enums, strings).

/// Write every variable of `reader` through `arco_zarr`, one array per field
/// for compounds, with the same fidelity rules as `arco convert`.
fn write_through_arco_zarr(reader: &dyn Reader, dir: &Path) {
    use arco_zarr::{array_spec_for, attributes_json, default_compression, GroupSpec, ZarrFormat};
    let store = arco_zarr::ZarrStore::create(
        dir.to_str().unwrap(),
        &OpenOptions::default(),
        ZarrFormat::V3,
    )
    .unwrap();
    fn groups(store: &arco_zarr::ZarrStore, g: &Group) {
        store
            .create_group(&GroupSpec {
                path: g.path.clone(),
                attributes: attributes_json(&g.attributes),
            })
            .unwrap();
        for c in &g.groups {
            groups(store, c);
        }
    }
    let ds = reader.dataset();
    groups(&store, &ds.root);
    for var in ds.root.all_variables() {
        let data = reader.read(&var.path, &Selection::all(&var.shape)).unwrap();
        let chunk: Vec<u64> = var.shape.iter().map(|&n| n.clamp(1, 5)).collect();
        match (&var.dtype, &data.values) {
            (DType::Compound { fields, .. }, Values::Compound(cols)) => {
                store
                    .create_group(&GroupSpec {
                        path: var.path.clone(),
                        attributes: attributes_json(&var.attributes),
                    })
                    .unwrap();
                for f in fields {
                    let mut fv = var.clone();
                    fv.path = format!("{}/{}", var.path, f.name);
                    fv.dtype = f.dtype.clone();
                    fv.attributes.clear();
                    let spec =
                        array_spec_for(&fv, chunk.clone(), None, default_compression(&f.dtype));
                    let col = cols.iter().find(|(n, _)| n == &f.name).unwrap().1.clone();
                    let arr = store.create_array(&spec).unwrap();
                    let nd = NdArray {
                        shape: data.shape.clone(),
                        values: col,
                    };
                    arr.write_region(&vec![0; var.shape.len()], &nd).unwrap();
                }
            }
            _ => {
                let spec = array_spec_for(var, chunk, None, default_compression(&var.dtype));
                let arr = store.create_array(&spec).unwrap();
                if var.element_count() > 0 {
                    arr.write_region(&vec![0; var.shape.len()], &data).unwrap();
                }
            }
        }
    }
}

#[test]
fn a_netcdf3_fixture_written_through_arco_zarr_verifies_including_chars_and_records() {
    let reader = open_file("tests/data/fixtures/nc3_classic.nc");
    let dir = temp_dir("arco-zarr-nc3");
    write_through_arco_zarr(reader.as_ref(), dir.path());
    let r = run(reader.as_ref(), dir.path(), &VerifyOptions::default());
    assert!(r.ok, "{}", explain(&r));
    let expected: u64 = reader
        .dataset()
        .root
        .all_variables()
        .iter()
        .map(|v| v.element_count())
        .sum();
    assert_eq!(r.elements_checked, expected);
}

#[test]
fn a_compound_dataset_verifies_field_by_field_and_a_changed_field_is_named() {
    let reader = open_file("tests/data/fixtures/h5_types.h5");
    let dir = temp_dir("arco-zarr-compound");
    write_through_arco_zarr(reader.as_ref(), dir.path());
    let r = run(reader.as_ref(), dir.path(), &VerifyOptions::default());
    assert!(r.ok, "{}", explain(&r));
    let events = r
        .variables
        .iter()
        .find(|v| v.variable == "/Events")
        .unwrap();
    assert_eq!(
        events.arrays,
        vec!["/Events/time", "/Events/mean", "/Events/flag"]
    );

    // Change one field value through the store.
    let store =
        arco_zarr::ZarrStore::open(dir.path().to_str().unwrap(), &OpenOptions::default()).unwrap();
    let arr = store.array("/Events/mean").unwrap();
    let old = store
        .read("/Events/mean", &Selection::all(&arr.spec().shape))
        .unwrap();
    let Values::F32(mut v) = old.values else {
        panic!("mean is float32")
    };
    v[0] += 1.0;
    let n = v.len();
    // Rewrite the first chunk (5 elements, or fewer at the edge).
    let first = NdArray {
        shape: vec![n.min(5) as u64],
        values: Values::F32(v[..n.min(5)].to_vec()),
    };
    arr.write_region(&[0], &first).unwrap();
    let r = run(reader.as_ref(), dir.path(), &VerifyOptions::default());
    assert_eq!(r.difference_count, 1, "{}", explain(&r));
    assert!(matches!(
        &r.differences[0],
        Difference::Value { variable, index, .. } if variable == "/Events/mean" && index == &vec![0]
    ));
}

// ---------------------------------------------------------------------------
// Another kind of destination: the trait is all `verify` needs.

struct MemDestination {
    dataset: Dataset,
    arrays: HashMap<String, NdArray>,
}

impl ReadableDestination for MemDestination {
    fn location(&self) -> String {
        "memory".into()
    }
    fn dataset(&self) -> arco_engine::verify::Result<Dataset> {
        Ok(self.dataset.clone())
    }
    fn read(&self, path: &str, selection: &Selection) -> arco_engine::verify::Result<NdArray> {
        let all = &self.arrays[path];
        let dims = &selection.dims;
        // 1-D or 2-D selections are enough here.
        let values = match (&all.values, all.shape.as_slice()) {
            (Values::F32(v), [_, cols]) => Values::F32(
                dims[0]
                    .indices()
                    .flat_map(|r| dims[1].indices().map(move |c| v[(r * cols + c) as usize]))
                    .collect(),
            ),
            (Values::I32(v), [_]) => {
                Values::I32(dims[0].indices().map(|i| v[i as usize]).collect())
            }
            (Values::I16(v), [_]) => {
                Values::I16(dims[0].indices().map(|i| v[i as usize]).collect())
            }
            (other, _) => other.clone(),
        };
        Ok(NdArray {
            shape: selection.shape(),
            values,
        })
    }
}

#[test]
fn any_readable_destination_can_be_verified() {
    let (reader, _) = source_reader();
    let src = reader.dataset();
    let mut root = Group::new("", "/");
    root.attributes = src.root.attributes.clone();
    let mut arrays = HashMap::new();
    for v in &src.root.variables {
        root.variables.push(Variable {
            endian: Endian::Little,
            layout: StorageLayout::Chunked,
            chunk_shape: Some(v.shape.clone()),
            ..v.clone()
        });
        arrays.insert(
            v.path.clone(),
            reader.read(&v.path, &Selection::all(&v.shape)).unwrap(),
        );
    }
    let dest = MemDestination {
        dataset: Dataset {
            source: "memory".into(),
            format: "memory".into(),
            size: 0,
            root,
        },
        arrays,
    };
    let view = DestView::new(Box::new(dest)).unwrap();
    let r = verify(reader.as_ref(), &view, &VerifyOptions::default()).unwrap();
    assert!(r.ok, "{}", explain(&r));
    assert_eq!(r.destination, "memory");
}
