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

/// Open every source; concatenate along `concat_dim` when there are several.
pub fn open_inputs(
    sources: &[String],
    concat_dim: Option<&str>,
    args: &StorageArgs,
) -> anyhow::Result<Inputs> {
    let mut runtimes = Vec::new();
    let mut readers: Vec<(String, Box<dyn Reader>)> = Vec::new();
    let mut bytes = Vec::new();
    for s in sources {
        if arco_formats::kerchunk::is_kerchunk_location(s) {
            // A reference set: its values come through the references; its
            // own bytes (the JSON, or a Parquet folder's .zmetadata) stand
            // for it in the provenance.
            let runtime = kerchunk_runtime()?;
            let options = open_options(args, Some(&runtime));
            let reader = arco_formats::kerchunk::open_kerchunk(s, &options)
                .with_context(|| format!("cannot open {s}"))?;
            let own = match Location::parse(s)? {
                Location::Local(p) if p.is_dir() => {
                    p.join(".zmetadata").to_string_lossy().into_owned()
                }
                _ => s.clone(),
            };
            let bytes_of = arco_storage::open(&own, &options)?;
            bytes.push((s.clone(), bytes_of));
            readers.push((s.clone(), reader));
            runtimes.push(runtime);
            continue;
        }
        let (source, _counter, runtime) = open_source(s, args)?;
        let reader =
            arco_formats::open(source.clone()).with_context(|| format!("cannot open {s}"))?;
        bytes.push((s.clone(), source));
        readers.push((s.clone(), reader));
        runtimes.extend(runtime);
    }
    let reader: Box<dyn Reader> = if readers.len() == 1 {
        match readers.pop() {
            Some((_, r)) => r,
            None => anyhow::bail!("no source"),
        }
    } else {
        let opts = arco_formats::concat::ConcatOptions {
            dim: concat_dim.map(str::to_string),
        };
        Box::new(arco_formats::concat::concat(readers, &opts)?)
    };
    Ok(Inputs {
        reader,
        sources: bytes,
        _runtimes: runtimes,
    })
}

/// Open `location` (a path or URL: a file, or a Zarr hierarchy) and recognise its format.
pub fn open(location: &str, args: &StorageArgs) -> anyhow::Result<Opened> {
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
