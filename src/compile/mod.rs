//! Compiling a crate's bundled `.cu` kernels: one nvcc job per file, in parallel within
//! cargo's jobserver, incremental through nvcc's depfiles, outputs written atomically,
//! and a generated Rust module listing each kernel's image and entry names.

pub(crate) mod depfile;
pub(crate) mod entries;
pub(crate) mod launcher;
pub(crate) mod schedule;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, UNIX_EPOCH};

use crate::arch::{self, ArchList, Item, SpecSource, Supported};
use crate::emit::{path_str, Directive};
use crate::error::Error;
use crate::fsx;
use crate::run::Cmd;
use crate::{Cuda, Cudart};

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

/// The variables an arch spec is read from, in precedence order, with their syntax.
/// A parser for one spec syntax.
type SpecParser = fn(&str, &SpecSource) -> Result<Vec<Item>, Error>;

const ARCH_VARS: &[(&str, SpecParser)] = &[
    ("CUDAARCHS", arch::parse_cmake),
    ("CMAKE_CUDA_ARCHITECTURES", arch::parse_cmake),
    ("TORCH_CUDA_ARCH_LIST", arch::parse_torch),
    ("CUDA_COMPUTE_CAP", arch::parse_compute_cap),
];

/// Without any spec: SASS + PTX for `sm_75` (Turing, the oldest arch every CUDA 11-13
/// toolkit targets): it runs on every GPU since 2018, newer ones JIT-compiling the PTX.
pub const DEFAULT_ARCH: &str = "75";

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
    flags: Vec<String>,
    defines: Vec<(String, Option<String>)>,
    includes: Vec<PathBuf>,
    fast_math: bool,
    device_debug: bool,
    lineinfo: Option<bool>,
    name: String,
    cudart: Cudart,
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
            flags: Vec::new(),
            defines: Vec::new(),
            includes: Vec::new(),
            fast_math: false,
            device_debug: false,
            lineinfo: None,
            name: "kernels".into(),
            cudart: Cudart::Static,
            out_dir: None,
            timeout: Duration::from_secs(3600),
            host: None,
            allow_unsupported: false,
        }
    }
}

struct Job {
    source: PathBuf,
    output: PathBuf,
    ident: String,
    /// Previous duration (from the stamp) or source size: longest first.
    weight: f64,
    /// The stamp of the previous build, read once.
    stamp: Option<Stamp>,
}

struct JobResult {
    recompiled: bool,
    deps: Vec<PathBuf>,
    warnings: String,
    /// Entry names, read from the output once when it was compiled (kept in the stamp).
    entries: Vec<String>,
    /// The output is compressed and no names could be read.
    unreadable: bool,
}

impl<'a> Kernels<'a> {
    /// Every `.cu` file below `dir` (relative to the crate's `Cargo.toml`), recursively.
    pub fn dir(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.dirs.push(dir.into());
        self
    }
    /// One `.cu` file.
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
    /// How a static library links the CUDA runtime.
    pub fn cudart(&mut self, how: Cudart) -> &mut Self {
        self.cudart = how;
        self
    }
    /// The architecture spec, in `CMake`'s syntax (`"75;86"`, `"86-real"`, `"all-major"`);
    /// overrides every variable.
    pub fn arch(&mut self, spec: &str) -> &mut Self {
        self.arch = Some(spec.to_owned());
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
    /// # Errors
    /// A spec that does not parse or names an arch the toolkit lacks, no host compiler it
    /// accepts, no kernel sources, nvcc failing (its output verbatim), or an unwritable `OUT_DIR`.
    pub fn compile(&self) -> Result<Compiled, Error> {
        let env = self.cuda.env();
        let toolkit = self.cuda.toolkit();
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
        let out_dir = out_root.join(&self.name);
        fsx::create_dir_all(&out_dir)?;

        // Sources.
        let mut jobs = Vec::new();
        let mut watched_dirs = Vec::new();
        let mut searched = Vec::new();
        for dir in &self.dirs {
            let dir = base.join(dir);
            searched.push(dir.clone());
            let mut found = Vec::new();
            walk_cu(&dir, &mut found, 0);
            found.sort();
            for f in found {
                let rel = f.strip_prefix(&dir).unwrap_or(&f).to_path_buf();
                jobs.push(self.job(f, &rel, &out_dir));
            }
            watched_dirs.push(dir);
        }
        for file in &self.files {
            let f = base.join(file);
            searched.push(f.clone());
            if !f.is_file() {
                return Err(Error::NoKernels { searched: vec![f] });
            }
            let rel = PathBuf::from(f.file_name().unwrap_or_default());
            jobs.push(self.job(f, &rel, &out_dir));
        }
        if jobs.is_empty() {
            return Err(Error::NoKernels { searched });
        }

        // Architectures.
        let mut warnings = Vec::new();
        let (mut items, mut source, spec) = self.arch_spec()?;
        // The GPUs present: for `native`, and as the default when no spec is given.
        let wants_gpus = source == SpecSource::Default || items.contains(&Item::Native);
        let driver = if wants_gpus {
            crate::driver::probe(env, crate::driver::NVIDIA_SMI_TIMEOUT)
        } else {
            crate::driver::quick(env)
        };
        let gpus: Vec<arch::Arch> = driver.gpus.iter().filter_map(|g| g.compute_cap).collect();
        if source == SpecSource::Default && !gpus.is_empty() {
            items = vec![Item::Native];
            source = SpecSource::Native;
        }
        let supported = self.supported();
        let archs = arch::resolve(&items, &source, &spec, &supported, &gpus, &mut warnings)?;
        // The host compiler, chosen and checked before any nvcc runs.
        let allow =
            self.allow_unsupported || env.get("CUDA_BUILD_ALLOW_UNSUPPORTED_COMPILER").is_some_and(|v| v != "0");
        let host = crate::host::select(env, toolkit, self.host.as_deref(), allow, Duration::from_secs(60))?;
        warnings.extend(host.warning.clone());
        // What the outputs will hold: PTX is one virtual arch (the lowest requested, which
        // newer GPUs JIT), a cubin one real arch; fatbins and objects hold the whole list.
        let archs = match &self.format {
            Format::Ptx => {
                let lowest = archs.real.iter().chain(&archs.ptx).min().copied();
                ArchList { real: Vec::new(), ptx: lowest.into_iter().collect() }
            }
            Format::Cubin => {
                if archs.real.len() != 1 {
                    return Err(Error::CubinNeedsOneArch(archs.names()));
                }
                ArchList { real: archs.real.clone(), ptx: Vec::new() }
            }
            _ => archs,
        };
        for c in crate::driver::checks(&driver, &toolkit.version, Some(&archs)) {
            if c.status == crate::Status::Warn {
                warnings.push(c.message);
            }
        }
        let arch_flags = match &self.format {
            Format::Ptx => archs.ptx.iter().map(|a| format!("-arch=compute_{a}")).collect(),
            Format::Cubin => archs.real.iter().map(|a| format!("-arch=sm_{a}")).collect(),
            _ => archs.gencode(),
        };

        // Flags shared by every job; the key decides when outputs are stale.
        let mut common: Vec<String> = vec![self.format.flag().to_owned()];
        common.extend(arch_flags);
        if matches!(self.format, Format::StaticLib(_)) && !env.target().is_some_and(|t| t.contains("windows")) {
            common.extend(["-Xcompiler".into(), "-fPIC".into()]);
        }
        let debug = env.cargo_var("DEBUG").is_some_and(|d| d == "true");
        if self.device_debug {
            common.push("-G".into());
        } else if self.lineinfo.unwrap_or(debug) {
            common.push("-lineinfo".into());
        }
        if self.fast_math {
            common.push("--use_fast_math".into());
        }
        // Always explicit: NVCC_CCBIN is honoured by nvcc 13 only, and Debian's 11.8 picks
        // its own g++-N; the chosen compiler's path and version are part of the key.
        common.push("-ccbin".into());
        common.push(host.compiler.path.to_string_lossy().into_owned());
        if !host.compiler.supported {
            common.push("-allow-unsupported-compiler".into());
        }
        let includes: Vec<PathBuf> = self.includes.iter().map(|i| base.join(i)).collect();
        for i in &includes {
            common.push(format!("-I{}", i.display()));
        }
        for (k, v) in &self.defines {
            common.push(match v {
                Some(v) => format!("-D{k}={v}"),
                None => format!("-D{k}"),
            });
        }
        common.extend(self.flags.iter().cloned());
        // nvcc reads these itself: never passed twice, but they change the output.
        let prepend = env.get_str("NVCC_PREPEND_FLAGS").unwrap_or_default();
        let append = env.get_str("NVCC_APPEND_FLAGS").unwrap_or_default();
        let key = format!(
            "nvcc={}\nversion={}\nhost={:?}\nargs={:?}\nprepend={prepend:?}\nappend={append:?}",
            toolkit.nvcc.display(),
            toolkit.version,
            host.compiler.version.map(|v| v.to_string()),
            common
        );
        let launcher = launcher(env);

        // Longest first: previous durations, else source size.
        jobs.sort_by(|a, b| b.weight.total_cmp(&a.weight));
        let ctx = JobCtx {
            nvcc: &toolkit.nvcc,
            launcher: launcher.as_deref(),
            common: &common,
            key: &key,
            cwd: &base,
            timeout: self.timeout,
        };
        // Up-to-date jobs are settled here; only stale ones go to the scheduler, and a
        // jobserver client (a helper thread reading cargo's pipe) exists only when two or
        // more must run: a no-op build touches no token.
        let mut results: Vec<Option<Result<JobResult, Error>>> = jobs.iter().map(|j| ctx.fresh(j).map(Ok)).collect();
        let stale: Vec<&Job> = jobs.iter().zip(&results).filter(|(_, r)| r.is_none()).map(|(j, _)| j).collect();
        if !stale.is_empty() {
            let limit = env.cargo_var("NUM_JOBS").and_then(|n| n.to_str()?.parse().ok());
            let client = if stale.len() > 1 { schedule::client(limit) } else { None };
            let mut compiled = schedule::run(&stale, client, &|job: &&Job| ctx.compile(job)).into_iter();
            for slot in results.iter_mut().filter(|r| r.is_none()) {
                *slot = compiled.next();
            }
        }
        let results: Vec<Result<JobResult, Error>> = results.into_iter().flatten().collect();

        let mut kernels = Vec::new();
        let mut user_files: Vec<PathBuf> = Vec::new();
        let mut any_recompiled = false;
        for (job, result) in jobs.iter().zip(results) {
            let r = result?;
            any_recompiled |= r.recompiled;
            for line in r.warnings.lines().filter(|l| !l.trim().is_empty()) {
                warnings.push(format!("{}: {line}", job.source.display()));
            }
            user_files.push(job.source.clone());
            for dep in r.deps {
                let dep = if dep.is_absolute() { dep } else { base.join(dep) };
                let user = dep.starts_with(&base)
                    || includes.iter().any(|i| dep.starts_with(i))
                    || watched_dirs.iter().any(|d| dep.starts_with(d));
                let toolkit_header =
                    dep.starts_with(&toolkit.root) || toolkit.include_dirs.iter().any(|i| dep.starts_with(i));
                if user && !toolkit_header && !user_files.contains(&dep) {
                    user_files.push(dep);
                }
            }
            if r.unreadable {
                warnings.push(format!(
                    "{}: the output is compressed; entry names could not be read (ENTRIES is empty)",
                    job.source.display()
                ));
            }
            kernels.push(CompiledKernel {
                source: job.source.clone(),
                output: job.output.clone(),
                ident: job.ident.clone(),
                entries: r.entries,
                recompiled: r.recompiled,
            });
        }
        kernels.sort_by(|a, b| a.source.cmp(&b.source));

        let mut directives = Vec::new();
        let library = match &self.format {
            Format::StaticLib(name) => {
                let lib = out_root.join(format!("lib{name}.a"));
                if any_recompiled || !lib.is_file() {
                    archive(&lib, &kernels, self.timeout)?;
                }
                directives.push(Directive::LinkSearch(path_str(&out_root)?));
                directives.push(Directive::LinkLib { kind: "static".into(), name: name.clone() });
                let mut link = self.cuda.clone();
                link.link_cudart(self.cudart);
                directives.extend(link.link_directives()?);
                if env.target().map_or(cfg!(target_os = "linux"), |t| t.contains("linux")) {
                    directives.push(Directive::LinkLib { kind: "dylib".into(), name: "stdc++".into() });
                }
                Some(lib)
            }
            _ => None,
        };

        let module = out_root.join(format!("{}.rs", self.name));
        fsx::write_if_changed(&module, generated_module(&self.format, &archs, &kernels)?.as_bytes())?;

        let mut rerun: Vec<PathBuf> = watched_dirs;
        user_files.sort();
        rerun.extend(user_files);
        rerun.dedup();
        for p in &rerun {
            directives.push(Directive::RerunIfChanged(path_str(p)?));
        }
        directives.extend(crate::emit::rerun_env(env));
        directives.extend(warnings.iter().map(|w| Directive::Warning(w.clone())));
        Ok(Compiled { archs, arch_source: source, kernels, module, library, warnings, directives })
    }

    fn job(&self, source: PathBuf, rel: &Path, out_dir: &Path) -> Job {
        let output = out_dir.join(rel).with_extension(self.format.ext());
        let ident = ident_for(rel);
        let stamp = read_stamp(&stamp_path(&output));
        let weight = stamp.as_ref().map(|s| s.secs).unwrap_or_else(|| {
            // No history: bytes of source, scaled far below any measured duration.
            fs::metadata(&source).map(|m| m.len() as f64 * 1e-9).unwrap_or(0.0)
        });
        Job { source, output, ident, weight, stamp }
    }

    /// The spec and where it came from: builder, then the variables, then the default.
    fn arch_spec(&self) -> Result<(Vec<Item>, SpecSource, String), Error> {
        let env = self.cuda.env();
        if let Some(spec) = &self.arch {
            return Ok((arch::parse_cmake(spec, &SpecSource::Builder)?, SpecSource::Builder, spec.clone()));
        }
        for (var, parse) in ARCH_VARS {
            if let Some(spec) = env.get(var) {
                let spec = spec.to_string_lossy().into_owned();
                let source = SpecSource::Var((*var).to_owned());
                return Ok((parse(&spec, &source)?, source, spec));
            }
        }
        Ok((arch::parse_cmake(DEFAULT_ARCH, &SpecSource::Default)?, SpecSource::Default, DEFAULT_ARCH.into()))
    }

    /// The toolkit's architectures, asked of nvcc once and cached in `OUT_DIR`.
    fn supported(&self) -> Supported {
        let env = self.cuda.env();
        let t = self.cuda.toolkit();
        let cached = crate::cache::get(env, "--list-gpu-code", &t.nvcc);
        let text = cached.or_else(|| {
            let out = Cmd::new(&t.nvcc).arg("--list-gpu-code").success(Duration::from_secs(60)).ok()?;
            crate::cache::put(env, "--list-gpu-code", &t.nvcc, &out.stdout);
            Some(out.stdout)
        });
        text.and_then(|t2| Supported::from_list(&t2, t.version)).unwrap_or_else(|| Supported::from_table(t.version))
    }
}

struct JobCtx<'a> {
    nvcc: &'a Path,
    launcher: Option<&'a Path>,
    common: &'a [String],
    key: &'a str,
    cwd: &'a Path,
    timeout: Duration,
}

impl JobCtx<'_> {
    /// The result of an up-to-date job: same key, output present, every dependency unchanged.
    fn fresh(&self, job: &Job) -> Option<JobResult> {
        let s = job.stamp.as_ref()?;
        let unchanged = s.key == self.key
            && job.output.is_file()
            && s.deps.iter().all(|(p, sig)| file_sig(p).as_deref() == Some(sig));
        unchanged.then(|| JobResult {
            recompiled: false,
            deps: s.deps.iter().map(|(p, _)| p.clone()).collect(),
            warnings: String::new(),
            entries: s.entries.clone(),
            unreadable: s.unreadable,
        })
    }

    /// Runs nvcc for a stale job: temp outputs, renamed into place, then the stamp.
    fn compile(&self, job: &Job) -> Result<JobResult, Error> {
        let stamp = stamp_path(&job.output);
        if let Some(dir) = job.output.parent() {
            fsx::create_dir_all(dir)?;
        }
        // A build killed mid-nvcc leaves its temp files: never trusted, removed here.
        fsx::remove_stale_temps(&job.output);
        fsx::remove_stale_temps(&stamp);
        let tmp_out = fsx::temp_sibling(&job.output);
        let tmp_dep = fsx::temp_sibling(&job.output.with_extension("d"));
        let mut cmd = match self.launcher {
            Some(l) => {
                let mut c = Cmd::new(l);
                c.arg(self.nvcc);
                c
            }
            None => Cmd::new(self.nvcc),
        };
        for a in self.common {
            cmd.arg(a);
        }
        cmd.arg("-MD").arg("-MF").arg(&tmp_dep).arg("-o").arg(&tmp_out).arg(&job.source);
        cmd.cwd = Some(self.cwd.to_path_buf());
        let start = Instant::now();
        let result = cmd.output(self.timeout);
        let cleanup = || {
            let _ = fs::remove_file(&tmp_out);
            let _ = fs::remove_file(&tmp_dep);
        };
        let out = match result {
            Ok(o) => o,
            Err(e) => {
                cleanup();
                return Err(Error::Tool(e));
            }
        };
        let printed = format!("{}{}", out.stdout, out.stderr);
        if !out.status.success() || !tmp_out.is_file() {
            cleanup();
            return Err(Error::Nvcc {
                kernel: job.source.clone(),
                command: cmd.display(),
                status: out.status.to_string(),
                output: printed,
            });
        }
        let secs = start.elapsed().as_secs_f64();
        let deps: Vec<PathBuf> = fs::read_to_string(&tmp_dep)
            .map(|t| depfile::parse(&t))
            .unwrap_or_default()
            .into_iter()
            .map(|d| if d.is_absolute() { d } else { self.cwd.join(d) })
            .collect();
        let _ = fs::remove_file(&tmp_dep);
        fsx::rename(&tmp_out, &job.output)?;
        let mut all_deps = deps.clone();
        if !all_deps.contains(&job.source) {
            all_deps.push(job.source.clone());
        }
        let bytes = fs::read(&job.output).map_err(|e| Error::Io {
            action: "read",
            path: job.output.clone(),
            error: e.to_string(),
        })?;
        let found = entries::read(&bytes);
        let unreadable = found.unreadable && found.names.is_empty();
        let stamp_data = Stamp {
            key: self.key.to_owned(),
            secs,
            deps: all_deps.iter().map(|d| (d.clone(), String::new())).collect(),
            entries: found.names,
            unreadable,
        };
        write_stamp(&stamp, &stamp_data)?;
        Ok(JobResult { recompiled: true, deps, warnings: printed, entries: stamp_data.entries, unreadable })
    }
}

/// The launcher nvcc runs through: `CUDA_BUILD_LAUNCHER`, `CMAKE_CUDA_COMPILER_LAUNCHER`, or
/// `RUSTC_WRAPPER` when it is sccache (which caches nvcc too).
fn launcher(env: &crate::Env) -> Option<PathBuf> {
    if let Some(l) = env.get("CUDA_BUILD_LAUNCHER").or_else(|| env.get("CMAKE_CUDA_COMPILER_LAUNCHER")) {
        return Some(PathBuf::from(l));
    }
    let wrapper = PathBuf::from(env.get("RUSTC_WRAPPER")?);
    let name = wrapper.file_stem()?.to_str()?;
    (name == "sccache").then_some(wrapper)
}

fn walk_cu(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    if depth > 32 {
        return;
    }
    let Ok(rd) = fs::read_dir(dir) else { return };
    for entry in rd.flatten() {
        let p = entry.path();
        let Ok(ft) = entry.file_type() else { continue };
        if ft.is_dir() {
            walk_cu(&p, out, depth + 1);
        } else if p.extension().is_some_and(|e| e == "cu") {
            out.push(p);
        }
    }
}

/// A Rust identifier for a kernel's module: its path below the kernel dir, sanitised.
fn ident_for(rel: &Path) -> String {
    let stem = rel.with_extension("");
    let mut s: String = stem
        .to_string_lossy()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    const KEYWORDS: &[&str] = &[
        "as", "break", "const", "crate", "enum", "extern", "fn", "for", "if", "impl", "in", "let", "loop", "match",
        "mod", "move", "mut", "pub", "ref", "return", "self", "static", "struct", "super", "trait", "type", "unsafe",
        "use", "where", "while", "async", "await", "dyn", "try", "gen",
    ];
    if KEYWORDS.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

fn stamp_path(output: &Path) -> PathBuf {
    let mut name = output.file_name().unwrap_or_default().to_os_string();
    name.push(".stamp");
    output.with_file_name(name)
}

/// What a build recorded for one output: the exact command key, how long nvcc took,
/// every dependency with its signature, and the entry names read from the output.
struct Stamp {
    key: String,
    secs: f64,
    deps: Vec<(PathBuf, String)>,
    entries: Vec<String>,
    unreadable: bool,
}

const STAMP_HEADER: &str = "cuda-build-stamp 2";

/// `mtime.nanos size` of a file; `None` when it is gone.
fn file_sig(path: &Path) -> Option<String> {
    let m = fs::metadata(path).ok()?;
    let t = m.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
    Some(format!("{}.{:09} {}", t.as_secs(), t.subsec_nanos(), m.len()))
}

/// Writes `s`, taking each dependency's signature now (the `deps` signatures are ignored).
fn write_stamp(path: &Path, s: &Stamp) -> Result<(), Error> {
    use std::fmt::Write as _;
    let mut text = format!("{STAMP_HEADER}\nsecs {}\nkey {:?}\n", s.secs, s.key);
    if s.unreadable {
        text.push_str("unreadable\n");
    }
    for e in &s.entries {
        let _ = writeln!(text, "entry {e}");
    }
    for (d, _) in &s.deps {
        // A dependency that vanished or is unreadable makes the next build recompile.
        let sig = file_sig(d).unwrap_or_else(|| "missing".into());
        let _ = writeln!(text, "dep {sig} {}", d.display());
    }
    fsx::write_atomic(path, text.as_bytes())
}

fn read_stamp(path: &Path) -> Option<Stamp> {
    let text = fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    if lines.next()? != STAMP_HEADER {
        return None;
    }
    let secs = lines.next()?.strip_prefix("secs ")?.parse().ok()?;
    let key_line = lines.next()?.strip_prefix("key ")?;
    let (mut deps, mut entries, mut unreadable) = (Vec::new(), Vec::new(), false);
    for l in lines {
        if l == "unreadable" {
            unreadable = true;
        } else if let Some(e) = l.strip_prefix("entry ") {
            entries.push(e.to_owned());
        } else {
            let rest = l.strip_prefix("dep ")?;
            let mut parts = rest.splitn(3, ' ');
            let (mtime, size, p) = (parts.next()?, parts.next()?, parts.next()?);
            deps.push((PathBuf::from(p), format!("{mtime} {size}")));
        }
    }
    // The key was written with {:?}; compare in that form.
    Some(Stamp { key: unquote(key_line)?, secs, deps, entries, unreadable })
}

/// Inverse of `{:?}` for the strings we write (escapes `\n`, `\"`, `\\`, `\t`, `\r`, `\u{..}`).
fn unquote(s: &str) -> Option<String> {
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut it = inner.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next()? {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            '0' => out.push('\0'),
            'u' => {
                let hex: String = it.by_ref().skip(1).take_while(|&c| c != '}').collect();
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
            }
            c => out.push(c),
        }
    }
    Some(out)
}

fn archive(lib: &Path, kernels: &[CompiledKernel], timeout: Duration) -> Result<(), Error> {
    let ar = cc::Build::new()
        .cargo_metadata(false)
        .try_get_archiver()
        .map(|c| c.get_program().to_owned())
        .unwrap_or_else(|_| "ar".into());
    let tmp = fsx::temp_sibling(lib);
    let _ = fs::remove_file(&tmp);
    let mut cmd = Cmd::new(ar);
    cmd.arg("crs").arg(&tmp);
    for k in kernels {
        cmd.arg(&k.output);
    }
    cmd.success(timeout).map_err(Error::Tool)?;
    fsx::rename(&tmp, lib)
}

fn generated_module(format: &Format, archs: &ArchList, kernels: &[CompiledKernel]) -> Result<String, Error> {
    let mut s = String::from("// @generated by cuda-build: do not edit. Include with\n// include!(concat!(env!(\"OUT_DIR\"), \"/<name>.rs\"));\n\n");
    let fmt = match format {
        Format::Ptx => "ptx",
        Format::Cubin => "cubin",
        Format::Fatbin => "fatbin",
        Format::StaticLib(_) => "static-lib",
    };
    s.push_str(&format!(
        "/// What the kernels were compiled to.\n#[allow(dead_code)]\npub const FORMAT: &str = {fmt:?};\n"
    ));
    let names: Vec<String> = archs.names().iter().map(|n| format!("{n:?}")).collect();
    s.push_str(&format!("/// The architectures built (`sm_` = SASS, `compute_` = PTX).\n#[allow(dead_code)]\npub const ARCHS: &[&str] = &[{}];\n\n", names.join(", ")));
    for k in kernels {
        let src = path_str(&k.source)?;
        let out = path_str(&k.output)?;
        let entries: Vec<String> = k.entries.iter().map(|e| format!("{e:?}")).collect();
        s.push_str(&format!("/// Compiled from `{src}`.\n#[allow(dead_code)]\npub mod {} {{\n", k.ident));
        s.push_str(&format!("    /// The source file.\n    pub const SOURCE: &str = {src:?};\n"));
        if *format == Format::Ptx {
            s.push_str(&format!("    /// The PTX text (for `cuModuleLoadData` / cudarc's `Ptx::from_src`).\n    pub const PTX: &str = include_str!({out:?});\n"));
        }
        if !matches!(format, Format::StaticLib(_)) {
            s.push_str(&format!("    /// The image to load (`cuModuleLoadData`).\n    pub const IMAGE: &[u8] = include_bytes!({out:?});\n"));
        }
        s.push_str(&format!(
            "    /// `__global__` entry names, read from the compiled output (mangled unless `extern \"C\"`).\n    pub const ENTRIES: &[&str] = &[{}];\n}}\n\n",
            entries.join(", ")
        ));
    }
    if !matches!(format, Format::StaticLib(_)) {
        let all: Vec<String> = kernels.iter().map(|k| format!("({0:?}, {0}::IMAGE, {0}::ENTRIES)", k.ident)).collect();
        s.push_str(&format!("/// Every module: (name, image, entry names).\n#[allow(dead_code)]\npub const MODULES: &[(&str, &[u8], &[&str])] = &[{}];\n", all.join(", ")));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Env;

    #[test]
    fn launcher_precedence_and_sccache_wrapper() {
        let l =
            |vars: &[(&str, &str)]| launcher(&Env::from_vars(vars.iter().copied())).map(|p| p.display().to_string());
        assert_eq!(l(&[("RUSTC_WRAPPER", "/usr/bin/sccache")]).as_deref(), Some("/usr/bin/sccache"));
        assert_eq!(l(&[("RUSTC_WRAPPER", "/usr/bin/clippy-driver")]), None, "only sccache caches nvcc too");
        assert_eq!(
            l(&[("CMAKE_CUDA_COMPILER_LAUNCHER", "ccache"), ("RUSTC_WRAPPER", "sccache")]).as_deref(),
            Some("ccache")
        );
        assert_eq!(l(&[("CUDA_BUILD_LAUNCHER", "a"), ("CMAKE_CUDA_COMPILER_LAUNCHER", "b")]).as_deref(), Some("a"));
    }

    #[test]
    fn idents_are_valid_rust() {
        assert_eq!(ident_for(Path::new("vector_add.cu")), "vector_add");
        assert_eq!(ident_for(Path::new("sub/Soft-Max.cu")), "sub_soft_max");
        assert_eq!(ident_for(Path::new("2d.cu")), "_2d");
        assert_eq!(ident_for(Path::new("type.cu")), "type_");
    }

    #[test]
    fn stamps_round_trip_keys() {
        for key in ["plain", "with \"quotes\" and\nnewlines\tand \\ backslashes", "ünïcödé \u{1}"] {
            assert_eq!(unquote(&format!("{key:?}")).as_deref(), Some(key));
        }
    }
}
