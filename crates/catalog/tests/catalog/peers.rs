//! The reference tools: pystac walks the catalogs arco writes, xarray opens
//! the assets with their `xarray:open_kwargs` and agrees on time ranges and
//! coordinate extents. Skipped without the peers venv unless
//! `ARCO_REQUIRE_PEERS=1`.

use crate::static_catalog::{convert, embed, write_catalog};
use crate::support::*;
use arco_catalog::DescribeOptions;
use serde_json::json;

const WALK: &str = r#"
import json, os, sys
import pystac
cat = pystac.Catalog.from_file(sys.argv[1])
out = {"catalog": cat.id, "collections": [], "items": [], "assets": []}
for root, children, items in cat.walk():
    for c in children:
        out["collections"].append(c.id)
    for i in items:
        assert i.get_collection() is not None, i.id
        assert i.get_root().id == cat.id, i.id
        assert i.get_parent() is not None, i.id
        out["items"].append(i.id)
        for k, a in i.assets.items():
            href = a.get_absolute_href()
            out["assets"].append([i.id, k, os.path.exists(href), a.media_type])
for i in cat.get_items(recursive=True):
    pass
print(json.dumps(out))
"#;

#[test]
fn pystac_opens_the_static_catalog_and_walks_every_link() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("stac");
    write_catalog(&out, None);
    let root = out.join("catalog.json");
    let v = run_python(&py, WALK, &[root.to_str().unwrap()]);
    assert_eq!(v["catalog"], "arco-test");
    assert_eq!(v["collections"], json!(["samples"]));
    assert_eq!(v["items"], json!(["sub", "cordex", "lcc_km"]));
    for a in v["assets"].as_array().unwrap() {
        assert_eq!(a[2], true, "asset does not resolve: {a}");
        assert_eq!(a[3], "application/netcdf");
    }
}

#[test]
fn pystac_opens_the_documents_embedded_in_a_converted_store() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("sub.zarr");
    convert("real/netcdf3/sub.nc", &dest);
    embed(&dest);
    let script = r#"
import json, os, sys
import pystac
c = pystac.Collection.from_file(sys.argv[1])
items = list(c.get_items())
a = items[0].assets["zarr"]
print(json.dumps({"items": [i.id for i in items], "zarr": os.path.isdir(a.get_absolute_href()),
                  "collection_asset": os.path.isdir(c.assets["zarr"].get_absolute_href())}))
"#;
    let coll = dest.join(".stac/collection.json");
    let v = run_python(&py, script, &[coll.to_str().unwrap()]);
    assert_eq!(
        v,
        json!({"items": ["sub"], "zarr": true, "collection_asset": true})
    );
}

#[test]
fn xarray_opens_the_zarr_asset_with_its_open_kwargs() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("sub.zarr");
    convert("real/netcdf3/sub.nc", &dest);
    let (_, item) = embed(&dest);
    let item_path = dest.join(".stac/item.json");
    let script = r#"
import json, sys
import pystac, xarray as xr
item = pystac.Item.from_file(sys.argv[1])
a = item.assets["zarr"]
ds = xr.open_dataset(a.get_absolute_href(), **a.extra_fields["xarray:open_kwargs"])
print(json.dumps({"data_vars": sorted(ds.data_vars), "dims": {k: int(v) for k, v in ds.sizes.items()}}))
"#;
    let v = run_python(&py, script, &[item_path.to_str().unwrap()]);
    let vars = serde_json::to_value(&item).unwrap()["properties"]["cube:variables"].clone();
    let mut data: Vec<String> = vars
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, e)| e["type"] == "data")
        .map(|(k, _)| k.clone())
        .collect();
    data.sort();
    assert_eq!(v["data_vars"], json!(data));
    let dims = serde_json::to_value(&item).unwrap()["properties"]["cube:dimensions"].clone();
    for (name, size) in v["dims"].as_object().unwrap() {
        assert!(
            dims.get(name).is_some(),
            "xarray dimension {name} not in cube:dimensions"
        );
        let _ = size;
    }
}

const EXTENTS: &str = r#"
import json, sys
import numpy as np, xarray as xr
ds = xr.open_dataset(sys.argv[1], engine="netcdf4")
def iso(t):
    if isinstance(t, np.datetime64):
        return np.datetime_as_string(t, unit="ns")
    return t.isoformat()
out = {}
for name in [n for n in sys.argv[2].split(",") if n]:
    v = ds[name].values.ravel()
    if v.dtype.kind == "M":
        v = v[~np.isnat(v)]
        out[name] = [iso(v.min()), iso(v.max())]
    else:
        out[name] = [iso(min(v)), iso(max(v))]
for name in [n for n in sys.argv[3].split(",") if n]:
    v = ds[name].values
    out[name] = [float(np.nanmin(v)), float(np.nanmax(v))]
print(json.dumps(out))
"#;

/// xarray's (cftime's) first and last dates over `times`, and min/max of `coords`.
fn xarray_extents(
    py: &std::path::PathBuf,
    rel: &str,
    times: &[&str],
    coords: &[&str],
) -> serde_json::Value {
    run_python(
        py,
        EXTENTS,
        &[&data(rel), &times.join(","), &coords.join(",")],
    )
}

/// `2001-01-01T00:00:00` and cftime's `2001-01-01T00:00:00` (with or without
/// fractional seconds) as the same instant text.
fn same_instant(ours: &str, theirs: &str) -> bool {
    let trim = |s: &str| {
        let s = s.trim_end_matches('Z');
        match s.split_once('.') {
            Some((a, b)) => {
                let b = b.trim_end_matches('0');
                if b.is_empty() {
                    a.to_string()
                } else {
                    format!("{a}.{b}")
                }
            }
            None => s.to_string(),
        }
    };
    trim(ours) == trim(theirs)
}

#[test]
fn xarray_agrees_on_the_time_ranges() {
    let Some(py) = python() else { return };
    // (file, time variables whose union is the range)
    let cases: &[(&str, &[&str])] = &[
        ("real/netcdf3/sub.nc", &["time"]),
        ("real/netcdf4/era5-levels-members.nc", &["time"]),
        ("real/netcdf4/cordex.nc", &["time_bnds"]),
        (
            "real/netcdf4/20171025_2056.Cloud_Top_Height.nc",
            &["time_bounds"],
        ),
        ("fixtures/nc4_cf.nc", &["time_bnds"]),
        ("real/netcdf3/example_arm_sonde.cdf", &["time"]),
    ];
    for (rel, times) in cases {
        let opts = DescribeOptions {
            null_geometry: true,
            ..Default::default()
        };
        let (_, d) = describe_file(rel, &opts);
        let t = d.temporal.unwrap();
        let v = xarray_extents(&py, rel, times, &[]);
        let lo = times
            .iter()
            .map(|n| v[n][0].as_str().unwrap().to_string())
            .min()
            .unwrap();
        let hi = times
            .iter()
            .map(|n| v[n][1].as_str().unwrap().to_string())
            .max()
            .unwrap();
        assert!(
            same_instant(&t.start_native, &lo),
            "{rel}: start {} vs xarray {lo}",
            t.start_native
        );
        assert!(
            same_instant(&t.end_native, &hi),
            "{rel}: end {} vs xarray {hi}",
            t.end_native
        );
    }
}

#[test]
fn xarray_agrees_on_the_coordinate_extents() {
    let Some(py) = python() else { return };
    for (rel, lat, lon) in [
        ("real/netcdf3/sub.nc", "latitude", "longitude"),
        (
            "real/netcdf4/era5-levels-members.nc",
            "latitude",
            "longitude",
        ),
        ("fixtures/nc4_groups.nc", "lat", "lon"),
    ] {
        let (_, d) = describe_file(rel, &DescribeOptions::default());
        let v = xarray_extents(&py, rel, &[], &[lat, lon]);
        let dims = &d.cube_dimensions;
        assert_eq!(dims[lat]["extent"][0].as_f64(), v[lat][0].as_f64(), "{rel}");
        assert_eq!(dims[lat]["extent"][1].as_f64(), v[lat][1].as_f64(), "{rel}");
        assert_eq!(dims[lon]["extent"][0].as_f64(), v[lon][0].as_f64(), "{rel}");
        assert_eq!(dims[lon]["extent"][1].as_f64(), v[lon][1].as_f64(), "{rel}");
    }
}

#[test]
fn pystac_walks_a_published_catalog_from_its_folder() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("stac");
    write_catalog(&out, Some("https://example.invalid/stac"));
    let root = out.join("catalog.json");
    let v = run_python(&py, WALK, &[root.to_str().unwrap()]);
    assert_eq!(v["items"], json!(["sub", "cordex", "lcc_km"]));
}
