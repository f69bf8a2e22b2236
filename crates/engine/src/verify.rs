//! `verify`: prove that a converted dataset holds every value and attribute
//! of its sources.
//!
//! [`verify`] walks the source's tree and, for every group and variable,
//! finds its counterpart in the destination (a compound variable `X` becomes
//! one array per field, `X/<field>`; group paths are kept), then compares
//!
//! 1. **structure**: dimension names, shape and stored dtype;
//! 2. **attributes**: every source attribute must be present with an equal
//!    value (NaN equals NaN; a number may be stored in a wider type only when
//!    its value is identical); attributes only in the destination are
//!    differences too, except arco's own (`arco:*`) and Zarr bookkeeping;
//! 3. **values**: every element, exactly (integers and strings equal, floats
//!    bitwise equal or both NaN; `-0.0` against `0.0` counts as equal and is
//!    noted), in blocks that fit the memory budget and line up with both
//!    chunk grids, compared in parallel on rayon.
//!
//! The destination is read through [`ReadableDestination`], implemented for
//! [`arco_zarr::ZarrStore`] here and open to other destinations (a virtual
//! dataset) later. When the destination records `arco:provenance`, the
//! sources' sizes (and, with [`VerifyOptions::checksum`], SHA-256 digests)
//! are checked against the recorded ones so a source that changed since the
//! conversion is reported rather than mistaken for a conversion error.
//!
//! Everything found goes into a [`VerifyReport`] (serializable; its JSON form
//! is what `arco verify --json` prints). Only failures to open or list the
//! destination are errors; an unreadable block is a reported difference.

mod pyramid;

pub use pyramid::LevelReport;

use arco_core::{
    AttrValue, Attribute, DType, Dataset, Group, NdArray, Selection, Values, Variable,
};
use arco_formats::Reader;
use arco_storage::DynSource;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::fmt;

/// The root attribute where `arco convert` records its provenance.
pub const PROVENANCE_ATTRIBUTE: &str = "arco:provenance";

/// Default number of differences listed per variable (all are counted).
pub const DEFAULT_MAX_DIFFERENCES: usize = 20;

/// Default memory budget for the values held at once while comparing.
pub const DEFAULT_MEMORY_BYTES: u64 = 1 << 30;

/// Largest block of one variable compared at once (per side).
pub const MAX_BLOCK_BYTES: u64 = 16 << 20;

/// Assumed size of one variable-length element when sizing blocks.
const VARLEN_ELEMENT_BYTES: u64 = 64;

/// Errors that stop a verification before it can report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The destination could not be opened, listed or read.
    #[error("{location}: {message}")]
    Destination {
        /// Where the destination is.
        location: String,
        /// What went wrong.
        message: String,
    },
    /// A Zarr destination failed.
    #[error(transparent)]
    Zarr(#[from] arco_zarr::Error),
    /// A source failed.
    #[error(transparent)]
    Source(#[from] arco_formats::Error),
    /// Reading a source's bytes (for its checksum) failed.
    #[error(transparent)]
    Storage(#[from] arco_storage::Error),
}

/// Result of this module.
pub type Result<T, E = VerifyError> = std::result::Result<T, E>;

/// A converted dataset that [`verify`] can read back: a Zarr store today,
/// a virtual dataset later.
pub trait ReadableDestination: Send + Sync {
    /// Where it is, for messages.
    fn location(&self) -> String;

    /// Its hierarchy: groups, arrays (as variables, with stored dtypes) and
    /// attributes.
    fn dataset(&self) -> Result<Dataset>;

    /// Stored values of the array at `path` (such as `/t2m` or `/Events/mean`)
    /// in `selection`.
    fn read(&self, path: &str, selection: &Selection) -> Result<NdArray>;

    /// The provenance recorded at conversion (the root attribute
    /// [`PROVENANCE_ATTRIBUTE`]) as JSON, if any. The default looks in
    /// `dataset`'s root attributes for a JSON text.
    fn provenance(&self, dataset: &Dataset) -> Result<Option<Json>> {
        Ok(dataset
            .root
            .attr(PROVENANCE_ATTRIBUTE)
            .and_then(provenance_from_attr))
    }
}

/// The provenance as JSON from an attribute value: JSON text, or a string.
fn provenance_from_attr(value: &AttrValue) -> Option<Json> {
    let text = value.as_str()?;
    serde_json::from_str(text).ok()
}

impl ReadableDestination for arco_zarr::ZarrStore {
    fn location(&self) -> String {
        arco_zarr::ZarrStore::location(self).to_string()
    }

    fn dataset(&self) -> Result<Dataset> {
        Ok(arco_zarr::ZarrStore::dataset(self)?)
    }

    fn read(&self, path: &str, selection: &Selection) -> Result<NdArray> {
        Ok(arco_zarr::ZarrStore::read(self, path, selection)?)
    }

    /// Read the root metadata document directly (`zarr.json`, or `.zattrs`
    /// for Zarr v2), so the provenance object arrives as JSON whatever the
    /// attribute mapping of [`arco_zarr::ZarrStore::dataset`] does with it.
    fn provenance(&self, dataset: &Dataset) -> Result<Option<Json>> {
        for (key, attributes_inside) in [("zarr.json", true), (".zattrs", false)] {
            let Some(bytes) = self.get_bytes(key)? else {
                continue;
            };
            let Ok(doc) = serde_json::from_slice::<Json>(&bytes) else {
                continue;
            };
            let attrs = if attributes_inside {
                doc.get("attributes")
            } else {
                Some(&doc)
            };
            if let Some(p) = attrs.and_then(|a| a.get(PROVENANCE_ATTRIBUTE)) {
                return Ok(Some(match p {
                    Json::String(s) => serde_json::from_str(s).unwrap_or_else(|_| p.clone()),
                    other => other.clone(),
                }));
            }
            break;
        }
        Ok(dataset
            .root
            .attr(PROVENANCE_ATTRIBUTE)
            .and_then(provenance_from_attr))
    }
}

/// Any [`Reader`] as a destination: a virtual dataset (kerchunk
/// references) read back through arco's own reference reader.
pub struct ReaderDestination {
    reader: Box<dyn Reader>,
}

impl ReaderDestination {
    /// Wrap `reader`.
    pub fn new(reader: Box<dyn Reader>) -> Self {
        ReaderDestination { reader }
    }
}

impl ReadableDestination for ReaderDestination {
    fn location(&self) -> String {
        self.reader.dataset().source.clone()
    }

    fn dataset(&self) -> Result<Dataset> {
        Ok(self.reader.dataset().clone())
    }

    fn read(&self, path: &str, selection: &Selection) -> Result<NdArray> {
        Ok(self.reader.read(path, selection)?)
    }
}

/// The root attribute in which `arco virtualize` records its sources.
pub const SOURCES_ATTRIBUTE: &str = "arco:sources";

/// Freshness of a virtual dataset: compare every `arco:sources` entry
/// (`location`, `url`, `size`, `mtime` or `etag`) with the file as it is now,
/// without reading its data. A source that cannot be opened, or whose size,
/// modification time or ETag differs, is one [`SourceChange`] naming it and
/// both values.
pub fn check_virtual_sources(
    records: &Json,
    options: &arco_storage::OpenOptions,
) -> Vec<SourceChange> {
    let mut changes = Vec::new();
    let Some(list) = records.as_array() else {
        return changes;
    };
    for r in list {
        let location = r
            .get("location")
            .and_then(Json::as_str)
            .or_else(|| r.get("url").and_then(Json::as_str))
            .unwrap_or("?")
            .to_string();
        let url = r
            .get("url")
            .and_then(Json::as_str)
            .unwrap_or(&location)
            .to_string();
        let changed = |message: String| SourceChange {
            kind: SourceChangeKind::Changed,
            location: url.clone(),
            recorded: Some(location.clone()),
            message,
        };
        let src = match arco_storage::open(&url, options) {
            Ok(s) => s,
            Err(e) => {
                changes.push(changed(format!("cannot be opened now: {e}")));
                continue;
            }
        };
        let stamp = crate::SourceStamp::of_source(&url, src.as_ref());
        let mut problems = Vec::new();
        if let Some(size) = r.get("size").and_then(Json::as_u64) {
            if size != stamp.size {
                problems.push(format!(
                    "size was {size} bytes when the references were made, now {}",
                    stamp.size
                ));
            }
        }
        if let (Some(want), Some(got)) = (r.get("mtime").and_then(Json::as_u64), stamp.modified) {
            if want != got {
                problems.push(format!(
                    "modification time was {} when the references were made, now {}",
                    crate::provenance::iso_from_unix(want),
                    crate::provenance::iso_from_unix(got)
                ));
            }
        }
        if let (Some(want), Some(got)) = (r.get("etag").and_then(Json::as_str), &stamp.etag) {
            if want != got {
                problems.push(format!(
                    "ETag was {want} when the references were made, now {got}"
                ));
            }
        }
        if !problems.is_empty() {
            changes.push(changed(problems.join("; ")));
        }
    }
    changes
}

/// A destination opened for verification: its hierarchy and provenance are
/// read once, its arrays on demand.
pub struct DestView {
    dest: Box<dyn ReadableDestination>,
    location: String,
    dataset: Dataset,
    provenance: Option<Json>,
}

impl fmt::Debug for DestView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DestView")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl DestView {
    /// Read `dest`'s hierarchy and provenance.
    pub fn new(dest: Box<dyn ReadableDestination>) -> Result<Self> {
        let location = dest.location();
        let dataset = dest.dataset()?;
        let provenance = dest.provenance(&dataset)?;
        Ok(DestView {
            dest,
            location,
            dataset,
            provenance,
        })
    }

    /// Open a Zarr store (v2 or v3) at `location`.
    pub fn open_zarr(location: &str, options: &arco_storage::OpenOptions) -> Result<Self> {
        let store = arco_zarr::ZarrStore::open(location, options)?;
        DestView::new(Box::new(store))
    }

    /// Where the destination is.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The destination's hierarchy.
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// The recorded provenance, if any.
    pub fn provenance(&self) -> Option<&Json> {
        self.provenance.as_ref()
    }

    /// Stored values of the array at `path` in `selection`.
    pub fn read(&self, path: &str, selection: &Selection) -> Result<NdArray> {
        self.dest.read(path, selection)
    }
}

/// How to verify.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Differences listed per variable; all are counted (default 20).
    pub max_differences: usize,
    /// Memory for the values held at once, both sides and all threads
    /// together (default 1 GiB); each block is also at most [`MAX_BLOCK_BYTES`].
    pub memory_bytes: u64,
    /// The sources' bytes, in the order given to the conversion, for the
    /// freshness check against the recorded provenance. Empty: not checked.
    pub sources: Vec<DynSource>,
    /// Also compare SHA-256 digests with the recorded ones (reads every
    /// source in full); sizes are always compared.
    pub checksum: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            max_differences: DEFAULT_MAX_DIFFERENCES,
            memory_bytes: DEFAULT_MEMORY_BYTES,
            sources: Vec::new(),
            checksum: false,
        }
    }
}

/// Which side of the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The source files.
    Source,
    /// The converted output.
    Destination,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Source => "source",
            Side::Destination => "destination",
        })
    }
}

/// One thing that differs. Values are JSON: numbers, strings, and the
/// strings `"NaN"`, `"Infinity"`, `"-Infinity"` for non-finite floats.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Difference {
    /// An element differs.
    Value {
        /// Destination array path, such as `/t2m` or `/Events/mean`.
        variable: String,
        /// The element's full n-dimensional index.
        index: Vec<u64>,
        /// The source's value.
        source: Json,
        /// The destination's value.
        destination: Json,
    },
    /// An attribute differs, is missing from the destination (`destination`
    /// is null) or is only in the destination (`source` is null).
    Attribute {
        /// Group or variable path (`/` for global attributes).
        path: String,
        /// Attribute name.
        attribute: String,
        /// The source's value.
        source: Option<Json>,
        /// The destination's value.
        destination: Option<Json>,
    },
    /// The dimension names differ.
    Dimensions {
        /// Destination array path.
        variable: String,
        /// The source's dimension names.
        source: Vec<String>,
        /// The destination's dimension names.
        destination: Vec<String>,
    },
    /// The shapes differ (values are then not compared).
    Shape {
        /// Destination array path.
        variable: String,
        /// The source's shape.
        source: Vec<u64>,
        /// The destination's shape.
        destination: Vec<u64>,
    },
    /// The stored element types differ.
    Dtype {
        /// Destination array path.
        variable: String,
        /// The source's type.
        source: String,
        /// The destination's type.
        destination: String,
    },
    /// An overview level is missing from the root's declaration, declared
    /// without being called for, or its convention is not registered.
    Level {
        /// The level's group name (`1`, `2`, ...), `*` for the whole pyramid.
        level: String,
        /// What is wrong.
        message: String,
    },
    /// A block could not be read, or a read gave the wrong number of values.
    Unreadable {
        /// Destination array path.
        variable: String,
        /// Which side failed.
        side: Side,
        /// First element of the block.
        start: Vec<u64>,
        /// Shape of the block.
        shape: Vec<u64>,
        /// What went wrong.
        message: String,
    },
}

fn show_json(v: &Json) -> String {
    v.to_string()
}

fn show_opt(v: &Option<Json>) -> String {
    v.as_ref().map(show_json).unwrap_or_else(|| "absent".into())
}

fn show_index(index: &[u64]) -> String {
    let parts: Vec<String> = index.iter().map(u64::to_string).collect();
    format!("[{}]", parts.join(", "))
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Difference::Value {
                variable,
                index,
                source,
                destination,
            } => write!(
                f,
                "{variable}{}: source {}, destination {}",
                show_index(index),
                show_json(source),
                show_json(destination)
            ),
            Difference::Attribute {
                path,
                attribute,
                source,
                destination,
            } => {
                let owner = if path == "/" {
                    "global attribute".to_string()
                } else {
                    format!("{path}: attribute")
                };
                match (source, destination) {
                    (Some(s), None) => write!(
                        f,
                        "{owner} {attribute} = {} is missing from the destination",
                        show_json(s)
                    ),
                    (None, Some(d)) => write!(
                        f,
                        "{owner} {attribute} = {} is only in the destination",
                        show_json(d)
                    ),
                    _ => write!(
                        f,
                        "{owner} {attribute}: source {}, destination {}",
                        show_opt(source),
                        show_opt(destination)
                    ),
                }
            }
            Difference::Dimensions {
                variable,
                source,
                destination,
            } => write!(
                f,
                "{variable}: dimensions ({}) in the source, ({}) in the destination",
                source.join(", "),
                destination.join(", ")
            ),
            Difference::Shape {
                variable,
                source,
                destination,
            } => write!(
                f,
                "{variable}: shape {} in the source, {} in the destination (values not compared)",
                show_index(source),
                show_index(destination)
            ),
            Difference::Dtype {
                variable,
                source,
                destination,
            } => write!(
                f,
                "{variable}: dtype {source} in the source, {destination} in the destination"
            ),
            Difference::Level { level, message } => {
                if level == "*" {
                    write!(f, "overview levels: {message}")
                } else {
                    write!(f, "overview level /{level}: {message}")
                }
            }
            Difference::Unreadable {
                variable,
                side,
                start,
                shape,
                message,
            } => write!(
                f,
                "{variable}: block at {} of shape {} could not be compared ({side}): {message}",
                show_index(start),
                show_index(shape)
            ),
        }
    }
}

/// How the sources differ from the inputs recorded at conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SourceChangeKind {
    /// The source's size or SHA-256 differs from the recorded one.
    Changed,
    /// The source is not among the recorded inputs.
    NotRecorded,
    /// A recorded input was not given.
    NotGiven,
}

/// A source whose bytes are no longer those recorded at conversion, or a
/// source list that differs from the recorded one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceChange {
    /// What kind of change.
    pub kind: SourceChangeKind,
    /// The source as given now (the recorded location for `not_given`).
    pub location: String,
    /// The input recorded in the provenance, if one was matched.
    pub recorded: Option<String>,
    /// What differs, in words.
    pub message: String,
}

impl fmt::Display for SourceChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            SourceChangeKind::Changed => "source changed since conversion",
            SourceChangeKind::NotRecorded | SourceChangeKind::NotGiven => {
                "sources differ from the conversion's"
            }
        };
        write!(f, "{what}: {}: {}", self.location, self.message)
    }
}

/// What was compared for one source variable.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariableReport {
    /// Source variable path.
    pub variable: String,
    /// The destination arrays it maps to (one per field for compounds).
    pub arrays: Vec<String>,
    /// Elements compared (over all its arrays).
    pub elements: u64,
    /// Elements that differ (all of them, not only those listed).
    pub value_differences: u64,
    /// Elements equal but for the sign of a zero (`-0.0` against `0.0`).
    pub signed_zeros: u64,
}

/// Everything [`verify`] found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifyReport {
    /// True when nothing differs, nothing is missing or extra, and no source
    /// changed since the conversion.
    pub ok: bool,
    /// The source, as its reader names it.
    pub source: String,
    /// The destination's location.
    pub destination: String,
    /// Source variables examined.
    pub variables_checked: u64,
    /// Elements compared, over all variables.
    pub elements_checked: u64,
    /// Attributes compared (source attributes, over all groups and variables).
    pub attributes_checked: u64,
    /// Every difference found, including those past the per-variable cap.
    pub difference_count: u64,
    /// The differences, at most [`VerifyOptions::max_differences`] value
    /// differences per array, the smallest indices first.
    pub differences: Vec<Difference>,
    /// Source groups and variables (destination paths) absent from the destination.
    pub missing: Vec<String>,
    /// Destination arrays that no source variable maps to.
    pub extra: Vec<String>,
    /// Per-variable counts.
    pub variables: Vec<VariableReport>,
    /// Sources that changed since the conversion.
    pub source_changes: Vec<SourceChange>,
    /// Per overview level (`--pyramid` outputs): what was recomputed from
    /// the level below and compared.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pyramid: Vec<LevelReport>,
    /// Observations that are not differences (signed zeros, type mappings,
    /// what could not be checked).
    pub notes: Vec<String>,
}

impl VerifyReport {
    /// Number of problems: differences, missing and extra items, changed sources.
    pub fn problem_count(&self) -> u64 {
        self.difference_count
            + self.missing.len() as u64
            + self.extra.len() as u64
            + self.source_changes.len() as u64
    }
}

/// Compare `source` (already concatenated when there are several files)
/// with `dest`, value by value and attribute by attribute.
///
/// ```no_run
/// use arco_engine::verify::{verify, DestView, VerifyOptions};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let opts = arco_storage::OpenOptions::default();
/// let reader = arco_formats::open(arco_storage::open("era5.nc", &opts)?)?;
/// let dest = DestView::open_zarr("era5.zarr", &opts)?;
/// let report = verify(reader.as_ref(), &dest, &VerifyOptions::default())?;
/// for d in &report.differences {
///     println!("{d}");
/// }
/// assert!(report.ok);
/// # Ok(()) }
/// ```
pub fn verify(
    source: &dyn Reader,
    dest: &DestView,
    options: &VerifyOptions,
) -> Result<VerifyReport> {
    let src_ds = source.dataset();
    let dst_ds = dest.dataset();
    let mut state = State::new(dst_ds, options);
    // Overview levels: their declaration at the root is not a difference.
    let pyramid_options = pyramid::options_of(dest);
    state.pyramid = pyramid_options.is_some();

    // Groups and their attributes.
    let mut src_groups = Vec::new();
    collect_groups(&src_ds.root, &mut src_groups);
    for g in &src_groups {
        let path = norm(&g.path);
        match state.dst_groups.get(path.as_str()).copied() {
            Some(dg) => state.compare_attributes(&path, &g.attributes, &dg.attributes, None),
            None => state.missing.push(path),
        }
    }

    // Variables: structure, attributes, values.
    let budget = block_budget(options.memory_bytes);
    // Variables the conversion left out on purpose (`--drop`, recorded in the provenance).
    let dropped: Vec<String> = dest
        .provenance()
        .and_then(|p| p.pointer("/options/drop"))
        .and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    for var in src_ds.root.all_variables() {
        if crate::plan::is_dropped(var, &dropped) {
            state.notes.push(format!(
                "{} was left out of the conversion on purpose (--drop); not compared",
                var.path
            ));
            continue;
        }
        state.variables_checked += 1;
        state.check_variable(source, dest, var, budget);
    }

    // Overview levels, each recomputed from the level below.
    let levels = match &pyramid_options {
        Some((opts, note)) => {
            if let Some(n) = note {
                state.notes.push(n.clone());
            }
            pyramid::check(&mut state, source, dest, opts, &dropped, budget)
        }
        None => Vec::new(),
    };

    // Destination arrays nothing maps to.
    let mut extra: Vec<String> = state
        .dst_vars
        .keys()
        .filter(|p| !state.matched.contains(*p))
        .cloned()
        .collect();
    extra.sort();

    // Freshness.
    let source_changes = match dest.provenance() {
        Some(p) if !options.sources.is_empty() => {
            check_sources(p, &options.sources, options.checksum)?
        }
        None if !options.sources.is_empty() => {
            state.notes.push(format!(
                "{} records no {PROVENANCE_ATTRIBUTE}: whether the sources changed since the conversion was not checked",
                dest.location()
            ));
            Vec::new()
        }
        _ => Vec::new(),
    };

    let mut report = VerifyReport {
        ok: false,
        source: src_ds.source.clone(),
        destination: dest.location().to_string(),
        variables_checked: state.variables_checked,
        elements_checked: state.elements_checked,
        attributes_checked: state.attributes_checked,
        difference_count: state.difference_count,
        differences: state.differences,
        missing: state.missing,
        extra,
        variables: state.variables,
        source_changes,
        pyramid: levels,
        notes: state.notes,
    };
    report.ok = report.problem_count() == 0;
    Ok(report)
}

/// Bytes per block for one side, from the whole budget: one block per rayon
/// thread (plus one), two sides per block, and each side held twice while it
/// is read (the decoded bytes, then the typed values).
fn block_budget(memory_bytes: u64) -> u64 {
    let threads = rayon::current_num_threads() as u64 + 1;
    (memory_bytes / (4 * threads)).clamp(1 << 10, MAX_BLOCK_BYTES)
}

fn collect_groups<'a>(g: &'a Group, out: &mut Vec<&'a Group>) {
    out.push(g);
    for c in &g.groups {
        collect_groups(c, out);
    }
}

/// A path with one leading `/` and no trailing one (`/` for the root).
fn norm(path: &str) -> String {
    let trimmed = path.trim_matches('/');
    format!("/{trimmed}")
}

fn join(parent: &str, name: &str) -> String {
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

/// One destination array a source variable maps to.
#[derive(Debug, Clone)]
struct Leaf {
    /// Destination path.
    path: String,
    /// Field names from the source's compound value down to this column.
    fields: Vec<String>,
    /// The source's stored type of this column.
    dtype: DType,
}

/// The destination arrays of `var`: itself, or one per (nested) compound field.
fn leaves(var: &Variable) -> Vec<Leaf> {
    fn walk(path: String, fields: Vec<String>, dtype: &DType, out: &mut Vec<Leaf>) {
        match dtype {
            DType::Compound {
                fields: members, ..
            } => {
                for m in members {
                    let mut f = fields.clone();
                    f.push(m.name.clone());
                    walk(join(&path, &m.name), f, &m.dtype, out);
                }
            }
            other => out.push(Leaf {
                path,
                fields,
                dtype: other.clone(),
            }),
        }
    }
    let mut out = Vec::new();
    walk(norm(&var.path), Vec::new(), &var.dtype, &mut out);
    out
}

/// The column of `values` at `fields` (itself when `fields` is empty).
fn column<'a>(values: &'a Values, fields: &[String]) -> Option<&'a Values> {
    let Some((first, rest)) = fields.split_first() else {
        return Some(values);
    };
    match values {
        Values::Compound(cols) => cols
            .iter()
            .find(|(n, _)| n == first)
            .and_then(|(_, c)| column(c, rest)),
        _ => None,
    }
}

/// Running totals and findings.
struct State<'a> {
    dst_groups: HashMap<String, &'a Group>,
    dst_vars: HashMap<String, &'a Variable>,
    matched: BTreeSet<String>,
    max_differences: usize,
    variables_checked: u64,
    elements_checked: u64,
    attributes_checked: u64,
    difference_count: u64,
    differences: Vec<Difference>,
    missing: Vec<String>,
    variables: Vec<VariableReport>,
    notes: Vec<String>,
    /// The destination holds overview levels (declared at the root).
    pyramid: bool,
}

impl<'a> State<'a> {
    fn new(dst: &'a Dataset, options: &VerifyOptions) -> Self {
        let mut groups = Vec::new();
        collect_groups(&dst.root, &mut groups);
        let dst_groups = groups.into_iter().map(|g| (norm(&g.path), g)).collect();
        let dst_vars = dst
            .root
            .all_variables()
            .into_iter()
            .map(|v| (norm(&v.path), v))
            .collect();
        State {
            dst_groups,
            dst_vars,
            matched: BTreeSet::new(),
            max_differences: options.max_differences,
            variables_checked: 0,
            elements_checked: 0,
            attributes_checked: 0,
            difference_count: 0,
            differences: Vec::new(),
            missing: Vec::new(),
            variables: Vec::new(),
            notes: Vec::new(),
            pyramid: false,
        }
    }

    fn differ(&mut self, d: Difference) {
        self.difference_count += 1;
        self.differences.push(d);
    }

    fn compare_attributes(
        &mut self,
        path: &str,
        src: &[Attribute],
        dst: &[Attribute],
        dst_fill: Option<&AttrValue>,
    ) {
        for a in src {
            // A source that arco made (a virtual dataset, a converted
            // store) has its own provenance, which the destination's replaces.
            if a.name == PROVENANCE_ATTRIBUTE {
                continue;
            }
            self.attributes_checked += 1;
            let found = dst.iter().find(|d| d.name == a.name).map(|d| &d.value);
            let found = match (found, a.name.as_str()) {
                (None, "_FillValue") => dst_fill,
                (f, _) => f,
            };
            match found {
                Some(d) if attr_equal(&a.value, d) => {}
                other => self.differ(Difference::Attribute {
                    path: path.to_string(),
                    attribute: a.name.clone(),
                    source: Some(attr_json(&a.value)),
                    destination: other.map(attr_json),
                }),
            }
        }
        for d in dst {
            if is_bookkeeping(&d.name) || src.iter().any(|a| a.name == d.name) {
                continue;
            }
            if self.pyramid
                && path == "/"
                && (d.name == arco_zarr::MULTISCALES_ATTRIBUTE
                    || d.name == arco_zarr::CONVENTIONS_ATTRIBUTE)
            {
                continue;
            }
            self.differ(Difference::Attribute {
                path: path.to_string(),
                attribute: d.name.clone(),
                source: None,
                destination: Some(attr_json(&d.value)),
            });
        }
    }

    fn check_variable(
        &mut self,
        source: &dyn Reader,
        dest: &DestView,
        var: &Variable,
        budget: u64,
    ) {
        let vpath = norm(&var.path);
        let whole = self.dst_vars.get(vpath.as_str()).copied();
        // A compound kept as one array is compared as one; otherwise split.
        let leaves = match (&var.dtype, whole) {
            (DType::Compound { .. }, Some(_)) => vec![Leaf {
                path: vpath.clone(),
                fields: Vec::new(),
                dtype: var.dtype.clone(),
            }],
            _ => leaves(var),
        };
        let is_split = leaves.len() != 1 || leaves.first().map(|l| l.path != vpath).unwrap_or(true);

        // Attributes: on the array itself, or on the group a compound became.
        let attr_target: Option<(&'a [Attribute], Option<&'a AttrValue>)> = match whole {
            Some(dv) => Some((&dv.attributes, dv.fill_value.as_ref())),
            None if is_split => match self.dst_groups.get(vpath.as_str()).copied() {
                Some(g) => Some((&g.attributes, None)),
                None => leaves
                    .first()
                    .and_then(|l| self.dst_vars.get(l.path.as_str()).copied())
                    .map(|dv| (dv.attributes.as_slice(), None)),
            },
            None => None,
        };
        if let Some((attrs, fill)) = attr_target {
            self.compare_attributes(&vpath, &var.attributes, attrs, fill);
        }

        // Structure, per destination array.
        let mut present = Vec::new();
        for leaf in leaves {
            let Some(dv) = self.dst_vars.get(leaf.path.as_str()).copied() else {
                self.missing.push(leaf.path.clone());
                continue;
            };
            self.matched.insert(leaf.path.clone());
            if dv.dims != var.dims {
                self.differ(Difference::Dimensions {
                    variable: leaf.path.clone(),
                    source: var.dims.clone(),
                    destination: dv.dims.clone(),
                });
            }
            match dtype_match(&leaf.dtype, &dv.dtype) {
                DtypeMatch::Same => {}
                DtypeMatch::Mapped => self.notes.push(format!(
                    "{}: {} in the source is stored as {} in the destination",
                    leaf.path, leaf.dtype, dv.dtype
                )),
                DtypeMatch::Differs => self.differ(Difference::Dtype {
                    variable: leaf.path.clone(),
                    source: leaf.dtype.name(),
                    destination: dv.dtype.name(),
                }),
            }
            if dv.shape != var.shape {
                self.differ(Difference::Shape {
                    variable: leaf.path.clone(),
                    source: var.shape.clone(),
                    destination: dv.shape.clone(),
                });
                continue;
            }
            present.push((leaf, dv));
        }
        if present.is_empty() {
            return;
        }

        // Values, block by block in parallel.
        let elem_bytes = present
            .iter()
            .map(|(l, dv)| {
                let s = l
                    .dtype
                    .size()
                    .map(|s| s as u64)
                    .unwrap_or(VARLEN_ELEMENT_BYTES);
                let d = dv
                    .dtype
                    .size()
                    .map(|s| s as u64)
                    .unwrap_or(VARLEN_ELEMENT_BYTES);
                s.max(d)
            })
            .sum::<u64>()
            .max(
                var.dtype
                    .size()
                    .map(|s| s as u64)
                    .unwrap_or(VARLEN_ELEMENT_BYTES),
            );
        let dst_chunk = present.first().and_then(|(_, dv)| dv.chunk_shape.clone());
        let block = if var.dtype.size().is_none() {
            // Variable-length values are read whole by the source readers.
            var.shape.iter().map(|&n| n.max(1)).collect()
        } else {
            block_shape(
                &var.shape,
                var.chunk_shape.as_deref(),
                dst_chunk.as_deref(),
                elem_bytes,
                budget,
            )
        };
        let grid: Vec<u64> = var
            .shape
            .iter()
            .zip(&block)
            .map(|(n, b)| n.div_ceil(*b))
            .collect();
        let count: u64 = grid.iter().product();
        let cap = self.max_differences;
        let leaves_only: Vec<&Leaf> = present.iter().map(|(l, _)| l).collect();
        let job = BlockJob {
            source,
            dest,
            variable: &var.path,
            leaves: &leaves_only,
            cap,
            read_options: arco_formats::read::ReadOptions {
                max_batch_bytes: usize::try_from(budget).unwrap_or(usize::MAX),
                ..arco_formats::read::ReadOptions::default()
            },
        };
        let tallies = (0..count)
            .into_par_iter()
            .map(|b| {
                let (start, shape) = block_at(b, &grid, &block, &var.shape);
                job.compare(&start, &shape)
            })
            .reduce(
                || vec![Tally::default(); leaves_only.len()],
                |a, b| a.into_iter().zip(b).map(|(x, y)| x.merge(y, cap)).collect(),
            );

        let mut report = VariableReport {
            variable: vpath,
            arrays: present.iter().map(|(l, _)| l.path.clone()).collect(),
            elements: 0,
            value_differences: 0,
            signed_zeros: 0,
        };
        for ((leaf, _), t) in present.iter().zip(tallies) {
            report.elements += t.elements;
            report.value_differences += t.count;
            report.signed_zeros += t.signed_zeros;
            self.elements_checked += t.elements;
            self.difference_count += t.count + t.other_count;
            if t.count > t.diffs.len() as u64 {
                self.notes.push(format!(
                    "{}: {} values differ, the first {} are listed",
                    leaf.path,
                    t.count,
                    t.diffs.len()
                ));
            }
            if t.signed_zeros > 0 {
                self.notes.push(format!(
                    "{}: {} values are -0.0 on one side and 0.0 on the other (counted as equal)",
                    leaf.path, t.signed_zeros
                ));
            }
            self.differences.extend(t.other);
            self.differences.extend(t.diffs);
        }
        self.variables.push(report);
    }
}

/// Attributes a destination may add that are not differences: arco's own,
/// Zarr v2's dimension list, NCZarr's bookkeeping.
fn is_bookkeeping(name: &str) -> bool {
    name.starts_with("arco:")
        || name == "_ARRAY_DIMENSIONS"
        || name.starts_with("_nczarr")
        || name.starts_with("_NCZARR")
}

/// How two stored types relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DtypeMatch {
    /// The same type.
    Same,
    /// Different names for the same stored values (an enum and its base
    /// type, NetCDF `char` as bytes, fixed-size strings as strings).
    Mapped,
    /// Different.
    Differs,
}

fn dtype_match(src: &DType, dst: &DType) -> DtypeMatch {
    if src == dst {
        return DtypeMatch::Same;
    }
    let base = |d: &DType| match d {
        DType::Enum { base, .. } => (**base).clone(),
        other => other.clone(),
    };
    let (s, d) = (base(src), base(dst));
    if s == d {
        return DtypeMatch::Mapped;
    }
    match (&s, &d) {
        (DType::Char, DType::U8 | DType::I8 | DType::FixedString { size: 1 })
        | (DType::U8 | DType::I8 | DType::FixedString { size: 1 }, DType::Char)
        | (DType::FixedString { .. }, DType::String | DType::FixedString { .. })
        | (DType::String, DType::FixedString { .. }) => DtypeMatch::Mapped,
        _ => DtypeMatch::Differs,
    }
}

/// The block shape for comparing an array of `shape`: aligned with both the
/// source's and the destination's chunk grids where possible (so no chunk is
/// decoded twice), grown from the innermost dimension outwards while it fits
/// `max_bytes`, and shrunk from the outermost when one aligned block does not.
pub fn block_shape(
    shape: &[u64],
    src_chunk: Option<&[u64]>,
    dst_chunk: Option<&[u64]>,
    elem_bytes: u64,
    max_bytes: u64,
) -> Vec<u64> {
    let rank = shape.len();
    let chunk_at = |c: Option<&[u64]>, d: usize| -> u64 {
        c.filter(|c| c.len() == rank)
            .map(|c| c[d].max(1))
            .unwrap_or(1)
    };
    let elem = elem_bytes.max(1);
    let max_elems = (max_bytes / elem).max(1);
    let mut block: Vec<u64> = (0..rank)
        .map(|d| {
            let (a, b) = (chunk_at(src_chunk, d), chunk_at(dst_chunk, d));
            lcm(a, b).unwrap_or(a.max(b)).min(shape[d]).max(1)
        })
        .collect();
    let product = |b: &[u64]| b.iter().fold(1u64, |p, &x| p.saturating_mul(x));

    // Shrink, outermost first, keeping a multiple of the source chunk, then of
    // the destination chunk, when one fits.
    for d in 0..rank {
        let total = product(&block);
        if total <= max_elems {
            break;
        }
        let others = (total / block[d]).max(1);
        let room = (max_elems / others).max(1);
        let unit = [chunk_at(src_chunk, d), chunk_at(dst_chunk, d)]
            .into_iter()
            .find(|&u| u <= room)
            .unwrap_or(1);
        block[d] = ((room / unit) * unit).clamp(1, block[d]);
    }

    // Grow, innermost first, by whole multiples of the aligned extent.
    for d in (0..rank).rev() {
        let total = product(&block);
        if total >= max_elems || block[d] >= shape[d] {
            if total >= max_elems {
                break;
            }
            continue;
        }
        let others = (total / block[d]).max(1);
        let room = max_elems / others;
        let unit = block[d];
        let grown = ((room / unit) * unit).min(shape[d]);
        if grown > block[d] {
            block[d] = grown;
        }
        if block[d] < shape[d] {
            break;
        }
    }
    block
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a
}

fn lcm(a: u64, b: u64) -> Option<u64> {
    if a == 0 || b == 0 {
        return Some(a.max(b));
    }
    (a / gcd(a, b)).checked_mul(b)
}

/// Start and shape of block number `b` (C order) of a grid of blocks.
fn block_at(b: u64, grid: &[u64], block: &[u64], shape: &[u64]) -> (Vec<u64>, Vec<u64>) {
    let mut rem = b;
    let mut pos = vec![0u64; grid.len()];
    for d in (0..grid.len()).rev() {
        let g = grid[d].max(1);
        pos[d] = rem % g;
        rem /= g;
    }
    let start: Vec<u64> = pos.iter().zip(block).map(|(p, b)| p * b).collect();
    let extent = start
        .iter()
        .zip(block)
        .zip(shape)
        .map(|((s, b), n)| (*b).min(n.saturating_sub(*s)))
        .collect();
    (start, extent)
}

fn selection_of(start: &[u64], shape: &[u64]) -> Selection {
    Selection {
        dims: start
            .iter()
            .zip(shape)
            .map(|(&s, &n)| arco_core::DimSlice {
                start: s,
                stop: s + n,
                step: 1,
            })
            .collect(),
    }
}

/// The findings of one array over some blocks.
#[derive(Debug, Clone, Default)]
struct Tally {
    elements: u64,
    /// Value differences (all).
    count: u64,
    /// The listed value differences, the smallest indices, at most the cap.
    diffs: Vec<Difference>,
    signed_zeros: u64,
    /// Blocks that could not be compared (all listed: they are few).
    other: Vec<Difference>,
    other_count: u64,
}

impl Tally {
    fn merge(mut self, other: Tally, cap: usize) -> Tally {
        self.elements += other.elements;
        self.count += other.count;
        self.signed_zeros += other.signed_zeros;
        self.other_count += other.other_count;
        if !other.other.is_empty() {
            self.other.extend(other.other);
            self.other
                .sort_by(|a, b| block_start(a).cmp(block_start(b)));
            self.other.truncate(cap.max(1));
        }
        if !other.diffs.is_empty() {
            self.diffs.extend(other.diffs);
            self.diffs
                .sort_by(|a, b| value_index(a).cmp(value_index(b)));
            self.diffs.truncate(cap);
        }
        self
    }

    fn unreadable(&mut self, d: Difference) {
        self.other_count += 1;
        self.other.push(d);
    }
}

fn block_start(d: &Difference) -> &[u64] {
    match d {
        Difference::Unreadable { start, .. } => start,
        _ => &[],
    }
}

fn value_index(d: &Difference) -> &[u64] {
    match d {
        Difference::Value { index, .. } => index,
        _ => &[],
    }
}

/// What every block of one source variable is compared with.
struct BlockJob<'a> {
    source: &'a dyn Reader,
    dest: &'a DestView,
    /// Source variable path.
    variable: &'a str,
    /// Its destination arrays.
    leaves: &'a [&'a Leaf],
    /// Value differences listed per array.
    cap: usize,
    /// Limits of one source read.
    read_options: arco_formats::read::ReadOptions,
}

impl BlockJob<'_> {
    /// Read the block at `start` of `shape` from both sides and compare
    /// every destination array.
    fn compare(&self, start: &[u64], shape: &[u64]) -> Vec<Tally> {
        compare_block(self, start, shape)
    }
}

fn compare_block(job: &BlockJob<'_>, start: &[u64], shape: &[u64]) -> Vec<Tally> {
    let (source, dest, variable, leaves, cap) =
        (job.source, job.dest, job.variable, job.leaves, job.cap);
    let mut tallies = vec![Tally::default(); leaves.len()];
    let selection = selection_of(start, shape);
    let unreadable = |leaf: &Leaf, side: Side, message: String| Difference::Unreadable {
        variable: leaf.path.clone(),
        side,
        start: start.to_vec(),
        shape: shape.to_vec(),
        message,
    };
    let src = match source.read_with(variable, &selection, &job.read_options) {
        Ok(a) => a,
        Err(e) => {
            for (t, leaf) in tallies.iter_mut().zip(leaves) {
                t.unreadable(unreadable(leaf, Side::Source, e.to_string()));
            }
            return tallies;
        }
    };
    let expected = selection.element_count();
    for (t, leaf) in tallies.iter_mut().zip(leaves) {
        let Some(src_col) = column(&src.values, &leaf.fields) else {
            t.unreadable(unreadable(
                leaf,
                Side::Source,
                format!("the source gave no field {}", leaf.fields.join("/")),
            ));
            continue;
        };
        let dst = match dest.read(&leaf.path, &selection) {
            Ok(a) => a,
            Err(e) => {
                t.unreadable(unreadable(leaf, Side::Destination, e.to_string()));
                continue;
            }
        };
        for (side, n) in [
            (Side::Source, src_col.len()),
            (Side::Destination, dst.values.len()),
        ] {
            if n as u64 != expected {
                t.unreadable(unreadable(
                    leaf,
                    side,
                    format!("{n} values were read for a block of {expected}"),
                ));
            }
        }
        if !t.other.is_empty() {
            continue;
        }
        let mut ctx = Compare {
            variable: &leaf.path,
            start,
            shape,
            cap,
            tally: t,
        };
        ctx.values(src_col, &dst.values);
    }
    tallies
}

/// Outcome of comparing two elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Same,
    SignedZero,
    Differs,
}

fn eq_f64(a: f64, b: f64) -> Cmp {
    if a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()) {
        Cmp::Same
    } else if a == b {
        Cmp::SignedZero
    } else {
        Cmp::Differs
    }
}

fn eq_f32(a: f32, b: f32) -> Cmp {
    if a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()) {
        Cmp::Same
    } else if a == b {
        Cmp::SignedZero
    } else {
        Cmp::Differs
    }
}

/// A float as JSON: a number, or `"NaN"`, `"Infinity"`, `"-Infinity"`.
fn float_json(x: f64) -> Json {
    if x.is_nan() {
        Json::String("NaN".into())
    } else if x.is_infinite() {
        Json::String(if x > 0.0 { "Infinity" } else { "-Infinity" }.into())
    } else {
        serde_json::Number::from_f64(x)
            .map(Json::Number)
            .unwrap_or(Json::Null)
    }
}

/// A single-precision float as JSON, by its shortest decimal form.
fn f32_json(x: f32) -> Json {
    if !x.is_finite() {
        return float_json(f64::from(x));
    }
    float_json(x.to_string().parse::<f64>().unwrap_or(f64::from(x)))
}

/// Element `i` of `v` as JSON.
fn element_json(v: &Values, i: usize) -> Json {
    match v {
        Values::Bool(x) => x.get(i).map(|b| Json::Bool(*b)).unwrap_or(Json::Null),
        Values::I8(x) => x.get(i).map(|n| Json::from(*n)).unwrap_or(Json::Null),
        Values::I16(x) => x.get(i).map(|n| Json::from(*n)).unwrap_or(Json::Null),
        Values::I32(x) => x.get(i).map(|n| Json::from(*n)).unwrap_or(Json::Null),
        Values::I64(x) => x.get(i).map(|n| Json::from(*n)).unwrap_or(Json::Null),
        Values::U8(x) => x.get(i).map(|n| Json::from(*n)).unwrap_or(Json::Null),
        Values::U16(x) => x.get(i).map(|n| Json::from(*n)).unwrap_or(Json::Null),
        Values::U32(x) => x.get(i).map(|n| Json::from(*n)).unwrap_or(Json::Null),
        Values::U64(x) => x.get(i).map(|n| Json::from(*n)).unwrap_or(Json::Null),
        Values::F32(x) => x.get(i).map(|n| f32_json(*n)).unwrap_or(Json::Null),
        Values::F64(x) => x.get(i).map(|n| float_json(*n)).unwrap_or(Json::Null),
        Values::Str(x) => x
            .get(i)
            .map(|s| Json::String(s.clone()))
            .unwrap_or(Json::Null),
        Values::Opaque { size, bytes } => {
            let size = (*size).max(1);
            bytes
                .get(i * size..(i + 1) * size)
                .map(|b| Json::String(b.iter().map(|x| format!("{x:02x}")).collect()))
                .unwrap_or(Json::Null)
        }
        Values::Compound(cols) => Json::Object(
            cols.iter()
                .map(|(n, c)| (n.clone(), element_json(c, i)))
                .collect(),
        ),
        _ => Json::Null,
    }
}

/// One element in a form comparable across types (for the slow path).
#[derive(Debug, Clone, Copy)]
enum Scalar<'a> {
    Int(i128),
    Float(f64),
    Bool(bool),
    Str(&'a str),
    Bytes(&'a [u8]),
    Missing,
}

fn scalar(v: &Values, i: usize) -> Scalar<'_> {
    let int = |x: Option<i128>| x.map(Scalar::Int).unwrap_or(Scalar::Missing);
    match v {
        Values::Bool(x) => x
            .get(i)
            .map(|b| Scalar::Bool(*b))
            .unwrap_or(Scalar::Missing),
        Values::I8(x) => int(x.get(i).map(|n| i128::from(*n))),
        Values::I16(x) => int(x.get(i).map(|n| i128::from(*n))),
        Values::I32(x) => int(x.get(i).map(|n| i128::from(*n))),
        Values::I64(x) => int(x.get(i).map(|n| i128::from(*n))),
        Values::U8(x) => int(x.get(i).map(|n| i128::from(*n))),
        Values::U16(x) => int(x.get(i).map(|n| i128::from(*n))),
        Values::U32(x) => int(x.get(i).map(|n| i128::from(*n))),
        Values::U64(x) => int(x.get(i).map(|n| i128::from(*n))),
        Values::F32(x) => x
            .get(i)
            .map(|n| Scalar::Float(f64::from(*n)))
            .unwrap_or(Scalar::Missing),
        Values::F64(x) => x
            .get(i)
            .map(|n| Scalar::Float(*n))
            .unwrap_or(Scalar::Missing),
        Values::Str(x) => x.get(i).map(|s| Scalar::Str(s)).unwrap_or(Scalar::Missing),
        Values::Opaque { size, bytes } => {
            let size = (*size).max(1);
            bytes
                .get(i * size..(i + 1) * size)
                .map(Scalar::Bytes)
                .unwrap_or(Scalar::Missing)
        }
        _ => Scalar::Missing,
    }
}

fn scalar_eq(a: Scalar<'_>, b: Scalar<'_>) -> Cmp {
    let same = |x: bool| if x { Cmp::Same } else { Cmp::Differs };
    match (a, b) {
        (Scalar::Int(x), Scalar::Int(y)) => same(x == y),
        (Scalar::Float(x), Scalar::Float(y)) => eq_f64(x, y),
        (Scalar::Int(x), Scalar::Float(y)) | (Scalar::Float(y), Scalar::Int(x)) => {
            same(y.fract() == 0.0 && y.is_finite() && (y as i128) == x && (x as f64) == y)
        }
        (Scalar::Bool(x), Scalar::Bool(y)) => same(x == y),
        (Scalar::Bool(x), Scalar::Int(y)) | (Scalar::Int(y), Scalar::Bool(x)) => {
            same(i128::from(u8::from(x)) == y)
        }
        (Scalar::Str(x), Scalar::Str(y)) => same(x == y),
        (Scalar::Bytes(x), Scalar::Bytes(y)) => same(x == y),
        (Scalar::Str(s), Scalar::Bytes(b)) | (Scalar::Bytes(b), Scalar::Str(s)) => {
            same(trim_nul(s.as_bytes()) == trim_nul(b))
        }
        // NetCDF char as one byte against a one-character string.
        (Scalar::Str(s), Scalar::Int(n)) | (Scalar::Int(n), Scalar::Str(s)) => {
            let byte = u8::try_from(n)
                .ok()
                .or_else(|| i8::try_from(n).ok().map(|x| x as u8));
            let bytes = trim_nul(s.as_bytes());
            same(match byte {
                Some(0) => bytes.is_empty(),
                Some(b) => bytes == [b],
                None => false,
            })
        }
        _ => Cmp::Differs,
    }
}

fn trim_nul(b: &[u8]) -> &[u8] {
    let end = b.iter().rposition(|&x| x != 0).map(|p| p + 1).unwrap_or(0);
    &b[..end]
}

/// Comparison of one block of one array.
struct Compare<'a> {
    variable: &'a str,
    start: &'a [u64],
    shape: &'a [u64],
    cap: usize,
    tally: &'a mut Tally,
}

impl Compare<'_> {
    /// The full index of element `i` of the block.
    fn index(&self, i: usize) -> Vec<u64> {
        let mut rem = i as u64;
        let mut idx = vec![0u64; self.shape.len()];
        for d in (0..self.shape.len()).rev() {
            let n = self.shape[d].max(1);
            idx[d] = self.start[d] + rem % n;
            rem /= n;
        }
        idx
    }

    fn record(&mut self, i: usize, src: &Values, dst: &Values) {
        self.tally.count += 1;
        if self.tally.diffs.len() < self.cap {
            self.tally.diffs.push(Difference::Value {
                variable: self.variable.to_string(),
                index: self.index(i),
                source: element_json(src, i),
                destination: element_json(dst, i),
            });
        }
    }

    /// Compare slices of one type with `eq`.
    fn scan<T: Copy>(
        &mut self,
        a: &[T],
        b: &[T],
        eq: impl Fn(T, T) -> Cmp,
        src: &Values,
        dst: &Values,
    ) {
        self.tally.elements += a.len().min(b.len()) as u64;
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            match eq(*x, *y) {
                Cmp::Same => {}
                Cmp::SignedZero => self.tally.signed_zeros += 1,
                Cmp::Differs => self.record(i, src, dst),
            }
        }
    }

    /// Integer (and other exactly comparable) slices: a fast equality check first.
    fn exact<T: PartialEq + Copy>(&mut self, a: &[T], b: &[T], src: &Values, dst: &Values) {
        if a == b {
            self.tally.elements += a.len() as u64;
            return;
        }
        self.scan(
            a,
            b,
            |x, y| if x == y { Cmp::Same } else { Cmp::Differs },
            src,
            dst,
        );
    }

    fn values(&mut self, src: &Values, dst: &Values) {
        match (src, dst) {
            (Values::F32(a), Values::F32(b)) => self.scan(a, b, eq_f32, src, dst),
            (Values::F64(a), Values::F64(b)) => self.scan(a, b, eq_f64, src, dst),
            (Values::I8(a), Values::I8(b)) => self.exact(a, b, src, dst),
            (Values::I16(a), Values::I16(b)) => self.exact(a, b, src, dst),
            (Values::I32(a), Values::I32(b)) => self.exact(a, b, src, dst),
            (Values::I64(a), Values::I64(b)) => self.exact(a, b, src, dst),
            (Values::U8(a), Values::U8(b)) => self.exact(a, b, src, dst),
            (Values::U16(a), Values::U16(b)) => self.exact(a, b, src, dst),
            (Values::U32(a), Values::U32(b)) => self.exact(a, b, src, dst),
            (Values::U64(a), Values::U64(b)) => self.exact(a, b, src, dst),
            (Values::Bool(a), Values::Bool(b)) => self.exact(a, b, src, dst),
            (Values::Str(a), Values::Str(b)) => {
                self.tally.elements += a.len().min(b.len()) as u64;
                for (i, (x, y)) in a.iter().zip(b).enumerate() {
                    if x != y {
                        self.record(i, src, dst);
                    }
                }
            }
            (Values::Compound(a), Values::Compound(b)) => {
                // One element differs when any of its fields does.
                let n = src.len().min(dst.len());
                self.tally.elements += n as u64;
                for i in 0..n {
                    let same = a.len() == b.len()
                        && a.iter().all(|(name, col)| {
                            b.iter()
                                .find(|(m, _)| m == name)
                                .map(|(_, other)| element_same(col, other, i))
                                .unwrap_or(false)
                        });
                    if !same {
                        self.record(i, src, dst);
                    }
                }
            }
            _ => {
                let n = src.len().min(dst.len());
                self.tally.elements += n as u64;
                for i in 0..n {
                    match scalar_eq(scalar(src, i), scalar(dst, i)) {
                        Cmp::Same => {}
                        Cmp::SignedZero => self.tally.signed_zeros += 1,
                        Cmp::Differs => self.record(i, src, dst),
                    }
                }
            }
        }
    }
}

fn element_same(a: &Values, b: &Values, i: usize) -> bool {
    match (a, b) {
        (Values::Compound(x), Values::Compound(y)) => {
            x.len() == y.len()
                && x.iter().all(|(name, col)| {
                    y.iter()
                        .find(|(m, _)| m == name)
                        .map(|(_, other)| element_same(col, other, i))
                        .unwrap_or(false)
                })
        }
        _ => scalar_eq(scalar(a, i), scalar(b, i)) != Cmp::Differs,
    }
}

/// An attribute value as JSON (non-finite floats as strings, one element as a scalar).
fn attr_json(v: &AttrValue) -> Json {
    match v {
        AttrValue::Text(s) => Json::String(s.clone()),
        AttrValue::Array(values) => {
            let n = values.len();
            if n == 1 {
                element_json(values, 0)
            } else {
                Json::Array((0..n).map(|i| element_json(values, i)).collect())
            }
        }
    }
}

/// An attribute value by kind, for comparisons that allow widening.
#[derive(Debug, Clone)]
enum AttrKind {
    Text(Vec<String>),
    Int(Vec<i128>),
    /// Values, and whether they were single precision.
    Float(Vec<f64>, bool),
    Bool(Vec<bool>),
    Other(Json),
}

fn attr_kind(v: &AttrValue) -> AttrKind {
    let ints = |it: Vec<i128>| AttrKind::Int(it);
    match v {
        AttrValue::Text(s) => AttrKind::Text(vec![s.clone()]),
        AttrValue::Array(values) => match values {
            Values::Str(x) => AttrKind::Text(x.clone()),
            Values::I8(x) => ints(x.iter().map(|n| i128::from(*n)).collect()),
            Values::I16(x) => ints(x.iter().map(|n| i128::from(*n)).collect()),
            Values::I32(x) => ints(x.iter().map(|n| i128::from(*n)).collect()),
            Values::I64(x) => ints(x.iter().map(|n| i128::from(*n)).collect()),
            Values::U8(x) => ints(x.iter().map(|n| i128::from(*n)).collect()),
            Values::U16(x) => ints(x.iter().map(|n| i128::from(*n)).collect()),
            Values::U32(x) => ints(x.iter().map(|n| i128::from(*n)).collect()),
            Values::U64(x) => ints(x.iter().map(|n| i128::from(*n)).collect()),
            Values::F32(x) => AttrKind::Float(x.iter().map(|n| f64::from(*n)).collect(), true),
            Values::F64(x) => AttrKind::Float(x.clone(), false),
            Values::Bool(x) => AttrKind::Bool(x.clone()),
            other => AttrKind::Other(serde_json::to_value(other).unwrap_or(Json::Null)),
        },
    }
}

/// One float of the source against one of the destination: identical
/// (NaN equals NaN), or a single-precision source value stored as the double
/// that its shortest decimal form denotes (how JSON writers widen `f32`).
fn float_attr_eq(s: f64, s_single: bool, d: f64) -> bool {
    if s.to_bits() == d.to_bits() || (s.is_nan() && d.is_nan()) {
        return true;
    }
    if s_single && s.is_finite() {
        let single = s as f32;
        if let Ok(shortest) = single.to_string().parse::<f64>() {
            return shortest.to_bits() == d.to_bits();
        }
    }
    false
}

/// True when a destination attribute value equals the source's: same text,
/// same numbers (a wider type only with identical values, an integer as an
/// identical float), NaN equal to NaN (also written as the text `"NaN"`, as
/// Zarr's JSON does for non-finite numbers).
fn attr_equal(src: &AttrValue, dst: &AttrValue) -> bool {
    if src == dst {
        return true;
    }
    match (attr_kind(src), attr_kind(dst)) {
        (AttrKind::Text(a), AttrKind::Text(b)) => a == b,
        (AttrKind::Int(a), AttrKind::Int(b)) => a == b,
        (AttrKind::Float(a, single), AttrKind::Float(b, _)) => {
            a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| float_attr_eq(*x, single, *y))
        }
        (AttrKind::Int(a), AttrKind::Float(b, _)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(&b)
                    .all(|(x, y)| y.is_finite() && (*x as f64) == *y && (*y as i128) == *x)
        }
        (AttrKind::Float(a, _), AttrKind::Text(b)) => {
            a.len() == b.len()
                && a.iter().zip(&b).all(|(x, t)| match t.as_str() {
                    "NaN" => x.is_nan(),
                    "Infinity" => *x == f64::INFINITY,
                    "-Infinity" => *x == f64::NEG_INFINITY,
                    _ => false,
                })
        }
        (AttrKind::Bool(a), AttrKind::Bool(b)) => a == b,
        (AttrKind::Bool(a), AttrKind::Int(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(&b)
                    .all(|(x, y)| i128::from(u8::from(*x)) == *y)
        }
        (AttrKind::Other(a), AttrKind::Other(b)) => a == b,
        _ => false,
    }
}

/// One input as recorded in the provenance.
#[derive(Debug, Clone, PartialEq)]
struct RecordedInput {
    location: Option<String>,
    size: Option<u64>,
    sha256: Option<String>,
    etag: Option<String>,
}

/// The inputs listed in a provenance document: an array under `inputs` (or
/// `sources`) of objects with a location (`location`, `path`, `url`, `uri`
/// or `source`), a `size` (or `bytes`) and a `sha256`.
fn recorded_inputs(provenance: &Json) -> Vec<RecordedInput> {
    let list = ["inputs", "sources"]
        .iter()
        .find_map(|k| provenance.get(*k).and_then(Json::as_array));
    let Some(list) = list else {
        return Vec::new();
    };
    list.iter()
        .map(|entry| {
            let text = |keys: &[&str]| {
                keys.iter()
                    .find_map(|k| entry.get(*k).and_then(Json::as_str))
                    .map(str::to_string)
            };
            let location = match entry {
                Json::String(s) => Some(s.clone()),
                _ => text(&["location", "path", "url", "uri", "source"]),
            };
            let size = ["size", "bytes", "size_bytes"]
                .iter()
                .find_map(|k| entry.get(*k).and_then(Json::as_u64));
            let sha256 = text(&["sha256", "sha256sum", "checksum"]).map(|s| {
                s.trim_start_matches("sha256:")
                    .trim_start_matches("sha256-")
                    .to_ascii_lowercase()
            });
            let etag = text(&["etag"]);
            RecordedInput {
                location,
                size,
                sha256,
                etag,
            }
        })
        .collect()
}

fn file_name(location: &str) -> &str {
    location
        .trim_end_matches('/')
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(location)
}

/// Compare the sources with the inputs recorded in `provenance`: sizes and
/// (for object storage) ETags always, SHA-256 digests when `checksum`
/// (reading every source in full).
/// Each source is matched to a recorded input by location, else by file
/// name, else by position when the counts agree.
pub fn check_sources(
    provenance: &Json,
    sources: &[DynSource],
    checksum: bool,
) -> Result<Vec<SourceChange>> {
    let recorded = recorded_inputs(provenance);
    let mut changes = Vec::new();
    if recorded.is_empty() {
        return Ok(changes);
    }
    let mut used = vec![false; recorded.len()];
    for (pos, src) in sources.iter().enumerate() {
        let loc = src.location();
        let pick = |pred: &dyn Fn(&RecordedInput) -> bool, used: &[bool]| {
            recorded
                .iter()
                .enumerate()
                .position(|(i, r)| !used[i] && pred(r))
        };
        let found = pick(&|r| r.location.as_deref() == Some(loc), &used)
            .or_else(|| {
                pick(
                    &|r| r.location.as_deref().map(file_name) == Some(file_name(loc)),
                    &used,
                )
            })
            .or_else(|| (recorded.len() == sources.len() && !used[pos]).then_some(pos));
        let Some(i) = found else {
            changes.push(SourceChange {
                kind: SourceChangeKind::NotRecorded,
                location: loc.to_string(),
                recorded: None,
                message: "not among the inputs recorded at conversion".into(),
            });
            continue;
        };
        used[i] = true;
        let r = &recorded[i];
        let mut problems = Vec::new();
        if let Some(size) = r.size {
            if size != src.len() {
                problems.push(format!(
                    "size was {size} bytes at conversion, now {}",
                    src.len()
                ));
            }
        }
        // An object store's ETag changes with the object: checked without reading it.
        if let (Some(want), Some(got)) = (&r.etag, src.version()) {
            if *want != got {
                problems.push(format!("ETag was {want} at conversion, now {got}"));
            }
        }
        if checksum && problems.is_empty() {
            if let Some(want) = &r.sha256 {
                let got = sha256_hex(src)?;
                if &got != want {
                    problems.push(format!("SHA-256 was {want} at conversion, now {got}"));
                }
            }
        }
        if !problems.is_empty() {
            changes.push(SourceChange {
                kind: SourceChangeKind::Changed,
                location: loc.to_string(),
                recorded: r.location.clone(),
                message: problems.join("; "),
            });
        }
    }
    for (r, u) in recorded.iter().zip(&used) {
        if !u {
            changes.push(SourceChange {
                kind: SourceChangeKind::NotGiven,
                location: r.location.clone().unwrap_or_else(|| "?".into()),
                recorded: r.location.clone(),
                message: "recorded at conversion but not given now".into(),
            });
        }
    }
    Ok(changes)
}

/// Lowercase hex SHA-256 of every byte of `source`, read in 8 MiB pieces.
pub fn sha256_hex(source: &DynSource) -> Result<String> {
    const PIECE: u64 = 8 << 20;
    let mut hasher = Sha256::new();
    let len = source.len();
    let mut at = 0;
    while at < len {
        let end = (at + PIECE).min(len);
        let bytes = source.read_range(at..end)?;
        hasher.update(&bytes);
        at = end;
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn blocks_line_up_with_both_chunk_grids_when_they_fit() {
        let b = block_shape(
            &[100, 50, 60],
            Some(&[10, 50, 60]),
            Some(&[4, 25, 30]),
            4,
            64 << 20,
        );
        // Everything fits: the whole array.
        assert_eq!(b, vec![100, 50, 60]);
        let b = block_shape(
            &[100, 50, 60],
            Some(&[10, 50, 60]),
            Some(&[4, 25, 30]),
            4,
            20 * 50 * 60 * 4,
        );
        assert_eq!(b, vec![20, 50, 60]);
    }

    #[test]
    fn blocks_shrink_from_the_outermost_dimension_keeping_the_source_chunk() {
        // ERA5-like: source (1, 721, 1440), destination (365, 64, 64).
        let b = block_shape(
            &[8760, 721, 1440],
            Some(&[1, 721, 1440]),
            Some(&[365, 64, 64]),
            4,
            64 << 20,
        );
        assert_eq!(&b[1..], &[721, 1440]);
        assert!(b[0] >= 1 && b[0] * 721 * 1440 * 4 <= 64 << 20, "{b:?}");
    }

    #[test]
    fn blocks_of_contiguous_arrays_grow_from_the_innermost_dimension() {
        let b = block_shape(&[1000, 1000], None, None, 8, 80_000);
        assert_eq!(b, vec![10, 1000]);
        let b = block_shape(&[], None, None, 8, 80_000);
        assert!(b.is_empty());
    }

    #[test]
    fn blocks_never_exceed_the_array_or_fall_to_zero() {
        let shape = [7u64, 0, 3];
        let b = block_shape(&shape, Some(&[5, 5, 5]), Some(&[2, 2, 2]), 4, 1024);
        assert!(b.iter().all(|&x| x >= 1));
        assert!(b.iter().zip(&shape).all(|(b, n)| *b <= (*n).max(1)));
    }

    proptest::proptest! {
        #[test]
        fn blocks_fit_the_budget_and_the_array(
            shape in proptest::collection::vec(0u64..3000, 0..5),
            src in proptest::collection::vec(1u64..700, 5),
            dst in proptest::collection::vec(1u64..700, 5),
            elem in 1u64..16,
            max in 1u64..(8 << 20),
        ) {
            let rank = shape.len();
            let b = block_shape(&shape, Some(&src[..rank]), Some(&dst[..rank]), elem, max);
            proptest::prop_assert_eq!(b.len(), rank);
            for (x, n) in b.iter().zip(&shape) {
                proptest::prop_assert!(*x >= 1 && *x <= (*n).max(1));
            }
            let elems: u64 = b.iter().product();
            // Within budget, unless one element alone is over it.
            proptest::prop_assert!(elems <= (max / elem).max(1), "{:?} {}", b, elems);
        }
    }

    #[test]
    fn block_positions_cover_the_array_in_c_order() {
        let shape = [5u64, 3];
        let block = [2u64, 2];
        let grid = [3u64, 2];
        let (s, e) = block_at(0, &grid, &block, &shape);
        assert_eq!((s, e), (vec![0, 0], vec![2, 2]));
        let (s, e) = block_at(1, &grid, &block, &shape);
        assert_eq!((s, e), (vec![0, 2], vec![2, 1]));
        let (s, e) = block_at(5, &grid, &block, &shape);
        assert_eq!((s, e), (vec![4, 2], vec![1, 1]));
    }

    #[test]
    fn floats_are_equal_bitwise_or_both_nan_and_signed_zeros_are_noted() {
        assert_eq!(eq_f32(1.5, 1.5), Cmp::Same);
        assert_eq!(eq_f32(f32::NAN, -f32::NAN), Cmp::Same);
        assert_eq!(eq_f32(-0.0, 0.0), Cmp::SignedZero);
        assert_eq!(eq_f32(1.0, 1.0 + f32::EPSILON), Cmp::Differs);
        assert_eq!(eq_f64(f64::NAN, 0.0), Cmp::Differs);
    }

    #[test]
    fn a_block_difference_carries_the_full_index_and_both_values() {
        let mut t = Tally::default();
        let mut c = Compare {
            variable: "/t",
            start: &[3, 10],
            shape: &[2, 4],
            cap: 20,
            tally: &mut t,
        };
        let a = Values::F32(vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, f32::NAN, 7.0]);
        let b = Values::F32(vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.5, f32::NAN, 7.0]);
        c.values(&a, &b);
        assert_eq!(t.elements, 8);
        assert_eq!(t.count, 1);
        assert_eq!(
            t.diffs,
            vec![Difference::Value {
                variable: "/t".into(),
                index: vec![4, 11],
                source: serde_json::json!(5.0),
                destination: serde_json::json!(5.5),
            }]
        );
        // -0.0 against 0.0 is equal, and counted apart.
        let mut t2 = Tally::default();
        let mut c = Compare {
            variable: "/t",
            start: &[0],
            shape: &[2],
            cap: 20,
            tally: &mut t2,
        };
        c.values(&Values::F64(vec![0.0, 1.0]), &Values::F64(vec![-0.0, 1.0]));
        assert_eq!((t2.count, t2.signed_zeros), (0, 1));
    }

    #[test]
    fn the_list_keeps_the_smallest_indices_but_counts_all() {
        let mk = |i: u64| Difference::Value {
            variable: "/x".into(),
            index: vec![i],
            source: Json::Null,
            destination: Json::Null,
        };
        let a = Tally {
            count: 3,
            diffs: vec![mk(5), mk(6)],
            ..Tally::default()
        };
        let b = Tally {
            count: 4,
            diffs: vec![mk(1), mk(2)],
            ..Tally::default()
        };
        let m = a.merge(b, 3);
        assert_eq!(m.count, 7);
        assert_eq!(m.diffs, vec![mk(1), mk(2), mk(5)]);
    }

    #[test]
    fn mixed_types_compare_by_value() {
        assert_eq!(scalar_eq(Scalar::Int(3), Scalar::Float(3.0)), Cmp::Same);
        assert_eq!(scalar_eq(Scalar::Int(3), Scalar::Float(3.5)), Cmp::Differs);
        assert_eq!(scalar_eq(Scalar::Int(65), Scalar::Str("A")), Cmp::Same);
        assert_eq!(scalar_eq(Scalar::Int(0), Scalar::Str("")), Cmp::Same);
        assert_eq!(
            scalar_eq(Scalar::Bytes(b"ab\0"), Scalar::Str("ab")),
            Cmp::Same
        );
    }

    #[test]
    fn attributes_may_widen_only_with_identical_values() {
        let i16v = AttrValue::Array(Values::I16(vec![-32767]));
        assert!(attr_equal(
            &i16v,
            &AttrValue::Array(Values::I64(vec![-32767]))
        ));
        assert!(attr_equal(
            &i16v,
            &AttrValue::Array(Values::F64(vec![-32767.0]))
        ));
        assert!(!attr_equal(
            &i16v,
            &AttrValue::Array(Values::I64(vec![-32768]))
        ));
        let f32v = AttrValue::Array(Values::F32(vec![0.01]));
        assert!(attr_equal(
            &f32v,
            &AttrValue::Array(Values::F64(vec![f64::from(0.01f32)]))
        ));
        assert!(attr_equal(
            &f32v,
            &AttrValue::Array(Values::F64(vec![0.01]))
        ));
        assert!(!attr_equal(
            &f32v,
            &AttrValue::Array(Values::F64(vec![0.010001]))
        ));
        // A double may not be narrowed to a value that differs.
        let f64v = AttrValue::Array(Values::F64(vec![0.1]));
        assert!(!attr_equal(
            &f64v,
            &AttrValue::Array(Values::F32(vec![0.1]))
        ));
        // A float is not an integer.
        let f = AttrValue::Array(Values::F64(vec![2.0]));
        assert!(!attr_equal(&f, &AttrValue::Array(Values::I64(vec![2]))));
    }

    #[test]
    fn nan_attributes_equal_nan_however_written() {
        let nan = AttrValue::Array(Values::F32(vec![f32::NAN]));
        assert!(attr_equal(
            &nan,
            &AttrValue::Array(Values::F64(vec![f64::NAN]))
        ));
        assert!(attr_equal(&nan, &AttrValue::Text("NaN".into())));
        assert!(!attr_equal(&nan, &AttrValue::Array(Values::F64(vec![0.0]))));
        let text = AttrValue::Text("K".into());
        assert!(attr_equal(
            &text,
            &AttrValue::Array(Values::Str(vec!["K".into()]))
        ));
        assert!(!attr_equal(&text, &AttrValue::Text("C".into())));
    }

    #[test]
    fn char_and_enum_types_map_to_their_stored_bytes() {
        assert_eq!(dtype_match(&DType::Char, &DType::U8), DtypeMatch::Mapped);
        let e = DType::Enum {
            base: Box::new(DType::I8),
            members: vec![("a".into(), 0)],
        };
        assert_eq!(dtype_match(&e, &DType::I8), DtypeMatch::Mapped);
        assert_eq!(dtype_match(&DType::I16, &DType::I32), DtypeMatch::Differs);
        assert_eq!(dtype_match(&DType::F32, &DType::F32), DtypeMatch::Same);
    }

    #[test]
    fn provenance_inputs_are_read_from_several_spellings() {
        let p = serde_json::json!({
            "inputs": [
                {"location": "/data/a.nc", "size": 10, "sha256": "AB"},
                {"path": "b.nc", "bytes": 20}
            ]
        });
        let r = recorded_inputs(&p);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].sha256.as_deref(), Some("ab"));
        assert_eq!(r[1].location.as_deref(), Some("b.nc"));
        assert_eq!(r[1].size, Some(20));
    }

    #[test]
    fn a_changed_size_or_digest_is_reported_and_a_matching_source_is_not() {
        use arco_storage::MemSource;
        use std::sync::Arc;
        let data = b"hello".to_vec();
        let src: DynSource = Arc::new(MemSource::new("/data/a.nc", data));
        let digest = sha256_hex(&src).unwrap();
        assert_eq!(
            digest,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        let good =
            serde_json::json!({"inputs": [{"location": "a.nc", "size": 5, "sha256": digest}]});
        assert!(check_sources(&good, std::slice::from_ref(&src), true)
            .unwrap()
            .is_empty());
        let resized = serde_json::json!({"inputs": [{"location": "a.nc", "size": 6}]});
        let c = check_sources(&resized, std::slice::from_ref(&src), false).unwrap();
        assert_eq!(c.len(), 1);
        assert!(
            c[0].message.contains("size was 6 bytes"),
            "{}",
            c[0].message
        );
        let rehashed =
            serde_json::json!({"inputs": [{"location": "/data/a.nc", "size": 5, "sha256": "00"}]});
        assert!(check_sources(&rehashed, std::slice::from_ref(&src), false)
            .unwrap()
            .is_empty());
        let c = check_sources(&rehashed, std::slice::from_ref(&src), true).unwrap();
        assert!(c[0].message.contains("SHA-256"), "{}", c[0].message);
        assert_eq!(c[0].kind, SourceChangeKind::Changed);
        // A recorded input not given, and a given source not recorded.
        let two = serde_json::json!({"inputs": [
            {"location": "a.nc", "size": 5},
            {"location": "b.nc", "size": 7}
        ]});
        let c = check_sources(&two, std::slice::from_ref(&src), false).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(
            (c[0].kind, c[0].location.as_str()),
            (SourceChangeKind::NotGiven, "b.nc")
        );
        let other: DynSource = Arc::new(MemSource::new("/data/z.nc", b"zz".to_vec()));
        let c = check_sources(&good, &[src.clone(), other], false).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].kind, SourceChangeKind::NotRecorded);
        assert!(c[0]
            .to_string()
            .starts_with("sources differ from the conversion's: /data/z.nc"));
    }
}
