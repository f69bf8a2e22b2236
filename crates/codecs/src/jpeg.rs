//! JPEG tiles and strips of TIFF files (compression 7).
//!
//! A TIFF JPEG tile is often an abbreviated stream: its quantisation and
//! Huffman tables live once in the `JPEGTables` tag. The decoder is given the
//! tables (without their end marker) followed by the tile (without its start
//! marker), which is one complete JPEG stream.

use crate::{Result, Stage};

/// Decode one JPEG tile to 8-bit samples, pixel-interleaved.
pub(crate) fn decode(
    src: &[u8],
    tables: Option<&[u8]>,
    ycbcr_to_rgb: bool,
    stage: Stage<'_, '_>,
) -> Result<Vec<u8>> {
    let joined;
    let stream: &[u8] = match tables {
        Some(t) if t.len() >= 4 && src.len() >= 2 => {
            let t = t.strip_suffix(&[0xFF, 0xD9]).unwrap_or(t);
            let s = src.strip_prefix(&[0xFF, 0xD8]).unwrap_or(src);
            joined = [t, s].concat();
            &joined
        }
        _ => src,
    };
    let mut decoder = jpeg_decoder::Decoder::new(stream);
    decoder
        .read_info()
        .map_err(|e| stage.fail(format!("the JPEG header does not decode ({e})")))?;
    let components = match decoder.info().map(|i| i.pixel_format) {
        Some(jpeg_decoder::PixelFormat::RGB24) => 3,
        _ => 0,
    };
    // Without YCbCr the components are kept as stored. jpeg-decoder's
    // `None` transform leaves each row component-planar, so three
    // components go through its (identity) RGB transform, which interleaves.
    decoder.set_color_transform(match (ycbcr_to_rgb, components) {
        (true, _) => jpeg_decoder::ColorTransform::YCbCr,
        (false, 3) => jpeg_decoder::ColorTransform::RGB,
        (false, _) => jpeg_decoder::ColorTransform::None,
    });
    let pixels = decoder
        .decode()
        .map_err(|e| stage.fail(format!("the JPEG stream does not decode ({e})")))?;
    match decoder.info().map(|i| i.pixel_format) {
        Some(
            jpeg_decoder::PixelFormat::L8
            | jpeg_decoder::PixelFormat::RGB24
            | jpeg_decoder::PixelFormat::CMYK32,
        ) => Ok(pixels),
        Some(other) => Err(stage.fail(format!(
            "the JPEG stream holds {other:?} samples; arco reads 8-bit JPEG only"
        ))),
        None => Err(stage.fail("the JPEG stream has no frame header")),
    }
}

#[cfg(test)]
mod tests {
    use crate::{decode_chunk, ChunkContext, Error};
    use arco_core::{CodecSpec, DType, Endian};

    fn ctx(elements: usize) -> ChunkContext<'static> {
        ChunkContext {
            label: "t.tif: variable /band_data, chunk [0, 0, 0] at bytes 8..100",
            dtype: &DType::U8,
            endian: Endian::Little,
            elements,
        }
    }

    #[test]
    fn garbage_is_a_decode_error_naming_the_chunk() {
        let spec = CodecSpec::Jpeg {
            tables: None,
            ycbcr_to_rgb: true,
        };
        let err = decode_chunk(&[0xFF, 0xD8, 1, 2, 3], &[spec], 0, &ctx(16)).unwrap_err();
        assert!(matches!(err, Error::Decode { .. }));
        let msg = err.to_string();
        assert!(msg.contains("jpeg(ycbcr) failed"), "{msg}");
        assert!(msg.contains("chunk [0, 0, 0]"), "{msg}");
    }
}
