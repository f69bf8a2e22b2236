//! # arco-zarr
//!
//! Zarr v3 (and v2, for older readers) on local disk or object storage,
//! through the `zarrs` crate: create a group hierarchy, create arrays from
//! arco's data model, write chunks (or shards) from many threads at once, and
//! read Zarr back as a [`Dataset`] for `inspect`, `verify` and `dump`.
//!
//! Writers layer (and the Zarr reader of the formats layer). No planning,
//! no CF decoding: the engine decides chunking and what to write.
#![warn(missing_docs)]

use arco_core::{DType, Dataset, NdArray, Selection};
use arco_storage::OpenOptions;

/// Errors creating, writing or reading a Zarr store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Any failure, in words that name the store, array and chunk.
    #[error("{location}: {message}")]
    Zarr {
        /// Store location, with the array path where relevant.
        location: String,
        /// What went wrong and what to do.
        message: String,
    },
    /// A storage failure.
    #[error(transparent)]
    Storage(#[from] arco_storage::Error),
    /// A data-model failure.
    #[error(transparent)]
    Core(#[from] arco_core::Error),
}

/// Crate result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Zarr format version to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ZarrFormat {
    /// Zarr v2 (`.zarray`, `.zattrs`, `_ARRAY_DIMENSIONS`).
    V2,
    /// Zarr v3 (`zarr.json`, `dimension_names`).
    #[default]
    V3,
}

/// Bytes-to-bytes compression of chunks.
#[derive(Debug, Clone, PartialEq)]
pub enum Compression {
    /// No compression.
    None,
    /// Zstandard at `level`, optionally after a byte shuffle of `element_size`.
    Zstd {
        /// Compression level.
        level: i32,
        /// Byte-shuffle first (good for floats).
        shuffle: bool,
    },
    /// Blosc (zstd or lz4 inside, byte shuffle).
    Blosc {
        /// Inner compressor: `zstd`, `lz4`, `blosclz`, `zlib`.
        cname: String,
        /// Level 0–9.
        clevel: u8,
        /// Byte shuffle.
        shuffle: bool,
    },
    /// gzip at `level`.
    Gzip {
        /// Level 0–9.
        level: u32,
    },
}

/// Everything needed to create one array.
#[derive(Debug, Clone, PartialEq)]
pub struct ArraySpec {
    /// Path in the hierarchy, such as `/t2m` or `/Events/mean`.
    pub path: String,
    /// Array shape.
    pub shape: Vec<u64>,
    /// Chunk shape (the inner chunk shape when sharded).
    pub chunk_shape: Vec<u64>,
    /// Shard shape (a multiple of `chunk_shape`), or `None` for no sharding.
    pub shard_shape: Option<Vec<u64>>,
    /// Element type as stored (raw, not CF-decoded).
    pub dtype: DType,
    /// Zarr `fill_value` in the stored type (`None`: the type's default).
    pub fill_value: Option<serde_json::Value>,
    /// Dimension names (v3 `dimension_names`; v2 `_ARRAY_DIMENSIONS`).
    pub dimension_names: Vec<String>,
    /// User attributes (CF attributes as xarray's `to_zarr` would write them).
    pub attributes: serde_json::Map<String, serde_json::Value>,
    /// Chunk compression.
    pub compression: Compression,
}

/// Everything needed to create one group.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSpec {
    /// Path in the hierarchy, `/` for the root.
    pub path: String,
    /// Group attributes.
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

/// An open Zarr hierarchy on local disk (`path`, `file://`) or object storage (`s3://`).
#[derive(Debug, Clone)]
pub struct ZarrStore {
    location: String,
    format: ZarrFormat,
}

impl ZarrStore {
    /// Prepare a new hierarchy at `location` (nothing is written until groups
    /// and arrays are created). Remote locations use `options.handle`.
    pub fn create(location: &str, options: &OpenOptions, format: ZarrFormat) -> Result<Self> {
        let _ = options;
        Err(Error::Zarr {
            location: location.to_string(),
            message: format!("creating {format:?} stores is not implemented yet"),
        })
    }

    /// Open an existing hierarchy (v2 or v3, detected).
    pub fn open(location: &str, options: &OpenOptions) -> Result<Self> {
        let _ = options;
        Err(Error::Zarr {
            location: location.to_string(),
            message: "reading Zarr is not implemented yet".into(),
        })
    }

    /// Where the store is.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Its format.
    pub fn format(&self) -> ZarrFormat {
        self.format
    }

    /// Write a group's metadata (`zarr.json`, or `.zgroup` + `.zattrs`).
    pub fn create_group(&self, spec: &GroupSpec) -> Result<()> {
        let _ = spec;
        Err(self.unimplemented())
    }

    /// Write an array's metadata and return a handle for writing its chunks.
    pub fn create_array(&self, spec: &ArraySpec) -> Result<ZarrArray> {
        let _ = spec;
        Err(self.unimplemented())
    }

    /// Open an existing array for reading or writing.
    pub fn array(&self, path: &str) -> Result<ZarrArray> {
        let _ = path;
        Err(self.unimplemented())
    }

    /// Store raw bytes under `key` (relative to the root), for markers and notes.
    pub fn put_bytes(&self, key: &str, bytes: &[u8]) -> Result<()> {
        let _ = (key, bytes);
        Err(self.unimplemented())
    }

    /// Raw bytes under `key`, `None` when absent.
    pub fn get_bytes(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let _ = key;
        Err(self.unimplemented())
    }

    /// Delete every key under `prefix` (relative to the root; `""` for all).
    pub fn delete_prefix(&self, prefix: &str) -> Result<()> {
        let _ = prefix;
        Err(self.unimplemented())
    }

    /// The hierarchy as arco's data model (for `inspect`, `verify`, `dump`).
    pub fn dataset(&self) -> Result<Dataset> {
        Err(self.unimplemented())
    }

    /// Stored values of the array at `path` in `selection`.
    pub fn read(&self, path: &str, selection: &Selection) -> Result<NdArray> {
        let _ = (path, selection);
        Err(self.unimplemented())
    }

    fn unimplemented(&self) -> Error {
        Error::Zarr {
            location: self.location.clone(),
            message: "not implemented yet".into(),
        }
    }
}

/// One array of a store; cheap to clone and safe to write from many threads
/// (each thread writing different chunks or shards).
#[derive(Debug, Clone)]
pub struct ZarrArray {
    spec: ArraySpec,
}

impl ZarrArray {
    /// The array's description.
    pub fn spec(&self) -> &ArraySpec {
        &self.spec
    }

    /// The unit of independent writes: the shard shape when sharded, else the chunk shape.
    pub fn write_unit(&self) -> &[u64] {
        self.spec
            .shard_shape
            .as_deref()
            .unwrap_or(&self.spec.chunk_shape)
    }

    /// Write `data` (stored values, C order) at element offset `start`. The
    /// region must start on a write-unit boundary and end on one or at the
    /// array's edge, so concurrent writers never touch the same object.
    pub fn write_region(&self, start: &[u64], data: &NdArray) -> Result<()> {
        let _ = (start, data);
        Err(Error::Zarr {
            location: self.spec.path.clone(),
            message: "not implemented yet".into(),
        })
    }
}
