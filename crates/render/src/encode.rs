//! Image encoding: PNG, lossless WebP, and numpy's `.npy`.
//!
//! PNG uses `png::Compression::Fast` (fdeflate, adaptive filter). Measured
//! with `cargo bench -p arco-render` on a 256² viridis tile of a smooth
//! field with some noise (2-core shared machine): render + PNG `Fast` 0.7 ms
//! for 58.6 kB, render + PNG `Balanced` (the `png` crate's default, zlib
//! level 6) 12–18 ms for 36.1 kB; at 512² 3–4 ms against 26–60 ms. About 15×
//! faster for files 1.6–2× larger: tile latency matters more than bytes
//! (HTTP compression does not help PNG, but caches do).

use crate::render::{ColorType, DataType, Image};

/// Errors of encoding.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// The image's buffer does not match its size and channels.
    #[error("image buffer of {len} bytes does not match {width}×{height} {color:?} ({expected} bytes expected)")]
    BufferMismatch {
        /// Bytes in the buffer.
        len: usize,
        /// Width.
        width: u32,
        /// Height.
        height: u32,
        /// Channels.
        color: ColorType,
        /// Bytes expected.
        expected: usize,
    },
    /// Width or height zero, or beyond what the format allows.
    #[error("a {width}×{height} image cannot be encoded as {format}: width and height must be 1..={max}")]
    BadDimensions {
        /// Width.
        width: u32,
        /// Height.
        height: u32,
        /// The format.
        format: &'static str,
        /// The largest side the format allows.
        max: u32,
    },
    /// `.npy` is not an image format: use `render::render_npy`.
    #[error("{0} cannot encode an 8-bit image: use render_npy for .npy tiles")]
    NotAnImageFormat(&'static str),
    /// The PNG encoder failed.
    #[error("PNG encoding failed: {0}")]
    Png(#[from] png::EncodingError),
    /// The WebP encoder failed.
    #[error("WebP encoding failed: {0}")]
    Webp(#[from] image_webp::EncodingError),
}

/// Tile formats (the extension of `/tiles/{tms}/{z}/{x}/{y}.{ext}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    /// PNG, 8-bit grey/RGB with or without alpha.
    Png,
    /// Lossless WebP.
    Webp,
    /// numpy `.npy`: data bands then the mask band (titiler's NumpyTile).
    Npy,
}

impl ImageFormat {
    /// Every format, in the order documents list them.
    pub const ALL: [ImageFormat; 3] = [ImageFormat::Png, ImageFormat::Webp, ImageFormat::Npy];

    /// From an extension (`png`, `webp`, `npy`; case-insensitive, with or
    /// without the dot); the error lists the valid ones.
    pub fn from_extension(ext: &str) -> Result<ImageFormat, String> {
        let e = ext.trim_start_matches('.').to_ascii_lowercase();
        match e.as_str() {
            "png" => Ok(ImageFormat::Png),
            "webp" => Ok(ImageFormat::Webp),
            "npy" => Ok(ImageFormat::Npy),
            _ => Err(format!(
                "unknown tile format {ext:?}: valid formats are png, webp, npy"
            )),
        }
    }

    /// The extension, without the dot.
    pub const fn extension(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Webp => "webp",
            ImageFormat::Npy => "npy",
        }
    }

    /// The media type titiler answers with.
    pub const fn media_type(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Webp => "image/webp",
            ImageFormat::Npy => "application/x-binary",
        }
    }
}

/// PNG compression levels (the `png` crate's), for measuring; tiles use
/// [`PngLevel::Fast`] through [`encode_png`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PngLevel {
    /// Stored blocks only.
    None,
    /// Fastest deflate.
    Fastest,
    /// fdeflate: fast with a decent ratio (the one tiles use).
    #[default]
    Fast,
    /// The `png` crate's default.
    Balanced,
    /// Smallest, slowest.
    High,
}

fn check_image(image: &Image, format: &'static str, max: u32) -> Result<(), EncodeError> {
    if image.width == 0 || image.height == 0 || image.width > max || image.height > max {
        return Err(EncodeError::BadDimensions {
            width: image.width,
            height: image.height,
            format,
            max,
        });
    }
    let expected = image.width as usize * image.height as usize * image.color.channels();
    if image.data.len() != expected {
        return Err(EncodeError::BufferMismatch {
            len: image.data.len(),
            width: image.width,
            height: image.height,
            color: image.color,
            expected,
        });
    }
    Ok(())
}

/// Encode as PNG with the tile setting ([`PngLevel::Fast`]).
pub fn encode_png(image: &Image) -> Result<Vec<u8>, EncodeError> {
    encode_png_with(image, PngLevel::Fast)
}

/// Encode as PNG at a given compression level.
pub fn encode_png_with(image: &Image, level: PngLevel) -> Result<Vec<u8>, EncodeError> {
    check_image(image, "PNG", 1 << 24)?;
    let mut out = Vec::with_capacity(image.data.len() / 2 + 1024);
    let mut encoder = png::Encoder::new(&mut out, image.width, image.height);
    encoder.set_color(match image.color {
        ColorType::L => png::ColorType::Grayscale,
        ColorType::La => png::ColorType::GrayscaleAlpha,
        ColorType::Rgb => png::ColorType::Rgb,
        ColorType::Rgba => png::ColorType::Rgba,
    });
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(match level {
        PngLevel::None => png::Compression::NoCompression,
        PngLevel::Fastest => png::Compression::Fastest,
        PngLevel::Fast => png::Compression::Fast,
        PngLevel::Balanced => png::Compression::Balanced,
        PngLevel::High => png::Compression::High,
    });
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&image.data)?;
    writer.finish()?;
    Ok(out)
}

/// Encode as lossless WebP (VP8L). Grey images are stored as grey (WebP
/// decoders give them back as RGB(A) with equal channels).
pub fn encode_webp(image: &Image) -> Result<Vec<u8>, EncodeError> {
    check_image(image, "WebP", 16384)?;
    let mut out = Vec::with_capacity(image.data.len() / 2 + 1024);
    let color = match image.color {
        ColorType::L => image_webp::ColorType::L8,
        ColorType::La => image_webp::ColorType::La8,
        ColorType::Rgb => image_webp::ColorType::Rgb8,
        ColorType::Rgba => image_webp::ColorType::Rgba8,
    };
    image_webp::WebPEncoder::new(&mut out).encode(&image.data, image.width, image.height, color)?;
    Ok(out)
}

/// Encode an image as PNG or WebP (`.npy` tiles come from
/// [`crate::render::render_npy`], which needs the values).
pub fn encode_image(image: &Image, format: ImageFormat) -> Result<Vec<u8>, EncodeError> {
    match format {
        ImageFormat::Png => encode_png(image),
        ImageFormat::Webp => encode_webp(image),
        ImageFormat::Npy => Err(EncodeError::NotAnImageFormat("npy")),
    }
}

/// An `.npy` file (format version 1.0, C order) of the given dtype and
/// shape, byte for byte what `numpy.save` writes; `fill` appends the
/// little-endian values (use [`push_value`]).
pub fn npy_bytes(dtype: DataType, shape: &[usize], fill: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let shape_repr = match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {shape_repr}, }}",
        dtype.npy_descr()
    );
    // numpy leaves room to grow the first axis in place: 21 digits in all.
    let first = shape.first().map_or(0, |n| n.to_string().len());
    if !shape.is_empty() {
        header.push_str(&" ".repeat(21usize.saturating_sub(first)));
    }
    // magic (6) + version (2) + length (2) + header + '\n', padded to 64
    // bytes; like numpy, a header already aligned still gets 64 spaces.
    let unpadded = 10 + header.len() + 1;
    let pad = 64 - unpadded % 64;
    header.push_str(&" ".repeat(pad));
    header.push('\n');
    let count: usize = shape.iter().product();
    let mut out = Vec::with_capacity(10 + header.len() + count * dtype.size());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    fill(&mut out);
    out
}

/// Append `v` as a little-endian value of `dtype` (integers saturate, NaN
/// becomes 0, as Rust's `as`).
#[inline]
pub fn push_value(out: &mut Vec<u8>, dtype: DataType, v: f64) {
    match dtype {
        DataType::U8 => out.push(v as u8),
        DataType::I8 => out.push((v as i8) as u8),
        DataType::U16 => out.extend_from_slice(&(v as u16).to_le_bytes()),
        DataType::I16 => out.extend_from_slice(&(v as i16).to_le_bytes()),
        DataType::U32 => out.extend_from_slice(&(v as u32).to_le_bytes()),
        DataType::I32 => out.extend_from_slice(&(v as i32).to_le_bytes()),
        DataType::U64 => out.extend_from_slice(&(v as u64).to_le_bytes()),
        DataType::I64 => out.extend_from_slice(&(v as i64).to_le_bytes()),
        DataType::F32 => out.extend_from_slice(&(v as f32).to_le_bytes()),
        DataType::F64 => out.extend_from_slice(&v.to_le_bytes()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_npy_header_is_padded_to_64_bytes_and_ends_with_a_newline() {
        let bytes = npy_bytes(DataType::F32, &[2, 2, 2], |o| {
            (0..8).for_each(|i| push_value(o, DataType::F32, f64::from(i)))
        });
        let hlen = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!((10 + hlen) % 64, 0);
        assert_eq!(bytes[10 + hlen - 1], b'\n');
        let header = std::str::from_utf8(&bytes[10..10 + hlen]).unwrap();
        assert!(
            header.starts_with("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 2), }")
        );
        assert_eq!(bytes.len(), 10 + hlen + 32);
    }

    #[test]
    fn formats_parse_from_extensions_and_say_the_valid_ones() {
        assert_eq!(
            ImageFormat::from_extension(".PNG").unwrap(),
            ImageFormat::Png
        );
        let err = ImageFormat::from_extension("jpg").unwrap_err();
        assert!(err.contains("png, webp, npy"), "{err}");
    }

    #[test]
    fn a_buffer_of_the_wrong_size_is_an_error_not_a_panic() {
        let image = Image {
            width: 4,
            height: 4,
            color: ColorType::Rgba,
            data: vec![0; 10],
        };
        assert!(matches!(
            encode_webp(&image),
            Err(EncodeError::BufferMismatch { .. })
        ));
        assert!(matches!(
            encode_png(&image),
            Err(EncodeError::BufferMismatch { .. })
        ));
    }
}
