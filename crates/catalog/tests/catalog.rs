//! arco-catalog on real files, fixtures and synthetic grids: every generated
//! document is checked against the vendored STAC schemas, and the values in
//! it against what is computed here from the coordinates (and, when the
//! peers venv is there, against xarray and pystac).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "catalog/support.rs"]
mod support;

#[path = "catalog/real.rs"]
mod real;

#[path = "catalog/synthetic.rs"]
mod synthetic;

#[path = "catalog/static_catalog.rs"]
mod static_catalog;

#[path = "catalog/peers.rs"]
mod peers;
