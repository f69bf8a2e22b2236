//! Grids: GRIB2 grid definition templates and GRIB1 grid description
//! sections turned into coordinates, described as they are stored (a
//! reduced grid stays reduced; nothing is regridded).

use arco_core::{AttrValue, Attribute, DType, Values};

/// How a grid's points are laid out in the data model.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Layout {
    /// Regular latitude/longitude or Gaussian grid: 1-D `latitude` and
    /// `longitude`, in the order the file scans them.
    LatLon {
        /// Row latitudes.
        lat: Vec<f64>,
        /// Column longitudes.
        lon: Vec<f64>,
    },
    /// Projected or rotated grid: 1-D `y` and `x` with a grid mapping.
    Projected {
        /// Row coordinates (metres, or rotated degrees).
        y: Vec<f64>,
        /// Column coordinates.
        x: Vec<f64>,
        /// True for a rotated latitude/longitude grid (coordinates in degrees).
        rotated: bool,
    },
    /// Reduced (quasi-regular) grid: 1-D `values` with `latitude(values)`
    /// and `longitude(values)`.
    Reduced {
        /// Per row: latitude, number of points, first longitude, spacing.
        rows: Vec<(f64, usize, f64, f64)>,
    },
    /// Any other grid (unstructured, spherical harmonics, unknown): 1-D
    /// `values` without coordinates.
    Values {
        /// Number of points (or coefficients).
        n: usize,
    },
}

/// A grid and what the data model says about it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Grid {
    /// ecCodes `gridType`.
    pub grid_type: String,
    /// Coordinates.
    pub layout: Layout,
    /// `GRIB_*` attributes for the variables on this grid.
    pub attrs: Vec<Attribute>,
    /// CF grid-mapping attributes, for projected and rotated grids.
    pub mapping: Option<Vec<Attribute>>,
    /// Identity: grids with equal keys are the same grid.
    pub key: Vec<u8>,
}

impl Grid {
    /// Number of points.
    pub fn points(&self) -> usize {
        match &self.layout {
            Layout::LatLon { lat, lon } => lat.len() * lon.len(),
            Layout::Projected { y, x, .. } => y.len() * x.len(),
            Layout::Reduced { rows } => rows.iter().map(|r| r.1).sum(),
            Layout::Values { n } => *n,
        }
    }

    /// Latitude and longitude of every point of a reduced grid, in stored order.
    pub fn reduced_latlon(&self) -> Option<(Vec<f64>, Vec<f64>)> {
        let Layout::Reduced { rows } = &self.layout else {
            return None;
        };
        let n = self.points();
        let (mut lat, mut lon) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for &(la, count, lo0, dlo) in rows {
            for k in 0..count {
                lat.push(la);
                lon.push(lo0 + k as f64 * dlo);
            }
        }
        Some((lat, lon))
    }
}

fn f64_attr(name: &str, v: f64) -> Attribute {
    Attribute {
        name: name.into(),
        value: AttrValue::Array(Values::F64(vec![v])),
        dtype: DType::F64,
    }
}

fn i64_attr(name: &str, v: i64) -> Attribute {
    Attribute {
        name: name.into(),
        value: AttrValue::Array(Values::I64(vec![v])),
        dtype: DType::I64,
    }
}

fn be(b: &[u8], at: usize, n: usize) -> u64 {
    b.get(at..at + n)
        .map(|s| s.iter().fold(0u64, |a, &x| (a << 8) | u64::from(x)))
        .unwrap_or(0)
}

fn signed(b: &[u8], at: usize, n: usize) -> i64 {
    let raw = be(b, at, n);
    let sign = 1u64 << (8 * n - 1);
    if raw & sign != 0 {
        -((raw & (sign - 1)) as i64)
    } else {
        raw as i64
    }
}

/// The Gaussian latitudes of a grid with `n` parallels between a pole and
/// the equator: `2n` latitudes from north to south, in degrees (roots of
/// the Legendre polynomial of degree `2n`, by Newton's method).
pub(crate) fn gaussian_latitudes(n: usize) -> Vec<f64> {
    let nlat = 2 * n;
    let mut lats = vec![0.0; nlat];
    for i in 0..n {
        let mut z = (std::f64::consts::PI * (i as f64 + 0.75) / (nlat as f64 + 0.5)).cos();
        for _ in 0..100 {
            let (mut p1, mut p2) = (1.0f64, 0.0f64);
            for j in 1..=nlat {
                let p3 = p2;
                p2 = p1;
                p1 = ((2.0 * j as f64 - 1.0) * z * p2 - (j as f64 - 1.0) * p3) / j as f64;
            }
            let pp = nlat as f64 * (z * p1 - p2) / (z * z - 1.0);
            let z1 = z;
            z = z1 - p1 / pp;
            if (z - z1).abs() < 1e-15 {
                break;
            }
        }
        let lat = z.asin().to_degrees();
        lats[i] = lat;
        lats[nlat - 1 - i] = -lat;
    }
    lats
}

/// `count` Gaussian latitudes of the grid with `n` parallels per hemisphere,
/// starting at the one nearest `first`, going south (or north when
/// `northward`).
fn gaussian_rows(n: usize, first: f64, count: usize, northward: bool) -> Vec<f64> {
    let all = gaussian_latitudes(n);
    let start = all
        .iter()
        .enumerate()
        .min_by(|a, b| (a.1 - first).abs().total_cmp(&(b.1 - first).abs()))
        .map(|(i, _)| i)
        .unwrap_or(0);
    (0..count)
        .map(|k| {
            let i = if northward {
                start as i64 - k as i64
            } else {
                start as i64 + k as i64
            };
            usize::try_from(i)
                .ok()
                .and_then(|i| all.get(i))
                .copied()
                .unwrap_or(f64::NAN)
        })
        .collect()
}

/// CF attributes of the earth's shape, from GRIB2 code table 3.2.
fn grib2_earth(sec3: &[u8]) -> Vec<Attribute> {
    let scaled = |at: usize| -> f64 {
        let scale = sec3.get(at).copied().unwrap_or(0) as i32;
        let value = be(sec3, at + 1, 4) as f64;
        value / 10f64.powi(scale)
    };
    match sec3.get(14).copied().unwrap_or(255) {
        0 => vec![f64_attr("earth_radius", 6_367_470.0)],
        1 => vec![f64_attr("earth_radius", scaled(15))],
        2 => vec![
            f64_attr("semi_major_axis", 6_378_160.0),
            f64_attr("semi_minor_axis", 6_356_775.0),
        ],
        3 => vec![
            f64_attr("semi_major_axis", scaled(20) * 1000.0),
            f64_attr("semi_minor_axis", scaled(25) * 1000.0),
        ],
        4 => vec![
            f64_attr("semi_major_axis", 6_378_137.0),
            f64_attr("inverse_flattening", 298.257_222_101),
        ],
        5 => vec![
            f64_attr("semi_major_axis", 6_378_137.0),
            f64_attr("inverse_flattening", 298.257_223_563),
        ],
        6 => vec![f64_attr("earth_radius", 6_371_229.0)],
        7 => vec![
            f64_attr("semi_major_axis", scaled(20)),
            f64_attr("semi_minor_axis", scaled(25)),
        ],
        8 => vec![f64_attr("earth_radius", 6_371_200.0)],
        9 => vec![
            f64_attr("semi_major_axis", 6_377_563.396),
            f64_attr("semi_minor_axis", 6_356_256.909),
        ],
        _ => vec![f64_attr("earth_radius", 6_367_470.0)],
    }
}

fn grib1_earth(res_flags: u8) -> Vec<Attribute> {
    if res_flags & 0x40 != 0 {
        vec![
            f64_attr("semi_major_axis", 6_378_160.0),
            f64_attr("semi_minor_axis", 6_356_775.0),
        ]
    } else {
        vec![f64_attr("earth_radius", 6_367_470.0)]
    }
}

fn text(name: &str, v: &str) -> Attribute {
    Attribute::text(name, v)
}

/// A regular axis: `count` values from `first` by `step`.
fn axis(first: f64, step: f64, count: usize) -> Vec<f64> {
    (0..count).map(|k| first + k as f64 * step).collect()
}

/// Parameters of a latitude/longitude-like grid, in degrees.
struct LatLonParams {
    ni: usize,
    nj: usize,
    la1: f64,
    lo1: f64,
    la2: f64,
    lo2: f64,
    di: Option<f64>,
    dj: Option<f64>,
    /// N for Gaussian grids.
    n: Option<usize>,
    scan: u8,
    pl: Option<Vec<usize>>,
}

fn latlon_layout(p: &LatLonParams, gaussian: bool) -> (String, Layout, Vec<Attribute>) {
    let i_neg = p.scan & 0x80 != 0;
    let j_pos = p.scan & 0x40 != 0;
    let mut attrs = vec![
        i64_attr("GRIB_iScansNegatively", i64::from(i_neg)),
        i64_attr("GRIB_jScansPositively", i64::from(j_pos)),
        i64_attr("GRIB_jPointsAreConsecutive", i64::from(p.scan & 0x20 != 0)),
        i64_attr("GRIB_alternativeRowScanning", i64::from(p.scan & 0x10 != 0)),
        f64_attr("GRIB_latitudeOfFirstGridPointInDegrees", p.la1),
        f64_attr("GRIB_longitudeOfFirstGridPointInDegrees", p.lo1),
        f64_attr("GRIB_latitudeOfLastGridPointInDegrees", p.la2),
        f64_attr("GRIB_longitudeOfLastGridPointInDegrees", p.lo2),
    ];
    if let Some(pl) = &p.pl {
        let mut rows = Vec::with_capacity(pl.len());
        let lats = if gaussian {
            gaussian_rows(p.n.unwrap_or(pl.len() / 2), p.la1, p.nj, j_pos)
        } else {
            let dj = p.dj.unwrap_or(if p.nj > 1 {
                (p.la2 - p.la1).abs() / (p.nj - 1) as f64
            } else {
                0.0
            });
            axis(p.la1, if j_pos { dj } else { -dj }, p.nj)
        };
        let mut span = p.lo2 - p.lo1;
        if span < 0.0 {
            span += 360.0;
        }
        let max_pl = pl.iter().copied().max().unwrap_or(1).max(1) as f64;
        let global = span + 360.0 / max_pl > 360.0 - 1e-3;
        for (k, &count) in pl.iter().enumerate() {
            let dlon = if global {
                360.0 / count.max(1) as f64
            } else if count > 1 {
                span / (count - 1) as f64
            } else {
                0.0
            };
            rows.push((lats.get(k).copied().unwrap_or(f64::NAN), count, p.lo1, dlon));
        }
        if let Some(n) = p.n {
            attrs.push(i64_attr("GRIB_N", n as i64));
        }
        attrs.push(Attribute {
            name: "GRIB_pl".into(),
            value: AttrValue::Array(Values::I64(pl.iter().map(|&x| x as i64).collect())),
            dtype: DType::I64,
        });
        let name = if gaussian { "reduced_gg" } else { "reduced_ll" };
        return (name.into(), Layout::Reduced { rows }, attrs);
    }
    let di = p.di.unwrap_or_else(|| {
        let mut span = (p.lo2 - p.lo1).abs();
        if span == 0.0 {
            span = 360.0;
        }
        if p.ni > 1 {
            span / (p.ni - 1) as f64
        } else {
            0.0
        }
    });
    let lon = axis(p.lo1, if i_neg { -di } else { di }, p.ni);
    let lat = if gaussian {
        gaussian_rows(p.n.unwrap_or(p.nj / 2), p.la1, p.nj, j_pos)
    } else {
        let dj = p.dj.unwrap_or(if p.nj > 1 {
            (p.la2 - p.la1).abs() / (p.nj - 1) as f64
        } else {
            0.0
        });
        attrs.push(f64_attr("GRIB_jDirectionIncrementInDegrees", dj));
        axis(p.la1, if j_pos { dj } else { -dj }, p.nj)
    };
    attrs.push(f64_attr("GRIB_iDirectionIncrementInDegrees", di));
    attrs.push(i64_attr("GRIB_Nx", p.ni as i64));
    attrs.push(i64_attr("GRIB_Ny", p.nj as i64));
    if let Some(n) = p.n {
        attrs.push(i64_attr("GRIB_N", n as i64));
    }
    let name = if gaussian { "regular_gg" } else { "regular_ll" };
    (name.into(), Layout::LatLon { lat, lon }, attrs)
}

/// Projected `y`/`x` axes: the first grid point projected with the grid
/// mapping, then regular steps (signs from the scanning mode).
#[allow(clippy::too_many_arguments)]
fn projected(
    grid_type: &str,
    mut mapping: Vec<Attribute>,
    la1: f64,
    lo1: f64,
    dx: f64,
    dy: f64,
    nx: usize,
    ny: usize,
    scan: u8,
) -> Result<(String, Layout, Vec<Attribute>, Vec<Attribute>), String> {
    let crs = arco_crs::Crs::from_cf(&mapping).map_err(|e| e.to_string())?;
    let (x0, y0) = crs.from_lonlat(lo1, la1).map_err(|e| e.to_string())?;
    if let Some(wkt) = crs.wkt2() {
        mapping.push(text("crs_wkt", &wkt));
    }
    let x = axis(x0, if scan & 0x80 != 0 { -dx } else { dx }, nx);
    let y = axis(y0, if scan & 0x40 != 0 { dy } else { -dy }, ny);
    let attrs = vec![
        i64_attr("GRIB_Nx", nx as i64),
        i64_attr("GRIB_Ny", ny as i64),
        f64_attr("GRIB_DxInMetres", dx),
        f64_attr("GRIB_DyInMetres", dy),
        f64_attr("GRIB_latitudeOfFirstGridPointInDegrees", la1),
        f64_attr("GRIB_longitudeOfFirstGridPointInDegrees", lo1),
        i64_attr("GRIB_iScansNegatively", i64::from(scan & 0x80 != 0)),
        i64_attr("GRIB_jScansPositively", i64::from(scan & 0x40 != 0)),
        i64_attr("GRIB_jPointsAreConsecutive", i64::from(scan & 0x20 != 0)),
        i64_attr("GRIB_alternativeRowScanning", i64::from(scan & 0x10 != 0)),
    ];
    Ok((
        grid_type.into(),
        Layout::Projected {
            y,
            x,
            rotated: false,
        },
        attrs,
        mapping,
    ))
}

fn rotated_mapping(lat_sp: f64, lon_sp: f64, angle: f64, earth: Vec<Attribute>) -> Vec<Attribute> {
    let mut lon_np = lon_sp - 180.0;
    if lon_np < -180.0 {
        lon_np += 360.0;
    }
    let mut m = vec![
        text("grid_mapping_name", "rotated_latitude_longitude"),
        f64_attr("grid_north_pole_latitude", -lat_sp),
        f64_attr("grid_north_pole_longitude", lon_np),
    ];
    if angle != 0.0 {
        m.push(f64_attr("north_pole_grid_longitude", -angle));
    }
    m.extend(earth);
    if let Some(wkt) = arco_crs::Crs::from_cf(&m).ok().and_then(|c| c.wkt2()) {
        m.push(text("crs_wkt", &wkt));
    }
    m
}

/// A grid from a GRIB2 grid definition section (section 3).
pub(crate) fn from_grib2(sec3: &[u8]) -> Grid {
    let points = be(sec3, 6, 4) as usize;
    let template = be(sec3, 12, 2) as u16;
    let key = sec3.get(5..).unwrap_or_default().to_vec();
    let list_octets = usize::from(sec3.get(10).copied().unwrap_or(0));
    let values = |grid_type: &str, attrs: Vec<Attribute>| Grid {
        grid_type: grid_type.into(),
        layout: Layout::Values { n: points },
        attrs,
        mapping: None,
        key: key.clone(),
    };
    let earth = grib2_earth(sec3);
    let mut extra = vec![i64_attr(
        "GRIB_gridDefinitionTemplateNumber",
        i64::from(template),
    )];
    match template {
        0 | 1 | 40 | 41 if sec3.len() >= 72 => {
            let basic = be(sec3, 38, 4);
            let sub = be(sec3, 42, 4);
            let unit = if basic == 0 || sub == 0 || basic == 0xFFFF_FFFF || sub == 0xFFFF_FFFF {
                1e-6
            } else {
                basic as f64 / sub as f64
            };
            let ni = be(sec3, 30, 4);
            let nj = be(sec3, 34, 4) as usize;
            let res = sec3[54];
            let gaussian = template >= 40;
            let pl = if ni == 0xFFFF_FFFF && list_octets > 0 {
                let start = if template == 1 || template == 41 {
                    84
                } else {
                    72
                };
                Some(
                    (0..nj)
                        .map(|k| be(sec3, start + k * list_octets, list_octets) as usize)
                        .collect(),
                )
            } else {
                None
            };
            let inc = |at: usize| {
                let v = be(sec3, at, 4);
                (res & 0x20 != 0 && v != 0xFFFF_FFFF).then_some(v as f64 * unit)
            };
            let p = LatLonParams {
                ni: if pl.is_some() { 0 } else { ni as usize },
                nj,
                la1: signed(sec3, 46, 4) as f64 * unit,
                lo1: be(sec3, 50, 4) as f64 * unit,
                la2: signed(sec3, 55, 4) as f64 * unit,
                lo2: be(sec3, 59, 4) as f64 * unit,
                di: inc(63),
                dj: if gaussian { None } else { inc(67) },
                n: gaussian.then(|| be(sec3, 67, 4) as usize),
                scan: sec3[71],
                pl,
            };
            let (name, layout, attrs) = latlon_layout(&p, gaussian);
            extra.extend(attrs);
            if template == 1 || template == 41 {
                let lat_sp = signed(sec3, 72, 4) as f64 * unit;
                let lon_sp = be(sec3, 76, 4) as f64 * unit;
                let angle = sec3
                    .get(80..84)
                    .map(|b| f64::from(f32::from_be_bytes([b[0], b[1], b[2], b[3]])))
                    .unwrap_or(0.0);
                let mapping = rotated_mapping(lat_sp, lon_sp, angle, earth);
                let layout = match layout {
                    Layout::LatLon { lat, lon } => Layout::Projected {
                        y: lat,
                        x: lon,
                        rotated: true,
                    },
                    other => other,
                };
                let rot = if gaussian { "rotated_gg" } else { "rotated_ll" };
                return Grid {
                    grid_type: rot.into(),
                    layout,
                    attrs: extra,
                    mapping: Some(mapping),
                    key,
                };
            }
            Grid {
                grid_type: name,
                layout,
                attrs: extra,
                mapping: None,
                key,
            }
        }
        10 | 20 | 30 if sec3.len() >= 65 => {
            let nx = be(sec3, 30, 4) as usize;
            let ny = be(sec3, 34, 4) as usize;
            let la1 = signed(sec3, 38, 4) as f64 * 1e-6;
            let lo1 = be(sec3, 42, 4) as f64 * 1e-6;
            let result = match template {
                10 => {
                    let lad = signed(sec3, 47, 4) as f64 * 1e-6;
                    let mut m = vec![
                        text("grid_mapping_name", "mercator"),
                        f64_attr("standard_parallel", lad),
                        f64_attr("longitude_of_projection_origin", 0.0),
                        f64_attr("false_easting", 0.0),
                        f64_attr("false_northing", 0.0),
                    ];
                    m.extend(earth);
                    let dx = be(sec3, 64, 4) as f64 * 1e-3;
                    let dy = be(sec3, 68, 4) as f64 * 1e-3;
                    projected("mercator", m, la1, lo1, dx, dy, nx, ny, sec3[59])
                }
                20 => {
                    let lad = signed(sec3, 47, 4) as f64 * 1e-6;
                    let lov = be(sec3, 51, 4) as f64 * 1e-6;
                    let south = sec3[63] & 0x80 != 0;
                    let mut m = vec![
                        text("grid_mapping_name", "polar_stereographic"),
                        f64_attr(
                            "latitude_of_projection_origin",
                            if south { -90.0 } else { 90.0 },
                        ),
                        f64_attr("straight_vertical_longitude_from_pole", lov),
                        f64_attr("standard_parallel", lad),
                        f64_attr("false_easting", 0.0),
                        f64_attr("false_northing", 0.0),
                    ];
                    m.extend(earth);
                    let dx = be(sec3, 55, 4) as f64 * 1e-3;
                    let dy = be(sec3, 59, 4) as f64 * 1e-3;
                    projected("polar_stereographic", m, la1, lo1, dx, dy, nx, ny, sec3[64])
                }
                _ => {
                    let lov = be(sec3, 51, 4) as f64 * 1e-6;
                    let latin1 = signed(sec3, 65, 4) as f64 * 1e-6;
                    let latin2 = signed(sec3, 69, 4) as f64 * 1e-6;
                    let mut m = vec![
                        text("grid_mapping_name", "lambert_conformal_conic"),
                        lcc_parallels(latin1, latin2),
                        f64_attr("longitude_of_central_meridian", lov),
                        f64_attr("latitude_of_projection_origin", latin1),
                        f64_attr("false_easting", 0.0),
                        f64_attr("false_northing", 0.0),
                    ];
                    m.extend(earth);
                    let dx = be(sec3, 55, 4) as f64 * 1e-3;
                    let dy = be(sec3, 59, 4) as f64 * 1e-3;
                    projected("lambert", m, la1, lo1, dx, dy, nx, ny, sec3[64])
                }
            };
            match result {
                Ok((name, layout, attrs, mapping)) if nx * ny == points => {
                    extra.extend(attrs);
                    Grid {
                        grid_type: name,
                        layout,
                        attrs: extra,
                        mapping: Some(mapping),
                        key,
                    }
                }
                Ok(_) => values("unknown", extra),
                Err(reason) => {
                    extra.push(text(
                        "GRIB_grid_note",
                        &format!("projection not described: {reason}"),
                    ));
                    values("unknown", extra)
                }
            }
        }
        50..=53 => values("sh", extra),
        101 => values("unstructured_grid", extra),
        _ => values("unknown", extra),
    }
}

fn lcc_parallels(latin1: f64, latin2: f64) -> Attribute {
    if (latin1 - latin2).abs() < 1e-9 {
        f64_attr("standard_parallel", latin1)
    } else {
        Attribute {
            name: "standard_parallel".into(),
            value: AttrValue::Array(Values::F64(vec![latin1, latin2])),
            dtype: DType::F64,
        }
    }
}

/// Number of points of a GRIB1 grid description, as the decoder counts them.
pub(crate) fn from_grib1(gds: &[u8]) -> Grid {
    let nv = usize::from(gds.get(3).copied().unwrap_or(0));
    let pvl = usize::from(gds.get(4).copied().unwrap_or(255));
    let rep = gds.get(5).copied().unwrap_or(255);
    // The grid's identity leaves out the vertical coordinate parameters.
    let mut key = gds.to_vec();
    if nv > 0 && pvl > 0 && pvl != 255 {
        let a = (pvl - 1).min(key.len());
        let b = (pvl - 1 + 4 * nv).min(key.len());
        key.drain(a..b);
    }
    let mut extra = vec![i64_attr("GRIB_dataRepresentationType", i64::from(rep))];
    let ni = be(gds, 6, 2) as usize;
    let nj = be(gds, 8, 2) as usize;
    let la1 = signed(gds, 10, 3) as f64 * 1e-3;
    let lo1 = signed(gds, 13, 3) as f64 * 1e-3;
    let res = gds.get(16).copied().unwrap_or(0);
    let scan = gds.get(27).copied().unwrap_or(0);
    let earth = grib1_earth(res);
    let values = |grid_type: &str, n: usize, extra: Vec<Attribute>| Grid {
        grid_type: grid_type.into(),
        layout: Layout::Values { n },
        attrs: extra,
        mapping: None,
        key: key.clone(),
    };
    match rep {
        0 | 4 | 10 => {
            let pl = if ni == 0xFFFF && pvl > 0 && pvl != 255 {
                let at = pvl - 1 + 4 * nv;
                Some((0..nj).map(|k| be(gds, at + 2 * k, 2) as usize).collect())
            } else {
                None
            };
            let inc = |at: usize| {
                let v = be(gds, at, 2);
                (res & 0x80 != 0 && v != 0xFFFF).then_some(v as f64 * 1e-3)
            };
            let gaussian = rep == 4;
            let p = LatLonParams {
                ni: if pl.is_some() { 0 } else { ni },
                nj,
                la1,
                lo1,
                la2: signed(gds, 17, 3) as f64 * 1e-3,
                lo2: signed(gds, 20, 3) as f64 * 1e-3,
                di: inc(23),
                dj: if gaussian { None } else { inc(25) },
                n: gaussian.then(|| be(gds, 25, 2) as usize),
                scan,
                pl,
            };
            let (name, layout, attrs) = latlon_layout(&p, gaussian);
            extra.extend(attrs);
            if rep == 10 {
                let lat_sp = signed(gds, 32, 3) as f64 * 1e-3;
                let lon_sp = signed(gds, 35, 3) as f64 * 1e-3;
                let angle = gds.get(38..42).map(ibm).unwrap_or(0.0);
                let layout = match layout {
                    Layout::LatLon { lat, lon } => Layout::Projected {
                        y: lat,
                        x: lon,
                        rotated: true,
                    },
                    other => other,
                };
                return Grid {
                    grid_type: "rotated_ll".into(),
                    layout,
                    attrs: extra,
                    mapping: Some(rotated_mapping(lat_sp, lon_sp, angle, earth)),
                    key,
                };
            }
            Grid {
                grid_type: name,
                layout,
                attrs: extra,
                mapping: None,
                key,
            }
        }
        1 | 3 | 5 => {
            let result = match rep {
                1 => {
                    let latin = signed(gds, 23, 3) as f64 * 1e-3;
                    let mut m = vec![
                        text("grid_mapping_name", "mercator"),
                        f64_attr("standard_parallel", latin),
                        f64_attr("longitude_of_projection_origin", 0.0),
                        f64_attr("false_easting", 0.0),
                        f64_attr("false_northing", 0.0),
                    ];
                    m.extend(earth);
                    let dx = be(gds, 28, 3) as f64;
                    let dy = be(gds, 31, 3) as f64;
                    projected("mercator", m, la1, lo1, dx, dy, ni, nj, scan)
                }
                3 => {
                    let lov = signed(gds, 17, 3) as f64 * 1e-3;
                    let latin1 = signed(gds, 28, 3) as f64 * 1e-3;
                    let latin2 = signed(gds, 31, 3) as f64 * 1e-3;
                    let mut m = vec![
                        text("grid_mapping_name", "lambert_conformal_conic"),
                        lcc_parallels(latin1, latin2),
                        f64_attr("longitude_of_central_meridian", lov),
                        f64_attr("latitude_of_projection_origin", latin1),
                        f64_attr("false_easting", 0.0),
                        f64_attr("false_northing", 0.0),
                    ];
                    m.extend(earth);
                    let dx = be(gds, 20, 3) as f64;
                    let dy = be(gds, 23, 3) as f64;
                    projected("lambert", m, la1, lo1, dx, dy, ni, nj, scan)
                }
                _ => {
                    let lov = signed(gds, 17, 3) as f64 * 1e-3;
                    let south = gds.get(26).copied().unwrap_or(0) & 0x80 != 0;
                    let mut m = vec![
                        text("grid_mapping_name", "polar_stereographic"),
                        f64_attr(
                            "latitude_of_projection_origin",
                            if south { -90.0 } else { 90.0 },
                        ),
                        f64_attr("straight_vertical_longitude_from_pole", lov),
                        f64_attr("standard_parallel", if south { -60.0 } else { 60.0 }),
                        f64_attr("false_easting", 0.0),
                        f64_attr("false_northing", 0.0),
                    ];
                    m.extend(earth);
                    let dx = be(gds, 20, 3) as f64;
                    let dy = be(gds, 23, 3) as f64;
                    projected("polar_stereographic", m, la1, lo1, dx, dy, ni, nj, scan)
                }
            };
            match result {
                Ok((name, layout, attrs, mapping)) => {
                    extra.extend(attrs);
                    Grid {
                        grid_type: name,
                        layout,
                        attrs: extra,
                        mapping: Some(mapping),
                        key,
                    }
                }
                Err(reason) => {
                    extra.push(text(
                        "GRIB_grid_note",
                        &format!("projection not described: {reason}"),
                    ));
                    values("unknown", ni * nj, extra)
                }
            }
        }
        50 | 60 | 70 | 80 => {
            let j = be(gds, 6, 2) as usize;
            extra.push(i64_attr("GRIB_J", j as i64));
            values("sh", (j + 1) * (j + 2), extra)
        }
        _ => values("unknown", ni * nj, extra),
    }
}

fn ibm(b: &[u8]) -> f64 {
    let sign = if b[0] & 0x80 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from(b[0] & 0x7f) - 64;
    let mant = be(b, 1, 3) as f64;
    sign * mant * 16f64.powi(exp) / 16_777_216.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaussian_latitudes_match_the_published_n48_values() {
        let lats = gaussian_latitudes(48);
        assert_eq!(lats.len(), 96);
        // ecCodes' codes_get_gaussian_latitudes(48): 88.57216851400727 ... 0.9326299678380047
        assert!(
            (lats[0] - 88.572_168_514_007_27).abs() < 1e-11,
            "{}",
            lats[0]
        );
        assert!(
            (lats[47] - 0.932_629_967_838_004_7).abs() < 1e-11,
            "{}",
            lats[47]
        );
        assert!((lats[95] + 88.572_168_514_007).abs() < 1e-9);
    }
}
