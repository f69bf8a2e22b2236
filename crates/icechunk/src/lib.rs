//! # arco-icechunk
//!
//! Icechunk repositories whose chunks are byte ranges of the original
//! files: [`write`] turns a reference set of `arco-virtual`
//! ([`References`]) into a local Icechunk repository with Zarr v3 metadata
//! ([`meta`]), one virtual chunk reference per byte range, the inlined
//! chunks stored inline, the virtual chunk containers readers need, and one
//! commit on `main`.
//!
//! Spec version 1 (the default) is what icechunk-python 1.x opens; version
//! 2 is what icechunk 2.x writes by default. Readers must authorize the
//! containers ([`Summary::containers`]) to follow the references, as in
//! icechunk-python:
//!
//! ```python
//! repo = icechunk.Repository.open(
//!     icechunk.local_filesystem_storage("out.icechunk"),
//!     authorize_virtual_chunk_access={"file:///data/": None},
//! )
//! ds = xr.open_zarr(repo.readonly_session("main").store, consolidated=False)
//! ```
//!
//! [`write_to`] writes at `s3://bucket/prefix` too (no rename there: the
//! commit is the last step, a failed write is deleted, an existing
//! repository is replaced only with `overwrite`).
//!
//! Repositories are inputs as well: [`open_zarr`] exposes one snapshot
//! (`repo.icechunk`, `repo.icechunk@branch`, `@tag:NAME`,
//! `@snapshot:ID`; local or `s3://`) as a read-only
//! [`arco_zarr::ZarrStore`] following native, inline and virtual chunks
//! with every container authorized; [`open_reader`] and [`open_snapshot`]
//! wrap it as an `arco-formats` reader; [`changed_sources`] lists the local
//! files changed since icechunk recorded them.
//!
//! Every call into the `icechunk` crate is in one private adapter module, as
//! its API changes between minor versions. Design: `docs/design/icechunk.md`.
#![warn(missing_docs)]

mod adapter;
pub mod meta;
mod read;
mod s3;

pub use read::{
    changed_sources, is_icechunk_location, open_reader, open_snapshot, open_zarr, split_version,
    ChangedSource, Snapshot,
};

use arco_virtual::{Reference, References};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Errors writing or reading a repository.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A node's metadata has no Zarr v3 form.
    #[error("{path}: {message}")]
    Metadata {
        /// The Zarr path of the array or group.
        path: String,
        /// Why, and what to do.
        message: String,
    },
    /// A source URL cannot be a virtual chunk container.
    #[error("source {url}: {message}")]
    Source {
        /// The source URL.
        url: String,
        /// Why, and what to do.
        message: String,
    },
    /// Writing or reading the repository failed.
    #[error("{path}: {message}")]
    Repository {
        /// The repository directory.
        path: String,
        /// What went wrong and what to do.
        message: String,
    },
}

/// Crate result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Icechunk format spec version.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub enum SpecVersion {
    /// Spec version 1: opened by icechunk-python 1.x and 2.x.
    #[default]
    V1,
    /// Spec version 2: icechunk 2.x only.
    V2,
}

/// How to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcechunkOptions {
    /// The spec version of the new repository.
    pub spec_version: SpecVersion,
    /// The commit message on `main`.
    pub message: String,
    /// Replace an existing repository at the destination.
    pub overwrite: bool,
}

impl Default for IcechunkOptions {
    fn default() -> Self {
        IcechunkOptions {
            spec_version: SpecVersion::V1,
            message: "arco virtualize".to_string(),
            overwrite: false,
        }
    }
}

/// What [`write`] made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// The spec version written.
    pub spec_version: SpecVersion,
    /// The commit on `main`.
    pub snapshot_id: String,
    /// Groups written (the root included).
    pub groups: usize,
    /// Arrays written.
    pub arrays: usize,
    /// Virtual chunk references.
    pub virtual_chunks: u64,
    /// Chunks stored inline.
    pub inline_chunks: u64,
    /// Bytes stored inline.
    pub inline_bytes: u64,
    /// URL prefixes of the virtual chunk containers, which readers must
    /// authorize (`authorize_virtual_chunk_access`).
    pub containers: Vec<String>,
}

/// What backs a virtual chunk container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ContainerStore {
    LocalFileSystem,
    /// How to reach the bucket (endpoint, region…; never credentials), or
    /// icechunk's defaults (AWS).
    S3(Option<S3Conf>),
    Http,
}

/// S3 settings resolved from arco's [`arco_storage::S3Options`] and the
/// environment, as icechunk wants them.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct S3Conf {
    pub endpoint: Option<String>,
    pub region: String,
    pub anonymous: bool,
    pub allow_http: bool,
    pub force_path_style: bool,
    /// Access key id, secret and session token.
    pub key: Option<(String, String, Option<String>)>,
}

impl std::fmt::Debug for S3Conf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Conf")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("anonymous", &self.anonymous)
            .field("allow_http", &self.allow_http)
            .field("force_path_style", &self.force_path_style)
            .field("key", &self.key.as_ref().map(|(id, _, _)| id))
            .finish()
    }
}

impl S3Conf {
    /// `o` with the environment's defaults, as arco-storage resolves them
    /// (`AWS_ENDPOINT_URL_S3`/`AWS_ENDPOINT_URL`, `AWS_REGION`/`AWS_DEFAULT_REGION`,
    /// `AWS_SKIP_SIGNATURE`/`AWS_NO_SIGN_REQUEST`; loopback http allowed).
    pub(crate) fn resolve(o: &arco_storage::S3Options) -> S3Conf {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let endpoint = o
            .endpoint
            .clone()
            .or_else(|| env("AWS_ENDPOINT_URL_S3"))
            .or_else(|| env("AWS_ENDPOINT_URL"));
        let region = o
            .region
            .clone()
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| "us-east-1".to_string());
        let truthy = |k: &str| env(k).is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let anonymous =
            o.anonymous || truthy("AWS_SKIP_SIGNATURE") || truthy("AWS_NO_SIGN_REQUEST");
        let loopback = endpoint
            .as_deref()
            .and_then(|e| url::Url::parse(e).ok())
            .filter(|u| u.scheme() == "http")
            .and_then(|u| u.host_str().map(str::to_string))
            .is_some_and(|h| matches!(h.as_str(), "127.0.0.1" | "localhost" | "[::1]" | "::1"));
        let key = match (&o.access_key_id, &o.secret_access_key) {
            (Some(id), Some(secret)) => Some((id.clone(), secret.clone(), o.session_token.clone())),
            _ => None,
        };
        S3Conf {
            force_path_style: o.virtual_hosted_style.map_or(endpoint.is_some(), |v| !v),
            endpoint,
            region,
            anonymous,
            allow_http: o.allow_http || loopback,
            key,
        }
    }

    /// Without credentials: what a virtual chunk container records.
    fn public(&self) -> S3Conf {
        S3Conf {
            key: None,
            ..self.clone()
        }
    }
}

/// Where a repository is.
#[derive(Debug, Clone)]
pub(crate) enum Place {
    /// A local directory.
    Local(PathBuf),
    /// A key prefix (no leading or trailing `/`; may be empty) in a bucket.
    S3 {
        bucket: String,
        prefix: String,
        conf: S3Conf,
    },
}

/// Which snapshot of a repository to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Version {
    /// The tip of a branch.
    Branch(String),
    /// A tag.
    Tag(String),
    /// A snapshot id (Crockford base32, as icechunk prints it).
    Snapshot(String),
}

impl Default for Version {
    fn default() -> Self {
        Version::Branch("main".to_string())
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Version::Branch(b) => write!(f, "branch {b}"),
            Version::Tag(t) => write!(f, "tag {t}"),
            Version::Snapshot(s) => write!(f, "snapshot {s}"),
        }
    }
}

/// A virtual chunk container: a URL prefix and its store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Container {
    pub url_prefix: String,
    pub store: ContainerStore,
}

/// One node as the repository holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredNode {
    /// Path without a leading `/` (empty for the root group).
    pub path: String,
    /// True for arrays, false for groups.
    pub is_array: bool,
    /// The node's `zarr.json`.
    pub zarr_json: Value,
}

/// One chunk as the repository holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredChunk {
    /// A byte range of a file or object.
    Virtual {
        /// The location URL (`file:///…`, `s3://…`, `https://…`).
        url: String,
        /// First byte.
        offset: u64,
        /// Number of bytes.
        length: u64,
    },
    /// Bytes held in the manifest.
    Inline(Vec<u8>),
    /// A chunk object of the repository.
    Native {
        /// Its length.
        length: u64,
    },
}

/// The tip of `main` of a repository, as [`read`] finds it.
#[derive(Debug, Clone, PartialEq)]
pub struct RepoContents {
    /// The repository's spec version.
    pub spec_version: SpecVersion,
    /// The message of the last commit on `main`.
    pub message: String,
    /// URL prefixes of the configured virtual chunk containers, sorted.
    pub containers: Vec<String>,
    /// Groups and arrays, sorted by path.
    pub nodes: Vec<StoredNode>,
    /// `(array path, chunk indices, chunk)`, sorted.
    pub chunks: Vec<(String, Vec<u32>, StoredChunk)>,
}

fn repo_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Repository {
        path: path.display().to_string(),
        message: adapter::tidy(message.into()),
    }
}

fn loc_error(location: &str, message: impl Into<String>) -> Error {
    Error::Repository {
        path: location.to_string(),
        message: adapter::tidy(message.into()),
    }
}

/// Where the repository at `location` (no `@version` suffix) is.
fn place(location: &str, options: &arco_storage::OpenOptions) -> Result<Place> {
    match arco_storage::Location::parse(location).map_err(|e| loc_error(location, e.to_string()))? {
        arco_storage::Location::Local(p) => Ok(Place::Local(p)),
        arco_storage::Location::S3 { bucket, key } => Ok(Place::S3 {
            bucket,
            prefix: key.trim_matches('/').to_string(),
            conf: S3Conf::resolve(&options.s3),
        }),
        _ => Err(loc_error(
            location,
            "Icechunk repositories can be local directories or s3:// prefixes (not http)",
        )),
    }
}

/// The container of a source URL and the URL virtual references hold; S3
/// containers record how `s3` reaches the bucket.
fn locate(url: &str, s3: Option<&S3Conf>) -> Result<(Container, String)> {
    let err = |message: String| Error::Source {
        url: url.to_string(),
        message,
    };
    if let Some((scheme, rest)) = url.split_once("://") {
        let store = match scheme {
            "s3" => ContainerStore::S3(s3.map(S3Conf::public)),
            "http" | "https" => ContainerStore::Http,
            "file" => ContainerStore::LocalFileSystem,
            other => {
                return Err(err(format!(
                    "Icechunk virtual chunk containers for {other}:// are not written by arco; \
                     use a local path, s3:// or http(s)://"
                )))
            }
        };
        if store == ContainerStore::LocalFileSystem {
            let path = url::Url::parse(url)
                .ok()
                .and_then(|u| u.to_file_path().ok())
                .ok_or_else(|| err("not a valid file:// URL".into()))?;
            return locate_file(&path).map_err(err);
        }
        let host = rest.split('/').next().unwrap_or_default();
        if host.is_empty() {
            return Err(err("the URL names no bucket or host".into()));
        }
        let container = Container {
            url_prefix: format!("{scheme}://{host}/"),
            store,
        };
        return Ok((container, url.to_string()));
    }
    locate_file(Path::new(url)).map_err(err)
}

/// A local file: its directory is the container.
fn locate_file(path: &Path) -> std::result::Result<(Container, String), String> {
    if !path.is_absolute() {
        return Err("a local source must be an absolute path".into());
    }
    let file = url::Url::from_file_path(path)
        .map_err(|()| "the path cannot be written as a file:// URL".to_string())?;
    let dir = path
        .parent()
        .ok_or_else(|| "the path has no parent directory".to_string())?;
    let prefix = url::Url::from_directory_path(dir)
        .map_err(|()| "the directory cannot be written as a file:// URL".to_string())?;
    Ok((
        Container {
            url_prefix: prefix.to_string(),
            store: ContainerStore::LocalFileSystem,
        },
        file.to_string(),
    ))
}

/// Seconds since the epoch of a local file's last modification.
fn last_modified(url: &str) -> Option<u32> {
    let path = url::Url::parse(url).ok()?.to_file_path().ok()?;
    let t = std::fs::metadata(path).ok()?.modified().ok()?;
    // Rounded up: readers refuse the chunk when the object is newer than this.
    let d = t.duration_since(std::time::UNIX_EPOCH).ok()?;
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    u32::try_from(secs).ok()
}

/// C-order indices of flat chunk number `flat` on `grid`.
fn indices(flat: u64, grid: &[u64]) -> Option<Vec<u32>> {
    let mut out = vec![0u32; grid.len()];
    let mut rest = flat;
    for d in (0..grid.len()).rev() {
        let n = grid[d].max(1);
        out[d] = u32::try_from(rest % n).ok()?;
        rest /= n;
    }
    // Past the end of the grid: keep the overflow in the first index so the
    // repository refuses it with the array's name.
    if let Some(first) = out.first_mut() {
        *first = u32::try_from(u64::from(*first) + rest * grid[0].max(1)).ok()?;
    }
    Some(out)
}

/// Nodes (`path → (group?, v2 document, .zattrs)`) of a reference set.
type V2Nodes = BTreeMap<String, (bool, Option<Value>, Option<Value>)>;

fn v2_nodes(refs: &References) -> (Vec<String>, V2Nodes) {
    let mut order = Vec::new();
    let mut nodes: V2Nodes = BTreeMap::new();
    for (key, doc) in &refs.metadata {
        let (dir, name) = match key.rsplit_once('/') {
            Some((d, n)) => (d.to_string(), n),
            None => (String::new(), key.as_str()),
        };
        let is_group = match name {
            ".zgroup" => Some(true),
            ".zarray" => Some(false),
            ".zattrs" => None,
            _ => continue,
        };
        let entry = nodes.entry(dir.clone()).or_insert_with(|| {
            order.push(dir.clone());
            (true, None, None)
        });
        match is_group {
            Some(g) => {
                entry.0 = g;
                entry.1 = Some(doc.clone());
            }
            None => entry.2 = Some(doc.clone()),
        }
    }
    (order, nodes)
}

/// Write `refs` as an Icechunk repository at `dest` (a directory).
///
/// The repository is built in a temporary sibling directory and renamed into
/// place at the end, so a failed write leaves nothing at `dest` (or the
/// previous repository, with [`IcechunkOptions::overwrite`]).
pub fn write(refs: &References, dest: &Path, options: &IcechunkOptions) -> Result<Summary> {
    write_at(refs, &Place::Local(dest.to_path_buf()), None, options)
}

/// Write `refs` as an Icechunk repository at `dest`: a local path (as
/// [`write`]) or `s3://bucket/prefix`, reached with `storage.s3` (endpoint,
/// region, credentials). S3 virtual chunk containers record the endpoint,
/// region and path style of `storage.s3` (never credentials).
///
/// On S3 nothing can be renamed into place: the repository is written at
/// the prefix itself and its commit on `main` is the last step. A prefix
/// that already holds a repository is refused unless
/// [`IcechunkOptions::overwrite`], which deletes every object under it
/// first; a failed write deletes what it wrote.
pub fn write_to(
    refs: &References,
    dest: &str,
    options: &IcechunkOptions,
    storage: &arco_storage::OpenOptions,
) -> Result<Summary> {
    let base = place(dest, storage)?;
    let conf = S3Conf::resolve(&storage.s3);
    write_at(refs, &base, Some(&conf), options)
}

fn write_at(
    refs: &References,
    dest: &Place,
    s3: Option<&S3Conf>,
    options: &IcechunkOptions,
) -> Result<Summary> {
    if let Place::Local(dest) = dest {
        if dest.exists() && !options.overwrite {
            return Err(repo_error(
                dest,
                "already exists; pass overwrite (--overwrite) to replace it",
            ));
        }
    }

    // Metadata, parents before children.
    let (order, v2) = v2_nodes(refs);
    let mut nodes = Vec::with_capacity(order.len() + 1);
    let (mut groups, mut arrays) = (0usize, 0usize);
    if !v2.contains_key("") {
        nodes.push((String::new(), meta::group_document(None)));
        groups += 1;
    }
    for path in &order {
        let Some((is_group, doc, zattrs)) = v2.get(path) else {
            continue;
        };
        let v3 = if *is_group || doc.is_none() {
            groups += 1;
            meta::group_document(zattrs.as_ref())
        } else {
            arrays += 1;
            let zarray = doc.as_ref().unwrap_or(&Value::Null);
            meta::array_document(zarray, zattrs.as_ref()).map_err(|message| Error::Metadata {
                path: path.clone(),
                message,
            })?
        };
        nodes.push((path.clone(), v3));
    }
    nodes.sort_by_key(|(p, _)| {
        if p.is_empty() {
            0
        } else {
            p.matches('/').count() + 1
        }
    });
    let nodes = nodes
        .into_iter()
        .map(|(p, v)| (p, v.to_string().into_bytes()))
        .collect();

    // Containers and source URLs.
    let mut containers: Vec<Container> = Vec::new();
    let mut urls = Vec::with_capacity(refs.sources.len());
    for s in &refs.sources {
        let (c, url) = locate(&s.url, s3)?;
        let modified = if c.store == ContainerStore::LocalFileSystem {
            last_modified(&url)
        } else {
            None
        };
        if !containers.contains(&c) {
            containers.push(c);
        }
        urls.push((url, modified));
    }
    containers.sort_by(|a, b| a.url_prefix.cmp(&b.url_prefix));

    // Chunks.
    let mut chunks = Vec::with_capacity(refs.reference_count() as usize);
    let (mut virtual_chunks, mut inline_chunks, mut inline_bytes) = (0u64, 0u64, 0u64);
    for a in &refs.arrays {
        for (flat, r) in &a.chunks {
            let index = indices(*flat, &a.grid).ok_or_else(|| Error::Metadata {
                path: a.path.clone(),
                message: format!("chunk {flat} has an index past 2^32, which Icechunk cannot hold"),
            })?;
            let chunk = match r {
                Reference::Range {
                    source,
                    offset,
                    length,
                } => {
                    let (url, modified) = urls.get(*source).ok_or_else(|| Error::Metadata {
                        path: a.path.clone(),
                        message: format!(
                            "chunk {flat} names source {source}, which the reference set lacks"
                        ),
                    })?;
                    virtual_chunks += 1;
                    adapter::Chunk::Virtual {
                        url: url.clone(),
                        offset: *offset,
                        length: *length,
                        last_modified: *modified,
                    }
                }
                Reference::Inline(b) => {
                    inline_chunks += 1;
                    inline_bytes += b.len() as u64;
                    adapter::Chunk::Inline(bytes::Bytes::copy_from_slice(b))
                }
            };
            chunks.push((a.path.clone(), index, chunk));
        }
    }

    let plan = adapter::Plan {
        nodes,
        chunks,
        containers: containers.clone(),
        spec_version: options.spec_version,
        message: options.message.clone(),
    };
    let snapshot_id = match dest {
        Place::Local(dest) => write_atomically(dest, options.overwrite, |tmp| {
            adapter::write(&Place::Local(tmp.to_path_buf()), plan)
        })?,
        Place::S3 { .. } => s3::write(dest, options.overwrite, plan)?,
    };
    Ok(Summary {
        spec_version: options.spec_version,
        snapshot_id,
        groups,
        arrays,
        virtual_chunks,
        inline_chunks,
        inline_bytes,
        containers: containers.into_iter().map(|c| c.url_prefix).collect(),
    })
}

/// A sibling of `dest` named `.NAME.TAG-PID`.
fn sibling(dest: &Path, tag: &str) -> Result<PathBuf> {
    let name = dest
        .file_name()
        .ok_or_else(|| repo_error(dest, "the destination has no file name"))?;
    let name = format!(".{}.{tag}-{}", name.to_string_lossy(), std::process::id());
    Ok(dest.with_file_name(name))
}

fn write_atomically<T>(
    dest: &Path,
    overwrite: bool,
    build: impl FnOnce(&Path) -> std::result::Result<T, String>,
) -> Result<T> {
    let tmp = sibling(dest, "arco-tmp")?;
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| {
            repo_error(
                &tmp,
                format!("cannot remove a stale temporary directory: {e}"),
            )
        })?;
    }
    if let Some(parent) = tmp.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| repo_error(parent, format!("cannot create the directory: {e}")))?;
    }
    let value = match build(&tmp) {
        Ok(v) => v,
        Err(message) => {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(repo_error(dest, message));
        }
    };
    let old = sibling(dest, "arco-old")?;
    let replaced = if dest.exists() {
        if !overwrite {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(repo_error(
                dest,
                "appeared while writing; pass overwrite to replace it",
            ));
        }
        if old.exists() {
            let _ = std::fs::remove_dir_all(&old);
        }
        std::fs::rename(dest, &old).map_err(|e| {
            let _ = std::fs::remove_dir_all(&tmp);
            repo_error(dest, format!("cannot move the old repository aside: {e}"))
        })?;
        true
    } else {
        false
    };
    if let Err(e) = std::fs::rename(&tmp, dest) {
        let _ = std::fs::remove_dir_all(&tmp);
        if replaced {
            let _ = std::fs::rename(&old, dest);
        }
        return Err(repo_error(
            dest,
            format!("cannot move the new repository into place: {e}"),
        ));
    }
    if replaced {
        std::fs::remove_dir_all(&old).map_err(|e| {
            repo_error(&old, format!("the new repository is in place but the old one could not be removed: {e}; delete it"))
        })?;
    }
    Ok(value)
}

/// Read the tip of `main` of the repository at `dir`: nodes and chunk
/// references.
pub fn read(dir: &Path) -> Result<RepoContents> {
    let conf = S3Conf::resolve(&arco_storage::S3Options::default());
    adapter::read(&Place::Local(dir.to_path_buf()), &conf).map_err(|m| repo_error(dir, m))
}

/// [`read`] for any location (a local path or `s3://bucket/prefix`).
pub fn read_location(location: &str, options: &arco_storage::OpenOptions) -> Result<RepoContents> {
    let (base, _) = split_version(location);
    let p = place(base, options)?;
    adapter::read(&p, &S3Conf::resolve(&options.s3)).map_err(|m| loc_error(location, m))
}

/// The stored bytes of chunk `index` of `array` (following a virtual
/// reference into its source, with every configured container authorized),
/// or `None` when the chunk is not stored.
pub fn read_chunk(dir: &Path, array: &str, index: &[u32]) -> Result<Option<Vec<u8>>> {
    let conf = S3Conf::resolve(&arco_storage::S3Options::default());
    adapter::read_chunk(&Place::Local(dir.to_path_buf()), &conf, array, index)
        .map_err(|m| repo_error(dir, m))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn flat_chunk_numbers_become_c_order_indices() {
        assert_eq!(indices(23, &[2, 3, 4]), Some(vec![1, 2, 3]));
        assert_eq!(indices(0, &[]), Some(vec![]));
        // Past the grid: the overflow lands in the first index.
        assert_eq!(indices(24, &[2, 3, 4]), Some(vec![2, 0, 0]));
    }

    #[test]
    fn sources_map_to_containers_by_directory_bucket_or_host() {
        let (c, url) = locate("/data/era5/t.nc", None).unwrap();
        assert_eq!(c.url_prefix, "file:///data/era5/");
        assert_eq!(c.store, ContainerStore::LocalFileSystem);
        assert_eq!(url, "file:///data/era5/t.nc");
        let (c, url) = locate("s3://bucket/a/b.nc", None).unwrap();
        assert_eq!(c.url_prefix, "s3://bucket/");
        assert_eq!(url, "s3://bucket/a/b.nc");
        let (c, _) = locate("https://example.org/x/y.nc", None).unwrap();
        assert_eq!(
            (c.url_prefix.as_str(), c.store),
            ("https://example.org/", ContainerStore::Http)
        );
        assert!(matches!(
            locate("gs://b/x.nc", None),
            Err(Error::Source { .. })
        ));
        assert!(matches!(
            locate("relative.nc", None),
            Err(Error::Source { .. })
        ));
    }
}
