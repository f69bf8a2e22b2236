//! Conversions of real files, read back through the Zarr reader and compared
//! value for value with the source reader.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arco_core::{NdArray, Selection, Values};
use arco_engine::{
    chunking::ChunkOptions, convert, plan, ConvertOptions, Layout, MemoryBudget, OutputOptions,
    Plan, Progress, SourceStamp, Strategy, Summary,
};
use arco_formats::Reader;
use arco_zarr::ZarrStore;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

fn data(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data")
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

fn open(path: &str) -> Box<dyn Reader> {
    let src = arco_storage::open(path, &Default::default()).unwrap();
    arco_formats::open(src).unwrap()
}

fn options(layout: Layout, chunk: u64, memory: u64, threads: usize) -> ConvertOptions {
    ConvertOptions {
        chunks: ChunkOptions {
            layout,
            target_bytes: chunk,
            ..ChunkOptions::default()
        },
        memory: MemoryBudget::user(memory),
        threads,
        ..ConvertOptions::default()
    }
}

fn make_plan(reader: &dyn Reader, path: &str, opts: &ConvertOptions) -> Plan {
    let stamps = vec![SourceStamp::of(path, reader.dataset().size)];
    plan(reader, &stamps, opts).unwrap()
}

/// Convert and collect the progress events.
fn run(
    reader: &dyn Reader,
    plan: &Plan,
    out: &OutputOptions,
) -> (arco_engine::Result<Summary>, Vec<Progress>) {
    let events = Mutex::new(Vec::new());
    let r = convert(reader, plan, out, &|e| events.lock().unwrap().push(e));
    (r, events.into_inner().unwrap())
}

/// Equal values, NaN equal to NaN (bitwise for floats).
fn same(a: &Values, b: &Values) -> bool {
    match (a, b) {
        (Values::F32(x), Values::F32(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits())
        }
        (Values::F64(x), Values::F64(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits())
        }
        _ => a == b,
    }
}

/// Every variable (every field of compounds) reads back equal.
fn assert_same_values(reader: &dyn Reader, dest: &str) -> usize {
    let store = ZarrStore::open(dest, &Default::default()).unwrap();
    let mut compared = 0;
    for var in reader.dataset().root.all_variables() {
        let sel = Selection::all(&var.shape);
        let src = reader.read(&var.path, &sel).unwrap();
        let expected: Vec<(String, NdArray)> = match src.values {
            Values::Compound(cols) => cols
                .into_iter()
                .map(|(name, values)| {
                    (
                        format!("{}/{name}", var.path),
                        NdArray {
                            shape: src.shape.clone(),
                            values,
                        },
                    )
                })
                .collect(),
            values => vec![(
                var.path.clone(),
                NdArray {
                    shape: src.shape.clone(),
                    values,
                },
            )],
        };
        for (path, want) in expected {
            let got = store
                .read(&path, &sel)
                .unwrap_or_else(|e| panic!("{dest}: reading {path}: {e}"));
            assert_eq!(got.shape, want.shape, "{path}");
            assert!(
                same(&got.values, &want.values),
                "{path} differs:\n got {:?}\nwant {:?}",
                got.values,
                want.values
            );
            compared += 1;
        }
    }
    compared
}

fn zarr_json(dest: &Path, array: &str) -> serde_json::Value {
    let p = dest.join(array.trim_start_matches('/')).join("zarr.json");
    serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap()
}

fn chunk_shape(dest: &Path, array: &str) -> Vec<u64> {
    let meta = zarr_json(dest, array);
    let grid = &meta["chunk_grid"]["configuration"]["chunk_shape"];
    grid.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect()
}

#[test]
fn real_files_convert_and_read_back_value_for_value() {
    for (file, at_least) in [
        ("real/netcdf3/sub.nc", 6),
        ("real/netcdf4/era5-levels-members.nc", 8),
        ("real/netcdf4/cordex.nc", 11),
        ("fixtures/h5_types.h5", 20),
    ] {
        let path = data(file);
        let reader = open(&path);
        let plan = make_plan(
            reader.as_ref(),
            &path,
            &options(Layout::Balanced, 8 << 20, 1 << 30, 2),
        );
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.zarr");
        let out = OutputOptions::new(dest.to_str().unwrap());
        let (r, events) = run(reader.as_ref(), &plan, &out);
        let summary = r.unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(matches!(events.first(), Some(Progress::Planned { .. })));
        assert!(matches!(events.last(), Some(Progress::Finished { .. })));
        assert!(dest.is_dir() && !dir.path().join("out.zarr.arco-partial").exists());
        let n = assert_same_values(reader.as_ref(), dest.to_str().unwrap());
        assert!(n >= at_least, "{file}: only {n} arrays compared");
        assert_eq!(summary.tasks_skipped, 0);
        // Provenance and the source's global attributes at the root.
        let root = zarr_json(&dest, "");
        let prov = &root["attributes"]["arco:provenance"];
        assert_eq!(prov["arco_version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(prov["inputs"][0]["size"], reader.dataset().size);
        assert_eq!(prov["inputs"][0]["sha256"].as_str().unwrap().len(), 64);
        for a in &reader.dataset().root.attributes {
            assert!(
                root["attributes"].get(&a.name).is_some(),
                "{file}: {}",
                a.name
            );
        }
        // Markers and the intermediate store are gone; completion is recorded.
        assert!(!dest.join(".arco/tasks").exists());
        assert!(dest.join(".arco/complete").exists());
    }
}

#[test]
fn a_compound_dataset_becomes_a_group_of_field_arrays() {
    let path = data("fixtures/h5_types.h5");
    let reader = open(&path);
    let plan = make_plan(
        reader.as_ref(),
        &path,
        &options(Layout::Balanced, 8 << 20, 1 << 30, 1),
    );
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("types.zarr");
    run(
        reader.as_ref(),
        &plan,
        &OutputOptions::new(dest.to_str().unwrap()),
    )
    .0
    .unwrap();
    assert_eq!(zarr_json(&dest, "Events")["node_type"], "group");
    for field in ["time", "mean", "flag"] {
        assert_eq!(
            zarr_json(&dest, &format!("Events/{field}"))["node_type"],
            "array"
        );
    }
}

#[test]
fn map_and_timeseries_layouts_give_their_chunk_shapes() {
    let path = data("real/netcdf4/era5-levels-members.nc");
    let reader = open(&path);
    // z(number=10, time=4, isobaricInhPa=2, latitude=61, longitude=120), float64.
    for (layout, want) in [
        (Layout::Map, vec![1, 1, 1, 61, 120]),
        (Layout::Timeseries, vec![1, 4, 1, 45, 45]),
    ] {
        let plan = make_plan(
            reader.as_ref(),
            &path,
            &options(layout, 64 << 10, 1 << 30, 2),
        );
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("z.zarr");
        run(
            reader.as_ref(),
            &plan,
            &OutputOptions::new(dest.to_str().unwrap()),
        )
        .0
        .unwrap();
        assert_eq!(chunk_shape(&dest, "z"), want, "{layout:?}");
        // Coordinates stay one chunk.
        assert_eq!(chunk_shape(&dest, "latitude"), vec![61]);
        assert_same_values(reader.as_ref(), dest.to_str().unwrap());
    }
}

#[test]
fn a_tiny_memory_budget_rechunks_through_an_intermediate_store_with_identical_values() {
    let path = data("real/netcdf4/era5-levels-members.nc");
    let reader = open(&path);
    let opts = options(Layout::Timeseries, 64 << 10, 256 << 10, 1);
    let plan = make_plan(reader.as_ref(), &path, &opts);
    let z = plan.variables.iter().find(|v| v.source == "/z").unwrap();
    let Strategy::Rechunk {
        read, intermediate, ..
    } = &z.strategy
    else {
        panic!("expected a rechunk, got {:?}", z.strategy);
    };
    assert!(read.iter().product::<u64>() * 8 <= plan.task_bytes);
    assert!(intermediate.iter().zip(read).all(|(i, r)| i <= r));
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("ts.zarr");
    let (r, events) = run(
        reader.as_ref(),
        &plan,
        &OutputOptions::new(dest.to_str().unwrap()),
    );
    let summary = r.unwrap();
    assert!(summary.rechunked.contains(&"/z".to_string()));
    assert!(events
        .iter()
        .any(|e| matches!(e, Progress::Phase { name, .. } if name == "rechunk")));
    assert_eq!(chunk_shape(&dest, "z"), z.chunk);
    assert_same_values(reader.as_ref(), dest.to_str().unwrap());
    assert!(!dest.join(".arco/tmp").exists());
}

#[test]
fn an_interrupted_run_resumes_and_skips_completed_tasks() {
    let path = data("real/netcdf4/era5-levels-members.nc");
    let reader = open(&path);
    let plan = make_plan(
        reader.as_ref(),
        &path,
        &options(Layout::Timeseries, 64 << 10, 256 << 10, 1),
    );
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("r.zarr");
    let partial = dir.path().join("r.zarr.arco-partial");
    let mut out = OutputOptions::new(dest.to_str().unwrap());
    out.fail_after_tasks = Some(5);
    let (r, _) = run(reader.as_ref(), &plan, &out);
    let err = r.unwrap_err();
    assert!(err.to_string().contains("rerun"), "{err}");
    // Nothing under the final name; the partial output has no root metadata.
    assert!(!dest.exists());
    assert!(partial.is_dir());
    assert!(!partial.join("zarr.json").exists());
    assert!(ZarrStore::open(dest.to_str().unwrap(), &Default::default())
        .and_then(|s| s.read("/z", &Selection::all(&[1, 1, 1, 1, 1])))
        .is_err());
    out.fail_after_tasks = None;
    let (r, events) = run(reader.as_ref(), &plan, &out);
    let summary = r.unwrap();
    assert_eq!(summary.tasks_skipped, 5);
    assert!(events
        .iter()
        .any(|e| matches!(e, Progress::Phase { name, .. } if name == "resume")));
    assert!(dest.is_dir() && !partial.exists());
    assert_same_values(reader.as_ref(), dest.to_str().unwrap());
}

#[test]
fn a_different_plan_over_a_partial_output_starts_over() {
    let path = data("real/netcdf3/sub.nc");
    let reader = open(&path);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("s.zarr");
    let mut out = OutputOptions::new(dest.to_str().unwrap());
    out.fail_after_tasks = Some(1);
    let first = make_plan(
        reader.as_ref(),
        &path,
        &options(Layout::Map, 1 << 10, 1 << 30, 1),
    );
    assert!(run(reader.as_ref(), &first, &out).0.is_err());
    out.fail_after_tasks = None;
    let second = make_plan(
        reader.as_ref(),
        &path,
        &options(Layout::Timeseries, 1 << 10, 1 << 30, 1),
    );
    assert_ne!(first.hash, second.hash);
    let (r, events) = run(reader.as_ref(), &second, &out);
    let summary = r.unwrap();
    assert_eq!(summary.tasks_skipped, 0);
    assert!(events
        .iter()
        .any(|e| matches!(e, Progress::Phase { name, .. } if name == "restart")));
    assert_same_values(reader.as_ref(), dest.to_str().unwrap());
}

#[test]
fn the_same_inputs_and_options_make_the_same_plan_hash() {
    let path = data("real/netcdf3/sub.nc");
    let reader = open(&path);
    let o = options(Layout::Map, 1 << 10, 1 << 30, 2);
    let a = make_plan(reader.as_ref(), &path, &o);
    let b = make_plan(reader.as_ref(), &path, &o);
    assert_eq!(a.hash, b.hash);
    let c = make_plan(
        reader.as_ref(),
        &path,
        &options(Layout::Map, 2 << 10, 1 << 30, 2),
    );
    assert_ne!(a.hash, c.hash);
    // The plan is data.
    let json = serde_json::to_value(&a).unwrap();
    assert_eq!(json["hash"], a.hash);
}

#[test]
fn existing_and_unwritable_destinations_are_refused_with_their_path() {
    let path = data("real/netcdf3/sub.nc");
    let reader = open(&path);
    let plan = make_plan(
        reader.as_ref(),
        &path,
        &options(Layout::Balanced, 8 << 20, 1 << 30, 1),
    );
    let dir = tempfile::tempdir().unwrap();

    // Under a regular file: cannot be created.
    let file = dir.path().join("file.txt");
    std::fs::write(&file, b"x").unwrap();
    let bad = file.join("out.zarr");
    let err = run(
        reader.as_ref(),
        &plan,
        &OutputOptions::new(bad.to_str().unwrap()),
    )
    .0
    .unwrap_err()
    .to_string();
    assert!(err.contains("file.txt"), "{err}");

    // Existing output: refused, then replaced with overwrite.
    let dest = dir.path().join("o.zarr");
    let mut out = OutputOptions::new(dest.to_str().unwrap());
    run(reader.as_ref(), &plan, &out).0.unwrap();
    let err = run(reader.as_ref(), &plan, &out).0.unwrap_err().to_string();
    assert!(
        err.contains("o.zarr") && err.contains("--overwrite"),
        "{err}"
    );
    out.overwrite = true;
    run(reader.as_ref(), &plan, &out).0.unwrap();
    assert_same_values(reader.as_ref(), dest.to_str().unwrap());

    // Something that is not a Zarr store is never deleted.
    let precious = dir.path().join("precious");
    std::fs::create_dir(&precious).unwrap();
    std::fs::write(precious.join("thesis.tex"), b"x").unwrap();
    let mut out = OutputOptions::new(precious.to_str().unwrap());
    out.overwrite = true;
    let err = run(reader.as_ref(), &plan, &out).0.unwrap_err().to_string();
    assert!(err.contains("not a Zarr store"), "{err}");
    assert!(precious.join("thesis.tex").exists());
}

#[test]
fn shards_are_written_as_whole_multiples_of_chunks() {
    let path = data("real/netcdf4/era5-levels-members.nc");
    let reader = open(&path);
    let mut o = options(Layout::Map, 64 << 10, 1 << 30, 2);
    o.chunks.shard_bytes = Some(1 << 20);
    let plan = make_plan(reader.as_ref(), &path, &o);
    let z = plan.variables.iter().find(|v| v.source == "/z").unwrap();
    let shard = z.shard.clone().unwrap();
    assert!(shard.iter().zip(&z.chunk).all(|(s, c)| s % c == 0));
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("sh.zarr");
    run(
        reader.as_ref(),
        &plan,
        &OutputOptions::new(dest.to_str().unwrap()),
    )
    .0
    .unwrap();
    assert_same_values(reader.as_ref(), dest.to_str().unwrap());
}
