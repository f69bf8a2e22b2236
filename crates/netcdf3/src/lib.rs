//! # arco-netcdf3
//!
//! Pure-Rust reader for NetCDF-3 files: classic (CDF-1), 64-bit offset (CDF-2)
//! and 64-bit data (CDF-5). It parses the header into arco's data model and
//! describes every variable's bytes as a [`ChunkManifest`]: a fixed-size
//! variable is one contiguous chunk, a record variable has one chunk per
//! record. It does not decode values: the shared read engine in
//! `arco-formats` does, from the manifest.
#![warn(missing_docs)]

use arco_core::{ChunkManifest, Dataset};
use arco_storage::DynSource;

/// Errors reading a NetCDF-3 file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not a valid NetCDF-3 header.
    #[error("{location}: not a valid NetCDF-3 file at byte {offset}: {reason}")]
    Format {
        /// File path or URL.
        location: String,
        /// Byte offset where the problem was found.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// Reading bytes failed.
    #[error(transparent)]
    Storage(#[from] arco_storage::Error),
    /// A data-model error (unknown variable, ...).
    #[error(transparent)]
    Core(#[from] arco_core::Error),
}

/// Crate result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// True when `magic` (the first 4 bytes) starts a NetCDF-3 file.
pub fn is_netcdf3(magic: &[u8]) -> bool {
    magic.len() >= 4 && &magic[..3] == b"CDF" && matches!(magic[3], 1 | 2 | 5)
}

/// An open NetCDF-3 file.
#[derive(Debug)]
pub struct Nc3File {
    dataset: Dataset,
}

impl Nc3File {
    /// Parse the header of `source`.
    pub fn open(source: DynSource) -> Result<Self> {
        Err(Error::Format {
            location: source.location().to_string(),
            offset: 0,
            reason: "NetCDF-3 reader not implemented yet".into(),
        })
    }

    /// The metadata tree.
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// The chunk manifest of the variable at `path` (or bare name).
    pub fn manifest(&self, path: &str) -> Result<ChunkManifest> {
        let _ = self.dataset.variable(path)?;
        Err(Error::Format {
            location: self.dataset.source.clone(),
            offset: 0,
            reason: "not implemented".into(),
        })
    }
}
