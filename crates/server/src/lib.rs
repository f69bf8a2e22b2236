//! arco's HTTP server: a STAC API over the catalogs arco writes.
//!
//! - Landing page `/`, `/conformance`, `/collections`, `/collections/{id}`,
//!   `/collections/{id}/items` (bbox, datetime, limit, token, filter, sortby,
//!   fields), `/collections/{id}/items/{itemId}`, `/search` (GET and POST:
//!   bbox, intersects, datetime, ids, collections, limit, token, CQL2 filter
//!   in text and JSON, sortby, fields), `/queryables` and
//!   `/collections/{id}/queryables`, `/api` (OpenAPI 3.0), `/api.html`,
//!   `/healthz`.
//! - Two backends answering alike: [`EmbeddedBackend`] (the catalogs given on
//!   the command line, in memory, indexed) and, with the `pgstac` feature (on
//!   by default), [`pgstac::PgstacBackend`] over a PostgreSQL database with
//!   the pgstac schema; [`pgstac::load_pgstac`] fills one.
//! - Errors are JSON, `{"code": ..., "description": ...}`: 400 for a malformed
//!   request (saying what is valid), 404 for an unknown collection, item or
//!   path.
//!
//! Layers: [`api`] holds the endpoints as plain functions over an
//! [`AppState`]; [`routes`] is the thin axum edge; [`router`] builds the
//! `axum::Router` that later endpoints (tiles, EDR, Zarr) merge into.
#![warn(missing_docs)]

pub mod api;
pub mod auth;
pub mod covjson;
pub mod cql;
pub mod data;
pub mod datetime;
pub mod edr;
pub mod embedded;
pub mod error;
pub mod fields;
pub mod geometry;
pub mod httpcache;
pub mod load;
pub mod logging;
pub mod maps;
pub mod metrics;
#[cfg(feature = "pgstac")]
pub mod pgstac;
pub mod queryables;
pub mod routes;
pub mod search;
pub mod viewer;
pub mod zarrhttp;

pub use api::{Ctx, Document, SearchInput};
pub use embedded::{EmbeddedBackend, SearchPage};
pub use error::{ApiError, LoadError};
pub use load::{load, load_async, LoadOptions, LoadedCatalog};
pub use routes::router;
pub use search::SearchRequest;

use std::sync::Arc;

/// Where the items come from.
#[derive(Debug, Clone)]
pub enum Backend {
    /// Catalogs loaded into memory.
    Embedded(Arc<EmbeddedBackend>),
    /// A pgstac database.
    #[cfg(feature = "pgstac")]
    Pgstac(Arc<pgstac::PgstacBackend>),
}

/// Which origins may read the API from a browser.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Cors {
    /// No CORS headers (browsers on other origins are refused).
    #[default]
    Off,
    /// Any origin (`Access-Control-Allow-Origin: *`).
    Any,
    /// These origins, e.g. `https://radiantearth.github.io`.
    Origins(Vec<String>),
}

impl Cors {
    /// Read `--cors`: `*` or a comma-separated list of origins.
    pub fn parse(s: &str) -> Result<Cors, String> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(Cors::Off);
        }
        if s == "*" {
            return Ok(Cors::Any);
        }
        let origins: Vec<String> = s
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_string())
            .filter(|o| !o.is_empty())
            .collect();
        for o in &origins {
            if !(o.starts_with("http://") || o.starts_with("https://"))
                || http::HeaderValue::from_str(o).is_err()
            {
                return Err(format!(
                    "--cors origin '{o}' is not an origin such as https://example.com; give '*' or a comma-separated list of origins"
                ));
            }
        }
        Ok(Cors::Origins(origins))
    }

    /// The tower layer, or `None` when off.
    pub fn layer(&self) -> Option<tower_http::cors::CorsLayer> {
        use tower_http::cors::{AllowOrigin, Any, CorsLayer};
        let base = CorsLayer::new()
            .allow_methods([http::Method::GET, http::Method::POST, http::Method::OPTIONS])
            .allow_headers(Any);
        match self {
            Cors::Off => None,
            Cors::Any => Some(base.allow_origin(Any)),
            Cors::Origins(list) => {
                let values: Vec<http::HeaderValue> = list
                    .iter()
                    .filter_map(|o| http::HeaderValue::from_str(o).ok())
                    .collect();
                Some(base.allow_origin(AllowOrigin::list(values)))
            }
        }
    }
}

/// Server settings.
#[derive(Debug, Clone, Default)]
pub struct ServerConfig {
    /// The public base URL (`https://example.com/stac`); when unset, links
    /// are built from `Forwarded`/`X-Forwarded-*`/`Host` headers.
    pub base_url: Option<String>,
    /// Base URL when a request has no `Host` header: the bound address.
    pub fallback_base: String,
    /// CORS.
    pub cors: Cors,
    /// Landing page id (default: the root catalog's, else `arco`).
    pub id: Option<String>,
    /// Landing page title (default: the root catalog's).
    pub title: Option<String>,
    /// Prometheus metrics (`/metrics`).
    pub metrics: metrics::Metrics,
    /// Who may read what (`arco serve --auth FILE`); `None`: everything open.
    pub auth: Option<Arc<auth::AuthConfig>>,
    /// `ETag`/`304` and `Cache-Control` rules.
    pub cache: Arc<httpcache::CacheConfig>,
}

/// What every request shares.
#[derive(Debug)]
pub struct AppState {
    /// The backend.
    pub backend: Backend,
    /// The settings.
    pub config: ServerConfig,
    /// The datasets served by the tile, time-series, EDR and Zarr endpoints.
    pub data: Arc<data::DataRegistry>,
}

impl AppState {
    /// State over an embedded backend built from loaded catalogs.
    pub fn embedded(cat: LoadedCatalog, config: ServerConfig) -> Result<Self, LoadError> {
        Ok(AppState {
            backend: Backend::Embedded(Arc::new(EmbeddedBackend::new(cat)?)),
            config,
            data: Arc::default(),
        })
    }
}

/// Serve `router` on `listener` until `shutdown` completes, then finish the
/// requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}
