//! Shared helpers: opening test files, an in-memory reader for synthetic
//! grids, and the peers' Python.

use arco_catalog::{describe, stac, validate, DescribeOptions, Description};
use arco_core::{
    AttrValue, Attribute, ChunkManifest, DType, Dataset, Dimension, Endian, Group, NdArray,
    Selection, StorageLayout, Values, Variable,
};
use arco_formats::Reader;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;

/// Absolute path of a file under `tests/data`.
pub fn data(rel: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data")
        .join(rel);
    std::fs::canonicalize(&p)
        .unwrap_or(p)
        .to_string_lossy()
        .into_owned()
}

pub fn open(path: &str) -> Box<dyn Reader> {
    let src = arco_storage::open(path, &Default::default()).unwrap();
    arco_formats::open(src).unwrap()
}

/// Describe a file under `tests/data`.
pub fn describe_file(rel: &str, opts: &DescribeOptions) -> (Box<dyn Reader>, Description) {
    let path = data(rel);
    let reader = open(&path);
    let d =
        describe(reader.as_ref(), &path, opts).unwrap_or_else(|e| panic!("describing {rel}: {e}"));
    (reader, d)
}

/// The item of `d` as JSON, after checking it against the schemas.
pub fn valid_item(d: &Description) -> (stac::Item, Value) {
    let item = d.item().unwrap();
    let v = serde_json::to_value(&item).unwrap();
    assert_valid(&v);
    (item, v)
}

pub fn assert_valid(v: &Value) {
    if let Err(issues) = validate::validate_value(v) {
        panic!(
            "{} is not valid STAC:\n{}\n{}",
            v["id"],
            issues
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
            serde_json::to_string_pretty(v).unwrap()
        );
    }
}

/// Stored values of a variable as f64 (no CF decoding).
pub fn raw_f64(reader: &dyn Reader, var: &str) -> Vec<f64> {
    let v = reader.dataset().variable(var).unwrap();
    reader
        .read(var, &Selection::all(&v.shape))
        .unwrap()
        .values
        .to_f64_vec()
        .unwrap()
}

pub fn min(v: &[f64]) -> f64 {
    v.iter()
        .copied()
        .filter(|x| x.is_finite())
        .fold(f64::INFINITY, f64::min)
}

pub fn max(v: &[f64]) -> f64 {
    v.iter()
        .copied()
        .filter(|x| x.is_finite())
        .fold(f64::NEG_INFINITY, f64::max)
}

pub fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

pub fn bbox(item: &stac::Item) -> [f64; 4] {
    let b = item.bbox.unwrap();
    [b.xmin(), b.ymin(), b.xmax(), b.ymax()]
}

// ---------------------------------------------------------------- in memory

/// A dataset built in memory, read back whole.
#[derive(Default)]
pub struct MemReader {
    dims: Vec<Dimension>,
    vars: Vec<Variable>,
    attrs: Vec<Attribute>,
    values: HashMap<String, Values>,
}

fn dtype_of(v: &Values) -> DType {
    match v {
        Values::I8(_) => DType::I8,
        Values::I16(_) => DType::I16,
        Values::I32(_) => DType::I32,
        Values::I64(_) => DType::I64,
        Values::U8(_) => DType::U8,
        Values::F32(_) => DType::F32,
        Values::F64(_) => DType::F64,
        Values::Str(_) => DType::String,
        other => panic!("unsupported in MemReader: {}", other.type_name()),
    }
}

pub fn text(name: &str, value: &str) -> Attribute {
    Attribute::text(name, value)
}

pub fn num(name: &str, values: &[f64]) -> Attribute {
    Attribute {
        name: name.into(),
        value: AttrValue::Array(Values::F64(values.to_vec())),
        dtype: DType::F64,
    }
}

impl MemReader {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn dim(mut self, name: &str, size: u64) -> Self {
        self.dims.push(Dimension {
            name: name.into(),
            size,
            unlimited: false,
        });
        self
    }

    pub fn global(mut self, a: Attribute) -> Self {
        self.attrs.push(a);
        self
    }

    /// A root variable on `dims` (sizes from the declared dimensions).
    pub fn var(mut self, name: &str, dims: &[&str], values: Values, attrs: Vec<Attribute>) -> Self {
        let shape: Vec<u64> = dims
            .iter()
            .map(|d| {
                self.dims
                    .iter()
                    .find(|x| x.name == *d)
                    .unwrap_or_else(|| panic!("dimension {d} not declared"))
                    .size
            })
            .collect();
        assert_eq!(
            shape.iter().product::<u64>() as usize,
            values.len(),
            "{name}: values do not fill the shape"
        );
        self.vars.push(Variable {
            name: name.into(),
            path: format!("/{name}"),
            dims: dims.iter().map(|d| d.to_string()).collect(),
            shape,
            dtype: dtype_of(&values),
            endian: Endian::Little,
            layout: StorageLayout::Contiguous,
            chunk_shape: None,
            codecs: Vec::new(),
            fill_value: None,
            attributes: attrs,
        });
        self.values.insert(format!("/{name}"), values);
        self
    }

    pub fn build(self, source: &str) -> MemDataset {
        let mut root = Group::new("", "/");
        root.dimensions = self.dims;
        root.variables = self.vars;
        root.attributes = self.attrs;
        MemDataset {
            ds: Dataset {
                source: source.into(),
                format: "netcdf4".into(),
                size: 0,
                root,
            },
            values: self.values,
        }
    }
}

pub struct MemDataset {
    ds: Dataset,
    values: HashMap<String, Values>,
}

impl Reader for MemDataset {
    fn dataset(&self) -> &Dataset {
        &self.ds
    }
    fn manifest(&self, variable: &str) -> arco_formats::Result<ChunkManifest> {
        Err(arco_core::Error::Other(format!("{variable}: in memory, no manifest")).into())
    }
    fn read(&self, variable: &str, selection: &Selection) -> arco_formats::Result<NdArray> {
        let var = self.ds.variable(variable)?;
        assert_eq!(
            selection.shape(),
            var.shape,
            "MemReader reads whole variables"
        );
        Ok(NdArray {
            shape: var.shape.clone(),
            values: self.values[&var.path].clone(),
        })
    }
}

/// Regularly spaced values.
pub fn range(start: f64, step: f64, n: usize) -> Vec<f64> {
    (0..n).map(|i| start + step * i as f64).collect()
}

// ---------------------------------------------------------------- peers

/// The peers' Python, or `None` (after saying so) when the venv is missing,
/// unless `ARCO_REQUIRE_PEERS=1`.
pub fn python() -> Option<PathBuf> {
    arco_testkit::peers_python(&["pystac", "xarray"])
}

/// Run a Python script with arguments; its stdout parsed as JSON.
pub fn run_python(py: &PathBuf, script: &str, args: &[&str]) -> Value {
    // The eccodes wheel's bundled libraries clash with pyproj's at exit
    // (see scripts/setup-peers.sh); use the system ecCodes.
    let out = std::process::Command::new(py)
        .env("FINDLIBS_DISABLE_PACKAGE", "yes")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "python printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}
