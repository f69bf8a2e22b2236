//! Write then read back: every element type, Zarr v2 and v3, sharded and
//! not, regions at the edges, many writers at once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arco_core::{AttrValue, DType, DimSlice, NdArray, Selection, Values};
use arco_storage::OpenOptions;
use arco_zarr::{ArraySpec, Compression, GroupSpec, ZarrFormat, ZarrStore};
use serde_json::json;

fn temp_store(format: ZarrFormat) -> (tempfile::TempDir, ZarrStore) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.zarr");
    let store = ZarrStore::create(path.to_str().unwrap(), &OpenOptions::default(), format).unwrap();
    store
        .create_group(&GroupSpec {
            path: "/".into(),
            attributes: json!({"title": "t"}).as_object().unwrap().clone(),
        })
        .unwrap();
    (dir, store)
}

fn spec(path: &str, dtype: DType, shape: &[u64], chunks: &[u64]) -> ArraySpec {
    ArraySpec {
        path: path.into(),
        shape: shape.to_vec(),
        chunk_shape: chunks.to_vec(),
        shard_shape: None,
        dtype,
        fill_value: None,
        dimension_names: (0..shape.len()).map(|i| format!("d{i}")).collect(),
        attributes: serde_json::Map::new(),
        compression: Compression::Zstd {
            level: 1,
            shuffle: true,
        },
    }
}

/// `n` sample values of `dtype`.
fn sample(dtype: &DType, n: usize) -> Values {
    let i = 0..n;
    match dtype {
        DType::Bool => Values::Bool(i.map(|k| k % 3 == 0).collect()),
        DType::I8 => Values::I8(i.map(|k| (k as i64 % 250 - 125) as i8).collect()),
        DType::I16 => Values::I16(i.map(|k| (k as i16).wrapping_mul(-7)).collect()),
        DType::I32 => Values::I32(i.map(|k| k as i32 * -100_003).collect()),
        DType::I64 => Values::I64(i.map(|k| (k as i64) << 40).collect()),
        DType::U8 => Values::U8(i.map(|k| (k % 256) as u8).collect()),
        DType::U16 => Values::U16(i.map(|k| (k * 31) as u16).collect()),
        DType::U32 => Values::U32(i.map(|k| k as u32 * 4_000_001).collect()),
        DType::U64 => Values::U64(i.map(|k| u64::MAX - k as u64).collect()),
        DType::F32 => Values::F32(i.map(|k| (k as f32).sin() * 1e3).collect()),
        DType::F64 => Values::F64(
            i.map(|k| if k % 7 == 0 { f64::NAN } else { k as f64 / 3.0 })
                .collect(),
        ),
        DType::Char => Values::U8(i.map(|k| b'a' + (k % 26) as u8).collect()),
        DType::FixedString { size } => Values::Str(
            i.map(|k| "xyzw".repeat(4)[..(k % (size + 1)).min(*size)].to_string())
                .collect(),
        ),
        DType::String => Values::Str(i.map(|k| format!("é{}", "s".repeat(k % 5))).collect()),
        DType::Opaque { size } => Values::Opaque {
            size: *size,
            bytes: (0..n * size).map(|k| (k * 7) as u8).collect(),
        },
        other => panic!("no sample for {other}"),
    }
}

fn all_types() -> Vec<DType> {
    vec![
        DType::Bool,
        DType::I8,
        DType::I16,
        DType::I32,
        DType::I64,
        DType::U8,
        DType::U16,
        DType::U32,
        DType::U64,
        DType::F32,
        DType::F64,
        DType::Char,
        DType::FixedString { size: 6 },
        DType::String,
        DType::Opaque { size: 3 },
    ]
}

/// Equality that treats NaN as equal to NaN.
fn same(a: &Values, b: &Values) -> bool {
    match (a, b) {
        (Values::F64(x), Values::F64(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|(p, q)| p.to_bits() == q.to_bits() || (p.is_nan() && q.is_nan()))
        }
        _ => a == b,
    }
}

fn round_trip(format: ZarrFormat, shard: bool) {
    let (_dir, store) = temp_store(format);
    let shape = [7u64, 5];
    for (k, dtype) in all_types().into_iter().enumerate() {
        let mut s = spec(&format!("/v{k}"), dtype.clone(), &shape, &[2, 2]);
        if shard {
            s.shard_shape = Some(vec![4, 4]);
        }
        let array = store.create_array(&s).unwrap();
        let data = NdArray {
            shape: shape.to_vec(),
            values: sample(&dtype, 35),
        };
        array.write_region(&[0, 0], &data).unwrap();
        let back = store.read(&s.path, &Selection::all(&shape)).unwrap();
        assert_eq!(back.shape, data.shape, "{dtype}");
        assert!(
            same(&back.values, &data.values),
            "{format:?} shard={shard} {dtype}: wrote {:?}, read {:?}",
            data.values,
            back.values
        );
        // A strided, offset selection.
        let sel = Selection {
            dims: vec![
                DimSlice {
                    start: 1,
                    stop: 7,
                    step: 3,
                },
                DimSlice {
                    start: 0,
                    stop: 5,
                    step: 2,
                },
            ],
        };
        let part = store.read(&s.path, &sel).unwrap();
        assert_eq!(part.shape, vec![2, 3]);
        let whole = store.read(&s.path, &Selection::all(&shape)).unwrap();
        let expect: Vec<usize> = vec![5, 7, 9, 20, 22, 24];
        let one = |v: &Values, i: usize| match v {
            Values::Opaque { size, bytes } => Values::Opaque {
                size: *size,
                bytes: bytes[i * size..(i + 1) * size].to_vec(),
            },
            Values::Str(s) => Values::Str(vec![s[i].clone()]),
            Values::Bool(b) => Values::Bool(vec![b[i]]),
            other => Values::F64(vec![other.get_f64(i).unwrap()]),
        };
        for (j, i) in expect.iter().enumerate() {
            assert!(
                same(&one(&part.values, j), &one(&whole.values, *i)),
                "{dtype} strided element {j}"
            );
        }
    }
}

#[test]
fn every_dtype_round_trips_in_zarr_v3() {
    round_trip(ZarrFormat::V3, false);
}

#[test]
fn every_dtype_round_trips_in_sharded_zarr_v3() {
    round_trip(ZarrFormat::V3, true);
}

#[test]
fn every_dtype_round_trips_in_zarr_v2() {
    round_trip(ZarrFormat::V2, false);
}

#[test]
fn every_compression_round_trips_in_both_formats() {
    for format in [ZarrFormat::V3, ZarrFormat::V2] {
        let (_dir, store) = temp_store(format);
        for (k, compression) in [
            Compression::None,
            Compression::Zstd {
                level: 3,
                shuffle: false,
            },
            Compression::Zstd {
                level: -1,
                shuffle: true,
            },
            Compression::Blosc {
                cname: "zstd".into(),
                clevel: 5,
                shuffle: true,
            },
            Compression::Blosc {
                cname: "lz4".into(),
                clevel: 1,
                shuffle: false,
            },
            Compression::Gzip { level: 6 },
        ]
        .into_iter()
        .enumerate()
        {
            let mut s = spec(&format!("/c{k}"), DType::F32, &[100], &[30]);
            s.compression = compression.clone();
            let array = store.create_array(&s).unwrap();
            let data = NdArray {
                shape: vec![100],
                values: sample(&DType::F32, 100),
            };
            array.write_region(&[0], &data).unwrap();
            assert_eq!(
                store.read(&s.path, &Selection::all(&[100])).unwrap(),
                data,
                "{format:?} {compression:?}"
            );
            assert_eq!(
                store.array(&s.path).unwrap().spec().compression,
                compression
            );
        }
    }
}

#[test]
fn regions_at_the_edges_write_partial_chunks_and_shards() {
    for (format, shard) in [
        (ZarrFormat::V3, None),
        (ZarrFormat::V3, Some(vec![4, 6])),
        (ZarrFormat::V2, None),
    ] {
        let (_dir, store) = temp_store(format);
        let shape = [10u64, 11];
        let mut s = spec("/a", DType::I32, &shape, &[2, 3]);
        s.shard_shape = shard.clone();
        let array = store.create_array(&s).unwrap();
        let unit = array.write_unit().to_vec();
        // Write unit by unit, each a separate region; the last row and
        // column of units are cut by the array's edge.
        for r0 in (0..shape[0]).step_by(unit[0] as usize) {
            for c0 in (0..shape[1]).step_by(unit[1] as usize) {
                let rows = unit[0].min(shape[0] - r0);
                let cols = unit[1].min(shape[1] - c0);
                let vals: Vec<i32> = (0..rows)
                    .flat_map(|r| (0..cols).map(move |c| ((r0 + r) * 100 + c0 + c) as i32))
                    .collect();
                array
                    .write_region(
                        &[r0, c0],
                        &NdArray {
                            shape: vec![rows, cols],
                            values: Values::I32(vals),
                        },
                    )
                    .unwrap();
            }
        }
        let back = store.read("/a", &Selection::all(&shape)).unwrap();
        let expect: Vec<i32> = (0..shape[0])
            .flat_map(|r| (0..shape[1]).map(move |c| (r * 100 + c) as i32))
            .collect();
        assert_eq!(back.values, Values::I32(expect), "{format:?} {shard:?}");
    }
}

#[test]
fn an_unaligned_region_updates_the_chunks_it_touches() {
    let (_dir, store) = temp_store(ZarrFormat::V3);
    let array = store
        .create_array(&spec("/a", DType::I16, &[6], &[4]))
        .unwrap();
    array
        .write_region(
            &[0],
            &NdArray {
                shape: vec![6],
                values: Values::I16(vec![1; 6]),
            },
        )
        .unwrap();
    array
        .write_region(
            &[3],
            &NdArray {
                shape: vec![2],
                values: Values::I16(vec![9, 9]),
            },
        )
        .unwrap();
    let back = store.read("/a", &Selection::all(&[6])).unwrap();
    assert_eq!(back.values, Values::I16(vec![1, 1, 1, 9, 9, 1]));
}

#[test]
fn concurrent_region_writes_from_several_threads_all_land() {
    for shard in [None, Some(vec![8, 8])] {
        let (_dir, store) = temp_store(ZarrFormat::V3);
        let shape = [64u64, 40];
        let mut s = spec("/t", DType::F32, &shape, &[4, 4]);
        s.shard_shape = shard;
        let array = store.create_array(&s).unwrap();
        let rows_per = array.write_unit()[0];
        std::thread::scope(|scope| {
            for t in 0..4u64 {
                let array = array.clone();
                scope.spawn(move || {
                    // Thread t writes every 4th band of rows.
                    let mut r0 = t * rows_per;
                    while r0 < shape[0] {
                        let vals: Vec<f32> = (0..rows_per * shape[1])
                            .map(|k| (r0 * shape[1] + k) as f32)
                            .collect();
                        array
                            .write_region(
                                &[r0, 0],
                                &NdArray {
                                    shape: vec![rows_per, shape[1]],
                                    values: Values::F32(vals),
                                },
                            )
                            .unwrap();
                        r0 += 4 * rows_per;
                    }
                });
            }
        });
        let back = store.read("/t", &Selection::all(&shape)).unwrap();
        let expect: Vec<f32> = (0..shape[0] * shape[1]).map(|k| k as f32).collect();
        assert_eq!(back.values, Values::F32(expect));
    }
}

#[test]
fn chunks_of_only_the_fill_value_are_not_stored_in_v3() {
    let (dir, store) = temp_store(ZarrFormat::V3);
    let array = store
        .create_array(&spec("/f", DType::F64, &[4], &[2]))
        .unwrap();
    array
        .write_region(
            &[0],
            &NdArray {
                shape: vec![4],
                values: Values::F64(vec![f64::NAN, f64::NAN, 1.0, 2.0]),
            },
        )
        .unwrap();
    let chunk_dir = dir.path().join("out.zarr/f/c");
    assert!(!chunk_dir.join("0").exists());
    assert!(chunk_dir.join("1").exists());
    let back = store.read("/f", &Selection::all(&[4])).unwrap();
    let Values::F64(v) = back.values else {
        panic!()
    };
    assert!(v[0].is_nan() && v[1].is_nan() && v[2] == 1.0);
}

#[test]
fn the_dataset_lists_groups_arrays_dimensions_and_typed_attributes() {
    for format in [ZarrFormat::V3, ZarrFormat::V2] {
        let (dir, store) = temp_store(format);
        store
            .create_group(&GroupSpec {
                path: "/grp".into(),
                attributes: json!({"n": 3}).as_object().unwrap().clone(),
            })
            .unwrap();
        let mut s = spec("/grp/t2m", DType::I16, &[3, 4], &[2, 4]);
        s.dimension_names = vec!["time".into(), "x".into()];
        s.attributes = json!({
            "units": "K", "scale_factor": 0.01, "_FillValue": -32767,
            "valid_range": [0.0, "Infinity"], "flag_values": [1, 2, 3]
        })
        .as_object()
        .unwrap()
        .clone();
        store.create_array(&s).unwrap();
        let mut f = spec("/x", DType::F32, &[4], &[4]);
        f.dimension_names = vec!["x".into()];
        f.attributes = arco_zarr::attributes_json(&[arco_core::Attribute {
            name: "_FillValue".into(),
            value: AttrValue::Array(Values::F32(vec![-9999.0])),
            dtype: DType::F32,
        }]);
        store.create_array(&f).unwrap();

        let reopened = ZarrStore::open(
            dir.path().join("out.zarr").to_str().unwrap(),
            &OpenOptions::default(),
        )
        .unwrap();
        assert_eq!(reopened.format(), format);
        let ds = reopened.dataset().unwrap();
        assert_eq!(
            ds.format,
            if format == ZarrFormat::V3 {
                "zarr-v3"
            } else {
                "zarr-v2"
            }
        );
        assert_eq!(ds.root.attr("title").unwrap().as_str(), Some("t"));
        let v = ds.variable("/grp/t2m").unwrap();
        assert_eq!(v.dims, ["time", "x"]);
        assert_eq!(v.shape, [3, 4]);
        assert_eq!(v.dtype, DType::I16);
        assert_eq!(v.chunk_shape, Some(vec![2, 4]));
        assert_eq!(v.attr("units").unwrap().as_str(), Some("K"));
        assert_eq!(v.attr("scale_factor").unwrap().as_f64(), Some(0.01));
        assert_eq!(
            v.fill_value,
            Some(AttrValue::Array(Values::I16(vec![-32767])))
        );
        assert_eq!(
            v.attr("flag_values"),
            Some(&AttrValue::Array(Values::I64(vec![1, 2, 3])))
        );
        let range = v.attr("valid_range").unwrap().as_f64_vec().unwrap();
        assert!(range[1].is_infinite());
        let g = ds.group("/grp").unwrap();
        assert_eq!(g.attr("n").unwrap().as_f64(), Some(3.0));
        assert_eq!(g.dimensions.len(), 2);
        let x = ds.variable("/x").unwrap();
        assert_eq!(
            x.fill_value,
            Some(AttrValue::Array(Values::F32(vec![-9999.0])))
        );
        assert!(!v.codecs.is_empty());
    }
}

#[test]
fn v2_moves_fill_value_out_of_the_attributes() {
    let (dir, store) = temp_store(ZarrFormat::V2);
    let mut s = spec("/t", DType::F32, &[2], &[2]);
    s.attributes = arco_zarr::attributes_json(&[
        arco_core::Attribute {
            name: "_FillValue".into(),
            value: AttrValue::Array(Values::F32(vec![f32::NAN])),
            dtype: DType::F32,
        },
        arco_core::Attribute::text("units", "m"),
    ]);
    store.create_array(&s).unwrap();
    let root = dir.path().join("out.zarr/t");
    let zarray: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join(".zarray")).unwrap()).unwrap();
    let zattrs: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join(".zattrs")).unwrap()).unwrap();
    assert_eq!(zarray["fill_value"], "NaN");
    assert_eq!(zarray["dtype"], "<f4");
    assert!(zattrs.get("_FillValue").is_none());
    assert_eq!(zattrs["_ARRAY_DIMENSIONS"], json!(["d0"]));
    // No _FillValue: a null fill value, so xarray masks nothing.
    let s = spec("/i", DType::I32, &[2], &[2]);
    store.create_array(&s).unwrap();
    let zarray: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out.zarr/i/.zarray")).unwrap())
            .unwrap();
    assert!(zarray["fill_value"].is_null());
}

#[test]
fn bad_specs_and_regions_are_refused_with_the_array_named() {
    let (_dir, store) = temp_store(ZarrFormat::V3);
    let mut s = spec("/bad", DType::F32, &[4, 4], &[2, 2]);
    s.shard_shape = Some(vec![3, 2]);
    let e = store.create_array(&s).unwrap_err().to_string();
    assert!(e.contains("bad") && e.contains("multiple"), "{e}");
    let (_dir2, v2) = temp_store(ZarrFormat::V2);
    let mut s = spec("/sh", DType::F32, &[4], &[2]);
    s.shard_shape = Some(vec![4]);
    let e = v2.create_array(&s).unwrap_err().to_string();
    assert!(e.contains("sharding"), "{e}");
    let array = store
        .create_array(&spec("/ok", DType::F32, &[4], &[2]))
        .unwrap();
    let e = array
        .write_region(
            &[2],
            &NdArray {
                shape: vec![4],
                values: Values::F32(vec![0.0; 4]),
            },
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("/ok") && e.contains("past"), "{e}");
    let e = array
        .write_region(
            &[0],
            &NdArray {
                shape: vec![2],
                values: Values::F64(vec![0.0; 2]),
            },
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("float64") && e.contains("float32"), "{e}");
    let e = ZarrStore::open("/nonexistent/arco/zarr", &OpenOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a directory"), "{e}");
}

#[test]
fn raw_bytes_survive_and_prefixes_can_be_deleted() {
    let (_dir, store) = temp_store(ZarrFormat::V3);
    store.put_bytes(".arco/tasks/1", b"done").unwrap();
    store.put_bytes(".arco/tasks/2", b"done").unwrap();
    assert_eq!(
        store.get_bytes(".arco/tasks/1").unwrap().as_deref(),
        Some(&b"done"[..])
    );
    assert_eq!(store.get_bytes(".arco/none").unwrap(), None);
    store.delete_prefix(".arco/tasks").unwrap();
    assert_eq!(store.get_bytes(".arco/tasks/2").unwrap(), None);
    // The dataset skips non-node prefixes.
    store.put_bytes(".arco/x", b"1").unwrap();
    assert!(store.dataset().unwrap().root.variables.is_empty());
}
