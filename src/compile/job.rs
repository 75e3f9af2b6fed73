//! One nvcc run for one kernel: temp outputs renamed into place, the depfile read, the
//! stamp written with the dependencies as they were when the job started. A launcher that
//! fails is never the build's failure: nvcc then runs once directly.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use super::launcher::{self, Launcher, Tally};
use super::sources::Source;
use super::stamp::{self, Deps, Stamp};
use super::{depfile, entries};
use crate::error::Error;
use crate::error::ToolError;
use crate::fsx;
use crate::run::{Cmd, Output};

pub(crate) struct Job {
    pub source: Source,
    /// Previous duration (from the stamp) or source size: longest first.
    pub weight: f64,
    /// The stamp of the previous build, read once.
    pub stamp: Option<Stamp>,
    /// The source and its local headers, when the weight needed them (read once).
    local: Option<Vec<PathBuf>>,
}

impl Job {
    /// A job and its weight: the duration its stamp recorded, else the one kept in the
    /// user's cache (`durations`, keyed by source path and command), else the bytes of the
    /// source and its local headers times `per_byte` (the format's passes), scaled far below
    /// any measured duration.
    pub(crate) fn new(source: Source, includes: &[PathBuf], durations: Option<&Path>, key: u64, per_byte: f64) -> Job {
        let stamp = stamp::read(&stamp::path_for(&source.output));
        let recorded = stamp.as_ref().map(|s| s.secs).or_else(|| {
            durations.and_then(|d| fs::read_to_string(duration_file(d, &source.path, key)).ok()?.trim().parse().ok())
        });
        let (weight, local) = match recorded {
            Some(secs) => (secs, None),
            None => {
                let files = local_files(&source.path, includes);
                let bytes: u64 = files.iter().filter_map(|f| fs::metadata(f).ok()).map(|m| m.len()).sum();
                (bytes as f64 * per_byte * 1e-9, Some(files))
            }
        };
        Job { source, weight, stamp, local }
    }
}

/// The file holding the last nvcc duration of `source` built with the command `key`.
fn duration_file(dir: &Path, source: &Path, key: u64) -> PathBuf {
    dir.join(format!("{:016x}", crate::cache::fnv(&format!("{}\n{key:016x}", source.display()))))
}

/// `source` and every local header it includes (`#include "..."`, found beside the
/// including file or in `includes`), each once. Their bytes estimate the work when no
/// duration is recorded (ten kernels of one size that include large headers are long
/// poles their own size does not show), and their signatures are taken before nvcc runs.
fn local_files(source: &Path, includes: &[PathBuf]) -> Vec<PathBuf> {
    const MAX_FILES: usize = 2000;
    let mut seen: Vec<PathBuf> = Vec::new();
    let mut todo = vec![source.to_path_buf()];
    while let Some(file) = todo.pop() {
        if seen.contains(&file) || seen.len() >= MAX_FILES {
            continue;
        }
        let Ok(text) = fs::read(&file) else { continue };
        let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        for line in String::from_utf8_lossy(&text).lines() {
            let Some(rest) = line.trim_start().strip_prefix('#') else { continue };
            let Some(rest) = rest.trim_start().strip_prefix("include") else { continue };
            let Some(name) = rest.trim_start().strip_prefix('"').and_then(|r| r.split('"').next()) else { continue };
            if let Some(found) = std::iter::once(&dir).chain(includes).map(|d| d.join(name)).find(|p| p.is_file()) {
                todo.push(found);
            }
        }
        seen.push(file);
    }
    seen
}

pub(crate) struct JobResult {
    pub recompiled: bool,
    /// What nvcc read, with the signatures recorded (the stamp's own list).
    pub deps: Deps,
    pub warnings: String,
    /// Entry names, read from the output once when it was compiled (kept in the stamp).
    pub entries: Vec<String>,
    /// The output is compressed and no names could be read.
    pub unreadable: bool,
}

pub(crate) struct JobCtx<'a> {
    pub nvcc: &'a Path,
    pub launcher: Option<&'a Launcher>,
    /// What the launcher did in this build (shared by the job threads): one warning at the end.
    pub tally: &'a Tally,
    pub common: &'a [String],
    pub key: u64,
    pub cwd: &'a Path,
    pub timeout: Duration,
    pub nvcc_env: &'a [(&'static str, String)],
    /// Take the depfile from gcc's passes (`SUNPRO_DEPENDENCIES`) instead of nvcc's `-MD`.
    pub host_deps: bool,
    /// The include directories (absolute), where local headers are looked for.
    pub includes: &'a [PathBuf],
    /// Where durations are kept beyond `OUT_DIR` (see `Plan::durations`).
    pub durations: Option<&'a Path>,
}

/// How one run ended.
enum Run {
    Done {
        printed: String,
        secs: f64,
    },
    /// The program ran but failed, or wrote nothing.
    Failed(Error),
}

impl JobCtx<'_> {
    /// The result of an up-to-date job: same key, output present, every dependency unchanged.
    pub(crate) fn fresh(&self, job: &Job, sigs: &stamp::Sigs) -> Option<JobResult> {
        let s = job.stamp.as_ref()?;
        let unchanged = s.key == self.key && job.source.output.is_file() && stamp::deps_unchanged(s, sigs);
        unchanged.then(|| JobResult {
            recompiled: false,
            deps: s.deps.clone(),
            warnings: String::new(),
            entries: s.entries.clone(),
            unreadable: s.unreadable,
        })
    }

    /// Runs nvcc for a stale job (through the launcher, and directly if that fails).
    pub(crate) fn compile(&self, job: &Job) -> Result<JobResult, Error> {
        let src = &job.source;
        let before = self.signatures_before(job);
        let started = SystemTime::now();

        let tmp_out = fsx::temp_sibling(&src.output);
        let tmp_dep = fsx::temp_sibling(&src.output);
        // Through the launcher unless it was given up in this build; when it fails (or
        // lies), nvcc runs once directly and its result is the job's.
        let through = self.launcher.filter(|_| self.tally.should_launch());
        if self.launcher.is_some() && through.is_none() {
            self.tally.bypassed();
        }
        let direct = || {
            let (cmd, result, secs) = self.exec(Cmd::new(self.nvcc), &tmp_out, &tmp_dep, src, self.host_deps);
            self.settle(&cmd, self.nvcc, result, secs, &tmp_out, &tmp_dep, src)
        };
        let outcome = match through {
            None => direct(),
            Some(l) => {
                let (cmd, result, secs) = self.exec(l.command(self.nvcc), &tmp_out, &tmp_dep, src, false);
                match launcher::judge(l, &src.path, &result, tmp_out.is_file()) {
                    None => {
                        self.tally.launched_ok();
                        self.settle(&cmd, l.program(), result, secs, &tmp_out, &tmp_dep, src)
                    }
                    Some(failure) => {
                        self.tally.launch_failed(failure);
                        // Never trust what a failed launcher half-wrote.
                        remove_temps(&tmp_out, &tmp_dep);
                        direct()
                    }
                }
            }
        };
        let (printed, secs) = match outcome {
            Run::Done { printed, secs } => (printed, secs),
            Run::Failed(e) => return Err(e),
        };

        let deps: Vec<PathBuf> = fs::read_to_string(&tmp_dep)
            .map(|t| depfile::parse(&t))
            .unwrap_or_default()
            .into_iter()
            .map(|d| fsx::normal(&self.cwd.join(d)))
            .filter(|d| !is_nvcc_temp(d))
            .collect();
        let _ = fs::remove_file(&tmp_dep);
        let bytes = fs::read(&tmp_out).map_err(|e| Error::Io {
            action: "read",
            path: tmp_out.clone(),
            error: e.to_string(),
        })?;
        fsx::rename(&tmp_out, &src.output)?;
        let found = entries::read(&bytes);
        let unreadable = found.unreadable; // set only when no plain image gave the names
        let mut all = deps;
        if !all.contains(&src.path) {
            all.push(src.path.clone());
        }
        let before: fsx::PathMap<OsString, Option<String>> =
            before.into_iter().map(|(p, s)| (fsx::normal(&p).into_os_string(), s)).collect();
        let recorded: Vec<(PathBuf, String)> = all
            .into_iter()
            .map(|d| {
                let sig = stamp::settled_sig(&d, before.get(d.as_os_str()), started);
                (d, sig)
            })
            .collect();
        let recorded = Deps::new(&recorded);
        let s = Stamp { key: self.key, secs, deps: recorded.clone(), entries: found.names, unreadable };
        stamp::write(&stamp::path_for(&src.output), &s)?;
        if let Some(dir) = self.durations {
            // Best effort: a missing duration only costs the cold order its accuracy.
            let _ = fsx::write_atomic(&duration_file(dir, &src.path, self.key), format!("{secs}\n").as_bytes());
        }
        Ok(JobResult { recompiled: true, deps: recorded, warnings: printed, entries: s.entries, unreadable })
    }

    /// Signatures as the job starts: the source, its local headers and what the last build
    /// read. A file changed from here on is recorded as changed, so the next build recompiles
    /// (for a file found only in the depfile, its mtime tells).
    fn signatures_before(&self, job: &Job) -> Vec<(PathBuf, Option<String>)> {
        let mut known = job.local.clone().unwrap_or_else(|| local_files(&job.source.path, self.includes));
        if let Some(s) = &job.stamp {
            let mut seen: fsx::PathSet<&OsStr> = known.iter().map(|p| p.as_os_str()).collect();
            let new: Vec<PathBuf> =
                s.deps.paths().filter(|p| seen.insert(p.as_os_str())).map(Path::to_path_buf).collect();
            known.extend(new);
        }
        known
            .into_iter()
            .map(|p| {
                let sig = stamp::file_sig(&p);
                (p, sig)
            })
            .collect()
    }

    /// Runs `cmd` (nvcc, or a launcher in front of it) writing `tmp_out`, and the depfile
    /// `tmp_dep`: from gcc's passes when `host_deps` (and the path has no space, which gcc
    /// would read as the start of a target name), else from nvcc's `-MD -MF`.
    fn exec(
        &self,
        mut cmd: Cmd,
        tmp_out: &Path,
        tmp_dep: &Path,
        src: &Source,
        host_deps: bool,
    ) -> (Cmd, Result<Output, ToolError>, f64) {
        for a in self.common {
            cmd.arg(a);
        }
        let _ = fs::remove_file(tmp_dep);
        if host_deps && !tmp_dep.as_os_str().to_string_lossy().contains(' ') {
            cmd.envs.push(("SUNPRO_DEPENDENCIES".into(), tmp_dep.into()));
            // gcc reads DEPENDENCIES_OUTPUT first: one left in the environment would take the list.
            cmd.removed_envs.push("DEPENDENCIES_OUTPUT".into());
        } else {
            cmd.arg("-MD").arg("-MF").arg(tmp_dep);
        }
        // The source relative to the crate: `__FILE__` and nvcc's internal names then do not
        // depend on where the crate is checked out (reproducible outputs).
        cmd.arg("-o").arg(tmp_out).arg(super::plan::relative(&src.path, self.cwd));
        cmd.cwd = Some(self.cwd.to_path_buf());
        let start = Instant::now();
        let result = cmd.output(self.timeout);
        (cmd, result, start.elapsed().as_secs_f64())
    }

    /// What a run means for the job: done, or the error to report (the temps removed).
    #[allow(clippy::too_many_arguments)]
    fn settle(
        &self,
        cmd: &Cmd,
        program: &Path,
        result: Result<Output, ToolError>,
        secs: f64,
        tmp_out: &Path,
        tmp_dep: &Path,
        src: &Source,
    ) -> Run {
        let cleanup = || remove_temps(tmp_out, tmp_dep);
        // What nvcc adds from the environment is part of the command the user must see.
        let shown = || {
            let vars: Vec<String> = self.nvcc_env.iter().map(|(k, v)| format!("{k}={v:?} ")).collect();
            format!("{}{}", vars.concat(), cmd.display())
        };
        let out = match result {
            Ok(o) => o,
            Err(e) => {
                cleanup();
                return Run::Failed(Error::Tool(e));
            }
        };
        let printed = format!("{}{}", out.stdout, out.stderr);
        if !out.status.success() {
            cleanup();
            return Run::Failed(Error::Nvcc {
                kernel: src.path.clone(),
                command: shown(),
                status: out.status.to_string(),
                output: printed,
            });
        }
        if !tmp_out.is_file() {
            cleanup();
            return Run::Failed(Error::NoOutput {
                kernel: src.path.clone(),
                program: program.to_path_buf(),
                command: shown(),
            });
        }
        Run::Done { printed, secs }
    }
}

fn remove_temps(tmp_out: &Path, tmp_dep: &Path) {
    let _ = fs::remove_file(tmp_out);
    let _ = fs::remove_file(tmp_dep);
}

/// nvcc's own intermediate files (`/tmp/tmpxft_..._k.cudafe1.stub.c`), gone after the run:
/// they appear in the host compiler's depfile of an object build, and are no dependency.
fn is_nvcc_temp(dep: &Path) -> bool {
    dep.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("tmpxft_")) && !dep.exists()
}

/// Archives the objects into `lib` (atomically) with `ar`, the archiver the plan chose.
pub(crate) fn archive(ar: &Path, lib: &Path, objects: &[&Path], timeout: Duration) -> Result<(), Error> {
    let tmp = fsx::temp_sibling(lib);
    let _ = fs::remove_file(&tmp);
    let mut cmd = Cmd::new(ar);
    cmd.arg("crs").arg(&tmp);
    for o in objects {
        cmd.arg(o);
    }
    cmd.success(timeout).map_err(Error::Tool)?;
    Ok(fsx::rename(&tmp, lib)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_headers_are_found_once() {
        let dir = tempfile::tempdir().unwrap();
        let inc = dir.path().join("inc");
        fs::create_dir_all(&inc).unwrap();
        fs::write(dir.path().join("k.cu"), "#include \"a.cuh\"\n#  include \"big.cuh\"\n#include <vector>\n").unwrap();
        fs::write(dir.path().join("a.cuh"), "#include \"big.cuh\"\n").unwrap();
        fs::write(inc.join("big.cuh"), "x".repeat(10_000)).unwrap();
        let k = dir.path().join("k.cu");
        let sorted = |mut v: Vec<PathBuf>| {
            v.sort();
            v
        };
        let mut all = vec![k.clone(), dir.path().join("a.cuh"), inc.join("big.cuh")];
        all.sort();
        assert_eq!(sorted(local_files(&k, std::slice::from_ref(&inc))), all);
        assert_eq!(
            sorted(local_files(&k, &[])),
            sorted(vec![k.clone(), dir.path().join("a.cuh")]),
            "big.cuh is not found"
        );
    }
}
