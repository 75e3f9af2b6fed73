//! What a build meets on odd machines: concurrent builds, a build script SIGKILLed in the
//! middle of nvcc, docs.rs, unwritable output, symlink loops, long names.
#![allow(clippy::disallowed_methods)] // tests pass the real PATH through

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{real_nvcc, real_root};
use cuda_build::{Env, Error, Probe};

fn cuda(version: &str) -> Option<cuda_build::Cuda> {
    let nvcc = real_nvcc(version)?;
    let env =
        Env::from_vars([("CUDA_PATH", real_root(&nvcc)), ("PATH", PathBuf::from(std::env::var_os("PATH").unwrap()))]);
    Some(Probe::new().env(env).find().unwrap())
}

fn kernels(dir: &Path, n: usize) -> PathBuf {
    let k = dir.join("kernels");
    fs::create_dir_all(&k).unwrap();
    for i in 0..n {
        fs::write(k.join(format!("k{i}.cu")), format!("extern \"C\" __global__ void k{i}(int* x) {{ x[0] = {i}; }}\n"))
            .unwrap();
    }
    k
}

#[test]
fn concurrent_builds_into_one_out_dir_do_not_corrupt_each_other() {
    let Some(cuda) = cuda("13.5") else { return };
    let dir = tempfile::tempdir().unwrap();
    let src = kernels(dir.path(), 3);
    let out = dir.path().join("out");
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..3)
            .map(|_| s.spawn(|| cuda.kernels().dir(&src).out_dir(&out).arch("75").compile().map(|c| c.kernels.len())))
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap().unwrap(), 3);
        }
    });
    // Whatever won each rename is a complete output, and a later build trusts it.
    let c = cuda.kernels().dir(&src).out_dir(&out).arch("75").compile().unwrap();
    for k in &c.kernels {
        assert!(!k.recompiled, "{}", k.source.display());
        assert_eq!(k.entries.len(), 1);
    }
    let temps: Vec<_> = fs::read_dir(out.join("kernels"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("cuda-build-tmp"))
        .collect();
    assert!(temps.is_empty(), "{temps:?}");
}

#[test]
fn a_build_script_sigkilled_mid_nvcc_is_recovered_by_the_next_build() {
    let Some(nvcc) = real_nvcc("13.5") else { return };
    let root_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target = root_dir.join("target/hardening-sigkill");
    let logs = tempfile::tempdir().unwrap();
    // The first nvcc run kills the build script itself (its parent), then goes on writing:
    // an orphan that may still run, and write its temp file, after the next build's sweep.
    let killer = logs.path().join("killer.sh");
    let flag = logs.path().join("killed");
    let orphan = logs.path().join("orphan.pid");
    fs::write(
        &killer,
        format!(
            "#!/bin/sh\nif [ ! -e '{f}' ]; then touch '{f}'; echo $$ $PPID > '{o}'; kill -9 $PPID; fi\nexec \"$@\"\n",
            f = flag.display(),
            o = orphan.display()
        ),
    )
    .unwrap();
    common::make_executable(&killer);
    let build = |launcher: bool, archs: &str| {
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["build", "-p", "vector-add"])
            .current_dir(&root_dir)
            .env("CARGO_TARGET_DIR", &target)
            .env("CUDA_PATH", real_root(&nvcc))
            .env("CUDAARCHS", archs)
            .env_remove("CUDA_BUILD_LAUNCHER");
        if launcher {
            cmd.env("CUDA_BUILD_LAUNCHER", &killer);
        }
        cmd.output().unwrap()
    };
    let _ = fs::remove_dir_all(&target);
    let first = build(true, "80-real");
    assert!(!first.status.success(), "the build script was killed");
    assert!(String::from_utf8_lossy(&first.stderr).contains("signal: 9"), "{}", String::from_utf8_lossy(&first.stderr));
    let second = build(true, "80-real");
    assert!(second.status.success(), "{}", String::from_utf8_lossy(&second.stderr));
    let run = Command::new(target.join("debug/vector-add")).output().unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(stdout.contains("archs: sm_80") && stdout.contains("entries: vector_add vector_add_scalar"), "{stdout}");
    // The only temp file left may be the orphan's (written after the sweep, never read).
    // Its temp is named for the killed build script (its parent); it runs as itself.
    let pids = fs::read_to_string(&orphan).unwrap();
    let (pid, parent) = pids.trim().split_once(' ').unwrap();
    let temps = || -> Vec<PathBuf> {
        walk(&target.join("debug/build"))
            .into_iter()
            .filter(|e| e.to_string_lossy().contains("cuda-build-tmp"))
            .collect()
    };
    for t in temps() {
        assert!(t.to_string_lossy().contains(&format!("cuda-build-tmp-{parent}-")), "stale temp file {}", t.display());
    }
    // Once the orphan has exited, the next build that compiles (a no-op reads no folder)
    // removes its temps.
    let running = || fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "));
    let t0 = std::time::Instant::now();
    while running() && t0.elapsed() < std::time::Duration::from_secs(300) {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(!running(), "the orphaned nvcc {pid} still runs after 300 s");
    let third = build(false, "86-real");
    assert!(third.status.success(), "{}", String::from_utf8_lossy(&third.stderr));
    let run = Command::new(target.join("debug/vector-add")).output().unwrap();
    assert!(String::from_utf8_lossy(&run.stdout).contains("archs: sm_86"), "{}", String::from_utf8_lossy(&run.stdout));
    assert_eq!(temps(), Vec::<PathBuf>::new(), "temp files left after the orphan exited");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn docs_rs_without_a_toolkit_builds() {
    let root_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let bin = common::bin_without_nvcc(tmp.path());
    // The consumer crate requires CUDA (find_or_exit); under DOCS_RS it must build anyway.
    let out = Command::new(env!("CARGO"))
        .args(["run", "--manifest-path"])
        .arg(root_dir.join("tests/consumer/Cargo.toml"))
        .env("CARGO_TARGET_DIR", root_dir.join("target/hardening-docsrs"))
        .env("PATH", &bin)
        .env("DOCS_RS", "1")
        .env("CUDA_BUILD_SYSROOT", tmp.path())
        .env("CUDA_BUILD_CACHE", tmp.path())
        .env_remove("CUDA_PATH")
        .env_remove("NVCC")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("warning: cuda-consumer@0.0.0: building without CUDA (cfg(cuda) not set): no CUDA toolkit found"),
        "{err}"
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "built without CUDA");
}

#[test]
fn unwritable_out_dir_symlink_loops_and_long_names() {
    let Some(cuda) = cuda("13.5") else { return };
    let dir = tempfile::tempdir().unwrap();
    let src = kernels(dir.path(), 1);
    // OUT_DIR below a file: a clear error naming the path, no panic.
    let file = dir.path().join("a-file");
    fs::write(&file, "").unwrap();
    let err = cuda.kernels().dir(&src).out_dir(file.join("out")).arch("75").compile().unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("cannot create directory") && err.to_string().contains("a-file"), "{err}");
    // A symlink loop inside the kernel directory: the walk ends.
    std::os::unix::fs::symlink(&src, src.join("loop")).unwrap();
    let c = cuda.kernels().dir(&src).out_dir(dir.path().join("out")).arch("75").compile().unwrap();
    assert!(!c.kernels.is_empty());
    // A 200-character kernel name.
    let long = "k".repeat(200);
    let f = dir.path().join(format!("{long}.cu"));
    fs::write(&f, "extern \"C\" __global__ void longname(int* x) { x[0] = 1; }\n").unwrap();
    let c = cuda.kernels().file(&f).out_dir(dir.path().join("out2")).arch("75").compile().unwrap();
    assert_eq!(c.kernels[0].entries, ["longname"]);
    assert_eq!(c.kernels[0].ident, long);
}
