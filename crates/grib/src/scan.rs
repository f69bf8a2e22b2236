//! Finding messages and their sections by range reads.
//!
//! Each message is located by its `GRIB` magic; its length comes from
//! section 0 (GRIB2) or the indicator section (GRIB1, with ECMWF's coding
//! for messages over 8 MiB). Only the sections that identify a field are
//! read: GRIB2 sections 1, 3, 4, 5 and the first bytes of 6; GRIB1's
//! product and grid description sections and the headers of the bitmap and
//! binary data sections. Data is never read here.

use crate::{Error, Result};
use arco_storage::ByteSource;

/// Bytes read at the start of each message in one request; more is read
/// only when the identification sections are longer.
const PREFIX: u64 = 4096;
/// Bytes read at a time while looking for the next `GRIB` magic.
const SEARCH: u64 = 64 * 1024;

/// One field of a message: what the data model needs.
#[derive(Debug, Clone)]
pub(crate) struct RawField {
    /// Byte offset of the message in the file.
    pub offset: u64,
    /// Bytes from the message start through the end of this field's data
    /// section (the whole message for single-field messages).
    pub length: u64,
    /// The sections.
    pub sections: Sections,
}

/// The identification sections of one field.
#[derive(Debug, Clone)]
pub(crate) enum Sections {
    /// GRIB2.
    Grib2 {
        /// Discipline (section 0, octet 7).
        discipline: u8,
        /// Section 1 (identification).
        sec1: Vec<u8>,
        /// Section 3 (grid definition).
        sec3: Vec<u8>,
        /// Section 4 (product definition).
        sec4: Vec<u8>,
        /// Section 5 (data representation).
        sec5: Vec<u8>,
        /// A bitmap applies (section 6 indicator 0 or 254).
        bitmap: bool,
    },
    /// GRIB1.
    Grib1 {
        /// Product definition section.
        pds: Vec<u8>,
        /// Grid description section, when present.
        gds: Option<Vec<u8>>,
        /// A bitmap section is present.
        bitmap: bool,
        /// The first 11 bytes of the binary data section.
        bds_head: Vec<u8>,
    },
}

/// A message's bytes read so far: a prefix, grown on demand.
struct Prefix<'a> {
    source: &'a dyn ByteSource,
    start: u64,
    end: u64,
    buf: Vec<u8>,
}

impl Prefix<'_> {
    /// Make sure bytes `start + at .. start + at + len` are held; error names
    /// the message when they lie past its end.
    fn need(&mut self, at: u64, len: u64, what: &str) -> Result<&[u8]> {
        let want = at.saturating_add(len);
        if self.start + want > self.end {
            return Err(Error::format(
                self.source.location(),
                self.start + at,
                format!(
                    "the {what} of the message at byte {} runs past the message's end at byte {} (corrupt message)",
                    self.start, self.end
                ),
            ));
        }
        let have = self.buf.len() as u64;
        if want > have {
            let upto = want.max(have * 2).min(self.end - self.start);
            let more = self
                .source
                .read_range(self.start + have..self.start + upto)?;
            self.buf.extend_from_slice(&more);
        }
        Ok(&self.buf[at as usize..want as usize])
    }
}

fn be(b: &[u8], at: usize, n: usize) -> u64 {
    b[at..at + n]
        .iter()
        .fold(0u64, |a, &x| (a << 8) | u64::from(x))
}

/// Every field of every message of `source`, in file order.
pub(crate) fn scan(source: &dyn ByteSource) -> Result<Vec<RawField>> {
    let len = source.len();
    let loc = source.location().to_string();
    let mut fields = Vec::new();
    let mut pos = 0u64;
    let mut messages = 0usize;
    while let Some(start) = find_magic(source, pos)? {
        if start + 16 > len {
            return Err(Error::format(
                &loc,
                start,
                format!(
                    "a GRIB message starts at byte {start} but the file ends at byte {len}: the file is truncated"
                ),
            ));
        }
        let head = source.read_range(start..start + 16)?;
        let edition = head[7];
        let first = source.read_range(start..(start + PREFIX).min(len))?;
        let total = match edition {
            2 => be(&head, 8, 8),
            1 => grib1_total(&first, source, start, len)?,
            e => {
                return Err(Error::format(
                    &loc,
                    start + 7,
                    format!("the message at byte {start} says GRIB edition {e}; arco reads editions 1 and 2"),
                ))
            }
        };
        let end = start.checked_add(total).filter(|&e| e <= len).ok_or_else(|| {
            Error::format(
                &loc,
                start,
                format!(
                    "the message at byte {start} declares {total} bytes, past the end of the file at byte {len}: the file is truncated"
                ),
            )
        })?;
        if total < 8 + 4 {
            return Err(Error::format(
                &loc,
                start,
                format!("the message at byte {start} declares only {total} bytes"),
            ));
        }
        let tail = source.read_range(end - 4..end)?;
        if &tail[..] != b"7777" {
            return Err(Error::format(
                &loc,
                end - 4,
                format!(
                    "the message at byte {start} ({total} bytes) does not end with `7777` at byte {}: the message is corrupt or its length is wrong",
                    end - 4
                ),
            ));
        }
        let mut prefix = Prefix {
            source,
            start,
            end,
            buf: first[..first.len().min(total as usize)].to_vec(),
        };
        match edition {
            2 => grib2_fields(&mut prefix, head[6], &mut fields)?,
            _ => fields.push(grib1_field(&mut prefix)?),
        }
        messages += 1;
        pos = end;
    }
    // A file cut inside the magic of a last message ("G", "GR", "GRI" at its end).
    if pos < len {
        let from = pos.max(len.saturating_sub(3));
        let rest = source.read_range(from..len)?;
        for k in (1..=rest.len()).rev() {
            let tail = &rest[rest.len() - k..];
            if b"GRIB".starts_with(tail) {
                let at = len - k as u64;
                return Err(Error::format(
                    &loc,
                    at,
                    format!("the file ends at byte {len} inside the `GRIB` of a message starting at byte {at}: the file is truncated"),
                ));
            }
        }
    }
    if messages == 0 {
        return Err(Error::format(
            &loc,
            0,
            "no GRIB message found (no `GRIB` magic in the file)".into(),
        ));
    }
    Ok(fields)
}

/// The next offset at or after `pos` where `GRIB` starts, if any.
fn find_magic(source: &dyn ByteSource, mut pos: u64) -> Result<Option<u64>> {
    let len = source.len();
    while pos + 4 <= len {
        let upto = (pos + SEARCH).min(len);
        let buf = source.read_range(pos..upto)?;
        if let Some(i) = buf.windows(4).position(|w| w == b"GRIB") {
            return Ok(Some(pos + i as u64));
        }
        if upto == len {
            break;
        }
        pos = upto - 3;
    }
    Ok(None)
}

/// The total length of a GRIB1 message (see `arco_codecs`' large-message rule).
fn grib1_total(first: &[u8], source: &dyn ByteSource, start: u64, len: u64) -> Result<u64> {
    let stored = be(first, 4, 3);
    if stored & 0x80_0000 == 0 {
        return Ok(stored);
    }
    // Large message: the binary data section's length field is needed.
    let loc = source.location();
    let read3 = |at: u64| -> Result<u64> {
        if at + 3 > len {
            return Err(Error::format(
                loc,
                at,
                "a section header runs past the end of the file: the file is truncated".into(),
            ));
        }
        let b = source.read_range(at..at + 3)?;
        Ok(be(&b, 0, 3))
    };
    let mut at = start + 8;
    let pds_len = read3(at)?;
    if at + 8 > len {
        return Err(Error::format(
            loc,
            at,
            "the product definition section is truncated".into(),
        ));
    }
    let flags = source.read_range(at + 7..at + 8)?[0];
    at += pds_len;
    if flags & 0x80 != 0 {
        at += read3(at)?;
    }
    if flags & 0x40 != 0 {
        at += read3(at)?;
    }
    let bds_len = read3(at)?;
    let total = (stored & 0x7f_ffff) * 120;
    Ok(if bds_len < 120 {
        total.saturating_sub(bds_len) + 4
    } else {
        total
    })
}

fn grib2_fields(p: &mut Prefix<'_>, discipline: u8, out: &mut Vec<RawField>) -> Result<()> {
    let total = p.end - p.start;
    let mut at = 16u64;
    let (mut sec1, mut sec3, mut sec4, mut sec5) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut bitmap = false;
    let mut index = 0usize;
    while at < total - 4 {
        let h = p.need(at, 5, "section header")?;
        let slen = be(h, 0, 4);
        let num = h[4];
        if slen < 5 || at + slen > total - 4 {
            return Err(Error::format(
                p.source.location(),
                p.start + at,
                format!(
                    "section {num} at byte {} declares {slen} bytes, past the end of its message at byte {} (corrupt message)",
                    p.start + at,
                    p.end
                ),
            ));
        }
        match num {
            1 => sec1 = p.need(at, slen, "identification section")?.to_vec(),
            3 => sec3 = p.need(at, slen, "grid definition section")?.to_vec(),
            4 => sec4 = p.need(at, slen, "product definition section")?.to_vec(),
            5 => sec5 = p.need(at, slen, "data representation section")?.to_vec(),
            6 => {
                let b = p.need(at, 6, "bitmap section")?;
                bitmap = b[5] != 255;
            }
            7 => {
                if sec1.is_empty() || sec3.is_empty() || sec4.is_empty() || sec5.is_empty() {
                    return Err(Error::format(
                        p.source.location(),
                        p.start + at,
                        "a data section (7) comes before sections 1, 3, 4 and 5 (corrupt message)".into(),
                    ));
                }
                out.push(RawField {
                    offset: p.start,
                    length: at + slen,
                    sections: Sections::Grib2 {
                        discipline,
                        sec1: sec1.clone(),
                        sec3: sec3.clone(),
                        sec4: sec4.clone(),
                        sec5: sec5.clone(),
                        bitmap,
                    },
                });
                index += 1;
            }
            2 => {}
            n => {
                return Err(Error::format(
                    p.source.location(),
                    p.start + at,
                    format!("byte {} starts a section numbered {n}; GRIB2 sections are 1 to 7 (corrupt message)", p.start + at),
                ))
            }
        }
        at += slen;
    }
    if index == 0 {
        return Err(Error::format(
            p.source.location(),
            p.start,
            format!("the message at byte {} holds no data section", p.start),
        ));
    }
    // A single field's chunk is the whole message, end marker included.
    if index == 1 {
        if let Some(last) = out.last_mut() {
            last.length = total;
        }
    }
    Ok(())
}

fn grib1_field(p: &mut Prefix<'_>) -> Result<RawField> {
    let total = p.end - p.start;
    let mut at = 8u64;
    let h = p.need(at, 3, "product definition section")?;
    let pds_len = be(h, 0, 3);
    let pds = p
        .need(at, pds_len.max(28), "product definition section")?
        .to_vec();
    at += pds_len;
    let flags = pds[7];
    let gds = if flags & 0x80 != 0 {
        let h = p.need(at, 3, "grid description section")?;
        let l = be(h, 0, 3);
        let g = p.need(at, l.max(6), "grid description section")?.to_vec();
        at += l;
        Some(g)
    } else {
        None
    };
    let bitmap = flags & 0x40 != 0;
    if bitmap {
        let h = p.need(at, 3, "bitmap section")?;
        at += be(h, 0, 3).max(3);
    }
    let bds_head = p.need(at, 11, "binary data section")?.to_vec();
    Ok(RawField {
        offset: p.start,
        length: total,
        sections: Sections::Grib1 {
            pds,
            gds,
            bitmap,
            bds_head,
        },
    })
}
