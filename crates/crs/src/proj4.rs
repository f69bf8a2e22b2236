//! PROJ strings (`+proj=lcc +lat_1=... +ellps=GRS80`) for the supported
//! projections.

use crate::ellipsoid::Ellipsoid;
use crate::method::{Definition, MercatorScale, Method};
use crate::{Error, Result};

/// The definition a PROJ string describes, and the EPSG code of an
/// `+init=epsg:NNNN` string.
pub(crate) fn read(text: &str) -> Result<(Definition, Option<u32>)> {
    let mut pairs: Vec<(&str, Option<&str>)> = Vec::new();
    for tok in text.split_whitespace() {
        let tok = tok.strip_prefix('+').unwrap_or(tok);
        if tok.is_empty() {
            continue;
        }
        match tok.split_once('=') {
            Some((k, v)) => pairs.push((k, Some(v))),
            None => pairs.push((tok, None)),
        }
    }
    let get = |k: &str| pairs.iter().find(|(kk, _)| *kk == k).map(|(_, v)| *v);
    let has = |k: &str| get(k).is_some();
    let proj = get("proj").flatten().unwrap_or_default();
    let parse_err = |reason: String| Error::Parse {
        format: "PROJ string",
        reason,
    };
    let num = |k: &str| -> Result<Option<f64>> {
        match get(k) {
            None => Ok(None),
            Some(None) => Err(parse_err(format!("`+{k}` has no value"))),
            Some(Some(v)) => parse_number(v)
                .map(Some)
                .ok_or_else(|| parse_err(format!("`+{k}={v}` is not a number"))),
        }
    };
    if let Some(Some(init)) = get("init") {
        let code = init
            .to_ascii_lowercase()
            .strip_prefix("epsg:")
            .and_then(|c| c.parse::<u32>().ok())
            .ok_or_else(|| parse_err(format!("`+init={init}`: only epsg:NNNN is understood")))?;
        let k = crate::epsg::known(code).ok_or_else(|| Error::Unsupported {
            name: format!("EPSG:{code}"),
            reason: format!(
                "not one of the codes arco knows: {}",
                crate::epsg::KNOWN_DESCRIPTION
            ),
        })?;
        return Ok((k.def, Some(code)));
    }
    if let Some(Some(units)) = get("units") {
        if units != "m" {
            return Err(Error::Unsupported {
                name: text.to_string(),
                reason: format!("`+units={units}`: only metres are supported"),
            });
        }
    }
    if num("to_meter")?.is_some_and(|f| f != 1.0) {
        return Err(Error::Unsupported {
            name: text.to_string(),
            reason: "`+to_meter`: only metres are supported".into(),
        });
    }
    if num("pm")?.is_some_and(|f| f != 0.0) {
        return Err(Error::Unsupported {
            name: text.to_string(),
            reason: "`+pm`: a prime meridian other than Greenwich is not supported".into(),
        });
    }
    // The ellipsoid: explicit sizes win over +ellps, which wins over +datum.
    let named = |n: &str| -> Option<Ellipsoid> {
        Some(match n {
            "WGS84" => Ellipsoid::WGS84,
            "GRS80" | "NAD83" | "ETRS89" => Ellipsoid::GRS80,
            "airy" | "OSGB36" => Ellipsoid::AIRY,
            "clrk66" | "NAD27" => Ellipsoid::CLARKE1866,
            "intl" => Ellipsoid::INTL1924,
            "bessel" => Ellipsoid::BESSEL1841,
            "WGS72" => Ellipsoid::WGS72,
            "krass" => Ellipsoid::KRASSOWSKY1940,
            "sphere" => Ellipsoid::sphere(6_370_997.0),
            _ => return None,
        })
    };
    let mut ellipsoid = Ellipsoid::WGS84;
    for key in ["datum", "ellps"] {
        if let Some(Some(n)) = get(key) {
            ellipsoid = named(n).ok_or_else(|| Error::Unsupported {
                name: text.to_string(),
                reason: format!(
                    "`+{key}={n}` is not a known ellipsoid; give +a and +rf (or +b) instead"
                ),
            })?;
        }
    }
    if let Some(r) = num("R")? {
        ellipsoid = Ellipsoid::sphere(r);
    } else if let Some(a) = num("a")? {
        ellipsoid = if let Some(rf) = num("rf")? {
            Ellipsoid {
                a,
                inv_flattening: rf,
            }
        } else if let Some(b) = num("b")? {
            Ellipsoid::from_axes(a, b)
        } else if let Some(f) = num("f")? {
            if f == 0.0 {
                Ellipsoid::sphere(a)
            } else {
                Ellipsoid {
                    a,
                    inv_flattening: 1.0 / f,
                }
            }
        } else if let Some(es) = num("es")? {
            Ellipsoid::from_axes(a, a * (1.0 - es).sqrt())
        } else if has("ellps") || has("datum") {
            Ellipsoid { a, ..ellipsoid }
        } else {
            Ellipsoid::sphere(a)
        };
    }
    let d = |k: &str| -> Result<f64> { Ok(num(k)?.unwrap_or(0.0)) };
    let k0 = || -> Result<f64> { Ok(num("k_0")?.or(num("k")?).unwrap_or(1.0)) };
    let (fe, fn_) = (d("x_0")?, d("y_0")?);
    let method = match proj {
        "longlat" | "latlong" | "lonlat" | "latlon" => Method::LonLat,
        "utm" => {
            let zone = num("zone")?.ok_or_else(|| parse_err("`+proj=utm` needs `+zone`".into()))?;
            if !(1.0..=60.0).contains(&zone) || zone.fract() != 0.0 {
                return Err(parse_err(format!(
                    "UTM zone {zone} is not an integer from 1 to 60"
                )));
            }
            Method::TransverseMercator {
                lat0: 0.0,
                lon0: zone * 6.0 - 183.0,
                k0: 0.9996,
                fe: 500_000.0,
                fn_: if has("south") { 10_000_000.0 } else { 0.0 },
            }
        }
        "tmerc" | "etmerc" => Method::TransverseMercator {
            lat0: d("lat_0")?,
            lon0: d("lon_0")?,
            k0: k0()?,
            fe,
            fn_,
        },
        "merc" => {
            let web = get("nadgrids") == Some(Some("@null"))
                && ellipsoid.is_sphere()
                && ellipsoid.a == 6_378_137.0;
            if web {
                // Spherical formulas, but longitudes and latitudes on WGS 84.
                ellipsoid = Ellipsoid::WGS84;
                Method::WebMercator
            } else {
                Method::Mercator {
                    lon0: d("lon_0")?,
                    scale: match num("lat_ts")? {
                        Some(ts) if ts != 0.0 || !(has("k") || has("k_0")) => {
                            MercatorScale::LatTs(ts)
                        }
                        _ => MercatorScale::K0(k0()?),
                    },
                    fe,
                    fn_,
                }
            }
        }
        "lcc" => {
            let lat1 =
                num("lat_1")?.ok_or_else(|| parse_err("`+proj=lcc` needs `+lat_1`".into()))?;
            let lat2 = num("lat_2")?;
            Method::LambertConformal {
                lat0: num("lat_0")?.unwrap_or(lat1),
                lon0: d("lon_0")?,
                lat1,
                lat2,
                k0: k0()?,
                fe,
                fn_,
            }
        }
        "stere" | "ups" => {
            let lat0 = if proj == "ups" {
                if has("south") {
                    -90.0
                } else {
                    90.0
                }
            } else {
                d("lat_0")?
            };
            let (fe, fn_, k) = if proj == "ups" {
                (2_000_000.0, 2_000_000.0, 0.994)
            } else {
                (fe, fn_, k0()?)
            };
            if (lat0.abs() - 90.0).abs() < 1e-10 {
                let ts = num("lat_ts")?.filter(|t| (t.abs() - 90.0).abs() >= 1e-10);
                Method::PolarStereographic {
                    north: lat0 > 0.0,
                    lon0: d("lon_0")?,
                    lat_ts: ts,
                    k0: if ts.is_some() { 1.0 } else { k },
                    fe,
                    fn_,
                }
            } else {
                Method::Stereographic {
                    lat0,
                    lon0: d("lon_0")?,
                    k0: k,
                    fe,
                    fn_,
                }
            }
        }
        "laea" => Method::LambertAzimuthalEqualArea {
            lat0: d("lat_0")?,
            lon0: d("lon_0")?,
            fe,
            fn_,
        },
        "aea" => {
            let lat1 =
                num("lat_1")?.ok_or_else(|| parse_err("`+proj=aea` needs `+lat_1`".into()))?;
            Method::AlbersEqualArea {
                lat0: d("lat_0")?,
                lon0: d("lon_0")?,
                lat1,
                lat2: num("lat_2")?.unwrap_or(lat1),
                fe,
                fn_,
            }
        }
        "geos" => Method::Geostationary {
            lon0: d("lon_0")?,
            height: num("h")?.ok_or_else(|| parse_err("`+proj=geos` needs `+h`".into()))?,
            sweep_x: get("sweep") == Some(Some("x")),
            fe,
            fn_,
        },
        "sinu" => Method::Sinusoidal {
            lon0: d("lon_0")?,
            fe,
            fn_,
        },
        "ob_tran" => {
            let o = get("o_proj").flatten().unwrap_or_default();
            if !matches!(o, "longlat" | "latlong" | "lonlat" | "latlon") {
                return Err(Error::Unsupported {
                    name: text.to_string(),
                    reason: format!("`+proj=ob_tran +o_proj={o}`: only o_proj=longlat (a rotated pole) is supported"),
                });
            }
            Method::RotatedPole {
                pole_lat: num("o_lat_p")?
                    .ok_or_else(|| parse_err("`+proj=ob_tran` needs `+o_lat_p`".into()))?,
                pole_lon: d("lon_0")? - 180.0,
                north_pole_grid_lon: d("o_lon_p")?,
            }
        }
        "" => return Err(parse_err("there is no `+proj=`".into())),
        other => {
            return Err(Error::Unsupported {
                name: format!("+proj={other}"),
                reason: format!(
                    "not a supported projection; supported: {}",
                    crate::SUPPORTED_METHODS
                ),
            })
        }
    };
    Ok((Definition { method, ellipsoid }, None))
}

/// A plain decimal number (PROJ's degree-minute-second forms are not accepted).
fn parse_number(v: &str) -> Option<f64> {
    v.trim().parse::<f64>().ok().filter(|x| x.is_finite())
}
