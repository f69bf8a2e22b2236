//! Server operations through a test router in process (tower `oneshot`):
//! Prometheus metrics, auth (API keys, HS256/RS256/ES256 JWTs), HTTP
//! caching (ETag, 304, Cache-Control), and the request log.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arco_server::auth::{self, Access, AuthConfig};
use arco_server::httpcache::{self, CacheConfig};
use arco_server::logging::{self, LogFormat};
use arco_server::metrics::{self, Metrics};
use axum::body::Body;
use axum::extract::Path;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tower::ServiceExt;

const COLLECTIONS: [&str; 3] = ["a", "b", "pub"];
const SECRET: &str = "a test-only HS256 secret of 32+ bytes, never used elsewhere";

// ---------------------------------------------------------------------------
// The test router: stand-ins for the real endpoints, with the layers in the
// order the server uses.

async fn list(access: Access) -> Response {
    let mut ids: Vec<&str> = COLLECTIONS.to_vec();
    access.retain(&mut ids, |c| c);
    axum::Json(json!({ "collections": ids })).into_response()
}

async fn search(access: Access, q: axum::extract::RawQuery) -> Response {
    let requested = q.0.and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "collections")
            .map(|(_, v)| v.split(',').map(str::to_string).collect::<Vec<_>>())
    });
    axum::Json(json!({ "scope": access.restrict(requested) })).into_response()
}

async fn collection(Path(id): Path<String>) -> Response {
    axum::Json(json!({ "id": id })).into_response()
}

async fn tile(Path((id, z)): Path<(String, String)>) -> Response {
    // 1000 bytes that depend on the path.
    let mut body = format!("tile {id} {z} ").into_bytes();
    body.resize(1000, b'.');
    ([(header::CONTENT_TYPE, "image/png")], body).into_response()
}

async fn zarr(Path((id, rest)): Path<(String, String)>) -> Response {
    axum::Json(json!({ "zarr": id, "key": rest })).into_response()
}

async fn versioned() -> Response {
    (
        [(
            header::ETAG,
            httpcache::version_etag(&["mtime=1700000000", "size=42"]),
        )],
        "a body the middleware must not hash",
    )
        .into_response()
}

async fn streamed() -> Response {
    let chunks: Vec<Result<axum::body::Bytes, std::io::Error>> = vec![
        Ok(axum::body::Bytes::from_static(b"first ")),
        Ok(axum::body::Bytes::from_static(b"second")),
    ];
    Response::new(Body::from_stream(futures::stream::iter(chunks)))
}

async fn boom() -> Response {
    arco_server::ApiError::internal("a test failure").into_response()
}

async fn not_found() -> Response {
    arco_server::ApiError::not_found("no such path").into_response()
}

fn endpoints() -> Router {
    Router::new()
        .route("/", get(|| async { "landing" }))
        .route("/healthz", get(|| async { "ok" }))
        .route("/collections", get(list))
        .route("/search", get(search))
        .route("/collections/{collection_id}", get(collection))
        .route(
            "/collections/{collection_id}/tiles/WebMercatorQuad/{z}",
            get(tile),
        )
        .route("/zarr/{id}/{*rest}", get(zarr))
        .route("/viewer/app.js", get(|| async { "console.log(1)" }))
        .route("/versioned", get(versioned))
        .route("/streamed", get(streamed))
        .route("/boom", get(boom))
        .fallback(not_found)
}

fn app_with(auth: Option<Arc<AuthConfig>>, metrics: Metrics) -> Router {
    let r = endpoints().merge(metrics::router(metrics.clone()));
    let r = httpcache::apply(r, Arc::new(CacheConfig::default()));
    let r = match auth {
        Some(a) => auth::protect(r, a),
        None => r,
    };
    let r = metrics::instrument(r, metrics);
    logging::log_requests(r)
}

fn app() -> (Router, Metrics) {
    let m = Metrics::new();
    (app_with(None, m.clone()), m)
}

struct Resp {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }
}

async fn send(app: &Router, req: Request<Body>) -> Resp {
    let r = app.clone().oneshot(req).await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let body = r.into_body().collect().await.unwrap().to_bytes().to_vec();
    Resp {
        status,
        headers,
        body,
    }
}

async fn get_with(app: &Router, uri: &str, headers: &[(&str, &str)]) -> Resp {
    let mut b = Request::get(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    send(app, b.body(Body::empty()).unwrap()).await
}

async fn get_(app: &Router, uri: &str) -> Resp {
    get_with(app, uri, &[]).await
}

// ---------------------------------------------------------------------------
// A Prometheus text parser, strict enough to catch malformed output.

#[derive(Debug, Default)]
struct Scrape {
    types: HashMap<String, String>,
    helps: HashMap<String, String>,
    /// (name, labels) → value
    samples: Vec<(String, BTreeMap<String, String>, f64)>,
}

fn parse_labels(s: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = s;
    while !rest.is_empty() {
        let (k, after) = rest.split_once("=\"").expect("label name then =\"");
        assert!(
            k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "bad label name {k:?}"
        );
        let mut value = String::new();
        let mut chars = after.char_indices();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c)) => value.push(c),
                    None => panic!("dangling escape"),
                },
                '"' => {
                    end = Some(i);
                    break;
                }
                c => value.push(c),
            }
        }
        let end = end.expect("closing quote");
        out.insert(k.to_string(), value);
        rest = after[end + 1..].trim_start_matches(',');
    }
    out
}

fn parse_scrape(text: &str) -> Scrape {
    let mut s = Scrape::default();
    for line in text.lines() {
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap();
            assert!(
                s.helps.insert(name.into(), help.into()).is_none(),
                "two HELP for {name}"
            );
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, ty) = rest.split_once(' ').unwrap();
            assert!(["counter", "gauge", "histogram"].contains(&ty), "type {ty}");
            assert!(
                s.types.insert(name.into(), ty.into()).is_none(),
                "two TYPE for {name}"
            );
            continue;
        }
        assert!(!line.starts_with('#'), "unexpected comment {line}");
        let (series, value) = line.rsplit_once(' ').unwrap();
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("value in {line}"));
        let (name, labels) = match series.split_once('{') {
            Some((n, l)) => (n, parse_labels(l.strip_suffix('}').unwrap())),
            None => (series, BTreeMap::new()),
        };
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suf| {
                name.strip_suffix(suf)
                    .filter(|b| s.types.get(*b).is_some_and(|t| t == "histogram"))
            })
            .unwrap_or(name);
        assert!(
            s.types.contains_key(family),
            "sample {name} comes before its # TYPE"
        );
        s.samples.push((name.to_string(), labels, value));
    }
    s
}

impl Scrape {
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.samples
            .iter()
            .find(|(n, l, _)| {
                n == name
                    && l.len() == labels.len()
                    && labels
                        .iter()
                        .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|(_, _, v)| *v)
    }
    fn all(&self, name: &str) -> Vec<&(String, BTreeMap<String, String>, f64)> {
        self.samples.iter().filter(|(n, _, _)| n == name).collect()
    }
}

async fn scrape(app: &Router) -> Scrape {
    let r = get_(app, "/metrics").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.header("content-type").unwrap(),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    parse_scrape(&r.text())
}

// ---------------------------------------------------------------------------
// Metrics

const COLL_ROUTE: &str = "/collections/{collection_id}";

#[tokio::test]
async fn requests_are_counted_by_route_template_method_and_status() {
    let (app, _) = app();
    get_(&app, "/collections/a").await;
    get_(&app, "/collections/b").await;
    get_(&app, "/collections/a").await;
    get_(&app, "/no/such/path").await;
    let s = scrape(&app).await;
    assert_eq!(s.types["arco_http_requests_total"], "counter");
    assert_eq!(
        s.value(
            "arco_http_requests_total",
            &[("route", COLL_ROUTE), ("method", "GET"), ("status", "200")]
        ),
        Some(3.0)
    );
    assert_eq!(
        s.value(
            "arco_http_requests_total",
            &[("route", "unmatched"), ("method", "GET"), ("status", "404")]
        ),
        Some(1.0)
    );
    // The raw path never becomes a label.
    for (_, labels, _) in &s.samples {
        if let Some(r) = labels.get("route") {
            assert!(!r.contains("/collections/a"), "raw path in {labels:?}");
        }
    }
}

#[tokio::test]
async fn counters_only_grow_between_scrapes() {
    let (app, _) = app();
    get_(&app, "/collections/a").await;
    let first = scrape(&app).await;
    get_(&app, "/collections/a").await;
    get_(&app, "/collections/a/tiles/WebMercatorQuad/3").await;
    let second = scrape(&app).await;
    for (name, labels, v) in &first.samples {
        if name.ends_with("_total") || name.ends_with("_count") || name.ends_with("_bucket") {
            let l: Vec<(&str, &str)> = labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let later = second
                .value(name, &l)
                .unwrap_or_else(|| panic!("{name} {labels:?} vanished"));
            assert!(later >= *v, "{name} {labels:?} went from {v} to {later}");
        }
    }
    let l = [("route", COLL_ROUTE), ("method", "GET"), ("status", "200")];
    assert_eq!(first.value("arco_http_requests_total", &l), Some(1.0));
    assert_eq!(second.value("arco_http_requests_total", &l), Some(2.0));
}

#[tokio::test]
async fn the_duration_histogram_is_cumulative_and_its_inf_bucket_is_its_count() {
    let (app, _) = app();
    for _ in 0..5 {
        get_(&app, "/collections/a/tiles/WebMercatorQuad/1").await;
    }
    get_(&app, "/collections/b").await;
    let s = scrape(&app).await;
    assert_eq!(s.types["arco_http_request_duration_seconds"], "histogram");
    let mut routes = 0;
    for (_, labels, count) in s.all("arco_http_request_duration_seconds_count") {
        routes += 1;
        let route = &labels["route"];
        let mut buckets: Vec<(f64, f64)> = s
            .all("arco_http_request_duration_seconds_bucket")
            .into_iter()
            .filter(|(_, l, _)| &l["route"] == route)
            .map(|(_, l, v)| {
                let le = if l["le"] == "+Inf" {
                    f64::INFINITY
                } else {
                    l["le"].parse().unwrap()
                };
                (le, *v)
            })
            .collect();
        assert_eq!(buckets.len(), metrics::DURATION_BUCKETS.len() + 1);
        buckets.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap());
        assert_eq!(buckets[0].0, 0.001);
        assert_eq!(buckets[buckets.len() - 2].0, 10.0);
        for w in buckets.windows(2) {
            assert!(
                w[0].1 <= w[1].1,
                "buckets of {route} not cumulative: {buckets:?}"
            );
        }
        let inf = buckets.last().unwrap();
        assert!(inf.0.is_infinite());
        assert_eq!(inf.1, *count, "+Inf bucket != count for {route}");
        let sum = s
            .value(
                "arco_http_request_duration_seconds_sum",
                &[("route", route)],
            )
            .unwrap();
        assert!(sum >= 0.0);
    }
    assert!(routes >= 2);
    assert_eq!(
        s.value(
            "arco_http_request_duration_seconds_count",
            &[(
                "route",
                "/collections/{collection_id}/tiles/WebMercatorQuad/{z}"
            )]
        ),
        Some(5.0)
    );
}

#[tokio::test]
async fn response_bytes_are_counted_per_route_streamed_bodies_included() {
    let (app, _) = app();
    get_(&app, "/collections/a/tiles/WebMercatorQuad/1").await;
    get_(&app, "/collections/a/tiles/WebMercatorQuad/2").await;
    let r = get_(&app, "/streamed").await;
    assert_eq!(r.text(), "first second");
    let s = scrape(&app).await;
    assert_eq!(
        s.value(
            "arco_http_response_bytes_total",
            &[(
                "route",
                "/collections/{collection_id}/tiles/WebMercatorQuad/{z}"
            )]
        ),
        Some(2000.0)
    );
    assert_eq!(
        s.value("arco_http_response_bytes_total", &[("route", "/streamed")]),
        Some(12.0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_on_many_threads_add_up_exactly() {
    let (app, m) = app();
    let tasks: Vec<_> = (0..400)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                let uri = format!("/collections/a/tiles/WebMercatorQuad/{}", i % 7);
                get_(&app, &uri).await.status
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::OK);
    }
    let route = "/collections/{collection_id}/tiles/WebMercatorQuad/{z}";
    let s = parse_scrape(&m.render());
    assert_eq!(
        s.value(
            "arco_http_requests_total",
            &[("route", route), ("method", "GET"), ("status", "200")]
        ),
        Some(400.0)
    );
    assert_eq!(
        s.value(
            "arco_http_request_duration_seconds_bucket",
            &[("route", route), ("le", "+Inf")]
        ),
        Some(400.0)
    );
    assert_eq!(
        s.value("arco_http_response_bytes_total", &[("route", route)]),
        Some(400_000.0)
    );
    assert_eq!(m.in_flight(), 0);
}

#[tokio::test]
async fn unknown_methods_do_not_make_new_series() {
    let (app, _) = app();
    for m in ["FOO", "BAR", "BAZ"] {
        let req = Request::builder()
            .method(Method::from_bytes(m.as_bytes()).unwrap())
            .uri("/collections/a")
            .body(Body::empty())
            .unwrap();
        send(&app, req).await;
    }
    let s = scrape(&app).await;
    let methods: Vec<&String> = s
        .all("arco_http_requests_total")
        .iter()
        .map(|(_, l, _)| &l["method"])
        .collect();
    assert!(methods
        .iter()
        .all(|m| !["FOO", "BAR", "BAZ"].contains(&m.as_str())));
    let other: f64 = s
        .all("arco_http_requests_total")
        .iter()
        .filter(|(_, l, _)| l["method"] == "other")
        .map(|(_, _, v)| v)
        .sum();
    assert_eq!(other, 3.0);
}

#[tokio::test]
async fn requests_in_flight_are_counted_until_answered() {
    let m = Metrics::new();
    let (entered_tx, entered_rx) = tokio::sync::oneshot::channel::<()>();
    let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();
    let entered = Arc::new(std::sync::Mutex::new(Some(entered_tx)));
    let release = Arc::new(tokio::sync::Mutex::new(Some(release_rx)));
    let slow = get(move || {
        let entered = Arc::clone(&entered);
        let release = Arc::clone(&release);
        async move {
            if let Some(tx) = entered.lock().unwrap().take() {
                tx.send(()).unwrap();
            }
            if let Some(rx) = release.lock().await.take() {
                rx.await.unwrap();
            }
            "done"
        }
    });
    let app = metrics::instrument(Router::new().route("/slow", slow), m.clone());
    let task = tokio::spawn({
        let app = app.clone();
        async move { get_(&app, "/slow").await }
    });
    entered_rx.await.unwrap();
    assert_eq!(m.in_flight(), 1);
    assert!(m.render().contains("\narco_http_requests_in_flight 1\n"));
    release_tx.send(()).unwrap();
    let r = task.await.unwrap();
    assert_eq!(r.text(), "done");
    assert_eq!(m.in_flight(), 0);
    assert!(m.render().contains("\narco_http_requests_in_flight 0\n"));
}

#[tokio::test]
async fn registered_callbacks_are_read_at_scrape_time() {
    let (app, m) = app();
    let hits = Arc::new(std::sync::atomic::AtomicU64::new(7));
    let h = Arc::clone(&hits);
    m.register_counter_fn(
        "arco_cache_hits_total",
        "Chunk cache hits.",
        &[],
        move || h.load(std::sync::atomic::Ordering::Relaxed),
    )
    .unwrap();
    m.register_gauge_fn("arco_cache_bytes", "Bytes held.", &[], || 1 << 20)
        .unwrap();
    m.register_counter_fn(
        "arco_storage_requests_total",
        "Storage requests.",
        &[("backend", "local")],
        || 3,
    )
    .unwrap();
    m.register_counter_fn(
        "arco_storage_requests_total",
        "Storage requests.",
        &[("backend", "s3 \"eu\"")],
        || 4,
    )
    .unwrap();
    let s = scrape(&app).await;
    assert_eq!(s.types["arco_cache_hits_total"], "counter");
    assert_eq!(s.types["arco_cache_bytes"], "gauge");
    assert_eq!(s.value("arco_cache_hits_total", &[]), Some(7.0));
    assert_eq!(s.value("arco_cache_bytes", &[]), Some(1048576.0));
    assert_eq!(
        s.value("arco_storage_requests_total", &[("backend", "local")]),
        Some(3.0)
    );
    assert_eq!(
        s.value("arco_storage_requests_total", &[("backend", "s3 \"eu\"")]),
        Some(4.0)
    );
    hits.store(9, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(
        scrape(&app).await.value("arco_cache_hits_total", &[]),
        Some(9.0)
    );
}

#[test]
fn callbacks_with_bad_names_or_clashes_are_refused() {
    use metrics::MetricsError;
    let m = Metrics::new();
    assert!(matches!(
        m.register_counter_fn("9lives", "", &[], || 0),
        Err(MetricsError::InvalidName(_))
    ));
    assert!(matches!(
        m.register_counter_fn("ok_total", "", &[("bad-label", "x")], || 0),
        Err(MetricsError::InvalidName(_))
    ));
    assert!(matches!(
        m.register_counter_fn("arco_http_requests_total", "", &[], || 0),
        Err(MetricsError::Reserved(_))
    ));
    m.register_counter_fn("x_total", "", &[], || 0).unwrap();
    assert!(matches!(
        m.register_counter_fn("x_total", "", &[], || 0),
        Err(MetricsError::Duplicate { .. })
    ));
    assert!(matches!(
        m.register_gauge_fn("x_total", "", &[("a", "b")], || 0),
        Err(MetricsError::TypeConflict { .. })
    ));
}

// ---------------------------------------------------------------------------
// Auth

fn data(name: &str) -> String {
    format!("{}/tests/data/auth/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn auth_from(toml: &str) -> Arc<AuthConfig> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("auth.toml");
    std::fs::write(&path, toml).unwrap();
    Arc::new(AuthConfig::from_file(&path).unwrap_or_else(|e| panic!("{e}")))
}

fn auth_err(toml: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("auth.toml");
    std::fs::write(&path, toml).unwrap();
    AuthConfig::from_file(&path).unwrap_err().to_string()
}

fn standard_auth() -> String {
    let mut s = format!(
        r#"
public_collections = ["pub"]

[[api_keys]]
name = "reader-a"
key = "{}"
collections = ["a"]

[[api_keys]]
name = "plain"
key = "plain-test-key"
collections = ["b"]

[[api_keys]]
name = "admin"
key = "admin-test-key"
collections = ["*"]
"#,
        auth::hash_key("key-for-a"),
    );
    if cfg!(feature = "jwt") {
        s.push_str(&format!(
            r#"
[jwt]
secret = "{SECRET}"
jwks_file = "{}"
issuer = "https://issuer.test"
audience = "arco"
leeway_seconds = 5
"#,
            data("jwks.json")
        ));
    }
    s
}

fn protected() -> Router {
    app_with(Some(auth_from(&standard_auth())), Metrics::new())
}

#[cfg(feature = "jwt")]
mod jwt {
    use super::*;
    use jsonwebtoken::{Algorithm, EncodingKey, Header};

    fn now() -> u64 {
        jsonwebtoken::get_current_timestamp()
    }

    fn claims(collections: Value) -> Value {
        json!({
            "sub": "alice",
            "iss": "https://issuer.test",
            "aud": "arco",
            "exp": now() + 600,
            "collections": collections,
        })
    }

    fn hs256(claims: &Value, secret: &str) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    fn signed(alg: Algorithm, kid: Option<&str>, pem_file: &str, claims: &Value) -> String {
        let pem = std::fs::read(data(pem_file)).unwrap();
        let key = match alg {
            Algorithm::ES256 => EncodingKey::from_ec_pem(&pem).unwrap(),
            _ => EncodingKey::from_rsa_pem(&pem).unwrap(),
        };
        let mut h = Header::new(alg);
        h.kid = kid.map(str::to_string);
        jsonwebtoken::encode(&h, claims, &key).unwrap()
    }

    fn bearer(token: &str) -> String {
        format!("Bearer {token}")
    }

    #[tokio::test]
    async fn an_hs256_token_reads_its_collections_and_no_other() {
        let app = protected();
        let t = hs256(&claims(json!(["a"])), SECRET);
        let r = get_with(&app, "/collections/a", &[("authorization", &bearer(&t))]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["id"], "a");
        let r = get_with(&app, "/collections/b", &[("authorization", &bearer(&t))]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(r.json()["code"], "Forbidden");
        assert!(r.json()["description"].as_str().unwrap().contains("'b'"));
        // The public collection is readable with any valid credentials.
        let r = get_with(&app, "/collections/pub", &[("authorization", &bearer(&t))]).await;
        assert_eq!(r.status, StatusCode::OK);
    }

    #[tokio::test]
    async fn an_expired_token_is_refused_with_401_saying_so() {
        let app = protected();
        let mut c = claims(json!(["a"]));
        c["exp"] = json!(now() - 3600);
        let r = get_with(
            &app,
            "/collections/a",
            &[("authorization", &bearer(&hs256(&c, SECRET)))],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.json()["code"], "Unauthorized");
        assert!(r.json()["description"]
            .as_str()
            .unwrap()
            .contains("expired"));
        let challenge = r.header("www-authenticate").unwrap();
        assert!(challenge.starts_with("Bearer"), "{challenge}");
        assert!(challenge.contains("invalid_token"), "{challenge}");
    }

    #[tokio::test]
    async fn a_token_for_another_audience_or_issuer_is_refused() {
        let app = protected();
        let mut c = claims(json!(["a"]));
        c["aud"] = json!("someone-else");
        let r = get_with(
            &app,
            "/collections/a",
            &[("authorization", &bearer(&hs256(&c, SECRET)))],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.json()["description"]
            .as_str()
            .unwrap()
            .contains("audience"));
        let mut c = claims(json!(["a"]));
        c["iss"] = json!("https://evil.test");
        let r = get_with(
            &app,
            "/collections/a",
            &[("authorization", &bearer(&hs256(&c, SECRET)))],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.json()["description"].as_str().unwrap().contains("issuer"));
    }

    #[tokio::test]
    async fn a_token_signed_with_another_secret_is_refused() {
        let app = protected();
        let t = hs256(
            &claims(json!("*")),
            "another secret, also 32 bytes or more long",
        );
        let r = get_with(&app, "/collections/a", &[("authorization", &bearer(&t))]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.json()["description"]
            .as_str()
            .unwrap()
            .contains("signature"));
    }

    #[tokio::test]
    async fn a_token_not_yet_valid_is_refused() {
        let app = protected();
        let mut c = claims(json!(["a"]));
        c["nbf"] = json!(now() + 3600);
        let r = get_with(
            &app,
            "/collections/a",
            &[("authorization", &bearer(&hs256(&c, SECRET)))],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }

    #[tokio::test]
    async fn rs256_and_es256_tokens_verify_with_the_jwks_file_by_kid() {
        let app = protected();
        let rs = signed(
            Algorithm::RS256,
            Some("test-rsa"),
            "rsa-private.pem",
            &claims(json!(["a"])),
        );
        let r = get_with(&app, "/collections/a", &[("authorization", &bearer(&rs))]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let r = get_with(&app, "/collections/b", &[("authorization", &bearer(&rs))]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let es = signed(
            Algorithm::ES256,
            Some("test-ec"),
            "ec-private.pem",
            &claims(json!("*")),
        );
        let r = get_with(&app, "/collections/b", &[("authorization", &bearer(&es))]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        // A second use comes from the verified-token cache and answers alike.
        let r = get_with(&app, "/collections/b", &[("authorization", &bearer(&es))]).await;
        assert_eq!(r.status, StatusCode::OK);
    }

    #[tokio::test]
    async fn an_rs256_token_from_a_key_outside_the_jwks_is_refused() {
        let app = protected();
        let rogue = signed(
            Algorithm::RS256,
            Some("test-rsa"),
            "rogue-rsa-private.pem",
            &claims(json!("*")),
        );
        let r = get_with(
            &app,
            "/collections/a",
            &[("authorization", &bearer(&rogue))],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.json()["description"]
            .as_str()
            .unwrap()
            .contains("signature"));
        let unknown = signed(
            Algorithm::RS256,
            Some("nope"),
            "rsa-private.pem",
            &claims(json!("*")),
        );
        let r = get_with(
            &app,
            "/collections/a",
            &[("authorization", &bearer(&unknown))],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.json()["description"]
            .as_str()
            .unwrap()
            .contains("kid 'nope'"));
    }

    #[tokio::test]
    async fn an_hs256_token_signed_with_the_public_key_cannot_pass_as_rs256() {
        // The algorithm-confusion attack: HS256 keyed with public material.
        let app = protected();
        let jwks = std::fs::read_to_string(data("jwks.json")).unwrap();
        let t = hs256(&claims(json!("*")), &jwks);
        let r = get_with(&app, "/collections/a", &[("authorization", &bearer(&t))]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }

    #[tokio::test]
    async fn a_token_cannot_reach_another_collection_through_zarr() {
        let app = protected();
        let t = hs256(&claims(json!(["a"])), SECRET);
        let auth = bearer(&t);
        let r = get_with(&app, "/zarr/a/zarr.json", &[("authorization", &auth)]).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.json()["zarr"], "a");
        for p in ["/zarr/b/zarr.json", "/zarr/%62/zarr.json", "/zarr/b/c/0/0"] {
            let r = get_with(&app, p, &[("authorization", &auth)]).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{p}");
        }
        // Percent-encoding the collection id does not get around the check.
        let r = get_with(&app, "/collections/%62", &[("authorization", &auth)]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = get_(&app, "/zarr/a/zarr.json").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn an_api_key_cannot_reach_another_collection_through_zarr() {
    let app = protected();
    let auth = "Bearer key-for-a".to_string();
    let r = get_with(&app, "/zarr/a/zarr.json", &[("authorization", &auth)]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["zarr"], "a");
    for p in ["/zarr/b/zarr.json", "/zarr/%62/zarr.json", "/zarr/b/c/0/0"] {
        let r = get_with(&app, p, &[("authorization", &auth)]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{p}");
    }
    // Percent-encoding the collection id does not get around the check.
    let r = get_with(&app, "/collections/%62", &[("authorization", &auth)]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The id is checked as the handler sees it: percent-decoded.
    let r = get_with(&app, "/zarr/%61/zarr.json", &[("authorization", &auth)]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["zarr"], "a");
    let r = get_(&app, "/zarr/a/zarr.json").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_api_key_grants_only_its_collections_from_any_place_it_is_sent() {
    let app = protected();
    for (uri, headers) in [
        (
            "/collections/a",
            vec![("authorization", "Bearer key-for-a")],
        ),
        ("/collections/a", vec![("x-api-key", "key-for-a")]),
        ("/collections/a?api_key=key-for-a", vec![]),
        ("/collections/a?access_token=key-for-a", vec![]),
    ] {
        let r = get_with(&app, uri, &headers).await;
        assert_eq!(r.status, StatusCode::OK, "{uri} {headers:?}: {}", r.text());
    }
    let r = get_with(&app, "/collections/b", &[("x-api-key", "key-for-a")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A plain (unhashed) key works too.
    let r = get_with(&app, "/collections/b", &[("x-api-key", "plain-test-key")]).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = get_with(&app, "/collections/a", &[("x-api-key", "plain-test-key")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // An unknown key.
    let r = get_with(&app, "/collections/a", &[("x-api-key", "guess")]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
}

#[tokio::test]
async fn no_credentials_is_401_and_wrong_grant_is_403() {
    let app = protected();
    let r = get_(&app, "/collections/a").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.header("www-authenticate").unwrap(),
        "Bearer realm=\"arco\""
    );
    assert_eq!(r.json()["code"], "Unauthorized");
    assert!(r.json()["description"]
        .as_str()
        .unwrap()
        .contains("X-API-Key"));
    let r = get_with(&app, "/collections/a", &[("x-api-key", "plain-test-key")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.header("www-authenticate").is_none());
    // Another scheme is refused, not ignored.
    let r = get_with(&app, "/collections/pub", &[("authorization", "Basic dTpw")]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn public_paths_and_public_collections_need_no_credentials() {
    let app = protected();
    for p in ["/", "/healthz", "/viewer/app.js"] {
        let r = get_(&app, p).await;
        assert_eq!(r.status, StatusCode::OK, "{p}");
        // Bad credentials do not close a public path.
        let r = get_with(&app, p, &[("x-api-key", "guess")]).await;
        assert_eq!(r.status, StatusCode::OK, "{p} with a bad key");
    }
    let r = get_(&app, "/collections/pub").await;
    assert_eq!(r.status, StatusCode::OK);
    let r = get_(&app, "/collections/pub/tiles/WebMercatorQuad/0").await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn listings_show_only_what_the_caller_may_read() {
    let app = protected();
    let r = get_(&app, "/collections").await;
    assert_eq!(r.json()["collections"], json!(["pub"]));
    let r = get_with(&app, "/collections", &[("x-api-key", "key-for-a")]).await;
    assert_eq!(r.json()["collections"], json!(["a", "pub"]));
    let r = get_with(&app, "/collections", &[("x-api-key", "admin-test-key")]).await;
    assert_eq!(r.json()["collections"], json!(["a", "b", "pub"]));
    let r = get_with(
        &app,
        "/search?collections=a,b",
        &[("x-api-key", "key-for-a")],
    )
    .await;
    assert_eq!(r.json()["scope"], json!(["a"]));
    let r = get_with(&app, "/search", &[("x-api-key", "key-for-a")]).await;
    assert_eq!(r.json()["scope"], json!(["a", "pub"]));
    let r = get_with(
        &app,
        "/search?collections=b",
        &[("x-api-key", "admin-test-key")],
    )
    .await;
    assert_eq!(r.json()["scope"], json!(["b"]));
    // A listing with bad credentials is refused rather than shown as anonymous.
    let r = get_with(&app, "/collections", &[("x-api-key", "guess")]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn without_an_auth_file_everything_is_open() {
    let (app, _) = app();
    let r = get_(&app, "/collections").await;
    assert_eq!(r.json()["collections"], json!(["a", "b", "pub"]));
    let r = get_(&app, "/search").await;
    assert_eq!(r.json()["scope"], Value::Null);
    assert_eq!(get_(&app, "/collections/b").await.status, StatusCode::OK);
    assert_eq!(get_(&app, "/metrics").await.status, StatusCode::OK);
}

#[tokio::test]
async fn metrics_need_an_all_collections_grant_unless_made_public() {
    let app = protected();
    assert_eq!(
        get_(&app, "/metrics").await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = get_with(&app, "/metrics", &[("x-api-key", "key-for-a")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = get_with(&app, "/metrics", &[("x-api-key", "admin-test-key")]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("arco_http_requests_total"));
    let open = app_with(Some(auth_from("public_metrics = true\n")), Metrics::new());
    assert_eq!(get_(&open, "/metrics").await.status, StatusCode::OK);
}

#[tokio::test]
async fn with_anonymous_off_only_public_paths_open_without_credentials() {
    let cfg = format!("anonymous = false\n{}", standard_auth());
    let app = app_with(Some(auth_from(&cfg)), Metrics::new());
    assert_eq!(get_(&app, "/").await.status, StatusCode::OK);
    assert_eq!(
        get_(&app, "/collections").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get_(&app, "/collections/pub").await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = get_with(&app, "/collections/pub", &[("x-api-key", "key-for-a")]).await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn configured_public_paths_replace_the_defaults_but_never_open_collections() {
    let cfg = "public_paths = [\"/healthz\", \"/collections*\", \"/zarr*\"]\n";
    let app = app_with(Some(auth_from(cfg)), Metrics::new());
    assert_eq!(get_(&app, "/healthz").await.status, StatusCode::OK);
    // "/" is no longer public, but anonymous callers may still read listings.
    assert_eq!(get_(&app, "/").await.status, StatusCode::OK);
    assert_eq!(
        get_(&app, "/collections/a").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get_(&app, "/zarr/a/zarr.json").await.status,
        StatusCode::UNAUTHORIZED
    );
    let locked = app_with(
        Some(auth_from(
            "anonymous = false\npublic_paths = [\"/healthz\"]\n",
        )),
        Metrics::new(),
    );
    assert_eq!(get_(&locked, "/").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(get_(&locked, "/healthz").await.status, StatusCode::OK);
}

#[tokio::test]
async fn cors_preflights_pass_without_credentials() {
    let app = protected();
    let req = Request::builder()
        .method(Method::OPTIONS)
        .uri("/collections/a")
        .body(Body::empty())
        .unwrap();
    let r = send(&app, req).await;
    assert_ne!(r.status, StatusCode::UNAUTHORIZED);
}

#[test]
fn auth_files_with_mistakes_are_refused_saying_what_to_fix() {
    assert!(auth_err("anonymous = \"maybe\"").contains("auth.toml"));
    assert!(auth_err("unknown_option = 1").contains("unknown_option"));
    assert!(
        auth_err("[[api_keys]]\nkey = \"sha256:abcd\"\ncollections = [\"a\"]\n")
            .contains("64 hex digits")
    );
    assert!(
        auth_err("[[api_keys]]\nkey = \"k\"\ncollections = []\n").contains("grants no collection")
    );
    assert!(auth_err("public_paths = [\"healthz\"]\n").contains("start with '/'"));
    assert!(auth_err("public_collections = [\"*\"]\n").contains("do not give --auth"));
    if cfg!(not(feature = "jwt")) {
        assert!(auth_err("[jwt]\nsecret = \"x\"\n").contains("'jwt' feature"));
        return;
    }
    assert!(auth_err("[jwt]\nsecret = \"short\"\n").contains("at least 32"));
    assert!(
        auth_err("[jwt]\nsecret_env = \"ARCO_TEST_UNSET_SECRET_VARIABLE\"\n")
            .contains("ARCO_TEST_UNSET_SECRET_VARIABLE")
    );
    assert!(auth_err("[jwt]\nleeway_seconds = 5\n").contains("jwks_file"));
    assert!(auth_err("[jwt]\njwks_file = \"missing-jwks.json\"\n").contains("missing-jwks.json"));
}

#[cfg(feature = "jwt")]
#[test]
fn a_relative_jwks_file_is_found_beside_the_auth_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(data("jwks.json"), dir.path().join("keys.json")).unwrap();
    let path = dir.path().join("auth.toml");
    std::fs::write(&path, "[jwt]\njwks_file = \"keys.json\"\n").unwrap();
    AuthConfig::from_file(&path).unwrap();
}

#[test]
fn hash_key_is_the_sha256_hex_of_the_key() {
    // printf %s abc | sha256sum
    assert_eq!(
        auth::hash_key("abc"),
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn access_helpers_filter_and_restrict() {
    let a = Access::of(["x", "y"]);
    assert!(a.allows("x") && !a.allows("z"));
    assert!(Access::of(["*"]).is_all());
    let mut v = vec!["x", "z", "y"];
    a.retain(&mut v, |s| s);
    assert_eq!(v, ["x", "y"]);
    assert_eq!(
        a.restrict(None),
        Some(vec!["x".to_string(), "y".to_string()])
    );
    assert_eq!(
        a.restrict(Some(vec!["z".into(), "y".into()])),
        Some(vec!["y".to_string()])
    );
    assert_eq!(Access::All.restrict(None), None);
    assert!(!Access::none().allows("x"));
}

// ---------------------------------------------------------------------------
// HTTP caching

const TILE: &str = "/collections/a/tiles/WebMercatorQuad/1";

#[tokio::test]
async fn the_same_body_gets_the_same_strong_etag() {
    let (app, _) = app();
    let a = get_(&app, TILE).await;
    let b = get_(&app, TILE).await;
    let c = get_(&app, "/collections/a/tiles/WebMercatorQuad/2").await;
    let ea = a.header("etag").unwrap();
    assert!(
        ea.starts_with('"') && ea.ends_with('"') && !ea.starts_with("W/"),
        "{ea}"
    );
    assert_eq!(ea.len(), 34);
    assert_eq!(Some(ea.clone()), b.header("etag"));
    assert_ne!(Some(ea), c.header("etag"));
}

#[tokio::test]
async fn a_matching_if_none_match_gets_304_without_a_body() {
    let (app, _) = app();
    let etag = get_(&app, TILE).await.header("etag").unwrap();
    for inm in [
        etag.clone(),
        format!("W/{etag}"),
        format!("\"nope\", {etag}"),
        format!("\"x,y\",W/{etag}"),
        "*".to_string(),
    ] {
        let r = get_with(&app, TILE, &[("if-none-match", &inm)]).await;
        assert_eq!(r.status, StatusCode::NOT_MODIFIED, "{inm}");
        assert!(r.body.is_empty());
        assert_eq!(r.header("etag"), Some(etag.clone()));
        assert_eq!(r.header("cache-control").unwrap(), "public, max-age=3600");
        assert_ne!(r.header("content-length").as_deref(), Some("0"));
    }
}

#[tokio::test]
async fn a_stale_if_none_match_gets_the_full_200() {
    let (app, _) = app();
    let r = get_with(&app, TILE, &[("if-none-match", "\"0123\", W/\"abc\"")]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body.len(), 1000);
}

#[tokio::test]
async fn cache_control_follows_the_route_class() {
    let (app, _) = app();
    let cc = |r: &Resp| r.header("cache-control");
    assert_eq!(
        cc(&get_(&app, TILE).await).as_deref(),
        Some("public, max-age=3600")
    );
    assert_eq!(
        cc(&get_(&app, "/zarr/a/zarr.json").await).as_deref(),
        Some("public, max-age=3600")
    );
    assert_eq!(
        cc(&get_(&app, "/collections/a").await).as_deref(),
        Some("no-cache")
    );
    assert_eq!(
        cc(&get_(&app, "/collections").await).as_deref(),
        Some("no-cache")
    );
    assert_eq!(
        cc(&get_(&app, "/viewer/app.js").await).as_deref(),
        Some("public, max-age=86400")
    );
    let m = get_(&app, "/metrics").await;
    assert_eq!(cc(&m).as_deref(), Some("no-store"));
    assert!(m.header("etag").is_none());
    let h = get_(&app, "/healthz").await;
    assert_eq!(cc(&h).as_deref(), Some("no-store"));
    assert!(h.header("etag").is_none());
    // Errors: neither header.
    for p in ["/nope", "/boom"] {
        let r = get_(&app, p).await;
        assert!(r.status.is_client_error() || r.status.is_server_error());
        assert!(cc(&r).is_none(), "{p}");
        assert!(r.header("etag").is_none(), "{p}");
    }
}

#[tokio::test]
async fn responses_to_credentialed_requests_are_private() {
    let app = protected();
    let r = get_with(
        &app,
        "/collections/a/tiles/WebMercatorQuad/1",
        &[("x-api-key", "key-for-a")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("cache-control").unwrap(), "private, max-age=3600");
    let r = get_(&app, "/collections/pub/tiles/WebMercatorQuad/1").await;
    assert_eq!(r.header("cache-control").unwrap(), "public, max-age=3600");
}

#[tokio::test]
async fn a_handler_etag_is_kept_and_answers_if_none_match() {
    let (app, _) = app();
    let r = get_(&app, "/versioned").await;
    let etag = r.header("etag").unwrap();
    assert_eq!(
        etag,
        httpcache::version_etag(&["mtime=1700000000", "size=42"])
            .to_str()
            .unwrap()
    );
    assert_ne!(etag, httpcache::etag_of(&r.body).to_str().unwrap());
    let r = get_with(&app, "/versioned", &[("if-none-match", &etag)]).await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn head_gets_the_etag_of_get_and_post_is_left_alone() {
    let (app, _) = app();
    let g = get_(&app, TILE).await;
    let req = Request::head(TILE).body(Body::empty()).unwrap();
    let h = send(&app, req).await;
    assert_eq!(h.status, StatusCode::OK);
    assert_eq!(h.header("etag"), g.header("etag"));
    assert!(h.body.is_empty());
    let post = Router::new().route("/collections/a", axum::routing::post(|| async { "posted" }));
    let post = httpcache::apply(post, Arc::new(CacheConfig::default()));
    let r = send(
        &post,
        Request::post("/collections/a").body(Body::empty()).unwrap(),
    )
    .await;
    assert!(r.header("etag").is_none() && r.header("cache-control").is_none());
}

#[tokio::test]
async fn a_streamed_body_gets_cache_control_but_no_computed_etag() {
    let (app, _) = app();
    let r = get_(&app, "/streamed").await;
    assert_eq!(r.text(), "first second");
    assert!(r.header("etag").is_none());
    assert_eq!(r.header("cache-control").as_deref(), Some("no-cache"));
}

#[tokio::test]
async fn a_configured_data_max_age_is_used() {
    let cfg = CacheConfig::default().with_data_max_age(60);
    let app = httpcache::apply(endpoints(), Arc::new(cfg));
    let r = get_(&app, TILE).await;
    assert_eq!(r.header("cache-control").unwrap(), "public, max-age=60");
}

#[test]
fn if_none_match_uses_weak_comparison() {
    use httpcache::if_none_match;
    assert!(if_none_match("\"a\"", "\"a\""));
    assert!(if_none_match("W/\"a\"", "\"a\""));
    assert!(if_none_match("\"a\"", "W/\"a\""));
    assert!(if_none_match("\"b\" , \"a\"", "\"a\""));
    assert!(if_none_match("*", "\"a\""));
    assert!(!if_none_match("\"ab\"", "\"a\""));
    assert!(!if_none_match("\"b\"", "\"a\""));
    assert!(!if_none_match("", "\"a\""));
}

#[test]
fn paths_fall_into_their_classes() {
    use httpcache::{classify, RouteClass};
    assert_eq!(
        classify("/collections/x/tiles/WebMercatorQuad/1/2/3.png"),
        RouteClass::Data
    );
    assert_eq!(classify("/collections/x/timeseries"), RouteClass::Data);
    assert_eq!(classify("/collections/x/position"), RouteClass::Data);
    assert_eq!(
        classify("/collections/x/WMTSCapabilities.xml"),
        RouteClass::Data
    );
    assert_eq!(classify("/zarr/x/zarr.json"), RouteClass::Data);
    assert_eq!(classify("/collections/x/items/y"), RouteClass::Metadata);
    assert_eq!(classify("/collections/x/info"), RouteClass::Metadata);
    assert_eq!(classify("/search"), RouteClass::Metadata);
    assert_eq!(
        classify("/tileMatrixSets/WebMercatorQuad"),
        RouteClass::Static
    );
    assert_eq!(classify("/colorMaps"), RouteClass::Static);
    assert_eq!(classify("/viewer"), RouteClass::Static);
    assert_eq!(classify("/metrics"), RouteClass::Live);
}

// ---------------------------------------------------------------------------
// Request log

#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    fn json_lines(&self) -> Vec<Value> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}

fn capture(format: LogFormat) -> (Captured, tracing::subscriber::DefaultGuard) {
    let out = Captured::default();
    let sub = logging::subscriber(
        format,
        tracing_subscriber::EnvFilter::new("info"),
        out.clone(),
    );
    let guard = tracing::subscriber::set_default(sub);
    (out, guard)
}

#[tokio::test]
async fn each_request_is_one_json_log_event_with_its_fields() {
    let (out, _guard) = capture(LogFormat::Json);
    let (app, _) = app();
    let r = get_(
        &app,
        "/collections/a/tiles/WebMercatorQuad/4?access_token=s3cr3t",
    )
    .await;
    get_(&app, "/nope").await;
    let id = r.header("x-request-id").unwrap();
    let lines: Vec<Value> = out
        .json_lines()
        .into_iter()
        .filter(|l| l["target"] == "arco::http")
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    let l = &lines[0];
    assert_eq!(l["level"], "INFO");
    assert_eq!(l["method"], "GET");
    assert_eq!(
        l["route"],
        "/collections/{collection_id}/tiles/WebMercatorQuad/{z}"
    );
    assert_eq!(l["path"], "/collections/a/tiles/WebMercatorQuad/4");
    assert_eq!(l["status"], 200);
    assert_eq!(l["bytes"], 1000);
    assert_eq!(l["request_id"], id.as_str());
    assert!(l["latency_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(lines[1]["route"], "unmatched");
    assert_eq!(lines[1]["status"], 404);
    let all = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    assert!(!all.contains("s3cr3t"), "the query leaked into the log");
}

#[tokio::test]
async fn a_sane_client_request_id_is_kept_and_another_replaced() {
    let (app, _) = app();
    let r = get_with(&app, "/healthz", &[("x-request-id", "abc-123.x")]).await;
    assert_eq!(r.header("x-request-id").unwrap(), "abc-123.x");
    let r = get_with(&app, "/healthz", &[("x-request-id", "bad id <script>")]).await;
    let id = r.header("x-request-id").unwrap();
    assert_eq!(id.len(), 16);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    let other = get_(&app, "/healthz").await.header("x-request-id").unwrap();
    assert_ne!(id, other);
}

#[tokio::test]
async fn the_log_names_the_caller_and_server_errors_are_errors() {
    let (out, _guard) = capture(LogFormat::Json);
    let app = protected();
    get_with(&app, "/collections/a", &[("x-api-key", "key-for-a")]).await;
    get_(&app, "/boom").await;
    let lines: Vec<Value> = out
        .json_lines()
        .into_iter()
        .filter(|l| l["target"] == "arco::http")
        .collect();
    assert_eq!(lines[0]["caller"], "reader-a");
    assert_eq!(lines[1]["status"], 500);
    assert_eq!(lines[1]["level"], "ERROR");
    assert!(lines[1].get("caller").is_none());
}

#[tokio::test]
async fn text_logs_are_one_line_per_request() {
    let (out, _guard) = capture(LogFormat::Text);
    let (app, _) = app();
    get_(&app, "/collections/a").await;
    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("arco::http")).collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(lines[0].contains("status=200"), "{}", lines[0]);
    assert!(
        lines[0].contains("route=/collections/{collection_id}"),
        "{}",
        lines[0]
    );
}

#[test]
fn the_log_filter_comes_from_arco_log_or_the_level() {
    use tracing_subscriber::filter::LevelFilter;
    // One test touches the variable (nextest runs each test in its own process).
    std::env::remove_var(logging::FILTER_ENV);
    assert_eq!(
        logging::filter("debug").unwrap().max_level_hint(),
        Some(LevelFilter::DEBUG)
    );
    std::env::set_var(logging::FILTER_ENV, "warn");
    assert_eq!(
        logging::filter("debug").unwrap().max_level_hint(),
        Some(LevelFilter::WARN)
    );
    std::env::set_var(logging::FILTER_ENV, "=nonsense=[");
    let e = logging::filter("info").unwrap_err().to_string();
    assert!(e.contains("ARCO_LOG"), "{e}");
    std::env::remove_var(logging::FILTER_ENV);
    assert_eq!("json".parse::<LogFormat>().unwrap(), LogFormat::Json);
    assert!("xml".parse::<LogFormat>().is_err());
}
