//! In-memory values: attribute values and decoded n-dimensional arrays.

use crate::dtype::DType;
use serde::{Serialize, Serializer};

/// A flat, typed vector of values in C (row-major) order.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Values {
    /// Booleans.
    Bool(Vec<bool>),
    /// `int8`.
    I8(Vec<i8>),
    /// `int16`.
    I16(Vec<i16>),
    /// `int32`.
    I32(Vec<i32>),
    /// `int64`.
    I64(Vec<i64>),
    /// `uint8`.
    U8(Vec<u8>),
    /// `uint16`.
    U16(Vec<u16>),
    /// `uint32`.
    U32(Vec<u32>),
    /// `uint64`.
    U64(Vec<u64>),
    /// `float32`.
    F32(Vec<f32>),
    /// `float64`.
    F64(Vec<f64>),
    /// Strings (fixed, variable-length, or NC_CHAR rows joined).
    Str(Vec<String>),
    /// Raw bytes of opaque elements, `size` bytes each.
    Opaque {
        /// Bytes per element.
        size: usize,
        /// All elements back to back.
        bytes: Vec<u8>,
    },
    /// Compound elements, one column per field.
    Compound(Vec<(String, Values)>),
}

/// Run `$body` with `$x` bound to the vector of any numeric variant, else `$other`.
macro_rules! each_numeric {
    ($v:expr, $x:ident => $body:expr, $other:expr) => {
        match $v {
            $crate::values::Values::I8($x) => $body,
            $crate::values::Values::I16($x) => $body,
            $crate::values::Values::I32($x) => $body,
            $crate::values::Values::I64($x) => $body,
            $crate::values::Values::U8($x) => $body,
            $crate::values::Values::U16($x) => $body,
            $crate::values::Values::U32($x) => $body,
            $crate::values::Values::U64($x) => $body,
            $crate::values::Values::F32($x) => $body,
            $crate::values::Values::F64($x) => $body,
            _ => $other,
        }
    };
}
pub(crate) use each_numeric;

impl Values {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            Values::Bool(v) => v.len(),
            Values::Str(v) => v.len(),
            Values::Opaque { size, bytes } => bytes.len().checked_div(*size).unwrap_or(0),
            Values::Compound(cols) => cols.first().map(|(_, c)| c.len()).unwrap_or(0),
            other => each_numeric!(other, v => v.len(), 0),
        }
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The numpy-like type name of the elements.
    pub fn type_name(&self) -> &'static str {
        match self {
            Values::Bool(_) => "bool",
            Values::I8(_) => "int8",
            Values::I16(_) => "int16",
            Values::I32(_) => "int32",
            Values::I64(_) => "int64",
            Values::U8(_) => "uint8",
            Values::U16(_) => "uint16",
            Values::U32(_) => "uint32",
            Values::U64(_) => "uint64",
            Values::F32(_) => "float32",
            Values::F64(_) => "float64",
            Values::Str(_) => "string",
            Values::Opaque { .. } => "opaque",
            Values::Compound(_) => "compound",
        }
    }

    /// Element `i` as `f64`, for numeric and boolean values.
    #[allow(clippy::unnecessary_cast)]
    pub fn get_f64(&self, i: usize) -> Option<f64> {
        match self {
            Values::Bool(v) => v.get(i).map(|b| f64::from(u8::from(*b))),
            other => each_numeric!(other, v => v.get(i).map(|x| *x as f64), None),
        }
    }

    /// All elements as `f64` (numeric and boolean values only).
    #[allow(clippy::unnecessary_cast)]
    pub fn to_f64_vec(&self) -> Option<Vec<f64>> {
        match self {
            Values::Bool(v) => Some(v.iter().map(|b| f64::from(u8::from(*b))).collect()),
            other => each_numeric!(other, v => Some(v.iter().map(|x| *x as f64).collect()), None),
        }
    }

    /// An empty vector with the natural in-memory type for `dtype`.
    pub fn empty_for(dtype: &DType) -> Values {
        match dtype {
            DType::Bool => Values::Bool(Vec::new()),
            DType::I8 => Values::I8(Vec::new()),
            DType::I16 => Values::I16(Vec::new()),
            DType::I32 => Values::I32(Vec::new()),
            DType::I64 => Values::I64(Vec::new()),
            DType::U8 | DType::Char => Values::U8(Vec::new()),
            DType::U16 => Values::U16(Vec::new()),
            DType::U32 => Values::U32(Vec::new()),
            DType::U64 => Values::U64(Vec::new()),
            DType::F32 => Values::F32(Vec::new()),
            DType::F64 => Values::F64(Vec::new()),
            DType::Enum { base, .. } => Values::empty_for(base),
            DType::FixedString { .. } | DType::String => Values::Str(Vec::new()),
            DType::Compound { fields, .. } => Values::Compound(
                fields
                    .iter()
                    .map(|f| (f.name.clone(), Values::empty_for(&f.dtype)))
                    .collect(),
            ),
            DType::Opaque { size } => Values::Opaque {
                size: *size,
                bytes: Vec::new(),
            },
            DType::VarLen { .. } => Values::Str(Vec::new()),
        }
    }
}

fn finite_or_null<S: Serializer>(x: f64, s: S) -> Result<S::Ok, S::Error> {
    if x.is_finite() {
        s.serialize_f64(x)
    } else {
        s.serialize_none()
    }
}

impl Serialize for Values {
    /// JSON form: a flat array; NaN and infinities become `null` (JSON has no NaN).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            Values::F32(v) => {
                let mut seq = s.serialize_seq(Some(v.len()))?;
                for x in v {
                    seq.serialize_element(&FiniteF64(f64::from(*x)))?;
                }
                seq.end()
            }
            Values::F64(v) => {
                let mut seq = s.serialize_seq(Some(v.len()))?;
                for x in v {
                    seq.serialize_element(&FiniteF64(*x))?;
                }
                seq.end()
            }
            Values::Bool(v) => v.serialize(s),
            Values::Str(v) => v.serialize(s),
            Values::Opaque { size, bytes } => {
                let hex: Vec<String> = bytes
                    .chunks(*size.max(&1))
                    .map(|c| c.iter().map(|b| format!("{b:02x}")).collect())
                    .collect();
                hex.serialize(s)
            }
            Values::Compound(cols) => {
                let mut m = s.serialize_map(Some(cols.len()))?;
                for (name, col) in cols {
                    m.serialize_entry(name, col)?;
                }
                m.end()
            }
            other => each_numeric!(other, v => v.serialize(s), s.serialize_none()),
        }
    }
}

struct FiniteF64(f64);
impl Serialize for FiniteF64 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        finite_or_null(self.0, s)
    }
}

/// An n-dimensional array of values in C order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NdArray {
    /// Extent of each dimension.
    pub shape: Vec<u64>,
    /// The elements, `shape.iter().product()` of them.
    pub values: Values,
}

impl NdArray {
    /// Number of elements implied by the shape.
    pub fn element_count(&self) -> u64 {
        self.shape.iter().product()
    }
}

/// The value of an attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    /// Text: NetCDF `NC_CHAR` attributes and scalar strings.
    Text(String),
    /// Everything else, including arrays of strings (NetCDF-4 `NC_STRING` arrays).
    Array(Values),
}

impl AttrValue {
    /// The text, if this is a text attribute or a one-element string array.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            AttrValue::Text(s) => Some(s),
            AttrValue::Array(Values::Str(v)) if v.len() == 1 => v.first().map(String::as_str),
            _ => None,
        }
    }

    /// Numeric elements as `f64`.
    pub fn as_f64_vec(&self) -> Option<Vec<f64>> {
        match self {
            AttrValue::Array(v) => v.to_f64_vec(),
            AttrValue::Text(_) => None,
        }
    }

    /// The first numeric element as `f64`.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            AttrValue::Array(v) => v.get_f64(0),
            AttrValue::Text(_) => None,
        }
    }
}

impl Serialize for AttrValue {
    /// JSON form: text as a string, one-element arrays as a scalar, others as an array.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            AttrValue::Text(t) => s.serialize_str(t),
            AttrValue::Array(v) if v.len() == 1 => match v {
                Values::Str(x) => s.serialize_str(&x[0]),
                Values::F32(x) => finite_or_null(f64::from(x[0]), s),
                Values::F64(x) => finite_or_null(x[0], s),
                Values::Bool(x) => s.serialize_bool(x[0]),
                other => match other.get_f64(0) {
                    Some(_) => each_numeric!(other, x => x[0].serialize(s), s.serialize_none()),
                    None => other.serialize(s),
                },
            },
            AttrValue::Array(v) => v.serialize(s),
        }
    }
}

/// A named attribute of a group or variable.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attribute {
    /// Attribute name.
    pub name: String,
    /// Its value.
    pub value: AttrValue,
    /// The stored type (for example `int16` for a packed `_FillValue`).
    pub dtype: DType,
}

impl Attribute {
    /// A text attribute.
    pub fn text(name: impl Into<String>, value: impl Into<String>) -> Self {
        Attribute {
            name: name.into(),
            value: AttrValue::Text(value.into()),
            dtype: DType::Char,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_turns_nan_into_null_and_one_element_arrays_into_scalars() {
        let v = Values::F32(vec![1.5, f32::NAN]);
        assert_eq!(serde_json::to_string(&v).unwrap(), "[1.5,null]");
        let a = AttrValue::Array(Values::I16(vec![-7]));
        assert_eq!(serde_json::to_string(&a).unwrap(), "-7");
        let a = AttrValue::Array(Values::Str(vec!["x".into(), "y".into()]));
        assert_eq!(serde_json::to_string(&a).unwrap(), r#"["x","y"]"#);
    }
}
