//! Chunk grids, selections, per-chunk byte ranges and codec chains.
//!
//! A [`ChunkManifest`] is what virtualization and parallel decoding need: for
//! every stored chunk of a variable, where its bytes are in the source and
//! which [`CodecSpec`] chain decodes them.

use crate::dtype::{DType, Endian};
use crate::error::{Error, Result};
use serde::Serialize;
use std::sync::Arc;

/// One stage of a codec chain, named by what it does rather than by format ids.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "name", rename_all = "snake_case")]
#[non_exhaustive]
pub enum CodecSpec {
    /// zlib-wrapped DEFLATE (HDF5 filter 1).
    Deflate {
        /// Compression level recorded in the file, if any.
        level: Option<u32>,
    },
    /// Byte shuffle (HDF5 filter 2).
    Shuffle {
        /// Bytes per element.
        element_size: usize,
    },
    /// Fletcher-32 checksum appended to each chunk (HDF5 filter 3); verified on decode.
    Fletcher32,
    /// SZIP / AEC (HDF5 filter 4).
    Szip {
        /// Filter parameters as stored.
        params: Vec<u32>,
    },
    /// N-bit packing (HDF5 filter 5).
    Nbit {
        /// Filter parameters as stored.
        params: Vec<u32>,
    },
    /// Scale-offset packing (HDF5 filter 6).
    ScaleOffset {
        /// Filter parameters as stored.
        params: Vec<u32>,
    },
    /// Blosc meta-compressor (HDF5 plugin 32001).
    Blosc {
        /// Filter parameters as stored.
        params: Vec<u32>,
    },
    /// LZ4 with HDF5's block framing (HDF5 plugin 32004).
    Lz4 {
        /// Filter parameters as stored.
        params: Vec<u32>,
    },
    /// bzip2 (HDF5 plugin 307).
    Bzip2 {
        /// Compression level, if recorded.
        level: Option<u32>,
    },
    /// Zstandard (HDF5 plugin 32015).
    Zstd {
        /// Compression level, if recorded.
        level: Option<i32>,
    },
    /// A filter arco does not implement; reading data through it is an error naming it.
    Unknown {
        /// HDF5 filter id.
        id: u32,
        /// Filter name recorded in the file, if any.
        filter_name: Option<String>,
        /// Filter parameters as stored.
        params: Vec<u32>,
    },
    /// TIFF LZW (compression 5): MSB-first codes of 9 to 12 bits with
    /// libtiff's "early change".
    Lzw,
    /// PackBits run-length encoding (TIFF compression 32773).
    PackBits,
    /// Baseline JPEG (TIFF compression 7): one JPEG image per tile or strip,
    /// decoded to 8-bit samples, pixel-interleaved.
    Jpeg {
        /// The `JPEGTables` tag: the quantisation and Huffman tables shared by
        /// every tile (an abbreviated JPEG stream), when the file has one.
        /// Serialized as base64.
        #[serde(serialize_with = "serialize_base64")]
        tables: Option<Vec<u8>>,
        /// True when the stream holds YCbCr to convert to RGB (TIFF
        /// photometric YCbCr, what GDAL writes with `PHOTOMETRIC=YCBCR`);
        /// false keeps the components as stored.
        ycbcr_to_rgb: bool,
    },
    /// TIFF predictor 2: each sample stored as the difference from the same
    /// sample of the previous pixel in its row (wrapping integer arithmetic).
    HorizontalDifferencing {
        /// Bits per sample: 8, 16, 32 or 64.
        bits_per_sample: u32,
        /// Samples per pixel within a row (1 for planar-separate bands).
        samples_per_pixel: u32,
        /// Pixels per row: the tile width, or the image width for strips.
        row_pixels: u64,
        /// Byte order of the samples.
        endian: Endian,
    },
    /// TIFF predictor 3 (floating point): each row's bytes regrouped by
    /// significance (most significant bytes of every sample first), then
    /// differenced byte by byte across pixels.
    FloatingPointPredictor {
        /// Bytes per sample: 2, 4 or 8.
        bytes_per_sample: u32,
        /// Samples per pixel within a row (1 for planar-separate bands).
        samples_per_pixel: u32,
        /// Pixels per row: the tile width, or the image width for strips.
        row_pixels: u64,
        /// Byte order of the decoded samples.
        endian: Endian,
    },
    /// Pixel interleaving (TIFF planar configuration 1 with several samples
    /// per pixel): encoding turns band-major `(samples, pixels)` into
    /// pixel-major `(pixels, samples)`, like a Zarr v3 `transpose` codec that
    /// moves the chunk's first axis last.
    Interleave {
        /// Samples (bands) per pixel.
        samples: u32,
        /// Bytes per sample.
        element_size: usize,
    },
    /// WebP (TIFF compression 50001): one WebP image per tile, decoded to
    /// 8-bit RGB or RGBA, pixel-interleaved.
    Webp,
    /// LERC (TIFF compression 34887): one LERC blob per tile (pixel-interleaved
    /// when it holds several samples per pixel); pixels outside its validity
    /// mask decode as NaN (floats) or 0 (integers), as libtiff does. A
    /// deflate or zstd stage after it in encode order is LERC's optional
    /// second compression (`LercParameters`).
    Lerc,
    /// One GRIB message (edition 1 or 2) holding one field, decoded to the
    /// field's values (`float32`, or `float64` for 64-bit IEEE packing) in
    /// the order the variable's coordinates describe: rows along `y` or
    /// latitude and columns along `x` or longitude for 2-D grids (scanning
    /// mode undone), the stored order for 1-D `values` grids; points the
    /// bitmap marks absent, and missing values of complex packing, are NaN.
    /// The chunk's bytes are the message from its first byte through the end
    /// of the field's data section (the whole message unless it holds several
    /// fields): the decoder needs nothing else.
    Grib {
        /// GRIB edition of the messages: 1 or 2.
        edition: u8,
        /// ecCodes' name of the packing (`grid_simple`, `grid_complex`,
        /// `grid_complex_spatial_differencing`, `grid_ieee`, `grid_jpeg`,
        /// `grid_png`, `grid_ccsds`, `spectral_complex`, ...), or `mixed`
        /// when the variable's messages differ. Informative: every message
        /// names its own packing and is decoded by it.
        packing: String,
    },
    /// A TIFF compression arco does not decode; reading data through it is an
    /// error naming it.
    UnsupportedTiffCompression {
        /// The TIFF `Compression` tag value.
        compression: u32,
        /// Its usual name, such as `LERC` or `JPEG-XL`.
        compression_name: String,
    },
}

/// Optional bytes as a base64 string (standard alphabet, padded).
fn serialize_base64<S: serde::Serializer>(
    bytes: &Option<Vec<u8>>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let Some(bytes) = bytes else {
        return s.serialize_none();
    };
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let b = [
            group[0],
            group.get(1).copied().unwrap_or(0),
            group.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= group.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * k)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    s.serialize_str(&out)
}

impl CodecSpec {
    /// Short human name, such as `deflate(4)` or `shuffle`.
    pub fn label(&self) -> String {
        match self {
            CodecSpec::Deflate { level: Some(l) } => format!("deflate({l})"),
            CodecSpec::Deflate { level: None } => "deflate".into(),
            CodecSpec::Shuffle { .. } => "shuffle".into(),
            CodecSpec::Fletcher32 => "fletcher32".into(),
            CodecSpec::Szip { .. } => "szip".into(),
            CodecSpec::Nbit { .. } => "nbit".into(),
            CodecSpec::ScaleOffset { .. } => "scaleoffset".into(),
            CodecSpec::Blosc { .. } => "blosc".into(),
            CodecSpec::Lz4 { .. } => "lz4".into(),
            CodecSpec::Bzip2 { .. } => "bzip2".into(),
            CodecSpec::Zstd { level: Some(l) } => format!("zstd({l})"),
            CodecSpec::Zstd { level: None } => "zstd".into(),
            CodecSpec::Unknown {
                id, filter_name, ..
            } => match filter_name {
                Some(n) => format!("unknown filter {id} ({n})"),
                None => format!("unknown filter {id}"),
            },
            CodecSpec::Lzw => "lzw".into(),
            CodecSpec::PackBits => "packbits".into(),
            CodecSpec::Jpeg {
                ycbcr_to_rgb: true, ..
            } => "jpeg(ycbcr)".into(),
            CodecSpec::Jpeg { .. } => "jpeg".into(),
            CodecSpec::HorizontalDifferencing { .. } => "predictor(horizontal)".into(),
            CodecSpec::FloatingPointPredictor { .. } => "predictor(floating-point)".into(),
            CodecSpec::Interleave { samples, .. } => format!("interleave({samples})"),
            CodecSpec::Webp => "webp".into(),
            CodecSpec::Lerc => "lerc".into(),
            CodecSpec::Grib { edition, packing } => format!("grib{edition}({packing})"),
            CodecSpec::UnsupportedTiffCompression {
                compression,
                compression_name,
            } => format!("tiff compression {compression} ({compression_name})"),
        }
    }
}

/// Where one stored chunk's bytes are.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChunkRef {
    /// Position in the chunk grid (not in elements).
    pub index: Vec<u64>,
    /// Byte offset in the source file.
    pub offset: u64,
    /// Stored (possibly compressed) length in bytes.
    pub length: u64,
    /// HDF5 filter mask: bit `i` set means codec `i` was skipped for this chunk.
    pub filter_mask: u32,
    /// Bytes held in the metadata itself (HDF5 compact layout), when not addressable.
    #[serde(skip)]
    pub inline: Option<Arc<[u8]>>,
}

/// A regular grid of chunks over an array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChunkGrid {
    /// Array shape.
    pub array_shape: Vec<u64>,
    /// Chunk shape (each entry at least 1).
    pub chunk_shape: Vec<u64>,
}

impl ChunkGrid {
    /// A grid; zero chunk extents are raised to 1 so arithmetic never divides by zero.
    pub fn new(array_shape: Vec<u64>, chunk_shape: Vec<u64>) -> Result<Self> {
        if array_shape.len() != chunk_shape.len() {
            return Err(Error::Other(format!(
                "chunk shape {chunk_shape:?} has a different rank than array shape {array_shape:?}"
            )));
        }
        let chunk_shape = chunk_shape.into_iter().map(|c| c.max(1)).collect();
        Ok(ChunkGrid {
            array_shape,
            chunk_shape,
        })
    }

    /// Number of chunks along each dimension.
    pub fn grid_shape(&self) -> Vec<u64> {
        self.array_shape
            .iter()
            .zip(&self.chunk_shape)
            .map(|(a, c)| a.div_ceil(*c))
            .collect()
    }

    /// Total number of chunks.
    pub fn chunk_count(&self) -> u64 {
        self.grid_shape().iter().product()
    }

    /// Element range `[start, end)` covered by chunk `index` along each dimension,
    /// clipped to the array.
    pub fn chunk_bounds(&self, index: &[u64]) -> Vec<(u64, u64)> {
        index
            .iter()
            .zip(&self.chunk_shape)
            .zip(&self.array_shape)
            .map(|((i, c), a)| ((i * c).min(*a), ((i + 1) * c).min(*a)))
            .collect()
    }

    /// Indices of every chunk that holds at least one selected element, in C order.
    pub fn chunks_for(&self, sel: &Selection) -> Vec<Vec<u64>> {
        let per_dim: Vec<Vec<u64>> = sel
            .dims
            .iter()
            .zip(&self.chunk_shape)
            .map(|(d, c)| {
                let mut ids: Vec<u64> = d.indices().map(|i| i / c).collect();
                ids.dedup();
                ids
            })
            .collect();
        cartesian(&per_dim)
    }
}

/// Cartesian product of per-dimension index lists, in C order.
pub fn cartesian(lists: &[Vec<u64>]) -> Vec<Vec<u64>> {
    let mut out: Vec<Vec<u64>> = vec![Vec::new()];
    for list in lists {
        let mut next = Vec::with_capacity(out.len() * list.len());
        for prefix in &out {
            for &x in list {
                let mut p = prefix.clone();
                p.push(x);
                next.push(p);
            }
        }
        out = next;
    }
    out
}

/// The chunk index of a variable: its grid, codecs and stored chunks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChunkManifest {
    /// Variable path.
    pub variable: String,
    /// Element type.
    pub dtype: DType,
    /// Byte order of decoded chunk bytes.
    pub endian: Endian,
    /// The chunk grid.
    pub grid: ChunkGrid,
    /// Codec chain in encode order.
    pub codecs: Vec<CodecSpec>,
    /// Stored chunks; a grid position with no entry holds only fill values.
    pub chunks: Vec<ChunkRef>,
    /// Fill value bytes for missing chunks (one element, stored byte order).
    #[serde(skip)]
    pub fill_bytes: Option<Vec<u8>>,
}

impl ChunkManifest {
    /// Sum of stored chunk lengths.
    pub fn stored_bytes(&self) -> u64 {
        self.chunks.iter().map(|c| c.length).sum()
    }
}

/// A strided range along one dimension: `start..stop` by `step`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DimSlice {
    /// First index.
    pub start: u64,
    /// One past the last index.
    pub stop: u64,
    /// Stride, at least 1.
    pub step: u64,
}

impl DimSlice {
    /// The whole extent `0..len`.
    pub fn all(len: u64) -> Self {
        DimSlice {
            start: 0,
            stop: len,
            step: 1,
        }
    }

    /// Number of selected indices.
    pub fn len(&self) -> u64 {
        if self.stop <= self.start {
            0
        } else {
            (self.stop - self.start).div_ceil(self.step.max(1))
        }
    }

    /// True when nothing is selected.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The selected indices.
    pub fn indices(&self) -> impl Iterator<Item = u64> + '_ {
        (self.start..self.stop).step_by(self.step.max(1) as usize)
    }
}

/// A hyperslab selection: one [`DimSlice`] per dimension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Selection {
    /// One slice per dimension, outermost first.
    pub dims: Vec<DimSlice>,
}

impl Selection {
    /// Select everything of an array of this shape.
    pub fn all(shape: &[u64]) -> Self {
        Selection {
            dims: shape.iter().map(|&n| DimSlice::all(n)).collect(),
        }
    }

    /// Shape of the selected result.
    pub fn shape(&self) -> Vec<u64> {
        self.dims.iter().map(DimSlice::len).collect()
    }

    /// Number of selected elements.
    pub fn element_count(&self) -> u64 {
        self.shape().iter().product()
    }

    /// Parse `time=0:10,lat=5,lon=::2` against dimension names and shape.
    ///
    /// Each item is `dim=START[:STOP[:STEP]]` with Python semantics for omitted
    /// parts and negative indices; a bare index selects one element (the
    /// dimension is kept, with length 1). Dimensions not named are selected whole.
    pub fn parse(spec: &str, variable: &str, dims: &[String], shape: &[u64]) -> Result<Self> {
        let mut sel = Selection::all(shape);
        let bad = |reason: String| Error::BadSelection {
            variable: variable.to_string(),
            selection: spec.to_string(),
            shape: shape.to_vec(),
            reason,
        };
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, range) = item
                .split_once('=')
                .ok_or_else(|| bad(format!("'{item}' is not dim=start:stop")))?;
            let d = dims.iter().position(|n| n == name.trim()).ok_or_else(|| {
                bad(format!(
                    "no dimension '{}'; dimensions are {}",
                    name.trim(),
                    dims.join(", ")
                ))
            })?;
            let len = shape[d];
            let parts: Vec<&str> = range.split(':').map(str::trim).collect();
            if parts.len() > 3 {
                return Err(bad(format!("'{range}' has more than two ':'")));
            }
            let num = |s: &str| -> Result<Option<i64>> {
                if s.is_empty() {
                    Ok(None)
                } else {
                    s.parse::<i64>()
                        .map(Some)
                        .map_err(|_| bad(format!("'{s}' is not an integer")))
                }
            };
            let resolve = |i: i64| -> u64 {
                if i < 0 {
                    (len as i64 + i).max(0) as u64
                } else {
                    (i as u64).min(len)
                }
            };
            let slice = if parts.len() == 1 {
                let i = num(parts[0])?.ok_or_else(|| bad(format!("empty index for {name}")))?;
                let idx = if i < 0 { len as i64 + i } else { i };
                if idx < 0 || idx as u64 >= len {
                    return Err(bad(format!(
                        "index {i} is outside dimension {name} of length {len}"
                    )));
                }
                DimSlice {
                    start: idx as u64,
                    stop: idx as u64 + 1,
                    step: 1,
                }
            } else {
                let step = match parts.get(2) {
                    Some(s) => num(s)?.unwrap_or(1),
                    None => 1,
                };
                if step <= 0 {
                    return Err(bad(format!("step must be a positive integer, got {step}")));
                }
                let start = num(parts[0])?.map(resolve).unwrap_or(0);
                let stop = num(parts[1])?.map(resolve).unwrap_or(len);
                DimSlice {
                    start,
                    stop: stop.max(start),
                    step: step as u64,
                }
            };
            sel.dims[d] = slice;
        }
        Ok(sel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_tables_serialize_as_base64() {
        let spec = |t: &[u8]| CodecSpec::Jpeg {
            tables: Some(t.to_vec()),
            ycbcr_to_rgb: true,
        };
        let json = serde_json::to_value(spec(b"Man")).unwrap();
        assert_eq!(json["tables"], "TWFu");
        assert_eq!(json["name"], "jpeg");
        assert_eq!(serde_json::to_value(spec(b"Ma")).unwrap()["tables"], "TWE=");
        assert_eq!(serde_json::to_value(spec(b"M")).unwrap()["tables"], "TQ==");
        let none = CodecSpec::Jpeg {
            tables: None,
            ycbcr_to_rgb: false,
        };
        assert!(serde_json::to_value(none).unwrap()["tables"].is_null());
    }

    #[test]
    fn parse_selection_with_negative_and_steps() {
        let dims = vec!["time".to_string(), "lat".to_string()];
        let s = Selection::parse("time=-3:,lat=::2", "t", &dims, &[10, 5]).unwrap();
        assert_eq!(
            s.dims[0],
            DimSlice {
                start: 7,
                stop: 10,
                step: 1
            }
        );
        assert_eq!(s.shape(), vec![3, 3]);
        assert!(Selection::parse("depth=0", "t", &dims, &[10, 5]).is_err());
        assert!(Selection::parse("time=10", "t", &dims, &[10, 5]).is_err());
    }

    #[test]
    fn chunks_for_a_selection_touch_only_needed_chunks() {
        let g = ChunkGrid::new(vec![10, 10], vec![4, 5]).unwrap();
        assert_eq!(g.grid_shape(), vec![3, 2]);
        let s = Selection {
            dims: vec![
                DimSlice {
                    start: 3,
                    stop: 5,
                    step: 1,
                },
                DimSlice::all(3),
            ],
        };
        assert_eq!(g.chunks_for(&s), vec![vec![0, 0], vec![1, 0]]);
        assert_eq!(g.chunk_bounds(&[2, 1]), vec![(8, 10), (5, 10)]);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;
        use std::collections::BTreeSet;

        /// An array shape (rank 0 to 3, extents 0 to 12) with a chunk shape
        /// (extents 0 to 6; 0 is raised to 1) and a selection inside the array.
        fn grid_and_selection() -> impl Strategy<Value = (Vec<u64>, Vec<u64>, Selection)> {
            prop::collection::vec((0u64..=12, 0u64..=6), 0..=3).prop_flat_map(|dims| {
                let shape: Vec<u64> = dims.iter().map(|d| d.0).collect();
                let chunks: Vec<u64> = dims.iter().map(|d| d.1).collect();
                let slices: Vec<_> = shape
                    .iter()
                    .map(|&n| {
                        (0..=n, 0..=n, 1u64..=5).prop_map(|(a, b, step)| DimSlice {
                            start: a.min(b),
                            stop: a.max(b),
                            step,
                        })
                    })
                    .collect();
                (Just(shape), Just(chunks), slices)
                    .prop_map(|(shape, chunks, dims)| (shape, chunks, Selection { dims }))
            })
        }

        /// Every element of a selection, by brute force.
        fn selected_elements(sel: &Selection) -> Vec<Vec<u64>> {
            let lists: Vec<Vec<u64>> = sel.dims.iter().map(|d| d.indices().collect()).collect();
            cartesian(&lists)
        }

        proptest! {
            #[test]
            fn chunks_for_lists_exactly_the_chunks_holding_selected_elements(
                (shape, chunks, sel) in grid_and_selection()
            ) {
                let grid = ChunkGrid::new(shape, chunks).unwrap();
                let listed = grid.chunks_for(&sel);
                let expected: BTreeSet<Vec<u64>> = selected_elements(&sel)
                    .into_iter()
                    .map(|e| e.iter().zip(&grid.chunk_shape).map(|(i, c)| i / c).collect())
                    .collect();
                // Sorted in C order (lexicographic), no duplicates, nothing missing or extra.
                prop_assert!(listed.windows(2).all(|w| w[0] < w[1]), "not strictly C-ordered: {listed:?}");
                prop_assert_eq!(listed, expected.into_iter().collect::<Vec<_>>());
            }

            #[test]
            fn listed_chunks_lie_inside_the_grid_and_cover_the_selection(
                (shape, chunks, sel) in grid_and_selection()
            ) {
                let grid = ChunkGrid::new(shape, chunks).unwrap();
                let grid_shape = grid.grid_shape();
                for index in grid.chunks_for(&sel) {
                    prop_assert!(index.iter().zip(&grid_shape).all(|(i, n)| i < n));
                    let bounds = grid.chunk_bounds(&index);
                    // Some selected element falls inside this chunk's bounds.
                    let hit = selected_elements(&sel).iter().any(|e| {
                        e.iter().zip(&bounds).all(|(i, (lo, hi))| lo <= i && i < hi)
                    });
                    prop_assert!(hit, "chunk {index:?} holds no selected element");
                }
                prop_assert_eq!(grid.chunks_for(&sel).is_empty(), sel.element_count() == 0);
            }

            #[test]
            fn chunk_bounds_partition_the_array(
                dims in prop::collection::vec((0u64..=12, 0u64..=6), 0..=3)
            ) {
                let shape: Vec<u64> = dims.iter().map(|d| d.0).collect();
                let chunks: Vec<u64> = dims.iter().map(|d| d.1).collect();
                let grid = ChunkGrid::new(shape.clone(), chunks).unwrap();
                let all: Vec<Vec<u64>> = cartesian(
                    &grid.grid_shape().iter().map(|&n| (0..n).collect()).collect::<Vec<_>>(),
                );
                prop_assert_eq!(all.len() as u64, grid.chunk_count());
                let elements = selected_elements(&Selection::all(&shape));
                let mut covered = vec![0u32; elements.len()];
                for index in &all {
                    let bounds = grid.chunk_bounds(index);
                    prop_assert_eq!(bounds.len(), shape.len());
                    for (((lo, hi), n), c) in bounds.iter().zip(&shape).zip(&grid.chunk_shape) {
                        prop_assert!(lo < hi, "empty chunk {index:?}: {bounds:?}");
                        prop_assert!(*hi <= *n && hi - lo <= *c);
                    }
                    for (k, e) in elements.iter().enumerate() {
                        if e.iter().zip(&bounds).all(|(i, (lo, hi))| lo <= i && i < hi) {
                            covered[k] += 1;
                        }
                    }
                }
                prop_assert!(covered.iter().all(|&c| c == 1), "coverage {covered:?}");
            }

            #[test]
            fn selection_parse_round_trips_formatted_slices(
                (shape, _chunks, sel) in grid_and_selection()
            ) {
                let names: Vec<String> = (0..shape.len()).map(|i| format!("d{i}")).collect();
                let spec: Vec<String> = sel
                    .dims
                    .iter()
                    .zip(&names)
                    .map(|(d, n)| format!("{n}={}:{}:{}", d.start, d.stop, d.step))
                    .collect();
                let spec = spec.join(",");
                let parsed = Selection::parse(&spec, "v", &names, &shape).unwrap();
                prop_assert_eq!(parsed, sel);
            }

            #[test]
            fn selection_parse_follows_python_slice_semantics(
                shape in prop::collection::vec(0u64..=10, 1..=3),
                items in prop::collection::vec(
                    (
                        0usize..3,
                        prop::option::of(-14i64..14),
                        prop::option::of(-14i64..14),
                        prop::option::of(1i64..4),
                        any::<bool>(),
                    ),
                    0..=3,
                ),
            ) {
                let names: Vec<String> = (0..shape.len()).map(|i| format!("dim{i}")).collect();
                // Python: list(range(n))[start:stop:step], and a bare index a[i].
                let mut expected: Vec<Vec<u64>> = shape.iter().map(|&n| (0..n).collect()).collect();
                let mut out_of_range = false;
                let mut spec = Vec::new();
                for &(d, start, stop, step, bare) in &items {
                    let d = d % shape.len();
                    let n = shape[d] as i64;
                    if bare {
                        let i = start.unwrap_or(0);
                        spec.push(format!("{}={i}", names[d]));
                        let idx = if i < 0 { n + i } else { i };
                        out_of_range |= !(0..n).contains(&idx);
                        expected[d] = vec![idx.max(0) as u64];
                    } else {
                        let show = |x: Option<i64>| x.map(|v| v.to_string()).unwrap_or_default();
                        match step {
                            Some(s) => spec.push(format!("{}={}:{}:{s}", names[d], show(start), show(stop))),
                            None => spec.push(format!("{}={}:{}", names[d], show(start), show(stop))),
                        }
                        let clamp = |v: i64| if v < 0 { (n + v).max(0) } else { v.min(n) };
                        let lo = start.map(clamp).unwrap_or(0);
                        let hi = stop.map(clamp).unwrap_or(n);
                        let step = step.unwrap_or(1);
                        expected[d] = (lo..hi).step_by(step as usize).map(|i| i as u64).collect();
                    }
                }
                let spec = spec.join(",");
                let parsed = Selection::parse(&spec, "v", &names, &shape);
                if out_of_range {
                    prop_assert!(parsed.is_err(), "{spec} should fail");
                } else {
                    let parsed = parsed.unwrap();
                    for (d, want) in parsed.dims.iter().zip(&expected) {
                        prop_assert_eq!(&d.indices().collect::<Vec<u64>>(), want, "{}", spec);
                        prop_assert_eq!(d.len(), d.indices().count() as u64);
                    }
                }
            }
        }
    }
}
