#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Repositories written from real files read back through the icechunk crate.

#[path = "support/common.rs"]
mod common;

use arco_icechunk::{read, read_chunk, write, IcechunkOptions, SpecVersion, StoredChunk};
use arco_virtual::{ArrayRefs, Reference, References};
use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

fn options(spec_version: SpecVersion, message: &str) -> IcechunkOptions {
    IcechunkOptions {
        spec_version,
        message: message.to_string(),
        overwrite: false,
    }
}

fn file_bytes(url: &str, offset: u64, length: u64) -> Vec<u8> {
    let path = url.strip_prefix("file://").unwrap();
    let mut f = std::fs::File::open(path).unwrap();
    f.seek(SeekFrom::Start(offset)).unwrap();
    let mut buf = vec![0u8; length as usize];
    f.read_exact(&mut buf).unwrap();
    buf
}

/// Write `relative` with both spec versions and check that what icechunk
/// reads back is the reference set.
fn round_trip(relative: &str, expect_codec: Option<&str>) {
    let refs = common::references(relative);
    let source_url = format!("file://{}", refs.sources[0].url);
    for version in [SpecVersion::V1, SpecVersion::V2] {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.icechunk");
        let message = format!("virtualize {relative}");
        let summary = write(&refs, &dest, &options(version, &message)).unwrap();
        let got = read(&dest).unwrap();
        assert_eq!(got.spec_version, version);
        assert_eq!(summary.spec_version, version);
        assert_eq!(got.message, message);
        let dir_prefix = format!(
            "file://{}/",
            Path::new(&refs.sources[0].url).parent().unwrap().display()
        );
        assert_eq!(got.containers, vec![dir_prefix.clone()]);
        assert_eq!(summary.containers, vec![dir_prefix]);

        // Every array of the reference set is an array node with v3 metadata.
        let nodes: BTreeMap<_, _> = got.nodes.iter().map(|n| (n.path.as_str(), n)).collect();
        let root = nodes.get("").expect("root group");
        assert!(!root.is_array);
        assert_eq!(root.zarr_json["node_type"], "group");
        for a in &refs.arrays {
            let node = nodes
                .get(a.path.as_str())
                .unwrap_or_else(|| panic!("{} missing", a.path));
            assert!(node.is_array, "{}", a.path);
            assert_eq!(node.zarr_json["zarr_format"], 3);
            assert!(
                node.zarr_json["data_type"].is_string() || node.zarr_json["data_type"].is_object()
            );
        }
        assert_eq!(summary.arrays, refs.arrays.len());
        if let Some(codec) = expect_codec {
            let name = format!("numcodecs.{codec}");
            assert!(
                got.nodes.iter().any(|n| n.zarr_json["codecs"]
                    .as_array()
                    .is_some_and(|c| c.iter().any(|c| c["name"] == name.as_str()))),
                "no array uses {name}"
            );
        }

        // Chunk references equal the reference set's, chunk by chunk.
        let mut want = Vec::new();
        for a in &refs.arrays {
            for (flat, r) in &a.chunks {
                let index = unflatten(*flat, a);
                let chunk = match r {
                    Reference::Range { offset, length, .. } => StoredChunk::Virtual {
                        url: source_url.clone(),
                        offset: *offset,
                        length: *length,
                    },
                    Reference::Inline(b) => StoredChunk::Inline(b.to_vec()),
                };
                want.push((a.path.clone(), index, chunk));
            }
        }
        want.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        assert_eq!(got.chunks.len(), want.len());
        assert_eq!(got.chunks, want);
        assert_eq!(
            summary.virtual_chunks + summary.inline_chunks,
            want.len() as u64
        );

        // The virtual references resolve through the container to the file's bytes.
        let (
            path,
            index,
            StoredChunk::Virtual {
                url,
                offset,
                length,
            },
        ) = got
            .chunks
            .iter()
            .find(|c| matches!(c.2, StoredChunk::Virtual { .. }))
            .expect("a virtual chunk")
        else {
            unreachable!()
        };
        let bytes = read_chunk(&dest, path, index).unwrap().unwrap();
        assert_eq!(bytes, file_bytes(url, *offset, *length));
    }
}

fn unflatten(flat: u64, a: &ArrayRefs) -> Vec<u32> {
    let mut out = vec![0u32; a.grid.len()];
    let mut rest = flat;
    for d in (0..a.grid.len()).rev() {
        out[d] = (rest % a.grid[d]) as u32;
        rest /= a.grid[d];
    }
    out
}

#[test]
fn a_netcdf3_file_reads_back_as_its_references_in_both_spec_versions() {
    round_trip("netcdf3/sub.nc", None);
}

#[test]
fn a_deflated_shuffled_netcdf4_file_reads_back_as_its_references_in_both_spec_versions() {
    round_trip("netcdf4/cordex.nc", Some("zlib"));
}

#[test]
fn a_repository_is_replaced_only_with_overwrite() {
    let refs = common::references("netcdf3/sub.nc");
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out.icechunk");
    write(&refs, &dest, &options(SpecVersion::V1, "first")).unwrap();
    let err = write(&refs, &dest, &options(SpecVersion::V1, "second")).unwrap_err();
    assert!(err.to_string().contains("overwrite"), "{err}");
    assert_eq!(read(&dest).unwrap().message, "first");
    let mut again = options(SpecVersion::V2, "second");
    again.overwrite = true;
    write(&refs, &dest, &again).unwrap();
    let got = read(&dest).unwrap();
    assert_eq!(got.message, "second");
    assert_eq!(got.spec_version, SpecVersion::V2);
    assert_only_entry(dir.path(), "out.icechunk");
}

/// A reference set whose last chunk Icechunk refuses (a zero-length chunk),
/// so the write fails after the repository was created.
fn failing(refs: &References) -> References {
    let mut bad = refs.clone();
    let last = bad.arrays.last_mut().unwrap();
    last.chunks.retain(|(flat, _)| *flat != 0);
    last.chunks
        .insert(0, (0, Reference::Inline(Arc::from(Vec::new()))));
    bad
}

fn assert_only_entry(dir: &Path, name: &str) {
    let entries: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries, [name.to_string()]);
}

#[test]
fn a_failed_write_leaves_no_half_repository() {
    let refs = common::references("netcdf3/sub.nc");
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out.icechunk");
    let err = write(&failing(&refs), &dest, &options(SpecVersion::V1, "bad")).unwrap_err();
    assert!(err.to_string().contains("out.icechunk"), "{err}");
    assert!(!dest.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    // Over an existing repository, the old one stays.
    write(&refs, &dest, &options(SpecVersion::V1, "good")).unwrap();
    let mut o = options(SpecVersion::V1, "bad");
    o.overwrite = true;
    write(&failing(&refs), &dest, &o).unwrap_err();
    assert_eq!(read(&dest).unwrap().message, "good");
    assert_only_entry(dir.path(), "out.icechunk");
}
