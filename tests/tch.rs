//! examples/tch-extension, a real tch-rs crate, built and run by cargo as its README says: tch
//! 0.26 and torch-sys 0.26 against the torch 2.13.0 wheel with its CUDA libraries
//! (build-support/provision.sh tch), found through LIBTORCH_USE_PYTORCH; our kernel in a static
//! library with the shared cudart; CUDA 13.0 (torch's own). Without a GPU the binary says
//! "skipped: no CUDA device"; on a GPU it compares our kernel with tch and fails if they differ.
#![allow(clippy::disallowed_methods)] // tests pass the real PATH through

mod common;

use std::path::{Path, PathBuf};
use std::time::Instant;

use common::{real_nvcc, real_root, real_tch_site, tch_cargo};

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/tch-extension")
}

/// What the example's build script printed in its last run (cargo keeps it in `output`).
fn build_script_output() -> String {
    let build = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tch-extension/debug/build");
    let newest = std::fs::read_dir(&build)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("tch-extension-"))
        .map(|e| e.path().join("output"))
        .filter(|p| p.is_file())
        .max_by_key(|p| p.metadata().unwrap().modified().unwrap())
        .expect("the example's build script ran");
    std::fs::read_to_string(newest).unwrap()
}

/// Asserts what the example prints on any machine, and the skip or the GPU comparison.
pub fn assert_tch_run(stdout: &str, toolkit: &str) {
    let expect =
        format!("built with toolkit CUDA {toolkit}; libtorch 2.13.0 (CUDA 13.0) found by DEP_TCH_LIBTORCH_LIB");
    assert!(stdout.contains(&expect), "{expect}\n{stdout}");
    assert!(stdout.contains("tch on the CPU: sum of relu(1.5 x + -0.25) = 1444524.154"), "{stdout}");
    // libtorch_cuda really loaded (link_libtorch_cuda), and exactly one CUDA runtime.
    let loaded = stdout.lines().find(|l| l.starts_with("loaded: ")).unwrap_or_else(|| panic!("{stdout}"));
    assert!(loaded.starts_with("loaded: libtorch_cuda.so: 1, CUDA runtime: /"), "{loaded}");
    assert!(loaded.ends_with("/libcudart.so.13") && !loaded.contains(", /"), "{loaded}");
    if stdout.contains("skipped: no CUDA device") {
        assert!(stdout.contains("tch::Cuda::is_available(): false") && stdout.contains("device: Cpu"), "{stdout}");
    } else {
        assert!(stdout.contains("tch::Cuda::is_available(): true"), "{stdout}");
        assert!(stdout.contains("our kernel vs tch on 1048576 floats on Cuda(0)"), "{stdout}");
    }
}

#[test]
fn tch_extension_builds_against_the_real_torch_and_runs() {
    let Some(nvcc) = real_nvcc("13.0") else { return };
    let Some(site) = real_tch_site() else { return };
    let t0 = Instant::now();
    let out = tch_cargo(&example(), &site, &real_root(&nvcc)).args(["run", "--locked"]).output().unwrap();
    eprintln!("cargo run of tch-extension: {:.1} s", t0.elapsed().as_secs_f64());
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_tch_run(&stdout, &common::nvcc_says(&nvcc));

    // The build script read what torch-sys exported, and linked libtorch_cuda for good.
    let build = build_script_output();
    let lib = site.join("torch/lib");
    for line in [
        "cargo::rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB".to_owned(),
        "cargo::rustc-link-lib=static=torch_ext".to_owned(),
        "cargo::rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed".to_owned(),
        format!("cargo::rustc-link-search=native={}", lib.display()),
        format!("cargo::rustc-link-arg=-Wl,-rpath,{}", lib.display()),
    ] {
        assert!(build.lines().any(|l| l == line), "no {line} in\n{build}");
    }

    // libtorch's CUDA was checked: a CUDA 12 toolkit stops the build, naming both.
    let Some(nvcc12) = real_nvcc("12.4") else { return };
    let out = tch_cargo(&example(), &site, &real_root(&nvcc12)).args(["build", "--locked"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    let error =
        stderr.lines().find(|l| l.starts_with("error: tch-extension@0.0.0: ")).unwrap_or_else(|| panic!("{stderr}"));
    assert!(error.contains("libtorch") && error.contains("13.0") && error.contains("12.4"), "{stderr}");
}
