//! A real distributed build (build-support/sccache-dist.sh): an sccache-dist 0.16.0
//! scheduler and build server on 127.0.0.1, a crate whose kernels cuda-build compiles
//! through the sccache client with CUDA 12.4; the script proves the nvcc sub-steps ran on the
//! build server (client statistics, the scheduler's log and status) and that the fatbins are
//! byte-identical to a local build's. Needs root and bubblewrap (skipped without them,
//! outside CI).

#![allow(clippy::disallowed_methods)] // tests read CI from the real environment

use std::path::Path;
use std::process::Command;

#[test]
fn sccache_dist_cluster_builds_cuda_build_kernels_remotely() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("build-support/sccache-dist.sh");
    let out = Command::new("bash").arg(&script).env_remove("CUDA_BUILD_LAUNCHER").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) => {}
        Some(3) if std::env::var_os("CI").is_none() => {
            eprintln!("{stderr}");
            return;
        }
        _ => panic!("{} failed ({}):\n{stderr}", script.display(), out.status),
    }
    // The script's own checks passed; its summary says what it proved.
    let ok = stderr.lines().find(|l| l.starts_with("sccache-dist.sh: OK: ")).unwrap_or_else(|| panic!("{stderr}"));
    let distributed: u64 = ok.split_whitespace().nth(2).and_then(|n| n.parse().ok()).unwrap();
    assert!(distributed > 0, "{ok}");
    assert!(ok.contains("3 fatbins byte-identical"), "{ok}");
    assert!(stderr.contains("0 failed distributed, 0 failed compiles"), "{stderr}");
}

/// The README's fleet recipe is the configuration the script runs: the same sections and keys
/// in scheduler.conf, server.conf and the client config (the script adds only private
/// directories for the client).
#[test]
fn readme_fleet_recipe_is_what_the_script_runs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let script = std::fs::read_to_string(root.join("build-support/sccache-dist.sh")).unwrap();
    // "[section] key" for every key line of a TOML text, comments and values dropped.
    let keys = |toml: &str| -> Vec<String> {
        let mut section = String::new();
        let mut out = Vec::new();
        for line in toml.lines().map(|l| l.split('#').next().unwrap_or("").trim()).filter(|l| !l.is_empty()) {
            if line.starts_with('[') {
                section = line.to_owned();
                out.push(section.clone());
            } else if let Some((k, _)) = line.split_once('=') {
                out.push(format!("{section} {}", k.trim()));
            }
        }
        out
    };
    let fleet = readme.split("### A build fleet: sccache-dist").nth(1).unwrap();
    let fleet = fleet.split("**Toolchain packaging").next().unwrap();
    let recipe: Vec<Vec<String>> =
        fleet.split("```toml").skip(1).map(|b| keys(b.split("```").next().unwrap())).collect();
    let ran: Vec<Vec<String>> = ["scheduler.conf", "server.conf", "client.conf"]
        .iter()
        .map(|f| {
            let start = format!("cat >\"$WORK/{f}\" <<EOF\n");
            let body = script.split(&start).nth(1).unwrap_or_else(|| panic!("no {f} in the script"));
            keys(body.split("\nEOF\n").next().unwrap())
        })
        .collect();
    assert_eq!(recipe.len(), 3, "scheduler, server and client blocks in the README");
    let script_only = ["[dist] cache_dir", "[cache.disk]", "[cache.disk] dir"];
    for (r, s) in recipe.iter().zip(&ran) {
        let extra: Vec<&String> = s.iter().filter(|k| !r.contains(k)).collect();
        assert!(extra.iter().all(|k| script_only.contains(&k.as_str())), "the script has {extra:?} the README lacks");
        assert!(r.iter().all(|k| s.contains(k)), "README {r:?}\nscript {s:?}");
    }
}
