//! Decode throughput of deflate+shuffle float32 chunks: the read engine
//! (`read_selection` from an in-memory source) against the codec floor
//! (inflate + unshuffle of the same chunks in a tight loop, one thread and rayon).
//! The source hands out zero-copy slices, like a cached or memory-mapped one.
#![allow(clippy::unwrap_used)] // benchmark set-up, like test code

use arco_core::{ChunkGrid, ChunkManifest, ChunkRef, CodecSpec, DType, Endian, Selection};
use arco_storage::MemSource;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rayon::prelude::*;
use std::hint::black_box;
use std::io::Write;

const SIDE: u64 = 256; // chunk side
const GRID: u64 = 8; // chunks per side: 64 chunks, 16 MiB of float32

fn setup() -> (MemSource, ChunkManifest, Vec<Vec<u8>>) {
    let n = SIDE * GRID;
    let mut data = Vec::new();
    let mut chunks = Vec::new();
    let mut stored = Vec::new();
    for ci in 0..GRID {
        for cj in 0..GRID {
            let mut raw = Vec::with_capacity((SIDE * SIDE * 4) as usize);
            for i in 0..SIDE {
                for j in 0..SIDE {
                    let (y, x) = ((ci * SIDE + i) as f32, (cj * SIDE + j) as f32);
                    let v =
                        280.0 + 10.0 * (y / 97.0).sin() * (x / 131.0).cos() + 0.01 * (x * y).sin();
                    raw.extend(v.to_le_bytes());
                }
            }
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(4));
            e.write_all(&arco_codecs::shuffle(&raw, 4)).unwrap();
            let z = e.finish().unwrap();
            chunks.push(ChunkRef {
                index: vec![ci, cj],
                offset: data.len() as u64,
                length: z.len() as u64,
                filter_mask: 0,
                inline: None,
            });
            data.extend(&z);
            stored.push(z);
        }
    }
    let m = ChunkManifest {
        variable: "/t".into(),
        dtype: DType::F32,
        endian: Endian::Little,
        grid: ChunkGrid::new(vec![n, n], vec![SIDE, SIDE]).unwrap(),
        codecs: vec![
            CodecSpec::Shuffle { element_size: 4 },
            CodecSpec::Deflate { level: Some(4) },
        ],
        chunks,
        fill_bytes: None,
    };
    (MemSource::new("mem://bench", data), m, stored)
}

fn floor_one(z: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; (SIDE * SIDE * 4) as usize];
    let mut d = flate2::Decompress::new(true);
    d.decompress(z, &mut out, flate2::FlushDecompress::Finish)
        .unwrap();
    arco_codecs::unshuffle(&out, 4)
}

fn bench(c: &mut Criterion) {
    let (src, m, stored) = setup();
    let bytes = SIDE * SIDE * 4 * GRID * GRID;
    let mut g = c.benchmark_group("decode_deflate_shuffle_f32");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes));
    let all = Selection::all(&m.grid.array_shape);
    g.bench_function("engine_read_selection", |b| {
        b.iter(|| black_box(arco_formats::read::read_selection(&src, &m, &all).unwrap()))
    });
    g.bench_function("floor_single_thread", |b| {
        b.iter(|| {
            for z in &stored {
                black_box(floor_one(z));
            }
        })
    });
    g.bench_function("floor_rayon", |b| {
        b.iter(|| {
            stored.par_iter().for_each(|z| {
                black_box(floor_one(z));
            })
        })
    });
    let ctx = arco_codecs::ChunkContext {
        label: "bench",
        dtype: &DType::F32,
        endian: Endian::Little,
        elements: (SIDE * SIDE) as usize,
    };
    g.bench_function("decode_chunk_rayon", |b| {
        b.iter(|| {
            stored.par_iter().for_each(|z| {
                black_box(arco_codecs::decode_chunk(z, &m.codecs, 0, &ctx).unwrap());
            })
        })
    });
    let flat = vec![1u8; bytes as usize];
    g.bench_function("decode_elements_only", |b| {
        b.iter(|| {
            black_box(arco_codecs::decode_elements(&flat, &DType::F32, Endian::Little).unwrap())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
