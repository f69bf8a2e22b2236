//! Multiscale pyramids: overview levels written beside the full-resolution
//! dataset (`arco convert --pyramid`), so that a map at a low zoom reads few
//! bytes. The design is in `docs/design/pyramid.md`.
//!
//! * **Layout.** The full resolution stays where it is (the root group:
//!   `xarray.open_zarr(store)` is unchanged). Level `k` (factor `2^k`) is the
//!   child group `k` (`/1`, `/2`, ...), a complete CF dataset of its own:
//!   every variable on a horizontal grid downsampled by 2 on its two
//!   horizontal dimensions from level `k-1`, the horizontal coordinates
//!   downsampled to match (a block's coordinate is the mean of the block's
//!   coordinates), and the variables those need that do not depend on the
//!   horizontal dimensions (time, vertical coordinates, grid mappings, their
//!   bounds) copied. Anything else that depends on a horizontal dimension
//!   (bounds of the horizontal coordinates, zonal profiles) is left out of
//!   the levels, and so are sub-groups (NetCDF-4 groups, a COG's own
//!   overviews): the levels cover the root group, the dataset
//!   `xarray.open_zarr(store)` opens. The root declares the levels with the Zarr multiscales
//!   convention ([`arco_zarr::multiscales_attributes`]).
//! * **Which dimensions.** [`grid`]: `arco-catalog`'s detection for STAC
//!   footprints ([`arco_catalog::horizontal_grids`]), its rectilinear
//!   (1-D latitude/longitude) and projected (x/y with a grid mapping) grids.
//! * **How many levels.** Until the next level would be smaller than
//!   [`MIN_LEVEL_SIZE`] along both horizontal dimensions of every grid, or
//!   exactly [`PyramidOptions::levels`] (never past 1×1).
//! * **Resampling.** [`resample`]: `mean` (default) of each 2×2 block
//!   ignoring missing values, or `nearest` (the top-left value). Categorical
//!   variables (`flag_values`, `flag_masks`, `flag_meanings`, enums,
//!   booleans) and times use `nearest` whatever is asked; coordinates always
//!   use the mean. Values keep their stored type and CF encoding (packed
//!   integers are re-packed with the same `scale_factor`/`add_offset`,
//!   rounded half to even); integer horizontal coordinates (packed or not)
//!   become `float64` decoded values (a block's mean is rarely an integer,
//!   and rounding it would shift the grid).
//! * **Chunks.** 1 along non-horizontal dimensions, up to
//!   [`MAX_LEVEL_CHUNK`]² horizontally, the base's codec.
//! * **Execution.** Level `k` is computed from level `k-1` read back from the
//!   partial output, in tasks over output regions sized to the memory budget,
//!   inside the atomic publication, with completion markers (resume).

pub mod grid;
pub mod resample;

use crate::plan::{consolidate, is_dropped, VarPlan};
use crate::{Error, Result};
use arco_core::cf;
use arco_core::{AttrValue, DType, Dataset, Variable};
use arco_formats::Reader;
pub use resample::Method;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// A level stops the pyramid when it would be smaller than this along both
/// horizontal dimensions of every grid (unless the number of levels is given).
pub const MIN_LEVEL_SIZE: u64 = 256;

/// Largest horizontal chunk extent of a level array.
pub const MAX_LEVEL_CHUNK: u64 = 512;

/// Most levels ever made (a factor of 2^30 leaves any real grid at one cell).
pub const MAX_LEVELS: u32 = 30;

/// The resampling the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Resampling {
    /// Mean of each 2×2 block, ignoring missing values.
    #[default]
    Mean,
    /// The top-left value of each block.
    Nearest,
}

impl Resampling {
    /// The method's name in the multiscales convention (`average`, `nearest`).
    pub fn convention_name(self) -> &'static str {
        match self {
            Resampling::Mean => "average",
            Resampling::Nearest => "nearest",
        }
    }
}

impl std::str::FromStr for Resampling {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "mean" | "average" => Ok(Resampling::Mean),
            "nearest" => Ok(Resampling::Nearest),
            other => Err(Error::Options(format!(
                "--pyramid-resampling {other}: choose mean or nearest"
            ))),
        }
    }
}

/// What the user chose about the pyramid (`--pyramid`, `--pyramid-levels`,
/// `--pyramid-resampling`); recorded in the provenance with the other options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PyramidOptions {
    /// Number of overview levels; `None`: until the next level would be
    /// smaller than [`MIN_LEVEL_SIZE`] along both horizontal dimensions.
    #[serde(default)]
    pub levels: Option<u32>,
    /// Resampling of data variables.
    #[serde(default)]
    pub resampling: Resampling,
}

/// One overview level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Level {
    /// 1, 2, ...
    pub level: u32,
    /// The child group holding it (`"1"`, `"2"`, ...).
    pub name: String,
    /// Full-resolution cells per level cell along each horizontal axis (`2^level`).
    pub factor: u64,
}

impl Level {
    /// The path of a variable at `path` in this level (`/t2m` → `/1/t2m`).
    pub fn path_of(&self, path: &str) -> String {
        format!("/{}/{}", self.name, path.trim_start_matches('/'))
    }
}

/// What a variable becomes in every level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Role {
    /// Halved along `axes` (the positions of its horizontal dimensions) from
    /// the level below.
    Downsample {
        /// Positions of the horizontal dimensions.
        axes: Vec<usize>,
        /// How a block becomes a value.
        method: Method,
    },
    /// Copied unchanged (it does not depend on a horizontal dimension).
    Copy,
}

/// A variable of the levels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelVariable {
    /// Its path in the full-resolution dataset.
    pub path: String,
    /// How it is made.
    pub role: Role,
    /// Its stored type in the levels.
    pub dtype: DType,
}

impl LevelVariable {
    /// Its shape in a level of `factor`, from its full-resolution `shape`.
    pub fn shape_at(&self, shape: &[u64], factor: u64) -> Vec<u64> {
        match &self.role {
            Role::Downsample { axes, .. } => shape
                .iter()
                .enumerate()
                .map(|(d, &n)| {
                    if axes.contains(&d) {
                        n.div_ceil(factor.max(1))
                    } else {
                        n
                    }
                })
                .collect(),
            Role::Copy => shape.to_vec(),
        }
    }
}

/// Which levels and which variables, from the source alone (the planner and
/// `verify` both derive it, so they agree).
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    /// The levels, in order.
    pub levels: Vec<Level>,
    /// The variables of every level, in the dataset's order.
    pub variables: Vec<LevelVariable>,
    /// Variables that depend on a horizontal dimension but are left out of
    /// the levels.
    pub omitted: Vec<String>,
    /// What the user should know.
    pub notes: Vec<String>,
}

fn has_flags(v: &Variable) -> bool {
    ["flag_values", "flag_masks", "flag_meanings"]
        .iter()
        .any(|a| v.attr(a).is_some())
}

fn is_time_like(v: &Variable) -> bool {
    v.attr("units")
        .and_then(AttrValue::as_str)
        .is_some_and(|u| u.contains("since"))
}

/// The variables `v` needs: its dimensions' coordinates, and those named by
/// `coordinates`, `grid_mapping`, `bounds` and `climatology`.
fn references<'a>(v: &Variable, ds: &'a Dataset) -> Vec<&'a Variable> {
    let mut names: Vec<String> = v.dims.clone();
    names.extend(cf::coordinates(v));
    names.extend(cf::grid_mappings(v).into_iter().map(|(n, _)| n));
    for attr in ["bounds", "climatology"] {
        if let Some(n) = v.attr(attr).and_then(AttrValue::as_str) {
            names.push(n.trim().to_string());
        }
    }
    names
        .iter()
        .filter_map(|n| cf::resolve(n, v, ds))
        .filter(|c| c.path != v.path)
        .collect()
}

/// Work out the levels and the role of every variable.
pub fn design(reader: &dyn Reader, options: &PyramidOptions, drop: &[String]) -> Result<Design> {
    let ds = reader.dataset();
    let grids = grid::grids(reader)?;
    let mut out = Design {
        levels: Vec::new(),
        variables: Vec::new(),
        omitted: Vec::new(),
        notes: Vec::new(),
    };
    if grids.is_empty() {
        out.notes.push(
            "--pyramid: no variable has a horizontal grid (1-D latitude/longitude or projected \
             x/y coordinates with a grid mapping); no overview levels are written"
                .into(),
        );
        return Ok(out);
    }
    let roles = grid::Roles::of(ds);
    let horizontal: HashSet<&str> = grids
        .iter()
        .flat_map(|g| [g.x_dim.as_str(), g.y_dim.as_str()])
        .collect();
    let coords: HashSet<&str> = grids
        .iter()
        .flat_map(|g| [g.x_coord.as_str(), g.y_coord.as_str()])
        .collect();
    // The root group only: the dataset `xarray.open_zarr(store)` returns.
    let all: Vec<&Variable> = ds
        .root
        .variables
        .iter()
        .filter(|v| !is_dropped(v, drop))
        .filter(|v| !matches!(v.dtype, DType::Compound { .. } | DType::VarLen { .. }))
        .collect();
    let mut chosen: Vec<Option<Role>> = vec![None; all.len()];
    let mut candidates: Vec<bool> = vec![false; all.len()];
    for (i, v) in all.iter().enumerate() {
        if coords.contains(v.path.as_str()) {
            chosen[i] = Some(Role::Downsample {
                axes: vec![0],
                method: Method::Mean,
            });
            continue;
        }
        if !v.dims.iter().any(|d| horizontal.contains(d.as_str())) {
            candidates[i] = true;
            continue;
        }
        let on_grid = grids.iter().find_map(|g| {
            let y = v.dims.iter().position(|d| d == &g.y_dim)?;
            let x = v.dims.iter().position(|d| d == &g.x_dim)?;
            let mut axes = vec![y, x];
            axes.sort_unstable();
            Some(axes)
        });
        let method = match &v.dtype {
            DType::Bool | DType::Enum { .. } => Some(Method::Nearest),
            d if d.is_numeric() => Some(if roles.auxiliary.contains(&v.path) {
                Method::Mean
            } else if has_flags(v) || is_time_like(v) {
                Method::Nearest
            } else {
                match options.resampling {
                    Resampling::Mean => Method::Mean,
                    Resampling::Nearest => Method::Nearest,
                }
            }),
            _ => None,
        };
        match (on_grid, method) {
            (Some(axes), Some(method)) if !roles.bounds.contains(&v.path) => {
                chosen[i] = Some(Role::Downsample { axes, method });
            }
            _ => out.omitted.push(v.path.clone()),
        }
    }
    // Copy what the level variables need, and what that needs in turn.
    let mut work: Vec<usize> = (0..all.len()).filter(|&i| chosen[i].is_some()).collect();
    while let Some(i) = work.pop() {
        for r in references(all[i], ds) {
            if let Some(j) = all.iter().position(|v| v.path == r.path) {
                if candidates[j] && chosen[j].is_none() {
                    chosen[j] = Some(Role::Copy);
                    work.push(j);
                }
            }
        }
    }
    for (v, role) in all.iter().zip(chosen) {
        let Some(role) = role else { continue };
        let dtype = if coords.contains(v.path.as_str()) && v.dtype.is_integer() {
            DType::F64
        } else {
            v.dtype.clone()
        };
        out.variables.push(LevelVariable {
            path: v.path.clone(),
            role,
            dtype,
        });
    }
    if !out.omitted.is_empty() {
        out.notes.push(format!(
            "--pyramid: {} depend{} on a horizontal dimension without being on the grid; left out of the overview levels",
            out.omitted.join(", "),
            if out.omitted.len() == 1 { "s" } else { "" }
        ));
    }

    // How many levels.
    let sizes: Vec<(u64, u64)> = grids
        .iter()
        .map(|g| {
            let len = |p: &str| {
                ds.root
                    .all_variables()
                    .into_iter()
                    .find(|v| v.path == p)
                    .and_then(|v| v.shape.first().copied())
                    .unwrap_or(0)
            };
            (len(&g.x_coord), len(&g.y_coord))
        })
        .collect();
    let at = |k: u32| -> u64 {
        let f = 1u64 << k.min(63);
        sizes
            .iter()
            .map(|&(x, y)| x.div_ceil(f).max(y.div_ceil(f)))
            .max()
            .unwrap_or(0)
    };
    let count = match options.levels {
        Some(n) => {
            let n = n.min(MAX_LEVELS);
            (1..=n).take_while(|&k| at(k - 1) > 1).count() as u32
        }
        None => (1..=MAX_LEVELS)
            .take_while(|&k| at(k) >= MIN_LEVEL_SIZE)
            .count() as u32,
    };
    if count == 0 {
        out.notes.push(format!(
            "--pyramid: the grid is already small ({} cells at most along a horizontal dimension); \
             no overview levels are written (ask for some with --pyramid-levels N)",
            at(0)
        ));
    }
    for k in 1..=count {
        let name = k.to_string();
        if ds.root.groups.iter().any(|g| g.name == name)
            || ds.root.variables.iter().any(|v| v.name == name)
        {
            return Err(Error::Options(format!(
                "--pyramid: {} has a group or variable named '{name}' at its root, where overview level {k} would go; \
                 rename it, leave it out with --drop, or convert without --pyramid",
                ds.source
            )));
        }
        out.levels.push(Level {
            level: k,
            name,
            factor: 1 << k,
        });
    }
    Ok(out)
}

/// The variable of a level array: the full-resolution variable at its level
/// path, with the level's shape and type, and attributes that name only
/// variables the level has.
pub fn level_variable(
    base: &Variable,
    dtype: &DType,
    level: &Level,
    shape: Vec<u64>,
    level_paths: &[&str],
) -> Variable {
    let present: HashSet<&str> = level_paths
        .iter()
        .flat_map(|p| [*p, p.rsplit('/').next().unwrap_or(p)])
        .collect();
    let mut v = base.clone();
    v.path = level.path_of(&base.path);
    v.shape = shape;
    if dtype != &base.dtype {
        v.attributes.retain(|a| {
            !matches!(
                a.name.as_str(),
                "_FillValue"
                    | "missing_value"
                    | "valid_min"
                    | "valid_max"
                    | "valid_range"
                    | "_Unsigned"
                    | "scale_factor"
                    | "add_offset"
            )
        });
        v.fill_value = None;
        v.dtype = dtype.clone();
    }
    v.attributes.retain(|a| match a.name.as_str() {
        "bounds" | "climatology" => a.value.as_str().is_some_and(|n| present.contains(n.trim())),
        _ => true,
    });
    if let Some(i) = v.attributes.iter().position(|a| a.name == "coordinates") {
        let kept: Vec<String> = cf::coordinates(&v)
            .into_iter()
            .filter(|n| present.contains(n.as_str()))
            .collect();
        if kept.is_empty() {
            v.attributes.remove(i);
        } else {
            v.attributes[i] = arco_core::Attribute::text("coordinates", kept.join(" "));
        }
    }
    v.chunk_shape = None;
    v
}

/// The region of the level below that a region of a level at `start` of
/// `shape` is computed from (`in_shape`: the level below's shape).
pub fn input_region(
    start: &[u64],
    shape: &[u64],
    in_shape: &[u64],
    axes: &[usize],
) -> (Vec<u64>, Vec<u64>) {
    let mut s = Vec::with_capacity(start.len());
    let mut n = Vec::with_capacity(start.len());
    for d in 0..start.len() {
        if axes.contains(&d) {
            let a = (2 * start[d]).min(in_shape[d]);
            let b = (2 * (start[d] + shape[d])).min(in_shape[d]);
            s.push(a);
            n.push(b - a);
        } else {
            s.push(start[d]);
            n.push(shape[d]);
        }
    }
    (s, n)
}

/// The planned pyramid: the design with, per variable, the shapes, chunks
/// and task regions of every level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PyramidPlan {
    /// The levels, in order.
    pub levels: Vec<Level>,
    /// Per level variable.
    pub variables: Vec<PyramidVar>,
    /// Variables left out of the levels.
    pub omitted: Vec<String>,
}

/// The plan of one variable in the levels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PyramidVar {
    /// Index into [`crate::Plan::variables`] (its full-resolution array).
    pub var: usize,
    /// Its full-resolution path.
    pub path: String,
    /// How it is made.
    pub role: Role,
    /// Its stored type in the levels.
    pub dtype: DType,
    /// Bytes per element (an estimate for strings).
    pub element_bytes: u64,
    /// Shape per level (index 0: level 1).
    pub shapes: Vec<Vec<u64>>,
    /// Chunk shape per level.
    pub chunks: Vec<Vec<u64>>,
    /// Output region of one task, per level.
    pub task_shapes: Vec<Vec<u64>>,
}

/// One unit of pyramid work: a region of one variable in one level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PyramidTask {
    /// Stable id, `p{level}.v{n}.{block}`: the name of its completion marker.
    pub id: String,
    /// Level number (1, 2, ...).
    pub level: u32,
    /// Index into [`PyramidPlan::variables`].
    pub var: usize,
    /// First element of the output region.
    pub start: Vec<u64>,
    /// Extent of the output region.
    pub shape: Vec<u64>,
    /// Uncompressed bytes of the output region.
    pub bytes: u64,
}

impl PyramidPlan {
    /// The tasks of level `level` (1-based), every variable.
    pub fn tasks(&self, level: u32) -> Vec<PyramidTask> {
        let li = level.saturating_sub(1) as usize;
        let mut out = Vec::new();
        for (vi, pv) in self.variables.iter().enumerate() {
            let (Some(shape), Some(block)) = (pv.shapes.get(li), pv.task_shapes.get(li)) else {
                continue;
            };
            let lists: Vec<Vec<u64>> = shape
                .iter()
                .zip(block)
                .map(|(&n, &b)| (0..n.div_ceil(b.max(1))).collect())
                .collect();
            for (n, idx) in arco_core::chunks::cartesian(&lists).into_iter().enumerate() {
                let start: Vec<u64> = idx.iter().zip(block).map(|(i, b)| i * b).collect();
                let ext: Vec<u64> = start
                    .iter()
                    .zip(block)
                    .zip(shape)
                    .map(|((s, b), n)| (*b).min(n - s))
                    .collect();
                let bytes = ext.iter().product::<u64>() * pv.element_bytes;
                out.push(PyramidTask {
                    id: format!("p{level}.v{vi}.{n}"),
                    level,
                    var: vi,
                    start,
                    shape: ext,
                    bytes,
                });
            }
        }
        out
    }

    /// Every task of every level, in order.
    pub fn all_tasks(&self) -> Vec<PyramidTask> {
        self.levels
            .iter()
            .flat_map(|l| self.tasks(l.level))
            .collect()
    }

    /// Uncompressed bytes of every level array.
    pub fn bytes(&self) -> u64 {
        self.variables
            .iter()
            .flat_map(|v| {
                v.shapes
                    .iter()
                    .map(move |s| s.iter().product::<u64>() * v.element_bytes)
            })
            .sum()
    }

    /// Chunks of every level array.
    pub fn chunk_count(&self) -> u64 {
        self.variables
            .iter()
            .flat_map(|v| {
                v.shapes.iter().zip(&v.chunks).map(|(s, c)| {
                    s.iter()
                        .zip(c)
                        .map(|(&n, &c)| n.div_ceil(c.max(1)))
                        .product::<u64>()
                })
            })
            .sum()
    }

    /// Level arrays, all levels together.
    pub fn array_count(&self) -> u64 {
        (self.variables.len() * self.levels.len()) as u64
    }
}

/// The chunk shape of a level array of `shape` (`coordinate`: a 1-D
/// horizontal coordinate, kept whole).
pub fn level_chunk(shape: &[u64], role: &Role, base_chunk: &[u64], coordinate: bool) -> Vec<u64> {
    match role {
        Role::Copy => base_chunk
            .iter()
            .zip(shape)
            .map(|(&c, &n)| c.min(n).max(1))
            .collect(),
        Role::Downsample { .. } if coordinate => shape.iter().map(|&n| n.max(1)).collect(),
        Role::Downsample { axes, .. } => shape
            .iter()
            .enumerate()
            .map(|(d, &n)| {
                if axes.contains(&d) {
                    n.clamp(1, MAX_LEVEL_CHUNK)
                } else {
                    1
                }
            })
            .collect(),
    }
}

/// The output region of one downsampling task: along other dimensions the
/// input's chunk (each input chunk decoded about once), along the horizontal
/// ones enough output chunks to cover an input chunk, then shrunk (outer
/// dimensions first, then horizontally down to one output chunk) until the
/// input and output regions, stored and as `f64`, fit `task_bytes`.
pub fn downsample_task_shape(
    out_shape: &[u64],
    out_chunk: &[u64],
    in_chunk: &[u64],
    axes: &[usize],
    elem: u64,
    task_bytes: u64,
) -> Vec<u64> {
    let n = out_shape.len();
    let mut t: Vec<u64> = (0..n)
        .map(|d| {
            let len = out_shape[d].max(1);
            if axes.contains(&d) {
                let c = out_chunk[d].max(1);
                in_chunk[d]
                    .max(1)
                    .div_ceil(2)
                    .div_ceil(c)
                    .saturating_mul(c)
                    .min(len)
            } else {
                in_chunk[d].clamp(1, len)
            }
        })
        .collect();
    let cost = |t: &[u64]| -> u64 {
        let out: u64 = t.iter().product();
        let input: u64 = t
            .iter()
            .enumerate()
            .map(|(d, &x)| if axes.contains(&d) { 2 * x } else { x })
            .product();
        (out + input).saturating_mul(elem + 8)
    };
    while cost(&t) > task_bytes {
        if let Some(d) = (0..n).find(|d| !axes.contains(d) && t[*d] > 1) {
            t[d] = (t[d] / 2).max(1);
            continue;
        }
        let shrink = axes.iter().copied().find(|&a| t[a] > out_chunk[a].max(1));
        match shrink {
            Some(a) => t[a] -= out_chunk[a].max(1),
            None => break,
        }
    }
    t
}

/// Plan the pyramid of a conversion whose variables are `variables`.
/// Returns the plan (`None` when there are no levels) and notes.
pub fn plan_pyramid(
    reader: &dyn Reader,
    variables: &[VarPlan],
    options: &PyramidOptions,
    drop: &[String],
    task_bytes: u64,
) -> Result<(Option<PyramidPlan>, Vec<String>)> {
    let ds = reader.dataset();
    let design = design(reader, options, drop)?;
    let mut notes = design.notes.clone();
    if design.levels.is_empty() {
        return Ok((None, notes));
    }
    let mut out = Vec::new();
    for lv in &design.variables {
        let Some((vi, vp)) = variables
            .iter()
            .enumerate()
            .find(|(_, vp)| vp.source == lv.path && vp.outputs.len() == 1)
        else {
            continue;
        };
        let coordinate = matches!(&lv.role, Role::Downsample { axes, .. } if axes == &[0] && vp.shape.len() == 1)
            && ds
                .root
                .all_variables()
                .iter()
                .any(|v| v.path == lv.path && v.is_coordinate());
        let elem = lv
            .dtype
            .size()
            .map_or(vp.element_bytes, |s| s as u64)
            .max(1);
        let mut shapes = Vec::new();
        let mut chunks = Vec::new();
        let mut tasks = Vec::new();
        let mut in_chunk = vp.chunk.clone();
        for level in &design.levels {
            let shape = lv.shape_at(&vp.shape, level.factor);
            let chunk = level_chunk(&shape, &lv.role, &vp.chunk, coordinate);
            let task = match &lv.role {
                Role::Copy => {
                    consolidate(&shape, &chunk, elem, task_bytes, &vec![None; shape.len()])
                }
                Role::Downsample { axes, .. } => {
                    downsample_task_shape(&shape, &chunk, &in_chunk, axes, elem, task_bytes)
                }
            };
            in_chunk = chunk.clone();
            shapes.push(shape);
            chunks.push(chunk);
            tasks.push(task);
        }
        out.push(PyramidVar {
            var: vi,
            path: lv.path.clone(),
            role: lv.role.clone(),
            dtype: lv.dtype.clone(),
            element_bytes: elem,
            shapes,
            chunks,
            task_shapes: tasks,
        });
    }
    if !out
        .iter()
        .any(|v| matches!(v.role, Role::Downsample { .. }))
    {
        notes.push("--pyramid: nothing to downsample; no overview levels are written".into());
        return Ok((None, notes));
    }
    let names: Vec<String> = design.levels.iter().map(|l| l.name.clone()).collect();
    notes.push(format!(
        "--pyramid: {} overview level{} ({}) of {} variable{}",
        names.len(),
        if names.len() == 1 { "" } else { "s" },
        names
            .iter()
            .zip(&design.levels)
            .map(|(n, l)| format!("/{n} at 1/{}", l.factor))
            .collect::<Vec<_>>()
            .join(", "),
        out.len(),
        if out.len() == 1 { "" } else { "s" }
    ));
    Ok((
        Some(PyramidPlan {
            levels: design.levels,
            variables: out,
            omitted: design.omitted,
        }),
        notes,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_regions_cover_an_input_chunk_and_shrink_to_the_budget() {
        // Base chunk (10, 100, 100) -> level chunk (1, 512, 512) over (100, 1000, 1000).
        let t = downsample_task_shape(
            &[100, 1000, 1000],
            &[1, 512, 512],
            &[10, 100, 100],
            &[1, 2],
            4,
            u64::MAX,
        );
        assert_eq!(t, vec![10, 512, 512]);
        // A small budget: outer dimension first, then one output chunk.
        let t = downsample_task_shape(
            &[100, 1000, 1000],
            &[1, 512, 512],
            &[10, 100, 100],
            &[1, 2],
            4,
            1 << 20,
        );
        assert_eq!(t, vec![1, 512, 512]);
        // Level 2 from level 1 chunks of 512: two output chunks' worth is
        // not needed, one covers two input chunks along each axis.
        let t = downsample_task_shape(
            &[5, 300, 700],
            &[1, 300, 512],
            &[1, 512, 512],
            &[1, 2],
            4,
            u64::MAX,
        );
        assert_eq!(t, vec![1, 300, 512]);
    }

    #[test]
    fn resampling_names_parse() {
        assert_eq!(
            "mean".parse::<Resampling>().unwrap_or_default(),
            Resampling::Mean
        );
        assert!(matches!(
            "nearest".parse::<Resampling>(),
            Ok(Resampling::Nearest)
        ));
        assert!("bilinear".parse::<Resampling>().is_err());
    }
}
