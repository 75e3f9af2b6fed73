//! Kernel compilation with REAL nvcc (11.8, 12.4, 13.5 as provisioned; the header test on
//! every provisioned toolkit): outputs inspected
//! with cuobjdump for exactly the requested architectures, incremental rebuilds, the
//! jobserver limit, interrupted builds and nvcc's own error messages.

#![allow(clippy::disallowed_methods)] // tests pass the real PATH through

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use common::{counting_launcher, real_nvcc, real_root};
use cuda_build::{Cuda, Env, Probe};

const VERSIONS: &[&str] = &["11.8", "12.4", "13.5"];

/// A crate-like directory: kernels/{a,b}.cu include kernels/shared.cuh, kernels/c.cu does not.
struct Crate {
    dir: tempfile::TempDir,
}

impl Crate {
    fn new() -> Self {
        let dir = tempfile::Builder::new().prefix("kernel crate ").tempdir().unwrap();
        let c = Crate { dir };
        c.write("kernels/shared.cuh", "#pragma once\n#define SHARED_SCALE 2.0f\n");
        c.write("kernels/a.cu", "#include \"shared.cuh\"\nextern \"C\" __global__ void scale_a(float* x) { x[threadIdx.x] *= SHARED_SCALE; }\n");
        c.write("kernels/b.cu", "#include \"shared.cuh\"\ntemplate <typename T> __global__ void scale_b(T* x) { x[threadIdx.x] *= T(SHARED_SCALE); }\ntemplate __global__ void scale_b<float>(float*);\n");
        c.write("kernels/c.cu", "extern \"C\" __global__ void inc_c(int* x) { x[threadIdx.x] += 1; }\n");
        c
    }
    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
    fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }
    /// Bumps a file's mtime well past every output's.
    fn touch(&self, rel: &str) {
        let f = fs::File::options().append(true).open(self.path(rel)).unwrap();
        f.set_modified(SystemTime::now() + Duration::from_secs(5)).unwrap();
    }
    fn out(&self) -> PathBuf {
        self.path("out")
    }
}

fn cuda(version: &str, extra: &[(&str, &Path)]) -> Option<Cuda> {
    let nvcc = real_nvcc(version)?;
    let root = real_root(&nvcc);
    // nvcc needs a host compiler: the real PATH, as a build script sees it.
    let path = PathBuf::from(std::env::var_os("PATH").unwrap_or_default());
    let mut vars: Vec<(String, PathBuf)> = vec![("CUDA_PATH".into(), root), ("PATH".into(), path)];
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_path_buf())));
    Some(Probe::new().env(Env::from_vars(vars)).find().unwrap())
}

fn cuobjdump(cuda: &Cuda) -> PathBuf {
    let local = cuda.toolkit().root.join("bin/cuobjdump");
    if local.is_file() {
        local
    } else {
        PathBuf::from("/usr/bin/cuobjdump")
    }
}

/// `sm_XX` of every ELF and `compute_XX` of every PTX in a fatbin, cubin or archive.
fn archs_in(cuda: &Cuda, file: &Path) -> BTreeSet<String> {
    let out = Command::new(cuobjdump(cuda)).args(["--list-elf", "--list-ptx"]).arg(file).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut archs = BTreeSet::new();
    for line in text.lines() {
        let Some(name) = line.split(": ").nth(1) else { continue };
        let arch = name.rsplit('.').nth(1).unwrap_or("").trim_start_matches("sm_").to_owned();
        if line.contains("ELF file") {
            archs.insert(format!("sm_{arch}"));
        } else if line.contains("PTX file") {
            archs.insert(format!("compute_{arch}"));
        }
    }
    archs
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn every_format_holds_exactly_the_requested_architectures() {
    for v in VERSIONS {
        let Some(cuda) = cuda(v, &[]) else { continue };
        let krate = Crate::new();
        let compile = |f: &dyn Fn(&mut cuda_build::Kernels<'_>)| {
            let mut k = cuda.kernels();
            k.dir(krate.path("kernels")).out_dir(krate.out());
            f(&mut k);
            k.compile().unwrap_or_else(|e| panic!("CUDA {v}: {e}"))
        };

        let c = compile(&|k| {
            k.arch("75;86").fatbin();
        });
        assert_eq!(c.archs.names(), ["sm_75", "sm_86", "compute_86"]);
        for k in &c.kernels {
            assert_eq!(
                archs_in(&cuda, &k.output),
                set(&["sm_75", "sm_86", "compute_86"]),
                "CUDA {v}: {}",
                k.output.display()
            );
        }
        let a = c.kernels.iter().find(|k| k.ident == "a").unwrap();
        assert_eq!(a.entries, ["scale_a"]);
        let b = c.kernels.iter().find(|k| k.ident == "b").unwrap();
        assert_eq!(b.entries, ["_Z7scale_bIfEvPT_"], "mangled, as the driver knows it");

        let c = compile(&|k| {
            k.arch("75-real;80-real").fatbin();
        });
        assert_eq!(archs_in(&cuda, &c.kernels[0].output), set(&["sm_75", "sm_80"]), "CUDA {v}: -real means no PTX");

        let c = compile(&|k| {
            k.arch("86-real").cubin();
        });
        assert_eq!(archs_in(&cuda, &c.kernels[0].output), set(&["sm_86"]), "CUDA {v}");
        assert_eq!(c.kernels[2].entries, ["inc_c"]);

        let c = compile(&|k| {
            k.arch("75;86").ptx();
        });
        let ptx = fs::read_to_string(&c.kernels[0].output).unwrap();
        assert!(ptx.contains(".target sm_75"), "CUDA {v}: PTX for the lowest requested arch");
        assert_eq!(c.kernels[0].entries, ["scale_a"]);

        let c = compile(&|k| {
            k.arch("80").static_lib("kern");
        });
        let lib = c.library.clone().unwrap();
        assert_eq!(lib, krate.out().join("libkern.a"));
        assert_eq!(archs_in(&cuda, &lib), set(&["sm_80", "compute_80"]), "CUDA {v}");
        assert_eq!(c.kernels[0].entries, ["scale_a"], "read from the object's .nv_fatbin");
        let lines: Vec<String> = c.directives().iter().map(|d| d.render()).collect();
        assert!(lines.contains(&"cargo::rustc-link-lib=static=kern".to_owned()), "{lines:#?}");
        assert!(lines.contains(&"cargo::rustc-link-lib=static=cudart_static".to_owned()), "{lines:#?}");
    }
}

#[test]
fn generated_module_lists_images_and_entries() {
    let Some(cuda) = cuda("13.5", &[]) else { return };
    let krate = Crate::new();
    let c = cuda.kernels().dir(krate.path("kernels")).out_dir(krate.out()).arch("86").compile().unwrap();
    let text = fs::read_to_string(&c.module).unwrap();
    assert_eq!(c.module, krate.out().join("kernels.rs"));
    assert!(text.contains("pub const ARCHS: &[&str] = &[\"sm_86\", \"compute_86\"];"), "{text}");
    assert!(text.contains("pub mod a {"), "{text}");
    assert!(
        text.contains(&format!("include_bytes!({:?})", krate.out().join("kernels/a.fatbin").to_str().unwrap())),
        "{text}"
    );
    assert!(text.contains("pub const ENTRIES: &[&str] = &[\"scale_a\"];"), "{text}");
    assert!(text.contains("(\"c\", c::IMAGE, c::ENTRIES)"), "{text}");
}

fn runs(dir: &Path) -> Vec<String> {
    common::take_log(dir, "runs.log")
}

#[test]
fn no_op_spawns_nothing_a_header_touch_recompiles_its_includers_a_flag_change_all() {
    let Some(_) = real_nvcc("13.5") else { return };
    let krate = Crate::new();
    let logs = tempfile::tempdir().unwrap();
    let launcher = counting_launcher(logs.path(), "0");
    let cuda = cuda("13.5", &[("CUDA_BUILD_LAUNCHER", &launcher), ("OUT_DIR", &krate.out())]).unwrap();
    let build = |define: Option<&str>| {
        let mut k = cuda.kernels();
        k.dir(krate.path("kernels")).arch("75");
        if let Some(d) = define {
            k.define(d, None);
        }
        k.compile().unwrap()
    };
    build(None);
    assert_eq!(runs(logs.path()), ["a.cu", "b.cu", "c.cu"]);
    let c = build(None);
    assert_eq!(runs(logs.path()), Vec::<String>::new(), "no-op rebuild spawns no nvcc");
    assert!(c.kernels.iter().all(|k| !k.recompiled));
    // Entry names come from the stamp on a no-op, as read from the output when it was built.
    let names: Vec<String> = c.kernels.iter().map(|k| k.entries.concat()).collect();
    assert_eq!(names, ["scale_a", "_Z7scale_bIfEvPT_", "inc_c"]);
    krate.touch("kernels/shared.cuh");
    let c = build(None);
    assert_eq!(runs(logs.path()), ["a.cu", "b.cu"], "exactly the includers of shared.cuh");
    let recompiled: Vec<&str> = c.kernels.iter().filter(|k| k.recompiled).map(|k| k.ident.as_str()).collect();
    assert_eq!(recompiled, ["a", "b"]);
    build(Some("EXTRA"));
    assert_eq!(runs(logs.path()), ["a.cu", "b.cu", "c.cu"], "a flag change recompiles all");
    // The rerun-if-changed lines name sources and the user header, not the toolkit's headers.
    let lines: Vec<String> = c.directives().iter().map(|d| d.render()).collect();
    let shared = krate.path("kernels/shared.cuh");
    assert!(lines.contains(&format!("cargo::rerun-if-changed={}", shared.display())), "{lines:#?}");
    assert!(lines.contains(&format!("cargo::rerun-if-changed={}", krate.path("kernels").display())));
    assert!(!lines.iter().any(|l| l.contains("cuda_runtime.h") || l.contains("/usr/include")), "{lines:#?}");
}

#[test]
fn never_more_nvcc_at_once_than_jobs_allowed() {
    let Some(_) = real_nvcc("13.5") else { return };
    for (jobs, expect_max) in [("1", 1), ("2", 2)] {
        let krate = Crate::new();
        krate.write("kernels/d.cu", "extern \"C\" __global__ void d(int* x) { x[0] = 1; }\n");
        let logs = tempfile::tempdir().unwrap();
        let launcher = counting_launcher(logs.path(), "0.4");
        let cuda = cuda("13.5", &[("CUDA_BUILD_LAUNCHER", &launcher), ("NUM_JOBS", Path::new(jobs))]).unwrap();
        cuda.kernels().dir(krate.path("kernels")).out_dir(krate.out()).arch("75").compile().unwrap();
        let seen: Vec<usize> = fs::read_to_string(logs.path().join("concurrency.log"))
            .unwrap()
            .lines()
            .map(|l| l.trim().parse().unwrap())
            .collect();
        assert_eq!(seen.len(), 4);
        assert_eq!(seen.iter().max().copied(), Some(expect_max), "NUM_JOBS={jobs}: {seen:?}");
    }
}

#[test]
fn a_launcher_killed_mid_compile_leaves_nothing_trusted_and_nvcc_runs_directly() {
    let Some(_) = real_nvcc("13.5") else { return };
    let krate = Crate::new();
    let logs = tempfile::tempdir().unwrap();
    // Runs nvcc, truncates what it wrote, then dies by SIGKILL, as an interrupted build would.
    let killer = logs.path().join("killer.sh");
    fs::write(&killer, "#!/bin/sh\n\"$@\"\nfor a; do [ \"$prev\" = -o ] && : > \"$a\"; prev=$a; done\nkill -9 $$\n")
        .unwrap();
    common::make_executable(&killer);

    let good = cuda("13.5", &[]).unwrap();
    let first = good.kernels().file(krate.path("kernels/a.cu")).out_dir(krate.out()).arch("75").compile().unwrap();
    let output = first.kernels[0].output.clone();
    let good_bytes = fs::read(&output).unwrap();

    krate.write("kernels/shared.cuh", "#pragma once\n#define SHARED_SCALE 3.0f\n");
    krate.touch("kernels/shared.cuh");
    let killed = cuda("13.5", &[("CUDA_BUILD_LAUNCHER", &killer)]).unwrap();
    let c = killed.kernels().file(krate.path("kernels/a.cu")).out_dir(krate.out()).arch("75").compile().unwrap();
    // The launcher's half-written output never reaches the output path: nvcc ran again directly.
    assert!(c.kernels[0].recompiled);
    let rebuilt = fs::read(&output).unwrap();
    assert!(!rebuilt.is_empty() && rebuilt != good_bytes, "the header changed since the last good build");
    let warned: Vec<&String> = c.warnings.iter().filter(|w| w.contains("killer.sh")).collect();
    assert_eq!(warned.len(), 1, "{:?}", c.warnings);
    assert!(
        warned[0].contains("failed on 1 of 1 kernel;") && warned[0].contains("CUDA_BUILD_LAUNCHER=none"),
        "{warned:?}"
    );
    let leftovers: Vec<_> = fs::read_dir(output.parent().unwrap())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let again = good.kernels().file(krate.path("kernels/a.cu")).out_dir(krate.out()).arch("75").compile().unwrap();
    assert!(!again.kernels[0].recompiled, "what the fallback compiled is up to date");
    assert_eq!(fs::read(&output).unwrap(), rebuilt);
}

#[test]
fn nvcc_errors_are_shown_verbatim_with_file_and_line() {
    let Some(cuda) = cuda("13.5", &[]) else { return };
    let krate = Crate::new();
    krate.write("bad/bad.cu", "__global__ void k(int* x) {\n  x[0] = undefined_name;\n}\n");
    let err = cuda.kernels().dir(krate.path("bad")).out_dir(krate.out()).arch("75").compile().unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with(&format!("nvcc failed on {}", krate.path("bad/bad.cu").display())), "{msg}");
    assert!(msg.contains("  command: "), "{msg}");
    assert!(msg.contains("bad.cu(2): error: identifier \"undefined_name\" is undefined"), "{msg}");
}

#[test]
fn bad_specs_fail_before_any_nvcc_runs() {
    let Some(_) = real_nvcc("13.5") else { return };
    let krate = Crate::new();
    let logs = tempfile::tempdir().unwrap();
    let launcher = counting_launcher(logs.path(), "0");
    for (var, spec, expect) in [
        ("CUDAARCHS", "20", "GPU architecture sm_20 (from CUDAARCHS) is not supported by CUDA 13.5.37"),
        ("CUDAARCHS", "8.6+", "cannot parse GPU architecture \"8.6+\" in CUDAARCHS"),
        ("TORCH_CUDA_ARCH_LIST", "foo", "cannot parse GPU architecture \"foo\" in TORCH_CUDA_ARCH_LIST"),
        ("CUDAARCHS", ";;", "no architecture in the list"),
        ("CUDAARCHS", "native", "no GPU was seen"),
    ] {
        let cuda = cuda("13.5", &[("CUDA_BUILD_LAUNCHER", &launcher), (var, Path::new(spec))]).unwrap();
        let err = cuda.kernels().dir(krate.path("kernels")).out_dir(krate.out()).compile().unwrap_err().to_string();
        assert!(err.contains(expect), "{var}={spec}: {err}");
    }
    assert!(runs(logs.path()).is_empty());
}

#[test]
fn arch_variables_in_precedence_order() {
    let Some(_) = real_nvcc("12.4") else { return };
    let krate = Crate::new();
    type Vars<'a> = &'a [(&'a str, &'a str)];
    let cases: [(Vars, &[&str]); 4] = [
        (&[("CUDAARCHS", "80-real"), ("TORCH_CUDA_ARCH_LIST", "7.5"), ("CUDA_COMPUTE_CAP", "86")], &["sm_80"]),
        (&[("TORCH_CUDA_ARCH_LIST", "7.5;8.6+PTX"), ("CUDA_COMPUTE_CAP", "80")], &["sm_75", "sm_86", "compute_86"]),
        (&[("CUDA_COMPUTE_CAP", "86")], &["sm_86", "compute_86"]),
        (&[], &["sm_75", "compute_75"]),
    ];
    for (vars, expect) in cases {
        let vars: Vec<(&str, &Path)> = vars.iter().map(|(k, v)| (*k, Path::new(*v))).collect();
        let cuda = cuda("12.4", &vars).unwrap();
        let c = cuda.kernels().file(krate.path("kernels/c.cu")).out_dir(krate.out()).compile().unwrap();
        assert_eq!(c.archs.names(), expect, "{vars:?}");
        assert_eq!(archs_in(&cuda, &c.kernels[0].output), expect.iter().map(|s| s.to_string()).collect());
    }
}

/// Headers seen by only one preprocessing pass still make their kernel stale: one included
/// only for `__CUDA_ARCH__ >= 800` (the sm_86 pass of a 75;86 fatbin), one only in host code
/// (the host pass of a static-library object, absent from a fatbin). Real 11.8, 12.4, 13.5.
/// A header spelled `./common.cuh` is the crate's file like any other (paths are recorded
/// normalized).
#[test]
fn headers_of_one_pass_only_are_tracked_exactly() {
    // Every provisioned toolkit (the nine of the matrix in CI), the three named above at least.
    let all = common::all_real_nvcc();
    if std::env::var_os("CUDA_BUILD_MATRIX").is_some() {
        let have: Vec<&str> = all.iter().map(|(v, _)| v.as_str()).collect();
        assert!(VERSIONS.iter().all(|v| have.contains(v)), "{have:?}");
    }
    for (v, _) in &all {
        let Some(cuda) = cuda(v, &[]) else { continue };
        let dir = tempfile::tempdir().unwrap(); // no space: the host compiler writes the depfile
        let k = dir.path().join("kernels");
        fs::create_dir_all(&k).unwrap();
        fs::write(
            k.join("k.cu"),
            "#include \"./common.cuh\"\n#include \"no\u{a0}break\u{3000}space.cuh\"\n#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800\n#include \"only_sm80.cuh\"\n#endif\n#ifndef __CUDA_ARCH__\n#include \"host_only.h\"\n#endif\nextern \"C\" __global__ void k(float* x) { x[0] = ONE; }\n",
        )
        .unwrap();
        // Make separates names at ASCII blanks only: U+00A0 and U+3000 are part of the name.
        let odd = "no\u{a0}break\u{3000}space.cuh";
        for h in ["common.cuh", "only_sm80.cuh", "host_only.h", odd] {
            fs::write(k.join(h), if h == "common.cuh" { "#define ONE 1.0f\n" } else { "\n" }).unwrap();
        }
        let touch = |h: &str| {
            let f = fs::File::options().append(true).open(k.join(h)).unwrap();
            f.set_modified(SystemTime::now() + Duration::from_secs(5)).unwrap();
        };
        for format in ["fatbin", "static"] {
            let build = || {
                let mut b = cuda.kernels();
                b.dir(&k).out_dir(dir.path().join(format)).arch("75;86");
                if format == "static" {
                    b.static_lib("k");
                }
                b.compile().unwrap()
            };
            let first = build();
            let paths: Vec<String> = first
                .directives()
                .iter()
                .filter_map(|d| match d {
                    cuda_build::Directive::RerunIfChanged(p) => Some(p.clone()),
                    _ => None,
                })
                .collect();
            assert!(!paths.iter().any(|p| p.contains("/./")), "{v} {format}: {paths:?}");
            let rerun: Vec<String> = paths.iter().map(|p| p.rsplit('/').next().unwrap().to_owned()).collect();
            assert!(rerun.contains(&"common.cuh".to_owned()), "{v} {format}: {rerun:?}");
            assert!(rerun.contains(&"only_sm80.cuh".to_owned()), "{v} {format}: {rerun:?}");
            assert_eq!(rerun.contains(&"host_only.h".to_owned()), format == "static", "{v} {format}: {rerun:?}");
            assert!(rerun.contains(&odd.to_owned()), "{v} {format}: {rerun:?}");
            assert!(!rerun.iter().any(|p| p.starts_with("no\u{a0}b") && p != odd), "{v} {format}: {rerun:?}");
            assert!(!build().kernels[0].recompiled, "{v} {format}: a no-op");
            touch("only_sm80.cuh");
            assert!(build().kernels[0].recompiled, "{v} {format}: sm_80+ header edited");
            touch("host_only.h");
            assert_eq!(build().kernels[0].recompiled, format == "static", "{v} {format}: host-only header edited");
            touch("common.cuh");
            assert!(build().kernels[0].recompiled, "{v} {format}");
            touch(odd);
            assert!(build().kernels[0].recompiled, "{v} {format}: {odd:?} edited");
        }
    }
}
