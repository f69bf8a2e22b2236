//! Integration tests of the NetCDF-3 reader: real files written by the
//! reference tools, synthetic files built byte by byte, and corrupt inputs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "netcdf3/support.rs"]
mod support;

#[path = "netcdf3/corrupt.rs"]
mod corrupt;
#[path = "netcdf3/real.rs"]
mod real;
#[path = "netcdf3/synthetic.rs"]
mod synthetic;
