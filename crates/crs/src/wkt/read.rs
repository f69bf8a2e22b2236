//! Interpreting a WKT tree (WKT1 as GDAL and ESRI write it, or WKT2) as a
//! [`Definition`].

use super::parse::{parse, Node};
use crate::ellipsoid::Ellipsoid;
use crate::method::{Definition, MercatorScale, Method};
use crate::{Error, Result};

const DEG: f64 = std::f64::consts::PI / 180.0;

/// A parameter, whatever the name it goes by.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Key {
    LatNat,
    LonNat,
    K0,
    Fe,
    Fn,
    LatFalse,
    LonFalse,
    Lat1,
    Lat2,
    LatTs,
    LonOrigin,
    Height,
    PoleLat,
    PoleLon,
    NorthPoleGridLon,
    OLatP,
    OLonP,
    ObTranLon0,
}

impl Key {
    fn from_epsg(code: u32) -> Option<Key> {
        Some(match code {
            8801 => Key::LatNat,
            8802 => Key::LonNat,
            8805 => Key::K0,
            8806 | 8826 => Key::Fe,
            8807 | 8827 => Key::Fn,
            8821 => Key::LatFalse,
            8822 => Key::LonFalse,
            8823 => Key::Lat1,
            8824 => Key::Lat2,
            8832 => Key::LatTs,
            8833 => Key::LonOrigin,
            _ => return None,
        })
    }

    fn from_name(norm: &str) -> Option<Key> {
        Some(match norm {
            "latitudeofnaturalorigin"
            | "latitudeoforigin"
            | "latitudeofcenter"
            | "latitudeofcentre"
            | "latitudeofprojectioncentre" => Key::LatNat,
            "longitudeofnaturalorigin"
            | "centralmeridian"
            | "longitudeofcenter"
            | "longitudeofcentre"
            | "longitudeofprojectioncentre" => Key::LonNat,
            "scalefactoratnaturalorigin" | "scalefactor" => Key::K0,
            "falseeasting" | "eastingatfalseorigin" => Key::Fe,
            "falsenorthing" | "northingatfalseorigin" => Key::Fn,
            "latitudeoffalseorigin" => Key::LatFalse,
            "longitudeoffalseorigin" => Key::LonFalse,
            "latitudeof1ststandardparallel" | "standardparallel1" => Key::Lat1,
            "latitudeof2ndstandardparallel" | "standardparallel2" => Key::Lat2,
            "latitudeofstandardparallel" => Key::LatTs,
            "longitudeoforigin" => Key::LonOrigin,
            "satelliteheight" => Key::Height,
            "gridnorthpolelatitudenetcdfcfconvention" => Key::PoleLat,
            "gridnorthpolelongitudenetcdfcfconvention" => Key::PoleLon,
            "northpolegridlongitudenetcdfcfconvention" => Key::NorthPoleGridLon,
            "olatp" => Key::OLatP,
            "olonp" => Key::OLonP,
            "lon0" => Key::ObTranLon0,
            _ => return None,
        })
    }

    fn kind(self) -> Quantity {
        match self {
            Key::K0 => Quantity::Scale,
            Key::Fe | Key::Fn | Key::Height => Quantity::Length,
            _ => Quantity::Angle,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Quantity {
    Angle,
    Length,
    Scale,
}

/// Lower-case letters and digits only: `Lambert_Conformal_Conic_2SP` and
/// `Lambert Conformal Conic (2SP)` compare equal.
pub(crate) fn normalize(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The factor of a unit node (`UNIT["degree",0.0174...]`), if any.
fn unit_factor(n: &Node, keywords: &[&str]) -> Option<f64> {
    n.child(keywords).and_then(|u| u.number(0))
}

struct Params {
    values: Vec<(Key, f64)>,
}

impl Params {
    fn get(&self, keys: &[Key]) -> Option<f64> {
        keys.iter()
            .find_map(|k| self.values.iter().find(|(kk, _)| kk == k).map(|(_, v)| *v))
    }
}

fn unsupported(name: &str, reason: impl Into<String>) -> Error {
    Error::Unsupported {
        name: name.to_string(),
        reason: reason.into(),
    }
}

/// The definition a WKT text describes, and the EPSG code at its root.
pub(crate) fn read(text: &str) -> Result<(Definition, Option<u32>)> {
    let root = parse(text).map_err(|reason| Error::Parse {
        format: "WKT",
        reason,
    })?;
    let crs = horizontal(&root)?;
    let epsg = crs.epsg();
    // GDAL's WKT1 carries what it cannot say (EPSG:3857, the geostationary
    // sweep axis) as a PROJ string: that is the definition.
    if let Some(ext) = crs.child(&["EXTENSION"]) {
        let mut strings = ext.args.iter().filter_map(|a| match a {
            super::parse::Value::Str(s) => Some(s.as_str()),
            _ => None,
        });
        if strings
            .next()
            .is_some_and(|k| k.eq_ignore_ascii_case("PROJ4"))
        {
            if let Some(proj) = strings.next() {
                let (def, _) = crate::proj4::read(proj)?;
                return Ok((def, epsg));
            }
        }
    }
    let name = crs.name().unwrap_or(crs.keyword.as_str()).to_string();
    let ellipsoid = ellipsoid(crs, &name)?;
    if let Some(pm) = crs.find(&["PRIMEM", "PRIMEMERIDIAN"]) {
        if pm.number(0).is_some_and(|v| v != 0.0) {
            return Err(unsupported(
                &name,
                "a prime meridian other than Greenwich is not supported",
            ));
        }
    }
    let method = match crs.keyword.as_str() {
        "GEOGCS" | "GEOGCRS" | "GEOGRAPHICCRS" | "GEODCRS" | "GEODETICCRS" => {
            if let Some(conv) = crs.child(&["DERIVINGCONVERSION"]) {
                rotated(conv, &name)?
            } else {
                if crs
                    .child(&["CS"])
                    .is_some_and(|cs| cs.args.iter().any(|a| matches!(a, super::parse::Value::Word(w) if w.eq_ignore_ascii_case("cartesian"))))
                {
                    return Err(unsupported(&name, "geocentric (Cartesian) CRSs are not supported"));
                }
                Method::LonLat
            }
        }
        "PROJCS" | "PROJCRS" | "PROJECTEDCRS" => projected(crs, &name)?,
        other => {
            return Err(unsupported(
                &name,
                format!("`{other}` is not a geographic or projected CRS"),
            ))
        }
    };
    Ok((Definition { method, ellipsoid }, epsg))
}

/// The horizontal CRS inside bound and compound CRSs.
fn horizontal(root: &Node) -> Result<&Node> {
    match root.keyword.as_str() {
        "BOUNDCRS" => root
            .child(&["SOURCECRS"])
            .and_then(|s| s.children().next())
            .ok_or_else(|| unsupported("BOUNDCRS", "it has no SOURCECRS")),
        "COMPOUNDCRS" | "COMPD_CS" => root
            .children()
            .find(|c| {
                matches!(
                    c.keyword.as_str(),
                    "GEOGCS" | "GEOGCRS" | "GEODCRS" | "PROJCS" | "PROJCRS" | "BOUNDCRS"
                )
            })
            .map_or_else(
                || Err(unsupported("COMPOUNDCRS", "it has no horizontal CRS")),
                horizontal,
            ),
        _ => Ok(root),
    }
}

fn ellipsoid(crs: &Node, name: &str) -> Result<Ellipsoid> {
    let Some(e) = crs.find(&["ELLIPSOID", "SPHEROID"]) else {
        return Err(unsupported(name, "the WKT has no ELLIPSOID (or SPHEROID)"));
    };
    let (Some(a), Some(rf)) = (e.number(0), e.number(1)) else {
        return Err(unsupported(
            name,
            "its ELLIPSOID lacks the semi-major axis or inverse flattening",
        ));
    };
    let factor = unit_factor(e, &["LENGTHUNIT", "UNIT"]).unwrap_or(1.0);
    let a = a * factor;
    Ok(if rf == 0.0 {
        Ellipsoid::sphere(a)
    } else {
        Ellipsoid {
            a,
            inv_flattening: rf,
        }
    })
}

/// Collect the PARAMETERs of `holder` (a WKT2 CONVERSION or a WKT1 PROJCS),
/// in degrees and metres.
fn params(holder: &Node, wkt1_angle: f64, wkt1_length: f64) -> Params {
    let mut values = Vec::new();
    for p in holder.children().filter(|c| c.keyword == "PARAMETER") {
        let (Some(pname), Some(v)) = (p.name(), p.number(0)) else {
            continue;
        };
        let key = p
            .epsg()
            .and_then(Key::from_epsg)
            .or_else(|| Key::from_name(&normalize(pname)));
        let Some(key) = key else { continue };
        let v = match key.kind() {
            Quantity::Angle => {
                let f = unit_factor(p, &["ANGLEUNIT", "UNIT"]).unwrap_or(wkt1_angle);
                if (f - DEG).abs() < 1e-15 {
                    v
                } else {
                    v * f / DEG
                }
            }
            Quantity::Length => v * unit_factor(p, &["LENGTHUNIT", "UNIT"]).unwrap_or(wkt1_length),
            Quantity::Scale => v * unit_factor(p, &["SCALEUNIT", "UNIT"]).unwrap_or(1.0),
        };
        values.push((key, v));
    }
    Params { values }
}

fn rotated(conv: &Node, name: &str) -> Result<Method> {
    let method = conv
        .child(&["METHOD"])
        .and_then(Node::name)
        .map(normalize)
        .unwrap_or_default();
    let p = params(conv, DEG, 1.0);
    let missing = |what: &str| unsupported(name, format!("its pole rotation lacks `{what}`"));
    match method.as_str() {
        "polerotationnetcdfcfconvention" => Ok(Method::RotatedPole {
            pole_lat: p
                .get(&[Key::PoleLat])
                .ok_or_else(|| missing("Grid north pole latitude"))?,
            pole_lon: p
                .get(&[Key::PoleLon])
                .ok_or_else(|| missing("Grid north pole longitude"))?,
            north_pole_grid_lon: p.get(&[Key::NorthPoleGridLon]).unwrap_or(0.0),
        }),
        m if m.starts_with("projobtran") => Ok(Method::RotatedPole {
            pole_lat: p.get(&[Key::OLatP]).ok_or_else(|| missing("o_lat_p"))?,
            pole_lon: p.get(&[Key::ObTranLon0]).unwrap_or(0.0) - 180.0,
            north_pole_grid_lon: p.get(&[Key::OLonP]).unwrap_or(0.0),
        }),
        _ => Err(unsupported(
            name,
            format!("the deriving conversion `{method}` is not a pole rotation"),
        )),
    }
}

fn projected(crs: &Node, name: &str) -> Result<Method> {
    // WKT1: angles in the GEOGCS unit, lengths in the PROJCS unit.
    let angle = crs
        .child(&["GEOGCS"])
        .and_then(|g| unit_factor(g, &["UNIT", "ANGLEUNIT"]))
        .unwrap_or(DEG);
    let length = unit_factor(crs, &["UNIT", "LENGTHUNIT"]).unwrap_or(1.0);
    // The unit of the projected coordinates themselves.
    let cs_unit = crs
        .children()
        .filter(|c| c.keyword == "AXIS")
        .find_map(|a| unit_factor(a, &["LENGTHUNIT", "UNIT"]))
        .unwrap_or(length);
    if (cs_unit - 1.0).abs() > 1e-12 {
        return Err(unsupported(
            name,
            format!("its coordinates are in units of {cs_unit} m; only metres are supported"),
        ));
    }
    let (method_name, method_code, p) = if let Some(conv) = crs.child(&["CONVERSION"]) {
        let m = conv.child(&["METHOD"]);
        (
            m.and_then(Node::name).unwrap_or_default().to_string(),
            m.and_then(Node::epsg),
            params(conv, DEG, 1.0),
        )
    } else {
        let proj = crs.child(&["PROJECTION"]);
        (
            proj.and_then(Node::name).unwrap_or_default().to_string(),
            proj.and_then(Node::epsg),
            params(crs, angle, length),
        )
    };
    let norm = normalize(&method_name);
    let need = |keys: &[Key], what: &str| {
        p.get(keys).ok_or_else(|| {
            unsupported(
                name,
                format!("its `{method_name}` conversion lacks the parameter `{what}`"),
            )
        })
    };
    let lat0 = || p.get(&[Key::LatFalse, Key::LatNat]).unwrap_or(0.0);
    let lon0 = || {
        p.get(&[Key::LonFalse, Key::LonNat, Key::LonOrigin])
            .unwrap_or(0.0)
    };
    let k0 = || p.get(&[Key::K0]).unwrap_or(1.0);
    let fe = p.get(&[Key::Fe]).unwrap_or(0.0);
    let fn_ = p.get(&[Key::Fn]).unwrap_or(0.0);
    let m = match (method_code, norm.as_str()) {
        (Some(9807), _) | (_, "transversemercator" | "gausskruger") => Method::TransverseMercator {
            lat0: lat0(),
            lon0: lon0(),
            k0: k0(),
            fe,
            fn_,
        },
        (Some(9804), _) | (_, "mercator1sp" | "mercatorvarianta") => Method::Mercator {
            lon0: lon0(),
            scale: MercatorScale::K0(k0()),
            fe,
            fn_,
        },
        (Some(9805), _) | (_, "mercator2sp" | "mercatorvariantb") => Method::Mercator {
            lon0: lon0(),
            scale: MercatorScale::LatTs(p.get(&[Key::Lat1, Key::LatTs]).unwrap_or(0.0)),
            fe,
            fn_,
        },
        (_, "mercator") => Method::Mercator {
            lon0: lon0(),
            scale: match p.get(&[Key::Lat1, Key::LatTs]) {
                Some(ts) => MercatorScale::LatTs(ts),
                None => MercatorScale::K0(k0()),
            },
            fe,
            fn_,
        },
        (Some(1024 | 3856), _) | (_, "popularvisualisationpseudomercator") => Method::WebMercator,
        (Some(9801), _) | (_, "lambertconformalconic1sp" | "lambertconicconformal1sp") => {
            let lat = need(&[Key::LatNat], "latitude of natural origin")?;
            Method::LambertConformal {
                lat0: lat,
                lon0: lon0(),
                lat1: lat,
                lat2: None,
                k0: k0(),
                fe,
                fn_,
            }
        }
        (Some(1102), _) | (_, "lambertconicconformal1spvariantb") => Method::LambertConformal {
            lat0: need(&[Key::LatFalse], "latitude of false origin")?,
            lon0: lon0(),
            lat1: need(&[Key::LatNat], "latitude of natural origin")?,
            lat2: None,
            k0: k0(),
            fe,
            fn_,
        },
        (Some(9802), _)
        | (_, "lambertconformalconic2sp" | "lambertconicconformal2sp" | "lambertconformalconic") => {
            let lat1 = need(&[Key::Lat1], "standard parallel 1")?;
            Method::LambertConformal {
                lat0: lat0(),
                lon0: lon0(),
                lat1,
                lat2: Some(p.get(&[Key::Lat2]).unwrap_or(lat1)),
                k0: k0(),
                fe,
                fn_,
            }
        }
        (Some(9810), _) | (_, "polarstereographicvarianta") => {
            let lat = need(&[Key::LatNat], "latitude of natural origin")?;
            Method::PolarStereographic {
                north: lat > 0.0,
                lon0: lon0(),
                lat_ts: None,
                k0: k0(),
                fe,
                fn_,
            }
        }
        (Some(9829), _) | (_, "polarstereographicvariantb") => {
            let ts = need(&[Key::LatTs], "latitude of standard parallel")?;
            Method::PolarStereographic {
                north: ts > 0.0,
                lon0: lon0(),
                lat_ts: Some(ts),
                k0: 1.0,
                fe,
                fn_,
            }
        }
        (_, "polarstereographic") => {
            // GDAL's WKT1: latitude_of_origin is ±90 (variant A, with a
            // scale factor) or the standard parallel (variant B).
            let lat = need(&[Key::LatNat, Key::LatTs], "latitude_of_origin")?;
            let a = (lat.abs() - 90.0).abs() < 1e-12;
            Method::PolarStereographic {
                north: lat > 0.0,
                lon0: lon0(),
                lat_ts: (!a).then_some(lat),
                k0: if a { k0() } else { 1.0 },
                fe,
                fn_,
            }
        }
        (_, "stereographic") => Method::Stereographic {
            lat0: lat0(),
            lon0: lon0(),
            k0: k0(),
            fe,
            fn_,
        },
        (Some(9820 | 1027), _)
        | (_, "lambertazimuthalequalarea" | "lambertazimuthalequalareaspherical") => {
            Method::LambertAzimuthalEqualArea {
                lat0: lat0(),
                lon0: lon0(),
                fe,
                fn_,
            }
        }
        (Some(9822), _) | (_, "albersequalarea" | "albersconicequalarea") => {
            let lat1 = need(&[Key::Lat1], "standard parallel 1")?;
            Method::AlbersEqualArea {
                lat0: lat0(),
                lon0: lon0(),
                lat1,
                lat2: p.get(&[Key::Lat2]).unwrap_or(lat1),
                fe,
                fn_,
            }
        }
        (
            _,
            "geostationarysatellitesweepx"
            | "geostationarysatellitesweepy"
            | "geostationarysatellite",
        ) => Method::Geostationary {
            lon0: lon0(),
            height: need(&[Key::Height], "satellite height")?,
            sweep_x: norm.ends_with("sweepx"),
            fe,
            fn_,
        },
        (_, "sinusoidal") => Method::Sinusoidal {
            lon0: lon0(),
            fe,
            fn_,
        },
        _ => {
            return Err(unsupported(
                name,
                format!(
                    "the projection method `{method_name}` is not supported; supported: {}",
                    crate::SUPPORTED_METHODS
                ),
            ))
        }
    };
    Ok(m)
}
