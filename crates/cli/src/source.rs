//! From a location string to an opened reader.

use anyhow::Context;
use arco_formats::Reader;
use arco_storage::DynSource;
use std::sync::Arc;

/// Options for reaching remote storage, shared by every command.
#[derive(Debug, Clone, clap::Args)]
pub struct StorageArgs {
    /// S3-compatible endpoint, for example http://127.0.0.1:9000 (default: $AWS_ENDPOINT_URL or AWS).
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    pub s3_endpoint: Option<String>,
    /// S3 region (default: $AWS_REGION or us-east-1).
    #[arg(long, global = true, env = "AWS_REGION", value_name = "REGION")]
    pub s3_region: Option<String>,
    /// Read public buckets without credentials (no request signing).
    #[arg(long, global = true)]
    pub anonymous: bool,
}

/// An opened dataset and the source it reads from.
pub struct Opened {
    /// The format reader.
    pub reader: Box<dyn Reader>,
    /// The byte source (for request statistics).
    #[allow(dead_code)]
    pub source: DynSource,
}

/// Open `location` (a path or URL) and recognise its format.
pub fn open(location: &str, _args: &StorageArgs) -> anyhow::Result<Opened> {
    let path = location.strip_prefix("file://").unwrap_or(location);
    let source: DynSource = Arc::new(arco_storage::LocalFile::open(path, location)?);
    let reader = arco_formats::open(source.clone())
        .with_context(|| format!("cannot open {location}"))?;
    Ok(Opened { reader, source })
}
