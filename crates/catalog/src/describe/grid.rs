//! Horizontal grids: which coordinates locate the data, and the footprint
//! (bbox and geometry in EPSG:4326) and projection fields they give.
//!
//! Per data variable, in this order:
//!
//! 1. 1-D latitude and longitude dimension coordinates (CF `standard_name`
//!    latitude/longitude, units `degrees_north`/`degrees_east` and variants,
//!    or the names `lat`/`latitude`/`lon`/`longitude`): a rectilinear grid.
//!    Cell edges from the `bounds` variables, else half a step beyond the
//!    first and last centres.
//! 2. 1-D projected x/y dimension coordinates (`projection_x_coordinate`,
//!    `grid_longitude`, `axis = X`, ...) with a `grid_mapping` that
//!    [`arco_crs`] can invert: the edge rectangle is sampled densely in the
//!    projected plane, each point taken to longitude/latitude, and the
//!    footprint is the transformed ring (its envelope is the bbox). x/y in
//!    `km` are converted to metres; geostationary scan angles in `rad` are
//!    multiplied by `perspective_point_height` (PROJ's convention).
//! 3. 2-D auxiliary latitude/longitude (named by `coordinates` or sharing the
//!    variable's dimensions): the boundary cells' centres pushed outwards by
//!    half a cell; the bbox also holds every vertex of the `bounds` variables.
//! 4. 1-D auxiliary latitude/longitude along one dimension (trajectories,
//!    stations, GRIB's reduced and unstructured grids) or scalar ones (a
//!    fixed site): their envelope or point; positions leaving no longitude
//!    gap wider than 10° cover all longitudes.
//!
//! When no data variable has any of these, scalar latitude/longitude
//! variables anywhere, then the ACDD `geospatial_lat_min/max`,
//! `geospatial_lon_min/max` global attributes are used.

use super::cube::Roles;
use super::{text, Ctx};
use crate::geo::{self, Footprint};
use crate::{Error, Result};
use arco_core::cf::{self, Axis};
use arco_core::{AttrValue, Variable};
use arco_crs::Crs;
use serde_json::{json, Map, Value};
use std::collections::HashSet;

/// Where the data are: the footprint and how it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct Spatial {
    /// `[west, south, east, north]` in degrees (west > east across the antimeridian).
    pub bbox: [f64; 4],
    /// GeoJSON geometry (Polygon, MultiPolygon split at ±180°, LineString or Point).
    pub geometry: Value,
    /// How the footprint was computed, naming the variables used.
    pub method: String,
    /// Projection extension fields (`proj:code`, `proj:wkt2`, `proj:bbox`,
    /// `proj:shape`, `proj:transform`) of the main grid.
    pub projection: Map<String, Value>,
}

pub(crate) enum Kind<'a> {
    Rectilinear {
        lon: &'a Variable,
        lat: &'a Variable,
    },
    Projected {
        x: &'a Variable,
        y: &'a Variable,
        crs: Box<Crs>,
        mapping: &'a Variable,
    },
    Curvilinear {
        lon: &'a Variable,
        lat: &'a Variable,
    },
    Points {
        lon: &'a Variable,
        lat: &'a Variable,
    },
}

pub(crate) struct Grid<'a> {
    pub kind: Kind<'a>,
    /// Data variables on this grid.
    pub users: Vec<&'a Variable>,
}

impl Grid<'_> {
    fn same_as(&self, other: &Kind<'_>) -> bool {
        let paths = |k: &Kind<'_>| match k {
            Kind::Rectilinear { lon, lat }
            | Kind::Curvilinear { lon, lat }
            | Kind::Points { lon, lat } => (lon.path.clone(), lat.path.clone()),
            Kind::Projected { x, y, .. } => (x.path.clone(), y.path.clone()),
        };
        paths(&self.kind) == paths(other)
    }

    /// The variables that locate this grid (for `cube:variables` roles).
    pub fn coordinate_paths(&self) -> Vec<String> {
        match &self.kind {
            Kind::Rectilinear { lon, lat }
            | Kind::Curvilinear { lon, lat }
            | Kind::Points { lon, lat } => vec![lon.path.clone(), lat.path.clone()],
            Kind::Projected { x, y, .. } => vec![x.path.clone(), y.path.clone()],
        }
    }

    /// The horizontal dimensions `(x, y)` of gridded data (none for points).
    pub fn dims(&self) -> Option<(String, String)> {
        match &self.kind {
            Kind::Rectilinear { lon, lat } => Some((lon.dims[0].clone(), lat.dims[0].clone())),
            Kind::Projected { x, y, .. } => Some((x.dims[0].clone(), y.dims[0].clone())),
            Kind::Curvilinear { lat, .. } if lat.dims.len() == 2 => {
                Some((lat.dims[1].clone(), lat.dims[0].clone()))
            }
            _ => None,
        }
    }

    /// The `reference_system` of the grid's horizontal `cube:dimensions`.
    pub fn reference_system(&self) -> Option<Value> {
        match &self.kind {
            Kind::Rectilinear { .. } => Some(json!(4326)),
            Kind::Projected { crs, mapping, .. } => crs
                .epsg()
                .map(|c| json!(c))
                .or_else(|| crs.wkt2().map(Value::String))
                .or_else(|| wkt2_attribute(mapping).map(Value::String)),
            _ => None,
        }
    }
}

pub(crate) struct Grids<'a> {
    pub list: Vec<Grid<'a>>,
    /// What was examined, for the error when nothing locates the data.
    pub looked_at: Vec<String>,
}

impl<'a> Grids<'a> {
    /// The grid most data variables use (gridded before points).
    pub fn primary(&self) -> Option<&Grid<'a>> {
        self.list
            .iter()
            .max_by_key(|g| (!matches!(g.kind, Kind::Points { .. }), g.users.len()))
    }

    /// Paths of every variable that locates a grid.
    pub fn coordinate_paths(&self) -> HashSet<String> {
        self.list.iter().flat_map(Grid::coordinate_paths).collect()
    }
}

/// How a [`HorizontalGrid`] locates its cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GridKind {
    /// 1-D longitude and latitude dimension coordinates.
    Rectilinear,
    /// 1-D projected x/y dimension coordinates with a CRS.
    Projected,
    /// 2-D auxiliary longitude/latitude.
    Curvilinear,
    /// 1-D or scalar auxiliary longitude/latitude (stations, trajectories,
    /// reduced and unstructured grids).
    Points,
}

/// A horizontal grid of a dataset, as the STAC footprint finds it: what the
/// tile and time-series server locates cells with.
#[derive(Debug, Clone)]
pub struct HorizontalGrid {
    /// How the cells are located.
    pub kind: GridKind,
    /// Path of the longitude (or projected x) coordinate variable.
    pub x: String,
    /// Path of the latitude (or projected y) coordinate variable.
    pub y: String,
    /// The horizontal dimensions `(x, y)` of gridded data (none for points).
    pub dims: Option<(String, String)>,
    /// The CRS of projected grids.
    pub crs: Option<Crs>,
    /// Path of the grid-mapping variable of projected grids.
    pub mapping: Option<String>,
    /// Metres per unit of projected x and y (1000 for km; the satellite
    /// height for geostationary radians); 1 for degrees.
    pub unit_factor: f64,
    /// Paths of the data variables on this grid.
    pub users: Vec<String>,
}

/// Every horizontal grid of the dataset `reader` opened at `location`, by the
/// rules of this module (the same the STAC footprint uses).
pub fn horizontal_grids(
    reader: &dyn arco_formats::Reader,
    location: &str,
) -> Result<Vec<HorizontalGrid>> {
    let ds = reader.dataset();
    let opts = super::DescribeOptions::default();
    let ctx = Ctx {
        reader,
        ds,
        location,
        opts: &opts,
    };
    let roles = Roles::of(ds);
    let grids = detect(&ctx, &roles)?;
    Ok(grids
        .list
        .iter()
        .map(|g| {
            let (kind, x, y, crs, mapping, factor) = match &g.kind {
                Kind::Rectilinear { lon, lat } => {
                    (GridKind::Rectilinear, *lon, *lat, None, None, 1.0)
                }
                Kind::Curvilinear { lon, lat } => {
                    (GridKind::Curvilinear, *lon, *lat, None, None, 1.0)
                }
                Kind::Points { lon, lat } => (GridKind::Points, *lon, *lat, None, None, 1.0),
                Kind::Projected { x, y, crs, mapping } => (
                    GridKind::Projected,
                    *x,
                    *y,
                    Some((**crs).clone()),
                    Some(mapping.path.clone()),
                    unit_factor(x, mapping),
                ),
            };
            HorizontalGrid {
                kind,
                x: x.path.clone(),
                y: y.path.clone(),
                dims: g.dims(),
                crs,
                mapping,
                unit_factor: factor,
                users: g.users.iter().map(|v| v.path.clone()).collect(),
            }
        })
        .collect())
}

const NORTH: [&str; 6] = [
    "degrees_north",
    "degree_north",
    "degree_n",
    "degrees_n",
    "degreen",
    "degreesn",
];
const EAST: [&str; 6] = [
    "degrees_east",
    "degree_east",
    "degree_e",
    "degrees_e",
    "degreee",
    "degreese",
];

/// `Some(Y)` for a latitude, `Some(X)` for a longitude (geographic degrees).
pub(crate) fn geo_axis(v: &Variable) -> Option<Axis> {
    let units = text(v, "units").map(str::to_ascii_lowercase);
    let sn = text(v, "standard_name").map(str::to_ascii_lowercase);
    if sn.as_deref() == Some("latitude") || units.as_deref().is_some_and(|u| NORTH.contains(&u)) {
        return Some(Axis::Y);
    }
    if sn.as_deref() == Some("longitude") || units.as_deref().is_some_and(|u| EAST.contains(&u)) {
        return Some(Axis::X);
    }
    if sn.is_some() {
        return None;
    }
    let degrees = units.as_deref().is_none_or(|u| u.starts_with("degree"));
    let name = v.name.to_ascii_lowercase();
    match name.as_str() {
        "lat" | "latitude" | "lats" | "nav_lat" if degrees => Some(Axis::Y),
        "lon" | "longitude" | "lons" | "nav_lon" | "long" if degrees => Some(Axis::X),
        _ => None,
    }
}

/// The 1-D coordinate variable of dimension `dim` seen from `var`.
fn dim_coord<'a>(ctx: &Ctx<'a>, var: &Variable, dim: &str) -> Option<&'a Variable> {
    cf::resolve(dim, var, ctx.ds).filter(|c| c.dims.len() == 1 && c.dims[0] == dim)
}

/// A projected axis: CF axis X/Y that is not geographic.
fn projected_axis(c: &Variable, has_mapping: bool) -> Option<Axis> {
    match cf::axis_kind(c) {
        Some(a @ (Axis::X | Axis::Y)) => Some(a),
        _ if has_mapping => match c.name.to_ascii_lowercase().as_str() {
            "x" | "xc" | "rlon" => Some(Axis::X),
            "y" | "yc" | "rlat" => Some(Axis::Y),
            _ => None,
        },
        _ => None,
    }
}

/// WKT2 from a grid mapping's `crs_wkt` (or GDAL's `spatial_ref`) attribute,
/// when it is WKT2 (not WKT1).
fn wkt2_attribute(mapping: &Variable) -> Option<String> {
    let wkt = text(mapping, "crs_wkt").or_else(|| text(mapping, "spatial_ref"))?;
    const WKT2: [&str; 9] = [
        "PROJCRS[",
        "GEOGCRS[",
        "GEODCRS[",
        "BOUNDCRS[",
        "COMPOUNDCRS[",
        "VERTCRS[",
        "ENGCRS[",
        "DERIVEDPROJCRS[",
        "GEODETICCRS[",
    ];
    let upper = wkt.trim_start().to_ascii_uppercase();
    WKT2.iter()
        .any(|k| upper.starts_with(k))
        .then(|| wkt.to_string())
}

/// Find the grid of every data variable.
pub(crate) fn detect<'a>(ctx: &Ctx<'a>, roles: &Roles<'a>) -> Result<Grids<'a>> {
    let ds = ctx.ds;
    let all = ds.root.all_variables();
    let mut grids = Grids {
        list: Vec::new(),
        looked_at: Vec::new(),
    };
    let mut notes: Vec<String> = Vec::new();
    let mut push_note = |n: String| {
        if !notes.contains(&n) {
            notes.push(n);
        }
    };
    for &v in &roles.data {
        // Latitude/longitude variables locate other variables; they are not
        // located themselves (unless nothing else is, see below).
        if v.dims.is_empty() || geo_axis(v).is_some() {
            continue;
        }
        let mapping = cf::grid_mapping(v, ds);
        let (mut geo_x, mut geo_y, mut proj_x, mut proj_y) = (None, None, None, None);
        let mut no_coord = Vec::new();
        for d in &v.dims {
            let Some(c) = dim_coord(ctx, v, d) else {
                no_coord.push(d.as_str());
                continue;
            };
            match geo_axis(c) {
                Some(Axis::X) => geo_x = Some(c),
                Some(Axis::Y) => geo_y = Some(c),
                _ => match projected_axis(c, mapping.is_some()) {
                    Some(Axis::X) => proj_x = Some(c),
                    Some(Axis::Y) => proj_y = Some(c),
                    _ => {}
                },
            }
        }
        let mut found: Option<Kind<'a>> = None;
        if let (Some(lon), Some(lat)) = (geo_x, geo_y) {
            found = Some(Kind::Rectilinear { lon, lat });
        }
        if found.is_none() {
            if let (Some(x), Some(y)) = (proj_x, proj_y) {
                match mapping {
                    Some(m) => match Crs::from_cf(&m.attributes) {
                        Ok(crs) if crs.is_geographic() => {
                            found = Some(Kind::Rectilinear { lon: x, lat: y })
                        }
                        Ok(crs) => {
                            found = Some(Kind::Projected {
                                x,
                                y,
                                crs: Box::new(crs),
                                mapping: m,
                            })
                        }
                        Err(e) => push_note(format!(
                            "{} uses projected coordinates {}, {} with grid mapping {}: {e}",
                            v.path, x.path, y.path, m.path
                        )),
                    },
                    None => push_note(format!(
                        "{} has projected coordinates {}, {} but no grid_mapping",
                        v.path, x.path, y.path
                    )),
                }
            }
        }
        if found.is_none() {
            // Auxiliary coordinates: named by `coordinates`, or any latitude /
            // longitude whose dimensions are among the variable's.
            let mut aux: Vec<&'a Variable> = Vec::new();
            let mut missing = Vec::new();
            for name in cf::coordinates(v) {
                match cf::resolve(&name, v, ds) {
                    Some(c) => aux.push(c),
                    None => missing.push(name),
                }
            }
            if !missing.is_empty() {
                push_note(format!(
                    "{}: its coordinates attribute names {}, not found in the dataset",
                    v.path,
                    missing.join(", ")
                ));
            }
            for &c in &all {
                if !c.dims.is_empty()
                    && c.dims.iter().all(|d| v.dims.contains(d))
                    && !aux.iter().any(|a| a.path == c.path)
                {
                    aux.push(c);
                }
            }
            let pick = |axis: Axis, rank: usize| {
                aux.iter()
                    .copied()
                    .find(|c| c.dims.len() == rank && geo_axis(c) == Some(axis))
            };
            if let (Some(lon), Some(lat)) = (pick(Axis::X, 2), pick(Axis::Y, 2)) {
                if lon.dims == lat.dims {
                    found = Some(Kind::Curvilinear { lon, lat });
                }
            }
            if found.is_none() {
                for rank in [1, 0] {
                    if let (Some(lon), Some(lat)) = (pick(Axis::X, rank), pick(Axis::Y, rank)) {
                        if lon.dims == lat.dims {
                            found = Some(Kind::Points { lon, lat });
                            break;
                        }
                    }
                }
            }
        }
        match found {
            Some(kind) => match grids.list.iter_mut().find(|g| g.same_as(&kind)) {
                Some(g) => g.users.push(v),
                None => grids.list.push(Grid {
                    kind,
                    users: vec![v],
                }),
            },
            None => {
                let dims = if no_coord.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (dimension{} {} without coordinate variable)",
                        if no_coord.len() > 1 { "s" } else { "" },
                        no_coord.join(", ")
                    )
                };
                push_note(format!(
                    "{}({}): no latitude/longitude or projected x/y coordinates{dims}",
                    v.path,
                    v.dims.join(", ")
                ));
            }
        }
    }
    if grids.list.is_empty() {
        // Only latitude/longitude variables: they are their own positions.
        let lon = roles
            .data
            .iter()
            .copied()
            .find(|c| !c.dims.is_empty() && geo_axis(c) == Some(Axis::X));
        let lat = roles
            .data
            .iter()
            .copied()
            .find(|c| !c.dims.is_empty() && geo_axis(c) == Some(Axis::Y));
        if let (Some(lon), Some(lat)) = (lon, lat) {
            if lon.dims == lat.dims {
                let kind = if lon.dims.len() == 2 {
                    Kind::Curvilinear { lon, lat }
                } else {
                    Kind::Points { lon, lat }
                };
                grids.list.push(Grid {
                    kind,
                    users: Vec::new(),
                });
            }
        }
    }
    if grids.list.is_empty() {
        // A fixed site: scalar latitude and longitude anywhere.
        let lon = all
            .iter()
            .copied()
            .find(|c| c.dims.is_empty() && geo_axis(c) == Some(Axis::X));
        let lat = all
            .iter()
            .copied()
            .find(|c| c.dims.is_empty() && geo_axis(c) == Some(Axis::Y));
        if let (Some(lon), Some(lat)) = (lon, lat) {
            grids.list.push(Grid {
                kind: Kind::Points { lon, lat },
                users: Vec::new(),
            });
        }
    }
    if roles.data.is_empty() {
        push_note("no data variables".into());
    }
    grids.looked_at = notes;
    if grids.list.is_empty() {
        grids
            .looked_at
            .push("global attributes: no geospatial_lat_min/max and geospatial_lon_min/max".into());
    }
    Ok(grids)
}

/// A number from a global attribute (numeric or text).
fn global_number(ctx: &Ctx<'_>, name: &str) -> Option<f64> {
    match ctx.ds.root.attr(name)? {
        AttrValue::Text(t) => t.trim().parse().ok(),
        v => v.as_f64(),
    }
    .filter(|x: &f64| x.is_finite())
}

/// The footprint of all grids (their union), or the ACDD attributes' box.
pub(crate) fn footprint(
    ctx: &Ctx<'_>,
    grids: &Grids<'_>,
    notes: &mut Vec<String>,
) -> Result<Option<Spatial>> {
    let mut parts: Vec<GridFootprint> = Vec::new();
    let primary = grids.primary().map(|g| g.coordinate_paths());
    let mut main_index = 0;
    for g in &grids.list {
        if let Some((f, method, proj)) = grid_footprint(ctx, g)? {
            if Some(g.coordinate_paths()) == primary {
                main_index = parts.len();
            }
            parts.push((f, method, proj));
        }
    }
    if parts.is_empty() {
        let lat = (
            global_number(ctx, "geospatial_lat_min"),
            global_number(ctx, "geospatial_lat_max"),
        );
        let lon = (
            global_number(ctx, "geospatial_lon_min"),
            global_number(ctx, "geospatial_lon_max"),
        );
        if let ((Some(s), Some(n)), (Some(w), Some(e))) = (lat, lon) {
            let e = if e < w { e + 360.0 } else { e };
            let f = geo::rect_footprint(w, e, s, n);
            notes.push("footprint from the ACDD geospatial_* global attributes".into());
            return Ok(Some(Spatial {
                bbox: f.bbox,
                geometry: f.geometry,
                method: "ACDD geospatial_lat_min/max, geospatial_lon_min/max global attributes"
                    .into(),
                projection: Map::new(),
            }));
        }
        return Ok(None);
    }
    if parts.len() == 1 {
        let (f, method, projection) = parts.remove(0);
        return Ok(Some(Spatial {
            bbox: f.bbox,
            geometry: f.geometry,
            method,
            projection,
        }));
    }
    let boxes: Vec<[f64; 4]> = parts.iter().map(|p| p.0.bbox).collect();
    let Some(b) = geo::union_bbox(&boxes) else {
        return Ok(None);
    };
    let east = if b[2] < b[0] { b[2] + 360.0 } else { b[2] };
    let f = geo::rect_footprint(b[0], east, b[1], b[3]);
    let methods: Vec<String> = parts.iter().map(|p| p.1.clone()).collect();
    Ok(Some(Spatial {
        bbox: f.bbox,
        geometry: f.geometry,
        method: format!("union of {}", methods.join("; ")),
        projection: parts.swap_remove(main_index).2,
    }))
}

/// A grid's footprint, how it was found, and its projection fields.
type GridFootprint = (Footprint, String, Map<String, Value>);

/// Finite values, or an error naming the variable when there are none.
fn finite(ctx: &Ctx<'_>, var: &Variable, values: &[f64]) -> Result<()> {
    if values.iter().any(|v| v.is_finite()) || values.is_empty() && var.shape.contains(&0) {
        return Ok(());
    }
    Err(Error::Coordinates {
        dataset: ctx.location.to_string(),
        variable: var.path.clone(),
        reason: if values.is_empty() {
            "has no values".into()
        } else {
            "has no valid values (all are fill values or NaN)".into()
        },
    })
}

/// Values of the `bounds` variable of a 1-D coordinate, if any.
fn bounds_values(ctx: &Ctx<'_>, coord: &Variable) -> Result<Option<Vec<f64>>> {
    let group_path = match coord.path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &coord.path[..i],
    };
    let Some(group) = ctx.ds.group(group_path) else {
        return Ok(None);
    };
    match cf::bounds_of(coord, group) {
        Some(b) => Ok(Some(ctx.read_f64(b)?)),
        None => Ok(None),
    }
}

/// The low and high cell edges along a 1-D coordinate (longitudes unwrapped).
pub(crate) fn edges(centres: &[f64], bounds: Option<&[f64]>, unwrap: bool) -> Option<(f64, f64)> {
    let first = centres.iter().copied().find(|v| v.is_finite())?;
    // Each centre unwrapped next to the previous one (bit for bit unchanged
    // when no wrap happens).
    let mut u: Vec<f64> = Vec::with_capacity(centres.len());
    let mut prev = first;
    for &v in centres {
        if !v.is_finite() {
            u.push(f64::NAN);
            continue;
        }
        let w = if unwrap { geo::unwrap_near(prev, v) } else { v };
        prev = w;
        u.push(w);
    }
    let finite: Vec<f64> = u.iter().copied().filter(|v| v.is_finite()).collect();
    let mut lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let mut hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    match bounds {
        Some(b) if !b.is_empty() && b.len() % centres.len().max(1) == 0 => {
            let per = b.len() / centres.len();
            for (i, &c) in u.iter().enumerate() {
                if !c.is_finite() {
                    continue;
                }
                for &bv in &b[i * per..(i + 1) * per] {
                    if bv.is_finite() {
                        let e = if unwrap { geo::unwrap_near(c, bv) } else { bv };
                        lo = lo.min(e);
                        hi = hi.max(e);
                    }
                }
            }
        }
        _ if finite.len() >= 2 => {
            let n = finite.len();
            let a = finite[0] - (finite[1] - finite[0]) / 2.0;
            let b = finite[n - 1] + (finite[n - 1] - finite[n - 2]) / 2.0;
            lo = lo.min(a.min(b));
            hi = hi.max(a.max(b));
        }
        _ => {}
    }
    Some((lo, hi))
}

/// The constant step of `v`, if it has one (within float32 rounding).
pub(crate) fn regular_step(v: &[f64]) -> Option<f64> {
    if v.len() < 2 || v.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let n = v.len();
    let step = (v[n - 1] - v[0]) / (n - 1) as f64;
    if step == 0.0 {
        return None;
    }
    let max_abs = v.iter().fold(0.0_f64, |m, x| m.max(x.abs()));
    let tol = 1e-5 * step.abs() + 1e-6 * max_abs;
    v.windows(2)
        .all(|w| ((w[1] - w[0]) - step).abs() <= tol)
        .then_some(step)
}

/// Metres per unit of projected coordinates (km → 1000; geostationary
/// radians → the satellite height).
fn unit_factor(coord: &Variable, mapping: &Variable) -> f64 {
    match text(coord, "units").map(str::to_ascii_lowercase).as_deref() {
        Some("km" | "kilometer" | "kilometers" | "kilometre" | "kilometres") => 1000.0,
        Some("rad" | "radian" | "radians") => mapping
            .attr("perspective_point_height")
            .and_then(AttrValue::as_f64)
            .unwrap_or(1.0),
        _ => 1.0,
    }
}

/// `proj:shape` and `proj:transform` for a regular grid whose x values run
/// along dimension `xd` and y along `yd` of data variable `user`.
fn shape_transform(
    user: Option<&Variable>,
    (xd, yd): (&str, &str),
    (x, y): (&[f64], &[f64]),
    proj: &mut Map<String, Value>,
) {
    let (nx, ny) = (x.len(), y.len());
    let row_is_y = user
        .and_then(|u| {
            let xi = u.dims.iter().position(|d| d == xd)?;
            let yi = u.dims.iter().position(|d| d == yd)?;
            Some(yi < xi)
        })
        .unwrap_or(true);
    let shape = if row_is_y { [ny, nx] } else { [nx, ny] };
    proj.insert("proj:shape".into(), json!(shape));
    if let (Some(dx), Some(dy)) = (regular_step(x), regular_step(y)) {
        let (x0, y0) = (x[0] - dx / 2.0, y[0] - dy / 2.0);
        let t = if row_is_y {
            [dx, 0.0, x0, 0.0, dy, y0]
        } else {
            [0.0, dx, x0, dy, 0.0, y0]
        };
        proj.insert("proj:transform".into(), json!(t));
    }
}

fn grid_footprint(ctx: &Ctx<'_>, g: &Grid<'_>) -> Result<Option<GridFootprint>> {
    let user = g.users.first().copied();
    match &g.kind {
        Kind::Rectilinear { lon, lat } => {
            let lons = ctx.read_f64(lon)?;
            let lats = ctx.read_f64(lat)?;
            finite(ctx, lon, &lons)?;
            finite(ctx, lat, &lats)?;
            let lon_b = bounds_values(ctx, lon)?;
            let lat_b = bounds_values(ctx, lat)?;
            let (Some((w, e)), Some((s, n))) = (
                edges(&lons, lon_b.as_deref(), true),
                edges(&lats, lat_b.as_deref(), false),
            ) else {
                return Ok(None);
            };
            let f = geo::rect_footprint(w, e, s, n);
            let how = if lon_b.is_some() || lat_b.is_some() {
                "their bounds"
            } else {
                "half a cell beyond the first and last centres"
            };
            let method = format!(
                "1-D latitude/longitude coordinates {} and {}, cell edges from {how}",
                lat.path, lon.path
            );
            let mut proj = Map::new();
            // A geographic grid mapping (NAD83, ETRS89, ...) names its own
            // datum; without one, CF latitude/longitude are WGS 84.
            let own = user
                .and_then(|u| cf::grid_mapping(u, ctx.ds))
                .and_then(|m| Crs::from_cf(&m.attributes).ok())
                .filter(Crs::is_geographic);
            match own.as_ref().and_then(|c| c.epsg()) {
                Some(code) => {
                    proj.insert("proj:code".into(), json!(format!("EPSG:{code}")));
                }
                None => match own.as_ref().and_then(Crs::wkt2) {
                    Some(w) => {
                        proj.insert("proj:code".into(), Value::Null);
                        proj.insert("proj:wkt2".into(), json!(w));
                    }
                    None => {
                        proj.insert("proj:code".into(), json!("EPSG:4326"));
                    }
                },
            }
            // In the data's own longitude convention (unwrapped from the
            // first longitude), so west < east even across ±180°.
            proj.insert("proj:bbox".into(), json!([w, s.max(-90.0), e, n.min(90.0)]));
            shape_transform(
                user,
                (lon.dims[0].as_str(), lat.dims[0].as_str()),
                (&lons, &lats),
                &mut proj,
            );
            Ok(Some((f, method, proj)))
        }
        Kind::Projected { x, y, crs, mapping } => {
            let fx = unit_factor(x, mapping);
            let fy = unit_factor(y, mapping);
            let xs: Vec<f64> = ctx.read_f64(x)?.iter().map(|v| v * fx).collect();
            let ys: Vec<f64> = ctx.read_f64(y)?.iter().map(|v| v * fy).collect();
            finite(ctx, x, &xs)?;
            finite(ctx, y, &ys)?;
            let xb = bounds_values(ctx, x)?.map(|b| b.iter().map(|v| v * fx).collect::<Vec<_>>());
            let yb = bounds_values(ctx, y)?.map(|b| b.iter().map(|v| v * fy).collect::<Vec<_>>());
            let (Some((x0, x1)), Some((y0, y1))) = (
                edges(&xs, xb.as_deref(), false),
                edges(&ys, yb.as_deref(), false),
            ) else {
                return Ok(None);
            };
            let n = ctx.opts.boundary_samples.max(2);
            let mut ring = Vec::with_capacity(4 * n);
            let lerp = |a: f64, b: f64, i: usize| a + (b - a) * i as f64 / n as f64;
            let mut failures = 0usize;
            let mut last_error = None;
            let mut push = |px: f64, py: f64| match crs.to_lonlat(px, py) {
                Ok((lo, la)) if lo.is_finite() && la.is_finite() => ring.push((lo, la)),
                Ok(_) => failures += 1,
                Err(e) => {
                    failures += 1;
                    last_error = Some(e.to_string());
                }
            };
            for i in 0..n {
                push(lerp(x0, x1, i), y0);
            }
            for i in 0..n {
                push(x1, lerp(y0, y1, i));
            }
            for i in 0..n {
                push(lerp(x1, x0, i), y1);
            }
            for i in 0..n {
                push(x0, lerp(y1, y0, i));
            }
            if ring.len() < 3 {
                return Err(Error::Coordinates {
                    dataset: ctx.location.to_string(),
                    variable: x.path.clone(),
                    reason: format!(
                        "the grid boundary could not be taken to longitude/latitude through grid mapping {} ({} of {} points failed{})",
                        mapping.path,
                        failures,
                        4 * n,
                        last_error.map(|e| format!(": {e}")).unwrap_or_default()
                    ),
                });
            }
            let Some(mut f) = geo::ring_footprint(&ring) else {
                return Ok(None);
            };
            // A pole inside the grid: the ring winds around it, but make sure.
            for (pole, lat) in [(1.0, 90.0), (-1.0, -90.0)] {
                if let Ok((px, py)) = crs.from_lonlat(0.0, lat) {
                    let inside = px.is_finite()
                        && py.is_finite()
                        && px >= x0.min(x1)
                        && px <= x0.max(x1)
                        && py >= y0.min(y1)
                        && py <= y0.max(y1);
                    if inside {
                        let (s, n) = if pole > 0.0 {
                            (f.bbox[1], 90.0)
                        } else {
                            (-90.0, f.bbox[3])
                        };
                        f = geo::rect_footprint(-180.0, 180.0, s, n);
                    }
                }
            }
            let method = format!(
                "projected coordinates {} and {} through grid mapping {} ({} points along the cell-edge boundary{})",
                x.path,
                y.path,
                mapping.path,
                ring.len(),
                if failures > 0 {
                    format!(", {failures} outside the projection's domain left out")
                } else {
                    String::new()
                }
            );
            let mut proj = Map::new();
            let code = crs.epsg().map(|c| format!("EPSG:{c}"));
            let wkt2 = crs.wkt2().or_else(|| wkt2_attribute(mapping));
            if code.is_some() || wkt2.is_some() {
                proj.insert("proj:code".into(), json!(code));
                if let Some(w) = wkt2 {
                    proj.insert("proj:wkt2".into(), json!(w));
                }
                proj.insert(
                    "proj:bbox".into(),
                    json!([x0.min(x1), y0.min(y1), x0.max(x1), y0.max(y1)]),
                );
                shape_transform(
                    user,
                    (x.dims[0].as_str(), y.dims[0].as_str()),
                    (&xs, &ys),
                    &mut proj,
                );
            }
            Ok(Some((f, method, proj)))
        }
        Kind::Curvilinear { lon, lat } => {
            let lons = ctx.read_f64(lon)?;
            let lats = ctx.read_f64(lat)?;
            finite(ctx, lon, &lons)?;
            finite(ctx, lat, &lats)?;
            let (ny, nx) = (lat.shape[0] as usize, lat.shape[1] as usize);
            if lons.len() != ny * nx || lats.len() != ny * nx {
                return Err(Error::Coordinates {
                    dataset: ctx.location.to_string(),
                    variable: lon.path.clone(),
                    reason: format!("expected {ny}x{nx} values like {}", lat.path),
                });
            }
            let ring = curvilinear_ring(&lons, &lats, ny, nx, ctx.opts.boundary_samples.max(2));
            let f = if ring.iter().all(|(a, b)| a.is_finite() && b.is_finite()) {
                geo::ring_footprint(&ring)
            } else {
                // Missing positions on the edge: fall back to the envelope.
                let pts: Vec<(f64, f64)> = lons.iter().copied().zip(lats.iter().copied()).collect();
                geo::points_footprint(&pts)
            };
            let Some(mut f) = f else {
                return Ok(None);
            };
            let lon_b = bounds_values(ctx, lon)?;
            let lat_b = bounds_values(ctx, lat)?;
            if let (Some(lb), Some(ab)) = (&lon_b, &lat_b) {
                // Every vertex of the cells belongs in the bbox.
                let verts: Vec<(f64, f64)> = lb.iter().copied().zip(ab.iter().copied()).collect();
                if let Some(v) = geo::points_footprint(&verts) {
                    if let Some(u) = geo::union_bbox(&[f.bbox, v.bbox]) {
                        f.bbox = u;
                    }
                }
            }
            let method = format!(
                "2-D auxiliary coordinates {} and {}: the boundary cells' centres pushed out by half a cell{}",
                lat.path,
                lon.path,
                if lon_b.is_some() && lat_b.is_some() {
                    ", bbox widened to every cell vertex of their bounds"
                } else {
                    ""
                }
            );
            Ok(Some((f, method, Map::new())))
        }
        Kind::Points { lon, lat } => {
            let lons = ctx.read_f64(lon)?;
            let lats = ctx.read_f64(lat)?;
            finite(ctx, lon, &lons)?;
            finite(ctx, lat, &lats)?;
            let pts: Vec<(f64, f64)> = lons.iter().copied().zip(lats.iter().copied()).collect();
            let Some(f) = geo::points_footprint(&pts) else {
                return Ok(None);
            };
            let mut proj = Map::new();
            proj.insert("proj:code".into(), json!("EPSG:4326"));
            let method = format!(
                "{} position{} from {} and {}",
                pts.len(),
                if pts.len() == 1 { "" } else { "s" },
                lat.path,
                lon.path
            );
            Ok(Some((f, method, proj)))
        }
    }
}

/// The boundary of a 2-D lon/lat grid (`ny` rows of `nx`), each boundary
/// centre pushed outwards by half the distance to its inner neighbour, with
/// at most `samples` points per side.
fn curvilinear_ring(
    lons: &[f64],
    lats: &[f64],
    ny: usize,
    nx: usize,
    samples: usize,
) -> Vec<(f64, f64)> {
    let at = |j: usize, i: usize| (lons[j * nx + i], lats[j * nx + i]);
    // Outward offset of (j, i) along one index direction: half of (p - inner).
    let push = |p: (f64, f64), inner: Option<(f64, f64)>| match inner {
        Some(q) => (p.0 + geo::delta(q.0, p.0) / 2.0, p.1 + (p.1 - q.1) / 2.0),
        None => p,
    };
    let point = |j: usize, i: usize| {
        let p = at(j, i);
        let mut out = p;
        let mut shift = |inner: Option<(f64, f64)>| {
            let q = push(p, inner);
            out.0 += geo::delta(p.0, q.0);
            out.1 += q.1 - p.1;
        };
        if j == 0 && ny > 1 {
            shift(Some(at(1, i)));
        }
        if j == ny - 1 && ny > 1 {
            shift(Some(at(ny - 2, i)));
        }
        if i == 0 && nx > 1 {
            shift(Some(at(j, 1)));
        }
        if i == nx - 1 && nx > 1 {
            shift(Some(at(j, nx - 2)));
        }
        out
    };
    let steps = |n: usize| -> Vec<usize> {
        if n <= samples {
            (0..n).collect()
        } else {
            let mut v: Vec<usize> = (0..samples).map(|k| k * (n - 1) / samples).collect();
            v.dedup();
            v
        }
    };
    let mut ring = Vec::new();
    for i in steps(nx.saturating_sub(1).max(1)) {
        ring.push(point(0, i));
    }
    for j in steps(ny.saturating_sub(1).max(1)) {
        ring.push(point(j, nx - 1));
    }
    for i in steps(nx.saturating_sub(1).max(1)) {
        ring.push(point(ny - 1, nx - 1 - i));
    }
    for j in steps(ny.saturating_sub(1).max(1)) {
        ring.push(point(ny - 1 - j, 0));
    }
    ring
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_add_half_a_step_and_unwrap_longitudes() {
        let lons = [170.0, 175.0, 180.0, -175.0, -170.0];
        assert_eq!(edges(&lons, None, true), Some((167.5, 192.5)));
        let lats = [90.0, 87.0, 84.0];
        assert_eq!(edges(&lats, None, false), Some((82.5, 91.5)));
        let b = [0.0, 1.0, 1.0, 2.0];
        assert_eq!(edges(&[0.5, 1.5], Some(&b), false), Some((0.0, 2.0)));
    }

    #[test]
    fn regular_steps_tolerate_float32_rounding() {
        let v: Vec<f64> = (0..10).map(|i| f64::from(i as f32 * 0.1_f32)).collect();
        assert!(regular_step(&v).is_some());
        assert_eq!(regular_step(&[0.0, 1.0, 3.0]), None);
    }
}
