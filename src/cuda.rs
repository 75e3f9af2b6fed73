//! The found toolkit, and what to tell cargo about it.

use std::fs;
use std::path::PathBuf;

use crate::compat;
use crate::emit::{self, path_str, Directive};
use crate::env::Env;
use crate::error::Error;
use crate::toolkit::Toolkit;
use crate::version::CudaVersion;

/// The variable [`Cuda::emit`] sets for the crate's own code: the chosen toolkit's full
/// version (`env!("CUDA_BUILD_CUDA_VERSION")` is `"13.5.37"`).
pub const VERSION_VAR: &str = "CUDA_BUILD_CUDA_VERSION";

/// How to link the CUDA runtime.
///
/// ```no_run
/// let mut cuda = cuda_build::Probe::new().find_or_exit();
/// // Static: nothing to find at run time (what a library crate should use).
/// cuda.link_cudart(cuda_build::Cudart::Static);
/// cuda.emit_or_exit();
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cudart {
    /// `libcudart_static.a` (plus `dl`, `rt`, `pthread` on Linux): nothing to find at run time.
    Static,
    /// `libcudart.so` / `cudart.lib`: the run-time loader must find it (see [`Cuda::rpath`];
    /// [`crate::Kernels::cudart`] adds the rpath itself). A library crate should link
    /// [`Cudart::Static`]: an rpath reaches only the package's own binaries (see [`Cuda::rpath`]).
    Shared,
}

#[derive(Clone, Debug)]
enum Link {
    Shared(String),
    Static(String),
    Cudart(Cudart),
    Driver,
}

/// A found toolkit plus the link requests of the build script. [`Cuda::emit`] prints
/// everything cargo needs: cfgs and their check-cfg, link lines, rerun-if lines.
///
/// ```no_run
/// let mut cuda = cuda_build::Probe::new().version_req(">=12").find_or_exit();
/// println!("cargo::warning=CUDA {} at {}", cuda.version(), cuda.toolkit().root.display());
/// cuda.link_cudart(cuda_build::Cudart::Static);
/// cuda.emit_or_exit();
/// ```
#[derive(Clone, Debug)]
pub struct Cuda {
    toolkit: Toolkit,
    env: Env,
    warnings: Vec<String>,
    links: Vec<Link>,
    rpath: bool,
    libtorch: Option<crate::torch::Libtorch>,
    libtorch_cuda: bool,
}

impl Cuda {
    pub(crate) fn new(toolkit: Toolkit, env: Env, warnings: Vec<String>) -> Self {
        Cuda { toolkit, env, warnings, links: Vec::new(), rpath: false, libtorch: None, libtorch_cuda: false }
    }

    /// The chosen toolkit.
    pub fn toolkit(&self) -> &Toolkit {
        &self.toolkit
    }

    pub(crate) fn set_libtorch(&mut self, lt: Option<crate::torch::Libtorch>) {
        self.libtorch = lt;
    }

    /// The libtorch found when [`crate::Probe::libtorch`] asked.
    pub fn libtorch(&self) -> Option<&crate::torch::Libtorch> {
        self.libtorch.as_ref()
    }

    /// Make binaries of this package really load `libtorch_cuda` at run time.
    ///
    /// The symptom it prevents: a CUDA libtorch is linked, yet `tch::Cuda::is_available()`
    /// is false, because the linker dropped `libtorch_cuda.so` (nothing references it
    /// directly and `--as-needed` is the default). This emits the library directory,
    /// `-Wl,--no-as-needed,-ltorch_cuda,--as-needed` and an rpath to that directory
    /// (cargo applies link args to this package's binaries, tests and examples).
    pub fn link_libtorch_cuda(&mut self) -> &mut Self {
        self.libtorch_cuda = true;
        self
    }

    /// The toolkit's version.
    pub fn version(&self) -> CudaVersion {
        self.toolkit.version
    }

    /// The environment the probe read (variables are recorded for `rerun-if-env-changed`).
    pub fn env(&self) -> &Env {
        &self.env
    }

    /// Link the CUDA runtime, statically or shared.
    pub fn link_cudart(&mut self, how: Cudart) -> &mut Self {
        self.links.push(Link::Cudart(how));
        self
    }

    /// Link a toolkit library by name, shared (`"cublas"`, `"nvrtc"`, `"cufft"`).
    ///
    /// ```no_run
    /// let mut cuda = cuda_build::Probe::new().find_or_exit();
    /// cuda.link_cudart(cuda_build::Cudart::Shared).link_lib("cublas").rpath(true).emit_or_exit();
    /// ```
    /// Where only a versioned file exists (the wheels' `libcublas.so.13`), that exact file is linked.
    pub fn link_lib(&mut self, name: &str) -> &mut Self {
        self.links.push(Link::Shared(name.to_owned()));
        self
    }

    /// Link a toolkit library statically (`"cudadevrt"`, `"cublas_static"`).
    pub fn link_static(&mut self, name: &str) -> &mut Self {
        self.links.push(Link::Static(name.to_owned()));
        self
    }

    /// Link the driver library `cuda` through the toolkit's stub, for linking only:
    /// the stub directory never goes on the run-time path, the real driver's
    /// `libcuda.so.1` is found by the loader on the machine that runs the program.
    pub fn link_driver(&mut self) -> &mut Self {
        self.links.push(Link::Driver);
        self
    }

    /// Add `-Wl,-rpath` for the directories of linked shared libraries, so binaries of
    /// this package start without `LD_LIBRARY_PATH`. Cargo applies link args from a build
    /// script to the package's own binaries, tests and examples only.
    ///
    /// A LIBRARY crate therefore cannot give its dependents' binaries a path to a shared
    /// cudart: it should link [`Cudart::Static`] (the default of [`crate::Kernels`]). If it
    /// must be shared, each binary crate's own `build.rs` adds the rpath with the same two
    /// calls (the runtime is the same library, linked once):
    /// ```no_run
    /// // build.rs of the binary crate that depends on the library crate
    /// let mut cuda = cuda_build::Probe::new().find_or_exit();
    /// cuda.link_cudart(cuda_build::Cudart::Shared).rpath(true).emit_or_exit();
    /// ```
    pub fn rpath(&mut self, on: bool) -> &mut Self {
        self.rpath = on;
        self
    }

    /// Everything to tell cargo, in a fixed order: cfgs, the crate's `CUDA_BUILD_CUDA_VERSION`
    /// ([`VERSION_VAR`]), check-cfgs, link search, link libraries, link args,
    /// rerun-if-changed, rerun-if-env-changed, warnings.
    ///
    /// # Errors
    /// A library asked for is in none of the toolkit's library directories, or a path is not UTF-8.
    pub fn directives(&self) -> Result<Vec<Directive>, Error> {
        let v = self.toolkit.version;
        let mut out = vec![
            Directive::Cfg { name: "cuda".into(), value: None },
            Directive::Cfg { name: "cuda_version".into(), value: Some(format!("{}.{}", v.major, v.minor)) },
        ];
        out.extend(
            compat::releases_up_to(&v)
                .into_iter()
                .map(|(ma, mi)| Directive::Cfg { name: format!("cuda_ge_{ma}_{mi}"), value: None }),
        );
        // The full version for code (`env!("CUDA_BUILD_CUDA_VERSION")`: "13.5.37"); cfgs carry X.Y.
        out.push(Directive::RustcEnv { name: VERSION_VAR.into(), value: v.to_string() });
        out.extend(emit::check_cfgs(Some((v.major, v.minor))));
        out.extend(self.link_directives()?);
        let mut watched = self.toolkit.watched_files.clone();
        watched.sort();
        watched.dedup();
        for f in &watched {
            out.push(Directive::RerunIfChanged(path_str(f)?));
        }
        out.extend(emit::rerun_env(&self.env));
        out.extend(self.warnings.iter().map(|w| Directive::Warning(w.clone())));
        Ok(out)
    }

    /// Link search paths, libraries and link args for the requested links.
    pub(crate) fn link_directives(&self) -> Result<Vec<Directive>, Error> {
        let mut out = Vec::new();

        let mut search: Vec<PathBuf> = self.toolkit.lib_dirs.clone();
        let mut libs = Vec::new();
        let mut rpath_dirs: Vec<PathBuf> = Vec::new();
        let windows = self.env.target().is_some_and(|t| t.contains("windows"));
        for link in &self.links {
            match link {
                Link::Cudart(Cudart::Static) => {
                    libs.push(self.find_static("cudart_static")?);
                    if !windows {
                        for sys in ["dl", "rt", "pthread"] {
                            libs.push(Directive::LinkLib { kind: "dylib".into(), name: sys.into() });
                        }
                    }
                }
                Link::Cudart(Cudart::Shared) => libs.push(self.find_shared("cudart", &mut rpath_dirs)?),
                Link::Shared(name) => libs.push(self.find_shared(name, &mut rpath_dirs)?),
                Link::Static(name) => libs.push(self.find_static(name)?),
                Link::Driver => {
                    if let Some(stubs) = &self.toolkit.stubs_dir {
                        search.push(stubs.clone());
                    }
                    libs.push(Directive::LinkLib { kind: "dylib".into(), name: "cuda".into() });
                }
            }
        }
        for dir in dedup(search) {
            out.push(Directive::LinkSearch(path_str(&dir)?));
        }
        out.extend(dedup(libs));
        if let (true, Some(lt)) = (self.libtorch_cuda, &self.libtorch) {
            let dir = path_str(&lt.lib_dir)?;
            out.push(Directive::LinkSearch(dir.clone()));
            out.push(Directive::LinkArg("-Wl,--no-as-needed,-ltorch_cuda,--as-needed".into()));
            out.push(Directive::LinkArg(format!("-Wl,-rpath,{dir}")));
        }
        if self.rpath {
            for dir in dedup(rpath_dirs) {
                out.push(Directive::LinkArg(format!("-Wl,-rpath,{}", path_str(&dir)?)));
            }
        }
        Ok(dedup(out))
    }

    /// The link lines of a kernels' static library's runtime: only the runtime (not the
    /// build script's other links), with an rpath for a shared one when `rpath` is on.
    pub(crate) fn runtime_directives(&self, how: Cudart, rpath: bool) -> Result<Vec<Directive>, Error> {
        let mut only = self.clone();
        only.links = vec![Link::Cudart(how)];
        only.libtorch_cuda = false;
        only.rpath = rpath;
        only.link_directives()
    }

    /// Prints [`Cuda::directives`]; returns the error without printing it, for a build
    /// script that decides itself (most call [`Cuda::emit_or_exit`]).
    ///
    /// # Errors
    /// As [`Cuda::directives`].
    pub fn emit(&self) -> Result<(), Error> {
        emit::print(&self.directives()?);
        Ok(())
    }

    /// Prints [`Cuda::directives`]; on error prints it as a cargo error and exits with status 1.
    pub fn emit_or_exit(&self) {
        if let Err(e) = self.emit() {
            emit::exit_with_error(&self.env, &e);
        }
    }

    fn lib_files(&self) -> Vec<(PathBuf, String)> {
        let mut files = Vec::new();
        for dir in &self.toolkit.lib_dirs {
            let Ok(rd) = fs::read_dir(dir) else { continue };
            let mut names: Vec<String> = rd.flatten().filter_map(|e| e.file_name().into_string().ok()).collect();
            names.sort();
            files.extend(names.into_iter().map(|n| (dir.clone(), n)));
        }
        files
    }

    fn not_found(&self, name: &str) -> Error {
        Error::LibraryNotFound { name: name.to_owned(), searched: self.toolkit.lib_dirs.clone() }
    }

    fn find_static(&self, name: &str) -> Result<Directive, Error> {
        let wanted = [format!("lib{name}.a"), format!("{name}.lib")];
        if self.lib_files().iter().any(|(_, f)| wanted.contains(f)) {
            Ok(Directive::LinkLib { kind: "static".into(), name: name.to_owned() })
        } else {
            Err(self.not_found(name))
        }
    }

    fn find_shared(&self, name: &str, rpath_dirs: &mut Vec<PathBuf>) -> Result<Directive, Error> {
        let files = self.lib_files();
        let plain = [format!("lib{name}.so"), format!("{name}.lib"), format!("lib{name}.dylib")];
        if let Some((dir, _)) = files.iter().find(|(_, f)| plain.contains(f)) {
            rpath_dirs.push(dir.clone());
            return Ok(Directive::LinkLib { kind: "dylib".into(), name: name.to_owned() });
        }
        // Only `lib<name>.so.<N>` (NVIDIA's wheels): link that exact file, so the linker
        // cannot pick another toolkit's unversioned lib<name>.so from a system directory.
        let prefix = format!("lib{name}.so.");
        let versioned = files
            .iter()
            .filter(|(_, f)| {
                f.strip_prefix(&prefix)
                    .is_some_and(|rest| rest.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())))
            })
            .min_by_key(|(_, f)| f.len());
        match versioned {
            Some((dir, file)) => {
                rpath_dirs.push(dir.clone());
                Ok(Directive::LinkLib { kind: "dylib:+verbatim".into(), name: file.clone() })
            }
            None => Err(self.not_found(name)),
        }
    }
}

fn dedup<T: PartialEq>(items: Vec<T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}
