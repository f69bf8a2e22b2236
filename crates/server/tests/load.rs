//! Loading catalogs: static catalogs by their links (from a directory, a
//! file or an S3 URL), directories of STAC files by walking the tree, and
//! every refusal naming the file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/catalog.rs"]
mod catalog;

use arco_server::search::Endpoint;
use arco_server::{EmbeddedBackend, LoadError, LoadOptions, SearchRequest};
use serde_json::{json, Value};
use std::path::Path;

fn load(sources: &[&Path]) -> Result<arco_server::LoadedCatalog, LoadError> {
    let s: Vec<String> = sources.iter().map(|p| p.display().to_string()).collect();
    arco_server::load(&s, &LoadOptions::default())
}

fn write(p: &Path, v: &Value) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, serde_json::to_vec_pretty(v).unwrap()).unwrap();
}

fn collection(id: &str) -> Value {
    json!({"type": "Collection", "stac_version": "1.1.0", "id": id, "description": id, "license": "other",
           "extent": {"spatial": {"bbox": [[-180, -90, 180, 90]]}, "temporal": {"interval": [["2020-01-01T00:00:00Z", null]]}},
           "links": []})
}

fn item(id: &str, collection: Option<&str>, geometry: Value) -> Value {
    let mut v = json!({"type": "Feature", "stac_version": "1.1.0", "id": id, "geometry": geometry,
                       "properties": {"datetime": "2020-01-01T00:00:00Z"}, "assets": {"d": {"href": "data.nc"}}, "links": []});
    if let Some(c) = collection {
        v["collection"] = json!(c);
    }
    v
}

fn ids(b: &EmbeddedBackend, body: Value) -> Vec<String> {
    let req = SearchRequest::from_json(&body, Endpoint::Search).unwrap();
    b.search(&req)
        .unwrap()
        .items
        .iter()
        .map(|i| i.id().to_string())
        .collect()
}

#[test]
fn a_static_catalog_loads_from_its_directory_or_its_catalog_json() {
    let dir = tempfile::tempdir().unwrap();
    catalog::write_catalog(dir.path(), &catalog::fixed());
    for src in [dir.path().to_path_buf(), dir.path().join("catalog.json")] {
        let cat = load(&[&src]).unwrap();
        assert_eq!(cat.collections.len(), 2, "{}", src.display());
        assert_eq!(cat.items.len(), 10);
        assert_eq!(cat.root.as_ref().unwrap()["id"], "test-root");
    }
    let one = load(&[&dir.path().join("c2/collection.json")]).unwrap();
    assert_eq!((one.collections.len(), one.items.len()), (1, 4));
}

#[test]
fn a_directory_without_a_catalog_is_walked_and_items_take_the_collection_above_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(&d.join("x/collection.json"), &collection("x"));
    write(
        &d.join("x/deep/er/i1.json"),
        &item("i1", None, json!({"type": "Point", "coordinates": [1, 2]})),
    );
    write(
        &d.join("x/i2.json"),
        &item(
            "i2",
            Some("x"),
            json!({"type": "Point", "coordinates": [3, 4]}),
        ),
    );
    write(&d.join("notes.json"), &json!({"not": "stac"}));
    let cat = load(&[d]).unwrap();
    assert_eq!(cat.collections.len(), 1);
    let mut got: Vec<(String, String)> = cat
        .items
        .iter()
        .map(|i| (i.id.clone(), i.collection.clone()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![("i1".into(), "x".into()), ("i2".into(), "x".into())]
    );
    let i1 = cat
        .items
        .iter()
        .find(|i| i.id == "i1")
        .unwrap()
        .value()
        .unwrap();
    assert_eq!(
        i1["assets"]["d"]["href"],
        json!(d.join("x/deep/er/data.nc").display().to_string())
    );
}

#[test]
fn bbox_searches_test_the_exact_geometry_of_items() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(&d.join("x/collection.json"), &collection("x"));
    // A triangle over the lower-left half of (0..10, 0..10).
    let tri = json!({"type": "Polygon", "coordinates": [[[0, 0], [10, 0], [0, 10], [0, 0]]]});
    write(&d.join("x/t.json"), &item("t", Some("x"), tri));
    let b = EmbeddedBackend::new(load(&[d]).unwrap()).unwrap();
    assert_eq!(ids(&b, json!({"bbox": [1, 1, 2, 2]})), vec!["t"]);
    // In the triangle's box, but above its hypotenuse.
    assert!(ids(&b, json!({"bbox": [8, 8, 9, 9]})).is_empty());
    assert_eq!(ids(&b, json!({"bbox": [-1, -1, 11, 11]})), vec!["t"]);
}

#[test]
fn the_same_collection_in_two_sources_is_refused_naming_both_files() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    write(&a.path().join("collection.json"), &collection("same"));
    write(&b.path().join("collection.json"), &collection("same"));
    let e = load(&[a.path(), b.path()]).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, LoadError::Duplicate { .. }), "{msg}");
    assert!(msg.contains("collection 'same'"), "{msg}");
    assert!(
        msg.contains(&a.path().display().to_string())
            && msg.contains(&b.path().display().to_string()),
        "{msg}"
    );
}

#[test]
fn broken_documents_are_refused_naming_the_file_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(&d.join("x/collection.json"), &collection("x"));
    std::fs::write(d.join("x/bad.json"), b"{\"type\": \"Feature\",").unwrap();
    let e = load(&[d]).unwrap_err().to_string();
    assert!(
        e.contains("bad.json") && e.contains("not valid JSON"),
        "{e}"
    );

    let d2 = tempfile::tempdir().unwrap();
    write(
        &d2.path().join("lonely.json"),
        &item("i", None, Value::Null),
    );
    let e = load(&[d2.path()]).unwrap_err().to_string();
    assert!(
        e.contains("lonely.json") && e.contains("names no \"collection\""),
        "{e}"
    );

    let d3 = tempfile::tempdir().unwrap();
    write(
        &d3.path().join("orphan.json"),
        &item("i", Some("ghost"), Value::Null),
    );
    let e = load(&[d3.path()]).unwrap_err().to_string();
    assert!(e.contains("orphan.json") && e.contains("'ghost'"), "{e}");

    let e = load(&[&d.join("nope")]).unwrap_err();
    assert!(matches!(e, LoadError::Missing(_)), "{e}");

    let d4 = tempfile::tempdir().unwrap();
    write(&d4.path().join("x/collection.json"), &collection("x"));
    write(
        &d4.path().join("x/g.json"),
        &item(
            "g",
            Some("x"),
            json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1]]]}),
        ),
    );
    let e = EmbeddedBackend::new(load(&[d4.path()]).unwrap())
        .unwrap_err()
        .to_string();
    assert!(e.contains("g.json") && e.contains("geometry"), "{e}");
}

#[test]
fn a_catalog_in_s3_loads_by_url_with_absolute_asset_urls() {
    let Some(moto) = arco_storage::testing::Moto::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    catalog::write_catalog(dir.path(), &catalog::fixed());
    moto.create_bucket("cats");
    let mut stack = vec![dir.path().to_path_buf()];
    while let Some(p) = stack.pop() {
        for e in std::fs::read_dir(&p).unwrap() {
            let e = e.unwrap().path();
            if e.is_dir() {
                stack.push(e);
            } else {
                let key = format!("cat/{}", e.strip_prefix(dir.path()).unwrap().display());
                moto.put("cats", &key, &std::fs::read(&e).unwrap(), false);
            }
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let opts = LoadOptions {
        storage: moto.options(&rt),
    };
    let cat = arco_server::load(&["s3://cats/cat/catalog.json".to_string()], &opts).unwrap();
    assert_eq!((cat.collections.len(), cat.items.len()), (2, 10));
    let a1 = cat
        .items
        .iter()
        .find(|i| i.id == "a1")
        .unwrap()
        .value()
        .unwrap();
    assert_eq!(a1["assets"]["data"]["href"], "s3://cats/cat/c1/a1/a1.nc");
}

#[test]
fn sources_without_any_stac_document_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("notes.json"), &json!({"not": "stac"}));
    let e = load(&[dir.path()]).unwrap_err();
    assert!(matches!(e, LoadError::Empty(_)), "{e}");
    assert!(e.to_string().contains("no STAC collection or item"), "{e}");
}
