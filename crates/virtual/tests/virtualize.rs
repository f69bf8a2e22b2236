#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Building references from the fixture files: what becomes a byte range,
//! what is inlined, what is refused, and that referenced bytes decode to
//! what arco's readers read.

use arco_core::{Selection, Values};
use arco_virtual::{build, Input, Options, Reference, References, Source, Summary};
use serde_json::Value;
use std::path::PathBuf;

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/fixtures")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

struct Opened {
    reader: Box<dyn arco_formats::Reader>,
    sources: Vec<Source>,
}

fn open(name: &str) -> Opened {
    let location = fixture(name);
    let bytes = arco_storage::open(&location, &Default::default()).unwrap();
    let reader = arco_formats::open(bytes.clone()).unwrap();
    Opened {
        reader,
        sources: vec![Source { location, bytes }],
    }
}

fn virtualize(name: &str, options: &Options) -> arco_virtual::Result<(References, Summary)> {
    let o = open(name);
    build(Input::Single(o.reader.as_ref()), &o.sources, options)
}

fn no_inlining() -> Options {
    Options {
        inline_threshold: 0,
        ..Options::default()
    }
}

fn meta<'a>(refs: &'a References, key: &str) -> &'a Value {
    &refs
        .metadata
        .iter()
        .find(|(k, _)| k == key)
        .unwrap_or_else(|| panic!("no {key}"))
        .1
}

fn array<'a>(refs: &'a References, path: &str) -> &'a arco_virtual::ArrayRefs {
    refs.arrays
        .iter()
        .find(|a| a.path == path)
        .unwrap_or_else(|| panic!("no array {path}"))
}

#[test]
fn a_netcdf3_record_variable_has_one_big_endian_reference_per_record() {
    let (refs, summary) = virtualize("nc3_classic.nc", &no_inlining()).unwrap();
    assert_eq!(summary.inlined, 0);
    let z = meta(&refs, "temp/.zarray");
    assert_eq!(z["dtype"], ">f4");
    assert_eq!(z["compressor"], Value::Null);
    assert_eq!(z["fill_value"], -999.0, "_FillValue moves into fill_value");
    assert!(meta(&refs, "temp/.zattrs").get("_FillValue").is_none());
    let time = array(&refs, "time");
    let offsets: Vec<u64> = time
        .chunks
        .iter()
        .map(|(_, r)| match r {
            Reference::Range { offset, length, .. } => {
                assert_eq!(*length, 8, "one float64 per record");
                *offset
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(offsets.len() > 1);
    let step = offsets[1] - offsets[0];
    assert!(
        offsets.windows(2).all(|w| w[1] - w[0] == step),
        "{offsets:?}"
    );
    assert_eq!(meta(&refs, "station_name/.zarray")["dtype"], "|S1");
    assert_eq!(
        meta(&refs, "station_name/.zattrs")["_ARRAY_DIMENSIONS"],
        serde_json::json!(["x", "strlen"])
    );
}

#[test]
fn chunks_below_the_threshold_are_inlined_as_stored() {
    let (refs, summary) = virtualize("nc3_classic.nc", &Options::default()).unwrap();
    assert_eq!(
        summary.ranges, 0,
        "every array of this small file is inlined"
    );
    // Whole arrays below the threshold become one chunk.
    let time = array(&refs, "time");
    assert_eq!(time.chunks.len(), 1);
    assert_eq!(meta(&refs, "time/.zarray")["dtype"], "<f8");
    let Reference::Inline(b) = &time.chunks[0].1 else {
        panic!("not inlined")
    };
    let o = open("nc3_classic.nc");
    let want = o
        .reader
        .read("/time", &Selection::all(&[b.len() as u64 / 8]))
        .unwrap();
    let got: Vec<f64> = b
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(want.values, Values::F64(got));
}

#[test]
fn referenced_chunks_decode_to_what_the_reader_reads() {
    // Shuffle + deflate + fletcher32 through byte ranges: decode each range
    // with the manifest's codecs and compare with the reader's values.
    let o = open("h5_filters.h5");
    let (refs, _) = build(Input::Single(o.reader.as_ref()), &o.sources, &no_inlining()).unwrap();
    let z = meta(&refs, "gzip_shuffle_fletcher32/.zarray");
    assert_eq!(z["compressor"], Value::Null, "fletcher32 comes last");
    assert_eq!(
        z["filters"],
        serde_json::json!([{"id": "shuffle", "elementsize": 8}, {"id": "zlib", "level": 4}, {"id": "fletcher32"}])
    );
    let m = o.reader.manifest("/gzip_shuffle_fletcher32").unwrap();
    let a = array(&refs, "gzip_shuffle_fletcher32");
    assert_eq!(a.grid, vec![4, 3]);
    assert_eq!(a.chunks.len(), 12);
    let bytes = &o.sources[0].bytes;
    for ((flat, r), c) in a.chunks.iter().zip(&m.chunks) {
        let Reference::Range { offset, length, .. } = r else {
            panic!("inlined")
        };
        assert_eq!((*offset, *length), (c.offset, c.length));
        assert_eq!(*flat, c.index[0] * 3 + c.index[1]);
        let raw = bytes.read_range(*offset..offset + length).unwrap();
        let ctx = arco_codecs::ChunkContext {
            label: "t",
            dtype: &m.dtype,
            endian: m.endian,
            elements: 24,
        };
        assert_eq!(
            arco_codecs::decode_chunk(&raw, &m.codecs, 0, &ctx)
                .unwrap()
                .len(),
            24 * 8
        );
    }
}

#[test]
fn filters_numcodecs_cannot_express_are_decoded_and_inlined() {
    let o = open("h5_filters.h5");
    let (refs, summary) =
        build(Input::Single(o.reader.as_ref()), &o.sources, &no_inlining()).unwrap();
    for var in ["nbit_u12", "scaleoffset_int", "scaleoffset_float"] {
        let z = meta(&refs, &format!("{var}/.zarray"));
        assert_eq!(z["compressor"], Value::Null, "{var}");
        assert_eq!(z["filters"], Value::Null, "{var}");
        let a = array(&refs, var);
        assert!(a
            .chunks
            .iter()
            .all(|(_, r)| matches!(r, Reference::Inline(_))));
        assert!(
            summary
                .decoded
                .iter()
                .any(|d| d.starts_with(&format!("/{var}"))),
            "{:?}",
            summary.decoded
        );
    }
    // The inlined bytes are the decoded values.
    let a = array(&refs, "nbit_u12");
    let mut got: Vec<u16> = Vec::new();
    for (_, r) in &a.chunks {
        let Reference::Inline(b) = r else {
            unreachable!()
        };
        got.extend(b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])));
    }
    got.truncate(20);
    let want = o.reader.read("/nbit_u12", &Selection::all(&[20])).unwrap();
    assert_eq!(want.values, Values::U16(got));
}

#[test]
fn past_the_decoded_limit_an_inexpressible_filter_is_refused_with_advice() {
    let options = Options {
        max_decoded_inline: 1,
        ..no_inlining()
    };
    let e = virtualize("h5_filters.h5", &options)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("variable /nbit") || e.contains("variable /scaleoffset"),
        "{e}"
    );
    assert!(
        e.contains("arco convert") && e.contains("--max-decoded-inline"),
        "{e}"
    );
}

#[test]
fn an_unknown_filter_is_refused_naming_the_variable_and_the_filter() {
    let e = virtualize("unknown_filter.h5", &Options::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("/data") && e.contains("32999"), "{e}");
    assert!(e.contains("unknown_filter.h5"), "{e}");
}

#[test]
fn unwritten_chunks_with_a_non_zero_fill_value_are_inlined() {
    // h5py's fill value -3, no _FillValue attribute: Zarr would read zeros.
    let o = open("h5_chunk_indexes_latest.h5");
    let (refs, summary) =
        build(Input::Single(o.reader.as_ref()), &o.sources, &no_inlining()).unwrap();
    let a = array(&refs, "unwritten_chunked");
    assert_eq!(a.grid, vec![3, 3]);
    assert_eq!(a.chunks.len(), 9);
    for (_, r) in &a.chunks {
        let Reference::Inline(b) = r else {
            panic!("{r:?}")
        };
        assert_eq!(b.len(), 9 * 2);
        assert!(b
            .chunks_exact(2)
            .all(|c| i16::from_le_bytes([c[0], c[1]]) == -3));
    }
    assert_eq!(
        meta(&refs, "unwritten_chunked/.zarray")["fill_value"],
        Value::Null
    );
    assert!(summary
        .decoded
        .iter()
        .any(|d| d.contains("unwritten_chunked")));
    // A zero fill value needs nothing: the chunks stay missing.
    let z = array(&refs, "fixed_array");
    assert!(z
        .chunks
        .iter()
        .all(|(_, r)| matches!(r, Reference::Range { .. })));
}

#[test]
fn variable_length_strings_are_inlined_as_vlen_utf8() {
    let o = open("nc4_types.nc");
    let (refs, _) = build(Input::Single(o.reader.as_ref()), &o.sources, &no_inlining()).unwrap();
    let z = meta(&refs, "strings/.zarray");
    assert_eq!(z["dtype"], "|O");
    assert_eq!(z["filters"], serde_json::json!([{"id": "vlen-utf8"}]));
    let a = array(&refs, "strings");
    let Reference::Inline(b) = &a.chunks[0].1 else {
        panic!("not inlined")
    };
    let want = o.reader.read("/strings", &Selection::all(&[5])).unwrap();
    let Values::Str(want) = want.values else {
        panic!()
    };
    // numcodecs' vlen-utf8: count, then (length, bytes) per item, little-endian.
    assert_eq!(
        u32::from_le_bytes(b[..4].try_into().unwrap()) as usize,
        want.len()
    );
    let mut at = 4;
    for s in &want {
        let n = u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize;
        assert_eq!(&b[at + 4..at + 4 + n], s.as_bytes());
        at += 4 + n;
    }
    assert_eq!(at, b.len());
}

#[test]
fn the_root_attributes_record_sources_and_provenance() {
    let options = Options {
        command: vec!["arco".into(), "virtualize".into()],
        ..Options::default()
    };
    let (refs, _) = virtualize("nc3_64bit_offset.nc", &options).unwrap();
    let root = meta(&refs, ".zattrs");
    let s = &root["arco:sources"][0];
    assert_eq!(s["size"], 844);
    assert!(s["mtime"].as_u64().unwrap() > 0);
    assert!(
        s["url"].as_str().unwrap().starts_with('/'),
        "absolute local path"
    );
    assert_eq!(root["arco:provenance"]["command"][1], "virtualize");
    assert_eq!(refs.sources[0].url, s["url"].as_str().unwrap());
}

#[test]
fn dropping_a_variable_leaves_it_out_and_a_wrong_name_is_an_error() {
    let options = Options {
        drop: vec!["ragged".into(), "/events".into()],
        ..Options::default()
    };
    let (refs, summary) = virtualize("nc4_usertypes.nc", &options).unwrap();
    assert_eq!(
        summary.dropped,
        vec!["/ragged".to_string(), "/events".to_string()]
    );
    assert!(refs
        .arrays
        .iter()
        .all(|a| a.path != "ragged" && a.path != "events"));
    // Without dropping them, the vlen of numbers is refused with advice.
    let e = virtualize("nc4_usertypes.nc", &Options::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("--drop"), "{e}");
    let options = Options {
        drop: vec!["nope".into()],
        ..Options::default()
    };
    assert!(virtualize("nc3_classic.nc", &options).is_err());
}

/// A reader over hand-made bytes: one int32 variable `/v(x=8)` in chunks of
/// 4 with shuffle + deflate, chunk 0 filtered, chunk 1 stored raw with both
/// filters skipped (HDF5 filter mask 0b11), as a direct chunk write leaves it.
struct Handmade {
    dataset: arco_core::Dataset,
    manifest: arco_core::ChunkManifest,
}

impl arco_formats::Reader for Handmade {
    fn dataset(&self) -> &arco_core::Dataset {
        &self.dataset
    }
    fn manifest(&self, _variable: &str) -> arco_formats::Result<arco_core::ChunkManifest> {
        Ok(self.manifest.clone())
    }
    fn read(
        &self,
        _variable: &str,
        _selection: &Selection,
    ) -> arco_formats::Result<arco_core::NdArray> {
        unreachable!("not read whole in this test")
    }
}

fn handmade() -> (Handmade, Source, Vec<u8>) {
    use arco_core::{ChunkGrid, ChunkManifest, ChunkRef, CodecSpec, DType, Endian, Group};
    use arco_virtual::codecs::{encode_chain, map_chain};
    let values: Vec<i32> = (0..8).map(|i| i * 1000 - 3).collect();
    let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let codecs = vec![
        CodecSpec::Shuffle { element_size: 4 },
        CodecSpec::Deflate { level: Some(1) },
    ];
    let chain = map_chain(&codecs, 4, 16).unwrap();
    let first = encode_chain(&chain, &raw[..16]).unwrap();
    let mut file = vec![0u8; 10];
    file.extend_from_slice(&first);
    let second_at = file.len() as u64;
    file.extend_from_slice(&raw[16..]);
    let var = arco_core::Variable {
        name: "v".into(),
        path: "/v".into(),
        dims: vec!["x".into()],
        shape: vec![8],
        dtype: DType::I32,
        endian: Endian::Little,
        layout: arco_core::StorageLayout::Chunked,
        chunk_shape: Some(vec![4]),
        codecs: codecs.clone(),
        fill_value: None,
        attributes: vec![],
    };
    let mut root = Group::new("", "/");
    root.variables.push(var);
    let manifest = ChunkManifest {
        variable: "/v".into(),
        dtype: DType::I32,
        endian: Endian::Little,
        grid: ChunkGrid::new(vec![8], vec![4]).unwrap(),
        codecs,
        chunks: vec![
            ChunkRef {
                index: vec![0],
                offset: 10,
                length: first.len() as u64,
                filter_mask: 0,
                inline: None,
            },
            ChunkRef {
                index: vec![1],
                offset: second_at,
                length: 16,
                filter_mask: 0b11,
                inline: None,
            },
        ],
        fill_bytes: Some(vec![0; 4]),
    };
    let location = "handmade.h5".to_string();
    let dataset = arco_core::Dataset {
        source: location.clone(),
        format: "hdf5".into(),
        size: file.len() as u64,
        root,
    };
    let bytes: arco_storage::DynSource =
        std::sync::Arc::new(arco_storage::MemSource::new(location.clone(), file));
    (
        Handmade { dataset, manifest },
        Source { location, bytes },
        raw,
    )
}

#[test]
fn a_chunk_that_skipped_filters_is_decoded_encoded_again_and_inlined() {
    use arco_virtual::codecs::{map_chain, Numcodec};
    let (reader, source, raw) = handmade();
    let (refs, summary) = build(Input::Single(&reader), &[source], &no_inlining()).unwrap();
    let a = array(&refs, "v");
    assert!(matches!(a.chunks[0].1, Reference::Range { offset: 10, .. }));
    let Reference::Inline(b) = &a.chunks[1].1 else {
        panic!("chunk 1 is not inlined: {:?}", a.chunks[1])
    };
    // It reads back through the declared chain (shuffle, zlib) as the raw values.
    let z = meta(&refs, "v/.zarray");
    assert_eq!(z["compressor"]["id"], "zlib");
    assert_eq!(z["filters"][0]["id"], "shuffle");
    let chain = map_chain(&reader.manifest.codecs, 4, 16).unwrap();
    assert!(matches!(chain[0], Numcodec::Shuffle { elementsize: 4 }));
    let ctx = arco_codecs::ChunkContext {
        label: "t",
        dtype: &arco_core::DType::I32,
        endian: arco_core::Endian::Little,
        elements: 4,
    };
    let back = arco_codecs::decode_chunk(b, &reader.manifest.codecs, 0, &ctx).unwrap();
    assert_eq!(back, raw[16..].to_vec());
    assert!(
        summary.decoded.iter().any(|d| d.contains("filter mask")),
        "{:?}",
        summary.decoded
    );
}
