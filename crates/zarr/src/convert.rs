//! Between arco's [`Values`] and the element bytes zarrs encodes: typed
//! vectors to native-endian bytes and back, cutting a region into whole
//! chunks (padding edge chunks with the fill value), and strided reads.

use crate::metadata::storage_dtype;
use arco_core::{DType, Values};
use std::borrow::Cow;

/// Elements as zarrs takes them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Elements<'a> {
    /// Fixed-size elements, `size` native-endian bytes each.
    Fixed {
        /// Bytes per element.
        size: usize,
        /// All elements back to back; borrowed from the values where they
        /// already are native-endian bytes (every numeric type).
        bytes: Cow<'a, [u8]>,
    },
    /// Variable-length UTF-8 strings.
    Strings(Vec<String>),
}

/// The native-endian bytes of numeric values, without a copy.
macro_rules! ne_bytes {
    ($v:expr) => {
        Cow::Borrowed(bytemuck::cast_slice::<_, u8>($v.as_slice()))
    };
}

fn mismatch(values: &Values, dtype: &DType) -> String {
    format!(
        "values of type {} cannot be stored in an array of type {dtype}",
        values.type_name()
    )
}

fn padded_strings(strings: &[String], size: usize) -> Result<Vec<u8>, String> {
    let mut out = vec![0u8; strings.len() * size];
    for (i, s) in strings.iter().enumerate() {
        let b = s.as_bytes();
        if b.len() > size {
            return Err(format!(
                "string {s:?} has {} bytes, more than the {size} of the array's type",
                b.len()
            ));
        }
        out[i * size..i * size + b.len()].copy_from_slice(b);
    }
    Ok(out)
}

/// The elements of `values` for an array of stored type `dtype`.
pub(crate) fn to_elements<'a>(values: &'a Values, dtype: &DType) -> Result<Elements<'a>, String> {
    let d = storage_dtype(dtype);
    let fixed = |size: usize, bytes: Cow<'a, [u8]>| Ok(Elements::Fixed { size, bytes });
    match (d, values) {
        (DType::Bool, Values::Bool(v)) => {
            fixed(1, Cow::Owned(v.iter().map(|b| u8::from(*b)).collect()))
        }
        (DType::Bool, Values::U8(v)) => {
            fixed(1, Cow::Owned(v.iter().map(|b| u8::from(*b != 0)).collect()))
        }
        (DType::I8, Values::I8(v)) => fixed(1, ne_bytes!(v)),
        (DType::I16, Values::I16(v)) => fixed(2, ne_bytes!(v)),
        (DType::I32, Values::I32(v)) => fixed(4, ne_bytes!(v)),
        (DType::I64, Values::I64(v)) => fixed(8, ne_bytes!(v)),
        (DType::U8, Values::U8(v)) => fixed(1, Cow::Borrowed(v)),
        (DType::U16, Values::U16(v)) => fixed(2, ne_bytes!(v)),
        (DType::U32, Values::U32(v)) => fixed(4, ne_bytes!(v)),
        (DType::U64, Values::U64(v)) => fixed(8, ne_bytes!(v)),
        (DType::F32, Values::F32(v)) => fixed(4, ne_bytes!(v)),
        (DType::F64, Values::F64(v)) => fixed(8, ne_bytes!(v)),
        (DType::Char, Values::U8(v)) => fixed(1, Cow::Borrowed(v)),
        (DType::Char, Values::I8(v)) => fixed(1, ne_bytes!(v)),
        (DType::Char, Values::Str(v)) => fixed(1, Cow::Owned(padded_strings(v, 1)?)),
        (DType::FixedString { size }, Values::Str(v)) => {
            fixed(*size, Cow::Owned(padded_strings(v, *size)?))
        }
        (DType::FixedString { size }, Values::U8(v)) => fixed(*size, Cow::Borrowed(v)),
        (DType::FixedString { size: s }, Values::Opaque { size, bytes })
        | (DType::Opaque { size: s }, Values::Opaque { size, bytes })
            if s == size =>
        {
            fixed(*size, Cow::Borrowed(bytes))
        }
        (DType::String, Values::Str(v)) => Ok(Elements::Strings(v.clone())),
        _ => Err(mismatch(values, dtype)),
    }
}

macro_rules! from_ne {
    ($bytes:expr, $t:ty) => {
        $bytes
            .chunks_exact(std::mem::size_of::<$t>())
            .map(|c| {
                let mut a = [0u8; std::mem::size_of::<$t>()];
                a.copy_from_slice(c);
                <$t>::from_ne_bytes(a)
            })
            .collect()
    };
}

/// Values of stored type `dtype` from native-endian element bytes.
pub(crate) fn from_fixed(bytes: &[u8], dtype: &DType) -> Result<Values, String> {
    Ok(match storage_dtype(dtype) {
        DType::Bool => Values::Bool(bytes.iter().map(|b| *b != 0).collect()),
        DType::I8 => Values::I8(bytes.iter().map(|b| i8::from_ne_bytes([*b])).collect()),
        DType::I16 => Values::I16(from_ne!(bytes, i16)),
        DType::I32 => Values::I32(from_ne!(bytes, i32)),
        DType::I64 => Values::I64(from_ne!(bytes, i64)),
        DType::U8 | DType::Char => Values::U8(bytes.to_vec()),
        DType::U16 => Values::U16(from_ne!(bytes, u16)),
        DType::U32 => Values::U32(from_ne!(bytes, u32)),
        DType::U64 => Values::U64(from_ne!(bytes, u64)),
        DType::F32 => Values::F32(from_ne!(bytes, f32)),
        DType::F64 => Values::F64(from_ne!(bytes, f64)),
        DType::FixedString { size } => Values::Str(
            bytes
                .chunks_exact((*size).max(1))
                .map(|c| {
                    let end = c.iter().position(|b| *b == 0).unwrap_or(c.len());
                    String::from_utf8_lossy(&c[..end]).into_owned()
                })
                .collect(),
        ),
        DType::Opaque { size } => Values::Opaque {
            size: *size,
            bytes: bytes.to_vec(),
        },
        other => return Err(format!("cannot read elements of type {other}")),
    })
}

/// Calls `f(src, dst, len)` for every contiguous run (along the last
/// dimension) of a box of `shape` elements, where `src` and `dst` are flat
/// element offsets in C-order arrays of shapes `src_shape` and `dst_shape`,
/// starting at `src_start` and `dst_start`.
pub(crate) fn for_each_run(
    shape: &[u64],
    src_shape: &[u64],
    src_start: &[u64],
    dst_shape: &[u64],
    dst_start: &[u64],
    mut f: impl FnMut(usize, usize, usize),
) {
    let n = shape.len();
    if shape.contains(&0) {
        return;
    }
    if n == 0 {
        f(0, 0, 1);
        return;
    }
    let strides = |s: &[u64]| {
        let mut st = vec![1u64; n];
        for i in (0..n.saturating_sub(1)).rev() {
            st[i] = st[i + 1] * s[i + 1];
        }
        st
    };
    let ss = strides(src_shape);
    let ds = strides(dst_shape);
    let run = shape[n - 1] as usize;
    let mut idx = vec![0u64; n.saturating_sub(1)];
    loop {
        let mut so = 0u64;
        let mut d_o = 0u64;
        for i in 0..n {
            let k = if i + 1 == n { 0 } else { idx[i] };
            so += (src_start[i] + k) * ss[i];
            d_o += (dst_start[i] + k) * ds[i];
        }
        f(so as usize, d_o as usize, run);
        // Next index over all but the last dimension.
        let mut d = n - 1;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            if idx[d] < shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
}

/// The element range of the region that a box covers, when the box lies
/// wholly inside the region and its elements are one contiguous run there
/// (ones on the outer axes, then at most one partial axis, then whole axes).
fn contiguous_run(
    len: &[u64],
    box_shape: &[u64],
    region_shape: &[u64],
    src_start: &[u64],
) -> Option<std::ops::Range<usize>> {
    if len != box_shape {
        return None;
    }
    let n = len.len();
    let mut k = n;
    while k > 0 && len[k - 1] == region_shape[k - 1] {
        k -= 1;
    }
    // Axes before the partial one (k - 1) must hold a single index.
    if k > 1 && len[..k - 1].iter().any(|&l| l != 1) {
        return None;
    }
    let mut offset: u64 = 0;
    for i in 0..n {
        offset = offset * region_shape[i] + src_start[i];
    }
    let count: u64 = len.iter().product();
    let start = usize::try_from(offset).ok()?;
    let end = start.checked_add(usize::try_from(count).ok()?)?;
    Some(start..end)
}

/// The part of a region (`region_start`, `region` elements of `region_shape`)
/// that falls in the box `[box_start, box_start + box_shape)`, as a full
/// box: positions outside the region hold `fill`.
pub(crate) fn cut_box<'a>(
    region: &'a Elements<'a>,
    region_start: &[u64],
    region_shape: &[u64],
    box_start: &[u64],
    box_shape: &[u64],
    fill: &[u8],
) -> Elements<'a> {
    let n = region_shape.len();
    let mut lo = vec![0u64; n];
    let mut len = vec![0u64; n];
    for i in 0..n {
        let a = region_start[i].max(box_start[i]);
        let b = (region_start[i] + region_shape[i]).min(box_start[i] + box_shape[i]);
        lo[i] = a;
        len[i] = b.saturating_sub(a);
    }
    let src_start: Vec<u64> = (0..n).map(|i| lo[i] - region_start[i]).collect();
    let dst_start: Vec<u64> = (0..n).map(|i| lo[i] - box_start[i]).collect();
    let count: u64 = box_shape.iter().product();
    match region {
        Elements::Fixed { size, bytes } => {
            let size = *size;
            if let Some(range) = contiguous_run(&len, box_shape, region_shape, &src_start) {
                // The box is one run of the region's bytes: no copy.
                return Elements::Fixed {
                    size,
                    bytes: Cow::Borrowed(&bytes[range.start * size..range.end * size]),
                };
            }
            let mut out: Vec<u8> = if fill.len() == size && fill.iter().any(|b| *b != 0) {
                fill.repeat(count as usize)
            } else {
                vec![0u8; count as usize * size]
            };
            for_each_run(
                &len,
                region_shape,
                &src_start,
                box_shape,
                &dst_start,
                |s, d, r| {
                    out[d * size..(d + r) * size].copy_from_slice(&bytes[s * size..(s + r) * size]);
                },
            );
            Elements::Fixed {
                size,
                bytes: Cow::Owned(out),
            }
        }
        Elements::Strings(strings) => {
            let mut out = vec![String::new(); count as usize];
            for_each_run(
                &len,
                region_shape,
                &src_start,
                box_shape,
                &dst_start,
                |s, d, r| {
                    out[d..d + r].clone_from_slice(&strings[s..s + r]);
                },
            );
            Elements::Strings(out)
        }
    }
}

/// Flat indices, in a C-order array of `shape`, of every `steps`-th element
/// (per dimension) starting at zero, in C order.
pub(crate) fn strided_indices(shape: &[u64], out_shape: &[u64], steps: &[u64]) -> Vec<usize> {
    let n = shape.len();
    let total: u64 = out_shape.iter().product();
    let mut strides = vec![1u64; n];
    for i in (0..n.saturating_sub(1)).rev() {
        strides[i] = strides[i + 1] * shape[i + 1];
    }
    let mut out = Vec::with_capacity(total as usize);
    if total == 0 {
        return out;
    }
    let mut idx = vec![0u64; n];
    loop {
        let off: u64 = (0..n).map(|i| idx[i] * steps[i] * strides[i]).sum();
        out.push(off as usize);
        let mut d = n;
        loop {
            if d == 0 {
                return out;
            }
            d -= 1;
            idx[d] += 1;
            if idx[d] < out_shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
}

/// Pick elements by flat index.
pub(crate) fn gather(values: Values, picks: &[usize]) -> Values {
    fn pick<T: Clone>(v: &[T], picks: &[usize]) -> Vec<T> {
        picks.iter().filter_map(|i| v.get(*i).cloned()).collect()
    }
    match values {
        Values::Bool(v) => Values::Bool(pick(&v, picks)),
        Values::I8(v) => Values::I8(pick(&v, picks)),
        Values::I16(v) => Values::I16(pick(&v, picks)),
        Values::I32(v) => Values::I32(pick(&v, picks)),
        Values::I64(v) => Values::I64(pick(&v, picks)),
        Values::U8(v) => Values::U8(pick(&v, picks)),
        Values::U16(v) => Values::U16(pick(&v, picks)),
        Values::U32(v) => Values::U32(pick(&v, picks)),
        Values::U64(v) => Values::U64(pick(&v, picks)),
        Values::F32(v) => Values::F32(pick(&v, picks)),
        Values::F64(v) => Values::F64(pick(&v, picks)),
        Values::Str(v) => Values::Str(pick(&v, picks)),
        Values::Opaque { size, bytes } => {
            let mut out = Vec::with_capacity(picks.len() * size);
            for i in picks {
                if let Some(c) = bytes.get(i * size..(i + 1) * size) {
                    out.extend_from_slice(c);
                }
            }
            Values::Opaque { size, bytes: out }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn an_edge_box_is_padded_with_the_fill_value() {
        // Region: rows 2..5, cols 0..3 of a 5x3 array; box: rows 4..6, cols 2..4.
        let region = Elements::Fixed {
            size: 1,
            bytes: Cow::Owned((0u8..9).collect()),
        };
        let got = cut_box(&region, &[2, 0], &[3, 3], &[4, 2], &[2, 2], &[9]);
        assert_eq!(
            got,
            Elements::Fixed {
                size: 1,
                bytes: Cow::Owned(vec![8, 9, 9, 9])
            }
        );
    }

    #[test]
    fn a_box_that_is_one_run_of_the_region_is_borrowed_not_copied() {
        // Region: rows 2..6 of a 6x3 array; box: rows 4..6 (whole rows).
        let region = Elements::Fixed {
            size: 1,
            bytes: Cow::Owned((0u8..12).collect()),
        };
        let got = cut_box(&region, &[2, 0], &[4, 3], &[4, 0], &[2, 3], &[9]);
        let Elements::Fixed { bytes, .. } = got else {
            panic!("fixed")
        };
        assert!(matches!(bytes, Cow::Borrowed(_)));
        assert_eq!(&*bytes, &[6, 7, 8, 9, 10, 11]);
        // Row 1 of a 3-D region, partial along the middle axis: one run too.
        let region = Elements::Fixed {
            size: 1,
            bytes: Cow::Owned((0u8..24).collect()),
        };
        let got = cut_box(
            &region,
            &[0, 0, 0],
            &[2, 4, 3],
            &[1, 2, 0],
            &[1, 2, 3],
            &[0],
        );
        let Elements::Fixed { bytes, .. } = got else {
            panic!("fixed")
        };
        assert!(matches!(bytes, Cow::Borrowed(_)));
        assert_eq!(&*bytes, &[18, 19, 20, 21, 22, 23]);
        // Two rows, partial along the middle axis: not one run, copied.
        let got = cut_box(
            &region,
            &[0, 0, 0],
            &[2, 4, 3],
            &[0, 2, 0],
            &[2, 2, 3],
            &[0],
        );
        let Elements::Fixed { bytes, .. } = got else {
            panic!("fixed")
        };
        assert!(matches!(bytes, Cow::Owned(_)));
        assert_eq!(&*bytes, &[6, 7, 8, 9, 10, 11, 18, 19, 20, 21, 22, 23]);
    }

    #[test]
    fn strided_indices_step_through_each_dimension() {
        assert_eq!(
            strided_indices(&[3, 4], &[2, 2], &[2, 3]),
            vec![0, 3, 8, 11]
        );
        assert_eq!(strided_indices(&[], &[], &[]), vec![0]);
    }

    #[test]
    fn values_round_trip_through_element_bytes() {
        for (v, d) in [
            (Values::I16(vec![-3, 7]), DType::I16),
            (Values::F64(vec![1.5, f64::MAX]), DType::F64),
            (Values::Bool(vec![true, false]), DType::Bool),
            (
                Values::Str(vec!["ab".into(), "".into()]),
                DType::FixedString { size: 3 },
            ),
        ] {
            let Elements::Fixed { bytes, .. } = to_elements(&v, &d).unwrap() else {
                panic!("fixed")
            };
            assert_eq!(from_fixed(&bytes, &d).unwrap(), v);
        }
        assert!(to_elements(&Values::F32(vec![1.0]), &DType::F64).is_err());
    }
}
