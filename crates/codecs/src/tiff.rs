//! TIFF codecs: LZW, PackBits, the horizontal-differencing and
//! floating-point predictors, and pixel de-interleaving.
//!
//! Each works on a whole tile or strip. The predictors work row by row, so a
//! strip that holds fewer rows than `RowsPerStrip` (the last one) decodes
//! like any other.

use crate::{Error, Result, Stage};
use arco_core::Endian;

/// Undo TIFF LZW (compression 5): MSB-first codes, 9 to 12 bits wide, with
/// libtiff's early change of code width.
pub(crate) fn lzw(src: &[u8], expected: usize, stage: Stage<'_, '_>) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(expected);
    let mut decoder = weezl::decode::Decoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8);
    let result = decoder.into_vec(&mut out).decode(src);
    match result.status {
        Ok(weezl::LzwStatus::Ok | weezl::LzwStatus::Done | weezl::LzwStatus::NoProgress) => Ok(out),
        Err(e) => {
            // Writers that stop without an end-of-information code leave a
            // stream weezl calls incomplete: what was decoded is the data.
            if out.len() >= expected && expected > 0 {
                out.truncate(expected);
                Ok(out)
            } else {
                Err(stage.fail(format!(
                    "the LZW stream is corrupt after {} of {} stored bytes ({e})",
                    result.consumed_in,
                    src.len()
                )))
            }
        }
    }
}

/// Undo PackBits (TIFF compression 32773): a header byte `n` in 0..=127
/// copies the next `n + 1` bytes, in -127..=-1 repeats the next byte
/// `1 - n` times, and -128 is a no-op.
pub(crate) fn packbits(src: &[u8], expected: usize, stage: Stage<'_, '_>) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(expected);
    let mut i = 0usize;
    while i < src.len() {
        let n = src[i] as i8;
        i += 1;
        if n >= 0 {
            let len = n as usize + 1;
            let run = src.get(i..i + len).ok_or_else(|| {
                stage.fail(format!(
                    "a literal run of {len} bytes at byte {} runs past the end of the {}-byte chunk",
                    i - 1,
                    src.len()
                ))
            })?;
            out.extend_from_slice(run);
            i += len;
        } else if n != -128 {
            let byte = *src.get(i).ok_or_else(|| {
                stage.fail(format!(
                    "a repeat run at byte {} has no byte to repeat (truncated chunk?)",
                    i - 1
                ))
            })?;
            i += 1;
            let len = 1 + (-(n as i16)) as usize;
            out.resize(out.len() + len, byte);
        }
    }
    Ok(out)
}

/// Undo TIFF predictor 2 in place: each sample plus the same sample of the
/// previous pixel, per row, with wrapping integer arithmetic.
pub(crate) fn horizontal_differencing(
    buf: &mut [u8],
    bits_per_sample: u32,
    samples_per_pixel: u32,
    row_pixels: u64,
    endian: Endian,
    stage: Stage<'_, '_>,
) -> Result<()> {
    let size = match bits_per_sample {
        8 | 16 | 32 | 64 => bits_per_sample as usize / 8,
        other => {
            return Err(stage.fail(format!(
                "horizontal differencing of {other}-bit samples is not supported (8, 16, 32 or 64 bits)"
            )))
        }
    };
    let spp = samples_per_pixel.max(1) as usize;
    let row_bytes = row_len(row_pixels, spp * size, stage)?;
    if !buf.len().is_multiple_of(row_bytes) {
        return Err(stage.fail(format!(
            "{} decoded bytes are not whole rows of {row_bytes} bytes",
            buf.len()
        )));
    }
    let stride = spp * size;
    for row in buf.chunks_exact_mut(row_bytes) {
        match (size, endian) {
            (1, _) => {
                for i in stride..row.len() {
                    row[i] = row[i].wrapping_add(row[i - stride]);
                }
            }
            (2, Endian::Little) => accumulate::<2, _>(row, stride, u16le, |v| v.to_le_bytes()),
            (2, Endian::Big) => accumulate::<2, _>(row, stride, u16be, |v| v.to_be_bytes()),
            (4, Endian::Little) => accumulate::<4, _>(row, stride, u32le, |v| v.to_le_bytes()),
            (4, Endian::Big) => accumulate::<4, _>(row, stride, u32be, |v| v.to_be_bytes()),
            (_, Endian::Little) => accumulate::<8, _>(row, stride, u64le, |v| v.to_le_bytes()),
            (_, Endian::Big) => accumulate::<8, _>(row, stride, u64be, |v| v.to_be_bytes()),
        }
    }
    Ok(())
}

/// Integers that add with wrap-around.
trait Wrapping: Copy {
    fn wrapping_add(self, other: Self) -> Self;
}

macro_rules! wrapping {
    ($($t:ty),*) => {$(
        impl Wrapping for $t {
            fn wrapping_add(self, other: Self) -> Self {
                <$t>::wrapping_add(self, other)
            }
        }
    )*};
}
wrapping!(u16, u32, u64);

fn u16le(b: [u8; 2]) -> u16 {
    u16::from_le_bytes(b)
}
fn u16be(b: [u8; 2]) -> u16 {
    u16::from_be_bytes(b)
}
fn u32le(b: [u8; 4]) -> u32 {
    u32::from_le_bytes(b)
}
fn u32be(b: [u8; 4]) -> u32 {
    u32::from_be_bytes(b)
}
fn u64le(b: [u8; 8]) -> u64 {
    u64::from_le_bytes(b)
}
fn u64be(b: [u8; 8]) -> u64 {
    u64::from_be_bytes(b)
}

/// Add to every `N`-byte sample of `row` the sample `stride` bytes before it.
fn accumulate<const N: usize, T: Wrapping>(
    row: &mut [u8],
    stride: usize,
    read: fn([u8; N]) -> T,
    write: fn(T) -> [u8; N],
) {
    let get = |row: &[u8], at: usize| {
        let mut b = [0u8; N];
        b.copy_from_slice(&row[at..at + N]);
        read(b)
    };
    let mut at = stride;
    while at + N <= row.len() {
        let v = get(row, at).wrapping_add(get(row, at - stride));
        row[at..at + N].copy_from_slice(&write(v));
        at += N;
    }
}

/// Undo TIFF predictor 3: per row, undo the byte differencing (distance:
/// samples per pixel), then put each sample's bytes back together from the
/// significance planes (most significant plane first) in `endian` order.
pub(crate) fn floating_point_predictor(
    src: &[u8],
    bytes_per_sample: u32,
    samples_per_pixel: u32,
    row_pixels: u64,
    endian: Endian,
    stage: Stage<'_, '_>,
) -> Result<Vec<u8>> {
    let size = match bytes_per_sample {
        2 | 4 | 8 => bytes_per_sample as usize,
        other => {
            return Err(stage.fail(format!(
                "the floating-point predictor needs 2-, 4- or 8-byte samples, not {other}"
            )))
        }
    };
    let spp = samples_per_pixel.max(1) as usize;
    let row_bytes = row_len(row_pixels, spp * size, stage)?;
    if !src.len().is_multiple_of(row_bytes) {
        return Err(stage.fail(format!(
            "{} decoded bytes are not whole rows of {row_bytes} bytes",
            src.len()
        )));
    }
    let per_row = row_bytes / size; // samples in one row
    let mut out = vec![0u8; src.len()];
    let mut tmp = vec![0u8; row_bytes];
    for (row_in, row_out) in src
        .chunks_exact(row_bytes)
        .zip(out.chunks_exact_mut(row_bytes))
    {
        tmp.copy_from_slice(row_in);
        for i in spp..tmp.len() {
            tmp[i] = tmp[i].wrapping_add(tmp[i - spp]);
        }
        for (k, sample) in row_out.chunks_exact_mut(size).enumerate() {
            for (plane, byte) in (0..size).map(|p| (p, tmp[p * per_row + k])) {
                // plane 0 holds the most significant bytes
                let at = match endian {
                    Endian::Big => plane,
                    Endian::Little => size - 1 - plane,
                };
                sample[at] = byte;
            }
        }
    }
    Ok(out)
}

/// Turn pixel-interleaved `(pixels, samples)` into band-major `(samples, pixels)`.
pub(crate) fn deinterleave(
    src: &[u8],
    samples: u32,
    element_size: usize,
    stage: Stage<'_, '_>,
) -> Result<Vec<u8>> {
    let spp = samples.max(1) as usize;
    let es = element_size.max(1);
    let pixel = spp * es;
    if !src.len().is_multiple_of(pixel) {
        return Err(stage.fail(format!(
            "{} decoded bytes are not whole pixels of {spp} samples of {es} bytes",
            src.len()
        )));
    }
    let pixels = src.len() / pixel;
    let mut out = vec![0u8; src.len()];
    if es == 1 {
        for (p, px) in src.chunks_exact(spp).enumerate() {
            for (s, &v) in px.iter().enumerate() {
                out[s * pixels + p] = v;
            }
        }
    } else {
        for (p, px) in src.chunks_exact(pixel).enumerate() {
            for (s, v) in px.chunks_exact(es).enumerate() {
                let at = (s * pixels + p) * es;
                out[at..at + es].copy_from_slice(v);
            }
        }
    }
    Ok(out)
}

/// Bytes per row, or an error when the geometry is empty or overflows.
fn row_len(row_pixels: u64, pixel_bytes: usize, stage: Stage<'_, '_>) -> Result<usize> {
    usize::try_from(row_pixels)
        .ok()
        .and_then(|p| p.checked_mul(pixel_bytes))
        .filter(|&n| n > 0)
        .ok_or_else(|| Error::Decode {
            context: stage.ctx.label.to_string(),
            codec: stage.codec.label(),
            reason: format!(
                "a row of {row_pixels} pixels of {pixel_bytes} bytes is not a usable row length"
            ),
        })
}

#[cfg(test)]
mod tests {
    use crate::{decode_chunk, ChunkContext};
    use arco_core::{CodecSpec, DType, Endian};

    fn ctx(dtype: &DType, elements: usize) -> ChunkContext<'_> {
        ChunkContext {
            label: "t.tif: variable /band_data, chunk [0, 0] at bytes 8..100",
            dtype,
            endian: Endian::Little,
            elements,
        }
    }

    /// A minimal TIFF LZW encoder (MSB first, early change), for tests.
    fn lzw_encode(data: &[u8]) -> Vec<u8> {
        let mut enc = weezl::encode::Encoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8);
        enc.encode(data).unwrap()
    }

    #[test]
    fn lzw_decodes_what_a_tiff_lzw_encoder_wrote() {
        let data: Vec<u8> = (0..5000u32).map(|i| ((i * i) % 251) as u8).collect();
        let stored = lzw_encode(&data);
        let out = decode_chunk(&stored, &[CodecSpec::Lzw], 0, &ctx(&DType::U8, 5000)).unwrap();
        assert_eq!(out, data);
    }

    #[test]
    fn a_corrupt_lzw_stream_is_an_error_naming_the_chunk() {
        let data: Vec<u8> = (0..5000u32).map(|i| ((i * 7) % 13) as u8).collect();
        let mut stored = lzw_encode(&data);
        stored.truncate(stored.len() / 3);
        stored[2] = 0xff;
        stored[3] = 0xff;
        let err = decode_chunk(&stored, &[CodecSpec::Lzw], 0, &ctx(&DType::U8, 5000))
            .unwrap_err()
            .to_string();
        assert!(err.contains("lzw failed"), "{err}");
        assert!(err.contains("chunk [0, 0] at bytes 8..100"), "{err}");
    }

    #[test]
    fn packbits_decodes_the_example_from_the_tiff_specification() {
        // TIFF 6.0, section 9.
        let packed = [
            0xFE, 0xAA, 0x02, 0x80, 0x00, 0x2A, 0xFD, 0xAA, 0x03, 0x80, 0x00, 0x2A, 0x22, 0xF7,
            0xAA,
        ];
        let unpacked = [
            0xAA, 0xAA, 0xAA, 0x80, 0x00, 0x2A, 0xAA, 0xAA, 0xAA, 0xAA, 0x80, 0x00, 0x2A, 0x22,
            0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA,
        ];
        let out = decode_chunk(&packed, &[CodecSpec::PackBits], 0, &ctx(&DType::U8, 24)).unwrap();
        assert_eq!(out, unpacked);
        let err = decode_chunk(
            &packed[..4],
            &[CodecSpec::PackBits],
            0,
            &ctx(&DType::U8, 24),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("runs past the end"), "{err}");
    }

    fn hdiff(bits: u32, spp: u32, width: u64, endian: Endian) -> CodecSpec {
        CodecSpec::HorizontalDifferencing {
            bits_per_sample: bits,
            samples_per_pixel: spp,
            row_pixels: width,
            endian,
        }
    }

    #[test]
    fn horizontal_differencing_is_undone_per_row_and_per_sample() {
        // Two rows of three RGB pixels, 8-bit.
        let data: Vec<u8> = vec![
            10, 20, 30, 11, 22, 33, 250, 5, 40, // row 0
            1, 2, 3, 4, 5, 6, 7, 8, 9, // row 1
        ];
        let mut diff = data.clone();
        for row in diff.chunks_mut(9) {
            for i in (3..9).rev() {
                row[i] = row[i].wrapping_sub(row[i - 3]);
            }
        }
        assert_ne!(diff, data);
        let out = decode_chunk(
            &diff,
            &[hdiff(8, 3, 3, Endian::Little)],
            0,
            &ctx(&DType::U8, 18),
        )
        .unwrap();
        assert_eq!(out, data);
    }

    #[test]
    fn horizontal_differencing_of_wide_samples_respects_byte_order() {
        let values: Vec<u64> = vec![1000, 65530, 7, u64::MAX - 3, 42, 9];
        for bits in [16u32, 32, 64] {
            let mask = if bits == 64 {
                u64::MAX
            } else {
                (1u64 << bits) - 1
            };
            let v: Vec<u64> = values.iter().map(|x| x & mask).collect();
            let mut d = v.clone();
            for row in d.chunks_mut(3) {
                for i in (1..3).rev() {
                    row[i] = row[i].wrapping_sub(row[i - 1]) & mask;
                }
            }
            for endian in [Endian::Little, Endian::Big] {
                let enc = |xs: &[u64]| -> Vec<u8> {
                    xs.iter()
                        .flat_map(|&x| {
                            let b = match endian {
                                Endian::Little => x.to_le_bytes().to_vec(),
                                Endian::Big => x.to_be_bytes().to_vec(),
                            };
                            match (bits, endian) {
                                (64, _) => b,
                                (_, Endian::Little) => b[..bits as usize / 8].to_vec(),
                                (_, Endian::Big) => b[8 - bits as usize / 8..].to_vec(),
                            }
                        })
                        .collect()
                };
                let dtype = match bits {
                    16 => DType::U16,
                    32 => DType::U32,
                    _ => DType::U64,
                };
                let out = decode_chunk(&enc(&d), &[hdiff(bits, 1, 3, endian)], 0, &ctx(&dtype, 6))
                    .unwrap();
                assert_eq!(out, enc(&v), "{bits} bits, {endian:?}");
            }
        }
    }

    #[test]
    fn the_floating_point_predictor_rebuilds_samples_from_byte_planes() {
        // One row of 3 float32 values, 1 sample per pixel, as libtiff encodes them.
        let values = [1.5f32, -2.25, 1e10];
        let width = values.len();
        let mut planes = vec![0u8; width * 4];
        for (k, v) in values.iter().enumerate() {
            let be = v.to_be_bytes();
            for p in 0..4 {
                planes[p * width + k] = be[p];
            }
        }
        for i in (1..planes.len()).rev() {
            planes[i] = planes[i].wrapping_sub(planes[i - 1]);
        }
        let spec = |endian| CodecSpec::FloatingPointPredictor {
            bytes_per_sample: 4,
            samples_per_pixel: 1,
            row_pixels: width as u64,
            endian,
        };
        let le = decode_chunk(&planes, &[spec(Endian::Little)], 0, &ctx(&DType::F32, 3)).unwrap();
        let want: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(le, want);
        let be = decode_chunk(&planes, &[spec(Endian::Big)], 0, &ctx(&DType::F32, 3)).unwrap();
        let want: Vec<u8> = values.iter().flat_map(|v| v.to_be_bytes()).collect();
        assert_eq!(be, want);
        let err = decode_chunk(&planes[..5], &[spec(Endian::Big)], 0, &ctx(&DType::F32, 3))
            .unwrap_err()
            .to_string();
        assert!(err.contains("not whole rows of 12 bytes"), "{err}");
    }

    #[test]
    fn interleaved_pixels_come_out_band_major() {
        let stored = [1u8, 0, 10, 0, 2, 0, 20, 0, 3, 0, 30, 0];
        let spec = CodecSpec::Interleave {
            samples: 2,
            element_size: 2,
        };
        let out = decode_chunk(
            &stored,
            std::slice::from_ref(&spec),
            0,
            &ctx(&DType::U16, 6),
        )
        .unwrap();
        assert_eq!(out, [1, 0, 2, 0, 3, 0, 10, 0, 20, 0, 30, 0]);
        assert!(decode_chunk(&stored[..11], &[spec], 0, &ctx(&DType::U16, 6)).is_err());
    }
}
