//! The axum edge: extract the request's inputs, call [`crate::api`], write
//! the [`Document`]. Every failure — a bad parameter, an unreadable body, an
//! unknown path or method — is a JSON error body.

use crate::api::{self, Ctx, Document, SearchInput};
use crate::error::ApiError;
use crate::AppState;
use axum::body::{Body, Bytes};
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{OriginalUri, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;

impl IntoResponse for Document {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut r = Response::new(Body::from(self.body));
        *r.status_mut() = status;
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.media_type),
        );
        r
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        Document::error(&self).into_response()
    }
}

fn reply(r: Result<Document, ApiError>) -> Response {
    match r {
        Ok(d) => d.into_response(),
        Err(e) => e.into_response(),
    }
}

/// Characters a host (and port) may be made of: anything else in a `Host`
/// or forwarded header is ignored rather than echoed into links.
fn clean_host(h: &str) -> Option<&str> {
    let ok = !h.is_empty()
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]_".contains(&b));
    ok.then_some(h)
}

/// The base URL of a request: the configured one, else from `Forwarded` /
/// `X-Forwarded-{Proto,Host,Prefix}` / `Host`, else the bound address.
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(b) = &state.config.base_url {
        return b.trim_end_matches('/').to_string();
    }
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let mut proto: Option<String> = None;
    let mut host: Option<String> = None;
    if let Some(fwd) = h("forwarded") {
        // First hop only: `for=...;proto=https;host=example.com, for=...`.
        let first = fwd.split(',').next().unwrap_or("");
        for part in first.split(';') {
            if let Some((k, v)) = part.trim().split_once('=') {
                let v = v.trim().trim_matches('"');
                match k.trim().to_ascii_lowercase().as_str() {
                    "proto" => proto = Some(v.to_string()),
                    "host" => host = clean_host(v).map(str::to_string),
                    _ => {}
                }
            }
        }
    }
    let proto = proto
        .or_else(|| {
            h("x-forwarded-proto").map(|p| p.split(',').next().unwrap_or("").trim().to_string())
        })
        .filter(|p| p == "http" || p == "https")
        .unwrap_or_else(|| "http".to_string());
    let host = host
        .or_else(|| {
            h("x-forwarded-host")
                .map(|x| x.split(',').next().unwrap_or("").trim())
                .and_then(clean_host)
                .map(str::to_string)
        })
        .or_else(|| h("host").and_then(clean_host).map(str::to_string));
    let prefix = h("x-forwarded-prefix")
        .map(|p| p.trim().trim_end_matches('/'))
        .filter(|p| p.starts_with('/') && !p.contains(['?', '#', ' ', '"', '<', '>']))
        .unwrap_or("");
    match host {
        Some(host) => format!("{proto}://{host}{prefix}"),
        None => format!(
            "{}{prefix}",
            state.config.fallback_base.trim_end_matches('/')
        ),
    }
}

fn ctx(state: &AppState, headers: &HeaderMap, uri: &Uri) -> Ctx {
    Ctx {
        base: base_url(state, headers),
        path: uri.path().to_string(),
        query: uri.query().map(str::to_string),
    }
}

type St = State<Arc<AppState>>;

/// A path the router matched but could not decode (not UTF-8, say).
fn bad_path(e: PathRejection) -> Response {
    ApiError::bad_parameter(format!(
        "the path cannot be read ({}); percent-encode ids as UTF-8",
        e.body_text()
    ))
    .into_response()
}

async fn landing(State(s): St, OriginalUri(u): OriginalUri, h: HeaderMap) -> Response {
    reply(api::landing(&s, &ctx(&s, &h, &u)).await)
}

async fn conformance(State(s): St) -> Response {
    reply(api::conformance(&s))
}

async fn collections(
    State(s): St,
    OriginalUri(u): OriginalUri,
    h: HeaderMap,
    ext: axum::http::Extensions,
) -> Response {
    let access = crate::auth::access_of(&ext);
    let r = api::collections(&s, &ctx(&s, &h, &u)).await;
    reply(r.map(|d| only_readable(d, &access)))
}

/// The collections list without the collections `access` may not read.
fn only_readable(mut d: Document, access: &crate::auth::Access) -> Document {
    if access.is_all() || d.status != 200 {
        return d;
    }
    if let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(&d.body) {
        if let Some(list) = v.get_mut("collections").and_then(|c| c.as_array_mut()) {
            list.retain(|c| {
                c.get("id")
                    .and_then(|i| i.as_str())
                    .is_some_and(|i| access.allows(i))
            });
            let count = list.len();
            if let Some(n) = v.get_mut("numberReturned") {
                *n = serde_json::json!(count);
            }
            if let Ok(b) = serde_json::to_vec(&v) {
                d.body = b;
            }
        }
    }
    d
}

/// The search's `collections` narrowed to what `access` may read.
fn restrict_query(q: Vec<(String, String)>, access: &crate::auth::Access) -> Vec<(String, String)> {
    if access.is_all() {
        return q;
    }
    let requested = q.iter().find(|(k, _)| k == "collections").map(|(_, v)| {
        v.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    });
    let mut out: Vec<(String, String)> =
        q.into_iter().filter(|(k, _)| k != "collections").collect();
    out.push(("collections".into(), readable(access, requested).join(",")));
    out
}

/// The collections a search of `requested` may look into under `access`;
/// when none is readable, one that cannot exist (an empty list would mean
/// "all collections").
fn readable(access: &crate::auth::Access, requested: Option<Vec<String>>) -> Vec<String> {
    let allowed = access.restrict(requested).unwrap_or_default();
    if allowed.is_empty() {
        vec!["\u{0}none".to_string()]
    } else {
        allowed
    }
}

async fn collection(
    State(s): St,
    OriginalUri(u): OriginalUri,
    h: HeaderMap,
    p: Result<Path<String>, PathRejection>,
) -> Response {
    let Path(id) = match p {
        Ok(p) => p,
        Err(e) => return bad_path(e),
    };
    reply(api::collection(&s, &ctx(&s, &h, &u), &id).await)
}

async fn items(
    State(s): St,
    OriginalUri(u): OriginalUri,
    h: HeaderMap,
    p: Result<Path<String>, PathRejection>,
) -> Response {
    let Path(id) = match p {
        Ok(p) => p,
        Err(e) => return bad_path(e),
    };
    let input = SearchInput::Query(api::parse_query(u.query()));
    reply(api::items(&s, &ctx(&s, &h, &u), &id, input).await)
}

async fn item(
    State(s): St,
    OriginalUri(u): OriginalUri,
    h: HeaderMap,
    p: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    let Path((c, i)) = match p {
        Ok(p) => p,
        Err(e) => return bad_path(e),
    };
    reply(api::item(&s, &ctx(&s, &h, &u), &c, &i).await)
}

async fn search_get(
    State(s): St,
    OriginalUri(u): OriginalUri,
    h: HeaderMap,
    ext: axum::http::Extensions,
) -> Response {
    let access = crate::auth::access_of(&ext);
    let input = SearchInput::Query(restrict_query(api::parse_query(u.query()), &access));
    reply(api::search(&s, &ctx(&s, &h, &u), input).await)
}

async fn search_post(
    State(s): St,
    OriginalUri(u): OriginalUri,
    h: HeaderMap,
    ext: axum::http::Extensions,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let access = crate::auth::access_of(&ext);
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            return ApiError {
                status: e.status().as_u16(),
                code: "InvalidRequestBody",
                description: format!("cannot read the request body: {}", e.body_text()),
            }
            .into_response()
        }
    };
    let value: serde_json::Value = if body.iter().all(u8::is_ascii_whitespace) {
        serde_json::Value::Object(Default::default())
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => {
                return ApiError::bad_body(format!(
                    "the search body is not JSON ({e}); send a JSON object such as {{\"collections\": [\"c1\"], \"limit\": 10}}"
                ))
                .into_response()
            }
        }
    };
    let mut value = value;
    if !access.is_all() {
        if let Some(obj) = value.as_object_mut() {
            let requested = obj.get("collections").and_then(|c| c.as_array()).map(|a| {
                a.iter()
                    .filter_map(|c| c.as_str().map(String::from))
                    .collect::<Vec<_>>()
            });
            obj.insert(
                "collections".into(),
                serde_json::json!(readable(&access, requested)),
            );
        }
    }
    reply(api::search(&s, &ctx(&s, &h, &u), SearchInput::Body(value)).await)
}

async fn queryables(State(s): St, OriginalUri(u): OriginalUri, h: HeaderMap) -> Response {
    reply(api::queryables(&s, &ctx(&s, &h, &u), None).await)
}

async fn collection_queryables(
    State(s): St,
    OriginalUri(u): OriginalUri,
    h: HeaderMap,
    p: Result<Path<String>, PathRejection>,
) -> Response {
    let Path(id) = match p {
        Ok(p) => p,
        Err(e) => return bad_path(e),
    };
    reply(api::queryables(&s, &ctx(&s, &h, &u), Some(&id)).await)
}

async fn openapi(State(s): St, OriginalUri(u): OriginalUri, h: HeaderMap) -> Response {
    reply(api::openapi(&ctx(&s, &h, &u)))
}

async fn api_html(State(s): St, OriginalUri(u): OriginalUri, h: HeaderMap) -> Response {
    api::api_html(&ctx(&s, &h, &u)).into_response()
}

async fn healthz(State(s): St) -> Response {
    reply(api::healthz(&s).await)
}

async fn not_found(OriginalUri(u): OriginalUri) -> Response {
    ApiError::not_found(format!(
        "no such path {}; the API's paths are listed by GET /api (OpenAPI) and linked from GET /",
        u.path()
    ))
    .into_response()
}

async fn method_not_allowed(OriginalUri(u): OriginalUri, method: axum::http::Method) -> Response {
    ApiError::method_not_allowed(format!(
        "{method} is not allowed on {}; /search takes GET and POST, every other path GET",
        u.path()
    ))
    .into_response()
}

/// The STAC API routes over `state` (CORS as configured). Other endpoints
/// can be merged into the returned router.
pub fn router(state: Arc<AppState>) -> Router {
    let cors = state.config.cors.layer();
    let metrics = state.config.metrics.clone();
    let cache = state.config.cache.clone();
    let auth = state.config.auth.clone();
    register_data_metrics(&state);
    let r = Router::new()
        .route("/", get(landing))
        .route("/conformance", get(conformance))
        .route("/collections", get(collections))
        .route("/collections/{collection_id}", get(collection))
        .route("/collections/{collection_id}/items", get(items))
        .route("/collections/{collection_id}/items/{item_id}", get(item))
        .route(
            "/collections/{collection_id}/queryables",
            get(collection_queryables),
        )
        .route("/search", get(search_get).post(search_post))
        .route("/queryables", get(queryables))
        .route("/api", get(openapi))
        .route("/api.html", get(api_html))
        .route("/healthz", get(healthz))
        .merge(crate::maps::routes())
        .merge(crate::zarrhttp::routes())
        .merge(crate::edr::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state);
    // Layers apply to the routes merged above them: every route first.
    let r = r.merge(crate::metrics::router(metrics.clone()));
    let r = crate::httpcache::apply(r, cache);
    let r = match auth {
        Some(a) => crate::auth::protect(r, a),
        None => r,
    };
    let r = crate::metrics::instrument(r, metrics);
    let r = crate::logging::log_requests(r);
    // CORS outermost, so that 401, 403 and 304 answers carry its headers.
    match cors {
        Some(c) => r.layer(c),
        None => r,
    }
}

/// Export the chunk cache's counters as Prometheus metrics (once per
/// metrics registry: a second router over the same state skips them).
fn register_data_metrics(state: &Arc<AppState>) {
    let m = &state.config.metrics;
    let c = state.data.cache().clone();
    let stat = move |f: fn(arco_cube::CacheStats) -> u64| {
        let c = c.clone();
        move || f(c.stats())
    };
    type Stat = fn(arco_cube::CacheStats) -> u64;
    let table: [(&str, &str, bool, Stat); 5] = [
        ("arco_cache_hits_total", "Chunk cache hits.", true, |s| {
            s.hits
        }),
        (
            "arco_cache_misses_total",
            "Chunk cache misses (chunks read and decoded).",
            true,
            |s| s.misses,
        ),
        (
            "arco_cache_bytes",
            "Bytes of decoded chunks held by the cache.",
            false,
            |s| s.bytes,
        ),
        (
            "arco_cache_capacity_bytes",
            "The chunk cache's bound in bytes.",
            false,
            |s| s.capacity,
        ),
        (
            "arco_cache_entries",
            "Chunks held by the cache.",
            false,
            |s| s.entries,
        ),
    ];
    for (name, help, counter, f) in table {
        let _ = if counter {
            m.register_counter_fn(name, help, &[], stat(f))
        } else {
            m.register_gauge_fn(name, help, &[], stat(f))
        };
    }
    let _ = m.register_gauge_fn("arco_datasets", "Datasets served.", &[], {
        let n = state.data.len() as u64;
        move || n
    });
}
