//! TIFFs built byte by byte: both byte orders, BigTIFF, strips and tiles,
//! sparse tiles, overviews, and which bytes the reader reads.

use crate::support::*;
use arco_core::{AttrValue, CodecSpec, DType, Endian, StorageLayout, Values};

/// A 5 x 3 int16 image in strips of 2 rows (the last strip holds 1 row).
fn strips(big: bool, be: bool) -> (Vec<u8>, Layout) {
    let values: Vec<i16> = (0..15).map(|i| i * 100 - 700).collect();
    let enc = |v: &[i16]| -> Vec<u8> {
        v.iter()
            .flat_map(|x| if be { x.to_be_bytes() } else { x.to_le_bytes() })
            .collect()
    };
    let mut tags = image_tags(5, 3, 16, 2);
    tags.push((278, V::Short(vec![2])));
    tags.extend(utm_tags());
    tags.push((42113, V::Ascii("-700".into())));
    Tiff::new(big, be)
        .ifd(
            tags,
            vec![Some(enc(&values[..10])), Some(enc(&values[10..]))],
            false,
        )
        .bytes()
}

#[test]
fn classic_and_bigtiff_of_both_byte_orders_read_the_same_values() {
    let want: Vec<u8> = (0..15i16)
        .flat_map(|i| (i * 100 - 700).to_le_bytes())
        .collect();
    for big in [false, true] {
        for be in [false, true] {
            let (bytes, layout) = strips(big, be);
            let file = open(&bytes).unwrap();
            let ds = file.dataset();
            assert_eq!(ds.format, if big { "geotiff-bigtiff" } else { "geotiff" });
            assert_eq!(file.is_bigtiff(), big);
            assert_eq!(file.endian(), if be { Endian::Big } else { Endian::Little });
            let v = ds.variable("band_data").unwrap();
            assert_eq!(v.dims, ["y", "x"]);
            assert_eq!(v.shape, [3, 5]);
            assert_eq!(v.dtype, DType::I16);
            assert_eq!(v.layout, StorageLayout::Chunked);
            assert_eq!(v.chunk_shape.as_deref(), Some(&[2u64, 5][..]));
            assert_eq!(
                v.fill_value,
                Some(AttrValue::Array(Values::I16(vec![-700])))
            );
            let m = file.manifest("band_data").unwrap();
            assert_eq!(m.chunks.len(), 2);
            let r0 = layout.blocks[0][0].clone().unwrap();
            assert_eq!((m.chunks[0].offset, m.chunks[0].length), (r0.start, 20));
            assert_eq!(m.chunks[1].index, [1, 0]);
            assert_eq!(
                read_all(&file, &bytes, "band_data"),
                want,
                "big {big} be {be}"
            );
        }
    }
}

#[test]
fn coordinates_are_pixel_centres_and_the_crs_comes_from_the_geokeys() {
    let (bytes, _) = strips(false, false);
    let file = open(&bytes).unwrap();
    let x = f64s(&read_all(&file, &bytes, "x"));
    let y = f64s(&read_all(&file, &bytes, "y"));
    assert_eq!(x, [500005.0, 500015.0, 500025.0, 500035.0, 500045.0]);
    assert_eq!(y, [4649995.0, 4649985.0, 4649975.0]);
    let ds = file.dataset();
    let sr = ds.variable("spatial_ref").unwrap();
    assert!(sr.shape.is_empty());
    assert_eq!(
        sr.attr("GeoTransform").and_then(AttrValue::as_str),
        Some("500000.0 10.0 0.0 4650000.0 0.0 -10.0")
    );
    let wkt = sr.attr("crs_wkt").and_then(AttrValue::as_str).unwrap();
    assert!(
        wkt.contains("WGS 84 / UTM zone 33N") && wkt.ends_with("ID[\"EPSG\",32633]]"),
        "{wkt}"
    );
    assert_eq!(
        ds.variable("band_data")
            .unwrap()
            .attr("grid_mapping")
            .and_then(AttrValue::as_str),
        Some("spatial_ref")
    );
    assert_eq!(
        ds.variable("x")
            .unwrap()
            .attr("standard_name")
            .and_then(AttrValue::as_str),
        Some("projection_x_coordinate")
    );
}

/// A 20 x 10 uint8 image in 8 x 8 tiles (3 x 2 tiles), tile 1 never written,
/// every tile deflate-compressed with horizontal differencing.
fn sparse_tiled(nodata: Option<&str>) -> (Vec<u8>, Layout, Vec<u8>) {
    let (w, h, t) = (20usize, 10usize, 8usize);
    let image: Vec<u8> = (0..w * h).map(|i| (i * 7 % 251) as u8).collect();
    let mut blocks = Vec::new();
    for ty in 0..2 {
        for tx in 0..3 {
            if ty == 0 && tx == 1 {
                blocks.push(None);
                continue;
            }
            let mut tile = vec![0u8; t * t];
            for r in 0..t {
                for c in 0..t {
                    let (y, x) = (ty * t + r, tx * t + c);
                    if y < h && x < w {
                        tile[r * t + c] = image[y * w + x];
                    }
                }
                for c in (1..t).rev() {
                    tile[r * t + c] = tile[r * t + c].wrapping_sub(tile[r * t + c - 1]);
                }
            }
            use std::io::Write;
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(6));
            e.write_all(&tile).unwrap();
            blocks.push(Some(e.finish().unwrap()));
        }
    }
    let mut tags = image_tags(w as u32, h as u32, 8, 1);
    tags.retain(|(t, _)| *t != 259);
    tags.push((259, V::Short(vec![8])));
    tags.push((317, V::Short(vec![2])));
    tags.push((322, V::Short(vec![8])));
    tags.push((323, V::Short(vec![8])));
    if let Some(n) = nodata {
        tags.push((42113, V::Ascii(n.into())));
    }
    let (bytes, layout) = Tiff::new(false, false).ifd(tags, blocks, true).bytes();
    // Expected: the sparse tile reads as nodata (or 0).
    let fill = nodata.map_or(0u8, |n| n.parse().unwrap());
    let mut want = image.clone();
    for y in 0..8 {
        for x in 8..16 {
            want[y * w + x] = fill;
        }
    }
    (bytes, layout, want)
}

#[test]
fn sparse_tiles_are_missing_chunks_that_read_as_nodata() {
    for nodata in [None, Some("255")] {
        let (bytes, _, want) = sparse_tiled(nodata);
        let file = open(&bytes).unwrap();
        let m = file.manifest("band_data").unwrap();
        assert_eq!(m.grid.chunk_shape, [8, 8]);
        assert_eq!(m.chunks.len(), 5);
        assert!(m.chunks.iter().all(|c| c.index != [0, 1]));
        assert_eq!(
            m.codecs,
            [
                CodecSpec::HorizontalDifferencing {
                    bits_per_sample: 8,
                    samples_per_pixel: 1,
                    row_pixels: 8,
                    endian: Endian::Little
                },
                CodecSpec::Deflate { level: None }
            ]
        );
        assert_eq!(m.fill_bytes, Some(vec![nodata.map_or(0, |_| 255)]));
        assert_eq!(
            read_all(&file, &bytes, "band_data"),
            want,
            "nodata {nodata:?}"
        );
    }
}

#[test]
fn a_cog_header_is_read_in_one_range_read_and_tile_data_never() {
    // Tiles big enough that the data lies past the first 64 KiB.
    let tile = vec![7u8; 256 * 256];
    let mut tags = image_tags(512, 512, 8, 1);
    tags.push((322, V::Short(vec![256])));
    tags.push((323, V::Short(vec![256])));
    let (bytes, layout) = Tiff::new(false, false)
        .ifd(tags, vec![Some(tile.clone()); 4], true)
        .bytes();
    assert!(layout.meta_end < 1024);
    let source = MemSource::new("cog.tif", bytes.clone());
    let file = arco_geotiff::TiffFile::open(source.clone()).unwrap();
    assert_eq!(file.manifest("band_data").unwrap().chunks.len(), 4);
    assert_eq!(source.reads(), vec![0..64 * 1024]);
}

#[test]
fn ifds_after_the_data_are_fetched_by_more_range_reads_and_tile_data_never() {
    // 400 strips of 1000 bytes, then the IFD (as non-COG writers lay files out).
    let (rows, width) = (400u32, 1000u32);
    let mut tags = image_tags(width, rows, 8, 1);
    tags.push((278, V::Short(vec![1])));
    let mut t = Tiff::new(false, false).ifd(tags, vec![Some(vec![1u8; 1000]); 400], false);
    t.ifds_last = true;
    let (bytes, layout) = t.bytes();
    assert!(layout.meta_start > 64 * 1024);
    let source = MemSource::new("strips.tif", bytes.clone());
    let file = arco_geotiff::TiffFile::open(source.clone()).unwrap();
    assert_eq!(file.manifest("band_data").unwrap().chunks.len(), 400);
    let reads = source.reads();
    assert_eq!(reads[0], 0..64 * 1024, "{reads:?}");
    assert!(reads.len() <= 3, "{reads:?}");
    assert!(
        reads[1..].iter().all(|r| r.start >= layout.meta_start),
        "after the first read, only the IFD and its values are read: {reads:?}"
    );
    assert_eq!(read_all(&file, &bytes, "band_data"), vec![1u8; 400_000]);
}

#[test]
fn overviews_become_groups_and_masks_are_listed_as_skipped() {
    let full = image_tags(8, 4, 8, 1);
    let mut ov = image_tags(4, 2, 8, 1);
    ov.push((254, V::Long(vec![1])));
    let mut mask = image_tags(8, 4, 1, 1);
    mask.push((254, V::Long(vec![4])));
    let mut tags0 = full.clone();
    tags0.extend(utm_tags());
    let (bytes, _) = Tiff::new(false, false)
        .ifd(tags0, vec![Some((0..32).collect())], false)
        .ifd(ov, vec![Some((100..108).collect())], false)
        .ifd(mask, vec![Some(vec![0xff; 4])], false)
        .bytes();
    let file = open(&bytes).unwrap();
    let ds = file.dataset();
    assert_eq!(ds.root.groups.len(), 1);
    let g = &ds.root.groups[0];
    assert_eq!(g.path, "/overview_1");
    let v = ds.variable("/overview_1/band_data").unwrap();
    assert_eq!(v.shape, [2, 4]);
    assert_eq!(
        read_all(&file, &bytes, "/overview_1/band_data"),
        (100..108).collect::<Vec<u8>>()
    );
    // Overview pixels are twice as large.
    let gt = ds
        .variable("/overview_1/spatial_ref")
        .unwrap()
        .attr("GeoTransform")
        .and_then(AttrValue::as_str)
        .unwrap()
        .to_string();
    assert_eq!(gt, "500000.0 20.0 0.0 4650000.0 0.0 -20.0");
    let x = f64s(&read_all(&file, &bytes, "/overview_1/x"));
    assert_eq!(x, [500010.0, 500030.0, 500050.0, 500070.0]);
    let skipped = ds
        .root
        .attr("skipped_tiff_ifds")
        .and_then(AttrValue::as_str)
        .unwrap();
    assert_eq!(skipped, "IFD 2: a 8x4 transparency mask");
}

#[test]
fn pixel_interleaved_bands_decode_band_major_with_one_chunk_per_tile() {
    // 3 x 2 pixels, 3 bands, chunky, one strip.
    let px: Vec<u8> = (0..18).collect();
    let mut tags = image_tags(3, 2, 8, 1);
    tags.retain(|(t, _)| *t != 277 && *t != 258 && *t != 339);
    tags.push((277, V::Short(vec![3])));
    tags.push((258, V::Short(vec![8, 8, 8])));
    tags.push((339, V::Short(vec![1, 1, 1])));
    let (bytes, _) = Tiff::new(false, true)
        .ifd(tags, vec![Some(px)], false)
        .bytes();
    let file = open(&bytes).unwrap();
    let v = file.dataset().variable("band_data").unwrap();
    assert_eq!(v.dims, ["band", "y", "x"]);
    assert_eq!(v.chunk_shape.as_deref(), Some(&[3u64, 2, 3][..]));
    assert_eq!(
        read_all(&file, &bytes, "band_data"),
        [0, 3, 6, 9, 12, 15, 1, 4, 7, 10, 13, 16, 2, 5, 8, 11, 14, 17]
    );
    let band: Vec<i64> = read_all(&file, &bytes, "band")
        .chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(band, [1, 2, 3]);
    // Not georeferenced: no spatial_ref, pixel-index coordinates.
    assert!(file.dataset().variable("spatial_ref").is_err());
    assert_eq!(f64s(&read_all(&file, &bytes, "x")), [0.5, 1.5, 2.5]);
}

#[test]
fn a_sample_type_arco_cannot_represent_is_refused_at_open_with_a_reason() {
    let tags = image_tags(4, 4, 16, 3); // 16-bit float
    let (bytes, _) = Tiff::new(false, false)
        .ifd(tags, vec![Some(vec![0; 32])], false)
        .bytes();
    let err = open(&bytes).unwrap_err().to_string();
    assert!(
        err.contains("mem.tif") && err.contains("16-bit floats"),
        "{err}"
    );
    assert!(err.contains("gdal_translate -ot Float32"), "{err}");
}

#[test]
fn an_unsupported_compression_opens_and_names_itself_when_read() {
    let mut tags = image_tags(4, 4, 8, 1);
    tags.retain(|(t, _)| *t != 259);
    tags.push((259, V::Short(vec![34925])));
    let (bytes, _) = Tiff::new(false, false)
        .ifd(tags, vec![Some(vec![0; 16])], false)
        .bytes();
    let file = open(&bytes).unwrap();
    let m = file.manifest("band_data").unwrap();
    assert_eq!(
        m.codecs,
        [CodecSpec::UnsupportedTiffCompression {
            compression: 34925,
            compression_name: "LZMA".into()
        }]
    );
    let ctx = arco_codecs::ChunkContext {
        label: "mem.tif: chunk [0, 0]",
        dtype: &DType::U8,
        endian: Endian::Little,
        elements: 16,
    };
    let err = arco_codecs::decode_chunk(&[0; 16], &m.codecs, 0, &ctx)
        .unwrap_err()
        .to_string();
    assert!(err.contains("TIFF compression 34925 (LZMA)"), "{err}");
    assert!(err.contains("gdal_translate"), "{err}");
}

#[test]
fn an_absurdly_wide_image_is_refused_before_its_coordinates_are_allocated() {
    let tags = image_tags(1 << 30, 1, 8, 1);
    let (bytes, _) = Tiff::new(false, false)
        .ifd(tags, vec![Some(vec![0; 4])], false)
        .bytes();
    let err = open(&bytes).unwrap_err().to_string();
    assert!(err.contains("1073741824 x 1 pixels"), "{err}");
    assert!(
        err.contains("arco reads images up to 67108864 pixels on a side"),
        "{err}"
    );
}
