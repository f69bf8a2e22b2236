//! The STAC extensions arco writes, and the `stac_extensions` list.

use crate::{Error, Result};
use serde_json::Value;

/// `(field prefix, schema URI)` of every extension arco writes. Each schema
/// is vendored under `crates/catalog/schemas/` (see [`crate::validate`]).
pub const EXTENSIONS: &[(&str, &str)] = &[
    (
        "cube:",
        "https://stac-extensions.github.io/datacube/v2.3.0/schema.json",
    ),
    (
        "file:",
        "https://stac-extensions.github.io/file/v2.1.0/schema.json",
    ),
    (
        "processing:",
        "https://stac-extensions.github.io/processing/v1.2.0/schema.json",
    ),
    (
        "classification:",
        "https://stac-extensions.github.io/classification/v2.0.0/schema.json",
    ),
    (
        "proj:",
        "https://stac-extensions.github.io/projection/v2.0.0/schema.json",
    ),
    (
        "raster:",
        "https://stac-extensions.github.io/raster/v2.0.0/schema.json",
    ),
    (
        "table:",
        "https://stac-extensions.github.io/table/v1.2.0/schema.json",
    ),
    (
        "xarray:",
        "https://stac-extensions.github.io/xarray-assets/v1.0.0/schema.json",
    ),
];

/// STAC objects with a `stac_extensions` list.
pub trait StacObject: serde::Serialize {
    /// The `stac_extensions` list.
    fn extensions_mut(&mut self) -> &mut Vec<String>;
    /// The object's id, for messages.
    fn object_id(&self) -> &str;
}

impl StacObject for stac::Item {
    fn extensions_mut(&mut self) -> &mut Vec<String> {
        &mut self.extensions
    }
    fn object_id(&self) -> &str {
        &self.id
    }
}

impl StacObject for stac::Collection {
    fn extensions_mut(&mut self) -> &mut Vec<String> {
        &mut self.extensions
    }
    fn object_id(&self) -> &str {
        &self.id
    }
}

impl StacObject for stac::Catalog {
    fn extensions_mut(&mut self) -> &mut Vec<String> {
        &mut self.extensions
    }
    fn object_id(&self) -> &str {
        &self.id
    }
}

fn collect_keys(v: &Value, out: &mut Vec<&'static str>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                for (prefix, uri) in EXTENSIONS {
                    if k.starts_with(prefix) && !out.contains(uri) {
                        out.push(uri);
                    }
                }
                collect_keys(child, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|c| collect_keys(c, out)),
        _ => {}
    }
}

/// The extension schema URIs whose fields appear anywhere in `value`.
pub(crate) fn used_extensions(value: &Value) -> Vec<&'static str> {
    let mut out = Vec::new();
    collect_keys(value, &mut out);
    out
}

/// Add to `object`'s `stac_extensions` the URI of every extension of
/// [`EXTENSIONS`] whose fields it uses (entries already there stay).
pub fn declare_extensions<T: StacObject>(object: &mut T) -> Result<()> {
    let value = serde_json::to_value(&*object).map_err(|source| Error::Json {
        what: format!("{}: serializing", object.object_id()),
        source,
    })?;
    let used = used_extensions(&value);
    let list = object.extensions_mut();
    for (_, uri) in EXTENSIONS {
        if used.contains(uri) && !list.iter().any(|e| e == uri) {
            list.push(uri.to_string());
        }
    }
    Ok(())
}
