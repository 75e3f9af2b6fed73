//! Toolkits: where they are looked for (`locate`), what a found one holds (`layout`), and the verdict on each candidate.

pub(crate) mod layout;
pub(crate) mod locate;
pub(crate) mod search;

pub use search::Search;

use std::fmt;
use std::path::PathBuf;

use crate::run::ToolError;
use crate::version::{CudaVersion, VersionReq};

/// Where a candidate toolkit came from. Ranked: explicit variables first, then `PATH`,
/// then conventional locations, then environments and wheels, then pkg-config.
///
/// ```no_run
/// let cuda = cuda_build::Probe::new().find_or_exit();
/// // Where it was found: `CUDA_PATH`, `PATH`, `/usr/local/cuda`, ...
/// println!("chosen by {}", cuda.toolkit().source);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// A compiler variable naming nvcc: `NVCC` or `CUDACXX` (or a target-suffixed form, as named).
    Compiler(String),
    /// A root variable: `CUDAToolkit_ROOT`, `CUDA_PATH`, `CUDA_HOME`, `CUDA_ROOT`, `CUDA_TOOLKIT_ROOT_DIR`.
    RootVar(String),
    /// The first `nvcc` on `PATH`.
    Path,
    /// A conventional directory, named as documented (`/usr/local/cuda`, `/usr/local/cuda-12.4`, ...).
    Location(String),
    /// A variable the Windows installer sets per version (`CUDA_PATH_V12_4`).
    VersionedVar(String),
    /// The active conda environment (`CONDA_PREFIX`).
    Conda,
    /// NVIDIA's Python wheels in a site-packages directory.
    Wheel(PathBuf),
    /// A toolkit provisioned into cuda-build's cache (`CUDA_BUILD_CACHE`).
    Cache(PathBuf),
    /// A pkg-config file (`cuda-12.4.pc`, `cudart-12.4.pc`).
    PkgConfig(PathBuf),
}

impl Source {
    /// Lower ranks win.
    pub(crate) fn rank(&self) -> u8 {
        match self {
            Source::Compiler(_) => 0,
            Source::RootVar(_) => 1,
            Source::Path => 2,
            Source::Location(_) | Source::VersionedVar(_) => 3,
            Source::Conda | Source::Wheel(_) | Source::Cache(_) => 4,
            Source::PkgConfig(_) => 5,
        }
    }

    /// Whether the user named this toolkit explicitly: then it is never replaced.
    #[must_use]
    pub fn is_explicit(&self) -> bool {
        matches!(self, Source::Compiler(_) | Source::RootVar(_))
    }

    /// The variable behind an explicit source.
    pub(crate) fn var(&self) -> Option<&str> {
        match self {
            Source::Compiler(v) | Source::RootVar(v) | Source::VersionedVar(v) => Some(v),
            _ => None,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Compiler(v) | Source::RootVar(v) | Source::VersionedVar(v) => f.write_str(v),
            Source::Path => f.write_str("PATH"),
            Source::Location(l) => f.write_str(l),
            Source::Conda => f.write_str("CONDA_PREFIX"),
            Source::Wheel(dir) => write!(f, "wheel in {}", dir.display()),
            Source::Cache(dir) => write!(f, "cuda-build cache {}", dir.display()),
            Source::PkgConfig(file) => write!(f, "pkg-config {}", file.display()),
        }
    }
}

/// Which source gave a toolkit's version.
///
/// ```no_run
/// let cuda = cuda_build::Probe::new().find_or_exit();
/// // No process was spawned unless this says nvcc.
/// println!("{:?}", cuda.toolkit().version_source);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VersionSource {
    /// `<root>/version.json`.
    VersionJson(PathBuf),
    /// `<root>/version.txt`.
    VersionTxt(PathBuf),
    /// `#define CUDA_VERSION` in `cuda.h` (major.minor only).
    CudaH(PathBuf),
    /// `nvcc --version`.
    Nvcc,
}

impl fmt::Display for VersionSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionSource::VersionJson(p) | VersionSource::VersionTxt(p) | VersionSource::CudaH(p) => {
                write!(f, "{}", p.display())
            }
            VersionSource::Nvcc => f.write_str("nvcc --version"),
        }
    }
}

/// Why a candidate was not chosen.
///
/// ```no_run
/// use cuda_build::Refusal;
/// let report = cuda_build::Probe::new().version_req(">=13").report();
/// for c in &report.search.candidates {
///     if let Some(Refusal::OutOfRange { .. }) = &c.refusal {
///         println!("{} is outside the range", c.path.display());
///     }
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The path does not exist.
    Missing,
    /// A root variable names a file, not a directory.
    NotADirectory,
    /// A compiler variable names a directory, not the nvcc program.
    NotAProgram,
    /// The directory has no `bin/nvcc` (these paths were tried).
    NoNvcc(Vec<PathBuf>),
    /// nvcc could not tell its version.
    NvccFailed(ToolError),
    /// No source gave a version that parses.
    UnknownVersion(String),
    /// The version is outside the required range.
    OutOfRange {
        /// The toolkit's version.
        version: CudaVersion,
        /// The range it fails.
        required: VersionReq,
    },
    /// Its CUDA major differs from the one of the libtorch this build links
    /// ([`crate::Probe::libtorch`]): code linked into libtorch needs the same major.
    Libtorch {
        /// The toolkit's version.
        version: CudaVersion,
        /// The libtorch's CUDA.
        libtorch_cuda: CudaVersion,
        /// The libtorch's version and where its CUDA was read (`2.15.0, from macros.h`).
        libtorch: String,
    },
    /// The same toolkit was already listed under another source.
    Duplicate(String),
    /// Usable, but a toolkit of higher rank (or newer, within a rank) was chosen.
    Outranked(String),
    /// Not considered: this variable names the toolkit to use explicitly.
    Overridden(String),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Missing => f.write_str("does not exist"),
            Refusal::NotADirectory => f.write_str("is a file, not a toolkit root directory"),
            Refusal::NotAProgram => f.write_str("is a directory, not the nvcc program"),
            Refusal::NoNvcc(tried) => {
                let tried: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
                write!(f, "holds no nvcc (looked for {})", tried.join(", "))
            }
            Refusal::NvccFailed(e) => write!(f, "its nvcc does not work: {e}"),
            Refusal::UnknownVersion(why) => write!(f, "version unknown: {why}"),
            Refusal::OutOfRange { version, required } => write!(f, "version {version} does not satisfy {required}"),
            Refusal::Libtorch { version, libtorch_cuda, libtorch } => write!(
                f,
                "CUDA {version} does not fit libtorch {libtorch}, built with CUDA {}.{}: code linked into libtorch needs a CUDA {}.x toolkit",
                libtorch_cuda.major, libtorch_cuda.minor, libtorch_cuda.major
            ),
            Refusal::Duplicate(of) => write!(f, "same toolkit as the one from {of}"),
            Refusal::Outranked(by) => write!(f, "usable, but {by} was chosen (higher rank or newer)"),
            Refusal::Overridden(var) => write!(f, "not considered: {var} names the toolkit to use"),
        }
    }
}

/// One toolkit seen during the search, with the verdict on it.
///
/// ```no_run
/// let report = cuda_build::Probe::new().report();
/// let usable: Vec<_> = report.search.candidates.iter().filter(|c| c.refusal.is_none()).collect();
/// for c in usable {
///     println!("CUDA {:?} at {} (from {})", c.version, c.path.display(), c.source);
/// }
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Candidate {
    /// Where it came from.
    pub source: Source,
    /// The path as found (a variable's value, the nvcc on PATH, a directory).
    pub path: PathBuf,
    /// Its root, when the layout was recognised.
    pub root: Option<PathBuf>,
    /// Its nvcc, when present.
    pub nvcc: Option<PathBuf>,
    /// Its version, when known.
    pub version: Option<CudaVersion>,
    /// Why it was not chosen; `None` for the chosen one.
    pub refusal: Option<Refusal>,
    pub(crate) layout: Option<layout::Layout>,
}

impl Candidate {
    /// Whether this is the toolkit the probe chose.
    #[must_use]
    pub fn accepted(&self) -> bool {
        self.refusal.is_none() && self.layout.is_some()
    }
}

/// The chosen toolkit.
///
/// ```no_run
/// let cuda = cuda_build::Probe::new().find_or_exit();
/// let t: &cuda_build::Toolkit = cuda.toolkit();
/// println!("{} {} {:?}", t.nvcc.display(), t.version, t.include_dirs);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Toolkit {
    /// The toolkit root (the directory above `bin/nvcc`), symlinks resolved.
    pub root: PathBuf,
    /// The nvcc to run: the real program, or the distribution's wrapper script that execs it.
    pub nvcc: PathBuf,
    /// The toolkit version.
    pub version: CudaVersion,
    /// Which source gave [`Toolkit::version`].
    pub version_source: VersionSource,
    /// Header directories (`cuda.h`, `cuda_runtime.h`).
    pub include_dirs: Vec<PathBuf>,
    /// Library directories (`libcudart*`), for the target.
    pub lib_dirs: Vec<PathBuf>,
    /// The directory of the driver stub `libcuda.so`, for linking only.
    pub stubs_dir: Option<PathBuf>,
    /// Where the toolkit came from.
    pub source: Source,
    /// Files whose change means the toolkit changed (version files, `cuda.h`, nvcc).
    pub watched_files: Vec<PathBuf>,
}
