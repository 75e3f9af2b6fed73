//! nvcc's launcher (a compiler cache: sccache, ccache): which one the user asked for, its
//! version for messages, and the fallback policy that keeps a cache from ever turning a
//! passing build into a failing one.
//!
//! Which launcher, first match wins:
//! 1. `CUDA_BUILD_LAUNCHER`, a command line split as a shell would (`ccache --max-size=1G`,
//!    `'/opt/my tools/sccache'`); a value that names an existing file is that file, unsplit.
//!    `none`, `off`, `0`, `false`, `no` (any case) or the empty string: no launcher at all,
//!    whatever the other two say (an empty value is an off switch here, as an empty
//!    `RUSTC_WRAPPER` is for cargo; everywhere else empty means unset).
//! 2. `CMAKE_CUDA_COMPILER_LAUNCHER`, a `CMake` list: `ccache;--max-size=1G` (`\;` is a literal
//!    `;`, empty elements are dropped); empty means unset.
//! 3. `RUSTC_WRAPPER` when its file stem is `sccache` (sccache caches nvcc too; other
//!    wrappers such as clippy-driver only understand rustc).
//!
//! A bare program name is resolved on the `PATH` the probe sees, so messages show the
//! path that runs; one not found is kept as given (it then fails to start, and the
//! fallback below runs nvcc directly).
//!
//! # How the nvcc job runner uses it
//!
//! `compile/job.rs` runs each stale job through the launcher unless [`Tally::should_launch`]
//! says it was given up; [`judge`] decides whether the launched run failed (a non-zero exit,
//! a crash, or exit 0 without the output); then the half-written temps are removed and nvcc
//! runs once directly, its result being the job's. After all jobs, `compile()` adds
//! [`Tally::summary`], the build's one warning.
//!
//! It reads (cargo 1.95, `RUSTC_WRAPPER=<sccache 0.16.0>`, CUDA 13.5, vector-add):
//! `warning: vector-add@0.0.0: nvcc's launcher sccache 0.16.0 (<path>/sccache, from
//! RUSTC_WRAPPER) failed on 2 of 2 kernels; nvcc compiled them directly. First error
//! (<path>/vector_add.cu): sccache: Compiler killed by signal 1. The outputs are nvcc's own;
//! set CUDA_BUILD_LAUNCHER=none to run nvcc without a launcher`
//!
//! The rebuild key and the stamps do not involve the launcher: a cache returns what nvcc
//! would have written, and a fallback writes nvcc's own output.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use crate::env::Env;
use crate::error::{Error, ToolError, ToolProblem};
use crate::run::{Cmd, Output};

/// Values of `CUDA_BUILD_LAUNCHER` that mean "no launcher" (compared ignoring ASCII case).
pub(crate) const OFF: &[&str] = &["none", "off", "0", "false", "no"];

/// Launched runs that failed, with no success in between, before the launcher is given
/// up for the rest of the build: a cache that cannot handle this toolkit (sccache 0.16
/// with nvcc 13.3+) would otherwise cost every kernel one wasted launched run.
const GIVE_UP_AFTER: usize = 2;

/// Longest error line or version kept for a message.
const MAX_LINE: usize = 200;

/// How long `<launcher> --version` may take.
const VERSION_TIMEOUT: Duration = Duration::from_secs(20);

/// What nvcc runs through.
#[derive(Debug)]
pub(crate) struct Launcher {
    program: PathBuf,
    args: Vec<OsString>,
    variable: &'static str,
    version: OnceLock<Option<String>>,
}

impl Launcher {
    /// The launcher the environment asks for (see the module docs), or `None`.
    ///
    /// # Errors
    /// [`Error::Launcher`] for a `CUDA_BUILD_LAUNCHER` that does not split as a command line
    /// (an unclosed quote, not UTF-8) or a `CMAKE_CUDA_COMPILER_LAUNCHER` that names no program.
    pub(crate) fn from_env(env: &Env) -> Result<Option<Launcher>, Error> {
        let words = if let Some(value) = env.get_even_empty("CUDA_BUILD_LAUNCHER") {
            let Some(words) = command_line(&value).map_err(|reason| refuse("CUDA_BUILD_LAUNCHER", &value, reason))?
            else {
                return Ok(None);
            };
            Some(("CUDA_BUILD_LAUNCHER", words))
        } else if let Some(value) = env.get("CMAKE_CUDA_COMPILER_LAUNCHER") {
            let words = cmake_list(&value).map_err(|reason| refuse("CMAKE_CUDA_COMPILER_LAUNCHER", &value, reason))?;
            Some(("CMAKE_CUDA_COMPILER_LAUNCHER", words))
        } else {
            env.get("RUSTC_WRAPPER")
                .filter(|w| Path::new(w).file_stem().is_some_and(|s| s == "sccache"))
                .map(|w| ("RUSTC_WRAPPER", vec![w]))
        };
        let Some((variable, mut words)) = words else { return Ok(None) };
        let program = PathBuf::from(words.remove(0));
        let program = env.which(&program).unwrap_or(program);
        Ok(Some(Launcher { program, args: words, variable, version: OnceLock::new() }))
    }

    /// The program (resolved on `PATH` when found there).
    pub(crate) fn program(&self) -> &Path {
        &self.program
    }

    /// Its own arguments, placed before nvcc.
    #[cfg(test)]
    pub(crate) fn args(&self) -> &[OsString] {
        &self.args
    }

    /// The variable it came from.
    #[cfg(test)]
    pub(crate) fn variable(&self) -> &'static str {
        self.variable
    }

    /// The launched command so far: the program, its arguments, then `nvcc`; the caller
    /// appends nvcc's arguments.
    pub(crate) fn command(&self, nvcc: &Path) -> Cmd {
        let mut cmd = Cmd::new(&self.program);
        for a in &self.args {
            cmd.arg(a);
        }
        cmd.arg(nvcc);
        cmd
    }

    /// The first line of `<program> --version` (`sccache 0.16.0`, `ccache version 4.8.3`):
    /// asked at most once per build and cached in `OUT_DIR` like nvcc's answers; `None`
    /// when it does not answer.
    pub(crate) fn version(&self, env: &Env) -> Option<&str> {
        self.version
            .get_or_init(|| {
                crate::cache::get_or(env, "launcher --version", &self.program, || {
                    let out = Cmd::new(&self.program).arg("--version").success(VERSION_TIMEOUT).map_err(|_| ())?;
                    let text = if out.stdout.trim().is_empty() { &out.stderr } else { &out.stdout };
                    text.lines().map(str::trim).find(|l| !l.is_empty()).map(clean).ok_or(())
                })
                .ok()
            })
            .as_deref()
    }

    /// The launcher for a message: `sccache 0.16.0 (/usr/bin/sccache, from RUSTC_WRAPPER)`.
    pub(crate) fn describe(&self, version: Option<&str>) -> String {
        let name = self.name();
        let what = match version {
            Some(v) if v.starts_with(&name) => v.to_owned(),
            Some(v) => format!("{name} ({v})"),
            None => format!("{name} (version unknown)"),
        };
        let mut shown = self.program.display().to_string();
        for a in &self.args {
            shown.push(' ');
            shown.push_str(&a.to_string_lossy());
        }
        format!("{what} ({}, from {})", clean(&shown), self.variable)
    }

    fn name(&self) -> String {
        self.program.file_name().map_or_else(|| self.program.display().to_string(), |n| n.to_string_lossy().into())
    }
}

fn refuse(variable: &str, value: &OsStr, reason: &str) -> Error {
    let value = crate::text::cut(&value.to_string_lossy(), 120);
    Error::Launcher { variable: variable.to_owned(), value, reason: reason.to_owned() }
}

/// `CUDA_BUILD_LAUNCHER` as words: `Ok(None)` for an off switch.
fn command_line(value: &OsStr) -> Result<Option<Vec<OsString>>, &'static str> {
    if Path::new(value).is_file() {
        return Ok(Some(vec![value.to_owned()]));
    }
    let Some(text) = value.to_str() else {
        return Err("the value is not valid UTF-8 and names no existing file");
    };
    let trimmed = text.trim();
    if trimmed.is_empty() || OFF.iter().any(|off| trimmed.eq_ignore_ascii_case(off)) {
        return Ok(None);
    }
    let words = shlex::split(trimmed).ok_or("it does not split as a command line (an unclosed quote?)")?;
    if words.first().is_none_or(String::is_empty) {
        return Err("it names no program");
    }
    Ok(Some(words.into_iter().map(OsString::from).collect()))
}

/// `CMAKE_CUDA_COMPILER_LAUNCHER` as words: a `CMake` list.
fn cmake_list(value: &OsStr) -> Result<Vec<OsString>, &'static str> {
    if Path::new(value).is_file() {
        return Ok(vec![value.to_owned()]);
    }
    let Some(text) = value.to_str() else {
        return Err("the value is not valid UTF-8 and names no existing file");
    };
    let mut words = Vec::new();
    let mut word = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&';') => {
                word.push(';');
                chars.next();
            }
            ';' => words.push(std::mem::take(&mut word)),
            c => word.push(c),
        }
    }
    words.push(word);
    words.retain(|w| !w.is_empty());
    if words.is_empty() {
        return Err("the list names no program");
    }
    Ok(words.into_iter().map(OsString::from).collect())
}

/// A launched run that did not produce the output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Failure {
    /// The kernel's source.
    pub kernel: PathBuf,
    /// The launcher's first error line (one line, control characters removed, capped).
    pub first_error: String,
    /// The launcher could not even start: give it up at once.
    pub could_not_start: bool,
}

/// Whether a launched run failed: `None` when it exited 0 and wrote the output, else what
/// went wrong, for the summary. `wrote_output`: the temp output exists after the run.
pub(crate) fn judge(
    launcher: &Launcher,
    kernel: &Path,
    result: &Result<Output, ToolError>,
    wrote_output: bool,
) -> Option<Failure> {
    let failure = |first_error: String, could_not_start| {
        Some(Failure { kernel: kernel.to_path_buf(), first_error: cap(&first_error), could_not_start })
    };
    match result {
        Ok(out) if out.status.success() && wrote_output => None,
        Ok(out) if out.status.success() => failure(format!("exited 0 but wrote no output ({})", out.status), false),
        Ok(out) => {
            let line = first_error_line(&launcher.name(), &out.stderr, &out.stdout);
            failure(line.unwrap_or_else(|| format!("failed ({}) and printed nothing", out.status)), false)
        }
        Err(e) => match &e.problem {
            ToolProblem::Spawn(why) => failure(format!("could not be started: {why}"), true),
            ToolProblem::Timeout(t) => failure(format!("did not finish within {} s", t.as_secs()), false),
            ToolProblem::Failed { status, stderr } => {
                let line = first_error_line(&launcher.name(), stderr, "");
                failure(line.unwrap_or_else(|| format!("failed ({status})")), false)
            }
        },
    }
}

/// The line that best says why a launched run failed: the launcher's own (`sccache: ...`),
/// else the first that mentions an error, else the first; stderr before stdout.
pub(crate) fn first_error_line(name: &str, stderr: &str, stdout: &str) -> Option<String> {
    let lines: Vec<&str> = stderr
        .lines()
        .chain(stdout.lines())
        .flat_map(|l| l.split('\r'))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let own = format!("{name}:");
    let lower = |l: &&&str| l.to_ascii_lowercase();
    lines
        .iter()
        .find(|l| l.starts_with(&own))
        .or_else(|| lines.iter().find(|l| lower(l).contains("error") || lower(l).contains("fatal")))
        .or_else(|| lines.first())
        .map(|l| cap(l))
}

/// One line, no control characters (a relayed line must never start a cargo directive).
fn clean(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().trim().to_owned()
}

fn cap(text: &str) -> String {
    crate::text::cut(&clean(text), MAX_LINE)
}

/// What the launcher did in one build, shared by the job threads.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    counts: Mutex<Counts>,
}

/// The plain numbers behind [`Tally`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    /// Launched runs that produced their output.
    pub ok: usize,
    /// Launched runs that failed (nvcc then ran directly), in the order they failed.
    pub failed: Vec<Failure>,
    /// Kernels that ran nvcc directly because the launcher had been given up.
    pub bypassed: usize,
    /// Whether the launcher was given up for the rest of the build.
    pub given_up: bool,
}

impl Tally {
    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether the next job should go through the launcher (false once given up).
    pub(crate) fn should_launch(&self) -> bool {
        !self.lock().given_up
    }

    /// A launched run produced its output.
    pub(crate) fn launched_ok(&self) {
        self.lock().ok += 1;
    }

    /// A launched run failed; nvcc runs directly next. Gives the launcher up when it could
    /// not start, or after [`GIVE_UP_AFTER`] failures without any success.
    pub(crate) fn launch_failed(&self, failure: Failure) {
        let mut c = self.lock();
        c.given_up |= failure.could_not_start;
        c.failed.push(failure);
        c.given_up |= c.ok == 0 && c.failed.len() >= GIVE_UP_AFTER;
    }

    /// A job ran nvcc directly because the launcher was given up.
    pub(crate) fn bypassed(&self) {
        self.lock().bypassed += 1;
    }

    /// The numbers so far.
    pub(crate) fn counts(&self) -> Counts {
        self.lock().clone()
    }

    /// The build's one warning about the launcher, `None` when it never failed. Asks the
    /// launcher's version (once, cached) only when there is something to say.
    pub(crate) fn summary(&self, launcher: &Launcher, env: &Env) -> Option<String> {
        let counts = self.counts();
        if counts.failed.is_empty() {
            return None;
        }
        Some(summary(&launcher.describe(launcher.version(env)), &counts))
    }
}

/// The one warning for a build in which the launcher failed (`counts.failed` not empty):
/// names the launcher (`describe`: name, version, path, variable), how many kernels fell
/// back, the first error line, and the off switch.
pub(crate) fn summary(describe: &str, counts: &Counts) -> String {
    let failed = counts.failed.len();
    let total = counts.ok + failed + counts.bypassed;
    let kernels = |n: usize| if n == 1 { "kernel" } else { "kernels" };
    let mut text = format!(
        "nvcc's launcher {describe} failed on {failed} of {total} {}; nvcc compiled {} directly",
        kernels(total),
        if failed == 1 { "it" } else { "them" }
    );
    if counts.bypassed > 0 {
        text.push_str(&format!(" and the other {} without it (given up for this build)", counts.bypassed));
    }
    if let Some(first) = counts.failed.first() {
        text.push_str(&format!(
            ". First error ({}): {}",
            clean(&first.kernel.display().to_string()),
            first.first_error
        ));
    }
    text.push_str(". The outputs are nvcc's own; set CUDA_BUILD_LAUNCHER=none to run nvcc without a launcher");
    text
}

#[cfg(test)]
mod tests;
