//! Verifying overview levels (`arco convert --pyramid`).
//!
//! The expected levels and their variables come from the source, by the
//! same [`crate::pyramid::design`] the planner uses (with the options
//! recorded in the provenance). For each level, in order, every variable is
//! recomputed from the level below **as stored in the destination** (the
//! full resolution for level 1, itself checked against the source), region
//! by region within the memory budget, with the same kernel the conversion
//! used, and compared element by element with what the level holds: exactly,
//! NaN equal to NaN. Copied variables are compared with the full resolution.
//! A difference names the level array (`/1/t2m`) and the element's index in
//! the level; its `source` value is the recomputed one.
//!
//! The root must declare the levels with the multiscales convention (and
//! register it in `zarr_conventions`); a level it does not declare, or one
//! the source does not call for, is a difference.

use super::{
    block_at, block_shape, dtype_match, selection_of, Compare, DestView, Difference, DtypeMatch,
    State, Tally, PROVENANCE_ATTRIBUTE,
};
use crate::pyramid::{self, resample, PyramidOptions, Role};
use arco_core::{Dataset, Variable};
use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value as Json;

/// What was compared in one overview level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelReport {
    /// 1, 2, ...
    pub level: u32,
    /// Its group.
    pub group: String,
    /// Full-resolution cells per level cell along each horizontal axis.
    pub factor: u64,
    /// Level arrays compared.
    pub arrays: u64,
    /// Elements compared.
    pub elements: u64,
    /// Elements that differ from the values recomputed from the level below.
    pub value_differences: u64,
}

/// Whether `dest` holds a pyramid, and with which options: the provenance's
/// `options.pyramid`; without a provenance, levels declared at the root are
/// checked with the defaults and the declared number of levels.
pub(super) fn options_of(dest: &DestView) -> Option<(PyramidOptions, Option<String>)> {
    if let Some(p) = dest.provenance() {
        // An arco output: its options say whether it has levels (a
        // `multiscales` attribute copied from the source is not ours).
        return p
            .pointer("/options/pyramid")
            .filter(|p| !p.is_null())
            .and_then(|p| serde_json::from_value::<PyramidOptions>(p.clone()).ok())
            .map(|o| (o, None));
    }
    let declared = declared_levels(dest.dataset());
    if declared.is_empty() {
        return None;
    }
    Some((
        PyramidOptions {
            levels: Some(declared.len() as u32),
            ..PyramidOptions::default()
        },
        Some(format!(
            "{} declares {} overview level{} but records no {PROVENANCE_ATTRIBUTE}; they were checked as mean-resampled levels",
            dest.location(),
            declared.len(),
            if declared.len() == 1 { "" } else { "s" }
        )),
    ))
}

/// The overview levels (factor above 1) the root declares.
fn declared_levels(ds: &Dataset) -> Vec<arco_zarr::MultiscaleLevel> {
    arco_zarr::multiscale_levels(&ds.root.attributes)
        .into_iter()
        .filter(|l| l.factor > 1)
        .collect()
}

fn level_diff(level: &str, message: String) -> Difference {
    Difference::Level {
        level: level.to_string(),
        message,
    }
}

/// Check every level; returns one report per expected level.
pub(super) fn check(
    state: &mut State<'_>,
    reader: &dyn arco_formats::Reader,
    dest: &DestView,
    options: &PyramidOptions,
    dropped: &[String],
    budget: u64,
) -> Vec<LevelReport> {
    let source = reader.dataset();
    let design = match pyramid::design(reader, options, dropped) {
        Ok(d) => d,
        Err(e) => {
            state.differ(level_diff(
                "*",
                format!("the expected levels cannot be worked out: {e}"),
            ));
            return Vec::new();
        }
    };
    let dst = dest.dataset();
    let declared = declared_levels(dst);
    for l in &design.levels {
        if !declared
            .iter()
            .any(|d| d.path == l.name && d.factor == l.factor)
        {
            state.differ(level_diff(
                &l.name,
                format!(
                    "not declared (at factor {}) in the root's multiscales attribute",
                    l.factor
                ),
            ));
        }
    }
    for d in &declared {
        if !design.levels.iter().any(|l| l.name == d.path) {
            state.differ(level_diff(
                &d.path,
                format!(
                    "declared at factor {} but the source calls for no such level",
                    d.factor
                ),
            ));
        }
    }
    if !design.levels.is_empty() {
        let registered = dst
            .root
            .attr(arco_zarr::CONVENTIONS_ATTRIBUTE)
            .and_then(|a| a.as_str())
            .and_then(|t| serde_json::from_str::<Json>(t).ok())
            .is_some_and(|list| {
                list.as_array().is_some_and(|l| {
                    l.iter().any(|c| {
                        c.get("uuid").and_then(Json::as_str) == Some(arco_zarr::MULTISCALES_UUID)
                    })
                })
            });
        if !registered {
            state.differ(level_diff(
                "*",
                "the root's zarr_conventions does not register the multiscales convention".into(),
            ));
        }
    }

    let find = |path: &str| -> Option<&Variable> {
        dst.root
            .all_variables()
            .into_iter()
            .find(|v| v.path == path)
    };
    let mut reports = Vec::new();
    for (li, level) in design.levels.iter().enumerate() {
        let mut report = LevelReport {
            level: level.level,
            group: format!("/{}", level.name),
            factor: level.factor,
            arrays: 0,
            elements: 0,
            value_differences: 0,
        };
        if !dst.root.groups.iter().any(|g| g.name == level.name) {
            state.missing.push(format!("/{}", level.name));
            reports.push(report);
            continue;
        }
        for lv in &design.variables {
            let Some(src) = source
                .root
                .all_variables()
                .into_iter()
                .find(|v| v.path == lv.path)
            else {
                continue;
            };
            let path = level.path_of(&lv.path);
            let Some(dv) = find(&path) else {
                state.missing.push(path);
                continue;
            };
            state.matched.insert(path.clone());
            let expected = lv.shape_at(&src.shape, level.factor);
            if dv.dims != src.dims {
                state.differ(Difference::Dimensions {
                    variable: path.clone(),
                    source: src.dims.clone(),
                    destination: dv.dims.clone(),
                });
            }
            if dtype_match(&lv.dtype, &dv.dtype) == DtypeMatch::Differs {
                state.differ(Difference::Dtype {
                    variable: path.clone(),
                    source: lv.dtype.name(),
                    destination: dv.dtype.name(),
                });
                continue;
            }
            if dv.shape != expected {
                state.differ(Difference::Shape {
                    variable: path.clone(),
                    source: expected,
                    destination: dv.shape.clone(),
                });
                continue;
            }
            // The array it is computed from, as stored.
            let below_path = if li == 0 {
                super::norm(&lv.path)
            } else {
                design.levels[li - 1].path_of(&lv.path)
            };
            let base_path = super::norm(&lv.path);
            let from_path = match lv.role {
                Role::Copy => base_path,
                Role::Downsample { .. } => below_path,
            };
            let Some(from) = find(&from_path) else {
                // Reported where it is missing.
                continue;
            };
            let tally = compare_array(state, dest, lv, from, dv, &path, budget);
            report.arrays += 1;
            report.elements += tally.elements;
            report.value_differences += tally.count;
            state.elements_checked += tally.elements;
            state.difference_count += tally.count + tally.other_count;
            if tally.count > tally.diffs.len() as u64 {
                state.notes.push(format!(
                    "{path}: {} values differ from those recomputed from the level below, the first {} are listed",
                    tally.count,
                    tally.diffs.len()
                ));
            }
            state.differences.extend(tally.other);
            state.differences.extend(tally.diffs);
        }
        reports.push(report);
    }
    reports
}

/// Recompute `dv` from `from` region by region and compare.
fn compare_array(
    state: &State<'_>,
    dest: &DestView,
    lv: &pyramid::LevelVariable,
    from: &Variable,
    dv: &Variable,
    path: &str,
    budget: u64,
) -> Tally {
    let cap = state.max_differences;
    let mut failed = Tally::default();
    let unreadable = |message: String| Difference::Unreadable {
        variable: path.to_string(),
        side: super::Side::Destination,
        start: vec![0; dv.shape.len()],
        shape: dv.shape.clone(),
        message,
    };
    let (from_codec, to_codec) = match (resample::Codec::of(from), resample::Codec::of(dv)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            failed.unreadable(unreadable(format!("its CF attributes cannot be read: {e}")));
            return failed;
        }
    };
    let elem = dv.dtype.size().map_or(64, |s| s as u64).max(1);
    let chunk = dv.chunk_shape.clone().unwrap_or_else(|| dv.shape.clone());
    let block = match &lv.role {
        Role::Downsample { axes, .. } => {
            let in_chunk = from
                .chunk_shape
                .clone()
                .unwrap_or_else(|| from.shape.clone());
            pyramid::downsample_task_shape(&dv.shape, &chunk, &in_chunk, axes, elem, budget)
        }
        Role::Copy => block_shape(
            &dv.shape,
            Some(&chunk),
            from.chunk_shape.as_deref(),
            elem * 2,
            budget,
        ),
    };
    let grid: Vec<u64> = dv
        .shape
        .iter()
        .zip(&block)
        .map(|(n, b)| n.div_ceil((*b).max(1)))
        .collect();
    let count: u64 = grid.iter().product();
    (0..count)
        .into_par_iter()
        .map(|b| {
            let (start, shape) = block_at(b, &grid, &block, &dv.shape);
            let mut t = Tally::default();
            let bad = |message: String| Difference::Unreadable {
                variable: path.to_string(),
                side: super::Side::Destination,
                start: start.clone(),
                shape: shape.clone(),
                message,
            };
            let want = match &lv.role {
                Role::Copy => dest.read(&from.path, &selection_of(&start, &shape)),
                Role::Downsample { axes, method } => {
                    let (s, n) = pyramid::input_region(&start, &shape, &from.shape, axes);
                    dest.read(&from.path, &selection_of(&s, &n))
                        .and_then(|input| {
                            resample::downsample(&input, axes, *method, &from_codec, &to_codec)
                                .map_err(|e| super::VerifyError::Destination {
                                    location: dest.location().to_string(),
                                    message: format!("{}: {e}", from.path),
                                })
                        })
                }
            };
            let want = match want {
                Ok(w) => w,
                Err(e) => {
                    t.unreadable(bad(format!("the level below cannot be read: {e}")));
                    return t;
                }
            };
            let got = match dest.read(path, &selection_of(&start, &shape)) {
                Ok(g) => g,
                Err(e) => {
                    t.unreadable(bad(e.to_string()));
                    return t;
                }
            };
            if want.values.len() != got.values.len() {
                t.unreadable(bad(format!(
                    "{} values were read for a block of {}",
                    got.values.len(),
                    want.values.len()
                )));
                return t;
            }
            let mut ctx = Compare {
                variable: path,
                start: &start,
                shape: &shape,
                cap,
                tally: &mut t,
            };
            ctx.values(&want.values, &got.values);
            t
        })
        .reduce(Tally::default, |a, b| a.merge(b, cap))
}
