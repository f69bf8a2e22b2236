//! Concatenating NetCDF-3 files along a dimension: the joined dataset reads as
//! the unsplit file did, and every mismatch is refused naming both files.
//!
//! The inputs are written here by a tiny NetCDF-3 classic writer: one
//! "unsplit" file with nine time steps, and parts holding a range of them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arco_core::{DimSlice, Selection};
use arco_formats::concat::{concat, ConcatOptions, ConcatReader};
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
        put_attrs(&mut out, &[]);
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
