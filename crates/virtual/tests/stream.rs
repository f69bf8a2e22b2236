#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Streaming: references written as they are made (`build_into` with the
//! JSON and Parquet writers) mean exactly what the collected set
//! (`build`, then `json::write` / `parquet::write`) means — same keys, same
//! values, same Parquet rows in the same files — on the fixture files and
//! on generated sets of many NetCDF-3 files (combined along their first
//! axis, and along a later one); and they come file by file.

use arco_virtual::json::JsonWriter;
use arco_virtual::parquet::ParquetWriter;
use arco_virtual::{build, build_into, Header, Input, Options, Reference, Sink, Source, Summary};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn sources(locations: &[String]) -> Vec<Source> {
    locations
        .iter()
        .map(|l| Source {
            location: l.clone(),
            bytes: arco_storage::open(l, &Default::default()).unwrap(),
        })
        .collect()
}

/// The input of `locations`: one file, or the files concatenated along
/// `time`, opened lazily (one reader held at a time, so parts are reopened).
enum Opened {
    Single(Box<dyn arco_formats::Reader>),
    Concat(Box<arco_formats::concat::ConcatReader>),
}

impl Opened {
    fn new(locations: &[String]) -> Self {
        Opened::along(locations, "time")
    }

    /// Concatenated along `dim`.
    fn along(locations: &[String], dim: &str) -> Self {
        if let [one] = locations {
            let bytes = arco_storage::open(one, &Default::default()).unwrap();
            return Opened::Single(arco_formats::open(bytes).unwrap());
        }
        let opener: arco_formats::concat::Opener =
            Arc::new(|l: &str| arco_formats::open(arco_storage::open(l, &Default::default())?));
        let options = arco_formats::concat::ConcatOptions {
            dim: Some(dim.into()),
            open_readers: 1,
            ..Default::default()
        };
        Opened::Concat(Box::new(
            arco_formats::concat::concat_lazy(locations.to_vec(), opener, &options).unwrap(),
        ))
    }

    fn input(&self) -> Input<'_> {
        match self {
            Opened::Single(r) => Input::Single(r.as_ref()),
            Opened::Concat(c) => Input::Concat(c.as_ref()),
        }
    }
}

/// A JSON document with the provenance's time and command taken out (they
/// differ from build to build).
fn normalized(mut doc: Value) -> Value {
    fn strip(attrs: &mut Value) {
        if let Some(p) = attrs
            .get_mut("arco:provenance")
            .and_then(Value::as_object_mut)
        {
            p.remove("created");
        }
    }
    if let Some(refs) = doc.get_mut("refs").and_then(Value::as_object_mut) {
        for key in [".zattrs", ".zmetadata"] {
            if let Some(text) = refs.get(key).and_then(Value::as_str) {
                let mut v: Value = serde_json::from_str(text).unwrap();
                strip(&mut v);
                if let Some(m) = v.get_mut("metadata") {
                    strip(&mut m[".zattrs"]);
                }
                refs.insert(key.into(), Value::String(v.to_string()));
            }
        }
    }
    if let Some(m) = doc.get_mut("metadata") {
        strip(&mut m[".zattrs"]);
    }
    doc
}

/// One row of a reference file: path, offset, size, raw.
type Row = (Option<String>, i64, i64, Option<Vec<u8>>);

fn rows(file: &Path) -> Vec<Row> {
    let r = SerializedFileReader::new(std::fs::File::open(file).unwrap()).unwrap();
    r.get_row_iter(None)
        .unwrap()
        .map(|row| {
            let row = row.unwrap();
            let f: Vec<&Field> = row.get_column_iter().map(|(_, f)| f).collect();
            let text = |x: &Field| match x {
                Field::Str(s) => Some(s.clone()),
                Field::Null => None,
                other => panic!("path {other:?}"),
            };
            let num = |x: &Field| match x {
                Field::Long(v) => *v,
                other => panic!("int {other:?}"),
            };
            let raw = |x: &Field| match x {
                Field::Bytes(b) => Some(b.data().to_vec()),
                Field::Null => None,
                other => panic!("raw {other:?}"),
            };
            (text(f[0]), num(f[1]), num(f[2]), raw(f[3]))
        })
        .collect()
}

/// Every file of a Parquet reference folder: `.zmetadata` as JSON, the
/// reference files as rows.
fn parquet_folder(dir: &Path) -> BTreeMap<String, Result<Value, Vec<Row>>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            if rel == ".zmetadata" {
                let v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
                out.insert(rel, Ok(normalized(v)));
            } else {
                out.insert(rel, Err(rows(&p)));
            }
        }
    }
    out
}

/// Build `locations` both ways and write both outputs; assert they mean
/// the same. Returns the streamed Parquet folder's listing.
fn same_both_ways(
    locations: &[String],
    options: &Options,
    record_size: u64,
) -> (Summary, BTreeMap<String, Result<Value, Vec<Row>>>) {
    same_both_ways_along(locations, "time", options, record_size)
}

/// [`same_both_ways`] with the files concatenated along `dim`.
fn same_both_ways_along(
    locations: &[String],
    dim: &str,
    options: &Options,
    record_size: u64,
) -> (Summary, BTreeMap<String, Result<Value, Vec<Row>>>) {
    let dir = tempfile::tempdir().unwrap();
    let srcs = sources(locations);

    // Collected, then written array by array (the in-memory path).
    let opened = Opened::along(locations, dim);
    let (refs, collected_summary) = build(opened.input(), &srcs, options).unwrap();
    let json_a = dir.path().join("a.json");
    let parq_a = dir.path().join("a.parq");
    arco_virtual::json::write(&refs, &json_a, false).unwrap();
    arco_virtual::parquet::write(&refs, &parq_a, record_size, false).unwrap();

    // Streamed, file by file, into the writers.
    let opened = Opened::along(locations, dim);
    let json_b = dir.path().join("b.json");
    let mut w = JsonWriter::create(&json_b, false).unwrap();
    let summary = build_into(opened.input(), &srcs, options, &mut w).unwrap();
    w.finish().unwrap();
    let opened = Opened::along(locations, dim);
    let parq_b = dir.path().join("b.parq");
    let mut w = ParquetWriter::create(&parq_b, record_size, false).unwrap();
    let summary_p = build_into(opened.input(), &srcs, options, &mut w).unwrap();
    w.finish().unwrap();

    assert_eq!(summary, collected_summary, "{locations:?}");
    assert_eq!(summary_p, collected_summary, "{locations:?}");
    let read = |p: &Path| normalized(serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap());
    let (a, b) = (read(&json_a), read(&json_b));
    assert_eq!(
        a["refs"].as_object().unwrap().len(),
        b["refs"].as_object().unwrap().len()
    );
    assert_eq!(a, b, "kerchunk JSON of {locations:?}");
    let (pa, pb) = (parquet_folder(&parq_a), parquet_folder(&parq_b));
    assert_eq!(
        pa.keys().collect::<Vec<_>>(),
        pb.keys().collect::<Vec<_>>(),
        "Parquet files of {locations:?}"
    );
    assert_eq!(pa, pb, "Parquet rows of {locations:?}");
    (summary, pb)
}

#[test]
fn streamed_references_of_the_fixture_files_equal_the_collected_ones() {
    let thresholds = [
        Options::default(),
        Options {
            inline_threshold: 0,
            ..Options::default()
        },
    ];
    for name in [
        "fixtures/nc3_classic.nc",
        "fixtures/nc3_64bit_offset.nc",
        "fixtures/nc3_empty_record.nc",
        "fixtures/nc4_cf.nc",
        "fixtures/nc4_groups.nc",
        "fixtures/nc4_storage.nc",
        "fixtures/nc4_types.nc",
        "fixtures/h5_filters.h5",
        "fixtures/h5_chunk_indexes_latest.h5",
        "fixtures/h5_compact.h5",
        "fixtures/h5_earliest.h5",
        "real/netcdf4/cordex.nc",
        "real/netcdf3/sub.nc",
    ] {
        for options in &thresholds {
            same_both_ways(&[fixture(name)], options, 3);
        }
    }
}

/// A NetCDF-3 classic variable to write: dimension ids, type (3 short,
/// 5 float, 6 double), text attributes, and its big-endian values (every
/// record, in order, for a record variable).
struct Nc3Var {
    name: &'static str,
    dims: Vec<u32>,
    ty: u32,
    attrs: Vec<(&'static str, String)>,
    data: Vec<u8>,
}

fn nc3_name(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
    out.resize(out.len().next_multiple_of(4), 0);
}

/// Write a NetCDF-3 classic file: `dims` (length 0 = the record dimension),
/// `records` records, `vars` (every record variable first, more than one).
fn write_nc3(path: &Path, dims: &[(&str, u32)], records: u32, vars: &[Nc3Var]) {
    let type_size = |t: u32| match t {
        3 => 2u32,
        5 => 4,
        _ => 8,
    };
    let is_record = |v: &Nc3Var| v.dims.first().is_some_and(|d| dims[*d as usize].1 == 0);
    let slice_bytes = |v: &Nc3Var| -> u32 {
        v.dims
            .iter()
            .filter(|d| dims[**d as usize].1 != 0)
            .map(|d| dims[*d as usize].1)
            .product::<u32>()
            * type_size(v.ty)
    };
    let vsize = |v: &Nc3Var| slice_bytes(v).next_multiple_of(4);
    let header = |begins: &[u32]| -> Vec<u8> {
        let mut h = b"CDF\x01".to_vec();
        h.extend_from_slice(&records.to_be_bytes());
        h.extend_from_slice(&10u32.to_be_bytes());
        h.extend_from_slice(&(dims.len() as u32).to_be_bytes());
        for (name, len) in dims {
            nc3_name(&mut h, name);
            h.extend_from_slice(&len.to_be_bytes());
        }
        h.extend_from_slice(&[0; 8]); // no global attributes
        h.extend_from_slice(&11u32.to_be_bytes());
        h.extend_from_slice(&(vars.len() as u32).to_be_bytes());
        for (v, begin) in vars.iter().zip(begins) {
            nc3_name(&mut h, v.name);
            h.extend_from_slice(&(v.dims.len() as u32).to_be_bytes());
            for d in &v.dims {
                h.extend_from_slice(&d.to_be_bytes());
            }
            if v.attrs.is_empty() {
                h.extend_from_slice(&[0; 8]);
            } else {
                h.extend_from_slice(&12u32.to_be_bytes());
                h.extend_from_slice(&(v.attrs.len() as u32).to_be_bytes());
                for (k, text) in &v.attrs {
                    nc3_name(&mut h, k);
                    h.extend_from_slice(&2u32.to_be_bytes());
                    nc3_name(&mut h, text);
                }
            }
            h.extend_from_slice(&v.ty.to_be_bytes());
            h.extend_from_slice(&vsize(v).to_be_bytes());
            h.extend_from_slice(&begin.to_be_bytes());
        }
        h
    };
    let start = header(&vec![0; vars.len()]).len() as u32;
    let mut begins = Vec::new();
    let mut at = start;
    for v in vars.iter().filter(|v| !is_record(v)) {
        begins.push((v.name, at));
        at += vsize(v);
    }
    let record_start = at;
    let recsize: u32 = vars.iter().filter(|v| is_record(v)).map(vsize).sum();
    let mut in_record = 0;
    for v in vars.iter().filter(|v| is_record(v)) {
        begins.push((v.name, record_start + in_record));
        in_record += vsize(v);
    }
    let begin_of: Vec<u32> = vars
        .iter()
        .map(|v| begins.iter().find(|(n, _)| *n == v.name).unwrap().1)
        .collect();
    let mut file = header(&begin_of);
    file.resize((record_start + recsize * records) as usize, 0);
    for (v, begin) in vars.iter().zip(&begin_of) {
        if is_record(v) {
            let n = slice_bytes(v) as usize;
            for r in 0..records as usize {
                let at = (*begin + recsize * r as u32) as usize;
                file[at..at + n].copy_from_slice(&v.data[r * n..(r + 1) * n]);
            }
        } else {
            let at = *begin as usize;
            file[at..at + v.data.len()].copy_from_slice(&v.data);
        }
    }
    std::fs::write(path, file).unwrap();
}

/// `files` NetCDF-3 files of `records` records each along `time`: `time`,
/// `tas(time, y, x)` float, `flag(time, y)` short, and `lat(y)` double.
fn nc3_set(dir: &Path, files: usize, records: u32) -> Vec<String> {
    nc3_set_split(dir, files, records, false)
}

/// [`nc3_set`], or with `along_y` files that split `y` instead: the same
/// times in every file, `lat` continuing from file to file.
fn nc3_set_split(dir: &Path, files: usize, records: u32, along_y: bool) -> Vec<String> {
    let (ny, nx) = (3u32, 4u32);
    (0..files)
        .map(|f| {
            let path = dir.join(format!("part_{f:03}.nc"));
            let t0 = if along_y { 0 } else { f as u32 * records };
            let y0 = if along_y { f as u32 * ny } else { 0 };
            let time: Vec<u8> = (t0..t0 + records)
                .flat_map(|t| f64::from(t).to_be_bytes())
                .collect();
            let tas: Vec<u8> = (0..records * ny * nx)
                .flat_map(|i| (280.0 + (t0 * ny * nx + i) as f32 * 0.25).to_be_bytes())
                .collect();
            let flag: Vec<u8> = (0..records * ny)
                .flat_map(|i| ((t0 * ny + i) as i16).to_be_bytes())
                .collect();
            let lat: Vec<u8> = (y0..y0 + ny)
                .flat_map(|i| (f64::from(i) * 10.0).to_be_bytes())
                .collect();
            write_nc3(
                &path,
                &[("time", 0), ("y", ny), ("x", nx)],
                records,
                &[
                    Nc3Var {
                        name: "lat",
                        dims: vec![1],
                        ty: 6,
                        attrs: vec![("units", "degrees_north".into())],
                        data: lat,
                    },
                    Nc3Var {
                        name: "time",
                        dims: vec![0],
                        ty: 6,
                        attrs: vec![("units", "hours since 2000-01-01".into())],
                        data: time,
                    },
                    Nc3Var {
                        name: "tas",
                        dims: vec![0, 1, 2],
                        ty: 5,
                        attrs: vec![("units", "K".into())],
                        data: tas,
                    },
                    Nc3Var {
                        name: "flag",
                        dims: vec![0, 1],
                        ty: 3,
                        attrs: vec![],
                        data: flag,
                    },
                ],
            );
            path.to_string_lossy().into_owned()
        })
        .collect()
}

#[test]
fn a_generated_nc3_file_reads_back_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let files = nc3_set(dir.path(), 2, 3);
    let r =
        arco_formats::open(arco_storage::open(&files[1], &Default::default()).unwrap()).unwrap();
    let tas = r
        .read("tas", &arco_core::Selection::all(&[3, 3, 4]))
        .unwrap();
    let arco_core::Values::F32(v) = tas.values else {
        panic!("tas is {:?}", tas.values.type_name())
    };
    assert_eq!(v[0], 280.0 + 36.0 * 0.25);
    assert_eq!(v[35], 280.0 + 71.0 * 0.25);
}

#[test]
fn streamed_references_of_many_files_equal_the_collected_ones_across_parquet_windows() {
    let dir = tempfile::tempdir().unwrap();
    let files = nc3_set(dir.path(), 23, 3);
    for options in [
        Options {
            inline_threshold: 0,
            ..Options::default()
        },
        Options::default(),
    ] {
        let (summary, listing) = same_both_ways(&files, &options, 4);
        assert_eq!(summary.variables, 4);
        // 69 records of tas, 4 per file: 18 files, the last of 1 row.
        let tas: Vec<&String> = listing
            .keys()
            .filter(|k| k.starts_with("tas/refs."))
            .collect();
        assert_eq!(tas.len(), 18, "{tas:?}");
        let Err(last) = &listing["tas/refs.17.parq"] else {
            panic!("not rows")
        };
        assert_eq!(last.len(), 1);
        let Err(first) = &listing["tas/refs.0.parq"] else {
            panic!("not rows")
        };
        if options.inline_threshold == 0 {
            // Record 3 is the first record of the second file.
            assert!(first[3].0.as_deref().unwrap().ends_with("part_001.nc"));
        }
    }
    // With the concatenation the record variables' chunks come from every
    // file; with one file, the same code path.
    same_both_ways(&files[..1], &Options::default(), 2);
}

#[test]
fn a_concatenation_along_a_later_axis_streams_out_of_order_and_still_equals_the_collected_one() {
    let dir = tempfile::tempdir().unwrap();
    let files = nc3_set_split(dir.path(), 5, 2, true);
    let options = Options {
        inline_threshold: 0,
        ..Options::default()
    };
    // tas(time, y, x) and flag(time, y) are combined along y, their second
    // axis: chunk numbers jump back at every file.
    let opened = Opened::along(&files, "y");
    let mut rec = Recorder::default();
    build_into(opened.input(), &sources(&files), &options, &mut rec).unwrap();
    let header = rec.header.unwrap();
    let tas = header.arrays.iter().position(|a| a.path == "tas").unwrap();
    assert!(!header.arrays[tas].ordered);
    assert_eq!(header.arrays[tas].grid, [2, 5, 1]);
    let flats: Vec<u64> = rec
        .chunks
        .iter()
        .filter(|(j, _, _)| *j == tas)
        .map(|(_, f, _)| *f)
        .collect();
    assert_eq!(flats, [0, 5, 1, 6, 2, 7, 3, 8, 4, 9]);
    // The Parquet writer holds such an array whole and sorts it.
    let (_, listing) = same_both_ways_along(&files, "y", &options, 3);
    let tas_files: Vec<&String> = listing
        .keys()
        .filter(|k| k.starts_with("tas/refs."))
        .collect();
    assert_eq!(tas_files.len(), 4, "{tas_files:?}");
}

/// Records what a build hands over, in order.
#[derive(Default)]
struct Recorder {
    header: Option<Header>,
    chunks: Vec<(usize, u64, Reference)>,
}

impl Sink for Recorder {
    fn begin(&mut self, header: &Header) -> arco_virtual::Result<()> {
        assert!(self.header.is_none(), "begin twice");
        self.header = Some(header.clone());
        Ok(())
    }
    fn chunk(&mut self, array: usize, flat: u64, r: Reference) -> arco_virtual::Result<()> {
        assert!(self.header.is_some(), "a chunk before the header");
        self.chunks.push((array, flat, r));
        Ok(())
    }
}

#[test]
fn references_come_file_by_file_and_in_order_within_each_array() {
    let dir = tempfile::tempdir().unwrap();
    let files = nc3_set(dir.path(), 6, 2);
    let srcs = sources(&files);
    let opened = Opened::new(&files);
    let options = Options {
        inline_threshold: 0,
        ..Options::default()
    };
    let mut rec = Recorder::default();
    build_into(opened.input(), &srcs, &options, &mut rec).unwrap();
    let header = rec.header.unwrap();
    // Every metadata document is in the header, before any chunk.
    assert!(header.metadata.iter().any(|(k, _)| k == "tas/.zarray"));
    let sources_seen: Vec<usize> = rec
        .chunks
        .iter()
        .filter_map(|(_, _, r)| match r {
            Reference::Range { source, .. } => Some(*source),
            Reference::Inline(_) => None,
        })
        .collect();
    assert!(
        sources_seen.windows(2).all(|w| w[0] <= w[1]),
        "byte ranges come file by file: {sources_seen:?}"
    );
    assert_eq!(sources_seen.first(), Some(&0));
    assert_eq!(sources_seen.last(), Some(&5));
    for (i, a) in header.arrays.iter().enumerate() {
        let flats: Vec<u64> = rec
            .chunks
            .iter()
            .filter(|(j, _, _)| *j == i)
            .map(|(_, f, _)| *f)
            .collect();
        assert!(a.ordered, "{} is concatenated along its first axis", a.path);
        assert!(
            flats.windows(2).all(|w| w[0] < w[1]),
            "{}: {flats:?}",
            a.path
        );
    }
    let tas = header.arrays.iter().position(|a| a.path == "tas").unwrap();
    assert_eq!(rec.chunks.iter().filter(|(j, _, _)| *j == tas).count(), 12);
}

/// A sink that fails on its `n`-th chunk.
struct FailAfter<S: Sink> {
    inner: S,
    left: usize,
}

impl<S: Sink> Sink for FailAfter<S> {
    fn begin(&mut self, header: &Header) -> arco_virtual::Result<()> {
        self.inner.begin(header)
    }
    fn chunk(&mut self, array: usize, flat: u64, r: Reference) -> arco_virtual::Result<()> {
        if self.left == 0 {
            return Err(arco_virtual::Error::Output {
                path: "test".into(),
                message: "stop".into(),
            });
        }
        self.left -= 1;
        self.inner.chunk(array, flat, r)
    }
}

#[test]
fn a_build_that_fails_midway_leaves_no_output_and_the_old_one_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let files = nc3_set(dir.path(), 4, 2);
    let srcs = sources(&files);
    let out = tempfile::tempdir().unwrap();
    let json = out.path().join("r.json");
    let parq = out.path().join("r.parq");
    std::fs::write(&json, b"old").unwrap();
    for (dest, parquet) in [(&json, false), (&parq, true)] {
        let opened = Opened::new(&files);
        let options = Options {
            inline_threshold: 0,
            ..Options::default()
        };
        let e = if parquet {
            let mut sink = FailAfter {
                inner: ParquetWriter::create(dest, 2, true).unwrap(),
                left: 5,
            };
            build_into(opened.input(), &srcs, &options, &mut sink).unwrap_err()
        } else {
            let mut sink = FailAfter {
                inner: JsonWriter::create(dest, true).unwrap(),
                left: 5,
            };
            build_into(opened.input(), &srcs, &options, &mut sink).unwrap_err()
        };
        assert!(e.to_string().contains("stop"), "{e}");
    }
    let names: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["r.json"], "no temporary file or folder is left");
    assert_eq!(std::fs::read(&json).unwrap(), b"old");
}
