//! Write a synthetic static STAC catalog with the `stac` crate, laid out as
//! arco-catalog writes them (`catalog.json` → `<c>/collection.json` →
//! `<c>/<item>/<item>.json`, relative links, STAC 1.1, no extensions):
//! satellite-scene-like items with ~1° footprints (slightly skewed
//! quadrilaterals) anywhere between 70°S and 70°N, datetimes spread over
//! 2015–2024, and `eo:cloud_cover`, `platform`, `gsd`, `constellation`
//! properties. Deterministic for a seed.
//!
//! Used by scripts/stac_api_check.sh (the catalog stac-api-validator runs
//! against) and bench/stac/run.py (100,000 items):
//!
//! ```text
//! cargo run -p arco-server --example stac_catalog -- OUT_DIR [--items N] [--collections K] [--seed S]
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const PLATFORMS: [(&str, &str, f64); 4] = [
    ("sentinel-2a", "sentinel-2", 10.0),
    ("sentinel-2b", "sentinel-2", 10.0),
    ("landsat-8", "landsat", 30.0),
    ("landsat-9", "landsat", 30.0),
];
const COLLECTIONS: [&str; 4] = ["optical-a", "optical-b", "optical-c", "optical-d"];

/// xorshift64*: enough randomness for test data, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
}

fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (H. Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

fn write(path: &Path, v: &impl serde::Serialize) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_vec(v).unwrap()).unwrap();
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut out: Option<PathBuf> = None;
    let (mut n, mut k, mut seed) = (1000usize, 2usize, 42u64);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--items" => n = args.next().unwrap().parse().unwrap(),
            "--collections" => k = args.next().unwrap().parse().unwrap(),
            "--seed" => seed = args.next().unwrap().parse().unwrap(),
            other => out = Some(PathBuf::from(other)),
        }
    }
    let out = out.expect("usage: stac_catalog OUT_DIR [--items N] [--collections K] [--seed S]");
    let k = k.clamp(1, COLLECTIONS.len());
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let t0 = 1_420_070_400i64; // 2015-01-01
    let t1 = 1_735_603_200i64; // 2024-12-31
    let mut root = stac::Catalog::new(
        "synthetic",
        "Synthetic satellite scenes for arco's STAC API checks and benchmark",
    );
    root.title = Some("Synthetic scenes".to_string());
    root.links.push(stac::Link::root("./catalog.json").json());
    // Items per collection, generated first to compute the extents.
    let mut per: Vec<Vec<Value>> = vec![Vec::new(); k];
    let mut ext: Vec<[f64; 6]> = vec![[180.0, 90.0, -180.0, -90.0, f64::MAX, f64::MIN]; k];
    for i in 0..n {
        let c = i % k;
        let (platform, constellation, gsd) = PLATFORMS[(rng.next() % 4) as usize];
        let lon = rng.range(-179.0, 178.0);
        let lat = rng.range(-70.0, 69.0);
        let w = rng.range(0.8, 1.2);
        let h = rng.range(0.8, 1.2);
        let skew = rng.range(-0.15, 0.15);
        let ring = vec![
            [lon, lat],
            [lon + w, lat + skew.max(0.0)],
            [lon + w + skew.abs(), lat + h],
            [lon + skew.abs(), lat + h + skew.min(0.0).abs()],
            [lon, lat],
        ];
        let xs: Vec<f64> = ring.iter().map(|p| p[0]).collect();
        let ys: Vec<f64> = ring.iter().map(|p| p[1]).collect();
        let bbox = [
            xs.iter().cloned().fold(f64::MAX, f64::min),
            ys.iter().cloned().fold(f64::MAX, f64::min),
            xs.iter().cloned().fold(f64::MIN, f64::max),
            ys.iter().cloned().fold(f64::MIN, f64::max),
        ];
        let t = t0 + (rng.unit() * (t1 - t0) as f64) as i64;
        let cloud = (rng.unit() * 1000.0).round() / 10.0;
        let id = format!("{}-{i:07}", COLLECTIONS[c]);
        let mut item = stac::Item::new(&id);
        item.geometry = Some(
            serde_json::from_value(json!({"type": "Polygon", "coordinates": [ring]})).unwrap(),
        );
        item.bbox = Some(stac::Bbox::TwoDimensional(bbox));
        item.properties = serde_json::from_value(json!({
            "datetime": rfc3339(t),
            "eo:cloud_cover": cloud,
            "platform": platform,
            "constellation": constellation,
            "gsd": gsd,
        }))
        .unwrap();
        item.collection = Some(COLLECTIONS[c].to_string());
        item.links
            .push(stac::Link::root("../../catalog.json").json());
        item.links
            .push(stac::Link::parent("../collection.json").json());
        item.links
            .push(stac::Link::collection("../collection.json").json());
        let mut asset = stac::Asset::new(format!("./{id}.tif"));
        asset.roles = vec!["data".to_string()];
        asset.r#type = Some("image/tiff; application=geotiff".to_string());
        item.assets.insert("data".into(), asset);
        let e = &mut ext[c];
        e[0] = e[0].min(bbox[0]);
        e[1] = e[1].min(bbox[1]);
        e[2] = e[2].max(bbox[2]);
        e[3] = e[3].max(bbox[3]);
        e[4] = e[4].min(t as f64);
        e[5] = e[5].max(t as f64);
        per[c].push(serde_json::to_value(&item).unwrap());
    }
    for (c, items) in per.iter().enumerate() {
        let cid = COLLECTIONS[c];
        root.links.push(
            stac::Link::child(format!("./{cid}/collection.json"))
                .json()
                .title(Some(format!("Collection {cid}"))),
        );
        let mut col =
            stac::Collection::new(cid, format!("Synthetic optical scenes, part {}", c + 1));
        col.title = Some(format!("Synthetic scenes {cid}"));
        col.license = "CC-BY-4.0".to_string();
        let e = ext[c];
        let (ta, tb) = if items.is_empty() {
            (t0, t1)
        } else {
            (e[4] as i64, e[5] as i64)
        };
        let sb = if items.is_empty() {
            [-180.0, -90.0, 180.0, 90.0]
        } else {
            [e[0], e[1], e[2], e[3]]
        };
        col.extent = serde_json::from_value(json!({
            "spatial": {"bbox": [sb]},
            "temporal": {"interval": [[rfc3339(ta), rfc3339(tb)]]},
        }))
        .unwrap();
        col.links.push(
            stac::Link::root("../catalog.json")
                .json()
                .title(Some("Root".to_string())),
        );
        col.links.push(
            stac::Link::parent("../catalog.json")
                .json()
                .title(Some("Root".to_string())),
        );
        for it in items {
            let id = it["id"].as_str().unwrap();
            col.links
                .push(stac::Link::item(format!("./{id}/{id}.json")).geojson());
            write(&out.join(cid).join(id).join(format!("{id}.json")), it);
        }
        write(&out.join(cid).join("collection.json"), &col);
    }
    write(&out.join("catalog.json"), &root);
    eprintln!("wrote {n} items in {k} collections under {}", out.display());
}
