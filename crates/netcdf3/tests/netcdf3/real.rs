//! Real files written by the reference tools, under `tests/data/real/netcdf3/`.
//! Expected values were checked against `ncdump` (netcdf-bin 4.9) and by
//! decoding the bytes at the computed offsets.

use crate::support::MemSource;
use arco_core::{AttrValue, DType, Dataset, StorageLayout, Values};
use arco_netcdf3::Nc3File;
use std::sync::Arc;

fn path(name: &str) -> String {
    arco_testkit::repo_path(&format!("tests/data/real/netcdf3/{name}"))
}

fn open_real(name: &str) -> (Nc3File, Vec<u8>) {
    let p = path(name);
    let source = Arc::new(arco_storage::LocalFile::open(&p, name).unwrap());
    (Nc3File::open(source).unwrap(), std::fs::read(&p).unwrap())
}

fn text<'a>(ds: &'a Dataset, var: &str, attr: &str) -> &'a str {
    ds.variable(var)
        .unwrap()
        .attr(attr)
        .and_then(AttrValue::as_str)
        .unwrap()
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_be_bytes(c.try_into().unwrap()))
        .collect()
}

fn f64_at(bytes: &[u8], at: u64) -> f64 {
    f64::from_be_bytes(bytes[at as usize..at as usize + 8].try_into().unwrap())
}

#[test]
fn sub_nc_is_a_64bit_offset_file_of_packed_shorts() {
    let (file, bytes) = open_real("sub.nc");
    let ds = file.dataset();
    assert_eq!(ds.format, "netcdf3-64bit-offset");
    assert_eq!(ds.source, "sub.nc");
    assert_eq!(ds.size, 8312);
    assert_eq!(file.numrecs(), 0);

    let dims: Vec<_> = ds
        .root
        .dimensions
        .iter()
        .map(|d| (d.name.as_str(), d.size, d.unlimited))
        .collect();
    assert_eq!(
        dims,
        [
            ("latitude", 9, false),
            ("level", 2, false),
            ("longitude", 9, false),
            ("time", 10, false)
        ]
    );
    let vars: Vec<_> = ds
        .root
        .variables
        .iter()
        .map(|v| (v.name.as_str(), v.shape.clone(), v.dtype.clone()))
        .collect();
    assert_eq!(
        vars,
        [
            ("latitude", vec![9], DType::F32),
            ("level", vec![2], DType::I32),
            ("longitude", vec![9], DType::F32),
            ("time", vec![10], DType::I32),
            ("u", vec![10, 2, 9, 9], DType::I16),
            ("v", vec![10, 2, 9, 9], DType::I16),
        ]
    );

    let u = ds.variable("u").unwrap();
    assert_eq!(u.dims, ["time", "level", "latitude", "longitude"]);
    assert_eq!(u.layout, StorageLayout::Contiguous);
    let names: Vec<_> = u.attributes.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "scale_factor",
            "add_offset",
            "_FillValue",
            "missing_value",
            "units",
            "long_name",
            "standard_name"
        ]
    );
    assert_eq!(
        u.attr("scale_factor"),
        Some(&AttrValue::Array(Values::F64(vec![
            0.000_270_934_372_177_590_85
        ])))
    );
    assert_eq!(
        u.attr("add_offset"),
        Some(&AttrValue::Array(Values::F64(vec![4.152_551_605_567_817])))
    );
    assert_eq!(
        u.attr("missing_value"),
        Some(&AttrValue::Array(Values::I16(vec![-32767])))
    );
    assert_eq!(u.attributes[2].dtype, DType::I16);
    assert_eq!(
        u.fill_value,
        Some(AttrValue::Array(Values::I16(vec![-32767])))
    );
    assert_eq!(text(ds, "u", "units"), "m s**-1");
    assert_eq!(text(ds, "v", "standard_name"), "northward_wind");
    assert_eq!(text(ds, "time", "calendar"), "gregorian");

    assert_eq!(
        ds.root.attr("Conventions").and_then(AttrValue::as_str),
        Some("CF-1.6")
    );
    let history = ds.root.attr("history").and_then(AttrValue::as_str).unwrap();
    assert!(history
        .starts_with("Fri Jul  3 20:45:39 2020: ncks -d time,1,10 data.nc sub.nc\n2020-06-30"));

    // ncdump prints these to 15 digits; the stored doubles were decoded with Python.
    // Data follows the 1712-byte header, each variable padded to 4 bytes.
    let offsets: Vec<_> = ["latitude", "level", "longitude", "time", "u", "v"]
        .iter()
        .map(|v| {
            let m = file.manifest(v).unwrap();
            assert_eq!(m.chunks.len(), 1);
            assert_eq!(m.grid.chunk_shape, m.grid.array_shape);
            (m.chunks[0].offset, m.chunks[0].length)
        })
        .collect();
    assert_eq!(
        offsets,
        [
            (1712, 36),
            (1748, 8),
            (1756, 36),
            (1792, 40),
            (1832, 3240),
            (5072, 3240)
        ]
    );

    let m = file.manifest("latitude").unwrap();
    let c = &m.chunks[0];
    let lat = f32s(&bytes[c.offset as usize..(c.offset + c.length) as usize]);
    assert_eq!(
        lat,
        [52.0, 51.75, 51.5, 51.25, 51.0, 50.75, 50.5, 50.25, 50.0]
    );

    let m = file.manifest("u").unwrap();
    assert_eq!(m.fill_bytes, Some(vec![0x80, 0x01]));
    assert_eq!(m.chunks[0].index, [0, 0, 0, 0]);
    let at = m.chunks[0].offset as usize;
    assert_eq!(i16::from_be_bytes([bytes[at], bytes[at + 1]]), 31398);
    let m = file.manifest("v").unwrap();
    let end = (m.chunks[0].offset + m.chunks[0].length) as usize;
    assert_eq!(end, bytes.len());
    assert_eq!(i16::from_be_bytes([bytes[end - 2], bytes[end - 1]]), -5523);
}

#[test]
fn the_arm_sonde_file_has_25_record_variables_of_839_records() {
    let (file, bytes) = open_real("example_arm_sonde.cdf");
    let ds = file.dataset();
    assert_eq!(ds.format, "netcdf3-classic");
    assert_eq!(ds.size, 101_032);
    assert_eq!(ds.root.dimensions.len(), 1);
    let time = &ds.root.dimensions[0];
    assert_eq!(
        (time.name.as_str(), time.size, time.unlimited),
        ("time", 839, true)
    );
    assert_eq!(file.numrecs(), 839);
    // two doubles and 23 four-byte values per record
    assert_eq!(file.record_size(), 2 * 8 + 23 * 4);

    assert_eq!(ds.root.variables.len(), 26);
    let base = ds.variable("base_time").unwrap();
    assert!(base.shape.is_empty());
    assert_eq!(base.dtype, DType::I32);
    assert_eq!(base.layout, StorageLayout::Contiguous);
    let m = file.manifest("base_time").unwrap();
    assert_eq!(m.chunks.len(), 1);
    assert!(m.chunks[0].index.is_empty());
    assert_eq!((m.chunks[0].offset, m.chunks[0].length), (10_416, 4));
    let at = 10_416;
    assert_eq!(
        i32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()),
        1_305_880_080
    );

    let records: Vec<_> = ds
        .root
        .variables
        .iter()
        .filter(|v| v.layout == StorageLayout::Record)
        .collect();
    assert_eq!(records.len(), 25);
    for v in &records {
        assert_eq!(v.shape, [839]);
        assert_eq!(v.dims, ["time"]);
        assert_eq!(v.chunk_shape, Some(vec![1]));
    }

    let m = file.manifest("time_offset").unwrap();
    assert_eq!(m.dtype, DType::F64);
    assert_eq!(m.grid.array_shape, [839]);
    assert_eq!(m.grid.chunk_shape, [1]);
    assert_eq!(m.chunks.len(), 839);
    assert_eq!(m.chunks[0].offset, 10_420);
    assert_eq!(m.chunks[838].offset, 10_420 + 838 * 108);
    assert_eq!(m.chunks[838].index, [838]);
    assert!(m.chunks.iter().all(|c| c.length == 8));
    let values: Vec<f64> = m.chunks.iter().map(|c| f64_at(&bytes, c.offset)).collect();
    assert_eq!(values[..4], [0.0, 2.0, 4.0, 6.0]);
    assert_eq!(values[838], 1676.0);
    assert_eq!(
        m.fill_bytes,
        Some(9.969_209_968_386_869e36_f64.to_be_bytes().to_vec())
    );

    // `alt` is the last variable of each record: the file ends with it.
    let m = file.manifest("alt").unwrap();
    assert_eq!(m.chunks[0].offset, 10_420 + 104);
    let last = m.chunks.last().unwrap();
    assert_eq!(last.offset + last.length, bytes.len() as u64);
    let at = last.offset as usize;
    assert_eq!(
        f32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()),
        5528.7
    );

    let pres = ds.variable("pres").unwrap();
    assert_eq!(
        pres.attr("valid_max"),
        Some(&AttrValue::Array(Values::F32(vec![1100.0])))
    );
    assert_eq!(pres.fill_value, None);
    assert_eq!(text(ds, "qc_time", "bit_1_assessment"), "Indeterminate");
    assert_eq!(
        ds.variable("qc_time").unwrap().attr("prior_sample_flag"),
        Some(&AttrValue::Array(Values::I32(vec![0])))
    );
    assert_eq!(
        ds.root.attr("site_id").and_then(AttrValue::as_str),
        Some("sgp")
    );
    assert_eq!(
        ds.root.attr("phase_fitting_1").and_then(AttrValue::as_str),
        Some("")
    );
    let status = ds
        .root
        .attr("launch_status")
        .and_then(AttrValue::as_str)
        .unwrap();
    assert!(
        status.starts_with("\r\n100520114  SGPC1/MW31\r\n"),
        "{status:?}"
    );
}

#[test]
fn truncated_copies_of_the_real_files_are_errors() {
    for name in ["sub.nc", "example_arm_sonde.cdf"] {
        let bytes = std::fs::read(path(name)).unwrap();
        let cuts = [
            0,
            3,
            4,
            100,
            1000,
            1711,
            1712,
            5000,
            10_419,
            10_420,
            bytes.len() - 1,
        ];
        for n in cuts.into_iter().filter(|&n| n < bytes.len()) {
            let source = MemSource::new(name, bytes[..n].to_vec());
            let err = Nc3File::open(source).unwrap_err();
            assert!(
                matches!(err, arco_netcdf3::Error::Format { .. }),
                "{name} cut at {n}: {err}"
            );
            assert!(err.to_string().starts_with(name), "{err}");
        }
    }
}
