//! Builds tests/consumer (a crate written as the README shows) with cargo, for real:
//! with a real toolkit it gets cfg(cuda) and links the real cudart; with no toolkit it
//! fails with the clear message; in optional mode it builds without cfg(cuda).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{real_nvcc, real_root};

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The tests share one target directory (and its binary): one cargo at a time.
static CARGO_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn cargo(args: &[&str], vars: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(args)
        .arg("--manifest-path")
        .arg(manifest_dir().join("tests/consumer/Cargo.toml"))
        .env("CARGO_TARGET_DIR", manifest_dir().join("target/consumer"))
        .env_remove("RUSTFLAGS");
    for v in common::CLEARED_VARS {
        cmd.env_remove(v);
    }
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn builds_and_links_cudart_with_each_real_toolkit() {
    let _serial = CARGO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    for v in ["13.5", "11.8"] {
        let Some(nvcc) = real_nvcc(v) else { continue };
        let root = real_root(&nvcc);
        let out = cargo(&["run", "-q"], &[("CUDA_PATH", &root)]);
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "CUDA {v}: {stderr}");
        // cudart 13 answers without a driver; cudart 11.8 first looks for one and returns
        // 100 (cudaErrorNoDevice) on a machine without a GPU. Then the ELF shows what was linked.
        if !stdout.contains("(rc 100)") {
            assert!(stdout.contains(&format!("linked CUDA runtime {v} (rc 0)")), "CUDA {v}: {stdout}");
        }
        let exe = manifest_dir().join("target/consumer/debug/cuda-consumer");
        let dynamic = Command::new("readelf").arg("-d").arg(&exe).output().unwrap();
        let dynamic = String::from_utf8_lossy(&dynamic.stdout);
        let major = v.split('.').next().unwrap();
        assert!(dynamic.contains(&format!("[libcudart.so.{major}")), "CUDA {v}: {dynamic}");
        assert!(dynamic.contains("RUNPATH") || dynamic.contains("RPATH"), "rpath(true) reaches the binary: {dynamic}");
        assert!(stdout.contains(&format!("cfg cuda_version={v}")), "CUDA {v}: {stdout}");
        assert_eq!(stdout.contains("cfg cuda_ge_12_0"), v != "11.8", "CUDA {v}: {stdout}");
    }
}

#[test]
fn no_toolkit_fails_clearly_and_optional_mode_builds_without_cuda() {
    let _serial = CARGO_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let bin = common::bin_without_nvcc(tmp.path());
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    // Hide the machine's own toolkits: conventional locations and cuda-build's cache.
    let vars: [(&str, &Path); 3] = [("PATH", &bin), ("CUDA_BUILD_SYSROOT", &empty), ("CUDA_BUILD_CACHE", &empty)];

    let out = cargo(&["build"], &vars);
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(
        stderr.contains("error: cuda-consumer@0.0.0: no CUDA toolkit found (required version >=11.8, <14)"),
        "{stderr}"
    );
    assert!(stderr.contains("fix: install a CUDA toolkit matching >=11.8, <14"), "{stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"), "{stderr}");

    let out = cargo(&["run", "--features", "optional"], &vars);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stdout.trim(), "built without CUDA");
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.starts_with("warning: cuda-consumer")).collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(warnings[0].contains("building without CUDA (cfg(cuda) not set): no CUDA toolkit found"), "{stderr}");
    assert!(!stderr.contains("unexpected `cfg`"), "cfgs are declared even without CUDA: {stderr}");
}
