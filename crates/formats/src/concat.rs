//! Many sources read as one dataset, concatenated along one dimension.
//!
//! [`concat`] takes readers that were already opened (one per file, in the
//! order the user gave them), checks that they can be joined, and returns a
//! [`ConcatReader`]: a [`Reader`] whose [`Dataset`] is the first source's tree
//! with the concatenation dimension grown to the sum of the parts.
//! [`ConcatReader::read`](Reader::read) splits a selection into one
//! sub-selection per part, reads the parts in parallel and stitches the results
//! with [`concat_arrays`]; [`ConcatReader::part_manifests`] gives each file's
//! chunk manifest with its offset along the dimension, which is what
//! virtualization needs.
//!
//! The checks refuse, with an error naming the files and both values, anything
//! that would make the joined dataset differ from what each file says on its
//! own: a group, dimension or variable present in one file but not another;
//! another dtype, dimension list, shape outside the concatenation dimension,
//! chunk shape or codec chain; differing CF encoding attributes; coordinates
//! or small variables without the dimension whose values differ; and a
//! concatenation coordinate that is not strictly increasing within and across
//! the files (overlapping or unordered files). Sources are never reordered.
//!
//! Opening reads no data but what the checks need: the concatenation
//! coordinate and the variables without the dimension that are compared by
//! value.

use crate::read::ReadOptions;
use crate::{Reader, Result};
use arco_core::cf::{self, CalDateTime, Decoded};
use arco_core::{
    AttrValue, ChunkManifest, Dataset, DimSlice, Group, NdArray, Selection, StorageLayout, Values,
    Variable,
};
use rayon::prelude::*;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Variables without the concatenation dimension that are smaller than this
/// (uncompressed) are compared value by value across the files; larger ones
/// are compared by metadata only.
pub const COMPARE_VALUES_BELOW: u64 = 16 << 20;

/// The attributes that change how stored values decode; they must be equal in
/// every file for every variable.
pub const ENCODING_ATTRIBUTES: [&str; 7] = [
    "units",
    "calendar",
    "scale_factor",
    "add_offset",
    "_FillValue",
    "missing_value",
    "dtype",
];

/// How to concatenate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConcatOptions {
    /// The dimension to concatenate along. `None` picks the unlimited dimension
    /// when every source has exactly one and it has the same name in all of
    /// them, and `time` otherwise.
    pub dim: Option<String>,
}

/// Why sources cannot be concatenated, naming the files involved.
///
/// Converted to [`crate::Error::Core`] (as [`arco_core::Error::Other`]) by `?`
/// until the crate error gains a variant of its own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot concatenate along '{dim}': {message}")]
pub struct ConcatError {
    /// The concatenation dimension.
    pub dim: String,
    /// The files the problem is about, as the user gave them.
    pub files: Vec<String>,
    /// What differs, with both values.
    pub message: String,
}

/// One source of a [`ConcatReader`] and where it lies along the dimension.
pub struct ConcatPart {
    location: String,
    offset: u64,
    length: u64,
    reader: Box<dyn Reader>,
}

impl ConcatPart {
    /// The source's location, as the user gave it.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Index of the part's first element along the concatenation dimension.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The part's extent along the concatenation dimension.
    pub fn length(&self) -> u64 {
        self.length
    }

    /// The source's own reader.
    pub fn reader(&self) -> &dyn Reader {
        self.reader.as_ref()
    }
}

impl fmt::Debug for ConcatPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConcatPart")
            .field("location", &self.location)
            .field("offset", &self.offset)
            .field("length", &self.length)
            .finish_non_exhaustive()
    }
}

/// Many sources read as one dataset; made by [`concat`].
pub struct ConcatReader {
    dim: String,
    parts: Vec<ConcatPart>,
    dataset: Dataset,
}

impl fmt::Debug for ConcatReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConcatReader")
            .field("dim", &self.dim)
            .field("parts", &self.parts)
            .finish_non_exhaustive()
    }
}

/// Read `readers` (location and reader, in the user's order) as one dataset
/// concatenated along `options.dim`.
///
/// The combined dataset is the first source's tree with the dimension's size
/// the sum of the parts and every variable that has the dimension grown to
/// match; `source` lists the locations joined by `, `, `format` is the first
/// source's, `size` the sum.
///
/// Refused, with a [`ConcatError`] naming the files:
/// * a group, dimension or variable present in one source but not in the first;
/// * a dimension other than the concatenation dimension with another size;
/// * for any variable, another dtype, dimension list, shape outside the
///   concatenation dimension, codec chain, or chunk shape (compared when either
///   file stores the variable in chunks: NetCDF-3 record and fixed layouts have
///   no chosen chunking), or another value or type of one of the
///   [`ENCODING_ATTRIBUTES`] (differing `units` included: re-encode first);
/// * a variable using the concatenation dimension twice;
/// * variables without the dimension whose values differ (NaN equals NaN).
///   Coordinates (variables named like their only dimension, and those named in
///   a `coordinates` attribute) are always compared; other variables only when
///   smaller than [`COMPARE_VALUES_BELOW`] (16 MiB) uncompressed, and larger
///   ones by metadata only, so that opening stays cheap;
/// * a concatenation coordinate (a 1-D variable named like the dimension) that
///   is not strictly increasing within each file and from each file to the
///   next, compared as CF-decoded instants when it has time units (as unpacked
///   numbers otherwise). Missing values in it are refused too. A source lying
///   wholly before an earlier one is reported as out of order, with the order
///   that would work; sources are never reordered. A coordinate that is not
///   numeric is not checked for order.
///
/// Opening reads only what these checks need.
pub fn concat(
    readers: Vec<(String, Box<dyn Reader>)>,
    options: &ConcatOptions,
) -> Result<ConcatReader> {
    let dim = match &options.dim {
        Some(d) => d.clone(),
        None => default_dim(&readers),
    };
    let fail = |files: Vec<String>, message: String| ConcatError {
        dim: dim.clone(),
        files,
        message,
    };
    let Some((first_loc, first)) = readers.first() else {
        return Err(fail(Vec::new(), "no sources were given".into()).into());
    };
    let first_ds = first.dataset();

    // Part lengths along the dimension.
    let mut lengths = Vec::with_capacity(readers.len());
    for (loc, r) in &readers {
        let ds = r.dataset();
        let Some(d) = find_dimension(&ds.root, &dim) else {
            let mut names: Vec<&str> = Vec::new();
            collect_dim_names(&ds.root, &mut names);
            return Err(fail(
                vec![loc.clone()],
                format!(
                    "{loc} has no dimension '{dim}' (its dimensions are {}); choose another with --concat-dim",
                    if names.is_empty() { "none".to_string() } else { names.join(", ") }
                ),
            )
            .into());
        };
        lengths.push(d.size);
        for v in ds.root.all_variables() {
            let uses: Vec<usize> = positions(&v.dims, &dim);
            if uses.len() > 1 {
                return Err(fail(
                    vec![loc.clone()],
                    format!(
                        "variable {} of {loc} uses dimension '{dim}' more than once ({})",
                        v.path,
                        v.dims.join(", ")
                    ),
                )
                .into());
            }
            if let Some(&axis) = uses.first() {
                let len = v.shape.get(axis).copied().unwrap_or(0);
                if len != d.size {
                    return Err(fail(
                        vec![loc.clone()],
                        format!(
                            "variable {} of {loc} has {len} elements along '{dim}' but the dimension has {}; groups defining different '{dim}' dimensions cannot be concatenated",
                            v.path, d.size
                        ),
                    )
                    .into());
                }
            }
        }
    }

    // Metadata of every other source against the first.
    for (loc, r) in readers.iter().skip(1) {
        check_tree(&dim, (first_loc, first_ds), (loc, r.dataset())).map_err(crate::Error::from)?;
    }

    check_coordinate_order(&dim, &readers)?;
    check_values(&dim, &readers)?;

    // The combined tree.
    let total: u64 = lengths.iter().sum();
    let mut dataset = first_ds.clone();
    grow(&mut dataset.root, &dim, total);
    dataset.source = readers
        .iter()
        .map(|(l, _)| l.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    dataset.size = readers.iter().map(|(_, r)| r.dataset().size).sum();

    let mut offset = 0;
    let mut parts = Vec::with_capacity(readers.len());
    for ((location, reader), length) in readers.into_iter().zip(lengths) {
        parts.push(ConcatPart {
            location,
            offset,
            length,
            reader,
        });
        offset += length;
    }
    Ok(ConcatReader {
        dim,
        parts,
        dataset,
    })
}

impl ConcatReader {
    /// The concatenation dimension.
    pub fn dim(&self) -> &str {
        &self.dim
    }

    /// The sources in order, each with its offset and length along [`Self::dim`].
    pub fn parts(&self) -> &[ConcatPart] {
        &self.parts
    }

    /// Each source's own chunk manifest of `variable`, with the source's
    /// location and its offset along the concatenation dimension: chunk `i`
    /// of a part's manifest holds elements from `offset` on, in that file.
    ///
    /// A variable without the dimension is the same in every file; only the
    /// first source's manifest is returned, at offset 0.
    pub fn part_manifests(&self, variable: &str) -> Result<Vec<(String, u64, ChunkManifest)>> {
        let var = self.dataset.variable(variable)?;
        if self.axis(var).is_none() {
            let first = self.first()?;
            return Ok(vec![(
                first.location.clone(),
                0,
                first.reader.manifest(&var.path)?,
            )]);
        }
        self.parts
            .iter()
            .map(|p| Ok((p.location.clone(), p.offset, p.reader.manifest(&var.path)?)))
            .collect()
    }

    /// The parts' manifests joined into one over the combined shape, each
    /// chunk's index shifted along the dimension by its part's offset.
    ///
    /// The chunk offsets and lengths stay those of each chunk's own file, so
    /// this manifest describes the chunk grid and which chunks exist, not where
    /// to fetch them: use [`Self::part_manifests`] for that.
    ///
    /// Errors when the parts do not form one regular grid: every part but the
    /// last (non-empty) one must hold a whole number of chunks along the
    /// dimension, and all parts must share chunk shape, dtype, byte order and
    /// codecs. [`Reader::read`] works regardless.
    pub fn combined_manifest(&self, variable: &str) -> Result<ChunkManifest> {
        let var = self.dataset.variable(variable)?;
        let Some(axis) = self.axis(var) else {
            return self.first()?.reader.manifest(&var.path);
        };
        let manifests = self.part_manifests(&var.path)?;
        let live: Vec<(usize, &(String, u64, ChunkManifest))> = manifests
            .iter()
            .enumerate()
            .filter(|(i, _)| self.parts.get(*i).is_some_and(|p| p.length > 0))
            .collect();
        let Some((_, (first_loc, _, first))) = live.first().copied() else {
            let (_, _, m) = manifests
                .into_iter()
                .next()
                .ok_or_else(|| self.no_parts())?;
            let mut m = m;
            m.grid.array_shape.clone_from(&var.shape);
            return Ok(m);
        };
        let step = first
            .grid
            .chunk_shape
            .get(axis)
            .copied()
            .unwrap_or(1)
            .max(1);
        let irregular = |files: Vec<String>, why: String| -> crate::Error {
            ConcatError {
                dim: self.dim.clone(),
                files,
                message: format!(
                    "the chunks of {} cannot be expressed as one regular grid: {why}; use part manifests (ConcatReader::part_manifests) instead; reading values works regardless",
                    var.path
                ),
            }
            .into()
        };
        let mut chunks = Vec::new();
        for (n, (i, (loc, offset, m))) in live.iter().enumerate() {
            let length = self.parts.get(*i).map_or(0, |p| p.length);
            let last = n + 1 == live.len();
            let files = vec![first_loc.clone(), loc.clone()];
            let mut same_outside = m.grid.chunk_shape.len() == first.grid.chunk_shape.len();
            for (d, (a, b)) in m
                .grid
                .chunk_shape
                .iter()
                .zip(&first.grid.chunk_shape)
                .enumerate()
            {
                if d != axis && a != b {
                    same_outside = false;
                }
            }
            if !same_outside {
                return Err(irregular(
                    files,
                    format!(
                        "{first_loc} has chunks of shape {:?} and {loc} {:?}",
                        first.grid.chunk_shape, m.grid.chunk_shape
                    ),
                ));
            }
            if m.dtype != first.dtype || m.endian != first.endian || m.codecs != first.codecs {
                return Err(irregular(
                    files,
                    format!(
                        "{first_loc} stores {} {:?}-endian with codecs [{}] and {loc} {} {:?}-endian with [{}]",
                        first.dtype,
                        first.endian,
                        labels(&first.codecs),
                        m.dtype,
                        m.endian,
                        labels(&m.codecs)
                    ),
                ));
            }
            let own = m.grid.chunk_shape.get(axis).copied().unwrap_or(1).max(1);
            let fits = own == step || (last && own == length && length <= step);
            if !fits {
                return Err(irregular(
                    files,
                    format!(
                        "{loc} has chunks of {own} along '{}' where {first_loc} has {step}",
                        self.dim
                    ),
                ));
            }
            if !last && length % step != 0 {
                return Err(irregular(
                    vec![loc.clone()],
                    format!(
                        "{loc} has {length} elements along '{}', not a multiple of the chunk size {step} (only the last file may end with a partial chunk)",
                        self.dim
                    ),
                ));
            }
            let shift = offset / step;
            for c in &m.chunks {
                let mut c = c.clone();
                if let Some(x) = c.index.get_mut(axis) {
                    *x += shift;
                }
                chunks.push(c);
            }
        }
        let mut grid = first.grid.clone();
        grid.array_shape.clone_from(&var.shape);
        if let Some(x) = grid.chunk_shape.get_mut(axis) {
            *x = step;
        }
        Ok(ChunkManifest {
            variable: first.variable.clone(),
            dtype: first.dtype.clone(),
            endian: first.endian,
            grid,
            codecs: first.codecs.clone(),
            chunks,
            fill_bytes: first.fill_bytes.clone(),
        })
    }

    fn first(&self) -> Result<&ConcatPart> {
        self.parts.first().ok_or_else(|| self.no_parts())
    }

    fn no_parts(&self) -> crate::Error {
        ConcatError {
            dim: self.dim.clone(),
            files: Vec::new(),
            message: "no sources".into(),
        }
        .into()
    }

    /// Position of the concatenation dimension in `var`'s dimensions.
    fn axis(&self, var: &Variable) -> Option<usize> {
        var.dims.iter().position(|d| *d == self.dim)
    }
}

impl Reader for ConcatReader {
    fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// The manifest of a variable without the concatenation dimension (the
    /// first source's) or of any variable when there is only one source.
    ///
    /// For a variable with the dimension spread over several files this is an
    /// error: one manifest cannot say which file each chunk is in. Use
    /// [`ConcatReader::part_manifests`] (or [`ConcatReader::combined_manifest`]
    /// for the combined grid).
    fn manifest(&self, variable: &str) -> Result<ChunkManifest> {
        let var = self.dataset.variable(variable)?;
        if self.axis(var).is_none() || self.parts.len() == 1 {
            return self.first()?.reader.manifest(&var.path);
        }
        let files: Vec<String> = self.parts.iter().map(|p| p.location.clone()).collect();
        Err(ConcatError {
            dim: self.dim.clone(),
            message: format!(
                "{} is spread over {} files ({}), and one chunk manifest cannot say which file a chunk is in; use the part manifests (ConcatReader::part_manifests), one per file with its offset along '{}'",
                var.path,
                files.len(),
                files.join(", "),
                self.dim
            ),
            files,
        }
        .into())
    }

    /// Split the selection along the dimension, read each part's share (in
    /// parallel when more than one part is involved) and stitch the results.
    fn read(&self, variable: &str, selection: &Selection) -> Result<NdArray> {
        self.read_parts(variable, selection, None)
    }

    /// As [`Reader::read`], each part read within `options`; when several
    /// parts are read at once, they share `options.max_batch_bytes`.
    fn read_with(
        &self,
        variable: &str,
        selection: &Selection,
        options: &ReadOptions,
    ) -> Result<NdArray> {
        self.read_parts(variable, selection, Some(options))
    }
}

impl ConcatReader {
    fn read_parts(
        &self,
        variable: &str,
        selection: &Selection,
        options: Option<&ReadOptions>,
    ) -> Result<NdArray> {
        let var = self.dataset.variable(variable)?;
        let first = self.first()?;
        let read = |reader: &dyn Reader, s: &Selection, o: Option<&ReadOptions>| match o {
            Some(o) => reader.read_with(&var.path, s, o),
            None => reader.read(&var.path, s),
        };
        let Some(axis) = self.axis(var) else {
            return read(first.reader(), selection, options);
        };
        check_selection(var, selection)?;
        let Some(along) = selection.dims.get(axis).copied() else {
            return Err(bad_selection(
                var,
                selection,
                "it misses the concatenation dimension".into(),
            )
            .into());
        };
        let spans: Vec<(u64, u64)> = self.parts.iter().map(|p| (p.offset, p.length)).collect();
        let pieces = split_slice(along, &spans);
        let sub = |local: DimSlice| {
            let mut s = selection.clone();
            if let Some(d) = s.dims.get_mut(axis) {
                *d = local;
            }
            s
        };
        if pieces.is_empty() {
            let empty = DimSlice {
                start: 0,
                stop: 0,
                step: 1,
            };
            let mut out = read(first.reader(), &sub(empty), options)?;
            out.shape = selection.shape();
            return Ok(out);
        }
        // Parts read at once share the batch budget.
        let shared = options.map(|o| ReadOptions {
            max_batch_bytes: (o.max_batch_bytes / pieces.len()).max(1),
            ..*o
        });
        let read_one = |&(i, local): &(usize, DimSlice)| -> Result<NdArray> {
            let part = self.parts.get(i).ok_or_else(|| self.no_parts())?;
            read(part.reader(), &sub(local), shared.as_ref())
        };
        let arrays: Vec<NdArray> = if pieces.len() == 1 {
            pieces.iter().map(read_one).collect::<Result<_>>()?
        } else {
            pieces.par_iter().map(read_one).collect::<Result<_>>()?
        };
        Ok(concat_arrays(arrays, axis)?)
    }
}

/// The parts a strided slice touches: for each, the part's index and the
/// slice in the part's own coordinates. `parts` holds each part's offset and
/// length, consecutive and in order. The local slices, read in order, yield
/// exactly the slice's indices.
pub fn split_slice(slice: DimSlice, parts: &[(u64, u64)]) -> Vec<(usize, DimSlice)> {
    let step = slice.step.max(1);
    let mut out = Vec::new();
    for (i, &(offset, length)) in parts.iter().enumerate() {
        let end = offset.saturating_add(length);
        let lo = slice.start.max(offset);
        let hi = slice.stop.min(end);
        if lo >= hi {
            continue;
        }
        let first = slice.start + (lo - slice.start).div_ceil(step) * step;
        if first >= hi {
            continue;
        }
        out.push((
            i,
            DimSlice {
                start: first - offset,
                stop: hi - offset,
                step,
            },
        ));
    }
    out
}

/// Join arrays along `axis`: every array must have the same rank and the same
/// extents outside `axis`, and values of the same kind (any kind, including
/// strings, opaque bytes and compounds, whose columns are joined field by
/// field). The result is in C order.
///
/// ```
/// use arco_core::{NdArray, Values};
/// use arco_formats::concat::concat_arrays;
/// let a = NdArray { shape: vec![2, 1], values: Values::I32(vec![1, 2]) };
/// let b = NdArray { shape: vec![2, 2], values: Values::I32(vec![3, 4, 5, 6]) };
/// let ab = concat_arrays(vec![a, b], 1)?;
/// assert_eq!(ab.shape, vec![2, 3]);
/// assert_eq!(ab.values, Values::I32(vec![1, 3, 4, 2, 5, 6]));
/// # Ok::<(), arco_core::Error>(())
/// ```
pub fn concat_arrays(arrays: Vec<NdArray>, axis: usize) -> arco_core::Result<NdArray> {
    let Some(first) = arrays.first() else {
        return Err(arco_core::Error::Other(
            "nothing to concatenate: no arrays".into(),
        ));
    };
    let rank = first.shape.len();
    if axis >= rank {
        return Err(arco_core::Error::Other(format!(
            "cannot concatenate arrays of shape {:?} along axis {axis}",
            first.shape
        )));
    }
    let mut shape = first.shape.clone();
    let mut along = 0u64;
    for a in &arrays {
        let same = a.shape.len() == rank
            && a.shape
                .iter()
                .zip(&first.shape)
                .enumerate()
                .all(|(d, (x, y))| d == axis || x == y);
        if !same {
            return Err(arco_core::Error::Other(format!(
                "cannot concatenate an array of shape {:?} with one of shape {:?} along axis {axis}",
                first.shape, a.shape
            )));
        }
        along += a.shape[axis];
        if a.values.len() as u64 != a.element_count() {
            return Err(arco_core::Error::Other(format!(
                "an array of shape {:?} holds {} values",
                a.shape,
                a.values.len()
            )));
        }
    }
    shape[axis] = along;
    let outer = to_usize(first.shape[..axis].iter().product())?;
    let inner: u64 = first.shape[axis + 1..].iter().product();
    let blocks: Vec<usize> = arrays
        .iter()
        .map(|a| to_usize(a.shape[axis] * inner))
        .collect::<arco_core::Result<_>>()?;
    let values = concat_values(
        arrays.into_iter().map(|a| a.values).collect(),
        &blocks,
        outer,
    )?;
    Ok(NdArray { shape, values })
}

/// Interleave `values[k]`, seen as `outer` blocks of `blocks[k]` elements each:
/// block 0 of every input, then block 1 of every input, and so on.
fn concat_values(values: Vec<Values>, blocks: &[usize], outer: usize) -> arco_core::Result<Values> {
    let kind = values.first().map_or("nothing", Values::type_name);
    let mismatch = |other: &Values| {
        arco_core::Error::Type(format!(
            "cannot concatenate {kind} values with {} values",
            other.type_name()
        ))
    };
    macro_rules! join {
        ($($variant:ident),*) => {
            match values.first() {
                $(Some(Values::$variant(_)) => {
                    let mut vecs = Vec::with_capacity(values.len());
                    for v in values {
                        match v {
                            Values::$variant(x) => vecs.push(x),
                            other => return Err(mismatch(&other)),
                        }
                    }
                    return Ok(Values::$variant(interleave(vecs, blocks, outer)));
                })*
                _ => {}
            }
        };
    }
    join!(Bool, I8, I16, I32, I64, U8, U16, U32, U64, F32, F64, Str);
    match values.first() {
        Some(Values::Opaque { size, .. }) => {
            let size = *size;
            let mut vecs = Vec::with_capacity(values.len());
            for v in values {
                match v {
                    Values::Opaque { size: s, bytes } if s == size => vecs.push(bytes),
                    other => return Err(mismatch(&other)),
                }
            }
            let blocks: Vec<usize> = blocks.iter().map(|b| b * size).collect();
            Ok(Values::Opaque {
                size,
                bytes: interleave(vecs, &blocks, outer),
            })
        }
        Some(Values::Compound(cols)) => {
            let names: Vec<String> = cols.iter().map(|(n, _)| n.clone()).collect();
            let mut columns: Vec<Vec<Values>> = names.iter().map(|_| Vec::new()).collect();
            for v in values {
                match v {
                    Values::Compound(cols)
                        if cols.len() == names.len()
                            && cols.iter().zip(&names).all(|((a, _), b)| a == b) =>
                    {
                        for (column, (_, c)) in columns.iter_mut().zip(cols) {
                            column.push(c);
                        }
                    }
                    other => {
                        return Err(arco_core::Error::Type(format!(
                            "cannot concatenate compound values with fields {} and {}",
                            names.join(", "),
                            match &other {
                                Values::Compound(c) => c
                                    .iter()
                                    .map(|(n, _)| n.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", "),
                                o => o.type_name().to_string(),
                            }
                        )))
                    }
                }
            }
            let joined = names
                .into_iter()
                .zip(columns)
                .map(|(n, c)| Ok((n, concat_values(c, blocks, outer)?)))
                .collect::<arco_core::Result<_>>()?;
            Ok(Values::Compound(joined))
        }
        Some(other) => Err(arco_core::Error::Type(format!(
            "cannot concatenate {} values",
            other.type_name()
        ))),
        None => Err(arco_core::Error::Other(
            "nothing to concatenate: no arrays".into(),
        )),
    }
}

/// See [`concat_values`]. Lengths were checked by the caller.
fn interleave<T: Clone>(vecs: Vec<Vec<T>>, blocks: &[usize], outer: usize) -> Vec<T> {
    let total = vecs.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(total);
    if outer == 1 {
        for v in vecs {
            out.extend(v);
        }
        return out;
    }
    for o in 0..outer {
        for (v, &b) in vecs.iter().zip(blocks) {
            if let Some(block) = v.get(o * b..(o + 1) * b) {
                out.extend_from_slice(block);
            }
        }
    }
    out
}

fn to_usize(n: u64) -> arco_core::Result<usize> {
    usize::try_from(n)
        .map_err(|_| arco_core::Error::Other(format!("{n} elements do not fit in memory")))
}

// ----- checks -------------------------------------------------------------

/// The unlimited dimension shared by every source, else `time`.
fn default_dim(readers: &[(String, Box<dyn Reader>)]) -> String {
    let mut common: Option<String> = None;
    for (_, r) in readers {
        let mut names = BTreeSet::new();
        collect_unlimited(&r.dataset().root, &mut names);
        let mut it = names.into_iter();
        match (it.next(), it.next()) {
            (Some(name), None) if common.as_ref().is_none_or(|c| *c == name) => {
                common = Some(name);
            }
            _ => return "time".into(),
        }
    }
    common.unwrap_or_else(|| "time".into())
}

fn collect_unlimited(g: &Group, out: &mut BTreeSet<String>) {
    for d in &g.dimensions {
        if d.unlimited {
            out.insert(d.name.clone());
        }
    }
    for c in &g.groups {
        collect_unlimited(c, out);
    }
}

fn collect_dim_names<'a>(g: &'a Group, out: &mut Vec<&'a str>) {
    for d in &g.dimensions {
        if !out.contains(&d.name.as_str()) {
            out.push(&d.name);
        }
    }
    for c in &g.groups {
        collect_dim_names(c, out);
    }
}

/// The first dimension named `name`, depth first from `g`.
fn find_dimension<'a>(g: &'a Group, name: &str) -> Option<&'a arco_core::Dimension> {
    g.dimensions
        .iter()
        .find(|d| d.name == name)
        .or_else(|| g.groups.iter().find_map(|c| find_dimension(c, name)))
}

fn positions(dims: &[String], dim: &str) -> Vec<usize> {
    dims.iter()
        .enumerate()
        .filter(|(_, d)| *d == dim)
        .map(|(i, _)| i)
        .collect()
}

/// Set every dimension named `dim` to `size` and grow the variables using it.
fn grow(g: &mut Group, dim: &str, size: u64) {
    for d in &mut g.dimensions {
        if d.name == dim {
            d.size = size;
        }
    }
    for v in &mut g.variables {
        if let Some(axis) = v.dims.iter().position(|d| d == dim) {
            if let Some(n) = v.shape.get_mut(axis) {
                *n = size;
            }
        }
    }
    for c in &mut g.groups {
        grow(c, dim, size);
    }
}

fn all_groups<'a>(g: &'a Group, out: &mut BTreeMap<&'a str, &'a Group>) {
    out.insert(&g.path, g);
    for c in &g.groups {
        all_groups(c, out);
    }
}

/// Compare the tree of `b` with that of `a`, the first source.
fn check_tree(
    dim: &str,
    (a_loc, a): (&str, &Dataset),
    (b_loc, b): (&str, &Dataset),
) -> std::result::Result<(), ConcatError> {
    let fail = |message: String| ConcatError {
        dim: dim.to_string(),
        files: vec![a_loc.to_string(), b_loc.to_string()],
        message,
    };
    let (mut ga, mut gb) = (BTreeMap::new(), BTreeMap::new());
    all_groups(&a.root, &mut ga);
    all_groups(&b.root, &mut gb);
    if let Some(path) = ga.keys().find(|p| !gb.contains_key(*p)) {
        return Err(fail(format!(
            "group {path} is in {a_loc} but not in {b_loc}"
        )));
    }
    if let Some(path) = gb.keys().find(|p| !ga.contains_key(*p)) {
        return Err(fail(format!(
            "group {path} is in {b_loc} but not in {a_loc}"
        )));
    }
    for (path, g) in &ga {
        let Some(h) = gb.get(path) else { continue };
        for d in &g.dimensions {
            match h.dimensions.iter().find(|e| e.name == d.name) {
                None => {
                    return Err(fail(format!(
                        "dimension {} (group {path}) is in {a_loc} but not in {b_loc}",
                        d.name
                    )))
                }
                Some(e) if d.name != dim && e.size != d.size => {
                    return Err(fail(format!(
                        "dimension {} has size {} in {a_loc} and {} in {b_loc}",
                        d.name, d.size, e.size
                    )))
                }
                Some(_) => {}
            }
        }
        if let Some(e) = h
            .dimensions
            .iter()
            .find(|e| !g.dimensions.iter().any(|d| d.name == e.name))
        {
            return Err(fail(format!(
                "dimension {} (group {path}) is in {b_loc} but not in {a_loc}",
                e.name
            )));
        }
        for v in &g.variables {
            let Some(w) = h.variables.iter().find(|w| w.name == v.name) else {
                return Err(fail(format!(
                    "variable {} is in {a_loc} but not in {b_loc}",
                    v.path
                )));
            };
            check_variable(dim, v, w, a_loc, b_loc).map_err(fail)?;
        }
        if let Some(w) = h
            .variables
            .iter()
            .find(|w| !g.variables.iter().any(|v| v.name == w.name))
        {
            return Err(fail(format!(
                "variable {} is in {b_loc} but not in {a_loc}",
                w.path
            )));
        }
    }
    Ok(())
}

/// The first difference in metadata between the same variable in two files.
fn check_variable(
    dim: &str,
    v: &Variable,
    w: &Variable,
    a: &str,
    b: &str,
) -> std::result::Result<(), String> {
    let path = &v.path;
    if v.dims != w.dims {
        return Err(format!(
            "variable {path} has dimensions ({}) in {a} and ({}) in {b}",
            v.dims.join(", "),
            w.dims.join(", ")
        ));
    }
    if v.dtype != w.dtype {
        return Err(format!(
            "variable {path} has dtype {} in {a} and {} in {b}",
            v.dtype, w.dtype
        ));
    }
    let outside = |s: &[u64]| -> Vec<String> {
        s.iter()
            .zip(&v.dims)
            .map(|(n, d)| {
                if d == dim {
                    format!("{d}=*")
                } else {
                    format!("{d}={n}")
                }
            })
            .collect()
    };
    if outside(&v.shape) != outside(&w.shape) || v.shape.len() != w.shape.len() {
        return Err(format!(
            "variable {path} has shape {:?} in {a} and {:?} in {b} (only '{dim}' may differ)",
            v.shape, w.shape
        ));
    }
    let chunked = v.layout == StorageLayout::Chunked || w.layout == StorageLayout::Chunked;
    if chunked && v.chunk_shape != w.chunk_shape {
        let show = |c: &Option<Vec<u64>>| match c {
            Some(c) => format!("{c:?}"),
            None => "no chunks".to_string(),
        };
        return Err(format!(
            "variable {path} has chunk shape {} in {a} and {} in {b}",
            show(&v.chunk_shape),
            show(&w.chunk_shape)
        ));
    }
    if v.codecs != w.codecs {
        return Err(format!(
            "variable {path} has codecs [{}] in {a} and [{}] in {b}",
            labels(&v.codecs),
            labels(&w.codecs)
        ));
    }
    for name in ENCODING_ATTRIBUTES {
        let x = v.attributes.iter().find(|t| t.name == name);
        let y = w.attributes.iter().find(|t| t.name == name);
        let same = match (x, y) {
            (None, None) => true,
            (Some(x), Some(y)) => x.dtype == y.dtype && attr_equal(&x.value, &y.value),
            _ => false,
        };
        if !same {
            let show = |t: Option<&arco_core::Attribute>| match t {
                None => "none".to_string(),
                Some(t) => match &t.value {
                    AttrValue::Text(s) => format!("'{s}'"),
                    AttrValue::Array(vals) => format!("{} ({})", show_values(vals), t.dtype),
                },
            };
            let hint = if name == "units" {
                "; re-encode the files to the same units before concatenating"
            } else {
                ""
            };
            return Err(format!(
                "attribute {name} of variable {path} is {} in {a} and {} in {b}{hint}",
                show(x),
                show(y)
            ));
        }
    }
    Ok(())
}

fn labels(codecs: &[arco_core::CodecSpec]) -> String {
    codecs
        .iter()
        .map(|c| c.label())
        .collect::<Vec<_>>()
        .join(", ")
}

fn attr_equal(a: &AttrValue, b: &AttrValue) -> bool {
    match (a, b) {
        (AttrValue::Text(x), AttrValue::Text(y)) => x == y,
        (AttrValue::Array(x), AttrValue::Array(y)) => first_difference(x, y).is_none(),
        _ => false,
    }
}

/// Where two value vectors first differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Difference {
    /// Different kinds or lengths.
    Kind,
    /// Element `i` differs.
    At(usize),
}

/// The first difference between `a` and `b`, NaN equal to NaN; `None` when equal.
fn first_difference(a: &Values, b: &Values) -> Option<Difference> {
    if a.len() != b.len() {
        return Some(Difference::Kind);
    }
    macro_rules! exact {
        ($($variant:ident),*) => {
            match (a, b) {
                $((Values::$variant(x), Values::$variant(y)) => {
                    return x.iter().zip(y).position(|(p, q)| p != q).map(Difference::At);
                })*
                _ => {}
            }
        };
    }
    exact!(Bool, I8, I16, I32, I64, U8, U16, U32, U64, Str);
    match (a, b) {
        (Values::F32(x), Values::F32(y)) => x
            .iter()
            .zip(y)
            .position(|(p, q)| p != q && !(p.is_nan() && q.is_nan()))
            .map(Difference::At),
        (Values::F64(x), Values::F64(y)) => x
            .iter()
            .zip(y)
            .position(|(p, q)| p != q && !(p.is_nan() && q.is_nan()))
            .map(Difference::At),
        (Values::Opaque { size: s, bytes: x }, Values::Opaque { size: t, bytes: y }) => {
            if s != t {
                return Some(Difference::Kind);
            }
            x.chunks((*s).max(1))
                .zip(y.chunks((*t).max(1)))
                .position(|(p, q)| p != q)
                .map(Difference::At)
        }
        (Values::Compound(x), Values::Compound(y)) => {
            if x.len() != y.len() || x.iter().zip(y).any(|((m, _), (n, _))| m != n) {
                return Some(Difference::Kind);
            }
            let mut first: Option<usize> = None;
            for ((_, p), (_, q)) in x.iter().zip(y) {
                match first_difference(p, q) {
                    None => {}
                    Some(Difference::Kind) => return Some(Difference::Kind),
                    Some(Difference::At(i)) => first = Some(first.map_or(i, |f| f.min(i))),
                }
            }
            first.map(Difference::At)
        }
        _ if a == b => None,
        _ => Some(Difference::Kind),
    }
}

/// Element `i` for messages.
fn show_element(v: &Values, i: usize) -> String {
    macro_rules! show {
        ($($variant:ident),*) => {
            match v {
                $(Values::$variant(x) => {
                    return x.get(i).map_or_else(|| "?".to_string(), |e| e.to_string());
                })*
                _ => {}
            }
        };
    }
    show!(Bool, I8, I16, I32, I64, U8, U16, U32, U64, F32, F64);
    match v {
        Values::Str(x) => x
            .get(i)
            .map_or_else(|| "?".to_string(), |s| format!("'{s}'")),
        Values::Opaque { size, bytes } => bytes.chunks((*size).max(1)).nth(i).map_or_else(
            || "?".into(),
            |c| c.iter().map(|b| format!("{b:02x}")).collect(),
        ),
        Values::Compound(cols) => format!(
            "{{{}}}",
            cols.iter()
                .map(|(n, c)| format!("{n}: {}", show_element(c, i)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => "?".into(),
    }
}

/// A short rendering of a whole (attribute) vector.
fn show_values(v: &Values) -> String {
    let n = v.len();
    let shown: Vec<String> = (0..n.min(8)).map(|i| show_element(v, i)).collect();
    match n {
        1 => shown.join(""),
        _ if n > 8 => format!("[{}, …]", shown.join(", ")),
        _ => format!("[{}]", shown.join(", ")),
    }
}

/// One value of the concatenation coordinate, decoded.
#[derive(Debug, Clone, Copy)]
struct CoordValue {
    /// Unpacked number (NaN when masked).
    number: f64,
    /// The instant, when the coordinate has decodable time units.
    time: Option<CalDateTime>,
}

impl CoordValue {
    fn cmp(&self, other: &CoordValue) -> Option<Ordering> {
        match (self.time, other.time) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => self.number.partial_cmp(&other.number),
        }
    }

    fn missing(&self) -> bool {
        self.number.is_nan() && self.time.is_none()
    }
}

impl fmt::Display for CoordValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.time {
            Some(t) => write!(f, "{t}"),
            None => write!(f, "{}", self.number),
        }
    }
}

/// Decode a coordinate's stored values: unpacked numbers, and instants when
/// the units are time units that decode. `None` when not numeric.
fn decode_coordinate(var: &Variable, values: &Values) -> Result<Option<Vec<CoordValue>>> {
    let numbers = cf::CfDecoder::new(var)?.decode(values)?.to_f64_vec();
    let Some(numbers) = numbers else {
        return Ok(None);
    };
    let times = match cf::decode_variable(var, values) {
        Ok(Decoded::Time(t, _)) if t.len() == numbers.len() => Some(t),
        _ => None,
    };
    Ok(Some(
        numbers
            .iter()
            .enumerate()
            .map(|(i, &number)| CoordValue {
                number,
                time: times.as_ref().and_then(|t| t.get(i).copied().flatten()),
            })
            .collect(),
    ))
}

/// The concatenation coordinate must increase strictly within and across sources.
fn check_coordinate_order(dim: &str, readers: &[(String, Box<dyn Reader>)]) -> Result<()> {
    let Some((_, first)) = readers.first() else {
        return Ok(());
    };
    let coords: Vec<String> = first
        .dataset()
        .root
        .all_variables()
        .into_iter()
        .filter(|v| v.name == dim && v.is_coordinate())
        .map(|v| v.path.clone())
        .collect();
    'paths: for path in coords {
        let decoded: Vec<Option<Vec<CoordValue>>> = readers
            .par_iter()
            .map(|(loc, r)| {
                let var = r.dataset().variable(&path)?;
                let values = r.read(&var.path, &Selection::all(&var.shape))?;
                decode_coordinate(var, &values.values).map_err(|e| {
                    ConcatError {
                        dim: dim.to_string(),
                        files: vec![loc.clone()],
                        message: format!("cannot decode coordinate {path} of {loc}: {e}"),
                    }
                    .into()
                })
            })
            .collect::<Result<_>>()?;
        let fail = |files: Vec<&str>, message: String| -> crate::Error {
            ConcatError {
                dim: dim.to_string(),
                files: files.into_iter().map(str::to_string).collect(),
                message,
            }
            .into()
        };
        let mut spans: Vec<(&str, CoordValue, CoordValue)> = Vec::new();
        for ((loc, _), values) in readers.iter().zip(&decoded) {
            let Some(values) = values else {
                // Not numeric: order cannot be checked.
                continue 'paths;
            };
            if let Some(i) = values.iter().position(CoordValue::missing) {
                return Err(fail(
                    vec![loc],
                    format!("coordinate {path} of {loc} has a missing value at index {i}"),
                ));
            }
            for (i, pair) in values.windows(2).enumerate() {
                if let [p, q] = pair {
                    if p.cmp(q) != Some(Ordering::Less) {
                        return Err(fail(
                            vec![loc],
                            format!(
                                "coordinate {path} of {loc} is not strictly increasing: element {} ({q}) does not come after element {i} ({p})",
                                i + 1
                            ),
                        ));
                    }
                }
            }
            if let (Some(lo), Some(hi)) = (values.first(), values.last()) {
                spans.push((loc, *lo, *hi));
            }
        }
        for pair in spans.windows(2) {
            let [(a, a_lo, a_hi), (b, b_lo, b_hi)] = pair else {
                continue;
            };
            if b_lo.cmp(a_hi) == Some(Ordering::Greater) {
                continue;
            }
            if b_hi.cmp(a_lo) == Some(Ordering::Less) {
                let mut sorted = spans.clone();
                sorted.sort_by(|x, y| x.1.cmp(&y.1).unwrap_or(Ordering::Equal));
                let order: Vec<&str> = sorted.iter().map(|s| s.0).collect();
                return Err(fail(
                    vec![a, b],
                    format!(
                        "files are not in order of {dim}: {b} ({b_lo}…{b_hi}) comes before {a} ({a_lo}…{a_hi}); pass them sorted ({}) or use a glob that sorts them",
                        order.join(", ")
                    ),
                ));
            }
            return Err(fail(
                vec![a, b],
                format!(
                    "{dim} ranges overlap: {b} ({b_lo}…{b_hi}) starts at or before the end of {a} ({a_lo}…{a_hi}); remove the repeated steps or leave out one of the files"
                ),
            ));
        }
    }
    Ok(())
}

/// Variables without the dimension must hold the same values in every source.
fn check_values(dim: &str, readers: &[(String, Box<dyn Reader>)]) -> Result<()> {
    let Some((first_loc, first)) = readers.first() else {
        return Ok(());
    };
    if readers.len() < 2 {
        return Ok(());
    }
    let ds = first.dataset();
    let all = ds.root.all_variables();
    let named: BTreeSet<String> = all.iter().flat_map(|v| cf::coordinates(v)).collect();
    for var in all {
        if var.dims.iter().any(|d| d == dim) {
            continue;
        }
        let is_coord = var.is_coordinate() || named.contains(&var.name);
        let small = match var.uncompressed_bytes() {
            Some(n) => n < COMPARE_VALUES_BELOW,
            None => var.element_count() < COMPARE_VALUES_BELOW / 64,
        };
        if !is_coord && !small {
            continue;
        }
        let all_sel = Selection::all(&var.shape);
        let reference = first.read(&var.path, &all_sel)?;
        readers
            .par_iter()
            .skip(1)
            .try_for_each(|(loc, r)| -> Result<()> {
                let other = r.read(&var.path, &all_sel)?;
                let message = match first_difference(&reference.values, &other.values) {
                    None => return Ok(()),
                    Some(Difference::Kind) => format!(
                        "variable {} holds {} {} values in {first_loc} and {} {} values in {loc}",
                        var.path,
                        reference.values.len(),
                        reference.values.type_name(),
                        other.values.len(),
                        other.values.type_name()
                    ),
                    Some(Difference::At(i)) => format!(
                        "variable {} differs between {first_loc} and {loc}: element {} is {} in {first_loc} and {} in {loc}; variables without '{dim}' must be identical in every file",
                        var.path,
                        index_text(&var.shape, i),
                        show_element(&reference.values, i),
                        show_element(&other.values, i)
                    ),
                };
                Err(ConcatError {
                    dim: dim.to_string(),
                    files: vec![first_loc.clone(), loc.clone()],
                    message,
                }
                .into())
            })?;
    }
    Ok(())
}

/// `[i, j, k]` of flat index `flat` in an array of `shape`.
fn index_text(shape: &[u64], flat: usize) -> String {
    let mut rest = flat as u64;
    let mut idx = vec![0u64; shape.len()];
    for (d, &n) in shape.iter().enumerate().rev() {
        if n > 0 {
            idx[d] = rest % n;
            rest /= n;
        }
    }
    format!("{idx:?}")
}

fn bad_selection(var: &Variable, selection: &Selection, reason: String) -> arco_core::Error {
    arco_core::Error::BadSelection {
        variable: var.path.clone(),
        selection: format!(
            "[{}]",
            selection
                .dims
                .iter()
                .map(|d| format!("{}:{}:{}", d.start, d.stop, d.step))
                .collect::<Vec<_>>()
                .join(",")
        ),
        shape: var.shape.clone(),
        reason,
    }
}

/// The selection must fit the combined shape.
fn check_selection(var: &Variable, selection: &Selection) -> arco_core::Result<()> {
    if selection.dims.len() != var.shape.len() {
        return Err(bad_selection(
            var,
            selection,
            format!(
                "it has {} dimensions, the variable has {}",
                selection.dims.len(),
                var.shape.len()
            ),
        ));
    }
    for ((d, &len), name) in selection.dims.iter().zip(&var.shape).zip(&var.dims) {
        if d.step == 0 {
            return Err(bad_selection(
                var,
                selection,
                format!("the step along {name} is 0"),
            ));
        }
        if d.start < d.stop && d.stop > len {
            return Err(bad_selection(
                var,
                selection,
                format!("it ends at {} along {name}, past its length {len}", d.stop),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arr(shape: &[u64], values: Values) -> NdArray {
        NdArray {
            shape: shape.to_vec(),
            values,
        }
    }

    #[test]
    fn arrays_join_along_an_inner_axis_in_c_order() {
        let a = arr(&[2, 1, 2], Values::I16(vec![1, 2, 3, 4]));
        let b = arr(&[2, 2, 2], Values::I16(vec![5, 6, 7, 8, 9, 10, 11, 12]));
        let j = concat_arrays(vec![a, b], 1).unwrap();
        assert_eq!(j.shape, vec![2, 3, 2]);
        assert_eq!(
            j.values,
            Values::I16(vec![1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12])
        );
    }

    #[test]
    fn strings_opaque_and_compounds_join_field_by_field() {
        let s = concat_arrays(
            vec![
                arr(&[1, 2], Values::Str(vec!["a".into(), "b".into()])),
                arr(&[1, 1], Values::Str(vec!["c".into()])),
            ],
            1,
        )
        .unwrap();
        assert_eq!(
            s.values,
            Values::Str(vec!["a".into(), "b".into(), "c".into()])
        );
        let o = concat_arrays(
            vec![
                arr(
                    &[2, 1],
                    Values::Opaque {
                        size: 2,
                        bytes: vec![1, 1, 2, 2],
                    },
                ),
                arr(
                    &[2, 1],
                    Values::Opaque {
                        size: 2,
                        bytes: vec![3, 3, 4, 4],
                    },
                ),
            ],
            1,
        )
        .unwrap();
        assert_eq!(
            o.values,
            Values::Opaque {
                size: 2,
                bytes: vec![1, 1, 3, 3, 2, 2, 4, 4]
            }
        );
        let rec = |t: Vec<f64>, n: Vec<String>| {
            Values::Compound(vec![
                ("t".into(), Values::F64(t)),
                ("name".into(), Values::Str(n)),
            ])
        };
        let c = concat_arrays(
            vec![
                arr(&[1], rec(vec![1.0], vec!["x".into()])),
                arr(&[2], rec(vec![2.0, 3.0], vec!["y".into(), "z".into()])),
            ],
            0,
        )
        .unwrap();
        assert_eq!(c.shape, vec![3]);
        assert_eq!(
            c.values,
            rec(
                vec![1.0, 2.0, 3.0],
                vec!["x".into(), "y".into(), "z".into()]
            )
        );
    }

    #[test]
    fn arrays_of_different_kinds_or_shapes_are_not_joined() {
        let e = concat_arrays(
            vec![
                arr(&[1], Values::I16(vec![1])),
                arr(&[1], Values::F32(vec![1.0])),
            ],
            0,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("int16") && e.contains("float32"), "{e}");
        let e = concat_arrays(
            vec![
                arr(&[1, 2], Values::I16(vec![1, 2])),
                arr(&[1, 3], Values::I16(vec![1, 2, 3])),
            ],
            0,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("[1, 2]") && e.contains("[1, 3]"), "{e}");
        let rec = |names: [&str; 2]| {
            Values::Compound(vec![
                (names[0].into(), Values::I8(vec![1])),
                (names[1].into(), Values::I8(vec![2])),
            ])
        };
        let e = concat_arrays(
            vec![arr(&[1], rec(["a", "b"])), arr(&[1], rec(["a", "c"]))],
            0,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("a, b") && e.contains("a, c"), "{e}");
    }

    #[test]
    fn nan_equals_nan_when_comparing_values() {
        let a = Values::F32(vec![1.0, f32::NAN]);
        assert_eq!(first_difference(&a, &a.clone()), None);
        let b = Values::F32(vec![1.0, 2.0]);
        assert_eq!(first_difference(&a, &b), Some(Difference::At(1)));
        assert_eq!(
            first_difference(&a, &Values::F64(vec![1.0, f64::NAN])),
            Some(Difference::Kind)
        );
        assert_eq!(index_text(&[2, 3], 4), "[1, 1]");
    }

    proptest! {
        #[test]
        fn split_slices_yield_exactly_the_selected_indices(
            lengths in prop::collection::vec(0u64..6, 1..5),
            a in 0u64..25,
            b in 0u64..25,
            step in 1u64..5,
        ) {
            let total: u64 = lengths.iter().sum();
            let mut parts = Vec::new();
            let mut at = 0;
            for l in &lengths {
                parts.push((at, *l));
                at += l;
            }
            let slice = DimSlice { start: a.min(b).min(total), stop: a.max(b).min(total), step };
            let want: Vec<u64> = slice.indices().collect();
            let mut got: Vec<u64> = Vec::new();
            for (i, local) in split_slice(slice, &parts) {
                let (off, len) = parts[i];
                prop_assert!(local.stop <= len);
                prop_assert!(!local.is_empty());
                got.extend(local.indices().map(|x| x + off));
            }
            prop_assert_eq!(got, want);
        }
    }
}
