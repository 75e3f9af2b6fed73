//! Compiling a crate's bundled `.cu` kernels: one nvcc job per file, in parallel within
//! cargo's jobserver, incremental through nvcc's depfiles, outputs written atomically,
//! and a generated Rust module listing each kernel's image and entry names.

pub(crate) mod depfile;
pub(crate) mod entries;
mod job;
pub(crate) mod launcher;
mod module;
mod plan;
pub(crate) mod schedule;
mod sources;
mod stamp;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::arch::{ArchList, SpecSource};
use crate::emit::{path_str, Directive};
use crate::error::Error;
use crate::fsx;
use crate::{Cuda, Cudart};
use job::{Job, JobCtx, JobResult};
pub use plan::DEFAULT_ARCH;

/// What each kernel file becomes.
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
/// cuda.emit();
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
}

/// One compiled kernel file.
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
    /// [`Error::KernelCollision`]); every kernel that fails is reported, each once.
    ///
    /// # Errors
    /// A spec that does not parse or names an arch the toolkit lacks, no host compiler it
    /// accepts, no kernel sources, a source or directory that cannot be built safely, two
    /// sources sharing a module name or output, nvcc failing (its output verbatim), or an
    /// unwritable `OUT_DIR`.
    pub fn compile(&self) -> Result<Compiled, Error> {
        let env = self.cuda.env();
        let (base, out_root) = self.locations()?;
        sources::check_group_name(&self.name)?;
        let out_dir = out_root.join(&self.name);
        sources::check_path(&out_dir, "output directory")?;
        let mut warnings = Vec::new();

        // Sources, then the plan: both checked before any nvcc runs.
        let dirs: Vec<PathBuf> = self.dirs.iter().map(|d| base.join(d)).collect();
        let files: Vec<PathBuf> = self.files.iter().map(|f| base.join(f)).collect();
        let found = sources::collect(&dirs, &files, &out_dir, self.format.ext(), &mut warnings)?;
        if found.is_empty() {
            return Err(Error::NoKernels { searched: dirs.iter().chain(&files).cloned().collect() });
        }
        let plan = plan::Plan::new(self, &base, &mut warnings)?;

        // Longest first: previous durations, else source size.
        let mut jobs: Vec<Job> = found.into_iter().map(|s| Job::new(s, &plan.includes)).collect();
        jobs.sort_by(|a, b| b.weight.total_cmp(&a.weight));
        let tally = launcher::Tally::default();
        let results = self.run_jobs(&plan, &base, &jobs, &tally)?;
        // One warning per build about a launcher that failed (its version asked only then).
        if let Some(w) = plan.launcher.as_ref().and_then(|l| tally.summary(l, env)) {
            warnings.push(w);
        }

        let mut kernels = Vec::new();
        let mut user_files: BTreeSet<PathBuf> = BTreeSet::new();
        let mut failures = Vec::new();
        for (job, result) in jobs.iter().zip(results) {
            let src = &job.source;
            let r = match result {
                Ok(r) => r,
                Err(e) => {
                    failures.push((src.path.clone(), e));
                    continue;
                }
            };
            for line in r.warnings.lines().filter(|l| !l.trim().is_empty()) {
                warnings.push(format!("{}: {line}", src.path.display()));
            }
            user_files.insert(src.path.clone());
            user_files.extend(self.user_deps(&r, &base, &plan.includes, &dirs));
            if r.unreadable {
                warnings.push(format!(
                    "{}: the output is compressed; entry names could not be read (ENTRIES is empty)",
                    src.path.display()
                ));
            }
            kernels.push(CompiledKernel {
                source: src.path.clone(),
                output: src.output.clone(),
                ident: src.ident.clone(),
                entries: r.entries,
                recompiled: r.recompiled,
            });
        }
        failures.sort_by(|a, b| a.0.cmp(&b.0));
        let mut errors: Vec<Error> = failures.into_iter().map(|(_, e)| e).collect();
        if errors.len() == 1 {
            return Err(errors.remove(0));
        } else if !errors.is_empty() {
            return Err(Error::Kernels(errors));
        }
        kernels.sort_by(|a, b| a.source.cmp(&b.source));

        let mut directives = Vec::new();
        let library = self.link_library(&out_root, &kernels, &mut directives)?;
        let module = out_root.join(format!("{}.rs", self.name));
        fsx::write_if_changed(&module, module::generate(&self.format, &plan.archs, &kernels)?.as_bytes())?;
        for p in dirs.iter().chain(&user_files) {
            directives.push(Directive::RerunIfChanged(path_str(p)?));
        }
        directives.extend(crate::emit::rerun_env(env));
        directives.extend(warnings.iter().map(|w| Directive::Warning(w.clone())));
        Ok(Compiled {
            archs: plan.archs,
            arch_source: plan.arch_source,
            kernels,
            module,
            library,
            warnings,
            directives,
        })
    }

    /// The crate's directory (relative paths start there) and where outputs go.
    fn locations(&self) -> Result<(PathBuf, PathBuf), Error> {
        let env = self.cuda.env();
        let base = env
            .cargo_var("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_default();
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

    /// Settles up-to-date jobs, then compiles the stale ones within the jobserver. A
    /// jobserver client (a helper thread reading cargo's pipe) exists only when two or
    /// more must run: a no-op build touches no token.
    fn run_jobs(
        &self,
        plan: &plan::Plan,
        base: &Path,
        jobs: &[Job],
        tally: &launcher::Tally,
    ) -> Result<Vec<Result<JobResult, Error>>, Error> {
        let env = self.cuda.env();
        let toolkit = self.cuda.toolkit();
        let ctx = JobCtx {
            nvcc: &toolkit.nvcc,
            launcher: plan.launcher.as_ref(),
            tally,
            common: &plan.common,
            key: plan.key,
            cwd: base,
            timeout: self.timeout,
            nvcc_env: &plan.nvcc_env,
            host_deps: plan.host_deps,
            includes: &plan.includes,
        };
        let mut results: Vec<Option<Result<JobResult, Error>>> = jobs.iter().map(|j| ctx.fresh(j).map(Ok)).collect();
        let stale: Vec<&Job> = jobs.iter().zip(&results).filter(|(_, r)| r.is_none()).map(|(j, _)| j).collect();
        if stale.is_empty() {
            return Ok(results.into_iter().flatten().collect());
        }
        // Output folders exist, and temps of killed builds (only those) are gone.
        let out_dirs: BTreeSet<&Path> = stale.iter().filter_map(|j| j.source.output.parent()).collect();
        for dir in out_dirs {
            fsx::create_dir_all(dir)?;
            fsx::remove_dead_temps(dir);
        }
        let limit = env.cargo_var("NUM_JOBS").and_then(|n| n.to_str()?.parse().ok());
        let client = if stale.len() > 1 { schedule::client(limit) } else { None };
        let mut compiled = schedule::run(&stale, client, &|job: &&Job| ctx.compile(job)).into_iter();
        for slot in results.iter_mut().filter(|r| r.is_none()) {
            *slot = compiled.next();
        }
        Ok(results.into_iter().flatten().collect())
    }

    /// The files nvcc read that belong to the crate (below it, its include dirs or kernel
    /// dirs), not to the toolkit: the rerun-if-changed lines.
    fn user_deps(&self, r: &JobResult, base: &Path, includes: &[PathBuf], dirs: &[PathBuf]) -> Vec<PathBuf> {
        let toolkit = self.cuda.toolkit();
        r.deps
            .iter()
            .map(|d| if d.is_absolute() { d.clone() } else { base.join(d) })
            .filter(|d| {
                let user = d.starts_with(base) || includes.iter().chain(dirs).any(|i| d.starts_with(i));
                let toolkit_header =
                    d.starts_with(&toolkit.root) || toolkit.include_dirs.iter().any(|i| d.starts_with(i));
                user && !toolkit_header
            })
            .collect()
    }

    /// For a static library: archives it (when an object changed) and says how to link it.
    fn link_library(
        &self,
        out_root: &Path,
        kernels: &[CompiledKernel],
        directives: &mut Vec<Directive>,
    ) -> Result<Option<PathBuf>, Error> {
        let Format::StaticLib(name) = &self.format else { return Ok(None) };
        let env = self.cuda.env();
        let lib = out_root.join(format!("lib{name}.a"));
        if kernels.iter().any(|k| k.recompiled) || !lib.is_file() {
            let objects: Vec<&Path> = kernels.iter().map(|k| k.output.as_path()).collect();
            job::archive(&lib, &objects, self.timeout)?;
        }
        directives.push(Directive::LinkSearch(path_str(out_root)?));
        directives.push(Directive::LinkLib { kind: "static".into(), name: name.clone() });
        directives.extend(self.cuda.runtime_directives(self.cudart, self.rpath)?);
        if env.target().map_or(cfg!(target_os = "linux"), |t| t.contains("linux")) {
            directives.push(Directive::LinkLib { kind: "dylib".into(), name: "stdc++".into() });
        }
        Ok(Some(lib))
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
