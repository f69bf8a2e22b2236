//! From a reader to references: a plan pass over every file's manifests,
//! then the chunk references streamed file by file into a [`Sink`].
//!
//! 1. **Plan.** Each file's manifest of every variable is read in turn (one
//!    file at a time, through `ConcatPart::with_reader`) and reduced to a
//!    few numbers per variable: whether the files' chunks line up, how many
//!    chunks are stored, which HDF5 filter masks they carry, whether a TIFF
//!    strip is short. That decides each variable's `.zarray` (codecs, fill
//!    value) and whether it is inlined whole, so all metadata is known
//!    before the first chunk.
//! 2. **Emit.** The sink gets the [`Header`], the arrays inlined whole, and
//!    then, file by file, every variable's chunk references in that file
//!    (made in parallel across variables). Memory holds one file's
//!    manifests and references at a time, whatever the number of files.
//!
//! A single file is the one part; its manifests are kept from the plan.

use crate::codecs::{encode_chain, map_chain_in, v2_codecs, ChunkLayout, Numcodec};
use crate::meta::{array_attributes, group_attributes, v2_dtype, v2_fill_value, zarray};
use crate::refs::{Reference, References, SourceUrl};
use crate::stream::{ArrayHeader, Collect, Header, Sink};
use crate::{Error, Input, Options, Result, Source, Summary};
use arco_core::{
    ChunkManifest, ChunkRef, CodecSpec, DType, Endian, Group, Selection, Values, Variable,
};
use arco_formats::Reader;
use rayon::prelude::*;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// Build the references of `input`, whose files are `sources` (in the
/// order of the concatenation for [`Input::Concat`]), in memory.
///
/// Every variable of every group becomes a Zarr v2 array; see the crate
/// documentation for what is inlined and what is refused. This is
/// [`build_into`] with a [`Collect`] sink: to write references of many
/// files without holding them all, give [`build_into`] a writer instead.
pub fn build(
    input: Input<'_>,
    sources: &[Source],
    options: &Options,
) -> Result<(References, Summary)> {
    let mut sink = Collect::new();
    let summary = build_into(input, sources, options, &mut sink)?;
    Ok((sink.into_references(), summary))
}

/// Build the references of `input` and hand them to `sink` as they are
/// made: the [`Header`] first, then the chunk references file by file
/// (for each file, every variable's chunks in it).
///
/// Memory stays that of one file's manifests and references (plus one
/// small record per file), whatever the number of files; see the module
/// documentation for the two passes. An error may come after some chunks
/// were given to the sink: writers then leave no output.
pub fn build_into(
    input: Input<'_>,
    sources: &[Source],
    options: &Options,
    sink: &mut dyn Sink,
) -> Result<Summary> {
    let dataset = input.dataset();
    let urls: Vec<SourceUrl> = sources
        .iter()
        .map(|s| {
            Ok(SourceUrl {
                location: s.location.clone(),
                url: reference_url(&s.location)?,
            })
        })
        .collect::<Result<_>>()?;
    let by_location: HashMap<&str, usize> = sources
        .iter()
        .enumerate()
        .map(|(i, s)| (s.location.as_str(), i))
        .collect();
    let parts: Vec<PartMeta> = match input {
        Input::Single(_) => vec![PartMeta {
            location: sources
                .first()
                .map_or(String::new(), |s| s.location.clone()),
            source: Some(0),
            segment: 0,
            length: 0,
        }],
        Input::Concat(c) => c
            .parts()
            .iter()
            .map(|p| PartMeta {
                location: p.location().to_string(),
                source: by_location.get(p.location()).copied(),
                segment: p.segment(),
                length: p.length(),
            })
            .collect(),
    };
    let ctx = Ctx {
        input,
        sources,
        options,
        tiff: dataset.format.contains("tiff"),
        parts,
    };

    let all = dataset.root.all_variables();
    let drops = |v: &Variable, d: &str| {
        d == v.path || d == v.name || format!("/{}", d.trim_start_matches('/')) == v.path
    };
    if let Some(d) = options
        .drop
        .iter()
        .find(|d| !all.iter().any(|v| drops(v, d)))
    {
        return Err(Error::Variable {
            location: dataset.source.clone(),
            variable: d.clone(),
            message: "--drop names no variable of the source".into(),
        });
    }
    let (dropped, wanted): (Vec<&Variable>, Vec<&Variable>) = all
        .into_iter()
        .partition(|v| options.drop.iter().any(|d| drops(v, d)));
    let dropped: Vec<String> = dropped.into_iter().map(|v| v.path.clone()).collect();
    let wanted: HashSet<&str> = wanted.iter().map(|v| v.path.as_str()).collect();

    // The arrays in the order of their metadata.
    let mut root_attrs = group_attributes(&dataset.root.attributes);
    root_attrs.insert("arco:sources".into(), sources_record(sources, &urls));
    root_attrs.insert("arco:provenance".into(), provenance(&ctx));
    let mut items = Vec::new();
    let mut order: Vec<&Variable> = Vec::new();
    walk(
        &dataset.root,
        Some(root_attrs),
        &wanted,
        &mut items,
        &mut order,
    );
    let mut vars: Vec<VarState<'_>> = order
        .into_iter()
        .map(|v| ctx.start(v))
        .collect::<Result<_>>()?;

    // Pass 1: every file's manifests, one file at a time.
    for k in 0..ctx.parts.len() {
        if !vars.iter().any(|s| ctx.scans(s, k)) {
            continue;
        }
        ctx.with_part(k, |reader| {
            vars.par_iter_mut()
                .filter(|s| ctx.scans(s, k))
                .for_each(|s| ctx.visit(s, k, reader));
            Ok(())
        })?;
    }
    for s in &mut vars {
        ctx.plan(s)?;
    }

    // The header: every metadata document before any chunk.
    let mut header = Header {
        metadata: Vec::new(),
        arrays: Vec::with_capacity(vars.len()),
        sources: urls,
    };
    for item in items {
        match item {
            Item::Group { prefix, attrs } => {
                header
                    .metadata
                    .push((format!("{prefix}.zgroup"), json!({"zarr_format": 2})));
                header
                    .metadata
                    .push((format!("{prefix}.zattrs"), Value::Object(attrs)));
            }
            Item::Array(i) => {
                let s = &mut vars[i];
                let (za, zattrs) = s.meta.take().unwrap_or_default();
                header.metadata.push((format!("{}/.zarray", s.path), za));
                header
                    .metadata
                    .push((format!("{}/.zattrs", s.path), Value::Object(zattrs)));
                header.arrays.push(ArrayHeader {
                    path: s.path.clone(),
                    grid: s.grid.clone(),
                    ordered: s.ordered,
                });
            }
        }
    }
    sink.begin(&header)?;
    drop(header);

    let mut summary = Summary {
        dropped,
        variables: vars.len(),
        ..Summary::default()
    };
    let mut emit = |array: usize, flat: u64, r: Reference| -> Result<()> {
        match &r {
            Reference::Range { length, .. } => {
                summary.ranges += 1;
                summary.referenced_bytes += length;
            }
            Reference::Inline(b) => {
                summary.inlined += 1;
                summary.inlined_bytes += b.len() as u64;
            }
        }
        summary.references += 1;
        sink.chunk(array, flat, r)
    };

    // Arrays read whole, one at a time.
    for (i, s) in vars.iter().enumerate() {
        if let Some(r) = ctx.whole_chunk(s)? {
            emit(i, 0, r)?;
        }
    }

    // Pass 2: file by file, every variable's chunks in that file.
    for k in 0..ctx.parts.len() {
        if !vars.iter().any(|s| ctx.emits(s, k)) {
            continue;
        }
        let outs = ctx.with_part(k, |reader| {
            vars.par_iter()
                .enumerate()
                .filter(|(_, s)| ctx.emits(s, k))
                .map(|(i, s)| {
                    let fetched;
                    let (offset, m) = match &s.cached {
                        Some(m) => (0, m),
                        None => match ctx.part_manifest(k, reader, s.var)? {
                            Some((offset, m)) => {
                                fetched = m;
                                (offset, &fetched)
                            }
                            None => return Ok(None),
                        },
                    };
                    ctx.part_chunks(s, k, offset, m).map(|out| Some((i, out)))
                })
                .collect::<Result<Vec<_>>>()
        })?;
        for (i, out) in outs.into_iter().flatten() {
            vars[i].decoded_total += out.decoded_bytes;
            for (flat, r) in out.chunks {
                emit(i, flat, r)?;
            }
        }
    }
    summary.decoded = vars.iter().filter_map(|s| s.note()).collect();
    Ok(summary)
}

/// One entry of the metadata order.
enum Item {
    /// A group's documents.
    Group {
        prefix: String,
        attrs: Map<String, Value>,
    },
    /// Array number `i` of the array order.
    Array(usize),
}

/// Groups first, then their arrays, then child groups.
fn walk<'d>(
    g: &'d Group,
    attrs: Option<Map<String, Value>>,
    wanted: &HashSet<&str>,
    items: &mut Vec<Item>,
    order: &mut Vec<&'d Variable>,
) {
    items.push(Item::Group {
        prefix: zarr_prefix(&g.path),
        attrs: attrs.unwrap_or_else(|| group_attributes(&g.attributes)),
    });
    for v in &g.variables {
        if wanted.contains(v.path.as_str()) {
            items.push(Item::Array(order.len()));
            order.push(v);
        }
    }
    for child in &g.groups {
        walk(child, None, wanted, items, order);
    }
}

/// `""` for the root, `grp/sub/` for a group.
fn zarr_prefix(group_path: &str) -> String {
    let p = group_path.trim_matches('/');
    if p.is_empty() {
        String::new()
    } else {
        format!("{p}/")
    }
}

/// The URL written for a source: an absolute local path (what fsspec's
/// local file system and kerchunk use), or the remote URL as given.
fn reference_url(location: &str) -> Result<String> {
    match arco_storage::Location::parse(location)? {
        arco_storage::Location::Local(path) => {
            let abs = std::fs::canonicalize(&path)
                .or_else(|_| std::env::current_dir().map(|d| d.join(&path)));
            let abs = abs.map_err(|e| Error::Output {
                path: location.to_string(),
                message: format!("cannot make the path absolute: {e}"),
            })?;
            abs.to_str().map(str::to_string).ok_or_else(|| Error::Output {
                path: location.to_string(),
                message: "the path is not valid UTF-8, which kerchunk references cannot hold; rename the file".into(),
            })
        }
        _ => Ok(location.to_string()),
    }
}

/// `arco:sources`: what each source was when the references were made.
fn sources_record(sources: &[Source], urls: &[SourceUrl]) -> Value {
    Value::Array(
        sources
            .iter()
            .zip(urls)
            .map(|(s, u)| {
                let stamp = arco_engine::SourceStamp::of_source(&s.location, s.bytes.as_ref());
                let mut m = Map::new();
                m.insert("location".into(), json!(s.location));
                m.insert("url".into(), json!(u.url));
                m.insert("size".into(), json!(stamp.size));
                if let Some(t) = stamp.modified {
                    m.insert("mtime".into(), json!(t));
                    m.insert(
                        "modified".into(),
                        json!(arco_engine::provenance::iso_from_unix(t)),
                    );
                }
                if arco_storage::Location::parse(&s.location).is_ok_and(|l| l.is_remote()) {
                    m.insert("etag".into(), json!(stamp.etag));
                }
                Value::Object(m)
            })
            .collect(),
    )
}

fn provenance(ctx: &Ctx<'_>) -> Value {
    json!({
        "arco_version": env!("CARGO_PKG_VERSION"),
        "created": arco_engine::provenance::now_iso(),
        "command": ctx.options.command,
        "operation": "virtualize",
        "options": {
            "inline_threshold": ctx.options.inline_threshold,
            "max_decoded_inline": ctx.options.max_decoded_inline,
            "concat_dim": ctx.input.concat_dim(),
            "drop": ctx.options.drop,
        },
    })
}

/// One file of the input and where it lies along the concatenation dimension.
struct PartMeta {
    location: String,
    /// Its index in the sources (`None`: not among them).
    source: Option<usize>,
    /// Its segment (a run of files concatenated together).
    segment: usize,
    /// Its extent along its segment's concatenation dimension.
    length: u64,
}

/// What the plan pass learns of one variable from the files' manifests.
#[derive(Default)]
struct Scan {
    /// Why its files' chunks do not form one grid (read whole instead).
    why: Option<String>,
    /// The first file holding part of it: its source and manifest (no chunks).
    head: Option<(usize, ChunkManifest)>,
    /// The first file's (when every file is empty along the dimension).
    part0: Option<(usize, ChunkManifest)>,
    /// The chunk grid of the combined array (from `head`'s chunk shape).
    grid: Vec<u64>,
    /// Chunks placed in the grid.
    stored: u64,
    /// By filter mask, chunks not held inline: (all, short TIFF strips).
    masks: BTreeMap<u32, (u64, u64)>,
    /// Some placed chunk is a short TIFF strip.
    any_short: bool,
}

/// How a variable's chunks are referenced.
enum Mode {
    /// Byte ranges, with the declared chain and the filter mask it assumes.
    Refs {
        declared: Vec<Numcodec>,
        common: u32,
        /// Chunks decoded, encoded again and inlined.
        odd: u64,
    },
    /// Every chunk decoded and inlined raw: the chain has no numcodecs form.
    DecodeAll { label: String, why: String },
}

/// A chunked variable's plan.
struct ChunkPlan {
    /// The first file's manifest without chunks: dtype, byte order, codecs.
    m: ChunkManifest,
    chunk_shape: Vec<u64>,
    elem: usize,
    chunk_elems: u64,
    chunk_bytes: u64,
    strips: bool,
    mode: Mode,
    /// The encoded fill chunk stored at every missing position, and how many.
    fill: Option<(Arc<[u8]>, u64)>,
    stored: u64,
}

/// What a variable becomes.
enum Plan {
    Chunked(Box<ChunkPlan>),
    /// Read whole and inlined as one chunk (`why` empty: a small array).
    Whole {
        why: String,
    },
    /// Variable-length strings, read and inlined as `vlen-utf8`.
    Vlen,
}

/// One variable through both passes.
struct VarState<'v> {
    var: &'v Variable,
    /// Zarr path (no leading `/`).
    path: String,
    axis: Option<usize>,
    /// The segment of the files holding it (`None` until one is seen).
    segment: Option<usize>,
    scan: Scan,
    /// A single file's manifest, kept from the plan pass.
    cached: Option<ChunkManifest>,
    plan: Option<Plan>,
    /// `.zarray` and `.zattrs` until the header takes them.
    meta: Option<(Value, Map<String, Value>)>,
    grid: Vec<u64>,
    ordered: bool,
    /// Encoded bytes of chunks decoded and inlined (for the summary).
    decoded_total: u64,
}

impl VarState<'_> {
    /// The summary's note on decoded chunks inlined, if any.
    fn note(&self) -> Option<String> {
        let why = match self.plan.as_ref()? {
            Plan::Whole { why } if why.is_empty() => return None,
            Plan::Whole { why } => format!("read whole and inlined: {why}"),
            Plan::Vlen => "variable-length strings read and inlined (vlen-utf8)".into(),
            Plan::Chunked(p) => {
                let first = match &p.mode {
                    Mode::Refs { odd, .. } if *odd > 0 => Some(if p.strips {
                        format!("{odd} strips at the image's bottom edge decoded, padded to whole chunks, encoded again and inlined ({} bytes)", self.decoded_total)
                    } else {
                        format!("{odd} chunks skipped filters of the pipeline (HDF5 filter mask); decoded, encoded again and inlined ({} bytes)", self.decoded_total)
                    }),
                    Mode::Refs { .. } => None,
                    Mode::DecodeAll { label, why } => Some(format!(
                        "filter {label} has no numcodecs equivalent ({why}); {} chunks decoded and inlined ({} bytes)",
                        p.stored,
                        p.stored.saturating_mul(p.chunk_bytes)
                    )),
                };
                let fill = p.fill.as_ref().map(|(_, missing)| {
                    format!("{missing} unwritten chunks inlined with the fill value (no _FillValue attribute)")
                });
                match (first, fill) {
                    (Some(a), Some(b)) => format!("{a}; {b}"),
                    (Some(a), None) | (None, Some(a)) => a,
                    (None, None) => return None,
                }
            }
        };
        Some(format!("{}: {why}", self.var.path))
    }
}

/// One file's references of one variable, sorted by chunk number.
struct PartOut {
    chunks: Vec<(u64, Reference)>,
    decoded_bytes: u64,
}

struct Ctx<'a> {
    input: Input<'a>,
    sources: &'a [Source],
    options: &'a Options,
    tiff: bool,
    parts: Vec<PartMeta>,
}

/// A stored chunk to place: which source, its flat number in the grid.
struct Stored<'m> {
    source: usize,
    flat: u64,
    chunk: &'m ChunkRef,
}

/// The chunks of `m` that land in `grid`, as (flat number, index in
/// `m.chunks`), sorted by flat number, each number once (the first wins).
/// Along the concatenation `axis` a chunk's index is shifted by `shift`,
/// and one at or past `extent` (outside its own file's part) is left out.
fn place(
    m: &ChunkManifest,
    grid: &[u64],
    axis: Option<usize>,
    shift: u64,
    extent: Option<u64>,
) -> Vec<(u64, usize)> {
    let mut out: Vec<(u64, usize)> = Vec::with_capacity(m.chunks.len());
    'chunks: for (j, c) in m.chunks.iter().enumerate() {
        let mut flat = 0u64;
        for (d, (i, n)) in c.index.iter().zip(grid).enumerate() {
            let i = if Some(d) == axis {
                if extent.is_some_and(|e| *i >= e) {
                    continue 'chunks;
                }
                i + shift
            } else {
                *i
            };
            if i >= *n {
                continue 'chunks;
            }
            flat = flat * n + i;
        }
        out.push((flat, j));
    }
    if !out.windows(2).all(|w| w[0].0 < w[1].0) {
        out.sort_by_key(|p| p.0);
        out.dedup_by_key(|p| p.0);
    }
    out
}

/// Chunks as wide as the image whose height does not divide it.
fn is_strips(chunk_shape: &[u64], shape: &[u64]) -> bool {
    let n = chunk_shape.len();
    n >= 2
        && shape.len() == n
        && chunk_shape[n - 1] == shape[n - 1]
        && !shape[n - 2].is_multiple_of(chunk_shape[n - 2])
}

/// A TIFF strip in the last row of strips (possibly short).
fn is_short_edge(strips: bool, c: &ChunkRef, grid: &[u64]) -> bool {
    strips
        && c.index.len() >= 2
        && grid.len() >= 2
        && c.index.get(c.index.len() - 2).copied()
            == grid.get(grid.len() - 2).map(|n| n.saturating_sub(1))
}

/// The positions of `grid` whose index along `axis` lies in
/// `shift..shift + extent` (all of it without an axis), in C order, that
/// `chunks` (sorted) lacks, filled with `fill`.
fn fill_missing(
    chunks: Vec<(u64, Reference)>,
    fill: &Arc<[u8]>,
    grid: &[u64],
    axis: Option<usize>,
    shift: u64,
    extent: Option<u64>,
) -> Vec<(u64, Reference)> {
    let mut lo = vec![0u64; grid.len()];
    let mut hi = grid.to_vec();
    if let (Some(a), Some(e)) = (axis, extent) {
        if a < grid.len() {
            lo[a] = shift.min(grid[a]);
            hi[a] = shift.saturating_add(e).min(grid[a]);
        }
    }
    if lo.iter().zip(&hi).any(|(l, h)| l >= h) && !grid.is_empty() {
        return chunks;
    }
    let mut out = Vec::with_capacity(chunks.len());
    let mut have = chunks.into_iter().peekable();
    let mut index = lo.clone();
    loop {
        let flat = index.iter().zip(grid).fold(0u64, |acc, (i, n)| acc * n + i);
        while have.peek().is_some_and(|(f, _)| *f < flat) {
            if let Some(x) = have.next() {
                out.push(x);
            }
        }
        match have.peek() {
            Some((f, _)) if *f == flat => {
                if let Some(x) = have.next() {
                    out.push(x);
                }
            }
            _ => out.push((flat, Reference::Inline(fill.clone()))),
        }
        // Next index in C order within lo..hi.
        let mut d = index.len();
        loop {
            if d == 0 {
                out.extend(have);
                return out;
            }
            d -= 1;
            index[d] += 1;
            if index[d] < hi[d] {
                break;
            }
            index[d] = lo[d];
        }
    }
}

impl Ctx<'_> {
    fn location(&self) -> String {
        self.input.dataset().source.clone()
    }

    fn fail(&self, var: &Variable, message: String) -> Error {
        Error::Variable {
            location: self.location(),
            variable: var.path.clone(),
            message,
        }
    }

    /// Run `f` with part `k`'s own reader (opened for the call when the
    /// concatenation opens its files lazily).
    fn with_part<T>(&self, k: usize, f: impl FnOnce(&dyn Reader) -> Result<T>) -> Result<T> {
        match self.input {
            Input::Single(r) => f(r),
            Input::Concat(c) => {
                let part = c.parts().get(k).ok_or_else(|| Error::Output {
                    path: self.location(),
                    message: format!("part number {k} is missing"),
                })?;
                part.with_reader(|r| Ok(f(r)))?
            }
        }
    }

    fn start<'v>(&self, var: &'v Variable) -> Result<VarState<'v>> {
        if let DType::VarLen { .. } = &var.dtype {
            return Err(self.fail(
                var,
                format!(
                    "its type {} (a variable-length sequence of numbers) has no Zarr v2 representation; leave it out with --drop {}",
                    var.dtype, var.path
                ),
            ));
        }
        Ok(VarState {
            var,
            path: var.path.trim_start_matches('/').to_string(),
            axis: self.axis(var),
            segment: None,
            scan: Scan::default(),
            cached: None,
            plan: None,
            meta: None,
            grid: Vec::new(),
            ordered: true,
            decoded_total: 0,
        })
    }

    /// Whether the plan pass reads part `k`'s manifest of `s`.
    fn scans(&self, s: &VarState<'_>, k: usize) -> bool {
        if matches!(s.var.dtype, DType::String) || s.scan.why.is_some() {
            return false;
        }
        match s.axis {
            None => k == 0,
            Some(_) => s.scan.part0.is_none() || self.parts.get(k).is_some_and(|p| p.length > 0),
        }
    }

    /// Whether part `k` holds chunks of `s` to emit.
    fn emits(&self, s: &VarState<'_>, k: usize) -> bool {
        let Some(Plan::Chunked(p)) = &s.plan else {
            return false;
        };
        if p.stored == 0 && p.fill.is_none() {
            return false;
        }
        match s.axis {
            None => k == 0,
            Some(_) => self
                .parts
                .get(k)
                .is_some_and(|p| p.length > 0 && Some(p.segment) == s.segment),
        }
    }

    /// Part `k`'s own manifest of `var` (from `reader`, part `k`'s) with the
    /// part's offset along the variable's concatenation dimension; `None`
    /// when the part does not hold the variable.
    fn part_manifest(
        &self,
        k: usize,
        reader: &dyn Reader,
        var: &Variable,
    ) -> arco_formats::Result<Option<(u64, ChunkManifest)>> {
        match self.input {
            Input::Single(_) => Ok(Some((0, reader.manifest(&var.path)?))),
            Input::Concat(c) => c.part_manifest_in(k, reader, &var.path),
        }
    }

    /// The plan pass over part `k`'s manifest of `s`.
    fn visit(&self, s: &mut VarState<'_>, k: usize, reader: &dyn Reader) {
        let (offset, m) = match self.part_manifest(k, reader, s.var) {
            Ok(Some(x)) => x,
            Ok(None) => return,
            Err(e) => {
                s.scan.why = Some(e.to_string());
                return;
            }
        };
        let Some(part) = self.parts.get(k) else {
            return;
        };
        let Some(source) = part.source else {
            s.scan.why = Some(format!("{} is not among the sources", part.location));
            return;
        };
        let head_only = |m: &ChunkManifest| ChunkManifest {
            variable: m.variable.clone(),
            dtype: m.dtype.clone(),
            endian: m.endian,
            grid: m.grid.clone(),
            codecs: m.codecs.clone(),
            chunks: Vec::new(),
            fill_bytes: m.fill_bytes.clone(),
        };
        if s.scan.part0.is_none() {
            s.scan.part0 = Some((source, head_only(&m)));
            s.segment = Some(part.segment);
        }
        let (shift, extent) = match s.axis {
            None => (0, None),
            Some(axis) => {
                if part.length == 0 {
                    return;
                }
                let loc = &part.location;
                let step = m.grid.chunk_shape.get(axis).copied().unwrap_or(1).max(1);
                if let Some((fs, f)) = &s.scan.head {
                    let first = self.sources.get(*fs).map_or("?", |x| x.location.as_str());
                    if f.grid.chunk_shape != m.grid.chunk_shape {
                        s.scan.why = Some(format!(
                            "{first} has chunks of shape {:?} and {loc} {:?}",
                            f.grid.chunk_shape, m.grid.chunk_shape
                        ));
                        return;
                    }
                    if f.dtype != m.dtype || f.endian != m.endian || f.codecs != m.codecs {
                        s.scan.why = Some(format!(
                            "{first} and {loc} store it with different types, byte orders or codecs"
                        ));
                        return;
                    }
                }
                let dim = self.dim_of(s.var);
                if offset % step != 0 {
                    s.scan.why = Some(format!(
                        "{loc} starts at index {offset} along '{dim}', inside a chunk of {step}"
                    ));
                    return;
                }
                // Every part but the segment's last non-empty one must hold
                // whole chunks.
                let later = self
                    .parts
                    .iter()
                    .skip(k + 1)
                    .any(|p| p.segment == part.segment && p.length > 0);
                if part.length % step != 0 && later {
                    s.scan.why = Some(format!(
                        "{loc} holds {} steps along '{dim}', not a whole number of its chunks of {step}",
                        part.length
                    ));
                    return;
                }
                (offset / step, Some(part.length.div_ceil(step)))
            }
        };
        if s.scan.head.is_none() {
            let chunk_shape: Vec<u64> = m.grid.chunk_shape.iter().map(|c| (*c).max(1)).collect();
            s.scan.grid = s
                .var
                .shape
                .iter()
                .zip(&chunk_shape)
                .map(|(n, c)| n.div_ceil(*c))
                .collect();
            s.scan.head = Some((source, head_only(&m)));
        }
        let strips = self.tiff
            && s.scan
                .head
                .as_ref()
                .is_some_and(|(_, h)| is_strips(&h.grid.chunk_shape, &s.var.shape));
        let placed = place(&m, &s.scan.grid, s.axis, shift, extent);
        s.scan.stored += placed.len() as u64;
        for (_, j) in &placed {
            let c = &m.chunks[*j];
            let short = is_short_edge(strips, c, &s.scan.grid);
            s.scan.any_short |= short;
            if c.inline.is_none() {
                let e = s.scan.masks.entry(c.filter_mask).or_default();
                e.0 += 1;
                e.1 += u64::from(short);
            }
        }
        if matches!(self.input, Input::Single(_)) {
            s.cached = Some(m);
        }
    }

    /// Decide what `s` becomes from its scan: its `.zarray`, `.zattrs`,
    /// grid and plan; refuse it (before any output) when it cannot be.
    fn plan(&self, s: &mut VarState<'_>) -> Result<()> {
        let var = s.var;
        let fill_attr = var.attr("_FillValue");
        if matches!(var.dtype, DType::String) {
            let chunk_shape: Vec<u64> = var.shape.iter().map(|n| (*n).max(1)).collect();
            let fill_value = fill_attr.and_then(|f| v2_fill_value(f, &var.dtype));
            let fill_moved = fill_value.is_some();
            s.meta = Some((
                zarray(
                    &var.shape,
                    &chunk_shape,
                    json!("|O"),
                    fill_value.unwrap_or(Value::Null),
                    Value::Null,
                    json!([{"id": "vlen-utf8"}]),
                ),
                array_attributes(&var.attributes, &var.dims, fill_moved),
            ));
            s.grid = var.shape.iter().map(|n| u64::from(*n > 0)).collect();
            s.plan = Some(Plan::Vlen);
            return Ok(());
        }
        let scan = std::mem::take(&mut s.scan);
        if let Some(why) = scan.why {
            return self.plan_whole(s, why);
        }
        let Some((_, m)) = scan.head.or(scan.part0) else {
            return Err(self.fail(var, "no source holds it".into()));
        };
        let dtype = v2_dtype(&m.dtype, m.endian).map_err(|why| {
            self.fail(var, format!("{why}; leave it out with --drop {}", var.path))
        })?;
        let chunk_shape: Vec<u64> = m.grid.chunk_shape.iter().map(|c| (*c).max(1)).collect();
        let grid: Vec<u64> = var
            .shape
            .iter()
            .zip(&chunk_shape)
            .map(|(n, c)| n.div_ceil(*c))
            .collect();
        let elem = m.dtype.size().unwrap_or(1);
        let chunk_elems: u64 = chunk_shape.iter().product();
        let chunk_bytes = chunk_elems.saturating_mul(elem as u64);
        let total_chunks: u64 = grid.iter().product();
        let strips = self.tiff && is_strips(&chunk_shape, &var.shape);

        // Whole arrays smaller than the threshold become one inlined chunk.
        let raw_bytes = var.uncompressed_bytes().unwrap_or(u64::MAX);
        if total_chunks > 1
            && raw_bytes < self.options.inline_threshold
            && whole_array_type(&var.dtype)
        {
            s.cached = None;
            return self.plan_whole(s, String::new());
        }

        let fill_value = fill_attr.and_then(|f| v2_fill_value(f, &m.dtype));
        let fill_moved = fill_value.is_some();
        let layout = dtype.as_str().map(|d| ChunkLayout {
            shape: &chunk_shape,
            dtype: d,
        });
        let chain = match grib_reorder(var, &m.codecs) {
            Some(why) => Err(("grib".to_string(), why)),
            None => map_chain_in(&m.codecs, elem, chunk_bytes, layout),
        };
        // TIFF strips span the width; the last may be short, and Zarr
        // needs whole chunks: such chunks are decoded, padded, encoded again
        // and inlined, so the chain must have an encoder for every stage.
        let chain = match chain {
            Ok(chain)
                if scan.any_short
                    && chain.iter().any(|c| {
                        c.encode(&[]).is_err()
                            && !matches!(c, Numcodec::Delta { .. } | Numcodec::FloatPred { .. })
                    }) =>
            {
                let which = chain
                    .iter()
                    .find(|c| c.encode(&[]).is_err())
                    .map_or(String::new(), |c| c.json()["id"].to_string());
                Err((
                    which.clone(),
                    format!("the last strip is short and arco cannot encode {which} to pad it to a whole chunk"),
                ))
            }
            other => other,
        };
        let stored = scan.stored;
        let mode = match chain {
            Ok(chain) => {
                let common = common_mask(&scan.masks);
                let declared: Vec<Numcodec> = chain
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| *i >= 32 || common & (1u32 << i) == 0)
                    .map(|(_, c)| c)
                    .collect();
                // Chunks that skipped other filters, and short strips, are
                // decoded and encoded again.
                let odd: u64 = scan
                    .masks
                    .iter()
                    .map(|(mask, (all, short))| if *mask == common { *short } else { *all })
                    .sum();
                self.check_limit(
                    var,
                    odd.saturating_mul(chunk_bytes),
                    "chunks that skipped a filter of the pipeline",
                )?;
                Mode::Refs {
                    declared,
                    common,
                    odd,
                }
            }
            Err((label, why)) => {
                // Nothing to reference: decode every chunk and inline it raw.
                let total = stored.saturating_mul(chunk_bytes);
                if total > self.options.max_decoded_inline {
                    return Err(self.fail(
                        var,
                        format!(
                            "it uses filter {label}, which kerchunk references cannot express ({why}); its {stored} chunks hold {total} bytes decoded, more than --max-decoded-inline {} allows to inline; convert it with `arco convert` (or raise the limit)",
                            self.options.max_decoded_inline
                        ),
                    ));
                }
                Mode::DecodeAll { label, why }
            }
        };
        let declared: &[Numcodec] = match &mode {
            Mode::Refs { declared, .. } => declared,
            Mode::DecodeAll { .. } => &[],
        };

        // Missing chunks read as the fill value; with no `_FillValue` Zarr
        // gives zeros, so other fill bytes must be stored.
        let fill = match &m.fill_bytes {
            Some(f) if !fill_moved && f.iter().any(|b| *b != 0) && stored < total_chunks => {
                let raw = f.repeat(usize::try_from(chunk_elems).unwrap_or(0));
                let enc: Arc<[u8]> = self.encode(var, declared, &raw)?.into();
                let missing = total_chunks - stored;
                self.check_limit(
                    var,
                    missing.saturating_mul(enc.len() as u64),
                    "fill chunks (the variable has unwritten chunks, a non-zero fill value and no _FillValue attribute)",
                )?;
                Some((enc, missing))
            }
            _ => None,
        };

        let mut named = declared.to_vec();
        for c in &mut named {
            if let Numcodec::Grib { var: name, .. } = c {
                name.clone_from(&var.name);
            }
        }
        let (compressor, filters) = v2_codecs(&named);
        s.meta = Some((
            zarray(
                &var.shape,
                &chunk_shape,
                dtype,
                fill_value.unwrap_or(Value::Null),
                compressor,
                filters,
            ),
            array_attributes(&var.attributes, &var.dims, fill_moved),
        ));
        // Chunk numbers only grow from file to file when every axis before
        // the concatenation axis has one chunk.
        s.ordered = match s.axis {
            None => true,
            Some(a) => grid.iter().take(a).all(|n| *n <= 1),
        };
        s.grid = grid;
        s.plan = Some(Plan::Chunked(Box::new(ChunkPlan {
            m,
            chunk_shape,
            elem,
            chunk_elems,
            chunk_bytes,
            strips,
            mode,
            fill,
            stored,
        })));
        Ok(())
    }

    /// The error refusing a variable read whole (`why`: why it is).
    fn refuse_whole(&self, var: &Variable, why: &str, what: String) -> Error {
        if why.is_empty() {
            self.fail(var, what)
        } else {
            self.fail(
                var,
                format!("its chunks cannot be referenced ({why}) and {what}; convert it with `arco convert`"),
            )
        }
    }

    /// Plan the whole array read, in little-endian order, as one inlined
    /// chunk: for arrays under the inline threshold, and for files whose
    /// chunks do not line up along the concatenation dimension (`why`).
    fn plan_whole(&self, s: &mut VarState<'_>, why: String) -> Result<()> {
        let var = s.var;
        if !whole_array_type(&var.dtype) {
            return Err(self.refuse_whole(
                var,
                &why,
                format!("its type {} cannot be inlined whole", var.dtype),
            ));
        }
        let bytes = var.uncompressed_bytes().unwrap_or(u64::MAX);
        if !why.is_empty() && bytes > self.options.max_decoded_inline {
            return Err(self.refuse_whole(
                var,
                &why,
                format!(
                    "inlining its {bytes} bytes decoded would pass --max-decoded-inline {}",
                    self.options.max_decoded_inline
                ),
            ));
        }
        let dtype = v2_dtype(&var.dtype, Endian::Little)
            .map_err(|what| self.refuse_whole(var, &why, what))?;
        let chunk_shape: Vec<u64> = var.shape.iter().map(|n| (*n).max(1)).collect();
        let fill_value = var
            .attr("_FillValue")
            .and_then(|f| v2_fill_value(f, &var.dtype));
        let fill_moved = fill_value.is_some();
        s.meta = Some((
            zarray(
                &var.shape,
                &chunk_shape,
                dtype,
                fill_value.unwrap_or(Value::Null),
                Value::Null,
                Value::Null,
            ),
            array_attributes(&var.attributes, &var.dims, fill_moved),
        ));
        s.grid = var.shape.iter().map(|n| u64::from(*n > 0)).collect();
        s.ordered = true;
        s.plan = Some(Plan::Whole { why });
        Ok(())
    }

    /// The one inlined chunk of a variable read whole (none for a
    /// chunked variable or an empty one).
    fn whole_chunk(&self, s: &VarState<'_>) -> Result<Option<Reference>> {
        let var = s.var;
        let buf = match &s.plan {
            Some(Plan::Vlen) => {
                let values = self
                    .input
                    .read(&var.path, &Selection::all(&var.shape))?
                    .values;
                let Values::Str(strings) = values else {
                    return Err(self.fail(
                        var,
                        format!("read {} values, strings expected", values.type_name()),
                    ));
                };
                let mut buf =
                    Vec::with_capacity(4 + strings.iter().map(|s| s.len() + 4).sum::<usize>());
                buf.extend_from_slice(&(strings.len() as u32).to_le_bytes());
                for s in &strings {
                    buf.extend_from_slice(&(s.len() as u32).to_le_bytes());
                    buf.extend_from_slice(s.as_bytes());
                }
                self.check_limit(
                    var,
                    buf.len() as u64,
                    "its variable-length strings (read and inlined whole)",
                )?;
                buf
            }
            Some(Plan::Whole { why }) => {
                let values = self
                    .input
                    .read(&var.path, &Selection::all(&var.shape))?
                    .values;
                values_le_bytes(&values).ok_or_else(|| {
                    self.refuse_whole(
                        var,
                        why,
                        format!("its {} values cannot be inlined", values.type_name()),
                    )
                })?
            }
            _ => return Ok(None),
        };
        Ok((var.element_count() > 0).then(|| Reference::Inline(buf.into())))
    }

    /// Part `k`'s references of a chunked variable (`m`: that file's
    /// manifest), sorted by chunk number, with the fill chunks of its
    /// missing positions.
    fn part_chunks(
        &self,
        s: &VarState<'_>,
        k: usize,
        offset: u64,
        m: &ChunkManifest,
    ) -> Result<PartOut> {
        let var = s.var;
        let (Some(Plan::Chunked(p)), Some(part)) = (&s.plan, self.parts.get(k)) else {
            return Ok(PartOut {
                chunks: Vec::new(),
                decoded_bytes: 0,
            });
        };
        let source = part.source.unwrap_or(0);
        let (shift, extent) = match s.axis {
            None => (0, None),
            Some(axis) => {
                let step = p.chunk_shape.get(axis).copied().unwrap_or(1).max(1);
                (offset / step, Some(part.length.div_ceil(step)))
            }
        };
        let grid = &s.grid;
        let stored: Vec<Stored<'_>> = place(m, grid, s.axis, shift, extent)
            .into_iter()
            .map(|(flat, j)| Stored {
                source,
                flat,
                chunk: &m.chunks[j],
            })
            .collect();
        let hm = &p.m;
        let chunk_shape = &p.chunk_shape;
        let ctxlabel = |s: &Stored<'_>| {
            format!(
                "{}: variable {}, chunk {:?} at bytes {}..{}",
                self.sources
                    .get(s.source)
                    .map_or("?", |x| x.location.as_str()),
                var.path,
                s.chunk.index,
                s.chunk.offset,
                s.chunk.offset + s.chunk.length
            )
        };
        let decode = |s: &Stored<'_>, raw: &[u8]| -> Result<Vec<u8>> {
            let label = ctxlabel(s);
            // A TIFF strip at the bottom edge holds only the rows left.
            let elements: u64 = if p.strips {
                s.chunk
                    .index
                    .iter()
                    .zip(chunk_shape)
                    .zip(&var.shape)
                    .map(|((i, c), n)| (*c).min(n.saturating_sub(i * c)))
                    .product()
            } else {
                p.chunk_elems
            };
            let cctx = arco_codecs::ChunkContext {
                label: &label,
                dtype: &hm.dtype,
                endian: hm.endian,
                elements: usize::try_from(elements).unwrap_or(usize::MAX),
            };
            let out = arco_codecs::decode_chunk(raw, &hm.codecs, s.chunk.filter_mask, &cctx)
                .map_err(|e| {
                    self.fail(var, format!("decoding a chunk to inline it failed: {e}"))
                })?;
            // TIFF strips: the last one holds only the rows left; the
            // rows past the image edge are padded with zeros.
            let mut out = out;
            if self.tiff && (out.len() as u64) < p.chunk_bytes {
                out = pad_planes(&out, chunk_shape, p.elem, p.chunk_bytes);
            }
            if out.len() as u64 != p.chunk_bytes {
                return Err(self.fail(
                    var,
                    format!(
                        "{label} decodes to {} bytes, a full chunk has {}",
                        out.len(),
                        p.chunk_bytes
                    ),
                ));
            }
            Ok(out)
        };
        let short_edge = |c: &ChunkRef| is_short_edge(p.strips, c, grid);

        let mut chunks: Vec<(u64, Reference)> = Vec::with_capacity(stored.len());
        let mut decoded_bytes = 0u64;
        match &p.mode {
            Mode::Refs {
                declared, common, ..
            } => {
                let common = *common;
                // Which chunks need reading: small ones (inlined as
                // stored) and those that skipped other filters (decoded,
                // encoded again).
                let mut reads: Vec<usize> = Vec::new();
                for (k, s) in stored.iter().enumerate() {
                    if s.chunk.inline.is_some() {
                        continue;
                    }
                    if s.chunk.filter_mask != common
                        || short_edge(s.chunk)
                        || s.chunk.length < self.options.inline_threshold
                    {
                        reads.push(k);
                    }
                }
                let bytes = self.read_stored(&stored, &reads)?;
                let mut read_iter = reads.iter().zip(bytes);
                let mut next = read_iter.next();
                for (k, s) in stored.iter().enumerate() {
                    let r = if let Some(b) = &s.chunk.inline {
                        if declared.is_empty() && s.chunk.filter_mask == common {
                            Reference::Inline(b.clone())
                        } else {
                            let raw = decode(s, b)?;
                            Reference::Inline(self.encode(var, declared, &raw)?.into())
                        }
                    } else if matches!(next, Some((i, _)) if *i == k) {
                        let Some((_, b)) = next.take() else {
                            continue;
                        };
                        next = read_iter.next();
                        if s.chunk.filter_mask != common || short_edge(s.chunk) {
                            let raw = decode(s, &b)?;
                            let enc = self.encode(var, declared, &raw)?;
                            decoded_bytes += enc.len() as u64;
                            Reference::Inline(enc.into())
                        } else {
                            Reference::Inline(Arc::from(&b[..]))
                        }
                    } else {
                        Reference::Range {
                            source: s.source,
                            offset: s.chunk.offset,
                            length: s.chunk.length,
                        }
                    };
                    chunks.push((s.flat, r));
                }
            }
            Mode::DecodeAll { label, why } => {
                let reads: Vec<usize> = (0..stored.len())
                    .filter(|k| stored[*k].chunk.inline.is_none())
                    .collect();
                let bytes = self.read_stored(&stored, &reads)?;
                let mut by_k: BTreeMap<usize, bytes::Bytes> =
                    reads.into_iter().zip(bytes).collect();
                for (k, s) in stored.iter().enumerate() {
                    let raw = match (&s.chunk.inline, by_k.remove(&k)) {
                        (Some(b), _) => decode(s, b),
                        (None, Some(b)) => decode(s, &b),
                        (None, None) => continue,
                    }
                    .map_err(|e| match e {
                        Error::Variable { message, .. } => self.fail(
                            var,
                            format!(
                                "it uses filter {label}, which kerchunk references cannot express ({why}), and inlining decoded chunks needs a decoder: {message}; convert it with `arco convert` if arco can read it, or repack the file with `h5repack -f GZIP=6`"
                            ),
                        ),
                        other => other,
                    })?;
                    chunks.push((s.flat, Reference::Inline(raw.into())));
                }
            }
        }
        if let Some((fill, _)) = &p.fill {
            chunks = fill_missing(chunks, fill, grid, s.axis, shift, extent);
        }
        Ok(PartOut {
            chunks,
            decoded_bytes,
        })
    }

    /// Refuse a variable whose inlined decoded bytes would pass the limit.
    fn check_limit(&self, var: &Variable, bytes: u64, what: &str) -> Result<()> {
        if bytes > self.options.max_decoded_inline {
            return Err(self.fail(
                var,
                format!(
                    "{what} would inline {bytes} bytes, more than --max-decoded-inline {} allows; convert it with `arco convert` (or raise the limit)",
                    self.options.max_decoded_inline
                ),
            ));
        }
        Ok(())
    }

    fn encode(&self, var: &Variable, chain: &[Numcodec], raw: &[u8]) -> Result<Vec<u8>> {
        encode_chain(chain, raw).map_err(|why| self.fail(var, why))
    }

    /// The axis of the concatenation dimension in `var`, if any.
    fn axis(&self, var: &Variable) -> Option<usize> {
        match self.input {
            Input::Single(_) => None,
            Input::Concat(c) => c.axis_of(&var.path),
        }
    }

    /// The dimension `var` is concatenated along (for messages).
    fn dim_of(&self, var: &Variable) -> String {
        match self.input {
            Input::Single(_) => String::new(),
            Input::Concat(c) => c.dim_of(&var.path).unwrap_or(c.dim()).to_string(),
        }
    }

    /// Read the stored bytes of `stored[k]` for every `k` in `which`
    /// (coalesced per source), in that order.
    fn read_stored(&self, stored: &[Stored<'_>], which: &[usize]) -> Result<Vec<bytes::Bytes>> {
        let mut by_source: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (pos, &k) in which.iter().enumerate() {
            by_source.entry(stored[k].source).or_default().push(pos);
        }
        let mut out: Vec<Option<bytes::Bytes>> = vec![None; which.len()];
        for (source, positions) in by_source {
            let src = self.sources.get(source).ok_or_else(|| Error::Output {
                path: self.location(),
                message: format!("source number {source} is missing"),
            })?;
            let ranges: Vec<std::ops::Range<u64>> = positions
                .iter()
                .map(|&p| {
                    let c = stored[which[p]].chunk;
                    c.offset..c.offset + c.length
                })
                .collect();
            let got = src.bytes.read_ranges(&ranges)?;
            for (p, b) in positions.into_iter().zip(got) {
                out[p] = Some(b);
            }
        }
        Ok(out.into_iter().flatten().collect())
    }
}

/// A short TIFF strip (fewer rows than the chunk) padded with zeros to a
/// whole chunk, plane by plane: chunks are `(..., rows, width)`, and every
/// leading index (band) holds its own rows.
fn pad_planes(short: &[u8], chunk_shape: &[u64], elem: usize, chunk_bytes: u64) -> Vec<u8> {
    let n = chunk_shape.len();
    let full = usize::try_from(chunk_bytes).unwrap_or(usize::MAX);
    let row_bytes = (chunk_shape.last().map_or(1, |w| *w as usize) * elem).max(1);
    let rows = if n >= 2 {
        chunk_shape[n - 2] as usize
    } else {
        1
    };
    let plane = (rows * row_bytes).max(1);
    let planes = (full / plane).max(1);
    let short_plane = short.len() / planes;
    let mut out = vec![0u8; full];
    if short_plane * planes != short.len()
        || !short_plane.is_multiple_of(row_bytes)
        || short_plane > plane
    {
        // Not whole rows per plane: keep the bytes in order.
        let n = short.len().min(full);
        out[..n].copy_from_slice(&short[..n]);
        return out;
    }
    for p in 0..planes {
        out[p * plane..p * plane + short_plane]
            .copy_from_slice(&short[p * short_plane..(p + 1) * short_plane]);
    }
    out
}

/// The filter mask most chunks share (the smallest of the most common),
/// from the counts of chunks by mask (first of each pair).
fn common_mask(masks: &BTreeMap<u32, (u64, u64)>) -> u32 {
    let mut best = (0u32, 0u64);
    for (mask, (n, _)) in masks {
        if *n > best.1 {
            best = (*mask, *n);
        }
    }
    best.0
}

/// Types whose values [`values_le_bytes`] turns back into stored bytes exactly.
fn whole_array_type(dtype: &DType) -> bool {
    match dtype {
        DType::Enum { base, .. } => whole_array_type(base),
        DType::Opaque { .. } | DType::Char | DType::Bool => true,
        d => d.is_numeric(),
    }
}

/// Values as little-endian element bytes (numbers, booleans, chars, opaque).
fn values_le_bytes(v: &Values) -> Option<Vec<u8>> {
    fn le<T: Copy, const N: usize>(x: &[T], f: fn(T) -> [u8; N]) -> Vec<u8> {
        x.iter().flat_map(|v| f(*v)).collect()
    }
    Some(match v {
        Values::Bool(x) => x.iter().map(|b| u8::from(*b)).collect(),
        Values::I8(x) => x.iter().map(|b| *b as u8).collect(),
        Values::U8(x) => x.clone(),
        Values::I16(x) => le(x, i16::to_le_bytes),
        Values::U16(x) => le(x, u16::to_le_bytes),
        Values::I32(x) => le(x, i32::to_le_bytes),
        Values::U32(x) => le(x, u32::to_le_bytes),
        Values::I64(x) => le(x, i64::to_le_bytes),
        Values::U64(x) => le(x, u64::to_le_bytes),
        Values::F32(x) => le(x, f32::to_le_bytes),
        Values::F64(x) => le(x, f64::to_le_bytes),
        Values::Opaque { bytes, .. } => bytes.clone(),
        _ => return None,
    })
}

/// Why a GRIB variable's messages cannot be referenced with kerchunk's
/// `grib` codec: ecCodes returns the values in the order they are stored,
/// and for column-major (`jPointsAreConsecutive`) or boustrophedonic
/// (`alternativeRowScanning`) storage that is not the row-major order of
/// arco's coordinates (arco's own decoder turns them round). Such chunks
/// are decoded and inlined instead of silently read transposed.
fn grib_reorder(var: &Variable, codecs: &[CodecSpec]) -> Option<String> {
    if !codecs.iter().any(|c| matches!(c, CodecSpec::Grib { .. })) {
        return None;
    }
    let flag = |name: &str| {
        var.attr(name)
            .and_then(|a| a.as_f64())
            .is_some_and(|v| v != 0.0)
    };
    if var
        .attr("GRIB_gridType")
        .and_then(|a| a.as_str())
        .is_some_and(|t| t == "sh")
    {
        Some(
            "spherical harmonic coefficients are not a grid; ecCodes would return the coefficients"
                .into(),
        )
    } else if flag("GRIB_jPointsAreConsecutive") {
        Some("the messages store columns first (jPointsAreConsecutive); ecCodes would return them transposed".into())
    } else if flag("GRIB_alternativeRowScanning") {
        Some("the messages store every other row reversed (alternativeRowScanning); ecCodes would return them unreversed".into())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn values_become_little_endian_bytes() {
        assert_eq!(
            values_le_bytes(&Values::I16(vec![1, -2])).unwrap(),
            vec![1, 0, 0xfe, 0xff]
        );
        assert_eq!(
            values_le_bytes(&Values::Bool(vec![true, false])).unwrap(),
            vec![1, 0]
        );
        assert!(values_le_bytes(&Values::Str(vec![])).is_none());
    }

    #[test]
    fn a_short_strip_of_two_bands_is_padded_band_by_band() {
        // Chunk (2 bands, 3 rows, 2 columns) of u8; the strip holds 1 row.
        let short = [1, 2, 3, 4];
        let padded = pad_planes(&short, &[2, 3, 2], 1, 12);
        assert_eq!(padded, vec![1, 2, 0, 0, 0, 0, 3, 4, 0, 0, 0, 0]);
    }

    #[test]
    fn missing_positions_of_a_part_are_filled_within_its_slab_only() {
        let fill: Arc<[u8]> = vec![9].into();
        let have = |f: u64| (f, Reference::Inline(vec![0].into()));
        // Grid 3 × 4, concatenated along axis 1; this part holds columns 1..3.
        let out = fill_missing(vec![have(2), have(10)], &fill, &[3, 4], Some(1), 1, Some(2));
        let flats: Vec<u64> = out.iter().map(|(f, _)| *f).collect();
        assert_eq!(flats, [1, 2, 5, 6, 9, 10]);
        assert_eq!(out[0].1, Reference::Inline(fill.clone()));
        assert_eq!(out[1].1, Reference::Inline(vec![0].into()));
        // No axis: the whole grid; a scalar has its one chunk.
        assert_eq!(fill_missing(vec![], &fill, &[2], None, 0, None).len(), 2);
        assert_eq!(fill_missing(vec![], &fill, &[], None, 0, None).len(), 1);
    }

    #[test]
    fn chunks_are_placed_by_their_shifted_index_inside_their_part() {
        use arco_core::ChunkGrid;
        let chunk = |i: u64, j: u64| ChunkRef {
            index: vec![i, j],
            offset: 0,
            length: 1,
            filter_mask: 0,
            inline: None,
        };
        let m = ChunkManifest {
            variable: "v".into(),
            dtype: DType::U8,
            endian: Endian::Little,
            grid: ChunkGrid::new(vec![2, 2], vec![1, 1]).unwrap(),
            codecs: vec![],
            // Out of order, one repeated, one past the part's extent.
            chunks: vec![
                chunk(1, 0),
                chunk(0, 1),
                chunk(0, 0),
                chunk(0, 1),
                chunk(2, 0),
            ],
            fill_bytes: None,
        };
        // Combined grid 6 × 2 along axis 0; this part starts at row 3, 2 rows.
        let placed = place(&m, &[6, 2], Some(0), 3, Some(2));
        assert_eq!(placed, vec![(6, 2), (7, 1), (8, 0)]);
    }

    #[test]
    fn zarr_prefixes_of_groups() {
        assert_eq!(zarr_prefix("/"), "");
        assert_eq!(zarr_prefix("/a/b"), "a/b/");
    }
}
