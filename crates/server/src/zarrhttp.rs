//! Zarr v3 over HTTP: every served dataset as a read-only Zarr v3 hierarchy
//! under `/zarr/{id}/`, so that
//! `xarray.open_zarr("http://HOST/zarr/{id}")` (zarr-python 3 through
//! fsspec's HTTP filesystem), zarrita.js, zarrs or tensorstore read it with
//! nothing else installed.
//!
//! # Endpoints (GET and HEAD)
//!
//! - `/zarr/{id}/zarr.json`: the root group, with the **consolidated
//!   metadata** of the whole hierarchy inline, as zarr-python 3 writes it
//!   (`consolidated_metadata: {kind: "inline", must_understand: false,
//!   metadata: {path: document, ...}}`), so opening takes one request.
//! - `/zarr/{id}/{path}/zarr.json`: each group's and array's own document.
//! - `/zarr/{id}/{array path}/c/{i}/{j}/...`: the chunks (the `default`
//!   chunk key encoding with `/`; a scalar's only chunk is `.../c`).
//! - Anything else, a chunk index outside the array's chunk grid included,
//!   is a `404` with a JSON body (`{"code": "NotFound", ...}`): Zarr readers
//!   take a 404 for "missing". A chunk inside the grid is never a 404: it is
//!   made from the source whatever it holds. Keys with `..` or `.`
//!   segments, empty segments, a leading `/`, a backslash or a NUL (also
//!   percent-encoded, `%2e%2e`) are refused with a `400`.
//! - `Range: bytes=a-b`, `bytes=a-` and `bytes=-n` (one range) are answered
//!   `206 Partial Content` (zarr-python reads shard indexes and inner chunks
//!   of sharded stores that way); an unsatisfiable range is a `416`.
//!
//! Zarr v3 only: v2 keys (`.zgroup`, `.zarray`, `.zattrs`, `.zmetadata`) are
//! 404s, and zarr-python, asked for no particular format, moves on to v3.
//!
//! # What the hierarchy holds
//!
//! Exactly what `arco convert SOURCE out.zarr` would write to Zarr v3, less
//! the `arco:provenance` root attribute: one array per variable of every
//! group (coordinates, grid mappings and bounds included; a pyramid's or a
//! COG's level groups are groups like any other), with the **stored** values
//! (packed integers stay packed, times stay numbers), the stored dtype, the
//! CF attributes as xarray's `to_zarr` writes them (`scale_factor`,
//! `add_offset`, `_FillValue` in xarray's encoding, `units`, `calendar`,
//! `coordinates`, `grid_mapping`, ...) and `dimension_names`. The metadata
//! comes from the same functions `arco convert` uses
//! ([`arco_zarr::array_spec_for`], [`arco_zarr::array_metadata_v3`],
//! [`arco_zarr::attributes_json`]; `docs/design/zarr-encoding.md`), so
//! `xarray.open_zarr(url)` decodes what `xarray.open_dataset(source)` does.
//! Like `convert`: a compound variable is a group of one array per field,
//! variable-length strings are Zarr v3 `string` arrays with the `vlen-utf8`
//! codec, NC_CHAR and fixed strings are `null_terminated_bytes`; variables
//! of types Zarr has no representation for (vlen sequences of numbers,
//! opaque) are left out and named in the root attribute `arco:omitted`.
//!
//! Chunks: the source's own chunk shape when it has a regular one, grown by
//! doubling (innermost dimension first, so chunks stay unions of whole
//! source chunks) up to [`CHUNK_TARGET_BYTES`]; a source without chunks, or
//! with chunks over 32 MiB, gets the shape `arco convert --layout map`
//! would choose ([`arco_engine::chunking::choose`]). Codecs: `bytes`
//! (little endian) then `zstd` at level [`ZSTD_LEVEL`] (no checksum).
//! Measured (release build, 8 MiB chunks, busy 2-core machine): stored
//! values to little-endian bytes 0.15-0.17 ms/MiB; zstd-1 encodes ERA5
//! temperature (float64) at 5 ms/MiB (ratio 3.4) and a smooth float32 field
//! at 2.7 ms/MiB (ratio 1.3), and decodes at about 3 ms/MiB; loopback
//! moves 8 MB in 4-20 ms (0.5-2.5 ms/MiB). So on loopback no compression
//! would answer a first request 3-7 times sooner, but a remote client on a
//! 100 Mbit/s to 1 Gbit/s link waits 8-80 ms per MiB on the wire, which
//! zstd-1 cuts by its ratio, and the chunk cache holds 1.3-3.4 times more
//! chunks: zstd-1 it is. (`COMPRESSION` switches it off in one line.)
//! Each chunk is read from the source on demand ([`arco_formats::Reader::read`]
//! of the chunk's box: stored values, bit for bit, not the CF-decoded
//! cache of the map endpoints), padded with the fill value to the full chunk
//! shape at the array's edges, encoded, and kept in a memory-bounded LRU of
//! encoded chunks ([`DEFAULT_CHUNK_CACHE_BYTES`] over all datasets).
//!
//! # Zarr v3 stores on local disk
//!
//! A dataset that is a Zarr v3 store on this machine is served as it is:
//! its own `zarr.json` documents and chunk (or shard) files, bytes from
//! disk, nothing re-encoded. Only keys that exist in the store are served;
//! symbolic links, hidden entries (`.arco/`, `.stac/`) and anything that
//! resolves outside the store are 404s. A root `zarr.json` without
//! consolidated metadata gets it added (read from every `zarr.json` of the
//! store, once). Zarr v2 stores and remote stores are served like any
//! other source: re-encoded as Zarr v3.
//!
//! # Caching headers
//!
//! Every `200` and `206` carries a strong `ETag`: the xxh3-128 of the bytes
//! for made documents and chunks, a hash of (key, size, modification time)
//! for files of a local store. `Cache-Control` is left to the
//! [`crate::httpcache`] middleware (the `/zarr` routes are its `Data`
//! class), which knows `--cache-max-age` and turns `public` into `private`
//! for requests with credentials.

use crate::data::blocking;
use crate::error::ApiError;
use crate::AppState;
use arco_core::{DType, Dataset, DimSlice, Group, Selection, Values, Variable};
use arco_cube::Cube;
use arco_engine::chunking::{self, ChunkInput, ChunkOptions, Layout, VARLEN_ELEMENT_BYTES};
use arco_engine::plan::{output_variable, OutputArray};
use arco_zarr::Compression;
use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use parking_lot::Mutex;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path as FsPath, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};

/// Default bound of the cache of encoded chunks shared by every dataset: 64 MiB.
pub const DEFAULT_CHUNK_CACHE_BYTES: u64 = 64 << 20;

/// Target uncompressed size of a made chunk: 8 MiB, as `arco convert`'s default.
pub const CHUNK_TARGET_BYTES: u64 = chunking::DEFAULT_CHUNK_BYTES;

/// Source chunks larger than this are not kept as the served chunk shape.
const MAX_SOURCE_CHUNK_BYTES: u64 = 32 << 20;

/// The zstd level of made chunks.
pub const ZSTD_LEVEL: i32 = 1;

/// The compression of made chunks, as the metadata declares it.
const COMPRESSION: Compression = Compression::Zstd {
    level: ZSTD_LEVEL,
    shuffle: false,
};

/// The root attribute naming the variables left out.
pub const OMITTED_ATTRIBUTE: &str = "arco:omitted";

/// The Zarr routes (`/zarr/{id}/{*key}`), to merge into [`crate::router`].
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/zarr/{id}", get(bare))
        .route("/zarr/{id}/", get(bare))
        .route("/zarr/{id}/{*key}", get(key))
}

// ------------------------------------------------------------------ handlers

async fn bare(State(s): State<Arc<AppState>>, p: Result<Path<String>, PathRejection>) -> Response {
    let Ok(Path(id)) = p else {
        return bad_key("the path is not UTF-8").into_response();
    };
    if let Err(e) = s.data.get(&id) {
        return e.into_response();
    }
    ApiError::not_found(format!(
        "/zarr/{id} is a Zarr v3 hierarchy; read it with xarray.open_zarr(\"<server>/zarr/{id}\") \
         or start from its root metadata, /zarr/{id}/zarr.json"
    ))
    .into_response()
}

async fn key(
    State(s): State<Arc<AppState>>,
    method: Method,
    headers: HeaderMap,
    p: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    let Ok(Path((id, key))) = p else {
        return bad_key("the path is not UTF-8; percent-encode keys as UTF-8").into_response();
    };
    if let Err(why) = check_key(&key) {
        return bad_key(&format!("'{key}' is not a Zarr key: {why}")).into_response();
    }
    let cube = match s.data.get(&id) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let head = method == Method::HEAD;
    let range = headers.get(header::RANGE).cloned();
    let r = blocking(move || {
        let served = served(&cube)?;
        answer(&cube, &served, &key, head)
    })
    .await;
    match r {
        Ok(body) => respond(body, range.as_ref()),
        Err(e) => e.into_response(),
    }
}

fn bad_key(description: &str) -> ApiError {
    ApiError::bad_parameter(description.to_string())
}

/// Why `key` is not a key this server could hold: traversal and oddities.
fn check_key(key: &str) -> Result<(), &'static str> {
    if key.starts_with('/') {
        return Err("it starts with '/' (an absolute path)");
    }
    if key.contains('\\') {
        return Err("it holds a backslash");
    }
    if key.contains('\0') {
        return Err("it holds a NUL byte");
    }
    for seg in key.split('/') {
        match seg {
            "" => return Err("it has an empty segment ('//' or a trailing '/')"),
            "." | ".." => return Err("it has a '.' or '..' segment"),
            _ => {}
        }
    }
    Ok(())
}

/// What a key holds.
enum Found {
    /// Bytes made or read whole, with their ETag.
    Bytes {
        bytes: Bytes,
        etag: HeaderValue,
        media_type: &'static str,
    },
    /// A file of a local store, read when answered (ranges read only their bytes).
    File {
        path: PathBuf,
        len: u64,
        etag: HeaderValue,
        media_type: &'static str,
        /// A HEAD request: no bytes needed.
        head: bool,
    },
}

fn media_type(key: &str) -> &'static str {
    if key == "zarr.json" || key.ends_with("/zarr.json") {
        "application/json"
    } else {
        "application/octet-stream"
    }
}

fn answer(cube: &Cube, served: &Served, key: &str, head: bool) -> Result<Found, ApiError> {
    match &served.kind {
        Kind::Made(m) => answer_made(cube, served.uid, m, key),
        Kind::Store(st) => answer_store(cube, st, key, head),
    }
}

fn missing(cube: &Cube, key: &str, why: &str) -> ApiError {
    ApiError::not_found(format!(
        "{}: no key '{key}' in this Zarr hierarchy{why}; /zarr/{}/zarr.json lists every group and array",
        cube.id, cube.id
    ))
}

fn answer_made(cube: &Cube, uid: u64, m: &Made, key: &str) -> Result<Found, ApiError> {
    let doc = |d: &Doc| Found::Bytes {
        bytes: d.bytes.clone(),
        etag: d.etag.clone(),
        media_type: "application/json",
    };
    if key == "zarr.json" {
        return Ok(doc(&m.root));
    }
    if let Some(node) = key.strip_suffix("/zarr.json") {
        return m
            .docs
            .get(node)
            .map(doc)
            .ok_or_else(|| missing(cube, key, ""));
    }
    let segs: Vec<&str> = key.split('/').collect();
    for (i, seg) in segs.iter().enumerate() {
        if *seg != "c" {
            continue;
        }
        let prefix = segs[..i].join("/");
        let Some(array) = m.arrays.get(&prefix) else {
            continue;
        };
        let idx: Option<Vec<u64>> = segs[i + 1..]
            .iter()
            .map(|s| s.parse::<u64>().ok())
            .collect();
        let grid = array.grid();
        let Some(idx) = idx.filter(|idx| idx.len() == grid.len()) else {
            return Err(missing(
                cube,
                key,
                &format!(
                    ": a chunk key of array '{prefix}' is c/ followed by {} whole numbers",
                    grid.len()
                ),
            ));
        };
        if let Some(d) = (0..grid.len()).find(|&d| idx[d] >= grid[d]) {
            return Err(missing(
                cube,
                key,
                &format!(
                    ": chunk index {} along dimension {d} is outside the chunk grid {grid:?} of array '{prefix}'",
                    idx[d]
                ),
            ));
        }
        let (bytes, etag) = chunk_bytes(cube, uid, array, &idx)?;
        return Ok(Found::Bytes {
            bytes,
            etag,
            media_type: "application/octet-stream",
        });
    }
    Err(missing(cube, key, ""))
}

fn answer_store(cube: &Cube, st: &Store, key: &str, head: bool) -> Result<Found, ApiError> {
    if key == "zarr.json" {
        return Ok(Found::Bytes {
            bytes: st.root.bytes.clone(),
            etag: st.root.etag.clone(),
            media_type: "application/json",
        });
    }
    if key.split('/').any(|s| s.starts_with('.')) {
        return Err(missing(cube, key, " (hidden entries are not served)"));
    }
    let path = st.dir.join(key);
    let not_there = || missing(cube, key, "");
    let meta = std::fs::symlink_metadata(&path).map_err(|_| not_there())?;
    if !meta.is_file() {
        return Err(not_there());
    }
    // A symbolic link on the way must not lead out of the store.
    let real = std::fs::canonicalize(&path).map_err(|_| not_there())?;
    if !real.starts_with(&st.dir) {
        return Err(not_there());
    }
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos().to_string())
        .unwrap_or_default();
    let len = meta.len();
    Ok(Found::File {
        etag: crate::httpcache::version_etag(&[
            "zarr-store",
            &cube.location,
            key,
            &len.to_string(),
            &mtime,
        ]),
        path: real,
        len,
        media_type: media_type(key),
        head,
    })
}

/// One `bytes=` range, inclusive, or why there is none.
#[derive(Debug, PartialEq, Eq)]
enum RangeReq {
    Whole,
    Part(u64, u64),
    Unsatisfiable,
}

/// Parse a `Range` header for a representation of `len` bytes. Several
/// ranges, other units and malformed values are ignored (the whole answer),
/// as RFC 9110 allows.
fn parse_range(h: Option<&HeaderValue>, len: u64) -> RangeReq {
    let Some(spec) = h
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("bytes="))
    else {
        return RangeReq::Whole;
    };
    if spec.contains(',') {
        return RangeReq::Whole;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return RangeReq::Whole;
    };
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        let Ok(n) = b.parse::<u64>() else {
            return RangeReq::Whole;
        };
        if n == 0 || len == 0 {
            return RangeReq::Unsatisfiable;
        }
        return RangeReq::Part(len - n.min(len), len - 1);
    }
    let Ok(start) = a.parse::<u64>() else {
        return RangeReq::Whole;
    };
    let end = if b.is_empty() {
        u64::MAX
    } else {
        match b.parse::<u64>() {
            Ok(e) if e >= start => e,
            _ => return RangeReq::Whole,
        }
    };
    if start >= len {
        return RangeReq::Unsatisfiable;
    }
    RangeReq::Part(start, end.min(len - 1))
}

fn read_file_part(path: &FsPath, start: u64, n: u64) -> std::io::Result<Vec<u8>> {
    let mut f = std::fs::File::open(path)?;
    f.seek(SeekFrom::Start(start))?;
    let mut buf = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
    f.take(n).read_to_end(&mut buf)?;
    if (buf.len() as u64) < n {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!("{} bytes read of {n}", buf.len()),
        ));
    }
    Ok(buf)
}

fn respond(found: Found, range: Option<&HeaderValue>) -> Response {
    let (len, etag, media) = match &found {
        Found::Bytes {
            bytes,
            etag,
            media_type,
        } => (bytes.len() as u64, etag.clone(), *media_type),
        Found::File {
            len,
            etag,
            media_type,
            ..
        } => (*len, etag.clone(), *media_type),
    };
    let req = parse_range(range, len);
    if req == RangeReq::Unsatisfiable {
        let mut r = ApiError {
            status: 416,
            code: "RangeNotSatisfiable",
            description: format!(
                "the range {} lies outside the {len} bytes of this key",
                range.and_then(|v| v.to_str().ok()).unwrap_or("")
            ),
        }
        .into_response();
        if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
            r.headers_mut().insert(header::CONTENT_RANGE, v);
        }
        return r;
    }
    let (status, start, n) = match req {
        RangeReq::Part(a, b) => (StatusCode::PARTIAL_CONTENT, a, b - a + 1),
        _ => (StatusCode::OK, 0, len),
    };
    let body = match found {
        Found::Bytes { bytes, .. } => {
            let s = usize::try_from(start)
                .unwrap_or(usize::MAX)
                .min(bytes.len());
            let e = usize::try_from(start + n)
                .unwrap_or(usize::MAX)
                .min(bytes.len());
            Body::from(bytes.slice(s..e))
        }
        Found::File { head: true, .. } => Body::empty(),
        Found::File { path, .. } => match read_file_part(&path, start, n) {
            Ok(b) => Body::from(b),
            Err(e) => {
                return ApiError::internal(format!(
                    "cannot read {}: {e}; the store may be changing under the server",
                    path.display()
                ))
                .into_response()
            }
        },
    };
    let mut r = Response::new(body);
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(n));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::ETAG, etag);
    if status == StatusCode::PARTIAL_CONTENT {
        if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{len}", start + n - 1)) {
            h.insert(header::CONTENT_RANGE, v);
        }
    }
    r
}

// ------------------------------------------------------------ the hierarchy

/// A made metadata document.
#[derive(Debug, Clone)]
struct Doc {
    bytes: Bytes,
    etag: HeaderValue,
}

impl Doc {
    fn of(v: &Value) -> Doc {
        let bytes = Bytes::from(serde_json::to_vec(v).unwrap_or_else(|_| b"{}".to_vec()));
        Doc {
            etag: crate::httpcache::etag_of(&bytes),
            bytes,
        }
    }
}

/// One served array made from a source variable.
#[derive(Debug, Clone)]
struct MadeArray {
    /// Index among the dataset's arrays (part of the cache key).
    index: u32,
    /// Path of the source variable.
    source: String,
    /// The compound field it holds.
    field: Option<String>,
    /// Stored type.
    dtype: DType,
    shape: Vec<u64>,
    chunk: Vec<u64>,
}

impl MadeArray {
    /// Chunks along each dimension.
    fn grid(&self) -> Vec<u64> {
        self.shape
            .iter()
            .zip(&self.chunk)
            .map(|(&n, &c)| n.div_ceil(c.max(1)))
            .collect()
    }
}

/// A hierarchy made from any reader.
#[derive(Debug)]
struct Made {
    root: Doc,
    /// Node path (no leading `/`) → `zarr.json`.
    docs: HashMap<String, Doc>,
    arrays: HashMap<String, MadeArray>,
}

/// A Zarr v3 store on local disk, served as it is.
#[derive(Debug)]
struct Store {
    /// The store's folder, canonical.
    dir: PathBuf,
    /// The root `zarr.json` (with consolidated metadata).
    root: Doc,
}

#[derive(Debug)]
enum Kind {
    Made(Made),
    Store(Store),
}

/// What one dataset serves.
#[derive(Debug)]
struct Served {
    /// Unique per built hierarchy: the chunk cache's key.
    uid: u64,
    kind: Kind,
}

static NEXT_UID: AtomicU64 = AtomicU64::new(1);

type Views = Mutex<HashMap<usize, (Weak<Cube>, Arc<Served>)>>;

/// The hierarchies built so far, by the address of their cube. The `Weak`
/// keeps the address from being reused while the entry exists; entries of
/// dropped cubes are pruned.
fn views() -> &'static Views {
    static VIEWS: OnceLock<Views> = OnceLock::new();
    VIEWS.get_or_init(|| Mutex::new(HashMap::new()))
}

fn served(cube: &Arc<Cube>) -> Result<Arc<Served>, ApiError> {
    let addr = Arc::as_ptr(cube) as usize;
    if let Some((w, s)) = views().lock().get(&addr) {
        if w.upgrade().is_some_and(|c| Arc::ptr_eq(&c, cube)) {
            return Ok(s.clone());
        }
    }
    let kind = match local_v3_store(&cube.location) {
        Some(dir) => Kind::Store(store_view(cube, dir)?),
        None => Kind::Made(made_view(cube.id.as_str(), cube.dataset())?),
    };
    let s = Arc::new(Served {
        uid: NEXT_UID.fetch_add(1, Ordering::Relaxed),
        kind,
    });
    let mut v = views().lock();
    v.retain(|_, (w, _)| w.strong_count() > 0);
    let entry = v
        .entry(addr)
        .or_insert_with(|| (Arc::downgrade(cube), s.clone()));
    if !entry.0.upgrade().is_some_and(|c| Arc::ptr_eq(&c, cube)) {
        *entry = (Arc::downgrade(cube), s.clone());
    }
    Ok(entry.1.clone())
}

/// The folder of a Zarr v3 store on this machine (its root `zarr.json`
/// says `zarr_format: 3`), canonical.
fn local_v3_store(location: &str) -> Option<PathBuf> {
    let Ok(arco_storage::Location::Local(path)) = arco_storage::Location::parse(location) else {
        return None;
    };
    let text = std::fs::read(path.join("zarr.json")).ok()?;
    let doc: Value = serde_json::from_slice(&text).ok()?;
    if doc.get("zarr_format").and_then(Value::as_u64) != Some(3) {
        return None;
    }
    std::fs::canonicalize(&path).ok()
}

fn store_view(cube: &Cube, dir: PathBuf) -> Result<Store, ApiError> {
    let root_path = dir.join("zarr.json");
    let text = std::fs::read(&root_path).map_err(|e| {
        ApiError::internal(format!(
            "{}: cannot read {}: {e}",
            cube.id,
            root_path.display()
        ))
    })?;
    let mut root: Value = serde_json::from_slice(&text).map_err(|e| {
        ApiError::internal(format!(
            "{}: {} is not valid JSON: {e}",
            cube.id,
            root_path.display()
        ))
    })?;
    let consolidated = root
        .get("consolidated_metadata")
        .is_some_and(|c| !c.is_null());
    if consolidated {
        let bytes = Bytes::from(text);
        return Ok(Store {
            dir,
            root: Doc {
                etag: crate::httpcache::etag_of(&bytes),
                bytes,
            },
        });
    }
    // Consolidate what the store holds, as zarr-python would.
    let mut docs = BTreeMap::new();
    let complete = collect_store_docs(&dir, "", 0, &mut docs);
    if complete {
        if let Some(m) = root.as_object_mut() {
            m.insert("consolidated_metadata".into(), consolidated_block(docs));
        }
        return Ok(Store {
            dir,
            root: Doc::of(&root),
        });
    }
    let bytes = Bytes::from(text);
    Ok(Store {
        dir,
        root: Doc {
            etag: crate::httpcache::etag_of(&bytes),
            bytes,
        },
    })
}

/// Every `zarr.json` below `dir` (hidden entries and symbolic links
/// skipped), by node path; false when one cannot be read as JSON.
fn collect_store_docs(
    dir: &FsPath,
    prefix: &str,
    depth: usize,
    out: &mut BTreeMap<String, Value>,
) -> bool {
    if depth > 32 {
        return true;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return true;
    };
    let mut ok = true;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !e.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let path = e.path();
        let node = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        if let Ok(text) = std::fs::read(path.join("zarr.json")) {
            match serde_json::from_slice::<Value>(&text) {
                Ok(doc) => {
                    let is_group = doc.get("node_type").and_then(Value::as_str) == Some("group");
                    out.insert(node.clone(), doc);
                    if is_group {
                        ok &= collect_store_docs(&path, &node, depth + 1, out);
                    }
                }
                Err(_) => ok = false,
            }
        }
    }
    ok
}

/// The root's `consolidated_metadata` over `docs` (node path → document),
/// as zarr-python writes it: flat paths sorted so parents come first, and
/// an empty inline block in every group's entry.
fn consolidated_block(docs: BTreeMap<String, Value>) -> Value {
    let stub = json!({"kind": "inline", "must_understand": false, "metadata": {}});
    let mut nodes = Map::new();
    for (path, mut doc) in docs {
        if doc.get("node_type").and_then(Value::as_str) == Some("group") {
            if let Some(m) = doc.as_object_mut() {
                m.insert("consolidated_metadata".into(), stub.clone());
            }
        }
        nodes.insert(path, doc);
    }
    json!({"kind": "inline", "must_understand": false, "metadata": nodes})
}

/// Names of the time dimensions (as `arco convert` finds them): those of
/// 1-D coordinate variables whose CF axis is T, and any named `time`.
fn time_dims(ds: &Dataset) -> Vec<String> {
    let mut out: Vec<String> = ds
        .root
        .all_variables()
        .into_iter()
        .filter(|v| {
            v.is_coordinate() && arco_core::cf::axis_kind(v) == Some(arco_core::cf::Axis::T)
        })
        .map(|v| v.name.clone())
        .collect();
    out.push("time".into());
    out
}

/// The chunk shape served for `var`: the source's chunks grown by doubling
/// (innermost dimension first) up to [`CHUNK_TARGET_BYTES`], or, without
/// usable source chunks, what `arco convert --layout map` chooses.
pub fn served_chunk_shape(var: &Variable, time_dims: &[String]) -> Vec<u64> {
    let rank = var.shape.len();
    if rank == 0 {
        return Vec::new();
    }
    let elem = var.dtype.size().unwrap_or(VARLEN_ELEMENT_BYTES).max(1) as u64;
    let shape: Vec<u64> = var.shape.iter().map(|&n| n.max(1)).collect();
    let bytes = |c: &[u64]| c.iter().product::<u64>().saturating_mul(elem);
    if let Some(src) = var
        .chunk_shape
        .as_ref()
        .filter(|c| c.len() == rank && c.iter().all(|&n| n > 0))
    {
        let mut c: Vec<u64> = src.iter().zip(&shape).map(|(&c, &n)| c.min(n)).collect();
        if bytes(&c) <= MAX_SOURCE_CHUNK_BYTES {
            for d in (0..rank).rev() {
                while c[d] < shape[d] {
                    let before = c[d];
                    c[d] = (before * 2).min(shape[d]);
                    if bytes(&c) > CHUNK_TARGET_BYTES {
                        c[d] = before;
                        break;
                    }
                }
                if c[d] < shape[d] {
                    break;
                }
            }
            return c;
        }
    }
    let input = ChunkInput {
        dims: &var.dims,
        shape: &var.shape,
        element_bytes: elem as usize,
        time_dim: var.dims.iter().position(|d| time_dims.contains(d)),
        is_coordinate: var.is_coordinate(),
    };
    let options = ChunkOptions {
        layout: Layout::Map,
        target_bytes: CHUNK_TARGET_BYTES,
        ..ChunkOptions::default()
    };
    chunking::choose(&input, &options).chunk
}

/// Types `arco convert` refuses: no Zarr type that xarray or zarr-python reads.
fn unrepresentable(dtype: &DType) -> bool {
    matches!(
        dtype,
        DType::VarLen { .. } | DType::Opaque { .. } | DType::Compound { .. }
    )
}

struct Builder<'a> {
    id: &'a str,
    times: Vec<String>,
    nodes: BTreeMap<String, Value>,
    arrays: HashMap<String, MadeArray>,
    omitted: Vec<String>,
}

impl Builder<'_> {
    fn node(path: &str) -> String {
        path.trim_matches('/').to_string()
    }

    fn group(&mut self, g: &Group) {
        if g.path.trim_matches('/').is_empty() {
            // The root is written last, with the consolidated metadata.
        } else {
            let attrs = arco_zarr::attributes_json(&g.attributes);
            self.nodes
                .insert(Self::node(&g.path), arco_zarr::group_metadata_v3(&attrs));
        }
        for v in &g.variables {
            self.variable(v);
        }
        for c in &g.groups {
            self.group(c);
        }
    }

    fn variable(&mut self, var: &Variable) {
        match &var.dtype {
            DType::Compound { fields, .. } => {
                let attrs = arco_zarr::attributes_json(&var.attributes);
                self.nodes
                    .insert(Self::node(&var.path), arco_zarr::group_metadata_v3(&attrs));
                for f in fields {
                    let out = OutputArray {
                        path: format!("{}/{}", var.path.trim_end_matches('/'), f.name),
                        field: Some(f.name.clone()),
                        dtype: f.dtype.clone(),
                    };
                    if unrepresentable(&f.dtype) {
                        self.omitted.push(format!("{} ({})", out.path, f.dtype));
                        continue;
                    }
                    let ov = output_variable(var, &out);
                    self.array(&ov, var, Some(f.name.clone()));
                }
            }
            d if unrepresentable(d) => self.omitted.push(format!("{} ({d})", var.path)),
            _ => self.array(var, var, None),
        }
    }

    fn array(&mut self, out: &Variable, source: &Variable, field: Option<String>) {
        let chunk = served_chunk_shape(out, &self.times);
        let spec = arco_zarr::array_spec_for(out, chunk.clone(), None, COMPRESSION);
        match arco_zarr::array_metadata_v3(&spec) {
            Ok(doc) => {
                let path = Self::node(&out.path);
                self.nodes.insert(path.clone(), doc);
                let index = u32::try_from(self.arrays.len()).unwrap_or(u32::MAX);
                self.arrays.insert(
                    path,
                    MadeArray {
                        index,
                        source: source.path.clone(),
                        field,
                        dtype: out.dtype.clone(),
                        shape: out.shape.clone(),
                        chunk,
                    },
                );
            }
            Err(e) => self.omitted.push(format!("{} ({e})", out.path)),
        }
    }
}

fn made_view(id: &str, ds: &Dataset) -> Result<Made, ApiError> {
    let mut b = Builder {
        id,
        times: time_dims(ds),
        nodes: BTreeMap::new(),
        arrays: HashMap::new(),
        omitted: Vec::new(),
    };
    b.group(&ds.root);
    let mut root_attrs = arco_zarr::attributes_json(&ds.root.attributes);
    if !b.omitted.is_empty() {
        root_attrs.insert(
            OMITTED_ATTRIBUTE.into(),
            json!(format!(
                "{} served without these variables, whose types have no Zarr representation that xarray or zarr-python reads: {}",
                b.id,
                b.omitted.join(", ")
            )),
        );
    }
    let mut root = arco_zarr::group_metadata_v3(&root_attrs);
    let docs: HashMap<String, Doc> = b
        .nodes
        .iter()
        .map(|(k, v)| (k.clone(), Doc::of(v)))
        .collect();
    if let Some(m) = root.as_object_mut() {
        m.insert("consolidated_metadata".into(), consolidated_block(b.nodes));
    }
    Ok(Made {
        root: Doc::of(&root),
        docs,
        arrays: b.arrays,
    })
}

// ----------------------------------------------------------------- chunks

type ChunkKey = (u64, u32, Vec<u64>);

/// A memory-bounded LRU of encoded chunks.
struct EncodedCache {
    lru: lru::LruCache<ChunkKey, (Bytes, HeaderValue)>,
    bytes: u64,
    capacity: u64,
}

fn cache() -> &'static Mutex<EncodedCache> {
    static CACHE: OnceLock<Mutex<EncodedCache>> = OnceLock::new();
    CACHE.get_or_init(|| {
        Mutex::new(EncodedCache {
            lru: lru::LruCache::unbounded(),
            bytes: 0,
            capacity: DEFAULT_CHUNK_CACHE_BYTES,
        })
    })
}

fn chunk_bytes(
    cube: &Cube,
    uid: u64,
    a: &MadeArray,
    idx: &[u64],
) -> Result<(Bytes, HeaderValue), ApiError> {
    let key: ChunkKey = (uid, a.index, idx.to_vec());
    if let Some(hit) = cache().lock().lru.get(&key) {
        return Ok(hit.clone());
    }
    let raw = read_chunk(cube, a, idx)?;
    let encoded = compress(raw).map_err(|e| {
        ApiError::internal(format!(
            "{}: compressing chunk {idx:?} of {}: {e}",
            cube.id, a.source
        ))
    })?;
    let bytes = Bytes::from(encoded);
    let etag = crate::httpcache::etag_of(&bytes);
    let size = bytes.len() as u64;
    let mut c = cache().lock();
    if size <= c.capacity / 4 {
        if let Some(old) = c.lru.put(key, (bytes.clone(), etag.clone())) {
            c.bytes -= old.0.len() as u64;
        }
        c.bytes += size;
        while c.bytes > c.capacity {
            match c.lru.pop_lru() {
                Some((_, (b, _))) => c.bytes -= b.len() as u64,
                None => break,
            }
        }
    }
    Ok((bytes, etag))
}

/// The bytes-to-bytes codecs of `COMPRESSION`: zstd (the frame records
/// the content size), or none.
fn compress(raw: Vec<u8>) -> std::io::Result<Vec<u8>> {
    match COMPRESSION {
        Compression::Zstd { level, .. } => zstd::bulk::compress(&raw, level),
        _ => Ok(raw),
    }
}

/// The stored values of chunk `idx`, as the `bytes` (or `vlen-utf8`) codec
/// writes them, before compression.
fn read_chunk(cube: &Cube, a: &MadeArray, idx: &[u64]) -> Result<Vec<u8>, ApiError> {
    let start: Vec<u64> = idx.iter().zip(&a.chunk).map(|(i, c)| i * c).collect();
    let stop: Vec<u64> = start
        .iter()
        .zip(&a.chunk)
        .zip(&a.shape)
        .map(|((s, c), n)| (s + c).min(*n))
        .collect();
    let selection = Selection {
        dims: start
            .iter()
            .zip(&stop)
            .map(|(&start, &stop)| DimSlice {
                start,
                stop,
                step: 1,
            })
            .collect(),
    };
    let box_shape = selection.shape();
    let what = || {
        format!(
            "{}: chunk {idx:?} of {} (elements {})",
            cube.id,
            a.source,
            start
                .iter()
                .zip(&stop)
                .map(|(s, e)| format!("{s}:{e}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let data = cube
        .reader()
        .read(&a.source, &selection)
        .map_err(|e| ApiError::internal(format!("{}: {e}", what())))?;
    let values = match (&a.field, data.values) {
        (None, v) => v,
        (Some(f), Values::Compound(cols)) => cols
            .into_iter()
            .find(|(n, _)| n == f)
            .map(|(_, v)| v)
            .ok_or_else(|| {
                ApiError::internal(format!("{}: the source has no field '{f}'", what()))
            })?,
        (Some(f), _) => {
            return Err(ApiError::internal(format!(
                "{}: field '{f}' asked of values that are not compound",
                what()
            )))
        }
    };
    encode_chunk(&values, &a.dtype, &box_shape, &a.chunk)
        .map_err(|e| ApiError::internal(format!("{}: {e}", what())))
}

/// The element bytes of `values`, a box of `box_shape` of an array of
/// stored type `dtype`, as one whole chunk of `chunk_shape` (the box at its
/// origin, the rest filled with the Zarr `fill_value`: NaN for floats, zero
/// or empty otherwise): little-endian numbers (the `bytes` codec),
/// NUL-padded bytes for `null_terminated_bytes`, and numcodecs' `vlen-utf8`
/// layout for strings (a little-endian `u32` count, then a `u32` length and
/// the UTF-8 bytes of each item).
pub fn encode_chunk(
    values: &Values,
    dtype: &DType,
    box_shape: &[u64],
    chunk_shape: &[u64],
) -> Result<Vec<u8>, String> {
    let n_box: u64 = box_shape.iter().product();
    if values.len() as u64 != n_box {
        return Err(format!(
            "{} values for a box of shape {box_shape:?} ({n_box} elements)",
            values.len()
        ));
    }
    let d = match dtype {
        DType::Enum { base, .. } => base.as_ref(),
        other => other,
    };
    let n_chunk = usize::try_from(chunk_shape.iter().product::<u64>())
        .map_err(|_| format!("chunk shape {chunk_shape:?} is too large"))?;
    if let DType::String = d {
        let Values::Str(s) = values else {
            return Err(mismatch(values, dtype));
        };
        let mut items: Vec<&str> = vec![""; n_chunk];
        place(
            &mut items,
            &s.iter().map(String::as_str).collect::<Vec<_>>(),
            box_shape,
            chunk_shape,
            1,
        );
        let total: usize = items.iter().map(|s| s.len() + 4).sum();
        let mut out = Vec::with_capacity(4 + total);
        out.extend_from_slice(
            &u32::try_from(n_chunk)
                .map_err(|_| "too many strings".to_string())?
                .to_le_bytes(),
        );
        for s in items {
            let n = u32::try_from(s.len()).map_err(|_| "a string over 4 GiB".to_string())?;
            out.extend_from_slice(&n.to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        return Ok(out);
    }
    let (size, bytes) = fixed_bytes(values, d).ok_or_else(|| mismatch(values, dtype))?;
    if box_shape == chunk_shape {
        return Ok(bytes);
    }
    let fill: Vec<u8> = match d {
        DType::F32 => f32::NAN.to_le_bytes().to_vec(),
        DType::F64 => f64::NAN.to_le_bytes().to_vec(),
        _ => vec![0u8; size],
    };
    let mut out = fill.repeat(n_chunk);
    place(&mut out, &bytes, box_shape, chunk_shape, size);
    Ok(out)
}

fn mismatch(values: &Values, dtype: &DType) -> String {
    format!(
        "the source gave values of type {} for an array of type {dtype}",
        values.type_name()
    )
}

macro_rules! le {
    ($v:expr) => {
        $v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>()
    };
}

fn padded_strings(strings: &[String], size: usize) -> Option<Vec<u8>> {
    let mut out = vec![0u8; strings.len() * size];
    for (i, s) in strings.iter().enumerate() {
        let b = s.as_bytes();
        if b.len() > size {
            return None;
        }
        out[i * size..i * size + b.len()].copy_from_slice(b);
    }
    Some(out)
}

/// Element size and little-endian bytes of fixed-size values.
fn fixed_bytes(values: &Values, d: &DType) -> Option<(usize, Vec<u8>)> {
    Some(match (d, values) {
        (DType::Bool, Values::Bool(v)) => (1, v.iter().map(|b| u8::from(*b)).collect()),
        (DType::Bool, Values::U8(v)) => (1, v.iter().map(|b| u8::from(*b != 0)).collect()),
        (DType::I8, Values::I8(v)) => (1, le!(v)),
        (DType::U8, Values::U8(v)) => (1, v.clone()),
        (DType::I16, Values::I16(v)) => (2, le!(v)),
        (DType::U16, Values::U16(v)) => (2, le!(v)),
        (DType::I32, Values::I32(v)) => (4, le!(v)),
        (DType::U32, Values::U32(v)) => (4, le!(v)),
        (DType::I64, Values::I64(v)) => (8, le!(v)),
        (DType::U64, Values::U64(v)) => (8, le!(v)),
        (DType::F32, Values::F32(v)) => (4, le!(v)),
        (DType::F64, Values::F64(v)) => (8, le!(v)),
        (DType::Char, Values::U8(v)) => (1, v.clone()),
        (DType::Char, Values::I8(v)) => (1, le!(v)),
        (DType::Char, Values::Str(v)) => (1, padded_strings(v, 1)?),
        (DType::FixedString { size }, Values::Str(v)) => (*size, padded_strings(v, *size)?),
        (DType::FixedString { size }, Values::U8(v)) => (*size, v.clone()),
        (DType::FixedString { size: s }, Values::Opaque { size, bytes }) if s == size => {
            (*size, bytes.clone())
        }
        _ => return None,
    })
}

/// Copy `src` (a C-order box of `box_shape` elements, `unit` items each)
/// into `out` (a C-order chunk of `chunk_shape`), at the chunk's origin.
fn place<T: Clone>(out: &mut [T], src: &[T], box_shape: &[u64], chunk_shape: &[u64], unit: usize) {
    let rank = box_shape.len();
    if rank == 0 {
        let n = unit.min(src.len()).min(out.len());
        out[..n].clone_from_slice(&src[..n]);
        return;
    }
    if box_shape.contains(&0) {
        return;
    }
    let to_usize = |x: u64| usize::try_from(x).unwrap_or(usize::MAX);
    let row = to_usize(box_shape[rank - 1]) * unit;
    // Strides (in items) of the chunk.
    let mut strides = vec![unit; rank];
    for d in (0..rank - 1).rev() {
        strides[d] = strides[d + 1] * to_usize(chunk_shape[d + 1]);
    }
    let rows: u64 = box_shape[..rank - 1].iter().product();
    let mut pos = vec![0u64; rank.saturating_sub(1)];
    for r in 0..to_usize(rows) {
        let dst: usize = pos
            .iter()
            .zip(&strides)
            .map(|(&p, &s)| to_usize(p) * s)
            .sum();
        let from = r * row;
        out[dst..dst + row].clone_from_slice(&src[from..from + row]);
        // Next row (odometer over the leading dimensions).
        for d in (0..pos.len()).rev() {
            pos[d] += 1;
            if pos[d] < box_shape[d] {
                break;
            }
            pos[d] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn traversal_keys_are_refused() {
        for k in [
            "../x",
            "a/../b",
            "/etc/passwd",
            "a\\b",
            "a//b",
            "a/./b",
            "a/",
            "a\0b",
        ] {
            assert!(check_key(k).is_err(), "{k}");
        }
        for k in ["zarr.json", "t/c/0/1", "g/t/zarr.json", "a..b/c"] {
            assert!(check_key(k).is_ok(), "{k}");
        }
    }

    #[test]
    fn ranges_follow_rfc_9110() {
        let h = |s: &str| HeaderValue::from_str(s).unwrap();
        assert_eq!(parse_range(None, 10), RangeReq::Whole);
        assert_eq!(parse_range(Some(&h("bytes=2-4")), 10), RangeReq::Part(2, 4));
        assert_eq!(parse_range(Some(&h("bytes=2-")), 10), RangeReq::Part(2, 9));
        assert_eq!(
            parse_range(Some(&h("bytes=5-100")), 10),
            RangeReq::Part(5, 9)
        );
        assert_eq!(parse_range(Some(&h("bytes=-3")), 10), RangeReq::Part(7, 9));
        assert_eq!(parse_range(Some(&h("bytes=-30")), 10), RangeReq::Part(0, 9));
        assert_eq!(
            parse_range(Some(&h("bytes=10-")), 10),
            RangeReq::Unsatisfiable
        );
        assert_eq!(parse_range(Some(&h("bytes=0-1,3-4")), 10), RangeReq::Whole);
        assert_eq!(parse_range(Some(&h("bytes=4-2")), 10), RangeReq::Whole);
        assert_eq!(parse_range(Some(&h("items=1-2")), 10), RangeReq::Whole);
    }

    #[test]
    fn edge_chunks_are_padded_with_the_fill_value() {
        let v = Values::I16(vec![1, 2, 3, 4, 5, 6]);
        let raw = encode_chunk(&v, &DType::I16, &[2, 3], &[3, 4]).unwrap();
        let got: Vec<i16> = raw
            .chunks(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]))
            .collect();
        assert_eq!(got, vec![1, 2, 3, 0, 4, 5, 6, 0, 0, 0, 0, 0]);
        let f = Values::F32(vec![1.5]);
        let raw = encode_chunk(&f, &DType::F32, &[1], &[2]).unwrap();
        assert_eq!(f32::from_le_bytes(raw[..4].try_into().unwrap()), 1.5);
        assert!(f32::from_le_bytes(raw[4..].try_into().unwrap()).is_nan());
    }

    #[test]
    fn strings_use_the_vlen_utf8_layout() {
        let v = Values::Str(vec!["ab".into(), "é".into()]);
        let raw = encode_chunk(&v, &DType::String, &[2], &[3]).unwrap();
        let mut want = 3u32.to_le_bytes().to_vec();
        want.extend(2u32.to_le_bytes());
        want.extend(b"ab");
        want.extend(2u32.to_le_bytes());
        want.extend("é".as_bytes());
        want.extend(0u32.to_le_bytes());
        assert_eq!(raw, want);
    }

    #[test]
    fn source_chunks_grow_to_whole_maps_before_stacking_them() {
        let var = Variable {
            name: "t".into(),
            path: "/t".into(),
            dims: vec!["time".into(), "lat".into(), "lon".into()],
            shape: vec![1000, 721, 1440],
            dtype: DType::F32,
            endian: arco_core::Endian::Little,
            layout: arco_core::StorageLayout::Chunked,
            chunk_shape: Some(vec![1, 100, 100]),
            codecs: vec![],
            fill_value: None,
            attributes: vec![],
        };
        assert_eq!(
            served_chunk_shape(&var, &["time".into()]),
            vec![2, 721, 1440]
        );
        let mut contiguous = var.clone();
        contiguous.chunk_shape = None;
        assert_eq!(
            served_chunk_shape(&contiguous, &["time".into()]),
            vec![2, 721, 1440]
        );
        let mut small = var;
        small.shape = vec![3, 10, 10];
        assert_eq!(
            served_chunk_shape(&small, &["time".into()]),
            vec![3, 10, 10]
        );
    }
}
