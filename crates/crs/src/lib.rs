//! # arco-crs
//!
//! Coordinate reference systems described by CF `grid_mapping` variables:
//! projection to and from longitude/latitude (WGS 84), the EPSG code where
//! one is known, and WKT2. Pure Rust: no PROJ.
#![warn(missing_docs)]

use arco_core::Attribute;

/// Errors building or applying a CRS.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The grid mapping is not one arco can project.
    #[error("grid mapping `{name}`: {reason}")]
    Unsupported {
        /// The CF `grid_mapping_name` (or the variable name).
        name: String,
        /// What is missing or unsupported, and what to do.
        reason: String,
    },
}

/// Crate result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A coordinate reference system.
#[derive(Debug, Clone, PartialEq)]
pub struct Crs {
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Geographic,
}

impl Crs {
    /// WGS 84 longitude/latitude in degrees (EPSG:4326 with lon, lat order).
    pub fn geographic() -> Crs {
        Crs {
            kind: Kind::Geographic,
        }
    }

    /// The CRS described by the attributes of a CF grid-mapping variable.
    pub fn from_cf(attributes: &[Attribute]) -> Result<Crs> {
        let name = attributes
            .iter()
            .find(|a| a.name == "grid_mapping_name")
            .and_then(|a| a.value.as_str().map(str::to_string))
            .unwrap_or_default();
        match name.as_str() {
            "latitude_longitude" => Ok(Crs::geographic()),
            _ => Err(Error::Unsupported {
                name,
                reason: "not implemented yet".into(),
            }),
        }
    }

    /// Whether coordinates are longitude/latitude degrees.
    pub fn is_geographic(&self) -> bool {
        matches!(self.kind, Kind::Geographic)
    }

    /// Projected `(x, y)` (in the grid's units) to `(lon, lat)` degrees.
    pub fn to_lonlat(&self, x: f64, y: f64) -> Result<(f64, f64)> {
        match self.kind {
            Kind::Geographic => Ok((x, y)),
        }
    }

    /// `(lon, lat)` degrees to projected `(x, y)`.
    pub fn from_lonlat(&self, lon: f64, lat: f64) -> Result<(f64, f64)> {
        match self.kind {
            Kind::Geographic => Ok((lon, lat)),
        }
    }

    /// The EPSG code, where the CRS is one.
    pub fn epsg(&self) -> Option<u32> {
        match self.kind {
            Kind::Geographic => Some(4326),
        }
    }

    /// The CRS as OGC WKT2 (2019), where it can be written.
    pub fn wkt2(&self) -> Option<String> {
        None
    }
}
