//! Every real toolkit provisioned (build-support/provision.sh matrix: 11.8, 12.4, 12.5,
//! 13.0-13.5), each: found through PATH and CUDA_PATH, versions agreeing, kernels compiled to
//! every format and inspected, a host compiler it accepts, the vector-add example built;
//! and the crate's tables checked against each toolkit itself.
#![allow(clippy::disallowed_methods)] // tests pass the real PATH through

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use common::{all_real_nvcc, real_root};
use cuda_build::tables as compat;
use cuda_build::{CudaVersion, Env, Probe, Source, Status};

/// The toolkits the issue names; in CI (where test.sh provisions the matrix) all must be there.
const EXPECTED: &[&str] = &["11.8", "12.4", "12.5", "13.0", "13.1", "13.2", "13.3", "13.4", "13.5"];

fn toolkits() -> Vec<(String, PathBuf)> {
    let found = all_real_nvcc();
    let names: Vec<&str> = found.iter().map(|(v, _)| v.as_str()).collect();
    if std::env::var_os("CUDA_BUILD_MATRIX").is_some() {
        for v in EXPECTED {
            assert!(names.contains(v), "CUDA {v} missing from the matrix: {names:?}");
        }
    }
    eprintln!("matrix: {}", names.join(" "));
    found
}

fn real_path() -> PathBuf {
    PathBuf::from(std::env::var_os("PATH").unwrap_or_default())
}

fn env(vars: &[(&str, PathBuf)]) -> Env {
    let mut all: Vec<(String, PathBuf)> = vec![("PATH".into(), real_path())];
    all.extend(vars.iter().map(|(k, v)| (k.to_string(), v.clone())));
    Env::from_vars(all)
}

fn nvcc_text(nvcc: &Path, arg: &str) -> String {
    let out = Command::new(nvcc).arg(arg).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn tables_agree_with_every_toolkit() {
    let mut failures = Vec::new();
    for (label, nvcc) in toolkits() {
        let cuda = Probe::new().env(env(&[("NVCC", nvcc.clone())])).find().unwrap();
        let t = cuda.toolkit();
        let v = t.version;
        // Architectures: the table's row set against nvcc --list-gpu-code.
        let mut listed: Vec<u32> = nvcc_text(&nvcc, "--list-gpu-code")
            .split_whitespace()
            .filter_map(|w| w.strip_prefix("sm_")?.parse().ok())
            .collect();
        listed.sort_unstable();
        let table = compat::archs_for(&v);
        if listed != table {
            failures.push(format!("CUDA {label} ({v}): compat::ARCHS gives {table:?}, nvcc --list-gpu-code says {listed:?}: fix the rows whose first/removed bracket this version"));
        }
        // Host compilers: the table's row against crt/host_config.h.
        let header = t
            .include_dirs
            .iter()
            .map(|d| d.join("crt/host_config.h"))
            .find(|p| p.is_file())
            .expect("crt/host_config.h");
        let parsed = compat::parse_host_config(&fs::read_to_string(&header).unwrap()).expect("host_config.h limits");
        match compat::host_limits(&v) {
            Some(row) => {
                if (row.gcc_max, row.clang_max) != (parsed.gcc_max, parsed.clang_max)
                    || (row.msvc.is_some() && row.msvc != parsed.msvc)
                {
                    failures.push(format!(
                        "CUDA {label} ({v}): compat::HOST_COMPILERS row from {:?} says gcc <= {}, clang <= {}, MSVC {:?}; {} says gcc <= {}, clang <= {}, MSVC {:?}",
                        row.from, row.gcc_max, row.clang_max, row.msvc, header.display(), parsed.gcc_max, parsed.clang_max, parsed.msvc
                    ));
                }
            }
            None => failures.push(format!("CUDA {label} ({v}): no compat::HOST_COMPILERS row")),
        }
    }
    assert!(failures.is_empty(), "tables disagree with real toolkits:\n{}", failures.join("\n"));
}

/// The toolkit's own cuobjdump; the 13.0 and 13.1 wheel sets have none (the cuobjdump wheel
/// starts at 13.2), and 11.8's cannot read their fatbins: then the newest provisioned one.
fn cuobjdump(root: &Path) -> PathBuf {
    let local = root.join("bin/cuobjdump");
    if local.is_file() {
        return local;
    }
    all_real_nvcc()
        .into_iter()
        .rev()
        .map(|(_, nvcc)| nvcc.parent().unwrap().join("cuobjdump"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("/usr/bin/cuobjdump"))
}

fn listing(root: &Path, file: &Path) -> String {
    let out = Command::new(cuobjdump(root)).args(["--list-elf", "--list-ptx"]).arg(file).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn each_toolkit_is_found_compiles_every_format_and_builds_the_example() {
    let kernels = tempfile::tempdir().unwrap();
    fs::write(kernels.path().join("k.cu"), "extern \"C\" __global__ void k(float* x) { x[threadIdx.x] *= 2.0f; }\n")
        .unwrap();
    let mut timings = Vec::new();
    for (label, nvcc) in toolkits() {
        let start = Instant::now();
        let root = real_root(&nvcc);
        let says = common::nvcc_says(&nvcc);
        // Found through PATH and CUDA_PATH, with cuda.h agreeing with nvcc.
        let bin = nvcc.parent().unwrap().to_path_buf();
        let path = PathBuf::from(format!("{}:{}", bin.display(), real_path().display()));
        for (vars, source) in [
            (vec![("PATH", path.clone())], Source::Path),
            (vec![("CUDA_PATH", root.clone())], Source::RootVar("CUDA_PATH".into())),
        ] {
            let r = Probe::new().env(env(&vars)).report();
            let t = r.result.as_ref().unwrap_or_else(|e| panic!("CUDA {label}: {e}"));
            assert_eq!(t.source, source, "CUDA {label}");
            assert_eq!(t.version.to_string(), says, "CUDA {label}");
            let vs = r.checks.iter().find(|c| c.name == "version-sources").unwrap();
            assert_eq!(vs.status, Status::Ok, "CUDA {label}: cuda.h and nvcc: {}", vs.message);
            let hc = r.checks.iter().find(|c| c.name == "host-compiler").unwrap();
            assert_ne!(hc.status, Status::Error, "CUDA {label}: {}", hc.message);
            assert!(r.host_compiler.as_ref().unwrap().supported, "CUDA {label}: a host compiler it accepts");
        }
        // Every format, inspected.
        let cuda = Probe::new().env(env(&[("CUDA_PATH", root.clone())])).find().unwrap();
        let out = tempfile::tempdir().unwrap();
        let build = |f: &dyn Fn(&mut cuda_build::Kernels<'_>)| {
            let mut k = cuda.kernels();
            k.dir(kernels.path()).out_dir(out.path()).arch("75;86");
            f(&mut k);
            k.compile().unwrap_or_else(|e| panic!("CUDA {label}: {e}"))
        };
        let fat = build(&|k| {
            k.fatbin();
        });
        let l = listing(&root, &fat.kernels[0].output);
        assert!(
            l.contains("sm_75.cubin")
                && l.contains("sm_86.cubin")
                && l.contains("sm_86.ptx")
                && !l.contains("sm_75.ptx"),
            "CUDA {label}: {l}"
        );
        let ptx = build(&|k| {
            k.ptx();
        });
        assert!(fs::read_to_string(&ptx.kernels[0].output).unwrap().contains(".target sm_75"), "CUDA {label}");
        let cubin = build(&|k| {
            k.arch("86-real").cubin();
        });
        assert!(listing(&root, &cubin.kernels[0].output).contains("sm_86"), "CUDA {label}");
        let lib = build(&|k| {
            k.static_lib("m");
        });
        let l = listing(&root, lib.library.as_ref().unwrap());
        assert!(l.contains("sm_75") && l.contains("sm_86"), "CUDA {label}: {l}");
        for c in [&fat, &ptx, &cubin, &lib] {
            assert_eq!(c.kernels[0].entries, ["k"], "CUDA {label}");
        }
        // The example, built by cargo with this toolkit.
        let out = Command::new(env!("CARGO"))
            .args(["build", "-p", "vector-add"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("CARGO_TARGET_DIR", Path::new(env!("CARGO_MANIFEST_DIR")).join("target/matrix"))
            .env("CUDA_PATH", &root)
            .env("CUDAARCHS", "75-real")
            .env_remove("NVCC")
            .env_remove("CUDACXX")
            .output()
            .unwrap();
        assert!(out.status.success(), "CUDA {label}: {}", String::from_utf8_lossy(&out.stderr));
        timings.push(format!("CUDA {label}: {:.1} s", start.elapsed().as_secs_f64()));
    }
    eprintln!("matrix timings: {}", timings.join(", "));
}

/// A toolkit newer than the crate's tables (a real 13.x whose cuda.h and nvcc --version say
/// 14.2): the crate asks nvcc and the toolkit's header instead of guessing, warns once, builds.
#[test]
fn a_toolkit_newer_than_the_tables_is_asked_not_guessed() {
    let Some((_, real)) = toolkits().into_iter().rev().find(|(v, _)| v.starts_with("13.")) else { return };
    let real_root = real_root(&real);
    let fake = tempfile::tempdir().unwrap();
    let root = fake.path().join("cuda-14.2");
    fs::create_dir_all(root.join("bin")).unwrap();
    fs::create_dir_all(root.join("include")).unwrap();
    for entry in fs::read_dir(real_root.join("include")).unwrap().flatten() {
        if entry.file_name() != "cuda.h" {
            std::os::unix::fs::symlink(entry.path(), root.join("include").join(entry.file_name())).unwrap();
        }
    }
    let cuda_h = fs::read_to_string(real_root.join("include/cuda.h")).unwrap();
    let line = cuda_h.lines().find(|l| l.starts_with("#define CUDA_VERSION ")).unwrap();
    fs::write(root.join("include/cuda.h"), cuda_h.replace(line, "#define CUDA_VERSION 14020")).unwrap();
    std::os::unix::fs::symlink(real_root.join("lib"), root.join("lib")).unwrap();
    // The real nvcc, but --version says 14.2 (a variable, so it is not taken for a distro wrapper).
    let script = format!(
        "#!/bin/sh\nREAL='{}'\nif [ \"$1\" = --version ]; then printf 'nvcc: NVIDIA (R) Cuda compiler driver\\nCuda compilation tools, release 14.2, V14.2.10\\n'; exit 0; fi\nexec \"$REAL\" \"$@\"\n",
        real.display()
    );
    fs::write(root.join("bin/nvcc"), script).unwrap();
    common::make_executable(&root.join("bin/nvcc"));

    let cuda = Probe::new().env(env(&[("CUDA_PATH", root.clone())])).find().unwrap();
    assert_eq!(cuda.version(), CudaVersion::parse("14.2.10").unwrap());
    let warnings: Vec<String> = cuda
        .directives()
        .unwrap()
        .iter()
        .map(|d| d.render())
        .filter(|l| l.contains("newer than this version of cuda-build"))
        .collect();
    assert_eq!(warnings.len(), 1, "warned once: {warnings:?}");
    assert!(compat::host_limits(&cuda.version()).is_none());
    let k = fake.path().join("k.cu");
    fs::write(&k, "extern \"C\" __global__ void k(int* x) { x[0] = 7; }\n").unwrap();
    let c = cuda.kernels().file(&k).out_dir(fake.path().join("out")).arch("90").compile().unwrap();
    assert_eq!(c.kernels[0].entries, ["k"]);
    // The host compiler was judged by the toolkit's own header.
    let r = Probe::new().env(env(&[("CUDA_PATH", root)])).report();
    let hc = r.checks.iter().find(|c| c.name == "host-compiler").unwrap();
    assert_eq!(hc.status, Status::Ok, "{}", hc.message);
}
