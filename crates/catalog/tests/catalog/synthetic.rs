//! Synthetic grids built in memory: the antimeridian, 0..360 longitudes,
//! descending latitudes, curvilinear and polar grids, bounds, calendars.

use crate::support::*;
use arco_catalog::{describe, DescribeOptions, Description};
use arco_core::Values;
use serde_json::json;

fn lat_attrs() -> Vec<arco_core::Attribute> {
    vec![
        text("units", "degrees_north"),
        text("standard_name", "latitude"),
    ]
}

fn lon_attrs() -> Vec<arco_core::Attribute> {
    vec![
        text("units", "degrees_east"),
        text("standard_name", "longitude"),
    ]
}

fn time_attrs(calendar: &str) -> Vec<arco_core::Attribute> {
    vec![
        text("units", "days since 2001-01-01"),
        text("calendar", calendar),
        text("standard_name", "time"),
    ]
}

/// A lat/lon grid with one time step and a data variable `tas(time, lat, lon)`.
fn grid(lats: Vec<f64>, lons: Vec<f64>) -> MemDataset {
    let (ny, nx) = (lats.len(), lons.len());
    MemReader::new()
        .dim("time", 1)
        .dim("lat", ny as u64)
        .dim("lon", nx as u64)
        .var(
            "time",
            &["time"],
            Values::F64(vec![10.0]),
            time_attrs("standard"),
        )
        .var("lat", &["lat"], Values::F64(lats), lat_attrs())
        .var("lon", &["lon"], Values::F64(lons), lon_attrs())
        .var(
            "tas",
            &["time", "lat", "lon"],
            Values::F32(vec![280.0; ny * nx]),
            vec![text("units", "K"), text("long_name", "air temperature")],
        )
        .build("mem://grid.nc")
}

fn run(ds: &MemDataset) -> Description {
    describe(ds, "mem://grid.nc", &DescribeOptions::default()).unwrap()
}

#[test]
fn longitudes_0_to_360_across_the_antimeridian_split_the_footprint() {
    let ds = grid(range(-10.0, 5.0, 5), range(170.0, 5.0, 7)); // 170 .. 200
    let d = run(&ds);
    let (item, v) = valid_item(&d);
    assert_eq!(bbox(&item), [167.5, -12.5, -157.5, 12.5]);
    assert_eq!(v["geometry"]["type"], "MultiPolygon");
    let parts = v["geometry"]["coordinates"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    let xs = |p: &serde_json::Value| -> Vec<f64> {
        p[0].as_array()
            .unwrap()
            .iter()
            .map(|c| c[0].as_f64().unwrap())
            .collect()
    };
    assert_eq!(min(&xs(&parts[0])), 167.5);
    assert_eq!(max(&xs(&parts[0])), 180.0);
    assert_eq!(min(&xs(&parts[1])), -180.0);
    assert_eq!(max(&xs(&parts[1])), -157.5);
    // The datacube keeps the file's own values.
    assert_eq!(
        v["properties"]["cube:dimensions"]["lon"]["extent"],
        json!([170, 200])
    );
}

#[test]
fn longitudes_minus_180_to_180_across_the_antimeridian_split_the_footprint() {
    let lons = vec![170.0, 175.0, 180.0, -175.0, -170.0];
    let d = run(&grid(range(0.0, 1.0, 3), lons));
    let (item, v) = valid_item(&d);
    assert_eq!(bbox(&item), [167.5, -0.5, -167.5, 2.5]);
    assert_eq!(v["geometry"]["type"], "MultiPolygon");
}

#[test]
fn longitudes_0_to_360_west_of_greenwich_are_normalised() {
    let d = run(&grid(range(0.0, 1.0, 3), range(250.0, 1.0, 11))); // 250 .. 260
    let (item, v) = valid_item(&d);
    assert_eq!(bbox(&item), [-110.5, -0.5, -99.5, 2.5]);
    assert_eq!(v["geometry"]["type"], "Polygon");
}

#[test]
fn a_global_0_to_360_grid_has_the_whole_world_bbox() {
    let d = run(&grid(range(-89.5, 1.0, 180), range(0.0, 1.0, 360)));
    let (item, v) = valid_item(&d);
    assert_eq!(bbox(&item), [-180.0, -90.0, 180.0, 90.0]);
    assert_eq!(v["geometry"]["type"], "Polygon");
}

#[test]
fn descending_latitudes_give_the_same_bbox_as_ascending_ones() {
    let up = run(&grid(range(30.0, 0.25, 9), range(5.0, 0.25, 9)));
    let down = run(&grid(range(32.0, -0.25, 9), range(5.0, 0.25, 9)));
    let (a, _) = valid_item(&up);
    let (b, vb) = valid_item(&down);
    assert_eq!(bbox(&a), bbox(&b));
    assert_eq!(bbox(&b), [4.875, 29.875, 7.125, 32.125]);
    // proj:transform follows the storage order: y decreasing.
    assert_eq!(
        vb["properties"]["proj:transform"],
        json!([0.25, 0.0, 4.875, 0.0, -0.25, 32.125])
    );
}

#[test]
fn bounds_variables_give_the_cell_edges() {
    let ds = MemReader::new()
        .dim("time", 1)
        .dim("lat", 2)
        .dim("lon", 2)
        .dim("nv", 2)
        .var(
            "time",
            &["time"],
            Values::F64(vec![0.0]),
            time_attrs("standard"),
        )
        .var("lat", &["lat"], Values::F64(vec![10.0, 11.0]), {
            let mut a = lat_attrs();
            a.push(text("bounds", "lat_bnds"));
            a
        })
        .var(
            "lat_bnds",
            &["lat", "nv"],
            Values::F64(vec![9.0, 10.2, 10.2, 12.0]),
            vec![],
        )
        .var("lon", &["lon"], Values::F64(vec![20.0, 21.0]), {
            let mut a = lon_attrs();
            a.push(text("bounds", "lon_bnds"));
            a
        })
        .var(
            "lon_bnds",
            &["lon", "nv"],
            Values::F64(vec![19.9, 20.5, 20.5, 21.1]),
            vec![],
        )
        .var(
            "v",
            &["time", "lat", "lon"],
            Values::F32(vec![1.0; 4]),
            vec![],
        )
        .build("mem://bnds.nc");
    let d = describe(&ds, "mem://bnds.nc", &DescribeOptions::default()).unwrap();
    let (item, v) = valid_item(&d);
    assert_eq!(bbox(&item), [19.9, 9.0, 21.1, 12.0]);
    assert_eq!(
        v["properties"]["cube:variables"]["lat_bnds"]["type"],
        "auxiliary"
    );
    assert!(d.spatial.unwrap().method.contains("bounds"));
}

#[test]
fn curvilinear_coordinates_bound_every_cell_within_half_a_cell() {
    let (ny, nx) = (6, 8);
    let mut lat = Vec::new();
    let mut lon = Vec::new();
    for j in 0..ny {
        for i in 0..nx {
            lon.push(10.0 + 0.5 * i as f64 + 0.2 * j as f64);
            lat.push(40.0 + 0.5 * j as f64 - 0.1 * i as f64);
        }
    }
    let ds = MemReader::new()
        .dim("y", ny as u64)
        .dim("x", nx as u64)
        .var("lat", &["y", "x"], Values::F64(lat.clone()), lat_attrs())
        .var("lon", &["y", "x"], Values::F64(lon.clone()), lon_attrs())
        .var(
            "sst",
            &["y", "x"],
            Values::F32(vec![290.0; ny * nx]),
            vec![text("coordinates", "lat lon")],
        )
        .global(text("time_coverage_start", "2020-05-01T00:00:00Z"))
        .global(text("time_coverage_end", "2020-05-02T00:00:00Z"))
        .build("mem://curv.nc");
    let d = describe(&ds, "mem://curv.nc", &DescribeOptions::default()).unwrap();
    let (item, v) = valid_item(&d);
    let b = bbox(&item);
    // Holds every centre, and reaches at most about half a cell beyond.
    assert!(b[0] <= min(&lon) && b[2] >= max(&lon), "{b:?}");
    assert!(b[1] <= min(&lat) && b[3] >= max(&lat), "{b:?}");
    for (edge, centre) in [
        (b[0], min(&lon)),
        (b[1], min(&lat)),
        (b[2], max(&lon)),
        (b[3], max(&lat)),
    ] {
        assert!((edge - centre).abs() <= 0.36, "{edge} vs {centre}");
    }
    assert_eq!(v["geometry"]["type"], "Polygon");
    // The grid's index dimensions are described as such.
    assert!(v["properties"]["cube:dimensions"]["x"]["description"]
        .as_str()
        .unwrap()
        .contains("x axis"));
    // ACDD time coverage dates the data.
    assert_eq!(v["properties"]["start_datetime"], "2020-05-01T00:00:00Z");
    assert_eq!(v["properties"]["end_datetime"], "2020-05-02T00:00:00Z");
}

#[test]
fn a_polar_stereographic_grid_around_the_pole_reaches_it() {
    let n = 11;
    let xy = range(-2_500_000.0, 500_000.0, n);
    let ds = MemReader::new()
        .dim("y", n as u64)
        .dim("x", n as u64)
        .dim("time", 1)
        .var(
            "time",
            &["time"],
            Values::F64(vec![0.0]),
            time_attrs("standard"),
        )
        .var(
            "x",
            &["x"],
            Values::F64(xy.clone()),
            vec![
                text("standard_name", "projection_x_coordinate"),
                text("units", "m"),
            ],
        )
        .var(
            "y",
            &["y"],
            Values::F64(xy),
            vec![
                text("standard_name", "projection_y_coordinate"),
                text("units", "m"),
            ],
        )
        .var(
            "crs",
            &[],
            Values::I32(vec![0]),
            vec![
                text("grid_mapping_name", "polar_stereographic"),
                num("straight_vertical_longitude_from_pole", &[-45.0]),
                num("latitude_of_projection_origin", &[90.0]),
                num("standard_parallel", &[70.0]),
                num("false_easting", &[0.0]),
                num("false_northing", &[0.0]),
            ],
        )
        .var(
            "ice",
            &["time", "y", "x"],
            Values::F32(vec![0.5; n * n]),
            vec![text("grid_mapping", "crs")],
        )
        .build("mem://polar.nc");
    let d = describe(&ds, "mem://polar.nc", &DescribeOptions::default()).unwrap();
    let (item, v) = valid_item(&d);
    let b = bbox(&item);
    assert_eq!([b[0], b[2], b[3]], [-180.0, 180.0, 90.0], "{b:?}");
    assert!(b[1] > 50.0 && b[1] < 70.0, "{b:?}");
    assert_eq!(v["properties"]["proj:shape"], json!([11, 11]));
}

#[test]
fn dates_the_gregorian_calendar_lacks_move_outwards_and_stay_in_the_native_range() {
    let ds = MemReader::new()
        .dim("time", 2)
        .dim("lat", 2)
        .dim("lon", 2)
        // 360_day: day 0 = 2001-01-01, day 59 = 2001-02-30.
        .var(
            "time",
            &["time"],
            Values::F64(vec![0.0, 59.0]),
            time_attrs("360_day"),
        )
        .var("lat", &["lat"], Values::F64(vec![0.0, 1.0]), lat_attrs())
        .var("lon", &["lon"], Values::F64(vec![0.0, 1.0]), lon_attrs())
        .var(
            "pr",
            &["time", "lat", "lon"],
            Values::F32(vec![0.0; 8]),
            vec![],
        )
        .build("mem://cal.nc");
    let d = describe(&ds, "mem://cal.nc", &DescribeOptions::default()).unwrap();
    let (_, v) = valid_item(&d);
    assert_eq!(v["properties"]["start_datetime"], "2001-01-01T00:00:00Z");
    assert_eq!(v["properties"]["end_datetime"], "2001-03-01T00:00:00Z");
    assert_eq!(v["properties"]["arco:calendar"], "360_day");
    assert_eq!(
        v["properties"]["arco:time_range_native"],
        json!(["2001-01-01T00:00:00", "2001-02-30T00:00:00"])
    );
}

#[test]
fn flag_masks_become_bit_fields() {
    let ds = MemReader::new()
        .dim("lat", 2)
        .dim("lon", 2)
        .var("lat", &["lat"], Values::F64(vec![0.0, 1.0]), lat_attrs())
        .var("lon", &["lon"], Values::F64(vec![0.0, 1.0]), lon_attrs())
        .var(
            "mask",
            &["lat", "lon"],
            Values::U8(vec![0, 1, 2, 12]),
            vec![
                num("flag_masks", &[1.0, 2.0, 12.0, 12.0]),
                num("flag_values", &[1.0, 2.0, 4.0, 12.0]),
                text("flag_meanings", "land ice thin_cloud thick_cloud"),
            ],
        )
        .build("mem://mask.nc");
    let opts = DescribeOptions {
        datetime: Some(chrono::Utc::now()),
        ..Default::default()
    };
    let d = describe(&ds, "mem://mask.nc", &opts).unwrap();
    let fields = &d.bands[0].additional_fields["classification:bitfields"];
    assert_eq!(fields.as_array().unwrap().len(), 3);
    assert_eq!(fields[2]["offset"], 2);
    assert_eq!(fields[2]["length"], 2);
    assert_eq!(
        fields[2]["classes"][0],
        json!({"value": 1, "name": "thin_cloud", "description": "thin cloud"})
    );
    assert_eq!(fields[2]["classes"][1]["value"], 3);
    let mut item = d.item().unwrap();
    d.add_asset(
        &mut item,
        "data",
        &arco_catalog::AssetSpec::new("mask.nc", arco_catalog::AssetKind::NetCdf),
    )
    .unwrap();
    assert_valid(&serde_json::to_value(&item).unwrap());
}

#[test]
fn acdd_geospatial_attributes_locate_data_without_coordinates() {
    let ds = MemReader::new()
        .dim("n", 3)
        .var("v", &["n"], Values::F64(vec![1.0, 2.0, 3.0]), vec![])
        .global(num("geospatial_lat_min", &[-5.0]))
        .global(num("geospatial_lat_max", &[5.0]))
        .global(text("geospatial_lon_min", "175"))
        .global(text("geospatial_lon_max", "-175"))
        .global(text("time_coverage_start", "2020-01-01"))
        .build("mem://acdd.nc");
    let d = describe(&ds, "mem://acdd.nc", &DescribeOptions::default()).unwrap();
    let (item, v) = valid_item(&d);
    assert_eq!(bbox(&item), [175.0, -5.0, -175.0, 5.0]);
    assert_eq!(v["geometry"]["type"], "MultiPolygon");
    assert_eq!(v["properties"]["datetime"], "2020-01-01T00:00:00Z");
}
