//! Time series at a point (nearest cell or bilinear) or over an area (a box
//! or polygons: mean, min, max and count of the cells whose centres fall
//! inside, per step).
//!
//! The series runs along the variable's time dimension (else its first
//! non-horizontal one); other dimensions are fixed by `sel` (default: their
//! first index). Area statistics are unweighted, over valid (non-missing)
//! cells, as `xarray`'s `.mean(dim=[y, x])` computes them.

use crate::cube::{Cube, HGrid, VarView, MAX_READ_VALUES};
use crate::geom::Geometry;
use crate::labels::DimSel;
use crate::{Error, Result};
use serde_json::Value;

/// How a point takes its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointMethod {
    /// The cell holding the point.
    Nearest,
    /// Bilinear interpolation between the four surrounding cell centres (NaN
    /// when one of them is missing or the point is beyond the outer centres,
    /// as `xarray.interp` gives).
    Bilinear,
}

impl PointMethod {
    /// Parse `nearest` or `bilinear` (`linear` too).
    pub fn parse(s: &str) -> Result<PointMethod> {
        match s {
            "nearest" => Ok(PointMethod::Nearest),
            "bilinear" | "linear" => Ok(PointMethod::Bilinear),
            other => Err(Error::BadRequest(format!(
                "method '{other}' is not nearest or bilinear"
            ))),
        }
    }
}

/// An area statistic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stat {
    /// Mean of the valid cells.
    Mean,
    /// Minimum.
    Min,
    /// Maximum.
    Max,
    /// Number of valid cells.
    Count,
}

impl Stat {
    /// Parse `mean`, `min`, `max` or `count`.
    pub fn parse(s: &str) -> Result<Stat> {
        match s {
            "mean" => Ok(Stat::Mean),
            "min" => Ok(Stat::Min),
            "max" => Ok(Stat::Max),
            "count" => Ok(Stat::Count),
            other => Err(Error::BadRequest(format!(
                "stat '{other}' is not mean, min, max or count"
            ))),
        }
    }

    /// The name.
    pub fn name(self) -> &'static str {
        match self {
            Stat::Mean => "mean",
            Stat::Min => "min",
            Stat::Max => "max",
            Stat::Count => "count",
        }
    }
}

/// The four cell centres around a point, for bilinear interpolation as
/// `xarray.interp` does it: NaN beyond the outer centres, and NaN where a
/// corner with weight is missing (a corner without weight does not spoil
/// the value). Grids one cell wide interpolate along the other axis only.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bilinear {
    /// Rows `[first, end)`: two, or one on a grid one row high.
    pub rows: (u64, u64),
    /// Columns `[first, end)`.
    pub cols: (u64, u64),
    /// Weights of (row 0, col 0), (row 0, col 1), (row 1, col 0), (row 1, col 1).
    pub weights: [f64; 4],
    /// False beyond the outer cell centres (the value is NaN).
    pub inside: bool,
}

impl Bilinear {
    /// The neighbourhood of `(lon, lat)`, `None` outside the grid.
    pub fn at(grid: &HGrid, lon: f64, lat: f64) -> Option<Bilinear> {
        let (pr, pc) = grid.locate(lon, lat)?;
        let (nr, nc) = grid.shape();
        let inside = pr >= 0.0 && pc >= 0.0 && pr <= (nr - 1) as f64 && pc <= (nc - 1) as f64;
        let r0 = (pr.floor().max(0.0) as u64).min(nr.saturating_sub(2) as u64);
        let c0 = (pc.floor().max(0.0) as u64).min(nc.saturating_sub(2) as u64);
        let (fr, fc) = (pr - r0 as f64, pc - c0 as f64);
        let rows = (r0, (r0 + 2).min(nr as u64));
        let cols = (c0, (c0 + 2).min(nc as u64));
        let mut weights = [
            (1.0 - fr) * (1.0 - fc),
            (1.0 - fr) * fc,
            fr * (1.0 - fc),
            fr * fc,
        ];
        if cols.1 - cols.0 < 2 {
            weights = [1.0 - fr, 0.0, fr, 0.0];
        }
        if rows.1 - rows.0 < 2 {
            weights = [1.0 - fc, fc, 0.0, 0.0];
        }
        Some(Bilinear {
            rows,
            cols,
            weights,
            inside,
        })
    }

    /// The blended value, reading the neighbourhood's cell `(y, x)` (0 or 1
    /// each) through `at`.
    pub fn blend(&self, at: impl Fn(usize, usize) -> f64) -> f64 {
        if !self.inside {
            return f64::NAN;
        }
        let (ny, nx) = (self.rows.1 - self.rows.0, self.cols.1 - self.cols.0);
        let v00 = at(0, 0);
        let v01 = if nx > 1 { at(0, 1) } else { v00 };
        let v10 = if ny > 1 { at(1, 0) } else { v00 };
        let v11 = if nx > 1 && ny > 1 { at(1, 1) } else { v00 };
        let vals = [v00, v01, v10, v11];
        if vals
            .iter()
            .zip(&self.weights)
            .any(|(v, w)| v.is_nan() && *w != 0.0)
        {
            return f64::NAN;
        }
        vals.iter()
            .zip(&self.weights)
            .filter(|(_, w)| **w != 0.0)
            .map(|(v, w)| v * w)
            .sum()
    }
}

/// Where a point series was taken.
#[derive(Debug, Clone, PartialEq)]
pub struct PointCell {
    /// The requested longitude.
    pub lon: f64,
    /// The requested latitude.
    pub lat: f64,
    /// The cell `(row, column)` (nearest; the lower-left of the four for bilinear).
    pub index: (u64, u64),
    /// The cell centre's longitude/latitude.
    pub cell_lonlat: (f64, f64),
}

/// A series of values along one dimension.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The series dimension (`None` for a variable with only horizontal dimensions).
    pub dim: Option<String>,
    /// Its labels (ISO times, numbers, indices).
    pub index: Vec<Value>,
    /// The values (NaN where missing).
    pub values: Vec<f64>,
    /// Valid cells per step (area series).
    pub counts: Option<Vec<u64>>,
    /// Cells inside the area (area series).
    pub cells: Option<u64>,
    /// The point (point series).
    pub point: Option<PointCell>,
    /// The other dimensions' labels, as fixed by `sel`.
    pub fixed: Vec<(String, Value)>,
}

/// The series dimension's index range for `range` (an interval or one label; all when `None`).
fn series_range(
    cube: &Cube,
    v: &VarView,
    dim: Option<usize>,
    range: Option<&str>,
) -> Result<(u64, u64)> {
    let Some(d) = dim else {
        return Ok((0, 1));
    };
    match range.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok((0, v.var.shape[d])),
        Some(r) => v.labels[d]
            .range(r)
            .map(|(a, b)| (a as u64, b as u64))
            .map_err(|m| Error::BadSelection {
                dataset: cube.id.clone(),
                message: format!("datetime '{r}' on {}: {m}", v.var.dims[d]),
            }),
    }
}

fn outside(cube: &Cube, g: &HGrid, lon: f64, lat: f64) -> Error {
    let b = g.bounds;
    Error::OutsideGrid {
        dataset: cube.id.clone(),
        message: format!(
            "({lon}, {lat}) is outside the grid, which covers longitudes {} to {} and latitudes {} to {}",
            b[0], b[2], b[1], b[3]
        ),
    }
}

/// The series of `v` at `(lon, lat)`.
pub fn point(
    cube: &Cube,
    v: &VarView,
    lon: f64,
    lat: f64,
    method: PointMethod,
    sels: &[DimSel],
    range: Option<&str>,
) -> Result<Series> {
    let (grid, yd, xd) = v.require_grid(&cube.id)?;
    let sdim = v.series_dim();
    let free: Vec<usize> = sdim.into_iter().collect();
    let (base, fixed) = cube.resolve_sel(v, sels, &free)?;
    let (lo, hi) = series_range(cube, v, sdim, range)?;
    let (row, col, bilinear) = match method {
        PointMethod::Nearest => {
            let (r, c) = grid
                .nearest(lon, lat)
                .ok_or_else(|| outside(cube, grid, lon, lat))?;
            (r, c, None)
        }
        PointMethod::Bilinear => {
            let b = Bilinear::at(grid, lon, lat).ok_or_else(|| outside(cube, grid, lon, lat))?;
            (b.rows.0, b.cols.0, Some(b))
        }
    };
    let mut ranges: Vec<(u64, u64)> = base.iter().map(|&i| (i, i + 1)).collect();
    ranges[yd] = bilinear.map_or((row, row + 1), |b| b.rows);
    ranges[xd] = bilinear.map_or((col, col + 1), |b| b.cols);
    if let Some(d) = sdim {
        ranges[d] = (lo, hi);
    }
    let block = cube.read(v, &ranges)?;
    let steps = (hi - lo) as usize;
    // The block is row-major over the variable's dimension order; collect
    // each step's (y, x) neighbourhood by index arithmetic.
    let shape: Vec<usize> = ranges.iter().map(|(a, b)| (b - a) as usize).collect();
    let nd = shape.len();
    let mut strides = vec![1usize; nd];
    for d in (0..nd.saturating_sub(1)).rev() {
        strides[d] = strides[d + 1] * shape[d + 1];
    }
    let at = |s: usize, y: usize, x: usize| -> f64 {
        let mut off = y * strides[yd] + x * strides[xd];
        if let Some(d) = sdim {
            off += s * strides[d];
        }
        block.get(off).copied().unwrap_or(f64::NAN)
    };
    let values: Vec<f64> = (0..steps)
        .map(|s| match &bilinear {
            None => at(s, 0, 0),
            Some(b) => b.blend(|y, x| at(s, y, x)),
        })
        .collect();
    let cell_lonlat = grid
        .cell_lonlat(row as usize, col as usize)
        .unwrap_or((f64::NAN, f64::NAN));
    Ok(Series {
        dim: sdim.map(|d| v.var.dims[d].clone()),
        index: labels(v, sdim, lo, hi),
        values,
        counts: None,
        cells: None,
        point: Some(PointCell {
            lon,
            lat,
            index: (row, col),
            cell_lonlat,
        }),
        fixed,
    })
}

fn labels(v: &VarView, sdim: Option<usize>, lo: u64, hi: u64) -> Vec<Value> {
    match sdim {
        Some(d) => (lo..hi).map(|i| v.labels[d].label(i as usize)).collect(),
        None => vec![Value::Null],
    }
}

/// The cells of `grid` whose centres lie in `geom`: the row and column
/// window and a row-major mask over it.
pub fn cells_in(grid: &HGrid, geom: &Geometry) -> ((u64, u64), (u64, u64), Vec<bool>) {
    let inside = |lon: f64, lat: f64| -> bool {
        geom.contains(lon, lat)
            || geom.contains(lon - 360.0, lat)
            || geom.contains(lon + 360.0, lat)
    };
    let (rows, cols) = window(grid, geom);
    let mut mask = Vec::with_capacity(((rows.1 - rows.0) * (cols.1 - cols.0)) as usize);
    for r in rows.0..rows.1 {
        for c in cols.0..cols.1 {
            let ok = grid
                .cell_lonlat(r as usize, c as usize)
                .is_some_and(|(lon, lat)| inside(lon, lat));
            mask.push(ok);
        }
    }
    (rows, cols, mask)
}

/// The row and column window `[start, stop)` of [`cells_in`], without the
/// mask: cheap, to size a query before computing which cells are inside.
pub fn window(grid: &HGrid, geom: &Geometry) -> ((u64, u64), (u64, u64)) {
    let [w, s, e, n] = geom.bbox();
    let (nr, nc) = grid.shape();
    let (rows, cols) = if grid.is_geographic() {
        let rows = grid.y.centres_within(s, n);
        let cols: Vec<usize> = (0..nc)
            .filter(|&c| {
                let lon = grid.x.values[c];
                let in_box = |l: f64| {
                    if w <= e {
                        l >= w && l <= e
                    } else {
                        l >= w || l <= e
                    }
                };
                in_box(lon) || in_box(lon - 360.0) || in_box(lon + 360.0)
            })
            .collect();
        let cols = match (cols.first(), cols.last()) {
            (Some(&a), Some(&b)) => (a, b + 1),
            _ => (0, 0),
        };
        (rows, cols)
    } else {
        // Envelope of the geometry's box in the projected plane.
        let (mut x0, mut y0, mut x1, mut y1) = (
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        );
        let k = 32;
        for i in 0..=k {
            let t = i as f64 / k as f64;
            let lon = w + (if e >= w { e - w } else { e + 360.0 - w }) * t;
            let lat = s + (n - s) * t;
            for (a, b) in [(lon, s), (lon, n), (w, lat), (e, lat)] {
                if let Some((x, y)) = grid.to_grid(a, b) {
                    if x.is_finite() && y.is_finite() {
                        x0 = x0.min(x);
                        x1 = x1.max(x);
                        y0 = y0.min(y);
                        y1 = y1.max(y);
                    }
                }
            }
        }
        if !x0.is_finite() {
            ((0, 0), (0, 0))
        } else {
            (grid.y.centres_within(y0, y1), grid.x.centres_within(x0, x1))
        }
    };
    let (rows, cols) = (
        (rows.0.min(nr), rows.1.min(nr)),
        (cols.0.min(nc), cols.1.min(nc)),
    );
    let (rows, cols) = ((rows.0, rows.1.max(rows.0)), (cols.0, cols.1.max(cols.0)));
    (
        (rows.0 as u64, rows.1 as u64),
        (cols.0 as u64, cols.1 as u64),
    )
}

/// The series of `stat` over the cells of `v` inside `geom`.
pub fn area(
    cube: &Cube,
    v: &VarView,
    geom: &Geometry,
    stat: Stat,
    sels: &[DimSel],
    range: Option<&str>,
) -> Result<Series> {
    let (grid, yd, xd) = v.require_grid(&cube.id)?;
    if matches!(geom, Geometry::Point(..) | Geometry::MultiPoint(_)) {
        return Err(Error::BadRequest(
            "an area needs a bbox or a polygon, not points".into(),
        ));
    }
    let sdim = v.series_dim();
    let free: Vec<usize> = sdim.into_iter().collect();
    let (base, fixed) = cube.resolve_sel(v, sels, &free)?;
    let (lo, hi) = series_range(cube, v, sdim, range)?;
    let (rows, cols, mask) = cells_in(grid, geom);
    let ncells = mask.iter().filter(|m| **m).count() as u64;
    if ncells == 0 {
        let b = grid.bounds;
        return Err(Error::OutsideGrid {
            dataset: cube.id.clone(),
            message: format!(
                "no cell centre of '{}' lies inside the area (grid: longitudes {} to {}, latitudes {} to {}); give a larger area or a point",
                v.name, b[0], b[2], b[1], b[3]
            ),
        });
    }
    let window = (rows.1 - rows.0) * (cols.1 - cols.0);
    let per_batch = (MAX_READ_VALUES / window.max(1)).max(1);
    let mut values = Vec::new();
    let mut counts = Vec::new();
    let mut start = lo;
    while start < hi {
        let stop = (start + per_batch).min(hi);
        let mut ranges: Vec<(u64, u64)> = base.iter().map(|&i| (i, i + 1)).collect();
        ranges[yd] = rows;
        ranges[xd] = cols;
        if let Some(d) = sdim {
            ranges[d] = (start, stop);
        }
        let block = cube.read(v, &ranges)?;
        let shape: Vec<usize> = ranges.iter().map(|(a, b)| (b - a) as usize).collect();
        let nd = shape.len();
        let mut strides = vec![1usize; nd];
        for d in (0..nd.saturating_sub(1)).rev() {
            strides[d] = strides[d + 1] * shape[d + 1];
        }
        let (ny, nx) = (shape[yd], shape[xd]);
        for s in 0..(stop - start) as usize {
            let base_off = sdim.map_or(0, |d| s * strides[d]);
            let (mut sum, mut n, mut mn, mut mx) = (0.0f64, 0u64, f64::INFINITY, f64::NEG_INFINITY);
            for y in 0..ny {
                for x in 0..nx {
                    if !mask[y * nx + x] {
                        continue;
                    }
                    let val = block
                        .get(base_off + y * strides[yd] + x * strides[xd])
                        .copied()
                        .unwrap_or(f64::NAN);
                    if val.is_nan() {
                        continue;
                    }
                    sum += val;
                    n += 1;
                    mn = mn.min(val);
                    mx = mx.max(val);
                }
            }
            let value = match stat {
                _ if n == 0 && stat != Stat::Count => f64::NAN,
                Stat::Mean => sum / n as f64,
                Stat::Min => mn,
                Stat::Max => mx,
                Stat::Count => n as f64,
            };
            values.push(value);
            counts.push(n);
        }
        start = stop;
    }
    Ok(Series {
        dim: sdim.map(|d| v.var.dims[d].clone()),
        index: labels(v, sdim, lo, hi),
        values,
        counts: Some(counts),
        cells: Some(ncells),
        point: None,
        fixed,
    })
}
