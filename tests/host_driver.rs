//! Host compiler selection and the driver probe: the real Debian 11.8 + g++-11/g++-12 case,
//! fake compilers printing real `--version` outputs of gcc 9-15 and clang 14-20, fake
//! `/proc` trees and fake nvidia-smi scripts (real outputs, garbage, hanging).
#![allow(clippy::disallowed_methods)] // tests pass the real PATH through

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{real_nvcc, real_root, Fake};
use cuda_build::{Env, Error, Probe, Status};

fn real_path() -> PathBuf {
    PathBuf::from(std::env::var_os("PATH").unwrap_or_default())
}

fn gcc_version(major: u32) -> String {
    let full = match major {
        9 => "9.4.0",
        10 => "10.5.0",
        11 => "11.3.0",
        12 => "12.2.0",
        13 => "13.2.0",
        14 => "14.2.0",
        _ => "15.1.0",
    };
    format!("g++-{major} (Debian {full}-1) {full}\nCopyright (C) 2023 Free Software Foundation, Inc.\nThis is free software; see the source for copying conditions.\n")
}

fn clang_version(major: u32) -> String {
    format!("Debian clang version {major}.0.6\nTarget: x86_64-pc-linux-gnu\nThread model: posix\nInstalledDir: /usr/lib/llvm-{major}/bin\n")
}

/// A fake CUDA 12.8.61 toolkit (gcc <= 14, clang <= 19) at /cuda.
fn fake_toolkit(fs: &Fake) -> PathBuf {
    if !fs.path("/cuda").exists() {
        fs.nvidia_root("/cuda", "12.8.61");
    }
    fs.path("/cuda")
}

fn compiler(fs: &Fake, name: &str, version_text: &str) {
    fs.exe(&format!("/bin/{name}"), &format!("#!/bin/sh\ncat <<'EOF'\n{version_text}EOF\n"));
}

fn probe(fs: &Fake, extra: &[(&str, &Path)]) -> cuda_build::Report {
    let root = fake_toolkit(fs);
    let bin = fs.path("/bin");
    let mut vars: Vec<(&str, &Path)> = vec![("CUDA_PATH", &root), ("PATH", &bin)];
    vars.extend_from_slice(extra);
    let mut p = Probe::new();
    p.env(fs.env(&vars)).tool_timeout(Duration::from_secs(2));
    p.report()
}

fn host_check(r: &cuda_build::Report) -> (Status, String) {
    let c = r.checks.iter().find(|c| c.name == "host-compiler").expect("a host-compiler check");
    (c.status, c.message.clone())
}

#[test]
fn every_gcc_and_clang_generation_against_the_table() {
    // CUDA 12.8: gcc <= 14, clang <= 19.
    for major in 9..=15 {
        let fs = Fake::new();
        compiler(&fs, "g++", &gcc_version(major));
        let r = probe(&fs, &[]);
        let hc = r.host_compiler.clone().unwrap();
        assert_eq!(hc.version.unwrap().major, major);
        assert_eq!(hc.supported, major <= 14, "gcc {major}");
        assert_eq!(
            host_check(&r).0,
            if major <= 14 { Status::Ok } else { Status::Error },
            "gcc {major}: {:?}",
            host_check(&r)
        );
    }
    for major in 14..=20 {
        let fs = Fake::new();
        compiler(&fs, "clang++", &clang_version(major));
        let r = probe(&fs, &[]);
        let hc = r.host_compiler.clone().unwrap();
        assert_eq!(hc.kind.to_string(), "clang");
        assert_eq!(hc.supported, major <= 19, "clang {major}");
    }
}

#[test]
fn a_too_new_default_is_replaced_by_the_newest_supported_installed_one() {
    let fs = Fake::new();
    compiler(&fs, "g++", &gcc_version(15));
    compiler(&fs, "g++-13", &gcc_version(13));
    compiler(&fs, "g++-14", &gcc_version(14));
    let r = probe(&fs, &[]);
    let (status, msg) = host_check(&r);
    assert_eq!(status, Status::Warn);
    assert!(msg.contains("is newer than CUDA 12.8.61 accepts (gcc <= 14); using g++-14"), "{msg}");
    assert_eq!(r.host_compiler.unwrap().path, fs.path("/bin/g++-14"));

    // clang family: clang++-19 replaces clang++ 20.
    let fs = Fake::new();
    compiler(&fs, "clang++", &clang_version(20));
    compiler(&fs, "clang++-19", &clang_version(19));
    let r = probe(&fs, &[]);
    assert_eq!(r.host_compiler.unwrap().path, fs.path("/bin/clang++-19"));
}

#[test]
fn an_explicit_compiler_is_never_replaced() {
    let fs = Fake::new();
    compiler(&fs, "g++", &gcc_version(13));
    compiler(&fs, "g++-15", &gcc_version(15));
    for var in ["NVCC_CCBIN", "CUDAHOSTCXX"] {
        let r = probe(&fs, &[(var, Path::new("g++-15"))]);
        let (status, msg) = host_check(&r);
        assert_eq!(status, Status::Error, "{var}");
        assert!(msg.contains(&format!("from {var}")) && msg.contains("never replaced"), "{msg}");
        assert!(
            msg.contains("fix: install g++-14")
                && msg.contains("NVCC_CCBIN")
                && msg.contains("allow_unsupported_compiler"),
            "{msg}"
        );
    }
    let r =
        probe(&fs, &[("NVCC_CCBIN", Path::new("g++-15")), ("CUDA_BUILD_ALLOW_UNSUPPORTED_COMPILER", Path::new("1"))]);
    let (status, msg) = host_check(&r);
    assert_eq!(status, Status::Warn, "{msg}");
    assert!(msg.contains("-allow-unsupported-compiler"), "{msg}");
}

#[test]
fn no_compiler_or_garbage_is_a_clear_error() {
    let fs = Fake::new();
    std::fs::create_dir_all(fs.path("/bin")).unwrap();
    let (status, msg) = host_check(&probe(&fs, &[]));
    assert_eq!(status, Status::Error);
    assert!(msg.contains("no C++ compiler found") && msg.contains("apt install g++"), "{msg}");
    let fs = Fake::new();
    fs.exe("/bin/g++", "#!/bin/sh\nexec sleep 60\n");
    let start = Instant::now();
    let (status, msg) = host_check(&probe(&fs, &[]));
    assert!(start.elapsed() < Duration::from_secs(30));
    assert_eq!(status, Status::Error);
    assert!(msg.contains("did not finish within 2 s"), "{msg}");
}

// ---- the driver ----

fn smi(fs: &Fake, script_body: &str) {
    fs.exe("/bin/nvidia-smi", &format!("#!/bin/sh\n{script_body}\n"));
}

#[test]
fn proc_and_nvidia_smi_of_several_driver_generations() {
    // /proc first (no spawn), nvidia-smi for the GPUs.
    let fs = Fake::new();
    compiler(&fs, "g++", &gcc_version(12));
    fs.file("/proc/driver/nvidia/version", "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build  (nixbld@)  \nGCC version:  gcc version 15.3.0 (GCC) \n");
    smi(&fs, "echo 'NVIDIA H200, 580.159.04, 9.0'");
    let r = probe(&fs, &[]);
    assert_eq!(r.driver.version.as_ref().unwrap().to_string(), "580.159.04");
    assert_eq!(r.driver.source.as_deref(), Some("/proc/driver/nvidia/version"));
    assert_eq!(r.driver.gpus.len(), 1);
    assert_eq!(r.driver.gpus[0].name, "NVIDIA H200");
    assert_eq!(r.driver.gpus[0].compute_cap.unwrap().sm(), 90);

    // Driver 470 knows no compute_cap field: asked again without it.
    let fs = Fake::new();
    compiler(&fs, "g++", &gcc_version(12));
    smi(&fs, "case \"$1\" in *compute_cap*) echo 'Field \"compute_cap\" is not a valid field to query.' ; exit 2;; esac\necho 'Tesla V100-SXM2-16GB, 470.82.01'");
    let r = probe(&fs, &[]);
    assert_eq!(r.driver.source.as_deref(), Some("nvidia-smi"));
    assert_eq!(r.driver.version.as_ref().unwrap().to_string(), "470.82.01");
    assert_eq!(r.driver.gpus[0].compute_cap, None);
    let d = r.checks.iter().find(|c| c.name == "driver").unwrap();
    assert_eq!(d.status, Status::Warn, "470 is older than CUDA 12.8 needs: {}", d.message);
    assert!(
        d.message.contains("470.82.01") && d.message.contains(">= 570.26") && d.message.contains("supports CUDA 11.4"),
        "{}",
        d.message
    );

    // Minor-version compatibility: 12.2's driver runs 12.8 SASS.
    let fs = Fake::new();
    compiler(&fs, "g++", &gcc_version(12));
    smi(&fs, "echo 'NVIDIA GeForce RTX 3090, 535.104.05, 8.6'");
    let d = probe(&fs, &[]).checks.into_iter().find(|c| c.name == "driver").unwrap();
    assert_eq!(d.status, Status::Ok, "{}", d.message);
    assert!(d.message.contains("minor-version compatibility"), "{}", d.message);
}

/// `/proc/driver/nvidia/version` and `nvidia-smi` as the H200 machine printed them (driver
/// 580.159.04, CUDA 13.0 driver API), where 13.5's PTX failed with CUDA_ERROR_UNSUPPORTED_PTX_VERSION.
const H200_PROC: &str = "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build  (nixbld@)  \nGCC version:  gcc version 15.3.0 (GCC) \n";
const H200_SMI: &str = "echo 'NVIDIA H200, 580.159.04, 9.0'";

/// A doctor's report on a fake toolkit of `version` with this driver.
fn driver_report(version: &str, proc: &str, smi_body: &str) -> cuda_build::Report {
    let fs = Fake::new();
    fs.nvidia_root("/cuda", version);
    compiler(&fs, "g++", &gcc_version(12));
    fs.file("/proc/driver/nvidia/version", proc);
    smi(&fs, smi_body);
    probe(&fs, &[])
}

fn check<'a>(r: &'a cuda_build::Report, name: &str) -> &'a cuda_build::Check {
    r.checks.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no {name} check: {:#?}", r.checks))
}

#[test]
fn the_doctor_gives_the_ptx_jit_answer_for_the_h200_driver() {
    // 13.5 on driver 580: SASS runs (minor-version compatibility), PTX cannot be JIT-compiled.
    let r = driver_report("13.5.37", H200_PROC, H200_SMI);
    let d = check(&r, "driver");
    assert_eq!(d.status, Status::Ok, "{}", d.message);
    assert!(
        d.message.contains("runs SASS built by CUDA 13.5.37 through minor-version compatibility (>= 580 for 13.x)")
            && d.message.contains("PTX built by it cannot be JIT-compiled by this driver (it supports CUDA <= 13.0)"),
        "{}",
        d.message
    );
    assert!(!d.message.contains("runs CUDA 13.5.37 programs"), "{}", d.message);
    let jit = check(&r, "ptx-jit");
    assert_eq!(jit.status, Status::Warn, "{}", jit.message);
    assert!(
        jit.message.starts_with(
            "PTX built by CUDA 13.5.37 cannot be JIT-compiled by driver 580.159.04 (it supports CUDA <= 13.0)"
        ) && jit.message.contains("CUDA_ERROR_UNSUPPORTED_PTX_VERSION")
            && jit.message.ends_with("e.g. CUDAARCHS=\"90-real\""),
        "{}",
        jit.message
    );
    assert!(r.ok(), "a warning, not an error: {:#?}", r.checks);
    // What a tool prints: the same finding in the text and in the JSON.
    let text = r.to_string();
    assert!(text.contains("\n  driver:    580.159.04 (from /proc/driver/nvidia/version)"), "{text}");
    assert!(text.contains("\n  gpu:       NVIDIA H200 (compute capability 9.0)"), "{text}");
    assert!(text.contains(&format!("\n  [WARN ] ptx-jit: {}", jit.message)), "{text}");
    let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(json["driver"]["version"], "580.159.04");
    assert_eq!(json["driver"]["gpus"][0]["compute_cap"], "9.0");
    let found = json["checks"].as_array().unwrap().iter().find(|c| c["name"] == "ptx-jit").unwrap();
    assert_eq!((found["status"].as_str(), found["message"].as_str()), (Some("warn"), Some(jit.message.as_str())));

    // 12.4 on the same driver: its minimum is known and met, PTX included (JIT measured there).
    let r = driver_report("12.4.131", H200_PROC, H200_SMI);
    let d = check(&r, "driver");
    assert!(d.message.contains("runs CUDA 12.4.131 programs, PTX included (needs >= 550.54.14)"), "{}", d.message);
    let jit = check(&r, "ptx-jit");
    assert_eq!(jit.status, Status::Ok);
    assert_eq!(jit.message, "driver 580.159.04 JIT-compiles PTX built by CUDA 12.4.131 (needs >= 550.54.14)");
}

#[test]
fn no_known_minimum_for_13_5_means_unknown_not_a_failure() {
    // The H200's lines with 13.3's minimum driver (610.43.02): newer than every minimum cuda-build
    // knows, and NVIDIA's table for 13.4/13.5 was not found, so whether it JITs 13.5 PTX is unknown.
    let r = driver_report(
        "13.5.37",
        &H200_PROC.replace("580.159.04", "610.43.02"),
        &H200_SMI.replace("580.159.04", "610.43.02"),
    );
    let d = check(&r, "driver");
    assert_eq!(d.status, Status::Ok, "{}", d.message);
    assert!(d.message.contains("whether this driver JIT-compiles PTX built by it is unknown"), "{}", d.message);
    let jit = check(&r, "ptx-jit");
    assert_eq!(jit.status, Status::Ok, "{}", jit.message);
    assert!(
        jit.message.starts_with("unknown whether driver 610.43.02 JIT-compiles PTX built by CUDA 13.5.37")
            && jit.message.contains("(it supports CUDA <= 13.3; 13.4 and newer: unknown)")
            && !jit.message.contains("cannot"),
        "{}",
        jit.message
    );
    // 13.3 on that driver: known, met.
    let r = driver_report("13.0.48", &H200_PROC.replace("580.159.04", "610.43.02"), "exit 1");
    assert_eq!(
        check(&r, "ptx-jit").message,
        "driver 610.43.02 JIT-compiles PTX built by CUDA 13.0.48 (needs >= 580.65.06)"
    );
    // No driver seen: the SASS minimum, and the PTX one said to be unknown.
    let fs = Fake::new();
    fs.nvidia_root("/cuda", "13.5.37");
    compiler(&fs, "g++", &gcc_version(12));
    let r = probe(&fs, &[]);
    let d = check(&r, "driver");
    assert!(
        d.message.contains("need driver >= 580 to run their SASS")
            && d.message.contains("the driver that JIT-compiles their PTX is unknown"),
        "{}",
        d.message
    );
    assert!(r.checks.iter().all(|c| c.name != "ptx-jit"), "no driver, no JIT answer: {:#?}", r.checks);
}

#[test]
fn missing_garbage_or_hanging_nvidia_smi_means_no_driver_seen() {
    for (body, note) in [
        ("echo 'total garbage'", "cannot read"),
        ("exec sleep 60", "did not finish within 2 s"),
        ("echo boom >&2; exit 9", "failed"),
    ] {
        let fs = Fake::new();
        compiler(&fs, "g++", &gcc_version(12));
        smi(&fs, body);
        let start = Instant::now();
        let r = probe(&fs, &[]);
        assert!(start.elapsed() < Duration::from_secs(30), "{body}");
        assert_eq!(r.driver.version, None, "{body}");
        assert!(r.ok(), "{body}: no driver is normal on a build machine: {:#?}", r.checks);
        assert!(r.driver.notes.iter().any(|n| n.contains(note)), "{body}: {:?}", r.driver.notes);
    }
    let fs = Fake::new();
    compiler(&fs, "g++", &gcc_version(12));
    let r = probe(&fs, &[]);
    let d = r.checks.iter().find(|c| c.name == "driver").unwrap();
    assert_eq!(d.status, Status::Ok);
    // Without nvidia-smi nothing was spawned; only feature `driver` may note libcuda.
    assert!(r.driver.notes.iter().all(|n| n.contains("libcuda")), "{:?}", r.driver.notes);
    assert!(d.message.contains("no NVIDIA driver seen") && d.message.contains(">= 570.26"), "{}", d.message);
}

// ---- with real toolkits ----

fn compile_env(version: &str, extra: &[(&str, PathBuf)]) -> Option<cuda_build::Cuda> {
    let nvcc = real_nvcc(version)?;
    let mut vars: Vec<(String, PathBuf)> = vec![("CUDA_PATH".into(), real_root(&nvcc))];
    if !extra.iter().any(|(k, _)| *k == "PATH") {
        vars.push(("PATH".into(), real_path()));
    }
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    Some(Probe::new().env(Env::from_vars(vars)).find().unwrap())
}

fn kernel(dir: &Path) -> PathBuf {
    let k = dir.join("k.cu");
    std::fs::write(&k, "extern \"C\" __global__ void k(float* x) { x[0] = 1.0f; }\n").unwrap();
    k
}

#[test]
fn debian_11_8_with_g12_default_builds_with_g11_and_says_so() {
    let Some(nvcc) = real_nvcc("11.8") else { return };
    let (Ok(g11), Ok(g12)) = (which::which("g++-11"), which::which("g++-12")) else {
        assert!(std::env::var_os("CI").is_none(), "CI installs g++-11 and g++-12");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let k = kernel(dir.path());

    let cuda = compile_env("11.8", &[]).unwrap();
    let c = cuda.kernels().file(&k).out_dir(dir.path().join("out")).arch("75").compile().unwrap();
    let w = c.warnings.iter().find(|w| w.starts_with("host compiler:")).expect("a warning naming the choice");
    assert!(w.contains("is newer than CUDA 11.8.89 accepts (gcc <= 11); using g++-11"), "{w}");
    assert!(c.kernels[0].recompiled);
    // The warning repeats on every build; it says how to silence it, and that works.
    let chosen = w.split("set NVCC_CCBIN=").nth(1).and_then(|r| r.split(' ').next()).expect("how to silence it");
    assert!(w.ends_with("to choose it and silence this warning)"), "{w}");
    assert_eq!(std::fs::canonicalize(chosen).unwrap(), std::fs::canonicalize(&g11).unwrap(), "{w}");
    let cuda = compile_env("11.8", &[("NVCC_CCBIN", PathBuf::from(chosen))]).unwrap();
    let c = cuda.kernels().file(&k).out_dir(dir.path().join("out")).arch("75").compile().unwrap();
    assert!(!c.warnings.iter().any(|w| w.starts_with("host compiler:")), "silenced: {:?}", c.warnings);

    // NVCC_CCBIN=g++-12: refused before nvcc runs, with the fix.
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("runs");
    let launcher = logs.path().join("l.sh");
    std::fs::write(&launcher, format!("#!/bin/sh\necho run >> '{}'\nexec \"$@\"\n", log.display())).unwrap();
    common::make_executable(&launcher);
    let cuda = compile_env("11.8", &[("NVCC_CCBIN", g12.clone()), ("CUDA_BUILD_LAUNCHER", launcher.clone())]).unwrap();
    let err = cuda.kernels().file(&k).out_dir(dir.path().join("out2")).arch("75").compile().unwrap_err();
    assert!(matches!(err, Error::HostCompiler(_)), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("gcc 12.2.0") && msg.contains("from NVCC_CCBIN") && msg.contains("newest gcc accepted is 11"),
        "{msg}"
    );
    assert!(msg.contains("fix: install g++-11"), "{msg}");
    assert!(!log.exists(), "nvcc never ran");

    // Without g++-11 on PATH: the same clear error, naming what was looked for.
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(&g12, bin.join("g++")).unwrap();
    let cuda = compile_env("11.8", &[("PATH", bin.clone())]).unwrap();
    let msg = cuda.kernels().file(&k).out_dir(dir.path().join("out3")).arch("75").compile().unwrap_err().to_string();
    assert!(msg.contains("no g++-11 or older on PATH") && msg.contains("fix: install g++-11"), "{msg}");
    let _ = (g11, nvcc);
}

#[test]
fn gpus_present_become_the_default_archs_and_ptx_jit_is_warned() {
    let Some(_) = real_nvcc("13.5") else { return };
    let fs = Fake::new();
    smi(&fs, "echo 'NVIDIA H200, 580.159.04, 9.0'");
    let path = PathBuf::from(format!("{}:{}", fs.path("/bin").display(), real_path().display()));
    let dir = tempfile::tempdir().unwrap();
    let k = kernel(dir.path());

    let cuda = compile_env("13.5", &[("PATH", path.clone())]).unwrap();
    let c = cuda.kernels().file(&k).out_dir(dir.path().join("out")).compile().unwrap();
    assert_eq!(c.archs.names(), ["sm_90", "compute_90"], "the H200's arch, no spec given");
    assert_eq!(c.arch_source.to_string(), "native (the GPUs present)");
    // 13.5's PTX cannot be JIT-compiled by a 13.0 driver (seen on the real H200).
    let w = c.warnings.iter().find(|w| w.starts_with("PTX built by CUDA 13.5.37")).expect("ptx-jit warning");
    assert!(w.contains("driver 580.159.04 (it supports CUDA <= 13.0)"), "{w}");

    // A driver newer than every known minimum: no prediction, so no warning on every build.
    let fs3 = Fake::new();
    smi(&fs3, "echo 'NVIDIA H200, 610.43.02, 9.0'");
    let path = PathBuf::from(format!("{}:{}", fs3.path("/bin").display(), real_path().display()));
    let cuda = compile_env("13.5", &[("PATH", path)]).unwrap();
    let c = cuda.kernels().file(&k).out_dir(dir.path().join("out3")).compile().unwrap();
    assert_eq!(c.archs.names(), ["sm_90", "compute_90"], "PTX in the build, and the driver seen");
    assert!(!c.warnings.iter().any(|w| w.contains("PTX")), "{:?}", c.warnings);

    // A GPU newer than the toolkit: newest SASS plus PTX, with a warning.
    let fs2 = Fake::new();
    smi(&fs2, "echo 'NVIDIA Future GPU, 700.10.01, 15.0'");
    let path = PathBuf::from(format!("{}:{}", fs2.path("/bin").display(), real_path().display()));
    let cuda = compile_env("13.5", &[("PATH", path)]).unwrap();
    let c = cuda.kernels().file(&k).out_dir(dir.path().join("out2")).compile().unwrap();
    assert_eq!(c.archs.names(), ["sm_121", "compute_121"]);
    assert!(c.warnings.iter().any(|w| w.contains("GPU sm_150 is newer than CUDA 13.5.37 knows")), "{:?}", c.warnings);
}

/// Feature `driver`: libcuda through cudarc's dynamic loading. On a machine without a GPU
/// (Debian's toolkit installs libcuda1 anyway) it loads, cuInit fails, and that is a note.
#[cfg(feature = "driver")]
#[test]
fn libcuda_without_a_gpu_is_a_note_not_a_failure() {
    let fs = Fake::new();
    compiler(&fs, "g++", &gcc_version(12));
    let r = probe(&fs, &[]);
    if std::path::Path::new("/proc/driver/nvidia/version").exists() {
        eprintln!("skipped: this machine has a driver; the GPU path is covered by the device run");
        return;
    }
    assert!(r.driver.gpus.is_empty());
    assert!(r.ok(), "{:#?}", r.checks);
    let libcuda = ["/usr/lib/x86_64-linux-gnu/libcuda.so.1", "/lib/x86_64-linux-gnu/libcuda.so.1"]
        .iter()
        .any(|p| Path::new(p).exists());
    if libcuda {
        assert!(r.driver.notes.iter().any(|n| n.contains("libcuda loads but cuInit failed")), "{:?}", r.driver.notes);
    }
}
