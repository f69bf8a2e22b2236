//! Overview levels (`--pyramid`): shapes, values worked out by hand, the
//! stopping rule, resume after an interruption, and `verify` catching a
//! broken level. The source is a small Zarr store written here, so every
//! value and attribute is known.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arco_core::{
    AttrValue, Attribute, DType, Dataset, Endian, Group, NdArray, Selection, StorageLayout, Values,
    Variable,
};
use arco_engine::pyramid::{design, PyramidOptions, Resampling};
use arco_engine::verify::{verify, DestView, Difference, VerifyOptions};
use arco_engine::{convert, plan, ConvertOptions, MemoryBudget, OutputOptions, SourceStamp};
use arco_formats::Reader;
use arco_zarr::{GroupSpec, ZarrFormat, ZarrStore};
use std::path::Path;

const FILL: f32 = -9999.0;

fn num(name: &str, v: Values, dtype: DType) -> Attribute {
    Attribute {
        name: name.into(),
        value: AttrValue::Array(v),
        dtype,
    }
}

fn var(
    name: &str,
    dims: &[&str],
    shape: &[u64],
    dtype: DType,
    attributes: Vec<Attribute>,
) -> Variable {
    Variable {
        name: name.into(),
        path: format!("/{name}"),
        dims: dims.iter().map(|d| d.to_string()).collect(),
        shape: shape.to_vec(),
        dtype,
        endian: Endian::Little,
        layout: StorageLayout::Chunked,
        chunk_shape: None,
        codecs: vec![],
        fill_value: None,
        attributes,
    }
}

/// `t[time, lat, lon]` (float32, -9999 missing), `packed` (int16 with
/// scale_factor 0.5 and add_offset 10), `flags` (uint8 flag_values),
/// `zonal[time, lat]` and `lat_bnds`, on a 5 x 6 latitude/longitude grid.
fn t_values() -> Vec<f32> {
    // time 0: row-major 5 x 6; time 1: the same plus 100.
    let t0: Vec<f32> = vec![
        1.0,
        2.0,
        3.0,
        4.0,
        5.0,
        6.0, //
        7.0,
        FILL,
        9.0,
        10.0,
        FILL,
        FILL, //
        13.0,
        14.0,
        15.0,
        16.0,
        17.0,
        18.0, //
        19.0,
        20.0,
        f32::NAN,
        22.0,
        23.0,
        24.0, //
        25.0,
        26.0,
        27.0,
        28.0,
        29.0,
        30.0,
    ];
    let mut all = t0.clone();
    all.extend(t0.iter().map(|x| {
        if *x == FILL || x.is_nan() {
            *x
        } else {
            x + 100.0
        }
    }));
    all
}

fn write_source(dir: &Path) -> String {
    let loc = dir.join("src.zarr").to_str().unwrap().to_string();
    let store = ZarrStore::create(&loc, &Default::default(), ZarrFormat::V3).unwrap();
    let mut root = serde_json::Map::new();
    root.insert("Conventions".into(), "CF-1.8".into());
    store
        .create_group(&GroupSpec {
            path: "/".into(),
            attributes: root,
        })
        .unwrap();
    let put = |v: &Variable, values: Values| {
        let chunk = v.shape.iter().map(|&n| n.max(1)).collect();
        let spec =
            arco_zarr::array_spec_for(v, chunk, None, arco_zarr::default_compression(&v.dtype));
        let a = store.create_array(&spec).unwrap();
        a.write_region(
            &vec![0; v.shape.len()],
            &NdArray {
                shape: v.shape.clone(),
                values,
            },
        )
        .unwrap();
    };
    put(
        &var(
            "lat",
            &["lat"],
            &[5],
            DType::F64,
            vec![
                Attribute::text("units", "degrees_north"),
                Attribute::text("bounds", "lat_bnds"),
            ],
        ),
        Values::F64(vec![0.0, 1.0, 2.0, 3.0, 4.0]),
    );
    put(
        &var(
            "lon",
            &["lon"],
            &[6],
            DType::F64,
            vec![Attribute::text("units", "degrees_east")],
        ),
        Values::F64(vec![0.0, 10.0, 20.0, 30.0, 40.0, 50.0]),
    );
    put(
        &var(
            "time",
            &["time"],
            &[2],
            DType::I32,
            vec![Attribute::text("units", "days since 2000-01-01")],
        ),
        Values::I32(vec![0, 1]),
    );
    put(
        &var("lat_bnds", &["lat", "nv"], &[5, 2], DType::F64, vec![]),
        Values::F64((0..10).map(|i| i as f64 * 0.5).collect()),
    );
    put(
        &var(
            "t",
            &["time", "lat", "lon"],
            &[2, 5, 6],
            DType::F32,
            vec![
                num("_FillValue", Values::F32(vec![FILL]), DType::F32),
                Attribute::text("units", "K"),
            ],
        ),
        Values::F32(t_values()),
    );
    // Stored integers 0..29 with one missing; decoded = 10 + 0.5 * stored.
    let mut packed: Vec<i16> = (0..30).collect();
    packed[7] = -32767;
    put(
        &var(
            "packed",
            &["lat", "lon"],
            &[5, 6],
            DType::I16,
            vec![
                num("_FillValue", Values::I16(vec![-32767]), DType::I16),
                num("scale_factor", Values::F64(vec![0.5]), DType::F64),
                num("add_offset", Values::F64(vec![10.0]), DType::F64),
            ],
        ),
        Values::I16(packed),
    );
    put(
        &var(
            "flags",
            &["lat", "lon"],
            &[5, 6],
            DType::U8,
            vec![
                num("flag_values", Values::U8(vec![0, 1, 2]), DType::U8),
                Attribute::text("flag_meanings", "land sea ice"),
            ],
        ),
        Values::U8((0..30).map(|i| (i % 3) as u8).collect()),
    );
    put(
        &var("zonal", &["time", "lat"], &[2, 5], DType::F32, vec![]),
        Values::F32((0..10).map(|i| i as f32).collect()),
    );
    store.consolidate().unwrap();
    loc
}

fn options(levels: Option<u32>, resampling: Resampling) -> ConvertOptions {
    ConvertOptions {
        memory: MemoryBudget::user(256 << 20),
        threads: 2,
        pyramid: Some(PyramidOptions { levels, resampling }),
        ..ConvertOptions::default()
    }
}

/// The source's stamp: its root metadata document stands for the store
/// (provenance hashes files).
fn stamps(src: &str, reader: &dyn Reader) -> Vec<SourceStamp> {
    vec![SourceStamp::of(
        &format!("{src}/zarr.json"),
        reader.dataset().size,
    )]
}

fn convert_to(
    reader: &dyn Reader,
    src: &str,
    dest: &Path,
    opts: &ConvertOptions,
    fail_after: Option<u64>,
) -> arco_engine::Result<arco_engine::Summary> {
    let plan = plan(reader, &stamps(src, reader), opts).unwrap();
    let mut out = OutputOptions::new(dest.to_str().unwrap());
    out.stac = None;
    out.fail_after_tasks = fail_after;
    convert(reader, &plan, &out, &|_| {})
}

fn read(dest: &Path, path: &str) -> NdArray {
    let store = ZarrStore::open(dest.to_str().unwrap(), &Default::default()).unwrap();
    let a = store.array(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    a.read(&Selection::all(&a.spec().shape)).unwrap()
}

fn has(dest: &Path, path: &str) -> bool {
    let store = ZarrStore::open(dest.to_str().unwrap(), &Default::default()).unwrap();
    store.array(path).is_ok()
}

fn f32s(v: &Values) -> Vec<f32> {
    match v {
        Values::F32(x) => x.clone(),
        other => panic!("float32 expected, got {}", other.type_name()),
    }
}

#[test]
fn levels_hold_two_by_two_means_worked_out_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let src = write_source(dir.path());
    let reader = arco_formats::open_zarr(&src, &Default::default()).unwrap();
    let dest = dir.path().join("out.zarr");
    let summary = convert_to(
        reader.as_ref(),
        &src,
        &dest,
        &options(Some(2), Resampling::Mean),
        None,
    )
    .unwrap();
    assert_eq!(summary.pyramid_levels, 2);

    // The full resolution is untouched at the root.
    assert_eq!(f32s(&read(&dest, "/t").values).len(), 60);

    // Level 1: 5 x 6 -> 3 x 3; level 2: 2 x 2.
    let t1 = read(&dest, "/1/t");
    assert_eq!(t1.shape, vec![2, 3, 3]);
    assert_eq!(read(&dest, "/2/t").shape, vec![2, 2, 2]);
    // Blocks of time 0 (missing values ignored; the last row is a half block):
    //   {1,2,7,F}=10/3  {3,4,9,10}=6.5  {5,6,F,F}=5.5
    //   {13,14,19,20}=16.5  {15,16,NaN,22}=53/3  {17,18,23,24}=20.5
    //   {25,26}=25.5  {27,28}=27.5  {29,30}=29.5
    let want: Vec<f32> = [
        10.0 / 3.0,
        6.5,
        5.5,
        16.5,
        53.0 / 3.0,
        20.5,
        25.5,
        27.5,
        29.5,
    ]
    .iter()
    .map(|&x: &f64| x as f32)
    .collect();
    assert_eq!(&f32s(&t1.values)[..9], &want[..]);
    // Level 2 from level 1: {10/3, 6.5, 16.5, 53/3} and so on.
    let t2 = f32s(&read(&dest, "/2/t").values);
    let l1 = f32s(&t1.values);
    let mean =
        |xs: &[f32]| (xs.iter().map(|&x| f64::from(x)).sum::<f64>() / xs.len() as f64) as f32;
    assert_eq!(t2[0], mean(&[l1[0], l1[1], l1[3], l1[4]]));
    assert_eq!(t2[3], l1[8]);

    // Coordinates: the mean of each block's coordinates.
    assert_eq!(
        read(&dest, "/1/lat").values,
        Values::F64(vec![0.5, 2.5, 4.0])
    );
    assert_eq!(
        read(&dest, "/1/lon").values,
        Values::F64(vec![5.0, 25.0, 45.0])
    );
    assert_eq!(read(&dest, "/2/lat").values, Values::F64(vec![1.5, 4.0]));

    // Packed: means of stored integers, rounded half to even, missing kept.
    //   {0,1,6,M}=7/3->2  {2,3,8,9}=5.5->6  {4,5,10,11}=7.5->8
    let packed = read(&dest, "/1/packed");
    let Values::I16(p) = &packed.values else {
        panic!("int16")
    };
    assert_eq!(&p[..3], &[2, 6, 8]);
    // A block of missing values only stays missing (the row below is full).
    // Flags: the top-left value, never a mean.
    let Values::U8(f) = &read(&dest, "/1/flags").values else {
        panic!("uint8")
    };
    assert_eq!(f, &vec![0, 2, 1, 0, 2, 1, 0, 2, 1]);

    // What does not depend on the grid is copied; what depends on it without
    // being on it is left out.
    assert_eq!(read(&dest, "/1/time").values, Values::I32(vec![0, 1]));
    assert!(!has(&dest, "/1/lat_bnds"));
    assert!(!has(&dest, "/1/zonal"));

    // The root declares the levels with the multiscales convention.
    let root: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dest.join("zarr.json")).unwrap()).unwrap();
    let attrs = &root["attributes"];
    assert_eq!(
        attrs["zarr_conventions"][0]["uuid"],
        arco_zarr::MULTISCALES_UUID
    );
    assert_eq!(attrs["multiscales"]["layout"][0]["asset"], "1");
    assert_eq!(attrs["multiscales"]["layout"][1]["derived_from"], "1");
    assert_eq!(attrs["arco:provenance"]["options"]["pyramid"]["levels"], 2);
    // Level chunks: 1 along time, the whole (small) level horizontally.
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dest.join("1/t/zarr.json")).unwrap()).unwrap();
    assert_eq!(
        meta["chunk_grid"]["configuration"]["chunk_shape"],
        serde_json::json!([1, 3, 3])
    );
    // The level's lat no longer names the bounds it does not have.
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dest.join("1/lat/zarr.json")).unwrap()).unwrap();
    assert!(meta["attributes"].get("bounds").is_none());

    // Readers find the levels from the root's attributes.
    let out = arco_formats::open_zarr(dest.to_str().unwrap(), &Default::default()).unwrap();
    let levels = arco_zarr::multiscale_levels(&out.dataset().root.attributes);
    let got: Vec<(&str, u64)> = levels.iter().map(|l| (l.path.as_str(), l.factor)).collect();
    assert_eq!(got, [("", 1), ("1", 2), ("2", 4)]);

    // And verify recomputes every level and finds them equal.
    let view = DestView::open_zarr(dest.to_str().unwrap(), &Default::default()).unwrap();
    let report = verify(reader.as_ref(), &view, &VerifyOptions::default()).unwrap();
    assert!(report.ok, "{:#?}", report.differences);
    assert_eq!(report.pyramid.len(), 2);
    assert!(report.pyramid[0].elements >= 18 + 9 + 9 + 3 + 3);
}

#[test]
fn nearest_resampling_takes_the_top_left_value() {
    let dir = tempfile::tempdir().unwrap();
    let src = write_source(dir.path());
    let reader = arco_formats::open_zarr(&src, &Default::default()).unwrap();
    let dest = dir.path().join("out.zarr");
    convert_to(
        reader.as_ref(),
        &src,
        &dest,
        &options(Some(1), Resampling::Nearest),
        None,
    )
    .unwrap();
    let t1 = f32s(&read(&dest, "/1/t").values);
    assert_eq!(
        &t1[..9],
        &[1.0, 3.0, 5.0, 13.0, 15.0, 17.0, 25.0, 27.0, 29.0]
    );
    // Coordinates still average their block.
    assert_eq!(
        read(&dest, "/1/lon").values,
        Values::F64(vec![5.0, 25.0, 45.0])
    );
    assert!(!has(&dest, "/2/t"));
}

/// Metadata only: designing levels reads no values.
struct Metadata(Dataset);

impl Reader for Metadata {
    fn dataset(&self) -> &Dataset {
        &self.0
    }
    fn manifest(&self, variable: &str) -> arco_formats::Result<arco_core::ChunkManifest> {
        Err(arco_formats::Error::UnknownFormat {
            location: variable.into(),
            magic: String::new(),
        })
    }
    fn read(&self, variable: &str, _: &Selection) -> arco_formats::Result<NdArray> {
        self.manifest(variable).map(|_| unreachable!())
    }
}

/// A dataset with one grid of `nx` by `ny` (no data needed to design levels).
fn grid_dataset(nx: u64, ny: u64) -> Metadata {
    let mut root = Group::new("", "/");
    root.variables.push(var(
        "x",
        &["x"],
        &[nx],
        DType::F64,
        vec![Attribute::text("units", "degrees_east")],
    ));
    root.variables.push(var(
        "y",
        &["y"],
        &[ny],
        DType::F64,
        vec![Attribute::text("units", "degrees_north")],
    ));
    root.variables
        .push(var("v", &["y", "x"], &[ny, nx], DType::F32, vec![]));
    Metadata(Dataset {
        source: "memory".into(),
        format: "test".into(),
        size: 0,
        root,
    })
}

#[test]
fn levels_stop_before_both_horizontal_dimensions_fall_under_256() {
    let count = |nx, ny, levels| {
        design(
            &grid_dataset(nx, ny),
            &PyramidOptions {
                levels,
                ..Default::default()
            },
            &[],
        )
        .unwrap()
        .levels
        .len()
    };
    // 1440 x 721: 720 x 361, 360 x 181; 180 x 91 would be under 256 both ways.
    assert_eq!(count(1440, 721, None), 2);
    // One long dimension is enough to go on.
    assert_eq!(count(600, 10, None), 1);
    assert_eq!(count(200, 200, None), 0);
    // An explicit count wins, but never past a single cell.
    assert_eq!(count(200, 200, Some(3)), 3);
    assert_eq!(count(4, 3, Some(10)), 2);
    let d = design(&grid_dataset(1440, 721), &PyramidOptions::default(), &[]).unwrap();
    let factors: Vec<u64> = d.levels.iter().map(|l| l.factor).collect();
    assert_eq!(factors, [2, 4]);
}

#[test]
fn an_interrupted_pyramid_resumes_without_redoing_finished_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let src = write_source(dir.path());
    let reader = arco_formats::open_zarr(&src, &Default::default()).unwrap();
    // One thread: the hook then stops after exactly that many tasks.
    let opts = ConvertOptions {
        threads: 1,
        ..options(Some(2), Resampling::Mean)
    };
    let p = plan(reader.as_ref(), &stamps(&src, reader.as_ref()), &opts).unwrap();
    let base_tasks = p.tasks().len() as u64;
    let pyramid_tasks = p.pyramid.as_ref().unwrap().all_tasks().len() as u64;
    assert!(pyramid_tasks >= 10, "{pyramid_tasks} pyramid tasks");

    // Stop in the middle of level 1.
    let dest = dir.path().join("out.zarr");
    let err = convert_to(reader.as_ref(), &src, &dest, &opts, Some(base_tasks + 3)).unwrap_err();
    assert!(matches!(err, arco_engine::Error::Interrupted(_)), "{err}");
    assert!(!dest.exists());
    let summary = convert_to(reader.as_ref(), &src, &dest, &opts, None).unwrap();
    assert_eq!(summary.tasks_skipped, base_tasks + 3);
    assert_eq!(summary.tasks_run, pyramid_tasks - 3);

    // Same levels as a run that was never interrupted.
    let fresh = dir.path().join("fresh.zarr");
    convert_to(reader.as_ref(), &src, &fresh, &opts, None).unwrap();
    for path in ["/1/t", "/2/t", "/1/packed", "/2/lat", "/1/flags"] {
        let (a, b) = (read(&dest, path), read(&fresh, path));
        assert_eq!(a.shape, b.shape, "{path}");
        match (&a.values, &b.values) {
            (Values::F32(x), Values::F32(y)) => assert!(
                x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits()),
                "{path}"
            ),
            (x, y) => assert_eq!(x, y, "{path}"),
        }
    }
    let view = DestView::open_zarr(dest.to_str().unwrap(), &Default::default()).unwrap();
    assert!(
        verify(reader.as_ref(), &view, &VerifyOptions::default())
            .unwrap()
            .ok
    );
}

#[test]
fn verify_names_the_level_variable_and_index_of_an_altered_value() {
    let dir = tempfile::tempdir().unwrap();
    let src = write_source(dir.path());
    let reader = arco_formats::open_zarr(&src, &Default::default()).unwrap();
    let dest = dir.path().join("out.zarr");
    convert_to(
        reader.as_ref(),
        &src,
        &dest,
        &options(Some(2), Resampling::Mean),
        None,
    )
    .unwrap();

    // Alter /1/t[1, 2, 0] (a value whose level-2 block is then stale too).
    let store = ZarrStore::open(dest.to_str().unwrap(), &Default::default()).unwrap();
    let a = store.array("/1/t").unwrap();
    a.write_region(
        &[1, 2, 0],
        &NdArray {
            shape: vec![1, 1, 1],
            values: Values::F32(vec![-5.0]),
        },
    )
    .unwrap();
    let view = DestView::open_zarr(dest.to_str().unwrap(), &Default::default()).unwrap();
    let report = verify(reader.as_ref(), &view, &VerifyOptions::default()).unwrap();
    assert!(!report.ok);
    let found = report.differences.iter().any(|d| {
        matches!(d, Difference::Value { variable, index, .. } if variable == "/1/t" && index == &vec![1, 2, 0])
    });
    assert!(found, "{:#?}", report.differences);
    assert_eq!(report.pyramid[0].value_differences, 1);
    // Level 2 is recomputed from the altered level 1, so it differs too.
    assert_eq!(report.pyramid[1].value_differences, 1);

    // A level the root no longer declares fails as well.
    let mut root: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dest.join("zarr.json")).unwrap()).unwrap();
    root["attributes"]["multiscales"]["layout"]
        .as_array_mut()
        .unwrap()
        .pop();
    std::fs::write(dest.join("zarr.json"), serde_json::to_vec(&root).unwrap()).unwrap();
    let view = DestView::open_zarr(dest.to_str().unwrap(), &Default::default()).unwrap();
    let report = verify(reader.as_ref(), &view, &VerifyOptions::default()).unwrap();
    assert!(report
        .differences
        .iter()
        .any(|d| matches!(d, Difference::Level { level, .. } if level == "2")));
}
