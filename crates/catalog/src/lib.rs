//! # arco-catalog
//!
//! STAC 1.1 metadata generated from the data itself: open any dataset arco
//! reads (NetCDF-3, NetCDF-4, HDF5, the Zarr stores `arco convert` writes)
//! through [`arco_formats::Reader`], [`describe()`] it, and turn the
//! [`Description`] into a [`stac::Item`], a [`stac::Collection`] and a static
//! catalog on disk, all checked offline against vendored JSON schemas
//! ([`validate`]).
//!
//! Everything in the documents comes from the data: the footprint and the
//! bounding box from the coordinates (1-D latitude/longitude, 2-D auxiliary
//! latitude/longitude, or projected x/y through the CF grid mapping and
//! [`arco_crs`]), the time range from the decoded time coordinate, the
//! datacube dimensions and variables, the bands with their no-data values,
//! scale and offset, statistics and flag classes, the tables of compound
//! datasets, titles, keywords and providers from the CF and ACDD global
//! attributes, and the processing lineage from `arco:provenance`.
//!
//! The design notes, with the media types and roles of every asset kind, are
//! in `docs/design/stac.md`.
//!
//! ## The two callers
//!
//! `arco convert` describes its output and writes `.stac/collection.json` and
//! `.stac/item.json` inside the Zarr store, before the store is published:
//!
//! ```no_run
//! use arco_catalog::{
//!     collection_from, describe, embedded_documents, AssetKind, AssetSpec, CollectionSpec,
//!     DescribeOptions, License,
//! };
//! # fn run(reader: &dyn arco_formats::Reader) -> Result<(), arco_catalog::Error> {
//! let description = describe(reader, "out.zarr", &DescribeOptions::default())?;
//! let mut item = description.item()?;
//! // The store is the folder that holds `.stac/`.
//! description.add_asset(&mut item, "zarr", &AssetSpec::new("../", AssetKind::Zarr { version: 3 }))?;
//! let spec = CollectionSpec {
//!     license: Some(License::parse("CC-BY-4.0")?),
//!     assets_from_single_item: true,
//!     ..CollectionSpec::new(&item.id)
//! };
//! let collection = collection_from(&spec, std::slice::from_ref(&item))?;
//! for (path, bytes) in embedded_documents(&collection, &item)? {
//!     // path is ".stac/collection.json" or ".stac/item.json"; write it into the store.
//!     let _ = (path, bytes);
//! }
//! # Ok(()) }
//! ```
//!
//! `arco catalog DEST... --out DIR --title T --license SPDX [--id ID] [--check]`
//! describes each destination and writes a static catalog:
//!
//! ```no_run
//! use arco_catalog::{
//!     collection_from, describe, validate, write_static_catalog, AssetSpec, CatalogSpec,
//!     CollectionSpec, DescribeOptions, License,
//! };
//! # fn run(readers: &[(&dyn arco_formats::Reader, &str)]) -> Result<(), arco_catalog::Error> {
//! let mut items = Vec::new();
//! for (reader, location) in readers {
//!     let d = describe(*reader, location, &DescribeOptions::default())?;
//!     let mut item = d.item()?;
//!     // An absolute path or URL: the writer makes local paths relative to each document.
//!     d.add_asset(&mut item, "data", &AssetSpec::for_dataset(&d, *location))?;
//!     items.push(item);
//! }
//! let license = License::parse("CC-BY-4.0")?;
//! let collection = collection_from(
//!     &CollectionSpec { title: Some("My data".into()), license: Some(license.clone()), ..CollectionSpec::new("my-data") },
//!     &items,
//! )?;
//! let spec = CatalogSpec { license: Some(license), ..CatalogSpec::new("my-data", "Catalog of my data") };
//! let written = write_static_catalog("out/catalog".as_ref(), &spec, &[(collection, items)])?;
//! // --check
//! validate::validate_catalog_dir("out/catalog".as_ref()).map_err(arco_catalog::Error::Invalid)?;
//! # let _ = written; Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod assets;
pub mod collection;
pub mod describe;
mod extensions;
mod geo;
pub mod license;
pub mod validate;
pub mod write;

pub use assets::{AssetKind, AssetSpec};
pub use collection::{collection_from, CollectionSpec};
pub use describe::{
    describe, horizontal_grids, id_from_location, sanitize_id, DescribeOptions, Description,
    GridKind, HorizontalGrid, InputRecord, Processing, Spatial, StatisticsMode, Temporal,
    AUTO_STATISTICS_LIMIT,
};
pub use extensions::{declare_extensions, StacObject, EXTENSIONS};
pub use license::License;
pub use validate::ValidationIssue;
pub use write::{embedded_documents, static_catalog_documents, write_static_catalog, CatalogSpec};

/// The `stac` crate whose types this crate produces, re-exported so callers
/// name the same version.
pub use stac;

/// Errors describing a dataset or writing a catalog.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No coordinates locate the data on the Earth.
    #[error(
        "{dataset}: no spatial coordinates found, so the STAC geometry and bbox cannot be computed. \
         Looked at: {looked_at}. Add CF latitude/longitude coordinates (units degrees_north/degrees_east \
         or standard_name latitude/longitude), projected x/y with a grid_mapping, or ACDD \
         geospatial_lat_min/max and geospatial_lon_min/max attributes; or ask for a null geometry \
         (DescribeOptions::null_geometry)"
    )]
    NoSpatialCoordinates {
        /// The dataset location.
        dataset: String,
        /// The variables and attributes examined, and why each was not usable.
        looked_at: String,
    },
    /// A coordinate variable could not be read or makes no sense.
    #[error("{dataset}: coordinate variable {variable}: {reason}")]
    Coordinates {
        /// The dataset location.
        dataset: String,
        /// Path of the coordinate variable.
        variable: String,
        /// What is wrong.
        reason: String,
    },
    /// The data have no time and the caller gave no datetime.
    #[error(
        "{dataset}: no time found (looked at: {looked_at}); STAC items need a datetime: \
         set DescribeOptions::datetime"
    )]
    NoTime {
        /// The dataset location.
        dataset: String,
        /// What was examined.
        looked_at: String,
    },
    /// A license string that is neither an SPDX identifier nor a STAC keyword.
    #[error(
        "license '{given}' is not an SPDX license identifier (https://spdx.org/licenses/) nor \
         'other'{}",
        if suggestions.is_empty() { String::new() } else { format!("; did you mean {}?", suggestions.join(", ")) }
    )]
    License {
        /// The string given.
        given: String,
        /// Close SPDX identifiers.
        suggestions: Vec<String>,
    },
    /// Reading a variable failed.
    #[error("{dataset}: reading {variable}: {source}")]
    Read {
        /// The dataset location.
        dataset: String,
        /// Variable path.
        variable: String,
        /// The reader's error.
        #[source]
        source: Box<arco_formats::Error>,
    },
    /// A CF attribute could not be interpreted.
    #[error("{dataset}: {source}")]
    Cf {
        /// The dataset location.
        dataset: String,
        /// The CF error (it names the variable and attribute).
        #[source]
        source: arco_core::Error,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A document could not be serialized or parsed.
    #[error("{what}: {source}")]
    Json {
        /// Which document.
        what: String,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// Generated or given STAC failed schema validation.
    #[error("{} STAC validation issue(s):\n{}", .0.len(), .0.iter().map(|i| format!("  {i}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<ValidationIssue>),
    /// Options that do not fit together.
    #[error("{0}")]
    Options(String),
}

/// Crate result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
