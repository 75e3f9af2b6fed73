//! What a toolkit directory holds: nvcc, headers, libraries, version files.
//! Recognises NVIDIA's tree (`bin`, `include`, `lib64` -> `targets/<triple>/lib`),
//! Debian's split (`/usr/lib/nvidia-cuda-toolkit` + `/usr/include` + multiarch libs),
//! NVIDIA's wheels (`nvidia/cu13/{bin,include,lib}`), conda (`targets/<triple>`)
//! and Windows (`bin/nvcc.exe`, `lib/x64`).

use std::fs;
use std::path::{Path, PathBuf};

use super::Refusal;
use crate::env::Env;
use crate::version::CudaVersion;

/// What the probe knows about a candidate before choosing it. No process is spawned here.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    pub root: PathBuf,
    pub nvcc: PathBuf,
    pub include_dirs: Vec<PathBuf>,
    pub lib_dirs: Vec<PathBuf>,
    pub stubs_dir: Option<PathBuf>,
    /// From version.json / version.txt: full version, no nvcc spawn needed.
    pub file_version: Option<(PathBuf, Result<CudaVersion, String>)>,
    /// From cuda.h: major.minor.
    pub header_version: Option<(PathBuf, Result<CudaVersion, String>)>,
}

/// The target the libraries are for: decides `targets/<dir>`, multiarch and Windows dirs.
pub(crate) struct TargetDirs {
    windows: bool,
    /// nvcc runs on the host: `nvcc.exe` when the host is Windows.
    host_windows: bool,
    /// Cross-compiling to another architecture: the root's `lib64`/`lib` hold the host's
    /// libraries, so only `targets/<target>/lib` may be linked.
    cross: bool,
    targets: Vec<&'static str>,
    multiarch: Option<&'static str>,
}

impl TargetDirs {
    pub(crate) fn for_env(env: &Env) -> Self {
        let triple = env.target().unwrap_or_else(|| format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS));
        let arch = triple.split('-').next().unwrap_or("");
        let (targets, multiarch): (Vec<&'static str>, _) = match arch {
            "x86_64" => (vec!["x86_64-linux"], Some("x86_64-linux-gnu")),
            // Server ARM (Grace, AWS) uses sbsa-linux; Jetson/cross toolkits use aarch64-linux.
            "aarch64" => (vec!["sbsa-linux", "aarch64-linux"], Some("aarch64-linux-gnu")),
            "powerpc64le" => (vec!["ppc64le-linux"], Some("powerpc64le-linux-gnu")),
            _ => (vec![], None),
        };
        let host = env.host().unwrap_or_else(|| format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS));
        let cross = host.split('-').next() != Some(arch);
        TargetDirs {
            windows: triple.contains("windows"),
            host_windows: host.contains("windows"),
            cross,
            targets,
            multiarch,
        }
    }

    fn nvcc_name(&self) -> &'static str {
        if self.host_windows {
            "nvcc.exe"
        } else {
            "nvcc"
        }
    }
}

/// Inspects a candidate given as the nvcc program (NVCC, CUDACXX, PATH).
pub(crate) fn from_nvcc(env: &Env, given: &Path) -> Result<Layout, Refusal> {
    let meta = fs::metadata(given).map_err(|_| Refusal::Missing)?;
    if meta.is_dir() {
        return Err(Refusal::NotAProgram);
    }
    let nvcc = fs::canonicalize(given).map_err(|_| Refusal::Missing)?;
    // nvcc finds its headers relative to its own directory, so the root is that of the
    // real program: follow symlinks, then a distribution wrapper (Debian's /usr/bin/nvcc).
    let real = wrapper_target(&nvcc).unwrap_or_else(|| nvcc.clone());
    let bin = real.parent().unwrap_or(Path::new("/"));
    let root = bin.parent().unwrap_or(bin).to_path_buf();
    Ok(inspect(env, root, nvcc))
}

/// Inspects a candidate given as a root directory (`CUDA_PATH`, /usr/local/cuda, ...).
pub(crate) fn from_root(env: &Env, given: &Path) -> Result<Layout, Refusal> {
    let meta = fs::metadata(given).map_err(|_| Refusal::Missing)?;
    if !meta.is_dir() {
        return Err(Refusal::NotADirectory);
    }
    let dirs = TargetDirs::for_env(env);
    let nvcc = given.join("bin").join(dirs.nvcc_name());
    if !nvcc.is_file() {
        return Err(Refusal::NoNvcc(vec![nvcc]));
    }
    let root = fs::canonicalize(given).unwrap_or_else(|_| given.to_path_buf());
    let nvcc = fs::canonicalize(&nvcc).unwrap_or(nvcc);
    Ok(inspect(env, root, nvcc))
}

/// For a small `#!` script whose `exec` line runs an absolute `.../nvcc`, that program.
fn wrapper_target(path: &Path) -> Option<PathBuf> {
    let meta = fs::metadata(path).ok()?;
    if meta.len() > 64 * 1024 {
        return None;
    }
    let text = fs::read(path).ok()?;
    if !text.starts_with(b"#!") {
        return None;
    }
    let text = String::from_utf8_lossy(&text);
    text.lines().filter(|l| l.trim_start().starts_with("exec")).find_map(|line| {
        shell_words(line)
            .into_iter()
            .filter(|w| w.starts_with('/') && (w.ends_with("/nvcc") || w.ends_with("/nvcc.exe")))
            .map(PathBuf::from)
            .find(|p| p.is_file() && p.as_path() != path)
            .and_then(|p| fs::canonicalize(p).ok())
    })
}

/// Splits a shell line into words, honouring '…' and "…" quoting (enough for wrapper scripts).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for ch in line.chars() {
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(ch);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

fn inspect(env: &Env, root: PathBuf, nvcc: PathBuf) -> Layout {
    let dirs = TargetDirs::for_env(env);
    // Debian splits the toolkit: root /usr/lib/nvidia-cuda-toolkit, headers /usr/include,
    // libraries in the multiarch directory.
    let debian_usr =
        (root.ends_with("lib/nvidia-cuda-toolkit")).then(|| root.join("../..")).and_then(|p| fs::canonicalize(p).ok());

    let mut include_candidates: Vec<PathBuf> =
        dirs.targets.iter().map(|t| root.join("targets").join(t).join("include")).collect();
    if !dirs.cross {
        include_candidates.insert(0, root.join("include"));
    }
    if let Some(usr) = &debian_usr {
        include_candidates.push(usr.join("include"));
    }
    let include_dirs =
        existing_unique(include_candidates, |d| d.join("cuda_runtime.h").is_file() || d.join("cuda.h").is_file());

    let mut lib_candidates = Vec::new();
    if dirs.windows {
        lib_candidates.push(root.join("lib").join("x64"));
    }
    if !dirs.cross {
        lib_candidates.push(root.join("lib64"));
        lib_candidates.push(root.join("lib"));
    }
    lib_candidates.extend(dirs.targets.iter().map(|t| root.join("targets").join(t).join("lib")));
    if let (Some(usr), Some(multiarch)) = (&debian_usr, dirs.multiarch) {
        // Debian's multiarch dir is named for the target, so it is right when crossing too.
        lib_candidates.push(usr.join("lib").join(multiarch));
    }
    let lib_dirs = existing_unique(lib_candidates, |d| has_file_starting(d, &["libcudart", "cudart"]));
    let stubs_dir = lib_dirs
        .iter()
        .map(|d| d.join("stubs"))
        .find(|s| s.join("libcuda.so").is_file() || s.join("cuda.lib").is_file());

    let file_version = [
        ("version.json", CudaVersion::from_version_json as fn(&str) -> _),
        ("version.txt", CudaVersion::from_version_txt),
    ]
    .into_iter()
    .find_map(|(name, parse)| {
        let path = root.join(name);
        let text = fs::read(&path).ok()?;
        let parsed = parse(&String::from_utf8_lossy(&text)).map_err(|e| e.to_string());
        Some((path, parsed))
    });
    let header_version = include_dirs.iter().map(|d| d.join("cuda.h")).find(|p| p.is_file()).map(|path| {
        let parsed = match read_until_define(&path) {
            Ok(text) => CudaVersion::from_cuda_h(&text).map_err(|e| e.to_string()),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        };
        (path, parsed)
    });
    Layout { root, nvcc, include_dirs, lib_dirs, stubs_dir, file_version, header_version }
}

/// `cuda.h` up to its `#define CUDA_VERSION` line (about 270 lines into a 1 MB header):
/// what the version needs, without reading the rest on every build.
fn read_until_define(path: &Path) -> std::io::Result<String> {
    use std::io::BufRead;
    let mut reader = std::io::BufReader::new(fs::File::open(path)?);
    let mut text = String::new();
    let mut line = Vec::new();
    while reader.read_until(b'\n', &mut line)? > 0 {
        let l = String::from_utf8_lossy(&line);
        let found = l.trim_start().starts_with("#define") && l.contains("CUDA_VERSION");
        text.push_str(&l);
        line.clear();
        if found {
            break;
        }
    }
    Ok(text)
}

/// The directories that exist and pass `keep`, without two naming the same place
/// (NVIDIA's `lib64` is a symlink to `targets/x86_64-linux/lib`).
fn existing_unique(candidates: Vec<PathBuf>, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for dir in candidates {
        if !dir.is_dir() || !keep(&dir) {
            continue;
        }
        let real = fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone());
        if !seen.contains(&real) {
            seen.push(real);
            out.push(dir);
        }
    }
    out
}

fn has_file_starting(dir: &Path, prefixes: &[&str]) -> bool {
    fs::read_dir(dir)
        .map(|entries| {
            entries.flatten().any(|e| e.file_name().to_str().is_some_and(|n| prefixes.iter().any(|p| n.starts_with(p))))
        })
        .unwrap_or(false)
}
