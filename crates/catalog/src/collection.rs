//! STAC Collections made from items: union extents, merged datacube
//! dimensions and variables, summaries, item asset definitions.

use crate::extensions::declare_extensions;
use crate::{geo, Error, License, Result};
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

/// What the caller decides about a collection; everything else comes from
/// the items.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionSpec {
    /// Collection id.
    pub id: String,
    /// Title; default: the single item's title.
    pub title: Option<String>,
    /// Description; default: the single item's description, else a sentence.
    pub description: Option<String>,
    /// License; default: the items' common `license` property, else `other`.
    pub license: Option<License>,
    /// Keywords; default: the union of the items'.
    pub keywords: Option<Vec<String>>,
    /// Providers; default: the union of the items'.
    pub providers: Option<Vec<stac::Provider>>,
    /// With exactly one item, copy its assets to the collection (the
    /// Planetary Computer pattern for a single Zarr store). Their hrefs are
    /// copied verbatim, so they must be absolute or the collection must live
    /// in the item's folder (as `.stac/` inside a store does).
    pub assets_from_single_item: bool,
}

impl CollectionSpec {
    /// A spec with only the id set.
    pub fn new(id: impl Into<String>) -> CollectionSpec {
        CollectionSpec {
            id: crate::describe::sanitize_id(&id.into()),
            title: None,
            description: None,
            license: None,
            keywords: None,
            providers: None,
            assets_from_single_item: false,
        }
    }
}

fn datetimes(item: &stac::Item) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let p = &item.properties;
    (
        p.start_datetime.or(p.datetime),
        p.end_datetime.or(p.datetime),
    )
}

fn json_number(v: &Value) -> Option<f64> {
    v.as_f64()
}

/// Merge one `cube:dimensions` entry into another: union extents and
/// values, keep the step only when both agree.
fn merge_dimension(into: &mut Value, other: &Value) {
    let (Some(a), Some(b)) = (into.as_object_mut(), other.as_object()) else {
        return;
    };
    if let (Some(ea), Some(eb)) = (
        a.get("extent").and_then(Value::as_array).cloned(),
        b.get("extent").and_then(Value::as_array),
    ) {
        if ea.len() == 2 && eb.len() == 2 {
            let pick = |x: &Value, y: &Value, low: bool| -> Value {
                match (x, y) {
                    (Value::Null, _) | (_, Value::Null) => Value::Null,
                    (Value::String(s), Value::String(t)) => {
                        let (ps, pt) = (
                            DateTime::parse_from_rfc3339(s),
                            DateTime::parse_from_rfc3339(t),
                        );
                        match (ps, pt) {
                            (Ok(ps), Ok(pt)) => {
                                if (pt < ps) == low {
                                    y.clone()
                                } else {
                                    x.clone()
                                }
                            }
                            _ => x.clone(),
                        }
                    }
                    _ => match (json_number(x), json_number(y)) {
                        (Some(p), Some(q)) => {
                            if (q < p) == low {
                                y.clone()
                            } else {
                                x.clone()
                            }
                        }
                        _ => x.clone(),
                    },
                }
            };
            let lo = pick(&ea[0], &eb[0], true);
            let hi = pick(&ea[1], &eb[1], false);
            a.insert("extent".into(), json!([lo, hi]));
        }
    }
    if a.get("step") != b.get("step") && a.contains_key("step") {
        a.insert("step".into(), Value::Null);
    }
    if let (Some(va), Some(vb)) = (
        a.get("values").and_then(Value::as_array).cloned(),
        b.get("values").and_then(Value::as_array),
    ) {
        let mut merged = va;
        for v in vb {
            if !merged.contains(v) {
                merged.push(v.clone());
            }
        }
        a.insert("values".into(), Value::Array(merged));
    }
}

/// Properties summarised in `summaries` (distinct values over the items).
const SUMMARISED: &[&str] = &[
    "proj:code",
    "arco:calendar",
    "arco:conventions",
    "table:row_count",
];

/// The collection of `items`: id, title, description, license (with its
/// SPDX `license` links), keywords and providers from `spec` or the items;
/// the union of the items' bboxes (antimeridian aware) and time ranges;
/// `cube:dimensions` and `cube:variables` merged over the items;
/// `summaries`; `item_assets` from the items' assets (without their hrefs,
/// sizes, checksums and statistics); and, with
/// [`CollectionSpec::assets_from_single_item`], the single item's assets.
///
/// Links other than `license` are left to [`crate::write_static_catalog`]
/// and [`crate::embedded_documents`].
pub fn collection_from(spec: &CollectionSpec, items: &[stac::Item]) -> Result<stac::Collection> {
    let single = match items {
        [one] => Some(one),
        _ => None,
    };
    let description = spec
        .description
        .clone()
        .or_else(|| single.and_then(|i| i.properties.description.clone()))
        .unwrap_or_else(|| {
            format!(
                "{} item{} described by arco from their data",
                items.len(),
                if items.len() == 1 { "" } else { "s" }
            )
        });
    let mut c = stac::Collection::new(&spec.id, description);
    c.title = spec
        .title
        .clone()
        .or_else(|| single.and_then(|i| i.properties.title.clone()));

    let prop = |item: &stac::Item, k: &str| item.properties.additional_fields.get(k).cloned();
    let license = match &spec.license {
        Some(l) => l.clone(),
        None => {
            let found: Vec<Option<String>> = items
                .iter()
                .map(|i| prop(i, "license").and_then(|v| v.as_str().map(str::to_string)))
                .collect();
            match found.first() {
                Some(Some(first)) if found.iter().all(|f| f.as_ref() == Some(first)) => {
                    License::parse(first).unwrap_or_else(|_| License::other())
                }
                _ => License::other(),
            }
        }
    };
    c.license = license.as_str().to_string();
    c.links.extend(license.links());

    let mut keywords: Vec<String> = Vec::new();
    match &spec.keywords {
        Some(k) => keywords = k.clone(),
        None => {
            for i in items {
                if let Some(Value::Array(ks)) = prop(i, "keywords") {
                    for k in ks.iter().filter_map(Value::as_str) {
                        if !keywords.iter().any(|x| x == k) {
                            keywords.push(k.to_string());
                        }
                    }
                }
            }
        }
    }
    if !keywords.is_empty() {
        c.keywords = Some(keywords);
    }
    let providers = match &spec.providers {
        Some(p) => p.clone(),
        None => {
            let mut out: Vec<stac::Provider> = Vec::new();
            for i in items {
                if let Some(v) = prop(i, "providers") {
                    let list: Vec<stac::Provider> =
                        serde_json::from_value(v).map_err(|source| Error::Json {
                            what: format!("item {}: providers", i.id),
                            source,
                        })?;
                    for p in list {
                        if !out.iter().any(|o| o.name == p.name) {
                            out.push(p);
                        }
                    }
                }
            }
            out
        }
    };
    if !providers.is_empty() {
        c.providers = Some(providers);
    }

    // Extents.
    let boxes: Vec<[f64; 4]> = items
        .iter()
        .filter_map(|i| i.bbox)
        .map(|b| [b.xmin(), b.ymin(), b.xmax(), b.ymax()])
        .collect();
    let bbox = geo::union_bbox(&boxes).unwrap_or([-180.0, -90.0, 180.0, 90.0]);
    c.extent.spatial.bbox = vec![stac::Bbox::new(bbox[0], bbox[1], bbox[2], bbox[3])];
    let starts: Vec<DateTime<Utc>> = items.iter().filter_map(|i| datetimes(i).0).collect();
    let ends: Vec<DateTime<Utc>> = items.iter().filter_map(|i| datetimes(i).1).collect();
    c.extent.temporal.interval = vec![[starts.iter().min().copied(), ends.iter().max().copied()]];

    // Datacube at the collection level.
    let mut dims = Map::new();
    let mut vars = Map::new();
    for i in items {
        if let Some(Value::Object(d)) = prop(i, "cube:dimensions") {
            for (k, v) in d {
                match dims.get_mut(&k) {
                    Some(existing) => merge_dimension(existing, &v),
                    None => {
                        dims.insert(k, v);
                    }
                }
            }
        }
        if let Some(Value::Object(d)) = prop(i, "cube:variables") {
            for (k, v) in d {
                vars.entry(k).or_insert(v);
            }
        }
    }
    if !dims.is_empty() {
        c.additional_fields
            .insert("cube:dimensions".into(), Value::Object(dims));
        c.additional_fields
            .insert("cube:variables".into(), Value::Object(vars));
    }

    // Summaries.
    let mut summaries = Map::new();
    for k in SUMMARISED {
        let mut values: Vec<Value> = Vec::new();
        for i in items {
            if let Some(v) = prop(i, k) {
                if !v.is_null() && !values.contains(&v) {
                    values.push(v);
                }
            }
        }
        if !values.is_empty() {
            summaries.insert((*k).into(), Value::Array(values));
        }
    }
    if !summaries.is_empty() {
        c.summaries = Some(summaries);
    }

    // Item asset definitions.
    for i in items {
        for (k, a) in &i.assets {
            if c.item_assets.contains_key(k) {
                continue;
            }
            let mut v = serde_json::to_value(a).map_err(|source| Error::Json {
                what: format!("item {}: asset {k}", i.id),
                source,
            })?;
            if let Some(m) = v.as_object_mut() {
                for drop in ["href", "file:size", "file:checksum", "created", "updated"] {
                    m.remove(drop);
                }
                if let Some(Value::Array(bands)) = m.get_mut("bands") {
                    for b in bands.iter_mut().filter_map(Value::as_object_mut) {
                        b.remove("statistics");
                    }
                }
            }
            let ia: stac::ItemAsset = serde_json::from_value(v).map_err(|source| Error::Json {
                what: format!("item {}: asset {k} as item asset", i.id),
                source,
            })?;
            c.item_assets.insert(k.clone(), ia);
        }
    }
    if spec.assets_from_single_item {
        if let Some(one) = single {
            for (k, a) in &one.assets {
                c.assets.insert(k.clone(), a.clone());
            }
            for l in &one.links {
                if l.rel == "store" && !c.links.iter().any(|x| x.rel == "store") {
                    c.links.push(l.clone());
                }
            }
        }
    }
    declare_extensions(&mut c)?;
    Ok(c)
}
