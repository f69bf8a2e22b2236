#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! icechunk-python 1.x (from the peers venv) opens the spec-version-1
//! repositories arco writes, and every variable equals what xarray reads
//! from the source file. Skipped with a message when the venv or its
//! icechunk is missing, unless `ARCO_REQUIRE_PEERS=1`.

#[path = "support/common.rs"]
mod common;

use arco_icechunk::{write, IcechunkOptions, SpecVersion};
use arco_virtual::{build, Input, Options, Source};
use std::path::PathBuf;
use std::process::Command;

/// The peers venv's python, if it has icechunk 1.x and the modules used here.
fn python() -> Option<PathBuf> {
    arco_testkit::peers_python_where(
        &["icechunk", "xarray", "netCDF4"],
        "assert icechunk.__version__.startswith('1.')",
    )
}

#[test]
fn icechunk_python_reads_every_real_file_as_xarray_reads_the_source() {
    let Some(py) = python() else { return };
    let real = common::real_dir();
    let work = tempfile::tempdir().unwrap();
    let mut cases = Vec::new();
    let mut files: Vec<PathBuf> = ["netcdf3", "netcdf4", "hdf5-fixtures"]
        .iter()
        .flat_map(|d| std::fs::read_dir(real.join(d)).unwrap())
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for (i, path) in files.iter().enumerate() {
        let location = std::fs::canonicalize(path)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let bytes = arco_storage::open(&location, &Default::default()).unwrap();
        let Ok(reader) = arco_formats::open(bytes.clone()) else {
            eprintln!("not read by arco: {location}");
            continue;
        };
        let sources = vec![Source {
            location: location.clone(),
            bytes,
        }];
        let refs = match build(
            Input::Single(reader.as_ref()),
            &sources,
            &Options::default(),
        ) {
            Ok((refs, _)) => refs,
            Err(e) => {
                eprintln!("does not virtualize: {location}: {e}");
                continue;
            }
        };
        let repo = work.path().join(format!("{i}.icechunk"));
        let options = IcechunkOptions {
            spec_version: SpecVersion::V1,
            message: "interop".into(),
            overwrite: false,
        };
        let summary = write(&refs, &repo, &options)
            .unwrap_or_else(|e| panic!("{location}: writing the repository failed: {e}"));
        cases.push(serde_json::json!({
            "src": location,
            "repo": repo.to_str().unwrap(),
            "containers": summary.containers,
        }));
    }
    assert!(
        cases.len() >= 10,
        "only {} real files virtualized",
        cases.len()
    );
    let list = work.path().join("cases.json");
    std::fs::write(&list, serde_json::to_vec(&cases).unwrap()).unwrap();
    let judge = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/icechunk_judge.py");
    let out = Command::new(py).arg(judge).arg(&list).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "icechunk-python disagrees with xarray:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.matches("\nOK ").count(), cases.len(), "{stdout}");
}
