//! Options for [`crate::open`].

use crate::cache::{DEFAULT_BLOCK_SIZE, DEFAULT_CACHE_BYTES};
use crate::coalesce::{DEFAULT_MAX_CONCURRENCY, DEFAULT_MAX_GAP};
use crate::counting::ReadCounter;
use std::fmt;
use tokio::runtime::Handle;

/// How to open a location. Local paths need none of it.
///
/// Build it with struct update syntax:
///
/// ```
/// use arco_storage::{OpenOptions, S3Options};
/// let opts = OpenOptions {
///     s3: S3Options { anonymous: true, ..S3Options::default() },
///     ..OpenOptions::default()
/// };
/// assert_eq!(opts.block_size, 256 * 1024);
/// ```
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// The tokio runtime that drives remote requests (from a multi-thread
    /// runtime). This crate owns no runtime: the caller (the CLI, the server)
    /// makes one and passes its handle. When `None`, [`crate::open`] uses the
    /// runtime of the calling thread if there is one, else remote locations
    /// fail with [`crate::Error::Runtime`].
    pub handle: Option<Handle>,
    /// S3 settings.
    pub s3: S3Options,
    /// Block size of the metadata cache around remote sources (default 256 KiB).
    pub block_size: u64,
    /// Memory bound of the metadata cache of one remote source (default
    /// 32 MiB); 0 turns the cache off.
    pub cache_bytes: u64,
    /// Ranges closer than this are fetched in one request (default 1 MiB).
    pub coalesce_gap: u64,
    /// Merged requests in flight at once in `read_ranges` (default 8).
    pub max_concurrency: usize,
    /// When set, every request (every GET and HEAD for remote objects, every
    /// read for local files) is counted here; `arco inspect --stats` uses it.
    pub counter: Option<ReadCounter>,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            handle: None,
            s3: S3Options::default(),
            block_size: DEFAULT_BLOCK_SIZE,
            cache_bytes: DEFAULT_CACHE_BYTES,
            coalesce_gap: DEFAULT_MAX_GAP,
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
            counter: None,
        }
    }
}

impl OpenOptions {
    /// These options with `handle` as the runtime.
    pub fn with_handle(mut self, handle: Handle) -> Self {
        self.handle = Some(handle);
        self
    }
}

/// Settings for `s3://` locations. A field left `None` falls back to the
/// environment variable named in its doc, then to the stated default.
#[derive(Clone, Default)]
pub struct S3Options {
    /// Endpoint of an S3-compatible store, like `http://127.0.0.1:9000`
    /// (env `AWS_ENDPOINT_URL_S3`, then `AWS_ENDPOINT_URL`; default: AWS).
    pub endpoint: Option<String>,
    /// Region (env `AWS_REGION`, then `AWS_DEFAULT_REGION`; default `us-east-1`).
    pub region: Option<String>,
    /// Send unsigned requests (public buckets; `--anonymous`). Also turned on
    /// by env `AWS_SKIP_SIGNATURE=true` or `AWS_NO_SIGN_REQUEST=true`.
    pub anonymous: bool,
    /// Access key id (env `AWS_ACCESS_KEY_ID`).
    pub access_key_id: Option<String>,
    /// Secret access key (env `AWS_SECRET_ACCESS_KEY`).
    pub secret_access_key: Option<String>,
    /// Session token for temporary credentials (env `AWS_SESSION_TOKEN`).
    pub session_token: Option<String>,
    /// Allow a plain `http://` endpoint that is not on this machine. Loopback
    /// endpoints (`127.0.0.1`, `::1`, `localhost`) are always allowed.
    pub allow_http: bool,
    /// Virtual-hosted style (`bucket.host/key`) rather than path style
    /// (`host/bucket/key`). Default: path style when an endpoint is given,
    /// virtual-hosted for AWS itself.
    pub virtual_hosted_style: Option<bool>,
    /// With no credentials in the options or the environment, ask the EC2/ECS
    /// instance metadata service for them (default false: send unsigned
    /// requests instead). Web identity (`AWS_WEB_IDENTITY_TOKEN_FILE`) and
    /// container credentials in the environment are always used.
    pub instance_metadata: bool,
}

impl fmt::Debug for S3Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("S3Options")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("anonymous", &self.anonymous)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &redact(&self.secret_access_key))
            .field("session_token", &redact(&self.session_token))
            .field("allow_http", &self.allow_http)
            .field("virtual_hosted_style", &self.virtual_hosted_style)
            .field("instance_metadata", &self.instance_metadata)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_secrets() {
        let o = S3Options {
            access_key_id: Some("AKIDEXAMPLE".into()),
            secret_access_key: Some("wJalrXUtnFEMI".into()),
            session_token: Some("FwoGZXIvYXdzE".into()),
            ..S3Options::default()
        };
        let s = format!("{o:?}");
        assert!(s.contains("AKIDEXAMPLE"));
        assert!(
            !s.contains("wJalrXUtnFEMI") && !s.contains("FwoGZXIvYXdzE"),
            "{s}"
        );
    }
}
