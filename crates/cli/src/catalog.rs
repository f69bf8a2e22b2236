//! `arco catalog`: a static STAC catalog (one Collection, one Item per
//! dataset) generated from the data, validated offline with `--check`.

use crate::output::print_json;
use crate::source::{expand, open, StorageArgs};
use anyhow::{bail, Context};
use arco_catalog::{
    AssetSpec, CatalogSpec, CollectionSpec, DescribeOptions, License, StatisticsMode,
};
use clap::Args;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// STAC options shared by `convert` and `catalog`.
#[derive(Debug, Clone, Args)]
pub struct StacArgs {
    /// The items' datetime for data without a time coordinate (RFC 3339, like 2020-01-01T00:00:00Z, or a date).
    #[arg(long, value_name = "DATETIME", value_parser = parse_datetime)]
    pub datetime: Option<chrono::DateTime<chrono::Utc>>,
    /// License of the data: an SPDX identifier (CC-BY-4.0, MIT, …), `other`, `proprietary` or `various`.
    #[arg(long, value_name = "SPDX", value_parser = parse_license)]
    pub license: Option<License>,
    /// Band statistics (min, max, mean, stddev): `auto` reads variables up to 64 MiB, `always`, `never`.
    #[arg(long, default_value = "auto", value_name = "WHEN", value_parser = ["auto", "always", "never"])]
    pub stats: String,
}

impl StacArgs {
    /// The statistics mode.
    pub fn statistics(&self) -> StatisticsMode {
        match self.stats.as_str() {
            "always" => StatisticsMode::Always,
            "never" => StatisticsMode::Never,
            _ => StatisticsMode::Auto,
        }
    }
}

/// Parse `--datetime`: RFC 3339, or a bare date (midnight UTC).
pub fn parse_datetime(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        if let Some(t) = d.and_hms_opt(0, 0, 0) {
            return Ok(t.and_utc());
        }
    }
    Err(format!(
        "'{s}' is not an RFC 3339 datetime (2020-01-01T00:00:00Z) nor a date (2020-01-01)"
    ))
}

fn parse_license(s: &str) -> Result<License, String> {
    License::parse(s).map_err(|e| e.to_string())
}

/// `arco catalog` arguments.
#[derive(Debug, Args)]
pub struct CatalogArgs {
    /// Datasets to describe: files (NetCDF, HDF5, GRIB, GeoTIFF), Zarr stores, globs, s3:// URLs.
    #[arg(required = true)]
    pub datasets: Vec<String>,
    /// Folder to write the catalog into (catalog.json, <collection>/collection.json, <collection>/<item>/<item>.json).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Collection id (default: from the title, else `arco`).
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// Collection (and catalog) title.
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,
    /// Collection description (default: the single dataset's summary, or a sentence).
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// Describe datasets without spatial coordinates with a null geometry instead of refusing them.
    #[arg(long)]
    pub null_geometry: bool,
    /// The URL the catalog folder will be published at: adds absolute `self` links.
    #[arg(long, value_name = "URL")]
    pub href_base: Option<String>,
    /// Validate every written document against the STAC schemas (vendored, offline) and check every link.
    #[arg(long)]
    pub check: bool,
    /// Replace the catalog folder's documents if it already holds a catalog.
    #[arg(long)]
    pub overwrite: bool,
    /// Also load the collection and items into a PostgreSQL database with the pgstac schema (postgresql://…), for `arco serve --pgstac`.
    #[arg(long, value_name = "URL")]
    pub load_pgstac: Option<String>,
    #[command(flatten)]
    pub stac: StacArgs,
}

/// Run `arco catalog`.
pub fn run(args: &CatalogArgs, storage: &StorageArgs, json: bool) -> anyhow::Result<()> {
    if args.out.join("catalog.json").exists() && !args.overwrite {
        bail!(
            "{} already holds a catalog (catalog.json); pass --overwrite to replace it",
            args.out.display()
        );
    }
    let datasets = expand(&args.datasets)?;
    let options = DescribeOptions {
        null_geometry: args.null_geometry,
        statistics: args.stac.statistics(),
        datetime: args.stac.datetime,
        ..DescribeOptions::default()
    };
    let mut items = Vec::with_capacity(datasets.len());
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut notes = Vec::new();
    for location in &datasets {
        let href = absolute(location)?;
        let opened = open(location, storage)?;
        let description = arco_catalog::describe(opened.reader.as_ref(), &href, &options)
            .map_err(|e| with_flag_hint(e, location))?;
        if let Some(first) = seen.insert(description.id.clone(), location.clone()) {
            bail!(
                "{first} and {location} would both be item '{}'; catalog them in separate runs (--id) or rename one",
                description.id
            );
        }
        notes.extend(description.notes.iter().map(|n| format!("{location}: {n}")));
        let mut item = description
            .item()
            .map_err(|e| with_flag_hint(e, location))?;
        description
            .add_asset(
                &mut item,
                "data",
                &AssetSpec::for_dataset(&description, href),
            )
            .with_context(|| format!("describing {location}"))?;
        items.push(item);
    }

    let id = args
        .id
        .clone()
        .or_else(|| args.title.clone())
        .unwrap_or_else(|| "arco".into());
    let mut spec = CollectionSpec::new(id);
    spec.title = args.title.clone();
    spec.description = args.description.clone();
    spec.license = args.stac.license.clone();
    let collection = arco_catalog::collection_from(&spec, &items)?;
    let mut catalog = CatalogSpec::new(
        "catalog",
        args.title.clone().map_or_else(
            || "Datasets described by arco".into(),
            |t| format!("{t}: catalog"),
        ),
    );
    catalog.title = args.title.clone();
    catalog.license = args.stac.license.clone();
    catalog.href_base = args.href_base.clone();
    let collection_id = collection.id.clone();
    let written = arco_catalog::write_static_catalog(&args.out, &catalog, &[(collection, items)])
        .with_context(|| format!("writing the catalog into {}", args.out.display()))?;

    let check = if args.check {
        match arco_catalog::validate::validate_catalog_dir(&args.out) {
            Ok(report) => Some(Ok(report)),
            Err(issues) => Some(Err(issues)),
        }
    } else {
        None
    };
    let loaded = match &args.load_pgstac {
        Some(url) if !matches!(check, Some(Err(_))) => Some(load_pgstac(url, &args.out)?),
        _ => None,
    };
    let root = args.out.join("catalog.json");
    if json {
        let check_value = match &check {
            None => serde_json::Value::Null,
            Some(Ok(report)) => json!({
                "valid": true,
                "documents": report.documents.len(),
                "links": report.links,
            }),
            Some(Err(issues)) => json!({
                "valid": false,
                "issues": issues.iter().map(|i| i.to_string()).collect::<Vec<_>>(),
            }),
        };
        print_json(&json!({
            "catalog": root,
            "collection": collection_id,
            "items": datasets.len(),
            "documents": written,
            "notes": notes,
            "check": check_value,
            "pgstac": loaded.as_ref().map(|(c, i)| json!({ "collections": c, "items": i })),
        }))?;
    } else {
        for note in &notes {
            eprintln!("note: {note}");
        }
        println!(
            "wrote {} ({} documents: collection '{collection_id}', {} items)",
            root.display(),
            written.len(),
            datasets.len()
        );
        match &check {
            Some(Ok(report)) => println!(
                "check: {} documents are valid STAC and {} links resolve",
                report.documents.len(),
                report.links
            ),
            Some(Err(issues)) => {
                for issue in issues {
                    eprintln!("invalid: {issue}");
                }
            }
            None => {}
        }
        if let Some((c, i)) = loaded {
            println!("loaded {c} collection(s) and {i} items into pgstac");
        }
    }
    if let Some(Err(issues)) = check {
        bail!(
            "{} problem(s) in the catalog at {}",
            issues.len(),
            args.out.display()
        );
    }
    Ok(())
}

/// Describe `reader`'s data, published at `dest` (a file or folder that is
/// not a Zarr store, such as kerchunk references or an Icechunk repository),
/// in a STAC Collection and Item written beside it in `DEST.stac/`
/// (`collection.json`, `item.json`; the asset href is `../NAME`). Returns
/// the folder and the notes of the description.
pub fn write_sidecar_stac(
    reader: &dyn arco_formats::Reader,
    dest: &Path,
    kind: arco_catalog::AssetKind,
    stac: &StacArgs,
    command: &str,
    inputs: Vec<arco_catalog::InputRecord>,
) -> anyhow::Result<(PathBuf, Vec<String>)> {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let abs = std::fs::canonicalize(dest).unwrap_or_else(|_| dest.to_path_buf());
    let mut processing = arco_catalog::Processing::now(command);
    processing.inputs = inputs;
    let options = DescribeOptions {
        null_geometry: true,
        statistics: stac.statistics(),
        datetime: Some(stac.datetime.unwrap_or_else(chrono::Utc::now)),
        processing: Some(processing),
        ..DescribeOptions::default()
    };
    let description = arco_catalog::describe(reader, &abs.display().to_string(), &options)?;
    let mut notes = description.notes.clone();
    if description.temporal.is_none() && stac.datetime.is_none() {
        notes.push(
            "the data have no time coordinate; the item's datetime is now (give one with --datetime)"
                .into(),
        );
    }
    let mut item = description.item()?;
    description.add_asset(
        &mut item,
        "data",
        &AssetSpec::new(format!("../{name}"), kind),
    )?;
    let mut spec = CollectionSpec::new(item.id.clone());
    spec.license = stac.license.clone();
    spec.assets_from_single_item = true;
    let collection = arco_catalog::collection_from(&spec, std::slice::from_ref(&item))?;
    let docs = arco_catalog::embedded_documents(&collection, &item)?;
    // Written whole into a temporary sibling, then renamed over the old one.
    let folder = dest.with_file_name(format!("{name}.stac"));
    let tmp = dest.with_file_name(format!(".{name}.stac.arco-tmp-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    for (key, bytes) in &docs {
        let file = key.rsplit('/').next().unwrap_or(key);
        std::fs::write(tmp.join(file), bytes)
            .with_context(|| format!("writing {}", tmp.join(file).display()))?;
    }
    if folder.exists() {
        std::fs::remove_dir_all(&folder)
            .with_context(|| format!("replacing {}", folder.display()))?;
    }
    std::fs::rename(&tmp, &folder).with_context(|| format!("writing {}", folder.display()))?;
    Ok((folder, notes))
}

/// Upsert the catalog written at `dir` into the pgstac database at `url`:
/// (collections, items) loaded.
fn load_pgstac(url: &str, dir: &Path) -> anyhow::Result<(usize, usize)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime for PostgreSQL")?;
    let sources = [dir.display().to_string()];
    let summary = runtime
        .block_on(arco_server::pgstac::load_pgstac_sources(url, &sources))
        .with_context(|| format!("loading {} into pgstac at {url}", dir.display()))?;
    Ok((summary.collections, summary.items))
}

/// The library's error, with the command-line flag that answers it.
fn with_flag_hint(e: arco_catalog::Error, location: &str) -> anyhow::Error {
    let hint = match &e {
        arco_catalog::Error::NoSpatialCoordinates { .. } => {
            " (on the command line: --null-geometry)"
        }
        arco_catalog::Error::NoTime { .. } => " (on the command line: --datetime 2020-01-01)",
        _ => "",
    };
    anyhow::Error::new(e).context(format!("describing {location}{hint}"))
}

/// `location` as an absolute path for local datasets (asset hrefs are made
/// relative to each document when the catalog is written), unchanged for URLs.
fn absolute(location: &str) -> anyhow::Result<String> {
    match arco_storage::Location::parse(location)? {
        arco_storage::Location::Local(path) => {
            let path: &Path = &path;
            let abs =
                std::fs::canonicalize(path).with_context(|| format!("{location}: not found"))?;
            Ok(abs.display().to_string())
        }
        _ => Ok(location.to_string()),
    }
}
