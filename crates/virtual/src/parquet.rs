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
use crate::{Error, Result};
use parquet::basic::{Compression, ZstdLevel};
use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterVersion};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use parquet::schema::types::ColumnPath;
use std::path::Path;
use std::sync::Arc;

/// The schema of every reference file.
const SCHEMA: &str = "message schema {
  OPTIONAL BYTE_ARRAY path (UTF8);
  REQUIRED INT64 offset;
  REQUIRED INT64 size;
  OPTIONAL BYTE_ARRAY raw;
}";

/// What [`write`] wrote.
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
    if record_size == 0 {
        return Err(Error::Output {
            path: dest.display().to_string(),
            message: "--record-size must be at least 1".into(),
        });
    }
    check_dest(dest, overwrite)?;
    let tmp = temp_sibling(dest, "tmp");
    let result = write_into(refs, &tmp, record_size).and_then(|stats| {
        publish(&tmp, dest)?;
        Ok(stats)
    });
    if result.is_err() {
        discard(&tmp);
    }
    result
}

fn write_into(refs: &References, dir: &Path, record_size: u64) -> Result<ParquetStats> {
    std::fs::create_dir(dir).map_err(|e| io_err(dir, "creating the folder", e))?;
    let mut stats = ParquetStats::default();
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
    let schema = Arc::new(parse_message_type(SCHEMA).map_err(|e| perr(dir, e))?);
    for a in &refs.arrays {
        let total = a.chunk_count();
        if total == 0 {
            continue;
        }
        let folder = dir.join(&a.path);
        std::fs::create_dir_all(&folder).map_err(|e| io_err(&folder, "creating the folder", e))?;
        let mut rest = a.chunks.as_slice();
        let records = total.div_ceil(record_size);
        for record in 0..records {
            let start = record * record_size;
            let end = (start + record_size).min(total);
            let split = rest.partition_point(|(f, _)| *f < end);
            let (these, after) = rest.split_at(split);
            rest = after;
            let file = folder.join(format!("refs.{record}.parq"));
            stats.bytes += write_file(refs, &file, start, end, these, &schema, &props)?;
            stats.files += 1;
        }
    }
    let meta = zmetadata(refs, record_size).to_string();
    let path = dir.join(".zmetadata");
    std::fs::write(&path, &meta).map_err(|e| io_err(&path, "writing", e))?;
    stats.bytes += meta.len() as u64;
    Ok(stats)
}

/// One reference file: rows `start..end` of an array, `chunks` those of
/// its chunks in that range (sorted).
fn write_file(
    refs: &References,
    file: &Path,
    start: u64,
    end: u64,
    chunks: &[(u64, Reference)],
    schema: &Arc<parquet::schema::types::Type>,
    props: &Arc<WriterProperties>,
) -> Result<u64> {
    let rows = usize::try_from(end - start).unwrap_or(0);
    let mut path_vals: Vec<ByteArray> = Vec::new();
    let mut path_def: Vec<i16> = vec![0; rows];
    let mut offsets: Vec<i64> = vec![0; rows];
    let mut sizes: Vec<i64> = vec![0; rows];
    let mut raw_vals: Vec<ByteArray> = Vec::new();
    let mut raw_def: Vec<i16> = vec![0; rows];
    let urls: Vec<ByteArray> = refs
        .sources
        .iter()
        .map(|s| ByteArray::from(s.url.as_str()))
        .collect();
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
