//! # arco-formats
//!
//! One entry point, [`open`], that recognises a source's format by its magic
//! bytes and returns a [`Reader`]; and the shared read engine that turns a
//! [`ChunkManifest`] and a [`Selection`] into values: it fetches the needed
//! chunks with coalesced range reads, decodes them in parallel, and assembles
//! the result.
#![warn(missing_docs)]

pub mod concat;
pub mod kerchunk;
pub mod read;

use arco_core::{ChunkManifest, Dataset, NdArray, Selection};
use arco_storage::DynSource;

/// Errors opening or reading a source.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The format was not recognised.
    #[error("{location}: unknown format (first bytes {magic}); arco reads NetCDF-3, NetCDF-4, HDF5, GeoTIFF (TIFF, COG, BigTIFF) and GRIB (editions 1 and 2) files")]
    UnknownFormat {
        /// Path or URL.
        location: String,
        /// The first bytes, in hex.
        magic: String,
    },
    /// NetCDF-3 reader error.
    #[error(transparent)]
    Netcdf3(#[from] arco_netcdf3::Error),
    /// HDF5 reader error.
    #[error(transparent)]
    Hdf5(#[from] arco_hdf5::Error),
    /// GeoTIFF reader error.
    #[error(transparent)]
    GeoTiff(#[from] arco_geotiff::Error),
    /// GRIB reader error.
    #[error(transparent)]
    Grib(#[from] arco_grib::Error),
    /// Codec error.
    #[error(transparent)]
    Codec(#[from] arco_codecs::Error),
    /// Concatenation of several sources refused.
    #[error(transparent)]
    Concat(#[from] concat::ConcatError),
    /// Storage error.
    #[error(transparent)]
    Storage(#[from] arco_storage::Error),
    /// Zarr error.
    #[error(transparent)]
    Zarr(#[from] arco_zarr::Error),
    /// Data-model error.
    #[error(transparent)]
    Core(#[from] arco_core::Error),
    /// A kerchunk reference set is malformed, or points at bytes that are not there.
    #[error("{location}: {message}")]
    Kerchunk {
        /// The reference set.
        location: String,
        /// What is wrong, naming the key, URL and byte range, and what to do.
        message: String,
    },
}

/// Crate result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An opened dataset of any supported format.
pub trait Reader: Send + Sync {
    /// The metadata tree.
    fn dataset(&self) -> &Dataset;

    /// Where every stored chunk of a fixed-size variable is, and how to decode it.
    fn manifest(&self, variable: &str) -> Result<ChunkManifest>;

    /// Stored (not CF-decoded) values of `variable` in `selection`.
    fn read(&self, variable: &str, selection: &Selection) -> Result<NdArray>;

    /// [`Reader::read`] within the memory limits of `options` (see
    /// [`read::read_selection_with`]). Readers that do not go through the
    /// chunk engine ignore them.
    fn read_with(
        &self,
        variable: &str,
        selection: &Selection,
        options: &read::ReadOptions,
    ) -> Result<NdArray> {
        let _ = options;
        self.read(variable, selection)
    }
}

/// A parsed file whose fixed-size variables are chunk manifests over one
/// byte source: what every single-file format reader provides. Values go
/// through the shared read engine ([`read::read_selection_with`]).
trait ManifestFile: Send + Sync {
    /// The metadata tree.
    fn dataset(&self) -> &Dataset;
    /// The chunk manifest of a fixed-size variable.
    fn manifest(&self, variable: &str) -> Result<ChunkManifest>;
    /// Values of a variable that has no manifest (variable-length types),
    /// read by the format itself; `None` for variables the engine reads.
    fn read_without_manifest(
        &self,
        _variable: &str,
        _selection: &Selection,
    ) -> Option<Result<NdArray>> {
        None
    }
}

impl ManifestFile for arco_netcdf3::Nc3File {
    fn dataset(&self) -> &Dataset {
        arco_netcdf3::Nc3File::dataset(self)
    }
    fn manifest(&self, variable: &str) -> Result<ChunkManifest> {
        Ok(arco_netcdf3::Nc3File::manifest(self, variable)?)
    }
}

impl ManifestFile for arco_hdf5::H5File {
    fn dataset(&self) -> &Dataset {
        arco_hdf5::H5File::dataset(self)
    }
    fn manifest(&self, variable: &str) -> Result<ChunkManifest> {
        Ok(arco_hdf5::H5File::manifest(self, variable)?)
    }
    fn read_without_manifest(
        &self,
        variable: &str,
        selection: &Selection,
    ) -> Option<Result<NdArray>> {
        match arco_hdf5::H5File::dataset(self).variable(variable) {
            Ok(var) if var.dtype.size().is_none() => {
                Some(self.read_varlen(variable, selection).map_err(Error::from))
            }
            _ => None,
        }
    }
}

impl ManifestFile for arco_geotiff::TiffFile {
    fn dataset(&self) -> &Dataset {
        arco_geotiff::TiffFile::dataset(self)
    }
    fn manifest(&self, variable: &str) -> Result<ChunkManifest> {
        Ok(arco_geotiff::TiffFile::manifest(self, variable)?)
    }
}

impl ManifestFile for arco_grib::GribFile {
    fn dataset(&self) -> &Dataset {
        arco_grib::GribFile::dataset(self)
    }
    fn manifest(&self, variable: &str) -> Result<ChunkManifest> {
        Ok(arco_grib::GribFile::manifest(self, variable)?)
    }
}

/// A single-file format reader: a [`ManifestFile`] and the source it reads.
struct FileReader<F> {
    source: DynSource,
    file: F,
}

impl<F: ManifestFile> Reader for FileReader<F> {
    fn dataset(&self) -> &Dataset {
        self.file.dataset()
    }
    fn manifest(&self, variable: &str) -> Result<ChunkManifest> {
        self.file.manifest(variable)
    }
    fn read(&self, variable: &str, selection: &Selection) -> Result<NdArray> {
        if let Some(values) = self.file.read_without_manifest(variable, selection) {
            return values;
        }
        let m = self.file.manifest(variable)?;
        read::read_selection(self.source.as_ref(), &m, selection)
    }
    fn read_with(
        &self,
        variable: &str,
        selection: &Selection,
        options: &read::ReadOptions,
    ) -> Result<NdArray> {
        if let Some(values) = self.file.read_without_manifest(variable, selection) {
            return values;
        }
        let m = self.file.manifest(variable)?;
        read::read_selection_with(self.source.as_ref(), &m, selection, options)
    }
}

/// A Zarr v2 or v3 hierarchy (what `arco convert` writes) read as a dataset.
struct ZarrReader {
    store: arco_zarr::ZarrStore,
    dataset: Dataset,
}

impl Reader for ZarrReader {
    fn dataset(&self) -> &Dataset {
        &self.dataset
    }
    fn manifest(&self, variable: &str) -> Result<ChunkManifest> {
        let var = self.dataset.variable(variable)?;
        Err(arco_core::Error::Other(format!(
            "{}: {} is a Zarr array; its chunks are Zarr objects, not byte ranges of one file",
            self.dataset.source, var.path
        ))
        .into())
    }
    fn read(&self, variable: &str, selection: &Selection) -> Result<NdArray> {
        let var = self.dataset.variable(variable)?;
        Ok(self.store.read(&var.path, selection)?)
    }
}

/// True when `location` names a Zarr hierarchy: a local folder holding
/// `zarr.json`, `.zgroup` or `.zarray`, or a URL ending in `.zarr`.
pub fn is_zarr_location(location: &str) -> bool {
    match arco_storage::Location::parse(location) {
        Ok(arco_storage::Location::Local(path)) => {
            path.is_dir()
                && ["zarr.json", ".zgroup", ".zarray"]
                    .iter()
                    .any(|f| path.join(f).is_file())
        }
        Ok(_) => location.trim_end_matches('/').ends_with(".zarr"),
        Err(_) => false,
    }
}

/// Open a Zarr hierarchy at `location` as a [`Reader`].
pub fn open_zarr(location: &str, options: &arco_storage::OpenOptions) -> Result<Box<dyn Reader>> {
    let store = arco_zarr::ZarrStore::open(location, options)?;
    let dataset = store.dataset()?;
    Ok(Box::new(ZarrReader { store, dataset }))
}

/// Open `source`, choosing the reader by the file's magic bytes.
pub fn open(source: DynSource) -> Result<Box<dyn Reader>> {
    let n = source.len().min(8);
    let magic = source.read_range(0..n)?;
    if arco_netcdf3::is_netcdf3(&magic) {
        let file = arco_netcdf3::Nc3File::open(source.clone())?;
        return Ok(Box::new(FileReader { source, file }));
    }
    if arco_hdf5::is_hdf5(&magic) {
        let file = arco_hdf5::H5File::open(source.clone())?;
        return Ok(Box::new(FileReader { source, file }));
    }
    if arco_geotiff::is_tiff(&magic) {
        let file = arco_geotiff::TiffFile::open(source.clone())?;
        return Ok(Box::new(FileReader { source, file }));
    }
    if arco_grib::is_grib(&magic) {
        let file = arco_grib::GribFile::open(source.clone())?;
        return Ok(Box::new(FileReader { source, file }));
    }
    Err(Error::UnknownFormat {
        location: source.location().to_string(),
        magic: magic.iter().map(|b| format!("{b:02x}")).collect(),
    })
}
