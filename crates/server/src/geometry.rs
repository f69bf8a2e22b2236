//! GeoJSON geometries (as `serde_json::Value`) to `geo` geometries, and
//! bounding boxes in longitude/latitude that may cross the antimeridian.

use geo::{
    Coord, Geometry, GeometryCollection, LineString, MultiLineString, MultiPoint, MultiPolygon,
    Point, Polygon,
};
use serde_json::Value;

/// A 2D bounding box `[west, south, east, north]`; `west > east` crosses the
/// antimeridian.
pub type Bbox = [f64; 4];

/// Read a GeoJSON geometry object into a `geo` geometry. The error says what
/// is wrong and where (`coordinates[0][3]`).
pub fn from_geojson(v: &Value) -> Result<Geometry<f64>, String> {
    let obj = v
        .as_object()
        .ok_or_else(|| "a GeoJSON geometry must be a JSON object".to_string())?;
    let ty = obj
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| "a GeoJSON geometry needs a string member \"type\"".to_string())?;
    if ty == "GeometryCollection" {
        let geoms = obj
            .get("geometries")
            .and_then(Value::as_array)
            .ok_or_else(|| "a GeometryCollection needs an array \"geometries\"".to_string())?;
        let parts = geoms
            .iter()
            .enumerate()
            .map(|(i, g)| from_geojson(g).map_err(|e| format!("geometries[{i}]: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Geometry::GeometryCollection(GeometryCollection(parts)));
    }
    let c = obj
        .get("coordinates")
        .ok_or_else(|| format!("a GeoJSON {ty} needs a member \"coordinates\""))?;
    let at = "coordinates";
    Ok(match ty {
        "Point" => Geometry::Point(Point(position(c, at)?)),
        "MultiPoint" => Geometry::MultiPoint(MultiPoint(
            positions(c, at)?.into_iter().map(Point).collect(),
        )),
        "LineString" => Geometry::LineString(line(c, at, 2)?),
        "MultiLineString" => Geometry::MultiLineString(MultiLineString(
            array(c, at)?
                .iter()
                .enumerate()
                .map(|(i, l)| line(l, &format!("{at}[{i}]"), 2))
                .collect::<Result<_, _>>()?,
        )),
        "Polygon" => Geometry::Polygon(polygon(c, at)?),
        "MultiPolygon" => Geometry::MultiPolygon(MultiPolygon(
            array(c, at)?
                .iter()
                .enumerate()
                .map(|(i, p)| polygon(p, &format!("{at}[{i}]")))
                .collect::<Result<_, _>>()?,
        )),
        other => {
            return Err(format!(
                "unknown GeoJSON geometry type '{other}'; use Point, MultiPoint, LineString, \
                 MultiLineString, Polygon, MultiPolygon or GeometryCollection"
            ))
        }
    })
}

fn array<'a>(v: &'a Value, at: &str) -> Result<&'a Vec<Value>, String> {
    v.as_array().ok_or_else(|| format!("{at} must be an array"))
}

fn position(v: &Value, at: &str) -> Result<Coord<f64>, String> {
    let a = array(v, at)?;
    if a.len() < 2 {
        return Err(format!("{at} must be a position [x, y] (or [x, y, z])"));
    }
    let x = a[0].as_f64();
    let y = a[1].as_f64();
    match (x, y) {
        (Some(x), Some(y)) if x.is_finite() && y.is_finite() => Ok(Coord { x, y }),
        _ => Err(format!("{at} must hold numbers")),
    }
}

fn positions(v: &Value, at: &str) -> Result<Vec<Coord<f64>>, String> {
    array(v, at)?
        .iter()
        .enumerate()
        .map(|(i, p)| position(p, &format!("{at}[{i}]")))
        .collect()
}

fn line(v: &Value, at: &str, min: usize) -> Result<LineString<f64>, String> {
    let pts = positions(v, at)?;
    if pts.len() < min {
        return Err(format!("{at} needs at least {min} positions"));
    }
    Ok(LineString(pts))
}

fn polygon(v: &Value, at: &str) -> Result<Polygon<f64>, String> {
    let rings = array(v, at)?;
    let mut out = Vec::with_capacity(rings.len());
    for (i, r) in rings.iter().enumerate() {
        let ring_at = format!("{at}[{i}]");
        let ring = line(r, &ring_at, 4)?;
        if ring.0.first() != ring.0.last() {
            return Err(format!(
                "{ring_at} is not closed: a linear ring ends at the position it starts from"
            ));
        }
        out.push(ring);
    }
    let mut it = out.into_iter();
    let exterior = it
        .next()
        .ok_or_else(|| format!("{at} needs at least one linear ring"))?;
    Ok(Polygon::new(exterior, it.collect()))
}

/// The bounding box of a geometry (never crossing the antimeridian), or
/// `None` for an empty one.
pub fn envelope(g: &Geometry<f64>) -> Option<Bbox> {
    use geo::BoundingRect;
    g.bounding_rect()
        .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y])
}

/// Read an item's or a request's `bbox` array (4 or 6 numbers) as a 2D box.
pub fn bbox_from_json(v: &Value) -> Option<Bbox> {
    let a = v.as_array()?;
    let n: Vec<f64> = a.iter().map(Value::as_f64).collect::<Option<_>>()?;
    match n.as_slice() {
        [w, s, e, nn] => Some([*w, *s, *e, *nn]),
        [w, s, _, e, nn, _] => Some([*w, *s, *e, *nn]),
        _ => None,
    }
}

/// Split a box that crosses the antimeridian into its two halves.
pub fn split(b: &Bbox) -> ([f64; 4], Option<[f64; 4]>) {
    if b[0] > b[2] {
        ([b[0], b[1], 180.0, b[3]], Some([-180.0, b[1], b[2], b[3]]))
    } else {
        (*b, None)
    }
}

/// Whether two boxes (either may cross the antimeridian) share a point.
pub fn bbox_intersects(a: &Bbox, b: &Bbox) -> bool {
    let (a1, a2) = split(a);
    let (b1, b2) = split(b);
    let plain =
        |x: &[f64; 4], y: &[f64; 4]| x[0] <= y[2] && x[2] >= y[0] && x[1] <= y[3] && x[3] >= y[1];
    plain(&a1, &b1)
        || a2.is_some_and(|a2| plain(&a2, &b1))
        || b2.is_some_and(|b2| plain(&a1, &b2))
        || matches!((a2, b2), (Some(x), Some(y)) if plain(&x, &y))
}

/// Whether box `outer` (may cross the antimeridian) contains box `inner`
/// (which does not).
pub fn bbox_contains(outer: &Bbox, inner: &Bbox) -> bool {
    let (a, b) = split(outer);
    let within =
        |o: &[f64; 4]| o[0] <= inner[0] && inner[2] <= o[2] && o[1] <= inner[1] && inner[3] <= o[3];
    inner[0] <= inner[2] && (within(&a) || b.is_some_and(|b| within(&b)))
}

/// A box as a polygon (the two halves as a multipolygon when it crosses the
/// antimeridian), to test exact intersection with geometries.
pub fn bbox_geometry(b: &Bbox) -> Geometry<f64> {
    let rect = |x: [f64; 4]| {
        geo::Rect::new(Coord { x: x[0], y: x[1] }, Coord { x: x[2], y: x[3] }).to_polygon()
    };
    match split(b) {
        (one, None) => Geometry::Polygon(rect(one)),
        (one, Some(two)) => Geometry::MultiPolygon(MultiPolygon(vec![rect(one), rect(two)])),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn every_geojson_type_reads() {
        for g in [
            json!({"type": "Point", "coordinates": [100.0, 0.0]}),
            json!({"type": "LineString", "coordinates": [[100.0, 0.0], [101.0, 1.0]]}),
            json!({"type": "Polygon", "coordinates": [[[100.0, 0.0], [101.0, 0.0], [101.0, 1.0], [100.0, 0.0]]]}),
            json!({"type": "MultiPoint", "coordinates": [[100.0, 0.0], [101.0, 1.0]]}),
            json!({"type": "MultiLineString", "coordinates": [[[100.0, 0.0], [101.0, 1.0]]]}),
            json!({"type": "MultiPolygon", "coordinates": [[[[102.0, 2.0], [103.0, 2.0], [103.0, 3.0], [102.0, 2.0]]]]}),
            json!({"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [1, 2]}]}),
        ] {
            assert!(from_geojson(&g).is_ok(), "{g}");
        }
    }

    #[test]
    fn an_open_ring_is_refused_with_its_path() {
        let g = json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]});
        let err = from_geojson(&g).unwrap_err();
        assert!(err.contains("coordinates[0]"), "{err}");
    }

    #[test]
    fn boxes_crossing_the_antimeridian_intersect_both_sides() {
        let across = [170.0, -10.0, -170.0, 10.0];
        assert!(bbox_intersects(&across, &[175.0, 0.0, 176.0, 1.0]));
        assert!(bbox_intersects(&across, &[-175.0, 0.0, -174.0, 1.0]));
        assert!(!bbox_intersects(&across, &[0.0, 0.0, 1.0, 1.0]));
    }
}
