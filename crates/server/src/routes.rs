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

async fn conformance() -> Response {
    reply(api::conformance())
}

async fn collections(State(s): St, OriginalUri(u): OriginalUri, h: HeaderMap) -> Response {
    reply(api::collections(&s, &ctx(&s, &h, &u)).await)
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

async fn search_get(State(s): St, OriginalUri(u): OriginalUri, h: HeaderMap) -> Response {
    let input = SearchInput::Query(api::parse_query(u.query()));
    reply(api::search(&s, &ctx(&s, &h, &u), input).await)
}

async fn search_post(
    State(s): St,
    OriginalUri(u): OriginalUri,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
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
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state);
    match cors {
        Some(c) => r.layer(c),
        None => r,
    }
}
