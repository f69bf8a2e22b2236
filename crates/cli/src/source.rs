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

/// Open `location` (a path or URL) as a byte source.
pub fn open_source(
    location: &str,
    args: &StorageArgs,
) -> anyhow::Result<(DynSource, ReadCounter, Option<tokio::runtime::Runtime>)> {
    let counter = ReadCounter::default();
    let runtime = if Location::parse(location)?.is_remote() {
        Some(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("arco-io")
                .enable_all()
                .build()
                .context("starting the I/O runtime")?,
        )
    } else {
        None
    };
    let options = OpenOptions {
        handle: runtime.as_ref().map(|r| r.handle().clone()),
        s3: S3Options {
            endpoint: args.s3_endpoint.clone(),
            region: args.s3_region.clone(),
            anonymous: args.anonymous,
            allow_http: args.allow_http,
            ..S3Options::default()
        },
        counter: Some(counter.clone()),
        ..OpenOptions::default()
    };
    let source = arco_storage::open(location, &options)?;
    Ok((source, counter, runtime))
}

/// Open `location` (a path or URL) and recognise its format.
pub fn open(location: &str, args: &StorageArgs) -> anyhow::Result<Opened> {
    let (source, counter, runtime) = open_source(location, args)?;
    let reader = arco_formats::open(source).with_context(|| format!("cannot open {location}"))?;
    Ok(Opened {
        reader,
        counter,
        _runtime: runtime,
    })
}
