//! Variable-length strings: elements are references into the global heap,
//! so they are read here rather than from chunk bytes.

use crate::netcdf::VarStore;
use crate::tree::Ctx;
use crate::types;
use arco_core::{DType, Selection};
use hdf5_reader::error::{Error as H5Error, Result as H5Result};
use hdf5_reader::messages::layout::DataLayout;

/// Every string of the variable `path`, in C order.
pub(crate) fn strings(ctx: &Ctx, path: &str, v: &VarStore) -> H5Result<Vec<String>> {
    if v.dtype != DType::String {
        return Err(H5Error::UnsupportedEncoding(format!(
            "'{path}' holds {}; only variable-length strings are read this way",
            v.dtype
        )));
    }
    let d = &v.raw;
    let count: u64 = if d.null { 0 } else { d.shape.iter().product() };
    let n = usize::try_from(count)
        .map_err(|_| H5Error::InvalidData(format!("'{path}' has too many elements")))?;
    let es = ctx.vlen_element_size();
    let raw: Vec<u8> = match &d.layout {
        DataLayout::Compact { data } => data.clone(),
        DataLayout::Contiguous { address, .. } => {
            if n == 0 || ctx.undefined(*address) {
                return Ok(vec![String::new(); n]);
            }
            let len = n
                .checked_mul(es)
                .ok_or_else(|| H5Error::InvalidData(format!("'{path}' is too large")))?;
            ctx.storage().read_range(*address, len)?.to_vec()
        }
        // Chunked (and so possibly filtered) strings: hdf5-reader decodes the chunks.
        DataLayout::Chunked { .. } => return ctx.file.dataset(&d.path)?.read_strings(),
    };
    let resolve = |e: &[u8]| ctx.vlen_bytes(e, 1).map_err(|e| e.to_string());
    match types::decode(&d.datatype, &raw, n, es, &resolve) {
        Ok(arco_core::Values::Str(s)) => Ok(s),
        Ok(_) => Err(H5Error::InvalidData(format!(
            "'{path}' did not decode to strings"
        ))),
        Err(e) => Err(H5Error::InvalidData(format!("'{path}': {e}"))),
    }
}

/// The elements of `all` (C order over `shape`) that `sel` picks.
pub(crate) fn select<T: Clone>(all: &[T], shape: &[u64], sel: &Selection) -> Option<Vec<T>> {
    if sel.dims.len() != shape.len()
        || sel
            .dims
            .iter()
            .zip(shape)
            .any(|(s, &n)| !s.is_empty() && (s.stop > n || s.step == 0))
    {
        return None;
    }
    let mut strides = vec![1u64; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        strides[i] = strides[i + 1] * shape[i + 1];
    }
    let mut out = Vec::with_capacity(sel.element_count() as usize);
    let lists: Vec<Vec<u64>> = sel.dims.iter().map(|d| d.indices().collect()).collect();
    for idx in arco_core::chunks::cartesian(&lists) {
        let flat: u64 = idx.iter().zip(&strides).map(|(i, s)| i * s).sum();
        out.push(all.get(flat as usize)?.clone());
    }
    Some(out)
}
