//! File helpers: atomic writes (temp file in the same directory, then rename), so an
//! interrupted build never leaves a truncated file that a later build trusts.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};

/// A file operation that failed; `crate::Error::Io` carries it to the user.
#[derive(Debug)]
pub(crate) struct FileError {
    pub action: &'static str,
    pub path: PathBuf,
    pub error: String,
}

fn io_err(action: &'static str, path: &Path, e: std::io::Error) -> FileError {
    FileError { action, path: path.to_path_buf(), error: e.to_string() }
}

/// Temp files start with this and have no extension: every output cuda-build writes ends in
/// an extension (`.ptx`, `.fatbin`, `.o`, `.stamp`, `.rs`, `.a`), so no kernel's output, however
/// its source is named, can ever be taken for a temp file or clobbered by one.
const TEMP_PREFIX: &str = ".cuda-build-tmp-";

/// A sibling of `path` unique to this process and call (`.cuda-build-tmp-<pid>-<n>`), so
/// concurrent writers never share a temp file.
pub(crate) fn temp_sibling(path: &Path) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    path.with_file_name(format!("{TEMP_PREFIX}{}-{n}", std::process::id()))
}

/// Removes the temp files that killed builds left in `dir`: only names of exactly our temp
/// form, and only those of processes that no longer run (a concurrent build's temps stay).
/// Where processes cannot be looked up (no `/proc`), nothing is removed.
pub(crate) fn remove_dead_temps(dir: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let name = e.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(TEMP_PREFIX)) else { continue };
        let Some((pid, n)) = rest.split_once('-') else { continue };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(pid) || !digits(n) || pid == std::process::id().to_string() {
            continue;
        }
        if !running(pid) && e.file_type().is_ok_and(|t| t.is_file()) {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// Whether process `pid` runs: it has a `/proc` entry and is no zombie (an orphaned nvcc
/// whose parent was killed may stay a zombie where nothing reaps it; it writes nothing more).
fn running(pid: &str) -> bool {
    let Ok(stat) = fs::read_to_string(Path::new("/proc").join(pid).join("stat")) else { return false };
    // `pid (comm) S ...`: the state follows the last `)` (comm may hold one itself).
    let state = stat.rfind(')').and_then(|i| stat.get(i + 1..)).and_then(|r| r.trim_start().chars().next());
    !matches!(state, Some('Z' | 'X'))
}

/// `p` without `.` components or doubled separators: the spelling [`under`] compares.
pub(crate) fn normal(p: &Path) -> PathBuf {
    p.components().collect()
}

/// Whether `p` is `dir` or below it. For [`normal`] paths this is `Path::starts_with`,
/// compared as bytes: a build script runs unoptimized, where walking the components of
/// every dependency of every kernel costs more than the rest of a no-op build.
pub(crate) fn under(p: &Path, dir: &Path) -> bool {
    let (p, dir) = (p.as_os_str().as_encoded_bytes(), dir.as_os_str().as_encoded_bytes());
    let dir = dir.strip_suffix(b"/").unwrap_or(dir);
    p.starts_with(dir) && p.get(dir.len()).is_none_or(|&c| c == b'/')
}

/// A hasher for maps keyed by paths: their length and last 16 bytes (where file names
/// differ). A build script runs unoptimized, where `SipHash` over a path's bytes (or `Path`'s
/// hash, which walks its components) costs about as much as the work a map saves; paths that
/// share these bytes only share a bucket (the map compares whole keys).
#[derive(Default)]
pub(crate) struct PathHasher(u64);

impl Hasher for PathHasher {
    fn write(&mut self, bytes: &[u8]) {
        let tail = bytes.get(bytes.len().saturating_sub(16)..).unwrap_or_default();
        let mut w = [0u8; 16];
        if let Some(dst) = w.get_mut(..tail.len()) {
            dst.copy_from_slice(tail);
        }
        let x = u128::from_le_bytes(w);
        for half in [x as u64, (x >> 64) as u64] {
            self.0 = (self.0 ^ half).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 ^= n as u64;
    }
    fn finish(&self) -> u64 {
        // Fold the high bits down: the map indexes by the low ones.
        let h = (self.0 ^ (self.0 >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^ (h >> 33)
    }
}

/// A map keyed by paths (as `OsStr`/`OsString`), hashed with [`PathHasher`].
pub(crate) type PathMap<K, V> = HashMap<K, V, BuildHasherDefault<PathHasher>>;
/// A set of paths, hashed with [`PathHasher`].
pub(crate) type PathSet<K> = HashSet<K, BuildHasherDefault<PathHasher>>;

/// A file's signature, `mtime.nanos size`: what stamps and the tool-answer cache compare.
/// `None` when it is gone.
pub(crate) fn file_sig(path: &Path) -> Option<String> {
    let m = fs::metadata(path).ok()?;
    let t = m.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?;
    Some(format!("{}.{:09} {}", t.as_secs(), t.subsec_nanos(), m.len()))
}

pub(crate) fn create_dir_all(dir: &Path) -> Result<(), FileError> {
    fs::create_dir_all(dir).map_err(|e| io_err("create directory", dir, e))
}

pub(crate) fn rename(from: &Path, to: &Path) -> Result<(), FileError> {
    fs::rename(from, to).map_err(|e| io_err("rename into", to, e))
}

/// Writes `bytes` to `path` atomically.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    if let Some(dir) = path.parent() {
        create_dir_all(dir)?;
    }
    let tmp = temp_sibling(path);
    fs::write(&tmp, bytes).map_err(|e| io_err("write", &tmp, e))?;
    rename(&tmp, path)
}

/// Writes only when the content differs, so cargo sees no change on a no-op build.
pub(crate) fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<bool, FileError> {
    if fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(false);
    }
    write_atomic(path, bytes).map(|()| true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn under_is_starts_with_for_normal_paths() {
        let cases = [
            ("/c/src/./k.cuh", "/c", true),
            ("/c//src/k.cuh", "/c/src/", true),
            ("/c/src/../inc/k.cuh", "/c/src", true),
            ("/c/srcx/k.cuh", "/c/src", false),
            ("/c/src", "/c/src", true),
            ("/usr/include/stdio.h", "/", true),
            ("/usr/include/stdio.h", "/c", false),
            ("/c", "/c/src", false),
        ];
        for (p, dir, want) in cases {
            let (p, dir) = (normal(Path::new(p)), normal(Path::new(dir)));
            assert_eq!(under(&p, &dir), want, "{} under {}", p.display(), dir.display());
            assert_eq!(under(&p, &dir), p.starts_with(&dir), "{} under {}", p.display(), dir.display());
        }
    }

    #[test]
    fn a_zombies_temps_are_removed_a_running_processs_stay() {
        let dir = tempfile::tempdir().unwrap();
        let mut zombie = std::process::Command::new("true").spawn().unwrap();
        let mut live = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        let (z, l) = (zombie.id().to_string(), live.id().to_string());
        let t0 = std::time::Instant::now();
        while running(&z) && t0.elapsed().as_secs() < 10 {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(Path::new("/proc").join(&z).exists(), "not yet reaped: a zombie");
        for pid in [&z, &l] {
            fs::write(dir.path().join(format!("{TEMP_PREFIX}{pid}-0")), "").unwrap();
        }
        remove_dead_temps(dir.path());
        assert!(!dir.path().join(format!("{TEMP_PREFIX}{z}-0")).exists(), "the zombie's temp stays");
        assert!(dir.path().join(format!("{TEMP_PREFIX}{l}-0")).exists(), "a running process's temp removed");
        let _ = live.kill();
        let _ = (zombie.wait(), live.wait());
    }

    #[test]
    fn only_dead_processes_temps_of_exactly_our_form_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let dead = ".cuda-build-tmp-999999999-0";
        let ours = temp_sibling(&dir.path().join("x"));
        let keep = ["k.tmp1-0.fatbin", "k.tmp1-0.cu", ".cuda-build-tmp-1-x", ".cuda-build-tmp-999999999-0.fatbin"];
        for n in keep.iter().chain([&dead]) {
            fs::write(dir.path().join(n), "").unwrap();
        }
        fs::write(&ours, "").unwrap();
        remove_dead_temps(dir.path());
        assert!(!dir.path().join(dead).exists());
        assert!(ours.exists(), "this process's own temp stays");
        for n in keep {
            assert!(dir.path().join(n).exists(), "{n} removed");
        }
    }
}
