//! Which dimensions are horizontal: the detection `arco-catalog` uses for
//! STAC footprints (`crates/catalog/src/describe/grid.rs`), of which the
//! pyramid takes the gridded kinds:
//!
//! 1. a data variable whose dimensions have 1-D latitude and longitude
//!    dimension coordinates (CF `standard_name` latitude/longitude, units
//!    `degrees_north`/`degrees_east` and variants, or the names
//!    `lat`/`latitude`/`lon`/`longitude`) is on a rectilinear grid;
//! 2. else, one whose dimensions have 1-D projected x/y dimension coordinates
//!    (CF `axis` X/Y, `projection_x_coordinate`, ..., or the names
//!    `x`/`y`/`xc`/`yc`/`rlon`/`rlat` when it has a grid mapping) and a
//!    `grid_mapping` that [`arco_crs`] reads is on a projected grid.
//!
//! Curvilinear (2-D latitude/longitude), point and unstructured data have
//! no horizontal grid here, and only grids of the root group's variables
//! count. [`Roles`] tells bounds and auxiliary coordinates apart, as the
//! catalog does.

use crate::{Error, Result};
use arco_catalog::GridKind;
use arco_core::cf;
use arco_core::{AttrValue, Dataset, Variable};
use arco_formats::Reader;
use std::collections::HashSet;

/// A horizontal grid: its two dimensions and their coordinate variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grid {
    /// The x (longitude) dimension.
    pub x_dim: String,
    /// The y (latitude) dimension.
    pub y_dim: String,
    /// Path of the x coordinate variable.
    pub x_coord: String,
    /// Path of the y coordinate variable.
    pub y_coord: String,
}

fn text<'a>(var: &'a Variable, name: &str) -> Option<&'a str> {
    var.attr(name)
        .and_then(AttrValue::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Paths of the bounds variables and auxiliary coordinates.
pub(crate) struct Roles {
    pub bounds: HashSet<String>,
    pub auxiliary: HashSet<String>,
}

impl Roles {
    pub(crate) fn of(ds: &Dataset) -> Roles {
        let mut roles = Roles {
            bounds: HashSet::new(),
            auxiliary: HashSet::new(),
        };
        for v in ds.root.all_variables() {
            for attr in ["bounds", "climatology"] {
                if let Some(b) = text(v, attr).and_then(|n| cf::resolve(n, v, ds)) {
                    roles.bounds.insert(b.path.clone());
                }
            }
            for name in cf::coordinates(v) {
                if let Some(c) = cf::resolve(&name, v, ds) {
                    if c.path != v.path {
                        roles.auxiliary.insert(c.path.clone());
                    }
                }
            }
        }
        roles
    }
}

/// Every rectilinear or projected horizontal grid of the root group's data
/// variables (distinct dimension pairs), as `arco-catalog` detects them for
/// STAC footprints ([`arco_catalog::horizontal_grids`]).
pub(crate) fn grids(reader: &dyn Reader) -> Result<Vec<Grid>> {
    let ds = reader.dataset();
    let found = arco_catalog::horizontal_grids(reader, &ds.source).map_err(|e| {
        Error::Options(format!(
            "--pyramid: the horizontal grids of {} cannot be worked out: {e}",
            ds.source
        ))
    })?;
    let in_root = |path: &str| path.trim_start_matches('/').split('/').count() == 1;
    let mut out: Vec<Grid> = Vec::new();
    for g in found {
        if !matches!(g.kind, GridKind::Rectilinear | GridKind::Projected) {
            continue;
        }
        let Some((x_dim, y_dim)) = g.dims.clone() else {
            continue;
        };
        if !g.users.iter().any(|u| in_root(u)) || !in_root(&g.x) || !in_root(&g.y) {
            continue;
        }
        let grid = Grid {
            x_dim,
            y_dim,
            x_coord: g.x.clone(),
            y_coord: g.y.clone(),
        };
        if !out.contains(&grid) {
            out.push(grid);
        }
    }
    Ok(out)
}
