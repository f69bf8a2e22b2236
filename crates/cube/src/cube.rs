//! A dataset opened for georeferenced queries: variables, their horizontal
//! grids and labelled dimensions, multiscale levels, and cached reads.

use crate::axis::Axis1D;
use crate::cache::ChunkCache;
use crate::labels::{DimSel, Labels};
use crate::{Error, Result};
use arco_catalog::GridKind;
use arco_core::cf::{self, CfDecoder};
use arco_core::{ChunkGrid, Dataset, DimSlice, Selection, Values, Variable};
use arco_crs::Crs;
use arco_formats::Reader;
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Metres per degree along the equator (WGS 84), to compare geographic and
/// projected resolutions.
pub const METRES_PER_DEGREE: f64 = 111_319.490_793_273_57;

/// Most values one read may return (a guard against requests that would
/// exhaust memory: 32 Mi values = 256 MiB of `f64`).
pub const MAX_READ_VALUES: u64 = 32 << 20;

/// Largest decoded chunk kept as one cache entry; variables stored in larger
/// chunks are read in smaller pieces (2 Mi values = 16 MiB).
const MAX_CHUNK_VALUES: u64 = 2 << 20;

static NEXT_UID: AtomicU64 = AtomicU64::new(1);

/// A grid as built for its users: the grid, or why there is none, and its
/// `(x, y)` dimensions.
type BuiltGrid = (Option<Arc<HGrid>>, Option<String>, Option<(String, String)>);

/// The labels of the dimensions a selection fixed: `(dimension, label)`.
pub type Fixed = Vec<(String, serde_json::Value)>;

/// Where the cells of one chunk are, for [`Cube::sample`].
struct ChunkCursor<'a> {
    key: (u64, u64),
    row0: u64,
    col0: u64,
    row_stride: u64,
    col_stride: u64,
    offset: u64,
    values: &'a Arc<Vec<f64>>,
}

/// A horizontal grid with 1-D axes.
#[derive(Debug, Clone)]
pub struct HGrid {
    /// Longitudes (geographic) or projected x in metres.
    pub x: Axis1D,
    /// Latitudes (geographic) or projected y in metres.
    pub y: Axis1D,
    /// The CRS of a projected grid; `None` for longitude/latitude.
    pub crs: Option<Crs>,
    /// `[west, south, east, north]` in degrees (west > east across the antimeridian).
    pub bounds: [f64; 4],
    /// The west edge longitudes are wrapped from (geographic grids).
    lon_origin: f64,
}

impl HGrid {
    fn geographic(x: Axis1D, y: Axis1D) -> HGrid {
        let (w, e) = x.edges();
        let (s, n) = y.edges();
        let (s, n) = (s.max(-90.0), n.min(90.0));
        let bounds = if e - w >= 359.999 {
            [-180.0, s, 180.0, n]
        } else {
            let wrap = |l: f64| ((l + 180.0).rem_euclid(360.0)) - 180.0;
            let (ww, ee) = (wrap(w), wrap(e));
            // A box ending exactly at +180 keeps that end.
            let ee = if ee == -180.0 && e > w { 180.0 } else { ee };
            [ww, s, ee, n]
        };
        HGrid {
            x,
            y,
            crs: None,
            bounds,
            lon_origin: w,
        }
    }

    fn projected(x: Axis1D, y: Axis1D, crs: Crs) -> HGrid {
        let (x0, x1) = x.edges();
        let (y0, y1) = y.edges();
        let mut pts = Vec::new();
        let n = 64;
        for i in 0..=n {
            let t = i as f64 / n as f64;
            let xs = x0 + (x1 - x0) * t;
            let ys = y0 + (y1 - y0) * t;
            pts.extend([(xs, y0), (xs, y1), (x0, ys), (x1, ys)]);
        }
        let mut b = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for (px, py) in pts {
            if let Ok((lon, lat)) = crs.to_lonlat(px, py) {
                if lon.is_finite() && lat.is_finite() {
                    b[0] = b[0].min(lon);
                    b[1] = b[1].min(lat);
                    b[2] = b[2].max(lon);
                    b[3] = b[3].max(lat);
                }
            }
        }
        if !b[0].is_finite() {
            b = [-180.0, -90.0, 180.0, 90.0];
        }
        HGrid {
            x,
            y,
            crs: Some(crs),
            bounds: b,
            lon_origin: -180.0,
        }
    }

    /// True for a longitude/latitude grid.
    pub fn is_geographic(&self) -> bool {
        self.crs.is_none()
    }

    /// A longitude/latitude in this grid's coordinates (x, y): longitudes
    /// wrapped to the grid's range, or projected.
    pub fn to_grid(&self, lon: f64, lat: f64) -> Option<(f64, f64)> {
        match &self.crs {
            None => Some((self.wrap_lon(lon), lat)),
            Some(crs) => crs.from_lonlat(lon, lat).ok(),
        }
    }

    /// `lon` shifted by whole turns into `[west edge, west edge + 360)`.
    pub fn wrap_lon(&self, lon: f64) -> f64 {
        let o = self.lon_origin;
        o + (lon - o).rem_euclid(360.0)
    }

    /// The fractional `(row, column)` position of a longitude/latitude —
    /// rows along y, columns along x — or `None` outside the grid.
    pub fn locate(&self, lon: f64, lat: f64) -> Option<(f64, f64)> {
        let (gx, gy) = self.to_grid(lon, lat)?;
        Some((self.y.position(gy)?, self.x.position(gx)?))
    }

    /// The nearest cell `(row, column)` of a longitude/latitude.
    pub fn nearest(&self, lon: f64, lat: f64) -> Option<(u64, u64)> {
        let (gx, gy) = self.to_grid(lon, lat)?;
        Some((self.y.nearest(gy)? as u64, self.x.nearest(gx)? as u64))
    }

    /// The longitude/latitude of cell `(row, column)`'s centre.
    pub fn cell_lonlat(&self, row: usize, col: usize) -> Option<(f64, f64)> {
        let (x, y) = (*self.x.values.get(col)?, *self.y.values.get(row)?);
        match &self.crs {
            None => Some((x, y)),
            Some(crs) => crs.to_lonlat(x, y).ok(),
        }
    }

    /// The cell size in metres (degrees × metres per degree at the equator
    /// for geographic grids): the finer of x and y.
    pub fn resolution_m(&self) -> f64 {
        let r = self.x.resolution().min(self.y.resolution());
        if self.is_geographic() {
            r * METRES_PER_DEGREE
        } else {
            r
        }
    }

    /// `(rows, columns)`.
    pub fn shape(&self) -> (usize, usize) {
        (self.y.len(), self.x.len())
    }
}

/// A coarser copy of a variable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    /// Index of the level's variable in [`Cube::all_variables`].
    pub var: usize,
    /// How many base cells one level cell spans along x.
    pub factor: f64,
}

/// One variable of a cube.
#[derive(Debug)]
pub struct VarView {
    /// The name used in requests: the path without its leading `/`.
    pub name: String,
    /// The variable's metadata.
    pub var: Variable,
    /// Its horizontal grid, when it has one.
    pub grid: Option<Arc<HGrid>>,
    /// Why it has none (for error messages).
    pub no_grid: Option<String>,
    /// Positions of the y and x dimensions in `var.dims` (with a grid).
    pub yx: Option<(usize, usize)>,
    /// Labels of every dimension (the horizontal ones hold the coordinates).
    pub labels: Vec<Labels>,
    /// The chunk shape reads are cached by.
    pub chunk: Vec<u64>,
    /// Coarser levels, finest first.
    pub levels: Vec<Level>,
    /// The base variable when this is a level of another.
    pub level_of: Option<usize>,
    decoder: CfDecoder,
    key: Arc<str>,
    range: std::sync::OnceLock<Option<[f64; 2]>>,
}

impl VarView {
    /// Text attribute.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.var
            .attr(name)
            .and_then(arco_core::AttrValue::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    /// The type of the CF-decoded values (`float32` for packed or masked
    /// `float32`/small-integer data, `float64`, or the stored type).
    pub fn decoded_dtype(&self) -> arco_core::DType {
        self.decoder.output_dtype()
    }

    /// Units, if any.
    pub fn units(&self) -> Option<&str> {
        self.text("units")
    }

    /// `long_name`, else `standard_name`, else the name.
    pub fn title(&self) -> &str {
        self.text("long_name")
            .or_else(|| self.text("standard_name"))
            .unwrap_or(&self.name)
    }

    /// The dimension index of `dim`, or an error listing the dimensions.
    pub fn dim_index(&self, dataset: &str, dim: &str) -> Result<usize> {
        self.var
            .dims
            .iter()
            .position(|d| d == dim)
            .ok_or_else(|| Error::BadSelection {
                dataset: dataset.to_string(),
                message: format!(
                    "variable '{}' has no dimension '{dim}'; its dimensions are {}",
                    self.name,
                    self.var.dims.join(", ")
                ),
            })
    }

    /// The dimensions other than the horizontal ones.
    pub fn other_dims(&self) -> Vec<usize> {
        (0..self.var.dims.len())
            .filter(|&d| self.yx.is_none_or(|(y, x)| d != y && d != x))
            .collect()
    }

    /// The series dimension: the first time dimension, else the first other one.
    pub fn series_dim(&self) -> Option<usize> {
        let others = self.other_dims();
        others
            .iter()
            .copied()
            .find(|&d| self.labels[d].is_time())
            .or_else(|| others.first().copied())
    }

    /// The grid, or an error saying why there is none.
    pub fn require_grid(&self, dataset: &str) -> Result<(&HGrid, usize, usize)> {
        match (&self.grid, self.yx) {
            (Some(g), Some((y, x))) => Ok((g, y, x)),
            _ => Err(Error::NotMappable {
                dataset: dataset.to_string(),
                variable: self.name.clone(),
                reason: self
                    .no_grid
                    .clone()
                    .unwrap_or_else(|| "has no horizontal grid".into()),
            }),
        }
    }
}

/// A dataset opened for queries.
pub struct Cube {
    /// The collection id.
    pub id: String,
    /// Where it was opened from.
    pub location: String,
    /// Global `title`, if any.
    pub title: Option<String>,
    reader: Arc<dyn Reader>,
    uid: u64,
    cache: Arc<ChunkCache>,
    vars: Vec<VarView>,
}

impl std::fmt::Debug for Cube {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cube")
            .field("id", &self.id)
            .field("location", &self.location)
            .field("variables", &self.vars.len())
            .finish()
    }
}

fn text_attr<'a>(v: &'a Variable, name: &str) -> Option<&'a str> {
    v.attr(name).and_then(arco_core::AttrValue::as_str)
}

/// Variables that describe others: coordinates, bounds, grid mappings.
fn auxiliary_paths(ds: &Dataset) -> HashSet<String> {
    let mut out = HashSet::new();
    for v in ds.root.all_variables() {
        let mut names: Vec<String> = cf::coordinates(v);
        for a in ["bounds", "climatology", "ancillary_variables"] {
            if let Some(t) = text_attr(v, a) {
                names.extend(t.split_whitespace().map(String::from));
            }
        }
        for (m, coords) in cf::grid_mappings(v) {
            names.push(m);
            names.extend(coords);
        }
        for n in names {
            if let Some(r) = cf::resolve(&n, v, ds) {
                out.insert(r.path.clone());
            }
        }
    }
    out
}

impl Cube {
    /// Open `reader` (the dataset at `location`) as collection `id`, caching
    /// reads in `cache`. Reads every coordinate variable once.
    pub fn open(
        id: impl Into<String>,
        location: impl Into<String>,
        reader: Arc<dyn Reader>,
        cache: Arc<ChunkCache>,
    ) -> Result<Cube> {
        let id = id.into();
        let location = location.into();
        let ds = reader.dataset();
        let grids = arco_catalog::horizontal_grids(reader.as_ref(), &location).map_err(|e| {
            Error::Catalog {
                dataset: id.clone(),
                source: Box::new(e),
            }
        })?;
        let aux = auxiliary_paths(ds);
        let mut cube = Cube {
            title: ds
                .root
                .attr("title")
                .and_then(arco_core::AttrValue::as_str)
                .map(String::from),
            id,
            location,
            reader: reader.clone(),
            uid: NEXT_UID.fetch_add(1, Ordering::Relaxed),
            cache,
            vars: Vec::new(),
        };
        // Grids built once, shared by their users.
        let mut built: HashMap<String, BuiltGrid> = HashMap::new();
        let mut user_grid: HashMap<String, String> = HashMap::new();
        for (i, g) in grids.iter().enumerate() {
            let key = format!("{i}");
            let entry = cube.build_grid(g);
            built.insert(key.clone(), (entry.0, entry.1, g.dims.clone()));
            for u in &g.users {
                user_grid.entry(u.clone()).or_insert(key.clone());
            }
        }
        let mut label_cache: HashMap<String, Labels> = HashMap::new();
        for v in ds.root.all_variables() {
            let is_dim_coord = v.dims.len() == 1 && v.dims[0] == v.name;
            if is_dim_coord || aux.contains(&v.path) || v.dims.is_empty() || !v.dtype.is_numeric() {
                continue;
            }
            let decoder = CfDecoder::new(v).map_err(|source| Error::Cf {
                dataset: cube.id.clone(),
                source,
            })?;
            let (grid, no_grid, yx) = match user_grid.get(&v.path).and_then(|k| built.get(k)) {
                Some((Some(g), _, Some((xd, yd)))) => {
                    let xi = v.dims.iter().position(|d| d == xd);
                    let yi = v.dims.iter().position(|d| d == yd);
                    match (yi, xi) {
                        (Some(y), Some(x)) => (Some(g.clone()), None, Some((y, x))),
                        _ => (None, Some(format!("does not run along the grid's dimensions {yd}, {xd}")), None),
                    }
                }
                Some((_, reason, _)) => (None, reason.clone(), None),
                None => (
                    None,
                    Some("has no longitude/latitude or projected x/y coordinates (CF), so it cannot be located on a map".into()),
                    None,
                ),
            };
            let mut labels = Vec::with_capacity(v.dims.len());
            for (d, dim) in v.dims.iter().enumerate() {
                let key = format!("{}|{dim}", v.path.rsplit_once('/').map_or("", |p| p.0));
                let l = match label_cache.get(&key) {
                    Some(l) => l.clone(),
                    None => {
                        let l = cube.dim_labels(v, dim, v.shape[d])?;
                        label_cache.insert(key, l.clone());
                        l
                    }
                };
                labels.push(l);
            }
            let chunk = cache_chunk(v, yx);
            cube.vars.push(VarView {
                name: v.path.trim_start_matches('/').to_string(),
                key: Arc::from(v.path.as_str()),
                var: v.clone(),
                grid,
                no_grid,
                yx,
                labels,
                chunk,
                levels: Vec::new(),
                level_of: None,
                decoder,
                range: std::sync::OnceLock::new(),
            });
        }
        cube.link_levels();
        Ok(cube)
    }

    fn build_grid(&self, g: &arco_catalog::HorizontalGrid) -> (Option<Arc<HGrid>>, Option<String>) {
        let reason = match g.kind {
            GridKind::Curvilinear => Some("lies on a curvilinear grid (2-D latitude/longitude); maps and point queries need 1-D longitude/latitude or projected x/y coordinates"),
            GridKind::Points => Some("is located by point coordinates (stations, trajectories or an unstructured grid), not a grid"),
            _ => None,
        };
        if let Some(r) = reason {
            return (None, Some(r.to_string()));
        }
        let axis = |path: &str, factor: f64| -> std::result::Result<Axis1D, String> {
            let values = self
                .coordinate_f64(path)
                .map_err(|e| format!("its coordinate {path} cannot be read: {e}"))?;
            Axis1D::new(values.into_iter().map(|v| v * factor).collect()).ok_or_else(|| {
                format!("its coordinate {path} is not strictly monotonic or has missing values")
            })
        };
        let made = (|| -> std::result::Result<HGrid, String> {
            let x = axis(&g.x, g.unit_factor)?;
            let y = axis(&g.y, g.unit_factor)?;
            Ok(match (&g.kind, &g.crs) {
                (GridKind::Projected, Some(crs)) if !crs.is_geographic() => {
                    HGrid::projected(x, y, crs.clone())
                }
                _ => HGrid::geographic(x, y),
            })
        })();
        match made {
            Ok(h) => (Some(Arc::new(h)), None),
            Err(r) => (None, Some(r)),
        }
    }

    /// CF-decoded values of a whole (coordinate) variable.
    fn coordinate_f64(&self, path: &str) -> Result<Vec<f64>> {
        let ds = self.reader.dataset();
        let v = ds.variable(path).map_err(|source| Error::Cf {
            dataset: self.id.clone(),
            source,
        })?;
        let raw = self.read_raw(v, &Selection::all(&v.shape))?;
        let dec = CfDecoder::new(v)
            .and_then(|d| d.decode(&raw).map(|c| c.into_owned()))
            .map_err(|source| Error::Cf {
                dataset: self.id.clone(),
                source,
            })?;
        dec.to_f64_vec().ok_or_else(|| Error::Coordinates {
            dataset: self.id.clone(),
            variable: path.to_string(),
            reason: format!("holds {} values, not numbers", dec.type_name()),
        })
    }

    fn read_raw(&self, v: &Variable, sel: &Selection) -> Result<Values> {
        self.reader
            .read(&v.path, sel)
            .map(|a| a.values)
            .map_err(|e| Error::Read {
                dataset: self.id.clone(),
                variable: v.path.clone(),
                source: Box::new(e),
            })
    }

    fn dim_labels(&self, v: &Variable, dim: &str, size: u64) -> Result<Labels> {
        let ds = self.reader.dataset();
        let Some(c) = cf::resolve(dim, v, ds).filter(|c| c.dims.len() == 1 && c.dims[0] == dim)
        else {
            return Ok(Labels::Index(size));
        };
        let raw = self.read_raw(c, &Selection::all(&c.shape))?;
        if let Values::Str(s) = raw {
            return Ok(Labels::Text(s));
        }
        match cf::decode_variable(c, &raw) {
            Ok(cf::Decoded::Time(dates, units)) => {
                let numbers = CfDecoder::new(c)
                    .and_then(|d| d.decode(&raw).map(|v| v.to_f64_vec().unwrap_or_default()))
                    .unwrap_or_default();
                Ok(Labels::Time {
                    dates,
                    numbers,
                    units: Box::new(units),
                })
            }
            Ok(cf::Decoded::Numeric(n)) => {
                Ok(n.to_f64_vec().map_or(Labels::Index(size), Labels::Numeric))
            }
            Err(_) => Ok(raw
                .to_f64_vec()
                .map_or(Labels::Index(size), Labels::Numeric)),
        }
    }

    /// Find, for each gridded variable, the coarser copies of it in other
    /// groups (pyramid levels, COG overviews): same name, same other
    /// dimensions, a smaller grid; only in the groups the root's
    /// `multiscales` attribute names when it names any.
    fn link_levels(&mut self) {
        // Levels a `multiscales` attribute declares win over the groups
        // that merely look like levels (a COG's overviews copied along).
        let declared: Vec<String> =
            arco_zarr::multiscale_levels(&self.reader.dataset().root.attributes)
                .into_iter()
                .map(|l| l.path.trim_matches('/').to_string())
                .filter(|p| !p.is_empty())
                .collect();
        let leaf = |v: &VarView| v.var.name.clone();
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, v) in self.vars.iter().enumerate() {
            if v.grid.is_some() {
                by_name.entry(leaf(v)).or_default().push(i);
            }
        }
        for (_, mut members) in by_name {
            if members.len() < 2 {
                continue;
            }
            // Finest first.
            members.sort_by_key(|&i| {
                let (r, c) = self.vars[i].grid.as_ref().map_or((0, 0), |g| g.shape());
                std::cmp::Reverse(r * c)
            });
            let base = members[0];
            let others_of = |v: &VarView| -> Vec<(String, u64)> {
                v.other_dims()
                    .into_iter()
                    .map(|d| (v.var.dims[d].clone(), v.var.shape[d]))
                    .collect()
            };
            let base_others = others_of(&self.vars[base]);
            let base_cols = self.vars[base].grid.as_ref().map_or(1, |g| g.x.len()) as f64;
            let mut levels = Vec::new();
            for &m in &members[1..] {
                let v = &self.vars[m];
                if !declared.is_empty()
                    && !declared.iter().any(|l| {
                        v.var
                            .path
                            .trim_start_matches('/')
                            .strip_prefix(l.as_str())
                            .is_some_and(|r| r.starts_with('/'))
                    })
                {
                    continue;
                }
                let cols = v.grid.as_ref().map_or(1, |g| g.x.len()) as f64;
                if others_of(v) == base_others && cols < base_cols {
                    levels.push(Level {
                        var: m,
                        factor: base_cols / cols,
                    });
                }
            }
            for l in &levels {
                self.vars[l.var].level_of = Some(base);
            }
            self.vars[base].levels = levels;
        }
    }

    /// The dataset's metadata.
    pub fn dataset(&self) -> &Dataset {
        self.reader.dataset()
    }

    /// The reader.
    pub fn reader(&self) -> &Arc<dyn Reader> {
        &self.reader
    }

    /// Every variable, levels included (indices for [`Level::var`]).
    pub fn all_variables(&self) -> &[VarView] {
        &self.vars
    }

    /// The data variables a user picks from (levels left out).
    pub fn variables(&self) -> impl Iterator<Item = &VarView> {
        self.vars.iter().filter(|v| v.level_of.is_none())
    }

    /// The variable called `name` (path with or without the leading `/`).
    pub fn variable(&self, name: &str) -> Result<&VarView> {
        let name = name.trim_start_matches('/');
        self.vars
            .iter()
            .find(|v| v.name == name)
            .or_else(|| {
                let mut it = self.variables().filter(|v| v.var.name == name);
                match (it.next(), it.next()) {
                    (Some(v), None) => Some(v),
                    _ => None,
                }
            })
            .ok_or_else(|| Error::UnknownVariable {
                dataset: self.id.clone(),
                variable: name.to_string(),
                valid: self
                    .variables()
                    .map(|v| v.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The default variable: the only one with a grid, else `None`.
    pub fn default_variable(&self) -> Option<&VarView> {
        let mut it = self.variables().filter(|v| v.grid.is_some());
        match (it.next(), it.next()) {
            (Some(v), None) => Some(v),
            _ => None,
        }
    }

    /// A value range of `v` for colouring, worked out once: the
    /// `valid_min`/`valid_max`, `valid_range` or `actual_range` attributes
    /// (unpacked), else the min and max of a 256×256 sample of the coarsest
    /// level at the first index of every other dimension.
    pub fn value_range(&self, v: &VarView) -> Option<[f64; 2]> {
        *v.range.get_or_init(|| self.find_value_range(v))
    }

    fn find_value_range(&self, v: &VarView) -> Option<[f64; 2]> {
        let attr = |n: &str| v.var.attr(n).and_then(arco_core::AttrValue::as_f64_vec);
        let scale = v.decoder.scale_factor().unwrap_or(1.0);
        let offset = v.decoder.add_offset().unwrap_or(0.0);
        let unpack = |a: f64, b: f64| Some([a * scale + offset, b * scale + offset]);
        if let (Some(a), Some(b)) = (attr("valid_min"), attr("valid_max")) {
            if let (Some(a), Some(b)) = (a.first(), b.first()) {
                return unpack(*a, *b);
            }
        }
        for n in ["valid_range", "actual_range"] {
            if let Some(r) = attr(n).filter(|r| r.len() == 2) {
                return unpack(r[0], r[1]);
            }
        }
        let lv = v.levels.last().map_or(v, |l| &self.vars[l.var]);
        let (rows, cols) = lv.grid.as_ref()?.shape();
        let n = 256usize;
        let pick = |len: usize, i: usize| ((i * len) / n.min(len).max(1)).min(len - 1) as u64;
        let cells: Vec<Option<(u64, u64)>> = (0..n.min(rows))
            .flat_map(|r| (0..n.min(cols)).map(move |c| Some((pick(rows, r), pick(cols, c)))))
            .collect();
        let base = vec![0u64; lv.var.dims.len()];
        let vals = self.sample(lv, &base, &cells).ok()?;
        let (lo, hi) = vals
            .into_iter()
            .filter(|x| x.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
                (lo.min(x), hi.max(x))
            });
        (lo <= hi).then_some([lo, hi])
    }

    /// The level of `v` to draw pixels of `pixel_m` metres from: the coarsest
    /// whose cells are no larger than a pixel, else `v` itself.
    pub fn level_for<'a>(&'a self, v: &'a VarView, pixel_m: f64) -> &'a VarView {
        let mut best = v;
        for l in &v.levels {
            let lv = &self.vars[l.var];
            if let Some(g) = &lv.grid {
                if g.resolution_m() <= pixel_m * 1.0001 {
                    best = lv;
                }
            }
        }
        best
    }

    /// The index of every dimension of `v` from `sels` (by label); dimensions
    /// in `free` and the horizontal ones are left at 0, the others default to
    /// their first index. Returns the indices and, per selected dimension,
    /// `(name, label)` as used.
    pub fn resolve_sel(
        &self,
        v: &VarView,
        sels: &[DimSel],
        free: &[usize],
    ) -> Result<(Vec<u64>, Fixed)> {
        let mut idx = vec![0u64; v.var.dims.len()];
        let mut given: HashSet<usize> = HashSet::new();
        for s in sels {
            let d = v.dim_index(&self.id, &s.dim)?;
            if v.yx.is_some_and(|(y, x)| d == y || d == x) {
                return Err(Error::BadSelection {
                    dataset: self.id.clone(),
                    message: format!(
                        "'{}' is a horizontal dimension of '{}'; give a position (lon/lat, coords, bbox) instead of sel",
                        s.dim, v.name
                    ),
                });
            }
            if free.contains(&d) {
                continue;
            }
            let i = v.labels[d]
                .find(&s.value, s.method)
                .map_err(|m| Error::BadSelection {
                    dataset: self.id.clone(),
                    message: format!("sel {}: {m}", s.dim),
                })?;
            idx[d] = i as u64;
            given.insert(d);
        }
        let used = v
            .other_dims()
            .into_iter()
            .filter(|d| !free.contains(d))
            .map(|d| (v.var.dims[d].clone(), v.labels[d].label(idx[d] as usize)))
            .collect();
        Ok((idx, used))
    }

    fn chunk_values(&self, v: &VarView, cgrid: &ChunkGrid, cidx: &[u64]) -> Result<Arc<Vec<f64>>> {
        self.cache
            .get_or_load((self.uid, v.key.clone(), cidx.to_vec()), || {
                let bounds = cgrid.chunk_bounds(cidx);
                let sel = Selection {
                    dims: bounds
                        .iter()
                        .map(|&(start, stop)| DimSlice {
                            start,
                            stop,
                            step: 1,
                        })
                        .collect(),
                };
                let raw = self.read_raw(&v.var, &sel)?;
                let dec = v.decoder.decode(&raw).map_err(|source| Error::Cf {
                    dataset: self.id.clone(),
                    source,
                })?;
                dec.to_f64_vec().ok_or_else(|| Error::NotMappable {
                    dataset: self.id.clone(),
                    variable: v.name.clone(),
                    reason: format!("holds {} values, not numbers", dec.type_name()),
                })
            })
    }

    fn chunk_grid(&self, v: &VarView) -> Result<ChunkGrid> {
        ChunkGrid::new(v.var.shape.clone(), v.chunk.clone()).map_err(|source| Error::Cf {
            dataset: self.id.clone(),
            source,
        })
    }

    /// CF-decoded values (NaN where missing) of the box `ranges` (one
    /// `[start, stop)` per dimension), row-major.
    pub fn read(&self, v: &VarView, ranges: &[(u64, u64)]) -> Result<Vec<f64>> {
        let shape: Vec<u64> = ranges.iter().map(|(a, b)| b.saturating_sub(*a)).collect();
        let total: u64 = shape.iter().product();
        if total > MAX_READ_VALUES {
            return Err(Error::TooLarge(format!(
                "{}: reading {} values of '{}' ({:?}) is more than the {} a request may read; ask for fewer steps or a smaller area",
                self.id, total, v.name, shape, MAX_READ_VALUES
            )));
        }
        let mut out = vec![f64::NAN; total as usize];
        if total == 0 {
            return Ok(out);
        }
        let cgrid = self.chunk_grid(v)?;
        let sel = Selection {
            dims: ranges
                .iter()
                .map(|&(start, stop)| DimSlice {
                    start,
                    stop,
                    step: 1,
                })
                .collect(),
        };
        let chunks = cgrid.chunks_for(&sel);
        let loaded: Vec<(Vec<u64>, Arc<Vec<f64>>)> = chunks
            .par_iter()
            .map(|c| Ok((c.clone(), self.chunk_values(v, &cgrid, c)?)))
            .collect::<Result<_>>()?;
        let nd = ranges.len();
        for (cidx, values) in loaded {
            let cb = cgrid.chunk_bounds(&cidx);
            let cshape: Vec<u64> = cb.iter().map(|(a, b)| b - a).collect();
            // Overlap of the chunk and the request, in array coordinates.
            let lo: Vec<u64> = (0..nd).map(|d| cb[d].0.max(ranges[d].0)).collect();
            let hi: Vec<u64> = (0..nd).map(|d| cb[d].1.min(ranges[d].1)).collect();
            if (0..nd).any(|d| lo[d] >= hi[d]) {
                continue;
            }
            copy_box(&values, &cshape, &cb, &mut out, &shape, ranges, &lo, &hi);
        }
        Ok(out)
    }

    /// The values of `v` at many cells: `base` gives every dimension's index
    /// (the horizontal ones are replaced by each cell's row and column);
    /// `None` cells give NaN. Each chunk the cells fall in is fetched once.
    pub fn sample(
        &self,
        v: &VarView,
        base: &[u64],
        cells: &[Option<(u64, u64)>],
    ) -> Result<Vec<f64>> {
        let (_, yd, xd) = v.require_grid(&self.id)?;
        let cgrid = self.chunk_grid(v)?;
        let (cy, cx) = (v.chunk[yd].max(1), v.chunk[xd].max(1));
        // Neighbouring cells mostly share a chunk: hash only the changes.
        let mut needed: HashSet<(u64, u64)> = HashSet::new();
        let mut prev = None;
        for (r, c) in cells.iter().flatten() {
            let key = (r / cy, c / cx);
            if prev != Some(key) {
                needed.insert(key);
                prev = Some(key);
            }
        }
        let chunk_of = |key: (u64, u64)| -> Vec<u64> {
            let mut idx: Vec<u64> = base
                .iter()
                .zip(&v.chunk)
                .map(|(i, c)| i / c.max(&1))
                .collect();
            idx[yd] = key.0;
            idx[xd] = key.1;
            idx
        };
        let needed: Vec<(u64, u64)> = needed.into_iter().collect();
        let loaded: HashMap<(u64, u64), Arc<Vec<f64>>> = needed
            .par_iter()
            .map(|&key| Ok((key, self.chunk_values(v, &cgrid, &chunk_of(key))?)))
            .collect::<Result<_>>()?;
        let nd = v.var.dims.len();
        let cursor = |key: (u64, u64), values| -> ChunkCursor<'_> {
            let cb = cgrid.chunk_bounds(&chunk_of(key));
            let mut strides = vec![1u64; nd];
            for d in (0..nd.saturating_sub(1)).rev() {
                strides[d] = strides[d + 1] * (cb[d + 1].1 - cb[d + 1].0);
            }
            let offset = (0..nd)
                .filter(|&d| d != yd && d != xd)
                .map(|d| (base[d] - cb[d].0) * strides[d])
                .sum();
            ChunkCursor {
                key,
                row0: cb[yd].0,
                col0: cb[xd].0,
                row_stride: strides[yd],
                col_stride: strides[xd],
                offset,
                values,
            }
        };
        let mut out = Vec::with_capacity(cells.len());
        let mut last: Option<ChunkCursor<'_>> = None;
        for cell in cells {
            let Some((r, c)) = *cell else {
                out.push(f64::NAN);
                continue;
            };
            let key = (r / cy, c / cx);
            if last.as_ref().is_none_or(|l| l.key != key) {
                last = loaded.get(&key).map(|values| cursor(key, values));
            }
            let value = last.as_ref().and_then(|l| {
                let i = l.offset + (r - l.row0) * l.row_stride + (c - l.col0) * l.col_stride;
                l.values.get(i as usize).copied()
            });
            out.push(value.unwrap_or(f64::NAN));
        }
        Ok(out)
    }

    /// The shared cache.
    pub fn cache(&self) -> &Arc<ChunkCache> {
        &self.cache
    }
}

/// Copy the overlap `[lo, hi)` of a chunk (values `src` of shape `cshape`
/// starting at `cb`) into `dst` (shape `dshape` starting at `ranges`).
#[allow(clippy::too_many_arguments)]
fn copy_box(
    src: &[f64],
    cshape: &[u64],
    cb: &[(u64, u64)],
    dst: &mut [f64],
    dshape: &[u64],
    ranges: &[(u64, u64)],
    lo: &[u64],
    hi: &[u64],
) {
    let nd = cshape.len();
    let strides = |shape: &[u64]| {
        let mut s = vec![1u64; nd];
        for d in (0..nd.saturating_sub(1)).rev() {
            s[d] = s[d + 1] * shape[d + 1];
        }
        s
    };
    let (ss, ds) = (strides(cshape), strides(dshape));
    let run = (hi[nd - 1] - lo[nd - 1]) as usize;
    let mut idx: Vec<u64> = lo.to_vec();
    loop {
        let so: u64 = (0..nd).map(|d| (idx[d] - cb[d].0) * ss[d]).sum();
        let doff: u64 = (0..nd).map(|d| (idx[d] - ranges[d].0) * ds[d]).sum();
        let (so, doff) = (so as usize, doff as usize);
        if let (Some(s), Some(t)) = (src.get(so..so + run), dst.get_mut(doff..doff + run)) {
            t.copy_from_slice(s);
        }
        // Next row: increment the dimensions before the last.
        let mut d = nd - 1;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            if idx[d] < hi[d] {
                break;
            }
            idx[d] = lo[d];
        }
    }
}

/// The chunk shape reads of `v` are cached by: its stored chunks when they
/// are small enough, else pieces of at most 512 cells along the horizontal
/// dimensions and 1 along the others (stored chunks larger than that are
/// split; contiguous variables get this shape).
fn cache_chunk(v: &Variable, yx: Option<(usize, usize)>) -> Vec<u64> {
    if let Some(c) = &v.chunk_shape {
        if c.len() == v.shape.len() && c.iter().all(|&n| n > 0) {
            let n: u64 = c
                .iter()
                .zip(&v.shape)
                .map(|(c, s)| (*c).min(*s).max(1))
                .product();
            if n <= MAX_CHUNK_VALUES {
                return c.clone();
            }
        }
    }
    let nd = v.shape.len();
    let mut out = vec![1u64; nd];
    match yx {
        Some((y, x)) => {
            out[y] = v.shape[y].clamp(1, 512);
            out[x] = v.shape[x].clamp(1, 512);
        }
        None => {
            // Ungridded: the last dimension whole (bounded), the others 1.
            if nd > 0 {
                out[nd - 1] = v.shape[nd - 1].clamp(1, MAX_CHUNK_VALUES);
            }
        }
    }
    out
}
