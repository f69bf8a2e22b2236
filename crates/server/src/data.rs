//! The datasets a server holds: found under the roots it was given, opened
//! once as [`Cube`]s sharing one chunk cache, and described in STAC.
//!
//! `arco serve PATH…` takes, for each path:
//! - a dataset: a Zarr store, a kerchunk reference set, or a NetCDF, HDF5,
//!   GRIB or GeoTIFF file (local or a URL);
//! - a folder of datasets: walked (symlinks not followed, hidden entries and
//!   unfinished `*.arco-partial` outputs skipped); each Zarr store, reference
//!   set and data file in it is a dataset;
//! - a STAC catalog (a `catalog.json`/`collection.json`, a folder holding one,
//!   or item files): loaded as before, for the STAC API only.
//!
//! Each dataset is one collection with one item. Its id is the file or store
//! name without extension (`data/tas.zarr` → `tas`); two datasets with the
//! same name get the extension appended (`tas-nc`, `tas-zarr`). Its STAC
//! comes from the documents `arco convert` (`DEST/.stac/`) or `arco
//! virtualize` (`DEST.stac/`) wrote, else is described on the fly.
//!
//! The server reads only these datasets: no request parameter names a path
//! or URL.

use crate::error::{ApiError, LoadError};
use crate::load::{LoadOptions, LoadedCatalog, LoadedCollection, LoadedItem};
use arco_cube::{ChunkCache, Cube};
use arco_formats::Reader;
use rayon::prelude::*;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Default bound of the decoded-chunk cache: 512 MiB.
pub const DEFAULT_CACHE_BYTES: u64 = 512 << 20;

/// The datasets being served.
#[derive(Debug)]
pub struct DataRegistry {
    cubes: BTreeMap<String, Arc<Cube>>,
    cache: Arc<ChunkCache>,
}

impl Default for DataRegistry {
    fn default() -> Self {
        DataRegistry::new(Arc::new(ChunkCache::new(DEFAULT_CACHE_BYTES)))
    }
}

impl DataRegistry {
    /// An empty registry over `cache`.
    pub fn new(cache: Arc<ChunkCache>) -> Self {
        DataRegistry {
            cubes: BTreeMap::new(),
            cache,
        }
    }

    /// Add a cube under its id (replacing one of the same id).
    pub fn insert(&mut self, cube: Cube) {
        self.cubes.insert(cube.id.clone(), Arc::new(cube));
    }

    /// The dataset `id`, or a 404 naming the datasets there are.
    pub fn get(&self, id: &str) -> Result<Arc<Cube>, ApiError> {
        self.cubes.get(id).cloned().ok_or_else(|| {
            let ids: Vec<&str> = self.cubes.keys().map(String::as_str).collect();
            ApiError::not_found(if ids.is_empty() {
                format!("no dataset '{id}': this server serves no datasets (give arco serve a folder or files of data)")
            } else {
                format!("no dataset '{id}'; datasets are {}", ids.join(", "))
            })
        })
    }

    /// Every dataset, by id.
    pub fn cubes(&self) -> impl Iterator<Item = &Arc<Cube>> {
        self.cubes.values()
    }

    /// Number of datasets.
    pub fn len(&self) -> usize {
        self.cubes.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.cubes.is_empty()
    }

    /// The shared chunk cache.
    pub fn cache(&self) -> &Arc<ChunkCache> {
        &self.cache
    }
}

/// What [`discover`] found.
#[derive(Debug, Default)]
pub struct Discovered {
    /// The datasets, opened.
    pub registry: DataRegistry,
    /// Their STAC collections and items.
    pub catalog: LoadedCatalog,
    /// Paths and URLs that are STAC catalogs, for [`crate::load()`].
    pub stac_sources: Vec<String>,
    /// Files under a folder that could not be opened: `(path, why)`.
    pub skipped: Vec<(String, String)>,
}

/// File extensions of data files looked at inside folders.
const DATA_EXTENSIONS: &[&str] = &[
    "nc", "nc3", "nc4", "netcdf", "cdf", "h5", "hdf5", "he5", "hdf", "grib", "grb", "grib1",
    "grib2", "grb2", "tif", "tiff",
];

/// A candidate dataset.
#[derive(Debug, Clone)]
struct Candidate {
    location: String,
    /// Given by the user directly (an open failure is an error, not a skip).
    explicit: bool,
}

fn is_stac_json(path: &Path) -> bool {
    let Ok(text) = std::fs::read(path) else {
        return false;
    };
    serde_json::from_slice::<Value>(&text)
        .ok()
        .and_then(|v| v.get("type").and_then(Value::as_str).map(String::from))
        .is_some_and(|t| {
            matches!(
                t.as_str(),
                "Catalog" | "Collection" | "Feature" | "FeatureCollection"
            )
        })
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<Candidate>, stac: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') || name.ends_with(".arco-partial") || name.ends_with(".stac") {
            continue;
        }
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.file_type().is_symlink() {
            continue;
        }
        let loc = p.display().to_string();
        if meta.is_dir() {
            if arco_formats::is_zarr_location(&loc)
                || arco_formats::kerchunk::is_kerchunk_location(&loc)
                || is_icechunk(&loc)
            {
                out.push(Candidate {
                    location: loc,
                    explicit: false,
                });
            } else if p.join("catalog.json").is_file() {
                stac.push(loc);
            } else if depth < 8 {
                walk(&p, depth + 1, out, stac);
            }
            continue;
        }
        let ext = p
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if ext == "json" || ext == "parq" || ext == "parquet" {
            if arco_formats::kerchunk::is_kerchunk_location(&loc) {
                out.push(Candidate {
                    location: loc,
                    explicit: false,
                });
            }
        } else if DATA_EXTENSIONS.contains(&ext.as_str()) {
            out.push(Candidate {
                location: loc,
                explicit: false,
            });
        }
    }
}

/// Sort `paths` into datasets and STAC sources.
fn classify(paths: &[String]) -> Result<(Vec<Candidate>, Vec<String>), LoadError> {
    let mut data = Vec::new();
    let mut stac = Vec::new();
    for s in paths {
        let remote = s.contains("://");
        if arco_formats::is_zarr_location(s)
            || arco_formats::kerchunk::is_kerchunk_location(s)
            || is_icechunk(s)
        {
            data.push(Candidate {
                location: s.clone(),
                explicit: true,
            });
            continue;
        }
        if remote {
            let lower = s.to_ascii_lowercase();
            if lower.ends_with(".json") {
                stac.push(s.clone());
            } else {
                data.push(Candidate {
                    location: s.clone(),
                    explicit: true,
                });
            }
            continue;
        }
        let p = Path::new(s);
        if !p.exists() {
            return Err(LoadError::Missing(p.to_path_buf()));
        }
        if p.is_dir() {
            if p.join("catalog.json").is_file() || p.join("collection.json").is_file() {
                stac.push(s.clone());
            } else {
                let before = (data.len(), stac.len());
                walk(p, 0, &mut data, &mut stac);
                if (data.len(), stac.len()) == before {
                    // Perhaps a folder of STAC item files.
                    stac.push(s.clone());
                }
            }
        } else if p
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
            && is_stac_json(p)
        {
            stac.push(s.clone());
        } else {
            data.push(Candidate {
                location: s.clone(),
                explicit: true,
            });
        }
    }
    Ok((data, stac))
}

/// True when `location` is an Icechunk repository that this build reads
/// (cargo feature `icechunk`).
fn is_icechunk(location: &str) -> bool {
    #[cfg(feature = "icechunk")]
    {
        arco_icechunk::is_icechunk_location(location)
    }
    #[cfg(not(feature = "icechunk"))]
    {
        let _ = location;
        false
    }
}

/// Open a dataset at `location`.
pub fn open_reader(location: &str, opts: &LoadOptions) -> Result<Box<dyn Reader>, String> {
    let storage = &opts.storage;
    #[cfg(feature = "icechunk")]
    if arco_icechunk::is_icechunk_location(location) {
        return arco_icechunk::open_reader(location, storage).map_err(|e| e.to_string());
    }
    if arco_formats::kerchunk::is_kerchunk_location(location) {
        return arco_formats::kerchunk::open_kerchunk(location, storage).map_err(|e| e.to_string());
    }
    if arco_formats::is_zarr_location(location) {
        return arco_formats::open_zarr(location, storage).map_err(|e| e.to_string());
    }
    let source = arco_storage::open(location, storage).map_err(|e| e.to_string())?;
    arco_formats::open(source).map_err(|e| e.to_string())
}

/// The STAC documents written beside or inside a dataset, if any.
fn written_stac(location: &str) -> Option<PathBuf> {
    let p = Path::new(location);
    let inside = p.join(".stac").join("collection.json");
    if inside.is_file() {
        return Some(inside);
    }
    let name = p.file_name()?.to_string_lossy().into_owned();
    let beside = p
        .with_file_name(format!("{name}.stac"))
        .join("collection.json");
    beside.is_file().then_some(beside)
}

/// The item datetime of data without a time coordinate: the file's
/// modification time (now for remote data).
fn modified(location: &str) -> chrono::DateTime<chrono::Utc> {
    std::fs::metadata(location)
        .and_then(|m| m.modified())
        .map(chrono::DateTime::<chrono::Utc>::from)
        .unwrap_or_else(|_| chrono::Utc::now())
}

/// The STAC of a dataset: written documents when there are, else described.
fn stac_of(
    id: &str,
    location: &str,
    reader: &dyn Reader,
    opts: &LoadOptions,
) -> Result<LoadedCatalog, String> {
    if let Some(path) = written_stac(location) {
        if let Ok(cat) = crate::load::load(&[path.display().to_string()], opts) {
            return Ok(cat);
        }
    }
    let options = arco_catalog::DescribeOptions {
        id: Some(id.to_string()),
        null_geometry: true,
        datetime: Some(modified(location)),
        ..arco_catalog::DescribeOptions::default()
    };
    let d = arco_catalog::describe(reader, location, &options).map_err(|e| e.to_string())?;
    let mut item = d.item().map_err(|e| e.to_string())?;
    let kind = arco_catalog::AssetKind::from_format(&reader.dataset().format);
    let href = if location.contains("://") {
        location.to_string()
    } else {
        std::fs::canonicalize(location)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| location.to_string())
    };
    d.add_asset(&mut item, "data", &arco_catalog::AssetSpec::new(href, kind))
        .map_err(|e| e.to_string())?;
    let mut spec = arco_catalog::CollectionSpec::new(id.to_string());
    spec.assets_from_single_item = true;
    let collection = arco_catalog::collection_from(&spec, std::slice::from_ref(&item))
        .map_err(|e| e.to_string())?;
    let cval = serde_json::to_value(&collection).map_err(|e| e.to_string())?;
    let mut ival = serde_json::to_value(&item).map_err(|e| e.to_string())?;
    ival["collection"] = Value::String(id.to_string());
    Ok(LoadedCatalog {
        root: None,
        collections: vec![LoadedCollection {
            json: cval,
            location: location.to_string(),
        }],
        items: vec![LoadedItem::from_value(&ival, location)],
    })
}

/// Give the collection and its items the dataset's id.
fn rename(cat: &mut LoadedCatalog, id: &str) {
    for c in &mut cat.collections {
        c.json["id"] = Value::String(id.to_string());
    }
    for it in &mut cat.items {
        if let Ok(mut v) = it.value() {
            v["collection"] = Value::String(id.to_string());
            *it = LoadedItem::from_value(&v, it.location.clone());
        }
    }
}

/// Unique ids for the candidates: the name without extension, with the
/// extension appended where two share a name.
fn ids(cands: &[Candidate]) -> Vec<String> {
    let base: Vec<String> = cands
        .iter()
        .map(|c| arco_catalog::id_from_location(&c.location))
        .collect();
    let mut count: HashMap<&str, usize> = HashMap::new();
    for b in &base {
        *count.entry(b.as_str()).or_default() += 1;
    }
    let mut out: Vec<String> = cands
        .iter()
        .zip(&base)
        .map(|(c, b)| {
            if count[b.as_str()] < 2 {
                return b.clone();
            }
            let name = c
                .location
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or("");
            match name.rsplit_once('.') {
                Some((_, ext)) if !ext.is_empty() => {
                    arco_catalog::sanitize_id(&format!("{b}-{ext}"))
                }
                _ => b.clone(),
            }
        })
        .collect();
    // Still equal (same name and extension in two folders): number them.
    let mut seen: HashMap<String, usize> = HashMap::new();
    for id in &mut out {
        let n = seen.entry(id.clone()).or_default();
        *n += 1;
        if *n > 1 {
            *id = format!("{id}-{n}");
        }
    }
    out
}

/// Find and open the datasets under `paths`, with a chunk cache of
/// `cache_bytes`.
pub fn discover(
    paths: &[String],
    opts: &LoadOptions,
    cache_bytes: u64,
) -> Result<Discovered, LoadError> {
    let (cands, stac_sources) = classify(paths)?;
    let ids = ids(&cands);
    let cache = Arc::new(ChunkCache::new(cache_bytes));
    let opened: Vec<Result<(Cube, LoadedCatalog), (Candidate, String)>> = cands
        .par_iter()
        .zip(&ids)
        .map(|(c, id)| {
            let reader: Arc<dyn Reader> =
                Arc::from(open_reader(&c.location, opts).map_err(|e| (c.clone(), e))?);
            let mut cat = stac_of(id, &c.location, reader.as_ref(), opts)
                .map_err(|e| (c.clone(), format!("describing it in STAC: {e}")))?;
            rename(&mut cat, id);
            let cube = Cube::open(id.clone(), c.location.clone(), reader, cache.clone())
                .map_err(|e| (c.clone(), e.to_string()))?;
            Ok((cube, cat))
        })
        .collect();
    let mut out = Discovered {
        registry: DataRegistry::new(cache),
        stac_sources,
        ..Discovered::default()
    };
    for r in opened {
        match r {
            Ok((cube, cat)) => {
                out.catalog.collections.extend(cat.collections);
                out.catalog.items.extend(cat.items);
                out.registry.insert(cube);
            }
            Err((c, e)) if c.explicit => {
                return Err(LoadError::Empty(format!(
                    "cannot serve {}: {e}",
                    c.location
                )));
            }
            Err((c, e)) => out.skipped.push((c.location, e)),
        }
    }
    Ok(out)
}

/// The HTTP error for a cube query's failure: 400 for a bad request, 404
/// for an unknown variable, 413 for a query too large, 500 for the data.
pub fn cube_error(e: arco_cube::Error) -> ApiError {
    use arco_cube::Error as E;
    match &e {
        E::UnknownVariable { .. } => ApiError::not_found(e.to_string()),
        E::TooLarge(_) => ApiError {
            status: 413,
            code: "PayloadTooLarge",
            description: e.to_string(),
        },
        _ if e.is_client_error() => ApiError::bad_parameter(e.to_string()),
        _ => ApiError::internal(e.to_string()),
    }
}

/// Run `f` (reads, decoding, rendering) on the blocking pool, at most as
/// many at once as there are cores: more would not finish sooner, and each
/// holds its buffers and chunks while it runs (16 connections rendering at
/// once on 2 cores took 5× the memory of 2 at a time).
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    static WORKERS: std::sync::OnceLock<Arc<tokio::sync::Semaphore>> = std::sync::OnceLock::new();
    let workers = WORKERS.get_or_init(|| {
        let n = std::thread::available_parallelism().map_or(2, |n| n.get());
        Arc::new(tokio::sync::Semaphore::new(n.max(2)))
    });
    let _permit = workers
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| ApiError::internal(format!("the request's worker pool is closed: {e}")))?;
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("the request's worker failed: {e}")))?
}

/// Query parameters in order, repeated keys kept (`sel=a&sel=b`).
#[derive(Debug, Clone, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    /// Parse a raw query string.
    pub fn parse(query: Option<&str>) -> Params {
        Params(
            url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The last value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// Every value of `key`.
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A number parameter, or a 400 naming it.
    pub fn number(&self, key: &str) -> Result<Option<f64>, ApiError> {
        self.get(key)
            .map(|v| {
                v.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| ApiError::bad_parameter(format!("{key}='{v}' is not a number")))
            })
            .transpose()
    }

    /// The `sel` items (`dim=value`, `dim=method::value`).
    pub fn sels(&self) -> Result<Vec<arco_cube::DimSel>, ApiError> {
        self.all("sel")
            .into_iter()
            .filter(|s| !s.is_empty())
            .map(|s| arco_cube::DimSel::parse(s).map_err(ApiError::bad_parameter))
            .collect()
    }

    /// The variable named by `variable`, else the dataset's only gridded
    /// variable.
    pub fn variable<'a>(&self, cube: &'a Cube) -> Result<&'a arco_cube::VarView, ApiError> {
        match self.get("variable") {
            Some(v) => cube.variable(v).map_err(cube_error),
            None => cube.default_variable().ok_or_else(|| {
                ApiError::bad_parameter(format!(
                    "give variable=NAME; {} has {}",
                    cube.id,
                    cube.variables()
                        .map(|v| v.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }),
        }
    }
}
