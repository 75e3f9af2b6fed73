//! Helpers shared by the integration tests: fake toolkit trees and fake tools.
#![allow(dead_code, clippy::disallowed_methods)] // tests read the real environment for provisioned toolkits

use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use cuda_build::Env;

pub mod registry;

/// A temporary directory standing for a filesystem (use it as the probe's sysroot).
pub struct Fake {
    pub dir: tempfile::TempDir,
}

impl Fake {
    pub fn new() -> Self {
        Fake { dir: tempfile::Builder::new().prefix("cuda build fake ").tempdir().unwrap() }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel.trim_start_matches('/'))
    }

    pub fn file(&self, rel: &str, content: &str) -> PathBuf {
        let p = self.path(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, content).unwrap();
        p
    }

    pub fn exe(&self, rel: &str, script: &str) -> PathBuf {
        let p = self.file(rel, script);
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    /// A fake nvcc that prints `version_output` for `--version` and logs every run.
    pub fn nvcc(&self, rel: &str, version_output: &str) -> PathBuf {
        let out = self.file(&format!("{rel}.version-output"), version_output);
        let script = format!("#!/bin/sh\necho \"$@\" >> '{}'\ncat '{}'\n", self.log().display(), out.display());
        self.exe(rel, &script)
    }

    /// A fake nvcc printing a real `--version` of `version` (a file in tests/fixtures/nvcc-version).
    pub fn nvcc_of(&self, rel: &str, version: &str) -> PathBuf {
        self.nvcc(rel, &fixture_version(version))
    }

    pub fn cuda_h(&self, include_dir: &str, code: u32) -> PathBuf {
        self.file(
            &format!("{include_dir}/cuda.h"),
            &format!("#ifndef __cuda_cuda_h__\n#define CUDA_VERSION {code}\n#endif\n"),
        )
    }

    pub fn symlink(&self, target: &str, link: &str) {
        let l = self.path(link);
        fs::create_dir_all(l.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, l).unwrap();
    }

    /// A standard NVIDIA tree: bin/nvcc, targets/x86_64-linux/{include,lib}, include and lib64 symlinks.
    pub fn nvidia_root(&self, rel: &str, version: &str) -> PathBuf {
        let (major, minor) = major_minor(version);
        self.nvcc_of(&format!("{rel}/bin/nvcc"), version);
        self.cuda_h(&format!("{rel}/targets/x86_64-linux/include"), major * 1000 + minor * 10);
        self.file(&format!("{rel}/targets/x86_64-linux/lib/libcudart.so"), "");
        self.file(&format!("{rel}/targets/x86_64-linux/lib/libcudart_static.a"), "");
        self.file(&format!("{rel}/targets/x86_64-linux/lib/stubs/libcuda.so"), "");
        self.symlink("targets/x86_64-linux/include", &format!("{rel}/include"));
        self.symlink("targets/x86_64-linux/lib", &format!("{rel}/lib64"));
        self.path(rel)
    }

    pub fn log(&self) -> PathBuf {
        self.path("nvcc-runs.log")
    }

    /// How many times a fake nvcc ran.
    pub fn nvcc_runs(&self) -> usize {
        fs::read_to_string(self.log()).map(|s| s.lines().count()).unwrap_or(0)
    }

    /// An environment of exactly `vars`, with this directory as the sysroot.
    pub fn env(&self, vars: &[(&str, &Path)]) -> Env {
        let vars: Vec<(OsString, OsString)> =
            vars.iter().map(|(k, v)| (OsString::from(k), v.as_os_str().to_owned())).collect();
        Env::from_vars(vars).with_sysroot(self.dir.path())
    }
}

pub fn fixture_version(version: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nvcc-version").join(format!("{version}.txt"));
    fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

pub fn major_minor(version: &str) -> (u32, u32) {
    let mut it = version.split(['.', '-']).map(|p| p.parse::<u32>().unwrap_or(0));
    (it.next().unwrap(), it.next().unwrap())
}

/// The real toolkits provisioned by build-support/provision.sh (variables it writes).
pub fn real_nvcc(version: &str) -> Option<PathBuf> {
    provisioned(&format!("CUDA_BUILD_TEST_NVCC_{}", version.replace('.', "_")), &format!("CUDA {version}"))
        .filter(|p| p.is_file())
}

/// The site directory of the real torch wheel provisioned by build-support/provision.sh.
pub fn real_torch_site() -> Option<PathBuf> {
    provisioned("CUDA_BUILD_TEST_TORCH_SITE", "the torch 2.11.0 wheel").filter(|p| p.join("torch/version.py").is_file())
}

/// The torch 2.13.0 wheel (the PyTorch tch 0.26 expects) WITH its CUDA libraries, provisioned
/// by build-support/provision.sh (matrix or tch): a site directory holding torch/ and nvidia/.
pub fn real_tch_site() -> Option<PathBuf> {
    provisioned("CUDA_BUILD_TEST_TCH_SITE", "the torch 2.13.0 wheel with its CUDA libraries (provision.sh tch)")
        .filter(|p| p.join("torch/lib/libtorch_cuda.so").is_file())
}

fn provisioned(var: &str, what: &str) -> Option<PathBuf> {
    let var = var.to_owned();
    let version = what;
    let from_env = std::env::var_os(&var).map(PathBuf::from);
    let from_file = || {
        let env_file = dirs_cache().join("toolkits/toolkits.env");
        let text = fs::read_to_string(env_file).ok()?;
        text.lines().find_map(|l| l.strip_prefix(&format!("{var}="))).map(PathBuf::from)
    };
    let found = from_env.or_else(from_file).filter(|p| p.exists());
    if found.is_none() {
        if std::env::var_os("CI").is_some() {
            panic!("{version} is not provisioned in CI: run build-support/provision.sh all");
        }
        eprintln!("skipped: {version} not provisioned (bash build-support/provision.sh all)");
    }
    found
}

fn dirs_cache() -> PathBuf {
    std::env::var_os("CUDA_BUILD_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/cuda-build"))
}

/// The root of a real nvcc: the directory above its bin/, following Debian's wrapper.
pub fn real_root(nvcc: &Path) -> PathBuf {
    let real = fs::canonicalize(nvcc).unwrap();
    if real == Path::new("/usr/bin/nvcc") {
        return PathBuf::from("/usr/lib/nvidia-cuda-toolkit");
    }
    real.parent().unwrap().parent().unwrap().to_path_buf()
}

/// What the real nvcc says its version is.
pub fn nvcc_says(nvcc: &Path) -> String {
    let out = std::process::Command::new(nvcc).arg("--version").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = text.lines().find(|l| l.contains("release")).unwrap();
    line.rsplit(" V").next().unwrap().trim().to_owned()
}

/// Every provisioned toolkit (`CUDA_BUILD_TEST_NVCC_X_Y`), oldest first: (`"12.4"`, nvcc).
pub fn all_real_nvcc() -> Vec<(String, PathBuf)> {
    let mut found: std::collections::BTreeMap<(u32, u32), PathBuf> = Default::default();
    let file = fs::read_to_string(dirs_cache().join("toolkits/toolkits.env")).unwrap_or_default();
    let from_file = file.lines().filter_map(|l| l.split_once('=')).map(|(k, v)| (k.to_owned(), v.to_owned()));
    let from_env = std::env::vars().filter(|(k, _)| k.starts_with("CUDA_BUILD_TEST_NVCC_"));
    for (k, v) in from_file.chain(from_env) {
        let Some(ver) = k.strip_prefix("CUDA_BUILD_TEST_NVCC_") else { continue };
        let Some((ma, mi)) = ver.split_once('_') else { continue };
        let (Ok(ma), Ok(mi)) = (ma.parse(), mi.parse()) else { continue };
        let p = PathBuf::from(v);
        if p.is_file() {
            found.insert((ma, mi), p);
        }
    }
    found.into_iter().map(|((ma, mi), p)| (format!("{ma}.{mi}"), p)).collect()
}

/// Makes a file executable (scripts written by tests).
pub fn make_executable(p: &Path) {
    fs::set_permissions(p, fs::Permissions::from_mode(0o755)).unwrap();
}

/// A launcher (for `CUDA_BUILD_LAUNCHER`) that appends the `.cu` each nvcc run compiles to
/// `dir/runs.log` and how many run at that moment to `dir/concurrency.log`, sleeps, then runs nvcc.
pub fn counting_launcher(dir: &Path, sleep: &str) -> PathBuf {
    let p = dir.join("launcher.sh");
    let script = format!(
        "#!/bin/sh\nd='{d}'\ntouch \"$d/running.$$\"\necho \"$(ls \"$d\" | grep -c '^running\\.')\" >> \"$d/concurrency.log\"\nfor a; do case \"$a\" in *.cu) basename \"$a\" >> \"$d/runs.log\";; esac; done\nsleep {sleep}\n\"$@\"\nrc=$?\nrm -f \"$d/running.$$\"\nexit $rc\n",
        d = dir.display()
    );
    fs::write(&p, script).unwrap();
    make_executable(&p);
    p
}

/// The lines of `dir/log`, sorted; the log is removed so the next step starts empty.
pub fn take_log(dir: &Path, log: &str) -> Vec<String> {
    let text = fs::read_to_string(dir.join(log)).unwrap_or_default();
    let _ = fs::remove_file(dir.join(log));
    let mut v: Vec<String> = text.lines().map(str::to_owned).collect();
    v.sort();
    v
}

/// `dir/bin` holding only cargo, rustc and cc: a PATH with no nvcc anywhere.
pub fn bin_without_nvcc(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    fs::create_dir_all(&bin).unwrap();
    for tool in ["cargo", "rustc", "cc"] {
        std::os::unix::fs::symlink(which::which(tool).unwrap(), bin.join(tool)).unwrap();
    }
    bin
}

/// Variables a test's child cargo build must not inherit from the environment the tests run
/// in (they would pick another toolkit, arch list, launcher or flags).
pub const CLEARED_VARS: &[&str] = &[
    "NVCC",
    "CUDACXX",
    "CUDAToolkit_ROOT",
    "CUDA_PATH",
    "CUDA_HOME",
    "CUDA_ROOT",
    "CUDA_TOOLKIT_ROOT_DIR",
    "CONDA_PREFIX",
    "VIRTUAL_ENV",
    "PKG_CONFIG_PATH",
    "CUDA_BUILD_SYSROOT",
    "CUDA_BUILD_CACHE",
    "LIBTORCH",
    "LIBTORCH_USE_PYTORCH",
    "CUDAARCHS",
    "RUSTFLAGS",
    "CMAKE_CUDA_ARCHITECTURES",
    "TORCH_CUDA_ARCH_LIST",
    "NVCC_CCBIN",
    "CUDAHOSTCXX",
    "NVCC_PREPEND_FLAGS",
    "NVCC_APPEND_FLAGS",
    "CUDA_BUILD_LAUNCHER",
    "CMAKE_CUDA_COMPILER_LAUNCHER",
    "CUDAFORGE_THREADS",
    "RAYON_NUM_THREADS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_BUILD_TARGET",
];

/// A compiler cache provisioned by `build-support/provision.sh caches` (part of `all`):
/// `var` (`CUDA_BUILD_TEST_SCCACHE`, ...), else its line in toolkits.env, else the first of
/// `places` that exists (relative ones below `$CUDA_BUILD_CACHE`): a provision run of an
/// older checkout rewrites toolkits.env without these lines. Missing: a skip, and a failure in CI.
pub fn real_tool(var: &str, places: &[&str]) -> Option<PathBuf> {
    let from_env = std::env::var_os(var).map(PathBuf::from);
    let from_file = || {
        let text = fs::read_to_string(dirs_cache().join("toolkits/toolkits.env")).ok()?;
        text.lines().find_map(|l| l.strip_prefix(&format!("{var}="))).map(PathBuf::from)
    };
    let fallback = || places.iter().map(|p| dirs_cache().join(p)).find(|p| p.is_file());
    let found = from_env.or_else(from_file).filter(|p| p.is_file()).or_else(fallback);
    if found.is_none() {
        assert!(std::env::var_os("CI").is_none(), "{var} is not provisioned in CI: build-support/provision.sh caches");
        eprintln!("skipped: {var} not provisioned (bash build-support/provision.sh caches)");
    }
    found
}

/// The exact line the examples print on this machine when it has no CUDA device, decided
/// here independently of them: libcuda.so.1 does not load, or `cuInit` answers
/// `CUDA_ERROR_NO_DEVICE`, or the driver counts 0 devices. `None` when a device is there:
/// then the examples must run and be right.
#[allow(unsafe_code)] // dlopen/dlsym of the driver library, as the examples do
pub fn no_device_line() -> Option<String> {
    use std::ffi::{c_char, c_int, c_uint, c_void};
    extern "C" {
        fn dlopen(file: *const c_char, mode: c_int) -> *mut c_void;
        fn dlsym(handle: *mut c_void, name: *const c_char) -> *mut c_void;
    }
    let why = |w: &str| Some(format!("skipped: no CUDA device ({w})"));
    // SAFETY: NUL-terminated names; the symbols have the driver API's signatures.
    unsafe {
        let lib = dlopen(c"libcuda.so.1".as_ptr(), 2);
        if lib.is_null() {
            return why("no driver library: libcuda.so.1 cannot be loaded");
        }
        let init: extern "C" fn(c_uint) -> c_int = std::mem::transmute(dlsym(lib, c"cuInit".as_ptr()));
        let count: extern "C" fn(*mut c_int) -> c_int = std::mem::transmute(dlsym(lib, c"cuDeviceGetCount".as_ptr()));
        match init(0) {
            0 => {}
            100 => return why("cuInit: CUDA_ERROR_NO_DEVICE"),
            rc => panic!("this machine's CUDA driver fails: cuInit returns {rc}"),
        }
        let mut n = 0;
        assert_eq!(count(&mut n), 0, "cuDeviceGetCount");
        if n == 0 {
            return why("the driver counts 0 devices");
        }
        None
    }
}

/// `dir/libcuda.so.1` (and `libcuda.so`, which cudarc tries first) built from
/// tests/fixtures/fake-libcuda/libcuda.c: put `dir` on `LD_LIBRARY_PATH` to reach the
/// examples' error paths without a GPU.
pub fn fake_libcuda(dir: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fake-libcuda/libcuda.c");
    let lib = dir.join("libcuda.so.1");
    let out = std::process::Command::new("cc").args(["-shared", "-fPIC", "-o"]).arg(&lib).arg(&src).output().unwrap();
    assert!(out.status.success(), "cc: {}", String::from_utf8_lossy(&out.stderr));
    std::os::unix::fs::symlink("libcuda.so.1", dir.join("libcuda.so")).unwrap();
    dir.to_path_buf()
}

/// `cargo` for a tch-rs crate at `manifest_dir`, as its README tells a user to build it:
/// torch-sys finds the torch wheel at `site` through python (LIBTORCH_USE_PYTORCH=1,
/// PYTHONPATH), and cuda-build uses the toolkit at `cuda_path`. Every tch crate of the tests
/// shares one target directory, so tch and torch-sys (minutes to build) are built once.
pub fn tch_cargo(manifest_dir: &Path, site: &Path, cuda_path: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO"));
    cmd.current_dir(manifest_dir)
        .env("CARGO_TARGET_DIR", Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tch-extension"))
        .env("LIBTORCH_USE_PYTORCH", "1")
        .env("PYTHONPATH", site)
        .env("CUDA_PATH", cuda_path);
    for v in CLEARED_VARS.iter().chain(&[
        "LIBTORCH_LIB",
        "LIBTORCH_INCLUDE",
        "LIBTORCH_STATIC",
        "LIBTORCH_CXX11_ABI",
        "LIBTORCH_BYPASS_VERSION_CHECK",
    ]) {
        if !matches!(*v, "LIBTORCH_USE_PYTORCH" | "CUDA_PATH") {
            cmd.env_remove(v);
        }
    }
    cmd
}
