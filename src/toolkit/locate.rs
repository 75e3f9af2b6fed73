//! Where toolkits are looked for, in the documented order (see the crate docs).
//! Nothing is spawned here: only variables, directories and files are read.

use std::fs;
use std::path::{Path, PathBuf};

use super::Source;
use crate::env::Env;
use crate::version::CudaVersion;

/// The compiler variables, in order; each is also read with cc's target suffixes.
pub(crate) const COMPILER_VARS: &[&str] = &["NVCC", "CUDACXX"];
/// The root variables, in order (`CMake`'s `FindCUDAToolkit` order, then the rest).
pub(crate) const ROOT_VARS: &[&str] =
    &["CUDAToolkit_ROOT", "CUDA_PATH", "CUDA_HOME", "CUDA_ROOT", "CUDA_TOOLKIT_ROOT_DIR"];

/// How a place names a toolkit.
#[derive(Clone, Debug)]
pub(crate) enum Hint {
    Nvcc(PathBuf),
    Root(PathBuf),
}

/// Every place that names a toolkit, in rank order, and a line per kind of place searched.
pub(crate) fn locate(env: &Env) -> (Vec<(Source, Hint)>, Vec<String>) {
    let mut found = Vec::new();
    let mut searched = Vec::new();
    for rank in [variables, path, locations, environments, pkg_config] {
        rank(env, &mut found, &mut searched);
    }
    (found, searched)
}

/// Rank 1: `NVCC`/`CUDACXX` (cc's target suffixes) and the root variables.
fn variables(env: &Env, found: &mut Vec<(Source, Hint)>, searched: &mut Vec<String>) {
    for var in COMPILER_VARS {
        match env.get_targeted(var) {
            Some((name, value)) => {
                searched.push(format!("{name}={}", Path::new(&value).display()));
                found.push((Source::Compiler(name), Hint::Nvcc(resolve_program(env, Path::new(&value)))));
            }
            None => searched.push(format!("{var} (unset)")),
        }
    }
    for var in ROOT_VARS {
        match env.get(var) {
            Some(value) => {
                searched.push(format!("{var}={}", Path::new(&value).display()));
                found.push((Source::RootVar((*var).to_owned()), Hint::Root(PathBuf::from(value))));
            }
            None => searched.push(format!("{var} (unset)")),
        }
    }
}

/// Rank 2: the first `nvcc` on `PATH`.
fn path(env: &Env, found: &mut Vec<(Source, Hint)>, searched: &mut Vec<String>) {
    let path_dirs = env.path_dirs();
    match env.which("nvcc") {
        Some(nvcc) => {
            searched.push(format!("nvcc on PATH ({})", nvcc.display()));
            found.push((Source::Path, Hint::Nvcc(nvcc)));
        }
        None => searched.push(format!("nvcc on PATH (none in {} directories)", path_dirs.len())),
    }
}

/// Rank 3: the conventional places, and the Windows installer's `CUDA_PATH_Vx_y`.
fn locations(env: &Env, found: &mut Vec<(Source, Hint)>, searched: &mut Vec<String>) {
    let usr_local = env.system_path("/usr/local");
    found.push((Source::Location("/usr/local/cuda".into()), Hint::Root(usr_local.join("cuda"))));
    for (version, dir) in versioned_dirs(&usr_local, "cuda-") {
        found.push((Source::Location(format!("/usr/local/cuda-{version}")), Hint::Root(dir)));
    }
    // The Windows installer sets CUDA_PATH_Vx_y for each version it installs; newest first.
    let mut versioned: Vec<(CudaVersion, String, PathBuf)> = env
        .with_prefix("CUDA_PATH_V")
        .into_iter()
        .filter_map(|(name, value)| {
            let v = CudaVersion::parse(&name["CUDA_PATH_V".len()..].replace('_', ".")).ok()?;
            Some((v, name, PathBuf::from(value)))
        })
        .collect();
    versioned.sort_by_key(|v| std::cmp::Reverse(v.0));
    found.extend(versioned.into_iter().map(|(_, name, dir)| (Source::VersionedVar(name), Hint::Root(dir))));
    found.push((Source::Location("/opt/cuda".into()), Hint::Root(env.system_path("/opt/cuda"))));
    let debian = env.system_path("/usr/lib/nvidia-cuda-toolkit/bin/nvcc");
    found.push((Source::Location("/usr/lib/nvidia-cuda-toolkit".into()), Hint::Nvcc(debian)));
    searched.push(
        "/usr/local/cuda, /usr/local/cuda-X.Y (newest first), CUDA_PATH_Vx_y, /opt/cuda, /usr/lib/nvidia-cuda-toolkit"
            .into(),
    );
}

/// Rank 4: conda, NVIDIA's wheels in site-packages, cuda-build's cache (a directory counts
/// only if it holds `bin/nvcc`: a torch wheel's `bin/` of scripts is no toolkit).
fn environments(env: &Env, found: &mut Vec<(Source, Hint)>, searched: &mut Vec<String>) {
    match env.get("CONDA_PREFIX") {
        Some(prefix) => {
            searched.push(format!("CONDA_PREFIX={}", Path::new(&prefix).display()));
            found.push((Source::Conda, Hint::Root(PathBuf::from(prefix))));
        }
        None => searched.push("CONDA_PREFIX (unset)".into()),
    }
    let site_dirs = site_packages(env);
    for site in &site_dirs {
        for sub in ["nvidia/cu13", "nvidia/cuda_nvcc"] {
            found.push((Source::Wheel(site.clone()), Hint::Root(site.join(sub))));
        }
    }
    searched.push(format!("Python site-packages (nvidia/cu13, nvidia/cuda_nvcc): {} directories", site_dirs.len()));
    if let Some(cache) = cache_dir(env) {
        let toolkits = cache.join("toolkits");
        for dir in sorted_subdirs(&toolkits) {
            for root in [dir.join("nvidia/cu13"), dir.clone()] {
                if root.join("bin/nvcc").is_file() || root.join("bin/nvcc.exe").is_file() {
                    found.push((Source::Cache(dir.clone()), Hint::Root(root)));
                }
            }
        }
        searched.push(format!("cuda-build cache {}", toolkits.display()));
    }
}

/// Rank 5: pkg-config files naming a CUDA root.
fn pkg_config(env: &Env, found: &mut Vec<(Source, Hint)>, searched: &mut Vec<String>) {
    let pc_dirs = pkg_config_dirs(env);
    for (file, root) in pkg_config_roots(&pc_dirs) {
        found.push((Source::PkgConfig(file), Hint::Root(root)));
    }
    searched.push(format!("pkg-config cuda-X.Y.pc / cudart-X.Y.pc in {} directories", pc_dirs.len()));
}

/// `NVCC=nvcc` (a bare name, as cc allows) is looked up on PATH.
fn resolve_program(env: &Env, value: &Path) -> PathBuf {
    if value.components().count() == 1 && !value.is_absolute() {
        if let Some(p) = env.which(value) {
            return p;
        }
    }
    value.to_path_buf()
}

/// `<dir>/<prefix>X.Y` directories, newest first.
fn versioned_dirs(dir: &Path, prefix: &str) -> Vec<(CudaVersion, PathBuf)> {
    let mut out: Vec<(CudaVersion, PathBuf)> = sorted_subdirs(dir)
        .into_iter()
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?;
            let v = CudaVersion::parse(name.strip_prefix(prefix)?).ok()?;
            Some((v, p))
        })
        .collect();
    out.sort_by_key(|v| std::cmp::Reverse(v.0));
    out
}

fn sorted_subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> =
        fs::read_dir(dir).map(|rd| rd.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect()).unwrap_or_default();
    out.sort();
    out
}

/// site-packages of the active virtualenv or conda env, the user's, and the system's.
fn site_packages(env: &Env) -> Vec<PathBuf> {
    let mut bases = Vec::new();
    for var in ["VIRTUAL_ENV", "CONDA_PREFIX"] {
        if let Some(v) = env.get(var) {
            bases.push(PathBuf::from(v).join("lib"));
        }
    }
    if let Some(home) = env.home() {
        bases.push(home.join(".local/lib"));
    }
    bases.push(env.system_path("/usr/local/lib"));
    bases.push(env.system_path("/usr/lib"));
    let mut out = Vec::new();
    for base in bases {
        for py in sorted_subdirs(&base).into_iter().rev() {
            if !py.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("python3")) {
                continue;
            }
            for sub in ["site-packages", "dist-packages"] {
                let site = py.join(sub);
                if site.join("nvidia").is_dir() {
                    out.push(site);
                }
            }
        }
    }
    out
}

/// Where cuda-build keeps what it provisions: `CUDA_BUILD_CACHE`, else `~/.cache/cuda-build`.
pub(crate) fn cache_dir(env: &Env) -> Option<PathBuf> {
    env.get("CUDA_BUILD_CACHE")
        .map(PathBuf::from)
        .or_else(|| env.get("XDG_CACHE_HOME").map(|x| PathBuf::from(x).join("cuda-build")))
        .or_else(|| env.home().map(|h| h.join(".cache/cuda-build")))
}

fn pkg_config_dirs(env: &Env) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for var in ["PKG_CONFIG_PATH", "PKG_CONFIG_LIBDIR"] {
        if let Some(v) = env.get(var) {
            dirs.extend(std::env::split_paths(&v).filter(|d| !d.as_os_str().is_empty()));
        }
    }
    for d in [
        "/usr/lib/pkgconfig",
        "/usr/lib/x86_64-linux-gnu/pkgconfig",
        "/usr/lib/aarch64-linux-gnu/pkgconfig",
        "/usr/share/pkgconfig",
        "/usr/local/lib/pkgconfig",
    ] {
        dirs.push(env.system_path(d));
    }
    dirs.retain(|d| d.is_dir());
    dirs.dedup();
    dirs
}

/// `cuda-X.Y.pc` / `cudart-X.Y.pc` files and the toolkit root each names (`cudaroot=`),
/// newest first. A small reader, not the pkg-config crate: we need one variable, and the
/// pkg-config program is often absent where CUDA is.
fn pkg_config_roots(dirs: &[PathBuf]) -> Vec<(PathBuf, PathBuf)> {
    let mut out: Vec<(CudaVersion, PathBuf, PathBuf)> = Vec::new();
    for dir in dirs {
        for file in fs::read_dir(dir).map(|rd| rd.flatten().map(|e| e.path()).collect::<Vec<_>>()).unwrap_or_default() {
            let Some(name) = file.file_name().and_then(|n| n.to_str()) else { continue };
            let Some(stem) = name.strip_suffix(".pc") else { continue };
            let Some(v) = stem
                .strip_prefix("cudart-")
                .or_else(|| stem.strip_prefix("cuda-"))
                .and_then(|v| CudaVersion::parse(v).ok())
            else {
                continue;
            };
            let Ok(text) = fs::read(&file) else { continue };
            if let Some(root) = pc_variable(&String::from_utf8_lossy(&text), "cudaroot") {
                out.push((v, file, PathBuf::from(root)));
            }
        }
    }
    out.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    out.into_iter().map(|(_, f, r)| (f, r)).collect()
}

/// A `.pc` variable with `${other}` references expanded (bounded, so cycles stop).
pub(crate) fn pc_variable(text: &str, name: &str) -> Option<String> {
    let vars: Vec<(&str, &str)> = text
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once('=')?;
            let k = k.trim();
            (!k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')).then_some((k, v.trim()))
        })
        .collect();
    let mut value = vars.iter().find(|(k, _)| *k == name)?.1.to_owned();
    for _ in 0..16 {
        let Some(start) = value.find("${") else { break };
        let end = start + value[start..].find('}')?;
        let inner = &value[start + 2..end];
        let replacement = vars.iter().find(|(k, _)| *k == inner)?.1;
        value.replace_range(start..=end, replacement);
    }
    (!value.contains("${")).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pc_variables_expand_and_cycles_stop() {
        let pc = "cudaroot=/usr/local/cuda-13.0\nlibdir=${cudaroot}/targets/x86_64-linux/lib\nName: cudart\n";
        assert_eq!(pc_variable(pc, "cudaroot").as_deref(), Some("/usr/local/cuda-13.0"));
        assert_eq!(pc_variable(pc, "libdir").as_deref(), Some("/usr/local/cuda-13.0/targets/x86_64-linux/lib"));
        assert_eq!(pc_variable("a=${b}\nb=${a}\n", "a"), None);
        assert_eq!(pc_variable("a=${missing}\n", "a"), None);
        assert_eq!(pc_variable("Name: x\n", "cudaroot"), None);
    }
}
