//! arco-render against the tools titiler is made of: morecantile (tile
//! matrix sets), rio-tiler and titiler.core (colormaps, rescale, rendering,
//! `.npy`). The expected values are committed in `tests/data/expected.json`,
//! made by `tests/data/make_expected.py` in the peers venv, so these tests
//! need no Python.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arco_render::colormap::{self, Colormap};
use arco_render::encode::encode_png;
use arco_render::render::{render, render_npy, DataType, RenderOptions};
use arco_render::tms::{Bounds, Tile, TileMatrixSet, ZoomStrategy};
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::OnceLock;

fn expected() -> &'static Value {
    static E: OnceLock<Value> = OnceLock::new();
    E.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/expected.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    })
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// 1e-9 relative, with a floor of 1e-9 absolute for values near zero.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

fn assert_close(a: f64, b: f64, what: &str) {
    assert!(close(a, b), "{what}: arco {a:?}, reference {b:?}");
}

fn tms_cases() -> impl Iterator<Item = (TileMatrixSet, &'static Value)> {
    TileMatrixSet::ALL
        .into_iter()
        .map(|t| (t, &expected()["tms"][t.id()]))
}

/// Equal JSON, numbers compared as f64 exactly (morecantile writes -180
/// where serde_json writes -180.0).
fn same_json(a: &Value, b: &Value, path: &str) {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            assert_eq!(x.as_f64(), y.as_f64(), "{path}: arco {x}, morecantile {y}")
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{path}: lengths");
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                same_json(p, q, &format!("{path}[{i}]"));
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            let kx: BTreeSet<_> = x.keys().collect();
            let ky: BTreeSet<_> = y.keys().collect();
            assert_eq!(kx, ky, "{path}: members");
            for (k, v) in x {
                same_json(v, &y[k], &format!("{path}.{k}"));
            }
        }
        _ => assert_eq!(a, b, "{path}"),
    }
}

#[test]
fn tile_matrix_set_documents_equal_morecantiles() {
    for (tms, e) in tms_cases() {
        same_json(&tms.document(), &e["document"], tms.id());
    }
}

#[test]
fn tile_bounds_match_morecantile() {
    for (tms, e) in tms_cases() {
        for case in e["tiles"].as_array().unwrap() {
            let t = case["tile"].as_array().unwrap();
            let tile = tms
                .tile(
                    t[0].as_u64().unwrap(),
                    t[1].as_u64().unwrap(),
                    t[2].as_u64().unwrap(),
                )
                .unwrap();
            let xy = tms.xy_bounds(tile).unwrap().to_array();
            let ll = tms.bounds(tile).unwrap().to_array();
            for i in 0..4 {
                assert_close(
                    xy[i],
                    f(&case["xy_bounds"][i]),
                    &format!("{tms} {tile} xy_bounds[{i}]"),
                );
                assert_close(
                    ll[i],
                    f(&case["bounds"][i]),
                    &format!("{tms} {tile} bounds[{i}]"),
                );
            }
        }
    }
}

#[test]
fn pixel_centres_match_gdal_transform_and_morecantile_lnglat() {
    for (tms, e) in tms_cases() {
        for case in e["tiles"].as_array().unwrap() {
            let t = case["tile"].as_array().unwrap();
            let tile = Tile::new(
                t[0].as_u64().unwrap() as u8,
                t[1].as_u64().unwrap() as u32,
                t[2].as_u64().unwrap() as u32,
            );
            for (size, points) in case["centres"].as_object().unwrap() {
                let size: usize = size.parse().unwrap();
                let centres = tms.pixel_centers(tile, size).unwrap();
                let (xs, ys) = tms.xy_pixel_centers(tile, size).unwrap();
                assert_eq!((centres.width(), centres.height()), (size, size));
                for p in points.as_array().unwrap() {
                    let (row, col) = (
                        p[0].as_u64().unwrap() as usize,
                        p[1].as_u64().unwrap() as usize,
                    );
                    let what = format!("{tms} {tile} @{size} pixel ({row}, {col})");
                    assert_close(xs[col], f(&p[2]), &format!("{what} x"));
                    assert_close(ys[row], f(&p[3]), &format!("{what} y"));
                    let (lon, lat) = centres.get(row, col).unwrap();
                    assert_close(lon, f(&p[4]), &format!("{what} lon"));
                    assert_close(lat, f(&p[5]), &format!("{what} lat"));
                }
                // The general iterator agrees with the separable vectors.
                let (r, c, lon, lat) = centres.iter().nth(size + 3).unwrap();
                assert_eq!((r, c, lon, lat), (1, 3, centres.lon[3], centres.lat[1]));
            }
        }
    }
}

#[test]
fn zoom_for_res_matches_morecantile_for_every_strategy() {
    for (tms, e) in tms_cases() {
        for case in e["zoom_for_res"].as_array().unwrap() {
            let res = f(&case["res"]);
            for (key, strategy) in [
                ("auto", ZoomStrategy::Auto),
                ("lower", ZoomStrategy::Lower),
                ("upper", ZoomStrategy::Upper),
            ] {
                let z = tms.zoom_for_res(res, strategy, None, None).unwrap();
                assert_eq!(
                    u64::from(z),
                    case[key].as_u64().unwrap(),
                    "{tms} res {res} {key}"
                );
            }
        }
    }
}

#[test]
fn the_tile_of_a_point_matches_morecantile() {
    for (tms, e) in tms_cases() {
        for case in e["tile_for_lonlat"].as_array().unwrap() {
            let (lon, lat, z) = (
                f(&case["lon"]),
                f(&case["lat"]),
                case["z"].as_u64().unwrap() as u8,
            );
            let t = tms.tile_for_lonlat(lon, lat, z).unwrap();
            let want = &case["tile"];
            assert_eq!(
                [u64::from(t.z), u64::from(t.x), u64::from(t.y)],
                [
                    want[0].as_u64().unwrap(),
                    want[1].as_u64().unwrap(),
                    want[2].as_u64().unwrap()
                ],
                "{tms} ({lon}, {lat}) z{z}"
            );
        }
    }
}

#[test]
fn the_tiles_covering_a_box_match_morecantile_across_the_antimeridian_too() {
    for (tms, e) in tms_cases() {
        for case in e["tiles_for_bbox"].as_array().unwrap() {
            let b: Vec<f64> = case["bbox"].as_array().unwrap().iter().map(f).collect();
            let z = case["z"].as_u64().unwrap() as u8;
            let ranges = tms
                .tiles(Bounds::from_array([b[0], b[1], b[2], b[3]]), z)
                .unwrap();
            let tiles: BTreeSet<(u32, u32)> = ranges
                .iter()
                .flat_map(|r| r.iter())
                .map(|t| (t.x, t.y))
                .collect();
            let total: u64 = ranges.iter().map(|r| r.count()).sum();
            let what = format!("{tms} {b:?} z{z}");
            assert_eq!(
                tiles.len() as u64,
                case["count"].as_u64().unwrap(),
                "{what}: count"
            );
            assert_eq!(total, tiles.len() as u64, "{what}: ranges overlap");
            let xs: Vec<u64> = tiles
                .iter()
                .map(|t| u64::from(t.0))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let ys: Vec<u64> = tiles
                .iter()
                .map(|t| u64::from(t.1))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let want = |k: &str| -> Vec<u64> {
                case[k]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_u64().unwrap())
                    .collect()
            };
            assert_eq!(xs, want("xs"), "{what}: columns");
            assert_eq!(ys, want("ys"), "{what}: rows");
        }
    }
}

#[test]
fn the_zoom_range_of_a_lonlat_grid_matches_rio_tiler_away_from_the_poles() {
    let mut compared = 0;
    for (tms, e) in tms_cases() {
        for case in e["grid_zooms"].as_array().unwrap() {
            let b: Vec<f64> = case["bounds"].as_array().unwrap().iter().map(f).collect();
            // GDAL cannot project ±90° to Web Mercator and its suggestion for
            // such grids degenerates (titiler says maxzoom 0 for a 0.25° global
            // grid); arco clamps to ±85.05° instead: not compared.
            if tms == TileMatrixSet::WebMercatorQuad && (b[1] <= -85.0 || b[3] >= 85.0) {
                continue;
            }
            let (w, h) = (
                case["width"].as_u64().unwrap(),
                case["height"].as_u64().unwrap(),
            );
            let zooms = tms
                .lonlat_grid_zoom_range(Bounds::from_array([b[0], b[1], b[2], b[3]]), w, h)
                .unwrap();
            assert_eq!(
                (u64::from(zooms.min), u64::from(zooms.max)),
                (
                    case["minzoom"].as_u64().unwrap(),
                    case["maxzoom"].as_u64().unwrap()
                ),
                "{tms} grid {b:?} {w}x{h}"
            );
            compared += 1;
        }
    }
    assert!(compared >= 8, "only {compared} grids compared");
}

fn fnv1a64(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[test]
fn every_colormap_table_equals_titilers_reversed_ones_included() {
    let maps = expected()["colormaps"].as_object().unwrap();
    let ours: BTreeSet<&str> = colormap::names().into_iter().collect();
    let theirs: BTreeSet<&str> = maps.keys().map(String::as_str).collect();
    assert_eq!(
        ours, theirs,
        "the names differ from rio-tiler's matplotlib maps"
    );
    for (name, e) in maps {
        let lut = colormap::lut(name).unwrap();
        let bytes: Vec<u8> = lut.iter().flatten().copied().collect();
        for (i, rgba) in e["entries"].as_object().unwrap() {
            let want: Vec<u8> = rgba
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as u8)
                .collect();
            assert_eq!(
                lut[i.parse::<usize>().unwrap()].to_vec(),
                want,
                "{name}[{i}]"
            );
        }
        assert_eq!(
            fnv1a64(&bytes),
            e["fnv1a64"].as_str().unwrap(),
            "{name}: table differs"
        );
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn dtype(name: &str) -> DataType {
    match name {
        "uint8" => DataType::U8,
        "int16" => DataType::I16,
        "float32" => DataType::F32,
        "float64" => DataType::F64,
        other => panic!("dtype {other}"),
    }
}

fn decode_png(bytes: &[u8]) -> (usize, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.color_type.samples(), buf)
}

#[test]
fn rendered_tiles_equal_titilers_pixel_for_pixel() {
    let render_e = &expected()["render"];
    let mut compared = 0;
    for case in render_e["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let values: Vec<f64> = hex(render_e["arrays"][case["values"].as_str().unwrap()]
            .as_str()
            .unwrap())
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
        .collect();
        let (w, h) = (
            case["width"].as_u64().unwrap() as usize,
            case["height"].as_u64().unwrap() as usize,
        );
        let cmap = Colormap::from_params(case["colormap_name"].as_str(), case["colormap"].as_str())
            .unwrap();
        let rescale = case["rescale"].as_array().map(|r| (f(&r[0]), f(&r[1])));
        let opts = RenderOptions {
            nodata: case["nodata"].as_f64(),
            rescale,
            colormap: cmap.as_ref(),
            return_mask: case["return_mask"].as_bool().unwrap(),
            dtype: dtype(case["dtype"].as_str().unwrap()),
        };
        let npy = render_npy(&values, w, h, &opts).unwrap();
        let want = hex(case["npy"].as_str().unwrap());
        let first = npy.iter().zip(&want).position(|(a, b)| a != b);
        assert!(
            npy == want,
            "{name}: .npy bytes differ from titiler's: {} vs {} bytes, first difference at byte {first:?}",
            npy.len(),
            want.len()
        );
        let Some(bands) = case["png_bands"].as_u64() else {
            continue;
        };
        let image = render(&values, w, h, &opts).unwrap();
        let (channels, pixels) = decode_png(&encode_png(&image).unwrap());
        assert_eq!(channels as u64, bands, "{name}: channels");
        assert_eq!(pixels, image.data, "{name}: PNG round trip");
        // titiler's bands are planar: band b of pixel i at b * n + i.
        let planar = hex(case["png_pixels"].as_str().unwrap());
        let n = w * h;
        for i in 0..n {
            for b in 0..channels {
                assert_eq!(
                    pixels[i * channels + b],
                    planar[b * n + i],
                    "{name}: pixel {i} (row {}, col {}) band {b}, value {}",
                    i / w,
                    i % w,
                    values[i]
                );
            }
        }
        compared += 1;
    }
    assert!(compared >= 10);
}
