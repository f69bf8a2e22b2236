//! # arco-hdf5
//!
//! NetCDF-4 and plain HDF5 reader for arco, in pure Rust (no libhdf5). It maps
//! the HDF5 object tree onto arco's data model, applying netCDF-4 semantics
//! (dimension scales, `DIMENSION_LIST`, `_Netcdf4Dimid`, unlimited dimensions,
//! coordinate variables) when present, and describes every dataset's storage
//! as a [`ChunkManifest`] with each chunk's byte range and filter pipeline.
//!
//! It is a format reader: it parses metadata and chunk indexes and reads
//! variable-length strings, but it does not decode chunks — the shared read
//! engine in `arco-formats` does that from the manifest with arco's codecs.
//! It sits above `arco-core` and `arco-storage` and below `arco-formats`.
//!
//! Low-level HDF5 parsing (superblock, object header messages, B-trees,
//! heaps, chunk indexes) is delegated to the `hdf5-reader` crate behind this
//! crate's API; nothing above this crate sees that dependency. Where it falls
//! short this crate has its own code: an object-header walker for headers it
//! refuses (attributes with committed datatypes), fixed-array chunk numbering
//! over the maximum extent, and netCDF-4 dimension semantics.
//!
//! All reads go through the caller's [`DynSource`] behind a small block
//! cache, so opening a file reads only its metadata, never the whole file.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! let source = Arc::new(arco_storage::LocalFile::open("tas.nc", "tas.nc")?);
//! let file = arco_hdf5::H5File::open(source)?;
//! for v in file.dataset().root.all_variables() {
//!     let m = file.manifest(&v.path)?;
//!     println!("{} {:?}: {} chunks", v.path, v.shape, m.chunks.len());
//! }
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod header;
mod manifest;
mod netcdf;
mod source;
mod tree;
mod types;
mod varlen;

use arco_core::{ChunkManifest, Dataset, NdArray, Selection, Values};
use arco_storage::DynSource;
use hdf5_reader::error::Error as H5Error;
use hdf5_reader::{Hdf5File, OpenOptions};
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

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

/// The words for an `hdf5-reader` error about `object`.
fn reason(object: &str, e: &H5Error) -> String {
    let what = match e {
        H5Error::InvalidMagic => {
            "not an HDF5 file: no HDF5 signature at byte 0, 512, 1024, 2048, ...".to_string()
        }
        H5Error::UnexpectedEof { .. } => format!("{e} (truncated file?)"),
        _ => e.to_string(),
    };
    if object.is_empty() {
        what
    } else {
        format!("{object}: {what}")
    }
}

/// Run `f`, turning a panic inside the third-party parser into an error.
///
/// This is a last safety net, not the error strategy: every failure we know
/// of comes back as an `Err`. `hdf5-reader` is written not to panic on
/// corrupt input, but it is not our code, and a panic in a server or a batch
/// job over thousands of files must not take the process down.
fn guarded<T>(location: &str, what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown".into());
            Err(Error::Format {
                location: location.to_string(),
                reason: format!("{what}: the HDF5 parser failed on malformed input ({msg})"),
            })
        }
    }
}

/// An open HDF5 / NetCDF-4 file.
///
/// `H5File` is `Send + Sync`: many threads may ask for manifests and strings
/// at once; its caches use short-lived locks, never one lock for the file.
pub struct H5File {
    dataset: Dataset,
    ctx: tree::Ctx,
    vars: HashMap<String, netcdf::VarStore>,
}

impl std::fmt::Debug for H5File {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H5File")
            .field("source", &self.dataset.source)
            .field("format", &self.dataset.format)
            .finish_non_exhaustive()
    }
}

impl H5File {
    /// Open `source` and read its metadata tree.
    ///
    /// Only metadata is read (object headers, heaps, B-tree nodes), through a
    /// block cache of small blocks; chunk indexes are read later, by
    /// [`H5File::manifest`].
    pub fn open(source: DynSource) -> Result<Self> {
        let location = source.location().to_string();
        guarded(&location, "opening", || Self::open_inner(source))
    }

    fn open_inner(source: DynSource) -> Result<Self> {
        let location = source.location().to_string();
        let size = source.len();
        let fail = |object: &str, e: &H5Error| Error::Format {
            location: location.clone(),
            reason: reason(object, e),
        };
        let options = OpenOptions::default().with_chunk_cache_bytes(8 * 1024 * 1024);
        let file = Hdf5File::from_storage_with_options(source::cached_storage(source), options)
            .map_err(|e| fail("", &e))?;
        let ctx = tree::Ctx::new(file);
        let raw = tree::walk(&ctx).map_err(|e| fail(&e.path, &e.error))?;
        let built = netcdf::build(&ctx, &raw);
        Ok(H5File {
            dataset: Dataset {
                source: location.clone(),
                format: built.format,
                size,
                root: built.root,
            },
            ctx,
            vars: built.vars,
        })
    }

    /// The metadata tree.
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    fn store(&self, path: &str) -> Result<(&str, &netcdf::VarStore)> {
        let var = self.dataset.variable(path)?;
        let store = self.vars.get(&var.path).ok_or_else(|| Error::Format {
            location: self.dataset.source.clone(),
            reason: format!("{}: no storage record", var.path),
        })?;
        Ok((var.path.as_str(), store))
    }

    /// The chunk manifest of a fixed-size variable at `path` (or bare name).
    ///
    /// Chunk byte offsets are absolute positions in the source (a user block
    /// before the HDF5 data is accounted for). Chunks outside the current
    /// extent are left out; grid positions without a chunk hold the fill value.
    pub fn manifest(&self, path: &str) -> Result<ChunkManifest> {
        let (vpath, store) = self.store(path)?;
        let location = &self.dataset.source;
        guarded(location, vpath, || {
            manifest::manifest(&self.ctx, vpath, store).map_err(|e| Error::Format {
                location: location.clone(),
                reason: reason(vpath, &e),
            })
        })
    }

    /// Values of a variable-length variable (strings, vlen sequences), which
    /// cannot be decoded from chunk bytes alone.
    ///
    /// Variable-length strings are supported; other variable-length
    /// sequences are refused with an error naming the variable.
    pub fn read_varlen(&self, path: &str, selection: &Selection) -> Result<NdArray> {
        let (vpath, store) = self.store(path)?;
        let var = self.dataset.variable(vpath)?;
        let location = &self.dataset.source;
        let all = guarded(location, vpath, || {
            varlen::strings(&self.ctx, vpath, store).map_err(|e| Error::Format {
                location: location.clone(),
                reason: reason(vpath, &e),
            })
        })?;
        let picked = varlen::select(&all, &var.shape, selection).ok_or_else(|| {
            Error::Core(arco_core::Error::BadSelection {
                variable: vpath.to_string(),
                selection: format!("{:?}", selection.dims),
                shape: var.shape.clone(),
                reason: "the selection does not fit the shape".into(),
            })
        })?;
        Ok(NdArray {
            shape: selection.shape(),
            values: Values::Str(picked),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn h5file_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<H5File>();
    }

    #[test]
    fn the_signature_is_recognised_only_in_full() {
        assert!(is_hdf5(b"\x89HDF\r\n\x1a\nrest"));
        assert!(!is_hdf5(b"\x89HDF\r\n"));
        assert!(!is_hdf5(b"CDF\x01\0\0\0\0"));
    }
}
