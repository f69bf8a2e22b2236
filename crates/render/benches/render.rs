//! Tile rendering and encoding speed: `cargo bench -p arco-render`.
//!
//! A smooth field (like a temperature tile) with a few missing pixels,
//! rescaled through viridis, at 256² and 512²: render alone, render + PNG
//! (the tile setting, `Fast`; `Fastest`; and the `png` crate's default
//! `Balanced` for comparison), render + lossless WebP, and the `.npy` tile.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use arco_render::colormap::Colormap;
use arco_render::encode::{encode_png, encode_png_with, encode_webp, PngLevel};
use arco_render::render::{render, render_npy, DataType, RenderOptions};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

fn field(n: usize) -> Vec<f64> {
    let mut v = Vec::with_capacity(n * n);
    for row in 0..n {
        for col in 0..n {
            let (x, y) = (col as f64 / n as f64, row as f64 / n as f64);
            let t = 280.0 + 25.0 * (6.0 * x).sin() * (4.0 * y).cos() + 3.0 * (40.0 * x * y).sin();
            // a missing corner, like a land mask
            v.push(if x > 0.85 && y > 0.85 {
                f64::NAN
            } else {
                f64::from(t as f32)
            });
        }
    }
    v
}

fn bench(c: &mut Criterion) {
    let cmap = Colormap::named("viridis").unwrap();
    let opts = RenderOptions {
        rescale: Some((250.0, 310.0)),
        colormap: Some(&cmap),
        dtype: DataType::F32,
        ..Default::default()
    };
    let mut g = c.benchmark_group("tile");
    for n in [256usize, 512] {
        let values = field(n);
        g.throughput(Throughput::Elements((n * n) as u64));
        g.bench_with_input(BenchmarkId::new("render", n), &values, |b, v| {
            b.iter(|| render(black_box(v), n, n, &opts).unwrap())
        });
        g.bench_with_input(BenchmarkId::new("render+png_fast", n), &values, |b, v| {
            b.iter(|| encode_png(&render(black_box(v), n, n, &opts).unwrap()).unwrap())
        });
        g.bench_with_input(
            BenchmarkId::new("render+png_fastest", n),
            &values,
            |b, v| {
                b.iter(|| {
                    encode_png_with(
                        &render(black_box(v), n, n, &opts).unwrap(),
                        PngLevel::Fastest,
                    )
                    .unwrap()
                })
            },
        );
        g.bench_with_input(
            BenchmarkId::new("render+png_balanced", n),
            &values,
            |b, v| {
                b.iter(|| {
                    encode_png_with(
                        &render(black_box(v), n, n, &opts).unwrap(),
                        PngLevel::Balanced,
                    )
                    .unwrap()
                })
            },
        );
        g.bench_with_input(BenchmarkId::new("render+webp", n), &values, |b, v| {
            b.iter(|| encode_webp(&render(black_box(v), n, n, &opts).unwrap()).unwrap())
        });
        let raw = RenderOptions {
            rescale: None,
            colormap: None,
            ..opts
        };
        g.bench_with_input(BenchmarkId::new("npy_f32", n), &values, |b, v| {
            b.iter(|| render_npy(black_box(v), n, n, &raw).unwrap())
        });
        let image = render(&values, n, n, &opts).unwrap();
        for level in [PngLevel::Fastest, PngLevel::Fast, PngLevel::Balanced] {
            let bytes = encode_png_with(&image, level).unwrap().len();
            eprintln!("{n}x{n} viridis PNG {level:?}: {bytes} bytes");
        }
        eprintln!(
            "{n}x{n} viridis WebP lossless: {} bytes",
            encode_webp(&image).unwrap().len()
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
