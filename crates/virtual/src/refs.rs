//! The reference set in memory: metadata documents and, per array, its
//! chunks in chunk-key order, each a byte range of a source or bytes held
//! inline. Both writers ([`crate::json`], [`crate::parquet`]) read this.

use base64::prelude::{Engine, BASE64_STANDARD};
use serde_json::Value;
use std::sync::Arc;

/// Where one chunk's bytes are.
#[derive(Debug, Clone, PartialEq)]
pub enum Reference {
    /// `length` bytes at `offset` of source number `source`.
    Range {
        /// Index into [`References::sources`].
        source: usize,
        /// First byte.
        offset: u64,
        /// Number of bytes.
        length: u64,
    },
    /// The chunk's bytes themselves (as the array's codecs expect them).
    Inline(Arc<[u8]>),
}

/// One Zarr array's chunk references.
#[derive(Debug, Clone, PartialEq)]
pub struct ArrayRefs {
    /// Zarr path without a leading `/`, like `grp/tas`.
    pub path: String,
    /// Number of chunks along each dimension (empty for a scalar).
    pub grid: Vec<u64>,
    /// `(flat C-order chunk number, reference)`, sorted, no duplicates.
    /// Chunks not listed hold only the array's fill value.
    pub chunks: Vec<(u64, Reference)>,
}

impl ArrayRefs {
    /// Total number of chunk positions in the grid (1 for a scalar).
    pub fn chunk_count(&self) -> u64 {
        self.grid.iter().product()
    }
}

/// A source as the references name it.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceUrl {
    /// The location as the user gave it.
    pub location: String,
    /// The URL written in the references: an absolute local path, or the
    /// `s3://` / `http(s)://` URL as given.
    pub url: String,
}

/// A complete reference set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct References {
    /// Metadata documents by key (`.zgroup`, `.zattrs`, `grp/.zgroup`,
    /// `grp/tas/.zarray`, …), groups before their members.
    pub metadata: Vec<(String, Value)>,
    /// Arrays in the order of their metadata.
    pub arrays: Vec<ArrayRefs>,
    /// The sources, indexed by [`Reference::Range::source`].
    pub sources: Vec<SourceUrl>,
}

impl References {
    /// Number of chunk references (ranges and inline chunks).
    pub fn reference_count(&self) -> u64 {
        self.arrays.iter().map(|a| a.chunks.len() as u64).sum()
    }
}

/// Writes chunk keys (`path/i.j.k`, `path/0` for scalars) of consecutive
/// flat chunk numbers without dividing for each one.
#[derive(Debug)]
pub struct KeyCursor<'a> {
    grid: &'a [u64],
    index: Vec<u64>,
    flat: u64,
}

impl<'a> KeyCursor<'a> {
    /// A cursor at chunk 0 of a grid.
    pub fn new(grid: &'a [u64]) -> Self {
        KeyCursor {
            grid,
            index: vec![0; grid.len()],
            flat: 0,
        }
    }

    /// Move to flat chunk number `flat` (cheapest when it is the next one).
    pub fn seek(&mut self, flat: u64) {
        seek_index(self.grid, &mut self.index, self.flat, flat);
        self.flat = flat;
    }

    /// Append the chunk key of the current position, like `0.3.1`, to `out`.
    pub fn write_chunk_id(&self, out: &mut String) {
        write_index(&self.index, out);
    }
}

/// Move the chunk index `index` on `grid` from flat number `from` to `to`.
pub(crate) fn seek_index(grid: &[u64], index: &mut [u64], from: u64, to: u64) {
    if to == from {
        return;
    }
    if to == from + 1 {
        for d in (0..index.len()).rev() {
            index[d] += 1;
            if index[d] < grid[d] || d == 0 {
                break;
            }
            index[d] = 0;
        }
    } else {
        let mut rest = to;
        for d in (0..index.len()).rev() {
            let n = grid[d].max(1);
            index[d] = rest % n;
            rest /= n;
        }
    }
}

/// Append the chunk id of `index`, like `0.3.1` (`0` for a scalar).
pub(crate) fn write_index(index: &[u64], out: &mut String) {
    if index.is_empty() {
        out.push('0');
        return;
    }
    for (i, x) in index.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        push_decimal(out, *x);
    }
}

/// Append `n` in decimal (without `fmt`: keys are written by the million).
pub(crate) fn push_decimal(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &b in &buf[i..] {
        out.push(char::from(b));
    }
}

/// The key of flat chunk number `flat` of array `path` on `grid`.
pub fn chunk_key(path: &str, grid: &[u64], flat: u64) -> String {
    let mut c = KeyCursor::new(grid);
    c.seek(flat);
    let mut s = String::with_capacity(path.len() + 8);
    s.push_str(path);
    s.push('/');
    c.write_chunk_id(&mut s);
    s
}

/// The C-order flat number of chunk `index` on `grid`.
pub fn flat_index(index: &[u64], grid: &[u64]) -> u64 {
    index.iter().zip(grid).fold(0u64, |acc, (i, n)| {
        acc.saturating_mul(*n).saturating_add(*i)
    })
}

/// Inline bytes as a kerchunk JSON value: the text itself when every byte is
/// ASCII (and it does not itself start with `base64:`), else `base64:` and
/// the standard base64 of the bytes.
pub fn inline_text(bytes: &[u8]) -> String {
    if bytes.is_ascii() && !bytes.starts_with(b"base64:") {
        // ASCII is UTF-8.
        return String::from_utf8_lossy(bytes).into_owned();
    }
    let mut s = String::with_capacity(7 + bytes.len().div_ceil(3) * 4);
    s.push_str("base64:");
    BASE64_STANDARD.encode_string(bytes, &mut s);
    s
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn chunk_keys_are_dotted_c_order_indices() {
        assert_eq!(chunk_key("tas", &[2, 3, 4], 0), "tas/0.0.0");
        assert_eq!(chunk_key("tas", &[2, 3, 4], 23), "tas/1.2.3");
        assert_eq!(chunk_key("g/x", &[5], 4), "g/x/4");
        assert_eq!(chunk_key("scalar", &[], 0), "scalar/0");
        assert_eq!(flat_index(&[1, 2, 3], &[2, 3, 4]), 23);
        assert_eq!(flat_index(&[], &[]), 0);
    }

    #[test]
    fn a_cursor_walks_every_key_in_order() {
        let grid = [3u64, 1, 2];
        let mut c = KeyCursor::new(&grid);
        let mut got = Vec::new();
        for flat in 0..6 {
            c.seek(flat);
            let mut s = String::new();
            c.write_chunk_id(&mut s);
            got.push(s);
        }
        assert_eq!(got, ["0.0.0", "0.0.1", "1.0.0", "1.0.1", "2.0.0", "2.0.1"]);
        // Jumps land where chunk_key says.
        let mut c = KeyCursor::new(&grid);
        c.seek(5);
        let mut s = String::new();
        c.write_chunk_id(&mut s);
        assert_eq!(format!("x/{s}"), chunk_key("x", &grid, 5));
        let mut big = String::new();
        push_decimal(&mut big, u64::MAX);
        push_decimal(&mut big, 0);
        assert_eq!(big, format!("{}0", u64::MAX));
    }

    #[test]
    fn inline_bytes_are_text_when_ascii_and_base64_otherwise() {
        assert_eq!(inline_text(b"abc\0"), "abc\0");
        assert_eq!(inline_text(&[0xff, 0x00]), "base64:/wA=");
        assert_eq!(inline_text(b"base64:xyz"), "base64:YmFzZTY0Onh5eg==");
        assert_eq!(inline_text(b""), "");
    }
}
