//! docs/migrating/candle-kernels: candle-kernels 0.11.1, fetched from crates.io at test time,
//! its `src/` copied unchanged into a new crate whose build.rs is the guide's (read from the
//! guide, which shows exactly that file) and whose Cargo.toml is candle's with the guide's
//! one-line change, built with `cargo` against the real CUDA 12.4 for `CUDAARCHS=86`.
//!
//! CI builds a subset: all 11 PTX files (candle's lib.rs includes each) and 2 of the 15
//! objects of libmoe.a (`moe/moe_wmma.cu`, which includes `moe/moe_utils.cuh`, and
//! `mmvq_gguf.cu`, which does not and which the guide names as a file); the other 13 sources
//! are deleted from the copy, so the guide's build.rs (which takes their directories) builds
//! what is left. `CUDA_BUILD_CANDLE_FULL=1` keeps them all.
#![allow(clippy::disallowed_methods)] // tests read the real environment and pass it through

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use common::registry::{copy_tree, cu_files, fetch_crate};
use common::{counting_launcher, real_nvcc, real_root, take_log};

const VERSION: &str = "0.11.1";

/// candle's `ptx::AFFINE`, ...: the 11 PTX files its lib.rs includes.
const PTX: [&str; 11] =
    ["affine", "binary", "cast", "conv", "fill", "indexing", "quantized", "reduce", "sort", "ternary", "unary"];

/// The objects of libmoe.a CI builds.
const MOE_SUBSET: [&str; 2] = ["src/moe/moe_wmma.cu", "src/mmvq_gguf.cu"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The guide's README shows `file` exactly, as a fenced block of `lang`.
fn shown_in_guide(guide: &str, lang: &str, file: &str) {
    assert!(guide.contains(&format!("\n```{lang}\n{file}```\n")), "the guide shows this exactly:\n{file}");
}

fn mtime(p: &Path) -> SystemTime {
    fs::metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).modified().unwrap()
}

/// Appends to `p` and dates it a little ahead, so no filesystem's coarse clock hides the edit.
fn edit(p: &Path, text: &str) {
    let mut f = fs::File::options().append(true).open(p).unwrap();
    std::io::Write::write_all(&mut f, text.as_bytes()).unwrap();
    f.set_modified(SystemTime::now() + Duration::from_secs(2)).unwrap();
}

#[test]
fn candle_kernels_builds_with_the_guides_build_rs() {
    let guide_dir = root().join("docs/migrating/candle-kernels");
    let guide = fs::read_to_string(guide_dir.join("README.md")).unwrap();
    let build_rs = fs::read_to_string(guide_dir.join("build.rs")).unwrap();
    shown_in_guide(&guide, "rust", &build_rs);
    let cargo_diff = " [build-dependencies]\n-cudaforge = \"0.1.2\"\n+cuda-build = \"0.1\"\n";
    shown_in_guide(&guide, "diff", cargo_diff);
    assert!(!build_rs.contains("env::var"), "the guide's build.rs has no test-only switch");
    let Some(nvcc) = real_nvcc("12.4") else { return };

    let work = root().join("target/candle-kernels");
    let candle = fetch_crate(&work.join("fetch"), "candle-kernels", VERSION, || Command::new(env!("CARGO")));
    let full = std::env::var_os("CUDA_BUILD_CANDLE_FULL").is_some_and(|v| v == "1");

    // The crate: candle's src/ and Cargo.toml, the guide's build.rs, outside this repository.
    let krate = std::env::temp_dir().join("cuda-build-candle-kernels");
    let _ = fs::remove_dir_all(&krate);
    copy_tree(&candle.join("src"), &krate.join("src"));
    let manifest = fs::read_to_string(candle.join("Cargo.toml.orig")).unwrap();
    let dep = "cudaforge = \"0.1.2\"\n";
    assert_eq!(manifest.matches(dep).count(), 1, "candle's Cargo.toml depends on {dep}{manifest}");
    let path_dep = format!("cuda-build = {{ path = {:?} }}\n", root().display().to_string());
    fs::write(krate.join("Cargo.toml"), manifest.replace(dep, &path_dep)).unwrap();
    fs::write(krate.join("build.rs"), &build_rs).unwrap();
    // cuda-build's dependencies at this repository's versions (cargo drops the rest).
    fs::copy(root().join("Cargo.lock"), krate.join("Cargo.lock")).unwrap();
    // A binary linking libmoe.a (not part of candle: its library alone links nothing).
    fs::create_dir_all(krate.join("examples")).unwrap();
    fs::write(
        krate.join("examples/link.rs"),
        "fn main() {\n    let wmma = candle_kernels::ffi::moe_gemm_wmma as *const ();\n    \
         let mmvq = candle_kernels::ffi::launch_mmvq_gguf_q4_0_f32_plain as *const ();\n    \
         println!(\"affine.ptx: {} bytes; moe_gemm_wmma {wmma:p}, mmvq {mmvq:p}\", candle_kernels::AFFINE.ptx().len());\n}\n",
    )
    .unwrap();

    let mut all = Vec::new();
    cu_files(&krate, &krate.join("src"), &mut all);
    if !full {
        for f in all.iter().filter(|f| {
            let moe = f.starts_with("src/moe/") || f.starts_with("src/mmq_gguf/") || *f == "src/mmvq_gguf.cu";
            moe && !MOE_SUBSET.contains(&f.as_str())
        }) {
            fs::remove_file(krate.join(f)).unwrap();
        }
        all.retain(|f| krate.join(f).is_file());
    }
    // What the build must compile: the 11 PTX and what is left of libmoe.a's 15 (cutile's
    // moe_align.cu is not among them without the feature).
    let moe: Vec<String> = all.iter().filter(|f| !PTX.iter().any(|p| **f == format!("src/{p}.cu"))).cloned().collect();
    assert!(!moe.iter().any(|f| f.ends_with("moe_align.cu")) || full);
    let mut expected: Vec<String> = PTX.iter().map(|p| format!("{p}.cu")).collect();
    expected
        .extend(moe.iter().filter(|f| !f.ends_with("moe_align.cu")).map(|f| f.rsplit('/').next().unwrap().to_owned()));
    expected.sort();
    assert_eq!(expected.len(), if full { 26 } else { 13 }, "{expected:?}");

    // A fresh OUT_DIR (the target directory keeps cuda-build itself compiled between runs).
    let target = work.join("target");
    let build_dirs = || {
        fs::read_dir(target.join("debug/build"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("candle-kernels-"))
            .map(|e| e.path())
            .collect::<Vec<_>>()
    };
    for d in build_dirs() {
        fs::remove_dir_all(d).unwrap();
    }
    let logs = tempfile::tempdir().unwrap();
    let launcher = counting_launcher(logs.path(), "0");
    let build = |what: &str| {
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["build", "--example", "link"]).current_dir(&krate);
        for v in common::CLEARED_VARS {
            cmd.env_remove(v);
        }
        cmd.env("CARGO_TARGET_DIR", &target)
            .env("CUDA_PATH", real_root(&nvcc))
            .env("CUDAARCHS", "86")
            // Counts the nvcc runs (each through the launcher).
            .env("CUDA_BUILD_LAUNCHER", &launcher);
        let start = Instant::now();
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{what}: cargo build failed:\n{stderr}");
        eprintln!("{what}: {:.1} s", start.elapsed().as_secs_f64());
        take_log(logs.path(), "runs.log")
    };

    // 1. Everything compiles, and candle's src/lib.rs with it (and the example links).
    assert_eq!(build("cold build"), expected);
    let out_dir = build_dirs()
        .into_iter()
        .map(|d| d.join("out"))
        .find(|o| o.join("ptx.rs").is_file())
        .expect("an OUT_DIR holding ptx.rs");
    let module = fs::read_to_string(out_dir.join("ptx.rs")).unwrap();
    for p in PTX {
        let name = p.to_uppercase();
        assert!(module.contains(&format!("pub const {name}: &str = include_str!(")), "{module}");
        let ptx = fs::read_to_string(out_dir.join(format!("{p}.ptx"))).unwrap();
        assert!(ptx.contains(".target sm_86"), "OUT_DIR/{p}.ptx: {}", &ptx[..ptx.len().min(600)]);
    }
    assert!(!module.contains("pub mod"), "{module}");
    let lib = out_dir.join("libmoe.a");
    let archive = fs::read(&lib).unwrap();
    for symbol in ["moe_gemm_wmma", "launch_mmvq_gguf_q4_0_f32_plain"] {
        assert!(archive.windows(symbol.len()).any(|w| w == symbol.as_bytes()), "libmoe.a lacks {symbol}");
    }
    let exe = target.join("debug/examples/link");
    let run = Command::new(&exe).output().unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{stdout}{}", String::from_utf8_lossy(&run.stderr));
    let affine_len = fs::read(out_dir.join("affine.ptx")).unwrap().len();
    assert!(stdout.starts_with(&format!("affine.ptx: {affine_len} bytes; moe_gemm_wmma 0x")), "{stdout}");
    // The CUDA runtime is the toolkit's static one, not whichever libcudart.so the linker finds.
    let readelf = Command::new("readelf").arg("-d").arg(&exe).output().unwrap();
    let dynamic = String::from_utf8_lossy(&readelf.stdout);
    assert!(readelf.status.success() && dynamic.contains("NEEDED"), "{dynamic}");
    assert!(!dynamic.contains("libcudart"), "{dynamic}");

    // 2. The build script runs again (build.rs touched) and finds nothing to compile.
    let ran = out_dir.parent().unwrap().join("output");
    let (ran_before, lib_before, module_before) = (mtime(&ran), mtime(&lib), mtime(&out_dir.join("ptx.rs")));
    edit(&krate.join("build.rs"), "");
    assert_eq!(build("no-op rebuild"), Vec::<String>::new(), "a no-op rebuild runs no nvcc");
    assert!(mtime(&ran) > ran_before, "the build script ran again");
    assert_eq!(mtime(&lib), lib_before, "libmoe.a is not rewritten");
    assert_eq!(mtime(&out_dir.join("ptx.rs")), module_before);

    // 3. A header edit recompiles exactly the sources that include it.
    let header = "moe_utils.cuh";
    let mut includers: Vec<String> = all
        .iter()
        .filter(|f| fs::read_to_string(krate.join(f)).unwrap().contains(&format!("#include \"{header}\"")))
        .map(|f| f.rsplit('/').next().unwrap().to_owned())
        .collect();
    includers.sort();
    assert_eq!(includers, if full { vec!["moe_wmma.cu", "moe_wmma_gguf.cu"] } else { vec!["moe_wmma.cu"] });
    let marker = "moe_utils.cuh edited by tests/candle.rs";
    let kept = format!("\n__attribute__((used)) static const char edit_marker[] = \"{marker}\";\n");
    edit(&krate.join("src/moe").join(header), &kept);
    assert_eq!(build("header edit"), includers);
    assert!(mtime(&lib) > lib_before, "libmoe.a is archived again");
    let archive = fs::read(&lib).unwrap();
    let copies = archive.windows(marker.len()).filter(|w| *w == marker.as_bytes()).count();
    assert_eq!(copies, includers.len(), "each includer's new object is in libmoe.a");
    assert_eq!(mtime(&out_dir.join("ptx.rs")), module_before);
}
