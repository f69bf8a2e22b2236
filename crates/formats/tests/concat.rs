//! Concatenating NetCDF-3 files along a dimension: the joined dataset reads as
//! the unsplit file did, and every mismatch is refused naming both files.
//!
//! The inputs are written here by a tiny NetCDF-3 classic writer: one
//! "unsplit" file with nine time steps, and parts holding a range of them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arco_core::{DimSlice, NdArray, Selection, Values};
use arco_formats::concat::{
    concat, concat_lazy, ConcatOptions, ConcatReader, CoordFrom, NamePattern, SPLIT_FILES_ATTRIBUTE,
};
use arco_formats::read::ReadOptions;
use arco_formats::Reader;
use arco_storage::MemSource;
use std::sync::Arc;

// ----- a tiny NetCDF-3 classic writer ---------------------------------------

const NC_CHAR: u32 = 2;
const NC_SHORT: u32 = 3;
const NC_INT: u32 = 4;
const NC_FLOAT: u32 = 5;
const NC_DOUBLE: u32 = 6;

/// Values of a variable or attribute, written big-endian.
#[derive(Debug, Clone)]
enum Data {
    Char(Vec<u8>),
    I16(Vec<i16>),
    I32(Vec<i32>),
    F32(Vec<f32>),
    F64(Vec<f64>),
}

impl Data {
    fn nc_type(&self) -> u32 {
        match self {
            Data::Char(_) => NC_CHAR,
            Data::I16(_) => NC_SHORT,
            Data::I32(_) => NC_INT,
            Data::F32(_) => NC_FLOAT,
            Data::F64(_) => NC_DOUBLE,
        }
    }

    fn elem(&self) -> usize {
        match self {
            Data::Char(_) => 1,
            Data::I16(_) => 2,
            Data::I32(_) | Data::F32(_) => 4,
            Data::F64(_) => 8,
        }
    }

    fn len(&self) -> usize {
        match self {
            Data::Char(v) => v.len(),
            Data::I16(v) => v.len(),
            Data::I32(v) => v.len(),
            Data::F32(v) => v.len(),
            Data::F64(v) => v.len(),
        }
    }

    fn be(&self) -> Vec<u8> {
        match self {
            Data::Char(v) => v.clone(),
            Data::I16(v) => v.iter().flat_map(|x| x.to_be_bytes()).collect(),
            Data::I32(v) => v.iter().flat_map(|x| x.to_be_bytes()).collect(),
            Data::F32(v) => v.iter().flat_map(|x| x.to_be_bytes()).collect(),
            Data::F64(v) => v.iter().flat_map(|x| x.to_be_bytes()).collect(),
        }
    }
}

struct Var {
    name: String,
    dims: Vec<usize>,
    attrs: Vec<(String, Data)>,
    data: Data,
}

fn var(name: &str, dims: &[usize], data: Data) -> Var {
    Var {
        name: name.into(),
        dims: dims.to_vec(),
        attrs: Vec::new(),
        data,
    }
}

impl Var {
    fn attr(mut self, name: &str, value: Data) -> Self {
        self.attrs.push((name.into(), value));
        self
    }

    fn text(self, name: &str, value: &str) -> Self {
        self.attr(name, Data::Char(value.as_bytes().to_vec()))
    }
}

/// A classic-format file; `record` is the index of the unlimited dimension.
struct Nc {
    dims: Vec<(String, u64)>,
    record: Option<usize>,
    vars: Vec<Var>,
    globals: Vec<(String, Data)>,
}

fn pad4(n: usize) -> usize {
    n.div_ceil(4) * 4
}

fn put_u32(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n as u32).to_be_bytes());
}

fn put_name(out: &mut Vec<u8>, s: &str) {
    put_u32(out, s.len());
    out.extend_from_slice(s.as_bytes());
    out.resize(pad4(out.len()), 0);
}

fn put_attrs(out: &mut Vec<u8>, attrs: &[(String, Data)]) {
    if attrs.is_empty() {
        put_u32(out, 0);
        put_u32(out, 0);
        return;
    }
    put_u32(out, 0x0C);
    put_u32(out, attrs.len());
    for (name, value) in attrs {
        put_name(out, name);
        put_u32(out, value.nc_type() as usize);
        put_u32(out, value.len());
        out.extend_from_slice(&value.be());
        out.resize(pad4(out.len()), 0);
    }
}

impl Nc {
    fn is_record(&self, v: &Var) -> bool {
        self.record.is_some() && v.dims.first().copied() == self.record
    }

    /// Bytes of the whole array (fixed) or of one record (record variables).
    fn slab(&self, v: &Var) -> usize {
        let n: u64 = v
            .dims
            .iter()
            .filter(|&&d| Some(d) != self.record || !self.is_record(v))
            .map(|&d| self.dims[d].1)
            .product();
        n as usize * v.data.elem()
    }

    fn numrecs(&self) -> usize {
        self.record.map_or(0, |r| self.dims[r].1 as usize)
    }

    fn header(&self, begins: &[usize]) -> Vec<u8> {
        let mut out = b"CDF\x01".to_vec();
        put_u32(&mut out, self.numrecs());
        put_u32(&mut out, 0x0A);
        put_u32(&mut out, self.dims.len());
        for (i, (name, len)) in self.dims.iter().enumerate() {
            put_name(&mut out, name);
            put_u32(
                &mut out,
                if Some(i) == self.record {
                    0
                } else {
                    *len as usize
                },
            );
        }
        put_attrs(&mut out, &self.globals);
        put_u32(&mut out, 0x0B);
        put_u32(&mut out, self.vars.len());
        for (v, begin) in self.vars.iter().zip(begins) {
            put_name(&mut out, &v.name);
            put_u32(&mut out, v.dims.len());
            for &d in &v.dims {
                put_u32(&mut out, d);
            }
            put_attrs(&mut out, &v.attrs);
            put_u32(&mut out, v.data.nc_type() as usize);
            put_u32(&mut out, pad4(self.slab(v)));
            put_u32(&mut out, *begin);
        }
        out
    }

    fn bytes(&self) -> Vec<u8> {
        let header_len = self.header(&vec![0; self.vars.len()]).len();
        let mut begins = vec![0; self.vars.len()];
        let mut at = header_len;
        for (i, v) in self.vars.iter().enumerate() {
            if !self.is_record(v) {
                begins[i] = at;
                at += pad4(self.slab(v));
            }
        }
        let records: Vec<usize> = (0..self.vars.len())
            .filter(|&i| self.is_record(&self.vars[i]))
            .collect();
        let mut recsize = 0;
        for &i in &records {
            begins[i] = at + recsize;
            let slab = self.slab(&self.vars[i]);
            recsize += if records.len() == 1 { slab } else { pad4(slab) };
        }
        let mut out = self.header(&begins);
        out.resize(at + recsize * self.numrecs(), 0);
        for (i, v) in self.vars.iter().enumerate() {
            let data = v.data.be();
            assert_eq!(data.len() % v.data.elem(), 0);
            if self.is_record(v) {
                let slab = self.slab(v);
                for r in 0..self.numrecs() {
                    let start = begins[i] + r * recsize;
                    out[start..start + slab].copy_from_slice(&data[r * slab..(r + 1) * slab]);
                }
            } else {
                out[begins[i]..begins[i] + data.len()].copy_from_slice(&data);
            }
        }
        out
    }
}

// ----- the test dataset -------------------------------------------------------

/// What a generated file holds: time steps `t0..t0 + n` of one long series, and
/// knobs to make it differ from its siblings.
#[derive(Clone)]
struct Spec {
    t0: usize,
    n: usize,
    dim: &'static str,
    time_units: &'static str,
    times: Option<Vec<f64>>,
    lat_shift: f32,
    pr_scale: f32,
    drop: Option<&'static str>,
    tas_f64: bool,
}

fn spec(t0: usize, n: usize) -> Spec {
    Spec {
        t0,
        n,
        dim: "time",
        time_units: "days since 2000-01-01",
        times: None,
        lat_shift: 0.0,
        pr_scale: 0.5,
        drop: None,
        tas_f64: false,
    }
}

const LAT: usize = 3;
const LON: usize = 4;

/// dims: `time` (unlimited) n, lat 3, lon 4, nchar 2. Record variables `time`,
/// `tas`, `pr` (packed int16) and `code` (char); fixed `lat`, `lon` and `orog`
/// (with a NaN, equal in every file).
fn file(s: &Spec) -> Vec<u8> {
    let ts: Vec<usize> = (s.t0..s.t0 + s.n).collect();
    let grid = |f: &dyn Fn(usize, usize, usize) -> f64| -> Vec<f64> {
        let mut v = Vec::new();
        for &t in &ts {
            for y in 0..LAT {
                for x in 0..LON {
                    v.push(f(t, y, x));
                }
            }
        }
        v
    };
    let tas = grid(&|t, y, x| 250.0 + t as f64 * 100.0 + y as f64 * 10.0 + x as f64 + 0.25);
    let times = s
        .times
        .clone()
        .unwrap_or_else(|| ts.iter().map(|&t| t as f64 * 1.5).collect());
    let mut vars = vec![
        var(s.dim, &[0], Data::F64(times))
            .text("units", s.time_units)
            .text("calendar", "standard"),
        var(
            "lat",
            &[1],
            Data::F32((0..LAT).map(|y| 10.0 * y as f32 + s.lat_shift).collect()),
        )
        .text("units", "degrees_north"),
        var("lon", &[2], Data::F32(vec![0.0, 90.0, 180.0, 270.0])).text("units", "degrees_east"),
        var(
            "orog",
            &[1, 2],
            Data::F32(
                (0..LAT * LON)
                    .map(|i| if i == 5 { f32::NAN } else { i as f32 })
                    .collect(),
            ),
        )
        .attr("_FillValue", Data::F32(vec![f32::NAN])),
        if s.tas_f64 {
            var("tas", &[0, 1, 2], Data::F64(tas))
        } else {
            var(
                "tas",
                &[0, 1, 2],
                Data::F32(tas.iter().map(|&x| x as f32).collect()),
            )
        }
        .text("units", "K"),
        var(
            "pr",
            &[0, 1, 2],
            Data::I16(
                grid(&|t, y, x| (t * 12 + y * 4 + x) as f64)
                    .iter()
                    .map(|&x| x as i16)
                    .collect(),
            ),
        )
        .attr("scale_factor", Data::F32(vec![s.pr_scale]))
        .attr("_FillValue", Data::I16(vec![-32767])),
        var(
            "code",
            &[0, 3],
            Data::Char(
                ts.iter()
                    .flat_map(|&t| [b'a' + t as u8, b'0' + (t % 10) as u8])
                    .collect(),
            ),
        ),
    ];
    if let Some(d) = s.drop {
        vars.retain(|v| v.name != d);
    }
    Nc {
        dims: vec![
            (s.dim.into(), s.n as u64),
            ("lat".into(), LAT as u64),
            ("lon".into(), LON as u64),
            ("nchar".into(), 2),
        ],
        record: Some(0),
        vars,
        globals: Vec::new(),
    }
    .bytes()
}

/// dims: lat 2, `time` n (fixed, not unlimited); `time(time)` and `x(lat, time)`.
fn fixed_file(t0: usize, n: usize) -> Vec<u8> {
    let ts: Vec<usize> = (t0..t0 + n).collect();
    let x: Vec<i32> = (0..2)
        .flat_map(|y| ts.iter().map(move |&t| (y * 100 + t) as i32))
        .collect();
    Nc {
        dims: vec![("lat".into(), 2), ("time".into(), n as u64)],
        record: None,
        vars: vec![
            var(
                "time",
                &[1],
                Data::F64(ts.iter().map(|&t| t as f64).collect()),
            )
            .text("units", "hours since 2001-01-01 00:00"),
            var("x", &[0, 1], Data::I32(x)),
        ],
        globals: Vec::new(),
    }
    .bytes()
}

fn open(name: &str, bytes: Vec<u8>) -> Box<dyn Reader> {
    arco_formats::open(Arc::new(MemSource::new(name, bytes))).unwrap()
}

fn join(files: Vec<(&str, Vec<u8>)>, dim: Option<&str>) -> arco_formats::Result<ConcatReader> {
    let readers = files
        .into_iter()
        .map(|(name, bytes)| (name.to_string(), open(name, bytes)))
        .collect();
    concat(
        readers,
        &ConcatOptions {
            dim: dim.map(str::to_string),
            ..ConcatOptions::default()
        },
    )
}

fn three_parts() -> ConcatReader {
    join(
        vec![
            ("a.nc", file(&spec(0, 3))),
            ("b.nc", file(&spec(3, 3))),
            ("c.nc", file(&spec(6, 3))),
        ],
        None,
    )
    .unwrap()
}

fn refusal(files: Vec<(&str, Vec<u8>)>) -> String {
    match join(files, None) {
        Ok(_) => panic!("the files were accepted"),
        Err(e) => e.to_string(),
    }
}

fn sel(parts: &[(u64, u64, u64)]) -> Selection {
    Selection {
        dims: parts
            .iter()
            .map(|&(start, stop, step)| DimSlice { start, stop, step })
            .collect(),
    }
}

// ----- what joins -------------------------------------------------------------

#[test]
fn three_files_split_along_time_have_the_unsplit_files_dimensions_and_shapes() {
    let whole = open("whole.nc", file(&spec(0, 9)));
    let joined = three_parts();
    assert_eq!(joined.dim(), "time");
    let spans: Vec<(&str, u64, u64)> = joined
        .parts()
        .iter()
        .map(|p| (p.location(), p.offset(), p.length()))
        .collect();
    assert_eq!(spans, [("a.nc", 0, 3), ("b.nc", 3, 3), ("c.nc", 6, 3)]);
    let ds = joined.dataset();
    assert_eq!(ds.source, "a.nc, b.nc, c.nc");
    assert_eq!(ds.format, whole.dataset().format);
    assert_eq!(ds.root.dimensions, whole.dataset().root.dimensions);
    for (v, w) in ds
        .root
        .all_variables()
        .iter()
        .zip(whole.dataset().root.all_variables())
    {
        assert_eq!(v.path, w.path);
        assert_eq!(v.shape, w.shape, "{}", v.path);
        assert_eq!(v.dims, w.dims, "{}", v.path);
    }
}

#[test]
fn reading_whole_and_strided_selections_across_part_boundaries_matches_the_unsplit_file() {
    let whole = open("whole.nc", file(&spec(0, 9)));
    let joined = three_parts();
    for v in whole.dataset().root.all_variables() {
        let all = Selection::all(&v.shape);
        // Debug text, so that NaN (in orog) equals NaN.
        assert_eq!(
            format!("{:?}", joined.read(&v.path, &all).unwrap()),
            format!("{:?}", whole.read(&v.path, &all).unwrap()),
            "{}",
            v.path
        );
    }
    let selections = [
        sel(&[(1, 8, 2), (0, 3, 2), (1, 4, 3)]),
        sel(&[(2, 7, 1), (1, 2, 1), (0, 4, 1)]),
        sel(&[(0, 9, 4), (0, 3, 1), (3, 4, 1)]),
        sel(&[(5, 9, 3), (2, 3, 1), (0, 4, 2)]),
        sel(&[(7, 8, 1), (0, 3, 1), (0, 4, 1)]),
        sel(&[(4, 4, 1), (0, 3, 1), (0, 4, 1)]),
    ];
    for s in &selections {
        for name in ["tas", "pr"] {
            let got = joined.read(name, s).unwrap();
            assert_eq!(got, whole.read(name, s).unwrap(), "{name} {s:?}");
            assert_eq!(got.shape, s.shape());
            let tight = ReadOptions {
                max_batch_bytes: 64,
                raw_piece_bytes: 16,
            };
            assert_eq!(
                joined.read_with(name, s, &tight).unwrap(),
                got,
                "{name} {s:?}"
            );
        }
        let t = Selection {
            dims: vec![s.dims[0]],
        };
        assert_eq!(
            joined.read("time", &t).unwrap(),
            whole.read("time", &t).unwrap()
        );
        let c = Selection {
            dims: vec![s.dims[0], DimSlice::all(2)],
        };
        assert_eq!(
            joined.read("code", &c).unwrap(),
            whole.read("code", &c).unwrap()
        );
    }
}

#[test]
fn a_selection_past_the_combined_end_is_refused() {
    let joined = three_parts();
    let e = joined
        .read("tas", &sel(&[(0, 10, 1), (0, 3, 1), (0, 4, 1)]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("tas") && e.contains("10"), "{e}");
}

#[test]
fn the_unlimited_dimension_is_the_default_concat_dimension() {
    let step = |t0| {
        file(&Spec {
            dim: "step",
            ..spec(t0, 2)
        })
    };
    let joined = join(vec![("a.nc", step(0)), ("b.nc", step(2))], None).unwrap();
    assert_eq!(joined.dim(), "step");
    assert_eq!(
        joined.dataset().variable("tas").unwrap().shape,
        vec![4, 3, 4]
    );
    // Asking for a dimension a file lacks names it.
    let e = join(vec![("a.nc", step(0)), ("b.nc", step(2))], Some("time"))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("a.nc") && e.contains("'time'"), "{e}");
}

#[test]
fn a_fixed_dimension_in_second_position_is_concatenated_in_c_order() {
    let whole = open("whole.nc", fixed_file(0, 9));
    let joined = join(
        vec![
            ("a.nc", fixed_file(0, 3)),
            ("b.nc", fixed_file(3, 3)),
            ("c.nc", fixed_file(6, 3)),
        ],
        None,
    )
    .unwrap();
    assert_eq!(joined.dataset().variable("x").unwrap().shape, vec![2, 9]);
    for s in [
        Selection::all(&[2, 9]),
        sel(&[(0, 2, 1), (1, 9, 3)]),
        sel(&[(1, 2, 1), (2, 7, 2)]),
    ] {
        assert_eq!(joined.read("x", &s).unwrap(), whole.read("x", &s).unwrap());
    }
    // Whole-part chunks of 3 line up into one regular grid.
    let m = joined.combined_manifest("x").unwrap();
    assert_eq!(m.grid.array_shape, vec![2, 9]);
    assert_eq!(m.grid.chunk_shape, vec![2, 3]);
    let indices: Vec<Vec<u64>> = m.chunks.iter().map(|c| c.index.clone()).collect();
    assert_eq!(indices, [vec![0, 0], vec![0, 1], vec![0, 2]]);
}

#[test]
fn parts_that_are_not_whole_chunks_have_no_combined_manifest_but_still_read() {
    let whole = open("whole.nc", fixed_file(0, 8));
    let joined = join(
        vec![
            ("a.nc", fixed_file(0, 3)),
            ("b.nc", fixed_file(3, 2)),
            ("c.nc", fixed_file(5, 3)),
        ],
        None,
    )
    .unwrap();
    let e = joined.combined_manifest("x").unwrap_err().to_string();
    assert!(e.contains("regular grid") && e.contains("b.nc"), "{e}");
    let all = Selection::all(&[2, 8]);
    assert_eq!(
        joined.read("x", &all).unwrap(),
        whole.read("x", &all).unwrap()
    );
}

#[test]
fn manifests_come_per_part_for_concatenated_variables() {
    let joined = three_parts();
    let e = joined.manifest("tas").unwrap_err().to_string();
    assert!(
        e.contains("part_manifests") && e.contains("a.nc, b.nc, c.nc"),
        "{e}"
    );
    let parts = joined.part_manifests("tas").unwrap();
    let offsets: Vec<(&str, u64, usize)> = parts
        .iter()
        .map(|(l, o, m)| (l.as_str(), *o, m.chunks.len()))
        .collect();
    assert_eq!(offsets, [("a.nc", 0, 3), ("b.nc", 3, 3), ("c.nc", 6, 3)]);
    // Record variables have one chunk per step, so the grid is regular.
    let m = joined.combined_manifest("tas").unwrap();
    assert_eq!(m.grid.array_shape, vec![9, 3, 4]);
    let firsts: Vec<u64> = m.chunks.iter().map(|c| c.index[0]).collect();
    assert_eq!(firsts, (0..9).collect::<Vec<u64>>());
    // Variables without the dimension: the first file's manifest.
    assert_eq!(joined.manifest("lat").unwrap().grid.array_shape, vec![3]);
    assert_eq!(joined.part_manifests("lat").unwrap().len(), 1);
}

// ----- what is refused ----------------------------------------------------------

#[test]
fn overlapping_time_ranges_are_refused_naming_both_files() {
    let e = refusal(vec![
        ("a.nc", file(&spec(0, 3))),
        ("b.nc", file(&spec(2, 3))),
    ]);
    assert!(
        e.contains("overlap") && e.contains("a.nc") && e.contains("b.nc"),
        "{e}"
    );
    assert!(
        e.contains("2000-01-04T00:00:00"),
        "decoded dates expected: {e}"
    );
}

#[test]
fn files_out_of_time_order_are_refused_with_the_order_that_works() {
    let e = refusal(vec![
        ("a.nc", file(&spec(6, 3))),
        ("b.nc", file(&spec(0, 3))),
        ("c.nc", file(&spec(3, 3))),
    ]);
    assert!(e.contains("not in order of time"), "{e}");
    assert!(
        e.contains("b.nc (2000-01-01T00:00:00…2000-01-04T00:00:00) comes before a.nc"),
        "{e}"
    );
    assert!(e.contains("(b.nc, c.nc, a.nc)"), "{e}");
}

#[test]
fn a_time_coordinate_that_goes_back_within_a_file_is_refused() {
    let bad = Spec {
        times: Some(vec![10.0, 12.0, 11.0]),
        ..spec(3, 3)
    };
    let e = refusal(vec![("a.nc", file(&spec(0, 3))), ("b.nc", file(&bad))]);
    assert!(
        e.contains("b.nc") && e.contains("not strictly increasing"),
        "{e}"
    );
}

#[test]
fn different_latitudes_are_refused_naming_both_files_and_values() {
    let shifted = Spec {
        lat_shift: 0.5,
        ..spec(3, 3)
    };
    let e = refusal(vec![("a.nc", file(&spec(0, 3))), ("b.nc", file(&shifted))]);
    assert!(
        e.contains("/lat") && e.contains("a.nc") && e.contains("b.nc"),
        "{e}"
    );
    assert!(e.contains("0 in a.nc") && e.contains("0.5 in b.nc"), "{e}");
}

#[test]
fn different_time_units_are_refused_with_advice_to_re_encode() {
    let hours = Spec {
        time_units: "days since 2000-01-02",
        times: Some(vec![10.0, 11.0, 12.0]),
        ..spec(3, 3)
    };
    let e = refusal(vec![("a.nc", file(&spec(0, 3))), ("b.nc", file(&hours))]);
    assert!(e.contains("units") && e.contains("/time"), "{e}");
    assert!(
        e.contains("'days since 2000-01-01' in a.nc")
            && e.contains("'days since 2000-01-02' in b.nc"),
        "{e}"
    );
    assert!(e.contains("re-encode"), "{e}");
}

#[test]
fn a_different_scale_factor_is_refused() {
    let scaled = Spec {
        pr_scale: 0.25,
        ..spec(3, 3)
    };
    let e = refusal(vec![("a.nc", file(&spec(0, 3))), ("b.nc", file(&scaled))]);
    assert!(e.contains("scale_factor") && e.contains("/pr"), "{e}");
    assert!(
        e.contains("0.5 (float32) in a.nc") && e.contains("0.25 (float32) in b.nc"),
        "{e}"
    );
}

#[test]
fn a_variable_missing_from_one_file_is_refused() {
    let without = Spec {
        drop: Some("pr"),
        ..spec(3, 3)
    };
    let e = refusal(vec![("a.nc", file(&spec(0, 3))), ("b.nc", file(&without))]);
    assert!(e.contains("/pr is in a.nc but not in b.nc"), "{e}");
    let e = refusal(vec![("a.nc", file(&without)), ("b.nc", file(&spec(3, 3)))]);
    assert!(e.contains("/pr is in b.nc but not in a.nc"), "{e}");
}

#[test]
fn a_different_dtype_is_refused() {
    let wide = Spec {
        tas_f64: true,
        ..spec(3, 3)
    };
    let e = refusal(vec![("a.nc", file(&spec(0, 3))), ("b.nc", file(&wide))]);
    assert!(
        e.contains("/tas") && e.contains("float32 in a.nc") && e.contains("float64 in b.nc"),
        "{e}"
    );
}

#[test]
fn a_real_file_opened_twice_is_refused_as_overlapping() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/data/real/netcdf3/example_arm_sonde.cdf"
    );
    let bytes = std::fs::read(path).unwrap();
    let e = refusal(vec![
        ("sonde_1.cdf", bytes.clone()),
        ("sonde_2.cdf", bytes.clone()),
    ]);
    assert!(
        e.contains("overlap") && e.contains("sonde_1.cdf") && e.contains("sonde_2.cdf"),
        "{e}"
    );
    // On its own it joins, as itself.
    let one = join(vec![("sonde.cdf", bytes)], None).unwrap();
    assert_eq!(one.dim(), "time");
    assert_eq!(one.dataset().variable("pres").unwrap().shape, vec![839]);
    assert!(one.manifest("pres").is_ok());
}

// ----- files without the dimension: coordinates from names and attributes -----

/// How a snapshot file says (or does not say) its time.
#[derive(Clone, Copy)]
enum When {
    /// No time at all.
    Nothing,
    /// A 0-d `time` variable (days since 2000-01-01).
    Scalar(f64),
    /// A `time` dimension of one step with its coordinate variable.
    Step(f64),
    /// A `time` dimension of one step and no coordinate variable.
    StepWithoutCoordinate,
}

/// One map of `tas(lat, lon)` and packed `pr(lat, lon)` for step `t`, with
/// `lat`/`lon` coordinates; `step` (0-d, named in `tas:coordinates`) is `t`
/// when `with_step`, and the global attribute `date` is `date` when given.
#[derive(Clone)]
struct Snap {
    t: usize,
    when: When,
    pr_scale: f32,
    date: Option<String>,
    with_step: bool,
}

fn snap(t: usize) -> Snap {
    Snap {
        t,
        when: When::Nothing,
        pr_scale: 0.5,
        date: None,
        with_step: false,
    }
}

fn tas_of(t: usize) -> Vec<f32> {
    (0..LAT * LON)
        .map(|i| 250.0 + t as f32 * 100.0 + (i / LON) as f32 * 10.0 + (i % LON) as f32)
        .collect()
}

fn snapshot(s: &Snap) -> Vec<u8> {
    let stepped = matches!(s.when, When::Step(_) | When::StepWithoutCoordinate);
    // dims: 0 lat, 1 lon, 2 time (one step) when stepped.
    let grid: &[usize] = if stepped { &[2, 0, 1] } else { &[0, 1] };
    let mut vars = vec![
        var(
            "lat",
            &[0],
            Data::F32((0..LAT).map(|y| 10.0 * y as f32).collect()),
        )
        .text("units", "degrees_north"),
        var("lon", &[1], Data::F32(vec![0.0, 90.0, 180.0, 270.0])).text("units", "degrees_east"),
        var("tas", grid, Data::F32(tas_of(s.t)))
            .text("units", "K")
            .text("coordinates", if s.with_step { "step" } else { "" }),
        var(
            "pr",
            grid,
            Data::I16((0..LAT * LON).map(|i| (s.t * 12 + i) as i16).collect()),
        )
        .attr("scale_factor", Data::F32(vec![s.pr_scale])),
    ];
    if s.with_step {
        vars.push(var("step", &[], Data::F64(vec![s.t as f64])).text("units", "hours"));
    }
    match s.when {
        When::Scalar(d) => {
            vars.push(var("time", &[], Data::F64(vec![d])).text("units", "days since 2000-01-01"))
        }
        When::Step(d) => {
            vars.push(var("time", &[2], Data::F64(vec![d])).text("units", "days since 2000-01-01"))
        }
        _ => {}
    }
    let mut dims = vec![
        ("lat".to_string(), LAT as u64),
        ("lon".to_string(), LON as u64),
    ];
    if stepped {
        dims.push(("time".into(), 1));
    }
    Nc {
        dims,
        record: None,
        vars,
        globals: s
            .date
            .iter()
            .map(|d| ("date".to_string(), Data::Char(d.as_bytes().to_vec())))
            .collect(),
    }
    .bytes()
}

/// Live readers and the most ever alive at once, counted by an opener.
#[derive(Default)]
struct Census {
    alive: std::sync::atomic::AtomicUsize,
    most: std::sync::atomic::AtomicUsize,
    opened: std::sync::atomic::AtomicUsize,
}

struct Counted {
    inner: Box<dyn Reader>,
    census: Arc<Census>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.census
            .alive
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Reader for Counted {
    fn dataset(&self) -> &arco_core::Dataset {
        self.inner.dataset()
    }
    fn manifest(&self, variable: &str) -> arco_formats::Result<arco_core::ChunkManifest> {
        self.inner.manifest(variable)
    }
    fn read(&self, variable: &str, selection: &Selection) -> arco_formats::Result<NdArray> {
        self.inner.read(variable, selection)
    }
}

/// An opener over in-memory files that counts the readers it made.
fn opener(files: &[(String, Vec<u8>)]) -> (arco_formats::concat::Opener, Arc<Census>) {
    use std::sync::atomic::Ordering::SeqCst;
    let census = Arc::new(Census::default());
    let files: std::collections::HashMap<String, Vec<u8>> = files.iter().cloned().collect();
    let c = census.clone();
    let open: arco_formats::concat::Opener = Arc::new(move |loc: &str| {
        let bytes = files.get(loc).cloned().unwrap_or_default();
        let inner = arco_formats::open(Arc::new(MemSource::new(loc, bytes)))?;
        let now = c.alive.fetch_add(1, SeqCst) + 1;
        c.most.fetch_max(now, SeqCst);
        c.opened.fetch_add(1, SeqCst);
        Ok(Box::new(Counted {
            inner,
            census: c.clone(),
        }) as Box<dyn Reader>)
    });
    (open, census)
}

fn lazy(
    files: &[(String, Vec<u8>)],
    options: &ConcatOptions,
) -> arco_formats::Result<ConcatReader> {
    let (open, _) = opener(files);
    concat_lazy(
        files.iter().map(|(l, _)| l.clone()).collect(),
        open,
        options,
    )
}

fn by_name(pattern: &str) -> ConcatOptions {
    ConcatOptions {
        coord: Some(CoordFrom::Name(NamePattern::parse(pattern).unwrap())),
        ..ConcatOptions::default()
    }
}

fn daily(days: &[usize], make: impl Fn(usize) -> Snap) -> Vec<(String, Vec<u8>)> {
    days.iter()
        .enumerate()
        .map(|(i, &d)| {
            (
                format!("data/tas_200001{:02}.nc", d + 1),
                snapshot(&make(i)),
            )
        })
        .collect()
}

fn text_attr(joined: &ConcatReader, var: &str, name: &str) -> Option<String> {
    joined
        .dataset()
        .variable(var)
        .unwrap()
        .attr(name)
        .and_then(|a| a.as_str())
        .map(str::to_string)
}

fn refused(r: arco_formats::Result<ConcatReader>) -> String {
    match r {
        Ok(_) => panic!("the files were accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn maps_without_time_get_a_leading_time_dimension_from_their_file_names() {
    let files = daily(&[0, 1, 3], snap);
    let joined = lazy(&files, &by_name("tas_{time:%Y%m%d}.nc")).unwrap();
    assert_eq!(joined.dim(), "time");
    let ds = joined.dataset();
    assert_eq!(ds.root.dimensions[0].name, "time");
    assert_eq!(ds.root.dimensions[0].size, 3);
    let tas = ds.variable("tas").unwrap();
    assert_eq!(tas.dims, ["time", "lat", "lon"]);
    assert_eq!(tas.shape, [3, 3, 4]);
    // Coordinates keep their shape; the new coordinate counts days.
    assert_eq!(ds.variable("lat").unwrap().shape, [3]);
    let time = ds.variable("time").unwrap();
    assert_eq!(time.dims, ["time"]);
    assert_eq!(
        text_attr(&joined, "time", "units").as_deref(),
        Some("days since 2000-01-01")
    );
    assert_eq!(
        text_attr(&joined, "time", "calendar").as_deref(),
        Some("proleptic_gregorian")
    );
    assert_eq!(
        joined.read("time", &Selection::all(&[3])).unwrap().values,
        Values::I64(vec![0, 1, 3])
    );
    assert_eq!(
        joined.read("time", &sel(&[(1, 3, 1)])).unwrap().values,
        Values::I64(vec![1, 3])
    );
    // Values: each file's map, stacked.
    let all = joined.read("tas", &Selection::all(&[3, 3, 4])).unwrap();
    let want: Vec<f32> = (0..3).flat_map(tas_of).collect();
    assert_eq!(all.values, Values::F32(want));
    let strided = joined
        .read("tas", &sel(&[(0, 3, 2), (1, 3, 1), (0, 4, 3)]))
        .unwrap();
    assert_eq!(strided.shape, [2, 2, 2]);
    let t0 = tas_of(0);
    let t2 = tas_of(2);
    assert_eq!(
        strided.values,
        Values::F32(vec![
            t0[4], t0[7], t0[8], t0[11], t2[4], t2[7], t2[8], t2[11]
        ])
    );
    // One manifest per file, each with a leading step.
    let parts = joined.part_manifests("tas").unwrap();
    let shapes: Vec<(u64, Vec<u64>, Vec<u64>)> = parts
        .iter()
        .map(|(_, o, m)| (*o, m.grid.array_shape.clone(), m.chunks[0].index.clone()))
        .collect();
    assert_eq!(
        shapes,
        [
            (0, vec![1, 3, 4], vec![0, 0]),
            (1, vec![1, 3, 4], vec![0, 0]),
            (2, vec![1, 3, 4], vec![0, 0])
        ]
        .map(|(o, s, mut i)| {
            i.insert(0, 0);
            (o, s, i)
        })
    );
    let m = joined.combined_manifest("tas").unwrap();
    assert_eq!(m.grid.array_shape, [3, 3, 4]);
    assert_eq!(m.grid.chunk_shape[0], 1);
    assert_eq!(joined.axis_of("tas"), Some(0));
    assert_eq!(joined.dim_of("tas"), Some("time"));
    assert_eq!(joined.dim_of("lat"), None);
    // The made coordinate has no file to point into.
    assert!(joined.part_manifests("time").is_err());
}

#[test]
fn global_attributes_give_the_coordinate_in_the_coarsest_exact_unit() {
    let files: Vec<(String, Vec<u8>)> = [
        "2000-01-01T00:00:00Z",
        "2000-01-01T06:00:00Z",
        "2000-01-02T00:00:00Z",
    ]
    .iter()
    .enumerate()
    .map(|(i, d)| {
        (
            format!("f{i}.nc"),
            snapshot(&Snap {
                date: Some(d.to_string()),
                ..snap(i)
            }),
        )
    })
    .collect();
    let options = ConcatOptions {
        coord: Some(CoordFrom::Attribute {
            dim: "valid".into(),
            name: "date".into(),
        }),
        ..ConcatOptions::default()
    };
    let joined = lazy(&files, &options).unwrap();
    assert_eq!(joined.dim(), "valid");
    assert_eq!(
        text_attr(&joined, "valid", "units").as_deref(),
        Some("hours since 2000-01-01")
    );
    assert_eq!(
        joined.read("valid", &Selection::all(&[3])).unwrap().values,
        Values::I64(vec![0, 6, 24])
    );
    // A file without the attribute is named.
    let mut broken = files.clone();
    broken[1].1 = snapshot(&snap(1));
    let e = refused(lazy(&broken, &options));
    assert!(e.contains("f1.nc") && e.contains("'date'"), "{e}");
}

#[test]
fn names_out_of_order_or_repeated_are_refused_naming_the_files() {
    let mut files = daily(&[0, 2, 1], snap);
    let e = refused(lazy(&files, &by_name("tas_{time:%Y%m%d}.nc")));
    assert!(
        e.contains("not in order")
            && e.contains("tas_20000103.nc")
            && e.contains("tas_20000102.nc"),
        "{e}"
    );
    files = daily(&[0, 1, 1], snap);
    let e = refused(lazy(&files, &by_name("tas_{time:%Y%m%d}.nc")));
    assert!(
        e.contains("overlap") && e.contains("tas_20000102.nc"),
        "{e}"
    );
    // A name that does not fit the pattern is named too.
    files = daily(&[0, 1], snap);
    files[1].0 = "data/tas_latest.nc".into();
    let e = refused(lazy(&files, &by_name("tas_{time:%Y%m%d}.nc")));
    assert!(
        e.contains("tas_latest.nc") && e.contains("does not match"),
        "{e}"
    );
}

#[test]
fn a_new_dimension_without_a_coordinate_is_refused_with_advice() {
    let files = daily(&[0, 1], snap);
    let options = ConcatOptions {
        dim: Some("time".into()),
        ..ConcatOptions::default()
    };
    let e = refused(lazy(&files, &options));
    assert!(
        e.contains("tas_20000101.nc")
            && e.contains("--coord-from-name")
            && e.contains("--coord-from-attr"),
        "{e}"
    );
}

#[test]
fn a_scalar_time_becomes_the_coordinate_and_differing_scalar_coordinates_get_the_dimension() {
    let files = daily(&[0, 1, 2], |i| Snap {
        when: When::Scalar(i as f64 * 0.5),
        with_step: true,
        ..snap(i)
    });
    let options = ConcatOptions {
        dim: Some("time".into()),
        ..ConcatOptions::default()
    };
    let joined = lazy(&files, &options).unwrap();
    let ds = joined.dataset();
    assert_eq!(ds.variable("time").unwrap().shape, [3]);
    assert_eq!(
        joined.read("time", &Selection::all(&[3])).unwrap().values,
        Values::F64(vec![0.0, 0.5, 1.0])
    );
    // `step` differs from file to file: it is stacked like xarray's coords="different".
    assert_eq!(ds.variable("step").unwrap().dims, ["time"]);
    assert_eq!(
        joined.read("step", &Selection::all(&[3])).unwrap().values,
        Values::F64(vec![0.0, 1.0, 2.0])
    );
    // Repeated scalar times are refused as overlapping.
    let same = daily(&[0, 1], |i| Snap {
        when: When::Scalar(0.0),
        ..snap(i)
    });
    let e = refused(lazy(&same, &options));
    assert!(e.contains("overlap"), "{e}");
}

#[test]
fn a_name_must_agree_with_the_files_own_coordinate() {
    // One step each, with a time coordinate that matches the names.
    let files = daily(&[0, 1, 2], |i| Snap {
        when: When::Step(i as f64),
        ..snap(i)
    });
    let joined = lazy(&files, &by_name("tas_{time:%Y%m%d}.nc")).unwrap();
    assert_eq!(
        joined.read("time", &Selection::all(&[3])).unwrap().values,
        Values::F64(vec![0.0, 1.0, 2.0])
    );
    let mut wrong = files.clone();
    wrong[2].1 = snapshot(&Snap {
        when: When::Step(5.0),
        ..snap(2)
    });
    let e = refused(lazy(&wrong, &by_name("tas_{time:%Y%m%d}.nc")));
    assert!(
        e.contains("tas_20000103.nc")
            && e.contains("2000-01-03T00:00:00")
            && e.contains("2000-01-06T00:00:00"),
        "{e}"
    );
    // Without a coordinate variable, the names give it.
    let bare = daily(&[0, 1], |i| Snap {
        when: When::StepWithoutCoordinate,
        ..snap(i)
    });
    let joined = lazy(&bare, &by_name("tas_{time:%Y%m%d}.nc")).unwrap();
    let time = joined.dataset().variable("time").unwrap();
    assert_eq!(time.dims, ["time"]);
    assert_eq!(
        joined.read("time", &Selection::all(&[2])).unwrap().values,
        Values::I64(vec![0, 1])
    );
    assert_eq!(
        joined
            .read("tas", &Selection::all(&[2, 3, 4]))
            .unwrap()
            .values,
        Values::F32((0..2).flat_map(tas_of).collect())
    );
}

#[test]
fn differing_packing_is_refused_or_split_into_separate_arrays() {
    let files = daily(&[0, 1, 2, 3], |i| Snap {
        pr_scale: if i < 2 { 0.5 } else { 0.25 },
        ..snap(i)
    });
    let e = refused(lazy(&files, &by_name("tas_{time:%Y%m%d}.nc")));
    assert!(
        e.contains("scale_factor")
            && e.contains("tas_20000103.nc")
            && e.contains("--split-mismatched"),
        "{e}"
    );
    let options = ConcatOptions {
        split_mismatched: true,
        ..by_name("tas_{time:%Y%m%d}.nc")
    };
    let joined = lazy(&files, &options).unwrap();
    assert_eq!(joined.segment_count(), 2);
    let ds = joined.dataset();
    for (name, dims, scale) in [
        ("pr", ["time", "lat", "lon"], 0.5),
        ("pr_1", ["time_1", "lat", "lon"], 0.25),
    ] {
        let v = ds.variable(name).unwrap();
        assert_eq!(v.dims, dims, "{name}");
        assert_eq!(v.shape, [2, 3, 4], "{name}");
        assert_eq!(v.attr("scale_factor").and_then(|a| a.as_f64()), Some(scale));
    }
    // Each array records its files; each has its own coordinate.
    let files_of = |name: &str| match ds.variable(name).unwrap().attr(SPLIT_FILES_ATTRIBUTE) {
        Some(arco_core::AttrValue::Array(Values::Str(s))) => s.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        files_of("pr_1"),
        ["data/tas_20000103.nc", "data/tas_20000104.nc"]
    );
    assert_eq!(
        files_of("tas"),
        ["data/tas_20000101.nc", "data/tas_20000102.nc"]
    );
    assert_eq!(
        text_attr(&joined, "time_1", "units").as_deref(),
        Some("days since 2000-01-03")
    );
    assert_eq!(
        joined.read("time_1", &Selection::all(&[2])).unwrap().values,
        Values::I64(vec![0, 1])
    );
    let pr1 = joined.read("pr_1", &Selection::all(&[2, 3, 4])).unwrap();
    let want: Vec<i16> = (2..4)
        .flat_map(|t| (0..12).map(move |i| (t * 12 + i) as i16))
        .collect();
    assert_eq!(pr1.values, Values::I16(want));
    assert_eq!(joined.dim_of("pr_1"), Some("time_1"));
    let parts = joined.part_manifests("pr_1").unwrap();
    let spans: Vec<(&str, u64)> = parts.iter().map(|(l, o, _)| (l.as_str(), *o)).collect();
    assert_eq!(
        spans,
        [("data/tas_20000103.nc", 0), ("data/tas_20000104.nc", 1)]
    );
    // Splitting does not excuse overlapping steps.
    let repeated = daily(&[0, 1, 1], |i| Snap {
        pr_scale: if i < 2 { 0.5 } else { 0.25 },
        ..snap(i)
    });
    let e = refused(lazy(&repeated, &options));
    assert!(e.contains("overlap"), "{e}");
}

#[test]
fn checking_many_files_holds_few_readers_and_reading_reopens_them() {
    use std::sync::atomic::Ordering::SeqCst;
    let n = 40;
    let days: Vec<usize> = (0..n).collect();
    let files: Vec<(String, Vec<u8>)> = days
        .iter()
        .map(|&d| (format!("m_{d:03}.nc"), snapshot(&snap(d))))
        .collect();
    let (open, census) = opener(&files);
    let options = ConcatOptions {
        open_readers: 2,
        ..by_name("m_{step:d}.nc")
    };
    let joined = concat_lazy(
        files.iter().map(|(l, _)| l.clone()).collect(),
        open,
        &options,
    )
    .unwrap();
    let threads = rayon::current_num_threads();
    assert_eq!(
        census.opened.load(SeqCst),
        n,
        "each file opened once for the checks"
    );
    assert!(
        census.most.load(SeqCst) <= threads + 1,
        "{} readers alive at once with {threads} threads",
        census.most.load(SeqCst)
    );
    assert_eq!(
        census.alive.load(SeqCst),
        0,
        "none is kept after the checks"
    );
    let all = joined
        .read("tas", &Selection::all(&[n as u64, 3, 4]))
        .unwrap();
    assert_eq!(all.values, Values::F32((0..n).flat_map(tas_of).collect()));
    assert!(joined.open_readers() <= 2);
    assert!(census.alive.load(SeqCst) <= 2);
    // A part read through with_reader is the file, with its leading step.
    let third = joined.parts()[2]
        .with_reader(|r| r.read("tas", &Selection::all(&[1, 3, 4])))
        .unwrap();
    assert_eq!(third.values, Values::F32(tas_of(2)));
}

#[test]
fn a_file_that_changed_after_the_checks_is_refused_when_read() {
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    let files = daily(&[0, 1, 2], snap);
    let changed = Arc::new(AtomicBool::new(false));
    let flag = changed.clone();
    let store = files.clone();
    let open: arco_formats::concat::Opener = Arc::new(move |loc: &str| {
        let mut bytes = store
            .iter()
            .find(|(l, _)| l == loc)
            .map(|(_, b)| b.clone())
            .unwrap_or_default();
        if flag.load(SeqCst) && loc.ends_with("03.nc") {
            bytes = snapshot(&Snap {
                pr_scale: 9.0,
                ..snap(2)
            });
        }
        arco_formats::open(Arc::new(MemSource::new(loc, bytes)))
    });
    let options = ConcatOptions {
        open_readers: 1,
        ..by_name("tas_{time:%Y%m%d}.nc")
    };
    let joined = concat_lazy(
        files.iter().map(|(l, _)| l.clone()).collect(),
        open,
        &options,
    )
    .unwrap();
    changed.store(true, SeqCst);
    let e = joined
        .read("pr", &Selection::all(&[3, 3, 4]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("tas_20000103.nc") && e.contains("changed"),
        "{e}"
    );
}

#[test]
fn a_part_manifest_from_an_open_part_is_in_the_combined_rank_and_its_segment() {
    let files = daily(&[0, 1, 2], |i| Snap {
        pr_scale: if i < 2 { 0.5 } else { 0.25 },
        ..snap(i)
    });
    let options = ConcatOptions {
        split_mismatched: true,
        ..by_name("tas_{time:%Y%m%d}.nc")
    };
    let joined = lazy(&files, &options).unwrap();
    let got = |k: usize, var: &str| {
        joined.parts()[k]
            .with_reader(|r| joined.part_manifest_in(k, r, var))
            .unwrap()
            .map(|(o, m)| (o, m.grid.array_shape))
    };
    assert_eq!(got(1, "pr"), Some((1, vec![1, 3, 4])));
    assert_eq!(got(2, "pr"), None);
    assert_eq!(got(2, "pr_1"), Some((0, vec![1, 3, 4])));
    assert_eq!(got(0, "lat"), Some((0, vec![3])));
    assert_eq!(got(1, "lat"), None);
    assert!(joined.parts()[0]
        .with_reader(|r| joined.part_manifest_in(0, r, "time"))
        .is_err());
}

#[test]
fn a_parts_reader_answers_for_the_combined_names_in_the_combined_shape() {
    let files = daily(&[0, 1, 2], |i| Snap {
        pr_scale: if i < 2 { 0.5 } else { 0.25 },
        ..snap(i)
    });
    let options = ConcatOptions {
        split_mismatched: true,
        ..by_name("tas_{time:%Y%m%d}.nc")
    };
    let joined = lazy(&files, &options).unwrap();
    let part = &joined.parts()[2];
    // The combined names: a leading step, the split's name.
    let m = part.with_reader(|r| r.manifest("pr_1")).unwrap();
    assert_eq!(m.grid.array_shape, [1, 3, 4]);
    assert_eq!(m.chunks[0].index, [0, 0, 0]);
    let v = part
        .with_reader(|r| r.read("/tas_1", &Selection::all(&[1, 3, 4])))
        .unwrap();
    assert_eq!(v.shape, [1, 3, 4]);
    assert_eq!(v.values, Values::F32(tas_of(2)));
    // Names of another segment, or made from names, are not in the file.
    let e = part
        .with_reader(|r| r.manifest("tas"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("tas_20000103.nc") && e.contains("another segment") && e.contains("not found"),
        "{e}"
    );
    assert!(part.with_reader(|r| r.manifest("time_1")).is_err());
}

#[test]
fn a_part_of_a_later_segment_does_not_answer_for_the_first_segments_variables() {
    let files: Vec<(String, Vec<u8>)> = (0..3)
        .map(|i| {
            let s = Spec {
                pr_scale: if i < 2 { 0.5 } else { 0.25 },
                ..spec(3 * i, 3)
            };
            (format!("p{i}.nc"), file(&s))
        })
        .collect();
    let options = ConcatOptions {
        split_mismatched: true,
        ..ConcatOptions::default()
    };
    let joined = lazy(&files, &options).unwrap();
    assert_eq!(joined.dataset().variable("tas").unwrap().shape, [6, 3, 4]);
    assert_eq!(joined.dataset().variable("tas_1").unwrap().shape, [3, 3, 4]);
    let e = joined.parts()[2]
        .with_reader(|r| r.manifest("tas"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("p2.nc") && e.contains("another segment"), "{e}");
    // The coordinate of the second segment is the files' own, renamed.
    assert_eq!(
        joined.read("time_1", &Selection::all(&[3])).unwrap().values,
        Values::F64(vec![9.0, 10.5, 12.0])
    );
}
