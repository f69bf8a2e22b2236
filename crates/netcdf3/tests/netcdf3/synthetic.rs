//! Synthetic files built byte by byte: every variant, type and layout case.

use crate::support::*;
use arco_core::{AttrValue, DType, Endian, StorageLayout, Values};
use arco_netcdf3::{Nc3File, Version};

/// Every chunk of `var` covers exactly bytes written for it (all `marker`).
fn assert_chunks_hold(file: &Nc3File, bytes: &[u8], var: &str, marker: u8) {
    let m = file.manifest(var).unwrap();
    for c in &m.chunks {
        let data = &bytes[c.offset as usize..(c.offset + c.length) as usize];
        assert!(
            data.iter().all(|&b| b == marker),
            "chunk {:?} of {var} at {}+{} holds {data:?}, not only {marker}",
            c.index,
            c.offset,
            c.length
        );
    }
}

/// Two fixed and two record variables, one padded, with attributes.
fn mixed(version: u8) -> TFile {
    TFile::new(version)
        .dim("x", 3)
        .dim("time", 0)
        .numrecs(5)
        .gatt(TAttr::text("title", b"mixed test\0\0"))
        .var(
            TVar::new("a", NC_SHORT, &[0])
                .attr(TAttr::text("units", b"m"))
                .attr(TAttr::raw(
                    "_FillValue",
                    NC_SHORT,
                    (-999i16).to_be_bytes().to_vec(),
                )),
        )
        .var(TVar::new("t", NC_DOUBLE, &[1]))
        .var(TVar::new("s", NC_SHORT, &[1, 0]))
        .var(TVar::new("scalar", NC_INT, &[]))
}

fn check_mixed(version: u8, format: &str) {
    let (bytes, layout) = mixed(version).bytes();
    let file = open(&bytes).unwrap();
    let ds = file.dataset();
    assert_eq!(ds.format, format);
    assert_eq!(ds.size, bytes.len() as u64);
    assert_eq!(file.numrecs(), 5);
    // a record is t (8 bytes) and s (6 bytes padded to 8)
    assert_eq!(file.record_size(), 16);
    assert_eq!(layout.recsize, 16);

    let dims: Vec<_> = ds
        .root
        .dimensions
        .iter()
        .map(|d| (d.name.as_str(), d.size, d.unlimited))
        .collect();
    assert_eq!(dims, [("x", 3, false), ("time", 5, true)]);
    assert_eq!(
        ds.root.attr("title"),
        Some(&AttrValue::Text("mixed test".into()))
    );

    let a = ds.variable("a").unwrap();
    assert_eq!(a.path, "/a");
    assert_eq!(a.dims, ["x"]);
    assert_eq!(a.shape, [3]);
    assert_eq!(a.dtype, DType::I16);
    assert_eq!(a.endian, Endian::Big);
    assert_eq!(a.layout, StorageLayout::Contiguous);
    assert_eq!(a.chunk_shape, None);
    assert!(a.codecs.is_empty());
    assert_eq!(
        a.fill_value,
        Some(AttrValue::Array(Values::I16(vec![-999])))
    );
    let names: Vec<_> = a.attributes.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names, ["units", "_FillValue"]);
    assert_eq!(a.attributes[1].dtype, DType::I16);

    let s = ds.variable("/s").unwrap();
    assert_eq!(s.dims, ["time", "x"]);
    assert_eq!(s.shape, [5, 3]);
    assert_eq!(s.layout, StorageLayout::Record);
    assert_eq!(s.chunk_shape, Some(vec![1, 3]));
    assert_eq!(s.fill_value, None);

    let m = file.manifest("a").unwrap();
    assert_eq!(m.variable, "/a");
    assert_eq!(m.grid.array_shape, [3]);
    assert_eq!(m.grid.chunk_shape, [3]);
    assert_eq!(m.chunks.len(), 1);
    assert_eq!(m.chunks[0].index, [0]);
    assert_eq!(m.chunks[0].offset, layout.begins[0]);
    assert_eq!(m.chunks[0].offset, layout.header_len);
    assert_eq!(m.chunks[0].length, 6);
    assert_eq!(m.fill_bytes, Some((-999i16).to_be_bytes().to_vec()));
    assert_eq!(m.endian, Endian::Big);
    assert!(m.codecs.is_empty());

    let m = file.manifest("s").unwrap();
    assert_eq!(m.grid.array_shape, [5, 3]);
    assert_eq!(m.grid.chunk_shape, [1, 3]);
    assert_eq!(m.grid.chunk_count(), 5);
    assert_eq!(m.chunks.len(), 5);
    for (r, c) in m.chunks.iter().enumerate() {
        assert_eq!(c.index, [r as u64, 0]);
        assert_eq!(c.offset, layout.begins[2] + r as u64 * 16);
        assert_eq!(c.length, 6, "record chunks exclude the padding");
    }
    assert_eq!(m.fill_bytes, Some((-32767i16).to_be_bytes().to_vec()));
    assert_eq!(m.stored_bytes(), 30);

    let m = file.manifest("t").unwrap();
    assert_eq!(m.chunks.len(), 5);
    assert_eq!(m.chunks[4].offset, layout.begins[1] + 4 * 16);
    assert_eq!(m.chunks[4].length, 8);

    for (i, name) in ["a", "t", "s", "scalar"].iter().enumerate() {
        assert_chunks_hold(&file, &bytes, name, i as u8 + 1);
    }
}

#[test]
fn a_classic_file_with_fixed_and_record_variables_is_described_exactly() {
    check_mixed(1, "netcdf3-classic");
}

#[test]
fn a_64bit_offset_file_is_described_exactly() {
    check_mixed(2, "netcdf3-64bit-offset");
}

#[test]
fn a_64bit_data_file_is_described_exactly() {
    check_mixed(5, "netcdf3-64bit-data");
}

#[test]
fn the_version_is_reported() {
    for (v, want) in [
        (1, Version::Classic),
        (2, Version::Offset64),
        (5, Version::Data64),
    ] {
        let (bytes, _) = mixed(v).bytes();
        assert_eq!(open(&bytes).unwrap().version(), want);
    }
}

#[test]
fn offsets_past_4_gib_are_read_in_a_64bit_offset_file() {
    // The header claims data at 5 GiB; the file is short, so open must say so,
    // with the 64-bit offset intact in the message.
    let f = TFile::new(2).dim("x", 2).var(TVar::new("v", NC_INT, &[0]));
    let header = f.header(&[5 << 30]);
    let err = open(&header).unwrap_err().to_string();
    assert!(err.contains(&format!("{}", 5u64 << 30)), "{err}");
    assert!(err.contains("'v'"), "{err}");
}

#[test]
fn every_cdf5_type_is_read_in_variables_and_attributes() {
    let types = [
        ("b", NC_BYTE, DType::I8),
        ("c", NC_CHAR, DType::Char),
        ("s", NC_SHORT, DType::I16),
        ("i", NC_INT, DType::I32),
        ("f", NC_FLOAT, DType::F32),
        ("d", NC_DOUBLE, DType::F64),
        ("ub", NC_UBYTE, DType::U8),
        ("us", NC_USHORT, DType::U16),
        ("ui", NC_UINT, DType::U32),
        ("i64", NC_INT64, DType::I64),
        ("u64", NC_UINT64, DType::U64),
    ];
    let mut f = TFile::new(5).dim("n", 3).dim("rec", 0).numrecs(2);
    for (name, t, _) in &types {
        f = f.var(TVar::new(name, *t, &[0]));
        f = f.var(TVar::new(&format!("r_{name}"), *t, &[1, 0]));
    }
    let attrs = vec![
        TAttr::raw("a_b", NC_BYTE, vec![0x80, 0x7f, 0x01]),
        TAttr::raw(
            "a_s",
            NC_SHORT,
            [i16::MIN.to_be_bytes(), 7i16.to_be_bytes()].concat(),
        ),
        TAttr::raw("a_i", NC_INT, (-5i32).to_be_bytes().to_vec()),
        TAttr::raw("a_f", NC_FLOAT, 1.5f32.to_be_bytes().to_vec()),
        TAttr::raw("a_d", NC_DOUBLE, (-2.25f64).to_be_bytes().to_vec()),
        TAttr::raw("a_ub", NC_UBYTE, vec![0, 255]),
        TAttr::raw("a_us", NC_USHORT, u16::MAX.to_be_bytes().to_vec()),
        TAttr::raw("a_ui", NC_UINT, u32::MAX.to_be_bytes().to_vec()),
        TAttr::raw("a_i64", NC_INT64, i64::MIN.to_be_bytes().to_vec()),
        TAttr::raw(
            "a_u64",
            NC_UINT64,
            [u64::MAX.to_be_bytes(), 1u64.to_be_bytes()].concat(),
        ),
    ];
    for a in &attrs {
        f = f.gatt(a.clone());
    }
    let (bytes, layout) = f.bytes();
    let file = open(&bytes).unwrap();
    let ds = file.dataset();
    assert_eq!(ds.format, "netcdf3-64bit-data");

    let want = [
        Values::I8(vec![-128, 127, 1]),
        Values::I16(vec![i16::MIN, 7]),
        Values::I32(vec![-5]),
        Values::F32(vec![1.5]),
        Values::F64(vec![-2.25]),
        Values::U8(vec![0, 255]),
        Values::U16(vec![u16::MAX]),
        Values::U32(vec![u32::MAX]),
        Values::I64(vec![i64::MIN]),
        Values::U64(vec![u64::MAX, 1]),
    ];
    for (a, w) in ds.root.attributes.iter().zip(want) {
        assert_eq!(a.value, AttrValue::Array(w), "attribute {}", a.name);
    }
    let dtypes: Vec<_> = ds.root.attributes.iter().map(|a| a.dtype.clone()).collect();
    assert_eq!(
        dtypes,
        [
            DType::I8,
            DType::I16,
            DType::I32,
            DType::F32,
            DType::F64,
            DType::U8,
            DType::U16,
            DType::U32,
            DType::I64,
            DType::U64
        ]
    );

    // record size: 3 elements of each type, each padded to 4
    let recsize: u64 = types
        .iter()
        .map(|(_, t, _)| (3 * type_size(*t)).div_ceil(4) * 4)
        .sum();
    assert_eq!(file.record_size(), recsize);
    assert_eq!(layout.recsize, recsize);

    let defaults: [Vec<u8>; 11] = [
        vec![0x81],
        vec![0],
        vec![0x80, 0x01],
        vec![0x80, 0, 0, 0x01],
        vec![0x7c, 0xf0, 0, 0],
        9.969_209_968_386_869e36_f64.to_be_bytes().to_vec(),
        vec![255],
        vec![255, 255],
        vec![255, 255, 255, 255],
        (-9223372036854775806i64).to_be_bytes().to_vec(),
        vec![255, 255, 255, 255, 255, 255, 255, 254],
    ];
    for (k, ((name, t, dtype), fill)) in types.iter().zip(defaults).enumerate() {
        let v = ds.variable(name).unwrap();
        assert_eq!(v.dtype, *dtype, "{name}");
        let m = file.manifest(name).unwrap();
        assert_eq!(m.dtype, *dtype);
        assert_eq!(m.chunks.len(), 1);
        assert_eq!(m.chunks[0].length, 3 * type_size(*t));
        assert_eq!(m.fill_bytes.as_deref(), Some(fill.as_slice()), "{name}");
        assert_chunks_hold(&file, &bytes, name, 2 * k as u8 + 1);

        let rname = format!("r_{name}");
        let m = file.manifest(&rname).unwrap();
        assert_eq!(m.chunks.len(), 2);
        assert_eq!(m.chunks[1].offset - m.chunks[0].offset, recsize);
        assert_eq!(m.chunks[0].length, 3 * type_size(*t));
        assert_eq!(m.fill_bytes.as_deref(), Some(fill.as_slice()), "{rname}");
        assert_chunks_hold(&file, &bytes, &rname, 2 * k as u8 + 2);
    }
}

#[test]
fn cdf5_types_in_a_classic_file_are_rejected() {
    for version in [1, 2] {
        let f = TFile::new(version)
            .dim("n", 2)
            .var(TVar::new("v", NC_UINT64, &[0]));
        let (bytes, _) = f.bytes();
        let err = open(&bytes).unwrap_err().to_string();
        assert!(err.contains("NC_UINT64") && err.contains("CDF-5"), "{err}");
    }
}

#[test]
fn a_single_record_variable_is_not_padded_between_records() {
    let f = TFile::new(1)
        .dim("time", 0)
        .dim("strlen", 3)
        .numrecs(4)
        .var(TVar::new("name", NC_CHAR, &[0, 1]));
    let (bytes, layout) = f.bytes();
    assert_eq!(layout.recsize, 3);
    let file = open(&bytes).unwrap();
    assert_eq!(file.record_size(), 3);
    let m = file.manifest("name").unwrap();
    let got: Vec<_> = m
        .chunks
        .iter()
        .map(|c| (c.index.clone(), c.offset, c.length))
        .collect();
    let b = layout.header_len;
    assert_eq!(
        got,
        [
            (vec![0, 0], b, 3),
            (vec![1, 0], b + 3, 3),
            (vec![2, 0], b + 6, 3),
            (vec![3, 0], b + 9, 3)
        ]
    );
    assert_eq!(bytes.len() as u64, b + 12);
    assert_eq!(m.fill_bytes, Some(vec![0]));
    assert_eq!(file.dataset().variable("name").unwrap().dtype, DType::Char);
}

#[test]
fn two_small_record_variables_are_each_padded_to_four_bytes() {
    let f = TFile::new(1)
        .dim("time", 0)
        .dim("strlen", 3)
        .numrecs(2)
        .var(TVar::new("a", NC_CHAR, &[0, 1]))
        .var(TVar::new("b", NC_BYTE, &[0]));
    let (bytes, layout) = f.bytes();
    let file = open(&bytes).unwrap();
    assert_eq!(file.record_size(), 8);
    let m = file.manifest("b").unwrap();
    assert_eq!(m.chunks[1].offset, layout.header_len + 8 + 4);
    assert_eq!(m.chunks[1].length, 1);
    assert_eq!(m.grid.chunk_shape, [1]);
    assert_eq!(m.chunks[1].index, [1]);
    assert_chunks_hold(&file, &bytes, "a", 1);
    assert_chunks_hold(&file, &bytes, "b", 2);
}

#[test]
fn a_scalar_variable_is_one_chunk_with_an_empty_index() {
    let f = TFile::new(1).var(TVar::new("answer", NC_DOUBLE, &[]).attr(TAttr::raw(
        "_FillValue",
        NC_DOUBLE,
        1.25f64.to_be_bytes().to_vec(),
    )));
    let (bytes, layout) = f.bytes();
    let file = open(&bytes).unwrap();
    let v = file.dataset().variable("answer").unwrap();
    assert!(v.shape.is_empty() && v.dims.is_empty());
    assert_eq!(
        v.fill_value,
        Some(AttrValue::Array(Values::F64(vec![1.25])))
    );
    let m = file.manifest("answer").unwrap();
    assert!(m.grid.array_shape.is_empty() && m.grid.chunk_shape.is_empty());
    assert_eq!(m.grid.chunk_count(), 1);
    assert_eq!(m.chunks.len(), 1);
    assert!(m.chunks[0].index.is_empty());
    assert_eq!(
        (m.chunks[0].offset, m.chunks[0].length),
        (layout.header_len, 8)
    );
    assert_eq!(m.fill_bytes, Some(1.25f64.to_be_bytes().to_vec()));
}

#[test]
fn a_zero_length_unlimited_dimension_gives_record_variables_no_chunks() {
    let f = TFile::new(2)
        .dim("time", 0)
        .dim("x", 4)
        .numrecs(0)
        .var(TVar::new("fixed", NC_FLOAT, &[1]))
        .var(TVar::new("v", NC_FLOAT, &[0, 1]))
        .var(TVar::new("w", NC_INT, &[0]));
    let (bytes, layout) = f.bytes();
    let file = open(&bytes).unwrap();
    let time = &file.dataset().root.dimensions[0];
    assert_eq!((time.size, time.unlimited), (0, true));
    let v = file.dataset().variable("v").unwrap();
    assert_eq!(v.shape, [0, 4]);
    assert_eq!(v.chunk_shape, Some(vec![1, 4]));
    let m = file.manifest("v").unwrap();
    assert!(m.chunks.is_empty());
    assert_eq!(m.grid.chunk_count(), 0);
    assert!(file.manifest("w").unwrap().chunks.is_empty());
    let m = file.manifest("fixed").unwrap();
    assert_eq!(
        (m.chunks[0].offset, m.chunks[0].length),
        (layout.header_len, 16)
    );
}

#[test]
fn a_streaming_file_counts_its_records_from_the_file_size() {
    let mut f = TFile::new(1)
        .dim("time", 0)
        .var(TVar::new("fixed", NC_INT, &[]))
        .var(TVar::new("t", NC_DOUBLE, &[0]))
        .var(TVar::new("q", NC_SHORT, &[0]));
    f.numrecs = None;
    let (bytes, layout) = f.bytes_with(7);
    assert_eq!(layout.recsize, 12);
    let file = open(&bytes).unwrap();
    assert_eq!(file.numrecs(), 7);
    assert_eq!(file.dataset().root.dimensions[0].size, 7);
    let m = file.manifest("q").unwrap();
    assert_eq!(m.chunks.len(), 7);
    assert_eq!(m.chunks[6].offset, layout.begins[2] + 6 * 12);
    assert_eq!(m.chunks[6].length, 2);
    assert_chunks_hold(&file, &bytes, "q", 3);
}

#[test]
fn text_attributes_lose_trailing_nuls_and_decode_latin1() {
    let f = TFile::new(1)
        .gatt(TAttr::text("utf8", "Zürich\0".as_bytes()))
        .gatt(TAttr::text("latin1", b"Z\xfcrich"))
        .gatt(TAttr::text("empty", b""));
    let (bytes, _) = f.bytes();
    let file = open(&bytes).unwrap();
    let root = &file.dataset().root;
    assert_eq!(
        root.attr("utf8").and_then(AttrValue::as_str),
        Some("Zürich")
    );
    assert_eq!(
        root.attr("latin1").and_then(AttrValue::as_str),
        Some("Zürich")
    );
    assert_eq!(root.attr("empty").and_then(AttrValue::as_str), Some(""));
    assert_eq!(root.attributes[0].dtype, DType::Char);
}

#[test]
fn a_file_with_no_dimensions_or_variables_opens() {
    let (bytes, _) = TFile::new(1).bytes();
    assert_eq!(bytes.len(), 4 + 4 + 3 * 8);
    let file = open(&bytes).unwrap();
    assert!(file.dataset().root.variables.is_empty());
    assert!(file.dataset().root.dimensions.is_empty());
}

#[test]
fn an_unknown_variable_is_a_not_found_error() {
    let (bytes, _) = mixed(1).bytes();
    let file = open(&bytes).unwrap();
    let err = file.manifest("nope").unwrap_err();
    assert!(
        matches!(
            err,
            arco_netcdf3::Error::Core(arco_core::Error::NotFound { .. })
        ),
        "{err}"
    );
}

#[test]
fn opening_reads_only_the_header_not_the_data() {
    let f = TFile::new(1)
        .dim("x", 1 << 20)
        .var(TVar::new("big", NC_DOUBLE, &[0]));
    let (bytes, layout) = f.bytes();
    let source = MemSource::new("big.nc", bytes);
    let file = Nc3File::open(source.clone()).unwrap();
    assert_eq!(file.manifest("big").unwrap().chunks[0].length, 8 << 20);
    let read: u64 = source.reads().iter().map(|r| r.end - r.start).sum();
    assert!(
        read <= 64 * 1024,
        "read {read} bytes for a {}-byte header",
        layout.header_len
    );
}

#[test]
fn a_header_longer_than_the_first_read_is_read_in_growing_pieces() {
    let long = vec![b'x'; 150_000];
    let f = TFile::new(1)
        .dim("x", 1 << 18)
        .gatt(TAttr::text("history", &long))
        .var(TVar::new("v", NC_FLOAT, &[0]));
    let (bytes, layout) = f.bytes();
    assert!(layout.header_len > 150_000);
    let source = MemSource::new("long.nc", bytes);
    let file = Nc3File::open(source.clone()).unwrap();
    assert_eq!(
        file.dataset()
            .root
            .attr("history")
            .and_then(AttrValue::as_str)
            .map(str::len),
        Some(150_000)
    );
    let reads = source.reads();
    assert_eq!(reads[0], 0..65_536);
    assert!(
        reads.windows(2).all(|w| w[0].end == w[1].start),
        "{reads:?}"
    );
    assert!(reads.len() <= 3, "{reads:?}");
    let total = reads.last().unwrap().end;
    assert!(
        total >= layout.header_len && total <= 2 * layout.header_len,
        "{reads:?}"
    );
    assert_eq!(
        file.manifest("v").unwrap().chunks[0].offset,
        layout.header_len
    );
}
