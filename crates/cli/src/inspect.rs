//! `arco inspect`: describe a dataset. The JSON form is documented in
//! `docs/inspect-json.md`.

use crate::output::{human_bytes, print_json};
use crate::source::{self, StorageArgs};
use arco_core::{AttrValue, Attribute, Dataset, Group, Variable};
use arco_formats::Reader;
use serde_json::{json, Map, Value};
use std::fmt::Write as _;

/// Arguments of `arco inspect`.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// File path or URL (file://, s3://, http(s)://): a file, a Zarr store, kerchunk
    /// references or an Icechunk repository (X.icechunk, optionally @branch, @tag:NAME or @snapshot:ID).
    pub src: String,
    /// Skip reading chunk indexes (faster on huge files; no chunk counts or stored bytes).
    #[arg(long)]
    pub no_chunks: bool,
    /// Report the storage requests made and bytes read.
    #[arg(long)]
    pub stats: bool,
}

/// Run `arco inspect`.
pub fn run(args: &InspectArgs, storage: &StorageArgs, json: bool) -> anyhow::Result<()> {
    let opened = source::open(&args.src, storage)?;
    let reader = opened.reader.as_ref();
    let ds = reader.dataset();
    let stats = VarStats::collect(reader, ds, !args.no_chunks);
    let io = opened.stats();
    if json {
        let mut doc = dataset_json(ds, &stats);
        if args.stats {
            doc["io"] = json!({"requests": io.requests, "bytes": io.bytes});
        }
        print_json(&doc)
    } else {
        let mut text = String::new();
        write_dataset(&mut text, ds, &stats);
        if args.stats {
            let _ = writeln!(
                text,
                "// read {} in {} request{} ({:.2}% of the source)",
                human_bytes(io.bytes),
                io.requests,
                if io.requests == 1 { "" } else { "s" },
                100.0 * io.bytes as f64 / ds.size.max(1) as f64
            );
        }
        print!("{text}");
        Ok(())
    }
}

/// Chunk statistics per variable path.
struct VarStats {
    by_path: std::collections::HashMap<String, Result<(u64, u64), String>>,
}

impl VarStats {
    fn collect(reader: &dyn Reader, ds: &Dataset, with_chunks: bool) -> Self {
        let mut by_path = std::collections::HashMap::new();
        // Zarr chunks are objects of a store, not byte ranges of one file.
        if with_chunks && !ds.format.starts_with("zarr") {
            for v in ds.root.all_variables() {
                if v.dtype.size().is_none() {
                    continue;
                }
                let r = reader
                    .manifest(&v.path)
                    .map(|m| (m.chunks.len() as u64, m.stored_bytes()))
                    .map_err(|e| e.to_string());
                by_path.insert(v.path.clone(), r);
            }
        }
        VarStats { by_path }
    }

    fn get(&self, path: &str) -> Option<&Result<(u64, u64), String>> {
        self.by_path.get(path)
    }
}

fn attrs_json(attrs: &[Attribute]) -> (Value, Value) {
    let mut values = Map::new();
    let mut types = Map::new();
    for a in attrs {
        values.insert(
            a.name.clone(),
            serde_json::to_value(&a.value).unwrap_or(Value::Null),
        );
        types.insert(a.name.clone(), Value::String(a.dtype.name()));
    }
    (Value::Object(values), Value::Object(types))
}

fn variable_json(v: &Variable, stats: &VarStats) -> Value {
    let (attributes, attribute_types) = attrs_json(&v.attributes);
    let (chunks, stored, error) = match stats.get(&v.path) {
        Some(Ok((n, b))) => (json!(n), json!(b), Value::Null),
        Some(Err(e)) => (Value::Null, Value::Null, json!(e)),
        None => (Value::Null, Value::Null, Value::Null),
    };
    let mut obj = json!({
        "name": v.name,
        "path": v.path,
        "dims": v.dims,
        "shape": v.shape,
        "dtype": v.dtype.name(),
        "dtype_detail": v.dtype,
        "endian": v.endian,
        "layout": v.layout,
        "chunk_shape": v.chunk_shape,
        "codecs": v.codecs,
        "fill_value": v.fill_value.as_ref().map(|f| serde_json::to_value(f).unwrap_or(Value::Null)),
        "attributes": attributes,
        "attribute_types": attribute_types,
        "chunks": chunks,
        "stored_bytes": stored,
        "uncompressed_bytes": v.uncompressed_bytes(),
    });
    if !error.is_null() {
        obj["chunk_index_error"] = error;
    }
    obj
}

fn group_json(g: &Group, stats: &VarStats) -> Value {
    let (attributes, attribute_types) = attrs_json(&g.attributes);
    json!({
        "name": g.name,
        "path": g.path,
        "dimensions": g.dimensions,
        "attributes": attributes,
        "attribute_types": attribute_types,
        "variables": g.variables.iter().map(|v| variable_json(v, stats)).collect::<Vec<_>>(),
        "groups": g.groups.iter().map(|c| group_json(c, stats)).collect::<Vec<_>>(),
    })
}

fn dataset_json(ds: &Dataset, stats: &VarStats) -> Value {
    json!({
        "source": ds.source,
        "format": ds.format,
        "size": ds.size,
        "root": group_json(&ds.root, stats),
    })
}

/// ncdump-like rendering of an attribute value.
fn attr_text(v: &AttrValue) -> String {
    match v {
        AttrValue::Text(s) => format!("{s:?}"),
        AttrValue::Array(values) => match serde_json::to_value(values) {
            Ok(Value::Array(items)) => items
                .iter()
                .map(|i| match i {
                    Value::Null => "NaN".to_string(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(", "),
            Ok(other) => other.to_string(),
            Err(_) => "?".into(),
        },
    }
}

fn write_dataset(out: &mut String, ds: &Dataset, stats: &VarStats) {
    let _ = writeln!(
        out,
        "{} {} ({}) {{",
        ds.format,
        ds.source,
        human_bytes(ds.size)
    );
    write_group(out, &ds.root, stats, 0);
    let _ = writeln!(out, "}}");
}

fn write_group(out: &mut String, g: &Group, stats: &VarStats, depth: usize) {
    let pad = "  ".repeat(depth);
    if !g.dimensions.is_empty() {
        let _ = writeln!(out, "{pad}dimensions:");
        for d in &g.dimensions {
            if d.unlimited {
                let _ = writeln!(
                    out,
                    "{pad}    {} = UNLIMITED ; // ({} currently)",
                    d.name, d.size
                );
            } else {
                let _ = writeln!(out, "{pad}    {} = {} ;", d.name, d.size);
            }
        }
    }
    if !g.variables.is_empty() {
        let _ = writeln!(out, "{pad}variables:");
        for v in &g.variables {
            let _ = writeln!(
                out,
                "{pad}    {} {}({}) ;",
                v.dtype.name(),
                v.name,
                v.dims.join(", ")
            );
            let _ = writeln!(out, "{pad}        // {}", storage_line(v, stats));
            for a in &v.attributes {
                let _ = writeln!(
                    out,
                    "{pad}        {}:{} = {} ;",
                    v.name,
                    a.name,
                    attr_text(&a.value)
                );
            }
        }
    }
    if !g.attributes.is_empty() {
        let label = if g.path == "/" {
            "// global attributes:".to_string()
        } else {
            format!("// group attributes ({}):", g.path)
        };
        let _ = writeln!(out, "\n{pad}{label}");
        for a in &g.attributes {
            let _ = writeln!(out, "{pad}    :{} = {} ;", a.name, attr_text(&a.value));
        }
    }
    for child in &g.groups {
        let _ = writeln!(out, "\n{pad}group: {} {{", child.name);
        write_group(out, child, stats, depth + 1);
        let _ = writeln!(out, "{pad}}} // group {}", child.name);
    }
}

/// `chunked 1×19×15, shuffle|deflate(4), 2 chunks, 1.2 KiB stored / 2.2 KiB (1.8×)`
fn storage_line(v: &Variable, stats: &VarStats) -> String {
    let mut parts: Vec<String> = Vec::new();
    let layout = serde_json::to_value(v.layout)
        .ok()
        .and_then(|x| x.as_str().map(str::to_string))
        .unwrap_or_default();
    match &v.chunk_shape {
        Some(c) if c.is_empty() => parts.push(format!("{layout} (scalar)")),
        Some(c) => parts.push(format!(
            "{layout} {}",
            c.iter().map(u64::to_string).collect::<Vec<_>>().join("×")
        )),
        None => parts.push(layout),
    }
    if !v.codecs.is_empty() {
        parts.push(
            v.codecs
                .iter()
                .map(|c| c.label())
                .collect::<Vec<_>>()
                .join("|"),
        );
    }
    if v.endian == arco_core::Endian::Big && v.dtype.size().is_some_and(|s| s > 1) {
        parts.push("big-endian".into());
    }
    match stats.get(&v.path) {
        Some(Ok((n, stored))) => {
            parts.push(format!("{n} chunk{}", if *n == 1 { "" } else { "s" }));
            match v.uncompressed_bytes() {
                Some(raw) if *stored > 0 && *stored != raw => parts.push(format!(
                    "{} stored / {} ({:.1}×)",
                    human_bytes(*stored),
                    human_bytes(raw),
                    raw as f64 / *stored as f64
                )),
                Some(raw) => parts.push(human_bytes(raw)),
                None => {}
            }
        }
        Some(Err(e)) => parts.push(format!("chunk index unreadable: {e}")),
        None => {
            if let Some(raw) = v.uncompressed_bytes() {
                parts.push(human_bytes(raw));
            }
        }
    }
    parts.join(", ")
}
