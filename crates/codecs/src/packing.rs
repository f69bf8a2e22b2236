//! HDF5's packing filters: n-bit (filter 5) and scale-offset (filter 6).
//!
//! Both write a big-endian bit stream: each value's significant bits, most
//! significant first, with no alignment between values.

use crate::{Result, Stage};
use arco_core::{DType, Endian};

/// Reads bits most significant first.
struct Bits<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    /// The next `n` (at most 64) bits as an unsigned number; `None` past the end.
    fn take(&mut self, n: u32) -> Option<u64> {
        let mut v: u64 = 0;
        let mut left = n;
        while left > 0 {
            let byte = *self.buf.get(self.pos / 8)?;
            let used = (self.pos % 8) as u32;
            let avail = 8 - used;
            let k = avail.min(left);
            let chunk = (u64::from(byte) >> (avail - k)) & ((1u64 << k) - 1);
            v = if k == 64 { chunk } else { (v << k) | chunk };
            left -= k;
            self.pos += k as usize;
        }
        Some(v)
    }
}

fn put(out: &mut [u8], value: u64, endian: Endian) {
    let n = out.len().min(8);
    let le = value.to_le_bytes();
    match endian {
        Endian::Little => out[..n].copy_from_slice(&le[..n]),
        Endian::Big => {
            for (o, b) in out[..n].iter_mut().zip(le[..n].iter().rev()) {
                *o = *b;
            }
        }
    }
}

fn is_signed(dtype: Option<&DType>) -> bool {
    match dtype {
        Some(DType::I8 | DType::I16 | DType::I32 | DType::I64) => true,
        Some(DType::Enum { base, .. }) => is_signed(Some(base)),
        _ => false,
    }
}

/// The type tree recorded in n-bit parameters.
enum NbitType<'d> {
    Atomic {
        size: usize,
        big: bool,
        precision: u32,
        dtype: Option<&'d DType>,
    },
    Array {
        size: usize,
        base: Box<NbitType<'d>>,
    },
    Compound {
        size: usize,
        members: Vec<(usize, NbitType<'d>)>,
    },
    Noop {
        size: usize,
    },
}

impl NbitType<'_> {
    fn size(&self) -> usize {
        match self {
            NbitType::Atomic { size, .. }
            | NbitType::Array { size, .. }
            | NbitType::Compound { size, .. }
            | NbitType::Noop { size } => *size,
        }
    }
}

/// Parse the type whose class is `p[*i]`, advancing `*i`; `dtype` is the
/// matching arco type when known (it tells signed from unsigned).
fn parse_nbit<'d>(
    p: &[u32],
    i: &mut usize,
    dtype: Option<&'d DType>,
    stage: Stage<'_, '_>,
) -> Result<NbitType<'d>> {
    let mut next = || -> Result<usize> {
        let v = p.get(*i).copied().ok_or_else(|| {
            stage.fail(format!(
                "the n-bit parameters end early ({} values)",
                p.len()
            ))
        })?;
        *i += 1;
        Ok(v as usize)
    };
    let class = next()?;
    let size = next()?;
    Ok(match class {
        1 => {
            let big = next()? == 1;
            let precision = next()? as u32;
            let offset = next()? as u32;
            if precision == 0 || precision + offset > (size as u32) * 8 || size > 8 {
                return Err(stage.fail(format!(
                    "bad n-bit parameters: precision {precision}, offset {offset}, size {size}"
                )));
            }
            let float = matches!(dtype, Some(DType::F32 | DType::F64));
            if float && precision != (size as u32) * 8 {
                return Err(stage.unsupported(format!(
                    "n-bit on floating point with precision {precision} and offset {offset}"
                )));
            }
            NbitType::Atomic {
                size,
                big,
                precision,
                dtype,
            }
        }
        2 => {
            let base = parse_nbit(p, i, None, stage)?;
            if base.size() == 0 {
                return Err(stage.fail("n-bit array of zero-size elements"));
            }
            NbitType::Array {
                size,
                base: Box::new(base),
            }
        }
        3 => {
            let n = next()?;
            let mut members = Vec::with_capacity(n.min(1024));
            for _ in 0..n {
                let offset = {
                    let v = p
                        .get(*i)
                        .copied()
                        .ok_or_else(|| stage.fail("n-bit parameters end early"))?;
                    *i += 1;
                    v as usize
                };
                let field = match dtype {
                    Some(DType::Compound { fields, .. }) => {
                        fields.iter().find(|f| f.offset == offset).map(|f| &f.dtype)
                    }
                    _ => None,
                };
                let m = parse_nbit(p, i, field, stage)?;
                if offset + m.size() > size {
                    return Err(stage.fail(format!(
                        "n-bit compound member at {offset} overruns {size} bytes"
                    )));
                }
                members.push((offset, m));
            }
            NbitType::Compound { size, members }
        }
        4 => NbitType::Noop { size },
        other => return Err(stage.fail(format!("unknown n-bit type class {other}"))),
    })
}

fn unpack(t: &NbitType<'_>, bits: &mut Bits<'_>, out: &mut [u8]) -> Option<()> {
    match t {
        NbitType::Atomic {
            size,
            big,
            precision,
            dtype,
        } => {
            // The value without its bit offset; sign-extended for signed types.
            let mut v = bits.take(*precision)?;
            if *precision < 64 && is_signed(*dtype) && (v >> (precision - 1)) & 1 == 1 {
                v |= u64::MAX << precision;
            }
            put(
                &mut out[..*size],
                v,
                if *big { Endian::Big } else { Endian::Little },
            );
        }
        NbitType::Noop { size } => {
            for b in out[..*size].iter_mut() {
                *b = bits.take(8)? as u8;
            }
        }
        NbitType::Array { size, base } => {
            for e in out[..*size].chunks_exact_mut(base.size()) {
                unpack(base, bits, e)?;
            }
        }
        NbitType::Compound { members, .. } => {
            for (offset, m) in members {
                unpack(m, bits, &mut out[*offset..])?;
            }
        }
    }
    Some(())
}

/// Undo HDF5's n-bit filter.
///
/// Integer values with a precision below their size come back as numbers:
/// shifted down by the type's bit offset and, for signed types, sign-extended,
/// so arco's full-width element types read them as HDF5's conversion would.
/// Floating-point types with reduced precision are not supported.
pub(crate) fn nbit(src: &[u8], p: &[u32], stage: Stage<'_, '_>) -> Result<Vec<u8>> {
    if p.get(1).copied().unwrap_or(0) != 0 {
        return Ok(src.to_vec()); // "need not compress": stored as is
    }
    let nelmts = p
        .get(2)
        .copied()
        .ok_or_else(|| stage.fail("n-bit parameters are missing"))? as usize;
    let mut i = 3;
    let t = parse_nbit(p, &mut i, Some(stage.ctx.dtype), stage)?;
    let size = t.size();
    let total = nelmts
        .checked_mul(size)
        .filter(|&t| t <= src.len().saturating_mul(64).max(1 << 16))
        .ok_or_else(|| stage.fail(format!("implausible element count {nelmts}")))?;
    let mut out = vec![0u8; total];
    let mut bits = Bits { buf: src, pos: 0 };
    for e in out.chunks_exact_mut(size.max(1)) {
        unpack(&t, &mut bits, e)
            .ok_or_else(|| stage.fail("the packed bit stream ends early (truncated chunk?)"))?;
    }
    Ok(out)
}

/// Undo HDF5's scale-offset filter for integers and for floats with D-scaling.
pub(crate) fn scale_offset(src: &[u8], p: &[u32], stage: Stage<'_, '_>) -> Result<Vec<u8>> {
    let param = |k: usize| -> Result<u32> {
        p.get(k)
            .copied()
            .ok_or_else(|| stage.fail(format!("scale-offset parameter {k} is missing")))
    };
    let scale_type = param(0)?;
    let scale_factor = param(1)? as i32;
    let nelmts = param(2)? as usize;
    let class = param(3)?;
    let size = param(4)? as usize;
    // Parameter 5 (signedness) does not matter: addition wraps in the type width.
    let fill_defined = param(7)? == 1;
    let endian = stage.ctx.endian;
    if !matches!(size, 1 | 2 | 4 | 8) || (class == 1 && !matches!(size, 4 | 8)) {
        return Err(stage.unsupported(format!("scale-offset on {size}-byte class {class} values")));
    }
    if class == 1 && scale_type != 0 {
        return Err(stage
            .unsupported("scale-offset E-scaling of floats (HDF5 does not implement it either)"));
    }
    if class > 1 {
        return Err(stage.unsupported(format!("scale-offset datatype class {class}")));
    }
    let head = src
        .get(..21)
        .ok_or_else(|| stage.fail("the chunk is shorter than the 21-byte scale-offset header"))?;
    let minbits = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
    let minval_size = usize::from(head[4]).min(8);
    let mut minval: u64 = 0;
    for (k, &b) in head[5..5 + minval_size].iter().enumerate() {
        minval |= u64::from(b) << (8 * k);
    }
    let bits_total = (size as u32) * 8;
    if minbits > bits_total {
        return Err(stage.fail(format!(
            "minbits {minbits} exceeds the {bits_total}-bit type"
        )));
    }
    let total = nelmts
        .checked_mul(size)
        .filter(|&t| t <= src.len().saturating_mul(64).max(1 << 16))
        .ok_or_else(|| stage.fail(format!("implausible element count {nelmts}")))?;
    let payload = &src[21..];
    let mut out = vec![0u8; total];
    if minbits == bits_total {
        // Stored unpacked, in the writer's memory order (little-endian in practice).
        let raw = payload
            .get(..total)
            .ok_or_else(|| stage.fail("the unpacked payload is truncated"))?;
        for (o, r) in out.chunks_exact_mut(size).zip(raw.chunks_exact(size)) {
            let mut v = [0u8; 8];
            v[..size].copy_from_slice(r);
            put(o, u64::from_le_bytes(v), endian);
        }
        return Ok(out);
    }
    // Fill value: the first `size` bytes of parameters 8.. as little-endian words.
    let fill: u64 = {
        let bytes: Vec<u8> = p.iter().skip(8).flat_map(|w| w.to_le_bytes()).collect();
        let mut v = [0u8; 8];
        let n = size.min(bytes.len());
        v[..n].copy_from_slice(&bytes[..n]);
        u64::from_le_bytes(v)
    };
    let mask = if size == 8 {
        u64::MAX
    } else {
        (1u64 << bits_total) - 1
    };
    let all_ones = (1u64 << minbits) - 1;
    let mut bits = Bits {
        buf: payload,
        pos: 0,
    };
    let short = || stage.fail("the packed bit stream ends early (truncated chunk?)");
    let scale = 10f64.powi(scale_factor);
    for o in out.chunks_exact_mut(size) {
        let raw = if minbits == 0 {
            0
        } else {
            bits.take(minbits).ok_or_else(short)?
        };
        let value = if class == 0 {
            if fill_defined && raw == all_ones {
                fill
            } else {
                raw.wrapping_add(minval) & mask
            }
        } else if fill_defined && raw == all_ones {
            fill
        } else if size == 4 {
            let min = f32::from_bits(minval as u32);
            // HDF5 does this step in single precision: `(float)x / powf(10, D) + min`.
            let x = (raw as i32) as f32 / (scale as f32) + min;
            u64::from(x.to_bits())
        } else {
            let min = f64::from_bits(minval);
            ((raw as i64) as f64 / scale + min).to_bits()
        };
        put(o, value, endian);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::{decode_chunk, ChunkContext};
    use arco_core::{CodecSpec, DType, Endian};

    /// Pack values MSB-first with `bits` bits each.
    fn pack(values: &[u64], bits: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let (mut acc, mut n) = (0u128, 0u32);
        for &v in values {
            acc = (acc << bits) | u128::from(v & ((1u64 << bits) - 1));
            n += bits;
            while n >= 8 {
                out.push((acc >> (n - 8)) as u8);
                n -= 8;
            }
        }
        if n > 0 {
            out.push((acc << (8 - n)) as u8);
        }
        out
    }

    fn run(
        stored: &[u8],
        codec: CodecSpec,
        dtype: &DType,
        endian: Endian,
    ) -> crate::Result<Vec<u8>> {
        let ctx = ChunkContext {
            label: "pack test",
            dtype,
            endian,
            elements: 0,
        };
        decode_chunk(stored, &[codec], 0, &ctx)
    }

    #[test]
    fn nbit_unpacks_signed_integers_with_sign_extension() {
        let vals: [i32; 5] = [-3, 0, 7, -16, 15];
        let stored = pack(&vals.map(|v| v as u64), 5);
        let params = vec![8, 0, 5, 1, 4, 0, 5, 0];
        let out = run(
            &stored,
            CodecSpec::Nbit { params },
            &DType::I32,
            Endian::Little,
        )
        .unwrap();
        let got: Vec<i32> = out
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(got, vals);
    }

    #[test]
    fn nbit_full_precision_and_big_endian_unsigned() {
        let vals = [1u64, 65535, 300];
        let stored = pack(&vals, 16);
        let params = vec![8, 0, 3, 1, 2, 1, 16, 0];
        let out = run(
            &stored,
            CodecSpec::Nbit { params },
            &DType::U16,
            Endian::Big,
        )
        .unwrap();
        assert_eq!(out, vec![0, 1, 255, 255, 1, 44]);
        let params = vec![8, 0, 3, 1, 4, 0, 20, 0];
        let err = run(
            &[0; 8],
            CodecSpec::Nbit { params },
            &DType::F32,
            Endian::Little,
        )
        .unwrap_err();
        assert!(err.to_string().contains("floating point"), "{err}");
    }

    #[test]
    fn scale_offset_integers_add_the_minimum_and_restore_fill() {
        let minval: i64 = -100;
        let raw = [0u64, 5, 15, 200 & 15];
        let mut stored = 4u32.to_le_bytes().to_vec();
        stored.push(8);
        stored.extend(minval.to_le_bytes());
        stored.resize(21, 0);
        stored.extend(pack(&raw, 4));
        // no fill value
        let params = vec![2, 0, 4, 0, 4, 1, 0, 0];
        let out = run(
            &stored,
            CodecSpec::ScaleOffset { params },
            &DType::I32,
            Endian::Little,
        )
        .unwrap();
        let got: Vec<i32> = out
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(got, vec![-100, -95, -85, -92]);
        // fill value 7: all-ones (15) marks fill
        let params = vec![2, 0, 4, 0, 4, 1, 0, 1, 7];
        let out = run(
            &stored,
            CodecSpec::ScaleOffset { params },
            &DType::I32,
            Endian::Big,
        )
        .unwrap();
        let got: Vec<i32> = out
            .chunks_exact(4)
            .map(|c| i32::from_be_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(got, vec![-100, -95, 7, -92]);
    }

    #[test]
    fn scale_offset_floats_use_decimal_scaling() {
        let min = 1.5f32;
        let mut stored = 6u32.to_le_bytes().to_vec();
        stored.push(8);
        stored.extend(u64::from(min.to_bits()).to_le_bytes());
        stored.resize(21, 0);
        stored.extend(pack(&[0, 25, 50], 6));
        let params = vec![0, 2, 3, 1, 4, 0, 0, 0];
        let out = run(
            &stored,
            CodecSpec::ScaleOffset { params },
            &DType::F32,
            Endian::Little,
        )
        .unwrap();
        let got: Vec<f32> = out
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(got, vec![1.5, 1.75, 2.0]);
        let params = vec![1, 2, 3, 1, 4, 0, 0, 0];
        let err = run(
            &stored,
            CodecSpec::ScaleOffset { params },
            &DType::F32,
            Endian::Little,
        )
        .unwrap_err();
        assert!(err.to_string().contains("E-scaling"), "{err}");
    }
}
