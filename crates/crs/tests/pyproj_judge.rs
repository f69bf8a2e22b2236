//! Interop judge: arco-crs against pyproj (PROJ), point by point.
//!
//! For every supported CF grid mapping (on spheres and ellipsoids, both
//! hemispheres, every aspect) and every EPSG code arco knows, a grid of
//! points goes through `pyproj.CRS.from_cf(attrs)` (or `CRS.from_epsg`) and
//! through arco; they must agree to 1 mm in projected metres and 1e-7° in
//! degrees, both ways. pyproj must also read arco's WKT2 as the same CRS,
//! and arco must read pyproj's WKT2, WKT1 and PROJ string as the same CRS.
//!
//! pyproj comes from `$ARCO_PEERS_VENV` (default `<repo>/.peers-venv`,
//! made by `scripts/setup-peers.sh`). Without it the test prints a line and
//! passes, unless `ARCO_REQUIRE_PEERS=1`, where it fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arco_core::{AttrValue, Attribute, DType, Values};
use arco_crs::Crs;
use serde_json::{json, Map, Value};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// 1 mm in projected metres.
const TOL_M: f64 = 1e-3;
/// In degrees.
const TOL_DEG: f64 = 1e-7;

fn python() -> Option<PathBuf> {
    let venv = std::env::var_os("ARCO_PEERS_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.peers-venv"));
    let py = venv.join("bin").join("python");
    let ok = py.exists()
        && Command::new(&py)
            .args(["-c", "import pyproj"])
            .status()
            .is_ok_and(|s| s.success());
    if ok {
        return Some(py);
    }
    let msg = format!(
        "python with pyproj not found at {} (run scripts/setup-peers.sh)",
        py.display()
    );
    if std::env::var("ARCO_REQUIRE_PEERS").as_deref() == Ok("1") {
        panic!("{msg} and ARCO_REQUIRE_PEERS=1");
    }
    eprintln!("skipped: {msg}");
    None
}

#[derive(Clone)]
enum V {
    S(&'static str),
    N(f64),
    L(&'static [f64]),
}

struct Case {
    name: String,
    /// CF attributes, or empty for an EPSG case.
    attrs: Vec<(&'static str, V)>,
    epsg: Option<u32>,
    /// The EPSG code arco should report.
    expect_epsg: Option<u32>,
    lon: (f64, f64),
    lat: (f64, f64),
    /// Projected coordinates in degrees (geographic and rotated pole).
    angular: bool,
}

fn cf(
    name: &str,
    attrs: &[(&'static str, V)],
    lon: (f64, f64),
    lat: (f64, f64),
    expect_epsg: Option<u32>,
) -> Case {
    let angular = attrs.iter().any(|(k, v)| {
        *k == "grid_mapping_name"
            && matches!(v, V::S("latitude_longitude" | "rotated_latitude_longitude"))
    });
    Case {
        name: name.to_string(),
        attrs: attrs.to_vec(),
        epsg: None,
        expect_epsg,
        lon,
        lat,
        angular,
    }
}

fn epsg(code: u32, lon: (f64, f64), lat: (f64, f64)) -> Case {
    Case {
        name: format!("EPSG:{code}"),
        attrs: Vec::new(),
        epsg: Some(code),
        expect_epsg: Some(code),
        lon,
        lat,
        angular: matches!(
            code,
            4326 | 4258
                | 4269
                | 4171
                | 4283
                | 4277
                | 4267
                | 4674
                | 7844
                | 4167
                | 4230
                | 4322
                | 4314
                | 4284
        ),
    }
}

fn cf_cases() -> Vec<Case> {
    use V::{L, N, S};
    let gm = |n: &'static str| ("grid_mapping_name", S(n));
    let wgs84 = [
        ("semi_major_axis", N(6_378_137.0)),
        ("inverse_flattening", N(298.257_223_563)),
    ];
    let grs80 = [
        ("semi_major_axis", N(6_378_137.0)),
        ("inverse_flattening", N(298.257_222_101)),
    ];
    let with = |base: &[(&'static str, V)], more: &[(&'static str, V)]| {
        let mut v = base.to_vec();
        v.extend_from_slice(more);
        v
    };
    vec![
        cf(
            "latitude_longitude",
            &[gm("latitude_longitude")],
            (-170.0, 170.0),
            (-80.0, 80.0),
            Some(4326),
        ),
        cf(
            "rotated pole (EURO-CORDEX)",
            &[
                gm("rotated_latitude_longitude"),
                ("grid_north_pole_latitude", N(39.25)),
                ("grid_north_pole_longitude", N(-162.0)),
            ],
            (-30.0, 40.0),
            (25.0, 72.0),
            None,
        ),
        cf(
            "rotated pole with north_pole_grid_longitude",
            &[
                gm("rotated_latitude_longitude"),
                ("grid_north_pole_latitude", N(30.0)),
                ("grid_north_pole_longitude", N(20.0)),
                ("north_pole_grid_longitude", N(15.0)),
            ],
            (-60.0, 60.0),
            (-30.0, 60.0),
            None,
        ),
        cf(
            "transverse mercator as UTM 33N",
            &with(
                &wgs84,
                &[
                    gm("transverse_mercator"),
                    ("latitude_of_projection_origin", N(0.0)),
                    ("longitude_of_central_meridian", N(15.0)),
                    ("scale_factor_at_central_meridian", N(0.9996)),
                    ("false_easting", N(500_000.0)),
                    ("false_northing", N(0.0)),
                ],
            ),
            (9.0, 21.0),
            (0.0, 84.0),
            Some(32633),
        ),
        cf(
            "transverse mercator as UTM 19S",
            &[
                gm("transverse_mercator"),
                ("longitude_of_central_meridian", N(-69.0)),
                ("scale_factor_at_central_meridian", N(0.9996)),
                ("false_easting", N(500_000.0)),
                ("false_northing", N(10_000_000.0)),
            ],
            (-72.0, -66.0),
            (-80.0, 0.0),
            Some(32719),
        ),
        cf(
            "transverse mercator as the British National Grid (Airy 1830)",
            &[
                gm("transverse_mercator"),
                ("semi_major_axis", N(6_377_563.396)),
                ("inverse_flattening", N(299.324_964_6)),
                ("latitude_of_projection_origin", N(49.0)),
                ("longitude_of_central_meridian", N(-2.0)),
                ("scale_factor_at_central_meridian", N(0.999_601_271_7)),
                ("false_easting", N(400_000.0)),
                ("false_northing", N(-100_000.0)),
            ],
            (-8.0, 2.0),
            (49.0, 61.0),
            Some(27700),
        ),
        cf(
            "transverse mercator 30 degrees wide on a sphere",
            &[
                gm("transverse_mercator"),
                ("earth_radius", N(6_371_000.0)),
                ("latitude_of_projection_origin", N(30.0)),
                ("longitude_of_central_meridian", N(10.0)),
            ],
            (-20.0, 40.0),
            (-60.0, 80.0),
            None,
        ),
        cf(
            "transverse mercator 35 degrees wide on WGS 84",
            &[
                gm("transverse_mercator"),
                ("longitude_of_central_meridian", N(0.0)),
                ("scale_factor_at_central_meridian", N(1.0)),
            ],
            (-35.0, 35.0),
            (-70.0, 70.0),
            None,
        ),
        cf(
            "mercator with a scale factor (1SP)",
            &[
                gm("mercator"),
                ("longitude_of_projection_origin", N(100.0)),
                ("scale_factor_at_projection_origin", N(0.99)),
                ("false_easting", N(1000.0)),
                ("false_northing", N(-2000.0)),
            ],
            (20.0, 179.0),
            (-80.0, 80.0),
            None,
        ),
        cf(
            "mercator with a standard parallel (2SP) on a sphere",
            &[
                gm("mercator"),
                ("earth_radius", N(6_371_229.0)),
                ("longitude_of_projection_origin", N(-40.0)),
                ("standard_parallel", N(20.0)),
            ],
            (-179.0, 139.0),
            (-85.0, 85.0),
            None,
        ),
        cf(
            "lambert conformal conic 2SP (WRF, sphere)",
            &[
                gm("lambert_conformal_conic"),
                ("earth_radius", N(6_370_000.0)),
                ("standard_parallel", L(&[30.0, 60.0])),
                ("latitude_of_projection_origin", N(38.5)),
                ("longitude_of_central_meridian", N(-97.5)),
            ],
            (-130.0, -65.0),
            (20.0, 55.0),
            None,
        ),
        cf(
            "lambert conformal conic 2SP as Lambert-93",
            &with(
                &grs80,
                &[
                    gm("lambert_conformal_conic"),
                    ("standard_parallel", L(&[49.0, 44.0])),
                    ("latitude_of_projection_origin", N(46.5)),
                    ("longitude_of_central_meridian", N(3.0)),
                    ("false_easting", N(700_000.0)),
                    ("false_northing", N(6_600_000.0)),
                ],
            ),
            (-5.0, 10.0),
            (41.0, 51.0),
            Some(2154),
        ),
        cf(
            "lambert conformal conic 1SP",
            &[
                gm("lambert_conformal_conic"),
                ("standard_parallel", N(25.0)),
                ("latitude_of_projection_origin", N(25.0)),
                ("longitude_of_central_meridian", N(-95.0)),
                ("false_easting", N(100.0)),
                ("false_northing", N(200.0)),
            ],
            (-140.0, -50.0),
            (0.0, 60.0),
            None,
        ),
        cf(
            "lambert conformal conic 2SP in the southern hemisphere",
            &[
                gm("lambert_conformal_conic"),
                ("standard_parallel", L(&[-10.0, -40.0])),
                ("latitude_of_projection_origin", N(-25.0)),
                ("longitude_of_central_meridian", N(135.0)),
            ],
            (110.0, 160.0),
            (-45.0, -5.0),
            None,
        ),
        cf(
            "polar stereographic B north (NSIDC)",
            &[
                gm("polar_stereographic"),
                ("straight_vertical_longitude_from_pole", N(-45.0)),
                ("standard_parallel", N(70.0)),
                ("latitude_of_projection_origin", N(90.0)),
            ],
            (-180.0, 180.0),
            (40.0, 89.0),
            Some(3413),
        ),
        cf(
            "polar stereographic B south (Antarctic)",
            &[
                gm("polar_stereographic"),
                ("straight_vertical_longitude_from_pole", N(0.0)),
                ("standard_parallel", N(-71.0)),
                ("latitude_of_projection_origin", N(-90.0)),
            ],
            (-180.0, 180.0),
            (-89.0, -50.0),
            Some(3031),
        ),
        cf(
            "polar stereographic A north with a scale factor (UPS)",
            &[
                gm("polar_stereographic"),
                ("straight_vertical_longitude_from_pole", N(0.0)),
                ("latitude_of_projection_origin", N(90.0)),
                ("scale_factor_at_projection_origin", N(0.994)),
                ("false_easting", N(2_000_000.0)),
                ("false_northing", N(2_000_000.0)),
            ],
            (-180.0, 180.0),
            (60.0, 89.0),
            None,
        ),
        cf(
            "polar stereographic A south on a sphere",
            &[
                gm("polar_stereographic"),
                ("earth_radius", N(6_371_000.0)),
                ("straight_vertical_longitude_from_pole", N(100.0)),
                ("latitude_of_projection_origin", N(-90.0)),
                ("scale_factor_at_projection_origin", N(0.97)),
            ],
            (-180.0, 180.0),
            (-89.0, -40.0),
            None,
        ),
        cf(
            "oblique stereographic",
            &[
                gm("stereographic"),
                ("latitude_of_projection_origin", N(45.0)),
                ("longitude_of_projection_origin", N(10.0)),
                ("scale_factor_at_projection_origin", N(0.9)),
                ("false_easting", N(10.0)),
                ("false_northing", N(20.0)),
            ],
            (-20.0, 40.0),
            (20.0, 70.0),
            None,
        ),
        cf(
            "equatorial stereographic on a sphere",
            &[
                gm("stereographic"),
                ("earth_radius", N(6_371_000.0)),
                ("latitude_of_projection_origin", N(0.0)),
                ("longitude_of_projection_origin", N(-30.0)),
            ],
            (-80.0, 20.0),
            (-50.0, 50.0),
            None,
        ),
        cf(
            "lambert azimuthal equal area as LAEA Europe",
            &[
                gm("lambert_azimuthal_equal_area"),
                ("semi_major_axis", N(6_378_137.0)),
                ("semi_minor_axis", N(6_356_752.314_140_356)),
                ("latitude_of_projection_origin", N(52.0)),
                ("longitude_of_projection_origin", N(10.0)),
                ("false_easting", N(4_321_000.0)),
                ("false_northing", N(3_210_000.0)),
            ],
            (-30.0, 45.0),
            (25.0, 75.0),
            Some(3035),
        ),
        cf(
            "lambert azimuthal equal area north polar (EASE-Grid 2.0)",
            &[
                gm("lambert_azimuthal_equal_area"),
                ("latitude_of_projection_origin", N(90.0)),
                ("longitude_of_projection_origin", N(0.0)),
            ],
            (-180.0, 180.0),
            (0.0, 89.0),
            Some(6931),
        ),
        cf(
            "lambert azimuthal equal area south polar on a sphere",
            &[
                gm("lambert_azimuthal_equal_area"),
                ("earth_radius", N(6_371_228.0)),
                ("latitude_of_projection_origin", N(-90.0)),
                ("longitude_of_projection_origin", N(45.0)),
            ],
            (-180.0, 180.0),
            (-89.0, -10.0),
            None,
        ),
        cf(
            "lambert azimuthal equal area equatorial",
            &[
                gm("lambert_azimuthal_equal_area"),
                ("latitude_of_projection_origin", N(0.0)),
                ("longitude_of_projection_origin", N(20.0)),
            ],
            (-40.0, 80.0),
            (-60.0, 60.0),
            None,
        ),
        cf(
            "albers as NAD83 Conus Albers",
            &with(
                &grs80,
                &[
                    gm("albers_conical_equal_area"),
                    ("standard_parallel", L(&[29.5, 45.5])),
                    ("latitude_of_projection_origin", N(23.0)),
                    ("longitude_of_central_meridian", N(-96.0)),
                ],
            ),
            (-125.0, -65.0),
            (22.0, 50.0),
            Some(5070),
        ),
        cf(
            "albers in the southern hemisphere (Australian Albers)",
            &with(
                &grs80,
                &[
                    gm("albers_conical_equal_area"),
                    ("standard_parallel", L(&[-18.0, -36.0])),
                    ("latitude_of_projection_origin", N(0.0)),
                    ("longitude_of_central_meridian", N(132.0)),
                ],
            ),
            (110.0, 155.0),
            (-45.0, -10.0),
            Some(3577),
        ),
        cf(
            "albers on a sphere",
            &[
                gm("albers_conical_equal_area"),
                ("earth_radius", N(6_371_000.0)),
                ("standard_parallel", L(&[20.0, 50.0])),
                ("latitude_of_projection_origin", N(35.0)),
                ("longitude_of_central_meridian", N(100.0)),
                ("false_easting", N(-5.0)),
                ("false_northing", N(7.0)),
            ],
            (70.0, 130.0),
            (15.0, 55.0),
            None,
        ),
        cf(
            "geostationary GOES-16 (sweep x)",
            &[
                gm("geostationary"),
                ("perspective_point_height", N(35_786_023.0)),
                ("semi_major_axis", N(6_378_137.0)),
                ("semi_minor_axis", N(6_356_752.314_14)),
                ("inverse_flattening", N(298.257_222_096)),
                ("latitude_of_projection_origin", N(0.0)),
                ("longitude_of_projection_origin", N(-75.0)),
                ("sweep_angle_axis", S("x")),
            ],
            (-130.0, -20.0),
            (-60.0, 60.0),
            None,
        ),
        cf(
            "geostationary Meteosat (sweep y)",
            &[
                gm("geostationary"),
                ("perspective_point_height", N(35_785_831.0)),
                ("semi_major_axis", N(6_378_169.0)),
                ("semi_minor_axis", N(6_356_583.8)),
                ("longitude_of_projection_origin", N(0.0)),
                ("sweep_angle_axis", S("y")),
            ],
            (-50.0, 50.0),
            (-60.0, 60.0),
            None,
        ),
        cf(
            "sinusoidal (MODIS sphere)",
            &[
                gm("sinusoidal"),
                ("earth_radius", N(6_371_007.181)),
                ("longitude_of_projection_origin", N(0.0)),
            ],
            (-179.0, 179.0),
            (-85.0, 85.0),
            None,
        ),
        cf(
            "sinusoidal on WGS 84",
            &[
                gm("sinusoidal"),
                ("longitude_of_projection_origin", N(20.0)),
                ("false_easting", N(1000.0)),
            ],
            (-150.0, 170.0),
            (-80.0, 80.0),
            None,
        ),
    ]
}

fn epsg_cases() -> Vec<Case> {
    let world = (-170.0, 170.0);
    let arctic = (-180.0, 180.0);
    vec![
        epsg(4326, world, (-80.0, 80.0)),
        epsg(4258, (-10.0, 30.0), (35.0, 70.0)),
        epsg(3857, (-179.0, 179.0), (-85.0, 85.0)),
        epsg(3395, (-179.0, 179.0), (-80.0, 80.0)),
        epsg(32633, (9.0, 21.0), (0.0, 84.0)),
        epsg(32733, (9.0, 21.0), (-80.0, 0.0)),
        epsg(32601, (-180.0, -174.0), (0.0, 84.0)),
        epsg(32760, (174.0, 180.0), (-80.0, 0.0)),
        epsg(25832, (3.0, 15.0), (40.0, 80.0)),
        epsg(26915, (-99.0, -87.0), (20.0, 70.0)),
        epsg(3413, arctic, (40.0, 89.0)),
        epsg(3031, arctic, (-89.0, -50.0)),
        epsg(3995, arctic, (50.0, 89.0)),
        epsg(3976, arctic, (-89.0, -40.0)),
        epsg(6931, arctic, (0.0, 89.0)),
        epsg(6932, arctic, (-89.0, 0.0)),
        epsg(3035, (-30.0, 45.0), (25.0, 75.0)),
        epsg(3034, (-30.0, 45.0), (25.0, 75.0)),
        epsg(2154, (-5.0, 10.0), (41.0, 51.0)),
        epsg(5070, (-125.0, -65.0), (22.0, 50.0)),
        epsg(27700, (-8.0, 2.0), (49.0, 61.0)),
        epsg(3577, (110.0, 155.0), (-45.0, -10.0)),
        epsg(4230, (-10.0, 30.0), (35.0, 70.0)),
        epsg(4284, (20.0, 60.0), (40.0, 70.0)),
        epsg(26711, (-120.0, -114.0), (30.0, 60.0)),
        epsg(23032, (6.0, 12.0), (40.0, 70.0)),
        epsg(31983, (-48.0, -42.0), (-30.0, 0.0)),
        epsg(28355, (144.0, 150.0), (-45.0, -10.0)),
        epsg(7855, (144.0, 150.0), (-45.0, -10.0)),
    ]
}

fn attribute(name: &str, v: &V) -> Attribute {
    match v {
        V::S(s) => Attribute::text(name, *s),
        V::N(x) => Attribute {
            name: name.to_string(),
            value: AttrValue::Array(Values::F64(vec![*x])),
            dtype: DType::F64,
        },
        V::L(xs) => Attribute {
            name: name.to_string(),
            value: AttrValue::Array(Values::F64(xs.to_vec())),
            dtype: DType::F64,
        },
    }
}

fn json_attrs(attrs: &[(&'static str, V)]) -> Value {
    let mut m = Map::new();
    for (k, v) in attrs {
        let j = match v {
            V::S(s) => json!(s),
            V::N(x) => json!(x),
            V::L(xs) => json!(xs),
        };
        m.insert((*k).to_string(), j);
    }
    Value::Object(m)
}

/// A 9 × 9 grid over the box.
fn grid(lon: (f64, f64), lat: (f64, f64)) -> Vec<(f64, f64)> {
    let n = 9;
    let mut out = Vec::new();
    for i in 0..n {
        for j in 0..n {
            let t = f64::from(i) / f64::from(n - 1);
            let u = f64::from(j) / f64::from(n - 1);
            out.push((lon.0 + t * (lon.1 - lon.0), lat.0 + u * (lat.1 - lat.0)));
        }
    }
    out
}

fn pairs(v: &Value) -> Vec<Option<(f64, f64)>> {
    v.as_array()
        .expect("an array of pairs")
        .iter()
        .map(|p| {
            p.as_array()
                .map(|xy| (xy[0].as_f64().unwrap(), xy[1].as_f64().unwrap()))
        })
        .collect()
}

/// Longitude difference modulo 360 (180 and -180 are the same meridian).
fn dlon(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(360.0);
    d.min(360.0 - d)
}

/// Compare `ours` with pyproj's `theirs`, point by point; report misfits.
fn compare(
    what: &str,
    inputs: &[(f64, f64)],
    ours: &[Result<(f64, f64), String>],
    theirs: &[Option<(f64, f64)>],
    angular: bool,
    failures: &mut Vec<String>,
) -> f64 {
    assert_eq!(ours.len(), theirs.len(), "{what}: lengths");
    let mut worst = 0.0_f64;
    for ((p, o), t) in inputs.iter().zip(ours).zip(theirs) {
        match (o, t) {
            (Ok((ox, oy)), Some((tx, ty))) => {
                let (dx, dy, tol) = if angular {
                    // Longitude is meaningless at the poles.
                    let dx = if ty.abs() > 89.999_999 {
                        0.0
                    } else {
                        dlon(*ox, *tx)
                    };
                    (dx, (oy - ty).abs(), TOL_DEG)
                } else {
                    ((ox - tx).abs(), (oy - ty).abs(), TOL_M)
                };
                worst = worst.max(dx).max(dy);
                if !(dx <= tol && dy <= tol) {
                    failures.push(format!(
                        "{what}: at {p:?} arco gives ({ox}, {oy}), pyproj ({tx}, {ty})"
                    ));
                }
            }
            (Err(e), Some(t)) => failures.push(format!(
                "{what}: at {p:?} arco fails ({e}), pyproj gives {t:?}"
            )),
            (Ok(o), None) => failures.push(format!(
                "{what}: at {p:?} arco gives {o:?}, pyproj has no answer"
            )),
            (Err(_), None) => {}
        }
    }
    worst
}

#[test]
fn arco_and_pyproj_agree_on_every_supported_mapping_and_epsg_code() {
    let Some(py) = python() else { return };
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/pyproj_judge.py");
    let mut cases = cf_cases();
    cases.extend(epsg_cases());

    let mut failures = Vec::new();
    let mut crss = Vec::new();
    let mut request = Vec::new();
    for c in &cases {
        let crs = if let Some(code) = c.epsg {
            Crs::from_epsg(code)
        } else {
            let attrs: Vec<Attribute> = c.attrs.iter().map(|(k, v)| attribute(k, v)).collect();
            Crs::from_cf(&attrs)
        };
        let crs = match crs {
            Ok(crs) => crs,
            Err(e) => panic!("{}: arco cannot build the CRS: {e}", c.name),
        };
        if crs.epsg() != c.expect_epsg {
            failures.push(format!(
                "{}: arco says EPSG {:?}, expected {:?}",
                c.name,
                crs.epsg(),
                c.expect_epsg
            ));
        }
        let wkt = crs.wkt2();
        if wkt.is_none() {
            failures.push(format!("{}: arco writes no WKT2", c.name));
        }
        let lonlat = grid(c.lon, c.lat);
        // The points to unproject are arco's images of the grid, so they
        // lie inside the projection's domain.
        let xy: Vec<(f64, f64)> = lonlat
            .iter()
            .filter_map(|&(lon, lat)| crs.from_lonlat(lon, lat).ok())
            .collect();
        request.push(json!({
            "name": c.name,
            "attrs": if c.attrs.is_empty() { Value::Null } else { json_attrs(&c.attrs) },
            "epsg": c.epsg,
            "our_wkt": wkt,
            "lonlat": lonlat.iter().map(|p| [p.0, p.1]).collect::<Vec<_>>(),
            "xy": xy.iter().map(|p| [p.0, p.1]).collect::<Vec<_>>(),
        }));
        crss.push((crs, lonlat, xy));
    }

    let mut child = Command::new(&py)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the pyproj judge");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(json!({ "cases": request }).to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "pyproj_judge.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answers.len(), cases.len());

    for ((c, (crs, lonlat, xy)), a) in cases.iter().zip(&crss).zip(&answers) {
        let forward: Vec<_> = lonlat
            .iter()
            .map(|&(lon, lat)| crs.from_lonlat(lon, lat).map_err(|e| e.to_string()))
            .collect();
        let theirs_fwd = pairs(&a["forward"]);
        let worst_fwd = compare(
            &format!("{}: lon/lat → x/y", c.name),
            lonlat,
            &forward,
            &theirs_fwd,
            c.angular,
            &mut failures,
        );
        let inverse: Vec<_> = xy
            .iter()
            .map(|&(x, y)| crs.to_lonlat(x, y).map_err(|e| e.to_string()))
            .collect();
        let worst_inv = compare(
            &format!("{}: x/y → lon/lat", c.name),
            xy,
            &inverse,
            &pairs(&a["inverse"]),
            true,
            &mut failures,
        );
        let unit = if c.angular { "°" } else { " m" };
        eprintln!(
            "{:<70} worst forward {worst_fwd:.1e}{unit}, inverse {worst_inv:.1e}°",
            c.name
        );
        // pyproj reads arco's WKT2 as the same CRS.
        if let Some(e) = a["our_wkt_error"].as_str() {
            failures.push(format!("{}: pyproj cannot read arco's WKT2: {e}", c.name));
        } else if !a["our_wkt_forward"].is_null() {
            compare(
                &format!("{}: pyproj through arco's WKT2", c.name),
                lonlat,
                &theirs_fwd
                    .iter()
                    .map(|t| t.ok_or_else(String::new))
                    .collect::<Vec<_>>(),
                &pairs(&a["our_wkt_forward"]),
                c.angular,
                &mut failures,
            );
        }
        // arco reads pyproj's WKT2, WKT1 and PROJ string as the same CRS.
        for (key, reader) in [
            ("wkt2", Crs::from_wkt as fn(&str) -> arco_crs::Result<Crs>),
            ("wkt1", Crs::from_wkt),
            ("proj4", Crs::from_proj4),
        ] {
            let Some(text) = a[key].as_str() else {
                continue;
            };
            match reader(text) {
                Ok(other) => {
                    let fwd: Vec<_> = lonlat
                        .iter()
                        .map(|&(lon, lat)| other.from_lonlat(lon, lat).map_err(|e| e.to_string()))
                        .collect();
                    compare(
                        &format!("{}: arco through pyproj's {key}", c.name),
                        lonlat,
                        &fwd,
                        &theirs_fwd,
                        c.angular,
                        &mut failures,
                    );
                }
                Err(e) => failures.push(format!(
                    "{}: arco cannot read pyproj's {key} ({e}): {text}",
                    c.name
                )),
            }
        }
    }
    // One line per kind of disagreement: how many points, and the first.
    let mut summary: Vec<(String, usize, String)> = Vec::new();
    for f in &failures {
        let (what, detail) = f.split_once(": at ").unwrap_or((f.as_str(), ""));
        match summary.iter_mut().find(|(w, _, _)| w == what) {
            Some(s) => s.1 += 1,
            None => summary.push((what.to_string(), 1, detail.to_string())),
        }
    }
    let lines: Vec<String> = summary
        .iter()
        .map(|(w, n, d)| format!("{w}: {n} point(s), e.g. at {d}"))
        .collect();
    assert!(
        failures.is_empty(),
        "{} disagreements with pyproj:\n{}",
        failures.len(),
        lines.join("\n")
    );
}
