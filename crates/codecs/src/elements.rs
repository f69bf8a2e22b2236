//! Stored bytes to typed values.

use crate::{Error, Result};
use arco_core::{DType, Endian, Values};

/// Interpret stored bytes as elements of `dtype` in byte order `endian`.
///
/// Numbers come back in native order; `Bool` is a byte that is not zero;
/// `Char` stays raw bytes; fixed strings lose their trailing NULs; enums give
/// their base integers; compounds give one column per field. Variable-length
/// types are not stored inline and are an error here.
///
/// ```
/// use arco_codecs::decode_elements;
/// use arco_core::{DType, Endian, Values};
/// let v = decode_elements(&[0, 1, 0, 2], &DType::I16, Endian::Big).unwrap();
/// assert_eq!(v, Values::I16(vec![1, 2]));
/// ```
pub fn decode_elements(bytes: &[u8], dtype: &DType, endian: Endian) -> Result<Values> {
    let bad = |reason: String| Error::Elements {
        dtype: dtype.name(),
        len: bytes.len(),
        reason,
    };
    let size = dtype.size().ok_or_else(|| {
        bad(
            "variable-length elements are not stored inline; read them through the HDF5 reader"
                .into(),
        )
    })?;
    if size == 0 {
        return if bytes.is_empty() {
            Ok(Values::empty_for(dtype))
        } else {
            Err(bad("the element size is 0".into()))
        };
    }
    if !bytes.len().is_multiple_of(size) {
        return Err(bad(format!(
            "{} is not a multiple of the element size {size}",
            bytes.len()
        )));
    }
    let be = endian == Endian::Big;
    Ok(match dtype {
        DType::Bool => Values::Bool(bytes.iter().map(|&b| b != 0).collect()),
        DType::U8 | DType::Char => Values::U8(bytes.to_vec()),
        DType::I8 => Values::I8(bytes.iter().map(|&b| b as i8).collect()),
        DType::I16 => Values::I16(nums(bytes, be, i16::from_le_bytes, i16::from_be_bytes)),
        DType::U16 => Values::U16(nums(bytes, be, u16::from_le_bytes, u16::from_be_bytes)),
        DType::I32 => Values::I32(nums(bytes, be, i32::from_le_bytes, i32::from_be_bytes)),
        DType::U32 => Values::U32(nums(bytes, be, u32::from_le_bytes, u32::from_be_bytes)),
        DType::I64 => Values::I64(nums(bytes, be, i64::from_le_bytes, i64::from_be_bytes)),
        DType::U64 => Values::U64(nums(bytes, be, u64::from_le_bytes, u64::from_be_bytes)),
        DType::F32 => Values::F32(nums(bytes, be, f32::from_le_bytes, f32::from_be_bytes)),
        DType::F64 => Values::F64(nums(bytes, be, f64::from_le_bytes, f64::from_be_bytes)),
        DType::FixedString { size } => Values::Str(
            bytes
                .chunks_exact(*size)
                .map(|s| {
                    let end = s.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
                    String::from_utf8_lossy(&s[..end]).into_owned()
                })
                .collect(),
        ),
        DType::Enum { base, .. } => decode_elements(bytes, base, endian)?,
        DType::Opaque { size } => Values::Opaque {
            size: *size,
            bytes: bytes.to_vec(),
        },
        DType::Compound { size, fields } => {
            let n = bytes.len() / size;
            let mut cols = Vec::with_capacity(fields.len());
            for f in fields {
                let fsize = f
                    .dtype
                    .size()
                    .ok_or_else(|| bad(format!("field '{}' has a variable-length type", f.name)))?;
                if f.offset + fsize > *size {
                    return Err(bad(format!(
                        "field '{}' at offset {} with {fsize} bytes overruns the {size}-byte element",
                        f.name, f.offset
                    )));
                }
                let mut col = Vec::with_capacity(n * fsize);
                for elem in bytes.chunks_exact(*size) {
                    col.extend_from_slice(&elem[f.offset..f.offset + fsize]);
                }
                cols.push((f.name.clone(), decode_elements(&col, &f.dtype, endian)?));
            }
            Values::Compound(cols)
        }
        other => return Err(bad(format!("type {other} has no inline decoding"))),
    })
}

/// Fixed-width numbers from bytes; `chunks_exact` plus `from_*_bytes` vectorises.
fn nums<T, const N: usize>(
    bytes: &[u8],
    big: bool,
    le: impl Fn([u8; N]) -> T,
    be: impl Fn([u8; N]) -> T,
) -> Vec<T> {
    let arr = |c: &[u8]| {
        let mut a = [0u8; N];
        a.copy_from_slice(c);
        a
    };
    if big {
        bytes.chunks_exact(N).map(|c| be(arr(c))).collect()
    } else {
        bytes.chunks_exact(N).map(|c| le(arr(c))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arco_core::CompoundField;

    #[test]
    fn numbers_decode_in_both_byte_orders() {
        let v = decode_elements(&1.5f64.to_be_bytes(), &DType::F64, Endian::Big).unwrap();
        assert_eq!(v, Values::F64(vec![1.5]));
        let v = decode_elements(&[0xff, 0xff, 0xff, 0xfe], &DType::I32, Endian::Big).unwrap();
        assert_eq!(v, Values::I32(vec![-2]));
        let v = decode_elements(&[1, 0, 0, 0, 2, 0, 0, 0], &DType::U32, Endian::Little).unwrap();
        assert_eq!(v, Values::U32(vec![1, 2]));
        let v = decode_elements(&[0, 3, 255], &DType::Bool, Endian::Little).unwrap();
        assert_eq!(v, Values::Bool(vec![false, true, true]));
    }

    #[test]
    fn a_length_that_is_not_whole_elements_is_an_error() {
        let err = decode_elements(&[1, 2, 3], &DType::I16, Endian::Little).unwrap_err();
        assert!(
            err.to_string()
                .contains("not a multiple of the element size 2"),
            "{err}"
        );
        assert!(decode_elements(&[], &DType::String, Endian::Little).is_err());
    }

    #[test]
    fn fixed_strings_lose_trailing_nuls_only() {
        let v = decode_elements(
            b"ab\0\0c d \0",
            &DType::FixedString { size: 3 },
            Endian::Little,
        )
        .unwrap();
        assert_eq!(
            v,
            Values::Str(vec!["ab".into(), "\0c ".into(), "d ".into()])
        );
    }

    #[test]
    fn compounds_decode_one_column_per_field_including_nested_ones() {
        let inner = DType::Compound {
            size: 2,
            fields: vec![
                CompoundField {
                    name: "a".into(),
                    offset: 0,
                    dtype: DType::U8,
                },
                CompoundField {
                    name: "b".into(),
                    offset: 1,
                    dtype: DType::I8,
                },
            ],
        };
        let dt = DType::Compound {
            size: 8,
            fields: vec![
                CompoundField {
                    name: "x".into(),
                    offset: 0,
                    dtype: DType::F32,
                },
                CompoundField {
                    name: "s".into(),
                    offset: 4,
                    dtype: inner,
                },
                CompoundField {
                    name: "e".into(),
                    offset: 6,
                    dtype: DType::U16,
                },
            ],
        };
        let mut bytes = Vec::new();
        for i in 0..3u8 {
            bytes.extend((f32::from(i) + 0.5).to_le_bytes());
            bytes.extend([i, 0xff]);
            bytes.extend((u16::from(i) * 300).to_le_bytes());
        }
        let v = decode_elements(&bytes, &dt, Endian::Little).unwrap();
        let Values::Compound(cols) = v else {
            panic!("not a compound")
        };
        assert_eq!(cols[0], ("x".into(), Values::F32(vec![0.5, 1.5, 2.5])));
        assert_eq!(cols[2], ("e".into(), Values::U16(vec![0, 300, 600])));
        let Values::Compound(inner) = &cols[1].1 else {
            panic!("not nested")
        };
        assert_eq!(inner[1].1, Values::I8(vec![-1, -1, -1]));
    }

    #[test]
    fn enums_give_base_integers_and_opaque_stays_bytes() {
        let e = DType::Enum {
            base: Box::new(DType::I16),
            members: vec![("a".into(), 1)],
        };
        assert_eq!(
            decode_elements(&[1, 0, 2, 0], &e, Endian::Little).unwrap(),
            Values::I16(vec![1, 2])
        );
        let v = decode_elements(&[1, 2, 3, 4], &DType::Opaque { size: 2 }, Endian::Big).unwrap();
        assert_eq!(
            v,
            Values::Opaque {
                size: 2,
                bytes: vec![1, 2, 3, 4]
            }
        );
    }
}
