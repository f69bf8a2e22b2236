//! LERC tiles of TIFF files (compression 34887), decoded by the pure-Rust
//! `lerc-reader`.

use crate::{Error, Result, Stage};
use arco_core::Endian;
use lerc_core::PixelData;

/// Decode one LERC blob to its samples in `endian` byte order. Pixels outside
/// the blob's validity mask are NaN for floats and 0 for integers.
pub(crate) fn decode(src: &[u8], endian: Endian, stage: Stage<'_, '_>) -> Result<Vec<u8>> {
    let d = lerc_reader::decode_first(src).map_err(|e| {
        let msg = e.to_string();
        if msg.contains("finite") {
            // libLerc writes tiles holding infinities with an infinite value
            // range; lerc-reader refuses such headers.
            Error::Unsupported {
                context: stage.ctx.label.to_string(),
                codec: "lerc".into(),
                hint: format!(
                    "this LERC tile holds infinite values, which arco's LERC decoder \
                     (lerc-reader) does not support ({msg}); rewrite the file with another \
                     compression, for example `gdal_translate -co COMPRESS=ZSTD -co PREDICTOR=3`"
                ),
            }
        } else {
            stage.fail(format!("the LERC blob does not decode ({msg})"))
        }
    })?;
    let depth = d.info.depth.max(1) as usize;
    let mask = d.mask.as_deref();
    // Sample k belongs to pixel k / depth.
    let valid = |k: usize| mask.is_none_or(|m| m.get(k / depth).is_none_or(|&v| v != 0));
    macro_rules! bytes {
        ($v:expr, $invalid:expr) => {{
            let mut out = Vec::with_capacity($v.len() * std::mem::size_of_val(&$v[0]));
            for (k, x) in $v.iter().enumerate() {
                let x = if valid(k) { *x } else { $invalid };
                match endian {
                    Endian::Little => out.extend_from_slice(&x.to_le_bytes()),
                    Endian::Big => out.extend_from_slice(&x.to_be_bytes()),
                }
            }
            out
        }};
    }
    Ok(match &d.pixels {
        PixelData::I8(v) if !v.is_empty() => bytes!(v, 0),
        PixelData::U8(v) if !v.is_empty() => bytes!(v, 0),
        PixelData::I16(v) if !v.is_empty() => bytes!(v, 0),
        PixelData::U16(v) if !v.is_empty() => bytes!(v, 0),
        PixelData::I32(v) if !v.is_empty() => bytes!(v, 0),
        PixelData::U32(v) if !v.is_empty() => bytes!(v, 0),
        PixelData::F32(v) if !v.is_empty() => bytes!(v, f32::NAN),
        PixelData::F64(v) if !v.is_empty() => bytes!(v, f64::NAN),
        _ => Vec::new(),
    })
}
