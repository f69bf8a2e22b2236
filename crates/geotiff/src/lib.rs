//! # arco-geotiff
//!
//! Pure-Rust reader for GeoTIFF, Cloud-Optimized GeoTIFF (COG) and BigTIFF
//! files, both byte orders. It parses the IFDs into arco's data model the way
//! `rioxarray.open_rasterio` (and xarray's `engine="rasterio"`) presents a
//! raster, and describes every raster's bytes as a [`ChunkManifest`] with
//! one chunk per TIFF tile or strip. It does not decode pixels: the shared
//! read engine in `arco-formats` does, from the manifest, through
//! `arco-codecs`.
//!
//! The data model (see `docs/design/geotiff.md`):
//!
//! * `band_data(y, x)` for one band, `band_data(band, y, x)` for several, in
//!   the file's sample type; one chunk per tile or strip (a pixel-interleaved
//!   tile decodes through an [`arco_core::CodecSpec::Interleave`] stage to
//!   `(band, y, x)`).
//!   Tiles never written (offset and byte count 0, as in sparse COGs) are
//!   missing chunks that read as the nodata value.
//! * 1-D coordinates `x`, `y` at pixel centres from the geotransform (`y`
//!   descending for north-up images), `band` = 1..n, and a scalar
//!   `spatial_ref` holding the CRS (`crs_wkt`, `spatial_ref`, CF grid-mapping
//!   attributes) and the `GeoTransform` in GDAL order.
//! * `_FillValue` from `GDAL_NODATA`; `scale_factor`, `add_offset`, `units`
//!   and `long_name` from `GDAL_METADATA`.
//! * Overviews (reduced-resolution IFDs) as groups `overview_1`, `overview_2`,
//!   … with their own `x`, `y` and `spatial_ref`. Masks are skipped and
//!   listed in the root attribute `skipped_tiff_ifds`.
//!
//! Headers are read by range reads: the first 64 KiB, then more only where a
//! tag's values lie beyond what was read. Tile data is never read here.
//!
//! ```no_run
//! use std::sync::Arc;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let source = Arc::new(arco_storage::LocalFile::open("dem.tif", "dem.tif")?);
//! let file = arco_geotiff::TiffFile::open(source)?;
//! let manifest = file.manifest("band_data")?;
//! println!("{} tiles", manifest.chunks.len());
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

mod geo;
mod ifd;
mod image;
mod metadata;

pub use geo::GeoTransform;
pub use ifd::is_tiff;
pub use image::{Blocks, Image, Role};

use arco_core::{
    AttrValue, Attribute, ChunkGrid, ChunkManifest, ChunkRef, DType, Dataset, Dimension, Endian,
    Group, StorageLayout, Values, Variable,
};
use arco_storage::DynSource;
use image::tag;
use std::collections::HashMap;
use std::sync::Arc;

/// Errors reading a TIFF file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not a valid TIFF file (or are truncated).
    #[error("{location}: not a valid TIFF file at byte {offset}: {reason}")]
    Format {
        /// File path or URL.
        location: String,
        /// Byte offset where the problem was found.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// A valid TIFF that arco cannot represent.
    #[error("{location}: {reason}")]
    Unsupported {
        /// File path or URL.
        location: String,
        /// What is not supported and what to do.
        reason: String,
    },
    /// Reading bytes failed.
    #[error(transparent)]
    Storage(#[from] arco_storage::Error),
    /// A data-model error (unknown variable, ...).
    #[error(transparent)]
    Core(#[from] arco_core::Error),
}

/// Crate result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The largest width or height read (2^26 pixels: the x and y coordinates of
/// such an image take 512 MiB each).
const MAX_SIDE: u64 = 1 << 26;

/// Where a variable's values come from.
#[derive(Debug, Clone)]
enum Source {
    /// Tiles or strips of `images[image]`.
    Raster { image: usize, fill: Vec<u8> },
    /// Values computed from the metadata (coordinates), little-endian.
    Inline(Arc<[u8]>),
}

/// An open TIFF file.
#[derive(Debug)]
pub struct TiffFile {
    dataset: Dataset,
    endian: Endian,
    bigtiff: bool,
    images: Vec<Image>,
    geotransform: Option<GeoTransform>,
    sources: HashMap<String, Source>,
}

impl TiffFile {
    /// Parse the IFDs of `source`.
    ///
    /// Fails with [`Error::Format`], naming the byte offset, when the file is
    /// not a TIFF, is corrupt, or is truncated (including tiles or strips that
    /// would end past the end of the file), and with [`Error::Unsupported`]
    /// when the main image's samples have no arco type (1-bit, 16-bit float,
    /// complex).
    pub fn open(source: DynSource) -> Result<Self> {
        let mut f = ifd::Fetcher::new(source.as_ref())?;
        let header = ifd::read_header(&mut f)?;
        let ifds = ifd::read_ifds(&mut f, &header)?;
        let endian = header.order.0;
        let mut t = ifd::Tags {
            f: &mut f,
            order: header.order,
        };
        let mut images = Vec::with_capacity(ifds.len());
        for (i, d) in ifds.iter().enumerate() {
            images.push(Image::parse(&mut t, d, i)?);
        }
        let meta = FileMeta::read(&mut t, &ifds[0])?;
        build(
            f.location.clone(),
            f.len,
            endian,
            header.bigtiff,
            images,
            meta,
        )
    }

    /// The metadata tree.
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// The byte order of the file.
    pub fn endian(&self) -> Endian {
        self.endian
    }

    /// True for BigTIFF (64-bit offsets).
    pub fn is_bigtiff(&self) -> bool {
        self.bigtiff
    }

    /// Every IFD of the file, in chain order (masks and skipped pages included).
    pub fn images(&self) -> &[Image] {
        &self.images
    }

    /// The geotransform of the full-resolution image (GDAL order), if any.
    pub fn geotransform(&self) -> Option<GeoTransform> {
        self.geotransform
    }

    /// The chunk manifest of the variable at `path` (or bare name).
    ///
    /// `band_data` has one chunk per tile or strip; coordinates and
    /// `spatial_ref` are one chunk held inline.
    pub fn manifest(&self, path: &str) -> Result<ChunkManifest> {
        let var = self.dataset.variable(path)?;
        let source = self.sources.get(&var.path).ok_or_else(|| {
            Error::Core(arco_core::Error::Other(format!(
                "{}: no layout recorded for variable {}",
                self.dataset.source, var.path
            )))
        })?;
        match source {
            Source::Inline(bytes) => {
                let grid = ChunkGrid::new(var.shape.clone(), var.shape.clone())?;
                Ok(ChunkManifest {
                    variable: var.path.clone(),
                    dtype: var.dtype.clone(),
                    endian: Endian::Little,
                    grid,
                    codecs: Vec::new(),
                    chunks: vec![ChunkRef {
                        index: vec![0; var.shape.len()],
                        offset: 0,
                        length: bytes.len() as u64,
                        filter_mask: 0,
                        inline: Some(bytes.clone()),
                    }],
                    fill_bytes: None,
                })
            }
            Source::Raster { image, fill } => {
                let img = self.images.get(*image).ok_or_else(|| {
                    Error::Core(arco_core::Error::Other(format!(
                        "{}: variable {} names a missing image",
                        self.dataset.source, var.path
                    )))
                })?;
                raster_manifest(var, img, self.endian, fill.clone())
            }
        }
    }
}

/// Chunks of one raster: one per tile or strip; never-written blocks left out.
fn raster_manifest(
    var: &Variable,
    img: &Image,
    endian: Endian,
    fill: Vec<u8>,
) -> Result<ChunkManifest> {
    let chunk_shape = var.chunk_shape.clone().unwrap_or_else(|| var.shape.clone());
    let grid = ChunkGrid::new(var.shape.clone(), chunk_shape)?;
    let (across, down) = img.blocks_across_down();
    let per_plane = across * down;
    let multi = img.samples_per_pixel > 1;
    let mut chunks = Vec::with_capacity(img.offsets.len());
    for (k, (&offset, &length)) in img.offsets.iter().zip(&img.byte_counts).enumerate() {
        if length == 0 {
            continue;
        }
        let k = k as u64;
        let (plane, within) = (k / per_plane, k % per_plane);
        let (row, col) = (within / across, within % across);
        let index = if multi {
            vec![plane, row, col]
        } else {
            vec![row, col]
        };
        chunks.push(ChunkRef {
            index,
            offset,
            length,
            filter_mask: 0,
            inline: None,
        });
    }
    Ok(ChunkManifest {
        variable: var.path.clone(),
        dtype: var.dtype.clone(),
        endian,
        grid,
        codecs: var.codecs.clone(),
        chunks,
        fill_bytes: Some(fill),
    })
}

/// File-level metadata, from the first IFD.
#[derive(Debug, Default)]
struct FileMeta {
    keys: Option<geo::GeoKeys>,
    keys_error: Option<(u64, String)>,
    pixel_scale: Option<Vec<f64>>,
    tiepoints: Option<Vec<f64>>,
    transformation: Option<Vec<f64>>,
    nodata: Option<String>,
    items: Vec<metadata::Item>,
    text_tags: Vec<(&'static str, String)>,
}

impl FileMeta {
    fn read(t: &mut ifd::Tags<'_, '_>, ifd0: &ifd::Ifd) -> Result<FileMeta> {
        let mut m = FileMeta::default();
        let floats =
            |t: &mut ifd::Tags<'_, '_>, code: u16, name: &str| -> Result<Option<Vec<f64>>> {
                match ifd0.entry(code) {
                    Some(e) => Ok(Some(t.floats(e, name)?)),
                    None => Ok(None),
                }
            };
        m.pixel_scale = floats(t, tag::MODEL_PIXEL_SCALE, "ModelPixelScale")?;
        m.tiepoints = floats(t, tag::MODEL_TIEPOINT, "ModelTiepoint")?;
        m.transformation = floats(t, tag::MODEL_TRANSFORMATION, "ModelTransformation")?;
        if let Some(e) = ifd0.entry(tag::GEO_KEY_DIRECTORY) {
            let dir = t.uints(e, "GeoKeyDirectory")?;
            let doubles = floats(t, tag::GEO_DOUBLE_PARAMS, "GeoDoubleParams")?.unwrap_or_default();
            let ascii = match ifd0.entry(tag::GEO_ASCII_PARAMS) {
                Some(a) => {
                    let raw = t.raw(a, "GeoAsciiParams")?;
                    String::from_utf8_lossy(&raw).into_owned()
                }
                None => String::new(),
            };
            match geo::GeoKeys::parse(&dir, &doubles, &ascii) {
                Ok(k) => m.keys = Some(k),
                Err(reason) => m.keys_error = Some((e.at, reason)),
            }
        }
        if let Some(e) = ifd0.entry(tag::GDAL_NODATA) {
            m.nodata = Some(t.ascii(e, "GDAL_NODATA")?);
        }
        if let Some(e) = ifd0.entry(tag::GDAL_METADATA) {
            m.items = metadata::parse_items(&t.ascii(e, "GDAL_METADATA")?);
        }
        for (code, name) in [
            (tag::DOCUMENT_NAME, "TIFFTAG_DOCUMENTNAME"),
            (tag::IMAGE_DESCRIPTION, "TIFFTAG_IMAGEDESCRIPTION"),
            (tag::SOFTWARE, "TIFFTAG_SOFTWARE"),
            (tag::DATE_TIME, "TIFFTAG_DATETIME"),
            (tag::ARTIST, "TIFFTAG_ARTIST"),
            (tag::HOST_COMPUTER, "TIFFTAG_HOSTCOMPUTER"),
            (tag::COPYRIGHT, "TIFFTAG_COPYRIGHT"),
        ] {
            if let Some(e) = ifd0.entry(code).filter(|e| e.typ == 2) {
                let v = t.ascii(e, name)?;
                if !v.is_empty() {
                    m.text_tags.push((name, v));
                }
            }
        }
        Ok(m)
    }
}

pub(crate) fn text(name: &str, v: impl Into<String>) -> Attribute {
    Attribute::text(name, v)
}

pub(crate) fn f64_attr(name: &str, v: f64) -> Attribute {
    array_attr(name, Values::F64(vec![v]))
}

/// A numeric or string-array attribute, its stored type taken from the values.
pub(crate) fn array_attr(name: &str, v: Values) -> Attribute {
    let dtype = match &v {
        Values::I8(_) => DType::I8,
        Values::I16(_) => DType::I16,
        Values::I32(_) => DType::I32,
        Values::I64(_) => DType::I64,
        Values::U8(_) => DType::U8,
        Values::U16(_) => DType::U16,
        Values::U32(_) => DType::U32,
        Values::U64(_) => DType::U64,
        Values::F32(_) => DType::F32,
        Values::Bool(_) => DType::Bool,
        Values::Str(_) => DType::String,
        _ => DType::F64,
    };
    Attribute {
        name: name.into(),
        value: AttrValue::Array(v),
        dtype,
    }
}

/// Turn the parsed IFDs into the data model.
fn build(
    location: String,
    file_len: u64,
    endian: Endian,
    bigtiff: bool,
    images: Vec<Image>,
    meta: FileMeta,
) -> Result<TiffFile> {
    let bad = |offset: u64, reason: String| Error::Format {
        location: location.clone(),
        offset,
        reason,
    };
    if let Some((at, reason)) = &meta.keys_error {
        return Err(bad(
            *at,
            format!("the GeoKey directory is malformed: {reason}"),
        ));
    }
    let main = images
        .iter()
        .position(|i| i.role == Role::Full)
        .ok_or_else(|| {
            bad(
                8,
                "the file has no full-resolution image, only masks or overviews".into(),
            )
        })?;
    let main_img = &images[main];
    let dtype = match (&main_img.dtype, &main_img.unsupported) {
        (Some(d), _) => d.clone(),
        (None, why) => {
            return Err(Error::Unsupported {
                location,
                reason: format!(
                    "the image in IFD {} cannot be read: {}",
                    main_img.ifd,
                    why.as_deref().unwrap_or("unknown sample type")
                ),
            })
        }
    };

    // Coordinates are computed at open: refuse absurd sizes rather than
    // allocate gigabytes for them.
    if main_img.width > MAX_SIDE || main_img.height > MAX_SIDE {
        return Err(Error::Unsupported {
            location,
            reason: format!(
                "the image in IFD {} is {} x {} pixels; arco reads images up to {MAX_SIDE} \
                 pixels on a side",
                main_img.ifd, main_img.width, main_img.height
            ),
        });
    }

    // Which IFDs become groups, and which are skipped (and why).
    let mut overviews = Vec::new();
    let mut skipped = Vec::new();
    for (i, img) in images.iter().enumerate() {
        if i == main {
            continue;
        }
        let why = match img.role {
            Role::Mask => Some(format!(
                "IFD {i}: a {}x{} transparency mask",
                img.width, img.height
            )),
            Role::Full => Some(format!(
                "IFD {i}: a further full-resolution page ({}x{})",
                img.width, img.height
            )),
            Role::Overview => {
                if img.dtype.as_ref() != Some(&dtype)
                    || img.samples_per_pixel != main_img.samples_per_pixel
                {
                    Some(format!(
                        "IFD {i}: an overview whose samples differ from the full image"
                    ))
                } else {
                    None
                }
            }
        };
        match why {
            Some(w) => skipped.push(w),
            None => overviews.push(i),
        }
    }

    // Every block of a raster we expose must lie inside the file.
    for &i in std::iter::once(&main).chain(&overviews) {
        let img = &images[i];
        for (k, (&off, &len)) in img.offsets.iter().zip(&img.byte_counts).enumerate() {
            if len == 0 {
                continue;
            }
            let end = off.checked_add(len);
            if end.is_none_or(|e| e > file_len) {
                let kind = match img.blocks {
                    Blocks::Tiles { .. } => "tile",
                    Blocks::Strips { .. } => "strip",
                };
                return Err(bad(
                    off,
                    format!(
                        "{kind} {k} of IFD {i} (bytes {off}..{}) runs past the end of the file \
                         ({file_len} bytes); the file is truncated",
                        off.saturating_add(len)
                    ),
                ));
            }
        }
    }

    let pixel_is_point = meta.keys.as_ref().is_some_and(|k| k.pixel_is_point());
    let gt = geo::geotransform(
        meta.pixel_scale.as_deref(),
        meta.tiepoints.as_deref(),
        meta.transformation.as_deref(),
        pixel_is_point,
    );
    let crs = meta.keys.as_ref().and_then(|k| k.crs_attrs());

    // Nodata as one element of the sample type, in file byte order.
    let nodata = meta.nodata.as_deref().and_then(metadata::parse_nodata);
    let fill_value = nodata.and_then(|v| typed_value(&dtype, v));
    let fill_bytes = fill_value
        .as_ref()
        .and_then(|v| element_bytes(v, endian))
        .unwrap_or_else(|| vec![0; dtype.size().unwrap_or(1)]);

    let band_attrs = band_attributes(&meta, main_img.samples_per_pixel as usize, pixel_is_point);

    let mut sources = HashMap::new();
    let ctx = GroupContext {
        endian,
        dtype: &dtype,
        fill_value: &fill_value,
        fill_bytes: &fill_bytes,
        band_attrs: &band_attrs,
        crs: crs.as_ref(),
    };
    let mut root = raster_group(&ctx, "", "/", &images, main, gt, &mut sources);
    for (n, &i) in overviews.iter().enumerate() {
        let img = &images[i];
        let ogt = gt.map(|g| {
            let sx = main_img.width as f64 / img.width as f64;
            let sy = main_img.height as f64 / img.height as f64;
            [g[0], g[1] * sx, g[2] * sy, g[3], g[4] * sx, g[5] * sy]
        });
        let name = format!("overview_{}", n + 1);
        let path = format!("/{name}");
        let mut g = raster_group(&ctx, &name, &path, &images, i, ogt, &mut sources);
        g.attributes.push(array_attr(
            "overview_factor",
            Values::F64(vec![
                main_img.height as f64 / img.height as f64,
                main_img.width as f64 / img.width as f64,
            ]),
        ));
        root.groups.push(g);
    }

    // Root attributes: GDAL's dataset metadata and TIFF text tags.
    for item in meta
        .items
        .iter()
        .filter(|i| i.sample.is_none() && i.role.is_none() && i.domain.is_none())
    {
        if item.name != "AREA_OR_POINT" {
            root.attributes.push(text(&item.name, item.value.clone()));
        }
    }
    for (name, v) in &meta.text_tags {
        root.attributes.push(text(name, v.clone()));
    }
    if !skipped.is_empty() {
        root.attributes
            .push(text("skipped_tiff_ifds", skipped.join("; ")));
    }

    Ok(TiffFile {
        dataset: Dataset {
            source: location,
            format: if bigtiff {
                "geotiff-bigtiff"
            } else {
                "geotiff"
            }
            .into(),
            size: file_len,
            root,
        },
        endian,
        bigtiff,
        geotransform: gt,
        images,
        sources,
    })
}

/// What every raster group shares.
struct GroupContext<'a> {
    endian: Endian,
    dtype: &'a DType,
    fill_value: &'a Option<Values>,
    fill_bytes: &'a [u8],
    band_attrs: &'a [Attribute],
    crs: Option<&'a geo::CrsAttrs>,
}

/// One raster as a group: dimensions, coordinates, `spatial_ref`, `band_data`.
fn raster_group(
    ctx: &GroupContext<'_>,
    name: &str,
    path: &str,
    images: &[Image],
    index: usize,
    gt: Option<GeoTransform>,
    sources: &mut HashMap<String, Source>,
) -> Group {
    let img = &images[index];
    let join = |v: &str| {
        if path == "/" {
            format!("/{v}")
        } else {
            format!("{path}/{v}")
        }
    };
    let mut g = Group::new(name, path);
    let spp = u64::from(img.samples_per_pixel);
    let multi = spp > 1;
    if multi {
        g.dimensions.push(dim("band", spp));
    }
    g.dimensions.push(dim("y", img.height));
    g.dimensions.push(dim("x", img.width));

    let geographic = ctx.crs.is_some_and(|c| c.geographic);
    let georeferenced = gt.is_some() || ctx.crs.is_some();
    let coord = |var: &str, n: u64, values: Vec<f64>, attrs: Vec<Attribute>| {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        (
            inline_var(
                var,
                &join(var),
                vec![var.to_string()],
                vec![n],
                DType::F64,
                attrs,
            ),
            Source::Inline(bytes.into()),
        )
    };
    let mut coords = Vec::new();
    if multi {
        let bytes: Vec<u8> = (1..=spp as i64).flat_map(|b| b.to_le_bytes()).collect();
        coords.push((
            inline_var(
                "band",
                &join("band"),
                vec!["band".into()],
                vec![spp],
                DType::I64,
                vec![],
            ),
            Source::Inline(bytes.into()),
        ));
    }
    // Pixel centres; without georeferencing GDAL's identity transform (row 0 on top).
    let t = gt.unwrap_or([0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
    if t[2] == 0.0 && t[4] == 0.0 {
        let units = ctx
            .crs
            .and_then(|c| c.linear_unit.clone())
            .unwrap_or_else(|| "metre".to_string());
        let (xa, ya) = if !georeferenced {
            (vec![text("axis", "X")], vec![text("axis", "Y")])
        } else if geographic {
            (
                vec![
                    text("axis", "X"),
                    text("long_name", "longitude"),
                    text("standard_name", "longitude"),
                    text("units", "degrees_east"),
                ],
                vec![
                    text("axis", "Y"),
                    text("long_name", "latitude"),
                    text("standard_name", "latitude"),
                    text("units", "degrees_north"),
                ],
            )
        } else {
            (
                vec![
                    text("axis", "X"),
                    text("long_name", "x coordinate of projection"),
                    text("standard_name", "projection_x_coordinate"),
                    text("units", units.clone()),
                ],
                vec![
                    text("axis", "Y"),
                    text("long_name", "y coordinate of projection"),
                    text("standard_name", "projection_y_coordinate"),
                    text("units", units),
                ],
            )
        };
        let xs = (0..img.width)
            .map(|i| t[0] + (i as f64 + 0.5) * t[1])
            .collect();
        let ys = (0..img.height)
            .map(|j| t[3] + (j as f64 + 0.5) * t[5])
            .collect();
        coords.push(coord("y", img.height, ys, ya));
        coords.push(coord("x", img.width, xs, xa));
    }
    if georeferenced {
        let mut attrs = ctx.crs.map(|c| c.attributes.clone()).unwrap_or_default();
        if let Some(note) = ctx.crs.and_then(|c| c.note.clone()) {
            attrs.push(text("crs_note", note));
        }
        if let Some(gt) = gt {
            attrs.push(text(
                "GeoTransform",
                gt.iter()
                    .map(|v| format!("{v:?}"))
                    .collect::<Vec<_>>()
                    .join(" "),
            ));
        }
        coords.push((
            inline_var(
                "spatial_ref",
                &join("spatial_ref"),
                vec![],
                vec![],
                DType::I64,
                attrs,
            ),
            Source::Inline(0i64.to_le_bytes().to_vec().into()),
        ));
    }

    // The raster itself.
    let (bw, bh) = img.block_shape();
    let mut dims = Vec::new();
    let mut shape = Vec::new();
    let mut chunk = Vec::new();
    if multi {
        dims.push("band".to_string());
        shape.push(spp);
        chunk.push(if img.planar_separate { 1 } else { spp });
    }
    dims.extend(["y".to_string(), "x".to_string()]);
    shape.extend([img.height, img.width]);
    // Tiles keep their full size even past the image edge (that is how they
    // are stored); strips already hold at most the image height.
    chunk.extend([bh.max(1), bw.max(1)]);
    let mut attributes = ctx.band_attrs.to_vec();
    if let Some(v) = ctx.fill_value {
        attributes.insert(0, array_attr("_FillValue", v.clone()));
    }
    if georeferenced {
        attributes.push(text("grid_mapping", "spatial_ref"));
        // As xarray writes rioxarray's datasets: spatial_ref is a coordinate.
        attributes.push(text("coordinates", "spatial_ref"));
    }
    let data = Variable {
        name: "band_data".into(),
        path: join("band_data"),
        dims,
        shape,
        dtype: ctx.dtype.clone(),
        endian: ctx.endian,
        layout: StorageLayout::Chunked,
        chunk_shape: Some(chunk),
        codecs: img.codecs(ctx.endian),
        fill_value: ctx.fill_value.clone().map(AttrValue::Array),
        attributes,
    };
    sources.insert(
        data.path.clone(),
        Source::Raster {
            image: index,
            fill: ctx.fill_bytes.to_vec(),
        },
    );
    for (v, s) in coords {
        sources.insert(v.path.clone(), s);
        g.variables.push(v);
    }
    g.variables.push(data);
    g
}

fn dim(name: &str, size: u64) -> Dimension {
    Dimension {
        name: name.into(),
        size,
        unlimited: false,
    }
}

fn inline_var(
    name: &str,
    path: &str,
    dims: Vec<String>,
    shape: Vec<u64>,
    dtype: DType,
    attributes: Vec<Attribute>,
) -> Variable {
    Variable {
        name: name.into(),
        path: path.into(),
        dims,
        shape,
        dtype,
        endian: Endian::Little,
        layout: StorageLayout::Compact,
        chunk_shape: None,
        codecs: Vec::new(),
        fill_value: None,
        attributes,
    }
}

/// Attributes of `band_data` from GDAL metadata: scale, offset, units,
/// descriptions, the raster type, and (one band) the band's other items.
fn band_attributes(meta: &FileMeta, bands: usize, pixel_is_point: bool) -> Vec<Attribute> {
    let mut a = Vec::new();
    let area_or_point = meta
        .items
        .iter()
        .find(|i| i.name == "AREA_OR_POINT" && i.sample.is_none())
        .map(|i| i.value.clone())
        .unwrap_or_else(|| if pixel_is_point { "Point" } else { "Area" }.into());
    a.push(text("AREA_OR_POINT", area_or_point));
    let per_band = |role: &str| -> Vec<Option<String>> {
        (0..bands)
            .map(|b| {
                meta.items
                    .iter()
                    .find(|i| i.sample == Some(b) && i.role.as_deref() == Some(role))
                    .map(|i| i.value.clone())
            })
            .collect()
    };
    let numbers = |role: &str, default: f64| -> Vec<f64> {
        per_band(role)
            .into_iter()
            .map(|v| v.and_then(|s| s.trim().parse().ok()).unwrap_or(default))
            .collect()
    };
    let scales = numbers("scale", 1.0);
    let offsets = numbers("offset", 0.0);
    for (vals, single, plural, default) in [
        (&scales, "scale_factor", "scales", 1.0),
        (&offsets, "add_offset", "offsets", 0.0),
    ] {
        if vals.iter().all(|&v| v == default) {
            continue;
        }
        if vals.iter().all(|&v| v == vals[0]) {
            a.push(f64_attr(single, vals[0]));
        } else {
            a.push(array_attr(plural, Values::F64(vals.clone())));
        }
    }
    let units = per_band("unittype");
    if let Some(Some(u)) = units.first() {
        if !u.is_empty() && units.iter().all(|x| x.as_deref() == Some(u.as_str())) {
            a.push(text("units", u.clone()));
        }
    }
    let desc = per_band("description");
    if desc
        .iter()
        .any(|d| d.as_deref().is_some_and(|s| !s.is_empty()))
    {
        if bands == 1 {
            a.push(text("long_name", desc[0].clone().unwrap_or_default()));
        } else {
            a.push(array_attr(
                "long_name",
                Values::Str(desc.into_iter().map(Option::unwrap_or_default).collect()),
            ));
        }
    }
    if bands == 1 {
        for item in meta
            .items
            .iter()
            .filter(|i| i.sample == Some(0) && i.role.is_none() && i.domain.is_none())
        {
            a.push(text(&item.name, item.value.clone()));
        }
    }
    a
}

/// `v` as one value of `dtype`, when it is representable exactly (NaN and
/// infinities only for floats).
fn typed_value(dtype: &DType, v: f64) -> Option<Values> {
    fn int<T: TryFrom<i128>>(v: f64) -> Option<T> {
        if v.fract() != 0.0 || !v.is_finite() {
            return None;
        }
        T::try_from(v as i128).ok()
    }
    Some(match dtype {
        DType::I8 => Values::I8(vec![int(v)?]),
        DType::I16 => Values::I16(vec![int(v)?]),
        DType::I32 => Values::I32(vec![int(v)?]),
        DType::I64 => Values::I64(vec![int(v)?]),
        DType::U8 => Values::U8(vec![int(v)?]),
        DType::U16 => Values::U16(vec![int(v)?]),
        DType::U32 => Values::U32(vec![int(v)?]),
        DType::U64 => Values::U64(vec![int(v)?]),
        DType::F32 => Values::F32(vec![v as f32]),
        DType::F64 => Values::F64(vec![v]),
        _ => return None,
    })
}

/// The first element of `v` in `endian` byte order.
fn element_bytes(v: &Values, endian: Endian) -> Option<Vec<u8>> {
    macro_rules! b {
        ($x:expr) => {{
            let x = $x.first()?;
            match endian {
                Endian::Little => x.to_le_bytes().to_vec(),
                Endian::Big => x.to_be_bytes().to_vec(),
            }
        }};
    }
    Some(match v {
        Values::I8(x) => b!(x),
        Values::I16(x) => b!(x),
        Values::I32(x) => b!(x),
        Values::I64(x) => b!(x),
        Values::U8(x) => b!(x),
        Values::U16(x) => b!(x),
        Values::U32(x) => b!(x),
        Values::U64(x) => b!(x),
        Values::F32(x) => b!(x),
        Values::F64(x) => b!(x),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiff_magic_numbers_of_both_byte_orders_and_bigtiff_are_recognised() {
        assert!(is_tiff(b"II*\0"));
        assert!(is_tiff(b"MM\0*rest"));
        assert!(is_tiff(b"II+\0"));
        assert!(is_tiff(b"MM\0+"));
        assert!(!is_tiff(b"II*"));
        assert!(!is_tiff(b"MM*\0"));
        assert!(!is_tiff(b"CDF\x01"));
    }

    #[test]
    fn nodata_outside_the_sample_type_is_not_a_fill_value() {
        assert_eq!(typed_value(&DType::U8, 0.0), Some(Values::U8(vec![0])));
        assert_eq!(typed_value(&DType::U16, -9999.0), None);
        assert_eq!(typed_value(&DType::I16, 0.5), None);
        assert_eq!(typed_value(&DType::U8, f64::NAN), None);
        assert!(
            matches!(typed_value(&DType::F32, f64::NAN), Some(Values::F32(v)) if v[0].is_nan())
        );
        assert_eq!(
            element_bytes(&Values::I16(vec![-2]), Endian::Big),
            Some(vec![0xff, 0xfe])
        );
    }
}
