//! Counting requests and bytes, as a wrapper.
//!
//! [`Counting`] wraps either a [`ByteSource`] or an [`ObjectStore`]. Around an
//! object store it sees every network request after coalescing (this is what
//! [`crate::open`] does when [`crate::OpenOptions::counter`] is set); around a
//! byte source it sees the reads that reach that source.

use crate::{ByteSource, Result};
use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions,
};
use std::fmt;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// What a [`Counting`] wrapper has seen so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Requests made (reads of a byte source; GET and HEAD requests of a store).
    pub requests: u64,
    /// Bytes fetched.
    pub bytes: u64,
}

/// A shared tally of requests and bytes; clones count into the same tally.
#[derive(Debug, Clone, Default)]
pub struct ReadCounter(Arc<Tally>);

#[derive(Debug, Default)]
struct Tally {
    requests: AtomicU64,
    bytes: AtomicU64,
}

impl ReadCounter {
    /// A counter at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// The totals so far.
    pub fn stats(&self) -> ReadStats {
        ReadStats {
            requests: self.0.requests.load(Ordering::Relaxed),
            bytes: self.0.bytes.load(Ordering::Relaxed),
        }
    }

    /// Set the totals back to zero.
    pub fn reset(&self) {
        self.0.requests.store(0, Ordering::Relaxed);
        self.0.bytes.store(0, Ordering::Relaxed);
    }

    /// Count `requests` requests that fetched `bytes` bytes in all.
    pub fn record(&self, requests: u64, bytes: u64) {
        self.0.requests.fetch_add(requests, Ordering::Relaxed);
        self.0.bytes.fetch_add(bytes, Ordering::Relaxed);
    }
}

/// Counts the requests and bytes that pass through it to `S`.
///
/// - Around a [`ByteSource`]: each `read_range` is one request; a `read_ranges`
///   call counts one request per range (what a source without coalescing
///   does). Put it under a [`crate::BlockCache`] to see cache misses.
/// - Around an [`ObjectStore`]: each GET or HEAD is one request and `bytes` is
///   the size of the bodies returned, so coalescing shows up in the numbers.
///
/// ```
/// use arco_storage::{ByteSource, Counting, MemSource};
/// let src = Counting::new(MemSource::new("mem", vec![7u8; 100]));
/// src.read_range(0..10).unwrap();
/// src.read_ranges(&[10..20, 30..35]).unwrap();
/// let s = src.stats();
/// assert_eq!((s.requests, s.bytes), (3, 25));
/// ```
#[derive(Debug)]
pub struct Counting<S> {
    inner: S,
    counter: ReadCounter,
}

impl<S> Counting<S> {
    /// Wrap `inner` with a fresh counter.
    pub fn new(inner: S) -> Self {
        Self::with_counter(inner, ReadCounter::new())
    }

    /// Wrap `inner`, counting into `counter` (shared with its other clones).
    pub fn with_counter(inner: S, counter: ReadCounter) -> Self {
        Counting { inner, counter }
    }

    /// The totals so far.
    pub fn stats(&self) -> ReadStats {
        self.counter.stats()
    }

    /// The counter this wrapper counts into.
    pub fn counter(&self) -> &ReadCounter {
        &self.counter
    }

    /// The wrapped source or store.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S: ByteSource> ByteSource for Counting<S> {
    fn location(&self) -> &str {
        self.inner.location()
    }

    fn len(&self) -> u64 {
        self.inner.len()
    }

    fn version(&self) -> Option<String> {
        self.inner.version()
    }

    fn read_range(&self, range: Range<u64>) -> Result<Bytes> {
        let out = self.inner.read_range(range)?;
        self.counter.record(1, out.len() as u64);
        Ok(out)
    }

    fn read_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        let out = self.inner.read_ranges(ranges)?;
        let bytes = out.iter().map(|b| b.len() as u64).sum();
        self.counter.record(ranges.len() as u64, bytes);
        Ok(out)
    }
}

impl<S: fmt::Display> fmt::Display for Counting<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Counting({})", self.inner)
    }
}

#[async_trait]
impl<S: ObjectStore> ObjectStore for Counting<S> {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        let head = options.head;
        let result = self.inner.get_opts(location, options).await;
        match &result {
            Ok(r) if !head => self.counter.record(1, r.range.end - r.range.start),
            _ => self.counter.record(1, 0),
        }
        result
    }

    // `get_ranges` is left to the trait's default, which calls `get_opts` on
    // this wrapper, so its requests are counted.

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(
        &self,
        from: &Path,
        to: &Path,
        options: RenameOptions,
    ) -> object_store::Result<()> {
        self.inner.rename_opts(from, to, options).await
    }
}
