//! Atomic outputs: everything is written to a temporary sibling of the
//! destination and renamed into place, so a reader never sees half a
//! reference set and a failed run leaves the old output (or nothing).

use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// A temporary sibling of `dest`: same folder (so the rename stays on one
/// file system), a name no other run uses.
pub(crate) fn temp_sibling(dest: &Path, what: &str) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    dest.with_file_name(format!(
        ".{name}.arco-{what}-{}-{nanos}",
        std::process::id()
    ))
}

pub(crate) fn io_err(path: &Path, what: &str, e: std::io::Error) -> Error {
    Error::Output {
        path: path.display().to_string(),
        message: format!("{what}: {e}"),
    }
}

/// Refuse an existing destination unless `overwrite`.
pub(crate) fn check_dest(dest: &Path, overwrite: bool) -> Result<()> {
    if dest.exists() && !overwrite {
        return Err(Error::Output {
            path: dest.display().to_string(),
            message: "it already exists; pass --overwrite to replace it".into(),
        });
    }
    if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.is_dir() {
            return Err(Error::Output {
                path: dest.display().to_string(),
                message: format!("the folder {} does not exist", parent.display()),
            });
        }
    }
    Ok(())
}

/// Move the finished `tmp` (a file or a folder) to `dest`, replacing what
/// is there (only called after [`check_dest`]).
pub(crate) fn publish(tmp: &Path, dest: &Path) -> Result<()> {
    if dest.is_dir() {
        // A folder cannot be renamed over: move the old one aside first.
        let old = temp_sibling(dest, "old");
        std::fs::rename(dest, &old).map_err(|e| io_err(dest, "moving the old output aside", e))?;
        if let Err(e) = std::fs::rename(tmp, dest) {
            let _ = std::fs::rename(&old, dest);
            return Err(io_err(dest, "renaming the new output into place", e));
        }
        std::fs::remove_dir_all(&old).map_err(|e| io_err(&old, "removing the old output", e))?;
        return Ok(());
    }
    std::fs::rename(tmp, dest).map_err(|e| io_err(dest, "renaming the new output into place", e))
}

/// Remove a temporary file or folder after a failure (best effort).
pub(crate) fn discard(tmp: &Path) {
    if tmp.is_dir() {
        let _ = std::fs::remove_dir_all(tmp);
    } else {
        let _ = std::fs::remove_file(tmp);
    }
}
