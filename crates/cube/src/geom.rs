//! Query geometries in longitude/latitude: points, bounding boxes and
//! polygons, from WKT (`POINT(x y)`, `MULTIPOINT`, `POLYGON`,
//! `MULTIPOLYGON`), GeoJSON geometry objects, or `w,s,e,n`.

use crate::{Error, Result};
use serde_json::Value;

/// A geometry in longitude/latitude degrees.
#[derive(Debug, Clone, PartialEq)]
pub enum Geometry {
    /// One point.
    Point(f64, f64),
    /// Several points.
    MultiPoint(Vec<(f64, f64)>),
    /// A longitude/latitude box `[west, south, east, north]`.
    Bbox([f64; 4]),
    /// Polygons, each a list of rings (the first the outer one, the others
    /// holes), each ring a list of `(lon, lat)`.
    Polygons(Vec<Vec<Vec<(f64, f64)>>>),
}

fn bad(msg: impl Into<String>) -> Error {
    Error::BadRequest(msg.into())
}

fn number(s: &str, what: &str) -> Result<f64> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| bad(format!("{what}: '{}' is not a number", s.trim())))?;
    if v.is_finite() {
        Ok(v)
    } else {
        Err(bad(format!(
            "{what}: '{}' is not a finite number",
            s.trim()
        )))
    }
}

fn check_lonlat((lon, lat): (f64, f64), what: &str) -> Result<(f64, f64)> {
    if !(-90.0..=90.0).contains(&lat) || !(-360.0..=360.0).contains(&lon) {
        return Err(bad(format!(
            "{what}: ({lon}, {lat}) is not a longitude/latitude (x = longitude in -180..360, y = latitude in -90..90)"
        )));
    }
    Ok((lon, lat))
}

fn wkt_point(s: &str, what: &str) -> Result<(f64, f64)> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    if parts.len() < 2 || parts.len() > 3 {
        return Err(bad(format!(
            "{what}: '{s}' is not a position 'x y' (longitude latitude)"
        )));
    }
    check_lonlat((number(parts[0], what)?, number(parts[1], what)?), what)
}

/// Split the top level of `(a), (b)` into `a`, `b`.
fn groups(s: &str, what: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => {
                if depth > 0 {
                    cur.push(c);
                }
                depth += 1;
            }
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return Err(bad(format!("{what}: unbalanced parentheses")));
                }
                if depth == 0 {
                    out.push(std::mem::take(&mut cur));
                } else {
                    cur.push(c);
                }
            }
            ',' if depth == 0 => {}
            _ if depth == 0 && !c.is_whitespace() => {
                return Err(bad(format!("{what}: unexpected '{c}' outside parentheses")))
            }
            _ => {
                if depth > 0 {
                    cur.push(c);
                }
            }
        }
    }
    if depth != 0 {
        return Err(bad(format!("{what}: unbalanced parentheses")));
    }
    Ok(out)
}

fn ring(s: &str, what: &str) -> Result<Vec<(f64, f64)>> {
    let pts = s
        .split(',')
        .map(|p| wkt_point(p, what))
        .collect::<Result<Vec<_>>>()?;
    if pts.len() < 4 || pts.first() != pts.last() {
        return Err(bad(format!(
            "{what}: a polygon ring needs at least 4 positions, the last equal to the first"
        )));
    }
    Ok(pts)
}

impl Geometry {
    /// Parse WKT: `POINT(x y)`, `MULTIPOINT((x y), (x y))` or `MULTIPOINT(x y, x y)`,
    /// `POLYGON((x y, ...))`, `MULTIPOLYGON(((...)), ((...)))`.
    pub fn from_wkt(text: &str) -> Result<Geometry> {
        let what = "coords";
        let t = text.trim();
        let open = t.find('(').ok_or_else(|| {
            bad(format!(
                "{what}: '{t}' is not WKT such as POINT(10.5 45.2) or POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))"
            ))
        })?;
        let kind = t[..open].trim().to_ascii_uppercase();
        let kind = kind.trim_end_matches(" Z").trim();
        let body = &t[open..];
        let inner = groups(body, what)?;
        let [inner] = inner.as_slice() else {
            return Err(bad(format!(
                "{what}: expected one parenthesised body after {kind}"
            )));
        };
        match kind {
            "POINT" => {
                let (x, y) = wkt_point(inner, what)?;
                Ok(Geometry::Point(x, y))
            }
            "MULTIPOINT" => {
                let pts = if inner.contains('(') {
                    groups(inner, what)?
                        .iter()
                        .map(|p| wkt_point(p, what))
                        .collect::<Result<Vec<_>>>()?
                } else {
                    inner
                        .split(',')
                        .map(|p| wkt_point(p, what))
                        .collect::<Result<Vec<_>>>()?
                };
                if pts.is_empty() {
                    return Err(bad(format!("{what}: MULTIPOINT has no points")));
                }
                Ok(Geometry::MultiPoint(pts))
            }
            "POLYGON" => {
                let rings = groups(inner, what)?
                    .iter()
                    .map(|r| ring(r, what))
                    .collect::<Result<Vec<_>>>()?;
                Ok(Geometry::Polygons(vec![rings]))
            }
            "MULTIPOLYGON" => {
                let polys = groups(inner, what)?
                    .iter()
                    .map(|p| {
                        groups(p, what)?
                            .iter()
                            .map(|r| ring(r, what))
                            .collect::<Result<Vec<_>>>()
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(Geometry::Polygons(polys))
            }
            other => Err(bad(format!(
                "{what}: unsupported WKT type '{other}'; use POINT, MULTIPOINT, POLYGON or MULTIPOLYGON"
            ))),
        }
    }

    /// Parse `west,south,east,north`.
    pub fn from_bbox(text: &str) -> Result<Geometry> {
        let v = text
            .split(',')
            .map(|s| number(s, "bbox"))
            .collect::<Result<Vec<_>>>()?;
        let [w, s, e, n] = v[..] else {
            return Err(bad(format!(
                "bbox '{text}' must be west,south,east,north in degrees"
            )));
        };
        check_lonlat((w, s), "bbox")?;
        check_lonlat((e, n), "bbox")?;
        if s > n {
            return Err(bad(format!("bbox '{text}': south {s} is above north {n}")));
        }
        Ok(Geometry::Bbox([w, s, e, n]))
    }

    /// Parse a GeoJSON geometry (Point, MultiPoint, Polygon, MultiPolygon), or
    /// a Feature holding one.
    pub fn from_geojson(v: &Value) -> Result<Geometry> {
        let what = "geometry";
        let v = if v.get("type").and_then(Value::as_str) == Some("Feature") {
            v.get("geometry")
                .ok_or_else(|| bad("geometry: the Feature has no geometry"))?
        } else {
            v
        };
        let pos = |p: &Value| -> Result<(f64, f64)> {
            let a = p.as_array().filter(|a| a.len() >= 2).ok_or_else(|| {
                bad(format!(
                    "{what}: a position is [longitude, latitude], got {p}"
                ))
            })?;
            let x = a[0]
                .as_f64()
                .ok_or_else(|| bad(format!("{what}: {p} is not numeric")))?;
            let y = a[1]
                .as_f64()
                .ok_or_else(|| bad(format!("{what}: {p} is not numeric")))?;
            check_lonlat((x, y), what)
        };
        let ring = |r: &Value| -> Result<Vec<(f64, f64)>> {
            let pts = r
                .as_array()
                .ok_or_else(|| bad(format!("{what}: a ring is an array of positions")))?
                .iter()
                .map(pos)
                .collect::<Result<Vec<_>>>()?;
            if pts.len() < 4 || pts.first() != pts.last() {
                return Err(bad(format!(
                    "{what}: a polygon ring needs at least 4 positions, the last equal to the first"
                )));
            }
            Ok(pts)
        };
        let poly = |p: &Value| -> Result<Vec<Vec<(f64, f64)>>> {
            p.as_array()
                .ok_or_else(|| bad(format!("{what}: a polygon is an array of rings")))?
                .iter()
                .map(ring)
                .collect()
        };
        let coords = v
            .get("coordinates")
            .ok_or_else(|| bad(format!("{what}: not a GeoJSON geometry (no coordinates)")))?;
        match v.get("type").and_then(Value::as_str) {
            Some("Point") => {
                let (x, y) = pos(coords)?;
                Ok(Geometry::Point(x, y))
            }
            Some("MultiPoint") => Ok(Geometry::MultiPoint(
                coords
                    .as_array()
                    .ok_or_else(|| bad(format!("{what}: MultiPoint coordinates are an array")))?
                    .iter()
                    .map(pos)
                    .collect::<Result<Vec<_>>>()?,
            )),
            Some("Polygon") => Ok(Geometry::Polygons(vec![poly(coords)?])),
            Some("MultiPolygon") => Ok(Geometry::Polygons(
                coords
                    .as_array()
                    .ok_or_else(|| bad(format!("{what}: MultiPolygon coordinates are an array")))?
                    .iter()
                    .map(poly)
                    .collect::<Result<Vec<_>>>()?,
            )),
            other => Err(bad(format!(
                "{what}: unsupported GeoJSON type {other:?}; use Point, MultiPoint, Polygon or MultiPolygon"
            ))),
        }
    }

    /// The envelope `[west, south, east, north]`.
    pub fn bbox(&self) -> [f64; 4] {
        let pts: Vec<(f64, f64)> = match self {
            Geometry::Point(x, y) => vec![(*x, *y)],
            Geometry::MultiPoint(p) => p.clone(),
            Geometry::Bbox(b) => return *b,
            Geometry::Polygons(p) => p.iter().flat_map(|r| r[0].iter().copied()).collect(),
        };
        let mut b = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for (x, y) in pts {
            b[0] = b[0].min(x);
            b[1] = b[1].min(y);
            b[2] = b[2].max(x);
            b[3] = b[3].max(y);
        }
        b
    }

    /// True when `(lon, lat)` is inside (boxes include their edges; polygons
    /// by the even-odd rule, holes excluded). Points contain nothing.
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        match self {
            Geometry::Bbox([w, s, e, n]) => {
                let in_lon = if w <= e {
                    lon >= *w && lon <= *e
                } else {
                    lon >= *w || lon <= *e
                };
                in_lon && lat >= *s && lat <= *n
            }
            Geometry::Polygons(polys) => polys
                .iter()
                .any(|rings| rings.iter().filter(|r| in_ring(r, lon, lat)).count() % 2 == 1),
            _ => false,
        }
    }

    /// The WKT text of the geometry (for echoing back).
    pub fn to_geojson(&self) -> Value {
        let ring = |r: &Vec<(f64, f64)>| -> Value {
            Value::Array(r.iter().map(|(x, y)| serde_json::json!([x, y])).collect())
        };
        match self {
            Geometry::Point(x, y) => serde_json::json!({"type": "Point", "coordinates": [x, y]}),
            Geometry::MultiPoint(p) => serde_json::json!({"type": "MultiPoint",
                "coordinates": p.iter().map(|(x, y)| serde_json::json!([x, y])).collect::<Vec<_>>()}),
            Geometry::Bbox([w, s, e, n]) => serde_json::json!({"type": "Polygon",
                "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}),
            Geometry::Polygons(p) => serde_json::json!({"type": "MultiPolygon",
                "coordinates": p.iter().map(|rings| rings.iter().map(ring).collect::<Vec<_>>()).collect::<Vec<_>>()}),
        }
    }
}

fn in_ring(ring: &[(f64, f64)], x: f64, y: f64) -> bool {
    let mut inside = false;
    let n = ring.len();
    let mut j = n - 1;
    for i in 0..n {
        let (xi, yi) = ring[i];
        let (xj, yj) = ring[j];
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wkt_points_multipoints_and_polygons_parse() {
        assert_eq!(
            Geometry::from_wkt("POINT(10.5 45.2)").unwrap(),
            Geometry::Point(10.5, 45.2)
        );
        assert_eq!(
            Geometry::from_wkt("MULTIPOINT((1 2), (3 4))").unwrap(),
            Geometry::MultiPoint(vec![(1.0, 2.0), (3.0, 4.0)])
        );
        assert_eq!(
            Geometry::from_wkt("multipoint(1 2, 3 4)").unwrap(),
            Geometry::MultiPoint(vec![(1.0, 2.0), (3.0, 4.0)])
        );
        let p =
            Geometry::from_wkt("POLYGON((0 0, 10 0, 10 10, 0 10, 0 0), (4 4, 6 4, 6 6, 4 6, 4 4))")
                .unwrap();
        assert!(p.contains(2.0, 2.0));
        assert!(!p.contains(5.0, 5.0), "the hole is outside");
        assert!(!p.contains(11.0, 5.0));
        assert_eq!(p.bbox(), [0.0, 0.0, 10.0, 10.0]);
    }

    #[test]
    fn malformed_wkt_says_what_is_expected() {
        for bad in [
            "POINT(10.5)",
            "POINT 10 20",
            "POLYGON((0 0, 1 1, 0 0))",
            "LINESTRING(0 0, 1 1)",
            "POINT(1 2",
            "POINT(200 95)",
        ] {
            let e = Geometry::from_wkt(bad).unwrap_err();
            assert!(e.is_client_error(), "{bad}: {e}");
        }
    }

    #[test]
    fn boxes_across_the_antimeridian_contain_both_sides() {
        let b = Geometry::from_bbox("170,-10,-170,10").unwrap();
        assert!(b.contains(175.0, 0.0) && b.contains(-175.0, 0.0));
        assert!(!b.contains(0.0, 0.0));
        assert!(Geometry::from_bbox("0,10,1,5").is_err());
    }

    #[test]
    fn geojson_polygons_parse() {
        let v = serde_json::json!({"type": "Polygon", "coordinates": [[[0,0],[2,0],[2,2],[0,2],[0,0]]]});
        let g = Geometry::from_geojson(&v).unwrap();
        assert!(g.contains(1.0, 1.0));
        assert!(Geometry::from_geojson(
            &serde_json::json!({"type": "LineString", "coordinates": []})
        )
        .is_err());
    }
}
