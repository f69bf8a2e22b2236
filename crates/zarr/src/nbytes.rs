//! The `null_terminated_bytes` data type: numpy's fixed-size byte strings
//! (`|S8`), as zarr-python 3 writes them in Zarr v3.
//!
//! zarrs has no such type, so arco registers it: xarray writes NetCDF
//! `NC_CHAR` arrays (`|S1`) and fixed-size HDF5 strings (`|S8`) with it, and
//! reading them back as `|S` is what makes xarray decode characters the same
//! way as from the source file. In memory an element is `length_bytes` raw
//! bytes, NUL-padded; the `bytes` codec passes them through unchanged. Fill
//! values are base64 strings (zarr-python's `to_json_scalar`); the integer
//! `0` (the zarrs reading of a Zarr v2 `null`) means all NUL bytes.

use base64::prelude::{Engine, BASE64_STANDARD};
use std::sync::Arc;
use zarrs::array::DataType;
use zarrs_data_type::{
    DataTypeFillValueError, DataTypeFillValueMetadataError, DataTypePluginV3, DataTypeTraits,
    DataTypeTraitsV3, FillValue,
};
use zarrs_metadata::v3::MetadataV3;
use zarrs_metadata::{Configuration, DataTypeSize, FillValueMetadata};
use zarrs_plugin::{PluginCreateError, ZarrVersion};

/// The Zarr v3 name of the type.
pub(crate) const NAME: &str = "null_terminated_bytes";

/// Fixed-size, NUL-padded byte strings of `length_bytes` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NullTerminatedBytes {
    length_bytes: usize,
}

zarrs_plugin::impl_extension_aliases!(NullTerminatedBytes, v3: NAME);

inventory::submit! {
    DataTypePluginV3::new::<NullTerminatedBytes>()
}

zarrs_data_type::codec_traits::impl_bytes_data_type_traits!(NullTerminatedBytes, 1);

impl NullTerminatedBytes {
    /// The data type for strings of `length_bytes` bytes.
    pub(crate) fn data_type(length_bytes: usize) -> DataType {
        Arc::new(NullTerminatedBytes { length_bytes }).into()
    }
}

impl DataTypeTraitsV3 for NullTerminatedBytes {
    fn create(metadata: &MetadataV3) -> Result<DataType, PluginCreateError> {
        let length = metadata
            .configuration()
            .and_then(|c| c.get("length_bytes"))
            .and_then(serde_json::Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                PluginCreateError::Other(format!(
                    "{NAME} needs a positive configuration.length_bytes"
                ))
            })?;
        Ok(Self::data_type(length))
    }
}

impl DataTypeTraits for NullTerminatedBytes {
    fn configuration(&self, _version: ZarrVersion) -> Configuration {
        let mut map = serde_json::Map::new();
        map.insert("length_bytes".into(), self.length_bytes.into());
        Configuration::from(map)
    }

    fn size(&self) -> DataTypeSize {
        DataTypeSize::Fixed(self.length_bytes)
    }

    fn fill_value(
        &self,
        fill_value_metadata: &FillValueMetadata,
        _version: ZarrVersion,
    ) -> Result<FillValue, DataTypeFillValueMetadataError> {
        let mut bytes = if let Some(s) = fill_value_metadata.as_str() {
            BASE64_STANDARD
                .decode(s)
                .map_err(|_| DataTypeFillValueMetadataError)?
        } else if fill_value_metadata.as_u64() == Some(0) {
            Vec::new()
        } else {
            return Err(DataTypeFillValueMetadataError);
        };
        if bytes.len() > self.length_bytes {
            return Err(DataTypeFillValueMetadataError);
        }
        bytes.resize(self.length_bytes, 0);
        Ok(FillValue::from(bytes))
    }

    fn metadata_fill_value(
        &self,
        fill_value: &FillValue,
    ) -> Result<FillValueMetadata, DataTypeFillValueError> {
        let bytes = fill_value.as_ne_bytes();
        let end = bytes.iter().rposition(|b| *b != 0).map_or(0, |p| p + 1);
        Ok(FillValueMetadata::from(
            BASE64_STANDARD.encode(&bytes[..end]).as_str(),
        ))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_type_is_found_by_its_v3_name_and_keeps_its_length() {
        let meta: MetadataV3 = serde_json::from_str(
            r#"{"name":"null_terminated_bytes","configuration":{"length_bytes":5}}"#,
        )
        .unwrap();
        let dt = DataType::from_metadata(&meta).unwrap();
        assert_eq!(dt.fixed_size(), Some(5));
        let fv = dt.fill_value_v3(&FillValueMetadata::from("")).unwrap();
        assert_eq!(fv.as_ne_bytes(), &[0u8; 5]);
        let fv = dt.fill_value_v3(&FillValueMetadata::from("YWI=")).unwrap();
        assert_eq!(fv.as_ne_bytes(), b"ab\0\0\0");
    }
}
