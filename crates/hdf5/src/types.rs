//! HDF5 datatypes as arco [`DType`]s, and stored bytes as [`Values`].

use arco_core::{CompoundField, DType, Endian, Values};
use hdf5_reader::messages::datatype::Datatype;
use hdf5_reader::{ByteOrder, StringPadding, StringSize, VarLenKind};

/// Resolves one stored variable-length element to the bytes it points to.
pub(crate) type VlenResolver<'a> = &'a dyn Fn(&[u8]) -> Result<Vec<u8>, String>;

fn endian(order: ByteOrder) -> Endian {
    match order {
        ByteOrder::LittleEndian => Endian::Little,
        ByteOrder::BigEndian => Endian::Big,
    }
}

/// The stored byte order of a type: its own for numbers, its base's for
/// enums, the first numeric member's for compounds, little-endian otherwise.
pub(crate) fn byte_order(dt: &Datatype) -> Endian {
    match dt {
        Datatype::FixedPoint { byte_order, .. }
        | Datatype::FloatingPoint { byte_order, .. }
        | Datatype::Bitfield { byte_order, .. } => endian(*byte_order),
        Datatype::Enum { base, .. } | Datatype::Array { base, .. } => byte_order(base),
        Datatype::Compound { fields, .. } => fields
            .iter()
            .find(|f| {
                matches!(
                    f.datatype,
                    Datatype::FixedPoint { .. }
                        | Datatype::FloatingPoint { .. }
                        | Datatype::Enum { .. }
                        | Datatype::Compound { .. }
                )
            })
            .map(|f| byte_order(&f.datatype))
            .unwrap_or(Endian::Little),
        _ => Endian::Little,
    }
}

fn int_dtype(size: u8, signed: bool) -> Option<DType> {
    Some(match (size, signed) {
        (1, true) => DType::I8,
        (2, true) => DType::I16,
        (4, true) => DType::I32,
        (8, true) => DType::I64,
        (1, false) => DType::U8,
        (2, false) => DType::U16,
        (4, false) => DType::U32,
        (8, false) => DType::U64,
        _ => return None,
    })
}

/// True for h5py's boolean: an enum `FALSE = 0, TRUE = 1` over a one-byte integer.
fn is_h5py_bool(dt: &Datatype) -> bool {
    match dt {
        Datatype::Enum { base, members } => {
            matches!(**base, Datatype::FixedPoint { size: 1, .. })
                && members.len() == 2
                && members[0].name == "FALSE"
                && members[0].value.first() == Some(&0)
                && members[1].name == "TRUE"
                && members[1].value.first() == Some(&1)
        }
        _ => false,
    }
}

/// The arco type of an HDF5 datatype; `size` is the datatype message's element size.
pub(crate) fn dtype(dt: &Datatype, size: u32) -> DType {
    let size = size as usize;
    match dt {
        Datatype::FixedPoint {
            size: s, signed, ..
        } => int_dtype(*s, *signed).unwrap_or(DType::Opaque { size }),
        Datatype::Bitfield { size: s, .. } => {
            int_dtype(*s, false).unwrap_or(DType::Opaque { size })
        }
        Datatype::FloatingPoint { size: 4, .. } => DType::F32,
        Datatype::FloatingPoint { size: 8, .. } => DType::F64,
        Datatype::FloatingPoint { size: s, .. } => DType::Opaque {
            size: usize::from(*s),
        },
        Datatype::String {
            size: StringSize::Fixed(1),
            ..
        } => DType::Char,
        Datatype::String {
            size: StringSize::Fixed(n),
            ..
        } => DType::FixedString { size: *n as usize },
        Datatype::String {
            size: StringSize::Variable,
            ..
        } => DType::String,
        Datatype::VarLen {
            kind: VarLenKind::String,
            ..
        } => DType::String,
        Datatype::VarLen { base, .. } => DType::VarLen {
            base: Box::new(dtype(base, elem_size(base).unwrap_or(0) as u32)),
        },
        Datatype::Enum { .. } if is_h5py_bool(dt) => DType::Bool,
        Datatype::Enum { base, members } => {
            let base_t = dtype(base, elem_size(base).unwrap_or(0) as u32);
            let members = members
                .iter()
                .map(|m| (m.name.clone(), int_value(base, &m.value).unwrap_or(0)))
                .collect();
            DType::Enum {
                base: Box::new(base_t),
                members,
            }
        }
        Datatype::Compound { size: s, fields } => DType::Compound {
            size: *s as usize,
            fields: fields
                .iter()
                .map(|f| CompoundField {
                    name: f.name.clone(),
                    offset: f.byte_offset as usize,
                    dtype: dtype(&f.datatype, elem_size(&f.datatype).unwrap_or(0) as u32),
                })
                .collect(),
        },
        Datatype::Opaque { size: s, .. } => DType::Opaque { size: *s as usize },
        Datatype::Reference { size: s, .. } => DType::Opaque {
            size: usize::from(*s),
        },
        Datatype::Array { .. } => DType::Opaque { size },
    }
}

/// Stored size of one element of a fixed-size type (`None` for variable-length ones).
pub(crate) fn elem_size(dt: &Datatype) -> Option<usize> {
    Some(match dt {
        Datatype::FixedPoint { size, .. }
        | Datatype::FloatingPoint { size, .. }
        | Datatype::Bitfield { size, .. }
        | Datatype::Reference { size, .. } => usize::from(*size),
        Datatype::String {
            size: StringSize::Fixed(n),
            ..
        } => *n as usize,
        Datatype::String {
            size: StringSize::Variable,
            ..
        }
        | Datatype::VarLen { .. } => return None,
        Datatype::Compound { size, .. } | Datatype::Opaque { size, .. } => *size as usize,
        Datatype::Enum { base, .. } => return elem_size(base),
        Datatype::Array { base, dims } => {
            let n: u64 = dims.iter().product();
            elem_size(base)?.checked_mul(usize::try_from(n).ok()?)?
        }
    })
}

/// An integer element as `i64`.
fn int_value(dt: &Datatype, b: &[u8]) -> Option<i64> {
    let (size, signed, order) = match dt {
        Datatype::FixedPoint {
            size,
            signed,
            byte_order,
        } => (usize::from(*size), *signed, *byte_order),
        Datatype::Enum { base, .. } => return int_value(base, b),
        _ => return None,
    };
    let b = b.get(..size)?;
    let mut buf = [0u8; 8];
    if size > 8 {
        return None;
    }
    match order {
        ByteOrder::LittleEndian => buf[..size].copy_from_slice(b),
        ByteOrder::BigEndian => {
            for (i, x) in b.iter().rev().enumerate() {
                buf[i] = *x;
            }
        }
    }
    let v = u64::from_le_bytes(buf);
    Some(if signed && size < 8 {
        let shift = 64 - 8 * size as u32;
        ((v << shift) as i64) >> shift
    } else {
        v as i64
    })
}

macro_rules! numbers {
    ($raw:expr, $n:expr, $t:ty, $size:expr, $order:expr) => {{
        let mut out = Vec::with_capacity($n);
        for c in $raw.chunks_exact($size).take($n) {
            let mut a = [0u8; $size];
            a.copy_from_slice(c);
            out.push(match $order {
                ByteOrder::LittleEndian => <$t>::from_le_bytes(a),
                ByteOrder::BigEndian => <$t>::from_be_bytes(a),
            });
        }
        out
    }};
}

/// Decode a fixed string element: cut at the first NUL (NUL-terminated and
/// NUL-padded strings) or drop trailing spaces (space-padded ones).
pub(crate) fn fixed_string(b: &[u8], padding: StringPadding) -> String {
    let s = match padding {
        StringPadding::SpacePad => {
            let end = b.iter().rposition(|&c| c != b' ').map_or(0, |i| i + 1);
            &b[..end]
        }
        _ => {
            let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
            &b[..end]
        }
    };
    String::from_utf8_lossy(s).into_owned()
}

/// Decode `n` stored elements of `dt` from `raw`; `vlen_size` is the stored
/// size of one variable-length element.
pub(crate) fn decode(
    dt: &Datatype,
    raw: &[u8],
    n: usize,
    vlen_size: usize,
    vlen: VlenResolver<'_>,
) -> Result<Values, String> {
    let size = match dt {
        Datatype::String {
            size: StringSize::Variable,
            ..
        }
        | Datatype::VarLen { .. } => vlen_size,
        _ => elem_size(dt).ok_or("unsupported element type")?,
    };
    let needed = size.checked_mul(n).ok_or("too many elements")?;
    if raw.len() < needed {
        return Err(format!(
            "{} bytes stored, {needed} expected for {n} elements",
            raw.len()
        ));
    }
    Ok(match dt {
        Datatype::FixedPoint {
            size: s,
            signed,
            byte_order: o,
        } => match (s, signed) {
            (1, true) => Values::I8(raw[..n].iter().map(|&b| b as i8).collect()),
            (1, false) => Values::U8(raw[..n].to_vec()),
            (2, true) => Values::I16(numbers!(raw, n, i16, 2, o)),
            (2, false) => Values::U16(numbers!(raw, n, u16, 2, o)),
            (4, true) => Values::I32(numbers!(raw, n, i32, 4, o)),
            (4, false) => Values::U32(numbers!(raw, n, u32, 4, o)),
            (8, true) => Values::I64(numbers!(raw, n, i64, 8, o)),
            (8, false) => Values::U64(numbers!(raw, n, u64, 8, o)),
            _ => return Err(format!("{s}-byte integers are not supported")),
        },
        Datatype::Bitfield {
            size: s,
            byte_order: o,
        } => match s {
            1 => Values::U8(raw[..n].to_vec()),
            2 => Values::U16(numbers!(raw, n, u16, 2, o)),
            4 => Values::U32(numbers!(raw, n, u32, 4, o)),
            8 => Values::U64(numbers!(raw, n, u64, 8, o)),
            _ => return Err(format!("{s}-byte bitfields are not supported")),
        },
        Datatype::FloatingPoint {
            size: 4,
            byte_order: o,
        } => Values::F32(numbers!(raw, n, f32, 4, o)),
        Datatype::FloatingPoint {
            size: 8,
            byte_order: o,
        } => Values::F64(numbers!(raw, n, f64, 8, o)),
        Datatype::String {
            size: StringSize::Fixed(_),
            padding,
            ..
        } => Values::Str(
            raw.chunks_exact(size.max(1))
                .take(n)
                .map(|c| fixed_string(c, *padding))
                .collect(),
        ),
        Datatype::String {
            size: StringSize::Variable,
            padding,
            ..
        }
        | Datatype::VarLen {
            kind: VarLenKind::String,
            padding,
            ..
        } => {
            let mut out = Vec::with_capacity(n);
            for c in raw.chunks_exact(size).take(n) {
                out.push(fixed_string(&vlen(c)?, *padding));
            }
            Values::Str(out)
        }
        Datatype::Enum { .. } if is_h5py_bool(dt) => {
            Values::Bool(raw[..n].iter().map(|&b| b != 0).collect())
        }
        Datatype::Enum { base, .. } => decode(base, raw, n, vlen_size, vlen)?,
        Datatype::Compound { fields, .. } => {
            let mut cols = Vec::with_capacity(fields.len());
            for f in fields {
                let fsize = elem_size(&f.datatype).ok_or("variable-length compound member")?;
                let off = f.byte_offset as usize;
                let mut col = Vec::with_capacity(fsize * n);
                for c in raw.chunks_exact(size.max(1)).take(n) {
                    col.extend_from_slice(c.get(off..off + fsize).ok_or("bad member offset")?);
                }
                cols.push((
                    f.name.clone(),
                    decode(&f.datatype, &col, n, vlen_size, vlen)?,
                ));
            }
            Values::Compound(cols)
        }
        Datatype::Opaque { .. }
        | Datatype::Reference { .. }
        | Datatype::Array { .. }
        | Datatype::FloatingPoint { .. } => Values::Opaque {
            size,
            bytes: raw[..needed].to_vec(),
        },
        Datatype::VarLen { .. } => {
            return Err("variable-length sequences are not supported here".into())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_endian_signed_integers_decode_to_native_values() {
        let dt = Datatype::FixedPoint {
            size: 2,
            signed: true,
            byte_order: ByteOrder::BigEndian,
        };
        let none = |_: &[u8]| -> Result<Vec<u8>, String> { Ok(vec![]) };
        let v = decode(&dt, &[0xff, 0xfe, 0x01, 0x00], 2, 16, &none).unwrap();
        assert_eq!(v, Values::I16(vec![-2, 256]));
        assert_eq!(int_value(&dt, &[0xff, 0xfe]), Some(-2));
    }

    #[test]
    fn fixed_strings_stop_at_nul_or_lose_trailing_spaces() {
        assert_eq!(fixed_string(b"ab\0cd", StringPadding::NullTerminate), "ab");
        assert_eq!(fixed_string(b"ab  ", StringPadding::SpacePad), "ab");
    }
}
