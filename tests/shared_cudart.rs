//! The SHARED CUDA runtime, linked and RUN with every provisioned toolkit (the crates in
//! tests/shared-cudart, built by cargo as a user would):
//! - `app`: kernels and a C++ file in a static library with `Kernels::cudart(Cudart::Shared)`,
//!   alone and together with the build script's own `link_cudart(Cudart::Shared).rpath(true)`
//!   (which printed `dylib:+verbatim=libcudart.so.13` twice, and rustc refused it): one link
//!   line per library, and the binary starts without `LD_LIBRARY_PATH`, mapping the chosen
//!   toolkit's libcudart;
//! - a library crate with shared cudart: a dependent binary starts with the README's recipe in
//!   its build.rs, and cannot start without it (an rpath reaches only a package's own binaries).
#![allow(clippy::disallowed_methods)] // tests pass the real PATH through

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{all_real_nvcc, real_root};
use cuda_build::{Env, Probe};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/shared-cudart")
}

fn target() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/shared-cudart")
}

/// One cargo at a time: the tests share a target directory.
static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn cargo(args: &[&str], root: &Path) -> Output {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(args)
        .arg("--manifest-path")
        .arg(workspace().join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", target())
        .env("CUDAARCHS", "75");
    for v in common::CLEARED_VARS {
        cmd.env_remove(v);
    }
    cmd.env("CUDA_PATH", root);
    cmd.output().unwrap()
}

/// Runs a built binary as a user would: no `LD_LIBRARY_PATH`.
fn run(bin: &str) -> Output {
    Command::new(target().join("debug").join(bin)).env_remove("LD_LIBRARY_PATH").output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The toolkit's library directories, canonical, as the probe finds them.
fn lib_dirs(root: &Path) -> Vec<PathBuf> {
    let env =
        Env::from_vars([("CUDA_PATH", root.to_path_buf()), ("PATH", PathBuf::from(std::env::var_os("PATH").unwrap()))]);
    let cuda = Probe::new().env(env).find().unwrap();
    cuda.toolkit().lib_dirs.iter().filter_map(|d| d.canonicalize().ok()).collect()
}

/// The libcudart the binary mapped (its `loaded PATH` line) is the toolkit's.
fn assert_loaded_from(stdout: &str, dirs: &[PathBuf], label: &str) {
    let loaded = stdout.lines().find_map(|l| l.strip_prefix("loaded ")).unwrap_or("none");
    let dir = Path::new(loaded).parent().and_then(|d| d.canonicalize().ok());
    assert!(
        dir.as_ref().is_some_and(|d| dirs.contains(d)),
        "CUDA {label}: libcudart mapped from {loaded}, not from {dirs:?}\n{stdout}"
    );
}

#[test]
fn a_binary_with_shared_cudart_starts_with_every_toolkit() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    for (label, nvcc) in all_real_nvcc() {
        let root = real_root(&nvcc);
        let says = common::nvcc_says(&nvcc);
        let dirs = lib_dirs(&root);
        for features in [&[][..], &["--features", "kernels-only"]] {
            let what = format!("CUDA {label} {features:?}");
            let mut args = vec!["build", "-p", "app", "--message-format=json"];
            args.extend_from_slice(features);
            let out = cargo(&args, &root);
            assert!(out.status.success(), "{what}: {}\n{}", text(&out.stderr), text(&out.stdout));
            // What the build script told cargo: one line per library, the runtime once.
            let script = text(&out.stdout)
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .find(|m| {
                    m["reason"] == "build-script-executed"
                        && m["package_id"].as_str().is_some_and(|p| p.contains("/app#"))
                })
                .unwrap_or_else(|| panic!("{what}: no build-script-executed for app"));
            let libs: Vec<&str> = script["linked_libs"].as_array().unwrap().iter().filter_map(|l| l.as_str()).collect();
            let mut unique = libs.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(unique.len(), libs.len(), "{what}: a library linked twice: {libs:?}");
            let runtimes: Vec<&&str> = libs.iter().filter(|l| l.contains("cudart")).collect();
            assert_eq!(runtimes.len(), 1, "{what}: {libs:?}");
            assert!(runtimes[0].starts_with("dylib"), "{what}: the shared runtime: {libs:?}");
            let env = script["env"].as_array().unwrap();
            assert!(
                env.iter().any(|kv| kv[0] == "CUDA_BUILD_CUDA_VERSION" && kv[1] == says.as_str()),
                "{what}: CUDA_BUILD_CUDA_VERSION={says} in {env:?}"
            );
            // It starts, without LD_LIBRARY_PATH, on the chosen toolkit's runtime.
            let ran = run("app");
            let stdout = text(&ran.stdout);
            assert!(ran.status.success(), "{what}: the binary did not start or failed: {}{stdout}", text(&ran.stderr));
            assert_loaded_from(&stdout, &dirs, &label);
            assert!(stdout.contains(&format!("toolkit {says}")), "{what}: {stdout}");
            assert!(stdout.contains("skipped: no CUDA device") || stdout.contains("correct"), "{what}: {stdout}");
        }
    }
}

/// The README's recipe for a binary crate depending on a library crate that links the shared
/// runtime: the ```rust block that starts with this line.
const RECIPE_MARK: &str = "// build.rs of a binary crate that depends on a library crate linking the shared cudart";

#[test]
fn a_library_crate_with_shared_cudart_needs_the_readme_recipe_in_its_dependents() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme.find(RECIPE_MARK).expect("the README shows the recipe");
    let recipe = &readme[start..start + readme[start..].find("```").unwrap()];
    let build_rs = std::fs::read_to_string(workspace().join("lib-user/build.rs")).unwrap();
    assert_eq!(build_rs.trim(), recipe.trim(), "lib-user/build.rs is the README's recipe, verbatim");

    for label in ["13.5", "12.4"] {
        let Some(nvcc) = common::real_nvcc(label) else { continue };
        let root = real_root(&nvcc);
        let out = cargo(&["build", "-p", "lib-user", "-p", "lib-user-bare"], &root);
        assert!(out.status.success(), "CUDA {label}: {}", text(&out.stderr));
        let with = run("lib-user");
        assert!(with.status.success(), "CUDA {label}: with the recipe: {}", text(&with.stderr));
        assert_loaded_from(&text(&with.stdout), &lib_dirs(&root), label);
        // Without it, the library crate's rpath does not reach this binary.
        let without = run("lib-user-bare");
        let major = label.split('.').next().unwrap();
        assert!(!without.status.success(), "CUDA {label}: started without the recipe: {}", text(&without.stdout));
        assert!(
            text(&without.stderr).contains(&format!("libcudart.so.{major}: cannot open shared object file")),
            "CUDA {label}: {}",
            text(&without.stderr)
        );
    }
}
