//! stac-api-validator (core, features, collections, item-search, filter)
//! against a real server on 127.0.0.1:0: the embedded backend always, the
//! pgstac backend when ARCO_PGSTAC_URL names a database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/peers.rs"]
mod peers;

use arco_server::{AppState, LoadOptions, ServerConfig};

const GEOMETRY: &str = r#"{"type": "Polygon", "coordinates": [[[9.0, 44.0], [12.0, 44.0], [12.0, 47.0], [9.0, 47.0], [9.0, 44.0]]]}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_backend_passes_stac_api_validator() {
    let Some(py) = peers::validator_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    catalog::write_catalog(dir.path(), &catalog::fixed());
    let cat =
        arco_server::load(&[dir.path().display().to_string()], &LoadOptions::default()).unwrap();
    let server = peers::start(AppState::embedded(cat, ServerConfig::default()).unwrap()).await;
    let root = format!("{}/", server.base);
    let (ok, out) =
        tokio::task::spawn_blocking(move || peers::run_validator(&py, &root, "c1", GEOMETRY))
            .await
            .unwrap();
    println!("{out}");
    assert!(ok, "stac-api-validator found errors:\n{out}");
    assert!(out.contains("Errors: none"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pgstac_backend_passes_stac_api_validator() {
    let Some(url) = peers::pgstac_url() else {
        return;
    };
    let Some(py) = peers::validator_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // Collection ids of their own, so that tests sharing the database do not meet.
    let tag = format!("v{}", std::process::id());
    let cols: Vec<(String, Vec<catalog::GenItem>)> = catalog::fixed()
        .into_iter()
        .map(|(c, items)| {
            let c = format!("{c}-{tag}");
            let items = items
                .into_iter()
                .map(|mut i| {
                    i.collection = c.clone();
                    i
                })
                .collect();
            (c, items)
        })
        .collect();
    catalog::write_catalog(dir.path(), &cols);
    arco_server::pgstac::load_pgstac_sources(&url, &[dir.path().display().to_string()])
        .await
        .unwrap();
    let backend = arco_server::pgstac::PgstacBackend::connect(&url)
        .await
        .unwrap();
    let state = AppState {
        backend: arco_server::Backend::Pgstac(std::sync::Arc::new(backend)),
        config: ServerConfig::default(),
        data: Default::default(),
    };
    let server = peers::start(state).await;
    let root = format!("{}/", server.base);
    let coll = format!("c1-{tag}");
    let (ok, out) =
        tokio::task::spawn_blocking(move || peers::run_validator(&py, &root, &coll, GEOMETRY))
            .await
            .unwrap();
    println!("{out}");
    assert!(ok, "stac-api-validator found errors:\n{out}");
}

#[test]
fn the_service_description_is_a_valid_openapi_3_document() {
    let Some(py) = peers::validator_python() else {
        return;
    };
    let doc =
        arco_server::api::openapi(&arco_server::Ctx::new("http://127.0.0.1:8080", "/api")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openapi.json");
    std::fs::write(&path, &doc.body).unwrap();
    let out = std::process::Command::new(&py)
        .args(["-m", "openapi_spec_validator", "--schema", "3.0"])
        .arg(&path)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "openapi-spec-validator:\n{text}");
    assert!(text.contains("OK"), "{text}");
}
