//! Structured logs: [`init`] sets up `tracing` for the binary (text or JSON
//! lines, to stderr: stdout carries the CLI's JSON events), filtered by
//! `ARCO_LOG` (the `RUST_LOG` syntax, e.g. `info,arco::http=warn`) or the
//! given level; [`request_log`] emits one event per request (target
//! `arco::http`) and gives each request an id (`X-Request-Id`, kept from
//! the client when it is sane).
//!
//! The request event's fields: `method`, `route` (the route template, or
//! `unmatched`), `path` (without the query, which may hold an
//! `access_token`), `status`, `latency_ms` (to the response's head),
//! `bytes` (the body sent), `request_id`, and when known `caller` (the API
//! key's name or the JWT's `sub`, from [`crate::auth`]) and `remote` (the
//! peer address, when the server is run with connect info).

use crate::auth::Caller;
use crate::metrics::{on_body_end, UNMATCHED};
use axum::extract::{ConnectInfo, MatchedPath, Request};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;
use tracing::Instrument;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// The environment variable holding the log filter.
pub const FILTER_ENV: &str = "ARCO_LOG";

/// The header carrying the request id, both ways.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The target of the per-request events.
pub const TARGET: &str = "arco::http";

/// How log lines look.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per line, the event's fields at the top level.
    Json,
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!("log format '{s}' is not 'text' or 'json'")),
        }
    }
}

/// Logging cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The filter (from `ARCO_LOG` or the level given) does not parse.
    #[error("log filter '{filter}' (from {from}) is not valid: {message}; write a level (error, warn, info, debug, trace) or directives such as 'info,arco::http=warn'")]
    Filter {
        /// The filter text.
        filter: String,
        /// `ARCO_LOG` or `the --log-level option`.
        from: String,
        /// The parser's message.
        message: String,
    },
    /// A global subscriber was set before.
    #[error("logging was set up already: {0}")]
    AlreadySet(String),
}

/// The filter: `ARCO_LOG` when set and not empty, else `level`.
pub fn filter(level: &str) -> Result<EnvFilter, LogError> {
    let (text, from) = match std::env::var(FILTER_ENV) {
        Ok(v) if !v.trim().is_empty() => (v, FILTER_ENV.to_string()),
        _ => (level.to_string(), "the log level given".to_string()),
    };
    EnvFilter::try_new(&text).map_err(|e| LogError::Filter {
        filter: text,
        from,
        message: e.to_string(),
    })
}

/// A subscriber writing `format` lines to `writer`, filtered by `filter`.
/// [`init`] uses it with stderr; tests give their own writer.
pub fn subscriber<W>(
    format: LogFormat,
    filter: EnvFilter,
    writer: W,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Text => Box::new(b.finish()),
        LogFormat::Json => Box::new(
            b.json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(false)
                .finish(),
        ),
    }
}

/// Set up the process's logging: `format` lines on stderr, filtered by
/// `ARCO_LOG` or else `level` (`info`, `debug`, …). Call once, from the
/// binary; records of the `log` crate are forwarded too.
pub fn init(format: LogFormat, level: &str) -> Result<(), LogError> {
    let sub = subscriber(format, filter(level)?, std::io::stderr);
    tracing::subscriber::set_global_default(sub)
        .map_err(|e| LogError::AlreadySet(e.to_string()))?;
    // Forward the `log` crate's records (dependencies that use it); a
    // logger set before is kept.
    let _ = tracing_log::LogTracer::init();
    Ok(())
}

/// A request's id: in the request's extensions (handlers may quote it in
/// errors) and in the `X-Request-Id` response header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub Arc<str>);

/// The client's `X-Request-Id` when it is 1 to 128 characters of
/// `[A-Za-z0-9._:-]`, else a new one.
fn request_id(headers: &HeaderMap) -> Arc<str> {
    if let Some(v) = headers.get(REQUEST_ID_HEADER).and_then(|v| v.to_str().ok()) {
        if !v.is_empty()
            && v.len() <= 128
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b))
        {
            return Arc::from(v);
        }
    }
    static SEED: OnceLock<u64> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let seed = *SEED.get_or_init(|| {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(std::process::id() as u64);
        h.finish()
    });
    // An odd multiplier is a bijection modulo 2^64: ids do not repeat
    // within a process, and do not give away the request count.
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    Arc::from(format!("{:016x}", seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15)).as_str())
}

struct Line {
    method: Method,
    route: Option<MatchedPath>,
    path: String,
    status: u16,
    latency_ms: f64,
    request_id: Arc<str>,
    caller: Option<Arc<str>>,
    remote: Option<SocketAddr>,
}

impl Line {
    fn emit(self, bytes: u64) {
        let route = self.route.as_ref().map_or(UNMATCHED, MatchedPath::as_str);
        let latency_ms = (self.latency_ms * 1000.0).round() / 1000.0;
        let remote = self.remote.map(|r| r.to_string());
        macro_rules! ev {
            ($lvl:expr) => {
                tracing::event!(
                    target: TARGET,
                    $lvl,
                    method = %self.method,
                    route = %route,
                    path = %self.path,
                    status = self.status,
                    latency_ms,
                    bytes,
                    request_id = %self.request_id,
                    caller = self.caller.as_deref(),
                    remote = remote.as_deref(),
                    "request"
                )
            };
        }
        if self.status >= 500 {
            ev!(tracing::Level::ERROR);
        } else {
            ev!(tracing::Level::INFO);
        }
    }
}

/// The request-log middleware (use with `axum::middleware::from_fn(logging::request_log)`,
/// or [`log_requests`]): one event per request when its body has been sent
/// (or dropped), and the `X-Request-Id` header on every response.
pub async fn request_log(mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    let id = request_id(req.headers());
    req.extensions_mut().insert(RequestId(Arc::clone(&id)));
    let span = tracing::info_span!("request", request_id = %id);
    if !tracing::enabled!(target: TARGET, tracing::Level::ERROR) {
        let mut res = next.run(req).instrument(span).await;
        if let Ok(v) = HeaderValue::from_str(&id) {
            res.headers_mut().insert(REQUEST_ID_HEADER, v);
        }
        return res;
    }
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let path = req.uri().path().to_string();
    let remote = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let mut res = next.run(req).instrument(span).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    let line = Line {
        method: method.clone(),
        route,
        path,
        status: res.status().as_u16(),
        latency_ms: start.elapsed().as_secs_f64() * 1000.0,
        request_id: id,
        caller: res
            .extensions()
            .get::<Caller>()
            .and_then(|c| c.name.clone()),
        remote,
    };
    if method == Method::HEAD {
        line.emit(0);
        return res;
    }
    on_body_end(res, move |n| line.emit(n))
}

/// `router` with [`request_log`] added as a layer (every route and the
/// fallback).
pub fn log_requests(router: Router) -> Router {
    router.layer(axum::middleware::from_fn(request_log))
}
