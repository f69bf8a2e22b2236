//! kerchunk Parquet folders (fsspec's `LazyReferenceMapper` layout): the
//! metadata from `.zmetadata`, chunk `k` of an array from row
//! `k % record_size` of `path/refs.{k / record_size}.parq` (columns `path`,
//! `offset`, `size`, `raw`; a row with neither path nor raw is a missing
//! chunk, as is a file that does not exist).

use super::{bad, RawChunk, RawRefs};
use crate::Result;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use serde_json::Value;
use std::path::Path;

/// Load the reference set in the local folder `location`.
pub(super) fn load(location: &str) -> Result<RawRefs> {
    let dir = match arco_storage::Location::parse(location)? {
        arco_storage::Location::Local(p) => p,
        _ => {
            return Err(bad(
                location,
                "Parquet reference sets are read from local folders only",
            ))
        }
    };
    let meta_path = dir.join(".zmetadata");
    let text = std::fs::read(&meta_path).map_err(|e| {
        bad(
            location,
            format!("cannot read {}: {e}", meta_path.display()),
        )
    })?;
    let doc: Value = serde_json::from_slice(&text)
        .map_err(|e| bad(location, format!(".zmetadata is not JSON: {e}")))?;
    let record_size = doc
        .get("record_size")
        .and_then(Value::as_u64)
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            bad(
                location,
                ".zmetadata has no positive record_size: not a kerchunk Parquet reference set",
            )
        })?;
    let mut out = RawRefs::default();
    if let Some(Value::Object(m)) = doc.get("metadata") {
        for (k, v) in m {
            let v = match v {
                Value::String(s) => serde_json::from_str(&super::sanitize(s))
                    .map_err(|e| bad(location, format!("{k}: not JSON: {e}")))?,
                other => other.clone(),
            };
            out.metadata.insert(k.clone(), v);
        }
    }
    let arrays: Vec<(String, Vec<u64>)> = out
        .metadata
        .iter()
        .filter_map(|(k, v)| {
            let path = k.strip_suffix(".zarray")?.trim_end_matches('/').to_string();
            let shape: Vec<u64> = v
                .get("shape")?
                .as_array()?
                .iter()
                .filter_map(Value::as_u64)
                .collect();
            let chunks: Vec<u64> = v
                .get("chunks")?
                .as_array()?
                .iter()
                .filter_map(Value::as_u64)
                .collect();
            let grid = shape
                .iter()
                .zip(&chunks)
                .map(|(s, c)| s.div_ceil((*c).max(1)))
                .collect();
            Some((path, grid))
        })
        .collect();
    for (path, grid) in arrays {
        let total: u64 = grid.iter().product();
        let files = total.div_ceil(record_size);
        for f in 0..files {
            let file = dir.join(&path).join(format!("refs.{f}.parq"));
            if !file.is_file() {
                continue;
            }
            for (row, chunk) in read_file(location, &file)? {
                let Some(chunk) = chunk else { continue };
                let flat = f * record_size + row;
                if flat >= total {
                    break;
                }
                out.placed
                    .push((path.clone(), unflatten(flat, &grid), chunk));
            }
        }
    }
    Ok(out)
}

fn unflatten(mut flat: u64, grid: &[u64]) -> Vec<u64> {
    let mut index = vec![0u64; grid.len()];
    for d in (0..grid.len()).rev() {
        let n = grid[d].max(1);
        index[d] = flat % n;
        flat /= n;
    }
    index
}

/// The rows of one reference file: `(row, reference or None when missing)`.
fn read_file(location: &str, file: &Path) -> Result<Vec<(u64, Option<RawChunk>)>> {
    let perr = |e: parquet::errors::ParquetError| bad(location, format!("{}: {e}", file.display()));
    let f =
        std::fs::File::open(file).map_err(|e| bad(location, format!("{}: {e}", file.display())))?;
    let reader = SerializedFileReader::new(f).map_err(perr)?;
    let mut out = Vec::new();
    for (i, row) in reader.get_row_iter(None).map_err(perr)?.enumerate() {
        let row = row.map_err(perr)?;
        let mut path: Option<String> = None;
        let mut offset = 0i64;
        let mut size = 0i64;
        let mut raw: Option<Vec<u8>> = None;
        for (name, field) in row.get_column_iter() {
            match (name.as_str(), field) {
                ("path", Field::Str(s)) => path = Some(s.clone()),
                ("path", Field::Bytes(b)) => {
                    path = Some(String::from_utf8_lossy(b.data()).into_owned())
                }
                ("offset", Field::Long(x)) => offset = *x,
                ("offset", Field::Double(x)) => offset = *x as i64,
                ("size", Field::Long(x)) => size = *x,
                ("size", Field::Double(x)) => size = *x as i64,
                ("raw", Field::Bytes(b)) => raw = Some(b.data().to_vec()),
                ("raw", Field::Str(s)) => raw = Some(s.as_bytes().to_vec()),
                _ => {}
            }
        }
        let chunk = match (path, raw) {
            (_, Some(raw)) => Some(RawChunk::Inline(raw)),
            (Some(url), None) if !url.is_empty() => Some(RawChunk::Range {
                url,
                offset: u64::try_from(offset).unwrap_or(0),
                length: if size > 0 {
                    u64::try_from(size).ok()
                } else {
                    None
                },
            }),
            _ => None,
        };
        out.push((i as u64, chunk));
    }
    Ok(out)
}
