//! # arco-grib
//!
//! Pure-Rust reader for GRIB edition 1 and 2 files. It finds every message
//! by range reads (reading only the sections that identify a field, never
//! the data), builds the data model the way `xarray.open_dataset(f,
//! engine="cfgrib")` presents GRIB, and describes every variable's bytes as
//! a [`ChunkManifest`] with **one chunk per message**: the chunk's byte range
//! is the message itself and its codec, [`CodecSpec::Grib`], decodes it from
//! those bytes alone (in `arco-codecs`). It does not decode values itself.
//!
//! The data model (see `docs/design/grib.md`):
//!
//! * A variable per parameter, level type and statistical processing, named
//!   by ecCodes' short name as cfgrib does (`t`, `z`, `t2m`, `u10`, `msl`,
//!   ...; unknown parameters `param_<discipline>_<category>_<number>`), with
//!   `units`, `long_name`, `standard_name` and `GRIB_*` provenance.
//! * Dimensions `number` (ensemble member), `time` (reference time),
//!   `step` (forecast step, hours) and the level type (`isobaricInhPa`,
//!   `hybrid`, `heightAboveGround`, ...) where the messages take more than
//!   one value; a single value is a scalar coordinate. `valid_time` is
//!   `time + step`.
//! * Then the grid: `latitude`/`longitude` for regular and Gaussian grids
//!   (in the file's order), `y`/`x` with a CF grid mapping for Lambert,
//!   polar stereographic, Mercator and rotated grids, and a 1-D `values`
//!   dimension with `latitude(values)`/`longitude(values)` for reduced
//!   grids: nothing is regridded. Unstructured and spectral fields keep
//!   `values` only (reading spectral coefficients is an error).
//! * Messages that do not form one hypercube are split: another grid gets
//!   its own group, repeated coordinates a second variable, and sparse
//!   combinations are split along their first varying dimension; a missing
//!   combination in an otherwise (at least half) full hypercube is a
//!   missing chunk that reads as NaN.
//!
//! ```no_run
//! use std::sync::Arc;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let source = Arc::new(arco_storage::LocalFile::open("era5.grib", "era5.grib")?);
//! let file = arco_grib::GribFile::open(source)?;
//! let manifest = file.manifest("t")?;
//! println!("{} messages", manifest.chunks.len());
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

mod build;
mod grid;
mod meta;
mod scan;
mod tables;

use arco_core::{ChunkGrid, ChunkManifest, ChunkRef, Dataset, Endian};
use arco_storage::DynSource;
use std::collections::HashMap;
use std::sync::Arc;

/// Errors reading a GRIB file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not valid GRIB (or are truncated).
    #[error("{location}: not a valid GRIB file at byte {offset}: {reason}")]
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

impl Error {
    pub(crate) fn format(location: &str, offset: u64, reason: String) -> Self {
        Error::Format {
            location: location.to_string(),
            offset,
            reason,
        }
    }
}

/// Crate result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// True when `magic` (the first bytes of a file) starts a GRIB message.
pub fn is_grib(magic: &[u8]) -> bool {
    magic.len() >= 4 && &magic[..4] == b"GRIB"
}

/// Where a variable's values come from.
#[derive(Debug, Clone)]
enum Source {
    /// One chunk per message.
    Fields {
        chunks: Vec<ChunkRef>,
        fill: Vec<u8>,
    },
    /// Values computed from the metadata, little-endian.
    Inline(Arc<[u8]>),
    /// Latitudes (`true`) or longitudes of every point of a reduced grid,
    /// computed when asked for.
    ReducedLatLon(Arc<grid::Grid>, bool),
}

/// An open GRIB file.
#[derive(Debug)]
pub struct GribFile {
    dataset: Dataset,
    sources: HashMap<String, Source>,
    messages: usize,
}

impl GribFile {
    /// Find the messages of `source` and build the data model.
    ///
    /// Fails with [`Error::Format`], naming the byte offset, when a message
    /// is truncated or corrupt, or when the file holds no GRIB message.
    pub fn open(source: DynSource) -> Result<Self> {
        let raw = scan::scan(source.as_ref())?;
        let fields: Vec<meta::FieldMeta> = raw.iter().map(meta::describe).collect();
        let messages = {
            let mut offsets: Vec<u64> = fields.iter().map(|f| f.offset).collect();
            offsets.dedup();
            offsets.len()
        };
        let (dataset, sources) = build::build(source.location(), source.len(), &fields)?;
        Ok(GribFile {
            dataset,
            sources,
            messages,
        })
    }

    /// The metadata tree.
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// Number of messages in the file.
    pub fn message_count(&self) -> usize {
        self.messages
    }

    /// The chunk manifest of the variable at `path` (or bare name): one
    /// chunk per message for data variables (combinations without a
    /// message are missing chunks, read as NaN), one inline chunk for
    /// coordinates.
    pub fn manifest(&self, path: &str) -> Result<ChunkManifest> {
        let var = self.dataset.variable(path)?;
        let source = self.sources.get(&var.path).ok_or_else(|| {
            Error::Core(arco_core::Error::Other(format!(
                "{}: no layout recorded for variable {}",
                self.dataset.source, var.path
            )))
        })?;
        let grid = ChunkGrid::new(
            var.shape.clone(),
            var.chunk_shape.clone().unwrap_or_else(|| var.shape.clone()),
        )?;
        let inline = |bytes: Arc<[u8]>| ChunkManifest {
            variable: var.path.clone(),
            dtype: var.dtype.clone(),
            endian: Endian::Little,
            grid: grid.clone(),
            codecs: Vec::new(),
            chunks: vec![ChunkRef {
                index: vec![0; var.shape.len()],
                offset: 0,
                length: bytes.len() as u64,
                filter_mask: 0,
                inline: Some(bytes),
            }],
            fill_bytes: None,
        };
        Ok(match source {
            Source::Inline(bytes) => inline(bytes.clone()),
            Source::ReducedLatLon(g, lat) => {
                let (la, lo) = g.reduced_latlon().unwrap_or_default();
                let v = if *lat { la } else { lo };
                inline(
                    v.iter()
                        .flat_map(|x| x.to_le_bytes())
                        .collect::<Vec<u8>>()
                        .into(),
                )
            }
            Source::Fields { chunks, fill } => ChunkManifest {
                variable: var.path.clone(),
                dtype: var.dtype.clone(),
                endian: Endian::Little,
                grid,
                codecs: var.codecs.clone(),
                chunks: chunks.clone(),
                fill_bytes: Some(fill.clone()),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grib_magic_is_recognised() {
        assert!(is_grib(b"GRIB\x00\x00\x00\x02"));
        assert!(!is_grib(b"GRI"));
        assert!(!is_grib(b"CDF\x01"));
    }
}
