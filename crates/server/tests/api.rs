//! Every endpoint of the STAC API, and every 4xx, through the axum router in
//! process (tower `oneshot`), over a static catalog written with the `stac`
//! crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/catalog.rs"]
mod catalog;

use arco_server::{AppState, Cors, LoadOptions, ServerConfig};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;

struct Api {
    app: Router,
    _dir: tempfile::TempDir,
}

fn api_with(config: ServerConfig) -> Api {
    let dir = tempfile::tempdir().unwrap();
    catalog::write_catalog(dir.path(), &catalog::fixed());
    let cat =
        arco_server::load(&[dir.path().display().to_string()], &LoadOptions::default()).unwrap();
    let state = AppState::embedded(cat, config).unwrap();
    Api {
        app: arco_server::router(Arc::new(state)),
        _dir: dir,
    }
}

fn api() -> Api {
    api_with(ServerConfig {
        fallback_base: "http://fallback.invalid".into(),
        ..ServerConfig::default()
    })
}

struct Resp {
    status: StatusCode,
    content_type: String,
    headers: axum::http::HeaderMap,
    body: Value,
    text: String,
}

impl Api {
    async fn send(&self, req: Request<Body>) -> Resp {
        let r = self.app.clone().oneshot(req).await.unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        let content_type = headers
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let bytes = r.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).to_string();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp {
            status,
            content_type,
            headers,
            body,
            text,
        }
    }

    async fn get(&self, uri: &str) -> Resp {
        self.send(
            Request::get(uri)
                .header("host", "stac.test")
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    async fn post(&self, uri: &str, body: &str) -> Resp {
        self.send(
            Request::post(uri)
                .header("host", "stac.test")
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }
}

fn ids(r: &Resp) -> Vec<String> {
    r.body["features"]
        .as_array()
        .unwrap_or_else(|| panic!("no features in {}", r.text))
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

fn link<'a>(v: &'a Value, rel: &str) -> Option<&'a Value> {
    v["links"].as_array()?.iter().find(|l| l["rel"] == rel)
}

fn href(v: &Value, rel: &str) -> String {
    link(v, rel).unwrap_or_else(|| panic!("no {rel} link in {v}"))["href"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The path and query of an absolute link on stac.test.
fn local(url: &str) -> String {
    url.strip_prefix("http://stac.test")
        .unwrap_or_else(|| panic!("{url} is not on http://stac.test"))
        .to_string()
}

#[tokio::test]
async fn the_landing_page_links_every_endpoint_and_declares_conformance() {
    let a = api();
    let r = a.get("/").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type, "application/json");
    let b = &r.body;
    assert_eq!(b["type"], "Catalog");
    assert_eq!(b["id"], "test-root");
    assert_eq!(b["title"], "Test catalog");
    for (rel, path) in [
        ("self", "/"),
        ("root", "/"),
        ("conformance", "/conformance"),
        ("data", "/collections"),
        ("search", "/search"),
        ("service-desc", "/api"),
        ("service-doc", "/api.html"),
        (
            "http://www.opengis.net/def/rel/ogc/1.0/queryables",
            "/queryables",
        ),
    ] {
        assert_eq!(href(b, rel), format!("http://stac.test{path}"), "{rel}");
    }
    let methods: Vec<&str> = b["links"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["rel"] == "search")
        .map(|l| l["method"].as_str().unwrap())
        .collect();
    assert_eq!(methods, vec!["GET", "POST"]);
    let children: Vec<&str> = b["links"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["rel"] == "child")
        .map(|l| l["href"].as_str().unwrap())
        .collect();
    assert_eq!(
        children,
        vec![
            "http://stac.test/collections/c1",
            "http://stac.test/collections/c2"
        ]
    );
    let conf = a.get("/conformance").await;
    assert_eq!(conf.body["conformsTo"], b["conformsTo"]);
    let cc: Vec<&str> = b["conformsTo"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for needed in [
        "https://api.stacspec.org/v1.0.0/core",
        "https://api.stacspec.org/v1.0.0/ogcapi-features",
        "https://api.stacspec.org/v1.0.0/collections",
        "https://api.stacspec.org/v1.0.0/item-search",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
        "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    ] {
        assert!(cc.contains(&needed), "{needed}");
    }
}

#[tokio::test]
async fn collections_are_listed_with_absolute_links_and_served_one_by_one() {
    let a = api();
    let r = a.get("/collections").await;
    assert_eq!(r.status, 200);
    assert_eq!(href(&r.body, "self"), "http://stac.test/collections");
    let cs = r.body["collections"].as_array().unwrap();
    assert_eq!(cs.len(), 2);
    let c1 = a.get("/collections/c1").await;
    assert_eq!(c1.status, 200);
    assert_eq!(c1.content_type, "application/json");
    assert_eq!(c1.body["id"], "c1");
    assert_eq!(c1.body["license"], "CC-BY-4.0");
    assert_eq!(href(&c1.body, "self"), "http://stac.test/collections/c1");
    assert_eq!(
        href(&c1.body, "items"),
        "http://stac.test/collections/c1/items"
    );
    assert_eq!(href(&c1.body, "root"), "http://stac.test/");
    assert_eq!(
        href(
            &c1.body,
            "http://www.opengis.net/def/rel/ogc/1.0/queryables"
        ),
        "http://stac.test/collections/c1/queryables"
    );
    // The relative links of the file are gone.
    assert!(!c1.text.contains("catalog.json"), "{}", c1.text);
}

#[tokio::test]
async fn unknown_collections_items_and_paths_are_404_json() {
    let a = api();
    for path in [
        "/collections/nope",
        "/collections/nope/items",
        "/collections/nope/items/a1",
        "/collections/nope/queryables",
        "/collections/c1/items/nope",
        "/collections/c2/items/a1",
        "/nowhere",
    ] {
        let r = a.get(path).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.content_type, "application/json", "{path}");
        assert_eq!(r.body["code"], "NotFound", "{path}");
        let d = r.body["description"].as_str().unwrap();
        assert!(
            d.contains("nope") || d.contains("a1") || d.contains("nowhere"),
            "{path}: {d}"
        );
    }
    let r = a.post("/collections", "{}").await;
    assert_eq!(r.status, 405);
    assert_eq!(r.body["code"], "MethodNotAllowed");
}

#[tokio::test]
async fn an_item_carries_server_links_and_absolute_asset_hrefs() {
    let a = api();
    let r = a.get("/collections/c1/items/a1").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type, "application/geo+json");
    let it = &r.body;
    assert_eq!(it["id"], "a1");
    assert_eq!(it["collection"], "c1");
    assert_eq!(href(it, "self"), "http://stac.test/collections/c1/items/a1");
    assert_eq!(href(it, "parent"), "http://stac.test/collections/c1");
    assert_eq!(href(it, "collection"), "http://stac.test/collections/c1");
    assert_eq!(href(it, "root"), "http://stac.test/");
    assert_eq!(
        href(it, "license"),
        "https://creativecommons.org/licenses/by/4.0/"
    );
    let asset = it["assets"]["data"]["href"].as_str().unwrap();
    assert!(
        asset.starts_with('/') && asset.ends_with("/c1/a1/a1.nc"),
        "{asset}"
    );
}

#[tokio::test]
async fn items_of_a_collection_come_newest_first_and_page_with_next_links() {
    let a = api();
    let r = a.get("/collections/c1/items").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type, "application/geo+json");
    assert_eq!(ids(&r), vec!["a6", "a5", "a4", "a3", "a2", "a1"]);
    assert_eq!(r.body["numberMatched"], 6);
    assert_eq!(r.body["numberReturned"], 6);
    assert_eq!(
        href(&r.body, "self"),
        "http://stac.test/collections/c1/items"
    );
    // Paging, two at a time, to the end and back.
    let mut seen = Vec::new();
    let mut next = Some("/collections/c1/items?limit=2".to_string());
    let mut pages = Vec::new();
    while let Some(u) = next {
        let p = a.get(&u).await;
        assert_eq!(p.status, 200, "{u}: {}", p.text);
        seen.extend(ids(&p));
        next = link(&p.body, "next").map(|l| local(l["href"].as_str().unwrap()));
        pages.push(p);
    }
    assert_eq!(seen, vec!["a6", "a5", "a4", "a3", "a2", "a1"]);
    let last = pages.last().unwrap();
    let prev = local(&href(&last.body, "prev"));
    assert!(prev.contains("limit=2"), "{prev}");
    assert_eq!(ids(&a.get(&prev).await), vec!["a4", "a3"]);
}

#[tokio::test]
async fn search_get_and_post_apply_every_constraint_together() {
    let a = api();
    let cases: Vec<(&str, Value, Vec<&str>)> = vec![
        (
            "bbox=9,44,11.2,45.8",
            json!({"bbox": [9, 44, 11.2, 45.8]}),
            vec!["a2", "a1", "b1"],
        ),
        (
            "collections=c2",
            json!({"collections": ["c2"]}),
            vec!["b4", "b3", "b2", "b1"],
        ),
        (
            "ids=a1,b2,zz",
            json!({"ids": ["a1", "b2", "zz"]}),
            vec!["b2", "a1"],
        ),
        (
            "ids=a1,a3&bbox=9,44,11.2,45.8",
            json!({"ids": ["a1", "a3"], "bbox": [9, 44, 11.2, 45.8]}),
            vec!["a1"],
        ),
        (
            "datetime=2020-09-14T00:00:00Z/2020-09-16T00:00:00Z",
            json!({"datetime": "2020-09-14T00:00:00Z/2020-09-16T00:00:00Z"}),
            vec!["a3", "b2", "a2", "b1"],
        ),
        (
            "datetime=../2020-09-13T12:26:40Z&collections=c1",
            json!({"datetime": "../2020-09-13T12:26:40Z", "collections": ["c1"]}),
            vec!["a1"],
        ),
        (
            "bbox=170,-20,-170,0",
            json!({"bbox": [170, -20, -170, 0]}),
            vec!["a6"],
        ),
    ];
    for (q, body, want) in cases {
        let g = a.get(&format!("/search?{q}")).await;
        assert_eq!(g.status, 200, "{q}: {}", g.text);
        assert_eq!(ids(&g), want, "GET {q}");
        let p = a.post("/search", &body.to_string()).await;
        assert_eq!(p.status, 200, "{body}: {}", p.text);
        assert_eq!(ids(&p), want, "POST {body}");
    }
}

#[tokio::test]
async fn intersects_uses_the_exact_geometry_not_the_box() {
    let a = api();
    // A triangle whose box overlaps a1's footprint (10..11, 45..46) while the
    // triangle itself stays below y = 44.4 west of x = 11; it does reach b1.
    let tri = json!({"type": "Polygon", "coordinates": [[[10.6, 44.0], [12.0, 44.0], [12.0, 45.4], [10.6, 44.0]]]});
    let r = a
        .post("/search", &json!({"intersects": tri}).to_string())
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(ids(&r), vec!["b1"]);
    let r = a.get("/search?bbox=10.6,44,12,45.4").await;
    assert_eq!(ids(&r), vec!["a1", "b1"]);
    let point = json!({"type": "Point", "coordinates": [100.3, 0.3]});
    let r = a
        .get(&format!(
            "/search?intersects={}",
            urlencode(&point.to_string())
        ))
        .await;
    assert_eq!(ids(&r), vec!["a4", "b2"]);
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn post_search_pages_with_merge_links() {
    let a = api();
    let mut body = json!({"limit": 3});
    let mut seen = Vec::new();
    for _ in 0..10 {
        let r = a.post("/search", &body.to_string()).await;
        assert_eq!(r.status, 200, "{}", r.text);
        seen.extend(ids(&r));
        let Some(n) = link(&r.body, "next") else {
            break;
        };
        assert_eq!(n["method"], "POST");
        assert_eq!(n["merge"], true);
        for (k, v) in n["body"].as_object().unwrap() {
            body[k] = v.clone();
        }
    }
    assert_eq!(seen.len(), 10);
    let mut uniq = seen.clone();
    uniq.sort();
    uniq.dedup();
    assert_eq!(uniq.len(), 10);
}

#[tokio::test]
async fn cql2_text_and_json_filters_select_the_same_items() {
    let a = api();
    let cases: Vec<(&str, Value, Vec<&str>)> = vec![
        (
            "eo:cloud_cover < 10",
            json!({"op": "<", "args": [{"property": "eo:cloud_cover"}, 10]}),
            vec!["a6", "a5", "a1"],
        ),
        (
            "platform LIKE 'sentinel-2%' AND collection = 'c1'",
            json!({"op": "and", "args": [{"op": "like", "args": [{"property": "platform"}, "sentinel-2%"]}, {"op": "=", "args": [{"property": "collection"}, "c1"]}]}),
            vec!["a5", "a2", "a1"],
        ),
        (
            "eo:cloud_cover IS NULL",
            json!({"op": "isNull", "args": [{"property": "eo:cloud_cover"}]}),
            vec!["a4", "b2"],
        ),
        (
            "S_INTERSECTS(geometry, BBOX(100, 0, 101, 1)) AND T_AFTER(datetime, TIMESTAMP('2020-09-14T00:00:00Z'))",
            json!({"op": "and", "args": [
                {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [100, 0, 101, 1]}]},
                {"op": "t_after", "args": [{"property": "datetime"}, {"timestamp": "2020-09-14T00:00:00Z"}]}]}),
            vec!["a4", "b2"],
        ),
        (
            "A_CONTAINS(tags, ('model'))",
            json!({"op": "a_contains", "args": [{"property": "tags"}, ["model"]]}),
            vec!["b2", "b1"],
        ),
    ];
    for (text, j, want) in cases {
        let g = a.get(&format!("/search?filter={}", urlencode(text))).await;
        assert_eq!(g.status, 200, "{text}: {}", g.text);
        assert_eq!(ids(&g), want, "text {text}");
        let p = a
            .post(
                "/search",
                &json!({"filter": j, "filter-lang": "cql2-json"}).to_string(),
            )
            .await;
        assert_eq!(p.status, 200, "{j}: {}", p.text);
        assert_eq!(ids(&p), want, "json {j}");
        let gj = a
            .get(&format!(
                "/search?filter-lang=cql2-json&filter={}",
                urlencode(&j.to_string())
            ))
            .await;
        assert_eq!(ids(&gj), want, "GET json {j}");
        let items = a
            .get(&format!("/collections/c2/items?filter={}", urlencode(text)))
            .await;
        let want_c2: Vec<&str> = want
            .iter()
            .copied()
            .filter(|i| i.starts_with('b'))
            .collect();
        assert_eq!(ids(&items), want_c2, "items {text}");
    }
}

#[tokio::test]
async fn sortby_orders_by_a_property_with_missing_values_last() {
    let a = api();
    let r = a
        .get("/search?sortby=%2Beo:cloud_cover&collections=c1")
        .await;
    assert_eq!(ids(&r), vec!["a6", "a1", "a5", "a2", "a3", "a4"]);
    let r = a
        .post("/search", &json!({"collections": ["c1"], "sortby": [{"field": "properties.eo:cloud_cover", "direction": "desc"}]}).to_string())
        .await;
    // Missing sorts after every value: first when descending (PostgreSQL's rule).
    assert_eq!(ids(&r), vec!["a4", "a3", "a2", "a5", "a1", "a6"]);
    let r = a.get("/search?sortby=id&limit=3").await;
    assert_eq!(ids(&r), vec!["a1", "a2", "a3"]);
    let r = a.get(&local(&href(&r.body, "next"))).await;
    assert_eq!(ids(&r), vec!["a4", "a5", "a6"]);
    let r = a.get("/search?sortby=-datetime&limit=1").await;
    assert_eq!(ids(&r), vec!["b4"]);
}

#[tokio::test]
async fn fields_include_and_exclude_shape_the_items() {
    let a = api();
    let r = a.get("/search?ids=a1&fields=").await;
    let f = &r.body["features"][0];
    for k in [
        "type",
        "stac_version",
        "id",
        "geometry",
        "bbox",
        "links",
        "assets",
    ] {
        assert!(f.get(k).is_some(), "{k} missing from {f}");
    }
    assert_eq!(f["properties"], json!({"datetime": "2020-09-13T12:26:40Z"}));
    let r = a
        .get("/search?ids=a1&fields=properties.eo:cloud_cover")
        .await;
    let f = &r.body["features"][0];
    assert_eq!(f["properties"], json!({"eo:cloud_cover": 5.0}));
    assert!(f.get("geometry").is_none());
    assert!(f.get("links").is_some());
    let r = a
        .post(
            "/search",
            &json!({"ids": ["a1"], "fields": {"exclude": ["geometry", "links"]}}).to_string(),
        )
        .await;
    let f = &r.body["features"][0];
    assert!(f.get("geometry").is_none() && f.get("links").is_none());
    assert!(f.get("assets").is_some() && f["properties"].get("platform").is_some());
}

#[tokio::test]
async fn queryables_describe_the_properties_with_their_types() {
    let a = api();
    let r = a.get("/queryables").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type, "application/schema+json");
    assert_eq!(r.body["$id"], "http://stac.test/queryables");
    assert_eq!(r.body["type"], "object");
    assert_eq!(
        r.body["$schema"],
        "https://json-schema.org/draft/2019-09/schema"
    );
    let p = &r.body["properties"];
    assert_eq!(p["eo:cloud_cover"]["type"], "number");
    assert_eq!(p["platform"]["type"], "string");
    assert_eq!(p["tags"]["type"], "array");
    assert_eq!(p["start_datetime"]["format"], "date-time");
    for k in ["id", "collection", "geometry", "datetime"] {
        assert!(p.get(k).is_some(), "{k}");
    }
    let r = a.get("/collections/c1/queryables").await;
    assert_eq!(r.body["$id"], "http://stac.test/collections/c1/queryables");
    assert!(
        r.body["properties"].get("start_datetime").is_none(),
        "c1 has no ranges"
    );
}

#[tokio::test]
async fn malformed_searches_are_400_with_a_json_description() {
    let a = api();
    let gets = [
        "bbox=%5B100.0,%200.0,%20105.0,%201.0%5D",
        "bbox=100.0,1.0,105.0,0.0",
        "bbox=0,0,0",
        "bbox=0,0,0,1,1",
        "bbox=0,0,1,1&intersects=%7B%22type%22%3A%22Point%22%2C%22coordinates%22%3A%5B0%2C0%5D%7D",
        "intersects=notjson",
        "intersects=%7B%22type%22%3A%22Blob%22%7D",
        "datetime=/",
        "datetime=../..",
        "datetime=1985-04-12",
        "datetime=1985-12-12T23:20:50.52",
        "datetime=1986-04-12T23:20:50.52Z/1985-04-12T23:20:50.52Z",
        "limit=-1",
        "limit=0",
        "limit=ten",
        "filter=eo:cloud_cover%20%3C",
        "filter=foo(x)%20%3D%201",
        "filter-lang=cql3&filter=x%3D1",
        "filter-crs=EPSG:4326&filter=x%3D1",
        "filter-lang=cql2-json&filter=%7Bnot%20json",
        "token=bogus",
        "query=%7B%7D",
        "limit=1&limit=2",
    ];
    for q in gets {
        let r = a.get(&format!("/search?{q}")).await;
        assert_eq!(r.status, 400, "{q}: {}", r.text);
        assert_eq!(r.content_type, "application/json", "{q}");
        assert_eq!(r.body["code"], "InvalidParameterValue", "{q}");
        assert!(r.body["description"].as_str().unwrap().len() > 20, "{q}");
    }
    let bodies = [
        r#"{"bbox": "100.0, 0.0, 105.0, 1.0"}"#,
        r#"{"bbox": [0, 0, 1, 1], "intersects": {"type": "Point", "coordinates": [0, 0]}}"#,
        r#"{"limit": -1}"#,
        r#"{"limit": 1.5}"#,
        r#"{"ids": "a1"}"#,
        r#"{"collections": [1]}"#,
        r#"{"datetime": 5}"#,
        r#"{"filter": {"op": "=", "args": [{"property": "x"}]}}"#,
        r#"{"filter": "x = 1", "filter-lang": "cql2-json"}"#,
        r#"{"sortby": [{"field": "x", "direction": "up"}]}"#,
        r#"{"fields": {"include": "id"}}"#,
        r#"{"token": "bogus"}"#,
    ];
    for b in bodies {
        let r = a.post("/search", b).await;
        assert_eq!(r.status, 400, "{b}: {}", r.text);
        assert_eq!(r.body["code"], "InvalidParameterValue", "{b}");
    }
    for (b, code) in [
        ("{not json", "InvalidRequestBody"),
        ("[1, 2]", "InvalidRequestBody"),
    ] {
        let r = a.post("/search", b).await;
        assert_eq!(r.status, 400, "{b}");
        assert_eq!(r.body["code"], code, "{b}");
    }
    let r = a.get("/collections/c1/items?bbox=1,2").await;
    assert_eq!(r.status, 400);
    let r = a.get("/collections/c1/items?limit=100000").await;
    assert_eq!(
        r.status, 200,
        "a limit above the maximum is served as the maximum"
    );
}

#[tokio::test]
async fn forwarded_headers_and_a_configured_base_set_the_links() {
    let a = api();
    let r = a
        .send(
            Request::get("/collections")
                .header("host", "internal:8080")
                .header("x-forwarded-proto", "https")
                .header("x-forwarded-host", "example.com")
                .header("x-forwarded-prefix", "/stac/")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        href(&r.body, "self"),
        "https://example.com/stac/collections"
    );
    let r = a
        .send(
            Request::get("/")
                .header("forwarded", "for=1.2.3.4;proto=https;host=api.example.org")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(href(&r.body, "data"), "https://api.example.org/collections");
    let r = a.send(Request::get("/").body(Body::empty()).unwrap()).await;
    assert_eq!(href(&r.body, "data"), "http://fallback.invalid/collections");
    let b = api_with(ServerConfig {
        base_url: Some("https://public.example/api/".into()),
        ..ServerConfig::default()
    });
    let r = b.get("/collections/c1/items/a1").await;
    assert_eq!(
        href(&r.body, "self"),
        "https://public.example/api/collections/c1/items/a1"
    );
}

#[tokio::test]
async fn the_service_description_and_page_are_served() {
    let a = api();
    let r = a.get("/api").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.content_type,
        "application/vnd.oai.openapi+json;version=3.0"
    );
    assert_eq!(r.body["openapi"], "3.0.3");
    assert_eq!(r.body["servers"][0]["url"], "http://stac.test");
    for p in [
        "/",
        "/conformance",
        "/collections",
        "/collections/{collectionId}",
        "/collections/{collectionId}/items",
        "/collections/{collectionId}/items/{itemId}",
        "/search",
        "/queryables",
        "/collections/{collectionId}/queryables",
    ] {
        assert!(r.body["paths"].get(p).is_some(), "{p}");
    }
    let h = a.get("/api.html").await;
    assert_eq!(h.status, 200);
    assert!(h.content_type.starts_with("text/html"));
    assert!(h.text.contains("http://stac.test/api"));
    let z = a.get("/healthz").await;
    assert_eq!(
        z.body,
        json!({"status": "ok", "backend": "embedded", "detail": {"collections": 2, "items": 10}})
    );
}

#[tokio::test]
async fn cors_headers_appear_only_when_configured() {
    let a = api();
    let r = a
        .send(
            Request::get("/")
                .header("origin", "https://browser.example")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(r.headers.get("access-control-allow-origin").is_none());
    let b = api_with(ServerConfig {
        cors: Cors::Any,
        ..ServerConfig::default()
    });
    let r = b
        .send(
            Request::get("/")
                .header("origin", "https://browser.example")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.headers.get("access-control-allow-origin").unwrap(), "*");
    let c = api_with(ServerConfig {
        cors: Cors::parse("https://ok.example").unwrap(),
        ..ServerConfig::default()
    });
    let ok = c
        .send(
            Request::get("/")
                .header("origin", "https://ok.example")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        ok.headers.get("access-control-allow-origin").unwrap(),
        "https://ok.example"
    );
    let no = c
        .send(
            Request::get("/")
                .header("origin", "https://other.example")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(no.headers.get("access-control-allow-origin").is_none());
    assert!(Cors::parse("not an origin").is_err());
}

#[tokio::test]
async fn an_undecodable_path_is_a_json_400() {
    let a = api();
    for path in [
        "/collections/%FF",
        "/collections/%FF/items",
        "/collections/c1/items/%FF%FE",
    ] {
        let r = a.get(path).await;
        assert_eq!(r.status, 400, "{path}: {}", r.text);
        assert_eq!(r.content_type, "application/json", "{path}");
        assert_eq!(r.body["code"], "InvalidParameterValue", "{path}");
    }
    // Percent-encoded ids are read: this one does not exist.
    let r = a.get("/collections/c%201").await;
    assert_eq!(r.status, 404);
    assert!(r.body["description"].as_str().unwrap().contains("'c 1'"));
}
