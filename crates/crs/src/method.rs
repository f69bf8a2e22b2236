//! The definition of a CRS: a coordinate operation method with its
//! parameters (degrees and metres, as written in CF, WKT or EPSG) on an
//! ellipsoid.

use crate::ellipsoid::Ellipsoid;

/// A method and its parameters. Angles in degrees, lengths in metres.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Method {
    /// Longitude/latitude.
    LonLat,
    /// CF `rotated_latitude_longitude`: the grid's north pole at
    /// (`pole_lon`, `pole_lat`), the true north pole at longitude
    /// `north_pole_grid_lon` of the rotated grid.
    RotatedPole {
        pole_lat: f64,
        pole_lon: f64,
        north_pole_grid_lon: f64,
    },
    TransverseMercator {
        lat0: f64,
        lon0: f64,
        k0: f64,
        fe: f64,
        fn_: f64,
    },
    /// Mercator with a scale factor on the equator (variant A, 1SP) or a
    /// latitude of true scale (variant B, 2SP).
    Mercator {
        lon0: f64,
        scale: MercatorScale,
        fe: f64,
        fn_: f64,
    },
    /// EPSG:3857's spherical formulas on WGS 84.
    WebMercator,
    /// One standard parallel when `lat2` is `None` (scale `k0` on it), two otherwise.
    LambertConformal {
        lat0: f64,
        lon0: f64,
        lat1: f64,
        lat2: Option<f64>,
        k0: f64,
        fe: f64,
        fn_: f64,
    },
    /// Variant A (`lat_ts` `None`, scale `k0` at the pole) or B (`lat_ts`).
    PolarStereographic {
        north: bool,
        lon0: f64,
        lat_ts: Option<f64>,
        k0: f64,
        fe: f64,
        fn_: f64,
    },
    /// Oblique or equatorial stereographic through the conformal sphere
    /// (PROJ's `stere`, CF `stereographic`; not EPSG's "Oblique Stereographic").
    Stereographic {
        lat0: f64,
        lon0: f64,
        k0: f64,
        fe: f64,
        fn_: f64,
    },
    LambertAzimuthalEqualArea {
        lat0: f64,
        lon0: f64,
        fe: f64,
        fn_: f64,
    },
    AlbersEqualArea {
        lat0: f64,
        lon0: f64,
        lat1: f64,
        lat2: f64,
        fe: f64,
        fn_: f64,
    },
    Geostationary {
        lon0: f64,
        height: f64,
        sweep_x: bool,
        fe: f64,
        fn_: f64,
    },
    Sinusoidal {
        lon0: f64,
        fe: f64,
        fn_: f64,
    },
}

/// How a Mercator projection is scaled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum MercatorScale {
    /// Scale factor on the equator (variant A).
    K0(f64),
    /// Latitude of true scale (variant B).
    LatTs(f64),
}

/// A complete definition: method and ellipsoid.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Definition {
    pub method: Method,
    pub ellipsoid: Ellipsoid,
}

impl Method {
    /// A discriminant and every number, for comparisons with a tolerance.
    fn numbers(&self) -> (u8, [f64; 7]) {
        let opt = |v: Option<f64>| v.unwrap_or(f64::NAN);
        let flag = |b: bool| if b { 1.0 } else { 0.0 };
        let z = 0.0;
        match *self {
            Method::LonLat => (0, [z; 7]),
            Method::RotatedPole {
                pole_lat,
                pole_lon,
                north_pole_grid_lon,
            } => (1, [pole_lat, pole_lon, north_pole_grid_lon, z, z, z, z]),
            Method::TransverseMercator {
                lat0,
                lon0,
                k0,
                fe,
                fn_,
            } => (2, [lat0, lon0, k0, fe, fn_, z, z]),
            Method::Mercator {
                lon0,
                scale,
                fe,
                fn_,
            } => match scale {
                MercatorScale::K0(k) => (3, [lon0, k, fe, fn_, z, z, z]),
                MercatorScale::LatTs(t) => (4, [lon0, t, fe, fn_, z, z, z]),
            },
            Method::WebMercator => (5, [z; 7]),
            Method::LambertConformal {
                lat0,
                lon0,
                lat1,
                lat2,
                k0,
                fe,
                fn_,
            } => (6, [lat0, lon0, lat1, opt(lat2), k0, fe, fn_]),
            Method::PolarStereographic {
                north,
                lon0,
                lat_ts,
                k0,
                fe,
                fn_,
            } => (7, [flag(north), lon0, opt(lat_ts), k0, fe, fn_, z]),
            Method::Stereographic {
                lat0,
                lon0,
                k0,
                fe,
                fn_,
            } => (8, [lat0, lon0, k0, fe, fn_, z, z]),
            Method::LambertAzimuthalEqualArea {
                lat0,
                lon0,
                fe,
                fn_,
            } => (9, [lat0, lon0, fe, fn_, z, z, z]),
            Method::AlbersEqualArea {
                lat0,
                lon0,
                lat1,
                lat2,
                fe,
                fn_,
            } => (10, [lat0, lon0, lat1, lat2, fe, fn_, z]),
            Method::Geostationary {
                lon0,
                height,
                sweep_x,
                fe,
                fn_,
            } => (11, [lon0, height, flag(sweep_x), fe, fn_, z, z]),
            Method::Sinusoidal { lon0, fe, fn_ } => (12, [lon0, fe, fn_, z, z, z, z]),
        }
    }

    /// The same method with the same parameters to 2e-7 relative (what
    /// survives a round trip through `float32` attributes, which is how some
    /// writers store grid-mapping parameters).
    pub fn approx_eq(&self, other: &Method) -> bool {
        let (ta, a) = self.numbers();
        let (tb, b) = other.numbers();
        ta == tb
            && a.iter().zip(b.iter()).all(|(x, y)| {
                (x.is_nan() && y.is_nan()) || (x - y).abs() <= 2e-7 * x.abs().max(1.0)
            })
    }
}

impl Definition {
    /// Equal within the tolerances of [`Method::approx_eq`] and [`Ellipsoid::approx_eq`].
    pub fn approx_eq(&self, other: &Definition) -> bool {
        self.method.approx_eq(&other.method) && self.ellipsoid.approx_eq(&other.ellipsoid)
    }
}
