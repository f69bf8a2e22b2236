#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use super::*;
use arco_core::Values;
use serde_json::json;
use std::io::Write;

/// A file of 16 little-endian i32 values 0..16 and its path.
fn data_file(dir: &std::path::Path) -> String {
    let path = dir.join("data.bin");
    let mut f = std::fs::File::create(&path).unwrap();
    for i in 0..16i32 {
        f.write_all(&i.to_le_bytes()).unwrap();
    }
    path.to_string_lossy().into_owned()
}

fn zarray(shape: &[u64], chunks: &[u64], fill: Value) -> String {
    json!({"zarr_format": 2, "shape": shape, "chunks": chunks, "dtype": "<i4",
           "fill_value": fill, "order": "C", "compressor": null, "filters": null})
    .to_string()
}

fn open(doc: &Value) -> Result<KerchunkReader> {
    let raw = parse_json("mem.json", doc)?;
    KerchunkReader::from_raw("mem.json", raw, &OpenOptions::default())
}

fn read_all(r: &KerchunkReader, var: &str) -> Values {
    let shape = r.dataset().variable(var).unwrap().shape.clone();
    r.read(var, &Selection::all(&shape)).unwrap().values
}

#[test]
fn version_1_references_with_templates_read_byte_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let url = data_file(dir.path());
    let doc = json!({"version": 1, "templates": {"u": url}, "refs": {
        ".zgroup": "{\"zarr_format\": 2}",
        ".zattrs": "{\"title\": \"t\"}",
        "v/.zarray": zarray(&[2, 4], &[1, 4], Value::Null),
        "v/.zattrs": "{\"_ARRAY_DIMENSIONS\": [\"y\", \"x\"], \"units\": \"m\"}",
        "v/0.0": ["{{u}}", 32, 16],
        "v/1.0": ["{{u}}", 0, 16],
    }});
    let r = open(&doc).unwrap();
    let v = r.dataset().variable("v").unwrap();
    assert_eq!(v.dims, vec!["y".to_string(), "x".to_string()]);
    assert_eq!(
        read_all(&r, "v"),
        Values::I32(vec![8, 9, 10, 11, 0, 1, 2, 3])
    );
    assert_eq!(r.root_attributes()["title"], "t");
}

#[test]
fn inline_chunks_in_base64_and_text_are_decoded() {
    let bytes: Vec<u8> = [5i32, 6].iter().flat_map(|x| x.to_le_bytes()).collect();
    let doc = json!({"version": 1, "refs": {
        ".zgroup": "{\"zarr_format\": 2}",
        "b/.zarray": zarray(&[4], &[2], Value::Null),
        "b/.zattrs": "{\"_ARRAY_DIMENSIONS\": [\"x\"]}",
        "b/0": format!("base64:{}", BASE64_STANDARD.encode(&bytes)),
        "b/1": "AAAABBBB",
    }});
    let r = open(&doc).unwrap();
    let want = i32::from_le_bytes(*b"AAAA");
    let want2 = i32::from_le_bytes(*b"BBBB");
    assert_eq!(read_all(&r, "b"), Values::I32(vec![5, 6, want, want2]));
}

#[test]
fn flat_version_0_references_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let url = data_file(dir.path());
    let doc = json!({
        ".zgroup": "{\"zarr_format\": 2}",
        "s/.zarray": zarray(&[], &[], Value::Null),
        "s/.zattrs": "{\"_ARRAY_DIMENSIONS\": []}",
        "s/0": [url, 12, 4],
    });
    let r = open(&doc).unwrap();
    assert_eq!(read_all(&r, "s"), Values::I32(vec![3]));
}

#[test]
fn missing_chunks_read_as_the_fill_value() {
    let dir = tempfile::tempdir().unwrap();
    let url = data_file(dir.path());
    let doc = json!({"version": 1, "refs": {
        ".zgroup": "{\"zarr_format\": 2}",
        "m/.zarray": zarray(&[6], &[2], json!(-7)),
        "m/.zattrs": "{\"_ARRAY_DIMENSIONS\": [\"x\"]}",
        "m/1": [url, 4, 8],
    }});
    let r = open(&doc).unwrap();
    assert_eq!(read_all(&r, "m"), Values::I32(vec![-7, -7, 1, 2, -7, -7]));
}

#[test]
fn a_range_past_the_end_of_its_file_names_the_key_url_and_range() {
    let dir = tempfile::tempdir().unwrap();
    let url = data_file(dir.path());
    let doc = json!({"version": 1, "refs": {
        ".zgroup": "{\"zarr_format\": 2}",
        "e/.zarray": zarray(&[4], &[4], Value::Null),
        "e/.zattrs": "{\"_ARRAY_DIMENSIONS\": [\"x\"]}",
        "e/0": [url, 60, 16],
    }});
    let r = open(&doc).unwrap();
    let err = r.read("e", &Selection::all(&[4])).unwrap_err().to_string();
    assert!(err.contains("e/0"), "{err}");
    assert!(err.contains(&url), "{err}");
    assert!(err.contains("60..76") && err.contains("64 bytes"), "{err}");
}

#[test]
fn numcodecs_chains_map_back_to_codec_specs() {
    let c = |v: Value| codec_from_numcodecs(&v, &DType::F32, Endian::Little, &[4, 4]);
    assert_eq!(
        c(json!({"id": "zlib", "level": 4})).unwrap(),
        CodecSpec::Deflate { level: Some(4) }
    );
    assert_eq!(
        c(json!({"id": "shuffle", "elementsize": 4})).unwrap(),
        CodecSpec::Shuffle { element_size: 4 }
    );
    assert!(matches!(
        c(json!({"id": "grib", "var": "t", "dtype": "float32"})).unwrap(),
        CodecSpec::Grib { .. }
    ));
    assert_eq!(c(json!({"id": "imagecodecs_lzw"})).unwrap(), CodecSpec::Lzw);
    let err = c(json!({"id": "nonesuch"})).unwrap_err();
    assert!(err.contains("nonesuch"), "{err}");
}

#[test]
fn kerchunk_json_is_recognised_and_other_json_is_not() {
    assert!(looks_like_refs(br#"{"version": 1, "refs": {}}"#));
    assert!(looks_like_refs(br#"{".zgroup": "{}", "a/0": "x"}"#));
    assert!(!looks_like_refs(br#"{"type": "Feature"}"#));
    assert!(!looks_like_refs(b"CDF\x01"));
}

#[test]
fn templates_expand_with_and_without_spaces() {
    let t = vec![("u".to_string(), "/data/x.nc".to_string())];
    assert_eq!(expand_templates("{{u}}", &t), "/data/x.nc");
    assert_eq!(expand_templates("{{ u }}", &t), "/data/x.nc");
    assert_eq!(expand_templates("/plain", &t), "/plain");
}

#[test]
fn tifffile_predictor_codecs_give_samples_and_row_pixels() {
    // Pixel-interleaved, as tifffile writes it: axis -2 of (y, x, samples).
    let c = json!({"id": "imagecodecs_delta", "shape": [16, 16, 2], "dtype": ">u2", "axis": -2, "dist": 1});
    let spec = codec_from_numcodecs(&c, &DType::U16, Endian::Big, &[16, 16, 2]).unwrap();
    assert_eq!(
        spec,
        CodecSpec::HorizontalDifferencing {
            bits_per_sample: 16,
            samples_per_pixel: 2,
            row_pixels: 16,
            endian: Endian::Big
        }
    );
    // arco's own: one sample along the last axis of (1, y, x).
    let c = json!({"id": "imagecodecs_floatpred", "shape": [1, 8, 24], "dtype": "<f4", "axis": -1, "dist": 1});
    let spec = codec_from_numcodecs(&c, &DType::F32, Endian::Little, &[1, 8, 24]).unwrap();
    assert_eq!(
        spec,
        CodecSpec::FloatingPointPredictor {
            bytes_per_sample: 4,
            samples_per_pixel: 1,
            row_pixels: 24,
            endian: Endian::Little
        }
    );
}

#[test]
fn tifffile_jpeg_colorspaces_say_whether_ycbcr_is_converted() {
    let jpeg = |data: Value, jpeg: Value| {
        let c = json!({"id": "imagecodecs_jpeg", "tables": null, "colorspace_data": data, "colorspace_jpeg": jpeg});
        match codec_from_numcodecs(&c, &DType::U8, Endian::Little, &[16, 16, 3]).unwrap() {
            CodecSpec::Jpeg { ycbcr_to_rgb, .. } => ycbcr_to_rgb,
            other => panic!("{other:?}"),
        }
    };
    assert!(
        jpeg(json!(2), Value::Null),
        "YCbCr tiles: libjpeg converts to RGB"
    );
    assert!(!jpeg(json!(2), json!(2)), "RGB tiles stay as stored");
    assert!(!jpeg(Value::Null, Value::Null), "grey tiles");
}
