//! # arco-testkit
//!
//! Test support shared by arco's test suites; a dev-dependency only, never
//! published:
//!
//! * [`RecordingSource`]: bytes in memory served as a [`ByteSource`] that
//!   records every range read, for tests of what a parser reads;
//! * [`repo_path`]: a path under the repository root (fixtures, real files);
//! * [`peers_python`]: the Python of the reference tools' venv
//!   (`$ARCO_PEERS_VENV`, default `<repo>/.peers-venv`), or `None` after
//!   printing that the test is skipped — unless `ARCO_REQUIRE_PEERS=1`,
//!   where a missing tool fails the test.
#![warn(missing_docs)]

use arco_storage::{ByteSource, MemSource};
use bytes::Bytes;
use std::ops::Range;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};

/// Bytes in memory; every successful read is recorded.
///
/// ```
/// use arco_storage::ByteSource;
/// let src = arco_testkit::RecordingSource::new("mem.bin", &b"hello world"[..]);
/// assert_eq!(&src.read_range(6..11).unwrap()[..], b"world");
/// assert!(src.read_range(6..12).is_err());
/// assert_eq!(src.reads(), vec![6..11]);
/// ```
#[derive(Debug)]
pub struct RecordingSource {
    inner: MemSource,
    reads: Mutex<Vec<Range<u64>>>,
}

impl RecordingSource {
    /// Serve `bytes` under the name `location`.
    pub fn new(location: &str, bytes: impl Into<Bytes>) -> Arc<Self> {
        Arc::new(RecordingSource {
            inner: MemSource::new(location, bytes),
            reads: Mutex::new(Vec::new()),
        })
    }

    /// The ranges read so far, in order.
    pub fn reads(&self) -> Vec<Range<u64>> {
        self.reads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl ByteSource for RecordingSource {
    fn location(&self) -> &str {
        self.inner.location()
    }

    fn len(&self) -> u64 {
        self.inner.len()
    }

    fn read_range(&self, range: Range<u64>) -> arco_storage::Result<Bytes> {
        let bytes = self.inner.read_range(range.clone())?;
        self.reads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(range);
        Ok(bytes)
    }
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `rel` under the repository root, such as `tests/data/fixtures/tiff/x.tif`.
pub fn repo_path(rel: &str) -> String {
    repo_root().join(rel).to_string_lossy().into_owned()
}

/// The peers venv: `$ARCO_PEERS_VENV`, else `<repo>/.peers-venv`.
pub fn peers_venv() -> PathBuf {
    std::env::var_os("ARCO_PEERS_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".peers-venv"))
}

/// The peers venv's Python when it can import every module of `modules`
/// (`&["zarr", "xarray"]`). Otherwise `None`, after printing
/// `skipped: ...` — or, with `ARCO_REQUIRE_PEERS=1`, a panic (the test
/// fails), both naming the venv and saying to run `scripts/setup-peers.sh`.
pub fn peers_python(modules: &[&str]) -> Option<PathBuf> {
    peers_python_where(modules, "")
}

/// [`peers_python`] that also needs the Python statement `check` to run
/// after the imports (`"assert icechunk.__version__.startswith('1.')"`).
pub fn peers_python_where(modules: &[&str], check: &str) -> Option<PathBuf> {
    let venv = peers_venv();
    let py = venv.join("bin").join("python");
    let ok = py.exists()
        && Command::new(&py)
            .args(["-c", &format!("import {}\n{check}", modules.join(", "))])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if ok {
        return Some(py);
    }
    let msg = format!(
        "{}{} not found in {} (run scripts/setup-peers.sh)",
        modules.join("/"),
        if check.is_empty() {
            String::new()
        } else {
            format!(" (with {check})")
        },
        venv.display()
    );
    if std::env::var("ARCO_REQUIRE_PEERS").as_deref() == Ok("1") {
        // A missing reference tool fails the test that asked for it.
        #[allow(clippy::panic)]
        {
            panic!("{msg} and ARCO_REQUIRE_PEERS=1");
        }
    }
    eprintln!("skipped: {msg}");
    None
}
