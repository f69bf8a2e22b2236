//! Remote objects (S3, HTTP) read through `object_store`.
//!
//! [`ByteSource`] is synchronous because format parsers are; `object_store` is
//! async. [`RemoteSource`] bridges the two with a caller-supplied
//! [`tokio::runtime::Handle`]: each read blocks the calling thread until the
//! requests finish. Call it from plain threads (the main thread, rayon
//! workers, `spawn_blocking`); called from a worker of a multi-thread runtime
//! it steps out with `block_in_place`; from a current-thread runtime it returns
//! [`Error::Runtime`] rather than deadlocking.

use crate::coalesce::{coalesce, slice_back, DEFAULT_MAX_CONCURRENCY, DEFAULT_MAX_GAP};
use crate::error::StoreKind;
use crate::mem::check_range;
use crate::options::S3Options;
use crate::{ByteSource, Error, Result};
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::http::HttpBuilder;
use object_store::path::Path;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt};
use std::future::Future;
use std::net::IpAddr;
use std::ops::Range;
use std::sync::Arc;
use tokio::runtime::{Handle, RuntimeFlavor};
use url::Url;

/// One object in an [`ObjectStore`], read by byte ranges.
///
/// The size comes from a HEAD request at [`RemoteSource::open`].
/// `read_ranges` merges ranges closer than the coalescing gap (see
/// [`crate::coalesce::coalesce`]) and fetches the merged ranges concurrently.
#[derive(Debug)]
pub struct RemoteSource {
    location: String,
    store: Arc<dyn ObjectStore>,
    path: Path,
    len: u64,
    etag: Option<String>,
    handle: Handle,
    kind: StoreKind,
    max_gap: u64,
    max_concurrency: usize,
}

impl RemoteSource {
    /// Open the object at `path` in `store`; `location` is the URL used in
    /// messages. Sends one HEAD request for the size. `handle` must belong to a
    /// multi-thread runtime.
    pub fn open(
        store: Arc<dyn ObjectStore>,
        path: Path,
        location: impl Into<String>,
        handle: Handle,
    ) -> Result<Self> {
        let location = location.into();
        let kind = if location.starts_with("s3://") || location.starts_with("s3a://") {
            StoreKind::S3
        } else {
            StoreKind::Http
        };
        if handle.runtime_flavor() == RuntimeFlavor::CurrentThread {
            return Err(Error::Runtime {
                location,
                message: "the tokio runtime given for remote reads is single-threaded; \
                          give the handle of a multi-thread runtime"
                    .into(),
            });
        }
        let meta = block_on(&handle, &location, store.head(&path))?
            .map_err(|e| Error::from_object_store(e, &location, kind))?;
        Ok(RemoteSource {
            location,
            store,
            path,
            len: meta.size,
            etag: meta.e_tag,
            handle,
            kind,
            max_gap: DEFAULT_MAX_GAP,
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
        })
    }

    /// Merge ranges closer than `max_gap` bytes in `read_ranges` (default 1 MiB).
    pub fn with_coalesce_gap(mut self, max_gap: u64) -> Self {
        self.max_gap = max_gap;
        self
    }

    /// At most `n` requests in flight in `read_ranges` (default 8, at least 1).
    pub fn with_max_concurrency(mut self, n: usize) -> Self {
        self.max_concurrency = n.max(1);
        self
    }

    /// The store read from.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// The object's path in the store.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn map_err(&self, e: object_store::Error) -> Error {
        Error::from_object_store(e, &self.location, self.kind)
    }

    fn check_len(&self, range: &Range<u64>, got: &Bytes) -> Result<()> {
        if got.len() as u64 == range.end - range.start {
            return Ok(());
        }
        Err(Error::Io {
            location: self.location.clone(),
            message: format!(
                "asked for bytes {}..{} ({} bytes), got {} bytes; did the object change while being read?",
                range.start,
                range.end,
                range.end - range.start,
                got.len()
            ),
        })
    }
}

impl ByteSource for RemoteSource {
    fn location(&self) -> &str {
        &self.location
    }

    fn len(&self) -> u64 {
        self.len
    }

    /// The ETag from the HEAD request at open.
    fn version(&self) -> Option<String> {
        self.etag.clone()
    }

    /// One GET request. Blocks the calling thread (see the module docs).
    fn read_range(&self, range: Range<u64>) -> Result<Bytes> {
        check_range(&self.location, &range, self.len)?;
        if range.start == range.end {
            return Ok(Bytes::new());
        }
        let got = block_on(
            &self.handle,
            &self.location,
            self.store.get_range(&self.path, range.clone()),
        )?
        .map_err(|e| self.map_err(e))?;
        self.check_len(&range, &got)?;
        Ok(got)
    }

    /// Merged, concurrent GET requests. Blocks the calling thread.
    fn read_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        for r in ranges {
            check_range(&self.location, r, self.len)?;
        }
        let (merged, mapping) = coalesce(ranges, self.max_gap);
        let store = &self.store;
        let path = &self.path;
        let fetch_all = futures::stream::iter(merged.iter().cloned())
            .map(|r| async move {
                if r.start == r.end {
                    Ok(Bytes::new())
                } else {
                    store.get_range(path, r).await
                }
            })
            .buffered(self.max_concurrency)
            .try_collect::<Vec<Bytes>>();
        let fetched =
            block_on(&self.handle, &self.location, fetch_all)?.map_err(|e| self.map_err(e))?;
        for (r, got) in merged.iter().zip(&fetched) {
            self.check_len(r, got)?;
        }
        Ok(slice_back(ranges, &merged, &mapping, &fetched))
    }
}

/// Run `fut` to completion on `handle`, from synchronous code.
fn block_on<F: Future>(handle: &Handle, location: &str, fut: F) -> Result<F::Output> {
    match Handle::try_current() {
        // A plain thread (main, rayon, spawn_blocking): block directly.
        Err(_) => Ok(handle.block_on(fut)),
        Ok(current) => match current.runtime_flavor() {
            RuntimeFlavor::CurrentThread => Err(Error::Runtime {
                location: location.to_string(),
                message: "a remote read was called on a single-threaded tokio runtime, \
                          where it would block the runtime; call it from \
                          tokio::task::spawn_blocking or a plain thread"
                    .into(),
            }),
            // A multi-thread runtime worker: hand its other tasks to another
            // worker while this one blocks.
            _ => Ok(tokio::task::block_in_place(|| handle.block_on(fut))),
        },
    }
}

/// The handle to use: the one given, else the calling thread's runtime.
pub(crate) fn resolve_handle(given: Option<&Handle>, location: &str) -> Result<Handle> {
    if let Some(h) = given {
        return Ok(h.clone());
    }
    Handle::try_current().map_err(|_| Error::Runtime {
        location: location.to_string(),
        message: "reading a remote object needs a tokio runtime: pass a multi-thread \
                  runtime's handle in OpenOptions::handle"
            .into(),
    })
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn env_true(name: &str) -> bool {
    env(name).is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
}

/// True for `localhost` and loopback addresses.
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Environment variables passed on to `object_store`'s own credential chain.
const CHAIN_VARS: &[&str] = &[
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
];

/// The `object_store` store for one S3 bucket, configured from `opts` and
/// the environment exactly as [`crate::open`] configures it (endpoint,
/// region, credentials, `allow_http`, addressing style). `location` is only
/// used in error messages. Writers (such as the Zarr writer) use it to put
/// objects into a bucket.
pub fn s3_object_store(
    bucket: &str,
    opts: &S3Options,
    location: &str,
) -> Result<Arc<dyn ObjectStore>> {
    s3_store(bucket, opts, location)
}

/// Build the store for one S3 bucket from `opts` and the environment.
pub(crate) fn s3_store(
    bucket: &str,
    opts: &S3Options,
    location: &str,
) -> Result<Arc<dyn ObjectStore>> {
    let bad = |reason: String| Error::BadLocation {
        location: location.to_string(),
        reason,
    };
    let endpoint = opts
        .endpoint
        .clone()
        .or_else(|| env("AWS_ENDPOINT_URL_S3"))
        .or_else(|| env("AWS_ENDPOINT_URL"));
    let region = opts
        .region
        .clone()
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|| "us-east-1".into());
    let virtual_hosted = opts.virtual_hosted_style.unwrap_or(endpoint.is_none());

    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_region(region);

    if let Some(ep) = &endpoint {
        let mut url = Url::parse(ep)
            .map_err(|e| bad(format!("the S3 endpoint '{ep}' is not a URL ({e})")))?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) || opts.allow_http => {
                builder = builder.with_allow_http(true);
            }
            "http" => {
                return Err(bad(format!(
                    "the S3 endpoint '{ep}' is plain http on another machine; \
                     use https, or allow http explicitly (--allow-http)"
                )))
            }
            other => {
                return Err(bad(format!(
                    "the S3 endpoint '{ep}' has scheme '{other}'; use http:// or https://"
                )))
            }
        }
        if virtual_hosted {
            let host = url.host_str().unwrap_or_default().to_string();
            if !host.starts_with(&format!("{bucket}.")) {
                url.set_host(Some(&format!("{bucket}.{host}")))
                    .map_err(|e| {
                        bad(format!(
                            "cannot put bucket '{bucket}' in the endpoint host ({e})"
                        ))
                    })?;
            }
        }
        builder = builder.with_endpoint(url.as_str().trim_end_matches('/'));
    }
    builder = builder.with_virtual_hosted_style_request(virtual_hosted);

    let key = opts
        .access_key_id
        .clone()
        .or_else(|| env("AWS_ACCESS_KEY_ID"));
    let secret = opts
        .secret_access_key
        .clone()
        .or_else(|| env("AWS_SECRET_ACCESS_KEY"));
    let token = opts
        .session_token
        .clone()
        .or_else(|| env("AWS_SESSION_TOKEN"));
    let anonymous =
        opts.anonymous || env_true("AWS_SKIP_SIGNATURE") || env_true("AWS_NO_SIGN_REQUEST");

    if anonymous {
        builder = builder.with_skip_signature(true);
    } else {
        match (key, secret) {
            (Some(key), Some(secret)) => {
                builder = builder
                    .with_access_key_id(key)
                    .with_secret_access_key(secret);
                if let Some(token) = token {
                    builder = builder.with_token(token);
                }
            }
            (Some(_), None) | (None, Some(_)) => {
                return Err(Error::Denied {
                    location: location.to_string(),
                    message: "only half of a credential pair is set".into(),
                    hint: "; set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, \
                           or neither (for anonymous access to a public bucket)"
                        .into(),
                })
            }
            (None, None) => {
                let mut chain = false;
                for var in CHAIN_VARS {
                    if let Some(value) = env(var) {
                        if let Ok(k) = var.to_ascii_lowercase().parse::<AmazonS3ConfigKey>() {
                            builder = builder.with_config(k, value);
                            chain = true;
                        }
                    }
                }
                if !chain && !opts.instance_metadata {
                    // No credentials anywhere: unsigned requests (public data).
                    // A private bucket then answers 403, mapped to a hint
                    // naming the variables to set.
                    builder = builder.with_skip_signature(true);
                }
            }
        }
    }

    let store = builder
        .build()
        .map_err(|e| bad(format!("cannot configure S3 access: {e}")))?;
    Ok(Arc::new(store))
}

/// Build the store for an `http(s)://` URL and the object's path in it.
pub(crate) fn http_store(url: &Url, location: &str) -> Result<(Arc<dyn ObjectStore>, Path)> {
    let bad = |reason: String| Error::BadLocation {
        location: location.to_string(),
        reason,
    };
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad(
            "URLs with a query string or fragment (?... or #...) are not supported yet".into(),
        ));
    }
    let base = &url[..url::Position::BeforePath];
    let path = Path::from_url_path(url.path())
        .map_err(|e| bad(format!("cannot use the URL path '{}' ({e})", url.path())))?;
    let options = ClientOptions::new().with_allow_http(url.scheme() == "http");
    let store = HttpBuilder::new()
        .with_url(base)
        .with_client_options(options)
        .build()
        .map_err(|e| bad(format!("cannot configure HTTP access: {e}")))?;
    Ok((Arc::new(store), path))
}

/// The object's path within its bucket.
pub(crate) fn s3_path(key: &str, location: &str) -> Result<Path> {
    Path::parse(key).map_err(|e| Error::BadLocation {
        location: location.to_string(),
        reason: format!("the key '{key}' is not a valid object path ({e})"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_recognised() {
        for u in [
            "http://127.0.0.1:9000",
            "http://localhost:1",
            "http://[::1]:80",
            "http://127.3.2.1",
        ] {
            assert!(is_loopback(&Url::parse(u).unwrap()), "{u}");
        }
        for u in [
            "http://10.0.0.1:9000",
            "http://example.org",
            "http://localhost.example.org",
        ] {
            assert!(!is_loopback(&Url::parse(u).unwrap()), "{u}");
        }
    }

    #[test]
    fn plain_http_endpoints_elsewhere_need_consent() {
        let opts = S3Options {
            endpoint: Some("http://192.0.2.7:9000".into()),
            ..S3Options::default()
        };
        let e = s3_store("b", &opts, "s3://b/k").unwrap_err().to_string();
        assert!(e.contains("--allow-http"), "{e}");
        let opts = S3Options {
            allow_http: true,
            ..opts
        };
        assert!(s3_store("b", &opts, "s3://b/k").is_ok());
    }

    #[test]
    fn half_a_credential_pair_is_refused_with_the_variable_names() {
        let opts = S3Options {
            endpoint: Some("http://127.0.0.1:9".into()),
            access_key_id: Some("AKID".into()),
            secret_access_key: None,
            ..S3Options::default()
        };
        if env("AWS_SECRET_ACCESS_KEY").is_some() {
            return; // the environment completes the pair
        }
        let e = s3_store("b", &opts, "s3://b/k").unwrap_err().to_string();
        assert!(e.contains("AWS_SECRET_ACCESS_KEY"), "{e}");
    }

    #[test]
    fn http_urls_with_queries_are_refused_not_silently_trimmed() {
        let url = Url::parse("https://example.org/x.nc?sig=abc").unwrap();
        let e = http_store(&url, url.as_str()).unwrap_err().to_string();
        assert!(e.contains("query string"), "{e}");
    }

    #[test]
    fn remote_reads_without_a_runtime_say_how_to_provide_one() {
        let e = resolve_handle(None, "s3://b/k").unwrap_err().to_string();
        assert!(e.contains("OpenOptions::handle"), "{e}");
    }

    #[test]
    fn a_single_threaded_runtime_is_refused() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let store: Arc<dyn ObjectStore> = Arc::new(object_store::memory::InMemory::new());
        let e = RemoteSource::open(store, Path::from("k"), "s3://b/k", rt.handle().clone())
            .unwrap_err()
            .to_string();
        assert!(e.contains("multi-thread"), "{e}");
    }

    fn memory_source(data: &[u8]) -> (tokio::runtime::Runtime, RemoteSource, crate::ReadCounter) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let mem = object_store::memory::InMemory::new();
        let path = Path::from("dir/obj.bin");
        rt.block_on(mem.put(&path, Bytes::copy_from_slice(data).into()))
            .unwrap();
        let counted = crate::Counting::new(mem);
        let counter = counted.counter().clone();
        let src = RemoteSource::open(
            Arc::new(counted),
            path,
            "s3://b/dir/obj.bin",
            rt.handle().clone(),
        )
        .unwrap();
        (rt, src, counter)
    }

    #[test]
    fn open_sends_one_head_and_learns_the_size() {
        let (_rt, src, counter) = memory_source(&[5u8; 1000]);
        assert_eq!(src.len(), 1000);
        assert_eq!(
            counter.stats(),
            crate::ReadStats {
                requests: 1,
                bytes: 0
            }
        );
    }

    #[test]
    fn neighbouring_ranges_are_fetched_in_fewer_requests() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 253) as u8).collect();
        let (_rt, src, counter) = memory_source(&data);
        let src = src.with_coalesce_gap(100);
        counter.reset();
        let ranges = [0..10, 20..30, 50..60, 5000..5010, 5050..5100, 9990..10_000];
        let got = src.read_ranges(&ranges).unwrap();
        for (r, g) in ranges.iter().zip(&got) {
            assert_eq!(&g[..], &data[r.start as usize..r.end as usize]);
        }
        // Three clusters: 0..60, 5000..5100, 9990..10000.
        assert_eq!(
            counter.stats(),
            crate::ReadStats {
                requests: 3,
                bytes: 60 + 100 + 10
            }
        );
    }

    #[test]
    fn reads_work_from_inside_a_runtime_worker_too() {
        let (rt, src, _) = memory_source(b"hello remote world");
        let src = Arc::new(src);
        let s2 = Arc::clone(&src);
        let got =
            rt.block_on(async move { tokio::spawn(async move { s2.read_range(6..12) }).await });
        assert_eq!(&got.unwrap().unwrap()[..], b"remote");
        // And from a plain thread, as rayon workers would.
        let s3 = Arc::clone(&src);
        let got = std::thread::spawn(move || s3.read_ranges(&[0..5, 13..18]))
            .join()
            .unwrap()
            .unwrap();
        assert_eq!((&got[0][..], &got[1][..]), (&b"hello"[..], &b"world"[..]));
    }

    #[test]
    fn reads_past_the_end_are_refused_before_any_request() {
        let (_rt, src, counter) = memory_source(&[0u8; 100]);
        counter.reset();
        let e = src.read_ranges(&[0..10, 90..101]).unwrap_err().to_string();
        assert!(e.contains("90..101") && e.contains("100 bytes"), "{e}");
        assert_eq!(counter.stats().requests, 0);
    }

    #[test]
    fn a_missing_object_is_not_found_naming_the_url() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let store: Arc<dyn ObjectStore> = Arc::new(object_store::memory::InMemory::new());
        let e = RemoteSource::open(
            store,
            Path::from("nope.nc"),
            "s3://b/nope.nc",
            rt.handle().clone(),
        )
        .unwrap_err();
        assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
        assert!(
            e.to_string().starts_with("s3://b/nope.nc: not found"),
            "{e}"
        );
    }
}
