//! One band of decoded values → an 8-bit image, exactly as titiler renders a
//! tile (`titiler.core.utils.render_image` over rio-tiler's `ImageData`):
//!
//! 1. **mask**: a pixel is missing when it is NaN or equals `nodata` (the
//!    comparison is made in the variable's dtype, as numpy does: for float32
//!    data both sides are rounded to f32);
//! 2. **rescale** `(min, max)` (rio-tiler's `linear_rescale` then
//!    `astype(uint8)`): `((clip(v, min, max) - min) / (max - min)) * 255`,
//!    computed in f64, stored back into an array of the variable's dtype
//!    (so a float32 variable rounds it to f32), then truncated toward zero;
//!    missing pixels become 0. Without `rescale` the values are taken as
//!    they are (truncated; NaN as 0, out of 0..=255 clamped) — titiler would
//!    stretch the dtype's full range or the `valid_min`/`valid_max`
//!    attributes instead, so a server should pass those as `rescale`;
//! 3. **colormap** (rio-tiler's `apply_cmap`): a table is indexed by the
//!    8-bit value; discrete and interval maps compare the 8-bit value, or
//!    the raw value when there is no `rescale` (categorical data); a value
//!    no entry matches is transparent black. The alpha is the colour's alpha
//!    for valid pixels and 0 for missing ones;
//! 4. **channels**: grey (`L`) without a colormap, `RGB` with one; plus the
//!    alpha band unless `return_mask=false` (`LA`, `RGBA`).

use crate::colormap::{u8_of, Colormap};

/// Errors of rendering.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RenderError {
    /// The values do not fill the image.
    #[error("{len} values do not make a {width}×{height} tile ({expected} values expected)")]
    SizeMismatch {
        /// Number of values given.
        len: usize,
        /// Width asked for.
        width: usize,
        /// Height asked for.
        height: usize,
        /// width × height.
        expected: usize,
    },
    /// The image is empty or too large to address.
    #[error("a {width}×{height} image is not supported: width and height must be 1..=16384")]
    BadDimensions {
        /// Width asked for.
        width: usize,
        /// Height asked for.
        height: usize,
    },
    /// The rescale range is unusable.
    #[error("rescale={min},{max} is not valid: give two finite numbers min,max with min < max")]
    BadRescale {
        /// Lower end.
        min: f64,
        /// Upper end.
        max: f64,
    },
}

/// The dtype of the variable the values were decoded from. It matters in
/// two places, as in titiler: float32 rescaled values are rounded to f32
/// before truncation to 8 bits, and `nodata` is compared in float32; and an
/// `.npy` tile without `rescale` is written in this dtype.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DataType {
    /// uint8
    U8,
    /// int8
    I8,
    /// uint16
    U16,
    /// int16
    I16,
    /// uint32
    U32,
    /// int32
    I32,
    /// uint64
    U64,
    /// int64
    I64,
    /// float32
    F32,
    /// float64
    #[default]
    F64,
}

impl DataType {
    /// numpy's little-endian type string (`<f4`, `|u1`, ...).
    pub const fn npy_descr(self) -> &'static str {
        match self {
            DataType::U8 => "|u1",
            DataType::I8 => "|i1",
            DataType::U16 => "<u2",
            DataType::I16 => "<i2",
            DataType::U32 => "<u4",
            DataType::I32 => "<i4",
            DataType::U64 => "<u8",
            DataType::I64 => "<i8",
            DataType::F32 => "<f4",
            DataType::F64 => "<f8",
        }
    }

    /// Bytes per value.
    pub const fn size(self) -> usize {
        match self {
            DataType::U8 | DataType::I8 => 1,
            DataType::U16 | DataType::I16 => 2,
            DataType::U32 | DataType::I32 | DataType::F32 => 4,
            DataType::U64 | DataType::I64 | DataType::F64 => 8,
        }
    }

    /// rasterio's `dtype_ranges`: the (min, max) of the type, which is what
    /// rio-tiler writes in a mask band of this dtype (missing, valid).
    pub fn range(self) -> (f64, f64) {
        match self {
            DataType::U8 => (0.0, 255.0),
            DataType::I8 => (-128.0, 127.0),
            DataType::U16 => (0.0, 65535.0),
            DataType::I16 => (-32768.0, 32767.0),
            DataType::U32 => (0.0, 4_294_967_295.0),
            DataType::I32 => (-2_147_483_648.0, 2_147_483_647.0),
            DataType::U64 => (0.0, u64::MAX as f64),
            DataType::I64 => (i64::MIN as f64, i64::MAX as f64),
            DataType::F32 => (f64::from(f32::MIN), f64::from(f32::MAX)),
            DataType::F64 => (f64::MIN, f64::MAX),
        }
    }

    /// Whether `v` equals `nodata` as numpy compares a `self` array with a
    /// Python float (float32 arrays compare in float32).
    pub fn equals_nodata(self, v: f64, nodata: f64) -> bool {
        match self {
            DataType::F32 => (v as f32) == (nodata as f32),
            _ => v == nodata,
        }
    }
}

/// How to render a tile; `Default` is grey, no rescale, with alpha, f64.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RenderOptions<'a> {
    /// Values equal to this are missing (as well as NaN).
    pub nodata: Option<f64>,
    /// Linear stretch of `min..=max` onto 0..=255 (`rescale=min,max`).
    pub rescale: Option<(f64, f64)>,
    /// Colormap; `None` renders grey.
    pub colormap: Option<&'a Colormap>,
    /// Add the alpha band (titiler's `return_mask`, default true).
    pub return_mask: bool,
    /// The variable's dtype (see [`DataType`]).
    pub dtype: DataType,
}

impl Default for RenderOptions<'_> {
    fn default() -> Self {
        RenderOptions {
            nodata: None,
            rescale: None,
            colormap: None,
            return_mask: true,
            dtype: DataType::F64,
        }
    }
}

/// The channels of an 8-bit image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorType {
    /// Grey.
    L,
    /// Grey and alpha.
    La,
    /// Red, green, blue.
    Rgb,
    /// Red, green, blue and alpha.
    Rgba,
}

impl ColorType {
    /// Bytes per pixel.
    pub const fn channels(self) -> usize {
        match self {
            ColorType::L => 1,
            ColorType::La => 2,
            ColorType::Rgb => 3,
            ColorType::Rgba => 4,
        }
    }

    /// Whether the last channel is alpha.
    pub const fn has_alpha(self) -> bool {
        matches!(self, ColorType::La | ColorType::Rgba)
    }
}

/// An 8-bit image, pixels row-major and channels interleaved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Channels.
    pub color: ColorType,
    /// `width × height × channels` bytes.
    pub data: Vec<u8>,
}

impl Image {
    /// The pixels as RGBA (grey repeated, alpha 255 when there is none).
    pub fn to_rgba(&self) -> Vec<u8> {
        let n = self.data.len() / self.color.channels();
        let mut out = Vec::with_capacity(n * 4);
        match self.color {
            ColorType::Rgba => out.extend_from_slice(&self.data),
            ColorType::Rgb => self
                .data
                .chunks_exact(3)
                .for_each(|p| out.extend_from_slice(&[p[0], p[1], p[2], 255])),
            ColorType::La => self
                .data
                .chunks_exact(2)
                .for_each(|p| out.extend_from_slice(&[p[0], p[0], p[0], p[1]])),
            ColorType::L => self
                .data
                .iter()
                .for_each(|&g| out.extend_from_slice(&[g, g, g, 255])),
        }
        out
    }
}

/// Whether a value is missing: NaN, or equal to `nodata` (in `dtype`).
#[inline]
pub fn is_missing(v: f64, nodata: Option<f64>, dtype: DataType) -> bool {
    v.is_nan() || nodata.is_some_and(|n| dtype.equals_nodata(v, n))
}

/// rio-tiler's `linear_rescale` to 0..=255 then `astype(uint8)` through the
/// variable's dtype (see the module notes). `min < max` is the caller's
/// to check ([`render`] does).
#[inline]
pub fn rescale_value(v: f64, min: f64, max: f64, dtype: DataType) -> u8 {
    // numpy.clip(image, imin, imax) - imin, / (imax - imin), * (omax - omin) + omin
    let scaled = ((v.clamp(min, max) - min) / (max - min)) * 255.0 + 0.0;
    match dtype {
        DataType::F32 => u8_of(f64::from(scaled as f32)),
        _ => u8_of(scaled),
    }
}

fn check(
    values: &[f64],
    width: usize,
    height: usize,
    opts: &RenderOptions<'_>,
) -> Result<(), RenderError> {
    if width == 0 || height == 0 || width > 16384 || height > 16384 {
        return Err(RenderError::BadDimensions { width, height });
    }
    if values.len() != width * height {
        return Err(RenderError::SizeMismatch {
            len: values.len(),
            width,
            height,
            expected: width * height,
        });
    }
    if let Some((min, max)) = opts.rescale {
        if !(min.is_finite() && max.is_finite() && min < max) {
            return Err(RenderError::BadRescale { min, max });
        }
    }
    Ok(())
}

/// The value each pixel is looked up with: the rescaled 8-bit value (0 when
/// missing), or the raw value when there is no rescale.
#[inline]
fn lookup_value(v: f64, missing: bool, opts: &RenderOptions<'_>) -> f64 {
    match opts.rescale {
        Some(_) if missing => 0.0,
        Some((min, max)) => f64::from(rescale_value(v, min, max, opts.dtype)),
        None => v,
    }
}

/// A table after a rescale, `N` = 3 (RGB) or 4 (RGBA) channels.
fn lut_pixels<const N: usize>(
    data: &mut [u8],
    values: &[f64],
    table: &[[u8; 4]; 256],
    nodata: Option<f64>,
    dtype: DataType,
    min: f64,
    max: f64,
) {
    for (px, &v) in data.chunks_exact_mut(N).zip(values) {
        let missing = is_missing(v, nodata, dtype);
        let i = if missing {
            0
        } else {
            rescale_value(v, min, max, dtype)
        };
        let c = table[usize::from(i)];
        px[..3].copy_from_slice(&c[..3]);
        if N == 4 {
            px[N - 1] = if missing { 0 } else { c[3] };
        }
    }
}

/// Render `values` (row-major, `width × height`, NaN = missing) to an image.
pub fn render(
    values: &[f64],
    width: usize,
    height: usize,
    opts: &RenderOptions<'_>,
) -> Result<Image, RenderError> {
    check(values, width, height, opts)?;
    let alpha = opts.return_mask;
    let (color, channels) = match (opts.colormap.is_some(), alpha) {
        (false, false) => (ColorType::L, 1),
        (false, true) => (ColorType::La, 2),
        (true, false) => (ColorType::Rgb, 3),
        (true, true) => (ColorType::Rgba, 4),
    };
    let mut data = vec![0u8; values.len() * channels];
    let nodata = opts.nodata;
    let dtype = opts.dtype;
    match (opts.colormap, opts.rescale) {
        // The hot path: a table after a rescale.
        (Some(Colormap::Lut(table)), Some((min, max))) => {
            if alpha {
                lut_pixels::<4>(&mut data, values, table, nodata, dtype, min, max);
            } else {
                lut_pixels::<3>(&mut data, values, table, nodata, dtype, min, max);
            }
        }
        (Some(cmap), _) => {
            for (px, &v) in data.chunks_exact_mut(channels).zip(values) {
                let missing = is_missing(v, nodata, dtype);
                let c = cmap
                    .color_of(lookup_value(v, missing, opts))
                    .unwrap_or([0; 4]);
                px[..3].copy_from_slice(&c[..3]);
                if alpha {
                    px[3] = if missing { 0 } else { c[3] };
                }
            }
        }
        (None, _) => {
            for (px, &v) in data.chunks_exact_mut(channels).zip(values) {
                let missing = is_missing(v, nodata, dtype);
                px[0] = u8_of(lookup_value(v, missing, opts));
                if alpha {
                    px[1] = if missing { 0 } else { 255 };
                }
            }
        }
    }
    Ok(Image {
        width: width as u32,
        height: height as u32,
        color,
        data,
    })
}

/// The `.npy` tile titiler returns (`render(data, mask, img_format="NPY")`):
/// an array of shape `(bands, height, width)`, the data bands then the mask
/// band (unless `return_mask=false`).
///
/// * With `rescale` or a colormap, the bands are those of the rendered
///   8-bit image (grey or RGB, then alpha 0/255 or the colormap's alpha),
///   as `uint8`.
/// * Otherwise the data are the values in the variable's dtype (missing
///   pixels keep their value: NaN, or `nodata`) and the mask band, in the
///   same dtype, holds rio-tiler's mask values: the dtype's minimum where
///   missing and its maximum where valid (0/255 for uint8, ±3.4028235e38
///   for float32).
pub fn render_npy(
    values: &[f64],
    width: usize,
    height: usize,
    opts: &RenderOptions<'_>,
) -> Result<Vec<u8>, RenderError> {
    check(values, width, height, opts)?;
    if opts.rescale.is_some() || opts.colormap.is_some() {
        let image = render(values, width, height, opts)?;
        let bands = image.color.channels();
        let n = width * height;
        let mut planar = vec![0u8; image.data.len()];
        for (i, px) in image.data.chunks_exact(bands).enumerate() {
            for (b, &v) in px.iter().enumerate() {
                planar[b * n + i] = v;
            }
        }
        return Ok(crate::encode::npy_bytes(
            DataType::U8,
            &[bands, height, width],
            |out| out.extend_from_slice(&planar),
        ));
    }
    let dtype = opts.dtype;
    let bands = if opts.return_mask { 2 } else { 1 };
    let (lo, hi) = dtype.range();
    Ok(crate::encode::npy_bytes(
        dtype,
        &[bands, height, width],
        |out| {
            for &v in values {
                crate::encode::push_value(out, dtype, v);
            }
            if opts.return_mask {
                for &v in values {
                    let m = if is_missing(v, opts.nodata, dtype) {
                        lo
                    } else {
                        hi
                    };
                    crate::encode::push_value(out, dtype, m);
                }
            }
        },
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rescale_truncates_like_numpy_astype() {
        // 1.5 / 4 * 255 = 95.625 -> 95; 3 / 4 * 255 = 191.25 -> 191.
        assert_eq!(rescale_value(1.5, 0.0, 4.0, DataType::F64), 95);
        assert_eq!(rescale_value(3.0, 0.0, 4.0, DataType::F64), 191);
        assert_eq!(rescale_value(-10.0, 0.0, 4.0, DataType::F64), 0);
        assert_eq!(rescale_value(10.0, 0.0, 4.0, DataType::F64), 255);
        assert_eq!(rescale_value(f64::INFINITY, 0.0, 4.0, DataType::F64), 255);
    }

    #[test]
    fn float32_variables_round_the_rescaled_value_to_f32_first() {
        // (v - 0) / 1 * 255 just below 255 in f64 rounds up to 255.0 in f32.
        let v = 254.999_999_99 / 255.0;
        assert_eq!(rescale_value(v, 0.0, 1.0, DataType::F64), 254);
        assert_eq!(rescale_value(v, 0.0, 1.0, DataType::F32), 255);
    }

    #[test]
    fn float32_nodata_is_compared_in_float32() {
        let stored = f64::from(-9999.9f32);
        assert!(is_missing(stored, Some(-9999.9), DataType::F32));
        assert!(!is_missing(stored, Some(-9999.9), DataType::F64));
    }

    #[test]
    fn missing_pixels_are_transparent_and_grey_has_two_channels() {
        let img = render(
            &[0.0, f64::NAN, 2.0, -1.0],
            2,
            2,
            &RenderOptions {
                rescale: Some((0.0, 2.0)),
                nodata: Some(-1.0),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(img.color, ColorType::La);
        assert_eq!(img.data, vec![0, 255, 0, 0, 255, 255, 0, 0]);
    }

    #[test]
    fn without_the_mask_a_colormapped_tile_is_rgb() {
        let cm = Colormap::named("viridis").unwrap();
        let img = render(
            &[0.0, f64::NAN],
            2,
            1,
            &RenderOptions {
                rescale: Some((0.0, 1.0)),
                colormap: Some(&cm),
                return_mask: false,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(img.color, ColorType::Rgb);
        assert_eq!(img.data, vec![68, 1, 84, 68, 1, 84]);
    }

    #[test]
    fn bad_sizes_and_ranges_say_what_is_valid() {
        let err = render(&[0.0; 3], 2, 2, &RenderOptions::default()).unwrap_err();
        assert!(err.to_string().contains("4 values expected"), "{err}");
        let opts = RenderOptions {
            rescale: Some((1.0, 1.0)),
            ..Default::default()
        };
        let err = render(&[0.0; 4], 2, 2, &opts).unwrap_err();
        assert!(err.to_string().contains("min < max"), "{err}");
    }
}
