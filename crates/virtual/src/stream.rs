//! Streaming: a reference set handed over piece by piece instead of held
//! whole.
//!
//! [`crate::build_into`] first gives a [`Sink`] the [`Header`] (every
//! metadata document, the arrays and their chunk grids, the sources), then
//! every chunk reference as it is made, file by file of a concatenation.
//! The writers ([`crate::json::JsonWriter`], [`crate::parquet::ParquetWriter`])
//! write them out as they come; [`Collect`] gathers them into
//! [`References`] (what [`crate::build`] returns).

use crate::refs::{ArrayRefs, Reference, References, SourceUrl};
use crate::Result;
use serde_json::Value;

/// Everything about a reference set but its chunks; known before the first
/// chunk (from the combined dataset).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Header {
    /// Metadata documents by key (`.zgroup`, `.zattrs`, `grp/tas/.zarray`,
    /// …), groups before their members.
    pub metadata: Vec<(String, Value)>,
    /// The arrays whose chunks follow, in the order of their metadata;
    /// [`Sink::chunk`] names them by their index here.
    pub arrays: Vec<ArrayHeader>,
    /// The sources, indexed by [`Reference::Range::source`].
    pub sources: Vec<SourceUrl>,
}

/// One array of a [`Header`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrayHeader {
    /// Zarr path without a leading `/`, like `grp/tas`.
    pub path: String,
    /// Number of chunks along each dimension (empty for a scalar).
    pub grid: Vec<u64>,
    /// True when this array's chunks come in increasing flat (C-order)
    /// chunk number; false when they may come in any order (a
    /// concatenation along an axis that is not the array's first). Each
    /// chunk number comes at most once either way.
    pub ordered: bool,
}

impl ArrayHeader {
    /// Total number of chunk positions in the grid (1 for a scalar).
    pub fn chunk_count(&self) -> u64 {
        self.grid.iter().product()
    }
}

/// Receives a reference set: [`Sink::begin`] once, then [`Sink::chunk`] for
/// every chunk reference. Chunks of different arrays interleave.
pub trait Sink {
    /// The metadata, arrays and sources, before any chunk.
    fn begin(&mut self, header: &Header) -> Result<()>;

    /// Chunk number `flat` (C order over the grid) of array number `array`
    /// of the header.
    fn chunk(&mut self, array: usize, flat: u64, reference: Reference) -> Result<()>;
}

/// A [`Sink`] that keeps everything: the in-memory [`References`].
#[derive(Debug, Default)]
pub struct Collect {
    refs: References,
}

impl Collect {
    /// A collector with nothing yet.
    pub fn new() -> Self {
        Collect::default()
    }

    /// The reference set, each array's chunks sorted by chunk number.
    pub fn into_references(self) -> References {
        let mut refs = self.refs;
        for a in &mut refs.arrays {
            if !a.chunks.windows(2).all(|w| w[0].0 < w[1].0) {
                a.chunks.sort_by_key(|(flat, _)| *flat);
            }
        }
        refs
    }
}

impl Sink for Collect {
    fn begin(&mut self, header: &Header) -> Result<()> {
        self.refs = References {
            metadata: header.metadata.clone(),
            arrays: header
                .arrays
                .iter()
                .map(|a| ArrayRefs {
                    path: a.path.clone(),
                    grid: a.grid.clone(),
                    chunks: Vec::new(),
                })
                .collect(),
            sources: header.sources.clone(),
        };
        Ok(())
    }

    fn chunk(&mut self, array: usize, flat: u64, reference: Reference) -> Result<()> {
        if let Some(a) = self.refs.arrays.get_mut(array) {
            a.chunks.push((flat, reference));
        }
        Ok(())
    }
}

/// Hand a whole in-memory reference set to `sink` (arrays in order, each
/// array's chunks in chunk-number order).
pub fn replay(refs: &References, sink: &mut dyn Sink) -> Result<()> {
    sink.begin(&header_of(refs))?;
    for (i, a) in refs.arrays.iter().enumerate() {
        for (flat, r) in &a.chunks {
            sink.chunk(i, *flat, r.clone())?;
        }
    }
    Ok(())
}

/// The header of an in-memory reference set.
pub fn header_of(refs: &References) -> Header {
    Header {
        metadata: refs.metadata.clone(),
        arrays: refs
            .arrays
            .iter()
            .map(|a| ArrayHeader {
                path: a.path.clone(),
                grid: a.grid.clone(),
                ordered: a.chunks.windows(2).all(|w| w[0].0 < w[1].0),
            })
            .collect(),
        sources: refs.sources.clone(),
    }
}

/// The consolidated metadata document (`.zmetadata`) as JSON text, with
/// `record_size` for Parquet, written from the documents directly (no copy
/// of them: the root `.zattrs` holds one record per source).
pub(crate) fn consolidated_text(metadata: &[(String, Value)], record_size: Option<u64>) -> String {
    let mut out: Vec<u8> = Vec::with_capacity(4096);
    out.extend_from_slice(b"{\"metadata\":{");
    for (i, (k, v)) in metadata.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        // Writing JSON to memory cannot fail.
        let _ = serde_json::to_writer(&mut out, k);
        out.push(b':');
        let _ = serde_json::to_writer(&mut out, v);
    }
    out.push(b'}');
    if let Some(n) = record_size {
        out.extend_from_slice(format!(",\"record_size\":{n}").as_bytes());
    }
    out.extend_from_slice(b",\"zarr_consolidated_format\":1}");
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn collecting_sorts_chunks_that_came_out_of_order() {
        let mut c = Collect::new();
        c.begin(&Header {
            metadata: vec![(".zgroup".into(), json!({"zarr_format": 2}))],
            arrays: vec![ArrayHeader {
                path: "x".into(),
                grid: vec![2, 2],
                ordered: false,
            }],
            sources: Vec::new(),
        })
        .unwrap();
        for flat in [2, 0, 3, 1] {
            c.chunk(0, flat, Reference::Inline(vec![flat as u8].into()))
                .unwrap();
        }
        let refs = c.into_references();
        let flats: Vec<u64> = refs.arrays[0].chunks.iter().map(|(f, _)| *f).collect();
        assert_eq!(flats, [0, 1, 2, 3]);
        assert_eq!(
            refs.arrays[0].chunks[3].1,
            Reference::Inline(vec![3].into())
        );
        assert!(header_of(&refs).arrays[0].ordered);
    }

    #[test]
    fn the_consolidated_text_is_the_consolidated_document() {
        let meta = vec![
            (".zgroup".to_string(), json!({"zarr_format": 2})),
            ("a \"b\"/.zattrs".to_string(), json!({"x": [1, "\u{e9}"]})),
        ];
        let text: Value = serde_json::from_str(&consolidated_text(&meta, Some(7))).unwrap();
        assert_eq!(
            text,
            json!({"metadata": {".zgroup": {"zarr_format": 2}, "a \"b\"/.zattrs": {"x": [1, "\u{e9}"]}},
                   "record_size": 7, "zarr_consolidated_format": 1})
        );
        let text: Value = serde_json::from_str(&consolidated_text(&[], None)).unwrap();
        assert_eq!(text, json!({"metadata": {}, "zarr_consolidated_format": 1}));
    }
}
