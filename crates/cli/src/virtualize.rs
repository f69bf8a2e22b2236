//! `arco virtualize`: sources to kerchunk references (a virtual Zarr).
//!
//! Opens the sources (several are concatenated along `--concat-dim`),
//! builds the references with `arco-virtual` and writes kerchunk JSON or
//! the kerchunk Parquet folder, chosen by `--to` or DEST's extension. No
//! chunk is copied: the references point into the sources.

use crate::output::{human_bytes, print_json};
use crate::source::{expand, open_source, StorageArgs};
use anyhow::{bail, Context};
use arco_formats::Reader;
use arco_virtual::{Input, Options, Source};
use std::path::Path;

/// Arguments of `arco virtualize`.
#[derive(Debug, clap::Args)]
pub struct VirtualizeArgs {
    /// Source files or URLs (globs like 'data/tas_*.nc' are expanded, sorted), then the destination (.json, .parq/.parquet for a Parquet folder, .icechunk for an Icechunk repository: a local directory or an s3://bucket/prefix).
    #[arg(required = true, num_args = 2..)]
    pub paths: Vec<String>,
    /// Output format (default: from DEST's extension: .json is kerchunk, .parq or .parquet kerchunk-parquet, .icechunk icechunk).
    #[arg(long, value_name = "FORMAT", value_parser = ["kerchunk", "kerchunk-parquet", "icechunk"])]
    pub to: Option<String>,
    #[command(flatten)]
    pub combine: crate::combine::CombineArgs,
    /// Inline chunks stored in fewer bytes (and whole arrays smaller than this); 0 inlines only what must be.
    #[arg(long, default_value = "500", value_name = "BYTES")]
    pub inline_threshold: String,
    /// References per Parquet file (kerchunk-parquet).
    #[arg(long, default_value_t = arco_virtual::DEFAULT_RECORD_SIZE, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub record_size: u64,
    /// Most decoded bytes inlined for one variable whose chunks references cannot express (filters without a numcodecs codec, chunks that skipped a filter, fill chunks).
    #[arg(long, default_value = "16MiB", value_name = "BYTES")]
    pub max_decoded_inline: String,
    /// Leave these variables out (names or paths, comma separated or repeated).
    #[arg(long, value_name = "VAR,...", value_delimiter = ',')]
    pub drop: Vec<String>,
    /// Replace an existing output.
    #[arg(long)]
    pub overwrite: bool,
    /// Icechunk spec version to write: 1 (icechunk-python 1.x and later open it) or 2 (icechunk 2.x only).
    #[arg(long, default_value_t = 1, value_name = "1|2", value_parser = clap::value_parser!(u8).range(1..=2))]
    pub icechunk_spec: u8,
    /// Commit message of the Icechunk snapshot (default: the command line).
    #[arg(long, value_name = "TEXT")]
    pub message: Option<String>,
    /// Do not describe the output in STAC (by default a Collection and an Item in DEST.stac/ beside it).
    #[arg(long)]
    pub no_stac: bool,
    #[command(flatten)]
    pub stac: crate::catalog::StacArgs,
}

/// Run `arco virtualize`.
pub fn run(args: &VirtualizeArgs, storage: &StorageArgs, json: bool) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let (dest, sources) = match args.paths.split_last() {
        Some((d, s)) if !s.is_empty() => (d.clone(), s.to_vec()),
        _ => bail!("give at least one source and the destination"),
    };
    let format = output_format(args.to.as_deref(), &dest)?;
    // Icechunk repositories may also be written at an s3:// prefix (no STAC
    // sidecar there).
    let remote_icechunk = format == Format::Icechunk
        && matches!(
            arco_storage::Location::parse(&dest)?,
            arco_storage::Location::S3 { .. }
        );
    let dest_path = match arco_storage::Location::parse(&dest)? {
        arco_storage::Location::Local(p) => p,
        _ if remote_icechunk => std::path::PathBuf::from(&dest),
        _ => bail!("{dest}: virtualize writes kerchunk references to a local path for now (Icechunk repositories may go to s3://); write them here and upload the file"),
    };
    let options = Options {
        inline_threshold: bytes_or_zero(&args.inline_threshold).context("--inline-threshold")?,
        max_decoded_inline: bytes_or_zero(&args.max_decoded_inline)
            .context("--max-decoded-inline")?,
        drop: args.drop.clone(),
        command: std::env::args().collect(),
    };
    let command_line = options.command.join(" ");

    let sources = expand(&sources)?;
    let mut runtimes = Vec::new();
    let mut opened: Vec<Source> = Vec::new();
    let mut readers: Vec<(String, Box<dyn Reader>)> = Vec::new();
    // Combined sources are opened part by part (crate::combine).
    let combines = args.combine.combines(sources.len());
    for s in &sources {
        let (bytes, _counter, runtime) = open_source(s, storage)?;
        if !combines {
            let reader =
                arco_formats::open(bytes.clone()).with_context(|| format!("cannot open {s}"))?;
            readers.push((s.clone(), reader));
        }
        opened.push(Source {
            location: s.clone(),
            bytes,
        });
        runtimes.extend(runtime);
    }
    let (single, joined) = if combines {
        let combined = crate::combine::open_combined(&sources, &args.combine, storage)?;
        runtimes.extend(combined.runtime);
        (None, Some(combined.reader))
    } else {
        (readers.pop().map(|(_, r)| r), None)
    };
    let (input, described): (Input<'_>, &dyn Reader) = match (&single, &joined) {
        (Some(reader), _) => (Input::Single(reader.as_ref()), reader.as_ref()),
        (None, Some(joined)) => (Input::Concat(joined), joined),
        (None, None) => bail!("no source"),
    };
    // kerchunk JSON and Parquet are streamed: each reference is written as
    // it is made, file by file, so memory does not grow with the number of
    // sources. Icechunk's writer takes the whole set in memory.
    let stream = |sink: &mut dyn arco_virtual::Sink| {
        arco_virtual::build_into(input, &opened, &options, sink)
            .with_context(|| format!("virtualizing into {dest}"))
    };
    let mut icechunk_summary = None;
    let (summary, bytes_written, files) = match format {
        Format::Json => {
            let mut w = arco_virtual::json::JsonWriter::create(&dest_path, args.overwrite)
                .with_context(|| format!("writing {dest}"))?;
            let summary = stream(&mut w)?;
            let bytes = w.finish().with_context(|| format!("writing {dest}"))?;
            (summary, bytes, 1)
        }
        Format::Parquet => {
            let mut w = arco_virtual::parquet::ParquetWriter::create(
                &dest_path,
                args.record_size,
                args.overwrite,
            )
            .with_context(|| format!("writing {dest}"))?;
            let summary = stream(&mut w)?;
            let s = w.finish().with_context(|| format!("writing {dest}"))?;
            (summary, s.bytes, s.files + 1)
        }
        Format::Icechunk => {
            let (refs, summary) = arco_virtual::build(input, &opened, &options)
                .with_context(|| format!("virtualizing into {dest}"))?;
            let s = write_icechunk(&refs, &dest, args, command_line.clone(), storage)
                .with_context(|| format!("writing {dest}"))?;
            drop(refs);
            let size = if remote_icechunk {
                0
            } else {
                dir_size(&dest_path)
            };
            icechunk_summary = Some(s);
            (summary, size, 0)
        }
    };
    let stac = if args.no_stac || remote_icechunk {
        None
    } else {
        let kind = match format {
            Format::Json => arco_catalog::AssetKind::KerchunkJson,
            Format::Parquet => arco_catalog::AssetKind::KerchunkParquet,
            Format::Icechunk => arco_catalog::AssetKind::Icechunk,
        };
        let inputs = opened
            .iter()
            .map(|s| arco_catalog::InputRecord {
                location: s.location.clone(),
                size: Some(s.bytes.len()),
                sha256: None,
                etag: s.bytes.version(),
            })
            .collect();
        Some(
            crate::catalog::write_sidecar_stac(
                described,
                &dest_path,
                kind,
                &args.stac,
                &command_line,
                inputs,
            )
            .with_context(|| format!("describing {dest} in STAC"))?,
        )
    };
    drop(runtimes);
    let seconds = started.elapsed().as_secs_f64();
    if json {
        let mut v = serde_json::to_value(&summary)?;
        if let Some(m) = v.as_object_mut() {
            m.insert("output".into(), dest.clone().into());
            m.insert("format".into(), format.name().into());
            m.insert("sources".into(), sources.len().into());
            m.insert("bytes_written".into(), bytes_written.into());
            m.insert("files".into(), files.into());
            m.insert("seconds".into(), seconds.into());
            if let Some((value, _)) = &icechunk_summary {
                m.insert("icechunk".into(), value.clone());
            }
            if let Some((folder, notes)) = &stac {
                m.insert("stac".into(), folder.display().to_string().into());
                m.insert("stac_notes".into(), serde_json::json!(notes));
            }
        }
        print_json(&v)?;
    } else {
        println!(
            "{dest}: {} arrays, {} references ({} byte ranges over {}, {} inlined, {}), {} written, {seconds:.2} s",
            summary.variables,
            summary.references,
            summary.ranges,
            human_bytes(summary.referenced_bytes),
            summary.inlined,
            human_bytes(summary.inlined_bytes),
            human_bytes(bytes_written),
        );
        for d in &summary.decoded {
            eprintln!("note: {d}");
        }
        for d in &summary.dropped {
            eprintln!("note: {d} left out (--drop)");
        }
        if let Some((_, line)) = &icechunk_summary {
            println!("{line}");
        }
        if let Some((folder, notes)) = &stac {
            println!("STAC: {}", folder.display());
            for n in notes {
                eprintln!("note: STAC: {n}");
            }
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Parquet,
    Icechunk,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Json => "kerchunk",
            Format::Parquet => "kerchunk-parquet",
            Format::Icechunk => "icechunk",
        }
    }
}

/// Write the references as an Icechunk repository (cargo feature `icechunk`):
/// its summary as JSON, and as a line for people.
#[cfg(feature = "icechunk")]
fn write_icechunk(
    refs: &arco_virtual::refs::References,
    dest: &str,
    args: &VirtualizeArgs,
    command_line: String,
    storage: &StorageArgs,
) -> anyhow::Result<(serde_json::Value, String)> {
    let options = arco_icechunk::IcechunkOptions {
        spec_version: if args.icechunk_spec == 2 {
            arco_icechunk::SpecVersion::V2
        } else {
            arco_icechunk::SpecVersion::V1
        },
        message: args.message.clone().unwrap_or(command_line),
        overwrite: args.overwrite,
    };
    let open = crate::source::open_options(storage, None);
    let summary = arco_icechunk::write_to(refs, dest, &options, &open)?;
    let line = format!(
        "icechunk spec version {:?}, snapshot {}; readers authorize the virtual chunk containers: {}",
        summary.spec_version,
        summary.snapshot_id,
        summary.containers.join(", ")
    );
    Ok((serde_json::to_value(&summary)?, line))
}

/// Without the `icechunk` feature: say how to get it.
#[cfg(not(feature = "icechunk"))]
fn write_icechunk(
    _refs: &arco_virtual::refs::References,
    dest: &str,
    _args: &VirtualizeArgs,
    _command_line: String,
    _storage: &StorageArgs,
) -> anyhow::Result<(serde_json::Value, String)> {
    bail!(
        "{dest}: this arco was built without Icechunk support; rebuild with `--features icechunk` (a default feature)"
    )
}

/// Bytes under a folder.
fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return std::fs::metadata(path).map_or(0, |m| m.len());
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            _ => e.metadata().map_or(0, |m| m.len()),
        })
        .sum()
}

/// A byte size like `500`, `4KiB`, or `0`.
fn bytes_or_zero(s: &str) -> anyhow::Result<u64> {
    if s.trim() == "0" {
        return Ok(0);
    }
    Ok(arco_engine::parse_bytes(s)?)
}

/// `--to`, else DEST's extension.
fn output_format(to: Option<&str>, dest: &str) -> anyhow::Result<Format> {
    match to {
        Some("kerchunk") => return Ok(Format::Json),
        Some("kerchunk-parquet") => return Ok(Format::Parquet),
        Some("icechunk") => return Ok(Format::Icechunk),
        Some(other) => {
            bail!("unknown output format {other}; use kerchunk, kerchunk-parquet or icechunk")
        }
        None => {}
    }
    let ext = Path::new(dest.trim_end_matches('/'))
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("json") => Ok(Format::Json),
        Some("parq") | Some("parquet") => Ok(Format::Parquet),
        Some("icechunk") => Ok(Format::Icechunk),
        _ => bail!(
            "{dest}: cannot tell the output format from the name; end it in .json (kerchunk), .parq (kerchunk-parquet) or .icechunk, or pass --to"
        ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_format_follows_the_extension_unless_given() {
        assert_eq!(output_format(None, "a/refs.json").unwrap(), Format::Json);
        assert_eq!(output_format(None, "refs.PARQ/").unwrap(), Format::Parquet);
        assert_eq!(
            output_format(None, "refs.parquet").unwrap(),
            Format::Parquet
        );
        assert_eq!(
            output_format(Some("kerchunk-parquet"), "refs.json").unwrap(),
            Format::Parquet
        );
        let e = output_format(None, "refs.zarr").unwrap_err().to_string();
        assert!(e.contains("--to"), "{e}");
        assert_eq!(bytes_or_zero("0").unwrap(), 0);
        assert_eq!(bytes_or_zero("1KiB").unwrap(), 1024);
    }
}
