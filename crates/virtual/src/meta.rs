//! Zarr v2 metadata documents for kerchunk references: `.zarray` with the
//! stored dtype and byte order, `.zattrs` with CF attributes the way xarray
//! reads them from Zarr v2 (`_FillValue` moves into the array's
//! `fill_value`, dimension names go to `_ARRAY_DIMENSIONS`).

use arco_core::{AttrValue, Attribute, DType, Endian, Values};
use base64::prelude::{Engine, BASE64_STANDARD};
use serde_json::{json, Map, Number, Value};

/// The Zarr v2 `dtype` of a stored type in byte order `endian`, or why it has none.
pub fn v2_dtype(dtype: &DType, endian: Endian) -> Result<Value, String> {
    let order = match endian {
        Endian::Little => '<',
        Endian::Big => '>',
    };
    let num = |kind: char, size: usize| -> Value {
        if size == 1 {
            Value::String(format!("|{kind}1"))
        } else {
            Value::String(format!("{order}{kind}{size}"))
        }
    };
    Ok(match dtype {
        DType::Bool => json!("|b1"),
        DType::I8 => num('i', 1),
        DType::I16 => num('i', 2),
        DType::I32 => num('i', 4),
        DType::I64 => num('i', 8),
        DType::U8 => num('u', 1),
        DType::U16 => num('u', 2),
        DType::U32 => num('u', 4),
        DType::U64 => num('u', 8),
        DType::F32 => num('f', 4),
        DType::F64 => num('f', 8),
        DType::Char => json!("|S1"),
        DType::FixedString { size } if *size > 0 => json!(format!("|S{size}")),
        DType::String => json!("|O"),
        DType::Enum { base, .. } => v2_dtype(base, endian)?,
        DType::Opaque { size } if *size > 0 => json!(format!("|V{size}")),
        DType::Compound { size, fields } => {
            // Zarr v2 structured types are packed field lists: no offsets.
            let mut at = 0usize;
            let mut list = Vec::with_capacity(fields.len());
            for f in fields {
                let fsize = f.dtype.size().ok_or_else(|| {
                    format!("compound field '{}' has a variable-length type", f.name)
                })?;
                if f.offset != at {
                    return Err(format!(
                        "the compound type has padding before field '{}' (offset {}, {at} expected); \
                         Zarr v2 structured types cannot describe padded records",
                        f.name, f.offset
                    ));
                }
                list.push(json!([f.name, v2_dtype(&f.dtype, endian)?]));
                at += fsize;
            }
            if at != *size {
                return Err(format!(
                    "the compound type is padded to {size} bytes (fields take {at}); \
                     Zarr v2 structured types cannot describe padded records"
                ));
            }
            Value::Array(list)
        }
        other => {
            return Err(format!(
                "element type {other} has no Zarr v2 representation in references"
            ))
        }
    })
}

/// A float as Zarr v2 JSON: a number, or `"NaN"`, `"Infinity"`, `"-Infinity"`.
pub fn float_json(x: f64) -> Value {
    match Number::from_f64(x) {
        Some(n) => Value::Number(n),
        None if x.is_nan() => json!("NaN"),
        None if x > 0.0 => json!("Infinity"),
        None => json!("-Infinity"),
    }
}

/// The Zarr v2 `fill_value` for a `_FillValue` attribute on a variable of
/// type `dtype`; `None` when the value does not fit the type.
pub fn v2_fill_value(value: &AttrValue, dtype: &DType) -> Option<Value> {
    match dtype {
        DType::Enum { base, .. } => v2_fill_value(value, base),
        DType::F32 | DType::F64 => value.as_f64().map(float_json),
        DType::Bool => value.as_f64().map(|x| Value::Bool(x != 0.0)),
        d if d.is_integer() => match value {
            AttrValue::Array(v) => first_integer(v),
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
            let want = dtype.size().unwrap_or(1);
            let mut bytes = bytes;
            bytes.resize(want, 0);
            Some(Value::String(BASE64_STANDARD.encode(&bytes)))
        }
        DType::String => value.as_str().map(|s| Value::String(s.to_string())),
        _ => None,
    }
}

/// The first element of an integer (or integral float) vector, exactly.
fn first_integer(v: &Values) -> Option<Value> {
    Some(match v {
        Values::I8(x) => Value::from(*x.first()?),
        Values::I16(x) => Value::from(*x.first()?),
        Values::I32(x) => Value::from(*x.first()?),
        Values::I64(x) => Value::from(*x.first()?),
        Values::U8(x) => Value::from(*x.first()?),
        Values::U16(x) => Value::from(*x.first()?),
        Values::U32(x) => Value::from(*x.first()?),
        Values::U64(x) => Value::from(*x.first()?),
        Values::F32(_) | Values::F64(_) => {
            let f = v.get_f64(0)?;
            if f.fract() != 0.0 || !f.is_finite() {
                return None;
            }
            Value::from(f as i64)
        }
        _ => return None,
    })
}

/// `.zattrs` of a variable: its attributes as arco writes them to Zarr
/// (`arco_zarr::attr_value_json`) without `_FillValue` when it went to the
/// array's `fill_value`, plus `_ARRAY_DIMENSIONS`.
pub fn array_attributes(
    attributes: &[Attribute],
    dims: &[String],
    fill_moved: bool,
) -> Map<String, Value> {
    let mut out = Map::new();
    for a in attributes {
        if fill_moved && a.name == "_FillValue" {
            continue;
        }
        out.insert(a.name.clone(), arco_zarr::attr_value_json(&a.value));
    }
    out.insert("_ARRAY_DIMENSIONS".into(), json!(dims));
    out
}

/// Attributes of a group.
pub fn group_attributes(attributes: &[Attribute]) -> Map<String, Value> {
    attributes
        .iter()
        .map(|a| (a.name.clone(), arco_zarr::attr_value_json(&a.value)))
        .collect()
}

/// The `.zarray` document.
pub fn zarray(
    shape: &[u64],
    chunks: &[u64],
    dtype: Value,
    fill_value: Value,
    compressor: Value,
    filters: Value,
) -> Value {
    json!({
        "chunks": chunks,
        "compressor": compressor,
        "dimension_separator": ".",
        "dtype": dtype,
        "fill_value": fill_value,
        "filters": filters,
        "order": "C",
        "shape": shape,
        "zarr_format": 2,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use arco_core::CompoundField;

    #[test]
    fn dtypes_carry_their_byte_order() {
        assert_eq!(v2_dtype(&DType::F32, Endian::Big).unwrap(), ">f4");
        assert_eq!(v2_dtype(&DType::I16, Endian::Little).unwrap(), "<i2");
        assert_eq!(v2_dtype(&DType::U8, Endian::Big).unwrap(), "|u1");
        assert_eq!(v2_dtype(&DType::Char, Endian::Big).unwrap(), "|S1");
        assert_eq!(
            v2_dtype(&DType::FixedString { size: 8 }, Endian::Little).unwrap(),
            "|S8"
        );
        let e = DType::Enum {
            base: Box::new(DType::U16),
            members: vec![],
        };
        assert_eq!(v2_dtype(&e, Endian::Big).unwrap(), ">u2");
        assert!(v2_dtype(
            &DType::VarLen {
                base: Box::new(DType::I32)
            },
            Endian::Little
        )
        .is_err());
    }

    #[test]
    fn packed_compounds_are_structured_and_padded_ones_are_refused() {
        let f = |name: &str, offset, dtype| CompoundField {
            name: name.into(),
            offset,
            dtype,
        };
        let packed = DType::Compound {
            size: 13,
            fields: vec![
                f("t", 0, DType::F64),
                f("m", 8, DType::F32),
                f("q", 12, DType::U8),
            ],
        };
        assert_eq!(
            v2_dtype(&packed, Endian::Little).unwrap(),
            json!([["t", "<f8"], ["m", "<f4"], ["q", "|u1"]])
        );
        let padded = DType::Compound {
            size: 16,
            fields: vec![
                f("t", 0, DType::F64),
                f("m", 8, DType::F32),
                f("q", 12, DType::U8),
            ],
        };
        assert!(v2_dtype(&padded, Endian::Little)
            .unwrap_err()
            .contains("padded"));
    }

    #[test]
    fn fill_values_follow_the_variables_type() {
        let f32nan = AttrValue::Array(Values::F32(vec![f32::NAN]));
        assert_eq!(v2_fill_value(&f32nan, &DType::F32).unwrap(), "NaN");
        let big = AttrValue::Array(Values::U64(vec![u64::MAX]));
        assert_eq!(
            v2_fill_value(&big, &DType::U64).unwrap().to_string(),
            u64::MAX.to_string()
        );
        let short = AttrValue::Array(Values::I16(vec![-32767]));
        assert_eq!(v2_fill_value(&short, &DType::I16).unwrap(), -32767);
        assert_eq!(
            v2_fill_value(&AttrValue::Text("x".into()), &DType::Char).unwrap(),
            "eA=="
        );
        let ff = AttrValue::Array(Values::F64(vec![1e36]));
        assert_eq!(v2_fill_value(&ff, &DType::F32).unwrap(), 1e36);
    }

    #[test]
    fn the_fill_value_attribute_moves_out_of_zattrs() {
        let attrs = vec![
            Attribute::text("units", "K"),
            Attribute {
                name: "_FillValue".into(),
                value: AttrValue::Array(Values::F32(vec![-1.0])),
                dtype: DType::F32,
            },
        ];
        let z = array_attributes(&attrs, &["time".into()], true);
        assert!(!z.contains_key("_FillValue"));
        assert_eq!(z["units"], "K");
        assert_eq!(z["_ARRAY_DIMENSIONS"], json!(["time"]));
        let z = array_attributes(&attrs, &[], false);
        assert_eq!(z["_FillValue"], -1.0);
        assert_eq!(z["_ARRAY_DIMENSIONS"], json!([]));
    }
}
