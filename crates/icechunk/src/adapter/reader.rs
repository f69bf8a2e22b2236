//! A repository snapshot as zarrs storage: the synchronous zarrs traits over
//! icechunk's `Store`, driven by a runtime of the store's own.

use super::{open, version_info, AdapterResult};
use crate::{Place, S3Conf, Version};
use futures::TryStreamExt;
use icechunk::format::ByteRange as IceRange;
use icechunk::store::{ListDirItem, StoreError, StoreErrorKind};
use icechunk::Store;
use std::future::Future;
use std::sync::Arc;
use tokio::runtime::{Handle, Runtime};
use zarrs_storage::byte_range::{ByteRange, ByteRangeIterator};
use zarrs_storage::{
    Bytes, ListableStorageTraits, MaybeBytes, MaybeBytesIterator, OffsetBytesIterator,
    ReadableStorageTraits, StorageError, StoreKey, StoreKeys, StoreKeysPrefixes, StorePrefix,
    WritableStorageTraits,
};

/// The runtime that drives icechunk's I/O; shut down without waiting when
/// dropped, so dropping inside another runtime is fine.
struct OwnRuntime(Option<Runtime>);

impl Drop for OwnRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// A read-only snapshot of a repository (zarrs storage).
pub(crate) struct ReadStore {
    store: Store,
    /// The snapshot read (Crockford base32).
    pub(crate) snapshot: String,
    /// Names the repository in errors.
    name: String,
    rt: OwnRuntime,
}

impl std::fmt::Debug for ReadStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadStore")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl ReadStore {
    /// Run `f` on the store's runtime. From inside another runtime's thread
    /// (where blocking on a runtime is refused) it runs on a helper thread.
    fn run<T: Send>(&self, f: impl Future<Output = T> + Send) -> Result<T, StorageError> {
        let Some(rt) = self.rt.0.as_ref() else {
            return Err(StorageError::Other(format!(
                "{}: the repository's runtime is shut down",
                self.name
            )));
        };
        if Handle::try_current().is_err() {
            return Ok(rt.block_on(f));
        }
        std::thread::scope(|s| s.spawn(|| rt.block_on(f)).join())
            .map_err(|_| StorageError::Other(format!("{}: a reader thread panicked", self.name)))
    }

    fn err(&self, key: &str, e: impl std::fmt::Display) -> StorageError {
        StorageError::Other(super::tidy(format!("{}: {key}: {e}", self.name)))
    }
}

fn is_not_found(e: &StoreError) -> bool {
    matches!(e.kind(), StoreErrorKind::NotFound(..))
}

fn ice_range(r: ByteRange) -> IceRange {
    match r {
        ByteRange::FromStart(offset, None) => IceRange::From(offset),
        ByteRange::FromStart(offset, Some(length)) => IceRange::Bounded(offset..offset + length),
        ByteRange::Suffix(length) => IceRange::Last(length),
    }
}

/// Open `version` of the repository at `place` read-only, following virtual
/// references with every configured container authorized.
pub(crate) fn open_reader(
    place: &Place,
    s3: &S3Conf,
    version: &Version,
    name: &str,
) -> AdapterResult<ReadStore> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("arco-icechunk")
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let rt = OwnRuntime(Some(rt));
    let opening = async {
        let repo = open(place, s3).await?;
        let info = version_info(version)?;
        let session = repo
            .readonly_session(&info)
            .await
            .map_err(|e| format!("cannot open {version}: {e}"))?;
        let snapshot = session.snapshot_id().to_string();
        let store = Store::from_session(Arc::new(tokio::sync::RwLock::new(session))).await;
        Ok::<_, String>((store, snapshot))
    };
    let (store, snapshot) = match rt.0.as_ref() {
        Some(r) if Handle::try_current().is_err() => r.block_on(opening)?,
        Some(r) => std::thread::scope(|s| s.spawn(|| r.block_on(opening)).join())
            .map_err(|_| "the icechunk reader thread panicked".to_string())??,
        None => return Err("the async runtime is gone".into()),
    };
    Ok(ReadStore {
        store,
        snapshot,
        name: name.to_string(),
        rt,
    })
}

impl ReadableStorageTraits for ReadStore {
    fn get(&self, key: &StoreKey) -> Result<MaybeBytes, StorageError> {
        let got = self.run(self.store.get(key.as_str(), &IceRange::ALL))?;
        match got {
            Ok(b) => Ok(Some(b)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(self.err(key.as_str(), e)),
        }
    }

    fn get_partial_many<'a>(
        &'a self,
        key: &StoreKey,
        byte_ranges: ByteRangeIterator<'a>,
    ) -> Result<MaybeBytesIterator<'a>, StorageError> {
        let ranges: Vec<(String, IceRange)> = byte_ranges
            .map(|r| (key.to_string(), ice_range(r)))
            .collect();
        let got = self
            .run(self.store.get_partial_values(ranges))?
            .map_err(|e| self.err(key.as_str(), e))?;
        let mut out = Vec::with_capacity(got.len());
        for r in got {
            match r {
                Ok(b) => out.push(Ok(b)),
                Err(e) if is_not_found(&e) => return Ok(None),
                Err(e) => out.push(Err(self.err(key.as_str(), e))),
            }
        }
        Ok(Some(Box::new(out.into_iter())))
    }

    fn size_key(&self, key: &StoreKey) -> Result<Option<u64>, StorageError> {
        match self.run(self.store.getsize(key.as_str()))? {
            Ok(n) => Ok(Some(n)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(self.err(key.as_str(), e)),
        }
    }

    fn supports_get_partial(&self) -> bool {
        true
    }
}

impl ListableStorageTraits for ReadStore {
    fn list(&self) -> Result<StoreKeys, StorageError> {
        self.list_prefix(&StorePrefix::root())
    }

    fn list_prefix(&self, prefix: &StorePrefix) -> Result<StoreKeys, StorageError> {
        let keys: Vec<String> = self
            .run(async {
                let stream = self.store.list_prefix(prefix.as_str()).await?;
                stream.try_collect::<Vec<_>>().await
            })?
            .map_err(|e| self.err(prefix.as_str(), e))?;
        let mut keys = keys
            .into_iter()
            .map(StoreKey::new)
            .collect::<Result<Vec<_>, _>>()?;
        keys.sort();
        Ok(keys)
    }

    fn list_dir(&self, prefix: &StorePrefix) -> Result<StoreKeysPrefixes, StorageError> {
        let items: Vec<ListDirItem> = self
            .run(async {
                let stream = self.store.list_dir_items(prefix.as_str()).await?;
                stream.try_collect::<Vec<_>>().await
            })?
            .map_err(|e| self.err(prefix.as_str(), e))?;
        let (mut keys, mut prefixes) = (Vec::new(), Vec::new());
        for item in items {
            match item {
                ListDirItem::Key(k) => keys.push(StoreKey::new(format!("{}{k}", prefix.as_str()))?),
                ListDirItem::Prefix(p) => {
                    prefixes.push(StorePrefix::new(format!("{}{p}/", prefix.as_str()))?);
                }
            }
        }
        keys.sort();
        prefixes.sort();
        Ok(StoreKeysPrefixes::new(keys, prefixes))
    }

    fn size_prefix(&self, prefix: &StorePrefix) -> Result<u64, StorageError> {
        self.run(self.store.getsize_prefix(prefix.as_str()))?
            .map_err(|e| self.err(prefix.as_str(), e))
    }
}

/// Snapshots opened for reading refuse writes.
impl WritableStorageTraits for ReadStore {
    fn set(&self, _key: &StoreKey, _value: Bytes) -> Result<(), StorageError> {
        Err(StorageError::ReadOnly)
    }

    fn set_partial_many(
        &self,
        _key: &StoreKey,
        _offset_values: OffsetBytesIterator<'_, Bytes>,
    ) -> Result<(), StorageError> {
        Err(StorageError::ReadOnly)
    }

    fn erase(&self, _key: &StoreKey) -> Result<(), StorageError> {
        Err(StorageError::ReadOnly)
    }

    fn erase_prefix(&self, _prefix: &StorePrefix) -> Result<(), StorageError> {
        Err(StorageError::ReadOnly)
    }

    fn supports_set_partial(&self) -> bool {
        false
    }
}

/// The attributes of the root group's `zarr.json` (empty when it has none).
pub(crate) fn root_attributes(
    store: &ReadStore,
) -> AdapterResult<serde_json::Map<String, serde_json::Value>> {
    let key = StoreKey::new("zarr.json").map_err(|e| e.to_string())?;
    let Some(bytes) = store.get(&key).map_err(|e| e.to_string())? else {
        return Ok(Default::default());
    };
    let doc: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("zarr.json is not JSON: {e}"))?;
    Ok(doc
        .get("attributes")
        .and_then(serde_json::Value::as_object)
        .cloned()
        .unwrap_or_default())
}
