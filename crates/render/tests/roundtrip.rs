//! Encoders decode back to their input; documents are well-formed; the
//! committed colormap tables are what the generator makes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arco_render::docs::{
    TileJson, WmtsCapabilities, WmtsDimension, WmtsLayer, WmtsResource, WmtsTmsLink,
};
use arco_render::encode::{encode_png, encode_png_with, encode_webp, PngLevel};
use arco_render::render::{ColorType, Image};
use arco_render::tms::{TileMatrixSet, ZoomRange};
use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::PathBuf;
use std::process::Command;

/// A deterministic image with every byte value, transparency and edges.
fn image(color: ColorType, width: u32, height: u32) -> Image {
    let n = (width * height) as usize * color.channels();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let data = (0..n)
        .map(|i| {
            // smooth ramp in the first half, noise in the second
            if i < n / 2 {
                (i / 7 % 256) as u8
            } else {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            }
        })
        .collect();
    Image {
        width,
        height,
        color,
        data,
    }
}

fn decode_png(bytes: &[u8]) -> (png::ColorType, Vec<u8>) {
    let mut reader = png::Decoder::new(Cursor::new(bytes)).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.color_type, buf)
}

#[test]
fn png_decodes_back_to_the_same_pixels_for_every_colour_type_and_level() {
    for (color, png_color) in [
        (ColorType::L, png::ColorType::Grayscale),
        (ColorType::La, png::ColorType::GrayscaleAlpha),
        (ColorType::Rgb, png::ColorType::Rgb),
        (ColorType::Rgba, png::ColorType::Rgba),
    ] {
        let img = image(color, 256, 256);
        let (c, pixels) = decode_png(&encode_png(&img).unwrap());
        assert_eq!(c, png_color);
        assert!(pixels == img.data, "{color:?}: PNG pixels differ");
        for level in [
            PngLevel::None,
            PngLevel::Fastest,
            PngLevel::Balanced,
            PngLevel::High,
        ] {
            let (_, pixels) = decode_png(&encode_png_with(&img, level).unwrap());
            assert!(pixels == img.data, "{color:?} {level:?}: PNG pixels differ");
        }
    }
}

#[test]
fn lossless_webp_decodes_back_to_the_same_rgba() {
    for color in [ColorType::L, ColorType::La, ColorType::Rgb, ColorType::Rgba] {
        for (w, h) in [(256, 256), (512, 512), (3, 1)] {
            let img = image(color, w, h);
            let bytes = encode_webp(&img).unwrap();
            let mut decoder = image_webp::WebPDecoder::new(Cursor::new(&bytes)).unwrap();
            assert!(!decoder.is_lossy(), "{color:?}: lossy");
            assert_eq!(decoder.dimensions(), (w, h));
            let mut buf = vec![0; decoder.output_buffer_size().unwrap()];
            decoder.read_image(&mut buf).unwrap();
            let want = img.to_rgba();
            if decoder.has_alpha() {
                assert!(buf == want, "{color:?} {w}x{h}: WebP RGBA differs");
            } else {
                assert!(!color.has_alpha());
                let rgb: Vec<u8> = want
                    .chunks_exact(4)
                    .flat_map(|p| [p[0], p[1], p[2]])
                    .collect();
                assert!(buf == rgb, "{color:?} {w}x{h}: WebP RGB differs");
            }
        }
    }
}

fn capabilities() -> WmtsCapabilities {
    WmtsCapabilities {
        title: "arco <tiles> & more".into(),
        capabilities_url: "http://localhost:8080/collections/tas/WMTSCapabilities.xml?a=1&b=2".into(),
        layers: vec![WmtsLayer {
            identifier: "tas".into(),
            title: "Near-surface \"air\" temperature".into(),
            abstract_text: Some("K <daily>".into()),
            bounds: [-10.0, 35.0, 30.0, 60.0],
            resources: vec![
                WmtsResource {
                    format: "image/png".into(),
                    template: "http://localhost:8080/collections/tas/tiles/{TileMatrixSet}/{TileMatrix}/{TileCol}/{TileRow}.png?variable=tas&sel=time={time}&colormap_name=viridis".into(),
                },
                WmtsResource {
                    format: "image/webp".into(),
                    template: "http://localhost:8080/collections/tas/tiles/{TileMatrixSet}/{TileMatrix}/{TileCol}/{TileRow}.webp?variable=tas".into(),
                },
            ],
            tile_matrix_sets: vec![
                WmtsTmsLink {
                    tms: TileMatrixSet::WebMercatorQuad,
                    zooms: Some(ZoomRange { min: 2, max: 6 }),
                },
                WmtsTmsLink {
                    tms: TileMatrixSet::WorldCRS84Quad,
                    zooms: None,
                },
            ],
            dimensions: vec![WmtsDimension {
                identifier: "time".into(),
                units: Some("ISO8601".into()),
                default: "2020-01-02T00:00:00Z".into(),
                values: vec!["2020-01-01T00:00:00Z".into(), "2020-01-02T00:00:00Z".into()],
            }],
        }],
    }
}

/// Parse with quick-xml (end names checked): every element, with its text
/// and attributes, in document order.
fn parse(xml: &str) -> Vec<(String, BTreeMap<String, String>)> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = Vec::new();
    let mut depth = 0i32;
    loop {
        match reader
            .read_event()
            .unwrap_or_else(|e| panic!("not well-formed at {}: {e}", reader.buffer_position()))
        {
            Event::Start(e) | Event::Empty(e) => {
                let attrs = e
                    .attributes()
                    .map(|a| {
                        let a = a.unwrap();
                        (
                            String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                            a.normalized_value(quick_xml::XmlVersion::Explicit1_0)
                                .unwrap()
                                .into_owned(),
                        )
                    })
                    .collect();
                out.push((
                    String::from_utf8(e.name().as_ref().to_vec()).unwrap(),
                    attrs,
                ));
                depth += 1;
                if xml.as_bytes()[reader.buffer_position() as usize - 2] == b'/' {
                    depth -= 1;
                }
            }
            Event::End(_) => depth -= 1,
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0, "unbalanced elements");
    out
}

#[test]
fn wmts_capabilities_are_well_formed_and_escape_what_they_must() {
    let xml = capabilities().to_xml();
    let elements = parse(&xml);
    let names: Vec<&str> = elements.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names[0], "Capabilities");
    // Both sets described once, with every zoom.
    assert_eq!(
        names.iter().filter(|n| **n == "TileMatrixSet").count(),
        2 + 2
    );
    assert_eq!(
        names.iter().filter(|n| **n == "TileMatrix").count(),
        25 + 24 + 5
    );
    // The layer follows the schema's order.
    let pos = |n: &str| names.iter().position(|x| *x == n).unwrap();
    assert!(pos("ows:WGS84BoundingBox") < pos("ows:Identifier"));
    assert!(pos("Format") < pos("Dimension") && pos("Dimension") < pos("TileMatrixSetLink"));
    assert!(pos("TileMatrixSetLink") < pos("ResourceURL"));
    // Escaped in attributes, recovered by a parser.
    let templates: Vec<&str> = elements
        .iter()
        .filter(|(n, _)| n == "ResourceURL")
        .map(|(_, a)| a["template"].as_str())
        .collect();
    assert!(templates[0].ends_with("?variable=tas&sel=time={time}&colormap_name=viridis"));
    assert!(xml.contains("<ows:Title>arco &lt;tiles&gt; &amp; more</ows:Title>"));
    assert!(xml.contains("<TopLeftCorner>-180 90</TopLeftCorner>"));
    assert!(xml.contains("<TopLeftCorner>-20037508.342789244 20037508.342789244</TopLeftCorner>"));
    assert!(xml.contains("<ows:SupportedCRS>urn:ogc:def:crs:EPSG::3857</ows:SupportedCRS>"));
    // Limits from the bounds: zoom 2 of Web Mercator, lon -10..30, lat 35..60.
    assert!(xml.contains(
        "<TileMatrix>2</TileMatrix>\n            <MinTileRow>1</MinTileRow>\n            <MaxTileRow>1</MaxTileRow>\n            <MinTileCol>1</MinTileCol>\n            <MaxTileCol>2</MaxTileCol>"
    ), "{xml}");
}

#[test]
fn tilejson_has_the_members_clients_read() {
    let v = TileJson::new(
        "http://h/collections/tas/tiles/WebMercatorQuad/{z}/{x}/{y}.png?variable=tas",
        ZoomRange { min: 0, max: 7 },
        [-180.0, -90.0, 180.0, 90.0],
    )
    .with_name("tas")
    .to_value();
    for key in [
        "tilejson", "name", "version", "scheme", "tiles", "minzoom", "maxzoom", "bounds", "center",
    ] {
        assert!(v.get(key).is_some(), "missing {key}: {v}");
    }
    assert_eq!(v["center"], serde_json::json!([0.0, 0.0, 0.0]));
    assert_eq!(v["maxzoom"], 7);
}

/// The committed tables are exactly what `scripts/make_colormaps.py` makes
/// with matplotlib (peers venv); skipped without it unless ARCO_REQUIRE_PEERS=1.
#[test]
fn the_colormap_tables_are_what_the_generator_makes() {
    let Some(python) = arco_testkit::peers_python(&["matplotlib"]) else {
        return;
    };
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/make_colormaps.py");
    let out = Command::new(&python)
        .arg(&script)
        .arg("--check")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "make_colormaps.py --check failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
