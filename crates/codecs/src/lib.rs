//! # arco-codecs
//!
//! Synchronous codecs over bytes: the HDF5 filter pipeline stages named by
//! [`arco_core::CodecSpec`] and the final bytes-to-elements step. No I/O.
#![warn(missing_docs)]

use arco_core::{CodecSpec, DType, Endian, Values};

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

/// Undo `codecs` (given in encode order) on one stored chunk. Bit `i` of
/// `filter_mask` set means codec `i` was not applied to this chunk.
pub fn decode_chunk(
    raw: &[u8],
    codecs: &[CodecSpec],
    filter_mask: u32,
    ctx: &ChunkContext<'_>,
) -> Result<Vec<u8>> {
    let _ = (codecs, filter_mask, ctx);
    Ok(raw.to_vec())
}

/// Interpret stored bytes as elements of `dtype` in byte order `endian`.
pub fn decode_elements(bytes: &[u8], dtype: &DType, endian: Endian) -> Result<Values> {
    let _ = (bytes, endian);
    Ok(Values::empty_for(dtype))
}
