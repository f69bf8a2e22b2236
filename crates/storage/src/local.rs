//! Local files, read with positioned reads (no seeking, safe across threads).

use crate::{ByteSource, Error, Result};
use bytes::Bytes;
use std::fs::File;
use std::ops::Range;
use std::path::Path;

/// A local file opened for positioned reads.
#[derive(Debug)]
pub struct LocalFile {
    location: String,
    file: File,
    len: u64,
}

impl LocalFile {
    /// Open `path`; `location` is the name used in messages.
    pub fn open(path: impl AsRef<Path>, location: impl Into<String>) -> Result<Self> {
        let location = location.into();
        let file = File::open(path.as_ref()).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::NotFound {
                location: location.clone(),
                hint: ": check the path".into(),
            },
            _ => Error::Io {
                location: location.clone(),
                message: e.to_string(),
            },
        })?;
        let meta = file.metadata().map_err(|e| Error::Io {
            location: location.clone(),
            message: e.to_string(),
        })?;
        if meta.is_dir() {
            return Err(Error::Io {
                location,
                message: "is a directory, not a file".into(),
            });
        }
        Ok(LocalFile {
            location,
            file,
            len: meta.len(),
        })
    }
}

impl ByteSource for LocalFile {
    fn location(&self) -> &str {
        &self.location
    }

    fn len(&self) -> u64 {
        self.len
    }

    fn read_range(&self, range: Range<u64>) -> Result<Bytes> {
        if range.end > self.len || range.start > range.end {
            return Err(Error::OutOfRange {
                location: self.location.clone(),
                start: range.start,
                end: range.end,
                size: self.len,
            });
        }
        let mut buf = vec![0u8; (range.end - range.start) as usize];
        read_exact_at(&self.file, &mut buf, range.start).map_err(|e| Error::Io {
            location: self.location.clone(),
            message: format!("reading bytes {}..{}: {e}", range.start, range.end),
        })?;
        Ok(Bytes::from(buf))
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.read_exact_at(buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        let n = file.seek_read(buf, offset)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf = &mut buf[n..];
        offset += n as u64;
    }
    Ok(())
}
