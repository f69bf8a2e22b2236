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
        }
    }

    /// True for codecs Zarr v2 calls a compressor (the last stage of a chain).
    pub fn is_compressor(&self) -> bool {
        !matches!(self, Numcodec::Shuffle { .. } | Numcodec::Fletcher32)
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

/// The numcodecs codec for one stage, or why there is none.
pub fn map_codec(codec: &CodecSpec, element_size: usize) -> Result<Numcodec, String> {
    Ok(match codec {
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
    let mut len = Some(chunk_bytes);
    let mut out = Vec::with_capacity(codecs.len());
    for c in codecs {
        let mapped = map_codec(c, element_size).map_err(|why| (c.label(), why))?;
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
