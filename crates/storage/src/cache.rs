//! An LRU cache of aligned blocks, for metadata parsing.
//!
//! Format readers parse headers and indexes with many small reads close to each
//! other; over a network each would be a round trip. [`BlockCache`] rounds
//! those reads out to aligned blocks, keeps the most recently used blocks in
//! memory, and fetches only the blocks it lacks. Bulk chunk reads
//! (`read_ranges`) go straight through, so they neither use nor evict the
//! cached metadata.

use crate::mem::check_range;
use crate::{ByteSource, Error, Result};
use bytes::{Bytes, BytesMut};
use lru::LruCache;
use parking_lot::Mutex;
use std::num::NonZeroUsize;
use std::ops::Range;

/// Default block size for remote objects: 256 KiB.
pub const DEFAULT_BLOCK_SIZE: u64 = 256 * 1024;

/// Default memory bound of one cache: 32 MiB.
pub const DEFAULT_CACHE_BYTES: u64 = 32 * 1024 * 1024;

/// Serves `read_range` from cached aligned blocks of `S`.
///
/// - `read_range` reads the blocks that cover the range; the missing ones are
///   fetched, contiguous missing blocks in one request, several runs through
///   the inner source's `read_ranges`. A range larger than half the memory
///   bound bypasses the cache.
/// - `read_ranges` bypasses the cache and calls the inner `read_ranges`.
///
/// ```
/// use arco_storage::{BlockCache, ByteSource, Counting, MemSource};
/// let counted = Counting::new(MemSource::new("mem", vec![1u8; 10_000]));
/// let cached = BlockCache::new(counted, 1024, 64 * 1024);
/// cached.read_range(10..20).unwrap();
/// cached.read_range(100..900).unwrap(); // same block: no new request
/// assert_eq!(cached.inner().stats().requests, 1);
/// ```
#[derive(Debug)]
pub struct BlockCache<S> {
    inner: S,
    block_size: u64,
    max_bytes: u64,
    blocks: Mutex<LruCache<u64, Bytes>>,
}

impl<S: ByteSource> BlockCache<S> {
    /// Cache `inner` in blocks of `block_size` bytes, holding at most about
    /// `max_bytes` (at least one block). A zero `block_size` means the default.
    pub fn new(inner: S, block_size: u64, max_bytes: u64) -> Self {
        let block_size = if block_size == 0 {
            DEFAULT_BLOCK_SIZE
        } else {
            block_size
        };
        let capacity = usize::try_from(max_bytes / block_size).unwrap_or(usize::MAX);
        let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        BlockCache {
            inner,
            block_size,
            max_bytes: max_bytes.max(block_size),
            blocks: Mutex::new(LruCache::new(capacity)),
        }
    }

    /// The wrapped source.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The block size in bytes.
    pub fn block_size(&self) -> u64 {
        self.block_size
    }

    /// Number of blocks held now.
    pub fn cached_blocks(&self) -> usize {
        self.blocks.lock().len()
    }

    /// Drop every cached block.
    pub fn clear(&self) {
        self.blocks.lock().clear();
    }

    fn block_range(&self, index: u64) -> Range<u64> {
        let start = index * self.block_size;
        start..(start + self.block_size).min(self.inner.len())
    }

    /// Fetch the missing blocks `missing` (sorted), in runs of contiguous blocks.
    fn fetch_blocks(&self, missing: &[u64]) -> Result<Vec<(u64, Bytes)>> {
        let mut runs: Vec<Range<u64>> = Vec::new();
        for &b in missing {
            match runs.last_mut() {
                Some(run) if run.end == b => run.end = b + 1,
                _ => runs.push(b..b + 1),
            }
        }
        let byte_runs: Vec<Range<u64>> = runs
            .iter()
            .map(|run| self.block_range(run.start).start..self.block_range(run.end - 1).end)
            .collect();
        let fetched = match byte_runs.as_slice() {
            [one] => vec![self.inner.read_range(one.clone())?],
            many => self.inner.read_ranges(many)?,
        };
        let mut out = Vec::with_capacity(missing.len());
        for ((run, bytes_range), data) in runs.iter().zip(&byte_runs).zip(fetched) {
            if data.len() as u64 != bytes_range.end - bytes_range.start {
                return Err(Error::Io {
                    location: self.inner.location().to_string(),
                    message: format!(
                        "short read: asked for bytes {}..{}, got {} bytes",
                        bytes_range.start,
                        bytes_range.end,
                        data.len()
                    ),
                });
            }
            for b in run.clone() {
                let r = self.block_range(b);
                let off = (r.start - bytes_range.start) as usize;
                out.push((b, data.slice(off..off + (r.end - r.start) as usize)));
            }
        }
        Ok(out)
    }
}

impl<S: ByteSource> ByteSource for BlockCache<S> {
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
        check_range(self.location(), &range, self.len())?;
        if range.start == range.end {
            return Ok(Bytes::new());
        }
        if range.end - range.start > self.max_bytes / 2 {
            return self.inner.read_range(range);
        }
        let first = range.start / self.block_size;
        let last = (range.end - 1) / self.block_size;

        let mut have: Vec<Option<Bytes>> = {
            let mut blocks = self.blocks.lock();
            (first..=last).map(|b| blocks.get(&b).cloned()).collect()
        };
        let missing: Vec<u64> = (first..=last)
            .zip(&have)
            .filter(|(_, h)| h.is_none())
            .map(|(b, _)| b)
            .collect();
        if !missing.is_empty() {
            let fetched = self.fetch_blocks(&missing)?;
            let mut blocks = self.blocks.lock();
            for (b, data) in fetched {
                blocks.put(b, data.clone());
                have[(b - first) as usize] = Some(data);
            }
        }

        let len = (range.end - range.start) as usize;
        if first == last {
            if let Some(Some(block)) = have.first() {
                let off = (range.start - first * self.block_size) as usize;
                return Ok(block.slice(off..off + len));
            }
        }
        let mut out = BytesMut::with_capacity(len);
        for (b, block) in (first..=last).zip(have) {
            let Some(block) = block else {
                continue;
            };
            let block_start = b * self.block_size;
            let from = range.start.max(block_start) - block_start;
            let to = range.end.min(block_start + block.len() as u64) - block_start;
            out.extend_from_slice(&block[from as usize..to as usize]);
        }
        Ok(out.freeze())
    }

    fn read_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        self.inner.read_ranges(ranges)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Counting, MemSource};
    use proptest::prelude::*;

    fn data(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn repeated_reads_in_one_block_fetch_it_once() {
        let c = BlockCache::new(Counting::new(MemSource::new("m", data(5000))), 1000, 10_000);
        assert_eq!(&c.read_range(10..20).unwrap()[..], &data(5000)[10..20]);
        assert_eq!(&c.read_range(500..999).unwrap()[..], &data(5000)[500..999]);
        let s = c.inner().stats();
        assert_eq!((s.requests, s.bytes), (1, 1000));
    }

    #[test]
    fn contiguous_missing_blocks_are_fetched_in_one_request() {
        let c = BlockCache::new(Counting::new(MemSource::new("m", data(5000))), 1000, 10_000);
        c.read_range(2500..2600).unwrap(); // block 2
        c.inner().counter().reset();
        // Blocks 0,1 missing, 2 cached, 3,4 missing: two runs in one read_ranges call.
        assert_eq!(&c.read_range(10..4990).unwrap()[..], &data(5000)[10..4990]);
        let s = c.inner().stats();
        assert_eq!((s.requests, s.bytes), (2, 4000));
        assert_eq!(c.cached_blocks(), 5);
    }

    #[test]
    fn the_last_short_block_is_cached_with_its_true_length() {
        let c = BlockCache::new(MemSource::new("m", data(2500)), 1000, 10_000);
        assert_eq!(
            &c.read_range(2400..2500).unwrap()[..],
            &data(2500)[2400..2500]
        );
        assert_eq!(
            &c.read_range(1990..2500).unwrap()[..],
            &data(2500)[1990..2500]
        );
    }

    #[test]
    fn the_memory_bound_evicts_least_recently_used_blocks() {
        let c = BlockCache::new(Counting::new(MemSource::new("m", data(10_000))), 1000, 2000);
        c.read_range(0..10).unwrap();
        c.read_range(1000..1010).unwrap();
        c.read_range(0..10).unwrap(); // block 0 now most recent
        c.read_range(2000..2010).unwrap(); // evicts block 1
        assert_eq!(c.cached_blocks(), 2);
        c.inner().counter().reset();
        c.read_range(0..10).unwrap();
        assert_eq!(c.inner().stats().requests, 0);
        c.read_range(1000..1010).unwrap();
        assert_eq!(c.inner().stats().requests, 1);
    }

    #[test]
    fn read_ranges_bypass_the_cache() {
        let c = BlockCache::new(Counting::new(MemSource::new("m", data(5000))), 1000, 10_000);
        let got = c.read_ranges(&[0..10, 4000..4100]).unwrap();
        assert_eq!(&got[1][..], &data(5000)[4000..4100]);
        assert_eq!(c.cached_blocks(), 0);
        assert_eq!(c.inner().stats().bytes, 110);
    }

    #[test]
    fn reads_past_the_end_name_the_size() {
        let c = BlockCache::new(MemSource::new("m", data(100)), 64, 1024);
        let e = c.read_range(90..120).unwrap_err().to_string();
        assert!(e.contains("90..120") && e.contains("100 bytes"), "{e}");
    }

    proptest! {
        #[test]
        fn cached_reads_equal_direct_reads(
            reads in proptest::collection::vec((0u64..3000, 0u64..700), 1..30),
            block in 1u64..600,
            blocks in 1u64..8,
        ) {
            let bytes = data(3000);
            let c = BlockCache::new(MemSource::new("m", bytes.clone()), block, block * blocks);
            for (s, l) in reads {
                let e = (s + l).min(3000);
                prop_assert_eq!(&c.read_range(s..e).unwrap()[..], &bytes[s as usize..e as usize]);
            }
        }
    }
}
