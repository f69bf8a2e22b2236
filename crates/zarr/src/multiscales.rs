//! The Zarr **multiscales convention** (zarr-conventions/multiscales v1, the
//! one GeoZarr adopts): how a group declares resolution levels stored in its
//! child groups.
//!
//! A group holding a pyramid has two attributes:
//!
//! * `zarr_conventions`: a list that registers the convention
//!   ([`convention_metadata`]: its `uuid`, `schema_url`, `spec_url`, `name`,
//!   `description`);
//! * `multiscales`: `{"layout": [...], "resampling_method": "..."}`, one layout
//!   entry per level: `asset` (the level's group, relative to the declaring
//!   group), `derived_from` (the level it was computed from), `transform.scale`
//!   (per horizontal axis, relative to `derived_from`) and `resampling_method`.
//!
//! The convention's `asset` paths cannot name the declaring group itself, so a
//! store whose full-resolution data sit in the declaring group (arco's layout:
//! `xarray.open_zarr(store)` must keep returning the full-resolution dataset)
//! lists only the overview levels; the first has no `derived_from` and its
//! scale is relative to the declaring group. arco also records each level's
//! absolute factor as `arco:factor` (additional properties are allowed).
//!
//! [`multiscale_levels`] reads the levels back from any reader's attributes
//! (arco's or another producer's), [`multiscales_attributes`] writes them.

use arco_core::Attribute;
use serde_json::{json, Map, Value};

/// The convention's permanent identifier.
pub const MULTISCALES_UUID: &str = "d35379db-88df-4056-af3a-620245f8e347";
/// The JSON schema of the convention version arco writes.
pub const MULTISCALES_SCHEMA_URL: &str =
    "https://raw.githubusercontent.com/zarr-conventions/multiscales/refs/tags/v1/schema.json";
/// The specification of the convention version arco writes.
pub const MULTISCALES_SPEC_URL: &str =
    "https://github.com/zarr-conventions/multiscales/blob/v1/README.md";
/// The attribute that holds the layout.
pub const MULTISCALES_ATTRIBUTE: &str = "multiscales";
/// The attribute that registers the conventions a node uses.
pub const CONVENTIONS_ATTRIBUTE: &str = "zarr_conventions";

/// One resolution level of a multiscale group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiscaleLevel {
    /// The level's group relative to the declaring group, without leading or
    /// trailing `/`; `""` for the declaring group itself (the full
    /// resolution, when its arrays sit there).
    pub path: String,
    /// How many full-resolution cells one cell of this level spans along each
    /// horizontal axis (1 for the full resolution, 2, 4, ...).
    pub factor: u64,
}

/// The `zarr_conventions` entry that registers the multiscales convention.
pub fn convention_metadata() -> Value {
    json!({
        "schema_url": MULTISCALES_SCHEMA_URL,
        "spec_url": MULTISCALES_SPEC_URL,
        "uuid": MULTISCALES_UUID,
        "name": "multiscales",
        "description": "Multiscale layout of zarr datasets",
    })
}

/// The root attributes that declare overview levels stored in child groups
/// of a group whose own arrays are the full resolution: `levels` are
/// `(group name, absolute factor)` in increasing factor order, each computed
/// from the one before (the first from the declaring group), with
/// `resampling` (the convention's names: `average`, `nearest`, ...).
///
/// `existing` are the group's attributes so far: a `zarr_conventions` list
/// there is kept and the multiscales entry added to it.
///
/// ```
/// let attrs = arco_zarr::multiscales_attributes(&[("1".into(), 2), ("2".into(), 4)], "average", &Default::default());
/// assert_eq!(attrs["multiscales"]["layout"][1]["derived_from"], "1");
/// assert_eq!(attrs["multiscales"]["layout"][1]["transform"]["scale"], serde_json::json!([2.0, 2.0]));
/// assert_eq!(attrs["zarr_conventions"][0]["uuid"], arco_zarr::MULTISCALES_UUID);
/// ```
pub fn multiscales_attributes(
    levels: &[(String, u64)],
    resampling: &str,
    existing: &Map<String, Value>,
) -> Map<String, Value> {
    let mut layout = Vec::with_capacity(levels.len());
    let mut previous: Option<(&str, u64)> = None;
    for (path, factor) in levels {
        let relative = match previous {
            Some((_, p)) if p > 0 => *factor as f64 / p as f64,
            _ => *factor as f64,
        };
        let mut entry = Map::new();
        entry.insert("asset".into(), Value::String(path.clone()));
        if let Some((from, _)) = previous {
            entry.insert("derived_from".into(), Value::String(from.to_string()));
        }
        entry.insert(
            "transform".into(),
            json!({"scale": [relative, relative], "translation": [0.0, 0.0]}),
        );
        entry.insert("resampling_method".into(), Value::String(resampling.into()));
        entry.insert("arco:factor".into(), json!(factor));
        layout.push(Value::Object(entry));
        previous = Some((path.as_str(), *factor));
    }
    let mut conventions: Vec<Value> = existing
        .get(CONVENTIONS_ATTRIBUTE)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    conventions.retain(|c| c.get("uuid").and_then(Value::as_str) != Some(MULTISCALES_UUID));
    conventions.push(convention_metadata());
    let mut out = Map::new();
    out.insert(CONVENTIONS_ATTRIBUTE.into(), Value::Array(conventions));
    out.insert(
        MULTISCALES_ATTRIBUTE.into(),
        json!({"layout": layout, "resampling_method": resampling}),
    );
    out
}

/// The resolution levels a group declares with the multiscales convention,
/// from its attributes as any arco reader gives them (the `multiscales`
/// object arrives as JSON text): sorted by factor, the full resolution first.
/// Empty when the group declares none (no or unreadable `multiscales`).
///
/// Each level's factor is `arco:factor` when present (arco writes it), else
/// the product of the largest `transform.scale` element along its
/// `derived_from` chain (a level without `derived_from` is relative to the
/// declaring group; one without a transform has factor 1). When no listed
/// level has factor 1, the declaring group itself is the full resolution
/// and comes first as `{path: "", factor: 1}`.
///
/// ```
/// use arco_core::Attribute;
/// let text = r#"{"layout": [{"asset": "1", "transform": {"scale": [2.0, 2.0]}},
///                           {"asset": "2", "derived_from": "1", "transform": {"scale": [2.0, 2.0]}}]}"#;
/// let levels = arco_zarr::multiscale_levels(&[Attribute::text("multiscales", text)]);
/// let got: Vec<(&str, u64)> = levels.iter().map(|l| (l.path.as_str(), l.factor)).collect();
/// assert_eq!(got, [("", 1), ("1", 2), ("2", 4)]);
/// ```
pub fn multiscale_levels(attrs: &[Attribute]) -> Vec<MultiscaleLevel> {
    let Some(attr) = attrs.iter().find(|a| a.name == MULTISCALES_ATTRIBUTE) else {
        return Vec::new();
    };
    let Some(value) = attr
        .value
        .as_str()
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
    else {
        return Vec::new();
    };
    multiscale_levels_json(&value)
}

/// [`multiscale_levels`] from the `multiscales` attribute value as JSON
/// (the object with `layout`).
pub fn multiscale_levels_json(multiscales: &Value) -> Vec<MultiscaleLevel> {
    let Some(layout) = multiscales.get("layout").and_then(Value::as_array) else {
        return Vec::new();
    };
    let clean = |s: &str| s.trim_matches('/').to_string();
    let entries: Vec<(String, Option<String>, f64, Option<u64>)> = layout
        .iter()
        .filter_map(|e| {
            let asset = clean(e.get("asset")?.as_str()?);
            let from = e.get("derived_from").and_then(Value::as_str).map(&clean);
            let scale = e
                .pointer("/transform/scale")
                .and_then(Value::as_array)
                .map(|s| {
                    s.iter()
                        .filter_map(Value::as_f64)
                        .filter(|x| x.is_finite() && *x > 0.0)
                        .fold(1.0f64, f64::max)
                })
                .unwrap_or(1.0);
            let absolute = e.get("arco:factor").and_then(Value::as_u64);
            Some((asset, from, scale, absolute))
        })
        .collect();
    // Resolve derived_from chains (bounded by the number of entries, so a
    // cycle ends instead of looping).
    let factor_of = |start: usize| -> f64 {
        let mut f = 1.0;
        let mut at = Some(start);
        let mut steps = 0;
        while let Some(i) = at {
            let (_, from, scale, absolute) = &entries[i];
            if let Some(a) = absolute {
                return f * *a as f64;
            }
            f *= scale;
            steps += 1;
            if steps > entries.len() {
                break;
            }
            at = from
                .as_ref()
                .and_then(|p| entries.iter().position(|(asset, ..)| asset == p));
        }
        f
    };
    let mut levels: Vec<MultiscaleLevel> = (0..entries.len())
        .map(|i| MultiscaleLevel {
            path: entries[i].0.clone(),
            factor: (factor_of(i).round() as u64).max(1),
        })
        .collect();
    if levels.is_empty() {
        return levels;
    }
    if !levels.iter().any(|l| l.factor == 1) {
        levels.push(MultiscaleLevel {
            path: String::new(),
            factor: 1,
        });
    }
    levels.sort_by(|a, b| a.factor.cmp(&b.factor).then(a.path.cmp(&b.path)));
    levels
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn arco_levels_round_trip_through_the_attributes() {
        let attrs = multiscales_attributes(
            &[("1".into(), 2), ("2".into(), 4), ("3".into(), 8)],
            "average",
            &Map::new(),
        );
        let text = attrs["multiscales"].to_string();
        let levels = multiscale_levels(&[Attribute::text("multiscales", text)]);
        let got: Vec<(&str, u64)> = levels.iter().map(|l| (l.path.as_str(), l.factor)).collect();
        assert_eq!(got, [("", 1), ("1", 2), ("2", 4), ("3", 8)]);
        assert!(attrs["multiscales"]["layout"][0]
            .get("derived_from")
            .is_none());
    }

    #[test]
    fn a_layout_with_its_own_full_resolution_group_starts_there() {
        // The convention's power-of-2 example: level "0" is the full resolution.
        let ms = json!({"layout": [
            {"asset": "0", "transform": {"scale": [1.0, 1.0]}},
            {"asset": "1", "derived_from": "0", "transform": {"scale": [2.0, 2.0]}},
            {"asset": "2", "derived_from": "1", "transform": {"scale": [2.0, 2.0]}}
        ]});
        let levels = multiscale_levels_json(&ms);
        let got: Vec<(&str, u64)> = levels.iter().map(|l| (l.path.as_str(), l.factor)).collect();
        assert_eq!(got, [("0", 1), ("1", 2), ("2", 4)]);
    }

    #[test]
    fn existing_conventions_are_kept_and_ours_is_not_repeated() {
        let mut existing = Map::new();
        existing.insert(
            CONVENTIONS_ATTRIBUTE.into(),
            json!([{"name": "proj:", "uuid": "f17cb550-5864-4468-aeb7-f3180cfb622f"}, convention_metadata()]),
        );
        let attrs = multiscales_attributes(&[("1".into(), 2)], "nearest", &existing);
        let list = attrs[CONVENTIONS_ATTRIBUTE].as_array().unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0]["name"], "proj:");
    }

    #[test]
    fn groups_without_a_layout_declare_no_levels() {
        assert!(multiscale_levels(&[Attribute::text("title", "x")]).is_empty());
        assert!(multiscale_levels(&[Attribute::text("multiscales", "not json")]).is_empty());
        assert!(multiscale_levels_json(&json!({"layout": []})).is_empty());
    }
}
