//! Real files under `tests/data/real/geotiff/` (provenance in
//! `tests/data/real/MANIFEST.md`). Expected values were read with rasterio
//! 1.4.4 (GDAL 3.10.3): sample pixels, sums and geotransforms.

use crate::support::*;
use arco_core::{AttrValue, DType, Values};

fn sum_u8(v: &[u8]) -> u64 {
    v.iter().map(|&x| u64::from(x)).sum()
}

fn epsg_of(file: &arco_geotiff::TiffFile) -> String {
    let wkt = file
        .dataset()
        .variable("spatial_ref")
        .unwrap()
        .attr("crs_wkt")
        .and_then(AttrValue::as_str)
        .unwrap()
        .to_string();
    // The code of the whole CRS: the last ID of the WKT2.
    let tail = wkt.rsplit("ID[\"EPSG\",").next().unwrap();
    tail.trim_end_matches("]]").to_string()
}

#[test]
fn landsat_l7_etms_has_six_pixel_interleaved_bands_in_strips_and_four_overviews() {
    let (file, bytes) = open_path(&real_path("L7_ETMs.tif"));
    let ds = file.dataset();
    let v = ds.variable("band_data").unwrap();
    assert_eq!(v.dims, ["band", "y", "x"]);
    assert_eq!(v.shape, [6, 352, 349]);
    assert_eq!(v.chunk_shape.as_deref(), Some(&[6u64, 3, 349][..]));
    assert_eq!(epsg_of(&file), "31985");
    assert_eq!(
        file.geotransform().unwrap(),
        [
            288776.25000080315,
            28.49999999927454,
            0.0,
            9120760.750028737,
            0.0,
            -28.49999999927454
        ]
    );
    assert_eq!(ds.root.groups.len(), 4);
    let data = read_all(&file, &bytes, "band_data");
    let at = |b: usize, y: usize, x: usize| data[(b * 352 + y) * 349 + x];
    assert_eq!(
        (at(0, 0, 0), at(5, 351, 348), at(2, 100, 200)),
        (69, 12, 103)
    );
    assert_eq!(sum_u8(&data), 50_794_516);
}

#[test]
fn colorado_elevation_is_a_float32_lzw_cog_in_nad83_with_nodata() {
    let (file, bytes) = open_path(&real_path("co_elevation_roi.tif"));
    let ds = file.dataset();
    let v = ds.variable("band_data").unwrap();
    assert_eq!(v.dtype, DType::F32);
    assert_eq!(v.shape, [633, 1007]);
    assert_eq!(v.chunk_shape.as_deref(), Some(&[256u64, 256][..]));
    assert_eq!(epsg_of(&file), "4269");
    assert!(
        matches!(&v.fill_value, Some(AttrValue::Array(Values::F32(x))) if x[0] == -3.402_823e38_f32)
    );
    let data: Vec<f32> = read_all(&file, &bytes, "band_data")
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(data[0], 3_671.756);
    assert_eq!(data[300 * 1007 + 500], 3_490.482);
    assert_eq!(data[632 * 1007 + 1006], 2_841.612_3);
    let lon = f64s(&read_all(&file, &bytes, "x"));
    assert!((lon[0] - (-107.14611111123 + 0.5 * 9.259259300000695e-05)).abs() < 1e-12);
    assert_eq!(
        ds.variable("x")
            .unwrap()
            .attr("units")
            .and_then(AttrValue::as_str),
        Some("degrees_east")
    );
    assert_eq!(ds.root.groups.len(), 4);
}

#[test]
fn bahamas_rgb_is_a_pixel_interleaved_cog_with_nodata_zero() {
    let (file, bytes) = open_path(&real_path("bahamas_rgb.tif"));
    let ds = file.dataset();
    let v = ds.variable("band_data").unwrap();
    assert_eq!(v.shape, [3, 718, 791]);
    assert_eq!(v.chunk_shape.as_deref(), Some(&[3u64, 512, 512][..]));
    assert_eq!(v.fill_value, Some(AttrValue::Array(Values::U8(vec![0]))));
    assert_eq!(epsg_of(&file), "32618");
    assert_eq!(ds.root.groups.len(), 1);
    let data = read_all(&file, &bytes, "band_data");
    assert_eq!(data[(718 + 400) * 791 + 400], 77);
    assert_eq!(sum_u8(&data), 69_616_097);
}

#[test]
fn the_nrw_hillshade_is_an_uncompressed_bigtiff_in_etrs89_utm() {
    let (file, bytes) = open_path(&real_path("dgm50hs_col_32_368_5616_nw_bigtiff.tiff"));
    assert!(file.is_bigtiff());
    assert_eq!(file.dataset().format, "geotiff-bigtiff");
    assert_eq!(epsg_of(&file), "25832");
    let m = file.manifest("band_data").unwrap();
    assert!(m.codecs.len() == 1, "interleave only: {:?}", m.codecs);
    let data = read_all(&file, &bytes, "band_data");
    assert_eq!(data.len(), 3 * 294 * 315);
    assert_eq!(data[0], 217);
    assert_eq!(data[(294 + 150) * 315 + 150], 238);
    assert_eq!(sum_u8(&data), 58_063_909);
}
