//! Repositories as inputs: detection, a zarrs store of one snapshot (so
//! arco's Zarr read path reads them), and freshness of the virtual sources.

use crate::{adapter, loc_error, place, Result, S3Conf, Version};
use arco_core::{Dataset, NdArray, Selection};
use arco_formats::Reader;
use arco_storage::{Location, OpenOptions};
use serde_json::{Map, Value};
use std::path::Path;
use std::sync::Arc;

/// `location` without its optional `@version` suffix, and the version:
/// `repo.icechunk@NAME` or `@branch:NAME` is a branch tip, `@tag:NAME` a
/// tag, `@snapshot:ID` a snapshot; no suffix is the tip of `main`. A suffix
/// holding `/` is part of the path, not a version.
pub fn split_version(location: &str) -> (&str, Version) {
    let Some((base, v)) = location.rsplit_once('@') else {
        return (location, Version::default());
    };
    if base.is_empty() || v.is_empty() || v.contains('/') {
        return (location, Version::default());
    }
    let version = if let Some(t) = v.strip_prefix("tag:") {
        Version::Tag(t.to_string())
    } else if let Some(s) = v.strip_prefix("snapshot:") {
        Version::Snapshot(s.to_string())
    } else {
        Version::Branch(v.strip_prefix("branch:").unwrap_or(v).to_string())
    };
    (base, version)
}

/// True when `dir` holds an Icechunk repository: a `repo` object (spec
/// version 2), or `snapshots/` beside `refs/` or `config.yaml` (version 1).
fn has_repo_layout(dir: &Path) -> bool {
    dir.join("repo").is_file()
        || (dir.join("snapshots").is_dir()
            && (dir.join("refs").is_dir() || dir.join("config.yaml").is_file()))
}

/// True when `location` (with an optional `@version` suffix) names an
/// Icechunk repository: a local directory with a repository's layout, a
/// local path ending in `.icechunk`, or an `s3://` prefix ending in
/// `.icechunk`.
pub fn is_icechunk_location(location: &str) -> bool {
    let (base, _) = split_version(location);
    let named = base.trim_end_matches('/').ends_with(".icechunk");
    match Location::parse(base) {
        Ok(Location::Local(p)) => (p.is_dir() && has_repo_layout(&p)) || named,
        Ok(Location::S3 { .. }) => named,
        _ => false,
    }
}

/// A snapshot of the repository at `location` (a local path or
/// `s3://bucket/prefix`, with an optional `@version` suffix, see
/// [`split_version`]) as a read-only [`arco_zarr::ZarrStore`]: arco's whole
/// Zarr read path (CF decoding, selections, groups) reads it. Virtual
/// references are followed with every configured container authorized (S3
/// ones with `options.s3`'s credentials); inline and native chunks are read
/// from the repository.
///
/// The store runs icechunk's I/O on a small runtime of its own; it may be
/// used from any thread, inside a runtime or not.
pub fn open_zarr(location: &str, options: &OpenOptions) -> Result<arco_zarr::ZarrStore> {
    open_store(location, options).map(|(store, _, _)| store)
}

/// [`open_zarr`], the id of the snapshot it reads and the root group's
/// attributes as stored.
fn open_store(
    location: &str,
    options: &OpenOptions,
) -> Result<(arco_zarr::ZarrStore, String, Map<String, Value>)> {
    let (base, version) = split_version(location);
    let p = place(base, options)?;
    if let crate::Place::Local(dir) = &p {
        if !dir.is_dir() {
            return Err(loc_error(
                location,
                "no Icechunk repository here: it is not a directory",
            ));
        }
    }
    let conf = S3Conf::resolve(&options.s3);
    let store =
        adapter::open_reader(&p, &conf, &version, location).map_err(|m| loc_error(location, m))?;
    let snapshot = store.snapshot.clone();
    let root = adapter::root_attributes(&store).map_err(|m| loc_error(location, m))?;
    let store = arco_zarr::ZarrStore::from_storage(location, Arc::new(store))
        .map_err(|e| loc_error(location, e.to_string()))?;
    Ok((store, snapshot, root))
}

/// A repository snapshot read as a dataset.
struct IcechunkReader {
    store: arco_zarr::ZarrStore,
    dataset: Dataset,
}

impl Reader for IcechunkReader {
    fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    fn manifest(&self, variable: &str) -> arco_formats::Result<arco_core::ChunkManifest> {
        let var = self.dataset.variable(variable)?;
        Err(arco_core::Error::Other(format!(
            "{}: {} is an array of an Icechunk repository; its chunks are read through the repository, not as byte ranges of one file",
            self.dataset.source, var.path
        ))
        .into())
    }

    fn read(&self, variable: &str, selection: &Selection) -> arco_formats::Result<NdArray> {
        let var = self.dataset.variable(variable)?;
        Ok(self.store.read(&var.path, selection)?)
    }
}

/// [`open_zarr`] as an `arco-formats` [`Reader`] (what `arco inspect`,
/// `dump`, `convert` and `verify` take).
pub fn open_reader(location: &str, options: &OpenOptions) -> Result<Box<dyn Reader>> {
    open_snapshot(location, options).map(|s| s.reader)
}

/// A repository snapshot opened as an input.
pub struct Snapshot {
    /// Its dataset, read through the repository.
    pub reader: Box<dyn Reader>,
    /// The snapshot id (Crockford base32, as icechunk prints it): what
    /// provenance records of a repository used as a source, since a new
    /// commit changes the values.
    pub snapshot_id: String,
    /// The root group's attributes as stored (`arco:sources`, when arco
    /// wrote the repository).
    pub root_attributes: Map<String, Value>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("source", &self.reader.dataset().source)
            .field("snapshot_id", &self.snapshot_id)
            .finish_non_exhaustive()
    }
}

/// [`open_reader`] with the snapshot id and the root attributes.
pub fn open_snapshot(location: &str, options: &OpenOptions) -> Result<Snapshot> {
    let (store, snapshot_id, root_attributes) = open_store(location, options)?;
    let dataset = store
        .dataset()
        .map_err(|e| loc_error(location, e.to_string()))?;
    Ok(Snapshot {
        reader: Box::new(IcechunkReader { store, dataset }),
        snapshot_id,
        root_attributes,
    })
}

/// A file that virtual references point into and that changed after the
/// repository recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedSource {
    /// The location URL the references hold (`file:///…`).
    pub url: String,
    /// What changed, in words.
    pub message: String,
}

/// Freshness from the repository itself: every local file (`file://`) its
/// virtual references point into whose modification time is later than the
/// one the references record (icechunk's `LastModified` checksum, which
/// makes icechunk refuse those chunks), or that is gone. References without
/// a recorded time, and remote ones, are not checked here.
pub fn changed_sources(location: &str, options: &OpenOptions) -> Result<Vec<ChangedSource>> {
    let (base, version) = split_version(location);
    let p = place(base, options)?;
    let conf = S3Conf::resolve(&options.s3);
    let sources =
        adapter::virtual_sources(&p, &conf, &version).map_err(|m| loc_error(location, m))?;
    let mut changed = Vec::new();
    for (url, recorded) in sources {
        let Some(recorded) = recorded else { continue };
        let Some(path) = url::Url::parse(&url)
            .ok()
            .filter(|u| u.scheme() == "file")
            .and_then(|u| u.to_file_path().ok())
        else {
            continue;
        };
        let now = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .map(|t| {
                t.duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs())
            });
        let message = match now {
            Err(e) => format!("cannot be read now ({e}); the repository's references into it cannot be followed"),
            Ok(now) if now > u64::from(recorded) => format!(
                "modified at {now} (seconds since 1970), after the repository recorded it at {recorded}: icechunk refuses its chunks; virtualize it again"
            ),
            Ok(_) => continue,
        };
        changed.push(ChangedSource { url, message });
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_suffix_names_a_branch_tag_or_snapshot() {
        assert_eq!(
            split_version("a.icechunk"),
            ("a.icechunk", Version::default())
        );
        assert_eq!(
            split_version("a.icechunk@dev"),
            ("a.icechunk", Version::Branch("dev".into()))
        );
        assert_eq!(
            split_version("s3://b/a.icechunk@tag:v1"),
            ("s3://b/a.icechunk", Version::Tag("v1".into()))
        );
        assert_eq!(
            split_version("a.icechunk@snapshot:ABC"),
            ("a.icechunk", Version::Snapshot("ABC".into()))
        );
        // An '@' inside the path is not a version.
        assert_eq!(
            split_version("/home/u@x/a.icechunk"),
            ("/home/u@x/a.icechunk", Version::default())
        );
    }

    #[test]
    fn icechunk_locations_are_named_or_laid_out_as_repositories() {
        assert!(is_icechunk_location("s3://bucket/x.icechunk"));
        assert!(is_icechunk_location("s3://bucket/x.icechunk@tag:v1"));
        assert!(!is_icechunk_location("s3://bucket/x.zarr"));
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        assert!(!is_icechunk_location(&dir.path().to_string_lossy()));
        std::fs::write(dir.path().join("repo"), b"x").unwrap_or_else(|e| panic!("{e}"));
        assert!(is_icechunk_location(&dir.path().to_string_lossy()));
    }
}
