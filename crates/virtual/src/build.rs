//! From a reader to a reference set, variable by variable (in parallel).

use crate::codecs::{encode_chain, map_chain_in, v2_codecs, ChunkLayout, Numcodec};
use crate::meta::{array_attributes, group_attributes, v2_dtype, v2_fill_value, zarray};
use crate::refs::{ArrayRefs, Reference, References, SourceUrl};
use crate::{Error, Input, Options, Result, Source, Summary};
use arco_core::{
    ChunkManifest, ChunkRef, CodecSpec, DType, Endian, Group, Selection, Values, Variable,
};
use rayon::prelude::*;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Build the references of `input`, whose files are `sources` (in the
/// order of the concatenation for [`Input::Concat`]).
///
/// Every variable of every group becomes a Zarr v2 array; see the crate
/// documentation for what is inlined and what is refused.
pub fn build(
    input: Input<'_>,
    sources: &[Source],
    options: &Options,
) -> Result<(References, Summary)> {
    let dataset = input.dataset();
    let urls: Vec<SourceUrl> = sources
        .iter()
        .map(|s| {
            Ok(SourceUrl {
                location: s.location.clone(),
                url: reference_url(&s.location)?,
            })
        })
        .collect::<Result<_>>()?;
    let ctx = Ctx {
        input,
        sources,
        by_location: sources
            .iter()
            .enumerate()
            .map(|(i, s)| (s.location.as_str(), i))
            .collect(),
        options,
    };

    let all = dataset.root.all_variables();
    let drops = |v: &Variable, d: &str| {
        d == v.path || d == v.name || format!("/{}", d.trim_start_matches('/')) == v.path
    };
    if let Some(d) = options
        .drop
        .iter()
        .find(|d| !all.iter().any(|v| drops(v, d)))
    {
        return Err(Error::Variable {
            location: dataset.source.clone(),
            variable: d.clone(),
            message: "--drop names no variable of the source".into(),
        });
    }
    let (dropped, wanted): (Vec<&Variable>, Vec<&Variable>) = all
        .into_iter()
        .partition(|v| options.drop.iter().any(|d| drops(v, d)));
    let dropped: Vec<String> = dropped.into_iter().map(|v| v.path.clone()).collect();

    let outs: Vec<VarOut> = wanted
        .par_iter()
        .map(|v| ctx.variable(v))
        .collect::<Result<_>>()?;
    let mut by_path: HashMap<&str, VarOut> =
        wanted.iter().map(|v| v.path.as_str()).zip(outs).collect();

    let mut refs = References {
        metadata: Vec::new(),
        arrays: Vec::new(),
        sources: urls,
    };
    let mut summary = Summary {
        dropped,
        ..Summary::default()
    };
    let mut root_attrs = group_attributes(&dataset.root.attributes);
    root_attrs.insert(
        "arco:sources".into(),
        sources_record(sources, &refs.sources),
    );
    root_attrs.insert("arco:provenance".into(), provenance(&ctx));
    walk(
        &dataset.root,
        Some(root_attrs),
        &mut by_path,
        &mut refs,
        &mut summary,
    );
    summary.variables = refs.arrays.len();
    summary.references = refs.reference_count();
    Ok((refs, summary))
}

/// Groups first, then their arrays, then child groups.
fn walk(
    g: &Group,
    attrs: Option<Map<String, Value>>,
    outs: &mut HashMap<&str, VarOut>,
    refs: &mut References,
    summary: &mut Summary,
) {
    let prefix = zarr_prefix(&g.path);
    refs.metadata
        .push((format!("{prefix}.zgroup"), json!({"zarr_format": 2})));
    refs.metadata.push((
        format!("{prefix}.zattrs"),
        Value::Object(attrs.unwrap_or_else(|| group_attributes(&g.attributes))),
    ));
    for v in &g.variables {
        let Some(out) = outs.remove(v.path.as_str()) else {
            continue;
        };
        refs.metadata
            .push((format!("{}/.zarray", out.array.path), out.zarray));
        refs.metadata.push((
            format!("{}/.zattrs", out.array.path),
            Value::Object(out.zattrs),
        ));
        for (_, r) in &out.array.chunks {
            match r {
                Reference::Range { length, .. } => {
                    summary.ranges += 1;
                    summary.referenced_bytes += length;
                }
                Reference::Inline(b) => {
                    summary.inlined += 1;
                    summary.inlined_bytes += b.len() as u64;
                }
            }
        }
        if let Some(why) = out.decoded {
            summary.decoded.push(format!("{}: {why}", v.path));
        }
        refs.arrays.push(out.array);
    }
    for child in &g.groups {
        walk(child, None, outs, refs, summary);
    }
}

/// `""` for the root, `grp/sub/` for a group.
fn zarr_prefix(group_path: &str) -> String {
    let p = group_path.trim_matches('/');
    if p.is_empty() {
        String::new()
    } else {
        format!("{p}/")
    }
}

/// The URL written for a source: an absolute local path (what fsspec's
/// local file system and kerchunk use), or the remote URL as given.
fn reference_url(location: &str) -> Result<String> {
    match arco_storage::Location::parse(location)? {
        arco_storage::Location::Local(path) => {
            let abs = std::fs::canonicalize(&path)
                .or_else(|_| std::env::current_dir().map(|d| d.join(&path)));
            let abs = abs.map_err(|e| Error::Output {
                path: location.to_string(),
                message: format!("cannot make the path absolute: {e}"),
            })?;
            abs.to_str().map(str::to_string).ok_or_else(|| Error::Output {
                path: location.to_string(),
                message: "the path is not valid UTF-8, which kerchunk references cannot hold; rename the file".into(),
            })
        }
        _ => Ok(location.to_string()),
    }
}

/// `arco:sources`: what each source was when the references were made.
fn sources_record(sources: &[Source], urls: &[SourceUrl]) -> Value {
    Value::Array(
        sources
            .iter()
            .zip(urls)
            .map(|(s, u)| {
                let stamp = arco_engine::SourceStamp::of_source(&s.location, s.bytes.as_ref());
                let mut m = Map::new();
                m.insert("location".into(), json!(s.location));
                m.insert("url".into(), json!(u.url));
                m.insert("size".into(), json!(stamp.size));
                if let Some(t) = stamp.modified {
                    m.insert("mtime".into(), json!(t));
                    m.insert(
                        "modified".into(),
                        json!(arco_engine::provenance::iso_from_unix(t)),
                    );
                }
                if arco_storage::Location::parse(&s.location).is_ok_and(|l| l.is_remote()) {
                    m.insert("etag".into(), json!(stamp.etag));
                }
                Value::Object(m)
            })
            .collect(),
    )
}

fn provenance(ctx: &Ctx<'_>) -> Value {
    json!({
        "arco_version": env!("CARGO_PKG_VERSION"),
        "created": arco_engine::provenance::now_iso(),
        "command": ctx.options.command,
        "operation": "virtualize",
        "options": {
            "inline_threshold": ctx.options.inline_threshold,
            "max_decoded_inline": ctx.options.max_decoded_inline,
            "concat_dim": ctx.input.concat_dim(),
            "drop": ctx.options.drop,
        },
    })
}

/// What one variable becomes.
struct VarOut {
    zarray: Value,
    zattrs: Map<String, Value>,
    array: ArrayRefs,
    /// Why decoded chunks were inlined, if they were.
    decoded: Option<String>,
}

struct Ctx<'a> {
    input: Input<'a>,
    sources: &'a [Source],
    by_location: HashMap<&'a str, usize>,
    options: &'a Options,
}

/// One file's manifest of a variable and where its chunks go in the grid.
struct Piece {
    source: usize,
    /// Added to each chunk's index along the concatenation axis.
    shift: u64,
    manifest: ChunkManifest,
}

/// A stored chunk to place: which source, its flat number in the grid.
struct Stored<'m> {
    source: usize,
    flat: u64,
    chunk: &'m ChunkRef,
}

impl Ctx<'_> {
    fn location(&self) -> String {
        self.input.dataset().source.clone()
    }

    fn fail(&self, var: &Variable, message: String) -> Error {
        Error::Variable {
            location: self.location(),
            variable: var.path.clone(),
            message,
        }
    }

    fn variable(&self, var: &Variable) -> Result<VarOut> {
        let path = var.path.trim_start_matches('/').to_string();
        let fill_attr = var.attr("_FillValue");
        match &var.dtype {
            DType::String => return self.vlen_strings(var, path, fill_attr),
            DType::VarLen { .. } => {
                return Err(self.fail(
                    var,
                    format!(
                        "its type {} (a variable-length sequence of numbers) has no Zarr v2 representation; leave it out with --drop {}",
                        var.dtype, var.path
                    ),
                ))
            }
            _ => {}
        }
        let pieces = match self.pieces(var) {
            Ok(p) => p,
            Err(why) => return self.whole_array(var, path, fill_attr, &why),
        };
        let Some(first) = pieces.first() else {
            return Err(self.fail(var, "no source holds it".into()));
        };
        let m = &first.manifest;
        let dtype = v2_dtype(&m.dtype, m.endian).map_err(|why| {
            self.fail(var, format!("{why}; leave it out with --drop {}", var.path))
        })?;
        let chunk_shape: Vec<u64> = m.grid.chunk_shape.iter().map(|c| (*c).max(1)).collect();
        let grid: Vec<u64> = var
            .shape
            .iter()
            .zip(&chunk_shape)
            .map(|(s, c)| s.div_ceil(*c))
            .collect();
        let elem = m.dtype.size().unwrap_or(1);
        let chunk_elems: u64 = chunk_shape.iter().product();
        let chunk_bytes = chunk_elems.saturating_mul(elem as u64);
        let total_chunks: u64 = grid.iter().product();
        let tiff = self.input.dataset().format.contains("tiff");
        // Strips: chunks as wide as the image whose height does not divide it.
        let strips = chunk_shape.len() >= 2 && {
            let n = chunk_shape.len();
            chunk_shape[n - 1] == var.shape[n - 1]
                && !var.shape[n - 2].is_multiple_of(chunk_shape[n - 2])
        };

        // Whole arrays smaller than the threshold become one inlined chunk.
        let raw_bytes = var.uncompressed_bytes().unwrap_or(u64::MAX);
        if total_chunks > 1
            && raw_bytes < self.options.inline_threshold
            && whole_array_type(&var.dtype)
        {
            return self.whole_array(var, path, fill_attr, "");
        }

        let fill_value = fill_attr.and_then(|f| v2_fill_value(f, &m.dtype));
        let fill_moved = fill_value.is_some();
        let axis = self.axis(var);
        let mut stored: Vec<Stored<'_>> =
            Vec::with_capacity(pieces.iter().map(|p| p.manifest.chunks.len()).sum());
        for p in &pieces {
            'chunks: for c in &p.manifest.chunks {
                // C-order flat number of the index shifted along the axis.
                let mut flat = 0u64;
                for (d, (i, n)) in c.index.iter().zip(&grid).enumerate() {
                    let i = if Some(d) == axis { i + p.shift } else { *i };
                    if i >= *n {
                        continue 'chunks;
                    }
                    flat = flat * n + i;
                }
                stored.push(Stored {
                    source: p.source,
                    flat,
                    chunk: c,
                });
            }
        }
        if !stored.windows(2).all(|w| w[0].flat < w[1].flat) {
            stored.sort_by_key(|s| s.flat);
            stored.dedup_by_key(|s| s.flat);
        }

        // Missing chunks read as the fill value; with no `_FillValue` Zarr
        // gives zeros, so other fill bytes must be stored.
        let fill_chunk: Option<Vec<u8>> = match &m.fill_bytes {
            Some(f)
                if !fill_moved
                    && f.iter().any(|b| *b != 0)
                    && (stored.len() as u64) < total_chunks =>
            {
                Some(f.repeat(usize::try_from(chunk_elems).unwrap_or(0)))
            }
            _ => None,
        };

        let ctxlabel = |s: &Stored<'_>| {
            format!(
                "{}: variable {}, chunk {:?} at bytes {}..{}",
                self.sources
                    .get(s.source)
                    .map_or("?", |x| x.location.as_str()),
                var.path,
                s.chunk.index,
                s.chunk.offset,
                s.chunk.offset + s.chunk.length
            )
        };
        let decode = |s: &Stored<'_>, raw: &[u8]| -> Result<Vec<u8>> {
            let label = ctxlabel(s);
            // A TIFF strip at the bottom edge holds only the rows left.
            let elements: u64 = if tiff && strips {
                s.chunk
                    .index
                    .iter()
                    .zip(&chunk_shape)
                    .zip(&var.shape)
                    .map(|((i, c), n)| (*c).min(n.saturating_sub(i * c)))
                    .product()
            } else {
                chunk_elems
            };
            let cctx = arco_codecs::ChunkContext {
                label: &label,
                dtype: &m.dtype,
                endian: m.endian,
                elements: usize::try_from(elements).unwrap_or(usize::MAX),
            };
            let out = arco_codecs::decode_chunk(raw, &m.codecs, s.chunk.filter_mask, &cctx)
                .map_err(|e| {
                    self.fail(var, format!("decoding a chunk to inline it failed: {e}"))
                })?;
            // TIFF strips: the last one holds only the rows left; the
            // rows past the image edge are padded with zeros.
            let mut out = out;
            if tiff && (out.len() as u64) < chunk_bytes {
                out = pad_planes(&out, &chunk_shape, elem, chunk_bytes);
            }
            if out.len() as u64 != chunk_bytes {
                return Err(self.fail(
                    var,
                    format!(
                        "{label} decodes to {} bytes, a full chunk has {chunk_bytes}",
                        out.len()
                    ),
                ));
            }
            Ok(out)
        };

        let mut chunks: Vec<(u64, Reference)> = Vec::with_capacity(stored.len());
        let layout = dtype.as_str().map(|d| ChunkLayout {
            shape: &chunk_shape,
            dtype: d,
        });
        let chain = match grib_reorder(var, &m.codecs) {
            Some(why) => Err(("grib".to_string(), why)),
            None => map_chain_in(&m.codecs, elem, chunk_bytes, layout),
        };
        // TIFF strips span the width; the last may be short, and Zarr
        // needs whole chunks: such chunks are decoded, padded, encoded again
        // and inlined, so the chain must have an encoder for every stage.
        let short_edge = |c: &ChunkRef| -> bool {
            tiff && strips
                && c.index.len() >= 2
                && c.index.get(c.index.len() - 2).copied()
                    == grid.get(grid.len() - 2).map(|n| n.saturating_sub(1))
        };
        let chain = match chain {
            Ok(chain)
                if stored.iter().any(|s| short_edge(s.chunk))
                    && chain.iter().any(|c| {
                        c.encode(&[]).is_err()
                            && !matches!(c, Numcodec::Delta { .. } | Numcodec::FloatPred { .. })
                    }) =>
            {
                let which = chain
                    .iter()
                    .find(|c| c.encode(&[]).is_err())
                    .map_or(String::new(), |c| c.json()["id"].to_string());
                Err((
                    which.clone(),
                    format!("the last strip is short and arco cannot encode {which} to pad it to a whole chunk"),
                ))
            }
            other => other,
        };
        let (declared, decoded_why) = match chain {
            Ok(chain) => {
                let common = common_mask(&stored);
                let declared: Vec<Numcodec> = chain
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| *i >= 32 || common & (1u32 << i) == 0)
                    .map(|(_, c)| c)
                    .collect();
                // Which chunks need reading: small ones (inlined as
                // stored) and those that skipped other filters (decoded,
                // encoded again).
                let mut reads: Vec<usize> = Vec::new();
                let mut odd = 0u64;
                for (k, s) in stored.iter().enumerate() {
                    if s.chunk.inline.is_some() {
                        continue;
                    }
                    if s.chunk.filter_mask != common || short_edge(s.chunk) {
                        odd += 1;
                        reads.push(k);
                    } else if s.chunk.length < self.options.inline_threshold {
                        reads.push(k);
                    }
                }
                self.check_limit(
                    var,
                    odd.saturating_mul(chunk_bytes),
                    "chunks that skipped a filter of the pipeline",
                )?;
                let bytes = self.read_stored(&stored, &reads)?;
                let mut read_iter = reads.iter().zip(bytes);
                let mut next = read_iter.next();
                let mut decoded_total = 0u64;
                for (k, s) in stored.iter().enumerate() {
                    let r = if let Some(b) = &s.chunk.inline {
                        if declared.is_empty() && s.chunk.filter_mask == common {
                            Reference::Inline(b.clone())
                        } else {
                            let raw = decode(s, b)?;
                            Reference::Inline(self.encode(var, &declared, &raw)?.into())
                        }
                    } else if matches!(next, Some((i, _)) if *i == k) {
                        let Some((_, b)) = next.take() else {
                            continue;
                        };
                        next = read_iter.next();
                        if s.chunk.filter_mask != common || short_edge(s.chunk) {
                            let raw = decode(s, &b)?;
                            let enc = self.encode(var, &declared, &raw)?;
                            decoded_total += enc.len() as u64;
                            Reference::Inline(enc.into())
                        } else {
                            Reference::Inline(Arc::from(&b[..]))
                        }
                    } else {
                        Reference::Range {
                            source: s.source,
                            offset: s.chunk.offset,
                            length: s.chunk.length,
                        }
                    };
                    chunks.push((s.flat, r));
                }
                let why = (odd > 0).then(|| {
                    if tiff {
                        format!("{odd} strips at the image's bottom edge decoded, padded to whole chunks, encoded again and inlined ({decoded_total} bytes)")
                    } else {
                        format!("{odd} chunks skipped filters of the pipeline (HDF5 filter mask); decoded, encoded again and inlined ({decoded_total} bytes)")
                    }
                });
                (declared, why)
            }
            Err((label, why)) => {
                // Nothing to reference: decode every chunk and inline it raw.
                let total = (stored.len() as u64).saturating_mul(chunk_bytes);
                if total > self.options.max_decoded_inline {
                    return Err(self.fail(
                        var,
                        format!(
                            "it uses filter {label}, which kerchunk references cannot express ({why}); its {} chunks hold {total} bytes decoded, more than --max-decoded-inline {} allows to inline; convert it with `arco convert` (or raise the limit)",
                            stored.len(),
                            self.options.max_decoded_inline
                        ),
                    ));
                }
                let reads: Vec<usize> = (0..stored.len())
                    .filter(|k| stored[*k].chunk.inline.is_none())
                    .collect();
                let bytes = self.read_stored(&stored, &reads)?;
                let mut by_k: BTreeMap<usize, bytes::Bytes> =
                    reads.into_iter().zip(bytes).collect();
                for (k, s) in stored.iter().enumerate() {
                    let raw = match (&s.chunk.inline, by_k.remove(&k)) {
                        (Some(b), _) => decode(s, b),
                        (None, Some(b)) => decode(s, &b),
                        (None, None) => continue,
                    }
                    .map_err(|e| match e {
                        Error::Variable { message, .. } => self.fail(
                            var,
                            format!(
                                "it uses filter {label}, which kerchunk references cannot express ({why}), and inlining decoded chunks needs a decoder: {message}; convert it with `arco convert` if arco can read it, or repack the file with `h5repack -f GZIP=6`"
                            ),
                        ),
                        other => other,
                    })?;
                    chunks.push((s.flat, Reference::Inline(raw.into())));
                }
                (
                    Vec::new(),
                    Some(format!(
                        "filter {label} has no numcodecs equivalent ({why}); {} chunks decoded and inlined ({total} bytes)",
                        stored.len()
                    )),
                )
            }
        };

        let mut decoded_why = decoded_why;
        if let Some(fill) = fill_chunk {
            let enc: Arc<[u8]> = self.encode(var, &declared, &fill)?.into();
            let missing = total_chunks - chunks.len() as u64;
            self.check_limit(
                var,
                missing.saturating_mul(enc.len() as u64),
                "fill chunks (the variable has unwritten chunks, a non-zero fill value and no _FillValue attribute)",
            )?;
            let mut filled = Vec::with_capacity(usize::try_from(total_chunks).unwrap_or(0));
            let mut have = chunks.into_iter().peekable();
            for flat in 0..total_chunks {
                match have.peek() {
                    Some((f, _)) if *f == flat => {
                        if let Some(x) = have.next() {
                            filled.push(x);
                        }
                    }
                    _ => filled.push((flat, Reference::Inline(enc.clone()))),
                }
            }
            chunks = filled;
            let note = format!(
                "{missing} unwritten chunks inlined with the fill value (no _FillValue attribute)"
            );
            decoded_why = Some(match decoded_why {
                Some(w) => format!("{w}; {note}"),
                None => note,
            });
        }

        let mut declared = declared;
        for c in &mut declared {
            if let Numcodec::Grib { var: name, .. } = c {
                name.clone_from(&var.name);
            }
        }
        let (compressor, filters) = v2_codecs(&declared);
        Ok(VarOut {
            zarray: zarray(
                &var.shape,
                &chunk_shape,
                dtype,
                fill_value.unwrap_or(Value::Null),
                compressor,
                filters,
            ),
            zattrs: array_attributes(&var.attributes, &var.dims, fill_moved),
            array: ArrayRefs { path, grid, chunks },
            decoded: decoded_why,
        })
    }

    /// Refuse a variable whose inlined decoded bytes would pass the limit.
    fn check_limit(&self, var: &Variable, bytes: u64, what: &str) -> Result<()> {
        if bytes > self.options.max_decoded_inline {
            return Err(self.fail(
                var,
                format!(
                    "{what} would inline {bytes} bytes, more than --max-decoded-inline {} allows; convert it with `arco convert` (or raise the limit)",
                    self.options.max_decoded_inline
                ),
            ));
        }
        Ok(())
    }

    fn encode(&self, var: &Variable, chain: &[Numcodec], raw: &[u8]) -> Result<Vec<u8>> {
        encode_chain(chain, raw).map_err(|why| self.fail(var, why))
    }

    /// The axis of the concatenation dimension in `var`, if any.
    fn axis(&self, var: &Variable) -> Option<usize> {
        let dim = self.input.concat_dim()?;
        var.dims.iter().position(|d| d == dim)
    }

    /// Each file's manifest with its shift along the concatenation axis, or
    /// why the files' chunks do not form one regular grid.
    fn pieces(&self, var: &Variable) -> Result<Vec<Piece>, String> {
        let manifest_err = |e: arco_formats::Error| e.to_string();
        match self.input {
            Input::Single(r) => Ok(vec![Piece {
                source: 0,
                shift: 0,
                manifest: r.manifest(&var.path).map_err(manifest_err)?,
            }]),
            Input::Concat(c) => {
                let parts = c.part_manifests(&var.path).map_err(manifest_err)?;
                let axis = self.axis(var);
                let lengths: HashMap<&str, u64> = c
                    .parts()
                    .iter()
                    .map(|p| (p.location(), p.length()))
                    .collect();
                let mut out: Vec<Piece> = Vec::with_capacity(parts.len());
                let n = parts.len();
                for (k, (loc, offset, m)) in parts.into_iter().enumerate() {
                    let source = *self
                        .by_location
                        .get(loc.as_str())
                        .ok_or_else(|| format!("{loc} is not among the sources"))?;
                    let Some(axis) = axis else {
                        out.push(Piece {
                            source,
                            shift: 0,
                            manifest: m,
                        });
                        continue;
                    };
                    let length = lengths.get(loc.as_str()).copied().unwrap_or(0);
                    if length == 0 {
                        continue;
                    }
                    let step = m.grid.chunk_shape.get(axis).copied().unwrap_or(1).max(1);
                    if let Some(first) = out.first() {
                        let f = &first.manifest;
                        if f.grid.chunk_shape != m.grid.chunk_shape {
                            return Err(format!(
                                "{} has chunks of shape {:?} and {loc} {:?}",
                                self.sources[first.source].location,
                                f.grid.chunk_shape,
                                m.grid.chunk_shape
                            ));
                        }
                        if f.dtype != m.dtype || f.endian != m.endian || f.codecs != m.codecs {
                            return Err(format!(
                                "{} and {loc} store it with different types, byte orders or codecs",
                                self.sources[first.source].location
                            ));
                        }
                    }
                    if offset % step != 0 {
                        return Err(format!(
                            "{loc} starts at index {offset} along '{}', inside a chunk of {step}",
                            c.dim()
                        ));
                    }
                    if k + 1 < n && length % step != 0 && parts_after_nonempty(c, k) {
                        return Err(format!(
                            "{loc} holds {length} steps along '{}', not a whole number of its chunks of {step}",
                            c.dim()
                        ));
                    }
                    out.push(Piece {
                        source,
                        shift: offset / step,
                        manifest: m,
                    });
                }
                if out.is_empty() {
                    // Every part is empty along the axis: the first's manifest describes it.
                    let (loc, _, m) = c
                        .part_manifests(&var.path)
                        .map_err(manifest_err)?
                        .into_iter()
                        .next()
                        .ok_or_else(|| "no source".to_string())?;
                    let source = self.by_location.get(loc.as_str()).copied().unwrap_or(0);
                    out.push(Piece {
                        source,
                        shift: 0,
                        manifest: m,
                    });
                }
                Ok(out)
            }
        }
    }

    /// Read the stored bytes of `stored[k]` for every `k` in `which`
    /// (coalesced per source), in that order.
    fn read_stored(&self, stored: &[Stored<'_>], which: &[usize]) -> Result<Vec<bytes::Bytes>> {
        let mut by_source: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (pos, &k) in which.iter().enumerate() {
            by_source.entry(stored[k].source).or_default().push(pos);
        }
        let mut out: Vec<Option<bytes::Bytes>> = vec![None; which.len()];
        for (source, positions) in by_source {
            let src = self.sources.get(source).ok_or_else(|| Error::Output {
                path: self.location(),
                message: format!("source number {source} is missing"),
            })?;
            let ranges: Vec<std::ops::Range<u64>> = positions
                .iter()
                .map(|&p| {
                    let c = stored[which[p]].chunk;
                    c.offset..c.offset + c.length
                })
                .collect();
            let got = src.bytes.read_ranges(&ranges)?;
            for (p, b) in positions.into_iter().zip(got) {
                out[p] = Some(b);
            }
        }
        Ok(out.into_iter().flatten().collect())
    }

    /// Variable-length strings: read and inlined whole as numcodecs'
    /// `vlen-utf8` (what kerchunk's `vlen_encode="embed"` writes).
    fn vlen_strings(
        &self,
        var: &Variable,
        path: String,
        fill_attr: Option<&arco_core::AttrValue>,
    ) -> Result<VarOut> {
        let values = self
            .input
            .read(&var.path, &Selection::all(&var.shape))?
            .values;
        let Values::Str(strings) = values else {
            return Err(self.fail(
                var,
                format!("read {} values, strings expected", values.type_name()),
            ));
        };
        let mut buf = Vec::with_capacity(4 + strings.iter().map(|s| s.len() + 4).sum::<usize>());
        buf.extend_from_slice(&(strings.len() as u32).to_le_bytes());
        for s in &strings {
            buf.extend_from_slice(&(s.len() as u32).to_le_bytes());
            buf.extend_from_slice(s.as_bytes());
        }
        self.check_limit(
            var,
            buf.len() as u64,
            "its variable-length strings (read and inlined whole)",
        )?;
        let chunk_shape: Vec<u64> = var.shape.iter().map(|s| (*s).max(1)).collect();
        let grid: Vec<u64> = var.shape.iter().map(|s| u64::from(*s > 0)).collect();
        let chunks = if var.element_count() > 0 {
            vec![(0, Reference::Inline(buf.into()))]
        } else {
            Vec::new()
        };
        let fill_value = fill_attr.and_then(|f| v2_fill_value(f, &var.dtype));
        let fill_moved = fill_value.is_some();
        Ok(VarOut {
            zarray: zarray(
                &var.shape,
                &chunk_shape,
                json!("|O"),
                fill_value.unwrap_or(Value::Null),
                Value::Null,
                json!([{"id": "vlen-utf8"}]),
            ),
            zattrs: array_attributes(&var.attributes, &var.dims, fill_moved),
            array: ArrayRefs { path, grid, chunks },
            decoded: Some("variable-length strings read and inlined (vlen-utf8)".into()),
        })
    }

    /// The whole array read, in little-endian order, as one inlined chunk:
    /// for arrays under the inline threshold, and for files whose chunks do
    /// not line up along the concatenation dimension (`why`).
    fn whole_array(
        &self,
        var: &Variable,
        path: String,
        fill_attr: Option<&arco_core::AttrValue>,
        why: &str,
    ) -> Result<VarOut> {
        let refuse = |what: String| -> Error {
            if why.is_empty() {
                self.fail(var, what)
            } else {
                self.fail(
                    var,
                    format!("its chunks cannot be referenced ({why}) and {what}; convert it with `arco convert`"),
                )
            }
        };
        if !whole_array_type(&var.dtype) {
            return Err(refuse(format!(
                "its type {} cannot be inlined whole",
                var.dtype
            )));
        }
        let bytes = var.uncompressed_bytes().unwrap_or(u64::MAX);
        if !why.is_empty() && bytes > self.options.max_decoded_inline {
            return Err(refuse(format!(
                "inlining its {bytes} bytes decoded would pass --max-decoded-inline {}",
                self.options.max_decoded_inline
            )));
        }
        let values = self
            .input
            .read(&var.path, &Selection::all(&var.shape))?
            .values;
        let raw = values_le_bytes(&values).ok_or_else(|| {
            refuse(format!(
                "its {} values cannot be inlined",
                values.type_name()
            ))
        })?;
        let dtype = v2_dtype(&var.dtype, Endian::Little).map_err(&refuse)?;
        let chunk_shape: Vec<u64> = var.shape.iter().map(|s| (*s).max(1)).collect();
        let grid: Vec<u64> = var.shape.iter().map(|s| u64::from(*s > 0)).collect();
        let chunks = if var.element_count() > 0 {
            vec![(0, Reference::Inline(raw.into()))]
        } else {
            Vec::new()
        };
        let fill_value = fill_attr.and_then(|f| v2_fill_value(f, &var.dtype));
        let fill_moved = fill_value.is_some();
        Ok(VarOut {
            zarray: zarray(
                &var.shape,
                &chunk_shape,
                dtype,
                fill_value.unwrap_or(Value::Null),
                Value::Null,
                Value::Null,
            ),
            zattrs: array_attributes(&var.attributes, &var.dims, fill_moved),
            array: ArrayRefs { path, grid, chunks },
            decoded: (!why.is_empty()).then(|| format!("read whole and inlined: {why}")),
        })
    }
}

/// A short TIFF strip (fewer rows than the chunk) padded with zeros to a
/// whole chunk, plane by plane: chunks are `(..., rows, width)`, and every
/// leading index (band) holds its own rows.
fn pad_planes(short: &[u8], chunk_shape: &[u64], elem: usize, chunk_bytes: u64) -> Vec<u8> {
    let n = chunk_shape.len();
    let full = usize::try_from(chunk_bytes).unwrap_or(usize::MAX);
    let row_bytes = (chunk_shape.last().map_or(1, |w| *w as usize) * elem).max(1);
    let rows = if n >= 2 {
        chunk_shape[n - 2] as usize
    } else {
        1
    };
    let plane = (rows * row_bytes).max(1);
    let planes = (full / plane).max(1);
    let short_plane = short.len() / planes;
    let mut out = vec![0u8; full];
    if short_plane * planes != short.len()
        || !short_plane.is_multiple_of(row_bytes)
        || short_plane > plane
    {
        // Not whole rows per plane: keep the bytes in order.
        let n = short.len().min(full);
        out[..n].copy_from_slice(&short[..n]);
        return out;
    }
    for p in 0..planes {
        out[p * plane..p * plane + short_plane]
            .copy_from_slice(&short[p * short_plane..(p + 1) * short_plane]);
    }
    out
}

/// True when some part after `k` holds steps along the axis.
fn parts_after_nonempty(c: &arco_formats::concat::ConcatReader, k: usize) -> bool {
    c.parts().iter().skip(k + 1).any(|p| p.length() > 0)
}

/// The filter mask most chunks share (the smallest of the most common).
fn common_mask(stored: &[Stored<'_>]) -> u32 {
    let mut counts: BTreeMap<u32, usize> = BTreeMap::new();
    for s in stored {
        if s.chunk.inline.is_none() {
            *counts.entry(s.chunk.filter_mask).or_default() += 1;
        }
    }
    let mut best = (0u32, 0usize);
    for (mask, n) in counts {
        if n > best.1 {
            best = (mask, n);
        }
    }
    best.0
}

/// Types whose values [`values_le_bytes`] turns back into stored bytes exactly.
fn whole_array_type(dtype: &DType) -> bool {
    match dtype {
        DType::Enum { base, .. } => whole_array_type(base),
        DType::Opaque { .. } | DType::Char | DType::Bool => true,
        d => d.is_numeric(),
    }
}

/// Values as little-endian element bytes (numbers, booleans, chars, opaque).
fn values_le_bytes(v: &Values) -> Option<Vec<u8>> {
    fn le<T: Copy, const N: usize>(x: &[T], f: fn(T) -> [u8; N]) -> Vec<u8> {
        x.iter().flat_map(|v| f(*v)).collect()
    }
    Some(match v {
        Values::Bool(x) => x.iter().map(|b| u8::from(*b)).collect(),
        Values::I8(x) => x.iter().map(|b| *b as u8).collect(),
        Values::U8(x) => x.clone(),
        Values::I16(x) => le(x, i16::to_le_bytes),
        Values::U16(x) => le(x, u16::to_le_bytes),
        Values::I32(x) => le(x, i32::to_le_bytes),
        Values::U32(x) => le(x, u32::to_le_bytes),
        Values::I64(x) => le(x, i64::to_le_bytes),
        Values::U64(x) => le(x, u64::to_le_bytes),
        Values::F32(x) => le(x, f32::to_le_bytes),
        Values::F64(x) => le(x, f64::to_le_bytes),
        Values::Opaque { bytes, .. } => bytes.clone(),
        _ => return None,
    })
}

/// Why a GRIB variable's messages cannot be referenced with kerchunk's
/// `grib` codec: ecCodes returns the values in the order they are stored,
/// and for column-major (`jPointsAreConsecutive`) or boustrophedonic
/// (`alternativeRowScanning`) storage that is not the row-major order of
/// arco's coordinates (arco's own decoder turns them round). Such chunks
/// are decoded and inlined instead of silently read transposed.
fn grib_reorder(var: &Variable, codecs: &[CodecSpec]) -> Option<String> {
    if !codecs.iter().any(|c| matches!(c, CodecSpec::Grib { .. })) {
        return None;
    }
    let flag = |name: &str| {
        var.attr(name)
            .and_then(|a| a.as_f64())
            .is_some_and(|v| v != 0.0)
    };
    if var
        .attr("GRIB_gridType")
        .and_then(|a| a.as_str())
        .is_some_and(|t| t == "sh")
    {
        Some(
            "spherical harmonic coefficients are not a grid; ecCodes would return the coefficients"
                .into(),
        )
    } else if flag("GRIB_jPointsAreConsecutive") {
        Some("the messages store columns first (jPointsAreConsecutive); ecCodes would return them transposed".into())
    } else if flag("GRIB_alternativeRowScanning") {
        Some("the messages store every other row reversed (alternativeRowScanning); ecCodes would return them unreversed".into())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn values_become_little_endian_bytes() {
        assert_eq!(
            values_le_bytes(&Values::I16(vec![1, -2])).unwrap(),
            vec![1, 0, 0xfe, 0xff]
        );
        assert_eq!(
            values_le_bytes(&Values::Bool(vec![true, false])).unwrap(),
            vec![1, 0]
        );
        assert!(values_le_bytes(&Values::Str(vec![])).is_none());
    }

    #[test]
    fn a_short_strip_of_two_bands_is_padded_band_by_band() {
        // Chunk (2 bands, 3 rows, 2 columns) of u8; the strip holds 1 row.
        let short = [1, 2, 3, 4];
        let padded = pad_planes(&short, &[2, 3, 2], 1, 12);
        assert_eq!(padded, vec![1, 2, 0, 0, 0, 0, 3, 4, 0, 0, 0, 0]);
    }

    #[test]
    fn zarr_prefixes_of_groups() {
        assert_eq!(zarr_prefix("/"), "");
        assert_eq!(zarr_prefix("/a/b"), "a/b/");
    }
}
