//! The NetCDF-3 header grammar, parsed from a byte prefix of the file.
//!
//! [`parse`] works on whatever prefix of the file has been read so far. When
//! the header runs past that prefix it answers [`ParseError::NeedMore`] with
//! the number of bytes it needs, and the caller reads more and parses again.
//! When the header runs past the end of the *file* it answers
//! [`ParseError::Bad`] naming the byte offset. Every count is bounded by the
//! bytes left in the file before anything is allocated for it.

use crate::{NcType, Version};
use arco_core::{AttrValue, Attribute, Values};

/// Tag of a dimension list.
const NC_DIMENSION: u32 = 0x0A;
/// Tag of a variable list.
const NC_VARIABLE: u32 = 0x0B;
/// Tag of an attribute list.
const NC_ATTRIBUTE: u32 = 0x0C;

/// Most list entries preallocated up front; longer lists grow as they are read.
const PREALLOC_CAP: usize = 1024;

/// Why a header prefix could not be parsed.
#[derive(Debug)]
pub(crate) enum ParseError {
    /// The header continues past the bytes read so far: read at least this many.
    NeedMore(u64),
    /// The header is invalid (or runs past the end of the file).
    Bad {
        /// Byte offset of the problem.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
}

type PResult<T> = std::result::Result<T, ParseError>;

fn bad<T>(offset: u64, reason: impl Into<String>) -> PResult<T> {
    Err(ParseError::Bad {
        offset,
        reason: reason.into(),
    })
}

/// A dimension as stored.
#[derive(Debug)]
pub(crate) struct RawDim {
    /// Byte offset of the dimension's entry in the header (for messages).
    pub entry_offset: u64,
    /// Name.
    pub name: String,
    /// Stored length; 0 marks the record dimension.
    pub len: u64,
}

/// A variable as stored.
#[derive(Debug)]
pub(crate) struct RawVar {
    /// Byte offset of the variable's entry in the header (for messages).
    pub entry_offset: u64,
    /// Name.
    pub name: String,
    /// Dimension ids, outermost first.
    pub dimids: Vec<u64>,
    /// Attributes in file order.
    pub attrs: Vec<Attribute>,
    /// Element type.
    pub nc_type: NcType,
    /// Offset of the first byte of data (of the first record for record variables).
    pub begin: u64,
}

/// The parsed header.
#[derive(Debug)]
pub(crate) struct RawHeader {
    /// Format version.
    pub version: Version,
    /// Number of records; `None` for STREAMING (count them from the file size).
    pub numrecs: Option<u64>,
    /// Dimensions in file order.
    pub dims: Vec<RawDim>,
    /// Global attributes in file order.
    pub gatts: Vec<Attribute>,
    /// Variables in file order.
    pub vars: Vec<RawVar>,
    /// Byte length of the header.
    pub len: u64,
}

/// A reading position in a prefix of the file.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    file_len: u64,
    /// Width in bytes of counts and sizes: 4, or 8 in CDF-5.
    width: u64,
}

fn be_u64(b: &[u8]) -> u64 {
    b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x))
}

impl<'a> Cursor<'a> {
    fn pos(&self) -> u64 {
        self.pos as u64
    }

    /// Bytes of the file (not only of the buffer) after the cursor.
    fn remaining_in_file(&self) -> u64 {
        self.file_len.saturating_sub(self.pos())
    }

    /// Take the next `n` bytes.
    fn take(&mut self, n: u64, what: &str) -> PResult<&'a [u8]> {
        let start = self.pos();
        let end = match start.checked_add(n) {
            Some(end) if end <= self.file_len => end,
            _ => {
                return bad(
                    start,
                    format!(
                        "header is truncated: {what} needs {n} bytes at byte {start}, \
                         but the file is only {} bytes long",
                        self.file_len
                    ),
                )
            }
        };
        let end_usize = usize::try_from(end).map_err(|_| ParseError::NeedMore(end))?;
        let bytes = self
            .buf
            .get(self.pos..end_usize)
            .ok_or(ParseError::NeedMore(end))?;
        self.pos = end_usize;
        Ok(bytes)
    }

    fn u32(&mut self, what: &str) -> PResult<u32> {
        // At most 4 bytes, so the fold cannot lose bits.
        Ok(be_u64(self.take(4, what)?) as u32)
    }

    /// A count or size: 4 bytes (8 in CDF-5), unsigned.
    fn count(&mut self, what: &str) -> PResult<u64> {
        Ok(be_u64(self.take(self.width, what)?))
    }

    /// A count of items that each take at least `min_item` bytes of the
    /// remaining file: absurd counts are rejected before any allocation.
    fn bounded_count(&mut self, min_item: u64, what: &str) -> PResult<u64> {
        let at = self.pos();
        let n = self.count(what)?;
        let room = self.remaining_in_file();
        if n.saturating_mul(min_item) > room {
            return bad(
                at,
                format!(
                    "header is truncated or corrupt: {what} is {n}, more than the \
                     {room} bytes left in the file can hold"
                ),
            );
        }
        Ok(n)
    }

    /// `n` bytes followed by padding to a multiple of 4.
    fn padded(&mut self, n: u64, what: &str) -> PResult<&'a [u8]> {
        let at = self.pos();
        let padded = match n.checked_add(3) {
            Some(x) => x & !3,
            None => return bad(at, format!("{what} has an impossible length {n}")),
        };
        let bytes = self.take(padded, what)?;
        bytes
            .get(..bytes.len().min(n as usize))
            .ok_or(ParseError::NeedMore(at))
    }

    /// A name: length then bytes, padded to 4.
    fn name(&mut self, what: &str) -> PResult<String> {
        let n = self.bounded_count(1, what)?;
        let bytes = self.padded(n, what)?;
        Ok(String::from_utf8_lossy(bytes).into_owned())
    }

    /// A list header: tag and count. `ABSENT` (two zeros) is an empty list.
    fn list(&mut self, tag: u32, min_item: u64, what: &str) -> PResult<u64> {
        let at = self.pos();
        let found = self.u32(what)?;
        let count_at = self.pos();
        let n = self.bounded_count(min_item, what)?;
        if found == 0 {
            if n != 0 {
                return bad(
                    count_at,
                    format!("{what} is absent (tag 0) but claims {n} entries"),
                );
            }
            return Ok(0);
        }
        if found != tag {
            return bad(
                at,
                format!("expected the {what} tag 0x{tag:08X} or 0, found 0x{found:08X}"),
            );
        }
        Ok(n)
    }

    fn nc_type(&mut self, version: Version, what: &str) -> PResult<NcType> {
        let at = self.pos();
        let code = self.u32(what)?;
        match NcType::from_code(code) {
            Some(t) if t.is_cdf5_only() && version != Version::Data64 => bad(
                at,
                format!(
                    "{what} is {} (type code {code}), which only 64-bit data (CDF-5) files may use",
                    t.name()
                ),
            ),
            Some(t) => Ok(t),
            None => bad(at, format!("{what} has unknown type code {code}")),
        }
    }

    fn attributes(&mut self, version: Version, owner: &str) -> PResult<Vec<Attribute>> {
        let w = self.width;
        let n = self.list(NC_ATTRIBUTE, 2 * w + 4, "attribute list")?;
        let mut out = Vec::with_capacity(cap(n));
        for _ in 0..n {
            let at = self.pos();
            let name = self.name("attribute name")?;
            let nc_type = self.nc_type(version, "attribute type")?;
            let nelems_at = self.pos();
            let nelems = self.count("attribute length")?;
            let nbytes = match nelems.checked_mul(nc_type.size()) {
                Some(b) if b <= self.remaining_in_file() => b,
                _ => {
                    return bad(
                        nelems_at,
                        format!(
                            "header is truncated or corrupt: attribute '{name}' of {owner} \
                             claims {nelems} values of {}, more than the {} bytes left in \
                             the file can hold",
                            nc_type.name(),
                            self.remaining_in_file()
                        ),
                    )
                }
            };
            let bytes = self.padded(nbytes, "attribute values")?;
            let value = decode_attr(nc_type, bytes).ok_or_else(|| ParseError::Bad {
                offset: at,
                reason: format!("attribute '{name}' of {owner} could not be decoded"),
            })?;
            out.push(Attribute {
                name,
                value,
                dtype: nc_type.dtype(),
            });
        }
        Ok(out)
    }
}

fn cap(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX).min(PREALLOC_CAP)
}

/// Parse the header from `buf`, a prefix of a file of `file_len` bytes.
pub(crate) fn parse(buf: &[u8], file_len: u64) -> PResult<RawHeader> {
    let mut c = Cursor {
        buf,
        pos: 0,
        file_len,
        width: 4,
    };
    let magic = c.take(4, "the magic number")?;
    let version = match magic {
        [b'C', b'D', b'F', 1] => Version::Classic,
        [b'C', b'D', b'F', 2] => Version::Offset64,
        [b'C', b'D', b'F', 5] => Version::Data64,
        other => {
            let hex: Vec<String> = other.iter().map(|b| format!("{b:02x}")).collect();
            return bad(
                0,
                format!(
                    "expected the magic number CDF\\x01, CDF\\x02 or CDF\\x05, found {}",
                    hex.join(" ")
                ),
            );
        }
    };
    if version == Version::Data64 {
        c.width = 8;
    }
    let w = c.width;
    let offset_width = if version == Version::Classic { 4 } else { 8 };

    let raw_numrecs = c.count("the number of records")?;
    let streaming = if w == 8 {
        u64::MAX
    } else {
        u64::from(u32::MAX)
    };
    let numrecs = (raw_numrecs != streaming).then_some(raw_numrecs);

    let ndims = c.list(NC_DIMENSION, 2 * w, "dimension list")?;
    let mut dims = Vec::with_capacity(cap(ndims));
    for _ in 0..ndims {
        let entry_offset = c.pos();
        let name = c.name("dimension name")?;
        let len = c.count("dimension length")?;
        dims.push(RawDim {
            entry_offset,
            name,
            len,
        });
    }

    let gatts = c.attributes(version, "the file")?;

    let nvars = c.list(NC_VARIABLE, 4 * w + 8, "variable list")?;
    let mut vars = Vec::with_capacity(cap(nvars));
    for _ in 0..nvars {
        let entry_offset = c.pos();
        let name = c.name("variable name")?;
        let ndims_var = c.bounded_count(w, "variable rank")?;
        let mut dimids = Vec::with_capacity(cap(ndims_var));
        for _ in 0..ndims_var {
            let at = c.pos();
            let id = c.count("dimension id")?;
            if id >= dims.len() as u64 {
                return bad(
                    at,
                    format!(
                        "variable '{name}' uses dimension id {id}, but the file defines {} dimensions",
                        dims.len()
                    ),
                );
            }
            dimids.push(id);
        }
        let attrs = c.attributes(version, &format!("variable '{name}'"))?;
        let nc_type = c.nc_type(version, "variable type")?;
        // vsize is recomputed from the shape: writers store a clipped value for
        // variables over 4 GiB, so the stored one is not trusted.
        let _vsize = c.count("variable size")?;
        let begin = be_u64(c.take(offset_width, "variable data offset")?);
        vars.push(RawVar {
            entry_offset,
            name,
            dimids,
            attrs,
            nc_type,
            begin,
        });
    }

    Ok(RawHeader {
        version,
        numrecs,
        dims,
        gatts,
        vars,
        len: c.pos(),
    })
}

/// Decode attribute values (big-endian) into arco's model.
fn decode_attr(t: NcType, bytes: &[u8]) -> Option<AttrValue> {
    macro_rules! numbers {
        ($variant:ident, $ty:ty, $n:literal) => {
            Values::$variant(
                bytes
                    .chunks_exact($n)
                    .map(|c| <$ty>::from_be_bytes(c.try_into().unwrap_or([0; $n])))
                    .collect(),
            )
        };
    }
    let values = match t {
        NcType::Char => return Some(AttrValue::Text(decode_text(bytes))),
        NcType::Byte => numbers!(I8, i8, 1),
        NcType::Short => numbers!(I16, i16, 2),
        NcType::Int => numbers!(I32, i32, 4),
        NcType::Float => numbers!(F32, f32, 4),
        NcType::Double => numbers!(F64, f64, 8),
        NcType::UByte => Values::U8(bytes.to_vec()),
        NcType::UShort => numbers!(U16, u16, 2),
        NcType::UInt => numbers!(U32, u32, 4),
        NcType::Int64 => numbers!(I64, i64, 8),
        NcType::UInt64 => numbers!(U64, u64, 8),
    };
    Some(AttrValue::Array(values))
}

/// NC_CHAR text: trailing NULs dropped, UTF-8 when valid, otherwise Latin-1.
fn decode_text(bytes: &[u8]) -> String {
    let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let trimmed = bytes.get(..end).unwrap_or_default();
    match std::str::from_utf8(trimmed) {
        Ok(s) => s.to_owned(),
        Err(_) => trimmed.iter().map(|&b| char::from(b)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_drops_trailing_nuls_and_falls_back_to_latin1() {
        assert_eq!(decode_text(b"abc\0\0"), "abc");
        assert_eq!(decode_text(b"\0\0"), "");
        assert_eq!(decode_text(b"caf\xe9"), "caf\u{e9}");
        assert_eq!(decode_text("café".as_bytes()), "café");
    }

    #[test]
    fn a_short_prefix_asks_for_more_bytes_and_a_short_file_is_an_error() {
        let bytes = b"CDF\x01\0\0\0\0";
        match parse(&bytes[..6], 100) {
            Err(ParseError::NeedMore(8)) => {}
            other => panic!("expected NeedMore(8), got {other:?}"),
        }
        match parse(&bytes[..6], 6) {
            Err(ParseError::Bad { offset: 4, reason }) => assert!(reason.contains("truncated")),
            other => panic!("expected a truncation error, got {other:?}"),
        }
    }
}
