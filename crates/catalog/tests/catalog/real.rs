//! Real files (`tests/data/real`) and fixtures: footprints, time ranges,
//! bands, classes and tables checked against values computed here.

use crate::support::*;
use arco_catalog::{AssetSpec, DescribeOptions, Error};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;

fn utc(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).unwrap()
}

/// Seconds from 1970 of `YYYY-MM-DD HH:MM:SS` (UTC).
fn epoch(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
        .unwrap()
        .timestamp()
}

#[test]
fn a_global_era5_grid_covers_the_world_over_its_forecast_times() {
    let (reader, d) = describe_file(
        "real/netcdf4/era5-levels-members.nc",
        &DescribeOptions::default(),
    );
    let (item, v) = valid_item(&d);
    assert_eq!(bbox(&item), [-180.0, -90.0, 180.0, 90.0]);
    // time: int64 seconds since 1970-01-01.
    let t = raw_f64(reader.as_ref(), "time");
    assert_eq!(v["properties"]["datetime"], json!(null));
    assert_eq!(item.properties.start_datetime, Some(utc(min(&t) as i64)));
    assert_eq!(item.properties.end_datetime, Some(utc(max(&t) as i64)));
    let dims = &v["properties"]["cube:dimensions"];
    assert_eq!(dims["latitude"]["extent"], json!([-90, 90]));
    assert_eq!(dims["latitude"]["step"], json!(-3));
    assert_eq!(dims["longitude"]["extent"], json!([0, 357]));
    assert_eq!(dims["time"]["step"], "PT12H");
    assert_eq!(dims["isobaricInhPa"]["axis"], "z");
    assert_eq!(v["properties"]["cube:variables"]["z"]["type"], "data");
    assert_eq!(
        v["properties"]["cube:variables"]["z"]["dimensions"],
        json!(["number", "time", "isobaricInhPa", "latitude", "longitude"])
    );
    assert_eq!(v["properties"]["proj:code"], "EPSG:4326");
    assert_eq!(v["properties"]["proj:shape"], json!([61, 120]));
    assert_eq!(
        v["properties"]["proj:transform"],
        json!([3.0, 0.0, -1.5, 0.0, -3.0, 91.5])
    );
}

#[test]
fn a_regional_grid_bbox_is_its_coordinate_range_plus_half_a_cell() {
    let (reader, d) = describe_file("real/netcdf3/sub.nc", &DescribeOptions::default());
    let (item, v) = valid_item(&d);
    let lat = raw_f64(reader.as_ref(), "latitude");
    let lon = raw_f64(reader.as_ref(), "longitude");
    let half_lat = (lat[1] - lat[0]).abs() / 2.0;
    let half_lon = (lon[1] - lon[0]).abs() / 2.0;
    assert_eq!(
        bbox(&item),
        [
            min(&lon) - half_lon,
            min(&lat) - half_lat,
            max(&lon) + half_lon,
            max(&lat) + half_lat
        ]
    );
    // time: hours since 1900-01-01 (gregorian).
    let t = raw_f64(reader.as_ref(), "time");
    let base = epoch(1900, 1, 1, 0, 0, 0);
    assert_eq!(
        item.properties.start_datetime,
        Some(utc(base + min(&t) as i64 * 3600))
    );
    assert_eq!(
        item.properties.end_datetime,
        Some(utc(base + max(&t) as i64 * 3600))
    );
    // Packed bands: stored type, fill value, scale and offset, statistics of
    // the unpacked values.
    let u = &d.bands[0];
    assert_eq!(u.name.as_deref(), Some("u"));
    assert_eq!(u.nodata, Some(-32767.0));
    assert_eq!(serde_json::to_value(&u.data_type).unwrap(), json!("int16"));
    let scale = 0.00027093437217759085;
    let offset = 4.152551605567817;
    assert_eq!(u.additional_fields["raster:scale"], json!(scale));
    assert_eq!(u.additional_fields["raster:offset"], json!(offset));
    let raw = raw_f64(reader.as_ref(), "u");
    let unpacked: Vec<f64> = raw
        .iter()
        .filter(|x| **x != -32767.0)
        .map(|x| x * scale + offset)
        .collect();
    let stats = u.statistics.as_ref().unwrap();
    assert!(close(stats.minimum.unwrap(), min(&unpacked), 1e-9));
    assert!(close(stats.maximum.unwrap(), max(&unpacked), 1e-9));
    let mean = unpacked.iter().sum::<f64>() / unpacked.len() as f64;
    assert!(close(stats.mean.unwrap(), mean, 1e-9));
    assert_eq!(
        stats.valid_percent,
        Some(100.0 * unpacked.len() as f64 / raw.len() as f64)
    );
    assert_eq!(v["properties"]["arco:conventions"], "CF-1.6");
    assert_eq!(
        v["properties"]["keywords"],
        json!(["eastward_wind", "northward_wind"])
    );
}

#[test]
fn statistics_follow_the_chosen_mode() {
    let never = DescribeOptions {
        statistics: arco_catalog::StatisticsMode::Never,
        ..Default::default()
    };
    let (_, d) = describe_file("real/netcdf3/sub.nc", &never);
    assert!(d.bands.iter().all(|b| b.statistics.is_none()));
}

#[test]
fn a_lambert_conformal_grid_matches_the_files_own_geospatial_attributes() {
    let (reader, d) = describe_file("real/netcdf4/lcc_km.nc", &DescribeOptions::default());
    let (item, v) = valid_item(&d);
    let attr = |n: &str| {
        reader
            .dataset()
            .root
            .attr(n)
            .and_then(|a| a.as_f64())
            .unwrap()
    };
    let b = bbox(&item);
    let expected = [
        attr("geospatial_lon_min"),
        attr("geospatial_lat_min"),
        attr("geospatial_lon_max"),
        attr("geospatial_lat_max"),
    ];
    for i in 0..4 {
        assert!(close(b[i], expected[i], 1e-6), "{b:?} vs {expected:?}");
    }
    // x/y in km: the projection fields are in metres, the CRS's unit.
    assert_eq!(v["properties"]["proj:shape"], json!([569, 619]));
    let t = v["properties"]["proj:transform"].as_array().unwrap();
    assert_eq!(t[0], json!(1000.0));
    assert!(v["properties"]["proj:wkt2"]
        .as_str()
        .unwrap()
        .contains("Lambert Conic Conformal"));
    // One time step: a single datetime.
    assert_eq!(v["properties"]["datetime"], "1980-07-01T12:00:00Z");
    assert_eq!(v["properties"]["cube:dimensions"]["x"]["unit"], "km");
}

#[test]
fn a_rotated_pole_grid_holds_its_cell_centres_within_a_cell() {
    let (reader, d) = describe_file("real/netcdf4/cordex.nc", &DescribeOptions::default());
    let (item, v) = valid_item(&d);
    assert!(d
        .spatial
        .as_ref()
        .unwrap()
        .method
        .contains("rotated_latitude_longitude"));
    // The cell centres' 2-D latitude/longitude (the file's vertices are NaN
    // on the edge cells): all inside, less than a cell beyond.
    let lat = raw_f64(reader.as_ref(), "lat");
    let lon = raw_f64(reader.as_ref(), "lon");
    let b = bbox(&item);
    let centres = [min(&lon), min(&lat), max(&lon), max(&lat)];
    assert!(b[0] < centres[0] && b[1] < centres[1] && b[2] > centres[2] && b[3] > centres[3]);
    for i in 0..4 {
        assert!(close(b[i], centres[i], 0.11), "{b:?} vs {centres:?}");
    }
    assert_eq!(v["geometry"]["type"], "Polygon");
    // Time bounds widen the range to whole days.
    assert_eq!(v["properties"]["start_datetime"], "2006-01-01T00:00:00Z");
    assert_eq!(v["properties"]["end_datetime"], "2006-01-03T00:00:00Z");
    // 2-D latitude/longitude are auxiliary variables, the wind is data.
    let vars = &v["properties"]["cube:variables"];
    assert_eq!(vars["lat"]["type"], "auxiliary");
    assert_eq!(vars["sfcWind"]["type"], "data");
    assert_eq!(v["properties"]["cube:dimensions"]["rlon"]["axis"], "x");
    let providers = v["properties"]["providers"].as_array().unwrap();
    assert!(providers[0]["name"]
        .as_str()
        .unwrap()
        .starts_with("Helmholtz-Zentrum Geesthacht"));
    assert_eq!(providers[0]["roles"], json!(["producer"]));
    assert!(item
        .links
        .iter()
        .any(|l| l.rel == "related" && l.href == "http://www.remo-rcm.de/"));
}

#[test]
fn geostationary_scan_angles_give_the_goes_footprint_and_scan_times() {
    let (reader, d) = describe_file(
        "real/netcdf4/20171025_2056.Cloud_Top_Height.nc",
        &DescribeOptions::default(),
    );
    let (item, v) = valid_item(&d);
    let ext = reader
        .dataset()
        .variable("geospatial_lat_lon_extent")
        .unwrap();
    let a = |n: &str| ext.attr(n).and_then(|x| x.as_f64()).unwrap();
    let expected = [
        a("geospatial_westbound_longitude"),
        a("geospatial_southbound_latitude"),
        a("geospatial_eastbound_longitude"),
        a("geospatial_northbound_latitude"),
    ];
    let b = bbox(&item);
    // The file's extent is of cell centres, ours of cell edges.
    for i in 0..4 {
        assert!(close(b[i], expected[i], 0.15), "{b:?} vs {expected:?}");
    }
    let global = |n: &str| {
        reader
            .dataset()
            .root
            .attr(n)
            .and_then(|x| x.as_str())
            .unwrap()
            .to_string()
    };
    let start = DateTime::parse_from_rfc3339(&global("time_coverage_start")).unwrap();
    let end = DateTime::parse_from_rfc3339(&global("time_coverage_end")).unwrap();
    let ours_start = item.properties.start_datetime.unwrap();
    let ours_end = item.properties.end_datetime.unwrap();
    assert!(
        (ours_start - start.with_timezone(&Utc))
            .num_milliseconds()
            .abs()
            < 100
    );
    assert!(
        (ours_end - end.with_timezone(&Utc))
            .num_milliseconds()
            .abs()
            < 100
    );
    // DQF flags become classes, in the flag_values order.
    let dqf = d
        .bands
        .iter()
        .find(|b| b.name.as_deref() == Some("DQF"))
        .unwrap();
    let classes = dqf.additional_fields["classification:classes"]
        .as_array()
        .unwrap();
    assert_eq!(classes.len(), 7);
    assert_eq!(
        classes[0],
        json!({"value": 0, "name": "good_quality_qf", "description": "good quality qf"})
    );
    assert_eq!(classes[6]["value"], 6);
    assert_eq!(v["properties"]["title"], "ABI L2 Cloud Top Height");
    assert!(v["properties"]["description"]
        .as_str()
        .unwrap()
        .starts_with("The Cloud Top Height product"));
    // The file's license is free text: not an SPDX id, so not copied.
    assert!(v["properties"].get("license").is_none());
    assert!(d
        .license_text
        .as_deref()
        .unwrap()
        .starts_with("Unclassified"));
    // Assets validate with their bands (classification in bands included).
    let mut item = item;
    d.add_asset(
        &mut item,
        "data",
        &AssetSpec::for_dataset(&d, &d.source.location),
    )
    .unwrap();
    let v = serde_json::to_value(&item).unwrap();
    assert_valid(&v);
    assert!(v["stac_extensions"].as_array().unwrap().contains(&json!(
        "https://stac-extensions.github.io/classification/v2.0.0/schema.json"
    )));
}

#[test]
fn a_fixed_radar_site_is_a_point() {
    let (reader, d) = describe_file(
        "real/netcdf4/example_cfradial_ppi.nc",
        &DescribeOptions::default(),
    );
    let (item, v) = valid_item(&d);
    let lat = raw_f64(reader.as_ref(), "latitude")[0];
    let lon = raw_f64(reader.as_ref(), "longitude")[0];
    assert_eq!(
        v["geometry"],
        json!({"type": "Point", "coordinates": [lon, lat]})
    );
    assert_eq!(bbox(&item), [lon, lat, lon, lat]);
}

#[test]
fn a_radiosonde_trajectory_is_bounded_by_its_positions() {
    let (reader, d) = describe_file(
        "real/netcdf3/example_arm_sonde.cdf",
        &DescribeOptions::default(),
    );
    let (item, _) = valid_item(&d);
    let lat = raw_f64(reader.as_ref(), "lat");
    let lon = raw_f64(reader.as_ref(), "lon");
    assert_eq!(bbox(&item), [min(&lon), min(&lat), max(&lon), max(&lat)]);
    // time: seconds since 2011-05-20 00:00:00.
    let t = raw_f64(reader.as_ref(), "time");
    let base = epoch(2011, 5, 20, 0, 0, 0);
    assert_eq!(
        item.properties.start_datetime,
        Some(utc(base + min(&t) as i64))
    );
    assert_eq!(
        item.properties.end_datetime,
        Some(utc(base + max(&t) as i64))
    );
}

#[test]
fn a_dataset_without_coordinates_is_an_error_naming_what_was_looked_at() {
    let path = data("real/netcdf4/issue672.nc");
    let reader = open(&path);
    let e =
        arco_catalog::describe(reader.as_ref(), &path, &DescribeOptions::default()).unwrap_err();
    assert!(matches!(e, Error::NoSpatialCoordinates { .. }), "{e}");
    let msg = e.to_string();
    for needle in [
        "issue672.nc",
        "/azi_angle_trip",
        "coordinates attribute names lat, lon",
        "numRows",
        "geospatial_lat_min",
        "null_geometry",
    ] {
        assert!(msg.contains(needle), "missing {needle:?} in: {msg}");
    }
    // Asked for, a null geometry (and no time: the given datetime).
    let dt = utc(epoch(2017, 1, 1, 0, 39, 0));
    let opts = DescribeOptions {
        null_geometry: true,
        datetime: Some(dt),
        ..Default::default()
    };
    let d = arco_catalog::describe(reader.as_ref(), &path, &opts).unwrap();
    let (item, v) = valid_item(&d);
    assert!(item.geometry.is_none() && item.bbox.is_none());
    assert_eq!(v["geometry"], json!(null));
    assert_eq!(item.properties.datetime, Some(dt));
    // Free-text ACDD metadata still comes through.
    assert_eq!(v["properties"]["keywords"][0], "EUMETSAT");
    assert_eq!(
        v["properties"]["description"],
        "Search for Advanced Scatterometer in the references URL"
    );
    // Without a datetime, the missing time is an error too.
    let opts = DescribeOptions {
        null_geometry: true,
        ..Default::default()
    };
    let d = arco_catalog::describe(reader.as_ref(), &path, &opts).unwrap();
    let e = d.item().unwrap_err();
    assert!(matches!(e, Error::NoTime { .. }), "{e}");
    assert!(e.to_string().contains("DescribeOptions::datetime"), "{e}");
}

#[test]
fn cf_flags_become_classes_and_360_day_times_keep_their_calendar() {
    let (_, d) = describe_file("fixtures/nc4_cf.nc", &DescribeOptions::default());
    let (_, v) = valid_item(&d);
    let qc = d
        .bands
        .iter()
        .find(|b| b.name.as_deref() == Some("qc"))
        .unwrap();
    let classes = &qc.additional_fields["classification:classes"];
    let values: Vec<i64> = classes
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["value"].as_i64().unwrap())
        .collect();
    let names: Vec<&str> = classes
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(values, [0, 1, 2, 4]);
    assert_eq!(names, ["good", "suspect", "bad", "missing"]);
    assert_eq!(v["properties"]["arco:calendar"], "360_day");
    // time_bnds: 0..89 days in 360_day = 2001-01-01 .. 2001-03-30.
    assert_eq!(v["properties"]["start_datetime"], "2001-01-01T00:00:00Z");
    assert_eq!(v["properties"]["end_datetime"], "2001-03-30T00:00:00Z");
    assert_eq!(v["properties"]["cube:dimensions"]["time"]["step"], "P30D");
    // tas is packed int16: band in stored type with scale/offset.
    let tas = d
        .bands
        .iter()
        .find(|b| b.name.as_deref() == Some("tas"))
        .unwrap();
    assert_eq!(tas.additional_fields["raster:scale"], json!(0.002));
    assert_eq!(tas.additional_fields["raster:offset"], json!(280.0));
    // x/y in km through the Lambert grid mapping: 100 km cells.
    assert_eq!(
        tas.additional_fields["raster:spatial_resolution"],
        json!(100000.0)
    );
}

#[test]
fn compound_variables_are_tables() {
    let opts = DescribeOptions {
        null_geometry: true,
        datetime: Some(utc(0)),
        ..Default::default()
    };
    let (_, d) = describe_file("fixtures/nc4_usertypes.nc", &opts);
    let (_, v) = valid_item(&d);
    let cols: Vec<&str> = v["properties"]["table:columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(cols, ["time", "mean", "flag"]);
    assert_eq!(v["properties"]["table:columns"][1]["type"], "float32");
    assert_eq!(v["properties"]["table:row_count"], 4);

    let (_, d) = describe_file("fixtures/h5_types.h5", &opts);
    let (_, v) = valid_item(&d);
    let tables = v["properties"]["table:tables"].as_array().unwrap();
    let names: Vec<&str> = tables.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Events", "Events_chunked"]);
    assert_eq!(tables[0]["table:columns"][2]["name"], "flag");
}

#[test]
fn every_readable_test_file_gives_a_valid_item() {
    let opts = DescribeOptions {
        null_geometry: true,
        datetime: Some(utc(0)),
        ..Default::default()
    };
    let mut described = 0;
    let dirs = [
        "real/netcdf3",
        "real/netcdf4",
        "real/hdf5-fixtures",
        "fixtures",
        "real/grib",
        "real/geotiff",
        "fixtures/grib",
        "fixtures/tiff",
    ];
    for dir in dirs {
        // The GRIB and GeoTIFF samples arrived later: take what is there.
        let Ok(listing) = std::fs::read_dir(data(dir)) else {
            continue;
        };
        let mut entries: Vec<_> = listing
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect();
        entries.sort();
        for p in entries {
            let path = p.to_string_lossy().into_owned();
            let Ok(src) = arco_storage::open(&path, &Default::default()) else {
                continue;
            };
            // Broken files (truncated, not NetCDF) do not open: not this test's business.
            let Ok(reader) = arco_formats::open(src) else {
                continue;
            };
            let d = arco_catalog::describe(reader.as_ref(), &path, &opts)
                .unwrap_or_else(|e| panic!("{path}: {e}"));
            let mut item = d.item().unwrap();
            d.add_asset(&mut item, "data", &AssetSpec::for_dataset(&d, &path))
                .unwrap();
            assert_valid(&serde_json::to_value(&item).unwrap());
            described += 1;
        }
    }
    assert!(described >= 25, "only {described} files described");
}

#[test]
fn a_geographic_grid_on_another_datum_keeps_its_own_epsg_code() {
    // co_elevation_roi.tif: latitude/longitude on NAD83 (EPSG:4269), not WGS 84.
    let (_reader, d) = describe_file(
        "real/geotiff/co_elevation_roi.tif",
        &DescribeOptions {
            datetime: Some(utc(0)),
            ..Default::default()
        },
    );
    let (_item, v) = valid_item(&d);
    assert_eq!(v["properties"]["proj:code"], "EPSG:4269");
}
