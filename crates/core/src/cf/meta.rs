//! CF metadata helpers: flags, grid mappings, bounds, auxiliary coordinates and
//! axis detection, for catalogue (STAC) work.

use super::time::is_time_units;
use crate::error::{Error, Result};
use crate::model::{Dataset, Group, Variable};
use crate::values::{AttrValue, Attribute};
use std::borrow::Cow;

/// The flag definitions of a variable (`flag_values`, `flag_masks`, `flag_meanings`).
#[derive(Debug, Clone, PartialEq)]
pub struct Flags {
    /// `flag_values`: each meaning's exact value.
    pub values: Option<Vec<f64>>,
    /// `flag_masks`: each meaning's bit mask.
    pub masks: Option<Vec<f64>>,
    /// `flag_meanings`, split on blanks; empty when the attribute is missing.
    pub meanings: Vec<String>,
}

/// A spatial or temporal axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Axis {
    /// Time.
    T,
    /// Vertical.
    Z,
    /// Latitude or projected y.
    Y,
    /// Longitude or projected x.
    X,
}

/// Numbers of a numeric attribute, or of a text attribute listing numbers
/// separated by blanks or commas (some files write `flag_values` that way).
fn attr_numbers(var: &Variable, name: &str) -> Result<Option<Vec<f64>>> {
    let Some(value) = var.attr(name) else {
        return Ok(None);
    };
    match value {
        AttrValue::Array(v) => v.to_f64_vec().map(Some).ok_or_else(|| Error::Cf {
            variable: var.path.clone(),
            attribute: name.to_string(),
            reason: format!("expected numbers, found {} values", v.type_name()),
        }),
        AttrValue::Text(t) => t
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.trim_end_matches(['b', 'B', 's', 'S', 'u', 'U', 'L', 'l'])
                    .parse::<f64>()
                    .map_err(|_| Error::Cf {
                        variable: var.path.clone(),
                        attribute: name.to_string(),
                        reason: format!("'{s}' in '{t}' is not a number"),
                    })
            })
            .collect::<Result<Vec<f64>>>()
            .map(Some),
    }
}

/// The flags of `var`, or `None` when it has neither `flag_values` nor `flag_masks`.
///
/// Errors when `flag_meanings` does not have one word per value (or per mask),
/// or when a flag attribute is not numeric.
pub fn flags(var: &Variable) -> Result<Option<Flags>> {
    let values = attr_numbers(var, "flag_values")?;
    let masks = attr_numbers(var, "flag_masks")?;
    if values.is_none() && masks.is_none() {
        return Ok(None);
    }
    let meanings: Vec<String> = var
        .attr("flag_meanings")
        .and_then(AttrValue::as_str)
        .map(|m| m.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    if !meanings.is_empty() {
        for (name, list) in [("flag_values", &values), ("flag_masks", &masks)] {
            if let Some(list) = list {
                if list.len() != meanings.len() {
                    return Err(Error::Cf {
                        variable: var.path.clone(),
                        attribute: name.to_string(),
                        reason: format!(
                            "{} has {} entries but flag_meanings has {} words ({})",
                            name,
                            list.len(),
                            meanings.len(),
                            meanings.join(" ")
                        ),
                    });
                }
            }
        }
    }
    Ok(Some(Flags {
        values,
        masks,
        meanings,
    }))
}

/// Names listed in the `coordinates` attribute of `var`, in order.
pub fn coordinates(var: &Variable) -> Vec<String> {
    var.attr("coordinates")
        .and_then(AttrValue::as_str)
        .map(|c| c.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

/// The grid mappings named by `grid_mapping`: the short form `crs` gives
/// `[("crs", [])]`; the extended form `crsA: lat lon crsB: x y` gives each
/// mapping variable with the coordinates it applies to.
pub fn grid_mappings(var: &Variable) -> Vec<(String, Vec<String>)> {
    let Some(text) = var.attr("grid_mapping").and_then(AttrValue::as_str) else {
        return Vec::new();
    };
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let words: Vec<&str> = text.split_whitespace().collect();
    if !words.iter().any(|w| w.ends_with(':')) {
        return words
            .first()
            .map(|w| vec![(w.to_string(), Vec::new())])
            .unwrap_or_default();
    }
    for w in words {
        if let Some(name) = w.strip_suffix(':') {
            out.push((name.to_string(), Vec::new()));
        } else if let Some(last) = out.last_mut() {
            last.1.push(w.to_string());
        }
    }
    out
}

/// The group path of a variable path: `/a/b/v` gives `/a/b`, `/v` gives `/`.
fn parent_path(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// Find the variable `name` refers to from `var`, with CF 1.8 search rules:
/// an absolute path, a path relative to `var`'s group, or a bare name looked up
/// in `var`'s group and then in each enclosing group.
pub fn resolve<'a>(name: &str, var: &Variable, dataset: &'a Dataset) -> Option<&'a Variable> {
    let find = |path: &str| {
        dataset
            .root
            .all_variables()
            .into_iter()
            .find(|v| v.path == path)
    };
    if name.starts_with('/') {
        return find(name);
    }
    let mut group = parent_path(&var.path).to_string();
    loop {
        let candidate = if group == "/" {
            format!("/{name}")
        } else {
            format!("{group}/{name}")
        };
        if let Some(v) = find(&candidate) {
            return Some(v);
        }
        if group == "/" || name.contains('/') {
            return None;
        }
        group = parent_path(&group).to_string();
    }
}

/// The grid mapping variable of `var` (the first one in the extended form).
pub fn grid_mapping<'a>(var: &Variable, dataset: &'a Dataset) -> Option<&'a Variable> {
    grid_mappings(var)
        .iter()
        .find_map(|(name, _)| resolve(name, var, dataset))
}

/// The `grid_mapping_name` (such as `lambert_conformal_conic`) of `var`'s grid
/// mapping variable.
pub fn grid_mapping_name<'a>(var: &Variable, dataset: &'a Dataset) -> Option<&'a str> {
    grid_mapping(var, dataset)?
        .attr("grid_mapping_name")
        .and_then(AttrValue::as_str)
}

/// The boundary variable of `var` in `group`, named by its `bounds` attribute
/// (or `climatology` for climatological time).
pub fn bounds_of<'a>(var: &Variable, group: &'a Group) -> Option<&'a Variable> {
    let name = var
        .attr("bounds")
        .or_else(|| var.attr("climatology"))
        .and_then(AttrValue::as_str)?
        .trim();
    if name.contains('/') {
        return group
            .all_variables()
            .into_iter()
            .find(|v| v.path == name || v.path.ends_with(&format!("/{name}")));
    }
    group.variables.iter().find(|v| v.name == name)
}

/// `var` with the `units` and `calendar` of the time variable whose `bounds`
/// attribute names it, each added only when `var` lacks it, as xarray's
/// `_update_bounds_attributes` does before decoding (so that `time_bnds`
/// decodes to dates like `time`). `group` is the group holding `var`; only a
/// variable of that group with `since` in its units counts. Returns `var`
/// itself when nothing is inherited.
pub fn with_bounds_time_attributes<'a>(var: &'a Variable, group: &Group) -> Cow<'a, Variable> {
    let mut out = Cow::Borrowed(var);
    for parent in &group.variables {
        let units = parent.attr("units").and_then(AttrValue::as_str);
        let Some(units) = units.filter(|u| u.contains("since")) else {
            continue;
        };
        if parent.attr("bounds").and_then(AttrValue::as_str) != Some(var.name.as_str()) {
            continue;
        }
        if out.attr("units").is_none() {
            out.to_mut()
                .attributes
                .push(Attribute::text("units", units));
        }
        if let Some(calendar) = parent.attributes.iter().find(|a| a.name == "calendar") {
            if out.attr("calendar").is_none() {
                out.to_mut().attributes.push(calendar.clone());
            }
        }
    }
    out
}

const UNITS_NORTH: [&str; 6] = [
    "degrees_north",
    "degree_north",
    "degree_n",
    "degrees_n",
    "degreen",
    "degreesn",
];
const UNITS_EAST: [&str; 6] = [
    "degrees_east",
    "degree_east",
    "degree_e",
    "degrees_e",
    "degreee",
    "degreese",
];
const UNITS_PRESSURE: [&str; 8] = [
    "pa", "hpa", "kpa", "mbar", "millibar", "bar", "dbar", "decibar",
];

/// Which axis `var` runs along, from (in this order) its `axis` attribute, a
/// `positive` attribute (Z), its units (`X since DATE` is T, `degrees_north`
/// and variants Y, `degrees_east` and variants X, pressure units Z for
/// coordinate variables only), then its `standard_name`.
pub fn axis_kind(var: &Variable) -> Option<Axis> {
    let text = |name: &str| var.attr(name).and_then(AttrValue::as_str).map(str::trim);
    if let Some(axis) = text("axis") {
        match axis.to_ascii_uppercase().as_str() {
            "T" => return Some(Axis::T),
            "Z" => return Some(Axis::Z),
            "Y" => return Some(Axis::Y),
            "X" => return Some(Axis::X),
            _ => {}
        }
    }
    if let Some(p) = text("positive") {
        if p.eq_ignore_ascii_case("up") || p.eq_ignore_ascii_case("down") {
            return Some(Axis::Z);
        }
    }
    if let Some(units) = text("units") {
        if units.contains("since") && is_time_units(units) {
            return Some(Axis::T);
        }
        let lower = units.to_ascii_lowercase();
        if UNITS_NORTH.contains(&lower.as_str()) {
            return Some(Axis::Y);
        }
        if UNITS_EAST.contains(&lower.as_str()) {
            return Some(Axis::X);
        }
        if var.is_coordinate() && UNITS_PRESSURE.contains(&lower.as_str()) {
            return Some(Axis::Z);
        }
    }
    let standard_name = text("standard_name")?;
    match standard_name {
        "time" | "forecast_reference_time" => Some(Axis::T),
        "latitude"
        | "grid_latitude"
        | "projection_y_coordinate"
        | "projection_y_angular_coordinate" => Some(Axis::Y),
        "longitude"
        | "grid_longitude"
        | "projection_x_coordinate"
        | "projection_x_angular_coordinate" => Some(Axis::X),
        "air_pressure"
        | "height"
        | "depth"
        | "altitude"
        | "model_level_number"
        | "geopotential_height"
        | "height_above_geopotential_datum"
        | "height_above_reference_ellipsoid"
        | "height_above_mean_sea_level" => Some(Axis::Z),
        s if (s.starts_with("atmosphere_") || s.starts_with("ocean_"))
            && s.ends_with("_coordinate") =>
        {
            Some(Axis::Z)
        }
        _ => None,
    }
}
