//! Writing a repository at an S3 prefix, where nothing can be renamed
//! into place.

use crate::{adapter, Error, Place, Result};
use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStore;
use std::sync::Arc;

fn url_of(bucket: &str, prefix: &str) -> String {
    format!("s3://{bucket}/{prefix}")
}

fn err(bucket: &str, prefix: &str, message: impl Into<String>) -> Error {
    Error::Repository {
        path: url_of(bucket, prefix),
        message: adapter::tidy(message.into()),
    }
}

/// Write `plan` at the S3 place `dest`: refuse an existing repository unless
/// `overwrite` (then delete every object under the prefix first); delete
/// what was written if the write fails, so no half-written repository
/// stays behind.
pub(crate) fn write(dest: &Place, overwrite: bool, plan: adapter::Plan) -> Result<String> {
    let Place::S3 {
        bucket,
        prefix,
        conf,
    } = dest
    else {
        return Err(Error::Repository {
            path: String::new(),
            message: "internal: not an S3 destination".into(),
        });
    };
    if prefix.is_empty() {
        return Err(err(
            bucket,
            prefix,
            "an Icechunk repository needs its own prefix in the bucket, like s3://bucket/name.icechunk",
        ));
    }
    let exists = adapter::exists(dest).map_err(|m| err(bucket, prefix, m))?;
    if exists && !overwrite {
        return Err(err(
            bucket,
            prefix,
            "already holds an Icechunk repository; pass overwrite (--overwrite) to replace it",
        ));
    }
    let s3opts = arco_storage::S3Options {
        endpoint: conf.endpoint.clone(),
        region: Some(conf.region.clone()),
        anonymous: conf.anonymous,
        access_key_id: conf.key.as_ref().map(|k| k.0.clone()),
        secret_access_key: conf.key.as_ref().map(|k| k.1.clone()),
        session_token: conf.key.as_ref().and_then(|k| k.2.clone()),
        allow_http: conf.allow_http,
        virtual_hosted_style: Some(!conf.force_path_style),
        ..arco_storage::S3Options::default()
    };
    let url = url_of(bucket, prefix);
    let store = arco_storage::s3_object_store(bucket, &s3opts, &url)
        .map_err(|e| err(bucket, prefix, e.to_string()))?;
    // Other objects under the prefix: refused as a local destination that
    // exists is, so that cleaning up after a failed write (which deletes
    // everything under the prefix) never deletes what was there before.
    let occupied = exists || has_objects(&store, prefix).map_err(|m| err(bucket, prefix, m))?;
    if occupied && !overwrite {
        return Err(err(
            bucket,
            prefix,
            "already holds objects (not an Icechunk repository); pass overwrite (--overwrite) to delete them and write the repository there",
        ));
    }
    if occupied {
        delete_prefix(&store, prefix).map_err(|m| {
            err(
                bucket,
                prefix,
                format!("cannot delete the old repository: {m}"),
            )
        })?;
    }
    match adapter::write(dest, plan) {
        Ok(id) => Ok(id),
        Err(m) => {
            let cleanup = match delete_prefix(&store, prefix) {
                Ok(()) => String::new(),
                Err(e) => format!(
                    "; removing the partial repository failed too ({e}): delete {url}/ by hand"
                ),
            };
            Err(err(bucket, prefix, format!("{m}{cleanup}")))
        }
    }
}

/// True when any object is under `prefix/`.
fn has_objects(store: &Arc<dyn ObjectStore>, prefix: &str) -> std::result::Result<bool, String> {
    let path = object_store::path::Path::from(format!("{prefix}/"));
    let store = Arc::clone(store);
    adapter::block_on(async move {
        let first = store
            .list(Some(&path))
            .try_next()
            .await
            .map_err(|e| format!("cannot list the objects: {e}"))?;
        Ok(first.is_some())
    })
}

/// Delete every object under `prefix/`.
fn delete_prefix(store: &Arc<dyn ObjectStore>, prefix: &str) -> std::result::Result<(), String> {
    let path = object_store::path::Path::from(format!("{prefix}/"));
    let store = Arc::clone(store);
    adapter::block_on(async move {
        let objects: Vec<_> = store
            .list(Some(&path))
            .map_ok(|m| m.location)
            .try_collect()
            .await
            .map_err(|e| format!("cannot list the objects: {e}"))?;
        let mut deleted =
            store.delete_stream(futures::stream::iter(objects.into_iter().map(Ok)).boxed());
        while let Some(r) = deleted.next().await {
            r.map_err(|e| format!("cannot delete an object: {e}"))?;
        }
        Ok(())
    })
}
