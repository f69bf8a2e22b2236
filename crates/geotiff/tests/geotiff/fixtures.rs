//! The rasterio-made fixtures under `tests/data/fixtures/tiff/`
//! (`make_tiff_fixtures.py`). Values against rasterio itself are checked by
//! `scripts/interop_tiff.py`; here every codec and predictor must decode to
//! the same values as the uncompressed copy of the same data.

use crate::support::*;
use arco_core::{AttrValue, CodecSpec, DType, Endian, Values};

fn decoded(name: &str) -> (Vec<u8>, arco_core::ChunkManifest) {
    let (file, bytes) = open_path(&fixture_path(name));
    let m = file.manifest("band_data").unwrap();
    (read_all(&file, &bytes, "band_data"), m)
}

fn matrix(prefix: &str, variants: &[&str]) {
    let (want, reference) = decoded(&format!("{prefix}_none.tif"));
    assert!(reference
        .codecs
        .iter()
        .all(|c| matches!(c, CodecSpec::Interleave { .. })));
    assert!(want.iter().any(|&b| b != 0));
    for v in variants {
        let name = format!("{prefix}_{v}.tif");
        let (got, m) = decoded(&name);
        assert_eq!(m.dtype, reference.dtype, "{name}");
        assert!(
            got == want,
            "{name} decodes to other values than {prefix}_none.tif"
        );
    }
}

#[test]
fn every_codec_and_predictor_decodes_uint16_to_the_uncompressed_values() {
    matrix(
        "m_u16",
        &[
            "deflate",
            "deflate_pred2",
            "lzw_pred2",
            "packbits",
            "zstd_pred2",
            "be_lzw_pred2",
            "separate_deflate_pred2",
            "strips_zstd",
        ],
    );
    let (_, m) = decoded("m_u16_be_lzw_pred2.tif");
    assert_eq!(m.endian, Endian::Big);
    assert_eq!(
        m.codecs,
        [
            CodecSpec::Interleave {
                samples: 2,
                element_size: 2
            },
            CodecSpec::HorizontalDifferencing {
                bits_per_sample: 16,
                samples_per_pixel: 2,
                row_pixels: 16,
                endian: Endian::Big
            },
            CodecSpec::Lzw
        ]
    );
    let (_, m) = decoded("m_u16_separate_deflate_pred2.tif");
    assert_eq!(m.grid.chunk_shape, [1, 16, 16]);
    assert_eq!(m.chunks.len(), 2 * 2 * 3);
    assert!(m.chunks.iter().any(|c| c.index == [1, 1, 2]));
}

#[test]
fn the_floating_point_predictor_decodes_float32_and_float64_of_both_byte_orders() {
    matrix("m_f32", &["zstd_pred3", "be_deflate_pred3"]);
    matrix("m_f64", &["deflate_pred3", "be_lzw_pred3"]);
    let (v, _) = decoded("m_f32_none.tif");
    let first: Vec<f32> = v[..20]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert!(first[0].is_nan());
    assert_eq!(&first[1..], [f32::INFINITY, f32::NEG_INFINITY, 0.0, -0.0]);
    assert!(first[4].is_sign_negative());
}

#[test]
fn horizontal_differencing_of_64_bit_and_multi_band_8_bit_samples_and_lossless_webp_and_lerc_decode(
) {
    matrix("m_i64", &["zstd_pred2", "be_deflate_pred2"]);
    matrix(
        "m_u8x3",
        &["deflate_pred2", "lzw_pred2", "webp", "lerc_zstd"],
    );
}

fn attr<'a>(v: &'a arco_core::Variable, name: &str) -> &'a AttrValue {
    v.attr(name)
        .unwrap_or_else(|| panic!("{} has no attribute {name}", v.path))
}

#[test]
fn gdal_metadata_gives_scale_offset_units_description_and_nodata() {
    let (file, _) = open_path(&fixture_path("deflate_pred2_u16.tif"));
    let ds = file.dataset();
    let v = ds.variable("band_data").unwrap();
    assert_eq!(v.dtype, DType::U16);
    assert_eq!(v.fill_value, Some(AttrValue::Array(Values::U16(vec![0]))));
    assert_eq!(attr(v, "scale_factor").as_f64(), Some(0.01));
    assert_eq!(attr(v, "add_offset").as_f64(), Some(-5.0));
    assert_eq!(attr(v, "units").as_str(), Some("degC"));
    assert_eq!(attr(v, "long_name").as_str(), Some("air temperature"));
    assert_eq!(attr(v, "STATISTICS_NOTE").as_str(), Some("made up"));
    assert_eq!(attr(v, "AREA_OR_POINT").as_str(), Some("Area"));
    assert_eq!(
        ds.root.attr("SOURCE").and_then(AttrValue::as_str),
        Some("arco fixture")
    );

    let (file, _) = open_path(&fixture_path("planar_separate_u16.tif"));
    let v = file.dataset().variable("band_data").unwrap();
    assert_eq!(
        attr(v, "long_name"),
        &AttrValue::Array(Values::Str(vec![
            "red".into(),
            "green".into(),
            "blue".into()
        ]))
    );

    let (file, _) = open_path(&fixture_path("zstd_pred3_f32.tif"));
    let v = file.dataset().variable("band_data").unwrap();
    assert!(matches!(&v.fill_value, Some(AttrValue::Array(Values::F32(x))) if x[0].is_nan()));
}

#[test]
fn the_sparse_cog_has_three_overview_groups_and_four_missing_tiles() {
    let (file, bytes) = open_path(&fixture_path("cog_overviews_sparse.tif"));
    let ds = file.dataset();
    let m = file.manifest("band_data").unwrap();
    assert_eq!(m.grid.grid_shape(), [4, 5]);
    assert_eq!(m.chunks.len(), 16);
    assert_eq!(m.fill_bytes, Some((-32768i16).to_le_bytes().to_vec()));
    let names: Vec<&str> = ds.root.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["overview_1", "overview_2", "overview_3"]);
    let shapes: Vec<Vec<u64>> = names
        .iter()
        .map(|n| {
            ds.variable(&format!("/{n}/band_data"))
                .unwrap()
                .shape
                .clone()
        })
        .collect();
    assert_eq!(shapes, [vec![25, 35], vec![12, 17], vec![6, 8]]);
    // The missing tiles read as nodata.
    let v = read_all(&file, &bytes, "band_data");
    let at =
        |y: usize, x: usize| i16::from_le_bytes([v[(y * 70 + x) * 2], v[(y * 70 + x) * 2 + 1]]);
    assert_eq!(at(20, 5), -32768);
    assert_ne!(at(2, 5), -32768);
}

#[test]
fn crs_of_epsg_user_defined_and_missing_georeferencing() {
    let wkt = |name: &str| {
        let (file, _) = open_path(&fixture_path(name));
        file.dataset().variable("spatial_ref").ok().and_then(|v| {
            v.attr("crs_wkt")
                .and_then(AttrValue::as_str)
                .map(str::to_string)
        })
    };
    let w = wkt("lzw_strips_i16.tif").unwrap();
    assert!(w.starts_with("PROJCRS[\"WGS 84 / Pseudo-Mercator\""), "{w}");
    assert!(w.ends_with("ID[\"EPSG\",3857]]"), "{w}");
    let w = wkt("user_lcc_u8.tif").unwrap();
    assert!(
        w.contains("PROJECTION[\"Lambert_Conformal_Conic_2SP\"]"),
        "{w}"
    );
    assert!(w.contains("PARAMETER[\"standard_parallel_1\",33]"), "{w}");
    assert!(w.contains("PARAMETER[\"central_meridian\",-96]"), "{w}");
    assert!(!w.contains("AUTHORITY[\"EPSG\",\"32"), "{w}");

    let (file, _) = open_path(&fixture_path("plain_no_georef.tif"));
    assert!(file.dataset().variable("spatial_ref").is_err());
    assert!(file.geotransform().is_none());
}

#[test]
fn pixel_is_point_shifts_the_origin_half_a_pixel_as_gdal_does() {
    let (file, _) = open_path(&fixture_path("pixel_is_point.tif"));
    let v = file.dataset().variable("band_data").unwrap();
    assert_eq!(attr(v, "AREA_OR_POINT").as_str(), Some("Point"));
    let gt = file.geotransform().unwrap();
    // Written by rasterio from (-10, 55) with 0.25-degree pixels.
    assert_eq!(gt, [-10.0, 0.25, 0.0, 55.0, 0.0, -0.25]);
}

#[test]
fn a_rotated_transform_has_no_one_dimensional_coordinates() {
    let (file, _) = open_path(&fixture_path("rotated_u8.tif"));
    let ds = file.dataset();
    assert!(ds.variable("x").is_err() && ds.variable("y").is_err());
    assert_eq!(
        file.geotransform().unwrap(),
        [500000.0, 30.0, 10.0, 4650000.0, 5.0, -30.0]
    );
}

#[test]
fn jpeg_tiles_carry_their_tables_and_colour_transform() {
    let (file, bytes) = open_path(&fixture_path("jpeg_ycbcr_rgb.tif"));
    let m = file.manifest("band_data").unwrap();
    match &m.codecs[..] {
        [CodecSpec::Interleave { samples: 3, .. }, CodecSpec::Jpeg {
            tables: Some(t),
            ycbcr_to_rgb: true,
        }] => assert_eq!(&t[..2], [0xFF, 0xD8]),
        other => panic!("codecs {other:?}"),
    }
    let v = read_all(&file, &bytes, "band_data");
    assert_eq!(v.len(), 3 * 50 * 70);
    let (file, _) = open_path(&fixture_path("jpeg_rgb_u8.tif"));
    let m = file.manifest("band_data").unwrap();
    assert!(matches!(
        m.codecs.last(),
        Some(CodecSpec::Jpeg {
            ycbcr_to_rgb: false,
            ..
        })
    ));
}

#[test]
fn lerc_validity_masks_decode_as_nan_and_its_second_compression_is_a_codec_stage() {
    let (v, m) = decoded("lerc_zstd_f32_nan.tif");
    assert_eq!(m.codecs, [CodecSpec::Lerc, CodecSpec::Zstd { level: None }]);
    let at = |y: usize, x: usize| {
        f32::from_le_bytes(
            v[(y * 70 + x) * 4..(y * 70 + x + 1) * 4]
                .try_into()
                .unwrap(),
        )
    };
    assert!(at(15, 20).is_nan());
    assert!(!at(5, 5).is_nan());
    let (_, m) = decoded("lerc_deflate_u16x2.tif");
    assert!(matches!(
        &m.codecs[..],
        [
            CodecSpec::Interleave { samples: 2, .. },
            CodecSpec::Lerc,
            CodecSpec::Deflate { .. }
        ]
    ));
}

#[test]
fn lerc_tiles_with_infinities_are_reported_as_unsupported_not_misread() {
    let (file, bytes) = open_path(&fixture_path("m_f32_lerc.tif"));
    let m = file.manifest("band_data").unwrap();
    let c = &m.chunks[0];
    let ctx = arco_codecs::ChunkContext {
        label: "m_f32_lerc.tif: chunk [0, 0]",
        dtype: &m.dtype,
        endian: m.endian,
        elements: 256,
    };
    let raw = &bytes[c.offset as usize..(c.offset + c.length) as usize];
    let err = arco_codecs::decode_chunk(raw, &m.codecs, 0, &ctx).unwrap_err();
    assert!(
        matches!(err, arco_codecs::Error::Unsupported { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("infinite values"), "{err}");
    // Tiles without infinities decode to the uncompressed values.
    let (want, _) = decoded("m_f32_none.tif");
    let c = m.chunks.iter().find(|c| c.index == [1, 1]).unwrap();
    let raw = &bytes[c.offset as usize..(c.offset + c.length) as usize];
    let got = arco_codecs::decode_chunk(raw, &m.codecs, 0, &ctx).unwrap();
    for r in 0..14 {
        let row = &got[r * 64..r * 64 + 64];
        let at = ((16 + r) * 40 + 16) * 4;
        assert_eq!(row, &want[at..at + 64], "row {r}");
    }
}
