//! Test support: the shared helpers of arco-testkit, a small TIFF
//! writer, and a reader that decodes every chunk of a manifest through
//! arco-codecs (the read engine lives in arco-formats, above this crate).

use arco_codecs::{decode_chunk, ChunkContext};
use arco_core::{ChunkManifest, Endian};
use arco_geotiff::TiffFile;
use arco_storage::DynSource;
use arco_testkit::repo_path;
use std::ops::Range;
use std::sync::Arc;

pub use arco_testkit::RecordingSource as MemSource;

/// Open bytes as `mem.tif`.
pub fn open(bytes: &[u8]) -> arco_geotiff::Result<TiffFile> {
    let source: DynSource = MemSource::new("mem.tif", bytes.to_vec());
    TiffFile::open(source)
}

pub fn fixture_path(name: &str) -> String {
    repo_path(&format!("tests/data/fixtures/tiff/{name}"))
}

pub fn real_path(name: &str) -> String {
    repo_path(&format!("tests/data/real/geotiff/{name}"))
}

/// Open a file on disk; also returns its bytes.
pub fn open_path(path: &str) -> (TiffFile, Vec<u8>) {
    let name = path.rsplit('/').next().unwrap();
    let source = Arc::new(arco_storage::LocalFile::open(path, name).unwrap());
    (
        TiffFile::open(source).unwrap(),
        std::fs::read(path).unwrap(),
    )
}

/// Every element of `var`, decoded chunk by chunk, as little-endian bytes in
/// C order; missing chunks hold the manifest's fill bytes.
pub fn read_all(file: &TiffFile, bytes: &[u8], var: &str) -> Vec<u8> {
    let m = file.manifest(var).unwrap();
    read_manifest(&m, bytes)
}

pub fn read_manifest(m: &ChunkManifest, bytes: &[u8]) -> Vec<u8> {
    let es = m.dtype.size().unwrap();
    let shape = &m.grid.array_shape;
    let n: u64 = shape.iter().product();
    let mut out = Vec::with_capacity(n as usize * es);
    let fill = m.fill_bytes.clone().unwrap_or_else(|| vec![0; es]);
    for _ in 0..n {
        out.extend_from_slice(&fill);
    }
    let full: usize = m.grid.chunk_shape.iter().product::<u64>() as usize;
    for c in &m.chunks {
        let raw: &[u8] = match &c.inline {
            Some(b) => b,
            None => &bytes[c.offset as usize..(c.offset + c.length) as usize],
        };
        let ctx = ChunkContext {
            label: "test",
            dtype: &m.dtype,
            endian: m.endian,
            elements: full,
        };
        let decoded = decode_chunk(raw, &m.codecs, c.filter_mask, &ctx).unwrap();
        let bounds = m.grid.chunk_bounds(&c.index);
        let clipped: Vec<u64> = bounds.iter().map(|(a, b)| b - a).collect();
        let layout: Vec<u64> = if decoded.len() == full * es {
            m.grid.chunk_shape.clone()
        } else {
            assert_eq!(
                decoded.len() as u64,
                clipped.iter().product::<u64>() * es as u64,
                "chunk {:?} decoded to {} bytes",
                c.index,
                decoded.len()
            );
            clipped.clone()
        };
        // Every element of the clipped chunk.
        let rank = shape.len();
        let count: u64 = clipped.iter().product();
        for k in 0..count {
            let mut rest = k;
            let mut pos = vec![0u64; rank];
            for d in (0..rank).rev() {
                pos[d] = rest % clipped[d];
                rest /= clipped[d];
            }
            let mut src = 0u64;
            let mut dst = 0u64;
            for d in 0..rank {
                src = src * layout[d] + pos[d];
                dst = dst * shape[d] + bounds[d].0 + pos[d];
            }
            let s = &decoded[src as usize * es..(src as usize + 1) * es];
            out[dst as usize * es..(dst as usize + 1) * es].copy_from_slice(s);
        }
    }
    if m.endian == Endian::Big && es > 1 {
        for e in out.chunks_exact_mut(es) {
            e.reverse();
        }
    }
    out
}

/// Values of a little-endian f64 byte vector.
pub fn f64s(b: &[u8]) -> Vec<f64> {
    b.chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

/// A tag value for [`Tiff`].
#[derive(Debug, Clone)]
pub enum V {
    Short(Vec<u16>),
    Long(Vec<u32>),
    Long8(Vec<u64>),
    Double(Vec<f64>),
    Ascii(String),
}

/// One IFD for [`Tiff`]: tags (without offsets and byte counts), blocks
/// (`None` = never written) and whether they are tiles.
pub type IfdSpec = (Vec<(u16, V)>, Vec<Option<Vec<u8>>>, bool);

/// A TIFF writer: one or more IFDs, written right after the header (as a COG
/// puts them), their out-of-line values after them, then the blocks.
#[derive(Debug, Clone)]
pub struct Tiff {
    pub big: bool,
    pub be: bool,
    /// Per IFD: tags (without offsets/bytecounts) and blocks (None = sparse).
    pub ifds: Vec<IfdSpec>,
    /// Write the blocks first and the IFDs at the end (as non-COG writers do).
    pub ifds_last: bool,
}

/// Where [`Tiff::bytes`] put things.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// Start and end of the IFDs and their values.
    pub meta_start: u64,
    /// End of the metadata (header, IFDs and their values).
    pub meta_end: u64,
    /// Byte range of every block, per IFD (None for sparse ones).
    pub blocks: Vec<Vec<Option<Range<u64>>>>,
}

impl Tiff {
    pub fn new(big: bool, be: bool) -> Self {
        Tiff {
            big,
            be,
            ifds: Vec::new(),
            ifds_last: false,
        }
    }

    /// Add an IFD; `tiled` picks TileOffsets/TileByteCounts over strips.
    pub fn ifd(mut self, tags: Vec<(u16, V)>, blocks: Vec<Option<Vec<u8>>>, tiled: bool) -> Self {
        self.ifds.push((tags, blocks, tiled));
        self
    }

    fn u16b(&self, v: u16) -> Vec<u8> {
        if self.be {
            v.to_be_bytes().to_vec()
        } else {
            v.to_le_bytes().to_vec()
        }
    }
    fn u32b(&self, v: u32) -> Vec<u8> {
        if self.be {
            v.to_be_bytes().to_vec()
        } else {
            v.to_le_bytes().to_vec()
        }
    }
    fn u64b(&self, v: u64) -> Vec<u8> {
        if self.be {
            v.to_be_bytes().to_vec()
        } else {
            v.to_le_bytes().to_vec()
        }
    }

    fn encode(&self, v: &V) -> (u16, u64, Vec<u8>) {
        match v {
            V::Short(x) => (
                3,
                x.len() as u64,
                x.iter().flat_map(|&a| self.u16b(a)).collect(),
            ),
            V::Long(x) => (
                4,
                x.len() as u64,
                x.iter().flat_map(|&a| self.u32b(a)).collect(),
            ),
            V::Long8(x) => (
                16,
                x.len() as u64,
                x.iter().flat_map(|&a| self.u64b(a)).collect(),
            ),
            V::Double(x) => (
                12,
                x.len() as u64,
                x.iter().flat_map(|&a| self.u64b(a.to_bits())).collect(),
            ),
            V::Ascii(s) => {
                let mut b = s.as_bytes().to_vec();
                b.push(0);
                (2, b.len() as u64, b)
            }
        }
    }

    pub fn bytes(&self) -> (Vec<u8>, Layout) {
        let (entry, count_len, link_len, inline) = if self.big {
            (20u64, 8u64, 8u64, 8usize)
        } else {
            (12, 2, 4, 4)
        };
        let header_len: u64 = if self.big { 16 } else { 8 };
        // Tags per IFD, with offset/bytecount placeholders.
        let mut all_tags: Vec<Vec<(u16, V)>> = Vec::new();
        for (tags, blocks, tiled) in &self.ifds {
            let mut t = tags.clone();
            let (ot, ct) = if *tiled { (324, 325) } else { (273, 279) };
            let n = blocks.len();
            if self.big {
                t.push((ot, V::Long8(vec![0; n])));
                t.push((ct, V::Long8(vec![0; n])));
            } else {
                t.push((ot, V::Long(vec![0; n])));
                t.push((ct, V::Long(vec![0; n])));
            }
            t.sort_by_key(|x| x.0);
            all_tags.push(t);
        }
        let data_len: u64 = self
            .ifds
            .iter()
            .flat_map(|i| i.1.iter().flatten())
            .map(|b| b.len() as u64)
            .sum();
        // Sizes: IFDs back to back, then each IFD's out-of-line values.
        let mut pos = header_len;
        let mut data_start = pos;
        if self.ifds_last {
            pos += data_len;
            pos += pos % 2;
        }
        let meta_start = pos;
        let mut ifd_at = Vec::new();
        for t in &all_tags {
            ifd_at.push(pos);
            pos += count_len + entry * t.len() as u64 + link_len;
        }
        let mut value_at: Vec<Vec<Option<u64>>> = Vec::new();
        for t in &all_tags {
            let mut v = Vec::new();
            for (_, val) in t {
                let (_, _, b) = self.encode(val);
                if b.len() > inline {
                    v.push(Some(pos));
                    pos += b.len() as u64;
                    pos += pos % 2;
                } else {
                    v.push(None);
                }
            }
            value_at.push(v);
        }
        let meta_end = pos;
        if !self.ifds_last {
            data_start = pos;
        }
        // Blocks.
        let mut layout = Layout {
            meta_start,
            meta_end,
            blocks: Vec::new(),
        };
        let mut block_ranges = Vec::new();
        let mut dpos = data_start;
        for (_, blocks, _) in &self.ifds {
            let mut r = Vec::new();
            for b in blocks {
                match b {
                    Some(b) => {
                        r.push(Some(dpos..dpos + b.len() as u64));
                        dpos += b.len() as u64;
                    }
                    None => r.push(None),
                }
            }
            block_ranges.push(r);
        }
        layout.blocks = block_ranges.clone();
        // Fill in offsets and counts.
        for (k, t) in all_tags.iter_mut().enumerate() {
            for (tag, val) in t.iter_mut() {
                let ranges = &block_ranges[k];
                let offs: Vec<u64> = ranges
                    .iter()
                    .map(|r| r.as_ref().map_or(0, |r| r.start))
                    .collect();
                let cnts: Vec<u64> = ranges
                    .iter()
                    .map(|r| r.as_ref().map_or(0, |r| r.end - r.start))
                    .collect();
                let pick = match *tag {
                    273 | 324 => Some(offs),
                    279 | 325 => Some(cnts),
                    _ => None,
                };
                if let Some(p) = pick {
                    *val = if self.big {
                        V::Long8(p)
                    } else {
                        V::Long(p.iter().map(|&x| x as u32).collect())
                    };
                }
            }
        }
        // Write.
        let total = meta_end.max(data_start + data_len) as usize;
        let mut out = vec![0u8; total];
        let mut put =
            |at: u64, b: &[u8]| out[at as usize..at as usize + b.len()].copy_from_slice(b);
        let mut head = Vec::new();
        head.extend_from_slice(if self.be { b"MM" } else { b"II" });
        if self.big {
            head.extend(self.u16b(43));
            head.extend(self.u16b(8));
            head.extend(self.u16b(0));
            head.extend(self.u64b(ifd_at[0]));
        } else {
            head.extend(self.u16b(42));
            head.extend(self.u32b(ifd_at[0] as u32));
        }
        put(0, &head);
        for (k, t) in all_tags.iter().enumerate() {
            let mut ifd = Vec::new();
            if self.big {
                ifd.extend(self.u64b(t.len() as u64));
            } else {
                ifd.extend(self.u16b(t.len() as u16));
            }
            for (i, (tag, val)) in t.iter().enumerate() {
                let (typ, count, b) = self.encode(val);
                ifd.extend(self.u16b(*tag));
                ifd.extend(self.u16b(typ));
                if self.big {
                    ifd.extend(self.u64b(count));
                } else {
                    ifd.extend(self.u32b(count as u32));
                }
                let mut field = match value_at[k][i] {
                    Some(at) => {
                        put(at, &b);
                        if self.big {
                            self.u64b(at)
                        } else {
                            self.u32b(at as u32)
                        }
                    }
                    None => b.clone(),
                };
                field.resize(inline, 0);
                ifd.extend(field);
            }
            let next = ifd_at.get(k + 1).copied().unwrap_or(0);
            if self.big {
                ifd.extend(self.u64b(next));
            } else {
                ifd.extend(self.u32b(next as u32));
            }
            put(ifd_at[k], &ifd);
        }
        for (k, (_, blocks, _)) in self.ifds.iter().enumerate() {
            for (b, r) in blocks.iter().zip(&block_ranges[k]) {
                if let (Some(b), Some(r)) = (b, r) {
                    put(r.start, b);
                }
            }
        }
        (out, layout)
    }
}

/// The tags of a `width` x `height` single-band image of `bits`-bit samples.
pub fn image_tags(width: u32, height: u32, bits: u16, format: u16) -> Vec<(u16, V)> {
    vec![
        (256, V::Long(vec![width])),
        (257, V::Long(vec![height])),
        (258, V::Short(vec![bits])),
        (259, V::Short(vec![1])),
        (262, V::Short(vec![1])),
        (277, V::Short(vec![1])),
        (339, V::Short(vec![format])),
    ]
}

/// GeoTIFF tags: WGS 84 / UTM 33N, 10 m pixels from (500000, 4650000).
pub fn utm_tags() -> Vec<(u16, V)> {
    vec![
        (33550, V::Double(vec![10.0, 10.0, 0.0])),
        (
            33922,
            V::Double(vec![0.0, 0.0, 0.0, 500000.0, 4650000.0, 0.0]),
        ),
        (
            34735,
            V::Short(vec![
                1, 1, 0, 3, 1024, 0, 1, 1, 1025, 0, 1, 1, 3072, 0, 1, 32633,
            ]),
        ),
    ]
}
