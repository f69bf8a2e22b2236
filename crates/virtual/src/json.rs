//! kerchunk JSON, version 1:
//!
//! ```json
//! {"version": 1,
//!  "templates": {"u": "/data/era5.nc"},
//!  "refs": {".zgroup": "{\"zarr_format\":2}",
//!           "t2m/.zarray": "{...}",
//!           "t2m/0.0.0": ["{{u}}", 40960, 3872],
//!           "lat/0": "base64:AAAAAAAA..."}}
//! ```
//!
//! Metadata documents are JSON text (as kerchunk writes them), plus a
//! consolidated `.zmetadata` so a plain `xarray.open_dataset` reads all
//! metadata at once. Byte ranges are `[url, offset, length]`, the URL through
//! a template (`{{u}}`, `{{u1}}`, …: one per source) that fsspec expands;
//! inlined chunks are their text when ASCII, else `base64:` and the bytes.

use crate::atomic::{check_dest, discard, io_err, publish, temp_sibling};
use crate::refs::{inline_text, KeyCursor, Reference, References};
use crate::Result;
use serde_json::{Map, Value};
use std::io::Write;
use std::path::Path;

/// The template name of source `i` of `n`.
fn template_name(i: usize, n: usize) -> String {
    if n == 1 {
        "u".into()
    } else {
        format!("u{i}")
    }
}

/// Append `s` as a JSON string.
fn push_str(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // serde_json escapes exactly as JSON requires.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// The consolidated metadata document (`.zmetadata`).
pub fn consolidated(refs: &References) -> Value {
    let metadata: Map<String, Value> = refs
        .metadata
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    serde_json::json!({"metadata": metadata, "zarr_consolidated_format": 1})
}

/// The kerchunk JSON document of `refs`.
pub fn to_bytes(refs: &References) -> Vec<u8> {
    let n = refs.sources.len();
    let mut out: Vec<u8> = Vec::with_capacity(
        64 + refs.reference_count() as usize * 40
            + refs.sources.iter().map(|s| s.url.len() + 16).sum::<usize>(),
    );
    out.extend_from_slice(b"{\"version\":1,\"templates\":{");
    for (i, s) in refs.sources.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_str(&mut out, &template_name(i, n));
        out.push(b':');
        push_str(&mut out, &s.url);
    }
    out.extend_from_slice(b"},\"refs\":{");
    let mut first = true;
    let mut sep = |out: &mut Vec<u8>| {
        if !first {
            out.push(b',');
        }
        first = false;
    };
    for (key, doc) in &refs.metadata {
        sep(&mut out);
        push_str(&mut out, key);
        out.push(b':');
        push_str(&mut out, &doc.to_string());
    }
    sep(&mut out);
    push_str(&mut out, ".zmetadata");
    out.push(b':');
    push_str(&mut out, &consolidated(refs).to_string());
    let urls: Vec<String> = (0..n)
        .map(|i| format!("{{{{{}}}}}", template_name(i, n)))
        .collect();
    let mut key = String::new();
    for a in &refs.arrays {
        let mut cursor = KeyCursor::new(&a.grid);
        for (flat, r) in &a.chunks {
            sep(&mut out);
            cursor.seek(*flat);
            key.clear();
            key.push_str(&a.path);
            key.push('/');
            cursor.write_chunk_id(&mut key);
            push_str(&mut out, &key);
            out.push(b':');
            match r {
                Reference::Range {
                    source,
                    offset,
                    length,
                } => {
                    out.push(b'[');
                    push_str(&mut out, urls.get(*source).map_or("", String::as_str));
                    out.push(b',');
                    push_u64(&mut out, *offset);
                    out.push(b',');
                    push_u64(&mut out, *length);
                    out.push(b']');
                }
                Reference::Inline(bytes) => push_str(&mut out, &inline_text(bytes)),
            }
        }
    }
    out.extend_from_slice(b"}}");
    out
}

/// Write `refs` as kerchunk JSON at `dest` (atomically); returns the bytes written.
pub fn write(refs: &References, dest: &Path, overwrite: bool) -> Result<u64> {
    check_dest(dest, overwrite)?;
    let bytes = to_bytes(refs);
    let tmp = temp_sibling(dest, "tmp");
    let result = (|| {
        let mut f = std::fs::File::create(&tmp).map_err(|e| io_err(&tmp, "creating", e))?;
        f.write_all(&bytes)
            .map_err(|e| io_err(&tmp, "writing", e))?;
        f.sync_all().map_err(|e| io_err(&tmp, "syncing", e))?;
        drop(f);
        publish(&tmp, dest)
    })();
    if result.is_err() {
        discard(&tmp);
    }
    result.map(|()| bytes.len() as u64)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::refs::{ArrayRefs, SourceUrl};
    use serde_json::json;

    fn sample() -> References {
        References {
            metadata: vec![
                (".zgroup".into(), json!({"zarr_format": 2})),
                ("t/.zarray".into(), json!({"shape": [4]})),
            ],
            arrays: vec![ArrayRefs {
                path: "t".into(),
                grid: vec![4],
                chunks: vec![
                    (
                        0,
                        Reference::Range {
                            source: 0,
                            offset: 100,
                            length: 8,
                        },
                    ),
                    (2, Reference::Inline(vec![0xff, 1].into())),
                    (3, Reference::Inline(b"ok".to_vec().into())),
                ],
            }],
            sources: vec![SourceUrl {
                location: "x.nc".into(),
                url: "/data/\"x\".nc".into(),
            }],
        }
    }

    #[test]
    fn the_document_is_kerchunk_version_1() {
        let doc: Value = serde_json::from_slice(&to_bytes(&sample())).unwrap();
        assert_eq!(doc["version"], 1);
        assert_eq!(doc["templates"]["u"], "/data/\"x\".nc");
        let refs = &doc["refs"];
        assert_eq!(refs["t/0"], json!(["{{u}}", 100, 8]));
        assert!(refs.get("t/1").is_none(), "a missing chunk has no key");
        assert_eq!(refs["t/2"], "base64:/wE=");
        assert_eq!(refs["t/3"], "ok");
        let zgroup: Value = serde_json::from_str(refs[".zgroup"].as_str().unwrap()).unwrap();
        assert_eq!(zgroup, json!({"zarr_format": 2}));
        let zmeta: Value = serde_json::from_str(refs[".zmetadata"].as_str().unwrap()).unwrap();
        assert_eq!(zmeta["metadata"]["t/.zarray"], json!({"shape": [4]}));
    }

    #[test]
    fn writing_refuses_an_existing_output_without_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("r.json");
        write(&sample(), &dest, false).unwrap();
        let e = write(&sample(), &dest, false).unwrap_err().to_string();
        assert!(e.contains("--overwrite"), "{e}");
        write(&sample(), &dest, true).unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn several_sources_get_one_template_each() {
        let mut r = sample();
        r.sources.push(SourceUrl {
            location: "y.nc".into(),
            url: "s3://b/y.nc".into(),
        });
        r.arrays[0].chunks[1] = (
            1,
            Reference::Range {
                source: 1,
                offset: 0,
                length: 4,
            },
        );
        let doc: Value = serde_json::from_slice(&to_bytes(&r)).unwrap();
        assert_eq!(doc["templates"]["u1"], "s3://b/y.nc");
        assert_eq!(doc["refs"]["t/1"], json!(["{{u1}}", 0, 4]));
    }
}
