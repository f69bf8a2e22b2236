//! Zarr v2 documents of a reference set (`.zgroup`, `.zarray`, `.zattrs`
//! with numcodecs codecs) to Zarr v3 `zarr.json` documents, the way
//! zarr-python 3 and xarray read them from an Icechunk store.
//!
//! | Zarr v2 | Zarr v3 |
//! |---|---|
//! | `dtype` `<f4`, `>i2`, `\|b1`, `\|S3`, `\|O` + `vlen-utf8` | `data_type` `float32`, `int16`, `bool`, `null_terminated_bytes` (`length_bytes` 3), `string` |
//! | byte order of `dtype` | `bytes` codec `endian` (absent for one-byte types) |
//! | `order: "F"` | a `transpose` codec before `bytes` |
//! | `filters` + `compressor` `{"id": "zlib", …}` | `{"name": "numcodecs.zlib", "configuration": {…}}` after `bytes` |
//! | `vlen-utf8` filter | the `vlen-utf8` array-to-bytes codec instead of `bytes` |
//! | `fill_value` | `fill_value` (0, `false` or `""` when v2 has none), and the `_FillValue` attribute encoded as xarray's Zarr v3 backend reads it (floats as base64 of a little-endian f64) |
//! | `_ARRAY_DIMENSIONS` attribute | `dimension_names` |

use base64::prelude::{Engine, BASE64_STANDARD};
use serde_json::{json, Map, Value};

/// numcodecs codecs that map bytes to bytes: they follow the `bytes` codec.
const BYTES_TO_BYTES: [&str; 13] = [
    "zlib",
    "gzip",
    "bz2",
    "lzma",
    "zstd",
    "blosc",
    "lz4",
    "shuffle",
    "fletcher32",
    "crc32",
    "crc32c",
    "adler32",
    "jenkins_lookup3",
];

/// The element kinds that decide fill values and codecs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Int,
    Float,
    Complex,
    /// Fixed-size byte strings (`|S<n>`).
    Bytes,
    /// Variable-length UTF-8 strings (`|O` with `vlen-utf8`).
    Text,
}

/// A Zarr v3 data type with what the codecs need to know about it.
struct DataType {
    json: Value,
    kind: Kind,
    /// `Some("little" | "big")` for multi-byte numbers.
    endian: Option<&'static str>,
}

/// The v3 data type of a v2 `dtype` (with the v2 filters, which say what an
/// object dtype holds).
fn data_type(dtype: &Value, filters: &[Value]) -> Result<DataType, String> {
    let text = dtype.as_str().ok_or_else(|| {
        format!(
            "dtype {dtype} is a structured (compound) type, which has no Zarr v3 data type \
             zarr-python reads; leave the variable out (--drop) to write the rest"
        )
    })?;
    let mut chars = text.chars();
    let order = chars.next().unwrap_or('|');
    let kind = chars.next().unwrap_or('?');
    let size_text: String = chars.collect();
    let size: usize = if kind == 'O' {
        0
    } else {
        size_text
            .parse()
            .map_err(|_| format!("dtype {text:?} is not a Zarr v2 dtype"))?
    };
    let endian = match (order, size > 1) {
        ('<', true) => Some("little"),
        ('>', true) => Some("big"),
        _ => None,
    };
    let numeric = |name: String, kind: Kind| DataType {
        json: Value::String(name),
        kind,
        endian,
    };
    Ok(match (kind, size) {
        ('b', 1) => numeric("bool".into(), Kind::Bool),
        ('i', 1 | 2 | 4 | 8) => numeric(format!("int{}", size * 8), Kind::Int),
        ('u', 1 | 2 | 4 | 8) => numeric(format!("uint{}", size * 8), Kind::Int),
        ('f', 2 | 4 | 8) => numeric(format!("float{}", size * 8), Kind::Float),
        ('c', 8 | 16) => numeric(format!("complex{}", size * 8), Kind::Complex),
        ('S', n) if n > 0 => DataType {
            json: json!({"name": "null_terminated_bytes", "configuration": {"length_bytes": n}}),
            kind: Kind::Bytes,
            endian: None,
        },
        ('O', _) if filters.iter().any(|f| codec_id(f) == Some("vlen-utf8")) => DataType {
            json: json!("string"),
            kind: Kind::Text,
            endian: None,
        },
        _ => {
            return Err(format!(
                "dtype {text:?} has no Zarr v3 data type arco writes to Icechunk; \
                 leave the variable out (--drop) to write the rest"
            ))
        }
    })
}

fn codec_id(codec: &Value) -> Option<&str> {
    codec.get("id").and_then(Value::as_str)
}

/// A numcodecs codec (`{"id": "zlib", "level": 4}`) as the Zarr v3 codec
/// zarr-python 3 registers for it (`{"name": "numcodecs.zlib",
/// "configuration": {"level": 4}}`).
pub fn v3_codec(codec: &Value) -> Result<Value, String> {
    let id = codec_id(codec).ok_or_else(|| format!("codec {codec} has no \"id\""))?;
    if !BYTES_TO_BYTES.contains(&id) {
        return Err(format!(
            "numcodecs codec {id:?} has no bytes-to-bytes Zarr v3 form arco writes to Icechunk"
        ));
    }
    let mut configuration = Map::new();
    if let Some(fields) = codec.as_object() {
        for (k, v) in fields {
            if k != "id" {
                configuration.insert(k.clone(), v.clone());
            }
        }
    }
    Ok(json!({"name": format!("numcodecs.{id}"), "configuration": configuration}))
}

/// A float's bit pattern as xarray's Zarr v3 `_FillValue` attribute holds it.
fn float_fill_attribute(value: &Value) -> Option<Value> {
    let x = match value {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => match s.as_str() {
            "NaN" => f64::NAN,
            "Infinity" => f64::INFINITY,
            "-Infinity" => f64::NEG_INFINITY,
            _ => return None,
        },
        _ => return None,
    };
    Some(Value::String(BASE64_STANDARD.encode(x.to_le_bytes())))
}

/// The v3 `fill_value` and the `_FillValue` attribute (if the v2 array had a
/// fill value) of an array of `kind`.
fn fill_values(v2_fill: &Value, kind: Kind) -> Result<(Value, Option<Value>), String> {
    if v2_fill.is_null() {
        let default = match kind {
            Kind::Bool => json!(false),
            Kind::Int => json!(0),
            Kind::Float => json!(0.0),
            Kind::Complex => json!([0.0, 0.0]),
            Kind::Bytes | Kind::Text => json!(""),
        };
        return Ok((default, None));
    }
    let bad = || format!("fill_value {v2_fill} does not fit the data type");
    Ok(match kind {
        Kind::Bool => {
            let b = v2_fill.as_bool().ok_or_else(bad)?;
            (json!(b), Some(json!(b)))
        }
        Kind::Int => {
            if !(v2_fill.is_i64() || v2_fill.is_u64()) {
                return Err(bad());
            }
            (v2_fill.clone(), Some(v2_fill.clone()))
        }
        Kind::Float => {
            let attr = float_fill_attribute(v2_fill).ok_or_else(bad)?;
            (v2_fill.clone(), Some(attr))
        }
        // Zarr v2 writes complex fill values as [re, im] too; xarray's
        // `_FillValue` for them is rare enough to leave to the array.
        Kind::Complex => (v2_fill.clone(), None),
        // Base64 in both Zarr v2 and xarray's attribute.
        Kind::Bytes => (v2_fill.clone(), Some(v2_fill.clone())),
        Kind::Text => {
            let s = v2_fill.as_str().ok_or_else(bad)?;
            (json!(s), Some(json!(s)))
        }
    })
}

/// The `zarr.json` of a group with its `.zattrs`.
pub fn group_document(zattrs: Option<&Value>) -> Value {
    let attributes = zattrs
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    json!({"zarr_format": 3, "node_type": "group", "attributes": attributes})
}

/// The `zarr.json` of an array from its `.zarray` and `.zattrs`, or why it
/// has none.
pub fn array_document(zarray: &Value, zattrs: Option<&Value>) -> Result<Value, String> {
    let field = |name: &str| {
        zarray
            .get(name)
            .ok_or_else(|| format!(".zarray has no \"{name}\""))
    };
    let shape = field("shape")?
        .as_array()
        .ok_or("\"shape\" is not a list")?
        .iter()
        .map(|v| v.as_u64().ok_or("\"shape\" holds a non-integer"))
        .collect::<Result<Vec<u64>, _>>()?;
    let chunks = field("chunks")?
        .as_array()
        .ok_or("\"chunks\" is not a list")?
        .iter()
        // Zarr v3 chunk shapes are positive (a v2 array of length 0 may say 0).
        .map(|v| {
            v.as_u64()
                .map(|n| n.max(1))
                .ok_or("\"chunks\" holds a non-integer")
        })
        .collect::<Result<Vec<u64>, _>>()?;
    if chunks.len() != shape.len() {
        return Err(format!(
            "\"chunks\" has {} dimensions and \"shape\" {}",
            chunks.len(),
            shape.len()
        ));
    }
    let filters: Vec<Value> = zarray
        .get("filters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let dt = data_type(field("dtype")?, &filters)?;

    let mut codecs = Vec::new();
    if zarray.get("order").and_then(Value::as_str) == Some("F") && shape.len() > 1 {
        let order: Vec<usize> = (0..shape.len()).rev().collect();
        codecs.push(json!({"name": "transpose", "configuration": {"order": order}}));
    }
    if dt.kind == Kind::Text {
        codecs.push(json!({"name": "vlen-utf8", "configuration": {}}));
    } else {
        match dt.endian {
            Some(e) => codecs.push(json!({"name": "bytes", "configuration": {"endian": e}})),
            None => codecs.push(json!({"name": "bytes", "configuration": {}})),
        }
    }
    for f in &filters {
        if codec_id(f) == Some("vlen-utf8") {
            continue;
        }
        codecs.push(v3_codec(f)?);
    }
    if let Some(c) = zarray.get("compressor").filter(|c| !c.is_null()) {
        codecs.push(v3_codec(c)?);
    }

    let (fill_value, fill_attribute) =
        fill_values(zarray.get("fill_value").unwrap_or(&Value::Null), dt.kind)?;
    let mut attributes = zattrs
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let dimension_names = attributes.remove("_ARRAY_DIMENSIONS");
    if let Some(dims) = &dimension_names {
        let ok = dims
            .as_array()
            .is_some_and(|d| d.len() == shape.len() && d.iter().all(Value::is_string));
        if !ok {
            return Err(format!(
                "_ARRAY_DIMENSIONS {dims} does not name each of the {} dimensions",
                shape.len()
            ));
        }
    }
    match fill_attribute {
        Some(a) => {
            attributes.insert("_FillValue".into(), a);
        }
        None => {
            // A `_FillValue` that did not fit the v2 fill value stays an
            // attribute; xarray's v3 backend expects floats in base64.
            if dt.kind == Kind::Float {
                if let Some(a) = attributes.get("_FillValue").and_then(float_fill_attribute) {
                    attributes.insert("_FillValue".into(), a);
                }
            }
        }
    }

    let mut doc = json!({
        "zarr_format": 3,
        "node_type": "array",
        "shape": shape,
        "data_type": dt.json,
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": chunks}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": fill_value,
        "codecs": codecs,
        "attributes": attributes,
    });
    if let (Some(dims), Some(m)) = (dimension_names, doc.as_object_mut()) {
        m.insert("dimension_names".into(), dims);
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_deflated_shuffled_little_endian_float_array_becomes_numcodecs_v3_codecs() {
        let zarray = json!({
            "chunks": [1, 10], "compressor": {"id": "zlib", "level": 4},
            "dtype": "<f4", "fill_value": "NaN",
            "filters": [{"id": "shuffle", "elementsize": 4}],
            "order": "C", "shape": [3, 20], "zarr_format": 2
        });
        let zattrs = json!({"units": "K", "_ARRAY_DIMENSIONS": ["time", "x"]});
        let doc = array_document(&zarray, Some(&zattrs)).unwrap();
        assert_eq!(doc["data_type"], "float32");
        assert_eq!(doc["shape"], json!([3, 20]));
        assert_eq!(
            doc["chunk_grid"]["configuration"]["chunk_shape"],
            json!([1, 10])
        );
        assert_eq!(
            doc["codecs"],
            json!([
                {"name": "bytes", "configuration": {"endian": "little"}},
                {"name": "numcodecs.shuffle", "configuration": {"elementsize": 4}},
                {"name": "numcodecs.zlib", "configuration": {"level": 4}},
            ])
        );
        assert_eq!(doc["fill_value"], "NaN");
        assert_eq!(doc["dimension_names"], json!(["time", "x"]));
        assert_eq!(doc["attributes"]["units"], "K");
        assert!(doc["attributes"].get("_ARRAY_DIMENSIONS").is_none());
        // xarray's FillValueCoder: base64 of the little-endian f64.
        assert_eq!(
            doc["attributes"]["_FillValue"],
            BASE64_STANDARD.encode(f64::NAN.to_le_bytes())
        );
    }

    #[test]
    fn big_endian_integers_keep_their_byte_order_and_integer_fill() {
        let zarray = json!({
            "chunks": [4], "compressor": null, "dtype": ">i2", "fill_value": -32767,
            "filters": null, "order": "C", "shape": [4], "zarr_format": 2
        });
        let doc = array_document(&zarray, None).unwrap();
        assert_eq!(doc["data_type"], "int16");
        assert_eq!(
            doc["codecs"],
            json!([{"name": "bytes", "configuration": {"endian": "big"}}])
        );
        assert_eq!(doc["fill_value"], -32767);
        assert_eq!(doc["attributes"]["_FillValue"], -32767);
        assert!(doc.get("dimension_names").is_none());
    }

    #[test]
    fn arrays_without_a_fill_value_get_a_default_and_no_fill_attribute() {
        let zarray = json!({
            "chunks": [], "compressor": null, "dtype": "<f8", "fill_value": null,
            "filters": null, "order": "C", "shape": [], "zarr_format": 2
        });
        let doc = array_document(&zarray, Some(&json!({"_ARRAY_DIMENSIONS": []}))).unwrap();
        assert_eq!(doc["fill_value"], 0.0);
        assert!(doc["attributes"].get("_FillValue").is_none());
        assert_eq!(doc["dimension_names"], json!([]));
    }

    #[test]
    fn char_and_string_arrays_get_v3_byte_and_string_types() {
        let chars = json!({
            "chunks": [5], "compressor": null, "dtype": "|S1", "fill_value": null,
            "filters": null, "order": "C", "shape": [5], "zarr_format": 2
        });
        let doc = array_document(&chars, None).unwrap();
        assert_eq!(
            doc["data_type"],
            json!({"name": "null_terminated_bytes", "configuration": {"length_bytes": 1}})
        );
        assert_eq!(
            doc["codecs"],
            json!([{"name": "bytes", "configuration": {}}])
        );
        let text = json!({
            "chunks": [2], "compressor": null, "dtype": "|O", "fill_value": null,
            "filters": [{"id": "vlen-utf8"}], "order": "C", "shape": [2], "zarr_format": 2
        });
        let doc = array_document(&text, None).unwrap();
        assert_eq!(doc["data_type"], "string");
        assert_eq!(
            doc["codecs"],
            json!([{"name": "vlen-utf8", "configuration": {}}])
        );
        assert_eq!(doc["fill_value"], "");
    }

    #[test]
    fn fortran_order_adds_a_transpose_and_unknown_codecs_are_refused() {
        let zarray = json!({
            "chunks": [2, 3], "compressor": null, "dtype": "<u8", "fill_value": 0,
            "filters": null, "order": "F", "shape": [2, 3], "zarr_format": 2
        });
        let doc = array_document(&zarray, None).unwrap();
        assert_eq!(
            doc["codecs"][0],
            json!({"name": "transpose", "configuration": {"order": [1, 0]}})
        );
        let mut bad = zarray.clone();
        bad["filters"] = json!([{"id": "delta", "dtype": "<u8"}]);
        let err = array_document(&bad, None).unwrap_err();
        assert!(err.contains("delta"), "{err}");
        let mut compound = zarray;
        compound["dtype"] = json!([["a", "<i4"]]);
        assert!(array_document(&compound, None)
            .unwrap_err()
            .contains("compound"));
    }

    #[test]
    fn groups_keep_their_attributes() {
        let doc = group_document(Some(&json!({"title": "t"})));
        assert_eq!(
            doc,
            json!({"zarr_format": 3, "node_type": "group", "attributes": {"title": "t"}})
        );
        assert_eq!(group_document(None)["attributes"], json!({}));
    }
}
