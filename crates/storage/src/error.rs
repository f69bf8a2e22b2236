//! Storage errors.

/// Crate-level result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A storage failure, naming the location and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The object does not exist.
    #[error("{location}: not found{hint}")]
    NotFound {
        /// Path or URL.
        location: String,
        /// Extra advice.
        hint: String,
    },
    /// A read asked for bytes past the end of the object (a truncated file, usually).
    #[error("{location}: cannot read bytes {start}..{end}, the object is only {size} bytes long (truncated file?)")]
    OutOfRange {
        /// Path or URL.
        location: String,
        /// First byte asked for.
        start: u64,
        /// One past the last byte asked for.
        end: u64,
        /// Actual size.
        size: u64,
    },
    /// The location string could not be understood.
    #[error("cannot understand location '{location}': {reason}")]
    BadLocation {
        /// What the user gave.
        location: String,
        /// Why and what is accepted.
        reason: String,
    },
    /// An I/O or network error.
    #[error("{location}: {message}")]
    Io {
        /// Path or URL.
        location: String,
        /// The underlying error, in words.
        message: String,
    },
    /// The store refused the request: missing, wrong or insufficient credentials.
    #[error("{location}: access denied: {message}{hint}")]
    Denied {
        /// Path or URL.
        location: String,
        /// What the store said.
        message: String,
        /// Which settings or environment variables to check.
        hint: String,
    },
    /// A remote read could not run: no usable async runtime was given or found.
    #[error("{location}: {message}")]
    Runtime {
        /// Path or URL.
        location: String,
        /// What is missing and how to provide it.
        message: String,
    },
}

/// Which kind of remote store an error came from (chooses the hints).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StoreKind {
    S3,
    Http,
}

const S3_AUTH_HINT: &str = "; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \
(plus AWS_SESSION_TOKEN for temporary credentials) to credentials allowed to read it; \
public buckets can be read with --anonymous";

impl Error {
    /// Translate an `object_store` error about `location` into our terms.
    pub(crate) fn from_object_store(
        err: object_store::Error,
        location: &str,
        kind: StoreKind,
    ) -> Self {
        use object_store::Error as E;
        let location = location.to_string();
        match err {
            E::NotFound { .. } => Error::NotFound {
                location,
                hint: match kind {
                    StoreKind::S3 => ": check the bucket and key (keys are case-sensitive), and the endpoint/region".into(),
                    StoreKind::Http => ": the server answered 404, check the URL".into(),
                },
            },
            E::Unauthenticated { source, .. } | E::PermissionDenied { source, .. } => Error::Denied {
                location,
                message: source.to_string(),
                hint: match kind {
                    StoreKind::S3 => S3_AUTH_HINT.into(),
                    StoreKind::Http => "; the server needs authentication arco cannot provide for plain URLs".into(),
                },
            },
            E::NotSupported { source } if kind == StoreKind::Http => Error::Io {
                location,
                message: format!("the server does not support HTTP range requests ({source})"),
            },
            other => Error::Io {
                location,
                message: other.to_string(),
            },
        }
    }
}
