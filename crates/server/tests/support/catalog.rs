//! Test catalogs written with the `stac` crate: a static catalog as
//! `arco-catalog` lays it out (root `catalog.json` → `<c>/collection.json` →
//! `<c>/<item>/<item>.json`, relative links, STAC 1.1).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use serde_json::{json, Value};
use std::path::Path;

/// One generated item.
#[derive(Debug, Clone)]
pub struct GenItem {
    pub id: String,
    pub collection: String,
    /// Footprint, a box `[w, s, e, n]` (written as a polygon).
    pub bbox: [f64; 4],
    /// Seconds since the epoch.
    pub start: i64,
    /// `Some(end)`: a range item (`start_datetime`/`end_datetime`, `datetime` null).
    pub end: Option<i64>,
    pub cloud: Option<f64>,
    pub platform: Option<String>,
    pub tags: Vec<String>,
}

pub fn rfc3339(secs: i64) -> String {
    arco_server::datetime::format_rfc3339(secs * 1_000_000)
}

pub fn polygon(b: [f64; 4]) -> Value {
    json!({"type": "Polygon", "coordinates": [[[b[0], b[1]], [b[2], b[1]], [b[2], b[3]], [b[0], b[3]], [b[0], b[1]]]]})
}

pub fn item_json(it: &GenItem) -> Value {
    let mut props = serde_json::Map::new();
    match it.end {
        None => {
            props.insert("datetime".into(), json!(rfc3339(it.start)));
        }
        Some(e) => {
            props.insert("datetime".into(), Value::Null);
            props.insert("start_datetime".into(), json!(rfc3339(it.start)));
            props.insert("end_datetime".into(), json!(rfc3339(e)));
        }
    }
    if let Some(c) = it.cloud {
        props.insert("eo:cloud_cover".into(), json!(c));
    }
    if let Some(p) = &it.platform {
        props.insert("platform".into(), json!(p));
    }
    if !it.tags.is_empty() {
        props.insert("tags".into(), json!(it.tags));
    }
    let mut item = stac::Item::new(&it.id);
    item.geometry = Some(serde_json::from_value(polygon(it.bbox)).unwrap());
    item.bbox = Some(stac::Bbox::TwoDimensional(it.bbox));
    item.properties = serde_json::from_value(Value::Object(props)).unwrap();
    item.collection = Some(it.collection.clone());
    item.links
        .push(stac::Link::root("../../catalog.json").json());
    item.links
        .push(stac::Link::parent("../collection.json").json());
    item.links
        .push(stac::Link::collection("../collection.json").json());
    item.links.push(
        stac::Link::new("https://creativecommons.org/licenses/by/4.0/", "license")
            .r#type(Some("text/html".to_string())),
    );
    let mut asset = stac::Asset::new(format!("./{}.nc", it.id));
    asset.roles = vec!["data".to_string()];
    item.assets.insert("data".into(), asset);
    serde_json::to_value(&item).unwrap()
}

/// Write a static catalog of these collections under `dir`.
pub fn write_catalog(dir: &Path, collections: &[(String, Vec<GenItem>)]) {
    let mut root = stac::Catalog::new("test-root", "A catalog written by the arco-server tests");
    root.title = Some("Test catalog".to_string());
    root.links.push(stac::Link::root("./catalog.json").json());
    for (cid, items) in collections {
        root.links
            .push(stac::Link::child(format!("./{cid}/collection.json")).json());
        let cdir = dir.join(cid);
        std::fs::create_dir_all(&cdir).unwrap();
        let mut c = stac::Collection::new(cid, format!("Collection {cid} of the tests"));
        c.title = Some(format!("Collection {cid}"));
        c.license = "CC-BY-4.0".to_string();
        let (mut w, mut s, mut e, mut n) = (180.0f64, 90.0f64, -180.0f64, -90.0f64);
        let (mut t0, mut t1) = (i64::MAX, i64::MIN);
        for it in items {
            w = w.min(it.bbox[0]);
            s = s.min(it.bbox[1]);
            e = e.max(it.bbox[2]);
            n = n.max(it.bbox[3]);
            t0 = t0.min(it.start);
            t1 = t1.max(it.end.unwrap_or(it.start));
        }
        if items.is_empty() {
            (w, s, e, n, t0, t1) = (-180.0, -90.0, 180.0, 90.0, 0, 0);
        }
        c.extent = serde_json::from_value(json!({
            "spatial": {"bbox": [[w, s, e, n]]},
            "temporal": {"interval": [[rfc3339(t0), rfc3339(t1)]]},
        }))
        .unwrap();
        c.links.push(stac::Link::root("../catalog.json").json());
        c.links.push(stac::Link::parent("../catalog.json").json());
        for it in items {
            c.links
                .push(stac::Link::item(format!("./{}/{}.json", it.id, it.id)).geojson());
            let idir = cdir.join(&it.id);
            std::fs::create_dir_all(&idir).unwrap();
            std::fs::write(
                idir.join(format!("{}.json", it.id)),
                serde_json::to_vec_pretty(&item_json(it)).unwrap(),
            )
            .unwrap();
        }
        std::fs::write(
            cdir.join("collection.json"),
            serde_json::to_vec_pretty(&c).unwrap(),
        )
        .unwrap();
    }
    std::fs::write(
        dir.join("catalog.json"),
        serde_json::to_vec_pretty(&root).unwrap(),
    )
    .unwrap();
}

/// A small fixed catalog: collections `c1` (6 items) and `c2` (4 items, two
/// of them time ranges), footprints around (10, 45) and (100, 0).
pub fn fixed() -> Vec<(String, Vec<GenItem>)> {
    let day = 86_400;
    let base = 1_600_000_000; // 2020-09-13
    let mk = |id: &str,
              c: &str,
              b: [f64; 4],
              start: i64,
              end: Option<i64>,
              cloud: Option<f64>,
              platform: &str| GenItem {
        id: id.to_string(),
        collection: c.to_string(),
        bbox: b,
        start,
        end,
        cloud,
        platform: Some(platform.to_string()),
        tags: vec!["t".to_string(), platform.to_string()],
    };
    vec![
        (
            "c1".to_string(),
            vec![
                mk(
                    "a1",
                    "c1",
                    [10.0, 45.0, 11.0, 46.0],
                    base,
                    None,
                    Some(5.0),
                    "sentinel-2a",
                ),
                mk(
                    "a2",
                    "c1",
                    [10.5, 45.5, 11.5, 46.5],
                    base + day,
                    None,
                    Some(50.0),
                    "sentinel-2b",
                ),
                mk(
                    "a3",
                    "c1",
                    [20.2, 20.2, 20.8, 20.8],
                    base + 2 * day,
                    None,
                    Some(95.0),
                    "landsat-8",
                ),
                mk(
                    "a4",
                    "c1",
                    [100.2, 0.2, 100.4, 0.4],
                    base + 3 * day,
                    None,
                    None,
                    "landsat-9",
                ),
                mk(
                    "a5",
                    "c1",
                    [-80.0, 38.0, -77.0, 39.0],
                    base + 4 * day,
                    None,
                    Some(9.0),
                    "sentinel-2a",
                ),
                mk(
                    "a6",
                    "c1",
                    [170.0, -10.0, 179.0, -5.0],
                    base + 5 * day,
                    None,
                    Some(0.0),
                    "sentinel-1a",
                ),
            ],
        ),
        (
            "c2".to_string(),
            vec![
                mk(
                    "b1",
                    "c2",
                    [10.0, 45.0, 12.0, 47.0],
                    base - 10 * day,
                    Some(base + 10 * day),
                    Some(20.0),
                    "model",
                ),
                mk(
                    "b2",
                    "c2",
                    [100.0, 0.0, 101.0, 1.0],
                    base + day,
                    Some(base + 2 * day),
                    None,
                    "model",
                ),
                mk(
                    "b3",
                    "c2",
                    [-10.0, -10.0, 10.0, 10.0],
                    base + 3 * day,
                    None,
                    Some(30.0),
                    "sentinel-2a",
                ),
                mk(
                    "b4",
                    "c2",
                    [0.0, 0.0, 1.0, 1.0],
                    base + 30 * day,
                    None,
                    Some(70.0),
                    "sentinel-2b",
                ),
            ],
        ),
    ]
}
