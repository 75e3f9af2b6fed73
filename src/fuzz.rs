//! A bounded fuzz pass over every parser (proptest): arbitrary input and mutations of real
//! seeds (tests/fuzz-seeds, tests/fixtures). No input may panic; where a parser accepts,
//! what it returns must be consistent. Cases per parser: `CUDA_BUILD_FUZZ_CASES`
//! (default 2 000 for a quick `cargo test`; CI runs 100 000 in release, see build-support/test.sh).
#![allow(clippy::disallowed_methods)] // the case count is read from the test's environment

use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::arch::{self, SpecSource};
use crate::version::{CudaVersion, VersionReq};

fn cases() -> u32 {
    std::env::var("CUDA_BUILD_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000)
}

fn seeds(names: &[&str]) -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut out = Vec::new();
    for n in names {
        let p = root.join(n);
        if p.is_dir() {
            let mut entries: Vec<_> = std::fs::read_dir(&p).unwrap().flatten().map(|e| e.path()).collect();
            entries.sort();
            for e in entries.into_iter().filter(|e| e.is_file()) {
                out.push(std::fs::read(e).unwrap());
            }
        } else {
            out.push(std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())));
        }
    }
    out
}

/// Either arbitrary bytes, or a seed with up to 8 random byte edits (insert, delete, replace),
/// or a seed cut at a random point.
fn input(seeds: Vec<Vec<u8>>) -> BoxedStrategy<Vec<u8>> {
    let n = seeds.len();
    let mutated =
        (0..n, proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 0..8)).prop_map(move |(i, edits)| {
            let mut s = seeds[i].clone();
            for (pos, byte, kind) in edits {
                let at = if s.is_empty() { 0 } else { pos % (s.len() + 1) };
                match kind {
                    0 => s.insert(at, byte),
                    1 if at < s.len() => {
                        s.remove(at);
                    }
                    _ if at < s.len() => s[at] = byte,
                    _ => s.push(byte),
                }
            }
            s
        });
    let cut = mutated.clone().prop_flat_map(|s| {
        let len = s.len();
        (Just(s), 0..=len)
    });
    prop_oneof![
        2 => proptest::collection::vec(any::<u8>(), 0..256),
        5 => mutated,
        1 => cut.prop_map(|(s, at)| s[..at].to_vec()),
    ]
    .boxed()
}

fn run(name: &str, seed_names: &[&str], check: impl Fn(&[u8])) {
    let mut runner = TestRunner::new(Config { cases: cases(), failure_persistence: None, ..Config::default() });
    let result = runner.run(&input(seeds(seed_names)), |bytes| {
        check(&bytes);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// An accepted version prints and re-parses to itself.
fn roundtrip(v: CudaVersion) {
    assert_eq!(CudaVersion::parse(&v.to_string()), Ok(v));
}

#[test]
fn fuzz_nvcc_version_output() {
    run("nvcc --version", &["fixtures/nvcc-version"], |b| {
        if let Ok(v) = CudaVersion::from_nvcc_output(&text(b)) {
            roundtrip(v);
        }
    });
}

#[test]
fn fuzz_version_files() {
    run("version.json", &["fuzz-seeds/version.json"], |b| {
        if let Ok(v) = CudaVersion::from_version_json(&text(b)) {
            roundtrip(v);
        }
    });
    run("version.txt", &["fuzz-seeds/version.txt"], |b| {
        if let Ok(v) = CudaVersion::from_version_txt(&text(b)) {
            roundtrip(v);
        }
    });
    run("cuda.h", &["fuzz-seeds/cuda.h"], |b| {
        if let Ok(v) = CudaVersion::from_cuda_h(&text(b)) {
            assert!(v.major >= 1 && v.minor < 100 && v.patch.is_none());
        }
    });
}

#[test]
fn fuzz_driver_outputs() {
    run("nvidia-smi CSV", &["fuzz-seeds/nvidia-smi.csv"], |b| {
        for cc in [true, false] {
            if let Some((v, gpus)) = crate::driver::parse_nvidia_smi(&text(b), cc) {
                assert!(!gpus.is_empty() && v.0[0] >= 100);
            }
        }
    });
    run("/proc/driver/nvidia/version", &["fuzz-seeds/proc-version"], |b| {
        let _ = crate::driver::parse_proc_version(&text(b));
    });
}

#[test]
fn fuzz_arch_specs() {
    let src = SpecSource::Var("CUDAARCHS".into());
    let sup = arch::Supported::from_table(CudaVersion::new(13, 5));
    run("arch specs", &["fuzz-seeds/cmake-archs", "fuzz-seeds/torch-archs"], |b| {
        let t = text(b);
        let parsed = [arch::parse_cmake(&t, &src), arch::parse_torch(&t, &src), arch::parse_compute_cap(&t, &src)];
        for items in parsed.into_iter().flatten() {
            assert!(!items.is_empty());
            if let Ok(list) = arch::resolve(&items, &src, &t, &sup, &[], &mut Vec::new()) {
                let _ = list.gencode();
            }
        }
    });
}

#[test]
fn fuzz_torch_files() {
    run(
        "macros.h / version.py / build-version",
        &["fixtures/libtorch/2.11.0+cu130", "fixtures/libtorch/2.5.1-cpu", "fuzz-seeds/build-version"],
        |b| {
            let t = text(b);
            let _ = crate::torch::macro_value(&t, "CUDA_VERSION");
            let _ = crate::torch::py_value(&t, "cuda");
            let _ = crate::torch::local_cuda(t.trim());
        },
    );
}

#[test]
fn fuzz_depfiles_pc_files_and_compilers() {
    run("depfile", &["fuzz-seeds/k.d"], |b| {
        for p in crate::compile::depfile::parse(&text(b)) {
            assert!(!p.as_os_str().is_empty());
        }
    });
    run(".pc file", &["fuzz-seeds/cudart-13.0.pc"], |b| {
        let _ = crate::toolkit::locate::pc_variable(&text(b), "cudaroot");
    });
    run("compiler --version", &["fuzz-seeds/gcc-version", "fuzz-seeds/clang-version"], |b| {
        let _ = crate::host::parse_version_output(&text(b));
    });
    run("host_config.h", &["fuzz-seeds/host_config.h"], |b| {
        let _ = crate::host::parse_host_config(&text(b));
    });
    run("version range", &["fuzz-seeds/version-req"], |b| {
        if let Ok(r) = VersionReq::parse(&text(b)) {
            let _ = r.matches(&CudaVersion::new(12, 4));
        }
    });
}

#[test]
fn fuzz_compiled_outputs() {
    run("PTX / cubin / fatbin / object", &["fuzz-seeds/k.fatbin", "fuzz-seeds/k.cubin", "fuzz-seeds/k.o"], |b| {
        for name in crate::compile::entries::read(b).names {
            assert!(!name.is_empty());
        }
    });
}

#[test]
fn seeds_are_read_correctly() {
    // The pass is only as good as its seeds: they must parse before mutation.
    assert_eq!(
        crate::compile::entries::read(&seeds(&["fuzz-seeds/k.fatbin"])[0]).names,
        ["_Z5scaleIfEvPT_S0_i", "vadd"]
    );
    assert_eq!(crate::compile::entries::read(&seeds(&["fuzz-seeds/k.o"])[0]).names, ["_Z5scaleIfEvPT_S0_i", "vadd"]);
    assert_eq!(crate::compile::depfile::parse(&text(&seeds(&["fuzz-seeds/k.d"])[0]))[0], Path::new("vadd.cu"));
    assert!(crate::host::parse_host_config(&text(&seeds(&["fuzz-seeds/host_config.h"])[0])).is_some());
}
