//! The fidelity rules: how arco's variables and CF attributes become Zarr
//! metadata so that `xarray.open_zarr(out)` decodes what
//! `xarray.open_dataset(src)` decodes. The rules mirror what xarray's
//! `to_zarr` writes (see `docs/design/zarr-encoding.md`):
//!
//! - values are stored raw (packed integers, integer times) with their CF
//!   attributes unchanged;
//! - in Zarr v3, `_FillValue` is an attribute encoded like xarray's
//!   `FillValueCoder`: an integer for integer types, a base64 string of the
//!   little-endian `float64` for floats, base64 of the bytes for byte
//!   strings; the array's `fill_value` is independent (NaN for floats,
//!   as xarray writes, else zero);
//! - in Zarr v2, `_FillValue` becomes the array's `fill_value` (xarray reads
//!   v2 `fill_value` as `_FillValue`), and arrays without one get `null`;
//! - attribute values: one-element arrays become scalars, NaN and infinities
//!   become the strings `"NaN"`, `"Infinity"`, `"-Infinity"` (valid JSON;
//!   zarr-python writes bare `NaN`, which strict JSON readers reject).

use crate::{ArraySpec, Compression};
use arco_core::{AttrValue, Attribute, DType, Values, Variable};
use base64::prelude::{Engine, BASE64_STANDARD};
use serde_json::{Map, Number, Value};

/// CF attributes as JSON, the way xarray's `to_zarr` writes them (v3 rules):
/// text as strings, one-element arrays as scalars, longer arrays as lists,
/// NaN and infinities as `"NaN"`, `"Infinity"`, `"-Infinity"`, and
/// `_FillValue` encoded as xarray's `FillValueCoder` does for the attribute's
/// type (base64 of a little-endian `float64` for floats).
///
/// ```
/// use arco_core::{Attribute, AttrValue, DType, Values};
/// let attrs = vec![
///     Attribute::text("units", "K"),
///     Attribute { name: "scale_factor".into(), value: AttrValue::Array(Values::F32(vec![0.5])), dtype: DType::F32 },
///     Attribute { name: "_FillValue".into(), value: AttrValue::Array(Values::F32(vec![f32::NAN])), dtype: DType::F32 },
///     Attribute { name: "valid_range".into(), value: AttrValue::Array(Values::F64(vec![0.0, f64::INFINITY])), dtype: DType::F64 },
/// ];
/// let json = arco_zarr::attributes_json(&attrs);
/// assert_eq!(json["units"], "K");
/// assert_eq!(json["scale_factor"], 0.5);
/// assert_eq!(json["_FillValue"], "AAAAAAAA+H8=");
/// assert_eq!(json["valid_range"], serde_json::json!([0.0, "Infinity"]));
/// ```
pub fn attributes_json(attrs: &[Attribute]) -> Map<String, Value> {
    let mut out = Map::new();
    for a in attrs {
        let value = if a.name == "_FillValue" {
            fill_value_attribute(&a.value, &a.dtype).unwrap_or_else(|| attr_value_json(&a.value))
        } else {
            attr_value_json(&a.value)
        };
        out.insert(a.name.clone(), value);
    }
    out
}

/// One attribute value as JSON (no `_FillValue` special case).
pub fn attr_value_json(value: &AttrValue) -> Value {
    match value {
        AttrValue::Text(t) => Value::String(t.clone()),
        AttrValue::Array(v) => {
            let items = values_json(v);
            if items.len() == 1 {
                items.into_iter().next().unwrap_or(Value::Null)
            } else {
                Value::Array(items)
            }
        }
    }
}

/// A float as JSON: a number, or `"NaN"`, `"Infinity"`, `"-Infinity"`.
pub(crate) fn float_json(x: f64) -> Value {
    match Number::from_f64(x) {
        Some(n) => Value::Number(n),
        None if x.is_nan() => Value::String("NaN".into()),
        None if x > 0.0 => Value::String("Infinity".into()),
        None => Value::String("-Infinity".into()),
    }
}

fn values_json(v: &Values) -> Vec<Value> {
    match v {
        Values::Bool(x) => x.iter().map(|b| Value::Bool(*b)).collect(),
        Values::I8(x) => x.iter().map(|n| Value::from(*n)).collect(),
        Values::I16(x) => x.iter().map(|n| Value::from(*n)).collect(),
        Values::I32(x) => x.iter().map(|n| Value::from(*n)).collect(),
        Values::I64(x) => x.iter().map(|n| Value::from(*n)).collect(),
        Values::U8(x) => x.iter().map(|n| Value::from(*n)).collect(),
        Values::U16(x) => x.iter().map(|n| Value::from(*n)).collect(),
        Values::U32(x) => x.iter().map(|n| Value::from(*n)).collect(),
        Values::U64(x) => x.iter().map(|n| Value::from(*n)).collect(),
        Values::F32(x) => x.iter().map(|n| float_json(f64::from(*n))).collect(),
        Values::F64(x) => x.iter().map(|n| float_json(*n)).collect(),
        Values::Str(x) => x.iter().map(|s| Value::String(s.clone())).collect(),
        Values::Opaque { size, bytes } => bytes
            .chunks((*size).max(1))
            .map(|c| Value::String(BASE64_STANDARD.encode(c)))
            .collect(),
        Values::Compound(cols) => {
            let n = v.len();
            (0..n)
                .map(|i| {
                    let mut m = Map::new();
                    for (name, col) in cols {
                        let item = values_json(col).into_iter().nth(i).unwrap_or(Value::Null);
                        m.insert(name.clone(), item);
                    }
                    Value::Object(m)
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

/// `_FillValue` as xarray's `FillValueCoder.encode` writes it for a variable
/// of type `dtype`; `None` when the value does not fit the type.
pub fn fill_value_attribute(value: &AttrValue, dtype: &DType) -> Option<Value> {
    let dtype = match dtype {
        DType::Enum { base, .. } => base.as_ref(),
        other => other,
    };
    match dtype {
        DType::F32 | DType::F64 => {
            let x = value.as_f64()?;
            Some(Value::String(BASE64_STANDARD.encode(x.to_le_bytes())))
        }
        DType::Bool => Some(Value::Bool(value.as_f64()? != 0.0)),
        d if d.is_integer() => match value {
            AttrValue::Array(v) => values_json(v).into_iter().next(),
            AttrValue::Text(_) => None,
        },
        DType::Char | DType::FixedString { .. } => {
            let bytes: Vec<u8> = match value {
                AttrValue::Text(t) => t.as_bytes().to_vec(),
                AttrValue::Array(Values::Str(s)) => s.first()?.as_bytes().to_vec(),
                AttrValue::Array(Values::U8(b))
                | AttrValue::Array(Values::Opaque { bytes: b, .. }) => b.clone(),
                AttrValue::Array(Values::I8(b)) => b.iter().map(|x| *x as u8).collect(),
                _ => return None,
            };
            let end = bytes.iter().rposition(|b| *b != 0).map_or(0, |p| p + 1);
            Some(Value::String(BASE64_STANDARD.encode(&bytes[..end])))
        }
        DType::String => value.as_str().map(|s| Value::String(s.to_string())),
        _ => None,
    }
}

/// The Zarr v2 `fill_value` for a v3-style `_FillValue` attribute (the
/// inverse of [`fill_value_attribute`] for floats: base64 `float64` becomes a
/// number or `"NaN"`); integers, booleans and byte-string base64 pass through.
pub(crate) fn v2_fill_value(attr: &Value, dtype: &DType) -> Value {
    let dtype = match dtype {
        DType::Enum { base, .. } => base.as_ref(),
        other => other,
    };
    if dtype.is_float() {
        if let Some(x) = decode_b64_f64(attr) {
            return float_json(x);
        }
    }
    attr.clone()
}

/// A base64 little-endian `float64` (xarray's float `_FillValue`).
pub(crate) fn decode_b64_f64(v: &Value) -> Option<f64> {
    let s = v.as_str()?;
    let bytes = BASE64_STANDARD.decode(s).ok()?;
    let arr: [u8; 8] = bytes.as_slice().try_into().ok()?;
    Some(f64::from_le_bytes(arr))
}

/// The array description the engine writes for `var`: stored dtype, the
/// variable's dimensions, its CF attributes as xarray writes them
/// ([`attributes_json`]) and the type's default Zarr `fill_value`.
///
/// ```
/// use arco_core::{Attribute, DType, Endian, StorageLayout, Variable};
/// use arco_zarr::{array_spec_for, default_compression};
/// let var = Variable {
///     name: "t2m".into(), path: "/t2m".into(), dims: vec!["time".into(), "x".into()],
///     shape: vec![10, 4], dtype: DType::I16, endian: Endian::Little,
///     layout: StorageLayout::Contiguous, chunk_shape: None, codecs: vec![],
///     fill_value: None, attributes: vec![Attribute::text("units", "K")],
/// };
/// let spec = array_spec_for(&var, vec![5, 4], None, default_compression(&var.dtype));
/// assert_eq!(spec.path, "/t2m");
/// assert_eq!(spec.dimension_names, ["time", "x"]);
/// assert_eq!(spec.attributes["units"], "K");
/// ```
pub fn array_spec_for(
    var: &Variable,
    chunk_shape: Vec<u64>,
    shard_shape: Option<Vec<u64>>,
    compression: Compression,
) -> ArraySpec {
    let mut attributes = Map::new();
    for a in &var.attributes {
        let value = if a.name == "_FillValue" {
            // Encode by the variable's type: that is what xarray reads it as.
            fill_value_attribute(&a.value, &var.dtype)
                .or_else(|| fill_value_attribute(&a.value, &a.dtype))
                .unwrap_or_else(|| attr_value_json(&a.value))
        } else {
            attr_value_json(&a.value)
        };
        attributes.insert(a.name.clone(), value);
    }
    ArraySpec {
        path: var.path.clone(),
        shape: var.shape.clone(),
        chunk_shape,
        shard_shape,
        dtype: var.dtype.clone(),
        fill_value: None,
        dimension_names: var.dims.clone(),
        attributes,
        compression,
    }
}

/// The default chunk compression for a stored type, chosen from the
/// measurements in `docs/design/zarr-encoding.md`: Blosc with zstd inside
/// and a byte shuffle for multi-byte numbers (best ratio per CPU second on
/// smooth fields, and a codec every Zarr v3 reader has), plain zstd for
/// one-byte and text types, where a shuffle gains nothing.
pub fn default_compression(dtype: &DType) -> Compression {
    let size = match dtype {
        DType::Enum { base, .. } => base.size(),
        d if d.is_numeric() => d.size(),
        _ => None,
    };
    match size {
        Some(s) if s > 1 => Compression::Blosc {
            cname: "zstd".into(),
            clevel: 3,
            shuffle: true,
        },
        _ => Compression::Zstd {
            level: 3,
            shuffle: false,
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn attr(name: &str, value: Values, dtype: DType) -> Attribute {
        Attribute {
            name: name.into(),
            value: AttrValue::Array(value),
            dtype,
        }
    }

    #[test]
    fn fill_values_follow_xarrays_fill_value_coder() {
        let j = attributes_json(&[
            attr("_FillValue", Values::I16(vec![-32767]), DType::I16),
            attr("missing_value", Values::I16(vec![-32766]), DType::I16),
        ]);
        assert_eq!(j["_FillValue"], -32767);
        assert_eq!(j["missing_value"], -32766);
        let j = attributes_json(&[attr("_FillValue", Values::F64(vec![-9999.0]), DType::F64)]);
        assert_eq!(decode_b64_f64(&j["_FillValue"]), Some(-9999.0));
        assert_eq!(v2_fill_value(&j["_FillValue"], &DType::F64), -9999.0);
        let j = attributes_json(&[attr("_FillValue", Values::F32(vec![f32::NAN]), DType::F32)]);
        assert_eq!(j["_FillValue"], "AAAAAAAA+H8=");
        assert_eq!(v2_fill_value(&j["_FillValue"], &DType::F32), "NaN");
    }

    #[test]
    fn non_finite_attribute_values_become_strings() {
        let j = attributes_json(&[attr(
            "a",
            Values::F64(vec![1.5, f64::NAN, f64::NEG_INFINITY]),
            DType::F64,
        )]);
        assert_eq!(j["a"], serde_json::json!([1.5, "NaN", "-Infinity"]));
    }

    #[test]
    fn big_integers_keep_every_digit() {
        let j = attributes_json(&[
            attr("big", Values::I64(vec![i64::MIN]), DType::I64),
            attr("ubig", Values::U64(vec![u64::MAX]), DType::U64),
        ]);
        assert_eq!(j["big"].to_string(), i64::MIN.to_string());
        assert_eq!(j["ubig"].to_string(), u64::MAX.to_string());
    }

    #[test]
    fn char_fill_values_are_base64_bytes() {
        let v = fill_value_attribute(&AttrValue::Text("x".into()), &DType::Char).unwrap();
        assert_eq!(v, "eA==");
    }
}
