//! # arco-core
//!
//! The data model every other arco layer consumes: a [`Dataset`] is a tree of
//! [`Group`]s holding [`Dimension`]s, [`Variable`]s and [`Attribute`]s. Each
//! variable knows its [`DType`], shape, chunk grid and, through a
//! [`ChunkManifest`], the byte range of every stored chunk in its source file
//! together with the codec chain ([`CodecSpec`]) that decodes it. The [`cf`]
//! module gives CF-convention semantics (time units and calendars, packing,
//! fill values, flags, grid mappings, bounds).
//!
//! This crate is the bottom layer: it performs no I/O and owns no runtime.
#![warn(missing_docs)]

pub mod cf;
pub mod chunks;
pub mod dtype;
pub mod error;
pub mod model;
pub mod values;

pub use chunks::{ChunkGrid, ChunkManifest, ChunkRef, CodecSpec, DimSlice, Selection};
pub use dtype::{CompoundField, DType, Endian};
pub use error::{Error, Result};
pub use model::{Dataset, Dimension, Group, StorageLayout, Variable};
pub use values::{AttrValue, Attribute, NdArray, Values};
