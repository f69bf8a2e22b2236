//! Points per second through the projections the tile server will use:
//! `cargo bench -p arco-crs --bench project`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use arco_crs::Crs;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

const N: usize = 100_000;

fn bench(c: &mut Criterion) {
    let cases = [
        (
            "utm33",
            Crs::from_epsg(32633).unwrap(),
            (9.0, 21.0),
            (0.0, 80.0),
        ),
        (
            "laea_europe",
            Crs::from_epsg(3035).unwrap(),
            (-20.0, 40.0),
            (30.0, 70.0),
        ),
        (
            "polar_stereo",
            Crs::from_epsg(3413).unwrap(),
            (-180.0, 180.0),
            (50.0, 89.0),
        ),
        (
            "lcc",
            Crs::from_proj4("+proj=lcc +lat_1=30 +lat_2=60 +lat_0=38.5 +lon_0=-97.5 +R=6370000")
                .unwrap(),
            (-130.0, -65.0),
            (20.0, 55.0),
        ),
        (
            "geos",
            Crs::from_proj4("+proj=geos +sweep=x +lon_0=-75 +h=35786023 +ellps=GRS80").unwrap(),
            (-130.0, -20.0),
            (-60.0, 60.0),
        ),
        (
            "web_mercator",
            Crs::web_mercator(),
            (-180.0, 180.0),
            (-80.0, 80.0),
        ),
    ];
    let mut g = c.benchmark_group("project");
    g.throughput(Throughput::Elements(N as u64));
    for (name, crs, lon, lat) in cases {
        let lons: Vec<f64> = (0..N)
            .map(|i| lon.0 + (lon.1 - lon.0) * (i % 317) as f64 / 317.0)
            .collect();
        let lats: Vec<f64> = (0..N)
            .map(|i| lat.0 + (lat.1 - lat.0) * (i % 331) as f64 / 331.0)
            .collect();
        let (mut xs, mut ys) = (lons.clone(), lats.clone());
        crs.from_lonlat_in_place(&mut xs, &mut ys);
        g.bench_with_input(BenchmarkId::new("forward", name), &(), |b, _| {
            b.iter(|| {
                let (mut a, mut o) = (lons.clone(), lats.clone());
                crs.from_lonlat_in_place(&mut a, &mut o);
                black_box((a, o))
            })
        });
        g.bench_with_input(BenchmarkId::new("inverse", name), &(), |b, _| {
            b.iter(|| {
                let (mut a, mut o) = (xs.clone(), ys.clone());
                crs.to_lonlat_in_place(&mut a, &mut o);
                black_box((a, o))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
