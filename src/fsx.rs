//! File helpers: atomic writes (temp file in the same directory, then rename), so an
//! interrupted build never leaves a truncated file that a later build trusts.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::Error;

fn io_err(action: &'static str, path: &Path, e: std::io::Error) -> Error {
    Error::Io { action, path: path.to_path_buf(), error: e.to_string() }
}

/// A sibling of `path` unique to this process, with the same extension.
pub(crate) fn temp_sibling(path: &Path) -> PathBuf {
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let ext = path.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    path.with_file_name(format!("{stem}.tmp{}{ext}", std::process::id()))
}

pub(crate) fn create_dir_all(dir: &Path) -> Result<(), Error> {
    fs::create_dir_all(dir).map_err(|e| io_err("create directory", dir, e))
}

pub(crate) fn rename(from: &Path, to: &Path) -> Result<(), Error> {
    fs::rename(from, to).map_err(|e| io_err("rename into", to, e))
}

/// Writes `bytes` to `path` atomically.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    if let Some(dir) = path.parent() {
        create_dir_all(dir)?;
    }
    let tmp = temp_sibling(path);
    fs::write(&tmp, bytes).map_err(|e| io_err("write", &tmp, e))?;
    rename(&tmp, path)
}

/// Writes only when the content differs, so cargo sees no change on a no-op build.
pub(crate) fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<bool, Error> {
    if fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(false);
    }
    write_atomic(path, bytes).map(|()| true)
}
