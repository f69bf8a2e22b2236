//! WebP tiles of TIFF files (compression 50001), decoded by the pure-Rust
//! `image-webp`.

use crate::{Result, Stage};

/// Decode one WebP tile to 8-bit samples, pixel-interleaved. `elements` (the
/// samples of a full tile) tells whether the raster has 3 or 4 bands; an
/// alpha channel the raster does not have is dropped, a missing one is opaque.
pub(crate) fn decode(src: &[u8], elements: usize, stage: Stage<'_, '_>) -> Result<Vec<u8>> {
    let mut d = image_webp::WebPDecoder::new(std::io::Cursor::new(src))
        .map_err(|e| stage.fail(format!("the WebP header does not decode ({e})")))?;
    let (w, h) = d.dimensions();
    let pixels = w as usize * h as usize;
    let size = d
        .output_buffer_size()
        .ok_or_else(|| stage.fail(format!("a {w}x{h} WebP image is too large")))?;
    let mut buf = vec![0u8; size];
    d.read_image(&mut buf)
        .map_err(|e| stage.fail(format!("the WebP image does not decode ({e})")))?;
    let have = if d.has_alpha() { 4 } else { 3 };
    let want = if pixels > 0 && elements == pixels * 4 {
        4
    } else {
        3
    };
    Ok(match (have, want) {
        (4, 3) => buf
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect(),
        (3, 4) => buf
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        _ => buf,
    })
}
