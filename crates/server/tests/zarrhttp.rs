//! Zarr v3 over HTTP (`/zarr/{id}/...`) through the router in process
//! (tower `oneshot`): the metadata documents, consolidated metadata, chunk
//! bytes against the source's stored values, 404s, ranges, HEAD, ETags, path
//! traversal, and Zarr v3 stores on disk served as they are.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arco_core::{DType, DimSlice, NdArray, Selection, Values};
use arco_server::data::{self, open_reader};
use arco_server::{AppState, LoadOptions, ServerConfig};
use arco_storage::OpenOptions;
use arco_zarr::{ArraySpec, Compression, GroupSpec, ZarrFormat, ZarrStore};
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Arc;
use tower::ServiceExt;

fn fixture(name: &str) -> String {
    format!("{}/../../tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

const FILES: [&str; 4] = [
    "fixtures/nc4_cf.nc",
    "fixtures/nc3_classic.nc",
    "fixtures/nc4_types.nc",
    "fixtures/nc4_groups.nc",
];

fn app(paths: &[String]) -> Router {
    let found = data::discover(paths, &LoadOptions::default(), 64 << 20).unwrap();
    assert!(found.skipped.is_empty(), "{:?}", found.skipped);
    let mut state = AppState::embedded(found.catalog, ServerConfig::default()).unwrap();
    state.data = Arc::new(found.registry);
    arco_server::router(Arc::new(state))
}

fn fixtures_app() -> Router {
    app(&FILES.iter().map(|f| fixture(f)).collect::<Vec<_>>())
}

struct Resp {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }
}

async fn send(app: &Router, method: Method, uri: &str, headers: &[(&str, &str)]) -> Resp {
    let mut b = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let r = app
        .clone()
        .oneshot(b.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let body = r.into_body().collect().await.unwrap().to_bytes().to_vec();
    Resp {
        status,
        headers,
        body,
    }
}

async fn get(app: &Router, uri: &str) -> Resp {
    send(app, Method::GET, uri, &[]).await
}

/// The little-endian element bytes of stored values (what the `bytes` codec
/// holds), written independently of the server's encoder.
fn le_bytes(v: &Values) -> Vec<u8> {
    match v {
        Values::Bool(x) => x.iter().map(|b| u8::from(*b)).collect(),
        Values::I8(x) => x.iter().map(|n| *n as u8).collect(),
        Values::U8(x) => x.clone(),
        Values::I16(x) => x.iter().flat_map(|n| n.to_le_bytes()).collect(),
        Values::U16(x) => x.iter().flat_map(|n| n.to_le_bytes()).collect(),
        Values::I32(x) => x.iter().flat_map(|n| n.to_le_bytes()).collect(),
        Values::U32(x) => x.iter().flat_map(|n| n.to_le_bytes()).collect(),
        Values::I64(x) => x.iter().flat_map(|n| n.to_le_bytes()).collect(),
        Values::U64(x) => x.iter().flat_map(|n| n.to_le_bytes()).collect(),
        Values::F32(x) => x.iter().flat_map(|n| n.to_bits().to_le_bytes()).collect(),
        Values::F64(x) => x.iter().flat_map(|n| n.to_bits().to_le_bytes()).collect(),
        other => panic!("no fixed bytes for {}", other.type_name()),
    }
}

fn zstd_decode(b: &[u8]) -> Vec<u8> {
    zstd::decode_all(b).expect("a chunk is one zstd frame")
}

fn chunk_uri(id: &str, path: &str, idx: &[u64]) -> String {
    let mut u = format!("/zarr/{id}/{path}/c");
    for i in idx {
        u.push_str(&format!("/{i}"));
    }
    u
}

fn u64s(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect()
}

fn grid_indices(grid: &[u64]) -> Vec<Vec<u64>> {
    let mut out = vec![vec![]];
    for &n in grid {
        out = out
            .into_iter()
            .flat_map(|p| {
                (0..n).map(move |i| {
                    let mut q = p.clone();
                    q.push(i);
                    q
                })
            })
            .collect();
    }
    out
}

fn id_of(file: &str) -> String {
    arco_catalog::id_from_location(file)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_root_document_is_a_v3_group_whose_consolidated_metadata_lists_every_variable() {
    let app = fixtures_app();
    for f in FILES {
        let id = id_of(f);
        let r = get(&app, &format!("/zarr/{id}/zarr.json")).await;
        assert_eq!(r.status, StatusCode::OK, "{f}");
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/json")
        );
        let root = r.json();
        assert_eq!(root["zarr_format"], 3);
        assert_eq!(root["node_type"], "group");
        let cm = &root["consolidated_metadata"];
        assert_eq!(cm["kind"], "inline");
        assert_eq!(cm["must_understand"], false);
        let listed: BTreeSet<String> = cm["metadata"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        let reader = open_reader(&fixture(f), &LoadOptions::default()).unwrap();
        let ds = reader.dataset();
        let mut want: BTreeSet<String> = ds
            .root
            .all_variables()
            .iter()
            .map(|v| v.path.trim_start_matches('/').to_string())
            .collect();
        fn groups(g: &arco_core::Group, out: &mut BTreeSet<String>) {
            for c in &g.groups {
                out.insert(c.path.trim_matches('/').to_string());
                groups(c, out);
            }
        }
        groups(&ds.root, &mut want);
        assert_eq!(listed, want, "{f}");
        // Groups carry an empty inline block, as zarr-python writes them.
        for (path, doc) in cm["metadata"].as_object().unwrap() {
            if doc["node_type"] == "group" {
                assert_eq!(
                    doc["consolidated_metadata"]["kind"], "inline",
                    "{f}: {path}"
                );
            }
        }
        // Root attributes are the source's global attributes.
        let want_attrs = arco_zarr::attributes_json(&ds.root.attributes);
        assert_eq!(root["attributes"], Value::Object(want_attrs), "{f}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_array_document_is_valid_zarr_v3_with_the_sources_dtype_dims_and_cf_attributes() {
    let app = fixtures_app();
    for f in FILES {
        let id = id_of(f);
        let root = get(&app, &format!("/zarr/{id}/zarr.json")).await.json();
        let reader = open_reader(&fixture(f), &LoadOptions::default()).unwrap();
        for (path, inline) in root["consolidated_metadata"]["metadata"]
            .as_object()
            .unwrap()
        {
            let r = get(&app, &format!("/zarr/{id}/{path}/zarr.json")).await;
            assert_eq!(r.status, StatusCode::OK, "{f}: {path}");
            let mut doc = r.json();
            let mut inline = inline.clone();
            inline
                .as_object_mut()
                .unwrap()
                .remove("consolidated_metadata");
            doc.as_object_mut().unwrap().remove("consolidated_metadata");
            assert_eq!(
                doc, inline,
                "{f}: {path}: its own document differs from the consolidated one"
            );
            if doc["node_type"] != "array" {
                continue;
            }
            let var = reader.dataset().variable(&format!("/{path}")).unwrap();
            assert_eq!(doc["zarr_format"], 3);
            assert_eq!(u64s(&doc["shape"]), var.shape, "{f}: {path}");
            let dims: Vec<String> = doc["dimension_names"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_str().unwrap().to_string())
                .collect();
            assert_eq!(dims, var.dims, "{f}: {path}");
            assert_eq!(doc["chunk_grid"]["name"], "regular");
            let chunk = u64s(&doc["chunk_grid"]["configuration"]["chunk_shape"]);
            assert_eq!(chunk.len(), var.shape.len(), "{f}: {path}");
            assert!(chunk.iter().all(|&c| c >= 1), "{f}: {path}: {chunk:?}");
            assert_eq!(doc["chunk_key_encoding"]["name"], "default");
            assert_eq!(doc["chunk_key_encoding"]["configuration"]["separator"], "/");
            assert!(doc.get("fill_value").is_some(), "{f}: {path}");
            let codecs = doc["codecs"].as_array().unwrap();
            let first = codecs[0]["name"].as_str().unwrap();
            let want_first = if var.dtype == DType::String {
                "vlen-utf8"
            } else {
                "bytes"
            };
            assert_eq!(first, want_first, "{f}: {path}");
            if var.dtype.size().is_some_and(|s| s > 1) && var.dtype.is_numeric() {
                assert_eq!(
                    codecs[0]["configuration"]["endian"], "little",
                    "{f}: {path}"
                );
            }
            let last = codecs.last().unwrap();
            assert_eq!(last["name"], "zstd", "{f}: {path}");
            assert_eq!(last["configuration"]["level"], 1);
            // The data type and attributes `arco convert` writes.
            let spec = arco_zarr::array_spec_for(var, chunk.clone(), None, Compression::None);
            let written = arco_zarr::array_metadata_v3(&spec).unwrap();
            assert_eq!(doc["data_type"], written["data_type"], "{f}: {path}");
            assert_eq!(doc["fill_value"], written["fill_value"], "{f}: {path}");
            assert_eq!(doc["attributes"], written["attributes"], "{f}: {path}");
        }
    }
    // The CF encoding of a packed variable, spelled out.
    let tas = get(&app, "/zarr/nc4_cf/tas/zarr.json").await.json();
    assert_eq!(tas["data_type"], "int16");
    assert_eq!(tas["attributes"]["scale_factor"], 0.002);
    assert_eq!(tas["attributes"]["add_offset"], 280.0);
    assert_eq!(tas["attributes"]["_FillValue"], -32768);
    let temp = get(&app, "/zarr/nc3_classic/temp/zarr.json").await.json();
    assert_eq!(temp["data_type"], "float32");
    // xarray's FillValueCoder: base64 of the little-endian float64.
    assert_eq!(temp["attributes"]["_FillValue"], "AAAAAAA4j8A=");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_chunk_decodes_to_the_stored_values_of_the_source_at_its_box() {
    let app = fixtures_app();
    let mut chunks = 0;
    for f in FILES {
        let id = id_of(f);
        let root = get(&app, &format!("/zarr/{id}/zarr.json")).await.json();
        let reader = open_reader(&fixture(f), &LoadOptions::default()).unwrap();
        for (path, doc) in root["consolidated_metadata"]["metadata"]
            .as_object()
            .unwrap()
        {
            if doc["node_type"] != "array" {
                continue;
            }
            let var = reader.dataset().variable(&format!("/{path}")).unwrap();
            if !var.dtype.is_numeric() && var.dtype != DType::Char {
                continue;
            }
            let shape = u64s(&doc["shape"]);
            let chunk = u64s(&doc["chunk_grid"]["configuration"]["chunk_shape"]);
            let grid: Vec<u64> = shape
                .iter()
                .zip(&chunk)
                .map(|(n, c)| n.div_ceil(*c))
                .collect();
            for idx in grid_indices(&grid) {
                let r = get(&app, &chunk_uri(&id, path, &idx)).await;
                assert_eq!(r.status, StatusCode::OK, "{f}: {path} {idx:?}");
                assert_eq!(
                    r.header("content-type").as_deref(),
                    Some("application/octet-stream")
                );
                assert!(r.header("etag").is_some());
                let raw = zstd_decode(&r.body);
                let sel = Selection {
                    dims: idx
                        .iter()
                        .zip(&chunk)
                        .zip(&shape)
                        .map(|((i, c), n)| DimSlice {
                            start: i * c,
                            stop: ((i + 1) * c).min(*n),
                            step: 1,
                        })
                        .collect(),
                };
                let want = reader.read(&var.path, &sel).unwrap();
                let elem = var.dtype.size().unwrap();
                assert_eq!(
                    raw.len() as u64,
                    chunk.iter().product::<u64>() * elem as u64,
                    "{f}: {path}"
                );
                if sel.shape() == chunk {
                    assert_eq!(raw, le_bytes(&want.values), "{f}: {path} {idx:?}");
                }
                chunks += 1;
            }
        }
    }
    assert!(chunks > 30, "only {chunks} chunks checked");
}

/// A Zarr v2 store (served re-encoded, as any non-v3 source) with one
/// float64 array of `shape` in chunks of `chunk`, values `i * 0.5`.
fn v2_store(dir: &std::path::Path, shape: &[u64], chunk: &[u64]) -> (String, NdArray) {
    let loc = dir.join("big.zarr").display().to_string();
    let store = ZarrStore::create(&loc, &OpenOptions::default(), ZarrFormat::V2).unwrap();
    store
        .create_group(&GroupSpec {
            path: "/".into(),
            attributes: Default::default(),
        })
        .unwrap();
    let n: u64 = shape.iter().product();
    let mut values: Vec<f64> = (0..n).map(|i| i as f64 * 0.5).collect();
    values[3] = f64::from_bits(0x7ff8_0000_dead_beef); // a NaN with a payload
    let data = NdArray {
        shape: shape.to_vec(),
        values: Values::F64(values),
    };
    let spec = ArraySpec {
        path: "/v".into(),
        shape: shape.to_vec(),
        chunk_shape: chunk.to_vec(),
        shard_shape: None,
        dtype: DType::F64,
        fill_value: None,
        dimension_names: vec!["y".into(), "x".into()],
        attributes: Default::default(),
        compression: Compression::None,
    };
    store
        .create_array(&spec)
        .unwrap()
        .write_region(&[0, 0], &data)
        .unwrap();
    (loc, data)
}

#[tokio::test(flavor = "multi_thread")]
async fn edge_chunks_are_padded_with_nan_and_chunks_outside_the_grid_are_404s() {
    let dir = tempfile::tempdir().unwrap();
    // 1000 x 1000 float64 source chunks are 8 MB: kept as they are.
    let (loc, data) = v2_store(dir.path(), &[1100, 1050], &[1000, 1000]);
    let app = app(&[loc]);
    let doc = get(&app, "/zarr/big/v/zarr.json").await.json();
    assert_eq!(
        u64s(&doc["chunk_grid"]["configuration"]["chunk_shape"]),
        vec![1000, 1000]
    );
    assert_eq!(doc["fill_value"], "NaN");
    let Values::F64(all) = &data.values else {
        unreachable!()
    };
    // The corner chunk holds 100 x 50 values, the rest is NaN.
    let r = get(&app, "/zarr/big/v/c/1/1").await;
    assert_eq!(r.status, StatusCode::OK);
    let raw = zstd_decode(&r.body);
    assert_eq!(raw.len(), 1000 * 1000 * 8);
    let at = |i: usize| f64::from_le_bytes(raw[i * 8..i * 8 + 8].try_into().unwrap());
    for row in [0usize, 57, 99] {
        for col in [0usize, 13, 49] {
            let want = all[(1000 + row) * 1050 + 1000 + col];
            assert_eq!(
                at(row * 1000 + col).to_bits(),
                want.to_bits(),
                "({row}, {col})"
            );
        }
        assert!(at(row * 1000 + 50).is_nan());
    }
    assert!(at(100 * 1000).is_nan() && at(999 * 1000 + 999).is_nan());
    // The first chunk keeps every bit, the NaN payload included.
    let raw = zstd_decode(&get(&app, "/zarr/big/v/c/0/0").await.body);
    let first = f64::from_le_bytes(raw[24..32].try_into().unwrap());
    assert_eq!(first.to_bits(), 0x7ff8_0000_dead_beef);
    assert_eq!(
        f64::from_le_bytes(raw[8 * 1000..8 * 1001].try_into().unwrap()),
        all[1050]
    );
    // Outside the grid, or not a chunk key of this array's rank: 404, JSON.
    for uri in [
        "/zarr/big/v/c/2/0",
        "/zarr/big/v/c/0/2",
        "/zarr/big/v/c/0",
        "/zarr/big/v/c/0/0/0",
        "/zarr/big/v/c/a/0",
        "/zarr/big/v/c/-1/0",
        "/zarr/big/w/c/0/0",
    ] {
        let r = get(&app, uri).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(r.json()["code"], "NotFound", "{uri}");
    }
    let r = get(&app, "/zarr/big/v/c/2/0").await;
    let text = r.json()["description"].as_str().unwrap().to_string();
    assert!(text.contains("outside the chunk grid [2, 2]"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_keys_and_datasets_are_404s_with_a_json_body() {
    let app = fixtures_app();
    for uri in [
        "/zarr/nowhere/zarr.json",
        "/zarr/nc4_cf/nope/zarr.json",
        "/zarr/nc4_cf/.zgroup",
        "/zarr/nc4_cf/.zmetadata",
        "/zarr/nc4_cf/tas/.zarray",
        "/zarr/nc4_cf/tas",
        "/zarr/nc4_cf",
        "/zarr/nc4_cf/",
        "/zarr/nc4_cf/tas/c",
    ] {
        let r = get(&app, uri).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(r.json()["code"], "NotFound", "{uri}");
    }
    // A scalar's only chunk is `c`.
    let r = get(&app, "/zarr/nc4_cf/reftime/c").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(zstd_decode(&r.body).len(), 4);
    assert_eq!(
        get(&app, "/zarr/nc4_cf/reftime/c/0").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn strings_and_characters_are_served_as_convert_writes_them() {
    let app = fixtures_app();
    let doc = get(&app, "/zarr/nc4_types/strings/zarr.json").await.json();
    assert_eq!(doc["data_type"], "string");
    assert_eq!(doc["codecs"][0]["name"], "vlen-utf8");
    let raw = zstd_decode(&get(&app, "/zarr/nc4_types/strings/c/0").await.body);
    let reader = open_reader(&fixture("fixtures/nc4_types.nc"), &LoadOptions::default()).unwrap();
    let Values::Str(want) = reader
        .read("/strings", &Selection::all(&[5]))
        .unwrap()
        .values
    else {
        panic!("strings are text")
    };
    // numcodecs' VLenUTF8: a u32 count, then (u32 length, bytes) per item.
    let mut got = Vec::new();
    let count = u32::from_le_bytes(raw[..4].try_into().unwrap());
    let mut at = 4;
    for _ in 0..count {
        let n = u32::from_le_bytes(raw[at..at + 4].try_into().unwrap()) as usize;
        got.push(String::from_utf8(raw[at + 4..at + 4 + n].to_vec()).unwrap());
        at += 4 + n;
    }
    assert_eq!(at, raw.len());
    assert_eq!(got, want);
    let chars = get(&app, "/zarr/nc4_types/chars/zarr.json").await.json();
    assert_eq!(chars["data_type"]["name"], "null_terminated_bytes");
    assert_eq!(chars["data_type"]["configuration"]["length_bytes"], 1);
}

/// A Zarr v3 store written by arco-zarr, consolidated or not, with a hidden
/// `.arco/` entry and (on Unix) a symbolic link to a file outside it.
fn v3_store(dir: &std::path::Path, consolidate: bool) -> String {
    let loc = dir.join("cube.zarr").display().to_string();
    let store = ZarrStore::create(&loc, &OpenOptions::default(), ZarrFormat::V3).unwrap();
    store
        .create_group(&GroupSpec {
            path: "/".into(),
            attributes: [("title".to_string(), Value::from("a cube"))]
                .into_iter()
                .collect(),
        })
        .unwrap();
    store
        .create_group(&GroupSpec {
            path: "/g".into(),
            attributes: Default::default(),
        })
        .unwrap();
    let spec = ArraySpec {
        path: "/g/t".into(),
        shape: vec![4, 6],
        chunk_shape: vec![2, 3],
        shard_shape: None,
        dtype: DType::I32,
        fill_value: None,
        dimension_names: vec!["y".into(), "x".into()],
        attributes: Default::default(),
        compression: Compression::Zstd {
            level: 3,
            shuffle: false,
        },
    };
    let data = NdArray {
        shape: vec![4, 6],
        values: Values::I32((1..=24).collect()),
    };
    store
        .create_array(&spec)
        .unwrap()
        .write_region(&[0, 0], &data)
        .unwrap();
    if consolidate {
        store.consolidate().unwrap();
    }
    store
        .put_bytes(".arco/plan.json", b"{\"secret\": true}")
        .unwrap();
    std::fs::write(dir.join("secret.txt"), "TOP SECRET").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.join("secret.txt"), dir.join("cube.zarr/g/link")).unwrap();
    loc
}

#[tokio::test(flavor = "multi_thread")]
async fn a_local_zarr_v3_store_is_served_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let loc = v3_store(dir.path(), true);
    let app = app(std::slice::from_ref(&loc));
    let root = std::path::Path::new(&loc);
    for key in [
        "zarr.json",
        "g/zarr.json",
        "g/t/zarr.json",
        "g/t/c/0/0",
        "g/t/c/1/1",
    ] {
        let r = get(&app, &format!("/zarr/cube/{key}")).await;
        assert_eq!(r.status, StatusCode::OK, "{key}");
        assert_eq!(r.body, std::fs::read(root.join(key)).unwrap(), "{key}");
        assert!(r.header("etag").is_some(), "{key}");
    }
    for key in [
        ".arco/plan.json",
        "g/link",
        "g/t/c/2/0",
        "g/t/c/0",
        "g/nothing/zarr.json",
    ] {
        let r = get(&app, &format!("/zarr/cube/{key}")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{key}");
        assert!(!String::from_utf8_lossy(&r.body).contains("SECRET"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_store_without_consolidated_metadata_gets_it_in_its_root_document() {
    let dir = tempfile::tempdir().unwrap();
    let loc = v3_store(dir.path(), false);
    let app = app(&[loc]);
    let root = get(&app, "/zarr/cube/zarr.json").await.json();
    assert_eq!(root["attributes"]["title"], "a cube");
    let listed: Vec<&String> = root["consolidated_metadata"]["metadata"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(listed, ["g", "g/t"]);
    assert_eq!(
        root["consolidated_metadata"]["metadata"]["g/t"]["shape"],
        serde_json::json!([4, 6])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn traversal_keys_are_refused_and_nothing_outside_a_store_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let loc = v3_store(dir.path(), true);
    let app = app(&[loc, fixture("fixtures/nc4_cf.nc")]);
    for id in ["cube", "nc4_cf"] {
        for key in [
            "../secret.txt",
            "..%2fsecret.txt",
            "%2e%2e/secret.txt",
            "%2E%2E%2Fsecret.txt",
            "g/../../secret.txt",
            "g/%2e%2e/%2e%2e/secret.txt",
            "..%5csecret.txt",
            "g%5c..%5c..%5csecret.txt",
            "%2fetc/passwd",
            "/etc/passwd",
            "./zarr.json",
            "g//t/zarr.json",
            "g/t/c/0/0%00",
        ] {
            let r = get(&app, &format!("/zarr/{id}/{key}")).await;
            assert!(
                r.status == StatusCode::BAD_REQUEST || r.status == StatusCode::NOT_FOUND,
                "{id}/{key}: {}",
                r.status
            );
            let text = String::from_utf8_lossy(&r.body);
            assert!(
                !text.contains("SECRET") && !text.contains("root:"),
                "{id}/{key}: {text}"
            );
            assert!(r.json()["code"].is_string(), "{id}/{key}");
        }
        let r = get(&app, &format!("/zarr/{id}/%2e%2e/secret.txt")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{id}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ranges_are_answered_with_206_and_unsatisfiable_ones_with_416() {
    let dir = tempfile::tempdir().unwrap();
    let loc = v3_store(dir.path(), true);
    let app = app(&[loc.clone(), fixture("fixtures/nc4_cf.nc")]);
    let file = std::fs::read(std::path::Path::new(&loc).join("g/t/c/0/1")).unwrap();
    let whole_made = get(&app, "/zarr/nc4_cf/tas/c/0/0/0").await.body;
    for (uri, whole) in [
        ("/zarr/cube/g/t/c/0/1", &file),
        ("/zarr/nc4_cf/tas/c/0/0/0", &whole_made),
    ] {
        let n = whole.len();
        assert!(n > 8, "{uri}");
        let r = send(&app, Method::GET, uri, &[("range", "bytes=2-5")]).await;
        assert_eq!(r.status, StatusCode::PARTIAL_CONTENT, "{uri}");
        assert_eq!(r.body, whole[2..6], "{uri}");
        assert_eq!(r.header("content-range"), Some(format!("bytes 2-5/{n}")));
        let r = send(&app, Method::GET, uri, &[("range", "bytes=-4")]).await;
        assert_eq!(r.status, StatusCode::PARTIAL_CONTENT, "{uri}");
        assert_eq!(r.body, whole[n - 4..], "{uri}");
        let r = send(&app, Method::GET, uri, &[("range", "bytes=3-")]).await;
        assert_eq!(r.body, whole[3..], "{uri}");
        let r = send(&app, Method::GET, uri, &[("range", &format!("bytes={n}-"))]).await;
        assert_eq!(r.status, StatusCode::RANGE_NOT_SATISFIABLE, "{uri}");
        assert_eq!(r.header("content-range"), Some(format!("bytes */{n}")));
        let r = send(&app, Method::GET, uri, &[("range", "bytes=0-1,4-5")]).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{uri}: several ranges get the whole"
        );
        assert_eq!(&r.body, whole);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn head_answers_the_headers_of_get_without_a_body_and_etags_give_304s() {
    let dir = tempfile::tempdir().unwrap();
    let loc = v3_store(dir.path(), true);
    let app = app(&[loc, fixture("fixtures/nc4_cf.nc")]);
    for uri in [
        "/zarr/nc4_cf/zarr.json",
        "/zarr/nc4_cf/tas/c/0/0/0",
        "/zarr/cube/zarr.json",
        "/zarr/cube/g/t/c/1/0",
    ] {
        let g = get(&app, uri).await;
        let h = send(&app, Method::HEAD, uri, &[]).await;
        assert_eq!(h.status, StatusCode::OK, "{uri}");
        assert!(h.body.is_empty(), "{uri}");
        assert_eq!(
            h.header("content-length"),
            Some(g.body.len().to_string()),
            "{uri}"
        );
        let etag = g.header("etag").unwrap();
        assert_eq!(h.header("etag").as_deref(), Some(etag.as_str()), "{uri}");
        assert_eq!(g.header("accept-ranges").as_deref(), Some("bytes"));
        assert!(g.header("cache-control").is_some(), "{uri}");
        // The same key again: the same ETag (cached or not), and a 304.
        assert_eq!(get(&app, uri).await.header("etag"), Some(etag.clone()));
        let r = send(&app, Method::GET, uri, &[("if-none-match", &etag)]).await;
        assert_eq!(r.status, StatusCode::NOT_MODIFIED, "{uri}");
        assert!(r.body.is_empty());
    }
    // Other bytes, another tag.
    let a = get(&app, "/zarr/nc4_cf/tas/c/0/0/0").await.header("etag");
    let b = get(&app, "/zarr/nc4_cf/qc/c/0/0/0").await.header("etag");
    assert!(a.is_some() && b.is_some());
    assert_ne!(a, b);
}
