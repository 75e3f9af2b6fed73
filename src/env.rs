//! The one place that reads environment variables.
//!
//! Every read goes through [`Env`], which records the variable's name so that
//! [`crate::Cuda::emit`] can print `cargo::rerun-if-env-changed` for exactly the
//! variables that influenced the result. Tests and tools build an [`Env`] from an
//! explicit list instead of the process environment.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// Variables cargo sets for build scripts: they never need `rerun-if-env-changed`.
const CARGO_SET: &[&str] = &["TARGET", "HOST", "OUT_DIR", "PROFILE", "DEBUG", "OPT_LEVEL", "RUSTC", "NUM_JOBS"];

/// The environment a probe sees: variables, and the directory that stands for `/`
/// when conventional locations (`/usr/local/cuda`, ...) are searched.
///
/// ```
/// // What the tests do: a probe of exactly these variables.
/// let env = cuda_build::Env::from_vars([("CUDA_PATH", "/nonexistent/cuda")]);
/// assert!(cuda_build::Probe::new().env(env).find().is_err());
/// ```
#[derive(Debug)]
pub struct Env {
    /// `None` reads the process environment.
    vars: Option<BTreeMap<OsString, OsString>>,
    /// Set by [`Env::with_sysroot`]; otherwise `CUDA_BUILD_SYSROOT`, else `/`.
    sysroot: Option<PathBuf>,
    /// Names read so far (a Mutex: a `Cuda` may be shared by threads compiling kernels).
    read: Mutex<BTreeSet<String>>,
}

impl Clone for Env {
    fn clone(&self) -> Self {
        Env { vars: self.vars.clone(), sysroot: self.sysroot.clone(), read: Mutex::new(self.names().clone()) }
    }
}

impl Default for Env {
    fn default() -> Self {
        Self::from_process()
    }
}

impl Env {
    /// The environment of this process (what a build script sees).
    #[must_use]
    pub fn from_process() -> Self {
        Env { vars: None, sysroot: None, read: Mutex::default() }
    }

    /// An environment made of exactly these variables, nothing inherited.
    pub fn from_vars<I, K, V>(vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<OsString>,
        V: Into<OsString>,
    {
        let vars = vars.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        Env { vars: Some(vars), sysroot: None, read: Mutex::default() }
    }

    /// Search conventional locations (`/usr/local/cuda`, `/opt/cuda`, Debian's
    /// `/usr/lib/nvidia-cuda-toolkit`, ...) below `dir` instead of `/`: for a
    /// sysroot, a container image, or a test's fake filesystem.
    #[must_use]
    pub fn with_sysroot(mut self, dir: impl Into<PathBuf>) -> Self {
        self.sysroot = Some(dir.into());
        self
    }

    /// `path` (absolute, as on a normal system) below the sysroot: the one given to
    /// [`Env::with_sysroot`], else `CUDA_BUILD_SYSROOT`, else `/`.
    pub fn system_path(&self, path: &str) -> PathBuf {
        let root = self.sysroot.clone().or_else(|| self.get("CUDA_BUILD_SYSROOT").map(PathBuf::from));
        root.unwrap_or_else(|| PathBuf::from("/")).join(path.trim_start_matches('/'))
    }

    fn names(&self) -> MutexGuard<'_, BTreeSet<String>> {
        self.read.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A variable's value; an empty value counts as unset. The name is recorded.
    pub fn get(&self, name: &str) -> Option<OsString> {
        if !CARGO_SET.contains(&name) && !name.starts_with("CARGO") {
            self.names().insert(name.to_owned());
        }
        self.raw(name).filter(|v| !v.is_empty())
    }

    /// Like [`Env::get`], but a variable set to the empty string is `Some("")`: for the
    /// few variables where "set but empty" means something (`CUDA_BUILD_LAUNCHER=` turns
    /// the launcher off, as an empty `RUSTC_WRAPPER` does for cargo).
    pub(crate) fn get_even_empty(&self, name: &str) -> Option<OsString> {
        self.names().insert(name.to_owned());
        self.raw(name)
    }

    /// Like [`Env::get`], for UTF-8 values; a non-UTF-8 value counts as unset.
    pub fn get_str(&self, name: &str) -> Option<String> {
        self.get(name).and_then(|v| v.into_string().ok())
    }

    #[allow(clippy::disallowed_methods)] // the one sanctioned read of the process environment
    fn raw(&self, name: &str) -> Option<OsString> {
        match &self.vars {
            Some(map) => map.get(OsStr::new(name)).cloned(),
            None => std::env::var_os(name),
        }
    }

    /// cc's lookup for a tool variable: `NAME_<target>`, `NAME_<target_with_underscores>`,
    /// `TARGET_NAME` (or `HOST_NAME` when not cross-compiling), then `NAME`.
    /// Returns the name that matched with its value.
    pub fn get_targeted(&self, name: &str) -> Option<(String, OsString)> {
        let mut names = Vec::new();
        if let Some(target) = self.target() {
            names.push(format!("{name}_{target}"));
            // cc replaces both `-` and `.` (`thumbv7em-none-eabihf`, `x86_64-pc-windows-msvc.2`).
            names.push(format!("{name}_{}", target.replace(['-', '.'], "_")));
            let kind = if self.host().as_deref() == Some(target.as_str()) { "HOST" } else { "TARGET" };
            names.push(format!("{kind}_{name}"));
        }
        names.push(name.to_owned());
        names.into_iter().find_map(|n| self.get(&n).map(|v| (n, v)))
    }

    /// Every variable whose name starts with `prefix` (e.g. `CUDA_PATH_V`), sorted by name.
    pub fn with_prefix(&self, prefix: &str) -> Vec<(String, OsString)> {
        #[allow(clippy::disallowed_methods)] // enumerating needs the process environment itself
        let all: Vec<(OsString, OsString)> = match &self.vars {
            Some(map) => map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            None => std::env::vars_os().collect(),
        };
        let mut found: Vec<(String, OsString)> = all
            .into_iter()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v)))
            .filter(|(k, v)| k.starts_with(prefix) && !v.is_empty())
            .collect();
        found.sort();
        for (k, _) in &found {
            self.names().insert(k.clone());
        }
        found
    }

    /// The directory relative paths are taken from (the process's working directory; a
    /// build script's is its crate's).
    pub fn current_dir(&self) -> PathBuf {
        std::env::current_dir().unwrap_or_default()
    }

    /// `program` found as a shell would: a path as it is, a bare name on this `PATH`.
    pub fn which(&self, program: impl AsRef<OsStr>) -> Option<PathBuf> {
        which::which_in(program, self.get("PATH"), self.current_dir()).ok()
    }

    /// The directories of `PATH`, in order.
    pub fn path_dirs(&self) -> Vec<PathBuf> {
        self.get("PATH")
            .map(|p| std::env::split_paths(&p).filter(|d| !d.as_os_str().is_empty()).collect())
            .unwrap_or_default()
    }

    /// A variable cargo sets for build scripts (`OUT_DIR`, `NUM_JOBS`, ...): read, not recorded.
    pub fn cargo_var(&self, name: &str) -> Option<OsString> {
        self.raw(name).filter(|v| !v.is_empty())
    }

    /// The triple cargo builds for (`TARGET`), if this runs in a build script.
    pub fn target(&self) -> Option<String> {
        self.raw("TARGET").and_then(|v| v.into_string().ok()).filter(|v| !v.is_empty())
    }

    /// The triple cargo runs on (`HOST`).
    pub fn host(&self) -> Option<String> {
        self.raw("HOST").and_then(|v| v.into_string().ok()).filter(|v| !v.is_empty())
    }

    /// The user's home directory.
    pub fn home(&self) -> Option<PathBuf> {
        self.get("HOME").or_else(|| self.get("USERPROFILE")).map(PathBuf::from)
    }

    /// Names of every variable read so far, sorted, for `rerun-if-env-changed`.
    pub fn recorded(&self) -> Vec<String> {
        self.names().iter().cloned().collect()
    }

    /// Whether this runs under docs.rs, where a build must never fail.
    pub fn docs_rs(&self) -> bool {
        self.get("DOCS_RS").is_some()
    }
}

/// A path as cargo directives need it; `None` for a path that is not UTF-8.
pub(crate) fn utf8(path: &Path) -> Option<&str> {
    path.to_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targeted_lookup_prefers_the_most_specific_name() {
        let env = Env::from_vars([
            ("TARGET", "aarch64-unknown-linux-gnu"),
            ("HOST", "x86_64-unknown-linux-gnu"),
            ("NVCC", "/plain/nvcc"),
            ("TARGET_NVCC", "/kind/nvcc"),
            ("NVCC_aarch64_unknown_linux_gnu", "/underscored/nvcc"),
        ]);
        let (name, value) = env.get_targeted("NVCC").unwrap();
        assert_eq!(name, "NVCC_aarch64_unknown_linux_gnu");
        assert_eq!(value, "/underscored/nvcc");
        // Every name tried up to the match is recorded, cargo's own TARGET/HOST are not.
        assert_eq!(env.recorded(), ["NVCC_aarch64-unknown-linux-gnu", "NVCC_aarch64_unknown_linux_gnu"]);
    }

    #[test]
    fn target_suffixes_replace_dashes_and_dots_as_cc_does() {
        let env = Env::from_vars([("TARGET", "thumbv8m.main-none-eabi"), ("AR_thumbv8m_main_none_eabi", "/x/ar")]);
        assert_eq!(env.get_targeted("AR").unwrap(), ("AR_thumbv8m_main_none_eabi".to_owned(), "/x/ar".into()));
    }

    #[test]
    fn host_prefix_when_not_cross_compiling_and_empty_is_unset() {
        let env = Env::from_vars([
            ("TARGET", "x86_64-unknown-linux-gnu"),
            ("HOST", "x86_64-unknown-linux-gnu"),
            ("TARGET_NVCC", "/wrong"),
            ("HOST_NVCC", ""),
            ("NVCC", "/plain"),
        ]);
        assert_eq!(env.get_targeted("NVCC").unwrap().0, "NVCC");
        assert!(env.recorded().contains(&"HOST_NVCC".to_owned()));
        assert!(!env.recorded().contains(&"TARGET_NVCC".to_owned()));
    }

    #[test]
    fn prefix_scan_is_sorted_and_recorded() {
        let env = Env::from_vars([("CUDA_PATH_V12_4", "b"), ("CUDA_PATH_V11_8", "a"), ("CUDA_PATH_V13_0", "")]);
        let found = env.with_prefix("CUDA_PATH_V");
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].0, "CUDA_PATH_V11_8");
        assert_eq!(env.recorded(), ["CUDA_PATH_V11_8", "CUDA_PATH_V12_4"]);
    }

    #[test]
    fn sysroot_rebases_absolute_paths() {
        let env = Env::from_vars::<[(&str, &str); 0], _, _>([]).with_sysroot("/tmp/fake");
        assert_eq!(env.system_path("/usr/local/cuda"), PathBuf::from("/tmp/fake/usr/local/cuda"));
    }
}
