//! What a build records beside each output (`<output>.stamp`) so the next build knows
//! whether it is up to date: a hash of the exact command, nvcc's duration, every file nvcc
//! read with its signature AS IT WAS WHEN THE JOB STARTED, and the entry names.

use std::cell::RefCell;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::Error;
use crate::fsx;

/// 4: dependency paths are recorded normalized (no `.` component, no doubled `/`), which
/// the crate-file test ([`crate::fsx::under`]) relies on; older stamps recompile once.
const HEADER: &str = "cuda-build-stamp 4";

/// Recorded for a dependency that changed while nvcc ran: matches no file, so the next
/// build recompiles.
const CHANGED: &str = "changed-during-build";

/// What one build recorded for one output.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Stamp {
    /// [`key_hash`] of the command key.
    pub key: u64,
    /// nvcc's wall time: the next build's estimate for this job.
    pub secs: f64,
    /// Every dependency and its signature.
    pub deps: Deps,
    pub entries: Vec<String>,
    /// The output is compressed and no names could be read.
    pub unreadable: bool,
}

/// A stamp's dependencies as its file holds them (`dep <signature>\t<path>` lines), read
/// as slices of that text: a no-op build compares thousands of them (a suite's kernels each
/// read hundreds of toolkit headers), unoptimized, and makes no path or string of any.
/// Shared with the job's result.
#[derive(Clone, Debug, PartialEq, Default)]
pub(crate) struct Deps(Arc<str>);

impl Deps {
    pub(crate) fn new(deps: &[(PathBuf, String)]) -> Deps {
        use std::fmt::Write as _;
        let mut text = String::new();
        for (d, sig) in deps {
            let sig = if sig.is_empty() { CHANGED } else { sig };
            let _ = writeln!(text, "dep {sig}\t{}", d.display());
        }
        Deps(text.into())
    }

    /// Each path and its signature; a malformed line gives an empty path, whose signature
    /// matches nothing (the job recompiles).
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&Path, &str)> {
        self.0.lines().map(|l| match l.strip_prefix("dep ").and_then(|d| d.split_once('\t')) {
            Some((sig, p)) => (Path::new(p), sig),
            None => (Path::new(""), CHANGED),
        })
    }

    pub(crate) fn paths(&self) -> impl Iterator<Item = &Path> {
        self.iter().map(|(p, _)| p)
    }
}

/// The command key, hashed (FNV-1a: stable across Rust versions).
pub(crate) fn key_hash(key: &str) -> u64 {
    crate::cache::fnv(key)
}

pub(crate) fn path_for(output: &Path) -> PathBuf {
    let mut name = output.file_name().unwrap_or_default().to_os_string();
    name.push(".stamp");
    output.with_file_name(name)
}

pub(crate) use crate::fsx::file_sig;

/// How far a file's mtime may lag behind the clock when it is written: Linux stamps files
/// from a coarse clock (one tick, at most 10 ms); filesystems with whole-second times
/// (nanoseconds 0: FAT, some network mounts) lag up to 2 s.
fn mtime_slack(mtime: SystemTime) -> Duration {
    let whole_seconds = mtime.duration_since(UNIX_EPOCH).is_ok_and(|d| d.subsec_nanos() == 0);
    if whole_seconds {
        Duration::from_secs(2)
    } else {
        Duration::from_millis(20)
    }
}

/// The signature to record for `dep` after a job that started at `started`: the one taken
/// before the job (`before`, for the source and the files the previous build read), else
/// the current one; [`CHANGED`] when the file changed while nvcc may have been reading it,
/// so an edit saved during a build is never taken for compiled.
pub(crate) fn settled_sig(dep: &Path, before: Option<&Option<String>>, started: SystemTime) -> String {
    let now = file_sig(dep);
    if let Some(before) = before {
        return match (before, &now) {
            (Some(b), Some(n)) if b == n => n.clone(),
            _ => CHANGED.into(),
        };
    }
    let Some(now) = now else { return CHANGED.into() };
    let modified = fs::metadata(dep).and_then(|m| m.modified()).ok();
    match modified {
        Some(m) if m + mtime_slack(m) >= started => CHANGED.into(),
        Some(_) => now,
        None => CHANGED.into(),
    }
}

/// Signatures taken once per build for the freshness checks: the kernels of a suite share
/// most of their dependencies (the toolkit's and the compiler's headers), so a no-op build
/// stats each file once, not once per kernel that read it.
#[derive(Default)]
pub(crate) struct Sigs(RefCell<fsx::PathMap<OsString, Option<String>>>);

impl Sigs {
    fn matches(&self, p: &Path, sig: &str) -> bool {
        let mut memo = self.0.borrow_mut();
        if let Some(known) = memo.get(p.as_os_str()) {
            return known.as_deref() == Some(sig);
        }
        let now = file_sig(p);
        let same = now.as_deref() == Some(sig);
        memo.insert(p.as_os_str().to_owned(), now);
        same
    }
}

/// Whether every recorded dependency still has its recorded signature.
pub(crate) fn deps_unchanged(s: &Stamp, sigs: &Sigs) -> bool {
    s.deps.iter().all(|(p, sig)| sigs.matches(p, sig))
}

pub(crate) fn write(path: &Path, s: &Stamp) -> Result<(), Error> {
    use std::fmt::Write as _;
    let mut text = format!("{HEADER}\nsecs {}\nkey {:016x}\n", s.secs, s.key);
    if s.unreadable {
        text.push_str("unreadable\n");
    }
    for e in &s.entries {
        let _ = writeln!(text, "entry {e}");
    }
    text.push_str(&s.deps.0);
    Ok(fsx::write_atomic(path, text.as_bytes())?)
}

pub(crate) fn read(path: &Path) -> Option<Stamp> {
    let text = fs::read_to_string(path).ok()?;
    let (header, rest) = text.split_once('\n')?;
    if header != HEADER {
        return None;
    }
    let (secs, rest) = rest.split_once('\n')?;
    let secs = secs.strip_prefix("secs ")?.parse().ok()?;
    let (key, mut rest) = rest.split_once('\n')?;
    let key = u64::from_str_radix(key.strip_prefix("key ")?, 16).ok()?;
    let (mut entries, mut unreadable) = (Vec::new(), false);
    // The dependency lines come last; they are kept as text (see `Deps`).
    while !rest.is_empty() && !rest.starts_with("dep ") {
        let (l, more) = rest.split_once('\n').unwrap_or((rest, ""));
        if let Some(e) = l.strip_prefix("entry ") {
            entries.push(e.to_owned());
        } else if l == "unreadable" {
            unreadable = true;
        } else {
            return None;
        }
        rest = more;
    }
    let deps = Deps(rest.into());
    Some(Stamp { key, secs, deps, entries, unreadable })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.ptx.stamp");
        let s = Stamp {
            key: key_hash("nvcc -ptx \"quoted\"\nnewline"),
            secs: 1.25,
            deps: Deps::new(&[
                (dir.path().join("a b.cuh"), "12.000000001 4".into()),
                (dir.path().join("x.cu"), CHANGED.into()),
            ]),
            entries: vec!["_Z3addPf".into(), "k".into()],
            unreadable: true,
        };
        write(&p, &s).unwrap();
        assert_eq!(read(&p).unwrap(), s);
        assert!(!deps_unchanged(&s, &Sigs::default()), "a dependency changed during the build never matches");
        // A damaged dependency line matches nothing.
        let a = dir.path().join("a b.cuh");
        fs::write(&a, "x").unwrap();
        let ok = Stamp { deps: Deps::new(&[(a.clone(), file_sig(&a).unwrap())]), ..s.clone() };
        assert!(deps_unchanged(&ok, &Sigs::default()));
        let damaged = Stamp { deps: Deps(format!("{}dep no-tab\n", ok.deps.0).into()), ..s };
        assert!(!deps_unchanged(&damaged, &Sigs::default()));
    }

    #[test]
    fn a_file_written_after_the_job_started_is_recorded_as_changed() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("old.cuh");
        fs::write(&old, "x").unwrap();
        let f = fs::File::options().append(true).open(&old).unwrap();
        f.set_modified(SystemTime::now() - Duration::from_secs(60)).unwrap();
        let started = SystemTime::now();
        let new = dir.path().join("new.cuh");
        fs::write(&new, "y").unwrap();
        assert_eq!(settled_sig(&old, None, started), file_sig(&old).unwrap());
        assert_eq!(settled_sig(&new, None, started), CHANGED);
        // Known before the job: its signature then, unless it differs now.
        let before = file_sig(&old);
        assert_eq!(settled_sig(&old, Some(&before), started), file_sig(&old).unwrap());
        fs::write(&old, "edited").unwrap();
        assert_eq!(settled_sig(&old, Some(&before), started), CHANGED);
        assert_eq!(settled_sig(&dir.path().join("gone"), None, started), CHANGED);
    }

    #[test]
    fn one_build_stats_each_file_once_and_tells_same_tailed_paths_apart() {
        let dir = tempfile::tempdir().unwrap();
        // Same length and last 16 bytes: one bucket of the memo, two entries.
        let (a, b) = (dir.path().join("a/common.cuh"), dir.path().join("b/common.cuh"));
        for (p, text) in [(&a, "a"), (&b, "bb")] {
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
        }
        let stamp = |deps: &[&PathBuf]| Stamp {
            key: 1,
            secs: 0.0,
            deps: Deps::new(&deps.iter().map(|p| ((*p).clone(), file_sig(p).unwrap())).collect::<Vec<_>>()),
            entries: Vec::new(),
            unreadable: false,
        };
        let (s1, s2) = (stamp(&[&a, &b]), stamp(&[&b]));
        let sigs = Sigs::default();
        assert!(deps_unchanged(&s1, &sigs) && deps_unchanged(&s2, &sigs));
        assert_eq!(sigs.0.borrow().len(), 2);
        let mut wrong = s2.clone();
        wrong.deps = Deps::new(&[(b.clone(), file_sig(&a).unwrap())]);
        assert!(!deps_unchanged(&wrong, &sigs), "b's signature is b's, not a's");
        // The next build takes new signatures.
        fs::write(&b, "edited").unwrap();
        assert!(!deps_unchanged(&s2, &Sigs::default()));
    }
}
