//! TIFF structure: the header, the IFD chain and tag values, read through a
//! small cache of range reads.
//!
//! Nothing here reads tile or strip data: only the header, the IFDs and the
//! tag values they point to (tile offsets, GeoKeys, GDAL metadata, ...).

use crate::{Error, Result};
use arco_core::Endian;
use arco_storage::ByteSource;
use bytes::Bytes;
use std::collections::HashSet;

/// Bytes read by the first read of a file: a COG keeps every IFD here.
pub(crate) const INITIAL_READ: u64 = 64 * 1024;

/// At least this many bytes are read when a tag value lies outside what was read.
const GROW_READ: u64 = 64 * 1024;

/// At most this many IFDs are followed (a guard against absurd files).
const MAX_IFDS: usize = 10_000;

/// Range reads of the metadata, cached.
pub(crate) struct Fetcher<'a> {
    source: &'a dyn ByteSource,
    pub(crate) location: String,
    pub(crate) len: u64,
    segments: Vec<(u64, Bytes)>,
}

impl<'a> Fetcher<'a> {
    /// Read the first [`INITIAL_READ`] bytes (or the whole file when shorter).
    pub(crate) fn new(source: &'a dyn ByteSource) -> Result<Self> {
        let len = source.len();
        let first = source.read_range(0..len.min(INITIAL_READ))?;
        Ok(Fetcher {
            location: source.location().to_string(),
            source,
            len,
            segments: vec![(0, first)],
        })
    }

    /// A format error at `offset`.
    pub(crate) fn bad(&self, offset: u64, reason: impl Into<String>) -> Error {
        Error::Format {
            location: self.location.clone(),
            offset,
            reason: reason.into(),
        }
    }

    /// `n` bytes at `offset`, naming `what` when they are not in the file.
    pub(crate) fn get(&mut self, offset: u64, n: u64, what: &str) -> Result<Bytes> {
        let end = offset
            .checked_add(n)
            .filter(|&e| e <= self.len)
            .ok_or_else(|| {
                self.bad(
                    offset,
                    format!(
                        "{what} ({n} bytes at byte {offset}) runs past the end of the file \
                         ({} bytes); the file is truncated",
                        self.len
                    ),
                )
            })?;
        for (start, bytes) in &self.segments {
            let seg_end = start + bytes.len() as u64;
            if *start <= offset && end <= seg_end {
                let a = (offset - start) as usize;
                return Ok(bytes.slice(a..a + n as usize));
            }
        }
        let want = end.max(offset.saturating_add(GROW_READ)).min(self.len);
        let bytes = self.source.read_range(offset..want)?;
        let out = bytes.slice(0..n as usize);
        self.segments.push((offset, bytes));
        Ok(out)
    }
}

/// Byte order of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Order(pub(crate) Endian);

impl Order {
    pub(crate) fn u16(self, b: &[u8]) -> u16 {
        let a = [b[0], b[1]];
        match self.0 {
            Endian::Little => u16::from_le_bytes(a),
            Endian::Big => u16::from_be_bytes(a),
        }
    }
    pub(crate) fn u32(self, b: &[u8]) -> u32 {
        let a = [b[0], b[1], b[2], b[3]];
        match self.0 {
            Endian::Little => u32::from_le_bytes(a),
            Endian::Big => u32::from_be_bytes(a),
        }
    }
    pub(crate) fn u64(self, b: &[u8]) -> u64 {
        let a = [b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]];
        match self.0 {
            Endian::Little => u64::from_le_bytes(a),
            Endian::Big => u64::from_be_bytes(a),
        }
    }
}

/// The 8- or 16-byte file header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header {
    pub(crate) order: Order,
    pub(crate) bigtiff: bool,
    pub(crate) first_ifd: u64,
}

/// True when `magic` starts a classic TIFF or a BigTIFF file, of either byte order.
pub fn is_tiff(magic: &[u8]) -> bool {
    matches!(
        magic,
        [b'I', b'I', 42 | 43, 0, ..] | [b'M', b'M', 0, 42 | 43, ..]
    )
}

pub(crate) fn read_header(f: &mut Fetcher<'_>) -> Result<Header> {
    let have = f.len.min(16);
    let b = f.get(0, have, "the TIFF header")?;
    let order = match b.get(..2) {
        Some(b"II") => Order(Endian::Little),
        Some(b"MM") => Order(Endian::Big),
        _ => {
            return Err(f.bad(
                0,
                format!(
                    "the file does not start with a TIFF byte-order mark (II or MM) but with {}",
                    hex(&b[..b.len().min(4)])
                ),
            ))
        }
    };
    if b.len() < 8 {
        return Err(f.bad(
            0,
            format!(
                "the TIFF header needs at least 8 bytes, the file has {}; the file is truncated",
                f.len
            ),
        ));
    }
    match order.u16(&b[2..4]) {
        42 => {
            let first_ifd = u64::from(order.u32(&b[4..8]));
            Ok(Header {
                order,
                bigtiff: false,
                first_ifd,
            })
        }
        43 => {
            if b.len() < 16 {
                return Err(f.bad(
                    0,
                    format!(
                        "the BigTIFF header needs 16 bytes, the file has {}; the file is truncated",
                        f.len
                    ),
                ));
            }
            let size = order.u16(&b[4..6]);
            if size != 8 || order.u16(&b[6..8]) != 0 {
                return Err(f.bad(
                    4,
                    format!("a BigTIFF header must give an offset size of 8, not {size}"),
                ));
            }
            Ok(Header {
                order,
                bigtiff: true,
                first_ifd: order.u64(&b[8..16]),
            })
        }
        v => Err(f.bad(
            2,
            format!("the TIFF version is {v}; 42 (TIFF) or 43 (BigTIFF) was expected"),
        )),
    }
}

/// Where a tag's value is.
#[derive(Debug, Clone)]
pub(crate) enum ValueAt {
    /// In the entry itself (at most 4 or 8 bytes).
    Inline(Vec<u8>),
    /// At this file offset.
    Offset(u64),
}

/// One IFD entry.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) tag: u16,
    pub(crate) typ: u16,
    pub(crate) count: u64,
    pub(crate) value: ValueAt,
    /// File offset of the entry (for messages).
    pub(crate) at: u64,
}

/// One image file directory.
#[derive(Debug, Clone)]
pub(crate) struct Ifd {
    pub(crate) offset: u64,
    pub(crate) entries: Vec<Entry>,
}

impl Ifd {
    pub(crate) fn entry(&self, tag: u16) -> Option<&Entry> {
        self.entries.iter().find(|e| e.tag == tag)
    }
}

/// Bytes per value of a TIFF field type, or `None` for an unknown type.
pub(crate) fn type_size(typ: u16) -> Option<u64> {
    Some(match typ {
        1 | 2 | 6 | 7 => 1,
        3 | 8 => 2,
        4 | 9 | 11 | 13 => 4,
        5 | 10 | 12 | 16 | 17 | 18 => 8,
        _ => return None,
    })
}

/// Follow the IFD chain from the header.
pub(crate) fn read_ifds(f: &mut Fetcher<'_>, h: &Header) -> Result<Vec<Ifd>> {
    let mut ifds = Vec::new();
    let mut seen = HashSet::new();
    let mut next = h.first_ifd;
    let mut from = if h.bigtiff { 8 } else { 4 };
    while next != 0 {
        if !seen.insert(next) {
            return Err(f.bad(
                from,
                format!("the IFD chain loops back to the IFD at byte {next}"),
            ));
        }
        if ifds.len() >= MAX_IFDS {
            return Err(f.bad(from, format!("the file has more than {MAX_IFDS} IFDs")));
        }
        if next < if h.bigtiff { 16 } else { 8 } {
            return Err(f.bad(
                from,
                format!("an IFD offset of {next} points inside the TIFF header"),
            ));
        }
        let (ifd, link_at, link) = read_ifd(f, h, next, ifds.len())?;
        ifds.push(ifd);
        from = link_at;
        next = link;
    }
    if ifds.is_empty() {
        return Err(f.bad(from, "the file has no image (the first IFD offset is 0)"));
    }
    Ok(ifds)
}

/// One IFD at `offset`: its entries, where its next-IFD link is, and that link.
fn read_ifd(f: &mut Fetcher<'_>, h: &Header, offset: u64, index: usize) -> Result<(Ifd, u64, u64)> {
    let o = h.order;
    let (count_len, entry_len, link_len) = if h.bigtiff { (8, 20, 8) } else { (2, 12, 4) };
    let what = format!("the entry count of IFD {index}");
    let c = f.get(offset, count_len, &what)?;
    let n = if h.bigtiff {
        o.u64(&c)
    } else {
        u64::from(o.u16(&c))
    };
    let body_len = n
        .checked_mul(entry_len)
        .and_then(|b| b.checked_add(link_len))
        .ok_or_else(|| f.bad(offset, format!("IFD {index} claims {n} entries")))?;
    let body = f.get(
        offset + count_len,
        body_len,
        &format!("IFD {index} with {n} entries"),
    )?;
    let mut entries = Vec::with_capacity(n as usize);
    for k in 0..n as usize {
        let e = &body[k * entry_len as usize..(k + 1) * entry_len as usize];
        let at = offset + count_len + (k as u64) * entry_len;
        let tag = o.u16(&e[0..2]);
        let typ = o.u16(&e[2..4]);
        let (count, raw) = if h.bigtiff {
            (o.u64(&e[4..12]), &e[12..20])
        } else {
            (u64::from(o.u32(&e[4..8])), &e[8..12])
        };
        let Some(size) = type_size(typ) else {
            // TIFF 6.0: readers skip fields of unknown type.
            continue;
        };
        let total = size.checked_mul(count).ok_or_else(|| {
            f.bad(
                at,
                format!("tag {tag} claims {count} values, more than a file can hold"),
            )
        })?;
        let value = if total <= raw.len() as u64 {
            ValueAt::Inline(raw[..total as usize].to_vec())
        } else {
            let off = if h.bigtiff {
                o.u64(raw)
            } else {
                u64::from(o.u32(raw))
            };
            ValueAt::Offset(off)
        };
        entries.push(Entry {
            tag,
            typ,
            count,
            value,
            at,
        });
    }
    let link_at = offset + count_len + n * entry_len;
    let l = &body[(n * entry_len) as usize..];
    let link = if h.bigtiff {
        o.u64(l)
    } else {
        u64::from(o.u32(l))
    };
    Ok((Ifd { offset, entries }, link_at, link))
}

/// Reads tag values of one file.
pub(crate) struct Tags<'f, 'a> {
    pub(crate) f: &'f mut Fetcher<'a>,
    pub(crate) order: Order,
}

impl Tags<'_, '_> {
    /// The raw bytes of an entry's values.
    pub(crate) fn raw(&mut self, e: &Entry, name: &str) -> Result<Bytes> {
        match &e.value {
            ValueAt::Inline(b) => Ok(Bytes::copy_from_slice(b)),
            ValueAt::Offset(off) => {
                let size = type_size(e.typ).unwrap_or(1);
                self.f.get(
                    *off,
                    size * e.count,
                    &format!("the {} values of tag {name} ({})", e.count, e.tag),
                )
            }
        }
    }

    /// Unsigned integer values (BYTE, SHORT, LONG, LONG8, IFD, IFD8).
    pub(crate) fn uints(&mut self, e: &Entry, name: &str) -> Result<Vec<u64>> {
        let b = self.raw(e, name)?;
        let o = self.order;
        Ok(match e.typ {
            1 | 7 => b.iter().map(|&x| u64::from(x)).collect(),
            3 => b.chunks_exact(2).map(|c| u64::from(o.u16(c))).collect(),
            4 | 13 => b.chunks_exact(4).map(|c| u64::from(o.u32(c))).collect(),
            16 | 18 => b.chunks_exact(8).map(|c| o.u64(c)).collect(),
            t => {
                return Err(self.f.bad(
                    e.at,
                    format!(
                        "tag {name} ({}) has field type {t}; an unsigned integer type was expected",
                        e.tag
                    ),
                ))
            }
        })
    }

    /// The first unsigned integer value.
    pub(crate) fn uint(&mut self, e: &Entry, name: &str) -> Result<u64> {
        self.uints(e, name)?.first().copied().ok_or_else(|| {
            self.f
                .bad(e.at, format!("tag {name} ({}) has no value", e.tag))
        })
    }

    /// Floating-point values (DOUBLE, FLOAT, RATIONAL, SRATIONAL).
    pub(crate) fn floats(&mut self, e: &Entry, name: &str) -> Result<Vec<f64>> {
        let b = self.raw(e, name)?;
        let o = self.order;
        Ok(match e.typ {
            12 => b
                .chunks_exact(8)
                .map(|c| f64::from_bits(o.u64(c)))
                .collect(),
            11 => b
                .chunks_exact(4)
                .map(|c| f64::from(f32::from_bits(o.u32(c))))
                .collect(),
            5 => b
                .chunks_exact(8)
                .map(|c| f64::from(o.u32(&c[..4])) / f64::from(o.u32(&c[4..])))
                .collect(),
            10 => b
                .chunks_exact(8)
                .map(|c| f64::from(o.u32(&c[..4]) as i32) / f64::from(o.u32(&c[4..]) as i32))
                .collect(),
            1 | 3 | 4 | 16 => self.uints(e, name)?.into_iter().map(|v| v as f64).collect(),
            t => {
                return Err(self.f.bad(
                    e.at,
                    format!(
                        "tag {name} ({}) has field type {t}; a floating-point type was expected",
                        e.tag
                    ),
                ))
            }
        })
    }

    /// ASCII text, up to the first NUL.
    pub(crate) fn ascii(&mut self, e: &Entry, name: &str) -> Result<String> {
        let b = self.raw(e, name)?;
        let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        Ok(String::from_utf8_lossy(&b[..end]).into_owned())
    }
}

/// Bytes as spaced hex, for messages.
pub(crate) fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}
