//! Fields → groups, dimensions, coordinates and variables.

use crate::grid::{self, Grid, Layout};
use crate::meta::FieldMeta;
use crate::{tables, Result, Source};
use arco_core::{
    AttrValue, Attribute, ChunkRef, CodecSpec, DType, Dataset, Dimension, Endian, Group,
    StorageLayout, Values, Variable,
};
use std::collections::HashMap;
use std::sync::Arc;

const TIME_UNITS: &str = "seconds since 1970-01-01T00:00:00";

fn text(name: &str, v: &str) -> Attribute {
    Attribute::text(name, v)
}

fn i64_attr(name: &str, v: i64) -> Attribute {
    Attribute {
        name: name.into(),
        value: AttrValue::Array(Values::I64(vec![v])),
        dtype: DType::I64,
    }
}

/// The axes of a hypercube, outermost first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Axis {
    Number,
    Time,
    Step,
    Level,
}

const AXES: [Axis; 4] = [Axis::Number, Axis::Time, Axis::Step, Axis::Level];

fn axis_value(f: &FieldMeta, a: Axis) -> Option<f64> {
    match a {
        Axis::Number => f.number.map(|n| n as f64),
        Axis::Time => Some(f.time as f64),
        Axis::Step => Some(f.step),
        Axis::Level => f.level,
    }
}

/// Sorted distinct values of an axis over `fields`.
fn distinct(fields: &[&FieldMeta], a: Axis, decreasing: bool) -> Vec<f64> {
    let mut v: Vec<f64> = fields.iter().filter_map(|f| axis_value(f, a)).collect();
    v.sort_by(f64::total_cmp);
    v.dedup();
    if decreasing {
        v.reverse();
    }
    v
}

/// Split `fields` into hypercubes (see the crate docs for the rule).
fn cubes(fields: Vec<&FieldMeta>) -> Vec<Vec<&FieldMeta>> {
    let mut seen = std::collections::HashSet::new();
    let (mut first, mut dups) = (Vec::new(), Vec::new());
    for f in fields {
        let key: Vec<u64> = AXES
            .iter()
            .map(|&a| axis_value(f, a).map_or(u64::MAX, f64::to_bits))
            .collect();
        if seen.insert(key) {
            first.push(f);
        } else {
            dups.push(f);
        }
    }
    let mut out = split_sparse(first);
    if !dups.is_empty() {
        out.extend(cubes(dups));
    }
    out
}

fn split_sparse(fields: Vec<&FieldMeta>) -> Vec<Vec<&FieldMeta>> {
    let per_axis: Vec<Vec<f64>> = AXES.iter().map(|&a| distinct(&fields, a, false)).collect();
    let product: usize = per_axis.iter().map(|v| v.len().max(1)).product();
    if fields.len() * 2 >= product {
        return vec![fields];
    }
    let Some(k) = per_axis.iter().position(|v| v.len() > 1) else {
        return vec![fields];
    };
    let mut out = Vec::new();
    for value in &per_axis[k] {
        let part: Vec<&FieldMeta> = fields
            .iter()
            .copied()
            .filter(|f| axis_value(f, AXES[k]) == Some(*value))
            .collect();
        out.extend(split_sparse(part));
    }
    out
}

/// Coordinates already defined in a group, by name.
#[derive(Default)]
struct Coords {
    entries: Vec<(String, String, Vec<String>, Vec<u64>)>, // name, base, dims, value bits
}

impl Coords {
    fn taken(&self, name: &str) -> bool {
        self.entries.iter().any(|e| e.0 == name)
    }

    /// The name of the coordinate `base` with these dims and values:
    /// an existing one, or a new unique name (`base`, `base_2`, ...);
    /// the flag says whether it is new.
    fn name(&mut self, base: &str, dims: &[String], values: &[f64]) -> (String, bool) {
        let bits: Vec<u64> = values.iter().map(|v| v.to_bits()).collect();
        if let Some(e) = self
            .entries
            .iter()
            .find(|e| e.1 == base && e.2 == dims && e.3 == bits)
        {
            return (e.0.clone(), false);
        }
        let mut name = base.to_string();
        let mut k = 2;
        while self.taken(&name) {
            name = format!("{base}_{k}");
            k += 1;
        }
        self.entries
            .push((name.clone(), base.to_string(), dims.to_vec(), bits));
        (name, true)
    }

    fn reserve(&mut self, name: &str) {
        self.entries
            .push((name.to_string(), name.to_string(), Vec::new(), Vec::new()));
    }
}

fn coord_var(
    path: &str,
    name: &str,
    dims: Vec<String>,
    shape: Vec<u64>,
    dtype: DType,
    attributes: Vec<Attribute>,
) -> Variable {
    Variable {
        name: name.into(),
        path: join(path, name),
        dims,
        shape,
        dtype,
        endian: Endian::Little,
        layout: StorageLayout::Compact,
        chunk_shape: None,
        codecs: Vec::new(),
        fill_value: None,
        attributes,
    }
}

fn join(path: &str, name: &str) -> String {
    if path == "/" {
        format!("/{name}")
    } else {
        format!("{path}/{name}")
    }
}

fn f64_bytes(v: &[f64]) -> Arc<[u8]> {
    v.iter()
        .flat_map(|x| x.to_le_bytes())
        .collect::<Vec<u8>>()
        .into()
}

fn i64_bytes(v: &[i64]) -> Arc<[u8]> {
    v.iter()
        .flat_map(|x| x.to_le_bytes())
        .collect::<Vec<u8>>()
        .into()
}

struct GroupBuilder<'a> {
    group: Group,
    coords: Coords,
    names: Vec<(String, String)>,
    sources: &'a mut HashMap<String, Source>,
}

impl GroupBuilder<'_> {
    fn add_dim(&mut self, name: &str, size: u64) {
        if !self.group.dimensions.iter().any(|d| d.name == name) {
            self.group.dimensions.push(Dimension {
                name: name.into(),
                size,
                unlimited: false,
            });
        }
    }

    fn add_coord(&mut self, v: Variable, bytes: Arc<[u8]>) {
        self.sources.insert(v.path.clone(), Source::Inline(bytes));
        self.group.variables.push(v);
    }

    /// The coordinate of one axis: returns (name, is_dim).
    fn axis_coord(&mut self, a: Axis, values: &[f64], f: &FieldMeta) -> String {
        let base = match a {
            Axis::Number => "number".to_string(),
            Axis::Time => "time".to_string(),
            Axis::Step => "step".to_string(),
            Axis::Level => f.level_type.name.clone(),
        };
        let is_dim = values.len() > 1;
        let (name, new) = self.coords.name(&base, &[is_dim.to_string()], values);
        if !new {
            return name;
        }
        let (dims, shape) = if is_dim {
            self.add_dim(&name, values.len() as u64);
            (vec![name.clone()], vec![values.len() as u64])
        } else {
            (vec![], vec![])
        };
        let path = self.group.path.clone();
        match a {
            Axis::Number | Axis::Time => {
                let ints: Vec<i64> = values.iter().map(|&v| v as i64).collect();
                let attrs = if a == Axis::Number {
                    vec![
                        text("long_name", "ensemble member numerical id"),
                        text("units", "1"),
                        text("standard_name", "realization"),
                    ]
                } else {
                    vec![
                        text("long_name", "initial time of forecast"),
                        text("standard_name", "forecast_reference_time"),
                        text("units", TIME_UNITS),
                        text("calendar", "proleptic_gregorian"),
                    ]
                };
                let v = coord_var(&path, &name, dims, shape, DType::I64, attrs);
                self.add_coord(v, i64_bytes(&ints));
            }
            Axis::Step => {
                let attrs = vec![
                    text("long_name", "time since forecast_reference_time"),
                    text("standard_name", "forecast_period"),
                    text("units", "hours"),
                ];
                let v = coord_var(&path, &name, dims, shape, DType::F64, attrs);
                self.add_coord(v, f64_bytes(values));
            }
            Axis::Level => {
                let lt = &f.level_type;
                let mut attrs = vec![text("long_name", &lt.long_name), text("units", lt.units)];
                if let Some(p) = lt.positive {
                    attrs.push(text("positive", p));
                }
                if lt.decreasing {
                    attrs.push(text("stored_direction", "decreasing"));
                }
                if let Some(s) = lt.standard_name {
                    attrs.push(text("standard_name", s));
                }
                let v = coord_var(&path, &name, dims, shape, DType::F64, attrs);
                self.add_coord(v, f64_bytes(values));
            }
        }
        name
    }

    fn unique_var_name(&mut self, base: &str, level_type: &str) -> String {
        // The same parameter on another level type is named after it
        // (`t_hybrid`); more of the same, `t_2`, `t_3`, ...
        let free = |b: &Self, n: &str| !b.names.iter().any(|(x, _)| x == n) && !b.coords.taken(n);
        let mut name = base.to_string();
        if !free(self, &name) {
            let other_level = self.names.iter().any(|(x, l)| x == base && l != level_type);
            if other_level && free(self, &format!("{base}_{level_type}")) {
                name = format!("{base}_{level_type}");
            } else {
                let mut k = 2;
                while !free(self, &format!("{base}_{k}")) {
                    k += 1;
                }
                name = format!("{base}_{k}");
            }
        }
        self.names.push((name.clone(), level_type.to_string()));
        name
    }
}

/// The grid's coordinate variables and the dims a field on it ends with.
fn add_grid(b: &mut GroupBuilder<'_>, g: &Arc<Grid>) -> (Vec<String>, Vec<u64>, Vec<String>) {
    let path = b.group.path.clone();
    let mut aux = Vec::new();
    let (dims, shape) = match &g.layout {
        Layout::LatLon { lat, lon } => {
            let la = vec![
                text("units", "degrees_north"),
                text("standard_name", "latitude"),
                text("long_name", "latitude"),
            ];
            let lo = vec![
                text("units", "degrees_east"),
                text("standard_name", "longitude"),
                text("long_name", "longitude"),
            ];
            b.add_dim("latitude", lat.len() as u64);
            b.add_dim("longitude", lon.len() as u64);
            b.coords.reserve("latitude");
            b.coords.reserve("longitude");
            let v = coord_var(
                &path,
                "latitude",
                vec!["latitude".into()],
                vec![lat.len() as u64],
                DType::F64,
                la,
            );
            b.add_coord(v, f64_bytes(lat));
            let v = coord_var(
                &path,
                "longitude",
                vec!["longitude".into()],
                vec![lon.len() as u64],
                DType::F64,
                lo,
            );
            b.add_coord(v, f64_bytes(lon));
            (
                vec!["latitude".to_string(), "longitude".to_string()],
                vec![lat.len() as u64, lon.len() as u64],
            )
        }
        Layout::Projected { y, x, rotated } => {
            let (ya, xa) = if *rotated {
                (
                    vec![
                        text("standard_name", "grid_latitude"),
                        text("long_name", "latitude in rotated pole grid"),
                        text("units", "degrees"),
                        text("axis", "Y"),
                    ],
                    vec![
                        text("standard_name", "grid_longitude"),
                        text("long_name", "longitude in rotated pole grid"),
                        text("units", "degrees"),
                        text("axis", "X"),
                    ],
                )
            } else {
                (
                    vec![
                        text("standard_name", "projection_y_coordinate"),
                        text("long_name", "y coordinate of projection"),
                        text("units", "m"),
                        text("axis", "Y"),
                    ],
                    vec![
                        text("standard_name", "projection_x_coordinate"),
                        text("long_name", "x coordinate of projection"),
                        text("units", "m"),
                        text("axis", "X"),
                    ],
                )
            };
            b.add_dim("y", y.len() as u64);
            b.add_dim("x", x.len() as u64);
            b.coords.reserve("y");
            b.coords.reserve("x");
            let v = coord_var(
                &path,
                "y",
                vec!["y".into()],
                vec![y.len() as u64],
                DType::F64,
                ya,
            );
            b.add_coord(v, f64_bytes(y));
            let v = coord_var(
                &path,
                "x",
                vec!["x".into()],
                vec![x.len() as u64],
                DType::F64,
                xa,
            );
            b.add_coord(v, f64_bytes(x));
            (
                vec!["y".to_string(), "x".to_string()],
                vec![y.len() as u64, x.len() as u64],
            )
        }
        Layout::Reduced { .. } => {
            let n = g.points() as u64;
            b.add_dim("values", n);
            b.coords.reserve("latitude");
            b.coords.reserve("longitude");
            for (name, lat) in [("latitude", true), ("longitude", false)] {
                let attrs = if lat {
                    vec![
                        text("units", "degrees_north"),
                        text("standard_name", "latitude"),
                        text("long_name", "latitude"),
                    ]
                } else {
                    vec![
                        text("units", "degrees_east"),
                        text("standard_name", "longitude"),
                        text("long_name", "longitude"),
                    ]
                };
                let v = coord_var(
                    &path,
                    name,
                    vec!["values".into()],
                    vec![n],
                    DType::F64,
                    attrs,
                );
                b.sources
                    .insert(v.path.clone(), Source::ReducedLatLon(g.clone(), lat));
                b.group.variables.push(v);
            }
            aux.push("latitude".to_string());
            aux.push("longitude".to_string());
            (vec!["values".to_string()], vec![n])
        }
        Layout::Values { n } => {
            b.add_dim("values", *n as u64);
            (vec!["values".to_string()], vec![*n as u64])
        }
    };
    if let Some(mapping) = &g.mapping {
        let name = mapping
            .iter()
            .find(|a| a.name == "grid_mapping_name")
            .and_then(|a| a.value.as_str())
            .unwrap_or("crs")
            .to_string();
        b.coords.reserve(&name);
        let v = coord_var(&path, &name, vec![], vec![], DType::I64, mapping.clone());
        b.add_coord(v, i64_bytes(&[0]));
    }
    (dims, shape, aux)
}

/// Build the dataset and the sources of its variables.
pub(crate) fn build(
    location: &str,
    size: u64,
    fields: &[FieldMeta],
) -> Result<(Dataset, HashMap<String, Source>)> {
    let mut sources = HashMap::new();
    // Grids, by the bytes of their definition.
    let mut grid_of_section: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut grids: Vec<Arc<Grid>> = Vec::new();
    let mut field_grid = Vec::with_capacity(fields.len());
    for f in fields {
        let section = f.grid_section.clone().unwrap_or_default();
        let gi = match grid_of_section.get(&section) {
            Some(&i) => i,
            None => {
                let g = match (&f.grid_section, f.edition) {
                    (Some(s), 2) => grid::from_grib2(s),
                    (Some(s), _) => grid::from_grib1(s),
                    (None, _) => Grid {
                        grid_type: "unknown".into(),
                        layout: Layout::Values { n: 0 },
                        attrs: vec![text(
                            "GRIB_grid_note",
                            "no grid description section (predefined grid)",
                        )],
                        mapping: None,
                        key: Vec::new(),
                    },
                };
                // Same grid from a byte-different section (GRIB1 vertical
                // parameters): share it.
                let i = match grids
                    .iter()
                    .position(|x| x.key == g.key && x.grid_type == g.grid_type)
                {
                    Some(i) => i,
                    None => {
                        grids.push(Arc::new(g));
                        grids.len() - 1
                    }
                };
                grid_of_section.insert(section, i);
                i
            }
        };
        field_grid.push(gi);
    }

    let first = fields.first();
    let mut root = Group::new("", "/");
    if let Some(f) = first {
        let editions: Vec<u8> = {
            let mut e: Vec<u8> = fields.iter().map(|f| f.edition).collect();
            e.sort_unstable();
            e.dedup();
            e
        };
        root.attributes
            .push(i64_attr("GRIB_edition", i64::from(f.edition)));
        if editions.len() > 1 {
            root.attributes.push(text("GRIB_editions", "1, 2"));
        }
        let (abbr, desc) = tables::centre(f.centre);
        root.attributes.push(text("GRIB_centre", &abbr));
        if let Some(d) = desc {
            root.attributes.push(text("GRIB_centreDescription", d));
        }
        root.attributes
            .push(i64_attr("GRIB_subCentre", i64::from(f.subcentre)));
        root.attributes.push(text("Conventions", "CF-1.7"));
        if let Some(d) = desc {
            root.attributes.push(text("institution", d));
        }
        root.attributes.push(i64_attr("GRIB_messages", {
            let mut o: Vec<u64> = fields.iter().map(|f| f.offset).collect();
            o.dedup();
            o.len() as i64
        }));
    }

    let mut groups: Vec<Group> = Vec::new();
    for (gi, g) in grids.iter().enumerate() {
        let members: Vec<&FieldMeta> = fields
            .iter()
            .zip(&field_grid)
            .filter(|(_, &k)| k == gi)
            .map(|(f, _)| f)
            .collect();
        let (name, path) = if gi == 0 {
            (String::new(), "/".to_string())
        } else {
            let mut n = format!("grid_{}", gi + 1);
            while groups.iter().any(|x| x.name == n) {
                n.push('_');
            }
            (n.clone(), format!("/{n}"))
        };
        let mut b = GroupBuilder {
            group: Group::new(name, path),
            coords: Coords::default(),
            names: Vec::new(),
            sources: &mut sources,
        };
        b.group.attributes.push(text("GRIB_gridType", &g.grid_type));
        build_group(&mut b, g, &members);
        let group = b.group;
        if gi == 0 {
            root.dimensions = group.dimensions;
            root.variables = group.variables;
            root.attributes.extend(group.attributes);
        } else {
            groups.push(group);
        }
    }
    root.groups = groups;
    let editions: Vec<u8> = fields.iter().map(|f| f.edition).collect();
    let format = if editions.iter().all(|&e| e == 2) {
        "grib2"
    } else if editions.iter().all(|&e| e == 1) {
        "grib1"
    } else {
        "grib"
    };
    Ok((
        Dataset {
            source: location.to_string(),
            format: format.into(),
            size,
            root,
        },
        sources,
    ))
}

fn build_group(b: &mut GroupBuilder<'_>, g: &Arc<Grid>, members: &[&FieldMeta]) {
    let (grid_dims, grid_shape, aux) = add_grid(b, g);
    // Variables by parameter, level type and statistical processing.
    let mut order: Vec<(Vec<i64>, u8, String, String)> = Vec::new();
    let mut by_key: HashMap<(Vec<i64>, u8, String, String), Vec<&FieldMeta>> = HashMap::new();
    for &f in members {
        let key = (
            f.param_codes.clone(),
            f.edition,
            f.level_type.name.clone(),
            f.step_type.clone(),
        );
        if !by_key.contains_key(&key) {
            order.push(key.clone());
        }
        by_key.entry(key).or_default().push(f);
    }
    for key in order {
        let list = by_key.remove(&key).unwrap_or_default();
        for cube in cubes(list) {
            add_variable(b, g, &cube, &grid_dims, &grid_shape, &aux);
        }
    }
}

fn add_variable(
    b: &mut GroupBuilder<'_>,
    g: &Arc<Grid>,
    cube: &[&FieldMeta],
    grid_dims: &[String],
    grid_shape: &[u64],
    aux: &[String],
) {
    let Some(&f0) = cube.first() else {
        return;
    };
    let path = b.group.path.clone();
    let mut dims = Vec::new();
    let mut shape = Vec::new();
    let mut scalar_coords = Vec::new();
    let mut axis_values: Vec<(Axis, Vec<f64>)> = Vec::new();
    let mut dim_names: HashMap<Axis, String> = HashMap::new();
    for a in AXES {
        let values = distinct(cube, a, a == Axis::Level && f0.level_type.decreasing);
        if values.is_empty() {
            continue;
        }
        let name = b.axis_coord(a, &values, f0);
        if values.len() > 1 {
            dims.push(name.clone());
            shape.push(values.len() as u64);
            dim_names.insert(a, name);
        } else {
            scalar_coords.push(name);
        }
        axis_values.push((a, values));
    }
    // valid_time over the time and step axes.
    let times = axis_values
        .iter()
        .find(|(a, _)| *a == Axis::Time)
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let steps = axis_values
        .iter()
        .find(|(a, _)| *a == Axis::Step)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| vec![0.0]);
    let mut vt_dims = Vec::new();
    let mut vt_shape = Vec::new();
    if let Some(n) = dim_names.get(&Axis::Time) {
        vt_dims.push(n.clone());
        vt_shape.push(times.len() as u64);
    }
    if let Some(n) = dim_names.get(&Axis::Step) {
        vt_dims.push(n.clone());
        vt_shape.push(steps.len() as u64);
    }
    let mut vt = Vec::with_capacity(times.len() * steps.len());
    for t in &times {
        for s in &steps {
            vt.push(t + (s * 3600.0).round());
        }
    }
    let (vt_name, new) = b.coords.name("valid_time", &vt_dims, &vt);
    if new {
        let v = coord_var(
            &path,
            &vt_name,
            vt_dims,
            vt_shape,
            DType::I64,
            vec![
                text("standard_name", "time"),
                text("long_name", "time"),
                text("units", TIME_UNITS),
                text("calendar", "proleptic_gregorian"),
            ],
        );
        let ints: Vec<i64> = vt.iter().map(|&x| x as i64).collect();
        b.add_coord(v, i64_bytes(&ints));
    }
    let n_axes = dims.len();
    dims.extend(grid_dims.iter().cloned());
    shape.extend(grid_shape.iter().copied());
    let mut chunk_shape = vec![1u64; n_axes];
    chunk_shape.extend(grid_shape.iter().copied());

    // Chunks: one per message, indexed by its position on each axis.
    let float64 = cube.iter().any(|f| f.float64);
    let fill: Vec<u8> = if float64 {
        f64::NAN.to_le_bytes().to_vec()
    } else {
        f32::NAN.to_le_bytes().to_vec()
    };
    let mut chunks = Vec::with_capacity(cube.len());
    for f in cube {
        let mut index = Vec::with_capacity(dims.len());
        for (a, values) in &axis_values {
            if values.len() > 1 {
                let v = axis_value(f, *a).unwrap_or(f64::NAN);
                index.push(values.iter().position(|x| *x == v).unwrap_or(0) as u64);
            }
        }
        index.extend(std::iter::repeat_n(0, grid_dims.len()));
        chunks.push(ChunkRef {
            index,
            offset: f.offset,
            length: f.length,
            filter_mask: 0,
            inline: None,
        });
    }
    chunks.sort_by(|a, b| a.index.cmp(&b.index));

    // Name and attributes.
    let (base, long_name, units, standard_name) = match &f0.param {
        Some(p) => (
            p.var_name.to_string(),
            p.name.to_string(),
            p.units.to_string(),
            p.standard_name,
        ),
        None => {
            let codes: Vec<String> = f0.param_codes.iter().map(i64::to_string).collect();
            let base = if f0.edition == 2 {
                format!("param_{}", codes.join("_"))
            } else {
                format!("param_t{}", codes.join("_"))
            };
            (base, "unknown".to_string(), "unknown".to_string(), None)
        }
    };
    let name = b.unique_var_name(&base, &f0.level_type.name);
    let packings: Vec<&str> = {
        let mut p: Vec<&str> = cube.iter().map(|f| f.packing.as_str()).collect();
        p.sort_unstable();
        p.dedup();
        p
    };
    let packing = if packings.len() == 1 {
        packings[0].to_string()
    } else {
        "mixed".to_string()
    };
    let mut attrs = Vec::new();
    if let Some(p) = &f0.param {
        attrs.push(i64_attr("GRIB_paramId", i64::from(p.param_id)));
    }
    if let Some(dt) = f0.data_type {
        attrs.push(text("GRIB_dataType", dt));
    }
    attrs.push(i64_attr("GRIB_numberOfPoints", g.points() as i64));
    attrs.push(text("GRIB_typeOfLevel", &f0.level_type.name));
    attrs.push(i64_attr("GRIB_stepUnits", 1));
    attrs.push(text("GRIB_stepType", &f0.step_type));
    attrs.push(text("GRIB_gridType", &g.grid_type));
    attrs.push(i64_attr("GRIB_NV", f0.nv as i64));
    attrs.extend(g.attrs.iter().cloned());
    attrs.push(text("GRIB_name", &long_name));
    if let Some(p) = &f0.param {
        attrs.push(text("GRIB_shortName", p.short_name));
    }
    attrs.push(text("GRIB_cfVarName", &name));
    attrs.push(text("GRIB_units", &units));
    if let Some(t) = f0.total_number {
        attrs.push(i64_attr("GRIB_totalNumber", t));
    }
    if f0.edition == 2 {
        for (k, n) in [
            "GRIB_discipline",
            "GRIB_parameterCategory",
            "GRIB_parameterNumber",
        ]
        .iter()
        .enumerate()
        {
            if let Some(&c) = f0.param_codes.get(k) {
                attrs.push(i64_attr(n, c));
            }
        }
        if let Some(&c) = f0.param_codes.get(3) {
            attrs.push(i64_attr("GRIB_constituentType", c));
        }
        if let Some(t) = f0.product_template {
            attrs.push(i64_attr(
                "GRIB_productDefinitionTemplateNumber",
                i64::from(t),
            ));
        }
    } else {
        attrs.push(i64_attr(
            "GRIB_table2Version",
            f0.param_codes.first().copied().unwrap_or(0),
        ));
        attrs.push(i64_attr(
            "GRIB_indicatorOfParameter",
            f0.param_codes.get(1).copied().unwrap_or(0),
        ));
    }
    attrs.push(text("GRIB_packingType", &packing));
    attrs.push(i64_attr(
        "GRIB_bitmapPresent",
        i64::from(cube.iter().any(|f| f.bitmap)),
    ));
    attrs.push(i64_attr("GRIB_bitsPerValue", i64::from(f0.bits_per_value)));
    attrs.push(text("long_name", &long_name));
    attrs.push(text("units", &units));
    if let Some(s) = standard_name {
        attrs.push(text("standard_name", s));
    }
    let fill_value = if float64 {
        Values::F64(vec![f64::NAN])
    } else {
        Values::F32(vec![f32::NAN])
    };
    let dtype = if float64 { DType::F64 } else { DType::F32 };
    attrs.push(Attribute {
        name: "_FillValue".into(),
        value: AttrValue::Array(fill_value.clone()),
        dtype: dtype.clone(),
    });
    if let Some(m) = &g.mapping {
        if let Some(n) = m
            .iter()
            .find(|a| a.name == "grid_mapping_name")
            .and_then(|a| a.value.as_str())
        {
            attrs.push(text("grid_mapping", n));
        }
    }
    let mut coordinates = scalar_coords;
    coordinates.push(vt_name);
    coordinates.extend(aux.iter().cloned());
    attrs.push(text("coordinates", &coordinates.join(" ")));
    if g.grid_type == "sh" {
        attrs.push(text(
            "GRIB_note",
            "spherical harmonic coefficients: reading them is not supported; transform to a grid first",
        ));
    }
    let var = Variable {
        name: name.clone(),
        path: join(&path, &name),
        dims,
        shape,
        dtype,
        endian: Endian::Little,
        layout: StorageLayout::Chunked,
        chunk_shape: Some(chunk_shape),
        codecs: vec![CodecSpec::Grib {
            edition: f0.edition,
            packing,
        }],
        fill_value: Some(AttrValue::Array(fill_value)),
        attributes: attrs,
    };
    b.sources
        .insert(var.path.clone(), Source::Fields { chunks, fill });
    b.group.variables.push(var);
}
