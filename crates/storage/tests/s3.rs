//! `s3://` and `http://` reads against a real S3-compatible server (moto) on
//! 127.0.0.1.
//!
//! moto's server comes from the peers venv (`scripts/setup-peers.sh`). Without
//! it these tests print a line and pass, unless `ARCO_REQUIRE_PEERS=1`, where
//! they fail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arco_storage::testing::Moto;
use arco_storage::{open, ByteSource, Error, OpenOptions, ReadCounter, S3Options};
use std::path::PathBuf;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Deterministic, incompressible-looking bytes.
fn sample(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn local_copy(name: &str, data: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("arco-storage-s3-{}-{name}", std::process::id()));
    std::fs::write(&path, data).expect("write local copy");
    path
}

const MIB: u64 = 1024 * 1024;

#[test]
fn an_s3_object_reads_the_same_bytes_as_the_local_file() {
    let Some(moto) = Moto::start() else { return };
    let data = sample(3 * MIB as usize + 12_345);
    moto.create_bucket("arco");
    moto.put("arco", "dir/sample.bin", &data, false);
    let local_path = local_copy("same-bytes.bin", &data);

    let rt = runtime();
    let opts = moto.options(&rt);
    let remote = open("s3://arco/dir/sample.bin", &opts).unwrap();
    let local = open(local_path.to_str().unwrap(), &opts).unwrap();
    assert_eq!(remote.len(), data.len() as u64);
    assert_eq!(remote.location(), "s3://arco/dir/sample.bin");

    let len = data.len() as u64;
    // Inside one cache block, across a block boundary, large, the tail.
    for r in [
        0..100,
        1000..1001,
        262_000..263_000,
        100_000..1_500_000,
        len - 10..len,
        5..5,
    ] {
        assert_eq!(
            remote.read_range(r.clone()).unwrap(),
            local.read_range(r.clone()).unwrap(),
            "{r:?}"
        );
    }
    let ranges = [0..10, 10..4096, 2 * MIB..2 * MIB + 7, 3 * MIB..len];
    assert_eq!(
        remote.read_ranges(&ranges).unwrap(),
        local.read_ranges(&ranges).unwrap()
    );

    let e = remote.read_range(len - 1..len + 1).unwrap_err().to_string();
    assert!(
        e.contains("s3://arco/dir/sample.bin") && e.contains(&format!("{len} bytes")),
        "{e}"
    );
    let _ = std::fs::remove_file(local_path);
}

#[test]
fn neighbouring_ranges_are_coalesced_into_fewer_requests() {
    let Some(moto) = Moto::start() else { return };
    let data = sample(4 * MIB as usize);
    moto.create_bucket("arco");
    moto.put("arco", "chunks.bin", &data, false);

    let rt = runtime();
    let counter = ReadCounter::new();
    let opts = OpenOptions {
        counter: Some(counter.clone()),
        ..moto.options(&rt)
    };
    let src = open("s3://arco/chunks.bin", &opts).unwrap();
    assert_eq!(counter.stats().requests, 1, "open sends one HEAD");

    // 64 chunks of 4 KiB every 16 KiB in the first MiB, and 8 more near 3 MiB.
    let mut ranges: Vec<_> = (0..64u64).map(|i| i * 16_384..i * 16_384 + 4096).collect();
    ranges.extend((0..8u64).map(|i| 3 * MIB + i * 8192..3 * MIB + i * 8192 + 1000));
    let asked: u64 = ranges.iter().map(|r| r.end - r.start).sum();

    counter.reset();
    let got = src.read_ranges(&ranges).unwrap();
    for (r, g) in ranges.iter().zip(&got) {
        assert_eq!(&g[..], &data[r.start as usize..r.end as usize]);
    }
    let s = counter.stats();
    eprintln!(
        "coalesced: {} ranges ({asked} bytes asked) -> {} requests, {} bytes fetched",
        ranges.len(),
        s.requests,
        s.bytes
    );
    assert_eq!(s.requests, 2, "two clusters, two requests");
    assert!(s.requests < ranges.len() as u64);
    // Fetched = the two spans: 63*16 KiB + 4 KiB, and 7*8 KiB + 1000.
    let spans = (63 * 16_384 + 4096) + (7 * 8192 + 1000);
    assert_eq!(s.bytes, spans);
    assert!(s.bytes < 2 * MIB, "bounded by the spans, not the object");

    // With coalescing off every range is its own request.
    let opts0 = OpenOptions {
        coalesce_gap: 0,
        ..opts.clone()
    };
    let src0 = open("s3://arco/chunks.bin", &opts0).unwrap();
    counter.reset();
    src0.read_ranges(&ranges).unwrap();
    let s0 = counter.stats();
    eprintln!("uncoalesced: {} requests, {} bytes", s0.requests, s0.bytes);
    assert_eq!((s0.requests, s0.bytes), (ranges.len() as u64, asked));

    // Metadata reads go through the block cache: one 256 KiB block, once.
    counter.reset();
    for i in 0..50u64 {
        assert_eq!(
            &src.read_range(i * 100..i * 100 + 64).unwrap()[..],
            &data[(i * 100) as usize..(i * 100 + 64) as usize]
        );
    }
    let c = counter.stats();
    eprintln!(
        "metadata: 50 small reads -> {} requests, {} bytes",
        c.requests, c.bytes
    );
    assert_eq!((c.requests, c.bytes), (1, 256 * 1024));
}

#[test]
fn a_missing_key_is_not_found_and_names_the_url() {
    let Some(moto) = Moto::start() else { return };
    moto.create_bucket("arco");
    let rt = runtime();
    let e = open("s3://arco/no/such.nc", &moto.options(&rt)).unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
    let msg = e.to_string();
    eprintln!("missing key: {msg}");
    assert!(
        msg.starts_with("s3://arco/no/such.nc: not found")
            && msg.contains("check the bucket and key"),
        "{msg}"
    );

    let e = open("s3://no-such-bucket/x.nc", &moto.options(&rt)).unwrap_err();
    assert!(e.to_string().contains("s3://no-such-bucket/x.nc"), "{e}");
}

#[test]
fn a_private_object_needs_credentials_and_a_public_one_does_not() {
    let Some(moto) = Moto::start() else { return };
    moto.create_bucket("arco");
    moto.put("arco", "private.bin", b"secret bytes", false);
    moto.put("arco", "public.bin", b"open bytes", true);
    let rt = runtime();
    let signed = moto.options(&rt);
    let anonymous = OpenOptions {
        s3: S3Options {
            anonymous: true,
            ..signed.s3.clone()
        },
        ..signed.clone()
    };

    let src = open("s3://arco/private.bin", &signed).unwrap();
    assert_eq!(&src.read_range(0..6).unwrap()[..], b"secret");

    let e = open("s3://arco/private.bin", &anonymous).unwrap_err();
    assert!(matches!(e, Error::Denied { .. }), "{e:?}");
    let msg = e.to_string();
    eprintln!("anonymous read of a private object: {msg}");
    assert!(
        msg.contains("s3://arco/private.bin")
            && msg.contains("AWS_ACCESS_KEY_ID")
            && msg.contains("AWS_SECRET_ACCESS_KEY"),
        "{msg}"
    );

    let src = open("s3://arco/public.bin", &anonymous).unwrap();
    assert_eq!(&src.read_range(5..10).unwrap()[..], b"bytes");
}

#[test]
fn a_public_object_is_also_readable_by_its_http_url() {
    let Some(moto) = Moto::start() else { return };
    let data = sample(600_000);
    moto.create_bucket("arco");
    moto.put("arco", "web/sample.bin", &data, true);
    let rt = runtime();
    let counter = ReadCounter::new();
    let opts = OpenOptions {
        handle: Some(rt.handle().clone()),
        counter: Some(counter.clone()),
        ..OpenOptions::default()
    };
    let url = format!("{}/arco/web/sample.bin", moto.endpoint());
    let src = open(&url, &opts).unwrap();
    assert_eq!(src.len(), data.len() as u64);
    assert_eq!(
        &src.read_range(300_000..300_100).unwrap()[..],
        &data[300_000..300_100]
    );
    let got = src
        .read_ranges(&[10..20, 30..40, 599_990..600_000])
        .unwrap();
    assert_eq!(&got[2][..], &data[599_990..]);
    // HEAD, one cache block, one coalesced request.
    assert_eq!(counter.stats().requests, 3);

    let e = open(&format!("{}/arco/web/missing.bin", moto.endpoint()), &opts).unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
    assert!(e.to_string().contains("/arco/web/missing.bin"), "{e}");
}
