//! Property tests: projecting and unprojecting gives back the point, for
//! every method and aspect, anywhere in its domain.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arco_crs::Crs;
use proptest::prelude::*;

struct Domain {
    proj: &'static str,
    lon: (f64, f64),
    lat: (f64, f64),
}

const DOMAINS: &[Domain] = &[
    Domain {
        proj: "+proj=utm +zone=33 +datum=WGS84",
        lon: (3.0, 27.0),
        lat: (-84.0, 84.0),
    },
    Domain {
        proj:
            "+proj=tmerc +lat_0=49 +lon_0=-2 +k=0.9996012717 +x_0=400000 +y_0=-100000 +ellps=airy",
        lon: (-20.0, 16.0),
        lat: (-80.0, 85.0),
    },
    Domain {
        proj: "+proj=tmerc +lon_0=10 +R=6371000",
        lon: (-70.0, 90.0),
        lat: (-89.0, 89.0),
    },
    Domain {
        proj: "+proj=merc +lon_0=100 +k=0.99 +datum=WGS84",
        lon: (-180.0, 180.0),
        lat: (-85.0, 85.0),
    },
    Domain {
        proj: "+proj=merc +lat_ts=20 +lon_0=-40 +R=6371229",
        lon: (-180.0, 180.0),
        lat: (-85.0, 85.0),
    },
    Domain {
        proj: "+proj=lcc +lat_1=30 +lat_2=60 +lat_0=38.5 +lon_0=-97.5 +R=6370000",
        lon: (-180.0, 180.0),
        lat: (-60.0, 89.0),
    },
    Domain {
        proj: "+proj=lcc +lat_1=-10 +lat_2=-40 +lat_0=-25 +lon_0=135 +ellps=GRS80",
        lon: (-180.0, 180.0),
        lat: (-89.0, 60.0),
    },
    Domain {
        proj: "+proj=lcc +lat_1=25 +lat_0=20 +lon_0=-95 +k_0=0.999 +datum=WGS84",
        lon: (-180.0, 180.0),
        lat: (-60.0, 89.0),
    },
    Domain {
        proj: "+proj=stere +lat_0=90 +lat_ts=70 +lon_0=-45 +datum=WGS84",
        lon: (-180.0, 180.0),
        lat: (-60.0, 90.0),
    },
    Domain {
        proj: "+proj=stere +lat_0=-90 +lat_ts=-71 +lon_0=0 +datum=WGS84",
        lon: (-180.0, 180.0),
        lat: (-90.0, 60.0),
    },
    Domain {
        proj: "+proj=stere +lat_0=90 +k=0.994 +x_0=2000000 +y_0=2000000 +datum=WGS84",
        lon: (-180.0, 180.0),
        lat: (-60.0, 90.0),
    },
    Domain {
        proj: "+proj=stere +lat_0=45 +lon_0=10 +k=0.9 +datum=WGS84",
        lon: (-60.0, 80.0),
        lat: (-20.0, 89.0),
    },
    Domain {
        proj: "+proj=stere +lat_0=0 +lon_0=-30 +R=6371000",
        lon: (-110.0, 50.0),
        lat: (-80.0, 80.0),
    },
    Domain {
        proj: "+proj=laea +lat_0=52 +lon_0=10 +x_0=4321000 +y_0=3210000 +ellps=GRS80",
        lon: (-80.0, 100.0),
        lat: (-30.0, 90.0),
    },
    Domain {
        proj: "+proj=laea +lat_0=90 +lon_0=0 +datum=WGS84",
        lon: (-180.0, 180.0),
        lat: (-80.0, 90.0),
    },
    Domain {
        proj: "+proj=laea +lat_0=-90 +lon_0=45 +R=6371228",
        lon: (-180.0, 180.0),
        lat: (-90.0, 80.0),
    },
    Domain {
        proj: "+proj=laea +lat_0=0 +lon_0=20 +datum=WGS84",
        lon: (-60.0, 100.0),
        lat: (-80.0, 80.0),
    },
    Domain {
        proj: "+proj=aea +lat_1=29.5 +lat_2=45.5 +lat_0=23 +lon_0=-96 +ellps=GRS80",
        lon: (-180.0, 180.0),
        lat: (-89.0, 89.0),
    },
    Domain {
        proj: "+proj=aea +lat_1=-18 +lat_2=-36 +lat_0=0 +lon_0=132 +ellps=GRS80",
        lon: (-180.0, 180.0),
        lat: (-89.0, 89.0),
    },
    Domain {
        proj: "+proj=geos +sweep=x +lon_0=-75 +h=35786023 +ellps=GRS80",
        lon: (-130.0, -20.0),
        lat: (-65.0, 65.0),
    },
    Domain {
        proj: "+proj=geos +lon_0=0 +h=35785831 +a=6378169 +b=6356583.8",
        lon: (-55.0, 55.0),
        lat: (-65.0, 65.0),
    },
    Domain {
        proj: "+proj=sinu +R=6371007.181",
        lon: (-180.0, 180.0),
        lat: (-89.9, 89.9),
    },
    Domain {
        proj: "+proj=sinu +lon_0=20 +datum=WGS84",
        lon: (-160.0, 200.0),
        lat: (-89.9, 89.9),
    },
    Domain {
        proj: "+proj=ob_tran +o_proj=longlat +o_lat_p=39.25 +o_lon_p=0 +lon_0=18 +datum=WGS84",
        lon: (-180.0, 180.0),
        lat: (-89.9, 89.9),
    },
    Domain {
        proj: "+proj=ob_tran +o_proj=longlat +o_lat_p=30 +o_lon_p=15 +lon_0=200 +datum=WGS84",
        lon: (-180.0, 180.0),
        lat: (-89.9, 89.9),
    },
];

/// Longitude difference modulo 360, ignored at the poles.
fn dlon(a: f64, b: f64, lat: f64) -> f64 {
    if lat.abs() > 89.999_999 {
        return 0.0;
    }
    let d = (a - b).rem_euclid(360.0);
    d.min(360.0 - d)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn projecting_then_unprojecting_gives_the_point_back(
        i in 0..DOMAINS.len(),
        u in 0.0..=1.0f64,
        v in 0.0..=1.0f64,
    ) {
        let d = &DOMAINS[i];
        let crs = Crs::from_proj4(d.proj).unwrap();
        let lon = d.lon.0 + u * (d.lon.1 - d.lon.0);
        let lat = d.lat.0 + v * (d.lat.1 - d.lat.0);
        let (x, y) = crs.from_lonlat(lon, lat).unwrap();
        let (lon2, lat2) = crs.to_lonlat(x, y).unwrap();
        prop_assert!(
            dlon(lon, lon2, lat) < 1e-9 && (lat - lat2).abs() < 1e-9,
            "{}: ({lon}, {lat}) → ({x}, {y}) → ({lon2}, {lat2})", d.proj
        );
        // And the other way: from_lonlat(to_lonlat(p)) ≈ p.
        let (x2, y2) = crs.from_lonlat(lon2, lat2).unwrap();
        let tol = if crs.grid_mapping_name() == "rotated_latitude_longitude" { 1e-9 } else { 1e-4 };
        let rlon = crs.grid_mapping_name() == "rotated_latitude_longitude";
        let dx = if rlon { dlon(x, x2, y) } else { (x - x2).abs() };
        prop_assert!(
            dx < tol && (y - y2).abs() < tol,
            "{}: ({x}, {y}) → ({lon2}, {lat2}) → ({x2}, {y2})", d.proj
        );
    }

    #[test]
    fn web_mercator_tiles_round_trip_through_any_grid(
        x in -20_037_508.0..20_037_508.0f64,
        // North of about 18°S: LAEA Europe is ill-conditioned near its antipode.
        y in -2_000_000.0..15_000_000.0f64,
    ) {
        // What the tile server will do: tile pixel → lon/lat → grid → back.
        let web = Crs::web_mercator();
        let grid = Crs::from_epsg(3035).unwrap();
        let (lon, lat) = web.to_lonlat(x, y).unwrap();
        if let Ok((gx, gy)) = grid.from_lonlat(lon, lat) {
            let (lon2, lat2) = grid.to_lonlat(gx, gy).unwrap();
            let (x2, y2) = web.from_lonlat(lon2, lat2).unwrap();
            prop_assert!((x - x2).abs() < 1e-4 && (y - y2).abs() < 1e-4, "({x}, {y}) → ({x2}, {y2})");
        }
    }
}
