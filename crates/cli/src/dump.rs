//! `arco dump`: print the values of one variable.

use crate::npy::{self, NpyData};
use crate::output::print_json;
use crate::source::{self, StorageArgs};
use anyhow::Context;
use arco_core::cf::{self, Calendar, Decoded};
use arco_core::{DType, NdArray, Selection, Values, Variable};
use serde_json::{json, Value};
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `arco dump`.
#[derive(Debug, clap::Args)]
pub struct DumpArgs {
    /// File path or URL (file://, s3://, http(s)://): a file, a Zarr store, kerchunk
    /// references or an Icechunk repository (X.icechunk, optionally @branch, @tag:NAME or @snapshot:ID).
    pub src: String,
    /// Variable name or full path (`/group/var`).
    #[arg(long = "var", value_name = "NAME")]
    pub var: String,
    /// Hyperslab, for example `time=0:10,lat=5,lon=::2` (Python slice rules).
    #[arg(long, value_name = "DIM=START:STOP[:STEP],...")]
    pub slice: Option<String>,
    /// Stored values: no CF decoding (no masking, scaling or time decoding).
    #[arg(long)]
    pub raw: bool,
    /// Write the values to this numpy .npy file instead of printing them.
    #[arg(long, value_name = "FILE")]
    pub npy: Option<PathBuf>,
}

/// Values ready for output.
pub struct Output {
    /// Result shape.
    pub shape: Vec<u64>,
    /// Dimension names of the result.
    pub dims: Vec<String>,
    /// The values.
    pub data: OutputData,
}

/// Output values: plain, or CF times.
pub enum OutputData {
    /// Numbers, strings, compound columns.
    Values(Values),
    /// Decoded times: ISO text and, where numpy can hold them, nanoseconds since 1970.
    Times {
        /// ISO 8601 text (`None` = missing).
        iso: Vec<Option<String>>,
        /// Nanoseconds since the Unix epoch, if every time fits datetime64[ns].
        unix_ns: Option<Vec<Option<i64>>>,
    },
}

/// Run `arco dump`.
pub fn run(args: &DumpArgs, storage: &StorageArgs, json: bool) -> anyhow::Result<()> {
    let opened = source::open(&args.src, storage)?;
    let reader = opened.reader.as_ref();
    let ds = reader.dataset();
    let var = ds.variable(&args.var)?;
    let selection = match &args.slice {
        Some(spec) => Selection::parse(spec, &var.path, &var.dims, &var.shape)?,
        None => Selection::all(&var.shape),
    };
    let array = reader
        .read(&var.path, &selection)
        .with_context(|| format!("reading {} from {}", var.path, args.src))?;
    let out = if args.raw {
        Output {
            shape: array.shape,
            dims: var.dims.clone(),
            data: OutputData::Values(array.values),
        }
    } else {
        let parent = match var.path.rsplit_once('/') {
            Some(("", _)) | None => "/",
            Some((parent, _)) => parent,
        };
        let var = match ds.group(parent) {
            Some(group) => cf::with_bounds_time_attributes(var, group),
            None => std::borrow::Cow::Borrowed(var),
        };
        decode(&var, array)?
    };
    if let Some(path) = &args.npy {
        let data = match &out.data {
            OutputData::Values(v) => NpyData::Values(v),
            OutputData::Times {
                unix_ns: Some(ns), ..
            } => NpyData::DateTimeNs(ns),
            OutputData::Times { unix_ns: None, .. } => anyhow::bail!(
                "{}: some times are not dates of numpy's proleptic Gregorian calendar (such as 360_day's February 30) or lie outside datetime64[ns]; use --json",
                var.path
            ),
        };
        npy::write(path, &out.shape, &data)
            .with_context(|| format!("writing {}", path.display()))?;
        if json {
            print_json(&json!({"variable": var.path, "npy": path, "shape": out.shape}))?;
        }
        return Ok(());
    }
    if json {
        print_json(&output_json(var, &out, !args.raw))
    } else {
        print_text(var, &out)
    }
}

/// CF-decode stored values: NC_CHAR rows become strings, then masking,
/// scaling and time decoding as xarray does.
pub fn decode(var: &Variable, array: NdArray) -> anyhow::Result<Output> {
    let (shape, dims, values) = if var.dtype == DType::Char && !array.shape.is_empty() {
        let width = array.shape.last().copied().unwrap_or(1).max(1) as usize;
        let strings = match &array.values {
            Values::U8(bytes) => bytes
                .chunks(width)
                .map(|row| {
                    let end = row.iter().rposition(|b| *b != 0).map_or(0, |p| p + 1);
                    String::from_utf8_lossy(&row[..end]).into_owned()
                })
                .collect(),
            _ => Vec::new(),
        };
        let mut shape = array.shape.clone();
        shape.pop();
        let mut dims = var.dims.clone();
        dims.pop();
        (shape, dims, Values::Str(strings))
    } else {
        (array.shape, var.dims.clone(), array.values)
    };
    let data = match cf::decode_variable(var, &values)? {
        Decoded::Numeric(v) => OutputData::Values(v.into_owned()),
        Decoded::Time(dates, _units) => {
            // numpy's datetime64 counts proleptic Gregorian dates: each date keeps
            // its calendar label (a noleap 2001-03-01 stays 2001-03-01); a date
            // that does not exist there (360_day's 02-30) makes .npy impossible.
            let unix_ns = dates
                .iter()
                .map(|d| match d {
                    Some(d) => d.to_unix_nanos(Calendar::ProlepticGregorian).map(Some),
                    None => Some(None),
                })
                .collect::<Option<Vec<Option<i64>>>>();
            OutputData::Times {
                iso: dates.iter().map(|d| d.map(|d| d.to_string())).collect(),
                unix_ns,
            }
        }
    };
    Ok(Output { shape, dims, data })
}

fn dtype_name(data: &OutputData) -> &'static str {
    match data {
        OutputData::Values(v) => v.type_name(),
        OutputData::Times { .. } => "datetime",
    }
}

fn output_json(var: &Variable, out: &Output, decoded: bool) -> Value {
    let values = match &out.data {
        OutputData::Values(v) => serde_json::to_value(v).unwrap_or(Value::Null),
        OutputData::Times { iso, .. } => json!(iso),
    };
    // Raw values keep the stored type's name (`S8`, `enum(int8)`, `char`);
    // decoded values are named by what they became (`float64`, `datetime`).
    let dtype = if decoded {
        dtype_name(&out.data).to_string()
    } else {
        var.dtype.name()
    };
    json!({
        "variable": var.path,
        "dims": out.dims,
        "shape": out.shape,
        "dtype": dtype,
        "decoded": decoded,
        "values": values,
    })
}

fn print_text(var: &Variable, out: &Output) -> anyhow::Result<()> {
    let items: Vec<String> = match &out.data {
        OutputData::Values(Values::Compound(cols)) => {
            let n = cols.first().map_or(0, |(_, c)| c.len());
            (0..n)
                .map(|i| {
                    let fields: Vec<String> = cols
                        .iter()
                        .map(|(name, col)| format!("{name}: {}", element_text(col, i)))
                        .collect();
                    format!("{{{}}}", fields.join(", "))
                })
                .collect()
        }
        OutputData::Values(v) => (0..v.len()).map(|i| element_text(v, i)).collect(),
        OutputData::Times { iso, .. } => iso
            .iter()
            .map(|t| t.clone().unwrap_or_else(|| "_".into()))
            .collect(),
    };
    let row = out.shape.last().copied().unwrap_or(1).max(1) as usize;
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "{} {}({}) shape {:?}:",
        dtype_name(&out.data),
        var.path,
        out.dims.join(", "),
        out.shape
    )?;
    for chunk in items.chunks(row) {
        writeln!(stdout, "  {}", chunk.join(", "))?;
    }
    Ok(())
}

fn element_text(v: &Values, i: usize) -> String {
    match v {
        Values::Str(s) => format!("{:?}", s.get(i).map(String::as_str).unwrap_or("")),
        Values::Bool(b) => b.get(i).map(|x| x.to_string()).unwrap_or_default(),
        Values::F32(x) => x
            .get(i)
            .map(|x| fmt_float(f64::from(*x)))
            .unwrap_or_default(),
        Values::F64(x) => x.get(i).map(|x| fmt_float(*x)).unwrap_or_default(),
        Values::Opaque { size, bytes } => bytes
            .chunks(*size.max(&1))
            .nth(i)
            .map(|c| c.iter().map(|b| format!("{b:02x}")).collect())
            .unwrap_or_default(),
        other => match serde_json::to_value(other) {
            Ok(Value::Array(a)) => a.get(i).map(Value::to_string).unwrap_or_default(),
            _ => String::new(),
        },
    }
}

fn fmt_float(x: f64) -> String {
    if x.is_nan() {
        "_".into()
    } else {
        format!("{x}")
    }
}
