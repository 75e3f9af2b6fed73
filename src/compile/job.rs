//! One nvcc run for one kernel: temp outputs renamed into place, the depfile read, the
//! stamp written with the dependencies as they were when the job started. A launcher that
//! fails is never the build's failure: nvcc then runs once directly.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use super::launcher::Launcher;
use super::sources::Source;
use super::stamp::{self, Stamp};
use super::{depfile, entries};
use crate::error::Error;
use crate::fsx;
use crate::run::Cmd;

pub(crate) struct Job {
    pub source: Source,
    /// Previous duration (from the stamp) or source size: longest first.
    pub weight: f64,
    /// The stamp of the previous build, read once.
    pub stamp: Option<Stamp>,
}

impl Job {
    pub(crate) fn new(source: Source) -> Job {
        let stamp = stamp::read(&stamp::path_for(&source.output));
        let weight = stamp.as_ref().map(|s| s.secs).unwrap_or_else(|| {
            // No history: bytes of source, scaled far below any measured duration.
            fs::metadata(&source.path).map(|m| m.len() as f64 * 1e-9).unwrap_or(0.0)
        });
        Job { source, weight, stamp }
    }
}

pub(crate) struct JobResult {
    pub recompiled: bool,
    pub deps: Vec<PathBuf>,
    pub warnings: String,
    /// Entry names, read from the output once when it was compiled (kept in the stamp).
    pub entries: Vec<String>,
    /// The output is compressed and no names could be read.
    pub unreadable: bool,
    /// The launcher failed and nvcc ran directly: the launcher's first error line.
    pub fell_back: Option<String>,
}

pub(crate) struct JobCtx<'a> {
    pub nvcc: &'a Path,
    pub launcher: Option<&'a Launcher>,
    pub common: &'a [String],
    pub key: u64,
    pub cwd: &'a Path,
    pub timeout: Duration,
    pub nvcc_env: &'a [(&'static str, String)],
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
    pub(crate) fn fresh(&self, job: &Job) -> Option<JobResult> {
        let s = job.stamp.as_ref()?;
        let unchanged = s.key == self.key && job.source.output.is_file() && stamp::deps_unchanged(s);
        unchanged.then(|| JobResult {
            recompiled: false,
            deps: s.deps.iter().map(|(p, _)| p.clone()).collect(),
            warnings: String::new(),
            entries: s.entries.clone(),
            unreadable: s.unreadable,
            fell_back: None,
        })
    }

    /// Runs nvcc for a stale job (through the launcher, and directly if that fails).
    pub(crate) fn compile(&self, job: &Job) -> Result<JobResult, Error> {
        let src = &job.source;
        // Signatures as the job starts: the source and what the last build read. A file
        // changed from here on is recorded as changed, so the next build recompiles.
        let mut known: Vec<PathBuf> = vec![src.path.clone()];
        if let Some(s) = &job.stamp {
            known.extend(s.deps.iter().map(|(p, _)| p.clone()));
        }
        let before: Vec<(PathBuf, Option<String>)> =
            known.into_iter().map(|p| (p.clone(), stamp::file_sig(&p))).collect();
        let started = SystemTime::now();

        let tmp_out = fsx::temp_sibling(&src.output);
        let tmp_dep = fsx::temp_sibling(&src.output);
        let mut fell_back = None;
        let mut outcome = match self.launcher {
            Some(l) => self.run(l.command(self.nvcc), l.program.clone(), &tmp_out, &tmp_dep, src),
            None => self.run(Cmd::new(self.nvcc), self.nvcc.to_path_buf(), &tmp_out, &tmp_dep, src),
        };
        if let (Some(_), Run::Failed(e)) = (self.launcher, &outcome) {
            fell_back = Some(first_error_line(e));
            outcome = self.run(Cmd::new(self.nvcc), self.nvcc.to_path_buf(), &tmp_out, &tmp_dep, src);
        }
        let (printed, secs) = match outcome {
            Run::Done { printed, secs } => (printed, secs),
            Run::Failed(e) => return Err(e),
        };

        let deps: Vec<PathBuf> = fs::read_to_string(&tmp_dep)
            .map(|t| depfile::parse(&t))
            .unwrap_or_default()
            .into_iter()
            .map(|d| if d.is_absolute() { d } else { self.cwd.join(d) })
            .collect();
        let _ = fs::remove_file(&tmp_dep);
        let bytes = fs::read(&tmp_out).map_err(|e| Error::Io {
            action: "read",
            path: tmp_out.clone(),
            error: e.to_string(),
        })?;
        fsx::rename(&tmp_out, &src.output)?;
        let found = entries::read(&bytes);
        let unreadable = found.unreadable && found.names.is_empty();
        let mut all = deps.clone();
        if !all.contains(&src.path) {
            all.push(src.path.clone());
        }
        let recorded = all
            .iter()
            .map(|d| {
                let b = before.iter().find(|(p, _)| p == d).map(|(_, s)| s);
                (d.clone(), stamp::settled_sig(d, b, started))
            })
            .collect();
        let s = Stamp { key: self.key, secs, deps: recorded, entries: found.names, unreadable };
        stamp::write(&stamp::path_for(&src.output), &s)?;
        Ok(JobResult { recompiled: true, deps, warnings: printed, entries: s.entries, unreadable, fell_back })
    }

    /// One run of `cmd` (nvcc, or a launcher in front of it) writing `tmp_out`.
    fn run(&self, mut cmd: Cmd, program: PathBuf, tmp_out: &Path, tmp_dep: &Path, src: &Source) -> Run {
        for a in self.common {
            cmd.arg(a);
        }
        cmd.arg("-MD").arg("-MF").arg(tmp_dep).arg("-o").arg(tmp_out).arg(&src.path);
        cmd.cwd = Some(self.cwd.to_path_buf());
        let start = Instant::now();
        let result = cmd.output(self.timeout);
        let cleanup = || {
            let _ = fs::remove_file(tmp_out);
            let _ = fs::remove_file(tmp_dep);
        };
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
            return Run::Failed(Error::NoOutput { kernel: src.path.clone(), program, command: shown() });
        }
        Run::Done { printed, secs: start.elapsed().as_secs_f64() }
    }
}

/// The line of a failure a warning quotes: the first of the tool's output that says
/// something, with the exit status, else the error's own first line.
fn first_error_line(e: &Error) -> String {
    let line = match e {
        Error::Nvcc { output, status, .. } => match output.lines().map(str::trim).find(|l| !l.is_empty()) {
            Some(l) => format!("{l} ({status})"),
            None => status.clone(),
        },
        other => other.to_string().lines().next().unwrap_or_default().to_owned(),
    };
    crate::error::short(&line)
}

/// Archives the objects into `lib` (atomically).
pub(crate) fn archive(lib: &Path, objects: &[&Path], timeout: Duration) -> Result<(), Error> {
    let ar = cc::Build::new()
        .cargo_metadata(false)
        .try_get_archiver()
        .map(|c| c.get_program().to_owned())
        .unwrap_or_else(|_| "ar".into());
    let tmp = fsx::temp_sibling(lib);
    let _ = fs::remove_file(&tmp);
    let mut cmd = Cmd::new(ar);
    cmd.arg("crs").arg(&tmp);
    for o in objects {
        cmd.arg(o);
    }
    cmd.success(timeout).map_err(Error::Tool)?;
    fsx::rename(&tmp, lib)
}
