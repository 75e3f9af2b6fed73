//! The host C++ compiler nvcc uses: which one, its version, and whether this toolkit
//! accepts it. When the default is too new and an older supported one is installed
//! (`g++-11`, `clang++-17`, ...), that one is chosen, with a warning.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::compat;
use crate::env::Env;
use crate::run::Cmd;
use crate::run::{ToolError, ToolProblem};
use crate::toolkit::Toolkit;
use crate::version::CudaVersion;

/// The family of a host compiler, as nvcc's `host_config.h` tells them apart.
///
/// ```no_run
/// let report = cuda_build::Probe::new().report();
/// let gcc = report.host_compiler.as_ref().is_some_and(|h| h.kind == cuda_build::HostKind::Gcc);
/// println!("host compiler is gcc: {gcc}");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostKind {
    /// GNU g++.
    Gcc,
    /// LLVM clang++ (Apple clang is never version-checked by nvcc).
    Clang,
    /// Apple's clang.
    AppleClang,
    /// Intel oneAPI icpx / classic icc.
    Intel,
    /// NVIDIA HPC nvc++.
    Nvhpc,
    /// Anything else.
    Unknown,
}

impl fmt::Display for HostKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HostKind::Gcc => "gcc",
            HostKind::Clang => "clang",
            HostKind::AppleClang => "apple-clang",
            HostKind::Intel => "intel",
            HostKind::Nvhpc => "nvhpc",
            HostKind::Unknown => "unknown",
        })
    }
}

/// A host compiler and nvcc's verdict on it.
///
/// ```no_run
/// let report = cuda_build::Probe::new().report();
/// if let Some(host) = &report.host_compiler {
///     println!("{} {} ({})", host.kind, host.path.display(), if host.supported { "supported" } else { "too new" });
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HostCompiler {
    /// The program, as given or found on PATH.
    pub path: PathBuf,
    /// Its family.
    pub kind: HostKind,
    /// Its version (`12.2.0`).
    pub version: Option<HostVersion>,
    /// Where the choice came from (`NVCC_CCBIN`, `CUDAHOSTCXX`, `Kernels::host_compiler`, `CXX`, `PATH`).
    pub source: String,
    /// Whether this toolkit accepts it (nvcc's `host_config.h` limits).
    pub supported: bool,
    /// The newest major of this family the toolkit accepts, when known.
    pub newest_supported: Option<u32>,
}

/// A host compiler's version (`12.2.0`, `18.1.3`): its own type, not a CUDA version.
///
/// ```no_run
/// let report = cuda_build::Probe::new().report();
/// let version: Option<cuda_build::HostVersion> = report.host_compiler.and_then(|h| h.version);
/// if version.is_some_and(|v| v.major >= 13) {
///     println!("cargo::warning=a host compiler from 2023 or later");
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub struct HostVersion {
    /// `12` in 12.2.0.
    pub major: u32,
    /// `2` in 12.2.0.
    pub minor: u32,
    /// `0` in 12.2.0, when given.
    pub patch: Option<u32>,
}

impl std::fmt::Display for HostVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.patch {
            Some(p) => write!(f, "{}.{}.{p}", self.major, self.minor),
            None => write!(f, "{}.{}", self.major, self.minor),
        }
    }
}

/// No host compiler this toolkit accepts, found before nvcc runs: what was found (if
/// anything), what is wrong, and the exact fix. [`crate::Error::HostCompiler`] wraps it.
///
/// ```no_run
/// let cuda = cuda_build::Probe::new().find_or_exit();
/// if let Err(cuda_build::Error::HostCompiler(r)) = cuda.kernels().dir("kernels").compile() {
///     println!("{}: {}", r.problem, r.fix);
/// }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct Rejection {
    /// The toolkit's version.
    pub toolkit: CudaVersion,
    /// The compiler found, if any.
    pub found: Option<Box<HostCompiler>>,
    /// What is wrong.
    pub problem: String,
    /// The exact fix.
    pub fix: String,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no host C++ compiler that CUDA {} accepts: {}\n  fix: {}", self.toolkit, self.problem, self.fix)
    }
}

/// What choosing a host compiler can fail with.
#[derive(Debug)]
pub(crate) enum HostError {
    Rejected(Rejection),
    /// A compiler's `--version` could not be run.
    Tool(ToolError),
}

/// Parses `--version` output of gcc, clang, Apple clang, icpx, nvc++.
pub fn parse_version_output(text: &str) -> (HostKind, Option<HostVersion>) {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    let version_after = |marker: &str| -> Option<HostVersion> {
        let rest = &first[first.find(marker)? + marker.len()..];
        rest.split_whitespace().find_map(version_token)
    };
    if first.contains("clang version") {
        let kind = if first.starts_with("Apple") { HostKind::AppleClang } else { HostKind::Clang };
        return (kind, version_after("clang version"));
    }
    if first.contains("oneAPI") || first.starts_with("icpx") || first.starts_with("icpc") || first.starts_with("icc") {
        return (HostKind::Intel, first.split_whitespace().find_map(version_token));
    }
    if first.starts_with("nvc++") || first.starts_with("pgc++") {
        return (HostKind::Nvhpc, first.split_whitespace().find_map(version_token));
    }
    if text.contains("Free Software Foundation")
        || first.contains("GCC")
        || first.contains("gcc")
        || first.contains("g++")
    {
        // `g++ (Debian 12.2.0-14+deb12u1) 12.2.0`, `g++ (GCC) 13.2.1 20230801`: the version
        // follows the first `)`.
        let tail = first.find(')').map_or(first, |i| &first[i + 1..]);
        return (HostKind::Gcc, tail.split_whitespace().find_map(version_token));
    }
    (HostKind::Unknown, None)
}

/// `12.2.0` / `14.0.6` / `18.1.3` (not a date like `20230801`).
fn version_token(w: &str) -> Option<HostVersion> {
    let w = w.trim_matches(|c: char| !c.is_ascii_digit());
    if !w.contains('.') {
        return None;
    }
    let core = w.split(['-', '+', '~']).next()?;
    let mut parts = core.split('.').map(|p| p.parse::<u32>());
    let (major, minor) = (parts.next()?.ok()?, parts.next()?.ok()?);
    let patch = match parts.next() {
        Some(p) => Some(p.ok()?),
        None => None,
    };
    parts.next().is_none().then_some(HostVersion { major, minor, patch })
}

/// The newest `(gcc, clang)` majors nvcc `toolkit` accepts: the table, else (a toolkit
/// newer than it) the toolkit's own `crt/host_config.h`.
pub(crate) fn limits(toolkit: &Toolkit) -> Option<(u32, u32, &'static str)> {
    if let Some(row) = compat::host_limits(&toolkit.version) {
        return Some((row.gcc_max, row.clang_max, "cuda-build's table"));
    }
    let header = toolkit.include_dirs.iter().map(|d| d.join("crt/host_config.h")).find(|p| p.is_file())?;
    let text = std::fs::read_to_string(header).ok()?;
    let limits = parse_host_config(&text)?;
    Some((limits.gcc_max, limits.clang_max, "the toolkit's crt/host_config.h"))
}

/// What a toolkit's `crt/host_config.h` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderLimits {
    /// From `#if __GNUC__ > N`: newest gcc major N.
    pub gcc_max: u32,
    /// From `#if (__clang_major__ >= M) ...`: newest clang major M-1.
    pub clang_max: u32,
    /// From `#if _MSC_VER < A || _MSC_VER >= B`: accepted `A..=B-1`.
    pub msvc: Option<(u32, u32)>,
}

/// Reads the limits from `crt/host_config.h`: the `#if` lines, not the error text, which
/// lags in some releases (12.2.128-12.3 say "less than 16" while testing `>= 17`).
pub fn parse_host_config(text: &str) -> Option<HeaderLimits> {
    let number_after = |line: &str, marker: &str| -> Option<u32> {
        let rest = &line[line.find(marker)? + marker.len()..];
        let digits: String = rest.trim_start().chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    };
    let (mut gcc, mut clang, mut msvc) = (None, None, None);
    // Blocks for other clang flavours (Horizon, Grace) have their own bounds: skip them.
    let special = |l: &str| {
        ["__HORIZON__", "__GRCO_CLANG_COMPILER__"]
            .iter()
            .any(|m| l.contains(&format!("defined({m})")) && !l.contains(&format!("!defined({m})")))
    };
    let mut skipping: Vec<bool> = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with("#endif") {
            skipping.pop();
            continue;
        }
        if !line.starts_with("#if") {
            continue;
        }
        let skip = skipping.last().copied().unwrap_or(false) || special(line);
        skipping.push(skip);
        if skip {
            continue;
        }
        if gcc.is_none() {
            gcc = number_after(line, "__GNUC__ >");
        }
        if clang.is_none() {
            clang = number_after(line, "__clang_major__ >=").and_then(|m| m.checked_sub(1));
        }
        if msvc.is_none() {
            if let (Some(lo), Some(hi)) = (number_after(line, "_MSC_VER <"), number_after(line, "_MSC_VER >=")) {
                msvc = Some((lo, hi.saturating_sub(1)));
            }
        }
    }
    Some(HeaderLimits { gcc_max: gcc?, clang_max: clang?, msvc })
}

/// Asks `program --version` and judges it against the toolkit.
fn inspect(
    env: &Env,
    program: &Path,
    source: &str,
    toolkit: &Toolkit,
    timeout: Duration,
) -> Result<HostCompiler, HostError> {
    let text = crate::cache::get_or(env, "host --version", program, || {
        let out = Cmd::new(program).arg("--version").output(timeout).map_err(HostError::Tool)?;
        Ok(format!("{}\n{}", out.stdout, out.stderr))
    })?;
    let (kind, version) = parse_version_output(&text);
    let limits = limits(toolkit);
    let newest_supported = match (kind, limits) {
        (HostKind::Gcc, Some((g, _, _))) => Some(g),
        (HostKind::Clang, Some((_, c, _))) => Some(c),
        _ => None,
    };
    let supported = match (kind, version, newest_supported) {
        (HostKind::AppleClang, _, _) => true,
        (_, Some(v), Some(max)) => v.major <= max,
        // Intel classic is refused outright from CUDA 13 (before the bypassable checks).
        (HostKind::Intel, _, _) => toolkit.version.major < 13,
        // A family or version nvcc's header does not check, or limits unknown: let nvcc judge.
        _ => true,
    };
    Ok(HostCompiler {
        path: program.to_path_buf(),
        kind,
        version,
        source: source.to_owned(),
        supported,
        newest_supported,
    })
}

/// What [`select`] decided.
#[derive(Clone, Debug)]
pub(crate) struct Selection {
    pub compiler: HostCompiler,
    /// A warning to show (an older compiler replaced the default).
    pub warning: Option<String>,
}

/// Chooses the host compiler: `NVCC_CCBIN`, `CUDAHOSTCXX`, the builder's, cc's `CXX` for
/// the target, else `g++`/`c++`/`clang++` on PATH. A compiler named by the first three is
/// final; a default that is too new is replaced by the newest supported `g++-N`/`clang++-N`
/// on PATH. With `allow_unsupported` (or `CUDA_BUILD_ALLOW_UNSUPPORTED_COMPILER`), an
/// unsupported compiler is used as is.
pub(crate) fn select(
    env: &Env,
    toolkit: &Toolkit,
    builder: Option<&Path>,
    allow_unsupported: bool,
    timeout: Duration,
) -> Result<Selection, HostError> {
    // The builder's choice, or the variable (read here, so every caller honours it alike).
    let allow_unsupported =
        allow_unsupported || env.get("CUDA_BUILD_ALLOW_UNSUPPORTED_COMPILER").is_some_and(|v| v != "0");
    let explicit = env
        .get("NVCC_CCBIN")
        .map(|v| (PathBuf::from(v), "NVCC_CCBIN"))
        .or_else(|| env.get("CUDAHOSTCXX").map(|v| (PathBuf::from(v), "CUDAHOSTCXX")))
        .or_else(|| builder.map(|b| (b.to_path_buf(), "Kernels::host_compiler")));
    let find = |name: &Path| -> Option<PathBuf> {
        if name.components().count() > 1 {
            return name.is_file().then(|| name.to_path_buf());
        }
        env.which(name)
    };
    if let Some((value, source)) = explicit {
        let path = find(&value).ok_or_else(|| {
            HostError::Rejected(Rejection {
                toolkit: toolkit.version,
                found: None,
                problem: format!("{source}={} is not a program on PATH", value.display()),
                fix: format!("point {source} at an installed C++ compiler, e.g. {source}=g++-12"),
            })
        })?;
        let c = inspect(env, &path, source, toolkit, timeout)?;
        if !c.supported && !allow_unsupported {
            return Err(unsupported(toolkit, &c, None, true));
        }
        return Ok(Selection { compiler: c, warning: None });
    }
    let cxx = env.get_targeted("CXX").map(|(name, v)| (PathBuf::from(v), name));
    let (default_path, source) = match cxx {
        Some((v, name)) => (find(&v), name),
        None => (["g++", "c++", "clang++"].iter().find_map(|n| find(Path::new(n))), "PATH".to_owned()),
    };
    let Some(default_path) = default_path else {
        return Err(HostError::Rejected(Rejection {
            toolkit: toolkit.version,
            found: None,
            problem: "no C++ compiler found (looked for CXX, then g++, c++, clang++ on PATH)".into(),
            fix: "install one nvcc accepts (Debian/Ubuntu: apt install g++), or set NVCC_CCBIN".into(),
        }));
    };
    let default = inspect(env, &default_path, &source, toolkit, timeout)?;
    if default.supported || allow_unsupported {
        return Ok(Selection { compiler: default, warning: None });
    }
    // Too new: the newest installed older one of the same family that nvcc accepts.
    let (prefix, max) = match (default.kind, default.newest_supported) {
        (HostKind::Gcc, Some(m)) => ("g++-", m),
        (HostKind::Clang, Some(m)) => ("clang++-", m),
        _ => return Err(unsupported(toolkit, &default, None, false)),
    };
    for major in (1..=max).rev() {
        let Some(p) = find(Path::new(&format!("{prefix}{major}"))) else { continue };
        let Ok(c) = inspect(env, &p, "PATH", toolkit, timeout) else { continue };
        if c.supported && c.kind == default.kind {
            // Printed on every build that falls back: naming the compiler is the way to silence it.
            let warning = format!(
                "host compiler: {} {} is newer than CUDA {} accepts ({} <= {max}); using {} ({}) instead (set NVCC_CCBIN={} to choose it and silence this warning)",
                default.path.display(),
                default.version.map(|v| v.to_string()).unwrap_or_default(),
                toolkit.version,
                default.kind,
                c.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                c.path.display(),
                c.path.display()
            );
            return Ok(Selection { compiler: c, warning: Some(warning) });
        }
    }
    Err(unsupported(toolkit, &default, Some(prefix), false))
}

/// The archiver for objects `compiler` built: `AR` for the target (as cc reads it, through
/// `Env` so a change reruns the build script), else the `ar` of the compiler's own toolchain
/// (`aarch64-linux-gnu-g++-12` → `aarch64-linux-gnu-ar`, beside it, then on PATH), else `ar`
/// on PATH. Chosen before nvcc runs: a machine without binutils gets one error up front.
pub(crate) fn archiver(env: &Env, compiler: &Path) -> Result<PathBuf, ToolError> {
    if let Some((_, ar)) = env.get_targeted("AR") {
        return Ok(PathBuf::from(ar));
    }
    let mut names = Vec::new();
    if let Some(prefix) = toolchain_prefix(compiler) {
        let name = format!("{prefix}-ar");
        let beside = compiler.with_file_name(&name);
        if beside.is_file() {
            return Ok(beside);
        }
        names.push(name);
    }
    names.push("ar".to_owned());
    names.iter().find_map(|n| env.which(n)).ok_or_else(|| ToolError {
        program: PathBuf::from("ar"),
        args: Vec::new(),
        problem: ToolProblem::Spawn(format!(
            "no archiver for the static library: AR is unset and there is no {} on PATH (the host compiler is {}); \
             install binutils (Debian/Ubuntu: apt install binutils) or set AR",
            names.join(" or "),
            compiler.display()
        )),
    })
}

/// `aarch64-linux-gnu` of `aarch64-linux-gnu-g++-12`: the target prefix of a cross
/// toolchain's compiler, which its binutils share; `None` for a plain `g++`.
fn toolchain_prefix(compiler: &Path) -> Option<&str> {
    let name = compiler.file_name()?.to_str()?;
    let unversioned = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    let unversioned = unversioned.strip_suffix('-').unwrap_or(unversioned);
    ["g++", "c++", "gcc", "cc", "clang++", "clang"]
        .iter()
        .find_map(|tool| unversioned.strip_suffix(tool)?.strip_suffix('-'))
        .filter(|prefix| !prefix.is_empty())
}

fn unsupported(toolkit: &Toolkit, c: &HostCompiler, looked_for: Option<&str>, explicit: bool) -> HostError {
    let version = c.version.map(|v| v.to_string()).unwrap_or_else(|| "?".into());
    let newest = c.newest_supported.map_or_else(|| "unknown".to_owned(), |m| m.to_string());
    let mut problem = format!(
        "{} {version} ({}, from {}) is not supported by CUDA {}: newest {} accepted is {newest}",
        c.kind,
        c.path.display(),
        c.source,
        toolkit.version,
        c.kind
    );
    if explicit {
        problem.push_str("; a compiler named explicitly is never replaced");
    } else if let (Some(prefix), Some(m)) = (looked_for, c.newest_supported) {
        problem.push_str(&format!("; no {prefix}{m} or older on PATH"));
    }
    let install = match (c.kind, c.newest_supported) {
        (HostKind::Gcc, Some(m)) => format!("install g++-{m} (apt install g++-{m}), which is then used automatically"),
        (HostKind::Clang, Some(m)) => format!("install clang++-{m}, which is then used automatically"),
        _ => "install a compiler this toolkit accepts".to_owned(),
    };
    let fix = format!(
        "{install}; or set NVCC_CCBIN to a supported compiler; or accept the risk with Kernels::allow_unsupported_compiler(true) / CUDA_BUILD_ALLOW_UNSUPPORTED_COMPILER=1 (nvcc's -allow-unsupported-compiler: compilation or the program may fail on the newer compiler's headers)"
    );
    HostError::Rejected(Rejection { toolkit: toolkit.version, found: Some(Box::new(c.clone())), problem, fix })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cross_compilers_prefix_names_its_archiver() {
        let prefix = |name: &str| toolchain_prefix(Path::new(name)).map(str::to_owned);
        assert_eq!(prefix("/usr/bin/aarch64-linux-gnu-g++-12").as_deref(), Some("aarch64-linux-gnu"));
        assert_eq!(prefix("x86_64-linux-gnu-gcc").as_deref(), Some("x86_64-linux-gnu"));
        assert_eq!(prefix("powerpc64le-linux-gnu-c++").as_deref(), Some("powerpc64le-linux-gnu"));
        assert_eq!(prefix("aarch64-unknown-linux-gnu-clang++-18.1").as_deref(), Some("aarch64-unknown-linux-gnu"));
        for plain in ["g++", "/usr/bin/g++-12", "clang++-17", "c++", "cc", "icpx", "cl.exe", "-g++", "g++-"] {
            assert_eq!(prefix(plain), None, "{plain}");
        }
    }

    #[test]
    fn real_version_outputs() {
        let cases = [
            (
                "g++ (Debian 12.2.0-14+deb12u1) 12.2.0\nCopyright (C) 2022 Free Software Foundation, Inc.",
                HostKind::Gcc,
                "12.2.0",
            ),
            (
                "g++-11 (Debian 11.3.0-12) 11.3.0\nCopyright (C) 2021 Free Software Foundation, Inc.",
                HostKind::Gcc,
                "11.3.0",
            ),
            ("g++ (GCC) 13.2.1 20230801\nCopyright (C) 2023 Free Software Foundation, Inc.", HostKind::Gcc, "13.2.1"),
            ("g++ (Ubuntu 9.4.0-1ubuntu1~20.04.2) 9.4.0", HostKind::Gcc, "9.4.0"),
            ("c++ (Homebrew GCC 14.1.0) 14.1.0", HostKind::Gcc, "14.1.0"),
            ("g++ (GCC) 15.1.1 20250425 (Red Hat 15.1.1-1)", HostKind::Gcc, "15.1.1"),
            ("Debian clang version 14.0.6\nTarget: x86_64-pc-linux-gnu", HostKind::Clang, "14.0.6"),
            ("Ubuntu clang version 18.1.3 (1ubuntu1)", HostKind::Clang, "18.1.3"),
            ("clang version 19.1.7 (Fedora 19.1.7-3.fc41)", HostKind::Clang, "19.1.7"),
            ("Homebrew clang version 20.1.0", HostKind::Clang, "20.1.0"),
            ("Apple clang version 15.0.0 (clang-1500.3.9.4)", HostKind::AppleClang, "15.0.0"),
            ("Intel(R) oneAPI DPC++/C++ Compiler 2024.0.0 (2024.0.0.20231017)", HostKind::Intel, "2024.0.0"),
        ];
        for (text, kind, version) in cases {
            let (k, v) = parse_version_output(text);
            assert_eq!(k, kind, "{text}");
            assert_eq!(v.map(|v| v.to_string()).as_deref(), Some(version), "{text}");
        }
        assert_eq!(parse_version_output("garbage \u{fffd}"), (HostKind::Unknown, None));
        assert_eq!(parse_version_output(""), (HostKind::Unknown, None));
    }

    #[test]
    fn host_config_if_lines_not_error_text() {
        let text = "#if __GNUC__ > 13\n#error -- unsupported GNU version! gcc versions later than 13 are not supported!\n#endif\n#if (__clang_major__ >= 18) || (__clang_major__ < 3) || ((__clang_major__ == 3) &&  (__clang_minor__ < 3))\n#error -- unsupported clang version! clang version must be less than 16 and greater than 3.2\n";
        let l = parse_host_config(&format!("{text}#if _MSC_VER < 1910 || _MSC_VER >= 1950\n")).unwrap();
        assert_eq!((l.gcc_max, l.clang_max, l.msvc), (13, 17, Some((1910, 1949))));
        // The real 13.5 structure: a Horizon clang block with its own bound comes first.
        let horizon = "#if defined(__GNUC__)\n#if __GNUC__ > 16\n#endif\n#if defined(__HORIZON__)\n#if (__clang_major__ >= 22) || (__clang_major__ < 3)\n#endif\n#endif\n#if defined(__clang__) && !defined(__HORIZON__) && !defined(__GRCO_CLANG_COMPILER__)\n#if (__clang_major__ >= 23) || (__clang_major__ < 3)\n#endif\n#endif\n#endif\n";
        let l = parse_host_config(horizon).unwrap();
        assert_eq!((l.gcc_max, l.clang_max), (16, 22));
        assert_eq!(parse_host_config("nothing"), None);
    }

    #[test]
    fn table_rows_by_nvcc_version() {
        let lim = |s: &str| compat::host_limits(&CudaVersion::parse(s).unwrap()).map(|r| (r.gcc_max, r.clang_max));
        assert_eq!(lim("11.8.89"), Some((11, 14)));
        assert_eq!(lim("12.2.91"), Some((12, 15)));
        assert_eq!(lim("12.2.128"), Some((12, 16)), "limits change within a minor");
        assert_eq!(lim("12.4.131"), Some((13, 17)));
        assert_eq!(lim("13.5.37"), Some((16, 22)));
        assert_eq!(lim("14.0.1"), None, "newer than the table: read the header");
    }
}
