//! Zarr metadata documents: what arco writes (`zarr.json`, or `.zarray` +
//! `.zattrs` + `.zgroup`) and how it reads foreign ones back.
//!
//! zarrs always sees Zarr v3 metadata: for a v2 store arco hands it the v3
//! equivalent (the `v2` chunk key encoding, the same codecs), so one code
//! path encodes and decodes chunks, and types zarrs reads only in v3 (such
//! as `|S8`, numpy's byte strings) work in both formats.

use crate::encoding::{float_json, v2_fill_value};
use crate::{ArraySpec, Compression};
use arco_core::{CodecSpec, DType};
use serde_json::{json, Map, Value};

/// Metadata of one array, ready for zarrs and for arco's data model.
#[derive(Debug, Clone)]
pub(crate) struct ArrayMeta {
    /// The v3 document given to zarrs (v2 stores: the equivalent).
    pub zarrs_v3: Value,
    /// Element type as arco models it.
    pub dtype: DType,
    /// Shape.
    pub shape: Vec<u64>,
    /// Chunk shape (inner chunks when sharded).
    pub chunk_shape: Vec<u64>,
    /// Shard shape when sharded.
    pub shard_shape: Option<Vec<u64>>,
    /// Dimension names (`dim_N` where the store has none).
    pub dims: Vec<String>,
    /// User attributes, with `_FillValue` as xarray would see it.
    pub attributes: Map<String, Value>,
    /// Codecs in arco's terms, where they map.
    pub codecs: Vec<CodecSpec>,
    /// Compression as arco would write it again, where it maps.
    pub compression: Compression,
}

fn err(message: impl Into<String>) -> String {
    message.into()
}

/// Strip a wrapping enum to its stored integer type.
pub(crate) fn storage_dtype(dtype: &DType) -> &DType {
    match dtype {
        DType::Enum { base, .. } => base.as_ref(),
        other => other,
    }
}

/// The Zarr v3 `data_type` of a stored type.
pub(crate) fn v3_data_type(dtype: &DType) -> Result<Value, String> {
    Ok(match storage_dtype(dtype) {
        DType::Bool => json!("bool"),
        DType::I8 => json!("int8"),
        DType::I16 => json!("int16"),
        DType::I32 => json!("int32"),
        DType::I64 => json!("int64"),
        DType::U8 => json!("uint8"),
        DType::U16 => json!("uint16"),
        DType::U32 => json!("uint32"),
        DType::U64 => json!("uint64"),
        DType::F32 => json!("float32"),
        DType::F64 => json!("float64"),
        DType::Char => json!({"name": crate::nbytes::NAME, "configuration": {"length_bytes": 1}}),
        DType::FixedString { size } if *size > 0 => {
            json!({"name": crate::nbytes::NAME, "configuration": {"length_bytes": size}})
        }
        DType::String => json!("string"),
        DType::Opaque { size } if *size > 0 => json!(format!("r{}", size * 8)),
        other => {
            return Err(err(format!(
                "element type {other} has no Zarr representation; \
                 compound types are written as one array per field"
            )))
        }
    })
}

/// The Zarr v2 `dtype` of a stored type.
pub(crate) fn v2_dtype(dtype: &DType) -> Result<String, String> {
    Ok(match storage_dtype(dtype) {
        DType::Bool => "|b1".into(),
        DType::I8 => "|i1".into(),
        DType::I16 => "<i2".into(),
        DType::I32 => "<i4".into(),
        DType::I64 => "<i8".into(),
        DType::U8 => "|u1".into(),
        DType::U16 => "<u2".into(),
        DType::U32 => "<u4".into(),
        DType::U64 => "<u8".into(),
        DType::F32 => "<f4".into(),
        DType::F64 => "<f8".into(),
        DType::Char => "|S1".into(),
        DType::FixedString { size } if *size > 0 => format!("|S{size}"),
        DType::String => "|O".into(),
        DType::Opaque { size } if *size > 0 => format!("|V{size}"),
        other => {
            return Err(err(format!(
                "element type {other} has no Zarr representation; \
                 compound types are written as one array per field"
            )))
        }
    })
}

/// The v3 `fill_value` for a type when the spec gives none: NaN for floats
/// (as xarray writes), otherwise zero, false or empty.
pub(crate) fn default_fill_v3(dtype: &DType) -> Value {
    match storage_dtype(dtype) {
        DType::F32 | DType::F64 => json!("NaN"),
        DType::Bool => json!(false),
        DType::Char | DType::FixedString { .. } | DType::String => json!(""),
        DType::Opaque { size } => Value::Array(vec![json!(0); *size]),
        _ => json!(0),
    }
}

fn element_size(dtype: &DType) -> Option<usize> {
    storage_dtype(dtype).size()
}

/// The array-to-bytes codec for a type, as zarr-python writes it.
fn array_to_bytes(dtype: &DType) -> Value {
    match storage_dtype(dtype) {
        DType::String => json!({"name": "vlen-utf8"}),
        d if d.is_numeric() && d.size().unwrap_or(1) > 1 => {
            json!({"name": "bytes", "configuration": {"endian": "little"}})
        }
        _ => json!({"name": "bytes"}),
    }
}

fn shuffle_of(dtype: &DType) -> bool {
    let d = storage_dtype(dtype);
    d.is_numeric() && d.size().unwrap_or(1) > 1
}

/// Bytes-to-bytes codecs (v3 names) for `compression`.
fn bytes_to_bytes_v3(compression: &Compression, dtype: &DType) -> Result<Vec<Value>, String> {
    let typesize = element_size(dtype).unwrap_or(1);
    Ok(match compression {
        Compression::None => vec![],
        Compression::Zstd { level, shuffle } => {
            let mut out = Vec::new();
            if *shuffle && typesize > 1 {
                out.push(json!({"name": "numcodecs.shuffle", "configuration": {"elementsize": typesize}}));
            }
            out.push(json!({"name": "zstd", "configuration": {"level": level, "checksum": false}}));
            out
        }
        Compression::Blosc {
            cname,
            clevel,
            shuffle,
        } => {
            check_blosc(cname, *clevel)?;
            let shuffle = if *shuffle && shuffle_of(dtype) {
                "shuffle"
            } else {
                "noshuffle"
            };
            vec![json!({"name": "blosc", "configuration": {
                "typesize": typesize, "cname": cname, "clevel": clevel,
                "shuffle": shuffle, "blocksize": 0}})]
        }
        Compression::Gzip { level } => {
            if *level > 9 {
                return Err(err(format!("gzip level {level} is out of range 0-9")));
            }
            vec![json!({"name": "gzip", "configuration": {"level": level}})]
        }
    })
}

fn check_blosc(cname: &str, clevel: u8) -> Result<(), String> {
    if !matches!(
        cname,
        "zstd" | "lz4" | "lz4hc" | "blosclz" | "zlib" | "snappy"
    ) {
        return Err(err(format!(
            "blosc compressor '{cname}' is unknown; use zstd, lz4, lz4hc, blosclz, zlib or snappy"
        )));
    }
    if clevel > 9 {
        return Err(err(format!("blosc level {clevel} is out of range 0-9")));
    }
    Ok(())
}

/// The v3 `codecs` list of an array (sharded or not).
fn v3_codecs(spec: &ArraySpec) -> Result<Vec<Value>, String> {
    let mut inner = vec![array_to_bytes(&spec.dtype)];
    inner.extend(bytes_to_bytes_v3(&spec.compression, &spec.dtype)?);
    Ok(match &spec.shard_shape {
        None => inner,
        Some(_) => vec![json!({"name": "sharding_indexed", "configuration": {
            "chunk_shape": spec.chunk_shape,
            "codecs": inner,
            "index_codecs": [
                {"name": "bytes", "configuration": {"endian": "little"}},
                {"name": "crc32c"}
            ],
            "index_location": "end"
        }})],
    })
}

/// Check shapes, chunk shapes and names of a spec.
pub(crate) fn validate(spec: &ArraySpec) -> Result<(), String> {
    let n = spec.shape.len();
    if spec.chunk_shape.len() != n {
        return Err(err(format!(
            "chunk shape {:?} has {} dimensions, the array has {n}",
            spec.chunk_shape,
            spec.chunk_shape.len()
        )));
    }
    if spec.chunk_shape.contains(&0) {
        return Err(err(format!(
            "chunk shape {:?} has a zero extent",
            spec.chunk_shape
        )));
    }
    if spec.dimension_names.len() != n {
        return Err(err(format!(
            "{} dimension names {:?} for an array of {n} dimensions",
            spec.dimension_names.len(),
            spec.dimension_names
        )));
    }
    if let Some(shard) = &spec.shard_shape {
        if shard.len() != n
            || shard
                .iter()
                .zip(&spec.chunk_shape)
                .any(|(s, c)| *s == 0 || !s.is_multiple_of(*c))
        {
            return Err(err(format!(
                "shard shape {shard:?} is not a multiple of chunk shape {:?}",
                spec.chunk_shape
            )));
        }
    }
    Ok(())
}

/// The grid zarrs writes by: the shard shape when sharded.
fn grid_shape(spec: &ArraySpec) -> &[u64] {
    spec.shard_shape.as_deref().unwrap_or(&spec.chunk_shape)
}

/// The `zarr.json` of an array.
pub(crate) fn array_v3(spec: &ArraySpec) -> Result<Value, String> {
    validate(spec)?;
    let fill = spec
        .fill_value
        .clone()
        .unwrap_or_else(|| default_fill_v3(&spec.dtype));
    Ok(json!({
        "shape": spec.shape,
        "data_type": v3_data_type(&spec.dtype)?,
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": grid_shape(spec)}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": fill,
        "codecs": v3_codecs(spec)?,
        "attributes": spec.attributes,
        "dimension_names": spec.dimension_names,
        "zarr_format": 3,
        "node_type": "array",
        "storage_transformers": [],
    }))
}

/// The v2 documents of an array: `.zarray`, `.zattrs`, and the v3
/// equivalent given to zarrs. Also whether the v2 `fill_value` is `null`.
pub(crate) fn array_v2(spec: &ArraySpec) -> Result<(Value, Value, Value, bool), String> {
    validate(spec)?;
    if spec.shard_shape.is_some() {
        return Err(err(
            "Zarr v2 has no sharding; write Zarr v3 or drop the shard shape",
        ));
    }
    let mut attrs = spec.attributes.clone();
    // xarray reads a v2 array's fill_value as _FillValue.
    let fill = match attrs.remove("_FillValue") {
        Some(v) => v2_fill_value(&v, &spec.dtype),
        None => spec.fill_value.clone().unwrap_or(Value::Null),
    };
    attrs.insert("_ARRAY_DIMENSIONS".into(), json!(spec.dimension_names));
    let (compressor, filters) = v2_compressor(&spec.compression, &spec.dtype)?;
    let zarray = json!({
        "shape": spec.shape,
        "chunks": spec.chunk_shape,
        "dtype": v2_dtype(&spec.dtype)?,
        "fill_value": fill,
        "order": "C",
        "filters": filters,
        "dimension_separator": ".",
        "compressor": compressor,
        "zarr_format": 2,
    });
    let null_fill = fill.is_null();
    let internal = json!({
        "shape": spec.shape,
        "data_type": v3_data_type(&spec.dtype)?,
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": spec.chunk_shape}},
        "chunk_key_encoding": {"name": "v2", "configuration": {"separator": "."}},
        "fill_value": internal_fill(&fill, &spec.dtype),
        "codecs": v3_codecs(spec)?,
        "zarr_format": 3,
        "node_type": "array",
    });
    Ok((zarray, Value::Object(attrs), internal, null_fill))
}

/// A v2 fill value as zarrs wants it in v3 form (`null` means the default).
fn internal_fill(fill: &Value, dtype: &DType) -> Value {
    match fill {
        Value::Null => match storage_dtype(dtype) {
            DType::F32 | DType::F64 => json!(0.0),
            _ => default_fill_v3(dtype),
        },
        Value::Number(n) if storage_dtype(dtype) == &DType::Bool => {
            json!(n.as_f64().unwrap_or(0.0) != 0.0)
        }
        Value::Number(n) if storage_dtype(dtype).is_float() => {
            float_json(n.as_f64().unwrap_or(0.0))
        }
        other => other.clone(),
    }
}

/// The v2 `compressor` and `filters` for `compression`.
fn v2_compressor(compression: &Compression, dtype: &DType) -> Result<(Value, Value), String> {
    let typesize = element_size(dtype).unwrap_or(1);
    let mut filters = Vec::new();
    if storage_dtype(dtype) == &DType::String {
        filters.push(json!({"id": "vlen-utf8"}));
    }
    let compressor = match compression {
        Compression::None => Value::Null,
        Compression::Zstd { level, shuffle } => {
            if *shuffle && typesize > 1 {
                filters.push(json!({"id": "shuffle", "elementsize": typesize}));
            }
            json!({"id": "zstd", "level": level, "checksum": false})
        }
        Compression::Blosc {
            cname,
            clevel,
            shuffle,
        } => {
            check_blosc(cname, *clevel)?;
            let shuffle = i32::from(*shuffle && shuffle_of(dtype));
            json!({"id": "blosc", "cname": cname, "clevel": clevel, "shuffle": shuffle, "blocksize": 0})
        }
        Compression::Gzip { level } => {
            if *level > 9 {
                return Err(err(format!("gzip level {level} is out of range 0-9")));
            }
            json!({"id": "gzip", "level": level})
        }
    };
    let filters = if filters.is_empty() {
        Value::Null
    } else {
        Value::Array(filters)
    };
    Ok((compressor, filters))
}

/// The `zarr.json` of a group.
pub(crate) fn group_v3(attributes: &Map<String, Value>) -> Value {
    json!({"attributes": attributes, "zarr_format": 3, "node_type": "group"})
}

// ----------------------------------------------------------------- reading

fn as_shape(v: Option<&Value>, what: &str) -> Result<Vec<u64>, String> {
    v.and_then(Value::as_array)
        .and_then(|a| a.iter().map(Value::as_u64).collect::<Option<Vec<u64>>>())
        .ok_or_else(|| err(format!("{what} is missing or not a list of sizes")))
}

/// arco's type for a v3 `data_type`.
pub(crate) fn dtype_from_v3(dt: &Value) -> Result<DType, String> {
    let (name, config) = match dt {
        Value::String(s) => (s.as_str(), None),
        Value::Object(m) => (
            m.get("name").and_then(Value::as_str).unwrap_or_default(),
            m.get("configuration"),
        ),
        _ => ("", None),
    };
    let length = || {
        config
            .and_then(|c| c.get("length_bytes"))
            .and_then(Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
    };
    Ok(match name {
        "bool" => DType::Bool,
        "int8" => DType::I8,
        "int16" => DType::I16,
        "int32" => DType::I32,
        "int64" => DType::I64,
        "uint8" => DType::U8,
        "uint16" => DType::U16,
        "uint32" => DType::U32,
        "uint64" => DType::U64,
        "float32" => DType::F32,
        "float64" => DType::F64,
        "string" => DType::String,
        n if n == crate::nbytes::NAME => match length() {
            Some(1) => DType::Char,
            Some(size) => DType::FixedString { size },
            None => return Err(err(format!("{n} without length_bytes"))),
        },
        n if n.starts_with('r') && n[1..].parse::<usize>().is_ok_and(|b| b % 8 == 0 && b > 0) => {
            DType::Opaque {
                size: n[1..].parse::<usize>().unwrap_or(8) / 8,
            }
        }
        _ => {
            return Err(err(format!(
                "Zarr data type {dt} is not supported by arco yet"
            )))
        }
    })
}

/// arco's type and byte order for a v2 `dtype` string.
fn dtype_from_v2(dt: &Value) -> Result<(DType, bool), String> {
    let s = dt
        .as_str()
        .ok_or_else(|| err(format!("structured Zarr v2 dtype {dt} is not supported")))?;
    let big = s.starts_with('>');
    let body = s.trim_start_matches(['<', '>', '|', '=']);
    let (kind, size) = body.split_at(1.min(body.len()));
    let size: usize = size.parse().unwrap_or(0);
    let dtype = match (kind, size) {
        ("b", 1) => DType::Bool,
        ("i", 1) => DType::I8,
        ("i", 2) => DType::I16,
        ("i", 4) => DType::I32,
        ("i", 8) => DType::I64,
        ("u", 1) => DType::U8,
        ("u", 2) => DType::U16,
        ("u", 4) => DType::U32,
        ("u", 8) => DType::U64,
        ("f", 4) => DType::F32,
        ("f", 8) => DType::F64,
        ("S", 1) => DType::Char,
        ("S", n) if n > 0 => DType::FixedString { size: n },
        ("V", n) if n > 0 => DType::Opaque { size: n },
        ("O", _) => DType::String,
        _ => {
            return Err(err(format!(
                "Zarr v2 dtype '{s}' is not supported by arco yet"
            )))
        }
    };
    Ok((dtype, big))
}

fn codec_spec_v3(c: &Value) -> Option<CodecSpec> {
    let name = c.get("name")?.as_str()?;
    let conf = c.get("configuration");
    let num = |k: &str| conf.and_then(|c| c.get(k)).and_then(Value::as_i64);
    Some(match name {
        "zstd" => CodecSpec::Zstd {
            level: num("level").and_then(|l| i32::try_from(l).ok()),
        },
        "gzip" | "numcodecs.zlib" => CodecSpec::Deflate {
            level: num("level").and_then(|l| u32::try_from(l).ok()),
        },
        "numcodecs.shuffle" => CodecSpec::Shuffle {
            element_size: num("elementsize").and_then(|l| usize::try_from(l).ok())?,
        },
        "blosc" => CodecSpec::Blosc { params: vec![] },
        _ => return None,
    })
}

fn compression_from_v3(codecs: &[Value]) -> Compression {
    let mut shuffle = false;
    let mut out = Compression::None;
    for c in codecs {
        let conf = c.get("configuration");
        let num = |k: &str| conf.and_then(|c| c.get(k)).and_then(Value::as_i64);
        match c.get("name").and_then(Value::as_str) {
            Some("numcodecs.shuffle") => shuffle = true,
            Some("zstd") => {
                out = Compression::Zstd {
                    level: num("level")
                        .and_then(|l| i32::try_from(l).ok())
                        .unwrap_or(0),
                    shuffle,
                }
            }
            Some("gzip") => {
                out = Compression::Gzip {
                    level: num("level")
                        .and_then(|l| u32::try_from(l).ok())
                        .unwrap_or(6),
                }
            }
            Some("blosc") => {
                out = Compression::Blosc {
                    cname: conf
                        .and_then(|c| c.get("cname"))
                        .and_then(Value::as_str)
                        .unwrap_or("zstd")
                        .to_string(),
                    clevel: num("clevel")
                        .and_then(|l| u8::try_from(l).ok())
                        .unwrap_or(5),
                    shuffle: conf.and_then(|c| c.get("shuffle")).and_then(Value::as_str)
                        != Some("noshuffle"),
                }
            }
            _ => {}
        }
    }
    out
}

/// Read a v3 array document.
pub(crate) fn read_array_v3(doc: &Value) -> Result<ArrayMeta, String> {
    let shape = as_shape(doc.get("shape"), "shape")?;
    let dtype = dtype_from_v3(doc.get("data_type").unwrap_or(&Value::Null))?;
    let grid = doc
        .pointer("/chunk_grid/configuration/chunk_shape")
        .ok_or_else(|| err("only regular chunk grids are supported"))?;
    let grid = as_shape(Some(grid), "chunk_grid.configuration.chunk_shape")?;
    let codecs: Vec<Value> = doc
        .get("codecs")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let sharding = codecs
        .iter()
        .find(|c| c.get("name").and_then(Value::as_str) == Some("sharding_indexed"));
    let (chunk_shape, shard_shape, inner) = match sharding {
        Some(s) => {
            let inner_shape = as_shape(
                s.pointer("/configuration/chunk_shape"),
                "sharding chunk_shape",
            )?;
            let inner_codecs = s
                .pointer("/configuration/codecs")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            (inner_shape, Some(grid), inner_codecs)
        }
        None => (grid, None, codecs),
    };
    let dims = match doc.get("dimension_names").and_then(Value::as_array) {
        Some(names) => names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                n.as_str()
                    .map_or_else(|| format!("dim_{i}"), str::to_string)
            })
            .collect(),
        None => (0..shape.len()).map(|i| format!("dim_{i}")).collect(),
    };
    let attributes = doc
        .get("attributes")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    Ok(ArrayMeta {
        zarrs_v3: doc.clone(),
        dtype,
        shape,
        codecs: inner.iter().filter_map(codec_spec_v3).collect(),
        compression: compression_from_v3(&inner),
        chunk_shape,
        shard_shape,
        dims,
        attributes,
    })
}

/// Read v2 `.zarray` and `.zattrs` documents; `_FillValue` is taken from
/// `fill_value` as xarray does for v2.
pub(crate) fn read_array_v2(zarray: &Value, zattrs: &Value) -> Result<ArrayMeta, String> {
    let shape = as_shape(zarray.get("shape"), "shape")?;
    let chunks = as_shape(zarray.get("chunks"), "chunks")?;
    let (dtype, big) = dtype_from_v2(zarray.get("dtype").unwrap_or(&Value::Null))?;
    if zarray.get("order").and_then(Value::as_str) == Some("F") {
        return Err(err("Zarr v2 arrays in Fortran order are not supported yet"));
    }
    let sep = zarray
        .get("dimension_separator")
        .and_then(Value::as_str)
        .unwrap_or(".");
    let mut codecs = Vec::new();
    let mut v3_filters = Vec::new();
    let mut a2b = array_to_bytes(&dtype);
    if big && dtype.size().unwrap_or(1) > 1 {
        a2b = json!({"name": "bytes", "configuration": {"endian": "big"}});
    }
    for f in zarray
        .get("filters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        match f.get("id").and_then(Value::as_str) {
            Some("vlen-utf8") => a2b = json!({"name": "vlen-utf8"}),
            Some("shuffle") => {
                let es = f.get("elementsize").and_then(Value::as_u64).unwrap_or(1);
                v3_filters.push(
                    json!({"name": "numcodecs.shuffle", "configuration": {"elementsize": es}}),
                );
                codecs.push(CodecSpec::Shuffle {
                    element_size: usize::try_from(es).unwrap_or(1),
                });
            }
            other => {
                return Err(err(format!(
                    "Zarr v2 filter {} is not supported yet",
                    other.unwrap_or("(unnamed)")
                )))
            }
        }
    }
    let had_shuffle = codecs
        .iter()
        .any(|c| matches!(c, CodecSpec::Shuffle { .. }));
    let mut compression = Compression::None;
    if let Some(c) = zarray.get("compressor").filter(|c| !c.is_null()) {
        let num = |k: &str| c.get(k).and_then(Value::as_i64);
        match c.get("id").and_then(Value::as_str) {
            Some("zstd") => {
                let level = num("level").unwrap_or(0);
                v3_filters.push(json!({"name": "zstd", "configuration": {"level": level, "checksum": c.get("checksum").and_then(Value::as_bool).unwrap_or(false)}}));
                codecs.push(CodecSpec::Zstd {
                    level: i32::try_from(level).ok(),
                });
                compression = Compression::Zstd {
                    level: i32::try_from(level).unwrap_or(0),
                    shuffle: had_shuffle,
                };
            }
            Some(id @ ("gzip" | "zlib")) => {
                let level = num("level").unwrap_or(6);
                let name = if id == "gzip" {
                    "gzip"
                } else {
                    "numcodecs.zlib"
                };
                v3_filters.push(json!({"name": name, "configuration": {"level": level}}));
                codecs.push(CodecSpec::Deflate {
                    level: u32::try_from(level).ok(),
                });
                compression = Compression::Gzip {
                    level: u32::try_from(level).unwrap_or(6),
                };
            }
            Some("blosc") => {
                let shuffle = match num("shuffle").unwrap_or(1) {
                    0 => "noshuffle",
                    2 => "bitshuffle",
                    _ => "shuffle",
                };
                let cname = c.get("cname").and_then(Value::as_str).unwrap_or("lz4");
                let clevel = num("clevel").unwrap_or(5);
                v3_filters.push(json!({"name": "blosc", "configuration": {
                    "typesize": dtype.size().unwrap_or(1), "cname": cname, "clevel": clevel,
                    "shuffle": shuffle, "blocksize": num("blocksize").unwrap_or(0)}}));
                codecs.push(CodecSpec::Blosc { params: vec![] });
                compression = Compression::Blosc {
                    cname: cname.to_string(),
                    clevel: u8::try_from(clevel).unwrap_or(5),
                    shuffle: shuffle != "noshuffle",
                };
            }
            other => {
                return Err(err(format!(
                    "Zarr v2 compressor {} is not supported yet",
                    other.unwrap_or("(unnamed)")
                )))
            }
        }
    }
    let mut all = vec![a2b];
    all.extend(v3_filters);
    let fill = zarray.get("fill_value").cloned().unwrap_or(Value::Null);
    let mut attributes = zattrs.as_object().cloned().unwrap_or_default();
    let dims: Vec<String> = match attributes.remove("_ARRAY_DIMENSIONS") {
        Some(Value::Array(names)) => names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                n.as_str()
                    .map_or_else(|| format!("dim_{i}"), str::to_string)
            })
            .collect(),
        _ => (0..shape.len()).map(|i| format!("dim_{i}")).collect(),
    };
    if !fill.is_null() {
        let attr = match storage_dtype(&dtype) {
            d if d.is_float() => {
                let x = match &fill {
                    Value::String(s) => match s.as_str() {
                        "NaN" => f64::NAN,
                        "Infinity" => f64::INFINITY,
                        "-Infinity" => f64::NEG_INFINITY,
                        _ => 0.0,
                    },
                    other => other.as_f64().unwrap_or(0.0),
                };
                crate::encoding::fill_value_attribute(
                    &arco_core::AttrValue::Array(arco_core::Values::F64(vec![x])),
                    d,
                )
                .unwrap_or(Value::Null)
            }
            _ => fill.clone(),
        };
        attributes.insert("_FillValue".into(), attr);
    }
    let internal = json!({
        "shape": shape,
        "data_type": v3_data_type(&dtype)?,
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": chunks}},
        "chunk_key_encoding": {"name": "v2", "configuration": {"separator": sep}},
        "fill_value": internal_fill(&fill, &dtype),
        "codecs": all,
        "zarr_format": 3,
        "node_type": "array",
    });
    Ok(ArrayMeta {
        zarrs_v3: internal,
        dtype,
        shape,
        chunk_shape: chunks,
        shard_shape: None,
        dims,
        attributes,
        codecs,
        compression,
    })
}

/// Replace the bare `NaN`, `Infinity` and `-Infinity` tokens that
/// zarr-python writes in attributes with strings, so strict JSON parsers
/// accept the document.
pub(crate) fn sanitize_json(text: &str) -> std::borrow::Cow<'_, str> {
    if !(text.contains("NaN") || text.contains("Infinity")) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            rest = &rest[c.len_utf8()..];
            continue;
        }
        if c == '"' {
            in_string = true;
        } else {
            let mut replaced = false;
            for token in ["-Infinity", "Infinity", "NaN"] {
                if rest.starts_with(token) {
                    out.push('"');
                    out.push_str(token);
                    out.push('"');
                    rest = &rest[token.len()..];
                    replaced = true;
                    break;
                }
            }
            if replaced {
                continue;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn bare_nan_tokens_become_strings_but_strings_are_left_alone() {
        let s = r#"{"a": [1.5, NaN, -Infinity], "b": "NaN is Infinity", "c": Infinity}"#;
        let v: Value = serde_json::from_str(&sanitize_json(s)).unwrap();
        assert_eq!(v["a"], json!([1.5, "NaN", "-Infinity"]));
        assert_eq!(v["b"], "NaN is Infinity");
        assert_eq!(v["c"], "Infinity");
    }

    #[test]
    fn v2_dtypes_map_to_arco_types() {
        assert_eq!(dtype_from_v2(&json!("<f4")).unwrap(), (DType::F32, false));
        assert_eq!(dtype_from_v2(&json!(">i2")).unwrap(), (DType::I16, true));
        assert_eq!(dtype_from_v2(&json!("|S1")).unwrap().0, DType::Char);
        assert_eq!(
            dtype_from_v2(&json!("|S8")).unwrap().0,
            DType::FixedString { size: 8 }
        );
        assert!(dtype_from_v2(&json!("<M8[ns]")).is_err());
    }
}
