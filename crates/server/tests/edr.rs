//! Time series and OGC API – EDR through the real router in process, over
//! copies of real files: JSON, CSV, CoverageJSON and GeoJSON shapes, every
//! CoverageJSON answer checked against the vendored CoverageJSON schema,
//! values against the cube's own reads (nearest, bilinear and area
//! statistics computed here by hand), datetime and z selections, and every
//! refusal. Values against xarray: `scripts/interop_serve.py`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arco_cube::Cube;
use arco_server::data::discover;
use arco_server::{covjson, AppState, EmbeddedBackend, LoadOptions, ServerConfig};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use tower::ServiceExt;

const ERA5: &str = "/collections/era5-levels-members";
const LCC: &str = "/collections/lcc_km";

fn real(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/real")
        .join(rel)
}

struct Server {
    router: axum::Router,
    state: Arc<AppState>,
    _dir: tempfile::TempDir,
}

/// One server for every test (opening the files once).
fn server() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        for f in [
            "netcdf4/era5-levels-members.nc",
            "netcdf4/lcc_km.nc",
            "netcdf4/cordex.nc",
            "geotiff/co_elevation_roi.tif",
        ] {
            let src = real(f);
            std::fs::copy(&src, dir.path().join(src.file_name().unwrap())).unwrap();
        }
        let found = discover(
            &[dir.path().display().to_string()],
            &LoadOptions::default(),
            64 << 20,
        )
        .unwrap();
        assert!(found.skipped.is_empty(), "{:?}", found.skipped);
        let state = Arc::new(AppState {
            backend: arco_server::Backend::Embedded(Arc::new(
                EmbeddedBackend::new(found.catalog).unwrap(),
            )),
            config: ServerConfig::default(),
            data: Arc::new(found.registry),
        });
        Server {
            router: arco_server::router(state.clone()),
            state,
            _dir: dir,
        }
    })
}

fn cube(id: &str) -> Arc<Cube> {
    server().state.data.get(id).unwrap()
}

struct Answer {
    status: StatusCode,
    media_type: String,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }

    /// The body as CoverageJSON, checked against the schema.
    fn covjson(&self) -> Value {
        assert_eq!(self.status, StatusCode::OK, "{}", self.text());
        assert_eq!(self.media_type, covjson::MEDIA_TYPE);
        let v = self.json();
        if let Err(e) = covjson::validate(&v) {
            panic!("invalid CoverageJSON: {e:#?}\n{v}");
        }
        v
    }

    /// A 4xx error: its status and description.
    fn error(&self) -> (u16, String) {
        let v = self.json();
        assert!(v["code"].is_string(), "{v}");
        (
            self.status.as_u16(),
            v["description"].as_str().unwrap().to_string(),
        )
    }
}

async fn send(req: Request<Body>) -> Answer {
    let r = server().router.clone().oneshot(req).await.unwrap();
    let status = r.status();
    let media_type = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = r.into_body().collect().await.unwrap().to_bytes().to_vec();
    Answer {
        status,
        media_type,
        body,
    }
}

async fn get(uri: &str) -> Answer {
    send(
        Request::get(uri.replace(' ', "%20"))
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

async fn get_accept(uri: &str, accept: &str) -> Answer {
    send(
        Request::get(uri.replace(' ', "%20"))
            .header("accept", accept)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

/// `t` of era5 at (member 0, level index `level`, every time) at `(row, col)`,
/// read through the cube.
fn era5_t(level: u64, row: u64, col: u64) -> Vec<f64> {
    let c = cube("era5-levels-members");
    let v = c.variable("t").unwrap();
    c.read(
        v,
        &[
            (0, 1),
            (0, 4),
            (level, level + 1),
            (row, row + 1),
            (col, col + 1),
        ],
    )
    .unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::NAN))
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

fn assert_close(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!(close(*g, *w), "{got:?} vs {want:?}");
    }
}

const TIMES: [&str; 4] = [
    "2017-01-01T00:00:00Z",
    "2017-01-01T12:00:00Z",
    "2017-01-02T00:00:00Z",
    "2017-01-02T12:00:00Z",
];

#[tokio::test]
async fn a_point_series_takes_the_nearest_cell_along_time() {
    let a = get(&format!("{ERA5}/timeseries?variable=t&lon=10.4&lat=44.6")).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.media_type, "application/json");
    let v = a.json();
    assert_eq!(v["id"], "era5-levels-members");
    assert_eq!(v["variable"], "t");
    assert_eq!(v["units"], "K");
    assert_eq!(v["long_name"], "Temperature");
    assert_eq!(v["method"], "nearest");
    assert_eq!(
        (v["lon"].as_f64(), v["lat"].as_f64()),
        (Some(10.4), Some(44.6))
    );
    // Latitudes 90, 87, ... (row 15 is 45); longitudes 0, 3, ... (column 3 is 9).
    assert_eq!(
        v["grid"],
        json!({"lon": 9.0, "lat": 45.0, "index": [15, 3]})
    );
    assert_eq!(v["dimension"], "time");
    assert_eq!(v["index"], json!(TIMES));
    assert_close(&floats(&v["values"]), &era5_t(0, 15, 3));
    assert_eq!(v["sel"], json!({"number": 0.0, "isobaricInhPa": 850.0}));
}

#[tokio::test]
async fn sel_fixes_the_other_dimensions() {
    let a = get(&format!(
        "{ERA5}/timeseries?variable=t&lon=10.4&lat=44.6&sel=isobaricInhPa=500&sel=number=3"
    ))
    .await;
    let v = a.json();
    assert_eq!(
        v["sel"],
        json!({"number": 3.0, "isobaricInhPa": 500.0}),
        "{v}"
    );
    let c = cube("era5-levels-members");
    let t = c.variable("t").unwrap();
    let want = c
        .read(t, &[(3, 4), (0, 4), (1, 2), (15, 16), (3, 4)])
        .unwrap();
    assert_close(&floats(&v["values"]), &want);
    assert_ne!(floats(&v["values"]), era5_t(0, 15, 3));
}

#[tokio::test]
async fn bilinear_blends_the_four_cells_around_the_point() {
    // At a cell centre, bilinear is that cell.
    let at_centre = get(&format!(
        "{ERA5}/timeseries?variable=t&lon=9&lat=45&method=bilinear"
    ))
    .await
    .json();
    assert_eq!(at_centre["method"], "bilinear");
    assert_close(&floats(&at_centre["values"]), &era5_t(0, 15, 3));
    // A quarter of the way from (45, 9) to (45, 12), and a third of the way to 42.
    let v = get(&format!(
        "{ERA5}/timeseries?variable=t&lon=9.75&lat=44&method=bilinear"
    ))
    .await
    .json();
    let (a, b, c, d) = (
        era5_t(0, 15, 3),
        era5_t(0, 15, 4),
        era5_t(0, 16, 3),
        era5_t(0, 16, 4),
    );
    let (fc, fr) = (0.25, 1.0 / 3.0);
    let want: Vec<f64> = (0..4)
        .map(|i| {
            a[i] * (1.0 - fr) * (1.0 - fc)
                + b[i] * (1.0 - fr) * fc
                + c[i] * fr * (1.0 - fc)
                + d[i] * fr * fc
        })
        .collect();
    let got = floats(&v["values"]);
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() < 1e-9, "{got:?} vs {want:?}");
    }
    let nearest = get(&format!("{ERA5}/timeseries?variable=t&lon=9.75&lat=44"))
        .await
        .json();
    assert_ne!(floats(&nearest["values"]), got);
    // Beyond the last longitude centre (357) there is nothing to blend with.
    let past = get(&format!(
        "{ERA5}/timeseries?variable=t&lon=358.5&lat=44&method=bilinear"
    ))
    .await
    .json();
    assert_eq!(past["values"], json!([null, null, null, null]));
}

#[tokio::test]
async fn area_statistics_match_a_hand_computation_over_the_window() {
    // Centres at latitudes 48, 45, 42 (rows 14..17) and longitudes 6, 9, 12
    // (columns 2..5).
    let c = cube("era5-levels-members");
    let t = c.variable("t").unwrap();
    let block = c
        .read(t, &[(0, 1), (0, 4), (0, 1), (14, 17), (2, 5)])
        .unwrap();
    let step = |s: usize| &block[s * 9..(s + 1) * 9];
    for stat in ["mean", "min", "max", "count"] {
        let v = get(&format!(
            "{ERA5}/timeseries?variable=t&bbox=5,41,13,49&stat={stat}"
        ))
        .await
        .json();
        assert_eq!(v["stat"], stat);
        assert_eq!(v["bbox"], json!([5.0, 41.0, 13.0, 49.0]));
        assert_eq!(v["cells"], 9);
        assert_eq!(v["count"], json!([9, 9, 9, 9]));
        let want: Vec<f64> = (0..4)
            .map(|s| {
                let w = step(s);
                match stat {
                    "mean" => w.iter().sum::<f64>() / 9.0,
                    "min" => w.iter().copied().fold(f64::INFINITY, f64::min),
                    "max" => w.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                    _ => 9.0,
                }
            })
            .collect();
        assert_close(&floats(&v["values"]), &want);
    }
    // A triangle holds fewer centres than its box: (6, 48), (9, 48), (12, 48),
    // (6, 45), (9, 45), (6, 42) lie in the lower-left half of the box below.
    let g = r#"{"type":"Polygon","coordinates":[[[5,41],[13.5,49.5],[5,49.5],[5,41]]]}"#;
    let v = get(&format!(
        "{ERA5}/timeseries?variable=t&geometry={}",
        urlencode(g)
    ))
    .await
    .json();
    assert!(v["geometry"].is_object(), "{v}");
    let cells = v["cells"].as_u64().unwrap();
    assert!(cells > 0 && cells < 9, "{v}");
    // The same polygon POSTed as the body.
    let posted = send(
        Request::post(format!("{ERA5}/timeseries?variable=t"))
            .header("content-type", "application/geo+json")
            .body(Body::from(g))
            .unwrap(),
    )
    .await
    .json();
    assert_eq!(posted["values"], v["values"]);
}

#[tokio::test]
async fn datetime_selects_an_interval_an_open_interval_or_one_instant() {
    let base = format!("{ERA5}/timeseries?variable=t&lon=9&lat=45");
    let v = get(&format!(
        "{base}&datetime=2017-01-01T12:00:00Z/2017-01-02T00:00:00Z"
    ))
    .await
    .json();
    assert_eq!(v["index"], json!(TIMES[1..3]));
    assert_close(&floats(&v["values"]), &era5_t(0, 15, 3)[1..3]);
    let v = get(&format!("{base}&datetime=../2017-01-01T12:00"))
        .await
        .json();
    assert_eq!(v["index"], json!(TIMES[..2]));
    let v = get(&format!("{base}&datetime=2017-01-01T13:00/.."))
        .await
        .json();
    assert_eq!(v["index"], json!(TIMES[2..]));
    let v = get(&format!("{base}&datetime=2017-01-02T12:00:00Z"))
        .await
        .json();
    assert_eq!(v["index"], json!(TIMES[3..]));
    for bad in ["yesterday", "2030-01-01/2031-01-01", "2017-01-01T01:00:00Z"] {
        let (status, d) = get(&format!("{base}&datetime={bad}")).await.error();
        assert_eq!(status, 400, "{bad}: {d}");
        assert!(d.contains("datetime"), "{d}");
    }
}

#[tokio::test]
async fn csv_has_a_header_iso_labels_and_empty_cells_for_missing_values() {
    let a = get(&format!(
        "{ERA5}/timeseries?variable=t&lon=358.5&lat=44&method=bilinear&f=csv"
    ))
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.media_type.starts_with("text/csv"));
    let text = a.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "time,t");
    assert_eq!(lines[1], "2017-01-01T00:00:00Z,");
    assert_eq!(lines.len(), 5);
    // Accept picks CSV too; an area adds the count.
    let a = get_accept(
        &format!("{ERA5}/timeseries?variable=t&bbox=5,41,13,49"),
        "text/csv",
    )
    .await;
    let text = a.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "time,t,count");
    let cols: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(cols[0], TIMES[0]);
    assert!(cols[1].parse::<f64>().unwrap() > 200.0);
    assert_eq!(cols[2], "9");
}

#[tokio::test]
async fn timeseries_as_coveragejson_is_a_point_series_or_a_polygon_series() {
    let v = get(&format!(
        "{ERA5}/timeseries?variable=t&lon=-350.6&lat=44.6&f=CoverageJSON"
    ))
    .await
    .covjson();
    assert_eq!(v["type"], "Coverage");
    assert_eq!(v["domainType"], "PointSeries");
    // The cell's longitude, taken near the one asked for.
    assert_eq!(v["domain"]["axes"]["x"]["values"], json!([-351.0]));
    assert_eq!(v["domain"]["axes"]["t"]["values"], json!(TIMES));
    assert_close(&floats(&v["ranges"]["t"]["values"]), &era5_t(0, 15, 3));
    assert_eq!(v["parameters"]["t"]["unit"]["symbol"], "K");
    assert_eq!(
        v["parameters"]["t"]["observedProperty"]["id"],
        "http://vocab.nerc.ac.uk/standard_name/air_temperature/"
    );
    let v = get_accept(
        &format!("{ERA5}/timeseries?variable=t&bbox=5,41,13,49"),
        "application/prs.coverage+json",
    )
    .await
    .covjson();
    assert_eq!(v["domainType"], "PolygonSeries");
    assert_eq!(v["ranges"]["count"]["values"], json!([9, 9, 9, 9]));
    assert_eq!(v["ranges"]["count"]["dataType"], "integer");
}

#[tokio::test]
async fn timeseries_refusals_say_what_is_wrong() {
    let cases = [
        (
            "/collections/nope/timeseries?variable=t&lon=0&lat=0".to_string(),
            404,
            "era5-levels-members",
        ),
        (format!("{ERA5}/timeseries?lon=0&lat=0"), 400, "variable"),
        (
            format!("{ERA5}/timeseries?variable=nope&lon=0&lat=0"),
            404,
            "nope",
        ),
        (format!("{ERA5}/timeseries?variable=t"), 400, "lon and lat"),
        (
            format!("{ERA5}/timeseries?variable=t&lon=0"),
            400,
            "lon and lat",
        ),
        (
            format!("{ERA5}/timeseries?variable=t&lon=x&lat=0"),
            400,
            "lon",
        ),
        (
            format!("{ERA5}/timeseries?variable=t&lon=0&lat=0&method=cubic"),
            400,
            "bilinear",
        ),
        (
            format!("{ERA5}/timeseries?variable=t&bbox=0,0,1&stat=mean"),
            400,
            "bbox",
        ),
        (
            format!("{ERA5}/timeseries?variable=t&bbox=0,0,10,10&stat=median"),
            400,
            "mean",
        ),
        (
            format!("{ERA5}/timeseries?variable=t&bbox=0,0,10,10&lon=0&lat=0"),
            400,
            "not both",
        ),
        (
            format!("{ERA5}/timeseries?variable=t&geometry=nope"),
            400,
            "GeoJSON",
        ),
        (
            format!("{ERA5}/timeseries?variable=t&bbox=1,1,1.5,1.5"),
            400,
            "no cell centre",
        ),
        (
            format!("{ERA5}/timeseries?variable=t&lon=0&lat=0&sel=depth=1"),
            400,
            "depth",
        ),
        (
            format!("{ERA5}/timeseries?variable=t&lon=0&lat=0&sel=number=99"),
            400,
            "number",
        ),
        (
            format!("{ERA5}/timeseries?variable=t&lon=0&lat=0&f=xml"),
            400,
            "csv",
        ),
        (
            format!("{LCC}/timeseries?variable=prcp&lon=0&lat=0"),
            400,
            "outside the grid",
        ),
    ];
    for (uri, code, needle) in cases {
        let (status, d) = get(&uri).await.error();
        assert_eq!(status, code, "{uri}: {d}");
        assert!(d.contains(needle), "{uri}: {d}");
    }
}

#[tokio::test]
async fn a_position_is_a_point_series_at_one_level_and_a_grid_across_levels() {
    let v = get(&format!(
        "{ERA5}/position?coords=POINT(10.4 44.6)&parameter-name=t&z=850"
    ))
    .await
    .covjson();
    assert_eq!(v["type"], "Coverage");
    assert_eq!(v["domainType"], "PointSeries");
    let axes = &v["domain"]["axes"];
    assert_eq!(
        (axes["x"]["values"].clone(), axes["y"]["values"].clone()),
        (json!([9.0]), json!([45.0]))
    );
    assert_eq!(axes["z"]["values"], json!([850.0]));
    assert_eq!(axes["t"]["values"], json!(TIMES));
    assert_close(&floats(&v["ranges"]["t"]["values"]), &era5_t(0, 15, 3));
    let refs = v["domain"]["referencing"].to_string();
    assert!(
        refs.contains("GeographicCRS")
            && refs.contains("TemporalRS")
            && refs.contains("VerticalCRS"),
        "{refs}"
    );
    // Both levels, both variables: a 1 x 1 grid over time and level.
    let v = get(&format!("{ERA5}/position?coords=POINT(10.4 44.6)"))
        .await
        .covjson();
    assert_eq!(v["domainType"], "Grid");
    assert_eq!(v["domain"]["axes"]["z"]["values"], json!([850.0, 500.0]));
    assert_eq!(v["ranges"]["t"]["shape"], json!([4, 2, 1, 1]));
    assert_eq!(v["ranges"]["t"]["axisNames"], json!(["t", "z", "y", "x"]));
    let got = floats(&v["ranges"]["t"]["values"]);
    let (l850, l500) = (era5_t(0, 15, 3), era5_t(1, 15, 3));
    for s in 0..4 {
        assert!(
            close(got[2 * s], l850[s]) && close(got[2 * s + 1], l500[s]),
            "{got:?}"
        );
    }
    assert!(v["ranges"]["z"].is_object());
    // One time, both levels: a vertical profile; the other dimensions as
    // query parameters.
    let v = get(&format!("{ERA5}/position?coords=POINT(10.4 44.6)&parameter-name=t&datetime=2017-01-01T12:00:00Z&number=3"))
        .await
        .covjson();
    assert_eq!(v["domainType"], "VerticalProfile");
    let c = cube("era5-levels-members");
    let t = c.variable("t").unwrap();
    let want = c
        .read(t, &[(3, 4), (1, 2), (0, 2), (15, 16), (3, 4)])
        .unwrap();
    assert_close(&floats(&v["ranges"]["t"]["values"]), &want);
}

#[tokio::test]
async fn a_multipoint_is_a_collection_of_point_series() {
    let v = get(&format!(
        "{ERA5}/position?coords=MULTIPOINT((10.4 44.6),(-99 -30))&parameter-name=t,z&z=500&method=bilinear"
    ))
    .await
    .covjson();
    assert_eq!(v["type"], "CoverageCollection");
    assert_eq!(v["domainType"], "PointSeries");
    let covs = v["coverages"].as_array().unwrap();
    assert_eq!(covs.len(), 2);
    assert_eq!(covs[1]["domain"]["axes"]["x"]["values"], json!([-99.0]));
    assert!(covs[0]["ranges"]["z"].is_object() && covs[0]["ranges"]["t"].is_object());
    assert!(v["parameters"]["z"].is_object());
    // Bilinear at -99 = 261 (a column centre), -30 (a row centre): that cell.
    let c = cube("era5-levels-members");
    let t = c.variable("t").unwrap();
    let want = c
        .read(t, &[(0, 1), (0, 4), (1, 2), (40, 41), (87, 88)])
        .unwrap();
    assert_close(&floats(&covs[1]["ranges"]["t"]["values"]), &want);
}

#[tokio::test]
async fn an_area_is_a_grid_with_cells_outside_the_polygon_null() {
    let v = get(&format!(
        "{ERA5}/area?coords=POLYGON((5 41, 13.5 49.5, 5 49.5, 5 41))&parameter-name=t&z=850&datetime=2017-01-01T00:00:00Z"
    ))
    .await
    .covjson();
    assert_eq!(v["domainType"], "Grid");
    let axes = &v["domain"]["axes"];
    assert_eq!(axes["x"]["values"], json!([6.0, 9.0, 12.0]));
    assert_eq!(axes["y"]["values"], json!([48.0, 45.0, 42.0]));
    assert_eq!(v["ranges"]["t"]["shape"], json!([1, 1, 3, 3]));
    let got = floats(&v["ranges"]["t"]["values"]);
    let c = cube("era5-levels-members");
    let t = c.variable("t").unwrap();
    let block = c
        .read(t, &[(0, 1), (0, 1), (0, 1), (14, 17), (2, 5)])
        .unwrap();
    // Inside: the upper-left triangle (lat - 41 >= lon - 5).
    for (i, (g, w)) in got.iter().zip(&block).enumerate() {
        let (lat, lon) = (48.0 - 3.0 * (i / 3) as f64, 6.0 + 3.0 * (i % 3) as f64);
        if lat - 41.0 > lon - 5.0 {
            assert!(close(*g, *w), "cell {i}: {got:?}");
        } else {
            assert!(g.is_nan(), "cell {i} is outside: {got:?}");
        }
    }
    // The same area as GeoJSON: one feature per cell inside.
    let a = get(&format!(
        "{ERA5}/area?coords=POLYGON((5 41, 13.5 49.5, 5 49.5, 5 41))&parameter-name=t&z=850&datetime=2017-01-01T00:00:00Z&f=GeoJSON"
    ))
    .await;
    assert_eq!(a.media_type, "application/geo+json");
    let g = a.json();
    let n = got.iter().filter(|x| !x.is_nan()).count();
    assert_eq!(g["features"].as_array().unwrap().len(), n);
    assert_eq!(g["features"][0]["properties"]["datetime"], TIMES[0]);
    assert_eq!(g["features"][0]["properties"]["z"], 850.0);
}

#[tokio::test]
async fn a_cube_is_a_grid_in_the_native_coordinates() {
    let v = get(&format!(
        "{ERA5}/cube?bbox=5,41,13,49&parameter-name=t&z=500/850"
    ))
    .await
    .covjson();
    assert_eq!(v["domainType"], "Grid");
    assert_eq!(v["ranges"]["t"]["shape"], json!([4, 2, 3, 3]));
    assert!(floats(&v["ranges"]["t"]["values"])
        .iter()
        .all(|x| x.is_finite()));
    // The six-number bbox carries the levels.
    let six = get(&format!(
        "{ERA5}/cube?bbox=5,41,500,13,49,500&parameter-name=t"
    ))
    .await
    .covjson();
    assert_eq!(six["domain"]["axes"]["z"]["values"], json!([500.0]));
    // A projected grid: x/y in metres of its CRS.
    let v = get(&format!("{LCC}/cube?bbox=-105.01,38.99,-104.99,39.01"))
        .await
        .covjson();
    let system = &v["domain"]["referencing"][0]["system"];
    assert_eq!(system["type"], "ProjectedCRS", "{system}");
    assert!(
        system["id"].is_string() || system["wkt"].is_string(),
        "{system}"
    );
    let xs = floats(&v["domain"]["axes"]["x"]["values"]);
    assert!(
        !xs.is_empty() && xs.iter().all(|x| x.abs() > 1000.0),
        "{xs:?}"
    );
    // CSV: a header and one row per cell inside.
    let a = get(&format!(
        "{LCC}/cube?bbox=-105.01,38.99,-104.99,39.01&f=CSV"
    ))
    .await;
    let text = a.text();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("longitude,latitude,datetime,prcp"));
    assert!(lines.count() >= 1);
}

#[tokio::test]
async fn a_dataset_without_time_gives_points() {
    let v = get("/collections/co_elevation_roi/position?coords=POINT(-107.1 38.97)")
        .await
        .covjson();
    assert_eq!(v["domainType"], "Point");
    assert!(
        v["ranges"]["band_data"]["values"][0].as_f64().unwrap() > 1000.0,
        "{v}"
    );
    let (status, d) = get(
        "/collections/co_elevation_roi/position?coords=POINT(-107.1 38.97)&datetime=2020-01-01",
    )
    .await
    .error();
    assert_eq!(status, 400);
    assert!(d.contains("no time dimension"), "{d}");
}

#[tokio::test]
async fn edr_refusals_say_what_is_wrong() {
    let cases = [
        (
            "/collections/nope/position?coords=POINT(0 0)".to_string(),
            404,
            "era5-levels-members",
        ),
        (format!("{ERA5}/position"), 400, "coords is required"),
        (format!("{ERA5}/area"), 400, "coords is required"),
        (format!("{ERA5}/cube"), 400, "bbox is required"),
        (format!("{ERA5}/position?coords=POINT(10)"), 400, "coords"),
        (
            format!("{ERA5}/position?coords=LINESTRING(0 0, 1 1)"),
            400,
            "LINESTRING",
        ),
        (
            format!("{ERA5}/position?coords=POLYGON((0 0, 1 0, 1 1, 0 0))"),
            400,
            "/area",
        ),
        (format!("{ERA5}/area?coords=POINT(0 0)"), 400, "/position"),
        (
            format!("{LCC}/position?coords=POINT(0 0)"),
            400,
            "longitudes",
        ),
        (
            format!("{ERA5}/position?coords=POINT(0 0)&parameter-name=nope"),
            400,
            "valid: z, t",
        ),
        (
            format!("{ERA5}/position?coords=POINT(0 0)&datetime=tomorrow"),
            400,
            "datetime",
        ),
        (
            format!("{ERA5}/position?coords=POINT(0 0)&z=700"),
            400,
            "z '700'",
        ),
        (
            format!("{ERA5}/position?coords=POINT(0 0)&number=99"),
            400,
            "number",
        ),
        (
            format!("{ERA5}/position?coords=POINT(0 0)&sel=depth=1"),
            400,
            "depth",
        ),
        (
            format!("{ERA5}/position?coords=POINT(0 0)&f=xml"),
            400,
            "CoverageJSON",
        ),
        (
            format!("{ERA5}/position?coords=POINT(0 0)&crs=EPSG:3857"),
            400,
            "CRS84",
        ),
        (
            format!("{ERA5}/cube?bbox=1,1,1.5,1.5"),
            400,
            "no cell centre",
        ),
        (
            format!("{LCC}/position?coords=POINT(-105 39)&z=1"),
            400,
            "no vertical dimension",
        ),
    ];
    for (uri, code, needle) in cases {
        let (status, d) = get(&uri).await.error();
        assert_eq!(status, code, "{uri}: {d}");
        assert!(d.contains(needle), "{uri}: {d}");
    }
}

#[tokio::test]
async fn every_query_format_is_served_with_its_media_type() {
    let q = format!("{ERA5}/position?coords=POINT(10.4%2044.6)&parameter-name=t&z=850");
    let v = get(&q).await.covjson();
    assert_eq!(v["domainType"], "PointSeries");
    let a = get(&format!("{q}&f=CSV")).await;
    assert!(a.media_type.starts_with("text/csv"));
    let text = a.text();
    assert_eq!(text.lines().next(), Some("longitude,latitude,z,datetime,t"));
    assert_eq!(text.lines().count(), 5);
    assert!(
        text.lines()
            .nth(1)
            .unwrap()
            .starts_with("9,45,850,2017-01-01T00:00:00Z,"),
        "{text}"
    );
    let a = get_accept(&q, "application/geo+json").await;
    assert_eq!(a.media_type, "application/geo+json");
    assert_eq!(a.json()["features"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn the_collection_document_describes_the_edr_queries() {
    let a = get(ERA5).await;
    assert_eq!(a.status, StatusCode::OK);
    let v = a.json();
    let q = &v["data_queries"];
    for name in ["position", "area", "cube"] {
        let link = &q[name]["link"];
        assert_eq!(link["rel"], "data");
        assert!(
            link["href"]
                .as_str()
                .unwrap()
                .contains(&format!("/collections/era5-levels-members/{name}?")),
            "{link}"
        );
        assert_eq!(link["variables"]["query_type"], name);
        assert_eq!(link["variables"]["default_output_format"], "CoverageJSON");
    }
    let p = &v["parameter_names"];
    assert_eq!(p["t"]["type"], "Parameter");
    assert_eq!(p["t"]["unit"]["symbol"], "K");
    assert_eq!(
        p["t"]["observedProperty"]["id"],
        "http://vocab.nerc.ac.uk/standard_name/air_temperature/"
    );
    assert_eq!(
        v["output_formats"],
        json!(["CoverageJSON", "CSV", "GeoJSON"])
    );
    assert_eq!(v["crs"], json!([covjson::CRS84]));
    // The STAC fields are still there.
    assert_eq!(v["type"], "Collection");
}

#[tokio::test]
async fn a_rotated_pole_grid_answers_positions_and_areas() {
    let v = get("/collections/cordex/position?coords=POINT(11.5%2041)")
        .await
        .covjson();
    assert_eq!(v["domainType"], "PointSeries");
    assert_eq!(
        v["domain"]["axes"]["t"]["values"].as_array().unwrap().len(),
        2
    );
    let a = get("/collections/cordex/area?coords=POLYGON((11%2040.5,12%2040.5,12%2041.5,11%2041.5,11%2040.5))").await;
    let v = a.covjson();
    assert_eq!(v["domainType"], "Grid");
    let n = floats(&v["ranges"]["sfcWind"]["values"])
        .iter()
        .filter(|x| x.is_finite())
        .count();
    assert!(n > 0, "{v}");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A Zarr v3 store of 1000 daily steps of a 200 x 200 global grid whose
/// data chunks were never written (all missing): 40 M values.
fn big_store(dir: &std::path::Path) {
    let root = dir.join("big.zarr");
    let array = |name: &str, meta: Value, data: Option<Vec<u8>>| {
        let d = root.join(name);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("zarr.json"), meta.to_string()).unwrap();
        if let Some(bytes) = data {
            std::fs::create_dir_all(d.join("c")).unwrap();
            std::fs::write(d.join("c").join("0"), bytes).unwrap();
        }
    };
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(
        root.join("zarr.json"),
        json!({"zarr_format": 3, "node_type": "group", "attributes": {}}).to_string(),
    )
    .unwrap();
    let meta = |shape: Vec<u64>,
                chunks: Vec<u64>,
                dtype: &str,
                fill: Value,
                dims: Vec<&str>,
                attrs: Value| {
        json!({
            "zarr_format": 3, "node_type": "array", "shape": shape, "data_type": dtype,
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": chunks}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": fill, "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
            "attributes": attrs, "dimension_names": dims,
        })
    };
    let f64s = |v: Vec<f64>| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    array(
        "lon",
        meta(
            vec![200],
            vec![200],
            "float64",
            json!(0.0),
            vec!["lon"],
            json!({"units": "degrees_east"}),
        ),
        Some(f64s((0..200).map(|i| -179.1 + 1.8 * i as f64).collect())),
    );
    array(
        "lat",
        meta(
            vec![200],
            vec![200],
            "float64",
            json!(0.0),
            vec!["lat"],
            json!({"units": "degrees_north"}),
        ),
        Some(f64s((0..200).map(|i| -89.55 + 0.9 * i as f64).collect())),
    );
    array(
        "time",
        meta(
            vec![1000],
            vec![1000],
            "float64",
            json!(0.0),
            vec!["time"],
            json!({"units": "days since 2000-01-01", "calendar": "standard"}),
        ),
        Some(f64s((0..1000).map(f64::from).collect())),
    );
    array(
        "v",
        meta(
            vec![1000, 200, 200],
            vec![1, 200, 200],
            "float32",
            json!("NaN"),
            vec!["time", "lat", "lon"],
            json!({"units": "K"}),
        ),
        None,
    );
}

#[tokio::test]
async fn a_query_beyond_the_value_limit_is_refused_with_how_to_narrow_it() {
    let dir = tempfile::tempdir().unwrap();
    big_store(dir.path());
    let found = discover(
        &[dir.path().display().to_string()],
        &LoadOptions::default(),
        64 << 20,
    )
    .unwrap();
    assert!(found.skipped.is_empty(), "{:?}", found.skipped);
    let state = Arc::new(AppState {
        backend: arco_server::Backend::Embedded(Arc::new(
            EmbeddedBackend::new(found.catalog).unwrap(),
        )),
        config: ServerConfig::default(),
        data: Arc::new(found.registry),
    });
    let router = arco_server::router(state);
    let ask = |uri: &str| {
        let router = router.clone();
        let uri = uri.to_string();
        async move {
            let r = router
                .oneshot(Request::get(uri).body(Body::empty()).unwrap())
                .await
                .unwrap();
            let status = r.status().as_u16();
            let body: Value =
                serde_json::from_slice(&r.into_body().collect().await.unwrap().to_bytes()).unwrap();
            (status, body)
        }
    };
    let (status, body) = ask("/collections/big/cube?bbox=-180,-90,180,90").await;
    assert_eq!(status, 413, "{body}");
    let d = body["description"].as_str().unwrap();
    assert!(
        d.contains("40000000 values") && d.contains("datetime"),
        "{d}"
    );
    // A shorter interval fits, and the missing chunks are null.
    let (status, body) =
        ask("/collections/big/cube?bbox=-10,-10,10,10&datetime=2000-01-01/2000-01-02").await;
    assert_eq!(status, 200, "{body}");
    covjson::validate(&body).unwrap();
    assert_eq!(
        body["domain"]["axes"]["t"]["values"],
        json!(["2000-01-01T00:00:00Z", "2000-01-02T00:00:00Z"])
    );
    assert!(body["ranges"]["v"]["values"]
        .as_array()
        .unwrap()
        .iter()
        .all(Value::is_null));
    // An area series reads the 1000 steps in batches.
    let (status, body) = ask("/collections/big/timeseries?variable=v&bbox=-180,-90,180,90").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["cells"], 40000);
    assert_eq!(body["values"].as_array().unwrap().len(), 1000);
    assert!(body["count"].as_array().unwrap().iter().all(|c| c == 0));
}
