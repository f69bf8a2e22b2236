//! # arco-storage
//!
//! Turns a location (local path, `file://`, `s3://`, `http(s)://`) into a
//! [`ByteSource`]: a small, synchronous, random-access view of one object that
//! format readers parse by byte ranges. Behaviour such as caching, request
//! counting or coalescing is added by wrapping a source, never by flags.
//!
//! Sits above `arco-core` and below the format readers. It knows nothing about
//! file formats.
//!
//! - [`open`] parses a [`Location`] and gives a [`DynSource`]: a [`LocalFile`]
//!   for paths, a [`RemoteSource`] (through `object_store`) inside a
//!   [`BlockCache`] for URLs.
//! - [`RemoteSource::read_ranges`] merges neighbouring ranges
//!   ([`coalesce::coalesce`]) and fetches them concurrently.
//! - Wrappers: [`BlockCache`] (aligned LRU blocks for metadata reads),
//!   [`Counting`] (requests and bytes); [`MemSource`] for tests.
//!
//! ## Runtime
//!
//! Parsers are synchronous, `object_store` is async, and this crate owns no
//! runtime: the caller passes a multi-thread runtime's handle in
//! [`OpenOptions::handle`], and remote reads block the calling thread on it.
//! Call them from plain threads (the main thread, rayon workers,
//! `spawn_blocking`); from a runtime worker they use `block_in_place`.
#![warn(missing_docs)]

pub mod cache;
pub mod coalesce;
pub mod counting;
pub mod error;
pub mod local;
pub mod location;
pub mod mem;
pub mod options;
pub mod remote;
#[cfg(feature = "testing")]
pub mod testing;

pub use cache::BlockCache;
pub use counting::{Counting, ReadCounter, ReadStats};
pub use error::{Error, Result};
pub use local::LocalFile;
pub use location::Location;
pub use mem::MemSource;
pub use options::{OpenOptions, S3Options};
pub use remote::{s3_object_store, RemoteSource};

use bytes::Bytes;
use std::ops::Range;
use std::sync::Arc;

/// Random-access, immutable bytes of one object (a file or a blob).
///
/// Implementations are cheap to share (`Arc<dyn ByteSource>`) and safe to call
/// from many threads at once.
pub trait ByteSource: Send + Sync + std::fmt::Debug {
    /// Where the bytes come from, as the user wrote it (used in error messages).
    fn location(&self) -> &str;

    /// Total size in bytes.
    fn len(&self) -> u64;

    /// True for an empty object.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Read exactly `range`; a range past the end is an [`Error::OutOfRange`].
    fn read_range(&self, range: Range<u64>) -> Result<Bytes>;

    /// The store's identifier of this version of the object (an S3 or HTTP
    /// ETag), when it gives one: recorded in provenance so that a changed
    /// source can be noticed later.
    fn version(&self) -> Option<String> {
        None
    }

    /// Read several ranges. Remote sources merge neighbouring ranges into fewer
    /// requests; the default reads them one by one.
    fn read_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        ranges.iter().map(|r| self.read_range(r.clone())).collect()
    }
}

/// A shared byte source.
pub type DynSource = Arc<dyn ByteSource>;

impl<T: ByteSource + ?Sized> ByteSource for Arc<T> {
    fn location(&self) -> &str {
        (**self).location()
    }

    fn len(&self) -> u64 {
        (**self).len()
    }

    fn read_range(&self, range: Range<u64>) -> Result<Bytes> {
        (**self).read_range(range)
    }

    fn read_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        (**self).read_ranges(ranges)
    }

    fn version(&self) -> Option<String> {
        (**self).version()
    }
}

impl<T: ByteSource + ?Sized> ByteSource for Box<T> {
    fn location(&self) -> &str {
        (**self).location()
    }

    fn len(&self) -> u64 {
        (**self).len()
    }

    fn read_range(&self, range: Range<u64>) -> Result<Bytes> {
        (**self).read_range(range)
    }

    fn read_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        (**self).read_ranges(ranges)
    }

    fn version(&self) -> Option<String> {
        (**self).version()
    }
}

/// Open `location` (a path or a URL, see [`Location::parse`]) for reading.
///
/// - Local paths and `file://` URLs give a [`LocalFile`] (positioned reads; no
///   runtime needed).
/// - `s3://` and `http(s)://` give a [`RemoteSource`] (one HEAD request now,
///   for the size) inside a [`BlockCache`] for metadata reads, unless
///   `options.cache_bytes` is 0. Its reads block the calling thread on the
///   runtime of `options.handle` (or the calling thread's runtime): call them
///   from plain threads such as the main thread or rayon workers.
///
/// With `options.counter` set, every request is counted there (below the
/// cache and after coalescing, for remote objects).
///
/// ```
/// use arco_storage::{open, ByteSource, OpenOptions};
/// let path = std::env::temp_dir().join("arco-storage-open-doctest.bin");
/// std::fs::write(&path, b"0123456789").unwrap();
/// let src = open(path.to_str().unwrap(), &OpenOptions::default()).unwrap();
/// assert_eq!(src.len(), 10);
/// assert_eq!(&src.read_range(2..5).unwrap()[..], b"234");
/// ```
pub fn open(location: &str, options: &OpenOptions) -> Result<DynSource> {
    let parsed = Location::parse(location)?;
    let (store, path): (Arc<dyn object_store::ObjectStore>, _) = match &parsed {
        Location::Local(path) => {
            let file = LocalFile::open(path, location)?;
            return Ok(match &options.counter {
                Some(counter) => Arc::new(Counting::with_counter(file, counter.clone())),
                None => Arc::new(file),
            });
        }
        Location::S3 { bucket, key } => (
            remote::s3_store(bucket, &options.s3, location)?,
            remote::s3_path(key, location)?,
        ),
        Location::Http(url) => remote::http_store(url, location)?,
    };
    let handle = remote::resolve_handle(options.handle.as_ref(), location)?;
    let store: Arc<dyn object_store::ObjectStore> = match &options.counter {
        Some(counter) => Arc::new(Counting::with_counter(store, counter.clone())),
        None => store,
    };
    let source = RemoteSource::open(store, path, location, handle)?
        .with_coalesce_gap(options.coalesce_gap)
        .with_max_concurrency(options.max_concurrency);
    if options.cache_bytes == 0 {
        return Ok(Arc::new(source));
    }
    Ok(Arc::new(BlockCache::new(
        source,
        options.block_size,
        options.cache_bytes,
    )))
}
