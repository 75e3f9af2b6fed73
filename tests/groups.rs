//! What a crate shaped like candle-kernels needs, with real nvcc 13.5: several groups in
//! one schedule, `exclude`, plural `files`/`flags`, outputs placed flat in `OUT_DIR` with a
//! `pub const AFFINE: &str` module, the architectures known before compiling, and outputs
//! that do not depend on where the crate is checked out.
#![allow(clippy::disallowed_methods)] // tests pass the real PATH through

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{counting_launcher, real_nvcc, real_root, take_log};
use cuda_build::{Cuda, Env, ModuleStyle, Probe};

fn cuda(extra: &[(&str, &Path)]) -> Option<Cuda> {
    let nvcc = real_nvcc("13.5")?;
    let mut vars: Vec<(String, PathBuf)> =
        vec![("CUDA_PATH".into(), real_root(&nvcc)), ("PATH".into(), PathBuf::from(std::env::var_os("PATH").unwrap()))];
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_path_buf())));
    Some(Probe::new().env(Env::from_vars(vars)).find().unwrap())
}

/// src/{affine,binary}.cu (PTX), src/moe/{moe_a,moe_b}.cu (a static library), a header.
fn candle_like(dir: &Path) {
    let w = |rel: &str, text: &str| {
        let p = dir.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    };
    w("src/cuda_utils.cuh", "#pragma once\n#include <cassert>\n#define CHECK(x) assert(x)\n");
    w("src/affine.cu", "#include \"cuda_utils.cuh\"\nextern \"C\" __global__ void affine_f32(float* x, float a) { CHECK(a != 0); x[threadIdx.x] *= a; }\n");
    w(
        "src/binary.cu",
        "extern \"C\" __global__ void badd_f32(float* x, const float* y) { x[threadIdx.x] += y[threadIdx.x]; }\n",
    );
    w("src/moe/moe_a.cu", "extern \"C\" __global__ void moe_a(float* x) { x[0] = 1; }\nextern \"C\" void launch_moe_a(float* x) { moe_a<<<1, 1>>>(x); }\n");
    w("src/moe/moe_b.cu", "extern \"C\" __global__ void moe_b(float* x) { x[0] = 2; }\nextern \"C\" void launch_moe_b(float* x) { moe_b<<<1, 1>>>(x); }\n");
}

#[test]
fn two_groups_in_one_schedule_with_exclude_flat_outputs_and_constants() {
    let logs = tempfile::tempdir().unwrap();
    let launcher = counting_launcher(logs.path(), "1");
    let jobs = PathBuf::from("2");
    let Some(cuda) = cuda(&[("CUDA_BUILD_LAUNCHER", &launcher), ("NUM_JOBS", &jobs)]) else { return };
    let dir = tempfile::tempdir().unwrap();
    candle_like(dir.path());
    let out = dir.path().join("out");
    let mut ptx = cuda.kernels();
    ptx.dir(dir.path().join("src"))
        .exclude(&["moe/*"])
        .ptx()
        .arch("75")
        .flat_outputs(true)
        .module_style(ModuleStyle::Constants)
        .name("ptx")
        .out_dir(&out)
        .flags(["-lineinfo", "--default-stream=per-thread"]);
    let mut moe = cuda.kernels();
    moe.files([dir.path().join("src/moe/moe_a.cu"), dir.path().join("src/moe/moe_b.cu")])
        .static_lib("moe")
        .arch("75")
        .out_dir(&out)
        .flags(["--default-stream=per-thread"]);
    // The archs are known before anything compiles.
    assert_eq!(ptx.archs().unwrap().names(), ["compute_75"]);
    assert!(take_log(logs.path(), "runs.log").is_empty(), "archs() compiles nothing");

    let all = cuda_build::compile_all(&[&ptx, &moe]).unwrap();
    assert_eq!(all.len(), 2);
    let names: Vec<&str> = all[0].kernels.iter().map(|k| k.ident.as_str()).collect();
    assert_eq!(names, ["affine", "binary"], "moe/ excluded from the PTX group");
    assert!(out.join("affine.ptx").is_file() && out.join("binary.ptx").is_file(), "flat: OUT_DIR/affine.ptx");
    assert!(out.join("libmoe.a").is_file());
    let module = fs::read_to_string(out.join("ptx.rs")).unwrap();
    assert!(module.contains("pub const AFFINE: &str = include_str!("), "{module}");
    assert!(module.contains("pub const BINARY: &str = include_str!("), "{module}");
    assert!(!module.contains("pub mod"), "{module}");
    // One schedule: the second group's jobs started while the first group's ran.
    assert_eq!(take_log(logs.path(), "runs.log"), ["affine.cu", "binary.cu", "moe_a.cu", "moe_b.cu"]);
    let concurrency = take_log(logs.path(), "concurrency.log");
    assert_eq!(concurrency.len(), 4, "{concurrency:?}");
    assert!(concurrency.iter().any(|c| c == "2"), "never two nvcc at once across the groups: {concurrency:?}");
    assert!(concurrency.iter().all(|c| c == "1" || c == "2"), "{concurrency:?}");
    // The flags reached nvcc: the PTX carries line info.
    assert!(fs::read_to_string(out.join("affine.ptx")).unwrap().contains(".loc"));

    // A no-op rebuild of both groups spawns nothing.
    let again = cuda_build::compile_all(&[&ptx, &moe]).unwrap();
    let recompiled: Vec<&str> =
        again.iter().flat_map(|c| &c.kernels).filter(|k| k.recompiled).map(|k| k.ident.as_str()).collect();
    assert!(recompiled.is_empty(), "{recompiled:?}");
    assert!(take_log(logs.path(), "runs.log").is_empty());
    let _ = take_log(logs.path(), "concurrency.log");

    // One stale job in each group: run side by side (one after the other would log 1, 1).
    for f in ["src/affine.cu", "src/moe/moe_a.cu"] {
        let file = fs::File::options().append(true).open(dir.path().join(f)).unwrap();
        file.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5)).unwrap();
    }
    cuda_build::compile_all(&[&ptx, &moe]).unwrap();
    assert_eq!(take_log(logs.path(), "runs.log"), ["affine.cu", "moe_a.cu"]);
    let seen = take_log(logs.path(), "concurrency.log");
    assert!(seen.contains(&"2".to_owned()), "the groups share one schedule (one after the other logs 1, 1): {seen:?}");
}

#[test]
fn outputs_do_not_depend_on_where_the_crate_is() {
    let Some(nvcc) = real_nvcc("13.5") else { return };
    let mut outputs: Vec<Vec<Vec<u8>>> = Vec::new();
    let root = tempfile::tempdir().unwrap();
    for place in ["first place", "second/place"] {
        let krate = root.path().join(place);
        candle_like(&krate);
        // As a build script of the crate at `krate` sees it.
        let env = Env::from_vars([
            ("CUDA_PATH", real_root(&nvcc)),
            ("PATH", PathBuf::from(std::env::var_os("PATH").unwrap())),
            ("CARGO_MANIFEST_DIR", krate.clone()),
        ]);
        let cuda = Probe::new().env(env).find().unwrap();
        let mut per_format = Vec::new();
        for format in ["ptx", "fatbin"] {
            let mut k = cuda.kernels();
            k.file("src/affine.cu").arch("75").out_dir(format).lineinfo(false);
            if format == "ptx" {
                k.ptx();
            }
            let c = k.compile().unwrap();
            assert!(c.kernels[0].output.starts_with(&krate));
            per_format.push(fs::read(&c.kernels[0].output).unwrap());
        }
        outputs.push(per_format);
    }
    assert_eq!(outputs[0][0], outputs[1][0], "PTX differs between checkouts");
    assert_eq!(outputs[0][1], outputs[1][1], "fatbin differs between checkouts");
    let ptx = String::from_utf8_lossy(&outputs[0][0]);
    // assert()'s __FILE__ is in the PTX as bytes: "./src/affine.cu", not the checkout's path.
    let bytes: Vec<String> = "./src/affine.cu".bytes().map(|b| b.to_string()).collect();
    assert!(ptx.contains(&bytes.join(", ")), "__FILE__ is relative: {ptx}");
}

/// Durations outlive `cargo clean`: kept in cuda-build's cache, keyed by source and command,
/// so a clean build starts the long pole first; `CUDA_BUILD_DURATIONS=off` turns it off.
#[test]
fn a_clean_build_starts_the_long_pole_that_an_earlier_build_measured() {
    let Some(nvcc) = real_nvcc("13.5") else { return };
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let log = dir.path().join("order.log");
    // A launcher under which slow.cu takes 2 s longer: the pole a size estimate misses.
    let shim = dir.path().join("shim.sh");
    fs::write(
        &shim,
        format!(
            "#!/bin/sh\nfor a; do case \"$a\" in *.cu) basename \"$a\" >> '{}'; case \"$a\" in *slow.cu) sleep 2;; esac;; esac; done\nexec \"$@\"\n",
            log.display()
        ),
    )
    .unwrap();
    common::make_executable(&shim);
    let src = dir.path().join("kernels");
    fs::create_dir_all(&src).unwrap();
    // big.cu is larger (by a comment), slow.cu slower.
    fs::write(
        src.join("big.cu"),
        format!("// {}\nextern \"C\" __global__ void big(int* x) {{ x[0] = 1; }}\n", "x".repeat(20_000)),
    )
    .unwrap();
    fs::write(src.join("slow.cu"), "extern \"C\" __global__ void slow(int* x) { x[0] = 2; }\n").unwrap();
    let build = |durations: &str| {
        let env = Env::from_vars([
            ("CUDA_PATH", real_root(&nvcc)),
            ("PATH", PathBuf::from(std::env::var_os("PATH").unwrap())),
            ("CUDA_BUILD_CACHE", cache.clone()),
            ("CUDA_BUILD_LAUNCHER", shim.clone()),
            ("CUDA_BUILD_DURATIONS", PathBuf::from(durations)),
            ("NUM_JOBS", PathBuf::from("1")),
        ]);
        let cuda = Probe::new().env(env).find().unwrap();
        let out = dir.path().join("out");
        let _ = fs::remove_dir_all(&out); // cargo clean
        cuda.kernels().dir(&src).out_dir(&out).ptx().arch("75").compile().unwrap();
        let order = fs::read_to_string(&log).unwrap();
        fs::remove_file(&log).unwrap();
        order.lines().map(str::to_owned).collect::<Vec<_>>()
    };
    assert_eq!(build("off"), ["big.cu", "slow.cu"], "no history: the larger source first");
    assert!(!cache.join("durations").exists(), "off writes nothing");
    assert_eq!(build("on"), ["big.cu", "slow.cu"]);
    assert_eq!(fs::read_dir(cache.join("durations")).unwrap().count(), 2);
    assert_eq!(build("on"), ["slow.cu", "big.cu"], "after a clean, the measured pole first");
    assert_eq!(build("off"), ["big.cu", "slow.cu"]);
}

/// With no recorded duration the estimate weighs a source's bytes by the passes its format
/// runs: an object (host compiler, front end and ptxas per real arch) before a larger PTX
/// file (front end only), across the groups of one schedule.
#[test]
fn with_no_history_an_object_starts_before_a_larger_ptx_file() {
    let Some(nvcc) = real_nvcc("13.5") else { return };
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("order.log");
    let shim = dir.path().join("shim.sh");
    fs::write(
        &shim,
        format!(
            "#!/bin/sh
for a; do case \"$a\" in *.cu) basename \"$a\" >> '{}';; esac; done\nexec \"$@\"\n",
            log.display()
        ),
    )
    .unwrap();
    common::make_executable(&shim);
    let w = |name: &str, pad: usize, body: &str| {
        fs::create_dir_all(dir.path().join(name).parent().unwrap()).unwrap();
        fs::write(dir.path().join(name), format!("// {}\n{body}", "x".repeat(pad))).unwrap();
    };
    // 20 kB of PTX source against 6 kB of object source.
    w("ptx/big.cu", 20_000, "extern \"C\" __global__ void big(int* x) { x[0] = 1; }\n");
    w("lib/obj.cu", 6_000, "extern \"C\" __global__ void obj(int* x) { x[0] = 2; }\n");
    let env = Env::from_vars([
        ("CUDA_PATH", real_root(&nvcc)),
        ("PATH", PathBuf::from(std::env::var_os("PATH").unwrap())),
        ("CUDA_BUILD_LAUNCHER", shim.clone()),
        ("CUDA_BUILD_DURATIONS", PathBuf::from("off")),
        ("NUM_JOBS", PathBuf::from("1")),
    ]);
    let cuda = Probe::new().env(env).find().unwrap();
    let out = dir.path().join("out");
    let mut ptx = cuda.kernels();
    ptx.dir(dir.path().join("ptx")).out_dir(&out).ptx().arch("86-real");
    let mut lib = cuda.kernels();
    lib.dir(dir.path().join("lib")).out_dir(&out).static_lib("k").arch("86-real");
    cuda_build::compile_all(&[&ptx, &lib]).unwrap();
    let order = fs::read_to_string(&log).unwrap();
    assert_eq!(order.lines().collect::<Vec<_>>(), ["obj.cu", "big.cu"]);
}

/// The archiver comes from `AR` (as cc reads it) through the recorded environment: it runs,
/// and a change of it reruns the build script.
#[test]
fn the_archiver_is_ar_from_the_recorded_environment() {
    let Some(nvcc) = real_nvcc("13.5") else { return };
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("ar.log");
    let ar = dir.path().join("my-ar.sh");
    fs::write(&ar, format!("#!/bin/sh\necho \"$1\" >> '{}'\nexec ar \"$@\"\n", log.display())).unwrap();
    common::make_executable(&ar);
    let env = Env::from_vars([
        ("CUDA_PATH", real_root(&nvcc)),
        ("PATH", PathBuf::from(std::env::var_os("PATH").unwrap())),
        ("AR", ar.clone()),
    ]);
    let cuda = Probe::new().env(env).find().unwrap();
    candle_like(dir.path());
    let c = cuda
        .kernels()
        .dir(dir.path().join("src/moe"))
        .static_lib("moe")
        .arch("75")
        .out_dir(dir.path().join("out"))
        .compile()
        .unwrap();
    assert!(c.library.as_ref().unwrap().is_file());
    assert_eq!(fs::read_to_string(&log).unwrap().trim(), "crs", "my-ar.sh archived the library");
    assert!(c.directives().contains(&cuda_build::Directive::RerunIfEnvChanged("AR".into())), "{:?}", c.directives());
}

/// With no `AR`, the archiver is the host compiler's own toolchain's (`<prefix>-ar` beside a
/// cross-style `<prefix>-g++`); with none at all, one error names the fix before nvcc runs.
#[test]
fn the_archiver_follows_the_host_compilers_toolchain() {
    let Some(nvcc) = real_nvcc("13.5") else { return };
    let dir = tempfile::tempdir().unwrap();
    let tc = dir.path().join("toolchain");
    fs::create_dir_all(&tc).unwrap();
    let log = dir.path().join("ar.log");
    let cxx = tc.join("x86_64-testcross-linux-gnu-g++-12");
    fs::write(&cxx, "#!/bin/sh\nexec g++ \"$@\"\n").unwrap();
    let ar = tc.join("x86_64-testcross-linux-gnu-ar");
    fs::write(&ar, format!("#!/bin/sh\necho \"$1\" >> '{}'\nexec ar \"$@\"\n", log.display())).unwrap();
    common::make_executable(&cxx);
    common::make_executable(&ar);
    candle_like(dir.path());
    let build = |path: &Path, out: &str| {
        let env = Env::from_vars([("CUDA_PATH", real_root(&nvcc)), ("PATH", path.to_path_buf())]);
        let cuda = Probe::new().env(env).find().unwrap();
        let mut k = cuda.kernels();
        k.dir(dir.path().join("src/moe"))
            .static_lib("moe")
            .arch("75")
            .host_compiler(&cxx)
            .out_dir(dir.path().join(out));
        k.compile()
    };
    let c = build(&PathBuf::from(std::env::var_os("PATH").unwrap()), "out").unwrap();
    assert!(c.library.as_ref().unwrap().is_file());
    assert_eq!(fs::read_to_string(&log).unwrap().trim(), "crs", "the toolchain's ar archived the library");

    // No AR, no ar on PATH, and the compiler's toolchain has none: refused before nvcc runs.
    fs::remove_file(&ar).unwrap();
    let empty = dir.path().join("empty-path");
    fs::create_dir_all(&empty).unwrap();
    let err = build(&empty, "out2").unwrap_err().to_string();
    assert!(err.contains("x86_64-testcross-linux-gnu-ar or ar") && err.contains("set AR"), "{err}");
    assert!(!dir.path().join("out2").join("kernels").exists(), "nvcc ran before the error: {err}");
}
