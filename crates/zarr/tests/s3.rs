//! A Zarr round trip through a real S3-compatible server (moto) on
//! 127.0.0.1. moto comes from the peers venv; without it the test prints a
//! line and passes, unless `ARCO_REQUIRE_PEERS=1`, where it fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arco_core::{DType, NdArray, Selection, Values};
use arco_storage::testing::Moto;
use arco_zarr::{ArraySpec, Compression, GroupSpec, ZarrFormat, ZarrStore};
use serde_json::json;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn a_zarr_store_on_s3_round_trips_groups_arrays_and_markers() {
    let Some(moto) = Moto::start() else { return };
    moto.create_bucket("zarr");
    let rt = runtime();
    let opts = moto.options(&rt);
    for (format, shard) in [(ZarrFormat::V3, Some(vec![4, 6])), (ZarrFormat::V2, None)] {
        let location = format!("s3://zarr/out/{format:?}.zarr");
        let store = ZarrStore::create(&location, &opts, format).unwrap();
        store
            .create_group(&GroupSpec {
                path: "/".into(),
                attributes: json!({"title": "on s3"}).as_object().unwrap().clone(),
            })
            .unwrap();
        let spec = ArraySpec {
            path: "/t".into(),
            shape: vec![10, 12],
            chunk_shape: vec![2, 3],
            shard_shape: shard,
            dtype: DType::F32,
            fill_value: None,
            dimension_names: vec!["y".into(), "x".into()],
            attributes: json!({"units": "K"}).as_object().unwrap().clone(),
            compression: Compression::Blosc {
                cname: "zstd".into(),
                clevel: 3,
                shuffle: true,
            },
        };
        let array = store.create_array(&spec).unwrap();
        let values: Vec<f32> = (0..120).map(|k| k as f32 * 0.5).collect();
        // Written from a rayon-free plain thread pair, one half each.
        std::thread::scope(|s| {
            for half in 0..2u64 {
                let array = array.clone();
                let values = values.clone();
                s.spawn(move || {
                    let rows = 5u64.next_multiple_of(array.write_unit()[0]).min(10);
                    let (r0, n) = if half == 0 {
                        (0, rows)
                    } else {
                        (rows, 10 - rows)
                    };
                    let part = values[(r0 * 12) as usize..((r0 + n) * 12) as usize].to_vec();
                    array
                        .write_region(
                            &[r0, 0],
                            &NdArray {
                                shape: vec![n, 12],
                                values: Values::F32(part),
                            },
                        )
                        .unwrap();
                });
            }
        });
        store.put_bytes(".arco/tasks/0", b"ok").unwrap();

        let reopened = ZarrStore::open(&location, &opts).unwrap();
        assert_eq!(reopened.format(), format);
        let back = reopened.read("/t", &Selection::all(&[10, 12])).unwrap();
        assert_eq!(back.values, Values::F32(values));
        let ds = reopened.dataset().unwrap();
        assert_eq!(ds.root.attr("title").unwrap().as_str(), Some("on s3"));
        assert_eq!(ds.variable("t").unwrap().dims, ["y", "x"]);
        assert_eq!(
            reopened.get_bytes(".arco/tasks/0").unwrap().as_deref(),
            Some(&b"ok"[..])
        );
        reopened.delete_prefix(".arco").unwrap();
        assert_eq!(reopened.get_bytes(".arco/tasks/0").unwrap(), None);
        reopened.delete_prefix("").unwrap();
        assert!(ZarrStore::open(&location, &opts).is_err());
    }
}

#[test]
fn remote_stores_refuse_a_single_threaded_runtime() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let e = rt
        .block_on(async {
            ZarrStore::create(
                "s3://zarr/x.zarr",
                &arco_storage::OpenOptions::default(),
                ZarrFormat::V3,
            )
        })
        .unwrap_err()
        .to_string();
    assert!(e.contains("single-threaded"), "{e}");
}
