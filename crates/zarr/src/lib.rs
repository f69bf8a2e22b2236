//! # arco-zarr
//!
//! Zarr v3 (and v2, for older readers) on local disk or object storage,
//! through the `zarrs` crate: create a group hierarchy, create arrays from
//! arco's data model, write chunks (or shards) from many threads at once, and
//! read Zarr back as a [`Dataset`] for `inspect`, `verify` and `dump`.
//!
//! Writers layer (and the Zarr reader of the formats layer). No planning,
//! no CF decoding: the engine decides chunking and what to write.
//!
//! Multiscale pyramids follow the Zarr multiscales convention: the root
//! declares its overview levels in attributes ([`multiscales_attributes`]),
//! and [`multiscale_levels`] finds them again from any reader's attributes.
//!
//! Fidelity rules (what makes `xarray.open_zarr(out)` equal
//! `xarray.open_dataset(src)`) live in one place, [`array_spec_for`] and
//! [`attributes_json`]; `docs/design/zarr-encoding.md` explains them.
//!
//! ```
//! use arco_core::{DType, NdArray, Selection, Values};
//! use arco_storage::OpenOptions;
//! use arco_zarr::{ArraySpec, Compression, GroupSpec, ZarrFormat, ZarrStore};
//! let dir = std::env::temp_dir().join(format!("arco-zarr-doctest-{}", std::process::id()));
//! let store = ZarrStore::create(dir.to_str().unwrap(), &OpenOptions::default(), ZarrFormat::V3).unwrap();
//! store.create_group(&GroupSpec { path: "/".into(), attributes: Default::default() }).unwrap();
//! let spec = ArraySpec {
//!     path: "/t".into(), shape: vec![5], chunk_shape: vec![2], shard_shape: None,
//!     dtype: DType::I32, fill_value: None, dimension_names: vec!["x".into()],
//!     attributes: Default::default(), compression: Compression::Zstd { level: 3, shuffle: true },
//! };
//! let array = store.create_array(&spec).unwrap();
//! let data = NdArray { shape: vec![5], values: Values::I32(vec![1, 2, 3, 4, 5]) };
//! array.write_region(&[0], &data).unwrap();
//! assert_eq!(store.read("/t", &Selection::all(&[5])).unwrap(), data);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```
#![warn(missing_docs)]

mod convert;
mod encoding;
mod metadata;
mod multiscales;
mod nbytes;
mod read;
mod store;

pub use encoding::{
    array_spec_for, attr_value_json, attributes_json, default_compression, fill_value_attribute,
};
pub use multiscales::{
    convention_metadata, multiscale_levels, multiscale_levels_json, multiscales_attributes,
    MultiscaleLevel, CONVENTIONS_ATTRIBUTE, MULTISCALES_ATTRIBUTE, MULTISCALES_SCHEMA_URL,
    MULTISCALES_SPEC_URL, MULTISCALES_UUID,
};
pub use read::{attributes_from_json, variable_from_v2};

use arco_core::{DType, Dataset, NdArray, Selection, Values};
use arco_storage::OpenOptions;
use convert::Elements;
use rayon::prelude::*;
use std::sync::Arc;
use zarrs::array::{Array, ArrayBytes, ArrayMetadata, ArrayMetadataV3, ArraySubset, CodecOptions};
use zarrs::storage::{
    Bytes, ReadableWritableListableStorage, ReadableWritableListableStorageTraits, StoreKey,
    StorePrefix,
};

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

/// The Zarr v3 `zarr.json` of an array exactly as [`ZarrStore::create_array`]
/// writes it (for serving a hierarchy over HTTP without writing it).
pub fn array_metadata_v3(spec: &ArraySpec) -> Result<serde_json::Value> {
    metadata::array_v3(spec).map_err(|message| Error::Zarr {
        location: spec.path.clone(),
        message,
    })
}

/// The Zarr v3 `zarr.json` of a group as [`ZarrStore::create_group`] writes it.
pub fn group_metadata_v3(
    attributes: &serde_json::Map<String, serde_json::Value>,
) -> serde_json::Value {
    metadata::group_v3(attributes)
}

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
///
/// Cheap to clone; every clone shares the same store. Remote stores block
/// the calling thread on the runtime of `OpenOptions::handle`: call them from
/// plain threads (main, rayon workers, `spawn_blocking`).
#[derive(Clone)]
pub struct ZarrStore {
    location: String,
    format: ZarrFormat,
    storage: ReadableWritableListableStorage,
}

impl std::fmt::Debug for ZarrStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZarrStore")
            .field("location", &self.location)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

/// `/a/b` (or `a/b/`) as the node path zarrs expects: `/a/b`, `/` for the root.
fn node_path(path: &str) -> String {
    let trimmed = path.trim_matches('/');
    format!("/{trimmed}")
}

/// The store key of `name` inside the node at `path`.
fn meta_key(path: &str, name: &str) -> String {
    let trimmed = path.trim_matches('/');
    if trimmed.is_empty() {
        name.to_string()
    } else {
        format!("{trimmed}/{name}")
    }
}

impl ZarrStore {
    /// Prepare a new hierarchy at `location` (nothing is written until groups
    /// and arrays are created). Remote locations use `options.handle`.
    pub fn create(location: &str, options: &OpenOptions, format: ZarrFormat) -> Result<Self> {
        let storage = store::storage_for(location, options, true)?;
        Ok(ZarrStore {
            location: location.to_string(),
            format,
            storage,
        })
    }

    /// Open an existing hierarchy (v2 or v3, detected).
    pub fn open(location: &str, options: &OpenOptions) -> Result<Self> {
        let storage = store::storage_for(location, options, false)?;
        Self::from_storage(location, storage)
    }

    /// Open an existing hierarchy (v2 or v3, detected) held by a zarrs store
    /// that another crate provides (an Icechunk session, for one); `location`
    /// names it in errors.
    pub fn from_storage(location: &str, storage: ReadableWritableListableStorage) -> Result<Self> {
        let mut this = ZarrStore {
            location: location.to_string(),
            format: ZarrFormat::V3,
            storage,
        };
        if this.get_bytes("zarr.json")?.is_some() {
            return Ok(this);
        }
        if this.get_bytes(".zgroup")?.is_some() || this.get_bytes(".zarray")?.is_some() {
            this.format = ZarrFormat::V2;
            return Ok(this);
        }
        Err(this.error(
            "",
            "no Zarr metadata here (neither zarr.json nor .zgroup/.zarray at the root)",
        ))
    }

    /// Where the store is.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Its format.
    pub fn format(&self) -> ZarrFormat {
        self.format
    }

    fn error(&self, path: &str, message: impl Into<String>) -> Error {
        let location = if path.trim_matches('/').is_empty() {
            self.location.clone()
        } else {
            format!(
                "{}/{}",
                self.location.trim_end_matches('/'),
                path.trim_matches('/')
            )
        };
        Error::Zarr {
            location,
            message: message.into(),
        }
    }

    fn put_json(&self, key: &str, value: &serde_json::Value) -> Result<()> {
        let text = serde_json::to_vec_pretty(value)
            .map_err(|e| self.error(key, format!("cannot serialise metadata: {e}")))?;
        self.put_bytes(key, &text)
    }

    /// Metadata JSON under `key` (bare NaN tokens tolerated), `None` when absent.
    fn get_json(&self, key: &str) -> Result<Option<serde_json::Value>> {
        let Some(bytes) = self.get_bytes(key)? else {
            return Ok(None);
        };
        let text = String::from_utf8_lossy(&bytes);
        serde_json::from_str(&metadata::sanitize_json(&text))
            .map(Some)
            .map_err(|e| self.error(key, format!("the metadata is not valid JSON: {e}")))
    }

    /// Write a group's metadata (`zarr.json`, or `.zgroup` + `.zattrs`).
    pub fn create_group(&self, spec: &GroupSpec) -> Result<()> {
        match self.format {
            ZarrFormat::V3 => self.put_json(
                &meta_key(&spec.path, "zarr.json"),
                &metadata::group_v3(&spec.attributes),
            ),
            ZarrFormat::V2 => {
                self.put_json(
                    &meta_key(&spec.path, ".zgroup"),
                    &serde_json::json!({"zarr_format": 2}),
                )?;
                self.put_json(
                    &meta_key(&spec.path, ".zattrs"),
                    &serde_json::Value::Object(spec.attributes.clone()),
                )
            }
        }
    }

    /// Write an array's metadata and return a handle for writing its chunks.
    pub fn create_array(&self, spec: &ArraySpec) -> Result<ZarrArray> {
        let path = node_path(&spec.path);
        let mut spec = spec.clone();
        spec.path = path.clone();
        let (internal, store_empty) = match self.format {
            ZarrFormat::V3 => {
                let doc = metadata::array_v3(&spec).map_err(|m| self.error(&path, m))?;
                self.put_json(&meta_key(&path, "zarr.json"), &doc)?;
                (doc, false)
            }
            ZarrFormat::V2 => {
                let (zarray, zattrs, internal, null_fill) =
                    metadata::array_v2(&spec).map_err(|m| self.error(&path, m))?;
                self.put_json(&meta_key(&path, ".zarray"), &zarray)?;
                self.put_json(&meta_key(&path, ".zattrs"), &zattrs)?;
                // With a `null` fill value, readers may not agree on what a
                // missing chunk holds: store every chunk.
                (internal, null_fill)
            }
        };
        let array = self.zarrs_array(&path, internal)?;
        Ok(ZarrArray {
            spec,
            array: Arc::new(array),
            store_empty,
            location: self.location.clone(),
        })
    }

    fn zarrs_array(
        &self,
        path: &str,
        mut doc: serde_json::Value,
    ) -> Result<Array<dyn ReadableWritableListableStorageTraits>> {
        if let Some(m) = doc.as_object_mut() {
            // zarrs needs no user attributes to encode chunks.
            m.remove("attributes");
        }
        let meta: ArrayMetadataV3 = serde_json::from_value(doc)
            .map_err(|e| self.error(path, format!("unsupported array metadata: {e}")))?;
        Array::new_with_metadata(self.storage.clone(), path, ArrayMetadata::V3(meta))
            .map_err(|e| self.error(path, format!("cannot open the array: {e}")))
    }

    /// The metadata of the array at `path`.
    fn array_meta(&self, path: &str) -> Result<metadata::ArrayMeta> {
        let missing = || self.error(path, "no array here");
        match self.format {
            ZarrFormat::V3 => {
                let doc = self
                    .get_json(&meta_key(path, "zarr.json"))?
                    .ok_or_else(missing)?;
                if doc.get("node_type").and_then(serde_json::Value::as_str) != Some("array") {
                    return Err(self.error(path, "this is a group, not an array"));
                }
                metadata::read_array_v3(&doc).map_err(|m| self.error(path, m))
            }
            ZarrFormat::V2 => {
                let zarray = self
                    .get_json(&meta_key(path, ".zarray"))?
                    .ok_or_else(missing)?;
                let zattrs = self
                    .get_json(&meta_key(path, ".zattrs"))?
                    .unwrap_or_else(|| serde_json::json!({}));
                metadata::read_array_v2(&zarray, &zattrs).map_err(|m| self.error(path, m))
            }
        }
    }

    /// Open an existing array for reading or writing.
    pub fn array(&self, path: &str) -> Result<ZarrArray> {
        let path = node_path(path);
        let meta = self.array_meta(&path)?;
        let fill_value = match self.format {
            ZarrFormat::V3 => meta.zarrs_v3.get("fill_value").cloned(),
            ZarrFormat::V2 => None,
        };
        let store_empty = self.format == ZarrFormat::V2
            && meta.zarrs_v3.get("fill_value").is_none_or(|f| f.is_null());
        let array = self.zarrs_array(&path, meta.zarrs_v3.clone())?;
        Ok(ZarrArray {
            spec: ArraySpec {
                path,
                shape: meta.shape,
                chunk_shape: meta.chunk_shape,
                shard_shape: meta.shard_shape,
                dtype: meta.dtype,
                fill_value,
                dimension_names: meta.dims,
                attributes: meta.attributes,
                compression: meta.compression,
            },
            array: Arc::new(array),
            store_empty,
            location: self.location.clone(),
        })
    }

    fn key(&self, key: &str) -> Result<StoreKey> {
        StoreKey::new(key.trim_start_matches('/'))
            .map_err(|e| self.error("", format!("'{key}' is not a valid key: {e}")))
    }

    /// Store raw bytes under `key` (relative to the root), for markers and notes.
    pub fn put_bytes(&self, key: &str, bytes: &[u8]) -> Result<()> {
        self.storage
            .set(&self.key(key)?, Bytes::copy_from_slice(bytes))
            .map_err(|e| self.error(key, format!("cannot write: {e}")))
    }

    /// Raw bytes under `key`, `None` when absent.
    pub fn get_bytes(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.storage
            .get(&self.key(key)?)
            .map(|b| b.map(|b| b.to_vec()))
            .map_err(|e| self.error(key, format!("cannot read: {e}")))
    }

    /// Delete every key under `prefix` (relative to the root; `""` for all).
    pub fn delete_prefix(&self, prefix: &str) -> Result<()> {
        let trimmed = prefix.trim_matches('/');
        let store_prefix = if trimmed.is_empty() {
            StorePrefix::root()
        } else {
            StorePrefix::new(format!("{trimmed}/"))
                .map_err(|e| self.error("", format!("'{prefix}' is not a valid prefix: {e}")))?
        };
        self.storage
            .erase_prefix(&store_prefix)
            .map_err(|e| self.error(trimmed, format!("cannot delete: {e}")))?;
        if !trimmed.is_empty() {
            // A key with exactly this name goes too.
            self.storage
                .erase(&self.key(trimmed)?)
                .map_err(|e| self.error(trimmed, format!("cannot delete: {e}")))?;
        }
        Ok(())
    }

    /// Write consolidated metadata, the way zarr-python does, so that
    /// `xarray.open_zarr` opens the store with one read and without a
    /// warning: v3 puts every node's `zarr.json` into the root `zarr.json`
    /// (`consolidated_metadata`, kind `inline`); v2 writes `.zmetadata`.
    /// Call it last, after every group and array exists (it rewrites the
    /// root metadata, which readers look for first).
    pub fn consolidate(&self) -> Result<()> {
        let mut docs = serde_json::Map::new();
        read::collect_metadata(self, "/", &mut docs)?;
        match self.format {
            ZarrFormat::V3 => {
                let mut root = self.get_json("zarr.json")?.ok_or_else(|| {
                    self.error("", "no root group: create it before consolidating")
                })?;
                docs.remove("zarr.json");
                let stub =
                    serde_json::json!({"kind": "inline", "must_understand": false, "metadata": {}});
                // As zarr-python writes it: flat paths, and an empty stub in
                // each group's entry.
                // Sorted by path, parents before children: zarr-python 3.1
                // rebuilds the tree in this order and drops a node listed
                // before its parent group.
                let mut docs: Vec<(String, serde_json::Value)> = docs.into_iter().collect();
                docs.sort_by(|a, b| a.0.cmp(&b.0));
                let nodes: serde_json::Map<String, serde_json::Value> = docs
                    .into_iter()
                    .filter_map(|(k, mut v)| {
                        let path = k.strip_suffix("/zarr.json")?.to_string();
                        if v.get("node_type").and_then(serde_json::Value::as_str) == Some("group") {
                            if let Some(m) = v.as_object_mut() {
                                m.insert("consolidated_metadata".into(), stub.clone());
                            }
                        }
                        Some((path, v))
                    })
                    .collect();
                if let Some(m) = root.as_object_mut() {
                    m.insert(
                        "consolidated_metadata".into(),
                        serde_json::json!({"kind": "inline", "must_understand": false, "metadata": nodes}),
                    );
                }
                self.put_json("zarr.json", &root)
            }
            ZarrFormat::V2 => self.put_json(
                ".zmetadata",
                &serde_json::json!({"metadata": docs, "zarr_consolidated_format": 1}),
            ),
        }
    }

    /// The hierarchy as arco's data model (for `inspect`, `verify`, `dump`).
    pub fn dataset(&self) -> Result<Dataset> {
        read::dataset(self)
    }

    /// Stored values of the array at `path` in `selection`.
    pub fn read(&self, path: &str, selection: &Selection) -> Result<NdArray> {
        self.array(path)?.read(selection)
    }
}

/// One array of a store; cheap to clone and safe to write from many threads
/// (each thread writing different chunks or shards).
#[derive(Clone)]
pub struct ZarrArray {
    spec: ArraySpec,
    array: Arc<Array<dyn ReadableWritableListableStorageTraits>>,
    /// Store chunks that hold only the fill value (v2 arrays with a `null` fill).
    store_empty: bool,
    location: String,
}

impl std::fmt::Debug for ZarrArray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZarrArray")
            .field("location", &self.location)
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
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

    fn error(&self, message: impl Into<String>) -> Error {
        Error::Zarr {
            location: format!("{}{}", self.location.trim_end_matches('/'), self.spec.path),
            message: message.into(),
        }
    }

    fn codec_options(&self) -> CodecOptions {
        CodecOptions::default().with_store_empty_chunks(self.store_empty)
    }

    /// Write `data` (stored values, C order) at element offset `start`. The
    /// region must start on a write-unit boundary and end on one or at the
    /// array's edge, so concurrent writers never touch the same object.
    ///
    /// Every write unit the region covers is encoded and stored whole, in
    /// parallel (edge units are padded with the fill value), so a rewrite
    /// gives the same bytes. A region off the write-unit grid is accepted
    /// too, but then the units it touches are read, updated and rewritten:
    /// not safe while another thread writes the same units.
    pub fn write_region(&self, start: &[u64], data: &NdArray) -> Result<()> {
        let shape = &self.spec.shape;
        let n = shape.len();
        if start.len() != n || data.shape.len() != n {
            return Err(self.error(format!(
                "a region at {start:?} of shape {:?} does not match the array's {n} dimensions",
                data.shape
            )));
        }
        if (0..n).any(|i| start[i] + data.shape[i] > shape[i]) {
            return Err(self.error(format!(
                "the region at {start:?} of shape {:?} goes past the array's shape {shape:?}",
                data.shape
            )));
        }
        if data.values.len() as u64 != data.element_count() {
            return Err(self.error(format!(
                "{} values for a region of shape {:?} ({} elements)",
                data.values.len(),
                data.shape,
                data.element_count()
            )));
        }
        if data.element_count() == 0 {
            return Ok(());
        }
        let elements =
            convert::to_elements(&data.values, &self.spec.dtype).map_err(|m| self.error(m))?;
        let unit = self.write_unit().to_vec();
        let aligned = (0..n).all(|i| {
            let end = start[i] + data.shape[i];
            start[i].is_multiple_of(unit[i]) && (end.is_multiple_of(unit[i]) || end == shape[i])
        });
        if !aligned {
            let subset = ArraySubset::new_with_start_shape(start.to_vec(), data.shape.clone())
                .map_err(|e| self.error(e.to_string()))?;
            return self
                .array
                .store_array_subset_opt(
                    &subset,
                    to_array_bytes(elements).map_err(|m| self.error(m))?,
                    &self.codec_options(),
                )
                .map_err(|e| self.error(format!("cannot write the region at {start:?}: {e}")));
        }
        let ranges: Vec<Vec<u64>> = (0..n)
            .map(|i| (start[i] / unit[i]..(start[i] + data.shape[i]).div_ceil(unit[i])).collect())
            .collect();
        let units = arco_core::chunks::cartesian(&ranges);
        let fill = self.array.fill_value().as_ne_bytes().to_vec();
        let threads = rayon::current_num_threads().max(1);
        let options = self
            .codec_options()
            .with_concurrent_target((threads / units.len().max(1)).max(1));
        let write = |idx: &Vec<u64>| -> Result<()> {
            let box_start: Vec<u64> = idx.iter().zip(&unit).map(|(i, u)| i * u).collect();
            let part = convert::cut_box(&elements, start, &data.shape, &box_start, &unit, &fill);
            let bytes = to_array_bytes(part).map_err(|m| self.error(m))?;
            self.array
                .store_chunk_opt(idx, bytes, &options)
                .map_err(|e| {
                    self.error(format!(
                        "cannot write the chunk at index {idx:?} (elements from {box_start:?}): {e}"
                    ))
                })
        };
        if units.len() == 1 {
            units.iter().try_for_each(write)
        } else {
            units.par_iter().try_for_each(write)
        }
    }

    /// Stored values in `selection` (steps above 1 are applied after reading
    /// the covering box).
    pub fn read(&self, selection: &Selection) -> Result<NdArray> {
        let shape = &self.spec.shape;
        if selection.dims.len() != shape.len() {
            return Err(self.error(format!(
                "a selection of {} dimensions for an array of {}",
                selection.dims.len(),
                shape.len()
            )));
        }
        for (d, (s, len)) in selection.dims.iter().zip(shape).enumerate() {
            if s.step == 0 || s.start > s.stop || s.stop > *len {
                return Err(self.error(format!(
                    "selection {}:{}:{} of dimension {d} does not fit its length {len}",
                    s.start, s.stop, s.step
                )));
            }
        }
        let out_shape = selection.shape();
        if out_shape.contains(&0) {
            return Ok(NdArray {
                shape: out_shape,
                values: Values::empty_for(&self.spec.dtype),
            });
        }
        let box_start: Vec<u64> = selection.dims.iter().map(|s| s.start).collect();
        let box_shape: Vec<u64> = selection
            .dims
            .iter()
            .map(|s| (s.len() - 1) * s.step + 1)
            .collect();
        let subset = ArraySubset::new_with_start_shape(box_start.clone(), box_shape.clone())
            .map_err(|e| self.error(e.to_string()))?;
        let options = CodecOptions::default();
        let what = |e: zarrs::array::ArrayError| {
            self.error(format!(
                "cannot read {box_shape:?} elements from {box_start:?}: {e}"
            ))
        };
        let values = if metadata::storage_dtype(&self.spec.dtype) == &DType::String {
            let strings: Vec<String> = self
                .array
                .retrieve_array_subset_opt(&subset, &options)
                .map_err(what)?;
            Values::Str(strings)
        } else {
            let bytes: ArrayBytes<'static> = self
                .array
                .retrieve_array_subset_opt(&subset, &options)
                .map_err(what)?;
            let raw = bytes
                .into_fixed()
                .map_err(|e| self.error(format!("unexpected variable-length data: {e}")))?;
            convert::from_fixed(&raw, &self.spec.dtype).map_err(|m| self.error(m))?
        };
        let steps: Vec<u64> = selection.dims.iter().map(|s| s.step).collect();
        let values = if steps.iter().all(|s| *s == 1) {
            values
        } else {
            let picks = convert::strided_indices(&box_shape, &out_shape, &steps);
            convert::gather(values, &picks)
        };
        Ok(NdArray {
            shape: out_shape,
            values,
        })
    }
}

fn to_array_bytes(elements: Elements<'_>) -> std::result::Result<ArrayBytes<'_>, String> {
    match elements {
        Elements::Fixed { bytes, .. } => Ok(ArrayBytes::new_flen(bytes)),
        Elements::Strings(strings) => {
            let mut bytes = Vec::with_capacity(strings.iter().map(String::len).sum());
            let mut offsets = Vec::with_capacity(strings.len() + 1);
            offsets.push(0usize);
            for s in &strings {
                bytes.extend_from_slice(s.as_bytes());
                offsets.push(bytes.len());
            }
            let offsets = zarrs::array::ArrayBytesOffsets::new(offsets)
                .map_err(|e| format!("string offsets: {e}"))?;
            ArrayBytes::new_vlen(bytes, offsets).map_err(|e| format!("string bytes: {e}"))
        }
    }
}
