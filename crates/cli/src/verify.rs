//! `arco verify`: prove that an output holds every value and attribute of its sources.
//!
//! Opens the sources (concatenated along `--concat-dim` when there are
//! several, as `arco convert` does) and the destination, runs
//! [`arco_engine::verify::verify`], and prints one line per problem followed
//! by a summary, or the whole report with `--json`. Exit status: 0 when
//! everything is equal, 1 when anything differs (or cannot be read), 2 for
//! usage errors.

use crate::output::print_json;
use crate::source::{expand, open_inputs, open_options, runtime_for, StorageArgs};
use anyhow::{bail, Context};
use arco_engine::verify::{
    check_virtual_sources, verify, DestView, ReaderDestination, VerifyOptions, VerifyReport,
    DEFAULT_MAX_DIFFERENCES, SOURCES_ATTRIBUTE,
};
use std::io::Write;

/// Arguments of `arco verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Source files or URLs (globs like 'data/tas_*.nc' are expanded, sorted), then the converted dataset
    /// (a Zarr store, kerchunk references, or an Icechunk repository: X.icechunk, local or s3://).
    #[arg(required = true, num_args = 2..)]
    pub paths: Vec<String>,
    #[command(flatten)]
    pub combine: crate::combine::CombineArgs,
    /// Also compare each source's SHA-256 with the one recorded at conversion (reads every source in full).
    #[arg(long)]
    pub checksum: bool,
    /// Differences listed per variable; all are counted.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_DIFFERENCES)]
    pub max_differences: usize,
    /// Memory for values held at once while comparing, like 512MiB (default 1GiB).
    #[arg(long, value_name = "BYTES")]
    pub memory: Option<String>,
}

/// What `verify` found when it is not all equal: `main` prints it and exits 1.
#[derive(Debug)]
struct Differs {
    destination: String,
    problems: u64,
}

impl std::fmt::Display for Differs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} does not match its sources ({} problem{})",
            self.destination,
            self.problems,
            if self.problems == 1 { "" } else { "s" }
        )
    }
}

impl std::error::Error for Differs {}

/// Run `arco verify`.
pub fn run(args: &VerifyArgs, storage: &StorageArgs, json: bool) -> anyhow::Result<()> {
    let (dest, sources) = match args.paths.split_last() {
        Some((d, s)) if !s.is_empty() => (d.clone(), s.to_vec()),
        _ => bail!("give at least one source and the converted dataset"),
    };
    let sources = expand(&sources)?;
    let inputs = open_inputs(&sources, &args.combine, storage)?;

    if arco_formats::kerchunk::is_kerchunk_location(&dest)
        || crate::source::is_icechunk_location(&dest)
    {
        return run_virtual(args, storage, json, &dest, &inputs);
    }
    let dest_runtime = runtime_for(&dest)?;
    let open = open_options(storage, dest_runtime.as_ref());
    let view = DestView::open_zarr(&dest, &open).with_context(|| format!("cannot open {dest}"))?;

    let mut options = VerifyOptions {
        max_differences: args.max_differences,
        sources: inputs.sources.iter().map(|(_, s)| s.clone()).collect(),
        checksum: args.checksum,
        ..VerifyOptions::default()
    };
    if let Some(m) = &args.memory {
        options.memory_bytes = arco_engine::parse_bytes(m).context("--memory")?;
    }
    let report = verify(inputs.reader.as_ref(), &view, &options)
        .with_context(|| format!("verifying {dest}"))?;

    if json {
        print_json(&serde_json::to_value(&report)?)?;
    } else {
        print_human(&report)?;
    }
    drop(view);
    drop(dest_runtime);
    if report.ok {
        Ok(())
    } else {
        Err(Differs {
            destination: dest,
            problems: report.problem_count(),
        }
        .into())
    }
}

/// `arco verify SRC... REFS` for a kerchunk reference set or an Icechunk
/// repository: freshness first (each `arco:sources` entry against the file
/// now; for a repository also icechunk's own recorded modification times),
/// then every value read through the references against the sources'.
fn run_virtual(
    args: &VerifyArgs,
    storage: &StorageArgs,
    json: bool,
    dest: &str,
    inputs: &crate::source::Inputs,
) -> anyhow::Result<()> {
    let runtime = crate::source::kerchunk_runtime()?;
    let open = open_options(storage, Some(&runtime));
    let mut freshness = Vec::new();
    let mut notes = Vec::new();
    let (reader, root_attributes): (Box<dyn arco_formats::Reader>, _) =
        if crate::source::is_icechunk_location(dest) {
            let (reader, attrs, changed) = open_icechunk_destination(dest, storage)?;
            freshness.extend(changed);
            (reader, attrs)
        } else {
            let refs = arco_formats::kerchunk::KerchunkReader::open(dest, &open)
                .with_context(|| format!("cannot open {dest}"))?;
            let attrs = refs.root_attributes().clone();
            (Box::new(refs), attrs)
        };
    match root_attributes.get(SOURCES_ATTRIBUTE) {
        Some(records) => {
            let mut recorded = check_virtual_sources(records, &open);
            // Icechunk's own check may have named the same file already.
            recorded.retain(|c| {
                !freshness
                    .iter()
                    .any(|f: &arco_engine::verify::SourceChange| same_file(&f.location, &c.location))
            });
            freshness.extend(recorded);
        }
        None => notes.push(format!(
            "{dest} records no {SOURCES_ATTRIBUTE}: whether the sources changed since the references were made was not checked"
        )),
    }
    let view = DestView::new(Box::new(ReaderDestination::new(reader)))
        .with_context(|| format!("cannot open {dest}"))?;
    let mut options = VerifyOptions {
        max_differences: args.max_differences,
        ..VerifyOptions::default()
    };
    if let Some(m) = &args.memory {
        options.memory_bytes = arco_engine::parse_bytes(m).context("--memory")?;
    }
    let mut report = match verify(inputs.reader.as_ref(), &view, &options) {
        Ok(r) => r,
        // A changed source may make the references unreadable: the
        // freshness findings are the report.
        Err(e) if !freshness.is_empty() => VerifyReport {
            ok: false,
            source: inputs.reader.dataset().source.clone(),
            destination: dest.to_string(),
            variables_checked: 0,
            elements_checked: 0,
            attributes_checked: 0,
            difference_count: 0,
            differences: Vec::new(),
            missing: Vec::new(),
            extra: Vec::new(),
            variables: Vec::new(),
            source_changes: Vec::new(),
            pyramid: Vec::new(),
            notes: vec![format!("values were not compared: {e}")],
        },
        Err(e) => return Err(anyhow::Error::new(e).context(format!("verifying {dest}"))),
    };
    let mut changes = freshness;
    changes.append(&mut report.source_changes);
    report.source_changes = changes;
    report.notes.extend(notes);
    report.ok = report.problem_count() == 0;
    if json {
        print_json(&serde_json::to_value(&report)?)?;
    } else {
        print_human(&report)?;
    }
    drop(view);
    drop(runtime);
    if report.ok {
        Ok(())
    } else {
        Err(Differs {
            destination: dest.to_string(),
            problems: report.problem_count(),
        }
        .into())
    }
}

/// True when two source names (a path or a `file://` URL) are one file.
fn same_file(a: &str, b: &str) -> bool {
    let path = |s: &str| {
        url::Url::parse(s)
            .ok()
            .filter(|u| u.scheme() == "file")
            .and_then(|u| u.to_file_path().ok())
            .unwrap_or_else(|| std::path::PathBuf::from(s))
    };
    a == b || path(a) == path(b)
}

/// An opened repository, its root attributes, and its changed sources.
type IcechunkDestination = (
    Box<dyn arco_formats::Reader>,
    serde_json::Map<String, serde_json::Value>,
    Vec<arco_engine::verify::SourceChange>,
);

/// An Icechunk repository as a verify destination (cargo feature
/// `icechunk`): its reader, its root attributes, and the sources icechunk's
/// own recorded modification times say changed.
#[cfg(feature = "icechunk")]
fn open_icechunk_destination(
    dest: &str,
    storage: &StorageArgs,
) -> anyhow::Result<IcechunkDestination> {
    let open = open_options(storage, None);
    let snapshot =
        arco_icechunk::open_snapshot(dest, &open).with_context(|| format!("cannot open {dest}"))?;
    let changed = arco_icechunk::changed_sources(dest, &open)
        .with_context(|| format!("checking the sources of {dest}"))?
        .into_iter()
        .map(|c| arco_engine::verify::SourceChange {
            kind: arco_engine::verify::SourceChangeKind::Changed,
            location: c.url.clone(),
            recorded: Some(c.url),
            message: c.message,
        })
        .collect();
    Ok((snapshot.reader, snapshot.root_attributes, changed))
}

/// Without the `icechunk` feature: say how to get it.
#[cfg(not(feature = "icechunk"))]
fn open_icechunk_destination(
    dest: &str,
    storage: &StorageArgs,
) -> anyhow::Result<IcechunkDestination> {
    crate::source::open_icechunk(dest, storage)?;
    anyhow::bail!("{dest}: this arco was built without Icechunk support")
}

/// One line per problem, the notes, then the summary.
fn print_human(report: &VerifyReport) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for c in &report.source_changes {
        writeln!(out, "{c}")?;
    }
    for m in &report.missing {
        writeln!(out, "{m}: missing from the destination")?;
    }
    for e in &report.extra {
        writeln!(out, "{e}: only in the destination")?;
    }
    for d in &report.differences {
        writeln!(out, "{d}")?;
    }
    for l in &report.pyramid {
        writeln!(
            out,
            "overview level {} ({}, 1/{}): {} arrays, {} values recomputed from the level below{}",
            l.level,
            l.group,
            l.factor,
            l.arrays,
            l.elements,
            if l.value_differences == 0 {
                ", all equal".to_string()
            } else {
                format!(", {} differ", l.value_differences)
            }
        )?;
    }
    for n in &report.notes {
        writeln!(out, "note: {n}")?;
    }
    let plural = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let counted = format!(
        "{}, {}, {}",
        plural(report.variables_checked, "variable", "variables"),
        plural(report.elements_checked, "value", "values"),
        plural(report.attributes_checked, "attribute", "attributes"),
    );
    if report.ok {
        writeln!(out, "verified: {counted}, all equal")?;
    } else {
        let mut parts = Vec::new();
        if report.difference_count > 0 {
            parts.push(plural(report.difference_count, "difference", "differences"));
        }
        if !report.missing.is_empty() {
            parts.push(format!("{} missing", report.missing.len()));
        }
        if !report.extra.is_empty() {
            parts.push(format!("{} extra", report.extra.len()));
        }
        if !report.source_changes.is_empty() {
            parts.push(plural(
                report.source_changes.len() as u64,
                "source mismatch",
                "source mismatches",
            ));
        }
        writeln!(out, "checked {counted}: {}", parts.join(", "))?;
    }
    Ok(())
}
