//! Measures the compression choices on real and synthetic data: ratio,
//! encode and decode throughput. Run with
//! `cargo run -p arco-zarr --example codec_bench --release` from the
//! repository root; the table goes into docs/design/zarr-encoding.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arco_core::{DType, NdArray, Selection, Values};
use arco_storage::OpenOptions;
use arco_zarr::{ArraySpec, Compression, ZarrFormat, ZarrStore};
use std::time::Instant;

fn dir_bytes(p: &std::path::Path) -> u64 {
    let mut total = 0;
    for e in std::fs::read_dir(p).unwrap().flatten() {
        let m = e.metadata().unwrap();
        if m.is_dir() {
            total += dir_bytes(&e.path());
        } else if e.file_name() != "zarr.json" {
            total += m.len();
        }
    }
    total
}

fn read_var(path: &str, var: &str) -> NdArray {
    let src = arco_storage::open(path, &OpenOptions::default()).unwrap();
    let r = arco_formats::open(src).unwrap();
    let v = r.dataset().variable(var).unwrap().clone();
    r.read(&v.path, &Selection::all(&v.shape)).unwrap()
}

fn main() {
    let era5 = "tests/data/real/netcdf4/era5-levels-members.nc";
    let goes = "tests/data/real/netcdf4/20171025_2056.Cloud_Top_Height.nc";
    let mut cases: Vec<(&str, NdArray)> = Vec::new();
    let t = read_var(era5, "t");
    let to_f32 = |a: &NdArray| NdArray {
        shape: a.shape.clone(),
        values: Values::F32(
            a.values
                .to_f64_vec()
                .unwrap()
                .iter()
                .map(|x| *x as f32)
                .collect(),
        ),
    };
    cases.push(("ERA5 t (f64)", t.clone()));
    cases.push(("ERA5 t as f32", to_f32(&t)));
    cases.push(("ERA5 z as f32", to_f32(&read_var(era5, "z"))));
    cases.push(("GOES HT (i16 packed)", read_var(goes, "HT")));
    // A smooth synthetic field, 512 x 1024 x 16 float32 (32 MiB), and its
    // int16 packing.
    let (nz, ny, nx) = (16u64, 512u64, 1024u64);
    let mut f = Vec::with_capacity((nz * ny * nx) as usize);
    let mut seed: u32 = 1;
    for k in 0..nz {
        for j in 0..ny {
            for i in 0..nx {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
                let v = 280.0
                    + 15.0 * ((i as f32) / 97.0).sin() * ((j as f32) / 61.0).cos()
                    + 0.3 * k as f32
                    + 0.05 * noise;
                f.push(v);
            }
        }
    }
    let packed: Vec<i16> = f
        .iter()
        .map(|v| ((v - 280.0) / 0.002).round() as i16)
        .collect();
    cases.push((
        "synthetic smooth f32",
        NdArray {
            shape: vec![nz, ny, nx],
            values: Values::F32(f),
        },
    ));
    cases.push((
        "synthetic packed i16",
        NdArray {
            shape: vec![nz, ny, nx],
            values: Values::I16(packed),
        },
    ));

    let codecs: Vec<(&str, Compression)> = vec![
        (
            "zstd(1)",
            Compression::Zstd {
                level: 1,
                shuffle: false,
            },
        ),
        (
            "zstd(3)",
            Compression::Zstd {
                level: 3,
                shuffle: false,
            },
        ),
        (
            "shuffle+zstd(1)",
            Compression::Zstd {
                level: 1,
                shuffle: true,
            },
        ),
        (
            "shuffle+zstd(3)",
            Compression::Zstd {
                level: 3,
                shuffle: true,
            },
        ),
        (
            "blosc-zstd(1)+shuffle",
            Compression::Blosc {
                cname: "zstd".into(),
                clevel: 1,
                shuffle: true,
            },
        ),
        (
            "blosc-zstd(3)+shuffle",
            Compression::Blosc {
                cname: "zstd".into(),
                clevel: 3,
                shuffle: true,
            },
        ),
        (
            "blosc-zstd(5)+shuffle",
            Compression::Blosc {
                cname: "zstd".into(),
                clevel: 5,
                shuffle: true,
            },
        ),
        (
            "blosc-lz4(5)+shuffle",
            Compression::Blosc {
                cname: "lz4".into(),
                clevel: 5,
                shuffle: true,
            },
        ),
        ("gzip(6)", Compression::Gzip { level: 6 }),
    ];
    println!("| data | codec | ratio | encode MB/s | decode MB/s |");
    println!("|---|---|---:|---:|---:|");
    let tmp = tempfile::tempdir().unwrap();
    for (name, data) in &cases {
        let dtype = match &data.values {
            Values::F32(_) => DType::F32,
            Values::F64(_) => DType::F64,
            Values::I16(_) => DType::I16,
            _ => unreachable!(),
        };
        let nbytes = data.element_count() * dtype.size().unwrap() as u64;
        // About 1 MiB chunks along the first dimensions.
        let mut chunk = data.shape.clone();
        let elem = dtype.size().unwrap() as u64;
        let mut d = 0;
        while chunk.iter().product::<u64>() * elem > (1 << 20) && d < chunk.len() {
            let over = chunk.iter().product::<u64>() * elem / (1 << 20);
            chunk[d] = (chunk[d] / over.max(2)).max(1);
            if chunk[d] == 1 {
                d += 1;
            }
        }
        for (k, (label, compression)) in codecs.iter().enumerate() {
            let mut best_w = f64::MAX;
            let mut best_r = f64::MAX;
            let mut stored = 0;
            for rep in 0..3 {
                let path = tmp.path().join(format!("{name}-{k}-{rep}.zarr"));
                let store = ZarrStore::create(
                    path.to_str().unwrap(),
                    &OpenOptions::default(),
                    ZarrFormat::V3,
                )
                .unwrap();
                let spec = ArraySpec {
                    path: "/a".into(),
                    shape: data.shape.clone(),
                    chunk_shape: chunk.clone(),
                    shard_shape: None,
                    dtype: dtype.clone(),
                    fill_value: Some(serde_json::json!(0)),
                    dimension_names: (0..data.shape.len()).map(|i| format!("d{i}")).collect(),
                    attributes: Default::default(),
                    compression: compression.clone(),
                };
                let array = store.create_array(&spec).unwrap();
                let t0 = Instant::now();
                array
                    .write_region(&vec![0; data.shape.len()], data)
                    .unwrap();
                best_w = best_w.min(t0.elapsed().as_secs_f64());
                let t0 = Instant::now();
                let back = store.read("/a", &Selection::all(&data.shape)).unwrap();
                best_r = best_r.min(t0.elapsed().as_secs_f64());
                assert_eq!(back.values.len(), data.values.len());
                stored = dir_bytes(&path);
                std::fs::remove_dir_all(&path).unwrap();
            }
            let mb = nbytes as f64 / 1e6;
            println!(
                "| {name} | {label} | {:.2} | {:.0} | {:.0} |",
                nbytes as f64 / stored as f64,
                mb / best_w,
                mb / best_r
            );
        }
    }
}
