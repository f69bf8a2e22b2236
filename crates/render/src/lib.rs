//! # arco-render
//!
//! The pure parts of `arco serve`'s map tiles, made to match titiler
//! pixel for pixel:
//!
//! * [`tms`]: the OGC tile matrix sets `WebMercatorQuad` and
//!   `WorldCRS84Quad` (bounds, pixel centres, zoom for a resolution, tiles
//!   covering a box, the OGC TMS 2.0 document);
//! * [`colormap`]: titiler's named colormaps (matplotlib's tables, reversed
//!   with `_r`) and its JSON `colormap` parameter;
//! * [`render`](mod@render): decoded values → 8-bit grey/RGB image with alpha
//!   (rio-tiler's `linear_rescale`, `apply_cmap`, masks), and the `.npy`
//!   tile;
//! * [`encode`]: PNG, lossless WebP, `.npy`;
//! * [`docs`]: TileJSON 3.0.0 and WMTS 1.0.0 Capabilities.
//!
//! No I/O: the server reads the values (through `arco-cube`) and writes the
//! bytes.
//!
//! ```
//! use arco_render::{colormap::Colormap, encode, render, tms::TileMatrixSet};
//!
//! let tms = TileMatrixSet::from_id("WebMercatorQuad")?;
//! let tile = tms.tile(3, 4, 2)?;
//! let centres = tms.pixel_centers(tile, 256)?; // lon per column, lat per row
//! let values: Vec<f64> = centres.iter().map(|(_, _, lon, lat)| lon + lat).collect();
//! let cmap = Colormap::named("viridis")?;
//! let image = render::render(&values, 256, 256, &render::RenderOptions {
//!     rescale: Some((-100.0, 100.0)),
//!     colormap: Some(&cmap),
//!     ..Default::default()
//! })?;
//! let png = encode::encode_png(&image)?;
//! assert_eq!(&png[1..4], b"PNG");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

pub mod colormap;
pub mod docs;
pub mod encode;
pub mod render;
pub mod tms;

pub use colormap::{Colormap, ColormapError};
pub use docs::{
    colormaps_document, tile_matrix_sets_document, TileJson, WmtsCapabilities, WmtsDimension,
    WmtsLayer, WmtsResource, WmtsTmsLink,
};
pub use encode::{encode_image, encode_png, encode_webp, EncodeError, ImageFormat};
pub use render::{render, render_npy, ColorType, DataType, Image, RenderError, RenderOptions};
pub use tms::{
    Bounds, PixelCenters, Tile, TileMatrixSet, TileRange, TmsError, ZoomRange, ZoomStrategy,
};
