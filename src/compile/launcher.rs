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
    let value = value.to_string_lossy();
    let mut shown: String = value.chars().take(120).collect();
    if shown.len() < value.len() {
        shown.push('…');
    }
    Error::Launcher { variable: variable.to_owned(), value: shown, reason: reason.to_owned() }
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
    let text = clean(text);
    if text.chars().count() <= MAX_LINE {
        return text;
    }
    let mut short: String = text.chars().take(MAX_LINE).collect();
    short.push('…');
    short
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
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;
    use std::process::ExitStatus;

    fn from(vars: &[(&str, &str)]) -> Result<Option<Launcher>, Error> {
        // An empty PATH: names stay as given, nothing on this machine is found.
        let mut all: Vec<(&str, &str)> = vec![("PATH", "/nonexistent-cuda-build-test")];
        all.extend_from_slice(vars);
        Launcher::from_env(&Env::from_vars(all.iter().copied()))
    }

    fn words(vars: &[(&str, &str)]) -> Option<(String, Vec<String>, &'static str)> {
        from(vars).unwrap().map(|l| {
            let args = l.args().iter().map(|a| a.to_string_lossy().into_owned()).collect();
            (l.program().display().to_string(), args, l.variable())
        })
    }

    fn program(vars: &[(&str, &str)]) -> Option<String> {
        words(vars).map(|(p, _, _)| p)
    }

    #[test]
    fn precedence_and_only_sccache_from_rustc_wrapper() {
        assert_eq!(program(&[("RUSTC_WRAPPER", "/usr/bin/sccache")]).as_deref(), Some("/usr/bin/sccache"));
        assert_eq!(program(&[("RUSTC_WRAPPER", "sccache")]).as_deref(), Some("sccache"));
        assert_eq!(program(&[("RUSTC_WRAPPER", "/opt/sccache.exe")]).as_deref(), Some("/opt/sccache.exe"));
        assert_eq!(program(&[("RUSTC_WRAPPER", "/usr/bin/clippy-driver")]), None, "only sccache caches nvcc too");
        assert_eq!(program(&[("RUSTC_WRAPPER", "/usr/bin/sccache-wrapper")]), None);
        assert_eq!(program(&[("RUSTC_WRAPPER", "")]), None);
        assert_eq!(
            words(&[("CMAKE_CUDA_COMPILER_LAUNCHER", "ccache"), ("RUSTC_WRAPPER", "sccache")]),
            Some(("ccache".into(), vec![], "CMAKE_CUDA_COMPILER_LAUNCHER"))
        );
        assert_eq!(
            words(&[("CUDA_BUILD_LAUNCHER", "a"), ("CMAKE_CUDA_COMPILER_LAUNCHER", "b"), ("RUSTC_WRAPPER", "sccache")]),
            Some(("a".into(), vec![], "CUDA_BUILD_LAUNCHER"))
        );
        assert_eq!(program(&[]), None);
    }

    #[test]
    fn the_off_switch_beats_rustc_wrapper_and_cmake() {
        for off in ["none", "NONE", "None", "off", "Off", "0", "false", "FALSE", "no", "", "  ", " none "] {
            let vars = [
                ("CUDA_BUILD_LAUNCHER", off),
                ("CMAKE_CUDA_COMPILER_LAUNCHER", "ccache"),
                ("RUSTC_WRAPPER", "/usr/bin/sccache"),
            ];
            assert_eq!(program(&vars), None, "CUDA_BUILD_LAUNCHER={off:?}");
        }
        // Off words are ours: in CMake's variable `none` is a program name.
        assert_eq!(program(&[("CMAKE_CUDA_COMPILER_LAUNCHER", "none")]).as_deref(), Some("none"));
        // An empty CMake variable is unset, so RUSTC_WRAPPER still counts.
        assert_eq!(
            program(&[("CMAKE_CUDA_COMPILER_LAUNCHER", ""), ("RUSTC_WRAPPER", "sccache")]).as_deref(),
            Some("sccache")
        );
        // The variables read are recorded for rerun-if-env-changed, the empty one too.
        let env = Env::from_vars([("CUDA_BUILD_LAUNCHER", "")]);
        assert!(Launcher::from_env(&env).unwrap().is_none());
        assert!(env.recorded().contains(&"CUDA_BUILD_LAUNCHER".to_owned()));
    }

    #[test]
    fn a_launcher_with_arguments_is_a_command_line() {
        assert_eq!(
            words(&[("CUDA_BUILD_LAUNCHER", "ccache --max-size=1G")]),
            Some(("ccache".into(), vec!["--max-size=1G".into()], "CUDA_BUILD_LAUNCHER"))
        );
        assert_eq!(
            words(&[("CUDA_BUILD_LAUNCHER", r#"'/opt/my tools/ccache' "a b" c\ d"#)]),
            Some(("/opt/my tools/ccache".into(), vec!["a b".into(), "c d".into()], "CUDA_BUILD_LAUNCHER"))
        );
        let e = from(&[("CUDA_BUILD_LAUNCHER", "ccache 'unclosed")]).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("CUDA_BUILD_LAUNCHER=\"ccache 'unclosed\""), "{text}");
        assert!(text.contains("unclosed quote"), "{text}");
        assert!(text.contains("CUDA_BUILD_LAUNCHER=none"), "{text}");
    }

    #[test]
    fn an_existing_path_with_spaces_is_not_split() {
        let dir = tempfile::Builder::new().prefix("my tools ").tempdir().unwrap();
        let tool = dir.path().join("sc cache");
        std::fs::write(&tool, "#!/bin/sh\n").unwrap();
        let value = tool.to_str().unwrap();
        assert_eq!(words(&[("CUDA_BUILD_LAUNCHER", value)]), Some((value.into(), vec![], "CUDA_BUILD_LAUNCHER")));
        assert_eq!(program(&[("CMAKE_CUDA_COMPILER_LAUNCHER", value)]).as_deref(), Some(value));
    }

    #[test]
    fn cmake_launcher_is_a_cmake_list() {
        assert_eq!(
            words(&[("CMAKE_CUDA_COMPILER_LAUNCHER", "ccache;--max-size=1G")]),
            Some(("ccache".into(), vec!["--max-size=1G".into()], "CMAKE_CUDA_COMPILER_LAUNCHER"))
        );
        // Empty elements dropped, `\;` is a literal semicolon, spaces are kept inside an element.
        assert_eq!(
            words(&[("CMAKE_CUDA_COMPILER_LAUNCHER", ";/opt/my tools/ccache;;a\\;b;")]),
            Some(("/opt/my tools/ccache".into(), vec!["a;b".into()], "CMAKE_CUDA_COMPILER_LAUNCHER"))
        );
        let e = from(&[("CMAKE_CUDA_COMPILER_LAUNCHER", ";;")]).unwrap_err().to_string();
        assert!(e.contains("names no program") && e.contains("\"ccache;--max-size=1G\""), "{e}");
    }

    #[test]
    fn a_bare_name_is_resolved_on_the_probes_path() {
        let dir = tempfile::tempdir().unwrap();
        let tool = dir.path().join("ccache");
        std::fs::write(&tool, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&tool, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let env = Env::from_vars([("PATH", dir.path().as_os_str()), ("CUDA_BUILD_LAUNCHER", OsStr::new("ccache -v"))]);
        let l = Launcher::from_env(&env).unwrap().unwrap();
        assert_eq!(l.program(), tool);
        let cmd = l.command(Path::new("/cuda/bin/nvcc"));
        assert_eq!(cmd.program, tool);
        assert_eq!(cmd.args, [OsString::from("-v"), OsString::from("/cuda/bin/nvcc")]);
    }

    #[test]
    fn version_is_asked_once_and_cached_in_out_dir() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("runs");
        let tool = dir.path().join("sccache");
        std::fs::write(
            &tool,
            format!("#!/bin/sh\necho \"$@\" >> '{}'\necho 'sccache 0.16.0'\necho more\n", log.display()),
        )
        .unwrap();
        std::fs::set_permissions(&tool, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let out = dir.path().join("out");
        let env = Env::from_vars([("RUSTC_WRAPPER", tool.as_os_str()), ("OUT_DIR", out.as_os_str())]);
        let runs = || std::fs::read_to_string(&log).unwrap_or_default().lines().count();
        let l = Launcher::from_env(&env).unwrap().unwrap();
        assert_eq!(l.version(&env), Some("sccache 0.16.0"));
        assert_eq!(l.version(&env), Some("sccache 0.16.0"));
        assert_eq!(runs(), 1);
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "--version\n");
        // A later build script run: answered from OUT_DIR, nothing spawned.
        let again = Launcher::from_env(&env).unwrap().unwrap();
        assert_eq!(again.version(&env), Some("sccache 0.16.0"));
        assert_eq!(runs(), 1);
        assert_eq!(
            again.describe(again.version(&env)),
            format!("sccache 0.16.0 ({}, from RUSTC_WRAPPER)", tool.display())
        );
    }

    #[test]
    fn a_launcher_that_does_not_answer_has_no_version() {
        let env = Env::from_vars([("CUDA_BUILD_LAUNCHER", "/nonexistent/ccache --max-size=1G")]);
        let l = Launcher::from_env(&env).unwrap().unwrap();
        assert_eq!(l.version(&env), None);
        assert_eq!(
            l.describe(None),
            "ccache (version unknown) (/nonexistent/ccache --max-size=1G, from CUDA_BUILD_LAUNCHER)"
        );
        assert_eq!(
            l.describe(Some("4.7")),
            "ccache (4.7) (/nonexistent/ccache --max-size=1G, from CUDA_BUILD_LAUNCHER)"
        );
    }

    fn sccache() -> Launcher {
        from(&[("RUSTC_WRAPPER", "/opt/sccache")]).unwrap().unwrap()
    }

    fn output(code: i32, stdout: &str, stderr: &str) -> Result<Output, ToolError> {
        Ok(Output { status: ExitStatus::from_raw(code << 8), stdout: stdout.into(), stderr: stderr.into() })
    }

    #[test]
    fn judge_success_failure_and_silent_failure() {
        let l = sccache();
        let k = Path::new("kernels/a.cu");
        assert_eq!(judge(&l, k, &output(0, "", "warning: x"), true), None);
        let no_output = judge(&l, k, &output(0, "", ""), false).unwrap();
        assert!(no_output.first_error.starts_with("exited 0 but wrote no output"), "{no_output:?}");
        // What sccache 0.16 prints for nvcc 13.5 (measured): its own line is the one shown.
        let f = judge(
            &l,
            k,
            &output(
                1,
                "",
                "fatbinary fatal   : Could not open input file 'a.compute_75.cubin'\nsccache: Compiler killed by signal 1\n",
            ),
            false,
        )
        .unwrap();
        assert_eq!(f.first_error, "sccache: Compiler killed by signal 1");
        assert_eq!(f.kernel, k);
        assert!(!f.could_not_start);
        let quiet = judge(&l, k, &output(2, "", ""), false).unwrap();
        assert_eq!(quiet.first_error, "failed (exit status: 2) and printed nothing");
    }

    #[test]
    fn judge_spawn_failure_and_timeout() {
        let l = sccache();
        let k = Path::new("a.cu");
        let err = |problem| Err(ToolError { program: "/opt/sccache".into(), args: vec![], problem });
        let spawn = judge(&l, k, &err(ToolProblem::Spawn("No such file or directory (os error 2)".into())), false);
        let spawn = spawn.unwrap();
        assert!(spawn.could_not_start);
        assert_eq!(spawn.first_error, "could not be started: No such file or directory (os error 2)");
        let t = judge(&l, k, &err(ToolProblem::Timeout(Duration::from_secs(600))), false).unwrap();
        assert_eq!(t.first_error, "did not finish within 600 s");
        assert!(!t.could_not_start);
    }

    #[test]
    fn first_error_line_prefers_the_launchers_own_then_errors() {
        assert_eq!(first_error_line("sccache", "a\nb error: x\nsccache: boom\n", "").as_deref(), Some("sccache: boom"));
        assert_eq!(
            first_error_line("ccache", "note\n", "k.cu(3): error: bad\n").as_deref(),
            Some("k.cu(3): error: bad")
        );
        assert_eq!(first_error_line("ccache", "\n  \nfirst\nsecond", "").as_deref(), Some("first"));
        assert_eq!(first_error_line("ccache", "", ""), None);
        // Control characters never reach a cargo directive; long lines are capped.
        assert_eq!(first_error_line("x", "a\rcargo::rustc-cfg=evil\n", "").as_deref(), Some("a"));
        assert_eq!(first_error_line("x", "tab\there\u{1b}[0m", "").as_deref(), Some("tab here [0m"));
        let long = "e".repeat(1000);
        assert_eq!(first_error_line("x", &long, "").unwrap().chars().count(), MAX_LINE + 1);
    }

    fn failure(kernel: &str, could_not_start: bool) -> Failure {
        Failure { kernel: kernel.into(), first_error: format!("error in {kernel}"), could_not_start }
    }

    #[test]
    fn tally_gives_up_after_repeated_failures_without_success() {
        let t = Tally::default();
        assert!(t.should_launch());
        t.launch_failed(failure("a.cu", false));
        assert!(t.should_launch(), "one failure may be a flake");
        t.launch_failed(failure("b.cu", false));
        assert!(!t.should_launch(), "two failures and no success: give up");
        t.bypassed();
        t.bypassed();
        let c = t.counts();
        assert_eq!((c.ok, c.failed.len(), c.bypassed, c.given_up), (0, 2, 2, true));

        // A launcher that works sometimes (sccache's flakiness) is kept.
        let flaky = Tally::default();
        flaky.launched_ok();
        for k in ["a.cu", "b.cu", "c.cu"] {
            flaky.launch_failed(failure(k, false));
        }
        assert!(flaky.should_launch());

        // One that cannot start is given up at once.
        let missing = Tally::default();
        missing.launch_failed(failure("a.cu", true));
        assert!(!missing.should_launch());
    }

    #[test]
    fn tally_is_shared_by_threads() {
        let t = Tally::default();
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| t.launched_ok());
            }
        });
        assert_eq!(t.counts().ok, 8);
    }

    #[test]
    fn one_summary_for_the_build_counts_the_kernels() {
        let l = sccache();
        let env = Env::from_vars([("PATH", "/nonexistent")]);
        let t = Tally::default();
        t.launched_ok();
        assert_eq!(t.summary(&l, &env), None, "no failure, no warning (and no version asked)");
        t.launch_failed(failure("kernels/b.cu", false));
        t.launch_failed(failure("kernels/c.cu", false));
        let s = t.summary(&l, &env).unwrap();
        assert_eq!(
            s,
            "nvcc's launcher sccache (version unknown) (/opt/sccache, from RUSTC_WRAPPER) failed on 2 of 3 kernels; \
             nvcc compiled them directly. First error (kernels/b.cu): error in kernels/b.cu. The outputs are nvcc's \
             own; set CUDA_BUILD_LAUNCHER=none to run nvcc without a launcher"
        );
        assert!(!s.contains('\n'));
    }

    #[test]
    fn summary_after_giving_up_says_how_many_ran_without_it() {
        let counts = Counts {
            ok: 0,
            failed: vec![failure("a.cu", false), failure("b.cu", false)],
            bypassed: 14,
            given_up: true,
        };
        let s = summary("sccache 0.16.0 (/x/sccache, from RUSTC_WRAPPER)", &counts);
        assert!(
            s.starts_with(
                "nvcc's launcher sccache 0.16.0 (/x/sccache, from RUSTC_WRAPPER) failed on 2 of 16 kernels; nvcc \
                 compiled them directly and the other 14 without it (given up for this build). First error (a.cu): \
                 error in a.cu."
            ),
            "{s}"
        );
        let one = Counts { ok: 0, failed: vec![failure("k\n.cu", false)], bypassed: 0, given_up: false };
        let s = summary("ccache 4.7.5 (/usr/bin/ccache, from CUDA_BUILD_LAUNCHER)", &one);
        assert!(s.contains("failed on 1 of 1 kernel; nvcc compiled it directly. First error (k .cu)"), "{s}");
        assert!(s.ends_with("set CUDA_BUILD_LAUNCHER=none to run nvcc without a launcher"));
    }
}
