//! The crate's one error type. Every message says what was looked for, where, what
//! was found, and the exact fix; `Display` gives the whole message, one fact a line.

use std::fmt;
use std::path::PathBuf;

use crate::fsx::FileError;
use crate::host::{HostError, Rejection};
pub use crate::run::{ToolError, ToolProblem};
use crate::toolkit::Search;
use crate::version::CudaVersion;
pub use crate::version::ParseError;

/// Everything that can stop a probe or an emit.
///
/// ```
/// let env = cuda_build::Env::from_vars([("CUDA_PATH", "/nonexistent/cuda")]);
/// let err = cuda_build::Probe::new().env(env).find().unwrap_err();
/// // A toolkit named by a variable is never replaced by another: that is the error.
/// assert!(matches!(err, cuda_build::Error::Explicit(_)));
/// assert!(err.search().is_some_and(|s| !s.candidates.is_empty()));
/// println!("{err}"); // what was searched, what was found, why it does not fit, the fix
/// ```
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
    /// An architecture spec does not parse.
    InvalidArch {
        /// Where the spec came from (`CUDAARCHS`, `Kernels::arch`, ...).
        source: String,
        /// The whole spec.
        spec: String,
        /// The entry that failed.
        item: String,
        /// Why, and the accepted syntax.
        reason: String,
    },
    /// The toolkit cannot target a requested architecture.
    UnsupportedArch {
        /// Where the spec came from.
        source: String,
        /// The architecture (`20`, `90a`).
        arch: String,
        /// The toolkit's version.
        toolkit: CudaVersion,
        /// What it supports, and who said so.
        supported: String,
    },
    /// `native` was asked for, but no GPU was seen.
    NoGpuForNative {
        /// Where the spec came from.
        source: String,
        /// The whole spec.
        spec: String,
    },
    /// No kernel source was found where the builder pointed.
    NoKernels {
        /// The directories and files given.
        searched: Vec<PathBuf>,
    },
    /// A kernel source, kernel directory, include directory or output directory that cannot
    /// be built safely, found before nvcc runs.
    KernelPath {
        /// The path.
        path: PathBuf,
        /// What it is (`"kernel source"`, `"kernel directory"`, `"include directory"`, ...).
        what: &'static str,
        /// What is wrong with it.
        problem: PathProblem,
    },
    /// Two kernel sources would share a module name (rustc's E0428) or an output file.
    KernelCollision {
        /// What they would share ("the module name `a_b`", "the output file ...").
        shared: String,
        /// The sources.
        files: Vec<PathBuf>,
    },
    /// Several kernels failed: each failure once, in source order.
    Kernels(Vec<Error>),
    /// nvcc (or the launcher in front of it) exited successfully but wrote no output.
    NoOutput {
        /// The kernel source.
        kernel: PathBuf,
        /// The program that ran (the launcher, or nvcc).
        program: PathBuf,
        /// The command, as run.
        command: String,
    },
    /// A cubin holds one architecture, but several were requested.
    CubinNeedsOneArch(Vec<String>),
    /// nvcc failed on a kernel: its output, verbatim.
    Nvcc {
        /// The kernel source.
        kernel: PathBuf,
        /// The command, as run.
        command: String,
        /// The exit status, in words.
        status: String,
        /// What nvcc printed.
        output: String,
    },
    /// No host compiler nvcc accepts: checked before nvcc runs.
    HostCompiler(Box<Rejection>),
    /// libtorch does not fit the toolkit (CUDA major differs, CPU-only build) or could not be found as asked.
    Libtorch(Vec<crate::Check>),
    /// A tool other than nvcc (ar, nvcc's queries) failed, hung, or could not start.
    Tool(ToolError),
    /// `CUDA_BUILD_LAUNCHER` or `CMAKE_CUDA_COMPILER_LAUNCHER` cannot be read as a command.
    Launcher {
        /// The variable.
        variable: String,
        /// Its value (shortened).
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// A file operation failed.
    Io {
        /// What was being done (`"create"`, `"rename"`, ...).
        action: &'static str,
        /// On which path.
        path: PathBuf,
        /// The OS error.
        error: String,
    },
}

/// What is wrong with a path of [`Error::KernelPath`].
///
/// ```no_run
/// use cuda_build::{Error, PathProblem};
/// let cuda = cuda_build::Probe::new().find_or_exit();
/// match cuda.kernels().dir("kernels").compile() {
///     Err(Error::KernelPath { path, problem: PathProblem::Unsafe(c), .. }) => {
///         println!("cargo::warning=rename {path:?}: it holds {c:?}");
///     }
///     other => drop(other),
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathProblem {
    /// It does not exist.
    Missing,
    /// It cannot be read (the OS error).
    Unreadable(String),
    /// Not valid UTF-8: cargo directives cannot carry it.
    NonUtf8,
    /// It holds a character that nvcc's shell or a cargo directive line would interpret.
    Unsafe(char),
    /// A source that is not a regular file (a FIFO, socket, device or dangling link).
    NotAFile,
    /// A kernel directory that is a file.
    NotADirectory,
    /// Nested deeper than this many directories.
    TooDeep(usize),
    /// A group name that is not a plain file name (`[A-Za-z0-9_-]`, not starting with `.` or `-`).
    BadName,
}

/// At most this many characters of a user's input are echoed in a message.
const ECHO_MAX: usize = 120;

/// `text`, cut to [`ECHO_MAX`] characters with the total length said.
pub(crate) fn short(text: &str) -> String {
    let n = text.chars().count();
    if n <= ECHO_MAX {
        return text.to_owned();
    }
    let head: String = text.chars().take(ECHO_MAX).collect();
    format!("{head}... ({n} characters)")
}

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
            Error::InvalidArch { source, spec, item, reason } => write!(
                f,
                "cannot parse GPU architecture {:?} in {source}={:?}: {reason}\n  fix: set {source} to a valid list (CUDAARCHS takes `75;86`, TORCH_CUDA_ARCH_LIST takes `7.5;8.6+PTX`, CUDA_COMPUTE_CAP takes `86`)",
                short(item),
                short(spec)
            ),
            Error::UnsupportedArch { source, arch, toolkit, supported } => write!(
                f,
                "GPU architecture sm_{arch} (from {source}) is not supported by CUDA {toolkit}\n  CUDA {toolkit} can target: {supported}\n  fix: choose architectures from that list in {source}, or use a toolkit that supports sm_{arch}"
            ),
            Error::NoGpuForNative { source, spec } => write!(
                f,
                "{source}={:?} asks for the GPUs of this machine (native), but no GPU was seen (no /proc/driver/nvidia/version, no answer from nvidia-smi)\n  fix: name the architectures instead, e.g. CUDAARCHS=\"75;86\" (build machines often have no GPU)",
                short(spec)
            ),
            Error::NoKernels { searched } => {
                writeln!(f, "no CUDA kernel sources (.cu) found")?;
                for p in searched {
                    writeln!(f, "  searched: {}", p.display())?;
                }
                write!(f, "  fix: point Kernels::dir / Kernels::file at .cu files (paths are relative to the crate's Cargo.toml)")
            }
            Error::CubinNeedsOneArch(archs) => write!(
                f,
                "a cubin holds one GPU architecture, but {} were requested: {}\n  fix: use .fatbin() for several architectures, or request one (CUDAARCHS=86-real)",
                archs.len(),
                archs.join(" ")
            ),
            Error::KernelPath { path, what, problem } => fmt_kernel_path(f, path, what, problem),
            Error::KernelCollision { shared, files } => {
                writeln!(f, "{} kernel sources would share {shared}:", files.len())?;
                for p in files {
                    writeln!(f, "  {}", short(&format!("{:?}", p.as_os_str())))?;
                }
                write!(f, "  fix: rename one of them (module names are the path below the kernel directory, lowercased, other characters `_`), or compile them in separate groups with different Kernels::name")
            }
            Error::Kernels(errors) => {
                writeln!(f, "{} kernels failed to compile:", errors.len())?;
                for (i, e) in errors.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "{e}")?;
                }
                Ok(())
            }
            Error::NoOutput { kernel, program, command } => write!(
                f,
                "{} exited successfully but wrote no output for {}\n  command: {command}\n  fix: run the command by hand to see why; if {} is a launcher (a compiler cache), set CUDA_BUILD_LAUNCHER=none to run nvcc directly",
                program.display(),
                kernel.display(),
                program.display()
            ),
            Error::Nvcc { kernel, command, status, output } => {
                writeln!(f, "nvcc failed on {} ({status})", kernel.display())?;
                writeln!(f, "  command: {command}")?;
                write!(f, "{}", output.trim_end())
            }
            Error::HostCompiler(r) => write!(f, "{r}"),
            Error::Libtorch(checks) => {
                let lines: Vec<&str> = checks.iter().map(|c| c.message.as_str()).collect();
                f.write_str(&lines.join("\n"))
            }
            Error::Tool(e) => write!(f, "{e}"),
            Error::Launcher { variable, value, reason } => {
                let example = if variable == "CMAKE_CUDA_COMPILER_LAUNCHER" {
                    "a CMake list such as \"ccache;--max-size=1G\""
                } else {
                    "a command line such as \"ccache --max-size=1G\" (quote a path with spaces)"
                };
                write!(
                    f,
                    "cannot use {variable}={value:?} as nvcc's launcher: {reason}\n  fix: set {variable} to {example}, or CUDA_BUILD_LAUNCHER=none to run nvcc without a launcher"
                )
            }
            Error::Io { action, path, error } => write!(f, "cannot {action} {}: {error}", path.display()),
            Error::NonUtf8Path(p) => write!(
                f,
                "path {} is not valid UTF-8, which cargo directives cannot carry\n  fix: install or link the toolkit under a UTF-8 path and point CUDA_PATH at it",
                p.display()
            ),
        }
    }
}

/// [`Error::KernelPath`]'s message: the path (escaped, cut), what is wrong, the fix.
fn fmt_kernel_path(
    f: &mut fmt::Formatter<'_>,
    path: &std::path::Path,
    what: &str,
    problem: &PathProblem,
) -> fmt::Result {
    let p = short(&format!("{:?}", path.as_os_str()));
    let (why, fix) = match problem {
            PathProblem::Missing => ("does not exist".to_owned(), "create it, or correct the path (relative paths start at the crate's Cargo.toml)".to_owned()),
            PathProblem::Unreadable(e) => (format!("cannot be read ({e})"), "make it readable for the user running cargo (chmod), or move it out of the kernel directory".to_owned()),
            PathProblem::NonUtf8 => ("is not valid UTF-8, which cargo's rerun-if-changed lines cannot carry".to_owned(), "rename it to a UTF-8 name".to_owned()),
            PathProblem::Unsafe(c) => (format!("contains {c:?}, which a cargo directive line, the shell nvcc runs its steps in, or nvcc's fatbinary step (a comma in a source's name) would misread"), "rename it (or move the crate / target directory) without line breaks, control characters, `\"`, `$`, a backtick or `\\` (and no comma in a source's file name)".to_owned()),
            PathProblem::NotAFile => ("is not a regular file (a FIFO, socket, device or dangling link would hang or fail nvcc)".to_owned(), "replace it with a regular file, or rename it so it does not end in .cu".to_owned()),
            PathProblem::NotADirectory => ("is not a directory".to_owned(), "pass files with Kernels::file, directories with Kernels::dir".to_owned()),
            PathProblem::TooDeep(n) => (format!("is nested more than {n} directories deep"), "flatten the kernel tree, or point Kernels::dir at the deep folder".to_owned()),
            PathProblem::BadName => ("is not a plain name (letters, digits, `_`, `-`; not starting with `.` or `-`)".to_owned(), "pass such a name to Kernels::name (it names the module file and output folder in OUT_DIR); use Kernels::out_dir to place outputs elsewhere".to_owned()),
        };
    write!(f, "{what} {p} {why}\n  fix: {fix}")
}

impl std::error::Error for Error {}

impl From<FileError> for Error {
    fn from(e: FileError) -> Self {
        Error::Io { action: e.action, path: e.path, error: e.error }
    }
}

impl From<HostError> for Error {
    fn from(e: HostError) -> Self {
        match e {
            HostError::Rejected(r) => Error::HostCompiler(Box::new(r)),
            HostError::Tool(t) => Error::Tool(t),
        }
    }
}

impl From<Search> for Error {
    /// A failed search: explicit when a variable named the toolkit, no match when toolkits
    /// were found, else not found.
    fn from(search: Search) -> Self {
        let explicit = search.candidates.iter().any(|c| c.source.is_explicit());
        let found = search.candidates.iter().any(|c| c.layout.is_some());
        let boxed = Box::new(search);
        if explicit {
            Error::Explicit(boxed)
        } else if found {
            Error::NoMatch(boxed)
        } else {
            Error::NotFound(boxed)
        }
    }
}

impl Error {
    /// The search behind a toolkit error: every candidate with the reason it was refused.
    #[must_use]
    pub fn search(&self) -> Option<&Search> {
        match self {
            Error::Explicit(s) | Error::NoMatch(s) | Error::NotFound(s) => Some(s),
            _ => None,
        }
    }
}
