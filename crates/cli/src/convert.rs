//! `arco convert`: sources to analysis-ready Zarr.
//!
//! Parses the options into an [`arco_engine::ConvertOptions`], opens the
//! sources (concatenating several along `--concat-dim`), plans, runs, and
//! shows progress: a bar on a terminal, one JSON object per event and line
//! with `--json`, and a summary at the end.
//!
//! The default layout is `balanced`: without knowing how the data will be
//! read, chunks with about as many divisions along every dimension cost the
//! least in the worst case; `map` and `timeseries` are for known patterns.

use crate::output::human_bytes;
use crate::source::{expand, open_inputs, open_options, runtime_for, StorageArgs};
use anyhow::{bail, Context};
use arco_engine::{
    chunking::{parse_chunks, ChunkOptions},
    CodecChoice, ConvertOptions, Layout, MemoryBudget, OutputOptions, Progress, SourceStamp,
};
use arco_storage::Location;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;

/// Arguments of `arco convert`.
#[derive(Debug, clap::Args)]
pub struct ConvertArgs {
    /// Source files or URLs (NetCDF, HDF5, GRIB, GeoTIFF, Zarr, kerchunk JSON/Parquet, Icechunk repositories with an optional @branch/@tag:T/@snapshot:ID; globs like 'data/tas_*.nc' are expanded, sorted), then the destination.
    #[arg(required = true, num_args = 2..)]
    pub paths: Vec<String>,
    /// Output format (only zarr for now).
    #[arg(long, default_value = "zarr", value_name = "FORMAT", value_parser = ["zarr"])]
    pub to: String,
    /// Zarr format version: 3, or 2 for older readers.
    #[arg(long, default_value_t = 3, value_name = "2|3", value_parser = clap::value_parser!(u8).range(2..=3))]
    pub zarr_format: u8,
    /// Chunk layout: map (whole 2-D maps), timeseries (long along time), balanced.
    #[arg(long, default_value = "balanced", value_name = "LAYOUT", value_parser = ["map", "timeseries", "balanced"])]
    pub layout: String,
    /// Explicit chunk lengths, like time=365,lat=64,lon=64 (other dimensions follow --layout).
    #[arg(long, value_name = "DIM=N,...")]
    pub chunks: Option<String>,
    /// Target uncompressed chunk size.
    #[arg(long, default_value = "8MiB", value_name = "SIZE")]
    pub chunk_size: String,
    /// Group chunks into shards (Zarr v3 sharding).
    #[arg(long)]
    pub shard: bool,
    /// Target uncompressed shard size with --shard (capped by a task's share of --memory).
    #[arg(long, default_value = "128MiB", value_name = "SIZE")]
    pub shard_size: String,
    /// Codec: zstd:LEVEL, blosc-zstd:LEVEL, blosc-lz4:LEVEL, gzip:LEVEL or none (default: blosc-zstd:3 with byte shuffle for multi-byte numbers, zstd:3 otherwise).
    #[arg(long, value_name = "CODEC")]
    pub codec: Option<String>,
    #[command(flatten)]
    pub combine: crate::combine::CombineArgs,
    /// Leave these variables out (names or paths, comma separated or repeated);
    /// recorded in the provenance so `arco verify` knows.
    #[arg(long, value_name = "VAR,...", value_delimiter = ',')]
    pub drop: Vec<String>,
    /// Memory for the whole process, like 2GiB (default: half the cgroup limit or of physical memory).
    #[arg(long, value_name = "SIZE")]
    pub memory: Option<String>,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub threads: Option<u64>,
    /// Also write overview levels (groups /1, /2, ... at 1/2, 1/4, ... of the
    /// horizontal resolution, declared with the Zarr multiscales convention) for map tiles.
    #[arg(long)]
    pub pyramid: bool,
    /// Number of overview levels (default: until the next level would be under 256 cells along both horizontal dimensions).
    #[arg(long, value_name = "N", requires = "pyramid", value_parser = clap::value_parser!(u32).range(1..=30))]
    pub pyramid_levels: Option<u32>,
    /// How a 2x2 block becomes one value: mean (ignoring missing values) or nearest (its top-left value); flags and other categorical variables always use nearest.
    #[arg(long, value_name = "METHOD", requires = "pyramid", value_parser = ["mean", "nearest"])]
    pub pyramid_resampling: Option<String>,
    /// Replace an existing output (a local one only once the new one is complete).
    #[arg(long)]
    pub overwrite: bool,
    /// Do not describe the output in STAC (by default `.stac/collection.json` and `.stac/item.json` inside the store).
    #[arg(long)]
    pub no_stac: bool,
    #[command(flatten)]
    pub stac: crate::catalog::StacArgs,
}

/// Run `arco convert`.
pub fn run(args: &ConvertArgs, storage: &StorageArgs, json: bool) -> anyhow::Result<()> {
    let (dest, sources) = match args.paths.split_last() {
        Some((d, s)) if !s.is_empty() => (d.clone(), s.to_vec()),
        _ => bail!("give at least one source and the destination"),
    };
    let options = options(args)?;
    let sources = expand(&sources)?;
    let inputs = open_inputs(&sources, &args.combine, storage)?;
    let stamps: Vec<SourceStamp> = inputs
        .sources
        .iter()
        .map(|(location, bytes)| SourceStamp::of_source(location, bytes.as_ref()))
        .collect();
    let plan = arco_engine::plan(inputs.reader.as_ref(), &stamps, &options)
        .context("planning the conversion")?;

    // The output's own runtime, for s3:// destinations.
    let out_runtime = runtime_for(&dest)?;
    let out = OutputOptions {
        location: dest.clone(),
        open: open_options(storage, out_runtime.as_ref()),
        overwrite: args.overwrite,
        command: std::env::args().collect(),
        fail_after_tasks: std::env::var("ARCO_TEST_FAIL_AFTER_TASKS")
            .ok()
            .and_then(|v| v.trim().parse().ok()),
        stac: (!args.no_stac).then(|| arco_engine::StacOptions {
            datetime: args.stac.datetime,
            statistics: args.stac.statistics(),
            license: args.stac.license.clone(),
        }),
    };

    let show = Reporter::new(json);
    let result = arco_engine::convert(inputs.reader.as_ref(), &plan, &out, &|e| show.event(e));
    show.finish();
    let summary = result.with_context(|| {
        let partial = format!("{}{}", dest.trim_end_matches('/'), arco_engine::run::PARTIAL_SUFFIX);
        if std::path::Path::new(&partial).is_dir() || Location::parse(&dest).is_ok_and(|l| l.is_remote()) {
            format!("converting to {dest} (the partial output is kept: rerun the same command to resume)")
        } else {
            format!("converting to {dest}")
        }
    })?;
    if !json {
        let ratio = summary
            .ratio
            .map(|r| format!(" ({r:.1}x)"))
            .unwrap_or_default();
        let out_bytes = summary
            .bytes_out
            .map(human_bytes)
            .unwrap_or_else(|| "?".into());
        println!(
            "{}: {} arrays, {} chunks, {} in, {} uncompressed, {} out{ratio}, {:.1} s{}{}{}",
            summary.output,
            summary.arrays,
            summary.chunks,
            human_bytes(summary.bytes_in),
            human_bytes(summary.bytes_uncompressed),
            out_bytes,
            summary.seconds,
            if summary.rechunked.is_empty() {
                String::new()
            } else {
                format!("; rechunked {}", summary.rechunked.join(", "))
            },
            if summary.pyramid_levels > 0 {
                format!(
                    "; {} overview level{}",
                    summary.pyramid_levels,
                    if summary.pyramid_levels == 1 { "" } else { "s" }
                )
            } else {
                String::new()
            },
            if summary.tasks_skipped > 0 {
                format!("; resumed, {} tasks already done", summary.tasks_skipped)
            } else {
                String::new()
            },
        );
    }
    drop(out_runtime);
    Ok(())
}

/// The engine options from the command line.
fn options(args: &ConvertArgs) -> anyhow::Result<ConvertOptions> {
    let layout: Layout = args.layout.parse()?;
    let explicit = match &args.chunks {
        Some(s) => parse_chunks(s)?,
        None => Default::default(),
    };
    let target_bytes = arco_engine::parse_bytes(&args.chunk_size).context("--chunk-size")?;
    let shard_bytes = if args.shard {
        Some(arco_engine::parse_bytes(&args.shard_size).context("--shard-size")?)
    } else {
        None
    };
    let codec = match &args.codec {
        Some(c) => c.parse::<CodecChoice>()?,
        None => CodecChoice::Default,
    };
    let memory = match &args.memory {
        Some(m) => MemoryBudget::user(arco_engine::parse_bytes(m).context("--memory")?),
        None => MemoryBudget::detect(),
    };
    Ok(ConvertOptions {
        chunks: ChunkOptions {
            layout,
            explicit,
            target_bytes,
            shard_bytes,
        },
        codec,
        zarr_format: args.zarr_format,
        memory,
        drop: args.drop.clone(),
        pyramid: if args.pyramid {
            Some(arco_engine::PyramidOptions {
                levels: args.pyramid_levels,
                resampling: match &args.pyramid_resampling {
                    Some(r) => r.parse()?,
                    None => arco_engine::Resampling::default(),
                },
            })
        } else {
            None
        },
        threads: args
            .threads
            .map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX)),
        ..ConvertOptions::default()
    })
}

/// Shows progress events: a bar on a terminal, JSON lines with `--json`,
/// nothing otherwise (the summary is printed at the end).
struct Reporter {
    json: bool,
    bar: Mutex<Option<indicatif::ProgressBar>>,
    tty: bool,
}

impl Reporter {
    fn new(json: bool) -> Self {
        Reporter {
            json,
            bar: Mutex::new(None),
            tty: std::io::stderr().is_terminal(),
        }
    }

    fn event(&self, e: Progress) {
        if self.json {
            if let Ok(line) = serde_json::to_string(&e) {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            }
            return;
        }
        if !self.tty {
            if let Progress::Phase { name, message } = &e {
                if name == "restart" || name == "resume" || name == "note" {
                    eprintln!("{message}");
                }
            }
            return;
        }
        let Ok(mut bar) = self.bar.lock() else {
            return;
        };
        match e {
            Progress::Planned { bytes, .. } => {
                let b = indicatif::ProgressBar::new(bytes);
                b.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{spinner} {msg:12} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                *bar = Some(b);
            }
            Progress::Phase { name, message } => {
                if let Some(b) = bar.as_ref() {
                    b.set_message(name.clone());
                    if name == "restart" || name == "resume" || name == "note" {
                        b.println(message);
                    }
                }
            }
            Progress::TaskDone { bytes, .. } => {
                if let Some(b) = bar.as_ref() {
                    b.inc(bytes);
                }
            }
            Progress::Finished { .. } => {
                if let Some(b) = bar.take() {
                    b.finish_and_clear();
                }
            }
            _ => {}
        }
    }

    fn finish(&self) {
        if let Ok(mut bar) = self.bar.lock() {
            if let Some(b) = bar.take() {
                b.abandon();
            }
        }
    }
}
