//! OGC WKT: writing WKT2-2019 for every supported definition, and reading
//! the common WKT1 (GDAL, ESRI) and WKT2 forms back.

mod parse;
mod read;

pub(crate) use parse::top_level_epsg;
pub(crate) use read::{normalize as normalize_name, read};

use crate::epsg::{self, Axes, Geog};
use crate::method::{Definition, MercatorScale, Method};
use std::fmt::Write;

const DEGREE: &str = "ANGLEUNIT[\"degree\",0.0174532925199433]";
const METRE: &str = "LENGTHUNIT[\"metre\",1]";
const UNITY: &str = "SCALEUNIT[\"unity\",1]";

#[derive(Clone, Copy)]
enum Unit {
    Degree,
    Metre,
    Unity,
}

/// One parameter of a conversion: name, EPSG code, value, unit.
type Param = (&'static str, Option<u32>, f64, Unit);

/// A number as WKT wants it: shortest round-trip decimal, no `-0`.
fn num(v: f64) -> String {
    format!("{}", v + 0.0)
}

fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The method name, its EPSG code and its parameters, or `None` where the
/// definition has no WKT method that means the same.
fn conversion(method: &Method) -> Option<(&'static str, Option<u32>, Vec<Param>)> {
    use Unit::{Degree as D, Metre as M, Unity as U};
    let fe_fn = |fe: f64, fn_: f64| -> [Param; 2] {
        [
            ("False easting", Some(8806), fe, M),
            ("False northing", Some(8807), fn_, M),
        ]
    };
    let at_false = |fe: f64, fn_: f64| -> [Param; 2] {
        [
            ("Easting at false origin", Some(8826), fe, M),
            ("Northing at false origin", Some(8827), fn_, M),
        ]
    };
    let nat = |lat: f64, lon: f64| -> [Param; 2] {
        [
            ("Latitude of natural origin", Some(8801), lat, D),
            ("Longitude of natural origin", Some(8802), lon, D),
        ]
    };
    let k = |k0: f64| -> Param { ("Scale factor at natural origin", Some(8805), k0, U) };
    let out = match *method {
        Method::LonLat | Method::RotatedPole { .. } => return None,
        Method::TransverseMercator {
            lat0,
            lon0,
            k0,
            fe,
            fn_,
        } => {
            let mut p = nat(lat0, lon0).to_vec();
            p.push(k(k0));
            p.extend(fe_fn(fe, fn_));
            ("Transverse Mercator", Some(9807), p)
        }
        Method::Mercator {
            lon0,
            scale: MercatorScale::K0(k0),
            fe,
            fn_,
        } => {
            let mut p = nat(0.0, lon0).to_vec();
            p.push(k(k0));
            p.extend(fe_fn(fe, fn_));
            ("Mercator (variant A)", Some(9804), p)
        }
        Method::Mercator {
            lon0,
            scale: MercatorScale::LatTs(ts),
            fe,
            fn_,
        } => {
            let mut p = vec![
                ("Latitude of 1st standard parallel", Some(8823), ts, D),
                ("Longitude of natural origin", Some(8802), lon0, D),
            ];
            p.extend(fe_fn(fe, fn_));
            ("Mercator (variant B)", Some(9805), p)
        }
        Method::WebMercator => {
            let mut p = nat(0.0, 0.0).to_vec();
            p.extend(fe_fn(0.0, 0.0));
            ("Popular Visualisation Pseudo Mercator", Some(1024), p)
        }
        Method::LambertConformal {
            lat0,
            lon0,
            lat1,
            lat2: Some(lat2),
            k0,
            fe,
            fn_,
        } => {
            if (k0 - 1.0).abs() > 1e-12 {
                return None;
            }
            let mut p = vec![
                ("Latitude of false origin", Some(8821), lat0, D),
                ("Longitude of false origin", Some(8822), lon0, D),
                ("Latitude of 1st standard parallel", Some(8823), lat1, D),
                ("Latitude of 2nd standard parallel", Some(8824), lat2, D),
            ];
            p.extend(at_false(fe, fn_));
            ("Lambert Conic Conformal (2SP)", Some(9802), p)
        }
        Method::LambertConformal {
            lat0,
            lon0,
            lat1,
            lat2: None,
            k0,
            fe,
            fn_,
        } => {
            if lat0 == lat1 {
                let mut p = nat(lat1, lon0).to_vec();
                p.push(k(k0));
                p.extend(fe_fn(fe, fn_));
                ("Lambert Conic Conformal (1SP)", Some(9801), p)
            } else {
                let mut p = vec![
                    ("Latitude of natural origin", Some(8801), lat1, D),
                    k(k0),
                    ("Latitude of false origin", Some(8821), lat0, D),
                    ("Longitude of false origin", Some(8822), lon0, D),
                ];
                p.extend(at_false(fe, fn_));
                ("Lambert Conic Conformal (1SP variant B)", Some(1102), p)
            }
        }
        Method::PolarStereographic {
            north,
            lon0,
            lat_ts: None,
            k0,
            fe,
            fn_,
        } => {
            let mut p = nat(if north { 90.0 } else { -90.0 }, lon0).to_vec();
            p.push(k(k0));
            p.extend(fe_fn(fe, fn_));
            ("Polar Stereographic (variant A)", Some(9810), p)
        }
        Method::PolarStereographic {
            lon0,
            lat_ts: Some(ts),
            fe,
            fn_,
            ..
        } => {
            let mut p = vec![
                ("Latitude of standard parallel", Some(8832), ts, D),
                ("Longitude of origin", Some(8833), lon0, D),
            ];
            p.extend(fe_fn(fe, fn_));
            ("Polar Stereographic (variant B)", Some(9829), p)
        }
        Method::Stereographic {
            lat0,
            lon0,
            k0,
            fe,
            fn_,
        } => {
            let mut p = nat(lat0, lon0).to_vec();
            p.push(k(k0));
            p.extend(fe_fn(fe, fn_));
            ("Stereographic", None, p)
        }
        Method::LambertAzimuthalEqualArea {
            lat0,
            lon0,
            fe,
            fn_,
        } => {
            let mut p = nat(lat0, lon0).to_vec();
            p.extend(fe_fn(fe, fn_));
            ("Lambert Azimuthal Equal Area", Some(9820), p)
        }
        Method::AlbersEqualArea {
            lat0,
            lon0,
            lat1,
            lat2,
            fe,
            fn_,
        } => {
            let mut p = vec![
                ("Latitude of false origin", Some(8821), lat0, D),
                ("Longitude of false origin", Some(8822), lon0, D),
                ("Latitude of 1st standard parallel", Some(8823), lat1, D),
                ("Latitude of 2nd standard parallel", Some(8824), lat2, D),
            ];
            p.extend(at_false(fe, fn_));
            ("Albers Equal Area", Some(9822), p)
        }
        Method::Geostationary {
            lon0,
            height,
            sweep_x,
            fe,
            fn_,
        } => {
            let mut p = vec![("Satellite height", None, height, M)];
            p.extend(nat(0.0, lon0));
            p.extend(fe_fn(fe, fn_));
            let name = if sweep_x {
                "Geostationary Satellite (Sweep X)"
            } else {
                "Geostationary Satellite (Sweep Y)"
            };
            (name, None, p)
        }
        Method::Sinusoidal { lon0, fe, fn_ } => {
            let mut p = vec![("Longitude of natural origin", Some(8802), lon0, D)];
            p.extend(fe_fn(fe, fn_));
            ("Sinusoidal", None, p)
        }
    };
    Some(out)
}

fn id(code: u32) -> String {
    format!("ID[\"EPSG\",{code}]")
}

/// `DATUM[...],PRIMEM[...]` of a geographic CRS.
fn datum_and_primem(g: &Geog) -> String {
    let e = g.ellipsoid;
    let ename = e.known_name().map_or("unknown", |(n, _)| n);
    format!(
        "DATUM[{},ELLIPSOID[{},{},{},{METRE}]],PRIMEM[\"Greenwich\",0,{DEGREE}]",
        quoted(g.datum),
        quoted(ename),
        num(e.a),
        num(e.inv_flattening),
    )
}

fn base_geog(g: &Geog) -> String {
    let mut s = format!("BASEGEOGCRS[{},{}", quoted(g.name), datum_and_primem(g));
    if let Some(code) = g.code {
        let _ = write!(s, ",{}", id(code));
    }
    s.push(']');
    s
}

fn axes(a: Axes) -> String {
    let angle = |name: &str, dir: &str, order: u8| {
        format!("AXIS[{},{dir},ORDER[{order}],{DEGREE}]", quoted(name))
    };
    match a {
        Axes::LatLon => format!(
            "CS[ellipsoidal,2],{},{}",
            angle("geodetic latitude (Lat)", "north", 1),
            angle("geodetic longitude (Lon)", "east", 2)
        ),
        Axes::LonLat => format!(
            "CS[ellipsoidal,2],{},{}",
            angle("geodetic longitude (Lon)", "east", 1),
            angle("geodetic latitude (Lat)", "north", 2)
        ),
        Axes::Projected { first, second, .. } => {
            let one = |(name, dir, meridian): (&str, &str, Option<f64>), order: u8| {
                let m = meridian
                    .map(|m| format!("MERIDIAN[{},{DEGREE}],", num(m)))
                    .unwrap_or_default();
                format!("AXIS[{},{dir},{m}ORDER[{order}],{METRE}]", quoted(name))
            };
            format!("CS[Cartesian,2],{},{}", one(first, 1), one(second, 2))
        }
    }
}

/// The geographic CRS a definition rests on when no EPSG entry names it.
pub(crate) fn default_geog(def: &Definition) -> Geog {
    if def.ellipsoid.approx_eq(&epsg::WGS84.ellipsoid) {
        epsg::WGS84
    } else {
        Geog {
            name: "unknown",
            datum: "unknown",
            ellipsoid: def.ellipsoid,
            code: None,
        }
    }
}

/// WKT2-2019 for a definition (with the names and axes of its EPSG entry
/// when `epsg` is a code arco knows and the definition matches it).
pub(crate) fn write(def: &Definition, epsg: Option<u32>) -> Option<String> {
    let known = epsg.and_then(epsg::known).filter(|k| k.def.approx_eq(def));
    let geog = known.as_ref().map_or_else(|| default_geog(def), |k| k.geog);
    let trailer = epsg.map(|c| format!(",{}", id(c))).unwrap_or_default();
    match def.method {
        Method::LonLat => {
            let (name, ax) = match &known {
                Some(k) => (k.name.as_str(), k.axes),
                None => (geog.name, Axes::LonLat),
            };
            Some(format!(
                "GEOGCRS[{},{},{}{trailer}]",
                quoted(name),
                datum_and_primem(&geog),
                axes(ax)
            ))
        }
        Method::RotatedPole {
            pole_lat,
            pole_lon,
            north_pole_grid_lon,
        } => {
            let p = |name: &str, v: f64| format!("PARAMETER[{},{},{DEGREE}]", quoted(name), num(v));
            let method = "Pole rotation (netCDF CF convention)";
            Some(format!(
                "GEOGCRS[\"unknown\",{},DERIVINGCONVERSION[{},METHOD[{}],{},{},{}],\
                 CS[ellipsoidal,2],AXIS[\"rotated longitude\",east,ORDER[1],{DEGREE}],\
                 AXIS[\"rotated latitude\",north,ORDER[2],{DEGREE}]{trailer}]",
                base_geog(&geog),
                quoted(method),
                quoted(method),
                p("Grid north pole latitude (netCDF CF convention)", pole_lat),
                p("Grid north pole longitude (netCDF CF convention)", pole_lon),
                p(
                    "North pole grid longitude (netCDF CF convention)",
                    north_pole_grid_lon
                ),
            ))
        }
        ref m => {
            let (method, code, params) = conversion(m)?;
            let (name, conv, ax) = match &known {
                Some(k) => (k.name.clone(), k.conversion.clone(), k.axes),
                None => ("unknown".to_string(), "unknown".to_string(), epsg::EN),
            };
            let mut s = format!(
                "PROJCRS[{},{},CONVERSION[{},METHOD[{}",
                quoted(&name),
                base_geog(&geog),
                quoted(&conv),
                quoted(method)
            );
            if let Some(c) = code {
                let _ = write!(s, ",{}", id(c));
            }
            s.push(']');
            for (pname, pcode, value, unit) in params {
                let unit = match unit {
                    Unit::Degree => DEGREE,
                    Unit::Metre => METRE,
                    Unit::Unity => UNITY,
                };
                let _ = write!(s, ",PARAMETER[{},{},{unit}", quoted(pname), num(value));
                if let Some(c) = pcode {
                    let _ = write!(s, ",{}", id(c));
                }
                s.push(']');
            }
            let _ = write!(s, "],{}{trailer}]", axes(ax));
            Some(s)
        }
    }
}
