//! The provisioned toolkits (where their nvcc is), the counting nvcc shim (nvcc-shim.sh in a fake
//! toolkit root) and the log it writes.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

// The nvcc log written by the shim.

#[derive(Clone, Debug)]
pub struct Call {
    pub start: f64,
    pub end: f64,
    pub args: Vec<String>,
}

impl Call {
    /// What this nvcc run was: a compile, a preprocessing pass (a cache's), or a query.
    pub fn kind(&self) -> String {
        if let Some(q) = self.args.iter().find(|a| a.starts_with("--version") || a.starts_with("--list-gpu")) {
            q.clone()
        } else if self.args.iter().any(|a| a == "-E") {
            "preprocess (-E)".into()
        } else if self.args.iter().any(|a| a == "-M") {
            "depfile (-M)".into()
        } else if self.source().is_some() {
            "compile".into()
        } else {
            self.args.first().cloned().unwrap_or_default()
        }
    }

    pub fn source(&self) -> Option<String> {
        let last = self.args.last()?;
        last.ends_with(".cu").then(|| Path::new(last).file_name().unwrap().to_string_lossy().into_owned())
    }
}

pub fn read_log(path: &Path) -> Vec<Call> {
    let text = fs::read_to_string(path).unwrap_or_default();
    let mut open: BTreeMap<String, Call> = BTreeMap::new();
    let mut done = Vec::new();
    for line in text.lines() {
        let mut parts = line.splitn(4, ' ');
        let (Some(kind), Some(t), Some(pid)) = (parts.next(), parts.next(), parts.next()) else { continue };
        let Ok(t) = t.parse::<f64>() else { continue };
        match kind {
            "S" => {
                let args = parts.next().unwrap_or("").split('\x1f').map(str::to_owned).collect();
                open.insert(pid.to_owned(), Call { start: t, end: f64::NAN, args });
            }
            "E" => {
                if let Some(mut c) = open.remove(pid) {
                    c.end = t;
                    done.push(c);
                }
            }
            _ => {}
        }
    }
    done.extend(open.into_values());
    done.sort_by(|a, b| a.start.total_cmp(&b.start));
    done
}

pub fn max_concurrency(calls: &[Call]) -> usize {
    let mut ev: Vec<(f64, i32)> = Vec::new();
    for c in calls {
        ev.push((c.start, 1));
        ev.push((if c.end.is_nan() { f64::MAX } else { c.end }, -1));
    }
    ev.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut now, mut max) = (0i32, 0i32);
    for (_, d) in ev {
        now += d;
        max = max.max(now);
    }
    max as usize
}

pub fn toolkit_nvcc(version: &str) -> Option<PathBuf> {
    provisioned(&format!("CUDA_BUILD_TEST_NVCC_{}", version.replace('.', "_")))
}

/// A tool `build-support/provision.sh` provisioned: `var` from the environment (test.sh
/// exports them), else its line in the env file it writes.
pub fn provisioned(var: &str) -> Option<PathBuf> {
    if let Some(v) = std::env::var_os(var) {
        return Some(PathBuf::from(v));
    }
    let cache = std::env::var_os("CUDA_BUILD_CACHE").map(PathBuf::from).or_else(|| {
        std::env::var_os("XDG_CACHE_HOME")
            .map(|x| PathBuf::from(x).join("cuda-build"))
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/cuda-build")))
    })?;
    let text = fs::read_to_string(cache.join("toolkits/toolkits.env")).ok()?;
    text.lines().find_map(|l| l.strip_prefix(&format!("{var}=")).map(PathBuf::from)).filter(|p| p.is_file())
}

/// The shim's template: `@REAL@` becomes the real nvcc.
const SHIM: &str = include_str!("../nvcc-shim.sh");

/// A toolkit root whose bin/nvcc is the counting shim; everything else links to the real root.
pub fn fake_root(dir: &Path, real_nvcc: &Path, version_json: Option<&str>) -> PathBuf {
    let real_nvcc = fs::canonicalize(real_nvcc).unwrap();
    let real_bin = real_nvcc.parent().unwrap();
    let real_root = real_bin.parent().unwrap();
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir.join("bin")).unwrap();
    for e in fs::read_dir(real_root).unwrap().flatten() {
        let name = e.file_name();
        if name != "bin" && name != "version.json" && name != "version.txt" {
            std::os::unix::fs::symlink(e.path(), dir.join(&name)).unwrap();
        }
    }
    for e in fs::read_dir(real_bin).unwrap().flatten() {
        if e.file_name() != "nvcc" {
            std::os::unix::fs::symlink(e.path(), dir.join("bin").join(e.file_name())).unwrap();
        }
    }
    let shim = dir.join("bin/nvcc");
    fs::write(&shim, SHIM.replace("@REAL@", &real_nvcc.to_string_lossy())).unwrap();
    fs::set_permissions(&shim, fs::Permissions::from_mode(0o755)).unwrap();
    if let Some(j) = version_json {
        fs::write(dir.join("version.json"), j).unwrap();
    }
    dir.to_path_buf()
}

pub fn nvcc_release(nvcc: &Path) -> String {
    let out = Command::new(nvcc).arg("--version").output().map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    out.unwrap_or_default()
        .lines()
        .find_map(|l| l.split("release ").nth(1).map(|r| r.replace(", V", " (V").trim().to_owned() + ")"))
        .unwrap_or_else(|| "?".into())
}
