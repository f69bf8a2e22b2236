//! Understanding what the user typed: a path or a URL.

use crate::{Error, Result};
use std::fmt;
use std::path::PathBuf;
use url::Url;

/// Schemes this build reads, for error messages.
const ACCEPTED: &str = "a local path, file://, s3://bucket/key, http:// or https://";

/// Where an object lives.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Location {
    /// A file on this machine (from a plain path or a `file://` URL).
    Local(PathBuf),
    /// An object in an S3 bucket or an S3-compatible store.
    S3 {
        /// Bucket name.
        bucket: String,
        /// Object key, exactly as written (no leading `/`).
        key: String,
    },
    /// A plain `http://` or `https://` URL read with HTTP range requests.
    Http(Url),
}

impl Location {
    /// Parse a local path or a URL.
    ///
    /// Accepted: plain paths (relative or absolute), `file://` URLs,
    /// `s3://bucket/key`, `http://` and `https://` URLs. Anything else is an
    /// [`Error::BadLocation`] that says what is accepted.
    ///
    /// ```
    /// use arco_storage::Location;
    /// let loc = Location::parse("s3://era5/2020/t2m.nc").unwrap();
    /// assert_eq!(loc, Location::S3 { bucket: "era5".into(), key: "2020/t2m.nc".into() });
    /// assert!(matches!(Location::parse("data/t2m.nc").unwrap(), Location::Local(_)));
    /// assert!(Location::parse("ftp://example.org/x.nc").is_err());
    /// ```
    pub fn parse(input: &str) -> Result<Self> {
        let bad = |reason: String| Error::BadLocation {
            location: input.to_string(),
            reason,
        };
        if input.trim().is_empty() {
            return Err(bad(format!("it is empty; give {ACCEPTED}")));
        }
        let Some((scheme, rest)) = split_scheme(input) else {
            return Ok(Location::Local(PathBuf::from(input)));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "file" => {
                let url =
                    Url::parse(input).map_err(|e| bad(format!("not a valid file:// URL ({e})")))?;
                let path = url.to_file_path().map_err(|()| {
                    bad("a file:// URL needs an absolute path, like file:///data/x.nc".into())
                })?;
                Ok(Location::Local(path))
            }
            "s3" | "s3a" => {
                let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.is_empty() {
                    return Err(bad("no bucket name; write s3://bucket/key".into()));
                }
                if key.is_empty() || key.ends_with('/') {
                    return Err(bad(
                        "no object key after the bucket; write s3://bucket/path/to/object".into(),
                    ));
                }
                Ok(Location::S3 {
                    bucket: bucket.to_string(),
                    key: key.to_string(),
                })
            }
            "http" | "https" => {
                let url = Url::parse(input).map_err(|e| bad(format!("not a valid URL ({e})")))?;
                if url.host_str().is_none_or(str::is_empty) {
                    return Err(bad("the URL has no host".into()));
                }
                if url.path().is_empty() || url.path() == "/" {
                    return Err(bad("the URL names no object (its path is empty)".into()));
                }
                Ok(Location::Http(url))
            }
            "gs" | "gcs" | "az" | "azure" | "abfs" | "abfss" | "adl" => Err(bad(format!(
                "{scheme}:// is not built into this build; accepted: {ACCEPTED}"
            ))),
            _ => Err(bad(format!(
                "unknown scheme '{scheme}://'; accepted: {ACCEPTED}"
            ))),
        }
    }

    /// True for locations read over the network.
    pub fn is_remote(&self) -> bool {
        !matches!(self, Location::Local(_))
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Local(p) => write!(f, "{}", p.display()),
            Location::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
            Location::Http(url) => write!(f, "{url}"),
        }
    }
}

/// Split `scheme://rest`; `None` for anything that is not a URL. A one-letter
/// scheme is a Windows drive (`C:\data`), so a path.
fn split_scheme(input: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = input.split_once("://")?;
    let valid = scheme.len() >= 2
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some((scheme, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(input: &str) -> String {
        match Location::parse(input) {
            Err(Error::BadLocation { reason, .. }) => reason,
            other => panic!("expected BadLocation for {input}, got {other:?}"),
        }
    }

    #[test]
    fn plain_paths_are_local() {
        for p in [
            "x.nc",
            "./data/x.nc",
            "/abs/x.nc",
            "C:\\data\\x.nc",
            "dir with space/x.nc",
        ] {
            assert_eq!(
                Location::parse(p).unwrap(),
                Location::Local(PathBuf::from(p))
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn file_urls_become_paths_with_escapes_decoded() {
        assert_eq!(
            Location::parse("file:///data/my%20file.nc").unwrap(),
            Location::Local(PathBuf::from("/data/my file.nc"))
        );
    }

    #[test]
    fn s3_urls_split_bucket_and_key() {
        assert_eq!(
            Location::parse("s3://b/a/b c.nc").unwrap(),
            Location::S3 {
                bucket: "b".into(),
                key: "a/b c.nc".into()
            }
        );
        assert!(reason("s3://bucket").contains("no object key"));
        assert!(reason("s3://bucket/").contains("no object key"));
        assert!(reason("s3:///key").contains("no bucket"));
    }

    #[test]
    fn http_urls_are_kept_whole() {
        let loc = Location::parse("https://example.org/data/x.nc?v=1").unwrap();
        assert_eq!(loc.to_string(), "https://example.org/data/x.nc?v=1");
        assert!(loc.is_remote());
        assert!(reason("https://example.org/").contains("names no object"));
    }

    #[test]
    fn unbuilt_and_unknown_schemes_say_what_is_accepted() {
        let r = reason("gs://bucket/x.nc");
        assert!(
            r.contains("not built into this build") && r.contains("s3://"),
            "{r}"
        );
        let r = reason("ftp://host/x.nc");
        assert!(
            r.contains("unknown scheme 'ftp://'") && r.contains("http://"),
            "{r}"
        );
        assert!(reason("").contains("empty"));
    }
}
