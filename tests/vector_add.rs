//! The vector-add example built by cargo exactly as a user would, with the real CUDA 13.5:
//! the acceptance checks (archs in the fatbin, zero-nvcc no-op, header touch,
//! bad arch) and cargo's jobserver limit (`-j1`: one nvcc at a time).

#![allow(clippy::disallowed_methods)] // tests pass the real PATH through

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use common::real_nvcc;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn target() -> PathBuf {
    root().join("target/vector-add-test")
}

fn launcher(dir: &Path) -> PathBuf {
    common::counting_launcher(dir, "0.5")
}

fn take(dir: &Path, log: &str) -> Vec<String> {
    common::take_log(dir, log)
}

fn cargo(args: &[&str], nvcc_bin: &Path, launcher: &Path, archs: &str) -> Output {
    let path = format!("{}:{}", nvcc_bin.display(), std::env::var("PATH").unwrap_or_default());
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(args)
        .args(["-p", "vector-add"])
        .current_dir(root())
        .env("CARGO_TARGET_DIR", target())
        .env("PATH", path)
        .env("CUDAARCHS", archs)
        .env("CUDA_BUILD_LAUNCHER", launcher);
    for v in [
        "NVCC",
        "CUDACXX",
        "CUDA_PATH",
        "CUDA_HOME",
        "CUDAToolkit_ROOT",
        "CUDA_ROOT",
        "CUDA_TOOLKIT_ROOT_DIR",
        "TORCH_CUDA_ARCH_LIST",
        "CUDA_COMPUTE_CAP",
        "RUSTFLAGS",
    ] {
        cmd.env_remove(v);
    }
    cmd.output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The newest vector_add.fatbin under the test's target dir.
fn fatbin() -> PathBuf {
    let build = target().join("debug/build");
    fs::read_dir(build)
        .unwrap()
        .flatten()
        .map(|e| e.path().join("out/kernels/vector_add.fatbin"))
        .filter(|p| p.is_file())
        .max_by_key(|p| fs::metadata(p).unwrap().modified().unwrap())
        .unwrap()
}

#[test]
fn vector_add_acceptance_and_jobserver() {
    let Some(nvcc) = real_nvcc("13.5") else { return };
    let bin = nvcc.parent().unwrap().to_path_buf();
    let logs = tempfile::tempdir().unwrap();
    let launcher = launcher(logs.path());

    // A fresh state for the arch list used below, whatever an earlier run left.
    let out = cargo(&["build"], &bin, &launcher, "75;86");
    assert!(out.status.success(), "{}", stderr(&out));
    let listing =
        Command::new(bin.join("cuobjdump")).args(["--list-elf", "--list-ptx"]).arg(fatbin()).output().unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout).into_owned();
    assert!(listing.contains("ELF file    1: vector_add.sm_75.cubin"), "{listing}");
    assert!(listing.contains("ELF file    2: vector_add.sm_86.cubin"), "{listing}");
    assert!(listing.contains("PTX file    1: vector_add.sm_86.ptx"), "{listing}");
    assert_eq!(listing.matches("PTX file").count(), 1, "{listing}");
    take(logs.path(), "runs.log");

    let out = cargo(&["build"], &bin, &launcher, "75;86");
    assert!(out.status.success());
    assert_eq!(take(logs.path(), "runs.log"), Vec::<String>::new(), "a second build runs zero nvcc");

    let header = root().join("examples/vector-add/kernels/common.cuh");
    fs::File::options()
        .append(true)
        .open(&header)
        .unwrap()
        .set_modified(SystemTime::now() + Duration::from_secs(2))
        .unwrap();
    let out = cargo(&["build"], &bin, &launcher, "75;86");
    assert!(out.status.success());
    assert_eq!(take(logs.path(), "runs.log"), ["vector_add.cu"], "only the kernel including common.cuh");

    let run = cargo(&["run", "-q"], &bin, &launcher, "75;86");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(stdout.contains("toolkit: CUDA 13.5.37"), "{stdout}");
    assert!(stdout.contains("archs: sm_75 sm_86 compute_86"), "{stdout}");
    assert!(stdout.contains("entries: vector_add vector_add_scalar"), "{stdout}");
    assert!(stdout.contains("module scale:") && stdout.contains("entries: scale"), "{stdout}");
    // No device here: exactly the skip line, exit 0; with one, every launch right.
    let exe = target().join("debug/vector-add");
    for args in [&[][..], &["--bandwidth"]] {
        let run = Command::new(&exe).args(args).output().unwrap();
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(run.status.success(), "{args:?}: {stdout}{}", stderr(&run));
        match common::no_device_line() {
            Some(skip) => assert_eq!(stdout.lines().last(), Some(skip.as_str()), "{args:?}: {stdout}"),
            None if args.is_empty() => {
                assert!(stdout.contains("vector_add of 1048576 floats: correct\n"), "{stdout}");
                assert!(stdout.contains("vector_add of 1048579 floats: correct\n"), "{stdout}");
                assert!(stdout.contains("vector_add_scalar of 1048576 floats: correct\n"), "{stdout}");
            }
            None => assert!(stdout.contains("\"correct\":true}"), "{stdout}"),
        }
    }
    driver_errors_are_failures_not_skips(&exe);

    let out = cargo(&["build"], &bin, &launcher, "20");
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(err.contains("GPU architecture sm_20 (from CUDAARCHS) is not supported by CUDA 13.5.37"), "{err}");
    assert!(err.contains("75 80 86 87 88 89 90 100 103 107 110 120 121"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    // cargo -j1: the build script holds the only token, so nvcc runs one at a time;
    // -j2 lets two run. A new arch list recompiles both kernels each time.
    for (jobs, archs, max) in [("1", "80-real", "1"), ("2", "86-real", "2")] {
        take(logs.path(), "concurrency.log");
        let out = cargo(&["build", "-j", jobs], &bin, &launcher, archs);
        assert!(out.status.success(), "{}", stderr(&out));
        let seen = take(logs.path(), "concurrency.log");
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_eq!(seen.iter().max().map(String::as_str), Some(max), "-j{jobs}: {seen:?}");
    }
}

/// With a driver that is there but fails (a fake libcuda.so.1 first on `LD_LIBRARY_PATH`),
/// vector-add prints the error and exits 1; only "0 devices" is a skip.
fn driver_errors_are_failures_not_skips(exe: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let libs = common::fake_libcuda(dir.path());
    let run = |vars: &[(&str, &str)]| {
        let out = Command::new(exe).env("LD_LIBRARY_PATH", &libs).envs(vars.iter().copied()).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned(), stderr(&out))
    };
    let (code, stdout, _) = run(&[("FAKE_CUDA_COUNT", "0")]);
    assert_eq!((code, stdout.lines().last()), (Some(0), Some("skipped: no CUDA device (the driver counts 0 devices)")));

    let (code, stdout, err) = run(&[("FAKE_CUDA_INIT", "304")]);
    assert_eq!(code, Some(1), "{stdout}{err}");
    assert!(!stdout.contains("skipped"), "{stdout}");
    assert_eq!(
        err.trim_end(),
        "error: the CUDA driver failed before any device was used: CUDA_ERROR_OPERATING_SYSTEM (from the fake libcuda)"
    );

    // PTX too new for the driver, no SASS for the GPU: loud, with the fix.
    let (code, stdout, err) = run(&[("FAKE_CUDA_LOAD", "222"), ("FAKE_CUDA_CC", "90"), ("FAKE_CUDA_DRIVER", "13000")]);
    assert_eq!(code, Some(1), "{stdout}{err}");
    assert!(stdout.contains("device 0: Fake GPU (sm_90), driver supports CUDA 13.0"), "{stdout}");
    assert!(
        stdout.contains("loading vector_add: no SASS for sm_90: the driver JIT-compiles PTX (compute_86)"),
        "{stdout}"
    );
    assert_eq!(
        err.trim_end(),
        "error: cannot load kernels::vector_add (archs: sm_75 sm_86 compute_86) on Fake GPU (sm_90): CUDA_ERROR_UNSUPPORTED_PTX_VERSION (from the fake libcuda)\n  the image has no SASS for sm_90, and its PTX, from CUDA 13.5.37, is newer than this driver can JIT-compile (it supports CUDA <= 13.0)\n  fix: add SASS for this GPU, e.g. CUDAARCHS=\"90-real\" (or build with CUDA <= 13.0, or update the driver)"
    );
    // The same error with SASS for the GPU in the image: the error, no advice about SASS.
    let (code, _, err) = run(&[("FAKE_CUDA_LOAD", "222"), ("FAKE_CUDA_CC", "86")]);
    assert_eq!(code, Some(1));
    assert!(err.contains("(sm_86): CUDA_ERROR_UNSUPPORTED_PTX_VERSION") && !err.contains("fix:"), "{err}");
    // --bandwidth fails the same way.
    let out = Command::new(exe)
        .arg("--bandwidth")
        .env("LD_LIBRARY_PATH", &libs)
        .env("FAKE_CUDA_LOAD", "209")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("CUDA_ERROR_NO_BINARY_FOR_GPU"), "{}", stderr(&out));
}

/// Issue 6's acceptance: the Debian 11.8 toolkit with g++-12 the default and g++-11 installed
/// builds the crate's kernels with no variable set, saying g++-11 was chosen; with
/// NVCC_CCBIN=g++-12 it fails before nvcc runs, naming the fix.
#[test]
fn debian_11_8_picks_g11_through_cargo() {
    let Some(nvcc) = real_nvcc("11.8") else { return };
    if which::which("g++-11").is_err() || which::which("g++-12").is_err() {
        assert!(std::env::var_os("CI").is_none(), "CI installs g++-11 and g++-12");
        return;
    }
    let toolkit_root = common::real_root(&nvcc);
    let logs = tempfile::tempdir().unwrap();
    let launcher = launcher(logs.path());
    let run = |ccbin: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["build", "-p", "vector-add"])
            .current_dir(root())
            .env("CARGO_TARGET_DIR", root().join("target/vector-add-test-11.8"))
            .env("CUDA_PATH", &toolkit_root)
            .env("CUDAARCHS", "75-real")
            .env("CUDA_BUILD_LAUNCHER", &launcher);
        for v in ["NVCC", "CUDACXX", "CUDAHOSTCXX", "NVCC_CCBIN", "CXX", "RUSTFLAGS"] {
            cmd.env_remove(v);
        }
        if let Some(c) = ccbin {
            cmd.env("NVCC_CCBIN", c);
        }
        cmd.output().unwrap()
    };
    let out = run(None);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("warning: vector-add@0.0.0: host compiler:") && err.contains("using g++-11"), "{err}");

    take(logs.path(), "runs.log");
    let out = run(Some("g++-12"));
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(
        err.contains("error: vector-add@0.0.0: no host C++ compiler that CUDA 11.8.89 accepts: gcc 12.2.0"),
        "{err}"
    );
    assert!(err.contains("fix: install g++-11"), "{err}");
    assert_eq!(take(logs.path(), "runs.log"), Vec::<String>::new(), "fails before nvcc runs");
}
