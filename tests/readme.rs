//! The README's recipes, as a docs.rs reader copies them: the fenced blocks between
//! `<!-- recipe: NAME -->` and `<!-- /recipe -->`, each naming its file on its first line
//! (`# Cargo.toml`, `// build.rs`, ...), are written into a new crate outside this repository,
//! with cuda-build as a path dependency instead of `"0.1"`, then built with a real toolkit and
//! run (no GPU here: "skipped: no CUDA device"). And the doctor, installed from the packaged
//! crate the way the README says.
#![allow(clippy::disallowed_methods)] // tests pass the real PATH through

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{real_nvcc, real_root};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// (file, text) of each block of the README's recipe `name`, in order.
fn recipe(name: &str) -> Vec<(String, String)> {
    let readme = fs::read_to_string(root().join("README.md")).unwrap();
    let start = format!("<!-- recipe: {name} -->\n");
    let body = &readme[readme.find(&start).unwrap_or_else(|| panic!("no {start:?} in README.md")) + start.len()..];
    let body = &body[..body.find("<!-- /recipe -->").expect("the recipe ends")];
    let mut files = Vec::new();
    let mut lines = body.lines();
    while let Some(line) = lines.next() {
        if !line.starts_with("```") {
            continue;
        }
        let block: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
        let first = block.first().copied().unwrap_or_default();
        let path = first.strip_prefix("// ").or_else(|| first.strip_prefix("# ")).unwrap_or_default();
        assert!(
            !path.is_empty() && path.bytes().all(|b| b.is_ascii_alphanumeric() || b"_./-".contains(&b)),
            "each block of recipe {name} names its file on its first line, not {first:?}"
        );
        files.push((path.to_owned(), block[1..].join("\n") + "\n"));
    }
    files
}

/// A new crate in the system's temp directory (outside the repository) holding the recipe.
fn write_crate(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cuda-build-readme-recipe-{name}"));
    let _ = fs::remove_dir_all(&dir);
    for (path, mut text) in recipe(name) {
        if path == "Cargo.toml" {
            let dep = "cuda-build = \"0.1\"\n";
            assert_eq!(text.matches(dep).count(), 1, "the recipe's Cargo.toml depends on {dep}{text}");
            text = text.replace(dep, &format!("cuda-build = {{ path = {:?} }}\n", root().display().to_string()));
        }
        let p = dir.join(&path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }
    dir
}

fn texts(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// One cargo at a time: a tch build alone takes most of this machine.
static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn the_cudarc_recipe_builds_and_runs() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let files: Vec<String> = recipe("cudarc").into_iter().map(|(p, _)| p).collect();
    assert_eq!(files, ["Cargo.toml", "build.rs", "kernels/vector_add.cu", "src/main.rs"]);
    let Some(nvcc) = real_nvcc("13.5") else { return };
    let dir = write_crate("cudarc");
    let target = root().join("target/readme-cudarc");
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(["run"]).current_dir(&dir).env("CARGO_TARGET_DIR", &target);
    for v in common::CLEARED_VARS {
        cmd.env_remove(v);
    }
    let out = cmd.env("CUDA_PATH", real_root(&nvcc)).output().unwrap();
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("skipped: no CUDA device")
            || stdout.contains("vector_add of 1048576 floats on ") && stdout.contains(": 0 wrong"),
        "{stdout}"
    );
    // The fatbin was built and listed for main.rs.
    let generated = fs::read_dir(target.join("debug/build"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("my-gpu-crate-"))
        .filter_map(|e| fs::read_to_string(e.path().join("out/kernels.rs")).ok())
        .collect::<String>();
    assert!(generated.contains("pub mod vector_add") && generated.contains("\"vector_add\""), "{generated}");
}

#[test]
fn the_tch_recipe_is_the_example_and_builds_and_runs() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    // The README shows examples/tch-extension itself (all but its Cargo.toml, which names the
    // path to this repository and leaves the workspace).
    let example = root().join("examples/tch-extension");
    let files = recipe("tch");
    let names: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(names, ["Cargo.toml", "build.rs", "kernels/scale_relu.cu", "src/main.rs"]);
    for (path, text) in &files[1..] {
        assert_eq!(
            *text,
            fs::read_to_string(example.join(path)).unwrap(),
            "README's {path} is examples/tch-extension/{path}"
        );
    }
    let Some(nvcc) = real_nvcc("13.0") else { return };
    let Some(site) = common::real_tch_site() else { return };
    let dir = write_crate("tch");
    // The example's versions of tch's dependencies, so the shared target directory's tch and
    // torch-sys are reused (cargo adjusts the lockfile to the recipe's package).
    fs::copy(example.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let out = common::tch_cargo(&dir, &site, &real_root(&nvcc)).arg("run").output().unwrap();
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let expect = format!(
        "built with toolkit CUDA {}; libtorch 2.13.0 (CUDA 13.0) found by DEP_TCH_LIBTORCH_LIB",
        common::nvcc_says(&nvcc)
    );
    assert!(stdout.contains(&expect), "{expect}\n{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("loaded: libtorch_cuda.so: 1, CUDA runtime: /")), "{stdout}");
    assert!(
        stdout.contains("skipped: no CUDA device") || stdout.contains("our kernel vs tch on 1048576 floats on Cuda(0)"),
        "{stdout}"
    );
}

#[test]
fn the_doctor_installs_from_the_packaged_crate() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let readme = fs::read_to_string(root().join("README.md")).unwrap();
    assert!(
        readme.contains("\ncargo install cuda-build --example doctor\n"),
        "the README says how to install the doctor"
    );
    let Some(nvcc) = real_nvcc("13.5") else { return };
    let target = root().join("target/readme-doctor");
    let cargo = |args: &[&str], dir: &Path| {
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(args).current_dir(dir).env("CARGO_TARGET_DIR", &target);
        for v in common::CLEARED_VARS {
            cmd.env_remove(v);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "cargo {args:?}: {}", texts(&out).1);
    };
    // The files `cargo publish` would upload, unpacked outside the repository.
    cargo(&["package", "-p", "cuda-build", "--no-verify", "--allow-dirty"], &root());
    let version = env!("CARGO_PKG_VERSION");
    let tmp = tempfile::tempdir().unwrap();
    let crate_file = target.join(format!("package/cuda-build-{version}.crate"));
    let tar = Command::new("tar").arg("xzf").arg(&crate_file).arg("-C").arg(tmp.path()).status().unwrap();
    assert!(tar.success());
    let package = tmp.path().join(format!("cuda-build-{version}"));
    let bin_root = tmp.path().join("root");
    let (package_s, root_s) = (package.display().to_string(), bin_root.display().to_string());
    cargo(&["install", "--debug", "--path", &package_s, "--example", "doctor", "--root", &root_s], tmp.path());

    let out =
        Command::new(bin_root.join("bin/doctor")).arg("--json").env("CUDA_PATH", real_root(&nvcc)).output().unwrap();
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["ok"], true, "{stdout}");
    assert_eq!(json["toolkit"]["version"], common::nvcc_says(&nvcc).as_str(), "{stdout}");
    assert_eq!(json["toolkit"]["source"], "CUDA_PATH", "{stdout}");
}

#[test]
fn the_candle_shaped_recipe_builds_ptx_constants_and_links_libmoe() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let files: Vec<String> = recipe("candle").into_iter().map(|(p, _)| p).collect();
    assert_eq!(files, ["build.rs"]);
    let Some(nvcc) = real_nvcc("13.5") else { return };
    // The recipe's build.rs with what it names: kernels in src/ (PTX) and src/moe/ (libmoe.a),
    // and a main.rs that includes ptx.rs and calls into the library.
    let dir = write_crate("candle");
    let w = |rel: &str, text: &str| {
        let p = dir.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    };
    w(
        "Cargo.toml",
        &format!(
            "[package]\nname = \"candle-shaped\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
             [build-dependencies]\ncuda-build = {{ path = {:?} }}\n",
            root().display().to_string()
        ),
    );
    w("src/cuda_utils.cuh", "#pragma once\n#define SCALE 2.0f\n");
    w(
        "src/affine.cu",
        "#include \"cuda_utils.cuh\"\nextern \"C\" __global__ void affine_f32(float* x) { x[threadIdx.x] *= SCALE; }\n",
    );
    w(
        "src/binary.cu",
        "extern \"C\" __global__ void badd_f32(float* x, const float* y) { x[threadIdx.x] += y[threadIdx.x]; }\n",
    );
    w(
        "src/moe/moe_wmma.cu",
        "#include <cuda_bf16.h>\n\
         #ifndef NO_BF16_KERNEL\n\
         extern \"C\" __global__ void moe_bf16(__nv_bfloat16* x) { x[threadIdx.x] = __float2bfloat16(1.0f); }\n\
         extern \"C\" int moe_has_bf16() { return 1; }\n\
         #else\n\
         extern \"C\" int moe_has_bf16() { return 0; }\n\
         #endif\n",
    );
    w(
        "src/moe/moe_gguf.cu",
        "extern \"C\" __global__ void moe_f32(float* x) { x[threadIdx.x] = 1.0f; }\n\
         extern \"C\" int moe_launch(float* x) { moe_f32<<<1, 32>>>(x); return (int)cudaGetLastError(); }\n",
    );
    w(
        "src/main.rs",
        "mod ptx {\n    include!(concat!(env!(\"OUT_DIR\"), \"/ptx.rs\"));\n}\n\n\
         extern \"C\" {\n    fn moe_has_bf16() -> i32;\n    fn moe_launch(x: *mut f32) -> i32;\n}\n\n\
         fn main() {\n    println!(\"affine {} bytes, binary {} bytes\", ptx::AFFINE.len(), ptx::BINARY.len());\n    \
         // SAFETY: a host function of libmoe.a that only returns a constant.\n    \
         println!(\"bf16 kernels: {}\", unsafe { moe_has_bf16() });\n    \
         println!(\"moe_launch at {:p}\", moe_launch as *const ());\n}\n",
    );
    let target = root().join("target/readme-candle");
    for (archs, bf16) in [("75", "0"), ("86", "1")] {
        let mut cmd = Command::new(env!("CARGO"));
        cmd.arg("run").current_dir(&dir).env("CARGO_TARGET_DIR", &target);
        for v in common::CLEARED_VARS {
            cmd.env_remove(v);
        }
        let out = cmd.env("CUDA_PATH", real_root(&nvcc)).env("CUDAARCHS", archs).output().unwrap();
        let (stdout, stderr) = texts(&out);
        assert!(out.status.success(), "CUDAARCHS={archs}: {stdout}\n{stderr}");
        // OUT_DIR of this build: the one whose PTX targets this arch.
        let out_dir = fs::read_dir(target.join("debug/build"))
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("candle-shaped-"))
            .map(|e| e.path().join("out"))
            .find(|o| {
                fs::read_to_string(o.join("affine.ptx")).is_ok_and(|p| p.contains(&format!(".target sm_{archs}")))
            })
            .unwrap_or_else(|| panic!("no OUT_DIR/affine.ptx for sm_{archs}"));
        let module = fs::read_to_string(out_dir.join("ptx.rs")).unwrap();
        for name in ["AFFINE", "BINARY"] {
            assert!(module.contains(&format!("pub const {name}: &str = include_str!(")), "{module}");
        }
        assert!(!module.contains("MOE"), "src/moe/ is excluded from the PTX: {module}");
        assert!(out_dir.join("binary.ptx").is_file() && out_dir.join("libmoe.a").is_file());
        let sizes = format!(
            "affine {} bytes, binary {} bytes\n",
            fs::metadata(out_dir.join("affine.ptx")).unwrap().len(),
            fs::metadata(out_dir.join("binary.ptx")).unwrap().len()
        );
        assert!(stdout.starts_with(&sizes), "{sizes}{stdout}");
        // NO_BF16_KERNEL reached the library below sm_80 only.
        assert!(stdout.contains(&format!("\nbf16 kernels: {bf16}\n")), "CUDAARCHS={archs}: {stdout}");
        assert!(stdout.contains("\nmoe_launch at 0x"), "{stdout}");
    }
}
