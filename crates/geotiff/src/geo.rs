//! Georeferencing: the geotransform from ModelPixelScale + ModelTiepoint or
//! ModelTransformation, and the CRS from the GeoKey directory.
//!
//! Where the GeoKeys name an EPSG code, arco-crs's table describes it: its
//! WKT2 (with the EPSG names, axes and `ID`) and its CF grid-mapping
//! attributes ([`arco_crs::Crs::cf_attributes`]). A user-defined CRS
//! (code 32767) is written from the GeoKeys' own parameters as GDAL-style
//! WKT1 with the CF attributes beside it; its datum and ellipsoid codes are
//! looked up in arco-crs too.

#[cfg(test)]
use arco_core::AttrValue;
use arco_core::{Attribute, Values};

/// GeoKey ids this module reads.
mod key {
    pub const MODEL_TYPE: u16 = 1024;
    pub const RASTER_TYPE: u16 = 1025;
    pub const CITATION: u16 = 1026;
    pub const GEOGRAPHIC_TYPE: u16 = 2048;
    pub const GEOG_CITATION: u16 = 2049;
    pub const GEOG_DATUM: u16 = 2050;
    pub const GEOG_PRIME_MERIDIAN: u16 = 2051;
    pub const GEOG_ANGULAR_UNITS: u16 = 2054;
    pub const GEOG_ELLIPSOID: u16 = 2056;
    pub const GEOG_SEMI_MAJOR: u16 = 2057;
    pub const GEOG_SEMI_MINOR: u16 = 2058;
    pub const GEOG_INV_FLATTENING: u16 = 2059;
    pub const GEOG_PRIME_MERIDIAN_LONG: u16 = 2061;
    pub const PROJECTED_TYPE: u16 = 3072;
    pub const PCS_CITATION: u16 = 3073;
    pub const PROJ_COORD_TRANS: u16 = 3075;
    pub const PROJ_LINEAR_UNITS: u16 = 3076;
    pub const PROJ_LINEAR_UNIT_SIZE: u16 = 3077;
    pub const STD_PARALLEL_1: u16 = 3078;
    pub const STD_PARALLEL_2: u16 = 3079;
    pub const NAT_ORIGIN_LONG: u16 = 3080;
    pub const NAT_ORIGIN_LAT: u16 = 3081;
    pub const FALSE_EASTING: u16 = 3082;
    pub const FALSE_NORTHING: u16 = 3083;
    pub const FALSE_ORIGIN_LONG: u16 = 3084;
    pub const FALSE_ORIGIN_LAT: u16 = 3085;
    pub const FALSE_ORIGIN_EASTING: u16 = 3086;
    pub const FALSE_ORIGIN_NORTHING: u16 = 3087;
    pub const CENTER_LONG: u16 = 3088;
    pub const CENTER_LAT: u16 = 3089;
    pub const SCALE_AT_NAT_ORIGIN: u16 = 3092;
    pub const STRAIGHT_VERT_POLE_LONG: u16 = 3095;
}

/// One GeoKey value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum KeyValue {
    Short(u16),
    Doubles(Vec<f64>),
    Ascii(String),
}

/// The decoded GeoKey directory.
#[derive(Debug, Clone, Default)]
pub(crate) struct GeoKeys {
    pub(crate) keys: Vec<(u16, KeyValue)>,
}

impl GeoKeys {
    /// Decode the directory (34735) with its double (34736) and ASCII (34737) params.
    /// Returns `Err(reason)` for a malformed directory.
    pub(crate) fn parse(
        dir: &[u64],
        doubles: &[f64],
        ascii: &str,
    ) -> std::result::Result<GeoKeys, String> {
        if dir.len() < 4 {
            return Err(format!(
                "the GeoKey directory has {} values, fewer than its 4-value header",
                dir.len()
            ));
        }
        let n = usize::try_from(dir[3]).unwrap_or(usize::MAX);
        if n.checked_mul(4)
            .and_then(|k| k.checked_add(4))
            .is_none_or(|k| dir.len() < k)
        {
            return Err(format!(
                "the GeoKey directory announces {n} keys but holds {} values",
                dir.len()
            ));
        }
        let mut keys = Vec::with_capacity(n);
        for k in 0..n {
            let e = &dir[4 + 4 * k..8 + 4 * k];
            let (id, loc) = (e[0] as u16, e[1]);
            let count = usize::try_from(e[2]).unwrap_or(usize::MAX);
            let value = usize::try_from(e[3]).unwrap_or(usize::MAX);
            let v = match loc {
                0 => KeyValue::Short(value as u16),
                34736 => match value
                    .checked_add(count)
                    .and_then(|end| doubles.get(value..end))
                {
                    Some(d) => KeyValue::Doubles(d.to_vec()),
                    None => {
                        return Err(format!(
                            "GeoKey {id} points at doubles {value}..{} of {}",
                            value.saturating_add(count),
                            doubles.len()
                        ))
                    }
                },
                34737 => {
                    let s: String = ascii.chars().skip(value).take(count).collect();
                    KeyValue::Ascii(s.trim_end_matches(['|', '\0']).to_string())
                }
                // A key stored in another tag: GDAL ignores these too.
                _ => continue,
            };
            keys.push((id, v));
        }
        Ok(GeoKeys { keys })
    }

    fn get(&self, id: u16) -> Option<&KeyValue> {
        self.keys.iter().find(|(k, _)| *k == id).map(|(_, v)| v)
    }

    fn short(&self, id: u16) -> Option<u16> {
        match self.get(id) {
            Some(KeyValue::Short(v)) => Some(*v),
            _ => None,
        }
    }

    fn double(&self, id: u16) -> Option<f64> {
        match self.get(id) {
            Some(KeyValue::Doubles(v)) => v.first().copied(),
            Some(KeyValue::Short(v)) => Some(f64::from(*v)),
            _ => None,
        }
    }

    fn text(&self, id: u16) -> Option<&str> {
        match self.get(id) {
            Some(KeyValue::Ascii(s)) if !s.is_empty() => Some(s),
            _ => None,
        }
    }

    /// True for `GTRasterTypeGeoKey = RasterPixelIsPoint`.
    pub(crate) fn pixel_is_point(&self) -> bool {
        self.short(key::RASTER_TYPE) == Some(2)
    }
}

/// A GDAL geotransform: `x = gt[0] + col * gt[1] + row * gt[2]`,
/// `y = gt[3] + col * gt[4] + row * gt[5]` at pixel corners.
pub type GeoTransform = [f64; 6];

/// The geotransform from the model tags, as GDAL computes it (with
/// PixelIsPoint the tiepoint names a pixel centre, so the origin moves half a
/// pixel up and left).
pub(crate) fn geotransform(
    scale: Option<&[f64]>,
    tiepoints: Option<&[f64]>,
    matrix: Option<&[f64]>,
    pixel_is_point: bool,
) -> Option<GeoTransform> {
    let mut gt = if let Some(m) = matrix.filter(|m| m.len() >= 16) {
        [m[3], m[0], m[1], m[7], m[4], m[5]]
    } else {
        let s = scale.filter(|s| s.len() >= 2)?;
        let t = tiepoints.filter(|t| t.len() >= 6)?;
        let (i, j, x, y) = (t[0], t[1], t[3], t[4]);
        [x - i * s[0], s[0], 0.0, y + j * s[1], 0.0, -s[1]]
    };
    if pixel_is_point {
        gt[0] -= 0.5 * gt[1] + 0.5 * gt[2];
        gt[3] -= 0.5 * gt[4] + 0.5 * gt[5];
    }
    gt.iter().all(|v| v.is_finite()).then_some(gt)
}

/// An ellipsoid.
#[derive(Debug, Clone, PartialEq)]
struct Ellipsoid {
    name: String,
    a: f64,
    /// Inverse flattening, 0 for a sphere.
    rf: f64,
    code: Option<u32>,
}

impl Ellipsoid {
    /// The same figure (names and codes aside).
    fn same_figure(&self, other: &Ellipsoid) -> bool {
        (self.a - other.a).abs() < 1e-6 && (self.rf - other.rf).abs() < 1e-9
    }
}

/// A geographic CRS.
#[derive(Debug, Clone, PartialEq)]
struct Geographic {
    name: String,
    datum: String,
    datum_code: Option<u32>,
    ellipsoid: Ellipsoid,
    prime_meridian: f64,
    code: Option<u32>,
}

/// A map projection and its parameters (WKT1 names).
#[derive(Debug, Clone, PartialEq)]
struct Projection {
    /// WKT1 projection name, such as `Transverse_Mercator`.
    method: &'static str,
    params: Vec<(&'static str, f64)>,
}

/// A CRS the GeoKeys define by their own parameters (no EPSG code for the
/// whole CRS), written as GDAL-style WKT1.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct UserCrs {
    name: String,
    geographic: Geographic,
    /// `None` for a geographic CRS.
    projection: Option<Projection>,
    /// Linear unit name and metres per unit (projected only).
    unit: (String, f64, Option<u32>),
}

/// The CRS of a file, as attributes of its `spatial_ref` variable.
#[derive(Debug, Clone, Default)]
pub(crate) struct CrsAttrs {
    pub(crate) attributes: Vec<Attribute>,
    pub(crate) geographic: bool,
    /// The name of the projected coordinates' unit (`metre` when unknown).
    pub(crate) linear_unit: Option<String>,
    /// Why parts of the CRS could not be written, if they could not.
    pub(crate) note: Option<String>,
}

use crate::{array_attr, f64_attr as num, text};

fn nums(name: &str, v: Vec<f64>) -> Attribute {
    array_attr(name, Values::F64(v))
}

impl GeoKeys {
    /// The CRS attributes: CF grid-mapping attributes, `crs_wkt` and
    /// `spatial_ref` (the same WKT, as rioxarray writes them). An EPSG code
    /// is described by arco-crs (WKT2 with the EPSG names and `ID`); a
    /// user-defined CRS by its GeoKeys (GDAL-style WKT1).
    pub(crate) fn crs_attrs(&self) -> Option<CrsAttrs> {
        let model = self.short(key::MODEL_TYPE);
        let projected_code = self.short(key::PROJECTED_TYPE).filter(|&c| c != 0);
        let geographic_code = self.short(key::GEOGRAPHIC_TYPE).filter(|&c| c != 0);
        if model.is_none() && projected_code.is_none() && geographic_code.is_none() {
            return None;
        }
        let projected = model == Some(1) || (model.is_none() && projected_code.is_some());
        if model == Some(3) {
            return Some(CrsAttrs {
                note: Some(
                    "the GeoKeys describe a geocentric CRS, which arco does not write as WKT"
                        .into(),
                ),
                ..CrsAttrs::default()
            });
        }
        let (code, user) = if projected {
            match projected_code {
                Some(32767) | None => (None, self.user_projected()),
                Some(code) => (Some(code), None),
            }
        } else {
            match geographic_code {
                Some(32767) | None => (None, self.user_geographic().map(UserCrs::geographic)),
                Some(code) => (Some(code), None),
            }
        };
        if let Some(code) = code {
            return Some(self.epsg_attrs(u32::from(code), projected));
        }
        Some(match user {
            Some(crs) => crs.attrs(),
            None => CrsAttrs {
                note: Some("the GeoKeys do not describe a CRS arco can write".into()),
                ..CrsAttrs::default()
            },
        })
    }

    /// The attributes of an EPSG code from arco-crs; for a code it does not
    /// know, `spatial_ref = "EPSG:n"` (GDAL, rioxarray and pyproj all accept
    /// it where they expect a CRS) and a note.
    fn epsg_attrs(&self, code: u32, projected: bool) -> CrsAttrs {
        if let Ok(crs) = arco_crs::Crs::from_epsg(code) {
            let mut attributes = crs.cf_attributes();
            let wkt = attributes
                .iter()
                .find(|a| a.name == "crs_wkt")
                .and_then(|a| a.value.as_str())
                .map(str::to_string);
            if let Some(w) = wkt {
                attributes.push(text("spatial_ref", w));
                return CrsAttrs {
                    attributes,
                    geographic: crs.is_geographic(),
                    linear_unit: (!crs.is_geographic()).then(|| "metre".into()),
                    note: None,
                };
            }
        }
        let citation = self
            .text(key::PCS_CITATION)
            .or(self.text(key::CITATION))
            .or(self.text(key::GEOG_CITATION));
        let mut attributes = vec![text("spatial_ref", format!("EPSG:{code}"))];
        if let Some(c) = citation {
            attributes.push(text("crs_name", c));
        }
        CrsAttrs {
            attributes,
            geographic: !projected,
            linear_unit: None,
            note: Some(format!(
                "EPSG:{code} is not in arco's CRS table, so no WKT was written; \
                 spatial_ref holds the code"
            )),
        }
    }

    /// A geographic CRS from GeoKeys: an EPSG code, or datum and ellipsoid keys.
    fn user_geographic(&self) -> Option<Geographic> {
        if let Some(code) = self
            .short(key::GEOGRAPHIC_TYPE)
            .filter(|&c| c != 0 && c != 32767)
        {
            return geographic_from_epsg(u32::from(code));
        }
        let datum_code = self
            .short(key::GEOG_DATUM)
            .filter(|&c| c != 32767)
            .map(u32::from);
        let from_datum = datum_code.and_then(geographic_for_datum);
        let ellipsoid = match self
            .short(key::GEOG_ELLIPSOID)
            .filter(|&c| c != 32767)
            .and_then(|c| ellipsoid(u32::from(c)))
        {
            Some(e) => e,
            None => match (&from_datum, self.double(key::GEOG_SEMI_MAJOR)) {
                (_, Some(a)) => {
                    let rf = match (
                        self.double(key::GEOG_INV_FLATTENING),
                        self.double(key::GEOG_SEMI_MINOR),
                    ) {
                        (Some(rf), _) => rf,
                        (None, Some(b)) if (a - b).abs() > 1e-9 => a / (a - b),
                        _ => 0.0,
                    };
                    Ellipsoid {
                        name: "unknown".into(),
                        a,
                        rf,
                        code: None,
                    }
                }
                (Some(g), None) => g.ellipsoid.clone(),
                (None, None) => return None,
            },
        };
        let citation = self.text(key::GEOG_CITATION).map(clean_citation);
        let pm = if self.short(key::GEOG_PRIME_MERIDIAN).unwrap_or(8901) == 8901 {
            0.0
        } else {
            self.double(key::GEOG_PRIME_MERIDIAN_LONG).unwrap_or(0.0)
        };
        if self
            .short(key::GEOG_ANGULAR_UNITS)
            .is_some_and(|u| u != 9102 && u != 9122)
        {
            return None;
        }
        match from_datum {
            Some(mut g) if g.ellipsoid.same_figure(&ellipsoid) => {
                g.code = None;
                if let Some(c) = citation {
                    g.name = c;
                }
                g.prime_meridian = pm;
                Some(g)
            }
            other => Some(Geographic {
                name: citation.unwrap_or_else(|| "unknown".into()),
                datum: other.map_or_else(|| "unknown".into(), |g| g.datum),
                datum_code,
                ellipsoid,
                prime_meridian: pm,
                code: None,
            }),
        }
    }

    /// A user-defined projected CRS from the projection GeoKeys.
    fn user_projected(&self) -> Option<UserCrs> {
        let geographic = self.user_geographic()?;
        let d = |k: u16| self.double(k).unwrap_or(0.0);
        let first = |a: u16, b: u16| self.double(a).or(self.double(b)).unwrap_or(0.0);
        let projection = match self.short(key::PROJ_COORD_TRANS)? {
            1 => Projection {
                method: "Transverse_Mercator",
                params: vec![
                    ("latitude_of_origin", d(key::NAT_ORIGIN_LAT)),
                    ("central_meridian", d(key::NAT_ORIGIN_LONG)),
                    (
                        "scale_factor",
                        self.double(key::SCALE_AT_NAT_ORIGIN).unwrap_or(1.0),
                    ),
                    ("false_easting", d(key::FALSE_EASTING)),
                    ("false_northing", d(key::FALSE_NORTHING)),
                ],
            },
            7 => Projection {
                method: "Mercator_1SP",
                params: vec![
                    ("central_meridian", d(key::NAT_ORIGIN_LONG)),
                    (
                        "scale_factor",
                        self.double(key::SCALE_AT_NAT_ORIGIN).unwrap_or(1.0),
                    ),
                    ("false_easting", d(key::FALSE_EASTING)),
                    ("false_northing", d(key::FALSE_NORTHING)),
                ],
            },
            8 => Projection {
                method: "Lambert_Conformal_Conic_2SP",
                params: vec![
                    (
                        "latitude_of_origin",
                        first(key::FALSE_ORIGIN_LAT, key::NAT_ORIGIN_LAT),
                    ),
                    (
                        "central_meridian",
                        first(key::FALSE_ORIGIN_LONG, key::NAT_ORIGIN_LONG),
                    ),
                    ("standard_parallel_1", d(key::STD_PARALLEL_1)),
                    ("standard_parallel_2", d(key::STD_PARALLEL_2)),
                    (
                        "false_easting",
                        first(key::FALSE_ORIGIN_EASTING, key::FALSE_EASTING),
                    ),
                    (
                        "false_northing",
                        first(key::FALSE_ORIGIN_NORTHING, key::FALSE_NORTHING),
                    ),
                ],
            },
            9 => Projection {
                method: "Lambert_Conformal_Conic_1SP",
                params: vec![
                    ("latitude_of_origin", d(key::NAT_ORIGIN_LAT)),
                    ("central_meridian", d(key::NAT_ORIGIN_LONG)),
                    (
                        "scale_factor",
                        self.double(key::SCALE_AT_NAT_ORIGIN).unwrap_or(1.0),
                    ),
                    ("false_easting", d(key::FALSE_EASTING)),
                    ("false_northing", d(key::FALSE_NORTHING)),
                ],
            },
            10 => Projection {
                method: "Lambert_Azimuthal_Equal_Area",
                params: vec![
                    (
                        "latitude_of_center",
                        first(key::CENTER_LAT, key::NAT_ORIGIN_LAT),
                    ),
                    (
                        "longitude_of_center",
                        first(key::CENTER_LONG, key::NAT_ORIGIN_LONG),
                    ),
                    ("false_easting", d(key::FALSE_EASTING)),
                    ("false_northing", d(key::FALSE_NORTHING)),
                ],
            },
            11 => Projection {
                method: "Albers_Conic_Equal_Area",
                params: vec![
                    (
                        "latitude_of_center",
                        first(key::FALSE_ORIGIN_LAT, key::NAT_ORIGIN_LAT),
                    ),
                    (
                        "longitude_of_center",
                        first(key::FALSE_ORIGIN_LONG, key::NAT_ORIGIN_LONG),
                    ),
                    ("standard_parallel_1", d(key::STD_PARALLEL_1)),
                    ("standard_parallel_2", d(key::STD_PARALLEL_2)),
                    (
                        "false_easting",
                        first(key::FALSE_ORIGIN_EASTING, key::FALSE_EASTING),
                    ),
                    (
                        "false_northing",
                        first(key::FALSE_ORIGIN_NORTHING, key::FALSE_NORTHING),
                    ),
                ],
            },
            15 => Projection {
                method: "Polar_Stereographic",
                params: vec![
                    ("latitude_of_origin", d(key::NAT_ORIGIN_LAT)),
                    (
                        "central_meridian",
                        first(key::STRAIGHT_VERT_POLE_LONG, key::NAT_ORIGIN_LONG),
                    ),
                    (
                        "scale_factor",
                        self.double(key::SCALE_AT_NAT_ORIGIN).unwrap_or(1.0),
                    ),
                    ("false_easting", d(key::FALSE_EASTING)),
                    ("false_northing", d(key::FALSE_NORTHING)),
                ],
            },
            17 => Projection {
                method: "Equirectangular",
                params: vec![
                    ("standard_parallel_1", d(key::STD_PARALLEL_1)),
                    (
                        "central_meridian",
                        first(key::CENTER_LONG, key::NAT_ORIGIN_LONG),
                    ),
                    ("false_easting", d(key::FALSE_EASTING)),
                    ("false_northing", d(key::FALSE_NORTHING)),
                ],
            },
            24 => Projection {
                method: "Sinusoidal",
                params: vec![
                    (
                        "longitude_of_center",
                        first(key::CENTER_LONG, key::NAT_ORIGIN_LONG),
                    ),
                    ("false_easting", d(key::FALSE_EASTING)),
                    ("false_northing", d(key::FALSE_NORTHING)),
                ],
            },
            _ => return None,
        };
        let unit = match self.short(key::PROJ_LINEAR_UNITS).unwrap_or(9001) {
            9001 => ("metre".to_string(), 1.0, Some(9001)),
            9002 => ("foot".to_string(), 0.3048, Some(9002)),
            9003 => ("US survey foot".to_string(), 0.304800609601219, Some(9003)),
            9036 => ("kilometre".to_string(), 1000.0, Some(9036)),
            32767 => (
                "unknown".to_string(),
                self.double(key::PROJ_LINEAR_UNIT_SIZE)?,
                None,
            ),
            _ => return None,
        };
        let name = self
            .text(key::PCS_CITATION)
            .or(self.text(key::CITATION))
            .map(clean_citation)
            .unwrap_or_else(|| "unnamed".into());
        Some(UserCrs {
            name,
            geographic,
            projection: Some(projection),
            unit,
        })
    }
}

/// GDAL citations look like `PCS Name = WGS 84 / UTM zone 33N|...`; keep the name.
fn clean_citation(s: &str) -> String {
    let s = s.split('|').next().unwrap_or(s);
    let s = s
        .strip_prefix("PCS Name = ")
        .or_else(|| s.strip_prefix("GCS Name = "))
        .unwrap_or(s);
    s.trim().to_string()
}

impl UserCrs {
    /// A geographic CRS in degrees.
    fn geographic(g: Geographic) -> UserCrs {
        UserCrs {
            name: g.name.clone(),
            geographic: g,
            projection: None,
            unit: ("degree".into(), 0.0174532925199433, Some(9122)),
        }
    }

    fn attrs(&self) -> CrsAttrs {
        let wkt = self.wkt();
        let g = &self.geographic;
        let mut a = Vec::new();
        match &self.projection {
            None => {
                a.push(text("grid_mapping_name", "latitude_longitude"));
            }
            Some(p) => {
                cf_projection(p, &mut a);
            }
        }
        a.push(num("semi_major_axis", g.ellipsoid.a));
        if g.ellipsoid.rf > 0.0 {
            a.push(num("inverse_flattening", g.ellipsoid.rf));
        } else {
            a.push(num("semi_minor_axis", g.ellipsoid.a));
        }
        a.push(num("longitude_of_prime_meridian", g.prime_meridian));
        a.push(text("reference_ellipsoid_name", g.ellipsoid.name.clone()));
        a.push(text("horizontal_datum_name", g.datum.clone()));
        a.push(text("geographic_crs_name", g.name.clone()));
        if self.projection.is_some() {
            a.push(text("projected_crs_name", self.name.clone()));
        }
        a.push(text("crs_wkt", wkt.clone()));
        a.push(text("spatial_ref", wkt));
        CrsAttrs {
            attributes: a,
            geographic: self.projection.is_none(),
            linear_unit: self.projection.is_some().then(|| self.unit.0.clone()),
            note: None,
        }
    }

    /// GDAL-style WKT1.
    pub(crate) fn wkt(&self) -> String {
        let g = &self.geographic;
        let auth = |code: Option<u32>| match code {
            Some(c) => format!(",AUTHORITY[\"EPSG\",\"{c}\"]"),
            None => String::new(),
        };
        let e = &g.ellipsoid;
        let geogcs = format!(
            "GEOGCS[\"{}\",DATUM[\"{}\",SPHEROID[\"{}\",{},{}{}]{}],PRIMEM[\"Greenwich\",{}{}],\
             UNIT[\"degree\",0.0174532925199433,AUTHORITY[\"EPSG\",\"9122\"]]{}{}]",
            g.name,
            g.datum,
            e.name,
            fmt(e.a),
            fmt(e.rf),
            auth(e.code),
            auth(g.datum_code),
            fmt(g.prime_meridian),
            if g.prime_meridian == 0.0 {
                ",AUTHORITY[\"EPSG\",\"8901\"]"
            } else {
                ""
            },
            if self.projection.is_none() {
                ",AXIS[\"Latitude\",NORTH],AXIS[\"Longitude\",EAST]"
            } else {
                ""
            },
            auth(g.code),
        );
        let Some(p) = &self.projection else {
            return geogcs;
        };
        let params: String = p
            .params
            .iter()
            .map(|(n, v)| format!(",PARAMETER[\"{n}\",{}]", fmt(*v)))
            .collect();
        format!(
            "PROJCS[\"{}\",{geogcs},PROJECTION[\"{}\"]{params},UNIT[\"{}\",{}{}],\
             AXIS[\"Easting\",EAST],AXIS[\"Northing\",NORTH]]",
            self.name,
            p.method,
            self.unit.0,
            fmt(self.unit.1),
            auth(self.unit.2),
        )
    }
}

/// CF grid-mapping attributes of a projection.
fn cf_projection(p: &Projection, a: &mut Vec<Attribute>) {
    let get = |n: &str| {
        p.params
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, v)| *v)
            .unwrap_or(0.0)
    };
    let fe_fn = |a: &mut Vec<Attribute>| {
        a.push(num("false_easting", get("false_easting")));
        a.push(num("false_northing", get("false_northing")));
    };
    match p.method {
        "Transverse_Mercator" => {
            a.push(text("grid_mapping_name", "transverse_mercator"));
            a.push(num(
                "latitude_of_projection_origin",
                get("latitude_of_origin"),
            ));
            a.push(num(
                "longitude_of_central_meridian",
                get("central_meridian"),
            ));
            a.push(num("scale_factor_at_central_meridian", get("scale_factor")));
            fe_fn(a);
        }
        "Mercator_1SP" => {
            a.push(text("grid_mapping_name", "mercator"));
            a.push(num(
                "longitude_of_projection_origin",
                get("central_meridian"),
            ));
            a.push(num(
                "scale_factor_at_projection_origin",
                get("scale_factor"),
            ));
            fe_fn(a);
        }
        "Lambert_Conformal_Conic_2SP" => {
            a.push(text("grid_mapping_name", "lambert_conformal_conic"));
            a.push(nums(
                "standard_parallel",
                vec![get("standard_parallel_1"), get("standard_parallel_2")],
            ));
            a.push(num(
                "latitude_of_projection_origin",
                get("latitude_of_origin"),
            ));
            a.push(num(
                "longitude_of_central_meridian",
                get("central_meridian"),
            ));
            fe_fn(a);
        }
        "Lambert_Conformal_Conic_1SP" => {
            a.push(text("grid_mapping_name", "lambert_conformal_conic"));
            a.push(num("standard_parallel", get("latitude_of_origin")));
            a.push(num(
                "latitude_of_projection_origin",
                get("latitude_of_origin"),
            ));
            a.push(num(
                "longitude_of_central_meridian",
                get("central_meridian"),
            ));
            a.push(num(
                "scale_factor_at_projection_origin",
                get("scale_factor"),
            ));
            fe_fn(a);
        }
        "Lambert_Azimuthal_Equal_Area" => {
            a.push(text("grid_mapping_name", "lambert_azimuthal_equal_area"));
            a.push(num(
                "latitude_of_projection_origin",
                get("latitude_of_center"),
            ));
            a.push(num(
                "longitude_of_projection_origin",
                get("longitude_of_center"),
            ));
            fe_fn(a);
        }
        "Albers_Conic_Equal_Area" => {
            a.push(text("grid_mapping_name", "albers_conical_equal_area"));
            a.push(nums(
                "standard_parallel",
                vec![get("standard_parallel_1"), get("standard_parallel_2")],
            ));
            a.push(num(
                "latitude_of_projection_origin",
                get("latitude_of_center"),
            ));
            a.push(num(
                "longitude_of_central_meridian",
                get("longitude_of_center"),
            ));
            fe_fn(a);
        }
        "Polar_Stereographic" => {
            let lat = get("latitude_of_origin");
            a.push(text("grid_mapping_name", "polar_stereographic"));
            a.push(num(
                "latitude_of_projection_origin",
                if lat < 0.0 { -90.0 } else { 90.0 },
            ));
            a.push(num(
                "straight_vertical_longitude_from_pole",
                get("central_meridian"),
            ));
            if lat.abs() < 90.0 {
                a.push(num("standard_parallel", lat));
            } else {
                a.push(num(
                    "scale_factor_at_projection_origin",
                    get("scale_factor"),
                ));
            }
            fe_fn(a);
        }
        "Equirectangular" => {
            a.push(text("grid_mapping_name", "equirectangular"));
            a.push(num("standard_parallel", get("standard_parallel_1")));
            a.push(num(
                "longitude_of_central_meridian",
                get("central_meridian"),
            ));
            fe_fn(a);
        }
        "Sinusoidal" => {
            a.push(text("grid_mapping_name", "sinusoidal"));
            a.push(num(
                "longitude_of_projection_origin",
                get("longitude_of_center"),
            ));
            fe_fn(a);
        }
        _ => {}
    }
}

/// A number as WKT writes it: shortest round-trip form, integers without `.0`.
fn fmt(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// An ellipsoid by its EPSG code, from arco-crs.
fn ellipsoid(code: u32) -> Option<Ellipsoid> {
    let (name, a, rf) = arco_crs::ellipsoid_from_epsg(code)?;
    Some(Ellipsoid {
        name: name.into(),
        a,
        rf,
        code: Some(code),
    })
}

/// A geographic CRS by its EPSG code, from arco-crs, with the names its CF
/// attributes carry (the datum as GDAL's WKT1 spells it, `_` for spaces).
fn geographic_from_epsg(code: u32) -> Option<Geographic> {
    let crs = arco_crs::Crs::from_epsg(code)
        .ok()
        .filter(arco_crs::Crs::is_geographic)?;
    let attrs = crs.cf_attributes();
    let get = |n: &str| attrs.iter().find(|a| a.name == n).map(|a| &a.value);
    let name = |n: &str| get(n).and_then(|v| v.as_str()).map(str::to_string);
    let number = |n: &str| get(n).and_then(|v| v.as_f64());
    let ellipsoid_name = name("reference_ellipsoid_name")?;
    Some(Geographic {
        name: name("geographic_crs_name")?,
        datum: name("horizontal_datum_name")?.replace(' ', "_"),
        // EPSG numbers the datum of geographic CRS 4xxx as 6xxx.
        datum_code: (4000..5000).contains(&code).then_some(code + 2000),
        ellipsoid: Ellipsoid {
            name: ellipsoid_name,
            code: None,
            a: number("semi_major_axis")?,
            rf: number("inverse_flattening")?,
        },
        prime_meridian: 0.0,
        code: Some(code),
    })
}

/// The geographic CRS of a datum code, for user-defined CRSs that name only
/// the datum: EPSG numbers the datum of geographic CRS 4xxx as 6xxx.
fn geographic_for_datum(datum: u32) -> Option<Geographic> {
    if (6000..7000).contains(&datum) {
        geographic_from_epsg(datum - 2000)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(k: &[(u16, KeyValue)]) -> GeoKeys {
        GeoKeys { keys: k.to_vec() }
    }

    fn attr<'a>(a: &'a CrsAttrs, name: &str) -> &'a AttrValue {
        &a.attributes.iter().find(|x| x.name == name).unwrap().value
    }

    #[test]
    fn utm_codes_become_transverse_mercator_with_the_zone_meridian() {
        let k = keys(&[
            (key::MODEL_TYPE, KeyValue::Short(1)),
            (key::PROJECTED_TYPE, KeyValue::Short(32633)),
        ]);
        let a = k.crs_attrs().unwrap();
        let wkt = attr(&a, "crs_wkt").as_str().unwrap();
        assert!(
            wkt.starts_with("PROJCRS[\"WGS 84 / UTM zone 33N\""),
            "{wkt}"
        );
        assert!(
            wkt.contains("PARAMETER[\"Longitude of natural origin\",15,"),
            "{wkt}"
        );
        assert!(wkt.ends_with("ID[\"EPSG\",32633]]"), "{wkt}");
        assert_eq!(attr(&a, "spatial_ref").as_str(), Some(wkt));
        assert_eq!(
            attr(&a, "grid_mapping_name").as_str(),
            Some("transverse_mercator")
        );
        assert_eq!(
            attr(&a, "longitude_of_central_meridian").as_f64(),
            Some(15.0)
        );
        assert!(!a.geographic);

        let k = keys(&[
            (key::MODEL_TYPE, KeyValue::Short(1)),
            (key::PROJECTED_TYPE, KeyValue::Short(31985)),
        ]);
        let a = k.crs_attrs().unwrap();
        let wkt = attr(&a, "crs_wkt").as_str().unwrap();
        assert!(wkt.contains("SIRGAS 2000 / UTM zone 25S"), "{wkt}");
        assert!(
            wkt.contains("PARAMETER[\"Longitude of natural origin\",-33,"),
            "{wkt}"
        );
        assert!(
            wkt.contains("PARAMETER[\"False northing\",10000000,"),
            "{wkt}"
        );
        assert_eq!(attr(&a, "false_northing").as_f64(), Some(10000000.0));
    }

    #[test]
    fn an_unknown_epsg_code_is_kept_as_epsg_text_without_wkt() {
        let k = keys(&[
            (key::MODEL_TYPE, KeyValue::Short(1)),
            (key::PROJECTED_TYPE, KeyValue::Short(2056)),
            (key::PCS_CITATION, KeyValue::Ascii("CH1903+ / LV95".into())),
        ]);
        let a = k.crs_attrs().unwrap();
        assert_eq!(attr(&a, "spatial_ref").as_str(), Some("EPSG:2056"));
        assert!(a.attributes.iter().all(|x| x.name != "crs_wkt"));
        assert!(a
            .note
            .unwrap()
            .contains("EPSG:2056 is not in arco's CRS table"));
    }

    #[test]
    fn geographic_codes_have_lat_lon_axes() {
        let k = keys(&[
            (key::MODEL_TYPE, KeyValue::Short(2)),
            (key::GEOGRAPHIC_TYPE, KeyValue::Short(4269)),
        ]);
        let a = k.crs_attrs().unwrap();
        let wkt = attr(&a, "crs_wkt").as_str().unwrap();
        assert!(
            wkt.starts_with("GEOGCRS[\"NAD83\",DATUM[\"North American Datum 1983\""),
            "{wkt}"
        );
        assert!(
            wkt.contains("AXIS[\"geodetic latitude (Lat)\",north,ORDER[1]"),
            "{wkt}"
        );
        assert_eq!(
            attr(&a, "grid_mapping_name").as_str(),
            Some("latitude_longitude")
        );
        assert_eq!(attr(&a, "inverse_flattening").as_f64(), Some(298.257222101));
        assert!(a.geographic);
    }

    #[test]
    fn web_mercator_has_only_its_wkt_as_cf_cannot_describe_it() {
        let k = keys(&[
            (key::MODEL_TYPE, KeyValue::Short(1)),
            (key::PROJECTED_TYPE, KeyValue::Short(3857)),
        ]);
        let a = k.crs_attrs().unwrap();
        let wkt = attr(&a, "crs_wkt").as_str().unwrap();
        assert!(
            wkt.starts_with("PROJCRS[\"WGS 84 / Pseudo-Mercator\""),
            "{wkt}"
        );
        assert!(wkt.ends_with("ID[\"EPSG\",3857]]"), "{wkt}");
        assert!(a.attributes.iter().all(|x| x.name != "grid_mapping_name"));
        assert_eq!(a.linear_unit.as_deref(), Some("metre"));
    }

    #[test]
    fn a_user_defined_projection_on_an_epsg_datum_is_gdal_wkt1() {
        let k = keys(&[
            (key::MODEL_TYPE, KeyValue::Short(1)),
            (key::PROJECTED_TYPE, KeyValue::Short(32767)),
            (key::GEOG_DATUM, KeyValue::Short(6269)),
            (key::PROJ_COORD_TRANS, KeyValue::Short(8)),
            (key::STD_PARALLEL_1, KeyValue::Doubles(vec![33.0])),
            (key::STD_PARALLEL_2, KeyValue::Doubles(vec![45.0])),
            (key::FALSE_ORIGIN_LAT, KeyValue::Doubles(vec![39.0])),
            (key::FALSE_ORIGIN_LONG, KeyValue::Doubles(vec![-96.0])),
            (key::PROJ_LINEAR_UNITS, KeyValue::Short(9002)),
        ]);
        let a = k.crs_attrs().unwrap();
        let wkt = attr(&a, "crs_wkt").as_str().unwrap();
        assert!(
            wkt.contains(
                "GEOGCS[\"NAD83\",DATUM[\"North_American_Datum_1983\",\
                 SPHEROID[\"GRS 1980\",6378137,298.257222101]"
            ),
            "{wkt}"
        );
        assert!(
            wkt.contains("PROJECTION[\"Lambert_Conformal_Conic_2SP\"]"),
            "{wkt}"
        );
        assert!(wkt.contains("UNIT[\"foot\",0.3048,"), "{wkt}");
        assert_eq!(a.linear_unit.as_deref(), Some("foot"));
        assert_eq!(
            attr(&a, "grid_mapping_name").as_str(),
            Some("lambert_conformal_conic")
        );
        assert_eq!(
            attr(&a, "horizontal_datum_name").as_str(),
            Some("North_American_Datum_1983")
        );
    }

    #[test]
    fn a_user_defined_geographic_crs_takes_its_ellipsoid_from_the_epsg_code() {
        let k = keys(&[
            (key::MODEL_TYPE, KeyValue::Short(2)),
            (key::GEOGRAPHIC_TYPE, KeyValue::Short(32767)),
            (key::GEOG_DATUM, KeyValue::Short(32767)),
            (key::GEOG_ELLIPSOID, KeyValue::Short(7004)),
            (
                key::GEOG_CITATION,
                KeyValue::Ascii("GCS Name = my datum|".into()),
            ),
        ]);
        let a = k.crs_attrs().unwrap();
        let wkt = attr(&a, "crs_wkt").as_str().unwrap();
        assert!(
            wkt.starts_with(
                "GEOGCS[\"my datum\",DATUM[\"unknown\",\
                 SPHEROID[\"Bessel 1841\",6377397.155,299.1528128,AUTHORITY[\"EPSG\",\"7004\"]]"
            ),
            "{wkt}"
        );
        assert!(a.geographic);
        assert_eq!(attr(&a, "semi_major_axis").as_f64(), Some(6377397.155));
    }

    #[test]
    fn the_geotransform_follows_gdal_for_area_and_point_rasters() {
        let gt = geotransform(
            Some(&[30.0, 30.0, 0.0]),
            Some(&[0.0, 0.0, 0.0, 500000.0, 4650000.0, 0.0]),
            None,
            false,
        )
        .unwrap();
        assert_eq!(gt, [500000.0, 30.0, 0.0, 4650000.0, 0.0, -30.0]);
        let gt = geotransform(
            Some(&[2.0, 2.0, 0.0]),
            Some(&[0.0, 0.0, 0.0, 10.0, 20.0, 0.0]),
            None,
            true,
        )
        .unwrap();
        assert_eq!(gt, [9.0, 2.0, 0.0, 21.0, 0.0, -2.0]);
        let m = [
            30.0, 10.0, 0.0, 500000.0, 5.0, -30.0, 0.0, 4650000.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
            0.0, 1.0,
        ];
        let gt = geotransform(None, None, Some(&m), false).unwrap();
        assert_eq!(gt, [500000.0, 30.0, 10.0, 4650000.0, 5.0, -30.0]);
        assert!(geotransform(None, Some(&[0.0; 6]), None, false).is_none());
    }

    #[test]
    fn a_malformed_key_directory_is_refused_with_a_reason() {
        assert!(GeoKeys::parse(&[1, 1, 0], &[], "").is_err());
        let err = GeoKeys::parse(&[1, 1, 0, 2, 1024, 0, 1, 1], &[], "").unwrap_err();
        assert!(err.contains("announces 2 keys"), "{err}");
        let err = GeoKeys::parse(&[1, 1, 0, 1, 3078, 34736, 1, 5], &[1.0], "").unwrap_err();
        assert!(err.contains("GeoKey 3078"), "{err}");
        let k = GeoKeys::parse(
            &[1, 1, 0, 2, 1024, 0, 1, 2, 2049, 34737, 7, 0],
            &[],
            "WGS 84|",
        )
        .unwrap();
        assert_eq!(k.text(2049), Some("WGS 84"));
        assert_eq!(k.short(1024), Some(2));
    }
}
