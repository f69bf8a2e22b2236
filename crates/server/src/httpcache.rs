//! HTTP caching: strong `ETag`s, `If-None-Match` → 304, and
//! `Cache-Control` by route class.
//!
//! The [`conditional`] middleware, for a `GET` or `HEAD` answered `200`:
//!
//! 1. keeps the `ETag` a handler set (a handler that knows a version, such as
//!    a dataset's modification time, sets one with [`version_etag`] and
//!    saves the hashing); otherwise, when the body's size is known and at
//!    most [`CacheConfig::max_hash_bytes`], hashes the body (xxh3-128) into
//!    a strong ETag;
//! 2. keeps the `Cache-Control` a handler set; otherwise sets the one of the
//!    path's [`RouteClass`] from the [`CacheConfig`] (`public` becomes
//!    `private` when the request carried credentials, so that shared caches
//!    never serve one caller's data to another);
//! 3. answers `304 Not Modified`, without a body, when `If-None-Match` lists
//!    the ETag (weak comparison, RFC 9110 section 13.1.2) or is `*`.
//!
//! Error responses and other methods pass untouched: no ETag, no
//! `Cache-Control`.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Which `Cache-Control` a path gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteClass {
    /// Data derived from the served files: tiles, TileJSON, WMTS,
    /// time series, EDR queries, Zarr-over-HTTP.
    Data,
    /// STAC JSON and other metadata that changes when the catalog does:
    /// revalidated on every use.
    Metadata,
    /// Constants of the server: tile matrix sets, colormaps, the viewer's
    /// files.
    Static,
    /// Changes with every request (`/metrics`, `/healthz`): `no-store`, no
    /// ETag.
    Live,
}

/// The path segments after `/collections/{id}/` that are data.
const DATA_ENDPOINTS: [&str; 9] = [
    "tiles",
    "WMTSCapabilities.xml",
    "timeseries",
    "position",
    "area",
    "cube",
    "radius",
    "trajectory",
    "corridor",
];

/// The class of a request path.
pub fn classify(path: &str) -> RouteClass {
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segs.as_slice() {
        ["metrics"] | ["healthz"] => RouteClass::Live,
        ["zarr", ..] => RouteClass::Data,
        ["collections", _, third, ..] if DATA_ENDPOINTS.contains(third) => RouteClass::Data,
        [first, ..] if ["viewer", "tileMatrixSets", "colorMaps"].contains(first) => {
            RouteClass::Static
        }
        _ => RouteClass::Metadata,
    }
}

/// `Cache-Control` per route class, and the largest body hashed for an ETag.
/// `None` for a class: no `Cache-Control` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheConfig {
    /// [`RouteClass::Data`]; default `public, max-age=3600`.
    pub data: Option<String>,
    /// [`RouteClass::Metadata`]; default `no-cache` (store, but revalidate
    /// with the ETag every time).
    pub metadata: Option<String>,
    /// [`RouteClass::Static`]; default `public, max-age=86400`.
    pub static_assets: Option<String>,
    /// Bodies larger than this (bytes), or of unknown size (streamed), get
    /// no computed ETag; default 32 MiB.
    pub max_hash_bytes: usize,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            data: Some("public, max-age=3600".to_string()),
            metadata: Some("no-cache".to_string()),
            static_assets: Some("public, max-age=86400".to_string()),
            max_hash_bytes: 32 << 20,
        }
    }
}

impl CacheConfig {
    /// Data responses cached for `seconds` (`arco serve --cache-max-age`);
    /// 0 gives `no-cache`.
    pub fn with_data_max_age(mut self, seconds: u64) -> Self {
        self.data = Some(if seconds == 0 {
            "no-cache".to_string()
        } else {
            format!("public, max-age={seconds}")
        });
        self
    }

    /// The `Cache-Control` value of a class, if any.
    pub fn cache_control(&self, class: RouteClass) -> Option<&str> {
        match class {
            RouteClass::Data => self.data.as_deref(),
            RouteClass::Metadata => self.metadata.as_deref(),
            RouteClass::Static => self.static_assets.as_deref(),
            RouteClass::Live => Some("no-store"),
        }
    }
}

/// A strong ETag of a body: `"` + xxh3-128 in hex + `"`.
pub fn etag_of(body: &[u8]) -> HeaderValue {
    let h = xxhash_rust::xxh3::xxh3_128(body);
    HeaderValue::from_str(&format!("\"{h:032x}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

/// A strong ETag from a version a handler knows (a modification time and
/// size, a snapshot id, and the request's parameters that shape the
/// response): the parts are hashed, so any string will do. Set it on the
/// response (`ETag` header) to skip hashing the body.
pub fn version_etag(parts: &[&str]) -> HeaderValue {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update(&[0]);
    }
    let v = h.digest128();
    HeaderValue::from_str(&format!("\"v{v:032x}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

/// The opaque part of an entity tag, weak prefix dropped (`W/"x"` → `x`).
fn opaque(tag: &str) -> Option<&str> {
    let t = tag.trim();
    let t = t.strip_prefix("W/").unwrap_or(t);
    t.strip_prefix('"')?.strip_suffix('"')
}

/// Does an `If-None-Match` value match `etag` (weak comparison: `W/` is
/// ignored on both sides; `*` matches any)?
pub fn if_none_match(header_value: &str, etag: &str) -> bool {
    let Some(mine) = opaque(etag) else {
        return false;
    };
    let v = header_value.trim();
    if v == "*" {
        return true;
    }
    // A list of `W/"x"` or `"x"`: an entity tag may hold ',' but never
    // '"' (etagc = %x21 / %x23-7E), so walk the quoted strings; the `W/`
    // before one does not matter to a weak comparison.
    let mut rest = v;
    while let Some(start) = rest.find('"') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('"') else {
            return false;
        };
        if &after[..end] == mine {
            return true;
        }
        rest = &after[end + 1..];
    }
    false
}

/// Did the request carry credentials (so its response is not for shared
/// caches)?
fn credentialed(req: &Request) -> bool {
    let h = req.headers();
    h.contains_key(header::AUTHORIZATION)
        || h.contains_key("x-api-key")
        || req.uri().query().is_some_and(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .any(|(k, _)| k == "access_token" || k == "api_key")
        })
}

/// An empty body whose size is not announced (a 304 must not say
/// `Content-Length: 0` for a representation that is not empty).
struct NoBody;

impl http_body::Body for NoBody {
    type Data = axum::body::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        true
    }
}

/// The headers a 304 repeats from the 200 it stands for (RFC 9110 section
/// 15.4.5), plus `Content-Length` when known.
const KEEP_ON_304: [header::HeaderName; 7] = [
    header::ETAG,
    header::CACHE_CONTROL,
    header::CONTENT_LOCATION,
    header::DATE,
    header::EXPIRES,
    header::VARY,
    header::LAST_MODIFIED,
];

fn not_modified(headers: &HeaderMap, length: Option<u64>) -> Response {
    let mut r = Response::new(Body::new(NoBody));
    *r.status_mut() = StatusCode::NOT_MODIFIED;
    for name in KEEP_ON_304.iter() {
        for v in headers.get_all(name) {
            r.headers_mut().append(name.clone(), v.clone());
        }
    }
    if let Some(n) = length {
        r.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(n));
    }
    r
}

/// The caching middleware (use with
/// `axum::middleware::from_fn_with_state(Arc::new(config), httpcache::conditional)`,
/// or [`apply`]).
pub async fn conditional(
    State(cfg): State<Arc<CacheConfig>>,
    req: Request,
    next: Next,
) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return next.run(req).await;
    }
    let class = classify(req.uri().path());
    let private = credentialed(&req);
    let inm = req.headers().get(header::IF_NONE_MATCH).cloned();
    let res = next.run(req).await;
    if res.status() != StatusCode::OK {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    if !parts.headers.contains_key(header::CACHE_CONTROL) {
        if let Some(cc) = cfg.cache_control(class) {
            let cc = if private {
                cc.replace("public", "private")
            } else {
                cc.to_string()
            };
            if let Ok(v) = HeaderValue::from_str(&cc) {
                parts.headers.insert(header::CACHE_CONTROL, v);
            }
        }
    }
    let no_store = parts
        .headers
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("no-store"));
    if class == RouteClass::Live || no_store {
        return Response::from_parts(parts, body);
    }
    use http_body::Body as _;
    let exact = body.size_hint().exact();
    let length = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .or(exact);
    let body = if parts.headers.contains_key(header::ETAG) {
        body
    } else {
        match exact {
            Some(n) if n <= cfg.max_hash_bytes as u64 => {
                match axum::body::to_bytes(body, cfg.max_hash_bytes).await {
                    Ok(bytes) => {
                        parts.headers.insert(header::ETAG, etag_of(&bytes));
                        Body::from(bytes)
                    }
                    Err(e) => {
                        return crate::error::ApiError::internal(format!(
                            "reading the response body failed: {e}"
                        ))
                        .into_response()
                    }
                }
            }
            _ => body,
        }
    };
    if let (Some(inm), Some(etag)) = (inm, parts.headers.get(header::ETAG)) {
        if let (Ok(inm), Ok(etag)) = (inm.to_str(), etag.to_str()) {
            if if_none_match(inm, etag) {
                return not_modified(&parts.headers, length);
            }
        }
    }
    Response::from_parts(parts, body)
}

/// `router` with [`conditional`] added as a layer (every route and the
/// fallback).
pub fn apply(router: Router, config: Arc<CacheConfig>) -> Router {
    router.layer(axum::middleware::from_fn_with_state(config, conditional))
}
