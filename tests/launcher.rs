//! A compiler cache as nvcc's launcher (CUDA_BUILD_LAUNCHER): after the outputs are
//! deleted (`cargo clean`), the rebuild is served from the cache. Real ccache and sccache
//! from Debian's packages; what each can cache was measured: ccache 4.7 caches nvcc `-c`
//! only, sccache 0.4 caches `-c` and `-ptx` (neither caches `-fatbin`).

#![allow(clippy::disallowed_methods)] // tests read CI from the real environment

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{real_nvcc, real_root};
use cuda_build::{Env, Probe};

fn tool(name: &str) -> Option<PathBuf> {
    let found = which::which(name).ok();
    if found.is_none() {
        assert!(std::env::var_os("CI").is_none(), "{name} is not installed in CI: build-support/test.sh installs it");
        eprintln!("skipped: {name} not installed");
    }
    found
}

/// A launcher script that pins the cache directory, then runs the cache tool.
fn wrapper(dir: &Path, tool: &Path, var: &str) -> PathBuf {
    let p = dir.join("launch.sh");
    let cache = dir.join("cache");
    fs::write(&p, format!("#!/bin/sh\nexport {var}='{}'\nexec '{}' \"$@\"\n", cache.display(), tool.display()))
        .unwrap();
    common::make_executable(&p);
    p
}

fn kernels(dir: &Path) -> PathBuf {
    let k = dir.join("kernels");
    fs::create_dir_all(&k).unwrap();
    for (name, body) in [("one", "x[0] = 1;"), ("two", "x[0] = 2;"), ("three", "x[0] = 3;")] {
        fs::write(k.join(format!("{name}.cu")), format!("extern \"C\" __global__ void {name}(int* x) {{ {body} }}\n"))
            .unwrap();
    }
    k
}

fn build_twice(launcher: &Path, dir: &Path, ptx: bool) {
    let nvcc = real_nvcc("13.5").unwrap();
    let path = PathBuf::from(std::env::var_os("PATH").unwrap_or_default());
    let env = Env::from_vars([
        ("CUDA_PATH", real_root(&nvcc)),
        ("CUDA_BUILD_LAUNCHER", launcher.to_path_buf()),
        ("PATH", path),
    ]);
    let cuda = Probe::new().env(env).find().unwrap();
    let src = kernels(dir);
    let out = dir.join("out");
    for round in 0..2 {
        let _ = fs::remove_dir_all(&out); // `cargo clean`
        let mut k = cuda.kernels();
        k.dir(&src).out_dir(&out).arch("75");
        if ptx {
            k.ptx();
        } else {
            k.static_lib("cached");
        }
        let c = k.compile().unwrap();
        assert!(c.kernels.iter().all(|k| k.recompiled), "round {round}: outputs were deleted");
        assert_eq!(c.kernels.iter().map(|k| k.entries.concat()).collect::<Vec<_>>(), ["one", "three", "two"]);
    }
}

#[test]
fn ccache_serves_the_rebuild_after_a_clean() {
    let (Some(ccache), Some(_)) = (tool("ccache"), real_nvcc("13.5")) else { return };
    let dir = tempfile::tempdir().unwrap();
    let launcher = wrapper(dir.path(), &ccache, "CCACHE_DIR");
    build_twice(&launcher, dir.path(), false);
    let stats =
        Command::new(&ccache).env("CCACHE_DIR", dir.path().join("cache")).args(["--print-stats"]).output().unwrap();
    let stats = String::from_utf8_lossy(&stats.stdout);
    let count = |key: &str| -> u64 {
        stats
            .lines()
            .filter(|l| l.starts_with(key))
            .filter_map(|l| l.split_whitespace().last()?.parse::<u64>().ok())
            .sum()
    };
    assert_eq!(count("direct_cache_hit") + count("preprocessed_cache_hit"), 3, "{stats}");
    assert_eq!(count("cache_miss"), 3, "{stats}");
}

#[test]
fn sccache_serves_the_rebuild_after_a_clean() {
    let (Some(sccache), Some(_)) = (tool("sccache"), real_nvcc("13.5")) else { return };
    let dir = tempfile::tempdir().unwrap();
    let launcher = wrapper(dir.path(), &sccache, "SCCACHE_DIR");
    // A private server on its own port, so nothing else's sccache is touched.
    let port = "4727";
    let launcher_port = dir.path().join("launch-port.sh");
    fs::write(
        &launcher_port,
        format!("#!/bin/sh\nexport SCCACHE_SERVER_PORT={port}\nexec '{}' \"$@\"\n", launcher.display()),
    )
    .unwrap();
    common::make_executable(&launcher_port);
    build_twice(&launcher_port, dir.path(), true);
    let stats = Command::new(&sccache).env("SCCACHE_SERVER_PORT", port).arg("-s").output().unwrap();
    let _ = Command::new(&sccache).env("SCCACHE_SERVER_PORT", port).arg("--stop-server").output();
    let stats = String::from_utf8_lossy(&stats.stdout);
    let hits: u64 = stats
        .lines()
        .find(|l| l.starts_with("Cache hits "))
        .and_then(|l| l.split_whitespace().last()?.parse().ok())
        .unwrap_or(0);
    assert_eq!(hits, 3, "{stats}");
}
