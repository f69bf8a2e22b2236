//! kerchunk reference sets read back as datasets: JSON (version 1 with
//! templates, or the flat version 0) and the Parquet layout of fsspec's
//! `LazyReferenceMapper` (`.zmetadata` plus `path/refs.N.parq`).
//!
//! The dataset comes from the `.zgroup`/`.zattrs`/`.zarray` documents with
//! Zarr v2 semantics (`_ARRAY_DIMENSIONS`, `fill_value` as `_FillValue`,
//! the dtype's byte order), through [`arco_zarr::variable_from_v2`]. Each
//! array becomes a [`ChunkManifest`] whose codecs are the numcodecs chain
//! mapped back to [`CodecSpec`]s ([`codec_from_numcodecs`]), so values are
//! read by the shared engine ([`crate::read::read_selection_with`]) like any
//! file's: coalesced range reads, parallel decoding.
//!
//! Chunks live in many files. Every URL gets a window of one address space
//! ([`WINDOW_BITS`] bits each): chunk `offset`s are `window(source) +
//! offset`, and a [`MultiSource`] serves the engine's `read_ranges` by
//! splitting it per source — one coalesced `read_ranges` call per file,
//! each file opened on first use through [`arco_storage::open`] with the
//! caller's [`OpenOptions`]. Inline chunks (`base64:` or text) are
//! [`ChunkRef::inline`]. See `docs/design/virtual.md`.

mod parq;

use crate::{read, Error, Reader, Result};
use arco_core::{
    AttrValue, ChunkGrid, ChunkManifest, ChunkRef, CodecSpec, DType, Dataset, Dimension, Endian,
    Group, NdArray, Selection, Variable,
};
use arco_storage::{ByteSource, DynSource, OpenOptions};
use base64::prelude::{Engine, BASE64_STANDARD};
use bytes::Bytes;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::{Arc, Mutex};

/// Bits of the address space each source gets: offsets up to 16 TiB.
pub const WINDOW_BITS: u32 = 44;

/// Where one chunk's bytes are, as a reference set says.
#[derive(Debug, Clone, PartialEq)]
pub enum RawChunk {
    /// The (still encoded) bytes themselves.
    Inline(Vec<u8>),
    /// `length` bytes at `offset` of `url`; `None` length: the whole file.
    Range {
        /// The file, templates expanded.
        url: String,
        /// First byte.
        offset: u64,
        /// Number of bytes, or the whole file.
        length: Option<u64>,
    },
}

/// A reference set in memory, before it becomes a dataset: the metadata
/// documents by key and the chunk references by key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawRefs {
    /// `.zgroup`, `grp/.zattrs`, `grp/t/.zarray`, … as JSON.
    pub metadata: BTreeMap<String, Value>,
    /// Chunk key (`grp/t/0.1`) → reference.
    pub chunks: Vec<(String, RawChunk)>,
    /// Chunks already placed by position (Parquet): array path without a
    /// leading `/` → `(chunk index, reference)`.
    pub placed: Vec<(String, Vec<u64>, RawChunk)>,
}

fn bad(location: &str, message: impl Into<String>) -> Error {
    Error::Kerchunk {
        location: location.to_string(),
        message: message.into(),
    }
}

/// True when `location` is a kerchunk reference set: a local `.json` file
/// whose content is kerchunk references, a local folder holding a Parquet
/// reference set's `.zmetadata` (with `record_size`), or a URL ending in
/// `.json`, `.parq` or `.parquet`.
pub fn is_kerchunk_location(location: &str) -> bool {
    match arco_storage::Location::parse(location) {
        Ok(arco_storage::Location::Local(path)) => {
            if path.is_dir() {
                let meta = path.join(".zmetadata");
                return std::fs::read(meta)
                    .ok()
                    .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                    .is_some_and(|v| v.get("record_size").is_some());
            }
            if !path.is_file() {
                return false;
            }
            // Sniff the first bytes before reading the whole file: a data
            // file (NetCDF, GRIB, ...) must never be read whole to be told
            // apart from a JSON reference set.
            if !starts_like_json_object(&path) {
                return false;
            }
            let Ok(bytes) = std::fs::read(&path) else {
                return false;
            };
            looks_like_refs(&bytes)
        }
        Ok(_) => {
            let l = location.trim_end_matches('/');
            l.ends_with(".json") || l.ends_with(".parq") || l.ends_with(".parquet")
        }
        Err(_) => false,
    }
}

/// Whether the file's first non-blank byte (within its first KiB) is `{`.
fn starts_like_json_object(path: &std::path::Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 1024];
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let Ok(n) = file.read(&mut head) else {
        return false;
    };
    head[..n]
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{')
}

/// True when `bytes` is a JSON object of kerchunk references (version 1, or
/// a flat version 0 set with Zarr metadata keys).
fn looks_like_refs(bytes: &[u8]) -> bool {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace());
    if start.map(|i| bytes[i]) != Some(b'{') {
        return false;
    }
    let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(bytes) else {
        return false;
    };
    if m.get("refs").is_some_and(Value::is_object) {
        return true;
    }
    m.contains_key(".zgroup")
        || m.contains_key(".zattrs")
        || m.keys().any(|k| k.ends_with("/.zarray"))
}

/// Open the reference set at `location` as a [`Reader`].
pub fn open_kerchunk(location: &str, options: &OpenOptions) -> Result<Box<dyn Reader>> {
    Ok(Box::new(KerchunkReader::open(location, options)?))
}

/// A kerchunk reference set opened as a dataset.
#[derive(Debug)]
pub struct KerchunkReader {
    location: String,
    dataset: Dataset,
    manifests: HashMap<String, ChunkManifest>,
    /// Variable-length string arrays (numcodecs `vlen-utf8`), decoded whole.
    vlen: HashMap<String, ChunkManifest>,
    root_attributes: Map<String, Value>,
    sources: Arc<MultiSource>,
}

impl KerchunkReader {
    /// Open a kerchunk JSON file or Parquet folder (local or remote).
    pub fn open(location: &str, options: &OpenOptions) -> Result<Self> {
        let raw = load(location, options)?;
        Self::from_raw(location, raw, options)
    }

    /// A reader over references already parsed ([`parse_json`]).
    pub fn from_raw(location: &str, raw: RawRefs, options: &OpenOptions) -> Result<Self> {
        build(location, raw, options)
    }

    /// The root `.zattrs` document as JSON (where arco records
    /// `arco:sources` and `arco:provenance`).
    pub fn root_attributes(&self) -> &Map<String, Value> {
        &self.root_attributes
    }

    /// Every file the references point into, in first-use order.
    pub fn urls(&self) -> &[String] {
        &self.sources.urls
    }

    /// Check that every chunk of `variable` in `selection` that is a byte
    /// range lies inside its file (opening the files it needs).
    fn check_ranges(&self, m: &ChunkManifest, selection: &Selection) -> Result<()> {
        let wanted: std::collections::HashSet<Vec<u64>> =
            m.grid.chunks_for(selection).into_iter().collect();
        for c in &m.chunks {
            if c.inline.is_some() || !wanted.contains(&c.index) {
                continue;
            }
            let (k, offset) = split_address(c.offset);
            let src = self.sources.get(k)?;
            let end = offset.saturating_add(c.length);
            if end > src.len() {
                return Err(bad(
                    &self.location,
                    format!(
                        "reference {} points at bytes {offset}..{end} of {}, which is only {} bytes long (the file changed or was truncated since the references were made: make them again with arco virtualize)",
                        chunk_key(&m.variable, &c.index),
                        self.sources.urls.get(k).map_or("?", String::as_str),
                        src.len()
                    ),
                ));
            }
        }
        Ok(())
    }
}

impl KerchunkReader {
    /// A `vlen-utf8` array: every chunk it needs fetched and unpacked (u32
    /// count, then u32 length and UTF-8 bytes per element), missing chunks
    /// as empty strings.
    fn read_vlen(&self, m: &ChunkManifest, selection: &Selection) -> Result<NdArray> {
        let shape = &m.grid.array_shape;
        let total: u64 = shape.iter().product();
        let total = usize::try_from(total).map_err(|_| bad(&self.location, "array too large"))?;
        let mut all = vec![String::new(); total];
        let strides: Vec<u64> = (0..shape.len())
            .map(|d| shape[d + 1..].iter().product())
            .collect();
        for c in &m.chunks {
            let key = chunk_key(&m.variable, &c.index);
            let stored: Vec<u8> = match &c.inline {
                Some(b) => b.to_vec(),
                None => self
                    .sources
                    .read_range(c.offset..c.offset.saturating_add(c.length))?
                    .to_vec(),
            };
            let ctx = arco_codecs::ChunkContext {
                label: &key,
                dtype: &DType::U8,
                endian: Endian::Little,
                elements: 0,
            };
            let raw = if m.codecs.is_empty() {
                stored
            } else {
                arco_codecs::decode_chunk(&stored, &m.codecs, 0, &ctx)?
            };
            let strings = unpack_vlen(&raw).ok_or_else(|| {
                bad(
                    &self.location,
                    format!("{key}: not a numcodecs vlen-utf8 buffer"),
                )
            })?;
            let bounds = m.grid.chunk_bounds(&c.index);
            let full: Vec<Vec<u64>> = m
                .grid
                .chunk_shape
                .iter()
                .map(|&n| (0..n).collect())
                .collect();
            for (local, s) in arco_core::chunks::cartesian(&full).into_iter().zip(strings) {
                let mut at = 0u64;
                let mut inside = true;
                for (d, l) in local.iter().enumerate() {
                    let g = bounds[d].0 + l;
                    inside &= g < bounds[d].1;
                    at += g * strides[d];
                }
                if inside {
                    if let Some(slot) = all.get_mut(at as usize) {
                        *slot = s;
                    }
                }
            }
        }
        let lists: Vec<Vec<u64>> = selection
            .dims
            .iter()
            .map(|d| d.indices().collect())
            .collect();
        let values: Vec<String> = if lists.is_empty() {
            all.into_iter().take(1).collect()
        } else {
            arco_core::chunks::cartesian(&lists)
                .iter()
                .map(|g| {
                    let at: u64 = g.iter().zip(&strides).map(|(i, s)| i * s).sum();
                    all.get(at as usize).cloned().unwrap_or_default()
                })
                .collect()
        };
        Ok(NdArray {
            shape: selection.shape(),
            values: arco_core::Values::Str(values),
        })
    }
}

/// numcodecs `VLenUTF8`: u32 LE count, then per item u32 LE length + bytes.
fn unpack_vlen(b: &[u8]) -> Option<Vec<String>> {
    let u32_at = |at: usize| -> Option<usize> {
        let s = b.get(at..at + 4)?;
        Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
    };
    let n = u32_at(0)?;
    let mut at = 4;
    let mut out = Vec::with_capacity(n.min(1 << 20));
    for _ in 0..n {
        let len = u32_at(at)?;
        at += 4;
        let s = b.get(at..at.checked_add(len)?)?;
        out.push(String::from_utf8_lossy(s).into_owned());
        at += len;
    }
    Some(out)
}

impl Reader for KerchunkReader {
    fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    fn manifest(&self, variable: &str) -> Result<ChunkManifest> {
        let var = self.dataset.variable(variable)?;
        self.manifests.get(&var.path).cloned().ok_or_else(|| {
            bad(
                &self.location,
                format!(
                    "{} has variable-length elements: its chunks are not a byte-range manifest",
                    var.path
                ),
            )
        })
    }

    fn read(&self, variable: &str, selection: &Selection) -> Result<NdArray> {
        self.read_with(
            variable,
            selection,
            &read::ReadOptions {
                raw_piece_bytes: 0,
                ..read::ReadOptions::default()
            },
        )
    }

    fn read_with(
        &self,
        variable: &str,
        selection: &Selection,
        options: &read::ReadOptions,
    ) -> Result<NdArray> {
        let var = self.dataset.variable(variable)?;
        if let Some(m) = self.vlen.get(&var.path) {
            return self.read_vlen(m, selection);
        }
        let m = self.manifests.get(&var.path).ok_or_else(|| {
            bad(
                &self.location,
                format!(
                    "{}: arco reads no variable-length ({}) arrays from references yet",
                    var.path, var.dtype
                ),
            )
        })?;
        self.check_ranges(m, selection)?;
        read::read_selection_with(self.sources.as_ref(), m, selection, options)
    }
}

/// `grp/t/0.1` for variable `/grp/t` and index `[0, 1]`.
fn chunk_key(variable: &str, index: &[u64]) -> String {
    let id = if index.is_empty() {
        "0".to_string()
    } else {
        index
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(".")
    };
    format!("{}/{id}", variable.trim_start_matches('/'))
}

fn split_address(at: u64) -> (usize, u64) {
    (
        (at >> WINDOW_BITS) as usize,
        at & ((1u64 << WINDOW_BITS) - 1),
    )
}

/// Many files seen as one address space: source `k` holds addresses
/// `k << WINDOW_BITS ..`. Files are opened on first use.
#[derive(Debug)]
pub struct MultiSource {
    location: String,
    urls: Vec<String>,
    opened: Vec<Mutex<Option<DynSource>>>,
    options: OpenOptions,
}

impl MultiSource {
    fn new(location: &str, urls: Vec<String>, options: &OpenOptions) -> Self {
        MultiSource {
            location: location.to_string(),
            opened: urls.iter().map(|_| Mutex::new(None)).collect(),
            urls,
            options: options.clone(),
        }
    }

    /// Source `k`, opened now if it was not yet.
    fn get(&self, k: usize) -> arco_storage::Result<DynSource> {
        let (Some(slot), Some(url)) = (self.opened.get(k), self.urls.get(k)) else {
            return Err(arco_storage::Error::Io {
                location: self.location.clone(),
                message: format!("no source number {k} in these references"),
            });
        };
        let mut guard = slot.lock().map_err(|_| arco_storage::Error::Io {
            location: url.clone(),
            message: "a thread failed while opening this source".into(),
        })?;
        if let Some(s) = guard.as_ref() {
            return Ok(s.clone());
        }
        let s = arco_storage::open(url, &self.options)?;
        *guard = Some(s.clone());
        Ok(s)
    }
}

impl ByteSource for MultiSource {
    fn location(&self) -> &str {
        &self.location
    }

    fn len(&self) -> u64 {
        (self.urls.len() as u64) << WINDOW_BITS
    }

    fn read_range(&self, range: Range<u64>) -> arco_storage::Result<Bytes> {
        let mut v = self.read_ranges(std::slice::from_ref(&range))?;
        v.pop().ok_or_else(|| arco_storage::Error::Io {
            location: self.location.clone(),
            message: "no bytes returned".into(),
        })
    }

    fn read_ranges(&self, ranges: &[Range<u64>]) -> arco_storage::Result<Vec<Bytes>> {
        let mut per: BTreeMap<usize, Vec<(usize, Range<u64>)>> = BTreeMap::new();
        for (i, r) in ranges.iter().enumerate() {
            let (k, start) = split_address(r.start);
            let len = r.end.saturating_sub(r.start);
            per.entry(k).or_default().push((i, start..start + len));
        }
        let mut out: Vec<Bytes> = vec![Bytes::new(); ranges.len()];
        for (k, list) in per {
            let src = self.get(k)?;
            let rs: Vec<Range<u64>> = list.iter().map(|(_, r)| r.clone()).collect();
            let got = src.read_ranges(&rs)?;
            for ((i, _), b) in list.iter().zip(got) {
                out[*i] = b;
            }
        }
        Ok(out)
    }
}

/// Read the reference set at `location`: JSON, or a Parquet folder.
fn load(location: &str, options: &OpenOptions) -> Result<RawRefs> {
    let is_dir = matches!(
        arco_storage::Location::parse(location),
        Ok(arco_storage::Location::Local(ref p)) if p.is_dir()
    );
    if is_dir {
        return parq::load(location);
    }
    let l = location.trim_end_matches('/');
    if l.ends_with(".parq") || l.ends_with(".parquet") {
        return Err(bad(
            location,
            "Parquet reference sets are read from local folders only: copy the folder here first",
        ));
    }
    let src = arco_storage::open(location, options)?;
    let bytes = src.read_range(0..src.len())?;
    let doc: Value =
        serde_json::from_slice(&bytes).map_err(|e| bad(location, format!("not JSON: {e}")))?;
    parse_json(location, &doc)
}

/// Parse kerchunk JSON: `{"version": 1, "templates": {...}, "refs": {...}}`
/// or a flat version 0 object.
pub fn parse_json(location: &str, doc: &Value) -> Result<RawRefs> {
    let obj = doc
        .as_object()
        .ok_or_else(|| bad(location, "kerchunk references are a JSON object"))?;
    let (refs, templates) = match obj.get("refs") {
        Some(Value::Object(refs)) => {
            if let Some(v) = obj.get("version").and_then(Value::as_u64) {
                if v != 1 {
                    return Err(bad(
                        location,
                        format!("kerchunk reference version {v} is not supported (only 0 and 1)"),
                    ));
                }
            }
            if obj
                .get("gen")
                .and_then(Value::as_array)
                .is_some_and(|g| !g.is_empty())
            {
                return Err(bad(
                    location,
                    "kerchunk 'gen' (generated references) are not supported: expand them with kerchunk first",
                ));
            }
            let templates: Vec<(String, String)> = obj
                .get("templates")
                .and_then(Value::as_object)
                .map(|t| {
                    t.iter()
                        .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                        .collect()
                })
                .unwrap_or_default();
            (refs, templates)
        }
        _ => (obj, Vec::new()),
    };
    let mut out = RawRefs::default();
    for (key, value) in refs {
        let name = key.rsplit('/').next().unwrap_or(key);
        if matches!(name, ".zarray" | ".zattrs" | ".zgroup" | ".zmetadata") {
            if name == ".zmetadata" {
                continue;
            }
            let doc = match value {
                Value::String(s) => serde_json::from_str(&sanitize(s))
                    .map_err(|e| bad(location, format!("{key}: not JSON: {e}")))?,
                Value::Object(_) => value.clone(),
                other => {
                    return Err(bad(
                        location,
                        format!("{key}: metadata must be JSON text, not {other}"),
                    ))
                }
            };
            out.metadata.insert(key.clone(), doc);
            continue;
        }
        out.chunks
            .push((key.clone(), raw_chunk(location, key, value, &templates)?));
    }
    Ok(out)
}

/// NaN and Infinity as zarr-python writes them, made strict JSON.
fn sanitize(s: &str) -> String {
    if !(s.contains("NaN") || s.contains("Infinity")) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut in_str = false;
    let mut esc = false;
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if in_str {
            out.push(c);
            if esc {
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else if c == '"' {
                in_str = false;
            }
            rest = &rest[c.len_utf8()..];
            continue;
        }
        if c == '"' {
            in_str = true;
        }
        let mut matched = false;
        for tok in ["-Infinity", "Infinity", "NaN"] {
            if rest.starts_with(tok) {
                out.push('"');
                out.push_str(tok);
                out.push('"');
                rest = &rest[tok.len()..];
                matched = true;
                break;
            }
        }
        if !matched {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

fn expand_templates(url: &str, templates: &[(String, String)]) -> String {
    if !url.contains("{{") {
        return url.to_string();
    }
    let mut s = url.to_string();
    for (k, v) in templates {
        s = s.replace(&format!("{{{{{k}}}}}", k = k), v);
        s = s.replace(&format!("{{{{ {k} }}}}", k = k), v);
    }
    s
}

fn raw_chunk(
    location: &str,
    key: &str,
    value: &Value,
    templates: &[(String, String)],
) -> Result<RawChunk> {
    match value {
        Value::String(s) => Ok(RawChunk::Inline(decode_inline(location, key, s)?)),
        Value::Array(items) => {
            let url = items
                .first()
                .and_then(Value::as_str)
                .ok_or_else(|| bad(location, format!("{key}: a reference starts with its URL")))?;
            let url = expand_templates(url, templates);
            match items.len() {
                1 => Ok(RawChunk::Range {
                    url,
                    offset: 0,
                    length: None,
                }),
                3 => {
                    let num = |i: usize| {
                        items.get(i).and_then(Value::as_u64).ok_or_else(|| {
                            bad(
                                location,
                                format!("{key}: offset and length must be non-negative integers"),
                            )
                        })
                    };
                    Ok(RawChunk::Range {
                        url,
                        offset: num(1)?,
                        length: Some(num(2)?),
                    })
                }
                n => Err(bad(
                    location,
                    format!("{key}: a reference is [url] or [url, offset, length], not {n} items"),
                )),
            }
        }
        other => Err(bad(
            location,
            format!("{key}: a reference is text or [url, offset, length], not {other}"),
        )),
    }
}

/// `base64:…` decoded, other text as its UTF-8 bytes.
pub fn decode_inline(location: &str, key: &str, s: &str) -> Result<Vec<u8>> {
    match s.strip_prefix("base64:") {
        Some(b) => BASE64_STANDARD
            .decode(b.trim())
            .map_err(|e| bad(location, format!("{key}: bad base64 inline data: {e}"))),
        None => Ok(s.as_bytes().to_vec()),
    }
}

/// One numcodecs codec configuration (`{"id": "zlib", "level": 4}`) as the
/// [`CodecSpec`] arco decodes it with, for an array of `dtype` with chunks
/// of `chunk_shape`.
pub fn codec_from_numcodecs(
    codec: &Value,
    dtype: &DType,
    endian: Endian,
    chunk_shape: &[u64],
) -> std::result::Result<CodecSpec, String> {
    let id = codec
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("codec {codec} has no id"))?;
    let int = |k: &str| codec.get(k).and_then(Value::as_i64);
    let elem = dtype.size().unwrap_or(1);
    let row_pixels = chunk_shape.last().copied().unwrap_or(1);
    Ok(match id {
        "zlib" | "imagecodecs_zlib" | "imagecodecs_deflate" => CodecSpec::Deflate {
            level: int("level").and_then(|l| u32::try_from(l).ok()),
        },
        "shuffle" => CodecSpec::Shuffle {
            element_size: int("elementsize")
                .and_then(|e| usize::try_from(e).ok())
                .unwrap_or(elem),
        },
        "fletcher32" => CodecSpec::Fletcher32,
        "zstd" | "imagecodecs_zstd" => CodecSpec::Zstd {
            level: int("level").and_then(|l| i32::try_from(l).ok()),
        },
        "blosc" => CodecSpec::Blosc { params: Vec::new() },
        "bz2" => CodecSpec::Bzip2 {
            level: int("level").and_then(|l| u32::try_from(l).ok()),
        },
        "grib" | "arco_grib" => CodecSpec::Grib {
            edition: int("edition")
                .and_then(|e| u8::try_from(e).ok())
                .unwrap_or(2),
            packing: codec
                .get("packing")
                .and_then(Value::as_str)
                .unwrap_or("mixed")
                .to_string(),
        },
        "imagecodecs_lzw" => CodecSpec::Lzw,
        "imagecodecs_packbits" => CodecSpec::PackBits,
        "imagecodecs_jpeg" | "imagecodecs_jpeg8" => CodecSpec::Jpeg {
            tables: match codec.get("tables") {
                Some(Value::String(t)) => Some(
                    BASE64_STANDARD
                        .decode(t)
                        .map_err(|e| format!("imagecodecs_jpeg tables are not base64: {e}"))?,
                ),
                _ => None,
            },
            // tifffile writes `colorspace_jpeg` null and `colorspace_data`
            // RGB (2) for YCbCr tiles (libjpeg converts), both RGB for RGB.
            ycbcr_to_rgb: match codec.get("colorspace_jpeg") {
                None | Some(Value::Null) => codec
                    .get("colorspace_data")
                    .is_some_and(|c| c == 2 || c == "RGB" || c == "rgb"),
                Some(c) => c == 3 || c == "YCbCr" || c == "ycbcr",
            },
        },
        "imagecodecs_webp" => CodecSpec::Webp,
        "imagecodecs_lerc" => CodecSpec::Lerc,
        "imagecodecs_delta" | "arco_tiff_horizontal" => {
            let samples = samples_per_pixel(codec, chunk_shape);
            CodecSpec::HorizontalDifferencing {
                bits_per_sample: (elem * 8) as u32,
                samples_per_pixel: samples,
                row_pixels: row_pixels_of(codec, chunk_shape, samples),
                endian,
            }
        }
        "imagecodecs_floatpred" | "arco_tiff_floatpred" => {
            let samples = samples_per_pixel(codec, chunk_shape);
            CodecSpec::FloatingPointPredictor {
                bytes_per_sample: elem as u32,
                samples_per_pixel: samples,
                row_pixels: row_pixels_of(codec, chunk_shape, samples),
                endian,
            }
        }
        "arco_interleave" => CodecSpec::Interleave {
            samples: int("samples")
                .and_then(|s| u32::try_from(s).ok())
                .unwrap_or(1),
            element_size: elem,
        },
        other => {
            let _ = row_pixels;
            return Err(format!(
                "codec '{other}' is not one arco decodes (zlib, gzip-free numcodecs: shuffle, fletcher32, zstd, blosc, bz2; grib; imagecodecs lzw, packbits, jpeg, deflate, zstd, delta, floatpred, webp, lerc)"
            ));
        }
    })
}

/// The `shape` of an imagecodecs predictor and whether it runs along the
/// second-last axis (`axis` -2: pixel-interleaved `(y, x, samples)`, what
/// tifffile writes for several samples per pixel).
fn predictor_shape(codec: &Value) -> Option<(Vec<u64>, bool)> {
    let shape: Vec<u64> = codec
        .get("shape")?
        .as_array()?
        .iter()
        .map(Value::as_u64)
        .collect::<Option<_>>()?;
    let axis = codec.get("axis").and_then(Value::as_i64).unwrap_or(-1);
    let n = shape.len() as i64;
    let second_last = n >= 2 && (axis == -2 || axis == n - 2);
    Some((shape, second_last))
}

/// Samples per pixel of a predictor: `samples` when the codec says, the
/// last axis of its `shape` when it runs along the second-last, else 1.
fn samples_per_pixel(codec: &Value, _chunk_shape: &[u64]) -> u32 {
    if let Some(s) = codec.get("samples").and_then(Value::as_u64) {
        return u32::try_from(s).unwrap_or(1).max(1);
    }
    match predictor_shape(codec) {
        Some((shape, true)) => shape
            .last()
            .and_then(|s| u32::try_from(*s).ok())
            .unwrap_or(1)
            .max(1),
        _ => 1,
    }
}

fn row_pixels_of(codec: &Value, chunk_shape: &[u64], samples: u32) -> u64 {
    if let Some(r) = codec.get("row_pixels").and_then(Value::as_u64) {
        return r;
    }
    if let Some((shape, second_last)) = predictor_shape(codec) {
        let n = shape.len();
        let at = if second_last {
            n.saturating_sub(2)
        } else {
            n.saturating_sub(1)
        };
        if let Some(r) = shape.get(at) {
            return *r;
        }
    }
    // Pixel-interleaved chunks end with the samples axis.
    let n = chunk_shape.len();
    if samples > 1 && n >= 2 {
        chunk_shape[n - 2]
    } else {
        chunk_shape.last().copied().unwrap_or(1)
    }
}

/// Split a chunk key `grp/t/0.1` into its array (`grp/t`) and index.
fn split_key<'a>(
    key: &'a str,
    arrays: &HashMap<String, (usize, char)>,
) -> Option<(&'a str, Vec<u64>)> {
    let mut cut = key.len();
    while let Some(p) = key[..cut].rfind('/') {
        let array = &key[..p];
        if let Some(&(rank, sep)) = arrays.get(array) {
            let id = &key[p + 1..];
            if rank == 0 {
                return (id == "0").then(|| (array, Vec::new()));
            }
            let parts: Option<Vec<u64>> = id.split(sep).map(|x| x.parse().ok()).collect();
            return parts.filter(|v| v.len() == rank).map(|v| (array, v));
        }
        cut = p;
    }
    // An array at the root has no prefix: only chunk ids.
    None
}

fn build(location: &str, raw: RawRefs, options: &OpenOptions) -> Result<KerchunkReader> {
    let meta = &raw.metadata;
    let get = |k: String| meta.get(&k).cloned().unwrap_or(Value::Null);
    // Arrays and groups by path (no leading '/').
    let mut arrays: BTreeMap<String, Variable> = BTreeMap::new();
    let mut manifests: HashMap<String, ChunkManifest> = HashMap::new();
    let mut shape_info: HashMap<String, (usize, char)> = HashMap::new();
    let mut urls: Vec<String> = Vec::new();
    let mut url_index: HashMap<String, usize> = HashMap::new();
    let mut vlen_paths: Vec<String> = Vec::new();
    for (key, zarray) in meta {
        let Some(path) = key.strip_suffix(".zarray") else {
            continue;
        };
        let path = path.trim_end_matches('/').to_string();
        let zattrs = get(format!("{}.zattrs", key.trim_end_matches(".zarray")));
        let var_path = format!("/{path}");
        let mut var = arco_zarr::variable_from_v2(&var_path, zarray, &zattrs)
            .map_err(|e| bad(location, e.to_string()))?;
        let sep = zarray
            .get("dimension_separator")
            .and_then(Value::as_str)
            .and_then(|s| s.chars().next())
            .unwrap_or('.');
        shape_info.insert(path.clone(), (var.shape.len(), sep));
        let chunk_shape = var.chunk_shape.clone().unwrap_or_else(|| var.shape.clone());
        let mut codecs = Vec::new();
        let filters = zarray
            .get("filters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let vlen = filters.iter().any(|f| {
            f.get("id")
                .and_then(Value::as_str)
                .is_some_and(|i| i.starts_with("vlen"))
        });
        let compressor = zarray.get("compressor").filter(|c| !c.is_null()).cloned();
        for c in filters.iter().chain(compressor.iter()) {
            if c.get("id")
                .and_then(Value::as_str)
                .is_some_and(|i| i.starts_with("vlen"))
            {
                continue;
            }
            let spec = codec_from_numcodecs(c, &var.dtype, var.endian, &chunk_shape)
                .map_err(|m| bad(location, format!("{path}/.zarray: {m}")))?;
            codecs.push(spec);
        }
        var.codecs = codecs.clone();
        if vlen || var.dtype.size().is_none() {
            vlen_paths.push(var_path.clone());
        }
        {
            let fill_bytes = fill_bytes(&var);
            manifests.insert(
                var_path.clone(),
                ChunkManifest {
                    variable: var_path.clone(),
                    dtype: var.dtype.clone(),
                    endian: var.endian,
                    grid: ChunkGrid::new(var.shape.clone(), chunk_shape)?,
                    codecs,
                    chunks: Vec::new(),
                    fill_bytes,
                },
            );
        }
        arrays.insert(path, var);
    }
    let mut add = |array: &str, index: Vec<u64>, chunk: RawChunk| -> Result<()> {
        let Some(m) = manifests.get_mut(&format!("/{array}")) else {
            return Ok(());
        };
        let grid = m.grid.grid_shape();
        if index.len() != grid.len() || index.iter().zip(&grid).any(|(i, n)| i >= n) {
            return Err(bad(
                location,
                format!(
                    "{}: chunk index {index:?} is outside the chunk grid {grid:?}",
                    chunk_key(array, &index)
                ),
            ));
        }
        let r = match chunk {
            RawChunk::Inline(b) => ChunkRef {
                index,
                offset: 0,
                length: b.len() as u64,
                filter_mask: 0,
                inline: Some(Arc::from(b)),
            },
            RawChunk::Range {
                url,
                offset,
                length,
            } => {
                let k = match url_index.get(&url) {
                    Some(k) => *k,
                    None => {
                        urls.push(url.clone());
                        url_index.insert(url.clone(), urls.len() - 1);
                        urls.len() - 1
                    }
                };
                let length = match length {
                    Some(l) => l,
                    None => arco_storage::open(&url, options)?
                        .len()
                        .saturating_sub(offset),
                };
                if offset >= (1u64 << WINDOW_BITS) || length >= (1u64 << WINDOW_BITS) {
                    return Err(bad(
                        location,
                        format!(
                            "{}: range {offset}+{length} of {url} is past 16 TiB, which arco's reference reader does not address",
                            chunk_key(array, &index)
                        ),
                    ));
                }
                ChunkRef {
                    index,
                    offset: ((k as u64) << WINDOW_BITS) + offset,
                    length,
                    filter_mask: 0,
                    inline: None,
                }
            }
        };
        m.chunks.push(r);
        Ok(())
    };
    for (key, chunk) in raw.chunks {
        match split_key(&key, &shape_info) {
            Some((array, index)) => add(array, index, chunk)?,
            None => {
                // Unknown keys (other tools' extras) are ignored unless they
                // look like a chunk of a known array with a bad index.
                continue;
            }
        }
    }
    for (array, index, chunk) in raw.placed {
        add(&array, index, chunk)?;
    }
    for m in manifests.values_mut() {
        m.chunks.sort_by(|a, b| a.index.cmp(&b.index));
        m.chunks.dedup_by(|a, b| a.index == b.index);
    }
    let vlen: HashMap<String, ChunkManifest> = vlen_paths
        .iter()
        .filter_map(|p| manifests.remove_entry(p))
        .collect();

    // Groups: every path prefix of an array or a .zgroup key.
    let mut group_paths: Vec<String> = vec![String::new()];
    for key in meta.keys() {
        if let Some(p) = key.strip_suffix(".zgroup") {
            group_paths.push(p.trim_end_matches('/').to_string());
        }
    }
    for path in arrays.keys() {
        let mut p = path.as_str();
        while let Some(i) = p.rfind('/') {
            p = &p[..i];
            group_paths.push(p.to_string());
        }
    }
    group_paths.sort();
    group_paths.dedup();
    let root_attributes = get(".zattrs".to_string())
        .as_object()
        .cloned()
        .unwrap_or_default();
    let root = make_group("", &group_paths, &arrays, meta);
    let size = raw_size(location);
    let dataset = Dataset {
        source: location.to_string(),
        format: "kerchunk".into(),
        size,
        root,
    };
    Ok(KerchunkReader {
        location: location.to_string(),
        dataset,
        manifests,
        vlen,
        root_attributes,
        sources: Arc::new(MultiSource::new(location, urls, options)),
    })
}

fn raw_size(location: &str) -> u64 {
    match arco_storage::Location::parse(location) {
        Ok(arco_storage::Location::Local(p)) => {
            if p.is_dir() {
                std::fs::read_dir(&p)
                    .map(|d| {
                        d.filter_map(|e| e.ok())
                            .filter_map(|e| e.metadata().ok())
                            .map(|m| m.len())
                            .sum()
                    })
                    .unwrap_or(0)
            } else {
                std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
            }
        }
        _ => 0,
    }
}

fn make_group(
    path: &str,
    groups: &[String],
    arrays: &BTreeMap<String, Variable>,
    meta: &BTreeMap<String, Value>,
) -> Group {
    let name = path.rsplit('/').next().unwrap_or("");
    let mut g = Group::new(name, format!("/{path}"));
    let prefix = if path.is_empty() {
        String::new()
    } else {
        format!("{path}/")
    };
    if let Some(Value::Object(attrs)) = meta.get(&format!("{prefix}.zattrs")) {
        if !arrays.contains_key(path) {
            g.attributes = arco_zarr::attributes_from_json(attrs);
        }
    }
    let is_child = |p: &str| {
        p.strip_prefix(&prefix)
            .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
    };
    for (p, v) in arrays {
        if is_child(p) {
            g.variables.push(v.clone());
        }
    }
    for p in groups {
        if is_child(p) && !arrays.contains_key(p) {
            g.groups.push(make_group(p, groups, arrays, meta));
        }
    }
    for v in &g.variables {
        for (d, len) in v.dims.iter().zip(&v.shape) {
            if !g.dimensions.iter().any(|x| &x.name == d) {
                g.dimensions.push(Dimension {
                    name: d.clone(),
                    size: *len,
                    unlimited: false,
                });
            }
        }
    }
    g
}

/// The fill value of `var` as one element in its stored byte order.
fn fill_bytes(var: &Variable) -> Option<Vec<u8>> {
    let AttrValue::Array(values) = var.fill_value.as_ref()? else {
        return None;
    };
    let big = var.endian == Endian::Big;
    macro_rules! one {
        ($v:expr, $t:ty) => {{
            let x: $t = *$v.first()?;
            Some(if big {
                x.to_be_bytes().to_vec()
            } else {
                x.to_le_bytes().to_vec()
            })
        }};
    }
    use arco_core::Values;
    let bytes = match (&var.dtype, values) {
        (DType::F32, Values::F32(v)) => one!(v, f32),
        (DType::F32, Values::F64(v)) => {
            let x = *v.first()? as f32;
            Some(if big {
                x.to_be_bytes().to_vec()
            } else {
                x.to_le_bytes().to_vec()
            })
        }
        (DType::F64, Values::F64(v)) => one!(v, f64),
        (DType::I8, Values::I8(v)) => one!(v, i8),
        (DType::I16, Values::I16(v)) => one!(v, i16),
        (DType::I32, Values::I32(v)) => one!(v, i32),
        (DType::I64, Values::I64(v)) => one!(v, i64),
        (DType::U8, Values::U8(v)) => one!(v, u8),
        (DType::U16, Values::U16(v)) => one!(v, u16),
        (DType::U32, Values::U32(v)) => one!(v, u32),
        (DType::U64, Values::U64(v)) => one!(v, u64),
        _ => None,
    }?;
    (Some(bytes.len()) == var.dtype.size()).then_some(bytes)
}

#[cfg(test)]
mod tests;
