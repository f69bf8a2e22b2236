//! Running a plan: tasks on a rayon pool, completion markers, resume, and
//! atomic publication.
//!
//! ## Where things are written
//!
//! * **Local destination** `DEST`: everything goes to `DEST.arco-partial/`,
//!   renamed to `DEST` only when every task has completed and the root
//!   metadata is written. An existing `DEST` is refused unless `overwrite`;
//!   then it is renamed aside after the new output is complete, and deleted
//!   after the rename. Only a Zarr store (or an empty folder) is ever replaced.
//! * **Object-store destination**: written in place, the root group metadata
//!   last (an unfinished store has no root `zarr.json`, so xarray and
//!   zarr-python do not open it), then `.arco/complete`. `overwrite` deletes
//!   the old store first (object stores have no rename).
//!
//! ## Resume
//!
//! The plan is stored at `.arco/plan.json` and every completed task writes
//! `.arco/tasks/<plan-hash>/<task-id>`. A rerun of the same command (same
//! plan hash) skips completed tasks; a different plan over an unfinished
//! output deletes it and starts over (announced as a `restart` phase). A run
//! that fails leaves the partial output in place for the next run.
//!
//! Overview levels (`--pyramid`, [`crate::pyramid`]) are computed after the
//! full-resolution tasks and before the root metadata, level by level, each
//! from the level below read back from the partial output, with completion
//! markers of their own (`p{level}.v{n}.{block}`).
//!
//! Rechunked variables go through a temporary Zarr store (zstd level 1) at
//! `DEST.arco-partial/.arco/tmp` (local destinations) or in the system's
//! temporary folder under the plan hash (remote ones), with its own pass-1
//! markers; it is deleted before publication.

use crate::plan::{output_variable, Plan, Stage, Strategy, Task, VarPlan};
use crate::progress::Progress;
use crate::pyramid::{self, resample, PyramidPlan, PyramidTask, Role};
use crate::{provenance, Error, Result};
use arco_core::{Dataset, DimSlice, NdArray, Selection, Values, Variable};
use arco_formats::read::ReadOptions;
use arco_formats::Reader;
use arco_storage::{Location, OpenOptions};
use arco_zarr::{Compression, GroupSpec, ZarrArray, ZarrFormat, ZarrStore};
use rayon::prelude::*;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Suffix of the folder a local output is written to before publication.
pub const PARTIAL_SUFFIX: &str = ".arco-partial";

/// Where and how to write.
#[derive(Debug, Clone)]
pub struct OutputOptions {
    /// Destination: a local path or an `s3://` URL.
    pub location: String,
    /// Storage options (the runtime handle and S3 settings for remote outputs).
    pub open: OpenOptions,
    /// Replace an existing output.
    pub overwrite: bool,
    /// The command line, for provenance.
    pub command: Vec<String>,
    /// Test hook: fail once this many tasks have completed in this run
    /// (the CLI sets it from `ARCO_TEST_FAIL_AFTER_TASKS`).
    pub fail_after_tasks: Option<u64>,
    /// Describe the output in STAC (`.stac/collection.json` and
    /// `.stac/item.json` inside the store), or not.
    pub stac: Option<StacOptions>,
}

/// How `convert` describes its output in STAC.
#[derive(Debug, Clone, Default)]
pub struct StacOptions {
    /// The item's datetime when the data have no time coordinate (and no
    /// ACDD time coverage); without it such an item gets the conversion
    /// time, and a note says so.
    pub datetime: Option<chrono::DateTime<chrono::Utc>>,
    /// Band statistics (reading small data variables back).
    pub statistics: arco_catalog::StatisticsMode,
    /// Collection license (SPDX id); default: the data's own, else `other`.
    pub license: Option<arco_catalog::License>,
}

impl OutputOptions {
    /// Write to `location` with default options.
    pub fn new(location: impl Into<String>) -> Self {
        OutputOptions {
            location: location.into(),
            open: OpenOptions::default(),
            overwrite: false,
            command: std::env::args().collect(),
            fail_after_tasks: None,
            stac: Some(StacOptions::default()),
        }
    }
}

/// What a finished conversion did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// The published output.
    pub output: String,
    /// Output arrays.
    pub arrays: u64,
    /// Output chunks (all arrays).
    pub chunks: u64,
    /// Tasks run in this invocation.
    pub tasks_run: u64,
    /// Tasks a previous run had completed.
    pub tasks_skipped: u64,
    /// Variables rechunked through an intermediate store.
    pub rechunked: Vec<String>,
    /// Bytes of the inputs.
    pub bytes_in: u64,
    /// Uncompressed bytes written.
    pub bytes_uncompressed: u64,
    /// Bytes of the output on disk (local outputs only).
    pub bytes_out: Option<u64>,
    /// `bytes_uncompressed / bytes_out`.
    pub ratio: Option<f64>,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// The plan hash.
    pub plan: String,
    /// Overview levels written (`--pyramid`).
    pub pyramid_levels: u32,
}

/// Where the run writes, resolved from [`OutputOptions::location`].
enum Target {
    Local { dest: PathBuf, partial: PathBuf },
    Remote,
}

/// Everything the tasks share.
struct Ctx<'a> {
    reader: &'a dyn Reader,
    plan: &'a Plan,
    store_location: String,
    /// Output arrays per variable.
    arrays: Vec<Vec<ZarrArray>>,
    /// Intermediate arrays per variable (rechunked variables only).
    tmp_arrays: Vec<Vec<ZarrArray>>,
    tmp: Option<ZarrStore>,
    store: ZarrStore,
    read_options: ReadOptions,
    done_this_run: AtomicU64,
    fail_after: Option<u64>,
    progress: &'a (dyn Fn(Progress) + Sync),
}

/// Run `plan` over `reader` into `out`, reporting to `progress`.
///
/// Returns once the output is published; on error the partial output stays
/// for a rerun to resume.
pub fn convert(
    reader: &dyn Reader,
    plan: &Plan,
    out: &OutputOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Summary> {
    let started = Instant::now();
    let format = if plan.options.zarr_format == 2 {
        ZarrFormat::V2
    } else {
        ZarrFormat::V3
    };
    // Resolve the destination (and refuse an existing one) before anything else.
    let target = resolve_target(&out.location, out.overwrite)?;
    // Hash the inputs for the provenance on a thread of its own while the
    // tasks run: one pass over each input, overlapped with the conversion.
    // If a task fails, the handle is dropped and the thread finishes its
    // bounded read on its own (the binary exits at once).
    let sources = plan.sources.clone();
    let checksums = std::thread::Builder::new()
        .name("arco-checksums".into())
        .spawn(move || {
            sources
                .iter()
                .map(|s| provenance::input_record(&s.location, s.size, s.etag.as_deref()))
                .collect::<Result<Vec<_>>>()
        })
        .map_err(|e| Error::Options(format!("cannot start the checksum thread: {e}")))?;
    let tasks = plan.tasks();
    let rechunked: Vec<String> = plan
        .variables
        .iter()
        .filter(|v| matches!(v.strategy, Strategy::Rechunk { .. }))
        .map(|v| v.source.clone())
        .collect();
    let pyramid_tasks: Vec<PyramidTask> = plan
        .pyramid
        .as_ref()
        .map(PyramidPlan::all_tasks)
        .unwrap_or_default();
    let pyramid_arrays = plan.pyramid.as_ref().map_or(0, PyramidPlan::array_count);
    let array_count: u64 = plan
        .variables
        .iter()
        .map(|v| v.outputs.len() as u64)
        .sum::<u64>()
        + pyramid_arrays;
    progress(Progress::Planned {
        tasks: (tasks.len() + pyramid_tasks.len()) as u64,
        bytes: tasks.iter().map(|t| t.bytes).sum::<u64>()
            + pyramid_tasks.iter().map(|t| t.bytes).sum::<u64>(),
        arrays: array_count,
        rechunked: rechunked.clone(),
        threads: plan.threads,
        memory: plan.options.memory.total,
        plan: plan.hash.clone(),
    });
    for note in &plan.notes {
        progress(Progress::phase("note", note.clone()));
    }

    let store_location = match &target {
        Target::Local { partial, .. } => partial.display().to_string(),
        Target::Remote => out.location.clone(),
    };
    if let Target::Local { partial, .. } = &target {
        std::fs::create_dir_all(partial).map_err(|e| Error::Destination {
            location: out.location.clone(),
            message: format!("cannot create {}: {e}", partial.display()),
        })?;
    }
    let mut store = ZarrStore::create(&store_location, &out.open, format)?;
    if matches!(target, Target::Remote) {
        let complete = store.get_bytes(".arco/complete")?.is_some()
            || store.get_bytes("zarr.json")?.is_some()
            || store.get_bytes(".zgroup")?.is_some();
        if complete {
            if !out.overwrite {
                return Err(Error::Destination {
                    location: out.location.clone(),
                    message: "a dataset exists there; add --overwrite to replace it".into(),
                });
            }
            progress(Progress::phase(
                "restart",
                format!("deleting the existing dataset at {}", out.location),
            ));
            store.delete_prefix("")?;
        }
    }

    // Same plan: resume. Another plan: start over.
    let previous = store.get_bytes(".arco/plan.json")?;
    let previous_hash = previous.as_deref().and_then(|b| {
        serde_json::from_slice::<serde_json::Value>(b)
            .ok()
            .and_then(|v| v.get("hash").and_then(|h| h.as_str()).map(str::to_string))
    });
    let resuming = previous_hash.as_deref() == Some(plan.hash.as_str());
    if !resuming && (previous.is_some() || has_content(&target, &store)?) {
        progress(Progress::phase(
            "restart",
            format!(
                "{} holds an unfinished output of a different plan{}; starting over",
                store_location,
                previous_hash.map(|h| format!(" ({h})")).unwrap_or_default()
            ),
        ));
        match &target {
            Target::Local { partial, .. } => {
                std::fs::remove_dir_all(partial).map_err(|e| Error::io(partial, e))?;
                std::fs::create_dir_all(partial).map_err(|e| Error::io(partial, e))?;
                store = ZarrStore::create(&store_location, &out.open, format)?;
            }
            Target::Remote => store.delete_prefix("")?,
        }
    }
    let plan_json = serde_json::to_vec_pretty(plan)
        .map_err(|e| Error::Options(format!("the plan cannot be serialised: {e}")))?;
    if !resuming {
        store.put_bytes(".arco/plan.json", &plan_json)?;
    } else {
        progress(Progress::phase(
            "resume",
            format!("resuming the unfinished output in {store_location}"),
        ));
    }

    // Metadata of groups and arrays (the root group comes last).
    let marker_dir = format!(".arco/tasks/{}", plan.hash);
    let setup_key = format!("{marker_dir}/setup");
    let set_up = resuming && store.get_bytes(&setup_key)?.is_some();
    progress(Progress::phase("setup", "writing array metadata"));
    if !set_up {
        for g in &plan.groups {
            store.create_group(&GroupSpec {
                path: g.path.clone(),
                attributes: g.attributes.clone(),
            })?;
        }
    }
    let mut arrays = Vec::with_capacity(plan.variables.len());
    for vp in &plan.variables {
        let var = reader.dataset().variable(&vp.source)?;
        let mut outs = Vec::with_capacity(vp.outputs.len());
        for o in &vp.outputs {
            let ov = output_variable(var, o);
            if set_up {
                outs.push(store.array(&o.path)?);
            } else {
                let spec = arco_zarr::array_spec_for(
                    &ov,
                    vp.chunk.clone(),
                    vp.shard.clone(),
                    plan.options.codec.compression_for(&o.dtype),
                );
                outs.push(store.create_array(&spec)?);
            }
        }
        arrays.push(outs);
    }
    if !set_up {
        store.put_bytes(&setup_key, b"{}")?;
    }

    // The intermediate store, when something is rechunked.
    let tmp_dir = match &target {
        Target::Local { partial, .. } => partial.join(".arco").join("tmp"),
        Target::Remote => std::env::temp_dir().join(format!("arco-rechunk-{}", plan.hash)),
    };
    let (tmp, tmp_arrays) = if rechunked.is_empty() {
        (None, vec![Vec::new(); plan.variables.len()])
    } else {
        open_intermediate(reader, plan, &tmp_dir)?
    };

    let ctx = Ctx {
        reader,
        plan,
        store_location: store_location.clone(),
        arrays,
        tmp_arrays,
        tmp,
        store,
        read_options: ReadOptions {
            max_batch_bytes: usize::try_from(plan.read_batch_bytes).unwrap_or(usize::MAX),
            ..ReadOptions::default()
        },
        done_this_run: AtomicU64::new(0),
        fail_after: out.fail_after_tasks,
        progress,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(plan.threads.max(1))
        .thread_name(|i| format!("arco-convert-{i}"))
        .build()
        .map_err(|e| Error::Options(format!("cannot start {} threads: {e}", plan.threads)))?;

    let (first, second): (Vec<&Task>, Vec<&Task>) =
        tasks.iter().partition(|t| t.stage != Stage::Final);
    let skipped = AtomicU64::new(0);
    progress(Progress::phase(
        "copy",
        format!("{} tasks on {} threads", first.len(), plan.threads),
    ));
    pool.install(|| {
        first
            .par_iter()
            .try_for_each(|t| ctx.run_or_skip(t, &skipped))
    })?;
    if !second.is_empty() {
        progress(Progress::phase(
            "rechunk",
            format!("{} tasks from the intermediate store", second.len()),
        ));
        pool.install(|| {
            second
                .par_iter()
                .try_for_each(|t| ctx.run_or_skip(t, &skipped))
        })?;
    }

    // Overview levels, each from the one below, before the root metadata.
    if let Some(pp) = &plan.pyramid {
        ctx.run_pyramid(pp, &pool, &skipped, &marker_dir)?;
    }

    // Provenance, root metadata last, completion marker.
    progress(Progress::phase(
        "checksums",
        "recording the inputs' SHA-256",
    ));
    let mut root_attributes = plan.root_attributes.clone();
    let inputs = checksums
        .join()
        .map_err(|_| Error::Options("the checksum thread failed".into()))??;
    let options = serde_json::to_value(&plan.options).unwrap_or(serde_json::Value::Null);
    root_attributes.insert(
        "arco:provenance".into(),
        serde_json::json!({
            "arco_version": env!("CARGO_PKG_VERSION"),
            "created": provenance::now_iso(),
            "command": out.command,
            "options": options,
            "inputs": inputs,
            "plan": plan.hash,
        }),
    );
    let mut hide = Vec::new();
    if let Some(pp) = plan.pyramid.as_ref().filter(|p| !p.levels.is_empty()) {
        let levels: Vec<(String, u64)> = pp
            .levels
            .iter()
            .map(|l| (l.name.clone(), l.factor))
            .collect();
        let resampling = plan
            .options
            .pyramid
            .as_ref()
            .map(|o| o.resampling)
            .unwrap_or_default();
        let declared = arco_zarr::multiscales_attributes(
            &levels,
            resampling.convention_name(),
            &root_attributes,
        );
        root_attributes.extend(declared);
        hide = levels.into_iter().map(|(name, _)| name).collect();
    }
    progress(Progress::phase(
        "publish",
        format!("publishing {}", out.location),
    ));
    ctx.store.create_group(&GroupSpec {
        path: "/".into(),
        attributes: root_attributes,
    })?;
    // Consolidated metadata: readers open the whole hierarchy with one read.
    ctx.store.consolidate()?;
    if let Some(stac) = &out.stac {
        progress(Progress::phase("stac", "describing the output in STAC"));
        for (name, bytes) in stac_documents(&store_location, out, format, stac, &hide, progress)? {
            ctx.store.put_bytes(&name, &bytes)?;
        }
    }
    ctx.store.put_bytes(
        ".arco/complete",
        serde_json::json!({ "plan": plan.hash, "finished": provenance::now_iso() })
            .to_string()
            .as_bytes(),
    )?;
    ctx.store.delete_prefix(".arco/tasks")?;
    if let Some(tmp) = &ctx.tmp {
        tmp.delete_prefix("")?;
    }
    if tmp_dir.exists() {
        std::fs::remove_dir_all(&tmp_dir).map_err(|e| Error::io(&tmp_dir, e))?;
    }
    let tasks_run = ctx.done_this_run.load(Ordering::Relaxed);
    drop(ctx);
    let bytes_out = match &target {
        Target::Local { dest, partial } => {
            publish(dest, partial, out.overwrite)?;
            Some(dir_size(dest))
        }
        Target::Remote => None,
    };
    let bytes_uncompressed = plan.bytes() + plan.pyramid.as_ref().map_or(0, PyramidPlan::bytes);
    let summary = Summary {
        output: out.location.clone(),
        arrays: array_count,
        chunks: plan.chunk_count() + plan.pyramid.as_ref().map_or(0, PyramidPlan::chunk_count),
        tasks_run,
        tasks_skipped: skipped.load(Ordering::Relaxed),
        rechunked,
        bytes_in: plan.sources.iter().map(|s| s.size).sum(),
        bytes_uncompressed,
        bytes_out,
        ratio: bytes_out
            .filter(|&b| b > 0)
            .map(|b| bytes_uncompressed as f64 / b as f64),
        seconds: started.elapsed().as_secs_f64(),
        plan: plan.hash.clone(),
        pyramid_levels: plan.pyramid.as_ref().map_or(0, |p| p.levels.len() as u32),
    };
    progress(Progress::Finished {
        summary: summary.clone(),
    });
    Ok(summary)
}

impl Ctx<'_> {
    fn marker(&self, task: &Task) -> String {
        format!(".arco/tasks/{}/{}", self.plan.hash, task.id)
    }

    /// Where a task's marker lives: pass-1 markers in the intermediate store
    /// (they mean nothing without it), the others in the output.
    fn marker_store(&self, task: &Task) -> &ZarrStore {
        match (task.stage, &self.tmp) {
            (Stage::Intermediate, Some(tmp)) => tmp,
            _ => &self.store,
        }
    }

    fn run_or_skip(&self, task: &Task, skipped: &AtomicU64) -> Result<()> {
        let store = self.marker_store(task);
        self.marked(
            store,
            &self.marker(task),
            &task.id,
            task.bytes,
            skipped,
            || self.run(task),
        )
    }

    /// Run `work` unless the marker `key` in `store` says a previous run
    /// did; then write the marker and report the task done.
    fn marked(
        &self,
        store: &ZarrStore,
        key: &str,
        id: &str,
        bytes: u64,
        skipped: &AtomicU64,
        work: impl FnOnce() -> Result<()>,
    ) -> Result<()> {
        if store.get_bytes(key)?.is_some() {
            skipped.fetch_add(1, Ordering::Relaxed);
            (self.progress)(Progress::TaskDone {
                id: id.to_string(),
                bytes,
                skipped: true,
            });
            return Ok(());
        }
        if let Some(n) = self.fail_after {
            if self.done_this_run.load(Ordering::SeqCst) >= n {
                return Err(Error::Interrupted(n));
            }
        }
        work()?;
        store.put_bytes(key, b"{}")?;
        self.done_this_run.fetch_add(1, Ordering::SeqCst);
        (self.progress)(Progress::TaskDone {
            id: id.to_string(),
            bytes,
            skipped: false,
        });
        Ok(())
    }

    /// Create (or reopen) the level groups and arrays, then compute the
    /// levels one after the other, each level's tasks in parallel.
    fn run_pyramid(
        &self,
        pp: &PyramidPlan,
        pool: &rayon::ThreadPool,
        skipped: &AtomicU64,
        marker_dir: &str,
    ) -> Result<()> {
        let setup_key = format!("{marker_dir}/pyramid-setup");
        let set_up = self.store.get_bytes(&setup_key)?.is_some();
        (self.progress)(Progress::phase(
            "pyramid",
            format!(
                "{} overview level{} of {} variable{}",
                pp.levels.len(),
                if pp.levels.len() == 1 { "" } else { "s" },
                pp.variables.len(),
                if pp.variables.len() == 1 { "" } else { "s" }
            ),
        ));
        let levels = self.open_levels(pp, set_up)?;
        if !set_up {
            self.store.put_bytes(&setup_key, b"{}")?;
        }
        for level in &pp.levels {
            let tasks = pp.tasks(level.level);
            (self.progress)(Progress::phase(
                "pyramid",
                format!(
                    "level {} (/{}, 1/{}): {} tasks",
                    level.level,
                    level.name,
                    level.factor,
                    tasks.len()
                ),
            ));
            pool.install(|| {
                tasks.par_iter().try_for_each(|t| {
                    let key = format!(".arco/tasks/{}/{}", self.plan.hash, t.id);
                    self.marked(&self.store, &key, &t.id, t.bytes, skipped, || {
                        self.run_pyramid_task(pp, &levels, t)
                    })
                })
            })?;
        }
        Ok(())
    }

    /// Per level (index 0: the full resolution), the arrays and codecs of
    /// the pyramid's variables; creates the level groups and arrays unless
    /// a previous run did.
    fn open_levels(&self, pp: &PyramidPlan, set_up: bool) -> Result<Levels> {
        let ds: &Dataset = self.reader.dataset();
        let mut base_vars: Vec<Variable> = Vec::with_capacity(pp.variables.len());
        let mut arrays = vec![Vec::with_capacity(pp.variables.len())];
        let mut codecs = vec![Vec::with_capacity(pp.variables.len())];
        for pv in &pp.variables {
            let vp = &self.plan.variables[pv.var];
            let src = ds.variable(&vp.source)?;
            let var = output_variable(src, &vp.outputs[0]);
            codecs[0].push(level_codec(&var)?);
            arrays[0].push(self.arrays[pv.var][0].clone());
            base_vars.push(var);
        }
        let paths: Vec<&str> = pp.variables.iter().map(|v| v.path.as_str()).collect();
        for (li, level) in pp.levels.iter().enumerate() {
            if !set_up {
                let mut attributes = self.plan.root_attributes.clone();
                attributes.insert(
                    "arco:level".into(),
                    serde_json::json!({"level": level.level, "factor": level.factor}),
                );
                self.store.create_group(&GroupSpec {
                    path: format!("/{}", level.name),
                    attributes,
                })?;
            }
            let mut level_arrays = Vec::with_capacity(pp.variables.len());
            let mut level_codecs = Vec::with_capacity(pp.variables.len());
            for (pv, base) in pp.variables.iter().zip(&base_vars) {
                let var =
                    pyramid::level_variable(base, &pv.dtype, level, pv.shapes[li].clone(), &paths);
                level_codecs.push(level_codec(&var)?);
                if set_up {
                    level_arrays.push(self.store.array(&var.path)?);
                } else {
                    let spec = arco_zarr::array_spec_for(
                        &var,
                        pv.chunks[li].clone(),
                        None,
                        self.plan.options.codec.compression_for(&pv.dtype),
                    );
                    level_arrays.push(self.store.create_array(&spec)?);
                }
            }
            arrays.push(level_arrays);
            codecs.push(level_codecs);
        }
        Ok(Levels { arrays, codecs })
    }

    fn run_pyramid_task(&self, pp: &PyramidPlan, levels: &Levels, t: &PyramidTask) -> Result<()> {
        let k = t.level as usize;
        let pv = &pp.variables[t.var];
        let out = &levels.arrays[k][t.var];
        let region = format!(
            "[{}] (task {})",
            t.start
                .iter()
                .zip(&t.shape)
                .map(|(s, n)| format!("{s}:{}", s + n))
                .collect::<Vec<_>>()
                .join(", "),
            t.id
        );
        let failed = |array: &ZarrArray, message: String| Error::Pyramid {
            location: self.store_location.clone(),
            level: t.level,
            array: array.spec().path.clone(),
            region: region.clone(),
            message,
        };
        let data = match &pv.role {
            Role::Copy => {
                let base = &levels.arrays[0][t.var];
                base.read(&selection(&t.start, &t.shape))
                    .map_err(|e| failed(base, format!("cannot read it back: {e}")))?
            }
            Role::Downsample { axes, method } => {
                let input = &levels.arrays[k - 1][t.var];
                let in_shape = &input.spec().shape;
                let (start, shape) = pyramid::input_region(&t.start, &t.shape, in_shape, axes);
                let values = input
                    .read(&selection(&start, &shape))
                    .map_err(|e| failed(input, format!("cannot read the level below: {e}")))?;
                resample::downsample(
                    &values,
                    axes,
                    *method,
                    &levels.codecs[k - 1][t.var],
                    &levels.codecs[k][t.var],
                )
                .map_err(|e| failed(out, e.to_string()))?
            }
        };
        if data.shape != t.shape {
            return Err(failed(
                out,
                format!("computed a region of shape {:?}", data.shape),
            ));
        }
        out.write_region(&t.start, &data)
            .map_err(|e| failed(out, format!("cannot write: {e}")))
    }

    fn run(&self, task: &Task) -> Result<()> {
        let vp = &self.plan.variables[task.var];
        let selection = Selection {
            dims: task
                .start
                .iter()
                .zip(&task.shape)
                .map(|(&s, &n)| DimSlice {
                    start: s,
                    stop: s + n,
                    step: 1,
                })
                .collect(),
        };
        match task.stage {
            Stage::Direct | Stage::Intermediate => {
                let data = self
                    .reader
                    .read_with(&vp.source, &selection, &self.read_options)
                    .map_err(|source| Error::Read {
                        variable: vp.source.clone(),
                        region: region_text(task),
                        source: Box::new(source),
                    })?;
                let columns = split_fields(vp, data)?;
                let targets = if task.stage == Stage::Direct {
                    &self.arrays[task.var]
                } else {
                    &self.tmp_arrays[task.var]
                };
                for ((nd, array), out) in columns.iter().zip(targets).zip(&vp.outputs) {
                    self.write(array, &out.path, task, nd)?;
                }
            }
            Stage::Final => {
                let tmp = self.tmp.as_ref().ok_or_else(|| {
                    Error::Options(format!("{}: no intermediate store", vp.source))
                })?;
                for (i, (array, out)) in self.arrays[task.var].iter().zip(&vp.outputs).enumerate() {
                    let nd = tmp.read(&tmp_path(task.var, i), &selection)?;
                    self.write(array, &out.path, task, &nd)?;
                }
            }
        }
        Ok(())
    }

    fn write(&self, array: &ZarrArray, path: &str, task: &Task, nd: &NdArray) -> Result<()> {
        array
            .write_region(&task.start, nd)
            .map_err(|source| Error::Write {
                location: self.store_location.clone(),
                array: path.to_string(),
                region: region_text(task),
                source: Box::new(source),
            })
    }
}

/// The arrays and codecs of every level (index 0: the full resolution) of
/// every pyramid variable.
struct Levels {
    arrays: Vec<Vec<ZarrArray>>,
    codecs: Vec<Vec<resample::Codec>>,
}

fn level_codec(var: &Variable) -> Result<resample::Codec> {
    resample::Codec::of(var)
}

/// The selection of the region at `start` of `shape`.
fn selection(start: &[u64], shape: &[u64]) -> Selection {
    Selection {
        dims: start
            .iter()
            .zip(shape)
            .map(|(&s, &n)| DimSlice {
                start: s,
                stop: s + n,
                step: 1,
            })
            .collect(),
    }
}

/// The values of each output array of `vp` from one read of its source.
fn split_fields(vp: &VarPlan, data: NdArray) -> Result<Vec<NdArray>> {
    if vp.outputs.len() == 1 && vp.outputs[0].field.is_none() {
        return Ok(vec![data]);
    }
    let NdArray { shape, values } = data;
    let Values::Compound(mut cols) = values else {
        return Err(Error::Core(arco_core::Error::Type(format!(
            "{}: expected compound values, the reader gave {}",
            vp.source,
            values.type_name()
        ))));
    };
    vp.outputs
        .iter()
        .map(|o| {
            let name = o.field.as_deref().unwrap_or_default();
            let i = cols.iter().position(|(n, _)| n == name).ok_or_else(|| {
                Error::Core(arco_core::Error::Type(format!(
                    "{}: the reader gave no field '{name}'",
                    vp.source
                )))
            })?;
            let (_, values) = cols.swap_remove(i);
            Ok(NdArray {
                shape: shape.clone(),
                values,
            })
        })
        .collect()
}

/// Path of intermediate array `i` of variable `var`.
fn tmp_path(var: usize, i: usize) -> String {
    format!("/v{var}_{i}")
}

/// Create (or reopen) the intermediate store and its arrays.
fn open_intermediate(
    reader: &dyn Reader,
    plan: &Plan,
    dir: &Path,
) -> Result<(Option<ZarrStore>, Vec<Vec<ZarrArray>>)> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let location = dir.display().to_string();
    let tmp = ZarrStore::create(&location, &OpenOptions::default(), ZarrFormat::V3)?;
    let setup_key = format!(".arco/tasks/{}/setup", plan.hash);
    let set_up = tmp.get_bytes(&setup_key)?.is_some();
    if !set_up {
        // Left over from another plan: start clean.
        tmp.delete_prefix("")?;
    }
    let mut all = Vec::with_capacity(plan.variables.len());
    for (vi, vp) in plan.variables.iter().enumerate() {
        let Strategy::Rechunk { intermediate, .. } = &vp.strategy else {
            all.push(Vec::new());
            continue;
        };
        let var = reader.dataset().variable(&vp.source)?;
        let mut arrays = Vec::new();
        for (i, o) in vp.outputs.iter().enumerate() {
            let path = tmp_path(vi, i);
            if set_up {
                arrays.push(tmp.array(&path)?);
                continue;
            }
            let mut ov = output_variable(var, o);
            ov.path = path;
            ov.attributes.clear();
            let spec = arco_zarr::array_spec_for(
                &ov,
                intermediate.clone(),
                None,
                Compression::Zstd {
                    level: 1,
                    shuffle: false,
                },
            );
            arrays.push(tmp.create_array(&spec)?);
        }
        all.push(arrays);
    }
    if !set_up {
        tmp.put_bytes(&setup_key, b"{}")?;
    }
    Ok((Some(tmp), all))
}

/// Work out where to write, refusing an existing destination unless `overwrite`.
fn resolve_target(location: &str, overwrite: bool) -> Result<Target> {
    let parsed = Location::parse(location).map_err(|e| Error::Destination {
        location: location.to_string(),
        message: e.to_string(),
    })?;
    match parsed {
        Location::Local(dest) => {
            let bad = |message: String| Error::Destination {
                location: location.to_string(),
                message,
            };
            let parent = match dest.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            if !parent.is_dir() {
                return Err(bad(format!(
                    "the folder {} does not exist or is not a folder",
                    parent.display()
                )));
            }
            if dest.exists() {
                if !overwrite {
                    return Err(bad(
                        "it already exists; add --overwrite to replace it".into()
                    ));
                }
                if !is_replaceable(&dest) {
                    return Err(bad(
                        "it exists and is not a Zarr store; arco only replaces Zarr stores (remove it yourself)"
                            .into(),
                    ));
                }
            }
            let mut name = dest
                .file_name()
                .ok_or_else(|| bad("it does not name a folder".into()))?
                .to_os_string();
            name.push(PARTIAL_SUFFIX);
            let partial = dest.with_file_name(name);
            Ok(Target::Local { dest, partial })
        }
        Location::S3 { .. } => Ok(Target::Remote),
        _ => Err(Error::Destination {
            location: location.to_string(),
            message: "arco writes to local paths and s3:// URLs".into(),
        }),
    }
}

/// A Zarr store (v2 or v3) or an empty folder.
fn is_replaceable(path: &Path) -> bool {
    if !path.is_dir() {
        return false;
    }
    ["zarr.json", ".zgroup", ".zarray"]
        .iter()
        .any(|f| path.join(f).is_file())
        || std::fs::read_dir(path).is_ok_and(|mut d| d.next().is_none())
}

/// Whether the working location already holds something (without a plan).
fn has_content(target: &Target, store: &ZarrStore) -> Result<bool> {
    Ok(match target {
        Target::Local { partial, .. } => {
            std::fs::read_dir(partial).is_ok_and(|mut d| d.next().is_some())
        }
        // Without a plan there are no markers to trust; data left by another
        // tool would be overwritten chunk by chunk.
        Target::Remote => {
            let _ = store;
            false
        }
    })
}

/// The STAC Collection and Item of the output being published, read back
/// from the store at `store_location` (the partial output), named after
/// the final location: `(key, bytes)` pairs to put into the store.
fn stac_documents(
    store_location: &str,
    out: &OutputOptions,
    format: ZarrFormat,
    stac: &StacOptions,
    hide: &[String],
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Vec<(String, Vec<u8>)>> {
    use arco_catalog::{AssetKind, AssetSpec, CollectionSpec, DescribeOptions};
    let catalog_error = |e: arco_catalog::Error| Error::Catalog {
        location: out.location.clone(),
        message: e.to_string(),
    };
    let reader =
        arco_formats::open_zarr(store_location, &out.open).map_err(|e| Error::Catalog {
            location: out.location.clone(),
            message: format!("cannot read the output back: {e}"),
        })?;
    // Overview levels are not more data variables.
    let reader: Box<dyn Reader> = if hide.is_empty() {
        reader
    } else {
        Box::new(WithoutGroups::new(reader, hide))
    };
    let options = DescribeOptions {
        null_geometry: true,
        statistics: stac.statistics,
        datetime: Some(stac.datetime.unwrap_or_else(chrono::Utc::now)),
        ..DescribeOptions::default()
    };
    let description =
        arco_catalog::describe(reader.as_ref(), &out.location, &options).map_err(catalog_error)?;
    for note in &description.notes {
        progress(Progress::phase("note", format!("STAC: {note}")));
    }
    if description.temporal.is_none() && stac.datetime.is_none() {
        progress(Progress::phase(
            "note",
            "STAC: the data have no time coordinate; the item's datetime is the conversion \
             time (give one with --datetime)",
        ));
    }
    let mut item = description.item().map_err(catalog_error)?;
    let version = match format {
        ZarrFormat::V2 => 2,
        _ => 3,
    };
    description
        .add_asset(
            &mut item,
            "zarr",
            &AssetSpec::new("../", AssetKind::Zarr { version }),
        )
        .map_err(catalog_error)?;
    let mut spec = CollectionSpec::new(item.id.clone());
    spec.license = stac.license.clone();
    spec.assets_from_single_item = true;
    let collection =
        arco_catalog::collection_from(&spec, std::slice::from_ref(&item)).map_err(catalog_error)?;
    arco_catalog::embedded_documents(&collection, &item).map_err(catalog_error)
}

/// A reader without some of its root's child groups (the overview levels,
/// which STAC should not list as more variables).
struct WithoutGroups {
    inner: Box<dyn Reader>,
    dataset: Dataset,
}

impl WithoutGroups {
    fn new(inner: Box<dyn Reader>, hide: &[String]) -> Self {
        let mut dataset = inner.dataset().clone();
        dataset.root.groups.retain(|g| !hide.contains(&g.name));
        WithoutGroups { inner, dataset }
    }
}

impl Reader for WithoutGroups {
    fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    fn manifest(&self, variable: &str) -> arco_formats::Result<arco_core::ChunkManifest> {
        self.inner.manifest(variable)
    }

    fn read(&self, variable: &str, selection: &Selection) -> arco_formats::Result<NdArray> {
        self.inner.read(variable, selection)
    }

    fn read_with(
        &self,
        variable: &str,
        selection: &Selection,
        options: &ReadOptions,
    ) -> arco_formats::Result<NdArray> {
        self.inner.read_with(variable, selection, options)
    }
}

/// Rename `partial` to `dest`, moving an old `dest` aside first and deleting it after.
fn publish(dest: &Path, partial: &Path, overwrite: bool) -> Result<()> {
    let mut old = None;
    if dest.exists() {
        if !overwrite {
            return Err(Error::Destination {
                location: dest.display().to_string(),
                message:
                    "appeared while converting; the new output is left at the .arco-partial name"
                        .into(),
            });
        }
        let mut name = dest.file_name().unwrap_or_default().to_os_string();
        name.push(format!(".arco-old-{}", std::process::id()));
        let aside = dest.with_file_name(name);
        std::fs::rename(dest, &aside).map_err(|e| Error::io(dest, e))?;
        old = Some(aside);
    }
    std::fs::rename(partial, dest).map_err(|e| Error::io(partial, e))?;
    if let Some(old) = old {
        std::fs::remove_dir_all(&old).map_err(|e| Error::io(&old, e))?;
    }
    Ok(())
}

/// Total size of the files under `dir`.
fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(_) => total += e.metadata().map_or(0, |m| m.len()),
                Err(_) => {}
            }
        }
    }
    total
}

/// `[0:10, 0:721, 0:1440]`.
fn region_text(task: &Task) -> String {
    let parts: Vec<String> = task
        .start
        .iter()
        .zip(&task.shape)
        .map(|(s, n)| format!("{s}:{}", s + n))
        .collect();
    format!("[{}] (task {})", parts.join(", "), task.id)
}
