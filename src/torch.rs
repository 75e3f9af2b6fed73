//! libtorch, found as torch-sys finds it, and its CUDA checked against the toolkit's the
//! way `PyTorch`'s `cpp_extension` does: a different major is an error, a different minor a
//! warning, a CPU-only libtorch is an error when CUDA code is built for it.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::check::Check;
use crate::env::Env;
use crate::run::Cmd;
use crate::version::CudaVersion;

/// Which rule found libtorch.
///
/// ```no_run
/// let cuda = cuda_build::Probe::new().libtorch(true).find_or_exit();
/// let from_torch_sys = cuda.libtorch().is_some_and(|lt| matches!(lt.rule, cuda_build::LibtorchRule::DepTch));
/// println!("the libtorch torch-sys linked: {from_torch_sys}");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rule {
    /// `DEP_TCH_LIBTORCH_LIB`: what torch-sys linked, given to its direct dependents.
    DepTch,
    /// `LIBTORCH_USE_PYTORCH`: the torch package of this python.
    UsePytorch(PathBuf),
    /// `LIBTORCH` (with `LIBTORCH_INCLUDE` / `LIBTORCH_LIB`).
    Libtorch,
    /// `/usr/lib/libtorch.so` (a system package).
    System,
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rule::DepTch => f.write_str("DEP_TCH_LIBTORCH_LIB"),
            Rule::UsePytorch(py) => write!(f, "LIBTORCH_USE_PYTORCH ({})", py.display()),
            Rule::Libtorch => f.write_str("LIBTORCH"),
            Rule::System => f.write_str("/usr/lib/libtorch.so"),
        }
    }
}

/// A libtorch and what it was built with.
///
/// ```no_run
/// let cuda = cuda_build::Probe::new().libtorch(true).find_or_exit();
/// if let Some(lt) = cuda.libtorch() {
///     println!("libtorch {:?} (CUDA {:?}) found by {}", lt.version, lt.cuda, lt.rule);
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Libtorch {
    /// The root (`libtorch/`, or a wheel's `site-packages/torch/`).
    pub root: PathBuf,
    /// Its library directory.
    pub lib_dir: PathBuf,
    /// Its include directory.
    pub include_dir: PathBuf,
    /// torch's version without the local part (`2.5.1`).
    pub version: Option<String>,
    /// Whether it is a CUDA build (`libtorch_cuda`); false for a CPU-only build.
    pub cuda_build: bool,
    /// The CUDA it was built with; `None` for a CPU-only build or when no file says.
    pub cuda: Option<CudaVersion>,
    /// Which file told (`macros.h`, `build-version`, `version.py`, `library names`).
    pub source: String,
    /// Which rule found it.
    pub rule: Rule,
}

/// Why libtorch could not be found where the environment pointed: a finding, and with
/// [`crate::Probe::libtorch`] the build's error.
///
/// ```no_run
/// let report = cuda_build::Probe::new().libtorch(true).report();
/// for c in report.checks.iter().filter(|c| c.name == "libtorch") {
///     println!("{}", c.message); // a NotFound's text when LIBTORCH points at nothing
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotFound {
    /// `LIBTORCH_USE_PYTORCH` is set, but no python said where torch is: each one tried, and why.
    NoPython(Vec<String>),
    /// The rule that matched points at no library directory.
    NoLibraryDir {
        /// The rule that matched.
        rule: Rule,
        /// The directory that is missing.
        lib_dir: PathBuf,
    },
    /// The rule that matched points at a directory holding no libtorch.
    NotLibtorch {
        /// The directory.
        root: PathBuf,
        /// The rule that matched.
        rule: Rule,
    },
}

impl std::fmt::Display for NotFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotFound::NoPython(tried) => {
                write!(f, "LIBTORCH_USE_PYTORCH is set, but no python told where torch is: {}", tried.join("; "))
            }
            NotFound::NoLibraryDir { rule, lib_dir } => {
                write!(f, "libtorch found by {rule} has no library directory {}", lib_dir.display())
            }
            NotFound::NotLibtorch { root, rule } => write!(
                f,
                "{} (found by {rule}) holds no libtorch: no macros.h, build-version, version.py or libtorch library",
                root.display()
            ),
        }
    }
}

/// torch-sys's rules, with `DEP_TCH_LIBTORCH_LIB` (what torch-sys actually linked) first.
/// `Err` carries a finding: a python that is missing, hangs or prints garbage, a variable
/// naming nothing. `Ok(None)`: no rule matched.
pub(crate) fn find(env: &Env, timeout: Duration) -> Result<Option<Libtorch>, NotFound> {
    if let Some(lib) = env.get("DEP_TCH_LIBTORCH_LIB") {
        let lib = PathBuf::from(lib);
        let root = lib.parent().map(Path::to_path_buf).unwrap_or_else(|| lib.clone());
        return inspect(root.clone(), root.join("include"), lib, Rule::DepTch).map(Some);
    }
    if env.get("LIBTORCH_USE_PYTORCH").is_some() {
        let (python, dir) = ask_python(env, timeout)?;
        return inspect(dir.clone(), dir.join("include"), dir.join("lib"), Rule::UsePytorch(python)).map(Some);
    }
    if let Some(root) = env.get("LIBTORCH") {
        let root = PathBuf::from(root);
        let include = env.get("LIBTORCH_INCLUDE").map(PathBuf::from).unwrap_or_else(|| root.join("include"));
        let lib = env.get("LIBTORCH_LIB").map(PathBuf::from).unwrap_or_else(|| root.join("lib"));
        return inspect(root, include, lib, Rule::Libtorch).map(Some);
    }
    let system = env.system_path("/usr/lib/libtorch.so");
    if system.is_file() {
        let usr = env.system_path("/usr");
        return inspect(usr.clone(), usr.join("include"), usr.join("lib"), Rule::System).map(Some);
    }
    Ok(None)
}

/// Where `python3` (then `python`) has torch, located without importing it: importing
/// needs the CUDA libraries and takes seconds; the package's files say everything needed.
const FIND_TORCH: &str = "import importlib.util as u\ns = u.find_spec('torch')\nprint('CUDA_BUILD_TORCH_DIR=' + (s.submodule_search_locations[0] if s and s.submodule_search_locations else ''))";

/// The pythons to ask, in order: with `VIRTUAL_ENV` set, that environment's own python
/// first (a venv that is set but not first on `PATH`, e.g. in an IDE), then `python` and
/// `python3` on `PATH` (torch-sys runs `python` when `VIRTUAL_ENV` is set); else `python3`,
/// then `python`. `Err`: the name and why it is not there.
fn pythons(env: &Env) -> Vec<Result<PathBuf, String>> {
    let mut out = Vec::new();
    let on_path = |name: &str| env.which(name).ok_or_else(|| format!("{name}: not on PATH"));
    match env.get("VIRTUAL_ENV") {
        Some(venv) => {
            let venv = PathBuf::from(venv);
            let own =
                ["bin/python", "bin/python3", "Scripts/python.exe"].iter().map(|p| venv.join(p)).find(|p| p.is_file());
            out.push(own.ok_or_else(|| {
                format!("VIRTUAL_ENV={}: no bin/python, bin/python3 or Scripts/python.exe in it", venv.display())
            }));
            out.extend(["python", "python3"].map(on_path));
        }
        None => out.extend(["python3", "python"].map(on_path)),
    }
    let mut seen = Vec::new();
    out.retain(|p| match p {
        Ok(p) if seen.contains(p) => false,
        Ok(p) => {
            seen.push(p.clone());
            true
        }
        Err(_) => true,
    });
    out
}

fn ask_python(env: &Env, timeout: Duration) -> Result<(PathBuf, PathBuf), NotFound> {
    let mut tried = Vec::new();
    for python in pythons(env) {
        let python = match python {
            Ok(p) => p,
            Err(why) => {
                tried.push(why);
                continue;
            }
        };
        let mut cmd = Cmd::new(&python);
        cmd.arg("-c").arg(FIND_TORCH);
        for var in ["PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "CONDA_PREFIX"] {
            if let Some(v) = env.get(var) {
                cmd.envs.push((var.to_owned(), v));
            }
        }
        let out = match cmd.output(timeout) {
            Ok(o) => o,
            Err(e) => {
                tried.push(e.to_string());
                continue;
            }
        };
        let dir = out.stdout.lines().find_map(|l| l.strip_prefix("CUDA_BUILD_TORCH_DIR="));
        match dir {
            Some("") => {
                tried.push(format!("{} has no torch package (pip install torch, or set LIBTORCH)", python.display()))
            }
            Some(d) => return Ok((python, PathBuf::from(d.trim()))),
            None => tried.push(format!(
                "{} printed no answer (exit {}): {}",
                python.display(),
                out.status,
                format!("{}{}", out.stdout, out.stderr).trim().chars().take(300).collect::<String>()
            )),
        }
    }
    Err(NotFound::NoPython(tried))
}

fn inspect(root: PathBuf, include_dir: PathBuf, lib_dir: PathBuf, rule: Rule) -> Result<Libtorch, NotFound> {
    if !lib_dir.is_dir() {
        return Err(NotFound::NoLibraryDir { rule, lib_dir });
    }
    let read = |p: PathBuf| fs::read(p).ok().map(|b| String::from_utf8_lossy(&b).into_owned());
    let macros = read(include_dir.join("caffe2/core/macros.h"));
    let build_version = read(root.join("build-version"));
    let version_py = read(root.join("version.py"));
    let libs: Vec<String> = fs::read_dir(&lib_dir)
        .map(|rd| rd.flatten().filter_map(|e| e.file_name().into_string().ok()).collect())
        .unwrap_or_default();

    // torch's version: macros.h (>= 2.8), build-version, version.py.
    let version = macros
        .as_deref()
        .and_then(|m| macro_value(m, "TORCH_VERSION"))
        .or_else(|| build_version.as_deref().map(|b| b.trim().split('+').next().unwrap_or("").to_owned()))
        .or_else(|| {
            version_py
                .as_deref()
                .and_then(|v| py_value(v, "__version__"))
                .map(|v| v.split('+').next().unwrap_or("").to_owned())
        })
        .filter(|v| !v.is_empty());

    // Its CUDA, from the most reliable source present.
    // `USE_CUDA` is "ON" / "OFF" up to 2.14 and "1" from 2.15 (a CMake boolean either way).
    let from_macros = macros.as_deref().and_then(|m| {
        let cuda = || macro_value(m, "CUDA_VERSION").and_then(|v| CudaVersion::parse(&v).ok());
        match macro_value(m, "USE_CUDA").as_deref().and_then(cmake_bool) {
            Some(false) => Some(None),
            _ => cuda().map(Some),
        }
    });
    let from_build = build_version.as_deref().and_then(|b| local_cuda(b.trim()));
    let from_py = version_py.as_deref().and_then(|v| match py_value(v, "cuda").as_deref() {
        Some("None") => Some(None),
        Some(c) => CudaVersion::parse(c).ok().map(Some),
        None => None,
    });
    let has_cuda_lib = libs.iter().any(|l| l.starts_with("libtorch_cuda.") || l.starts_with("torch_cuda."));
    let any_torch_lib = libs.iter().any(|l| l.starts_with("libtorch") || l.starts_with("torch"));
    // A bundled libcudart.so.N / libcudart-<hash>.so.N gives the major only.
    let bundled_major: Option<u32> = libs
        .iter()
        .filter(|l| l.starts_with("libcudart"))
        .find_map(|l| l.rsplit(".so.").next()?.split('.').next()?.parse().ok());
    let from_libs = match (has_cuda_lib, bundled_major) {
        (true, Some(major)) => Some(Some(CudaVersion::new(major, 0))),
        (false, _) if any_torch_lib => Some(None),
        _ => None,
    };
    let found = [
        (from_macros, "macros.h"),
        (from_build, "build-version"),
        (from_py, "version.py"),
        (from_libs, "library names (major only)"),
    ]
    .into_iter()
    .find_map(|(v, s)| v.map(|v| (v, s)));
    let (cuda, source) = match found {
        Some((cuda, source)) => (cuda, source),
        // libtorch_cuda without any version source: a CUDA build of unknown CUDA.
        None if has_cuda_lib => (None, "library names (CUDA version unknown)"),
        None => return Err(NotFound::NotLibtorch { root, rule }),
    };
    let cuda_build = cuda.is_some() || has_cuda_lib;
    Ok(Libtorch { root, lib_dir, include_dir, version, cuda_build, cuda, source: source.to_owned(), rule })
}

/// `{"USE_CUDA", "ON"}` in caffe2/core/macros.h; from 2.15 some values are raw strings
/// (`{"CXX_COMPILER", R"PYT(/usr/bin/c++)PYT"}`).
pub(crate) fn macro_value(text: &str, key: &str) -> Option<String> {
    let pat = format!("{{\"{key}\",");
    let line = text.lines().find(|l| l.replace(' ', "").contains(&pat.replace(' ', "")))?;
    let after = line[line.find(&format!("\"{key}\""))? + key.len() + 2..].trim_start_matches([',', ' ']);
    if let Some(raw) = after.strip_prefix("R\"") {
        let (delim, body) = raw.split_once('(')?;
        return Some(body.split_once(&format!("){delim}\""))?.0.to_owned());
    }
    let start = after.find('"')? + 1;
    let end = start + after[start..].find('"')?;
    Some(after[start..end].to_owned())
}

/// A `CMake` boolean as macros.h records it: `ON`/`1`/`TRUE`/`YES`/`Y` or
/// `OFF`/`0`/`FALSE`/`NO`/`N`/empty/`*-NOTFOUND`; `None` for anything else.
fn cmake_bool(v: &str) -> Option<bool> {
    let u = v.trim().to_ascii_uppercase();
    match u.as_str() {
        "ON" | "1" | "TRUE" | "YES" | "Y" => Some(true),
        "OFF" | "0" | "FALSE" | "NO" | "N" | "" | "IGNORE" | "NOTFOUND" => Some(false),
        _ if u.ends_with("-NOTFOUND") => Some(false),
        _ => None,
    }
}

/// `cuda: Optional[str] = '12.4'`, `cuda = None`, `__version__ = '2.5.1+cu124'` in version.py.
pub(crate) fn py_value(text: &str, key: &str) -> Option<String> {
    for line in text.lines() {
        let Some(rest) = line.trim().strip_prefix(key) else { continue };
        let rest = rest.trim_start();
        let rest = if let Some(r) = rest.strip_prefix(':') { r.split_once('=')?.1 } else { rest.strip_prefix('=')? };
        let v = rest.trim().trim_matches(['\'', '"']);
        return Some(v.to_owned());
    }
    None
}

/// `2.8.0+cu129` -> Some(Some(12.9)); `2.8.0+cpu` -> Some(None).
pub(crate) fn local_cuda(version: &str) -> Option<Option<CudaVersion>> {
    let local = version.split_once('+')?.1;
    if local.starts_with("cpu") {
        return Some(None);
    }
    let digits = local.strip_prefix("cu")?;
    if digits.len() < 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (ma, mi) = digits.split_at(digits.len() - 1);
    Some(Some(CudaVersion::new(ma.parse().ok()?, mi.parse().ok()?)))
}

/// The `PyTorch` version each tch / torch-sys release expects: torch-sys's `TORCH_VERSION`
/// (sources in `docs/compatibility.md` section 6).
pub const TCH_EXPECTS: &[(&str, &str)] = &[
    ("0.17", "2.4.0"),
    ("0.18.0", "2.5.0"),
    ("0.18.1", "2.5.1"),
    ("0.19", "2.6.0"),
    ("0.20", "2.7.0"),
    ("0.22", "2.9.0"),
    ("0.23", "2.10.0"),
    ("0.24", "2.11.0"),
    ("0.26", "2.13.0"),
];

/// The `PyTorch` version a torch-sys version expects: exact row first, then major.minor.
#[must_use]
pub fn expected_torch(torch_sys: &str) -> Option<&'static str> {
    let mm: String = torch_sys.split('.').take(2).collect::<Vec<_>>().join(".");
    TCH_EXPECTS
        .iter()
        .find(|(t, _)| *t == torch_sys)
        .or_else(|| TCH_EXPECTS.iter().find(|(t, _)| *t == mm))
        .map(|(_, v)| *v)
}

/// torch-sys's version in the consumer's Cargo.lock (searched from the manifest dir up).
pub(crate) fn torch_sys_in_lockfile(env: &Env) -> Option<String> {
    let mut dir = PathBuf::from(env.cargo_var("CARGO_MANIFEST_DIR")?);
    loop {
        if let Ok(text) = fs::read_to_string(dir.join("Cargo.lock")) {
            let mut lines = text.lines();
            while let Some(l) = lines.next() {
                if l.trim() == "name = \"torch-sys\"" {
                    return lines.next()?.trim().strip_prefix("version = \"")?.strip_suffix('"').map(str::to_owned);
                }
            }
            return None;
        }
        if !dir.pop() {
            return None;
        }
    }
}

/// The rules of `PyTorch`'s `cpp_extension`, as findings.
pub(crate) fn checks(
    lt: &Libtorch,
    toolkit: &CudaVersion,
    allow_cpu: bool,
    torch_sys: Option<&str>,
    bypass: bool,
) -> Vec<Check> {
    let mut out = Vec::new();
    let version = lt.version.as_deref().unwrap_or("?");
    match &lt.cuda {
        None if lt.cuda_build => out.push(Check::warn(
            "libtorch-cuda",
            format!("libtorch {version} at {} is a CUDA build, but no file says which CUDA ({}): cannot compare it with CUDA {toolkit}", lt.root.display(), lt.source),
        )),
        None if allow_cpu => out.push(Check::warn(
            "libtorch-cuda",
            format!("libtorch {version} at {} is a CPU-only build: the CUDA code built here cannot run through it (allowed by the builder)", lt.root.display()),
        )),
        None => out.push(Check::error(
            "libtorch-cuda",
            format!(
                "libtorch {version} at {} (found by {}) is a CPU-only build, but CUDA code is being built for it\n  fix: use a CUDA build of libtorch (pip install torch, which is a CUDA build on Linux x86_64, with LIBTORCH_USE_PYTORCH=1; or a cuXXX libtorch archive in LIBTORCH), or allow it with Probe::allow_cpu_libtorch(true)",
                lt.root.display(),
                lt.rule
            ),
        )),
        Some(c) if c.major != toolkit.major => out.push(Check::error(
            "libtorch-cuda",
            format!(
                "libtorch {version} was built with CUDA {}.{} (from {}) but the toolkit is CUDA {toolkit}: code linked into libtorch needs the same CUDA major\n  fix: use a CUDA {}.x toolkit (set CUDA_PATH to it), or a libtorch built for CUDA {} (a torch whose version ends in +cu{}x)",
                c.major,
                c.minor,
                lt.source,
                c.major,
                toolkit.major,
                toolkit.major
            ),
        )),
        Some(c) if c.minor != toolkit.minor && !lt.source.contains("major only") => out.push(Check::warn(
            "libtorch-cuda",
            format!("libtorch {version} was built with CUDA {}.{} and the toolkit is CUDA {toolkit}: same major, different minor (PyTorch warns, and so do we)", c.major, c.minor),
        )),
        Some(c) => out.push(Check::ok("libtorch-cuda", format!("libtorch {version} was built with CUDA {}.{}; the toolkit is CUDA {toolkit}", c.major, c.minor))),
    }
    if let (Some(sys), Some(v)) = (torch_sys, lt.version.as_deref()) {
        if let Some(expected) = expected_torch(sys) {
            if v != expected {
                let status = if bypass {
                    "LIBTORCH_BYPASS_VERSION_CHECK is set, so torch-sys will not stop"
                } else {
                    "torch-sys will refuse it (LIBTORCH_BYPASS_VERSION_CHECK=1 skips its check)"
                };
                out.push(Check::warn(
                    "libtorch-version",
                    format!("torch-sys {sys} expects PyTorch {expected}, but libtorch is {v}: {status}"),
                ));
            } else {
                out.push(Check::ok(
                    "libtorch-version",
                    format!("torch-sys {sys} expects PyTorch {expected}: libtorch is {v}"),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_sources_parse() {
        let macros =
            "  {\"TORCH_VERSION\", \"2.11.0\"}, \\\n  {\"USE_CUDA\", \"ON\"}, \\\n  {\"CUDA_VERSION\", \"13.0\"}, \\\n";
        assert_eq!(macro_value(macros, "USE_CUDA").as_deref(), Some("ON"));
        assert_eq!(macro_value(macros, "CUDA_VERSION").as_deref(), Some("13.0"));
        assert_eq!(macro_value(macros, "CUDNN_VERSION"), None);
        let raw = "  {\"CXX_COMPILER\", R\"PYT(/opt/rh/c++)PYT\"}, \\\n  {\"USE_CUDA\", \"1\"}, \\\n";
        assert_eq!(macro_value(raw, "CXX_COMPILER").as_deref(), Some("/opt/rh/c++"));
        assert_eq!(macro_value(raw, "USE_CUDA").as_deref(), Some("1"));
        assert_eq!(cmake_bool("1"), Some(true));
        assert_eq!(cmake_bool("OFF"), Some(false));
        assert_eq!(cmake_bool(""), Some(false));
        assert_eq!(cmake_bool("CUDA-NOTFOUND"), Some(false));
        assert_eq!(cmake_bool("maybe"), None);
        let py = "__version__ = '2.5.1+cu124'\ndebug = False\ncuda: Optional[str] = '12.4'\n";
        assert_eq!(py_value(py, "cuda").as_deref(), Some("12.4"));
        assert_eq!(py_value(py, "__version__").as_deref(), Some("2.5.1+cu124"));
        assert_eq!(py_value("cuda = None\n", "cuda").as_deref(), Some("None"));
        assert_eq!(local_cuda("2.8.0+cu129"), Some(Some(CudaVersion::new(12, 9))));
        assert_eq!(local_cuda("2.8.0+cu130"), Some(Some(CudaVersion::new(13, 0))));
        assert_eq!(local_cuda("2.8.0+cpu"), Some(None));
        assert_eq!(local_cuda("2.8.0"), None);
        assert_eq!(local_cuda("2.8.0+rocm6.2"), None);
    }

    #[test]
    fn tch_pairs() {
        assert_eq!(expected_torch("0.18.1"), Some("2.5.1"));
        assert_eq!(expected_torch("0.18.0"), Some("2.5.0"));
        assert_eq!(expected_torch("0.24.0"), Some("2.11.0"));
        assert_eq!(expected_torch("0.21.0"), None);
    }
}
