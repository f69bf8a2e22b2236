//! The pgstac backend against a real database (ARCO_PGSTAC_URL, started by
//! scripts/pgstac.sh): `load_pgstac` fills it, and every search answers the
//! same items, in the same order, with the same counts and pages, as the
//! embedded backend over the same catalog.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/peers.rs"]
mod peers;

use arco_server::api::{self, Ctx, SearchInput};
use arco_server::{AppState, Backend, LoadOptions, ServerConfig};
use serde_json::{json, Value};
use std::sync::Arc;

/// The fixed catalog under collection ids of this run.
fn tagged(tag: &str) -> Vec<(String, Vec<catalog::GenItem>)> {
    catalog::fixed()
        .into_iter()
        .map(|(c, items)| {
            let c = format!("{c}-{tag}");
            let items = items
                .into_iter()
                .map(|mut i| {
                    i.collection = c.clone();
                    i
                })
                .collect();
            (c, items)
        })
        .collect()
}

struct Pair {
    embedded: AppState,
    pgstac: AppState,
    c1: String,
    c2: String,
    _dir: tempfile::TempDir,
}

async fn pair() -> Option<Pair> {
    let url = peers::pgstac_url()?;
    let tag = format!("p{}", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    catalog::write_catalog(dir.path(), &tagged(&tag));
    let sources = vec![dir.path().display().to_string()];
    let summary = arco_server::pgstac::load_pgstac_sources(&url, &sources)
        .await
        .unwrap();
    assert_eq!((summary.collections, summary.items), (2, 10));
    let cat = arco_server::load(&sources, &LoadOptions::default()).unwrap();
    let embedded = AppState::embedded(cat, ServerConfig::default()).unwrap();
    let pg = arco_server::pgstac::PgstacBackend::connect(&url)
        .await
        .unwrap();
    let pgstac = AppState {
        backend: Backend::Pgstac(Arc::new(pg)),
        config: ServerConfig::default(),
        data: Default::default(),
    };
    Some(Pair {
        embedded,
        pgstac,
        c1: format!("c1-{tag}"),
        c2: format!("c2-{tag}"),
        _dir: dir,
    })
}

fn ctx(path: &str) -> Ctx {
    Ctx::new("http://stac.test", path)
}

fn ids(v: &Value) -> Vec<String> {
    v["features"]
        .as_array()
        .unwrap_or_else(|| panic!("no features: {v}"))
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

/// All pages of a POST search, following next links.
async fn all_pages(state: &AppState, body: Value) -> (Vec<String>, Option<u64>, usize) {
    let mut body = body;
    let mut got = Vec::new();
    let mut matched = None;
    let mut pages = 0;
    loop {
        let d = api::search(state, &ctx("/search"), SearchInput::Body(body.clone()))
            .await
            .unwrap_or_else(|e| panic!("{body}: {e}"));
        let v = d.value().unwrap();
        got.extend(ids(&v));
        matched = matched.or(v["numberMatched"].as_u64());
        pages += 1;
        assert!(pages < 50, "paging does not end for {body}");
        let next = v["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "next")
            .cloned();
        match next {
            Some(n) => {
                for (k, x) in n["body"].as_object().unwrap() {
                    body[k] = x.clone();
                }
            }
            None => break,
        }
    }
    (got, matched, pages)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_backends_answer_every_search_alike() {
    let Some(p) = pair().await else { return };
    let (c1, c2) = (p.c1.as_str(), p.c2.as_str());
    let both = json!([c1, c2]);
    let searches: Vec<Value> = vec![
        json!({}),
        json!({"limit": 3}),
        json!({"bbox": [9, 44, 11.2, 45.8]}),
        json!({"bbox": [170, -20, -170, 0]}),
        json!({"intersects": {"type": "Polygon", "coordinates": [[[10.6, 44.0], [12.0, 44.0], [12.0, 45.4], [10.6, 44.0]]]}}),
        json!({"intersects": {"type": "Point", "coordinates": [100.3, 0.3]}}),
        json!({"datetime": "2020-09-14T00:00:00Z/2020-09-16T00:00:00Z"}),
        json!({"datetime": "../2020-09-13T12:26:40Z"}),
        json!({"datetime": "2020-09-15T00:00:00Z/.."}),
        json!({"datetime": "2020-09-13T12:26:40Z"}),
        json!({"ids": ["a1", "b2", "zz"]}),
        json!({"collections": [c2]}),
        json!({"ids": ["a1", "a3"], "bbox": [9, 44, 11.2, 45.8]}),
        json!({"filter": "eo:cloud_cover < 10"}),
        json!({"filter": "eo:cloud_cover >= 20 AND eo:cloud_cover <= 70"}),
        json!({"filter": "eo:cloud_cover BETWEEN 5 AND 50"}),
        json!({"filter": "eo:cloud_cover IS NULL"}),
        json!({"filter": "NOT eo:cloud_cover > 9"}),
        json!({"filter": "platform = 'sentinel-2a' OR platform = 'model'"}),
        json!({"filter": "platform LIKE 'sentinel-2%'"}),
        json!({"filter": "platform IN ('landsat-8', 'landsat-9')"}),
        json!({"filter": format!("collection = '{c1}' AND id <> 'a1'")}),
        json!({"filter": "S_INTERSECTS(geometry, POLYGON((9 44, 12 44, 12 47, 9 47, 9 44)))"}),
        json!({"filter": "S_INTERSECTS(geometry, BBOX(100, 0, 101, 1))"}),
        json!({"filter": "datetime > TIMESTAMP('2020-09-15T00:00:00Z')"}),
        json!({"filter": "T_INTERSECTS(datetime, INTERVAL('2020-09-14T00:00:00Z', '2020-09-16T00:00:00Z'))"}),
        json!({"filter": {"op": "t_before", "args": [{"property": "datetime"}, {"timestamp": "2020-09-14T00:00:00Z"}]}}),
        json!({"filter": {"op": "between", "args": [{"property": "eo:cloud_cover"}, [0, 50]]}}),
        json!({"filter": {"op": "a_contains", "args": [{"property": "tags"}, ["model"]]}}),
        json!({"sortby": [{"field": "eo:cloud_cover", "direction": "asc"}]}),
        json!({"sortby": [{"field": "properties.eo:cloud_cover", "direction": "desc"}], "limit": 4}),
        json!({"sortby": [{"field": "id", "direction": "asc"}], "limit": 3}),
        json!({"sortby": [{"field": "datetime", "direction": "asc"}], "limit": 4}),
    ];
    let mut differences = Vec::new();
    for s in searches {
        let mut body = s.clone();
        if body.get("collections").is_none() {
            body["collections"] = both.clone();
        }
        let e = all_pages(&p.embedded, body.clone()).await;
        let g = all_pages(&p.pgstac, body.clone()).await;
        if e.0 != g.0 || e.1 != g.1 {
            differences.push(format!(
                "{s}\n  embedded {:?} matched {:?}\n  pgstac   {:?} matched {:?}",
                e.0, e.1, g.0, g.1
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "the backends differ:\n{}",
        differences.join("\n")
    );
}

/// JSON with every number as a float: PostGIS writes 10 where the file had 10.0.
fn numbers_as_f64(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64().unwrap()),
        Value::Array(a) => Value::Array(a.iter().map(numbers_as_f64).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), numbers_as_f64(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_backends_write_the_same_documents() {
    let Some(p) = pair().await else { return };
    let c1 = p.c1.clone();
    // One collection, one item and a fields search: the same JSON.
    let cpath = format!("/collections/{c1}");
    let ce = api::collection(&p.embedded, &ctx(&cpath), &c1)
        .await
        .unwrap()
        .value()
        .unwrap();
    let cg = api::collection(&p.pgstac, &ctx(&cpath), &c1)
        .await
        .unwrap()
        .value()
        .unwrap();
    assert_eq!(ce["links"], cg["links"]);
    assert_eq!(ce["extent"], cg["extent"]);
    let ipath = format!("/collections/{c1}/items/a1");
    let ie = api::item(&p.embedded, &ctx(&ipath), &c1, "a1")
        .await
        .unwrap()
        .value()
        .unwrap();
    let ig = api::item(&p.pgstac, &ctx(&ipath), &c1, "a1")
        .await
        .unwrap()
        .value()
        .unwrap();
    for k in [
        "id",
        "collection",
        "geometry",
        "bbox",
        "properties",
        "assets",
        "links",
    ] {
        assert_eq!(numbers_as_f64(&ie[k]), numbers_as_f64(&ig[k]), "{k}");
    }
    let f = json!({"ids": ["a1"], "collections": [c1], "fields": {"include": ["properties.eo:cloud_cover"], "exclude": ["links"]}});
    let fe = api::search(&p.embedded, &ctx("/search"), SearchInput::Body(f.clone()))
        .await
        .unwrap()
        .value()
        .unwrap();
    let fg = api::search(&p.pgstac, &ctx("/search"), SearchInput::Body(f))
        .await
        .unwrap()
        .value()
        .unwrap();
    assert_eq!(
        numbers_as_f64(&fe["features"]),
        numbers_as_f64(&fg["features"])
    );
    assert_eq!(
        fe["features"][0],
        json!({"properties": {"eo:cloud_cover": 5.0}, "id": "a1", "collection": c1})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pgstac_backend_answers_404_and_400_as_json() {
    let Some(p) = pair().await else { return };
    let s = &p.pgstac;
    let e = api::collection(s, &ctx("/collections/nope"), "nope")
        .await
        .unwrap_err();
    assert_eq!((e.status, e.code), (404, "NotFound"));
    let e = api::item(s, &ctx("/x"), &p.c1, "nope").await.unwrap_err();
    assert_eq!(e.status, 404);
    assert!(e.description.contains("nope"));
    let e = api::items(s, &ctx("/x"), "nope", SearchInput::Query(vec![]))
        .await
        .unwrap_err();
    assert_eq!(e.status, 404);
    let e = api::search(
        s,
        &ctx("/search"),
        SearchInput::Body(json!({"token": "next:zz:zz"})),
    )
    .await;
    // A token pgstac cannot read is the client's mistake, never a 500.
    if let Err(e) = e {
        assert_eq!(e.status, 400, "{e}");
    }
    let e = api::search(
        s,
        &ctx("/search"),
        SearchInput::Query(vec![("filter".into(), "x <".into())]),
    )
    .await
    .unwrap_err();
    assert_eq!(e.status, 400);
    let q = api::queryables(s, &ctx("/q"), Some(&p.c1))
        .await
        .unwrap()
        .value()
        .unwrap();
    assert_eq!(
        q["$id"],
        format!("http://stac.test/collections/{}/queryables", p.c1)
    );
    assert_eq!(q["properties"]["eo:cloud_cover"]["type"], "number");
    assert_eq!(q["properties"]["platform"]["type"], "string");
    let h = api::healthz(s).await.unwrap().value().unwrap();
    assert_eq!(h["backend"], "pgstac");
}
