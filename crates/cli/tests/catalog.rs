//! `arco catalog` and the STAC that `arco convert` writes: the documents are
//! valid (the vendored schemas), describe the data (extents computed from
//! the coordinates), and bad input is refused with the flag that fixes it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/run.rs"]
mod run;
use run::arco;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

fn data(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data")
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "arco failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn convert_writes_a_valid_stac_item_and_collection_inside_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("era5.zarr");
    let src = data("real/netcdf4/era5-levels-members.nc");
    ok(&arco(&[
        "convert",
        &src,
        dest.to_str().unwrap(),
        "--license",
        "CC-BY-4.0",
    ]));
    let item = read_json(&dest.join(".stac/item.json"));
    let collection = read_json(&dest.join(".stac/collection.json"));
    for doc in [&item, &collection] {
        if let Err(issues) = arco_catalog::validate::validate_value(doc) {
            panic!("invalid STAC: {issues:?}");
        }
    }
    assert_eq!(item["id"], "era5");
    // The ERA5 sample is a global 3-degree grid, two days of 12-hourly steps.
    assert_eq!(item["properties"]["start_datetime"], "2017-01-01T00:00:00Z");
    assert_eq!(item["properties"]["end_datetime"], "2017-01-02T12:00:00Z");
    assert_eq!(
        item["bbox"],
        serde_json::json!([-180.0, -90.0, 180.0, 90.0])
    );
    let asset = &item["assets"]["zarr"];
    assert_eq!(asset["href"], "../");
    assert_eq!(asset["type"], "application/vnd.zarr; version=3");
    assert_eq!(collection["license"], "CC-BY-4.0");
    // The lineage is the command that made the store, and the input's checksum is recorded.
    let lineage = item["properties"]["processing:lineage"].as_str().unwrap();
    assert!(lineage.contains("convert"), "{lineage}");
    let derived: Vec<&Value> = item["links"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["rel"] == "derived_from")
        .collect();
    assert_eq!(derived.len(), 1, "{derived:?}");
    assert!(derived[0]["file:checksum"]
        .as_str()
        .unwrap()
        .starts_with("1220"));
    // The description names the published store, not the partial one.
    let text = serde_json::to_string(&item).unwrap();
    assert!(!text.contains(".arco-partial"), "{text}");
}

#[test]
fn convert_without_stac_writes_none() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("sub.zarr");
    ok(&arco(&[
        "convert",
        &data("real/netcdf3/sub.nc"),
        dest.to_str().unwrap(),
        "--no-stac",
    ]));
    assert!(dest.join("zarr.json").is_file());
    assert!(!dest.join(".stac").exists());
}

#[test]
fn catalog_check_validates_every_document_and_link() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("catalog");
    let args = [
        "--json",
        "catalog",
        &data("real/netcdf4/era5-levels-members.nc"),
        &data("real/netcdf4/lcc_km.nc"),
        &data("real/netcdf3/sub.nc"),
        "--out",
        out.to_str().unwrap(),
        "--title",
        "Samples",
        "--license",
        "CC-BY-4.0",
        "--check",
    ];
    let result = arco(&args);
    ok(&result);
    let report: Value = serde_json::from_slice(&result.stdout).unwrap();
    assert_eq!(report["items"], 3);
    assert_eq!(report["check"]["valid"], true);
    let root = read_json(&out.join("catalog.json"));
    assert_eq!(root["type"], "Catalog");
    let collection = read_json(&out.join("Samples/collection.json"));
    assert_eq!(collection["license"], "CC-BY-4.0");
    // The collection's extent is the union of the items' bboxes.
    let mut west = f64::INFINITY;
    let mut east = f64::NEG_INFINITY;
    for id in ["era5-levels-members", "lcc_km", "sub"] {
        let item = read_json(&out.join(format!("Samples/{id}/{id}.json")));
        let bbox = item["bbox"].as_array().unwrap();
        west = west.min(bbox[0].as_f64().unwrap());
        east = east.max(bbox[2].as_f64().unwrap());
        // Asset hrefs are relative to the item, and resolve.
        let href = item["assets"]["data"]["href"].as_str().unwrap();
        assert!(!href.starts_with('/'), "{href}");
        assert!(
            out.join(format!("Samples/{id}")).join(href).exists(),
            "{href}"
        );
    }
    let extent = &collection["extent"]["spatial"]["bbox"][0];
    assert_eq!(extent[0].as_f64().unwrap(), west);
    assert_eq!(extent[2].as_f64().unwrap(), east);

    // A second run into the same folder is refused without --overwrite.
    let again = arco(&args);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--overwrite"));
}

#[test]
fn a_dataset_without_coordinates_is_refused_with_the_flag_that_accepts_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("catalog");
    let src = data("real/netcdf4/issue672.nc");
    let refused = arco(&["catalog", &src, "--out", out.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("issue672.nc"), "{stderr}");
    assert!(stderr.contains("--null-geometry"), "{stderr}");
    assert!(!out.join("catalog.json").exists());

    let accepted = arco(&[
        "catalog",
        &src,
        "--out",
        out.to_str().unwrap(),
        "--null-geometry",
        "--datetime",
        "2020-01-01",
        "--check",
    ]);
    ok(&accepted);
    let item = read_json(&out.join("arco/issue672/issue672.json"));
    assert!(item["geometry"].is_null());
    assert_eq!(item["properties"]["datetime"], "2020-01-01T00:00:00Z");
}

#[test]
fn an_invalid_license_is_a_usage_error_naming_it() {
    let out = arco(&[
        "catalog",
        &data("real/netcdf3/sub.nc"),
        "--out",
        "/nonexistent/never-written",
        "--license",
        "CC-BY-99",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("CC-BY-99"));
}

#[test]
fn virtualize_describes_its_references_in_stac_beside_them() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("era5.json");
    let src = data("real/netcdf4/era5-levels-members.nc");
    ok(&arco(&["virtualize", &src, dest.to_str().unwrap()]));
    let folder = dir.path().join("era5.json.stac");
    let item = read_json(&folder.join("item.json"));
    let collection = read_json(&folder.join("collection.json"));
    for doc in [&item, &collection] {
        if let Err(issues) = arco_catalog::validate::validate_value(doc) {
            panic!("invalid STAC: {issues:?}");
        }
    }
    let asset = &item["assets"]["data"];
    assert_eq!(asset["href"], "../era5.json");
    assert_eq!(asset["type"], "application/json");
    assert!(asset["roles"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r == "references"));
    assert!(folder.join(asset["href"].as_str().unwrap()).is_file());
    assert_eq!(item["properties"]["start_datetime"], "2017-01-01T00:00:00Z");
    assert!(item["properties"]["processing:lineage"]
        .as_str()
        .unwrap()
        .contains("virtualize"));

    // --no-stac writes none.
    let bare = dir.path().join("bare.json");
    ok(&arco(&[
        "virtualize",
        &src,
        bare.to_str().unwrap(),
        "--no-stac",
    ]));
    assert!(!dir.path().join("bare.json.stac").exists());
}
