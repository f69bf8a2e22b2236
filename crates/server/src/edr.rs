//! Time series and OGC API – Environmental Data Retrieval 1.1 over the
//! served datasets.
//!
//! - `GET|POST /collections/{id}/timeseries`: one variable along its time
//!   dimension (else its first non-horizontal one) at a point (`lon`, `lat`;
//!   `method=nearest|bilinear`) or over an area (`bbox=w,s,e,n`,
//!   `geometry=<GeoJSON>` or a GeoJSON body; `stat=mean|min|max|count`),
//!   `datetime=a/b` on that dimension, `sel=dim=value` for the others; as
//!   JSON, CSV or CoverageJSON (`f=json|csv|CoverageJSON`, else `Accept`).
//! - EDR queries `GET /collections/{id}/position?coords=POINT(x y)|MULTIPOINT(…)`,
//!   `/area?coords=POLYGON(…)|MULTIPOLYGON(…)` and `/cube?bbox=w,s,e,n`,
//!   with `parameter-name`, `datetime`, `z`, other dimensions as
//!   `dim=value` query parameters (or `sel`), `crs` (CRS84 only) and
//!   `f=CoverageJSON|CSV|GeoJSON`. A position is a `PointSeries` (a `Point`
//!   without time, a `VerticalProfile` across levels); an area or cube is a
//!   `Grid` of the cells whose centres fall inside, in the grid's own
//!   coordinates (a `ProjectedCRS` for projected grids), cells of the window
//!   outside a polygon `null`. Variables with different dimensions become
//!   separate coverages of a `CoverageCollection`, as do the points of a
//!   `MULTIPOINT`.
//! - [`edr_collection_fields`]: what an EDR collection document carries
//!   (`data_queries`, `parameter_names`, `output_formats`, `crs`).
//!
//! Values are CF-decoded (`null` where missing); times are ISO 8601 in the
//! variable's calendar. Nothing is interpolated in time or level: `datetime`
//! and `z` select the labels inside an interval, or one label exactly.

use crate::api::{enc, Document};
use crate::covjson::{
    self, Domain, DomainType, HorizontalCrs, Parameter, Range, TimeAxis, VerticalAxis,
};
use crate::data::{blocking, cube_error, Params};
use crate::error::ApiError;
use crate::AppState;
use arco_core::cf;
use arco_cube::cube::MAX_READ_VALUES;
use arco_cube::series::{self, PointMethod, Series, Stat};
use arco_cube::{Cube, DimSel, Geometry, HGrid, Labels, SelMethod, VarView};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value};
use std::fmt::Write as _;
use std::sync::Arc;

/// Media type of CSV answers.
pub const CSV: &str = "text/csv; charset=utf-8";
/// Media type of GeoJSON answers.
pub const GEOJSON: &str = "application/geo+json";
/// Media type of JSON answers.
pub const JSON: &str = "application/json";

/// The OGC API – EDR 1.1 conformance classes the EDR endpoints implement
/// (for `/conformance`).
pub const CONFORMANCE: &[&str] = &[
    "http://www.opengis.net/spec/ogcapi-edr-1/1.1/conf/core",
    "http://www.opengis.net/spec/ogcapi-edr-1/1.1/conf/collections",
    "http://www.opengis.net/spec/ogcapi-edr-1/1.1/conf/json",
    "http://www.opengis.net/spec/ogcapi-edr-1/1.1/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-edr-1/1.1/conf/covjson",
    "http://www.opengis.net/spec/ogcapi-edr-1/1.1/conf/queries",
];

/// The output formats of the EDR queries, as named in `f`.
pub const OUTPUT_FORMATS: [&str; 3] = ["CoverageJSON", "CSV", "GeoJSON"];

/// Most rows a CSV or GeoJSON answer may hold (one per cell, step and level).
pub const MAX_ROWS: usize = 1 << 20;

/// WKT of OGC CRS84, for `crs_details`.
const CRS84_WKT: &str = "GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,298.257223563,AUTHORITY[\"EPSG\",\"7030\"]],AUTHORITY[\"EPSG\",\"6326\"]],PRIMEM[\"Greenwich\",0,AUTHORITY[\"EPSG\",\"8901\"]],UNIT[\"degree\",0.01745329251994328,AUTHORITY[\"EPSG\",\"9122\"]],AXIS[\"Longitude\",EAST],AXIS[\"Latitude\",NORTH]]";

/// Query parameters of the EDR queries that never name a dimension.
const EDR_KEYS: &[&str] = &[
    "coords",
    "bbox",
    "parameter-name",
    "datetime",
    "z",
    "f",
    "crs",
    "method",
    "sel",
    "access_token",
    "api_key",
];

type St = State<Arc<AppState>>;

/// The routes of this module.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/collections/{collection_id}/timeseries",
            get(timeseries_get).post(timeseries_post),
        )
        .route(
            "/collections/{collection_id}/position",
            edr_query(QueryKind::Position),
        )
        .route(
            "/collections/{collection_id}/area",
            edr_query(QueryKind::Area),
        )
        .route(
            "/collections/{collection_id}/cube",
            edr_query(QueryKind::Cube),
        )
}

fn accept(h: &HeaderMap) -> Option<String> {
    h.get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn bad_path(e: PathRejection) -> Response {
    ApiError::bad_parameter(format!(
        "the path cannot be read ({}); percent-encode ids as UTF-8",
        e.body_text()
    ))
    .into_response()
}

/// Look the dataset up, then run `f` on the blocking pool.
async fn run(
    s: Arc<AppState>,
    p: Result<Path<String>, PathRejection>,
    f: impl FnOnce(&Cube) -> Result<Document, ApiError> + Send + 'static,
) -> Response {
    let Path(id) = match p {
        Ok(p) => p,
        Err(e) => return bad_path(e),
    };
    let cube = match s.data.get(&id) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    match blocking(move || f(&cube)).await {
        Ok(d) => d.into_response(),
        Err(e) => e.into_response(),
    }
}

async fn timeseries_get(
    State(s): St,
    p: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
    h: HeaderMap,
) -> Response {
    let params = Params::parse(q.as_deref());
    let acc = accept(&h);
    run(s, p, move |c| timeseries(c, &params, acc.as_deref(), None)).await
}

async fn timeseries_post(
    State(s): St,
    p: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            return ApiError {
                status: e.status().as_u16(),
                code: "InvalidRequestBody",
                description: format!("cannot read the request body: {}", e.body_text()),
            }
            .into_response()
        }
    };
    let value: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return ApiError::bad_body(format!(
                "the body is not JSON ({e}); POST a GeoJSON geometry or Feature such as {{\"type\": \"Polygon\", \"coordinates\": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}}"
            ))
            .into_response()
        }
    };
    let params = Params::parse(q.as_deref());
    let acc = accept(&h);
    run(s, p, move |c| {
        timeseries(c, &params, acc.as_deref(), Some(&value))
    })
    .await
}

/// The handler of an EDR query of `kind` (position, area, cube).
fn edr_query(kind: QueryKind) -> axum::routing::MethodRouter<Arc<AppState>> {
    get(
        move |State(s): St,
              p: Result<Path<String>, PathRejection>,
              RawQuery(q): RawQuery,
              h: HeaderMap| async move {
            let params = Params::parse(q.as_deref());
            let acc = accept(&h);
            run(s, p, move |c| query(c, kind, &params, acc.as_deref())).await
        },
    )
}

// ---------------------------------------------------------------------------
// Shared pieces

/// The media types of an `Accept` header, in order, without parameters.
fn accepted(accept: Option<&str>) -> Vec<String> {
    accept
        .unwrap_or("")
        .split(',')
        .map(|m| {
            m.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|m| !m.is_empty())
        .collect()
}

fn document(media_type: &'static str, body: Vec<u8>) -> Document {
    Document {
        status: 200,
        media_type,
        body,
    }
}

fn json_doc(media_type: &'static str, v: &Value) -> Result<Document, ApiError> {
    serde_json::to_vec(v)
        .map(|b| document(media_type, b))
        .map_err(|e| ApiError::internal(format!("cannot write the response: {e}")))
}

/// A number as JSON, `null` for NaN.
fn num(v: f64) -> Value {
    if v.is_finite() {
        json!(v)
    } else {
        Value::Null
    }
}

/// A number as CSV text, empty for NaN.
fn csv_num(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        String::new()
    }
}

/// A CSV field, quoted when it needs to be.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A label as CSV text.
fn csv_label(v: &Value) -> String {
    match v {
        Value::String(s) => csv_field(s),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// What a variable measures, for CoverageJSON.
fn parameter_of(v: &VarView) -> Parameter {
    Parameter {
        description: v.text("long_name").map(str::to_string),
        label: v.title().to_string(),
        units: v.units().map(str::to_string),
        standard_name: v.text("standard_name").map(str::to_string),
        integer: is_integer(v),
    }
}

/// An integer variable without scaling: its values are whole numbers.
fn is_integer(v: &VarView) -> bool {
    v.var.dtype.is_integer()
        && v.var.attr("scale_factor").is_none()
        && v.var.attr("add_offset").is_none()
}

/// The CF calendar of a time dimension's labels.
fn calendar(labels: &Labels) -> String {
    match labels {
        Labels::Time { units, .. } => units.calendar.name().to_string(),
        _ => "standard".to_string(),
    }
}

/// True when dimension `d` of `v` is vertical: its coordinate is a CF Z
/// axis (`axis=Z`, `positive`, pressure units, a vertical standard name),
/// or, without a telling coordinate, its name is a usual level name.
fn is_vertical(cube: &Cube, v: &VarView, d: usize) -> bool {
    if !matches!(v.labels[d], Labels::Numeric(_) | Labels::Index(_)) {
        return false;
    }
    let dim = &v.var.dims[d];
    if let Some(c) =
        cf::resolve(dim, &v.var, cube.dataset()).filter(|c| c.dims.len() == 1 && &c.dims[0] == dim)
    {
        match cf::axis_kind(c) {
            Some(cf::Axis::Z) => return true,
            Some(_) => return false,
            None => {}
        }
    }
    let n = dim.to_ascii_lowercase();
    n.starts_with("isobaric")
        || n.starts_with("level")
        || n.starts_with("lev")
        || n.starts_with("plev")
        || n.starts_with("pressure")
        || n.starts_with("depth")
        || n.starts_with("height")
        || n.starts_with("altitude")
        || n == "z"
        || n == "deptht"
        || n == "model_level"
}

/// The vertical axis of dimension `d` of `v` at level indices `idx`.
fn vertical_axis(cube: &Cube, v: &VarView, d: usize, idx: &[u64]) -> VerticalAxis {
    let dim = &v.var.dims[d];
    let coord =
        cf::resolve(dim, &v.var, cube.dataset()).filter(|c| c.dims.len() == 1 && &c.dims[0] == dim);
    let text = |name: &str| {
        coord
            .and_then(|c| c.attr(name))
            .and_then(arco_core::AttrValue::as_str)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let units = text("units");
    let positive_down = match text("positive").map(|p| p.to_ascii_lowercase()).as_deref() {
        Some("down") => Some(true),
        Some("up") => Some(false),
        _ => {
            let pressure = units.as_deref().is_some_and(|u| {
                [
                    "pa", "hpa", "kpa", "mbar", "millibar", "bar", "dbar", "decibar",
                ]
                .contains(&u.to_ascii_lowercase().as_str())
            });
            pressure.then_some(true)
        }
    };
    VerticalAxis {
        name: dim.clone(),
        values: idx
            .iter()
            .map(|&i| v.labels[d].label(i as usize).as_f64().unwrap_or(i as f64))
            .collect(),
        units,
        positive_down,
    }
}

/// The horizontal reference system of a grid's native coordinates.
fn grid_crs(grid: &HGrid) -> HorizontalCrs {
    match &grid.crs {
        None => HorizontalCrs::Crs84,
        Some(crs) => {
            let epsg = crs.epsg();
            HorizontalCrs::Projected {
                epsg,
                wkt: if epsg.is_none() { crs.wkt2() } else { None },
            }
        }
    }
}

/// `cell_lon` shifted by whole turns to lie nearest `lon`.
fn near_lon(cell_lon: f64, lon: f64) -> f64 {
    cell_lon + 360.0 * ((lon - cell_lon) / 360.0).round()
}

/// 413: the answer would be larger than the server gives.
fn too_large(description: String) -> ApiError {
    ApiError {
        status: 413,
        code: "PayloadTooLarge",
        description,
    }
}

fn outside(cube: &Cube, g: &HGrid, lon: f64, lat: f64) -> ApiError {
    let b = g.bounds;
    ApiError::bad_parameter(format!(
        "{}: ({lon}, {lat}) is outside the grid, which covers longitudes {} to {} and latitudes {} to {}",
        cube.id, b[0], b[2], b[1], b[3]
    ))
}

// ---------------------------------------------------------------------------
// /timeseries

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TsFormat {
    Json,
    Csv,
    CovJson,
}

fn ts_format(p: &Params, accept: Option<&str>) -> Result<TsFormat, ApiError> {
    if let Some(f) = p.get("f") {
        return match f.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(TsFormat::Json),
            "csv" => Ok(TsFormat::Csv),
            "coveragejson" | "covjson" => Ok(TsFormat::CovJson),
            _ => Err(ApiError::bad_parameter(format!(
                "f='{f}' is not a format of /timeseries; use json, csv or CoverageJSON"
            ))),
        };
    }
    for m in accepted(accept) {
        match m.as_str() {
            "text/csv" => return Ok(TsFormat::Csv),
            covjson::MEDIA_TYPE | covjson::MEDIA_TYPE_OLD => return Ok(TsFormat::CovJson),
            "application/json" => return Ok(TsFormat::Json),
            _ => {}
        }
    }
    Ok(TsFormat::Json)
}

/// Where a time series is taken.
enum Where {
    Point(f64, f64, PointMethod),
    Area(Geometry, Stat, &'static str),
}

/// `GET|POST /collections/{id}/timeseries`: `body` is a POSTed GeoJSON
/// geometry (an area, or a point).
pub fn timeseries(
    cube: &Cube,
    p: &Params,
    accept: Option<&str>,
    body: Option<&Value>,
) -> Result<Document, ApiError> {
    let v = p.variable(cube)?;
    let format = ts_format(p, accept)?;
    let sels = p.sels()?;
    let range = p.get("datetime");
    let (area, key) = match (body, p.get("geometry"), p.get("bbox")) {
        (Some(b), None, None) => (Some(Geometry::from_geojson(b)), "geometry"),
        (None, Some(g), None) => {
            let value: Value = serde_json::from_str(g).map_err(|e| {
                ApiError::bad_parameter(format!(
                    "geometry is not GeoJSON ({e}); give a geometry such as {{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}}"
                ))
            })?;
            (Some(Geometry::from_geojson(&value)), "geometry")
        }
        (None, None, Some(b)) => (Some(Geometry::from_bbox(b)), "bbox"),
        (None, None, None) => (None, ""),
        _ => {
            return Err(ApiError::bad_parameter(
                "give one area: bbox, geometry or a GeoJSON body, not several",
            ))
        }
    };
    let area = area.transpose().map_err(cube_error)?;
    let lon = p.number("lon")?;
    let lat = p.number("lat")?;
    let method = || PointMethod::parse(p.get("method").unwrap_or("nearest")).map_err(cube_error);
    let at = match (area, lon, lat) {
        (Some(Geometry::Point(x, y)), None, None) => Where::Point(x, y, method()?),
        (Some(g), None, None) => {
            let stat = Stat::parse(p.get("stat").unwrap_or("mean")).map_err(cube_error)?;
            Where::Area(g, stat, key)
        }
        (Some(_), _, _) => {
            return Err(ApiError::bad_parameter(
                "give either lon and lat (a point) or bbox/geometry (an area), not both",
            ))
        }
        (None, Some(x), Some(y)) => Where::Point(x, y, method()?),
        (None, Some(_), None) | (None, None, Some(_)) => {
            return Err(ApiError::bad_parameter("give both lon and lat"))
        }
        (None, None, None) => {
            return Err(ApiError::bad_parameter(
                "give lon and lat (a point series), or bbox=west,south,east,north or geometry=GeoJSON (an area series)",
            ))
        }
    };
    if let Where::Area(g, _, _) = &at {
        // Size the window before working out which of its cells are inside.
        if let Some(grid) = &v.grid {
            let (rows, cols) = series::window(grid, g);
            let cells = (rows.1 - rows.0) * (cols.1 - cols.0);
            if cells > MAX_READ_VALUES {
                return Err(too_large(format!(
                    "{}: the area spans {cells} cells of '{}', more than the {MAX_READ_VALUES} a request may read; give a smaller area",
                    cube.id, v.name
                )));
            }
        }
    }
    let s = match &at {
        Where::Point(x, y, m) => series::point(cube, v, *x, *y, *m, &sels, range),
        Where::Area(g, stat, _) => series::area(cube, v, g, *stat, &sels, range),
    }
    .map_err(cube_error)?;
    match format {
        TsFormat::Json => json_doc(JSON, &ts_json(cube, v, &s, &at)),
        TsFormat::Csv => Ok(document(CSV, ts_csv(v, &s).into_bytes())),
        TsFormat::CovJson => json_doc(covjson::MEDIA_TYPE, &ts_covjson(cube, v, &s, &at)?),
    }
}

fn fixed_json(s: &Series) -> Value {
    Value::Object(
        s.fixed
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}

fn ts_json(cube: &Cube, v: &VarView, s: &Series, at: &Where) -> Value {
    let mut o = Map::new();
    o.insert("id".into(), json!(cube.id));
    o.insert("variable".into(), json!(v.name));
    o.insert("units".into(), json!(v.units()));
    o.insert("long_name".into(), json!(v.title()));
    match at {
        Where::Point(lon, lat, m) => {
            o.insert(
                "method".into(),
                json!(match m {
                    PointMethod::Nearest => "nearest",
                    PointMethod::Bilinear => "bilinear",
                }),
            );
            o.insert("lon".into(), json!(lon));
            o.insert("lat".into(), json!(lat));
            if let Some(pc) = &s.point {
                o.insert(
                    "grid".into(),
                    json!({
                        "lon": num(pc.cell_lonlat.0),
                        "lat": num(pc.cell_lonlat.1),
                        "index": [pc.index.0, pc.index.1],
                    }),
                );
            }
        }
        Where::Area(g, stat, key) => {
            o.insert("stat".into(), json!(stat.name()));
            match (key, g) {
                (&"bbox", Geometry::Bbox(b)) => {
                    o.insert("bbox".into(), json!(b));
                }
                _ => {
                    o.insert("geometry".into(), g.to_geojson());
                }
            }
            o.insert("cells".into(), json!(s.cells));
        }
    }
    o.insert("dimension".into(), json!(s.dim));
    o.insert("index".into(), Value::Array(s.index.clone()));
    o.insert(
        "values".into(),
        Value::Array(s.values.iter().map(|&x| num(x)).collect()),
    );
    if let Some(c) = &s.counts {
        o.insert("count".into(), json!(c));
    }
    o.insert("sel".into(), fixed_json(s));
    Value::Object(o)
}

fn ts_csv(v: &VarView, s: &Series) -> String {
    let mut out = String::new();
    let dim = s.dim.as_deref().unwrap_or("time");
    let _ = write!(out, "{},{}", csv_field(dim), csv_field(&v.name));
    if s.counts.is_some() {
        out.push_str(",count");
    }
    out.push('\n');
    for (i, (label, value)) in s.index.iter().zip(&s.values).enumerate() {
        let _ = write!(out, "{},{}", csv_label(label), csv_num(*value));
        if let Some(c) = &s.counts {
            let _ = write!(out, ",{}", c.get(i).copied().unwrap_or(0));
        }
        out.push('\n');
    }
    out
}

/// A series dimension as a domain axis: time, vertical, or a custom
/// `(name, labels)`.
type SeriesAxes = (
    Option<TimeAxis>,
    Option<VerticalAxis>,
    Option<(String, Vec<Value>)>,
);

/// The series dimension of a [`Series`] as a domain axis: time, vertical
/// or custom.
fn series_axes(cube: &Cube, v: &VarView, s: &Series) -> SeriesAxes {
    let Some(dim) = &s.dim else {
        return (None, None, None);
    };
    let Some(d) = v.var.dims.iter().position(|x| x == dim) else {
        return (None, None, None);
    };
    if v.labels[d].is_time() {
        let values = s
            .index
            .iter()
            .map(|l| l.as_str().map_or_else(|| l.to_string(), str::to_string))
            .collect();
        return (
            Some(TimeAxis {
                values,
                calendar: calendar(&v.labels[d]),
            }),
            None,
            None,
        );
    }
    if is_vertical(cube, v, d) {
        let mut z = vertical_axis(cube, v, d, &[]);
        z.values = s
            .index
            .iter()
            .enumerate()
            .map(|(i, l)| l.as_f64().unwrap_or(i as f64))
            .collect();
        return (None, Some(z), None);
    }
    (None, None, Some((dim.clone(), s.index.clone())))
}

fn ts_covjson(cube: &Cube, v: &VarView, s: &Series, at: &Where) -> Result<Value, ApiError> {
    let (t, z, custom) = series_axes(cube, v, s);
    let mut param = parameter_of(v);
    match at {
        Where::Point(lon, lat, m) => {
            let (x, y) = match (m, &s.point) {
                (PointMethod::Nearest, Some(pc)) => {
                    (near_lon(pc.cell_lonlat.0, *lon), pc.cell_lonlat.1)
                }
                _ => (*lon, *lat),
            };
            param.integer &= *m == PointMethod::Nearest;
            let domain_type = if custom.is_some() {
                None
            } else if t.is_some() {
                Some(DomainType::PointSeries)
            } else if z.is_some() {
                Some(DomainType::VerticalProfile)
            } else {
                Some(DomainType::Point)
            };
            let d = Domain {
                domain_type,
                x: vec![x],
                y: vec![y],
                z,
                t,
                polygon: None,
                custom,
                crs: HorizontalCrs::Crs84,
            };
            Ok(covjson::coverage(
                &d,
                &[Range {
                    key: v.name.clone(),
                    parameter: param,
                    values: s.values.clone(),
                }],
            ))
        }
        Where::Area(g, stat, _) => {
            let polygon = match g {
                Geometry::Bbox([w, s, e, n]) => json!([[[w, s], [e, s], [e, n], [w, n], [w, s]]]),
                Geometry::Polygons(p) if p.len() == 1 => json!(p[0]
                    .iter()
                    .map(|r| r.iter().map(|(x, y)| json!([x, y])).collect::<Vec<_>>())
                    .collect::<Vec<_>>()),
                _ => {
                    return Err(ApiError::bad_parameter(
                        "a CoverageJSON area series needs one polygon or a bbox (a MultiPolygon's statistic has no CoverageJSON domain); use f=json or f=csv",
                    ))
                }
            };
            if z.is_some() || custom.is_some() {
                return Err(ApiError::bad_parameter(format!(
                    "a CoverageJSON area series runs along time; '{}' runs along {}; use f=json or f=csv",
                    v.name,
                    s.dim.as_deref().unwrap_or("no dimension")
                )));
            }
            param.integer = *stat == Stat::Count;
            param.description = Some(format!(
                "{} of {} over the cells whose centres lie inside the area",
                stat.name(),
                v.title()
            ));
            let d = Domain {
                domain_type: Some(DomainType::PolygonSeries),
                x: vec![],
                y: vec![],
                z: None,
                t,
                polygon: Some(polygon),
                custom: None,
                crs: HorizontalCrs::Crs84,
            };
            let counts: Vec<f64> = s
                .counts
                .as_deref()
                .unwrap_or(&[])
                .iter()
                .map(|&c| c as f64)
                .collect();
            let mut ranges = vec![Range {
                key: v.name.clone(),
                parameter: param,
                values: s.values.clone(),
            }];
            if *stat != Stat::Count {
                ranges.push(Range {
                    key: "count".into(),
                    parameter: Parameter {
                        description: Some(
                            "number of valid (non-missing) cells inside the area".into(),
                        ),
                        label: "valid cells".into(),
                        units: Some("1".into()),
                        standard_name: None,
                        integer: true,
                    },
                    values: counts,
                });
            }
            Ok(covjson::coverage(&d, &ranges))
        }
    }
}

// ---------------------------------------------------------------------------
// EDR queries

/// Which EDR query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKind {
    /// `/position`.
    Position,
    /// `/area`.
    Area,
    /// `/cube`.
    Cube,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EdrFormat {
    CovJson,
    Csv,
    GeoJson,
}

fn edr_format(p: &Params, accept: Option<&str>) -> Result<EdrFormat, ApiError> {
    if let Some(f) = p.get("f") {
        return match f.trim().to_ascii_lowercase().as_str() {
            "coveragejson" | "covjson" | "json" => Ok(EdrFormat::CovJson),
            "csv" => Ok(EdrFormat::Csv),
            "geojson" => Ok(EdrFormat::GeoJson),
            _ => Err(ApiError::bad_parameter(format!(
                "f='{f}' is not an output format of this query; use {}",
                OUTPUT_FORMATS.join(", ")
            ))),
        };
    }
    for m in accepted(accept) {
        match m.as_str() {
            "text/csv" => return Ok(EdrFormat::Csv),
            "application/geo+json" => return Ok(EdrFormat::GeoJson),
            covjson::MEDIA_TYPE | covjson::MEDIA_TYPE_OLD | "application/json" => {
                return Ok(EdrFormat::CovJson)
            }
            _ => {}
        }
    }
    Ok(EdrFormat::CovJson)
}

fn check_crs(p: &Params) -> Result<(), ApiError> {
    match p.get("crs").map(str::trim) {
        None => Ok(()),
        Some(c)
            if c.eq_ignore_ascii_case("CRS84")
                || c.eq_ignore_ascii_case("OGC:CRS84")
                || c == covjson::CRS84
                || c == "https://www.opengis.net/def/crs/OGC/1.3/CRS84"
                || c == "[OGC:CRS84]" =>
        {
            Ok(())
        }
        Some(c) => Err(ApiError::bad_parameter(format!(
            "crs '{c}' is not supported; coordinates are longitude/latitude in CRS84 ({})",
            covjson::CRS84
        ))),
    }
}

/// The gridded variables of a dataset.
fn gridded(cube: &Cube) -> Vec<&VarView> {
    cube.variables().filter(|v| v.grid.is_some()).collect()
}

fn gridded_names(cube: &Cube) -> String {
    gridded(cube)
        .iter()
        .map(|v| v.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The variables named by `parameter-name` (all gridded ones by default).
fn parameters<'a>(cube: &'a Cube, p: &Params) -> Result<Vec<&'a VarView>, ApiError> {
    let Some(list) = p.get("parameter-name") else {
        let all = gridded(cube);
        if all.is_empty() {
            return Err(ApiError::bad_parameter(format!(
                "{} has no variable on a longitude/latitude or projected grid to query",
                cube.id
            )));
        }
        return Ok(all);
    };
    let mut out: Vec<&VarView> = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let v = cube
            .variable(name)
            .ok()
            .filter(|v| v.grid.is_some())
            .ok_or_else(|| {
                ApiError::bad_parameter(format!(
                    "parameter-name '{name}' is not a gridded variable of {}; valid: {}",
                    cube.id,
                    gridded_names(cube)
                ))
            })?;
        if !out.iter().any(|o| std::ptr::eq(*o, v)) {
            out.push(v);
        }
    }
    if out.is_empty() {
        return Err(ApiError::bad_parameter(format!(
            "parameter-name is empty; valid: {}",
            gridded_names(cube)
        )));
    }
    Ok(out)
}

/// The time steps, levels and fixed indices a query reads of one variable.
struct Plan<'a> {
    v: &'a VarView,
    grid: &'a HGrid,
    yd: usize,
    xd: usize,
    /// Time dimension and index range.
    t: Option<(usize, u64, u64)>,
    /// Vertical dimension and level indices.
    z: Option<(usize, Vec<u64>)>,
    /// Every dimension's index (fixed dimensions; the others are replaced).
    base: Vec<u64>,
}

impl Plan<'_> {
    fn nt(&self) -> usize {
        self.t.map_or(1, |(_, lo, hi)| (hi - lo) as usize)
    }

    fn nz(&self) -> usize {
        self.z.as_ref().map_or(1, |(_, i)| i.len())
    }

    /// Variables with the same dimensions share a domain.
    fn key(&self) -> (Vec<String>, Vec<u64>) {
        (self.v.var.dims.clone(), self.v.var.shape.clone())
    }
}

/// Level indices of a `z` value: one level, `a/b` (the levels inside),
/// `a,b,c` (each), or `R{n}/{first}/{step}` (n levels from first).
fn z_indices(labels: &Labels, z: &str) -> Result<Vec<u64>, String> {
    let find = |s: &str| -> Result<u64, String> {
        labels.find(s.trim(), SelMethod::Exact).map(|i| i as u64)
    };
    let z = z.trim();
    let mut out: Vec<u64> = Vec::new();
    if let Some(rest) = z.strip_prefix('R').or_else(|| z.strip_prefix('r')) {
        let parts: Vec<&str> = rest.split('/').collect();
        let [n, first, step] = parts[..] else {
            return Err(format!("'{z}' is not R{{count}}/{{first}}/{{step}}"));
        };
        let n: usize = n
            .trim()
            .parse()
            .map_err(|_| format!("'{n}' in '{z}' is not a count"))?;
        let first: f64 = first
            .trim()
            .parse()
            .map_err(|_| format!("'{first}' in '{z}' is not a number"))?;
        let step: f64 = step
            .trim()
            .parse()
            .map_err(|_| format!("'{step}' in '{z}' is not a number"))?;
        for k in 0..n.min(100_000) {
            out.push(find(&format!("{}", first + step * k as f64))?);
        }
    } else if let Some((a, b)) = z.split_once('/') {
        let num = |s: &str| -> Result<f64, String> {
            let s = s.trim();
            if s.is_empty() || s == ".." {
                return Ok(f64::NAN);
            }
            s.parse().map_err(|_| format!("'{s}' is not a number"))
        };
        let (a, b) = (num(a)?, num(b)?);
        let (lo, hi) = match (a.is_nan(), b.is_nan()) {
            (false, false) => (a.min(b), a.max(b)),
            (true, false) => (f64::NEG_INFINITY, b),
            (false, true) => (a, f64::INFINITY),
            (true, true) => (f64::NEG_INFINITY, f64::INFINITY),
        };
        for i in 0..labels.len() {
            let l = labels.label(i).as_f64().unwrap_or(i as f64);
            if l >= lo && l <= hi {
                out.push(i as u64);
            }
        }
        if out.is_empty() {
            return Err(format!("no level within {z}; {}", labels.describe()));
        }
    } else {
        for s in z.split(',').filter(|s| !s.trim().is_empty()) {
            out.push(find(s)?);
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|i| seen.insert(*i));
    if out.is_empty() {
        return Err(format!("'{z}' names no level; {}", labels.describe()));
    }
    Ok(out)
}

/// The selections of other dimensions: `sel` items and `dim=value` query
/// parameters naming a dimension of one of `vars`.
fn extra_sels(p: &Params, vars: &[&VarView]) -> Result<Vec<DimSel>, ApiError> {
    let mut out = p.sels()?;
    for s in &out {
        if !vars.iter().any(|v| v.var.dims.contains(&s.dim)) {
            let mut dims: Vec<&str> = vars
                .iter()
                .flat_map(|v| v.other_dims().into_iter().map(|d| v.var.dims[d].as_str()))
                .collect();
            dims.sort_unstable();
            dims.dedup();
            return Err(ApiError::bad_parameter(format!(
                "sel {}: no parameter asked for has a dimension '{}'; their other dimensions are {}",
                s.dim,
                s.dim,
                if dims.is_empty() { "none".to_string() } else { dims.join(", ") }
            )));
        }
    }
    for (k, val) in &p.0 {
        if EDR_KEYS.contains(&k.as_str()) || val.trim().is_empty() {
            continue;
        }
        if vars
            .iter()
            .any(|v| v.other_dims().iter().any(|&d| &v.var.dims[d] == k))
        {
            out.push(DimSel::parse(&format!("{k}={val}")).map_err(ApiError::bad_parameter)?);
        }
    }
    Ok(out)
}

fn plan<'a>(
    cube: &Cube,
    v: &'a VarView,
    datetime: Option<&str>,
    z: Option<&str>,
    sels: &[DimSel],
) -> Result<Plan<'a>, ApiError> {
    let (grid, yd, xd) = v.require_grid(&cube.id).map_err(cube_error)?;
    let others = v.other_dims();
    let tdim = others.iter().copied().find(|&d| v.labels[d].is_time());
    let zdim = others
        .iter()
        .copied()
        .find(|&d| Some(d) != tdim && is_vertical(cube, v, d));
    let mut rest = Vec::new();
    let (mut t_sel, mut z_sel) = (None, None);
    for s in sels {
        match v.var.dims.iter().position(|x| x == &s.dim) {
            Some(d) if Some(d) == tdim => t_sel = Some(s),
            Some(d) if Some(d) == zdim => z_sel = Some(s),
            Some(_) => rest.push(s.clone()),
            None => {}
        }
    }
    let free: Vec<usize> = tdim.into_iter().chain(zdim).collect();
    let (base, _) = cube.resolve_sel(v, &rest, &free).map_err(cube_error)?;
    let pick = |d: usize, s: &DimSel| -> Result<u64, ApiError> {
        v.labels[d]
            .find(&s.value, s.method)
            .map(|i| i as u64)
            .map_err(|m| ApiError::bad_parameter(format!("{}: {}: {m}", cube.id, s.dim)))
    };
    let t = match tdim {
        None => {
            if let Some(dt) = datetime {
                return Err(ApiError::bad_parameter(format!(
                    "datetime '{dt}': variable '{}' of {} has no time dimension; leave datetime out",
                    v.name, cube.id
                )));
            }
            None
        }
        Some(d) => {
            let (lo, hi) = if let Some(s) = t_sel {
                let i = pick(d, s)?;
                (i, i + 1)
            } else if let Some(dt) = datetime {
                v.labels[d]
                    .range(dt.trim())
                    .map(|(a, b)| (a as u64, b as u64))
                    .map_err(|m| {
                        ApiError::bad_parameter(format!(
                            "datetime '{dt}' on {} of '{}': {m}; give an instant or an interval such as 2020-01-01/2020-02-01 (.. for an open end)",
                            v.var.dims[d], v.name
                        ))
                    })?
            } else {
                (0, v.var.shape[d])
            };
            Some((d, lo, hi))
        }
    };
    let zq = match zdim {
        None => {
            if let Some(zv) = z {
                return Err(ApiError::bad_parameter(format!(
                    "z '{zv}': variable '{}' of {} has no vertical dimension; leave z out",
                    v.name, cube.id
                )));
            }
            None
        }
        Some(d) => {
            let idx = if let Some(s) = z_sel {
                vec![pick(d, s)?]
            } else if let Some(zv) = z {
                z_indices(&v.labels[d], zv).map_err(|m| {
                    ApiError::bad_parameter(format!(
                        "z '{zv}' on {} of '{}': {m}",
                        v.var.dims[d], v.name
                    ))
                })?
            } else {
                (0..v.var.shape[d]).collect()
            };
            Some((d, idx))
        }
    };
    Ok(Plan {
        v,
        grid,
        yd,
        xd,
        t,
        z: zq,
        base,
    })
}

/// The values of `plan`'s variable over `rows` × `cols`, in `t, z, y, x`
/// order.
fn read_block(
    cube: &Cube,
    pl: &Plan<'_>,
    rows: (u64, u64),
    cols: (u64, u64),
) -> Result<Vec<f64>, ApiError> {
    let v = pl.v;
    let mut ranges: Vec<(u64, u64)> = pl.base.iter().map(|&i| (i, i + 1)).collect();
    ranges[pl.yd] = rows;
    ranges[pl.xd] = cols;
    if let Some((d, lo, hi)) = pl.t {
        ranges[d] = (lo, hi);
    }
    let mut zoff: Vec<u64> = vec![0];
    if let Some((d, idx)) = &pl.z {
        let lo = idx.iter().copied().min().unwrap_or(0);
        let hi = idx.iter().copied().max().unwrap_or(0) + 1;
        ranges[*d] = (lo, hi);
        zoff = idx.iter().map(|i| i - lo).collect();
    }
    let block = cube.read(v, &ranges).map_err(cube_error)?;
    let shape: Vec<usize> = ranges.iter().map(|(a, b)| (b - a) as usize).collect();
    let nd = shape.len();
    let mut strides = vec![1usize; nd];
    for d in (0..nd.saturating_sub(1)).rev() {
        strides[d] = strides[d + 1] * shape[d + 1];
    }
    let (ny, nx) = (shape[pl.yd], shape[pl.xd]);
    let mut out = Vec::with_capacity(pl.nt() * zoff.len() * ny * nx);
    for t in 0..pl.nt() {
        let toff = pl.t.map_or(0, |(d, _, _)| t * strides[d]);
        for &z in &zoff {
            let zo = pl.z.as_ref().map_or(0, |(d, _)| z as usize * strides[*d]);
            for y in 0..ny {
                for x in 0..nx {
                    let off = toff + zo + y * strides[pl.yd] + x * strides[pl.xd];
                    out.push(block.get(off).copied().unwrap_or(f64::NAN));
                }
            }
        }
    }
    Ok(out)
}

/// One coverage being built: its domain, ranges, and where each `(y, x)`
/// cell is (longitude/latitude; `None` outside the area) for CSV and GeoJSON.
struct Cov {
    domain: Domain,
    ranges: Vec<Range>,
    cells: Vec<Option<(f64, f64)>>,
}

fn t_axis(pl: &Plan<'_>) -> Option<TimeAxis> {
    pl.t.map(|(d, lo, hi)| TimeAxis {
        values: (lo..hi).map(|i| pl.v.labels[d].text(i as usize)).collect(),
        calendar: calendar(&pl.v.labels[d]),
    })
}

fn z_axis(cube: &Cube, pl: &Plan<'_>) -> Option<VerticalAxis> {
    pl.z.as_ref()
        .map(|(d, idx)| vertical_axis(cube, pl.v, *d, idx))
}

/// The values at one point of every plan of a group (same dimensions).
fn point_cov(
    cube: &Cube,
    group: &[Plan<'_>],
    lon: f64,
    lat: f64,
    method: PointMethod,
) -> Result<Cov, ApiError> {
    let first = &group[0];
    let grid = first.grid;
    let mut ranges = Vec::with_capacity(group.len());
    let (x, y);
    match method {
        PointMethod::Nearest => {
            let (r, c) = grid
                .nearest(lon, lat)
                .ok_or_else(|| outside(cube, grid, lon, lat))?;
            let (cl, ct) = grid
                .cell_lonlat(r as usize, c as usize)
                .unwrap_or((lon, lat));
            (x, y) = (near_lon(cl, lon), ct);
            for pl in group {
                ranges.push(Range {
                    key: pl.v.name.clone(),
                    parameter: parameter_of(pl.v),
                    values: read_block(cube, pl, (r, r + 1), (c, c + 1))?,
                });
            }
        }
        PointMethod::Bilinear => {
            // As arco_cube::series::point: the four centres around the point.
            let b = arco_cube::series::Bilinear::at(grid, lon, lat)
                .ok_or_else(|| outside(cube, grid, lon, lat))?;
            let (rows, cols) = (b.rows, b.cols);
            let (ny, nx) = ((rows.1 - rows.0) as usize, (cols.1 - cols.0) as usize);
            (x, y) = (lon, lat);
            for pl in group {
                let block = read_block(cube, pl, rows, cols)?;
                let per = ny * nx;
                let values = block
                    .chunks(per.max(1))
                    .map(|c| b.blend(|yy, xx| c.get(yy * nx + xx).copied().unwrap_or(f64::NAN)))
                    .collect();
                let mut parameter = parameter_of(pl.v);
                parameter.integer = false;
                ranges.push(Range {
                    key: pl.v.name.clone(),
                    parameter,
                    values,
                });
            }
        }
    }
    let t = t_axis(first);
    let z = z_axis(cube, first);
    let (nt, nz) = (first.nt(), first.nz());
    let domain_type = match (&t, &z) {
        (_, Some(_)) if nz > 1 && nt > 1 => DomainType::Grid,
        (_, Some(_)) if nz > 1 => DomainType::VerticalProfile,
        (Some(_), _) => DomainType::PointSeries,
        (None, _) => DomainType::Point,
    };
    Ok(Cov {
        domain: Domain {
            domain_type: Some(domain_type),
            x: vec![x],
            y: vec![y],
            z,
            t,
            polygon: None,
            custom: None,
            crs: HorizontalCrs::Crs84,
        },
        ranges,
        cells: vec![Some((x, y))],
    })
}

/// The cells of every plan of a group inside `geom`, as a grid.
fn area_cov(cube: &Cube, group: &[Plan<'_>], geom: &Geometry) -> Result<Cov, ApiError> {
    let first = &group[0];
    let grid = first.grid;
    let (rows, cols, mask) = series::cells_in(grid, geom);
    if !mask.iter().any(|m| *m) {
        let b = grid.bounds;
        return Err(ApiError::bad_parameter(format!(
            "{}: no cell centre of '{}' lies inside the area (grid: longitudes {} to {}, latitudes {} to {}); give a larger area, or use /position for a point",
            cube.id, first.v.name, b[0], b[2], b[1], b[3]
        )));
    }
    let mut ranges = Vec::with_capacity(group.len());
    let per = mask.len();
    for pl in group {
        let mut values = read_block(cube, pl, rows, cols)?;
        for (i, val) in values.iter_mut().enumerate() {
            if !mask[i % per] {
                *val = f64::NAN;
            }
        }
        ranges.push(Range {
            key: pl.v.name.clone(),
            parameter: parameter_of(pl.v),
            values,
        });
    }
    let xs: Vec<f64> = (cols.0..cols.1)
        .map(|c| grid.x.values[c as usize])
        .collect();
    let ys: Vec<f64> = (rows.0..rows.1)
        .map(|r| grid.y.values[r as usize])
        .collect();
    let mut cells = Vec::with_capacity(per);
    let mut i = 0;
    for r in rows.0..rows.1 {
        for c in cols.0..cols.1 {
            cells.push(if mask[i] {
                grid.cell_lonlat(r as usize, c as usize)
            } else {
                None
            });
            i += 1;
        }
    }
    Ok(Cov {
        domain: Domain {
            domain_type: Some(DomainType::Grid),
            x: xs,
            y: ys,
            z: z_axis(cube, first),
            t: t_axis(first),
            polygon: None,
            custom: None,
            crs: grid_crs(grid),
        },
        ranges,
        cells,
    })
}

/// Parse an EDR `bbox`: `w,s,e,n`, or `w,s,zmin,e,n,zmax` (the levels
/// between zmin and zmax).
fn cube_bbox(b: &str) -> Result<(Geometry, Option<String>), ApiError> {
    let parts: Vec<&str> = b.split(',').map(str::trim).collect();
    if parts.len() == 6 {
        let g = Geometry::from_bbox(&format!(
            "{},{},{},{}",
            parts[0], parts[1], parts[3], parts[4]
        ))
        .map_err(cube_error)?;
        for z in [parts[2], parts[5]] {
            if z.parse::<f64>().is_err() {
                return Err(ApiError::bad_parameter(format!(
                    "bbox '{b}': '{z}' is not a number"
                )));
            }
        }
        return Ok((g, Some(format!("{}/{}", parts[2], parts[5]))));
    }
    Ok((Geometry::from_bbox(b).map_err(cube_error)?, None))
}

/// An EDR query on `cube`: `/position`, `/area` or `/cube`.
pub fn query(
    cube: &Cube,
    kind: QueryKind,
    p: &Params,
    accept: Option<&str>,
) -> Result<Document, ApiError> {
    let format = edr_format(p, accept)?;
    check_crs(p)?;
    let mut z = p.get("z").map(str::to_string);
    let geom = match kind {
        QueryKind::Position | QueryKind::Area => {
            let coords = p.get("coords").ok_or_else(|| {
                ApiError::bad_parameter(match kind {
                    QueryKind::Position => {
                        "coords is required: a WKT POINT(lon lat) or MULTIPOINT((lon lat), ...)"
                    }
                    _ => "coords is required: a WKT POLYGON((lon lat, ...)) or MULTIPOLYGON(...)",
                })
            })?;
            let g = Geometry::from_wkt(coords).map_err(cube_error)?;
            match (kind, &g) {
                (QueryKind::Position, Geometry::Point(..) | Geometry::MultiPoint(_)) => g,
                (QueryKind::Area, Geometry::Polygons(_)) => g,
                (QueryKind::Position, _) => {
                    return Err(ApiError::bad_parameter(format!(
                        "coords '{coords}': a position query takes POINT or MULTIPOINT; use /area for polygons"
                    )))
                }
                _ => {
                    return Err(ApiError::bad_parameter(format!(
                        "coords '{coords}': an area query takes POLYGON or MULTIPOLYGON; use /position for points"
                    )))
                }
            }
        }
        QueryKind::Cube => {
            let b = p.get("bbox").ok_or_else(|| {
                ApiError::bad_parameter(
                    "bbox is required: west,south,east,north in degrees (CRS84)",
                )
            })?;
            let (g, zr) = cube_bbox(b)?;
            if z.is_none() {
                z = zr;
            }
            g
        }
    };
    let method = match kind {
        QueryKind::Position => {
            PointMethod::parse(p.get("method").unwrap_or("nearest")).map_err(cube_error)?
        }
        _ => PointMethod::Nearest,
    };
    let vars = parameters(cube, p)?;
    let sels = extra_sels(p, &vars)?;
    let datetime = p.get("datetime");
    let plans = vars
        .iter()
        .map(|v| plan(cube, v, datetime, z.as_deref(), &sels))
        .collect::<Result<Vec<_>, _>>()?;
    // Variables of the same dimensions share one domain.
    let mut groups: Vec<Vec<Plan<'_>>> = Vec::new();
    for pl in plans {
        match groups.iter_mut().find(|g| g[0].key() == pl.key()) {
            Some(g) => g.push(pl),
            None => groups.push(vec![pl]),
        }
    }
    let points: Vec<(f64, f64)> = match &geom {
        Geometry::Point(x, y) => vec![(*x, *y)],
        Geometry::MultiPoint(p) => p.clone(),
        _ => vec![],
    };
    // The size guard, before reading anything.
    let mut total: u64 = 0;
    for g in &groups {
        let per_cell = (g[0].nt() * g[0].nz() * g.len()) as u64;
        let cells = if points.is_empty() {
            let (rows, cols) = series::window(g[0].grid, &geom);
            (rows.1 - rows.0) * (cols.1 - cols.0)
        } else {
            points.len() as u64
        };
        total = total.saturating_add(per_cell.saturating_mul(cells));
    }
    if total > MAX_READ_VALUES {
        return Err(too_large(format!(
            "{}: this query would return {total} values, more than the {MAX_READ_VALUES} a response may hold; narrow it with a smaller {}, a shorter datetime interval, fewer parameter-name, or one z level",
            cube.id,
            match kind {
                QueryKind::Position => "MULTIPOINT",
                QueryKind::Area => "polygon",
                QueryKind::Cube => "bbox",
            }
        )));
    }
    let mut covs = Vec::new();
    if points.is_empty() {
        for g in &groups {
            covs.push(area_cov(cube, g, &geom)?);
        }
    } else {
        for &(lon, lat) in &points {
            for g in &groups {
                covs.push(point_cov(cube, g, lon, lat, method)?);
            }
        }
    }
    let multi = matches!(geom, Geometry::MultiPoint(_));
    match format {
        EdrFormat::CovJson => {
            let mut docs: Vec<Value> = covs
                .iter()
                .map(|c| covjson::coverage(&c.domain, &c.ranges))
                .collect();
            let v = if docs.len() == 1 && !multi {
                docs.pop().unwrap_or(Value::Null)
            } else {
                covjson::collection(docs)
            };
            json_doc(covjson::MEDIA_TYPE, &v)
        }
        EdrFormat::Csv => Ok(document(CSV, edr_csv(&covs)?.into_bytes())),
        EdrFormat::GeoJson => json_doc(GEOJSON, &edr_geojson(&covs)?),
    }
}

/// One row of CSV or GeoJSON: a cell at one step and level.
struct Row<'a> {
    lonlat: (f64, f64),
    t: Option<&'a str>,
    z: Option<f64>,
    values: Vec<(&'a str, f64)>,
}

fn rows(covs: &[Cov]) -> Result<Vec<Row<'_>>, ApiError> {
    let n: usize = covs
        .iter()
        .map(|c| {
            c.cells.iter().filter(|x| x.is_some()).count()
                * c.domain.t.as_ref().map_or(1, |t| t.values.len())
                * c.domain.z.as_ref().map_or(1, |z| z.values.len())
        })
        .sum();
    if n > MAX_ROWS {
        return Err(too_large(format!(
            "this answer would have {n} rows, more than the {MAX_ROWS} a CSV or GeoJSON answer may hold; use f=CoverageJSON or narrow the query"
        )));
    }
    let mut out = Vec::with_capacity(n);
    for c in covs {
        let nt = c.domain.t.as_ref().map_or(1, |t| t.values.len());
        let nz = c.domain.z.as_ref().map_or(1, |z| z.values.len());
        let ncell = c.cells.len();
        for ti in 0..nt {
            for zi in 0..nz {
                for (ci, cell) in c.cells.iter().enumerate() {
                    let Some(lonlat) = *cell else { continue };
                    let off = (ti * nz + zi) * ncell + ci;
                    out.push(Row {
                        lonlat,
                        t: c.domain
                            .t
                            .as_ref()
                            .and_then(|t| t.values.get(ti))
                            .map(String::as_str),
                        z: c.domain.z.as_ref().and_then(|z| z.values.get(zi)).copied(),
                        values: c
                            .ranges
                            .iter()
                            .map(|r| {
                                (
                                    r.key.as_str(),
                                    r.values.get(off).copied().unwrap_or(f64::NAN),
                                )
                            })
                            .collect(),
                    });
                }
            }
        }
    }
    Ok(out)
}

fn edr_csv(covs: &[Cov]) -> Result<String, ApiError> {
    let mut names: Vec<&str> = Vec::new();
    for c in covs {
        for r in &c.ranges {
            if !names.contains(&r.key.as_str()) {
                names.push(&r.key);
            }
        }
    }
    let has_z = covs.iter().any(|c| c.domain.z.is_some());
    let has_t = covs.iter().any(|c| c.domain.t.is_some());
    let mut out = String::from("longitude,latitude");
    if has_z {
        out.push_str(",z");
    }
    if has_t {
        out.push_str(",datetime");
    }
    for n in &names {
        out.push(',');
        out.push_str(&csv_field(n));
    }
    out.push('\n');
    for r in rows(covs)? {
        let _ = write!(out, "{},{}", r.lonlat.0, r.lonlat.1);
        if has_z {
            let _ = write!(out, ",{}", r.z.map(csv_num).unwrap_or_default());
        }
        if has_t {
            let _ = write!(out, ",{}", r.t.map(csv_field).unwrap_or_default());
        }
        for n in &names {
            let v = r
                .values
                .iter()
                .find(|(k, _)| k == n)
                .map_or(f64::NAN, |(_, v)| *v);
            let _ = write!(out, ",{}", csv_num(v));
        }
        out.push('\n');
    }
    Ok(out)
}

fn edr_geojson(covs: &[Cov]) -> Result<Value, ApiError> {
    let features: Vec<Value> = rows(covs)?
        .into_iter()
        .map(|r| {
            let mut props = Map::new();
            if let Some(t) = r.t {
                props.insert("datetime".into(), json!(t));
            }
            if let Some(z) = r.z {
                props.insert("z".into(), json!(z));
            }
            for (k, v) in r.values {
                props.insert(k.to_string(), num(v));
            }
            json!({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [r.lonlat.0, r.lonlat.1]},
                "properties": props,
            })
        })
        .collect();
    Ok(json!({"type": "FeatureCollection", "features": features}))
}

// ---------------------------------------------------------------------------
// Collection metadata

/// What an EDR collection document carries for `cube`, to merge into its
/// STAC collection at `/collections/{id}`: `data_queries` (position, area,
/// cube: link templates, output formats, CRS), `parameter_names` (each
/// gridded variable), `output_formats` and `crs`.
pub fn edr_collection_fields(cube: &Cube, base_url: &str) -> Map<String, Value> {
    let base = base_url.trim_end_matches('/');
    let id = enc(&cube.id);
    let crs_details = json!([{ "crs": "CRS84", "wkt": CRS84_WKT }]);
    let query =
        |name: &str, template: &str, title: &str, description: &str, coords: Option<&str>| {
            let mut vars = Map::new();
            vars.insert("title".into(), json!(title));
            vars.insert("description".into(), json!(description));
            vars.insert("query_type".into(), json!(name));
            if let Some(c) = coords {
                vars.insert("coords".into(), json!({ "description": c }));
            }
            vars.insert("output_formats".into(), json!(OUTPUT_FORMATS));
            vars.insert("default_output_format".into(), json!("CoverageJSON"));
            vars.insert("crs_details".into(), crs_details.clone());
            json!({
                "link": {
                    "href": format!("{base}/collections/{id}/{name}?{template}"),
                    "rel": "data",
                    "templated": true,
                    "type": covjson::MEDIA_TYPE,
                    "title": title,
                    "variables": Value::Object(vars),
                }
            })
        };
    let mut queries = Map::new();
    queries.insert(
        "position".into(),
        query(
            "position",
            "coords={coords}",
            "Position query",
            "The values at a point (nearest cell; method=bilinear interpolates), along time and levels",
            Some("Well Known Text POINT(lon lat) or MULTIPOINT((lon lat), ...)"),
        ),
    );
    queries.insert(
        "area".into(),
        query(
            "area",
            "coords={coords}",
            "Area query",
            "The grid cells whose centres lie inside a polygon (others null), along time and levels",
            Some("Well Known Text POLYGON((lon lat, ...)) or MULTIPOLYGON(...)"),
        ),
    );
    queries.insert(
        "cube".into(),
        query(
            "cube",
            "bbox={bbox}",
            "Cube query",
            "The grid cells whose centres lie inside a longitude/latitude box, along time and levels",
            None,
        ),
    );
    let mut names = Map::new();
    for v in gridded(cube) {
        let mut p = Map::new();
        p.insert("type".into(), json!("Parameter"));
        p.insert("id".into(), json!(v.name));
        p.insert("description".into(), json!(v.title()));
        p.insert("label".into(), json!(v.title()));
        p.insert(
            "data-type".into(),
            json!(if is_integer(v) { "integer" } else { "float" }),
        );
        if let Some(u) = v.units() {
            p.insert("unit".into(), json!({ "symbol": u }));
        }
        let mut op = Map::new();
        if let Some(s) = v.text("standard_name") {
            op.insert(
                "id".into(),
                json!(format!("{}{s}/", covjson::CF_STANDARD_NAMES)),
            );
        }
        op.insert(
            "label".into(),
            json!(v.text("standard_name").unwrap_or(v.title())),
        );
        p.insert("observedProperty".into(), Value::Object(op));
        names.insert(v.name.clone(), Value::Object(p));
    }
    let mut out = Map::new();
    out.insert("data_queries".into(), Value::Object(queries));
    out.insert("parameter_names".into(), Value::Object(names));
    out.insert("output_formats".into(), json!(OUTPUT_FORMATS));
    out.insert("crs".into(), json!([covjson::CRS84]));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn z_values_lists_intervals_and_recurrences_pick_levels() {
        let l = Labels::Numeric(vec![1000.0, 850.0, 500.0, 250.0]);
        assert_eq!(z_indices(&l, "850"), Ok(vec![1]));
        assert_eq!(z_indices(&l, "500,1000"), Ok(vec![2, 0]));
        assert_eq!(z_indices(&l, "900/400"), Ok(vec![1, 2]));
        assert_eq!(z_indices(&l, "../600"), Ok(vec![2, 3]));
        assert_eq!(z_indices(&l, "R2/850/-350"), Ok(vec![1, 2]));
        assert!(z_indices(&l, "700").unwrap_err().contains("nearest::"));
        assert!(z_indices(&l, "1/2").is_err());
    }

    #[test]
    fn formats_come_from_f_then_accept() {
        let p = Params::parse(Some("f=CSV"));
        assert_eq!(edr_format(&p, Some(GEOJSON)).unwrap(), EdrFormat::Csv);
        let p = Params::default();
        assert_eq!(
            edr_format(&p, Some("application/prs.coverage+json")).unwrap(),
            EdrFormat::CovJson
        );
        assert_eq!(
            edr_format(&p, Some("text/html, application/geo+json;q=0.9")).unwrap(),
            EdrFormat::GeoJson
        );
        assert_eq!(ts_format(&p, Some("text/csv")).unwrap(), TsFormat::Csv);
        assert_eq!(ts_format(&p, None).unwrap(), TsFormat::Json);
        assert!(ts_format(&Params::parse(Some("f=xml")), None).is_err());
    }

    #[test]
    fn csv_fields_with_commas_are_quoted() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_num(f64::NAN), "");
        assert_eq!(csv_num(2.5), "2.5");
    }
}
