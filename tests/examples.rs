//! The examples, run by cargo as a user would: static-lib, optional-cuda (with and without a
//! toolkit) and libtorch-check (the real torch wheel; a cu124 layout refuses CUDA 13).
//! GPU parts print "skipped: no CUDA device (why)" and exit 0 on machines without one, and
//! fail (exit 1) for any other driver error.
#![allow(clippy::disallowed_methods)] // tests pass the real PATH through

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::real_nvcc;

fn run(package: &str, vars: &[(&str, &Path)]) -> Output {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(["run", "-p", package]).current_dir(&root).env("CARGO_TARGET_DIR", root.join("target/examples-test"));
    for v in common::CLEARED_VARS {
        cmd.env_remove(v);
    }
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn texts(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// One cargo at a time: the examples share a target directory.
static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn static_lib_links_and_runs() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let Some(nvcc) = real_nvcc("13.5") else { return };
    let out = run("static-lib", &[("CUDA_PATH", &common::real_root(&nvcc)), ("CUDAARCHS", Path::new("75"))]);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.starts_with("linked libsaxpy.a with the CUDA runtime\n"), "{stdout}");
    // No device here: exactly the skip line, exit 0; with one, saxpy right.
    match common::no_device_line() {
        Some(skip) => assert_eq!(stdout.lines().last(), Some(skip.as_str()), "{stdout}"),
        None => assert_eq!(stdout.lines().last(), Some("saxpy of 65536 floats: correct"), "{stdout}"),
    }

    // A driver that is there but fails (a fake libcuda.so.1): the error and exit 1; only
    // "0 devices" is a skip. With a device reported, the static runtime (13.5) refuses the
    // fake driver: an error too, never "no device".
    let exe = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/examples-test/debug/static-lib");
    let dir = tempfile::tempdir().unwrap();
    let libs = common::fake_libcuda(dir.path());
    let fake = |var: &str, value: &str| {
        let o = Command::new(&exe).env("LD_LIBRARY_PATH", &libs).env(var, value).output().unwrap();
        let (stdout, stderr) = texts(&o);
        (o.status.code(), stdout, stderr)
    };
    let (code, stdout, _) = fake("FAKE_CUDA_COUNT", "0");
    assert_eq!((code, stdout.lines().last()), (Some(0), Some("skipped: no CUDA device (the driver counts 0 devices)")));
    let (code, stdout, stderr) = fake("FAKE_CUDA_INIT", "304");
    assert_eq!((code, stderr.trim_end()), (Some(1), "error: cuInit failed: CUresult 304"), "{stdout}");
    let (code, stdout, stderr) = fake("FAKE_CUDA_COUNT", "1");
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(!stdout.contains("skipped"), "{stdout}");
    assert!(stderr.starts_with("error: the driver reports a device, but the CUDA runtime counts -1: "), "{stderr}");
}

#[test]
fn optional_cuda_with_and_without_a_toolkit() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let Some(nvcc) = real_nvcc("13.5") else { return };
    let out = run("optional-cuda", &[("CUDA_PATH", &common::real_root(&nvcc)), ("CUDAARCHS", Path::new("75;86"))]);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("cuda: 1 PTX module(s), entries [\"square\"], archs [\"compute_75\"]"), "{stdout}");

    let tmp = tempfile::tempdir().unwrap();
    let bin = common::bin_without_nvcc(tmp.path());
    let out =
        run("optional-cuda", &[("PATH", &bin), ("CUDA_BUILD_SYSROOT", tmp.path()), ("CUDA_BUILD_CACHE", tmp.path())]);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("cpu fallback (built without CUDA)"), "{stdout}");
    assert!(stderr.contains("warning: optional-cuda@0.0.0: building without CUDA"), "{stderr}");
}

#[test]
fn libtorch_check_against_real_and_mismatched_torch() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let Some(nvcc) = real_nvcc("13.5") else { return };
    let cuda_path = common::real_root(&nvcc);
    if let Some(site) = common::real_torch_site() {
        let out = run(
            "libtorch-check",
            &[("CUDA_PATH", &cuda_path), ("LIBTORCH_USE_PYTORCH", Path::new("1")), ("PYTHONPATH", &site)],
        );
        let (stdout, stderr) = texts(&out);
        assert!(out.status.success(), "{stderr}");
        assert!(stdout.contains("libtorch 2.11.0 (CUDA 13.0) found by LIBTORCH_USE_PYTORCH"), "{stdout}");
        assert!(stderr.contains("same major, different minor"), "the minor warning reaches cargo: {stderr}");
    }
    // A cu124 libtorch against CUDA 13: the build stops, naming both.
    let tmp = tempfile::tempdir().unwrap();
    let torch = tmp.path().join("torch");
    std::fs::create_dir_all(torch.join("lib")).unwrap();
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/libtorch/2.5.1+cu124");
    std::fs::copy(fixture.join("version.py"), torch.join("version.py")).unwrap();
    std::fs::write(torch.join("lib/libtorch_cuda.so"), "").unwrap();
    let out = run("libtorch-check", &[("CUDA_PATH", &cuda_path), ("LIBTORCH", &torch)]);
    let (_, stderr) = texts(&out);
    assert!(!out.status.success());
    assert!(
        stderr.contains("error: libtorch-check@0.0.0: the CUDA toolkit named by CUDA_PATH=")
            && stderr.contains("is not usable: CUDA 13.5 does not fit libtorch 2.5.1, built with CUDA 12.4"),
        "{stderr}"
    );
}

/// Several GPU crates built together share cargo's jobserver: `-j2` means at most two nvcc
/// across all of them, and every crate's kernels come out right.
#[test]
fn a_workspace_of_gpu_crates_shares_cargos_jobserver() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let Some(nvcc) = real_nvcc("13.5") else { return };
    let logs = tempfile::tempdir().unwrap();
    let launcher = common::counting_launcher(logs.path(), "0.5");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // A cold build of the three crates' kernels: clean them first.
    let _ = Command::new(env!("CARGO"))
        .args(["clean", "-p", "vector-add", "-p", "static-lib", "-p", "optional-cuda"])
        .current_dir(&root)
        .env("CARGO_TARGET_DIR", root.join("target/workspace-test"))
        .output();
    let out = Command::new(env!("CARGO"))
        .args(["build", "-j", "2", "-p", "vector-add", "-p", "static-lib", "-p", "optional-cuda"])
        .current_dir(&root)
        .env("CARGO_TARGET_DIR", root.join("target/workspace-test"))
        .env("CUDA_PATH", common::real_root(&nvcc))
        .env("CUDAARCHS", "87-real")
        .env("CUDA_BUILD_LAUNCHER", &launcher)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let seen: Vec<usize> = std::fs::read_to_string(logs.path().join("concurrency.log"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    assert!(seen.len() >= 4, "vector-add (2), static-lib (1), optional-cuda (1) kernels: {seen:?}");
    assert!(seen.iter().all(|&n| n <= 2), "at most -j2 nvcc at once across crates: {seen:?}");
}
