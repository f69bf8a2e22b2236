//! kerchunk Parquet: the layout fsspec's `LazyReferenceMapper` reads.
//!
//! ```text
//! DEST/.zmetadata            {"metadata": {".zgroup": {...}, "t2m/.zarray": {...}, ...},
//!                             "record_size": N, "zarr_consolidated_format": 1}
//! DEST/t2m/refs.0.parq       chunks 0 .. N-1 of t2m in C order
//! DEST/t2m/refs.1.parq       chunks N .. 2N-1
//! DEST/grp/x/refs.0.parq     arrays in groups by their path
//! ```
//!
//! Each file has one row per chunk position, in chunk-key (C) order, with
//! columns `path` (UTF-8, null where the row is not a byte range),
//! `offset` and `size` (int64, 0 where unused) and `raw` (bytes, null
//! unless the chunk is inlined). Chunk number `k` of an array is row
//! `k % N` of `refs.{k / N}.parq`. A position with neither path nor raw
//! is a missing chunk (the fill value). Every file is written, even one of
//! missing chunks only: fsspec reads an absent file as missing chunks, but
//! its scans of all references (`ReferenceFileSystem` looking for the
//! remote protocol, `LazyReferenceMapper.values()`) fail on it. The last
//! file of an array holds only the rows up to its last chunk position.

use crate::atomic::{check_dest, discard, io_err, publish, temp_sibling};
use crate::refs::{Reference, References};
use crate::stream::{consolidated_text, replay, Header, Sink};
use crate::{Error, Result};
use parquet::basic::{Compression, ZstdLevel};
use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterVersion};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use parquet::schema::types::{ColumnPath, Type};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The schema of every reference file.
const SCHEMA: &str = "message schema {
  OPTIONAL BYTE_ARRAY path (UTF8);
  REQUIRED INT64 offset;
  REQUIRED INT64 size;
  OPTIONAL BYTE_ARRAY raw;
}";

/// What [`write()`] and [`ParquetWriter::finish`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParquetStats {
    /// Parquet files written.
    pub files: u64,
    /// Bytes written (all files and `.zmetadata`).
    pub bytes: u64,
}

fn perr(path: &Path, e: parquet::errors::ParquetError) -> Error {
    Error::Output {
        path: path.display().to_string(),
        message: format!("writing Parquet: {e}"),
    }
}

/// The `.zmetadata` document.
pub fn zmetadata(refs: &References, record_size: u64) -> serde_json::Value {
    let metadata: serde_json::Map<String, serde_json::Value> = refs
        .metadata
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    serde_json::json!({
        "metadata": metadata,
        "record_size": record_size,
        "zarr_consolidated_format": 1,
    })
}

/// Write `refs` as a kerchunk Parquet folder at `dest` with `record_size`
/// references per file (atomically: built in a temporary sibling folder).
pub fn write(
    refs: &References,
    dest: &Path,
    record_size: u64,
    overwrite: bool,
) -> Result<ParquetStats> {
    let mut w = ParquetWriter::create(dest, record_size, overwrite)?;
    replay(refs, &mut w)?;
    w.finish()
}

/// One array being written.
struct ArrayOut {
    folder: PathBuf,
    /// Chunk positions in the grid.
    total: u64,
    /// Chunks come in increasing chunk number: each file is written as
    /// soon as a chunk past it comes. Otherwise all are held to the end.
    ordered: bool,
    /// The next file to write (`refs.{record}.parq`).
    record: u64,
    /// Chunks not written yet: of file `record` (ordered), or all.
    rows: Vec<(u64, Reference)>,
}

/// kerchunk Parquet written as the references stream in: each array's
/// `refs.N.parq` is written as soon as a chunk past its last row comes
/// (for arrays whose chunks come in order, so at most `record_size` rows
/// per array are held; the others are held whole and written at
/// [`ParquetWriter::finish`]). Built in a temporary sibling folder,
/// renamed into place by `finish`; dropped unfinished (a failed build), it
/// removes the folder and leaves the destination as it was.
pub struct ParquetWriter {
    dest: PathBuf,
    tmp: PathBuf,
    record_size: u64,
    props: Arc<WriterProperties>,
    schema: Arc<Type>,
    urls: Vec<ByteArray>,
    arrays: Vec<ArrayOut>,
    stats: ParquetStats,
    begun: bool,
    finished: bool,
}

impl ParquetWriter {
    /// Start writing the folder `dest` with `record_size` references per
    /// file (refused when it exists, unless `overwrite`).
    pub fn create(dest: &Path, record_size: u64, overwrite: bool) -> Result<Self> {
        if record_size == 0 {
            return Err(Error::Output {
                path: dest.display().to_string(),
                message: "--record-size must be at least 1".into(),
            });
        }
        check_dest(dest, overwrite)?;
        let props = Arc::new(
            WriterProperties::builder()
                .set_writer_version(WriterVersion::PARQUET_1_0)
                .set_compression(Compression::ZSTD(ZstdLevel::default()))
                .set_statistics_enabled(EnabledStatistics::None)
                .set_dictionary_enabled(false)
                .set_column_dictionary_enabled(ColumnPath::from("path"), true)
                // fastparquet reads int64 columns as float64 unless statistics
                // say they hold no nulls.
                .set_column_statistics_enabled(ColumnPath::from("offset"), EnabledStatistics::Chunk)
                .set_column_statistics_enabled(ColumnPath::from("size"), EnabledStatistics::Chunk)
                .build(),
        );
        let schema = Arc::new(parse_message_type(SCHEMA).map_err(|e| perr(dest, e))?);
        let tmp = temp_sibling(dest, "tmp");
        std::fs::create_dir(&tmp).map_err(|e| io_err(&tmp, "creating the folder", e))?;
        Ok(ParquetWriter {
            dest: dest.to_path_buf(),
            tmp,
            record_size,
            props,
            schema,
            urls: Vec::new(),
            arrays: Vec::new(),
            stats: ParquetStats::default(),
            begun: false,
            finished: false,
        })
    }

    /// Write the rest of every array's files and move the folder into
    /// place (`.zmetadata` was written at [`Sink::begin`]).
    pub fn finish(mut self) -> Result<ParquetStats> {
        let result = self.finish_inner();
        if result.is_err() {
            discard(&self.tmp);
        }
        self.finished = true;
        result
    }

    fn finish_inner(&mut self) -> Result<ParquetStats> {
        if !self.begun {
            return Err(Error::Output {
                path: self.dest.display().to_string(),
                message: "no references were given (begin was never called)".into(),
            });
        }
        for i in 0..self.arrays.len() {
            let a = &mut self.arrays[i];
            if !a.ordered {
                a.rows.sort_by_key(|(flat, _)| *flat);
            }
            let records = a.total.div_ceil(self.record_size);
            self.flush_until(i, records)?;
        }
        publish(&self.tmp, &self.dest)?;
        Ok(self.stats)
    }

    /// Write array `i`'s files up to (not including) `refs.{until}.parq`,
    /// from the rows held (sorted).
    fn flush_until(&mut self, i: usize, until: u64) -> Result<()> {
        let record_size = self.record_size;
        let Some(a) = self.arrays.get_mut(i) else {
            return Ok(());
        };
        let mut rows = std::mem::take(&mut a.rows);
        let mut rest: &[(u64, Reference)] = &rows;
        while a.record < until {
            let start = a.record * record_size;
            let end = (start + record_size).min(a.total);
            let split = rest.partition_point(|(f, _)| *f < end);
            let (these, after) = rest.split_at(split);
            rest = after;
            let file = a.folder.join(format!("refs.{}.parq", a.record));
            self.stats.bytes += write_file(
                &self.urls,
                &file,
                start,
                end,
                these,
                &self.schema,
                &self.props,
            )?;
            self.stats.files += 1;
            a.record += 1;
        }
        let kept = rows.len() - rest.len();
        rows.drain(..kept);
        a.rows = rows;
        Ok(())
    }

    fn not_in_order(&self, path: &str, flat: u64, why: &str) -> Error {
        Error::Output {
            path: self.dest.display().to_string(),
            message: format!(
                "chunk number {flat} of {path} came {why}; the references were not streamed in order (a bug in arco: please report it)"
            ),
        }
    }
}

impl Sink for ParquetWriter {
    fn begin(&mut self, header: &Header) -> Result<()> {
        self.urls = header
            .sources
            .iter()
            .map(|s| ByteArray::from(s.url.as_str()))
            .collect();
        self.arrays = Vec::with_capacity(header.arrays.len());
        for a in &header.arrays {
            let folder = self.tmp.join(&a.path);
            let total = a.chunk_count();
            if total > 0 {
                std::fs::create_dir_all(&folder)
                    .map_err(|e| io_err(&folder, "creating the folder", e))?;
            }
            self.arrays.push(ArrayOut {
                folder,
                total,
                ordered: a.ordered,
                record: 0,
                rows: Vec::new(),
            });
        }
        let meta = consolidated_text(&header.metadata, Some(self.record_size));
        let path = self.tmp.join(".zmetadata");
        std::fs::write(&path, &meta).map_err(|e| io_err(&path, "writing", e))?;
        self.stats.bytes += meta.len() as u64;
        self.begun = true;
        Ok(())
    }

    fn chunk(&mut self, array: usize, flat: u64, reference: Reference) -> Result<()> {
        let record_size = self.record_size;
        let Some(a) = self.arrays.get(array) else {
            return Err(Error::Output {
                path: self.dest.display().to_string(),
                message: format!("chunk of array number {array}, which the header does not have"),
            });
        };
        if flat >= a.total {
            let path = a.folder.display().to_string();
            return Err(self.not_in_order(&path, flat, "past the end of its grid"));
        }
        if a.ordered {
            let record = flat / record_size;
            if record < a.record || a.rows.last().is_some_and(|(f, _)| *f >= flat) {
                let path = a.folder.display().to_string();
                return Err(self.not_in_order(&path, flat, "after a later one"));
            }
            if record > a.record {
                self.flush_until(array, record)?;
            }
        }
        if let Some(a) = self.arrays.get_mut(array) {
            a.rows.push((flat, reference));
        }
        Ok(())
    }
}

impl Drop for ParquetWriter {
    fn drop(&mut self) {
        if !self.finished {
            discard(&self.tmp);
        }
    }
}

/// One reference file: rows `start..end` of an array, `chunks` those of
/// its chunks in that range (sorted).
fn write_file(
    urls: &[ByteArray],
    file: &Path,
    start: u64,
    end: u64,
    chunks: &[(u64, Reference)],
    schema: &Arc<Type>,
    props: &Arc<WriterProperties>,
) -> Result<u64> {
    let rows = usize::try_from(end - start).unwrap_or(0);
    let mut path_vals: Vec<ByteArray> = Vec::new();
    let mut path_def: Vec<i16> = vec![0; rows];
    let mut offsets: Vec<i64> = vec![0; rows];
    let mut sizes: Vec<i64> = vec![0; rows];
    let mut raw_vals: Vec<ByteArray> = Vec::new();
    let mut raw_def: Vec<i16> = vec![0; rows];
    for (flat, r) in chunks {
        let row = usize::try_from(flat - start).unwrap_or(usize::MAX);
        if row >= rows {
            continue;
        }
        match r {
            Reference::Range {
                source,
                offset,
                length,
            } => {
                path_def[row] = 1;
                path_vals.push(
                    urls.get(*source)
                        .cloned()
                        .unwrap_or_else(|| ByteArray::from("")),
                );
                offsets[row] = i64::try_from(*offset).unwrap_or(i64::MAX);
                sizes[row] = i64::try_from(*length).unwrap_or(i64::MAX);
            }
            Reference::Inline(bytes) => {
                raw_def[row] = 1;
                raw_vals.push(ByteArray::from(bytes.to_vec()));
            }
        }
    }
    let f = std::fs::File::create(file).map_err(|e| io_err(file, "creating", e))?;
    let mut w =
        SerializedFileWriter::new(f, schema.clone(), props.clone()).map_err(|e| perr(file, e))?;
    let mut rg = w.next_row_group().map_err(|e| perr(file, e))?;
    let mut column = 0;
    while let Some(mut col) = rg.next_column().map_err(|e| perr(file, e))? {
        match column {
            0 => col
                .typed::<ByteArrayType>()
                .write_batch(&path_vals, Some(&path_def), None),
            1 => col.typed::<Int64Type>().write_batch(&offsets, None, None),
            2 => col.typed::<Int64Type>().write_batch(&sizes, None, None),
            _ => col
                .typed::<ByteArrayType>()
                .write_batch(&raw_vals, Some(&raw_def), None),
        }
        .map_err(|e| perr(file, e))?;
        col.close().map_err(|e| perr(file, e))?;
        column += 1;
    }
    rg.close().map_err(|e| perr(file, e))?;
    w.close().map_err(|e| perr(file, e))?;
    let len = std::fs::metadata(file).map_or(0, |m| m.len());
    Ok(len)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::refs::{ArrayRefs, SourceUrl};
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;
    use serde_json::json;

    fn refs(chunks: Vec<(u64, Reference)>, grid: Vec<u64>) -> References {
        References {
            metadata: vec![
                (".zgroup".into(), json!({"zarr_format": 2})),
                ("g/v/.zarray".into(), json!({"shape": [5]})),
            ],
            arrays: vec![ArrayRefs {
                path: "g/v".into(),
                grid,
                chunks,
            }],
            sources: vec![SourceUrl {
                location: "x.nc".into(),
                url: "/data/x.nc".into(),
            }],
        }
    }

    /// One row: path, offset, size, raw.
    type Row = (Option<String>, i64, i64, Option<Vec<u8>>);

    /// Every row of a reference file.
    fn rows(file: &Path) -> Vec<Row> {
        let r = SerializedFileReader::new(std::fs::File::open(file).unwrap()).unwrap();
        let names: Vec<String> = r
            .metadata()
            .file_metadata()
            .schema_descr()
            .columns()
            .iter()
            .map(|c| c.name().to_string())
            .collect();
        assert_eq!(names, ["path", "offset", "size", "raw"]);
        r.get_row_iter(None)
            .unwrap()
            .map(|row| {
                let row = row.unwrap();
                let f: Vec<&Field> = row.get_column_iter().map(|(_, f)| f).collect();
                let path = match f[0] {
                    Field::Str(s) => Some(s.clone()),
                    Field::Null => None,
                    other => panic!("path {other:?}"),
                };
                let num = |x: &Field| match x {
                    Field::Long(v) => *v,
                    other => panic!("int {other:?}"),
                };
                let raw = match f[3] {
                    Field::Bytes(b) => Some(b.data().to_vec()),
                    Field::Null => None,
                    other => panic!("raw {other:?}"),
                };
                (path, num(f[1]), num(f[2]), raw)
            })
            .collect()
    }

    #[test]
    fn rows_follow_chunk_order_with_record_size_rows_per_file() {
        let range = |o| Reference::Range {
            source: 0,
            offset: o,
            length: 10,
        };
        let r = refs(
            vec![
                (0, range(100)),
                (1, Reference::Inline(vec![1, 2].into())),
                (3, range(300)),
                (4, range(400)),
            ],
            vec![5],
        );
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.parq");
        let stats = write(&r, &dest, 2, false).unwrap();
        assert_eq!(stats.files, 3);
        let f0 = rows(&dest.join("g/v/refs.0.parq"));
        assert_eq!(
            f0,
            vec![
                (Some("/data/x.nc".into()), 100, 10, None),
                (None, 0, 0, Some(vec![1, 2])),
            ]
        );
        let f1 = rows(&dest.join("g/v/refs.1.parq"));
        assert_eq!(
            f1,
            vec![
                (None, 0, 0, None),
                (Some("/data/x.nc".into()), 300, 10, None)
            ]
        );
        // The last file holds only the rows up to the last chunk position.
        let f2 = rows(&dest.join("g/v/refs.2.parq"));
        assert_eq!(f2, vec![(Some("/data/x.nc".into()), 400, 10, None)]);
        let meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dest.join(".zmetadata")).unwrap()).unwrap();
        assert_eq!(meta["record_size"], 2);
        assert_eq!(meta["metadata"]["g/v/.zarray"], json!({"shape": [5]}));
    }

    #[test]
    fn records_of_missing_chunks_only_are_written_as_empty_rows() {
        let r = refs(
            vec![(
                4,
                Reference::Range {
                    source: 0,
                    offset: 1,
                    length: 2,
                },
            )],
            vec![5],
        );
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("o");
        write(&r, &dest, 2, false).unwrap();
        assert_eq!(
            rows(&dest.join("g/v/refs.0.parq")),
            vec![(None, 0, 0, None); 2]
        );
        assert_eq!(
            rows(&dest.join("g/v/refs.1.parq")),
            vec![(None, 0, 0, None); 2]
        );
        assert_eq!(rows(&dest.join("g/v/refs.2.parq")).len(), 1);
        // An array without any chunk still gets its files.
        let empty = refs(vec![], vec![3]);
        let dest = dir.path().join("e");
        write(&empty, &dest, 2, false).unwrap();
        assert_eq!(
            rows(&dest.join("g/v/refs.1.parq")),
            vec![(None, 0, 0, None)]
        );
    }

    #[test]
    fn chunks_streamed_out_of_order_make_the_files_of_the_sorted_set() {
        use crate::stream::{ArrayHeader, Sink};
        let range = |o| Reference::Range {
            source: 0,
            offset: o,
            length: 10,
        };
        let sorted = refs(
            vec![
                (0, range(100)),
                (2, range(200)),
                (3, range(300)),
                (4, range(400)),
            ],
            vec![5],
        );
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        write(&sorted, &a, 2, false).unwrap();
        // The same chunks streamed backwards into an array declared unordered,
        // interleaved with an ordered one.
        let b = dir.path().join("b");
        let mut w = ParquetWriter::create(&b, 2, false).unwrap();
        let mut header = crate::stream::header_of(&sorted);
        header.arrays[0].ordered = false;
        header.arrays.push(ArrayHeader {
            path: "w".into(),
            grid: vec![3],
            ordered: true,
        });
        w.begin(&header).unwrap();
        for (flat, r) in sorted.arrays[0].chunks.iter().rev() {
            w.chunk(0, *flat, r.clone()).unwrap();
            if *flat == 3 {
                w.chunk(1, 0, range(7)).unwrap();
                w.chunk(1, 2, range(9)).unwrap();
                // An ordered array's files are written once a later chunk comes.
                assert!(b.parent().unwrap().read_dir().unwrap().any(|e| {
                    let p = e.unwrap().path();
                    p.join("w/refs.0.parq").is_file()
                }));
            }
        }
        // Out of order in an ordered array is refused.
        assert!(w.chunk(1, 1, range(8)).is_err());
        w.finish().unwrap();
        for k in 0..3 {
            let f = format!("g/v/refs.{k}.parq");
            assert_eq!(rows(&a.join(&f)), rows(&b.join(&f)), "{f}");
        }
        assert_eq!(
            rows(&b.join("w/refs.1.parq")),
            vec![(Some("/data/x.nc".into()), 9, 10, None)]
        );
        assert_eq!(rows(&b.join("w/refs.0.parq"))[1], (None, 0, 0, None));
    }

    #[test]
    fn an_existing_output_is_replaced_only_with_overwrite() {
        let r = refs(vec![], vec![5]);
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("o.parq");
        write(&r, &dest, 10, false).unwrap();
        assert!(write(&r, &dest, 10, false).is_err());
        write(&r, &dest, 10, true).unwrap();
        assert!(dest.join(".zmetadata").is_file());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert!(write(&r, &dest, 0, true).is_err());
    }
}
