//! # arco-crs
//!
//! Coordinate reference systems described by CF `grid_mapping` variables:
//! projection to and from longitude/latitude, the EPSG code where one is
//! known, and WKT2. Pure Rust: no PROJ.
//!
//! Supported: the CF-1.11 grid mappings `latitude_longitude`,
//! `rotated_latitude_longitude`, `transverse_mercator` (UTM included),
//! `mercator` (1SP and 2SP), `lambert_conformal_conic` (one or two standard
//! parallels), `polar_stereographic` (variants A and B), `stereographic`,
//! `lambert_azimuthal_equal_area`, `albers_conical_equal_area`,
//! `geostationary` and `sinusoidal`, on any ellipsoid or sphere; the same
//! projections from WKT1/WKT2 ([`Crs::from_wkt`]) and PROJ strings
//! ([`Crs::from_proj4`]); and a table of common EPSG codes
//! ([`Crs::from_epsg`]). The formulas are the ellipsoidal ones of Snyder's
//! *Map Projections: A Working Manual* and, for Transverse Mercator, Krüger's
//! series to sixth order (Karney 2011); they agree with PROJ to well under a
//! millimetre (checked against pyproj by `tests/pyproj_judge.rs`).
//!
//! Longitudes and latitudes are on the CRS's own ellipsoid and datum: no
//! datum shift is applied (for NAD83, ETRS89 or GDA94 the difference from
//! WGS 84 is under 2 m; for OSGB36 it is about 100 m).
#![warn(missing_docs)]

mod cf;
mod ellipsoid;
mod epsg;
mod method;
mod proj4;
mod projection;
mod wkt;

use arco_core::Attribute;
use ellipsoid::Ellipsoid;
use method::{Definition, Method};
use projection::Projector;

/// The projection methods [`Crs::from_wkt`] and [`Crs::from_proj4`] read.
pub(crate) const SUPPORTED_METHODS: &str =
    "Transverse Mercator (and UTM), Mercator (variants A and B), \
Popular Visualisation Pseudo Mercator, Lambert Conic Conformal (1SP, 1SP variant B, 2SP), \
Polar Stereographic (variants A and B), Stereographic, Lambert Azimuthal Equal Area, \
Albers Equal Area, Geostationary Satellite (sweep x or y), Sinusoidal, and the CF pole rotation";

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
    /// A parameter of a grid mapping is missing or has an invalid value.
    #[error("grid mapping `{mapping}`: attribute `{parameter}` {reason}")]
    Parameter {
        /// The CF `grid_mapping_name`.
        mapping: String,
        /// The attribute (or parameter) at fault.
        parameter: String,
        /// What is wrong with it and what to do.
        reason: String,
    },
    /// A WKT text or PROJ string could not be read.
    #[error("cannot read the {format}: {reason}")]
    Parse {
        /// `"WKT"` or `"PROJ string"`.
        format: &'static str,
        /// Where and why reading stopped.
        reason: String,
    },
    /// The point has no image: behind the limb of a geostationary view, at
    /// the opposite pole of a polar projection, outside the outline of the
    /// map, or not finite.
    #[error("point ({x}, {y}) lies outside the domain of the projection")]
    OutsideDomain {
        /// The point's first coordinate (x, or longitude).
        x: f64,
        /// The point's second coordinate (y, or latitude).
        y: f64,
    },
}

/// An ellipsoid arco knows by its EPSG code (7030 WGS 84, 7019 GRS 1980,
/// 7001 Airy 1830, 7008 Clarke 1866, 7022 International 1924, 7004 Bessel
/// 1841, 7043 WGS 72, 7024 Krassowsky 1940): its name, semi-major axis in
/// metres and inverse flattening.
pub fn ellipsoid_from_epsg(code: u32) -> Option<(&'static str, f64, f64)> {
    Ellipsoid::from_epsg(code).map(|(e, name)| (name, e.a, e.inv_flattening))
}

/// Crate result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A coordinate reference system.
///
/// Coordinates are always in (x, y) = (easting, northing) or (longitude,
/// latitude) order, whatever the axis order of the EPSG definition.
#[derive(Debug, Clone, PartialEq)]
pub struct Crs {
    def: Definition,
    proj: Projector,
    epsg: Option<u32>,
}

impl Crs {
    /// A CRS from a definition; `epsg` is the code the source named, else
    /// the one the definition is recognised as.
    fn build(def: Definition, epsg: Option<u32>, name: &str) -> Result<Crs> {
        let proj = Projector::new(&def).map_err(|reason| Error::Unsupported {
            name: name.to_string(),
            reason: reason.to_string(),
        })?;
        let epsg = epsg.or_else(|| epsg::recognize(&def));
        Ok(Crs { def, proj, epsg })
    }

    fn from_known(code: u32) -> Option<Crs> {
        let k = epsg::known(code)?;
        Crs::build(k.def, Some(code), "").ok()
    }

    /// WGS 84 longitude/latitude in degrees (EPSG:4326 with lon, lat order).
    pub fn geographic() -> Crs {
        let def = Definition {
            method: Method::LonLat,
            ellipsoid: Ellipsoid::WGS84,
        };
        Crs {
            proj: Projector::identity(),
            def,
            epsg: Some(4326),
        }
    }

    /// WGS 84 / Pseudo-Mercator (EPSG:3857), the web map tiles' CRS.
    pub fn web_mercator() -> Crs {
        let def = Definition {
            method: Method::WebMercator,
            ellipsoid: Ellipsoid::WGS84,
        };
        Crs {
            proj: Projector::web_mercator(),
            def,
            epsg: Some(3857),
        }
    }

    /// A CRS from its EPSG code, for the codes arco knows: 4326, 4258,
    /// 4269, 4171, 4283, 4277, 4267, 4674, 7844, 4167, 4230, 4322, 4314,
    /// 4284 (geographic), 3857, 3395, the UTM zones 326xx/327xx (WGS 84),
    /// 258xx (ETRS89), 269xx (NAD83), 267xx (NAD27), 230xx (ED50),
    /// 31965–31985 (SIRGAS 2000), the MGA zones 283xx (GDA94) and 78xx
    /// (GDA2020), 3413, 3031, 3995, 3976, 6931, 6932, 3035, 3034, 2154,
    /// 5070, 27700 and 3577.
    pub fn from_epsg(code: u32) -> Result<Crs> {
        Crs::from_known(code).ok_or_else(|| Error::Unsupported {
            name: format!("EPSG:{code}"),
            reason: format!(
                "not one of the EPSG codes arco knows ({}); describe the CRS with CF grid-mapping attributes, WKT or a PROJ string instead",
                epsg::KNOWN_DESCRIPTION
            ),
        })
    }

    /// The CRS described by the attributes of a CF grid-mapping variable.
    ///
    /// `grid_mapping_name` and its parameters define the CRS; without it,
    /// `crs_wkt` or `spatial_ref` (WKT) or `epsg_code` does. An EPSG code
    /// named by `epsg_code`, `crs_wkt` or `spatial_ref` becomes
    /// [`Crs::epsg`]; otherwise the parameters are recognised as a known
    /// code where they match one. The ellipsoid comes from `earth_radius`,
    /// or `semi_major_axis` with `inverse_flattening` or `semi_minor_axis`
    /// (alone: a sphere), or `reference_ellipsoid_name`; WGS 84 when absent.
    pub fn from_cf(attributes: &[Attribute]) -> Result<Crs> {
        match cf::read(attributes)? {
            cf::Parsed::Cf(def) => {
                let name = attributes
                    .iter()
                    .find(|a| a.name == "grid_mapping_name")
                    .and_then(|a| a.value.as_str())
                    .unwrap_or_default()
                    .to_string();
                Crs::build(def, cf::epsg_hint(attributes), &name)
            }
            cf::Parsed::Wkt(text) => {
                let mut crs = Crs::from_wkt(&text)?;
                if let Some(code) = cf::epsg_hint(attributes) {
                    crs.epsg = Some(code);
                }
                Ok(crs)
            }
            cf::Parsed::Epsg(code) => Crs::from_epsg(code),
        }
    }

    /// A CRS from OGC WKT (WKT1 as GDAL or ESRI write it, or WKT2). A known
    /// EPSG code at the root is used as such when the text cannot be read.
    pub fn from_wkt(text: &str) -> Result<Crs> {
        match wkt::read(text) {
            Ok((def, code)) => Crs::build(def, code, "WKT"),
            Err(e) => wkt::top_level_epsg(text).and_then(Crs::from_known).ok_or(e),
        }
    }

    /// A CRS from a PROJ string such as `+proj=utm +zone=33 +datum=WGS84`
    /// (or `+init=epsg:NNNN` for a code arco knows).
    pub fn from_proj4(text: &str) -> Result<Crs> {
        let (def, code) = proj4::read(text)?;
        Crs::build(def, code, text)
    }

    /// Whether coordinates are longitude/latitude degrees.
    pub fn is_geographic(&self) -> bool {
        matches!(self.def.method, Method::LonLat)
    }

    /// The CF `grid_mapping_name` of this CRS's method
    /// (`"latitude_longitude"` for a geographic CRS; `"mercator"` for EPSG:3857,
    /// which CF cannot describe exactly).
    pub fn grid_mapping_name(&self) -> &'static str {
        match self.def.method {
            Method::LonLat => "latitude_longitude",
            Method::RotatedPole { .. } => "rotated_latitude_longitude",
            Method::TransverseMercator { .. } => "transverse_mercator",
            Method::Mercator { .. } | Method::WebMercator => "mercator",
            Method::LambertConformal { .. } => "lambert_conformal_conic",
            Method::PolarStereographic { .. } => "polar_stereographic",
            Method::Stereographic { .. } => "stereographic",
            Method::LambertAzimuthalEqualArea { .. } => "lambert_azimuthal_equal_area",
            Method::AlbersEqualArea { .. } => "albers_conical_equal_area",
            Method::Geostationary { .. } => "geostationary",
            Method::Sinusoidal { .. } => "sinusoidal",
        }
    }

    /// Projected `(x, y)` (in the grid's units: metres, or degrees for a
    /// rotated pole, or longitude/latitude for a geographic CRS, returned
    /// as is) to `(lon, lat)` degrees, longitude in [−180, 180] for
    /// projected and rotated CRSs.
    ///
    /// Geostationary coordinates are the scanning angles (radians) times
    /// `perspective_point_height`, as CF and PROJ define them.
    #[inline]
    pub fn to_lonlat(&self, x: f64, y: f64) -> Result<(f64, f64)> {
        self.proj.inverse(x, y).ok_or(Error::OutsideDomain { x, y })
    }

    /// `(lon, lat)` degrees to projected `(x, y)`.
    #[inline]
    pub fn from_lonlat(&self, lon: f64, lat: f64) -> Result<(f64, f64)> {
        self.proj
            .forward(lon, lat)
            .ok_or(Error::OutsideDomain { x: lon, y: lat })
    }

    /// [`Crs::to_lonlat`] over many points at once: `x` becomes longitude
    /// and `y` latitude, NaN where a point lies outside the domain. Pairs up
    /// to the shorter slice.
    pub fn to_lonlat_in_place(&self, x: &mut [f64], y: &mut [f64]) {
        for (xi, yi) in x.iter_mut().zip(y.iter_mut()) {
            (*xi, *yi) = self.proj.inverse(*xi, *yi).unwrap_or((f64::NAN, f64::NAN));
        }
    }

    /// [`Crs::from_lonlat`] over many points at once: `lon` becomes x and
    /// `lat` y, NaN where a point lies outside the domain. Pairs up to the
    /// shorter slice.
    pub fn from_lonlat_in_place(&self, lon: &mut [f64], lat: &mut [f64]) {
        for (a, b) in lon.iter_mut().zip(lat.iter_mut()) {
            (*a, *b) = self.proj.forward(*a, *b).unwrap_or((f64::NAN, f64::NAN));
        }
    }

    /// The EPSG code, where the CRS is one.
    pub fn epsg(&self) -> Option<u32> {
        self.epsg
    }

    /// The CF grid-mapping attributes of this CRS, as pyproj's
    /// `CRS.to_cf()` writes them: `grid_mapping_name` and its parameters,
    /// `semi_major_axis`, `semi_minor_axis`, `inverse_flattening`,
    /// `longitude_of_prime_meridian`, the ellipsoid, datum and CRS names
    /// where known, and `crs_wkt` ([`Crs::wkt2`]) where it can be written.
    /// [`Crs::from_cf`] reads them back as this CRS. Web Mercator, which no
    /// CF grid mapping describes, gets only `crs_wkt`.
    pub fn cf_attributes(&self) -> Vec<Attribute> {
        let mut out = cf::write(&self.def, self.epsg);
        if let Some(w) = self.wkt2() {
            out.push(Attribute::text("crs_wkt", w));
        }
        out
    }

    /// The CRS as OGC WKT2 (2019), where it can be written. Known EPSG
    /// codes carry their EPSG names, axes and `ID`.
    pub fn wkt2(&self) -> Option<String> {
        wkt::write(&self.def, self.epsg)
    }
}
