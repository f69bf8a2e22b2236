//! Reference tools (stac-api-validator in the peers venv; a pgstac database
//! from scripts/pgstac.sh) and a real server on 127.0.0.1:0.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

/// The peers venv's python when it has stac-api-validator; `None` (after
/// saying so) when it does not, unless ARCO_REQUIRE_PEERS=1 (then a panic).
pub fn validator_python() -> Option<PathBuf> {
    arco_testkit::peers_python(&["stac_api_validator", "pystac"])
}

/// `ARCO_PGSTAC_URL`, or `None` after saying how to get one. The database is
/// started by scripts/stac_api_check.sh (scripts/pgstac.sh), which runs these
/// tests with it; a plain test run skips them.
pub fn pgstac_url() -> Option<String> {
    match std::env::var("ARCO_PGSTAC_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            eprintln!(
                "skipped: ARCO_PGSTAC_URL is not set; `eval \"$(scripts/pgstac.sh start)\"` starts a database \
                 (scripts/stac_api_check.sh runs these tests with one)"
            );
            None
        }
    }
}

/// A server on 127.0.0.1:0; stops when dropped.
pub struct Running {
    pub base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

pub async fn start(state: arco_server::AppState) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let router = arco_server::router(Arc::new(state));
    tokio::spawn(async move {
        arco_server::serve(listener, router, async move {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    Running {
        base: format!("http://{addr}"),
        stop: Some(tx),
    }
}

/// Run stac-api-validator (offline wrapper) against `root` for `collection`.
pub fn run_validator(py: &PathBuf, root: &str, collection: &str, geometry: &str) -> (bool, String) {
    let wrapper =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/offline_stac_api_validator.py");
    let out = std::process::Command::new(py)
        .arg(&wrapper)
        .args(["--root-url", root])
        .args(["--conformance", "core"])
        .args(["--conformance", "features"])
        .args(["--conformance", "collections"])
        .args(["--conformance", "item-search"])
        .args(["--conformance", "filter"])
        .args(["--collection", collection])
        .args(["--geometry", geometry])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}
