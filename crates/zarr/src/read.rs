//! A Zarr hierarchy as arco's data model: groups, arrays as variables,
//! dimensions from `dimension_names` / `_ARRAY_DIMENSIONS`, and JSON
//! attributes back to typed [`Attribute`]s.

use crate::encoding::decode_b64_f64;
use crate::metadata::storage_dtype;
use crate::{meta_key, Result, ZarrFormat, ZarrStore};
use arco_core::{
    AttrValue, Attribute, DType, Dataset, Dimension, Endian, Group, StorageLayout, Values, Variable,
};
use base64::prelude::{Engine, BASE64_STANDARD};
use serde_json::{Map, Value};
use zarrs::storage::{ListableStorageTraits, StorePrefix};

/// Build the dataset of `store`.
pub(crate) fn dataset(store: &ZarrStore) -> Result<Dataset> {
    let root = group(store, "/", "")?;
    let size = store.storage.size_prefix(&StorePrefix::root()).unwrap_or(0);
    Ok(Dataset {
        source: store.location.clone(),
        format: match store.format {
            ZarrFormat::V3 => "zarr-v3".into(),
            ZarrFormat::V2 => "zarr-v2".into(),
        },
        size,
        root,
    })
}

/// Every metadata document of the hierarchy under `path`, keyed by store
/// key (`zarr.json`, `grp/zarr.json`, or `.zgroup`, `t/.zarray`, ...).
pub(crate) fn collect_metadata(
    store: &ZarrStore,
    path: &str,
    out: &mut Map<String, Value>,
) -> Result<()> {
    let names: &[&str] = match store.format {
        ZarrFormat::V3 => &["zarr.json"],
        ZarrFormat::V2 => &[".zgroup", ".zarray", ".zattrs"],
    };
    for name in names {
        let key = meta_key(path, name);
        if let Some(doc) = store.get_json(&key)? {
            let doc = match doc {
                // A root written before: do not nest its consolidated copy.
                Value::Object(mut m) => {
                    m.remove("consolidated_metadata");
                    Value::Object(m)
                }
                other => other,
            };
            out.insert(key, doc);
        }
    }
    if matches!(node(store, path)?, Node::Array) {
        return Ok(());
    }
    for child in child_names(store, path)? {
        let child_path = format!("{}/{child}", path.trim_end_matches('/'));
        if !matches!(node(store, &child_path)?, Node::None) {
            collect_metadata(store, &child_path, out)?;
        }
    }
    Ok(())
}

fn child_names(store: &ZarrStore, path: &str) -> Result<Vec<String>> {
    let trimmed = path.trim_matches('/');
    let prefix = if trimmed.is_empty() {
        StorePrefix::root()
    } else {
        StorePrefix::new(format!("{trimmed}/"))
            .map_err(|e| store.error(path, format!("bad prefix: {e}")))?
    };
    let listing = store
        .storage
        .list_dir(&prefix)
        .map_err(|e| store.error(path, format!("cannot list: {e}")))?;
    let mut children: Vec<String> = listing
        .prefixes()
        .iter()
        .filter_map(|p| {
            p.as_str()
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .map(str::to_string)
        })
        .collect();
    children.sort();
    Ok(children)
}

/// Kind of node at a path.
enum Node {
    Group(Map<String, Value>),
    Array,
    None,
}

fn node(store: &ZarrStore, path: &str) -> Result<Node> {
    match store.format {
        ZarrFormat::V3 => {
            let Some(doc) = store.get_json(&meta_key(path, "zarr.json"))? else {
                return Ok(Node::None);
            };
            Ok(match doc.get("node_type").and_then(Value::as_str) {
                Some("array") => Node::Array,
                _ => Node::Group(
                    doc.get("attributes")
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default(),
                ),
            })
        }
        ZarrFormat::V2 => {
            if store.get_bytes(&meta_key(path, ".zarray"))?.is_some() {
                return Ok(Node::Array);
            }
            if store.get_bytes(&meta_key(path, ".zgroup"))?.is_some() {
                let attrs = store
                    .get_json(&meta_key(path, ".zattrs"))?
                    .and_then(|v| v.as_object().cloned())
                    .unwrap_or_default();
                return Ok(Node::Group(attrs));
            }
            Ok(Node::None)
        }
    }
}

fn group(store: &ZarrStore, path: &str, name: &str) -> Result<Group> {
    let attrs = match node(store, path)? {
        Node::Group(a) => a,
        _ if path == "/" => Map::new(),
        _ => return Err(store.error(path, "not a group")),
    };
    let mut g = Group::new(name, path);
    g.attributes = json_attributes(&attrs, None);
    let trimmed = path.trim_matches('/');
    let children = child_names(store, path)?;
    for child in children {
        let child_path = if trimmed.is_empty() {
            format!("/{child}")
        } else {
            format!("/{trimmed}/{child}")
        };
        match node(store, &child_path)? {
            Node::Array => g.variables.push(variable(store, &child_path, &child)?),
            Node::Group(_) => g.groups.push(group(store, &child_path, &child)?),
            // Chunk directories, markers and other non-node prefixes.
            Node::None => {}
        }
    }
    for v in &g.variables {
        for (d, len) in v.dims.iter().zip(&v.shape) {
            if !g.dimensions.iter().any(|x| &x.name == d) {
                g.dimensions.push(Dimension {
                    name: d.clone(),
                    size: *len,
                    unlimited: false,
                });
            }
        }
    }
    Ok(g)
}

fn variable(store: &ZarrStore, path: &str, name: &str) -> Result<Variable> {
    let meta = store.array_meta(path)?;
    let attributes = json_attributes(&meta.attributes, Some(&meta.dtype));
    let fill_value = attributes
        .iter()
        .find(|a| a.name == "_FillValue")
        .map(|a| a.value.clone());
    Ok(Variable {
        name: name.to_string(),
        path: path.to_string(),
        dims: meta.dims,
        shape: meta.shape,
        dtype: meta.dtype,
        endian: Endian::Little,
        layout: StorageLayout::Chunked,
        chunk_shape: Some(meta.shard_shape.unwrap_or(meta.chunk_shape)),
        codecs: meta.codecs,
        fill_value,
        attributes,
    })
}

/// A Zarr v2 array described by its `.zarray` and `.zattrs` documents (as a
/// kerchunk reference set holds them) as a variable at `path` (like
/// `/grp/t`): stored dtype, shape, chunk shape, dimensions from
/// `_ARRAY_DIMENSIONS`, attributes with `_FillValue` from `fill_value` as
/// xarray reads them. Its `codecs` are left empty and its `endian` is the
/// dtype's (`>` big, else little): the caller maps `compressor` and
/// `filters`, which may name codecs arco-zarr does not read.
pub fn variable_from_v2(path: &str, zarray: &Value, zattrs: &Value) -> Result<Variable> {
    let bare = match zarray {
        Value::Object(m) => {
            let mut m = m.clone();
            m.insert("compressor".into(), Value::Null);
            let keep: Vec<Value> = m
                .get("filters")
                .and_then(Value::as_array)
                .map(|f| {
                    f.iter()
                        .filter(|c| c.get("id").and_then(Value::as_str) == Some("vlen-utf8"))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            m.insert("filters".into(), Value::Array(keep));
            Value::Object(m)
        }
        other => other.clone(),
    };
    let meta =
        crate::metadata::read_array_v2(&bare, zattrs).map_err(|message| crate::Error::Zarr {
            location: format!("{path}/.zarray"),
            message,
        })?;
    let big = zarray
        .get("dtype")
        .and_then(Value::as_str)
        .is_some_and(|s| s.starts_with('>'));
    let attributes = json_attributes(&meta.attributes, Some(&meta.dtype));
    let fill_value = attributes
        .iter()
        .find(|a| a.name == "_FillValue")
        .map(|a| a.value.clone());
    let name = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path);
    Ok(Variable {
        name: name.to_string(),
        path: path.to_string(),
        dims: meta.dims,
        shape: meta.shape,
        dtype: meta.dtype,
        endian: if big { Endian::Big } else { Endian::Little },
        layout: StorageLayout::Chunked,
        chunk_shape: Some(meta.chunk_shape),
        codecs: Vec::new(),
        fill_value,
        attributes,
    })
}

/// A group's `.zattrs` (or any JSON attribute map) as arco attributes, typed
/// as [`crate::ZarrStore::dataset`] types them.
pub fn attributes_from_json(attrs: &Map<String, Value>) -> Vec<Attribute> {
    json_attributes(attrs, None)
}

/// JSON attributes as arco attributes. `_FillValue` is decoded for the
/// array's type `dtype` the way xarray decodes it.
pub(crate) fn json_attributes(attrs: &Map<String, Value>, dtype: Option<&DType>) -> Vec<Attribute> {
    attrs
        .iter()
        .map(|(name, value)| {
            if name == "_FillValue" {
                if let Some(a) = dtype.and_then(|d| fill_attribute(value, d)) {
                    return a;
                }
            }
            json_attribute(name, value)
        })
        .collect()
}

fn special_float(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

fn fill_attribute(value: &Value, dtype: &DType) -> Option<Attribute> {
    let d = storage_dtype(dtype);
    let values = match d {
        DType::F32 | DType::F64 => {
            let x = decode_b64_f64(value)
                .or_else(|| value.as_f64())
                .or_else(|| value.as_str().and_then(special_float))?;
            if d == &DType::F32 {
                Values::F32(vec![x as f32])
            } else {
                Values::F64(vec![x])
            }
        }
        DType::Bool => Values::Bool(vec![value.as_bool()?]),
        DType::I8 => Values::I8(vec![i8::try_from(value.as_i64()?).ok()?]),
        DType::I16 => Values::I16(vec![i16::try_from(value.as_i64()?).ok()?]),
        DType::I32 => Values::I32(vec![i32::try_from(value.as_i64()?).ok()?]),
        DType::I64 => Values::I64(vec![value.as_i64()?]),
        DType::U8 => Values::U8(vec![u8::try_from(value.as_u64()?).ok()?]),
        DType::U16 => Values::U16(vec![u16::try_from(value.as_u64()?).ok()?]),
        DType::U32 => Values::U32(vec![u32::try_from(value.as_u64()?).ok()?]),
        DType::U64 => Values::U64(vec![value.as_u64()?]),
        DType::Char | DType::FixedString { .. } => {
            let bytes = BASE64_STANDARD.decode(value.as_str()?).ok()?;
            return Some(Attribute {
                name: "_FillValue".into(),
                value: AttrValue::Text(String::from_utf8_lossy(&bytes).into_owned()),
                dtype: dtype.clone(),
            });
        }
        DType::String => Values::Str(vec![value.as_str()?.to_string()]),
        _ => return None,
    };
    Some(Attribute {
        name: "_FillValue".into(),
        value: AttrValue::Array(values),
        dtype: d.clone(),
    })
}

/// One JSON attribute as an arco attribute with a sensible type: strings
/// as text, integers as `int64` (`uint64` above its range), other numbers as
/// `float64` (with `"NaN"`/`"Infinity"` strings inside numeric lists).
pub(crate) fn json_attribute(name: &str, value: &Value) -> Attribute {
    let array = |values: Values, dtype: DType| Attribute {
        name: name.to_string(),
        value: AttrValue::Array(values),
        dtype,
    };
    let items: Vec<&Value> = match value {
        Value::String(s) => return Attribute::text(name, s.clone()),
        Value::Array(a) => a.iter().collect(),
        Value::Null | Value::Object(_) => return Attribute::text(name, value.to_string()),
        other => vec![other],
    };
    if items.is_empty() {
        return array(Values::F64(Vec::new()), DType::F64);
    }
    if items.iter().all(|v| v.is_boolean()) {
        return array(
            Values::Bool(items.iter().filter_map(|v| v.as_bool()).collect()),
            DType::Bool,
        );
    }
    if items.iter().all(|v| v.is_string()) {
        return array(
            Values::Str(
                items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
            ),
            DType::String,
        );
    }
    if items.iter().all(|v| v.is_i64()) {
        return array(
            Values::I64(items.iter().filter_map(|v| v.as_i64()).collect()),
            DType::I64,
        );
    }
    if items.iter().all(|v| v.is_u64() || v.is_i64()) && items.iter().all(|v| v.is_u64()) {
        return array(
            Values::U64(items.iter().filter_map(|v| v.as_u64()).collect()),
            DType::U64,
        );
    }
    let floats: Option<Vec<f64>> = items
        .iter()
        .map(|v| v.as_f64().or_else(|| v.as_str().and_then(special_float)))
        .collect();
    match floats {
        Some(f) => array(Values::F64(f), DType::F64),
        None => Attribute::text(name, value.to_string()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn json_attributes_get_sensible_types() {
        let a = json_attribute("x", &json!(3));
        assert_eq!(a.value, AttrValue::Array(Values::I64(vec![3])));
        let a = json_attribute("x", &json!([1.5, "NaN"]));
        let AttrValue::Array(Values::F64(v)) = a.value else {
            panic!("floats")
        };
        assert!(v[0] == 1.5 && v[1].is_nan());
        let a = json_attribute("x", &json!("K"));
        assert_eq!(a.value, AttrValue::Text("K".into()));
        let a = json_attribute("x", &json!(u64::MAX));
        assert_eq!(a.value, AttrValue::Array(Values::U64(vec![u64::MAX])));
    }

    #[test]
    fn fill_values_are_decoded_for_the_array_type() {
        let attrs = json!({"_FillValue": "AAAAAAAA+H8="});
        let a = json_attributes(attrs.as_object().unwrap(), Some(&DType::F32));
        let AttrValue::Array(Values::F32(v)) = &a[0].value else {
            panic!("f32")
        };
        assert!(v[0].is_nan());
        let attrs = json!({"_FillValue": -32767});
        let a = json_attributes(attrs.as_object().unwrap(), Some(&DType::I16));
        assert_eq!(a[0].value, AttrValue::Array(Values::I16(vec![-32767])));
        assert_eq!(a[0].dtype, DType::I16);
    }
}
