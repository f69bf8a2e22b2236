//! Offline validation of STAC documents against the JSON schemas vendored
//! under `crates/catalog/schemas/` (their origins, versions and licences are
//! in `schemas/README.md`): STAC 1.1.0 Item, Collection and Catalog with
//! their `$ref`s, the GeoJSON Feature and Geometry schemas, PROJJSON 0.7,
//! and every extension arco writes ([`crate::EXTENSIONS`]).
//!
//! Nothing is fetched: every schema is registered under its canonical URL,
//! and a `$ref` or a `stac_extensions` entry that is not vendored is an
//! issue saying so. Formats (`date-time`, ...) are checked.
//!
//! The classification extension's schema checks its fields on assets and in
//! `raster:bands`, but not in STAC 1.1 `bands` where arco puts them (one band
//! per variable); [`validate_value`] therefore also checks every band that
//! carries `classification:` fields against the extension's field
//! definitions.

use jsonschema::{Draft, Resource, Retrieve, Uri, Validator};
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// One problem found in a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationIssue {
    /// The file, when validating a catalog folder.
    pub document: Option<String>,
    /// The schema (or check) that failed.
    pub schema: String,
    /// JSON pointer to the offending value (`/properties/datetime`).
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ValidationIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(d) = &self.document {
            write!(f, "{d}: ")?;
        }
        let pointer = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, "{pointer}: {} (schema {})", self.message, self.schema)
    }
}

const STAC: &str = "https://schemas.stacspec.org/v1.1.0";
/// The STAC 1.1.0 Item schema.
pub const ITEM_SCHEMA: &str = "https://schemas.stacspec.org/v1.1.0/item-spec/json-schema/item.json";
/// The STAC 1.1.0 Collection schema.
pub const COLLECTION_SCHEMA: &str =
    "https://schemas.stacspec.org/v1.1.0/collection-spec/json-schema/collection.json";
/// The STAC 1.1.0 Catalog schema.
pub const CATALOG_SCHEMA: &str =
    "https://schemas.stacspec.org/v1.1.0/catalog-spec/json-schema/catalog.json";
const CLASSIFICATION_FIELDS: &str =
    "https://stac-extensions.github.io/classification/v2.0.0/schema.json#/definitions/fields";

macro_rules! vendored {
    ($(($url:expr, $path:literal)),* $(,)?) => {
        &[$(($url, include_str!(concat!("../schemas/", $path)))),*]
    };
}

/// `(canonical URL, contents)` of every vendored schema.
static SCHEMAS: &[(&str, &str)] = vendored![
    (ITEM_SCHEMA, "stac/v1.1.0/item.json"),
    (COLLECTION_SCHEMA, "stac/v1.1.0/collection.json"),
    (CATALOG_SCHEMA, "stac/v1.1.0/catalog.json"),
    (
        "https://schemas.stacspec.org/v1.1.0/item-spec/json-schema/bands.json",
        "stac/v1.1.0/bands.json"
    ),
    (
        "https://schemas.stacspec.org/v1.1.0/item-spec/json-schema/basics.json",
        "stac/v1.1.0/basics.json"
    ),
    (
        "https://schemas.stacspec.org/v1.1.0/item-spec/json-schema/common.json",
        "stac/v1.1.0/common.json"
    ),
    (
        "https://schemas.stacspec.org/v1.1.0/item-spec/json-schema/data-values.json",
        "stac/v1.1.0/data-values.json"
    ),
    (
        "https://schemas.stacspec.org/v1.1.0/item-spec/json-schema/datetime.json",
        "stac/v1.1.0/datetime.json"
    ),
    (
        "https://schemas.stacspec.org/v1.1.0/item-spec/json-schema/instrument.json",
        "stac/v1.1.0/instrument.json"
    ),
    (
        "https://schemas.stacspec.org/v1.1.0/item-spec/json-schema/licensing.json",
        "stac/v1.1.0/licensing.json"
    ),
    (
        "https://schemas.stacspec.org/v1.1.0/item-spec/json-schema/provider.json",
        "stac/v1.1.0/provider.json"
    ),
    (
        "https://geojson.org/schema/Feature.json",
        "geojson/Feature.json"
    ),
    (
        "https://geojson.org/schema/Geometry.json",
        "geojson/Geometry.json"
    ),
    (
        "http://json-schema.org/draft-07/schema",
        "json-schema/draft-07.json"
    ),
    (
        "https://proj.org/schemas/v0.7/projjson.schema.json",
        "proj/projjson-v0.7.json"
    ),
    (
        "https://stac-extensions.github.io/datacube/v2.3.0/schema.json",
        "extensions/datacube-v2.3.0.json"
    ),
    (
        "https://stac-extensions.github.io/file/v2.1.0/schema.json",
        "extensions/file-v2.1.0.json"
    ),
    (
        "https://stac-extensions.github.io/processing/v1.2.0/schema.json",
        "extensions/processing-v1.2.0.json"
    ),
    (
        "https://stac-extensions.github.io/classification/v2.0.0/schema.json",
        "extensions/classification-v2.0.0.json"
    ),
    (
        "https://stac-extensions.github.io/projection/v2.0.0/schema.json",
        "extensions/projection-v2.0.0.json"
    ),
    (
        "https://stac-extensions.github.io/raster/v2.0.0/schema.json",
        "extensions/raster-v2.0.0.json"
    ),
    (
        "https://stac-extensions.github.io/table/v1.2.0/schema.json",
        "extensions/table-v1.2.0.json"
    ),
    (
        "https://stac-extensions.github.io/xarray-assets/v1.0.0/schema.json",
        "extensions/xarray-assets-v1.0.0.json"
    ),
];

/// The canonical URLs of the vendored schemas.
pub fn vendored_schemas() -> impl Iterator<Item = &'static str> {
    SCHEMAS.iter().map(|(u, _)| *u)
}

/// Refuses every retrieval: all schemas must be vendored.
struct Offline;

impl Retrieve for Offline {
    fn retrieve(
        &self,
        uri: &Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        Err(format!(
            "{} is not vendored under crates/catalog/schemas/ (arco validates offline; vendor it and register it in validate.rs)",
            uri.as_str()
        )
        .into())
    }
}

type Cache = Mutex<HashMap<String, Arc<Validator>>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

fn resources() -> Result<Vec<(String, Resource)>, String> {
    SCHEMAS
        .iter()
        .map(|(url, text)| {
            let v: Value = serde_json::from_str(text)
                .map_err(|e| format!("vendored schema {url} is not JSON: {e}"))?;
            let r =
                Resource::from_contents(v).map_err(|e| format!("vendored schema {url}: {e}"))?;
            Ok((url.to_string(), r))
        })
        .collect()
}

/// The compiled validator of `url` (a vendored schema, or a pointer into one).
fn validator(url: &str) -> Result<Arc<Validator>, String> {
    let key = url.trim_end_matches('#').to_string();
    if let Ok(map) = cache().lock() {
        if let Some(v) = map.get(&key) {
            return Ok(v.clone());
        }
    }
    let schema: Value = if key.contains('#') {
        serde_json::json!({ "$ref": key })
    } else {
        let (_, text) = SCHEMAS.iter().find(|(u, _)| *u == key).ok_or_else(|| {
            format!(
                "{key} is not vendored under crates/catalog/schemas/ (vendored: {})",
                vendored_schemas().collect::<Vec<_>>().join(", ")
            )
        })?;
        serde_json::from_str(text).map_err(|e| format!("vendored schema {key}: {e}"))?
    };
    let v = jsonschema::options()
        .with_draft(Draft::Draft7)
        .with_resources(resources()?.into_iter())
        .with_retriever(Offline)
        .should_validate_formats(true)
        .build(&schema)
        .map_err(|e| format!("compiling {key}: {e}"))?;
    let v = Arc::new(v);
    if let Ok(mut map) = cache().lock() {
        map.insert(key, v.clone());
    }
    Ok(v)
}

/// The errors under a `oneOf`/`anyOf` failure: those of the branch meant
/// for this kind of object (the one that does not fail on `type`) with the
/// fewest errors; else the error itself, without the offending value when
/// it is an object or array.
fn leaves(e: &jsonschema::ValidationError<'_>) -> Vec<(String, String)> {
    use jsonschema::error::ValidationErrorKind as K;
    let shown = || {
        let message = if e.instance.is_object() || e.instance.is_array() {
            e.masked().to_string()
        } else {
            e.to_string()
        };
        vec![(e.instance_path.to_string(), message)]
    };
    match &e.kind {
        K::OneOfNotValid { context } | K::AnyOf { context } => {
            let best = context
                .iter()
                .map(|branch| branch.iter().flat_map(leaves).collect::<Vec<_>>())
                .filter(|l| !l.is_empty())
                .min_by_key(|l| (l.iter().any(|(p, _)| p == "/type"), l.len()));
            match best {
                Some(l) => l,
                None => shown(),
            }
        }
        _ => shown(),
    }
}

fn run(url: &str, value: &Value, issues: &mut Vec<ValidationIssue>) {
    match validator(url) {
        Ok(v) => {
            for e in v.iter_errors(value) {
                for (pointer, message) in leaves(&e) {
                    issues.push(ValidationIssue {
                        document: None,
                        schema: url.to_string(),
                        pointer,
                        message,
                    });
                }
            }
        }
        Err(message) => issues.push(ValidationIssue {
            document: None,
            schema: url.to_string(),
            pointer: String::new(),
            message,
        }),
    }
}

/// Bands holding `classification:` fields, with their JSON pointers.
fn classified_bands(value: &Value) -> Vec<(String, &Value)> {
    fn bands_at<'v>(pointer: String, bands: Option<&'v Value>, out: &mut Vec<(String, &'v Value)>) {
        if let Some(Value::Array(list)) = bands {
            for (i, b) in list.iter().enumerate() {
                let has = b
                    .as_object()
                    .is_some_and(|m| m.keys().any(|k| k.starts_with("classification:")));
                if has {
                    out.push((format!("{pointer}/bands/{i}"), b));
                }
            }
        }
    }
    let mut out = Vec::new();
    bands_at(String::new(), value.get("bands"), &mut out);
    bands_at(
        "/properties".into(),
        value.pointer("/properties/bands"),
        &mut out,
    );
    for container in ["assets", "item_assets"] {
        if let Some(Value::Object(assets)) = value.get(container) {
            for (k, a) in assets {
                let key = k.replace('~', "~0").replace('/', "~1");
                bands_at(format!("/{container}/{key}"), a.get("bands"), &mut out);
            }
        }
    }
    out
}

/// Validate one STAC document (Item, Collection or Catalog, STAC 1.1.0)
/// against the core schema and the schema of every extension it declares.
///
/// ```
/// let item = serde_json::to_value(arco_catalog::stac::Item::new("x")).unwrap();
/// // A bare item has a null geometry but no bbox... and is valid.
/// assert!(arco_catalog::validate::validate_value(&item).is_ok());
/// let mut bad = item.clone();
/// bad["properties"]["datetime"] = "yesterday".into();
/// let issues = arco_catalog::validate::validate_value(&bad).unwrap_err();
/// assert!(issues.iter().any(|i| i.pointer == "/properties/datetime"));
/// ```
pub fn validate_value(value: &Value) -> Result<(), Vec<ValidationIssue>> {
    let mut issues = Vec::new();
    let issue = |schema: &str, pointer: &str, message: String| ValidationIssue {
        document: None,
        schema: schema.to_string(),
        pointer: pointer.to_string(),
        message,
    };
    let core = match value.get("type").and_then(Value::as_str) {
        Some("Feature") => ITEM_SCHEMA,
        Some("Collection") => COLLECTION_SCHEMA,
        Some("Catalog") => CATALOG_SCHEMA,
        other => {
            return Err(vec![issue(
                "stac",
                "/type",
                format!(
                    "type is {}, not Feature (Item), Collection or Catalog",
                    other
                        .map(|t| format!("'{t}'"))
                        .unwrap_or_else(|| "missing".into())
                ),
            )])
        }
    };
    match value.get("stac_version").and_then(Value::as_str) {
        Some("1.1.0") => {}
        other => {
            return Err(vec![issue(
                STAC,
                "/stac_version",
                format!(
                    "stac_version is {}; only the STAC 1.1.0 schemas are vendored",
                    other.unwrap_or("missing")
                ),
            )])
        }
    }
    run(core, value, &mut issues);
    if let Some(Value::Array(exts)) = value.get("stac_extensions") {
        for (i, e) in exts.iter().enumerate() {
            match e.as_str() {
                Some(url) if SCHEMAS.iter().any(|(u, _)| *u == url) => {
                    run(url, value, &mut issues)
                }
                Some(url) => issues.push(issue(
                    url,
                    &format!("/stac_extensions/{i}"),
                    format!(
                        "extension schema {url} is not vendored under crates/catalog/schemas/, so it cannot be checked offline"
                    ),
                )),
                None => issues.push(issue(
                    "stac",
                    &format!("/stac_extensions/{i}"),
                    "not a string".into(),
                )),
            }
        }
    }
    let bands = classified_bands(value);
    if !bands.is_empty() {
        for (pointer, band) in bands {
            let mut found = Vec::new();
            run(CLASSIFICATION_FIELDS, band, &mut found);
            for mut f in found {
                f.pointer = format!("{pointer}{}", f.pointer);
                issues.push(f);
            }
        }
    }
    if issues.is_empty() {
        Ok(())
    } else {
        Err(issues)
    }
}

/// What [`validate_catalog_dir`] went through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogCheck {
    /// Every document validated, root first.
    pub documents: Vec<PathBuf>,
    /// Relative links and asset hrefs checked.
    pub links: usize,
}

fn is_relative_href(href: &str) -> bool {
    !href.contains("://") && !href.starts_with('/') && !href.starts_with('#')
}

/// Validate a static catalog: start at `path` (a `catalog.json`, or a
/// folder holding `catalog.json` or `collection.json`), follow every
/// relative `child`, `item`, `root`, `parent` and `collection` link, validate
/// each document with [`validate_value`], and check that every relative link
/// and every local asset href resolves.
pub fn validate_catalog_dir(path: &Path) -> Result<CatalogCheck, Vec<ValidationIssue>> {
    let start = if path.is_dir() {
        ["catalog.json", "collection.json"]
            .iter()
            .map(|f| path.join(f))
            .find(|p| p.is_file())
            .unwrap_or_else(|| path.join("catalog.json"))
    } else {
        path.to_path_buf()
    };
    let mut issues = Vec::new();
    let mut seen: Vec<PathBuf> = Vec::new();
    let mut documents = Vec::new();
    let mut links = 0;
    let mut queue = VecDeque::from([start]);
    while let Some(doc) = queue.pop_front() {
        let canon = std::fs::canonicalize(&doc).unwrap_or_else(|_| doc.clone());
        if seen.contains(&canon) {
            continue;
        }
        seen.push(canon);
        let name = doc.display().to_string();
        let problem = |message: String| ValidationIssue {
            document: Some(name.clone()),
            schema: "catalog".into(),
            pointer: String::new(),
            message,
        };
        let text = match std::fs::read_to_string(&doc) {
            Ok(t) => t,
            Err(e) => {
                issues.push(problem(format!("cannot read: {e}")));
                continue;
            }
        };
        let value: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                issues.push(problem(format!("not JSON: {e}")));
                continue;
            }
        };
        documents.push(doc.clone());
        if let Err(found) = validate_value(&value) {
            for mut f in found {
                f.document = Some(name.clone());
                issues.push(f);
            }
        }
        let dir = doc.parent().unwrap_or(Path::new("."));
        let empty = Vec::new();
        let list = value
            .get("links")
            .and_then(Value::as_array)
            .unwrap_or(&empty);
        for (i, l) in list.iter().enumerate() {
            let (Some(href), Some(rel)) = (
                l.get("href").and_then(Value::as_str),
                l.get("rel").and_then(Value::as_str),
            ) else {
                continue;
            };
            if !is_relative_href(href) {
                continue;
            }
            links += 1;
            let target = dir.join(href);
            if !target.exists() {
                issues.push(ValidationIssue {
                    document: Some(name.clone()),
                    schema: "catalog".into(),
                    pointer: format!("/links/{i}/href"),
                    message: format!(
                        "{rel} link {href} does not resolve ({} does not exist)",
                        target.display()
                    ),
                });
                continue;
            }
            if matches!(rel, "child" | "item" | "root" | "parent" | "collection")
                && target.is_file()
            {
                queue.push_back(target);
            }
        }
        if let Some(Value::Object(assets)) = value.get("assets") {
            for (k, a) in assets {
                let Some(href) = a.get("href").and_then(Value::as_str) else {
                    continue;
                };
                if href.contains("://") {
                    continue;
                }
                links += 1;
                let target = if href.starts_with('/') {
                    PathBuf::from(href)
                } else {
                    dir.join(href)
                };
                if !target.exists() {
                    issues.push(ValidationIssue {
                        document: Some(name.clone()),
                        schema: "catalog".into(),
                        pointer: format!("/assets/{k}/href"),
                        message: format!(
                            "asset {k} href {href} does not resolve ({} does not exist)",
                            target.display()
                        ),
                    });
                }
            }
        }
    }
    if issues.is_empty() {
        Ok(CatalogCheck { documents, links })
    } else {
        Err(issues)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_vendored_schema_compiles_offline() {
        for url in vendored_schemas() {
            if url.starts_with("http://json-schema.org") {
                continue;
            }
            validator(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        }
        validator(CLASSIFICATION_FIELDS).unwrap();
    }

    #[test]
    fn extensions_that_are_not_vendored_are_reported() {
        let mut item = serde_json::to_value(stac::Item::new("x")).unwrap();
        item["stac_extensions"] =
            serde_json::json!(["https://stac-extensions.github.io/eo/v2.0.0/schema.json"]);
        let issues = validate_value(&item).unwrap_err();
        assert_eq!(issues.len(), 1);
        assert!(issues[0].message.contains("not vendored"), "{}", issues[0]);
        assert_eq!(issues[0].pointer, "/stac_extensions/0");
    }

    #[test]
    fn bad_classification_classes_in_bands_are_caught() {
        let mut item = serde_json::to_value(stac::Item::new("x")).unwrap();
        item["stac_extensions"] = serde_json::json!([
            "https://stac-extensions.github.io/classification/v2.0.0/schema.json"
        ]);
        item["assets"] = serde_json::json!({
            "data": {"href": "x.nc", "bands": [
                {"name": "q", "classification:classes": [{"value": 1.5, "name": "not ok!"}]}
            ]}
        });
        let issues = validate_value(&item).unwrap_err();
        assert!(
            issues.iter().any(|i| i
                .pointer
                .starts_with("/assets/data/bands/0/classification:classes/0")),
            "{issues:?}"
        );
    }
}
