#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Repositories as inputs: what arco writes from real files reads back
//! through `open_reader` (zarrs storage over an icechunk session) with the
//! values arco reads from the source itself — locally, at an S3 prefix on a
//! moto server, at a branch or tag, and with freshness of the sources.

#[path = "support/common.rs"]
mod common;

use arco_core::Selection;
use arco_formats::Reader;
use arco_icechunk::{
    changed_sources, is_icechunk_location, open_reader, write, write_to, IcechunkOptions,
    SpecVersion,
};
use arco_storage::testing::Moto;
use arco_storage::OpenOptions;
use arco_virtual::{build, Input, Options, Source};
use std::path::Path;

fn options(spec_version: SpecVersion) -> IcechunkOptions {
    IcechunkOptions {
        spec_version,
        message: "test".to_string(),
        overwrite: false,
    }
}

/// Every variable of `got` holds the values of the same variable of `want`.
fn assert_same_values(want: &dyn Reader, got: &dyn Reader) {
    let want_vars: Vec<String> = want
        .dataset()
        .root
        .all_variables()
        .iter()
        .map(|v| v.path.clone())
        .collect();
    let got_vars: Vec<String> = got
        .dataset()
        .root
        .all_variables()
        .iter()
        .map(|v| v.path.clone())
        .collect();
    let mut sorted_want = want_vars.clone();
    sorted_want.sort();
    let mut sorted_got = got_vars;
    sorted_got.sort();
    assert_eq!(sorted_got, sorted_want, "variables differ");
    for path in &want_vars {
        let v = want.dataset().variable(path).unwrap();
        let sel = Selection::all(&v.shape);
        let a = want.read(path, &sel).unwrap();
        let b = got
            .read(path, &sel)
            .unwrap_or_else(|e| panic!("{path} through the repository: {e}"));
        // NaN-aware: JSON writes NaN as null on both sides.
        assert_eq!(a.shape, b.shape, "{path}: shapes differ");
        assert!(
            serde_json::to_string(&a).unwrap() == serde_json::to_string(&b).unwrap(),
            "{path}: values differ"
        );
    }
}

fn source_reader(path: &Path) -> Box<dyn Reader> {
    let bytes = arco_storage::open(path.to_str().unwrap(), &Default::default()).unwrap();
    arco_formats::open(bytes).unwrap()
}

#[test]
fn a_repository_of_a_real_file_reads_back_with_the_values_of_the_source() {
    for relative in ["netcdf3/sub.nc", "netcdf4/cordex.nc", "netcdf4/lcc_km.nc"] {
        let refs = common::references(relative);
        let src = source_reader(&common::real_dir().join(relative));
        for version in [SpecVersion::V1, SpecVersion::V2] {
            let dir = tempfile::tempdir().unwrap();
            let dest = dir.path().join("out.icechunk");
            write(&refs, &dest, &options(version)).unwrap();
            let location = dest.to_str().unwrap();
            assert!(is_icechunk_location(location));
            let got = open_reader(location, &OpenOptions::default()).unwrap();
            assert_same_values(src.as_ref(), got.as_ref());
            // A renamed repository is recognised by its layout.
            let plain = dir.path().join("renamed");
            std::fs::rename(&dest, &plain).unwrap();
            assert!(is_icechunk_location(plain.to_str().unwrap()));
        }
    }
}

#[test]
fn inlined_chunks_read_back_like_virtual_ones() {
    let relative = "netcdf4/cordex.nc";
    let path = common::real_dir().join(relative);
    let location = path.to_str().unwrap().to_string();
    let bytes = arco_storage::open(&location, &Default::default()).unwrap();
    let reader = arco_formats::open(bytes.clone()).unwrap();
    let sources = vec![Source { location, bytes }];
    let opts = Options {
        inline_threshold: 1 << 20,
        ..Options::default()
    };
    let (refs, _) = build(Input::Single(reader.as_ref()), &sources, &opts).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("inline.icechunk");
    let summary = write(&refs, &dest, &options(SpecVersion::V1)).unwrap();
    assert!(summary.inline_chunks > 0, "nothing was inlined");
    let got = open_reader(dest.to_str().unwrap(), &OpenOptions::default()).unwrap();
    assert_same_values(reader.as_ref(), got.as_ref());
}

#[test]
fn a_missing_branch_or_repository_is_an_error_naming_it() {
    let refs = common::references("netcdf3/sub.nc");
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("v.icechunk");
    write(&refs, &dest, &options(SpecVersion::V1)).unwrap();
    let base = dest.to_str().unwrap();
    assert!(open_reader(&format!("{base}@main"), &OpenOptions::default()).is_ok());
    let e = open_reader(&format!("{base}@nosuch"), &OpenOptions::default())
        .err()
        .expect("a missing branch opens");
    assert!(e.to_string().contains("nosuch"), "{e}");
    let gone = dir.path().join("gone.icechunk");
    let e = open_reader(gone.to_str().unwrap(), &OpenOptions::default())
        .err()
        .expect("a missing repository opens");
    assert!(e.to_string().contains("gone.icechunk"), "{e}");
}

#[test]
fn a_source_modified_after_the_write_is_reported_as_changed() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("sub.nc");
    std::fs::copy(common::real_dir().join("netcdf3/sub.nc"), &copy).unwrap();
    // A modification time well in the past, so "later" is unambiguous.
    let past = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
    std::fs::File::options()
        .write(true)
        .open(&copy)
        .unwrap()
        .set_modified(past)
        .unwrap();
    let location = copy.to_str().unwrap().to_string();
    let bytes = arco_storage::open(&location, &Default::default()).unwrap();
    let reader = arco_formats::open(bytes.clone()).unwrap();
    let (refs, _) = build(
        Input::Single(reader.as_ref()),
        &[Source { location, bytes }],
        &Options::default(),
    )
    .unwrap();
    let dest = dir.path().join("fresh.icechunk");
    write(&refs, &dest, &options(SpecVersion::V1)).unwrap();
    let repo = dest.to_str().unwrap();
    assert_eq!(
        changed_sources(repo, &OpenOptions::default()).unwrap(),
        vec![]
    );

    std::fs::File::options()
        .write(true)
        .open(&copy)
        .unwrap()
        .set_modified(std::time::SystemTime::now())
        .unwrap();
    let changed = changed_sources(repo, &OpenOptions::default()).unwrap();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert!(changed[0].url.ends_with("/sub.nc"), "{changed:?}");
    assert!(changed[0].message.contains("after the repository recorded"));
}

#[test]
fn a_repository_on_s3_is_written_refused_replaced_and_read_back() {
    let Some(moto) = Moto::start() else { return };
    moto.create_bucket("ice");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let opts = moto.options(&rt);
    // The source itself on S3: the virtual chunk container records the
    // endpoint, the reader authorizes it with the same credentials.
    let local = common::real_dir().join("netcdf4/cordex.nc");
    moto.put(
        "ice",
        "src/cordex.nc",
        &std::fs::read(&local).unwrap(),
        false,
    );
    let location = "s3://ice/src/cordex.nc".to_string();
    let bytes = arco_storage::open(&location, &opts).unwrap();
    let reader = arco_formats::open(bytes.clone()).unwrap();
    let (refs, _) = build(
        Input::Single(reader.as_ref()),
        &[Source { location, bytes }],
        &Options::default(),
    )
    .unwrap();
    let dest = "s3://ice/repos/x.icechunk";
    let summary = write_to(&refs, dest, &options(SpecVersion::V1), &opts).unwrap();
    assert_eq!(summary.containers, vec!["s3://ice/".to_string()]);
    assert!(is_icechunk_location(dest));
    let got = open_reader(dest, &opts).unwrap();
    assert_same_values(source_reader(&local).as_ref(), got.as_ref());
    drop(got);

    let again = write_to(&refs, dest, &options(SpecVersion::V1), &opts);
    let e = again.expect_err("an existing repository was overwritten");
    assert!(e.to_string().contains("--overwrite"), "{e}");
    let mut o = options(SpecVersion::V2);
    o.overwrite = true;
    write_to(&refs, dest, &o, &opts).unwrap();
    let got = open_reader(dest, &opts).unwrap();
    assert_same_values(source_reader(&local).as_ref(), got.as_ref());
}

#[test]
fn an_s3_prefix_holding_other_objects_or_no_prefix_is_refused_and_left_alone() {
    let Some(moto) = Moto::start() else { return };
    moto.create_bucket("busy");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let opts = moto.options(&rt);
    moto.put("busy", "other/keep.txt", b"keep me", false);
    let refs = common::references("netcdf3/sub.nc");
    let e = write_to(&refs, "s3://busy/other", &options(SpecVersion::V1), &opts)
        .expect_err("a prefix holding other objects was written into");
    assert!(e.to_string().contains("--overwrite"), "{e}");
    let kept = arco_storage::open("s3://busy/other/keep.txt", &opts).unwrap();
    assert_eq!(kept.len(), 7, "the object under the prefix was touched");
    for whole in ["s3://busy", "s3://busy/"] {
        let e = write_to(&refs, whole, &options(SpecVersion::V1), &opts)
            .expect_err("a whole bucket was taken for a repository");
        assert!(e.to_string().contains("s3://busy"), "{e}");
    }
    assert!(arco_storage::open("s3://busy/other/keep.txt", &opts).is_ok());
}
