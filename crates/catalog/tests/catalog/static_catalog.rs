//! Static catalogs on disk and the documents embedded in converted stores.

use crate::support::*;
use arco_catalog::{
    collection_from, embedded_documents, stac, validate, write_static_catalog, AssetKind,
    AssetSpec, CatalogSpec, CollectionSpec, DescribeOptions, License,
};
use serde_json::{json, Value};
use std::path::Path;

/// Items (with a data asset) for some real files.
pub fn items(files: &[&str]) -> Vec<stac::Item> {
    files
        .iter()
        .map(|f| {
            let (_, d) = describe_file(f, &DescribeOptions::default());
            let mut item = d.item().unwrap();
            d.add_asset(
                &mut item,
                "data",
                &AssetSpec::for_dataset(&d, &d.source.location),
            )
            .unwrap();
            item
        })
        .collect()
}

fn read(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// Write a catalog of three real files into `out`.
pub fn write_catalog(out: &Path, href_base: Option<&str>) -> (stac::Collection, Vec<stac::Item>) {
    let items = items(&[
        "real/netcdf3/sub.nc",
        "real/netcdf4/cordex.nc",
        "real/netcdf4/lcc_km.nc",
    ]);
    let license = License::parse("CC-BY-4.0").unwrap();
    let collection = collection_from(
        &CollectionSpec {
            title: Some("Samples".into()),
            license: Some(license.clone()),
            ..CollectionSpec::new("samples")
        },
        &items,
    )
    .unwrap();
    let spec = CatalogSpec {
        title: Some("arco test catalog".into()),
        license: Some(license),
        href_base: href_base.map(str::to_string),
        ..CatalogSpec::new("arco-test", "Catalog of arco's test files")
    };
    write_static_catalog(out, &spec, &[(collection.clone(), items.clone())]).unwrap();
    (collection, items)
}

#[test]
fn a_static_catalog_has_the_best_practice_layout_with_relative_links() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("stac");
    let (_, items) = write_catalog(&out, None);
    let catalog = read(&out.join("catalog.json"));
    let collection = read(&out.join("samples/collection.json"));
    let sub = read(&out.join("samples/sub/sub.json"));
    assert!(out.join("samples/cordex/cordex.json").is_file());
    let rels = |v: &Value| -> Vec<(String, String)> {
        v["links"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["rel"].as_str().unwrap().to_string(),
                    l["href"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let c = rels(&catalog);
    assert!(c.contains(&("root".into(), "./catalog.json".into())));
    assert!(c.contains(&("child".into(), "./samples/collection.json".into())));
    assert!(c.contains(&(
        "license".into(),
        "https://spdx.org/licenses/CC-BY-4.0.html".into()
    )));
    let k = rels(&collection);
    for expected in [
        ("root", "../catalog.json"),
        ("parent", "../catalog.json"),
        ("item", "./sub/sub.json"),
        ("item", "./lcc_km/lcc_km.json"),
    ] {
        assert!(k.contains(&(expected.0.into(), expected.1.into())), "{k:?}");
    }
    let i = rels(&sub);
    for expected in [
        ("root", "../../catalog.json"),
        ("parent", "../collection.json"),
        ("collection", "../collection.json"),
    ] {
        assert!(i.contains(&(expected.0.into(), expected.1.into())), "{i:?}");
    }
    // Self-contained: no self links anywhere.
    for v in [&catalog, &collection, &sub] {
        assert!(!rels(v).iter().any(|(r, _)| r == "self"));
    }
    assert_eq!(sub["collection"], "samples");
    // Asset paths are made relative to the item's folder.
    let href = sub["assets"]["data"]["href"].as_str().unwrap();
    assert!(href.starts_with("../"), "{href}");
    let resolved = out.join("samples/sub").join(href);
    assert_eq!(
        std::fs::canonicalize(resolved).unwrap(),
        std::fs::canonicalize(data("real/netcdf3/sub.nc")).unwrap()
    );
    // The whole tree validates and every relative link resolves.
    let check = validate::validate_catalog_dir(&out).unwrap_or_else(|issues| {
        panic!(
            "{}",
            issues
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    assert_eq!(check.documents.len(), 2 + items.len());
}

#[test]
fn a_collection_spans_its_items() {
    let dir = tempfile::tempdir().unwrap();
    let (collection, items) = write_catalog(&dir.path().join("stac"), None);
    let boxes: Vec<[f64; 4]> = items.iter().map(bbox).collect();
    // None of these crosses the antimeridian: the union is min/max.
    let expected = [
        min(&boxes.iter().map(|b| b[0]).collect::<Vec<_>>()),
        min(&boxes.iter().map(|b| b[1]).collect::<Vec<_>>()),
        max(&boxes.iter().map(|b| b[2]).collect::<Vec<_>>()),
        max(&boxes.iter().map(|b| b[3]).collect::<Vec<_>>()),
    ];
    let b = collection.extent.spatial.bbox[0];
    assert_eq!([b.xmin(), b.ymin(), b.xmax(), b.ymax()], expected);
    let starts: Vec<_> = items
        .iter()
        .map(|i| {
            i.properties
                .start_datetime
                .or(i.properties.datetime)
                .unwrap()
        })
        .collect();
    let ends: Vec<_> = items
        .iter()
        .map(|i| i.properties.end_datetime.or(i.properties.datetime).unwrap())
        .collect();
    assert_eq!(
        collection.extent.temporal.interval[0],
        [starts.iter().min().copied(), ends.iter().max().copied()]
    );
    assert_eq!(collection.license, "CC-BY-4.0");
    let v = serde_json::to_value(&collection).unwrap();
    // Datacube dimensions of every item, merged.
    for dim in ["latitude", "rlat", "x", "time"] {
        assert!(v["cube:dimensions"].get(dim).is_some(), "{dim}");
    }
    assert_eq!(v["item_assets"]["data"]["type"], "application/netcdf");
    assert!(v["item_assets"]["data"].get("href").is_none());
    assert!(v["summaries"]["proj:code"]
        .as_array()
        .unwrap()
        .contains(&json!("EPSG:4326")));
    assert_valid(&v);
}

#[test]
fn href_base_publishes_with_absolute_self_links() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("stac");
    write_catalog(&out, Some("https://example.org/stac/"));
    let sub = read(&out.join("samples/sub/sub.json"));
    let selfs: Vec<&str> = sub["links"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["rel"] == "self")
        .map(|l| l["href"].as_str().unwrap())
        .collect();
    assert_eq!(selfs, ["https://example.org/stac/samples/sub/sub.json"]);
    let root = read(&out.join("catalog.json"));
    assert!(root["links"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["rel"] == "self" && l["href"] == "https://example.org/stac/catalog.json"));
    validate::validate_catalog_dir(&out).unwrap();
}

#[test]
fn a_broken_link_is_reported_with_its_document() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("stac");
    write_catalog(&out, None);
    std::fs::remove_file(out.join("samples/cordex/cordex.json")).unwrap();
    let issues = validate::validate_catalog_dir(&out).unwrap_err();
    assert!(
        issues.iter().any(|i| i
            .document
            .as_deref()
            .is_some_and(|d| d.ends_with("collection.json"))
            && i.message.contains("./cordex/cordex.json")
            && i.pointer.starts_with("/links/")),
        "{issues:?}"
    );
}

#[test]
fn an_invalid_document_is_reported_with_the_pointer_to_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("stac");
    write_catalog(&out, None);
    let p = out.join("samples/sub/sub.json");
    let mut v = read(&p);
    v["properties"]["start_datetime"] = json!("the 20th of August");
    v["properties"]["cube:dimensions"]["latitude"]["axis"] = json!("w");
    std::fs::write(&p, serde_json::to_vec(&v).unwrap()).unwrap();
    let issues = validate::validate_catalog_dir(&out).unwrap_err();
    let pointers: Vec<&str> = issues.iter().map(|i| i.pointer.as_str()).collect();
    assert!(
        pointers.contains(&"/properties/start_datetime"),
        "{pointers:?}"
    );
    assert!(
        issues
            .iter()
            .any(|i| i.pointer == "/properties/cube:dimensions/latitude/axis"
                && i.schema.contains("datacube")),
        "{issues:?}"
    );
}

/// Convert `rel` with arco's engine into `dest` (Zarr v3).
pub fn convert(rel: &str, dest: &Path) {
    let src = data(rel);
    let reader = open(&src);
    let opts = arco_engine::ConvertOptions::default();
    let stamps = vec![arco_engine::SourceStamp::of(&src, reader.dataset().size)];
    let plan = arco_engine::plan(reader.as_ref(), &stamps, &opts).unwrap();
    let mut out = arco_engine::OutputOptions::new(dest.to_str().unwrap());
    out.command = vec![
        "arco".into(),
        "convert".into(),
        src.clone(),
        dest.to_string_lossy().into_owned(),
    ];
    arco_engine::convert(reader.as_ref(), &plan, &out, &|_| {}).unwrap();
}

/// Describe a converted store and write its `.stac/` documents into it.
pub fn embed(dest: &Path) -> (stac::Collection, stac::Item) {
    let loc = dest.to_str().unwrap();
    let reader = arco_formats::open_zarr(loc, &Default::default()).unwrap();
    let d = arco_catalog::describe(reader.as_ref(), loc, &DescribeOptions::default()).unwrap();
    let mut item = d.item().unwrap();
    d.add_asset(
        &mut item,
        "zarr",
        &AssetSpec::new("../", AssetKind::Zarr { version: 3 }),
    )
    .unwrap();
    let collection = collection_from(
        &CollectionSpec {
            license: Some(License::parse("Apache-2.0").unwrap()),
            assets_from_single_item: true,
            ..CollectionSpec::new(&item.id)
        },
        std::slice::from_ref(&item),
    )
    .unwrap();
    for (path, bytes) in embedded_documents(&collection, &item).unwrap() {
        let p = dest.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    (collection, item)
}

#[test]
fn a_converted_store_carries_its_processing_and_inputs_in_stac() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("sub.zarr");
    convert("real/netcdf3/sub.nc", &dest);
    let (collection, item) = embed(&dest);
    let v = serde_json::to_value(&item).unwrap();
    assert_valid(&v);
    assert_eq!(item.id, "sub");
    let lineage = v["properties"]["processing:lineage"].as_str().unwrap();
    assert!(
        lineage.starts_with("arco convert ") && lineage.ends_with("sub.zarr"),
        "{lineage}"
    );
    assert_eq!(
        v["properties"]["processing:software"]["arco"],
        env!("CARGO_PKG_VERSION")
    );
    // The input, with its SHA-256 (tests/data/real/MANIFEST.md) as a multihash.
    let input = item.links.iter().find(|l| l.rel == "derived_from").unwrap();
    assert!(input.href.starts_with("file:///") && input.href.ends_with("sub.nc"));
    assert_eq!(
        input.additional_fields["file:checksum"],
        "122080a2f0cc7d6ff07dd20b3404a633f65501b1c006b4fe4d641906d4701afc69d6"
    );
    assert_eq!(input.additional_fields["file:size"], 8312);
    // The same footprint as the source.
    let (_, src) = describe_file("real/netcdf3/sub.nc", &DescribeOptions::default());
    assert_eq!(bbox(&item), src.spatial.unwrap().bbox);
    // The store asset: Zarr v3 media type, a store link, and on the collection too.
    assert_eq!(
        item.assets["zarr"].r#type.as_deref(),
        Some("application/vnd.zarr; version=3")
    );
    assert!(item
        .links
        .iter()
        .any(|l| l.rel == "store" && l.href == "../"));
    assert_eq!(collection.assets["zarr"].href, "../");
    let c = serde_json::to_value(&collection).unwrap();
    assert_valid(&c);
    assert!(c["providers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "arco" && p["processing:lineage"] == lineage));
    // The embedded documents validate, and their links (the store at ../) resolve.
    let check = validate::validate_catalog_dir(&dest.join(".stac")).unwrap_or_else(|issues| {
        panic!(
            "{}",
            issues
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    assert_eq!(check.documents.len(), 2);
}
