//! From arco's codec chains to numcodecs, the codec names kerchunk
//! references use, and back: encoders for the few chunks arco has to write
//! itself (chunks that skipped a filter, fill chunks).
//!
//! | HDF5 filter (`CodecSpec`) | numcodecs id |
//! |---|---|
//! | deflate | `zlib` |
//! | shuffle | `shuffle` (`elementsize`) |
//! | fletcher32 | `fletcher32` |
//! | zstd (32015) | `zstd` |
//! | blosc (32001) | `blosc` (`cname`, `clevel`, `shuffle` from the filter parameters) |
//! | bzip2 (307) | `bz2` |
//! | GRIB message | `grib` (kerchunk's `GRIBCodec`: `var`, `dtype`) |
//!
//! TIFF compressions and predictors map to the codecs `imagecodecs.numcodecs`
//! registers, with the configurations `tifffile`'s `write_fsspec` writes:
//!
//! | TIFF (`CodecSpec`) | numcodecs id |
//! |---|---|
//! | LZW | `imagecodecs_lzw` |
//! | PackBits | `imagecodecs_packbits` |
//! | deflate (8, 32946) | `zlib` |
//! | zstd (50000) | `zstd` |
//! | JPEG (one sample per pixel) | `imagecodecs_jpeg` (`tables` base64, `bitspersample` 8) |
//! | LERC (one sample per pixel) | `imagecodecs_lerc` (its deflate/zstd stage as `zlib`/`zstd` before it) |
//! | predictor 2 | `imagecodecs_delta` (`shape` = the chunk, `dtype`, `axis` -1, `dist` 1) |
//! | predictor 3 | `imagecodecs_floatpred` (`shape` = the chunk, `dtype`, `axis` -1, `dist` 1) |
//!
//! Pixel-interleaved tiles (`Interleave`, several samples per pixel) decode
//! to `(y, x, band)` while arco's variable is `(band, y, x)`; Zarr v2 has no
//! transpose filter, so they (and WebP, JPEG RGB, LERC of several bands,
//! which only occur interleaved) stay on the decoded-inline fallback.
//!
//! Everything else (lz4 with HDF5's block framing, n-bit, scale-offset,
//! szip, unknown filters and codecs added later) has no numcodecs
//! equivalent: [`map_codec`] says why, and the caller inlines decoded chunks
//! or refuses the variable.

use arco_core::CodecSpec;
use serde_json::{json, Value};
use std::io::Write;

/// One numcodecs codec, as a kerchunk `.zarray` names it.
#[derive(Debug, Clone, PartialEq)]
pub enum Numcodec {
    /// `zlib` at `level`.
    Zlib {
        /// Level 0–9 (used when arco encodes a chunk).
        level: u32,
    },
    /// `shuffle` of `elementsize` bytes.
    Shuffle {
        /// Bytes per element.
        elementsize: usize,
    },
    /// `fletcher32`: a 4-byte checksum after the data, checked on decode.
    Fletcher32,
    /// `zstd` at `level`.
    Zstd {
        /// Level (used when arco encodes a chunk).
        level: i32,
    },
    /// `blosc`: frames carry their own parameters; these describe the writer.
    Blosc {
        /// Inner compressor name.
        cname: &'static str,
        /// Level 0–9.
        clevel: u32,
        /// 0 none, 1 byte shuffle, 2 bit shuffle.
        shuffle: u32,
        /// Element size for the shuffle.
        typesize: usize,
    },
    /// `bz2` at `level`.
    Bz2 {
        /// Level 1–9.
        level: u32,
    },
    /// kerchunk's `grib` codec (`kerchunk.codecs.GRIBCodec`): one GRIB
    /// message decoded by ecCodes to its `values`, missing values as NaN.
    Grib {
        /// The variable's name (the codec's `var`); filled in by the builder.
        var: String,
        /// `float32` or `float64`.
        dtype: &'static str,
    },
    /// `imagecodecs_lzw`: TIFF LZW.
    Lzw,
    /// `imagecodecs_packbits`: TIFF PackBits.
    PackBits,
    /// `imagecodecs_jpeg`: one baseline JPEG of one 8-bit sample per pixel.
    Jpeg {
        /// The `JPEGTables` stream, if the file has one.
        tables: Option<Vec<u8>>,
    },
    /// `imagecodecs_lerc`: one LERC blob of one sample per pixel.
    Lerc,
    /// `imagecodecs_delta` (TIFF predictor 2) over a whole chunk of `shape`
    /// along its last axis.
    Delta {
        /// The chunk's shape.
        shape: Vec<u64>,
        /// NumPy type string with byte order (`<u2`).
        dtype: String,
    },
    /// `imagecodecs_floatpred` (TIFF predictor 3) over a whole chunk of
    /// `shape` along its last axis.
    FloatPred {
        /// The chunk's shape.
        shape: Vec<u64>,
        /// NumPy type string with byte order (`>f4`).
        dtype: String,
    },
}

/// What a chain is mapped for: the chunk's shape and NumPy type string
/// (needed by the TIFF predictors, whose codecs name both).
#[derive(Debug, Clone, Copy)]
pub struct ChunkLayout<'a> {
    /// The chunk's shape.
    pub shape: &'a [u64],
    /// NumPy type string with byte order (`<u2`), as the `.zarray` says.
    pub dtype: &'a str,
}

/// Blosc's inner compressors by the code the HDF5 plugin stores.
const BLOSC_NAMES: [&str; 6] = ["blosclz", "lz4", "lz4hc", "snappy", "zlib", "zstd"];

impl Numcodec {
    /// The numcodecs configuration object.
    pub fn json(&self) -> Value {
        match self {
            Numcodec::Zlib { level } => json!({"id": "zlib", "level": level}),
            Numcodec::Shuffle { elementsize } => {
                json!({"id": "shuffle", "elementsize": elementsize})
            }
            Numcodec::Fletcher32 => json!({"id": "fletcher32"}),
            Numcodec::Zstd { level } => json!({"id": "zstd", "level": level}),
            Numcodec::Blosc {
                cname,
                clevel,
                shuffle,
                ..
            } => {
                json!({"id": "blosc", "cname": cname, "clevel": clevel, "shuffle": shuffle, "blocksize": 0})
            }
            Numcodec::Bz2 { level } => json!({"id": "bz2", "level": level}),
            Numcodec::Grib { var, dtype } => json!({"id": "grib", "var": var, "dtype": dtype}),
            Numcodec::Lzw => json!({"id": "imagecodecs_lzw"}),
            Numcodec::PackBits => json!({"id": "imagecodecs_packbits"}),
            Numcodec::Jpeg { tables } => {
                use base64::Engine as _;
                json!({
                    "id": "imagecodecs_jpeg",
                    "bitspersample": 8,
                    "tables": tables.as_ref().map(|t| base64::engine::general_purpose::STANDARD.encode(t)),
                    "header": null,
                    "colorspace_data": null,
                    "colorspace_jpeg": null,
                })
            }
            Numcodec::Lerc => json!({"id": "imagecodecs_lerc"}),
            Numcodec::Delta { shape, dtype } => json!({
                "id": "imagecodecs_delta", "shape": shape, "dtype": dtype, "axis": -1, "dist": 1
            }),
            Numcodec::FloatPred { shape, dtype } => json!({
                "id": "imagecodecs_floatpred", "shape": shape, "dtype": dtype, "axis": -1, "dist": 1
            }),
        }
    }

    /// True for codecs Zarr v2 calls a compressor (the last stage of a chain).
    pub fn is_compressor(&self) -> bool {
        !matches!(
            self,
            Numcodec::Shuffle { .. }
                | Numcodec::Fletcher32
                | Numcodec::Delta { .. }
                | Numcodec::FloatPred { .. }
        )
    }

    /// Encode `data` the way numcodecs' decoder of this codec reads it back.
    pub fn encode(&self, data: &[u8]) -> Result<Vec<u8>, String> {
        match self {
            Numcodec::Zlib { level } => {
                let mut e = flate2::write::ZlibEncoder::new(
                    Vec::with_capacity(data.len() / 2 + 64),
                    flate2::Compression::new((*level).min(9)),
                );
                e.write_all(data)
                    .and_then(|()| e.finish())
                    .map_err(|err| format!("zlib encoding failed: {err}"))
            }
            Numcodec::Shuffle { elementsize } => Ok(arco_codecs::shuffle(data, *elementsize)),
            Numcodec::Fletcher32 => {
                let mut out = Vec::with_capacity(data.len() + 4);
                out.extend_from_slice(data);
                out.extend_from_slice(&arco_codecs::fletcher32(data).to_le_bytes());
                Ok(out)
            }
            Numcodec::Zstd { level } => zstd::bulk::compress(data, *level)
                .map_err(|err| format!("zstd encoding failed: {err}")),
            Numcodec::Bz2 { level } => {
                let mut e = bzip2::write::BzEncoder::new(
                    Vec::with_capacity(data.len() / 2 + 64),
                    bzip2::Compression::new((*level).clamp(1, 9)),
                );
                e.write_all(data)
                    .and_then(|()| e.finish())
                    .map_err(|err| format!("bzip2 encoding failed: {err}"))
            }
            Numcodec::Blosc { typesize, .. } => blosc_memcpy_frame(data, *typesize),
            Numcodec::Grib { .. } => Err("arco does not encode GRIB messages".into()),
            Numcodec::Lzw => weezl::encode::Encoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8)
                .encode(data)
                .map_err(|err| format!("LZW encoding failed: {err}")),
            Numcodec::PackBits => Ok(packbits_literal(data)),
            Numcodec::Jpeg { .. } => Err("arco does not encode JPEG".into()),
            Numcodec::Lerc => Err("arco does not encode LERC".into()),
            Numcodec::Delta { shape, dtype } => predictor_encode(data, shape, dtype, false),
            Numcodec::FloatPred { shape, dtype } => predictor_encode(data, shape, dtype, true),
        }
    }
}

/// A blosc1 frame that stores `data` uncompressed (the "memcpyed" flag):
/// every blosc decoder reads it, and arco needs no blosc encoder.
fn blosc_memcpy_frame(data: &[u8], typesize: usize) -> Result<Vec<u8>, String> {
    const MEMCPYED: u8 = 0x02;
    let n = u32::try_from(data.len())
        .ok()
        .filter(|n| n.checked_add(16).is_some())
        .ok_or_else(|| {
            format!(
                "a blosc frame holds at most 2 GiB, not {} bytes",
                data.len()
            )
        })?;
    let mut out = Vec::with_capacity(data.len() + 16);
    out.extend_from_slice(&[2, 1, MEMCPYED, u8::try_from(typesize).unwrap_or(1).max(1)]);
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&(n + 16).to_le_bytes());
    out.extend_from_slice(data);
    Ok(out)
}

/// PackBits of literal runs only (every decoder reads it).
fn packbits_literal(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 128 + 1);
    for run in data.chunks(128) {
        out.push((run.len() - 1) as u8);
        out.extend_from_slice(run);
    }
    out
}

/// TIFF predictor 2 (`float == false`) or 3 applied row by row to a chunk
/// of `shape` whose samples have NumPy type `dtype`.
fn predictor_encode(
    data: &[u8],
    shape: &[u64],
    dtype: &str,
    float: bool,
) -> Result<Vec<u8>, String> {
    let big = dtype.starts_with('>');
    let size: usize = dtype
        .get(2..)
        .and_then(|s| s.parse().ok())
        .filter(|s| matches!(s, 1 | 2 | 4 | 8))
        .ok_or_else(|| format!("predictor of type {dtype}: 1, 2, 4 or 8-byte samples expected"))?;
    let row = usize::try_from(shape.last().copied().unwrap_or(1)).unwrap_or(usize::MAX);
    let row_bytes = row.saturating_mul(size);
    if row_bytes == 0 || !data.len().is_multiple_of(row_bytes) {
        return Err(format!(
            "predictor: {} bytes are not whole rows of {row} {size}-byte samples",
            data.len()
        ));
    }
    let mut out = Vec::with_capacity(data.len());
    for r in data.chunks(row_bytes) {
        if float {
            // Bytes regrouped most significant first, then differenced.
            let mut planes = vec![0u8; row_bytes];
            for (i, s) in r.chunks(size).enumerate() {
                for b in 0..size {
                    let sig = if big { s[b] } else { s[size - 1 - b] };
                    planes[b * row + i] = sig;
                }
            }
            let mut prev = 0u8;
            for p in planes {
                out.push(p.wrapping_sub(prev));
                prev = p;
            }
        } else {
            let val = |s: &[u8]| -> u64 {
                let mut v = 0u64;
                for k in 0..size {
                    let byte = if big { s[k] } else { s[size - 1 - k] };
                    v = (v << 8) | u64::from(byte);
                }
                v
            };
            let mut prev = 0u64;
            for s in r.chunks(size) {
                let v = val(s);
                let d = v.wrapping_sub(prev);
                prev = v;
                for k in 0..size {
                    let shift = if big { 8 * (size - 1 - k) } else { 8 * k };
                    out.push((d >> shift) as u8);
                }
            }
        }
    }
    Ok(out)
}

/// The numcodecs codec for one stage, or why there is none.
pub fn map_codec(codec: &CodecSpec, element_size: usize) -> Result<Numcodec, String> {
    map_codec_in(codec, element_size, None)
}

/// [`map_codec`] for chunks of a known layout (TIFF predictors need it).
pub fn map_codec_in(
    codec: &CodecSpec,
    element_size: usize,
    layout: Option<ChunkLayout<'_>>,
) -> Result<Numcodec, String> {
    let predictor = |samples: u32,
                     row_pixels: u64,
                     bytes: usize|
     -> Result<(Vec<u64>, String), String> {
        let layout = layout.ok_or("the chunk layout is unknown")?;
        if samples != 1 {
            return Err(format!(
                "{samples} samples per pixel are interleaved, which arco's (band, y, x) chunks cannot declare"
            ));
        }
        if layout.shape.last() != Some(&row_pixels) || bytes != element_size {
            return Err(format!(
                "its rows of {row_pixels} {bytes}-byte samples are not the chunk's rows ({:?} of {element_size}-byte elements)",
                layout.shape
            ));
        }
        Ok((layout.shape.to_vec(), layout.dtype.to_string()))
    };
    Ok(match codec {
        CodecSpec::Lzw => Numcodec::Lzw,
        CodecSpec::PackBits => Numcodec::PackBits,
        CodecSpec::Jpeg { tables, ycbcr_to_rgb } => {
            if *ycbcr_to_rgb || element_size != 1 {
                return Err("JPEG of several samples per pixel is pixel-interleaved".into());
            }
            Numcodec::Jpeg {
                tables: tables.clone(),
            }
        }
        CodecSpec::Lerc => {
            if layout.is_none_or(|l| l.dtype.contains('f')) {
                return Err("imagecodecs_lerc decodes floats outside LERC's validity mask as 0, where arco (like GDAL) reads NaN".into());
            }
            Numcodec::Lerc
        }
        CodecSpec::HorizontalDifferencing {
            bits_per_sample,
            samples_per_pixel,
            row_pixels,
            ..
        } => {
            let (shape, dtype) = predictor(
                *samples_per_pixel,
                *row_pixels,
                (*bits_per_sample / 8) as usize,
            )?;
            Numcodec::Delta { shape, dtype }
        }
        CodecSpec::FloatingPointPredictor {
            bytes_per_sample,
            samples_per_pixel,
            row_pixels,
            ..
        } => {
            let (shape, dtype) =
                predictor(*samples_per_pixel, *row_pixels, *bytes_per_sample as usize)?;
            Numcodec::FloatPred { shape, dtype }
        }
        CodecSpec::Interleave { samples, .. } => {
            return Err(format!(
                "{samples} samples per pixel are interleaved: tiles decode to (y, x, band), arco's variable is (band, y, x), and Zarr v2 has no transpose filter"
            ))
        }
        CodecSpec::Webp => {
            return Err("WebP tiles are pixel-interleaved RGB(A), which arco's (band, y, x) chunks cannot declare".into())
        }
        CodecSpec::Deflate { level } => Numcodec::Zlib {
            level: level.unwrap_or(6).min(9),
        },
        CodecSpec::Shuffle { element_size } => Numcodec::Shuffle {
            elementsize: *element_size,
        },
        CodecSpec::Fletcher32 => Numcodec::Fletcher32,
        CodecSpec::Zstd { level } => Numcodec::Zstd {
            level: level.unwrap_or(3),
        },
        CodecSpec::Bzip2 { level } => Numcodec::Bz2 {
            level: level.unwrap_or(9).clamp(1, 9),
        },
        CodecSpec::Blosc { params } => {
            let at = |i: usize| params.get(i).copied();
            let code = at(6).unwrap_or(0) as usize;
            Numcodec::Blosc {
                cname: BLOSC_NAMES.get(code).copied().unwrap_or("blosclz"),
                clevel: at(4).unwrap_or(5).min(9),
                shuffle: at(5).unwrap_or(1).min(2),
                typesize: at(2).map_or(element_size, |t| t as usize).max(1),
            }
        }
        CodecSpec::Grib { .. } => Numcodec::Grib {
            var: String::new(),
            dtype: if element_size == 8 {
                "float64"
            } else {
                "float32"
            },
        },
        CodecSpec::Lz4 { .. } => {
            return Err(
                "HDF5's lz4 filter (32004) frames blocks differently from numcodecs' lz4".into(),
            )
        }
        CodecSpec::Nbit { .. } => return Err("numcodecs has no n-bit filter".into()),
        CodecSpec::ScaleOffset { .. } => {
            return Err("numcodecs has no HDF5 scale-offset filter".into())
        }
        CodecSpec::Szip { .. } => return Err("numcodecs has no szip filter".into()),
        CodecSpec::Unknown { .. } => return Err("numcodecs has no equivalent".into()),
        other => return Err(format!("numcodecs has no equivalent of {}", other.label())),
    })
}

/// The numcodecs chain of a codec chain (encode order) for chunks of
/// `chunk_bytes` decoded bytes, or the first stage that has none (its label
/// and why).
///
/// Besides codecs without an equivalent, a byte shuffle of a buffer that is
/// not whole elements is refused: HDF5 shuffles the leftover bytes along
/// (netCDF-C puts fletcher32 before the shuffle, so 4 checksum bytes trail
/// the elements), numcodecs' `shuffle` rejects such a buffer.
pub fn map_chain(
    codecs: &[CodecSpec],
    element_size: usize,
    chunk_bytes: u64,
) -> Result<Vec<Numcodec>, (String, String)> {
    map_chain_in(codecs, element_size, chunk_bytes, None)
}

/// [`map_chain`] for chunks of a known layout (TIFF predictors need it).
pub fn map_chain_in(
    codecs: &[CodecSpec],
    element_size: usize,
    chunk_bytes: u64,
    layout: Option<ChunkLayout<'_>>,
) -> Result<Vec<Numcodec>, (String, String)> {
    let mut len = Some(chunk_bytes);
    let mut out = Vec::with_capacity(codecs.len());
    for c in codecs {
        let mapped = map_codec_in(c, element_size, layout).map_err(|why| (c.label(), why))?;
        match &mapped {
            Numcodec::Fletcher32 => len = len.map(|l| l + 4),
            Numcodec::Shuffle { elementsize } => {
                if let Some(l) = len {
                    if *elementsize > 1 && l % *elementsize as u64 != 0 {
                        return Err((
                            c.label(),
                            format!(
                                "it shuffles {l} bytes, not whole {elementsize}-byte elements (the fletcher32 checksum comes first), which numcodecs' shuffle refuses"
                            ),
                        ));
                    }
                }
            }
            _ => len = None,
        }
        out.push(mapped);
    }
    Ok(out)
}

/// Zarr v2's `compressor` and `filters` for a chain in encode order: the
/// last stage is the compressor when it is one, the rest are filters.
pub fn v2_codecs(chain: &[Numcodec]) -> (Value, Value) {
    let (compressor, filters) = match chain.split_last() {
        Some((last, rest)) if last.is_compressor() => (last.json(), rest),
        _ => (Value::Null, chain),
    };
    let filters = if filters.is_empty() {
        Value::Null
    } else {
        Value::Array(filters.iter().map(Numcodec::json).collect())
    };
    (compressor, filters)
}

/// Encode `data` through `chain` (encode order).
pub fn encode_chain(chain: &[Numcodec], data: &[u8]) -> Result<Vec<u8>, String> {
    let mut buf = data.to_vec();
    for c in chain {
        buf = c.encode(&buf)?;
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use arco_codecs::{decode_chunk, ChunkContext};
    use arco_core::{DType, Endian};

    #[test]
    fn hdf5_filters_map_to_numcodecs_ids() {
        let chain = [
            CodecSpec::Shuffle { element_size: 4 },
            CodecSpec::Deflate { level: Some(4) },
        ];
        let mapped = map_chain(&chain, 4, 400).unwrap();
        let (compressor, filters) = v2_codecs(&mapped);
        assert_eq!(compressor, json!({"id": "zlib", "level": 4}));
        assert_eq!(filters, json!([{"id": "shuffle", "elementsize": 4}]));

        let blosc = CodecSpec::Blosc {
            params: vec![2, 2, 4, 4000, 7, 2, 5],
        };
        assert_eq!(
            map_codec(&blosc, 4).unwrap().json(),
            json!({"id": "blosc", "cname": "zstd", "clevel": 7, "shuffle": 2, "blocksize": 0})
        );
        assert_eq!(
            map_codec(&CodecSpec::Bzip2 { level: Some(9) }, 1)
                .unwrap()
                .json(),
            json!({"id": "bz2", "level": 9})
        );
        assert_eq!(
            map_codec(&CodecSpec::Zstd { level: Some(5) }, 1)
                .unwrap()
                .json(),
            json!({"id": "zstd", "level": 5})
        );
    }

    #[test]
    fn a_chain_ending_in_a_checksum_has_no_compressor() {
        let chain = map_chain(
            &[CodecSpec::Deflate { level: None }, CodecSpec::Fletcher32],
            2,
            20,
        )
        .unwrap();
        let (compressor, filters) = v2_codecs(&chain);
        assert_eq!(compressor, Value::Null);
        assert_eq!(
            filters,
            json!([{"id": "zlib", "level": 6}, {"id": "fletcher32"}])
        );
        assert_eq!(v2_codecs(&[]), (Value::Null, Value::Null));
    }

    #[test]
    fn filters_numcodecs_cannot_express_are_named() {
        for (codec, word) in [
            (CodecSpec::Lz4 { params: vec![] }, "lz4"),
            (CodecSpec::Nbit { params: vec![] }, "n-bit"),
            (CodecSpec::ScaleOffset { params: vec![] }, "scale-offset"),
            (CodecSpec::Szip { params: vec![] }, "szip"),
        ] {
            let why = map_codec(&codec, 4).unwrap_err();
            assert!(why.contains(word), "{why}");
        }
        let chain = [
            CodecSpec::Shuffle { element_size: 2 },
            CodecSpec::Unknown {
                id: 32999,
                filter_name: Some("mystery".into()),
                params: vec![],
            },
        ];
        let (label, _) = map_chain(&chain, 2, 20).unwrap_err();
        assert!(
            label.contains("32999") && label.contains("mystery"),
            "{label}"
        );
    }

    #[test]
    fn a_shuffle_of_a_checksummed_buffer_is_refused_unless_it_holds_whole_elements() {
        let chain = [
            CodecSpec::Fletcher32,
            CodecSpec::Shuffle { element_size: 8 },
            CodecSpec::Deflate { level: Some(4) },
        ];
        let (label, why) = map_chain(&chain, 8, 8 * 42).unwrap_err();
        assert_eq!(label, "shuffle");
        assert!(why.contains("340 bytes"), "{why}");
        // 4-byte elements: the checksum is one more element, numcodecs agrees.
        let chain = [
            CodecSpec::Fletcher32,
            CodecSpec::Shuffle { element_size: 4 },
            CodecSpec::Deflate { level: Some(4) },
        ];
        assert_eq!(map_chain(&chain, 4, 4 * 42).unwrap().len(), 3);
    }

    #[test]
    fn tiff_codecs_map_to_what_tifffile_writes() {
        let layout = ChunkLayout {
            shape: &[1, 16, 16],
            dtype: "<u2",
        };
        let chain = [
            CodecSpec::HorizontalDifferencing {
                bits_per_sample: 16,
                samples_per_pixel: 1,
                row_pixels: 16,
                endian: Endian::Little,
            },
            CodecSpec::Lzw,
        ];
        let mapped = map_chain_in(&chain, 2, 512, Some(layout)).unwrap();
        let (compressor, filters) = v2_codecs(&mapped);
        assert_eq!(compressor, json!({"id": "imagecodecs_lzw"}));
        assert_eq!(
            filters,
            json!([{"id": "imagecodecs_delta", "shape": [1, 16, 16], "dtype": "<u2", "axis": -1, "dist": 1}])
        );
        let f32 = ChunkLayout {
            shape: &[1, 4, 8],
            dtype: ">f4",
        };
        let pred3 = CodecSpec::FloatingPointPredictor {
            bytes_per_sample: 4,
            samples_per_pixel: 1,
            row_pixels: 8,
            endian: Endian::Big,
        };
        assert_eq!(
            map_codec_in(&pred3, 4, Some(f32)).unwrap().json(),
            json!({"id": "imagecodecs_floatpred", "shape": [1, 4, 8], "dtype": ">f4", "axis": -1, "dist": 1})
        );
        assert_eq!(
            map_codec_in(&CodecSpec::PackBits, 1, Some(layout))
                .unwrap()
                .json(),
            json!({"id": "imagecodecs_packbits"})
        );
        let jpeg = CodecSpec::Jpeg {
            tables: Some(vec![0xff, 0xd8]),
            ycbcr_to_rgb: false,
        };
        assert_eq!(
            map_codec_in(&jpeg, 1, Some(layout)).unwrap().json()["tables"],
            json!("/9g=")
        );
        // Without the layout a predictor cannot be declared.
        assert!(map_codec(&pred3, 4).is_err());
    }

    #[test]
    fn interleaved_webp_and_float_lerc_stay_on_the_fallback() {
        let layout = ChunkLayout {
            shape: &[3, 16, 16],
            dtype: "|u1",
        };
        let why = map_codec_in(
            &CodecSpec::Interleave {
                samples: 3,
                element_size: 1,
            },
            1,
            Some(layout),
        )
        .unwrap_err();
        assert!(why.contains("transpose"), "{why}");
        assert!(map_codec_in(&CodecSpec::Webp, 1, Some(layout)).is_err());
        let f32 = ChunkLayout {
            shape: &[1, 16, 16],
            dtype: "<f4",
        };
        let why = map_codec_in(&CodecSpec::Lerc, 4, Some(f32)).unwrap_err();
        assert!(why.contains("NaN"), "{why}");
        let u16 = ChunkLayout {
            shape: &[1, 16, 16],
            dtype: "<u2",
        };
        assert_eq!(
            map_codec_in(&CodecSpec::Lerc, 2, Some(u16)).unwrap(),
            Numcodec::Lerc
        );
        // A predictor over interleaved samples is refused too.
        let pred = CodecSpec::HorizontalDifferencing {
            bits_per_sample: 8,
            samples_per_pixel: 3,
            row_pixels: 16,
            endian: Endian::Little,
        };
        assert!(map_codec_in(&pred, 1, Some(layout)).is_err());
    }

    /// TIFF stages arco encodes (to pad short strips) decode back through
    /// arco's TIFF decoders.
    #[test]
    fn encoded_tiff_stages_decode_through_arcos_tiff_decoders() {
        let data: Vec<u8> = (0..64u16).flat_map(|i| (i * 37).to_be_bytes()).collect();
        let ctx = ChunkContext {
            label: "test",
            dtype: &DType::U16,
            endian: Endian::Big,
            elements: 64,
        };
        let layout = ChunkLayout {
            shape: &[1, 4, 16],
            dtype: ">u2",
        };
        let chain = vec![
            CodecSpec::HorizontalDifferencing {
                bits_per_sample: 16,
                samples_per_pixel: 1,
                row_pixels: 16,
                endian: Endian::Big,
            },
            CodecSpec::Lzw,
        ];
        for chain in [chain.clone(), vec![chain[0].clone(), CodecSpec::PackBits]] {
            let mapped = map_chain_in(&chain, 2, 128, Some(layout)).unwrap();
            let stored = encode_chain(&mapped, &data).unwrap();
            assert_ne!(stored, data);
            assert_eq!(
                decode_chunk(&stored, &chain, 0, &ctx).unwrap(),
                data,
                "{chain:?}"
            );
        }
        let floats: Vec<u8> = (0..64)
            .flat_map(|i| (i as f32 * 0.25 - 3.0).to_le_bytes())
            .collect();
        let fctx = ChunkContext {
            label: "test",
            dtype: &DType::F32,
            endian: Endian::Little,
            elements: 64,
        };
        let chain = vec![
            CodecSpec::FloatingPointPredictor {
                bytes_per_sample: 4,
                samples_per_pixel: 1,
                row_pixels: 16,
                endian: Endian::Little,
            },
            CodecSpec::Zstd { level: Some(1) },
        ];
        let layout = ChunkLayout {
            shape: &[1, 4, 16],
            dtype: "<f4",
        };
        let mapped = map_chain_in(&chain, 4, 256, Some(layout)).unwrap();
        let stored = encode_chain(&mapped, &floats).unwrap();
        assert_eq!(decode_chunk(&stored, &chain, 0, &fctx).unwrap(), floats);
    }

    /// What arco encodes, arco's HDF5 decoders read back (they follow the
    /// same formats numcodecs does).
    #[test]
    fn encoded_chunks_decode_through_the_hdf5_pipeline() {
        let data: Vec<u8> = (0..4000u32).flat_map(|i| (i * 7).to_le_bytes()).collect();
        let ctx = ChunkContext {
            label: "test",
            dtype: &DType::U32,
            endian: Endian::Little,
            elements: 4000,
        };
        let chains: Vec<Vec<CodecSpec>> = vec![
            vec![
                CodecSpec::Shuffle { element_size: 4 },
                CodecSpec::Deflate { level: Some(1) },
            ],
            vec![CodecSpec::Zstd { level: Some(1) }, CodecSpec::Fletcher32],
            vec![CodecSpec::Bzip2 { level: Some(1) }],
            vec![CodecSpec::Blosc {
                params: vec![2, 2, 4, 16000, 5, 1, 1],
            }],
        ];
        for chain in chains {
            let mapped = map_chain(&chain, 4, 16000).unwrap();
            let stored = encode_chain(&mapped, &data).unwrap();
            assert_ne!(stored, data);
            let back = decode_chunk(&stored, &chain, 0, &ctx).unwrap();
            assert_eq!(back, data, "{chain:?}");
        }
    }
}
