//! What a new user meets, as the docs state it: which variables are final (README and crate
//! docs say the same, and the behaviour matches), the warning when a better-ranked toolkit is
//! refused, `Kernels::default_arch` below `CUDAARCHS`, and the version as a variable.
#![allow(clippy::disallowed_methods)] // tests read the real PATH

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::Fake;
use cuda_build::{Error, Probe, Status};

fn read(rel: &str) -> String {
    fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
}

/// Markdown (or `//!` doc) text from `start` to the first `.` ending a sentence, on one line.
fn sentence(text: &str, start: &str) -> String {
    let flat: String = text
        .lines()
        .map(|l| l.trim_start().trim_start_matches("//!").trim())
        .collect::<Vec<_>>()
        .join(" ")
        .replace("**", "");
    let at = flat.find(start).unwrap_or_else(|| panic!("no {start:?}"));
    flat[at..].split(" is final").next().unwrap().to_owned()
}

/// The variables between backticks in `text`.
fn backticked(text: &str) -> Vec<String> {
    text.split('`').skip(1).step_by(2).map(str::to_owned).collect()
}

#[test]
fn readme_and_crate_docs_name_the_same_final_variables_and_they_are_final() {
    let readme = sentence(&read("README.md"), "A toolkit named by a rank-1 variable");
    let docs = sentence(&read("src/lib.rs"), "A toolkit named by a rank-1 variable");
    assert_eq!(readme, docs, "README and crate docs disagree on which variables are final");
    let vars = backticked(&readme);
    assert_eq!(
        vars,
        ["NVCC", "CUDACXX", "CUDAToolkit_ROOT", "CUDA_PATH", "CUDA_HOME", "CUDA_ROOT", "CUDA_TOOLKIT_ROOT_DIR"]
    );
    // Each names an 11.8 toolkit outside the range while 12.6 is at /usr/local/cuda: the error, no fall-through.
    for var in &vars {
        let fs = Fake::new();
        fs.nvidia_root("/usr/local/cuda", "12.6.77");
        let old = fs.nvidia_root("/old", "11.8.89");
        let value = if var.starts_with("NVCC") || var == "CUDACXX" { old.join("bin/nvcc") } else { old };
        let err = Probe::new().env(fs.env(&[(var.as_str(), &value)])).version_req(">=12").find().unwrap_err();
        assert!(matches!(err, Error::Explicit(_)), "{var}: {err}");
        assert!(err.to_string().starts_with(&format!("the CUDA toolkit named by {var}=")), "{var}: {err}");
    }
    // PATH (rank 2) is not final: the next rank is used, with a warning (next test).
    let fs = Fake::new();
    fs.nvidia_root("/usr/local/cuda", "12.6.77");
    fs.nvidia_root("/old", "11.8.89");
    let cuda = Probe::new().env(fs.env(&[("PATH", &fs.path("/old/bin"))])).version_req(">=12").find().unwrap();
    assert_eq!(cuda.version().to_string(), "12.6.77");
}

#[test]
fn a_refused_better_ranked_toolkit_is_named_with_the_one_used_instead() {
    let fs = Fake::new();
    let new = fs.nvidia_root("/usr/local/cuda", "12.6.77");
    let old = fs.nvidia_root("/old", "11.8.89");
    let env = || fs.env(&[("PATH", &fs.path("/old/bin"))]);
    let r = Probe::new().env(env()).version_req(">=12").report();
    let w = r.checks.iter().find(|c| c.name == "choice").unwrap_or_else(|| panic!("{:#?}", r.checks));
    assert_eq!(w.status, Status::Warn);
    assert_eq!(
        w.message,
        format!(
            "using CUDA 12.6 at {} (from /usr/local/cuda) instead of a better-ranked toolkit, refused: CUDA 11.8 at {} (from PATH): version 11.8 does not satisfy >=12",
            new.canonicalize().unwrap().display(),
            old.canonicalize().unwrap().display()
        )
    );
    // A build shows it as a cargo warning; nothing refused, no warning.
    let cuda = Probe::new().env(env()).version_req(">=12").find().unwrap();
    let lines: Vec<String> = cuda.directives().unwrap().iter().map(|d| d.render()).collect();
    assert!(lines.iter().any(|l| l.starts_with("cargo::warning=using CUDA 12.6 at")), "{lines:#?}");
    let r = Probe::new().env(env()).report();
    assert!(r.checks.iter().all(|c| c.name != "choice"), "{:#?}", r.checks);
}

#[test]
fn the_chosen_version_reaches_the_crate_as_a_variable() {
    let fs = Fake::new();
    let root = fs.nvidia_root("/usr/local/cuda-12.6", "12.6.77");
    let cuda = Probe::new().env(fs.env(&[("CUDA_PATH", &root)])).find().unwrap();
    let lines: Vec<String> = cuda.directives().unwrap().iter().map(|d| d.render()).collect();
    assert!(lines.contains(&"cargo::rustc-env=CUDA_BUILD_CUDA_VERSION=12.6.77".to_owned()), "{lines:#?}");
    assert_eq!(cuda_build::VERSION_VAR, "CUDA_BUILD_CUDA_VERSION");
    // The README says so.
    assert!(read("README.md").contains("`rustc-env=CUDA_BUILD_CUDA_VERSION=X.Y.Z`"));
}

/// `Kernels::default_arch` is the crate's default: `CUDAARCHS` overrides it, `Kernels::arch` does not yield.
#[test]
fn default_arch_yields_to_cudaarchs_and_arch_does_not() {
    let Some(nvcc) = common::real_nvcc("13.5") else { return };
    let dir = tempfile::tempdir().unwrap();
    let k = dir.path().join("k.cu");
    fs::write(&k, "extern \"C\" __global__ void k(float* x) { x[0] = 1.0f; }\n").unwrap();
    let path = PathBuf::from(std::env::var_os("PATH").unwrap());
    let compile = |vars: &[(&str, &str)], f: &dyn Fn(&mut cuda_build::Kernels<'_>)| {
        let mut all: Vec<(String, PathBuf)> =
            vec![("CUDA_PATH".into(), common::real_root(&nvcc)), ("PATH".into(), path.clone())];
        all.extend(vars.iter().map(|(k, v)| (k.to_string(), PathBuf::from(v))));
        let cuda = Probe::new().env(cuda_build::Env::from_vars(all)).find().unwrap();
        let mut kernels = cuda.kernels();
        kernels.file(&k).out_dir(dir.path().join("out")).ptx();
        f(&mut kernels);
        let c = kernels.compile().unwrap();
        (c.archs.names(), c.arch_source.to_string())
    };
    let default = |k: &mut cuda_build::Kernels<'_>| {
        k.default_arch("86");
    };
    assert_eq!(compile(&[], &default), (vec!["compute_86".to_owned()], "Kernels::default_arch".to_owned()));
    assert_eq!(compile(&[("CUDAARCHS", "80")], &default), (vec!["compute_80".to_owned()], "CUDAARCHS".to_owned()));
    let fixed = |k: &mut cuda_build::Kernels<'_>| {
        k.arch("90");
    };
    assert_eq!(compile(&[("CUDAARCHS", "80")], &fixed), (vec!["compute_90".to_owned()], "Kernels::arch".to_owned()));
    // The README documents both.
    let readme = read("README.md");
    assert!(readme
        .contains("| `Kernels::default_arch` | CMake's: the crate's default, which the variables above override |"));
    assert!(readme.contains("| `Kernels::arch` | CMake's; overrides every variable |"));
}
