//! The packings of GRIB data sections: integers `X` turned into values
//! `Y = (R + X * 2^E) * 10^-D` (or IEEE floats stored as they are).

use super::{be, signed};
use crate::{Error, Result, Stage};

/// Reads unsigned big-endian bit fields, most significant bit first.
pub(super) struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Bits<'a> {
    pub(super) fn new(data: &'a [u8]) -> Self {
        Bits { data, pos: 0 }
    }

    /// Bits still unread.
    fn left(&self) -> usize {
        (self.data.len() * 8).saturating_sub(self.pos)
    }

    /// The next `n` (at most 57) bits, or `None` past the end.
    #[inline]
    pub(super) fn read(&mut self, n: usize) -> Option<u64> {
        if n == 0 {
            return Some(0);
        }
        if n > 57 || n > self.left() {
            return None;
        }
        let byte = self.pos / 8;
        let shift = self.pos % 8;
        let mut window = [0u8; 8];
        let take = (self.data.len() - byte).min(8);
        window[..take].copy_from_slice(&self.data[byte..byte + take]);
        let w = u64::from_be_bytes(window);
        self.pos += n;
        Some((w << shift) >> (64 - n))
    }

    /// Skip to the next byte boundary.
    pub(super) fn align(&mut self) {
        self.pos = self.pos.div_ceil(8) * 8;
    }
}

/// The scaling shared by simple, complex, JPEG 2000, PNG and CCSDS packing.
#[derive(Debug, Clone, Copy)]
struct Scale {
    r: f64,
    bscale: f64,
    dscale: f64,
}

impl Scale {
    fn new(r: f64, e: i64, d: i64) -> Self {
        Scale {
            r,
            bscale: 2f64.powi(e as i32),
            dscale: 10f64.powi(-(d as i32)),
        }
    }

    #[inline]
    fn apply(&self, x: f64) -> f64 {
        (x * self.bscale + self.r) * self.dscale
    }
}

/// GRIB2 sections 5 and 7 to the `n` packed values.
pub(super) fn grib2(
    template: u16,
    s5: &[u8],
    data: &[u8],
    n: usize,
    stage: Stage<'_, '_>,
) -> Result<Vec<f64>> {
    let need = |len: usize| -> Result<()> {
        if s5.len() < len {
            Err(stage.fail(format!(
                "section 5 (template 5.{template}) has {} bytes, fewer than the {len} it needs",
                s5.len()
            )))
        } else {
            Ok(())
        }
    };
    if template == 4 {
        need(12)?;
        return ieee(data, s5[11], n, stage);
    }
    let unsupported = |what: &str, hint: &str| Error::Unsupported {
        context: stage.ctx.label.to_string(),
        codec: what.to_string(),
        hint: hint.to_string(),
    };
    match template {
        0 | 2 | 3 | 40 | 41 | 42 => {}
        50 | 51 => {
            return Err(unsupported(
                "GRIB2 spherical harmonic packing (template 5.50/5.51)",
                "spectral fields must be transformed to a grid first, for example with \
                 `mir` or `cdo sp2gp`",
            ))
        }
        200 => {
            return Err(unsupported(
                "GRIB2 run-length packing (template 5.200)",
                "repack the file with simple packing: \
                 `grib_set -r -s packingType=grid_simple in.grib2 out.grib2`",
            ))
        }
        t => {
            return Err(unsupported(
                &format!("GRIB2 data representation template 5.{t}"),
                "repack the file with simple packing: \
                 `grib_set -r -s packingType=grid_simple in.grib2 out.grib2`",
            ))
        }
    }
    need(21)?;
    let r = f64::from(f32::from_be_bytes([s5[11], s5[12], s5[13], s5[14]]));
    let e = signed(s5, 15, 2);
    let d = signed(s5, 17, 2);
    let nbits = usize::from(s5[19]);
    let scale = Scale::new(r, e, d);
    match template {
        0 => simple_scaled(data, scale, nbits, n, stage),
        2 | 3 => {
            need(if template == 3 { 49 } else { 47 })?;
            complex(template, s5, data, scale, nbits, n, stage)
        }
        40 => {
            if nbits == 0 {
                return Ok(vec![scale.apply(0.0); n]);
            }
            jpeg2000(data, scale, n, stage)
        }
        41 => {
            if nbits == 0 {
                return Ok(vec![scale.apply(0.0); n]);
            }
            png(data, scale, n, stage)
        }
        _ => {
            need(25)?;
            if nbits == 0 {
                return Ok(vec![scale.apply(0.0); n]);
            }
            ccsds(data, scale, nbits, s5[21], s5[22], be(s5, 23, 2), n, stage)
        }
    }
}

/// Simple packing with GRIB1's reference value (already a float).
pub(super) fn simple(
    data: &[u8],
    r: f64,
    e: i64,
    d: i64,
    nbits: usize,
    n: usize,
    stage: Stage<'_, '_>,
) -> Result<Vec<f64>> {
    simple_scaled(data, Scale::new(r, e, d), nbits, n, stage)
}

fn simple_scaled(
    data: &[u8],
    scale: Scale,
    nbits: usize,
    n: usize,
    stage: Stage<'_, '_>,
) -> Result<Vec<f64>> {
    if nbits == 0 {
        return Ok(vec![scale.apply(0.0); n]);
    }
    if nbits > 57 {
        return Err(stage.fail(format!("{nbits} bits per value is more than GRIB allows")));
    }
    if data.len().saturating_mul(8) / nbits < n {
        return Err(stage.fail(format!(
            "the data section has {} bytes, too few for {n} values of {nbits} bits (truncated message)",
            data.len()
        )));
    }
    let mut bits = Bits::new(data);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let x = bits.read(nbits).unwrap_or(0);
        out.push(scale.apply(x as f64));
    }
    Ok(out)
}

fn ieee(data: &[u8], precision: u8, n: usize, stage: Stage<'_, '_>) -> Result<Vec<f64>> {
    let size = match precision {
        1 => 4,
        2 => 8,
        p => {
            return Err(Error::Unsupported {
                context: stage.ctx.label.to_string(),
                codec: format!("GRIB2 IEEE packing with precision {p} (128-bit or unknown)"),
                hint: "repack the file with 32- or 64-bit IEEE floats: \
                       `grib_set -s precision=2 in.grib2 out.grib2`"
                    .into(),
            })
        }
    };
    if data.len() < n * size {
        return Err(stage.fail(format!(
            "the data section has {} bytes, too few for {n} IEEE values of {size} bytes (truncated message)",
            data.len()
        )));
    }
    Ok(data
        .chunks_exact(size)
        .take(n)
        .map(|c| {
            if size == 4 {
                f64::from(f32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            } else {
                f64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])
            }
        })
        .collect())
}

/// Complex packing (5.2) and complex packing with spatial differencing (5.3).
fn complex(
    template: u16,
    s5: &[u8],
    data: &[u8],
    scale: Scale,
    nbits: usize,
    n: usize,
    stage: Stage<'_, '_>,
) -> Result<Vec<f64>> {
    let missing_mgmt = s5[22];
    let ng = be(s5, 31, 4) as usize;
    let ref_width = be(s5, 35, 1);
    let width_bits = usize::from(s5[36]);
    let ref_length = be(s5, 37, 4);
    let length_inc = be(s5, 41, 1);
    let last_length = be(s5, 42, 4);
    let length_bits = usize::from(s5[46]);
    let (order, extra) = if template == 3 {
        (s5[47], usize::from(s5[48]))
    } else {
        (0, 0)
    };
    let cut = |what: &str| {
        stage.fail(format!(
            "the data section ({} bytes) ends inside the {what} (truncated message)",
            data.len()
        ))
    };
    if ng == 0 {
        return Ok(vec![f64::NAN; n]);
    }
    if ng > data.len().saturating_mul(8) {
        return Err(stage.fail(format!(
            "{ng} groups cannot fit in a data section of {} bytes",
            data.len()
        )));
    }
    let mut bits = Bits::new(data);
    // Spatial differencing: the first one or two values and the minimum.
    let mut first = [0i64; 2];
    let mut min_sd = 0i64;
    if template == 3 {
        if !(order == 1 || order == 2) {
            return Err(stage.fail(format!(
                "order of spatial differencing {order}; GRIB2 defines 1 and 2"
            )));
        }
        if extra > 0 {
            let nb = extra * 8;
            let read_signed = |bits: &mut Bits<'_>| -> Result<i64> {
                let sign = bits
                    .read(1)
                    .ok_or_else(|| cut("spatial differencing values"))?;
                let mag = bits
                    .read(nb - 1)
                    .ok_or_else(|| cut("spatial differencing values"))?
                    as i64;
                Ok(if sign == 1 { -mag } else { mag })
            };
            first[0] = read_signed(&mut bits)?;
            if order == 2 {
                first[1] = read_signed(&mut bits)?;
            }
            min_sd = read_signed(&mut bits)?;
        }
    }
    let mut refs = Vec::with_capacity(ng);
    for _ in 0..ng {
        refs.push(
            bits.read(nbits)
                .ok_or_else(|| cut("group reference values"))?,
        );
    }
    bits.align();
    let mut widths = Vec::with_capacity(ng);
    for _ in 0..ng {
        widths.push(
            ref_width.saturating_add(bits.read(width_bits).ok_or_else(|| cut("group widths"))?),
        );
    }
    bits.align();
    let mut lengths = Vec::with_capacity(ng);
    for _ in 0..ng {
        let l = bits.read(length_bits).ok_or_else(|| cut("group lengths"))?;
        lengths.push(ref_length.saturating_add(l.saturating_mul(length_inc)));
    }
    bits.align();
    if let Some(last) = lengths.last_mut() {
        *last = last_length;
    }
    let total: u64 = lengths.iter().fold(0u64, |a, &l| a.saturating_add(l));
    if total != n as u64 {
        return Err(stage.fail(format!(
            "the {ng} groups hold {total} values but section 5 says {n}"
        )));
    }
    if let Some(w) = widths.iter().find(|&&w| w > 57) {
        return Err(stage.fail(format!(
            "a group width of {w} bits is more than GRIB allows"
        )));
    }
    // Unpack: None marks a missing value.
    let mut xs: Vec<Option<i64>> = Vec::with_capacity(n);
    let all_ones = |b: usize| if b == 0 { 0 } else { (1u64 << b) - 1 };
    for g in 0..ng {
        let (r, w, len) = (refs[g], widths[g] as usize, lengths[g] as usize);
        if w == 0 {
            let missing = match missing_mgmt {
                1 => r == all_ones(nbits),
                2 => r == all_ones(nbits) || r == all_ones(nbits).wrapping_sub(1),
                _ => false,
            } && nbits > 0;
            let v = if missing { None } else { Some(r as i64) };
            xs.extend(std::iter::repeat_n(v, len));
        } else {
            let primary = all_ones(w);
            for _ in 0..len {
                let x = bits.read(w).ok_or_else(|| cut("packed values"))?;
                let missing = match missing_mgmt {
                    1 => x == primary,
                    2 => x == primary || x == primary - 1,
                    _ => false,
                };
                xs.push(if missing { None } else { Some((r + x) as i64) });
            }
        }
    }
    if template == 3 {
        // Undo the differencing over the values that are present.
        let mut prev = [0i64; 2];
        for (k, x) in xs.iter_mut().flatten().enumerate() {
            let v = if k < usize::from(order) {
                first[k]
            } else if order == 1 {
                x.wrapping_add(min_sd).wrapping_add(prev[1])
            } else {
                x.wrapping_add(min_sd)
                    .wrapping_add(prev[1].wrapping_mul(2))
                    .wrapping_sub(prev[0])
            };
            *x = v;
            prev = [prev[1], v];
        }
    }
    Ok(xs
        .into_iter()
        .map(|x| x.map_or(f64::NAN, |v| scale.apply(v as f64)))
        .collect())
}

fn jpeg2000(data: &[u8], scale: Scale, n: usize, stage: Stage<'_, '_>) -> Result<Vec<f64>> {
    let settings = hayro_jpeg2000::DecodeSettings {
        resolve_palette_indices: false,
        strict: false,
        target_resolution: None,
    };
    let image = hayro_jpeg2000::Image::new(data, &settings)
        .map_err(|e| stage.fail(format!("the JPEG 2000 code stream is invalid ({e})")))?;
    let mut context = hayro_jpeg2000::DecoderContext::default();
    let decoded = image
        .decode(&mut context)
        .map_err(|e| stage.fail(format!("the JPEG 2000 code stream does not decode ({e})")))?;
    let [component] = decoded.components() else {
        return Err(stage.fail(format!(
            "the JPEG 2000 image has {} components; GRIB stores one",
            decoded.components().len()
        )));
    };
    let samples = component.samples();
    if samples.len() < n {
        return Err(stage.fail(format!(
            "the JPEG 2000 image holds {} samples, fewer than the {n} values of the field",
            samples.len()
        )));
    }
    Ok(samples[..n]
        .iter()
        .map(|&s| scale.apply(f64::from(s).round()))
        .collect())
}

fn png(data: &[u8], scale: Scale, n: usize, stage: Stage<'_, '_>) -> Result<Vec<f64>> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(data));
    decoder.set_transformations(png::Transformations::IDENTITY);
    let mut reader = decoder
        .read_info()
        .map_err(|e| stage.fail(format!("the PNG stream is invalid ({e})")))?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| stage.fail("the PNG image is too large to decode"))?;
    let mut buf = vec![0u8; size];
    let info = reader
        .next_frame(&mut buf)
        .map_err(|e| stage.fail(format!("the PNG stream does not decode ({e})")))?;
    let bits_per_pixel = info.bit_depth as usize * info.color_type.samples();
    let (width, height, line) = (info.width as usize, info.height as usize, info.line_size);
    if width * height < n {
        return Err(stage.fail(format!(
            "the PNG image holds {width}x{height} pixels, fewer than the {n} values of the field"
        )));
    }
    let mut out = Vec::with_capacity(n);
    'rows: for row in 0..height {
        let start = row * line;
        let mut bits = Bits::new(buf.get(start..start + line).unwrap_or(&[]));
        for _ in 0..width {
            if out.len() == n {
                break 'rows;
            }
            let x = bits
                .read(bits_per_pixel)
                .ok_or_else(|| stage.fail("the PNG image rows are shorter than their width"))?;
            out.push(scale.apply(x as f64));
        }
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn ccsds(
    data: &[u8],
    scale: Scale,
    nbits: usize,
    flags: u8,
    block_size: u8,
    rsi: u64,
    n: usize,
    stage: Stage<'_, '_>,
) -> Result<Vec<f64>> {
    if nbits > 32 {
        return Err(stage.fail(format!("{nbits} bits per value is more than CCSDS allows")));
    }
    let aec_flags = rust_aec::flags_from_grib2_ccsds_flags(flags);
    let params =
        rust_aec::AecParams::new(nbits as u8, u32::from(block_size), rsi as u32, aec_flags);
    let bytes = rust_aec::decode(data, params, n)
        .map_err(|e| stage.fail(format!("the CCSDS (AEC) stream does not decode ({e})")))?;
    if n == 0 {
        return Ok(Vec::new());
    }
    let per = bytes.len() / n;
    if per == 0 || per > 4 || bytes.len() != per * n {
        return Err(stage.fail(format!(
            "the CCSDS decoder returned {} bytes for {n} values",
            bytes.len()
        )));
    }
    let msb = aec_flags.contains(rust_aec::AecFlags::MSB);
    let signed_samples = aec_flags.contains(rust_aec::AecFlags::DATA_SIGNED);
    Ok(bytes
        .chunks_exact(per)
        .map(|c| {
            let raw = if msb {
                c.iter().fold(0u64, |a, &b| (a << 8) | u64::from(b))
            } else {
                c.iter().rev().fold(0u64, |a, &b| (a << 8) | u64::from(b))
            };
            let x = if signed_samples && nbits > 0 && raw & (1 << (nbits - 1)) != 0 {
                raw as i64 - (1i64 << nbits)
            } else {
                raw as i64
            };
            scale.apply(x as f64)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_fields_read_across_byte_boundaries() {
        let data = [0b1010_1100, 0b0101_0011, 0xff];
        let mut b = Bits::new(&data);
        assert_eq!(b.read(3), Some(0b101));
        assert_eq!(b.read(7), Some(0b011_0001));
        assert_eq!(b.read(0), Some(0));
        b.align();
        assert_eq!(b.read(8), Some(0xff));
        assert_eq!(b.read(1), None);
    }
}
