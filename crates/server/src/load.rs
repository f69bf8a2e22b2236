//! Loading STAC catalogs: a static catalog (`catalog.json` → `child` links →
//! `collection.json` → `item` links), a single collection or item document, or
//! a directory of STAC JSON files found by walking the tree. Sources are local
//! paths or URLs (`http(s)://`, `s3://`, read through `arco-storage`).
//!
//! What comes out is ready to serve: every item names its collection,
//! structural links (`self`, `root`, `parent`, `child`, `item`, ...) and links
//! to local files are dropped (the server writes its own), and relative asset
//! hrefs are made absolute (a path for local catalogs, a URL for remote ones).

use crate::error::LoadError;
use rayon::prelude::*;
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Component, Path, PathBuf};

/// Link relations the server writes itself; those of loaded documents are dropped.
pub const STRUCTURAL_RELS: &[&str] = &[
    "self",
    "root",
    "parent",
    "child",
    "item",
    "items",
    "collection",
    "next",
    "prev",
    "data",
    "conformance",
    "search",
    "service-desc",
    "service-doc",
    "http://www.opengis.net/def/rel/ogc/1.0/queryables",
];

/// Options for [`load`].
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// How to open remote (`s3://`, `http(s)://`) sources: give the runtime
    /// handle here when loading from a thread outside a runtime.
    pub storage: arco_storage::OpenOptions,
}

/// A collection document as loaded.
#[derive(Debug, Clone)]
pub struct LoadedCollection {
    /// The collection JSON (links cleaned).
    pub json: Value,
    /// Where it came from.
    pub location: String,
}

/// An item document as loaded, kept as compact JSON text (a parsed value
/// takes several times the memory, and 100,000 of them are held at once).
#[derive(Debug, Clone)]
pub struct LoadedItem {
    /// The item JSON (`collection` set, links cleaned, asset hrefs absolute).
    pub json: String,
    /// Its id.
    pub id: String,
    /// Its collection's id.
    pub collection: String,
    /// Where it came from.
    pub location: String,
}

impl LoadedItem {
    /// An item from its JSON value (which names its `id` and `collection`).
    pub fn from_value(v: &Value, location: impl Into<String>) -> Self {
        let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        LoadedItem {
            json: v.to_string(),
            id: s("id"),
            collection: s("collection"),
            location: location.into(),
        }
    }

    /// The item as a JSON value.
    pub fn value(&self) -> Result<Value, LoadError> {
        serde_json::from_str(&self.json).map_err(|e| LoadError::Json {
            location: self.location.clone(),
            source: e,
        })
    }
}

/// Everything loaded from the sources.
#[derive(Debug, Clone, Default)]
pub struct LoadedCatalog {
    /// The first root catalog met (its id, title and description name the API).
    pub root: Option<Value>,
    /// The collections, in the order met.
    pub collections: Vec<LoadedCollection>,
    /// The items.
    pub items: Vec<LoadedItem>,
}

/// Where a document lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Loc {
    Path(PathBuf),
    Url(url::Url),
}

impl Loc {
    fn display(&self) -> String {
        match self {
            Loc::Path(p) => p.display().to_string(),
            Loc::Url(u) => u.to_string(),
        }
    }

    /// Resolve `href` against this document's location.
    fn join(&self, href: &str) -> Option<Loc> {
        if let Some(abs) = absolute_url(href) {
            if abs.scheme() == "file" {
                return abs.to_file_path().ok().map(Loc::Path);
            }
            return Some(Loc::Url(abs));
        }
        match self {
            Loc::Path(p) => {
                let dir = p.parent().unwrap_or(Path::new("."));
                Some(Loc::Path(normalize(&dir.join(href))))
            }
            Loc::Url(u) => u.join(href).ok().map(Loc::Url),
        }
    }
}

/// `href` as a URL when it is absolute (a scheme longer than one letter, so
/// that `C:\...` stays a path).
fn absolute_url(href: &str) -> Option<url::Url> {
    let colon = href.find(':')?;
    if colon < 2 {
        return None;
    }
    url::Url::parse(href).ok()
}

fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn source_loc(s: &str) -> Result<Loc, LoadError> {
    if let Some(u) = absolute_url(s) {
        if u.scheme() == "file" {
            return u
                .to_file_path()
                .map(Loc::Path)
                .map_err(|_| LoadError::invalid(s, "not a local file URL"));
        }
        return Ok(Loc::Url(u));
    }
    let p = PathBuf::from(s);
    let p = if p.is_absolute() {
        p
    } else {
        std::env::current_dir().map(|d| d.join(&p)).unwrap_or(p)
    };
    Ok(Loc::Path(normalize(&p)))
}

fn read(loc: &Loc, opts: &LoadOptions) -> Result<Value, LoadError> {
    let bytes: Vec<u8> = match loc {
        Loc::Path(p) => std::fs::read(p).map_err(|e| LoadError::Read {
            location: loc.display(),
            source: Box::new(e),
        })?,
        Loc::Url(u) => {
            use arco_storage::ByteSource;
            let src =
                arco_storage::open(u.as_str(), &opts.storage).map_err(|e| LoadError::Read {
                    location: loc.display(),
                    source: Box::new(e),
                })?;
            src.read_range(0..src.len())
                .map_err(|e| LoadError::Read {
                    location: loc.display(),
                    source: Box::new(e),
                })?
                .to_vec()
        }
    };
    serde_json::from_slice(&bytes).map_err(|e| LoadError::Json {
        location: loc.display(),
        source: e,
    })
}

/// Load every source (a path or URL to a catalog, collection or item JSON, or
/// a local directory) into one catalog. Collection ids must be unique across
/// sources, and item ids unique within their collection.
pub fn load(sources: &[String], opts: &LoadOptions) -> Result<LoadedCatalog, LoadError> {
    let mut out = LoadedCatalog::default();
    for s in sources {
        let loc = source_loc(s)?;
        match &loc {
            Loc::Path(p) if p.is_dir() => {
                let cat = p.join("catalog.json");
                let col = p.join("collection.json");
                if cat.is_file() {
                    walk(Loc::Path(cat), opts, &mut out)?;
                } else if col.is_file() {
                    walk(Loc::Path(col), opts, &mut out)?;
                } else {
                    scan_dir(p, &mut out)?;
                }
            }
            Loc::Path(p) if !p.exists() => return Err(LoadError::Missing(p.clone())),
            _ => walk(loc, opts, &mut out)?,
        }
    }
    if out.collections.is_empty() && out.items.is_empty() {
        return Err(LoadError::Empty(format!(
            "no STAC collection or item found in {}; give a catalog.json, a collection.json, \
             item JSON files or a directory holding them (`arco catalog` writes one)",
            sources.join(", ")
        )));
    }
    check(&out)?;
    Ok(out)
}

/// [`load`] on a blocking thread, reading remote sources through the current
/// tokio runtime.
pub async fn load_async(sources: Vec<String>) -> Result<LoadedCatalog, LoadError> {
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let opts = LoadOptions {
            storage: arco_storage::OpenOptions::default().with_handle(handle),
        };
        load(&sources, &opts)
    })
    .await
    .map_err(|e| LoadError::Empty(format!("loading the catalogs was interrupted: {e}")))?
}

fn doc_type(v: &Value) -> Option<&str> {
    v.get("type").and_then(Value::as_str)
}

fn links_with_rel<'a>(v: &'a Value, rel: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    v.get("links")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(move |l| l.get("rel").and_then(Value::as_str) == Some(rel))
        .filter_map(|l| l.get("href").and_then(Value::as_str))
}

/// Follow `child` and `item` links from one document.
fn walk(start: Loc, opts: &LoadOptions, out: &mut LoadedCatalog) -> Result<(), LoadError> {
    let mut queue: VecDeque<(Loc, Option<String>)> = VecDeque::from([(start, None)]);
    let mut seen: HashSet<Loc> = HashSet::new();
    let mut item_locs: Vec<(Loc, Option<String>)> = Vec::new();
    while let Some((loc, parent)) = queue.pop_front() {
        if !seen.insert(loc.clone()) {
            continue;
        }
        let doc = read(&loc, opts)?;
        let here = loc.display();
        match doc_type(&doc) {
            Some("Catalog") => {
                if out.root.is_none() {
                    out.root = Some(doc.clone());
                }
                push_links(&doc, &loc, &here, parent.clone(), &mut queue, &mut item_locs)?;
            }
            Some("Collection") => {
                let id = string_id(&doc, &here)?;
                push_links(&doc, &loc, &here, Some(id), &mut queue, &mut item_locs)?;
                out.collections.push(LoadedCollection {
                    json: clean_collection(doc),
                    location: here,
                });
            }
            Some("Feature") => {
                out.items.push(clean_item(doc, &loc, parent.as_deref())?);
            }
            Some("FeatureCollection") => features(doc, &loc, parent.as_deref(), out)?,
            other => {
                return Err(LoadError::invalid(
                    here,
                    format!(
                        "\"type\" is {other:?}; a STAC document is a Catalog, Collection, Feature (item) or FeatureCollection"
                    ),
                ))
            }
        }
    }
    let items = item_locs
        .into_par_iter()
        .map(|(loc, parent)| {
            let doc = read(&loc, opts)?;
            match doc_type(&doc) {
                Some("Feature") => clean_item(doc, &loc, parent.as_deref()).map(|i| vec![i]),
                Some("FeatureCollection") => {
                    let mut tmp = LoadedCatalog::default();
                    features(doc, &loc, parent.as_deref(), &mut tmp)?;
                    Ok(tmp.items)
                }
                other => Err(LoadError::invalid(
                    loc.display(),
                    format!(
                        "an \"item\" link leads here but \"type\" is {other:?}, not \"Feature\""
                    ),
                )),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    out.items.extend(items.into_iter().flatten());
    Ok(())
}

fn push_links(
    doc: &Value,
    loc: &Loc,
    here: &str,
    parent: Option<String>,
    queue: &mut VecDeque<(Loc, Option<String>)>,
    items: &mut Vec<(Loc, Option<String>)>,
) -> Result<(), LoadError> {
    for href in links_with_rel(doc, "child") {
        let l = loc.join(href).ok_or_else(|| {
            LoadError::invalid(here, format!("child link href '{href}' cannot be resolved"))
        })?;
        queue.push_back((l, parent.clone()));
    }
    for href in links_with_rel(doc, "item") {
        let l = loc.join(href).ok_or_else(|| {
            LoadError::invalid(here, format!("item link href '{href}' cannot be resolved"))
        })?;
        items.push((l, parent.clone()));
    }
    Ok(())
}

fn features(
    doc: Value,
    loc: &Loc,
    parent: Option<&str>,
    out: &mut LoadedCatalog,
) -> Result<(), LoadError> {
    let here = loc.display();
    let Some(Value::Array(feats)) = doc.get("features").cloned() else {
        return Err(LoadError::invalid(
            here,
            "a FeatureCollection needs an array \"features\"",
        ));
    };
    for f in feats {
        out.items.push(clean_item(f, loc, parent)?);
    }
    Ok(())
}

/// Walk a directory tree and load every STAC JSON file found in it.
fn scan_dir(dir: &Path, out: &mut LoadedCatalog) -> Result<(), LoadError> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| LoadError::Read {
            location: d.display().to_string(),
            source: Box::new(e),
        })?;
        for e in entries {
            let e = e.map_err(|e| LoadError::Read {
                location: d.display().to_string(),
                source: Box::new(e),
            })?;
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().and_then(|x| x.to_str()) == Some("json") {
                files.push(p);
            }
        }
    }
    files.sort();
    let opts = LoadOptions::default();
    let docs: Vec<(PathBuf, Value)> = files
        .into_par_iter()
        .map(|p| read(&Loc::Path(p.clone()), &opts).map(|v| (p, v)))
        .collect::<Result<_, _>>()?;
    // Collections first, so that items without a "collection" member can take
    // the one of the nearest directory above them.
    let mut by_dir: HashMap<PathBuf, String> = HashMap::new();
    let mut pending = Vec::new();
    for (p, doc) in docs {
        let here = p.display().to_string();
        match doc_type(&doc) {
            Some("Collection") => {
                let id = string_id(&doc, &here)?;
                if let Some(d) = p.parent() {
                    by_dir.insert(d.to_path_buf(), id);
                }
                out.collections.push(LoadedCollection {
                    json: clean_collection(doc),
                    location: here,
                });
            }
            Some("Catalog") if out.root.is_none() && p.parent() == Some(dir) => {
                out.root = Some(doc);
            }
            Some("Feature") | Some("FeatureCollection") => pending.push((p, doc)),
            // Other JSON files (not STAC) are not ours to judge.
            _ => {}
        }
    }
    let parent_of = |p: &Path| -> Option<String> {
        let mut d = p.parent();
        while let Some(dd) = d {
            if let Some(id) = by_dir.get(dd) {
                return Some(id.clone());
            }
            if dd == dir {
                break;
            }
            d = dd.parent();
        }
        None
    };
    let items = pending
        .into_par_iter()
        .map(|(p, doc)| {
            let parent = parent_of(&p);
            let loc = Loc::Path(p);
            if doc_type(&doc) == Some("Feature") {
                clean_item(doc, &loc, parent.as_deref()).map(|i| vec![i])
            } else {
                let mut tmp = LoadedCatalog::default();
                features(doc, &loc, parent.as_deref(), &mut tmp)?;
                Ok(tmp.items)
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    out.items.extend(items.into_iter().flatten());
    Ok(())
}

fn string_id(doc: &Value, here: &str) -> Result<String, LoadError> {
    match doc.get("id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => Ok(id.to_string()),
        _ => Err(LoadError::invalid(here, "needs a non-empty string \"id\"")),
    }
}

fn clean_links(links: Option<&Value>) -> Value {
    let kept: Vec<Value> = links
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|l| {
            let rel = l.get("rel").and_then(Value::as_str).unwrap_or("");
            let href = l.get("href").and_then(Value::as_str).unwrap_or("");
            !STRUCTURAL_RELS.contains(&rel)
                && absolute_url(href).is_some_and(|u| matches!(u.scheme(), "http" | "https"))
        })
        .cloned()
        .collect();
    Value::Array(kept)
}

fn clean_collection(mut doc: Value) -> Value {
    let links = clean_links(doc.get("links"));
    if let Some(o) = doc.as_object_mut() {
        o.insert("links".into(), links);
    }
    doc
}

fn clean_item(mut doc: Value, loc: &Loc, parent: Option<&str>) -> Result<LoadedItem, LoadError> {
    let here = loc.display();
    let id = string_id(&doc, &here)?;
    let links = clean_links(doc.get("links"));
    let Some(o) = doc.as_object_mut() else {
        return Err(LoadError::invalid(here, "an item must be a JSON object"));
    };
    if !o.get("properties").is_some_and(Value::is_object) {
        return Err(LoadError::invalid(
            here,
            format!("item '{id}' needs an object \"properties\""),
        ));
    }
    let collection = match (o.get("collection").and_then(Value::as_str), parent) {
        (Some(c), _) if !c.is_empty() => c.to_string(),
        (_, Some(p)) => p.to_string(),
        _ => {
            return Err(LoadError::invalid(
                here,
                format!(
                    "item '{id}' names no \"collection\" and is not below a collection; \
                     set its \"collection\" member or link it from a collection.json"
                ),
            ))
        }
    };
    o.insert("collection".into(), Value::String(collection.clone()));
    o.insert("links".into(), links);
    if let Some(Value::Object(assets)) = o.get_mut("assets") {
        absolute_assets(assets, loc);
    }
    Ok(LoadedItem {
        json: doc.to_string(),
        id,
        collection,
        location: here,
    })
}

fn absolute_assets(assets: &mut Map<String, Value>, loc: &Loc) {
    for a in assets.values_mut() {
        let Some(href) = a.get("href").and_then(Value::as_str) else {
            continue;
        };
        if absolute_url(href).is_some() || Path::new(href).is_absolute() {
            continue;
        }
        if let Some(resolved) = loc.join(href) {
            let s = resolved.display();
            if let Some(o) = a.as_object_mut() {
                o.insert("href".into(), Value::String(s));
            }
        }
    }
}

fn check(cat: &LoadedCatalog) -> Result<(), LoadError> {
    let mut cols: HashMap<&str, &str> = HashMap::new();
    for c in &cat.collections {
        let id = c.json.get("id").and_then(Value::as_str).unwrap_or("");
        if let Some(first) = cols.insert(id, &c.location) {
            return Err(LoadError::Duplicate {
                what: format!("collection '{id}'"),
                first: first.to_string(),
                second: c.location.clone(),
            });
        }
    }
    let mut items: HashMap<(&str, &str), &str> = HashMap::new();
    for i in &cat.items {
        let (id, c) = (i.id.as_str(), i.collection.as_str());
        if !cols.contains_key(c) {
            return Err(LoadError::invalid(
                &i.location,
                format!(
                    "item '{id}' belongs to collection '{c}', which none of the sources defines; \
                     give the collection's collection.json too"
                ),
            ));
        }
        if let Some(first) = items.insert((c, id), &i.location) {
            return Err(LoadError::Duplicate {
                what: format!("item '{id}' of collection '{c}'"),
                first: first.to_string(),
                second: i.location.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn relative_hrefs_resolve_against_the_document() {
        let base = Loc::Path(PathBuf::from("/data/cat/c1/collection.json"));
        assert_eq!(
            base.join("./i1/i1.json"),
            Some(Loc::Path(PathBuf::from("/data/cat/c1/i1/i1.json")))
        );
        assert_eq!(
            base.join("../catalog.json"),
            Some(Loc::Path(PathBuf::from("/data/cat/catalog.json")))
        );
        let url = Loc::Url(url::Url::parse("https://h/cat/c1/collection.json").unwrap());
        assert_eq!(
            url.join("i1/i1.json").map(|l| l.display()),
            Some("https://h/cat/c1/i1/i1.json".to_string())
        );
    }

    #[test]
    fn structural_and_relative_links_are_dropped() {
        let links = serde_json::json!([
            {"rel": "self", "href": "https://x/self.json"},
            {"rel": "license", "href": "https://x/LICENSE"},
            {"rel": "license", "href": "./LICENSE"},
        ]);
        let kept = clean_links(Some(&links));
        assert_eq!(
            kept,
            serde_json::json!([{"rel": "license", "href": "https://x/LICENSE"}])
        );
    }
}
