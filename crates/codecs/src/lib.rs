//! # arco-codecs
//!
//! Synchronous codecs over bytes: the HDF5 filter pipeline stages named by
//! [`arco_core::CodecSpec`] and the final bytes-to-elements step. No I/O, no
//! threads: the read engine in `arco-formats` fetches chunks and runs
//! [`decode_chunk`] on a thread pool, then [`decode_elements`] once on the
//! assembled selection.
//!
//! Built in: deflate, shuffle, fletcher32, n-bit, scale-offset, zstd, lz4 (the
//! HDF5 plugin framing), bzip2 and blosc (blosclz, lz4, zlib and zstd inside);
//! for TIFF: LZW, PackBits, JPEG (8-bit, with shared tables and YCbCr to
//! RGB), WebP, LERC, the horizontal and floating-point predictors, and
//! de-interleaving of pixel-interleaved bands.
//! For GRIB (editions 1 and 2): one message decoded to its field's values,
//! with simple, complex, spatially differenced, IEEE, JPEG 2000, PNG and
//! CCSDS packing (see the `grib` module).
//! Not built in: szip/AEC and filters arco does not know; both are reported as
//! [`Error::Unsupported`] with what to do.
#![warn(missing_docs)]

mod blosc;
mod checksum;
mod elements;
mod grib;
mod jpeg;
mod lerc;
mod packing;
mod shuffle;
mod tiff;
mod webp;

pub use checksum::fletcher32;
pub use elements::decode_elements;
pub use shuffle::{shuffle, unshuffle, unshuffle_into};

use arco_core::{CodecSpec, DType, Endian};
use std::borrow::Cow;
use std::io::Read;

/// A chunk failed to decode.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The chunk's bytes did not decode through a codec.
    #[error("{context}: {codec} failed: {reason}")]
    Decode {
        /// Which chunk: file, variable, chunk index, byte range.
        context: String,
        /// The codec label.
        codec: String,
        /// What went wrong.
        reason: String,
    },
    /// The codec is not implemented.
    #[error("{context}: filter '{codec}' is not supported by arco; {hint}")]
    Unsupported {
        /// Which chunk.
        context: String,
        /// The codec label.
        codec: String,
        /// What the user can do.
        hint: String,
    },
    /// Decoded bytes do not form whole elements of the type.
    #[error("cannot read {len} bytes as elements of type {dtype}: {reason}")]
    Elements {
        /// The element type.
        dtype: String,
        /// Number of bytes given.
        len: usize,
        /// Why not.
        reason: String,
    },
}

/// Crate result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What a decode needs to know besides the bytes, and the words for its errors.
#[derive(Debug, Clone)]
pub struct ChunkContext<'a> {
    /// Describes the chunk for messages: "file.nc: variable /t, chunk [0, 3] at bytes 100..200".
    pub label: &'a str,
    /// Element type.
    pub dtype: &'a DType,
    /// Stored byte order.
    pub endian: Endian,
    /// Number of elements in a full chunk.
    pub elements: usize,
}

impl ChunkContext<'_> {
    /// Bytes of a full decoded chunk (a capacity hint; variable-length types count 1 byte).
    fn expected_bytes(&self) -> usize {
        self.elements.saturating_mul(self.dtype.size().unwrap_or(1))
    }
}

/// Builds errors for one codec stage of one chunk.
#[derive(Clone, Copy)]
pub(crate) struct Stage<'a, 'b> {
    pub(crate) ctx: &'a ChunkContext<'b>,
    pub(crate) codec: &'a CodecSpec,
}

impl Stage<'_, '_> {
    pub(crate) fn fail(&self, reason: impl Into<String>) -> Error {
        Error::Decode {
            context: self.ctx.label.to_string(),
            codec: self.codec.label(),
            reason: reason.into(),
        }
    }

    pub(crate) fn unsupported(&self, what: impl std::fmt::Display) -> Error {
        Error::Unsupported {
            context: self.ctx.label.to_string(),
            codec: format!("{} ({what})", self.codec.label()),
            hint: "repack the file with `h5repack -f GZIP=6` (or another built-in filter)".into(),
        }
    }
}

/// Undo `codecs` (given in encode order) on one stored chunk. Bit `i` of
/// `filter_mask` set means codec `i` was not applied to this chunk.
///
/// ```
/// use arco_codecs::{decode_chunk, ChunkContext};
/// use arco_core::{CodecSpec, DType, Endian};
/// let ctx = ChunkContext { label: "demo", dtype: &DType::U8, endian: Endian::Little, elements: 4 };
/// let stored = [1u8, 2, 3, 4, 0x06, 0x04, 0x08, 0x05]; // data + fletcher32, little-endian
/// let out = decode_chunk(&stored, &[CodecSpec::Fletcher32], 0, &ctx).unwrap();
/// assert_eq!(out, vec![1, 2, 3, 4]);
/// ```
pub fn decode_chunk(
    raw: &[u8],
    codecs: &[CodecSpec],
    filter_mask: u32,
    ctx: &ChunkContext<'_>,
) -> Result<Vec<u8>> {
    let mut buf: Cow<'_, [u8]> = Cow::Borrowed(raw);
    for (i, codec) in codecs.iter().enumerate().rev() {
        if i < 32 && filter_mask & (1u32 << i) != 0 {
            continue;
        }
        let stage = Stage { ctx, codec };
        buf = match codec {
            CodecSpec::Fletcher32 => {
                let keep = verify_fletcher32(&buf, stage)?;
                match buf {
                    Cow::Borrowed(b) => Cow::Borrowed(&b[..keep]),
                    Cow::Owned(mut v) => {
                        v.truncate(keep);
                        Cow::Owned(v)
                    }
                }
            }
            _ => Cow::Owned(decode_stage(&buf, stage)?),
        };
    }
    Ok(buf.into_owned())
}

/// Run one codec (not fletcher32) backwards.
fn decode_stage(src: &[u8], stage: Stage<'_, '_>) -> Result<Vec<u8>> {
    let ctx = stage.ctx;
    match stage.codec {
        CodecSpec::Deflate { .. } => inflate(src, ctx.expected_bytes(), stage),
        CodecSpec::Shuffle { element_size } => Ok(unshuffle(src, *element_size)),
        CodecSpec::Zstd { .. } => {
            let mut out = Vec::with_capacity(ctx.expected_bytes());
            let mut dec = zstd::stream::read::Decoder::with_buffer(src)
                .map_err(|e| stage.fail(e.to_string()))?;
            dec.read_to_end(&mut out)
                .map_err(|e| stage.fail(format!("the zstd stream is corrupt ({e})")))?;
            Ok(out)
        }
        CodecSpec::Bzip2 { .. } => {
            let mut out = Vec::with_capacity(ctx.expected_bytes());
            bzip2::read::BzDecoder::new(src)
                .read_to_end(&mut out)
                .map_err(|e| stage.fail(format!("the bzip2 stream is corrupt ({e})")))?;
            Ok(out)
        }
        CodecSpec::Lz4 { .. } => lz4_hdf5(src, stage),
        CodecSpec::Blosc { .. } => blosc::decode(src, stage),
        CodecSpec::Nbit { params } => packing::nbit(src, params, stage),
        CodecSpec::ScaleOffset { params } => packing::scale_offset(src, params, stage),
        CodecSpec::Szip { .. } => Err(Error::Unsupported {
            context: ctx.label.to_string(),
            codec: "szip".into(),
            hint: "szip/AEC decoding is not built in; repack the file with h5repack -f GZIP=6"
                .into(),
        }),
        CodecSpec::Unknown {
            id, filter_name, ..
        } => {
            let name = filter_name.as_deref().unwrap_or("unnamed");
            Err(Error::Unsupported {
                context: ctx.label.to_string(),
                codec: format!("HDF5 filter id {id} ({name})"),
                hint: "arco has no decoder for it; repack the file with a built-in filter, \
                       for example `h5repack -f GZIP=6 in.h5 out.h5` (with the plugin installed \
                       so h5repack can read it)"
                    .into(),
            })
        }
        CodecSpec::Fletcher32 => Ok(src[..verify_fletcher32(src, stage)?].to_vec()),
        CodecSpec::Lzw => tiff::lzw(src, ctx.expected_bytes(), stage),
        CodecSpec::PackBits => tiff::packbits(src, ctx.expected_bytes(), stage),
        CodecSpec::Jpeg {
            tables,
            ycbcr_to_rgb,
        } => jpeg::decode(src, tables.as_deref(), *ycbcr_to_rgb, stage),
        CodecSpec::HorizontalDifferencing {
            bits_per_sample,
            samples_per_pixel,
            row_pixels,
            endian,
        } => {
            let mut buf = src.to_vec();
            tiff::horizontal_differencing(
                &mut buf,
                *bits_per_sample,
                *samples_per_pixel,
                *row_pixels,
                *endian,
                stage,
            )?;
            Ok(buf)
        }
        CodecSpec::FloatingPointPredictor {
            bytes_per_sample,
            samples_per_pixel,
            row_pixels,
            endian,
        } => tiff::floating_point_predictor(
            src,
            *bytes_per_sample,
            *samples_per_pixel,
            *row_pixels,
            *endian,
            stage,
        ),
        CodecSpec::Interleave {
            samples,
            element_size,
        } => tiff::deinterleave(src, *samples, *element_size, stage),
        CodecSpec::Grib { .. } => grib::decode(src, stage),
        CodecSpec::Webp => webp::decode(src, ctx.elements, stage),
        CodecSpec::Lerc => lerc::decode(src, ctx.endian, stage),
        CodecSpec::UnsupportedTiffCompression {
            compression,
            compression_name,
        } => Err(Error::Unsupported {
            context: ctx.label.to_string(),
            codec: format!("TIFF compression {compression} ({compression_name})"),
            hint: "arco has no decoder for it; rewrite the file with a built-in compression, \
                   for example `gdal_translate -co COMPRESS=DEFLATE in.tif out.tif` or \
                   `rio cogeo create --cog-profile deflate in.tif out.tif`"
                .into(),
        }),
        other => Err(stage.unsupported(format!("codec {other:?}"))),
    }
}

/// Check the trailing Fletcher-32 and return the length of the data before it.
fn verify_fletcher32(src: &[u8], stage: Stage<'_, '_>) -> Result<usize> {
    if src.len() < 4 {
        return Err(stage.fail(format!(
            "the chunk has {} bytes, too short to hold a 4-byte checksum",
            src.len()
        )));
    }
    let n = src.len() - 4;
    let stored = u32::from_le_bytes([src[n], src[n + 1], src[n + 2], src[n + 3]]);
    let computed = fletcher32(&src[..n]);
    if stored != computed && stored != checksum::fletcher32_legacy(computed) {
        return Err(stage.fail(format!(
            "checksum mismatch (stored {stored:#010x}, computed {computed:#010x}): the chunk is corrupt"
        )));
    }
    Ok(n)
}

/// Inflate a zlib stream; `expected` sizes the output up front.
pub(crate) fn inflate(src: &[u8], expected: usize, stage: Stage<'_, '_>) -> Result<Vec<u8>> {
    use flate2::{Decompress, FlushDecompress, Status};
    // Room past the expected size lets zlib reach the stream end (and its
    // checksum) in one call; zeroed allocations of this size are lazily mapped.
    let mut out = vec![0u8; expected.saturating_add(64)];
    let mut d = Decompress::new(true);
    loop {
        let (inp, outp) = (d.total_in() as usize, d.total_out() as usize);
        if outp == out.len() {
            let grow = out.len().max(4096);
            out.resize(out.len() + grow, 0);
        }
        let status = d
            .decompress(&src[inp..], &mut out[outp..], FlushDecompress::Finish)
            .map_err(|e| stage.fail(format!("the zlib stream is corrupt ({e})")))?;
        match status {
            Status::StreamEnd => break,
            Status::Ok | Status::BufError => {
                let progressed = d.total_in() as usize != inp || d.total_out() as usize != outp;
                if !progressed && d.total_out() as usize != out.len() {
                    return Err(stage.fail(format!(
                        "the zlib stream ends early after {} of {} stored bytes (truncated chunk?)",
                        d.total_in(),
                        src.len()
                    )));
                }
            }
        }
    }
    out.truncate(d.total_out() as usize);
    Ok(out)
}

/// The HDF5 LZ4 plugin (32004) framing: 8-byte big-endian original size,
/// 4-byte big-endian block size, then per block a 4-byte big-endian stored
/// size and the block (stored raw when that size equals the block size).
fn lz4_hdf5(src: &[u8], stage: Stage<'_, '_>) -> Result<Vec<u8>> {
    let short = || stage.fail(format!("the lz4 frame is truncated ({} bytes)", src.len()));
    let head = src.get(..12).ok_or_else(short)?;
    let orig = u64::from_be_bytes([
        head[0], head[1], head[2], head[3], head[4], head[5], head[6], head[7],
    ]);
    let mut block = u64::from(u32::from_be_bytes([head[8], head[9], head[10], head[11]]));
    let orig = usize::try_from(orig)
        .ok()
        .filter(|&o| o <= src.len().saturating_mul(256).max(1 << 20))
        .ok_or_else(|| stage.fail(format!("implausible original size {orig}")))?;
    block = block.min(orig as u64);
    if block == 0 && orig > 0 {
        return Err(stage.fail("block size is 0"));
    }
    let mut out = vec![0u8; orig];
    let (mut pos, mut done) = (12usize, 0usize);
    while done < orig {
        let bs = (block as usize).min(orig - done);
        let len = src.get(pos..pos + 4).ok_or_else(short)?;
        let clen = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        pos += 4;
        let data = src.get(pos..pos + clen).ok_or_else(short)?;
        let dst = &mut out[done..done + bs];
        if clen == bs {
            dst.copy_from_slice(data);
        } else {
            let n = lz4_flex::block::decompress_into(data, dst)
                .map_err(|e| stage.fail(format!("lz4 block at byte {pos} is corrupt ({e})")))?;
            if n != bs {
                return Err(stage.fail(format!(
                    "lz4 block at byte {pos} decoded to {n} bytes, expected {bs}"
                )));
            }
        }
        pos += clen;
        done += bs;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn ctx(elements: usize) -> ChunkContext<'static> {
        ChunkContext {
            label: "t.h5: variable /v, chunk [0] at bytes 0..10",
            dtype: &DType::F32,
            endian: Endian::Little,
            elements,
        }
    }

    fn data(n: usize) -> Vec<u8> {
        (0..n)
            .flat_map(|i| ((i as f32) * 0.25).sin().to_le_bytes())
            .collect()
    }

    fn zlib(d: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(6));
        e.write_all(d).unwrap();
        e.finish().unwrap()
    }

    fn lz4_frame(d: &[u8], block: usize) -> Vec<u8> {
        let mut out = (d.len() as u64).to_be_bytes().to_vec();
        out.extend((block as u32).to_be_bytes());
        for b in d.chunks(block) {
            let c = lz4_flex::block::compress(b);
            if c.len() >= b.len() {
                out.extend((b.len() as u32).to_be_bytes());
                out.extend(b);
            } else {
                out.extend((c.len() as u32).to_be_bytes());
                out.extend(c);
            }
        }
        out
    }

    #[test]
    fn deflate_and_shuffle_round_trip() {
        let d = data(1000);
        let stored = zlib(&shuffle(&d, 4));
        let codecs = [
            CodecSpec::Shuffle { element_size: 4 },
            CodecSpec::Deflate { level: Some(6) },
        ];
        assert_eq!(decode_chunk(&stored, &codecs, 0, &ctx(1000)).unwrap(), d);
        // a wrong size hint still decodes
        assert_eq!(decode_chunk(&stored, &codecs, 0, &ctx(3)).unwrap(), d);
    }

    #[test]
    fn zstd_bzip2_and_lz4_round_trip() {
        let d = data(5000);
        let z = zstd::bulk::compress(&d, 3).unwrap();
        let out = decode_chunk(&z, &[CodecSpec::Zstd { level: Some(3) }], 0, &ctx(5000)).unwrap();
        assert_eq!(out, d);

        let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::new(9));
        e.write_all(&d).unwrap();
        let b = e.finish().unwrap();
        let out = decode_chunk(&b, &[CodecSpec::Bzip2 { level: Some(9) }], 0, &ctx(5000)).unwrap();
        assert_eq!(out, d);

        let mut mixed = vec![0u8; 3000];
        mixed.extend((0..3001).map(|i| (i * 7919 % 251) as u8));
        for (buf, block) in [(&d, 4096usize), (&d, 1 << 20), (&mixed, 1000)] {
            let l = lz4_frame(buf, block);
            let out = decode_chunk(&l, &[CodecSpec::Lz4 { params: vec![] }], 0, &ctx(0)).unwrap();
            assert_eq!(&out, buf);
        }
    }

    #[test]
    fn fletcher32_is_verified_and_stripped() {
        let d = data(100);
        let mut stored = zlib(&d);
        let sum = fletcher32(&stored);
        stored.extend(sum.to_le_bytes());
        let codecs = [CodecSpec::Deflate { level: None }, CodecSpec::Fletcher32];
        assert_eq!(decode_chunk(&stored, &codecs, 0, &ctx(100)).unwrap(), d);
        // the pre-1.6.3 byte order is accepted too
        let n = stored.len() - 4;
        stored[n..].copy_from_slice(&checksum::fletcher32_legacy(sum).to_le_bytes());
        assert_eq!(decode_chunk(&stored, &codecs, 0, &ctx(100)).unwrap(), d);
    }

    #[test]
    fn a_corrupted_chunk_fails_its_checksum_with_the_chunk_named() {
        let mut stored = data(10);
        let sum = fletcher32(&stored);
        stored.extend(sum.to_le_bytes());
        stored[3] ^= 0x40;
        let err = decode_chunk(&stored, &[CodecSpec::Fletcher32], 0, &ctx(10)).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::Decode { .. }));
        assert!(msg.contains("checksum mismatch (stored"), "{msg}");
        assert!(msg.contains("the chunk is corrupt"), "{msg}");
        assert!(msg.contains("chunk [0] at bytes 0..10"), "{msg}");
    }

    #[test]
    fn filter_mask_skips_codecs_not_applied_to_the_chunk() {
        let d = data(64);
        let stored = shuffle(&d, 4); // deflate (codec 1) skipped for this chunk
        let codecs = [
            CodecSpec::Shuffle { element_size: 4 },
            CodecSpec::Deflate { level: Some(4) },
        ];
        assert_eq!(decode_chunk(&stored, &codecs, 0b10, &ctx(64)).unwrap(), d);
        assert_eq!(decode_chunk(&d, &codecs, 0b11, &ctx(64)).unwrap(), d);
    }

    #[test]
    fn an_unknown_filter_is_named_by_id_with_a_repack_hint() {
        let codecs = [CodecSpec::Unknown {
            id: 32017,
            filter_name: Some("SZ".into()),
            params: vec![],
        }];
        let msg = decode_chunk(&[1, 2], &codecs, 0, &ctx(1))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("32017") && msg.contains("SZ"), "{msg}");
        assert!(msg.contains("h5repack"), "{msg}");
        let msg = decode_chunk(&[1], &[CodecSpec::Szip { params: vec![] }], 0, &ctx(1))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("szip/AEC decoding is not built in"), "{msg}");
    }

    #[test]
    fn truncated_deflate_streams_are_errors() {
        let d = data(1000);
        let stored = zlib(&d);
        let err = decode_chunk(
            &stored[..stored.len() / 2],
            &[CodecSpec::Deflate { level: None }],
            0,
            &ctx(1000),
        )
        .unwrap_err();
        assert!(err.to_string().contains("deflate failed"), "{err}");
        let err = decode_chunk(&[1, 2, 3], &[CodecSpec::Lz4 { params: vec![] }], 0, &ctx(1));
        assert!(err.is_err());
    }
}
