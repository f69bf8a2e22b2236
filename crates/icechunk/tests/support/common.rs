#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Shared helpers: reference sets of the real files.

use arco_virtual::{build, Input, Options, References, Source};
use std::path::PathBuf;

/// The repository's `tests/data/real` directory.
pub fn real_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/real")
}

/// A reference set of one real file, as `arco virtualize` builds it.
pub fn references(relative: &str) -> References {
    let path = real_dir().join(relative);
    let location = path.to_str().unwrap().to_string();
    let bytes = arco_storage::open(&location, &Default::default()).unwrap();
    let reader = arco_formats::open(bytes.clone()).unwrap();
    let sources = vec![Source { location, bytes }];
    let (refs, _) = build(
        Input::Single(reader.as_ref()),
        &sources,
        &Options::default(),
    )
    .unwrap();
    refs
}
