//! The crate's one error type. Every message says what was looked for, where, what
//! was found, and the exact fix; `Display` gives the whole message, one fact a line.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::probe::Search;

/// Everything that can stop a probe or an emit.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The range given to [`crate::Probe::version_req`] does not parse.
    InvalidVersionReq(ParseError),
    /// A toolkit named explicitly (`NVCC`, `CUDACXX`, `CUDA_PATH`, ...) is unusable or
    /// outside the range. It is never silently replaced by another toolkit.
    Explicit(Box<Search>),
    /// Toolkits were found, but none satisfies the range.
    NoMatch(Box<Search>),
    /// No toolkit was found anywhere.
    NotFound(Box<Search>),
    /// A library asked for with [`crate::Cuda::link_lib`] is in none of the toolkit's library directories.
    LibraryNotFound {
        /// The library's name, as given (`cublas`).
        name: String,
        /// The directories searched.
        searched: Vec<PathBuf>,
    },
    /// A path cargo must be told about is not valid UTF-8, which cargo directives cannot carry.
    NonUtf8Path(PathBuf),
}

/// A text (tool output, version file, variable) that could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// What was being parsed (`"cuda.h CUDA_VERSION"`).
    pub what: String,
    /// The offending input (shortened).
    pub input: String,
    /// Why it was rejected.
    pub reason: String,
}

impl ParseError {
    pub(crate) fn new(what: &str, input: &str, reason: &str) -> Self {
        let mut short: String = input.chars().take(120).collect();
        if short.len() < input.len() {
            short.push('…');
        }
        ParseError { what: what.to_owned(), input: short, reason: reason.to_owned() }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot parse {} {:?}: {}", self.what, self.input, self.reason)
    }
}

impl std::error::Error for ParseError {}

/// An external tool (nvcc, ...) that could not be run, failed, or hung.
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

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidVersionReq(e) => write!(
                f,
                "{e}\n  fix: pass a range such as \">=12.0, <14\" or \"12.4\" (a bare version means that release) to version_req"
            ),
            Error::Explicit(s) | Error::NoMatch(s) | Error::NotFound(s) => s.fmt_error(f),
            Error::LibraryNotFound { name, searched } => {
                writeln!(f, "CUDA library `{name}` not found in the toolkit's library directories")?;
                for dir in searched {
                    writeln!(f, "  searched: {}", dir.display())?;
                }
                write!(f, "  fix: install the toolkit component that ships lib{name} (e.g. Debian's lib{name}-dev or NVIDIA's cuda-{name}-dev package / nvidia-{name} wheel), or drop link_lib(\"{name}\")")
            }
            Error::NonUtf8Path(p) => write!(
                f,
                "path {} is not valid UTF-8, which cargo directives cannot carry\n  fix: install or link the toolkit under a UTF-8 path and point CUDA_PATH at it",
                p.display()
            ),
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    /// The search behind a toolkit error: every candidate with the reason it was refused.
    pub fn search(&self) -> Option<&Search> {
        match self {
            Error::Explicit(s) | Error::NoMatch(s) | Error::NotFound(s) => Some(s),
            _ => None,
        }
    }
}
