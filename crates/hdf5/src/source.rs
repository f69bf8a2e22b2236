//! The bridge from arco's [`ByteSource`](arco_storage::ByteSource) to
//! `hdf5-reader`'s [`Storage`] trait, and the block cache in front of it.
//!
//! Every read `hdf5-reader` makes goes through [`SourceStorage`], so metadata
//! parsing is a series of small range reads on the user's source (a local
//! file, an object store, HTTP). A [`BlockCacheStorage`] of
//! [`BLOCK_SIZE`]-byte blocks sits in front, so the many tiny reads header
//! parsing makes turn into a few block-sized ones.

use arco_storage::DynSource;
use hdf5_reader::error::Error as H5Error;
use hdf5_reader::storage::DynStorage;
use hdf5_reader::{BlockCacheStorage, Storage, StorageBuffer};
use std::sync::Arc;

/// Bytes per cached block: small enough that opening a multi-GB file reads a
/// few hundred KB, large enough that header parsing makes few requests.
pub(crate) const BLOCK_SIZE: usize = 16 * 1024;

/// Blocks kept in the cache (4 MiB in all).
pub(crate) const MAX_BLOCKS: usize = 256;

/// A [`DynSource`] seen as `hdf5-reader` storage. Errors keep the source's
/// location and the byte range in their message.
pub(crate) struct SourceStorage {
    source: DynSource,
}

impl SourceStorage {
    /// Wrap `source`.
    pub(crate) fn new(source: DynSource) -> Self {
        SourceStorage { source }
    }
}

impl Storage for SourceStorage {
    fn len(&self) -> u64 {
        self.source.len()
    }

    fn read_range(&self, offset: u64, len: usize) -> hdf5_reader::error::Result<StorageBuffer> {
        let size = self.source.len();
        let end = offset
            .checked_add(len as u64)
            .ok_or(H5Error::OffsetOutOfBounds(offset))?;
        if end > size {
            return Err(H5Error::UnexpectedEof {
                offset,
                needed: len as u64,
                available: size.saturating_sub(offset),
            });
        }
        let bytes = self
            .source
            .read_range(offset..end)
            .map_err(|e| H5Error::Io(std::io::Error::other(e.to_string())))?;
        if bytes.len() != len {
            return Err(H5Error::UnexpectedEof {
                offset,
                needed: len as u64,
                available: bytes.len() as u64,
            });
        }
        StorageBuffer::from_shared_owner(Arc::new(bytes), 0, len)
    }
}

/// `source` behind a block cache, ready for `Hdf5File::from_storage_with_options`.
pub(crate) fn cached_storage(source: DynSource) -> DynStorage {
    Arc::new(BlockCacheStorage::new(
        Arc::new(SourceStorage::new(source)),
        BLOCK_SIZE,
        MAX_BLOCKS,
    ))
}
