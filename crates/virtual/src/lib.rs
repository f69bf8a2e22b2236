//! # arco-virtual
//!
//! Virtual Zarr: a Zarr v2 hierarchy whose chunks are byte ranges inside the
//! original NetCDF-3, NetCDF-4 and HDF5 files, written as kerchunk
//! references so any Zarr reader (xarray through fsspec's
//! `ReferenceFileSystem`, zarr-python) streams the archive as if it were Zarr.
//!
//! [`build`] turns a [`Reader`] (one file) or a
//! [`ConcatReader`] (several along a dimension) into
//! [`References`]: `.zgroup`/`.zattrs`/`.zarray` documents with
//! `_ARRAY_DIMENSIONS`, the stored dtype and byte order, the CF attributes as
//! xarray reads them from Zarr v2, the codec chain as numcodecs codecs
//! ([`codecs`]), and one reference per stored chunk. Then
//! [`json::write`] writes kerchunk JSON (version 1) and
//! [`parquet::write`] the Parquet layout of fsspec's `LazyReferenceMapper`.
//!
//! [`build_into`] streams instead: it hands the metadata ([`Header`]) and
//! then each reference, file by file, to a [`Sink`] — the writers
//! [`json::JsonWriter`] and [`parquet::ParquetWriter`] write them as they
//! come, so memory is that of one file's metadata whatever the number of
//! files ([`build`] is the same code with the collecting sink [`Collect`]).
//!
//! To write many files without holding every reference, [`build_into`]
//! hands the references to a [`Sink`] as they are made (metadata first,
//! then the chunks file by file): [`json::JsonWriter`] and
//! [`parquet::ParquetWriter`] write them out as they come, so memory is
//! that of one file's metadata whatever the number of files ([`build`] is
//! the same code with the collecting sink [`Collect`]; see [`stream`]).
//!
//! What references cannot express is inlined, never skipped in silence:
//! chunks smaller than [`Options::inline_threshold`] are inlined as stored;
//! chunks behind a filter numcodecs has no codec for (HDF5's lz4 framing,
//! n-bit, scale-offset, and any codec added later) are decoded by
//! `arco-codecs` and inlined raw, as are chunks that skipped a filter (HDF5
//! filter masks) and the fill chunks xarray would otherwise read as zeros —
//! up to [`Options::max_decoded_inline`] bytes per variable; past that, and
//! for filters arco cannot decode, the variable is refused with an error
//! that names it and the filter. Design: `docs/design/virtual.md`.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use arco_virtual::{build, Input, Options, Source};
//! let bytes = arco_storage::open("era5.nc", &Default::default())?;
//! let reader = arco_formats::open(bytes.clone())?;
//! let sources = vec![Source { location: "era5.nc".into(), bytes }];
//! let (refs, summary) = build(Input::Single(reader.as_ref()), &sources, &Options::default())?;
//! arco_virtual::json::write(&refs, std::path::Path::new("era5.json"), false)?;
//! println!("{} references", summary.references);
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod atomic;
mod build;
pub mod codecs;
pub mod json;
pub mod meta;
pub mod parquet;
pub mod refs;
pub mod stream;

pub use build::{build, build_into};
pub use refs::{ArrayRefs, Reference, References, SourceUrl};
pub use stream::{ArrayHeader, Collect, Header, Sink};

use arco_core::{Dataset, NdArray, Selection};
use arco_formats::concat::ConcatReader;
use arco_formats::Reader;
use arco_storage::DynSource;
use serde::Serialize;

/// kerchunk's default inline threshold, in bytes.
pub const DEFAULT_INLINE_THRESHOLD: u64 = 500;

/// Default limit of decoded bytes inlined for one variable.
pub const DEFAULT_MAX_DECODED_INLINE: u64 = 16 << 20;

/// Default number of references per Parquet file (kerchunk's `refs_to_dataframe`).
pub const DEFAULT_RECORD_SIZE: u64 = 100_000;

/// Errors building or writing references.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A variable cannot be expressed as references.
    #[error("{location}: variable {variable}: {message}")]
    Variable {
        /// The source (or sources) it comes from.
        location: String,
        /// Variable path.
        variable: String,
        /// Why, and what to do.
        message: String,
    },
    /// Writing the output failed.
    #[error("{path}: {message}")]
    Output {
        /// The destination.
        path: String,
        /// What went wrong and what to do.
        message: String,
    },
    /// Reading a source failed.
    #[error(transparent)]
    Formats(#[from] arco_formats::Error),
    /// A storage failure.
    #[error(transparent)]
    Storage(#[from] arco_storage::Error),
}

/// Crate result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One source file with its bytes.
#[derive(Debug, Clone)]
pub struct Source {
    /// The location as the user gave it (path or URL).
    pub location: String,
    /// Its bytes (for inlined chunks, size and version).
    pub bytes: DynSource,
}

/// What to virtualize.
#[derive(Clone, Copy)]
pub enum Input<'a> {
    /// One file; `sources` holds exactly it.
    Single(&'a dyn Reader),
    /// Several files concatenated along a dimension; `sources` holds each part.
    Concat(&'a ConcatReader),
}

impl<'a> Input<'a> {
    /// The (combined) dataset.
    pub fn dataset(&self) -> &'a Dataset {
        match self {
            Input::Single(r) => r.dataset(),
            Input::Concat(c) => c.dataset(),
        }
    }

    /// Stored values of a whole variable, or of a selection.
    pub fn read(&self, variable: &str, selection: &Selection) -> arco_formats::Result<NdArray> {
        match self {
            Input::Single(r) => r.read(variable, selection),
            Input::Concat(c) => c.read(variable, selection),
        }
    }

    /// The concatenation dimension, if any.
    pub fn concat_dim(&self) -> Option<&'a str> {
        match self {
            Input::Single(_) => None,
            Input::Concat(c) => Some(c.dim()),
        }
    }
}

/// How to virtualize.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Chunks stored in fewer bytes are inlined (and whole arrays of fewer
    /// bytes become one inlined chunk); 0 inlines nothing but what must be.
    pub inline_threshold: u64,
    /// Most decoded bytes inlined for one variable (filters numcodecs cannot
    /// express, chunks that skipped a filter, fill chunks); past it the
    /// variable is refused.
    pub max_decoded_inline: u64,
    /// Variables (names or paths) to leave out.
    pub drop: Vec<String>,
    /// The command line, for the provenance record.
    pub command: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            inline_threshold: DEFAULT_INLINE_THRESHOLD,
            max_decoded_inline: DEFAULT_MAX_DECODED_INLINE,
            drop: Vec::new(),
            command: Vec::new(),
        }
    }
}

/// What [`build`] made.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Arrays written.
    pub variables: usize,
    /// Chunk references of every kind (byte ranges and inlined).
    pub references: u64,
    /// Byte-range references.
    pub ranges: u64,
    /// Inlined chunks.
    pub inlined: u64,
    /// Bytes held inline.
    pub inlined_bytes: u64,
    /// Bytes the byte-range references point at.
    pub referenced_bytes: u64,
    /// Variables with decoded chunks inlined, and why.
    pub decoded: Vec<String>,
    /// Variables left out on request.
    pub dropped: Vec<String>,
}
