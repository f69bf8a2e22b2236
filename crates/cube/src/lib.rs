//! # arco-cube
//!
//! Georeferenced views of any dataset arco reads (NetCDF, HDF5, GRIB,
//! GeoTIFF/COG, Zarr, kerchunk references): what the map tiles, time series
//! and OGC EDR endpoints are computed from.
//!
//! - [`Cube::open`] finds, per data variable, its horizontal grid (the rules
//!   of [`arco_catalog::horizontal_grids`], the same the STAC footprint uses:
//!   1-D longitude/latitude, or projected x/y through [`arco_crs`]), its
//!   other dimensions with decoded labels ([`Labels`]: ISO times in the
//!   variable's calendar, numbers, or plain indices), and its multiscale
//!   levels (groups holding a coarser copy of the same variable: `arco
//!   convert --pyramid` levels or COG overviews).
//! - [`Cube::read`] returns CF-decoded values (`f64`, NaN where missing) of
//!   any hyperslab through a [`ChunkCache`] shared by every dataset of a
//!   server: a memory-bounded LRU of decoded chunks, so a warm tile or time
//!   series touches no storage.
//! - [`Cube::sample`] reads the values at many grid cells (a tile's pixels),
//!   fetching each chunk they fall in once.
//! - [`series`] answers point (nearest or bilinear) and area (bbox or
//!   polygon; mean, min, max, count per step) time series.
//!
//! Selections by label follow xarray's `sel` and titiler's
//! `sel=dim=method::value` grammar: methods `nearest`, `pad`/`ffill`,
//! `backfill`/`bfill`, and exact match by default.
#![warn(missing_docs)]

pub mod axis;
pub mod cache;
pub mod cube;
pub mod geom;
pub mod labels;
pub mod series;

pub use axis::Axis1D;
pub use cache::{CacheStats, ChunkCache};
pub use cube::{Cube, HGrid, Level, VarView};
pub use geom::Geometry;
pub use labels::{DimSel, Labels, SelMethod};

/// Errors of cube queries. [`Error::is_client_error`] tells the HTTP edge
/// whether the request (4xx) or the data (5xx) is at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The dataset has no such variable.
    #[error("{dataset}: no variable '{variable}'; variables are {valid}")]
    UnknownVariable {
        /// Dataset id.
        dataset: String,
        /// What was asked for.
        variable: String,
        /// The valid names, comma-separated.
        valid: String,
    },
    /// The variable cannot be drawn on a map or located by longitude/latitude.
    #[error("{dataset}: variable '{variable}' {reason}")]
    NotMappable {
        /// Dataset id.
        dataset: String,
        /// The variable.
        variable: String,
        /// Why, and what is possible instead.
        reason: String,
    },
    /// A `sel` or dimension value is malformed or matches nothing.
    #[error("{dataset}: {message}")]
    BadSelection {
        /// Dataset id.
        dataset: String,
        /// What is wrong and what is valid.
        message: String,
    },
    /// A request parameter is malformed (geometry, bbox, method).
    #[error("{0}")]
    BadRequest(String),
    /// A position outside the grid.
    #[error("{dataset}: {message}")]
    OutsideGrid {
        /// Dataset id.
        dataset: String,
        /// Where, and the grid's extent.
        message: String,
    },
    /// A query that would read more than the server allows.
    #[error("{0}")]
    TooLarge(String),
    /// Reading the data failed.
    #[error("{dataset}: reading {variable}: {source}")]
    Read {
        /// Dataset id.
        dataset: String,
        /// The variable.
        variable: String,
        /// The reader's error.
        #[source]
        source: Box<arco_formats::Error>,
    },
    /// CF attributes that cannot be applied.
    #[error("{dataset}: {source}")]
    Cf {
        /// Dataset id.
        dataset: String,
        /// The data-model error.
        #[source]
        source: arco_core::Error,
    },
    /// The grid could not be worked out.
    #[error("{dataset}: {source}")]
    Catalog {
        /// Dataset id.
        dataset: String,
        /// The catalog error.
        #[source]
        source: Box<arco_catalog::Error>,
    },
    /// A coordinate variable holds values that locate nothing.
    #[error("{dataset}: coordinate '{variable}' {reason}")]
    Coordinates {
        /// Dataset id.
        dataset: String,
        /// The coordinate variable.
        variable: String,
        /// What is wrong.
        reason: String,
    },
}

impl Error {
    /// True when the request is at fault (an HTTP 4xx).
    pub fn is_client_error(&self) -> bool {
        matches!(
            self,
            Error::UnknownVariable { .. }
                | Error::NotMappable { .. }
                | Error::BadSelection { .. }
                | Error::BadRequest(_)
                | Error::OutsideGrid { .. }
                | Error::TooLarge(_)
        )
    }
}

/// Crate result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
