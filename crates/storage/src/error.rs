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
}
