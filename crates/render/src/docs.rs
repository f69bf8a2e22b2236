//! Documents about tiles: TileJSON 3.0.0 and WMTS 1.0.0 Capabilities.

use crate::tms::{TileMatrixSet, ZoomRange};
use serde::Serialize;
use serde_json::Value;
use std::fmt::Write as _;

/// A TileJSON 3.0.0 document (titiler's `/tilejson.json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TileJson {
    /// Always `"3.0.0"`.
    pub tilejson: String,
    /// Layer name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Version of the tileset (titiler: `"1.0.0"`).
    pub version: String,
    /// Attribution (HTML).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribution: Option<String>,
    /// Always `"xyz"`.
    pub scheme: String,
    /// URL templates with `{z}`, `{x}`, `{y}`.
    pub tiles: Vec<String>,
    /// Coarsest zoom.
    pub minzoom: u8,
    /// Finest zoom.
    pub maxzoom: u8,
    /// `[west, south, east, north]` in degrees (west > east crosses the antimeridian).
    pub bounds: [f64; 4],
    /// `[lon, lat, zoom]`: the middle of `bounds` at `minzoom`.
    pub center: [f64; 3],
}

impl TileJson {
    /// A document for one tile URL template; `center` is the middle of
    /// `bounds` (across the antimeridian when west > east) at `minzoom`.
    pub fn new(tiles_url: impl Into<String>, zooms: ZoomRange, bounds: [f64; 4]) -> TileJson {
        let [w, s, e, n] = bounds;
        let mut lon = if w > e {
            (w + e + 360.0) / 2.0
        } else {
            (w + e) / 2.0
        };
        if lon > 180.0 {
            lon -= 360.0;
        }
        TileJson {
            tilejson: "3.0.0".into(),
            name: None,
            description: None,
            version: "1.0.0".into(),
            attribution: None,
            scheme: "xyz".into(),
            tiles: vec![tiles_url.into()],
            minzoom: zooms.min,
            maxzoom: zooms.max,
            bounds,
            center: [lon, (s + n) / 2.0, f64::from(zooms.min)],
        }
    }

    /// Set the name.
    pub fn with_name(mut self, name: impl Into<String>) -> TileJson {
        self.name = Some(name.into());
        self
    }

    /// Set the description.
    pub fn with_description(mut self, description: impl Into<String>) -> TileJson {
        self.description = Some(description.into());
        self
    }

    /// The JSON value.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// titiler's `/tileMatrixSets` document: every set with a link to its
/// definition at `{base_url}/tileMatrixSets/{id}` (`base_url` without a
/// trailing slash, e.g. `http://localhost:8080`).
pub fn tile_matrix_sets_document(base_url: &str) -> Value {
    let base = base_url.trim_end_matches('/');
    let sets: Vec<Value> = TileMatrixSet::ALL
        .iter()
        .map(|t| {
            serde_json::json!({
                "id": t.id(),
                "title": t.title(),
                "links": [{
                    "href": format!("{base}/tileMatrixSets/{}", t.id()),
                    "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
                    "type": "application/json",
                    "title": format!("Definition of {}", t.id()),
                }],
            })
        })
        .collect();
    serde_json::json!({ "tileMatrixSets": sets })
}

/// titiler's `/colorMaps` document: the names (with `_r`) and links to
/// `{base_url}/colorMaps` and the templated `{base_url}/colorMaps/{colorMapId}`.
pub fn colormaps_document(base_url: &str) -> Value {
    let base = base_url.trim_end_matches('/');
    serde_json::json!({
        "colorMaps": crate::colormap::names(),
        "links": [
            {
                "href": format!("{base}/colorMaps"),
                "rel": "self",
                "type": "application/json",
                "title": "List of available colormaps",
            },
            {
                "href": format!("{base}/colorMaps/{{colorMapId}}"),
                "rel": "data",
                "type": "application/json",
                "templated": true,
                "title": "Retrieve colormap metadata",
            },
            {
                "href": format!("{base}/colorMaps/{{colorMapId}}?format=png"),
                "rel": "data",
                "type": "image/png",
                "templated": true,
                "title": "Retrieve colormap as image",
            },
        ],
    })
}

/// A link from a WMTS layer to a tile matrix set, optionally limited to a
/// zoom range (then the capabilities list `TileMatrixSetLimits` computed
/// from the layer's bounds, so clients do not ask for empty tiles).
#[derive(Debug, Clone, PartialEq)]
pub struct WmtsTmsLink {
    /// The set.
    pub tms: TileMatrixSet,
    /// Zooms the layer has.
    pub zooms: Option<ZoomRange>,
}

/// A tile URL template of a WMTS layer for one format.
#[derive(Debug, Clone, PartialEq)]
pub struct WmtsResource {
    /// Media type (`image/png`).
    pub format: String,
    /// RESTful template with `{TileMatrix}`, `{TileCol}`, `{TileRow}` (and
    /// optionally `{TileMatrixSet}`, `{Style}`, and dimension identifiers).
    pub template: String,
}

/// A WMTS dimension (e.g. `time`); its identifier may appear in templates.
#[derive(Debug, Clone, PartialEq)]
pub struct WmtsDimension {
    /// Identifier (`time`, `level`).
    pub identifier: String,
    /// Unit of measure, if any.
    pub units: Option<String>,
    /// Default value.
    pub default: String,
    /// Every valid value.
    pub values: Vec<String>,
}

/// A WMTS layer.
#[derive(Debug, Clone, PartialEq)]
pub struct WmtsLayer {
    /// `ows:Identifier` (e.g. `tas` or `tas:air_temperature`).
    pub identifier: String,
    /// Human title.
    pub title: String,
    /// Longer description.
    pub abstract_text: Option<String>,
    /// `[west, south, east, north]` in degrees (WGS84BoundingBox).
    pub bounds: [f64; 4],
    /// Tile URL templates, one per format.
    pub resources: Vec<WmtsResource>,
    /// The sets the layer is tiled in.
    pub tile_matrix_sets: Vec<WmtsTmsLink>,
    /// Extra dimensions.
    pub dimensions: Vec<WmtsDimension>,
}

/// A WMTS 1.0.0 service description.
#[derive(Debug, Clone, PartialEq)]
pub struct WmtsCapabilities {
    /// Service title.
    pub title: String,
    /// The URL of this capabilities document (GetCapabilities and
    /// ServiceMetadataURL).
    pub capabilities_url: String,
    /// Layers.
    pub layers: Vec<WmtsLayer>,
}

/// XML-escape text or an attribute value.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

impl WmtsCapabilities {
    /// The Capabilities XML (RESTful encoding, element order of the WMTS
    /// 1.0.0 schema). Every set a layer links to is described once.
    pub fn to_xml(&self) -> String {
        let e = xml_escape;
        let mut x = String::with_capacity(4096);
        x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        x.push_str(concat!(
            "<Capabilities xmlns=\"http://www.opengis.net/wmts/1.0\" ",
            "xmlns:ows=\"http://www.opengis.net/ows/1.1\" ",
            "xmlns:xlink=\"http://www.w3.org/1999/xlink\" ",
            "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" ",
            "xmlns:gml=\"http://www.opengis.net/gml\" ",
            "xsi:schemaLocation=\"http://www.opengis.net/wmts/1.0 ",
            "http://schemas.opengis.net/wmts/1.0/wmtsGetCapabilities_response.xsd\" ",
            "version=\"1.0.0\">\n"
        ));
        let url = e(&self.capabilities_url);
        let _ = write!(
            x,
            "  <ows:ServiceIdentification>\n    <ows:Title>{}</ows:Title>\n    <ows:ServiceType>OGC WMTS</ows:ServiceType>\n    <ows:ServiceTypeVersion>1.0.0</ows:ServiceTypeVersion>\n  </ows:ServiceIdentification>\n",
            e(&self.title)
        );
        x.push_str("  <ows:OperationsMetadata>\n");
        for op in ["GetCapabilities", "GetTile"] {
            let _ = write!(
                x,
                "    <ows:Operation name=\"{op}\">\n      <ows:DCP>\n        <ows:HTTP>\n          <ows:Get xlink:href=\"{url}\">\n            <ows:Constraint name=\"GetEncoding\">\n              <ows:AllowedValues>\n                <ows:Value>RESTful</ows:Value>\n              </ows:AllowedValues>\n            </ows:Constraint>\n          </ows:Get>\n        </ows:HTTP>\n      </ows:DCP>\n    </ows:Operation>\n"
            );
        }
        x.push_str("  </ows:OperationsMetadata>\n  <Contents>\n");
        let mut sets: Vec<TileMatrixSet> = Vec::new();
        for layer in &self.layers {
            write_layer(&mut x, layer);
            for link in &layer.tile_matrix_sets {
                if !sets.contains(&link.tms) {
                    sets.push(link.tms);
                }
            }
        }
        for tms in sets {
            write_tms(&mut x, tms);
        }
        let _ = write!(
            x,
            "  </Contents>\n  <ServiceMetadataURL xlink:href=\"{url}\"/>\n</Capabilities>\n"
        );
        x
    }
}

fn write_layer(x: &mut String, layer: &WmtsLayer) {
    let e = xml_escape;
    let [w, s, east, n] = layer.bounds;
    x.push_str("    <Layer>\n");
    let _ = writeln!(x, "      <ows:Title>{}</ows:Title>", e(&layer.title));
    if let Some(a) = &layer.abstract_text {
        let _ = writeln!(x, "      <ows:Abstract>{}</ows:Abstract>", e(a));
    }
    let _ = write!(
        x,
        "      <ows:WGS84BoundingBox crs=\"urn:ogc:def:crs:OGC:2:84\">\n        <ows:LowerCorner>{w} {s}</ows:LowerCorner>\n        <ows:UpperCorner>{east} {n}</ows:UpperCorner>\n      </ows:WGS84BoundingBox>\n"
    );
    let _ = writeln!(
        x,
        "      <ows:Identifier>{}</ows:Identifier>",
        e(&layer.identifier)
    );
    x.push_str("      <Style isDefault=\"true\">\n        <ows:Identifier>default</ows:Identifier>\n      </Style>\n");
    for r in &layer.resources {
        let _ = writeln!(x, "      <Format>{}</Format>", e(&r.format));
    }
    for d in &layer.dimensions {
        x.push_str("      <Dimension>\n");
        let _ = writeln!(
            x,
            "        <ows:Identifier>{}</ows:Identifier>",
            e(&d.identifier)
        );
        if let Some(u) = &d.units {
            let _ = writeln!(x, "        <UOM>{}</UOM>", e(u));
        }
        let _ = writeln!(x, "        <Default>{}</Default>", e(&d.default));
        for v in &d.values {
            let _ = writeln!(x, "        <Value>{}</Value>", e(v));
        }
        x.push_str("      </Dimension>\n");
    }
    for link in &layer.tile_matrix_sets {
        x.push_str("      <TileMatrixSetLink>\n");
        let _ = writeln!(
            x,
            "        <TileMatrixSet>{}</TileMatrixSet>",
            link.tms.id()
        );
        if let Some(zooms) = link.zooms {
            write_limits(x, link.tms, zooms, layer.bounds);
        }
        x.push_str("      </TileMatrixSetLink>\n");
    }
    for r in &layer.resources {
        let _ = writeln!(
            x,
            "      <ResourceURL format=\"{}\" resourceType=\"tile\" template=\"{}\"/>",
            e(&r.format),
            e(&r.template)
        );
    }
    x.push_str("    </Layer>\n");
}

fn write_limits(x: &mut String, tms: TileMatrixSet, zooms: ZoomRange, bounds: [f64; 4]) {
    let bbox = crate::tms::Bounds::from_array(bounds);
    let mut body = String::new();
    for z in zooms.min..=zooms.max.min(tms.maxzoom()) {
        let (Ok(ranges), Ok(m)) = (tms.tiles(bbox, z), tms.matrix(z)) else {
            continue;
        };
        let (Some(min_y), Some(max_y)) = (
            ranges.iter().map(|r| r.min_y).min(),
            ranges.iter().map(|r| r.max_y).max(),
        ) else {
            continue;
        };
        // Two ranges cross the antimeridian: the limits cannot say "both
        // ends", so they keep every column.
        let (min_x, max_x) = match ranges.as_slice() {
            [r] => (r.min_x, r.max_x),
            _ => (0, m.matrix_width - 1),
        };
        let _ = write!(
            body,
            "          <TileMatrixLimits>\n            <TileMatrix>{z}</TileMatrix>\n            <MinTileRow>{min_y}</MinTileRow>\n            <MaxTileRow>{max_y}</MaxTileRow>\n            <MinTileCol>{min_x}</MinTileCol>\n            <MaxTileCol>{max_x}</MaxTileCol>\n          </TileMatrixLimits>\n"
        );
    }
    if !body.is_empty() {
        x.push_str("        <TileMatrixSetLimits>\n");
        x.push_str(&body);
        x.push_str("        </TileMatrixSetLimits>\n");
    }
}

fn write_tms(x: &mut String, tms: TileMatrixSet) {
    x.push_str("    <TileMatrixSet>\n");
    let _ = writeln!(x, "      <ows:Identifier>{}</ows:Identifier>", tms.id());
    let _ = writeln!(
        x,
        "      <ows:SupportedCRS>{}</ows:SupportedCRS>",
        tms.crs_urn()
    );
    let _ = writeln!(
        x,
        "      <WellKnownScaleSet>{}</WellKnownScaleSet>",
        tms.well_known_scale_set_urn()
    );
    for m in tms.matrices() {
        let [ox, oy] = m.point_of_origin;
        let _ = write!(
            x,
            "      <TileMatrix>\n        <ows:Identifier>{}</ows:Identifier>\n        <ScaleDenominator>{}</ScaleDenominator>\n        <TopLeftCorner>{ox} {oy}</TopLeftCorner>\n        <TileWidth>{}</TileWidth>\n        <TileHeight>{}</TileHeight>\n        <MatrixWidth>{}</MatrixWidth>\n        <MatrixHeight>{}</MatrixHeight>\n      </TileMatrix>\n",
            m.zoom, m.scale_denominator, m.tile_width, m.tile_height, m.matrix_width, m.matrix_height
        );
    }
    x.push_str("    </TileMatrixSet>\n");
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tilejson_centres_bounds_that_cross_the_antimeridian_on_it() {
        let tj = TileJson::new(
            "u/{z}/{x}/{y}",
            ZoomRange { min: 2, max: 5 },
            [170.0, -10.0, -170.0, 10.0],
        );
        assert_eq!(tj.center, [180.0, 0.0, 2.0]);
        let tj = TileJson::new("u", ZoomRange { min: 0, max: 5 }, [-10.0, 0.0, 30.0, 40.0]);
        assert_eq!(tj.center, [10.0, 20.0, 0.0]);
        let v = tj.with_name("tas").to_value();
        assert_eq!(v["tilejson"], "3.0.0");
        assert_eq!(v["scheme"], "xyz");
        assert_eq!(v["name"], "tas");
        assert!(v.get("description").is_none());
    }

    #[test]
    fn the_lists_of_sets_and_colormaps_link_to_their_definitions() {
        let v = tile_matrix_sets_document("http://h/");
        assert_eq!(v["tileMatrixSets"][1]["id"], "WorldCRS84Quad");
        assert_eq!(
            v["tileMatrixSets"][0]["links"][0]["href"],
            "http://h/tileMatrixSets/WebMercatorQuad"
        );
        let v = colormaps_document("http://h");
        assert!(v["colorMaps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == "viridis_r"));
        assert_eq!(v["links"][1]["href"], "http://h/colorMaps/{colorMapId}");
    }

    #[test]
    fn escaping_covers_markup_quotes_and_control_characters() {
        assert_eq!(xml_escape("a<b>&\"c'\u{1}"), "a&lt;b&gt;&amp;&quot;c&apos;");
    }
}
