//! Provenance recorded in every output's root attributes (`arco:provenance`):
//! the arco version, each input with its size and SHA-256, the command line,
//! the options, and when it was made.

use crate::{Error, Result};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::Read;

/// Buffer used when hashing an input.
const HASH_BUFFER: usize = 1 << 20;

/// The provenance record of one input: `location`, `size` and `sha256` for
/// local files; for remote ones `size` and the store's `etag` (reading a
/// remote object whole only to hash it would double the transfer).
pub fn input_record(location: &str, size: u64, etag: Option<&str>) -> Result<Value> {
    match arco_storage::Location::parse(location) {
        Ok(arco_storage::Location::Local(path)) => {
            let sha = sha256_file(&path)?;
            Ok(json!({ "location": location, "size": size, "sha256": sha }))
        }
        _ => Ok(match etag {
            Some(etag) => json!({ "location": location, "size": size, "etag": etag }),
            None => json!({
                "location": location,
                "size": size,
                "etag": null,
                "note": "the store gave no ETag for this object",
            }),
        }),
    }
}

/// Hex SHA-256 of a file, read with a bounded buffer.
pub fn sha256_file(path: &std::path::Path) -> Result<String> {
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; HASH_BUFFER];
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// The current time as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn now_iso() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    iso_from_unix(secs)
}

/// `secs` since 1970 as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, UTC).
pub fn iso_from_unix(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn unix_times_format_as_iso_dates() {
        assert_eq!(iso_from_unix(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_from_unix(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso_from_unix(1_795_000_000), "2026-11-18T11:06:40Z");
    }

    #[test]
    fn local_inputs_are_recorded_with_their_sha256() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.bin");
        std::fs::write(&p, b"abc").unwrap();
        let r = input_record(p.to_str().unwrap(), 3, None).unwrap();
        assert_eq!(
            r["sha256"],
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let r = input_record("s3://bucket/x.nc", 3, None).unwrap();
        assert!(r["etag"].is_null() && r["note"].as_str().unwrap().contains("no ETag"));
        let r = input_record("s3://bucket/x.nc", 3, Some("\"abc\"")).unwrap();
        assert_eq!(r["etag"], "\"abc\"");
    }
}
