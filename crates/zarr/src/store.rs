//! Where a hierarchy lives: a zarrs store for a location.
//!
//! Local paths and `file://` URLs use zarrs' `FilesystemStore`. `s3://`
//! locations use `object_store` (configured by `arco-storage` from
//! [`S3Options`](arco_storage::S3Options)) through
//! `zarrs_object_store::AsyncObjectStore`, adapted to zarrs' synchronous API
//! by blocking on the caller's tokio runtime (`OpenOptions::handle`).

use crate::{Error, Result};
use arco_storage::{Location, OpenOptions};
use object_store::prefix::PrefixStore;
use object_store::ObjectStore;
use std::future::Future;
use std::sync::Arc;
use tokio::runtime::{Handle, RuntimeFlavor};
use zarrs::filesystem::FilesystemStore;
use zarrs::storage::storage_adapter::async_to_sync::{
    AsyncToSyncBlockOn, AsyncToSyncStorageAdapter,
};
use zarrs::storage::ReadableWritableListableStorage;
use zarrs_object_store::AsyncObjectStore;

/// Runs zarrs' async object-store calls on the caller's runtime.
pub(crate) struct TokioBlockOn(pub(crate) Handle);

impl AsyncToSyncBlockOn for TokioBlockOn {
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        match Handle::try_current() {
            // A plain thread (main, rayon, spawn_blocking): block directly.
            Err(_) => self.0.block_on(future),
            // A multi-thread runtime worker: hand its other tasks to another
            // worker while this one blocks. (Current-thread runtimes are
            // refused when the store is opened.)
            Ok(_) => tokio::task::block_in_place(|| self.0.block_on(future)),
        }
    }
}

/// A store for `location`, and whether it is remote.
pub(crate) fn storage_for(
    location: &str,
    options: &OpenOptions,
    create: bool,
) -> Result<ReadableWritableListableStorage> {
    let zerr = |message: String| Error::Zarr {
        location: location.to_string(),
        message,
    };
    match Location::parse(location)? {
        Location::Local(path) => {
            if create {
                std::fs::create_dir_all(&path)
                    .map_err(|e| zerr(format!("cannot create the directory: {e}")))?;
            } else if !path.is_dir() {
                return Err(zerr("no Zarr store here: it is not a directory".into()));
            }
            let store = FilesystemStore::new(&path)
                .map_err(|e| zerr(format!("cannot use the directory: {e}")))?;
            Ok(Arc::new(store))
        }
        Location::S3 { bucket, key } => {
            let handle = runtime_handle(options, location)?;
            let store: Arc<dyn ObjectStore> =
                arco_storage::s3_object_store(&bucket, &options.s3, location)?;
            let prefix = key.trim_matches('/');
            let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
                store
            } else {
                let path = object_store::path::Path::parse(prefix)
                    .map_err(|e| zerr(format!("the key prefix '{prefix}' is not valid ({e})")))?;
                Arc::new(PrefixStore::new(store, path))
            };
            let async_store = Arc::new(AsyncObjectStore::new(store));
            Ok(Arc::new(AsyncToSyncStorageAdapter::new(
                async_store,
                TokioBlockOn(handle),
            )))
        }
        _ => Err(zerr(
            "Zarr stores can be local paths, file:// or s3:// URLs (http(s) is not supported yet)"
                .into(),
        )),
    }
}

/// The runtime that drives remote requests: the one in `options`, else the
/// caller's, refusing single-threaded runtimes (blocking would stall them).
fn runtime_handle(options: &OpenOptions, location: &str) -> Result<Handle> {
    let zerr = |message: &str| Error::Zarr {
        location: location.to_string(),
        message: message.to_string(),
    };
    if let Ok(current) = Handle::try_current() {
        if current.runtime_flavor() == RuntimeFlavor::CurrentThread {
            return Err(zerr(
                "remote Zarr stores block while they wait for the network: use them from a \
                 plain thread or tokio::task::spawn_blocking, not a single-threaded runtime",
            ));
        }
    }
    match &options.handle {
        Some(h) => Ok(h.clone()),
        None => Handle::try_current().map_err(|_| {
            zerr("remote Zarr stores need a tokio runtime: pass a multi-thread runtime's handle in OpenOptions::handle")
        }),
    }
}
