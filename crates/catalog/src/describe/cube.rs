//! Variable roles, the datacube extension (`cube:dimensions`,
//! `cube:variables`), bands (raster and classification fields) and tables.

use super::grid::{self, Grids, Kind};
use super::time::{self, iso_duration, to_utc};
use super::{key, text, Ctx, StatisticsMode, Table, AUTO_STATISTICS_LIMIT};
use crate::Result;
use arco_core::cf::{self, Axis, CfDecoder};
use arco_core::{AttrValue, DType, Dataset, Values, Variable};
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};

/// What each variable is.
pub(crate) struct Roles<'a> {
    /// Data variables: not coordinates, bounds, grid mappings or auxiliary
    /// coordinates named by a `coordinates` attribute.
    pub data: Vec<&'a Variable>,
    /// Bounds (and climatology) variables.
    pub bounds: HashSet<String>,
    /// Grid mapping variables.
    pub mappings: HashSet<String>,
    /// Variables named by `coordinates` attributes.
    pub auxiliary: HashSet<String>,
}

impl<'a> Roles<'a> {
    pub fn of(ds: &'a Dataset) -> Roles<'a> {
        let all = ds.root.all_variables();
        let mut bounds = HashSet::new();
        let mut mappings = HashSet::new();
        let mut auxiliary = HashSet::new();
        for &v in &all {
            for attr in ["bounds", "climatology"] {
                if let Some(name) = text(v, attr) {
                    if let Some(b) = cf::resolve(name, v, ds) {
                        bounds.insert(b.path.clone());
                    }
                }
            }
            for (name, _) in cf::grid_mappings(v) {
                if let Some(m) = cf::resolve(&name, v, ds) {
                    mappings.insert(m.path.clone());
                }
            }
            if v.attr("grid_mapping_name").is_some() {
                mappings.insert(v.path.clone());
            }
            for name in cf::coordinates(v) {
                if let Some(c) = cf::resolve(&name, v, ds) {
                    if c.path != v.path {
                        auxiliary.insert(c.path.clone());
                    }
                }
            }
        }
        let data = all
            .into_iter()
            .filter(|v| {
                !v.is_coordinate()
                    && !bounds.contains(&v.path)
                    && !mappings.contains(&v.path)
                    && !auxiliary.contains(&v.path)
            })
            .collect();
        Roles {
            data,
            bounds,
            mappings,
            auxiliary,
        }
    }
}

pub(crate) struct Cube {
    pub dimensions: Map<String, Value>,
    pub variables: Map<String, Value>,
    pub bands: Vec<stac::Band>,
    pub tables: Vec<Table>,
    pub standard_names: Vec<String>,
}

/// The STAC data type of a stored type.
pub(crate) fn data_type(dtype: &DType) -> stac::DataType {
    use stac::DataType as D;
    match dtype {
        DType::I8 => D::Int8,
        DType::I16 => D::Int16,
        DType::I32 => D::Int32,
        DType::I64 => D::Int64,
        DType::U8 => D::UInt8,
        DType::U16 => D::UInt16,
        DType::U32 => D::UInt32,
        DType::U64 => D::UInt64,
        DType::F32 => D::Float32,
        DType::F64 => D::Float64,
        DType::Enum { base, .. } => data_type(base),
        _ => D::Other,
    }
}

fn data_type_json(dtype: &DType) -> Value {
    serde_json::to_value(data_type(dtype)).unwrap_or(json!("other"))
}

/// A no-data value as STAC writes it: a number, or `"nan"`, `"inf"`, `"-inf"`.
pub(crate) fn nodata_json(x: f64) -> Value {
    if x.is_nan() {
        json!("nan")
    } else if x == f64::INFINITY {
        json!("inf")
    } else if x == f64::NEG_INFINITY {
        json!("-inf")
    } else if x.fract() == 0.0 && x.abs() < 9.007_199_254_740_992e15 {
        json!(x as i64)
    } else {
        json!(x)
    }
}

/// The stored fill value: `_FillValue`, else `missing_value`.
pub(crate) fn fill_value(var: &Variable) -> Option<f64> {
    ["_FillValue", "missing_value"]
        .iter()
        .find_map(|a| var.attr(a).and_then(AttrValue::as_f64))
}

fn description_of(v: &Variable) -> Option<String> {
    text(v, "long_name")
        .or_else(|| text(v, "standard_name"))
        .or_else(|| text(v, "description"))
        .map(str::to_string)
}

/// `classification:classes` or `classification:bitfields` from CF flags.
pub(crate) fn classification(flags: &cf::Flags) -> Option<(String, Value)> {
    let name = |meaning: &str, value: i64| {
        let s: String = meaning
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if s.is_empty() {
            format!("class_{value}")
        } else {
            s
        }
    };
    let class = |value: i64, meaning: Option<&String>| {
        let mut m = Map::new();
        m.insert("value".into(), json!(value));
        let n = meaning
            .map(|s| name(s, value))
            .unwrap_or(format!("class_{value}"));
        m.insert("name".into(), json!(n));
        if let Some(meaning) = meaning {
            m.insert("description".into(), json!(meaning.replace('_', " ")));
        }
        Value::Object(m)
    };
    let as_int = |x: f64| (x.fract() == 0.0 && x.is_finite()).then_some(x as i64);
    match (&flags.values, &flags.masks) {
        (Some(values), None) => {
            let mut classes: Vec<Value> = Vec::new();
            for (i, &v) in values.iter().enumerate() {
                let c = class(as_int(v)?, flags.meanings.get(i));
                if !classes.contains(&c) {
                    classes.push(c);
                }
            }
            Some(("classification:classes".into(), Value::Array(classes)))
        }
        (values, Some(masks)) => {
            // One bit field per distinct mask; with flag_values, each meaning
            // is the value of its field, else the field's single bit is set.
            let mut fields: Vec<(u64, Vec<Value>)> = Vec::new();
            for (i, &m) in masks.iter().enumerate() {
                let mask = as_int(m)? as u64;
                if mask == 0 {
                    return None;
                }
                let offset = mask.trailing_zeros();
                let shifted = mask >> offset;
                if shifted & (shifted + 1) != 0 {
                    return None; // not a contiguous run of bits
                }
                let value = match values {
                    Some(vs) => (as_int(*vs.get(i)?)? as u64 & mask) >> offset,
                    None => shifted,
                };
                let c = class(value as i64, flags.meanings.get(i));
                match fields.iter_mut().find(|(m, _)| *m == mask) {
                    Some((_, classes)) => {
                        if !classes.contains(&c) {
                            classes.push(c)
                        }
                    }
                    None => fields.push((mask, vec![c])),
                }
            }
            let list: Vec<Value> = fields
                .into_iter()
                .map(|(mask, classes)| {
                    let offset = mask.trailing_zeros();
                    json!({
                        "offset": offset,
                        "length": 64 - (mask >> offset).leading_zeros(),
                        "classes": classes,
                    })
                })
                .collect();
            Some(("classification:bitfields".into(), Value::Array(list)))
        }
        (None, None) => None,
    }
}

/// Min, max, mean, population standard deviation and valid percentage of the
/// decoded values.
pub(crate) fn statistics(values: &[f64]) -> stac::Statistics {
    let valid: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let total = values.len().max(1) as f64;
    let n = valid.len() as f64;
    if valid.is_empty() {
        return stac::Statistics {
            mean: None,
            minimum: None,
            maximum: None,
            stddev: None,
            valid_percent: Some(0.0),
        };
    }
    let mean = valid.iter().sum::<f64>() / n;
    let var = valid.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    stac::Statistics {
        mean: Some(mean),
        minimum: valid.iter().copied().reduce(f64::min),
        maximum: valid.iter().copied().reduce(f64::max),
        stddev: Some(var.sqrt()),
        valid_percent: Some(100.0 * n / total),
    }
}

fn finite_range(v: &[f64]) -> Option<(f64, f64)> {
    let lo = v
        .iter()
        .copied()
        .filter(|x| x.is_finite())
        .reduce(f64::min)?;
    let hi = v
        .iter()
        .copied()
        .filter(|x| x.is_finite())
        .reduce(f64::max)?;
    Some((lo, hi))
}

fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.007_199_254_740_992e15 {
        json!(x as i64)
    } else {
        json!(x)
    }
}

/// A vertical coordinate CF's axis rules miss: pressure in plural units
/// (`millibars`, `hectopascals`), or a level named so.
fn is_vertical(v: &Variable) -> bool {
    let units = text(v, "units").map(str::to_ascii_lowercase);
    matches!(
        units.as_deref(),
        Some("millibars" | "hectopascal" | "hectopascals" | "pascals" | "mb" | "hpa" | "pa")
    )
}

/// The coordinate variable of dimension `dim` (named like it, along it only).
fn coordinate_of<'a>(ds: &'a Dataset, dim: &str) -> Option<&'a Variable> {
    let all = ds.root.all_variables();
    all.iter()
        .copied()
        .find(|v| v.path == format!("/{dim}") && v.is_coordinate())
        .or_else(|| {
            all.iter()
                .copied()
                .find(|v| v.name == dim && v.is_coordinate())
        })
}

pub(crate) fn build(
    ctx: &Ctx<'_>,
    roles: &Roles<'_>,
    grids: &Grids<'_>,
    _spatial: Option<&grid::Spatial>,
    notes: &mut Vec<String>,
) -> Result<Cube> {
    let ds = ctx.ds;
    let all = ds.root.all_variables();
    let grid_coords = grids.coordinate_paths();
    // Horizontal dimensions: name -> (axis, reference system).
    let mut horizontal: HashMap<String, (&str, Option<Value>)> = HashMap::new();
    let mut gridded: HashSet<String> = HashSet::new();
    let mut resolution: HashMap<String, f64> = HashMap::new();
    for g in &grids.list {
        if let Some((xd, yd)) = g.dims() {
            let rs = g.reference_system();
            horizontal.entry(xd).or_insert(("x", rs.clone()));
            horizontal.entry(yd).or_insert(("y", rs));
            for u in &g.users {
                gridded.insert(u.path.clone());
            }
            if let Kind::Projected { x, y, .. } = &g.kind {
                let metres =
                    |v: &Variable| match text(v, "units").map(str::to_ascii_lowercase).as_deref() {
                        Some("m" | "meter" | "meters" | "metre" | "metres") => Some(1.0),
                        Some("km" | "kilometer" | "kilometers" | "kilometre" | "kilometres") => {
                            Some(1000.0)
                        }
                        _ => None,
                    };
                if let (Some(fx), Some(fy)) = (metres(x), metres(y)) {
                    let xs = ctx.read_f64(x)?;
                    let ys = ctx.read_f64(y)?;
                    if let (Some(dx), Some(dy)) = (grid::regular_step(&xs), grid::regular_step(&ys))
                    {
                        let r = (dx.abs() * fx + dy.abs() * fy) / 2.0;
                        for u in &g.users {
                            resolution.insert(u.path.clone(), r);
                        }
                    }
                }
            }
        }
    }

    // cube:variables
    let mut variables = Map::new();
    let mut used_dims: Vec<String> = Vec::new();
    for &v in &all {
        if v.is_coordinate() || roles.mappings.contains(&v.path) || super::in_level(ds, &v.path) {
            continue;
        }
        let is_data = roles.data.iter().any(|d| d.path == v.path)
            && !grid_coords.contains(&v.path)
            && grid::geo_axis(v).is_none()
            && !time::is_time(v);
        let mut entry = Map::new();
        entry.insert("dimensions".into(), json!(v.dims));
        entry.insert(
            "type".into(),
            json!(if is_data { "data" } else { "auxiliary" }),
        );
        if let Some(d) = description_of(v) {
            entry.insert("description".into(), json!(d));
        }
        if let Some(u) = text(v, "units") {
            entry.insert("unit".into(), json!(u));
        }
        let decoder = CfDecoder::new(v).ok();
        let packed = decoder
            .as_ref()
            .is_some_and(|d| d.scale_factor().is_some() || d.add_offset().is_some());
        let dtype = match &decoder {
            Some(d) if packed => d.output_dtype(),
            _ => v.dtype.clone(),
        };
        entry.insert("data_type".into(), data_type_json(&dtype));
        if !packed {
            if let Some(f) = fill_value(v) {
                entry.insert("nodata".into(), nodata_json(f));
            }
        }
        for d in &v.dims {
            if !used_dims.contains(d) {
                used_dims.push(d.clone());
            }
        }
        variables.insert(key(v), Value::Object(entry));
    }
    for &v in &all {
        if v.is_coordinate() && !used_dims.contains(&v.dims[0]) {
            used_dims.push(v.dims[0].clone());
        }
    }

    // cube:dimensions, in the order the groups define them.
    let mut order: Vec<(String, u64)> = Vec::new();
    fn walk(g: &arco_core::Group, out: &mut Vec<(String, u64)>) {
        for d in &g.dimensions {
            if !out.iter().any(|(n, _)| n == &d.name) {
                out.push((d.name.clone(), d.size));
            }
        }
        for c in &g.groups {
            walk(c, out);
        }
    }
    walk(&ds.root, &mut order);
    for d in &used_dims {
        if !order.iter().any(|(n, _)| n == d) {
            let size = all
                .iter()
                .find_map(|v| v.dims.iter().position(|x| x == d).map(|i| v.shape[i]))
                .unwrap_or(0);
            order.push((d.clone(), size));
        }
    }
    let mut dimensions = Map::new();
    for (name, size) in order {
        if !used_dims.contains(&name) {
            continue;
        }
        let entry = dimension(ctx, &name, size, &horizontal, notes)?;
        dimensions.insert(name, entry);
    }

    // Bands: one per data variable.
    let mut bands = Vec::new();
    let mut standard_names = Vec::new();
    for &v in &roles.data {
        if grid_coords.contains(&v.path)
            || grid::geo_axis(v).is_some()
            || time::is_time(v)
            || v.dims.is_empty()
        {
            continue;
        }
        if let Some(sn) = text(v, "standard_name") {
            if !standard_names.iter().any(|s: &String| s == sn) {
                standard_names.push(sn.to_string());
            }
        }
        let mut band = stac::Band {
            name: Some(key(v)),
            description: description_of(v),
            nodata: None,
            data_type: Some(data_type(&v.dtype)),
            statistics: None,
            unit: text(v, "units").map(str::to_string),
            additional_fields: Map::new(),
        };
        if let Some(f) = fill_value(v) {
            if f.is_finite() {
                band.nodata = Some(f);
            } else {
                band.additional_fields
                    .insert("nodata".into(), nodata_json(f));
            }
        }
        if let Ok(d) = CfDecoder::new(v) {
            if let Some(s) = d.scale_factor() {
                band.additional_fields
                    .insert("raster:scale".into(), json!(s));
            }
            if let Some(o) = d.add_offset() {
                band.additional_fields
                    .insert("raster:offset".into(), json!(o));
            }
        }
        if let Some(r) = resolution.get(&v.path) {
            band.additional_fields
                .insert("raster:spatial_resolution".into(), json!(r));
        }
        match cf::flags(v) {
            Ok(Some(flags)) => match classification(&flags) {
                Some((k, val)) => {
                    band.additional_fields.insert(k, val);
                }
                None => notes.push(format!(
                    "{}: flags are not integer values or contiguous bit masks; no classification",
                    v.path
                )),
            },
            Ok(None) => {}
            Err(e) => notes.push(format!("{}: {e}; no classification", v.path)),
        }
        if gridded.contains(&v.path) && v.dtype.is_numeric() {
            let bytes = v.element_count()
                * CfDecoder::new(v)
                    .ok()
                    .and_then(|d| d.output_dtype().size())
                    .unwrap_or(8) as u64;
            let wanted = match ctx.opts.statistics {
                StatisticsMode::Always => true,
                StatisticsMode::Never => false,
                StatisticsMode::Auto => bytes <= AUTO_STATISTICS_LIMIT,
            };
            if wanted {
                match ctx.read_f64(v) {
                    Ok(values) => band.statistics = Some(statistics(&values)),
                    Err(e) => notes.push(format!("{}: no statistics: {e}", v.path)),
                }
            } else if ctx.opts.statistics == StatisticsMode::Auto {
                notes.push(format!(
                    "{}: no statistics ({bytes} decoded bytes, above the {AUTO_STATISTICS_LIMIT}-byte limit)",
                    v.path
                ));
            }
        }
        bands.push(band);
    }

    Ok(Cube {
        dimensions,
        variables,
        bands,
        tables: tables(ds),
        standard_names,
    })
}

/// One `cube:dimensions` entry.
fn dimension(
    ctx: &Ctx<'_>,
    name: &str,
    size: u64,
    horizontal: &HashMap<String, (&str, Option<Value>)>,
    notes: &mut Vec<String>,
) -> Result<Value> {
    let index = |what: String| {
        json!({
            "type": "other",
            "description": what,
            "extent": [0, size.saturating_sub(1)],
            "step": if size > 1 { json!(1) } else { Value::Null },
        })
    };
    let Some(coord) = coordinate_of(ctx.ds, name) else {
        let what = match horizontal.get(name) {
            Some((axis, _)) => format!(
                "index along the {axis} axis of a grid located by auxiliary latitude/longitude ({size} elements, no coordinate variable)"
            ),
            None => format!("{size} elements, no coordinate variable"),
        };
        return Ok(index(what));
    };
    let mut m = Map::new();
    let desc = description_of(coord);
    let unit = text(coord, "units").map(str::to_string);
    if let Some(axis) = time::decode(ctx, coord)? {
        let dates: Vec<_> = axis.dates.iter().flatten().copied().collect();
        let lo = dates.iter().min().map(|d| {
            to_utc(d, false)
                .0
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        });
        let hi = dates.iter().max().map(|d| {
            to_utc(d, true)
                .0
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        });
        m.insert("type".into(), json!("temporal"));
        let mut d = desc.unwrap_or_else(|| name.to_string());
        let cal = axis.units.calendar.name();
        if !matches!(cal, "standard" | "proleptic_gregorian") {
            d = format!(
                "{d} ({cal} calendar; dates missing from the Gregorian calendar are moved outwards)"
            );
        }
        m.insert("description".into(), json!(d));
        m.insert("extent".into(), json!([lo, hi]));
        let unit_ns = i128::from(axis.units.unit.nanos());
        let step = grid::regular_step(&axis.numbers).and_then(|s| {
            let ns = s * unit_ns as f64;
            (ns.fract() == 0.0 || ns.abs() > 1e3).then(|| iso_duration(ns.round() as i128))
        });
        m.insert("step".into(), json!(step));
        return Ok(Value::Object(m));
    }
    let numeric = coord.dtype.is_numeric();
    let values = if numeric {
        match ctx.read_f64(coord) {
            Ok(v) => Some(v),
            Err(e) => {
                notes.push(format!("{}: {e}", coord.path));
                None
            }
        }
    } else {
        None
    };
    if let Some(d) = &desc {
        m.insert("description".into(), json!(d));
    }
    if let Some(values) = values {
        let range = finite_range(&values);
        let step = grid::regular_step(&values);
        let axis = horizontal
            .get(name)
            .map(|(a, rs)| (*a, rs.clone()))
            .or_else(|| match (grid::geo_axis(coord), cf::axis_kind(coord)) {
                (Some(Axis::X), _) => Some(("x", Some(json!(4326)))),
                (Some(Axis::Y), _) => Some(("y", Some(json!(4326)))),
                (_, Some(Axis::Z)) => Some(("z", None)),
                _ if is_vertical(coord) => Some(("z", None)),
                _ => None,
            });
        match (axis, range) {
            (Some((a, rs)), Some((lo, hi))) => {
                m.insert("type".into(), json!("spatial"));
                m.insert("axis".into(), json!(a));
                m.insert("extent".into(), json!([number(lo), number(hi)]));
                if a == "z" && values.len() <= 50 {
                    let vals: Vec<Value> = values
                        .iter()
                        .filter(|x| x.is_finite())
                        .map(|x| number(*x))
                        .collect();
                    m.insert("values".into(), Value::Array(vals));
                }
                m.insert("step".into(), json!(step.map(number)));
                if let Some(rs) = rs {
                    m.insert("reference_system".into(), rs);
                }
            }
            (_, range) => {
                m.insert("type".into(), json!("other"));
                m.insert(
                    "extent".into(),
                    match range {
                        Some((lo, hi)) => json!([number(lo), number(hi)]),
                        None => json!([null, null]),
                    },
                );
                if values.len() > 1 {
                    m.insert("step".into(), json!(step.map(number)));
                }
            }
        }
        if let Some(u) = unit {
            m.insert("unit".into(), json!(u));
        }
        return Ok(Value::Object(m));
    }
    // Text labels (station names, band names).
    m.insert("type".into(), json!("other"));
    let labels = ctx.read_raw(coord).ok().and_then(|v| match v {
        Values::Str(s) => Some(s),
        _ => None,
    });
    match labels {
        Some(l) if !l.is_empty() && l.len() <= 100 => {
            m.insert("values".into(), json!(l));
        }
        _ => {
            m.insert("extent".into(), json!([null, null]));
        }
    }
    Ok(Value::Object(m))
}

/// Compound variables, and groups of 1-D fields along one dimension that
/// has no coordinate (how `arco convert` writes a compound).
fn tables(ds: &Dataset) -> Vec<Table> {
    let mut out = Vec::new();
    for v in ds.root.all_variables() {
        if let DType::Compound { fields, .. } = &v.dtype {
            if v.dims.len() == 1 {
                out.push(Table {
                    name: key(v),
                    description: description_of(v)
                        .unwrap_or_else(|| format!("compound variable {}", v.path)),
                    row_count: v.shape[0],
                    columns: fields
                        .iter()
                        .map(|f| (f.name.clone(), f.dtype.name(), None))
                        .collect(),
                });
            }
        }
    }
    fn walk(g: &arco_core::Group, out: &mut Vec<Table>) {
        let dim = g.variables.first().and_then(|v| v.dims.first());
        let is_table = g.path != "/"
            && g.groups.is_empty()
            && g.variables.len() >= 2
            && g.variables
                .iter()
                .all(|v| v.dims.len() == 1 && Some(&v.dims[0]) == dim && !v.is_coordinate());
        if is_table {
            let rows = g.variables[0].shape[0];
            out.push(Table {
                name: g.path.trim_start_matches('/').to_string(),
                description: g
                    .attr("long_name")
                    .or_else(|| g.attr("title"))
                    .and_then(AttrValue::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| {
                        format!(
                            "{} fields along {}",
                            g.variables.len(),
                            dim.map(String::as_str).unwrap_or("?")
                        )
                    }),
                row_count: rows,
                columns: g
                    .variables
                    .iter()
                    .map(|v| (v.name.clone(), v.dtype.name(), description_of(v)))
                    .collect(),
            });
        }
        for c in &g.groups {
            walk(c, out);
        }
    }
    walk(&ds.root, &mut out);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn flag_values_become_classes_with_valid_names() {
        let f = cf::Flags {
            values: Some(vec![0.0, 1.0]),
            masks: None,
            meanings: vec!["good".into(), "bad.data".into()],
        };
        let (k, v) = classification(&f).unwrap();
        assert_eq!(k, "classification:classes");
        assert_eq!(v[1]["name"], "bad_data");
        assert_eq!(v[1]["description"], "bad.data");
    }

    #[test]
    fn flag_masks_become_bit_fields() {
        let f = cf::Flags {
            values: None,
            masks: Some(vec![1.0, 2.0, 12.0]),
            meanings: vec!["land".into(), "ice".into(), "cloud".into()],
        };
        let (k, v) = classification(&f).unwrap();
        assert_eq!(k, "classification:bitfields");
        assert_eq!(v[2]["offset"], 2);
        assert_eq!(v[2]["length"], 2);
        assert_eq!(v[2]["classes"][0]["value"], 3);
        let f = cf::Flags {
            values: Some(vec![4.0, 8.0]),
            masks: Some(vec![12.0, 12.0]),
            meanings: vec!["thin".into(), "thick".into()],
        };
        let (_, v) = classification(&f).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 1);
        assert_eq!(v[0]["classes"][1]["value"], 2);
    }

    #[test]
    fn statistics_skip_missing_values() {
        let s = statistics(&[1.0, f64::NAN, 3.0, 2.0]);
        assert_eq!(s.minimum, Some(1.0));
        assert_eq!(s.maximum, Some(3.0));
        assert_eq!(s.mean, Some(2.0));
        assert_eq!(s.valid_percent, Some(75.0));
    }
}
