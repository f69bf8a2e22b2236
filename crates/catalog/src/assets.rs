//! Assets of every kind arco writes or reads, with their media types, roles
//! and how xarray opens them (`xarray:open_kwargs`). The table and the
//! reasons for each choice are in `docs/design/stac.md`.
//!
//! | kind | media type | roles | `xarray:open_kwargs` |
//! |---|---|---|---|
//! | Zarr v3 store | `application/vnd.zarr; version=3` | data | `{"engine": "zarr", "consolidated": true, "zarr_format": 3}` |
//! | Zarr v2 store | `application/vnd.zarr; version=2` | data | `{"engine": "zarr", "consolidated": true, "zarr_format": 2}` |
//! | kerchunk JSON | `application/json` | data, references | `{"engine": "kerchunk"}` |
//! | kerchunk Parquet | `application/vnd.apache.parquet` | data, references | `{"engine": "kerchunk"}` |
//! | Icechunk repository | `application/vnd.zarr+icechunk` | data | `{"engine": "zarr", "consolidated": false, "zarr_format": 3}` |
//! | COG | `image/tiff; application=geotiff; profile=cloud-optimized` | data | `{"engine": "rasterio"}` |
//! | GeoTIFF | `image/tiff; application=geotiff` | data | `{"engine": "rasterio"}` |
//! | NetCDF (3 and 4) | `application/netcdf` | data | `{"engine": "netcdf4"}` |
//! | HDF5 | `application/x-hdf5` | data | `{"engine": "h5netcdf", "phony_dims": "sort"}` |
//! | GRIB2 | `application/wmo-GRIB2` | data | `{"engine": "cfgrib"}` |
//!
//! Inputs of a conversion listed as assets take the role `source` instead.
//! Zarr, kerchunk and Icechunk assets also get a `store` link (STAC Zarr best
//! practices).

use crate::extensions::{declare_extensions, StacObject};
use crate::{Error, Result};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

/// What an asset is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AssetKind {
    /// A Zarr store (hierarchy root) of format `version` (2 or 3).
    Zarr {
        /// Zarr format, 2 or 3.
        version: u8,
    },
    /// kerchunk references as one JSON document.
    KerchunkJson,
    /// kerchunk references as Parquet (a folder of `refs.N.parq` files).
    KerchunkParquet,
    /// An Icechunk repository.
    Icechunk,
    /// A Cloud-Optimized GeoTIFF.
    Cog,
    /// A GeoTIFF not known to be cloud-optimized.
    GeoTiff,
    /// A NetCDF-3 or NetCDF-4 file.
    NetCdf,
    /// A plain HDF5 file.
    Hdf5,
    /// A GRIB2 file.
    Grib2,
    /// Anything else, with its media type.
    Other {
        /// Media type.
        media_type: String,
    },
}

impl AssetKind {
    /// The kind of a dataset from the format name its reader reports
    /// (`netcdf3-*`, `netcdf4*`, `hdf5`, `zarr-v2`, `zarr-v3`, `grib2`,
    /// `grib1` (as `application/x-grib`), `geotiff`, `geotiff-bigtiff`).
    pub fn from_format(format: &str) -> AssetKind {
        match format {
            f if f.starts_with("netcdf") => AssetKind::NetCdf,
            "hdf5" => AssetKind::Hdf5,
            "zarr-v2" => AssetKind::Zarr { version: 2 },
            f if f.starts_with("zarr") => AssetKind::Zarr { version: 3 },
            "grib2" => AssetKind::Grib2,
            f if f.starts_with("grib") => AssetKind::Other {
                media_type: "application/x-grib".into(),
            },
            "kerchunk" | "kerchunk-json" => AssetKind::KerchunkJson,
            "kerchunk-parquet" => AssetKind::KerchunkParquet,
            "icechunk" => AssetKind::Icechunk,
            "cog" => AssetKind::Cog,
            f if f.contains("tiff") => AssetKind::GeoTiff,
            other => AssetKind::Other {
                media_type: format!("application/x-{other}"),
            },
        }
    }

    /// The media type (`type`) of the asset.
    pub fn media_type(&self) -> String {
        match self {
            AssetKind::Zarr { version } => format!("application/vnd.zarr; version={version}"),
            AssetKind::KerchunkJson => "application/json".into(),
            AssetKind::KerchunkParquet => "application/vnd.apache.parquet".into(),
            AssetKind::Icechunk => "application/vnd.zarr+icechunk".into(),
            AssetKind::Cog => "image/tiff; application=geotiff; profile=cloud-optimized".into(),
            AssetKind::GeoTiff => "image/tiff; application=geotiff".into(),
            AssetKind::NetCdf => "application/netcdf".into(),
            AssetKind::Hdf5 => "application/x-hdf5".into(),
            AssetKind::Grib2 => "application/wmo-GRIB2".into(),
            AssetKind::Other { media_type } => media_type.clone(),
        }
    }

    /// The default roles.
    pub fn roles(&self) -> Vec<String> {
        let r: &[&str] = match self {
            AssetKind::KerchunkJson | AssetKind::KerchunkParquet => &["data", "references"],
            _ => &["data"],
        };
        r.iter().map(|s| s.to_string()).collect()
    }

    /// `xarray:open_kwargs`: the keyword arguments of `xarray.open_dataset`
    /// (the asset href is the first argument). kerchunk references to remote
    /// files also need `storage_options` (such as `{"remote_protocol": "s3",
    /// "remote_options": {"anon": true}}`): set them in
    /// [`AssetSpec::open_kwargs`].
    pub fn open_kwargs(&self) -> Option<Map<String, Value>> {
        let v = match self {
            AssetKind::Zarr { version } => {
                json!({"engine": "zarr", "consolidated": true, "zarr_format": version})
            }
            AssetKind::KerchunkJson | AssetKind::KerchunkParquet => json!({"engine": "kerchunk"}),
            AssetKind::Icechunk => {
                json!({"engine": "zarr", "consolidated": false, "zarr_format": 3})
            }
            AssetKind::Cog | AssetKind::GeoTiff => json!({"engine": "rasterio"}),
            AssetKind::NetCdf => json!({"engine": "netcdf4"}),
            AssetKind::Hdf5 => json!({"engine": "h5netcdf", "phony_dims": "sort"}),
            AssetKind::Grib2 => json!({"engine": "cfgrib"}),
            AssetKind::Other { .. } => return None,
        };
        v.as_object().cloned()
    }

    /// True for stores (Zarr, virtual Zarr): they get a `store` link.
    pub fn is_store(&self) -> bool {
        matches!(
            self,
            AssetKind::Zarr { .. }
                | AssetKind::KerchunkJson
                | AssetKind::KerchunkParquet
                | AssetKind::Icechunk
        )
    }
}

/// Everything needed to build an asset.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetSpec {
    /// Where it is: a URL, an absolute path (the static catalog writer makes
    /// local paths relative to each document) or a path relative to the
    /// document that will hold it.
    pub href: String,
    /// What it is.
    pub kind: AssetKind,
    /// Roles; default: [`AssetKind::roles`].
    pub roles: Option<Vec<String>>,
    /// Title.
    pub title: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// `file:size` in bytes (files only).
    pub size: Option<u64>,
    /// `file:checksum`, a multihash in hex (`1220` + SHA-256 hex).
    pub checksum: Option<String>,
    /// `xarray:open_kwargs`; default: [`AssetKind::open_kwargs`].
    pub open_kwargs: Option<Map<String, Value>>,
    /// `xarray:storage_options` (fsspec options, such as `{"anon": true}`).
    pub storage_options: Option<Map<String, Value>>,
    /// Put the dataset's bands on the asset ([`crate::Description::asset`]).
    pub describe_contents: bool,
}

impl AssetSpec {
    /// An asset of `kind` at `href`, described with the dataset's bands.
    pub fn new(href: impl Into<String>, kind: AssetKind) -> AssetSpec {
        AssetSpec {
            href: href.into(),
            kind,
            roles: None,
            title: None,
            description: None,
            size: None,
            checksum: None,
            open_kwargs: None,
            storage_options: None,
            describe_contents: true,
        }
    }

    /// The asset of a described dataset at `href`: the kind from its format,
    /// its size when it is one file, its title, and for a local file its
    /// SHA-256 (when the file can be read).
    pub fn for_dataset(d: &crate::Description, href: impl Into<String>) -> AssetSpec {
        let kind = AssetKind::from_format(&d.source.format);
        let mut spec = AssetSpec::new(href, kind.clone());
        spec.title = d.title.clone().or_else(|| Some(d.id.clone()));
        if !kind.is_store() {
            spec.size = Some(d.source.size);
            if let Ok(arco_storage::Location::Local(path)) =
                arco_storage::Location::parse(&d.source.location)
            {
                if path.is_file() {
                    spec.checksum = sha256_multihash(&path).ok();
                }
            }
        }
        spec
    }

    /// The same spec with `file:size` and `file:checksum` of a local file.
    pub fn with_file(mut self, path: &Path) -> Result<AssetSpec> {
        let meta = std::fs::metadata(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        self.size = Some(meta.len());
        self.checksum = Some(sha256_multihash(path)?);
        Ok(self)
    }

    /// The STAC asset (without bands; see [`crate::Description::asset`]).
    pub fn asset(&self) -> stac::Asset {
        let mut a = stac::Asset::new(&self.href);
        a.r#type = Some(self.kind.media_type());
        a.roles = self.roles.clone().unwrap_or_else(|| self.kind.roles());
        a.title = self.title.clone();
        a.description = self.description.clone();
        let f = &mut a.additional_fields;
        if let Some(s) = self.size {
            f.insert("file:size".into(), json!(s));
        }
        if let Some(c) = &self.checksum {
            f.insert("file:checksum".into(), json!(c));
        }
        if let Some(k) = self.open_kwargs.clone().or_else(|| self.kind.open_kwargs()) {
            f.insert("xarray:open_kwargs".into(), Value::Object(k));
        }
        if let Some(s) = &self.storage_options {
            f.insert("xarray:storage_options".into(), Value::Object(s.clone()));
        }
        a
    }
}

/// Items and collections: STAC objects with assets and links.
pub trait HasAssets: StacObject + stac::Assets + stac::Links {}
impl<T: StacObject + stac::Assets + stac::Links> HasAssets for T {}

/// Add `asset` under `key` to an item or collection, with a `store` link
/// for store media types (when there is none yet), and update its
/// `stac_extensions`.
pub fn add_asset<T: HasAssets>(target: &mut T, key: &str, asset: stac::Asset) -> Result<()> {
    let is_store = asset.r#type.as_deref().is_some_and(|t| {
        t.starts_with("application/vnd.zarr") || (asset.roles.iter().any(|r| r == "references"))
    });
    if is_store && !target.links().iter().any(|l| l.rel == "store") {
        let mut link = stac::Link::new(&asset.href, "store").r#type(asset.r#type.clone());
        link.title = asset.title.clone();
        target.links_mut().push(link);
    }
    let _ = target.assets_mut().insert(key.to_string(), asset);
    declare_extensions(target)
}

/// The `file:checksum` of a file: the multihash of its SHA-256, in hex
/// (`1220` followed by the 64 hex digits).
pub fn sha256_multihash(path: &Path) -> Result<String> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::fs::File::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let hex: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(format!("1220{hex}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn checksums_are_sha256_multihashes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x");
        std::fs::write(&p, b"abc").unwrap();
        assert_eq!(
            sha256_multihash(&p).unwrap(),
            "1220ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn zarr_assets_say_their_version_and_how_to_open_them() {
        let a = AssetSpec::new("../", AssetKind::Zarr { version: 3 }).asset();
        assert_eq!(a.r#type.as_deref(), Some("application/vnd.zarr; version=3"));
        assert_eq!(a.additional_fields["xarray:open_kwargs"]["zarr_format"], 3);
        assert_eq!(AssetKind::from_format("netcdf3-classic"), AssetKind::NetCdf);
        assert_eq!(
            AssetKind::from_format("zarr-v2"),
            AssetKind::Zarr { version: 2 }
        );
    }
}
