//! Integration tests of the GeoTIFF reader: TIFFs built byte by byte, the
//! rasterio-made fixtures (every codec and predictor), the real samples, and
//! corrupt or truncated inputs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "geotiff/support.rs"]
mod support;

#[path = "geotiff/corrupt.rs"]
mod corrupt;
#[path = "geotiff/fixtures.rs"]
mod fixtures;
#[path = "geotiff/real.rs"]
mod real;
#[path = "geotiff/synthetic.rs"]
mod synthetic;
