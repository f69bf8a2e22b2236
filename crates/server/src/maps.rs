//! Map tiles and what clients need around them, with titiler's parameter
//! names so its clients work unchanged:
//!
//! - `GET /datasets`: the datasets and their variables (what the viewer lists);
//! - `GET /collections/{id}/info?variable=V`: grid, bounds, zooms, dimension
//!   labels, a value range;
//! - `GET /collections/{id}/tiles/{tms}/{z}/{x}/{y}[.png|.webp|.npy]` with
//!   `variable`, `sel` (`dim=value`, `dim=method::value`), `rescale`,
//!   `colormap_name`, `colormap`, `nodata`, `resampling` (`nearest`,
//!   `bilinear`), `return_mask`, `tilesize`;
//! - `GET /collections/{id}/tiles/{tms}/tilejson.json`,
//!   `GET /collections/{id}/WMTSCapabilities.xml`;
//! - `GET /tileMatrixSets[/{id}]`, `GET /colorMaps[/{name}]`.
//!
//! A tile is computed from the pixel centres of the tile matrix set: each
//! centre is located on the variable's grid (longitudes wrapped to the
//! grid's range; projected grids through their CRS), and takes the value of
//! the cell holding it (`nearest`) or the bilinear blend of the four around
//! it. The grid level is chosen per zoom among the variable's multiscale
//! levels (pyramid groups, COG overviews): the coarsest whose cells are no
//! larger than a pixel. Tiles wholly outside the data are transparent.

use crate::data::{blocking, cube_error, Params};
use crate::error::ApiError;
use crate::routes::base_url;
use crate::AppState;
use arco_cube::{Cube, HGrid, VarView};
use arco_render::{
    colormap, encode, render, Colormap, DataType, ImageFormat, RenderOptions, TileJson,
    TileMatrixSet, WmtsCapabilities, WmtsDimension, WmtsLayer, WmtsResource, WmtsTmsLink,
    ZoomRange,
};
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use std::sync::Arc;

type St = State<Arc<AppState>>;

/// The routes of this module.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/datasets", get(datasets))
        .route("/collections/{id}/info", get(info))
        .route("/collections/{id}/tiles/{tms}/tilejson.json", get(tilejson))
        .route("/collections/{id}/tiles/{tms}/{z}/{x}/{y}", get(tile))
        .route("/collections/{id}/WMTSCapabilities.xml", get(wmts))
        .route("/tileMatrixSets", get(tile_matrix_sets))
        .route("/tileMatrixSets/{tms}", get(tile_matrix_set))
        .route("/colorMaps", get(color_maps))
        .route("/colorMaps/{name}", get(color_map))
        .route("/viewer", get(viewer_index))
        .route("/viewer/", get(viewer_index))
        .route("/viewer/{*path}", get(viewer_asset))
}

fn viewer_file(path: &str, headers: &HeaderMap) -> Response {
    match crate::viewer::asset(path) {
        Some(a) => {
            let etag = HeaderValue::from_static(a.etag);
            if headers
                .get(header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.split(',').any(|t| t.trim() == a.etag || t.trim() == "*"))
            {
                let mut r = Response::new(Body::empty());
                *r.status_mut() = StatusCode::NOT_MODIFIED;
                r.headers_mut().insert(header::ETAG, etag);
                return r;
            }
            let mut r = Response::new(Body::from(a.body));
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(a.media_type));
            r.headers_mut().insert(header::ETAG, etag);
            r
        }
        None => ApiError::not_found(format!("no viewer file {path}; the viewer is at /viewer"))
            .into_response(),
    }
}

async fn viewer_index(headers: HeaderMap) -> Response {
    viewer_file("/", &headers)
}

async fn viewer_asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    viewer_file(&format!("/{path}"), &headers)
}

fn bytes(body: Vec<u8>, media_type: &'static str) -> Response {
    let mut r = Response::new(Body::from(body));
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    r
}

fn json_response(v: &Value) -> Response {
    bytes(
        serde_json::to_vec(v).unwrap_or_default(),
        "application/json",
    )
}

fn done(r: Result<Response, ApiError>) -> Response {
    match r {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

/// What the viewer lists: every dataset and its variables.
async fn datasets(State(s): St, access: crate::auth::Access) -> Response {
    let list: Vec<Value> = s
        .data
        .cubes()
        .filter(|c| access.allows(&c.id))
        .map(|c| {
            let vars: Vec<Value> = c
                .variables()
                .map(|v| {
                    json!({
                        "name": v.name,
                        "long_name": v.title(),
                        "units": v.units(),
                        "dims": v.var.dims,
                        "shape": v.var.shape,
                        "map": v.grid.is_some(),
                    })
                })
                .collect();
            json!({"id": c.id, "title": c.title.clone().unwrap_or_else(|| c.id.clone()), "variables": vars})
        })
        .collect();
    json_response(&json!({ "datasets": list }))
}

/// The zoom range of a grid in `tms`: the native resolution's zoom and the
/// zoom at which the whole grid fits in about one tile.
pub fn zoom_range(tms: TileMatrixSet, grid: &HGrid) -> ZoomRange {
    let (rows, cols) = grid.shape();
    // The finest level's resolution in the set's units.
    let res_m = grid.resolution_m();
    let res = if tms.is_geographic() {
        res_m / arco_cube::cube::METRES_PER_DEGREE
    } else {
        res_m
    };
    tms.dataset_zoom_range(res, cols as u64, rows as u64)
        .unwrap_or(ZoomRange {
            min: tms.minzoom(),
            max: tms.maxzoom().min(18),
        })
}

async fn info(State(s): St, Path(id): Path<String>, RawQuery(q): RawQuery) -> Response {
    let p = Params::parse(q.as_deref());
    done(
        async {
            let cube = s.data.get(&id)?;
            blocking(move || {
                let v = p.variable(&cube)?;
                let dims: Vec<Value> = v
                    .other_dims()
                    .into_iter()
                    .map(|d| {
                        let coord = arco_core::cf::resolve(&v.var.dims[d], &v.var, cube.dataset());
                        let units = coord.and_then(|c| c.attr("units")).and_then(arco_core::AttrValue::as_str);
                        json!({
                            "name": v.var.dims[d],
                            "size": v.var.shape[d],
                            "kind": v.labels[d].kind(),
                            "values": v.labels[d].values(),
                            "units": units,
                        })
                    })
                    .collect();
                let mut out = json!({
                    "id": cube.id,
                    "variable": v.name,
                    "long_name": v.title(),
                    "standard_name": v.text("standard_name"),
                    "units": v.units(),
                    "dtype": v.var.dtype.name(),
                    "dims": v.var.dims,
                    "shape": v.var.shape,
                    "dimensions": dims,
                    "valid_range": cube.value_range(v),
                    "levels": v.levels.len() + 1,
                });
                match &v.grid {
                    Some(g) => {
                        let z = zoom_range(TileMatrixSet::WebMercatorQuad, g);
                        out["bounds"] = json!(g.bounds);
                        out["minzoom"] = json!(z.min);
                        out["maxzoom"] = json!(z.max);
                        out["crs"] = match &g.crs {
                            None => json!("EPSG:4326"),
                            Some(c) => c
                                .epsg()
                                .map(|e| json!(format!("EPSG:{e}")))
                                .or_else(|| c.wkt2().map(Value::String))
                                .unwrap_or(Value::Null),
                        };
                        out["grid"] = json!({"rows": g.shape().0, "columns": g.shape().1, "resolution_m": g.resolution_m()});
                    }
                    None => {
                        out["map"] = json!(false);
                        out["why_no_map"] = json!(v.no_grid);
                    }
                }
                Ok(json_response(&out))
            })
            .await
        }
        .await,
    )
}

/// Parsed render parameters.
struct Style {
    rescale: Option<(f64, f64)>,
    colormap: Option<Colormap>,
    nodata: Option<f64>,
    return_mask: bool,
    bilinear: bool,
    size: usize,
}

fn style(p: &Params) -> Result<Style, ApiError> {
    let rescale = match p.get("rescale") {
        None => None,
        Some(r) => {
            let parts: Vec<f64> = r
                .split(',')
                .map(|x| x.trim().parse::<f64>())
                .collect::<Result<_, _>>()
                .map_err(|_| ApiError::bad_parameter(format!("rescale='{r}' is not min,max")))?;
            match parts[..] {
                [a, b] if a.is_finite() && b.is_finite() => Some((a, b)),
                _ => {
                    return Err(ApiError::bad_parameter(format!(
                        "rescale='{r}' is not min,max"
                    )))
                }
            }
        }
    };
    let colormap = Colormap::from_params(p.get("colormap_name"), p.get("colormap"))
        .map_err(|e| ApiError::bad_parameter(e.to_string()))?;
    let nodata = match p.get("nodata") {
        None => None,
        Some(n) if n.eq_ignore_ascii_case("nan") => Some(f64::NAN),
        Some(n) => Some(n.parse::<f64>().map_err(|_| {
            ApiError::bad_parameter(format!("nodata='{n}' is not a number or nan"))
        })?),
    };
    let return_mask = match p.get("return_mask") {
        None => true,
        Some("true" | "1" | "True") => true,
        Some("false" | "0" | "False") => false,
        Some(o) => {
            return Err(ApiError::bad_parameter(format!(
                "return_mask='{o}' is not true or false"
            )))
        }
    };
    let bilinear = match p.get("resampling") {
        None | Some("nearest") => false,
        Some("bilinear") => true,
        Some(o) => {
            return Err(ApiError::bad_parameter(format!(
                "resampling='{o}' is not supported; use nearest or bilinear"
            )))
        }
    };
    let size = match p.get("tilesize") {
        None => 256,
        Some(t) => match t.parse::<usize>() {
            Ok(n @ (64 | 128 | 256 | 512 | 1024)) => n,
            _ => {
                return Err(ApiError::bad_parameter(format!(
                    "tilesize='{t}' must be 256 or 512 (or 64, 128, 1024)"
                )))
            }
        },
    };
    Ok(Style {
        rescale,
        colormap,
        nodata,
        return_mask,
        bilinear,
        size,
    })
}

fn render_dtype(v: &VarView) -> DataType {
    use arco_core::DType as D;
    match v.decoded_dtype() {
        D::U8 | D::Bool => DataType::U8,
        D::I8 => DataType::I8,
        D::U16 => DataType::U16,
        D::I16 => DataType::I16,
        D::U32 => DataType::U32,
        D::I32 => DataType::I32,
        D::U64 => DataType::U64,
        D::I64 => DataType::I64,
        D::F32 => DataType::F32,
        _ => DataType::F64,
    }
}

fn tms_of(id: &str) -> Result<TileMatrixSet, ApiError> {
    TileMatrixSet::from_id(id).map_err(|e| ApiError::not_found(e.to_string()))
}

/// The values of a tile: one per pixel, row-major, NaN outside the data.
/// Computed in bands of rows so that the per-pixel buffers stay small
/// (a 512² bilinear tile would otherwise hold a million cell indices).
pub fn tile_values(
    cube: &Cube,
    v: &VarView,
    base: &[u64],
    lon: &[f64],
    lat: &[f64],
    bilinear: bool,
) -> Result<Vec<f64>, ApiError> {
    const BAND: usize = 64;
    let (grid, _, _) = v.require_grid(&cube.id).map_err(cube_error)?;
    let mut out = Vec::with_capacity(lon.len() * lat.len());
    // Longitudes locate columns once for every row of a geographic grid.
    let cols: Option<Vec<Option<f64>>> = grid.is_geographic().then(|| {
        lon.iter()
            .map(|&x| grid.x.position(grid.wrap_lon(x)))
            .collect()
    });
    for rows in lat.chunks(BAND) {
        let positions: Vec<Option<(f64, f64)>> = match &cols {
            Some(cols) => rows
                .iter()
                .flat_map(|&y| {
                    let r = grid.y.position(y);
                    cols.iter().map(move |c| r.zip(*c))
                })
                .collect(),
            None => rows
                .iter()
                .flat_map(|&y| lon.iter().map(move |&x| grid.locate(x, y)))
                .collect(),
        };
        out.extend(band_values(cube, v, grid, base, &positions, bilinear)?);
    }
    Ok(out)
}

/// The values at fractional grid positions (nearest cell, or bilinear
/// blend of the four centres around; missing neighbours left out, the
/// nearest edge value at the outer half cells).
fn band_values(
    cube: &Cube,
    v: &VarView,
    grid: &HGrid,
    base: &[u64],
    positions: &[Option<(f64, f64)>],
    bilinear: bool,
) -> Result<Vec<f64>, ApiError> {
    let (nr, nc) = grid.shape();
    let clamp = |p: f64, n: usize| (p.round().max(0.0) as u64).min(n as u64 - 1);
    if !bilinear {
        let cells: Vec<Option<(u64, u64)>> = positions
            .iter()
            .map(|p| p.map(|(r, c)| (clamp(r, nr), clamp(c, nc))))
            .collect();
        return cube.sample(v, base, &cells).map_err(cube_error);
    }
    let corner = |p: f64, n: usize| -> (u64, u64, f64) {
        let p = p.clamp(0.0, (n - 1) as f64);
        let i0 = (p.floor() as u64).min(n.saturating_sub(2) as u64);
        let i1 = (i0 + 1).min(n as u64 - 1);
        (i0, i1, p - i0 as f64)
    };
    let mut cells = Vec::with_capacity(positions.len() * 4);
    for p in positions {
        match p {
            Some((r, c)) => {
                let (r0, r1, _) = corner(*r, nr);
                let (c0, c1, _) = corner(*c, nc);
                cells.extend([
                    Some((r0, c0)),
                    Some((r0, c1)),
                    Some((r1, c0)),
                    Some((r1, c1)),
                ]);
            }
            None => cells.extend([None, None, None, None]),
        }
    }
    let vals = cube.sample(v, base, &cells).map_err(cube_error)?;
    Ok(positions
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let Some((r, c)) = p else {
                return f64::NAN;
            };
            let (_, _, fr) = corner(*r, nr);
            let (_, _, fc) = corner(*c, nc);
            let w = [
                (1.0 - fr) * (1.0 - fc),
                (1.0 - fr) * fc,
                fr * (1.0 - fc),
                fr * fc,
            ];
            let q = &vals[i * 4..i * 4 + 4];
            let (mut sum, mut wsum) = (0.0, 0.0);
            for (x, wt) in q.iter().zip(w) {
                if wt > 0.0 && x.is_finite() {
                    sum += x * wt;
                    wsum += wt;
                }
            }
            if wsum > 0.0 {
                sum / wsum
            } else {
                f64::NAN
            }
        })
        .collect())
}

async fn tile(
    State(s): St,
    Path((id, tms, z, x, y)): Path<(String, String, String, String, String)>,
    RawQuery(q): RawQuery,
) -> Response {
    done(
        async {
            let p = Params::parse(q.as_deref());
            let (y, format) = match y.split_once('.') {
                Some((y, ext)) => (
                    y.to_string(),
                    ImageFormat::from_extension(ext).map_err(ApiError::bad_parameter)?,
                ),
                None => (
                    y.clone(),
                    match p.get("f").or(p.get("format")) {
                        Some(f) => {
                            ImageFormat::from_extension(f).map_err(ApiError::bad_parameter)?
                        }
                        None => ImageFormat::Png,
                    },
                ),
            };
            let num = |name: &str, t: &str| {
                t.parse::<u64>().map_err(|_| {
                    ApiError::bad_parameter(format!("tile {name} '{t}' is not a whole number"))
                })
            };
            let (z, x, y) = (num("z", &z)?, num("x", &x)?, num("y", &y)?);
            let tms = tms_of(&tms)?;
            let tile = tms
                .tile(z, x, y)
                .map_err(|e| ApiError::bad_parameter(e.to_string()))?;
            let st = style(&p)?;
            let sels = p.sels()?;
            let cube = s.data.get(&id)?;
            blocking(move || {
                let v = p.variable(&cube)?;
                v.require_grid(&cube.id).map_err(cube_error)?;
                let centres = tms
                    .pixel_centers(tile, st.size)
                    .map_err(|e| ApiError::bad_parameter(e.to_string()))?;
                let res = tms
                    .resolution(tile.z, st.size as u32)
                    .map_err(|e| ApiError::bad_parameter(e.to_string()))?;
                let pixel_m = if tms.is_geographic() {
                    res * arco_cube::cube::METRES_PER_DEGREE
                } else {
                    res
                };
                let lv = cube.level_for(v, pixel_m);
                let (base, used) = cube.resolve_sel(lv, &sels, &[]).map_err(cube_error)?;
                let values =
                    tile_values(&cube, lv, &base, &centres.lon, &centres.lat, st.bilinear)?;
                // Without `rescale`, 8-bit data are drawn as they are and
                // other data are stretched over their value range.
                let dtype = render_dtype(v);
                let rescale = match st.rescale {
                    Some(r) => Some(r),
                    None if matches!(dtype, DataType::U8) => None,
                    None => cube.value_range(v).map(|[a, b]| (a, b)),
                };
                let opts = RenderOptions {
                    nodata: st.nodata,
                    rescale,
                    colormap: st.colormap.as_ref(),
                    return_mask: st.return_mask,
                    dtype,
                };
                let (w, h) = (centres.width(), centres.height());
                let body = match format {
                    ImageFormat::Npy => render::render_npy(&values, w, h, &opts)
                        .map_err(|e| ApiError::bad_parameter(e.to_string()))?,
                    f => {
                        let img = render(&values, w, h, &opts)
                            .map_err(|e| ApiError::bad_parameter(e.to_string()))?;
                        encode::encode_image(&img, f)
                            .map_err(|e| ApiError::internal(e.to_string()))?
                    }
                };
                let mut r = bytes(body, format.media_type());
                let sel_text = used
                    .iter()
                    .map(|(d, l)| {
                        format!(
                            "{d}={}",
                            l.as_str().map_or_else(|| l.to_string(), String::from)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(",");
                if let Ok(h) = HeaderValue::from_str(&sel_text) {
                    r.headers_mut().insert("x-arco-sel", h);
                }
                if let Ok(h) = HeaderValue::from_str(&lv.name) {
                    r.headers_mut().insert("x-arco-level", h);
                }
                Ok(r)
            })
            .await
        }
        .await,
    )
}

/// The query string of tile URLs: every parameter but the document's own.
fn tile_query(p: &Params, skip: &[&str]) -> String {
    let kept: Vec<(String, String)> =
        p.0.iter()
            .filter(|(k, _)| !skip.contains(&k.as_str()))
            .cloned()
            .collect();
    if kept.is_empty() {
        return String::new();
    }
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &kept {
        ser.append_pair(k, v);
    }
    format!("?{}", ser.finish())
}

async fn tilejson(
    State(s): St,
    Path((id, tms)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let base = base_url(&s, &headers);
    done(
        async {
            let p = Params::parse(q.as_deref());
            let tms = tms_of(&tms)?;
            let cube = s.data.get(&id)?;
            blocking(move || {
                let v = p.variable(&cube)?;
                let (g, _, _) = v.require_grid(&cube.id).map_err(cube_error)?;
                let mut z = zoom_range(tms, g);
                if let Some(m) = p.number("minzoom")? {
                    z.min = m.clamp(0.0, 30.0) as u8;
                }
                if let Some(m) = p.number("maxzoom")? {
                    z.max = m.clamp(0.0, 30.0) as u8;
                }
                let ext = match p.get("tile_format") {
                    Some(f) => ImageFormat::from_extension(f)
                        .map_err(ApiError::bad_parameter)?
                        .extension(),
                    None => "png",
                };
                let mut keep = p.clone();
                if keep.get("variable").is_none() {
                    keep.0.push(("variable".into(), v.name.clone()));
                }
                let query = tile_query(&keep, &["tile_format", "minzoom", "maxzoom"]);
                let url = format!(
                    "{base}/collections/{}/tiles/{}/{{z}}/{{x}}/{{y}}.{ext}{query}",
                    cube.id,
                    tms.id()
                );
                let doc = TileJson::new(url, z, g.bounds)
                    .with_name(format!("{}: {}", cube.id, v.name))
                    .with_description(v.title().to_string());
                Ok(json_response(&doc.to_value()))
            })
            .await
        }
        .await,
    )
}

async fn wmts(
    State(s): St,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let base = base_url(&s, &headers);
    done(
        async {
            let p = Params::parse(q.as_deref());
            let cube = s.data.get(&id)?;
            blocking(move || {
                let only = p.get("variable");
                let mut layers = Vec::new();
                for v in cube.variables().filter(|v| v.grid.is_some()) {
                    if only.is_some_and(|o| o != v.name) {
                        continue;
                    }
                    let Some(g) = &v.grid else { continue };
                    let links = [TileMatrixSet::WebMercatorQuad, TileMatrixSet::WorldCRS84Quad]
                        .into_iter()
                        .map(|t| WmtsTmsLink {
                            tms: t,
                            zooms: Some(zoom_range(t, g)),
                        })
                        .collect();
                    let dims: Vec<WmtsDimension> = v
                        .other_dims()
                        .into_iter()
                        .map(|d| {
                            let l = &v.labels[d];
                            WmtsDimension {
                                identifier: v.var.dims[d].clone(),
                                units: None,
                                default: l.text(0),
                                values: (0..l.len()).map(|i| l.text(i)).collect(),
                            }
                        })
                        .collect();
                    let mut keep = p.clone();
                    keep.0.retain(|(k, _)| k != "variable" && k != "sel");
                    keep.0.push(("variable".into(), v.name.clone()));
                    let mut query = tile_query(&keep, &[]);
                    for d in &dims {
                        query.push_str(&format!("&sel={}={{{}}}", d.identifier, d.identifier));
                    }
                    let resources = ImageFormat::ALL
                        .iter()
                        .filter(|f| **f != ImageFormat::Npy)
                        .map(|f| WmtsResource {
                            format: f.media_type().to_string(),
                            template: format!(
                                "{base}/collections/{}/tiles/{{TileMatrixSet}}/{{TileMatrix}}/{{TileCol}}/{{TileRow}}.{}{query}",
                                cube.id,
                                f.extension()
                            ),
                        })
                        .collect();
                    layers.push(WmtsLayer {
                        identifier: v.name.clone(),
                        title: v.title().to_string(),
                        abstract_text: v.units().map(|u| format!("units: {u}")),
                        bounds: g.bounds,
                        resources,
                        tile_matrix_sets: links,
                        dimensions: dims,
                    });
                }
                if layers.is_empty() {
                    return Err(ApiError::bad_parameter(format!(
                        "{} has no variable that can be drawn on a map{}",
                        cube.id,
                        only.map(|o| format!(" named '{o}'")).unwrap_or_default()
                    )));
                }
                let caps = WmtsCapabilities {
                    title: cube.title.clone().unwrap_or_else(|| cube.id.clone()),
                    capabilities_url: format!("{base}/collections/{}/WMTSCapabilities.xml", cube.id),
                    layers,
                };
                Ok(bytes(caps.to_xml().into_bytes(), "application/xml"))
            })
            .await
        }
        .await,
    )
}

async fn tile_matrix_sets(State(s): St, headers: HeaderMap) -> Response {
    let base = base_url(&s, &headers);
    let list: Vec<Value> = [TileMatrixSet::WebMercatorQuad, TileMatrixSet::WorldCRS84Quad]
        .iter()
        .map(|t| {
            json!({
                "id": t.id(),
                "title": t.title(),
                "uri": t.uri(),
                "crs": t.crs_uri(),
                "links": [{"href": format!("{base}/tileMatrixSets/{}", t.id()), "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme", "type": "application/json"}],
            })
        })
        .collect();
    json_response(&json!({ "tileMatrixSets": list }))
}

async fn tile_matrix_set(Path(tms): Path<String>) -> Response {
    match tms_of(&tms) {
        Ok(t) => json_response(&t.document()),
        Err(e) => e.into_response(),
    }
}

async fn color_maps() -> Response {
    json_response(&json!({ "colorMaps": colormap::names() }))
}

async fn color_map(Path(name): Path<String>) -> Response {
    match Colormap::named(&name) {
        Ok(c) => json_response(&c.to_json()),
        Err(e) => {
            let mut r = ApiError::not_found(e.to_string()).into_response();
            *r.status_mut() = StatusCode::NOT_FOUND;
            r
        }
    }
}
