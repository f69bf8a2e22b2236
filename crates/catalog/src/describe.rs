//! [`describe`]: everything STAC needs, read from a dataset; and
//! [`Description::item`], the STAC Item made from it.
//!
//! What comes from where:
//!
//! | STAC | source |
//! |---|---|
//! | `id` | [`DescribeOptions::id`], else the file or store name without its extension, sanitized |
//! | `geometry`, `bbox` | the coordinates (see [`Spatial`]) |
//! | `datetime`, `start_datetime`, `end_datetime` | the decoded time coordinate and its bounds, else ACDD `time_coverage_start`/`_end` (see [`Temporal`]) |
//! | `title` | `title` |
//! | `description` | `summary`, else `comment`, else a sentence listing the variables (with `history` appended) |
//! | `keywords` | `keywords` (split on `,` and `;`), then the data variables' `standard_name`s |
//! | `license` | the `license` attribute when it is an SPDX identifier (callers usually set it) |
//! | `providers` | `institution` (producer), ACDD `creator_*` (producer), `publisher_*` (host), arco (processor) |
//! | `cube:dimensions`, `cube:variables` | dimensions, coordinate and data variables |
//! | `proj:*` | the grid and its CRS |
//! | `processing:*` | `arco:provenance` (convert's record) or [`DescribeOptions::processing`] |
//! | `arco:conventions`, `arco:source`, `arco:references`, `arco:calendar`, `arco:time_range_native` | `Conventions`, `source`, `references`, the time calendar |
//! | `links` (`derived_from`) | the provenance inputs, with `file:size` and `file:checksum` |
//! | asset `bands` | the data variables: `nodata`, `data_type`, `unit`, `statistics`, `raster:scale`/`offset`, `classification:*` |
//! | `table:*` | compound variables and compound-derived groups |

mod attrs;
mod cube;
mod grid;
mod time;

use crate::{extensions, Error, Result};
use arco_core::{AttrValue, Dataset, Selection, Variable};
use arco_formats::Reader;
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

pub use grid::{horizontal_grids, GridKind, HorizontalGrid, Spatial};
pub use time::Temporal;

/// Variables whose decoded values are at most this many bytes get statistics
/// under [`StatisticsMode::Auto`] (64 MiB).
pub const AUTO_STATISTICS_LIMIT: u64 = 64 << 20;

/// Whether band statistics (min, max, mean, stddev, valid percent) are
/// computed; computing them reads the whole variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatisticsMode {
    /// Only for variables of at most [`AUTO_STATISTICS_LIMIT`] decoded bytes.
    #[default]
    Auto,
    /// For every gridded variable.
    Always,
    /// Never.
    Never,
}

/// One input of a conversion, as `arco:provenance` records it.
#[derive(Debug, Clone, PartialEq)]
pub struct InputRecord {
    /// Path or URL as given to `arco convert`.
    pub location: String,
    /// Size in bytes.
    pub size: Option<u64>,
    /// Hex SHA-256 of a local input.
    pub sha256: Option<String>,
    /// The store's ETag of a remote input.
    pub etag: Option<String>,
}

/// How the data were produced (the STAC processing extension).
#[derive(Debug, Clone, PartialEq)]
pub struct Processing {
    /// The exact command line (`processing:lineage`).
    pub command: String,
    /// When (`processing:datetime`), RFC 3339 UTC.
    pub datetime: Option<String>,
    /// Software and versions (`processing:software`); arco's version by default.
    pub software: Vec<(String, String)>,
    /// The inputs (`derived_from` links).
    pub inputs: Vec<InputRecord>,
}

impl Processing {
    /// A record for `command` run now by this version of arco.
    pub fn now(command: impl Into<String>) -> Processing {
        Processing {
            command: command.into(),
            datetime: Some(now_iso()),
            software: vec![("arco".into(), env!("CARGO_PKG_VERSION").into())],
            inputs: Vec::new(),
        }
    }

    /// Read the `arco:provenance` record that `arco convert` writes into its
    /// output's root attributes (`arco_version`, `created`, `command`,
    /// `inputs` with `location`, `size`, `sha256` or `etag`). `None` when it
    /// has no command.
    pub fn from_provenance(value: &Value) -> Option<Processing> {
        let command = value.get("command")?;
        let command = match command {
            Value::String(s) => s.clone(),
            Value::Array(words) => words
                .iter()
                .map(|w| {
                    w.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| w.to_string())
                })
                .collect::<Vec<_>>()
                .join(" "),
            other => other.to_string(),
        };
        let version = value
            .get("arco_version")
            .and_then(Value::as_str)
            .unwrap_or(env!("CARGO_PKG_VERSION"));
        let inputs = value
            .get("inputs")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|i| {
                        Some(InputRecord {
                            location: i.get("location")?.as_str()?.to_string(),
                            size: i.get("size").and_then(Value::as_u64),
                            sha256: i.get("sha256").and_then(Value::as_str).map(str::to_string),
                            etag: i.get("etag").and_then(Value::as_str).map(str::to_string),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        Some(Processing {
            command,
            datetime: value
                .get("created")
                .and_then(Value::as_str)
                .map(str::to_string),
            software: vec![("arco".into(), version.to_string())],
            inputs,
        })
    }
}

/// What [`describe`] does beyond the defaults.
#[derive(Debug, Clone)]
pub struct DescribeOptions {
    /// The item id; default: the file or store name without its extension.
    pub id: Option<String>,
    /// Give a dataset without spatial coordinates a null geometry instead of
    /// failing with [`Error::NoSpatialCoordinates`].
    pub null_geometry: bool,
    /// Band statistics.
    pub statistics: StatisticsMode,
    /// The item's datetime when the data have no time coordinate and no ACDD
    /// time coverage (otherwise [`Description::item`] fails with [`Error::NoTime`]).
    pub datetime: Option<DateTime<Utc>>,
    /// Points sampled along each side of a projected grid's boundary for the
    /// footprint (at least 2).
    pub boundary_samples: usize,
    /// Processing record; default: read from the dataset's `arco:provenance`.
    pub processing: Option<Processing>,
    /// `created` of the metadata; default: now.
    pub created: Option<String>,
}

impl Default for DescribeOptions {
    fn default() -> Self {
        DescribeOptions {
            id: None,
            null_geometry: false,
            statistics: StatisticsMode::Auto,
            datetime: None,
            boundary_samples: 100,
            processing: None,
            created: None,
        }
    }
}

/// The dataset itself.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceInfo {
    /// Path or URL as given.
    pub location: String,
    /// Format name from the reader (`netcdf4`, `zarr-v3`, ...).
    pub format: String,
    /// Size in bytes (for Zarr stores: the sum of their objects).
    pub size: u64,
}

/// A table: a 1-D compound variable, or a group of 1-D fields sharing one
/// dimension without coordinates (what `arco convert` makes of a compound).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Variable or group path, without the leading `/`.
    pub name: String,
    /// `long_name` or a generated sentence.
    pub description: String,
    /// Rows.
    pub row_count: u64,
    /// `(name, type, description)` of each column.
    pub columns: Vec<(String, String, Option<String>)>,
}

/// Everything [`describe`] found, ready to become STAC.
#[derive(Debug, Clone)]
pub struct Description {
    /// Item id.
    pub id: String,
    /// The dataset.
    pub source: SourceInfo,
    /// `title`.
    pub title: Option<String>,
    /// `summary`, `comment` or a generated sentence.
    pub description: String,
    /// Keywords.
    pub keywords: Vec<String>,
    /// The `license` attribute, when it is an SPDX identifier.
    pub license: Option<String>,
    /// The `license` attribute as written.
    pub license_text: Option<String>,
    /// Providers.
    pub providers: Vec<stac::Provider>,
    /// Footprint; `None` only with [`DescribeOptions::null_geometry`].
    pub spatial: Option<Spatial>,
    /// Time range; `None` when the data have none.
    pub temporal: Option<Temporal>,
    /// Item datetime used when `temporal` is `None`.
    pub fallback_datetime: Option<DateTime<Utc>>,
    /// `cube:dimensions`.
    pub cube_dimensions: Map<String, Value>,
    /// `cube:variables`.
    pub cube_variables: Map<String, Value>,
    /// One band per data variable (names are variable paths without `/`).
    pub bands: Vec<stac::Band>,
    /// Tables.
    pub tables: Vec<Table>,
    /// Processing record.
    pub processing: Option<Processing>,
    /// Extra item properties (`arco:*`, `proj:*`).
    pub properties: Map<String, Value>,
    /// Links to add to the item (`cite-as`, `related`, `derived_from`).
    pub links: Vec<stac::Link>,
    /// `created`.
    pub created: String,
    /// What could not be described, and why (for a CLI to print).
    pub notes: Vec<String>,
}

/// The current time as RFC 3339 UTC, to the second.
pub(crate) fn now_iso() -> String {
    Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Shared state of one [`describe`] call.
pub(crate) struct Ctx<'a> {
    pub reader: &'a dyn Reader,
    pub ds: &'a Dataset,
    pub location: &'a str,
    pub opts: &'a DescribeOptions,
}

impl Ctx<'_> {
    /// Stored values of `var`, whole.
    pub fn read_raw(&self, var: &Variable) -> Result<arco_core::Values> {
        let sel = Selection::all(&var.shape);
        self.reader
            .read(&var.path, &sel)
            .map(|a| a.values)
            .map_err(|source| Error::Read {
                dataset: self.location.to_string(),
                variable: var.path.clone(),
                source: Box::new(source),
            })
    }

    /// CF-decoded (masked, unpacked) values of `var` as `f64`, NaN where masked.
    pub fn read_f64(&self, var: &Variable) -> Result<Vec<f64>> {
        let raw = self.read_raw(var)?;
        let decoder = arco_core::cf::CfDecoder::new(var).map_err(|source| Error::Cf {
            dataset: self.location.to_string(),
            source,
        })?;
        let decoded = decoder.decode(&raw).map_err(|source| Error::Cf {
            dataset: self.location.to_string(),
            source,
        })?;
        decoded.to_f64_vec().ok_or_else(|| Error::Coordinates {
            dataset: self.location.to_string(),
            variable: var.path.clone(),
            reason: format!("holds {} values, not numbers", decoded.as_ref().type_name()),
        })
    }

    pub fn cf_error(&self, source: arco_core::Error) -> Error {
        Error::Cf {
            dataset: self.location.to_string(),
            source,
        }
    }
}

/// True when `path` lies in a multiscale level group that the root's
/// `multiscales` attribute declares (`arco convert --pyramid`).
pub(crate) fn in_level(ds: &Dataset, path: &str) -> bool {
    let p = path.trim_start_matches('/');
    arco_zarr::multiscale_levels(&ds.root.attributes)
        .iter()
        .map(|l| l.path.trim_matches('/'))
        .filter(|l| !l.is_empty())
        .any(|l| p.strip_prefix(l).is_some_and(|rest| rest.starts_with('/')))
}

/// Text of a variable attribute.
pub(crate) fn text<'a>(var: &'a Variable, name: &str) -> Option<&'a str> {
    var.attr(name)
        .and_then(AttrValue::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The key of a variable in `cube:variables` and `bands`: its path without the
/// leading `/` (so that the asset href joined with it is the Zarr array).
pub(crate) fn key(var: &Variable) -> String {
    var.path.trim_start_matches('/').to_string()
}

/// The default item id for a location: its last path segment without a data
/// file extension, with characters other than letters, digits, `_`, `-` and
/// `.` replaced by `-`.
pub fn id_from_location(location: &str) -> String {
    let trimmed = location.trim_end_matches('/');
    let last = trimmed
        .rsplit(['/', '\\'])
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or("dataset");
    let lower = last.to_ascii_lowercase();
    let mut base = last;
    for ext in [
        ".nc",
        ".nc3",
        ".nc4",
        ".netcdf",
        ".cdf",
        ".h5",
        ".hdf5",
        ".he5",
        ".hdf",
        ".zarr",
        ".grib",
        ".grib2",
        ".grb",
        ".grb2",
        ".tif",
        ".tiff",
        ".json",
        ".parquet",
        ".icechunk",
    ] {
        if lower.ends_with(ext) && last.len() > ext.len() {
            base = &last[..last.len() - ext.len()];
            break;
        }
    }
    sanitize_id(base)
}

/// `s` with characters other than ASCII letters, digits, `_`, `-` and `.`
/// replaced by `-` (runs collapsed).
pub fn sanitize_id(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-').to_string();
    if out.is_empty() {
        "dataset".into()
    } else {
        out
    }
}

/// Describe the dataset `reader` opened from `location`.
///
/// Reads the coordinate variables (and, for statistics, the data variables
/// [`DescribeOptions::statistics`] selects). Errors when no coordinates
/// locate the data ([`Error::NoSpatialCoordinates`], unless
/// [`DescribeOptions::null_geometry`]), when a coordinate variable cannot be
/// read ([`Error::Read`], [`Error::Coordinates`]) or its CF attributes make no
/// sense ([`Error::Cf`]).
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let source = arco_storage::open("era5.nc", &Default::default())?;
/// let reader = arco_formats::open(source)?;
/// let d = arco_catalog::describe(reader.as_ref(), "era5.nc", &Default::default())?;
/// println!("{:?} {:?}", d.spatial.map(|s| s.bbox), d.temporal.map(|t| (t.start, t.end)));
/// # Ok(()) }
/// ```
pub fn describe(
    reader: &dyn Reader,
    location: &str,
    opts: &DescribeOptions,
) -> Result<Description> {
    let ds = reader.dataset();
    let ctx = Ctx {
        reader,
        ds,
        location,
        opts,
    };
    let mut notes = Vec::new();
    let mut roles = cube::Roles::of(ds);
    // Multiscale levels (`arco convert --pyramid`) are coarser copies of
    // the data, not more data variables.
    roles.data.retain(|v| !in_level(ds, &v.path));
    let grids = grid::detect(&ctx, &roles)?;
    let spatial = match grid::footprint(&ctx, &grids, &mut notes)? {
        Some(s) => Some(s),
        None if opts.null_geometry => {
            notes.push(format!(
                "no spatial coordinates: null geometry ({})",
                grids.looked_at.join("; ")
            ));
            None
        }
        None => {
            return Err(Error::NoSpatialCoordinates {
                dataset: location.to_string(),
                looked_at: grids.looked_at.join("; "),
            })
        }
    };
    let temporal = time::temporal(&ctx, &roles)?;
    let cube = cube::build(&ctx, &roles, &grids, spatial.as_ref(), &mut notes)?;
    let globals = attrs::globals(ds);
    let processing = match &opts.processing {
        Some(p) => Some(p.clone()),
        None => provenance(ds),
    };

    let mut properties = Map::new();
    if let Some(s) = &spatial {
        for (k, v) in &s.projection {
            properties.insert(k.clone(), v.clone());
        }
    }
    if let Some(t) = &temporal {
        if !t.is_gregorian() {
            properties.insert("arco:calendar".into(), json!(t.calendar));
        }
        if t.adjusted {
            properties.insert(
                "arco:time_range_native".into(),
                json!([t.start_native, t.end_native]),
            );
        }
    }
    for (k, v) in &globals.extra {
        properties.insert(k.clone(), v.clone());
    }

    let mut links = globals.links.clone();
    if let Some(p) = &processing {
        links.extend(p.inputs.iter().map(derived_from));
    }

    let id = match &opts.id {
        Some(id) => sanitize_id(id),
        None => id_from_location(location),
    };
    let description = globals
        .description
        .clone()
        .unwrap_or_else(|| attrs::generated_description(ds, location, globals.history.as_deref()));
    let mut keywords = globals.keywords.clone();
    for k in &cube.standard_names {
        if !keywords.iter().any(|x| x.eq_ignore_ascii_case(k)) {
            keywords.push(k.clone());
        }
    }
    let mut providers = globals.providers.clone();
    if let Some(p) = &processing {
        let mut arco = stac::Provider::new("arco");
        arco.roles = Some(vec!["processor".into()]);
        arco.description = Some("converted the data (see processing:lineage)".into());
        arco.additional_fields = processing_fields(p);
        providers.push(arco);
    }

    Ok(Description {
        id,
        source: SourceInfo {
            location: location.to_string(),
            format: ds.format.clone(),
            size: ds.size,
        },
        title: globals.title,
        description,
        keywords,
        license: globals.license,
        license_text: globals.license_text,
        providers,
        spatial,
        temporal,
        fallback_datetime: opts.datetime,
        cube_dimensions: cube.dimensions,
        cube_variables: cube.variables,
        bands: cube.bands,
        tables: cube.tables,
        processing,
        properties,
        links,
        created: opts.created.clone().unwrap_or_else(now_iso),
        notes,
    })
}

/// The `arco:provenance` root attribute, parsed.
fn provenance(ds: &Dataset) -> Option<Processing> {
    let text = ds
        .root
        .attr("arco:provenance")
        .and_then(AttrValue::as_str)?;
    let value: Value = serde_json::from_str(text).ok()?;
    Processing::from_provenance(&value)
}

/// `processing:*` fields of a record.
pub(crate) fn processing_fields(p: &Processing) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("processing:lineage".into(), json!(p.command));
    let software: Map<String, Value> = p
        .software
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    m.insert("processing:software".into(), Value::Object(software));
    if let Some(dt) = &p.datetime {
        m.insert("processing:datetime".into(), json!(dt));
    }
    m
}

/// The `derived_from` link of an input, with its size and checksum.
fn derived_from(input: &InputRecord) -> stac::Link {
    let href = match arco_storage::Location::parse(&input.location) {
        Ok(arco_storage::Location::Local(path)) => {
            let abs = std::fs::canonicalize(&path)
                .or_else(|_| std::path::absolute(&path))
                .unwrap_or(path);
            url::Url::from_file_path(&abs)
                .map(String::from)
                .unwrap_or_else(|()| format!("file://{}", abs.display()))
        }
        _ => input.location.clone(),
    };
    let mut link = stac::Link::new(href, "derived_from");
    if let Some(size) = input.size {
        link.additional_fields
            .insert("file:size".into(), json!(size));
    }
    if let Some(sha) = &input.sha256 {
        link.additional_fields
            .insert("file:checksum".into(), json!(format!("1220{sha}")));
    }
    if let Some(etag) = &input.etag {
        link.additional_fields
            .insert("arco:etag".into(), json!(etag));
    }
    link
}

impl Description {
    /// The STAC Item, without assets (add them with [`Description::add_asset`]):
    /// id, geometry and bbox, datetimes, properties (common metadata,
    /// datacube, projection, processing, table, `arco:*`), links
    /// (`derived_from`, `cite-as`, `related`) and the `stac_extensions` in use.
    ///
    /// Errors with [`Error::NoTime`] when the data have no time and
    /// [`DescribeOptions::datetime`] was not given.
    pub fn item(&self) -> Result<stac::Item> {
        let mut item = stac::Item::new(&self.id);
        if let Some(s) = &self.spatial {
            item.geometry = Some(
                serde_json::from_value(s.geometry.clone()).map_err(|source| Error::Json {
                    what: format!("{}: geometry", self.id),
                    source,
                })?,
            );
            item.bbox = Some(stac::Bbox::new(s.bbox[0], s.bbox[1], s.bbox[2], s.bbox[3]));
        }
        let p = &mut item.properties;
        match (&self.temporal, self.fallback_datetime) {
            (Some(t), _) if t.start == t.end => p.datetime = Some(t.start),
            (Some(t), _) => {
                p.datetime = None;
                p.start_datetime = Some(t.start);
                p.end_datetime = Some(t.end);
            }
            (None, Some(dt)) => p.datetime = Some(dt),
            (None, None) => {
                return Err(Error::NoTime {
                    dataset: self.source.location.clone(),
                    looked_at: "variables with time units (UNIT since DATE), ACDD \
                                time_coverage_start/time_coverage_end"
                        .into(),
                })
            }
        }
        p.title = self.title.clone();
        p.description = Some(self.description.clone());
        p.created = Some(self.created.clone());
        let extra = &mut p.additional_fields;
        if !self.keywords.is_empty() {
            extra.insert("keywords".into(), json!(self.keywords));
        }
        if let Some(l) = &self.license {
            extra.insert("license".into(), json!(l));
        }
        if !self.providers.is_empty() {
            extra.insert(
                "providers".into(),
                serde_json::to_value(&self.providers).map_err(|source| Error::Json {
                    what: format!("{}: providers", self.id),
                    source,
                })?,
            );
        }
        if !self.cube_dimensions.is_empty() {
            extra.insert(
                "cube:dimensions".into(),
                Value::Object(self.cube_dimensions.clone()),
            );
            extra.insert(
                "cube:variables".into(),
                Value::Object(self.cube_variables.clone()),
            );
        }
        for (k, v) in &self.properties {
            extra.insert(k.clone(), v.clone());
        }
        if let Some(proc) = &self.processing {
            for (k, v) in processing_fields(proc) {
                extra.insert(k, v);
            }
        }
        match self.tables.as_slice() {
            [] => {}
            [one] => {
                extra.insert("table:columns".into(), table_columns(one));
                extra.insert("table:row_count".into(), json!(one.row_count));
            }
            many => {
                let list: Vec<Value> = many
                    .iter()
                    .map(|t| {
                        json!({
                            "name": t.name,
                            "description": t.description,
                            "table:columns": table_columns(t),
                            "table:row_count": t.row_count,
                        })
                    })
                    .collect();
                extra.insert("table:tables".into(), Value::Array(list));
            }
        }
        item.links = self.links.clone();
        extensions::declare_extensions(&mut item)?;
        Ok(item)
    }

    /// Build the asset `spec` describes, with this dataset's bands (raster and
    /// classification fields) when [`AssetSpec::describe_contents`] is set, and
    /// add it to `target` (an item or a collection) under `key`, updating the
    /// `stac_extensions` list.
    ///
    /// [`AssetSpec::describe_contents`]: crate::AssetSpec::describe_contents
    pub fn add_asset<T: crate::assets::HasAssets>(
        &self,
        target: &mut T,
        key: &str,
        spec: &crate::AssetSpec,
    ) -> Result<()> {
        let asset = self.asset(spec);
        crate::assets::add_asset(target, key, asset)
    }

    /// The asset `spec` describes, with this dataset's bands when
    /// [`AssetSpec::describe_contents`](crate::AssetSpec::describe_contents) is set.
    pub fn asset(&self, spec: &crate::AssetSpec) -> stac::Asset {
        let mut asset = spec.asset();
        if spec.describe_contents && !self.bands.is_empty() {
            asset.bands = self.bands.clone();
        }
        asset
    }
}

fn table_columns(t: &Table) -> Value {
    Value::Array(
        t.columns
            .iter()
            .map(|(name, ty, desc)| {
                let mut m = Map::new();
                m.insert("name".into(), json!(name));
                m.insert("type".into(), json!(ty));
                if let Some(d) = desc {
                    m.insert("description".into(), json!(d));
                }
                Value::Object(m)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_from_the_file_name_without_its_extension() {
        assert_eq!(id_from_location("/data/era5.nc"), "era5");
        assert_eq!(id_from_location("s3://b/x/out.zarr/"), "out");
        assert_eq!(
            id_from_location("20171025_2056.Cloud_Top_Height.nc"),
            "20171025_2056.Cloud_Top_Height"
        );
        assert_eq!(id_from_location("a b:c.h5"), "a-b-c");
        assert_eq!(sanitize_id("::"), "dataset");
    }

    #[test]
    fn provenance_records_become_processing() {
        let v = json!({
            "arco_version": "0.1.0",
            "created": "2026-01-02T03:04:05Z",
            "command": ["arco", "convert", "in.nc", "out.zarr"],
            "inputs": [{"location": "in.nc", "size": 3, "sha256": "ab"}],
        });
        let p = Processing::from_provenance(&v).unwrap_or_else(|| Processing::now("x"));
        assert_eq!(p.command, "arco convert in.nc out.zarr");
        assert_eq!(p.inputs[0].sha256.as_deref(), Some("ab"));
        let link = derived_from(&p.inputs[0]);
        assert_eq!(link.additional_fields["file:checksum"], "1220ab");
        assert!(link.href.starts_with("file:///"));
    }
}
