//! Chunk manifests: for every stored chunk of a dataset, its absolute byte
//! range in the file and its filter mask, read from the chunk index alone
//! (no chunk is fetched or decoded).
//!
//! Every HDF5 chunk index is covered: version-1 B-tree (layout messages 1–3),
//! and for layout message 4 single chunk, implicit, fixed array, extensible
//! array and version-2 B-tree. Contiguous data is one chunk; compact data is
//! one chunk whose bytes are carried inline.

use crate::netcdf::VarStore;
use crate::tree::{Ctx, RawDataset};
use arco_core::{ChunkGrid, ChunkManifest, ChunkRef, CodecSpec, StorageLayout};
use hdf5_reader::btree_v1::{self, BTreeV1Key};
use hdf5_reader::chunk_index::{self, ChunkEntry};
use hdf5_reader::error::{Error as H5Error, Result as H5Result};
use hdf5_reader::messages::filter_pipeline::FilterDescription;
use hdf5_reader::messages::layout::{ChunkIndexing, DataLayout};
use hdf5_reader::{extensible_array, fixed_array};
use std::sync::Arc;

/// The codec chain of an HDF5 filter pipeline, in encode order.
pub(crate) fn codecs(filters: &[FilterDescription], elem_size: usize) -> Vec<CodecSpec> {
    filters
        .iter()
        .map(|f| {
            let p = &f.client_data;
            match f.id {
                1 => CodecSpec::Deflate {
                    level: p.first().copied(),
                },
                2 => CodecSpec::Shuffle {
                    element_size: p.first().map_or(elem_size, |&s| s as usize),
                },
                3 => CodecSpec::Fletcher32,
                4 => CodecSpec::Szip { params: p.clone() },
                5 => CodecSpec::Nbit { params: p.clone() },
                6 => CodecSpec::ScaleOffset { params: p.clone() },
                32001 => CodecSpec::Blosc { params: p.clone() },
                32004 => CodecSpec::Lz4 { params: p.clone() },
                307 => CodecSpec::Bzip2 {
                    level: p.first().copied(),
                },
                32015 => CodecSpec::Zstd {
                    level: p.first().map(|&l| l as i32),
                },
                id => CodecSpec::Unknown {
                    id: u32::from(id),
                    filter_name: f.name.clone(),
                    params: p.clone(),
                },
            }
        })
        .collect()
}

/// The arco layout and chunk shape of a dataset.
pub(crate) fn layout_of(ctx: &Ctx, d: &RawDataset) -> (StorageLayout, Option<Vec<u64>>) {
    let empty = d.null || d.shape.contains(&0);
    match &d.layout {
        DataLayout::Compact { .. } => (StorageLayout::Compact, None),
        DataLayout::Contiguous { address, .. } => {
            if empty || ctx.undefined(*address) {
                (StorageLayout::Empty, None)
            } else {
                (StorageLayout::Contiguous, None)
            }
        }
        DataLayout::Chunked { dims, .. } => (
            StorageLayout::Chunked,
            Some(dims.iter().map(|&c| u64::from(c)).collect()),
        ),
    }
}

fn fmt_err(msg: String) -> H5Error {
    H5Error::InvalidData(msg)
}

/// The manifest of the fixed-size variable `path`.
pub(crate) fn manifest(ctx: &Ctx, path: &str, v: &VarStore) -> H5Result<ChunkManifest> {
    let d = &v.raw;
    let elem = v.dtype.size().ok_or_else(|| {
        H5Error::UnsupportedEncoding(format!(
            "'{path}' has variable-length elements ({}); its values are read with read_varlen, \
             not through chunk byte ranges",
            v.dtype
        ))
    })?;
    if d.external {
        return Err(H5Error::UnsupportedEncoding(format!(
            "'{path}' keeps its data in external files, which arco does not read"
        )));
    }
    let shape = if d.null { vec![0] } else { d.shape.clone() };
    let fill_bytes = Some(fill_bytes(d, elem));
    let base = ctx.base;
    let mut out = ChunkManifest {
        variable: path.to_string(),
        dtype: v.dtype.clone(),
        endian: v.endian,
        grid: ChunkGrid::new(shape.clone(), shape.clone()).map_err(|e| fmt_err(e.to_string()))?,
        codecs: codecs(&d.filters, elem),
        chunks: Vec::new(),
        fill_bytes,
    };
    let count: u64 = shape.iter().product();
    let nbytes = count
        .checked_mul(elem as u64)
        .ok_or_else(|| fmt_err(format!("'{path}' is too large")))?;
    match &d.layout {
        DataLayout::Compact { data } => {
            if count > 0 {
                let bytes = data.get(..nbytes as usize).ok_or_else(|| {
                    fmt_err(format!(
                        "compact data of '{path}' holds {} bytes, {nbytes} expected",
                        data.len()
                    ))
                })?;
                out.chunks.push(ChunkRef {
                    index: vec![0; shape.len()],
                    offset: 0,
                    length: nbytes,
                    filter_mask: 0,
                    inline: Some(Arc::from(bytes)),
                });
            }
        }
        DataLayout::Contiguous { address, .. } => {
            if count > 0 && !ctx.undefined(*address) {
                let end = address.saturating_add(nbytes);
                if end > ctx.storage().len() {
                    return Err(H5Error::UnexpectedEof {
                        offset: base + address,
                        needed: nbytes,
                        available: ctx.storage().len().saturating_sub(*address),
                    });
                }
                out.chunks.push(ChunkRef {
                    index: vec![0; shape.len()],
                    offset: base + address,
                    length: nbytes,
                    filter_mask: 0,
                    inline: None,
                });
            }
        }
        DataLayout::Chunked {
            address,
            dims,
            chunk_indexing,
            ..
        } => {
            if dims.len() != shape.len() || dims.contains(&0) {
                return Err(fmt_err(format!(
                    "'{path}' has chunk shape {dims:?} for array shape {shape:?}"
                )));
            }
            let chunk: Vec<u64> = dims.iter().map(|&c| u64::from(c)).collect();
            out.grid =
                ChunkGrid::new(shape.clone(), chunk.clone()).map_err(|e| fmt_err(e.to_string()))?;
            if count == 0 || ctx.undefined(*address) {
                return Ok(out);
            }
            let chunk_bytes = chunk
                .iter()
                .product::<u64>()
                .checked_mul(elem as u64)
                .ok_or_else(|| fmt_err(format!("chunks of '{path}' are too large")))?;
            let entries = entries(ctx, d, *address, dims, chunk_indexing.as_ref(), elem)?;
            let mut chunks = Vec::with_capacity(entries.len());
            for e in entries {
                if e.offsets.len() != shape.len() {
                    return Err(fmt_err(format!(
                        "chunk index of '{path}' has a {}-dimensional entry",
                        e.offsets.len()
                    )));
                }
                // Chunks wholly outside the current extent are stale (the dataset shrank).
                if e.offsets.iter().zip(&shape).any(|(o, s)| o >= s) {
                    continue;
                }
                if e.offsets.iter().zip(&chunk).any(|(o, c)| o % c != 0) {
                    return Err(fmt_err(format!(
                        "chunk of '{path}' at element offsets {:?} is not on the chunk grid {chunk:?}",
                        e.offsets
                    )));
                }
                let length = if e.size == 0 { chunk_bytes } else { e.size };
                if ctx.undefined(e.address) {
                    continue;
                }
                chunks.push(ChunkRef {
                    index: e.offsets.iter().zip(&chunk).map(|(o, c)| o / c).collect(),
                    offset: base + e.address,
                    length,
                    filter_mask: e.filter_mask,
                    inline: None,
                });
            }
            chunks.sort_by(|a, b| a.index.cmp(&b.index));
            chunks.dedup_by(|a, b| a.index == b.index);
            out.chunks = chunks;
        }
    }
    Ok(out)
}

/// One element of the fill value in stored byte order: the fill value
/// message's when defined, else zeros (what libhdf5 returns for unwritten data).
fn fill_bytes(d: &RawDataset, elem: usize) -> Vec<u8> {
    d.fill
        .as_ref()
        .filter(|f| f.defined)
        .and_then(|f| f.value.as_ref())
        .filter(|v| v.len() == elem)
        .cloned()
        .unwrap_or_else(|| vec![0; elem])
}

/// Every entry of a chunk index, with element offsets.
fn entries(
    ctx: &Ctx,
    d: &RawDataset,
    address: u64,
    dims: &[u32],
    indexing: Option<&ChunkIndexing>,
    elem: usize,
) -> H5Result<Vec<ChunkEntry>> {
    let storage = ctx.storage();
    let (os, ls) = (ctx.os, ctx.ls);
    let rank = d.shape.len();
    match indexing {
        None => {
            let leaves = btree_v1::collect_btree_v1_leaves_storage(
                storage,
                address,
                os,
                ls,
                Some(rank as u32),
                dims,
                None,
            )?;
            leaves
                .into_iter()
                .map(|(key, addr)| match key {
                    BTreeV1Key::RawData {
                        chunk_size,
                        filter_mask,
                        offsets,
                    } if offsets.len() > rank => Ok(ChunkEntry {
                        address: addr,
                        size: u64::from(chunk_size),
                        filter_mask,
                        offsets: offsets[..rank].to_vec(),
                    }),
                    _ => Err(fmt_err("chunk B-tree holds a non-chunk key".into())),
                })
                .collect()
        }
        Some(ChunkIndexing::SingleChunk {
            filtered_size,
            filters,
        }) => Ok(vec![chunk_index::single_chunk_entry(
            address,
            if d.filters.is_empty() {
                0
            } else {
                *filtered_size
            },
            *filters,
            rank,
        )]),
        Some(ChunkIndexing::Implicit) => chunk_index::collect_implicit_chunk_entries(
            address,
            &d.shape,
            dims,
            elem,
            None,
            storage.len(),
        ),
        Some(ChunkIndexing::FixedArray { .. }) => {
            // libhdf5 numbers fixed-array chunks over the maximum extent
            // (`max_down_chunks`), not the current one.
            let max = d
                .max_dims
                .as_ref()
                .filter(|m| m.len() == rank && m.iter().all(|&x| x != u64::MAX))
                .unwrap_or(&d.shape);
            fixed_array::collect_fixed_array_chunk_entries_storage(
                storage, address, os, ls, max, dims, None,
            )
        }
        Some(ChunkIndexing::ExtensibleArray { .. }) => {
            extensible_array::collect_extensible_array_chunk_entries_storage(
                storage,
                address,
                os,
                ls,
                &d.shape,
                d.max_dims.as_deref(),
                dims,
                None,
            )
        }
        Some(ChunkIndexing::BTreeV2) => chunk_index::collect_v2_chunk_entries_storage(
            storage,
            address,
            os,
            ls,
            rank as u32,
            dims,
            None,
        ),
    }
}
