//! The probe: find every toolkit, inspect it, choose one, and say why.

use std::time::Duration;

use crate::check::{Check, Status};
use crate::choose::{choose, finish, inspect_all, Ctx};
use crate::driver::{self, Driver};
use crate::env::Env;
use crate::error::Error;
use crate::host::{self, HostCompiler};
use crate::toolkit::locate;
use crate::toolkit::{Search, Toolkit};
use crate::torch::{self, Libtorch};
use crate::version::VersionReq;
use crate::Cuda;

/// How long `nvcc --version` may take before it counts as hung.
pub const DEFAULT_TOOL_TIMEOUT: Duration = Duration::from_secs(60);

/// Finds the CUDA toolkit. Configure it, then call [`Probe::find`],
/// [`Probe::find_or_exit`], [`Probe::find_optional`] or [`Probe::report`].
///
/// ```no_run
/// // build.rs
/// let cuda = cuda_build::Probe::new().version_req(">=11.8, <14").find_or_exit();
/// cuda.emit_or_exit();
/// ```
#[derive(Clone, Debug)]
pub struct Probe {
    req: Option<String>,
    env: Env,
    timeout: Duration,
    libtorch: bool,
    allow_cpu_libtorch: bool,
    torch_sys: Option<String>,
}

impl Default for Probe {
    fn default() -> Self {
        Self::new()
    }
}

/// Everything a probe found: each candidate with its verdict, the checks, and the
/// chosen toolkit or the error. The doctor prints this, as text (`Display`) or JSON
/// ([`Report::to_json`]); a project's own tool prints the same:
///
/// ```no_run
/// let report = cuda_build::Probe::new().version_req(">=12").report();
/// println!("{report}"); // what `doctor` prints
/// println!("{}", report.to_json()); // what `doctor --json` prints
/// std::process::exit(if report.ok() { 0 } else { 1 });
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct Report {
    /// The search: range, places, candidates.
    pub search: Search,
    /// Findings, each ok / warn / error.
    pub checks: Vec<Check>,
    /// The chosen toolkit, or why there is none.
    pub result: Result<Toolkit, Error>,
    /// The host compiler nvcc would use (full reports only, when a toolkit was chosen).
    pub host_compiler: Option<HostCompiler>,
    /// The driver and GPUs seen (full reports probe nvidia-smi; builds read `/proc` only).
    pub driver: Driver,
    /// The libtorch found, when [`Probe::libtorch`] asked.
    pub libtorch: Option<Libtorch>,
    pub(crate) env: Env,
    /// The libtorch checks that failed (also in `checks`): with [`Probe::libtorch`], the build's error.
    pub(crate) libtorch_errors: Vec<Check>,
}

impl Probe {
    /// A probe of the process environment with no version range.
    #[must_use]
    pub fn new() -> Self {
        Probe {
            req: None,
            env: Env::from_process(),
            timeout: DEFAULT_TOOL_TIMEOUT,
            libtorch: false,
            allow_cpu_libtorch: false,
            torch_sys: None,
        }
    }

    /// Accept only toolkits in this range (`">=12.0, <14"`; a bare `"12.4"` is any 12.4.x).
    /// A range that does not parse is reported by the `find` methods.
    pub fn version_req(&mut self, range: &str) -> &mut Self {
        self.req = Some(range.to_owned());
        self
    }

    /// Probe this environment instead of the process's (tests, tools, sysroots).
    pub fn env(&mut self, env: Env) -> &mut Self {
        self.env = env;
        self
    }

    /// Check the toolkit against the libtorch this build links (tch-rs projects): found as
    /// torch-sys finds it, before the toolkit is chosen. Toolkits of another CUDA major than
    /// libtorch's are refused like an out-of-range version, so a compatible toolkit found
    /// elsewhere is chosen; a different minor is a warning, a CPU-only libtorch an error
    /// (see [`Probe::allow_cpu_libtorch`]).
    pub fn libtorch(&mut self, on: bool) -> &mut Self {
        self.libtorch = on;
        self
    }

    /// Accept a CPU-only libtorch (a warning instead of an error).
    pub fn allow_cpu_libtorch(&mut self, on: bool) -> &mut Self {
        self.allow_cpu_libtorch = on;
        self
    }

    /// The torch-sys version the crate depends on (`"0.18.1"`), to check torch's version
    /// against; by default read from the crate's Cargo.lock.
    pub fn torch_sys_version(&mut self, version: &str) -> &mut Self {
        self.torch_sys = Some(version.to_owned());
        self
    }

    /// How long nvcc and the host compiler may take to print their versions (default 60 s);
    /// nvidia-smi gets at most 10 s.
    pub fn tool_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.timeout = timeout;
        self
    }

    /// The toolkit, or an error that lists every candidate and the fix.
    ///
    /// # Errors
    /// An invalid range; an explicitly named toolkit that is unusable or out of range; no
    /// toolkit in range; with [`Probe::libtorch`], a libtorch whose CUDA does not fit.
    pub fn find(&self) -> Result<Cuda, Error> {
        let report = self.run(false);
        let toolkit = report.result?;
        // A failed libtorch rule stops the build, as PyTorch's cpp_extension raises.
        if !report.libtorch_errors.is_empty() {
            return Err(Error::Libtorch(report.libtorch_errors));
        }
        let warnings = report.checks.iter().filter(|c| c.status == Status::Warn).map(|c| c.message.clone()).collect();
        let mut cuda = Cuda::new(toolkit, report.env, warnings);
        cuda.set_libtorch(report.libtorch);
        Ok(cuda)
    }

    /// Like [`Probe::find`], but on failure prints the error as cargo error lines and
    /// exits the build script with status 1: a clear message, never a panic backtrace.
    pub fn find_or_exit(&self) -> Cuda {
        match self.find() {
            Ok(cuda) => cuda,
            Err(e) => crate::emit::exit_with_error(&self.env, &e),
        }
    }

    /// For crates that build without CUDA when it is missing: `None` after printing one
    /// warning saying why (plus the check-cfg and rerun lines, so `cfg(cuda)` is
    /// declared and installing a toolkit later re-runs the build script).
    pub fn find_optional(&self) -> Option<Cuda> {
        match self.find() {
            Ok(cuda) => Some(cuda),
            Err(e) => {
                crate::emit::print(&crate::emit::without_cuda(&self.env, &e));
                None
            }
        }
    }

    /// Runs the search and every check (host compiler, driver and GPUs) and returns
    /// everything it saw; never fails. This is what the doctor prints.
    pub fn report(&self) -> Report {
        self.run(true)
    }

    /// `full`: also ask the host compiler and nvidia-smi (the doctor); a build reads
    /// only `/proc` for the driver and leaves the host compiler to kernel compilation.
    fn run(&self, full: bool) -> Report {
        let env = self.env.clone();
        let required = match self.req.as_deref().map(VersionReq::parse).transpose() {
            Ok(r) => r,
            Err(e) => return Report::failed(env, Error::InvalidVersionReq(e)),
        };
        // libtorch first: its CUDA major refuses toolkits as the range does.
        let found_torch = self.libtorch.then(|| torch::find(&env, self.timeout));
        let torch_fit: Option<Libtorch> = match &found_torch {
            Some(Ok(Some(lt))) if lt.cuda.is_some() => Some(lt.clone()),
            _ => None,
        };
        let (search, result, mut checks) = self.search(&env, required, torch_fit, full);
        let driver =
            if full { driver::probe(&env, self.timeout.min(driver::NVIDIA_SMI_TIMEOUT)) } else { driver::quick(&env) };
        let mut host_compiler = None;
        if let Ok(t) = &result {
            if full {
                host_compiler = self.check_host(&env, t, &mut checks);
            }
            checks.extend(driver::checks(&driver, &t.version, None));
        }
        for note in &driver.notes {
            checks.push(Check::ok("driver-probe", note.clone()));
        }
        let (libtorch, torch_checks) = match found_torch {
            Some(found) => self.check_libtorch(&env, found, &result, &driver),
            None => (None, Vec::new()),
        };
        let libtorch_errors = torch_checks.iter().filter(|c| c.status == Status::Error).cloned().collect();
        checks.extend(torch_checks);
        Report { search, checks, result, host_compiler, driver, libtorch, env, libtorch_errors }
    }

    /// The toolkit search: locate, inspect, choose. A build with an explicit choice inspects
    /// only the explicit candidates (reading every other toolkit's cuda.h costs milliseconds on
    /// every build); the rest are inspected for the doctor, or when the explicit one fails and
    /// the error should name them.
    fn search(
        &self,
        env: &Env,
        required: Option<VersionReq>,
        torch_fit: Option<Libtorch>,
        full: bool,
    ) -> (Search, Result<Toolkit, Error>, Vec<Check>) {
        let (located, searched) = locate::locate(env);
        let (explicit, others): (Vec<_>, Vec<_>) = located.into_iter().partition(|(s, _)| s.is_explicit());
        let lazy = !full && !explicit.is_empty();
        let mut candidates = Vec::new();
        inspect_all(env, explicit, &mut candidates);
        let mut rest = Some(others);
        if !lazy {
            inspect_all(env, rest.take().unwrap_or_default(), &mut candidates);
        }
        let mut checks = Vec::new();
        let ctx = Ctx { env, timeout: self.timeout, libtorch: torch_fit.as_ref() };
        let mut chosen = choose(&mut candidates, required.as_ref(), ctx, &mut checks);
        if let (None, Some(others)) = (chosen, rest.take()) {
            inspect_all(env, others, &mut candidates);
            checks.clear(); // the second pass finds the same conflicts again
            chosen = choose(&mut candidates, required.as_ref(), ctx, &mut checks);
        }
        let search = Search { required, searched, candidates, libtorch: torch_fit.clone() };
        let result = match chosen {
            Some(i) => finish(&search.candidates[i], ctx, &mut checks),
            None => Err(Error::from(search.clone())),
        };
        let mut search = search;
        if let (Some(i), Ok(t)) = (chosen, &result) {
            search.candidates[i].version = Some(t.version);
        }
        match &result {
            Ok(t) => checks.insert(
                0,
                Check::ok("toolkit", format!("CUDA {} at {} (from {})", t.version, t.root.display(), t.source)),
            ),
            Err(e) => checks.insert(0, Check::error("toolkit", e.to_string())),
        }
        (search, result, checks)
    }

    /// The host compiler nvcc would use, as a finding (the doctor; a build checks it when
    /// kernels compile).
    fn check_host(&self, env: &Env, t: &Toolkit, checks: &mut Vec<Check>) -> Option<HostCompiler> {
        match host::select(env, t, None, false, self.timeout) {
            Ok(sel) => {
                let c = &sel.compiler;
                let line = format!(
                    "{} {} at {} (from {}){}",
                    c.kind,
                    c.version.map(|v| v.to_string()).unwrap_or_else(|| "?".into()),
                    c.path.display(),
                    c.source,
                    if c.supported { String::new() } else { " used with -allow-unsupported-compiler".into() }
                );
                checks.push(match &sel.warning {
                    Some(w) => Check::warn("host-compiler", w.clone()),
                    None if c.supported => Check::ok("host-compiler", line),
                    None => Check::warn("host-compiler", line),
                });
                Some(sel.compiler)
            }
            Err(e) => {
                let found = match &e {
                    host::HostError::Rejected(host::Rejection { found: Some(c), .. }) => Some((**c).clone()),
                    _ => None,
                };
                checks.push(Check::error("host-compiler", Error::from(e).to_string()));
                found
            }
        }
    }

    /// What the libtorch found (or not) means for this toolkit: `cpp_extension`'s rules.
    fn check_libtorch(
        &self,
        env: &Env,
        found: Result<Option<Libtorch>, torch::NotFound>,
        result: &Result<Toolkit, Error>,
        driver: &Driver,
    ) -> (Option<Libtorch>, Vec<Check>) {
        let mut checks = Vec::new();
        match found {
            Ok(Some(lt)) => {
                checks.push(Check::ok(
                    "libtorch",
                    format!(
                        "libtorch {} at {} (found by {})",
                        lt.version.as_deref().unwrap_or("?"),
                        lt.root.display(),
                        lt.rule
                    ),
                ));
                if let Ok(t) = result {
                    let sys = self.torch_sys.clone().or_else(|| torch::torch_sys_in_lockfile(env));
                    let bypass = env.get("LIBTORCH_BYPASS_VERSION_CHECK").is_some();
                    checks.extend(torch::checks(&lt, &t.version, self.allow_cpu_libtorch, sys.as_deref(), bypass));
                    checks.push(Check::ok("cuda-versions", versions_line(t, Some(&lt), driver)));
                }
                (Some(lt), checks)
            }
            Ok(None) => {
                checks.push(Check::warn(
                    "libtorch",
                    "no libtorch found: DEP_TCH_LIBTORCH_LIB, LIBTORCH_USE_PYTORCH and LIBTORCH are unset and there is no /usr/lib/libtorch.so (set LIBTORCH to libtorch's root, or LIBTORCH_USE_PYTORCH=1 to use python's torch)".into(),
                ));
                (None, checks)
            }
            Err(finding) => {
                checks.push(Check::error("libtorch", finding.to_string()));
                (None, checks)
            }
        }
    }
}

impl Report {
    fn failed(env: Env, error: Error) -> Self {
        let checks = vec![Check::error("toolkit", error.to_string())];
        Report {
            search: Search::default(),
            checks,
            result: Err(error),
            host_compiler: None,
            driver: Driver::default(),
            libtorch: None,
            env,
            libtorch_errors: Vec::new(),
        }
    }

    /// Whether a toolkit was chosen and no check is an error.
    pub fn ok(&self) -> bool {
        self.result.is_ok() && self.checks.iter().all(|c| c.status != Status::Error)
    }
}

/// The three CUDA versions, each labelled: they follow different rules and are often confused.
fn versions_line(t: &Toolkit, lt: Option<&Libtorch>, d: &Driver) -> String {
    let torch = match lt {
        Some(Libtorch { cuda: Some(c), .. }) => format!("libtorch built with CUDA {}.{}", c.major, c.minor),
        Some(l) if l.cuda_build => "libtorch: a CUDA build of unknown CUDA".into(),
        Some(_) => "libtorch CPU-only".into(),
        None => "no libtorch".into(),
    };
    let driver = match &d.version {
        Some(v) => format!("driver {v} (runs {})", driver::jit_ceiling(v)),
        None => "no driver seen".into(),
    };
    format!("toolkit (nvcc) CUDA {}; {torch}; {driver}", t.version)
}
