//! Masking and packing: `_FillValue`, `missing_value`, `scale_factor`,
//! `add_offset` and `_Unsigned`, decoded as xarray's `CFMaskCoder` followed by
//! `CFScaleOffsetCoder` do (xarray 2026.9, numpy 2 type promotion).
//!
//! # The rule, step by step
//!
//! Let *S* be the stored type and *A* the attributes.
//!
//! 1. **Unsigned.** `_Unsigned = "true"` on a signed integer type reinterprets the
//!    bits as the unsigned type of the same width (`_Unsigned = "false"` on an
//!    unsigned type, the reverse); a `_FillValue` is reinterpreted the same way.
//!    Call the result type *E*. On other types the attribute is ignored.
//! 2. **Fill values.** The fill values are the elements of `missing_value` (a
//!    scalar or a list) and `_FillValue`, NaNs left out. On an integer *S*, an
//!    attribute holding only NaNs is dropped altogether.
//! 3. **Mask**, when there is at least one fill value. Every element is first
//!    converted to a type *T*:
//!    * packed data (`scale_factor` or `add_offset` present): *T* = `float_type(E)`
//!      below;
//!    * else, time data (units `X since DATE`) stored as integers: *T* = `int64`,
//!      and masked elements become `i64::MIN` (numpy's NaT);
//!    * else: floats keep their type, integers of 1 or 2 bytes become `float32`,
//!      wider integers `float64`.
//!
//!    An element is masked (becomes NaN) when its value **converted to *T***
//!    equals a fill value, compared in numpy's promoted type of *T* and the fill
//!    value's type: `float32` against `float32`, 1- or 2-byte integer fill
//!    values (and `_Unsigned`-converted ones, which are Python integers) stays
//!    `float32`; against `float64`, 4- or 8-byte integer fill values the
//!    comparison is in `float64`. So a `float32` variable with a `float64`
//!    `missing_value = 1e20` masks nothing, and an `int32` value 16777217
//!    packed into `float32` equals a fill value 16777216: both as in xarray.
//! 4. **Scale and offset**, when `scale_factor` or `add_offset` is present. The
//!    working type *D* is *T* after masking, else *E*; when there were no fill
//!    value attributes at all, or the data is time data, *D* = `float_type(D)`.
//!    Then `x = x * scale_factor` and `x = x + add_offset`, each computed in the
//!    promoted type of *D* and the attribute's type and rounded back to *D*.
//!
//! `float_type(X)` is xarray's `_choose_float_dtype`:
//! * `scale_factor` and `add_offset` both present, of the same type, and that type
//!   is `float32` or `float64`: `float64` when *X* is a 4-byte integer, else that type;
//! * else, `add_offset` present: `float64`;
//! * else, `scale_factor` present: its type when it is `float32` or `float64`
//!   (xarray would use an integer scale factor's own integer type; arco uses `float64`);
//! * else: `float32` for floats of at most 4 bytes and integers of at most
//!   2 bytes, `float64` for everything else.
//!
//! The fill value attributes are read from [`Variable::attributes`] (as netCDF4
//! reports them to xarray), not from [`Variable::fill_value`], which may hold
//! an HDF5 default fill that xarray never sees. Strings, booleans, opaque and
//! compound values pass through unchanged.

use super::time::is_time_units;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::model::Variable;
use crate::values::each_numeric;
use crate::values::{AttrValue, Values};
use std::borrow::Cow;

/// A numeric attribute value with the type it was stored as.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Number {
    value: Raw,
    /// The numpy type of the value; `None` for a Python scalar (a "weak" type
    /// in numpy 2 promotion), as `_Unsigned` conversion produces.
    dtype: Option<Prim>,
}

/// An exact numeric value.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Raw {
    Int(i128),
    Float(f64),
    /// A text fill value: compares unequal to every number.
    Never,
}

impl Raw {
    fn as_f64(self) -> f64 {
        match self {
            Raw::Int(i) => i as f64,
            Raw::Float(f) => f,
            Raw::Never => f64::NAN,
        }
    }
}

/// The numeric element types masking and scaling work with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prim {
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F32,
    F64,
}

impl Prim {
    fn of(dtype: &DType) -> Option<Prim> {
        Some(match dtype {
            DType::I8 => Prim::I8,
            DType::I16 => Prim::I16,
            DType::I32 => Prim::I32,
            DType::I64 => Prim::I64,
            DType::U8 | DType::Char => Prim::U8,
            DType::U16 => Prim::U16,
            DType::U32 => Prim::U32,
            DType::U64 => Prim::U64,
            DType::F32 => Prim::F32,
            DType::F64 => Prim::F64,
            DType::Enum { base, .. } => return Prim::of(base),
            _ => return None,
        })
    }

    fn of_values(values: &Values) -> Option<Prim> {
        Some(match values {
            Values::I8(_) => Prim::I8,
            Values::I16(_) => Prim::I16,
            Values::I32(_) => Prim::I32,
            Values::I64(_) => Prim::I64,
            Values::U8(_) => Prim::U8,
            Values::U16(_) => Prim::U16,
            Values::U32(_) => Prim::U32,
            Values::U64(_) => Prim::U64,
            Values::F32(_) => Prim::F32,
            Values::F64(_) => Prim::F64,
            _ => return None,
        })
    }

    fn dtype(self) -> DType {
        match self {
            Prim::I8 => DType::I8,
            Prim::I16 => DType::I16,
            Prim::I32 => DType::I32,
            Prim::I64 => DType::I64,
            Prim::U8 => DType::U8,
            Prim::U16 => DType::U16,
            Prim::U32 => DType::U32,
            Prim::U64 => DType::U64,
            Prim::F32 => DType::F32,
            Prim::F64 => DType::F64,
        }
    }

    fn size(self) -> usize {
        match self {
            Prim::I8 | Prim::U8 => 1,
            Prim::I16 | Prim::U16 => 2,
            Prim::I32 | Prim::U32 | Prim::F32 => 4,
            Prim::I64 | Prim::U64 | Prim::F64 => 8,
        }
    }

    fn is_float(self) -> bool {
        matches!(self, Prim::F32 | Prim::F64)
    }

    fn is_signed_int(self) -> bool {
        matches!(self, Prim::I8 | Prim::I16 | Prim::I32 | Prim::I64)
    }

    fn is_unsigned_int(self) -> bool {
        matches!(self, Prim::U8 | Prim::U16 | Prim::U32 | Prim::U64)
    }

    /// The unsigned type of the same width, or the signed one.
    fn flip_sign(self) -> Prim {
        match self {
            Prim::I8 => Prim::U8,
            Prim::I16 => Prim::U16,
            Prim::I32 => Prim::U32,
            Prim::I64 => Prim::U64,
            Prim::U8 => Prim::I8,
            Prim::U16 => Prim::I16,
            Prim::U32 => Prim::I32,
            Prim::U64 => Prim::I64,
            other => other,
        }
    }

    /// Wrap an integer into this integer type's range (numpy's `astype`/`view`).
    fn wrap(self, v: i128) -> i128 {
        match self {
            Prim::I8 => i128::from(v as i8),
            Prim::I16 => i128::from(v as i16),
            Prim::I32 => i128::from(v as i32),
            Prim::I64 => i128::from(v as i64),
            Prim::U8 => i128::from(v as u8),
            Prim::U16 => i128::from(v as u16),
            Prim::U32 => i128::from(v as u32),
            Prim::U64 => i128::from(v as u64),
            Prim::F32 | Prim::F64 => v,
        }
    }
}

/// A floating point working type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Float {
    F32,
    F64,
}

impl Float {
    fn prim(self) -> Prim {
        match self {
            Float::F32 => Prim::F32,
            Float::F64 => Prim::F64,
        }
    }

    /// True when numpy computes `array_of_self OP scalar_of(other)` in `float32`.
    fn stays_f32_with(self, other: Option<Prim>) -> bool {
        self == Float::F32
            && match other {
                None => true,
                Some(p) => matches!(p, Prim::F32 | Prim::I8 | Prim::U8 | Prim::I16 | Prim::U16),
            }
    }
}

/// The type elements are converted to when masking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MaskTarget {
    Float(Float),
    /// Integer time data: masked elements become `i64::MIN` (NaT).
    Nat,
}

/// A fill value ready for comparison with converted elements.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fill {
    /// Compare the element, converted to `f64`, with this value.
    Float(f64),
    /// Compare the `int64` element exactly.
    Int(i128),
}

/// A scale factor or offset and whether numpy applies it in `float32`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Op {
    value: f64,
    in_f32: bool,
}

/// What decoding does to one stored type.
#[derive(Debug, Clone, PartialEq)]
struct Plan {
    /// Reinterpret as the integer type of the other signedness.
    flip_sign: bool,
    /// Masking: the converted type and the fill values.
    mask: Option<(MaskTarget, Vec<Fill>)>,
    /// Scaling: the working type, scale factor and offset.
    scale: Option<(Float, Option<Op>, Option<Op>)>,
    /// The decoded type.
    output: Prim,
}

impl Plan {
    fn is_identity(&self) -> bool {
        !self.flip_sign && self.mask.is_none() && self.scale.is_none()
    }
}

/// How to mask and unpack a variable's values: built from its attributes by
/// [`CfDecoder::new`] (or [`mask_and_scale`]), applied with [`CfDecoder::decode`].
/// See the module documentation for the exact rule.
#[derive(Debug, Clone, PartialEq)]
pub struct CfDecoder {
    variable: String,
    stored: DType,
    unsigned: Option<bool>,
    missing_value: Option<Vec<Number>>,
    fill_value: Option<Vec<Number>>,
    scale_factor: Option<Number>,
    add_offset: Option<Number>,
    time_like: bool,
}

/// Build the masking and unpacking plan of `var`; shorthand for [`CfDecoder::new`].
pub fn mask_and_scale(var: &Variable) -> Result<CfDecoder> {
    CfDecoder::new(var)
}

/// The elements of a fill value attribute, without NaNs.
fn numbers(value: &AttrValue, dtype: &DType) -> Vec<Number> {
    let prim = Prim::of(dtype);
    match value {
        AttrValue::Text(_) => vec![Number {
            value: Raw::Never,
            dtype: None,
        }],
        AttrValue::Array(v) => {
            let raw: Vec<Raw> = match v {
                Values::I8(x) => x.iter().map(|&e| Raw::Int(e.into())).collect(),
                Values::I16(x) => x.iter().map(|&e| Raw::Int(e.into())).collect(),
                Values::I32(x) => x.iter().map(|&e| Raw::Int(e.into())).collect(),
                Values::I64(x) => x.iter().map(|&e| Raw::Int(e.into())).collect(),
                Values::U8(x) => x.iter().map(|&e| Raw::Int(e.into())).collect(),
                Values::U16(x) => x.iter().map(|&e| Raw::Int(e.into())).collect(),
                Values::U32(x) => x.iter().map(|&e| Raw::Int(e.into())).collect(),
                Values::U64(x) => x.iter().map(|&e| Raw::Int(e.into())).collect(),
                Values::F32(x) => x.iter().map(|&e| Raw::Float(e.into())).collect(),
                Values::F64(x) => x.iter().map(|&e| Raw::Float(e)).collect(),
                Values::Bool(x) => x
                    .iter()
                    .map(|&e| Raw::Int(i128::from(u8::from(e))))
                    .collect(),
                _ => vec![Raw::Never],
            };
            let prim = prim.or_else(|| Prim::of_values(v));
            raw.into_iter()
                .filter(|r| !matches!(r, Raw::Float(f) if f.is_nan()))
                .map(|value| Number { value, dtype: prim })
                .collect()
        }
    }
}

/// The first element of a numeric attribute, for `scale_factor` and `add_offset`.
fn scalar(var: &Variable, name: &str) -> Result<Option<Number>> {
    let Some(attr) = var.attributes.iter().find(|a| a.name == name) else {
        return Ok(None);
    };
    let bad = |what: &str| Error::Cf {
        variable: var.path.clone(),
        attribute: name.to_string(),
        reason: format!("{what}; it must be one number, such as 0.01"),
    };
    let AttrValue::Array(v) = &attr.value else {
        return Err(bad("it is text"));
    };
    let value = v.get_f64(0).ok_or_else(|| bad("it holds no number"))?;
    Ok(Some(Number {
        value: Raw::Float(value),
        dtype: Prim::of(&attr.dtype).or_else(|| Prim::of_values(v)),
    }))
}

impl CfDecoder {
    /// Read the CF masking and packing attributes of `var`.
    ///
    /// Errors when `scale_factor` or `add_offset` is not a number (xarray fails too).
    pub fn new(var: &Variable) -> Result<CfDecoder> {
        let fills = |name: &str| {
            var.attributes
                .iter()
                .find(|a| a.name == name)
                .map(|a| numbers(&a.value, &a.dtype))
        };
        let unsigned = var
            .attr("_Unsigned")
            .and_then(AttrValue::as_str)
            .and_then(|s| match s {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            });
        let time_like = var
            .attr("units")
            .and_then(AttrValue::as_str)
            .is_some_and(|u| u.contains("since") && is_time_units(u));
        Ok(CfDecoder {
            variable: var.path.clone(),
            stored: var.dtype.clone(),
            unsigned,
            missing_value: fills("missing_value"),
            fill_value: fills("_FillValue"),
            scale_factor: scalar(var, "scale_factor")?,
            add_offset: scalar(var, "add_offset")?,
            time_like,
        })
    }

    /// The variable this decoder belongs to.
    pub fn variable(&self) -> &str {
        &self.variable
    }

    /// `scale_factor`, if present.
    pub fn scale_factor(&self) -> Option<f64> {
        self.scale_factor.map(|n| n.value.as_f64())
    }

    /// `add_offset`, if present.
    pub fn add_offset(&self) -> Option<f64> {
        self.add_offset.map(|n| n.value.as_f64())
    }

    /// The fill values compared with the stored data (after `_Unsigned`
    /// reinterpretation), as `f64`, duplicates removed.
    pub fn fill_values(&self) -> Vec<f64> {
        let Some(prim) = Prim::of(&self.stored) else {
            return Vec::new();
        };
        self.encoded_fills(prim)
            .iter()
            .filter(|n| n.value != Raw::Never)
            .map(|n| n.value.as_f64())
            .collect()
    }

    /// True when decoding returns the values unchanged (no attribute applies).
    pub fn is_identity(&self) -> bool {
        Prim::of(&self.stored).is_none_or(|p| self.plan(p).is_identity())
    }

    /// The type of decoded values: `float32` or `float64` for masked or packed
    /// data, `int64` for masked integer time data, the unsigned (or signed) type
    /// for `_Unsigned` data, else the stored type.
    pub fn output_dtype(&self) -> DType {
        match Prim::of(&self.stored) {
            Some(p) => self.plan(p).output.dtype(),
            None => self.stored.clone(),
        }
    }

    /// The `missing_value` and `_FillValue` attributes xarray keeps: on integer
    /// data it drops an attribute holding only NaNs.
    fn fill_attrs(&self, stored: Prim) -> (Option<&Vec<Number>>, Option<&Vec<Number>>) {
        let keep = |a: &Option<Vec<Number>>| -> bool {
            match a {
                None => false,
                Some(v) => !v.is_empty() || stored.is_float(),
            }
        };
        (
            self.missing_value
                .as_ref()
                .filter(|_| keep(&self.missing_value)),
            self.fill_value.as_ref().filter(|_| keep(&self.fill_value)),
        )
    }

    /// Fill values as xarray's set of encoded fill values: `missing_value`'s then
    /// `_FillValue`'s, duplicates removed, `_FillValue` converted for `_Unsigned`.
    fn encoded_fills(&self, stored: Prim) -> Vec<Number> {
        let (missing, fill) = self.fill_attrs(stored);
        let mut set: Vec<Number> = Vec::new();
        let add = |set: &mut Vec<Number>, n: Number| {
            if !set.iter().any(|m| same_number(m.value, n.value)) {
                set.push(n);
            }
        };
        for n in missing.into_iter().chain(fill).flatten() {
            add(&mut set, *n);
        }
        let converts = match self.unsigned {
            Some(true) => stored.is_signed_int(),
            Some(false) => stored.is_unsigned_int(),
            None => false,
        };
        if converts {
            if let Some(raw) = fill.and_then(|f| f.first()) {
                set.retain(|m| !same_number(m.value, raw.value));
                let as_int = match raw.value {
                    Raw::Int(i) => Some(i),
                    Raw::Float(f) if f.is_finite() => Some(f.trunc() as i128),
                    _ => None,
                };
                if let Some(i) = as_int {
                    let target = stored.flip_sign();
                    let value = Raw::Int(target.wrap(stored.wrap(i)));
                    // `_Unsigned="true"` gives a Python int (weak); "false" a numpy scalar.
                    let dtype = if self.unsigned == Some(true) {
                        None
                    } else {
                        Some(target)
                    };
                    add(&mut set, Number { value, dtype });
                }
            }
        }
        set
    }

    /// xarray's `_choose_float_dtype` (see the module documentation).
    fn float_type(&self, x: Prim) -> Float {
        let scale = self.scale_factor.map(|n| n.dtype);
        let offset = self.add_offset.map(|n| n.dtype);
        let as_float = |p: Option<Prim>| match p {
            Some(Prim::F32) => Some(Float::F32),
            Some(Prim::F64) | None => Some(Float::F64),
            Some(_) => None,
        };
        match (scale, offset) {
            (Some(s), Some(o)) if s == o && as_float(s).is_some() => {
                if x.size() == 4 && !x.is_float() {
                    Float::F64
                } else {
                    as_float(s).unwrap_or(Float::F64)
                }
            }
            (_, Some(_)) => Float::F64,
            (Some(s), None) => as_float(s).unwrap_or(Float::F64),
            (None, None) => {
                if (x.is_float() && x.size() <= 4) || (!x.is_float() && x.size() <= 2) {
                    Float::F32
                } else {
                    Float::F64
                }
            }
        }
    }

    fn plan(&self, stored: Prim) -> Plan {
        let flip_sign = match self.unsigned {
            Some(true) => stored.is_signed_int(),
            Some(false) => stored.is_unsigned_int(),
            None => false,
        };
        let effective = if flip_sign {
            stored.flip_sign()
        } else {
            stored
        };
        let (missing, fill) = self.fill_attrs(stored);
        let has_fill_attrs = missing.is_some() || fill.is_some();
        let packed = self.scale_factor.is_some() || self.add_offset.is_some();
        let fills = self.encoded_fills(stored);
        let mut current = effective;
        let mask = if fills.is_empty() {
            None
        } else {
            let target = if packed {
                MaskTarget::Float(self.float_type(effective))
            } else if self.time_like && !effective.is_float() {
                MaskTarget::Nat
            } else if effective == Prim::F64 || (!effective.is_float() && effective.size() > 2) {
                MaskTarget::Float(Float::F64)
            } else {
                MaskTarget::Float(Float::F32)
            };
            current = match target {
                MaskTarget::Float(f) => f.prim(),
                MaskTarget::Nat => Prim::I64,
            };
            let compare = fills.iter().filter_map(|n| fill_for(target, n)).collect();
            Some((target, compare))
        };
        let scale = if packed {
            let working = match current {
                Prim::F32 if has_fill_attrs && !self.time_like => Float::F32,
                Prim::F64 if has_fill_attrs && !self.time_like => Float::F64,
                other => self.float_type(other),
            };
            current = working.prim();
            let op = |n: Option<Number>| {
                n.map(|n| Op {
                    value: n.value.as_f64(),
                    in_f32: working.stays_f32_with(n.dtype),
                })
            };
            Some((working, op(self.scale_factor), op(self.add_offset)))
        } else {
            None
        };
        Plan {
            flip_sign,
            mask,
            scale,
            output: current,
        }
    }

    /// Mask and unpack `values` (the stored elements in C order). Returns the
    /// input itself, not a copy, when nothing applies. Non-numeric values pass
    /// through unchanged.
    ///
    /// ```
    /// use arco_core::cf::CfDecoder;
    /// use arco_core::{AttrValue, Attribute, DType, Endian, StorageLayout, Values, Variable};
    /// let num = |name: &str, v: Values, dtype: DType| Attribute {
    ///     name: name.into(), value: AttrValue::Array(v), dtype,
    /// };
    /// let var = Variable {
    ///     name: "t".into(), path: "/t".into(), dims: vec!["x".into()], shape: vec![3],
    ///     dtype: DType::I16, endian: Endian::Little, layout: StorageLayout::Contiguous,
    ///     chunk_shape: None, codecs: vec![], fill_value: None,
    ///     attributes: vec![
    ///         num("_FillValue", Values::I16(vec![-32767]), DType::I16),
    ///         num("scale_factor", Values::F64(vec![0.5]), DType::F64),
    ///     ],
    /// };
    /// let d = CfDecoder::new(&var)?;
    /// let stored = Values::I16(vec![-32767, 0, 3]);
    /// let out = d.decode(&stored)?;
    /// assert_eq!(out.type_name(), "float64");
    /// assert!(out.get_f64(0).is_some_and(f64::is_nan));
    /// assert_eq!((out.get_f64(1), out.get_f64(2)), (Some(0.0), Some(1.5)));
    /// # Ok::<(), arco_core::Error>(())
    /// ```
    pub fn decode<'a>(&self, values: &'a Values) -> Result<Cow<'a, Values>> {
        let Some(prim) = Prim::of_values(values) else {
            return Ok(Cow::Borrowed(values));
        };
        let plan = self.plan(prim);
        if plan.is_identity() {
            return Ok(Cow::Borrowed(values));
        }
        let flipped = if plan.flip_sign {
            Cow::Owned(flip_sign(values))
        } else {
            Cow::Borrowed(values)
        };
        let masked = match &plan.mask {
            None => flipped,
            Some((target, fills)) => {
                if let (MaskTarget::Float(f), Values::F32(_) | Values::F64(_)) =
                    (target, flipped.as_ref())
                {
                    // A float array already of the target type with no fill value in
                    // it needs no copy.
                    let same = Prim::of_values(&flipped) == Some(f.prim());
                    if same && plan.scale.is_none() && !any_fill(&flipped, fills) {
                        return Ok(flipped);
                    }
                }
                Cow::Owned(apply_mask(&flipped, *target, fills))
            }
        };
        let out = match plan.scale {
            None => masked,
            Some((working, scale, offset)) => {
                Cow::Owned(apply_scale(masked, working, scale, offset))
            }
        };
        Ok(out)
    }
}

/// Numeric equality as Python's set sees it (1 == 1.0).
fn same_number(a: Raw, b: Raw) -> bool {
    match (a, b) {
        (Raw::Int(x), Raw::Int(y)) => x == y,
        (Raw::Never, _) | (_, Raw::Never) => false,
        (x, y) => x.as_f64() == y.as_f64(),
    }
}

/// A fill value converted for comparison with elements of `target`.
fn fill_for(target: MaskTarget, n: &Number) -> Option<Fill> {
    match (target, n.value) {
        (_, Raw::Never) => None,
        (MaskTarget::Nat, Raw::Int(i)) => Some(Fill::Int(i)),
        (MaskTarget::Nat, Raw::Float(f)) => Some(Fill::Float(f)),
        (MaskTarget::Float(t), v) => {
            let in_f32 = t.stays_f32_with(n.dtype);
            Some(Fill::Float(match v {
                Raw::Int(i) if in_f32 => f64::from(i as f32),
                Raw::Float(f) if in_f32 => f64::from(f as f32),
                other => other.as_f64(),
            }))
        }
    }
}

fn flip_sign(values: &Values) -> Values {
    match values {
        Values::I8(v) => Values::U8(v.iter().map(|&x| x as u8).collect()),
        Values::I16(v) => Values::U16(v.iter().map(|&x| x as u16).collect()),
        Values::I32(v) => Values::U32(v.iter().map(|&x| x as u32).collect()),
        Values::I64(v) => Values::U64(v.iter().map(|&x| x as u64).collect()),
        Values::U8(v) => Values::I8(v.iter().map(|&x| x as i8).collect()),
        Values::U16(v) => Values::I16(v.iter().map(|&x| x as i16).collect()),
        Values::U32(v) => Values::I32(v.iter().map(|&x| x as i32).collect()),
        Values::U64(v) => Values::I64(v.iter().map(|&x| x as i64).collect()),
        other => other.clone(),
    }
}

/// Element conversions exactly as numpy's `astype` does them.
trait Element: Copy {
    fn to_f32(self) -> f32;
    fn to_f64(self) -> f64;
    fn to_i64(self) -> i64;
}

macro_rules! element {
    ($($t:ty),*) => {$(
        impl Element for $t {
            fn to_f32(self) -> f32 { self as f32 }
            fn to_f64(self) -> f64 { self as f64 }
            fn to_i64(self) -> i64 { self as i64 }
        }
    )*};
}
element!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);

fn matches_fill(x: f64, fills: &[Fill]) -> bool {
    fills.iter().any(|f| matches!(f, Fill::Float(v) if *v == x))
}

fn any_fill(values: &Values, fills: &[Fill]) -> bool {
    match values {
        Values::F32(v) => v.iter().any(|&x| matches_fill(f64::from(x), fills)),
        Values::F64(v) => v.iter().any(|&x| matches_fill(x, fills)),
        _ => true,
    }
}

fn mask_slice<T: Element>(src: &[T], target: MaskTarget, fills: &[Fill]) -> Values {
    match target {
        MaskTarget::Float(Float::F32) => Values::F32(
            src.iter()
                .map(|&x| {
                    let y = x.to_f32();
                    if matches_fill(f64::from(y), fills) {
                        f32::NAN
                    } else {
                        y
                    }
                })
                .collect(),
        ),
        MaskTarget::Float(Float::F64) => Values::F64(
            src.iter()
                .map(|&x| {
                    let y = x.to_f64();
                    if matches_fill(y, fills) {
                        f64::NAN
                    } else {
                        y
                    }
                })
                .collect(),
        ),
        MaskTarget::Nat => Values::I64(
            src.iter()
                .map(|&x| {
                    let y = x.to_i64();
                    let hit = fills.iter().any(|f| match *f {
                        Fill::Int(v) => i128::from(y) == v,
                        Fill::Float(v) => y as f64 == v,
                    });
                    if hit {
                        i64::MIN
                    } else {
                        y
                    }
                })
                .collect(),
        ),
    }
}

fn apply_mask(values: &Values, target: MaskTarget, fills: &[Fill]) -> Values {
    each_numeric!(values, v => mask_slice(v, target, fills), values.clone())
}

fn scale_f32(x: f32, scale: Option<Op>, offset: Option<Op>) -> f32 {
    let mut y = x;
    if let Some(s) = scale {
        y = if s.in_f32 {
            y * s.value as f32
        } else {
            (f64::from(y) * s.value) as f32
        };
    }
    if let Some(o) = offset {
        y = if o.in_f32 {
            y + o.value as f32
        } else {
            (f64::from(y) + o.value) as f32
        };
    }
    y
}

fn scale_f64(x: f64, scale: Option<Op>, offset: Option<Op>) -> f64 {
    let mut y = x;
    if let Some(s) = scale {
        y *= s.value;
    }
    if let Some(o) = offset {
        y += o.value;
    }
    y
}

fn apply_scale(
    values: Cow<'_, Values>,
    working: Float,
    scale: Option<Op>,
    offset: Option<Op>,
) -> Values {
    match (working, values) {
        (Float::F32, Cow::Owned(Values::F32(mut v))) => {
            v.iter_mut().for_each(|x| *x = scale_f32(*x, scale, offset));
            Values::F32(v)
        }
        (Float::F64, Cow::Owned(Values::F64(mut v))) => {
            v.iter_mut().for_each(|x| *x = scale_f64(*x, scale, offset));
            Values::F64(v)
        }
        (Float::F32, values) => each_numeric!(
            values.as_ref(),
            v => Values::F32(v.iter().map(|&x| scale_f32(x.to_f32(), scale, offset)).collect()),
            values.into_owned()
        ),
        (Float::F64, values) => each_numeric!(
            values.as_ref(),
            v => Values::F64(v.iter().map(|&x| scale_f64(x.to_f64(), scale, offset)).collect()),
            values.into_owned()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::Endian;
    use crate::model::StorageLayout;
    use crate::values::Attribute;

    fn num(name: &str, v: Values) -> Attribute {
        let dtype = Prim::of_values(&v)
            .map(Prim::dtype)
            .unwrap_or(DType::String);
        Attribute {
            name: name.into(),
            value: AttrValue::Array(v),
            dtype,
        }
    }

    fn var(dtype: DType, attributes: Vec<Attribute>) -> Variable {
        Variable {
            name: "v".into(),
            path: "/v".into(),
            dims: vec!["x".into()],
            shape: vec![4],
            dtype,
            endian: Endian::Little,
            layout: StorageLayout::Contiguous,
            chunk_shape: None,
            codecs: Vec::new(),
            fill_value: None,
            attributes,
        }
    }

    fn decode(dtype: DType, attrs: Vec<Attribute>, values: Values) -> Values {
        let d = CfDecoder::new(&var(dtype, attrs)).unwrap();
        let out = d.decode(&values).unwrap().into_owned();
        assert_eq!(
            d.output_dtype().name(),
            out.type_name(),
            "output_dtype must announce the decoded type"
        );
        out
    }

    /// Bit patterns, so that NaN equals NaN.
    fn bits32(v: &Values) -> Vec<u32> {
        match v {
            Values::F32(x) => x.iter().map(|f| f.to_bits()).collect(),
            other => panic!("expected float32, got {}", other.type_name()),
        }
    }

    fn bits64(v: &Values) -> Vec<u64> {
        match v {
            Values::F64(x) => x.iter().map(|f| f.to_bits()).collect(),
            other => panic!("expected float64, got {}", other.type_name()),
        }
    }

    /// Expected float32 values, written as the exact float64 numpy prints for them.
    fn f32s(x: &[f64]) -> Vec<u32> {
        x.iter()
            .map(|&f| {
                let g = f as f32;
                assert!(f.is_nan() || f64::from(g) == f, "{f} is not a float32");
                g.to_bits()
            })
            .collect()
    }

    fn f64s(x: &[f64]) -> Vec<u64> {
        x.iter().map(|f| f.to_bits()).collect()
    }

    // Every expected value below was produced by xarray 2026.9.0 / numpy 2.4.6
    // (`xr.decode_cf` on the same data and attributes).

    #[test]
    fn int16_packed_with_float32_attributes_decodes_to_float32() {
        let out = decode(
            DType::I16,
            vec![
                num("_FillValue", Values::I16(vec![-32767])),
                num("scale_factor", Values::F32(vec![0.01])),
                num("add_offset", Values::F32(vec![273.15])),
            ],
            Values::I16(vec![-32767, 0, 100, 32767]),
        );
        let expect = [
            f64::NAN,
            273.149_993_896_484_4,
            274.149_993_896_484_4,
            600.819_946_289_062_5_f64,
        ];
        assert_eq!(bits32(&out), f32s(&expect));
    }

    #[test]
    fn int16_packed_with_float64_attributes_decodes_to_float64() {
        let out = decode(
            DType::I16,
            vec![
                num("_FillValue", Values::I16(vec![-32767])),
                num("scale_factor", Values::F64(vec![0.01])),
                num("add_offset", Values::F64(vec![273.15])),
            ],
            Values::I16(vec![-32767, 0, 100, 32767]),
        );
        assert_eq!(
            bits64(&out),
            f64s(&[f64::NAN, 273.15, 274.15, 600.819_999_999_999_9])
        );
    }

    #[test]
    fn a_float32_scale_factor_alone_keeps_float32_without_a_fill_value() {
        let out = decode(
            DType::I16,
            vec![num("scale_factor", Values::F32(vec![0.01]))],
            Values::I16(vec![-32767, 0, 100, 32767]),
        );
        assert_eq!(
            bits32(&out),
            f32s(&[-327.669_982_910_156_25, 0.0, 1.0, 327.669_982_910_156_25])
        );
    }

    #[test]
    fn int32_packed_with_float32_attributes_is_widened_to_float64() {
        let out = decode(
            DType::I32,
            vec![
                num("_FillValue", Values::I32(vec![-1])),
                num("scale_factor", Values::F32(vec![0.5])),
                num("add_offset", Values::F32(vec![1.0])),
            ],
            Values::I32(vec![-1, 0, 100, 127]),
        );
        assert_eq!(bits64(&out), f64s(&[f64::NAN, 1.0, 51.0, 64.5]));
    }

    #[test]
    fn mixed_attribute_types_with_an_offset_give_float64() {
        let out = decode(
            DType::I16,
            vec![
                num("scale_factor", Values::F32(vec![0.1])),
                num("add_offset", Values::F64(vec![1.5])),
            ],
            Values::I16(vec![3, 7]),
        );
        assert_eq!(
            bits64(&out),
            f64s(&[1.800_000_004_470_348_4, 2.200_000_010_430_813])
        );
        let out = decode(
            DType::I16,
            vec![
                num("_FillValue", Values::I16(vec![1])),
                num("add_offset", Values::I16(vec![5])),
            ],
            Values::I16(vec![1, 2]),
        );
        assert_eq!(bits64(&out), f64s(&[f64::NAN, 7.0]));
        let out = decode(
            DType::U8,
            vec![
                num("_FillValue", Values::U8(vec![255])),
                num("scale_factor", Values::F64(vec![0.1])),
                num("add_offset", Values::F64(vec![-1.0])),
            ],
            Values::U8(vec![255, 7]),
        );
        assert_eq!(bits64(&out), f64s(&[f64::NAN, -0.299_999_999_999_999_93]));
    }

    #[test]
    fn a_float32_scale_factor_narrows_float64_data_to_float32() {
        let out = decode(
            DType::F64,
            vec![num("scale_factor", Values::F32(vec![0.1]))],
            Values::F64(vec![1.0, 2.0, 3.0, 4.0]),
        );
        let expect = [
            0.100_000_001_490_116_12,
            0.200_000_002_980_232_24,
            0.300_000_011_920_928_96,
            0.400_000_005_960_464_5,
        ];
        assert_eq!(bits32(&out), f32s(&expect));
    }

    #[test]
    fn unsigned_true_reinterprets_signed_bytes_and_their_fill_value() {
        let out = decode(
            DType::I8,
            vec![
                Attribute::text("_Unsigned", "true"),
                num("_FillValue", Values::I8(vec![-1])),
            ],
            Values::I8(vec![-1, 0, 100, -128]),
        );
        assert_eq!(bits32(&out), f32s(&[f64::NAN, 0.0, 100.0, 128.0]));
        let out = decode(
            DType::I8,
            vec![Attribute::text("_Unsigned", "true")],
            Values::I8(vec![-1, 0, 100, 127]),
        );
        assert_eq!(out, Values::U8(vec![255, 0, 100, 127]));
        let out = decode(
            DType::I16,
            vec![
                Attribute::text("_Unsigned", "true"),
                num("scale_factor", Values::F32(vec![2.0])),
            ],
            Values::I16(vec![3, 7]),
        );
        assert_eq!(bits32(&out), f32s(&[6.0, 14.0]));
    }

    #[test]
    fn unsigned_false_reinterprets_unsigned_data_as_signed() {
        let out = decode(
            DType::U16,
            vec![
                Attribute::text("_Unsigned", "false"),
                num("_FillValue", Values::U16(vec![65535])),
            ],
            Values::U16(vec![65535, 1, 32768]),
        );
        assert_eq!(bits32(&out), f32s(&[f64::NAN, 1.0, -32768.0]));
    }

    #[test]
    fn masking_alone_widens_small_integers_to_float32_and_others_to_float64() {
        let out = decode(
            DType::I16,
            vec![num("_FillValue", Values::I16(vec![-1]))],
            Values::I16(vec![-1, 7]),
        );
        assert_eq!(bits32(&out), f32s(&[f64::NAN, 7.0]));
        let out = decode(
            DType::I32,
            vec![num("missing_value", Values::I32(vec![1, 3]))],
            Values::I32(vec![1, 2, 3, 4]),
        );
        assert_eq!(bits64(&out), f64s(&[f64::NAN, 2.0, f64::NAN, 4.0]));
        let out = decode(
            DType::I32,
            vec![
                num("missing_value", Values::I32(vec![1, 3])),
                num("_FillValue", Values::I32(vec![4])),
            ],
            Values::I32(vec![1, 2, 3, 4]),
        );
        assert_eq!(bits64(&out), f64s(&[f64::NAN, 2.0, f64::NAN, f64::NAN]));
    }

    #[test]
    fn fill_values_compare_after_conversion_to_the_decoded_type() {
        // 2^53 + 1 becomes 2^53 in float64 and so equals the fill value.
        let out = decode(
            DType::I64,
            vec![num("_FillValue", Values::I64(vec![1 << 53]))],
            Values::I64(vec![(1 << 53) + 1, 7]),
        );
        assert_eq!(bits64(&out), f64s(&[f64::NAN, 7.0]));
        // 16777217 becomes 16777216 in float32.
        let out = decode(
            DType::I32,
            vec![
                num("_FillValue", Values::I32(vec![16_777_216])),
                num("scale_factor", Values::F32(vec![1.0])),
            ],
            Values::I32(vec![16_777_217, 2]),
        );
        assert_eq!(bits32(&out), f32s(&[f64::NAN, 2.0]));
    }

    #[test]
    fn a_float64_missing_value_does_not_mask_float32_data() {
        let out = decode(
            DType::F32,
            vec![num("missing_value", Values::F64(vec![1e20]))],
            Values::F32(vec![1e20, 0.0]),
        );
        assert_eq!(bits32(&out), f32s(&[1.000_000_020_040_877_3e20, 0.0]));
        let out = decode(
            DType::F32,
            vec![num("missing_value", Values::F32(vec![1e20]))],
            Values::F32(vec![1e20, 0.0]),
        );
        assert_eq!(bits32(&out), f32s(&[f64::NAN, 0.0]));
    }

    #[test]
    fn a_nan_fill_value_on_floats_keeps_their_type_through_scaling() {
        let out = decode(
            DType::F32,
            vec![
                num("_FillValue", Values::F32(vec![f32::NAN])),
                num("scale_factor", Values::F64(vec![2.0])),
            ],
            Values::F32(vec![f32::NAN, 2.0]),
        );
        assert_eq!(bits32(&out), f32s(&[f64::NAN, 4.0]));
        let out = decode(
            DType::F32,
            vec![num("scale_factor", Values::F64(vec![2.0]))],
            Values::F32(vec![f32::NAN, 2.0]),
        );
        assert_eq!(bits64(&out), f64s(&[f64::NAN, 4.0]));
    }

    #[test]
    fn a_nan_fill_value_on_integers_is_dropped() {
        let d = CfDecoder::new(&var(
            DType::I32,
            vec![num("_FillValue", Values::F64(vec![f64::NAN]))],
        ))
        .unwrap();
        assert!(d.is_identity());
        let values = Values::I32(vec![-1, 7]);
        assert!(matches!(d.decode(&values).unwrap(), Cow::Borrowed(_)));
    }

    #[test]
    fn masked_integer_times_become_nat_in_int64() {
        let out = decode(
            DType::I64,
            vec![
                num("missing_value", Values::I64(vec![-2])),
                Attribute::text("units", "hours since 2000-01-01"),
            ],
            Values::I64(vec![-2, 7]),
        );
        assert_eq!(out, Values::I64(vec![i64::MIN, 7]));
    }

    #[test]
    fn variables_without_cf_attributes_decode_to_themselves_without_a_copy() {
        let d = CfDecoder::new(&var(DType::I16, vec![Attribute::text("units", "K")])).unwrap();
        assert!(d.is_identity());
        assert_eq!(d.output_dtype(), DType::I16);
        let values = Values::I16(vec![1, 2]);
        assert!(matches!(d.decode(&values).unwrap(), Cow::Borrowed(_)));
        // Float data already of its type with no fill value present is not copied either.
        let d = CfDecoder::new(&var(
            DType::F32,
            vec![num("_FillValue", Values::F32(vec![-9.0]))],
        ))
        .unwrap();
        let values = Values::F32(vec![1.0, 2.0]);
        assert!(matches!(d.decode(&values).unwrap(), Cow::Borrowed(_)));
        let values = Values::F32(vec![-9.0, 2.0]);
        assert!(matches!(d.decode(&values).unwrap(), Cow::Owned(_)));
        let strings = Values::Str(vec!["a".into()]);
        assert!(matches!(d.decode(&strings).unwrap(), Cow::Borrowed(_)));
    }

    /// One case of testdata/packing_cases.jsonl as arco values.
    fn json_values(dtype: &str, items: &[serde_json::Value]) -> Values {
        let hex =
            |v: &serde_json::Value| u64::from_str_radix(v.as_str().unwrap_or(""), 16).unwrap();
        let int = |v: &serde_json::Value| {
            v.as_i64()
                .map(i128::from)
                .or(v.as_u64().map(i128::from))
                .unwrap()
        };
        match dtype {
            "f4" | "float32" => Values::F32(
                items
                    .iter()
                    .map(|v| f32::from_bits(hex(v) as u32))
                    .collect(),
            ),
            "f8" | "float64" => Values::F64(items.iter().map(|v| f64::from_bits(hex(v))).collect()),
            "i1" | "int8" => Values::I8(items.iter().map(|v| int(v) as i8).collect()),
            "i2" | "int16" => Values::I16(items.iter().map(|v| int(v) as i16).collect()),
            "i4" | "int32" => Values::I32(items.iter().map(|v| int(v) as i32).collect()),
            "i8" | "int64" => Values::I64(items.iter().map(|v| int(v) as i64).collect()),
            "u1" | "uint8" => Values::U8(items.iter().map(|v| int(v) as u8).collect()),
            "u2" | "uint16" => Values::U16(items.iter().map(|v| int(v) as u16).collect()),
            "u4" | "uint32" => Values::U32(items.iter().map(|v| int(v) as u32).collect()),
            "u8" | "uint64" => Values::U64(items.iter().map(|v| int(v) as u64).collect()),
            other => panic!("unknown dtype {other}"),
        }
    }

    /// Equal element by element, any NaN equal to any NaN.
    fn same_values(a: &Values, b: &Values) -> bool {
        match (a, b) {
            (Values::F32(x), Values::F32(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .zip(y)
                        .all(|(p, q)| p.to_bits() == q.to_bits() || (p.is_nan() && q.is_nan()))
            }
            (Values::F64(x), Values::F64(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .zip(y)
                        .all(|(p, q)| p.to_bits() == q.to_bits() || (p.is_nan() && q.is_nan()))
            }
            (a, b) => a == b,
        }
    }

    #[test]
    fn eight_hundred_random_variables_decode_as_xarray_decodes_them() {
        // Made by testdata/make_packing_cases.py with xarray 2026.9.0 and numpy 2.4.6.
        let table = include_str!("testdata/packing_cases.jsonl");
        let mut failures = Vec::new();
        let mut integer_scale = 0;
        for line in table.lines().filter(|l| !l.trim().is_empty()) {
            let case: serde_json::Value = serde_json::from_str(line).unwrap();
            let dtype = case["dtype"].as_str().unwrap();
            let values = json_values(dtype, case["values"].as_array().unwrap());
            let mut attrs = Vec::new();
            for a in case["attrs"].as_array().unwrap() {
                let name = a[0].as_str().unwrap();
                match a[1].as_str().unwrap() {
                    "text" => attrs.push(Attribute::text(name, a[2].as_str().unwrap())),
                    adt => attrs.push(num(name, json_values(adt, a[2].as_array().unwrap()))),
                }
            }
            let out_dtype = case["out_dtype"].as_str().unwrap();
            let is_int_scale = |n: &str| {
                attrs
                    .iter()
                    .any(|a| a.name == n && !matches!(a.dtype, DType::F32 | DType::F64))
            };
            if (is_int_scale("scale_factor") || is_int_scale("add_offset"))
                && !out_dtype.starts_with("float")
            {
                // xarray keeps an integer type for an integer scale_factor; arco uses float64.
                integer_scale += 1;
                continue;
            }
            let expect = json_values(out_dtype, case["out"].as_array().unwrap());
            let stored = Prim::of_values(&values).map(Prim::dtype).unwrap();
            let d = CfDecoder::new(&var(stored, attrs)).unwrap();
            let got = d.decode(&values).unwrap();
            if !same_values(&got, &expect) || d.output_dtype().name() != out_dtype {
                failures.push(format!("{line}\n  arco: {} {:?}", d.output_dtype(), got));
            }
        }
        assert!(
            integer_scale < 100,
            "too many skipped cases: {integer_scale}"
        );
        assert!(
            failures.is_empty(),
            "{} mismatches:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    #[test]
    fn a_text_scale_factor_is_an_error_naming_the_attribute() {
        let e = CfDecoder::new(&var(
            DType::I16,
            vec![Attribute::text("scale_factor", "0.1")],
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("scale_factor") && e.contains("/v"), "{e}");
    }

    #[test]
    fn fill_values_report_the_unsigned_conversion() {
        let d = CfDecoder::new(&var(
            DType::I16,
            vec![
                Attribute::text("_Unsigned", "true"),
                num("_FillValue", Values::I16(vec![-1])),
            ],
        ))
        .unwrap();
        assert_eq!(d.fill_values(), vec![65535.0]);
        assert_eq!(d.output_dtype(), DType::F32);
        assert_eq!(d.scale_factor(), None);
    }
}
