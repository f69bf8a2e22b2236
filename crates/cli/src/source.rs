//! From a location string to an opened reader.

use anyhow::Context;
use arco_formats::Reader;
use arco_storage::{DynSource, Location, OpenOptions, ReadCounter, ReadStats, S3Options};

/// Options for reaching remote storage, shared by every command.
#[derive(Debug, Clone, clap::Args)]
pub struct StorageArgs {
    /// S3-compatible endpoint, for example http://127.0.0.1:9000 (default: $AWS_ENDPOINT_URL, else AWS).
    #[arg(long, global = true, value_name = "URL")]
    pub s3_endpoint: Option<String>,
    /// S3 region (default: $AWS_REGION, else us-east-1).
    #[arg(long, global = true, value_name = "REGION")]
    pub s3_region: Option<String>,
    /// Read public buckets without credentials (no request signing).
    #[arg(long, global = true)]
    pub anonymous: bool,
    /// Allow plain http:// S3 endpoints that are not on loopback.
    #[arg(long, global = true)]
    pub allow_http: bool,
}

/// An opened dataset, the source it reads from, and the runtime that serves
/// remote reads (kept alive as long as the reader).
pub struct Opened {
    /// The format reader.
    pub reader: Box<dyn Reader>,
    /// Requests and bytes read so far.
    counter: ReadCounter,
    // Dropped last: remote sources block on it.
    _runtime: Option<tokio::runtime::Runtime>,
}

impl Opened {
    /// Requests made and bytes fetched from storage so far.
    pub fn stats(&self) -> ReadStats {
        self.counter.stats()
    }
}

/// A runtime for remote reads of `location` (two I/O threads), `None` for
/// local paths. The binary owns it; library layers only get its handle.
pub fn runtime_for(location: &str) -> anyhow::Result<Option<tokio::runtime::Runtime>> {
    if !Location::parse(location)?.is_remote() {
        return Ok(None);
    }
    Ok(Some(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("arco-io")
            .enable_all()
            .build()
            .context("starting the I/O runtime")?,
    ))
}

/// A runtime for the files a reference set points into (two I/O threads):
/// local references may name `s3://` files.
pub fn kerchunk_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("arco-io")
        .enable_all()
        .build()
        .context("starting the I/O runtime")
}

/// Storage options from the command line, for a location served by `runtime`.
pub fn open_options(args: &StorageArgs, runtime: Option<&tokio::runtime::Runtime>) -> OpenOptions {
    OpenOptions {
        handle: runtime.map(|r| r.handle().clone()),
        s3: S3Options {
            endpoint: args.s3_endpoint.clone(),
            region: args.s3_region.clone(),
            anonymous: args.anonymous,
            allow_http: args.allow_http,
            ..S3Options::default()
        },
        ..OpenOptions::default()
    }
}

/// Open `location` (a path or URL) as a byte source.
pub fn open_source(
    location: &str,
    args: &StorageArgs,
) -> anyhow::Result<(DynSource, ReadCounter, Option<tokio::runtime::Runtime>)> {
    let counter = ReadCounter::default();
    let runtime = runtime_for(location)?;
    let options = OpenOptions {
        counter: Some(counter.clone()),
        ..open_options(args, runtime.as_ref())
    };
    let source = arco_storage::open(location, &options)?;
    Ok((source, counter, runtime))
}

/// Expand globs in local paths (sorted); URLs and plain paths pass through.
pub fn expand(sources: &[String]) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for s in sources {
        let local = matches!(Location::parse(s), Ok(Location::Local(_)));
        if local && s.contains(['*', '?', '[']) {
            let mut found: Vec<String> = glob::glob(s)
                .with_context(|| format!("'{s}' is not a valid glob pattern"))?
                .filter_map(|p| p.ok())
                .filter(|p| p.is_file())
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            if found.is_empty() {
                anyhow::bail!("no file matches {s}");
            }
            found.sort();
            out.extend(found);
        } else {
            out.push(s.clone());
        }
    }
    Ok(out)
}

/// Several sources opened as one dataset, with their bytes and the runtimes
/// their remote reads need (dropped last).
pub struct Inputs {
    /// One source, or the concatenation of several.
    pub reader: Box<dyn Reader>,
    /// Each source's location and bytes, in order.
    pub sources: Vec<(String, DynSource)>,
    _runtimes: Vec<tokio::runtime::Runtime>,
}

/// Open every source; combine them as `combine` says when there are several
/// (or one is given a coordinate). Combined sources are opened again, one
/// at a time, when they are read (`crate::combine::open_combined`); here
/// only their bytes are kept.
pub fn open_inputs(
    sources: &[String],
    combine: &crate::combine::CombineArgs,
    args: &StorageArgs,
) -> anyhow::Result<Inputs> {
    let combined = combine.combines(sources.len());
    let mut runtimes = Vec::new();
    let mut readers: Vec<(String, Box<dyn Reader>)> = Vec::new();
    let mut bytes = Vec::new();
    for s in sources {
        if is_icechunk_location(s) {
            // An Icechunk repository: its values come through the
            // repository; the object that changes with each commit stands
            // for it in the provenance (see `icechunk_own_bytes`).
            if combined {
                anyhow::bail!(
                    "{s}: an Icechunk repository cannot be combined with other sources; give it alone"
                );
            }
            readers.push((s.clone(), open_icechunk(s, args)?));
            let runtime = kerchunk_runtime()?;
            let options = open_options(args, Some(&runtime));
            bytes.push(icechunk_own_bytes(s, &options)?);
            runtimes.push(runtime);
            continue;
        }
        if arco_formats::kerchunk::is_kerchunk_location(s) {
            // A reference set: its values come through the references; its
            // own bytes (the JSON, or a Parquet folder's .zmetadata) stand
            // for it in the provenance.
            let runtime = kerchunk_runtime()?;
            let options = open_options(args, Some(&runtime));
            if !combined {
                let reader = arco_formats::kerchunk::open_kerchunk(s, &options)
                    .with_context(|| format!("cannot open {s}"))?;
                readers.push((s.clone(), reader));
            }
            let own = match Location::parse(s)? {
                Location::Local(p) if p.is_dir() => {
                    p.join(".zmetadata").to_string_lossy().into_owned()
                }
                _ => s.clone(),
            };
            let bytes_of = arco_storage::open(&own, &options)?;
            bytes.push((s.clone(), bytes_of));
            runtimes.push(runtime);
            continue;
        }
        let (source, _counter, runtime) = open_source(s, args)?;
        if !combined {
            let reader =
                arco_formats::open(source.clone()).with_context(|| format!("cannot open {s}"))?;
            readers.push((s.clone(), reader));
        }
        bytes.push((s.clone(), source));
        runtimes.extend(runtime);
    }
    let reader: Box<dyn Reader> = if combined {
        let joined = crate::combine::open_combined(sources, combine, args)?;
        runtimes.extend(joined.runtime);
        Box::new(joined.reader)
    } else {
        match readers.pop() {
            Some((_, r)) => r,
            None => anyhow::bail!("no source"),
        }
    };
    Ok(Inputs {
        reader,
        sources: bytes,
        _runtimes: runtimes,
    })
}

/// True when `location` names an Icechunk repository (a directory laid out
/// as one, or a path or `s3://` prefix ending in `.icechunk`, with an
/// optional `@branch`, `@tag:NAME` or `@snapshot:ID` suffix).
pub fn is_icechunk_location(location: &str) -> bool {
    #[cfg(feature = "icechunk")]
    {
        arco_icechunk::is_icechunk_location(location)
    }
    #[cfg(not(feature = "icechunk"))]
    {
        let base = match location.rsplit_once('@') {
            Some((b, v)) if !b.is_empty() && !v.is_empty() && !v.contains('/') => b,
            _ => location,
        };
        let named = base.trim_end_matches('/').ends_with(".icechunk");
        match Location::parse(base) {
            Ok(Location::Local(p)) => {
                named
                    || p.join("repo").is_file()
                    || (p.join("snapshots").is_dir()
                        && (p.join("refs").is_dir() || p.join("config.yaml").is_file()))
            }
            Ok(Location::S3 { .. }) => named,
            _ => false,
        }
    }
}

/// Open an Icechunk repository as a reader (cargo feature `icechunk`); its
/// reads run on a runtime of its own.
#[cfg(feature = "icechunk")]
pub fn open_icechunk(location: &str, args: &StorageArgs) -> anyhow::Result<Box<dyn Reader>> {
    arco_icechunk::open_reader(location, &open_options(args, None))
        .with_context(|| format!("cannot open {location}"))
}

/// Without the `icechunk` feature: say how to get it.
#[cfg(not(feature = "icechunk"))]
pub fn open_icechunk(location: &str, _args: &StorageArgs) -> anyhow::Result<Box<dyn Reader>> {
    anyhow::bail!(
        "{location} is an Icechunk repository: this arco was built without Icechunk support; rebuild with `--features icechunk` (a default feature)"
    )
}

/// The object that stands for a repository in provenance, and its
/// location: `repo` (spec version 2, rewritten by every commit), else
/// `refs/branch.main/ref.json` (spec version 1, the tip of `main`), else
/// `config.yaml`.
fn icechunk_own_bytes(
    location: &str,
    options: &OpenOptions,
) -> anyhow::Result<(String, DynSource)> {
    let base = match location.rsplit_once('@') {
        Some((b, v)) if !b.is_empty() && !v.is_empty() && !v.contains('/') => b,
        _ => location,
    };
    let base = base.trim_end_matches('/');
    let mut last = None;
    for name in ["repo", "refs/branch.main/ref.json", "config.yaml"] {
        let own = format!("{base}/{name}");
        match arco_storage::open(&own, options) {
            Ok(s) => return Ok((own, s)),
            Err(e) => last = Some(e),
        }
    }
    match last {
        Some(e) => Err(anyhow::Error::new(e).context(format!(
            "{location}: none of repo, refs/branch.main/ref.json, config.yaml can be read"
        ))),
        None => anyhow::bail!("{location}: no repository object"),
    }
}

/// Open `location` (a path or URL: a file, or a Zarr hierarchy) and recognise its format.
pub fn open(location: &str, args: &StorageArgs) -> anyhow::Result<Opened> {
    if is_icechunk_location(location) {
        return Ok(Opened {
            reader: open_icechunk(location, args)?,
            counter: ReadCounter::default(),
            _runtime: None,
        });
    }
    if arco_formats::kerchunk::is_kerchunk_location(location) {
        let counter = ReadCounter::default();
        // The references may point at remote files even when they are local.
        let runtime = kerchunk_runtime()?;
        let options = OpenOptions {
            counter: Some(counter.clone()),
            ..open_options(args, Some(&runtime))
        };
        let reader = arco_formats::kerchunk::open_kerchunk(location, &options)
            .with_context(|| format!("cannot open {location}"))?;
        return Ok(Opened {
            reader,
            counter,
            _runtime: Some(runtime),
        });
    }
    if arco_formats::is_zarr_location(location) {
        let counter = ReadCounter::default();
        let runtime = runtime_for(location)?;
        let reader = arco_formats::open_zarr(location, &open_options(args, runtime.as_ref()))
            .with_context(|| format!("cannot open {location}"))?;
        return Ok(Opened {
            reader,
            counter,
            _runtime: runtime,
        });
    }
    let (source, counter, runtime) = open_source(location, args)?;
    let reader = arco_formats::open(source).with_context(|| format!("cannot open {location}"))?;
    Ok(Opened {
        reader,
        counter,
        _runtime: runtime,
    })
}
