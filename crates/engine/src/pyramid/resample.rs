//! The resampling kernel: one region of a level from the region of the level
//! below that covers it.
//!
//! * `mean`: each output element is the mean of the (up to) 2×2 block of
//!   input elements along the downsampled axes, ignoring missing ones; a
//!   block with no valid element is missing; at an odd edge the block is
//!   what lies inside the array.
//! * `nearest`: the block's first (top-left) stored element, unchanged.
//!
//! Means are computed in the **unpacked stored domain**: stored integers
//! (reinterpreted for `_Unsigned`) or floats as `f64`, with the CF fill
//! values (`_FillValue`, `missing_value`, as xarray's masking compares them)
//! and NaN treated as missing. CF decoding is affine
//! (`decoded = stored × scale_factor + add_offset`), so the mean of decoded
//! values is the decoded mean of stored values; computing it on exact
//! integers keeps rounding ties exact. The mean is then stored back in the
//! output type: integers rounded half to even (and clamped to the type),
//! floats rounded once to their width, missing as the output's fill value.
//! When the output is packed differently (an integer horizontal coordinate,
//! stored as `float64` in the levels), the mean is decoded with the input's
//! `scale_factor`/`add_offset` first.

use crate::{Error, Result};
use arco_core::cf::CfDecoder;
use arco_core::{AttrValue, DType, NdArray, Values, Variable};
use serde::{Deserialize, Serialize};

/// How one block becomes one element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Mean of the valid elements.
    Mean,
    /// The first element of the block, unchanged.
    Nearest,
}

/// How stored values of one array become numbers and back.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Codec {
    /// Stored type (an enum's base type).
    stored: DType,
    /// `_Unsigned` reinterpretation applies.
    flip: bool,
    /// Stored values (after reinterpretation) that mean "missing".
    fills: Vec<f64>,
    /// What a missing element is stored as (raw stored value, before
    /// reinterpretation).
    missing: f64,
    /// `scale_factor` (1 when absent).
    scale: f64,
    /// `add_offset` (0 when absent).
    offset: f64,
}

impl Codec {
    /// The codec of `var` as stored.
    pub(crate) fn of(var: &Variable) -> Result<Codec> {
        let stored = match &var.dtype {
            DType::Enum { base, .. } => (**base).clone(),
            other => other.clone(),
        };
        let decoder = CfDecoder::new(var).map_err(Error::Core)?;
        let fills = decoder.fill_values();
        let unsigned = var.attr("_Unsigned").and_then(AttrValue::as_str);
        let flip = match unsigned {
            Some("true") => matches!(stored, DType::I8 | DType::I16 | DType::I32 | DType::I64),
            Some("false") => {
                matches!(stored, DType::U8 | DType::U16 | DType::U32 | DType::U64)
            }
            _ => false,
        };
        let first = |name: &str| {
            var.attr(name)
                .and_then(|a| a.as_f64_vec()?.first().copied())
        };
        let missing = first("_FillValue")
            .or_else(|| first("missing_value"))
            .unwrap_or(if stored.is_float() { f64::NAN } else { 0.0 });
        Ok(Codec {
            stored,
            flip,
            fills,
            missing,
            scale: decoder.scale_factor().unwrap_or(1.0),
            offset: decoder.add_offset().unwrap_or(0.0),
        })
    }

    /// Stored values as numbers, NaN where missing.
    pub(crate) fn numbers(&self, values: &Values) -> Result<Vec<f64>> {
        macro_rules! conv {
            ($v:expr, $flipped:ty) => {
                if self.flip {
                    $v.iter()
                        .map(|&x| x as $flipped as f64)
                        .collect::<Vec<f64>>()
                } else {
                    $v.iter().map(|&x| x as f64).collect::<Vec<f64>>()
                }
            };
        }
        let mut out: Vec<f64> = match values {
            Values::I8(v) => conv!(v, u8),
            Values::I16(v) => conv!(v, u16),
            Values::I32(v) => conv!(v, u32),
            Values::I64(v) => conv!(v, u64),
            Values::U8(v) => conv!(v, i8),
            Values::U16(v) => conv!(v, i16),
            Values::U32(v) => conv!(v, i32),
            Values::U64(v) => conv!(v, i64),
            Values::F32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            Values::F64(v) => v.clone(),
            other => {
                return Err(Error::Options(format!(
                    "{} values cannot be averaged",
                    other.type_name()
                )))
            }
        };
        if !self.fills.is_empty() {
            for x in &mut out {
                if self.fills.iter().any(|f| f == x) {
                    *x = f64::NAN;
                }
            }
        }
        Ok(out)
    }

    /// Numbers (NaN: missing) as stored values.
    pub(crate) fn stored(&self, numbers: &[f64]) -> Result<Values> {
        macro_rules! ints {
            ($t:ty, $eff:ty, $variant:ident) => {{
                let (lo, hi) = (<$eff>::MIN as f64, <$eff>::MAX as f64);
                let missing = self.missing as $t;
                Values::$variant(
                    numbers
                        .iter()
                        .map(|&x| {
                            if x.is_nan() {
                                missing
                            } else {
                                // Saturating float-to-int casts, then the
                                // two's complement reinterpretation.
                                (x.round_ties_even().clamp(lo, hi) as $eff) as $t
                            }
                        })
                        .collect(),
                )
            }};
        }
        Ok(match (&self.stored, self.flip) {
            (DType::I8, false) => ints!(i8, i8, I8),
            (DType::I8, true) => ints!(i8, u8, I8),
            (DType::I16, false) => ints!(i16, i16, I16),
            (DType::I16, true) => ints!(i16, u16, I16),
            (DType::I32, false) => ints!(i32, i32, I32),
            (DType::I32, true) => ints!(i32, u32, I32),
            (DType::I64, false) => ints!(i64, i64, I64),
            (DType::I64, true) => ints!(i64, u64, I64),
            (DType::U8, false) => ints!(u8, u8, U8),
            (DType::U8, true) => ints!(u8, i8, U8),
            (DType::U16, false) => ints!(u16, u16, U16),
            (DType::U16, true) => ints!(u16, i16, U16),
            (DType::U32, false) => ints!(u32, u32, U32),
            (DType::U32, true) => ints!(u32, i32, U32),
            (DType::U64, false) => ints!(u64, u64, U64),
            (DType::U64, true) => ints!(u64, i64, U64),
            (DType::F32, _) => Values::F32(
                numbers
                    .iter()
                    .map(|&x| {
                        if x.is_nan() {
                            self.missing as f32
                        } else {
                            x as f32
                        }
                    })
                    .collect(),
            ),
            (DType::F64, _) => Values::F64(
                numbers
                    .iter()
                    .map(|&x| if x.is_nan() { self.missing } else { x })
                    .collect(),
            ),
            (other, _) => {
                return Err(Error::Options(format!(
                    "cannot store averaged values as {other}"
                )))
            }
        })
    }
}

/// The shape of the output of an input of `shape` halved along `axes`.
pub(crate) fn halved(shape: &[u64], axes: &[usize]) -> Vec<u64> {
    shape
        .iter()
        .enumerate()
        .map(|(d, &n)| if axes.contains(&d) { n.div_ceil(2) } else { n })
        .collect()
}

/// For every output element (C order), the flat input offsets of its block:
/// calls `f(out_index, first, &others)` where `others` are the remaining
/// offsets of the block inside the input. `axes` are one or two dimensions
/// (the planner never asks for more); the input is seen as
/// `[A, Y, B, X, C]` with `Y` and `X` the halved axes (`X` = 1 for one).
fn for_each_block(in_shape: &[u64], axes: &[usize], mut f: impl FnMut(usize, usize, &[usize])) {
    let total_in: u64 = in_shape.iter().product();
    if total_in == 0 {
        return;
    }
    let prod =
        |r: std::ops::Range<usize>| -> usize { in_shape[r].iter().product::<u64>() as usize };
    let n = in_shape.len();
    let (ya, xa) = match axes {
        [a] => (*a, None),
        [a, b] => ((*a).min(*b), Some((*a).max(*b))),
        _ => {
            // Not planned; treat every axis listed after the first as not halved.
            match axes.first() {
                Some(a) => (*a, None),
                None => return,
            }
        }
    };
    let a_len = prod(0..ya);
    let y_len = in_shape[ya] as usize;
    let (b_len, x_len, c_len) = match xa {
        Some(xa) => (prod(ya + 1..xa), in_shape[xa] as usize, prod(xa + 1..n)),
        None => (1, 1, prod(ya + 1..n)),
    };
    let halve_x = xa.is_some();
    let oy_len = y_len.div_ceil(2);
    let ox_len = if halve_x { x_len.div_ceil(2) } else { x_len };
    let at = |a: usize, y: usize, b: usize, x: usize, c: usize| {
        (((a * y_len + y) * b_len + b) * x_len + x) * c_len + c
    };
    let mut o = 0usize;
    let mut others = [0usize; 3];
    for a in 0..a_len {
        for oy in 0..oy_len {
            let y0 = 2 * oy;
            let y1 = (y0 + 1 < y_len).then_some(y0 + 1);
            for b in 0..b_len {
                for ox in 0..ox_len {
                    let (x0, x1) = if halve_x {
                        let x0 = 2 * ox;
                        (x0, (x0 + 1 < x_len).then_some(x0 + 1))
                    } else {
                        (ox, None)
                    };
                    for c in 0..c_len {
                        let first = at(a, y0, b, x0, c);
                        let mut k = 0;
                        if let Some(x1) = x1 {
                            others[k] = at(a, y0, b, x1, c);
                            k += 1;
                        }
                        if let Some(y1) = y1 {
                            others[k] = at(a, y1, b, x0, c);
                            k += 1;
                            if let Some(x1) = x1 {
                                others[k] = at(a, y1, b, x1, c);
                                k += 1;
                            }
                        }
                        f(o, first, &others[..k]);
                        o += 1;
                    }
                }
            }
        }
    }
}

/// Pick elements by flat index.
fn take(values: &Values, picks: &[usize]) -> Result<Values> {
    fn pick<T: Copy>(v: &[T], picks: &[usize]) -> Vec<T> {
        picks.iter().map(|&i| v[i]).collect()
    }
    Ok(match values {
        Values::Bool(v) => Values::Bool(pick(v, picks)),
        Values::I8(v) => Values::I8(pick(v, picks)),
        Values::I16(v) => Values::I16(pick(v, picks)),
        Values::I32(v) => Values::I32(pick(v, picks)),
        Values::I64(v) => Values::I64(pick(v, picks)),
        Values::U8(v) => Values::U8(pick(v, picks)),
        Values::U16(v) => Values::U16(pick(v, picks)),
        Values::U32(v) => Values::U32(pick(v, picks)),
        Values::U64(v) => Values::U64(pick(v, picks)),
        Values::F32(v) => Values::F32(pick(v, picks)),
        Values::F64(v) => Values::F64(pick(v, picks)),
        Values::Str(v) => Values::Str(picks.iter().map(|&i| v[i].clone()).collect()),
        other => {
            return Err(Error::Options(format!(
                "{} values cannot be resampled",
                other.type_name()
            )))
        }
    })
}

/// Resample `input` (stored values of the level below, stored as `from`
/// describes) along `axes` into stored values of the level, as `to`
/// describes (the same codec, except for coordinates that become `float64`).
pub(crate) fn downsample(
    input: &NdArray,
    axes: &[usize],
    method: Method,
    from: &Codec,
    to: &Codec,
) -> Result<NdArray> {
    let shape = halved(&input.shape, axes);
    let count = shape.iter().product::<u64>() as usize;
    if input.values.len() as u64 != input.shape.iter().product::<u64>() {
        return Err(Error::Options(format!(
            "{} values for a region of shape {:?}",
            input.values.len(),
            input.shape
        )));
    }
    let values = if method == Method::Nearest && from.stored == to.stored && from.flip == to.flip {
        let mut picks = vec![0usize; count];
        for_each_block(&input.shape, axes, |o, first, _| picks[o] = first);
        take(&input.values, &picks)?
    } else {
        let numbers = from.numbers(&input.values)?;
        let mut out = vec![f64::NAN; count];
        match method {
            Method::Nearest => {
                for_each_block(&input.shape, axes, |o, first, _| out[o] = numbers[first]);
            }
            Method::Mean => for_each_block(&input.shape, axes, |o, first, others| {
                let mut sum = 0.0;
                let mut n = 0u32;
                for &i in std::iter::once(&first).chain(others) {
                    let x = numbers[i];
                    if !x.is_nan() {
                        sum += x;
                        n += 1;
                    }
                }
                if n > 0 {
                    out[o] = sum / f64::from(n);
                }
            }),
        }
        // Another packing (a packed integer coordinate stored as float64):
        // decode, then encode for the output.
        if from.scale != to.scale || from.offset != to.offset {
            for x in &mut out {
                *x = (*x * from.scale + from.offset - to.offset) / to.scale;
            }
        }
        to.stored(&out)?
    };
    Ok(NdArray { shape, values })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use arco_core::{Attribute, Endian, StorageLayout};

    fn var(dtype: DType, attributes: Vec<Attribute>) -> Variable {
        Variable {
            name: "v".into(),
            path: "/v".into(),
            dims: vec!["y".into(), "x".into()],
            shape: vec![3, 3],
            dtype,
            endian: Endian::Little,
            layout: StorageLayout::Contiguous,
            chunk_shape: None,
            codecs: vec![],
            fill_value: None,
            attributes,
        }
    }

    fn num(name: &str, v: Values, dtype: DType) -> Attribute {
        Attribute {
            name: name.into(),
            value: AttrValue::Array(v),
            dtype,
        }
    }

    #[test]
    fn a_two_by_two_mean_ignores_missing_values_and_keeps_odd_edges() {
        // 3x3 with a fill value -9999 and a NaN:
        //   1      2      3
        //   NaN    -9999  5
        //   7      8      9
        let v = var(
            DType::F32,
            vec![num("_FillValue", Values::F32(vec![-9999.0]), DType::F32)],
        );
        let c = Codec::of(&v).unwrap();
        let input = NdArray {
            shape: vec![3, 3],
            values: Values::F32(vec![1.0, 2.0, 3.0, f32::NAN, -9999.0, 5.0, 7.0, 8.0, 9.0]),
        };
        let out = downsample(&input, &[0, 1], Method::Mean, &c, &c).unwrap();
        assert_eq!(out.shape, vec![2, 2]);
        assert_eq!(out.values, Values::F32(vec![1.5, 4.0, 7.5, 9.0]));
        // A block of missing values only is missing: stored as the fill value.
        let input = NdArray {
            shape: vec![2, 2],
            values: Values::F32(vec![-9999.0, f32::NAN, f32::NAN, -9999.0]),
        };
        let out = downsample(&input, &[0, 1], Method::Mean, &c, &c).unwrap();
        assert_eq!(out.values, Values::F32(vec![-9999.0]));
    }

    #[test]
    fn nearest_takes_the_top_left_value_unchanged() {
        let c = Codec::of(&var(DType::I16, vec![])).unwrap();
        let input = NdArray {
            shape: vec![3, 3],
            values: Values::I16(vec![1, 2, 3, 4, 5, 6, 7, 8, 9]),
        };
        let out = downsample(&input, &[0, 1], Method::Nearest, &c, &c).unwrap();
        assert_eq!(out.values, Values::I16(vec![1, 3, 7, 9]));
    }

    #[test]
    fn packed_unsigned_means_round_half_to_even_in_the_stored_domain() {
        // int16 with _Unsigned=true and _FillValue -1 (65535 unsigned).
        let v = var(
            DType::I16,
            vec![
                num("_FillValue", Values::I16(vec![-1]), DType::I16),
                Attribute::text("_Unsigned", "true"),
                num("scale_factor", Values::F32(vec![0.5]), DType::F32),
            ],
        );
        let c = Codec::of(&v).unwrap();
        // Blocks: {40000, 40001} -> 40000.5 -> 40000 (even); {3, 4, -1, -1} -> 3.5 -> 4;
        // {-1} -> missing.
        let input = NdArray {
            shape: vec![2, 5],
            values: Values::I16(vec![
                40000u16 as i16,
                40001u16 as i16,
                3,
                4,
                -1,
                -1,
                -1,
                -1,
                -1,
                -1,
            ]),
        };
        let out = downsample(&input, &[0, 1], Method::Mean, &c, &c).unwrap();
        assert_eq!(
            out.values,
            Values::I16(vec![40000u16 as i16, 4, -1]),
            "{:?}",
            out.values
        );
    }

    #[test]
    fn a_packed_coordinate_becomes_the_decoded_mean_of_its_block() {
        let from = Codec::of(&var(
            DType::I16,
            vec![
                num("scale_factor", Values::F64(vec![0.5]), DType::F64),
                num("add_offset", Values::F64(vec![-1.0]), DType::F64),
            ],
        ))
        .unwrap();
        let to = Codec::of(&var(DType::F64, vec![])).unwrap();
        let input = NdArray {
            shape: vec![3],
            values: Values::I16(vec![0, 1, 2]),
        };
        let out = downsample(&input, &[0], Method::Mean, &from, &to).unwrap();
        assert_eq!(out.values, Values::F64(vec![-0.75, 0.0]));
    }

    #[test]
    fn only_the_named_axes_are_halved() {
        let c = Codec::of(&var(DType::F64, vec![])).unwrap();
        // (2, 4) halved along axis 1 only.
        let input = NdArray {
            shape: vec![2, 4],
            values: Values::F64(vec![0.0, 2.0, 4.0, 6.0, 1.0, 3.0, 5.0, 7.0]),
        };
        let out = downsample(&input, &[1], Method::Mean, &c, &c).unwrap();
        assert_eq!(out.shape, vec![2, 2]);
        assert_eq!(out.values, Values::F64(vec![1.0, 5.0, 2.0, 6.0]));
    }
}
