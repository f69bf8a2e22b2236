//! CF-1.11 grid mappings (Appendix F): the attributes of a grid-mapping
//! variable → a [`Definition`], plus the EPSG code its `epsg_code`,
//! `crs_wkt` or `spatial_ref` attribute names.

use crate::ellipsoid::Ellipsoid;
use crate::method::{Definition, MercatorScale, Method};
use crate::{Error, Result};
use arco_core::{AttrValue, Attribute, DType, Values};

/// The CF `grid_mapping_name`s [`read`] understands.
pub(crate) const SUPPORTED_MAPPINGS: &str = "latitude_longitude, rotated_latitude_longitude, \
albers_conical_equal_area, geostationary, lambert_azimuthal_equal_area, lambert_conformal_conic, \
mercator, polar_stereographic, sinusoidal, stereographic, transverse_mercator";

/// What the attributes of a grid-mapping variable say.
pub(crate) enum Parsed {
    /// A definition from `grid_mapping_name` and its parameters.
    Cf(Definition),
    /// No `grid_mapping_name`, but WKT in `crs_wkt` or `spatial_ref`.
    Wkt(String),
    /// Only an `epsg_code`.
    Epsg(u32),
}

struct Attrs<'a> {
    attrs: &'a [Attribute],
    mapping: String,
}

impl<'a> Attrs<'a> {
    fn get(&self, name: &str) -> Option<&'a AttrValue> {
        self.attrs.iter().find(|a| a.name == name).map(|a| &a.value)
    }

    fn text(&self, name: &str) -> Option<&'a str> {
        self.get(name)
            .and_then(AttrValue::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    fn err(&self, parameter: &str, reason: impl Into<String>) -> Error {
        Error::Parameter {
            mapping: self.mapping.clone(),
            parameter: parameter.to_string(),
            reason: reason.into(),
        }
    }

    /// Every number of an attribute (numeric, or text such as `"25, 30"`).
    fn numbers(&self, name: &str) -> Result<Option<Vec<f64>>> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        let values = match v {
            AttrValue::Text(t) => t
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .map(|s| s.parse::<f64>().ok())
                .collect::<Option<Vec<f64>>>(),
            AttrValue::Array(_) => v.as_f64_vec().or_else(|| {
                v.as_str().and_then(|s| {
                    s.split(|c: char| c == ',' || c.is_whitespace())
                        .filter(|s| !s.is_empty())
                        .map(|s| s.parse::<f64>().ok())
                        .collect()
                })
            }),
        };
        match values {
            Some(vs) if !vs.is_empty() && vs.iter().all(|x| x.is_finite()) => Ok(Some(vs)),
            _ => Err(self.err(name, "is not a finite number (or list of numbers)")),
        }
    }

    /// The first number of an attribute.
    fn number(&self, name: &str) -> Result<Option<f64>> {
        Ok(self.numbers(name)?.and_then(|v| v.first().copied()))
    }

    fn or(&self, name: &str, default: f64) -> Result<f64> {
        Ok(self.number(name)?.unwrap_or(default))
    }

    fn required(&self, name: &str) -> Result<f64> {
        self.number(name)?
            .ok_or_else(|| self.err(name, "is missing; CF requires it for this grid mapping"))
    }

    fn ellipsoid(&self) -> Result<Ellipsoid> {
        if let Some(pm) = self.number("longitude_of_prime_meridian")? {
            if pm != 0.0 {
                return Err(Error::Unsupported {
                    name: self.mapping.clone(),
                    reason: format!(
                        "longitude_of_prime_meridian = {pm}: only Greenwich (0) is supported"
                    ),
                });
            }
        }
        if let Some(r) = self.number("earth_radius")? {
            return Ok(Ellipsoid::sphere(r));
        }
        if let Some(a) = self.number("semi_major_axis")? {
            if let Some(rf) = self.number("inverse_flattening")? {
                return Ok(if rf == 0.0 {
                    Ellipsoid::sphere(a)
                } else {
                    Ellipsoid {
                        a,
                        inv_flattening: rf,
                    }
                });
            }
            if let Some(b) = self.number("semi_minor_axis")? {
                return Ok(Ellipsoid::from_axes(a, b));
            }
            // Only the semi-major axis: a sphere, as PROJ reads a lone +a.
            return Ok(Ellipsoid::sphere(a));
        }
        for name in ["semi_minor_axis", "inverse_flattening"] {
            if self.get(name).is_some() {
                return Err(self.err(
                    "semi_major_axis",
                    format!(
                        "is missing while {name} is given; add it (or earth_radius for a sphere)"
                    ),
                ));
            }
        }
        if let Some(name) = self.text("reference_ellipsoid_name") {
            return match crate::wkt::normalize_name(name).as_str() {
                "wgs84" => Ok(Ellipsoid::WGS84),
                "grs1980" | "grs80" => Ok(Ellipsoid::GRS80),
                "airy1830" => Ok(Ellipsoid::AIRY),
                "clarke1866" => Ok(Ellipsoid::CLARKE1866),
                "international1924" | "intl" => Ok(Ellipsoid::INTL1924),
                "bessel1841" | "bessel" => Ok(Ellipsoid::BESSEL1841),
                "wgs72" => Ok(Ellipsoid::WGS72),
                "krassowsky1940" | "krass" => Ok(Ellipsoid::KRASSOWSKY1940),
                _ => Err(self.err(
                    "reference_ellipsoid_name",
                    format!("`{name}` is not a known ellipsoid; give semi_major_axis and inverse_flattening"),
                )),
            };
        }
        Ok(Ellipsoid::WGS84)
    }

    /// `standard_parallel` as one or two values.
    fn parallels(&self) -> Result<(f64, Option<f64>)> {
        match self.numbers("standard_parallel")?.as_deref() {
            Some([one]) => Ok((*one, None)),
            Some([one, two]) => Ok((*one, Some(*two))),
            Some(_) => Err(self.err("standard_parallel", "must hold one or two latitudes")),
            None => Err(self.err(
                "standard_parallel",
                "is missing; CF requires it for this grid mapping",
            )),
        }
    }
}

/// The EPSG code named by `epsg_code` (`"EPSG:32633"` or a number),
/// `crs_wkt` or `spatial_ref`.
pub(crate) fn epsg_hint(attrs: &[Attribute]) -> Option<u32> {
    let a = Attrs {
        attrs,
        mapping: String::new(),
    };
    if let Some(v) = a.get("epsg_code") {
        let code = match v.as_str() {
            Some(s) => {
                let s = s.trim();
                let digits = s.rsplit_once(':').map_or(s, |(auth, c)| {
                    if auth.trim().eq_ignore_ascii_case("epsg") {
                        c
                    } else {
                        ""
                    }
                });
                digits.trim().parse::<u32>().ok()
            }
            None => v
                .as_f64()
                .filter(|x| x.fract() == 0.0 && *x > 0.0 && *x < f64::from(u32::MAX))
                // Integral and in range, checked above.
                .map(|x| x as u32),
        };
        if code.is_some() {
            return code;
        }
    }
    ["crs_wkt", "spatial_ref"]
        .iter()
        .filter_map(|n| a.text(n))
        .find_map(crate::wkt::top_level_epsg)
}

/// Read the attributes of a grid-mapping variable.
pub(crate) fn read(attrs: &[Attribute]) -> Result<Parsed> {
    let name = attrs
        .iter()
        .find(|a| a.name == "grid_mapping_name")
        .and_then(|a| a.value.as_str())
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let a = Attrs {
        attrs,
        mapping: name.clone(),
    };
    if name.is_empty() {
        if let Some(w) = ["crs_wkt", "spatial_ref"].iter().find_map(|n| a.text(n)) {
            return Ok(Parsed::Wkt(w.to_string()));
        }
        if let Some(code) = epsg_hint(attrs) {
            return Ok(Parsed::Epsg(code));
        }
        return Err(Error::Unsupported {
            name,
            reason: format!(
                "the variable has no grid_mapping_name, crs_wkt, spatial_ref or epsg_code attribute; \
                 give one (supported grid_mapping_name values: {SUPPORTED_MAPPINGS})"
            ),
        });
    }
    let ellipsoid = a.ellipsoid()?;
    let fe = a.or("false_easting", 0.0)?;
    let fn_ = a.or("false_northing", 0.0)?;
    let method = match name.as_str() {
        "latitude_longitude" => Method::LonLat,
        "rotated_latitude_longitude" => Method::RotatedPole {
            pole_lat: a.required("grid_north_pole_latitude")?,
            pole_lon: a.required("grid_north_pole_longitude")?,
            north_pole_grid_lon: a.or("north_pole_grid_longitude", 0.0)?,
        },
        "transverse_mercator" => Method::TransverseMercator {
            lat0: a.or("latitude_of_projection_origin", 0.0)?,
            lon0: a.required("longitude_of_central_meridian")?,
            k0: a.or("scale_factor_at_central_meridian", 1.0)?,
            fe,
            fn_,
        },
        "mercator" => Method::Mercator {
            lon0: a.or("longitude_of_projection_origin", 0.0)?,
            // As pyproj: a scale factor makes it variant A, else variant B.
            scale: match a.number("scale_factor_at_projection_origin")? {
                Some(k) => MercatorScale::K0(k),
                None => MercatorScale::LatTs(a.or("standard_parallel", 0.0)?),
            },
            fe,
            fn_,
        },
        "lambert_conformal_conic" => {
            let (lat1, lat2) = a.parallels()?;
            Method::LambertConformal {
                // With one standard parallel CF lets the origin lie elsewhere.
                lat0: a.or(
                    "latitude_of_projection_origin",
                    if lat2.is_none() { lat1 } else { 0.0 },
                )?,
                lon0: a.or("longitude_of_central_meridian", 0.0)?,
                lat1,
                lat2,
                k0: 1.0,
                fe,
                fn_,
            }
        }
        "polar_stereographic" => {
            let lon0 = a.required("straight_vertical_longitude_from_pole")?;
            let origin = a.number("latitude_of_projection_origin")?;
            if let Some(o) = origin {
                if (o.abs() - 90.0).abs() > 1e-9 {
                    return Err(a.err(
                        "latitude_of_projection_origin",
                        format!("is {o}; a polar stereographic projection needs +90 or -90 (use `stereographic` for other origins)"),
                    ));
                }
            }
            match a.number("standard_parallel")? {
                Some(ts) => Method::PolarStereographic {
                    north: origin.map_or(ts > 0.0, |o| o > 0.0),
                    lon0,
                    lat_ts: Some(ts),
                    k0: 1.0,
                    fe,
                    fn_,
                },
                None => Method::PolarStereographic {
                    north: origin.ok_or_else(|| {
                        a.err(
                            "latitude_of_projection_origin",
                            "is missing, and so is standard_parallel; give the pole (+90 or -90)",
                        )
                    })? > 0.0,
                    lon0,
                    lat_ts: None,
                    k0: a.or("scale_factor_at_projection_origin", 1.0)?,
                    fe,
                    fn_,
                },
            }
        }
        "stereographic" => Method::Stereographic {
            lat0: a.or("latitude_of_projection_origin", 0.0)?,
            lon0: a.or("longitude_of_projection_origin", 0.0)?,
            k0: a.or("scale_factor_at_projection_origin", 1.0)?,
            fe,
            fn_,
        },
        "lambert_azimuthal_equal_area" => Method::LambertAzimuthalEqualArea {
            lat0: a.or("latitude_of_projection_origin", 0.0)?,
            lon0: a.or("longitude_of_projection_origin", 0.0)?,
            fe,
            fn_,
        },
        "albers_conical_equal_area" => {
            let (lat1, lat2) = a.parallels()?;
            Method::AlbersEqualArea {
                lat0: a.or("latitude_of_projection_origin", 0.0)?,
                lon0: a.or("longitude_of_central_meridian", 0.0)?,
                lat1,
                lat2: lat2.unwrap_or(lat1),
                fe,
                fn_,
            }
        }
        "geostationary" => {
            let lat0 = a.or("latitude_of_projection_origin", 0.0)?;
            if lat0 != 0.0 {
                return Err(a.err(
                    "latitude_of_projection_origin",
                    format!("is {lat0}; a geostationary view must be centred on the equator (0)"),
                ));
            }
            let sweep_x = match (a.text("sweep_angle_axis"), a.text("fixed_angle_axis")) {
                (Some(s), _) => axis_is_x(&a, "sweep_angle_axis", s)?,
                (None, Some(f)) => !axis_is_x(&a, "fixed_angle_axis", f)?,
                (None, None) => false, // PROJ's default: sweep around y (Meteosat)
            };
            Method::Geostationary {
                lon0: a.or("longitude_of_projection_origin", 0.0)?,
                height: a.required("perspective_point_height")?,
                sweep_x,
                fe,
                fn_,
            }
        }
        "sinusoidal" => Method::Sinusoidal {
            lon0: a.or("longitude_of_projection_origin", 0.0)?,
            fe,
            fn_,
        },
        other => {
            return Err(Error::Unsupported {
                name: other.to_string(),
                reason: format!(
                    "not a supported grid_mapping_name; supported: {SUPPORTED_MAPPINGS}"
                ),
            })
        }
    };
    Ok(Parsed::Cf(Definition { method, ellipsoid }))
}

fn number(name: &str, v: Vec<f64>) -> Attribute {
    Attribute {
        name: name.to_string(),
        value: AttrValue::Array(Values::F64(v)),
        dtype: DType::F64,
    }
}

/// The CF grid-mapping attributes of a definition, as pyproj's
/// `CRS.to_cf()` writes them: `grid_mapping_name` and its parameters, the
/// ellipsoid, the prime meridian and the names where known. Web Mercator,
/// which CF cannot describe, gets none (its WKT says it all).
pub(crate) fn write(def: &Definition, epsg: Option<u32>) -> Vec<Attribute> {
    let n = |name: &str, v: f64| number(name, vec![v + 0.0]);
    let mut out = Vec::new();
    let fe_fn = |out: &mut Vec<Attribute>, fe: f64, fn_: f64| {
        out.push(n("false_easting", fe));
        out.push(n("false_northing", fn_));
    };
    let name = |s: &str| Attribute::text("grid_mapping_name", s);
    match def.method {
        Method::WebMercator => return out,
        Method::LonLat => out.push(name("latitude_longitude")),
        Method::RotatedPole {
            pole_lat,
            pole_lon,
            north_pole_grid_lon,
        } => {
            out.push(name("rotated_latitude_longitude"));
            out.push(n("grid_north_pole_latitude", pole_lat));
            out.push(n("grid_north_pole_longitude", pole_lon));
            out.push(n("north_pole_grid_longitude", north_pole_grid_lon));
        }
        Method::TransverseMercator {
            lat0,
            lon0,
            k0,
            fe,
            fn_,
        } => {
            out.push(name("transverse_mercator"));
            out.push(n("latitude_of_projection_origin", lat0));
            out.push(n("longitude_of_central_meridian", lon0));
            out.push(n("scale_factor_at_central_meridian", k0));
            fe_fn(&mut out, fe, fn_);
        }
        Method::Mercator {
            lon0,
            scale,
            fe,
            fn_,
        } => {
            out.push(name("mercator"));
            out.push(n("longitude_of_projection_origin", lon0));
            match scale {
                MercatorScale::K0(k0) => out.push(n("scale_factor_at_projection_origin", k0)),
                MercatorScale::LatTs(ts) => out.push(n("standard_parallel", ts)),
            }
            fe_fn(&mut out, fe, fn_);
        }
        Method::LambertConformal {
            lat0,
            lon0,
            lat1,
            lat2,
            k0,
            fe,
            fn_,
        } => {
            out.push(name("lambert_conformal_conic"));
            out.push(number(
                "standard_parallel",
                [Some(lat1), lat2].into_iter().flatten().collect(),
            ));
            out.push(n("latitude_of_projection_origin", lat0));
            out.push(n("longitude_of_central_meridian", lon0));
            if k0 != 1.0 {
                out.push(n("scale_factor_at_projection_origin", k0));
            }
            fe_fn(&mut out, fe, fn_);
        }
        Method::PolarStereographic {
            north,
            lon0,
            lat_ts,
            k0,
            fe,
            fn_,
        } => {
            out.push(name("polar_stereographic"));
            out.push(n(
                "latitude_of_projection_origin",
                if north { 90.0 } else { -90.0 },
            ));
            out.push(n("straight_vertical_longitude_from_pole", lon0));
            match lat_ts {
                Some(ts) => out.push(n("standard_parallel", ts)),
                None => out.push(n("scale_factor_at_projection_origin", k0)),
            }
            fe_fn(&mut out, fe, fn_);
        }
        Method::Stereographic {
            lat0,
            lon0,
            k0,
            fe,
            fn_,
        } => {
            out.push(name("stereographic"));
            out.push(n("latitude_of_projection_origin", lat0));
            out.push(n("longitude_of_projection_origin", lon0));
            out.push(n("scale_factor_at_projection_origin", k0));
            fe_fn(&mut out, fe, fn_);
        }
        Method::LambertAzimuthalEqualArea {
            lat0,
            lon0,
            fe,
            fn_,
        } => {
            out.push(name("lambert_azimuthal_equal_area"));
            out.push(n("latitude_of_projection_origin", lat0));
            out.push(n("longitude_of_projection_origin", lon0));
            fe_fn(&mut out, fe, fn_);
        }
        Method::AlbersEqualArea {
            lat0,
            lon0,
            lat1,
            lat2,
            fe,
            fn_,
        } => {
            out.push(name("albers_conical_equal_area"));
            out.push(number("standard_parallel", vec![lat1, lat2]));
            out.push(n("latitude_of_projection_origin", lat0));
            out.push(n("longitude_of_central_meridian", lon0));
            fe_fn(&mut out, fe, fn_);
        }
        Method::Geostationary {
            lon0,
            height,
            sweep_x,
            fe,
            fn_,
        } => {
            out.push(name("geostationary"));
            out.push(n("latitude_of_projection_origin", 0.0));
            out.push(n("longitude_of_projection_origin", lon0));
            out.push(n("perspective_point_height", height));
            out.push(Attribute::text(
                "sweep_angle_axis",
                if sweep_x { "x" } else { "y" },
            ));
            fe_fn(&mut out, fe, fn_);
        }
        Method::Sinusoidal { lon0, fe, fn_ } => {
            out.push(name("sinusoidal"));
            out.push(n("longitude_of_projection_origin", lon0));
            fe_fn(&mut out, fe, fn_);
        }
    }
    let e = def.ellipsoid;
    out.push(n("semi_major_axis", e.a));
    out.push(n("semi_minor_axis", e.b()));
    out.push(n("inverse_flattening", e.inv_flattening));
    out.push(n("longitude_of_prime_meridian", 0.0));
    if let Some((ename, _)) = e.known_name() {
        out.push(Attribute::text("reference_ellipsoid_name", ename));
    }
    let known = epsg
        .and_then(crate::epsg::known)
        .filter(|k| k.def.approx_eq(def));
    let geog = known
        .as_ref()
        .map_or_else(|| crate::wkt::default_geog(def), |k| k.geog);
    if geog.code.is_some() {
        out.push(Attribute::text("horizontal_datum_name", geog.datum));
        out.push(Attribute::text("geographic_crs_name", geog.name));
    }
    if let Some(k) = known.filter(|_| !matches!(def.method, Method::LonLat)) {
        out.push(Attribute::text("projected_crs_name", k.name));
    }
    out
}

fn axis_is_x(a: &Attrs<'_>, name: &str, value: &str) -> Result<bool> {
    match value.to_ascii_lowercase().as_str() {
        "x" => Ok(true),
        "y" => Ok(false),
        _ => Err(a.err(name, format!("is `{value}`; it must be \"x\" or \"y\""))),
    }
}
