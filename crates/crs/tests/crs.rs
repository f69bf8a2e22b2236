//! The public API of arco-crs: published reference values, what CF
//! attributes mean, EPSG recognition, WKT and PROJ strings, errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arco_core::{AttrValue, Attribute, DType, Values};
use arco_crs::{Crs, Error};

fn num(name: &str, v: f64) -> Attribute {
    Attribute {
        name: name.into(),
        value: AttrValue::Array(Values::F64(vec![v])),
        dtype: DType::F64,
    }
}

fn f32num(name: &str, v: f32) -> Attribute {
    Attribute {
        name: name.into(),
        value: AttrValue::Array(Values::F32(vec![v])),
        dtype: DType::F32,
    }
}

fn text(name: &str, v: &str) -> Attribute {
    Attribute::text(name, v)
}

fn utm33_attrs() -> Vec<Attribute> {
    vec![
        text("grid_mapping_name", "transverse_mercator"),
        num("longitude_of_central_meridian", 15.0),
        num("latitude_of_projection_origin", 0.0),
        num("scale_factor_at_central_meridian", 0.9996),
        num("false_easting", 500_000.0),
        num("false_northing", 0.0),
    ]
}

fn close(a: (f64, f64), b: (f64, f64), tol: f64) -> bool {
    (a.0 - b.0).abs() <= tol && (a.1 - b.1).abs() <= tol
}

// --- Published values (IOGP Guidance Note 7-2 worked examples) -------------

#[test]
fn the_british_national_grid_matches_the_iogp_worked_example() {
    let crs = Crs::from_epsg(27700).unwrap();
    let xy = crs.from_lonlat(0.5, 50.5).unwrap();
    assert!(close(xy, (577_274.99, 69_740.50), 0.01), "{xy:?}");
}

#[test]
fn laea_europe_matches_the_iogp_worked_example() {
    let crs = Crs::from_epsg(3035).unwrap();
    let xy = crs.from_lonlat(5.0, 50.0).unwrap();
    assert!(close(xy, (3_962_799.45, 2_999_718.85), 0.01), "{xy:?}");
}

#[test]
fn web_mercator_matches_the_iogp_worked_example() {
    let lat = 24.0 + 22.0 / 60.0 + 54.433 / 3600.0;
    let lon = -(100.0 + 20.0 / 60.0);
    let xy = Crs::web_mercator().from_lonlat(lon, lat).unwrap();
    assert!(close(xy, (-11_169_055.58, 2_800_000.00), 0.01), "{xy:?}");
    let back = Crs::web_mercator().to_lonlat(xy.0, xy.1).unwrap();
    assert!(close(back, (lon, lat), 1e-12), "{back:?}");
}

#[test]
fn polar_stereographic_variant_b_matches_the_iogp_worked_example() {
    let crs = Crs::from_proj4(
        "+proj=stere +lat_0=-90 +lat_ts=-71 +lon_0=70 +x_0=6000000 +y_0=6000000 +datum=WGS84",
    )
    .unwrap();
    let xy = crs.from_lonlat(120.0, -75.0).unwrap();
    assert!(close(xy, (7_255_380.79, 7_053_389.56), 0.01), "{xy:?}");
}

#[test]
fn polar_stereographic_variant_a_matches_the_iogp_worked_example() {
    let crs = Crs::from_proj4("+proj=ups +datum=WGS84").unwrap();
    let xy = crs.from_lonlat(44.0, 73.0).unwrap();
    assert!(close(xy, (3_320_416.75, 632_668.43), 0.01), "{xy:?}");
}

#[test]
fn the_utm_central_meridian_on_the_equator_is_the_false_origin() {
    let crs = Crs::from_cf(&utm33_attrs()).unwrap();
    let xy = crs.from_lonlat(15.0, 0.0).unwrap();
    assert!(close(xy, (500_000.0, 0.0), 1e-6), "{xy:?}");
}

// --- CF attributes ----------------------------------------------------------

#[test]
fn a_latitude_longitude_mapping_is_geographic_wgs84() {
    let crs = Crs::from_cf(&[text("grid_mapping_name", "latitude_longitude")]).unwrap();
    assert!(crs.is_geographic());
    assert_eq!(crs.epsg(), Some(4326));
    assert_eq!(crs, Crs::geographic());
    assert_eq!(crs.to_lonlat(370.0, 10.0).unwrap(), (370.0, 10.0));
}

#[test]
fn a_latitude_longitude_mapping_on_a_sphere_has_no_epsg_code() {
    let crs = Crs::from_cf(&[
        text("grid_mapping_name", "latitude_longitude"),
        num("earth_radius", 6_371_229.0),
    ])
    .unwrap();
    assert!(crs.is_geographic());
    assert_eq!(crs.epsg(), None);
    assert!(crs.wkt2().unwrap().contains("6371229,0"));
}

#[test]
fn utm_parameters_are_recognised_as_their_epsg_code() {
    let crs = Crs::from_cf(&utm33_attrs()).unwrap();
    assert_eq!(crs.epsg(), Some(32633));
    let mut south = utm33_attrs();
    south.push(num("false_northing", 10_000_000.0));
    south.retain(|a| !(a.name == "false_northing" && a.value.as_f64() == Some(0.0)));
    assert_eq!(Crs::from_cf(&south).unwrap().epsg(), Some(32733));
}

#[test]
fn utm_parameters_stored_as_float32_are_still_recognised() {
    let attrs = vec![
        text("grid_mapping_name", "transverse_mercator"),
        f32num("longitude_of_central_meridian", 15.0),
        f32num("scale_factor_at_central_meridian", 0.9996),
        f32num("false_easting", 500_000.0),
    ];
    assert_eq!(Crs::from_cf(&attrs).unwrap().epsg(), Some(32633));
}

#[test]
fn utm_parameters_on_another_ellipsoid_are_not_wgs84_utm() {
    let mut attrs = utm33_attrs();
    attrs.push(num("semi_major_axis", 6_378_388.0));
    attrs.push(num("inverse_flattening", 297.0));
    assert_eq!(Crs::from_cf(&attrs).unwrap().epsg(), None);
}

#[test]
fn an_epsg_code_attribute_sets_the_code() {
    let mut attrs = utm33_attrs();
    attrs.push(text("epsg_code", "EPSG:32633"));
    assert_eq!(Crs::from_cf(&attrs).unwrap().epsg(), Some(32633));
    // A code arco does not know is still reported.
    let attrs = vec![
        text("grid_mapping_name", "lambert_conformal_conic"),
        num("standard_parallel", 46.0),
        num("longitude_of_central_meridian", -68.5),
        text("epsg_code", "EPSG:32198"),
    ];
    let crs = Crs::from_cf(&attrs).unwrap();
    assert_eq!(crs.epsg(), Some(32198));
    assert!(crs.wkt2().unwrap().ends_with("ID[\"EPSG\",32198]]"));
}

#[test]
fn the_epsg_code_of_a_crs_wkt_attribute_sets_the_code() {
    let wkt = Crs::from_epsg(3413).unwrap().wkt2().unwrap();
    let attrs = vec![
        text("grid_mapping_name", "polar_stereographic"),
        num("straight_vertical_longitude_from_pole", -45.0),
        num("standard_parallel", 70.0),
        num("latitude_of_projection_origin", 90.0),
        text("crs_wkt", &wkt),
    ];
    assert_eq!(Crs::from_cf(&attrs).unwrap().epsg(), Some(3413));
}

#[test]
fn without_grid_mapping_name_a_gdal_spatial_ref_defines_the_crs() {
    let spatial_ref = r#"PROJCS["WGS 84 / UTM zone 33N",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4326"]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",15],PARAMETER["scale_factor",0.9996],PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH],AUTHORITY["EPSG","32633"]]"#;
    let crs = Crs::from_cf(&[text("spatial_ref", spatial_ref)]).unwrap();
    assert_eq!(crs.epsg(), Some(32633));
    assert_eq!(crs, Crs::from_epsg(32633).unwrap());
}

#[test]
fn a_lone_semi_major_axis_is_a_sphere() {
    let crs = Crs::from_cf(&[
        text("grid_mapping_name", "sinusoidal"),
        num("semi_major_axis", 6_371_007.181),
    ])
    .unwrap();
    let sphere = Crs::from_proj4("+proj=sinu +R=6371007.181").unwrap();
    assert_eq!(crs, sphere);
}

#[test]
fn standard_parallels_given_as_text_are_read() {
    let a = Crs::from_cf(&[
        text("grid_mapping_name", "lambert_conformal_conic"),
        text("standard_parallel", "30, 60"),
        num("longitude_of_central_meridian", -97.5),
        num("latitude_of_projection_origin", 38.5),
    ])
    .unwrap();
    let b = Crs::from_proj4("+proj=lcc +lat_1=30 +lat_2=60 +lat_0=38.5 +lon_0=-97.5 +datum=WGS84")
        .unwrap();
    assert_eq!(a, b);
}

#[test]
fn a_one_parallel_lambert_conic_keeps_its_own_latitude_of_origin() {
    // CF allows the origin away from the standard parallel.
    let crs = Crs::from_cf(&[
        text("grid_mapping_name", "lambert_conformal_conic"),
        num("standard_parallel", 25.0),
        num("latitude_of_projection_origin", 20.0),
        num("longitude_of_central_meridian", -95.0),
    ])
    .unwrap();
    let xy = crs.from_lonlat(-95.0, 20.0).unwrap();
    assert!(close(xy, (0.0, 0.0), 1e-6), "{xy:?}");
    assert!(crs
        .wkt2()
        .unwrap()
        .contains("Lambert Conic Conformal (1SP variant B)"));
}

#[test]
fn an_unknown_grid_mapping_is_unsupported_and_lists_the_supported_ones() {
    let e = Crs::from_cf(&[text("grid_mapping_name", "oblique_mercator")]).unwrap_err();
    let Error::Unsupported { name, reason } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(name, "oblique_mercator");
    for supported in [
        "lambert_conformal_conic",
        "rotated_latitude_longitude",
        "geostationary",
    ] {
        assert!(reason.contains(supported), "{reason}");
    }
}

#[test]
fn a_missing_required_parameter_is_named() {
    let e = Crs::from_cf(&[
        text("grid_mapping_name", "rotated_latitude_longitude"),
        num("grid_north_pole_latitude", 39.25),
    ])
    .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::Parameter { .. }), "{e:?}");
    assert!(msg.contains("grid_north_pole_longitude"), "{msg}");
}

#[test]
fn a_polar_stereographic_origin_off_the_pole_is_rejected() {
    let e = Crs::from_cf(&[
        text("grid_mapping_name", "polar_stereographic"),
        num("straight_vertical_longitude_from_pole", 0.0),
        num("latitude_of_projection_origin", 60.0),
    ])
    .unwrap_err();
    assert!(
        e.to_string().contains("latitude_of_projection_origin"),
        "{e}"
    );
}

#[test]
fn a_variable_without_any_crs_attribute_says_what_to_add() {
    let e = Crs::from_cf(&[text("long_name", "crs")]).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("grid_mapping_name") && msg.contains("crs_wkt"),
        "{msg}"
    );
}

#[test]
fn a_prime_meridian_other_than_greenwich_is_unsupported() {
    let mut attrs = utm33_attrs();
    attrs.push(num("longitude_of_prime_meridian", 2.337_229_166_667));
    assert!(matches!(
        Crs::from_cf(&attrs).unwrap_err(),
        Error::Unsupported { .. }
    ));
}

// --- Rotated pole -----------------------------------------------------------

#[test]
fn the_rotated_grid_origin_is_where_the_rotation_puts_it() {
    // A pole at (−162°, 39.25°) puts the rotated origin at (18°, 50.75°).
    let crs = Crs::from_cf(&[
        text("grid_mapping_name", "rotated_latitude_longitude"),
        num("grid_north_pole_latitude", 39.25),
        num("grid_north_pole_longitude", -162.0),
    ])
    .unwrap();
    let (lon, lat) = crs.to_lonlat(0.0, 0.0).unwrap();
    assert!(close((lon, lat), (18.0, 50.75), 1e-12), "{lon} {lat}");
    // The grid's north pole is the pole itself.
    let (lon, lat) = crs.to_lonlat(0.0, 90.0).unwrap();
    assert!(
        (lat - 39.25).abs() < 1e-12 && (lon + 162.0).abs() < 1e-9,
        "{lon} {lat}"
    );
    assert!(!crs.is_geographic());
    assert_eq!(crs.grid_mapping_name(), "rotated_latitude_longitude");
}

// --- EPSG, WKT and PROJ strings ---------------------------------------------

#[test]
fn every_known_epsg_code_writes_wkt2_that_reads_back_as_itself() {
    let mut codes = vec![
        4326, 4258, 4269, 4171, 4283, 4277, 4267, 3857, 3395, 3413, 3031, 3995, 3976, 6931, 6932,
        3035, 3034, 2154, 5070, 27700, 3577, 25828, 25838, 26901, 26923,
    ];
    codes.extend(32601..=32660);
    codes.extend(32701..=32760);
    for code in codes {
        let crs = Crs::from_epsg(code).unwrap();
        assert_eq!(crs.epsg(), Some(code));
        let wkt = crs.wkt2().unwrap();
        assert!(wkt.ends_with(&format!("ID[\"EPSG\",{code}]]")), "{wkt}");
        let back = Crs::from_wkt(&wkt).unwrap();
        assert_eq!(back, crs, "{code}: {wkt}");
    }
}

#[test]
fn the_national_datums_and_their_utm_and_mga_zones_carry_their_epsg_names() {
    let cases = [
        (4674, "GEOGCRS[\"SIRGAS 2000\",DATUM[\"Sistema de Referencia Geocentrico para las AmericaS 2000\""),
        (7844, "GEOGCRS[\"GDA2020\",DATUM[\"Geocentric Datum of Australia 2020\""),
        (4167, "GEOGCRS[\"NZGD2000\",DATUM[\"New Zealand Geodetic Datum 2000\""),
        (4230, "GEOGCRS[\"ED50\",DATUM[\"European Datum 1950\",ELLIPSOID[\"International 1924\",6378388,297,"),
        (4322, "GEOGCRS[\"WGS 72\",DATUM[\"World Geodetic System 1972\",ELLIPSOID[\"WGS 72\",6378135,298.26,"),
        (4314, "GEOGCRS[\"DHDN\",DATUM[\"Deutsches Hauptdreiecksnetz\",ELLIPSOID[\"Bessel 1841\",6377397.155,299.1528128,"),
        (4284, "GEOGCRS[\"Pulkovo 1942\",DATUM[\"Pulkovo 1942\",ELLIPSOID[\"Krassowsky 1940\",6378245,298.3,"),
        (26711, "PROJCRS[\"NAD27 / UTM zone 11N\",BASEGEOGCRS[\"NAD27\""),
        (23032, "PROJCRS[\"ED50 / UTM zone 32N\",BASEGEOGCRS[\"ED50\""),
        (31965, "PROJCRS[\"SIRGAS 2000 / UTM zone 11N\""),
        (31976, "PROJCRS[\"SIRGAS 2000 / UTM zone 22N\""),
        (31977, "PROJCRS[\"SIRGAS 2000 / UTM zone 17S\""),
        (31985, "PROJCRS[\"SIRGAS 2000 / UTM zone 25S\""),
        (28355, "PROJCRS[\"GDA94 / MGA zone 55\",BASEGEOGCRS[\"GDA94\""),
        (7846, "PROJCRS[\"GDA2020 / MGA zone 46\",BASEGEOGCRS[\"GDA2020\""),
        (7859, "PROJCRS[\"GDA2020 / MGA zone 59\""),
    ];
    for (code, start) in cases {
        let crs = Crs::from_epsg(code).unwrap();
        let wkt = crs.wkt2().unwrap();
        assert!(wkt.starts_with(start), "{code}: {wkt}");
        assert_eq!(Crs::from_wkt(&wkt).unwrap(), crs, "{code}: {wkt}");
    }
    let mga = Crs::from_epsg(28355).unwrap().wkt2().unwrap();
    assert!(
        mga.contains("CONVERSION[\"Map Grid of Australia zone 55\""),
        "{mga}"
    );
    assert!(mga.contains("\"False northing\",10000000,"), "{mga}");
    let sirgas = Crs::from_epsg(31985).unwrap().wkt2().unwrap();
    assert!(
        sirgas.contains("\"Longitude of natural origin\",-33,"),
        "{sirgas}"
    );
}

#[test]
fn cf_attributes_of_every_known_code_read_back_as_the_same_crs() {
    let mut codes = vec![
        4326, 4258, 4269, 4171, 4283, 4277, 4267, 4674, 7844, 4167, 4230, 4322, 4314, 4284, 3857,
        3395, 3413, 3031, 3995, 3976, 6931, 6932, 3035, 3034, 2154, 5070, 27700, 3577, 26711,
        23032, 31965, 31985, 28355, 7859,
    ];
    codes.extend([32601, 32633, 32760]);
    for code in codes {
        let crs = Crs::from_epsg(code).unwrap();
        let attrs = crs.cf_attributes();
        let back = Crs::from_cf(&attrs).unwrap_or_else(|e| panic!("{code}: {e}"));
        assert_eq!(back, crs, "{code}: {attrs:?}");
        let get = |n: &str| attrs.iter().find(|a| a.name == n).map(|a| a.value.clone());
        if code == 3857 {
            // No CF grid mapping is Web Mercator: only the WKT says what it is.
            assert!(get("grid_mapping_name").is_none(), "{attrs:?}");
        } else {
            // The CF parameters alone (no WKT) define the same projection.
            let cf_only: Vec<Attribute> = attrs
                .iter()
                .filter(|a| a.name != "crs_wkt")
                .cloned()
                .collect();
            let alone = Crs::from_cf(&cf_only).unwrap();
            let (x, y) = crs
                .from_lonlat(crs_probe(code).0, crs_probe(code).1)
                .unwrap();
            let (x2, y2) = alone
                .from_lonlat(crs_probe(code).0, crs_probe(code).1)
                .unwrap();
            assert!(
                close((x, y), (x2, y2), 1e-6),
                "{code}: {x} {y} vs {x2} {y2}"
            );
            assert_eq!(
                get("grid_mapping_name").and_then(|v| v.as_str().map(String::from)),
                Some(crs.grid_mapping_name().to_string())
            );
        }
    }
    let utm = Crs::from_epsg(32633).unwrap().cf_attributes();
    let text_of = |n: &str| {
        utm.iter()
            .find(|a| a.name == n)
            .and_then(|a| a.value.as_str())
            .map(String::from)
    };
    assert_eq!(
        text_of("projected_crs_name").as_deref(),
        Some("WGS 84 / UTM zone 33N")
    );
    assert_eq!(text_of("geographic_crs_name").as_deref(), Some("WGS 84"));
    assert_eq!(
        text_of("reference_ellipsoid_name").as_deref(),
        Some("WGS 84")
    );
}

/// A point inside the area of use of a known code.
fn crs_probe(code: u32) -> (f64, f64) {
    match code {
        3413 | 3995 | 6931 => (10.0, 75.0),
        3031 | 3976 | 6932 => (10.0, -75.0),
        3577 | 28355 => (147.0, -30.0),
        7859 => (171.0, -40.0),
        31965 => (-117.0, 10.0),
        31985 => (-33.0, -10.0),
        26711 => (-117.0, 40.0),
        32601 => (-177.0, 10.0),
        32760 => (177.0, -10.0),
        5070 => (-96.0, 40.0),
        _ => (12.0, 50.0),
    }
}

#[test]
fn the_ellipsoids_of_the_table_are_found_by_their_epsg_codes() {
    assert_eq!(
        arco_crs::ellipsoid_from_epsg(7004),
        Some(("Bessel 1841", 6_377_397.155, 299.152_812_8))
    );
    assert_eq!(
        arco_crs::ellipsoid_from_epsg(7019),
        Some(("GRS 1980", 6_378_137.0, 298.257_222_101))
    );
    assert_eq!(arco_crs::ellipsoid_from_epsg(7999), None);
}

#[test]
fn an_unknown_epsg_code_is_unsupported_and_says_what_to_do() {
    let e = Crs::from_epsg(4087).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("EPSG:4087") && msg.contains("CF"), "{msg}");
}

#[test]
fn laea_europe_declares_its_northing_axis_first() {
    let wkt = Crs::from_epsg(3035).unwrap().wkt2().unwrap();
    let north = wkt.find("AXIS[\"northing (Y)\",north,ORDER[1]").unwrap();
    let east = wkt.find("AXIS[\"easting (X)\",east,ORDER[2]").unwrap();
    assert!(north < east, "{wkt}");
    assert!(wkt.starts_with("PROJCRS[\"ETRS89-extended / LAEA Europe\""));
}

#[test]
fn wkt2_of_every_cf_mapping_reads_back_as_the_same_crs() {
    let cases: Vec<Vec<Attribute>> = vec![
        vec![
            text("grid_mapping_name", "rotated_latitude_longitude"),
            num("grid_north_pole_latitude", 39.25),
            num("grid_north_pole_longitude", -162.0),
            num("north_pole_grid_longitude", 5.0),
        ],
        vec![
            text("grid_mapping_name", "mercator"),
            num("standard_parallel", 20.0),
            num("earth_radius", 6_371_229.0),
        ],
        vec![
            text("grid_mapping_name", "mercator"),
            num("scale_factor_at_projection_origin", 0.99),
        ],
        vec![
            text("grid_mapping_name", "stereographic"),
            num("latitude_of_projection_origin", 45.0),
            num("longitude_of_projection_origin", 10.0),
            num("scale_factor_at_projection_origin", 0.9),
        ],
        vec![
            text("grid_mapping_name", "polar_stereographic"),
            num("straight_vertical_longitude_from_pole", 100.0),
            num("latitude_of_projection_origin", -90.0),
            num("scale_factor_at_projection_origin", 0.97),
        ],
        vec![
            text("grid_mapping_name", "geostationary"),
            num("perspective_point_height", 35_786_023.0),
            num("longitude_of_projection_origin", -75.0),
            text("sweep_angle_axis", "x"),
            num("semi_major_axis", 6_378_137.0),
            num("semi_minor_axis", 6_356_752.314_14),
        ],
        vec![
            text("grid_mapping_name", "sinusoidal"),
            num("longitude_of_projection_origin", 20.0),
            num("false_easting", 1000.0),
        ],
        vec![
            text("grid_mapping_name", "albers_conical_equal_area"),
            num("standard_parallel", 30.0),
            num("earth_radius", 6_371_000.0),
        ],
    ];
    for attrs in cases {
        let crs = Crs::from_cf(&attrs).unwrap();
        let wkt = crs.wkt2().unwrap();
        let back = Crs::from_wkt(&wkt).unwrap_or_else(|e| panic!("{e}: {wkt}"));
        assert_eq!(back, crs, "{wkt}");
    }
}

#[test]
fn esri_wkt1_is_read() {
    let esri = r#"PROJCS["WGS_1984_UTM_Zone_33N",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",15.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
    let crs = Crs::from_wkt(esri).unwrap();
    assert_eq!(crs.epsg(), Some(32633));
}

#[test]
fn wkt_in_us_feet_is_unsupported() {
    let feet = r#"PROJCS["NAD83 / Texas South Central (ftUS)",GEOGCS["NAD83",DATUM["North_American_Datum_1983",SPHEROID["GRS 1980",6378137,298.257222101]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Lambert_Conformal_Conic_2SP"],PARAMETER["latitude_of_origin",27.8333333333333],PARAMETER["central_meridian",-99],PARAMETER["standard_parallel_1",30.2833333333333],PARAMETER["standard_parallel_2",28.3833333333333],PARAMETER["false_easting",1968500],PARAMETER["false_northing",13123333.333],UNIT["US survey foot",0.304800609601219],AXIS["Easting",EAST],AXIS["Northing",NORTH]]"#;
    let e = Crs::from_wkt(feet).unwrap_err();
    assert!(e.to_string().contains("metres"), "{e}");
}

#[test]
fn broken_wkt_is_a_parse_error_saying_where() {
    let e = Crs::from_wkt("PROJCS[\"x\",GEOGCS[").unwrap_err();
    assert!(matches!(e, Error::Parse { format: "WKT", .. }), "{e:?}");
}

#[test]
fn proj_strings_for_utm_are_recognised() {
    let crs = Crs::from_proj4("+proj=utm +zone=33 +south +datum=WGS84 +units=m +no_defs").unwrap();
    assert_eq!(crs.epsg(), Some(32733));
    assert_eq!(
        Crs::from_proj4("+init=epsg:3035").unwrap().epsg(),
        Some(3035)
    );
    assert_eq!(
        Crs::from_proj4(
            "+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m +nadgrids=@null +wktext +no_defs"
        )
        .unwrap(),
        Crs::web_mercator()
    );
}

#[test]
fn an_unsupported_proj_string_names_the_projection() {
    let e = Crs::from_proj4("+proj=robin +datum=WGS84").unwrap_err();
    assert!(e.to_string().contains("robin"), "{e}");
}

// --- Domains and batches ----------------------------------------------------

#[test]
fn a_point_behind_the_geostationary_limb_is_outside_the_domain() {
    let crs = Crs::from_cf(&[
        text("grid_mapping_name", "geostationary"),
        num("perspective_point_height", 35_786_023.0),
        num("longitude_of_projection_origin", -75.0),
        text("sweep_angle_axis", "x"),
    ])
    .unwrap();
    assert!(matches!(
        crs.from_lonlat(105.0, 0.0),
        Err(Error::OutsideDomain { .. })
    ));
    // Scanning angles beyond the disk (0.2 rad ≈ 11.5°, the disk is ±8.7°).
    let h = 35_786_023.0;
    assert!(matches!(
        crs.to_lonlat(0.2 * h, 0.0),
        Err(Error::OutsideDomain { .. })
    ));
    assert!(crs.to_lonlat(0.1 * h, 0.05 * h).is_ok());
}

#[test]
fn the_opposite_pole_of_a_polar_projection_is_outside_the_domain() {
    let crs = Crs::from_epsg(6931).unwrap();
    assert!(crs.from_lonlat(0.0, -90.0).is_err());
    assert!(Crs::web_mercator().from_lonlat(0.0, 90.0).is_err());
    assert!(crs.from_lonlat(0.0, 91.0).is_err());
}

#[test]
fn points_outside_the_sinusoidal_outline_have_no_longitude() {
    let crs = Crs::from_proj4("+proj=sinu +R=6371007.181").unwrap();
    // At 60°N (y = R π / 3) the outline is at x = ±R π cos 60° ≈ ±10 008 km.
    assert!(crs.to_lonlat(10_100_000.0, 6_671_704.0).is_err());
    assert!(crs.to_lonlat(-10_100_000.0, 6_671_704.0).is_err());
    let (lon, _) = crs.to_lonlat(9_900_000.0, 6_671_704.0).unwrap();
    assert!((lon - 178.06).abs() < 0.01, "{lon}");
}

#[test]
fn batches_project_in_place_with_nan_outside_the_domain() {
    let crs = Crs::from_epsg(32633).unwrap();
    let mut x = vec![500_000.0, 400_000.0, f64::INFINITY];
    let mut y = vec![0.0, 5_000_000.0, 0.0];
    crs.to_lonlat_in_place(&mut x, &mut y);
    assert!(close((x[0], y[0]), (15.0, 0.0), 1e-12));
    let single = crs.to_lonlat(400_000.0, 5_000_000.0).unwrap();
    assert_eq!((x[1], y[1]), single);
    assert!(x[2].is_nan() && y[2].is_nan());
    crs.from_lonlat_in_place(&mut x[..2], &mut y[..2]);
    assert!(close((x[1], y[1]), (400_000.0, 5_000_000.0), 1e-6));
}
