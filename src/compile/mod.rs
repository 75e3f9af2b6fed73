//! Compiling a crate's bundled `.cu` kernels: one nvcc job per file, in parallel within
//! cargo's jobserver, incremental through nvcc's depfiles, outputs written atomically,
//! and a generated Rust module listing each kernel's image and entry names.

pub(crate) mod depfile;
pub(crate) mod entries;
mod group;
mod job;
pub(crate) mod launcher;
mod module;
mod plan;
pub(crate) mod schedule;
mod sources;
mod stamp;

use std::path::PathBuf;
use std::time::Duration;

use crate::arch::{ArchList, SpecSource};
use crate::emit::Directive;
use crate::error::Error;
use crate::{Cuda, Cudart};
pub use plan::DEFAULT_ARCH;

/// What each kernel file becomes.
///
/// ```
/// let lib = cuda_build::Format::StaticLib("kernels".into());
/// assert_ne!(lib, cuda_build::Format::Fatbin); // the default of Kernels
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// PTX text for one virtual architecture (the lowest requested: newer GPUs JIT it).
    Ptx,
    /// A cubin: SASS for exactly one real architecture.
    Cubin,
    /// A fatbin: SASS for each real architecture plus PTX (by default of the highest).
    Fatbin,
    /// Objects archived into `lib<name>.a`, linked into the crate with the CUDA runtime.
    StaticLib(String),
}

impl Format {
    fn ext(&self) -> &'static str {
        match self {
            Format::Ptx => "ptx",
            Format::Cubin => "cubin",
            Format::Fatbin => "fatbin",
            Format::StaticLib(_) => "o",
        }
    }
    fn flag(&self) -> &'static str {
        match self {
            Format::Ptx => "-ptx",
            Format::Cubin => "-cubin",
            Format::Fatbin => "-fatbin",
            Format::StaticLib(_) => "-c",
        }
    }
}

/// Builder for compiling kernels; get one from [`Cuda::kernels`].
///
/// ```no_run
/// // build.rs
/// let cuda = cuda_build::Probe::new().find_or_exit();
/// cuda.kernels()
///     .dir("kernels")            // every .cu below, headers tracked through nvcc's depfiles
///     .arch("80;90")             // else CUDAARCHS, TORCH_CUDA_ARCH_LIST, CUDA_COMPUTE_CAP, the GPUs, sm_75
///     .define("BLOCK", Some("256"))
///     .fatbin()                  // or .ptx(), .cubin(), .static_lib("name")
///     .compile_or_exit();        // writes $OUT_DIR/kernels.rs
/// cuda.emit_or_exit();
/// ```
#[derive(Clone, Debug)]
pub struct Kernels<'a> {
    cuda: &'a Cuda,
    dirs: Vec<PathBuf>,
    files: Vec<PathBuf>,
    format: Format,
    arch: Option<String>,
    default_arch: Option<String>,
    flags: Vec<String>,
    defines: Vec<(String, Option<String>)>,
    includes: Vec<PathBuf>,
    fast_math: bool,
    device_debug: bool,
    lineinfo: Option<bool>,
    name: String,
    cudart: Cudart,
    rpath: bool,
    out_dir: Option<PathBuf>,
    timeout: Duration,
    host: Option<PathBuf>,
    allow_unsupported: bool,
    exclude: Vec<String>,
    flat: bool,
    module_style: ModuleStyle,
}

/// The shape of the generated module, see [`Kernels::module_style`].
///
/// ```no_run
/// // build.rs: OUT_DIR/ptx.rs holds `pub const AFFINE: &str = include_str!(...)`
/// let cuda = cuda_build::Probe::new().find_or_exit();
/// cuda.kernels().dir("src").ptx().name("ptx").module_style(cuda_build::ModuleStyle::Constants).compile_or_exit();
/// // src/lib.rs: pub mod ptx { include!(concat!(env!("OUT_DIR"), "/ptx.rs")); }  then ptx::AFFINE
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ModuleStyle {
    /// One `pub mod <name>` per kernel with `IMAGE`, `ENTRIES`, `SOURCE` (and `PTX`), plus
    /// `FORMAT`, `ARCHS` and `MODULES` (the default).
    #[default]
    Modules,
    /// One `pub const <NAME>` per kernel and nothing else: `&str` (the PTX text) for PTX,
    /// `&[u8]` for cubins and fatbins. The shape `bindgen_cuda` and cudaforge generate
    /// (`ptx::AFFINE`), so a migration leaves `src/` untouched.
    Constants,
}

/// One compiled kernel file.
///
/// ```no_run
/// let cuda = cuda_build::Probe::new().find_or_exit();
/// for k in cuda.kernels().dir("kernels").compile_or_exit().kernels {
///     // kernels::<ident>::ENTRIES in the generated module holds the same names.
///     println!("{} -> {} {:?} (recompiled: {})", k.source.display(), k.output.display(), k.entries, k.recompiled);
/// }
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CompiledKernel {
    /// The `.cu` file.
    pub source: PathBuf,
    /// What nvcc wrote (`.ptx`, `.cubin`, `.fatbin`, `.o`).
    pub output: PathBuf,
    /// The identifier of its module in the generated Rust file.
    pub ident: String,
    /// `__global__` entry names read from the output (mangled unless `extern "C"`).
    pub entries: Vec<String>,
    /// Whether nvcc ran for it in this build (false: up to date).
    pub recompiled: bool,
}

/// The result of [`Kernels::compile`].
///
/// ```no_run
/// let cuda = cuda_build::Probe::new().find_or_exit();
/// let compiled = cuda.kernels().dir("kernels").ptx().compile_or_exit();
/// println!("cargo::warning={} kernels in {}", compiled.kernels.len(), compiled.module.display());
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Compiled {
    /// The architectures built.
    pub archs: ArchList,
    /// Where the architecture spec came from.
    pub arch_source: SpecSource,
    /// Every kernel, in source order.
    pub kernels: Vec<CompiledKernel>,
    /// The generated module (`$OUT_DIR/<name>.rs`).
    pub module: PathBuf,
    /// The static library, for [`Format::StaticLib`].
    pub library: Option<PathBuf>,
    /// Warnings (nvcc's own, fallbacks).
    pub warnings: Vec<String>,
    directives: Vec<Directive>,
}

impl Compiled {
    /// What to tell cargo: rerun-if lines for sources and user headers, link lines for a
    /// static library, warnings.
    #[must_use]
    pub fn directives(&self) -> &[Directive] {
        &self.directives
    }
}

impl Cuda {
    /// Compile `.cu` kernels with this toolkit: `cuda.kernels().dir("kernels").fatbin().compile_or_exit()`.
    pub fn kernels(&self) -> Kernels<'_> {
        Kernels {
            cuda: self,
            dirs: Vec::new(),
            files: Vec::new(),
            format: Format::Fatbin,
            arch: None,
            default_arch: None,
            flags: Vec::new(),
            defines: Vec::new(),
            includes: Vec::new(),
            fast_math: false,
            device_debug: false,
            lineinfo: None,
            name: "kernels".into(),
            cudart: Cudart::Static,
            rpath: true,
            out_dir: None,
            timeout: Duration::from_secs(3600),
            host: None,
            allow_unsupported: false,
            exclude: Vec::new(),
            flat: false,
            module_style: ModuleStyle::Modules,
        }
    }
}

impl<'a> Kernels<'a> {
    /// Every `.cu` file below `dir` (relative to the crate's `Cargo.toml`), recursively.
    pub fn dir(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.dirs.push(dir.into());
        self
    }
    /// One file (relative to the crate's `Cargo.toml`) nvcc compiles: a `.cu`, or, for
    /// [`Kernels::static_lib`], a host C++ file (`.cpp`) that nvcc hands to the host compiler
    /// with the same defines and includes, archived into the same library.
    pub fn file(&mut self, file: impl Into<PathBuf>) -> &mut Self {
        self.files.push(file.into());
        self
    }
    /// Several files, as [`Kernels::file`].
    pub fn files<P: Into<PathBuf>>(&mut self, files: impl IntoIterator<Item = P>) -> &mut Self {
        self.files.extend(files.into_iter().map(Into::into));
        self
    }
    /// Leaves out the sources below a [`Kernels::dir`] that match any of these patterns
    /// (`*` any characters but `/`, `?` one): a pattern with a `/` is matched against the
    /// path below the directory (`moe/*.cu`), one without against the file name
    /// (`moe_*.cu`), as cudaforge's `exclude` does.
    pub fn exclude(&mut self, patterns: &[&str]) -> &mut Self {
        self.exclude.extend(patterns.iter().map(|p| (*p).to_owned()));
        self
    }
    /// Writes each output directly in the output directory (`$OUT_DIR/affine.ptx`) instead
    /// of in `$OUT_DIR/<name>/` (as `bindgen_cuda` and cudaforge place them).
    pub fn flat_outputs(&mut self, on: bool) -> &mut Self {
        self.flat = on;
        self
    }
    /// The shape of the generated module: [`ModuleStyle::Modules`] (default) or
    /// [`ModuleStyle::Constants`] (`pub const AFFINE: &str`, as `bindgen_cuda`'s and cudaforge's
    /// `ptx.rs`).
    pub fn module_style(&mut self, style: ModuleStyle) -> &mut Self {
        self.module_style = style;
        self
    }
    /// Build PTX (one virtual architecture: the lowest requested).
    pub fn ptx(&mut self) -> &mut Self {
        self.format = Format::Ptx;
        self
    }
    /// Build cubins (exactly one real architecture).
    pub fn cubin(&mut self) -> &mut Self {
        self.format = Format::Cubin;
        self
    }
    /// Build fatbins (the default): SASS for every real architecture plus PTX.
    pub fn fatbin(&mut self) -> &mut Self {
        self.format = Format::Fatbin;
        self
    }
    /// Build objects into `lib<name>.a` and link it into the crate, with the CUDA runtime
    /// linked as [`Kernels::cudart`] says (static by default).
    pub fn static_lib(&mut self, name: &str) -> &mut Self {
        self.format = Format::StaticLib(name.to_owned());
        self
    }
    /// How a static library links the CUDA runtime: [`Cudart::Static`] (the default, and
    /// what a library crate should use) or [`Cudart::Shared`], which also adds an rpath to
    /// the runtime's directory so the package's binaries start (see [`Kernels::rpath`]).
    pub fn cudart(&mut self, how: Cudart) -> &mut Self {
        self.cudart = how;
        self
    }
    /// Whether a shared runtime ([`Kernels::cudart`]) gets `-Wl,-rpath` to its directory
    /// (default on). An rpath reaches only this package's binaries, tests and examples;
    /// see [`Cuda::rpath`] for library crates.
    pub fn rpath(&mut self, on: bool) -> &mut Self {
        self.rpath = on;
        self
    }
    /// The architecture spec, in `CMake`'s syntax (`"75;86"`, `"86-real"`, `"all-major"`);
    /// overrides every variable. For a default that `CUDAARCHS` and the other variables can
    /// override, use [`Kernels::default_arch`].
    pub fn arch(&mut self, spec: &str) -> &mut Self {
        self.arch = Some(spec.to_owned());
        self
    }
    /// The crate's default architecture spec (`CMake`'s syntax), used when no variable
    /// (`CUDAARCHS`, `CMAKE_CUDA_ARCHITECTURES`, `TORCH_CUDA_ARCH_LIST`, `CUDA_COMPUTE_CAP`)
    /// gives one; it replaces the GPUs present and `sm_75` as the default.
    pub fn default_arch(&mut self, spec: &str) -> &mut Self {
        self.default_arch = Some(spec.to_owned());
        self
    }
    /// An extra nvcc flag.
    pub fn flag(&mut self, flag: &str) -> &mut Self {
        self.flags.push(flag.to_owned());
        self
    }
    /// Several extra nvcc flags.
    pub fn flags<S: AsRef<str>>(&mut self, flags: impl IntoIterator<Item = S>) -> &mut Self {
        self.flags.extend(flags.into_iter().map(|f| f.as_ref().to_owned()));
        self
    }
    /// `-DNAME` or `-DNAME=VALUE`.
    pub fn define(&mut self, name: &str, value: Option<&str>) -> &mut Self {
        self.defines.push((name.to_owned(), value.map(str::to_owned)));
        self
    }
    /// An include directory (relative to the crate's `Cargo.toml`); its headers are tracked.
    pub fn include(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.includes.push(dir.into());
        self
    }
    /// `--use_fast_math` (off by default: it changes results).
    pub fn fast_math(&mut self, on: bool) -> &mut Self {
        self.fast_math = on;
        self
    }
    /// `-G`: device debug info, device optimisation OFF (kernels run many times slower).
    pub fn device_debug(&mut self, on: bool) -> &mut Self {
        self.device_debug = on;
        self
    }
    /// `-lineinfo` (source lines for profilers, full speed). Default: on when cargo's
    /// `DEBUG` is true (the dev profile), off otherwise.
    pub fn lineinfo(&mut self, on: bool) -> &mut Self {
        self.lineinfo = Some(on);
        self
    }
    /// Name of the generated module file (`$OUT_DIR/<name>.rs`) and output folder.
    pub fn name(&mut self, name: &str) -> &mut Self {
        self.name = name.to_owned();
        self
    }
    /// Write outputs here instead of `OUT_DIR`.
    pub fn out_dir(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.out_dir = Some(dir.into());
        self
    }
    /// The host C++ compiler nvcc uses (`-ccbin`); like `NVCC_CCBIN`, it is never replaced:
    /// if this toolkit does not accept it, that is the error.
    pub fn host_compiler(&mut self, program: impl Into<PathBuf>) -> &mut Self {
        self.host = Some(program.into());
        self
    }
    /// Use a host compiler newer than this toolkit accepts (`-allow-unsupported-compiler`;
    /// also `CUDA_BUILD_ALLOW_UNSUPPORTED_COMPILER=1`). The risk: compilation, or the
    /// program, may fail on that compiler's newer headers.
    pub fn allow_unsupported_compiler(&mut self, on: bool) -> &mut Self {
        self.allow_unsupported = on;
        self
    }
    /// How long one nvcc may run (default one hour).
    pub fn timeout(&mut self, timeout: Duration) -> &mut Self {
        self.timeout = timeout;
        self
    }

    /// Compiles, then prints the directives (and warnings); on error prints it as cargo
    /// errors — nvcc's own output verbatim — and exits with status 1.
    // Used as a statement in build scripts (it prints): the result is optional.
    #[allow(clippy::must_use_candidate)]
    pub fn compile_or_exit(&self) -> Compiled {
        match self.compile() {
            Ok(c) => {
                crate::emit::print(c.directives());
                c
            }
            Err(e) => crate::emit::exit_with_error(self.cuda.env(), &e),
        }
    }

    /// Compiles what changed since the last build and returns the result; prints nothing.
    ///
    /// Every source is found and checked before any nvcc runs (see [`Error::KernelPath`],
    /// [`Error::KernelCollision`]); every kernel that fails is reported, each once. To keep
    /// cargo's jobserver tokens busy across several groups, use [`compile_all`].
    ///
    /// # Errors
    /// A spec that does not parse or names an arch the toolkit lacks, no host compiler it
    /// accepts, no kernel sources, a source or directory that cannot be built safely, two
    /// sources sharing a module name or output, nvcc failing (its output verbatim), or an
    /// unwritable `OUT_DIR`.
    pub fn compile(&self) -> Result<Compiled, Error> {
        let mut all = group::compile(&[self])?;
        all.pop().ok_or_else(|| Error::NoKernels { searched: Vec::new() })
    }

    /// The architectures this group will be built for, resolved as [`Kernels::compile`]
    /// resolves them (builder, variables, the GPUs, the default; checked against the
    /// toolkit), before anything compiles: for flags that depend on them
    /// (`-DNO_BF16_KERNEL` below `sm_80`).
    ///
    /// # Errors
    /// A spec that does not parse, names an arch the toolkit lacks, or a cubin asked for
    /// several architectures.
    pub fn archs(&self) -> Result<ArchList, Error> {
        plan::resolve_archs(self, &mut Vec::new()).map(|(archs, _, _)| archs)
    }

    /// The crate's directory (relative paths start there) and where outputs go.
    fn locations(&self) -> Result<(PathBuf, PathBuf), Error> {
        let env = self.cuda.env();
        let base = env.cargo_var("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_else(|| env.current_dir());
        let out_root = match (&self.out_dir, env.cargo_var("OUT_DIR")) {
            (Some(d), _) => base.join(d),
            (None, Some(d)) => PathBuf::from(d),
            (None, None) => {
                return Err(Error::Io {
                    action: "find OUT_DIR (compile runs in a build script, or set Kernels::out_dir)",
                    path: PathBuf::new(),
                    error: "OUT_DIR is not set".into(),
                })
            }
        };
        Ok((base, out_root))
    }
}

/// Compiles several groups (say, PTX for one set of kernels and a static library of
/// another) in one schedule: the longest jobs of all groups first, one nvcc per jobserver
/// token across them, so no token idles while one group's last job runs. Results in the
/// order given; prints nothing.
///
/// ```no_run
/// // build.rs of a crate shaped like candle-kernels
/// let cuda = cuda_build::Probe::new().find_or_exit();
/// let mut ptx = cuda.kernels();
/// ptx.dir("src").exclude(&["moe/*"]).ptx().name("ptx");
/// let mut moe = cuda.kernels();
/// moe.dir("src/moe").static_lib("moe");
/// cuda_build::compile_all_or_exit(&[&ptx, &moe]);
/// cuda.emit_or_exit();
/// ```
///
/// # Errors
/// As [`Kernels::compile`], for any group; failures of all groups are reported together.
pub fn compile_all(groups: &[&Kernels<'_>]) -> Result<Vec<Compiled>, Error> {
    group::compile(groups)
}

/// [`compile_all`], then prints every group's directives; on error prints it as cargo errors
/// and exits with status 1.
#[allow(clippy::must_use_candidate)]
pub fn compile_all_or_exit(groups: &[&Kernels<'_>]) -> Vec<Compiled> {
    match compile_all(groups) {
        Ok(all) => {
            for c in &all {
                crate::emit::print(c.directives());
            }
            all
        }
        Err(e) => match groups.first() {
            Some(k) => crate::emit::exit_with_error(k.cuda.env(), &e),
            None => crate::emit::exit_with_error(&crate::Env::from_process(), &e),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Env;

    #[test]
    fn launcher_precedence_and_sccache_wrapper() {
        let l = |vars: &[(&str, &str)]| {
            launcher::Launcher::from_env(&Env::from_vars(vars.iter().copied()))
                .unwrap()
                .map(|l| l.program().display().to_string())
        };
        assert_eq!(l(&[("RUSTC_WRAPPER", "/usr/bin/sccache")]).as_deref(), Some("/usr/bin/sccache"));
        assert_eq!(l(&[("RUSTC_WRAPPER", "/usr/bin/clippy-driver")]), None, "only sccache caches nvcc too");
        assert_eq!(
            l(&[("CMAKE_CUDA_COMPILER_LAUNCHER", "ccache"), ("RUSTC_WRAPPER", "sccache")]).as_deref(),
            Some("ccache")
        );
        assert_eq!(l(&[("CUDA_BUILD_LAUNCHER", "a"), ("CMAKE_CUDA_COMPILER_LAUNCHER", "b")]).as_deref(), Some("a"));
        assert_eq!(l(&[("CUDA_BUILD_LAUNCHER", "none"), ("RUSTC_WRAPPER", "sccache")]), None);
    }
}
