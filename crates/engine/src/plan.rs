//! The plan: which output arrays, chunked how, copied how, in which tasks.
//!
//! Every source variable becomes one output array at the same path, except a
//! compound variable, which becomes a group of that name with one array per
//! field (`/Events` → `/Events/mean`, …). A variable's output is written in
//! **tasks**: blocks of whole write units (shards, or chunks when unsharded)
//! no larger than a task's share of the memory budget.
//!
//! ## Direct copy or rechunk
//!
//! A direct task reads its output region from the source and writes it. When
//! the source is chunked differently (a map-chunked source written as time
//! series), every task decodes every source chunk it touches, and a source
//! chunk touched by many tasks is decoded many times. The planner estimates
//! this *read amplification* (source chunk decodes over distinct source
//! chunks); above [`MAX_READ_AMPLIFICATION`] it plans a two-pass rechunk as
//! rechunker does (`rechunking_plan`, single stage):
//!
//! * write blocks: the output write unit grown from the last axis up to the
//!   task budget;
//! * read blocks: the source chunk grown from the last axis up to the budget,
//!   but only along axes where the write block is longer than the source
//!   chunk, and at most to the write block there;
//! * intermediate chunks: the element-wise minimum of the two (read blocks are
//!   then aligned so every read block is a whole number of intermediate chunks
//!   and no two tasks write one intermediate chunk).
//!
//! Pass 1 reads read blocks (each source chunk decoded about once) into a
//! temporary Zarr store with a fast codec; pass 2 reads write blocks from it.
//!
//! The plan is data: it serialises to JSON, and its [`Plan::hash`] (over the
//! arco version, the sources with their sizes and modification times, the
//! options and every planned shape) names the completion markers of a run, so
//! a rerun of the same command resumes and any other plan starts over.

use crate::chunking::{self, ChunkInput, ChunkOptions, VARLEN_ELEMENT_BYTES};
use crate::memory::{MemoryBudget, TASK_FRACTION};
use crate::{Error, Result};
use arco_core::cf::{axis_kind, Axis};
use arco_core::{DType, Dataset, Variable};
use arco_formats::Reader;
use arco_zarr::Compression;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Above this read amplification a variable is rechunked through an
/// intermediate store rather than copied directly.
pub const MAX_READ_AMPLIFICATION: f64 = 4.0;

/// Version of the plan format (part of the hash).
pub const PLAN_VERSION: u32 = 1;

/// The codec the user asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "codec", rename_all = "kebab-case")]
pub enum CodecChoice {
    /// The writer's default for each type (zstd with byte shuffle for numbers).
    #[default]
    Default,
    /// No compression.
    None,
    /// Zstandard at `level` (byte shuffle for multi-byte numbers).
    Zstd {
        /// Level, 1–22.
        level: i32,
    },
    /// Blosc with zstd inside.
    BloscZstd {
        /// Level 0–9.
        level: u8,
    },
    /// Blosc with lz4 inside.
    BloscLz4 {
        /// Level 0–9.
        level: u8,
    },
    /// gzip.
    Gzip {
        /// Level 0–9.
        level: u32,
    },
}

impl std::str::FromStr for CodecChoice {
    type Err = Error;
    /// `zstd:3`, `blosc-zstd:5`, `blosc-lz4:5`, `gzip:6`, `none`, `default`
    /// (the level may be left out).
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim().to_ascii_lowercase();
        let (name, level) = match s.split_once(':') {
            Some((n, l)) => (n.to_string(), Some(l.trim().to_string())),
            None => (s.clone(), None),
        };
        let num = |default: i64, lo: i64, hi: i64| -> Result<i64> {
            let Some(l) = &level else { return Ok(default) };
            let v: i64 = l.parse().map_err(|_| {
                Error::Options(format!("--codec {s}: the level '{l}' is not a number"))
            })?;
            if v < lo || v > hi {
                return Err(Error::Options(format!(
                    "--codec {s}: the level must be between {lo} and {hi}"
                )));
            }
            Ok(v)
        };
        Ok(match name.as_str() {
            "default" => CodecChoice::Default,
            "none" | "raw" => CodecChoice::None,
            "zstd" => CodecChoice::Zstd {
                level: num(3, 1, 22)? as i32,
            },
            "blosc-zstd" | "blosc" => CodecChoice::BloscZstd {
                level: num(5, 0, 9)? as u8,
            },
            "blosc-lz4" => CodecChoice::BloscLz4 {
                level: num(5, 0, 9)? as u8,
            },
            "gzip" | "zlib" | "deflate" => CodecChoice::Gzip {
                level: num(6, 0, 9)? as u32,
            },
            other => {
                return Err(Error::Options(format!(
                    "--codec {other}: choose zstd:LEVEL, blosc-zstd:LEVEL, blosc-lz4:LEVEL, gzip:LEVEL or none"
                )))
            }
        })
    }
}

impl CodecChoice {
    /// The compression of an array of `dtype`.
    pub fn compression_for(&self, dtype: &DType) -> Compression {
        let shuffle = dtype.is_numeric() && dtype.size().is_some_and(|s| s > 1);
        match self {
            CodecChoice::Default => arco_zarr::default_compression(dtype),
            CodecChoice::None => Compression::None,
            CodecChoice::Zstd { level } => Compression::Zstd {
                level: *level,
                shuffle,
            },
            CodecChoice::BloscZstd { level } => Compression::Blosc {
                cname: "zstd".into(),
                clevel: *level,
                shuffle,
            },
            CodecChoice::BloscLz4 { level } => Compression::Blosc {
                cname: "lz4".into(),
                clevel: *level,
                shuffle,
            },
            CodecChoice::Gzip { level } => Compression::Gzip { level: *level },
        }
    }
}

/// Everything the user chose about a conversion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConvertOptions {
    /// Chunk layout, explicit chunks, chunk and shard sizes.
    pub chunks: ChunkOptions,
    /// Codec.
    pub codec: CodecChoice,
    /// Zarr format: 2 or 3.
    pub zarr_format: u8,
    /// Memory for the whole process.
    pub memory: MemoryBudget,
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// Rechunk above this read amplification (default [`MAX_READ_AMPLIFICATION`]).
    pub max_read_amplification: f64,
    /// Variables left out on purpose (names or full paths), recorded in the provenance.
    #[serde(default)]
    pub drop: Vec<String>,
    /// Overview levels (`--pyramid`), recorded in the provenance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pyramid: Option<crate::pyramid::PyramidOptions>,
}

impl Default for ConvertOptions {
    fn default() -> Self {
        ConvertOptions {
            chunks: ChunkOptions::default(),
            codec: CodecChoice::Default,
            zarr_format: 3,
            memory: MemoryBudget::detect(),
            threads: 0,
            max_read_amplification: MAX_READ_AMPLIFICATION,
            drop: Vec::new(),
            pyramid: None,
        }
    }
}

/// True when `var` is named (by name or full path) in `drop`.
pub fn is_dropped(var: &Variable, drop: &[String]) -> bool {
    drop.iter().any(|d| d == &var.name || d == &var.path)
}

/// One input as it was when planned: a changed input makes a different plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceStamp {
    /// Path or URL as given.
    pub location: String,
    /// Size in bytes.
    pub size: u64,
    /// Modification time (seconds since 1970, local files only).
    pub modified: Option<u64>,
    /// The store's version of the object (an ETag), remote sources only.
    #[serde(default)]
    pub etag: Option<String>,
}

impl SourceStamp {
    /// The stamp of `location` with `size`; local files add their modification time.
    pub fn of(location: &str, size: u64) -> Self {
        let modified = match arco_storage::Location::parse(location) {
            Ok(arco_storage::Location::Local(p)) => std::fs::metadata(p)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_secs()),
            _ => None,
        };
        SourceStamp {
            location: location.to_string(),
            size,
            modified,
            etag: None,
        }
    }

    /// The stamp of an opened source: its size, and its ETag when the store gives one.
    pub fn of_source(location: &str, source: &dyn arco_storage::ByteSource) -> Self {
        SourceStamp {
            etag: source.version(),
            ..SourceStamp::of(location, source.len())
        }
    }
}

/// How a variable's data gets to its output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Strategy {
    /// Each task reads its output region from the source.
    Direct {
        /// Estimated source chunk decodes over distinct source chunks.
        read_amplification: f64,
    },
    /// Two passes through an intermediate store.
    Rechunk {
        /// Pass-1 region (whole source chunks).
        read: Vec<u64>,
        /// Chunk shape of the intermediate array.
        intermediate: Vec<u64>,
        /// What a direct copy would have cost.
        direct_read_amplification: f64,
    },
}

/// One output array of a variable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputArray {
    /// Path in the output store.
    pub path: String,
    /// The compound field it holds, if any.
    pub field: Option<String>,
    /// Its element type.
    pub dtype: DType,
}

/// The plan of one source variable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VarPlan {
    /// Variable path in the source.
    pub source: String,
    /// Output arrays (one, or one per compound field).
    pub outputs: Vec<OutputArray>,
    /// Dimension names.
    pub dims: Vec<String>,
    /// Shape.
    pub shape: Vec<u64>,
    /// Bytes per element (an estimate for strings).
    pub element_bytes: u64,
    /// Output chunk shape.
    pub chunk: Vec<u64>,
    /// Output shard shape.
    pub shard: Option<Vec<u64>>,
    /// The source's chunk shape as read (large raw chunks in pieces).
    pub source_chunk: Vec<u64>,
    /// Output region of one (final) task: whole write units.
    pub task_shape: Vec<u64>,
    /// Direct or rechunk.
    pub strategy: Strategy,
    /// Uncompressed bytes.
    pub bytes: u64,
}

impl VarPlan {
    /// The unit of independent writes.
    pub fn write_unit(&self) -> &[u64] {
        self.shard.as_deref().unwrap_or(&self.chunk)
    }
}

/// A group to create, with its attributes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupPlan {
    /// Path, never `/` (the root is written last, with provenance).
    pub path: String,
    /// Attributes.
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

/// What a task does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Source → output.
    Direct,
    /// Source → intermediate store (pass 1 of a rechunk).
    Intermediate,
    /// Intermediate store → output (pass 2).
    Final,
}

/// One unit of work over one region of one variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// Stable id, `v{var}.{d|i|f}{n}`: the name of its completion marker.
    pub id: String,
    /// Index into [`Plan::variables`].
    pub var: usize,
    /// What it does.
    pub stage: Stage,
    /// First element of the region.
    pub start: Vec<u64>,
    /// Extent of the region.
    pub shape: Vec<u64>,
    /// Uncompressed bytes of the region.
    pub bytes: u64,
}

/// A whole conversion, ready to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Plan format version.
    pub version: u32,
    /// arco version that made it.
    pub arco_version: String,
    /// The inputs.
    pub sources: Vec<SourceStamp>,
    /// The options.
    pub options: ConvertOptions,
    /// Worker threads actually used.
    pub threads: usize,
    /// Largest region of one task, bytes.
    pub task_bytes: u64,
    /// Decoded source bytes one read holds at once.
    pub read_batch_bytes: u64,
    /// Root attributes of the source (provenance is added when publishing).
    pub root_attributes: serde_json::Map<String, serde_json::Value>,
    /// Groups to create (sub-groups of the source and compound variables).
    pub groups: Vec<GroupPlan>,
    /// Per source variable.
    pub variables: Vec<VarPlan>,
    /// Overview levels, when asked for and the data have a horizontal grid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pyramid: Option<crate::pyramid::PyramidPlan>,
    /// Hex SHA-256 (first 16 digits) of everything above.
    pub hash: String,
    /// Notes for the user (threads lowered to fit memory, oversized chunks, …).
    pub notes: Vec<String>,
}

impl Plan {
    /// Every task, in order: direct and pass-1 tasks, then pass-2 tasks.
    pub fn tasks(&self) -> Vec<Task> {
        let mut first = Vec::new();
        let mut second = Vec::new();
        for (i, v) in self.variables.iter().enumerate() {
            match &v.strategy {
                Strategy::Direct { .. } => first.extend(blocks(
                    i,
                    Stage::Direct,
                    &v.shape,
                    &v.task_shape,
                    v.element_bytes,
                )),
                Strategy::Rechunk { read, .. } => {
                    first.extend(blocks(
                        i,
                        Stage::Intermediate,
                        &v.shape,
                        read,
                        v.element_bytes,
                    ));
                    second.extend(blocks(
                        i,
                        Stage::Final,
                        &v.shape,
                        &v.task_shape,
                        v.element_bytes,
                    ));
                }
            }
        }
        first.extend(second);
        first
    }

    /// Uncompressed bytes of every variable.
    pub fn bytes(&self) -> u64 {
        self.variables.iter().map(|v| v.bytes).sum()
    }

    /// Number of output chunks, all arrays together.
    pub fn chunk_count(&self) -> u64 {
        self.variables
            .iter()
            .map(|v| grid_count(&v.shape, &v.chunk) * v.outputs.len() as u64)
            .sum()
    }
}

/// The regions of a regular grid of `block` over `shape`, as tasks.
fn blocks(var: usize, stage: Stage, shape: &[u64], block: &[u64], elem: u64) -> Vec<Task> {
    let tag = match stage {
        Stage::Direct => 'd',
        Stage::Intermediate => 'i',
        Stage::Final => 'f',
    };
    let lists: Vec<Vec<u64>> = shape
        .iter()
        .zip(block)
        .map(|(&n, &b)| (0..n.div_ceil(b.max(1))).collect())
        .collect();
    arco_core::chunks::cartesian(&lists)
        .into_iter()
        .enumerate()
        .map(|(n, idx)| {
            let start: Vec<u64> = idx.iter().zip(block).map(|(i, b)| i * b).collect();
            let ext: Vec<u64> = start
                .iter()
                .zip(block)
                .zip(shape)
                .map(|((s, b), n)| (*b).min(n - s))
                .collect();
            let bytes = ext.iter().product::<u64>() * elem;
            Task {
                id: format!("v{var}.{tag}{n}"),
                var,
                stage,
                start,
                shape: ext,
                bytes,
            }
        })
        .collect()
}

fn grid_count(shape: &[u64], chunk: &[u64]) -> u64 {
    shape
        .iter()
        .zip(chunk)
        .map(|(&n, &c)| n.div_ceil(c.max(1)))
        .product()
}

/// Names of the dimensions that are time: those of 1-D coordinate variables
/// whose CF axis is T, and any dimension named `time`.
fn time_dims(ds: &Dataset) -> Vec<String> {
    let mut out: Vec<String> = ds
        .root
        .all_variables()
        .into_iter()
        .filter(|v| v.is_coordinate() && axis_kind(v) == Some(Axis::T))
        .map(|v| v.name.clone())
        .collect();
    out.push("time".into());
    out
}

/// Plan the conversion of everything `reader` holds.
pub fn plan(
    reader: &dyn Reader,
    sources: &[SourceStamp],
    options: &ConvertOptions,
) -> Result<Plan> {
    if options.zarr_format != 2 && options.zarr_format != 3 {
        return Err(Error::Options(format!(
            "--zarr-format {}: choose 2 or 3",
            options.zarr_format
        )));
    }
    if options.zarr_format == 2 && options.chunks.shard_bytes.is_some() {
        return Err(Error::Options(
            "--shard needs Zarr v3: Zarr v2 has no shards (drop --zarr-format 2 or --shard)".into(),
        ));
    }
    let ds = reader.dataset();
    let mut notes = Vec::new();
    let mut threads = if options.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        options.threads
    };
    let budget = options.memory;
    let mut chunk_opts = options.chunks.clone();
    // A shard is written whole: keep it within one task's share.
    if let Some(s) = chunk_opts.shard_bytes.as_mut() {
        *s = (*s).min(budget.task_bytes(threads));
    }
    let times = time_dims(ds);

    // Groups.
    let mut groups = Vec::new();
    fn walk(g: &arco_core::Group, out: &mut Vec<GroupPlan>) {
        for c in &g.groups {
            out.push(GroupPlan {
                path: c.path.clone(),
                attributes: arco_zarr::attributes_json(&c.attributes),
            });
            walk(c, out);
        }
    }
    walk(&ds.root, &mut groups);

    // Chunk choices first: the largest write unit decides the thread count.
    struct Pending<'a> {
        var: &'a Variable,
        outputs: Vec<OutputArray>,
        elem: u64,
        choice: chunking::ChunkChoice,
    }
    let mut pending = Vec::new();
    let all = ds.root.all_variables();
    if let Some(unknown) = options
        .drop
        .iter()
        .find(|d| !all.iter().any(|v| &v.name == *d || &v.path == *d))
    {
        return Err(Error::Options(format!(
            "--drop {unknown}: {} has no such variable",
            ds.source
        )));
    }
    for var in all {
        if is_dropped(var, &options.drop) {
            notes.push(format!("{} left out (--drop)", var.path));
            continue;
        }
        let outputs = outputs_of(var)?;
        if matches!(var.dtype, DType::Compound { .. }) {
            groups.push(GroupPlan {
                path: var.path.clone(),
                attributes: arco_zarr::attributes_json(&var.attributes),
            });
        }
        let elem = var.dtype.size().unwrap_or(VARLEN_ELEMENT_BYTES).max(1);
        let input = ChunkInput {
            dims: &var.dims,
            shape: &var.shape,
            element_bytes: elem,
            time_dim: var.dims.iter().position(|d| times.contains(d)),
            is_coordinate: var.is_coordinate(),
        };
        let choice = chunking::choose(&input, &chunk_opts);
        pending.push(Pending {
            var,
            outputs,
            elem: elem as u64,
            choice,
        });
    }
    let largest_unit = pending
        .iter()
        .map(|p| {
            let unit = p.choice.shard.as_deref().unwrap_or(&p.choice.chunk);
            unit.iter().product::<u64>() * p.elem
        })
        .max()
        .unwrap_or(0);
    while threads > 1 && budget.task_bytes(threads) < largest_unit {
        threads -= 1;
    }
    if budget.task_bytes(threads) < largest_unit {
        let worst = pending
            .iter()
            .max_by_key(|p| {
                p.choice
                    .shard
                    .as_deref()
                    .unwrap_or(&p.choice.chunk)
                    .iter()
                    .product::<u64>()
                    * p.elem
            })
            .map(|p| p.var.path.clone())
            .unwrap_or_default();
        return Err(Error::Memory(format!(
            "a chunk of {worst} holds {largest_unit} bytes, more than a quarter of the memory budget ({} bytes); raise --memory or lower --chunk-size (or drop --shard)",
            budget.total
        )));
    }
    if options.threads != 0 && threads < options.threads {
        notes.push(format!(
            "using {threads} of the {} threads asked for: a chunk (or shard) of {largest_unit} bytes needs a quarter of each thread's share of --memory",
            options.threads
        ));
    }
    let task_bytes = budget.task_bytes(threads);
    let read_batch_bytes = (budget.per_thread(threads) / TASK_FRACTION).max(1);

    let mut variables = Vec::new();
    for p in pending {
        let var = p.var;
        let elem = p.elem;
        let chunk = p.choice.chunk;
        let shard = p.choice.shard;
        let unit: Vec<u64> = shard.clone().unwrap_or_else(|| chunk.clone());
        let source_chunk = source_chunk_shape(reader, var, read_batch_bytes);
        let task_shape = consolidate(&var.shape, &unit, elem, task_bytes, &vec![None; unit.len()]);
        let amp = read_amplification(&var.shape, &source_chunk, &task_shape);
        let fixed = var.dtype.size().is_some();
        let total = var.shape.iter().product::<u64>() * elem;
        let strategy = if fixed && amp > options.max_read_amplification && total > task_bytes {
            let (read, intermediate) =
                rechunk_shapes(&var.shape, &source_chunk, &task_shape, elem, task_bytes);
            Strategy::Rechunk {
                read,
                intermediate,
                direct_read_amplification: amp,
            }
        } else {
            Strategy::Direct {
                read_amplification: amp,
            }
        };
        let src_bytes = source_chunk.iter().product::<u64>() * elem;
        if src_bytes > read_batch_bytes {
            notes.push(format!(
                "{}: a source chunk decodes to {src_bytes} bytes, more than the read batch of {read_batch_bytes}; memory may exceed --memory",
                var.path
            ));
        }
        variables.push(VarPlan {
            source: var.path.clone(),
            outputs: p.outputs,
            dims: var.dims.clone(),
            shape: var.shape.clone(),
            element_bytes: elem,
            chunk,
            shard,
            source_chunk,
            task_shape,
            strategy,
            bytes: total,
        });
    }

    let pyramid = match &options.pyramid {
        Some(p) => {
            let (pyramid, more) =
                crate::pyramid::plan_pyramid(reader, &variables, p, &options.drop, task_bytes)?;
            notes.extend(more);
            pyramid
        }
        None => None,
    };
    let mut plan = Plan {
        version: PLAN_VERSION,
        arco_version: env!("CARGO_PKG_VERSION").to_string(),
        sources: sources.to_vec(),
        options: options.clone(),
        threads,
        task_bytes,
        read_batch_bytes,
        root_attributes: arco_zarr::attributes_json(&ds.root.attributes),
        groups,
        variables,
        pyramid,
        hash: String::new(),
        notes,
    };
    plan.hash = plan_hash(&plan)?;
    Ok(plan)
}

/// Hex SHA-256 (16 digits) of the plan without its hash and notes.
fn plan_hash(plan: &Plan) -> Result<String> {
    let mut p = plan.clone();
    p.hash.clear();
    p.notes.clear();
    let bytes = serde_json::to_vec(&p)
        .map_err(|e| Error::Options(format!("the plan cannot be serialised: {e}")))?;
    let digest = Sha256::digest(&bytes);
    Ok(digest.iter().take(8).map(|b| format!("{b:02x}")).collect())
}

/// The output arrays of `var`.
fn outputs_of(var: &Variable) -> Result<Vec<OutputArray>> {
    match &var.dtype {
        DType::Compound { fields, .. } => fields
            .iter()
            .map(|f| {
                if matches!(f.dtype, DType::Compound { .. }) {
                    return Err(Error::Options(format!(
                        "{}: field '{}' is itself a compound; nested compounds cannot be converted yet",
                        var.path, f.name
                    )));
                }
                Ok(OutputArray {
                    path: format!("{}/{}", var.path.trim_end_matches('/'), f.name),
                    field: Some(f.name.clone()),
                    dtype: f.dtype.clone(),
                })
            })
            .collect(),
        DType::VarLen { .. } | DType::Opaque { .. } => Err(Error::Options(format!(
            "{}: element type {} has no Zarr representation that xarray or zarr-python reads; leave it out with --drop {}",
            var.path, var.dtype, var.name
        ))),
        other => Ok(vec![OutputArray {
            path: var.path.clone(),
            field: None,
            dtype: other.clone(),
        }]),
    }
}

/// The variable an output array is written as (a compound field becomes a
/// variable of its own, without the compound's attributes, which go on the group).
pub fn output_variable(var: &Variable, out: &OutputArray) -> Variable {
    let mut v = var.clone();
    v.path = out.path.clone();
    v.dtype = out.dtype.clone();
    if let Some(field) = &out.field {
        v.name = field.clone();
        v.attributes.clear();
        v.fill_value = None;
    }
    v
}

/// The source's chunk shape as the read engine will decode it.
fn source_chunk_shape(reader: &dyn Reader, var: &Variable, batch: u64) -> Vec<u64> {
    let piece = arco_formats::read::RAW_PIECE_BYTES.min(batch.max(1));
    match reader.manifest(&var.path) {
        Ok(m) => match arco_formats::read::split_raw_chunks(&m, piece) {
            Some(p) => p.grid.chunk_shape,
            None => m.grid.chunk_shape,
        },
        // Spread over several files (concatenation): the variable's own chunking.
        Err(_) => var.chunk_shape.clone().unwrap_or_else(|| var.shape.clone()),
    }
    .into_iter()
    .zip(&var.shape)
    .map(|(c, &n)| c.clamp(1, n.max(1)))
    .collect()
}

/// Source chunk decodes over distinct source chunks when every block of a
/// regular grid of `block` over `shape` reads the chunks of `chunk` it touches.
pub fn read_amplification(shape: &[u64], chunk: &[u64], block: &[u64]) -> f64 {
    let mut ratio = 1.0;
    for ((&n, &c), &b) in shape.iter().zip(chunk).zip(block) {
        if n == 0 {
            return 1.0;
        }
        let (c, b) = (c.max(1), b.max(1));
        let distinct = n.div_ceil(c);
        let mut touched = 0u64;
        let mut a = 0u64;
        while a < n {
            let e = (a + b).min(n);
            touched += (e - 1) / c - a / c + 1;
            a = e;
        }
        ratio *= touched as f64 / distinct as f64;
    }
    ratio
}

/// rechunker's `consolidate_chunks`: grow `chunks` by whole multiples, from
/// the last axis towards the first, while the block stays within `max_bytes`;
/// `limits[d]` caps axis `d` (`None`: up to the shape). Never shrinks.
pub fn consolidate(
    shape: &[u64],
    chunks: &[u64],
    elem: u64,
    max_bytes: u64,
    limits: &[Option<u64>],
) -> Vec<u64> {
    let mut out: Vec<u64> = chunks
        .iter()
        .zip(shape)
        .map(|(&c, &n)| c.clamp(1, n.max(1)))
        .collect();
    for d in (0..out.len()).rev() {
        let bytes = out.iter().product::<u64>().saturating_mul(elem.max(1));
        let headroom = max_bytes / bytes.max(1);
        if headroom <= 1 {
            break;
        }
        let limit = limits
            .get(d)
            .copied()
            .flatten()
            .unwrap_or(shape[d])
            .min(shape[d].max(1));
        let grown = out[d].saturating_mul(headroom).min(limit);
        // Stay a whole multiple of the original chunk unless reaching the edge.
        let c = chunks[d].max(1);
        out[d] = if grown >= shape[d] {
            shape[d].max(1)
        } else {
            (grown / c).max(1) * c
        }
        .max(out[d]);
    }
    out
}

/// Pass-1 read blocks and intermediate chunks for a rechunk (rechunker's
/// single-stage plan, with read blocks aligned to the intermediate chunks).
pub fn rechunk_shapes(
    shape: &[u64],
    source_chunk: &[u64],
    write: &[u64],
    elem: u64,
    max_bytes: u64,
) -> (Vec<u64>, Vec<u64>) {
    let limits: Vec<Option<u64>> = source_chunk
        .iter()
        .zip(write)
        .map(|(&s, &w)| if w > s { Some(w) } else { Some(s) })
        .collect();
    let mut read = consolidate(shape, source_chunk, elem, max_bytes, &limits);
    let inter: Vec<u64> = read.iter().zip(write).map(|(&r, &w)| r.min(w)).collect();
    for d in 0..read.len() {
        let (r, i) = (read[d], inter[d]);
        if r > i && r < shape[d] && r % i != 0 {
            let l = lcm(r, i);
            let mut candidate = read.clone();
            candidate[d] = l.min(shape[d]);
            let bytes = candidate.iter().product::<u64>().saturating_mul(elem);
            read[d] = if bytes <= max_bytes {
                candidate[d]
            } else {
                (r / i) * i
            };
        }
    }
    (read, inter)
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

fn lcm(a: u64, b: u64) -> u64 {
    (a / gcd(a, b).max(1)).saturating_mul(b)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn codecs_parse_with_and_without_levels() {
        assert_eq!(
            "zstd:3".parse::<CodecChoice>().unwrap(),
            CodecChoice::Zstd { level: 3 }
        );
        assert_eq!(
            "zstd".parse::<CodecChoice>().unwrap(),
            CodecChoice::Zstd { level: 3 }
        );
        assert_eq!(
            "blosc-zstd:5".parse::<CodecChoice>().unwrap(),
            CodecChoice::BloscZstd { level: 5 }
        );
        assert_eq!(
            "gzip:6".parse::<CodecChoice>().unwrap(),
            CodecChoice::Gzip { level: 6 }
        );
        assert_eq!("none".parse::<CodecChoice>().unwrap(), CodecChoice::None);
        assert!("zstd:99".parse::<CodecChoice>().is_err());
        assert!("lzma:1".parse::<CodecChoice>().is_err());
        assert_eq!(
            CodecChoice::Zstd { level: 1 }.compression_for(&DType::F32),
            Compression::Zstd {
                level: 1,
                shuffle: true
            }
        );
    }

    #[test]
    fn read_amplification_counts_repeated_chunk_decodes() {
        // Map-chunked source, time-series blocks: every block reads every time chunk.
        let shape = [100, 40, 40];
        assert_eq!(
            read_amplification(&shape, &[1, 40, 40], &[100, 10, 10]),
            16.0
        );
        // Aligned blocks read each chunk once.
        assert_eq!(read_amplification(&shape, &[1, 40, 40], &[10, 40, 40]), 1.0);
        // Half-overlapping blocks read boundary chunks twice.
        assert_eq!(read_amplification(&[10], &[4], &[5]), 4.0 / 3.0);
    }

    #[test]
    fn consolidation_grows_from_the_last_axis_in_whole_chunks() {
        assert_eq!(
            consolidate(&[100, 40, 40], &[1, 40, 40], 4, 64_000, &[None; 3]),
            vec![10, 40, 40]
        );
        assert_eq!(
            consolidate(&[100, 40, 40], &[100, 5, 5], 4, 40_000, &[None; 3]),
            vec![100, 5, 20]
        );
        assert_eq!(consolidate(&[10], &[3], 1, 1000, &[None]), vec![10]);
        assert_eq!(consolidate(&[10], &[3], 1, 7, &[None]), vec![6]);
    }

    #[test]
    fn rechunking_a_map_source_to_time_series_follows_rechunker() {
        // Source (1, 40, 40), target (100, 5, 5), 40 kB blocks of 4-byte elements.
        let shape = [100, 40, 40];
        let write = consolidate(&shape, &[100, 5, 5], 4, 40_000, &[None; 3]);
        let (read, inter) = rechunk_shapes(&shape, &[1, 40, 40], &write, 4, 40_000);
        assert_eq!(write, vec![100, 5, 20]);
        assert_eq!(read, vec![6, 40, 40]);
        assert_eq!(inter, vec![6, 5, 20]);
        assert_eq!(read_amplification(&shape, &[1, 40, 40], &read), 1.0);
    }

    proptest! {
        #[test]
        fn rechunk_blocks_are_whole_intermediate_chunks(
            shape in prop::collection::vec(1u64..200, 1..4),
            seed in any::<u64>(),
            max_bytes in 64u64..100_000,
        ) {
            let src: Vec<u64> = shape.iter().enumerate().map(|(i, &n)| ((seed >> (i * 8)) % n) + 1).collect();
            let tgt: Vec<u64> = shape.iter().enumerate().map(|(i, &n)| ((seed >> (i * 8 + 32)) % n) + 1).collect();
            let elem = 4;
            let src_bytes: u64 = src.iter().product::<u64>() * elem;
            let tgt_bytes: u64 = tgt.iter().product::<u64>() * elem;
            prop_assume!(src_bytes <= max_bytes && tgt_bytes <= max_bytes);
            let write = consolidate(&shape, &tgt, elem, max_bytes, &vec![None; shape.len()]);
            let (read, inter) = rechunk_shapes(&shape, &src, &write, elem, max_bytes);
            for d in 0..shape.len() {
                prop_assert!(write[d].is_multiple_of(tgt[d]) || write[d] == shape[d]);
                prop_assert!(inter[d] <= read[d] && inter[d] <= write[d]);
                // No two pass-1 blocks share an intermediate chunk.
                prop_assert!(read[d] % inter[d] == 0 || read[d] >= shape[d], "{:?} {:?}", read, inter);
            }
            prop_assert!(write.iter().product::<u64>() * elem <= max_bytes.max(tgt_bytes));
        }
    }
}
