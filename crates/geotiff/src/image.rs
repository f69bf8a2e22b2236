//! One raster of a TIFF file (an IFD): its geometry, sample type, block
//! layout and codecs.

use crate::ifd::{Entry, Ifd, Tags};
use crate::Result;
use arco_core::{CodecSpec, DType, Endian};

/// TIFF tags this reader understands.
pub(crate) mod tag {
    pub const NEW_SUBFILE_TYPE: u16 = 254;
    pub const IMAGE_WIDTH: u16 = 256;
    pub const IMAGE_LENGTH: u16 = 257;
    pub const BITS_PER_SAMPLE: u16 = 258;
    pub const COMPRESSION: u16 = 259;
    pub const PHOTOMETRIC: u16 = 262;
    pub const DOCUMENT_NAME: u16 = 269;
    pub const IMAGE_DESCRIPTION: u16 = 270;
    pub const STRIP_OFFSETS: u16 = 273;
    pub const SAMPLES_PER_PIXEL: u16 = 277;
    pub const ROWS_PER_STRIP: u16 = 278;
    pub const STRIP_BYTE_COUNTS: u16 = 279;
    pub const PLANAR_CONFIGURATION: u16 = 284;
    pub const SOFTWARE: u16 = 305;
    pub const DATE_TIME: u16 = 306;
    pub const ARTIST: u16 = 315;
    pub const HOST_COMPUTER: u16 = 316;
    pub const PREDICTOR: u16 = 317;
    pub const TILE_WIDTH: u16 = 322;
    pub const TILE_LENGTH: u16 = 323;
    pub const TILE_OFFSETS: u16 = 324;
    pub const TILE_BYTE_COUNTS: u16 = 325;
    pub const SAMPLE_FORMAT: u16 = 339;
    pub const JPEG_TABLES: u16 = 347;
    pub const COPYRIGHT: u16 = 33432;
    pub const MODEL_PIXEL_SCALE: u16 = 33550;
    pub const MODEL_TIEPOINT: u16 = 33922;
    pub const MODEL_TRANSFORMATION: u16 = 34264;
    pub const GEO_KEY_DIRECTORY: u16 = 34735;
    pub const GEO_DOUBLE_PARAMS: u16 = 34736;
    pub const GEO_ASCII_PARAMS: u16 = 34737;
    pub const GDAL_METADATA: u16 = 42112;
    pub const GDAL_NODATA: u16 = 42113;
    pub const LERC_PARAMETERS: u16 = 50674;
}

/// How an image's pixels are cut into separately stored blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocks {
    /// Tiles of this many columns and rows (edge tiles are stored full size).
    Tiles {
        /// Tile width in pixels.
        width: u64,
        /// Tile height in pixels.
        height: u64,
    },
    /// Strips of this many full-width rows (the last strip may be shorter).
    Strips {
        /// Rows per strip, at most the image height.
        rows: u64,
    },
}

/// What an IFD is, from its `NewSubfileType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A full-resolution image (the first, or another page).
    Full,
    /// A reduced-resolution version of the full image (an overview).
    Overview,
    /// A transparency mask (GDAL's internal mask), full or reduced resolution.
    Mask,
}

/// One raster (IFD) of the file.
#[derive(Debug, Clone)]
pub struct Image {
    /// Position in the IFD chain, 0 first.
    pub ifd: usize,
    /// File offset of the IFD.
    pub ifd_offset: u64,
    /// Full, overview or mask.
    pub role: Role,
    /// Width in pixels.
    pub width: u64,
    /// Height in pixels.
    pub height: u64,
    /// Samples (bands) per pixel.
    pub samples_per_pixel: u32,
    /// Bits per sample (the same for every sample).
    pub bits_per_sample: u32,
    /// `SampleFormat`: 1 unsigned, 2 signed, 3 floating point.
    pub sample_format: u16,
    /// True for `PlanarConfiguration` 2: each band stored in its own blocks.
    pub planar_separate: bool,
    /// `Compression` tag.
    pub compression: u16,
    /// `Predictor` tag: 1 none, 2 horizontal, 3 floating point.
    pub predictor: u16,
    /// `PhotometricInterpretation`, when given.
    pub photometric: Option<u16>,
    /// Tile or strip layout.
    pub blocks: Blocks,
    /// Byte offset of each block (planes one after the other when planar-separate).
    pub offsets: Vec<u64>,
    /// Stored size of each block; 0 (with offset 0) marks a block never written.
    pub byte_counts: Vec<u64>,
    /// `JPEGTables`, for JPEG compression.
    pub jpeg_tables: Option<Vec<u8>>,
    /// LERC's second compression from `LercParameters`: 0 none, 1 deflate, 2 zstd.
    pub lerc_additional: u32,
    /// Element type of the samples, when arco reads it.
    pub dtype: Option<DType>,
    /// Why the samples cannot be read, when `dtype` is `None`.
    pub unsupported: Option<String>,
}

impl Image {
    /// Read the tags of `ifd` that describe its raster.
    pub(crate) fn parse(t: &mut Tags<'_, '_>, ifd: &Ifd, index: usize) -> Result<Image> {
        let need = |t: &mut Tags<'_, '_>, code: u16, name: &str| -> Result<Entry> {
            ifd.entry(code).cloned().ok_or_else(|| {
                t.f.bad(
                    ifd.offset,
                    format!("IFD {index} has no {name} tag ({code}), which every image needs"),
                )
            })
        };
        let opt_uint = |t: &mut Tags<'_, '_>, code: u16, name: &str| -> Result<Option<u64>> {
            match ifd.entry(code) {
                Some(e) => Ok(Some(t.uint(e, name)?)),
                None => Ok(None),
            }
        };
        let e = need(t, tag::IMAGE_WIDTH, "ImageWidth")?;
        let width = t.uint(&e, "ImageWidth")?;
        let e = need(t, tag::IMAGE_LENGTH, "ImageLength")?;
        let height = t.uint(&e, "ImageLength")?;
        let subfile = opt_uint(t, tag::NEW_SUBFILE_TYPE, "NewSubfileType")?.unwrap_or(0);
        let photometric =
            opt_uint(t, tag::PHOTOMETRIC, "PhotometricInterpretation")?.map(|v| v as u16);
        let role = if subfile & 4 != 0 || photometric == Some(4) {
            Role::Mask
        } else if subfile & 1 != 0 {
            Role::Overview
        } else {
            Role::Full
        };
        let spp = opt_uint(t, tag::SAMPLES_PER_PIXEL, "SamplesPerPixel")?.unwrap_or(1);
        if spp == 0 || spp > 65535 {
            return Err(t.f.bad(
                ifd.offset,
                format!("IFD {index} has SamplesPerPixel = {spp}"),
            ));
        }
        let bits = match ifd.entry(tag::BITS_PER_SAMPLE) {
            Some(e) => t.uints(e, "BitsPerSample")?,
            None => vec![1],
        };
        let bits_per_sample = bits.first().copied().unwrap_or(1) as u32;
        let formats = match ifd.entry(tag::SAMPLE_FORMAT) {
            Some(e) => t.uints(e, "SampleFormat")?,
            None => vec![1],
        };
        let sample_format = formats.first().copied().unwrap_or(1) as u16;
        let planar_separate =
            opt_uint(t, tag::PLANAR_CONFIGURATION, "PlanarConfiguration")?.unwrap_or(1) == 2
                && spp > 1;
        let compression = opt_uint(t, tag::COMPRESSION, "Compression")?.unwrap_or(1) as u16;
        let predictor = opt_uint(t, tag::PREDICTOR, "Predictor")?.unwrap_or(1) as u16;

        let (blocks, off_e, cnt_e, names) = match ifd.entry(tag::TILE_WIDTH) {
            Some(tw) => {
                let w = t.uint(tw, "TileWidth")?;
                let e = need(t, tag::TILE_LENGTH, "TileLength")?;
                let h = t.uint(&e, "TileLength")?;
                if w == 0 || h == 0 {
                    return Err(t
                        .f
                        .bad(tw.at, format!("IFD {index} has tiles of {w} x {h} pixels")));
                }
                (
                    Blocks::Tiles {
                        width: w,
                        height: h,
                    },
                    need(t, tag::TILE_OFFSETS, "TileOffsets")?,
                    need(t, tag::TILE_BYTE_COUNTS, "TileByteCounts")?,
                    ("TileOffsets", "TileByteCounts"),
                )
            }
            None => {
                let rows = opt_uint(t, tag::ROWS_PER_STRIP, "RowsPerStrip")?
                    .unwrap_or(u64::from(u32::MAX));
                (
                    Blocks::Strips {
                        rows: rows.min(height).max(1),
                    },
                    need(t, tag::STRIP_OFFSETS, "StripOffsets")?,
                    need(t, tag::STRIP_BYTE_COUNTS, "StripByteCounts")?,
                    ("StripOffsets", "StripByteCounts"),
                )
            }
        };
        let offsets = t.uints(&off_e, names.0)?;
        let byte_counts = t.uints(&cnt_e, names.1)?;
        let (across, down) = match blocks {
            Blocks::Tiles {
                width: tw,
                height: th,
            } => (width.div_ceil(tw), height.div_ceil(th)),
            Blocks::Strips { rows } => (1, height.div_ceil(rows)),
        };
        let planes = if planar_separate { spp } else { 1 };
        let expected = across.saturating_mul(down).saturating_mul(planes);
        if offsets.len() as u64 != expected || byte_counts.len() as u64 != expected {
            return Err(t.f.bad(
                off_e.at,
                format!(
                    "IFD {index} ({width} x {height} pixels, {planes} plane(s)) needs {expected} \
                     block offsets and byte counts, but {} has {} and {} has {}",
                    names.0,
                    offsets.len(),
                    names.1,
                    byte_counts.len()
                ),
            ));
        }
        let jpeg_tables = match ifd.entry(tag::JPEG_TABLES) {
            Some(e) if compression == 7 => Some(t.raw(e, "JPEGTables")?.to_vec()),
            _ => None,
        };
        let lerc_additional = match ifd.entry(tag::LERC_PARAMETERS) {
            Some(e) if compression == 34887 => {
                t.uints(e, "LercParameters")?.get(1).copied().unwrap_or(0) as u32
            }
            _ => 0,
        };
        let (dtype, unsupported) = match sample_type(sample_format, bits_per_sample) {
            Ok(d) => {
                if bits.iter().any(|&b| b as u32 != bits_per_sample)
                    || formats.iter().any(|&f| f as u16 != sample_format)
                {
                    (
                        None,
                        Some("its bands have different sample types; arco reads images whose bands share one type".to_string()),
                    )
                } else {
                    (Some(d), None)
                }
            }
            Err(why) => (None, Some(why)),
        };
        Ok(Image {
            ifd: index,
            ifd_offset: ifd.offset,
            role,
            width,
            height,
            samples_per_pixel: spp as u32,
            bits_per_sample,
            sample_format,
            planar_separate,
            compression,
            predictor,
            photometric,
            blocks,
            offsets,
            byte_counts,
            jpeg_tables,
            lerc_additional,
            dtype,
            unsupported,
        })
    }

    /// Pixels per block row and rows per block.
    pub fn block_shape(&self) -> (u64, u64) {
        match self.blocks {
            Blocks::Tiles { width, height } => (width, height),
            Blocks::Strips { rows } => (self.width, rows),
        }
    }

    /// Blocks across and down one plane.
    pub fn blocks_across_down(&self) -> (u64, u64) {
        let (bw, bh) = self.block_shape();
        (self.width.div_ceil(bw), self.height.div_ceil(bh))
    }

    /// The codec chain of this image's blocks, in encode order, for samples
    /// of byte order `endian` (the file's).
    pub fn codecs(&self, endian: Endian) -> Vec<CodecSpec> {
        let mut codecs = Vec::new();
        let spp = self.samples_per_pixel;
        let chunky = !self.planar_separate && spp > 1;
        let es = (self.bits_per_sample / 8).max(1);
        if chunky {
            codecs.push(CodecSpec::Interleave {
                samples: spp,
                element_size: es as usize,
            });
        }
        let row_pixels = self.block_shape().0;
        let in_row = if chunky { spp } else { 1 };
        if !matches!(self.compression, 7 | 34887 | 50001) {
            match self.predictor {
                2 => codecs.push(CodecSpec::HorizontalDifferencing {
                    bits_per_sample: self.bits_per_sample,
                    samples_per_pixel: in_row,
                    row_pixels,
                    endian,
                }),
                3 => codecs.push(CodecSpec::FloatingPointPredictor {
                    bytes_per_sample: es,
                    samples_per_pixel: in_row,
                    row_pixels,
                    endian,
                }),
                _ => {}
            }
        }
        match self.compression {
            1 => {}
            5 => codecs.push(CodecSpec::Lzw),
            7 => codecs.push(CodecSpec::Jpeg {
                tables: self.jpeg_tables.clone(),
                ycbcr_to_rgb: self.photometric == Some(6),
            }),
            8 | 32946 => codecs.push(CodecSpec::Deflate { level: None }),
            32773 => codecs.push(CodecSpec::PackBits),
            50000 => codecs.push(CodecSpec::Zstd { level: None }),
            50001 => codecs.push(CodecSpec::Webp),
            34887 => {
                codecs.push(CodecSpec::Lerc);
                match self.lerc_additional {
                    0 => {}
                    1 => codecs.push(CodecSpec::Deflate { level: None }),
                    2 => codecs.push(CodecSpec::Zstd { level: None }),
                    other => codecs.push(CodecSpec::UnsupportedTiffCompression {
                        compression: 34887,
                        compression_name: format!("LERC with second compression {other}"),
                    }),
                }
            }
            code => codecs.push(CodecSpec::UnsupportedTiffCompression {
                compression: u32::from(code),
                compression_name: compression_name(code).to_string(),
            }),
        }
        codecs
    }
}

/// arco's element type for a TIFF sample format and bit depth.
fn sample_type(format: u16, bits: u32) -> std::result::Result<DType, String> {
    Ok(match (format, bits) {
        (1 | 4, 8) => DType::U8,
        (1 | 4, 16) => DType::U16,
        (1 | 4, 32) => DType::U32,
        (1 | 4, 64) => DType::U64,
        (2, 8) => DType::I8,
        (2, 16) => DType::I16,
        (2, 32) => DType::I32,
        (2, 64) => DType::I64,
        (3, 32) => DType::F32,
        (3, 64) => DType::F64,
        (3, 16) => {
            return Err(
                "its samples are 16-bit floats, which arco has no type for; \
                        convert them with `gdal_translate -ot Float32`"
                    .into(),
            )
        }
        (5 | 6, _) => {
            return Err("its samples are complex numbers, which arco does not read".into())
        }
        (_, b) => {
            return Err(format!(
                "its samples are {b}-bit (sample format {format}); arco reads 8-, 16-, 32- and \
                 64-bit integers and 32- and 64-bit floats"
            ))
        }
    })
}

/// The usual name of a TIFF compression code.
pub(crate) fn compression_name(code: u16) -> &'static str {
    match code {
        1 => "none",
        2 => "CCITT RLE",
        3 => "CCITT Group 3",
        4 => "CCITT Group 4",
        5 => "LZW",
        6 => "old-style JPEG",
        7 => "JPEG",
        8 | 32946 => "Deflate",
        32773 => "PackBits",
        34676 => "SGI LogLuv",
        34887 => "LERC",
        34925 => "LZMA",
        50000 => "ZSTD",
        50001 => "WebP",
        50002 | 52546 => "JPEG-XL",
        _ => "unknown",
    }
}
