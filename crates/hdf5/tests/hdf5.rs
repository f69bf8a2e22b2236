//! Behaviour of the HDF5 reader on the fixtures: codecs, chunk indexes,
//! strings, byte order, user blocks, metadata I/O, corrupt input, threads.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arco_core::{AttrValue, CodecSpec, DType, DimSlice, Endian, Selection, StorageLayout, Values};
use arco_hdf5::{Error, H5File};
use arco_storage::{ByteSource, DynSource, LocalFile, MemSource};
use bytes::Bytes;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/real")
        .join(rel)
}

fn local(rel: &str) -> DynSource {
    Arc::new(LocalFile::open(data(rel), rel).unwrap())
}

fn open(rel: &str) -> H5File {
    H5File::open(local(rel)).unwrap_or_else(|e| panic!("{e}"))
}

/// Bytes held in memory.
fn memory(name: &str, bytes: Vec<u8>) -> DynSource {
    Arc::new(MemSource::new(name, bytes))
}

/// Counts the bytes and requests that pass through to the inner source.
#[derive(Debug)]
struct Counting {
    inner: DynSource,
    bytes: AtomicU64,
    requests: AtomicU64,
}

impl ByteSource for Counting {
    fn location(&self) -> &str {
        self.inner.location()
    }
    fn len(&self) -> u64 {
        self.inner.len()
    }
    fn read_range(&self, r: Range<u64>) -> arco_storage::Result<Bytes> {
        self.bytes.fetch_add(r.end - r.start, Ordering::Relaxed);
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.inner.read_range(r)
    }
}

fn chunks(f: &H5File, var: &str) -> Vec<(Vec<u64>, u64, u64)> {
    f.manifest(var)
        .unwrap()
        .chunks
        .iter()
        .map(|c| (c.index.clone(), c.offset, c.length))
        .collect()
}

#[test]
fn h5repack_filter_chains_map_to_codecs_in_encode_order() {
    let f = open("hdf5-fixtures/h5repack_filters.h5");
    let v = f.dataset().variable("dset_all").unwrap();
    assert_eq!(
        v.codecs,
        vec![
            CodecSpec::Shuffle { element_size: 4 },
            CodecSpec::Fletcher32,
            CodecSpec::Deflate { level: Some(9) },
        ]
    );
    assert_eq!(v.layout, StorageLayout::Chunked);
    assert_eq!(v.chunk_shape, Some(vec![20, 10]));
    let nbit = f.dataset().variable("dset_nbit").unwrap();
    assert_eq!(
        nbit.codecs,
        vec![CodecSpec::Nbit {
            params: vec![8, 0, 200, 1, 4, 0, 31, 0]
        }]
    );
    let m = f.manifest("dset_all").unwrap();
    assert_eq!(m.grid.grid_shape(), vec![2, 2]);
    assert_eq!(
        chunks(&f, "dset_all"),
        vec![
            (vec![0, 0], 4016, 203),
            (vec![0, 1], 4219, 203),
            (vec![1, 0], 4422, 209),
            (vec![1, 1], 4631, 208),
        ]
    );
}

#[test]
fn every_chunk_index_type_of_h5fc_ext_none_lists_the_chunks_libhdf5_reads() {
    let f = open("hdf5-fixtures/h5fc_ext_none.h5");
    let grid = |a: u64, b: u64, c: u64, d: u64| {
        vec![
            (vec![0, 0], a, 24),
            (vec![0, 1], b, 24),
            (vec![1, 0], c, 24),
            (vec![1, 1], d, 24),
        ]
    };
    // Fixed array: chunks numbered over the maximum extent (20, 10).
    assert_eq!(chunks(&f, "/DSET_FA"), grid(2288, 2312, 2336, 2360));
    // Implicit index: chunks back to back from the index address.
    assert_eq!(chunks(&f, "/DSET_NONE"), grid(2384, 2408, 2432, 2456));
    assert_eq!(
        chunks(&f, "/GROUP/DSET_NDATA_NONE"),
        grid(2480, 2504, 2528, 2552)
    );
    // Version-2 B-tree.
    assert_eq!(chunks(&f, "/GROUP/DSET_BT2"), grid(2192, 2216, 2240, 2264));
    // Extensible array over an unlimited second dimension: libhdf5 (1.10 and
    // 2.0 alike) finds two chunks; the rest read as fill.
    assert_eq!(
        chunks(&f, "/DSET_EA"),
        vec![(vec![0, 0], 2096, 24), (vec![1, 0], 2144, 24)]
    );
    // Indexes never written, and contiguous storage never allocated.
    for empty in [
        "/DSET_NDATA_BT2",
        "/GROUP/DSET_NDATA_EA",
        "/GROUP/DSET_NDATA_FA",
        "/DSET_CONTIGUOUS",
    ] {
        let m = f.manifest(empty).unwrap();
        assert!(m.chunks.is_empty(), "{empty}");
        assert_eq!(m.fill_bytes, Some(vec![0; 4]), "{empty}");
    }
    assert_eq!(
        f.dataset().variable("/DSET_CONTIGUOUS").unwrap().layout,
        StorageLayout::Empty
    );
}

#[test]
fn phony_dimensions_are_numbered_as_netcdf_c_numbers_them() {
    let f = open("hdf5-fixtures/h5fc_ext_none.h5");
    let g = f.dataset().group("/GROUP").unwrap();
    let names: Vec<&str> = g.dimensions.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(
        names,
        ["phony_dim_0", "phony_dim_1", "phony_dim_2", "phony_dim_3"]
    );
    assert!(g.dimensions[0].unlimited && !g.dimensions[2].unlimited);
    let ea = f.dataset().variable("/DSET_EA").unwrap();
    assert_eq!(ea.dims, ["phony_dim_5", "phony_dim_6"]);
}

#[test]
fn a_committed_string_type_in_an_attribute_is_read_by_our_own_header_walker() {
    let f = open("hdf5-fixtures/tvlstr.h5");
    assert_eq!(
        f.dataset().root.attr("test_scalar").unwrap().as_str(),
        Some("This is the string for the attribute")
    );
    let v = f.dataset().variable("Dataset1").unwrap();
    assert_eq!(v.dtype, DType::String);
    let all = f.read_varlen("Dataset1", &Selection::all(&[4])).unwrap();
    assert_eq!(all.shape, vec![4]);
    assert_eq!(
        all.values,
        Values::Str(vec![
            "Four score and seven years ago our forefathers brought forth on this continent a new nation,".into(),
            "conceived in liberty and dedicated to the proposition that all men are created equal.".into(),
            String::new(),
            String::new(),
        ])
    );
    let err = f.manifest("Dataset1").unwrap_err().to_string();
    assert!(err.contains("read_varlen"), "{err}");
}

#[test]
fn vlen_strings_can_be_read_with_a_strided_selection() {
    let f = open("hdf5-fixtures/vlen_string_s390x.h5");
    let sel = Selection {
        dims: vec![DimSlice {
            start: 0,
            stop: 5,
            step: 2,
        }],
    };
    let got = f.read_varlen("DSvariable", &sel).unwrap();
    assert_eq!(got.shape, vec![3]);
    let Values::Str(s) = got.values else {
        panic!("not strings")
    };
    assert_eq!(s[..2], ["Parting".to_string(), "sweet".to_string()]);
    assert!(s[2].starts_with("This file was created on Linux"));
    let bad = Selection {
        dims: vec![DimSlice {
            start: 0,
            stop: 9,
            step: 1,
        }],
    };
    assert!(f.read_varlen("DSvariable", &bad).is_err());
}

#[test]
fn big_endian_datasets_keep_their_byte_order_and_address() {
    let f = open("hdf5-fixtures/vlen_string_s390x.h5");
    let v = f.dataset().variable("DSBEint").unwrap();
    assert_eq!((v.dtype.clone(), v.endian), (DType::I64, Endian::Big));
    let m = f.manifest("DSBEint").unwrap();
    assert_eq!(m.endian, Endian::Big);
    let c = &m.chunks[0];
    assert_eq!((c.offset, c.length), (6224, 40));
    let bytes = std::fs::read(data("hdf5-fixtures/vlen_string_s390x.h5")).unwrap();
    let values: Vec<i64> = bytes[6224..6264]
        .chunks_exact(8)
        .map(|b| i64::from_be_bytes(b.try_into().unwrap()))
        .collect();
    assert_eq!(values, [1, 2, 3, 4, 5]);
    let le = f.dataset().variable("DSLEfloat").unwrap();
    assert_eq!((le.dtype.clone(), le.endian), (DType::F64, Endian::Little));
    // h5py's boolean enum is a boolean.
    assert_eq!(
        f.dataset().root.attr("created_on_s390x"),
        Some(&AttrValue::Array(Values::Bool(vec![true])))
    );
}

#[test]
fn compact_data_comes_inline_in_the_manifest() {
    let f = open("hdf5-fixtures/h5repack_layout.h5");
    let v = f.dataset().variable("dset_compact").unwrap();
    assert_eq!(v.layout, StorageLayout::Compact);
    let m = f.manifest("dset_compact").unwrap();
    assert_eq!(m.chunks.len(), 1);
    let inline = m.chunks[0].inline.as_ref().unwrap();
    assert_eq!(inline.len(), 3200);
    let first: Vec<i32> = inline[..16]
        .chunks_exact(4)
        .map(|b| i32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert_eq!(first, [0, 1, 2, 3]);
}

#[test]
fn netcdf4_semantics_dimensions_strings_and_fill_values() {
    let f = open("netcdf4/cordex.nc");
    let root = &f.dataset().root;
    let time = root.dimensions.iter().find(|d| d.name == "time").unwrap();
    assert!(time.unlimited);
    assert_eq!(time.size, 2);
    // NC_STRING attributes.
    assert_eq!(
        root.attr("institution").unwrap().as_str(),
        Some("Helmholtz-Zentrum Geesthacht, Climate Service Center, Max Planck Institute for Meteorology")
    );
    let t = f.dataset().variable("time").unwrap();
    assert_eq!(
        t.attr("units").unwrap().as_str(),
        Some("days since 1949-12-01")
    );
    assert!(t.is_coordinate());
    // Bookkeeping attributes are hidden.
    assert!(t.attr("CLASS").is_none() && t.attr("REFERENCE_LIST").is_none());
    let wind = f.dataset().variable("sfcWind").unwrap();
    assert_eq!(wind.dims, ["time", "rlat", "rlon"]);
    assert!(wind.attr("DIMENSION_LIST").is_none());

    let radar = open("netcdf4/example_cfradial_ppi.nc");
    let start = radar.dataset().variable("time_coverage_start").unwrap();
    assert_eq!(start.dtype, DType::Char);
    assert_eq!(start.dims, ["string_length"]);
    let refl = radar.dataset().variable("reflectivity_horizontal").unwrap();
    assert_eq!(
        refl.fill_value,
        Some(AttrValue::Array(Values::F32(vec![-9999.0])))
    );
    let m = radar.manifest("reflectivity_horizontal").unwrap();
    assert_eq!(m.fill_bytes, Some((-9999.0f32).to_le_bytes().to_vec()));
    assert_eq!(m.chunks.len(), 40);

    let classic = open("netcdf4/lcc_km.nc");
    assert_eq!(classic.dataset().format, "netcdf4-classic");
    assert!(classic.dataset().root.attr("_nc3_strict").is_none());
}

#[test]
fn opening_a_large_file_reads_only_a_small_fraction_of_it() {
    let counting = Arc::new(Counting {
        inner: local("netcdf4/era5-levels-members.nc"),
        bytes: AtomicU64::new(0),
        requests: AtomicU64::new(0),
    });
    let size = counting.len();
    let f = H5File::open(counting.clone()).unwrap();
    let mut listed = 0;
    for v in f.dataset().root.all_variables() {
        listed += v.attributes.len();
        f.manifest(&v.path).unwrap();
    }
    assert!(listed > 20);
    let read = counting.bytes.load(Ordering::Relaxed);
    let requests = counting.requests.load(Ordering::Relaxed);
    assert!(
        read * 10 < size,
        "read {read} of {size} bytes in {requests} requests"
    );
    assert!(requests < 40, "{requests} requests");
}

#[test]
fn a_user_block_before_the_signature_shifts_every_chunk_address() {
    let plain = std::fs::read(data("hdf5-fixtures/h5repack_layout.h5")).unwrap();
    let mut shifted = vec![0u8; 512];
    shifted.extend_from_slice(&plain);
    let f = H5File::open(memory("userblock.h5", shifted)).unwrap();
    let m = f.manifest("dset1").unwrap();
    assert_eq!((m.chunks[0].offset, m.chunks[0].length), (2144 + 512, 3200));
    let c = f.manifest("dset_chunk").unwrap();
    assert_eq!(c.chunks[0].offset, 26280 + 512);
}

fn assert_clean_error(e: &Error, name: &str) {
    let text = e.to_string();
    assert!(text.starts_with(name), "{text}");
    assert!(
        !text.contains("malformed input"),
        "a panic was caught, not prevented: {text}"
    );
}

#[test]
fn a_file_without_the_signature_is_refused_naming_the_file() {
    let e = H5File::open(memory(
        "fake.h5",
        b"CDF\x01 this is not HDF5 at all".repeat(40),
    ))
    .unwrap_err();
    assert_clean_error(&e, "fake.h5");
    assert!(e.to_string().contains("not an HDF5 file"), "{e}");
    let e = H5File::open(memory("empty.h5", Vec::new())).unwrap_err();
    assert_clean_error(&e, "empty.h5");
}

#[test]
fn every_truncation_of_a_file_is_an_error_and_never_a_panic() {
    let bytes = std::fs::read(data("hdf5-fixtures/h5fc_ext_none.h5")).unwrap();
    let n = bytes.len();
    for i in 0..50 {
        let cut = n * i / 50;
        let name = format!("cut{cut}.h5");
        match H5File::open(memory(&name, bytes[..cut].to_vec())) {
            Err(e) => assert_clean_error(&e, &name),
            Ok(f) => {
                // Everything the header needs may precede the cut; the chunk
                // indexes after it must then fail cleanly.
                for v in f.dataset().root.all_variables() {
                    if let Err(e) = f.manifest(&v.path) {
                        assert_clean_error(&e, &name);
                    }
                }
            }
        }
    }
    let e = H5File::open(memory("half.h5", bytes[..n / 2].to_vec())).unwrap_err();
    assert!(e.to_string().contains("truncated"), "{e}");
}

#[test]
fn flipped_bytes_in_metadata_give_errors_or_values_but_never_panics() {
    for rel in [
        "hdf5-fixtures/h5fc_ext_none.h5",
        "hdf5-fixtures/tvlstr.h5",
        "hdf5-fixtures/h5repack_filters.h5",
    ] {
        let bytes = std::fs::read(data(rel)).unwrap();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for round in 0..150 {
            let mut b = bytes.clone();
            for _ in 0..4 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                // Metadata lives mostly in the first 4 KiB.
                let at = (state % 4096.min(b.len() as u64)) as usize;
                b[at] ^= (state >> 32) as u8 | 1;
            }
            let name = format!("flip{round}.h5");
            match H5File::open(memory(&name, b)) {
                Err(e) => assert_clean_error(&e, &name),
                Ok(f) => {
                    for v in f.dataset().root.all_variables() {
                        if let Err(e) = f.manifest(&v.path) {
                            assert_clean_error(&e, &name);
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn one_open_file_serves_manifests_to_many_threads_at_once() {
    let f = Arc::new(open("netcdf4/example_cfradial_ppi.nc"));
    let want: Vec<_> = f
        .dataset()
        .root
        .all_variables()
        .iter()
        .map(|v| f.manifest(&v.path).unwrap())
        .collect();
    std::thread::scope(|s| {
        for _ in 0..8 {
            let f = f.clone();
            let want = &want;
            s.spawn(move || {
                for (v, w) in f.dataset().root.all_variables().iter().zip(want) {
                    assert_eq!(&f.manifest(&v.path).unwrap(), w);
                }
            });
        }
    });
}

#[test]
fn unknown_variables_are_core_not_found_errors() {
    let f = open("hdf5-fixtures/h5repack_layout.h5");
    match f.manifest("nope") {
        Err(Error::Core(arco_core::Error::NotFound { .. })) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_dataset_with_an_unknown_filter_still_gets_a_manifest_naming_it() {
    let f = H5File::open(Arc::new(
        LocalFile::open(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../tests/data/fixtures/unknown_filter.h5"),
            "unknown_filter.h5",
        )
        .unwrap(),
    ))
    .unwrap();
    let m = f.manifest("data").unwrap();
    assert_eq!(
        m.codecs,
        vec![CodecSpec::Unknown {
            id: 32999,
            filter_name: None,
            params: vec![1, 2]
        }]
    );
    assert_eq!(m.chunks.len(), 2);
    assert_eq!(m.codecs[0].label(), "unknown filter 32999");
}
