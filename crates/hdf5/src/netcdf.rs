//! netCDF-4 semantics over the raw HDF5 tree, as netCDF-C (and so
//! netCDF4-python) applies them: dimension scales become dimensions,
//! `DIMENSION_LIST` names each variable's dimensions, datasets without scales
//! get `phony_dim_N` dimensions, and the bookkeeping attributes are hidden.

use crate::manifest::{codecs, layout_of};
use crate::tree::{Ctx, RawAttr, RawDataset, RawGroup};
use crate::types;
use arco_core::{AttrValue, Attribute, DType, Dimension, Endian, Group, Values, Variable};
use hdf5_reader::messages::datatype::Datatype;
use hdf5_reader::{StringSize, VarLenKind};
use std::collections::HashMap;

/// Attributes netCDF-C keeps to itself.
const HIDDEN: &[&str] = &[
    "CLASS",
    "NAME",
    "DIMENSION_LIST",
    "REFERENCE_LIST",
    "_Netcdf4Dimid",
    "_Netcdf4Coordinates",
    "_nc3_strict",
    "_NCProperties",
];

/// The `NAME` netCDF-C gives a dimension scale that is not also a variable.
const DIM_ONLY: &str = "This is a netCDF dimension but not a netCDF variable";

/// Prefix netCDF-C puts on a variable whose name is a dimension's but which is
/// not that dimension's coordinate variable.
const NON_COORD: &str = "_nc4_non_coord_";

/// What [`build`] makes: the group tree, the format name, and for each
/// variable path the storage record the manifest is computed from.
pub(crate) struct Built {
    pub root: Group,
    pub format: String,
    pub vars: HashMap<String, VarStore>,
}

/// A variable's storage, kept for manifests and variable-length reads.
#[derive(Debug, Clone)]
pub(crate) struct VarStore {
    pub raw: RawDataset,
    pub dtype: DType,
    pub endian: Endian,
}

/// Decode an attribute's value; `None` when its type cannot be represented.
pub(crate) fn attribute(ctx: &Ctx, a: &RawAttr) -> Option<Attribute> {
    let count = usize::try_from(a.count()).ok()?;
    let dt = &a.datatype;
    let is_string = matches!(
        dt,
        Datatype::String { .. }
            | Datatype::VarLen {
                kind: VarLenKind::String,
                ..
            }
    );
    let dtype = match dt {
        Datatype::String {
            size: StringSize::Fixed(_),
            ..
        } if count <= 1 => DType::Char,
        Datatype::String {
            size: StringSize::Fixed(n),
            ..
        } => DType::FixedString { size: *n as usize },
        _ => types::dtype(dt, types::elem_size(dt).unwrap_or(0) as u32),
    };
    let values = match &a.strings {
        Some(s) if is_string => Values::Str(s.clone()),
        _ if a.null => Values::empty_for(&dtype),
        _ => {
            let resolve = |e: &[u8]| ctx.vlen_bytes(e, 1).map_err(|e| e.to_string());
            types::decode(dt, &a.raw, count, ctx.vlen_element_size(), &resolve).ok()?
        }
    };
    let value = match values {
        Values::Str(s) if s.len() <= 1 && a.shape.len() <= 1 => {
            AttrValue::Text(s.into_iter().next().unwrap_or_default())
        }
        v => AttrValue::Array(v),
    };
    Some(Attribute {
        name: a.name.clone(),
        value,
        dtype,
    })
}

fn text_attr(ctx: &Ctx, attrs: &[RawAttr], name: &str) -> Option<String> {
    let a = attrs.iter().find(|a| a.name == name)?;
    attribute(ctx, a)?.value.as_str().map(str::to_string)
}

fn numbers_attr(ctx: &Ctx, attrs: &[RawAttr], name: &str) -> Option<Vec<f64>> {
    let a = attrs.iter().find(|a| a.name == name)?;
    attribute(ctx, a)?.value.as_f64_vec()
}

/// Object header addresses each `DIMENSION_LIST` entry refers to.
fn dimension_list(ctx: &Ctx, attrs: &[RawAttr]) -> Option<Vec<Vec<u64>>> {
    let a = attrs.iter().find(|a| a.name == "DIMENSION_LIST")?;
    let Datatype::VarLen { base, .. } = &a.datatype else {
        return None;
    };
    let ref_size = match **base {
        Datatype::Reference { size, .. } => usize::from(size),
        _ => return None,
    };
    let es = ctx.vlen_element_size();
    let n = usize::try_from(a.count()).ok()?;
    let mut out = Vec::with_capacity(n);
    for e in a.raw.chunks_exact(es).take(n) {
        let bytes = ctx.vlen_bytes(e, ref_size).ok()?;
        let refs = bytes
            .chunks_exact(ref_size.max(1))
            .map(|r| {
                let mut b = [0u8; 8];
                let k = r.len().min(8);
                b[..k].copy_from_slice(&r[..k]);
                u64::from_le_bytes(b)
            })
            .collect();
        out.push(refs);
    }
    Some(out)
}

struct Dim {
    name: String,
    size: u64,
    unlimited: bool,
    id: i64,
}

#[derive(Default)]
struct State {
    next_id: i64,
    /// Dimensions of each group, by group path.
    dims: HashMap<String, Vec<Dim>>,
    /// Scale dataset address → (dimension name, group path).
    scales: HashMap<u64, String>,
    any_scale: bool,
}

fn is_scale(ctx: &Ctx, d: &RawDataset) -> bool {
    d.shape.len() == 1
        && !d.null
        && text_attr(ctx, &d.attrs, "CLASS").as_deref() == Some("DIMENSION_SCALE")
}

fn unlimited(d: &RawDataset, axis: usize) -> bool {
    d.max_dims
        .as_ref()
        .and_then(|m| m.get(axis))
        .is_some_and(|&m| m == u64::MAX)
}

/// First pass, in netCDF-C's reading order (a group's datasets, then its
/// child groups): dimension scales become dimensions.
fn read_scales(ctx: &Ctx, g: &RawGroup, st: &mut State) {
    for d in &g.datasets {
        if !is_scale(ctx, d) {
            continue;
        }
        st.any_scale = true;
        let id = match numbers_attr(ctx, &d.attrs, "_Netcdf4Dimid").and_then(|v| v.first().copied())
        {
            Some(id) => id as i64,
            None => st.next_id,
        };
        st.next_id = st.next_id.max(id + 1);
        st.scales.insert(d.addr, d.name.clone());
        st.dims.entry(g.path.clone()).or_default().push(Dim {
            name: d.name.clone(),
            size: d.shape[0],
            unlimited: unlimited(d, 0),
            id,
        });
    }
    for c in &g.groups {
        read_scales(ctx, c, st);
    }
}

/// The dimension with id `id` visible from group `path`.
fn dim_by_id(st: &State, path: &str, id: i64) -> Option<String> {
    let mut p = path.to_string();
    loop {
        if let Some(d) = st
            .dims
            .get(&p)
            .and_then(|ds| ds.iter().find(|d| d.id == id))
        {
            return Some(d.name.clone());
        }
        if p == "/" {
            return None;
        }
        p = match p.rfind('/') {
            Some(0) | None => "/".to_string(),
            Some(i) => p[..i].to_string(),
        };
    }
}

/// A dimension of group `path` with this length and unlimitedness, created
/// as `phony_dim_N` when there is none (netCDF-C's rule for datasets without
/// dimension scales).
fn phony(st: &mut State, path: &str, size: u64, unlim: bool, taken: &[Option<String>]) -> String {
    let dims = st.dims.entry(path.to_string()).or_default();
    // A dimension already used by an earlier axis of the same variable does
    // not match again: a 5 x 5 dataset gets two dimensions.
    let used = |d: &Dim| taken.iter().any(|t| t.as_ref() == Some(&d.name));
    if let Some(d) = dims
        .iter()
        .find(|d| d.size == size && d.unlimited == unlim && !used(d))
    {
        return d.name.clone();
    }
    let id = st.next_id;
    st.next_id += 1;
    let name = format!("phony_dim_{id}");
    dims.push(Dim {
        name: name.clone(),
        size,
        unlimited: unlim,
        id,
    });
    name
}

/// Dimension names of every dataset of `g`, children first (netCDF-C's
/// matching order, which fixes the numbering of phony dimensions).
fn match_dims(ctx: &Ctx, g: &RawGroup, st: &mut State, out: &mut HashMap<String, Vec<String>>) {
    for c in &g.groups {
        match_dims(ctx, c, st, out);
    }
    for d in &g.datasets {
        let rank = d.shape.len();
        let mut names: Vec<Option<String>> = vec![None; rank];
        let coords = numbers_attr(ctx, &d.attrs, "_Netcdf4Coordinates")
            .filter(|ids| ids.len() == rank)
            .map(|ids| {
                ids.iter()
                    .map(|&id| dim_by_id(st, &g.path, id as i64))
                    .collect::<Vec<_>>()
            });
        if let Some(c) = coords {
            names = c;
        } else if is_scale(ctx, d) {
            names[0] = Some(d.name.clone());
        } else if let Some(list) = dimension_list(ctx, &d.attrs).filter(|l| l.len() == rank) {
            for (i, refs) in list.iter().enumerate() {
                names[i] = refs.iter().find_map(|a| st.scales.get(a).cloned());
            }
        }
        for i in 0..rank {
            if names[i].is_none() {
                let name = phony(st, &g.path, d.shape[i], unlimited(d, i), &names[..i]);
                names[i] = Some(name);
            }
        }
        out.insert(d.path.clone(), names.into_iter().flatten().collect());
    }
}

fn visible_attrs(ctx: &Ctx, attrs: &[RawAttr]) -> Vec<Attribute> {
    attrs
        .iter()
        .filter(|a| !HIDDEN.contains(&a.name.as_str()))
        .filter_map(|a| attribute(ctx, a))
        .collect()
}

fn fill_value(ctx: &Ctx, d: &RawDataset, attrs: &[Attribute]) -> Option<AttrValue> {
    if let Some(a) = attrs.iter().find(|a| a.name == "_FillValue") {
        return Some(a.value.clone());
    }
    let fv = d.fill.as_ref()?;
    let bytes = fv.value.as_ref().filter(|v| fv.defined && !v.is_empty())?;
    types::elem_size(&d.datatype)?;
    let resolve = |e: &[u8]| ctx.vlen_bytes(e, 1).map_err(|e| e.to_string());
    let v = types::decode(&d.datatype, bytes, 1, ctx.vlen_element_size(), &resolve).ok()?;
    Some(match v {
        Values::Str(s) => AttrValue::Text(s.into_iter().next().unwrap_or_default()),
        v => AttrValue::Array(v),
    })
}

fn build_group(
    ctx: &Ctx,
    g: &RawGroup,
    st: &State,
    dims_of: &HashMap<String, Vec<String>>,
    vars: &mut HashMap<String, VarStore>,
) -> Group {
    let mut out = Group::new(g.name.clone(), g.path.clone());
    out.attributes = visible_attrs(ctx, &g.attrs);
    for d in &g.datasets {
        if is_scale(ctx, d)
            && text_attr(ctx, &d.attrs, "NAME").is_some_and(|n| n.starts_with(DIM_ONLY))
        {
            continue;
        }
        let name = d
            .name
            .strip_prefix(NON_COORD)
            .unwrap_or(&d.name)
            .to_string();
        let path = if g.path == "/" {
            format!("/{name}")
        } else {
            format!("{}/{name}", g.path)
        };
        let dtype = types::dtype(&d.datatype, d.elem_size);
        let endian = types::byte_order(&d.datatype);
        let (layout, chunk_shape) = layout_of(ctx, d);
        let attributes = visible_attrs(ctx, &d.attrs);
        let fill_value = fill_value(ctx, d, &attributes);
        let codecs = codecs(&d.filters, dtype.size().unwrap_or(d.elem_size as usize));
        out.variables.push(Variable {
            name,
            path: path.clone(),
            dims: dims_of.get(&d.path).cloned().unwrap_or_default(),
            shape: if d.null { vec![0] } else { d.shape.clone() },
            dtype: dtype.clone(),
            endian,
            layout,
            chunk_shape,
            codecs,
            fill_value,
            attributes,
        });
        vars.insert(
            path,
            VarStore {
                raw: RawDataset {
                    attrs: Vec::new(),
                    ..d.clone()
                },
                dtype,
                endian,
            },
        );
    }
    let mut dims: Vec<&Dim> = st
        .dims
        .get(&g.path)
        .map(|v| v.iter().collect())
        .unwrap_or_default();
    dims.sort_by_key(|d| d.id);
    out.dimensions = dims
        .into_iter()
        .map(|d| Dimension {
            name: d.name.clone(),
            size: d.size,
            unlimited: d.unlimited,
        })
        .collect();
    for c in &g.groups {
        out.groups.push(build_group(ctx, c, st, dims_of, vars));
    }
    out
}

/// An unlimited dimension is as long as the longest variable along it.
fn grow_unlimited(g: &mut Group) {
    for c in &mut g.groups {
        grow_unlimited(c);
    }
    let mut longest: HashMap<String, u64> = HashMap::new();
    collect_extents(g, &mut longest);
    for d in &mut g.dimensions {
        if d.unlimited {
            if let Some(&n) = longest.get(&d.name) {
                d.size = d.size.max(n);
            }
        }
    }
}

fn collect_extents(g: &Group, longest: &mut HashMap<String, u64>) {
    for v in &g.variables {
        for (name, &n) in v.dims.iter().zip(&v.shape) {
            let e = longest.entry(name.clone()).or_insert(0);
            *e = (*e).max(n);
        }
    }
    for c in &g.groups {
        collect_extents(c, longest);
    }
}

/// Apply netCDF-4 semantics to the raw tree.
pub(crate) fn build(ctx: &Ctx, raw: &RawGroup) -> Built {
    let mut st = State::default();
    read_scales(ctx, raw, &mut st);
    let mut dims_of = HashMap::new();
    match_dims(ctx, raw, &mut st, &mut dims_of);
    let mut vars = HashMap::new();
    let mut root = build_group(ctx, raw, &st, &dims_of, &mut vars);
    grow_unlimited(&mut root);
    let has = |n: &str| raw.attrs.iter().any(|a| a.name == n);
    let format = if has("_nc3_strict") {
        "netcdf4-classic"
    } else if has("_NCProperties") || st.any_scale {
        "netcdf4"
    } else {
        "hdf5"
    };
    Built {
        root,
        format: format.to_string(),
        vars,
    }
}
