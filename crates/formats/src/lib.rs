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

struct Nc3Reader {
    source: DynSource,
    file: arco_netcdf3::Nc3File,
}

impl Reader for Nc3Reader {
    fn dataset(&self) -> &Dataset {
        self.file.dataset()
    }
    fn manifest(&self, variable: &str) -> Result<ChunkManifest> {
        Ok(self.file.manifest(variable)?)
    }
    fn read(&self, variable: &str, selection: &Selection) -> Result<NdArray> {
        let m = self.manifest(variable)?;
        read::read_selection(self.source.as_ref(), &m, selection)
    }
    fn read_with(
        &self,
        variable: &str,
        selection: &Selection,
        options: &read::ReadOptions,
    ) -> Result<NdArray> {
        let m = self.manifest(variable)?;
        read::read_selection_with(self.source.as_ref(), &m, selection, options)
    }
}

struct H5Reader {
    source: DynSource,
    file: arco_hdf5::H5File,
}

impl Reader for H5Reader {
    fn dataset(&self) -> &Dataset {
        self.file.dataset()
    }
    fn manifest(&self, variable: &str) -> Result<ChunkManifest> {
        Ok(self.file.manifest(variable)?)
    }
    fn read(&self, variable: &str, selection: &Selection) -> Result<NdArray> {
        let var = self.file.dataset().variable(variable)?;
        if var.dtype.size().is_none() {
            return Ok(self.file.read_varlen(variable, selection)?);
        }
        let m = self.manifest(variable)?;
        read::read_selection(self.source.as_ref(), &m, selection)
    }
    fn read_with(
        &self,
        variable: &str,
        selection: &Selection,
        options: &read::ReadOptions,
    ) -> Result<NdArray> {
        let var = self.file.dataset().variable(variable)?;
        if var.dtype.size().is_none() {
            return Ok(self.file.read_varlen(variable, selection)?);
        }
        let m = self.manifest(variable)?;
        read::read_selection_with(self.source.as_ref(), &m, selection, options)
    }
}

struct TiffReader {
    source: DynSource,
    file: arco_geotiff::TiffFile,
}

impl Reader for TiffReader {
    fn dataset(&self) -> &Dataset {
        self.file.dataset()
    }
    fn manifest(&self, variable: &str) -> Result<ChunkManifest> {
        Ok(self.file.manifest(variable)?)
    }
    fn read(&self, variable: &str, selection: &Selection) -> Result<NdArray> {
        let m = self.manifest(variable)?;
        read::read_selection(self.source.as_ref(), &m, selection)
    }
    fn read_with(
        &self,
        variable: &str,
        selection: &Selection,
        options: &read::ReadOptions,
    ) -> Result<NdArray> {
        let m = self.manifest(variable)?;
        read::read_selection_with(self.source.as_ref(), &m, selection, options)
    }
}

struct GribReader {
    source: DynSource,
    file: arco_grib::GribFile,
}

impl Reader for GribReader {
    fn dataset(&self) -> &Dataset {
        self.file.dataset()
    }
    fn manifest(&self, variable: &str) -> Result<ChunkManifest> {
        Ok(self.file.manifest(variable)?)
    }
    fn read(&self, variable: &str, selection: &Selection) -> Result<NdArray> {
        let m = self.manifest(variable)?;
        read::read_selection(self.source.as_ref(), &m, selection)
    }
    fn read_with(
        &self,
        variable: &str,
        selection: &Selection,
        options: &read::ReadOptions,
    ) -> Result<NdArray> {
        let m = self.manifest(variable)?;
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
        return Ok(Box::new(Nc3Reader { source, file }));
    }
    if arco_hdf5::is_hdf5(&magic) {
        let file = arco_hdf5::H5File::open(source.clone())?;
        return Ok(Box::new(H5Reader { source, file }));
    }
    if arco_geotiff::is_tiff(&magic) {
        let file = arco_geotiff::TiffFile::open(source.clone())?;
        return Ok(Box::new(TiffReader { source, file }));
    }
    if arco_grib::is_grib(&magic) {
        let file = arco_grib::GribFile::open(source.clone())?;
        return Ok(Box::new(GribReader { source, file }));
    }
    Err(Error::UnknownFormat {
        location: source.location().to_string(),
        magic: magic.iter().map(|b| format!("{b:02x}")).collect(),
    })
}
