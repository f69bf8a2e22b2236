//! Element types of variables and attributes.

use serde::{Deserialize, Serialize};

/// Byte order of stored elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Endian {
    /// Least significant byte first.
    Little,
    /// Most significant byte first (NetCDF-3 always, some HDF5 files).
    Big,
}

impl Endian {
    /// The byte order of this machine.
    pub const NATIVE: Endian = if cfg!(target_endian = "little") {
        Endian::Little
    } else {
        Endian::Big
    };
}

/// One named member of a compound (struct) type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompoundField {
    /// Member name.
    pub name: String,
    /// Byte offset of the member inside one element.
    pub offset: usize,
    /// Member type.
    pub dtype: DType,
}

/// The element type of a variable or attribute, independent of byte order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum DType {
    /// Boolean stored as one byte (HDF5 enum of FALSE/TRUE as written by h5py).
    Bool,
    /// Signed 8-bit integer.
    I8,
    /// Signed 16-bit integer.
    I16,
    /// Signed 32-bit integer.
    I32,
    /// Signed 64-bit integer.
    I64,
    /// Unsigned 8-bit integer.
    U8,
    /// Unsigned 16-bit integer.
    U16,
    /// Unsigned 32-bit integer.
    U32,
    /// Unsigned 64-bit integer.
    U64,
    /// IEEE 754 single precision.
    F32,
    /// IEEE 754 double precision.
    F64,
    /// NetCDF `NC_CHAR`: one byte of text; the last dimension is the string length.
    Char,
    /// Fixed-length byte string of `size` bytes (HDF5 fixed string).
    FixedString {
        /// Length in bytes.
        size: usize,
    },
    /// Variable-length UTF-8 string (NetCDF-4 `NC_STRING`, HDF5 vlen string).
    String,
    /// Enumeration over an integer base type.
    Enum {
        /// The stored integer type.
        base: Box<DType>,
        /// Member names and their values.
        members: Vec<(String, i64)>,
    },
    /// A record of named fields.
    Compound {
        /// Size of one element in bytes.
        size: usize,
        /// The fields in storage order.
        fields: Vec<CompoundField>,
    },
    /// Opaque bytes of a fixed size.
    Opaque {
        /// Size in bytes.
        size: usize,
    },
    /// Variable-length sequence of a base type (not strings).
    VarLen {
        /// Element type of each sequence.
        base: Box<DType>,
    },
}

impl DType {
    /// Size of one element as stored, or `None` for variable-length types.
    pub fn size(&self) -> Option<usize> {
        Some(match self {
            DType::Bool | DType::I8 | DType::U8 | DType::Char => 1,
            DType::I16 | DType::U16 => 2,
            DType::I32 | DType::U32 | DType::F32 => 4,
            DType::I64 | DType::U64 | DType::F64 => 8,
            DType::FixedString { size } | DType::Opaque { size } => *size,
            DType::Compound { size, .. } => *size,
            DType::Enum { base, .. } => return base.size(),
            DType::String | DType::VarLen { .. } => return None,
        })
    }

    /// True for integer and floating point types.
    pub fn is_numeric(&self) -> bool {
        self.is_integer() || self.is_float()
    }

    /// True for signed and unsigned integers.
    pub fn is_integer(&self) -> bool {
        matches!(
            self,
            DType::I8
                | DType::I16
                | DType::I32
                | DType::I64
                | DType::U8
                | DType::U16
                | DType::U32
                | DType::U64
        )
    }

    /// True for `F32` and `F64`.
    pub fn is_float(&self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }

    /// A short, numpy-like name: `int16`, `float32`, `char`, `string`, `S8`, …
    pub fn name(&self) -> String {
        match self {
            DType::Bool => "bool".into(),
            DType::I8 => "int8".into(),
            DType::I16 => "int16".into(),
            DType::I32 => "int32".into(),
            DType::I64 => "int64".into(),
            DType::U8 => "uint8".into(),
            DType::U16 => "uint16".into(),
            DType::U32 => "uint32".into(),
            DType::U64 => "uint64".into(),
            DType::F32 => "float32".into(),
            DType::F64 => "float64".into(),
            DType::Char => "char".into(),
            DType::FixedString { size } => format!("S{size}"),
            DType::String => "string".into(),
            DType::Enum { base, .. } => format!("enum({})", base.name()),
            DType::Compound { fields, .. } => {
                let inner: Vec<String> = fields
                    .iter()
                    .map(|f| format!("{}: {}", f.name, f.dtype.name()))
                    .collect();
                format!("compound{{{}}}", inner.join(", "))
            }
            DType::Opaque { size } => format!("opaque({size})"),
            DType::VarLen { base } => format!("vlen({})", base.name()),
        }
    }
}

impl std::fmt::Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_of_fixed_and_variable_types() {
        assert_eq!(DType::F64.size(), Some(8));
        assert_eq!(DType::FixedString { size: 7 }.size(), Some(7));
        assert_eq!(DType::String.size(), None);
        let e = DType::Enum {
            base: Box::new(DType::I16),
            members: vec![("a".into(), 0)],
        };
        assert_eq!(e.size(), Some(2));
    }
}
