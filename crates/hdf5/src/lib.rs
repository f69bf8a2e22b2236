//! # arco-hdf5
//!
//! NetCDF-4 and plain HDF5 reader for arco, in pure Rust (no libhdf5). It maps
//! the HDF5 object tree onto arco's data model, applying netCDF-4 semantics
//! (dimension scales, `DIMENSION_LIST`, `_Netcdf4Dimid`, unlimited dimensions,
//! coordinate variables) when present, and describes every dataset's storage
//! as a [`ChunkManifest`] with each chunk's byte range and filter pipeline.
//! Low-level HDF5 parsing is delegated to the `hdf5-reader` crate behind this
//! crate's API; nothing above this crate sees that dependency.
#![warn(missing_docs)]

use arco_core::{ChunkManifest, Dataset, NdArray, Selection};
use arco_storage::DynSource;

/// Errors reading an HDF5 file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not valid HDF5, or use a feature arco does not read.
    #[error("{location}: {reason}")]
    Format {
        /// File path or URL.
        location: String,
        /// What is wrong, naming the object and byte offset where known.
        reason: String,
    },
    /// Reading bytes failed.
    #[error(transparent)]
    Storage(#[from] arco_storage::Error),
    /// A data-model error (unknown variable, bad selection, ...).
    #[error(transparent)]
    Core(#[from] arco_core::Error),
}

/// Crate result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// True when `magic` (the first 8 bytes) is the HDF5 signature.
pub fn is_hdf5(magic: &[u8]) -> bool {
    magic.len() >= 8 && &magic[..8] == b"\x89HDF\r\n\x1a\n"
}

/// An open HDF5 / NetCDF-4 file.
#[derive(Debug)]
pub struct H5File {
    dataset: Dataset,
}

impl H5File {
    /// Open `source` and read its metadata tree.
    pub fn open(source: DynSource) -> Result<Self> {
        Err(Error::Format {
            location: source.location().to_string(),
            reason: "HDF5 reader not implemented yet".into(),
        })
    }

    /// The metadata tree.
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// The chunk manifest of a fixed-size variable at `path` (or bare name).
    pub fn manifest(&self, path: &str) -> Result<ChunkManifest> {
        let _ = self.dataset.variable(path)?;
        Err(Error::Format {
            location: self.dataset.source.clone(),
            reason: "not implemented".into(),
        })
    }

    /// Values of a variable-length variable (strings, vlen sequences), which
    /// cannot be decoded from chunk bytes alone.
    pub fn read_varlen(&self, path: &str, selection: &Selection) -> Result<NdArray> {
        let _ = (self.dataset.variable(path)?, selection);
        Err(Error::Format {
            location: self.dataset.source.clone(),
            reason: "not implemented".into(),
        })
    }
}
