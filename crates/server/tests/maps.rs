//! Map endpoints through the real router in process: datasets found in a
//! folder of real files, tiles decoded and checked against the source
//! values, documents, and every refusal. Pixel-for-pixel comparison with an
//! independent rendering is `scripts/interop_tiles.py`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arco_server::data::discover;
use arco_server::{AppState, EmbeddedBackend, LoadOptions, ServerConfig};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use tower::ServiceExt;

fn real(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/real")
        .join(rel)
}

struct Server {
    router: axum::Router,
    _dir: tempfile::TempDir,
}

fn server() -> Server {
    server_with(ServerConfig::default())
}

fn server_with(config: ServerConfig) -> Server {
    let dir = tempfile::tempdir().unwrap();
    for f in [
        "netcdf4/era5-levels-members.nc",
        "geotiff/co_elevation_roi.tif",
    ] {
        let src = real(f);
        std::fs::copy(&src, dir.path().join(src.file_name().unwrap())).unwrap();
    }
    // Unfinished outputs are never served.
    std::fs::create_dir(dir.path().join("half.zarr.arco-partial")).unwrap();
    let found = discover(
        &[dir.path().display().to_string()],
        &LoadOptions::default(),
        64 << 20,
    )
    .unwrap();
    assert!(found.skipped.is_empty(), "{:?}", found.skipped);
    let state = AppState {
        backend: arco_server::Backend::Embedded(Arc::new(
            EmbeddedBackend::new(found.catalog).unwrap(),
        )),
        config,
        data: Arc::new(found.registry),
    };
    Server {
        router: arco_server::router(Arc::new(state)),
        _dir: dir,
    }
}

async fn get(s: &Server, uri: &str) -> (StatusCode, String, Vec<u8>) {
    get_with(s, uri, None).await
}

async fn get_with(s: &Server, uri: &str, key: Option<&str>) -> (StatusCode, String, Vec<u8>) {
    let mut req = Request::get(uri);
    if let Some(k) = key {
        req = req.header("x-api-key", k);
    }
    let r = s
        .router
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = r.status();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (
        status,
        ct,
        r.into_body().collect().await.unwrap().to_bytes().to_vec(),
    )
}

fn json(b: &[u8]) -> Value {
    serde_json::from_slice(b).unwrap()
}

fn decode_png(b: &[u8]) -> (u32, u32, Vec<u8>) {
    let dec = png::Decoder::new(std::io::Cursor::new(b));
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

#[tokio::test]
async fn datasets_in_a_folder_are_listed_with_their_variables_and_stac_collections() {
    let s = server();
    let (st, _, body) = get(&s, "/datasets").await;
    assert_eq!(st, StatusCode::OK);
    let ids: Vec<String> = json(&body)["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["co_elevation_roi", "era5-levels-members"]);
    let (st, _, body) = get(&s, "/collections/era5-levels-members").await;
    assert_eq!(st, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(json(&body)["type"], "Collection");
}

#[tokio::test]
async fn info_gives_bounds_labels_and_a_value_range() {
    let s = server();
    let (st, _, body) = get(&s, "/collections/era5-levels-members/info?variable=t").await;
    assert_eq!(st, StatusCode::OK);
    let v = json(&body);
    assert_eq!(v["bounds"], serde_json::json!([-180.0, -90.0, 180.0, 90.0]));
    let time = v["dimensions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "time")
        .unwrap();
    assert_eq!(time["values"][1], "2017-01-01T12:00:00Z");
    let r = v["valid_range"].as_array().unwrap();
    assert!(
        r[0].as_f64().unwrap() > 150.0 && r[1].as_f64().unwrap() < 350.0,
        "{r:?}"
    );
}

#[tokio::test]
async fn a_grey_tile_holds_the_rescaled_value_of_the_nearest_cell() {
    let s = server();
    // Zoom 0 of WorldCRS84Quad, tile 1 (east): its top-left pixel centre is
    // at (0.3515625, 89.6484375): the cell at latitude 90, longitude 0.
    let (st, ct, body) = get(
        &s,
        "/collections/era5-levels-members/tiles/WorldCRS84Quad/0/1/0.png?variable=t&rescale=200,300&sel=number=0&sel=time=2017-01-01&sel=isobaricInhPa=850",
    )
    .await;
    assert_eq!((st, ct.as_str()), (StatusCode::OK, "image/png"));
    let (w, h, px) = decode_png(&body);
    assert_eq!((w, h), (256, 256));
    // Grey + alpha: 2 bytes per pixel; the value maps to (v-200)/100*255.
    let reader = arco_formats::open(
        arco_storage::open(
            &real("netcdf4/era5-levels-members.nc").display().to_string(),
            &Default::default(),
        )
        .unwrap(),
    )
    .unwrap();
    let sel = arco_core::Selection::parse(
        "number=0,time=0,isobaricInhPa=0,latitude=0,longitude=0",
        "t",
        &reader.dataset().variable("/t").unwrap().dims,
        &reader.dataset().variable("/t").unwrap().shape,
    )
    .unwrap();
    let raw = reader.read("/t", &sel).unwrap();
    let var = reader.dataset().variable("/t").unwrap();
    let v = arco_core::cf::CfDecoder::new(var)
        .unwrap()
        .decode(&raw.values)
        .unwrap()
        .get_f64(0)
        .unwrap();
    let want = (((v - 200.0) / 100.0) * 255.0).clamp(0.0, 255.0) as u8;
    assert_eq!((px[0], px[1]), (want, 255), "value {v}");
}

#[tokio::test]
async fn documents_name_the_tile_template_and_the_sets() {
    let s = server();
    let (st, _, body) = get(&s, "/collections/era5-levels-members/tiles/WebMercatorQuad/tilejson.json?variable=t&colormap_name=viridis").await;
    assert_eq!(st, StatusCode::OK);
    let tj = json(&body);
    let url = tj["tiles"][0].as_str().unwrap();
    assert!(
        url.contains("/collections/era5-levels-members/tiles/WebMercatorQuad/{z}/{x}/{y}.png?"),
        "{url}"
    );
    assert!(url.contains("colormap_name=viridis"), "{url}");
    let (st, ct, body) = get(&s, "/collections/era5-levels-members/WMTSCapabilities.xml").await;
    assert_eq!((st, ct.as_str()), (StatusCode::OK, "application/xml"));
    let xml = String::from_utf8(body).unwrap();
    assert!(xml.contains("<ows:Identifier>t</ows:Identifier>") && xml.contains("WorldCRS84Quad"));
    let (st, _, body) = get(&s, "/tileMatrixSets/WebMercatorQuad").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(json(&body)["id"], "WebMercatorQuad");
    let (_, _, body) = get(&s, "/colorMaps").await;
    assert!(json(&body)["colorMaps"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "viridis_r"));
}

#[tokio::test]
async fn bad_tile_requests_get_4xx_with_what_is_valid() {
    let s = server();
    let base = "/collections/era5-levels-members/tiles/WebMercatorQuad";
    for (uri, code, needle) in [
        (
            format!("{base}/1/5/0.png?variable=t"),
            400,
            "x must be in 0..=1",
        ),
        (
            format!("{base}/0/0/0.png?variable=nope"),
            404,
            "variables are",
        ),
        (format!("{base}/0/0/0.png"), 400, "give variable="),
        (format!("{base}/0/0/0.gif?variable=t"), 400, "png"),
        (
            format!("{base}/0/0/0.png?variable=t&sel=time=1999-01-01"),
            400,
            "nearest::",
        ),
        (
            format!("{base}/0/0/0.png?variable=t&sel=latitude=3"),
            400,
            "horizontal",
        ),
        (
            format!("{base}/0/0/0.png?variable=t&rescale=1"),
            400,
            "min,max",
        ),
        (
            format!("{base}/0/0/0.png?variable=t&resampling=cubic"),
            400,
            "bilinear",
        ),
        (
            "/collections/nope/info".to_string(),
            404,
            "era5-levels-members",
        ),
    ] {
        let (st, _, body) = get(&s, &uri).await;
        let d = json(&body)["description"]
            .as_str()
            .unwrap_or("")
            .to_string();
        assert_eq!(st.as_u16(), code, "{uri}: {d}");
        assert!(d.contains(needle), "{uri}: {d}");
    }
}

fn ids(v: &Value, list: &str) -> Vec<String> {
    v[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            c["id"]
                .as_str()
                .or(c["collection"].as_str())
                .unwrap()
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn a_key_for_one_collection_sees_and_reads_only_that_one_through_the_real_routes() {
    let toml = r#"
anonymous = false
[[api_keys]]
name = "dem-only"
key = "dem-key"
collections = ["co_elevation_roi"]
"#;
    let auth =
        arco_server::auth::AuthConfig::from_toml(toml, std::path::Path::new("auth.toml")).unwrap();
    let s = server_with(ServerConfig {
        auth: Some(Arc::new(auth)),
        ..ServerConfig::default()
    });
    let k = Some("dem-key");
    let (st, _, body) = get_with(&s, "/collections", k).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(ids(&json(&body), "collections"), ["co_elevation_roi"]);
    let (_, _, body) = get_with(&s, "/datasets", k).await;
    assert_eq!(ids(&json(&body), "datasets"), ["co_elevation_roi"]);
    let (_, _, body) = get_with(&s, "/search", k).await;
    assert_eq!(ids(&json(&body), "features"), ["co_elevation_roi"]);
    let (_, _, body) = get_with(&s, "/search?collections=era5-levels-members", k).await;
    assert!(json(&body)["features"].as_array().unwrap().is_empty());
    let tile = "tiles/WebMercatorQuad/0/0/0.png";
    let (st, _, _) = get_with(&s, &format!("/collections/co_elevation_roi/{tile}"), k).await;
    assert_eq!(st, StatusCode::OK);
    let (st, _, _) = get_with(
        &s,
        &format!("/collections/era5-levels-members/{tile}?variable=t"),
        k,
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _, _) = get_with(&s, "/zarr/era5-levels-members/zarr.json", k).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _, _) = get(&s, "/collections").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn metrics_count_tile_requests_and_chunk_cache_hits() {
    let s = server();
    let tile = "/collections/era5-levels-members/tiles/WebMercatorQuad/0/0/0.png?variable=t";
    for _ in 0..2 {
        assert_eq!(get(&s, tile).await.0, StatusCode::OK);
    }
    let (st, _, body) = get(&s, "/metrics").await;
    assert_eq!(st, StatusCode::OK);
    let text = String::from_utf8(body).unwrap();
    let value = |name: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with([' ', '{']))
            .and_then(|l| l.rsplit(' ').next())
            .unwrap_or_else(|| panic!("no {name} in {text}"))
            .parse()
            .unwrap()
    };
    assert!(value("arco_cache_hits_total") >= 1.0, "{text}");
    assert!(value("arco_cache_misses_total") >= 1.0, "{text}");
    assert!(
        text.contains("route=\"/collections/{id}/tiles/{tms}/{z}/{x}/{y}\""),
        "{text}"
    );
}
