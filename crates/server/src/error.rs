//! Errors: [`ApiError`] is what a client sees (an HTTP status and a JSON body
//! `{"code": ..., "description": ...}`); [`LoadError`] is what loading a
//! catalog can go wrong with.

use serde::Serialize;
use std::path::PathBuf;

/// An error answered to a client: HTTP status, a short machine-readable
/// `code` and a `description` saying what was wrong and what is valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{code}: {description}")]
pub struct ApiError {
    /// HTTP status code.
    #[serde(skip)]
    pub status: u16,
    /// Machine-readable code, e.g. `InvalidParameterValue` or `NotFound`.
    pub code: &'static str,
    /// What was wrong, and what would be valid.
    pub description: String,
}

impl ApiError {
    /// 400: a query parameter or body member has an invalid value.
    pub fn bad_parameter(description: impl Into<String>) -> Self {
        ApiError {
            status: 400,
            code: "InvalidParameterValue",
            description: description.into(),
        }
    }

    /// 400: the request body is not what the endpoint reads.
    pub fn bad_body(description: impl Into<String>) -> Self {
        ApiError {
            status: 400,
            code: "InvalidRequestBody",
            description: description.into(),
        }
    }

    /// 404: no such collection, item or path.
    pub fn not_found(description: impl Into<String>) -> Self {
        ApiError {
            status: 404,
            code: "NotFound",
            description: description.into(),
        }
    }

    /// 405: the path exists but not for this method.
    pub fn method_not_allowed(description: impl Into<String>) -> Self {
        ApiError {
            status: 405,
            code: "MethodNotAllowed",
            description: description.into(),
        }
    }

    /// 500: a fault of the server, not of the request.
    pub fn internal(description: impl Into<String>) -> Self {
        ApiError {
            status: 500,
            code: "ServerError",
            description: description.into(),
        }
    }

    /// 503: the backend (the database) cannot be reached.
    pub fn unavailable(description: impl Into<String>) -> Self {
        ApiError {
            status: 503,
            code: "ServiceUnavailable",
            description: description.into(),
        }
    }

    /// The JSON body, `{"code": ..., "description": ...}`.
    pub fn body(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_else(|_| b"{\"code\":\"ServerError\"}".to_vec())
    }
}

/// A failure to load a static catalog or a directory of STAC JSON files.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A file or URL could not be read.
    #[error("cannot read {location}: {source}")]
    Read {
        /// The file or URL.
        location: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A file is not JSON.
    #[error("{location} is not valid JSON: {source}")]
    Json {
        /// The file or URL.
        location: String,
        /// The parse error (with line and column).
        #[source]
        source: serde_json::Error,
    },
    /// A document is JSON but not a STAC object the server can use.
    #[error("{location}: {message}")]
    Invalid {
        /// The file or URL.
        location: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// Two documents define the same collection or item.
    #[error("{what} is defined twice, in {first} and in {second}; remove one of them or give them different ids")]
    Duplicate {
        /// `collection 'x'` or `item 'y' of collection 'x'`.
        what: String,
        /// Where it was seen first.
        first: String,
        /// Where it was seen again.
        second: String,
    },
    /// A path given to load is neither a file nor a directory.
    #[error("{0}: no such file or directory; give a catalog.json, a collection.json, an item JSON or a directory of them")]
    Missing(PathBuf),
    /// Nothing to serve.
    #[error("{0}")]
    Empty(String),
}

impl LoadError {
    pub(crate) fn invalid(location: impl Into<String>, message: impl Into<String>) -> Self {
        LoadError::Invalid {
            location: location.into(),
            message: message.into(),
        }
    }
}
