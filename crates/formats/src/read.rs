//! The shared read engine: manifest + selection → values.
//!
//! [`read_selection`] finds the chunks a selection touches, fetches their
//! stored bytes in batches with one [`ByteSource::read_ranges`] call each (the
//! storage layer coalesces neighbouring ranges), decodes the chunks of a batch
//! in parallel on rayon, and copies the selected elements into one buffer in
//! stored byte order. The typed values are made once, at the end.

use crate::Result;
use arco_codecs::{decode_chunk, decode_elements, ChunkContext};
use arco_core::{
    ChunkGrid, ChunkManifest, ChunkRef, DType, DimSlice, Endian, NdArray, Selection, Values,
};
use arco_storage::ByteSource;
use rayon::prelude::*;
use std::collections::HashMap;
use std::ops::Range;

/// Decoded bytes held at once while reading: chunks are fetched and decoded
/// in batches of about this size.
const BATCH_BYTES: usize = 256 << 20;

/// Default size of the pieces that [`read_selection_with`] cuts large
/// uncompressed chunks into.
pub const RAW_PIECE_BYTES: u64 = 4 << 20;

/// Limits of one read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    /// Decoded chunk bytes held at once: chunks are fetched and decoded in
    /// batches of about this size (at least one chunk per batch).
    pub max_batch_bytes: usize,
    /// Uncompressed chunks larger than this (a contiguous NetCDF-3 or HDF5
    /// variable is one chunk) are read as pieces of about this size, so a
    /// small selection reads only the bytes near it; 0 reads whole chunks.
    pub raw_piece_bytes: u64,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            max_batch_bytes: BATCH_BYTES,
            raw_piece_bytes: RAW_PIECE_BYTES,
        }
    }
}

/// Read the elements of `selection` from the chunks described by `manifest`.
///
/// Chunks absent from the manifest read as the fill value (zeros when none is
/// recorded). Edge chunks may be stored full size (HDF5) or clipped to the
/// array (NetCDF-3); both are recognised by their decoded size.
pub fn read_selection(
    source: &dyn ByteSource,
    manifest: &ChunkManifest,
    selection: &Selection,
) -> Result<NdArray> {
    read_selection_impl(
        source,
        manifest,
        selection,
        &ReadOptions {
            max_batch_bytes: BATCH_BYTES,
            raw_piece_bytes: 0,
        },
    )
}

/// [`read_selection`] within the limits of `options`: decoded bytes held at
/// once are bounded by `options.max_batch_bytes` (plus the result), and large
/// uncompressed chunks are read in pieces (see [`split_raw_chunks`]).
pub fn read_selection_with(
    source: &dyn ByteSource,
    manifest: &ChunkManifest,
    selection: &Selection,
    options: &ReadOptions,
) -> Result<NdArray> {
    match split_raw_chunks(manifest, options.raw_piece_bytes) {
        Some(pieces) => read_selection_impl(source, &pieces, selection, options),
        None => read_selection_impl(source, manifest, selection, options),
    }
}

/// The manifest of `manifest`'s uncompressed chunks cut into pieces of at most
/// about `piece_bytes`, or `None` when it has codecs, inline chunks, or chunks
/// no larger than that.
///
/// A piece is a C-order contiguous run of a chunk: length 1 along the leading
/// dimensions, `k` along one dimension `p` (a divisor of the chunk's length
/// there, or any length when the array has one chunk along `p`), and whole
/// along the dimensions after `p`. So every piece is one byte range, and the
/// pieces form a regular grid the read engine handles as it does chunks.
pub fn split_raw_chunks(manifest: &ChunkManifest, piece_bytes: u64) -> Option<ChunkManifest> {
    let elem = manifest.dtype.size()? as u64;
    let grid = &manifest.grid;
    let rank = grid.chunk_shape.len();
    if piece_bytes == 0
        || elem == 0
        || rank == 0
        || !manifest.codecs.is_empty()
        || manifest
            .chunks
            .iter()
            .any(|c| c.inline.is_some() || c.filter_mask != 0)
    {
        return None;
    }
    let c = &grid.chunk_shape;
    let full: u64 = c.iter().product::<u64>().checked_mul(elem)?;
    if full <= piece_bytes {
        return None;
    }
    let piece_elems = (piece_bytes / elem).max(1);
    // The first dimension p whose trailing block fits a piece.
    let mut tail = 1u64;
    let mut p = rank - 1;
    loop {
        let with_p = tail.saturating_mul(c[p]);
        if with_p > piece_elems || p == 0 {
            break;
        }
        tail = with_p;
        p -= 1;
    }
    if tail > piece_elems {
        // Even one row along the innermost dimension is too big: cut nothing finer.
        tail = 1;
        p = rank - 1;
    }
    let max_k = (piece_elems / tail).clamp(1, c[p]);
    let k = if c[p] >= grid.array_shape[p] {
        max_k
    } else {
        (1..=max_k)
            .rev()
            .find(|k| c[p].is_multiple_of(*k))
            .unwrap_or(1)
    };
    let mut q = c.clone();
    for x in q.iter_mut().take(p) {
        *x = 1;
    }
    q[p] = k;
    let new_grid = ChunkGrid::new(grid.array_shape.clone(), q).ok()?;
    let mut chunks = Vec::new();
    for chunk in &manifest.chunks {
        let bounds = grid.chunk_bounds(&chunk.index);
        let clipped: Vec<u64> = bounds.iter().map(|(lo, hi)| hi - lo).collect();
        let clipped_bytes = clipped.iter().product::<u64>() * elem;
        let layout: &[u64] = if chunk.length >= full {
            c
        } else if chunk.length == clipped_bytes {
            &clipped
        } else {
            // Not a layout we recognise: keep the chunk whole so the engine names it.
            return None;
        };
        let lstrides = strides(layout);
        // Leading dims (< p): every in-array index; dim p: every piece start.
        let mut lists: Vec<Vec<u64>> = (0..p).map(|d| (0..clipped[d]).collect()).collect();
        lists.push((0..clipped[p]).step_by(k as usize).collect());
        let row_elems: u64 = layout[p + 1..].iter().product();
        for local in arco_core::chunks::cartesian(&lists) {
            let mut at = 0u64;
            for (d, &l) in local.iter().enumerate() {
                at += l * lstrides[d] as u64;
            }
            let rows = k.min(layout[p] - local[p]);
            let mut index: Vec<u64> = Vec::with_capacity(rank);
            for (d, &l) in local.iter().enumerate() {
                let global = bounds[d].0 + l;
                index.push(global / new_grid.chunk_shape[d]);
            }
            index.extend_from_slice(&chunk.index[p + 1..]);
            chunks.push(ChunkRef {
                index,
                offset: chunk.offset + at * elem,
                length: rows * row_elems * elem,
                filter_mask: 0,
                inline: None,
            });
        }
    }
    Some(ChunkManifest {
        variable: manifest.variable.clone(),
        dtype: manifest.dtype.clone(),
        endian: manifest.endian,
        grid: new_grid,
        codecs: Vec::new(),
        chunks,
        fill_bytes: manifest.fill_bytes.clone(),
    })
}

fn read_selection_impl(
    source: &dyn ByteSource,
    manifest: &ChunkManifest,
    selection: &Selection,
    options: &ReadOptions,
) -> Result<NdArray> {
    let grid = &manifest.grid;
    check_selection(manifest, selection)?;
    let elem = manifest.dtype.size().ok_or_else(|| {
        arco_core::Error::Type(format!(
            "variable {} has variable-length elements of type {}, which the chunk engine cannot read",
            manifest.variable, manifest.dtype
        ))
    })?;
    let out_shape = selection.shape();
    let count = to_usize(selection.element_count())?;
    let total = count.checked_mul(elem).ok_or_else(|| too_big(manifest))?;
    // Numeric values are assembled straight into their typed vector (viewed
    // as bytes), so the result needs no second copy; other types go through
    // a byte buffer and `decode_elements`.
    let mut typed = typed_zeros(&manifest.dtype, count);
    let mut bytes_buf = Vec::new();
    let out: &mut [u8] = match typed.as_mut().and_then(values_bytes_mut) {
        Some(view) => view,
        None => {
            bytes_buf = vec![0u8; total];
            &mut bytes_buf
        }
    };
    if count > 0 && elem > 0 {
        let wanted = grid.chunks_for(selection);
        let index: HashMap<&[u64], &ChunkRef> = manifest
            .chunks
            .iter()
            .map(|c| (c.index.as_slice(), c))
            .collect();
        let mut present = Vec::with_capacity(wanted.len());
        let mut missing = false;
        for idx in &wanted {
            match index.get(idx.as_slice()) {
                Some(c) => present.push(*c),
                None => missing = true,
            }
        }
        if missing {
            if let Some(fill) = manifest.fill_bytes.as_deref().filter(|f| f.len() == elem) {
                if fill.iter().any(|&b| b != 0) {
                    for o in out.chunks_exact_mut(elem) {
                        o.copy_from_slice(fill);
                    }
                }
            }
        }
        let full_elems = to_usize(grid.chunk_shape.iter().product::<u64>())?;
        let per_chunk = full_elems.saturating_mul(elem).max(1);
        let batch_len = (options.max_batch_bytes / per_chunk).max(1);
        let out_strides = strides(&out_shape);
        for batch in present.chunks(batch_len) {
            read_batch(
                source,
                manifest,
                selection,
                batch,
                full_elems,
                elem,
                &out_strides,
                out,
            )?;
        }
    }
    let values = match typed {
        Some(mut values) => {
            if manifest.endian != Endian::NATIVE && elem > 1 {
                if let Some(view) = values_bytes_mut(&mut values) {
                    for e in view.chunks_exact_mut(elem) {
                        e.reverse();
                    }
                }
            }
            values
        }
        None => decode_elements(&bytes_buf, &manifest.dtype, manifest.endian)?,
    };
    Ok(NdArray {
        shape: out_shape,
        values,
    })
}

/// A zeroed vector of `count` elements for plain numeric types, else `None`.
fn typed_zeros(dtype: &DType, count: usize) -> Option<Values> {
    Some(match dtype {
        DType::I8 => Values::I8(vec![0; count]),
        DType::I16 => Values::I16(vec![0; count]),
        DType::I32 => Values::I32(vec![0; count]),
        DType::I64 => Values::I64(vec![0; count]),
        DType::U8 => Values::U8(vec![0; count]),
        DType::U16 => Values::U16(vec![0; count]),
        DType::U32 => Values::U32(vec![0; count]),
        DType::U64 => Values::U64(vec![0; count]),
        DType::F32 => Values::F32(vec![0.0; count]),
        DType::F64 => Values::F64(vec![0.0; count]),
        _ => return None,
    })
}

/// The bytes of a numeric vector, in native byte order, for writing in place.
fn values_bytes_mut(values: &mut Values) -> Option<&mut [u8]> {
    Some(match values {
        Values::I8(v) => bytemuck::cast_slice_mut(v.as_mut_slice()),
        Values::I16(v) => bytemuck::cast_slice_mut(v.as_mut_slice()),
        Values::I32(v) => bytemuck::cast_slice_mut(v.as_mut_slice()),
        Values::I64(v) => bytemuck::cast_slice_mut(v.as_mut_slice()),
        Values::U8(v) => v.as_mut_slice(),
        Values::U16(v) => bytemuck::cast_slice_mut(v.as_mut_slice()),
        Values::U32(v) => bytemuck::cast_slice_mut(v.as_mut_slice()),
        Values::U64(v) => bytemuck::cast_slice_mut(v.as_mut_slice()),
        Values::F32(v) => bytemuck::cast_slice_mut(v.as_mut_slice()),
        Values::F64(v) => bytemuck::cast_slice_mut(v.as_mut_slice()),
        _ => return None,
    })
}

/// A decoded chunk with its label for messages.
type Decoded<'a> = (&'a ChunkRef, String, Vec<u8>);

/// Fetch, decode and place one batch of chunks.
#[allow(clippy::too_many_arguments)]
fn read_batch(
    source: &dyn ByteSource,
    manifest: &ChunkManifest,
    selection: &Selection,
    batch: &[&ChunkRef],
    full_elems: usize,
    elem: usize,
    out_strides: &[usize],
    out: &mut [u8],
) -> Result<()> {
    let ranges: Vec<Range<u64>> = batch
        .iter()
        .filter(|c| c.inline.is_none())
        .map(|c| c.offset..c.offset.saturating_add(c.length))
        .collect();
    let fetched = source.read_ranges(&ranges)?;
    let mut fetched = fetched.into_iter();
    let mut stored: Vec<(&ChunkRef, bytes::Bytes)> = Vec::with_capacity(batch.len());
    for c in batch {
        let b = match &c.inline {
            Some(inline) => bytes::Bytes::copy_from_slice(inline),
            None => fetched.next().ok_or_else(|| {
                arco_core::Error::Other(format!(
                    "{}: the storage layer returned fewer ranges than asked for",
                    source.location()
                ))
            })?,
        };
        stored.push((c, b));
    }
    let decoded: Vec<Decoded<'_>> = stored
        .par_iter()
        .map(|(c, raw)| {
            let label = chunk_label(source, manifest, c);
            let ctx = ChunkContext {
                label: &label,
                dtype: &manifest.dtype,
                endian: manifest.endian,
                elements: full_elems,
            };
            let bytes = decode_chunk(raw, &manifest.codecs, c.filter_mask, &ctx)?;
            Ok((*c, label, bytes))
        })
        .collect::<Result<_>>()?;
    if selection.dims.is_empty() {
        for (c, label, bytes) in &decoded {
            place_chunk(
                manifest,
                selection,
                c,
                label,
                bytes,
                elem,
                out_strides,
                out,
                0,
            )?;
        }
        return Ok(());
    }
    // Chunks sharing their outermost grid index write one band of output rows,
    // and bands do not overlap: place the bands in parallel.
    let d0 = selection.dims[0];
    let chunk0 = manifest.grid.chunk_shape[0];
    let array0 = manifest.grid.array_shape[0];
    let row_bytes = out_strides[0] * elem;
    let mut bands: Vec<(usize, usize, &[Decoded<'_>])> = Vec::new();
    let mut start = 0;
    while start < decoded.len() {
        let i0 = decoded[start].0.index[0];
        let end = start
            + decoded[start..]
                .iter()
                .take_while(|d| d.0.index[0] == i0)
                .count();
        let lo = (i0 * chunk0).min(array0);
        let hi = ((i0 + 1) * chunk0).min(array0);
        let (first, n) = slice_in(&d0, lo, hi);
        let row = to_usize((first.max(d0.start) - d0.start) / d0.step.max(1))?;
        bands.push((
            row * row_bytes,
            to_usize(n)? * row_bytes,
            &decoded[start..end],
        ));
        start = end;
    }
    bands.sort_by_key(|b| b.0);
    let mut rest: &mut [u8] = out;
    let mut consumed = 0usize;
    let mut jobs = Vec::with_capacity(bands.len());
    for (at, len, group) in bands {
        if at < consumed || at + len > consumed + rest.len() {
            return Err(arco_core::Error::Other(format!(
                "{}: chunk bands of {} overlap (duplicate chunk indices in the manifest?)",
                source.location(),
                manifest.variable
            ))
            .into());
        }
        let (_, tail) = std::mem::take(&mut rest).split_at_mut(at - consumed);
        let (band, tail) = tail.split_at_mut(len);
        rest = tail;
        consumed = at + len;
        jobs.push((at, band, group));
    }
    jobs.into_par_iter().try_for_each(|(at, band, group)| {
        group.iter().try_for_each(|(c, label, bytes)| {
            place_chunk(
                manifest,
                selection,
                c,
                label,
                bytes,
                elem,
                out_strides,
                band,
                at,
            )
        })
    })
}

/// Copy the selected elements of one decoded chunk into `out`.
#[allow(clippy::too_many_arguments)]
fn place_chunk(
    manifest: &ChunkManifest,
    selection: &Selection,
    chunk: &ChunkRef,
    label: &str,
    bytes: &[u8],
    elem: usize,
    out_strides: &[usize],
    out: &mut [u8],
    out_base: usize,
) -> Result<()> {
    let grid = &manifest.grid;
    let bounds = grid.chunk_bounds(&chunk.index);
    let full: u64 = grid.chunk_shape.iter().product();
    let clipped: Vec<u64> = bounds.iter().map(|(lo, hi)| hi - lo).collect();
    let layout: &[u64] = if bytes.len() as u64 == full * elem as u64 {
        &grid.chunk_shape
    } else if bytes.len() as u64 == clipped.iter().product::<u64>() * elem as u64 {
        &clipped
    } else {
        return Err(arco_core::Error::Other(format!(
            "{label}: decoded to {} bytes, but a chunk of shape {:?} ({} at the array edge) of {}-byte elements needs {} (or {})",
            bytes.len(),
            grid.chunk_shape,
            format_shape(&clipped),
            elem,
            full * elem as u64,
            clipped.iter().product::<u64>() * elem as u64
        ))
        .into());
    };
    let chunk_strides = strides(layout);
    // Per dimension: first selected index in this chunk, how many, and where
    // they go in the output.
    let rank = selection.dims.len();
    let mut first = Vec::with_capacity(rank); // offset inside the chunk
    let mut count = Vec::with_capacity(rank);
    let mut out_start = Vec::with_capacity(rank);
    for (d, (lo, hi)) in selection.dims.iter().zip(&bounds) {
        let (f, n) = slice_in(d, *lo, *hi);
        if n == 0 {
            return Ok(());
        }
        first.push(to_usize(f - lo)?);
        count.push(to_usize(n)?);
        out_start.push(to_usize((f - d.start) / d.step)?);
    }
    if rank == 0 {
        let n = elem.min(bytes.len()).min(out.len());
        out[..n].copy_from_slice(&bytes[..n]);
        return Ok(());
    }
    let steps: Vec<usize> = selection.dims.iter().map(|d| d.step as usize).collect();
    let last = rank - 1;
    let inner = count[last];
    let inner_step = steps[last];
    // Walk the outer dimensions as an odometer.
    let mut pos = vec![0usize; last];
    loop {
        let mut src = first[last] * chunk_strides[last];
        let mut dst = out_start[last] * out_strides[last];
        for d in 0..last {
            src += (first[d] + pos[d] * steps[d]) * chunk_strides[d];
            dst += (out_start[d] + pos[d]) * out_strides[d];
        }
        let (src, dst) = (src * elem, dst * elem - out_base);
        if inner_step == 1 {
            let n = inner * elem;
            out[dst..dst + n].copy_from_slice(&bytes[src..src + n]);
        } else {
            let stride = inner_step * chunk_strides[last] * elem;
            for (k, o) in out[dst..dst + inner * elem]
                .chunks_exact_mut(elem)
                .enumerate()
            {
                let s = src + k * stride;
                o.copy_from_slice(&bytes[s..s + elem]);
            }
        }
        // advance
        let mut d = last;
        loop {
            if d == 0 {
                return Ok(());
            }
            d -= 1;
            pos[d] += 1;
            if pos[d] < count[d] {
                break;
            }
            pos[d] = 0;
        }
    }
}

/// The selected indices of `d` inside `[lo, hi)`: the first one and how many.
fn slice_in(d: &DimSlice, lo: u64, hi: u64) -> (u64, u64) {
    let step = d.step.max(1);
    let start = d.start.max(lo);
    let first = if start <= d.start {
        d.start
    } else {
        d.start + (start - d.start).div_ceil(step) * step
    };
    let end = d.stop.min(hi);
    if first >= end {
        (first, 0)
    } else {
        (first, (end - first).div_ceil(step))
    }
}

/// C-order strides, in elements.
fn strides(shape: &[u64]) -> Vec<usize> {
    let mut s = vec![1usize; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1] * shape[d + 1] as usize;
    }
    s
}

fn chunk_label(source: &dyn ByteSource, m: &ChunkManifest, c: &ChunkRef) -> String {
    let what = if c.inline.is_some() { " (inline)" } else { "" };
    format!(
        "{}: variable {}, chunk {:?} at bytes {}..{}{what}",
        source.location(),
        m.variable,
        c.index,
        c.offset,
        c.offset.saturating_add(c.length)
    )
}

fn format_shape(s: &[u64]) -> String {
    format!("{s:?}")
}

fn to_usize(n: u64) -> Result<usize> {
    usize::try_from(n).map_err(|_| {
        arco_core::Error::Other(format!("{n} does not fit in memory on this machine")).into()
    })
}

fn too_big(m: &ChunkManifest) -> crate::Error {
    arco_core::Error::Other(format!(
        "the selection of {} is too large to hold in memory",
        m.variable
    ))
    .into()
}

/// Check rank, steps and bounds of `selection` against the array.
fn check_selection(manifest: &ChunkManifest, selection: &Selection) -> Result<()> {
    let shape = &manifest.grid.array_shape;
    let text = selection
        .dims
        .iter()
        .map(|d| format!("{}:{}:{}", d.start, d.stop, d.step))
        .collect::<Vec<_>>()
        .join(",");
    let bad = |reason: String| arco_core::Error::BadSelection {
        variable: manifest.variable.clone(),
        selection: format!("[{text}]"),
        shape: shape.clone(),
        reason,
    };
    if selection.dims.len() != shape.len() {
        return Err(bad(format!(
            "it has {} dimensions, the variable has {}",
            selection.dims.len(),
            shape.len()
        ))
        .into());
    }
    if manifest.grid.chunk_shape.len() != shape.len() {
        return Err(bad(format!(
            "the chunk shape {:?} does not match the variable's rank",
            manifest.grid.chunk_shape
        ))
        .into());
    }
    for (i, (d, &len)) in selection.dims.iter().zip(shape).enumerate() {
        if d.step == 0 {
            return Err(bad(format!("dimension {i} has step 0")).into());
        }
        if !d.is_empty() && d.stop > len {
            return Err(bad(format!(
                "dimension {i} asks for indices up to {} but has length {len}",
                d.stop
            ))
            .into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arco_core::{CodecSpec, DType, Endian, Values};
    use bytes::Bytes;
    use proptest::prelude::*;
    use std::io::Write;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// An in-memory source that counts `read_ranges` calls.
    #[derive(Debug, Default)]
    struct MemSource {
        data: Vec<u8>,
        calls: AtomicUsize,
    }

    impl ByteSource for MemSource {
        fn location(&self) -> &str {
            "mem://test.h5"
        }
        fn len(&self) -> u64 {
            self.data.len() as u64
        }
        fn read_range(&self, r: Range<u64>) -> arco_storage::Result<Bytes> {
            if r.end > self.len() {
                return Err(arco_storage::Error::OutOfRange {
                    location: self.location().into(),
                    start: r.start,
                    end: r.end,
                    size: self.len(),
                });
            }
            Ok(Bytes::copy_from_slice(
                &self.data[r.start as usize..r.end as usize],
            ))
        }
        fn read_ranges(&self, ranges: &[Range<u64>]) -> arco_storage::Result<Vec<Bytes>> {
            self.calls.fetch_add(1, Ordering::Relaxed);
            ranges.iter().map(|r| self.read_range(r.clone())).collect()
        }
    }

    fn value(i: &[u64]) -> i32 {
        i.iter().fold(7i32, |a, &x| {
            a.wrapping_mul(1009).wrapping_add(x as i32 * 13 - 5)
        })
    }

    /// Write an i32 array (value(index)) as HDF5-style full-size chunks,
    /// shuffled and deflated, skipping the chunks in `skip`; or clipped and
    /// raw when `clipped` (NetCDF-3 style).
    fn build(
        shape: &[u64],
        chunk: &[u64],
        skip: &[Vec<u64>],
        clipped: bool,
        endian: Endian,
    ) -> (MemSource, ChunkManifest) {
        let grid = ChunkGrid::new(shape.to_vec(), chunk.to_vec()).unwrap();
        let mut data = vec![0xAAu8; 3]; // some leading bytes
        let mut chunks = Vec::new();
        let per_dim: Vec<Vec<u64>> = grid
            .grid_shape()
            .iter()
            .map(|&n| (0..n).collect())
            .collect();
        for idx in arco_core::chunks::cartesian(&per_dim) {
            if skip.contains(&idx) {
                continue;
            }
            let bounds = grid.chunk_bounds(&idx);
            let layout: Vec<u64> = if clipped {
                bounds.iter().map(|(l, h)| h - l).collect()
            } else {
                grid.chunk_shape.clone()
            };
            let per: Vec<Vec<u64>> = layout.iter().map(|&n| (0..n).collect()).collect();
            let mut raw = Vec::new();
            for local in arco_core::chunks::cartesian(&per) {
                let global: Vec<u64> = local
                    .iter()
                    .zip(&bounds)
                    .map(|(l, (lo, _))| l + lo)
                    .collect();
                let inside = global.iter().zip(shape).all(|(g, s)| g < s);
                let v = if inside { value(&global) } else { -999 };
                raw.extend(match endian {
                    Endian::Little => v.to_le_bytes(),
                    Endian::Big => v.to_be_bytes(),
                });
            }
            let stored = if clipped {
                raw
            } else {
                let mut e =
                    flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(&arco_codecs::shuffle(&raw, 4)).unwrap();
                e.finish().unwrap()
            };
            let offset = data.len() as u64;
            data.extend(&stored);
            chunks.push(ChunkRef {
                index: idx,
                offset,
                length: stored.len() as u64,
                filter_mask: 0,
                inline: None,
            });
        }
        let codecs = if clipped {
            vec![]
        } else {
            vec![
                CodecSpec::Shuffle { element_size: 4 },
                CodecSpec::Deflate { level: Some(1) },
            ]
        };
        let fill = match endian {
            Endian::Little => (-1i32).to_le_bytes(),
            Endian::Big => (-1i32).to_be_bytes(),
        };
        let m = ChunkManifest {
            variable: "/v".into(),
            dtype: DType::I32,
            endian,
            grid,
            codecs,
            chunks,
            fill_bytes: Some(fill.to_vec()),
        };
        (
            MemSource {
                data,
                calls: AtomicUsize::new(0),
            },
            m,
        )
    }

    /// The brute-force answer: walk every selected index.
    fn reference(m: &ChunkManifest, skip: &[Vec<u64>], sel: &Selection) -> Vec<i32> {
        let per: Vec<Vec<u64>> = sel.dims.iter().map(|d| d.indices().collect()).collect();
        if per.iter().any(Vec::is_empty) {
            return vec![];
        }
        arco_core::chunks::cartesian(&per)
            .iter()
            .map(|g| {
                let c: Vec<u64> = g
                    .iter()
                    .zip(&m.grid.chunk_shape)
                    .map(|(i, c)| i / c)
                    .collect();
                if skip.contains(&c) {
                    -1
                } else {
                    value(g)
                }
            })
            .collect()
    }

    fn ds(start: u64, stop: u64, step: u64) -> DimSlice {
        DimSlice { start, stop, step }
    }

    fn check(shape: &[u64], chunk: &[u64], skip: &[Vec<u64>], clipped: bool, sel: Selection) {
        for endian in [Endian::Little, Endian::Big] {
            let (src, m) = build(shape, chunk, skip, clipped, endian);
            let got = read_selection(&src, &m, &sel).unwrap();
            assert_eq!(got.shape, sel.shape());
            assert_eq!(
                got.values,
                Values::I32(reference(&m, skip, &sel)),
                "{sel:?}"
            );
        }
    }

    #[test]
    fn whole_arrays_read_back_through_deflate_and_shuffle() {
        check(&[10, 7], &[4, 3], &[], false, Selection::all(&[10, 7]));
        check(&[10, 7], &[4, 3], &[], true, Selection::all(&[10, 7]));
        check(&[5], &[5], &[], false, Selection::all(&[5]));
    }

    #[test]
    fn strided_selections_crossing_chunk_edges_match_brute_force() {
        let sel = Selection {
            dims: vec![ds(1, 10, 3), ds(2, 7, 2), ds(0, 5, 1)],
        };
        check(&[10, 7, 5], &[4, 3, 2], &[], false, sel.clone());
        check(&[10, 7, 5], &[4, 3, 2], &[], true, sel);
    }

    #[test]
    fn missing_chunks_read_as_the_fill_value() {
        let skip = vec![vec![0, 1], vec![2, 0]];
        check(
            &[10, 7],
            &[4, 3],
            &skip,
            false,
            Selection {
                dims: vec![ds(0, 10, 1), ds(1, 7, 2)],
            },
        );
    }

    #[test]
    fn one_batch_is_one_read_ranges_call() {
        let (src, m) = build(&[64, 64], &[8, 8], &[], false, Endian::Little);
        read_selection(&src, &m, &Selection::all(&[64, 64])).unwrap();
        assert_eq!(src.calls.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn large_manifests_are_indexed_not_scanned() {
        // 250k chunks of one element each: quadratic lookup would take minutes.
        let n = 250_000u64;
        let data: Vec<u8> = (0..n as u32).flat_map(|i| i.to_le_bytes()).collect();
        let chunks = (0..n)
            .map(|i| ChunkRef {
                index: vec![i],
                offset: i * 4,
                length: 4,
                filter_mask: 0,
                inline: None,
            })
            .rev()
            .collect();
        let m = ChunkManifest {
            variable: "/big".into(),
            dtype: DType::U32,
            endian: Endian::Little,
            grid: ChunkGrid::new(vec![n], vec![1]).unwrap(),
            codecs: vec![],
            chunks,
            fill_bytes: None,
        };
        let src = MemSource {
            data,
            calls: AtomicUsize::new(0),
        };
        let got = read_selection(
            &src,
            &m,
            &Selection {
                dims: vec![ds(10, n, 50_000)],
            },
        )
        .unwrap();
        assert_eq!(
            got.values,
            Values::U32(vec![10, 50_010, 100_010, 150_010, 200_010])
        );
    }

    #[test]
    fn a_contiguous_variable_is_read_in_pieces_near_the_selection() {
        // One raw chunk of 100 x 50 i32 (20 000 bytes): a one-row selection
        // reads one piece, not the whole chunk.
        let (src, m) = build(&[100, 50], &[100, 50], &[], true, Endian::Little);
        let pieces = split_raw_chunks(&m, 1000).unwrap();
        assert_eq!(pieces.grid.chunk_shape, vec![5, 50]);
        assert_eq!(pieces.chunks.len(), 20);
        let sel = Selection {
            dims: vec![ds(42, 43, 1), ds(0, 50, 1)],
        };
        let opts = ReadOptions {
            max_batch_bytes: 1 << 20,
            raw_piece_bytes: 1000,
        };
        let got = read_selection_with(&src, &m, &sel, &opts).unwrap();
        assert_eq!(got.values, Values::I32(reference(&m, &[], &sel)));
        // Compressed chunks are never cut.
        let (_, m) = build(&[100, 50], &[100, 50], &[], false, Endian::Little);
        assert!(split_raw_chunks(&m, 1000).is_none());
    }

    #[test]
    fn inline_chunks_are_used_without_reading() {
        let m = ChunkManifest {
            variable: "/c".into(),
            dtype: DType::U8,
            endian: Endian::Little,
            grid: ChunkGrid::new(vec![4], vec![4]).unwrap(),
            codecs: vec![],
            chunks: vec![ChunkRef {
                index: vec![0],
                offset: 0,
                length: 4,
                filter_mask: 0,
                inline: Some(Arc::from(&[1u8, 2, 3, 4][..])),
            }],
            fill_bytes: None,
        };
        let src = MemSource::default();
        let got = read_selection(&src, &m, &Selection::all(&[4])).unwrap();
        assert_eq!(got.values, Values::U8(vec![1, 2, 3, 4]));
    }

    #[test]
    fn bad_selections_and_bad_chunks_are_named() {
        let (src, mut m) = build(&[10, 7], &[4, 3], &[], false, Endian::Little);
        let err = read_selection(&src, &m, &Selection::all(&[10]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("'/v'") && err.contains("2"), "{err}");
        let err = read_selection(
            &src,
            &m,
            &Selection {
                dims: vec![ds(0, 11, 1), ds(0, 7, 1)],
            },
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("length 10"), "{err}");
        m.chunks[1].length -= 3;
        let err = read_selection(&src, &m, &Selection::all(&[10, 7]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("mem://test.h5: variable /v, chunk [0, 1] at bytes"),
            "{err}"
        );
    }

    #[test]
    fn scalar_and_empty_selections() {
        let m = ChunkManifest {
            variable: "/s".into(),
            dtype: DType::F64,
            endian: Endian::Big,
            grid: ChunkGrid::new(vec![], vec![]).unwrap(),
            codecs: vec![],
            chunks: vec![ChunkRef {
                index: vec![],
                offset: 0,
                length: 8,
                filter_mask: 0,
                inline: None,
            }],
            fill_bytes: None,
        };
        let src = MemSource {
            data: 2.5f64.to_be_bytes().to_vec(),
            calls: AtomicUsize::new(0),
        };
        let got = read_selection(&src, &m, &Selection { dims: vec![] }).unwrap();
        assert_eq!(got.values, Values::F64(vec![2.5]));
        let (src, m) = build(&[10, 7], &[4, 3], &[], false, Endian::Little);
        let got = read_selection(
            &src,
            &m,
            &Selection {
                dims: vec![ds(3, 3, 1), ds(0, 7, 1)],
            },
        )
        .unwrap();
        assert_eq!(got.shape, vec![0, 7]);
        assert!(got.values.is_empty());
    }

    fn dims_and_selection() -> impl Strategy<Value = (Vec<u64>, Vec<u64>, Selection, bool, u64)> {
        prop::collection::vec((1u64..12, 1u64..6), 1..4)
            .prop_flat_map(|dims| {
                let shape: Vec<u64> = dims.iter().map(|d| d.0).collect();
                let chunk: Vec<u64> = dims.iter().map(|d| d.1).collect();
                let sels: Vec<_> = shape
                    .iter()
                    .map(|&n| {
                        (0..n, 0..=n, 1u64..5).prop_map(|(a, b, s)| ds(a.min(b), a.max(b), s))
                    })
                    .collect();
                (Just(shape), Just(chunk), sels, any::<bool>(), any::<u64>())
            })
            .prop_map(|(shape, chunk, dims, clipped, seed)| {
                (shape, chunk, Selection { dims }, clipped, seed)
            })
    }

    /// A seed-chosen set of grid positions to leave out of the manifest.
    fn skipped_chunks(shape: &[u64], chunk: &[u64], seed: u64) -> Vec<Vec<u64>> {
        let grid = ChunkGrid::new(shape.to_vec(), chunk.to_vec()).unwrap();
        let per: Vec<Vec<u64>> = grid
            .grid_shape()
            .iter()
            .map(|&n| (0..n).collect())
            .collect();
        arco_core::chunks::cartesian(&per)
            .into_iter()
            .enumerate()
            .filter(|(i, _)| (seed >> (i % 64)) & 5 == 5)
            .map(|(_, c)| c)
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn random_selections_match_brute_force((shape, chunk, sel, clipped, seed) in dims_and_selection()) {
            let skip = skipped_chunks(&shape, &chunk, seed);
            let (src, m) = build(&shape, &chunk, &skip, clipped, Endian::Little);
            let got = read_selection(&src, &m, &sel).unwrap();
            prop_assert_eq!(got.shape, sel.shape());
            prop_assert_eq!(got.values, Values::I32(reference(&m, &skip, &sel)));
        }

        #[test]
        fn reading_raw_chunks_in_pieces_matches_brute_force(
            (shape, chunk, sel, _clipped, seed) in dims_and_selection(),
            piece in 1u64..40,
            batch in 1usize..64,
        ) {
            // Raw (clipped, NetCDF-3 style) chunks, as contiguous variables are.
            let skip = skipped_chunks(&shape, &chunk, seed);
            let (src, m) = build(&shape, &chunk, &skip, true, Endian::Big);
            let opts = ReadOptions { max_batch_bytes: batch, raw_piece_bytes: piece * 4 };
            let got = read_selection_with(&src, &m, &sel, &opts).unwrap();
            prop_assert_eq!(got.shape, sel.shape());
            prop_assert_eq!(got.values, Values::I32(reference(&m, &skip, &sel)));
        }
    }
}
