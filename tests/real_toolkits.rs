//! The probe against REAL toolkits provisioned by build-support/provision.sh (Debian's
//! 11.8, Debian trixie's 12.4, NVIDIA's 13.5 wheels). Skipped with a message outside CI
//! when a toolkit is not provisioned; in CI a missing toolkit fails.

mod common;

use std::path::{Path, PathBuf};

use common::{nvcc_says, real_nvcc, real_root, Fake};
use cuda_build::{Env, Error, Probe, Refusal, Source, Status, VersionSource};

const VERSIONS: &[&str] = &["11.8", "12.4", "13.5"];

fn probe_with(vars: &[(&str, &Path)]) -> Probe {
    let vars: Vec<(String, PathBuf)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_path_buf())).collect();
    let mut p = Probe::new();
    p.env(Env::from_vars(vars));
    p
}

#[test]
fn each_real_toolkit_is_found_four_ways_with_the_version_nvcc_prints() {
    for v in VERSIONS {
        let Some(nvcc) = real_nvcc(v) else { continue };
        let root = real_root(&nvcc);
        let says = nvcc_says(&nvcc);
        let bin = nvcc.parent().unwrap();
        let ways: [(&str, &Path, Source); 4] = [
            ("PATH", bin, Source::Path),
            ("CUDA_PATH", &root, Source::RootVar("CUDA_PATH".into())),
            ("NVCC", &nvcc, Source::Compiler("NVCC".into())),
            ("CUDAToolkit_ROOT", &root, Source::RootVar("CUDAToolkit_ROOT".into())),
        ];
        for (var, value, source) in ways {
            let report = probe_with(&[(var, value)]).report();
            let t = report.result.as_ref().unwrap_or_else(|e| panic!("CUDA {v} via {var}: {e}"));
            assert_eq!(t.source, source, "CUDA {v} via {var}");
            assert_eq!(t.root, root, "CUDA {v} via {var}");
            assert_eq!(t.version.to_string(), says, "CUDA {v} via {var}: the version nvcc prints");
            assert_eq!(t.version_source, VersionSource::Nvcc, "none of the provisioned toolkits has version.json");
            // cuda.h was read and agrees with nvcc.
            let vs = report.checks.iter().find(|c| c.name == "version-sources").unwrap();
            assert_eq!(vs.status, Status::Ok, "CUDA {v} via {var}: {}", vs.message);
            assert!(vs.message.contains("cuda.h"), "{}", vs.message);
            assert!(
                t.include_dirs.iter().any(|d| d.join("cuda_runtime.h").is_file()),
                "CUDA {v}: {:?}",
                t.include_dirs
            );
            assert!(!t.lib_dirs.is_empty(), "CUDA {v}: no lib dir");
        }
    }
}

#[test]
fn debian_11_8_resolves_the_usr_bin_wrapper() {
    let Some(nvcc) = real_nvcc("11.8") else { return };
    if nvcc != Path::new("/usr/bin/nvcc") {
        return;
    }
    let t = probe_with(&[("PATH", Path::new("/usr/bin"))]).find().unwrap();
    let t = t.toolkit();
    assert_eq!(t.root, Path::new("/usr/lib/nvidia-cuda-toolkit"));
    assert_eq!(t.include_dirs, [PathBuf::from("/usr/include")]);
    assert_eq!(t.lib_dirs, [PathBuf::from("/usr/lib/x86_64-linux-gnu")]);
    assert_eq!(t.stubs_dir.as_deref(), Some(Path::new("/usr/lib/x86_64-linux-gnu/stubs")));
}

#[test]
fn with_both_visible_the_range_picks_13_and_refuses_11_8_with_its_reason() {
    let (Some(old), Some(new)) = (real_nvcc("11.8"), real_nvcc("13.5")) else { return };
    // 11.8 first on PATH; 13.5 found as a wheel in a site-packages directory.
    let site = new.ancestors().nth(4).unwrap().to_path_buf(); // <site>/nvidia/cu13/bin/nvcc
    let fake = Fake::new();
    let venv_site = fake.path("/venv/lib/python3.11/site-packages");
    std::fs::create_dir_all(&venv_site).unwrap();
    std::os::unix::fs::symlink(site.join("nvidia"), venv_site.join("nvidia")).unwrap();
    let vars = [("PATH", old.parent().unwrap()), ("VIRTUAL_ENV", &fake.path("/venv"))];

    let mut p = probe_with(&vars);
    let report = p.version_req(">=12").report();
    let t = report.result.as_ref().unwrap();
    assert_eq!(t.version.major, 13);
    assert_eq!(t.version.to_string(), nvcc_says(&new));
    let refused = report.search.candidates.iter().find(|c| c.source == Source::Path).unwrap();
    assert_eq!(refused.version.map(|v| (v.major, v.minor)), Some((11, 8)));
    assert!(matches!(refused.refusal, Some(Refusal::OutOfRange { .. })));
    assert_eq!(refused.refusal.as_ref().unwrap().to_string(), "version 11.8 does not satisfy >=12");

    let mut p = probe_with(&vars);
    let err = p.version_req(">=14").find().unwrap_err();
    assert!(matches!(err, Error::NoMatch(_)), "{err:?}");
    let msg = err.to_string();
    assert!(msg.starts_with("no CUDA toolkit satisfies the required version >=14"), "{msg}");
    assert!(msg.contains("CUDA 11.8") && msg.contains("(from PATH): version 11.8 does not satisfy >=14"), "{msg}");
    assert!(msg.contains("CUDA 13.5") && msg.contains("does not satisfy >=14"), "{msg}");
    assert!(msg.contains("fix: install a CUDA toolkit matching >=14"), "{msg}");
}

#[test]
fn a_real_nvcc_is_spawned_once_per_probe() {
    let Some(nvcc) = real_nvcc("13.5") else { return };
    let fake = Fake::new();
    let log = fake.log();
    let wrapper = fake.exe(
        "/bin/nvcc",
        &format!("#!/bin/sh\necho \"$@\" >> '{}'\nexec '{}' \"$@\"\n", log.display(), nvcc.display()),
    );
    let cuda = probe_with(&[("NVCC", &wrapper)]).find().unwrap();
    assert_eq!(cuda.toolkit().root, real_root(&nvcc), "the wrapper's exec target decides the root");
    assert_eq!(cuda.toolkit().nvcc, wrapper.canonicalize().unwrap(), "the wrapper is what runs");
    assert_eq!(fake.nvcc_runs(), 1);
}
