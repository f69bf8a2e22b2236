//! Static catalogs on disk, in the STAC best-practice layout, and the
//! documents `arco convert` embeds in a Zarr store.
//!
//! ```text
//! OUT/catalog.json
//! OUT/<collection-id>/collection.json
//! OUT/<collection-id>/<item-id>/<item-id>.json
//! ```
//!
//! Every structural link (`root`, `parent`, `child`, `item`, `collection`) is
//! relative. Without [`CatalogSpec::href_base`] the catalog is
//! *self-contained* (no `self` links): it can be moved or copied as a whole.
//! With it, every document also gets an absolute `self` link under that base
//! (a *published* catalog). Asset and `store` hrefs that are absolute local
//! paths are made relative to each document (unless
//! [`CatalogSpec::relative_asset_hrefs`] is off), so the catalog stays valid
//! when it moves together with the data.

use crate::{Error, License, Result};
use serde_json::Value;
use std::path::{Component, Path, PathBuf};

/// The root catalog and how to write it.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogSpec {
    /// Catalog id.
    pub id: String,
    /// Title.
    pub title: Option<String>,
    /// Description.
    pub description: String,
    /// License of the catalog's contents (a `license` link on the catalog).
    pub license: Option<License>,
    /// The URL the output folder will be published at: adds absolute `self` links.
    pub href_base: Option<String>,
    /// Make absolute local asset paths relative to each document (default true).
    pub relative_asset_hrefs: bool,
}

impl CatalogSpec {
    /// A self-contained catalog spec.
    pub fn new(id: impl Into<String>, description: impl Into<String>) -> CatalogSpec {
        CatalogSpec {
            id: crate::describe::sanitize_id(&id.into()),
            title: None,
            description: description.into(),
            license: None,
            href_base: None,
            relative_asset_hrefs: true,
        }
    }
}

const STRUCTURAL: [&str; 6] = ["root", "parent", "child", "item", "collection", "self"];

fn strip_structural(links: &mut Vec<stac::Link>) {
    links.retain(|l| !STRUCTURAL.contains(&l.rel.as_str()));
}

fn json_link(href: &str, rel: &str, title: Option<&str>) -> stac::Link {
    let mut l = stac::Link::new(href, rel).json();
    l.title = title.map(str::to_string);
    l
}

fn geojson_link(href: &str, rel: &str, title: Option<&str>) -> stac::Link {
    let mut l = stac::Link::new(href, rel).geojson();
    l.title = title.map(str::to_string);
    l
}

/// `to` relative to the folder `from_dir` (both absolute), with `/`.
pub(crate) fn relative_path(from_dir: &Path, to: &Path) -> String {
    let from: Vec<Component<'_>> = from_dir.components().collect();
    let to_c: Vec<Component<'_>> = to.components().collect();
    let common = from.iter().zip(&to_c).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = Vec::new();
    for _ in common..from.len() {
        parts.push("..".into());
    }
    for c in &to_c[common..] {
        parts.push(c.as_os_str().to_string_lossy().into_owned());
    }
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// An absolute local path href made relative to `doc_dir`; others unchanged.
fn relativize(href: &str, doc_dir: &Path) -> String {
    let p = Path::new(href);
    if !p.is_absolute() || href.contains("://") {
        return href.to_string();
    }
    let mut rel = relative_path(doc_dir, p);
    if href.ends_with('/') && !rel.ends_with('/') {
        rel.push('/');
    }
    rel
}

fn absolute(dir: &Path) -> Result<PathBuf> {
    std::path::absolute(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })
}

fn to_value<T: serde::Serialize>(what: &str, v: &T) -> Result<Value> {
    serde_json::to_value(v).map_err(|source| Error::Json {
        what: what.to_string(),
        source,
    })
}

fn self_link(base: &Option<String>, rel_path: &str) -> Option<stac::Link> {
    base.as_ref().map(|b| {
        let url = format!("{}/{}", b.trim_end_matches('/'), rel_path);
        let mut l = stac::Link::new(url, "self");
        l.r#type = Some(
            if rel_path.ends_with("collection.json") || rel_path == "catalog.json" {
                "application/json".into()
            } else {
                "application/geo+json".into()
            },
        );
        l
    })
}

/// The documents of a static catalog with `collections` (each with its
/// items), as `(path relative to out_dir, JSON)`, links wired for the
/// layout of [this module](self). `out_dir` is only used to make absolute
/// local asset paths relative.
///
/// Errors when two collections, or two items of one collection, share an id.
pub fn static_catalog_documents(
    out_dir: &Path,
    spec: &CatalogSpec,
    collections: &[(stac::Collection, Vec<stac::Item>)],
) -> Result<Vec<(PathBuf, Value)>> {
    let out_abs = absolute(out_dir)?;
    let mut docs = Vec::new();
    let mut catalog = stac::Catalog::new(&spec.id, &spec.description);
    catalog.title = spec.title.clone();
    catalog
        .links
        .push(json_link("./catalog.json", "root", spec.title.as_deref()));
    let mut seen_collections: Vec<&str> = Vec::new();
    for (collection, _) in collections {
        if seen_collections.contains(&collection.id.as_str()) {
            return Err(Error::Options(format!(
                "two collections have the id '{}'; give each its own id",
                collection.id
            )));
        }
        seen_collections.push(&collection.id);
        catalog.links.push(json_link(
            &format!("./{}/collection.json", collection.id),
            "child",
            collection.title.as_deref(),
        ));
    }
    if let Some(l) = &spec.license {
        catalog.links.extend(l.links());
    }
    if let Some(s) = self_link(&spec.href_base, "catalog.json") {
        catalog.links.push(s);
    }
    docs.push((
        PathBuf::from("catalog.json"),
        to_value("catalog", &catalog)?,
    ));

    for (collection, items) in collections {
        let cid = &collection.id;
        let cdir = out_abs.join(cid);
        let mut c = collection.clone();
        strip_structural(&mut c.links);
        c.links
            .push(json_link("../catalog.json", "root", spec.title.as_deref()));
        c.links.push(json_link(
            "../catalog.json",
            "parent",
            spec.title.as_deref(),
        ));
        let mut seen_items: Vec<&str> = Vec::new();
        for item in items {
            if seen_items.contains(&item.id.as_str()) {
                return Err(Error::Options(format!(
                    "collection '{cid}' has two items with the id '{}'; give each dataset its own id",
                    item.id
                )));
            }
            seen_items.push(&item.id);
            c.links.push(geojson_link(
                &format!("./{0}/{0}.json", item.id),
                "item",
                item.properties.title.as_deref(),
            ));
        }
        if spec.relative_asset_hrefs {
            for a in c.assets.values_mut() {
                a.href = relativize(&a.href, &cdir);
            }
            for l in c.links.iter_mut().filter(|l| l.rel == "store") {
                l.href = relativize(&l.href, &cdir);
            }
        }
        let cpath = format!("{cid}/collection.json");
        if let Some(s) = self_link(&spec.href_base, &cpath) {
            c.links.push(s);
        }
        docs.push((PathBuf::from(&cpath), to_value(&cpath, &c)?));

        let license = License::parse(&collection.license).ok();
        for item in items {
            let iid = &item.id;
            let idir = cdir.join(iid);
            let mut it = item.clone();
            it.collection = Some(cid.clone());
            strip_structural(&mut it.links);
            it.links.push(json_link(
                "../../catalog.json",
                "root",
                spec.title.as_deref(),
            ));
            it.links.push(json_link(
                "../collection.json",
                "parent",
                collection.title.as_deref(),
            ));
            it.links.push(json_link(
                "../collection.json",
                "collection",
                collection.title.as_deref(),
            ));
            if it.properties.additional_fields.contains_key("license")
                && !it.links.iter().any(|l| l.rel == "license")
            {
                if let Some(l) = &license {
                    it.links.extend(l.links());
                }
            }
            if spec.relative_asset_hrefs {
                for a in it.assets.values_mut() {
                    a.href = relativize(&a.href, &idir);
                }
                for l in it.links.iter_mut().filter(|l| l.rel == "store") {
                    l.href = relativize(&l.href, &idir);
                }
            }
            let ipath = format!("{cid}/{iid}/{iid}.json");
            if let Some(s) = self_link(&spec.href_base, &ipath) {
                it.links.push(s);
            }
            docs.push((PathBuf::from(&ipath), to_value(&ipath, &it)?));
        }
    }
    Ok(docs)
}

fn pretty(path: &str, v: &Value) -> Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(v).map_err(|source| Error::Json {
        what: path.to_string(),
        source,
    })?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Write a static catalog under `out_dir` (created if needed); returns the
/// paths written. See [`static_catalog_documents`].
///
/// ```no_run
/// # fn f(c: arco_catalog::stac::Collection, items: Vec<arco_catalog::stac::Item>) -> arco_catalog::Result<()> {
/// use arco_catalog::{write_static_catalog, CatalogSpec};
/// let spec = CatalogSpec::new("era5", "ERA5 samples");
/// let paths = write_static_catalog("stac".as_ref(), &spec, &[(c, items)])?;
/// assert_eq!(paths[0].file_name().unwrap(), "catalog.json");
/// # Ok(()) }
/// ```
pub fn write_static_catalog(
    out_dir: &Path,
    spec: &CatalogSpec,
    collections: &[(stac::Collection, Vec<stac::Item>)],
) -> Result<Vec<PathBuf>> {
    let docs = static_catalog_documents(out_dir, spec, collections)?;
    let mut written = Vec::with_capacity(docs.len());
    for (rel, value) in docs {
        let path = out_dir.join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| Error::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let bytes = pretty(&rel.to_string_lossy(), &value)?;
        std::fs::write(&path, bytes).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}

/// The two documents `arco convert` writes inside its output store:
/// `.stac/collection.json` (the root, linking its item) and
/// `.stac/item.json` (linking the collection as root, parent and
/// collection), as pretty-printed JSON bytes. Asset hrefs are kept as given
/// (`../` is the store itself).
pub fn embedded_documents(
    collection: &stac::Collection,
    item: &stac::Item,
) -> Result<Vec<(String, Vec<u8>)>> {
    let mut c = collection.clone();
    strip_structural(&mut c.links);
    c.links
        .push(json_link("./collection.json", "root", c.title.as_deref()));
    c.links.push(geojson_link(
        "./item.json",
        "item",
        item.properties.title.as_deref(),
    ));
    let mut it = item.clone();
    it.collection = Some(c.id.clone());
    strip_structural(&mut it.links);
    for rel in ["root", "parent", "collection"] {
        it.links
            .push(json_link("./collection.json", rel, c.title.as_deref()));
    }
    if it.properties.additional_fields.contains_key("license")
        && !it.links.iter().any(|l| l.rel == "license")
    {
        if let Ok(l) = License::parse(&c.license) {
            it.links.extend(l.links());
        }
    }
    let cpath = ".stac/collection.json";
    let ipath = ".stac/item.json";
    Ok(vec![
        (cpath.to_string(), pretty(cpath, &to_value(cpath, &c)?)?),
        (ipath.to_string(), pretty(ipath, &to_value(ipath, &it)?)?),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_climb_to_the_common_folder() {
        assert_eq!(
            relative_path(Path::new("/a/b/c"), Path::new("/a/d/e.zarr")),
            "../../d/e.zarr"
        );
        assert_eq!(relative_path(Path::new("/a"), Path::new("/a/x")), "x");
        assert_eq!(
            relativize("s3://b/x.zarr", Path::new("/a")),
            "s3://b/x.zarr"
        );
        assert_eq!(relativize("/a/x.zarr/", Path::new("/a/c")), "../x.zarr/");
    }
}
