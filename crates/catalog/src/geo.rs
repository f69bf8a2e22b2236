//! Footprints in EPSG:4326 longitude/latitude: a bbox and a GeoJSON geometry,
//! with the antimeridian and pole rules of STAC and RFC 7946.
//!
//! * A footprint crossing the antimeridian gets a bbox with west > east and a
//!   `MultiPolygon` split at ±180°.
//! * A footprint spanning all longitudes gets west = -180, east = 180.
//! * A boundary ring that winds around a pole covers that pole: all longitudes,
//!   and latitude up to ±90°.
//!
//! Longitudes may come in any convention (0..360, -180..180, unwrapped); they
//! are unwrapped along the ring (consecutive points are taken to be less than
//! 180° apart) and normalised at the end.

use serde_json::{json, Value};

/// A bbox `[west, south, east, north]` and the matching GeoJSON geometry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Footprint {
    pub bbox: [f64; 4],
    pub geometry: Value,
}

/// `b - a` wrapped into (-180, 180].
pub(crate) fn delta(a: f64, b: f64) -> f64 {
    let d = (b - a).rem_euclid(360.0);
    if d > 180.0 {
        d - 360.0
    } else {
        d
    }
}

/// `lon` in [-180, 180) (unchanged, bit for bit, when it already is).
pub(crate) fn wrap_west(lon: f64) -> f64 {
    if (-180.0..180.0).contains(&lon) {
        return lon;
    }
    (lon + 180.0).rem_euclid(360.0) - 180.0
}

/// `lon` shifted by a whole number of turns to lie within 180° of `near`
/// (unchanged, bit for bit, when it already does).
pub(crate) fn unwrap_near(near: f64, lon: f64) -> f64 {
    let turns = ((near - lon) / 360.0).round();
    if turns == 0.0 {
        lon
    } else {
        lon + 360.0 * turns
    }
}

/// `lon` in (-180, 180] (an east edge at exactly 180 stays 180).
pub(crate) fn wrap_east(lon: f64) -> f64 {
    let w = wrap_west(lon);
    if w == -180.0 && lon > -180.0 {
        180.0
    } else {
        w
    }
}

fn clamp_lat(lat: f64) -> f64 {
    lat.clamp(-90.0, 90.0)
}

fn rect_ring(w: f64, e: f64, s: f64, n: f64) -> Vec<[f64; 2]> {
    vec![[w, s], [e, s], [e, n], [w, n], [w, s]]
}

fn polygon(ring: Vec<[f64; 2]>) -> Value {
    json!({ "type": "Polygon", "coordinates": [ring] })
}

fn multipolygon(rings: Vec<Vec<[f64; 2]>>) -> Value {
    let polys: Vec<Value> = rings.into_iter().map(|r| json!([r])).collect();
    json!({ "type": "MultiPolygon", "coordinates": polys })
}

/// The footprint of the lon/lat rectangle from `w` to `e` (unwrapped, `w <= e`)
/// and from `s` to `n`.
pub(crate) fn rect_footprint(w: f64, e: f64, s: f64, n: f64) -> Footprint {
    let (s, n) = (clamp_lat(s.min(n)), clamp_lat(s.max(n)));
    if e - w >= 360.0 - 1e-9 {
        return Footprint {
            bbox: [-180.0, s, 180.0, n],
            geometry: polygon(rect_ring(-180.0, 180.0, s, n)),
        };
    }
    let shift = 360.0 * ((w + 180.0) / 360.0).floor();
    let (w, e) = if shift == 0.0 {
        (w, e)
    } else {
        (w - shift, e - shift)
    };
    if e <= 180.0 {
        return Footprint {
            bbox: [w, s, e, n],
            geometry: polygon(rect_ring(w, e, s, n)),
        };
    }
    Footprint {
        bbox: [w, s, e - 360.0, n],
        geometry: multipolygon(vec![
            rect_ring(w, 180.0, s, n),
            rect_ring(-180.0, e - 360.0, s, n),
        ]),
    }
}

/// Signed area (shoelace) of a closed or open ring: positive when counterclockwise.
fn signed_area(ring: &[[f64; 2]]) -> f64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let [x0, y0] = ring[i];
            let [x1, y1] = ring[(i + 1) % n];
            x0 * y1 - x1 * y0
        })
        .sum::<f64>()
        / 2.0
}

/// Close a ring and make it counterclockwise (RFC 7946 exterior rings).
fn close_ccw(mut ring: Vec<[f64; 2]>) -> Vec<[f64; 2]> {
    ring.dedup();
    if ring.len() > 1 && ring.first() == ring.last() {
        ring.pop();
    }
    if signed_area(&ring) < 0.0 {
        ring.reverse();
    }
    if let Some(first) = ring.first().copied() {
        ring.push(first);
    }
    ring
}

/// Sutherland–Hodgman clip of an open ring to `x <= limit` (`keep_left`) or `x >= limit`.
fn clip(ring: &[[f64; 2]], limit: f64, keep_left: bool) -> Vec<[f64; 2]> {
    let inside = |p: &[f64; 2]| {
        if keep_left {
            p[0] <= limit
        } else {
            p[0] >= limit
        }
    };
    let cross = |p: &[f64; 2], q: &[f64; 2]| {
        let t = (limit - p[0]) / (q[0] - p[0]);
        [limit, p[1] + t * (q[1] - p[1])]
    };
    let mut out = Vec::new();
    let n = ring.len();
    for i in 0..n {
        let p = &ring[i];
        let q = &ring[(i + 1) % n];
        match (inside(p), inside(q)) {
            (true, true) => out.push(*q),
            (true, false) => out.push(cross(p, q)),
            (false, true) => {
                out.push(cross(p, q));
                out.push(*q);
            }
            (false, false) => {}
        }
    }
    out
}

/// The footprint of the region enclosed by a boundary ring of (lon, lat)
/// points (open or closed, any longitude convention). `None` when fewer than
/// one finite point remains.
pub(crate) fn ring_footprint(points: &[(f64, f64)]) -> Option<Footprint> {
    let pts: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let first = *pts.first()?;
    let mut unwrapped: Vec<[f64; 2]> = Vec::with_capacity(pts.len());
    let mut u = first.0;
    for &(x, y) in &pts {
        u = unwrap_near(u, x);
        unwrapped.push([u, clamp_lat(y)]);
    }
    let prev = pts[pts.len() - 1].0;
    let s = unwrapped.iter().map(|p| p[1]).fold(f64::INFINITY, f64::min);
    let n = unwrapped
        .iter()
        .map(|p| p[1])
        .fold(f64::NEG_INFINITY, f64::max);
    if unwrapped.len() == 1 || (s == n && unwrapped.iter().all(|p| p[0] == unwrapped[0][0])) {
        let lon = wrap_east(unwrapped[0][0]);
        return Some(point_footprint(lon, s));
    }
    let last = unwrapped[unwrapped.len() - 1][0];
    let winding = last - unwrapped[0][0] + delta(prev, first.0);
    if winding.abs() > 180.0 {
        // The ring goes around a pole: the region holds it.
        let mean = unwrapped.iter().map(|p| p[1]).sum::<f64>() / unwrapped.len() as f64;
        return Some(if mean >= 0.0 {
            rect_footprint(-180.0, 180.0, s, 90.0)
        } else {
            rect_footprint(-180.0, 180.0, -90.0, n)
        });
    }
    let w = unwrapped.iter().map(|p| p[0]).fold(f64::INFINITY, f64::min);
    let e = unwrapped
        .iter()
        .map(|p| p[0])
        .fold(f64::NEG_INFINITY, f64::max);
    if e - w >= 360.0 - 1e-9 {
        return Some(rect_footprint(w, e, s, n));
    }
    let shift = 360.0 * ((w + 180.0) / 360.0).floor();
    let ring: Vec<[f64; 2]> = if shift == 0.0 {
        unwrapped.clone()
    } else {
        unwrapped.iter().map(|p| [p[0] - shift, p[1]]).collect()
    };
    let (w, e) = if shift == 0.0 {
        (w, e)
    } else {
        (w - shift, e - shift)
    };
    if e <= 180.0 {
        return Some(Footprint {
            bbox: [w, s, e, n],
            geometry: polygon(close_ccw(ring)),
        });
    }
    let west_part = clip(&ring, 180.0, true);
    let east_part: Vec<[f64; 2]> = clip(&ring, 180.0, false)
        .into_iter()
        .map(|p| [p[0] - 360.0, p[1]])
        .collect();
    Some(Footprint {
        bbox: [w, s, e - 360.0, n],
        geometry: multipolygon(vec![close_ccw(west_part), close_ccw(east_part)]),
    })
}

/// A single position.
pub(crate) fn point_footprint(lon: f64, lat: f64) -> Footprint {
    let lon = wrap_east(lon);
    Footprint {
        bbox: [lon, lat, lon, lat],
        geometry: json!({ "type": "Point", "coordinates": [lon, lat] }),
    }
}

/// The longitude interval `(west, east)` covering `lons` (any convention):
/// the complement of the largest gap between them on the circle. `east` may
/// exceed 180 (the interval crosses the antimeridian); `None` when empty.
pub(crate) fn lon_cover(lons: &[f64]) -> Option<(f64, f64)> {
    let mut v: Vec<f64> = lons
        .iter()
        .copied()
        .filter(|x| x.is_finite())
        .map(wrap_west)
        .collect();
    v.sort_by(f64::total_cmp);
    v.dedup();
    let first = *v.first()?;
    let last = *v.last()?;
    // The wrap gap, from the last value round to the first.
    let mut best = (first + 360.0 - last, first, last);
    for pair in v.windows(2) {
        let gap = pair[1] - pair[0];
        if gap > best.0 {
            best = (gap, pair[1], pair[0] + 360.0);
        }
    }
    Some((best.1, best.2))
}

/// Positions leaving no longitude gap wider than this (degrees) cover all
/// longitudes.
pub(crate) const GLOBAL_GAP: f64 = 10.0;

/// The footprint of scattered positions: a point, a line when the positions
/// lie on one parallel or meridian, all longitudes when no gap between them
/// exceeds [`GLOBAL_GAP`], else their envelope rectangle.
pub(crate) fn points_footprint(points: &[(f64, f64)]) -> Option<Footprint> {
    let pts: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let lons: Vec<f64> = pts.iter().map(|p| p.0).collect();
    let (w, e) = lon_cover(&lons)?;
    let s = clamp_lat(pts.iter().map(|p| p.1).fold(f64::INFINITY, f64::min));
    let n = clamp_lat(pts.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max));
    if w == e && s == n {
        return Some(point_footprint(w, s));
    }
    if e - w >= 360.0 - GLOBAL_GAP {
        // Positions all round the globe (a reduced Gaussian grid, a global
        // swath): cover every longitude.
        return Some(rect_footprint(-180.0, 180.0, s, n));
    }
    if (w == e || s == n) && e <= 180.0 {
        return Some(Footprint {
            bbox: [w, s, e, n],
            geometry: json!({ "type": "LineString", "coordinates": [[w, s], [e, n]] }),
        });
    }
    Some(rect_footprint(w, e, s, n))
}

/// The smallest bbox (antimeridian aware) holding every bbox of `boxes`.
pub(crate) fn union_bbox(boxes: &[[f64; 4]]) -> Option<[f64; 4]> {
    let s = boxes.iter().map(|b| b[1]).fold(f64::INFINITY, f64::min);
    let n = boxes.iter().map(|b| b[3]).fold(f64::NEG_INFINITY, f64::max);
    // Longitude arcs [start, end] with start in [-180, 180) and end >= start.
    let mut arcs: Vec<(f64, f64)> = Vec::new();
    for b in boxes {
        let w = b[0];
        let mut e = b[2];
        if e < w {
            e += 360.0;
        }
        if e - w >= 360.0 - 1e-9 {
            return Some([-180.0, s, 180.0, n]);
        }
        let shift = 360.0 * ((w + 180.0) / 360.0).floor();
        arcs.push(if shift == 0.0 {
            (w, e)
        } else {
            (w - shift, e - shift)
        });
    }
    arcs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut merged: Vec<(f64, f64)> = Vec::new();
    for (a, b) in arcs {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    // An arc reaching past +180 may overlap the first arcs (wrapped).
    while merged.len() > 1 {
        let last_end = merged[merged.len() - 1].1;
        if last_end - 360.0 >= merged[0].0 {
            let (a0, b0) = merged.remove(0);
            let idx = merged.len() - 1;
            merged[idx].1 = merged[idx].1.max(b0 + 360.0);
            let _ = a0;
        } else {
            break;
        }
    }
    let first = *merged.first()?;
    let last = *merged.last()?;
    if last.1 - first.0 >= 360.0 - 1e-9 && merged.len() == 1 {
        return Some([-180.0, s, 180.0, n]);
    }
    // The largest gap between arcs (including the wrap gap) is left out.
    let mut best = (first.0 + 360.0 - last.1, first.0, last.1);
    for pair in merged.windows(2) {
        let gap = pair[1].0 - pair[0].1;
        if gap > best.0 {
            best = (gap, pair[1].0, pair[0].1 + 360.0);
        }
    }
    if best.0 <= 0.0 {
        return Some([-180.0, s, 180.0, n]);
    }
    Some([wrap_west(best.1), s, wrap_east(best.2), n])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_rectangle_across_the_antimeridian_is_split_in_two() {
        let f = rect_footprint(170.0, 190.0, -10.0, 10.0);
        assert_eq!(f.bbox, [170.0, -10.0, -170.0, 10.0]);
        assert_eq!(f.geometry["type"], "MultiPolygon");
        assert_eq!(f.geometry["coordinates"][0][0][1], json!([180.0, -10.0]));
        assert_eq!(f.geometry["coordinates"][1][0][0], json!([-180.0, -10.0]));
    }

    #[test]
    fn longitudes_from_0_to_360_are_normalised() {
        let f = rect_footprint(200.0, 250.0, 0.0, 5.0);
        assert_eq!(f.bbox, [-160.0, 0.0, -110.0, 5.0]);
        let f = rect_footprint(-1.5, 358.5, -91.5, 91.5);
        assert_eq!(f.bbox, [-180.0, -90.0, 180.0, 90.0]);
    }

    #[test]
    fn a_ring_around_the_north_pole_covers_it() {
        let ring: Vec<(f64, f64)> = (0..36).map(|i| (i as f64 * 10.0, 60.0)).collect();
        let f = ring_footprint(&ring).unwrap();
        assert_eq!(f.bbox, [-180.0, 60.0, 180.0, 90.0]);
    }

    #[test]
    fn a_ring_across_the_antimeridian_becomes_a_multipolygon() {
        let ring = [(170.0, 0.0), (-170.0, 0.0), (-170.0, 10.0), (170.0, 10.0)];
        let f = ring_footprint(&ring).unwrap();
        assert_eq!(f.bbox, [170.0, 0.0, -170.0, 10.0]);
        assert_eq!(f.geometry["type"], "MultiPolygon");
        let ring = [(10.0, 0.0), (20.0, 0.0), (20.0, 10.0), (10.0, 10.0)];
        let f = ring_footprint(&ring).unwrap();
        assert_eq!(f.bbox, [10.0, 0.0, 20.0, 10.0]);
        // Counterclockwise whatever the input order.
        let ring_cw = [(10.0, 0.0), (10.0, 10.0), (20.0, 10.0), (20.0, 0.0)];
        let g = ring_footprint(&ring_cw).unwrap();
        assert_eq!(g.geometry["coordinates"][0][1], json!([20.0, 10.0]));
    }

    #[test]
    fn scattered_points_take_the_complement_of_the_largest_gap() {
        assert_eq!(lon_cover(&[175.0, -175.0, 179.0]), Some((175.0, 185.0)));
        assert_eq!(lon_cover(&[10.0, 20.0, 15.0]), Some((10.0, 20.0)));
        let f = points_footprint(&[(5.0, 1.0), (5.0, 1.0)]).unwrap();
        assert_eq!(f.geometry["type"], "Point");
        let ring: Vec<(f64, f64)> = (0..72).map(|i| (i as f64 * 5.0, (i % 7) as f64)).collect();
        assert_eq!(
            points_footprint(&ring).unwrap().bbox,
            [-180.0, 0.0, 180.0, 6.0]
        );
        let sparse = [(0.0, 0.0), (100.0, 1.0), (200.0, 2.0)];
        assert_eq!(
            points_footprint(&sparse).unwrap().bbox,
            [0.0, 0.0, -160.0, 2.0]
        );
    }

    #[test]
    fn bbox_unions_respect_the_antimeridian() {
        let u = union_bbox(&[[170.0, 0.0, -170.0, 1.0], [-175.0, -5.0, -160.0, 0.0]]).unwrap();
        assert_eq!(u, [170.0, -5.0, -160.0, 1.0]);
        let u = union_bbox(&[[0.0, 0.0, 10.0, 1.0], [20.0, 0.0, 30.0, 1.0]]).unwrap();
        assert_eq!(u, [0.0, 0.0, 30.0, 1.0]);
        let u = union_bbox(&[[-180.0, 0.0, 180.0, 1.0], [20.0, 0.0, 30.0, 1.0]]).unwrap();
        assert_eq!(u, [-180.0, 0.0, 180.0, 1.0]);
    }
}
