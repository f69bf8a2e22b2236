//! Bytes held in memory, as a source (for tests and small objects).

use crate::{ByteSource, Error, Result};
use bytes::Bytes;
use std::ops::Range;

/// An in-memory object.
///
/// ```
/// use arco_storage::{ByteSource, MemSource};
/// let src = MemSource::new("mem://greeting", &b"hello world"[..]);
/// assert_eq!(src.len(), 11);
/// assert_eq!(&src.read_range(6..11).unwrap()[..], b"world");
/// assert!(src.read_range(6..12).is_err());
/// ```
#[derive(Debug, Clone)]
pub struct MemSource {
    location: String,
    data: Bytes,
}

impl MemSource {
    /// Serve `data` under the name `location`.
    pub fn new(location: impl Into<String>, data: impl Into<Bytes>) -> Self {
        MemSource {
            location: location.into(),
            data: data.into(),
        }
    }

    /// All the bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.data
    }
}

impl ByteSource for MemSource {
    fn location(&self) -> &str {
        &self.location
    }

    fn len(&self) -> u64 {
        self.data.len() as u64
    }

    fn read_range(&self, range: Range<u64>) -> Result<Bytes> {
        check_range(&self.location, &range, self.len())?;
        Ok(self.data.slice(range.start as usize..range.end as usize))
    }
}

/// [`Error::OutOfRange`] unless `range` lies within `0..size`.
pub(crate) fn check_range(location: &str, range: &Range<u64>, size: u64) -> Result<()> {
    if range.start > range.end || range.end > size {
        return Err(Error::OutOfRange {
            location: location.to_string(),
            start: range.start,
            end: range.end,
            size,
        });
    }
    Ok(())
}
