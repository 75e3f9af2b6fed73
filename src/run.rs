//! Running external tools: no shell, a timeout, bounded output, and errors that name the tool.

use std::ffi::OsString;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use wait_timeout::ChildExt;

/// An external tool (nvcc, ...) that could not be run, failed, or hung.
///
/// ```no_run
/// let cuda = cuda_build::Probe::new().find_or_exit();
/// if let Err(cuda_build::Error::Tool(t)) = cuda.kernels().dir("kernels").static_lib("k").compile() {
///     println!("{} failed: {:?}", t.program.display(), t.problem);
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolError {
    /// The program, as run.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// What went wrong.
    pub problem: ToolProblem,
}

/// What went wrong with a tool.
///
/// ```no_run
/// let cuda = cuda_build::Probe::new().find_or_exit();
/// if let Err(cuda_build::Error::Tool(t)) = cuda.kernels().dir("kernels").static_lib("k").compile() {
///     if let cuda_build::ToolProblem::Timeout(after) = t.problem {
///         println!("{} hung for {after:?}", t.program.display());
///     }
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ToolProblem {
    /// It could not be started (missing, not executable, ...).
    Spawn(String),
    /// It ran past the timeout and was killed.
    Timeout(Duration),
    /// It exited unsuccessfully.
    Failed {
        /// The exit status, in words.
        status: String,
        /// What it printed on stderr.
        stderr: String,
    },
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cmd = std::iter::once(self.program.display().to_string())
            .chain(self.args.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ");
        match &self.problem {
            ToolProblem::Spawn(e) => write!(f, "`{cmd}` could not be run: {e}"),
            ToolProblem::Timeout(t) => write!(f, "`{cmd}` did not finish within {} s and was killed", t.as_secs()),
            ToolProblem::Failed { status, stderr } if stderr.is_empty() => write!(f, "`{cmd}` failed ({status})"),
            ToolProblem::Failed { status, stderr } => write!(f, "`{cmd}` failed ({status}): {stderr}"),
        }
    }
}

impl std::error::Error for ToolError {}

/// Output beyond this is dropped (a tool that floods its output must not exhaust memory).
const MAX_OUTPUT: u64 = 4 << 20;

/// What a tool printed, decoded lossily (a non-UTF-8 byte never fails a probe).
#[derive(Debug)]
pub(crate) struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// A command to run: program, arguments, optional working directory.
pub(crate) struct Cmd {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub cwd: Option<PathBuf>,
    /// Variables set for the child on top of the inherited environment.
    pub envs: Vec<(String, OsString)>,
    /// Variables removed from the child's environment.
    pub removed_envs: Vec<String>,
}

impl Cmd {
    pub(crate) fn new(program: impl Into<PathBuf>) -> Self {
        Cmd { program: program.into(), args: Vec::new(), cwd: None, envs: Vec::new(), removed_envs: Vec::new() }
    }

    pub(crate) fn arg(&mut self, a: impl Into<OsString>) -> &mut Self {
        self.args.push(a.into());
        self
    }

    /// The command line as a person would type it (for messages only; nothing runs a shell).
    pub(crate) fn display(&self) -> String {
        std::iter::once(self.program.as_os_str())
            .chain(self.args.iter().map(OsString::as_os_str))
            .map(|a| {
                let s = a.to_string_lossy();
                if s.is_empty() || s.contains([' ', '"', '\'', '[', ']']) {
                    format!("'{s}'")
                } else {
                    s.into_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn error(&self, problem: ToolProblem) -> ToolError {
        ToolError {
            program: self.program.clone(),
            args: self.args.iter().map(|a| a.to_string_lossy().into_owned()).collect(),
            problem,
        }
    }

    /// Runs to completion within `timeout`, whatever the exit status.
    pub(crate) fn output(&self, timeout: Duration) -> Result<Output, ToolError> {
        let mut command = Command::new(&self.program);
        command.args(&self.args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        command.envs(self.envs.iter().map(|(k, v)| (k, v)));
        for k in &self.removed_envs {
            command.env_remove(k);
        }
        if let Some(cwd) = &self.cwd {
            command.current_dir(cwd);
        }
        let mut child = command.spawn().map_err(|e| self.error(ToolProblem::Spawn(e.to_string())))?;
        // Read both pipes on threads so a tool that fills one never blocks on it.
        let pipes: [Option<Box<dyn Read + Send>>; 2] = [
            child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>),
            child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>),
        ];
        let readers: Vec<_> = pipes
            .into_iter()
            .map(|pipe| {
                std::thread::spawn(move || {
                    let mut buf = Vec::new();
                    if let Some(mut pipe) = pipe {
                        let _ = (&mut pipe).take(MAX_OUTPUT).read_to_end(&mut buf);
                        // Keep draining past the cap, so a flooding tool is not blocked
                        // on a full pipe until the timeout.
                        let _ = std::io::copy(&mut pipe, &mut std::io::sink());
                    }
                    buf
                })
            })
            .collect();
        let status = match child.wait_timeout(timeout) {
            Ok(Some(status)) => status,
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                // The readers may wait on a grandchild holding the pipes: leave them.
                return Err(self.error(ToolProblem::Timeout(timeout)));
            }
            Err(e) => return Err(self.error(ToolProblem::Spawn(e.to_string()))),
        };
        let mut outs = readers.into_iter().map(|r| r.join().unwrap_or_default());
        let stdout = String::from_utf8_lossy(&outs.next().unwrap_or_default()).into_owned();
        let stderr = String::from_utf8_lossy(&outs.next().unwrap_or_default()).into_owned();
        Ok(Output { status, stdout, stderr })
    }

    /// Runs and requires exit status 0.
    pub(crate) fn success(&self, timeout: Duration) -> Result<Output, ToolError> {
        let out = self.output(timeout)?;
        if !out.status.success() {
            return Err(self
                .error(ToolProblem::Failed { status: out.status.to_string(), stderr: out.stderr.trim().to_owned() }));
        }
        Ok(out)
    }
}

/// Runs `program args` and returns its output when it exits 0 within `timeout`.
pub(crate) fn run(program: &Path, args: &[&str], timeout: Duration) -> Result<Output, ToolError> {
    let mut cmd = Cmd::new(program);
    for a in args {
        cmd.arg(*a);
    }
    cmd.success(timeout)
}
