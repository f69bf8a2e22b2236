//! `arco serve`: the datasets found under the paths given (map tiles, time
//! series, OGC EDR, Zarr over HTTP, the viewer) and a STAC API over them and
//! any catalogs given, in memory (the embedded backend), or over a pgstac
//! database with `--pgstac URL`.

use crate::source::{self, StorageArgs};
use anyhow::Context;
use arco_server::data::{self, DataRegistry};
use arco_server::{AppState, Backend, Cors, LoadOptions, ServerConfig};
use std::io::Write;
use std::sync::Arc;

/// Arguments of `arco serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// What to serve: datasets (Zarr stores, kerchunk references, NetCDF,
    /// HDF5, GRIB and GeoTIFF files), folders of them (walked), STAC
    /// catalogs (catalog.json, collection.json or item JSON files, or
    /// folders of them), or their URLs (http(s)://, s3://). Datasets get map
    /// tiles, time series, OGC EDR and Zarr endpoints and a viewer at
    /// /viewer; every one is also a STAC collection. With --pgstac, the
    /// catalogs are first upserted into the database.
    #[arg(value_name = "PATH|URL", required_unless_present = "pgstac")]
    pub sources: Vec<String>,
    /// Address to listen on; port 0 picks a free port (the URL is printed).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "HOST:PORT")]
    pub addr: String,
    /// Serve from a PostgreSQL database with the pgstac schema, e.g.
    /// postgresql://user:pass@127.0.0.1:5432/db (no TLS).
    #[arg(long, value_name = "URL")]
    pub pgstac: Option<String>,
    /// Origins allowed to read the API from browsers: '*' or a
    /// comma-separated list such as https://a.example,https://b.example
    /// (default: none).
    #[arg(long, value_name = "ORIGINS", value_parser = parse_cors)]
    pub cors: Option<Cors>,
    /// Public base URL of the API for the links it writes, e.g.
    /// https://example.com/stac (default: from the request's Host and
    /// Forwarded/X-Forwarded-* headers).
    #[arg(long, value_name = "URL", value_parser = parse_base_url)]
    pub base_url: Option<String>,
    /// Bound of the in-memory cache of decoded chunks shared by all datasets
    /// (e.g. 512MiB, 2GiB).
    #[arg(long, default_value = "512MiB", value_name = "BYTES", value_parser = parse_cache_size)]
    pub cache_size: u64,
    /// Who may read what: a TOML file of API keys and JWT settings with
    /// per-collection grants (docs/design/serve-ops.md). Default: open.
    #[arg(long, value_name = "FILE")]
    pub auth: Option<std::path::PathBuf>,
    /// `max-age` in seconds of the Cache-Control of tiles and data (0: no-cache).
    #[arg(long, default_value_t = 3600, value_name = "SECONDS")]
    pub cache_max_age: u64,
    /// Request and server logs on stderr: text or json (one object per line).
    #[arg(long, default_value = "text", value_name = "FORMAT")]
    pub log_format: arco_server::logging::LogFormat,
    /// Log level (error, warn, info, debug, trace; `info` logs every
    /// request); $ARCO_LOG overrides it with a filter such as `arco::http=info`.
    #[arg(long, default_value = "warn", value_name = "LEVEL")]
    pub log_level: String,
}

fn parse_cache_size(s: &str) -> Result<u64, String> {
    arco_engine::memory::parse_bytes(s).map_err(|e| e.to_string())
}

fn parse_cors(s: &str) -> Result<Cors, String> {
    Cors::parse(s)
}

fn parse_base_url(s: &str) -> Result<String, String> {
    match url::Url::parse(s) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.query().is_none() => {
            Ok(s.trim_end_matches('/').to_string())
        }
        _ => Err(format!(
            "'{s}' is not an http(s) URL without query, such as https://example.com/stac"
        )),
    }
}

/// Run `arco serve` until SIGINT or SIGTERM.
pub fn run(args: &ServeArgs, storage: &StorageArgs, json: bool) -> anyhow::Result<()> {
    arco_server::logging::init(args.log_format, &args.log_level)
        .context("setting up the logs (--log-format, --log-level, $ARCO_LOG)")?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .thread_name("arco-serve")
        .enable_all()
        .build()
        .context("starting the server runtime")?;
    let opts = LoadOptions {
        storage: source::open_options(storage, Some(&rt)),
    };
    let result = rt.block_on(serve(args, opts, json));
    // Do not wait for idle blocking threads (loading, searches) to time out.
    rt.shutdown_timeout(std::time::Duration::from_secs(2));
    result
}

async fn load(sources: &[String], opts: LoadOptions) -> anyhow::Result<arco_server::LoadedCatalog> {
    let sources = sources.to_vec();
    tokio::task::spawn_blocking(move || arco_server::load(&sources, &opts))
        .await
        .context("loading the catalogs")?
        .context("loading the catalogs")
}

/// Open the datasets under `sources` and load the STAC catalogs among them:
/// the datasets, and one catalog holding both.
async fn discover(
    sources: &[String],
    opts: LoadOptions,
    cache_size: u64,
    json: bool,
) -> anyhow::Result<(DataRegistry, arco_server::LoadedCatalog)> {
    let sources = sources.to_vec();
    let found = {
        let opts = opts.clone();
        tokio::task::spawn_blocking(move || data::discover(&sources, &opts, cache_size))
            .await
            .context("opening the datasets")?
            .context("opening the datasets")?
    };
    for (location, why) in &found.skipped {
        if json {
            println!(
                "{}",
                serde_json::json!({"event": "skipped", "location": location, "reason": why})
            );
        } else {
            eprintln!("warning: not serving {location}: {why}");
        }
    }
    let mut catalog = found.catalog;
    if !found.stac_sources.is_empty() {
        let stac = load(&found.stac_sources, opts).await?;
        catalog.root = stac.root;
        catalog.collections.extend(stac.collections);
        catalog.items.extend(stac.items);
    }
    if catalog.collections.is_empty() && catalog.items.is_empty() {
        anyhow::bail!(
            "nothing to serve in {}: no dataset (Zarr, NetCDF, HDF5, GRIB, GeoTIFF, kerchunk) and no STAC catalog found",
            if found.skipped.is_empty() { "the paths given".to_string() } else { format!("the paths given ({} files could not be opened, see above)", found.skipped.len()) }
        );
    }
    Ok((found.registry, catalog))
}

async fn serve(args: &ServeArgs, opts: LoadOptions, json: bool) -> anyhow::Result<()> {
    let mut registry = DataRegistry::default();
    let (backend, collections, items) = match &args.pgstac {
        None => {
            let (reg, cat) = discover(&args.sources, opts, args.cache_size, json).await?;
            registry = reg;
            let backend =
                arco_server::EmbeddedBackend::new(cat).context("indexing the catalogs")?;
            let (c, i) = (backend.collections().len(), backend.item_count());
            (Backend::Embedded(Arc::new(backend)), Some(c), Some(i))
        }
        Some(url) => pgstac_backend(url, &args.sources, opts, json).await?,
    };
    let listener = tokio::net::TcpListener::bind(&args.addr)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}; give another --addr (port 0 picks a free one)",
                args.addr
            )
        })?;
    let local = listener
        .local_addr()
        .with_context(|| format!("reading the address bound for {}", args.addr))?;
    let fallback_base = format!("http://{local}");
    let state = Arc::new(AppState {
        backend,
        config: ServerConfig {
            base_url: args.base_url.clone(),
            fallback_base: fallback_base.clone(),
            cors: args.cors.clone().unwrap_or_default(),
            auth: match &args.auth {
                Some(path) => Some(Arc::new(
                    arco_server::auth::AuthConfig::from_file(path)
                        .with_context(|| format!("reading --auth {}", path.display()))?,
                )),
                None => None,
            },
            cache: Arc::new(
                arco_server::httpcache::CacheConfig::default()
                    .with_data_max_age(args.cache_max_age),
            ),
            ..ServerConfig::default()
        },
        data: Arc::new(registry),
    });
    let backend_name = if args.pgstac.is_some() {
        "pgstac"
    } else {
        "embedded"
    };
    let url = format!("{}/", args.base_url.as_deref().unwrap_or(&fallback_base));
    let datasets = state.data.len();
    {
        let mut out = std::io::stdout().lock();
        if json {
            let ev = serde_json::json!({
                "event": "listening",
                "url": url,
                "addr": local.to_string(),
                "backend": backend_name,
                "collections": collections,
                "items": items,
                "datasets": datasets,
                "viewer": format!("{url}viewer"),
            });
            writeln!(out, "{ev}")?;
        } else {
            let what = match (collections, items) {
                (Some(c), Some(i)) => format!("{backend_name}: {c} collections, {i} items"),
                _ => backend_name.to_string(),
            };
            if datasets > 0 {
                writeln!(
                    out,
                    "serving {datasets} dataset{} (tiles, time series, EDR, Zarr) and the STAC API at {url} ({what})",
                    if datasets == 1 { "" } else { "s" }
                )?;
                writeln!(out, "viewer: {url}viewer   (Ctrl-C stops)")?;
            } else {
                writeln!(out, "serving the STAC API at {url} ({what}); Ctrl-C stops")?;
            }
        }
        out.flush()?;
    }
    arco_server::serve(listener, arco_server::router(state), shutdown_signal())
        .await
        .context("serving")?;
    if json {
        println!("{}", serde_json::json!({"event": "stopped"}));
    } else {
        eprintln!("stopped");
    }
    Ok(())
}

async fn pgstac_backend(
    url: &str,
    sources: &[String],
    opts: LoadOptions,
    json: bool,
) -> anyhow::Result<(Backend, Option<usize>, Option<usize>)> {
    use arco_server::pgstac;
    if !sources.is_empty() {
        let cat = load(sources, opts).await?;
        let s = pgstac::load_pgstac_catalog(url, cat)
            .await
            .context("loading the catalogs into pgstac")?;
        if json {
            println!(
                "{}",
                serde_json::json!({"event": "loaded", "collections": s.collections, "items": s.items, "queryables": s.queryables})
            );
        } else {
            eprintln!(
                "loaded {} collections and {} items into pgstac ({} new queryables)",
                s.collections, s.items, s.queryables
            );
        }
    }
    let b = pgstac::PgstacBackend::connect(url).await?;
    Ok((Backend::Pgstac(Arc::new(b)), None, None))
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
