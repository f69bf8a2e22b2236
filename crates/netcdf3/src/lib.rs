//! # arco-netcdf3
//!
//! Pure-Rust reader for NetCDF-3 files: classic (CDF-1), 64-bit offset (CDF-2)
//! and 64-bit data (CDF-5). It parses the header into arco's data model and
//! describes every variable's bytes as a [`ChunkManifest`]: a fixed-size
//! variable is one contiguous chunk, a record variable has one chunk per
//! record. It does not decode values: the shared read engine in
//! `arco-formats` does, from the manifest.
//!
//! It sits above `arco-core` (the data model) and `arco-storage` (byte
//! sources). The header is read by range reads, starting with the first
//! 64 KiB and growing geometrically only when the header is longer; the data
//! section is never read here.
//!
//! ```no_run
//! use std::sync::Arc;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let source = Arc::new(arco_storage::LocalFile::open("sonde.cdf", "sonde.cdf")?);
//! let file = arco_netcdf3::Nc3File::open(source)?;
//! println!("{}", file.dataset().format); // netcdf3-classic
//! let manifest = file.manifest("time")?;
//! println!("{} records", manifest.chunks.len());
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

mod header;

use arco_core::{
    AttrValue, ChunkGrid, ChunkManifest, ChunkRef, DType, Dataset, Dimension, Endian, Group,
    StorageLayout, Values, Variable,
};
use arco_storage::{ByteSource, DynSource};

/// Bytes read for the first attempt at the header.
const INITIAL_HEADER_READ: u64 = 64 * 1024;

/// Errors reading a NetCDF-3 file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not a valid NetCDF-3 header.
    #[error("{location}: not a valid NetCDF-3 file at byte {offset}: {reason}")]
    Format {
        /// File path or URL.
        location: String,
        /// Byte offset where the problem was found.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// Reading bytes failed.
    #[error(transparent)]
    Storage(#[from] arco_storage::Error),
    /// A data-model error (unknown variable, ...).
    #[error(transparent)]
    Core(#[from] arco_core::Error),
}

/// Crate result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// True when `magic` (the first 4 bytes) starts a NetCDF-3 file.
pub fn is_netcdf3(magic: &[u8]) -> bool {
    matches!(magic, [b'C', b'D', b'F', 1 | 2 | 5, ..])
}

/// The NetCDF-3 format variant, from the fourth magic byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Version {
    /// CDF-1: 32-bit offsets and counts.
    Classic,
    /// CDF-2: 64-bit offsets, 32-bit counts.
    Offset64,
    /// CDF-5: 64-bit offsets and counts, unsigned and 64-bit integer types.
    Data64,
}

impl Version {
    /// The format name used in [`Dataset::format`].
    pub fn format_name(self) -> &'static str {
        match self {
            Version::Classic => "netcdf3-classic",
            Version::Offset64 => "netcdf3-64bit-offset",
            Version::Data64 => "netcdf3-64bit-data",
        }
    }
}

/// A NetCDF-3 external type (`nc_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NcType {
    /// `NC_BYTE` (1): signed 8-bit integer.
    Byte,
    /// `NC_CHAR` (2): one byte of text.
    Char,
    /// `NC_SHORT` (3): signed 16-bit integer.
    Short,
    /// `NC_INT` (4): signed 32-bit integer.
    Int,
    /// `NC_FLOAT` (5): IEEE single precision.
    Float,
    /// `NC_DOUBLE` (6): IEEE double precision.
    Double,
    /// `NC_UBYTE` (7, CDF-5 only): unsigned 8-bit integer.
    UByte,
    /// `NC_USHORT` (8, CDF-5 only): unsigned 16-bit integer.
    UShort,
    /// `NC_UINT` (9, CDF-5 only): unsigned 32-bit integer.
    UInt,
    /// `NC_INT64` (10, CDF-5 only): signed 64-bit integer.
    Int64,
    /// `NC_UINT64` (11, CDF-5 only): unsigned 64-bit integer.
    UInt64,
}

impl NcType {
    /// The type with this `nc_type` code, if it is a NetCDF-3 type.
    pub fn from_code(code: u32) -> Option<Self> {
        Some(match code {
            1 => NcType::Byte,
            2 => NcType::Char,
            3 => NcType::Short,
            4 => NcType::Int,
            5 => NcType::Float,
            6 => NcType::Double,
            7 => NcType::UByte,
            8 => NcType::UShort,
            9 => NcType::UInt,
            10 => NcType::Int64,
            11 => NcType::UInt64,
            _ => return None,
        })
    }

    /// True for the types only CDF-5 files may use.
    pub fn is_cdf5_only(self) -> bool {
        matches!(
            self,
            NcType::UByte | NcType::UShort | NcType::UInt | NcType::Int64 | NcType::UInt64
        )
    }

    /// The C name, such as `NC_SHORT`.
    pub fn name(self) -> &'static str {
        match self {
            NcType::Byte => "NC_BYTE",
            NcType::Char => "NC_CHAR",
            NcType::Short => "NC_SHORT",
            NcType::Int => "NC_INT",
            NcType::Float => "NC_FLOAT",
            NcType::Double => "NC_DOUBLE",
            NcType::UByte => "NC_UBYTE",
            NcType::UShort => "NC_USHORT",
            NcType::UInt => "NC_UINT",
            NcType::Int64 => "NC_INT64",
            NcType::UInt64 => "NC_UINT64",
        }
    }

    /// Bytes per element.
    pub fn size(self) -> u64 {
        match self {
            NcType::Byte | NcType::Char | NcType::UByte => 1,
            NcType::Short | NcType::UShort => 2,
            NcType::Int | NcType::Float | NcType::UInt => 4,
            NcType::Double | NcType::Int64 | NcType::UInt64 => 8,
        }
    }

    /// arco's element type.
    pub fn dtype(self) -> DType {
        match self {
            NcType::Byte => DType::I8,
            NcType::Char => DType::Char,
            NcType::Short => DType::I16,
            NcType::Int => DType::I32,
            NcType::Float => DType::F32,
            NcType::Double => DType::F64,
            NcType::UByte => DType::U8,
            NcType::UShort => DType::U16,
            NcType::UInt => DType::U32,
            NcType::Int64 => DType::I64,
            NcType::UInt64 => DType::U64,
        }
    }

    /// The NetCDF default fill value (`NC_FILL_*`), big-endian.
    pub fn default_fill_bytes(self) -> Vec<u8> {
        match self {
            NcType::Byte => (-127i8).to_be_bytes().to_vec(),
            NcType::Char => vec![0],
            NcType::Short => (-32767i16).to_be_bytes().to_vec(),
            NcType::Int => (-2147483647i32).to_be_bytes().to_vec(),
            // 9.9692099683868690e+36f
            NcType::Float => f32::from_bits(0x7cf0_0000).to_be_bytes().to_vec(),
            NcType::Double => 9.969_209_968_386_869e36_f64.to_be_bytes().to_vec(),
            NcType::UByte => vec![255],
            NcType::UShort => 65535u16.to_be_bytes().to_vec(),
            NcType::UInt => 4294967295u32.to_be_bytes().to_vec(),
            NcType::Int64 => (-9223372036854775806i64).to_be_bytes().to_vec(),
            NcType::UInt64 => 18446744073709551614u64.to_be_bytes().to_vec(),
        }
    }
}

/// Where one variable's bytes are.
#[derive(Debug, Clone)]
struct VarData {
    /// First data byte (of the first record for record variables).
    begin: u64,
    /// True for a record variable.
    record: bool,
    /// Data bytes without padding: the whole array for a fixed variable, one
    /// record for a record variable.
    len: u64,
    /// One element of fill, big-endian.
    fill_bytes: Vec<u8>,
}

/// An open NetCDF-3 file.
#[derive(Debug)]
pub struct Nc3File {
    dataset: Dataset,
    version: Version,
    numrecs: u64,
    record_size: u64,
    /// One entry per variable of the root group, same order.
    data: Vec<VarData>,
}

impl Nc3File {
    /// Parse the header of `source`.
    ///
    /// Fails with [`Error::Format`], naming the byte offset, when the header is
    /// invalid or truncated, or when a variable's data would extend past the
    /// end of the file.
    pub fn open(source: DynSource) -> Result<Self> {
        let location = source.location().to_string();
        let file_len = source.len();
        let raw = read_header(source.as_ref(), &location, file_len)?;
        build(raw, location, file_len)
    }

    /// The metadata tree.
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// The format variant.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The number of records (the current length of the unlimited dimension).
    pub fn numrecs(&self) -> u64 {
        self.numrecs
    }

    /// Bytes from one record to the next (0 when there are no record variables).
    pub fn record_size(&self) -> u64 {
        self.record_size
    }

    /// The chunk manifest of the variable at `path` (or bare name).
    ///
    /// A fixed-size variable is one chunk covering the whole array; a record
    /// variable has one chunk per record, each holding exactly that record's
    /// bytes (without NetCDF-3's padding).
    pub fn manifest(&self, path: &str) -> Result<ChunkManifest> {
        let var = self.dataset.variable(path)?;
        let data = self
            .dataset
            .root
            .variables
            .iter()
            .position(|v| v.path == var.path)
            .and_then(|i| self.data.get(i))
            .ok_or_else(|| {
                Error::Core(arco_core::Error::Other(format!(
                    "{}: no layout recorded for variable {}",
                    self.dataset.source, var.path
                )))
            })?;
        let rank = var.shape.len();
        let (grid, chunks) = if data.record {
            let chunk_shape = var
                .chunk_shape
                .clone()
                .unwrap_or_else(|| record_chunk_shape(&var.shape));
            let grid = ChunkGrid::new(var.shape.clone(), chunk_shape)?;
            let chunks = if data.len == 0 {
                Vec::new()
            } else {
                let mut chunks = Vec::with_capacity(usize::try_from(self.numrecs).unwrap_or(0));
                let mut offset = data.begin;
                for r in 0..self.numrecs {
                    let mut index = Vec::with_capacity(rank);
                    index.push(r);
                    index.resize(rank, 0);
                    chunks.push(ChunkRef {
                        index,
                        offset,
                        length: data.len,
                        filter_mask: 0,
                        inline: None,
                    });
                    offset = offset.saturating_add(self.record_size);
                }
                chunks
            };
            (grid, chunks)
        } else {
            let grid = ChunkGrid::new(var.shape.clone(), var.shape.clone())?;
            let chunks = if var.shape.contains(&0) {
                Vec::new()
            } else {
                vec![ChunkRef {
                    index: vec![0; rank],
                    offset: data.begin,
                    length: data.len,
                    filter_mask: 0,
                    inline: None,
                }]
            };
            (grid, chunks)
        };
        Ok(ChunkManifest {
            variable: var.path.clone(),
            dtype: var.dtype.clone(),
            endian: Endian::Big,
            grid,
            codecs: Vec::new(),
            chunks,
            fill_bytes: Some(data.fill_bytes.clone()),
        })
    }
}

/// `[1, rest...]`: one record of a record variable.
fn record_chunk_shape(shape: &[u64]) -> Vec<u64> {
    let mut c = shape.to_vec();
    if let Some(first) = c.first_mut() {
        *first = 1;
    }
    c
}

/// Read and parse the header, reading more of the file only when needed.
fn read_header(
    source: &dyn ByteSource,
    location: &str,
    file_len: u64,
) -> Result<header::RawHeader> {
    let mut have = file_len.min(INITIAL_HEADER_READ);
    let mut buf = source.read_range(0..have)?.to_vec();
    loop {
        match header::parse(&buf, file_len) {
            Ok(h) => return Ok(h),
            Err(header::ParseError::Bad { offset, reason }) => {
                return Err(Error::Format {
                    location: location.to_string(),
                    offset,
                    reason,
                })
            }
            Err(header::ParseError::NeedMore(needed)) => {
                let want = needed.max(have.saturating_mul(2)).min(file_len);
                if want <= have {
                    // The parser reports the end of the file itself; this is a guard.
                    return Err(Error::Format {
                        location: location.to_string(),
                        offset: have,
                        reason: "header is truncated".into(),
                    });
                }
                let more = source.read_range(have..want)?;
                buf.extend_from_slice(&more);
                have = want;
            }
        }
    }
}

/// Turn the parsed header into the data model, checking every variable's
/// bytes lie inside the file.
fn build(raw: header::RawHeader, location: String, file_len: u64) -> Result<Nc3File> {
    let fail = |offset: u64, reason: String| Error::Format {
        location: location.clone(),
        offset,
        reason,
    };

    let mut record_dim: Option<usize> = None;
    for (i, d) in raw.dims.iter().enumerate() {
        if d.len == 0 {
            if let Some(first) = record_dim.and_then(|j| raw.dims.get(j)) {
                return Err(fail(
                    d.entry_offset,
                    format!(
                        "dimensions '{}' and '{}' are both unlimited; NetCDF-3 allows one",
                        first.name, d.name
                    ),
                ));
            }
            record_dim = Some(i);
        }
    }

    // First pass: sizes and the record layout.
    struct Shape {
        record: bool,
        len: u64,
    }
    let mut shapes = Vec::with_capacity(raw.vars.len());
    let mut record_size: u64 = 0;
    let mut record_vars = 0usize;
    let mut begin_rec: Option<u64> = None;
    for v in &raw.vars {
        let too_big = || {
            fail(
                v.entry_offset,
                format!("variable '{}' has a size that overflows 64 bits", v.name),
            )
        };
        let mut record = false;
        let mut elems: u64 = 1;
        for (k, &id) in v.dimids.iter().enumerate() {
            let is_rec = record_dim.is_some_and(|r| r as u64 == id);
            if is_rec {
                if k != 0 {
                    return Err(fail(
                        v.entry_offset,
                        format!(
                            "variable '{}' uses the unlimited dimension at position {k}; \
                             it may only be the first",
                            v.name
                        ),
                    ));
                }
                record = true;
                continue;
            }
            let len = usize::try_from(id)
                .ok()
                .and_then(|i| raw.dims.get(i))
                .map_or(0, |d| d.len);
            elems = elems.checked_mul(len).ok_or_else(too_big)?;
        }
        let len = elems.checked_mul(v.nc_type.size()).ok_or_else(too_big)?;
        if record {
            let padded = len.checked_add(3).ok_or_else(too_big)? & !3;
            record_size = record_size.checked_add(padded).ok_or_else(too_big)?;
            record_vars += 1;
            begin_rec = Some(begin_rec.map_or(v.begin, |b| b.min(v.begin)));
        }
        shapes.push(Shape { record, len });
    }
    if record_vars == 1 {
        // A lone record variable is not padded between records.
        if let Some(s) = shapes.iter().find(|s| s.record) {
            record_size = s.len;
        }
    }
    let numrecs = match raw.numrecs {
        Some(n) => n,
        None => match (begin_rec, record_size) {
            (Some(b), size) if size > 0 => file_len.saturating_sub(b) / size,
            _ => 0,
        },
    };

    // Dimensions.
    let dimensions: Vec<Dimension> = raw
        .dims
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let unlimited = record_dim == Some(i);
            Dimension {
                name: d.name.clone(),
                size: if unlimited { numrecs } else { d.len },
                unlimited,
            }
        })
        .collect();

    // Second pass: variables, with bounds checks.
    let mut variables = Vec::with_capacity(raw.vars.len());
    let mut data = Vec::with_capacity(raw.vars.len());
    for (v, s) in raw.vars.into_iter().zip(shapes) {
        let end = if s.len == 0 || (s.record && numrecs == 0) {
            None
        } else if s.record {
            Some(
                numrecs
                    .saturating_sub(1)
                    .saturating_mul(record_size)
                    .saturating_add(v.begin)
                    .saturating_add(s.len),
            )
        } else {
            Some(v.begin.saturating_add(s.len))
        };
        if let Some(end) = end {
            if v.begin < raw.len {
                return Err(fail(
                    v.entry_offset,
                    format!(
                        "variable '{}' data begins at byte {}, inside the header that ends at byte {}",
                        v.name, v.begin, raw.len
                    ),
                ));
            }
            if end > file_len {
                let what = if s.record {
                    format!("its last record (record {})", numrecs - 1)
                } else {
                    "its data".to_string()
                };
                return Err(fail(
                    v.begin,
                    format!(
                        "variable '{}': {what} ends at byte {end}, past the end of the file \
                         ({file_len} bytes); the file is truncated",
                        v.name
                    ),
                ));
            }
        }

        let mut dims = Vec::with_capacity(v.dimids.len());
        let mut shape = Vec::with_capacity(v.dimids.len());
        for &id in &v.dimids {
            if let Some(d) = usize::try_from(id).ok().and_then(|i| dimensions.get(i)) {
                dims.push(d.name.clone());
                shape.push(d.size);
            }
        }
        let fill_value = v
            .attrs
            .iter()
            .find(|a| a.name == "_FillValue")
            .map(|a| a.value.clone());
        let fill_bytes = v
            .attrs
            .iter()
            .find(|a| a.name == "_FillValue" && a.dtype == v.nc_type.dtype())
            .and_then(|a| first_element_be(&a.value))
            .unwrap_or_else(|| v.nc_type.default_fill_bytes());
        let (layout, chunk_shape) = if s.record {
            (StorageLayout::Record, Some(record_chunk_shape(&shape)))
        } else {
            (StorageLayout::Contiguous, None)
        };
        variables.push(Variable {
            path: format!("/{}", v.name),
            name: v.name,
            dims,
            shape,
            dtype: v.nc_type.dtype(),
            endian: Endian::Big,
            layout,
            chunk_shape,
            codecs: Vec::new(),
            fill_value,
            attributes: v.attrs,
        });
        data.push(VarData {
            begin: v.begin,
            record: s.record,
            len: s.len,
            fill_bytes,
        });
    }

    let mut root = Group::new("", "/");
    root.dimensions = dimensions;
    root.variables = variables;
    root.attributes = raw.gatts;
    Ok(Nc3File {
        dataset: Dataset {
            source: location,
            format: raw.version.format_name().to_string(),
            size: file_len,
            root,
        },
        version: raw.version,
        numrecs,
        record_size,
        data,
    })
}

/// The first element of an attribute value, as big-endian bytes.
fn first_element_be(value: &AttrValue) -> Option<Vec<u8>> {
    Some(match value {
        AttrValue::Text(t) => vec![t.as_bytes().first().copied().unwrap_or(0)],
        AttrValue::Array(v) => match v {
            Values::I8(x) => x.first()?.to_be_bytes().to_vec(),
            Values::I16(x) => x.first()?.to_be_bytes().to_vec(),
            Values::I32(x) => x.first()?.to_be_bytes().to_vec(),
            Values::I64(x) => x.first()?.to_be_bytes().to_vec(),
            Values::U8(x) => x.first()?.to_be_bytes().to_vec(),
            Values::U16(x) => x.first()?.to_be_bytes().to_vec(),
            Values::U32(x) => x.first()?.to_be_bytes().to_vec(),
            Values::U64(x) => x.first()?.to_be_bytes().to_vec(),
            Values::F32(x) => x.first()?.to_be_bytes().to_vec(),
            Values::F64(x) => x.first()?.to_be_bytes().to_vec(),
            _ => return None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_numbers_of_the_three_variants_are_recognised() {
        assert!(is_netcdf3(b"CDF\x01"));
        assert!(is_netcdf3(b"CDF\x02rest"));
        assert!(is_netcdf3(b"CDF\x05"));
        assert!(!is_netcdf3(b"CDF\x03"));
        assert!(!is_netcdf3(b"CDF"));
        assert!(!is_netcdf3(b"\x89HDF"));
    }

    #[test]
    fn default_fills_match_netcdf_c() {
        assert_eq!(NcType::Short.default_fill_bytes(), vec![0x80, 0x01]);
        assert_eq!(
            NcType::Float.default_fill_bytes(),
            vec![0x7c, 0xf0, 0x00, 0x00]
        );
        assert_eq!(
            NcType::Double.default_fill_bytes(),
            vec![0x47, 0x9e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]
        );
        assert_eq!(
            NcType::UInt64.default_fill_bytes(),
            vec![0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]
        );
    }
}
