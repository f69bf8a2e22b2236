//! Prometheus metrics, text exposition format 0.0.4, written by hand.
//!
//! - HTTP: `arco_http_requests_total{route,method,status}`,
//!   `arco_http_request_duration_seconds{route}` (a histogram, buckets from
//!   1 ms to 10 s), `arco_http_response_bytes_total{route}` and
//!   `arco_http_requests_in_flight`, recorded by the [`track`] middleware.
//!   `route` is the axum route template (`/collections/{collection_id}`),
//!   never the raw path, so the number of series stays bounded; requests no
//!   route matched are `route="unmatched"`. Methods other than the standard
//!   ones are counted as `method="other"`.
//! - Anything else (the chunk cache, storage) through callbacks read at
//!   scrape time: [`Metrics::register_counter_fn`] and
//!   [`Metrics::register_gauge_fn`].
//!
//! Recording never takes a shared lock: each runtime worker thread records
//! into its own shard (a read-mostly map of atomic series, one per route,
//! method and status), and [`Metrics::render`] adds the shards up.

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use parking_lot::{Mutex, RwLock};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

/// The media type of the Prometheus text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds (seconds) of the request duration histogram's buckets
/// (`+Inf` comes last, implicitly).
pub const DURATION_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The `route` label of a request no route matched.
pub const UNMATCHED: &str = "unmatched";

/// Names the HTTP middleware writes; callbacks cannot take them.
const RESERVED: [&str; 5] = [
    "arco_http_requests_total",
    "arco_http_request_duration_seconds",
    "arco_http_response_bytes_total",
    "arco_http_requests_in_flight",
    "arco_build_info",
];

/// Shards: more than the worker threads of any machine arco serves on, so
/// that two threads rarely share one.
const SHARDS: usize = 64;

/// A callback cannot be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetricsError {
    /// A metric or label name is not `[a-zA-Z_:][a-zA-Z0-9_:]*` (labels: no `:`).
    #[error("'{0}' is not a valid Prometheus metric or label name; use letters, digits and '_' (not starting with a digit)")]
    InvalidName(String),
    /// The name is written by the HTTP middleware.
    #[error("metric '{0}' is written by the HTTP middleware; give the callback another name")]
    Reserved(String),
    /// The name was registered before as another type (counter vs gauge).
    #[error("metric '{name}' was registered as a {was} before; a name has one type, give this one another name")]
    TypeConflict {
        /// The metric.
        name: String,
        /// `counter` or `gauge`.
        was: &'static str,
    },
    /// The same name and labels were registered before.
    #[error("metric '{name}' with labels {labels} is registered already; give it different labels or register it once")]
    Duplicate {
        /// The metric.
        name: String,
        /// The labels, as written in the exposition.
        labels: String,
    },
}

/// One route × method × status: atomics only.
#[derive(Debug, Default)]
struct Series {
    count: AtomicU64,
    /// Non-cumulative: `buckets[i]` counts durations in
    /// `(DURATION_BUCKETS[i-1], DURATION_BUCKETS[i]]`; the last one, above
    /// the largest bound.
    buckets: [AtomicU64; DURATION_BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
    bytes: AtomicU64,
}

type SeriesList = Vec<(&'static str, u16, Arc<Series>)>;

/// One thread's share, on its own cache lines.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Shard {
    /// route template → (method, status, series).
    map: RwLock<HashMap<Box<str>, SeriesList>>,
    /// Requests begun minus requests answered on this shard (a request may
    /// end on another thread than it began: only the sum is meaningful).
    in_flight: AtomicI64,
}

impl Shard {
    fn series(&self, route: &str, method: &'static str, status: u16) -> Arc<Series> {
        if let Some(list) = self.map.read().get(route) {
            if let Some((_, _, s)) = list.iter().find(|(m, st, _)| *m == method && *st == status) {
                return Arc::clone(s);
            }
        }
        let mut map = self.map.write();
        let list = map.entry(route.into()).or_default();
        if let Some((_, _, s)) = list.iter().find(|(m, st, _)| *m == method && *st == status) {
            return Arc::clone(s);
        }
        let s = Arc::new(Series::default());
        list.push((method, status, Arc::clone(&s)));
        s
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        }
    }
}

type Callback = Box<dyn Fn() -> u64 + Send + Sync>;

struct Family {
    name: String,
    help: String,
    kind: Kind,
    /// (rendered labels `{a="b"}` or empty, callback)
    series: Vec<(String, Callback)>,
}

struct Inner {
    shards: Box<[Shard]>,
    families: Mutex<Vec<Family>>,
}

/// The server's metrics: cheap to clone (one `Arc`), shared by the
/// middleware, the `/metrics` handler and whoever registers callbacks.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

fn shard_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static INDEX: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    INDEX.with(|i| *i)
}

/// The method label: the standard methods by name, anything else `other`
/// (a client inventing methods must not invent series).
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

fn valid_name(s: &str, label: bool) -> bool {
    let mut chars = s.chars();
    let first_ok = matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || (!label && c == ':'));
    first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (!label && c == ':'))
}

/// A label value escaped for the text format (`\`, `"`, newline).
fn escape_label(v: &str, out: &mut String) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// HELP text escaped (`\`, newline).
fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

fn write_labels(out: &mut String, labels: &[(&str, &str)]) {
    if labels.is_empty() {
        return;
    }
    out.push('{');
    for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(k);
        out.push_str("=\"");
        escape_label(v, out);
        out.push('"');
    }
    out.push('}');
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {}", escape_help(help));
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

#[derive(Default)]
struct Hist {
    buckets: [u64; DURATION_BUCKETS.len() + 1],
    sum_nanos: u64,
    count: u64,
}

impl Metrics {
    /// Empty metrics.
    pub fn new() -> Self {
        Metrics {
            inner: Arc::new(Inner {
                shards: (0..SHARDS).map(|_| Shard::default()).collect(),
                families: Mutex::new(Vec::new()),
            }),
        }
    }

    fn shard(&self) -> &Shard {
        &self.inner.shards[shard_index() % self.inner.shards.len()]
    }

    /// Record one answered request: `route` a route template (or
    /// [`UNMATCHED`]), `seconds` from the request to the response's head.
    /// Returns the series, to add the response's bytes once they are sent.
    fn record(&self, route: &str, method: &Method, status: u16, seconds: f64) -> Arc<Series> {
        let s = self.shard().series(route, method_label(method), status);
        let b = DURATION_BUCKETS.partition_point(|&le| le < seconds);
        s.buckets[b].fetch_add(1, Ordering::Relaxed);
        s.sum_nanos
            .fetch_add((seconds * 1e9) as u64, Ordering::Relaxed);
        s.count.fetch_add(1, Ordering::Relaxed);
        s
    }

    /// Register a counter read at scrape time, e.g. the chunk cache's hits:
    /// `register_counter_fn("arco_cache_hits_total", "Chunk cache hits.", &[], move || cache.hits())`.
    /// The same name may be registered again with other labels (one
    /// `# HELP`/`# TYPE` is written, the first help text).
    pub fn register_counter_fn(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
        f: impl Fn() -> u64 + Send + Sync + 'static,
    ) -> Result<(), MetricsError> {
        self.register(name, help, labels, Kind::Counter, Box::new(f))
    }

    /// Register a gauge read at scrape time, e.g. the chunk cache's size in
    /// bytes: `register_gauge_fn("arco_cache_bytes", "Bytes held by the chunk cache.", &[], ...)`.
    pub fn register_gauge_fn(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
        f: impl Fn() -> u64 + Send + Sync + 'static,
    ) -> Result<(), MetricsError> {
        self.register(name, help, labels, Kind::Gauge, Box::new(f))
    }

    fn register(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
        kind: Kind,
        f: Callback,
    ) -> Result<(), MetricsError> {
        if !valid_name(name, false) {
            return Err(MetricsError::InvalidName(name.to_string()));
        }
        if RESERVED.contains(&name) {
            return Err(MetricsError::Reserved(name.to_string()));
        }
        for (k, _) in labels {
            if !valid_name(k, true) || k.starts_with("__") {
                return Err(MetricsError::InvalidName((*k).to_string()));
            }
        }
        let mut rendered = String::new();
        write_labels(&mut rendered, labels);
        let mut families = self.inner.families.lock();
        let fam = match families.iter_mut().position(|f| f.name == name) {
            Some(i) => &mut families[i],
            None => {
                families.push(Family {
                    name: name.to_string(),
                    help: help.to_string(),
                    kind,
                    series: Vec::new(),
                });
                let last = families.len() - 1;
                &mut families[last]
            }
        };
        if fam.kind != kind {
            return Err(MetricsError::TypeConflict {
                name: name.to_string(),
                was: fam.kind.name(),
            });
        }
        if fam.series.iter().any(|(l, _)| *l == rendered) {
            return Err(MetricsError::Duplicate {
                name: name.to_string(),
                labels: if rendered.is_empty() {
                    "{}".to_string()
                } else {
                    rendered
                },
            });
        }
        fam.series.push((rendered, f));
        Ok(())
    }

    /// Requests being answered now (begun, response head not yet returned).
    pub fn in_flight(&self) -> i64 {
        self.inner
            .shards
            .iter()
            .map(|s| s.in_flight.load(Ordering::Relaxed))
            .sum()
    }

    /// Every metric in the Prometheus text format 0.0.4.
    pub fn render(&self) -> String {
        // (route, method, status) → (count, bytes); route → histogram.
        let mut requests: BTreeMap<(String, &'static str, u16), u64> = BTreeMap::new();
        let mut bytes: BTreeMap<String, u64> = BTreeMap::new();
        let mut hists: BTreeMap<String, Hist> = BTreeMap::new();
        for shard in self.inner.shards.iter() {
            let map = shard.map.read();
            for (route, list) in map.iter() {
                for (method, status, s) in list {
                    let count = s.count.load(Ordering::Relaxed);
                    *requests
                        .entry((route.to_string(), method, *status))
                        .or_default() += count;
                    *bytes.entry(route.to_string()).or_default() += s.bytes.load(Ordering::Relaxed);
                    let h = hists.entry(route.to_string()).or_default();
                    // Read the buckets, then derive the count from them, so
                    // that `+Inf` equals `_count` even while requests land.
                    let mut n = 0;
                    for (acc, b) in h.buckets.iter_mut().zip(s.buckets.iter()) {
                        let v = b.load(Ordering::Relaxed);
                        *acc += v;
                        n += v;
                    }
                    h.count += n;
                    h.sum_nanos += s.sum_nanos.load(Ordering::Relaxed);
                }
            }
        }
        let mut out = String::with_capacity(4096);
        header(
            &mut out,
            "arco_build_info",
            "gauge",
            "The arco server's version (always 1).",
        );
        let _ = writeln!(
            out,
            "arco_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        header(
            &mut out,
            "arco_http_requests_total",
            "counter",
            "HTTP requests answered, by route template, method and status.",
        );
        for ((route, method, status), n) in &requests {
            out.push_str("arco_http_requests_total");
            write_labels(
                &mut out,
                &[
                    ("route", route),
                    ("method", method),
                    ("status", &status.to_string()),
                ],
            );
            let _ = writeln!(out, " {n}");
        }
        header(
            &mut out,
            "arco_http_request_duration_seconds",
            "histogram",
            "Time from a request to its response's head, by route template.",
        );
        for (route, h) in &hists {
            let mut cumulative = 0u64;
            for (i, n) in h.buckets.iter().enumerate() {
                cumulative += n;
                let le = match DURATION_BUCKETS.get(i) {
                    Some(b) => b.to_string(),
                    None => "+Inf".to_string(),
                };
                out.push_str("arco_http_request_duration_seconds_bucket");
                write_labels(&mut out, &[("route", route), ("le", &le)]);
                let _ = writeln!(out, " {cumulative}");
            }
            out.push_str("arco_http_request_duration_seconds_sum");
            write_labels(&mut out, &[("route", route)]);
            let _ = writeln!(out, " {}", h.sum_nanos as f64 / 1e9);
            out.push_str("arco_http_request_duration_seconds_count");
            write_labels(&mut out, &[("route", route)]);
            let _ = writeln!(out, " {}", h.count);
        }
        header(
            &mut out,
            "arco_http_response_bytes_total",
            "counter",
            "Response body bytes sent, by route template.",
        );
        for (route, n) in &bytes {
            out.push_str("arco_http_response_bytes_total");
            write_labels(&mut out, &[("route", route)]);
            let _ = writeln!(out, " {n}");
        }
        header(
            &mut out,
            "arco_http_requests_in_flight",
            "gauge",
            "Requests being answered now.",
        );
        let _ = writeln!(
            out,
            "arco_http_requests_in_flight {}",
            self.in_flight().max(0)
        );
        let families = self.inner.families.lock();
        for fam in families.iter() {
            header(&mut out, &fam.name, fam.kind.name(), &fam.help);
            for (labels, f) in &fam.series {
                let _ = writeln!(out, "{}{labels} {}", fam.name, f());
            }
        }
        out
    }

    /// The `/metrics` response: [`Metrics::render`] as `text/plain; version=0.0.4`.
    pub fn response(&self) -> Response {
        let mut r = Response::new(Body::from(self.render()));
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        r
    }
}

/// `GET /metrics` as an axum handler over a [`Metrics`] state.
pub async fn handler(State(m): State<Metrics>) -> Response {
    m.response()
}

/// A router with `GET /metrics` alone, to merge into the server's router
/// (`router.merge(metrics::router(m.clone()))`) before the layers are added.
pub fn router(metrics: Metrics) -> Router {
    Router::new()
        .route("/metrics", get(handler))
        .with_state(metrics)
}

/// Decrements the in-flight gauge when the request is answered or dropped.
struct InFlight<'a>(&'a Shard);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Middleware recording every request (use with
/// `axum::middleware::from_fn_with_state(metrics.clone(), metrics::track)`,
/// or [`instrument`]). Must be added with `Router::layer` (not
/// `route_layer`) after every route is merged: axum then runs it after
/// routing, where the route template ([`MatchedPath`]) is known.
pub async fn track(State(m): State<Metrics>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let matched = req.extensions().get::<MatchedPath>().cloned();
    let method = req.method().clone();
    let shard = m.shard();
    shard.in_flight.fetch_add(1, Ordering::Relaxed);
    let guard = InFlight(shard);
    let res = next.run(req).await;
    drop(guard);
    let route = matched.as_ref().map_or(UNMATCHED, MatchedPath::as_str);
    let series = m.record(
        route,
        &method,
        res.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    if method == Method::HEAD {
        return res;
    }
    on_body_end(res, move |n| {
        series.bytes.fetch_add(n, Ordering::Relaxed);
    })
}

/// `router` with [`track`] added as a layer: every route, and the fallback.
pub fn instrument(router: Router, metrics: Metrics) -> Router {
    router.layer(axum::middleware::from_fn_with_state(metrics, track))
}

/// Call `f` with the number of body bytes sent once the body of `res` is
/// finished (or dropped): at once when its size is known.
pub(crate) fn on_body_end(res: Response, f: impl FnOnce(u64) + Send + 'static) -> Response {
    use http_body::Body as _;
    if let Some(n) = res.body().size_hint().exact() {
        f(n);
        return res;
    }
    res.map(|body| {
        Body::new(CountingBody {
            inner: body,
            bytes: 0,
            done: Some(Box::new(f)),
        })
    })
}

type Done = Box<dyn FnOnce(u64) + Send>;

/// A body counting the bytes it yields; calls `done` at its end or drop.
struct CountingBody {
    inner: Body,
    bytes: u64,
    done: Option<Done>,
}

impl CountingBody {
    fn finish(&mut self) {
        if let Some(f) = self.done.take() {
            f(self.bytes);
        }
    }
}

impl Drop for CountingBody {
    fn drop(&mut self) {
        self.finish();
    }
}

impl http_body::Body for CountingBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(d) = frame.data_ref() {
                    this.bytes += d.len() as u64;
                }
            }
            Poll::Ready(None) | Poll::Ready(Some(Err(_))) => this.finish(),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
