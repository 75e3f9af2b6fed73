//! The migration guides' crates (docs/migrating/<peer>/{before,after}), built with cargo and
//! run as their users would, with the real CUDA 13.5 first on PATH: each "before" (cc,
//! bindgen_cuda, cudaforge) and its cuda-build "after" must build and print the same lines.
//! The "before" crates also get CUDA_PATH, which those peers need to find this toolkit's
//! headers or libraries (see docs/migrating/README.md); the "after" crates find it on PATH.
#![allow(clippy::disallowed_methods)] // tests read PATH and pass the real environment through

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Builds `docs/migrating/<peer>/<side>` with `cargo build` (its own target directory,
/// `target/migration/<peer>-<side>`), runs its binary and returns what it printed.
fn build_and_run(peer: &str, side: &str, nvcc: &Path) -> String {
    let dir = manifest_dir().join("docs/migrating").join(peer).join(side);
    let target = manifest_dir().join("target/migration").join(format!("{peer}-{side}"));
    let bin_dir = nvcc.parent().unwrap();
    let path = std::env::join_paths(
        std::iter::once(bin_dir.to_path_buf())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();

    let mut cmd = Command::new(env!("CARGO"));
    cmd.arg("build").current_dir(&dir);
    for v in common::CLEARED_VARS {
        cmd.env_remove(v);
    }
    cmd.env("CARGO_TARGET_DIR", &target).env("PATH", &path).env("CUDA_COMPUTE_CAP", "75");
    if side == "before" {
        cmd.env("CUDA_PATH", common::real_root(nvcc));
    }
    let start = Instant::now();
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{peer}/{side}: cargo build failed:\n{stderr}");
    eprintln!("{peer}/{side}: built in {:.1} s", start.elapsed().as_secs_f64());

    let exe = target.join("debug").join(format!("migrating-{}-{side}", peer.replace('_', "-")));
    let run = Command::new(&exe).output().unwrap_or_else(|e| panic!("{}: {e}", exe.display()));
    let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(
        run.status.success(),
        "{peer}/{side}: {} failed:\n{stdout}{}",
        exe.display(),
        String::from_utf8_lossy(&run.stderr)
    );
    eprint!("{stdout}");
    stdout
}

/// One cargo at a time: each already uses every core (measured on 2 cores: 41 s cold in
/// series, 50 s with the three pairs at once).
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Both sides of a pair, each line of `expected` found in both outputs.
fn pair(peer: &str, expected: &[&str]) -> Option<(String, String)> {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let nvcc = common::real_nvcc("13.5")?;
    let before = build_and_run(peer, "before", &nvcc);
    let after = build_and_run(peer, "after", &nvcc);
    for line in expected {
        assert!(before.contains(line), "{peer}/before lacks {line:?}:\n{before}");
        assert!(after.contains(line), "{peer}/after lacks {line:?}:\n{after}");
    }
    Some((before, after))
}

/// The last line: exactly the skip line where this machine has no CUDA device (exit 0 is
/// checked by `build_and_run`), else one starting with `with_device`.
fn outcome(out: &str, with_device: &str) {
    let last = out.lines().last().unwrap_or_default();
    match common::no_device_line() {
        Some(skip) => assert_eq!(last, skip, "{out}"),
        None => assert!(last.starts_with(with_device), "{out}"),
    }
}

#[test]
fn cc_static_lib() {
    let Some((before, after)) = pair("cc", &["linked libsaxpy.a with the CUDA runtime\n"]) else { return };
    for out in [&before, &after] {
        outcome(out, "saxpy of 65536 floats: correct");
    }
}

#[test]
fn bindgen_cuda_ptx() {
    let Some((_, after)) = pair(
        "bindgen_cuda",
        &[r#"affine: target sm_75, entries ["affine_f32"]"#, r#"fill: target sm_75, entries ["fill_f32", "fill_u32"]"#],
    ) else {
        return;
    };
    assert!(after.contains(r#"archs ["compute_75"], 2 modules"#), "{after}");
}

#[test]
fn cudaforge_ptx_and_static_lib() {
    let Some((before, after)) = pair(
        "cudaforge",
        &[r#"affine: target sm_75, entries ["affine_f32"]"#, "linked libsaxpy.a with the CUDA runtime\n"],
    ) else {
        return;
    };
    for out in [&before, &after] {
        outcome(out, "devices: ");
    }
}
