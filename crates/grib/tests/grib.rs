//! Integration tests of the GRIB reader and the GRIB codec: the real sample
//! files, the ecCodes-made fixtures (every packing and scanning mode, split
//! hypercubes), and truncated or unsupported inputs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arco_codecs::{decode_chunk, ChunkContext};
use arco_core::{ChunkManifest, CodecSpec, DType, Endian, Values};
use arco_grib::{Error, GribFile};
use arco_storage::{ByteSource, MemSource};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn bytes(rel: &str) -> Vec<u8> {
    std::fs::read(repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn source(name: &str, data: Vec<u8>) -> Arc<MemSource> {
    Arc::new(MemSource::new(name, data))
}

fn open(rel: &str) -> (GribFile, Arc<MemSource>) {
    let src = source(rel, bytes(rel));
    (GribFile::open(src.clone()).unwrap(), src)
}

/// Every element of a variable, decoded chunk by chunk (NaN for missing chunks).
fn read_all(file: &GribFile, src: &MemSource, var: &str) -> (Vec<u64>, Vec<f64>) {
    let m = file.manifest(var).unwrap();
    let v = file.dataset().variable(var).unwrap().clone();
    let total: u64 = v.shape.iter().product();
    let mut out = vec![f64::NAN; total as usize];
    let per: u64 = m.grid.chunk_shape.iter().product();
    for c in &m.chunks {
        let raw = match &c.inline {
            Some(b) => b.to_vec(),
            None => src
                .read_range(c.offset..c.offset + c.length)
                .unwrap()
                .to_vec(),
        };
        let ctx = ChunkContext {
            label: "test",
            dtype: &m.dtype,
            endian: m.endian,
            elements: per as usize,
        };
        let dec = decode_chunk(&raw, &m.codecs, 0, &ctx).unwrap();
        let vals = as_f64(&dec, &m);
        // chunk index → offset: leading dims have chunk size 1 except the last ones
        let mut start = 0u64;
        let mut stride = 1u64;
        for d in (0..v.shape.len()).rev() {
            start += c.index[d] * m.grid.chunk_shape[d] * stride;
            stride *= v.shape[d];
        }
        out[start as usize..(start + per) as usize].copy_from_slice(&vals);
    }
    (v.shape, out)
}

fn as_f64(dec: &[u8], m: &ChunkManifest) -> Vec<f64> {
    assert_eq!(m.endian, Endian::Little);
    match m.dtype {
        DType::F32 => dec
            .chunks_exact(4)
            .map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
            .collect(),
        DType::F64 => dec
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
            .collect(),
        DType::I64 => dec
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes(b.try_into().unwrap()) as f64)
            .collect(),
        ref other => panic!("unexpected dtype {other}"),
    }
}

fn coord(file: &GribFile, src: &MemSource, name: &str) -> Vec<f64> {
    read_all(file, src, name).1
}

fn dims(file: &GribFile) -> HashMap<String, u64> {
    file.dataset()
        .root
        .dimensions
        .iter()
        .map(|d| (d.name.clone(), d.size))
        .collect()
}

const FIX: &str = "tests/data/fixtures/grib";
const REAL: &str = "tests/data/real/grib";

#[test]
fn era5_members_form_one_hypercube_of_number_time_and_pressure() {
    let (file, _) = open(&format!("{REAL}/era5-levels-members.grib"));
    let d = dims(&file);
    assert_eq!(d["number"], 10);
    assert_eq!(d["time"], 4);
    assert_eq!(d["isobaricInhPa"], 2);
    assert_eq!(d["latitude"], 61);
    assert_eq!(d["longitude"], 120);
    assert_eq!(file.dataset().format, "grib1");
    for name in ["z", "t"] {
        let v = file.dataset().variable(name).unwrap();
        assert_eq!(
            v.dims,
            ["number", "time", "isobaricInhPa", "latitude", "longitude"]
        );
        let m = file.manifest(name).unwrap();
        assert_eq!(m.chunks.len(), 80, "{name}: one chunk per message");
        assert!(matches!(
            &m.codecs[..],
            [CodecSpec::Grib { edition: 1, packing }] if packing == "grid_simple"
        ));
        // a chunk is one whole message: it starts with GRIB
        let data = bytes(&format!("{REAL}/era5-levels-members.grib"));
        for c in &m.chunks {
            let at = c.offset as usize;
            assert_eq!(&data[at..at + 4], b"GRIB");
            assert_eq!(
                &data[at + c.length as usize - 4..at + c.length as usize],
                b"7777"
            );
        }
    }
    assert_eq!(file.message_count(), 160);
}

#[test]
fn a_reduced_gaussian_grid_stays_reduced_with_per_point_coordinates() {
    let (file, src) = open(&format!("{REAL}/reduced_gg.grib"));
    let v = file.dataset().variable("u10").unwrap();
    assert_eq!(v.dims, ["values"]);
    assert_eq!(v.shape, [13280]);
    let lat = coord(&file, &src, "latitude");
    let lon = coord(&file, &src, "longitude");
    assert_eq!(lat.len(), 13280);
    // N48: the first row has 20 points from 0 by 18 degrees at 88.572...
    assert!((lat[0] - 88.572_168_514_007).abs() < 1e-9, "{}", lat[0]);
    assert_eq!(&lon[..3], &[0.0, 18.0, 36.0]);
    assert!(v
        .attributes
        .iter()
        .any(|a| a.name == "GRIB_gridType" && a.value.as_str() == Some("reduced_gg")));
}

#[test]
fn spherical_harmonics_are_refused_with_a_clear_error_not_decoded() {
    let (file, src) = open(&format!("{REAL}/spherical_harmonics.grib"));
    let m = file.manifest("z").unwrap();
    let c = &m.chunks[0];
    let raw = src.read_range(c.offset..c.offset + c.length).unwrap();
    let ctx = ChunkContext {
        label: "sh",
        dtype: &m.dtype,
        endian: m.endian,
        elements: 4160,
    };
    let err = decode_chunk(&raw, &m.codecs, 0, &ctx).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, arco_codecs::Error::Unsupported { .. }),
        "{msg}"
    );
    assert!(msg.contains("spherical harmonic"), "{msg}");
}

#[test]
fn a_lambert_grid_gets_projected_coordinates_and_a_grid_mapping() {
    let (file, src) = open(&format!("{REAL}/lambert_grid.grib"));
    let v = file.dataset().variable("nlwrs").unwrap();
    assert_eq!(v.dims, ["y", "x"]);
    let gm = file.dataset().variable("lambert_conformal_conic").unwrap();
    assert!(gm.attributes.iter().any(|a| a.name == "crs_wkt"));
    let x = coord(&file, &src, "x");
    assert!((x[1] - x[0] - 2500.0).abs() < 1e-6, "Dx is 2500 m");
}

/// Value at every (latitude, longitude) of a fixture, keyed to 1e-6 degrees.
fn by_position(rel: &str) -> HashMap<(i64, i64), f64> {
    let (file, src) = open(rel);
    let lat = coord(&file, &src, "latitude");
    let lon = coord(&file, &src, "longitude");
    let (shape, values) = read_all(&file, &src, "t");
    assert_eq!(shape, [lat.len() as u64, lon.len() as u64]);
    let mut out = HashMap::new();
    for (j, la) in lat.iter().enumerate() {
        for (i, lo) in lon.iter().enumerate() {
            let key = (
                (la * 1e6).round() as i64,
                (lo.rem_euclid(360.0) * 1e6).round() as i64,
            );
            out.insert(key, values[j * lon.len() + i]);
        }
    }
    out
}

#[test]
fn every_scanning_mode_puts_each_value_at_its_own_latitude_and_longitude() {
    let plain = by_position(&format!("{FIX}/scan_plain.grib2"));
    assert_eq!(plain.len(), 24 * 13);
    for mode in ["south_north", "east_west", "j_consecutive", "boustrophedon"] {
        let other = by_position(&format!("{FIX}/scan_{mode}.grib2"));
        assert_eq!(other.len(), plain.len(), "{mode}");
        for (k, v) in &plain {
            let w = other
                .get(k)
                .unwrap_or_else(|| panic!("{mode}: no point {k:?}"));
            assert!((v - w).abs() < 1e-3, "{mode}: at {k:?} {w} != {v}");
        }
    }
}

#[test]
fn every_packing_decodes_the_same_field_within_half_its_precision() {
    let (file, src) = open(&format!("{FIX}/ieee64.grib2"));
    assert_eq!(file.dataset().variable("t").unwrap().dtype, DType::F64);
    let (_, exact) = read_all(&file, &src, "t");
    let band = |k: usize| {
        let (j, i) = (k / 24, k % 24);
        (5..7).contains(&j) && (3..20).contains(&i)
    };
    for (name, tol, bitmap) in [
        ("ieee32", 1e-4, false),
        ("complex", 1e-3, true),
        ("complex_sd1", 2e-3, true),
        ("complex_sd2", 2e-3, true),
        ("png", 8e-3, false),
        ("jpeg", 1e-3, false),
        ("ccsds", 1e-3, false),
        ("scan_plain", 1e-3, false),
    ] {
        let (file, src) = open(&format!("{FIX}/{name}.grib2"));
        let (_, got) = read_all(&file, &src, "t");
        assert_eq!(got.len(), exact.len(), "{name}");
        for (k, (g, e)) in got.iter().zip(&exact).enumerate() {
            if bitmap && band(k) {
                assert!(
                    g.is_nan(),
                    "{name}: point {k} is absent from the bitmap: NaN, not {g}"
                );
            } else {
                assert!((g - e).abs() <= tol, "{name}: point {k}: {g} vs {e}");
            }
        }
    }
    let (file, src) = open(&format!("{FIX}/constant.grib2"));
    let (_, got) = read_all(&file, &src, "t");
    assert!(
        got.iter().all(|&v| v == 5.5),
        "a 0-bit field is its reference value"
    );
}

#[test]
fn a_grib1_bitmap_marks_missing_points_as_nan() {
    let (file, src) = open(&format!("{FIX}/regular_ll_bitmap.grib1"));
    let (_, got) = read_all(&file, &src, "t2m");
    let nan = got.iter().filter(|v| v.is_nan()).count();
    assert_eq!(nan, 2 * 17);
}

#[test]
fn a_missing_combination_is_a_missing_chunk_and_reads_as_nan() {
    let (file, src) = open(&format!("{FIX}/levels_steps.grib2"));
    let v = file.dataset().variable("t").unwrap();
    assert_eq!(v.dims, ["step", "isobaricInhPa", "latitude", "longitude"]);
    let m = file.manifest("t").unwrap();
    assert_eq!(m.chunks.len(), 5);
    assert_eq!(m.grid.chunk_count(), 6);
    let (_, values) = read_all(&file, &src, "t");
    let per = 24 * 13;
    // step 12 (index 2), 500 hPa (index 1): chunk 2*2+1 = 5 is missing
    assert!(values[5 * per..6 * per].iter().all(|v| v.is_nan()));
    assert!(values[..5 * per].iter().all(|v| !v.is_nan()));
}

#[test]
fn a_mostly_empty_hypercube_is_split_and_another_grid_gets_a_group() {
    let (file, _) = open(&format!("{FIX}/sparse.grib2"));
    let names: Vec<&str> = file
        .dataset()
        .root
        .variables
        .iter()
        .filter(|v| !v.codecs.is_empty())
        .map(|v| v.name.as_str())
        .collect();
    assert_eq!(names, ["t", "t_2", "t_3", "t_4"]);
    let (file, _) = open(&format!("{FIX}/two_grids.grib2"));
    let g = file.dataset().group("/grid_2").unwrap();
    assert_eq!(
        g.dimensions.iter().map(|d| d.size).collect::<Vec<_>>(),
        [7, 12]
    );
    assert!(file.dataset().variable("/grid_2/t").is_ok());
    assert!(file.dataset().variable("/t").is_ok());
}

#[test]
fn every_prefix_of_a_message_is_refused_with_its_byte_offset_never_a_panic() {
    let data = bytes(&format!("{FIX}/constant.grib2"));
    for cut in 1..data.len() {
        let src = source("cut.grib2", data[..cut].to_vec());
        match GribFile::open(src) {
            Err(Error::Format { offset, reason, .. }) => {
                assert!(offset <= cut as u64, "cut {cut}: offset {offset}");
                assert!(
                    reason.contains("truncated") || reason.contains("no GRIB message"),
                    "cut {cut}: {reason}"
                );
            }
            other => panic!("cut {cut}: {other:?}"),
        }
    }
    // The codec refuses every prefix of the message too.
    let (file, _) = open(&format!("{FIX}/constant.grib2"));
    let m = file.manifest("t").unwrap();
    let ctx = ChunkContext {
        label: "cut",
        dtype: &m.dtype,
        endian: m.endian,
        elements: 312,
    };
    for cut in 0..data.len() - 4 {
        assert!(
            decode_chunk(&data[..cut], &m.codecs, 0, &ctx).is_err(),
            "cut {cut} decoded"
        );
    }
}

#[test]
fn every_prefix_of_a_grib1_message_is_refused_never_a_panic() {
    let data = bytes(&format!("{FIX}/regular_ll_bitmap.grib1"));
    for cut in 1..data.len() {
        let src = source("cut.grib1", data[..cut].to_vec());
        assert!(
            matches!(GribFile::open(src), Err(Error::Format { .. })),
            "cut {cut}"
        );
    }
}

#[test]
fn a_file_without_grib_messages_is_refused() {
    let src = source("x.grib", b"hello world, not grib".to_vec());
    let err = GribFile::open(src).unwrap_err().to_string();
    assert!(err.contains("no GRIB message"), "{err}");
}

#[test]
fn coordinates_carry_cf_attributes_and_times() {
    let (file, src) = open(&format!("{REAL}/era5-levels-members.grib"));
    let t = file.dataset().variable("time").unwrap();
    assert_eq!(
        t.attr("units").and_then(|a| a.as_str()),
        Some("seconds since 1970-01-01T00:00:00")
    );
    let times = coord(&file, &src, "time");
    // 2017-01-01T00:00 and 12:00, 2017-01-02T00:00 and 12:00
    assert_eq!(
        times,
        [1483228800.0, 1483272000.0, 1483315200.0, 1483358400.0]
    );
    let lev = coord(&file, &src, "isobaricInhPa");
    assert_eq!(lev, [850.0, 500.0]);
    let z = file.dataset().variable("z").unwrap();
    assert_eq!(
        z.attr("standard_name").and_then(|a| a.as_str()),
        Some("geopotential")
    );
    assert!(
        matches!(z.fill_value, Some(arco_core::AttrValue::Array(Values::F32(ref v))) if v[0].is_nan())
    );
}

/// The sections of a single-field GRIB2 message, by number.
fn sections(msg: &[u8]) -> HashMap<u8, Vec<u8>> {
    let mut out = HashMap::new();
    let mut at = 16;
    while &msg[at..at + 4] != b"7777" {
        let len = u32::from_be_bytes(msg[at..at + 4].try_into().unwrap()) as usize;
        out.insert(msg[at + 4], msg[at..at + len].to_vec());
        at += len;
    }
    out
}

#[test]
fn each_field_of_a_multi_field_message_is_its_own_chunk() {
    // constant.grib2 is one field of 5.5 packed with 0 bits: repeat its
    // sections 4-7 with another reference value and a re-used bitmap.
    let one = bytes(&format!("{FIX}/constant.grib2"));
    let s = sections(&one);
    let mut sec5 = s[&5].clone();
    sec5[11..15].copy_from_slice(&7.25f32.to_be_bytes());
    let mut msg = one[..16].to_vec();
    for k in [1u8, 3, 4, 5, 6, 7] {
        msg.extend(&s[&k]);
    }
    let first_end = msg.len() as u64;
    msg.extend(&s[&4]);
    msg.extend(&sec5);
    msg.extend(&s[&6]);
    msg.extend(&s[&7]);
    msg.extend(b"7777");
    let total = msg.len() as u64;
    msg[8..16].copy_from_slice(&total.to_be_bytes());
    let src = source("multi.grib2", msg);
    let file = GribFile::open(src.clone()).unwrap();
    assert_eq!(file.message_count(), 1);
    let mut seen = Vec::new();
    for name in ["t", "t_2"] {
        let m = file.manifest(name).unwrap();
        assert_eq!(m.chunks.len(), 1, "{name}");
        seen.push(m.chunks[0].length);
        let (_, values) = read_all(&file, &src, name);
        let want = if name == "t" { 5.5 } else { 7.25 };
        assert!(
            values.iter().all(|&v| v == want),
            "{name}: {:?}",
            &values[..3]
        );
    }
    assert_eq!(seen, [first_end, total - 4]);
}
