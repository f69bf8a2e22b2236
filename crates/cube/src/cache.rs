//! A memory-bounded LRU cache of decoded chunks, shared by every dataset a
//! server holds.
//!
//! Entries are CF-decoded `f64` values of one chunk, keyed by dataset,
//! variable and chunk index. The bound counts the values' bytes; an entry
//! larger than the whole bound is returned but not kept. Concurrent misses on
//! the same chunk may load it twice (both results are equal; the second
//! insert replaces the first), which keeps the lock out of the load.

use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The key of one chunk: dataset, variable path, chunk index.
pub type ChunkKey = (u64, Arc<str>, Vec<u64>);

/// Counters of a [`ChunkCache`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CacheStats {
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups that loaded the chunk.
    pub misses: u64,
    /// Bytes held now.
    pub bytes: u64,
    /// The bound.
    pub capacity: u64,
    /// Entries held now.
    pub entries: u64,
}

struct Inner {
    lru: lru::LruCache<ChunkKey, Arc<Vec<f64>>>,
    bytes: u64,
}

/// The cache. Cheap to share behind an `Arc`.
pub struct ChunkCache {
    inner: Mutex<Inner>,
    capacity: u64,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for ChunkCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkCache")
            .field("stats", &self.stats())
            .finish()
    }
}

fn entry_bytes(v: &[f64]) -> u64 {
    std::mem::size_of_val(v) as u64 + 64
}

impl ChunkCache {
    /// A cache holding at most `capacity` bytes of decoded values.
    pub fn new(capacity: u64) -> Self {
        ChunkCache {
            inner: Mutex::new(Inner {
                lru: lru::LruCache::unbounded(),
                bytes: 0,
            }),
            capacity,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The chunk at `key`, loading it with `load` on a miss.
    pub fn get_or_load<E>(
        &self,
        key: ChunkKey,
        load: impl FnOnce() -> Result<Vec<f64>, E>,
    ) -> Result<Arc<Vec<f64>>, E> {
        if let Some(v) = self.inner.lock().lru.get(&key) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(v.clone());
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let value = Arc::new(load()?);
        let size = entry_bytes(&value);
        if size <= self.capacity {
            let mut inner = self.inner.lock();
            if let Some(old) = inner.lru.put(key, value.clone()) {
                inner.bytes -= entry_bytes(&old);
            }
            inner.bytes += size;
            while inner.bytes > self.capacity {
                match inner.lru.pop_lru() {
                    Some((_, old)) => inner.bytes -= entry_bytes(&old),
                    None => break,
                }
            }
        }
        Ok(value)
    }

    /// Drop every entry of dataset `uid` (when its files change).
    pub fn evict_dataset(&self, uid: u64) {
        let mut inner = self.inner.lock();
        let keys: Vec<ChunkKey> = inner
            .lru
            .iter()
            .filter(|(k, _)| k.0 == uid)
            .map(|(k, _)| k.clone())
            .collect();
        for k in keys {
            if let Some(old) = inner.lru.pop(&k) {
                inner.bytes -= entry_bytes(&old);
            }
        }
    }

    /// The counters now.
    pub fn stats(&self) -> CacheStats {
        let inner = self.inner.lock();
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            bytes: inner.bytes,
            capacity: self.capacity,
            entries: inner.lru.len() as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u64) -> ChunkKey {
        (1, Arc::from("/v"), vec![i])
    }

    #[test]
    fn the_cache_stays_within_its_bound_and_evicts_the_least_recent() {
        let one = entry_bytes(&[0.0; 100]);
        let cache = ChunkCache::new(one * 2);
        for i in 0..3 {
            cache
                .get_or_load(key(i), || Ok::<_, ()>(vec![i as f64; 100]))
                .unwrap();
        }
        let s = cache.stats();
        assert_eq!((s.entries, s.misses, s.hits), (2, 3, 0));
        assert!(s.bytes <= s.capacity);
        // 0 was evicted, 2 is still there.
        let v = cache
            .get_or_load(key(2), || Ok::<_, ()>(vec![-1.0; 100]))
            .unwrap();
        assert_eq!(v[0], 2.0);
        let v = cache
            .get_or_load(key(0), || Ok::<_, ()>(vec![-1.0; 100]))
            .unwrap();
        assert_eq!(v[0], -1.0);
        assert_eq!(cache.stats().hits, 1);
    }

    #[test]
    fn an_entry_larger_than_the_bound_is_returned_but_not_kept() {
        let cache = ChunkCache::new(100);
        let v = cache
            .get_or_load(key(0), || Ok::<_, ()>(vec![1.0; 1000]))
            .unwrap();
        assert_eq!(v.len(), 1000);
        assert_eq!(cache.stats().entries, 0);
        assert_eq!(cache.stats().bytes, 0);
    }

    #[test]
    fn load_errors_are_passed_on_and_not_cached() {
        let cache = ChunkCache::new(1 << 20);
        assert_eq!(
            cache.get_or_load(key(0), || Err::<Vec<f64>, _>("no")),
            Err("no")
        );
        assert_eq!(cache.stats().entries, 0);
    }
}
