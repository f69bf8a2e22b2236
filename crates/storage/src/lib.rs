//! # arco-storage
//!
//! Turns a location (local path, `file://`, `s3://`, `http(s)://`) into a
//! [`ByteSource`]: a small, synchronous, random-access view of one object that
//! format readers parse by byte ranges. Behaviour such as caching, request
//! counting or coalescing is added by wrapping a source, never by flags.
//!
//! Sits above `arco-core` and below the format readers. It knows nothing about
//! file formats.
#![warn(missing_docs)]

pub mod error;
pub mod local;

pub use error::{Error, Result};
pub use local::LocalFile;

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

    /// Read several ranges. Remote sources merge neighbouring ranges into fewer
    /// requests; the default reads them one by one.
    fn read_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        ranges.iter().map(|r| self.read_range(r.clone())).collect()
    }
}

/// A shared byte source.
pub type DynSource = Arc<dyn ByteSource>;
