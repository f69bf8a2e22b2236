//! Many sources read as one dataset, concatenated along one dimension.
//!
//! [`concat_lazy`] takes the sources' locations (in the order the user gave
//! them) and an [`Opener`]; [`concat`] takes readers that were already opened
//! and holds them. Both check that the sources can be joined and return a
//! [`ConcatReader`]: a [`Reader`] whose [`Dataset`] is the first source's tree
//! with the concatenation dimension grown to the sum of the parts (or added
//! in front, one step per file, when the files lack it).
//! [`ConcatReader::read`](Reader::read) splits a selection into one
//! sub-selection per part, reads the parts in parallel and stitches the results
//! with [`concat_arrays`]; [`ConcatReader::part_manifests`] gives each file's
//! chunk manifest with its offset along the dimension, which is what
//! virtualization needs.
//!
//! # The coordinate
//!
//! The concatenation coordinate comes from, in this order:
//! * a 1-D coordinate variable named like the dimension, in files that have
//!   the dimension;
//! * a 0-d (scalar) variable named like the dimension, in files that lack it
//!   (GRIB's `step`, NetCDF files with a scalar `time`): it becomes the 1-D
//!   coordinate;
//! * [`CoordFrom`]: each file's name ([`NamePattern`], like
//!   `tas_{time:%Y%m%d}.nc`) or one of its global attributes. Files that have
//!   the dimension must then have one step along it and no coordinate
//!   variable for it; where a file has one, its first value must equal the
//!   name's or attribute's, or the file is refused. The coordinate variable
//!   made ([`coord::coordinate_variable`]) holds `int64` counts of the coarsest
//!   exact unit since the first date's midnight with `calendar:
//!   proleptic_gregorian` for dates, `int64` or `float64` for numbers.
//!
//! A dimension that no file has, without any of these, is refused with advice
//! to pass a coordinate source.
//!
//! # A new dimension
//!
//! When the files lack the dimension, it is added in front of every data
//! variable (as `xarray.Dataset.expand_dims` does: every variable that is not
//! a coordinate, a coordinate being a 1-D variable named like its dimension or
//! a variable named in a `coordinates` attribute), with length 1 per file.
//! Coordinates are compared across the files as variables without the
//! dimension are, except 0-d coordinates that differ between files (GRIB's
//! `valid_time` along `step`), which get the dimension too (xarray's
//! `coords="different"`).
//!
//! # Checks
//!
//! The checks refuse, with an error naming the files and both values, anything
//! that would make the joined dataset differ from what each file says on its
//! own: a group, dimension or variable present in one file but not another;
//! another dtype, dimension list, shape outside the concatenation dimension,
//! chunk shape or codec chain; differing CF encoding attributes; coordinates
//! or small variables without the dimension whose values differ; and a
//! concatenation coordinate that is not strictly increasing within and across
//! the files (overlapping or unordered files). Sources are never reordered.
//!
//! # Splitting into separate arrays
//!
//! With [`ConcatOptions::split_mismatched`], differences of dtype, chunk
//! shape, codecs or [`ENCODING_ATTRIBUTES`] of the concatenated variables do
//! not refuse: the files are cut into segments of consecutive files that
//! agree on all of them, and segment `k` (from 1) becomes its own arrays: its
//! concatenation dimension `DIM_k`, its coordinate `DIM_k`, and each
//! concatenated variable `NAME_k` (segment 0 keeps the plain names). Every
//! array of a split records its files in [`SPLIT_FILES_ATTRIBUTE`].
//! Variables without the dimension may differ in chunk shape and codecs then
//! (their values are compared), not in encoding. Every other refusal stands,
//! and the coordinate must increase across segments too.
//!
//! # Streaming
//!
//! Opening keeps per file only its location, extent along the dimension, a
//! fingerprint of its metadata and its coordinate value(s) from a name or
//! attribute. The checks open the first file and keep it while every other
//! file is opened (in parallel, one per thread), compared with it and
//! dropped. Reading reopens a part through the [`Opener`] and keeps the
//! readers most recently used (by default twice the rayon threads); a part
//! whose metadata changed since the checks is refused. Opening reads no data
//! but what the checks need: the concatenation coordinate and the variables
//! without the dimension that are compared by value.

mod coord;
mod parts;

pub use coord::{attribute_value, coordinate_variable, CoordKey, NamePattern};
pub use parts::Opener;

use crate::read::ReadOptions;
use crate::{Reader, Result};
use arco_core::cf::{self, CalDateTime, Decoded};
use arco_core::{
    AttrValue, Attribute, ChunkManifest, DType, Dataset, DimSlice, Dimension, Group, NdArray,
    Selection, StorageLayout, Values, Variable,
};
use parts::{fingerprint_of, Readers};
use rayon::prelude::*;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Range;
use std::sync::Arc;

/// Variables without the concatenation dimension that are smaller than this
/// (uncompressed) are compared value by value across the files; larger ones
/// are compared by metadata only.
pub const COMPARE_VALUES_BELOW: u64 = 16 << 20;

/// The attributes that change how stored values decode; they must be equal in
/// every file for every variable.
pub const ENCODING_ATTRIBUTES: [&str; 7] = [
    "units",
    "calendar",
    "scale_factor",
    "add_offset",
    "_FillValue",
    "missing_value",
    "dtype",
];

/// The attribute (a list of strings) that names the files each array of a
/// split ([`ConcatOptions::split_mismatched`]) was made from.
pub const SPLIT_FILES_ATTRIBUTE: &str = "arco:concat_files";

/// Where the concatenation coordinate's values come from when the files'
/// variables do not hold them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoordFrom {
    /// Each file's name, read by a pattern; the pattern's placeholder names
    /// the dimension.
    Name(NamePattern),
    /// A global attribute of each file (see [`attribute_value`]).
    Attribute {
        /// The concatenation dimension.
        dim: String,
        /// The attribute's name.
        name: String,
    },
}

impl CoordFrom {
    /// The dimension it gives coordinates to.
    pub fn dim(&self) -> &str {
        match self {
            CoordFrom::Name(p) => p.field(),
            CoordFrom::Attribute { dim, .. } => dim,
        }
    }

    /// `location`'s value; the error names the file.
    pub fn value_of(&self, location: &str, ds: &Dataset) -> std::result::Result<CoordKey, String> {
        match self {
            CoordFrom::Name(p) => p.value_of(location).map_err(|e| format!("{location}: {e}")),
            CoordFrom::Attribute { name, dim } => {
                let a = ds
                    .root
                    .attributes
                    .iter()
                    .find(|a| a.name == *name)
                    .ok_or_else(|| {
                        format!("{location} has no global attribute '{name}' to give its '{dim}'")
                    })?;
                attribute_value(&a.value, &a.dtype)
                    .map_err(|e| format!("global attribute {name} of {location}: {e}"))
            }
        }
    }

    fn what(&self) -> String {
        match self {
            CoordFrom::Name(p) => format!("its name (pattern '{p}')"),
            CoordFrom::Attribute { name, .. } => format!("its attribute {name}"),
        }
    }
}

/// How to concatenate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConcatOptions {
    /// The dimension to concatenate along. `None` takes the one [`Self::coord`]
    /// names, else the unlimited dimension when the first source has exactly
    /// one, else `time`.
    pub dim: Option<String>,
    /// Where the coordinate comes from when the files' variables do not say.
    pub coord: Option<CoordFrom>,
    /// Make separate arrays of consecutive files whose variables differ in
    /// dtype, chunk shape, codecs or CF encoding, instead of refusing.
    pub split_mismatched: bool,
    /// Readers [`concat_lazy`] keeps open for reading (0: twice the rayon
    /// threads).
    pub open_readers: usize,
}

/// Why sources cannot be concatenated, naming the files involved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot concatenate along '{dim}': {message}")]
pub struct ConcatError {
    /// The concatenation dimension.
    pub dim: String,
    /// The files the problem is about, as the user gave them.
    pub files: Vec<String>,
    /// What differs, with both values.
    pub message: String,
}

/// One source of a [`ConcatReader`] and where it lies along the dimension.
pub struct ConcatPart {
    location: String,
    index: usize,
    segment: usize,
    offset: u64,
    length: u64,
    fingerprint: u64,
    readers: Arc<Readers>,
    plans: Arc<BTreeMap<String, Plan>>,
}

impl ConcatPart {
    /// The source's location, as the user gave it.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Index of the part's first element along its segment's concatenation
    /// dimension.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The part's extent along the concatenation dimension.
    pub fn length(&self) -> u64 {
        self.length
    }

    /// The segment (0 unless the files were split into separate arrays) the
    /// part belongs to.
    pub fn segment(&self) -> usize {
        self.segment
    }

    /// Run `f` with the source's own reader (reopened through the opener when
    /// it is not held open), and return its result.
    ///
    /// The reader answers for the combined dataset's variables that this part
    /// holds, under their combined names and in the combined shape: with a
    /// leading step when the dimension is new, and as `NAME_k` in segment `k`
    /// of a split (a combined variable of another segment, or a coordinate
    /// made from names or attributes, is an error naming the file). Names
    /// the combined dataset does not have are the file's own. Its
    /// [`Reader::dataset`] is the file's own.
    pub fn with_reader<T>(&self, f: impl FnOnce(&dyn Reader) -> Result<T>) -> Result<T> {
        let reader = self
            .readers
            .get(self.index, &self.location, self.fingerprint)?;
        let view = PartView {
            reader: reader.as_ref(),
            part: self,
        };
        f(&view)
    }

    /// Run `f` with the file's own reader, which knows only the file's names.
    fn with_raw<T>(&self, f: impl FnOnce(&dyn Reader) -> Result<T>) -> Result<T> {
        let reader = self
            .readers
            .get(self.index, &self.location, self.fingerprint)?;
        f(reader.as_ref())
    }
}

/// A part's reader that also answers for the combined dataset's names.
struct PartView<'a> {
    reader: &'a dyn Reader,
    part: &'a ConcatPart,
}

impl PartView<'_> {
    /// The plan of a combined variable that needs translating for this part.
    fn plan(&self, variable: &str) -> Option<&Plan> {
        let path = if variable.starts_with('/') {
            variable.to_string()
        } else {
            format!("/{variable}")
        };
        let plan = self.part.plans.get(&path)?;
        let plain = plan.source == path
            && match plan.kind {
                Kind::Shared => true,
                Kind::Along(_) => plan.segment == self.part.segment,
                Kind::Expanded | Kind::Synthetic(_) => false,
            };
        (!plain).then_some(plan)
    }

    fn refuse(&self, variable: &str, plan: &Plan) -> Option<crate::Error> {
        let why = match plan.kind {
            Kind::Synthetic(_) => "it is made from the files' names or attributes",
            Kind::Along(_) | Kind::Expanded if plan.segment != self.part.segment => {
                "it belongs to another segment of the split"
            }
            _ => return None,
        };
        Some(
            arco_core::Error::NotFound {
                kind: "variable",
                name: variable.to_string(),
                hint: format!(" in {}: {why}", self.part.location),
            }
            .into(),
        )
    }
}

impl Reader for PartView<'_> {
    fn dataset(&self) -> &Dataset {
        self.reader.dataset()
    }

    fn manifest(&self, variable: &str) -> Result<ChunkManifest> {
        let Some(plan) = self.plan(variable) else {
            return self.reader.manifest(variable);
        };
        if let Some(e) = self.refuse(variable, plan) {
            return Err(e);
        }
        let mut m = self.reader.manifest(&plan.source)?;
        if matches!(plan.kind, Kind::Expanded) {
            expand_manifest(&mut m);
        }
        Ok(m)
    }

    fn read(&self, variable: &str, selection: &Selection) -> Result<NdArray> {
        self.read_via(variable, selection, None)
    }

    fn read_with(
        &self,
        variable: &str,
        selection: &Selection,
        options: &ReadOptions,
    ) -> Result<NdArray> {
        self.read_via(variable, selection, Some(options))
    }
}

impl PartView<'_> {
    fn read_via(
        &self,
        variable: &str,
        selection: &Selection,
        options: Option<&ReadOptions>,
    ) -> Result<NdArray> {
        let read = |name: &str, s: &Selection| match options {
            Some(o) => self.reader.read_with(name, s, o),
            None => self.reader.read(name, s),
        };
        let Some(plan) = self.plan(variable) else {
            return read(variable, selection);
        };
        if let Some(e) = self.refuse(variable, plan) {
            return Err(e);
        }
        if !matches!(plan.kind, Kind::Expanded) {
            return read(&plan.source, selection);
        }
        let mut inner = selection.clone();
        let lead = if inner.dims.is_empty() {
            None
        } else {
            Some(inner.dims.remove(0))
        };
        if lead.is_some_and(|d| d.indices().all(|i| i != 0)) {
            let mut shape = selection.shape();
            if let Some(first) = shape.first_mut() {
                *first = 0;
            }
            let var = self.reader.dataset().variable(&plan.source)?;
            return Ok(NdArray {
                shape,
                values: Values::empty_for(&var.dtype),
            });
        }
        let mut a = read(&plan.source, &inner)?;
        a.shape.insert(0, 1);
        Ok(a)
    }
}

impl fmt::Debug for ConcatPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConcatPart")
            .field("location", &self.location)
            .field("segment", &self.segment)
            .field("offset", &self.offset)
            .field("length", &self.length)
            .finish_non_exhaustive()
    }
}

/// How a variable of the combined dataset is read.
#[derive(Debug, Clone)]
enum Kind {
    /// The same in every file: read from the first.
    Shared,
    /// Concatenated along this axis, which the files have.
    Along(usize),
    /// A new leading axis, one step per file.
    Expanded,
    /// Made from the files' names or attributes.
    Synthetic(Values),
}

#[derive(Debug, Clone)]
struct Plan {
    segment: usize,
    /// The variable's path in the files.
    source: String,
    kind: Kind,
}

#[derive(Debug, Clone)]
struct Segment {
    parts: Range<usize>,
    dim: String,
}

/// Many sources read as one dataset; made by [`concat`] or [`concat_lazy`].
pub struct ConcatReader {
    dim: String,
    parts: Vec<ConcatPart>,
    segments: Vec<Segment>,
    plans: Arc<BTreeMap<String, Plan>>,
    dataset: Dataset,
    readers: Arc<Readers>,
}

impl fmt::Debug for ConcatReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConcatReader")
            .field("dim", &self.dim)
            .field("parts", &self.parts)
            .finish_non_exhaustive()
    }
}

/// Read `readers` (location and reader, in the user's order) as one dataset
/// concatenated along `options.dim`, holding every reader open.
/// [`concat_lazy`] holds none.
///
/// The combined dataset is the first source's tree with the dimension's size
/// the sum of the parts and every variable that has the dimension grown to
/// match; `source` lists the locations joined by `, `, `format` is the first
/// source's, `size` the sum. See the [module documentation](self) for new
/// dimensions, coordinates from names or attributes and splitting.
///
/// Refused, with a [`ConcatError`] naming the files:
/// * a group, dimension or variable present in one source but not in the first;
/// * a dimension other than the concatenation dimension with another size;
/// * for any variable, another dtype, dimension list, shape outside the
///   concatenation dimension, codec chain, or chunk shape (compared when either
///   file stores the variable in chunks: NetCDF-3 record and fixed layouts have
///   no chosen chunking), or another value or type of one of the
///   [`ENCODING_ATTRIBUTES`] (differing `units` included: re-encode first),
///   unless [`ConcatOptions::split_mismatched`];
/// * a variable using the concatenation dimension twice;
/// * variables without the dimension whose values differ (NaN equals NaN).
///   Coordinates (variables named like their only dimension, and those named in
///   a `coordinates` attribute) are always compared; other variables only when
///   smaller than [`COMPARE_VALUES_BELOW`] (16 MiB) uncompressed, and larger
///   ones by metadata only, so that opening stays cheap;
/// * a concatenation coordinate (a 1-D variable named like the dimension, or
///   the values of [`ConcatOptions::coord`]) that is not strictly increasing
///   within each file and from each file to the next, compared as CF-decoded
///   instants when it has time units (as unpacked numbers otherwise). Missing
///   values in it are refused too. A source lying wholly before an earlier one
///   is reported as out of order, with the order that would work; sources are
///   never reordered. A coordinate that is not numeric is not checked for
///   order;
/// * a dimension no file has, without a coordinate for it.
pub fn concat(
    readers: Vec<(String, Box<dyn Reader>)>,
    options: &ConcatOptions,
) -> Result<ConcatReader> {
    let mut locations = Vec::with_capacity(readers.len());
    let mut pinned: Vec<Arc<dyn Reader>> = Vec::with_capacity(readers.len());
    for (location, reader) in readers {
        locations.push(location);
        pinned.push(Arc::from(reader));
    }
    combine(locations, Arc::new(Readers::pinned(pinned)), options)
}

/// As [`concat`], opening each source through `open` when it is needed and
/// holding at most [`ConcatOptions::open_readers`] open afterwards: memory
/// grows with one file's metadata, not with the number of files.
pub fn concat_lazy(
    locations: Vec<String>,
    open: Opener,
    options: &ConcatOptions,
) -> Result<ConcatReader> {
    let capacity = match options.open_readers {
        0 => 2 * rayon::current_num_threads(),
        n => n,
    };
    combine(locations, Arc::new(Readers::lazy(open, capacity)), options)
}

/// Where the concatenation coordinate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum CoordSource {
    /// A 1-D coordinate variable along the (existing) dimension.
    Variable(String),
    /// A 0-d variable named like the (new) dimension.
    Scalar(String),
    /// [`ConcatOptions::coord`], made into a variable.
    Keys,
    /// None: the dimension exists and has no coordinate.
    Nothing,
}

/// What every file is compared with: the first file and what it says.
struct Setup<'a> {
    dim: String,
    new_dim: bool,
    coord: CoordSource,
    from: Option<&'a CoordFrom>,
    split: bool,
    first_loc: &'a str,
    first: &'a Dataset,
    /// Paths (in the files) of the variables that are concatenated.
    varying: BTreeSet<String>,
    /// Variables compared by value, with the first file's values.
    compared: Vec<(String, NdArray)>,
}

/// What the checks keep of one file.
struct Scan {
    length: u64,
    size: u64,
    fingerprint: u64,
    signature: u64,
    span: Option<(CoordValue, CoordValue)>,
    key: Option<CoordKey>,
    /// 0-d coordinates whose value differs from the first file's (new dimension only).
    differing: Vec<String>,
}

impl Setup<'_> {
    fn fail(&self, files: Vec<&str>, message: String) -> crate::Error {
        ConcatError {
            dim: self.dim.clone(),
            files: files.into_iter().map(str::to_string).collect(),
            message,
        }
        .into()
    }

    /// Check file `k` against the first and summarise it.
    fn scan(&self, k: usize, loc: &str, reader: &dyn Reader) -> Result<Scan> {
        let ds = reader.dataset();
        let dim = self.dim.as_str();
        let length = if self.new_dim {
            if find_dimension(&ds.root, dim).is_some() {
                return Err(self.fail(
                    vec![self.first_loc, loc],
                    format!(
                        "{loc} has a dimension '{dim}' but {} has not; concatenate files that all have it, or all lack it",
                        self.first_loc
                    ),
                ));
            }
            1
        } else {
            self.extent(loc, ds)?
        };
        if k > 0 {
            let tolerate = |path: &str, severity: Severity| {
                self.split
                    && match severity {
                        Severity::Layout => true,
                        Severity::Encoding => self.varying.contains(path),
                        Severity::Fatal => false,
                    }
            };
            check_tree(dim, (self.first_loc, self.first), (loc, ds), &tolerate)?;
        }
        let signature = if self.split {
            signature_of(ds, &self.varying)
        } else {
            0
        };
        let key = match self.from {
            Some(from) => Some(
                from.value_of(loc, ds)
                    .map_err(|m| self.fail(vec![loc], m))?,
            ),
            None => None,
        };
        let span = self.span(loc, reader, length, key)?;
        let mut differing = Vec::new();
        if k > 0 {
            for (path, reference) in &self.compared {
                let var = self.first.variable(path)?;
                let other = reader.read(path, &Selection::all(&var.shape))?;
                let message = match first_difference(&reference.values, &other.values) {
                    None => continue,
                    Some(_) if self.new_dim && var.shape.is_empty() => {
                        differing.push(path.clone());
                        continue;
                    }
                    Some(Difference::Kind) => format!(
                        "variable {path} holds {} {} values in {} and {} {} values in {loc}",
                        reference.values.len(),
                        reference.values.type_name(),
                        self.first_loc,
                        other.values.len(),
                        other.values.type_name()
                    ),
                    Some(Difference::At(i)) => format!(
                        "variable {path} differs between {first} and {loc}: element {} is {} in {first} and {} in {loc}; variables without '{dim}' must be identical in every file",
                        index_text(&var.shape, i),
                        show_element(&reference.values, i),
                        show_element(&other.values, i),
                        first = self.first_loc,
                    ),
                };
                return Err(self.fail(vec![self.first_loc, loc], message));
            }
        }
        Ok(Scan {
            length,
            size: ds.size,
            fingerprint: fingerprint_of(reader),
            signature,
            span,
            key,
            differing,
        })
    }

    /// The file's extent along the (existing) dimension.
    fn extent(&self, loc: &str, ds: &Dataset) -> Result<u64> {
        let dim = self.dim.as_str();
        let Some(d) = find_dimension(&ds.root, dim) else {
            let mut names: Vec<&str> = Vec::new();
            collect_dim_names(&ds.root, &mut names);
            return Err(self.fail(
                vec![loc],
                format!(
                    "{loc} has no dimension '{dim}' (its dimensions are {}); choose another with --concat-dim",
                    if names.is_empty() { "none".to_string() } else { names.join(", ") }
                ),
            ));
        };
        for v in ds.root.all_variables() {
            let uses: Vec<usize> = positions(&v.dims, dim);
            if uses.len() > 1 {
                return Err(self.fail(
                    vec![loc],
                    format!(
                        "variable {} of {loc} uses dimension '{dim}' more than once ({})",
                        v.path,
                        v.dims.join(", ")
                    ),
                ));
            }
            if let Some(&axis) = uses.first() {
                let len = v.shape.get(axis).copied().unwrap_or(0);
                if len != d.size {
                    return Err(self.fail(
                        vec![loc],
                        format!(
                            "variable {} of {loc} has {len} elements along '{dim}' but the dimension has {}; groups defining different '{dim}' dimensions cannot be concatenated",
                            v.path, d.size
                        ),
                    ));
                }
            }
        }
        Ok(d.size)
    }

    /// The first and last coordinate values of the file, checked.
    fn span(
        &self,
        loc: &str,
        reader: &dyn Reader,
        length: u64,
        key: Option<CoordKey>,
    ) -> Result<Option<(CoordValue, CoordValue)>> {
        let dim = self.dim.as_str();
        let path = match &self.coord {
            CoordSource::Nothing => return Ok(None),
            CoordSource::Keys => {
                let Some(key) = key else { return Ok(None) };
                if length != 1 {
                    let what = self.from.map(CoordFrom::what).unwrap_or_default();
                    return Err(self.fail(
                        vec![loc],
                        format!(
                            "{loc} has {length} steps along '{dim}' and no coordinate variable for it, but {what} gives it one value; give such files a '{dim}' coordinate variable, or concatenate files of one step each"
                        ),
                    ));
                }
                let v = CoordValue::of(&key);
                return Ok(Some((v, v)));
            }
            CoordSource::Variable(p) | CoordSource::Scalar(p) => p,
        };
        let var = reader.dataset().variable(path)?;
        let values = reader.read(&var.path, &Selection::all(&var.shape))?;
        let decoded = decode_coordinate(var, &values.values).map_err(|e| {
            self.fail(
                vec![loc],
                format!("cannot decode coordinate {path} of {loc}: {e}"),
            )
        })?;
        let Some(values) = decoded else {
            // Not numeric: order cannot be checked.
            return Ok(None);
        };
        if let Some(i) = values.iter().position(CoordValue::missing) {
            return Err(self.fail(
                vec![loc],
                format!("coordinate {path} of {loc} has a missing value at index {i}"),
            ));
        }
        for (i, pair) in values.windows(2).enumerate() {
            if let [p, q] = pair {
                if p.cmp(q) != Some(Ordering::Less) {
                    return Err(self.fail(
                        vec![loc],
                        format!(
                            "coordinate {path} of {loc} is not strictly increasing: element {} ({q}) does not come after element {i} ({p})",
                            i + 1
                        ),
                    ));
                }
            }
        }
        if let (Some(key), Some(first)) = (key, values.first()) {
            if !first.equals(&key) {
                let what = self.from.map(CoordFrom::what).unwrap_or_default();
                return Err(self.fail(
                    vec![loc],
                    format!(
                        "{what} gives {loc} the '{dim}' value {key}, but its coordinate {path} starts at {first}; correct the file or the pattern, or leave out the coordinate source to use the files' own coordinate"
                    ),
                ));
            }
        }
        Ok(match (values.first(), values.last()) {
            (Some(a), Some(b)) => Some((*a, *b)),
            _ => None,
        })
    }
}

fn combine(
    locations: Vec<String>,
    readers: Arc<Readers>,
    options: &ConcatOptions,
) -> Result<ConcatReader> {
    let asked = options
        .dim
        .clone()
        .or_else(|| options.coord.as_ref().map(|c| c.dim().to_string()));
    let fail = |dim: &str, files: Vec<String>, message: String| -> crate::Error {
        ConcatError {
            dim: dim.to_string(),
            files,
            message,
        }
        .into()
    };
    let Some(first_loc) = locations.first() else {
        return Err(fail(
            asked.as_deref().unwrap_or(""),
            Vec::new(),
            "no sources were given".into(),
        ));
    };
    if let (Some(d), Some(c)) = (&options.dim, &options.coord) {
        if d != c.dim() {
            return Err(fail(
                d,
                Vec::new(),
                format!(
                    "the coordinate source gives values for '{}' but the concatenation dimension is '{d}'; name the same dimension in both",
                    c.dim()
                ),
            ));
        }
    }
    let first = readers.open_once(0, first_loc)?;
    let first_ds = first.dataset();
    let dim = asked.unwrap_or_else(|| default_dim(first_ds));
    let new_dim = find_dimension(&first_ds.root, &dim).is_none();
    let all = first_ds.root.all_variables();
    let named: BTreeSet<String> = all.iter().flat_map(|v| cf::coordinates(v)).collect();
    let is_coord = |v: &Variable| v.is_coordinate() || named.contains(&v.name);
    let coord = if !new_dim {
        match all.iter().find(|v| v.name == dim && v.is_coordinate()) {
            Some(v) => CoordSource::Variable(v.path.clone()),
            None if options.coord.is_some() => CoordSource::Keys,
            None => CoordSource::Nothing,
        }
    } else {
        match all.iter().find(|v| v.name == dim && v.shape.is_empty()) {
            Some(v) => CoordSource::Scalar(v.path.clone()),
            None if options.coord.is_some() => CoordSource::Keys,
            None => {
                let mut names: Vec<&str> = Vec::new();
                collect_dim_names(&first_ds.root, &mut names);
                return Err(fail(
                    &dim,
                    vec![first_loc.clone()],
                    format!(
                        "{first_loc} has no dimension '{dim}' (its dimensions are {}) and nothing gives a coordinate for a new one; to add '{dim}' with one step per file, pass --coord-from-name with a pattern like 'NAME_{{{dim}:%Y%m%d}}.nc' or --coord-from-attr {dim}=ATTRIBUTE; or choose an existing dimension with --concat-dim",
                        if names.is_empty() { "none".to_string() } else { names.join(", ") }
                    ),
                ));
            }
        }
    };
    let varying: BTreeSet<String> = all
        .iter()
        .filter(|v| {
            if new_dim {
                !is_coord(v) || coord == CoordSource::Scalar(v.path.clone())
            } else {
                v.dims.contains(&dim)
            }
        })
        .map(|v| v.path.clone())
        .collect();
    let mut compared = Vec::new();
    if locations.len() > 1 {
        for v in &all {
            if varying.contains(&v.path) {
                continue;
            }
            let small = match v.uncompressed_bytes() {
                Some(n) => n < COMPARE_VALUES_BELOW,
                None => v.element_count() < COMPARE_VALUES_BELOW / 64,
            };
            if !is_coord(v) && !small {
                continue;
            }
            let values = first.read(&v.path, &Selection::all(&v.shape))?;
            compared.push((v.path.clone(), values));
        }
    }
    let setup = Setup {
        dim: dim.clone(),
        new_dim,
        coord: coord.clone(),
        from: options.coord.as_ref(),
        split: options.split_mismatched,
        first_loc,
        first: first_ds,
        varying,
        compared,
    };

    // Every file once: the first here, the others in parallel, each dropped
    // after its checks.
    let mut scans = vec![setup.scan(0, first_loc, first.as_ref())?];
    let rest: Vec<Result<Scan>> = locations
        .par_iter()
        .enumerate()
        .skip(1)
        .map(|(k, loc)| {
            let reader = readers.open_once(k, loc)?;
            setup.scan(k, loc, reader.as_ref())
        })
        .collect();
    for scan in rest {
        scans.push(scan?);
    }

    // Keys of one kind.
    if let Some(from) = setup.from {
        let kind = |s: &Scan| s.key.map(|k| k.kind());
        for (loc, scan) in locations.iter().zip(&scans) {
            if kind(scan) != kind(&scans[0]) {
                let show = |s: &Scan| {
                    s.key
                        .map(|k| format!("{} ({k})", k.kind()))
                        .unwrap_or_default()
                };
                return Err(fail(
                    &dim,
                    vec![first_loc.clone(), loc.clone()],
                    format!(
                        "{} gives {first_loc} {} but {loc} {}; every file must give a date, or every file a number",
                        from.what(),
                        show(&scans[0]),
                        show(scan)
                    ),
                ));
            }
        }
    }
    check_order(&dim, &locations, &scans)?;

    let mut varying = setup.varying.clone();
    for s in &scans {
        varying.extend(s.differing.iter().cloned());
    }
    let n = locations.len();
    let mut starts = vec![0usize];
    for k in 1..n {
        if scans[k].signature != scans[k - 1].signature {
            starts.push(k);
        }
    }

    // The combined tree.
    let mut root = first_ds.root.clone();
    let mut plans: BTreeMap<String, Plan> = BTreeMap::new();
    for v in &all {
        if !varying.contains(&v.path) {
            plans.insert(
                v.path.clone(),
                Plan {
                    segment: 0,
                    source: v.path.clone(),
                    kind: Kind::Shared,
                },
            );
        }
    }
    let dim_group = if new_dim {
        "/".to_string()
    } else {
        group_of_dimension(&first_ds.root, &dim).unwrap_or_else(|| "/".to_string())
    };
    let mut parts = Vec::with_capacity(n);
    let no_plans = Arc::new(BTreeMap::new());
    let mut segments = Vec::with_capacity(starts.len());
    for (s, &start) in starts.iter().enumerate() {
        let end = starts.get(s + 1).copied().unwrap_or(n);
        let seg_dim = if s == 0 {
            dim.clone()
        } else {
            format!("{dim}_{s}")
        };
        let total: u64 = scans[start..end].iter().map(|x| x.length).sum();
        let mut offset = 0;
        for (k, (location, scan)) in locations
            .iter()
            .zip(&scans)
            .enumerate()
            .take(end)
            .skip(start)
        {
            parts.push(ConcatPart {
                location: location.clone(),
                index: k,
                segment: s,
                offset,
                length: scan.length,
                fingerprint: scan.fingerprint,
                readers: readers.clone(),
                plans: no_plans.clone(),
            });
            offset += scan.length;
        }
        let files = (starts.len() > 1).then(|| locations[start..end].to_vec());
        let holder;
        let seg_ds: &Dataset = if s == 0 {
            first_ds
        } else {
            holder = readers.open_once(start, &locations[start])?;
            holder.dataset()
        };
        let seg = SegmentTree {
            index: s,
            dim: &dim,
            seg_dim: &seg_dim,
            total,
            new_dim,
            varying: &varying,
            files: files.as_deref(),
        };
        add_segment(&mut root, &mut plans, seg_ds, &seg)
            .map_err(|m| fail(&dim, vec![locations[start].clone()], m))?;
        if coord == CoordSource::Keys {
            let keys: Vec<CoordKey> = scans[start..end].iter().filter_map(|x| x.key).collect();
            let path = child_path(&dim_group, &seg_dim);
            let (mut var, values) = coordinate_variable(&seg_dim, &path, &seg_dim, &keys)
                .map_err(|m| fail(&dim, vec![locations[start].clone()], m))?;
            if let Some(files) = &files {
                var.attributes.push(files_attribute(files));
            }
            if plans.contains_key(&path) {
                return Err(fail(
                    &dim,
                    vec![first_loc.clone()],
                    format!(
                        "the files already have a variable {path}, so the coordinate made from {} cannot take that name",
                        setup.from.map(CoordFrom::what).unwrap_or_default()
                    ),
                ));
            }
            if let Some(g) = group_mut(&mut root, &dim_group) {
                g.variables.insert(s.min(g.variables.len()), var);
            }
            plans.insert(
                path.clone(),
                Plan {
                    segment: s,
                    source: path,
                    kind: Kind::Synthetic(values),
                },
            );
        }
        segments.push(Segment {
            parts: start..end,
            dim: seg_dim,
        });
    }
    let dataset = Dataset {
        source: locations.join(", "),
        format: first_ds.format.clone(),
        size: scans.iter().map(|s| s.size).sum(),
        root,
    };
    drop(setup);
    let plans = Arc::new(plans);
    for p in &mut parts {
        p.plans = plans.clone();
    }
    Ok(ConcatReader {
        dim,
        parts,
        segments,
        plans,
        dataset,
        readers,
    })
}

/// One segment's place in the combined tree.
struct SegmentTree<'a> {
    index: usize,
    dim: &'a str,
    seg_dim: &'a str,
    total: u64,
    new_dim: bool,
    varying: &'a BTreeSet<String>,
    files: Option<&'a [String]>,
}

fn files_attribute(files: &[String]) -> Attribute {
    Attribute {
        name: SPLIT_FILES_ATTRIBUTE.into(),
        value: AttrValue::Array(Values::Str(files.to_vec())),
        dtype: DType::String,
    }
}

fn child_path(group: &str, name: &str) -> String {
    if group == "/" || group.is_empty() {
        format!("/{name}")
    } else {
        format!("{}/{name}", group.trim_end_matches('/'))
    }
}

fn parent_path(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

fn group_mut<'a>(g: &'a mut Group, path: &str) -> Option<&'a mut Group> {
    if g.path == path || (path == "/" && g.path.is_empty()) {
        return Some(g);
    }
    g.groups.iter_mut().find_map(|c| group_mut(c, path))
}

/// The path of the group defining dimension `dim` (depth first).
fn group_of_dimension(g: &Group, dim: &str) -> Option<String> {
    if g.dimensions.iter().any(|d| d.name == dim) {
        return Some(g.path.clone());
    }
    g.groups.iter().find_map(|c| group_of_dimension(c, dim))
}

/// Add a dimension `name` of `size` beside every dimension `dim`.
fn add_dimension_beside(g: &mut Group, dim: &str, name: &str, size: u64) {
    if let Some(at) = g.dimensions.iter().position(|d| d.name == dim) {
        let unlimited = g.dimensions[at].unlimited;
        g.dimensions.push(Dimension {
            name: name.to_string(),
            size,
            unlimited,
        });
    }
    for c in &mut g.groups {
        add_dimension_beside(c, dim, name, size);
    }
}

/// Put segment `seg`'s concatenated variables (from `seg_ds`, its first
/// file) into `root`: in place for segment 0, renamed `NAME_k` beside them
/// for segment `k`.
fn add_segment(
    root: &mut Group,
    plans: &mut BTreeMap<String, Plan>,
    seg_ds: &Dataset,
    seg: &SegmentTree<'_>,
) -> std::result::Result<(), String> {
    let s = seg.index;
    if seg.new_dim {
        root.dimensions.insert(
            s.min(root.dimensions.len()),
            Dimension {
                name: seg.seg_dim.to_string(),
                size: seg.total,
                unlimited: false,
            },
        );
    } else if s == 0 {
        grow(root, seg.dim, seg.total);
    } else {
        add_dimension_beside(root, seg.dim, seg.seg_dim, seg.total);
    }
    let names: BTreeSet<String> = seg_ds
        .root
        .all_variables()
        .iter()
        .filter(|v| seg.varying.contains(&v.path))
        .map(|v| v.name.clone())
        .collect();
    let rename = |token: &str| -> String {
        if token == seg.dim || names.contains(token) {
            format!("{token}_{s}")
        } else {
            token.to_string()
        }
    };
    for v in seg_ds.root.all_variables() {
        if !seg.varying.contains(&v.path) {
            continue;
        }
        let mut w = v.clone();
        if s > 0 {
            w.name = format!("{}_{s}", v.name);
            w.path = child_path(parent_path(&v.path), &w.name);
            for d in &mut w.dims {
                if d == seg.dim {
                    *d = seg.seg_dim.to_string();
                }
            }
            for a in &mut w.attributes {
                if a.name == "coordinates" || a.name == "bounds" {
                    if let Some(text) = a.value.as_str() {
                        let renamed: Vec<String> = text.split_whitespace().map(rename).collect();
                        a.value = AttrValue::Text(renamed.join(" "));
                    }
                }
            }
        }
        let kind = if seg.new_dim {
            w.dims.insert(0, seg.seg_dim.to_string());
            w.shape.insert(0, seg.total);
            let mut chunks = v.chunk_shape.clone().unwrap_or_else(|| v.shape.clone());
            chunks.insert(0, 1);
            w.chunk_shape = Some(chunks);
            Kind::Expanded
        } else {
            let axis = w
                .dims
                .iter()
                .position(|d| d == seg.seg_dim)
                .ok_or_else(|| format!("variable {} lost its dimension '{}'", v.path, seg.dim))?;
            if let Some(n) = w.shape.get_mut(axis) {
                *n = seg.total;
            }
            Kind::Along(axis)
        };
        if let Some(files) = seg.files {
            w.attributes.push(files_attribute(files));
        }
        plans.insert(
            w.path.clone(),
            Plan {
                segment: s,
                source: v.path.clone(),
                kind,
            },
        );
        let group = parent_path(&v.path).to_string();
        let Some(g) = group_mut(root, &group) else {
            return Err(format!("group {group} of {} is missing", v.path));
        };
        if s == 0 {
            if let Some(slot) = g.variables.iter_mut().find(|x| x.path == w.path) {
                *slot = w;
            }
        } else {
            if g.variables.iter().any(|x| x.name == w.name) {
                return Err(format!(
                    "splitting would name a variable {} but the files already have one; rename it in the files",
                    w.path
                ));
            }
            g.variables.push(w);
        }
    }
    Ok(())
}

/// A hash of what must agree within a segment: each concatenated variable's
/// dtype, chunk shape, codecs and encoding attributes.
fn signature_of(ds: &Dataset, varying: &BTreeSet<String>) -> u64 {
    struct HashWriter<'a>(&'a mut std::collections::hash_map::DefaultHasher);
    impl fmt::Write for HashWriter<'_> {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            s.hash(self.0);
            Ok(())
        }
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for v in ds.root.all_variables() {
        if !varying.contains(&v.path) {
            continue;
        }
        let chunks = (v.layout == StorageLayout::Chunked).then_some(&v.chunk_shape);
        let attrs: Vec<Option<&Attribute>> = ENCODING_ATTRIBUTES
            .iter()
            .map(|n| v.attributes.iter().find(|a| a.name == *n))
            .collect();
        let _ = fmt::write(
            &mut HashWriter(&mut h),
            format_args!(
                "{}|{:?}|{:?}|{:?}|{:?}",
                v.path, v.dtype, chunks, v.codecs, attrs
            ),
        );
    }
    h.finish()
}

/// The concatenation coordinate must increase strictly from file to file.
fn check_order(dim: &str, locations: &[String], scans: &[Scan]) -> Result<()> {
    let spans: Vec<(&str, CoordValue, CoordValue)> = locations
        .iter()
        .zip(scans)
        .filter_map(|(l, s)| s.span.map(|(a, b)| (l.as_str(), a, b)))
        .collect();
    let fail = |files: Vec<&str>, message: String| -> crate::Error {
        ConcatError {
            dim: dim.to_string(),
            files: files.into_iter().map(str::to_string).collect(),
            message,
        }
        .into()
    };
    for pair in spans.windows(2) {
        let [(a, a_lo, a_hi), (b, b_lo, b_hi)] = pair else {
            continue;
        };
        if b_lo.cmp(a_hi) == Some(Ordering::Greater) {
            continue;
        }
        if b_hi.cmp(a_lo) == Some(Ordering::Less) {
            let mut sorted = spans.clone();
            sorted.sort_by(|x, y| x.1.cmp(&y.1).unwrap_or(Ordering::Equal));
            let mut order: Vec<&str> = sorted.iter().map(|s| s.0).collect();
            let more = order.len().saturating_sub(12);
            order.truncate(12);
            let tail = if more > 0 {
                format!(", … {more} more")
            } else {
                String::new()
            };
            return Err(fail(
                vec![a, b],
                format!(
                    "files are not in order of {dim}: {b} ({b_lo}…{b_hi}) comes before {a} ({a_lo}…{a_hi}); pass them sorted ({}{tail}) or use a glob that sorts them",
                    order.join(", ")
                ),
            ));
        }
        return Err(fail(
            vec![a, b],
            format!(
                "{dim} ranges overlap: {b} ({b_lo}…{b_hi}) starts at or before the end of {a} ({a_lo}…{a_hi}); remove the repeated steps or leave out one of the files"
            ),
        ));
    }
    Ok(())
}

impl ConcatReader {
    /// The concatenation dimension.
    pub fn dim(&self) -> &str {
        &self.dim
    }

    /// The sources in order, each with its segment, and its offset and
    /// length along the segment's dimension.
    pub fn parts(&self) -> &[ConcatPart] {
        &self.parts
    }

    /// How many segments the files were split into (1 unless
    /// [`ConcatOptions::split_mismatched`] found differences).
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    /// The dimension `variable` is concatenated along: [`Self::dim`], or
    /// `DIM_k` for a variable of segment `k`; `None` for variables that are
    /// the same in every file, and for coordinates made from names or
    /// attributes (no file stores them: read their values).
    pub fn dim_of(&self, variable: &str) -> Option<&str> {
        let plan = self.plan_of(variable).ok()?;
        match plan.kind {
            Kind::Along(_) | Kind::Expanded => {
                self.segments.get(plan.segment).map(|s| s.dim.as_str())
            }
            _ => None,
        }
    }

    /// The axis of [`Self::dim_of`] in `variable`'s dimensions.
    pub fn axis_of(&self, variable: &str) -> Option<usize> {
        let plan = self.plan_of(variable).ok()?;
        match plan.kind {
            Kind::Along(axis) => Some(axis),
            Kind::Expanded => Some(0),
            _ => None,
        }
    }

    /// Readers held open now (all of them for [`concat`]; at most
    /// [`ConcatOptions::open_readers`] for [`concat_lazy`]).
    pub fn open_readers(&self) -> usize {
        self.readers.held()
    }

    fn plan_of(&self, variable: &str) -> Result<&Plan> {
        let var = self.dataset.variable(variable)?;
        self.plans.get(&var.path).ok_or_else(|| {
            ConcatError {
                dim: self.dim.clone(),
                files: Vec::new(),
                message: format!("{} has no reading plan", var.path),
            }
            .into()
        })
    }

    fn segment_parts(&self, segment: usize) -> &[ConcatPart] {
        self.segments
            .get(segment)
            .and_then(|s| self.parts.get(s.parts.clone()))
            .unwrap_or(&[])
    }

    fn segment_dim(&self, segment: usize) -> &str {
        self.segments
            .get(segment)
            .map_or(self.dim.as_str(), |s| s.dim.as_str())
    }

    fn synthetic_error(&self, path: &str) -> crate::Error {
        ConcatError {
            dim: self.dim.clone(),
            files: Vec::new(),
            message: format!(
                "{path} is made from the files' names or attributes: no file stores it, so it has no chunk manifest; read its values instead"
            ),
        }
        .into()
    }

    /// Part `part`'s own manifest of the variable planned by `plan`, with a
    /// leading axis of one step for a new dimension.
    fn manifest_of(part: &ConcatPart, plan: &Plan) -> Result<ChunkManifest> {
        let mut m = part.with_raw(|r| r.manifest(&plan.source))?;
        if matches!(plan.kind, Kind::Expanded) {
            expand_manifest(&mut m);
        }
        Ok(m)
    }

    /// Part `k`'s own chunk manifest of `variable` (a path or name of the
    /// combined dataset), read from `reader` (part `k`'s reader, as
    /// [`ConcatPart::with_reader`] gives it), so that one opened file serves
    /// every variable: in the combined rank (with a leading axis of one step
    /// for a new dimension), with the part's offset along [`Self::dim_of`].
    ///
    /// `None` when part `k` does not hold the variable: a part of another
    /// segment, or any part but the first for a variable that is the same in
    /// every file. An error for a coordinate made from names or attributes
    /// (no file stores it: read it through [`Reader::read`]).
    pub fn part_manifest_in(
        &self,
        k: usize,
        reader: &dyn Reader,
        variable: &str,
    ) -> Result<Option<(u64, ChunkManifest)>> {
        let plan = self.plan_of(variable)?;
        let var_path = self.dataset.variable(variable)?.path.clone();
        let Some(part) = self.parts.get(k) else {
            return Ok(None);
        };
        match &plan.kind {
            Kind::Synthetic(_) => Err(self.synthetic_error(&plan.source)),
            Kind::Shared if k == 0 => Ok(Some((0, reader.manifest(&var_path)?))),
            Kind::Shared => Ok(None),
            Kind::Along(_) | Kind::Expanded if part.segment == plan.segment => {
                Ok(Some((part.offset, reader.manifest(&var_path)?)))
            }
            Kind::Along(_) | Kind::Expanded => Ok(None),
        }
    }

    /// Each source's own chunk manifest of `variable`, with the source's
    /// location and its offset along the variable's concatenation dimension
    /// ([`Self::dim_of`]): chunk `i` of a part's manifest holds elements from
    /// `offset` on, in that file. For a new dimension, each manifest has a
    /// leading axis of one step.
    ///
    /// A variable without the dimension is the same in every file; only the
    /// first source's manifest is returned, at offset 0. For a variable of a
    /// split, only its segment's files are returned. A coordinate made from
    /// names or attributes has none (an error: read it).
    pub fn part_manifests(&self, variable: &str) -> Result<Vec<(String, u64, ChunkManifest)>> {
        let plan = self.plan_of(variable)?;
        match &plan.kind {
            Kind::Synthetic(_) => Err(self.synthetic_error(&plan.source)),
            Kind::Shared => {
                let first = self.first()?;
                Ok(vec![(
                    first.location.clone(),
                    0,
                    first.with_raw(|r| r.manifest(&plan.source))?,
                )])
            }
            Kind::Along(_) | Kind::Expanded => self
                .segment_parts(plan.segment)
                .iter()
                .map(|p| Ok((p.location.clone(), p.offset, Self::manifest_of(p, plan)?)))
                .collect(),
        }
    }

    /// The parts' manifests joined into one over the combined shape, each
    /// chunk's index shifted along the dimension by its part's offset.
    ///
    /// The chunk offsets and lengths stay those of each chunk's own file, so
    /// this manifest describes the chunk grid and which chunks exist, not where
    /// to fetch them: use [`Self::part_manifests`] for that.
    ///
    /// Errors when the parts do not form one regular grid: every part but the
    /// last (non-empty) one must hold a whole number of chunks along the
    /// dimension, and all parts must share chunk shape, dtype, byte order and
    /// codecs. [`Reader::read`] works regardless.
    pub fn combined_manifest(&self, variable: &str) -> Result<ChunkManifest> {
        let var = self.dataset.variable(variable)?;
        let plan = self.plan_of(variable)?;
        let axis = match &plan.kind {
            Kind::Shared => return self.first()?.with_raw(|r| r.manifest(&plan.source)),
            Kind::Synthetic(_) => return Err(self.synthetic_error(&plan.source)),
            Kind::Along(a) => *a,
            Kind::Expanded => 0,
        };
        let dim = self.segment_dim(plan.segment).to_string();
        let parts = self.segment_parts(plan.segment);
        let manifests = self.part_manifests(&var.path)?;
        let live: Vec<(usize, &(String, u64, ChunkManifest))> = manifests
            .iter()
            .enumerate()
            .filter(|(i, _)| parts.get(*i).is_some_and(|p| p.length > 0))
            .collect();
        let Some((_, (first_loc, _, first))) = live.first().copied() else {
            let (_, _, m) = manifests
                .into_iter()
                .next()
                .ok_or_else(|| self.no_parts())?;
            let mut m = m;
            m.grid.array_shape.clone_from(&var.shape);
            return Ok(m);
        };
        let step = first
            .grid
            .chunk_shape
            .get(axis)
            .copied()
            .unwrap_or(1)
            .max(1);
        let irregular = |files: Vec<String>, why: String| -> crate::Error {
            ConcatError {
                dim: dim.clone(),
                files,
                message: format!(
                    "the chunks of {} cannot be expressed as one regular grid: {why}; use part manifests (ConcatReader::part_manifests) instead; reading values works regardless",
                    var.path
                ),
            }
            .into()
        };
        let mut chunks = Vec::new();
        for (n, (i, (loc, offset, m))) in live.iter().enumerate() {
            let length = parts.get(*i).map_or(0, |p| p.length);
            let last = n + 1 == live.len();
            let files = vec![first_loc.clone(), loc.clone()];
            let mut same_outside = m.grid.chunk_shape.len() == first.grid.chunk_shape.len();
            for (d, (a, b)) in m
                .grid
                .chunk_shape
                .iter()
                .zip(&first.grid.chunk_shape)
                .enumerate()
            {
                if d != axis && a != b {
                    same_outside = false;
                }
            }
            if !same_outside {
                return Err(irregular(
                    files,
                    format!(
                        "{first_loc} has chunks of shape {:?} and {loc} {:?}",
                        first.grid.chunk_shape, m.grid.chunk_shape
                    ),
                ));
            }
            if m.dtype != first.dtype || m.endian != first.endian || m.codecs != first.codecs {
                return Err(irregular(
                    files,
                    format!(
                        "{first_loc} stores {} {:?}-endian with codecs [{}] and {loc} {} {:?}-endian with [{}]",
                        first.dtype,
                        first.endian,
                        labels(&first.codecs),
                        m.dtype,
                        m.endian,
                        labels(&m.codecs)
                    ),
                ));
            }
            let own = m.grid.chunk_shape.get(axis).copied().unwrap_or(1).max(1);
            let fits = own == step || (last && own == length && length <= step);
            if !fits {
                return Err(irregular(
                    files,
                    format!(
                        "{loc} has chunks of {own} along '{}' where {first_loc} has {step}",
                        dim
                    ),
                ));
            }
            if !last && length % step != 0 {
                return Err(irregular(
                    vec![loc.clone()],
                    format!(
                        "{loc} has {length} elements along '{}', not a multiple of the chunk size {step} (only the last file may end with a partial chunk)",
                        dim
                    ),
                ));
            }
            let shift = offset / step;
            for c in &m.chunks {
                let mut c = c.clone();
                if let Some(x) = c.index.get_mut(axis) {
                    *x += shift;
                }
                chunks.push(c);
            }
        }
        let mut grid = first.grid.clone();
        grid.array_shape.clone_from(&var.shape);
        if let Some(x) = grid.chunk_shape.get_mut(axis) {
            *x = step;
        }
        Ok(ChunkManifest {
            variable: first.variable.clone(),
            dtype: first.dtype.clone(),
            endian: first.endian,
            grid,
            codecs: first.codecs.clone(),
            chunks,
            fill_bytes: first.fill_bytes.clone(),
        })
    }

    fn first(&self) -> Result<&ConcatPart> {
        self.parts.first().ok_or_else(|| self.no_parts())
    }

    fn no_parts(&self) -> crate::Error {
        ConcatError {
            dim: self.dim.clone(),
            files: Vec::new(),
            message: "no sources".into(),
        }
        .into()
    }
}

impl Reader for ConcatReader {
    fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// The manifest of a variable without the concatenation dimension (the
    /// first source's) or of any variable when its segment has one source.
    ///
    /// For a variable with the dimension spread over several files this is an
    /// error: one manifest cannot say which file each chunk is in. Use
    /// [`ConcatReader::part_manifests`] (or [`ConcatReader::combined_manifest`]
    /// for the combined grid). A coordinate made from names or attributes has
    /// none.
    fn manifest(&self, variable: &str) -> Result<ChunkManifest> {
        let var = self.dataset.variable(variable)?;
        let plan = self.plan_of(variable)?;
        match &plan.kind {
            Kind::Shared => self.first()?.with_raw(|r| r.manifest(&plan.source)),
            Kind::Synthetic(_) => Err(self.synthetic_error(&var.path)),
            Kind::Along(_) | Kind::Expanded => {
                let parts = self.segment_parts(plan.segment);
                if let [only] = parts {
                    return Self::manifest_of(only, plan);
                }
                let files: Vec<String> = parts.iter().map(|p| p.location.clone()).collect();
                let shown = if files.len() > 12 {
                    format!("{}, … {} more", files[..12].join(", "), files.len() - 12)
                } else {
                    files.join(", ")
                };
                Err(ConcatError {
                    dim: self.dim.clone(),
                    message: format!(
                        "{} is spread over {} files ({shown}), and one chunk manifest cannot say which file a chunk is in; use the part manifests (ConcatReader::part_manifests), one per file with its offset along '{}'",
                        var.path,
                        files.len(),
                        self.segment_dim(plan.segment)
                    ),
                    files,
                }
                .into())
            }
        }
    }

    /// Split the selection along the dimension, read each part's share (in
    /// parallel when more than one part is involved) and stitch the results.
    fn read(&self, variable: &str, selection: &Selection) -> Result<NdArray> {
        self.read_parts(variable, selection, None)
    }

    /// As [`Reader::read`], each part read within `options`; when several
    /// parts are read at once, they share `options.max_batch_bytes`.
    fn read_with(
        &self,
        variable: &str,
        selection: &Selection,
        options: &ReadOptions,
    ) -> Result<NdArray> {
        self.read_parts(variable, selection, Some(options))
    }
}

impl ConcatReader {
    fn read_parts(
        &self,
        variable: &str,
        selection: &Selection,
        options: Option<&ReadOptions>,
    ) -> Result<NdArray> {
        let var = self.dataset.variable(variable)?;
        let plan = self.plan_of(variable)?;
        let read = |reader: &dyn Reader, s: &Selection, o: Option<&ReadOptions>| match o {
            Some(o) => reader.read_with(&plan.source, s, o),
            None => reader.read(&plan.source, s),
        };
        let axis = match &plan.kind {
            Kind::Shared => return self.first()?.with_raw(|r| read(r, selection, options)),
            Kind::Synthetic(values) => {
                check_selection(var, selection)?;
                let picked = match selection.dims.first() {
                    Some(d) => take(values, d),
                    None => values.clone(),
                };
                return Ok(NdArray {
                    shape: selection.shape(),
                    values: picked,
                });
            }
            Kind::Along(axis) => *axis,
            Kind::Expanded => 0,
        };
        let expanded = matches!(plan.kind, Kind::Expanded);
        check_selection(var, selection)?;
        let Some(along) = selection.dims.get(axis).copied() else {
            return Err(bad_selection(
                var,
                selection,
                "it misses the concatenation dimension".into(),
            )
            .into());
        };
        let parts = self.segment_parts(plan.segment);
        let spans: Vec<(u64, u64)> = parts.iter().map(|p| (p.offset, p.length)).collect();
        let pieces = split_slice(along, &spans);
        let sub = |local: DimSlice| {
            let mut s = selection.clone();
            if expanded {
                s.dims.remove(0);
            } else if let Some(d) = s.dims.get_mut(axis) {
                *d = local;
            }
            s
        };
        if pieces.is_empty() {
            if expanded {
                return Ok(NdArray {
                    shape: selection.shape(),
                    values: Values::empty_for(&var.dtype),
                });
            }
            let empty = DimSlice {
                start: 0,
                stop: 0,
                step: 1,
            };
            let first = parts.first().ok_or_else(|| self.no_parts())?;
            let mut out = first.with_raw(|r| read(r, &sub(empty), options))?;
            out.shape = selection.shape();
            return Ok(out);
        }
        // Parts read at once share the batch budget.
        let shared = options.map(|o| ReadOptions {
            max_batch_bytes: (o.max_batch_bytes / pieces.len()).max(1),
            ..*o
        });
        let read_one = |&(i, local): &(usize, DimSlice)| -> Result<NdArray> {
            let part = parts.get(i).ok_or_else(|| self.no_parts())?;
            let mut a = part.with_raw(|r| read(r, &sub(local), shared.as_ref()))?;
            if expanded {
                a.shape.insert(0, 1);
            }
            Ok(a)
        };
        let arrays: Vec<NdArray> = if pieces.len() == 1 {
            pieces.iter().map(read_one).collect::<Result<_>>()?
        } else {
            pieces.par_iter().map(read_one).collect::<Result<_>>()?
        };
        Ok(concat_arrays(arrays, axis)?)
    }
}

/// Give a file's manifest a leading axis of one step (a new dimension).
fn expand_manifest(m: &mut ChunkManifest) {
    m.grid.array_shape.insert(0, 1);
    m.grid.chunk_shape.insert(0, 1);
    for c in &mut m.chunks {
        c.index.insert(0, 0);
    }
}

/// The elements of a 1-D coordinate made from names or attributes.
fn take(values: &Values, slice: &DimSlice) -> Values {
    let at = |i: u64| usize::try_from(i).unwrap_or(usize::MAX);
    match values {
        Values::I64(v) => Values::I64(
            slice
                .indices()
                .filter_map(|i| v.get(at(i)).copied())
                .collect(),
        ),
        Values::F64(v) => Values::F64(
            slice
                .indices()
                .filter_map(|i| v.get(at(i)).copied())
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The parts a strided slice touches: for each, the part's index and the
/// slice in the part's own coordinates. `parts` holds each part's offset and
/// length, consecutive and in order. The local slices, read in order, yield
/// exactly the slice's indices.
pub fn split_slice(slice: DimSlice, parts: &[(u64, u64)]) -> Vec<(usize, DimSlice)> {
    let step = slice.step.max(1);
    let mut out = Vec::new();
    for (i, &(offset, length)) in parts.iter().enumerate() {
        let end = offset.saturating_add(length);
        let lo = slice.start.max(offset);
        let hi = slice.stop.min(end);
        if lo >= hi {
            continue;
        }
        let first = slice.start + (lo - slice.start).div_ceil(step) * step;
        if first >= hi {
            continue;
        }
        out.push((
            i,
            DimSlice {
                start: first - offset,
                stop: hi - offset,
                step,
            },
        ));
    }
    out
}

/// Join arrays along `axis`: every array must have the same rank and the same
/// extents outside `axis`, and values of the same kind (any kind, including
/// strings, opaque bytes and compounds, whose columns are joined field by
/// field). The result is in C order.
///
/// ```
/// use arco_core::{NdArray, Values};
/// use arco_formats::concat::concat_arrays;
/// let a = NdArray { shape: vec![2, 1], values: Values::I32(vec![1, 2]) };
/// let b = NdArray { shape: vec![2, 2], values: Values::I32(vec![3, 4, 5, 6]) };
/// let ab = concat_arrays(vec![a, b], 1)?;
/// assert_eq!(ab.shape, vec![2, 3]);
/// assert_eq!(ab.values, Values::I32(vec![1, 3, 4, 2, 5, 6]));
/// # Ok::<(), arco_core::Error>(())
/// ```
pub fn concat_arrays(arrays: Vec<NdArray>, axis: usize) -> arco_core::Result<NdArray> {
    let Some(first) = arrays.first() else {
        return Err(arco_core::Error::Other(
            "nothing to concatenate: no arrays".into(),
        ));
    };
    let rank = first.shape.len();
    if axis >= rank {
        return Err(arco_core::Error::Other(format!(
            "cannot concatenate arrays of shape {:?} along axis {axis}",
            first.shape
        )));
    }
    let mut shape = first.shape.clone();
    let mut along = 0u64;
    for a in &arrays {
        let same = a.shape.len() == rank
            && a.shape
                .iter()
                .zip(&first.shape)
                .enumerate()
                .all(|(d, (x, y))| d == axis || x == y);
        if !same {
            return Err(arco_core::Error::Other(format!(
                "cannot concatenate an array of shape {:?} with one of shape {:?} along axis {axis}",
                first.shape, a.shape
            )));
        }
        along += a.shape[axis];
        if a.values.len() as u64 != a.element_count() {
            return Err(arco_core::Error::Other(format!(
                "an array of shape {:?} holds {} values",
                a.shape,
                a.values.len()
            )));
        }
    }
    shape[axis] = along;
    let outer = to_usize(first.shape[..axis].iter().product())?;
    let inner: u64 = first.shape[axis + 1..].iter().product();
    let blocks: Vec<usize> = arrays
        .iter()
        .map(|a| to_usize(a.shape[axis] * inner))
        .collect::<arco_core::Result<_>>()?;
    let values = concat_values(
        arrays.into_iter().map(|a| a.values).collect(),
        &blocks,
        outer,
    )?;
    Ok(NdArray { shape, values })
}

/// Interleave `values[k]`, seen as `outer` blocks of `blocks[k]` elements each:
/// block 0 of every input, then block 1 of every input, and so on.
fn concat_values(values: Vec<Values>, blocks: &[usize], outer: usize) -> arco_core::Result<Values> {
    let kind = values.first().map_or("nothing", Values::type_name);
    let mismatch = |other: &Values| {
        arco_core::Error::Type(format!(
            "cannot concatenate {kind} values with {} values",
            other.type_name()
        ))
    };
    macro_rules! join {
        ($($variant:ident),*) => {
            match values.first() {
                $(Some(Values::$variant(_)) => {
                    let mut vecs = Vec::with_capacity(values.len());
                    for v in values {
                        match v {
                            Values::$variant(x) => vecs.push(x),
                            other => return Err(mismatch(&other)),
                        }
                    }
                    return Ok(Values::$variant(interleave(vecs, blocks, outer)));
                })*
                _ => {}
            }
        };
    }
    join!(Bool, I8, I16, I32, I64, U8, U16, U32, U64, F32, F64, Str);
    match values.first() {
        Some(Values::Opaque { size, .. }) => {
            let size = *size;
            let mut vecs = Vec::with_capacity(values.len());
            for v in values {
                match v {
                    Values::Opaque { size: s, bytes } if s == size => vecs.push(bytes),
                    other => return Err(mismatch(&other)),
                }
            }
            let blocks: Vec<usize> = blocks.iter().map(|b| b * size).collect();
            Ok(Values::Opaque {
                size,
                bytes: interleave(vecs, &blocks, outer),
            })
        }
        Some(Values::Compound(cols)) => {
            let names: Vec<String> = cols.iter().map(|(n, _)| n.clone()).collect();
            let mut columns: Vec<Vec<Values>> = names.iter().map(|_| Vec::new()).collect();
            for v in values {
                match v {
                    Values::Compound(cols)
                        if cols.len() == names.len()
                            && cols.iter().zip(&names).all(|((a, _), b)| a == b) =>
                    {
                        for (column, (_, c)) in columns.iter_mut().zip(cols) {
                            column.push(c);
                        }
                    }
                    other => {
                        return Err(arco_core::Error::Type(format!(
                            "cannot concatenate compound values with fields {} and {}",
                            names.join(", "),
                            match &other {
                                Values::Compound(c) => c
                                    .iter()
                                    .map(|(n, _)| n.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", "),
                                o => o.type_name().to_string(),
                            }
                        )))
                    }
                }
            }
            let joined = names
                .into_iter()
                .zip(columns)
                .map(|(n, c)| Ok((n, concat_values(c, blocks, outer)?)))
                .collect::<arco_core::Result<_>>()?;
            Ok(Values::Compound(joined))
        }
        Some(other) => Err(arco_core::Error::Type(format!(
            "cannot concatenate {} values",
            other.type_name()
        ))),
        None => Err(arco_core::Error::Other(
            "nothing to concatenate: no arrays".into(),
        )),
    }
}

/// See [`concat_values`]. Lengths were checked by the caller.
fn interleave<T: Clone>(vecs: Vec<Vec<T>>, blocks: &[usize], outer: usize) -> Vec<T> {
    let total = vecs.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(total);
    if outer == 1 {
        for v in vecs {
            out.extend(v);
        }
        return out;
    }
    for o in 0..outer {
        for (v, &b) in vecs.iter().zip(blocks) {
            if let Some(block) = v.get(o * b..(o + 1) * b) {
                out.extend_from_slice(block);
            }
        }
    }
    out
}

fn to_usize(n: u64) -> arco_core::Result<usize> {
    usize::try_from(n)
        .map_err(|_| arco_core::Error::Other(format!("{n} elements do not fit in memory")))
}

// ----- checks -------------------------------------------------------------

/// The first source's only unlimited dimension, else `time`.
fn default_dim(ds: &Dataset) -> String {
    let mut names = BTreeSet::new();
    collect_unlimited(&ds.root, &mut names);
    let mut it = names.into_iter();
    match (it.next(), it.next()) {
        (Some(name), None) => name,
        _ => "time".into(),
    }
}

fn collect_unlimited(g: &Group, out: &mut BTreeSet<String>) {
    for d in &g.dimensions {
        if d.unlimited {
            out.insert(d.name.clone());
        }
    }
    for c in &g.groups {
        collect_unlimited(c, out);
    }
}

fn collect_dim_names<'a>(g: &'a Group, out: &mut Vec<&'a str>) {
    for d in &g.dimensions {
        if !out.contains(&d.name.as_str()) {
            out.push(&d.name);
        }
    }
    for c in &g.groups {
        collect_dim_names(c, out);
    }
}

/// The first dimension named `name`, depth first from `g`.
fn find_dimension<'a>(g: &'a Group, name: &str) -> Option<&'a arco_core::Dimension> {
    g.dimensions
        .iter()
        .find(|d| d.name == name)
        .or_else(|| g.groups.iter().find_map(|c| find_dimension(c, name)))
}

fn positions(dims: &[String], dim: &str) -> Vec<usize> {
    dims.iter()
        .enumerate()
        .filter(|(_, d)| *d == dim)
        .map(|(i, _)| i)
        .collect()
}

/// Set every dimension named `dim` to `size` and grow the variables using it.
fn grow(g: &mut Group, dim: &str, size: u64) {
    for d in &mut g.dimensions {
        if d.name == dim {
            d.size = size;
        }
    }
    for v in &mut g.variables {
        if let Some(axis) = v.dims.iter().position(|d| d == dim) {
            if let Some(n) = v.shape.get_mut(axis) {
                *n = size;
            }
        }
    }
    for c in &mut g.groups {
        grow(c, dim, size);
    }
}

fn all_groups<'a>(g: &'a Group, out: &mut BTreeMap<&'a str, &'a Group>) {
    out.insert(&g.path, g);
    for c in &g.groups {
        all_groups(c, out);
    }
}

/// How bad a difference between two files' variable is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Severity {
    /// Chunk shape or codecs: how the bytes are stored.
    Layout,
    /// dtype or CF encoding attributes: what the stored values mean.
    Encoding,
    /// Dimensions or shape: the files cannot be joined.
    Fatal,
}

/// Compare the tree of `b` with that of `a`, the first source; differences
/// of a variable that `tolerate(path, severity)` accepts pass.
fn check_tree(
    dim: &str,
    (a_loc, a): (&str, &Dataset),
    (b_loc, b): (&str, &Dataset),
    tolerate: &dyn Fn(&str, Severity) -> bool,
) -> std::result::Result<(), ConcatError> {
    let fail = |message: String| ConcatError {
        dim: dim.to_string(),
        files: vec![a_loc.to_string(), b_loc.to_string()],
        message,
    };
    let (mut ga, mut gb) = (BTreeMap::new(), BTreeMap::new());
    all_groups(&a.root, &mut ga);
    all_groups(&b.root, &mut gb);
    if let Some(path) = ga.keys().find(|p| !gb.contains_key(*p)) {
        return Err(fail(format!(
            "group {path} is in {a_loc} but not in {b_loc}"
        )));
    }
    if let Some(path) = gb.keys().find(|p| !ga.contains_key(*p)) {
        return Err(fail(format!(
            "group {path} is in {b_loc} but not in {a_loc}"
        )));
    }
    for (path, g) in &ga {
        let Some(h) = gb.get(path) else { continue };
        for d in &g.dimensions {
            match h.dimensions.iter().find(|e| e.name == d.name) {
                None => {
                    return Err(fail(format!(
                        "dimension {} (group {path}) is in {a_loc} but not in {b_loc}",
                        d.name
                    )))
                }
                Some(e) if d.name != dim && e.size != d.size => {
                    return Err(fail(format!(
                        "dimension {} has size {} in {a_loc} and {} in {b_loc}",
                        d.name, d.size, e.size
                    )))
                }
                Some(_) => {}
            }
        }
        if let Some(e) = h
            .dimensions
            .iter()
            .find(|e| !g.dimensions.iter().any(|d| d.name == e.name))
        {
            return Err(fail(format!(
                "dimension {} (group {path}) is in {b_loc} but not in {a_loc}",
                e.name
            )));
        }
        for v in &g.variables {
            let Some(w) = h.variables.iter().find(|w| w.name == v.name) else {
                return Err(fail(format!(
                    "variable {} is in {a_loc} but not in {b_loc}",
                    v.path
                )));
            };
            for (severity, message) in variable_differences(dim, v, w, a_loc, b_loc) {
                if !tolerate(&v.path, severity) {
                    let hint = if severity == Severity::Fatal {
                        ""
                    } else {
                        "; or make separate arrays of the files on each side with --split-mismatched"
                    };
                    return Err(fail(format!("{message}{hint}")));
                }
            }
        }
        if let Some(w) = h
            .variables
            .iter()
            .find(|w| !g.variables.iter().any(|v| v.name == w.name))
        {
            return Err(fail(format!(
                "variable {} is in {b_loc} but not in {a_loc}",
                w.path
            )));
        }
    }
    Ok(())
}

/// Every difference in metadata between the same variable in two files.
fn variable_differences(
    dim: &str,
    v: &Variable,
    w: &Variable,
    a: &str,
    b: &str,
) -> Vec<(Severity, String)> {
    let path = &v.path;
    let mut out = Vec::new();
    if v.dims != w.dims {
        out.push((
            Severity::Fatal,
            format!(
                "variable {path} has dimensions ({}) in {a} and ({}) in {b}",
                v.dims.join(", "),
                w.dims.join(", ")
            ),
        ));
        return out;
    }
    let outside = |s: &[u64]| -> Vec<String> {
        s.iter()
            .zip(&v.dims)
            .map(|(n, d)| {
                if d == dim {
                    format!("{d}=*")
                } else {
                    format!("{d}={n}")
                }
            })
            .collect()
    };
    if outside(&v.shape) != outside(&w.shape) || v.shape.len() != w.shape.len() {
        out.push((
            Severity::Fatal,
            format!(
                "variable {path} has shape {:?} in {a} and {:?} in {b} (only '{dim}' may differ)",
                v.shape, w.shape
            ),
        ));
    }
    if v.dtype != w.dtype {
        out.push((
            Severity::Encoding,
            format!(
                "variable {path} has dtype {} in {a} and {} in {b}",
                v.dtype, w.dtype
            ),
        ));
    }
    let chunked = v.layout == StorageLayout::Chunked || w.layout == StorageLayout::Chunked;
    if chunked && v.chunk_shape != w.chunk_shape {
        let show = |c: &Option<Vec<u64>>| match c {
            Some(c) => format!("{c:?}"),
            None => "no chunks".to_string(),
        };
        out.push((
            Severity::Layout,
            format!(
                "variable {path} has chunk shape {} in {a} and {} in {b}",
                show(&v.chunk_shape),
                show(&w.chunk_shape)
            ),
        ));
    }
    if v.codecs != w.codecs {
        out.push((
            Severity::Layout,
            format!(
                "variable {path} has codecs [{}] in {a} and [{}] in {b}",
                labels(&v.codecs),
                labels(&w.codecs)
            ),
        ));
    }
    for name in ENCODING_ATTRIBUTES {
        let x = v.attributes.iter().find(|t| t.name == name);
        let y = w.attributes.iter().find(|t| t.name == name);
        let same = match (x, y) {
            (None, None) => true,
            (Some(x), Some(y)) => x.dtype == y.dtype && attr_equal(&x.value, &y.value),
            _ => false,
        };
        if !same {
            let show = |t: Option<&arco_core::Attribute>| match t {
                None => "none".to_string(),
                Some(t) => match &t.value {
                    AttrValue::Text(s) => format!("'{s}'"),
                    AttrValue::Array(vals) => format!("{} ({})", show_values(vals), t.dtype),
                },
            };
            let hint = if name == "units" {
                "; re-encode the files to the same units before concatenating"
            } else {
                ""
            };
            out.push((
                Severity::Encoding,
                format!(
                    "attribute {name} of variable {path} is {} in {a} and {} in {b}{hint}",
                    show(x),
                    show(y)
                ),
            ));
        }
    }
    // Fatal differences first.
    out.sort_by_key(|(s, _)| *s != Severity::Fatal);
    out
}

fn labels(codecs: &[arco_core::CodecSpec]) -> String {
    codecs
        .iter()
        .map(|c| c.label())
        .collect::<Vec<_>>()
        .join(", ")
}

fn attr_equal(a: &AttrValue, b: &AttrValue) -> bool {
    match (a, b) {
        (AttrValue::Text(x), AttrValue::Text(y)) => x == y,
        (AttrValue::Array(x), AttrValue::Array(y)) => first_difference(x, y).is_none(),
        _ => false,
    }
}

/// Where two value vectors first differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Difference {
    /// Different kinds or lengths.
    Kind,
    /// Element `i` differs.
    At(usize),
}

/// The first difference between `a` and `b`, NaN equal to NaN; `None` when equal.
fn first_difference(a: &Values, b: &Values) -> Option<Difference> {
    if a.len() != b.len() {
        return Some(Difference::Kind);
    }
    macro_rules! exact {
        ($($variant:ident),*) => {
            match (a, b) {
                $((Values::$variant(x), Values::$variant(y)) => {
                    return x.iter().zip(y).position(|(p, q)| p != q).map(Difference::At);
                })*
                _ => {}
            }
        };
    }
    exact!(Bool, I8, I16, I32, I64, U8, U16, U32, U64, Str);
    match (a, b) {
        (Values::F32(x), Values::F32(y)) => x
            .iter()
            .zip(y)
            .position(|(p, q)| p != q && !(p.is_nan() && q.is_nan()))
            .map(Difference::At),
        (Values::F64(x), Values::F64(y)) => x
            .iter()
            .zip(y)
            .position(|(p, q)| p != q && !(p.is_nan() && q.is_nan()))
            .map(Difference::At),
        (Values::Opaque { size: s, bytes: x }, Values::Opaque { size: t, bytes: y }) => {
            if s != t {
                return Some(Difference::Kind);
            }
            x.chunks((*s).max(1))
                .zip(y.chunks((*t).max(1)))
                .position(|(p, q)| p != q)
                .map(Difference::At)
        }
        (Values::Compound(x), Values::Compound(y)) => {
            if x.len() != y.len() || x.iter().zip(y).any(|((m, _), (n, _))| m != n) {
                return Some(Difference::Kind);
            }
            let mut first: Option<usize> = None;
            for ((_, p), (_, q)) in x.iter().zip(y) {
                match first_difference(p, q) {
                    None => {}
                    Some(Difference::Kind) => return Some(Difference::Kind),
                    Some(Difference::At(i)) => first = Some(first.map_or(i, |f| f.min(i))),
                }
            }
            first.map(Difference::At)
        }
        _ if a == b => None,
        _ => Some(Difference::Kind),
    }
}

/// Element `i` for messages.
fn show_element(v: &Values, i: usize) -> String {
    macro_rules! show {
        ($($variant:ident),*) => {
            match v {
                $(Values::$variant(x) => {
                    return x.get(i).map_or_else(|| "?".to_string(), |e| e.to_string());
                })*
                _ => {}
            }
        };
    }
    show!(Bool, I8, I16, I32, I64, U8, U16, U32, U64, F32, F64);
    match v {
        Values::Str(x) => x
            .get(i)
            .map_or_else(|| "?".to_string(), |s| format!("'{s}'")),
        Values::Opaque { size, bytes } => bytes.chunks((*size).max(1)).nth(i).map_or_else(
            || "?".into(),
            |c| c.iter().map(|b| format!("{b:02x}")).collect(),
        ),
        Values::Compound(cols) => format!(
            "{{{}}}",
            cols.iter()
                .map(|(n, c)| format!("{n}: {}", show_element(c, i)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => "?".into(),
    }
}

/// A short rendering of a whole (attribute) vector.
fn show_values(v: &Values) -> String {
    let n = v.len();
    let shown: Vec<String> = (0..n.min(8)).map(|i| show_element(v, i)).collect();
    match n {
        1 => shown.join(""),
        _ if n > 8 => format!("[{}, …]", shown.join(", ")),
        _ => format!("[{}]", shown.join(", ")),
    }
}

/// One value of the concatenation coordinate, decoded.
#[derive(Debug, Clone, Copy)]
struct CoordValue {
    /// Unpacked number (NaN when masked).
    number: f64,
    /// The instant, when the coordinate has decodable time units.
    time: Option<CalDateTime>,
}

impl CoordValue {
    fn cmp(&self, other: &CoordValue) -> Option<Ordering> {
        match (self.time, other.time) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => self.number.partial_cmp(&other.number),
        }
    }

    fn missing(&self) -> bool {
        self.number.is_nan() && self.time.is_none()
    }
}

impl fmt::Display for CoordValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.time {
            Some(t) => write!(f, "{t}"),
            None => write!(f, "{}", self.number),
        }
    }
}

/// Decode a coordinate's stored values: unpacked numbers, and instants when
/// the units are time units that decode. `None` when not numeric.
fn decode_coordinate(var: &Variable, values: &Values) -> Result<Option<Vec<CoordValue>>> {
    let numbers = cf::CfDecoder::new(var)?.decode(values)?.to_f64_vec();
    let Some(numbers) = numbers else {
        return Ok(None);
    };
    let times = match cf::decode_variable(var, values) {
        Ok(Decoded::Time(t, _)) if t.len() == numbers.len() => Some(t),
        _ => None,
    };
    Ok(Some(
        numbers
            .iter()
            .enumerate()
            .map(|(i, &number)| CoordValue {
                number,
                time: times.as_ref().and_then(|t| t.get(i).copied().flatten()),
            })
            .collect(),
    ))
}

impl CoordValue {
    fn of(key: &CoordKey) -> CoordValue {
        CoordValue {
            number: key.number(),
            time: key.time(),
        }
    }

    /// True when a name's or attribute's value says the same.
    fn equals(&self, key: &CoordKey) -> bool {
        match (self.time, key.time()) {
            (Some(a), Some(b)) => a == b,
            (None, None) => self.number == key.number(),
            _ => false,
        }
    }
}

/// `[i, j, k]` of flat index `flat` in an array of `shape`.
fn index_text(shape: &[u64], flat: usize) -> String {
    let mut rest = flat as u64;
    let mut idx = vec![0u64; shape.len()];
    for (d, &n) in shape.iter().enumerate().rev() {
        if n > 0 {
            idx[d] = rest % n;
            rest /= n;
        }
    }
    format!("{idx:?}")
}

fn bad_selection(var: &Variable, selection: &Selection, reason: String) -> arco_core::Error {
    arco_core::Error::BadSelection {
        variable: var.path.clone(),
        selection: format!(
            "[{}]",
            selection
                .dims
                .iter()
                .map(|d| format!("{}:{}:{}", d.start, d.stop, d.step))
                .collect::<Vec<_>>()
                .join(",")
        ),
        shape: var.shape.clone(),
        reason,
    }
}

/// The selection must fit the combined shape.
fn check_selection(var: &Variable, selection: &Selection) -> arco_core::Result<()> {
    if selection.dims.len() != var.shape.len() {
        return Err(bad_selection(
            var,
            selection,
            format!(
                "it has {} dimensions, the variable has {}",
                selection.dims.len(),
                var.shape.len()
            ),
        ));
    }
    for ((d, &len), name) in selection.dims.iter().zip(&var.shape).zip(&var.dims) {
        if d.step == 0 {
            return Err(bad_selection(
                var,
                selection,
                format!("the step along {name} is 0"),
            ));
        }
        if d.start < d.stop && d.stop > len {
            return Err(bad_selection(
                var,
                selection,
                format!("it ends at {} along {name}, past its length {len}", d.stop),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arr(shape: &[u64], values: Values) -> NdArray {
        NdArray {
            shape: shape.to_vec(),
            values,
        }
    }

    #[test]
    fn arrays_join_along_an_inner_axis_in_c_order() {
        let a = arr(&[2, 1, 2], Values::I16(vec![1, 2, 3, 4]));
        let b = arr(&[2, 2, 2], Values::I16(vec![5, 6, 7, 8, 9, 10, 11, 12]));
        let j = concat_arrays(vec![a, b], 1).unwrap();
        assert_eq!(j.shape, vec![2, 3, 2]);
        assert_eq!(
            j.values,
            Values::I16(vec![1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12])
        );
    }

    #[test]
    fn strings_opaque_and_compounds_join_field_by_field() {
        let s = concat_arrays(
            vec![
                arr(&[1, 2], Values::Str(vec!["a".into(), "b".into()])),
                arr(&[1, 1], Values::Str(vec!["c".into()])),
            ],
            1,
        )
        .unwrap();
        assert_eq!(
            s.values,
            Values::Str(vec!["a".into(), "b".into(), "c".into()])
        );
        let o = concat_arrays(
            vec![
                arr(
                    &[2, 1],
                    Values::Opaque {
                        size: 2,
                        bytes: vec![1, 1, 2, 2],
                    },
                ),
                arr(
                    &[2, 1],
                    Values::Opaque {
                        size: 2,
                        bytes: vec![3, 3, 4, 4],
                    },
                ),
            ],
            1,
        )
        .unwrap();
        assert_eq!(
            o.values,
            Values::Opaque {
                size: 2,
                bytes: vec![1, 1, 3, 3, 2, 2, 4, 4]
            }
        );
        let rec = |t: Vec<f64>, n: Vec<String>| {
            Values::Compound(vec![
                ("t".into(), Values::F64(t)),
                ("name".into(), Values::Str(n)),
            ])
        };
        let c = concat_arrays(
            vec![
                arr(&[1], rec(vec![1.0], vec!["x".into()])),
                arr(&[2], rec(vec![2.0, 3.0], vec!["y".into(), "z".into()])),
            ],
            0,
        )
        .unwrap();
        assert_eq!(c.shape, vec![3]);
        assert_eq!(
            c.values,
            rec(
                vec![1.0, 2.0, 3.0],
                vec!["x".into(), "y".into(), "z".into()]
            )
        );
    }

    #[test]
    fn arrays_of_different_kinds_or_shapes_are_not_joined() {
        let e = concat_arrays(
            vec![
                arr(&[1], Values::I16(vec![1])),
                arr(&[1], Values::F32(vec![1.0])),
            ],
            0,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("int16") && e.contains("float32"), "{e}");
        let e = concat_arrays(
            vec![
                arr(&[1, 2], Values::I16(vec![1, 2])),
                arr(&[1, 3], Values::I16(vec![1, 2, 3])),
            ],
            0,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("[1, 2]") && e.contains("[1, 3]"), "{e}");
        let rec = |names: [&str; 2]| {
            Values::Compound(vec![
                (names[0].into(), Values::I8(vec![1])),
                (names[1].into(), Values::I8(vec![2])),
            ])
        };
        let e = concat_arrays(
            vec![arr(&[1], rec(["a", "b"])), arr(&[1], rec(["a", "c"]))],
            0,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("a, b") && e.contains("a, c"), "{e}");
    }

    #[test]
    fn nan_equals_nan_when_comparing_values() {
        let a = Values::F32(vec![1.0, f32::NAN]);
        assert_eq!(first_difference(&a, &a.clone()), None);
        let b = Values::F32(vec![1.0, 2.0]);
        assert_eq!(first_difference(&a, &b), Some(Difference::At(1)));
        assert_eq!(
            first_difference(&a, &Values::F64(vec![1.0, f64::NAN])),
            Some(Difference::Kind)
        );
        assert_eq!(index_text(&[2, 3], 4), "[1, 1]");
    }

    proptest! {
        #[test]
        fn split_slices_yield_exactly_the_selected_indices(
            lengths in prop::collection::vec(0u64..6, 1..5),
            a in 0u64..25,
            b in 0u64..25,
            step in 1u64..5,
        ) {
            let total: u64 = lengths.iter().sum();
            let mut parts = Vec::new();
            let mut at = 0;
            for l in &lengths {
                parts.push((at, *l));
                at += l;
            }
            let slice = DimSlice { start: a.min(b).min(total), stop: a.max(b).min(total), step };
            let want: Vec<u64> = slice.indices().collect();
            let mut got: Vec<u64> = Vec::new();
            for (i, local) in split_slice(slice, &parts) {
                let (off, len) = parts[i];
                prop_assert!(local.stop <= len);
                prop_assert!(!local.is_empty());
                got.extend(local.indices().map(|x| x + off));
            }
            prop_assert_eq!(got, want);
        }
    }
}
