//! OGC tile matrix sets (OGC 17-083r4, "OGC Two Dimensional Tile Matrix Set
//! and Tile Set Metadata" 2.0): `WebMercatorQuad` and `WorldCRS84Quad`,
//! exactly as the OGC definitions (and morecantile, which titiler uses)
//! give them.
//!
//! * `WebMercatorQuad`: EPSG:3857, one 256×256 tile at zoom 0, zooms 0..=24,
//!   origin (−20037508.342789244, 20037508.342789244) top-left, cell size
//!   156543.03392804097 m at zoom 0, halved at each zoom.
//! * `WorldCRS84Quad`: OGC CRS84 (longitude, latitude order), 2×1 tiles at
//!   zoom 0, zooms 0..=23, origin (−180, 90) top-left, cell size 0.703125° at
//!   zoom 0, halved at each zoom.
//!
//! Tile bounds follow morecantile's arithmetic (`origin ± index × cellSize ×
//! tileSize`) so that they agree with titiler to the last bits; the lon/lat of
//! every pixel centre of a tile of any pixel size (titiler's `tilesize`) is
//! separable for both sets: longitude depends only on the column, latitude
//! only on the row ([`PixelCenters`]).

use serde_json::{json, Value};
use std::fmt;
use std::str::FromStr;

/// Semi-major axis of the WGS 84 ellipsoid, the radius of the Web Mercator sphere.
pub const EARTH_RADIUS: f64 = 6_378_137.0;
/// Half the width of the Web Mercator square: π × 6378137 m.
pub const WEB_MERCATOR_HALF_WIDTH: f64 = 20_037_508.342_789_244;
/// The latitude limit of Web Mercator tiles: atan(sinh(π)) in degrees.
pub const WEB_MERCATOR_MAX_LAT: f64 = 85.051_128_779_806_59;
/// morecantile's `LL_EPSILON`: the nudge inward of a bbox's edges in
/// [`TileMatrixSet::tiles`], so that the bounds of one tile give that tile only.
const LL_EPSILON: f64 = 1e-11;

/// Scale denominators of WorldCRS84Quad as the OGC definition (and
/// morecantile's `WorldCRS84Quad.json`) print them, zooms 0..=23.
const CRS84_SCALE_DENOMINATORS: [f64; 24] = [
    279_541_132.014_358,
    139_770_566.007_179,
    69_885_283.003_589_7,
    34_942_641.501_794_8,
    17_471_320.750_897_4,
    8_735_660.375_448_71,
    4_367_830.187_724_35,
    2_183_915.093_862_17,
    1_091_957.546_931_08,
    545_978.773_465_544,
    272_989.386_732_772,
    136_494.693_366_386,
    68_247.346_683_193,
    34_123.673_341_596_4,
    17_061.836_670_798_2,
    8_530.918_335_399_13,
    4_265.459_167_699_56,
    2_132.729_583_849_78,
    1_066.364_791_924_89,
    533.182_395_962_445,
    266.591_197_981_222,
    133.295_598_990_611,
    66.647_799_495_305_6,
    33.323_899_747_652_8,
];

/// Cell sizes (degrees) of WorldCRS84Quad as the OGC definition prints them
/// (rounded to 15 significant digits from zoom 14 on), zooms 0..=23.
const CRS84_CELL_SIZES: [f64; 24] = [
    0.703125,
    0.3515625,
    0.17578125,
    0.087890625,
    0.0439453125,
    0.02197265625,
    0.010986328125,
    0.0054931640625,
    0.00274658203125,
    0.001373291015625,
    0.0006866455078125,
    0.00034332275390625,
    0.000171661376953125,
    8.58306884765625e-05,
    4.29153442382812e-05,
    2.14576721191406e-05,
    1.07288360595703e-05,
    5.36441802978515e-06,
    2.68220901489258e-06,
    1.34110450744629e-06,
    6.7055225372314e-07,
    3.3527612686157e-07,
    1.6763806343079e-07,
    8.381903171539e-08,
];

/// WebMercatorQuad at zoom 0 (each zoom halves both exactly).
const WEB_MERCATOR_SCALE_DENOMINATOR_0: f64 = 559_082_264.028_717_8;
const WEB_MERCATOR_CELL_SIZE_0: f64 = 156_543.033_928_040_97;

/// Errors of tile matrix set look-ups.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TmsError {
    /// No tile matrix set has this id.
    #[error("unknown tile matrix set {id:?}: valid ids are {valid} (case-sensitive)")]
    UnknownId {
        /// The id asked for.
        id: String,
        /// The valid ids, comma-separated.
        valid: String,
    },
    /// The zoom level is not defined by the set.
    #[error("zoom {z} is outside {tms}: valid zooms are {min}..={max}")]
    ZoomOutOfRange {
        /// The set.
        tms: &'static str,
        /// The zoom asked for.
        z: u64,
        /// The lowest zoom.
        min: u8,
        /// The highest zoom.
        max: u8,
    },
    /// The column or row is outside the matrix at that zoom.
    #[error(
        "tile {z}/{x}/{y} is outside {tms}: at zoom {z}, x must be in 0..={max_x} and y in 0..={max_y}"
    )]
    TileOutOfRange {
        /// The set.
        tms: &'static str,
        /// Zoom.
        z: u8,
        /// Column asked for.
        x: u64,
        /// Row asked for.
        y: u64,
        /// The last column at that zoom.
        max_x: u32,
        /// The last row at that zoom.
        max_y: u32,
    },
    /// A tile pixel size that cannot be rendered.
    #[error("tile size {size} is not supported: use 1..=4096 pixels (titiler serves 256 or 512)")]
    BadTileSize {
        /// The size asked for.
        size: usize,
    },
    /// A coordinate that is not a finite longitude/latitude (or resolution).
    #[error("{what} {value} is not valid: {expected}")]
    BadCoordinate {
        /// Which coordinate.
        what: &'static str,
        /// Its value.
        value: f64,
        /// What would be valid.
        expected: &'static str,
    },
}

/// A tile address: zoom level, column (`x`, from the left) and row (`y`,
/// from the top), as in `/tiles/{tms}/{z}/{x}/{y}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tile {
    /// Zoom level (the tile matrix id).
    pub z: u8,
    /// Column.
    pub x: u32,
    /// Row.
    pub y: u32,
}

impl Tile {
    /// A tile address (not checked against a set: see [`TileMatrixSet::tile`]).
    pub const fn new(z: u8, x: u32, y: u32) -> Self {
        Tile { z, x, y }
    }
}

impl fmt::Display for Tile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.z, self.x, self.y)
    }
}

/// An axis-aligned box: `left`/`right` along x (or longitude), `bottom`/`top`
/// along y (or latitude). morecantile's `BoundingBox`; `to_array` gives the
/// `[west, south, east, north]` order of GeoJSON, STAC and TileJSON.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    /// Minimum x (west).
    pub left: f64,
    /// Minimum y (south).
    pub bottom: f64,
    /// Maximum x (east).
    pub right: f64,
    /// Maximum y (north).
    pub top: f64,
}

impl Bounds {
    /// From `[left, bottom, right, top]` (`[west, south, east, north]`).
    pub const fn from_array(b: [f64; 4]) -> Self {
        Bounds {
            left: b[0],
            bottom: b[1],
            right: b[2],
            top: b[3],
        }
    }

    /// `[left, bottom, right, top]` (`[west, south, east, north]`).
    pub const fn to_array(self) -> [f64; 4] {
        [self.left, self.bottom, self.right, self.top]
    }
}

/// One zoom level of a set (an OGC `TileMatrix`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TileMatrix {
    /// Zoom level; the matrix id is its decimal string.
    pub zoom: u8,
    /// OGC scale denominator (0.28 mm pixels).
    pub scale_denominator: f64,
    /// Size of a pixel of a 256-pixel tile, in CRS units (metres or degrees).
    pub cell_size: f64,
    /// Top-left corner in the set's CRS (x, y).
    pub point_of_origin: [f64; 2],
    /// Pixels per tile, horizontally.
    pub tile_width: u32,
    /// Pixels per tile, vertically.
    pub tile_height: u32,
    /// Tiles per row.
    pub matrix_width: u32,
    /// Tiles per column.
    pub matrix_height: u32,
}

/// How [`TileMatrixSet::zoom_for_res`] rounds a resolution that falls between
/// two zooms (GDAL's COG driver `ZOOM_LEVEL_STRATEGY`, morecantile's
/// `zoom_level_strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ZoomStrategy {
    /// The closest zoom (in ratio of resolutions); morecantile's default.
    #[default]
    Auto,
    /// The zoom just coarser than the resolution.
    Lower,
    /// The zoom just finer than the resolution.
    Upper,
}

/// A zoom range for a dataset (TileJSON's `minzoom`/`maxzoom`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZoomRange {
    /// Coarsest useful zoom.
    pub min: u8,
    /// Finest useful zoom (the native resolution).
    pub max: u8,
}

/// A rectangle of tiles at one zoom (both ends inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileRange {
    /// Zoom.
    pub z: u8,
    /// First column.
    pub min_x: u32,
    /// Last column.
    pub max_x: u32,
    /// First row.
    pub min_y: u32,
    /// Last row.
    pub max_y: u32,
}

impl TileRange {
    /// Number of tiles.
    pub fn count(&self) -> u64 {
        (u64::from(self.max_x) - u64::from(self.min_x) + 1)
            * (u64::from(self.max_y) - u64::from(self.min_y) + 1)
    }

    /// The tiles, row by row (morecantile's order).
    pub fn iter(&self) -> impl Iterator<Item = Tile> + '_ {
        (self.min_y..=self.max_y)
            .flat_map(move |y| (self.min_x..=self.max_x).map(move |x| Tile::new(self.z, x, y)))
    }
}

/// The longitude and latitude of every pixel centre of a tile: `lon[col]`
/// and `lat[row]` (row 0 at the top). Both sets here are separable; the
/// pixel at (row, col) has centre (`lon[col]`, `lat[row]`).
#[derive(Debug, Clone, PartialEq)]
pub struct PixelCenters {
    /// Longitude of each column's centre, degrees, west to east.
    pub lon: Vec<f64>,
    /// Latitude of each row's centre, degrees, north to south.
    pub lat: Vec<f64>,
}

impl PixelCenters {
    /// Tile width in pixels.
    pub fn width(&self) -> usize {
        self.lon.len()
    }

    /// Tile height in pixels.
    pub fn height(&self) -> usize {
        self.lat.len()
    }

    /// The centre of the pixel at (`row`, `col`), or `None` outside the tile.
    pub fn get(&self, row: usize, col: usize) -> Option<(f64, f64)> {
        Some((*self.lon.get(col)?, *self.lat.get(row)?))
    }

    /// Every pixel in row-major order: `(row, col, lon, lat)`.
    pub fn iter(&self) -> impl Iterator<Item = (usize, usize, f64, f64)> + '_ {
        self.lat.iter().enumerate().flat_map(move |(row, &lat)| {
            self.lon
                .iter()
                .enumerate()
                .map(move |(col, &lon)| (row, col, lon, lat))
        })
    }
}

/// A supported OGC tile matrix set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TileMatrixSet {
    /// `WebMercatorQuad`: EPSG:3857, Google Maps compatible.
    WebMercatorQuad,
    /// `WorldCRS84Quad`: OGC CRS84 longitude/latitude, 2×1 tiles at zoom 0.
    WorldCRS84Quad,
}

impl FromStr for TileMatrixSet {
    type Err = TmsError;
    fn from_str(s: &str) -> Result<Self, TmsError> {
        TileMatrixSet::from_id(s)
    }
}

impl fmt::Display for TileMatrixSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl TileMatrixSet {
    /// Every supported set, in the order `/tileMatrixSets` lists them.
    pub const ALL: [TileMatrixSet; 2] = [
        TileMatrixSet::WebMercatorQuad,
        TileMatrixSet::WorldCRS84Quad,
    ];

    /// The set with this id (case-sensitive, as titiler: `WebMercatorQuad`,
    /// `WorldCRS84Quad`); the error lists the valid ids.
    pub fn from_id(id: &str) -> Result<Self, TmsError> {
        Self::ALL
            .into_iter()
            .find(|t| t.id() == id)
            .ok_or_else(|| TmsError::UnknownId {
                id: id.to_string(),
                valid: Self::ALL.map(|t| t.id()).join(", "),
            })
    }

    /// The OGC id.
    pub const fn id(self) -> &'static str {
        match self {
            TileMatrixSet::WebMercatorQuad => "WebMercatorQuad",
            TileMatrixSet::WorldCRS84Quad => "WorldCRS84Quad",
        }
    }

    /// The OGC title.
    pub const fn title(self) -> &'static str {
        match self {
            TileMatrixSet::WebMercatorQuad => "Google Maps Compatible for the World",
            TileMatrixSet::WorldCRS84Quad => "CRS84 for the World",
        }
    }

    /// The OGC URI of the set.
    pub const fn uri(self) -> &'static str {
        match self {
            TileMatrixSet::WebMercatorQuad => {
                "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
            }
            TileMatrixSet::WorldCRS84Quad => {
                "http://www.opengis.net/def/tilematrixset/OGC/1.0/WorldCRS84Quad"
            }
        }
    }

    /// The CRS as an OGC URI (the TMS 2.0 document's `crs`).
    pub const fn crs_uri(self) -> &'static str {
        match self {
            TileMatrixSet::WebMercatorQuad => "http://www.opengis.net/def/crs/EPSG/0/3857",
            TileMatrixSet::WorldCRS84Quad => "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        }
    }

    /// The CRS as an OGC URN (WMTS 1.0 `SupportedCRS`).
    pub const fn crs_urn(self) -> &'static str {
        match self {
            TileMatrixSet::WebMercatorQuad => "urn:ogc:def:crs:EPSG::3857",
            TileMatrixSet::WorldCRS84Quad => "urn:ogc:def:crs:OGC:1.3:CRS84",
        }
    }

    /// The well-known scale set URI.
    pub const fn well_known_scale_set(self) -> &'static str {
        match self {
            TileMatrixSet::WebMercatorQuad => {
                "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible"
            }
            TileMatrixSet::WorldCRS84Quad => {
                "http://www.opengis.net/def/wkss/OGC/1.0/GoogleCRS84Quad"
            }
        }
    }

    /// The well-known scale set as a WMTS 1.0 URN.
    pub const fn well_known_scale_set_urn(self) -> &'static str {
        match self {
            TileMatrixSet::WebMercatorQuad => "urn:ogc:def:wkss:OGC:1.0:GoogleMapsCompatible",
            TileMatrixSet::WorldCRS84Quad => "urn:ogc:def:wkss:OGC:1.0:GoogleCRS84Quad",
        }
    }

    /// Axis names in CRS order.
    pub const fn ordered_axes(self) -> [&'static str; 2] {
        match self {
            TileMatrixSet::WebMercatorQuad => ["X", "Y"],
            TileMatrixSet::WorldCRS84Quad => ["Lon", "Lat"],
        }
    }

    /// Whether the CRS is geographic (degrees) rather than projected (metres).
    pub const fn is_geographic(self) -> bool {
        matches!(self, TileMatrixSet::WorldCRS84Quad)
    }

    /// The coarsest zoom (0).
    pub const fn minzoom(self) -> u8 {
        0
    }

    /// The finest zoom the set defines (24 for WebMercatorQuad, 23 for WorldCRS84Quad).
    pub const fn maxzoom(self) -> u8 {
        match self {
            TileMatrixSet::WebMercatorQuad => 24,
            TileMatrixSet::WorldCRS84Quad => 23,
        }
    }

    /// Pixels per tile side in the definition (256 for both).
    pub const fn tile_size(self) -> u32 {
        256
    }

    const fn origin(self) -> [f64; 2] {
        match self {
            TileMatrixSet::WebMercatorQuad => [-WEB_MERCATOR_HALF_WIDTH, WEB_MERCATOR_HALF_WIDTH],
            TileMatrixSet::WorldCRS84Quad => [-180.0, 90.0],
        }
    }

    fn check_zoom(self, z: u64) -> Result<u8, TmsError> {
        match u8::try_from(z) {
            Ok(z) if z <= self.maxzoom() => Ok(z),
            _ => Err(TmsError::ZoomOutOfRange {
                tms: self.id(),
                z,
                min: self.minzoom(),
                max: self.maxzoom(),
            }),
        }
    }

    /// The tile matrix (zoom level) `z`.
    pub fn matrix(self, z: u8) -> Result<TileMatrix, TmsError> {
        let z = self.check_zoom(u64::from(z))?;
        let (scale_denominator, cell_size, matrix_width) = match self {
            TileMatrixSet::WebMercatorQuad => {
                let f = f64::from(1u32 << z);
                (
                    WEB_MERCATOR_SCALE_DENOMINATOR_0 / f,
                    WEB_MERCATOR_CELL_SIZE_0 / f,
                    1u32 << z,
                )
            }
            TileMatrixSet::WorldCRS84Quad => (
                CRS84_SCALE_DENOMINATORS[usize::from(z)],
                CRS84_CELL_SIZES[usize::from(z)],
                2u32 << z,
            ),
        };
        Ok(TileMatrix {
            zoom: z,
            scale_denominator,
            cell_size,
            point_of_origin: self.origin(),
            tile_width: self.tile_size(),
            tile_height: self.tile_size(),
            matrix_width,
            matrix_height: 1u32 << z,
        })
    }

    /// Every tile matrix, zoom 0 first.
    pub fn matrices(self) -> Vec<TileMatrix> {
        (self.minzoom()..=self.maxzoom())
            .filter_map(|z| self.matrix(z).ok())
            .collect()
    }

    /// Check a tile address from a request (`{z}/{x}/{y}`); the error says the
    /// valid zooms, or the valid columns and rows at that zoom.
    pub fn tile(self, z: u64, x: u64, y: u64) -> Result<Tile, TmsError> {
        let zoom = self.check_zoom(z)?;
        let m = self.matrix(zoom)?;
        match (u32::try_from(x), u32::try_from(y)) {
            (Ok(tx), Ok(ty)) if tx < m.matrix_width && ty < m.matrix_height => {
                Ok(Tile::new(zoom, tx, ty))
            }
            _ => Err(TmsError::TileOutOfRange {
                tms: self.id(),
                z: zoom,
                x,
                y,
                max_x: m.matrix_width - 1,
                max_y: m.matrix_height - 1,
            }),
        }
    }

    /// Check that a tile lies in the set.
    pub fn validate(self, tile: Tile) -> Result<(), TmsError> {
        self.tile(u64::from(tile.z), u64::from(tile.x), u64::from(tile.y))
            .map(|_| ())
    }

    /// The tile's bounds in the set's CRS (metres for WebMercatorQuad,
    /// degrees for WorldCRS84Quad); morecantile's `xy_bounds`.
    pub fn xy_bounds(self, tile: Tile) -> Result<Bounds, TmsError> {
        self.validate(tile)?;
        let m = self.matrix(tile.z)?;
        let [ox, oy] = m.point_of_origin;
        let (x, y) = (f64::from(tile.x), f64::from(tile.y));
        let w = f64::from(m.tile_width);
        let h = f64::from(m.tile_height);
        // Same association as morecantile: origin ± ((index × cellSize) × tileSize).
        Ok(Bounds {
            left: ox + x * m.cell_size * w,
            right: ox + (x + 1.0) * m.cell_size * w,
            top: oy - y * m.cell_size * h,
            bottom: oy - (y + 1.0) * m.cell_size * h,
        })
    }

    /// The tile's bounds in longitude/latitude (morecantile's `bounds`).
    pub fn bounds(self, tile: Tile) -> Result<Bounds, TmsError> {
        let b = self.xy_bounds(tile)?;
        let (left, top) = self.xy_to_lonlat(b.left, b.top);
        let (right, bottom) = self.xy_to_lonlat(b.right, b.bottom);
        Ok(Bounds {
            left,
            bottom,
            right,
            top,
        })
    }

    /// The set's extent in its CRS.
    pub fn xy_bbox(self) -> Bounds {
        match self {
            TileMatrixSet::WebMercatorQuad => Bounds {
                left: -WEB_MERCATOR_HALF_WIDTH,
                bottom: -WEB_MERCATOR_HALF_WIDTH,
                right: WEB_MERCATOR_HALF_WIDTH,
                top: WEB_MERCATOR_HALF_WIDTH,
            },
            TileMatrixSet::WorldCRS84Quad => Bounds {
                left: -180.0,
                bottom: -90.0,
                right: 180.0,
                top: 90.0,
            },
        }
    }

    /// The set's extent in longitude/latitude (±85.0511° for WebMercatorQuad).
    pub fn bbox(self) -> Bounds {
        match self {
            TileMatrixSet::WebMercatorQuad => Bounds {
                left: -180.0,
                bottom: -WEB_MERCATOR_MAX_LAT,
                right: 180.0,
                top: WEB_MERCATOR_MAX_LAT,
            },
            TileMatrixSet::WorldCRS84Quad => self.xy_bbox(),
        }
    }

    /// CRS coordinates → (longitude, latitude) in degrees.
    pub fn xy_to_lonlat(self, x: f64, y: f64) -> (f64, f64) {
        match self {
            TileMatrixSet::WebMercatorQuad => (merc_x_to_lon(x), merc_y_to_lat(y)),
            TileMatrixSet::WorldCRS84Quad => (x, y),
        }
    }

    /// (longitude, latitude) in degrees → CRS coordinates. Web Mercator is
    /// infinite at the poles: latitudes beyond ±85.0511° give |y| beyond the
    /// set (±90° gives about ±2.4e8 m, finite).
    pub fn lonlat_to_xy(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            TileMatrixSet::WebMercatorQuad => (
                EARTH_RADIUS * lon.to_radians(),
                EARTH_RADIUS * lat.to_radians().tan().asinh(),
            ),
            TileMatrixSet::WorldCRS84Quad => (lon, lat),
        }
    }

    /// The CRS coordinates of every pixel centre of a tile rendered at
    /// `size`×`size` pixels (titiler's `tilesize`; 256 is the set's native
    /// size, 512 the same tile at twice the pixels): `(x per column, y per
    /// row)`, as GDAL sees the centres of a raster whose transform is
    /// `from_bounds(xy_bounds, size, size)`.
    pub fn xy_pixel_centers(
        self,
        tile: Tile,
        size: usize,
    ) -> Result<(Vec<f64>, Vec<f64>), TmsError> {
        if size == 0 || size > 4096 {
            return Err(TmsError::BadTileSize { size });
        }
        let b = self.xy_bounds(tile)?;
        let n = size as f64;
        let dx = (b.right - b.left) / n;
        let dy = (b.bottom - b.top) / n;
        let xs = (0..size).map(|i| b.left + (i as f64 + 0.5) * dx).collect();
        let ys = (0..size).map(|j| b.top + (j as f64 + 0.5) * dy).collect();
        Ok((xs, ys))
    }

    /// The longitude of every column's centre and the latitude of every
    /// row's centre of a tile rendered at `size`×`size` pixels.
    pub fn pixel_centers(self, tile: Tile, size: usize) -> Result<PixelCenters, TmsError> {
        let (xs, ys) = self.xy_pixel_centers(tile, size)?;
        Ok(match self {
            TileMatrixSet::WebMercatorQuad => PixelCenters {
                lon: xs.into_iter().map(merc_x_to_lon).collect(),
                lat: ys.into_iter().map(merc_y_to_lat).collect(),
            },
            TileMatrixSet::WorldCRS84Quad => PixelCenters { lon: xs, lat: ys },
        })
    }

    /// Pixel size, in CRS units (metres or degrees), of zoom `z` rendered at
    /// `tile_size` pixels per tile (256: the set's own cell size; 512: half).
    pub fn resolution(self, z: u8, tile_size: u32) -> Result<f64, TmsError> {
        if tile_size == 0 || tile_size > 4096 {
            return Err(TmsError::BadTileSize {
                size: tile_size as usize,
            });
        }
        let m = self.matrix(z)?;
        Ok(m.cell_size * f64::from(m.tile_width) / f64::from(tile_size))
    }

    /// The zoom whose cell size best matches `res` (CRS units per pixel),
    /// exactly as morecantile's `zoom_for_res` between `min_z` and `max_z`
    /// (the set's range when `None`).
    pub fn zoom_for_res(
        self,
        res: f64,
        strategy: ZoomStrategy,
        min_z: Option<u8>,
        max_z: Option<u8>,
    ) -> Result<u8, TmsError> {
        if !(res.is_finite() && res > 0.0) {
            return Err(TmsError::BadCoordinate {
                what: "resolution",
                value: res,
                expected: "a finite number of CRS units per pixel, greater than 0",
            });
        }
        let min_z = min_z.unwrap_or(self.minzoom()).min(self.maxzoom());
        let max_z = max_z.unwrap_or(self.maxzoom()).clamp(min_z, self.maxzoom());
        let cell = |z: u8| self.matrix(z).map(|m| m.cell_size);
        let close = |a: f64, b: f64| (a - b).abs() / b <= 1e-8;
        let mut zoom = min_z;
        let mut matrix_res = cell(zoom)?;
        for z in min_z..=max_z {
            zoom = z;
            matrix_res = cell(z)?;
            if res > matrix_res || close(res, matrix_res) {
                break;
            }
        }
        if zoom > 0 && !close(res, matrix_res) {
            match strategy {
                ZoomStrategy::Lower => zoom = zoom.saturating_sub(1).max(min_z),
                ZoomStrategy::Upper => zoom = zoom.min(max_z),
                ZoomStrategy::Auto => {
                    let coarser = zoom.saturating_sub(1).max(min_z);
                    if cell(coarser)? / res < res / matrix_res {
                        zoom = coarser;
                    }
                }
            }
        }
        Ok(zoom)
    }

    /// What GDAL suggests (`rasterio.warp.calculate_default_transform`, which
    /// rio-tiler uses for a dataset's zoom range) when warping a
    /// `width`×`height` longitude/latitude grid covering `bounds` into the
    /// set's CRS: `(pixel size in CRS units, warped width, warped height)`.
    /// The pixel size is the length of the warped grid's diagonal (top-left
    /// corner to bottom-right corner) over its diagonal in pixels; Web
    /// Mercator latitudes are clamped to ±85.0511° first (GDAL drops points
    /// at the poles, so for grids reaching ±90° the numbers are close to, not
    /// exactly, GDAL's).
    pub fn suggested_warp(
        self,
        bounds: Bounds,
        width: u64,
        height: u64,
    ) -> Result<(f64, u64, u64), TmsError> {
        check_lonlat_bounds(bounds)?;
        if width == 0 || height == 0 {
            return Err(TmsError::BadCoordinate {
                what: "grid size",
                value: 0.0,
                expected: "a grid of at least 1×1 cells",
            });
        }
        let clamp_lat = |lat: f64| match self {
            TileMatrixSet::WebMercatorQuad => {
                lat.clamp(-WEB_MERCATOR_MAX_LAT, WEB_MERCATOR_MAX_LAT)
            }
            TileMatrixSet::WorldCRS84Quad => lat,
        };
        let (x0, y0) = self.lonlat_to_xy(bounds.left, clamp_lat(bounds.top));
        let (x1, y1) = self.lonlat_to_xy(bounds.right, clamp_lat(bounds.bottom));
        let diagonal = (x1 - x0).hypot(y1 - y0);
        let pixels = (width as f64).hypot(height as f64);
        let res = diagonal / pixels;
        if !(res.is_finite() && res > 0.0) {
            return Err(TmsError::BadCoordinate {
                what: "grid extent",
                value: diagonal,
                expected: "bounds with a non-zero extent",
            });
        }
        let count = |d: f64| ((d.abs() / res) + 0.5).floor().max(1.0) as u64;
        Ok((res, count(x1 - x0), count(y1 - y0)))
    }

    /// The zoom range of a dataset, as rio-tiler computes a reader's
    /// `minzoom`/`maxzoom`: `max` is the zoom of the native resolution `res`
    /// (CRS units per pixel); `min` is the zoom of the coarsest overview of a
    /// `width`×`height` raster (its size in the set's CRS) that is still
    /// larger than one tile (halving until the smaller side fits in 256
    /// pixels).
    pub fn dataset_zoom_range(
        self,
        res: f64,
        width: u64,
        height: u64,
    ) -> Result<ZoomRange, TmsError> {
        let max = self.zoom_for_res(res, ZoomStrategy::Auto, None, None)?;
        let tile = u64::from(self.tile_size());
        let mut level = 0i32;
        let mut factor = 1u64;
        while (width / factor).min(height / factor) > tile && level < 62 {
            factor *= 2;
            level += 1;
        }
        let min = self.zoom_for_res(res * 2f64.powi(level), ZoomStrategy::Auto, None, None)?;
        Ok(ZoomRange { min, max })
    }

    /// [`TileMatrixSet::dataset_zoom_range`] of a `width`×`height`
    /// longitude/latitude grid covering `bounds`, through
    /// [`TileMatrixSet::suggested_warp`].
    pub fn lonlat_grid_zoom_range(
        self,
        bounds: Bounds,
        width: u64,
        height: u64,
    ) -> Result<ZoomRange, TmsError> {
        let (res, w, h) = self.suggested_warp(bounds, width, height)?;
        self.dataset_zoom_range(res, w, h)
    }

    /// The tile containing a longitude/latitude at zoom `z` (points outside
    /// the set snap to its edge tiles, as morecantile's `tile`).
    pub fn tile_for_lonlat(self, lon: f64, lat: f64, z: u8) -> Result<Tile, TmsError> {
        check_lon(lon)?;
        check_lat(lat)?;
        let (x, y) = self.lonlat_to_xy(lon, lat);
        self.tile_for_xy(x, y, z)
    }

    fn tile_for_xy(self, x: f64, y: f64, z: u8) -> Result<Tile, TmsError> {
        let m = self.matrix(z)?;
        let [ox, oy] = m.point_of_origin;
        let col = ((x - ox) / (m.cell_size * f64::from(m.tile_width))).floor();
        let row = ((oy - y) / (m.cell_size * f64::from(m.tile_height))).floor();
        let clamp = |v: f64, n: u32| {
            if v.is_nan() || v < 0.0 {
                0
            } else if v >= f64::from(n) {
                n - 1
            } else {
                v as u32
            }
        };
        Ok(Tile::new(
            z,
            clamp(col, m.matrix_width),
            clamp(row, m.matrix_height),
        ))
    }

    /// The tiles at zoom `z` that cover a longitude/latitude box
    /// (`[west, south, east, north]`), as morecantile's `tiles`: clamped to
    /// the set, edges nudged inward by 1e-11° so that a tile's own bounds give
    /// that tile only; `west > east` crosses the antimeridian and gives two
    /// ranges.
    pub fn tiles(self, bbox: Bounds, z: u8) -> Result<Vec<TileRange>, TmsError> {
        check_lonlat_bounds(bbox)?;
        self.matrix(z)?;
        let tms = self.bbox();
        let parts = if bbox.left > bbox.right {
            vec![
                (tms.left, bbox.bottom, bbox.right, bbox.top),
                (bbox.left, bbox.bottom, tms.right, bbox.top),
            ]
        } else {
            vec![(bbox.left, bbox.bottom, bbox.right, bbox.top)]
        };
        let mut out = Vec::with_capacity(parts.len());
        for (w, s, e, n) in parts {
            let w = w.max(tms.left);
            let s = s.max(tms.bottom);
            let e = e.min(tms.right);
            let n = n.min(tms.top);
            let (xw, yn) = self.lonlat_to_xy(w + LL_EPSILON, n - LL_EPSILON);
            let (xe, ys) = self.lonlat_to_xy(e - LL_EPSILON, s + LL_EPSILON);
            let nw = self.tile_for_xy(xw, yn, z)?;
            let se = self.tile_for_xy(xe, ys, z)?;
            out.push(TileRange {
                z,
                min_x: nw.x.min(se.x),
                max_x: nw.x.max(se.x),
                min_y: nw.y.min(se.y),
                max_y: nw.y.max(se.y),
            });
        }
        // The two sides of the antimeridian share their rows; at coarse zooms
        // they meet or overlap: one range then.
        if let [west, east] = out[..] {
            if west.max_x.saturating_add(1) >= east.min_x {
                out = vec![TileRange {
                    min_x: west.min_x.min(east.min_x),
                    max_x: west.max_x.max(east.max_x),
                    ..west
                }];
            }
        }
        Ok(out)
    }

    /// The OGC TMS 2.0 JSON document of the set (`/tileMatrixSets/{id}`), as
    /// titiler serves it (morecantile's model without null members).
    pub fn document(self) -> Value {
        let matrices: Vec<Value> = self
            .matrices()
            .into_iter()
            .map(|m| {
                json!({
                    "id": m.zoom.to_string(),
                    "scaleDenominator": m.scale_denominator,
                    "cellSize": m.cell_size,
                    "cornerOfOrigin": "topLeft",
                    "pointOfOrigin": m.point_of_origin,
                    "tileWidth": m.tile_width,
                    "tileHeight": m.tile_height,
                    "matrixWidth": m.matrix_width,
                    "matrixHeight": m.matrix_height,
                })
            })
            .collect();
        json!({
            "title": self.title(),
            "id": self.id(),
            "uri": self.uri(),
            "orderedAxes": self.ordered_axes(),
            "crs": self.crs_uri(),
            "wellKnownScaleSet": self.well_known_scale_set(),
            "tileMatrices": matrices,
        })
    }
}

fn merc_x_to_lon(x: f64) -> f64 {
    (x / EARTH_RADIUS).to_degrees()
}

fn merc_y_to_lat(y: f64) -> f64 {
    (y / EARTH_RADIUS).sinh().atan().to_degrees()
}

fn check_lon(lon: f64) -> Result<(), TmsError> {
    if lon.is_finite() {
        Ok(())
    } else {
        Err(TmsError::BadCoordinate {
            what: "longitude",
            value: lon,
            expected: "a finite number of degrees",
        })
    }
}

fn check_lat(lat: f64) -> Result<(), TmsError> {
    if (-90.0..=90.0).contains(&lat) {
        Ok(())
    } else {
        Err(TmsError::BadCoordinate {
            what: "latitude",
            value: lat,
            expected: "degrees in -90..=90",
        })
    }
}

fn check_lonlat_bounds(b: Bounds) -> Result<(), TmsError> {
    check_lon(b.left)?;
    check_lon(b.right)?;
    check_lat(b.bottom)?;
    check_lat(b.top)?;
    if b.bottom > b.top {
        return Err(TmsError::BadCoordinate {
            what: "south latitude",
            value: b.bottom,
            expected: "a south edge not north of the north edge",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ids_are_case_sensitive_and_the_error_lists_the_valid_ones() {
        assert_eq!(
            TileMatrixSet::from_id("WebMercatorQuad").unwrap(),
            TileMatrixSet::WebMercatorQuad
        );
        let err = TileMatrixSet::from_id("webmercatorquad")
            .unwrap_err()
            .to_string();
        assert!(err.contains("WebMercatorQuad, WorldCRS84Quad"), "{err}");
    }

    #[test]
    fn a_tile_outside_the_matrix_names_the_valid_range_at_its_zoom() {
        let err = TileMatrixSet::WorldCRS84Quad
            .tile(1, 4, 0)
            .unwrap_err()
            .to_string();
        assert!(err.contains("x must be in 0..=3 and y in 0..=1"), "{err}");
        let err = TileMatrixSet::WebMercatorQuad
            .tile(25, 0, 0)
            .unwrap_err()
            .to_string();
        assert!(err.contains("valid zooms are 0..=24"), "{err}");
        assert!(TileMatrixSet::WebMercatorQuad
            .tile(24, (1 << 24) - 1, 0)
            .is_ok());
    }

    #[test]
    fn crs84_has_two_tiles_at_zoom_zero_and_web_mercator_one() {
        let m = TileMatrixSet::WorldCRS84Quad.matrix(0).unwrap();
        assert_eq!((m.matrix_width, m.matrix_height), (2, 1));
        let m = TileMatrixSet::WebMercatorQuad.matrix(0).unwrap();
        assert_eq!((m.matrix_width, m.matrix_height), (1, 1));
        let b = TileMatrixSet::WorldCRS84Quad
            .bounds(Tile::new(0, 1, 0))
            .unwrap();
        assert_eq!(b.to_array(), [0.0, -90.0, 180.0, 90.0]);
    }

    #[test]
    fn zoom_for_res_picks_the_exact_level_and_the_closest_between() {
        let t = TileMatrixSet::WebMercatorQuad;
        let r5 = t.resolution(5, 256).unwrap();
        assert_eq!(
            t.zoom_for_res(r5, ZoomStrategy::Auto, None, None).unwrap(),
            5
        );
        assert_eq!(
            t.zoom_for_res(r5 * 0.9, ZoomStrategy::Auto, None, None)
                .unwrap(),
            5
        );
        assert_eq!(
            t.zoom_for_res(r5 * 0.6, ZoomStrategy::Auto, None, None)
                .unwrap(),
            6
        );
        assert_eq!(
            t.zoom_for_res(r5 * 0.9, ZoomStrategy::Lower, None, None)
                .unwrap(),
            5
        );
        assert_eq!(
            t.zoom_for_res(r5 * 0.9, ZoomStrategy::Upper, None, None)
                .unwrap(),
            6
        );
        assert_eq!(
            t.zoom_for_res(1e-9, ZoomStrategy::Auto, None, None)
                .unwrap(),
            24
        );
        assert!(t.zoom_for_res(0.0, ZoomStrategy::Auto, None, None).is_err());
    }

    #[test]
    fn the_bounds_of_a_tile_cover_that_tile_only() {
        for tms in TileMatrixSet::ALL {
            let tile = Tile::new(7, 37, 50);
            let r = tms.tiles(tms.bounds(tile).unwrap(), 7).unwrap();
            assert_eq!(r.len(), 1);
            assert_eq!(r[0].iter().collect::<Vec<_>>(), vec![tile], "{tms}");
        }
    }
}
