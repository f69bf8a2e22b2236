//! The dataset tree: groups, dimensions, variables.

use crate::chunks::CodecSpec;
use crate::dtype::{DType, Endian};
use crate::values::{AttrValue, Attribute};
use serde::Serialize;

/// A named dimension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dimension {
    /// Dimension name (HDF5 datasets without dimension scales get `phony_dim_N`).
    pub name: String,
    /// Current length.
    pub size: u64,
    /// True for an unlimited (record) dimension.
    pub unlimited: bool,
}

/// How a variable's bytes are laid out in its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StorageLayout {
    /// One contiguous run of bytes (NetCDF-3 fixed variables, HDF5 contiguous).
    Contiguous,
    /// Stored inside the HDF5 object header.
    Compact,
    /// A regular grid of independently stored (and possibly filtered) chunks.
    Chunked,
    /// NetCDF-3 record variable: one slab per record, interleaved with other record variables.
    Record,
    /// No data stored (every element is the fill value, or the shape is empty).
    Empty,
}

/// One array in a group, with everything needed to read it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Variable {
    /// Name within its group.
    pub name: String,
    /// Full path from the root, such as `/Events/mean` or `/tas`.
    pub path: String,
    /// Dimension names, outermost first.
    pub dims: Vec<String>,
    /// Extent along each dimension.
    pub shape: Vec<u64>,
    /// Element type.
    pub dtype: DType,
    /// Stored byte order of the elements.
    pub endian: Endian,
    /// Storage layout.
    pub layout: StorageLayout,
    /// Chunk shape for chunked and record layouts; `None` when contiguous.
    pub chunk_shape: Option<Vec<u64>>,
    /// Codec chain in encode order (HDF5 filter pipeline order).
    pub codecs: Vec<CodecSpec>,
    /// The fill value stored by the format (`_FillValue`, or HDF5's fill value message).
    pub fill_value: Option<AttrValue>,
    /// Attributes in file order.
    pub attributes: Vec<Attribute>,
}

impl Variable {
    /// The attribute with this name.
    pub fn attr(&self, name: &str) -> Option<&AttrValue> {
        self.attributes
            .iter()
            .find(|a| a.name == name)
            .map(|a| &a.value)
    }

    /// Number of elements.
    pub fn element_count(&self) -> u64 {
        self.shape.iter().product()
    }

    /// Uncompressed size in bytes (for fixed-size types).
    pub fn uncompressed_bytes(&self) -> Option<u64> {
        self.dtype.size().map(|s| s as u64 * self.element_count())
    }

    /// A 1-D variable named after its only dimension (a CF coordinate variable).
    pub fn is_coordinate(&self) -> bool {
        self.dims.len() == 1 && self.dims[0] == self.name
    }
}

/// A group: dimensions, variables, attributes and child groups.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// Group name (empty for the root).
    pub name: String,
    /// Full path, `/` for the root.
    pub path: String,
    /// Dimensions defined in this group.
    pub dimensions: Vec<Dimension>,
    /// Variables of this group.
    pub variables: Vec<Variable>,
    /// Group attributes.
    pub attributes: Vec<Attribute>,
    /// Child groups.
    pub groups: Vec<Group>,
}

impl Group {
    /// An empty group at `path`.
    pub fn new(name: impl Into<String>, path: impl Into<String>) -> Self {
        Group {
            name: name.into(),
            path: path.into(),
            dimensions: Vec::new(),
            variables: Vec::new(),
            attributes: Vec::new(),
            groups: Vec::new(),
        }
    }

    /// Every variable of this group and its descendants, depth first.
    pub fn all_variables(&self) -> Vec<&Variable> {
        let mut out: Vec<&Variable> = self.variables.iter().collect();
        for g in &self.groups {
            out.extend(g.all_variables());
        }
        out
    }

    /// The attribute with this name.
    pub fn attr(&self, name: &str) -> Option<&AttrValue> {
        self.attributes
            .iter()
            .find(|a| a.name == name)
            .map(|a| &a.value)
    }
}

/// An opened source: its format and the tree of groups.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dataset {
    /// Where it came from (a path or URL), as the user gave it.
    pub source: String,
    /// Format name: `netcdf3-classic`, `netcdf3-64bit-offset`, `netcdf3-64bit-data`,
    /// `netcdf4`, `netcdf4-classic` or `hdf5`.
    pub format: String,
    /// Size of the source in bytes.
    pub size: u64,
    /// The root group.
    pub root: Group,
}

impl Dataset {
    /// Find a variable by path (`/grp/var`) or, when unambiguous, by bare name.
    pub fn variable(&self, name: &str) -> crate::Result<&Variable> {
        let all = self.root.all_variables();
        let wanted = if name.starts_with('/') {
            name.to_string()
        } else {
            format!("/{name}")
        };
        if let Some(v) = all.iter().find(|v| v.path == wanted) {
            return Ok(v);
        }
        let by_name: Vec<&&Variable> = all.iter().filter(|v| v.name == name).collect();
        if by_name.len() == 1 {
            return Ok(by_name[0]);
        }
        let mut names: Vec<&str> = all.iter().map(|v| v.path.as_str()).collect();
        names.truncate(40);
        let hint = if by_name.len() > 1 {
            format!(
                ": the name is ambiguous, give the full path ({})",
                by_name
                    .iter()
                    .map(|v| v.path.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            format!(" in {}: variables are {}", self.source, names.join(", "))
        };
        Err(crate::Error::NotFound {
            kind: "variable",
            name: name.to_string(),
            hint,
        })
    }

    /// The group at `path` (`/` for the root).
    pub fn group(&self, path: &str) -> Option<&Group> {
        fn find<'a>(g: &'a Group, path: &str) -> Option<&'a Group> {
            if g.path == path {
                return Some(g);
            }
            g.groups.iter().find_map(|c| find(c, path))
        }
        find(&self.root, path)
    }
}
