//! The EPSG codes arco knows by heart, with the names and axes their WKT
//! carries, and recognition of a definition as one of them.

use crate::ellipsoid::Ellipsoid;
use crate::method::{Definition, MercatorScale, Method};

/// A geographic CRS a projected one is based on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Geog {
    pub name: &'static str,
    pub datum: &'static str,
    pub ellipsoid: Ellipsoid,
    pub code: Option<u32>,
}

pub(crate) const WGS84: Geog = Geog {
    name: "WGS 84",
    datum: "World Geodetic System 1984",
    ellipsoid: Ellipsoid::WGS84,
    code: Some(4326),
};
const ETRS89: Geog = Geog {
    name: "ETRS89",
    datum: "European Terrestrial Reference System 1989",
    ellipsoid: Ellipsoid::GRS80,
    code: Some(4258),
};
const NAD83: Geog = Geog {
    name: "NAD83",
    datum: "North American Datum 1983",
    ellipsoid: Ellipsoid::GRS80,
    code: Some(4269),
};
const RGF93: Geog = Geog {
    name: "RGF93 v1",
    datum: "Reseau Geodesique Francais 1993 v1",
    ellipsoid: Ellipsoid::GRS80,
    code: Some(4171),
};
const GDA94: Geog = Geog {
    name: "GDA94",
    datum: "Geocentric Datum of Australia 1994",
    ellipsoid: Ellipsoid::GRS80,
    code: Some(4283),
};
const OSGB36: Geog = Geog {
    name: "OSGB36",
    datum: "Ordnance Survey of Great Britain 1936",
    ellipsoid: Ellipsoid::AIRY,
    code: Some(4277),
};
const NAD27: Geog = Geog {
    name: "NAD27",
    datum: "North American Datum 1927",
    ellipsoid: Ellipsoid::CLARKE1866,
    code: Some(4267),
};
const SIRGAS2000: Geog = Geog {
    name: "SIRGAS 2000",
    datum: "Sistema de Referencia Geocentrico para las AmericaS 2000",
    ellipsoid: Ellipsoid::GRS80,
    code: Some(4674),
};
const GDA2020: Geog = Geog {
    name: "GDA2020",
    datum: "Geocentric Datum of Australia 2020",
    ellipsoid: Ellipsoid::GRS80,
    code: Some(7844),
};
const NZGD2000: Geog = Geog {
    name: "NZGD2000",
    datum: "New Zealand Geodetic Datum 2000",
    ellipsoid: Ellipsoid::GRS80,
    code: Some(4167),
};
const ED50: Geog = Geog {
    name: "ED50",
    datum: "European Datum 1950",
    ellipsoid: Ellipsoid::INTL1924,
    code: Some(4230),
};
const WGS72: Geog = Geog {
    name: "WGS 72",
    datum: "World Geodetic System 1972",
    ellipsoid: Ellipsoid::WGS72,
    code: Some(4322),
};
const DHDN: Geog = Geog {
    name: "DHDN",
    datum: "Deutsches Hauptdreiecksnetz",
    ellipsoid: Ellipsoid::BESSEL1841,
    code: Some(4314),
};
const PULKOVO1942: Geog = Geog {
    name: "Pulkovo 1942",
    datum: "Pulkovo 1942",
    ellipsoid: Ellipsoid::KRASSOWSKY1940,
    code: Some(4284),
};

/// The axes of a CRS as its EPSG entry declares them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Axes {
    /// Latitude then longitude (EPSG geographic CRSs).
    LatLon,
    /// Longitude then latitude (CF and the rotated-pole grids).
    LonLat,
    /// Two projected axes: (name, direction, meridian) in order. The first
    /// is the easting unless `northing_first`.
    Projected {
        first: (&'static str, &'static str, Option<f64>),
        second: (&'static str, &'static str, Option<f64>),
        northing_first: bool,
    },
}

pub(crate) const EN: Axes = Axes::Projected {
    first: ("(E)", "east", None),
    second: ("(N)", "north", None),
    northing_first: false,
};
const XY: Axes = Axes::Projected {
    first: ("easting (X)", "east", None),
    second: ("northing (Y)", "north", None),
    northing_first: false,
};
const fn polar(x: &'static str, y: &'static str, dir: &'static str, mx: f64, my: f64) -> Axes {
    Axes::Projected {
        first: (x, dir, Some(mx)),
        second: (y, dir, Some(my)),
        northing_first: false,
    }
}

/// Everything the WKT of a known code says beyond its definition.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Known {
    pub def: Definition,
    pub name: String,
    /// The conversion's name (projected CRSs).
    pub conversion: String,
    pub geog: Geog,
    pub axes: Axes,
}

/// The projected codes of [`known`] other than the UTM families.
const PROJECTED: [u32; 14] = [
    3857, 3395, 3413, 3031, 3995, 3976, 6931, 6932, 3035, 3034, 2154, 5070, 27700, 3577,
];

/// Every code [`known`] answers, described for error messages.
pub(crate) const KNOWN_DESCRIPTION: &str =
    "4326, 4258, 4269, 4171, 4283, 4277, 4267, 4674, 7844, 4167, 4230, 4322, 4314, 4284 \
(geographic), 3857, 3395, 32601–32660 and 32701–32760 (WGS 84 / UTM), 25828–25838 \
(ETRS89 / UTM), 26901–26923 (NAD83 / UTM), 26701–26722 (NAD27 / UTM), 23028–23038 \
(ED50 / UTM), 31965–31985 (SIRGAS 2000 / UTM), 28348–28358 (GDA94 / MGA), 7846–7859 \
(GDA2020 / MGA), 3413, 3031, 3995, 3976, 6931, 6932, 3035, 3034, 2154, 5070, 27700, 3577";

fn lonlat(geog: Geog) -> Known {
    Known {
        def: Definition {
            method: Method::LonLat,
            ellipsoid: geog.ellipsoid,
        },
        name: geog.name.to_string(),
        conversion: String::new(),
        geog,
        axes: Axes::LatLon,
    }
}

fn projected(geog: Geog, name: &str, conversion: &str, method: Method, axes: Axes) -> Known {
    Known {
        def: Definition {
            method,
            ellipsoid: geog.ellipsoid,
        },
        name: name.to_string(),
        conversion: conversion.to_string(),
        geog,
        axes,
    }
}

fn utm(geog: Geog, zone: u32, south: bool) -> Known {
    let hemi = if south { 'S' } else { 'N' };
    let conv = format!("UTM zone {zone}{hemi}");
    projected(
        geog,
        &format!("{} / {conv}", geog.name),
        &conv,
        Method::TransverseMercator {
            lat0: 0.0,
            lon0: f64::from(zone) * 6.0 - 183.0,
            k0: 0.9996,
            fe: 500_000.0,
            fn_: if south { 10_000_000.0 } else { 0.0 },
        },
        EN,
    )
}

/// A Map Grid of Australia zone: UTM south on GDA94 or GDA2020.
fn mga(geog: Geog, zone: u32) -> Known {
    let mut k = utm(geog, zone, true);
    k.name = format!("{} / MGA zone {zone}", geog.name);
    k.conversion = format!("Map Grid of Australia zone {zone}");
    k
}

fn polar_b(name: &str, conv: &str, north: bool, lon0: f64, lat_ts: f64, axes: Axes) -> Known {
    projected(
        WGS84,
        name,
        conv,
        Method::PolarStereographic {
            north,
            lon0,
            lat_ts: Some(lat_ts),
            k0: 1.0,
            fe: 0.0,
            fn_: 0.0,
        },
        axes,
    )
}

fn laea(lat0: f64, lon0: f64, fe: f64, fn_: f64) -> Method {
    Method::LambertAzimuthalEqualArea {
        lat0,
        lon0,
        fe,
        fn_,
    }
}

/// The definition and WKT metadata of an EPSG code arco knows.
pub(crate) fn known(code: u32) -> Option<Known> {
    let k = match code {
        4326 => lonlat(WGS84),
        4258 => lonlat(ETRS89),
        4269 => lonlat(NAD83),
        4171 => lonlat(RGF93),
        4283 => lonlat(GDA94),
        4277 => lonlat(OSGB36),
        4267 => lonlat(NAD27),
        4674 => lonlat(SIRGAS2000),
        7844 => lonlat(GDA2020),
        4167 => lonlat(NZGD2000),
        4230 => lonlat(ED50),
        4322 => lonlat(WGS72),
        4314 => lonlat(DHDN),
        4284 => lonlat(PULKOVO1942),
        32601..=32660 => utm(WGS84, code - 32600, false),
        32701..=32760 => utm(WGS84, code - 32700, true),
        25828..=25838 => utm(ETRS89, code - 25800, false),
        26901..=26923 => utm(NAD83, code - 26900, false),
        26701..=26722 => utm(NAD27, code - 26700, false),
        23028..=23038 => utm(ED50, code - 23000, false),
        // SIRGAS 2000: 31965–31976 are zones 11N–22N, 31977–31985 zones 17S–25S.
        31965..=31976 => utm(SIRGAS2000, code - 31965 + 11, false),
        31977..=31985 => utm(SIRGAS2000, code - 31977 + 17, true),
        28348..=28358 => mga(GDA94, code - 28300),
        7846..=7859 => mga(GDA2020, code - 7800),
        3857 => projected(
            WGS84,
            "WGS 84 / Pseudo-Mercator",
            "Popular Visualisation Pseudo-Mercator",
            Method::WebMercator,
            XY,
        ),
        3395 => projected(
            WGS84,
            "WGS 84 / World Mercator",
            "World Mercator",
            Method::Mercator {
                lon0: 0.0,
                scale: MercatorScale::K0(1.0),
                fe: 0.0,
                fn_: 0.0,
            },
            EN,
        ),
        3413 => polar_b(
            "WGS 84 / NSIDC Sea Ice Polar Stereographic North",
            "US NSIDC Sea Ice polar stereographic north",
            true,
            -45.0,
            70.0,
            polar("easting (X)", "northing (Y)", "south", 45.0, 135.0),
        ),
        3031 => polar_b(
            "WGS 84 / Antarctic Polar Stereographic",
            "Antarctic Polar Stereographic",
            false,
            0.0,
            -71.0,
            polar("(E)", "(N)", "north", 90.0, 0.0),
        ),
        3995 => polar_b(
            "WGS 84 / Arctic Polar Stereographic",
            "Arctic Polar Stereographic",
            true,
            0.0,
            71.0,
            polar("easting (X)", "northing (Y)", "south", 90.0, 180.0),
        ),
        3976 => polar_b(
            "WGS 84 / NSIDC Sea Ice Polar Stereographic South",
            "US NSIDC Sea Ice polar stereographic south",
            false,
            0.0,
            -70.0,
            polar("easting (X)", "northing (Y)", "north", 90.0, 0.0),
        ),
        6931 => projected(
            WGS84,
            "WGS 84 / NSIDC EASE-Grid 2.0 North",
            "US NSIDC EASE-Grid 2.0 North",
            laea(90.0, 0.0, 0.0, 0.0),
            polar("easting (X)", "northing (Y)", "south", 90.0, 180.0),
        ),
        6932 => projected(
            WGS84,
            "WGS 84 / NSIDC EASE-Grid 2.0 South",
            "US NSIDC EASE-Grid 2.0 South",
            laea(-90.0, 0.0, 0.0, 0.0),
            polar("easting (X)", "northing (Y)", "north", 90.0, 0.0),
        ),
        3035 => projected(
            ETRS89,
            "ETRS89-extended / LAEA Europe",
            "Europe Equal Area 2001",
            laea(52.0, 10.0, 4_321_000.0, 3_210_000.0),
            Axes::Projected {
                first: ("northing (Y)", "north", None),
                second: ("easting (X)", "east", None),
                northing_first: true,
            },
        ),
        3034 => projected(
            ETRS89,
            "ETRS89-extended / LCC Europe",
            "Europe Conformal 2001",
            Method::LambertConformal {
                lat0: 52.0,
                lon0: 10.0,
                lat1: 35.0,
                lat2: Some(65.0),
                k0: 1.0,
                fe: 4_000_000.0,
                fn_: 2_800_000.0,
            },
            Axes::Projected {
                first: ("northing (N)", "north", None),
                second: ("easting (E)", "east", None),
                northing_first: true,
            },
        ),
        2154 => projected(
            RGF93,
            "RGF93 v1 / Lambert-93",
            "Lambert-93",
            Method::LambertConformal {
                lat0: 46.5,
                lon0: 3.0,
                lat1: 49.0,
                lat2: Some(44.0),
                k0: 1.0,
                fe: 700_000.0,
                fn_: 6_600_000.0,
            },
            XY,
        ),
        5070 => projected(
            NAD83,
            "NAD83 / Conus Albers",
            "Conus Albers",
            Method::AlbersEqualArea {
                lat0: 23.0,
                lon0: -96.0,
                lat1: 29.5,
                lat2: 45.5,
                fe: 0.0,
                fn_: 0.0,
            },
            XY,
        ),
        3577 => projected(
            GDA94,
            "GDA94 / Australian Albers",
            "Australian Albers",
            Method::AlbersEqualArea {
                lat0: 0.0,
                lon0: 132.0,
                lat1: -18.0,
                lat2: -36.0,
                fe: 0.0,
                fn_: 0.0,
            },
            EN,
        ),
        27700 => projected(
            OSGB36,
            "OSGB36 / British National Grid",
            "British National Grid",
            Method::TransverseMercator {
                lat0: 49.0,
                lon0: -2.0,
                k0: 0.999_601_271_7,
                fe: 400_000.0,
                fn_: -100_000.0,
            },
            EN,
        ),
        _ => return None,
    };
    Some(k)
}

/// The EPSG code of a definition, where it is unambiguously one arco knows.
/// (A definition on GRS 1980 could be ETRS89, NAD83 or another datum: only
/// the projected codes whose parameters are unique to one datum match.)
pub(crate) fn recognize(def: &Definition) -> Option<u32> {
    match def.method {
        Method::LonLat => {
            return def.ellipsoid.approx_eq(&Ellipsoid::WGS84).then_some(4326);
        }
        Method::TransverseMercator { lon0, .. } if def.ellipsoid.approx_eq(&Ellipsoid::WGS84) => {
            let zone = ((lon0 + 183.0) / 6.0).round();
            if (1.0..=60.0).contains(&zone) {
                // `zone` is an integer in 1..=60 here.
                let z = zone as u32;
                for code in [32600 + z, 32700 + z] {
                    if known(code).is_some_and(|k| k.def.approx_eq(def)) {
                        return Some(code);
                    }
                }
            }
        }
        _ => {}
    }
    PROJECTED
        .iter()
        .copied()
        .find(|&c| known(c).is_some_and(|k| k.def.approx_eq(def)))
}
