//! The fields extension: which members of an item a response carries.
//!
//! - no `fields`: whole items;
//! - `fields` with neither `include` nor `exclude` (GET `fields=`, POST
//!   `{"fields": {}}`): the default set `type`, `stac_version`,
//!   `stac_extensions`, `id`, `collection`, `geometry`, `bbox`, `assets`,
//!   `links` and `properties.datetime` (and `start_datetime`/`end_datetime`);
//! - `include`: only those paths, plus `id` and `collection` (pgstac's rule);
//! - `exclude` alone: everything but those paths;
//! - both: the includes, less the excludes that are not themselves included
//!   (a path in both is included).
//!
//! Paths are dotted: `properties.eo:cloud_cover`. `links` are the server's and
//! are always written, unless excluded (and not included).

use crate::search::Fields;
use serde_json::{Map, Value};

const DEFAULT_SET: &[&str] = &[
    "type",
    "stac_version",
    "stac_extensions",
    "id",
    "collection",
    "geometry",
    "bbox",
    "assets",
    "properties.datetime",
    "properties.start_datetime",
    "properties.end_datetime",
];

fn path(p: &str) -> Vec<&str> {
    p.split('.').filter(|s| !s.is_empty()).collect()
}

fn get<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for k in path {
        cur = cur.as_object()?.get(*k)?;
    }
    Some(cur)
}

fn set(out: &mut Map<String, Value>, path: &[&str], v: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = out;
    for k in parents {
        let entry = cur
            .entry(k.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(m) = entry else { return };
        cur = m;
    }
    cur.insert(last.to_string(), v);
}

fn remove(out: &mut Map<String, Value>, path: &[&str]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = out;
    for k in parents {
        match cur.get_mut(*k) {
            Some(Value::Object(m)) => cur = m,
            _ => return,
        }
    }
    cur.shift_remove(*last);
}

fn is_prefix(a: &[&str], b: &[&str]) -> bool {
    a.len() <= b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// The members of `item` (links excluded) that `fields` selects, and whether
/// the server's links are to be written.
pub fn apply(item: &Value, fields: &Fields) -> (Value, bool) {
    let include: Vec<Vec<&str>> = fields.include.iter().map(|p| path(p)).collect();
    let exclude: Vec<Vec<&str>> = fields.exclude.iter().map(|p| path(p)).collect();
    let links_excluded =
        exclude.iter().any(|p| p == &["links"]) && !include.iter().any(|p| p == &["links"]);
    if include.is_empty() && !exclude.is_empty() {
        let mut out = item.as_object().cloned().unwrap_or_default();
        out.shift_remove("links");
        for p in &exclude {
            remove(&mut out, p);
        }
        return (Value::Object(out), !links_excluded);
    }
    let mut wanted: Vec<Vec<&str>> = if include.is_empty() {
        DEFAULT_SET.iter().map(|p| path(p)).collect()
    } else {
        let mut w = include.clone();
        w.push(vec!["id"]);
        w.push(vec!["collection"]);
        w
    };
    wanted.retain(|p| p.first() != Some(&"links"));
    let mut out = Map::new();
    for p in &wanted {
        if let Some(v) = get(item, p) {
            set(&mut out, p, v.clone());
        }
    }
    for p in &exclude {
        // An exclude loses to an include of the same path or of a path below it.
        if include.iter().any(|i| is_prefix(p, i)) {
            continue;
        }
        remove(&mut out, p);
    }
    (Value::Object(out), !links_excluded)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn item() -> Value {
        json!({"type": "Feature", "stac_version": "1.1.0", "id": "a", "collection": "c",
               "geometry": {"type": "Point", "coordinates": [0, 0]}, "bbox": [0, 0, 0, 0],
               "properties": {"datetime": "2020-01-01T00:00:00Z", "eo:cloud_cover": 3, "platform": "p"},
               "assets": {"data": {"href": "/x"}}, "links": []})
    }

    fn f(include: &[&str], exclude: &[&str]) -> Fields {
        Fields {
            include: include.iter().map(|s| s.to_string()).collect(),
            exclude: exclude.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn empty_fields_give_the_default_set() {
        let (v, links) = apply(&item(), &f(&[], &[]));
        assert!(links);
        assert_eq!(v["properties"], json!({"datetime": "2020-01-01T00:00:00Z"}));
        assert!(v.get("assets").is_some() && v.get("geometry").is_some());
    }

    #[test]
    fn include_keeps_only_the_paths_and_the_ids() {
        let (v, _) = apply(&item(), &f(&["properties.eo:cloud_cover"], &[]));
        assert_eq!(
            v,
            json!({"properties": {"eo:cloud_cover": 3}, "id": "a", "collection": "c"})
        );
    }

    #[test]
    fn exclude_alone_drops_the_paths() {
        let (v, _) = apply(&item(), &f(&[], &["geometry", "properties.platform"]));
        assert!(v.get("geometry").is_none());
        assert!(v["properties"].get("platform").is_none());
        assert!(v.get("assets").is_some());
    }

    #[test]
    fn a_path_both_included_and_excluded_is_included() {
        let (v, _) = apply(&item(), &f(&["geometry"], &["geometry"]));
        assert!(v.get("geometry").is_some());
        let (v, _) = apply(&item(), &f(&["properties.eo:cloud_cover"], &["properties"]));
        assert_eq!(v["properties"], json!({"eo:cloud_cover": 3}));
    }

    #[test]
    fn links_can_be_excluded() {
        assert!(!apply(&item(), &f(&[], &["links"])).1);
        assert!(apply(&item(), &f(&["links"], &["links"])).1);
    }
}
