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
use crate::refs::{inline_text, seek_index, write_index, Reference, References};
use crate::stream::{consolidated_text, replay, Header, Sink};
use crate::{Error, Result};
use serde_json::{Map, Value};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

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

/// One array's key state: its path, grid and the index of the last key.
struct KeyState {
    path: String,
    grid: Vec<u64>,
    index: Vec<u64>,
    flat: u64,
}

/// Writes kerchunk JSON to `out` as the reference set streams in: the
/// templates and metadata at [`Sink::begin`], one `"key": value` entry
/// per [`Sink::chunk`], the closing braces at [`JsonEncoder::end`].
pub struct JsonEncoder<W: Write> {
    out: W,
    /// Where `out` goes, for errors.
    path: PathBuf,
    /// `{{u}}`, `{{u0}}`, … by source.
    urls: Vec<String>,
    arrays: Vec<KeyState>,
    begun: bool,
    buf: Vec<u8>,
    key: String,
    written: u64,
}

impl<W: Write> JsonEncoder<W> {
    /// An encoder writing to `out` (`path` names it in errors).
    pub fn new(out: W, path: &Path) -> Self {
        JsonEncoder {
            out,
            path: path.to_path_buf(),
            urls: Vec::new(),
            arrays: Vec::new(),
            begun: false,
            buf: Vec::with_capacity(64 << 10),
            key: String::new(),
            written: 0,
        }
    }

    /// Write out the buffer once it is large.
    fn spill(&mut self, force: bool) -> Result<()> {
        if force || self.buf.len() >= 60 << 10 {
            self.out
                .write_all(&self.buf)
                .map_err(|e| io_err(&self.path, "writing", e))?;
            self.written += self.buf.len() as u64;
            self.buf.clear();
        }
        Ok(())
    }

    /// Close the document; returns the writer and the bytes written.
    pub fn end(mut self) -> Result<(W, u64)> {
        if !self.begun {
            return Err(Error::Output {
                path: self.path.display().to_string(),
                message: "no references were given (begin was never called)".into(),
            });
        }
        self.buf.extend_from_slice(b"}}");
        self.spill(true)?;
        self.out
            .flush()
            .map_err(|e| io_err(&self.path, "writing", e))?;
        Ok((self.out, self.written))
    }
}

impl<W: Write> Sink for JsonEncoder<W> {
    fn begin(&mut self, header: &Header) -> Result<()> {
        let n = header.sources.len();
        let out = &mut self.buf;
        out.extend_from_slice(b"{\"version\":1,\"templates\":{");
        for (i, s) in header.sources.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            push_str(out, &template_name(i, n));
            out.push(b':');
            push_str(out, &s.url);
        }
        out.extend_from_slice(b"},\"refs\":{");
        for (key, doc) in &header.metadata {
            push_str(out, key);
            out.push(b':');
            push_str(out, &doc.to_string());
            out.push(b',');
        }
        push_str(out, ".zmetadata");
        out.push(b':');
        push_str(out, &consolidated_text(&header.metadata, None));
        self.urls = (0..n)
            .map(|i| format!("{{{{{}}}}}", template_name(i, n)))
            .collect();
        self.arrays = header
            .arrays
            .iter()
            .map(|a| KeyState {
                path: a.path.clone(),
                grid: a.grid.clone(),
                index: vec![0; a.grid.len()],
                flat: 0,
            })
            .collect();
        self.begun = true;
        self.spill(false)
    }

    fn chunk(&mut self, array: usize, flat: u64, reference: Reference) -> Result<()> {
        let Some(a) = self.arrays.get_mut(array) else {
            return Err(Error::Output {
                path: self.path.display().to_string(),
                message: format!("chunk of array number {array}, which the header does not have"),
            });
        };
        seek_index(&a.grid, &mut a.index, a.flat, flat);
        a.flat = flat;
        self.key.clear();
        self.key.push_str(&a.path);
        self.key.push('/');
        write_index(&a.index, &mut self.key);
        let out = &mut self.buf;
        out.push(b',');
        push_str(out, &self.key);
        out.push(b':');
        match reference {
            Reference::Range {
                source,
                offset,
                length,
            } => {
                out.push(b'[');
                push_str(out, self.urls.get(source).map_or("", String::as_str));
                out.push(b',');
                push_u64(out, offset);
                out.push(b',');
                push_u64(out, length);
                out.push(b']');
            }
            Reference::Inline(bytes) => push_str(out, &inline_text(&bytes)),
        }
        self.spill(false)
    }
}

/// The kerchunk JSON document of `refs`.
pub fn to_bytes(refs: &References) -> Vec<u8> {
    let mut enc = JsonEncoder::new(Vec::new(), Path::new("(memory)"));
    // Writing to memory cannot fail.
    if replay(refs, &mut enc).is_err() {
        return Vec::new();
    }
    enc.end().map(|(v, _)| v).unwrap_or_default()
}

/// kerchunk JSON written to a file as the references stream in: into a
/// temporary sibling of the destination through a buffer, renamed into
/// place by [`JsonWriter::finish`]; dropped unfinished (a failed build), it
/// removes the temporary file and leaves the destination as it was.
pub struct JsonWriter {
    dest: PathBuf,
    tmp: PathBuf,
    enc: Option<JsonEncoder<BufWriter<File>>>,
}

impl JsonWriter {
    /// Start writing `dest` (refused when it exists, unless `overwrite`).
    pub fn create(dest: &Path, overwrite: bool) -> Result<Self> {
        check_dest(dest, overwrite)?;
        let tmp = temp_sibling(dest, "tmp");
        let f = File::create(&tmp).map_err(|e| io_err(&tmp, "creating", e))?;
        let enc = JsonEncoder::new(BufWriter::with_capacity(256 << 10, f), &tmp);
        Ok(JsonWriter {
            dest: dest.to_path_buf(),
            tmp,
            enc: Some(enc),
        })
    }

    /// Close the document and move it into place; returns the bytes written.
    pub fn finish(mut self) -> Result<u64> {
        let Some(enc) = self.enc.take() else {
            return Err(Error::Output {
                path: self.dest.display().to_string(),
                message: "already finished".into(),
            });
        };
        let result = (|| {
            let (w, written) = enc.end()?;
            let f = w
                .into_inner()
                .map_err(|e| io_err(&self.tmp, "writing", e.into_error()))?;
            f.sync_all().map_err(|e| io_err(&self.tmp, "syncing", e))?;
            drop(f);
            publish(&self.tmp, &self.dest)?;
            Ok(written)
        })();
        if result.is_err() {
            discard(&self.tmp);
        }
        result
    }

    fn enc(&mut self) -> Result<&mut JsonEncoder<BufWriter<File>>> {
        let dest = &self.dest;
        self.enc.as_mut().ok_or_else(|| Error::Output {
            path: dest.display().to_string(),
            message: "already finished".into(),
        })
    }
}

impl Sink for JsonWriter {
    fn begin(&mut self, header: &Header) -> Result<()> {
        self.enc()?.begin(header)
    }

    fn chunk(&mut self, array: usize, flat: u64, reference: Reference) -> Result<()> {
        self.enc()?.chunk(array, flat, reference)
    }
}

impl Drop for JsonWriter {
    fn drop(&mut self) {
        if let Some(enc) = self.enc.take() {
            drop(enc);
            discard(&self.tmp);
        }
    }
}

/// Write `refs` as kerchunk JSON at `dest` (atomically); returns the bytes written.
pub fn write(refs: &References, dest: &Path, overwrite: bool) -> Result<u64> {
    let mut w = JsonWriter::create(dest, overwrite)?;
    replay(refs, &mut w)?;
    w.finish()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::refs::{ArrayRefs, SourceUrl};
    use crate::stream::Sink;
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
    fn streamed_chunks_in_any_order_give_the_same_document() {
        use crate::stream::{header_of, Sink};
        let r = sample();
        let whole: Value = serde_json::from_slice(&to_bytes(&r)).unwrap();
        let mut enc = JsonEncoder::new(Vec::new(), Path::new("mem"));
        enc.begin(&header_of(&r)).unwrap();
        for (flat, c) in r.arrays[0].chunks.iter().rev() {
            enc.chunk(0, *flat, c.clone()).unwrap();
        }
        assert!(enc.chunk(1, 0, Reference::Inline(vec![1].into())).is_err());
        let (bytes, n) = enc.end().unwrap();
        assert_eq!(n, bytes.len() as u64);
        let streamed: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(streamed, whole);
    }

    #[test]
    fn an_unfinished_writer_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("r.json");
        let mut w = JsonWriter::create(&dest, false).unwrap();
        w.begin(&crate::stream::header_of(&sample())).unwrap();
        drop(w);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
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
