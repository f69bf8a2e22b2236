//! Every call into the `icechunk` crate (pinned to `=2.3.1`, whose API
//! changes between minor versions) lives here, behind plain types.

mod reader;

pub(crate) use reader::{open_reader, root_attributes};

use crate::{
    Container, ContainerStore, Place, RepoContents, S3Conf, SpecVersion, StoredChunk, StoredNode,
    Version,
};
use bytes::Bytes;
use futures::TryStreamExt;
use icechunk::config::{Credentials, S3Credentials, S3Options, S3StaticCredentials};
use icechunk::format::format_constants::SpecVersionBin;
use icechunk::format::manifest::{
    Checksum, ChunkPayload, SecondsSinceEpoch, VirtualChunkLocation, VirtualChunkRef,
};
use icechunk::format::snapshot::NodeData;
use icechunk::format::{ByteRange, ChunkIndices, Path as IcePath};
use icechunk::repository::VersionInfo;
use icechunk::session::Session;
use icechunk::virtual_chunks::VirtualChunkContainer;
use icechunk::{ObjectStoreConfig, Repository, RepositoryConfig, Storage, Store};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// One chunk to record.
pub(crate) enum Chunk {
    /// A byte range of a file or object.
    Virtual {
        url: String,
        offset: u64,
        length: u64,
        /// Seconds since the epoch: readers refuse the chunk if the object
        /// changed after this.
        last_modified: Option<u32>,
    },
    /// The bytes themselves.
    Inline(Bytes),
}

/// What to write, already converted to Zarr v3.
pub(crate) struct Plan {
    /// `(path without a leading '/', zarr.json)`, parents before children.
    pub nodes: Vec<(String, Vec<u8>)>,
    /// `(array path, chunk indices, chunk)`.
    pub chunks: Vec<(String, Vec<u32>, Chunk)>,
    pub containers: Vec<Container>,
    pub spec_version: SpecVersion,
    pub message: String,
}

/// An icechunk failure, as text (icechunk's error types stay in here).
pub(crate) type AdapterResult<T> = Result<T, String>;

/// An icechunk error message without the span trace its errors append
/// (`\n\ncontext:\n…`).
pub(crate) fn tidy(message: String) -> String {
    match message.find("\n\ncontext:") {
        Some(i) => message[..i].trim_end().to_string(),
        None => message,
    }
}

fn bin(v: SpecVersion) -> SpecVersionBin {
    match v {
        SpecVersion::V1 => SpecVersionBin::V1,
        SpecVersion::V2 => SpecVersionBin::V2,
    }
}

fn ice_path(path: &str) -> AdapterResult<IcePath> {
    let p = format!("/{path}");
    IcePath::try_from(p.as_str()).map_err(|e| format!("node path {p:?}: {e}"))
}

fn container(c: &Container) -> AdapterResult<(VirtualChunkContainer, Option<Credentials>)> {
    let (store, credentials) = match &c.store {
        ContainerStore::LocalFileSystem => (
            ObjectStoreConfig::LocalFileSystem(PathBuf::new()),
            Some(Credentials::LocalFileSystemAccess),
        ),
        ContainerStore::S3(conf) => (
            ObjectStoreConfig::S3(conf.as_ref().map(s3_options).unwrap_or_default()),
            None,
        ),
        ContainerStore::Http => (
            ObjectStoreConfig::Http(Default::default()),
            Some(Credentials::HttpAccess),
        ),
    };
    let vcc = VirtualChunkContainer::new(c.url_prefix.clone(), store)
        .map_err(|e| format!("virtual chunk container {}: {e}", c.url_prefix))?;
    Ok((vcc, credentials))
}

/// icechunk's S3 options (no credentials: those are given when reading).
fn s3_options(conf: &S3Conf) -> S3Options {
    let mut o = S3Options::default();
    o.region = Some(conf.region.clone());
    o.endpoint_url = conf.endpoint.clone();
    o.anonymous = conf.anonymous;
    o.allow_http = conf.allow_http;
    o.force_path_style = conf.force_path_style;
    o
}

fn s3_credentials(conf: &S3Conf) -> S3Credentials {
    match &conf.key {
        _ if conf.anonymous => S3Credentials::Anonymous,
        Some((id, secret, token)) => S3Credentials::Static(S3StaticCredentials {
            access_key_id: id.clone(),
            secret_access_key: secret.clone(),
            session_token: token.clone(),
            expires_after: None,
        }),
        None => S3Credentials::FromEnv,
    }
}

/// The storage of a repository.
async fn storage(place: &Place) -> AdapterResult<Arc<dyn Storage + Send + Sync>> {
    match place {
        Place::Local(dir) => icechunk::new_local_filesystem_storage(dir)
            .await
            .map_err(|e| format!("cannot open local storage: {e}")),
        Place::S3 {
            bucket,
            prefix,
            conf,
        } => icechunk::new_s3_object_store_storage(
            s3_options(conf),
            bucket.clone(),
            (!prefix.is_empty()).then(|| prefix.clone()),
            Some(s3_credentials(conf)),
            Vec::new(),
            Vec::new(),
        )
        .await
        .map_err(|e| format!("cannot open S3 storage: {e}")),
    }
}

/// True when a repository is at `place`.
pub(crate) fn exists(place: &Place) -> AdapterResult<bool> {
    block_on(async {
        let storage = storage(place).await?;
        Repository::exists(storage, None)
            .await
            .map_err(|e| format!("cannot tell whether a repository is there: {e}"))
    })
}

/// Run `f` on a current-thread runtime of its own thread, so the caller may
/// or may not be inside a runtime already.
pub(crate) fn block_on<T: Send>(
    f: impl std::future::Future<Output = AdapterResult<T>> + Send,
) -> AdapterResult<T> {
    std::thread::scope(|s| {
        s.spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start the async runtime: {e}"))?;
            rt.block_on(f)
        })
        .join()
        .map_err(|_| "the icechunk writer thread panicked".to_string())?
    })
}

/// Create a repository at `place` (an empty or absent directory, or an
/// empty S3 prefix) and commit `plan` on `main`; the snapshot id.
pub(crate) fn write(place: &Place, plan: Plan) -> AdapterResult<String> {
    block_on(write_async(place, plan))
}

async fn write_async(place: &Place, plan: Plan) -> AdapterResult<String> {
    let storage = storage(place).await?;
    let mut containers = HashMap::new();
    let mut credentials = HashMap::new();
    for c in &plan.containers {
        let (vcc, cred) = container(c)?;
        credentials.insert(c.url_prefix.clone(), cred);
        containers.insert(c.url_prefix.clone(), vcc);
    }
    let config = RepositoryConfig {
        virtual_chunk_containers: Some(containers),
        ..Default::default()
    };
    let repo = Repository::create(storage)
        .config(config)
        .authorize_virtual_chunk_access(credentials)
        .spec_version(bin(plan.spec_version))
        .execute()
        .await
        .map_err(|e| format!("cannot create the repository: {e}"))?;
    let session = repo
        .writable_session("main")
        .await
        .map_err(|e| format!("cannot open a writable session on main: {e}"))?;
    let store = Store::from_session(Arc::new(tokio::sync::RwLock::new(session))).await;
    for (path, doc) in plan.nodes {
        let key = if path.is_empty() {
            "zarr.json".to_string()
        } else {
            format!("{path}/zarr.json")
        };
        store
            .set(&key, Bytes::from(doc))
            .await
            .map_err(|e| format!("{key}: {e}"))?;
    }
    let session = store.session();
    let mut session = session.write().await;
    let mut current: Option<(String, IcePath)> = None;
    for (path, index, chunk) in plan.chunks {
        let ipath = match &current {
            Some((p, ip)) if *p == path => ip.clone(),
            _ => {
                let ip = ice_path(&path)?;
                current = Some((path.clone(), ip.clone()));
                ip
            }
        };
        let payload = match chunk {
            Chunk::Inline(b) => ChunkPayload::Inline(b),
            Chunk::Virtual {
                url,
                offset,
                length,
                last_modified,
            } => ChunkPayload::Virtual(VirtualChunkRef {
                location: VirtualChunkLocation::from_url(&url)
                    .map_err(|e| format!("{path}: chunk {index:?}: location {url}: {e}"))?,
                offset,
                length,
                checksum: last_modified.map(|t| Checksum::LastModified(SecondsSinceEpoch(t))),
            }),
        };
        session
            .set_chunk_ref(ipath, ChunkIndices(index.clone()), Some(payload))
            .await
            .map_err(|e| format!("{path}: chunk {index:?}: {e}"))?;
    }
    let id = commit(&mut session, &plan.message).await?;
    Ok(id)
}

async fn commit(session: &mut Session, message: &str) -> AdapterResult<String> {
    let id = session
        .commit(message)
        .execute()
        .await
        .map_err(|e| format!("cannot commit on main: {e}"))?;
    Ok(id.to_string())
}

/// Everything in the tip of `main` of the repository at `place`.
pub(crate) fn read(place: &Place, s3: &S3Conf) -> AdapterResult<RepoContents> {
    block_on(read_async(place, s3))
}

/// Open the repository at `place`, authorizing every configured virtual
/// chunk container (S3 ones with the credentials of `s3`).
async fn open(place: &Place, s3: &S3Conf) -> AdapterResult<Repository> {
    let storage = storage(place).await?;
    // Read the configured containers first, then reopen authorizing them all.
    let repo = Repository::open(Arc::clone(&storage))
        .execute()
        .await
        .map_err(|e| format!("cannot open the repository: {e}"))?;
    let mut credentials = HashMap::new();
    for vcc in repo.config().virtual_chunk_containers() {
        let prefix = vcc.url_prefix().to_string();
        let cred = match vcc.store {
            ObjectStoreConfig::LocalFileSystem(_) => Some(Credentials::LocalFileSystemAccess),
            ObjectStoreConfig::Http(_) => Some(Credentials::HttpAccess),
            ObjectStoreConfig::S3(_)
            | ObjectStoreConfig::S3Compatible(_)
            | ObjectStoreConfig::Tigris(_) => Some(Credentials::S3(s3_credentials(s3))),
            _ => None,
        };
        credentials.insert(prefix, cred);
    }
    Repository::open(storage)
        .authorize_virtual_chunk_access(credentials)
        .execute()
        .await
        .map_err(|e| format!("cannot open the repository: {e}"))
}

/// The snapshot `version` names.
fn version_info(version: &Version) -> AdapterResult<VersionInfo> {
    Ok(match version {
        Version::Branch(b) => VersionInfo::BranchTipRef(b.clone()),
        Version::Tag(t) => VersionInfo::TagRef(t.clone()),
        Version::Snapshot(id) => VersionInfo::SnapshotId(
            icechunk::format::SnapshotId::try_from(id.as_str())
                .map_err(|e| format!("snapshot id {id:?}: {e}"))?,
        ),
    })
}

async fn read_async(place: &Place, s3: &S3Conf) -> AdapterResult<RepoContents> {
    let repo = open(place, s3).await?;
    let spec_version = match repo.spec_version() {
        SpecVersionBin::V1 => SpecVersion::V1,
        _ => SpecVersion::V2,
    };
    let main = VersionInfo::BranchTipRef("main".to_string());
    let ancestry = repo
        .ancestry(&main)
        .await
        .map_err(|e| format!("cannot read the history of main: {e}"))?;
    let message = Box::pin(ancestry)
        .try_next()
        .await
        .map_err(|e| format!("cannot read the history of main: {e}"))?
        .map(|s| s.message)
        .unwrap_or_default();
    let mut containers: Vec<String> = repo
        .config()
        .virtual_chunk_containers()
        .map(|c| c.url_prefix().to_string())
        .collect();
    containers.sort();
    let session = repo
        .readonly_session(&main)
        .await
        .map_err(|e| format!("cannot open main: {e}"))?;
    let mut nodes = Vec::new();
    let mut ids = HashMap::new();
    for node in session
        .list_nodes(&IcePath::root())
        .await
        .map_err(|e| format!("cannot list nodes: {e}"))?
    {
        let node = node.map_err(|e| format!("cannot list nodes: {e}"))?;
        let path = node.path.to_string().trim_start_matches('/').to_string();
        let zarr_json = serde_json::from_slice(&node.user_data)
            .map_err(|e| format!("{path}: zarr.json is not JSON: {e}"))?;
        ids.insert(node.id.clone(), path.clone());
        nodes.push(StoredNode {
            is_array: matches!(node.node_data, NodeData::Array { .. }),
            path,
            zarr_json,
        });
    }
    nodes.sort_by(|a, b| a.path.cmp(&b.path));
    let mut chunks = Vec::new();
    let mut stream = Box::pin(
        session
            .all_chunks()
            .await
            .map_err(|e| format!("cannot list chunks: {e}"))?,
    );
    while let Some((path, info)) = stream
        .try_next()
        .await
        .map_err(|e| format!("cannot list chunks: {e}"))?
    {
        let path = path.to_string().trim_start_matches('/').to_string();
        let chunk = match info.payload {
            ChunkPayload::Inline(b) => StoredChunk::Inline(b.to_vec()),
            ChunkPayload::Virtual(v) => StoredChunk::Virtual {
                url: v.location.url().to_string(),
                offset: v.offset,
                length: v.length,
            },
            ChunkPayload::Ref(r) => StoredChunk::Native { length: r.length },
            other => StoredChunk::Native {
                length: other.length(),
            },
        };
        chunks.push((path, info.coord.0, chunk));
    }
    chunks.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    Ok(RepoContents {
        spec_version,
        message,
        containers,
        nodes,
        chunks,
    })
}

/// The stored bytes of one chunk (following a virtual reference into its
/// source), or `None` when the chunk is not stored.
pub(crate) fn read_chunk(
    place: &Place,
    s3: &S3Conf,
    array: &str,
    index: &[u32],
) -> AdapterResult<Option<Vec<u8>>> {
    block_on(async {
        let repo = open(place, s3).await?;
        let session = repo
            .readonly_session(&VersionInfo::BranchTipRef("main".to_string()))
            .await
            .map_err(|e| format!("cannot open main: {e}"))?;
        let path = ice_path(array)?;
        let what = || format!("{array}: chunk {index:?}");
        let reader = session
            .get_chunk_reader(&path, &ChunkIndices(index.to_vec()), &ByteRange::From(0))
            .await
            .map_err(|e| format!("{}: {e}", what()))?;
        match reader {
            None => Ok(None),
            Some(fut) => {
                let bytes = fut.await.map_err(|e| format!("{}: {e}", what()))?;
                Ok(Some(bytes.to_vec()))
            }
        }
    })
}

/// Every file a virtual reference of `version` points into, with the
/// modification time the repository recorded for it (the earliest, when its
/// references disagree), if any.
pub(crate) fn virtual_sources(
    place: &Place,
    s3: &S3Conf,
    version: &Version,
) -> AdapterResult<Vec<(String, Option<u32>)>> {
    block_on(async {
        let repo = open(place, s3).await?;
        let info = version_info(version)?;
        let session = repo
            .readonly_session(&info)
            .await
            .map_err(|e| format!("cannot open {version}: {e}"))?;
        let mut found: std::collections::BTreeMap<String, Option<u32>> = Default::default();
        let mut stream = Box::pin(
            session
                .all_chunks()
                .await
                .map_err(|e| format!("cannot list chunks: {e}"))?,
        );
        while let Some((_, info)) = stream
            .try_next()
            .await
            .map_err(|e| format!("cannot list chunks: {e}"))?
        {
            if let ChunkPayload::Virtual(v) = info.payload {
                let t = match v.checksum {
                    Some(Checksum::LastModified(SecondsSinceEpoch(t))) => Some(t),
                    _ => None,
                };
                let slot = found.entry(v.location.url().to_string()).or_insert(t);
                *slot = match (*slot, t) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
        }
        Ok(found.into_iter().collect())
    })
}
