//! File helpers: atomic writes (temp file in the same directory, then rename), so an
//! interrupted build never leaves a truncated file that a later build trusts.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::Error;

fn io_err(action: &'static str, path: &Path, e: std::io::Error) -> Error {
    Error::Io { action, path: path.to_path_buf(), error: e.to_string() }
}

/// A sibling of `path` unique to this process and call, with the same extension
/// (`k.tmp1234-0.fatbin`), so concurrent writers never share a temp file.
pub(crate) fn temp_sibling(path: &Path) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let ext = path.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    path.with_file_name(format!("{stem}.tmp{}-{n}{ext}", std::process::id()))
}

/// Removes temp files a killed earlier build left beside `path` (`<stem>.tmp*`).
pub(crate) fn remove_stale_temps(path: &Path) {
    let (Some(dir), Some(stem)) = (path.parent(), path.file_stem().and_then(|s| s.to_str())) else { return };
    let prefix = format!("{stem}.tmp");
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        // `<stem>.tmp<pid>-<n>...`: digits right after, so `a.tmpl.cu`-like names are safe.
        if name.strip_prefix(&prefix).is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit())) {
            let _ = fs::remove_file(e.path());
        }
    }
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
